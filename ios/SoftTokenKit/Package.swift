// swift-tools-version:5.9
// SoftTokenKit: the Rust token core for the iOS app. `SoftTokenCoreFFI` is the XCFramework
// (device, simulator and macOS slices) and `SoftTokenCore` the generated Swift bindings, both
// made by ../build-xcframework.sh and never committed; `SoftTokenKit` is the shell over the
// core's AppCore (the flows are the core's: crates/core/src/app).
import PackageDescription

let package = Package(
    name: "SoftTokenKit",
    defaultLocalization: "ja",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "SoftTokenKit", targets: ["SoftTokenKit"]),
    ],
    targets: [
        .binaryTarget(name: "SoftTokenCoreFFI", path: "SoftTokenCoreFFI.xcframework"),
        .target(name: "SoftTokenCore", dependencies: ["SoftTokenCoreFFI"], path: "Sources/SoftTokenCore"),
        // Security (Keychain, SecKey) is used by the Rust core's callers and the Secure Enclave
        // glue: linked explicitly rather than by luck through another framework.
        .target(name: "SoftTokenKit", dependencies: ["SoftTokenCore"], path: "Sources/SoftTokenKit",
                linkerSettings: [.linkedFramework("Security")]),
        .testTarget(name: "SoftTokenKitTests", dependencies: ["SoftTokenKit"], path: "Tests/SoftTokenKitTests"),
    ]
)
