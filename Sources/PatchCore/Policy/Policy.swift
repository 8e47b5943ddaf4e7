/// A deploy policy: which hosts, which updates, when, in which rings, with what approval and
/// reboot behaviour. Loaded from YAML (`Policy+Loading.swift`); every value is validated there,
/// so code using a `Policy` can trust it.
public struct Policy: Sendable, Equatable {
    public var name: String
    /// The path it was loaded from; "" when parsed from a string.
    public var file: String
    /// Host pattern (a YAML list of patterns is joined with ":", i.e. their union).
    public var targets: String
    public var selection: UpdateSelection
    /// nil: any time.
    public var window: MaintenanceWindow?
    /// Never empty: without `rings:` one ring named "all" with no targets of its own.
    public var rings: [Ring]
    public var approval: ApprovalMode
    public var reboot: RebootPolicy
    /// nil: logged-in users cannot postpone.
    public var deferment: Deferment?
    /// Shell commands run on each host before installing.
    public var pre: [String]
    /// Shell commands run on each host after installing.
    public var post: [String]
    /// Refresh package metadata before the plan's scan.
    public var refresh: Bool
    /// Seconds the package operation may take on one host.
    public var installTimeout: Double
    /// Seconds a host may take to come back after a reboot.
    public var rebootTimeout: Double
    /// Software to install on every host, in order (`install: [acme-agent, firefox@128.0]`): from
    /// the package library when it holds the name, else by name from the host's package manager.
    public var install: [BundleItem]
    /// The first (test) ring may install library packages still pending approval.
    public var testRingInstallsPending: Bool
    /// Windows hosts whose OpenSSH cannot be reached are tried over WinRM.
    public var winrmFallback: Bool
    /// Who hears of each deployment of this policy, and on which outcomes (`notify:`).
    public var notify: [Notifier] = []

    /// One entry of `install:`: a name, optionally pinned to a version.
    public struct BundleItem: Sendable, Equatable {
        public var name: String
        public var version: String?
        public init(name: String, version: String? = nil) {
            self.name = name
            self.version = version
        }
        public var reference: String { version.map { "\(name)@\($0)" } ?? name }
    }

    public static let defaultInstallTimeout = 3600.0
    public static let defaultRebootTimeout = 900.0
    /// Documented ranges (docs/policies.md "Ranges of numbers"), in seconds.
    public static let installTimeoutRange: ClosedRange<Double> = 1...(7 * 86_400)
    public static let rebootTimeoutRange: ClosedRange<Double> = 1...86_400

    public init(name: String, file: String = "", targets: String, selection: UpdateSelection = UpdateSelection(),
                window: MaintenanceWindow? = nil, rings: [Ring] = [Ring(name: "all")], approval: ApprovalMode = .auto,
                reboot: RebootPolicy = RebootPolicy(), deferment: Deferment? = nil, pre: [String] = [],
                post: [String] = [], refresh: Bool = true, installTimeout: Double = Policy.defaultInstallTimeout,
                rebootTimeout: Double = Policy.defaultRebootTimeout, install: [BundleItem] = [], testRingInstallsPending: Bool = false, winrmFallback: Bool = false) {
        self.name = name
        self.file = file
        self.targets = targets
        self.selection = selection
        self.window = window
        self.rings = rings.isEmpty ? [Ring(name: "all")] : rings
        self.approval = approval
        self.reboot = reboot
        self.deferment = deferment
        self.pre = pre
        self.post = post
        self.refresh = refresh
        self.installTimeout = installTimeout
        self.rebootTimeout = rebootTimeout
        self.install = install
        self.testRingInstallsPending = testRingInstallsPending
        self.winrmFallback = winrmFallback
    }
}
