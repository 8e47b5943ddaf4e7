/// The server's CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2): what an NTLMv2 response is computed from.
struct NTLMChallenge: Equatable {
    var flags: UInt32
    var serverChallenge: [UInt8]
    /// The AV pairs exactly as sent; NTLMv2 signs them unchanged.
    var targetInfo: [UInt8]

    /// MsvAvTimestamp (AV id 7) when present: the client must then use it as its time and
    /// leave the LM response empty (MS-NLMP 3.1.5.1.2).
    var timestamp: UInt64? {
        var offset = 0
        while offset + 4 <= targetInfo.count {
            let id = UInt16(targetInfo[offset]) | UInt16(targetInfo[offset + 1]) << 8
            let length = Int(UInt16(targetInfo[offset + 2]) | UInt16(targetInfo[offset + 3]) << 8)
            offset += 4
            guard id != 0, offset + length <= targetInfo.count else { return nil }
            if id == 7, length == 8 {
                return (0..<8).reduce(UInt64(0)) { $0 | UInt64(targetInfo[offset + $1]) << (8 * UInt64($1)) }
            }
            offset += length
        }
        return nil
    }

    /// nil when `bytes` is not a well-formed challenge message.
    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 32, Array(bytes[0..<8]) == NTLMClient.signature, Self.word(bytes, 8) == 2 else { return nil }
        flags = Self.word(bytes, 20)
        serverChallenge = Array(bytes[24..<32])
        targetInfo = []
        if bytes.count >= 48 {
            let length = Int(bytes[40]) | Int(bytes[41]) << 8
            let offset = Int(Self.word(bytes, 44))
            guard offset + length <= bytes.count else { return nil }
            targetInfo = Array(bytes[offset..<(offset + length)])
        }
    }

    static func word(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        MD4.littleEndianWord(bytes, at: offset)
    }
}
