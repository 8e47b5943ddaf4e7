import Foundation
@testable import PatchCore

/// What a migration must leave as it was: every run as `history show` reads it, the `report cves`
/// exposures, and a compliance report over the last nights of a `FindingIntervalsTests.recorded`
/// history (20 nights).
struct HistoryAnswers: Equatable {
    var runs: [ScanRun]
    var exposures: [HistoryStore.CVEExposure]
    var report: String

    init(_ store: HistoryStore, location: String, runs ids: [String]) throws {
        runs = try ids.map { try store.run(id: $0) }
        exposures = try store.cveExposures()
        let request = ComplianceRequest(kind: .compliance, database: location, asOf: GeneratedHistory.day(19, hour: 20), since: "15d")
        report = try JSONOutput.encode(ComplianceReport.build(request, store: store), pretty: true)
    }
}
