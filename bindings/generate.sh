#!/usr/bin/env bash
# Generates the Kotlin (package jp.softtoken.core) and Swift (module SoftTokenCore) bindings
# of crates/ffi into bindings/generated/{kotlin,swift}, with the in-repo, version-pinned
# uniffi-bindgen, in library mode.
#
# Generation reads the UniFFI metadata compiled into the library, so it runs on the debug
# build: a stripped release library has none left. The generated code then works unchanged
# against the release library (same crate, same UniFFI version, same checksums).
set -euo pipefail
cd "$(dirname "$0")/.."

# The same package selection (and so the same dependency features) as scripts/test.sh's
# `cargo test --workspace`: after that run this is a no-op. Selecting the two packages
# alone unified features differently and rebuilt tokio, rustls and reqwest (8 minutes of a
# cold CI run).
cargo build -q --workspace --all-targets
lib=target/debug/libsofttoken_ffi.so
[[ $(uname -s) == Darwin ]] && lib=target/debug/libsofttoken_ffi.dylib

out=bindings/generated
rm -rf "$out"
# Kotlin twice: kotlin-android as crates/ffi/uniffi.toml says (`android = true`: Android's
# SystemCleaner on API 34+, androidx annotations), for the app; kotlin for the JVM (the
# shell module and the tests here, which have no android.* classes), the same API with only
# the JVM cleaner, through a global config (crate softtoken_ffi) merged over uniffi.toml.
jvm_config=$(mktemp)
trap 'rm -f "$jvm_config"' EXIT
printf '[crates.softtoken_ffi.bindings.kotlin]\nandroid = false\n' >"$jvm_config"
target/debug/uniffi-bindgen generate "$lib" --language kotlin --out-dir "$out/kotlin-android" --no-format
target/debug/uniffi-bindgen generate "$lib" --language kotlin --out-dir "$out/kotlin" --no-format --config "$jvm_config"
target/debug/uniffi-bindgen generate "$lib" --language swift --out-dir "$out/swift" --no-format
echo "generate: $(find "$out" -type f | wc -l) files in $out"
