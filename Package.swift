// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Accord",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "AccordCore", targets: ["AccordCore"]),
        .library(name: "AccordStore", targets: ["AccordStore"]),
        .library(name: "AccordGate", targets: ["AccordGate"]),
        .library(name: "AccordReports", targets: ["AccordReports"]),
        .executable(name: "accord", targets: ["accord"]),
        .executable(name: "accord-bench", targets: ["AccordBench"]),
    ],
    dependencies: [
        // Yams 6.x: 5.x silently keeps one of two duplicate mapping keys.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        .target(
            name: "AccordCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "AccordStore",
            dependencies: [
                "AccordCore",
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
            name: "AccordGate",
            dependencies: ["AccordCore", "AccordStore", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Privacy impact assessments from the policies and the audit trail.
        .target(
            name: "AccordReports",
            dependencies: ["AccordCore", "AccordStore"]
        ),
        .executableTarget(
            name: "accord",
            dependencies: [
                "AccordCore",
                "AccordStore",
                "AccordGate",
                "AccordReports",
                "RecsysModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "AccordBench",
            dependencies: ["AccordCore", "AccordStore", "AccordGate", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Benchmarks/AccordBench"
        ),
        .testTarget(
            name: "AccordCoreTests",
            dependencies: ["AccordCore", "AccordStore", "AccordGate", "AccordReports", "RecsysModel", "accord", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ]
)
