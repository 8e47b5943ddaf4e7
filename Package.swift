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
    ],
    targets: [
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        .target(
            name: "PatchSSH",
            dependencies: ["CLibSSH2"]
        ),
        .target(
            name: "PatchCore",
            dependencies: [
                "PatchSSH",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
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
        // Test-only helpers shared by the test targets (the hostile endpoint): never linked into patchctl.
        .target(
            name: "LabSupport",
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
            dependencies: ["PatchctlCLI", "PatchCore"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
