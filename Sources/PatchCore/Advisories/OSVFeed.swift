import Foundation
import NIOConcurrencyHelpers

/// Reads OSV data (ossf.github.io/osv-schema) into advisory ranges: one JSON record file, a
/// directory of them, a zip (osv.dev's `<Ecosystem>/all.zip`: Debian, Rocky Linux, AlmaLinux…)
/// or a tar, plain or compressed (Ubuntu's `osv-all.tar.xz`).
///
/// How records become ranges:
/// - Each `affected[]` entry's `package{ecosystem, name}`; its ecosystem normalised
///   (`Ecosystem.normalize(osv:)`). Kind `ubuntu` keeps only `Ubuntu:` ecosystems.
/// - `ECOSYSTEM` ranges: each `introduced` with the `fixed` after it is one range; an
///   `introduced` with no `fixed` after it is open (no fix). `last_affected` closes a pair without
///   a fix version: the range is kept open (fixed nil), the conservative reading, since a range
///   here can only end at a version that fixes it and the first unaffected version is not named.
///   `GIT` and `SEMVER` ranges are ignored (they do not order distribution packages).
/// - `versions` lists are used only where an entry has no `ECOSYSTEM` range: the entry is then
///   open from the lowest version listed (an enumeration names no fix).
/// - The vulnerability is the record's id when it is a CVE, else each CVE among `aliases`,
///   `upstream` and `related`, Ubuntu's and Debian's own CVE records (`UBUNTU-CVE-…`,
///   `DEBIAN-CVE-…`) standing for their CVE; a record naming no CVE keeps its own id. The record
///   id is the `advisory` unless the record is itself a CVE record.
/// - The vendor severity word: `ecosystem_specific.ubuntu_priority`, a `severity` word in
///   `ecosystem_specific` or `database_specific`, a `severity` entry of type `Ubuntu`, or the
///   summary's leading word as Rocky and Alma write it (`Important: kernel security update`).
///   CVSS: the first `CVSS_V3` vector, scored by `CVSS.baseScore`; a `CVSS_V4` vector alone gives
///   no score (v4 is not computed).
/// - `withdrawn` records are skipped. Ranges that several records give for the same CVE,
///   package and versions are merged into one (`merged`).
/// Every document is bounded by `FeedLimits`: file size, decompressed size, record count, depth.
public enum OSVFeed {
    /// Async because Ubuntu's `.tar.xz` is decompressed by a child `xz` whose output is awaited.
    public static func read(path: String, kind: AdvisoryFeedKind, limits: FeedLimits) async throws -> [AdvisoryRange] {
        guard kind == .osv || kind == .ubuntu else {
            throw FeedReadError(source: path, reason: .unsupported, message: "the OSV reader does not read \(kind.rawValue) feeds")
        }
        let collector = Collector(kind: kind, limits: limits)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FeedReadError(source: path, reason: .io, message: "no such file or directory")
        }
        if isDirectory.boolValue {
            try readDirectory(path, collector: collector, limits: limits)
            return collector.ranges
        }
        let magic = Self.magic(path)
        if path.hasSuffix(".json") {
            try collector.add(document: try readFile(path, limit: limits.maxBytes), source: path)
        } else if magic.starts(with: [0x50, 0x4B]) {
            let zip = try ZipArchive(path: path, limits: ArchiveLimits(limits))
            try zip.forEachFile(where: { $0.name.hasSuffix(".json") }) { entry, data in
                try collector.add(document: data, source: path + ":" + entry.name)
            }
        } else if path.hasSuffix(".json.gz") {
            let data = try Gzip.decompress(try readFile(path, limit: limits.maxBytes), limit: limits.maxDecompressedBytes, source: path)
            try collector.add(document: data, source: path)
        } else {
            // A tar, plain or compressed; anything else fails its header checksum.
            try await TarArchive.forEachFile(path: path, limits: ArchiveLimits(limits), where: { $0.hasSuffix(".json") }) { name, data in
                try collector.add(document: data, source: path + ":" + name)
            }
        }
        return collector.ranges
    }

    static func magic(_ path: String) -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { return Data() }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 8)) ?? Data()
    }

    static func readFile(_ path: String, limit: Int) throws -> Data {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        guard let size else { throw FeedReadError(source: path, reason: .io, message: "cannot read the file") }
        guard size <= limit else { throw FeedReadError(source: path, reason: .tooLarge, message: "\(size) bytes, more than the limit of \(limit)") }
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FeedReadError(source: path, reason: .io, message: "cannot read the file: \(error.localizedDescription)")
        }
    }

    /// Every `*.json` below `path` (symbolic links not followed), in name order for a stable result.
    static func readDirectory(_ path: String, collector: Collector, limits: FeedLimits) throws {
        let root = URL(fileURLWithPath: path)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .isSymbolicLinkKey]) else {
            throw FeedReadError(source: path, reason: .io, message: "cannot list the directory")
        }
        var files: [String] = []
        for case let url as URL in walker where url.pathExtension == "json" {
            let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .isSymbolicLinkKey])
            guard values?.isRegularFile == true, values?.isSymbolicLink != true else { continue }
            files.append(url.path)
            guard files.count <= limits.maxRecords else {
                throw FeedReadError(source: path, reason: .tooLarge, message: "more than \(limits.maxRecords) record files")
            }
        }
        var total = 0
        for file in files.sorted() {
            let data = try readFile(file, limit: limits.maxBytes)
            total += data.count
            guard total <= limits.maxDecompressedBytes else {
                throw FeedReadError(source: path, reason: .tooLarge, message: "record files add up to more than \(limits.maxDecompressedBytes) bytes")
            }
            try collector.add(document: data, source: file)
        }
    }

    /// Accumulates ranges across documents (the tar reader calls it from xz's reading task).
    final class Collector: Sendable {
        let kind: AdvisoryFeedKind
        let limits: FeedLimits
        private let state = NIOLockedValueBox((records: 0, ranges: [AdvisoryRange]()))

        init(kind: AdvisoryFeedKind, limits: FeedLimits) {
            self.kind = kind
            self.limits = limits
        }

        var ranges: [AdvisoryRange] { OSVFeed.merged(state.withLockedValue { $0.ranges }) }

        /// One JSON document: a record, or an array of records.
        func add(document data: Data, source: String) throws {
            try JSONDepth.check(data, maxDepth: limits.maxDepth, source: source)
            let records: [OSVRecord]
            do {
                let first = data.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
                records = first == UInt8(ascii: "[") ? try JSONDecoder().decode([OSVRecord].self, from: data)
                    : [try JSONDecoder().decode(OSVRecord.self, from: data)]
            } catch {
                throw FeedReadError(source: source, reason: .malformed, message: "not an OSV record: \(OSVFeed.describe(error))")
            }
            try state.withLockedValue { state in
                state.records += records.count
                guard state.records <= limits.maxRecords else {
                    throw FeedReadError(source: source, reason: .tooLarge, message: "more than \(limits.maxRecords) records")
                }
                for record in records {
                    state.ranges.append(contentsOf: OSVFeed.ranges(of: record, kind: kind))
                }
            }
        }
    }

    /// A decoding error in one line: what was expected where.
    static func describe(_ error: any Error) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
        }
        switch error as? DecodingError {
        case let .keyNotFound(key, context)?: return "missing \(path(context)).\(key.stringValue)"
        case let .typeMismatch(_, context)?, let .valueNotFound(_, context)?: return "\(path(context)): \(context.debugDescription)"
        case let .dataCorrupted(context)?: return "invalid JSON: \(context.debugDescription)" + (context.underlyingError.map { " (\($0))" } ?? "")
        default: return "\(error)"
        }
    }

    /// One range per vulnerability, package and version span across records: Ubuntu publishes
    /// each fix twice, in the USN (which names the advisory) and in the UBUNTU-CVE record (which
    /// has the priority and CVSS); merged, the range has all three, and the feed half the rows.
    /// The first record read that has a value wins; order is the first occurrence's.
    static func merged(_ ranges: [AdvisoryRange]) -> [AdvisoryRange] {
        struct Key: Hashable {
            var vulnerability, ecosystem, package, introduced: String
            var fixed: String?
        }
        var index: [Key: Int] = [:]
        var result: [AdvisoryRange] = []
        for range in ranges {
            let key = Key(vulnerability: range.vulnerability, ecosystem: range.ecosystem, package: range.package,
                          introduced: range.introduced, fixed: range.fixed)
            guard let at = index[key] else {
                index[key] = result.count
                result.append(range)
                continue
            }
            let kept = result[at]
            if kept.vendorSeverity != nil || range.vendorSeverity == nil, kept.cvss != nil || range.cvss == nil,
               kept.advisory != nil || range.advisory == nil { continue }
            result[at] = AdvisoryRange(vulnerability: kept.vulnerability, ecosystem: kept.ecosystem, package: kept.package,
                                       introduced: kept.introduced, fixed: kept.fixed,
                                       vendorSeverity: kept.vendorSeverity ?? range.vendorSeverity,
                                       cvss: kept.cvss ?? range.cvss, advisory: kept.advisory ?? range.advisory)
        }
        return result
    }

    // MARK: One record

    static func ranges(of record: OSVRecord, kind: AdvisoryFeedKind) -> [AdvisoryRange] {
        guard record.withdrawn == nil else { return [] }
        let vulnerabilities = cves(of: record)
        let advisory = cve(named: record.id) == nil ? record.id : nil
        var seen = Set<AdvisoryRange>()
        var result: [AdvisoryRange] = []
        for affected in record.affected ?? [] {
            guard let package = affected.package, !package.name.isEmpty else { continue }
            let ecosystem = Ecosystem.normalize(osv: package.ecosystem)
            if kind == .ubuntu, !ecosystem.hasPrefix("Ubuntu:") { continue }
            let word = vendorSeverity(record: record, affected: affected)
            let score = cvss(affected.severity) ?? cvss(record.severity)
            for (introduced, fixed) in pairs(affected, scheme: scheme(of: ecosystem)) {
                for vulnerability in vulnerabilities {
                    let range = AdvisoryRange(vulnerability: vulnerability, ecosystem: ecosystem, package: package.name, introduced: introduced,
                                              fixed: fixed, vendorSeverity: word, cvss: score, advisory: advisory)
                    if seen.insert(range).inserted { result.append(range) }
                }
            }
        }
        return result
    }

    /// The (introduced, fixed) pairs of an affected entry's ECOSYSTEM ranges, or of its versions list.
    static func pairs(_ affected: OSVAffected, scheme: VersionComparison.Scheme) -> [(String, String?)] {
        var pairs: [(String, String?)] = []
        let ecosystemRanges = (affected.ranges ?? []).filter { $0.type == "ECOSYSTEM" }
        for range in ecosystemRanges {
            var open: String?
            for event in range.events {
                if let introduced = event.introduced {
                    // A second introduced while one is open changes nothing: the earlier one still holds.
                    if open == nil { open = introduced }
                } else if let fixed = event.fixed, let start = open {
                    pairs.append((start, fixed))
                    open = nil
                } else if event.lastAffected != nil, let start = open {
                    pairs.append((start, nil))
                    open = nil
                }
            }
            if let start = open { pairs.append((start, nil)) }
        }
        if ecosystemRanges.isEmpty, let lowest = (affected.versions ?? []).filter({ !$0.isEmpty })
            .min(by: { VersionComparison.compare($0, $1, scheme: scheme) < 0 }) {
            pairs.append((lowest, nil))
        }
        return pairs
    }

    /// The CVEs a record is about, or its own id when it names none.
    static func cves(of record: OSVRecord) -> [String] {
        if let own = cve(named: record.id) { return [own] }
        var found: [String] = []
        for name in (record.aliases ?? []) + (record.upstream ?? []) + (record.related ?? []) {
            if let cve = cve(named: name), !found.contains(cve) { found.append(cve) }
        }
        return found.isEmpty ? [record.id] : found
    }

    /// `CVE-2024-1234` itself, or the CVE a distribution's own CVE record stands for.
    static func cve(named name: String) -> String? {
        var candidate = Substring(name.trimmingCharacters(in: .whitespaces))
        for prefix in ["UBUNTU-", "DEBIAN-"] where candidate.hasPrefix(prefix) { candidate = candidate.dropFirst(prefix.count) }
        let parts = candidate.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "CVE", parts[1].count == 4, parts[2].count >= 4,
              parts[1].allSatisfy(\.isASCIIDigitCharacter), parts[2].allSatisfy(\.isASCIIDigitCharacter) else { return nil }
        return String(candidate)
    }

    static func vendorSeverity(record: OSVRecord, affected: OSVAffected) -> String? {
        let words = [affected.ecosystemSpecific?.ubuntuPriority, affected.ecosystemSpecific?.severity, affected.databaseSpecific?.severity,
                     (affected.severity ?? []).first { $0.type == "Ubuntu" }?.score, (record.severity ?? []).first { $0.type == "Ubuntu" }?.score,
                     record.databaseSpecific?.severity]
        if let word = words.compactMap({ $0?.trimmingCharacters(in: .whitespaces) }).first(where: { !$0.isEmpty }) { return word }
        // Rocky and Alma: "Important: kernel security update".
        if let summary = record.summary, let colon = summary.firstIndex(of: ":") {
            let word = String(summary[..<colon])
            if Severity(text: word) != nil { return word }
        }
        return nil
    }

    static func cvss(_ severities: [OSVSeverity]?) -> Double? {
        (severities ?? []).lazy.filter { $0.type == "CVSS_V3" }.compactMap { CVSS.baseScore($0.score) }.first
    }

    /// The version order of an OSV ecosystem (for `versions` lists).
    static func scheme(of ecosystem: String) -> VersionComparison.Scheme {
        let name = ecosystem.split(separator: ":").first.map(String.init) ?? ecosystem
        switch name {
        case "Debian", "Ubuntu": return .dpkg
        case "Rocky Linux", "AlmaLinux", "Red Hat", "SUSE", "openSUSE", "Mageia", "openEuler": return .rpm
        default: return .semantic
        }
    }
}

private extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}

/// Nesting depth of a JSON text, measured before it is parsed so a hostile document cannot
/// drive a recursive parser deep.
enum JSONDepth {
    static func check(_ data: Data, maxDepth: Int, source: String) throws {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var depth = 0, inString = false, escaped = false
            for byte in bytes {
                if inString {
                    if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                    guard depth <= maxDepth else {
                        throw FeedReadError(source: source, reason: .malformed, message: "JSON nested deeper than \(maxDepth) levels")
                    }
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                default: break
                }
            }
        }
    }
}
