/// Lowercase hex of bytes (digests, signatures). By hand: String(format:) was a quarter of a
/// nightly history write's time when it hexed CVE-list digests.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lower-case hex. Made once per finding of every host a night (digests): the digits are made
    /// once, and the output's room reserved (a digest's prefix is a sequence that does not say its
    /// length: room for a whole SHA-256).
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(max(bytes.underestimatedCount, 32) * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
