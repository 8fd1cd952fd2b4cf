#!/usr/bin/env bash
# Runs every test softtoken has: formatting, lints, and all test suites.
# On a fresh machine it first installs what the tests need (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step says when it starts and the run ends with how long each took, so a slow step
# shows in CI's log (the whole run is meant to stay under 30 minutes on a 2-core machine).
timings=()
step_name=""
step_start=$SECONDS
step() {
  if [ -n "$step_name" ]; then timings+=("$(printf '%5d s  %s' $((SECONDS - step_start)) "$step_name")"); fi
  step_name="$1"
  step_start=$SECONDS
  if [ -n "$1" ]; then echo "== $1"; fi
}
report() {
  step ""
  echo "== time per step (total $SECONDS s)"
  printf '%s\n' "${timings[@]}"
}
trap report EXIT

step "set-up (scripts/setup.sh, PostgreSQL)"
scripts/setup.sh
# PostgreSQL as the second storage backend of the tests (issue 5).
source scripts/postgres.sh

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
step "cargo test"
cargo test --workspace
if [ -n "${SOFTTOKEN_TEST_POSTGRES_URL:-}" ]; then
  # The run above put the server's story and API tests on PostgreSQL; run them on
  # SQLite as well (the concurrency tests cover both backends in either run). Selected with
  # --workspace like the run above, so the same binaries run again without a rebuild.
  step "server story and API tests again, on SQLite"
  env -u SOFTTOKEN_TEST_POSTGRES_URL cargo test --workspace \
    --test story --test bank_api --test security --test database_dump --test pskc_import \
    --test night_cutoff --test activation_mail --test shutdown --test health --test metrics \
    --test token_status --test console
fi
step "fuzz smoke (every fuzz target, a few seconds each)"
# The server's targets (configuration file, bank API bodies) included: every parser of
# outside input is smoked in CI (FUZZ_SERVER=0 skips them locally).
FUZZ_SERVER="${FUZZ_SERVER:-1}" scripts/fuzz-smoke.sh
step "API conformance (Schemathesis against a live server)"
scripts/api-conformance.sh target/debug/softtoken-server
step "help-desk console in a real browser (headless chromium)"
scripts/browser-tests.sh
step "mobile apps: Kotlin and Swift syntax"
node scripts/mobile-syntax/check.js
step "bindings (Kotlin tests on the JVM, Swift syntax)"
bindings/test.sh
step "Android shell (its flows on the JVM, against the library and a server)"
android/test-shell.sh
# After the bindings: the privacy-manifest check reads the symbols of the release library
# they built (before them it built a debug one of its own, 90 s of CI).
step "mobile apps: store-release settings (Android SDK levels, 16 KB pages, API guards; iOS manifest, icon, backup)"
python3 scripts/release-checks.py
