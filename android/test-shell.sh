#!/usr/bin/env bash
# Runs the Android `shell` module's tests on the JVM, without Gradle or the Android SDK:
# kotlinc (npm `kotlin-compiler`) compiles the generated bindings, the shell and its tests;
# JUnit 5 runs them against the REAL Rust library (crates/ffi, release build) and a real
# `softtoken-server` the tests start on a free port. The bindings come from
# bindings/generate.sh, the generator the binding tests use. Prints `N passed, N failed`; any failure
# (or no test at all) fails the script.
#
# Tools come from scripts/setup.sh: node_modules/kotlin-compiler, Debian's libjna-java and
# junit5. Compiled classes are cached under target/mobile-shell, keyed by the sources' hash.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
out=target/mobile-shell
kotlinc=node_modules/kotlin-compiler/bin/kotlinc
klib=node_modules/kotlin-compiler/lib
jna=/usr/share/java/jna.jar
console=/usr/share/java/junit-platform-console-standalone.jar
for tool in "$kotlinc" "$jna" "$console"; do
  [[ -e $tool ]] || { echo "test-shell: $tool is missing: run scripts/setup.sh" >&2; exit 1; }
done

# The same builds bindings/test.sh makes, so running both costs one build.
bindings/generate.sh
echo "== building the release library and the server"
cargo build -q --release -p softtoken-ffi
# The server as `cargo test --workspace` builds it: a no-op after scripts/test.sh's run.
cargo test -q --workspace --no-run
lib=target/release/libsofttoken_ffi.so
[[ $(uname -s) == Darwin ]] && lib=target/release/libsofttoken_ffi.dylib

sources=$(find bindings/generated/kotlin bindings/kotlin/testserver android/shell/src/main android/shell/src/test -name '*.kt' | sort)
hash=$(cat $sources | sha256sum | cut -c1-16)
classes="$out/classes-$hash"
cp_compile="$jna:$klib/kotlin-test.jar:$klib/kotlin-test-junit5.jar:/usr/share/java/junit-jupiter-api.jar"
if [[ ! -d $classes ]]; then
  echo "== compiling the shell and its tests (kotlinc)"
  rm -rf "$out"/classes-* && mkdir -p "$classes.tmp"
  # shellcheck disable=SC2086
  "$kotlinc" -nowarn -jvm-target 17 -cp "$cp_compile" -d "$classes.tmp" $sources
  mv "$classes.tmp" "$classes"
fi

echo "== running the shell tests against $lib"
report="$out/junit-report"
rm -rf "$report"
set +e
SOFTTOKEN_SERVER_BIN="$repo/target/debug/softtoken-server" SOFTTOKEN_REPO="$repo" \
  java -Djna.library.path="$repo/target/release" -jar "$console" \
  --class-path "$classes:$cp_compile:$klib/kotlin-stdlib.jar" --scan-classpath "$classes" \
  --disable-banner --details=tree --disable-ansi-colors --reports-dir "$report" >"$out/junit.log" 2>&1
status=$?
set -e
grep -E '✘|MethodSource|=>|Exception|expected' "$out/junit.log" | head -60 || true
passed=$(sed -nE 's/^\[ *([0-9]+) tests successful *\]$/\1/p' "$out/junit.log")
failed=$(sed -nE 's/^\[ *([0-9]+) tests failed *\]$/\1/p' "$out/junit.log")
echo "android shell: ${passed:-0} passed, ${failed:-?} failed"
if [[ $status -ne 0 || -z $passed || $passed -eq 0 || ${failed:-1} -ne 0 ]]; then
  echo "android shell: FAILED (full log: $out/junit.log)" >&2
  exit 1
fi
