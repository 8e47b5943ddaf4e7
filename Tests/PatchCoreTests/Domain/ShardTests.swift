import Foundation
import Testing
@testable import PatchCore

/// `--shard K/N`: N controllers cover an inventory exactly once, evenly, the same way on every
/// machine, and a new controller takes hosts only for itself.
@Suite("Shards")
struct ShardTests {
    static let fleet = (1...2000).map { "web-\(String(format: "%04d", $0)).dc\($0 % 3 + 1).example.net" }

    @Test(arguments: [1, 2, 3, 5, 8])
    func everyHostIsInExactlyOneShardAndTheSharesAreEven(count: Int) throws {
        let shards = try (1...count).map { try Shard(index: $0, count: count) }
        var owners: [String: Int] = [:]
        for shard in shards {
            for host in Self.fleet where shard.contains(host) {
                #expect(owners[host] == nil, "\(host) in two shards")
                owners[host] = shard.index
            }
        }
        #expect(owners.count == Self.fleet.count)
        let expected = Double(Self.fleet.count) / Double(count)
        for shard in shards {
            let size = Double(owners.values.filter { $0 == shard.index }.count)
            #expect(abs(size - expected) < expected * 0.15 + 10, "shard \(shard) holds \(size) of \(Self.fleet.count)")
        }
    }

    @Test func aNewShardTakesHostsOnlyForItself() {
        for count in 1...6 {
            for host in Self.fleet {
                let before = Shard.owner(of: host, count: count)
                let after = Shard.owner(of: host, count: count + 1)
                #expect(after == before || after == count + 1, "\(host) moved from \(before) to \(after) of \(count + 1)")
            }
        }
    }

    /// Controllers on different machines and patchctl versions must agree: the owners of these
    /// names are part of the contract, and must never change. They were computed apart from this
    /// code, in Python: the shard K with the highest first 8 bytes (big-endian) of SHA-256("K\0name").
    @Test func theSplitIsTheSameEverywhere() {
        #expect(["web-0001.dc2.example.net", "db1", "mail.example.org", "10.0.0.7"].map { Shard.owner(of: $0, count: 4) } == [2, 3, 2, 3])
    }

    @Test(arguments: ["0/3", "4/3", "3", "a/b", "1/0", "-1/2", "1/2/3", "", "1/10001"])
    func malformedShardsAreRefused(text: String) {
        #expect(throws: PatchError.self) { try Shard(parsing: text) }
    }

    @Test func selectKeepsInventoryOrder() throws {
        let hosts = Self.fleet.prefix(50).map { Host(name: $0) }
        let shard = try Shard(parsing: "2/3")
        #expect(shard.select(hosts).map(\.name) == hosts.map(\.name).filter(shard.contains))
    }
}
