import Testing
@testable import PatchCore

/// The small pieces under the loader and the pattern matcher.
@Suite("Inventory helpers")
struct InventoryHelperTests {
    @Test(arguments: [
        ("web*", "web01", true), ("web*", "web", true), ("web*", "db1", false),
        ("*.example.com", "a.b.example.com", true), ("*.example.com", "example.com", false),
        ("db-?", "db-1", true), ("db-?", "db-10", false),
        ("db[12]", "db1", true), ("db[12]", "db3", false), ("db[1-3]x", "db2x", true),
        ("db[!1]", "db1", false), ("db[!1]", "db2", true), ("a[]]b", "a]b", true),
        ("web[1", "web[1", true), ("*a*b", "xxaxxb", true), ("*a*b", "xxaxxbc", false),
        ("Web*", "web1", false), ("**", "", true),
    ])
    func globMatchesLikeFnmatch(pattern: String, name: String, expected: Bool) {
        #expect(GlobPattern(pattern).matches(name) == expected)
    }

    @Test func hostKeyPortsFollowAnsibleParseAddress() throws {
        #expect(try InventoryHostSpec.parse("db1:2222") == InventoryHostSpec(names: ["db1"], port: 2222))
        #expect(try InventoryHostSpec.parse("[2001:db8::1]:2200") == InventoryHostSpec(names: ["2001:db8::1"], port: 2200))
        #expect(try InventoryHostSpec.parse("2001:db8::1") == InventoryHostSpec(names: ["2001:db8::1"], port: nil))
        #expect(try InventoryHostSpec.parse("web[1:2]") == InventoryHostSpec(names: ["web1", "web2"], port: nil))
        #expect(try InventoryHostSpec.parse("web[1:2]:22") == InventoryHostSpec(names: ["web1", "web2"], port: 22))
        #expect(try InventoryHostSpec.parse("web:abc") == InventoryHostSpec(names: ["web:abc"], port: nil))
        #expect(throws: InventoryHostSpec.Problem.self) { try InventoryHostSpec.parse("web:70000") }
    }

    @Test func hostRangesExpandWithPaddingStepsAndLetters() throws {
        #expect(try InventoryHostSpec.expand("web[01:03]") == ["web01", "web02", "web03"])
        #expect(try InventoryHostSpec.expand("web[8:10]") == ["web8", "web9", "web10"])
        #expect(try InventoryHostSpec.expand("web[:2]") == ["web0", "web1", "web2"])
        #expect(try InventoryHostSpec.expand("web[0:6:3]") == ["web0", "web3", "web6"])
        #expect(try InventoryHostSpec.expand("[x:z]-db") == ["x-db", "y-db", "z-db"])
        #expect(try InventoryHostSpec.expand("r[1:2][a:b]") == ["r1a", "r1b", "r2a", "r2b"])
        #expect(throws: InventoryHostSpec.Problem(message: "host range in 'web[1:]' must give an end value")) {
            try InventoryHostSpec.expand("web[1:]")
        }
        #expect(throws: InventoryHostSpec.Problem(message: "host range step in 'web[1:4:0]' must be a positive integer")) {
            try InventoryHostSpec.expand("web[1:4:0]")
        }
        #expect(throws: InventoryHostSpec.Problem.self) { try InventoryHostSpec.expand("web[0:99999]") }
    }

    @Test func editDistanceCountsTranspositionsAsOne() {
        #expect(EditDistance.between("ansible_prot", "ansible_port") == 1)
        #expect(EditDistance.between("privat_key_file", "private_key_file") == 1)
        #expect(EditDistance.between("host", "port") == 2)
        #expect(EditDistance.between("", "abc") == 3)
        #expect(EditDistance.closest(to: "chidlren", in: ["hosts", "children", "vars"], maxDistance: 2) == "children")
        #expect(EditDistance.closest(to: "zzz", in: ["hosts", "children", "vars"], maxDistance: 2) == nil)
    }

    @Test func pathsNormalizeWithoutTouchingTheDisk() throws {
        let context = ValueContext(baseDirectory: "/srv/inv", environment: ["HOME": "/home/ops"])
        #expect(try ConnectionKey.resolvePath("keys/id", name: "k", context: context).get() == "/srv/inv/keys/id")
        #expect(try ConnectionKey.resolvePath("../keys//./id", name: "k", context: context).get() == "/srv/keys/id")
        #expect(try ConnectionKey.resolvePath("~/.ssh/id", name: "k", context: context).get() == "/home/ops/.ssh/id")
        #expect(try ConnectionKey.resolvePath("/abs/id", name: "k", context: context).get() == "/abs/id")
        #expect(throws: InventoryProblem.self) {
            try ConnectionKey.resolvePath("~ops/id", name: "k", context: context).get()
        }
    }
}
