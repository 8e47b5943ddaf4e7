import Foundation

extension ComplianceReport {
    /// `report trend --format json`: the trend with what it was built from.
    public struct TrendDocument: Encodable, Sendable {
        public var kind = "trend"
        public var standard: ComplianceRuleSet
        public var evidence: Evidence
        public var trend: [TrendPoint]
    }

    /// The text `patchctl report KIND --format FORMAT` prints (or writes to `-o`).
    /// compliance: the whole document; hosts: the host list (JSON: an array); trend: the daily series.
    public func rendered(_ kind: ComplianceRequest.Kind, as format: ReportFormat) throws -> String {
        switch (kind, format) {
        case (.compliance, .table): return TableReport.compliance(self)
        case (.compliance, .json): return try JSONOutput.encode(self, pretty: true) + "\n"
        case (.compliance, .ndjson), (.hosts, .ndjson): return try hosts.map { try JSONOutput.encode($0, pretty: false) + "\n" }.joined()
        case (.compliance, .csv), (.hosts, .csv): return CSVReport.compliance(self)
        case (.compliance, .html), (.hosts, .html): return HTMLReport.compliance(self)
        case (.hosts, .table):
            return TableReport.hosts(hosts) + TableReport.unmanaged(unmanaged) + "\n" + TableReport.summaryLine(self) + "\n" + TableReport.evidence(evidence)
        case (.hosts, .json): return try JSONOutput.encode(hosts, pretty: true) + "\n"
        case (.trend, .table): return TableReport.trend(self)
        case (.trend, .json):
            return try JSONOutput.encode(TrendDocument(standard: standard, evidence: evidence, trend: trend), pretty: true) + "\n"
        case (.trend, .ndjson): return try trend.map { try JSONOutput.encode($0, pretty: false) + "\n" }.joined()
        case (.trend, .csv): return CSVReport.trend(trend)
        case (.trend, .html): return HTMLReport.trend(self)
        }
    }

    /// One line for stderr after writing a file.
    public var headline: String {
        "\(TableReport.summaryLine(self)); as of \(JSONOutput.timestamp(evidence.generatedAt))"
    }
}
