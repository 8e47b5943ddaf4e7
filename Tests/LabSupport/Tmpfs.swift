import Foundation

/// A small tmpfs mounted on a fresh temporary directory (tests run as root), for disk-full and
/// read-only file system faults. `fill()` takes every free byte; `unmount()` in cleanup.
public struct Tmpfs: Sendable {
    public let path: String

    public static func mount(sizeKiB: Int) throws -> Tmpfs {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-tmpfs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(sizeKiB)k,mode=0700", "tmpfs", folder]) == 0 else {
            throw HostileEndpoint.Failure("cannot mount a tmpfs on \(folder) (tests run as root)")
        }
        return Tmpfs(path: folder)
    }

    /// Writes a filler file until the file system is full.
    public func fill() {
        let fd = open(path + "/filler", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x66, count: 4096)
        while chunk.withUnsafeBytes({ write(fd, $0.baseAddress!, $0.count) }) > 0 {}
        var byte: UInt8 = 0x66
        while write(fd, &byte, 1) > 0 {}
    }

    public func free() {
        unlink(path + "/filler")
    }

    /// Remounts it read-only (`true`) or read-write.
    public func remount(readOnly: Bool) throws {
        guard Self.run("/bin/mount", ["-o", "remount,\(readOnly ? "ro" : "rw")", path]) == 0 else {
            throw HostileEndpoint.Failure("cannot remount \(path)")
        }
    }

    public func unmount() {
        _ = Self.run("/bin/umount", ["-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    @discardableResult
    public static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        return process.waitForExit()
    }
}
