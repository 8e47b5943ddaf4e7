import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// ansible-core from PyPI (scripts/test-venv.sh puts it in .venv/): the reference the inventory
/// loader is compared with. Under CI (CI=true) a missing venv fails the tests; locally they skip.
enum AnsibleTools {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let bin = repository + "/.venv/bin"
    static let corpus = repository + "/Tests/PatchCoreTests/Fixtures/inventories"

    static var installed: Bool { FileManager.default.isExecutableFile(atPath: bin + "/ansible-inventory") }
    static var required: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
    /// Run the tests when they can run, or when their absence must be a failure.
    static var shouldRun: Bool { installed || required }

    /// Runs an ansible tool in a scratch folder (no ansible.cfg, no ~/.ansible writes); stdout.
    /// Awaited, not blocking a thread of the shared pool (Python starts slowly).
    static func run(_ tool: String, _ arguments: [String]) async throws -> String {
        guard installed else {
            throw Missing(message: "ansible-core is not installed in \(bin): run scripts/test-venv.sh")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-ansible-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var environment: [String: String?] = [:]
        for key in ProcessInfo.processInfo.environment.keys where key.hasPrefix("ANSIBLE_") { environment[key] = .some(nil) }
        environment["ANSIBLE_HOME"] = scratch.path
        environment["ANSIBLE_LOCAL_TEMP"] = scratch.path
        environment["ANSIBLE_INVENTORY_UNPARSED_FAILED"] = "true"
        environment["ANSIBLE_DEPRECATION_WARNINGS"] = "false"
        let result = try await TestProcess.run(bin + "/" + tool, arguments, environment: environment, workingDirectory: scratch.path)
        guard result.status == 0 else {
            throw Missing(message: "\(tool) \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    struct Missing: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

/// One corpus entry: `-i` sources (relative to the corpus folder) and host patterns to compare.
struct ParityCase: Sendable, CustomTestStringConvertible {
    var sources: [String]
    var patterns: [String]
    var testDescription: String { sources.joined(separator: " + ") }
}

@Suite("Inventories equal Ansible's answers (ansible-inventory, ansible --list-hosts)", .enabled(if: AnsibleTools.shouldRun))
struct AnsibleParityTests {
    static let cases: [ParityCase] = [
        ParityCase(sources: ["ini-basic/hosts.ini"], patterns: ["all", "web", "prod:!db", "web:&prod", "~db.*", "web[1:2]", "db*", "ungrouped"]),
        ParityCase(sources: ["precedence"], patterns: ["alpha:beta", "web", "all:!webchild", "prioritised:&zulu"]),
        ParityCase(sources: ["folder"], patterns: ["app", "cache[0]", "all"]),
        ParityCase(sources: ["dynamic/inventory.py"], patterns: ["cloud", "gpu", "ungrouped"]),
        ParityCase(sources: ["ini-basic/hosts.ini", "precedence", "folder"], patterns: ["all", "web:app"]),
    ]

    @Test(arguments: cases)
    func hostsGroupsAndVariablesEqualAnsibleInventory(_ parity: ParityCase) async throws {
        let paths = parity.sources.map { AnsibleTools.corpus + "/" + $0 }
        let listing = try await AnsibleTools.run("ansible-inventory", paths.flatMap { ["-i", $0] } + ["--list"])
        let ansible = try #require(try JSONSerialization.jsonObject(with: Data(listing.utf8)) as? [String: Any])
        let inventory = try Inventory.load(paths: paths, environment: ["HOME": "/home/tester"])

        let meta = try JSONDecoder().decode(Listing.self, from: Data(listing.utf8))
        let expectedGroups = Self.groupsByHost(ansible)
        #expect(Set(inventory.hosts.map(\.name)) == Set(expectedGroups.keys))
        #expect(inventory.hosts.count > 0)
        for host in inventory.hosts {
            #expect(Set(host.groups) == expectedGroups[host.name] ?? [], "groups of \(host.name)")
            let expected = (meta._meta.hostvars[host.name] ?? [:]).mapValues(\.inventoryValue)
            #expect(host.vars.mapValues(Self.comparable) == expected.mapValues(Self.comparable), "variables of \(host.name)")
        }
        // `--host NAME` answers from the same merge; checked for the last host (deepest in the files).
        let last = try #require(inventory.hosts.last)
        let single = try await AnsibleTools.run("ansible-inventory", paths.flatMap { ["-i", $0] } + ["--host", last.name])
        let answer = try JSONDecoder().decode([String: JSONValue].self, from: Data(single.utf8)).mapValues(\.inventoryValue)
        #expect(last.vars.mapValues(Self.comparable) == answer.mapValues(Self.comparable), "--host \(last.name)")
    }

    @Test(arguments: cases)
    func patternsSelectWhatAnsibleListHostsSelects(_ parity: ParityCase) async throws {
        let paths = parity.sources.map { AnsibleTools.corpus + "/" + $0 }
        let inventory = try Inventory.load(paths: paths, environment: ["HOME": "/home/tester"])
        for pattern in parity.patterns {
            let output = try await AnsibleTools.run("ansible", [pattern] + paths.flatMap { ["-i", $0] } + ["--list-hosts"])
            // "  hosts (3):" then one indented name per line.
            let expected = output.split(separator: "\n").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
            let selected = try inventory.select(pattern).map(\.name)
            #expect(Set(selected) == Set(expected), "pattern \(pattern)")
        }
    }

    @Test func ansibleInventoryOutputSavedAsJSONLoadsTheSame() async throws {
        let source = AnsibleTools.corpus + "/ini-basic/hosts.ini"
        let listing = try await AnsibleTools.run("ansible-inventory", ["-i", source, "--list"])
        let folder = try InventoryFolder()
        let saved = try folder.write("saved.json", listing)
        let original = try Inventory.load(path: source)
        let reloaded = try Inventory.load(path: saved)
        #expect(Set(reloaded.hosts.map(\.name)) == Set(original.hosts.map(\.name)))
        for host in original.hosts {
            let copy = try #require(reloaded.host(named: host.name))
            #expect(copy.vars == host.vars, "\(host.name)")
            #expect(Set(copy.groups) == Set(host.groups), "\(host.name)")
            #expect((copy.address, copy.port, copy.user) == (host.address, host.port, host.user), "\(host.name)")
        }
    }

    /// Every group a host is in, ancestors and `all` included, from `--list` output.
    static func groupsByHost(_ listing: [String: Any]) -> [String: Set<String>] {
        var parents: [String: Set<String>] = [:]
        var direct: [String: Set<String>] = [:]
        for (group, body) in listing where group != "_meta" {
            guard let body = body as? [String: Any] else { continue }
            for child in body["children"] as? [String] ?? [] { parents[child, default: []].insert(group) }
            for host in body["hosts"] as? [String] ?? [] { direct[host, default: []].insert(group) }
        }
        var result: [String: Set<String>] = [:]
        for (host, groups) in direct {
            var all: Set<String> = ["all"]
            var pending = Array(groups)
            while let group = pending.popLast() {
                if all.insert(group).inserted { pending += parents[group] ?? [] }
            }
            result[host] = all
        }
        return result
    }

    /// JSON has one number type: 1000.0 printed by Python may decode as an integer.
    static func comparable(_ value: InventoryValue) -> InventoryValue {
        switch value {
        case let .double(number) where number.rounded() == number && abs(number) < 1e15: .int(Int(number))
        case let .list(items): .list(items.map(comparable))
        case let .map(map): .map(map.mapValues(comparable))
        default: value
        }
    }

    struct Listing: Decodable {
        struct Meta: Decodable { var hostvars: [String: [String: JSONValue]] }
        var _meta: Meta
    }

    /// A JSON value with booleans kept apart from numbers.
    enum JSONValue: Decodable {
        case null, bool(Bool), int(Int), double(Double), string(String), list([JSONValue]), map([String: JSONValue])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(Bool.self) { self = .bool(value) }
            else if let value = try? container.decode(Int.self) { self = .int(value) }
            else if let value = try? container.decode(Double.self) { self = .double(value) }
            else if let value = try? container.decode(String.self) { self = .string(value) }
            else if let value = try? container.decode([JSONValue].self) { self = .list(value) }
            else { self = .map(try container.decode([String: JSONValue].self)) }
        }

        var inventoryValue: InventoryValue {
            switch self {
            case .null: .null
            case let .bool(value): .bool(value)
            case let .int(value): .int(value)
            case let .double(value): .double(value)
            case let .string(value): .string(value)
            case let .list(items): .list(items.map(\.inventoryValue))
            case let .map(map): .map(map.mapValues(\.inventoryValue))
            }
        }
    }
}
