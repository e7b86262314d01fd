#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The "bench" ctest: the benchmark programs run on tiny CRLs (no timing is checked; OpenVPN not needed).
# usage: smoke.sh GEN_CRL BENCH_CRL RELOAD_BENCH PLUGIN_SO
set -eu
gen=$1 bench=$2 reload=$3 plugin=$4
dir=$(mktemp -d "${TMPDIR:-/tmp}/crlsync-bench-smoke-XXXXXX")
trap 'rm -rf "$dir"' EXIT

"$gen" -q -n 2000 -o "$dir/base.der" --ca "$dir/ca.pem" --ca-key "$dir/ca.key" --new-ca --number 1 --reasons
"$gen" -q -n 2000 -o "$dir/next.der" --ca "$dir/ca.pem" --ca-key "$dir/ca.key" --number 2 --seed 2 --revoke 0BADC0DE
"$gen" -q -n 0 -o "$dir/empty.der" --ca "$dir/ca.pem" --ca-key "$dir/ca.key" --number 0
"$gen" -q -n 100 -o "$dir/alg.pem" --alg ed25519 --pem
if command -v openssl >/dev/null; then
  openssl crl -inform DER -in "$dir/base.der" -CAfile "$dir/ca.pem" -noout
  openssl crl -in "$dir/alg.pem" -CAfile "$dir/alg.pem.ca.pem" -noout
fi
"$bench" --crl "$dir/base.der" --ca "$dir/ca.pem" --lookups 20000 --json "$dir/r.jsonl"
"$reload" --plugin "$plugin" --ca "$dir/ca.pem" --ca-key "$dir/ca.key" --empty "$dir/empty.der" \
  --base "$dir/base.der" --next "$dir/next.der" --probe-serial 0BADC0DE --window-ms 100 --json "$dir/r.jsonl"
grep -q '"bench":"crl"' "$dir/r.jsonl"
grep -q '"bench":"reload"' "$dir/r.jsonl"
echo "bench smoke: ok"
