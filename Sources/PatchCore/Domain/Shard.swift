import Crypto
import Foundation

/// `--shard K/N`: this controller's part of the targeted hosts when N controllers (cron on N
/// machines, or a Kubernetes Indexed Job) share one inventory. Rendezvous hashing on the host
/// name: every host belongs to exactly one shard, the split needs no coordination and no state,
/// it is the same on every machine and patchctl version (SHA-256, not Swift's seeded hasher), and
/// going from N to N+1 shards moves only the hosts the new shard takes.
public struct Shard: Codable, Sendable, Equatable, CustomStringConvertible {
    /// 1-based: K of K/N.
    public let index: Int
    public let count: Int

    /// The documented bound on N.
    public static let maxCount = 10_000

    public init(index: Int, count: Int) throws(PatchError) {
        guard (1...Self.maxCount).contains(count), (1...count).contains(index) else {
            throw PatchError.pattern(pattern: "\(index)/\(count)", message: "--shard K/N needs 1 ≤ K ≤ N ≤ \(Self.maxCount)")
        }
        self.index = index
        self.count = count
    }

    /// `K/N`, as given on the command line.
    public init(parsing text: String) throws(PatchError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw PatchError.pattern(pattern: text, message: "--shard is K/N (for example 2/3: the second of three controllers)")
        }
        try self.init(index: index, count: count)
    }

    public var description: String { "\(index)/\(count)" }

    /// The shard (1...count) that owns `host`: the one with the highest score for it.
    public static func owner(of host: String, count: Int) -> Int {
        var best = (score: UInt64(0), shard: 1)
        for shard in 1...max(count, 1) {
            let digest = SHA256.hash(data: Data("\(shard)\u{0}\(host)".utf8))
            let score = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if shard == 1 || score > best.score { best = (score, shard) }
        }
        return best.shard
    }

    public func contains(_ host: String) -> Bool {
        Self.owner(of: host, count: count) == index
    }

    /// The hosts of this shard, in their order.
    public func select(_ hosts: [Host]) -> [Host] {
        hosts.filter { contains($0.name) }
    }
}
