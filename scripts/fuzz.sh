#!/usr/bin/env bash
# Runs every fuzzer in BUILD_DIR for FUZZ_SECONDS (default 30) on its corpus in fuzz/corpus/.
# New interesting inputs are kept in build-fuzz/corpus-*; merge them into fuzz/corpus/<name>
# with: ./build-fuzz/fuzz/fuzz_X -merge=1 fuzz/corpus/X build-fuzz/corpus-X
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-fuzz}
secs=${FUZZ_SECONDS:-30}
for f in "$build"/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f"); name=${name#fuzz_}
  work=$build/corpus-$name
  mkdir -p "$work" "$root/fuzz/corpus/$name"
  echo "fuzz_$name: ${secs}s"
  "$f" -max_total_time="$secs" -print_final_stats=0 "$work" "$root/fuzz/corpus/$name" 2>&1 | tail -2
done
