#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian 12 packages crlsync needs to build, test and demo. Idempotent; needs root.
set -euo pipefail

pkgs=(
  # build
  gcc clang make cmake pkg-config libssl-dev libcurl4-openssl-dev libjansson-dev
  # unit tests, sanitizers, fuzzing
  libcmocka-dev libclang-rt-14-dev valgrind
  # integration tests and demo: real OpenVPN, test PKI from python3-cryptography
  openvpn python3 python3-cryptography iproute2 procps
  # fetcher integration tests: a real nginx serving CRLs on loopback
  nginx-light
  # strongSwan integration tests: charon, swanctl + the vici plugin, the curl plugin (charon's file:// fetcher
  # for crl_uris = file:///var/lib/crlsync/NAME.crl, the path of CRLs above vici's 64 KiB value limit)
  strongswan-charon strongswan-swanctl libstrongswan-extra-plugins util-linux
  # the Debian package (README's third command) and its test (tests/package): dpkg-buildpackage, dh, lintian;
  # systemd for systemd-analyze verify, systemd-sysusers and systemd-tmpfiles (it does not become PID 1
  # when installed in a container); git to copy the tree without build dirs
  dpkg-dev debhelper lintian systemd git man-db
  # monitoring and other CRL consumers (issue 12): promtool (in `prometheus': its server is never started,
  # see policy-rc.d below), a real ocserv + the openconnect client
  prometheus ocserv openconnect
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
# A system charon (strongswan-starter's units), prometheus or ocserv must not start: the tests run their own, with their own
# sockets; policy-rc.d keeps invoke-rc.d from starting services during the install.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=1
  trap 'rm -f "$policy"' EXIT # also when the install fails
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ "$own_policy" = 1 ]; then
  rm -f "$policy"
fi
# ...and with systemd, keep them disabled (containers without systemd have nothing to do here).
if [ -d /run/systemd/system ]; then
  for unit in strongswan-starter.service strongswan.service prometheus.service ocserv.service ocserv.socket; do
    if systemctl list-unit-files "$unit" >/dev/null 2>&1; then
      systemctl disable --now "$unit" >/dev/null 2>&1 || true
    fi
  done
fi
# Debian starts OpenVPN's default instance units only when configured; make sure none is running for us.
exit 0
