#!/usr/bin/env bash
# Builds and runs bench/cluster_bench: the photo upload path and GET /orders through haproxy
# with one and with two portraitd instances, alternating, photos in s3rver
# (bench/README.md "One instance or two"). Usage: bench/cluster.sh [seconds] [threads] [runs]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${CLUSTER_BENCH_BUILD:-$root/build}
"$root/scripts/s3.sh" install
cmake -S "$root" -B "$build" >/dev/null
MAKEFLAGS= cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target cluster_bench portraitd portraitd-sandbox >/dev/null
"$build/bench/cluster_bench" "$@" 2>"${TMPDIR:-/tmp}/cluster_bench.err" || { tail -20 "${TMPDIR:-/tmp}/cluster_bench.err" >&2; exit 1; }
