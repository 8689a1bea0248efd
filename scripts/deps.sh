#!/usr/bin/env bash
# Install the Debian 12 packages ringer builds, tests and benchmarks with.
# Safe to run again: apt-get skips what is already there.
set -euo pipefail

PACKAGES=(
  build-essential meson ninja-build pkg-config
  libmicrohttpd-dev libjansson-dev libsqlite3-dev libinih-dev libcurl4-openssl-dev
  libcmocka-dev curl python3
  libhiredis-dev redis-server
  libcjose-dev libssl-dev openssl xxd
  libsodium-dev libxml2-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
