import Foundation

/// What history holds about each host up to a moment, in the shape reports reason about: every
/// contact (scan, deployment, dry run) with what it learned about pending updates, and every
/// package a deployment installed. Loaded by `HistoryStore.reportHistory(upTo:)`.
public struct ReportHistory: Sendable {
    /// One pending update as some run saw it.
    public struct Update: Sendable, Equatable {
        public var package: String
        public var installedVersion: String
        public var availableVersion: String
        public var source: String
        public var security: Bool
        /// The vendor's rating where the platform records one (apt: never).
        public var severity: String? {
            didSet { vendorRating = severity.flatMap(Severity.init(text:)) ?? .unknown }
        }
        /// `severity` on patchctl's scale, read once: reports rate each update on every trend day.
        private var vendorRating: Severity = .unknown
        /// The vendor's release date where the platform records one (apt: never).
        public var releasedAt: Date?
        /// The CVE ids the scan matched to it (advisory feeds, updateinfo, MSRC).
        public var cves: [String]
        /// The highest severity of those CVEs, nil when none is rated.
        public var cveSeverity: Severity?
        /// One of them is on CISA's KEV catalogue.
        public var kev: Bool = false
        /// With the name, a finding's identity (multi-arch hosts list libc6 once per architecture).
        public var architecture: String?

        public init(package: String, installedVersion: String, availableVersion: String, source: String, security: Bool,
                    severity: String? = nil, releasedAt: Date? = nil, cves: [String] = [], architecture: String? = nil) {
            self.package = package
            self.architecture = architecture
            self.installedVersion = installedVersion
            self.availableVersion = availableVersion
            self.source = source
            self.security = security
            self.severity = severity
            vendorRating = severity.flatMap(Severity.init(text:)) ?? .unknown
            self.releasedAt = releasedAt
            self.cves = cves
        }

        /// patchctl's one scale: the higher of the vendor's word and the CVEs' severities; `unknown` when neither rates it.
        public var normalizedSeverity: Severity {
            max(vendorRating, cveSeverity ?? .unknown)
        }
    }

    /// A deployment's outcome on one host.
    public struct DeployJob: Sendable, Equatable {
        public var ring: String
        public var planned: Int
        public var installed: Int
        public var failed: Int
    }

    /// One contact with one host.
    public struct Observation: Sendable, Equatable {
        public var runId: String
        /// `scan`, `deploy` or `plan` (a dry run, which scans too).
        public var kind: RunKind
        public var policy: String?
        public var startedAt: Date
        /// When the host finished: the moment its facts are true for.
        public var at: Date
        public var status: HostStatus
        public var error: String?
        /// The platform's facts. Kept in a shared box: a month of 10,000 hosts is 300,000 contacts, each
        /// host's with the same facts, and the facts inline are most of a contact's size.
        public var os: OSInfo? {
            get { osBox?.value }
            set { osBox = newValue.map(Box.init) }
        }
        private(set) var osBox: Box<OSInfo>?
        public var rebootRequired: Bool?
        /// What was still pending when the host finished; nil when the run learned nothing
        /// about packages (unreachable, or a deployment that failed before its scan).
        public var pending: Updates?
        /// Everything the run's scan listed (a deployment: before installing), for "first seen".
        public var seen: Updates
        /// Boxed as `os` is: most contacts are scans, which have none.
        public var deployment: DeployJob? {
            get { deploymentBox?.value }
            set { deploymentBox = newValue.map(Box.init) }
        }
        private var deploymentBox: Box<DeployJob>?
        /// A successful scan's place in its host's sequence (`scan_seq`): which intervals it saw.
        var scanSeq: Int64?

        public init(runId: String, kind: RunKind, policy: String? = nil, startedAt: Date, at: Date, status: HostStatus, error: String? = nil,
                    os: OSInfo? = nil, rebootRequired: Bool? = nil, pending: Updates? = nil, seen: Updates, deployment: DeployJob? = nil) {
            self.init(runId: runId, kind: kind, policy: policy, startedAt: startedAt, at: at, status: status, error: error, osBox: os.map(Box.init),
                      rebootRequired: rebootRequired, pending: pending, seen: seen, deployment: deployment)
        }

        /// The same, with facts already boxed: a host's contacts share one box.
        init(runId: String, kind: RunKind, policy: String?, startedAt: Date, at: Date, status: HostStatus, error: String?,
             osBox: Box<OSInfo>?, rebootRequired: Bool?, pending: Updates?, seen: Updates, deployment: DeployJob?, scanSeq: Int64? = nil) {
            self.scanSeq = scanSeq
            self.runId = runId
            self.kind = kind
            self.policy = policy
            self.startedAt = startedAt
            self.at = at
            self.status = status
            self.error = error
            self.osBox = osBox
            self.rebootRequired = rebootRequired
            self.pending = pending
            self.seen = seen
            deploymentBox = deployment.map(Box.init)
        }

        /// The run established the host's package state: a successful scan for compliance.
        public var isScan: Bool { pending != nil }
        /// What a contact says before its details are read: it learned the host's packages (an ok
        /// scan, or a deployment or dry run that parsed its scan; the test `apply` makes on the document).
        var learnedPackages: Bool { kind == .scan ? status == .ok : (os != nil && rebootRequired != nil) }
    }

    /// A package a deployment installed (from `deploy_packages`, outcome `installed`).
    public struct Install: Sendable, Equatable {
        public var runId: String
        public var policy: String?
        public var host: String
        public var package: String
        public var version: String
        public var at: Date
    }

    /// When a scan first listed a version pending on a host.
    public struct Sighting: Sendable, Equatable {
        public var at: Date
        public var runId: String
        public var security: Bool
    }

    /// Per host, oldest first. Contacts before the detail window carry no `pending` or `seen`.
    public var observations: [String: [Observation]]
    public var installs: [Install]
    /// A package version, the key of a host's first sightings: two strings a report already holds
    /// (interned), not a third made of them for each of the hundreds of thousands it keeps and looks up.
    public struct VersionKey: Hashable, Sendable {
        public var package: String
        public var version: String

        public init(_ package: String, _ version: String) {
            self.package = package
            self.version = version
        }
    }

    /// host → package version → the first scan that listed it, over all history.
    public var firstSeen: [String: [VersionKey: Sighting]]

    public init(observations: [String: [Observation]], installs: [Install], firstSeen: [String: [VersionKey: Sighting]] = [:]) {
        self.observations = observations
        self.installs = installs
        self.firstSeen = firstSeen
    }

    public var hostNames: [String] { observations.keys.sorted() }
}

extension ReportHistory {
    /// An immutable value shared by reference; equal when the values are.
    final class Box<Value: Equatable & Sendable>: Equatable, Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
        static func == (left: Box, right: Box) -> Bool { left === right || left.value == right.value }
    }

    /// A contact's updates. Nightly scans of a host list mostly the same findings, so the scans a
    /// report reads share one table of their host's intervals and each keeps only indices into it:
    /// a month of 1,000 hosts is 30,000 lists of ~20 updates, not 600,000 copies of them.
    public struct Updates: RandomAccessCollection, Equatable, Sendable, ExpressibleByArrayLiteral {
        /// Immutable once made, shared by every list of one host.
        final class Table: Sendable {
            let updates: [Update]
            init(_ updates: [Update]) { self.updates = updates }
        }

        let table: Table
        /// Ascending: the lists are made in the table's order (`notShared` relies on it).
        let positions: [UInt32]

        /// `positions` index `table`, in the list's order.
        init(table: Table, positions: [UInt32]) {
            self.table = table
            self.positions = positions
        }

        public init(_ updates: [Update]) {
            self.init(table: Table(updates), positions: (0..<UInt32(updates.count)).map { $0 })
        }

        public init(arrayLiteral updates: Update...) { self.init(updates) }

        public var startIndex: Int { 0 }
        public var endIndex: Int { positions.count }
        public subscript(position: Int) -> Update { table.updates[Int(positions[position])] }

        public static func == (left: Updates, right: Updates) -> Bool { left.elementsEqual(right) }

        /// The updates of this list that `other` does not hold from the same table (all of them when the
        /// two lists were not read from one host's intervals): what may have changed between two scans.
        func notShared(with other: Updates) -> [Update] {
            guard table === other.table else { return Array(self) }
            if positions == other.positions { return [] }
            // Both ascend: one merge, no set (a trend compares every host's consecutive scans).
            var result: [Update] = []
            var theirs = other.positions.startIndex
            for position in positions {
                while theirs < other.positions.endIndex, other.positions[theirs] < position { theirs += 1 }
                if theirs < other.positions.endIndex, other.positions[theirs] == position { continue }
                result.append(table.updates[Int(position)])
            }
            return result
        }
    }
}

extension ReportHistory.Update {
    /// (package, architecture), as history keys findings (migration v8).
    var identity: String { package + "\u{0}" + (architecture ?? "") }
}
