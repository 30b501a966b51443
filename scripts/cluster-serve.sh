#!/usr/bin/env bash
# Step 7 of scripts/run.sh under `make cluster`: the S3 server, two portraitd instances
# (https://127.0.0.1:8444 and :8445) and haproxy on https://localhost:8443 in front, each
# started and stopped by PID; then var/cluster-stack.json. Runs until SIGTERM/SIGINT, which
# stops what it started. Usage: cluster-serve.sh BIN CONF VAR
set -euo pipefail
bin=${1:?BIN} conf=${2:?CONF} var=${3:?VAR}
root=$(cd "$(dirname "$0")/.." && pwd)
cdir=$var/cluster
mkdir -p "$cdir/s3" "$var/log"

pids=()
stop() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  exit 0
}
trap stop INT TERM EXIT

# The object store: s3rver on a free loopback port, bucket "portraitd".
rm -f "$cdir/s3.port"
"$root/scripts/s3.sh" serve "$cdir/s3" portraitd 127.0.0.1:0 "$cdir/s3.port" \
  2>>"$var/log/s3.log" &
pids+=($!)
for _ in $(seq 1 300); do [ -s "$cdir/s3.port" ] && break; sleep 0.1; done
[ -s "$cdir/s3.port" ] || { echo "cluster: the S3 server did not start; see var/log/s3.log" >&2; exit 1; }
s3=http://127.0.0.1:$(cat "$cdir/s3.port")

# Both instances: the same configuration, the object store and the balancer's address
# through the environment (docs/configuration.md), each its own port and log.
export PORTRAITD_STORAGE_BACKEND=s3 PORTRAITD_STORAGE_S3_ENDPOINT=$s3
export PORTRAITD_STORAGE_S3_BUCKET=portraitd PORTRAITD_STORAGE_S3_PATH_STYLE=true
export PORTRAITD_STORAGE_S3_ACCESS_KEY=S3RVER PORTRAITD_STORAGE_S3_SECRET_KEY=S3RVER
export PORTRAITD_SERVER_TRUSTED_PROXIES=127.0.0.1   # haproxy, on this host
ports=(8444 8445)
ipids=()
for i in 0 1; do
  PORTRAITD_SERVER_LISTEN=127.0.0.1:${ports[$i]} "$bin" -c "$conf" serve \
    2>>"$var/log/portraitd-$((i + 1)).log" &
  pids+=($!) ipids+=($!)
done
for i in 0 1; do
  for _ in $(seq 1 200); do
    curl -fsS --cacert "$var/tls/dev-ca.pem" "https://127.0.0.1:${ports[$i]}/healthz" >/dev/null 2>&1 && break
    kill -0 "${ipids[$i]}" 2>/dev/null || { echo "cluster: instance $((i + 1)) exited; see var/log/portraitd-$((i + 1)).log" >&2; exit 1; }
    sleep 0.1
  done
done

# haproxy in front, on 8443 (and [::1]:8443 where there is IPv6), TLS with the dev certificate.
cat "$var/tls/server.pem" "$var/tls/server.key" > "$cdir/haproxy.pem"
chmod 600 "$cdir/haproxy.pem"
"$root/scripts/haproxy-conf.sh" 127.0.0.1:8443 "$cdir/haproxy.pem" "$var/tls/dev-ca.pem" \
  127.0.0.1:8444 127.0.0.1:8445 > "$cdir/haproxy.cfg"
if [ -e /proc/net/if_inet6 ]; then
  sed -i "s|^    bind 127.0.0.1:8443 \(.*\)|&\n    bind [::1]:8443 \1|" "$cdir/haproxy.cfg"
fi
haproxy -db -f "$cdir/haproxy.cfg" 2>>"$var/log/haproxy.log" &
pids+=($!)

# var/cluster-stack.json: the fields of var/dev-stack.json and the instances behind 8443.
jq --arg s3 "$s3" --argjson p1 "${ipids[0]}" --argjson p2 "${ipids[1]}" \
  '. + {"instances": [{"pid": $p1, "api_base": "https://127.0.0.1:8444/api/v1"},
                      {"pid": $p2, "api_base": "https://127.0.0.1:8445/api/v1"}],
        "balancer": "haproxy", "s3": {"endpoint": $s3, "bucket": "portraitd"}}' \
  "$var/dev-stack.json" > "$var/cluster-stack.json.tmp"
mv "$var/cluster-stack.json.tmp" "$var/cluster-stack.json"
echo "cluster: instances ${ipids[*]} on 8444 and 8445 behind haproxy on 8443; objects at $s3;" \
  "var/cluster-stack.json; logs var/log/portraitd-{1,2}.log, haproxy.log, s3.log" >&2

# Until told to stop. An instance that dies (try: kill -9 on one of var/cluster-stack.json's
# pids) leaves the other serving through the balancer; the balancer, the store, or both
# instances gone ends the cluster.
alive=2
while :; do
  gone=
  wait -n -p gone "${pids[@]}" || true
  [ -n "$gone" ] || continue
  if [ "$gone" = "${ipids[0]}" ] || [ "$gone" = "${ipids[1]}" ]; then
    alive=$((alive - 1))
    echo "cluster: instance pid $gone exited; $alive left behind the balancer" >&2
    if [ "$alive" -gt 0 ]; then
      keep=()
      for p in "${pids[@]}"; do [ "$p" = "$gone" ] || keep+=("$p"); done
      pids=("${keep[@]}")
      continue
    fi
  fi
  echo "cluster: pid $gone exited; stopping the rest" >&2
  exit 1
done
