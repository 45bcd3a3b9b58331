#!/usr/bin/env bash
# What furigana cost over HTTP (issue 14): one `classnote serve` (embedded default, demo data), the
# first demo pupil's lesson page loaded with wrk, rounds alternating furigana off and on (the school's
# setting and the class's grade switched between rounds with `classnote shell`), so background load
# hits both alike. Prints req/s per round and the on/off ratio.
# Usage: bench/furigana/wrk.sh ; env ROUNDS (3), DURATION (10s), CONNECTIONS (16).
# Targets 127.0.0.1 only; the server it starts is stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-16}"
PORT=18111
WORK="$(mktemp -d /tmp/classnote-furigana-bench.XXXXXX)"
PID=""
cleanup() { [ -n "$PID" ] && kill -- "-$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }
command -v bc >/dev/null || { echo "bc not found: apt-get install -y bc" >&2; exit 2; }
cd "$ROOT"
export CLASSNOTE_HOME="$WORK" CLASSNOTE_ENV=development LOG_LEVEL=warning WRITE_RATE_PER_MINUTE=0
setsid .venv/bin/python -m classnote serve --demo --port "$PORT" >"$WORK/server.log" 2>&1 </dev/null &
PID=$!
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
IFS=$'\t' read -r COOKIE LESSON < <(.venv/bin/python bench/deadlines/login.py "$PORT" "$WORK")
URL="http://127.0.0.1:$PORT$LESSON"

furigana() {  # on|off: the pupils' classes are grade 1; the schools show readings up to grade 2, or none
  local upto=0; [ "$1" = on ] && upto=2
  # Every class of the bench's own demo database is grade 1; every school shows readings up to $upto.
  .venv/bin/classnote shell -c "
from classnote.tenancy.models import School, SchoolClass
SchoolClass.objects.update(grade=1)
School.objects.update(furigana_up_to_grade=$upto)
" >/dev/null
  local rubies; rubies=$(curl -fs -H "Cookie: $COOKIE" -H "Accept-Language: ja" "$URL" | { grep -o "<ruby>" || true; } | wc -l)
  if [ "$1" = on ] && [ "$rubies" -eq 0 ]; then echo "furigana on, but the page has no <ruby>" >&2; exit 1; fi
  if [ "$1" = off ] && [ "$rubies" -ne 0 ]; then echo "furigana off, but the page has <ruby>" >&2; exit 1; fi
  echo "$rubies"
}
rps() { wrk -t 2 -c "$CONNECTIONS" -d "$DURATION" -H "Cookie: $COOKIE" -H "Accept-Language: ja" "$URL" | awk '/Requests\/sec/ {print $2}'; }
furigana off >/dev/null
wrk -t 2 -c "$CONNECTIONS" -d 5s -H "Cookie: $COOKIE" "$URL" >/dev/null  # warm-up, not recorded
echo "| round | off req/s | on req/s (<ruby> on the page) | on/off |"
echo "|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
  furigana off >/dev/null; off=$(rps)
  n=$(furigana on); on=$(rps)
  echo "| $round | $off | $on ($n) | $(echo "scale=3; $on / $off" | bc) |"
done
