/// Orders versions the way each platform does, so "newest" and "outdated" mean what the
/// endpoint's own package manager would say.
public enum VersionComparison {
    public enum Scheme: String, Sendable, Codable {
        case dpkg, rpm, semantic
    }

    /// Negative, zero or positive like strcmp.
    public static func compare(_ a: String, _ b: String, scheme: Scheme) -> Int {
        switch scheme {
        case .dpkg: return dpkg(a, b)
        case .rpm: return rpm(a, b)
        case .semantic: return semantic(a, b)
        }
    }

    // MARK: dpkg (deb-version(7): [epoch:]upstream[-revision], '~' sorts before everything)

    public static func dpkg(_ a: String, _ b: String) -> Int {
        let (epochA, upstreamA, revisionA) = splitDebian(a)
        let (epochB, upstreamB, revisionB) = splitDebian(b)
        if epochA != epochB { return epochA < epochB ? -1 : 1 }
        let upstream = dpkgPart(upstreamA, upstreamB)
        return upstream != 0 ? upstream : dpkgPart(revisionA, revisionB)
    }

    static func splitDebian(_ version: String) -> (Int, String, String) {
        var rest = Substring(version)
        var epoch = 0
        if let colon = rest.firstIndex(of: ":"), let value = Int(rest[..<colon]) {
            epoch = value
            rest = rest[rest.index(after: colon)...]
        }
        guard let dash = rest.lastIndex(of: "-") else { return (epoch, String(rest), "") }
        return (epoch, String(rest[..<dash]), String(rest[rest.index(after: dash)...]))
    }

    /// dpkg's verrevcmp: alternate non-digit runs (compared by `order`) and digit runs (numerically).
    static func dpkgPart(_ a: String, _ b: String) -> Int {
        let x = Array(a.utf8), y = Array(b.utf8)
        var i = 0, j = 0
        func order(_ c: UInt8?) -> Int {
            guard let c else { return 0 }
            if c >= 48 && c <= 57 { return 0 }
            if (c >= 65 && c <= 90) || (c >= 97 && c <= 122) { return Int(c) }
            if c == UInt8(ascii: "~") { return -1 }
            return Int(c) + 256
        }
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        while i < x.count || j < y.count {
            var firstDiff = 0
            while (i < x.count && !isDigit(x[i])) || (j < y.count && !isDigit(y[j])) {
                let ac = order(i < x.count ? x[i] : nil), bc = order(j < y.count ? y[j] : nil)
                if ac != bc { return ac - bc }
                i += 1
                j += 1
            }
            while i < x.count && x[i] == 48 { i += 1 }
            while j < y.count && y[j] == 48 { j += 1 }
            while i < x.count && isDigit(x[i]) && j < y.count && isDigit(y[j]) {
                if firstDiff == 0 { firstDiff = Int(x[i]) - Int(y[j]) }
                i += 1
                j += 1
            }
            if i < x.count && isDigit(x[i]) { return 1 }
            if j < y.count && isDigit(y[j]) { return -1 }
            if firstDiff != 0 { return firstDiff }
        }
        return 0
    }

    // MARK: rpm (rpmvercmp over [epoch:]version-release)

    public static func rpm(_ a: String, _ b: String) -> Int {
        let (epochA, versionA, releaseA) = splitRPM(a)
        let (epochB, versionB, releaseB) = splitRPM(b)
        if epochA != epochB { return epochA < epochB ? -1 : 1 }
        let version = rpmvercmp(versionA, versionB)
        return version != 0 ? version : rpmvercmp(releaseA, releaseB)
    }

    static func splitRPM(_ text: String) -> (Int, String, String) {
        var rest = Substring(text)
        var epoch = 0
        if let colon = rest.firstIndex(of: ":"), let value = Int(rest[..<colon]) {
            epoch = value
            rest = rest[rest.index(after: colon)...]
        }
        guard let dash = rest.lastIndex(of: "-") else { return (epoch, String(rest), "") }
        return (epoch, String(rest[..<dash]), String(rest[rest.index(after: dash)...]))
    }

    /// rpm's segment comparison: alphanumeric runs, digits beat letters, '~' sorts first, '^' after the base.
    static func rpmvercmp(_ a: String, _ b: String) -> Int {
        if a == b { return 0 }
        let x = Array(a.utf8), y = Array(b.utf8)
        var i = 0, j = 0
        func isAlnum(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        while i < x.count || j < y.count {
            while i < x.count && !isAlnum(x[i]) && x[i] != UInt8(ascii: "~") && x[i] != UInt8(ascii: "^") { i += 1 }
            while j < y.count && !isAlnum(y[j]) && y[j] != UInt8(ascii: "~") && y[j] != UInt8(ascii: "^") { j += 1 }
            let tildeA = i < x.count && x[i] == UInt8(ascii: "~"), tildeB = j < y.count && y[j] == UInt8(ascii: "~")
            if tildeA || tildeB {
                if !tildeA { return 1 }
                if !tildeB { return -1 }
                i += 1
                j += 1
                continue
            }
            let caretA = i < x.count && x[i] == UInt8(ascii: "^"), caretB = j < y.count && y[j] == UInt8(ascii: "^")
            if caretA || caretB {
                if i >= x.count { return -1 }
                if j >= y.count { return 1 }
                if !caretA { return 1 }
                if !caretB { return -1 }
                i += 1
                j += 1
                continue
            }
            if i >= x.count || j >= y.count { break }
            let numeric = isDigit(x[i])
            var ei = i, ej = j
            if numeric {
                while ei < x.count && isDigit(x[ei]) { ei += 1 }
                while ej < y.count && isDigit(y[ej]) { ej += 1 }
            } else {
                while ei < x.count && isAlnum(x[ei]) && !isDigit(x[ei]) { ei += 1 }
                while ej < y.count && isAlnum(y[ej]) && !isDigit(y[ej]) { ej += 1 }
            }
            if ej == j { return numeric ? 1 : -1 }  // segment types differ: digits are newer
            var segA = Array(x[i..<ei]), segB = Array(y[j..<ej])
            if numeric {
                while segA.first == 48 && segA.count > 1 { segA.removeFirst() }
                while segB.first == 48 && segB.count > 1 { segB.removeFirst() }
                if segA.count != segB.count { return segA.count < segB.count ? -1 : 1 }
            }
            if segA != segB { return segA.lexicographicallyPrecedes(segB) ? -1 : 1 }
            i = ei
            j = ej
        }
        if i >= x.count && j >= y.count { return 0 }
        return i >= x.count ? -1 : 1
    }

    // MARK: semantic (MSI, pkg, exe: dotted numbers, then a pre-release tag sorts first)

    public static func semantic(_ a: String, _ b: String) -> Int {
        func split(_ text: String) -> ([Int], String?) {
            let core = text.split(separator: "+", maxSplits: 1).first.map(String.init) ?? text
            let parts = core.split(separator: "-", maxSplits: 1).map(String.init)
            let numbers = (parts.first ?? "").split(separator: ".").map { Int($0) ?? 0 }
            return (numbers, parts.count > 1 ? parts[1] : nil)
        }
        let (na, pa) = split(a), (nb, pb) = split(b)
        for index in 0..<max(na.count, nb.count) {
            let x = index < na.count ? na[index] : 0, y = index < nb.count ? nb[index] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        switch (pa, pb) {
        case (nil, nil): return 0
        case (nil, _): return 1
        case (_, nil): return -1
        case let (x?, y?): return x == y ? 0 : (x < y ? -1 : 1)
        }
    }
}
