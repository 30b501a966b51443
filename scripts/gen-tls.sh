#!/usr/bin/env bash
# Creates a development CA and a server certificate for localhost / 127.0.0.1 / ::1 in DIR,
# unless they already exist. Usage: scripts/gen-tls.sh DIR [extra-dns-name...]
# Files: dev-ca.pem, dev-ca.key, server.pem (leaf + CA chain), server.key.
set -euo pipefail
dir=${1:?usage: gen-tls.sh DIR}
shift || true
mkdir -p "$dir"
cd "$dir"
umask 077
if [ ! -s dev-ca.pem ] || [ ! -s dev-ca.key ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/O=portraitd development/CN=portraitd dev CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout dev-ca.key -out dev-ca.pem 2>/dev/null
  rm -f server.pem server.key
fi
if [ ! -s server.pem ] || [ ! -s server.key ]; then
  san="DNS:localhost,IP:127.0.0.1,IP:::1"
  for n in "$@"; do san="$san,DNS:$n"; done
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/O=portraitd development/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' "$san" > server.ext
  openssl x509 -req -in server.csr -CA dev-ca.pem -CAkey dev-ca.key -CAcreateserial -days 825 \
    -extfile server.ext -out server.leaf.pem 2>/dev/null
  cat server.leaf.pem dev-ca.pem > server.pem
  rm -f server.csr server.ext server.leaf.pem dev-ca.srl
fi
chmod 644 dev-ca.pem server.pem
