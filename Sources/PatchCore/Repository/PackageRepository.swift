import Crypto
import Foundation
import GRDB
import NIOConcurrencyHelpers

/// The approved-package library: files stored once by SHA-256 in `packages/` beside the history
/// database, metadata and approval state in its `packages` table. Rows and files are kept in
/// step: a file is in place before its row is committed, and removed only after its last row.
///
/// On a PostgreSQL history the file's bytes are in the history itself (`package_files`, written in
/// the transaction that adds the row), so every controller sharing it can install what any of them
/// added; `packages/postgres-…/` in the controller's state folder (beside `journals/`) holds the
/// copies it has pushed, each checked against its digest when it is fetched (`localFile`).
public final class PackageRepository: Sendable {
    public let store: HistoryStore
    /// `<database folder>/packages`; for a PostgreSQL history, this controller's copies
    public let root: String
    /// One fetch of a file from the history at a time: hosts that need it meanwhile wait for it instead of fetching it again.
    private let fetching = NIOLock()

    /// The size of a file's parts in a PostgreSQL history: one statement each, bounded memory.
    static let partSize = 1 << 20

    public init(store: HistoryStore) {
        self.store = store
        if store.isPostgres {
            // One folder per shared history (named as its journal is), so that pruning one history's copies leaves another's.
            let journal = URL(fileURLWithPath: store.journalPath)
            root = journal.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("packages")
                .appendingPathComponent(journal.deletingPathExtension().lastPathComponent).path
        } else {
            root = URL(fileURLWithPath: store.path).deletingLastPathComponent().appendingPathComponent("packages").path
        }
    }

    /// Where the file with this digest lives on this controller (for a PostgreSQL history, once `localFile` fetched it).
    public func filePath(sha256: String) -> String {
        "\(root)/sha256/\(sha256.prefix(2))/\(sha256)"
    }

    /// The package's file on this controller, to push to endpoints. On a PostgreSQL history a file
    /// not fetched yet comes from the history in parts, is checked against its size and digest, and
    /// only then put in place; an SQLite history's file is where it was added.
    public func localFile(_ record: PackageRecord) throws -> String {
        guard let digest = record.sha256 else {
            throw PatchError.repository(file: nil, message: "\(record.reference) is installed by the endpoint's package manager: it has no file")
        }
        let target = filePath(sha256: digest)
        guard store.isPostgres else { return target }
        return try fetching.withLock {
            if FileManager.default.fileExists(atPath: target) { return target }
            let staged = try store.reading { db in
                var part: Int64 = 0
                return try stage { () throws -> Data? in
                    defer { part += 1 }
                    return try db.rows("SELECT data FROM package_files WHERE sha256 = ? AND part = ?", arguments: [digest, part]).first?["data"]
                }
            }
            defer { try? FileManager.default.removeItem(atPath: staged.path) }
            guard staged.size > 0 || record.size == 0 else {
                throw PatchError.repository(file: nil, message: "the history holds no file for \(record.reference) (sha256 \(digest)): add the file again "
                                            + "with `patchctl package add` on a controller that has it")
            }
            guard staged.sha256 == digest, record.size.map({ $0 == staged.size }) ?? true else {
                throw PatchError.repository(file: nil, message: "the history's file for \(record.reference) reads as sha256 \(staged.sha256), \(staged.size) bytes, "
                                            + "not the library's \(digest), \(record.size.map(String.init) ?? "?") bytes: nothing pushed")
            }
            try place(staged.path, at: target, for: nil)
            return target
        }
    }

    public struct AddRequest: Sendable {
        /// The package file; nil for formats the endpoint's package manager fetches (apt, dnf, winget...).
        public var path: String?
        public var name: String?
        public var version: String?
        public var platform: OSFamily?
        public var architecture: String?
        public var format: PackageFormat?
        public var installArguments: String?
        public var notes: String?

        public init(path: String?, name: String? = nil, version: String? = nil, platform: OSFamily? = nil, architecture: String? = nil,
                    format: PackageFormat? = nil, installArguments: String? = nil, notes: String? = nil) {
            self.path = path
            self.name = name
            self.version = version
            self.platform = platform
            self.architecture = architecture
            self.format = format
            self.installArguments = installArguments
            self.notes = notes
        }
    }

    /// Adds a package (or returns the existing entry when the same file is added again under the
    /// same name and version). A name@version already held with another checksum is refused.
    public func add(_ request: AddRequest, by user: String, at date: Date) async throws -> (record: PackageRecord, added: Bool) {
        var name = request.name, version = request.version, architecture = request.architecture
        var format = request.format
        var digest: String?, size: Int64?, fileName: String?, staged: String?
        defer { if let staged { try? FileManager.default.removeItem(atPath: staged) } }
        if let path = request.path {
            let inspection = try await PackageInspector.inspect(path: path)
            if let given = format, given != inspection.format {
                throw PatchError.repository(file: path, message: "is a .\(inspection.format.rawValue) file, not \(given.rawValue)")
            }
            format = inspection.format
            for (label, given, found) in [("name", name, inspection.name), ("version", version, inspection.version), ("architecture", architecture, inspection.architecture)] {
                if let given, let found, given != found {
                    throw PatchError.repository(file: path, message: "the package's own metadata says \(label) \(found), not \(given)")
                }
            }
            name = name ?? inspection.name
            version = version ?? inspection.version
            architecture = architecture ?? inspection.architecture
            fileName = URL(fileURLWithPath: path).lastPathComponent
            (staged, digest, size) = try stage(path)
        } else if format?.hasFile ?? true {
            throw PatchError.repository(file: nil, message: "give a package file, or --format apt|dnf|zypper|winget|choco|brew for one the endpoint's package manager installs")
        }
        guard let format else { throw PatchError.repository(file: request.path, message: "unknown format") }
        guard let name, !name.isEmpty, let version, !version.isEmpty else {
            throw PatchError.repository(file: request.path, message: "this format carries no name and version: give --name and --version")
        }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "+-._".contains($0) }), !version.contains("@"), !version.contains(where: \.isWhitespace) else {
            throw PatchError.repository(file: request.path, message: "name '\(name)' or version '\(version)' has characters a package name cannot have")
        }
        let platform = request.platform ?? format.family
        if platform != format.family {
            throw PatchError.repository(file: request.path, message: "a \(format.rawValue) package does not install on \(platform.rawValue)")
        }
        let arch = architecture ?? "all"
        let postgres = store.isPostgres
        return try store.recording { db in
            if postgres, let staged, let digest {
                // The bytes go with the row, unless the history has them (the same file under another name, or added again
                // after an export that found none).
                if try db.rows("SELECT 1 AS held FROM package_files WHERE sha256 = ? AND part = 0", arguments: [digest]).isEmpty {
                    try storeParts(of: staged, digest: digest, into: db)
                }
            }
            if let existing = try db.rows("SELECT * FROM packages WHERE name = ? AND version = ? AND platform = ? AND architecture = ?",
                                          arguments: [name, version, platform, arch]).first.map(PackageRecord.init(row:)) {
                guard existing.sha256 == digest else {
                    throw HistoryStore.BodyFailure(underlying: PatchError.repository(file: request.path, message: """
                        \(name)@\(version) (\(platform.rawValue), \(arch)) is already in the library with another checksum \
                        (\(existing.sha256 ?? "no file") vs \(digest ?? "no file")): a different build under the same version is refused
                        """))
                }
                if let staged, let digest { try place(staged, at: filePath(sha256: digest), for: request.path) }
                return (existing, false)
            }
            // The file goes in place before the row commits; if the commit fails, prune's orphan sweep removes it.
            if let staged, let digest { try place(staged, at: filePath(sha256: digest), for: request.path) }
            let id = try db.insertReturningID("""
                INSERT INTO packages (name, version, platform, architecture, format, sha256, size, file_name, install_arguments, notes, added_by, added_at, state)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [name, version, platform, arch, format, digest, size, fileName, request.installArguments,
                                 request.notes, user, date, ApprovalState.pending])
            try HistoryStore.insert(EventRecord(at: date, user: user, action: .packageAdd, package: name, version: version,
                                                detail: [format.rawValue, digest.map { "sha256 \($0)" }, request.notes].compactMap { $0 }.joined(separator: "; ")),
                                    into: db)
            guard let record = try db.rows("SELECT * FROM packages WHERE id = ?", arguments: [id]).first.map(PackageRecord.init(row:)) else {
                throw HistoryStore.BodyFailure(underlying: PatchError.repository(file: request.path, message: "row vanished after insert"))
            }
            return (record, true)
        }
    }

    /// Moves a staged file into place unless a file with its digest is there already.
    private func place(_ staged: String, at target: String, for source: String?) throws {
        guard !FileManager.default.fileExists(atPath: target) else { return }
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: target).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard rename(staged, target) == 0 else {
            throw PatchError.repository(file: source, message: "cannot move into \(target): \(String(cString: strerror(errno)))")
        }
    }

    /// Writes a file's bytes into the history in parts (`partSize`), inside the caller's transaction.
    private func storeParts(of path: String, digest: String, into db: any HistoryWriter) throws {
        guard let input = FileHandle(forReadingAtPath: path) else { throw PatchError.repository(file: path, message: "cannot read the staged file") }
        defer { try? input.close() }
        var part: Int64 = 0
        while true {
            let chunk = input.readData(ofLength: Self.partSize)
            if chunk.isEmpty { break }
            try db.execute("INSERT INTO package_files (sha256, part, data) VALUES (?, ?, ?)", arguments: [digest, part, chunk])
            part += 1
        }
    }

    /// Copies the file into the store's staging folder while hashing it, in bounded memory.
    private func stage(_ path: String) throws -> (path: String, sha256: String, size: Int64) {
        guard let input = FileHandle(forReadingAtPath: path) else { throw PatchError.repository(file: path, message: "cannot read the file") }
        defer { try? input.close() }
        do {
            return try stage { () -> Data? in
                let chunk = input.readData(ofLength: 1 << 20)
                return chunk.isEmpty ? nil : chunk
            }
        } catch let error as PatchError {
            throw error
        } catch {
            throw PatchError.repository(file: path, message: "copying into the library failed: \(error)")
        }
    }

    /// Writes the chunks `next` gives (nil: the end) into a new file of the staging folder while
    /// hashing them; the file is removed again if anything fails.
    private func stage(_ next: () throws -> Data?) throws -> (path: String, sha256: String, size: Int64) {
        let staging = root + "/staging"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let target = staging + "/" + UUID().uuidString
        guard FileManager.default.createFile(atPath: target, contents: nil, attributes: [.posixPermissions: 0o600]),
              let output = FileHandle(forWritingAtPath: target) else {
            throw PatchError.repository(file: nil, message: "cannot write into \(staging)")
        }
        defer { try? output.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            while let chunk = try next() {
                hasher.update(data: chunk)
                try output.write(contentsOf: chunk)
                size += Int64(chunk.count)
            }
            try output.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: target)
            throw error
        }
        return (target, Hex.encode(hasher.finalize()), size)
    }

    public func list() throws -> [PackageRecord] {
        // Sorted here, not by the server: PostgreSQL's collation would order names as SQLite does not.
        try store.reading { db in try db.rows("SELECT * FROM packages", []).map(PackageRecord.init(row:)) }.sorted { a, b in
            (a.name, a.platform.rawValue, a.architecture, a.id) < (b.name, b.platform.rawValue, b.architecture, b.id)
        }
    }

    /// Entries matching `NAME@VERSION` (or every version of NAME), optionally for one platform.
    public func find(name: String, version: String?, platform: OSFamily? = nil) throws -> [PackageRecord] {
        // Each condition bound once and typed by its column: PostgreSQL cannot type a bare `? IS NULL`.
        var sql = "SELECT * FROM packages WHERE name = ?"
        var arguments: [(any DatabaseValueConvertible)?] = [name]
        if let version {
            sql += " AND version = ?"
            arguments.append(version)
        }
        if let platform {
            sql += " AND platform = ?"
            arguments.append(platform)
        }
        return try store.reading { db in try db.rows(sql + " ORDER BY id", arguments: arguments).map(PackageRecord.init(row:)) }
    }

    /// Approves or rejects entries, recording who and why.
    public func decide(name: String, version: String?, state: ApprovalState, by user: String, note: String?, at date: Date) throws -> [PackageRecord] {
        let matches = try find(name: name, version: version)
        guard !matches.isEmpty else {
            throw PatchError.repository(file: nil, message: "no package \(name)\(version.map { "@\($0)" } ?? "") in the library")
        }
        if version == nil, Set(matches.map(\.version)).count > 1 {
            throw PatchError.repository(file: nil, message: "\(name) has several versions (\(matches.map(\.version).joined(separator: ", "))): name one as \(name)@VERSION")
        }
        try store.recording { db in
            for record in matches {
                try db.execute("UPDATE packages SET state = ?, decided_by = ?, decided_at = ?, decision_note = ? WHERE id = ?",
                               arguments: [state, user, date, note, record.id])
                try HistoryStore.insert(EventRecord(at: date, user: user, action: state == .approved ? .packageApprove : .packageReject,
                                                    package: record.name, version: record.version, detail: note), into: db)
            }
        }
        return try find(name: name, version: version)
    }

    /// Why an entry goes in a prune.
    public struct PruneItem: Codable, Sendable, Equatable {
        public var package: String?
        public var file: String?
        public var reason: String
    }

    /// Removes rejected entries, never-approved entries older than `pendingDays`, versions beyond
    /// the newest `keep` approved ones per name/platform/architecture, duplicate rows of one file
    /// under another name, and files no row points to; never an entry in `referenced`
    /// (`name` or `name@version` from policies). Rows first, then their files.
    public func prune(keep: Int, pendingDays: Int, referenced: Set<String>, now: Date, dryRun: Bool) throws -> [PruneItem] {
        let records = try list()
        var doomed: [(PackageRecord, String)] = []
        func protected(_ record: PackageRecord) -> Bool {
            referenced.contains(record.name) || referenced.contains(record.reference)
        }
        for record in records where !protected(record) {
            if record.state == .rejected {
                doomed.append((record, "rejected\(record.decisionNote.map { ": \($0)" } ?? "")"))
            } else if record.state == .pending, now.timeIntervalSince(record.addedAt) > Double(pendingDays) * 86_400 {
                doomed.append((record, "never approved in \(pendingDays) days"))
            }
        }
        let groups = Dictionary(grouping: records.filter { $0.state == .approved }) { "\($0.name)\u{0}\($0.platform.rawValue)\u{0}\($0.architecture)" }
        for (_, group) in groups {
            let newestFirst = group.sorted { VersionComparison.compare($0.version, $1.version, scheme: $0.format.versionScheme) > 0 }
            for record in newestFirst.dropFirst(keep) where !protected(record) {
                doomed.append((record, "outdated: \(keep) newer version(s) kept"))
            }
        }
        // The same file under several names: keep the first entry.
        let byDigest = Dictionary(grouping: records.filter { $0.sha256 != nil }) { $0.sha256 ?? "" }
        for (_, same) in byDigest where same.count > 1 {
            for record in same.sorted(by: { $0.id < $1.id }).dropFirst() where !protected(record) && !doomed.contains(where: { $0.0.id == record.id }) {
                doomed.append((record, "duplicate of \(same.min { $0.id < $1.id }?.reference ?? "?") (same file)"))
            }
        }
        var items = doomed.map { PruneItem(package: $0.0.reference, file: nil, reason: $0.1) }
        let doomedIDs = Set(doomed.map(\.0.id))
        let keptDigests = Set(records.filter { !doomedIDs.contains($0.id) }.compactMap(\.sha256))
        var files: [String] = []
        for digest in Set(records.compactMap(\.sha256)).subtracting(keptDigests).sorted() {
            files.append(filePath(sha256: digest))
        }
        // Orphans: files without any row (an interrupted add).
        let shaRoot = root + "/sha256"
        let known = Set(records.compactMap(\.sha256))
        for folder in (try? FileManager.default.contentsOfDirectory(atPath: shaRoot)) ?? [] {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: shaRoot + "/" + folder)) ?? [] where !known.contains(file) {
                files.append(shaRoot + "/" + folder + "/" + file)
                items.append(PruneItem(package: nil, file: shaRoot + "/" + folder + "/" + file, reason: "file without a library entry"))
            }
        }
        for file in files where !items.contains(where: { $0.file == file }) {
            items.append(PruneItem(package: nil, file: file, reason: "no remaining entry uses it"))
        }
        guard !dryRun else { return items }
        try store.recording { db in
            for (record, reason) in doomed {
                try db.execute("DELETE FROM packages WHERE id = ?", arguments: [record.id])
                try HistoryStore.insert(EventRecord(at: now, user: LocalUser.current(environment: ProcessInfo.processInfo.environment),
                                                    action: .packagePrune, package: record.name, version: record.version, detail: reason), into: db)
            }
            // A PostgreSQL history's bytes of files no entry uses any more (an SQLite history has none here).
            for digest in Set(doomed.compactMap(\.0.sha256)).subtracting(keptDigests).sorted() {
                try db.execute("DELETE FROM package_files WHERE sha256 = ?", arguments: [digest])
            }
        }
        for file in files { try? FileManager.default.removeItem(atPath: file) }
        try? FileManager.default.removeItem(atPath: root + "/staging")
        return items
    }
}
