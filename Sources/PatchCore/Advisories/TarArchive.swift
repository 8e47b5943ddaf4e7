import Foundation
import Subprocess

/// A tar archive (ustar, with GNU long names and pax path records), plain, gzip- or
/// xz-compressed, read as a stream: each file is handed over as soon as it is complete, so only
/// one entry is held in memory however large the archive unpacks. Header checksums are verified;
/// an archive that ends without its end-of-archive block is truncated. Entry names are labels
/// only (nothing is written to disk).
public enum TarArchive {
    /// Calls `body` with the name and contents of each regular file that `wanted` accepts. The
    /// compression is recognised by its magic bytes: xz (decompressed by the system's `xz -dc`,
    /// whose output is bounded by `maxTotalBytes` and which is killed beyond it), gzip, or none.
    public static func forEachFile(path: String, limits: ArchiveLimits, xz: String = "/usr/bin/xz",
                                   where wanted: @escaping @Sendable (String) -> Bool = { _ in true },
                                   _ body: @escaping @Sendable (String, Data) throws -> Void) async throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        guard let size, let handle = FileHandle(forReadingAtPath: path) else {
            throw FeedReadError(source: path, reason: .io, message: "cannot read the file")
        }
        guard size <= limits.maxArchiveBytes else {
            try? handle.close()
            throw FeedReadError(source: path, reason: .tooLarge, message: "\(size) bytes, more than the limit of \(limits.maxArchiveBytes)")
        }
        let magic = (try? handle.read(upToCount: 6)) ?? Data()
        try? handle.close()
        if magic.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) {
            try await forEachFileXZ(path: path, limits: limits, xz: xz, wanted: wanted, body)
            return
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw FeedReadError(source: path, reason: .io, message: "cannot read the file: \(error.localizedDescription)")
        }
        var reader = TarReader(source: path, limits: limits, wanted: wanted, body: body)
        if magic.starts(with: [0x1F, 0x8B]) {
            try Gzip.decompress(data, limit: limits.maxTotalBytes, source: path) { try reader.feed($0) }
        } else {
            guard data.count <= limits.maxTotalBytes else {
                throw FeedReadError(source: path, reason: .tooLarge, message: "\(data.count) bytes, more than the limit of \(limits.maxTotalBytes)")
            }
            try data.withUnsafeBytes { try reader.feed($0) }
        }
        try reader.finish()
    }

    /// What xz may print on stderr before it is cut (shown in errors only).
    static let maxXZErrors = 64 << 10

    static func forEachFileXZ(path: String, limits: ArchiveLimits, xz: String, wanted: @escaping @Sendable (String) -> Bool,
                              _ body: @escaping @Sendable (String, Data) throws -> Void) async throws {
        let result: ExecutionResult<TarReader, SequenceOutput, BytesOutput>
        do {
            result = try await Subprocess.run(.path(.init(xz)), arguments: ["-dc", "--", path], input: .none,
                                              output: .sequence, error: .bytes(limit: maxXZErrors)) { execution in
                var reader = TarReader(source: path, limits: limits, wanted: wanted, body: body)
                var total = 0
                do {
                    for try await chunk in execution.standardOutput {
                        total += chunk.count
                        guard total <= limits.maxTotalBytes else {
                            throw FeedReadError(source: path, reason: .tooLarge,
                                                message: "decompresses to more than \(limits.maxTotalBytes) bytes (a compression bomb or a limit set too low)")
                        }
                        try chunk.withUnsafeBytes { try reader.feed($0) }
                    }
                } catch {
                    // Stop xz at once rather than let it write on into a pipe nobody reads.
                    try? execution.send(signal: .kill)
                    throw error
                }
                return reader
            }
        } catch let error as FeedReadError {
            throw error
        } catch {
            throw FeedReadError(source: path, reason: .io, message: "cannot run \(xz): \(error)")
        }
        // xz's own verdict first: a cut or damaged .xz is reported as such, not as a short tar.
        guard case .exited(0) = result.terminationStatus else {
            let problem = String(decoding: result.standardError, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let reason: FeedReadError.Reason = problem.contains("Unexpected end of input") ? .truncated : .corrupt
            throw FeedReadError(source: path, reason: reason, message: "xz \(result.terminationStatus.summary): \(problem.prefix(2000))")
        }
        var reader = result.closureResult
        try reader.finish()
    }
}
