import Foundation
@testable import PatchCore

/// What the store tests that record whole nights share: a folder of their own, and a Debian 12 host's scan.
enum StoreTestHosts {
    static func folder(_ prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A successful scan of a Debian 12 host started at `at` that lists `updates`.
    static func debian(_ name: String, address: String, updates: [PendingUpdate], at: Date) -> HostScan {
        HostScan(name: name, address: address, port: 22, status: .ok,
                 os: OSInfo(family: .debian, id: "debian", name: "Debian GNU/Linux", version: "12", codename: "bookworm", kernel: "6.1", architecture: "x86_64"),
                 rebootRequired: false, installedCount: 300, updates: updates, startedAt: at, finishedAt: at.addingTimeInterval(1))
    }
}
