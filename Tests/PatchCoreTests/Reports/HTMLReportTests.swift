import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// The HTML report as a browser shows it: Debian's Chromium, headless, takes a screenshot (decoded
/// here with Python's standard library: zlib is not in Foundation on Linux) and dumps the DOM it
/// parsed, whose numbers and links must match the JSON report.
@Suite("HTML report in headless Chromium", .serialized, .enabled(if: Chromium.enabled))
struct HTMLReportTests {
    typealias G = GeneratedHistory

    static func fleetReport() throws -> (ComplianceReport, [String: Any], URL) {
        let (history, inventory, _) = try G.fleet()
        let report = try ComplianceReport.build(history.request(asOf: G.day(40, hour: 12), inventory: inventory, staleDays: 20))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.rendered(.compliance, as: .json).utf8)) as? [String: Any])
        let file = history.folder.appendingPathComponent("report.html")
        try report.rendered(.compliance, as: .html).write(to: file, atomically: true, encoding: .utf8)
        return (report, json, file)
    }

    @Test func selfContainedWithWorkingLinks() async throws {
        let (_, _, file) = try Self.fleetReport()
        let html = try String(contentsOf: file, encoding: .utf8)
        for forbidden in ["<script", "src=", "http:", "https:", "<link", "url(", "@import", "<img", "<iframe"] {
            #expect(!html.lowercased().contains(forbidden), "the report must not reach for anything: found \(forbidden)")
        }
        let dom = try await Chromium.run(["--dump-dom", file.absoluteString])
        let ids = Set(Chromium.matches(#"\bid="([^"]+)""#, in: dom))
        let links = Chromium.matches(##"href="#([^"]+)""##, in: dom)
        #expect(links.count > 10)
        for link in links { #expect(ids.contains(link), "link #\(link) has no target") }
        #expect(links.contains("host-4") && links.contains("exception-1") && ids.contains("evidence"))
    }

    @Test func numbersInTheBrowserMatchTheJSON() async throws {
        let (_, json, file) = try Self.fleetReport()
        let dom = try await Chromium.run(["--dump-dom", file.absoluteString])
        let summary = try #require(json["summary"] as? [String: Any])
        let missing = try #require(summary["missing"] as? [String: Any])
        let ttp = try #require(summary["time_to_patch"] as? [String: Any])
        let metric = { (name: String) in Chromium.matches("data-metric=\"\(name)\" data-value=\"([^\"]*)\"", in: dom).first }
        #expect(metric("percent_compliant").flatMap(Double.init) == summary["percent_compliant"] as? Double)
        #expect(metric("compliant") == (summary["compliant"] as? Int).map(String.init))
        #expect(metric("overdue") == (missing["overdue"] as? Int).map(String.init))
        #expect(metric("missing_security") == (missing["security"] as? Int).map(String.init))
        #expect(metric("mean_days").flatMap(Double.init) == ttp["mean_days"] as? Double)
        #expect(Chromium.matches(#"data-summary="hosts">(\d+)<"#, in: dom).first == (summary["hosts"] as? Int).map(String.init))

        // Every host row, every severity and age bar, every group bar and trend point.
        for host in try #require(json["hosts"] as? [[String: Any]]) {
            let name = try #require(host["name"] as? String)
            let hostMissing = try #require(host["missing"] as? [String: Any])
            let row = "data-host=\"\(name)\" data-compliant=\"\(host["compliant"] as? Bool ?? false)\" data-pending=\"\(hostMissing["total"] as? Int ?? -1)\" "
                + "data-security=\"\(hostMissing["security"] as? Int ?? -1)\" data-overdue=\"\(hostMissing["overdue"] as? Int ?? -1)\""
            #expect(dom.contains(row), "\(row)")
        }
        let severities = try #require(missing["by_severity"] as? [String: Int])
        for (bucket, count) in severities { #expect(dom.contains("data-severity=\"\(bucket)\" data-count=\"\(count)\""), "\(bucket)") }
        for bucket in try #require(summary["age_histogram"] as? [[String: Any]]) {
            #expect(dom.contains("data-bucket=\"\(bucket["min_days"] as? Int ?? -1)\" data-count=\"\(bucket["updates"] as? Int ?? -1)\""))
        }
        for group in try #require(json["groups"] as? [[String: Any]]) {
            let percent = String(format: "%.1f", group["percent_compliant"] as? Double ?? -1)
            #expect(dom.contains("data-group=\"\(group["name"] as? String ?? "")\" data-hosts=\"\(group["hosts"] as? Int ?? -1)\" data-compliant=\"\(group["compliant"] as? Int ?? -1)\" data-percent=\"\(percent)\""))
        }
        // A dot per day with data; the days before the first scan are a gap.
        let trend = try #require(json["trend"] as? [[String: Any]]).filter { $0["no_data"] as? Bool == false }
        let points = Chromium.matches(#"data-day="([0-9-]+)" data-percent="([0-9.]+)""#, in: dom, groups: 2)
        #expect(points.count == trend.count)
        for (point, expected) in zip(points, trend) {
            #expect(point[0] == expected["day"] as? String && Double(point[1]) == expected["percent_compliant"] as? Double)
        }
    }

    @Test func screenshotShowsEveryChartWhereTheLayoutPutsIt() async throws {
        let (_, _, file) = try Self.fleetReport()
        let png = file.deletingLastPathComponent().appendingPathComponent("report.png")
        let layout = HTMLReport.Layout.self
        let height = layout.headerHeight + 2 * layout.chartHeight + layout.gap + 40
        _ = try await Chromium.run(["--screenshot=\(png.path)", "--window-size=\(layout.pageWidth),\(height)", file.absoluteString])
        let frames = (0..<4).map { layout.chartFrame($0) }
        let inks: [[String]] = [[HTMLReport.compliantColor, HTMLReport.nonCompliantColor],
                                [HTMLReport.severityColors["unrated"] ?? "", HTMLReport.severityColors["none"] ?? ""],
                                [HTMLReport.ageColor], [HTMLReport.trendColor]]
        var regions: [[String: Any]] = zip(frames, inks).map { frame, colors in
            ["x": frame.x, "y": frame.y, "w": frame.width, "h": frame.height, "colors": colors]
        }
        // Controls: the gutter between the two columns of charts is blank; the header is not.
        regions.append(["x": layout.padding + layout.chartWidth + 3, "y": layout.headerHeight, "w": layout.gap - 6,
                        "h": 2 * layout.chartHeight + layout.gap, "colors": [String]()])
        regions.append(["x": 0, "y": 0, "w": layout.pageWidth, "h": layout.headerHeight, "colors": [String]()])
        let stats = try await PNGRegions.measure(png, regions: regions)
        #expect(stats.count == 6)
        guard stats.count == 6 else { return }
        for (index, stat) in stats.prefix(4).enumerated() {
            let area = Double(frames[index].width * frames[index].height)
            #expect(Double(stat.nonWhite) / area > 0.02, "chart \(index) looks blank: \(stat.nonWhite) ink pixels")
            for (color, count) in zip(inks[index], stat.colorCounts) { #expect(count > 150, "chart \(index): only \(count) pixels of \(color)") }
        }
        #expect(stats[4].nonWhite == 0, "the gutter between the charts should be blank: the layout moved")
        #expect(stats[5].nonWhite > 2000, "the header should hold the title and the figures")
    }

    @Test func printsToPDF() async throws {
        let (_, _, file) = try Self.fleetReport()
        let pdf = file.deletingLastPathComponent().appendingPathComponent("report.pdf")
        _ = try await Chromium.run(["--print-to-pdf=\(pdf.path)", "--no-pdf-header-footer", file.absoluteString])
        let data = try Data(contentsOf: pdf)
        #expect(data.starts(with: Data("%PDF-".utf8)) && data.count > 20_000)
        let text = String(decoding: data, as: UTF8.self)
        #expect(Chromium.matches(#"(/Type\s*/Page)\b"#, in: text).count >= 2, "the report should print on several pages")
    }

    @Test func trendPageDrawsItsLine() async throws {
        let (history, inventory, _) = try G.fleet()
        let report = try ComplianceReport.build(history.request(.trend, asOf: G.day(40, hour: 12), inventory: inventory, staleDays: 20))
        let file = history.folder.appendingPathComponent("trend.html")
        try report.rendered(.trend, as: .html).write(to: file, atomically: true, encoding: .utf8)
        let png = history.folder.appendingPathComponent("trend.png")
        let layout = HTMLReport.Layout.self
        _ = try await Chromium.run(["--screenshot=\(png.path)", "--window-size=\(layout.pageWidth),\(layout.headerHeight + layout.chartHeight + 40)", file.absoluteString])
        let frame = layout.chartFrame(0, wide: true)
        let stats = try await PNGRegions.measure(png, regions: [["x": frame.x, "y": frame.y, "w": frame.width, "h": frame.height, "colors": [HTMLReport.trendColor]]])
        #expect(stats.first.map { $0.colorCounts[0] > 300 } == true, "\(stats)")
    }
}

/// Debian's `chromium`, headless, with a throwaway profile.
enum Chromium {
    static let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs when installed (scripts/build-deps.sh installs it); under `make test` a missing one fails instead.
    static var enabled: Bool {
        binary != nil || ProcessInfo.processInfo.environment["PATCHCTL_REQUIRE_LAB"] == "1"
    }

    static func run(_ arguments: [String], timeout: Double = 90) async throws -> String {
        let binary = try #require(binary, "chromium is not installed: run scripts/build-deps.sh")
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let result = try await TestProcess.run(
            binary, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
                     "--user-data-dir=\(profile.path)", "--no-first-run", "--disable-extensions"] + arguments,
            environment: ["HOME": profile.path], timeout: .seconds(timeout))
        try #require(result.status == 0, "chromium \(arguments) exited \(result.status)")
        return result.stdout
    }

    /// Capture groups of every match (the first group, or `groups` of them per match).
    static func matches(_ pattern: String, in text: String) -> [String] {
        matches(pattern, in: text, groups: 1).map { $0.first ?? "" }
    }

    static func matches(_ pattern: String, in text: String, groups: Int) -> [[String]] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        let range = NSRange(text.startIndex..., in: text)
        return regex.matches(in: text, range: range).map { match in
            (1...groups).map { index in Range(match.range(at: index), in: text).map { String(text[$0]) } ?? "" }
        }
    }
}

/// Pixel statistics of rectangles of a PNG, computed by a few lines of Python's standard library
/// (zlib, struct): how many pixels are not white, and how many are close to each given colour.
enum PNGRegions {
    struct Stat: Sendable, CustomStringConvertible {
        var nonWhite: Int
        var colorCounts: [Int]
        var description: String { "nonWhite \(nonWhite), colors \(colorCounts)" }
    }

    static let script = #"""
        import json, struct, sys, zlib

        def read_png(path):
            data = open(path, "rb").read()
            assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
            pos, idat, header = 8, b"", None
            while pos < len(data):
                length, kind = struct.unpack(">I4s", data[pos:pos + 8])
                body = data[pos + 8:pos + 8 + length]
                pos += 12 + length
                if kind == b"IHDR":
                    header = struct.unpack(">IIBBBBB", body)
                elif kind == b"IDAT":
                    idat += body
                elif kind == b"IEND":
                    break
            width, height, depth, ctype, _, _, interlace = header
            assert depth == 8 and ctype in (2, 6) and interlace == 0, "unsupported PNG %r" % (header,)
            bpp = 3 if ctype == 2 else 4
            raw, stride = zlib.decompress(idat), width * bpp
            rows, prev, i = [], bytearray(stride), 0
            for _ in range(height):
                kind = raw[i]
                line = bytearray(raw[i + 1:i + 1 + stride])
                i += 1 + stride
                for x in range(stride):
                    a = line[x - bpp] if x >= bpp else 0
                    b = prev[x]
                    c = prev[x - bpp] if x >= bpp else 0
                    if kind == 1:
                        line[x] = (line[x] + a) & 255
                    elif kind == 2:
                        line[x] = (line[x] + b) & 255
                    elif kind == 3:
                        line[x] = (line[x] + ((a + b) >> 1)) & 255
                    elif kind == 4:
                        p = a + b - c
                        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                        line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
                rows.append(line)
                prev = line
            return width, height, bpp, rows

        width, height, bpp, rows = read_png(sys.argv[1])
        out = []
        for region in json.loads(sys.argv[2]):
            colors = [tuple(int(c[k:k + 2], 16) for k in (1, 3, 5)) for c in region["colors"]]
            counts, ink = [0] * len(colors), 0
            for y in range(region["y"], min(height, region["y"] + region["h"])):
                row = rows[y]
                for x in range(region["x"], min(width, region["x"] + region["w"])):
                    r, g, b = row[x * bpp], row[x * bpp + 1], row[x * bpp + 2]
                    if min(r, g, b) < 235:
                        ink += 1
                    for n, (cr, cg, cb) in enumerate(colors):
                        if abs(r - cr) <= 24 and abs(g - cg) <= 24 and abs(b - cb) <= 24:
                            counts[n] += 1
            out.append({"non_white": ink, "colors": counts})
        print(json.dumps(out))
        """#

    static func measure(_ png: URL, regions: [[String: Any]]) async throws -> [Stat] {
        let folder = png.deletingLastPathComponent()
        let scriptFile = folder.appendingPathComponent("png_regions.py")
        try script.write(to: scriptFile, atomically: true, encoding: .utf8)
        let json = String(decoding: try JSONSerialization.data(withJSONObject: regions), as: UTF8.self)
        // The system interpreter: its standard library is all the script needs.
        let result = try await TestProcess.run("/usr/bin/python3", [scriptFile.path, png.path, json])
        try #require(result.status == 0, "png_regions.py: \(result.stderr)")
        let data = Data(result.stdout.utf8)
        let decoded = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        return decoded.map { Stat(nonWhite: $0["non_white"] as? Int ?? -1, colorCounts: $0["colors"] as? [Int] ?? []) }
    }
}
