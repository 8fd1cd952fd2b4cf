// swift-tools-version:5.9
// Runs the hand-written XCTests against the generated Swift bindings and the Rust static
// library, on a Mac: bindings/swift/test-on-mac.sh fills Sources/ (git-ignored) first.
import Foundation
import PackageDescription

// target/release/libsofttoken_ffi.a, found from this file so `swift test` works from any
// directory.
let repoRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()
    .appendingPathComponent("../..")
    .standardized
    .path

let package = Package(
    name: "SoftTokenCore",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [
        .library(name: "SoftTokenCore", targets: ["SoftTokenCore"]),
    ],
    targets: [
        // The C header and module map UniFFI generates (module SoftTokenCoreFFI).
        .systemLibrary(name: "SoftTokenCoreFFI", path: "Sources/SoftTokenCoreFFI"),
        .target(
            name: "SoftTokenCore",
            dependencies: ["SoftTokenCoreFFI"],
            path: "Sources/SoftTokenCore",
            linkerSettings: [
                .unsafeFlags(["\(repoRoot)/target/release/libsofttoken_ffi.a"]),
                .linkedFramework("Security"),
                .linkedFramework("SystemConfiguration"),
                .linkedFramework("CoreFoundation"),
            ]
        ),
        .testTarget(
            name: "SoftTokenCoreTests",
            dependencies: ["SoftTokenCore"],
            path: "Tests/SoftTokenCoreTests"
        ),
    ]
)
