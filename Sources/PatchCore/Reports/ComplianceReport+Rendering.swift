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
        var text = ""
        try render(kind, as: format) { text += $0 }
        return text
    }

    /// `rendered`'s text handed to `output` piece by piece: JSON and NDJSON host by host, so a large
    /// fleet's document is never held whole, nor encoded as one tree.
    public func render(_ kind: ComplianceRequest.Kind, as format: ReportFormat, to output: @escaping (String) throws -> Void) throws {
        switch (kind, format) {
        case (.compliance, .json):
            try PrettyJSONWriter(output).write(self)
            try output("\n")
        case (.hosts, .json):
            try PrettyJSONWriter(output).write(hosts)
            try output("\n")
        case (.compliance, .ndjson), (.hosts, .ndjson):
            for host in hosts { try output(try JSONOutput.encode(host, pretty: false) + "\n") }
        case (.compliance, .html), (.hosts, .html):
            try HTMLReport.compliance(self, to: output)
        default:
            try output(try whole(kind, as: format))
        }
    }

    /// The document made in one piece (JSON: one encoder pass), as the streamed one must print it.
    func whole(_ kind: ComplianceRequest.Kind, as format: ReportFormat) throws -> String {
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
