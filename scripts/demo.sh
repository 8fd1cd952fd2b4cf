#!/usr/bin/env bash
# Runs the main job: softtoken-server with a demo service on http://127.0.0.1:8080,
# printing the exact commands to issue, activate, confirm and verify from a second
# terminal. Extra arguments go to `softtoken-server demo` (e.g. --listen, --data-dir).
# The release build, as everywhere README points at target/release; the API key is kept in
# the data directory, so a restart keeps the key the second terminal exported.
set -euo pipefail
cd "$(dirname "$0")/.."
# The printed first step pipes the enrollment's answer through jq (it holds a QR code as SVG).
if ! command -v jq >/dev/null; then
  echo "demo.sh: installing jq (apt)" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get install -y -qq jq >/dev/null || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq jq >/dev/null; }
fi
cargo build -q --release -p softtoken-server -p softtoken-cli
exec target/release/softtoken-server demo "$@"
