import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// The fallback for records the database would not take (disk full, I/O error): NDJSON lines in
/// `<db>.journal` (0600) beside the database. A run reserves disk space for it when it starts, so
/// it can still be written when the disk that holds the database has filled up. The next command
/// that opens the database for recording imports it and marks its runs `incomplete`.
public final class HistoryJournal: @unchecked Sendable {
    /// One line of the journal.
    struct Entry: Codable {
        enum Kind: String, Codable { case host, finish, event }
        var type: Kind
        var runId: String?
        var scan: HostScan?
        var exec: ExecResult?
        var deploy: DeployHostRecord?
        var state: RunState?
        var finishedAt: Date?
        var report: String?
        var event: EventRecord?

        init(type: Kind, runId: String? = nil) {
            self.type = type
            self.runId = runId
        }

        enum CodingKeys: String, CodingKey {
            case type
            case runId = "run_id"
            case scan, exec, deploy, state
            case finishedAt = "finished_at"
            case report, event
        }
    }

    static func entry(for record: any HistoryRecord, runId: String) -> Entry {
        var entry = Entry(type: .host, runId: runId)
        switch record {
        case let scan as HostScan: entry.scan = scan
        case let exec as ExecResult: entry.exec = exec
        case let deploy as DeployHostRecord: entry.deploy = deploy
        default: break
        }
        return entry
    }

    public let path: String
    private let lock = NSLock()
    private var descriptor: Int32 = -1
    private var reserved = 0
    /// Why the journal could not be opened, if it could not.
    private var openProblem: String?
    /// Entries this process appended.
    public private(set) var written = 0

    /// Largest journal a later open imports (a bound on what it reads into memory).
    static let importLimit = 256 << 20
    static let fallocateKeepSize: Int32 = 0x01
    static let fallocatePunchHole: Int32 = 0x02

    /// glibc's fallocate(2) wrapper (declared only under _GNU_SOURCE, so looked up at run time).
    private static let fallocateFunction: (@convention(c) (Int32, Int32, Int, Int) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "fallocate") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32, Int, Int) -> Int32).self)
    }()

    private static func fallocate(_ fd: Int32, _ mode: Int32, _ offset: Int, _ length: Int) -> Int32 {
        fallocateFunction?(fd, mode, offset, length) ?? -1
    }

    public static func path(forDatabase database: String) -> String { database + ".journal" }

    /// Opens the journal at `path` (creating it 0600) and reserves up to `reserve` bytes of disk
    /// beyond its end. Never throws: a journal that cannot be opened makes `append` fail, as the
    /// database did.
    public init(path: String, reserve: Int = 1 << 20) {
        self.path = path
        for _ in 0..<5 {
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                openProblem = String(cString: strerror(errno))
                return
            }
            // Shared: many runs may append; an import takes it exclusively, and only when nobody appends.
            let deadline = Date().addingTimeInterval(10)
            while flock(fd, LOCK_SH | LOCK_NB) != 0, Date() < deadline { usleep(10_000) }
            var opened = stat()
            var named = stat()
            // An import may have removed the file between open and flock: then open the new one.
            guard fstat(fd, &opened) == 0, opened.st_nlink > 0, stat(path, &named) == 0, named.st_ino == opened.st_ino else {
                Glibc.close(fd)
                continue
            }
            fchmod(fd, 0o600)
            descriptor = fd
            var size = reserve
            while size >= 64 << 10 {
                if Self.fallocate(fd, Self.fallocateKeepSize, Int(opened.st_size), size) == 0 {
                    reserved = size
                    break
                }
                size /= 2
            }
            return
        }
        openProblem = "the file kept being replaced"
    }

    deinit { close() }

    func append(_ entries: [Entry]) throws {
        guard !entries.isEmpty else { return }
        try lock.withLock {
            guard descriptor >= 0 else {
                throw PatchError.store(path: path, message: "cannot open the journal: \(openProblem ?? "closed")")
            }
            for entry in entries {
                // One write per line: O_APPEND keeps concurrent runs' lines whole.
                let line = Data((try StoreCodec.encode(entry) + "\n").utf8)
                try line.withUnsafeBytes { buffer in
                    var offset = 0
                    while offset < buffer.count {
                        let count = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                        if count < 0 {
                            if errno == EINTR { continue }
                            throw PatchError.store(path: path, message: "cannot write the journal: \(String(cString: strerror(errno)))")
                        }
                        offset += count
                    }
                }
                written += 1
            }
            _ = fsync(descriptor)
        }
    }

    /// Gives back the unused reserve; removes the file when it is empty and nobody else has it open.
    public func close() {
        lock.withLock {
            guard descriptor >= 0 else { return }
            var status = stat()
            if fstat(descriptor, &status) == 0, reserved > 0 {
                _ = Self.fallocate(descriptor, Self.fallocatePunchHole | Self.fallocateKeepSize, Int(status.st_size), reserved)
            }
            if status.st_size == 0, flock(descriptor, LOCK_EX | LOCK_NB) == 0 { unlink(path) }
            Glibc.close(descriptor)
            descriptor = -1
        }
    }

    /// Imports the journal at `path` if there is one and no running command still appends to it:
    /// every record in one transaction of `recording`, each of its runs marked `incomplete`; then
    /// removes the file. Returns the runs imported. SQLite histories call it with the database's
    /// lock held.
    static func importPending(_ path: String, source: String,
                              recording: ((any HistoryWriter) throws -> Void) throws -> Void) throws -> [String] {
        let fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return [] }
        defer { Glibc.close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return [] }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return [] }
        guard status.st_size > 0 else {
            unlink(path)
            return []
        }
        guard status.st_size <= importLimit else {
            throw PatchError.store(path: path, message: "the journal is larger than \(importLimit >> 20) MiB: not imported; inspect it, then remove it")
        }
        let data = FileHandle(fileDescriptor: fd, closeOnDealloc: false).readDataToEndOfFile()
        // A line cut short by a full disk or a kill does not parse: skipped, the rest is imported.
        let entries = data.split(separator: UInt8(ascii: "\n")).compactMap { try? StoreCodec.decode(Entry.self, from: Data($0)) }
        var runs: [String] = []
        try recording { db in
            var finishes: [String: Entry] = [:]
            var firstSeen: [String: (kind: RunKind, started: Date)] = [:]
            for entry in entries {
                switch entry.type {
                case .host:
                    guard let runId = entry.runId else { continue }
                    let record: (any HistoryRecord)? = entry.scan ?? entry.exec ?? entry.deploy
                    guard let record else { continue }
                    if firstSeen[runId] == nil {
                        firstSeen[runId] = (entry.scan != nil ? .scan : entry.exec != nil ? .exec : .deploy, record.startedAt)
                        runs.append(runId)
                    }
                    try ensureRun(db, id: runId, kind: firstSeen[runId]!.kind, startedAt: record.startedAt)
                    try record.insert(into: db, runId: runId)
                case .finish:
                    guard let runId = entry.runId else { continue }
                    finishes[runId] = entry
                    if firstSeen[runId] == nil {
                        firstSeen[runId] = (.scan, entry.finishedAt ?? Date())
                        runs.append(runId)
                    }
                case .event:
                    if let event = entry.event { try HistoryStore.insert(event, into: db) }
                }
            }
            for runId in runs {
                let finish = finishes[runId]
                try ensureRun(db, id: runId, kind: firstSeen[runId]!.kind, startedAt: firstSeen[runId]!.started)
                try db.execute("""
                    UPDATE runs SET state = ?, finished_at = COALESCE(?, finished_at, ?), report = COALESCE(?, report) WHERE id = ?
                    """, arguments: [RunState.incomplete, finish?.finishedAt, Date(), finish?.report, runId])
            }
        }
        _ = ftruncate(fd, 0)
        unlink(path)
        return runs
    }

    /// The run row a journal record belongs to, if the database lost it too.
    private static func ensureRun(_ db: any HistoryWriter, id: String, kind: RunKind, startedAt: Date) throws {
        try db.execute("INSERT INTO runs (id, kind, started_at, state) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                       arguments: [id, kind, startedAt, RunState.incomplete])
    }
}
