#!/usr/bin/env bash
# Installs the Debian 12 packages portraitd needs to build, run and test.
# Idempotent and quiet when nothing is missing. Usage: scripts/deps.sh [extra-group...]
#   groups: core (always), bench (nginx, wrk), fuzz (clang, libFuzzer runtime)
set -euo pipefail

core=(build-essential cmake pkg-config git ca-certificates openssl curl
      libevent-dev libssl-dev libcjson-dev libmariadb-dev mariadb-server mariadb-client
      libargon2-dev libcmocka-dev libinih-dev clang-format libcurl4-openssl-dev
      libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libzbar-dev libqrencode-dev
      libexif-dev libcsv-dev libzip-dev zlib1g-dev
      g++ libdlib-dev libopencv-objdetect-dev libopencv-imgproc-dev opencv-data
      python3-skimage python-matplotlib-data opencv-doc)
# face/ (issue #11): g++ for the one C++ file; dlib's HOG face detector (model built in, no
# data package: libdlib-data's landmark model is not used); OpenCV cascades (opencv-data).
# The real photographs of tests/unit/test_photo_real.c are read where these install them:
# astronaut.png (python3-skimage), grace_hopper.jpg (python-matplotlib-data), face_swapped.jpg,
# example.jpg, messi5.jpg and two portraits (opencv-doc).
bench=(nginx-light wrk)
fuzz=(clang-14 libclang-rt-14-dev)

want=("${core[@]}")
for g in "$@"; do
  case "$g" in
    core) ;;
    bench) want+=("${bench[@]}") ;;
    fuzz) want+=("${fuzz[@]}") ;;
    *) echo "deps.sh: unknown group '$g'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
  echo "deps.sh: run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The packaged MariaDB service must never start: portraitd runs its own private instance.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
