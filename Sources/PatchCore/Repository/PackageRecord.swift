import Foundation
import GRDB

/// How a package installs: a file the repository holds, or a name the endpoint's own
/// package manager resolves.
public enum PackageFormat: String, Codable, Sendable, CaseIterable {
    case deb, rpm, msi, exe, pkg, dmg
    /// From the OS or a third-party repository: apt, dnf, zypper, winget, choco, brew.
    case apt, dnf, zypper, winget, choco, brew

    /// True when the repository stores a file for it.
    public var hasFile: Bool {
        switch self {
        case .deb, .rpm, .msi, .exe, .pkg, .dmg: return true
        case .apt, .dnf, .zypper, .winget, .choco, .brew: return false
        }
    }

    public var versionScheme: VersionComparison.Scheme {
        switch self {
        case .deb, .apt: return .dpkg
        case .rpm, .dnf, .zypper: return .rpm
        case .msi, .exe, .pkg, .dmg, .winget, .choco, .brew: return .semantic
        }
    }

    /// The OS family whose endpoints can install it.
    public var family: OSFamily {
        switch self {
        case .deb, .apt: return .debian
        case .rpm, .dnf: return .rhel
        case .zypper: return .suse
        case .msi, .exe, .winget, .choco: return .windows
        case .pkg, .dmg, .brew: return .macos
        }
    }
}

/// One entry of the approved-package library.
public struct PackageRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var version: String
    public var platform: OSFamily
    public var architecture: String
    public var format: PackageFormat
    /// SHA-256 of the file (nil for repository-managed formats).
    public var sha256: String?
    public var size: Int64?
    /// The file name as added (kept for the endpoint: installers care about extensions).
    public var fileName: String?
    /// Silent-install arguments for `exe` installers (e.g. `/S`, `/quiet /norestart`).
    public var installArguments: String?
    public var notes: String?
    public var addedBy: String
    public var addedAt: Date
    public var state: ApprovalState
    public var decidedBy: String?
    public var decidedAt: Date?
    public var decisionNote: String?

    public var reference: String { "\(name)@\(version)" }

    enum CodingKeys: String, CodingKey {
        case id, name, version, platform, architecture, format, sha256, size
        case fileName = "file_name"
        case installArguments = "install_arguments"
        case notes
        case addedBy = "added_by"
        case addedAt = "added_at"
        case state
        case decidedBy = "decided_by"
        case decidedAt = "decided_at"
        case decisionNote = "decision_note"
    }
}

// A row maps by the coding keys (the column names): a format, platform or state this version
// does not know is a decoding error naming the column, not a guess (an unknown format once read as `exe`).
extension PackageRecord: FetchableRecord, TableRecord {
    public static let databaseTableName = "packages"
}
