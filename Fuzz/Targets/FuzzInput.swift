// Shared by every fuzz target (scripts/fuzz.sh compiles it with each one): libFuzzer's bytes
// as the text a parser receives. Invalid UTF-8 is repaired as the transports repair it.
func fuzzText(_ data: UnsafePointer<UInt8>, _ size: Int) -> String {
    String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
}
