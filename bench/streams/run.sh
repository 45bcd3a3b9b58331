#!/usr/bin/env bash
# Idle event streams held by one `classnote serve` process (issue 6): memory and threads per stream.
# Usage: bash bench/streams/run.sh [STEPS]   (default 1000,2000,5000,10000; 127.0.0.1 only, bounded)
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS="${1:-1000,2000,5000,10000}"
MAX="${STEPS##*,}"
ulimit -n "$(ulimit -Hn)"
HOME_DIR="$(mktemp -d /tmp/classnote-streams.XXXXXX)"
PORT="${PORT:-18765}"
export CLASSNOTE_HOME="$HOME_DIR" CLASSNOTE_ENV=development LOG_LEVEL=warning
unset DATABASE_URL REDIS_URL
PY=.venv/bin/python
$PY -m classnote serve --demo --no-jobs --port "$PORT" >"$HOME_DIR/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$HOME_DIR"' EXIT
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 $SERVER || { tail -30 "$HOME_DIR/server.log"; exit 1; }
  sleep 0.3
done
$PY bench/streams/setup_students.py "$MAX" "$HOME_DIR/sessions.json"
echo "load: $(uptime)"
$PY bench/streams/hold.py --port "$PORT" --pid "$SERVER" --sessions "$HOME_DIR/sessions.json" --steps "$STEPS"
echo "load: $(uptime)"
