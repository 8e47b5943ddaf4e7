import Crypto
import Foundation
import GRDB
import Testing
@testable import PatchCore

/// Histories keep the digests of what each host saw (`scan_hosts.open_digest`) and of each CVE list
/// (`cves_digest`, `cve_lists.digest`): however they are computed, the bytes hashed must stay the
/// ones earlier versions hashed, or every stored digest would stop matching.
@Suite("Sighting and CVE-list digests")
struct SightingDigestTests {
    /// The sighting digest as migration v16 defined it, one update per value.
    static func sightingReference(_ rows: [[DatabaseValue]], unfixed: [[DatabaseValue]]) -> String {
        var hash = SHA256()
        func add(_ list: [[DatabaseValue]]) {
            for row in list {
                for value in row {
                    switch value.storage {
                    case .null: hash.update(data: [0])
                    case let .int64(number): hash.update(data: Array("i\(number)".utf8) + [0x1F])
                    case let .double(number): hash.update(data: Array("d\(number)".utf8) + [0x1F])
                    case let .string(text): hash.update(data: Array(("s" + text).utf8) + [0x1F])
                    case let .blob(data): hash.update(data: Array("b\(data.count):".utf8) + Array(data) + [0x1F])
                    }
                }
                hash.update(data: [0x1E])
            }
            hash.update(data: [0x1D])
        }
        add(rows)
        add(unfixed)
        return Hex.encode(hash.finalize().prefix(16))
    }

    /// The CVE-list digest as migration v9 defined it, over joined text.
    static func listReference(_ cves: [CVEReference]) -> String {
        guard !cves.isEmpty else { return "" }
        let text = cves.map { cve in
            [cve.id, cve.severity.name, cve.vendorSeverity ?? "-", cve.cvss.map { String($0) } ?? "-", cve.kev ? "1" : "0",
             cve.epss.map { String($0) } ?? "-", cve.fixedVersion ?? "-", cve.source].joined(separator: "\u{1F}")
        }.joined(separator: "\u{1E}")
        return Hex.encode(SHA256.hash(data: Data(text.utf8)).prefix(16))
    }

    @Test func theSightingDigestHashesTheBytesItAlwaysHashed() {
        let values: [DatabaseValue] = [
            .null, "openssl".databaseValue, "".databaseValue, "grüße ✓ \u{1F}\u{1E}".databaseValue, Int64(0).databaseValue,
            Int64.max.databaseValue, Int64(-42).databaseValue, 7.5.databaseValue, 0.1.databaseValue, 1e300.databaseValue,
            true.databaseValue, Data([0, 1, 0xFF]).databaseValue, Data().databaseValue,
        ]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let rows = (0..<Int.random(in: 0...6, using: &random)).map { _ in (0..<Int.random(in: 0...9, using: &random)).map { _ in values.randomElement(using: &random)! } }
            let unfixed = (0..<Int.random(in: 0...3, using: &random)).map { _ in (0..<10).map { _ in values.randomElement(using: &random)! } }
            #expect(FindingIntervals.Prepared.digest(rows, unfixed: unfixed) == Self.sightingReference(rows, unfixed: unfixed), "\(rows) \(unfixed)")
        }
        // A known value (the bytes hashed by hand, Python hashlib), so the reference itself cannot drift.
        #expect(Self.sightingReference([["curl".databaseValue, Int64(1).databaseValue, .null]], unfixed: []) == "d238aa1b8748450e1f473fa58979200b")
    }

    @Test func theCVEListDigestHashesTheBytesItAlwaysHashed() {
        let lists: [[CVEReference]] = [
            [],
            [CVEReference(id: "CVE-2026-1001", severity: .high, fixedVersion: "3.0.13-1", source: "debian-tracker")],
            [CVEReference(id: "CVE-2026-1001", severity: .critical, vendorSeverity: "Important", cvss: 9.8, kev: true, epss: 0.97311,
                          fixedVersion: nil, source: "osv"),
             CVEReference(id: "CVE-2026-2002", severity: .unknown, cvss: 0.1, epss: 1e-5, fixedVersion: "1:2.0~rc1-3ubuntu0.1", source: "ubuntü")],
        ]
        for list in lists { #expect(FindingIntervals.digest(list) == Self.listReference(list)) }
        for list in Self.randomLists(count: 2_000) { #expect(FindingIntervals.digest(list) == Self.listReference(list), "\(list)") }
    }

    /// Lists of 0–6 CVEs, ids drawn from a few (so that some repeat), every field varied.
    static func randomLists(count: Int) -> [[CVEReference]] {
        var random = SystemRandomNumberGenerator()
        let ids = ["CVE-2026-1001", "CVE-2026-1002", "CVE-2025-99999", "CVE-2026-1001 ", "cve-2026-1001", "CVE-2026-é", "CVE-2026-e\u{301}"]
        let words = [nil, "", "-", "Important", "low", "grüße ✓", "\u{1F}\u{1E}"]
        let numbers: [Double?] = [nil, 0, 0.1, 7.5, 9.8, 10, 1e-5, 0.97311, 1e300, -0.0]
        return (0..<count).map { _ in
            (0..<Int.random(in: 0...6, using: &random)).map { _ in
                CVEReference(id: ids.randomElement(using: &random)!, severity: Severity.allCases.randomElement(using: &random)!,
                             vendorSeverity: words.randomElement(using: &random)!, cvss: numbers.randomElement(using: &random)!,
                             kev: Bool.random(using: &random), epss: numbers.randomElement(using: &random)!,
                             fixedVersion: words.randomElement(using: &random)!, source: words.randomElement(using: &random)! ?? "osv")
            }
        }
    }

    /// A finding's CVEs are kept one per id, the last listed winning, in id order: as a dictionary by
    /// id, sorted by id, made them (the lists, and so their digests, must not change).
    @Test func aFindingsCVEsAreOnePerIdTheLastWinningInIdOrder() {
        for list in Self.randomLists(count: 2_000) {
            let reference = Dictionary(list.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last }).values.sorted { $0.id < $1.id }
            #expect(FindingIntervals.Prepared.byID(list) == reference, "\(list)")
        }
    }
}
