import Foundation

/// One line of `patchctl hosts list`: a host history knows, when patchctl last reached it, and
/// whether it is retired (docs/schema/hosts-list.json). Every key is always present.
public struct KnownHost: Encodable, Sendable, Equatable {
    public var name: String
    /// The latest contact of any kind (scan, exec, deploy, dry run, install), successful or not.
    public var lastContact: Date?
    public var lastContactKind: RunKind?
    public var lastContactRun: String?
    /// That contact's outcome.
    public var status: HostStatus?
    /// The latest successful scan (one that recorded the host's pending updates).
    public var lastScan: Date?
    public var lastScanRun: String?
    /// The latest contact that succeeded, of any kind: the absent rule's clock.
    public var lastSuccess: Date?
    /// The retirement in force, if the host is retired.
    public var retirement: HostRetirement?
    /// When the last retirement of the host ended (unretired, or it reappeared): the absent rule's
    /// clock starts again there.
    public var lastReturn: Date?
    /// With `-i`: whether the inventories list it; nil without.
    public var inInventory: Bool?

    public var retired: Bool { retirement != nil }

    /// Since when the host has not been reached successfully, as the absent rule counts: its last
    /// success (or, never successful, its last contact), or its last return from retirement if later.
    public var absentSince: Date? {
        [lastSuccess ?? lastContact, lastReturn].compactMap { $0 }.max()
    }

    enum CodingKeys: String, CodingKey {
        case name
        case lastContact = "last_contact"
        case lastContactKind = "last_contact_kind"
        case lastContactRun = "last_contact_run"
        case status
        case lastScan = "last_scan"
        case lastScanRun = "last_scan_run"
        case lastSuccess = "last_success"
        case retired
        case retiredAt = "retired_at"
        case retiredBy = "retired_by"
        case retiredReason = "retired_reason"
        case retiredRule = "retired_rule"
        case inInventory = "in_inventory"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(lastContact, forKey: .lastContact)
        try c.encode(lastContactKind, forKey: .lastContactKind)
        try c.encode(lastContactRun, forKey: .lastContactRun)
        try c.encode(status, forKey: .status)
        try c.encode(lastScan, forKey: .lastScan)
        try c.encode(lastScanRun, forKey: .lastScanRun)
        try c.encode(lastSuccess, forKey: .lastSuccess)
        try c.encode(retired, forKey: .retired)
        try c.encode(retirement?.retiredAt, forKey: .retiredAt)
        try c.encode(retirement?.retiredBy, forKey: .retiredBy)
        try c.encode(retirement?.reason, forKey: .retiredReason)
        try c.encode(retirement?.rule, forKey: .retiredRule)
        try c.encode(inInventory, forKey: .inInventory)
    }
}

extension TableReport {
    /// `hosts list`: the INVENTORY column only when an inventory was given.
    public static func knownHosts(_ hosts: [KnownHost]) -> String {
        let withInventory = hosts.contains { $0.inInventory != nil }
        let rows = hosts.map { host -> [String] in
            var row = [host.name, host.lastContact.map(JSONOutput.timestamp) ?? "never",
                       host.status.map { "\($0.rawValue)\(host.lastContactKind.map { " (\($0.rawValue))" } ?? "")" } ?? "-",
                       host.lastScan.map(JSONOutput.timestamp) ?? "never"]
            if withInventory { row.append(host.inInventory == true ? "yes" : "no") }
            if let retirement = host.retirement {
                row += [JSONOutput.timestamp(retirement.retiredAt), "\(retirement.retiredBy)\(retirement.rule == .absent ? " (absent rule)" : "")",
                        retirement.reason ?? "-"]
            } else {
                row += ["-", "-", "-"]
            }
            return row
        }
        let header = ["HOST", "LAST CONTACT", "STATUS", "LAST SCAN"] + (withInventory ? ["INVENTORY"] : []) + ["RETIRED", "BY", "REASON"]
        let retired = hosts.filter(\.retired).count
        return render(header: header, rows: rows, rightAligned: [])
            + line("\(hosts.count) host\(hosts.count == 1 ? "" : "s"), \(retired) retired (out of reports' scope)\n")
    }
}
