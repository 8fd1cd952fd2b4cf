#!/usr/bin/env bash
# Sourced by scripts/test.sh: makes sure PostgreSQL answers on 127.0.0.1:5432 (starting
# the local cluster if it is installed but stopped) and exports
# SOFTTOKEN_TEST_POSTGRES_URL, so every storage and story test runs on PostgreSQL as
# well as SQLite. Each test makes its own scratch schema in that database.
# Without PostgreSQL the tests run on SQLite only, unless SOFTTOKEN_REQUIRE_POSTGRES=1
# (set by CI), which makes a missing PostgreSQL an error.

: "${SOFTTOKEN_TEST_POSTGRES_URL:=postgres://postgres@127.0.0.1:5432/test}"

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if command -v pg_isready >/dev/null && ! pg_up && command -v pg_ctlcluster >/dev/null \
  && [ -d /etc/postgresql ]; then
  echo "== starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi

if command -v pg_isready >/dev/null && pg_up; then
  db=${SOFTTOKEN_TEST_POSTGRES_URL##*/}
  db=${db%%\?*}
  if ! psql "${SOFTTOKEN_TEST_POSTGRES_URL%/*}/postgres" -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    psql "${SOFTTOKEN_TEST_POSTGRES_URL%/*}/postgres" -qc "CREATE DATABASE \"$db\""
  fi
  export SOFTTOKEN_TEST_POSTGRES_URL
  echo "== PostgreSQL tests: on ($SOFTTOKEN_TEST_POSTGRES_URL)"
elif [ "${SOFTTOKEN_REQUIRE_POSTGRES:-0}" = 1 ]; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432 and SOFTTOKEN_REQUIRE_POSTGRES=1" >&2
  exit 1
else
  unset SOFTTOKEN_TEST_POSTGRES_URL
  echo "== PostgreSQL tests: off (no server on 127.0.0.1:5432; SQLite only)"
fi
