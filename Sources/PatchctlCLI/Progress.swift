import Foundation
import PatchCore

/// One self-erasing status line on stderr while hosts are in flight.
final class Progress: @unchecked Sendable {
    private let total: Int
    private let enabled: Bool
    private let lock = NSLock()
    private var done = 0
    private var failed = 0

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
        if enabled { Terminal.writeControl("\r\u{1B}[K0/\(total) hosts done") }
    }

    func finished(_ name: String, ok: Bool) {
        guard enabled else { return }
        lock.lock()
        done += 1
        if !ok { failed += 1 }
        // The name is the inventory's; shown with its controls visible, as everywhere.
        let line = "\r\u{1B}[K\(done)/\(total) hosts done" + (failed > 0 ? ", \(failed) failed" : "") + " (last: \(TerminalText.neutralised(name)))"
        lock.unlock()
        Terminal.writeControl(line)
    }

    func clear() {
        if enabled { Terminal.writeControl("\r\u{1B}[K") }
    }
}
