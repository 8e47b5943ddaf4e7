/// How each package format installs on its platform, non-interactively, and how the installed
/// version is read back. Paths are quoted through `Shell`; nothing here runs anything.
public enum PackageInstallCommands {
    /// The install command for `record` whose file (if any) is at `path` on the endpoint.
    public static func install(_ record: PackageRecord, path: String?) -> String? {
        switch record.format {
        case .deb:
            guard let path else { return nil }
            // A path (not a name) makes apt install the file and resolve its dependencies.
            return DebianPlatform.aptInstallCommand([path])
        case .apt:
            return DebianPlatform.aptInstallCommand(["\(record.name)=\(record.version)"])
        case .rpm:
            guard let path else { return nil }
            return "export LC_ALL=C; if command -v dnf >/dev/null 2>&1; then " + Shell.join(["dnf", "-y", "install", "--", path])
                + "; else " + Shell.join(["yum", "-y", "install", "--", path]) + "; fi"
        case .dnf:
            return "export LC_ALL=C; " + Shell.join(["dnf", "-y", "install", "--", "\(record.name)-\(record.version)"])
        case .zypper:
            return "export LC_ALL=C; " + Shell.join(["zypper", "--non-interactive", "install", "--oldpackage", "--", "\(record.name)=\(record.version)"])
        case .pkg:
            guard let path else { return nil }
            return Shell.join(["installer", "-pkg", path, "-target", "/"])
        case .dmg:
            // A disk image holding an application: mounted read-only, the .app copied to /Applications.
            guard let path else { return nil }
            return "m=$(mktemp -d /tmp/patchctl-dmg.XXXXXX) || exit 1; " + Shell.join(["hdiutil", "attach", "-nobrowse", "-readonly", "-mountpoint"])
                + " \"$m\" " + Shell.quote(path) + " >/dev/null || { rmdir \"$m\"; exit 1; }; "
                + "app=$(find \"$m\" -maxdepth 1 -name '*.app' | head -n 1); rc=1; "
                + "if [ -n \"$app\" ]; then rm -rf \"/Applications/$(basename \"$app\")\" && cp -R \"$app\" /Applications/; rc=$?; fi; "
                + "hdiutil detach \"$m\" -quiet; rmdir \"$m\"; exit $rc"
        case .brew:
            return Shell.join(["brew", "install", "--", record.name])
        case .msi, .exe, .winget, .choco:
            // Windows: PowerShell through WindowsPackageCommands.
            return nil
        }
    }

    /// Prints `NAME<TAB>VERSION` for the installed package, in the form the format's versions take.
    public static func installedVersion(_ record: PackageRecord) -> String? {
        switch record.format {
        case .deb, .apt:
            return DebianPlatform.installedVersionsQuery([record.name])
        case .rpm, .dnf, .zypper:
            return "rpm -q --qf '%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\tii\\n' -- " + Shell.quote(record.name) + " 2>/dev/null; true"
        case .pkg:
            // The library name of a .pkg is its package identifier (pkgutil --pkgs lists them).
            return "v=$(pkgutil --pkg-info " + Shell.quote(record.name) + " 2>/dev/null | awk '/^version:/ {print $2}'); "
                + "[ -n \"$v\" ] && printf '%s\\t%s\\tii\\n' " + Shell.quote(record.name) + " \"$v\"; true"
        case .dmg:
            return "v=$(defaults read " + Shell.quote("/Applications/\(record.name).app/Contents/Info") + " CFBundleShortVersionString 2>/dev/null); "
                + "[ -n \"$v\" ] && printf '%s\\t%s\\tii\\n' " + Shell.quote(record.name) + " \"$v\"; true"
        case .brew:
            return "v=$(brew list --versions " + Shell.quote(record.name) + " 2>/dev/null | awk '{print $NF}'); "
                + "[ -n \"$v\" ] && printf '%s\\t%s\\tii\\n' " + Shell.quote(record.name) + " \"$v\"; true"
        case .msi, .exe, .winget, .choco:
            return nil
        }
    }

    /// Reads `installedVersion`'s output (every format prints dpkg-query's `NAME<TAB>VERSION<TAB>ii`):
    /// the version of a fully installed package, or nil.
    public static func parseInstalledVersion(_ output: String, name: String) -> String? {
        DebianPlatform.parseInstalledVersionLines(output)[name]
    }
}
