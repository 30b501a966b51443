#!/usr/bin/env bash
# Fails when a C (or C++) source differs from what clang-format (.clang-format) would write.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format not installed"; exit 1; }
bad=()
for f in $(git ls-files --cached --others --exclude-standard '*.c' '*.cc' '*.h'); do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "not clang-formatted (run 'make format'): ${bad[*]}"; exit 1
fi
echo "check-format: $(git ls-files --cached --others --exclude-standard '*.c' '*.cc' '*.h' | wc -l) files formatted"
