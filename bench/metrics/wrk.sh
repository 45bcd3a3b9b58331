#!/usr/bin/env bash
# What the metrics cost over HTTP (issue 15): two `classnote serve` (embedded default, demo data each),
# one with metrics off (no METRICS_TOKEN), one with them on; the first demo pupil's home page (a
# cheap signed-in page: the middleware's share is largest there) loaded with wrk, rounds alternating
# off and on so background load hits both alike; the idle server waits meanwhile. Prints req/s per
# round and the on/off ratio, then the size and time of one scrape of the metrics-on server.
# Usage: bench/metrics/wrk.sh ; env ROUNDS (3), DURATION (10s), CONNECTIONS (16), PAGE (/home/).
# Targets 127.0.0.1 only; the servers it starts are stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-16}"
PAGE="${PAGE:-/home/}"
TOKEN="bench-metrics-token-$RANDOM$RANDOM$RANDOM"
WORK="$(mktemp -d /tmp/classnote-metrics-wrk.XXXXXX)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill -- "-$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }
command -v bc >/dev/null || { echo "bc not found: apt-get install -y bc" >&2; exit 2; }
cd "$ROOT"

start() {  # NAME PORT TOKEN
  mkdir -p "$WORK/$1"
  CLASSNOTE_HOME="$WORK/$1" CLASSNOTE_ENV=development LOG_LEVEL=warning WRITE_RATE_PER_MINUTE=0 METRICS_TOKEN="$3" \
    setsid .venv/bin/python -m classnote serve --demo --port "$2" >"$WORK/$1/server.log" 2>&1 </dev/null &
  PIDS+=($!)
}
start off 18121 ""
start on 18122 "$TOKEN"
for port in 18121 18122; do
  for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
done
IFS=$'\t' read -r COOKIE_OFF _ < <(CLASSNOTE_HOME="$WORK/off" .venv/bin/python bench/deadlines/login.py 18121 "$WORK/off")
IFS=$'\t' read -r COOKIE_ON _ < <(CLASSNOTE_HOME="$WORK/on" .venv/bin/python bench/deadlines/login.py 18122 "$WORK/on")
[ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18121/metrics)" = 404 ] || { echo "metrics not off" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" http://127.0.0.1:18122/metrics)" = 200 ] \
  || { echo "metrics not on" >&2; exit 1; }
for which in off on; do
  [ "$which" = off ] && { port=18121; cookie=$COOKIE_OFF; } || { port=18122; cookie=$COOKIE_ON; }
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://127.0.0.1:$port$PAGE")" = 200 ] \
    || { echo "$PAGE is not a 200 for the pupil ($which)" >&2; exit 1; }
  wrk -t 2 -c "$CONNECTIONS" -d 5s -H "Cookie: $cookie" "http://127.0.0.1:$port$PAGE" >/dev/null  # warm-up
done
rps() { wrk -t 2 -c "$CONNECTIONS" -d "$DURATION" -H "Cookie: $2" "http://127.0.0.1:$1$PAGE" | awk '/Requests\/sec/ {print $2}'; }
echo "| round | off req/s | on req/s | on/off |"
echo "|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
  off=$(rps 18121 "$COOKIE_OFF")
  on=$(rps 18122 "$COOKIE_ON")
  echo "| $round | $off | $on | $(echo "scale=3; $on / $off" | bc) |"
done
curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:18122/metrics -o "$WORK/scrape.txt" \
  -w "one scrape: %{size_download} bytes in %{time_total} s; " 
echo "$(grep -vc '^#' "$WORK/scrape.txt") samples"
