#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds (Release, build-bench/) and runs every benchmark, printing markdown tables beside the anchors of the
# performance issue, then one growth table; never fails on a time. See docs/PERFORMANCE.md.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

usage() {
  cat <<'EOF'
usage: scripts/bench.sh [--quick] [--no-10m] [--sizes "1000 100000 1000000 10000000"]
                        [--openvpn-sizes "1000 100000 1000000"] [--fetch-sizes "..."] [--connects N]
                        [--reasons] [--out DIR] [--skip crl,reload,openvpn,fetch,scan]
  --quick     sizes 1000 and 100000 only, 5 connects (a minute)
  --no-10m    leave 10M entries out (the 10M column takes about 3 more minutes, most of it OpenSSL's own load)
  --reasons   a reasonCode extension on every entry (OpenSSL then needs ~2x the time and 1.7x the memory;
              the issue's anchors match CRLs without, the default)
Environment: BUILD_DIR (default build-bench), PYTHON (default /usr/bin/python3).
Needs root for the OpenVPN benchmark (tun device) and nginx for the fetch benchmark (scripts/deps.sh).
EOF
}

sizes="1000 100000 1000000 10000000"
openvpn_sizes="1000 100000 1000000"
fetch_sizes=""
connects=15
out=""
skip=""
reasons=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) sizes="1000 100000"; openvpn_sizes="1000 100000"; connects=5 ;;
    --no-10m) sizes=$(echo "$sizes" | tr ' ' '\n' | grep -vx 10000000 | tr '\n' ' ') ;;
    --sizes) sizes=$2; shift ;;
    --openvpn-sizes) openvpn_sizes=$2; shift ;;
    --fetch-sizes) fetch_sizes=$2; shift ;;
    --connects) connects=$2; shift ;;
    --out) out=$2; shift ;;
    --skip) skip=$2; shift ;;
    --reasons) reasons=(--reasons) ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
fetch_sizes=${fetch_sizes:-$sizes}
build=${BUILD_DIR:-build-bench}
py=${PYTHON:-/usr/bin/python3}
out=${out:-$build/bench-results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
json=$out/results.jsonl
: >"$json"
report=$out/report.md
skipped() { case ",$skip," in *",$1,"*) return 0 ;; esac; return 1; }
in_list() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

echo "bench.sh: building ($build, Release)..." >&2
if ! { cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Release >/dev/null &&
       cmake --build "$build" -j"$(nproc)" >"$out/build.log" 2>&1; }; then
  echo "bench.sh: the build failed; see $out/build.log" >&2
  tail -20 "$out/build.log" >&2
  exit 1
fi
gen=$build/bench/gen_crl
work=$(mktemp -d "${TMPDIR:-/tmp}/crlsync-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT

{
  echo "# crlsync benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "| machine | |"
  echo "|---|---|"
  echo "| CPU | $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores |"
  echo "| RAM | $(free -g | awk '/^Mem:/ {print $2}') GiB |"
  echo "| kernel | $(uname -r) |"
  echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine makes timings noisy) |"
  echo "| OpenSSL | $(openssl version | cut -d' ' -f1-2) |"
  echo "| OpenVPN | $(openvpn --version 2>/dev/null | head -1 | cut -d' ' -f1-2) |"
  echo "| compiler | $(clang --version | head -1) |"
  echo "| CRLs | rsa2048/sha256, 20-byte random serials, $([ ${#reasons[@]} -gt 0 ] && echo 'a reasonCode on every entry' || echo 'no entry extensions') |"
  echo "| commit | $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' + local changes') |"
} | tee "$report"

# One CA for every size; per size a base CRL (number 1), its replacement (number 2, revoking the probe
# serial of reload_bench) and an empty CRL (number 0) for the per-entry baseline.
probe=0BADC0DE
"$gen" -q -n 0 -o "$work/empty.der" --ca "$work/ca.pem" --ca-key "$work/ca.key" --new-ca --number 0
for n in $sizes; do
  t0=$(date +%s%N)
  "$gen" -q -n "$n" -o "$work/base-$n.der" --ca "$work/ca.pem" --ca-key "$work/ca.key" --number 1 --seed 1 "${reasons[@]}"
  "$gen" -q -n "$n" -o "$work/next-$n.der" --ca "$work/ca.pem" --ca-key "$work/ca.key" --number 2 --seed 2 "${reasons[@]}" \
    --revoke "$probe"
  echo "bench.sh: two CRLs of $n entries generated in $(( ($(date +%s%N) - t0) / 1000000 )) ms" >&2
done

for n in $sizes; do
  if ! skipped crl; then
    "$build/bench/bench_crl" --crl "$work/base-$n.der" --ca "$work/ca.pem" --label "CRL of $n entries" \
      --json "$json" | tee -a "$report" || echo "bench.sh: bench_crl failed for $n entries" | tee -a "$report"
  fi
  if ! skipped reload; then
    "$build/bench/reload_bench" --plugin "$build/plugin/openvpn-plugin-crlsync.so" --ca "$work/ca.pem" \
      --ca-key "$work/ca.key" --empty "$work/empty.der" --base "$work/base-$n.der" --next "$work/next-$n.der" \
      --probe-serial "$probe" --label "($n entries)" --json "$json" | tee -a "$report" ||
      echo "bench.sh: reload_bench failed for $n entries" | tee -a "$report"
  fi
done
rm -f "$work"/base-*.der "$work"/next-*.der

for n in $sizes; do
  if ! skipped openvpn && in_list "$n" "$openvpn_sizes"; then
    "$py" bench/openvpn_bench.py --plugin "$build/plugin/openvpn-plugin-crlsync.so" --gen-crl "$gen" \
      --entries "$n" --connects "$connects" "${reasons[@]}" --json "$json" 2>>"$out/openvpn.log" | tee -a "$report" ||
      echo "bench.sh: openvpn_bench failed for $n entries (see $out/openvpn.log)" | tee -a "$report"
  fi
  if ! skipped fetch && in_list "$n" "$fetch_sizes"; then
    "$py" bench/fetch_bench.py --crlsync "$build/fetcher/crlsync" --maxrss "$build/bench/maxrss" \
      --gen-crl "$gen" --entries "$n" "${reasons[@]}" \
      --runs "$([ "$n" -ge 10000000 ] && echo 1 || echo 3)" --json "$json" 2>>"$out/fetch.log" | tee -a "$report" ||
      echo "bench.sh: fetch_bench failed for $n entries (see $out/fetch.log)" | tee -a "$report"
  fi
done

# Stray files in cache-dir: what they cost each reload (issue 10, item 6; target: 10,000 under 50 ms).
if ! skipped scan; then
  echo "### Reload with stray files in cache-dir (store_loader_load)" | tee -a "$report"
  TMPDIR=$work "$build/bench/scan_bench" 0 10000 40000 | tee -a "$report" ||
    echo "bench.sh: scan_bench failed" | tee -a "$report"
fi

"$py" bench/report.py "$json" | tee -a "$report"
echo >&2
echo "bench.sh: report in $report, raw figures in $json" >&2
exit 0
