import Foundation
import Yams

extension PolicyParser {
    static let windowKeys = ["days", "patch_tuesday", "start", "end", "timezone"]
    static let patchTuesdayKeys = ["weekday", "nth", "offset_days"]
    static let everyDay: Set<String> = ["daily", "every day", "everyday"]

    func window(_ node: Node?) throws(PatchError) -> MaintenanceWindow? {
        guard let node else { return nil }
        guard case .mapping = node else {
            throw failure(at: node, "'window' must be a map with days or patch_tuesday, start, end and timezone, found \(YAMLNodes.kind(of: node))")
        }
        let fields = try fields(of: node, in: "'window'", allowed: Self.windowKeys)
        let schedule: MaintenanceWindow.Schedule
        switch (fields.entries["days"], fields.entries["patch_tuesday"]) {
        case let (days?, tuesday?):
            // Point at whichever was written second: that is the one to remove.
            let later = (days.key.mark?.line ?? 0) > (tuesday.key.mark?.line ?? 0) ? days.key : tuesday.key
            throw failure(at: later, "'window' takes either 'days' or 'patch_tuesday', not both")
        case let (days?, nil):
            schedule = .weekly(try weekdays(days.value))
        case let (nil, tuesday?):
            schedule = try patchTuesday(tuesday.value)
        case (nil, nil):
            throw failure(at: node, "'window' needs 'days' (e.g. [sat, sun] or daily) or 'patch_tuesday'")
        }
        let start = try time(try required(fields, "start", hint: "the time the window opens, e.g. \"02:00\""), label: "start")
        let end = try time(try required(fields, "end", hint: "the time the window closes, e.g. \"05:00\""), label: "end")
        var zone = Self.utc
        if let node = fields.value("timezone") { zone = try timeZone(node) }
        return MaintenanceWindow(schedule: schedule, start: start, end: end, timeZone: zone)
    }

    private func weekdays(_ node: Node) throws(PatchError) -> Set<Weekday> {
        let empty = "'days' must name at least one day, e.g. [sat, sun], or be daily"
        switch node {
        case .scalar where YAMLNodes.isNull(node):
            throw failure(at: node, empty)
        case let .scalar(scalar) where Self.everyDay.contains(scalar.string.lowercased()):
            return Set(Weekday.allCases)
        case .scalar:
            return [try weekday(node, label: "days")]
        case let .sequence(items):
            guard !items.isEmpty else { throw failure(at: node, empty) }
            var days = Set<Weekday>()
            for item in items { days.insert(try weekday(item, label: "days")) }
            return days
        default:
            throw failure(at: node, "'days' must be a list of weekdays such as [sat, sun], or daily; found \(YAMLNodes.kind(of: node))")
        }
    }

    private func weekday(_ node: Node, label: String) throws(PatchError) -> Weekday {
        let text = try string(node, label: label)
        if let day = Weekday(text: text) { return day }
        var message = "unknown weekday '\(text)'"
        let names = Weekday.allCases.map(\.name)
        if let suggestion = EditDistance.closest(to: text.lowercased(), in: names + names.map { String($0.prefix(3)) }, maxDistance: 2) {
            message += " (did you mean '\(suggestion)'?)"
        }
        throw failure(at: node, message + ": expected mon, tue, wed, thu, fri, sat, sun or full names")
    }

    /// `patch_tuesday:` alone (or `true`) is Patch Tuesday itself; a map picks a day relative to it.
    private func patchTuesday(_ node: Node) throws(PatchError) -> MaintenanceWindow.Schedule {
        if YAMLNodes.isNull(node) || (YAMLNodes.tag(of: node) == .bool && node.bool == true) {
            return .patchTuesday(weekday: nil, nth: 1, offsetDays: 0)
        }
        guard case .mapping = node else {
            throw failure(at: node, "'patch_tuesday' must be a map with \(Self.listing(Self.patchTuesdayKeys, "and")), found \(YAMLNodes.kind(of: node))")
        }
        let fields = try fields(of: node, in: "'patch_tuesday'", allowed: Self.patchTuesdayKeys)
        let weekday = try fields.value("weekday").map { node throws(PatchError) in try self.weekday(node, label: "weekday") }
        var nth = 1
        if let node = fields.value("nth") {
            nth = try integer(node, label: "nth", in: 1...5)
            guard weekday != nil else {
                throw failure(at: node, "'nth' needs a 'weekday' (the nth such day after Patch Tuesday); without one the window opens on Patch Tuesday itself plus offset_days")
            }
        }
        var offset = 0
        if let node = fields.value("offset_days") {
            offset = try integer(node, label: "offset_days", in: -31...31)
        }
        return .patchTuesday(weekday: weekday, nth: nth, offsetDays: offset)
    }

    /// The written text is used: YAML 1.1 reads an unquoted `22:00` as the base-60 number 1320.
    private func time(_ node: Node, label: String) throws(PatchError) -> TimeOfDay {
        guard case let .scalar(scalar) = node, !YAMLNodes.isNull(node), YAMLNodes.tag(of: node) != .bool else {
            throw failure(at: node, "'\(label)' must be a time such as \"02:00\", found \(YAMLNodes.kind(of: node))")
        }
        guard let time = TimeOfDay(text: scalar.string) else {
            throw failure(at: node, "invalid time '\(scalar.string)' for '\(label)': expected HH:MM on a 24-hour clock, 00:00 to 23:59")
        }
        return time
    }

    private func timeZone(_ node: Node) throws(PatchError) -> TimeZone {
        let name = try nonEmptyString(node, label: "timezone")
        if let zone = TimeZone(identifier: name) { return zone }
        var message = "unknown timezone '\(name)'"
        let known = TimeZone.knownTimeZoneIdentifiers
        let lowered = known.map { $0.lowercased() }
        if let suggestion = EditDistance.closest(to: name.lowercased(), in: lowered, maxDistance: 3),
           let index = lowered.firstIndex(of: suggestion) {
            message += " (did you mean '\(known[index])'?)"
        }
        throw failure(at: node, message + ": expected an IANA name such as Europe/Berlin, America/New_York or UTC")
    }
}
