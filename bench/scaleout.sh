#!/usr/bin/env bash
# The scale-out topology of deploy/ on one machine, every service on 127.0.0.1, then a benchmark
# through the proxy; everything started here is stopped here (trap, and a global time limit).
#
#   PostgreSQL  127.0.0.1:5432 (local server, trust auth, user postgres): a fresh database, dropped at the end
#   Redis       127.0.0.1:6379, DB 13 (flushed at start and end), cache keys prefixed per run
#   S3          SeaweedFS (`weed` of the dev dependencies, as tests/files/test_s3.py), a fresh bucket
#   app         N x `classnote serve --no-migrate` on free ports (CLASSNOTE_ENV=production, TRUSTED_PROXY_COUNT=1)
#   jobs        1 x `classnote worker`
#   proxy       nginx with deploy/nginx/classnote.conf rendered into a temp dir: self-signed certificate,
#               TLS + HTTP/2 on a high port, least_conn over the first W app processes
#
# Checked through the proxy first: a pupil's login (HSTS present), HTTP/2, the plain-HTTP redirect.
# For each W in --workers (default "1 2") the proxy is reloaded with W upstream processes, a card
# sent by a teacher must reach a pupil's event stream through it, and the benchmark runs against
# https://127.0.0.1:PORT:
#   * bench.classroom's bell (python -m bench.classroom --scenario bell --base-url ... --setup-env
#     <the app environment>, so its data go into this database; arguments after `--` are passed
#     to it, e.g. `-- --classes 5 --ramp 30`), unless --no-classroom, and always
#   * wrk on an authenticated pupil page (/home/ with a session made through the proxy) and on
#     /healthz, reporting requests/s, latency and the app processes' CPU per request.
# bench.classroom samples the CPU and memory of all W app processes of the run (--server-pid a,b).
#
# --kill (failover): in each run with W >= 2, app process 1 is SIGKILLed in the middle of the bell
# (bench.classroom --kill-pid PID --kill-after S; S defaults to the ramp + half the answer time,
# when about half of the class has submitted) and the run is verified (--verify: acknowledged
# submissions lost, students who missed an event; the students' streams reconnect through nginx
# with Last-Event-ID, their requests are retried on a connection error or a 5xx). The killed
# process is then started again (as systemd's Restart= would), before the stream check and wrk.
#
# --probe (issue 12, findings 2-4 across processes): in each run, after the stream check,
# bench/probe/streams.py probes the event streams through the proxy: 20 streams of one session
# (cap per session), a burst of 300 opens, a replay after sharing stopped or turned anonymous, log out
# everywhere with streams in two sessions on both processes (time to each stream's end), 11 sessions
# of one pupil (cap per user), 20 streams multiplexed on one HTTP/2 connection. Its lines go to the
# log and results.md; a failed probe fails the run (after wrk). For the probe, the proxy adds
# X-Classnote-Upstream (the app process) to /events/ answers.
#
# Usage: bench/scaleout.sh [--workers "1 2"] [--duration 20] [--connections 64] [--max-minutes 20]
#                          [--no-classroom] [--kill] [--kill-after S] [--probe] [--keep] [-- bench.classroom arguments]
# Needs: nginx (apt-get install nginx-light), wrk, psql, redis-cli, the project venv (uv sync).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
CLASSNOTE="$ROOT/.venv/bin/classnote"
WEED="$ROOT/.venv/bin/weed"
WORKER_COUNTS="1 2"
DURATION=20
CONNECTIONS=64
MAX_MINUTES=20
RUN_CLASSROOM=1
KEEP=0
KILL=0
KILL_AFTER=""
PROBE=0
PROBE_FAILED=""
CLASSROOM_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --workers) WORKER_COUNTS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --max-minutes) MAX_MINUTES="$2"; shift 2 ;;
    --no-classroom) RUN_CLASSROOM=0; shift ;;
    --kill) KILL=1; shift ;;
    --kill-after) KILL=1; KILL_AFTER="$2"; shift 2 ;;
    --probe) PROBE=1; shift ;;
    --keep) KEEP=1; shift ;;
    --) shift; CLASSROOM_ARGS=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for tool in nginx wrk psql redis-cli openssl; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
[[ -x "$PY" && -x "$WEED" ]] || { echo "missing: $PY or $WEED (uv sync)" >&2; exit 2; }

MAX_WORKERS=0
for w in $WORKER_COUNTS; do ((w > MAX_WORKERS)) && MAX_WORKERS=$w; done
if [[ $KILL == 1 ]]; then
  ((MAX_WORKERS >= 2)) || { echo "--kill needs a run with 2 or more app processes (--workers)" >&2; exit 2; }
  if [[ $RUN_CLASSROOM == 0 ]]; then echo "--kill needs the bell (not --no-classroom)" >&2; exit 2; fi
  if [[ -z "$KILL_AFTER" ]]; then
    # the middle of the answers: the ramp + half of --answer-seconds (bench.classroom's defaults 30, 30)
    ramp=30 answer=30 prev=""
    for arg in "${CLASSROOM_ARGS[@]}"; do
      case "$prev" in --ramp) ramp=$arg ;; --answer-seconds) answer=$arg ;; esac
      prev=$arg
    done
    KILL_AFTER=$(awk -v r="$ramp" -v a="$answer" 'BEGIN { printf "%g", r + a / 2 }')
  fi
fi
RUN="$(mktemp -d /tmp/classnote-scaleout.XXXXXX)"
DB="classnote_scaleout_$(date +%s)_$$"
REDIS_DB=13
PIDS=()
WATCHDOG=""
log() { printf '[scaleout %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# --- cleanup: every process group started here, the database, the Redis DB -----------------
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  log "stopping"
  local pid
  # (a process group already gone, e.g. the app process SIGKILLed by --kill, is skipped, not an error)
  for pid in "${PIDS[@]}"; do if kill -0 -- "-$pid" 2>/dev/null; then kill -TERM -- "-$pid" 2>/dev/null || true; fi; done
  sleep 2
  for pid in "${PIDS[@]}"; do if kill -0 -- "-$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || true; fi; done
  [[ -n "$WATCHDOG" ]] && kill "$WATCHDOG" 2>/dev/null || true
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 -n "$REDIS_DB" flushdb >/dev/null 2>&1 || true
  if [[ $KEEP == 1 ]]; then log "logs and results kept in $RUN"; else
    cp "$RUN/results.md" "/tmp/classnote-scaleout-results.md" 2>/dev/null || true
    for json in "$RUN"/classroom-*.json; do  # bench.classroom's full results, one per W
      [[ -f "$json" ]] && cp "$json" "/tmp/classnote-scaleout-${json##*/}"
    done
    rm -rf "$RUN"
    log "results: /tmp/classnote-scaleout-results.md (bench.classroom JSON: /tmp/classnote-scaleout-classroom-W.json)"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
( sleep "$((MAX_MINUTES * 60))"; log "time limit of $MAX_MINUTES min reached"; kill -TERM $$ ) &
WATCHDOG=$!

# start NAME CMD...: in its own session (process group), output to $RUN/NAME.log
start() {
  local name="$1"; shift
  setsid "$@" >"$RUN/$name.log" 2>&1 &
  LAST_PID=$!
  disown "$LAST_PID" 2>/dev/null || true  # stopped by cleanup(), not reported by bash
  PIDS+=("$LAST_PID")
}
free_ports() {
  "$PY" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}
wait_port() {  # wait_port PORT SECONDS NAME
  local deadline=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    ((SECONDS < deadline)) || { log "$3 did not open port $1"; tail -30 "$RUN/$3.log" >&2 || true; exit 1; }
    sleep 0.3
  done
}

read -r -a PORTS <<<"$(free_ports $((MAX_WORKERS + 10)))"
PROXY_PORT=${PORTS[0]}; REDIRECT_PORT=${PORTS[1]}
S3_PORT=${PORTS[2]}; S3_GRPC=${PORTS[3]}; MASTER=${PORTS[4]}; MASTER_GRPC=${PORTS[5]}
VOLUME=${PORTS[6]}; VOLUME_GRPC=${PORTS[7]}; FILER=${PORTS[8]}; FILER_GRPC=${PORTS[9]}
APP_PORTS=("${PORTS[@]:10:$MAX_WORKERS}")
log "run directory $RUN; proxy https://127.0.0.1:$PROXY_PORT; app ports ${APP_PORTS[*]}"

# --- PostgreSQL and Redis ----------------------------------------------------------------------
psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE \"$DB\"" >/dev/null
redis-cli -h 127.0.0.1 -n "$REDIS_DB" flushdb >/dev/null

# --- SeaweedFS (S3) ------------------------------------------------------------------------------
mkdir -p "$RUN/weed"
S3_KEY=scaleout-key
S3_SECRET="scaleout-secret-$(openssl rand -hex 16)"
printf '%s\n' "$S3_SECRET" >"$RUN/s3_secret"; chmod 600 "$RUN/s3_secret"
cat >"$RUN/weed/s3.json" <<EOF
{"identities": [{"name": "classnote", "credentials": [{"accessKey": "$S3_KEY", "secretKey": "$S3_SECRET"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
EOF
start weed "$WEED" server -ip=127.0.0.1 -ip.bind=127.0.0.1 "-dir=$RUN/weed" \
  "-master.port=$MASTER" "-master.port.grpc=$MASTER_GRPC" -master.volumeSizeLimitMB=64 \
  "-volume.port=$VOLUME" "-volume.port.grpc=$VOLUME_GRPC" -volume.max=4 \
  "-filer.port=$FILER" "-filer.port.grpc=$FILER_GRPC" \
  -s3 "-s3.port=$S3_PORT" "-s3.port.grpc=$S3_GRPC" "-s3.config=$RUN/weed/s3.json" \
  -s3.port.iceberg=0 -s3.port.lance=0 -metricsPort=0
wait_port "$S3_PORT" 60 weed
"$PY" - "$S3_PORT" "$S3_KEY" "$S3_SECRET" <<'EOF'
import sys, time
import boto3
from botocore.config import Config
port, key, secret = sys.argv[1:]
client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=key,
                      aws_secret_access_key=secret, region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
for attempt in range(150):
    try:
        client.create_bucket(Bucket="classnote-scaleout")
        break
    except Exception:  # the filer may not be ready yet
        time.sleep(0.2)
else:
    sys.exit("SeaweedFS: could not create the bucket")
EOF

# --- classnote environment: production settings, local backends without TLS -----------------------
APP_ENV=(
  CLASSNOTE_ENV=production
  "SECRET_KEY=$(openssl rand -hex 40)"
  ALLOWED_HOSTS=127.0.0.1,localhost
  TRUSTED_PROXY_COUNT=1
  LOG_LEVEL=warning
  "DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB"
  DATABASE_REQUIRE_TLS=false
  "REDIS_URL=redis://127.0.0.1:6379/$REDIS_DB"
  REDIS_REQUIRE_TLS=false
  "CACHE_KEY_PREFIX=scaleout-$$"
  S3_BUCKET=classnote-scaleout
  "S3_ENDPOINT_URL=http://127.0.0.1:$S3_PORT"
  S3_REGION=us-east-1
  "S3_ACCESS_KEY_ID=$S3_KEY"
  "S3_SECRET_ACCESS_KEY_FILE=$RUN/s3_secret"
  "OPERATOR_NAME=classnote scale-out benchmark"
  "PRIVACY_CONTACT=nobody (benchmark)"
  "DATA_LOCATION=this machine"
)
# nginx passes Host without the port (as on 443); the origin with the port is trusted explicitly
APP_ENV+=("CSRF_TRUSTED_ORIGINS=https://127.0.0.1:$PROXY_PORT")
app() {  # app HOME CMD...: run with the app environment and its own CLASSNOTE_HOME
  local home="$1"; shift
  mkdir -p "$home"
  env -u DJANGO_SETTINGS_MODULE "${APP_ENV[@]}" "CLASSNOTE_HOME=$home" "$@"
}

log "migrating and creating the demo data"
( cd "$ROOT" && app "$RUN/home-setup" "$CLASSNOTE" migrate --verbosity 0 >"$RUN/setup.log" 2>&1 \
  && app "$RUN/home-setup" "$CLASSNOTE" demo >>"$RUN/setup.log" 2>&1 ) \
  || { tail -30 "$RUN/setup.log" >&2; exit 1; }

start_app() {  # start_app PORT: one app process in its own process group; its pid in LAST_PID
  start "app-$1" env -C "$ROOT" env -u DJANGO_SETTINGS_MODULE "${APP_ENV[@]}" "CLASSNOTE_HOME=$RUN/home-$1" \
    "$CLASSNOTE" serve --host 127.0.0.1 --port "$1" --no-migrate
}
for port in "${APP_PORTS[@]}"; do start_app "$port"; done
start worker env -C "$ROOT" env -u DJANGO_SETTINGS_MODULE "${APP_ENV[@]}" "CLASSNOTE_HOME=$RUN/home-worker" \
  "$CLASSNOTE" worker --workers 2
for port in "${APP_PORTS[@]}"; do wait_port "$port" 120 "app-$port"; done

# --- nginx: deploy/nginx/classnote.conf with this run's ports, certificate and W workers ----------
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$RUN/tls.key" -out "$RUN/tls.crt" >/dev/null 2>&1
chmod 600 "$RUN/tls.key"
mkdir -p "$RUN/nginx"
render_nginx() {  # render_nginx W
  local servers="" i
  for ((i = 0; i < $1; i++)); do servers+="    server 127.0.0.1:${APP_PORTS[$i]} max_fails=1 fail_timeout=5s;\n"; done
  awk -v servers="$servers" '/# workers-begin/ { printf "%s", servers; skip = 1 } /# workers-end/ { skip = 0; next } !skip' \
    "$ROOT/deploy/nginx/classnote.conf" |
  sed -e "s/listen 443 ssl http2;/listen 127.0.0.1:$PROXY_PORT ssl http2;/" \
    -e "s/listen 80;/listen 127.0.0.1:$REDIRECT_PORT;/" \
    -e "/listen \[::\]/d" \
    -e "s/server_name classnote.example.org;/server_name 127.0.0.1 localhost;/" \
    -e "s|/etc/classnote/tls/fullchain.pem|$RUN/tls.crt|" \
    -e "s|/etc/classnote/tls/privkey.pem|$RUN/tls.key|" \
    -e "/location \/events\/ {/a\\        add_header X-Classnote-Upstream \$upstream_addr always;  # bench only: which process (--probe)" \
    >"$RUN/nginx/classnote.conf"
  local user_line="" nofile
  nofile=$(ulimit -Hn); [[ $nofile == unlimited ]] && nofile=65536
  [[ $(id -u) == 0 ]] && user_line="user $(id -un) $(id -gn);"
  cat >"$RUN/nginx/nginx.conf" <<EOF
$user_line
worker_processes 1;
pid $RUN/nginx/nginx.pid;
error_log $RUN/nginx/error.log warn;
events { worker_connections $((nofile / 2)); }
worker_rlimit_nofile $nofile;
http {
    access_log off;
    client_body_temp_path $RUN/nginx/body;
    proxy_temp_path $RUN/nginx/proxy;
    fastcgi_temp_path $RUN/nginx/fastcgi;
    uwsgi_temp_path $RUN/nginx/uwsgi;
    scgi_temp_path $RUN/nginx/scgi;
    include $RUN/nginx/classnote.conf;
}
EOF
}
render_nginx "${WORKER_COUNTS%% *}"
nginx -t -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" -e "$RUN/nginx/error.log" >"$RUN/nginx-test.log" 2>&1 \
  || { cat "$RUN/nginx-test.log" >&2; exit 1; }
start nginx nginx -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" -e "$RUN/nginx/error.log" -g "daemon off;"
NGINX_PID=$LAST_PID
wait_port "$PROXY_PORT" 20 nginx
BASE="https://127.0.0.1:$PROXY_PORT"

# --- a pupil's session, made through the proxy ------------------------------------------------------
COOKIE=$("$PY" - "$BASE" "$RUN/home-setup/demo-logins.txt" <<'EOF'
import re, sys
import httpx
base, logins = sys.argv[1], sys.argv[2]
rows = [line.rstrip("\n").split("\t") for line in open(logins, encoding="utf-8") if line.strip()]
where, role, login, password = next(r for r in rows if r[1] == "student")
code, number = login.split(" / ")
with httpx.Client(base_url=base, verify=False, http2=False, timeout=30) as c:
    page = c.get("/login/student/")
    assert page.status_code == 200, page.status_code
    assert "strict-transport-security" in page.headers, "HSTS missing through the proxy"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    r = c.post("/login/student/", data={"csrfmiddlewaretoken": token, "school_code": code,
               "student_number": number, "password": password}, headers={"Referer": base + "/login/student/"})
    assert r.status_code == 302, (r.status_code, r.text[:300])
    home = c.get("/home/")
    assert home.status_code == 200, home.status_code
    print("; ".join(f"{k}={v}" for k, v in c.cookies.items()))
EOF
)
# HTTP/2 and the redirect of plain HTTP
curl -sk --http2 -o /dev/null -w '%{http_version}' "$BASE/healthz" | grep -q '^2' || { log "proxy does not speak HTTP/2"; exit 1; }
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REDIRECT_PORT/healthz") == 308 ]] || { log "no redirect on plain HTTP"; exit 1; }
log "topology up: pupil session made through the proxy; HTTP/2 and the plain-HTTP redirect answer"

# --- benchmark ----------------------------------------------------------------------------------
APP_GROUPS=("${PIDS[@]:1:$MAX_WORKERS}")  # after weed: the app processes
app_group_ticks() {  # app_group_ticks [PGID...]: CPU ticks (user+system) of these process groups
  local total=0 pid p stat groups=("$@")
  [[ $# == 0 ]] && groups=("${APP_GROUPS[@]}")
  for pid in "${groups[@]}"; do
    for p in $(pgrep -g "$pid" 2>/dev/null); do
      stat=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
      total=$((total + ${stat% *} + ${stat#* }))
    done
  done
  echo $total
}
HZ=$(getconf CLK_TCK)
{
  echo "# classnote scale-out benchmark"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) vCPU, $(uname -r); nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), wrk -c $CONNECTIONS -t 2 -d ${DURATION}s through TLS"
  echo
  echo "| app processes | path | req/s | p50 | p99 | errors (non-2xx, socket) | app CPU µs/req | nginx CPU µs/req | load before |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$RUN/results.md"

run_wrk() {  # run_wrk W NAME PATH [cookie]
  local w="$1" name="$2" path="$3" header=() load before after pbefore pafter pcpu out rps p50 p99 non2xx sockerr cpu
  [[ -n "${4:-}" ]] && header=(-H "Cookie: $4")
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  wrk -c 8 -t 2 -d 2s "${header[@]}" "$BASE$path" >/dev/null 2>&1 || true   # warm-up
  before=$(app_group_ticks); pbefore=$(app_group_ticks "$NGINX_PID")
  out=$(wrk -c "$CONNECTIONS" -t 2 -d "${DURATION}s" --latency "${header[@]}" "$BASE$path" 2>&1)
  after=$(app_group_ticks); pafter=$(app_group_ticks "$NGINX_PID")
  echo "$out" >"$RUN/wrk-$w-$name.txt"
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  sockerr=$(awk -F'[ ,]+' '/Socket errors/ {print $4+$6+$8+$10}' <<<"$out"); sockerr=${sockerr:-0}
  local total
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  cpu=$(awk -v t=$((after - before)) -v hz="$HZ" -v n="${total:-0}" 'BEGIN { if (n > 0) printf "%.0f", t / hz * 1e6 / n; else print "-" }')
  pcpu=$(awk -v t=$((pafter - pbefore)) -v hz="$HZ" -v n="${total:-0}" 'BEGIN { if (n > 0) printf "%.0f", t / hz * 1e6 / n; else print "-" }')
  echo "| $w | $path | $rps | $p50 | $p99 | $non2xx, $sockerr | $cpu | $pcpu | $load |" >>"$RUN/results.md"
  log "W=$w $path: $rps req/s, p50 $p50, p99 $p99, errors $non2xx/$sockerr, $cpu µs CPU/req"
}

for w in $WORKER_COUNTS; do
  render_nginx "$w"
  kill -HUP "$NGINX_PID"   # reload: new upstream list
  sleep 1
  log "proxy now balances over $w app process(es)"
  if [[ $RUN_CLASSROOM == 1 ]] && ! (cd "$ROOT" && "$PY" -m bench.classroom --help 2>/dev/null | grep -q -- --base-url); then
    log "bench.classroom has no --base-url (yet): bell not run, wrk only"
  elif [[ $RUN_CLASSROOM == 1 ]]; then
    pids=$(IFS=,; echo "${APP_GROUPS[*]:0:$w}")
    kill_args=() victim=""
    if [[ $KILL == 1 ]] && ((w >= 2)); then
      victim=${APP_GROUPS[0]}
      kill_args=(--kill-pid "$victim" --kill-after "$KILL_AFTER" --verify)
      log "running bench.classroom bell with $w app processes; SIGKILL to app process 1 (pid $victim) at $KILL_AFTER s"
    else
      log "running bench.classroom bell with $w app process(es)"
    fi
    # Its data setup gets the app environment (so it writes into this topology's database and
    # --verify reads it); it samples the W app processes of this run; it trusts the run's certificate.
    ( cd "$ROOT" && SSL_CERT_FILE="$RUN/tls.crt" "$PY" -m bench.classroom --scenario bell \
        --base-url "$BASE" --server-pid "$pids" --work "$RUN/classroom-$w" --out "$RUN/classroom-$w.json" \
        "${kill_args[@]}" "${CLASSROOM_ARGS[@]}" --setup-env "${APP_ENV[@]}" ) \
      >"$RUN/classroom-$w.txt" 2>&1 || log "bench.classroom exited with $? (see classroom-$w.txt)"
    { echo; echo "## bench.classroom bell, $w app process(es)"; echo; echo '```'; tail -60 "$RUN/classroom-$w.txt"; echo '```'; } >>"$RUN/results.tail"
    if [[ -n "$victim" ]]; then
      failover=$("$PY" - "$RUN/classroom-$w.json" <<'EOF'
import json, sys
try:
    runs = json.load(open(sys.argv[1], encoding="utf-8"))["runs"]
except (OSError, ValueError, KeyError) as error:
    sys.exit(f"no result ({error})")
for run in runs:
    killed, verify = run.get("killed") or {}, run.get("verify") or {}
    print(f"{killed.get('result', 'no kill')} at {killed.get('at_s')} s; acknowledged submissions lost: "
          f"{verify.get('acknowledged_lost', '?')} (of {verify.get('acknowledged', '?')}); students who missed "
          f"an event: {run.get('students_missed_event', '?')}; request errors {run.get('errors')}, "
          f"stream reconnects {run.get('reconnects')}")
EOF
      ) || failover="no result file ($RUN/classroom-$w.json)"
      log "W=$w failover: $failover"
      printf '\nFailover (W=%s, SIGKILL to app process 1 at %s s): %s\n' "$w" "$KILL_AFTER" "$failover" >>"$RUN/results.tail"
      # The killed process comes back (systemd's Restart=), so the check and wrk below see W processes.
      if kill -0 "$victim" 2>/dev/null; then log "app process 1 (pid $victim) is still alive"; else
        start_app "${APP_PORTS[0]}"
        APP_GROUPS[0]=$LAST_PID
        wait_port "${APP_PORTS[0]}" 120 "app-${APP_PORTS[0]}"
        log "app process 1 started again (pid $LAST_PID)"
      fi
    fi
  fi
  # A card sent by a teacher reaches a pupil's event stream through the proxy (unbuffered, and
  # across processes via Redis when the two land on different ones).
  ( cd "$ROOT" && SSL_CERT_FILE="$RUN/tls.crt" "$PY" - "$BASE" "$RUN/home-setup/demo-logins.txt" <<'EOF'
import sys, time
from tests.live.server import Browser, Stream, first

base, logins = sys.argv[1], sys.argv[2]
rows = [line.rstrip("\n").split("\t") for line in open(logins, encoding="utf-8") if line.strip()]
def login_of(role):
    return next((r[2], r[3]) for r in rows if r[1] == role and r[0] == "港小学校")
def browser():
    b = Browser(base)
    b.client.headers["Referer"] = base + "/"
    return b
teacher, student = browser(), browser()
teacher.login_staff(*login_of("teacher"))
student.login_student(*login_of("student"))
class_id = int(first(r'href="/classes/(\d+)/"', teacher.get("/home/").text))
teacher.get(f"/classes/{class_id}/")
made = teacher.post(f"/classes/{class_id}/lessons/", {"title": "Scale-out check"})
lesson_id = int(first(r"/lessons/(\d+)/", made.headers["location"]))
teacher.get(f"/lessons/{lesson_id}/")
since = first(r'data-since="(\d+)"', student.get(f"/lessons/{lesson_id}/").text)
stream = Stream(student, f"/events/lesson/{lesson_id}/?since={since}").open()
card = teacher.post("/cards/", {"kind": "text", "title": "Bell", "lesson": str(lesson_id)})
card_id = int(first(r"/cards/(\d+)/", card.headers["location"]))
teacher.get(f"/lessons/{lesson_id}/")
sent_at = time.monotonic()
assert teacher.post(f"/lessons/{lesson_id}/send/", {"cards": str(card_id), "to": "class"}).status_code == 302
stream.wait_for("cards.received", timeout=10)
print(f"card reached the pupil's stream through the proxy in {(time.monotonic() - sent_at) * 1000:.0f} ms")
stream.close()
EOF
  ) >"$RUN/stream-check-$w.txt" 2>&1 && log "W=$w: $(tail -1 "$RUN/stream-check-$w.txt")" \
    || { log "W=$w: event stream check FAILED"; tail -20 "$RUN/stream-check-$w.txt" >&2; exit 1; }
  if [[ $PROBE == 1 ]]; then
    log "W=$w: probing the event streams (bench/probe/streams.py)"
    probe_status=0
    ( cd "$ROOT" && SSL_CERT_FILE="$RUN/tls.crt" "$PY" bench/probe/streams.py "$BASE" "$RUN/home-setup/demo-logins.txt" ) \
      >"$RUN/probe-$w.txt" 2>&1 || probe_status=$?
    while IFS= read -r line; do log "W=$w probe $line"; done < <(grep -E '^\[|^stream probe' "$RUN/probe-$w.txt")
    { echo; echo "## Stream probe (bench/probe/streams.py), $w app process(es)"; echo; echo '```'
      tail -40 "$RUN/probe-$w.txt"; echo '```'; } >>"$RUN/results.tail"
    if ((probe_status != 0)); then
      PROBE_FAILED+=" W=$w"
      tail -20 "$RUN/probe-$w.txt" >&2
    fi
  fi
  run_wrk "$w" home /home/ "$COOKIE"
  run_wrk "$w" healthz /healthz
done
[[ -f "$RUN/results.tail" ]] && cat "$RUN/results.tail" >>"$RUN/results.md"
cat "$RUN/results.md"
[[ -z "$PROBE_FAILED" ]] || { log "stream probe FAILED in:$PROBE_FAILED"; exit 1; }
