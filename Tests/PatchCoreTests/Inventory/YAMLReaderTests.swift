import Foundation
import Testing
@testable import PatchCore

/// The bounded YAML reader shared by inventories, policies and compliance rule sets: alias
/// expansion, nesting, node counts and file size stop at documented limits with file:line.
@Suite("Bounded YAML reader")
struct YAMLReaderTests {
    /// Ten levels of ten-fold aliases: 10^10 nodes once expanded, 10 lines written.
    static func laughs(indent: String = "", levels: Int = 10) -> String {
        var lines = ["\(indent)a0: &a0 [x,x,x,x,x,x,x,x,x,x]"]
        for level in 1..<levels {
            lines.append("\(indent)a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",") + "]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func theIssuesTenLineInventoryIsRefusedWithItsLine() {
        // Exactly the file from the issue: the alias that crosses the limit is named.
        expectInventoryError(Self.laughs(), line: 7, column: 10, "alias '*a5' expands the file past 2000000 nodes")
    }

    @Test func exponentialAliasesInInventoryVariablesAreRefusedBeforeAnyWalk() {
        // Under vars the old loader walked every expanded node (vault check, value conversion).
        let yaml = "all:\n  hosts:\n    web1:\n  vars:\n" + Self.laughs(indent: "    ")
        expectInventoryError(yaml, line: 11, column: 14, "alias '*a5' expands the file past 2000000 nodes")
    }

    @Test func anAliasUsedAsAKeyIsBoundedBeforeYamsHashesIt() {
        // Yams' composer hashes every key to find duplicates: `? *a9` alone walked 10^10 nodes.
        let yaml = Self.laughs() + "? *a9\n: 1\n? *a8\n: 2\n"
        #expect(throws: YAMLReader.LimitExceeded(line: 7, column: 10, message:
            "alias '*a5' expands the file past 2000000 nodes: aliases nested in aliases multiply (a YAML 'billion laughs'); write the values out or use fewer levels of aliases")) {
            _ = try YAMLReader.compose(yaml)
        }
    }

    @Test func exponentialAliasesInAPolicyAreRefusedWithTheirLine() {
        var yaml = "name: p\ntargets: all\npre:\n  - &a0 [x,x,x,x,x,x,x,x,x,x]\n"
        for level in 1..<10 {
            yaml += "  - &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",") + "]\n"
        }
        expectPolicyError(yaml, line: 10, column: 10, "alias '*a5' expands the file past 2000000 nodes")
    }

    @Test func exponentialAliasesInARuleSetAreRefusedWithTheirLine() {
        let yaml = Self.laughs() + "? *a9\n: 1\n"
        #expect(throws: PatchError.ruleSet(file: "r.yml", line: 7, column: 10, message:
            "alias '*a5' expands the file past 2000000 nodes: aliases nested in aliases multiply (a YAML 'billion laughs'); write the values out or use fewer levels of aliases")) {
            _ = try ComplianceRuleSet.parse(yaml, file: "r.yml", source: "r.yml")
        }
    }

    @Test func deepNestingStopsAtTheLimitWithoutRecursingIntoIt() {
        let limit = YAMLReader.Limits.standard.maxDepth
        // The map around the lists is level 1.
        let over = "all: " + String(repeating: "[", count: limit) + String(repeating: "]", count: limit) + "\n"
        expectInventoryError(over, line: 1, column: 5 + limit, "maps and lists nested deeper than \(limit) levels")
        // Exactly at the limit is fine for the reader (the inventory then says what it expected).
        let at = "all: " + String(repeating: "[", count: limit - 1) + String(repeating: "]", count: limit - 1) + "\n"
        expectInventoryError(at, line: 1, column: 6, "group 'all' must be a map")
        // Far deeper: libyaml's own limit answers first; either way an error, never a crash.
        expectInventoryError("all: " + String(repeating: "[", count: 200_000), line: 1, column: 7, "nesting level")
    }

    @Test func aliasesCountTheDepthOfWhatTheyName() throws {
        // 40 levels under an anchor, used 40 levels deep: 80 once expanded.
        let deep = String(repeating: "[", count: 40) + "x" + String(repeating: "]", count: 40)
        let yaml = "a: &deep \(deep)\nb: " + String(repeating: "[", count: 30) + "*deep" + String(repeating: "]", count: 30) + "\n"
        let error = try #require(throws: YAMLReader.LimitExceeded.self) { _ = try YAMLReader.compose(yaml) }
        #expect(error.line == 2 && error.message == "alias '*deep' nests maps and lists deeper than 64 levels")
    }

    @Test func aliasAndNodeCountsHaveLimitsOfTheirOwn() throws {
        let aliases = YAMLReader.Limits(maxBytes: 1 << 20, maxNodes: 1000, maxAliases: 3, maxDepth: 10)
        let fourAliases = "a: &a x\nb: [*a, *a, *a, *a]\n"
        let error = try #require(throws: YAMLReader.LimitExceeded.self) { _ = try YAMLReader.compose(fourAliases, limits: aliases) }
        #expect(error.line == 2 && error.column == 17 && error.message == "more than 3 aliases (*name) in one file")

        let nodes = YAMLReader.Limits(maxBytes: 1 << 20, maxNodes: 10, maxAliases: 3, maxDepth: 10)
        let elevenNodes = "[" + Array(repeating: "x", count: 10).joined(separator: ",") + "]"
        let tooMany = try #require(throws: YAMLReader.LimitExceeded.self) { _ = try YAMLReader.compose(elevenNodes, limits: nodes) }
        #expect(tooMany.message == "more than 10 nodes in one file" && tooMany.line == 1)
        #expect(try YAMLReader.compose("[x,x,x,x,x,x,x,x,x]", limits: nodes) != nil)
    }

    @Test func anchorsAndMergeKeysWithinTheLimitsStillWork() throws {
        let inventory = try parseInventory("""
            all:
              vars: &common {ansible_user: ops, tags: &tags [a, b]}
              hosts:
                web1:
                  <<: *common
                  roles: *tags
            """)
        #expect(inventory.host(named: "web1")?.user == "ops")
        #expect(inventory.host(named: "web1")?.vars["roles"] == .list([.string("a"), .string("b")]))
    }

    @Test func fileSizeIsBoundedBeforeReading() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("yaml-reader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("big.yml").path
        try Data(repeating: UInt8(ascii: "#"), count: 2048).write(to: URL(fileURLWithPath: path))
        let small = YAMLReader.Limits(maxBytes: 1024, maxNodes: 10, maxAliases: 10, maxDepth: 10)
        #expect(YAMLReader.text(atPath: path, limits: small) == .failure(.tooLarge(limit: 1024)))
        #expect(YAMLReader.text(atPath: path).map(\.count) == .success(2048))

        // An endless file (a device) stops at the limit instead of filling memory.
        #expect(throws: PatchError.inventory(file: "/dev/zero", line: nil, column: nil,
                                             message: "the inventory file is larger than 32 MiB, the limit for YAML files")) {
            _ = try Inventory.load(path: "/dev/zero")
        }
        #expect(throws: PatchError.policy(file: "/dev/zero", line: nil, column: nil,
                                          message: "the policy file is larger than 32 MiB, the limit for YAML files")) {
            _ = try Policy.load(path: "/dev/zero")
        }
    }
}
