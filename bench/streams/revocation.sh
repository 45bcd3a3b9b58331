#!/usr/bin/env bash
# How soon a removed pupil's stream ends (issue 12): on the embedded default (one process, SQLite,
# in-process bus), then on two processes on PostgreSQL and Redis (pupils and removals spread over both).
# Usage: bash bench/streams/revocation.sh [PUPILS] [REMOVALS]   (127.0.0.1 only; bounded)
set -euo pipefail
cd "$(dirname "$0")/../.."
PUPILS="${1:-30}"
REMOVALS="${2:-20}"
PY=.venv/bin/python
ulimit -n "$(ulimit -Hn)"
WORK="$(mktemp -d /tmp/classnote-revocation.XXXXXX)"
PIDS=()
DB="classnote_revocation_$$"
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
wait_up() {
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0
    sleep 0.3
  done
  echo "server on $1 did not start"; exit 1
}
export CLASSNOTE_ENV=development LOG_LEVEL=warning
unset DATABASE_URL REDIS_URL

echo "== embedded default: one process, SQLite, in-process bus =="
export CLASSNOTE_HOME="$WORK/embedded"
$PY -m classnote serve --demo --no-jobs --port 18801 >"$WORK/embedded.log" 2>&1 &
PIDS+=($!)
wait_up 18801
$PY bench/streams/revocation.py --url http://127.0.0.1:18801 --pupils "$PUPILS" --removals "$REMOVALS"

echo "== two processes, PostgreSQL and Redis =="
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" REDIS_URL="redis://127.0.0.1:6379/12"
export SECRET_KEY="revocation-bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export CLASSNOTE_HOME="$WORK/a"
$PY -m classnote serve --demo --no-jobs --port 18802 >"$WORK/a.log" 2>&1 &
PIDS+=($!)
wait_up 18802
CLASSNOTE_HOME="$WORK/b" $PY -m classnote serve --no-migrate --no-jobs --port 18803 >"$WORK/b.log" 2>&1 &
PIDS+=($!)
wait_up 18803
$PY bench/streams/revocation.py --url http://127.0.0.1:18802 --url http://127.0.0.1:18803 \
  --pupils "$PUPILS" --removals "$REMOVALS"
echo "load: $(uptime)"
