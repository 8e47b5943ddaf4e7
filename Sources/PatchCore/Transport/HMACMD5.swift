/// HMAC (RFC 2104) over MD5: every NTLMv2 key and proof is one of these.
enum HMACMD5 {
    static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        var block = key.count > 64 ? MD5.hash(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        let inner = MD5.hash(block.map { $0 ^ 0x36 } + message)
        return MD5.hash(block.map { $0 ^ 0x5C } + inner)
    }
}
