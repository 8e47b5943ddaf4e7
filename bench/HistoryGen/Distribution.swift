import PatchCore

/// One distribution release of the fleet: its os-release facts, the shape of its version strings,
/// where apt/dnf say a candidate comes from, and its share of the fleet.
struct Distribution: Sendable {
    enum Style: Sendable { case debian, ubuntu, rhel }

    let key: String
    let style: Style
    let family: OSFamily
    let id: String
    let name: String
    let versions: [String]
    let codename: String
    let share: Double
    /// The name in `[only]` filters of PackageLists, besides `debian`/`ubuntu`/`rhel`.
    let filterName: String
    /// The placeholders of the Debian-family list.
    let placeholders: [String: String]

    static let fleet: [Distribution] = [
        Distribution(key: "debian12", style: .debian, family: .debian, id: "debian", name: "Debian GNU/Linux", versions: ["12"],
                     codename: "bookworm", share: 0.50, filterName: "debian",
                     placeholders: ["{py}": "python3.11", "{perl}": "5.36", "{pg}": "15", "{php}": "8.2", "{ldap}": "2.5-0", "{node}": "108"]),
        Distribution(key: "ubuntu2204", style: .ubuntu, family: .debian, id: "ubuntu", name: "Ubuntu", versions: ["22.04"],
                     codename: "jammy", share: 0.14, filterName: "jammy",
                     placeholders: ["{py}": "python3.10", "{perl}": "5.34", "{pg}": "14", "{php}": "8.1", "{ldap}": "2.5-0", "{node}": "72"]),
        Distribution(key: "ubuntu2404", style: .ubuntu, family: .debian, id: "ubuntu", name: "Ubuntu", versions: ["24.04"],
                     codename: "noble", share: 0.11, filterName: "noble",
                     placeholders: ["{py}": "python3.12", "{perl}": "5.38", "{pg}": "16", "{php}": "8.3", "{ldap}": "2.5-0", "{node}": "109"]),
        Distribution(key: "rhel9", style: .rhel, family: .rhel, id: "rhel", name: "Red Hat Enterprise Linux", versions: ["9.4", "9.5", "9.6"],
                     codename: "Plow", share: 0.15, filterName: "rhel", placeholders: [:]),
        Distribution(key: "rocky9", style: .rhel, family: .rhel, id: "rocky", name: "Rocky Linux", versions: ["9.4", "9.5", "9.6"],
                     codename: "Blue Onyx", share: 0.10, filterName: "rocky", placeholders: [:]),
    ]

    var isUbuntu: Bool { style == .ubuntu }

    /// Whether a `[only]` filter of PackageLists admits this distribution.
    func admits(_ filter: String) -> Bool {
        filter == filterName || (filter == "ubuntu" && style == .ubuntu)
    }

    /// The binary packages of the kernel's `linux-image` placeholder.
    var kernelBinaries: [String] {
        switch style {
        case .debian: ["linux-image-amd64"]
        case .ubuntu: ["linux-image-generic", "linux-headers-generic", "linux-generic"]
        case .rhel: []
        }
    }

    var cveFeed: String {
        switch style {
        case .debian: "debian-tracker"
        case .ubuntu: "ubuntu"
        case .rhel: "updateinfo"
        }
    }

    /// apt's origin of a candidate (`Origin:Version/Archive`, as `apt-get -s` prints it).
    func aptOrigin(security: Bool, pointRelease: Int?) -> String {
        switch style {
        case .debian:
            if security { return "Debian-Security:12/stable-security" }
            if let pointRelease { return "Debian:12.\(pointRelease)/stable" }
            return "Debian:12-updates/stable-updates"
        case .ubuntu:
            let version = versions[0]
            // A security pocket's build is also in -updates: apt lists both.
            return security ? "Ubuntu:\(version)/\(codename)-updates, Ubuntu:\(version)/\(codename)-security"
                : "Ubuntu:\(version)/\(codename)-updates"
        case .rhel:
            return ""
        }
    }

    /// dnf's repository id of a package.
    func repository(appStream: Bool) -> String {
        switch key {
        case "rhel9": appStream ? "rhel-9-for-x86_64-appstream-rpms" : "rhel-9-for-x86_64-baseos-rpms"
        default: appStream ? "appstream" : "baseos"
        }
    }

    /// Advisory id prefix: RHSA/RHBA (Red Hat), RLSA/RLBA (Rocky).
    func advisoryPrefix(security: Bool) -> String {
        key == "rocky9" ? (security ? "RLSA" : "RLBA") : (security ? "RHSA" : "RHBA")
    }

    /// `uname -r` of the kernel build with update index `index`.
    func kernelRelease(_ index: Int) -> String {
        switch style {
        case .debian: "6.1.0-\(20 + index)-amd64"
        case .ubuntu: codename == "jammy" ? "5.15.0-\(100 + index)-generic" : "6.8.0-\(31 + index)-generic"
        case .rhel: "5.14.0-\(427 + 8 * index).\(13 + 2 * index).1.el9_\(min(4 + index / 6, 7)).x86_64"
        }
    }

    /// The package version string of a kernel build.
    func kernelVersion(_ index: Int) -> String {
        switch style {
        case .debian: "6.1.\(90 + index)-1"
        case .ubuntu: codename == "jammy" ? "5.15.0.\(100 + index).\(98 + index)" : "6.8.0-\(31 + index).\(31 + index)"
        case .rhel: "5.14.0-\(427 + 8 * index).\(13 + 2 * index).1.el9_\(min(4 + index / 6, 7))"
        }
    }
}
