#!/usr/bin/env bash
# Creates the WeChat Pay development keys in DIR, unless they already exist (idempotent).
# Usage: scripts/gen-pay-keys.sh DIR
# Files (secrets are mode 600):
#   merchant.key (600) merchant.pem merchant.serial merchant.pub   the merchant API key/cert
#   platform.key (600) platform.pem platform.serial platform.pub   the WeChat Pay platform cert
#   pubkey.key (600)   pubkey.pub   pubkey.id                      public-key mode (PUB_KEY_ID_…)
#   apiv3.key (600)    32 alphanumerics                            the APIv3 key
#   mchid              10 digits (19xxxxxxxx)                      the merchant id
# Serials are 40 upper-case hex digits; the certificates are self-signed RSA-2048.
# These are development keys for portraitd-sandbox (docs/sandbox.md), never production ones.
set -euo pipefail
dir=${1:?usage: gen-pay-keys.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077

# 40 upper-case hex digits whose first digit is 1..7: no leading zero, positive.
rand_serial() {
  local s
  s=$(openssl rand -hex 20 | tr 'a-f' 'A-F')
  printf '%d%s' $((RANDOM % 7 + 1)) "${s:1}"
}

# rand_digits N: N random decimal digits.
rand_digits() {
  local out=""
  while [ ${#out} -lt "$1" ]; do
    out="$out$(openssl rand -hex 16 | tr -dc '0-9')"
  done
  printf '%s' "${out:0:$1}"
}

# rand_alnum N: N random characters of [A-Za-z0-9].
rand_alnum() {
  local out=""
  while [ ${#out} -lt "$1" ]; do
    out="$out$(openssl rand -base64 48 | tr -dc 'A-Za-z0-9')"
  done
  printf '%s' "${out:0:$1}"
}

# rsa_key NAME: NAME.key (PKCS#8 RSA-2048); a new key invalidates what was derived from it.
rsa_key() {
  if [ ! -s "$1.key" ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" 2>/dev/null
    rm -f "$1.pem" "$1.serial" "$1.pub"
  fi
  chmod 600 "$1.key"
  if [ ! -s "$1.pub" ]; then
    openssl pkey -in "$1.key" -pubout -out "$1.pub" 2>/dev/null
  fi
  chmod 644 "$1.pub"
}

# self_cert NAME CN: NAME.pem, self-signed with NAME.key, serial in NAME.serial.
self_cert() {
  if [ ! -s "$1.pem" ] || [ ! -s "$1.serial" ]; then
    local serial
    serial=$(rand_serial)
    openssl req -x509 -new -key "$1.key" -sha256 -days 3650 -set_serial "0x$serial" \
      -subj "/C=CN/O=portraitd development/OU=WeChat Pay sandbox/CN=$2" \
      -out "$1.pem" 2>/dev/null
    printf '%s\n' "$serial" > "$1.serial"
  fi
  chmod 644 "$1.pem" "$1.serial"
}

if [ ! -s mchid ]; then
  printf '19%s\n' "$(rand_digits 8)" > mchid
fi
chmod 644 mchid
mchid=$(tr -d '\n' < mchid)

rsa_key merchant
self_cert merchant "$mchid"
rsa_key platform
self_cert platform "Tenpay.com Root CA (sandbox)"
rsa_key pubkey
if [ ! -s pubkey.id ]; then
  printf 'PUB_KEY_ID_0114232134912410000000000000%s\n' "$(rand_digits 4)" > pubkey.id
fi
chmod 644 pubkey.id

if [ ! -s apiv3.key ]; then
  rand_alnum 32 > apiv3.key
fi
chmod 600 apiv3.key
