import Foundation
import Testing
@testable import PatchCore

@Suite("SHA-256")
struct SHA256Tests {
    // FIPS 180-4 examples (NIST CSRC "SHA256.pdf") and the empty string.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func nistVectors(input: String, digest: String) {
        #expect(SHA256.hex(Array(input.utf8)) == digest)
    }

    @Test func streamingInOddPiecesEqualsSha256sum() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)").path
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(3 << 20) + 17).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var hasher = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 1000, 4096, 1 << 20].cycled() {
            guard offset < bytes.count else { break }
            let end = min(bytes.count, offset + size)
            bytes[offset..<end].withUnsafeBytes { hasher.update($0) }
            offset = end
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let expected = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ").first.map(String.init)
        process.waitUntilExit()
        #expect(hasher.finalizeHex() == expected)
    }
}

extension Array {
    /// Endless repetition, for chunk-size patterns.
    func cycled() -> AnySequence<Element> {
        AnySequence { () -> AnyIterator<Element> in
            var index = 0
            return AnyIterator {
                defer { index = (index + 1) % Swift.max(1, count) }
                return isEmpty ? nil : self[index]
            }
        }
    }
}
