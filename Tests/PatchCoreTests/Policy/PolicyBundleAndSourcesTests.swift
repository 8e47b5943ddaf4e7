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

@Suite("Policy mistakes in one pass")
struct PolicyMistakesInOnePassTests {
    @Test func everyMistakeIsReportedInFileOrder() {
        let yaml = """
            name: bad name
            targets: all
            selct: security
            reboot: sometimes
            window: {days: [funday], start: "02:00", end: "04:00"}
            install_timeout: forever
            notify: [{pager: 1}]
            """
        #expect {
            try Policy.parse(yaml, file: "p.yml")
        } throws: { error in
            guard case let .several(errors) = error as? PatchError else { return false }
            let lines = errors.compactMap { error -> Int? in if case let .policy(_, line, _, _) = error { line } else { nil } }
            let text = errors.map(\.description).joined(separator: "\n")
            return lines == [1, 3, 4, 5, 6, 7] && text.contains("invalid policy name 'bad name'") && text.contains("unknown key 'selct'")
                && text.contains("did you mean 'select'") && text.contains("sometimes") && text.contains("funday")
                && text.contains("install_timeout") && text.contains("pager")
        }
    }

    @Test func oneMistakeIsItselfAndAfterTestIsNotBlamedOnBrokenRings() {
        #expect {
            try Policy.parse("name: p\ntargets: all\nrings: 3\napproval: after_test\n", file: "p.yml")
        } throws: { error in
            guard case let .policy(_, line, _, message) = error as? PatchError else { return false }
            return line == 3 && message.contains("'rings' must be a list")
        }
    }
}
