import Foundation
import PatchCore

/// One self-erasing status line on stderr while hosts are in flight: how many of all are done
/// (and failed), then how many are in each phase now, and the bytes of uploads in flight:
/// `12/300 hosts done, 2 failed · connecting 40 · scanning 8 · uploading 2 (120/400 MiB)`.
/// It is cut to the terminal's width, so it never wraps (a wrapped line cannot be erased).
/// Phases are reported from host tasks on the reactor thread: the state changes there under the
/// lock, and the line is written by a serial queue of its own, in order, so a terminal that
/// blocks never stalls the hosts' I/O.
final class Progress: @unchecked Sendable {
    private let total: Int
    private let enabled: Bool
    private let width: Int
    /// The task's stderr, taken here: the writing queue has no task-local values.
    private let sink = Terminal.sink
    private let writer = DispatchQueue(label: "patchctl.progress")
    private let lock = NSLock()
    private var done = 0
    private var failed = 0
    private var phases: [String: HostPhase] = [:]
    private var uploads: [String: (sent: Int64, size: Int64)] = [:]
    private var last: String?

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
        width = Terminal.sink.columns(.stderr) ?? 80
    }

    /// The first line, before any host reports.
    func start() {
        guard enabled else { return }
        lock.withLock { draw() }
    }

    /// For `ConnectionOptions.onPhase`.
    func phase(_ host: String, _ phase: HostPhase) {
        guard enabled else { return }
        lock.withLock {
            phases[host] = phase
            if phase != .uploading { uploads[host] = nil }
            draw()
        }
    }

    /// For the package installer's upload progress: bytes sent of the file's size.
    func uploaded(_ host: String, sent: Int64, size: Int64) {
        guard enabled else { return }
        lock.withLock {
            uploads[host] = sent >= size ? nil : (sent, size)
            draw()
        }
    }

    func finished(_ name: String, ok: Bool) {
        guard enabled else { return }
        lock.withLock {
            done += 1
            if !ok { failed += 1 }
            phases[name] = nil
            uploads[name] = nil
            last = name
            draw()
        }
    }

    /// Erases the line once every line queued before it is written.
    func clear() {
        guard enabled else { return }
        writer.sync { sink.write(Data("\r\u{1B}[K".utf8), to: .stderr) }
    }

    /// Under the lock: lines are queued in the order the events happened.
    private func draw() {
        let counts = HostPhase.allCases.compactMap { phase -> (HostPhase, Int)? in
            let count = phases.values.lazy.filter { $0 == phase }.count
            return count > 0 ? (phase, count) : nil
        }
        let bytes = uploads.values.reduce((sent: Int64(0), size: Int64(0))) { ($0.sent + $1.sent, $0.size + $1.size) }
        let text = "\r\u{1B}[K" + Self.line(total: total, done: done, failed: failed, phases: counts,
                                             uploads: uploads.isEmpty ? nil : bytes, last: last, width: width)
        let sink = self.sink
        writer.async { sink.write(Data(text.utf8), to: .stderr) }
    }

    /// The status text, at most `width - 1` characters (the last column would wrap on some terminals).
    static func line(total: Int, done: Int, failed: Int, phases: [(HostPhase, Int)], uploads: (sent: Int64, size: Int64)?,
                     last: String?, width: Int) -> String {
        var text = "\(done)/\(total) hosts done" + (failed > 0 ? ", \(failed) failed" : "")
        for (phase, count) in phases {
            text += " · \(phase.rawValue) \(count)"
            if phase == .uploading, let uploads { text += " (\(uploads.sent >> 20)/\(uploads.size >> 20) MiB)" }
        }
        // The name is the inventory's; shown with its controls visible, as everywhere.
        if let last { text += " (last: \(TerminalText.neutralised(last)))" }
        let room = max(20, width - 1)
        return text.count <= room ? text : String(text.prefix(room - 1)) + "…"
    }
}
