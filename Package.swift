// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "patchctl",
    // Linux only: the reactor (Sources/PatchSSH/Reactor.swift) is epoll and eventfd, and says so
    // with #error elsewhere. No Apple platform is declared because none builds.
    products: [
        .executable(name: "patchctl", targets: ["patchctl"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // Maintained replacements for home-made infrastructure (issue 16, section 5): hashes, HTTP(S), child processes.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        // Prometheus text exposition for `--metrics-file` and `patchctl metrics` (issue 13).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // A history shared by several controllers in PostgreSQL (issue 15).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        // The system's zlib: gzip feeds and the deflate entries of OSV zip archives (Advisories/Gzip.swift).
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "PatchSSH",
            dependencies: ["CLibSSH2"]
        ),
        .target(
            name: "PatchCore",
            dependencies: [
                "PatchSSH",
                "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C interface, as GRDB builds it: a stored date's text is read without a copy (StoredDate).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // The commands, their options and output: a library, so tests parse and run them in-process.
        .target(
            name: "PatchctlCLI",
            dependencies: [
                "PatchCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The binary: one @main that hands the arguments to PatchctlCLI.
        .executableTarget(
            name: "patchctl",
            dependencies: ["PatchctlCLI"]
        ),
        // bench/history.sh's generator of realistic nightly histories (`make bench-history`): not a product, never installed.
        .executableTarget(
            name: "patchctl-history-gen",
            dependencies: ["PatchCore", .product(name: "GRDB", package: "GRDB.swift")],
            path: "bench/HistoryGen"
        ),
        // Test-only helpers shared by the test targets (the hostile endpoint): never linked into patchctl.
        .target(
            name: "LabSupport",
            dependencies: [.product(name: "Subprocess", package: "swift-subprocess")],
            path: "Tests/LabSupport"
        ),
        .testTarget(
            name: "PatchCoreTests",
            dependencies: ["PatchCore", "LabSupport", .product(name: "GRDB", package: "GRDB.swift")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "PatchSSHTests",
            // LabSupport: each test's own sshd (TestSSHServer).
            dependencies: ["PatchSSH", "LabSupport"]
        ),
        .testTarget(
            name: "patchctlTests",
            // PatchCore and GRDB: fault tests build histories (older schemas included) to point the binary at;
            // LabSupport: the hostile endpoint.
            dependencies: ["patchctl", "PatchCore", "LabSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "PatchctlCLITests",
            // In-process: options and commands parsed and run without the binary or the lab.
            // LabSupport: Process.waitForExit for the validators the tests run (promtool).
            dependencies: ["PatchctlCLI", "PatchCore", "LabSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
