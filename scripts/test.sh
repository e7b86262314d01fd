#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The whole test suite from a fresh Debian 12 machine: packages, builds (clang and gcc), one ctest run.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
# gcc must stay warning-free too; its build is only compiled, the tests run from the clang tree.
cmake -S . -B build-gcc -DCMAKE_C_COMPILER=gcc -DCRLSYNC_WERROR=ON >/dev/null
cmake --build build-gcc -j"$(nproc)" >/dev/null
scripts/build.sh
# One ctest run, so that its summary line covers everything: unit (plain, ASan+UBSan, valgrind),
# fuzz (short runs of every target) and integration (real OpenVPN on loopback).
cd build
exec ctest --output-on-failure -j1 "$@"
