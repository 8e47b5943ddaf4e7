import Foundation

/// The shell commands of the README's walkthrough: every fenced block whose info string is
/// `sh walkthrough`, one command per line. A line ending in `\` continues on the next; a
/// here-document (`<<'EOF'` … `EOF`) belongs to the command that opens it; blank lines and
/// comment lines are not commands. A command expects exit 0 unless its line says otherwise in a
/// trailing comment `# exit N`.
struct Walkthrough {
    struct Command: Equatable, CustomStringConvertible {
        var text: String
        var expectedStatus: Int32
        /// 1-based line of the README where the command starts.
        var line: Int

        var description: String { "README.md:\(line): \(text)" }
    }

    static let infoString = "sh walkthrough"

    static func commands(in markdown: String) -> [Command] {
        let lines = markdown.components(separatedBy: "\n")
        var commands: [Command] = []
        var inFence = false
        var inBlock = false
        var index = 0
        while index < lines.count {
            let line = lines[index]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            index += 1
            if trimmed.hasPrefix("```") {
                inBlock = !inFence && trimmed.dropFirst(3).trimmingCharacters(in: .whitespaces) == infoString
                inFence.toggle()
                continue
            }
            guard inBlock, !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            let start = index
            var text = line
            while text.hasSuffix("\\"), index < lines.count {
                text = String(text.dropLast()) + "\n" + lines[index]
                index += 1
            }
            if let terminator = hereDocumentTerminator(text) {
                while index < lines.count {
                    let body = lines[index]
                    index += 1
                    text += "\n" + body
                    if body == terminator { break }
                }
            }
            commands.append(Command(text: text, expectedStatus: expectedStatus(text), line: start))
        }
        return commands
    }

    /// `cat > f <<'EOF'` → `EOF`.
    static func hereDocumentTerminator(_ command: String) -> String? {
        guard let range = command.range(of: #"<<-?\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?"#, options: .regularExpression) else { return nil }
        return String(command[range]).trimmingCharacters(in: CharacterSet(charactersIn: "<-'\" "))
    }

    /// `# exit N` at the end of the command's first line, else 0.
    static func expectedStatus(_ command: String) -> Int32 {
        let first = command.components(separatedBy: "\n")[0]
        guard let range = first.range(of: #"#\s*exit\s+([0-9]+)\s*$"#, options: .regularExpression) else { return 0 }
        return Int32(first[range].split(separator: " ").last.map(String.init) ?? "0") ?? 0
    }
}
