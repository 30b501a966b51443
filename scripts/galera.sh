#!/usr/bin/env bash
# A two-node MariaDB Galera cluster on loopback, for the Galera test (it_galera) and for
# trying docs/deploy.md's topology by hand. Node n (1, 2) listens for clients on
# 127.0.0.1:BASE+10n and uses BASE+10n+1 (group), +2 (IST), +3 (SST). The nodes run as the
# mysql user (the rsync state transfer writes as that user), with data under DIR/dN and
# sockets, logs and PID files under DIR/run.
# Usage:
#   scripts/galera.sh start DIR BASE   bootstrap node 1, join node 2 (rsync SST); create the
#                                       database and user "portraitd" (password in
#                                       DIR/db.password, also for 127.0.0.1)
#   scripts/galera.sh stop DIR         stop both nodes by PID
set -euo pipefail
cmd=${1:?usage: galera.sh start DIR BASE | stop DIR}
dir=$(mkdir -p "${2:?DIR}" && cd "$2" && pwd)
provider=/usr/lib/galera/libgalera_smm.so
[ -e "$provider" ] || { echo "galera.sh: galera-4 is not installed (scripts/deps.sh)" >&2; exit 1; }
runas=mysql
id "$runas" >/dev/null 2>&1 || runas=$(id -un)

node() { # n base extra...
  local n=$1 base=$2; shift 2
  local p=$((base + 10 * n))
  mariadbd --no-defaults --user="$runas" --datadir="$dir/d$n" --tmpdir="$dir/t$n" \
    --socket="$dir/run/n$n.sock" --port=$p --bind-address=127.0.0.1 --pid-file="$dir/run/n$n.pid" \
    --log-error="$dir/run/n$n.err" --innodb-buffer-pool-size=64M --innodb-log-file-size=48M \
    --binlog-format=ROW --innodb-autoinc-lock-mode=2 --max-connections=300 \
    --log-bin-trust-function-creators=1 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --wsrep-on=ON --wsrep-provider="$provider" --wsrep-cluster-name=portraitd-test \
    --wsrep-node-address=127.0.0.1:$((p + 1)) \
    --wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$((p + 1));ist.recv_addr=127.0.0.1:$((p + 2))" \
    --wsrep-sst-receive-address=127.0.0.1:$((p + 3)) --wsrep-sst-method=rsync "$@" \
    >/dev/null 2>&1 &
}

wait_synced() { # n
  for _ in $(seq 1 240); do
    st=$(mariadb --no-defaults -S "$dir/run/n$1.sock" -uroot -N -e \
      "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | cut -f2 || true)
    [ "$st" = Synced ] && return 0
    sleep 0.25
  done
  echo "galera.sh: node $1 did not reach Synced; see $dir/run/n$1.err" >&2
  tail -20 "$dir/run/n$1.err" >&2
  return 1
}

case "$cmd" in
start)
  base=${3:?BASE}
  rm -rf "$dir/d1" "$dir/d2" "$dir/t1" "$dir/t2" "$dir/run"
  mkdir -p "$dir/d1" "$dir/d2" "$dir/t1" "$dir/t2" "$dir/run"
  chown -R "$runas" "$dir/d1" "$dir/d2" "$dir/t1" "$dir/t2" "$dir/run" 2>/dev/null || true
  chmod 755 "$dir"
  mariadb-install-db --no-defaults --user="$runas" --datadir="$dir/d1" --tmpdir="$dir/t1" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
    || { cat "$dir/install.log" >&2; exit 1; }
  node 1 "$base" --wsrep-cluster-address=gcomm:// --wsrep-new-cluster
  wait_synced 1
  node 2 "$base" --wsrep-cluster-address=gcomm://127.0.0.1:$((base + 11))
  wait_synced 2
  [ -s "$dir/db.password" ] || (umask 077; openssl rand -hex 16 > "$dir/db.password")
  pw=$(cat "$dir/db.password")
  mariadb --no-defaults -S "$dir/run/n1.sock" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS portraitd CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'portraitd'@'127.0.0.1' IDENTIFIED BY '$pw';
GRANT ALL ON portraitd.* TO 'portraitd'@'127.0.0.1';
SQL
  ;;
stop)
  for n in 2 1; do
    if [ -s "$dir/run/n$n.pid" ] && kill -0 "$(cat "$dir/run/n$n.pid")" 2>/dev/null; then
      p=$(cat "$dir/run/n$n.pid")
      kill -TERM "$p"
      for _ in $(seq 1 400); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
      kill -0 "$p" 2>/dev/null && kill -KILL "$p"
    fi
    rm -f "$dir/run/n$n.pid"
  done
  ;;
*) echo "usage: galera.sh start DIR BASE | stop DIR" >&2; exit 2 ;;
esac
