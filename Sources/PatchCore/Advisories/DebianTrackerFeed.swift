import Foundation

/// The Debian Security Tracker JSON (https://security-tracker.debian.org/tracker/data/json):
/// source package → CVE → `releases` → codename → `{status, fixed_version, urgency, …}`, read
/// with Vuls' rules:
/// - `fixed_version "0"`: that release was never affected (no row);
/// - `open` or `undetermined`: affected with no fix yet (a row with `fixed` nil);
/// - `resolved` with a fixed version: fixed in it (a row);
/// - `TEMP-…` ids (no CVE assigned yet) are ignored;
/// - the urgency is the vendor severity (`unimportant` none, `low**` low; "not yet assigned" and
///   "end-of-life" are kept as words with severity unknown).
/// Streamed: the ~70 MB file is never held whole, and rows go to `body` as they are read.
public enum DebianTrackerFeed {
    /// Every row of the file at `path`.
    public static func read(path: String, limits: FeedLimits = .standard) throws -> [AdvisoryRange] {
        var rows: [AdvisoryRange] = []
        try forEach(path: path, limits: limits) { rows.append($0) }
        return rows
    }

    /// Hands each row to `body` as it is read; returns how many. Throws `FeedFormatError` for a
    /// file over `limits.maxBytes`, malformed or truncated JSON, nesting deeper than
    /// `limits.maxDepth` or more than `limits.maxRecords` rows (rows already handed out stay the
    /// caller's to discard: the store does so by rolling its transaction back).
    @discardableResult
    public static func forEach(path: String, limits: FeedLimits = .standard, _ body: (AdvisoryRange) throws -> Void) throws -> Int {
        let size = try FeedFile.size(path)
        guard size <= limits.maxBytes else { throw FeedFormatError("file is \(size) bytes, over the limit of \(limits.maxBytes)") }
        return try forEach(JSONStreamReader(path: path, maxDepth: limits.maxDepth), limits: limits, body)
    }

    /// The same for a document in memory (tests, small mirrors).
    @discardableResult
    public static func forEach(bytes: [UInt8], limits: FeedLimits = .standard, _ body: (AdvisoryRange) throws -> Void) throws -> Int {
        guard bytes.count <= limits.maxBytes else { throw FeedFormatError("document is \(bytes.count) bytes, over the limit of \(limits.maxBytes)") }
        return try forEach(JSONStreamReader(bytes: bytes, maxDepth: limits.maxDepth), limits: limits, body)
    }

    static func forEach(_ reader: JSONStreamReader, limits: FeedLimits, _ body: (AdvisoryRange) throws -> Void) throws -> Int {
        var count = 0
        try reader.beginObject()
        while let package = try reader.nextKey() {
            guard try reader.nextIsObject() else { throw FeedFormatError("package '\(package)' is not an object", offset: reader.offset) }
            try reader.beginObject()
            while let id = try reader.nextKey() {
                guard !id.hasPrefix("TEMP-") else {
                    try reader.skipValue()
                    continue
                }
                guard try reader.nextIsObject() else { throw FeedFormatError("\(package) \(id) is not an object", offset: reader.offset) }
                try reader.beginObject()
                while let field = try reader.nextKey() {
                    guard field == "releases" else {
                        try reader.skipValue()
                        continue
                    }
                    guard try reader.nextIsObject() else { throw FeedFormatError("\(package) \(id): releases is not an object", offset: reader.offset) }
                    try reader.beginObject()
                    while let codename = try reader.nextKey() {
                        guard try reader.nextIsObject() else {
                            throw FeedFormatError("\(package) \(id) \(codename) is not an object", offset: reader.offset)
                        }
                        var status: String?, fixed: String?, urgency: String?
                        try reader.beginObject()
                        while let key = try reader.nextKey() {
                            switch key {
                            case "status": status = try reader.readStringValue()
                            case "fixed_version": fixed = try reader.readStringValue()
                            case "urgency": urgency = try reader.readStringValue()
                            default: try reader.skipValue()
                            }
                        }
                        guard let row = row(package: package, id: id, codename: codename, status: status, fixed: fixed, urgency: urgency) else { continue }
                        count += 1
                        guard count <= limits.maxRecords else { throw FeedFormatError("more than \(limits.maxRecords) records", offset: reader.offset) }
                        try body(row)
                    }
                }
            }
        }
        try reader.finish()
        return count
    }

    /// One release's entry under Vuls' rules, or nil when it makes no row.
    static func row(package: String, id: String, codename: String, status: String?, fixed: String?, urgency: String?) -> AdvisoryRange? {
        guard !package.isEmpty, !id.isEmpty, !codename.isEmpty, fixed != "0" else { return nil }
        let fixedVersion: String?
        switch status {
        case "open", "undetermined": fixedVersion = nil
        case "resolved":
            guard let fixed, !fixed.isEmpty else { return nil }
            fixedVersion = fixed
        default: return nil
        }
        let word = urgency.flatMap { $0.isEmpty ? nil : $0 }
        return AdvisoryRange(vulnerability: id, ecosystem: Ecosystem.debian(codename: codename), package: package, fixed: fixedVersion,
                             vendorSeverity: word)
    }
}

/// Reading a feed file with its size checked first.
enum FeedFile {
    static func size(_ path: String) throws -> Int {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            guard (attributes[.type] as? FileAttributeType) == .typeRegular else { throw FeedFormatError("\(path) is not a regular file") }
            return (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch let error as FeedFormatError {
            throw error
        } catch {
            throw FeedFormatError("cannot read \(path): \((error as NSError).localizedDescription)")
        }
    }

    /// The whole file, refused when over `limit` bytes (small feeds: KEV, EPSS).
    static func contents(_ path: String, limit: Int) throws -> Data {
        let size = try size(path)
        guard size <= limit else { throw FeedFormatError("file is \(size) bytes, over the limit of \(limit)") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FeedFormatError("cannot open \(path)") }
        defer { try? handle.close() }
        let data = try handle.read(upToCount: limit + 1) ?? Data()
        guard data.count <= limit else { throw FeedFormatError("file is over the limit of \(limit) bytes") }
        return data
    }
}
