/// An rpm package's `[EPOCH:]VERSION-RELEASE`, ordered exactly as rpm orders them (`rpmvercmp`),
/// so that "newer than installed" and "newest kernel" mean what they mean to rpm and dnf.
public struct RPMVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var epoch: Int
    public var version: String
    /// Empty when the text named no release.
    public var release: String

    public init(epoch: Int = 0, version: String, release: String) {
        self.epoch = epoch
        self.version = version
        self.release = release
    }

    /// Reads `[EPOCH:]VERSION[-RELEASE]` as dnf prints it; nil for an empty version or a bad epoch.
    public init?(_ text: some StringProtocol) {
        var rest = Substring(text)
        var epoch = 0
        if let colon = rest.firstIndex(of: ":") {
            guard let number = Int(rest[..<colon]), number >= 0 else { return nil }
            epoch = number
            rest = rest[rest.index(after: colon)...]
        }
        var release: Substring = ""
        if let dash = rest.lastIndex(of: "-") {
            release = rest[rest.index(after: dash)...]
            rest = rest[..<dash]
        }
        guard !rest.isEmpty else { return nil }
        self.init(epoch: epoch, version: String(rest), release: String(release))
    }

    /// `[EPOCH:]VERSION-RELEASE`, the epoch only when not 0: dnf's `evr`, and the form
    /// `dnf upgrade NAME-EVR.ARCH` takes.
    public var description: String {
        (epoch == 0 ? "" : "\(epoch):") + version + (release.isEmpty ? "" : "-" + release)
    }

    public static func < (lhs: RPMVersion, rhs: RPMVersion) -> Bool {
        if lhs.epoch != rhs.epoch { return lhs.epoch < rhs.epoch }
        let byVersion = compare(lhs.version, rhs.version)
        if byVersion != 0 { return byVersion < 0 }
        return compare(lhs.release, rhs.release) < 0
    }

    /// rpm's `rpmvercmp` (rpm 4.18, lib/rpmvercmp.c), segment by segment: numeric segments compare
    /// as numbers and beat alphabetic ones, `~` sorts before anything (even the end), `^` after
    /// the end but before anything else. Returns -1, 0 or 1.
    public static func compare(_ a: String, _ b: String) -> Int {
        if a == b { return 0 }
        let one = Array(a.utf8), two = Array(b.utf8)
        var i = 0, j = 0
        func isAlpha(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        let tilde = UInt8(ascii: "~"), caret = UInt8(ascii: "^")
        while i < one.count || j < two.count {
            while i < one.count, !isAlpha(one[i]), !isDigit(one[i]), one[i] != tilde, one[i] != caret { i += 1 }
            while j < two.count, !isAlpha(two[j]), !isDigit(two[j]), two[j] != tilde, two[j] != caret { j += 1 }
            let c1 = i < one.count ? one[i] : 0, c2 = j < two.count ? two[j] : 0
            if c1 == tilde || c2 == tilde {
                if c1 != tilde { return 1 }
                if c2 != tilde { return -1 }
                i += 1; j += 1
                continue
            }
            if c1 == caret || c2 == caret {
                if i >= one.count { return -1 }
                if j >= two.count { return 1 }
                if c1 != caret { return 1 }
                if c2 != caret { return -1 }
                i += 1; j += 1
                continue
            }
            if i >= one.count || j >= two.count { break }
            let numeric = isDigit(one[i])
            let inSegment = numeric ? isDigit : isAlpha
            var end1 = i, end2 = j
            while end1 < one.count, inSegment(one[end1]) { end1 += 1 }
            while end2 < two.count, inSegment(two[end2]) { end2 += 1 }
            // A numeric segment against an alphabetic one (an empty segment of that kind): numbers are newer.
            if end2 == j { return numeric ? 1 : -1 }
            var s1 = one[i..<end1], s2 = two[j..<end2]
            if numeric {
                s1 = s1.drop(while: { $0 == UInt8(ascii: "0") })
                s2 = s2.drop(while: { $0 == UInt8(ascii: "0") })
                if s1.count != s2.count { return s1.count > s2.count ? 1 : -1 }
            }
            if !s1.elementsEqual(s2) { return s1.lexicographicallyPrecedes(s2) ? -1 : 1 }
            i = end1; j = end2
        }
        if i >= one.count && j >= two.count { return 0 }
        return i >= one.count ? -1 : 1
    }
}
