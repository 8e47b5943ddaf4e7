import Foundation

/// Inline SVG charts: plain shapes with the numbers as text and as `data-*` attributes, so the
/// file needs nothing else to render and tests can compare the drawing with the JSON.
extension HTMLReport {
    static let compliantColor = "#2e7d32"
    static let nonCompliantColor = "#c62828"
    static let ageColor = "#00838f"
    static let trendColor = "#1565c0"
    static let severityColors = ["critical": "#b71c1c", "high": "#e65100", "medium": "#f9a825", "low": "#1565c0",
                                 "unrated": "#6a1b9a", "none": "#757575"]

    static func svgOpen(width: Int, height: Int, chart: String, title: String) -> String {
        "<svg width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" "
            + "role=\"img\" aria-label=\"\(escape(title))\" data-chart=\"\(chart)\">"
            + "<text x=\"14\" y=\"24\" class=\"ct\">\(escape(title))</text>"
    }

    /// Horizontal bars: the fleet, then each group (up to nine), green for the compliant share.
    static func groupChart(_ report: ComplianceReport, width: Int, height: Int) -> String {
        var rows: [(name: String, hosts: Int, compliant: Int, percent: Double?)] = [("all hosts", report.summary.hosts, report.summary.compliant,
                                                                                       report.summary.percentCompliant)]
        rows += report.groups.prefix(9).map { ($0.name, $0.hosts, $0.compliant, $0.percentCompliant) }
        var svg = svgOpen(width: width, height: height, chart: "groups", title: "Compliance by group")
        let top = 44.0, bottom = Double(height) - 30
        let rowHeight = min(30.0, (bottom - top) / Double(rows.count))
        let barX = 170.0, barWidth = Double(width) - barX - 110
        for (index, row) in rows.enumerated() {
            let y = top + Double(index) * rowHeight
            let barHeight = max(6, rowHeight - 8)
            svg += "<g data-group=\"\(escape(row.name))\" data-hosts=\"\(row.hosts)\" data-compliant=\"\(row.compliant)\" data-percent=\"\(number(row.percent))\">"
            svg += "<text x=\"\(fmt(barX - 8))\" y=\"\(fmt(y + barHeight / 2 + 4))\" text-anchor=\"end\" class=\"cl\">\(escape(clip(row.name, 20)))</text>"
            if row.hosts > 0 {
                let green = barWidth * Double(row.compliant) / Double(row.hosts)
                svg += "<rect x=\"\(fmt(barX))\" y=\"\(fmt(y))\" width=\"\(fmt(green))\" height=\"\(fmt(barHeight))\" fill=\"\(compliantColor)\"/>"
                svg += "<rect x=\"\(fmt(barX + green))\" y=\"\(fmt(y))\" width=\"\(fmt(barWidth - green))\" height=\"\(fmt(barHeight))\" fill=\"\(nonCompliantColor)\"/>"
            } else {
                svg += "<rect x=\"\(fmt(barX))\" y=\"\(fmt(y))\" width=\"\(fmt(barWidth))\" height=\"\(fmt(barHeight))\" fill=\"none\" stroke=\"#999\"/>"
            }
            svg += "<text x=\"\(fmt(barX + barWidth + 8))\" y=\"\(fmt(y + barHeight / 2 + 4))\" class=\"cl\">\(percentText(row.percent)) (\(row.compliant)/\(row.hosts))</text></g>"
        }
        if report.groups.count > 9 {
            svg += "<text x=\"14\" y=\"\(height - 10)\" class=\"cn\">+\(report.groups.count - 9) more groups in the table below</text>"
        }
        svg += "<text x=\"\(fmt(barX))\" y=\"\(height - 10)\" class=\"cn\"><tspan fill=\"\(compliantColor)\">■</tspan> compliant  "
            + "<tspan fill=\"\(nonCompliantColor)\">■</tspan> non-compliant</text>"
        return svg + "</svg>"
    }

    /// Vertical bars: pending updates per severity bucket.
    static func severityChart(_ report: ComplianceReport, width: Int, height: Int) -> String {
        let bars = ComplianceReport.Missing.severityBuckets.map { bucket in
            (label: bucket, count: report.summary.missing.bySeverity[bucket] ?? 0, color: severityColors[bucket] ?? "#757575",
             attributes: "data-severity=\"\(bucket)\"")
        }
        return columnChart(bars, chart: "severity", title: "Pending updates by severity", width: width, height: height,
                           note: "unrated: security update without a vendor severity (apt)")
    }

    /// Vertical bars: pending updates by age since first seen.
    static func ageChart(_ report: ComplianceReport, width: Int, height: Int) -> String {
        let bars = report.summary.ageHistogram.map { bucket in
            (label: bucket.label, count: bucket.updates, color: ageColor, attributes: "data-bucket=\"\(bucket.minDays)\"")
        }
        return columnChart(bars, chart: "age", title: "Age of pending updates (since first seen)", width: width, height: height, note: nil)
    }

    static func columnChart(_ bars: [(label: String, count: Int, color: String, attributes: String)], chart: String, title: String,
                            width: Int, height: Int, note: String?) -> String {
        var svg = svgOpen(width: width, height: height, chart: chart, title: title)
        let left = 44.0, right = Double(width) - 16, top = 48.0, baseline = Double(height) - (note == nil ? 40 : 56)
        let maximum = max(1, bars.map(\.count).max() ?? 1)
        let slot = (right - left) / Double(bars.count)
        svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(baseline))\" x2=\"\(fmt(right))\" y2=\"\(fmt(baseline))\" stroke=\"#888\"/>"
        svg += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(top + 4))\" text-anchor=\"end\" class=\"cn\">\(maximum)</text>"
        svg += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(baseline))\" text-anchor=\"end\" class=\"cn\">0</text>"
        for (index, bar) in bars.enumerated() {
            let x = left + Double(index) * slot + slot * 0.18
            let barHeight = (baseline - top) * Double(bar.count) / Double(maximum)
            svg += "<g \(bar.attributes) data-count=\"\(bar.count)\">"
            svg += "<rect x=\"\(fmt(x))\" y=\"\(fmt(baseline - barHeight))\" width=\"\(fmt(slot * 0.64))\" height=\"\(fmt(barHeight))\" fill=\"\(bar.color)\"/>"
            svg += "<text x=\"\(fmt(x + slot * 0.32))\" y=\"\(fmt(baseline - barHeight - 5))\" text-anchor=\"middle\" class=\"cl\">\(bar.count)</text>"
            svg += "<text x=\"\(fmt(x + slot * 0.32))\" y=\"\(fmt(baseline + 16))\" text-anchor=\"middle\" class=\"cn\">\(escape(bar.label))</text></g>"
        }
        if let note { svg += "<text x=\"14\" y=\"\(height - 10)\" class=\"cn\">\(escape(note))</text>" }
        return svg + "</svg>"
    }

    /// Percent compliant per day: a line over 0–100 %, with a dot per day when there are few.
    static func trendChart(_ report: ComplianceReport, width: Int, height: Int) -> String {
        var svg = svgOpen(width: width, height: height, chart: "trend", title: "Compliance over time (% of hosts, per day)")
        let left = 48.0, right = Double(width) - 20, top = 44.0, bottom = Double(height) - 40
        for percent in [0, 50, 100] {
            let y = bottom - (bottom - top) * Double(percent) / 100
            svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y))\" x2=\"\(fmt(right))\" y2=\"\(fmt(y))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\" class=\"cn\">\(percent)%</text>"
        }
        let points = report.trend
        let step = points.count > 1 ? (right - left) / Double(points.count - 1) : 0
        let position = { (index: Int, percent: Double) -> (Double, Double) in
            (points.count > 1 ? left + step * Double(index) : (left + right) / 2, bottom - (bottom - top) * percent / 100)
        }
        // Runs of days with data, each its own line: a day without data is a gap, never a 0.
        var runs: [[(Double, Double)]] = []
        var run: [(Double, Double)] = []
        for (index, point) in points.enumerated() {
            if let percent = point.percentCompliant {
                run.append(position(index, percent))
            } else if !run.isEmpty {
                runs.append(run)
                run = []
            }
        }
        if !run.isEmpty { runs.append(run) }
        for run in runs {
            guard let first = run.first, let last = run.last else { continue }
            let line = run.map { "\(fmt($0.0)),\(fmt($0.1))" }.joined(separator: " ")
            svg += "<polygon points=\"\(fmt(first.0)),\(fmt(bottom)) \(line) \(fmt(last.0)),\(fmt(bottom))\" fill=\"#bbdefb\"/>"
            svg += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"\(trendColor)\" stroke-width=\"3\"/>"
            if points.count == 1 {
                svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(first.1))\" x2=\"\(fmt(right))\" y2=\"\(fmt(first.1))\" stroke=\"\(trendColor)\" stroke-width=\"3\"/>"
            }
        }
        // The days before the first contact (all of them, without any): labelled, so the empty
        // stretch reads as "not measured".
        let firstData = points.firstIndex { $0.percentCompliant != nil } ?? points.count
        if firstData > 0 {
            let end = firstData < points.count && points.count > 1 ? left + step * Double(firstData - 1) : right
            svg += "<text x=\"\(fmt((left + end) / 2))\" y=\"\(fmt((top + bottom) / 2))\" text-anchor=\"middle\" class=\"cn\" "
                + "data-no-data-days=\"\(firstData)\">no data</text>"
        }
        let lone = Set(runs.filter { $0.count == 1 }.map { "\(fmt($0[0].0))" })
        for (index, point) in points.enumerated() {
            guard let percent = point.percentCompliant else { continue }
            let (x, y) = position(index, percent)
            let radius = points.count <= 62 || lone.contains(fmt(x)) ? 3.5 : 0
            svg += "<circle cx=\"\(fmt(x))\" cy=\"\(fmt(y))\" r=\"\(radius)\" fill=\"\(trendColor)\" "
                + "data-day=\"\(point.day)\" data-percent=\"\(number(percent))\" data-compliant=\"\(point.compliant ?? 0)\" data-hosts=\"\(point.hosts)\"/>"
        }
        if let first = points.first, let last = points.last {
            svg += "<text x=\"\(fmt(left))\" y=\"\(fmt(bottom + 18))\" class=\"cn\">\(first.day)</text>"
            svg += "<text x=\"\(fmt(right))\" y=\"\(fmt(bottom + 18))\" text-anchor=\"end\" class=\"cn\">\(last.day)</text>"
        }
        return svg + "</svg>"
    }

    /// Coordinates with at most one decimal: short, and the same bytes every time.
    static func fmt(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }

    static func clip(_ text: String, _ length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }
}
