import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One non-empty, non-comment line of an ssh_config file: the keyword (lowercased, as OpenSSH
/// compares them) and its arguments after OpenSSH's quoting rules.
struct SSHConfigLine: Sendable, Equatable {
    var keyword: String
    var arguments: [String]
    var origin: SSHConfigOrigin
}

/// Reading and splitting ssh_config files as OpenSSH's readconf.c does, within fixed bounds.
enum SSHConfigFile {
    /// Larger than any real client configuration by far; a device or an endless file stops here.
    static let maxFileBytes = 1 << 20
    static let maxLines = 100_000

    /// The lines of `path`; nil when it does not exist (OpenSSH skips a missing Include).
    static func read(_ path: String) throws(SSHConfigError) -> [SSHConfigLine]? {
        // Regular files only: opening a FIFO would wait for a writer, a device may never end.
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw SSHConfigError(path, "is not a regular file") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw SSHConfigError(path, "cannot be read") }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxFileBytes + 1)) ?? Data()
        guard data.count <= maxFileBytes else { throw SSHConfigError(path, "larger than \(maxFileBytes >> 20) MiB") }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    static func parse(_ text: String, file: String) throws(SSHConfigError) -> [SSHConfigLine] {
        var lines: [SSHConfigLine] = []
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            guard number <= maxLines else { throw SSHConfigError(file, line: number, "more than \(maxLines) lines") }
            let origin = SSHConfigOrigin(file: file, line: number)
            if let line = try parseLine(Substring(raw), origin: origin) { lines.append(line) }
        }
        return lines
    }

    /// readconf.c's process_config_line: the keyword ends at whitespace or `=`, the rest is split
    /// like argv_split(…, terminate_on_comment: true).
    static func parseLine(_ raw: Substring, origin: SSHConfigOrigin) throws(SSHConfigError) -> SSHConfigLine? {
        var scalars = Array(raw.unicodeScalars)
        while let last = scalars.last, last == " " || last == "\t" || last == "\r" || last == "\u{0C}" { scalars.removeLast() }
        var index = 0
        func isBlank(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\t" || scalar == "\r" }
        while index < scalars.count, isBlank(scalars[index]) { index += 1 }
        guard index < scalars.count, scalars[index] != "#" else { return nil }
        // The keyword: quoted, or up to whitespace or '='.
        var keyword = ""
        if scalars[index] == "\"" {
            index += 1
            while index < scalars.count, scalars[index] != "\"" { keyword.unicodeScalars.append(scalars[index]); index += 1 }
            guard index < scalars.count else { throw SSHConfigError(origin, "invalid quotes") }
            index += 1
        } else {
            while index < scalars.count, !isBlank(scalars[index]), scalars[index] != "=" {
                keyword.unicodeScalars.append(scalars[index]); index += 1
            }
        }
        while index < scalars.count, isBlank(scalars[index]) { index += 1 }
        if index < scalars.count, scalars[index] == "=" { index += 1 }
        while index < scalars.count, isBlank(scalars[index]) { index += 1 }
        let rest = Array(scalars[index...])
        guard !rest.isEmpty else { throw SSHConfigError(origin, "no argument after keyword \"\(keyword)\"") }
        guard let arguments = split(rest) else { throw SSHConfigError(origin, "invalid quotes") }
        return SSHConfigLine(keyword: keyword.lowercased(), arguments: arguments, origin: origin)
    }

    /// OpenSSH's argv_split: blanks separate, `"` and `'` group, `\` escapes quotes, backslash
    /// and (outside quotes) a space; `#` starting an argument ends the line. Nil: unclosed quote.
    static func split(_ scalars: [Unicode.Scalar]) -> [String]? {
        var arguments: [String] = []
        var index = 0
        while index < scalars.count {
            if scalars[index] == " " || scalars[index] == "\t" { index += 1; continue }
            if scalars[index] == "#" { break }
            var argument = String.UnicodeScalarView()
            var quote: Unicode.Scalar?
            while index < scalars.count {
                let scalar = scalars[index]
                if scalar == "\\", index + 1 < scalars.count,
                   ["'", "\"", "\\"].contains(scalars[index + 1]) || (quote == nil && scalars[index + 1] == " ") {
                    index += 1
                    argument.append(scalars[index])
                } else if quote == nil, scalar == " " || scalar == "\t" {
                    break
                } else if quote == nil, scalar == "\"" || scalar == "'" {
                    quote = scalar
                } else if let open = quote, scalar == open {
                    quote = nil
                } else {
                    argument.append(scalar)
                }
                index += 1
            }
            if quote != nil { return nil }
            arguments.append(String(argument))
        }
        return arguments
    }
}
