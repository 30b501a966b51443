#!/usr/bin/env bash
# Builds and runs bench/server_bench: photo-check uploads per second with /healthz latency
# idle vs during the burst, and payment notifications per second with their p99
# and order lists per second with their p99 (bench/README.md "Through the server"). Usage:
# bench/server.sh [seconds] [uploaders] [notifications] [senders] [listers]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SERVER_BENCH_BUILD:-$root/build}
cmake -S "$root" -B "$build" >/dev/null
MAKEFLAGS= cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target server_bench portraitd portraitd-sandbox >/dev/null
"$build/bench/server_bench" "$@" 2>/dev/null | grep -E '^(A|B|C)\.|^   '
