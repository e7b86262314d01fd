#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Fails unless the plugin exports exactly OpenVPN's entry points (-fvisibility=hidden + exports.map).
set -eu
so=$1
syms=$(nm -D --defined-only "$so" | awk '{print $3}' | sort)
echo "$syms"
bad=$(echo "$syms" | grep -v '^openvpn_plugin_' || true)
if [ -n "$bad" ]; then
  echo "unexpected exported symbols: $bad" >&2
  exit 1
fi
echo "$syms" | grep -qx openvpn_plugin_open_v3
echo "$syms" | grep -qx openvpn_plugin_func_v3
echo "$syms" | grep -qx openvpn_plugin_close_v1
