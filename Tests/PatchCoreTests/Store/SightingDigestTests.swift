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
    }
}
