#!/usr/bin/env bash
# Builds and runs bench/outbox_bench: outbox messages delivered per second by one and by two
# server instances (bench/README.md "Outbox delivery"). Usage: bench/outbox.sh [messages]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SERVER_BENCH_BUILD:-$root/build}
cmake -S "$root" -B "$build" >/dev/null
MAKEFLAGS= cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target outbox_bench portraitd portraitd-sandbox >/dev/null
"$build/bench/outbox_bench" "$@" 2>/dev/null | grep -E '^C\.|^   '
