#!/usr/bin/env bash
# `make cluster`: the development stack of `make run` (scripts/run.sh: MariaDB, the WeChat
# sandbox, demo data), but served by TWO portraitd instances behind haproxy on
# https://localhost:8443, with photos and avatars in an S3-compatible server (s3rver, which
# checks AWS Signature V4). Its own database (var/cluster/mariadb) and objects
# (var/cluster/s3); TLS, keys and secrets are make run's (var/). Foreground; Ctrl-C stops
# everything it started. Writes var/cluster-stack.json: var/dev-stack.json's fields plus
# "instances" and "s3". docs/deploy.md explains the topology.
# Usage: scripts/cluster.sh [BUILD_DIR]   (make cluster builds first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v haproxy >/dev/null || { echo "cluster.sh: haproxy is missing (scripts/deps.sh)" >&2; exit 1; }
mkdir -p "$root/var/cluster"
PC_STACK_DB=$root/var/cluster/mariadb PC_STACK_SERVE=$root/scripts/cluster-serve.sh \
  exec "$root/scripts/run.sh" "${1:-build}"
