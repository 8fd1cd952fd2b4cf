#!/usr/bin/env bash
# Builds SoftTokenKit's native half on a Mac: the Rust core as a static library for iOS
# devices, the iOS simulator (Apple silicon and Intel) and macOS (for `swift test`), bundled
# into SoftTokenKit/SoftTokenCoreFFI.xcframework, plus the generated Swift bindings in
# SoftTokenKit/Sources/SoftTokenCore/. Neither is committed.
#
# Needs: Xcode, rustup targets aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios
# aarch64-apple-darwin x86_64-apple-darwin (the script adds them when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
kit=ios/SoftTokenKit
work=target/ios-xcframework
lib=libsofttoken_ffi.a

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "${targets[@]}" >/dev/null
for t in "${targets[@]}"; do
  echo "== cargo build --release --target $t"
  cargo build --release -p softtoken-ffi --target "$t"
done

# The privacy manifest must declare every required-reason API the device library links
# (Apple's names this time: fstat, stat, mach_absolute_time, ...).
echo "== privacy manifest against the iOS library's symbols"
python3 scripts/release-checks.py --privacy-symbols target/aarch64-apple-ios/release/$lib

# Swift bindings and the C header, with the repository's generator (bindings/generate.sh,
# from the host debug build, which keeps the UniFFI metadata).
echo "== generating Swift bindings"
bindings/generate.sh
rm -rf "$work" && mkdir -p "$work/headers"
cp bindings/generated/swift/SoftTokenCoreFFI.h "$work/headers/"
# The XCFramework's module must be named as the generated Swift imports it.
cat > "$work/headers/module.modulemap" <<'MAP'
module SoftTokenCoreFFI {
    header "SoftTokenCoreFFI.h"
    export *
}
MAP

# One library per platform: the simulator and macOS slices are fat (arm64 + x86_64).
mkdir -p "$work/ios-sim" "$work/macos"
lipo -create target/aarch64-apple-ios-sim/release/$lib target/x86_64-apple-ios/release/$lib \
  -output "$work/ios-sim/$lib"
lipo -create target/aarch64-apple-darwin/release/$lib target/x86_64-apple-darwin/release/$lib \
  -output "$work/macos/$lib"

rm -rf "$kit/SoftTokenCoreFFI.xcframework"
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/release/$lib -headers "$work/headers" \
  -library "$work/ios-sim/$lib" -headers "$work/headers" \
  -library "$work/macos/$lib" -headers "$work/headers" \
  -output "$kit/SoftTokenCoreFFI.xcframework"

mkdir -p "$kit/Sources/SoftTokenCore"
cp bindings/generated/swift/SoftTokenCore.swift "$kit/Sources/SoftTokenCore/"
echo "== done: $root/$kit/SoftTokenCoreFFI.xcframework"
