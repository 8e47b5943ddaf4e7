import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The addresses `patchctl discover` may touch: exactly the networks, ranges and addresses given
/// (directly or in files), never anything else. Held as ranges and walked lazily, so a /16 costs
/// no more memory than a /30.
public struct DiscoveryTargets: Sendable, Equatable {
    /// One argument's worth of addresses, with the text that names it (the group name of an
    /// inventory made by network, and what history records as swept).
    public struct Segment: Sendable, Equatable {
        public enum Span: Sendable, Equatable {
            /// IPv4, inclusive bounds.
            case v4(first: UInt32, last: UInt32)
            /// IPv6 addresses listed one by one (a single address, or a prefix of at most 65,536).
            case v6([String])
        }
        public var label: String
        public var span: Span

        public var count: Int {
            switch span {
            case let .v4(first, last): Int(last - first) + 1
            case let .v6(list): list.count
            }
        }

        public func address(at index: Int) -> String {
            switch span {
            case let .v4(first, _): DiscoveryTargets.format(first + UInt32(index))
            case let .v6(list): list[index]
            }
        }

        public func contains(_ address: String) -> Bool {
            switch span {
            case let .v4(first, last): DiscoveryTargets.parseV4(address).map { $0 >= first && $0 <= last } ?? false
            case let .v6(list): list.contains(address)
            }
        }
    }

    public private(set) var segments: [Segment] = []

    /// Never more than this many addresses in one run, whatever flags say (a /8).
    public static let maximumAddresses = 1 << 24
    /// Above this many, a terminal asks first and a script must say `--yes`.
    public static let confirmationThreshold = 4096

    public var count: Int { segments.reduce(0) { $0 + $1.count } }
    public var labels: [String] { segments.map(\.label) }

    public init(segments: [Segment]) {
        self.segments = segments
    }

    /// Parses CIDRs (`10.0.0.0/24`), ranges (`10.0.0.1-10.0.0.50`, `10.0.0.1-50`), single addresses
    /// and files of them (one or more per line, `#` comments). Public ranges wider than a /16 are
    /// refused unless `allowWidePublic` (`--i-own-this-network`).
    public static func parse(_ arguments: [String], allowWidePublic: Bool = false,
                             fileReader: (String) throws -> String? = DiscoveryTargets.readFile) throws -> DiscoveryTargets {
        var targets = DiscoveryTargets(segments: [])
        for argument in arguments {
            if let text = try fileReader(argument) {
                for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                    for word in content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == "\r" }) {
                        do {
                            targets.segments.append(try segment(String(word), allowWidePublic: allowWidePublic))
                        } catch let DiscoveryTargetError.invalid(_, why) {
                            throw DiscoveryTargetError.invalid("\(argument):\(number + 1): \(word)", why)
                        }
                    }
                }
            } else {
                targets.segments.append(try segment(argument, allowWidePublic: allowWidePublic))
            }
        }
        guard !targets.segments.isEmpty else { throw DiscoveryTargetError.invalid(arguments.joined(separator: " "), "no address to sweep") }
        guard targets.count <= maximumAddresses else {
            throw DiscoveryTargetError.invalid(arguments.joined(separator: " "), "\(targets.count) addresses: more than a /8 (\(maximumAddresses)) in one run")
        }
        return targets
    }

    /// A path that names a regular file is read as a list; anything else is a target itself.
    public static func readFile(_ argument: String) throws -> String? {
        var isDirectory: ObjCBool = false
        guard !argument.contains("/") || argument.hasPrefix("/") || argument.hasPrefix("."),
              FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: argument))
        guard data.count <= 16 << 20 else { throw DiscoveryTargetError.invalid(argument, "a target file larger than 16 MiB") }
        return String(decoding: data, as: UTF8.self)
    }

    static func segment(_ text: String, allowWidePublic: Bool) throws -> Segment {
        if text.contains(":") { return try v6Segment(text) }
        let first: UInt32, last: UInt32
        if let slash = text.firstIndex(of: "/") {
            guard let base = parseV4(String(text[..<slash])), let bits = Int(text[text.index(after: slash)...]), (0...32).contains(bits) else {
                throw DiscoveryTargetError.invalid(text, "not an IPv4 network (a.b.c.d/0-32)")
            }
            let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
            guard base & mask == base else {
                throw DiscoveryTargetError.invalid(text, "host bits are set; the network is \(format(base & mask))/\(bits)")
            }
            // A network's own address and its broadcast answer no TCP connection: skipped, as DHCP
            // and every scanner's host list do, except in /31 and /32 where there are none.
            let broadcast = base | ~mask
            (first, last) = bits >= 31 ? (base, broadcast) : (base + 1, broadcast - 1)
        } else if let dash = text.firstIndex(of: "-") {
            let left = String(text[..<dash]), right = String(text[text.index(after: dash)...])
            guard let start = parseV4(left) else { throw DiscoveryTargetError.invalid(text, "not an IPv4 range (a.b.c.d-e.f.g.h or a.b.c.d-h)") }
            let end: UInt32?
            if let octet = UInt32(right), octet <= 255 {
                end = start & 0xFFFF_FF00 | octet
            } else {
                end = parseV4(right)
            }
            guard let end, end >= start else { throw DiscoveryTargetError.invalid(text, "the range ends before it starts") }
            (first, last) = (start, end)
        } else if let address = parseV4(text) {
            (first, last) = (address, address)
        } else {
            throw DiscoveryTargetError.invalid(text, "not an address, network (CIDR), range or readable file")
        }
        let size = UInt64(last) - UInt64(first) + 1
        if size > 1 << 16, !allowWidePublic, !isPrivate(first) || !isPrivate(last) {
            throw DiscoveryTargetError.publicRange(text, Int(size))
        }
        return Segment(label: text, span: .v4(first: first, last: last))
    }

    static func v6Segment(_ text: String) throws -> Segment {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        var bytes = in6_addr()
        guard inet_pton(AF_INET6, parts[0], &bytes) == 1 else { throw DiscoveryTargetError.invalid(text, "not an IPv6 address") }
        let bits = parts.count == 2 ? Int(parts[1]) : 128
        guard let bits, (112...128).contains(bits) else {
            throw DiscoveryTargetError.invalid(text, "IPv6 networks are swept only from /112 (65,536 addresses) up: list the addresses instead")
        }
        var raw = withUnsafeBytes(of: &bytes) { Array($0) }
        let hostBits = 128 - bits
        let low = UInt32(raw[14]) << 8 | UInt32(raw[15])
        guard hostBits == 0 || low & ((1 << hostBits) - 1) == 0 else { throw DiscoveryTargetError.invalid(text, "host bits are set") }
        var list: [String] = []
        for offset in 0..<(1 << hostBits) {
            let value = low | UInt32(offset)
            raw[14] = UInt8(value >> 8)
            raw[15] = UInt8(value & 0xFF)
            list.append(formatV6(raw))
        }
        return Segment(label: text, span: .v6(list))
    }

    /// RFC 1918, loopback, link-local, CGNAT (RFC 6598) and the documentation/benchmark blocks:
    /// networks a site can own without anyone else on them.
    static func isPrivate(_ address: UInt32) -> Bool {
        let blocks: [(UInt32, Int)] = [(0x0A00_0000, 8), (0xAC10_0000, 12), (0xC0A8_0000, 16), (0x7F00_0000, 8),
                                       (0xA9FE_0000, 16), (0x6440_0000, 10), (0xC612_0000, 15)]
        return blocks.contains { base, bits in address & (~UInt32(0) << (32 - bits)) == base }
    }

    public static func parseV4(_ text: String) -> UInt32? {
        var address = in_addr()
        // inet_pton, unlike inet_aton, takes only the dotted quad (no `10.1`, no octal).
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return UInt32(bigEndian: address.s_addr)
    }

    public static func format(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)"
    }

    static func formatV6(_ raw: [UInt8]) -> String {
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: raw) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The segment that holds `address` (first in argument order), for grouping by network.
    public func segment(holding address: String) -> Segment? {
        segments.first { $0.contains(address) }
    }

    public func contains(_ address: String) -> Bool {
        segment(holding: address) != nil
    }
}

public enum DiscoveryTargetError: Error, Equatable, CustomStringConvertible {
    case invalid(String, String)
    case publicRange(String, Int)

    public var description: String {
        switch self {
        case let .invalid(text, why): "discover: \(text): \(why)"
        case let .publicRange(text, count):
            "discover: \(text) is a public range of \(count) addresses, wider than a /16: sweeping it is refused unless you say --i-own-this-network"
        }
    }
}
