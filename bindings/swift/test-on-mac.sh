#!/usr/bin/env bash
# Runs the Swift XCTests where a Swift toolchain exists (macOS with Xcode or the Swift
# toolchain): builds the static library, generates the bindings, lays them out as a Swift
# package and runs `swift test`. On Linux CI the Swift is only syntax-checked
# (bindings/test.sh), as no Swift toolchain is installed there.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build -q --release -p softtoken-ffi
bindings/generate.sh
pkg=bindings/swift
rm -rf "$pkg/Sources"
mkdir -p "$pkg/Sources/SoftTokenCore" "$pkg/Sources/SoftTokenCoreFFI"
cp bindings/generated/swift/SoftTokenCore.swift "$pkg/Sources/SoftTokenCore/"
cp bindings/generated/swift/SoftTokenCoreFFI.h "$pkg/Sources/SoftTokenCoreFFI/"
# A system-library target reads its module map under this fixed name.
cp bindings/generated/swift/SoftTokenCoreFFI.modulemap "$pkg/Sources/SoftTokenCoreFFI/module.modulemap"
cd "$pkg" && swift test
