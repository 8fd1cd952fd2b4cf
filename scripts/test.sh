#!/usr/bin/env bash
# Runs every test softtoken has: formatting, lints, and all test suites.
# On a fresh machine it first installs what the tests need (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
# PostgreSQL as the second storage backend of the tests (issue 5).
source scripts/postgres.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace
if [ -n "${SOFTTOKEN_TEST_POSTGRES_URL:-}" ]; then
  # The run above put the server's story and API tests on PostgreSQL; run them on
  # SQLite as well (the concurrency tests cover both backends in either run). Selected with
  # --workspace like the run above, so the same binaries run again without a rebuild.
  echo "== server story and API tests again, on SQLite"
  env -u SOFTTOKEN_TEST_POSTGRES_URL cargo test --workspace \
    --test story --test bank_api --test security --test database_dump --test pskc_import \
    --test night_cutoff --test activation_mail --test shutdown --test health --test metrics \
    --test token_status --test console
fi
echo "== fuzz smoke (every fuzz target, a few seconds each)"
# The server's targets (configuration file, bank API bodies) included: every parser of
# outside input is smoked in CI (FUZZ_SERVER=0 skips them locally).
FUZZ_SERVER="${FUZZ_SERVER:-1}" scripts/fuzz-smoke.sh
echo "== API conformance (Schemathesis against a live server)"
scripts/api-conformance.sh target/debug/softtoken-server
echo "== help-desk console in a real browser (headless chromium)"
scripts/browser-tests.sh
echo "== mobile apps: Kotlin and Swift syntax"
node scripts/mobile-syntax/check.js
echo "== mobile apps: store-release settings (Android SDK levels, 16 KB pages, API guards; iOS manifest, icon, backup)"
python3 scripts/release-checks.py
echo "== bindings (Kotlin tests on the JVM, Swift syntax)"
bindings/test.sh
echo "== Android shell (its flows on the JVM, against the library and a server)"
android/test-shell.sh
