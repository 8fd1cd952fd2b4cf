#!/usr/bin/env bash
# The help-desk console's browser tests (server/tests/browser): a headless Debian chromium,
# driven by playwright-core (npm, pinned in package.json), against the real softtoken-server
# and the real desktop token `softtoken` from target/debug. Screenshots of every page visited,
# at 1280×800 and 390×844, land in target/browser-screenshots/.
#
# Tools come from scripts/setup.sh. A missing tool fails the run: never skipped silently.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium=${CHROMIUM_BIN:-}
for candidate in /usr/lib/chromium/chromium /usr/bin/chromium; do
  [[ -z $chromium && -x $candidate ]] && chromium=$candidate
done
if [[ -z $chromium || ! -x $chromium ]]; then
  echo "browser-tests: chromium${chromium:+ ($chromium)} is missing: run scripts/setup.sh (apt-get install chromium)" >&2
  exit 1
fi
if [[ ! -f node_modules/playwright-core/package.json ]]; then
  echo "browser-tests: node_modules/playwright-core is missing: run scripts/setup.sh (npm ci)" >&2
  exit 1
fi

# The binaries as `cargo test --workspace` builds them: a no-op after scripts/test.sh's run,
# and no second feature set to compile.
echo "== building softtoken-server and softtoken"
cargo test -q --workspace --no-run
for bin in target/debug/softtoken-server target/debug/softtoken; do
  [[ -x $bin ]] || { echo "browser-tests: $bin was not built" >&2; exit 1; }
done

rm -rf target/browser-screenshots target/browser-tests
echo "== console browser tests ($("$chromium" --version 2>/dev/null | head -1))"
# Bounded: a run takes seconds; the timeout stops a hung browser or server.
CHROMIUM_BIN=$chromium timeout --kill-after=10 120 node --test --test-timeout=90000 --test-concurrency=1 server/tests/browser/
