import Foundation

/// MD5 (RFC 1321), for NTLM's HMAC-MD5. Foundation has no digests on Linux and the project adds
/// no crypto library, so the few NTLM needs are written here and checked against the RFC vectors.
enum MD5 {
    /// T[i] = floor(2^32 * |sin(i + 1)|): exact in IEEE double, as the RFC's table was computed.
    private static let sines: [UInt32] = (0..<64).map { UInt32(truncatingIfNeeded: Int64(abs(sin(Double($0 + 1))) * 4_294_967_296)) }
    private static let shifts: [UInt32] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]

    static func hash(_ message: [UInt8]) -> [UInt8] {
        var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)
        let padded = padded(message)
        var words = [UInt32](repeating: 0, count: 16)
        for block in stride(from: 0, to: padded.count, by: 64) {
            for index in 0..<16 { words[index] = littleEndianWord(padded, at: block + index * 4) }
            var (a, b, c, d) = state
            for step in 0..<64 {
                let f: UInt32
                let k: Int
                switch step / 16 {
                case 0: f = (b & c) | (~b & d); k = step
                case 1: f = (d & b) | (~d & c); k = (5 * step + 1) % 16
                case 2: f = b ^ c ^ d; k = (3 * step + 5) % 16
                default: f = c ^ (b | ~d); k = (7 * step) % 16
                }
                let shift = shifts[(step / 16) * 4 + step % 4]
                let value = a &+ f &+ sines[step] &+ words[k]
                (a, b, c, d) = (d, b &+ ((value << shift) | (value >> (32 - shift))), b, c)
            }
            state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
        }
        return littleEndianBytes([state.0, state.1, state.2, state.3])
    }

    /// The padding MD4 and MD5 share: 0x80, zeros to 56 mod 64, the bit length little-endian.
    static func padded(_ message: [UInt8]) -> [UInt8] {
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

    static func littleEndianBytes(_ words: [UInt32]) -> [UInt8] {
        words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * UInt32($0))) } }
    }
}
