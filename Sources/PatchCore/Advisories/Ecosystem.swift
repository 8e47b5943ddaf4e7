import Foundation

/// Names of the package universes advisory feeds speak of, one spelling for feeds and hosts alike:
/// OSV's names (`Debian:12`, `Ubuntu:22.04`, `Rocky Linux:9`, `AlmaLinux:9`), with Ubuntu's `:LTS`
/// suffix dropped and Debian tracker codenames turned into release numbers.
public enum Ecosystem {
    /// Debian codenames the tracker uses, by release number.
    static let debianReleases = ["buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14", "duke": "15"]

    /// A Debian tracker release (`bookworm`) as an ecosystem (`Debian:12`); unknown codenames
    /// (`sid`) keep their name (`Debian:sid`).
    public static func debian(codename: String) -> String {
        "Debian:" + (debianReleases[codename.lowercased()] ?? codename.lowercased())
    }

    /// An OSV ecosystem string as stored: `Ubuntu:22.04:LTS` → `Ubuntu:22.04`; Ubuntu Pro and
    /// FIPS streams keep their qualifier (`Ubuntu:Pro:22.04`), they are other archives.
    public static func normalize(osv name: String) -> String {
        var name = name.trimmingCharacters(in: .whitespaces)
        if name.hasPrefix("Ubuntu:"), name.hasSuffix(":LTS") { name.removeLast(4) }
        return name
    }

    /// The ecosystems whose advisories apply to a host, most specific first, and the version order
    /// to compare in. Empty when no feed speaks of this OS.
    public static func of(_ os: OSInfo) -> (names: [String], scheme: VersionComparison.Scheme) {
        let major = os.version.split(separator: ".").first.map(String.init) ?? os.version
        switch os.id.lowercased() {
        case "debian":
            var names = ["Debian:" + major]
            if let codename = os.codename, !codename.isEmpty, debianReleases[codename.lowercased()] == nil {
                names.append(debian(codename: codename))
            }
            return (major.isEmpty ? [] : names, .dpkg)
        case "ubuntu": return (os.version.isEmpty ? [] : ["Ubuntu:" + os.version], .dpkg)
        case "rocky": return (["Rocky Linux:" + major], .rpm)
        case "almalinux": return (["AlmaLinux:" + major], .rpm)
        case "rhel": return (["Red Hat:" + major], .rpm)
        case "sles", "sled": return (["SUSE:Linux Enterprise Server " + os.version.replacingOccurrences(of: ".", with: " SP")], .rpm)
        case "opensuse-leap": return (["openSUSE:Leap " + os.version], .rpm)
        default: return ([], os.family == .debian ? .dpkg : .rpm)
        }
    }
}
