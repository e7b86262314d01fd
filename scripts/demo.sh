#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job: installs what it needs, builds, and runs the demo on loopback (see scripts/demo.py).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh: run as root (it starts OpenVPN with a tun device)" >&2
  exit 1
fi
scripts/deps.sh
echo "Building crlsync..."
BUILD_DIR=${BUILD_DIR:-build} scripts/build.sh >/dev/null
exec /usr/bin/python3 scripts/demo.py --plugin "${BUILD_DIR:-build}/plugin/openvpn-plugin-crlsync.so" \
  --crlsync "${BUILD_DIR:-build}/fetcher/crlsync"
