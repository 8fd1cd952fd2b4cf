#!/usr/bin/env bash
# The server's ceiling against nginx's on the same machine (issue 23 item 6): `GET /v1/time`
# of the release `softtoken-server serve` (default logging: one access-log line per request,
# written to a file as a deployment would) and a `return 200` of nginx (two workers, its access
# log on), each driven by the same wrk (2 threads, 64 connections, 10 s), interleaved, three
# rounds; prints each round, the medians, their ratio and the CPU model.
#
# Not part of the test command: a load run, minutes long, whose numbers only mean something on
# an idle machine. Needs wrk and nginx (apt: wrk nginx-light).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
duration=${DURATION:-10s}
for tool in wrk nginx; do
  command -v "$tool" >/dev/null || { echo "ceiling-vs-nginx: $tool is missing (apt install wrk nginx-light)" >&2; exit 1; }
done
cargo build -q --release -p softtoken-server
work=$(mktemp -d)
server_pid=
nginx_pid=
stop() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [[ -n $nginx_pid ]] && kill "$nginx_pid" 2>/dev/null
  rm -rf "$work"
}
trap stop EXIT

# The server, as README's serve command runs it, the app-API rate limit off (one client address).
target/release/softtoken-server serve --listen 127.0.0.1:0 --data-dir "$work/data" \
  --app-rate-limit 0 >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
  grep -q 'listening on' "$work/server.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
server_url=$(grep -o 'http://[0-9.:]*' "$work/server.out" | head -1)
[[ -n $server_url ]] || { echo "ceiling-vs-nginx: the server did not start" >&2; cat "$work/server.log" >&2; exit 1; }

# nginx: the same JSON shape /v1/time answers with, two workers (the machine's cores).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log $work/nginx/access.log;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$port;
    location = /v1/time { default_type application/json; return 200 '{"unix_time":1796601600,"unix_time_ms":1796601600000}'; }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/v1/time" >/dev/null && break
  sleep 0.1
done
curl -fs "$server_url/v1/time" >/dev/null
curl -fs "http://127.0.0.1:$port/v1/time" >/dev/null

rate() { wrk -t2 -c64 -d"$duration" "$1" | awk '/Requests\/sec/ {print int($2)}'; }
server_rates=()
nginx_rates=()
for round in $(seq "$rounds"); do
  s=$(rate "$server_url/v1/time")
  n=$(rate "http://127.0.0.1:$port/v1/time")
  server_rates+=("$s")
  nginx_rates+=("$n")
  echo "round $round: softtoken-server $s/s, nginx $n/s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
s=$(median "${server_rates[@]}")
n=$(median "${nginx_rates[@]}")
echo "cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores"
echo "access-log lines written by the server: $(grep -c 'softtoken_server::access' "$work/server.log" || true)"
echo "median: softtoken-server $s/s, nginx $n/s, ratio $(awk -v s="$s" -v n="$n" 'BEGIN {printf "%.0f%%", 100*s/n}')"
