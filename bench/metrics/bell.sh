#!/usr/bin/env bash
# What the metrics cost at the bell (issue 15): `python -m bench.classroom --scenario bell` run in
# rounds alternating metrics off (no METRICS_TOKEN: the request middleware takes itself out) and on
# (METRICS_TOKEN set: every request timed and labelled), so background load hits both alike. Prints
# the server's CPU per pupil of each run and the on/off ratio per round.
# Usage: bench/metrics/bell.sh ; env ROUNDS (3), CLASSES (5), ANSWER_SECONDS (30).
# Each bench run starts its own server on 127.0.0.1 and stops it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
ROUNDS="${ROUNDS:-3}"
CLASSES="${CLASSES:-5}"
ANSWER_SECONDS="${ANSWER_SECONDS:-30}"
WORK="$(mktemp -d /tmp/classnote-metrics-bench.XXXXXX)"
cd "$ROOT"

run() {  # off|on ROUND: one bell; prints "cpu_s students errors"
  local token=""
  [ "$1" = on ] && token="bench-metrics-token-$RANDOM$RANDOM"
  METRICS_TOKEN="$token" .venv/bin/python -m bench.classroom --scenario bell --classes "$CLASSES" \
    --answer-seconds "$ANSWER_SECONDS" --compare-seconds 0 --work "$WORK/$1-$2" --out "$WORK/$1-$2.json" \
    >"$WORK/$1-$2.log" 2>&1
  .venv/bin/python -c "
import json, sys
run = json.load(open(sys.argv[1]))['runs'][0]
print(run['server']['cpu_s'], run['students'], run['errors'])
" "$WORK/$1-$2.json"
}

echo "| round | off: CPU s (pupils, errors) | off ms/pupil | on: CPU s (pupils, errors) | on ms/pupil | on/off |"
echo "|---|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
  read -r off_cpu off_n off_err < <(run off "$round")
  read -r on_cpu on_n on_err < <(run on "$round")
  off_pp=$(echo "scale=1; 1000 * $off_cpu / $off_n" | bc)
  on_pp=$(echo "scale=1; 1000 * $on_cpu / $on_n" | bc)
  echo "| $round | $off_cpu ($off_n, $off_err) | $off_pp | $on_cpu ($on_n, $on_err) | $on_pp | $(echo "scale=3; $on_pp / $off_pp" | bc) |"
done
echo "results and logs: $WORK"
