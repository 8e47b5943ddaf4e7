/// Reading `quser` (query user) output.
extension WindowsPlatform {
    /// ```
    ///  USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME
    /// >administrator         rdp-tcp#2           1  Active          .  3/25/2021 9:27 AM
    ///  ben bolen                                 2  Disc      1+00:53  9/16/2026 9:33 AM
    /// ```
    /// Fixed-width columns: the user name (up to 20 characters, spaces allowed) runs from column 1
    /// to where the header's second word starts; `>` in column 0 marks the caller's own session.
    /// A disconnected session has no session name, so the rest is read as tokens: a leading number
    /// is the session id. The header is the first line, whatever its language: only its word
    /// positions are used. Disconnected sessions count as logged in (their programs die on a
    /// reboot); their terminal reads `session N (Disc)`. "No User exists for *" gives no users.
    static func parseQuser(_ output: String) -> [LoggedInUser] {
        let lines = PowerShell.normalizedLines(output).split(separator: "\n").map(String.init).filter { !$0.trimmed.isEmpty }
        var users: [LoggedInUser] = []
        var sessionColumn: Int?
        for (index, line) in lines.enumerated() {
            if line.hasPrefix("console-user\t") {
                users.append(LoggedInUser(user: String(line.dropFirst(13)).trimmed, terminal: "console"))
                continue
            }
            if line.contains("No User exists for") { continue }
            let characters = Array(line)
            if index == 0 || sessionColumn == nil {
                // The header: the second word's start is the session column.
                if let start = Self.wordStarts(characters).dropFirst().first, !line.hasPrefix(">") {
                    sessionColumn = start
                    continue
                }
            }
            let column = sessionColumn ?? 23
            guard characters.count > column else { continue }
            let user = String(characters[1..<column]).trimmed
            let tokens = String(characters[column...]).split(separator: " ").map(String.init)
            guard !user.isEmpty, let first = tokens.first else { continue }
            let terminal: String
            if first.allSatisfy(\.isNumber) {
                terminal = "session \(first) (\(tokens.count > 1 ? tokens[1] : "?"))"
            } else {
                terminal = first
            }
            users.append(LoggedInUser(user: user, terminal: terminal))
        }
        return users
    }

    /// Indices where a word starts (a non-space after a space, or at the start).
    static func wordStarts(_ characters: [Character]) -> [Int] {
        var starts: [Int] = []
        for (index, character) in characters.enumerated() where character != " " && character != ">" {
            if index == 0 || characters[index - 1] == " " || characters[index - 1] == ">" { starts.append(index) }
        }
        return starts
    }
}
