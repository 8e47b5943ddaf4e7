extension StringProtocol {
    /// Without leading and trailing spaces, tabs, CR and LF. Foundation's `trimmingCharacters`
    /// bridges through NSString on Linux and showed up in profiles of large scans.
    var trimmed: String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(self[first...last])
    }
}
