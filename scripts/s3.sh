#!/usr/bin/env bash
# The S3-compatible server that the tests and `make cluster` run on loopback: s3rver
# (@20minutes/s3rver, a maintained fork that checks AWS Signature V4), from tools/s3/package.json
# and its lock file. Usage:
#   scripts/s3.sh install                     npm ci into tools/s3/node_modules when the lock
#                                             file changed (make deps runs it)
#   scripts/s3.sh serve DIR BUCKET LISTEN [PORT_FILE]
#                                             runs the server in the foreground (exec)
# Development keys: access key S3RVER, secret key S3RVER (fixed by s3rver).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/tools/s3
cmd=${1:?usage: s3.sh install|serve ...}
case "$cmd" in
install)
  command -v npm >/dev/null 2>&1 || { echo "s3.sh: npm is missing (scripts/deps.sh)" >&2; exit 1; }
  stamp=$dir/node_modules/.portraitd-lock
  if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then exit 0; fi
  echo "s3.sh: installing tools/s3 (npm ci)" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$dir/package-lock.json" "$stamp"
  ;;
serve)
  # s3rver seals ListObjectsV2 continuation tokens with DES, which Node's OpenSSL 3 only offers
  # from its legacy provider: without it a listing of more than 1,000 keys fails with 500.
  exec node --openssl-legacy-provider "$dir/serve.js" --dir "${2:?DIR}" --bucket "${3:?BUCKET}" --listen "${4:?LISTEN}" \
    ${5:+--port-file "$5"}
  ;;
*)
  echo "usage: s3.sh install | serve DIR BUCKET HOST:PORT [PORT_FILE]" >&2; exit 2 ;;
esac
