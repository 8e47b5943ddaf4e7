import Foundation

/// Takes out of a recorded output what identifies the host it came from, before the output
/// becomes a fixture anyone can read: the host's names, the login user, every IPv4 and IPv6
/// address but loopback, and MAC addresses. Pure: the same texts and identity give the same
/// result, and one scrubber maps a value the same way in every text it is given.
public struct FixtureScrubber: Sendable {
    /// The host's own names (short and fully qualified, as the host says them) and the name the
    /// user connected to; an IP address here is left to the address rules.
    public var names: [String]
    /// Login names to replace with `user`. Accounts that exist on every system of their kind
    /// (`root`, `Administrator`, `SYSTEM`) identify no one and are kept: replacing them would
    /// falsify paths such as `/root` that the output may print.
    public var users: [String]
    /// Texts that are never replaced, however they look: the versions patchctl read from the
    /// output (Defender's `1.443.681.0` has the shape of an IPv4 address and is not one).
    public var keep: Set<String>

    public init(names: [String], users: [String], keep: Set<String> = []) {
        self.names = names
        self.users = users
        self.keep = keep
    }

    /// What was replaced, counted per kind (occurrences), for the fixture's SOURCE.md.
    public struct Report: Sendable, Equatable {
        public var names = 0
        public var users = 0
        public var ipv4 = 0
        public var ipv6 = 0
        public var macs = 0
        /// Distinct addresses replaced, IPv4 and IPv6.
        public var distinctAddresses = 0

        public init() {}
        public var total: Int { names + users + ipv4 + ipv6 + macs }
    }

    public static let systemAccounts: Set<String> = ["root", "administrator", "system"]

    /// The texts scrubbed with one consistent mapping (the first address met becomes 192.0.2.1 in
    /// every text), and what was replaced.
    public func scrub(_ texts: [String]) -> (texts: [String], report: Report) {
        var state = Mapping()
        var report = Report()
        let out = texts.map { scrub($0, state: &state, report: &report) }
        report.distinctAddresses = state.ipv4.count + state.ipv6.count
        return (out, report)
    }

    // MARK: - Matching

    private enum Kind { case name, domain, user, ipv4, ipv6, mac }

    private struct Mapping {
        var ipv4: [String: String] = [:]
        var ipv6: [String: String] = [:]
        var macs: [String: String] = [:]
        var labels: [String: Int] = [:]
    }

    /// Characters a host or user name is made of: a match must not continue into more of them
    /// (`vm` is not replaced inside `open-vm-tools`).
    private static let nameCharacters = "A-Za-z0-9_\\-"

    private static let ipv4Pattern = try! NSRegularExpression(pattern:
        #"(?<![0-9.])(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?![0-9]|\.[0-9])"#)
    /// Candidates only: each is confirmed by `inet_pton` (`10:30:00` and `std::vector` are not addresses).
    private static let ipv6Pattern = try! NSRegularExpression(pattern:
        #"(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3}|[0-9A-Fa-f]{0,4})(?![0-9A-Za-z:])"#)
    private static let macPattern = try! NSRegularExpression(pattern:
        #"(?<![0-9A-Fa-f:-])[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:-])"#)

    /// `values` as whole words: a dot may follow (end of a sentence, or the rest of a domain); one
    /// may precede only a domain (`mirror.corp.example.org` names the host's domain, not the host).
    private func namesPattern(_ values: [String], dotBefore: Bool = false) -> NSRegularExpression? {
        let distinct = Set(values.filter { !$0.isEmpty }.map { $0.lowercased() }).sorted { $0.count > $1.count }
        guard !distinct.isEmpty else { return nil }
        let alternation = distinct.map { NSRegularExpression.escapedPattern(for: $0) }.joined(separator: "|")
        let before = Self.nameCharacters + (dotBefore ? "" : ".")
        return try? NSRegularExpression(
            pattern: "(?<![\(before)])(?:\(alternation))(?![\(Self.nameCharacters)])", options: [.caseInsensitive])
    }

    /// The host's names, never an IP address.
    private var hostNames: [String] {
        names.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty && !Self.isIPAddress($0) }
    }

    /// The domains of the host's names (`corp.example.org` of `vm.corp.example.org`), when they have
    /// two labels or more (`localdomain` names no one).
    private var domains: [String] {
        hostNames.compactMap { name in
            guard let dot = name.firstIndex(of: ".") else { return nil }
            let domain = String(name[name.index(after: dot)...])
            return domain.contains(".") ? domain : nil
        }
    }

    private func scrub(_ text: String, state: inout Mapping, report: inout Report) -> String {
        let ns = text as NSString
        let whole = NSRange(location: 0, length: ns.length)
        var matches: [(range: NSRange, kind: Kind)] = []
        if let pattern = namesPattern(hostNames) {
            matches += pattern.matches(in: text, range: whole).map { ($0.range, .name) }
        }
        if let pattern = namesPattern(domains, dotBefore: true) {
            matches += pattern.matches(in: text, range: whole).map { ($0.range, .domain) }
        }
        let people = users.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !Self.systemAccounts.contains($0.lowercased()) }
        if let pattern = namesPattern(people) {
            matches += pattern.matches(in: text, range: whole).map { ($0.range, .user) }
        }
        matches += Self.ipv4Pattern.matches(in: text, range: whole).map { ($0.range, .ipv4) }
        matches += Self.ipv6Pattern.matches(in: text, range: whole).map { ($0.range, .ipv6) }
        matches += Self.macPattern.matches(in: text, range: whole).map { ($0.range, .mac) }
        // Earliest first, the longest of those starting together (a name before a user it contains).
        matches.sort { $0.range.location != $1.range.location ? $0.range.location < $1.range.location : $0.range.length > $1.range.length }

        var result = ""
        var cursor = 0
        for (range, kind) in matches where range.location >= cursor {
            let original = ns.substring(with: range)
            guard !isKept(range, in: ns), let replacement = replacement(for: original, kind: kind, state: &state) else { continue }
            result += ns.substring(with: NSRange(location: cursor, length: range.location - cursor)) + replacement
            cursor = range.location + range.length
            switch kind {
            case .name, .domain: report.names += 1
            case .user: report.users += 1
            case .ipv4: report.ipv4 += 1
            case .ipv6: report.ipv6 += 1
            case .mac: report.macs += 1
            }
        }
        return result + ns.substring(from: cursor)
    }

    /// Whether the match lies inside an occurrence of a kept text (`2.0.0.6` in the title `JBL Driver
    /// Update (2.0.0.6)`, in `1:2.3.4.5-1`).
    private func isKept(_ range: NSRange, in text: NSString) -> Bool {
        let matched = text.substring(with: range)
        for kept in keep where kept.contains(matched) {
            let length = (kept as NSString).length
            let start = max(0, range.location + range.length - length)
            let window = NSRange(location: start, length: min(text.length, range.location + length) - start)
            var found = text.range(of: kept, options: [.literal], range: window)
            while found.location != NSNotFound {
                if found.location <= range.location && found.location + found.length >= range.location + range.length { return true }
                let next = found.location + 1
                guard next < window.location + window.length else { break }
                found = text.range(of: kept, options: [.literal], range: NSRange(location: next, length: window.location + window.length - next))
            }
        }
        return false
    }

    private func replacement(for original: String, kind: Kind, state: inout Mapping) -> String? {
        switch kind {
        case .domain:
            return "example.com"
        case .name:
            let lower = original.lowercased()
            // The short and the qualified name of one host get one number.
            let label = String(lower.split(separator: ".").first ?? Substring(lower))
            let number = state.labels[label] ?? { state.labels[label] = state.labels.count + 1; return state.labels.count }()
            return lower.contains(".") ? "host-\(number).example.com" : "host-\(number)"
        case .user:
            return "user"
        case .ipv4:
            guard Self.isScrubbedIPv4(original) else { return nil }
            if let mapped = state.ipv4[original] { return mapped }
            let mapped = Self.documentationIPv4(state.ipv4.count)
            state.ipv4[original] = mapped
            return mapped
        case .ipv6:
            guard let bytes = Self.ipv6Bytes(original), Self.isScrubbedIPv6(bytes) else { return nil }
            let key = bytes.map { String($0) }.joined(separator: ".")
            if let mapped = state.ipv6[key] { return mapped }
            let mapped = "2001:db8::" + String(state.ipv6.count + 1, radix: 16)
            state.ipv6[key] = mapped
            return mapped
        case .mac:
            let key = original.lowercased().replacingOccurrences(of: "-", with: ":")
            if key == "00:00:00:00:00:00" || key == "ff:ff:ff:ff:ff:ff" { return nil }
            let mapped = state.macs[key] ?? {
                let value = "00:00:5e:00:53:" + String(format: "%02x", (state.macs.count + 1) % 256)
                state.macs[key] = value
                return value
            }()
            let separator = original.contains("-") ? "-" : ":"
            let styled = mapped.replacingOccurrences(of: ":", with: separator)
            return original.contains(where: \.isUppercase) ? styled.uppercased() : styled
        }
    }

    // MARK: - Addresses

    static func isIPAddress(_ text: String) -> Bool {
        ipv4Octets(text) != nil || ipv6Bytes(text) != nil
    }

    static func ipv4Octets(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let octets = parts.compactMap { Int($0) }.filter { (0...255).contains($0) }
        return octets.count == 4 ? octets : nil
    }

    /// Every address but loopback (127/8), `0.0.0.0/8`, broadcast and netmasks (which name no
    /// host), and the documentation ranges themselves (so a replacement never collides with one).
    static func isScrubbedIPv4(_ text: String) -> Bool {
        guard let octets = ipv4Octets(text) else { return false }
        if octets[0] == 127 || octets[0] == 0 { return false }
        let masks: Set<Int> = [0, 128, 192, 224, 240, 248, 252, 254, 255]
        if octets[0] == 255 && octets.allSatisfy(masks.contains) { return false }
        let prefix = Array(octets.prefix(3))
        return prefix != [192, 0, 2] && prefix != [198, 51, 100] && prefix != [203, 0, 113]
    }

    /// 192.0.2.1…254, then 198.51.100.x, then 203.0.113.x (RFC 5737).
    static func documentationIPv4(_ index: Int) -> String {
        let networks = ["192.0.2.", "198.51.100.", "203.0.113."]
        return networks[(index / 254) % 3] + String(index % 254 + 1)
    }

    static func ipv6Bytes(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard text.contains(":"), inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    /// Every address but loopback (`::1`), the unspecified `::` and 2001:db8::/32 (documentation).
    static func isScrubbedIPv6(_ bytes: [UInt8]) -> Bool {
        if bytes.allSatisfy({ $0 == 0 }) { return false }
        if bytes.dropLast().allSatisfy({ $0 == 0 }) && bytes.last == 1 { return false }
        return !(bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8)
    }
}
