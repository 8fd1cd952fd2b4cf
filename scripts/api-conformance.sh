#!/usr/bin/env bash
# The API against its own document: Schemathesis (pinned in scripts/setup.sh) generates
# requests for every operation of a live softtoken-server's /openapi.json, with a bank
# key, and checks that no answer is a server error and that every status, content type
# and body is the one documented. Any failure fails this script (and scripts/test.sh).
#
#   scripts/api-conformance.sh [SERVER_BINARY]    (default: target/debug/softtoken-server)
#
# Bounded: a fixed number of examples per operation (SOFTTOKEN_CONFORMANCE_EXAMPLES,
# default 20) within a time budget, on a fresh SQLite database in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."

server=${1:-target/debug/softtoken-server}
examples=${SOFTTOKEN_CONFORMANCE_EXAMPLES:-20}
work=$(mktemp -d)
pid=
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

key=$("$server" service add --id bank --name "Conformance Bank" --data-dir "$work/data" | tail -n 1)
"$server" service add --id other --name "Other Bank" --data-dir "$work/data" >/dev/null
# No per-IP limit: every request comes from this machine.
"$server" serve --listen 127.0.0.1:0 --app-rate-limit 0 --data-dir "$work/data" \
  >"$work/stdout" 2>"$work/stderr" &
pid=$!
url=
for _ in $(seq 1 100); do
  url=$(sed -n 's/^softtoken-server listening on //p' "$work/stdout")
  [[ -n "$url" ]] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$url" ]] || { echo "the server did not start" >&2; exit 1; }

# Schemathesis keeps its cache in the working directory: keep it in the scratch directory.
cd "$work"
echo "schemathesis $(schemathesis --version | awk '{print $NF}') against $url, $examples examples per operation"
schemathesis --config-file "$OLDPWD/scripts/schemathesis.toml" run "$url/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "$examples" \
  --max-time 120 \
  --workers 2 \
  --request-timeout 10 \
  --suppress-health-check too_slow,filter_too_much \
  --no-color
if grep -q -E "ERROR|panicked" "$work/stderr"; then
  echo "the server logged errors during the run:" >&2
  grep -E "ERROR|panicked" "$work/stderr" >&2
  exit 1
fi
