// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Accord",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "AccordCore", targets: ["AccordCore"]),
        .library(name: "AccordStore", targets: ["AccordStore"]),
        .library(name: "AccordRuntime", targets: ["AccordRuntime"]),
        .library(name: "AccordReports", targets: ["AccordReports"]),
        .library(name: "AccordServer", targets: ["AccordServer"]),
        .executable(name: "accord", targets: ["accord"]),
        .executable(name: "accord-bench", targets: ["AccordBench"]),
    ],
    dependencies: [
        // Yams 6.x: 5.x silently keeps one of two duplicate mapping keys.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // The decision server (issue 8).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Named for the products imported directly (NIOCore, NIOPosix's blocking pool, HTTPTypes).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The system libyaml's event parser, for the hazard scan that runs before Yams builds a tree (Yams exports no
        // event API of its own, and its vendored CYaml is not a product).
        .systemLibrary(
            name: "CLibYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        // The system libcrypto's SHA-256, whose state is a plain value (see Sources/CLibCrypto/shim.h).
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "AccordCore",
            dependencies: ["CLibYAML", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "AccordStore",
            dependencies: [
                "AccordCore", "CLibCrypto",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C interface, for the append and verify loops.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The examples' click-through model (examples/recsys): trained on a guarded training set in the tests.
        .target(
            name: "RecsysModel",
            path: "examples/recsys/RecsysModel"
        ),
        .target(
            name: "AccordRuntime",
            dependencies: [
                "AccordCore", "AccordStore",
                .product(name: "Crypto", package: "swift-crypto"),
                // The blocking pool that store work runs on for task callers; the fail-closed monitor's logs and counters.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Privacy impact assessments from the policies and the audit trail.
        .target(
            name: "AccordReports",
            dependencies: ["AccordCore", "AccordStore"]
        ),
        // The decision server: AuthZEN and the native API over HTTP, on Hummingbird.
        .target(
            name: "AccordServer",
            dependencies: [
                "AccordCore", "AccordStore", "AccordRuntime", "AccordReports",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "accord",
            dependencies: [
                "AccordServer",
                "AccordCore",
                "AccordStore",
                "AccordRuntime",
                "AccordReports",
                "RecsysModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "AccordBench",
            dependencies: ["AccordCore", "AccordStore", "AccordRuntime", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Benchmarks/AccordBench"
        ),
        // Tests, one target per module, sharing a small support target: the reference evaluator, the policy
        // generator, fixtures, and the real `accord` binary and server run as child processes.
        .target(
            name: "AccordTestSupport",
            dependencies: ["AccordCore"],
            path: "Tests/AccordTestSupport"
        ),
        .testTarget(
            name: "AccordCoreTests",
            dependencies: ["AccordCore", "AccordTestSupport", "accord"]
        ),
        .testTarget(
            name: "AccordStoreTests",
            dependencies: [
                "AccordCore", "AccordStore", "AccordTestSupport", "accord", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "AccordRuntimeTests",
            dependencies: [
                "AccordCore", "AccordStore", "AccordRuntime", "AccordTestSupport", "RecsysModel",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "AccordReportsTests",
            dependencies: ["AccordCore", "AccordStore", "AccordReports", "AccordTestSupport", "accord"]
        ),
        .testTarget(
            name: "AccordServerTests",
            dependencies: [
                "AccordCore", "AccordStore", "AccordServer", "AccordTestSupport", "accord",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "AccordCLITests",
            dependencies: ["AccordCore", "AccordStore", "AccordTestSupport", "accord", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ]
)
