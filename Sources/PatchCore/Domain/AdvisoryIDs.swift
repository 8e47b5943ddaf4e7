import Foundation

/// Vendor advisory ids as findings carry them (`PendingUpdate.advisories`).
public enum AdvisoryIDs {
    /// The ids a `source` written before findings had `advisories` names: the RHEL family's
    /// `ID, ID (repo)` and SUSE's `repo, patch:NAME` (patchctl's own formats); none otherwise.
    /// Used to fill the field for records and history rows from before it existed.
    public static func inLegacySource(_ source: String) -> [String] {
        let parts = source.components(separatedBy: ", ")
        let patches = parts.filter { $0.hasPrefix("patch:") }.map { String($0.dropFirst("patch:".count)) }
        if !patches.isEmpty { return patches.filter(isAdvisoryID) }
        // `A, B (repo)`: everything before the last ` (` when the text ends with `)`.
        guard source.hasSuffix(")"), let open = source.range(of: " (", options: .backwards) else { return [] }
        let ids = source[..<open.lowerBound].components(separatedBy: ", ")
        return ids.allSatisfy(isAdvisoryID) ? ids : []
    }

    /// `RHSA-2025:1234`, `ALSA-2025:20559`, `FEDORA-2025-1a2b3c4d5e`, `FEDORA-EPEL-2025-…`,
    /// `SUSE-SLE-Module-Basesystem-15-SP5-2023-4176`, `openSUSE-Leap-16.0-113`: letters first,
    /// then letters, digits and `-.:_`; at most 128 characters.
    public static func isAdvisoryID(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.utf8.count <= 128,
              CharacterSet.letters.contains(first), first.isASCII else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-.:_".unicodeScalars.contains($0)) }
            && text.contains(where: \.isNumber)
    }
}
