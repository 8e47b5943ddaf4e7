import Foundation

/// Makes the many independent pieces of a large report's text (its hosts, their details, its
/// patches) on every core, and hands them to `output` in order, one round of chunks at a time: the
/// text is the same as made one after the other, and never held whole.
enum ParallelText {
    /// Pieces made by one thread in one go.
    static let chunk = 256

    /// `output` gets `piece(0) + … + piece(count - 1)`, in pieces. A failing piece stops it with
    /// that piece's error (the first in order).
    static func render(count: Int, chunk: Int = ParallelText.chunk, piece: @Sendable (Int) throws -> String,
                       output: (String) throws -> Void) throws {
        let threads = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        // Few pieces: not worth a thread.
        guard threads > 1, count > chunk else {
            for index in 0..<count { try output(try piece(index)) }
            return
        }
        var start = 0
        while start < count {
            let ranges = (0..<threads).map { thread in
                min(count, start + thread * chunk)..<min(count, start + (thread + 1) * chunk)
            }.filter { !$0.isEmpty }
            let made = Made(count: ranges.count)
            DispatchQueue.concurrentPerform(iterations: ranges.count) { slot in
                made.set(slot, Result {
                    var text = ""
                    for index in ranges[slot] { text += try piece(index) }
                    return text
                })
            }
            for text in made.texts { try output(try text.get()) }
            start = ranges.last!.upperBound
        }
    }

    /// One round's texts, each written by its own thread into its own slot.
    private final class Made: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [Result<String, any Error>]

        init(count: Int) { slots = Array(repeating: .success(""), count: count) }

        func set(_ slot: Int, _ text: Result<String, any Error>) { lock.withLock { slots[slot] = text } }

        var texts: [Result<String, any Error>] { lock.withLock { slots } }
    }
}

/// A value read, never changed, by several threads at once while a report is written.
struct Unshared<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
