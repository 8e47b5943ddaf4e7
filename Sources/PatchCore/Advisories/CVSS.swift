import Foundation

/// CVSS base scores from vector strings: versions 3.0 and 3.1, by the formula of FIRST's
/// specifications (section 7 of each, with 3.1's floating-point-safe Roundup of Appendix A).
/// CVSS v4.0 is not scored: its score comes from a table of macro vectors, not a formula, and a
/// partial implementation would give wrong numbers. v2 vectors are not read either.
public enum CVSS {
    /// The base score (0.0-10.0) of a `CVSS:3.0/…` or `CVSS:3.1/…` vector; nil when the vector is
    /// not v3, lacks a base metric, repeats one or has a value the specification does not define.
    /// Temporal and environmental metrics may follow and are ignored (the base score is what
    /// vendors publish).
    public static func baseScore(_ vector: String) -> Double? {
        let parts = vector.trimmingCharacters(in: .whitespaces).split(separator: "/").map(String.init)
        guard let version = parts.first, version == "CVSS:3.0" || version == "CVSS:3.1" else { return nil }
        var metrics: [String: String] = [:]
        for part in parts.dropFirst() {
            let pair = part.split(separator: ":", maxSplits: 1).map(String.init)
            guard pair.count == 2, metrics[pair[0]] == nil else { return nil }
            metrics[pair[0]] = pair[1]
        }
        guard let scope = metrics["S"], scope == "U" || scope == "C" else { return nil }
        let changed = scope == "C"
        guard let av = ["N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2][metrics["AV"] ?? ""],
              let ac = ["L": 0.77, "H": 0.44][metrics["AC"] ?? ""],
              let pr = (changed ? ["N": 0.85, "L": 0.68, "H": 0.5] : ["N": 0.85, "L": 0.62, "H": 0.27])[metrics["PR"] ?? ""],
              let ui = ["N": 0.85, "R": 0.62][metrics["UI"] ?? ""] else { return nil }
        let cia = ["H": 0.56, "L": 0.22, "N": 0.0]
        guard let c = cia[metrics["C"] ?? ""], let i = cia[metrics["I"] ?? ""], let a = cia[metrics["A"] ?? ""] else { return nil }

        let iss = 1 - (1 - c) * (1 - i) * (1 - a)
        let impact = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss
        let exploitability = 8.22 * av * ac * pr * ui
        guard impact > 0 else { return 0 }
        let sum = changed ? min(1.08 * (impact + exploitability), 10) : min(impact + exploitability, 10)
        return version == "CVSS:3.1" ? roundUp31(sum) : roundUp30(sum)
    }

    /// 3.1's Roundup: the smallest one-decimal number ≥ the input, computed on integers so that
    /// 4.000000000000001 (a float artefact of an exact 4.0) stays 4.0.
    static func roundUp31(_ value: Double) -> Double {
        let scaled = Int((value * 100_000).rounded())
        return scaled % 10_000 == 0 ? Double(scaled) / 100_000 : Double(scaled / 10_000 + 1) / 10
    }

    /// 3.0's Roundup as written: the smallest one-decimal number ≥ the input.
    static func roundUp30(_ value: Double) -> Double {
        (value * 10).rounded(.up) / 10
    }
}
