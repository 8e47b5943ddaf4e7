import Foundation

/// Which hosts a report from history covers: an inventory's hosts, or without one every host
/// history knows, as one ungrouped inventory so that `--limit` still reads Ansible patterns.
public enum ReportScope {
    /// The inventory at `path`, or one made of `known` (all in `ungrouped`).
    public static func inventory(path: String?, known: [String], environment: [String: String]) throws -> Inventory {
        if let path { return try Inventory.load(path: path, environment: environment) }
        return Inventory(
            hosts: known.map { Host(name: $0, groups: ["all", "ungrouped"]) },
            groups: ["all": Inventory.Group(name: "all", children: ["ungrouped"]), "ungrouped": Inventory.Group(name: "ungrouped", hosts: known)])
    }

    /// The names `limit` selects of the scope; nil when neither narrows anything (every host).
    public static func names(inventory path: String?, limit: String?, known: [String], environment: [String: String],
                             currentDirectory: String = FileManager.default.currentDirectoryPath) throws -> Set<String>? {
        guard path != nil || limit != nil else { return nil }
        let inventory = try inventory(path: path, known: known, environment: environment)
        return Set(try inventory.select(limit, currentDirectory: currentDirectory).map(\.name))
    }
}
