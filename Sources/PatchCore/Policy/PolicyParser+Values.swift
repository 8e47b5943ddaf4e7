import Foundation
import Yams

extension PolicyParser {
    /// A map's entries by key, after the keys were checked against the allowed ones.
    struct Fields {
        let node: Node
        /// "the policy", "'select'", "ring 2"... for messages.
        let owner: String
        var entries: [String: (key: Node, value: Node)] = [:]

        func key(_ name: String) -> Node? { entries[name]?.key }

        /// The value written for `name`; nil when absent or null (`key:` with nothing after it),
        /// which every optional key treats as "use the default".
        func value(_ name: String) -> Node? {
            guard let value = entries[name]?.value, !YAMLNodes.isNull(value) else { return nil }
            return value
        }
    }

    /// Reads a map, refusing keys that are not names or not in `allowed` (with a suggestion for
    /// a likely typo). Later entries win, so a merge key (`<<: *defaults`) can be overridden.
    func fields(of node: Node, in owner: String, allowed: [String]) throws(PatchError) -> Fields {
        var strict: [PatchError]? = nil
        return try fields(of: node, in: owner, allowed: allowed, collecting: &strict)
    }

    /// As `fields(of:in:allowed:)`, noting unknown keys in `unknown` and going on without them.
    func fields(of node: Node, in owner: String, allowed: [String], unknown: inout [PatchError]) throws(PatchError) -> Fields {
        var collected: [PatchError]? = unknown
        defer { unknown = collected ?? [] }
        return try fields(of: node, in: owner, allowed: allowed, collecting: &collected)
    }

    private func fields(of node: Node, in owner: String, allowed: [String], collecting: inout [PatchError]?) throws(PatchError) -> Fields {
        var fields = Fields(node: node, owner: owner)
        guard case let .mapping(mapping) = node else { return fields }
        for (key, value) in YAMLNodes.entries(of: mapping) {
            guard case let .scalar(scalar) = key, YAMLNodes.tag(of: key) != .null,
                  !scalar.string.trimmingCharacters(in: .whitespaces).isEmpty
            else {
                throw failure(at: key, "expected a key name in \(owner), found \(YAMLNodes.kind(of: key))")
            }
            let name = scalar.string
            guard allowed.contains(name) else {
                var message = "unknown key '\(name)' in \(owner)"
                if let suggestion = EditDistance.closest(to: name.lowercased(), in: allowed, maxDistance: 3) {
                    message += " (did you mean '\(suggestion)'?)"
                } else {
                    message += ": valid keys are \(Self.listing(allowed, "and"))"
                }
                if collecting != nil {
                    collecting?.append(failure(at: key, message))
                    continue
                }
                throw failure(at: key, message)
            }
            fields.entries[name] = (key, value)
        }
        return fields
    }

    /// The value of a required key, null included (the caller says why null is wrong).
    func required(_ fields: Fields, _ name: String, hint: String) throws(PatchError) -> Node {
        if let value = fields.entries[name]?.value { return value }
        throw failure(at: fields.node, "missing required key '\(name)' in \(fields.owner): \(hint)")
    }

    // MARK: Scalars

    /// A scalar's text. Numbers are accepted as written (a group may be called 2026); booleans
    /// are refused because YAML turns `yes`/`no`/`on`/`off` into them, which is rarely meant.
    func string(_ node: Node, label: String) throws(PatchError) -> String {
        guard case let .scalar(scalar) = node, YAMLNodes.tag(of: node) != .null else {
            throw failure(at: node, "'\(label)' must be a string, found \(YAMLNodes.kind(of: node))")
        }
        if YAMLNodes.tag(of: node) == .bool {
            throw failure(at: node, "'\(label)' must be a string, found \(YAMLNodes.kind(of: node)) (quote it: \"\(scalar.string)\")")
        }
        return scalar.string
    }

    func nonEmptyString(_ node: Node, label: String) throws(PatchError) -> String {
        if YAMLNodes.isNull(node) { throw failure(at: node, "'\(label)' must not be empty") }
        let text = try string(node, label: label)
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw failure(at: node, "'\(label)' must not be empty")
        }
        return text
    }

    /// A list of strings, or one string standing for a list of one; absent is empty.
    func strings(_ node: Node?, label: String) throws(PatchError) -> [(text: String, node: Node)] {
        guard let node else { return [] }
        switch node {
        case .scalar:
            return [(try string(node, label: label), node)]
        case let .sequence(sequence):
            var items: [(text: String, node: Node)] = []
            for item in sequence { items.append((try string(item, label: "each entry of '\(label)'"), item)) }
            return items
        default:
            throw failure(at: node, "'\(label)' must be a list of strings, found \(YAMLNodes.kind(of: node))")
        }
    }

    func bool(_ node: Node, label: String) throws(PatchError) -> Bool {
        guard YAMLNodes.tag(of: node) == .bool, let value = node.bool else {
            throw failure(at: node, "'\(label)' must be true or false, found \(YAMLNodes.kind(of: node))")
        }
        return value
    }

    func integer(_ node: Node, label: String) throws(PatchError) -> Int {
        guard YAMLNodes.tag(of: node) == .int, let value = node.int else {
            throw failure(at: node, "'\(label)' must be a whole number, found \(YAMLNodes.kind(of: node))")
        }
        return value
    }

    /// A whole number within its documented range (docs/policies.md "Ranges of numbers"). A number too
    /// large for 64 bits is out of range too, not "not a number".
    func integer(_ node: Node, label: String, in range: ClosedRange<Int>) throws(PatchError) -> Int {
        let problem = "'\(label)' must be a whole number from \(range.lowerBound) to \(range.upperBound), found \(YAMLNodes.kind(of: node))"
        guard YAMLNodes.tag(of: node) == .int else { throw failure(at: node, problem) }
        guard let value = node.int, range.contains(value) else { throw failure(at: node, problem) }
        return value
    }

    /// Seconds from a `PolicyDuration` text, within `range`; the written text is used, so YAML's
    /// base-60 reading of `1:30` does not sneak through as 90 seconds.
    func duration(_ node: Node, label: String, in range: ClosedRange<Double>) throws(PatchError) -> Double {
        let problem = "invalid duration for '\(label)': use a number of seconds or units such as 90s, 30m, 24h, 2d, 1w, 1h30m; found \(YAMLNodes.kind(of: node))"
        guard case let .scalar(scalar) = node, YAMLNodes.tag(of: node) != .bool else { throw failure(at: node, problem) }
        let bounds = "from \(Self.describe(range.lowerBound)) to \(Self.describe(range.upperBound))"
        guard let seconds = PolicyDuration.parse(scalar.string) else {
            // Digits and units that only fail for being huge are a range problem.
            if PolicyDuration.isWellFormed(scalar.string) {
                throw failure(at: node, "'\(label)' must be \(bounds), found '\(scalar.string)'")
            }
            throw failure(at: node, problem)
        }
        guard range.contains(seconds) else {
            throw failure(at: node, "'\(label)' must be \(bounds), found '\(scalar.string)'")
        }
        return seconds
    }

    /// One of an enum's raw values (case-insensitive), with the valid ones listed otherwise.
    func choice<Value: RawRepresentable & CaseIterable>(
        _ node: Node, label: String, what: String, alternative: String? = nil
    ) throws(PatchError) -> Value where Value.RawValue == String {
        let valid = Value.allCases.map(\.rawValue)
        let expected = Self.listing(valid, "or") + (alternative.map { ", or \($0)" } ?? "")
        guard case let .scalar(scalar) = node, YAMLNodes.tag(of: node) == .str else {
            throw failure(at: node, "'\(label)' must be \(expected), found \(YAMLNodes.kind(of: node))")
        }
        let text = scalar.string.trimmingCharacters(in: .whitespaces)
        if let value = Value(rawValue: text.lowercased()) { return value }
        var message = "unknown \(what) '\(text)'"
        if let suggestion = EditDistance.closest(to: text.lowercased(), in: valid, maxDistance: 3) {
            message += " (did you mean '\(suggestion)'?)"
        }
        throw failure(at: node, message + ": expected \(expected)")
    }

    // MARK: Helpers

    /// A range bound as docs/policies.md writes it: whole days as `7d`, anything else as `90s`, `1h30m`.
    static func describe(_ seconds: Double) -> String {
        seconds >= 86_400 && seconds.truncatingRemainder(dividingBy: 86_400) == 0
            ? "\(Int(seconds / 86_400))d" : PolicyDuration.format(seconds)
    }

    /// "a, b or c".
    static func listing(_ items: [String], _ conjunction: String) -> String {
        guard let last = items.last else { return "" }
        guard items.count > 1 else { return last }
        return items.dropLast().joined(separator: ", ") + " \(conjunction) " + last
    }

    /// A plain decimal number ("10", "2.5"); nothing Double(_:) would also take (hex, "inf", "1e3").
    static func decimal(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let first = trimmed.first, first.isNumber,
              trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") })
        else { return nil }
        return Double(trimmed)
    }

    /// `2026-12-01`, `2026-12-01T18:00` (a space instead of T too, seconds optional), with an
    /// optional `Z` or `+01:00` offset; without one the wall-clock time is read in `zone`. A
    /// date alone means its midnight.
    static func absoluteDate(_ text: String, in zone: TimeZone) -> Date? {
        let pattern = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?(Z|[+-]\d{2}:?\d{2})?$/
        guard let match = text.trimmingCharacters(in: .whitespaces).wholeMatch(of: pattern),
              let year = Int(match.1), let month = Int(match.2), let dayNumber = Int(match.3)
        else { return nil }
        let day = CivilDay(year: year, month: month, day: dayNumber)
        // Round-tripping through a day count rejects 2026-02-30 and month 13.
        guard (1...12).contains(month), CivilDay(daysSinceEpoch: day.daysSinceEpoch) == day else { return nil }
        let hour = match.4.flatMap { Int($0) } ?? 0
        let minute = match.5.flatMap { Int($0) } ?? 0
        let second = match.6.flatMap { Int($0) } ?? 0
        guard (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return nil }
        guard let offsetText = match.7 else {
            return day.instant(at: TimeOfDay(hour: hour, minute: minute), in: zone).addingTimeInterval(Double(second))
        }
        var offset = 0
        if offsetText != "Z" {
            let digits = offsetText.dropFirst().filter { $0 != ":" }
            guard let hours = Int(digits.prefix(2)), let minutes = Int(digits.suffix(2)), hours <= 18, minutes <= 59 else { return nil }
            offset = (hours * 3600 + minutes * 60) * (offsetText.hasPrefix("-") ? -1 : 1)
        }
        let local = day.daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: Double(local - offset))
    }
}
