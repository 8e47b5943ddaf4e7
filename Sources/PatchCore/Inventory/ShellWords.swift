/// Python's `shlex.split(text, comments:, posix: True)`, which Ansible applies to INI host lines
/// and to `ansible_ssh_common_args`: POSIX quoting (`'…'` literal, `"…"` with `\"` and `\\`,
/// `\x` outside quotes), whitespace between words, and with `comments` a `#` outside quotes
/// ends the line, even in the middle of a word, as shlex does.
enum ShellWords {
    struct Word: Equatable {
        var text: String
        /// 0-based offset, in Unicode scalars, of the word's first character in the input.
        var offset: Int
    }

    struct Problem: Error, Equatable {
        var message: String
    }

    static func split(_ text: String, comments: Bool = false) throws(Problem) -> [Word] {
        let scalars = Array(text.unicodeScalars)
        var words: [Word] = []
        var current = String.UnicodeScalarView()
        var start: Int?
        var index = 0

        func finish() {
            if let begun = start { words.append(Word(text: String(current), offset: begun)) }
            current = String.UnicodeScalarView()
            start = nil
        }

        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case " ", "\t", "\r", "\n":
                finish()
            case "#" where comments:
                finish()
                return words
            case "\\":
                if start == nil { start = index }
                guard index + 1 < scalars.count else { throw Problem(message: "no escaped character after '\\' at the end") }
                index += 1
                current.append(scalars[index])
            case "'":
                if start == nil { start = index }
                guard let close = scalars[(index + 1)...].firstIndex(of: "'") else {
                    throw Problem(message: "no closing quotation (') for the quote at column \(index + 1)")
                }
                current.append(contentsOf: scalars[(index + 1)..<close])
                index = close
            case "\"":
                if start == nil { start = index }
                let opening = index
                index += 1
                var closed = false
                while index < scalars.count {
                    let inner = scalars[index]
                    if inner == "\"" { closed = true; break }
                    // Inside double quotes a backslash escapes only `"` and `\`, as in shlex.
                    if inner == "\\", index + 1 < scalars.count, scalars[index + 1] == "\"" || scalars[index + 1] == "\\" {
                        index += 1
                        current.append(scalars[index])
                    } else {
                        current.append(inner)
                    }
                    index += 1
                }
                guard closed else { throw Problem(message: "no closing quotation (\") for the quote at column \(opening + 1)") }
            default:
                if start == nil { start = index }
                current.append(scalar)
            }
            index += 1
        }
        finish()
        return words
    }
}
