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

    // MARK: rpm ([epoch:]version-release, rpm's own order: RPMVersion)

    public static func rpm(_ a: String, _ b: String) -> Int {
        guard let x = RPMVersion(a), let y = RPMVersion(b) else { return RPMVersion.compare(a, b) }
        return x < y ? -1 : (y < x ? 1 : 0)
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
