#!/usr/bin/env bash
# Installs what the test suite needs and a fresh machine may lack. Idempotent: each
# piece is installed only when missing, so a second run costs a few milliseconds.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v oathtool >/dev/null || need_apt+=(oathtool)
# The binding tests (bindings/test.sh): a JVM, JNA and the JUnit 5 console, Node for npm.
command -v java >/dev/null || need_apt+=(default-jre-headless)
[[ -f /usr/share/java/jna.jar ]] || need_apt+=(libjna-java)
[[ -f /usr/share/java/junit-platform-console-standalone.jar ]] || need_apt+=(junit5)
command -v npm >/dev/null || need_apt+=(nodejs npm)
# The console's browser tests (scripts/browser-tests.sh): Debian's chromium, driven headless by
# playwright-core (npm, below), and a Japanese font so the screenshots show the console's text.
[[ -x /usr/lib/chromium/chromium ]] || need_apt+=(chromium)
[[ -d /usr/share/fonts/opentype/ipafont-gothic ]] || need_apt+=(fonts-ipafont-gothic)
if ((${#need_apt[@]})); then
  echo "setup: installing ${need_apt[*]} (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The API conformance run (scripts/api-conformance.sh), pinned: a newer Schemathesis may
# generate other cases and check other rules.
if [[ "$(schemathesis --version 2>/dev/null)" != *" 4.32.5" ]]; then
  echo "setup: installing schemathesis (pip)"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore 'schemathesis==4.32.5'
fi

# The activation e-mail tests' SMTP server on loopback (server/tests/smtp_sink.py), pinned.
if [[ "$(python3 -c 'import aiosmtpd; print(aiosmtpd.__version__)' 2>/dev/null)" != "1.4.6" ]]; then
  echo "setup: installing aiosmtpd (pip)"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore 'aiosmtpd==1.4.6'
fi

# A second OCRA (RFC 6287) implementation for crates/cli/tests/interop.rs, pinned.
if [[ "$(python3 -c 'import importlib.metadata as m; print(m.version("oath"))' 2>/dev/null)" != "1.4.4" ]]; then
  echo "setup: installing oath (pip)"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore 'oath==1.4.4'
fi

if ! python3 -c 'import pyotp' 2>/dev/null; then
  echo "setup: installing pyotp (pip)"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore 'pyotp==2.9.0'
fi

# kotlinc, tree-sitter-swift and playwright-core, pinned in package.json / package-lock.json.
# --ignore-scripts: tree-sitter ships prebuilt binaries, and its install script would try to
# download one; playwright-core drives the system chromium and has no browser to download.
if [[ ! -x node_modules/kotlin-compiler/bin/kotlinc || ! -d node_modules/tree-sitter-swift ||
      ! -f node_modules/playwright-core/package.json ]]; then
  echo "setup: installing kotlin-compiler, tree-sitter-swift and playwright-core (npm)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi

rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

# The fuzz smoke run (scripts/fuzz-smoke.sh): a nightly toolchain (cargo fuzz instruments
# with -Zsanitizer) and cargo-fuzz, pinned.
rustup toolchain list 2>/dev/null | grep -q '^nightly' ||
  rustup toolchain install nightly --profile minimal
if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz 0.13.2" ]]; then
  echo "setup: installing cargo-fuzz (cargo install)"
  cargo install --locked --quiet cargo-fuzz --version 0.13.2
fi

# The mobile apps' syntax check (scripts/mobile-syntax): pinned tree-sitter grammars, prebuilt.
if [[ ! -d scripts/mobile-syntax/node_modules/@tree-sitter-grammars/tree-sitter-kotlin ]]; then
  echo "setup: installing the mobile syntax-check grammars (npm)"
  (cd scripts/mobile-syntax && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
