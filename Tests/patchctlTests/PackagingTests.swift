import Foundation
import LabSupport
import Testing

/// What `make deb` and `make install` ship, used the way a sysadmin uses them. The artefacts come
/// from the release build `make test` runs first (`make deb`: .build/deb, .build/release, .build/man).
@Suite("packaging: make deb and make install", .serialized, .enabled(if: CLI.labEnabled))
struct PackagingTests {
    static let buildFolder = CLI.repository.appendingPathComponent(".build")

    /// The .deb of this version (`make deb`), from the debug binary's `--version`.
    static func debPackage() async throws -> (path: String, version: String) {
        let version = try #require(try await TestProcess.check(CLI.binary.path, ["--version"]).split(separator: " ").first.map(String.init))
        let arch = try await TestProcess.check("dpkg", ["--print-architecture"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let path = buildFolder.appendingPathComponent("deb/patchctl_\(version)_\(arch).deb").path
        try #require(FileManager.default.fileExists(atPath: path), "\(path) missing: run `make deb` (make test does)")
        return (path, version)
    }

    /// A program run inside `root` (chroot) with a clean environment, as root.
    static func inChroot(_ root: String, _ arguments: [String], environment: [String] = [], timeout: Duration = .seconds(300)) async throws -> TestProcess.Output {
        try await TestProcess.run("env", ["-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "HOME=/root", "DEBIAN_FRONTEND=noninteractive"]
                                      + environment + ["chroot", root] + arguments, timeout: timeout)
    }

    /// A clean Debian 12: the lab's cached debootstrap tree (never modified: copied, under a shared
    /// hold of its build lock), with the lab's own layer (`LAB_TREE_PACKAGES` of lab/common.sh: sudo,
    /// openssh-client and the libraries they pulled in) purged again, which leaves debootstrap's minbase
    /// packages (and the lab's two tiny patchlab-* packages and accounts).
    static func cleanDebian(in folder: URL) async throws -> String {
        let labTree = try CLI.lab("LAB_ROOT")
        let root = folder.appendingPathComponent("root").path
        let buildLock = URL(fileURLWithPath: labTree).deletingLastPathComponent().appendingPathComponent(".build.lock").path
        try await TestProcess.check("flock", ["-s", buildLock, "cp", "-a", "--one-file-system", labTree, root], timeout: .seconds(300))
        let layer = try await TestProcess.check("bash", ["-c", ". lab/common.sh && echo \"${LAB_TREE_PACKAGES[*]}\""],
                                                workingDirectory: CLI.repository.path)
            .split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(!layer.isEmpty)
        // SUDO_FORCE_REMOVE: sudo's prerm otherwise refuses removal on a system without a root password.
        let purge = try await inChroot(root, ["apt-get", "-q", "-y", "-o", "Dpkg::Use-Pty=0", "purge", "--autoremove"] + layer,
                                       environment: ["SUDO_FORCE_REMOVE=yes"])
        try #require(purge.status == 0, "purging the lab's layer: \(purge.combined)")
        return root
    }

    /// Unmounts what is mounted in the tree, then removes it without leaving its file system.
    static func removeTree(_ folder: URL) {
        for arguments in [["umount", "-l", folder.path + "/root/proc"], ["rm", "-rf", "--one-file-system", folder.path]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            process.standardError = FileHandle.nullDevice
            if (try? process.run()) != nil { process.waitForExit() }
        }
    }

    @Test func debInstallsOnCleanDebianWithoutSwiftAndScansTheLab() async throws {
        let (deb, version) = try await Self.debPackage()
        let folder = try CLI.temporaryDirectory()
        defer { Self.removeTree(folder) }
        let root = try await Self.cleanDebian(in: folder)
        // /proc, as on any running Linux: Swift's runtime reads the program's arguments from
        // /proc/self/cmdline (without it `patchctl --version` sees no arguments at all).
        try await TestProcess.check("mount", ["-t", "proc", "proc", root + "/proc"])

        // Clean means: none of what patchctl links in is there to be found (no Swift, libssh2,
        // OpenSSL or SQLite), so only the package's own binary can make the commands below work.
        let found = try await TestProcess.check("find", [root, "-xdev", "(", "-name", "libswiftCore.so*", "-o", "-name", "libFoundation*.so*",
                                                         "-o", "-name", "libssh2.so*", "-o", "-name", "libssl.so*", "-o", "-name", "libsqlite3.so*", ")"])
        #expect(found.isEmpty, "the clean tree has \(found)")

        try FileManager.default.copyItem(atPath: deb, toPath: root + "/tmp/patchctl.deb")
        let install = try await Self.inChroot(root, ["dpkg", "-i", "/tmp/patchctl.deb"])
        try #require(install.status == 0, "dpkg -i: \(install.combined)")

        let reported = try await Self.inChroot(root, ["patchctl", "--version"])
        #expect(reported.status == 0, "\(reported.combined)")
        // The release it is, carrying libssh2 1.11 or newer (RSA keys need its rsa-sha2 signatures).
        let words = reported.stdout.split(whereSeparator: \.isWhitespace)
        #expect(words.first.map(String.init) == version, "\(reported.stdout)")
        let libssh2 = words.drop { $0 != "(libssh2" }.dropFirst().first.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ")")) }
        let parts = libssh2?.split(separator: ".").prefix(2).compactMap { Int($0) } ?? []
        #expect(parts.count == 2 && (parts[0], parts[1]) >= (1, 11), "\(reported.stdout)")

        // Everything the package claims to install, where Debian looks for it.
        for file in ["/usr/bin/patchctl", "/usr/share/man/man1/patchctl.1.gz", "/usr/share/bash-completion/completions/patchctl",
                     "/usr/share/zsh/vendor-completions/_patchctl", "/usr/share/fish/vendor_completions.d/patchctl.fish",
                     "/lib/systemd/system/patchctl-scan.service", "/lib/systemd/system/patchctl-scan.timer",
                     "/lib/systemd/system/patchctl-deploy@.service", "/lib/systemd/system/patchctl-deploy@.timer",
                     "/lib/systemd/system/patchctl-retire.service", "/lib/systemd/system/patchctl-retire.timer",
                     "/usr/share/doc/patchctl/copyright", "/usr/share/doc/patchctl/examples/config.yml"] {
            #expect(FileManager.default.fileExists(atPath: root + file), "\(file) not installed")
        }
        let completion = try await Self.inChroot(root, ["bash", "-c", "source /usr/share/bash-completion/completions/patchctl && complete -p patchctl"])
        #expect(completion.status == 0 && completion.stdout.contains("patchctl"), "\(completion.combined)")

        // The scan the packaged patchctl-scan.service runs, as systemd would run it (root, its
        // StateDirectory made), against the lab: the unit's own command line, not a copy of it.
        let unit = try String(contentsOfFile: root + "/lib/systemd/system/patchctl-scan.service", encoding: .utf8)
        let execStart = try #require(unit.split(separator: "\n").first { $0.hasPrefix("ExecStart=") }?.dropFirst("ExecStart=".count))
        let command = execStart.split(separator: " ").map(String.init)
        #expect(command.first == "/usr/bin/patchctl" && command.dropFirst().first == "scan", "\(execStart)")
        let port = try CLI.lab("LAB_PORT")
        let inventory = """
            all:
              vars: {ansible_user: root, ansible_port: \(port)}
              hosts:
                lab-debian-1: {ansible_host: 127.0.0.1}
                lab-debian-2: {ansible_host: 127.0.0.2}

            """
        let manager = FileManager.default
        try manager.createDirectory(atPath: root + "/etc/patchctl", withIntermediateDirectories: true)
        try inventory.write(toFile: root + "/etc/patchctl/inventory.yml", atomically: true, encoding: .utf8)
        try manager.createDirectory(atPath: root + "/root/.ssh", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try manager.copyItem(atPath: try CLI.lab("LAB_KEY"), toPath: root + "/root/.ssh/id_ed25519")
        try manager.copyItem(atPath: try CLI.lab("LAB_KNOWN_HOSTS"), toPath: root + "/root/.ssh/known_hosts")
        try manager.createDirectory(atPath: root + "/var/lib/patchctl", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        let scan = try await Self.inChroot(root, command)
        #expect(scan.status == 0, "\(execStart): \(scan.combined)")
        #expect(scan.stdout.contains("2 hosts: 2 ok"), "\(scan.stdout)")
        let history = try await Self.inChroot(root, ["patchctl", "history", "--db", "/var/lib/patchctl/patchctl.db", "--output", "json"])
        #expect(history.status == 0, "\(history.combined)")
        let runs = try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]]
        #expect(runs?.count == 1, "\(history.stdout)")
        let run = try #require(runs?.first)
        #expect(run["kind"] as? String == "scan" && run["state"] as? String == "finished" && run["ok"] as? Int == 2
                && run["inventory"] as? String == "/etc/patchctl/inventory.yml", "\(run)")
        #expect((run["updates"] as? Int ?? 0) > 0, "the lab has pending updates: \(run)")

        let remove = try await Self.inChroot(root, ["dpkg", "--purge", "patchctl"])
        #expect(remove.status == 0 && !manager.fileExists(atPath: root + "/usr/bin/patchctl"), "\(remove.combined)")
    }

    /// `make install PREFIX=…` as a user who is not root, into a folder of their own: the install
    /// step (scripts/install.sh, what the target runs after `make build`) run as the lab's
    /// non-root account, and what lands where.
    @Test func installsAsNonRootUserIntoItsOwnPrefix() async throws {
        let binary = Self.buildFolder.appendingPathComponent("release/patchctl").path
        let manpage = Self.buildFolder.appendingPathComponent("man/patchctl.1").path
        for file in [binary, manpage] {
            try #require(FileManager.default.fileExists(atPath: file), "\(file) missing: run `make build` (make test does)")
        }
        let user = try #require(getpwnam(try CLI.lab("LAB_SUDO_USER")), "the lab's non-root account is missing").pointee
        let folder = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(chown(folder.path, user.pw_uid, user.pw_gid) == 0)
        let prefix = folder.appendingPathComponent("prefix").path
        let asUser = ["setpriv", "--reuid=\(user.pw_uid)", "--regid=\(user.pw_gid)", "--clear-groups",
                      "env", "-i", "PATH=/usr/bin:/bin", "HOME=\(folder.path)", "TMPDIR=\(folder.path)"]
        let install = try await TestProcess.run(asUser[0], Array(asUser.dropFirst()) + ["PREFIX=\(prefix)", "scripts/install.sh", binary, manpage],
                                                workingDirectory: CLI.repository.path, timeout: .seconds(120))
        try #require(install.status == 0, "\(install.combined)")

        let installed = ["bin/patchctl", "share/man/man1/patchctl.1", "share/bash-completion/completions/patchctl",
                         "share/zsh/site-functions/_patchctl", "share/fish/vendor_completions.d/patchctl.fish"]
            + ["patchctl-scan.service", "patchctl-scan.timer", "patchctl-deploy@.service", "patchctl-deploy@.timer",
               "patchctl-retire.service", "patchctl-retire.timer"]
                .map { "share/doc/patchctl/examples/systemd/\($0)" } + ["share/doc/patchctl/examples/config.yml"]
        for file in installed {
            let attributes = try FileManager.default.attributesOfItem(atPath: prefix + "/" + file)
            #expect((attributes[.ownerAccountID] as? NSNumber)?.uint32Value == user.pw_uid, "\(file)")
        }
        let version = try await TestProcess.run(asUser[0], Array(asUser.dropFirst()) + [prefix + "/bin/patchctl", "--version"])
        let built = try await TestProcess.check(binary, ["--version"])
        #expect(version.status == 0 && version.stdout == built, "\(version.combined)")
        // Stripped: the size docs/install.md states.
        let sections = try await TestProcess.check("readelf", ["-S", prefix + "/bin/patchctl"])
        #expect(!sections.contains(".symtab"))

        // The completions are the binary's own and load in their shells (bash is always here).
        let bash = try await TestProcess.run("bash", ["-c", "source \(prefix)/share/bash-completion/completions/patchctl && complete -p patchctl"])
        #expect(bash.status == 0 && bash.stdout.contains("patchctl"), "\(bash.combined)")
        let zsh = try String(contentsOfFile: prefix + "/share/zsh/site-functions/_patchctl", encoding: .utf8)
        #expect(zsh.hasPrefix("#compdef patchctl"))
        let fish = try String(contentsOfFile: prefix + "/share/fish/vendor_completions.d/patchctl.fish", encoding: .utf8)
        #expect(fish.contains("complete -c 'patchctl'"))

        // The man page renders, and documents every subcommand the binary has (its --help lists them).
        let page = try await TestProcess.run("man", ["-l", prefix + "/share/man/man1/patchctl.1"], environment: ["MANPAGER": "cat", "MANWIDTH": "100"])
        #expect(page.status == 0, "\(page.combined)")
        let help = try await TestProcess.check(binary, ["--help"])
        // The SUBCOMMANDS: block runs to the first empty line; a name starts a line, its help follows.
        let block = help.components(separatedBy: "SUBCOMMANDS:\n").last?.components(separatedBy: "\n\n").first ?? ""
        let subcommands = block.split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(subcommands.count >= 10 && subcommands.contains("deploy"), "\(help)")
        let entries = Set(page.stdout.split(separator: "\n").filter { $0.hasPrefix("     ") && !$0.hasPrefix("      ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) })
        for subcommand in subcommands {
            #expect(entries.contains(subcommand), "the man page has no entry for \(subcommand)")
        }

        // The example units point at the installed binary and are valid units: systemd-analyze
        // verify loads each (the deploy template through an instance), checks ExecStart is
        // executable and the man: link resolves (MANPATH), and warns on stderr about anything it ignores.
        let units = prefix + "/share/doc/patchctl/examples/systemd"
        for name in ["patchctl-scan.service", "patchctl-deploy@.service", "patchctl-retire.service"] {
            let text = try String(contentsOfFile: units + "/" + name, encoding: .utf8)
            #expect(text.contains("ExecStart=\(prefix)/bin/patchctl "), "\(name)")
            #expect(text.contains("StateDirectory=patchctl") && text.contains("--db /var/lib/patchctl/patchctl.db")
                    && text.contains("-i /etc/patchctl/inventory.yml"), "\(name)")
        }
        #expect(try String(contentsOfFile: units + "/patchctl-deploy@.service", encoding: .utf8).contains("deploy -i /etc/patchctl/inventory.yml --db /var/lib/patchctl/patchctl.db --policy %i"))
        let verify = try await TestProcess.run("systemd-analyze", ["verify"] + ["patchctl-scan.service", "patchctl-scan.timer",
                                               "patchctl-deploy@lab-rollout.service", "patchctl-deploy@lab-rollout.timer",
                                               "patchctl-retire.service", "patchctl-retire.timer"].map { units + "/" + $0 },
                                               environment: ["MANPATH": prefix + "/share/man"])
        #expect(verify.status == 0 && verify.stderr.isEmpty, "systemd-analyze verify: \(verify.combined)")
    }

    /// Neither `make build` nor `make install` installs the lab's or the tests' packages (that needed
    /// root): the build checks its own packages only (`scripts/build-deps.sh --build`, which does
    /// nothing when they are there).
    @Test func makeInstallRunsNoLabOrTestDependencies() async throws {
        let plan = try await TestProcess.check("make", ["-n", "install", "PREFIX=/nonexistent"], workingDirectory: CLI.repository.path)
        #expect(plan.contains("scripts/build-release.sh") && plan.contains("scripts/install.sh"), "\(plan)")
        #expect(!plan.contains("lab/") && !plan.contains("build-deps.sh"), "\(plan)")
        let script = try String(contentsOf: CLI.repository.appendingPathComponent("scripts/build-release.sh"), encoding: .utf8)
        let calls = script.split(separator: "\n").filter { $0.contains("build-deps.sh") && !$0.hasPrefix("#") }
        #expect(calls.count == 1 && calls.allSatisfy { $0.contains("build-deps.sh --build") }, "\(calls)")
    }
}
