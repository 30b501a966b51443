#!/usr/bin/env bash
# Builds and runs bench/export_bench: a 1,000-photo export zip through the server, its time
# and the server's peak memory (bench/README.md "Photo export"). Usage: bench/export.sh [photos]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SERVER_BENCH_BUILD:-$root/build}
cmake -S "$root" -B "$build" >/dev/null
MAKEFLAGS= cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target export_bench portraitd >/dev/null
"$build/bench/export_bench" "$@" 2>/dev/null | grep -E '^D\.|^   '
