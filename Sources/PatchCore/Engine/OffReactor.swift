import Dispatch

/// Runs blocking work (SQLite, files) away from the reactor thread: host tasks run on the
/// reactor, and a database write waiting on a lock there would stall every connection.
enum OffReactor {
    private static let queue = DispatchQueue(label: "patchctl.blocking", attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
