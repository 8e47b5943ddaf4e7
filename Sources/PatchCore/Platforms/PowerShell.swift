import Foundation

/// Windows PowerShell command lines built from script text. Every command patchctl sends to a
/// Windows host goes through `encodedCommand`, so no quoting rule of cmd.exe, PowerShell or the
/// transport ever touches the script: it travels as base64 of its UTF-16LE bytes.
public enum PowerShell {
    /// The fixed part of every command line. `-NonInteractive`: a prompt would hang the session;
    /// `-NoProfile`: a user's profile must not change behaviour or slow every call;
    /// `-ExecutionPolicy Bypass`: the policy governs script files, not a command, but a GPO-set
    /// `AllSigned` still interferes with modules some cmdlets load.
    public static let prefix = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand "

    /// cmd.exe refuses command lines longer than 8191 characters. OpenSSH for Windows runs commands
    /// through cmd.exe unless its `DefaultShell` points at PowerShell, so every command patchctl
    /// builds must stay under this (CreateProcess' own limit is 32767).
    public static let cmdLineLimit = 8191

    /// `powershell.exe … -EncodedCommand <base64 of the script's UTF-16LE bytes>`. Works the same
    /// whether the remote login shell is cmd.exe or PowerShell: the line has no quotes or
    /// metacharacters either would interpret.
    public static func encodedCommand(_ script: String) -> String {
        prefix + encode(script)
    }

    /// Base64 of the script as UTF-16LE, without a byte-order mark (what `-EncodedCommand` expects;
    /// the same bytes as Python's `base64.b64encode(s.encode('utf-16-le'))`). Characters outside
    /// the BMP become surrogate pairs, as .NET strings hold them.
    public static func encode(_ script: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(script.utf16.count * 2)
        for unit in script.utf16 {
            bytes.append(UInt8(unit & 0xFF))
            bytes.append(UInt8(unit >> 8))
        }
        return Data(bytes).base64EncodedString()
    }

    /// A PowerShell single-quoted string literal: nothing inside is expanded, and a quote is
    /// doubled. PowerShell also treats the typographic quotes U+2018–U+201B as single quotes, so
    /// those are doubled too (otherwise one in a package name would end the literal).
    public static func quote(_ value: String) -> String {
        var result = "'"
        for character in value {
            switch character {
            case "'", "\u{2018}", "\u{2019}", "\u{201A}", "\u{201B}":
                result.append(character)
                result.append(character)
            default:
                result.append(character)
            }
        }
        return result + "'"
    }

    /// Output of Windows programs arrives with CRLF line ends (and sometimes a UTF-8 byte-order
    /// mark). Swift treats "\r\n" as one Character, so a split on "\n" would not see it: every
    /// Windows parser normalises first. A lone "\r" inside a line is a console overwrite (winget's
    /// progress spinner): as on a terminal, only the text after the last one remains.
    static func normalizedLines(_ output: String) -> String {
        var scalars = Substring(output).unicodeScalars
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        let lines = scalars.split(separator: "\n", omittingEmptySubsequences: false).map { raw -> Substring.UnicodeScalarView in
            var line = raw
            if line.last == "\r" { line.removeLast() }
            if let lastCR = line.lastIndex(of: "\r") { line = line[line.index(after: lastCR)...] }
            return line
        }
        return lines.map { String(String.UnicodeScalarView($0)) }.joined(separator: "\n")
    }
}
