#!/usr/bin/env bash
# Where the time of portraitd's database endpoints goes, under the perf-peer harness's load
# (bench/README.md "Database endpoints"). Not a test; nothing here asserts a timing.
#
#   bench/db-profile.sh [counters|record] [rows...]
#     rows: orders notify-distinct notify-replay (default: all three)
#     counters  per request: MariaDB status counters (round trips, prepares, executes,
#               commits, redo-log fsyncs), portraitd's and mariadbd's syscalls (perf stat on
#               the syscall tracepoints), CPU seconds of portraitd, mariadbd and wrk
#     record    perf record -a -g during the row; prints the CPU split by process and the
#               top symbols of portraitd and mariadbd
#
# It uses the harness of ../shared/perf-peer (PERF_PEER): its MariaDB (db.sh), its seed
# (peer-node/seed.js), its notifications (gen-notify.js), its wrk scripts (lua/) and its
# portraitd adapter (portraitd/start.sh, reset.sh), with the same wrk settings as run.sh.
# Nothing else (no nginx, no Node peer) runs. Every process it starts is stopped by PID.
#
# Settings (environment): PERF_PEER [$root/../shared/perf-peer], PERF_WORK [/tmp/perf-db],
#   DB_PORT [33306], C_PORT [38445], DURATION [15s], WARMUP [3s], THREADS [2], CONNS [64],
#   PORTRAITD_BIN [build/portraitd], PD_WORKERS / PD_THREADS (start.sh's), OUT (report file),
#   PERF_FREQ [499] (record's sampling rate), PERF_DWARF [0] (1: record portraitd alone with
#   DWARF call graphs, for inclusive costs: perf report --children), PD_SQL (experiments only: SQL run as root on
#   portraitd's database once the server is up, e.g. a DROP TRIGGER to measure what it costs)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
mode=${1:-counters}
shift || true
rows=("$@")
[[ ${#rows[@]} -gt 0 ]] || rows=(orders notify-distinct notify-replay)
case $mode in counters | record) ;; *) echo "usage: $0 [counters|record] [rows]" >&2; exit 2 ;; esac

PERF_PEER=${PERF_PEER:-$root/../shared/perf-peer}
[[ -x $PERF_PEER/run.sh ]] || PERF_PEER=/work/shared/perf-peer
if [[ ! -x $PERF_PEER/run.sh ]] || ! command -v node > /dev/null; then
  echo "db-profile: skipped: needs the perf-peer harness (PERF_PEER) and node >= 20" >&2
  exit 0
fi
PERF_PEER=$(cd "$PERF_PEER" && pwd)
export PERF_WORK=${PERF_WORK:-/tmp/perf-db}
export DB_PORT=${DB_PORT:-33306} DB_HOST=127.0.0.1 DB_USER=perf DB_PASS=perf DB_NAME=perf
C_PORT=${C_PORT:-38445}
export C_URL=https://127.0.0.1:$C_PORT PROJECT_DIR=$root
export PORTRAITD_BIN=${PORTRAITD_BIN:-$root/build/portraitd}
DURATION=${DURATION:-15s}; WARMUP=${WARMUP:-3s}; THREADS=${THREADS:-2}; CONNS=${CONNS:-64}
export WRK_THREADS=$THREADS TOKENS_FILE=$PERF_WORK/tokens.txt
export C_HOOK_DIR=$PERF_WORK/c-server
OUT=${OUT:-$PERF_WORK/db-profile-$mode.txt}
mkdir -p "$PERF_WORK/logs" "$C_HOOK_DIR" "$PERF_WORK/tmp"
# MariaDB puts its temporary tables in $TMPDIR: a private one, so that another MariaDB starting
# on this machine (they clean /tmp/#sql* on start) cannot delete them under the seed.
export TMPDIR=$PERF_WORK/tmp
: > "$OUT"
say() { echo "$*" | tee -a "$OUT"; }

if [[ -d $PERF_WORK/node/node_modules ]]; then
  export NODE_PATH=$PERF_WORK/node/node_modules
else
  mkdir -p "$PERF_WORK/node"
  cp "$PERF_PEER/package.json" "$PERF_PEER/package-lock.json" "$PERF_WORK/node/"
  (cd "$PERF_WORK/node" && npm ci --no-audit --no-fund --silent)
  export NODE_PATH=$PERF_WORK/node/node_modules
fi

PD_PID=''
DB_STARTED=0
cleanup() {
  set +e
  if [[ -n $PD_PID ]] && kill -0 "$PD_PID" 2>/dev/null; then
    kill -TERM "$PD_PID"
    for _ in $(seq 1 40); do kill -0 "$PD_PID" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$PD_PID" 2>/dev/null && kill -KILL "$PD_PID"
    wait "$PD_PID" 2>/dev/null
  fi
  [[ $DB_STARTED == 1 ]] && (cd "$PERF_PEER" && ./db.sh stop > /dev/null)
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cd "$PERF_PEER"
./db.sh start > /dev/null; DB_STARTED=1
DB_PID=$(cat "$PERF_WORK/mariadb/mysqld.pid")
[[ -s $TOKENS_FILE && ${SKIP_SEED:-0} == 1 ]] || node peer-node/seed.js
node gen-notify.js keys > /dev/null
export WECHATPAY_PLATFORM_DIR=$PERF_WORK/wechatpay/platform
export WECHATPAY_APIV3_KEY_FILE=$PERF_WORK/wechatpay/apiv3.key
export WECHATPAY_SERIAL; WECHATPAY_SERIAL=$(cat "$PERF_WORK/wechatpay/serial")
mkdir -p "$PERF_WORK/tls"
export TLS_CERT=$PERF_WORK/tls/cert.pem TLS_KEY=$PERF_WORK/tls/key.pem
if [[ ! -f $TLS_CERT ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$TLS_KEY" -out "$TLS_CERT" 2> /dev/null
fi
start_portraitd() { # start.sh seeds pd from perf, then execs portraitd: PD_PID is the server's
  C_PORT=$C_PORT bash portraitd/start.sh > "$PERF_WORK/logs/db-profile-portraitd.out" 2>&1 &
  PD_PID=$!
  for _ in $(seq 1 160); do
    curl -sk --max-time 1 "$C_URL/healthz" | grep -q '"status":"ok"' && return 0
    kill -0 "$PD_PID" 2>/dev/null || break
    sleep 0.25
  done
  return 1
}
for attempt in 1 2 3; do # the seed's temporary tables live in /tmp, which others may clean
  start_portraitd && break
  echo "db-profile: portraitd did not start (attempt $attempt):" >&2
  tail -3 "$PERF_WORK/logs/db-profile-portraitd.out" >&2
  [[ $attempt == 3 ]] && exit 1
done
# start.sh execs portraitd: PD_PID is the server's own PID.
if [[ -n ${PD_SQL:-} ]]; then
  DB_NAME=${PD_DB:-pd} ./db.sh sql <<< "$PD_SQL"
  say "experiment: PD_SQL=$PD_SQL"
fi

say "db-profile $mode: $(date -u +%FT%TZ), $(git -C "$root" rev-parse --short HEAD) $(git -C "$root" status --porcelain | grep -q . && echo '(dirty)'), wrk -t$THREADS -c$CONNS -d$DURATION"
say "load before: $(uptime)"

STATUS_VARS="Questions Com_stmt_prepare Com_stmt_execute Com_stmt_close Com_stmt_reset Com_begin Com_commit Com_rollback Com_select Com_insert Com_update Com_admin_commands Handler_commit Innodb_os_log_fsyncs Innodb_data_fsyncs Innodb_log_writes Bytes_received Bytes_sent Connections"
status() { # -> "name value" lines
  local in; in=$(printf "'%s'," $STATUS_VARS); in=${in%,}
  ./db.sh sql -N -B -e "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ($(tr '[:lower:]' '[:upper:]' <<< "$in"))"
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2> /dev/null || echo 0; }
SYSCALLS="read write readv writev sendto recvfrom sendmsg recvmsg epoll_wait epoll_ctl futex poll ppoll fsync fdatasync pwrite64 pread64 io_submit io_getevents io_uring_enter"
ev_list() { local e='' s; for s in $SYSCALLS; do e+="syscalls:sys_enter_$s,"; done; echo "${e%,}"; }

run_row() { # name url script
  local name=$1 url=$2 script=$3 log s0 s1 t0p t0d t1p t1d res n wrk_ticks=0
  log=$PERF_WORK/logs/db-profile-$name.log
  s0=$(status)
  t0p=$(ticks "$PD_PID"); t0d=$(ticks "$DB_PID")
  local pstat_pd=$PERF_WORK/logs/db-profile-$name.perfstat-pd pstat_db=$PERF_WORK/logs/db-profile-$name.perfstat-db
  local perf_pids=()
  if [[ $mode == counters ]]; then
    perf stat -e "$(ev_list)" -p "$PD_PID" -o "$pstat_pd" -x, &
    perf_pids+=($!)
    perf stat -e "$(ev_list)" -p "$DB_PID" -o "$pstat_db" -x, &
    perf_pids+=($!)
  else
    if [[ ${PERF_DWARF:-0} == 1 ]]; then # portraitd alone, with its callers (no frame pointers)
      perf record -p "$PD_PID" --call-graph dwarf,16384 -F "${PERF_FREQ:-499}" -o "$PERF_WORK/db-profile-$name.perf.data" > /dev/null 2>&1 &
    else
      perf record -a -g -F "${PERF_FREQ:-499}" -o "$PERF_WORK/db-profile-$name.perf.data" > /dev/null 2>&1 &
    fi
    perf_pids+=($!)
  fi
  sleep 0.3
  /usr/bin/time -f '%U %S' -o "$log.time" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$script" "$url" > "$log" 2>&1 || true
  for p in "${perf_pids[@]}"; do kill -INT "$p" 2> /dev/null || true; done
  for p in "${perf_pids[@]}"; do wait "$p" 2> /dev/null || true; done
  sleep 2 # in-flight requests finish before the counters are read
  t1p=$(ticks "$PD_PID"); t1d=$(ticks "$DB_PID")
  s1=$(status)
  res=$(sed -n 's/^RESULT //p' "$log" | tail -1)
  n=$(sed -n 's/.*"requests":\([0-9]*\).*/\1/p' <<< "$res")
  [[ -n $n && $n -gt 0 ]] || { say "$name: no wrk result (see $log)"; return; }
  say ""
  say "== $name: $res"
  local hz; hz=$(getconf CLK_TCK)
  say "$(awk -v p=$((t1p - t0p)) -v d=$((t1d - t0d)) -v hz="$hz" -v n="$n" -v w="$(cat "$log.time")" 'BEGIN{split(w,a," "); ws=a[1]+a[2];
     printf "CPU s: portraitd %.2f, mariadbd %.2f, wrk %.2f; per request (us): portraitd %.0f, mariadbd %.0f, wrk %.0f", p/hz, d/hz, ws, p/hz/n*1e6, d/hz/n*1e6, ws/n*1e6}')"
  say "MariaDB status per request (delta / $n responses):"
  join <(sort <<< "$s0") <(sort <<< "$s1") | awk -v n="$n" '{d=$3-$2; if (d>0) printf "  %-22s %10d  %8.3f\n", $1, d, d/n}' | tee -a "$OUT"
  if [[ $mode == counters ]]; then
    for who in pd db; do
      local f=$PERF_WORK/logs/db-profile-$name.perfstat-$who
      say "syscalls per request, $([[ $who == pd ]] && echo portraitd || echo mariadbd):"
      awk -F, -v n="$n" '$1 ~ /^[0-9]+$/ && $1 > 0 {sub("syscalls:sys_enter_","",$3); printf "  %-14s %10d  %8.3f\n", $3, $1, $1/n}' "$f" | tee -a "$OUT"
    done
  else
    local data=$PERF_WORK/db-profile-$name.perf.data
    say "CPU samples by process (all CPUs):"
    rep() { perf report -i "$data" --no-children --stdio -g none "$@" 2> /dev/null | grep -E '^ +[0-9]' || true; }
    rep --sort comm | head -8 | tee -a "$OUT"
    say "(other processes named portraitd or mariadbd are other work on the machine: the figures"
    say " below are the measured server's PID $PD_PID and its database's PID $DB_PID only)"
    say "portraitd by shared object (share of its samples):"
    rep --pid "$PD_PID" --percentage relative --sort dso | head -12 | tee -a "$OUT"
    say "portraitd top symbols (share of its samples):"
    rep --pid "$PD_PID" --percentage relative --sort dso,symbol | head -40 | tee -a "$OUT"
    say "mariadbd by shared object (share of its samples):"
    rep --pid "$DB_PID" --percentage relative --sort dso | head -8 | tee -a "$OUT"
    say "mariadbd top symbols (share of its samples):"
    rep --pid "$DB_PID" --percentage relative --sort dso,symbol | head -25 | tee -a "$OUT"
  fi
}

for row in "${rows[@]}"; do
  case $row in
  orders)
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s lua/orders.lua "$C_URL/api/v1/orders" > /dev/null 2>&1 || true
    run_row orders "$C_URL/api/v1/orders" lua/orders.lua
    ;;
  notify-distinct)
    bash portraitd/reset.sh > /dev/null
    # the reset's deletions purged first, so that the row's mariadbd CPU is the row's own
    ./db.sh sql -e 'SET GLOBAL innodb_max_purge_lag_wait = 0'
    node gen-notify.js distinct --orders "$C_HOOK_DIR/unpaid.tsv" > /dev/null
    NOTIFY_MODE=distinct NOTIFY_FILE=$PERF_WORK/notify-distinct.txt run_row notify-distinct "$C_URL/api/v1/pay/notify" lua/notify.lua
    say "  SQL check: $(bash portraitd/check.sh 0)"
    ;;
  notify-replay)
    if [[ ! -s $PERF_WORK/notify-distinct.txt ]] || [[ $(bash portraitd/check.sh 0) == *" applied=0 "* ]]; then
      bash portraitd/reset.sh > /dev/null
      node gen-notify.js distinct --orders "$C_HOOK_DIR/unpaid.tsv" --count 200 > /dev/null
      NOTIFY_MODE=distinct NOTIFY_FILE=$PERF_WORK/notify-distinct.txt wrk -t1 -c1 -d5s -s lua/notify.lua "$C_URL/api/v1/pay/notify" > /dev/null 2>&1 || true
    fi
    node gen-notify.js replay > /dev/null
    NOTIFY_MODE=replay NOTIFY_FILE=$PERF_WORK/notify-replay.txt run_row notify-replay "$C_URL/api/v1/pay/notify" lua/notify.lua
    ;;
  *) echo "db-profile: unknown row $row" >&2; exit 2 ;;
  esac
done
say ""
say "load after: $(uptime)"
