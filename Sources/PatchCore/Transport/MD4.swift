/// MD4 (RFC 1320). NTLM derives its password hash with it; it is broken as a general hash and
/// used for nothing else here. Written out because swift-crypto has no public MD4.
enum MD4 {
    static func hash(_ message: [UInt8]) -> [UInt8] {
        var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)
        let padded = padded(message)
        var words = [UInt32](repeating: 0, count: 16)
        for block in stride(from: 0, to: padded.count, by: 64) {
            for index in 0..<16 { words[index] = littleEndianWord(padded, at: block + index * 4) }
            var (a, b, c, d) = state
            // Each step updates the first register, then the roles rotate (RFC 1320 section 3.4).
            for step in 0..<48 {
                let round = step / 16
                let f: UInt32
                let k: Int
                let shift: UInt32
                switch round {
                case 0:
                    f = (b & c) | (~b & d)
                    k = step
                    shift = [3, 7, 11, 19][step % 4]
                case 1:
                    f = ((b & c) | (b & d) | (c & d)) &+ 0x5A82_7999
                    k = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15][step % 16]
                    shift = [3, 5, 9, 13][step % 4]
                default:
                    f = (b ^ c ^ d) &+ 0x6ED9_EBA1
                    k = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15][step % 16]
                    shift = [3, 9, 11, 15][step % 4]
                }
                let value = a &+ f &+ words[k]
                (a, b, c, d) = (d, (value << shift) | (value >> (32 - shift)), b, c)
            }
            state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
        }
        return littleEndianBytes([state.0, state.1, state.2, state.3])
    }

    /// MD4's padding: 0x80, zeros to 56 mod 64, the bit length little-endian.
    private static func padded(_ message: [UInt8]) -> [UInt8] {
        var bytes = message
        bytes.append(0x80)
        while bytes.count % 64 != 56 { bytes.append(0) }
        let bits = UInt64(message.count) &* 8
        for index in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(index)))) }
        return bytes
    }

    static func littleEndianWord(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    private static func littleEndianBytes(_ words: [UInt32]) -> [UInt8] {
        words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * UInt32($0))) } }
    }
}
