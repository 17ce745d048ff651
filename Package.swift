// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Accord",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "AccordCore", targets: ["AccordCore"]),
        .executable(name: "accord", targets: ["accord"]),
        .executable(name: "accord-bench", targets: ["AccordBench"]),
    ],
    dependencies: [
        // Yams 6.x: 5.x silently keeps one of two duplicate mapping keys.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "AccordCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .executableTarget(
            name: "accord",
            dependencies: [
                "AccordCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "AccordBench",
            dependencies: ["AccordCore"],
            path: "Benchmarks/AccordBench"
        ),
        .testTarget(
            name: "AccordCoreTests",
            dependencies: ["AccordCore", "accord"]
        ),
    ]
)
