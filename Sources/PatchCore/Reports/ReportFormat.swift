/// How a report is written: a table for people, JSON / NDJSON for programs, CSV for
/// spreadsheets (one row per host × finding), one self-contained HTML file for auditors.
public enum ReportFormat: String, Sendable, CaseIterable {
    case table, json, ndjson, csv, html

    /// The format a file name asks for (`report.html`), nil for anything else.
    public init?(fileName: String) {
        guard let dot = fileName.lastIndex(of: "."), !fileName[dot...].contains("/") else { return nil }
        self.init(rawValue: fileName[fileName.index(after: dot)...].lowercased())
        if self == .table { return nil }
    }
}
