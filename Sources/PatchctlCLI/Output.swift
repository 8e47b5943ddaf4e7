import Foundation
import PatchCore

/// The one place a command's result reaches stdout in the format asked for: JSON is one
/// indented document, NDJSON one compact line per item, a table is text with its control
/// characters shown (`Terminal.write`).
enum Output {
    /// `document` for JSON, `items` for NDJSON (none when they were streamed as they finished).
    static func print<Document: Encodable, Item: Encodable>(
        _ document: Document, items: [Item], as format: OutputFormat, table: () -> String
    ) throws {
        switch format {
        case .json: Terminal.writeDocument(try JSONOutput.encode(document, pretty: true) + "\n")
        case .ndjson: for item in items { Terminal.writeDocument(try JSONOutput.encode(item, pretty: false) + "\n") }
        case .table: Terminal.write(table())
        }
    }

    /// A list: the JSON document is the array itself.
    static func print<Item: Encodable>(list items: [Item], as format: OutputFormat, table: () -> String) throws {
        try print(items, items: items, as: format, table: table)
    }

    /// One record: indented for JSON, one line for NDJSON.
    static func print<Item: Encodable>(one item: Item, as format: OutputFormat, table: () -> String) throws {
        try print(item, items: [item], as: format, table: table)
    }

    /// A finished run: NDJSON prints its hosts unless they were already streamed as they finished.
    static func print<Run: Encodable, Host: Encodable>(run: Run, hosts: [Host], as format: OutputFormat, streamed: Bool, table: () -> String) throws {
        try print(run, items: streamed ? [] : hosts, as: format, table: table)
    }

    /// A recorded scan run read and printed a batch of hosts at a time (`ScanRunStream`).
    static func print(streaming run: ScanRunStream, as format: OutputFormat, details: Bool) throws {
        try stream(table: format == .table) { try run.render(format, details: details, to: $0) }
    }

    /// A document `render` hands over piece by piece, to stdout: a table is text (neutralised, laid
    /// out whole); JSON, NDJSON, CSV and HTML escape their own values and go out in 64 KiB writes as
    /// they are made, never held whole.
    static func stream(table: Bool, _ render: (@escaping (String) throws -> Void) throws -> Void) throws {
        guard !table else {
            var text = ""
            try render { text += $0 }
            return Terminal.write(text)
        }
        let buffer = ChunkBuffer { Terminal.writeDocument($0) }
        try render { buffer.append($0) }
        buffer.flush()
    }

    /// One NDJSON line, as a host finishes (a callback that cannot throw): a value with no JSON
    /// form is reported on stderr, never printed as an empty object.
    static func line<Item: Encodable>(_ item: Item) {
        do {
            Terminal.writeDocument(try JSONOutput.encode(item, pretty: false) + "\n")
        } catch {
            Terminal.writeErrorLine("cannot print a result as JSON: \(error)")
        }
    }

    /// One NDJSON line of a recorded run: the host's object with the run's `run_id` beside its
    /// own keys, so a line read alone still says which run it belongs to.
    static func line<Item: Encodable>(_ item: Item, runId: String) {
        line(RunLine(runId: runId, item: item))
    }

    /// A table line whose interpolated values (names, reasons) are shown on it, newlines included.
    static func text(_ line: TerminalLine) -> String { line.text }
}
