/// The one place remote shell text is built from data. Every value that came from an inventory,
/// a policy, a package list or a flag passes through `quote` before it reaches a command line.
public enum Shell {
    /// POSIX single-quoting: the result is always exactly one word, whatever `value` holds.
    public static func quote(_ value: String) -> String {
        if !value.isEmpty, value.utf8.allSatisfy(isSafe) { return value }
        return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Quotes each argument and joins them into one command line.
    public static func join(_ arguments: [String]) -> String {
        arguments.map(quote).joined(separator: " ")
    }

    private static func isSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/"),
             UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: "@"):
            return true
        default:
            return false
        }
    }
}
