#!/usr/bin/env bash
# Builds the browser pages (web/: the staff console and the students' PC page) into
# BUILD_DIR/www, which portraitd serves from server.www_dir. The npm packages come from
# web/package.json + package-lock.json (`npm ci`, re-run only when the lock file changes);
# nothing is downloaded at run time and no front-end library is kept in the repository.
# Usage: scripts/web.sh [BUILD_DIR]   (make build calls it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build=$root/$build ;; esac
cd "$root/web"
command -v npm >/dev/null || { echo "web.sh: npm is missing (scripts/deps.sh installs it)" >&2; exit 1; }
stamp=node_modules/.portraitd-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  # One install at a time (make test and make test-asan may build side by side).
  exec 9>"$root/web/.npm-ci.lock"
  flock 9
  if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    npm ci --no-audit --no-fund --loglevel=error >&2
    cp package-lock.json "$stamp"
  fi
  flock -u 9
fi
mkdir -p "$build"
PC_WWW_OUT="$build/www" npx --no-install vite build --logLevel warn >"$build/web-build.log" 2>&1 ||
  { cat "$build/web-build.log" >&2; exit 1; }
