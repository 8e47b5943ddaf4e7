/// OpenSSH's `%` tokens. Unknown tokens are errors, as in OpenSSH.
enum SSHConfigTokens {
    static func expand(_ text: String, _ tokens: [Character: String]) -> Result<String, SSHConfigMessage> {
        guard text.contains("%") else { return .success(text) }
        var result = ""
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            guard character == "%" else { result.append(character); continue }
            guard let token = iterator.next() else { return .failure("'%' at the end of '\(text)'") }
            if token == "%" { result.append("%"); continue }
            guard let value = tokens[token] else { return .failure("unknown or unsupported token %\(token) in '\(text)'") }
            result += value
        }
        return .success(result)
    }

    /// `~` and `~/…` with the user's home (OpenSSH's tilde_expand_filename; `~user` is refused).
    static func expandTilde(_ path: String, home: String) -> Result<String, SSHConfigMessage> {
        if path == "~" { return .success(home) }
        if path.hasPrefix("~/") { return .success(home + path.dropFirst()) }
        if path.hasPrefix("~") { return .failure("'~user' paths are not supported: '\(path)'") }
        return .success(path)
    }
}
