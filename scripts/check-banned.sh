#!/usr/bin/env bash
# Fails when a banned C function appears in the project's sources (curl's checksrc idea):
# use snprintf, strtol/strtoll with an end pointer, strtok_r, gmtime_r instead.
set -euo pipefail
cd "$(dirname "$0")/.."
banned='strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|atoll|gets|gmtime|localtime|sscanf|strncpy|asctime|ctime|tmpnam|mktemp'
hits=$(git ls-files '*.c' '*.cc' '*.h' 2>/dev/null | xargs -r grep -nE "\b($banned)\s*\(" || true)
if [ -n "$hits" ]; then
  echo "banned functions in use:"; echo "$hits"; exit 1
fi
echo "check-banned: 0 banned calls"
