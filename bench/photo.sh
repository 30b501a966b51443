#!/usr/bin/env bash
# Builds bench/photo_bench (RelWithDebInfo, -O2, like `make build`; its own build directory) and runs it.
# Usage: bench/photo.sh [RUNS]   (default 21; see bench/README.md "Photo pipeline")
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${PHOTO_BENCH_BUILD:-$root/build-bench-photo}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
MAKEFLAGS= cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target photo_bench >/dev/null
"$build/bench/photo_bench" "${1:-21}"
