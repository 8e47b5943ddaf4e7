import Crypto
import Foundation
import GRDB

/// The approved-package library: files stored once by SHA-256 in `packages/` beside the history
/// database, metadata and approval state in its `packages` table. Rows and files are kept in
/// step: a file is in place before its row is committed, and removed only after its last row.
public final class PackageRepository: Sendable {
    public let store: HistoryStore
    /// `<database folder>/packages`
    public let root: String

    public init(store: HistoryStore) {
        self.store = store
        root = URL(fileURLWithPath: store.path).deletingLastPathComponent().appendingPathComponent("packages").path
    }

    /// Where the file with this digest lives.
    public func filePath(sha256: String) -> String {
        "\(root)/sha256/\(sha256.prefix(2))/\(sha256)"
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
        return try store.write { db in
            if let existing = try PackageRecord.fetchOne(db, sql: "SELECT * FROM packages WHERE name = ? AND version = ? AND platform = ? AND architecture = ?",
                                                         arguments: [name, version, platform, arch]) {
                guard existing.sha256 == digest else {
                    throw PatchError.repository(file: request.path, message: """
                        \(name)@\(version) (\(platform.rawValue), \(arch)) is already in the library with another checksum \
                        (\(existing.sha256 ?? "no file") vs \(digest ?? "no file")): a different build under the same version is refused
                        """)
                }
                return (existing, false)
            }
            if let staged, let digest {
                // The file goes in place before the row commits; if the commit fails, prune's orphan sweep removes it.
                let target = filePath(sha256: digest)
                if !FileManager.default.fileExists(atPath: target) {
                    try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: target).deletingLastPathComponent().path,
                                                            withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                    guard rename(staged, target) == 0 else {
                        throw PatchError.repository(file: request.path, message: "cannot move into \(target): \(String(cString: strerror(errno)))")
                    }
                }
            }
            try db.execute(sql: """
                INSERT INTO packages (name, version, platform, architecture, format, sha256, size, file_name, install_arguments, notes, added_by, added_at, state)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [name, version, platform, arch, format, digest, size, fileName, request.installArguments,
                                 request.notes, user, date, ApprovalState.pending])
            let id = db.lastInsertedRowID
            try HistoryStore.insert(EventRecord(at: date, user: user, action: .packageAdd, package: name, version: version,
                                                detail: [format.rawValue, digest.map { "sha256 \($0)" }, request.notes].compactMap { $0 }.joined(separator: "; ")), db)
            guard let record = try PackageRecord.fetchOne(db, key: id) else {
                throw PatchError.repository(file: request.path, message: "row vanished after insert")
            }
            return (record, true)
        }
    }

    /// Copies the file into the store's staging folder while hashing it, in bounded memory.
    private func stage(_ path: String) throws -> (String, String, Int64) {
        let staging = root + "/staging"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let target = staging + "/" + UUID().uuidString
        guard let input = FileHandle(forReadingAtPath: path) else { throw PatchError.repository(file: path, message: "cannot read the file") }
        defer { try? input.close() }
        guard FileManager.default.createFile(atPath: target, contents: nil, attributes: [.posixPermissions: 0o600]),
              let output = FileHandle(forWritingAtPath: target) else {
            throw PatchError.repository(file: path, message: "cannot write into \(staging)")
        }
        defer { try? output.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            while true {
                let chunk = input.readData(ofLength: 1 << 20)
                if chunk.isEmpty { break }
                hasher.update(data: chunk)
                try output.write(contentsOf: chunk)
                size += Int64(chunk.count)
            }
            try output.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: target)
            throw PatchError.repository(file: path, message: "copying into the library failed: \(error)")
        }
        return (target, Hex.encode(hasher.finalize()), size)
    }

    public func list() throws -> [PackageRecord] {
        try store.read { db in
            try PackageRecord.fetchAll(db, sql: "SELECT * FROM packages ORDER BY name, platform, architecture, id")
        }
    }

    /// Entries matching `NAME@VERSION` (or every version of NAME), optionally for one platform.
    public func find(name: String, version: String?, platform: OSFamily? = nil) throws -> [PackageRecord] {
        try store.read { db in
            try PackageRecord.fetchAll(db, sql: """
                SELECT * FROM packages WHERE name = ? AND (? IS NULL OR version = ?) AND (? IS NULL OR platform = ?) ORDER BY id
                """, arguments: [name, version, version, platform, platform])
        }
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
        try store.write { db in
            for record in matches {
                try db.execute(sql: "UPDATE packages SET state = ?, decided_by = ?, decided_at = ?, decision_note = ? WHERE id = ?",
                               arguments: [state, user, date, note, record.id])
                try HistoryStore.insert(EventRecord(at: date, user: user, action: state == .approved ? .packageApprove : .packageReject,
                                                    package: record.name, version: record.version, detail: note), db)
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
        try store.write { db in
            for (record, reason) in doomed {
                try db.execute(sql: "DELETE FROM packages WHERE id = ?", arguments: [record.id])
                try HistoryStore.insert(EventRecord(at: now, user: LocalUser.current(environment: ProcessInfo.processInfo.environment),
                                                    action: .packagePrune, package: record.name, version: record.version, detail: reason), db)
            }
        }
        for file in files { try? FileManager.default.removeItem(atPath: file) }
        try? FileManager.default.removeItem(atPath: root + "/staging")
        return items
    }
}
