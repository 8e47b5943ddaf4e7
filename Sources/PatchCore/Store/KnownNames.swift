import Foundation

/// What `defer` and `approve` check before recording a decision about a host or a package: that
/// it exists in the inventory or in history, with "did you mean" for a near miss. A decision
/// about a name nobody has is a typo that would otherwise sit in history, silently matching
/// nothing.
public enum KnownNames {
    /// `inventory`: the inventory the operator works with (nil: history alone decides).
    /// `force`: what the error says `--force` does.
    public static func checkHost(_ name: String, inventory: Inventory?, store: HistoryStore,
                                 force: String = "--force records it anyway (a host not scanned yet)") throws {
        if inventory?.host(named: name) != nil { return }
        if try store.hasHost(name) { return }
        let candidates = (inventory?.hosts.map(\.name) ?? []) + (try store.hostNames())
        var message = "unknown host '\(name)': " + (inventory == nil ? "history has never seen it" : "not in the inventory, and history has never seen it")
        if let suggestion = EditDistance.closest(to: name, in: candidates, maxDistance: 3) { message += " (did you mean '\(suggestion)'?)" }
        throw PatchError.deploy(message: message + "; " + force)
    }

    public static func checkPackage(_ name: String, version: String?, store: HistoryStore) throws {
        if try store.hasPackage(name, version: version) { return }
        var message: String
        if let version, try store.hasPackage(name, version: nil) {
            let seen = try store.availableVersions(of: name)
            message = "no scan found \(name)@\(version) pending" + (seen.isEmpty ? "" : " (seen: \(seen.prefix(5).joined(separator: ", ")))")
        } else {
            message = "no scan found a package named '\(name)' pending"
            if let suggestion = EditDistance.closest(to: name, in: try store.packageNames(), maxDistance: 3) { message += " (did you mean '\(suggestion)'?)" }
        }
        throw PatchError.deploy(message: message + "; --force records the decision anyway (a version not published yet)")
    }
}
