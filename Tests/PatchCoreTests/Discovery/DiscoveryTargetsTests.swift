import Foundation
import Testing
@testable import PatchCore

@Suite("discover's targets: networks, ranges, files, and what is refused")
struct DiscoveryTargetsTests {
    func all(_ targets: DiscoveryTargets) -> [String] {
        targets.segments.flatMap { segment in (0..<segment.count).map { segment.address(at: $0) } }
    }

    @Test("a CIDR leaves out its network and broadcast addresses, except /31 and /32")
    func cidr() throws {
        let net = try DiscoveryTargets.parse(["10.234.0.16/28"], fileReader: { _ in nil })
        #expect(net.count == 14)
        #expect(all(net).first == "10.234.0.17" && all(net).last == "10.234.0.30")
        #expect(try DiscoveryTargets.parse(["192.168.1.0/31"], fileReader: { _ in nil }).count == 2)
        #expect(all(try DiscoveryTargets.parse(["192.168.1.7/32"], fileReader: { _ in nil })) == ["192.168.1.7"])
        #expect(throws: DiscoveryTargetError.self) { try DiscoveryTargets.parse(["10.0.0.5/24"], fileReader: { _ in nil }) }
        #expect(throws: DiscoveryTargetError.self) { try DiscoveryTargets.parse(["10.0.0.0/33"], fileReader: { _ in nil }) }
    }

    @Test("ranges in both spellings; a range that ends before it starts is refused")
    func ranges() throws {
        let wide = try DiscoveryTargets.parse(["10.0.0.250-10.0.1.5"], fileReader: { _ in nil })
        #expect(wide.count == 12)
        #expect(all(wide).suffix(2) == ["10.0.1.4", "10.0.1.5"])
        #expect(try DiscoveryTargets.parse(["10.0.0.1-50"], fileReader: { _ in nil }).count == 50)
        #expect(throws: DiscoveryTargetError.self) { try DiscoveryTargets.parse(["10.0.0.9-3"], fileReader: { _ in nil }) }
        #expect(throws: DiscoveryTargetError.self) { try DiscoveryTargets.parse(["10.0.0.1-300"], fileReader: { _ in nil }) }
        // inet_pton's dotted quad only: no shorthand that other parsers widen to a different address.
        #expect(throws: DiscoveryTargetError.self) { try DiscoveryTargets.parse(["10.1"], fileReader: { _ in nil }) }
    }

    @Test("public ranges wider than a /16 need --i-own-this-network; private ones of any size do not")
    func publicRanges() throws {
        #expect(throws: DiscoveryTargetError.publicRange("8.0.0.0/15", 131_070)) { try DiscoveryTargets.parse(["8.0.0.0/15"], fileReader: { _ in nil }) }
        #expect(try DiscoveryTargets.parse(["8.0.0.0/15"], allowWidePublic: true, fileReader: { _ in nil }).count == 131_070)
        #expect(try DiscoveryTargets.parse(["8.8.0.0/16"], fileReader: { _ in nil }).count == 65_534)
        #expect(try DiscoveryTargets.parse(["10.0.0.0/8"], fileReader: { _ in nil }).count == 16_777_214)
        #expect(try DiscoveryTargets.parse(["172.16.0.0/12"], fileReader: { _ in nil }).count == 1_048_574)
        // A range that leaves private space is public.
        #expect(throws: DiscoveryTargetError.self) { try DiscoveryTargets.parse(["172.31.0.0-172.33.0.0"], fileReader: { _ in nil }) }
        // Never more than a /8 in one run, whatever the flags.
        #expect(throws: DiscoveryTargetError.self) { try DiscoveryTargets.parse(["0.0.0.0/0"], allowWidePublic: true, fileReader: { _ in nil }) }
    }

    @Test("a file lists targets, several per line, with comments; a bad entry names file and line")
    func files() throws {
        let text = "# the office\n10.1.0.1 10.1.0.2,10.1.0.3\n\n10.2.0.0/30   # the lab\n"
        let targets = try DiscoveryTargets.parse(["office.txt", "10.3.0.1"], fileReader: { $0 == "office.txt" ? text : nil })
        #expect(targets.labels == ["10.1.0.1", "10.1.0.2", "10.1.0.3", "10.2.0.0/30", "10.3.0.1"])
        #expect(targets.count == 6)
        #expect(throws: DiscoveryTargetError.invalid("office.txt:2: 10.1.0.300", "not an address, network (CIDR), range or readable file")) {
            try DiscoveryTargets.parse(["office.txt"], fileReader: { _ in "10.1.0.1\n10.1.0.300\n" })
        }
        #expect(throws: DiscoveryTargetError.self) { try DiscoveryTargets.parse(["empty.txt"], fileReader: { _ in "# nothing\n" }) }
    }

    @Test("IPv6: single addresses and prefixes from /112 up")
    func ipv6() throws {
        let small = try DiscoveryTargets.parse(["fd00::/126"], fileReader: { _ in nil })
        #expect(all(small) == ["fd00::", "fd00::1", "fd00::2", "fd00::3"])
        #expect(all(try DiscoveryTargets.parse(["::1"], fileReader: { _ in nil })) == ["::1"])
        #expect(throws: DiscoveryTargetError.self) { try DiscoveryTargets.parse(["fd00::/64"], fileReader: { _ in nil }) }
        #expect(small.contains("fd00::2") && !small.contains("fd00::4"))
    }

    @Test("membership, for hosts gone and inventory comparisons")
    func membership() throws {
        let targets = try DiscoveryTargets.parse(["10.0.0.0/24", "192.168.5.10-20"], fileReader: { _ in nil })
        #expect(targets.contains("10.0.0.77"))
        #expect(!targets.contains("10.0.0.0") && !targets.contains("10.0.0.255"))
        #expect(targets.segment(holding: "192.168.5.15")?.label == "192.168.5.10-20")
        #expect(!targets.contains("192.168.5.21") && !targets.contains("not-an-address"))
        #expect(DiscoveryTargets.isPrivate(DiscoveryTargets.parseV4("172.31.255.255")!))
        #expect(!DiscoveryTargets.isPrivate(DiscoveryTargets.parseV4("172.32.0.0")!))
    }
}
