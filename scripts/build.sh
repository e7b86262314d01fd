#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Configures and builds crlsync into build/ (clang, so that the fuzz targets build in the same tree).
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${BUILD_DIR:-build}
cmake -S . -B "$builddir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCRLSYNC_WERROR=ON -DCRLSYNC_FUZZ=ON -DCRLSYNC_UNIT_SANITIZE=ON "$@" >/dev/null
cmake --build "$builddir" -j"$(nproc)"
