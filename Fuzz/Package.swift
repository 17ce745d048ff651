// swift-tools-version:6.0
// The libFuzzer target for Accord's front end and condition parser. Built apart from the main package
// because it has no `main` of its own (libFuzzer supplies it); see scripts/fuzz.sh.
import PackageDescription

let package = Package(
    name: "AccordFuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "AccordFuzz",
            dependencies: [.product(name: "AccordCore", package: "main")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    ]
)
