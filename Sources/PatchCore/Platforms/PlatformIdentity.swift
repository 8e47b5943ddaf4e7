/// How the facts name one OS family: words of os-release's `ID`/`ID_LIKE`, or the kernel name.
/// The parser (`Platform.detect`) and the POSIX scan script's choice of scan both read this one
/// value, so a host is scanned by the family that will parse the output.
public struct PlatformIdentity: Sendable {
    /// One test on a word of the lineage (`OSFacts.lineage`: `ID` and each `ID_LIKE` entry, lowercased).
    public enum Word: Sendable {
        case equals(String)
        case hasPrefix(String)
        case contains(String)

        func matches(_ word: String) -> Bool {
            switch self {
            case let .equals(text): word == text
            case let .hasPrefix(text): word.hasPrefix(text)
            case let .contains(text): word.contains(text)
            }
        }

        /// A `case` pattern for the lineage as the script holds it: its words between single spaces, padded by one.
        var shellPattern: String {
            switch self {
            case let .equals(text): "*\" \(text) \"*"
            case let .hasPrefix(text): "*\" \(text)\"*"
            case let .contains(text): "*\(text)*"
            }
        }

        var text: String {
            switch self {
            case let .equals(text), let .hasPrefix(text), let .contains(text): text
            }
        }
    }

    public var lineage: [Word]
    /// `uname -s` (`Darwin`, or `Windows_NT` as the Windows scan reports it).
    public var kernelName: String?

    public init(lineage: [Word] = [], kernelName: String? = nil) {
        // Both end up in shell text unquoted (case patterns): only plain identifier characters.
        let plain = { (text: String) in !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "._-".contains($0)) } }
        precondition(lineage.allSatisfy { plain($0.text) }, "os-release words are lowercase identifiers")
        precondition(kernelName.map { plain($0.lowercased()) } ?? true, "kernel names are identifiers")
        self.lineage = lineage
        self.kernelName = kernelName
    }

    public func matches(_ facts: OSFacts) -> Bool {
        if let kernelName, facts.kernelName == kernelName { return true }
        return facts.lineage.contains { word in lineage.contains { $0.matches(word) } }
    }

    /// POSIX sh condition, the same test as `matches` on the variables the scan script sets:
    /// `$pc_lineage` (` ID ID_LIKE… `, lowercased) and `$pc_kernel` (`uname -s`).
    var shellCondition: String {
        var tests: [String] = []
        if !lineage.isEmpty {
            tests.append("{ case \"$pc_lineage\" in \(lineage.map(\.shellPattern).joined(separator: "|"))) true ;; *) false ;; esac; }")
        }
        if let kernelName { tests.append("[ \"$pc_kernel\" = \(kernelName) ]") }
        return tests.isEmpty ? "false" : tests.joined(separator: " || ")
    }
}

/// Which shell a family is scanned through: POSIX sh (with a probe for hosts without os-release)
/// or PowerShell.
public enum ScanShell: Sendable {
    /// `probe`: a POSIX sh condition true where the family's package tools exist. The scan script
    /// falls back to it only on hosts without os-release.
    case posix(probe: String)
    case powershell
}
