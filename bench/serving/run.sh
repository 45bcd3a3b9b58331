#!/usr/bin/env bash
# Serving-architecture benchmark: creates the venv if missing, then runs run.py.
# Usage: bench/serving/run.sh [--only A- C-gr-1 ...] [--rounds 3] [--duration 10]
# Targets 127.0.0.1 only; every server it starts is stopped by run.py.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="${BENCH_VENV:-/tmp/benchvenv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3.11 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import django, uvicorn, granian, a2wsgi, httpx, uvloop, httptools' 2>/dev/null; then
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
fi
if ! command -v wrk >/dev/null; then
  echo "wrk not found: apt-get install -y wrk" >&2
  exit 2
fi
exec "$VENV/bin/python" "$HERE/run.py" "$@"
