#!/usr/bin/env bash
# The binding tests: generates the Kotlin and Swift bindings, runs the Kotlin tests on the JVM
# against the real release library (and a real softtoken-server the tests start), and
# syntax-checks the generated and hand-written Swift. Ends with one "N passed, N failed" line
# and a non-zero status on any failure. Run by scripts/test.sh; needs scripts/setup.sh's tools.
set -euo pipefail
cd "$(dirname "$0")/.."

bindings/generate.sh

echo "== release library and server for the Kotlin tests"
cargo build -q --release -p softtoken-ffi
# The server as `cargo test --workspace` builds it (same package selection, so same features):
# after scripts/test.sh's test run this is a no-op instead of a second build.
cargo test -q --workspace --no-run
release_lib=target/release/libsofttoken_ffi.so
# The tests load the stripped release library: exactly what an app ships.
stripped=bindings/build/lib/libsofttoken_ffi.so
mkdir -p bindings/build/lib
strip -o "$stripped" "$release_lib"
echo "release library stripped: $(stat -c %s "$stripped") bytes"

echo "== Swift syntax (tree-sitter-swift)"
node bindings/swift/check-syntax.js bindings/generated/swift/*.swift bindings/swift/Package.swift \
  $(find bindings/swift/Tests -name '*.swift')

echo "== Kotlin tests (JVM)"
kotlin_lib=node_modules/kotlin-compiler/lib
java_lib=/usr/share/java
junit="$java_lib/junit-platform-console-standalone.jar"
test_jar=bindings/build/kotlin-tests.jar
deps="$java_lib/jna.jar:$kotlin_lib/kotlin-test.jar:$kotlin_lib/kotlin-test-junit5.jar"
node_modules/kotlin-compiler/bin/kotlinc -nowarn -jvm-target 17 -cp "$deps:$junit" -d "$test_jar" \
  bindings/generated/kotlin bindings/kotlin/testserver bindings/kotlin/tests

report=bindings/build/kotlin-tests.log
set +e
java -Djna.library.path="$(dirname "$stripped")" \
  -Dsofttoken.server="$PWD/target/debug/softtoken-server" \
  -jar "$junit" --disable-banner --details=tree --disable-ansi-colors --fail-if-no-tests \
  -cp "$test_jar:$kotlin_lib/kotlin-stdlib.jar:$deps" --scan-classpath "$test_jar" 2>&1 | tee "$report"
status=${PIPESTATUS[0]}
set -e

count() { sed -n "s/^\[ *\([0-9][0-9]*\) $1 .*/\1/p" "$report" | head -n1; }
passed=$(count 'tests successful')
failed=$(( $(count 'tests failed') + $(count 'tests aborted') + $(count 'containers failed') ))
echo "kotlin: ${passed:-0} passed, ${failed} failed"
if (( status != 0 || failed != 0 || ${passed:-0} == 0 )); then
  echo "Kotlin binding tests failed (exit status $status)" >&2
  exit 1
fi
