import Testing
@testable import PatchCore

@Suite("Policy: install bundles, sources and WinRM fallback")
struct PolicyBundleAndSourcesTests {
    @Test func bundleSourcesAndFallbackParse() throws {
        let policy = try Policy.parse("""
            name: onboarding
            targets: new-hires
            select: {updates: all, sources: [os, winget, brew-cask], include: ["firefox*", "*java*"]}
            install: [acme-agent, firefox@128.0]
            test_ring_installs_pending: true
            winrm_fallback: yes
            """, file: "onboarding.yml")
        #expect(policy.install == [Policy.BundleItem(name: "acme-agent"), Policy.BundleItem(name: "firefox", version: "128.0")])
        #expect(policy.testRingInstallsPending && policy.winrmFallback)
        #expect(policy.selection.sources == ["os", "winget", "brew-cask"])
        let browser = PendingUpdate(name: "firefox", installedVersion: "127", availableVersion: "128", source: "winget", security: false)
        let snap = PendingUpdate(name: "firefox", installedVersion: "127", availableVersion: "128", source: "snap", security: false)
        #expect(policy.selection.decide(browser) == .selected)
        #expect(policy.selection.decide(snap) == .skipped("from snap, not among sources (os, winget, brew-cask)"))
    }

    @Test(arguments: [
        ("install: [acme agent]", 6, "'acme agent' in 'install' is not a package: write NAME or NAME@VERSION"),
        ("install: [a, a@2]", 6, "'a' appears twice in 'install'"),
        ("select: {sources: [apt]}", 6, "unknown source 'apt' in 'sources'"),
        ("winrm_fallback: maybe", 6, "winrm_fallback"),
    ])
    func mistakesNameTheirLine(line: String, number: Int, message: String) {
        #expect {
            try Policy.parse("name: p\ntargets: all\nreboot: never\napproval: auto\nrefresh: false\n" + line + "\n", file: "p.yml")
        } throws: { error in
            guard case let .policy(_, errorLine, _, text) = error as? PatchError else { return false }
            return errorLine == number && text.contains(message)
        }
    }
}
