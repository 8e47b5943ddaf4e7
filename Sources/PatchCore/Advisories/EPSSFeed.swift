import Foundation

/// FIRST's EPSS scores: a CSV (`epss_scores-current.csv.gz`, ~250k rows) starting with a
/// `#model_version:…,score_date:…` comment line, then the header `cve,epss,percentile`.
/// Gzipped input (the download) is decompressed within `limits.maxDecompressedBytes`.
public enum EPSSFeed {
    public static func read(path: String, limits: FeedLimits = .standard) throws -> [EPSSScore] {
        try parse(FeedFile.contents(path, limit: limits.maxBytes), limits: limits)
    }

    public static func parse(_ data: Data, limits: FeedLimits = .standard) throws -> [EPSSScore] {
        guard data.count <= limits.maxBytes else { throw FeedFormatError("document is \(data.count) bytes, over the limit of \(limits.maxBytes)") }
        var text = data
        if data.starts(with: [0x1F, 0x8B]) {
            text = try Gzip.decompress(data, limit: limits.maxDecompressedBytes)
        }
        var scores: [EPSSScore] = []
        var columns: (cve: Int, epss: Int, percentile: Int)?
        var lineNumber = 0
        for raw in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(decoding: raw, as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let found = columns else {
                let names = fields.map { $0.lowercased() }
                guard let cve = names.firstIndex(of: "cve"), let epss = names.firstIndex(of: "epss") else {
                    throw FeedFormatError("line \(lineNumber): expected the header cve,epss,percentile, found '\(line.prefix(80))'")
                }
                guard let percentile = names.firstIndex(of: "percentile") else {
                    throw FeedFormatError("line \(lineNumber): no percentile column (an EPSS file older than 2022?)")
                }
                columns = (cve, epss, percentile)
                continue
            }
            guard fields.count > max(found.cve, found.epss, found.percentile) else {
                throw FeedFormatError("line \(lineNumber): \(fields.count) fields, expected \(max(found.cve, found.epss, found.percentile) + 1)")
            }
            let cve = fields[found.cve]
            guard cve.hasPrefix("CVE-"), cve.count <= 64 else { throw FeedFormatError("line \(lineNumber): '\(cve.prefix(80))' is not a CVE id") }
            guard let score = Double(fields[found.epss]), (0...1).contains(score),
                  let percentile = Double(fields[found.percentile]), (0...1).contains(percentile) else {
                throw FeedFormatError("line \(lineNumber): score or percentile is not a number between 0 and 1")
            }
            guard scores.count < limits.maxRecords else { throw FeedFormatError("more than \(limits.maxRecords) records") }
            scores.append(EPSSScore(cve: cve, score: score, percentile: percentile))
        }
        guard columns != nil else { throw FeedFormatError("no header line (cve,epss,percentile): not an EPSS CSV") }
        return scores
    }
}
