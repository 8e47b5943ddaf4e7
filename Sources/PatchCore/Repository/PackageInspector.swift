import Foundation
import Subprocess

/// What a package file says about itself: format from its magic bytes, and for .deb/.rpm the
/// name, version and architecture from its own metadata (so the library cannot be told a lie).
public struct PackageInspection: Sendable, Equatable {
    public var format: PackageFormat
    public var name: String?
    public var version: String?
    public var architecture: String?
}

public enum PackageInspector {
    public static func inspect(path: String) async throws -> PackageInspection {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw PatchError.repository(file: path, message: "cannot read the file")
        }
        defer { try? handle.close() }
        let head = [UInt8](handle.readData(ofLength: 8192))
        if head.starts(with: Array("!<arch>\ndebian-binary".utf8)) {
            return try await inspectDeb(path)
        }
        if head.starts(with: [0xED, 0xAB, 0xEE, 0xDB]) {
            return try inspectRPM(head: head, handle: handle, path: path)
        }
        if head.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            return PackageInspection(format: .msi)
        }
        if head.starts(with: Array("MZ".utf8)) {
            return PackageInspection(format: .exe)
        }
        if head.starts(with: Array("xar!".utf8)) {
            return PackageInspection(format: .pkg)
        }
        // A UDIF disk image ends with a 512-byte "koly" trailer.
        let size = (try? handle.seekToEnd()) ?? 0
        if size >= 512 {
            try? handle.seek(toOffset: size - 512)
            if [UInt8](handle.readData(ofLength: 4)) == Array("koly".utf8) { return PackageInspection(format: .dmg) }
        }
        throw PatchError.repository(file: path, message: "not a package file patchctl knows (deb, rpm, msi, exe, pkg, dmg)")
    }

    /// What dpkg-deb may print: three short fields on stdout; stderr is only shown in an error.
    static let maxDpkgOutput = 64 << 10, maxDpkgErrors = 1 << 20

    /// dpkg-deb reads the control file (compressed with gzip, xz or zstd inside the ar archive).
    /// Both pipes are drained at once (swift-subprocess), so a child that fills stderr before it
    /// writes stdout cannot stall; `dpkgDeb` is a parameter so a test can stand in for it.
    static func inspectDeb(_ path: String, dpkgDeb: String = "/usr/bin/dpkg-deb") async throws -> PackageInspection {
        let result: ExecutionResult<Void, BytesOutput, BytesOutput>
        do {
            result = try await Subprocess.run(
                .path(.init(dpkgDeb)), arguments: ["--show", "--showformat=${Package}\\t${Version}\\t${Architecture}", "--", path],
                output: .bytes(limit: maxDpkgOutput), error: .bytes(limit: maxDpkgErrors))
        } catch let error as SubprocessError where error.code == .outputLimitExceeded {
            throw PatchError.repository(file: path, message: "not a valid .deb: dpkg-deb printed more than expected")
        } catch {
            throw PatchError.repository(file: path, message: "cannot run dpkg-deb to read the package: \(error)")
        }
        let problem = String(decoding: result.standardError, as: UTF8.self).trimmed
        let fields = String(decoding: result.standardOutput, as: UTF8.self).trimmed.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard case .exited(0) = result.terminationStatus, fields.count == 3, !fields[0].isEmpty else {
            throw PatchError.repository(file: path, message: "not a valid .deb: \(problem.isEmpty ? "no control data" : String(problem.prefix(2000)))")
        }
        return PackageInspection(format: .deb, name: fields[0], version: fields[1], architecture: fields[2])
    }

    /// The rpm file format: a 96-byte lead, the signature header (padded to 8 bytes), then the
    /// main header, whose index holds NAME (1000), VERSION (1001), RELEASE (1002), EPOCH (1003), ARCH (1022).
    static func inspectRPM(head: [UInt8], handle: FileHandle, path: String) throws -> PackageInspection {
        let failure = PatchError.repository(file: path, message: "not a valid .rpm (header unreadable)")
        try handle.seek(toOffset: 96)
        func readHeader(pad: Bool) throws -> (entries: [(tag: UInt32, type: UInt32, offset: Int, count: Int)], data: [UInt8]) {
            let intro = [UInt8](handle.readData(ofLength: 16))
            guard intro.count == 16, intro.starts(with: [0x8E, 0xAD, 0xE8, 0x01]) else { throw failure }
            let count = Int(be32(intro, 8)), size = Int(be32(intro, 12))
            guard count < 100_000, size < 64 << 20 else { throw failure }
            let index = [UInt8](handle.readData(ofLength: count * 16))
            let data = [UInt8](handle.readData(ofLength: size))
            guard index.count == count * 16, data.count == size else { throw failure }
            if pad, size % 8 != 0 { _ = handle.readData(ofLength: 8 - size % 8) }
            return ((0..<count).map { i in
                (be32(index, i * 16), be32(index, i * 16 + 4), Int(be32(index, i * 16 + 8)), Int(be32(index, i * 16 + 12)))
            }, data)
        }
        _ = try readHeader(pad: true)
        let (entries, data) = try readHeader(pad: false)
        func string(_ tag: UInt32) -> String? {
            guard let entry = entries.first(where: { $0.tag == tag }), entry.type == 6 || entry.type == 9, entry.offset < data.count else { return nil }
            let bytes = data[entry.offset...].prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        func int32(_ tag: UInt32) -> UInt32? {
            guard let entry = entries.first(where: { $0.tag == tag }), entry.type == 4, entry.offset + 4 <= data.count else { return nil }
            return be32(data, entry.offset)
        }
        guard let name = string(1000), let version = string(1001), let release = string(1002) else { throw failure }
        let epoch = int32(1003).map { "\($0):" } ?? ""
        return PackageInspection(format: .rpm, name: name, version: "\(epoch)\(version)-\(release)", architecture: string(1022))
    }

    private static func be32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}
