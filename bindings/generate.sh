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
for language in kotlin swift; do
  target/debug/uniffi-bindgen generate "$lib" --language "$language" --out-dir "$out/$language" --no-format
done
echo "generate: $(find "$out" -type f | wc -l) files in $out"
