#!/usr/bin/env bash
# Builds and runs bench/hostile: the bad-input table of docs/security.md through the real
# server (answers, time, the server's peak memory per input). Usage: bench/hostile.sh [slow=200]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SERVER_BENCH_BUILD:-$root/build}
cmake -S "$root" -B "$build" >/dev/null
MAKEFLAGS= cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target hostile portraitd portraitd-sandbox >/dev/null
"$build/bench/hostile" "$@" 2>/dev/null
