import Foundation

/// Prometheus text exposition (format 0.0.4) read back the way Prometheus and node_exporter's
/// textfile collector read it, strictly: every line a `# HELP`, a `# TYPE` or a sample; label
/// values quoted with only `\\`, `\"` and `\n` escapes; a family's HELP and TYPE before its
/// samples, its samples together, no label set twice; the text ends with a newline.
struct MetricsExposition {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Invalid: Error, CustomStringConvertible {
        var line: Int
        var text: String
        var why: String
        var description: String { "line \(line) (\(text.debugDescription)): \(why)" }
    }

    var help: [String: String] = [:]
    var types: [String: String] = [:]
    var samples: [Sample] = []
    /// Family names in the order they appear.
    var families: [String] = []

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    func samples(_ name: String) -> [Sample] { samples.filter { $0.name == name } }

    static func parse(_ text: String) throws -> MetricsExposition {
        guard text.hasSuffix("\n") else { throw Invalid(line: 0, text: String(text.suffix(40)), why: "does not end with a newline") }
        var result = MetricsExposition()
        var seen = Set<String>()
        for (index, line) in text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let fail = { (why: String) in Invalid(line: number, text: String(line), why: why) }
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let words = line.dropFirst(7).split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard words.count == 2, isMetricName(words[0]) else { throw fail("bad HELP/TYPE line") }
                let name = String(words[0])
                guard !result.samples.contains(where: { $0.name == name }) else { throw fail("HELP/TYPE after the family's samples") }
                if line.hasPrefix("# HELP ") {
                    guard result.help[name] == nil else { throw fail("second HELP") }
                    result.help[name] = try unescapeHelp(words[1]).orThrow(fail("bad escape in HELP"))
                } else {
                    guard result.types[name] == nil else { throw fail("second TYPE") }
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(words[1]) else { throw fail("unknown type") }
                    result.types[name] = String(words[1])
                }
                if result.families.last != name {
                    guard !result.families.contains(name) else { throw fail("family split in two") }
                    result.families.append(name)
                }
                continue
            }
            guard !line.hasPrefix("#") else { throw fail("a comment patchctl does not write") }
            let sample = try parseSample(line).orThrow(fail("not a sample line"))
            guard result.types[sample.name] != nil, result.families.last == sample.name else { throw fail("sample outside its family") }
            let key = sample.name + sample.labels.sorted { $0.key < $1.key }.map { "\u{0}\($0.key)=\($0.value)" }.joined()
            guard seen.insert(key).inserted else { throw fail("label set given twice") }
            result.samples.append(sample)
        }
        return result
    }

    static func isMetricName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" || first == ":" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
    }

    static func unescapeHelp(_ text: Substring) -> String? {
        var out = ""
        var characters = text[...]
        while let c = characters.popFirst() {
            guard c == "\\" else { out.append(c); continue }
            switch characters.popFirst() {
            case "\\": out.append("\\")
            case "n": out.append("\n")
            default: return nil
            }
        }
        return out
    }

    /// `name{label="value",...} value`; nil when the line is not one.
    static func parseSample(_ line: Substring) -> Sample? {
        var rest = line[...]
        let name = rest.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
        guard isMetricName(name) else { return nil }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = rest.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
                guard let first = label.first, !first.isNumber, labels[String(label)] == nil else { return nil }
                rest = rest.dropFirst(label.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                while true {
                    guard let c = rest.popFirst() else { return nil }
                    if c == "\"" { break }
                    if c == "\n" { return nil }
                    guard c == "\\" else { value.append(c); continue }
                    switch rest.popFirst() {
                    case "\\": value.append("\\")
                    case "\"": value.append("\"")
                    case "n": value.append("\n")
                    default: return nil
                    }
                }
                labels[String(label)] = value
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { return nil }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { return nil }
        let number = rest.dropFirst()
        let value: Double? = switch number {
        case "NaN": .nan
        case "+Inf": .infinity
        case "-Inf": -.infinity
        default: number.contains(" ") ? nil : Double(number)
        }
        return value.map { Sample(name: String(name), labels: labels, value: $0) }
    }
}

extension Optional {
    func orThrow(_ error: @autoclosure () -> some Error) throws -> Wrapped {
        guard let self else { throw error() }
        return self
    }
}
