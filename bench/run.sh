#!/usr/bin/env bash
# Throughput/latency comparison of portraitd's GET /healthz with nginx's `return 200` over
# TLS keep-alive, measured with wrk on loopback. See bench/README.md.
# Usage: bench/run.sh [BUILD_DIR]        (default: build; `make bench` calls `bench/run.sh build`)
# Environment: BENCH_SECONDS (15), BENCH_THREADS (2), BENCH_CONNECTIONS (64), BENCH_WARMUP_SECONDS (3).
# Output: a table on stdout; raw wrk output, server logs and summary.txt in bench/results/<time>/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
bin="$build/portraitd"

secs=${BENCH_SECONDS:-15}
wthreads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-64}
warm=${BENCH_WARMUP_SECONDS:-3}
threads=2 # portraitd event-loop threads == nginx worker_processes
for v in "$secs" "$wthreads" "$conns" "$warm"; do
  [[ "$v" =~ ^[1-9][0-9]{0,4}$ ]] || { echo "run.sh: bad numeric setting '$v'" >&2; exit 2; }
done

scripts/deps.sh bench
for t in wrk nginx curl openssl; do
  command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] ||
    { echo "run.sh: '$t' not found" >&2; exit 1; }
done
nginx_bin=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
[ -x "$bin" ] || { echo "run.sh: $bin not found; build first (make build)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/portraitd-bench.XXXXXX")
pd_pid=""
ng_pid=""
stop() { # stop PID [name]: SIGTERM, then SIGKILL after 5 s
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  stop "$pd_pid"
  stop "$ng_pid"
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$here/results/$stamp"
mkdir -p "$out"

scripts/gen-tls.sh "$tmp/tls" >/dev/null
ca="$tmp/tls/dev-ca.pem"
cert="$tmp/tls/server.pem"
key="$tmp/tls/server.key"

port_in_use() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  echo "run.sh: no free port found" >&2
  return 1
}
wait_port() { # wait_port PORT PID NAME LOG: until something listens on PORT (10 s)
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$2" 2>/dev/null || { echo "run.sh: $3 exited at startup; log:" >&2; cat "$4" >&2; return 1; }
    port_in_use "$1" && return 0
    sleep 0.1
  done
  echo "run.sh: $3 did not listen on port $1 within 10 s" >&2
  return 1
}

# ---- portraitd: port 0 picks a free port, written to port_file once listening ----
cat > "$tmp/portraitd.ini" <<EOF
[server]
listen = 127.0.0.1:0
port_file = $tmp/portraitd.port
threads = $threads
workers = 2
tls_cert = $cert
tls_key = $key
shutdown_grace_ms = 1000
[db]
socket = $tmp/no-such-mysqld.sock
connect_timeout_s = 1
[crypto]
data_key = $(openssl rand -hex 32)
[log]
; warn: no per-request log line, so logging does not dominate the measurement
level = warn
EOF
"$bin" -c "$tmp/portraitd.ini" serve >"$tmp/portraitd.log" 2>&1 &
pd_pid=$!
for ((i = 0; i < 100; i++)); do
  [ -s "$tmp/portraitd.port" ] && break
  kill -0 "$pd_pid" 2>/dev/null || { echo "run.sh: portraitd exited at startup; log:" >&2; cat "$tmp/portraitd.log" >&2; exit 1; }
  sleep 0.1
done
pd_port=$(tr -dc 0-9 < "$tmp/portraitd.port" 2>/dev/null || true)
[ -n "$pd_port" ] || { echo "run.sh: portraitd wrote no port file; log:" >&2; cat "$tmp/portraitd.log" >&2; exit 1; }
wait_port "$pd_port" "$pd_pid" portraitd "$tmp/portraitd.log"

# ---- nginx: private config from the template, on another free port ----
user_line="# (not root: no user directive)"
[ "$(id -u)" -eq 0 ] && user_line="user root;"
ng_ok=0
for attempt in 1 2 3 4 5; do
  ng_port=$(free_port)
  sed -e "s|@TMP@|$tmp|g" -e "s|@PORT@|$ng_port|g" -e "s|@CERT@|$cert|g" -e "s|@KEY@|$key|g" \
      -e "s|@WORKERS@|$threads|g" -e "s|@USER_LINE@|$user_line|g" "$here/nginx.conf.in" > "$tmp/nginx.conf"
  "$nginx_bin" -t -q -p "$tmp" -e "$tmp/nginx-error.log" -c "$tmp/nginx.conf"
  "$nginx_bin" -p "$tmp" -e "$tmp/nginx-error.log" -c "$tmp/nginx.conf" >"$tmp/nginx.out" 2>&1 &
  ng_pid=$!
  if wait_port "$ng_port" "$ng_pid" nginx "$tmp/nginx-error.log" 2>"$tmp/nginx-start.err"; then
    ng_ok=1
    break
  fi
  stop "$ng_pid"
  ng_pid=""
done
[ "$ng_ok" -eq 1 ] || { echo "run.sh: nginx did not start" >&2; cat "$tmp/nginx-start.err" >&2; exit 1; }

# ---- correctness check before measuring: status, body and content type over verified TLS ----
check() { # check NAME PORT [record]
  local name=$1 port=$2 res body code ctype
  res=$(curl -sS --max-time 5 --cacert "$ca" -o "$tmp/$name.body" \
        -w '%{http_code} %{content_type}' "https://127.0.0.1:$port/healthz")
  code=${res%% *}
  ctype=${res#* }
  body=$(cat "$tmp/$name.body")
  if [ "$code" != 200 ] || [ "$body" != '{"status":"ok"}' ] ||
     [ "$ctype" != "application/json; charset=utf-8" ]; then
    echo "run.sh: $name /healthz answered $code [$ctype] '$body'" >&2
    return 1
  fi
  # Record the negotiated protocol/cipher once (wrk uses the same OpenSSL defaults as s_client)
  # and the response headers (their size is part of the work per request).
  [ -n "${3:-}" ] || return 0
  curl -sS --max-time 5 --cacert "$ca" -D - -o /dev/null "https://127.0.0.1:$port/healthz" |
    tr -d '\r' | sed "s/^/$name: /" >> "$tmp/headers.txt" || true
  openssl s_client -connect "127.0.0.1:$port" -servername localhost -CAfile "$ca" </dev/null 2>/dev/null |
    awk -v n="$name" '/^New, /{print n ": " $0; exit}' >> "$tmp/tls.txt" || true
}
: > "$tmp/tls.txt"
: > "$tmp/headers.txt"
check portraitd "$pd_port" record
check nginx "$ng_port" record

# ---- measure ----
cpu_ticks() { # cpu_ticks PID: user+system clock ticks of PID and its child processes (nginx workers)
  local p t=0 f
  for p in "$1" $(pgrep -P "$1" 2>/dev/null || true); do
    f=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    set -- $f
    t=$((t + ${12} + ${13}))
  done
  echo "$t"
}
hz=$(getconf CLK_TCK)
sys_ticks() { # sys_ticks: "busy idle" clock ticks of the whole machine from /proc/stat
  awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit }' /proc/stat
}
child_secs() { # child_secs: user+system CPU seconds of this shell's finished children
  # (bash `times`; it must run in the main shell, not in a command substitution)
  times > "$tmp/times"
  awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } printf "%.2f", s }' "$tmp/times" > "$tmp/times.s"
}
run_wrk() { # run_wrk NAME PORT PID
  local name=$1 port=$2 pid=$3 c0 c1 s0 s1 w0 w1
  echo "run.sh: warming up $name (${warm}s)" >&2
  wrk -t"$wthreads" -c"$conns" -d"${warm}s" "https://127.0.0.1:$port/healthz" > "$out/$name.warmup.txt" 2>&1
  echo "run.sh: measuring $name (${secs}s)" >&2
  c0=$(cpu_ticks "$pid")
  s0=$(sys_ticks)
  child_secs
  w0=$(cat "$tmp/times.s")
  wrk -t"$wthreads" -c"$conns" -d"${secs}s" --latency "https://127.0.0.1:$port/healthz" > "$out/$name.wrk.txt" 2>&1
  child_secs
  w1=$(cat "$tmp/times.s")
  s1=$(sys_ticks)
  c1=$(cpu_ticks "$pid")
  # Machine CPU during the run: busy/idle seconds, wrk's own CPU, and the rest (kernel softirq
  # for loopback TCP, plus anything else running on the machine — a large value means noise).
  awk -v a="$s0" -v b="$s1" -v hz="$hz" -v w0="$w0" -v w1="$w1" -v c0="$c0" -v c1="$c1" 'BEGIN {
    split(a, x, " "); split(b, y, " "); busy = (y[1] - x[1]) / hz; idle = (y[2] - x[2]) / hz
    wrk = w1 - w0; srv = (c1 - c0) / hz
    printf "busy %.2fs idle %.2fs: server %.2fs, wrk %.2fs, rest %.2fs\n", busy, idle, srv, wrk, busy - srv - wrk
  }' > "$out/$name.machine"
  # Server CPU seconds used during the measured run (user+system, all threads/workers).
  awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }' > "$out/$name.cpu"
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "run.sh: $name died during the run; see $out/" >&2
    return 1
  fi
  # The server must still answer correctly after the load.
  check "$name" "$port"
}
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
bench_rc=0
run_wrk portraitd "$pd_port" "$pd_pid" || bench_rc=1
run_wrk nginx "$ng_port" "$ng_pid" || bench_rc=1

# ---- optional profile (BENCH_PROFILE=1): where each server's time goes, per request ----
# Separate short wrk runs (BENCH_PROFILE_SECONDS, 5) so the probes do not disturb the figures
# above: syscalls per request (perf stat on the syscall tracepoints of the server's threads),
# allocations per request (uprobes on libc's malloc family; they slow the run, the counts stay
# exact), TLS records per response (openssl s_client -msg on one keep-alive request) and a
# perf record call graph (cpu-clock) with the top symbols. Files: <server>.syscalls.txt,
# <server>.allocs.txt, <server>.records.txt, <server>.perf.txt in the results directory.
psecs=${BENCH_PROFILE_SECONDS:-5}
server_pids() { # server_pids PID: PID and its children (nginx workers), comma separated
  { echo "$1"; pgrep -P "$1" 2>/dev/null || true; } | paste -sd, -
}
wrk_requests() { awk '/ requests in / {print $1}' "$1"; }
per_req() { # per_req PERF_STAT_FILE REQUESTS: "event count per-request" lines
  awk -v n="$2" '/^ *[0-9,]+ +[a-z_]+:/ { c = $1; gsub(/,/, "", c); printf "%-40s %12d %8.2f\n", $2, c, (n > 0 ? c / n : 0) }' "$1"
}
profile_server() { # profile_server NAME PORT PID
  local name=$1 port=$2 pids n
  pids=$(server_pids "$3")
  echo "run.sh: profiling $name (${psecs}s per probe)" >&2
  perf stat -x, -o /dev/null true 2>/dev/null || { echo "run.sh: perf not usable; no profile" >&2; return 0; }
  local sc='raw_syscalls:sys_enter'
  for e in read write writev readv sendmsg recvmsg sendto recvfrom epoll_wait epoll_ctl accept4 close futex mmap munmap madvise brk; do
    sc="$sc,syscalls:sys_enter_$e"
  done
  perf stat -e "$sc" -p "$pids" -o "$out/$name.syscalls.raw" -- \
    wrk -t"$wthreads" -c"$conns" -d"${psecs}s" "https://127.0.0.1:$port/healthz" > "$out/$name.syscalls.wrk" 2>&1 || true
  n=$(wrk_requests "$out/$name.syscalls.wrk")
  { echo "$name: $n requests in ${psecs}s; per request:"; per_req "$out/$name.syscalls.raw" "$n"; } > "$out/$name.syscalls.txt"
  local libc probes='' f
  libc=$(ldd "$bin" | awk '/libc\.so/ {print $3}')
  for f in malloc calloc realloc free; do
    perf probe -q -x "$libc" --add "pcbench_$f=$f" 2>/dev/null || true
    perf probe -l 2>/dev/null | grep -q "pcbench_$f" && probes="$probes${probes:+,}probe_libc:pcbench_$f"
  done
  if [ -n "$probes" ]; then
    # Steady state only: the 64 connections are open (handshakes allocate far more than a
    # request) before counting starts. The probes slow the server ~100x, so the requests in the
    # window are counted by the sending system calls it made (write, writev, send, sendmsg),
    # divided by its sends per request from the syscall run above.
    local spr sends='syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg'
    spr=$(awk '$1 ~ /^syscalls:sys_enter_(write|writev|sendto|sendmsg)$/ { s += $3 } END { print s + 0 }' "$out/$name.syscalls.txt")
    wrk -t"$wthreads" -c"$conns" -d"$((psecs + 3))s" "https://127.0.0.1:$port/healthz" > "$out/$name.allocs.wrk" 2>&1 &
    local wpid=$!
    sleep 1.5
    perf stat -e "$probes,$sends" -p "$pids" -o "$out/$name.allocs.raw" -- sleep "$psecs" || true
    wait "$wpid" || true
    n=$(awk -v w="$spr" '$2 ~ /^syscalls:sys_enter_/ { c = $1; gsub(/,/, "", c); s += c } END { if (w > 0) printf "%d", s / w }' "$out/$name.allocs.raw")
    { echo "$name: $n requests in ${psecs}s of steady state (sends / $spr sends per request; slowed by the probes); per request:"
      per_req "$out/$name.allocs.raw" "$n" | grep -v sys_enter; } > "$out/$name.allocs.txt"
  fi
  # Two requests on one connection; count the application-data records the server sends.
  { printf 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n'; sleep 0.5
    printf 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'; sleep 0.5; } |
    timeout 5 openssl s_client -quiet -msg -connect "127.0.0.1:$port" -servername localhost -CAfile "$ca" \
      > "$out/$name.records.raw" 2>&1 || true
  # -msg prints each record's inner content type as a hex byte under "InnerContent": 17 is
  # application data; "<<<" marks what the server sent.
  awk -v n="$name" 'inner && /^    17/ { app++ } { inner = /^<<< .*InnerContent/ }
    /^HTTP\/1\.1 / { resp++ }
    END { printf "%s: %d application-data records received for %d responses (see .records.raw)\n", n, app, resp }' \
    "$out/$name.records.raw" > "$out/$name.records.txt"
  perf record -q -g -F 2000 -p "$pids" -o "$out/$name.perf.data" -- \
    wrk -t"$wthreads" -c"$conns" -d"${psecs}s" "https://127.0.0.1:$port/healthz" > "$out/$name.perf.wrk" 2>&1 || true
  perf report -i "$out/$name.perf.data" --no-children -g none --sort dso,symbol --stdio 2>/dev/null |
    grep -v '^$' | grep -E '^ +[0-9]' | head -60 > "$out/$name.perf.txt" || true
  perf report -i "$out/$name.perf.data" --no-children -g none --sort dso --stdio 2>/dev/null |
    grep -E '^ +[0-9]' | head -15 > "$out/$name.perf-dso.txt" || true
  rm -f "$out/$name.perf.data"
}
if [ "${BENCH_PROFILE:-0}" = 1 ]; then
  profile_server portraitd "$pd_port" "$pd_pid"
  profile_server nginx "$ng_port" "$ng_pid"
  perf probe -q -d 'probe_libc:pcbench_*' 2>/dev/null || true
fi

# ---- parse ----
to_ms() { # wrk latency like 812.00us / 1.23ms / 1.02s -> milliseconds
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "n/a" }'
}
field() { # field FILE: rps p50 p99 non2xx sockerr bytes-per-response
  local f=$1 rps p50 p99 non sock bpr
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
  p50=$(awk '$1 == "50%" {print $2; exit}' "$f")
  p99=$(awk '$1 == "99%" {print $2; exit}' "$f")
  non=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$f")
  sock=$(awk '/Socket errors:/ {sub(/.*Socket errors: */, ""); gsub(/ /, ""); print}' "$f")
  bpr=$(awk '/ requests in / { n = $1; v = $5; m = 1
    if (v ~ /GB$/) m = 1073741824; else if (v ~ /MB$/) m = 1048576; else if (v ~ /KB$/) m = 1024
    sub(/[KMG]?B,?$/, "", v); if (n > 0) printf "%.0f", v * m / n }' "$f")
  echo "${rps:-n/a} $(to_ms "${p50:-}") $(to_ms "${p99:-}") ${non:-0} ${sock:-none} ${bpr:-n/a}"
}
read -r pd_rps pd_p50 pd_p99 pd_non pd_sock pd_bpr < <(field "$out/portraitd.wrk.txt")
read -r ng_rps ng_p50 ng_p99 ng_non ng_sock ng_bpr < <(field "$out/nginx.wrk.txt")
pd_cpu=$(cat "$out/portraitd.cpu" 2>/dev/null || echo n/a)
ng_cpu=$(cat "$out/nginx.cpu" 2>/dev/null || echo n/a)
per_cpu() { # per_cpu RPS CPU_S: requests per server CPU-second
  awk -v r="$1" -v c="$2" -v s="$secs" 'BEGIN { if (c + 0 > 0 && r + 0 > 0) printf "%.0f", r * s / c; else print "n/a" }'
}
pd_pcpu=$(per_cpu "$pd_rps" "$pd_cpu")
ng_pcpu=$(per_cpu "$ng_rps" "$ng_cpu")
ratio=$(awk -v a="$pd_rps" -v b="$ng_rps" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "n/a" }')

cp "$tmp/portraitd.log" "$out/portraitd.log" 2>/dev/null || true
cp "$tmp/nginx-error.log" "$out/nginx-error.log" 2>/dev/null || true
cp "$tmp/nginx.conf" "$out/nginx.conf" 2>/dev/null || true
cp "$tmp/headers.txt" "$out/headers.txt" 2>/dev/null || true

{
  echo "portraitd vs nginx — GET /healthz over TLS keep-alive, loopback"
  echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "machine:  $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r)"
  echo "versions: $(openssl version | awk '{print $1, $2}'), libevent $(dpkg-query -W -f='${Version}' libevent-2.1-7 2>/dev/null || echo '?'), $("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //'), wrk $(dpkg-query -W -f='${Version}' wrk 2>/dev/null || echo '?')"
  echo "loadavg:  $loadavg before the runs (anything else busy on the machine skews the figures)"
  echo "load:     wrk -t$wthreads -c$conns -d${secs}s --latency (after a ${warm}s warm-up); servers: 2 loop threads / 2 nginx workers"
  sed 's/^/tls:      /' "$tmp/tls.txt"
  echo "srv CPU:  server user+system CPU seconds during the ${secs}s run (of $((secs * $(nproc))) available); req/CPU-s = requests per server CPU-second"
  echo "machine CPU during each run (rest = kernel softirq + anything else on the machine; large rest or idle = noisy run):"
  echo "          portraitd: $(cat "$out/portraitd.machine" 2>/dev/null)"
  echo "          nginx:     $(cat "$out/nginx.machine" 2>/dev/null)"
  echo "B/resp:   bytes read per response (headers + body) as reported by wrk; headers.txt has them"
  echo "note:     wrk and both servers share the same $(nproc) cores: compare the figures, not their absolute values"
  echo
  printf '%-10s %11s %8s %8s %8s %11s %7s %8s  %s\n' server "req/s" "p50 ms" "p99 ms" "srv CPU" "req/CPU-s" "B/resp" "non-2xx" "socket errors"
  printf '%-10s %11s %8s %8s %7ss %11s %7s %8s  %s\n' portraitd "$pd_rps" "$pd_p50" "$pd_p99" "$pd_cpu" "$pd_pcpu" "$pd_bpr" "$pd_non" "$pd_sock"
  printf '%-10s %11s %8s %8s %7ss %11s %7s %8s  %s\n' nginx "$ng_rps" "$ng_p50" "$ng_p99" "$ng_cpu" "$ng_pcpu" "$ng_bpr" "$ng_non" "$ng_sock"
  echo
  echo "ratio portraitd/nginx (req/s): $ratio"
  echo "ratio portraitd/nginx (req per server CPU-second): $(awk -v a="$pd_pcpu" -v b="$ng_pcpu" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "n/a" }')"
  [ "$bench_rc" -eq 0 ] || echo "WARNING: a server died or answered wrongly after the load; see the logs here"
} | tee "$out/summary.txt"
ln -sfn "$stamp" "$here/results/latest"
echo "run.sh: results in ${out#"$root"/}" >&2
exit "$bench_rc"
