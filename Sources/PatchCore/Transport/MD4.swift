/// MD4 (RFC 1320). NTLM derives its password hash with it; it is broken as a general hash and
/// used for nothing else here.
enum MD4 {
    static func hash(_ message: [UInt8]) -> [UInt8] {
        var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)
        let padded = MD5.padded(message)
        var words = [UInt32](repeating: 0, count: 16)
        for block in stride(from: 0, to: padded.count, by: 64) {
            for index in 0..<16 { words[index] = MD5.littleEndianWord(padded, at: block + index * 4) }
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
        return MD5.littleEndianBytes([state.0, state.1, state.2, state.3])
    }
}
