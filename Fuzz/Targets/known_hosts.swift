import Foundation
@testable import PatchSSH

/// OpenSSH known_hosts files, read from disk as patchctl reads them, then asked about one key.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKnownHosts(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let path = NSTemporaryDirectory() + "patchctl-fuzz-known-hosts-\(getpid())"
    FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: size))
    defer { unlink(path) }
    guard let hosts = try? KnownHosts(path: path) else { return 0 }
    let key: [UInt8] = Array("ssh-ed25519-key-bytes-for-fuzzing".utf8)
    key.withUnsafeBytes { bytes in
        for (host, port) in [("web1", 22), ("127.0.0.1", 2222), ("[::1]", 22)] {
            for type: Int32 in [1, 2, 3, 4, 5, 6] { _ = hosts.check(host: host, port: port, key: bytes, keyType: type) }
        }
    }
    return 0
}
