import Foundation

/// Gathers small pieces of output into writes of 64 KiB.
final class ChunkBuffer {
    private var data = Data()
    private let write: (Data) -> Void

    init(write: @escaping (Data) -> Void) {
        self.write = write
        data.reserveCapacity(1 << 16)
    }

    func append(_ text: String) {
        data.append(contentsOf: text.utf8)
        if data.count >= 1 << 16 { flush() }
    }

    func flush() {
        guard !data.isEmpty else { return }
        write(data)
        data.removeAll(keepingCapacity: true)
    }
}
