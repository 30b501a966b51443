#!/usr/bin/env bash
# A private MariaDB instance under DIR (data, socket, log, pid), never the system's one and
# never a TCP port. Usage:
#   scripts/mariadb.sh start DIR   initialise on first use, start, create database + user;
#                                  prints the socket path
#   scripts/mariadb.sh stop DIR    stop it by the PID in DIR/mysqld.pid
#   scripts/mariadb.sh sql DIR     a root client on the instance (stdin SQL)
# Credentials of the application user: database and user "portraitd", password in
# DIR/db.password (generated on first start).
set -euo pipefail
cmd=${1:?usage: mariadb.sh start|stop|sql DIR}
dir=$(mkdir -p "${2:?usage: mariadb.sh start|stop|sql DIR}" && cd "$2" && pwd)
data=$dir/data pid=$dir/mysqld.pid log=$dir/mysqld.log
# Its own temporary directory: a MariaDB starting up removes every "#sql…" file of its tmpdir,
# so instances sharing /tmp (tests in parallel) would delete each other's temporary tables.
tmp=$dir/tmp
sock=$dir/mysqld.sock
if [ ${#sock} -gt 100 ]; then  # sun_path holds 108 bytes
  sock=/tmp/portraitd-$(printf '%s' "$dir" | sha1sum | cut -c1-12).sock
fi
user_flag=()
[ "$(id -u)" -eq 0 ] && user_flag=(--user=root)

client() { mariadb --no-defaults --socket="$sock" -uroot "$@"; }

running() { [ -s "$pid" ] && kill -0 "$(cat "$pid")" 2>/dev/null; }

case "$cmd" in
start)
  if ! running; then
    if [ ! -d "$data/mysql" ]; then
      rm -rf "$data"; mkdir -p "$data" "$tmp"
      mariadb-install-db --no-defaults "${user_flag[@]}" --datadir="$data" --tmpdir="$tmp" \
        --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
        || { cat "$dir/install.log" >&2; exit 1; }
    fi
    rm -f "$sock"
    mkdir -p "$tmp"
    mariadbd --no-defaults "${user_flag[@]}" --datadir="$data" --tmpdir="$tmp" --socket="$sock" \
      --skip-networking --pid-file="$pid" --log-error="$log" \
      --innodb-buffer-pool-size=128M --innodb-log-file-size=48M --skip-log-bin \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
      --max-connections=500 >/dev/null 2>&1 &
    for _ in $(seq 1 300); do
      mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1 && break
      sleep 0.05
    done
    mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1 \
      || { echo "mariadb.sh: server did not start; see $log" >&2; tail -20 "$log" >&2; exit 1; }
  fi
  if [ ! -s "$dir/db.password" ]; then
    (umask 077; openssl rand -hex 16 > "$dir/db.password")
  fi
  pw=$(cat "$dir/db.password")
  client <<SQL
CREATE DATABASE IF NOT EXISTS portraitd CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'portraitd'@'localhost' IDENTIFIED BY '$pw';
ALTER USER 'portraitd'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL ON portraitd.* TO 'portraitd'@'localhost';
SQL
  echo "$sock"
  ;;
stop)
  if running; then
    p=$(cat "$pid")
    kill -TERM "$p"
    for _ in $(seq 1 600); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$p" 2>/dev/null && kill -KILL "$p"
  fi
  rm -f "$pid"
  ;;
sql)
  client "${@:3}"
  ;;
*)
  echo "usage: mariadb.sh start|stop|sql DIR" >&2; exit 2 ;;
esac
