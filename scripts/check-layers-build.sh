#!/usr/bin/env bash
# Proves that the build itself refuses an edge that climbs (layers.txt), in a scratch copy of
# the sources: store/ builds as it is; then store/ includes a header of server/ and must fail
# to compile (its include root has no server/); then store/ calls a function of server/
# through a prototype of its own and must fail its link check (pc_check_store links with
# -Wl,--no-undefined against base/ and config/ only), although its static library builds.
# Test lint.layers_enforced; also run by hand: scripts/check-layers-build.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pc-layers-XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/src
mkdir -p "$src"
(cd "$root" && git ls-files --cached --others --exclude-standard -z |
  xargs -0 cp --parents -t "$src")
victim=$src/store/ratelimit.c
cp "$victim" "$work/victim.orig"
cmake -S "$src" -B "$work/build" -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
build() { MAKEFLAGS= cmake --build "$work/build" --target "$1" -j "${JOBS:-2}" >"$work/log" 2>&1; }

build pc_check_store || { cat "$work/log"; echo "FAIL: store/ does not build as it is"; exit 1; }

printf '#include "server/server.h"\n' >>"$victim"
if build pc_store; then
  echo "FAIL: store/ compiled while including server/server.h"; exit 1
fi
grep -q 'server/server.h' "$work/log" || { cat "$work/log"; echo "FAIL: not the include"; exit 1; }
echo "wrong-way include refused: $(grep -m1 'server/server.h' "$work/log")"

cp "$work/victim.orig" "$victim"
cat >>"$victim" <<'EOF'
struct pc_server;
int pc_server_run(struct pc_server *srv);
int pc__layers_probe(void);
int pc__layers_probe(void)
{
    return pc_server_run(0);
}
EOF
build pc_store || { cat "$work/log"; echo "FAIL: the call did not even compile"; exit 1; }
if build pc_check_store; then
  echo "FAIL: store/ linked while calling pc_server_run of server/"; exit 1
fi
grep -q 'pc_server_run' "$work/log" || { cat "$work/log"; echo "FAIL: not the call"; exit 1; }
echo "wrong-way call refused: $(grep -m1 'pc_server_run' "$work/log")"
