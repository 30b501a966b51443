#!/usr/bin/env bash
# Installs the Debian 12 packages portraitd needs to build, run and test.
# Idempotent and quiet when nothing is missing. Usage: scripts/deps.sh [extra-group...]
#   groups: core (always), bench (nginx, wrk, perf), fuzz (clang, libFuzzer runtime)
set -euo pipefail

core=(build-essential cmake pkg-config git ca-certificates openssl curl
      libevent-dev libssl-dev libcjson-dev libmariadb-dev mariadb-server mariadb-client
      libargon2-dev libcmocka-dev libinih-dev clang-format libcurl4-openssl-dev
      libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libzbar-dev libqrencode-dev
      libexif-dev libcsv-dev libzip-dev zlib1g-dev libhttp-parser-dev
      g++ libdlib-dev libopencv-objdetect-dev libopencv-imgproc-dev opencv-data
      python3-skimage python-matplotlib-data opencv-doc
      chromium fonts-noto-cjk     # browser tests of the console and the PC page (docs/console.md)
      haproxy galera-4 rsync)     # make cluster, the cluster and Galera tests (docs/deploy.md)
# face/ (issue #11): g++ for the one C++ file; dlib's HOG face detector (model built in, no
# data package: libdlib-data's landmark model is not used); OpenCV cascades (opencv-data).
# The real photographs of tests/unit/test_photo_real.c are read where these install them:
# astronaut.png (python3-skimage), grace_hopper.jpg (python-matplotlib-data), face_swapped.jpg,
# example.jpg, messi5.jpg and two portraits (opencv-doc).
bench=(nginx-light wrk linux-perf)
fuzz=(clang-14 libclang-rt-14-dev)

want=("${core[@]}")
# The pages are built with the machine's Node.js and npm (web/package.json: Vite 6 runs on
# Node 18 and later); the browser tests (playwright-core 1.64) and the S3 test server
# (tools/s3/package.json, scripts/s3.sh) need Node 20 or later. Debian's own packages only
# where there is no npm at all.
command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
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
