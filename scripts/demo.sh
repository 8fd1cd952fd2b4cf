#!/usr/bin/env bash
# Runs the main job: softtoken-server with a demo service on http://127.0.0.1:8080,
# printing the exact commands to issue, activate, confirm and verify from a second
# terminal. Extra arguments go to `softtoken-server demo` (e.g. --listen, --data-dir).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p softtoken-server -p softtoken-cli
exec target/debug/softtoken-server demo "$@"
