#!/usr/bin/env bash
# What the request deadlines cost (issue 13): the same `classnote serve` (embedded default, demo
# data) at two commits, BEFORE (default: the commit before issue 13) and HEAD, loaded in turn with
# wrk, rounds interleaved so background load hits both alike. Two paths: /healthz (the request
# thread pool's hand-over alone) and a pupil's lesson page (a signed-in page with queries).
# Usage: bench/deadlines/run.sh [BEFORE_COMMIT] ; env ROUNDS (3), DURATION (10s), CONNECTIONS (32).
# Targets 127.0.0.1 only; every server it starts is stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BEFORE="${1:-0c4bc3c}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
WORK="$(mktemp -d /tmp/classnote-deadlines-bench.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
  git -C "$ROOT" worktree remove --force "$WORK/before" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }
command -v bc >/dev/null || { echo "bc not found: apt-get install -y bc" >&2; exit 2; }
git -C "$ROOT" worktree add --detach "$WORK/before" "$BEFORE" >/dev/null 2>&1
cd "$ROOT"

start() {  # name src port
  local name=$1 src=$2 port=$3
  mkdir -p "$WORK/$name"
  # setsid: the server leads a process group of its own, which cleanup kills whole.
  PYTHONPATH="$src" CLASSNOTE_HOME="$WORK/$name" CLASSNOTE_ENV=development LOG_LEVEL=warning \
    WRITE_RATE_PER_MINUTE=0 setsid "$ROOT/.venv/bin/python" -m classnote serve --demo --port "$port" \
    >"$WORK/$name/server.log" 2>&1 </dev/null &
  PIDS+=($!)
  for _ in $(seq 1 300); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "$name did not start" >&2; tail -20 "$WORK/$name/server.log" >&2; exit 1
}
cookie() {  # port home -> the session cookie of the first demo pupil, and their lesson path
  "$ROOT/.venv/bin/python" "$ROOT/bench/deadlines/login.py" "$1" "$2"
}
start before "$WORK/before/src" 18101
start head "$ROOT/src" 18102
IFS=$'\t' read -r COOKIE_BEFORE LESSON_BEFORE < <(cookie 18101 "$WORK/before")
IFS=$'\t' read -r COOKIE_HEAD LESSON_HEAD < <(cookie 18102 "$WORK/head")

rps() { wrk -t 2 -c "$CONNECTIONS" -d "$DURATION" "$@" | awk '/Requests\/sec/ {print $2}'; }
# Warm-up, not recorded: the first seconds of a fresh process are slower (imports, caches).
for port in 18101 18102; do wrk -t 2 -c "$CONNECTIONS" -d 5s "http://127.0.0.1:$port/healthz" >/dev/null; done
wrk -t 2 -c "$CONNECTIONS" -d 5s -H "Cookie: $COOKIE_BEFORE" "http://127.0.0.1:18101$LESSON_BEFORE" >/dev/null
wrk -t 2 -c "$CONNECTIONS" -d 5s -H "Cookie: $COOKIE_HEAD" "http://127.0.0.1:18102$LESSON_HEAD" >/dev/null
echo "| round | path | before req/s | head req/s | head/before |"
echo "|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
  b=$(rps "http://127.0.0.1:18101/healthz"); h=$(rps "http://127.0.0.1:18102/healthz")
  echo "| $round | /healthz | $b | $h | $(echo "scale=3; $h / $b" | bc) |"
  b=$(rps -H "Cookie: $COOKIE_BEFORE" "http://127.0.0.1:18101$LESSON_BEFORE")
  h=$(rps -H "Cookie: $COOKIE_HEAD" "http://127.0.0.1:18102$LESSON_HEAD")
  echo "| $round | pupil's lesson page | $b | $h | $(echo "scale=3; $h / $b" | bc) |"
done
