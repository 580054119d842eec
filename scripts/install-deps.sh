#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of norreg from Debian 12 packages.
# Idempotent: packages already present are skipped by apt-get; safe to run repeatedly.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev
  libssl-dev libsqlite3-dev sqlite3 libzstd-dev libpq-dev postgresql-15
  libpugixml-dev libyaml-cpp-dev libsimdjson-dev rapidjson-dev
  libcli11-dev libspdlog-dev libfmt-dev libcurl4-openssl-dev
  libzip-dev zipcmp zipmerge ziptool libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  curl wrk nginx-light bc libxml2-utils python3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# nginx is a benchmark reference only: never leave the packaged service running.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true; fi
pkill -x nginx >/dev/null 2>&1 || true
# PostgreSQL is for the tests, which run a throwaway cluster of their own (scripts/pg-cluster.sh):
# stop the cluster the package creates and starts, if it did.
if [[ " ${missing[*]} " == *" postgresql-15 "* ]]; then
  if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now postgresql >/dev/null 2>&1 || true; fi
  if command -v pg_ctlcluster >/dev/null 2>&1; then $SUDO pg_ctlcluster 15 main stop >/dev/null 2>&1 || true; fi
fi
echo "install-deps: installed ${missing[*]}"
