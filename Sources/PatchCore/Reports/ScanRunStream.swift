import Foundation

/// A scan run's own facts and its hosts' names, in the order `history show` lists them
/// (`HistoryView.runOutline`): the hosts themselves are read in batches.
public struct ScanRunOutline: Sendable {
    public var runId: String
    public var kind: RunKind
    public var startedAt: Date
    public var finishedAt: Date?
    public var hosts: [String]

    /// Hosts read at a time: a few thousand findings.
    public static let batch = 250
}

/// `history show` of a scan run, read and written a batch of hosts at a time. Read whole, a run of
/// 10,000 hosts (210,000 findings) took 1 GB and 10 s for its JSON: every finding's row, then
/// every host, then the encoder's tree and its text. The output is the same, byte for byte:
/// `JSONOutput.encode(run, pretty: true)` for JSON, a `RunLine` per host for NDJSON,
/// `TableReport.scan` for a table (whose host table is laid out over all hosts, so its cells
/// are kept to the end). Reads through `view`: use it inside the `withView` that gave the view.
public struct ScanRunStream {
    public let outline: ScanRunOutline
    private let read: ([String]) throws -> [HostScan]
    private let batch: Int

    public init(_ view: HistoryView, id: String, batch: Int = ScanRunOutline.batch) throws {
        precondition(batch > 0)
        let outline = try view.runOutline(id: id)
        self.outline = outline
        self.batch = batch
        read = { try view.runHosts(of: outline.runId, named: $0) }
    }

    /// Each batch of hosts in turn, in the run's order.
    func forEachBatch(_ body: ([HostScan]) throws -> Void) throws {
        for names in HistoryStore.chunked(outline.hosts, size: batch) { try body(try read(names)) }
    }

    /// The run as `format`, handed to `output` piece by piece.
    public func render(_ format: OutputFormat, details: Bool, to output: @escaping (String) throws -> Void) throws {
        switch format {
        case .json:
            try PrettyJSONWriter(output).write(Document(stream: self, summary: SummaryBox()))
            try output("\n")
        case .ndjson:
            try forEachBatch { hosts in
                for host in hosts { try output(try JSONOutput.encode(RunLine(runId: outline.runId, item: host), pretty: false) + "\n") }
            }
        case .table:
            var table = TableReport.ScanTable(details: details)
            var tally = RunSummary.Tally()
            try forEachBatch { hosts in
                table.add(hosts)
                tally.add(hosts)
            }
            try output(table.text(summaryLine: TableReport.summaryLine(tally.summary, runId: outline.runId, startedAt: outline.startedAt,
                                                                       finishedAt: outline.finishedAt)))
        }
    }

    /// `ScanRun`'s members, its hosts read as they are written and its summary added up meanwhile.
    private struct Document: StreamedJSON {
        let stream: ScanRunStream
        let summary: SummaryBox

        func encode(to encoder: any Encoder) throws {
            let outline = stream.outline
            var container = encoder.container(keyedBy: ScanRun.CodingKeys.self)
            try container.encode(outline.runId, forKey: .runId)
            try container.encode(outline.kind, forKey: .kind)
            try container.encode(outline.startedAt, forKey: .startedAt)
            try container.encode(outline.finishedAt, forKey: .finishedAt)
            try container.encode(Hosts(stream: stream, summary: summary), forKey: .hosts)
            try container.encode(summary, forKey: .summary)
        }
    }

    /// The run's hosts for `PrettyJSONWriter`, a batch at a time, each batch also counted into the
    /// summary, which comes after the hosts (the keys are sorted: "hosts" before "summary").
    private struct Hosts: BatchedJSONArray {
        let stream: ScanRunStream
        let summary: SummaryBox

        func forEachBatch(_ body: ([any Encodable & Sendable]) throws -> Void) throws {
            try stream.forEachBatch { batch in
                summary.tally.add(batch)
                try body(batch)
            }
            summary.complete = true
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.unkeyedContainer()
            try forEachBatch { batch in for host in batch { try container.encode(host) } }
        }
    }

    /// The run's summary, added up while its hosts are written.
    private final class SummaryBox: Encodable {
        var tally = RunSummary.Tally()
        var complete = false

        func encode(to encoder: any Encoder) throws {
            guard complete else {
                throw EncodingError.invalidValue(tally.summary, .init(codingPath: encoder.codingPath, debugDescription: "the summary was asked for before the hosts were written"))
            }
            try tally.summary.encode(to: encoder)
        }
    }
}

/// An item encoded with a `run_id` key added to its own (an item's keyed container is shared):
/// an NDJSON line of a recorded run, which read alone still says which run it belongs to.
public struct RunLine<Item: Encodable>: Encodable {
    public var runId: String
    public var item: Item

    public init(runId: String, item: Item) {
        self.runId = runId
        self.item = item
    }

    public func encode(to encoder: any Encoder) throws {
        try item.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(runId, forKey: .runId)
    }

    enum CodingKeys: String, CodingKey {
        case runId = "run_id"
    }
}
