#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs the Debian 12 packages crlsync needs to build, test and demo. Idempotent; needs root.
set -euo pipefail

pkgs=(
  # build
  gcc clang make cmake pkg-config libssl-dev libinih-dev libcurl4-openssl-dev libjansson-dev
  # unit tests, sanitizers, fuzzing
  libcmocka-dev libclang-rt-14-dev valgrind
  # integration tests and demo: real OpenVPN, test PKI from python3-cryptography
  openvpn python3 python3-cryptography iproute2 procps
  # fetcher integration tests: a real nginx serving CRLs on loopback
  nginx-light
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts OpenVPN's default instance units only when configured; make sure none is running for us.
exit 0
