#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""fetch_bench: time and peak RSS of `crlsync fetch` downloading, verifying and installing a big CRL
from a real nginx on 127.0.0.1, then of the second fetch (a 304: no body, no parse).

    /usr/bin/python3 bench/fetch_bench.py --crlsync build-bench/fetcher/crlsync --maxrss build-bench/bench/maxrss \
        --gen-crl build-bench/bench/gen_crl --entries 1000000 [--runs 3] [--reasons] [--json out.jsonl]

Reuses tests/integration/fetcher_harness.py (nginx with its own config and logs in a temp dir,
conditional GETs answered by nginx itself). Each `crlsync fetch` runs under bench/maxrss, which
forks, execs and reaps it with wait4(): its peak RSS is the kernel's ru_maxrss of that process
alone, whatever the fetcher does inside. Each
first fetch starts from an empty cache-dir (no state, no validators).
"""

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import harness  # noqa: E402,F401  (puts tests/fixtures on sys.path)
import fetcher_harness  # noqa: E402
from fetcher_harness import FetchEnv  # noqa: E402


def run_fetch(env: FetchEnv, maxrss: str) -> dict:
    """One `crlsync -c CONFIG fetch` under bench/maxrss (Python's own RSS would leak into a
    ru_maxrss read here): exit status, wall seconds, peak RSS in bytes, stderr."""
    res = env.dir / "maxrss.out"
    p = subprocess.run([maxrss, str(res), *env.argv("fetch")], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=1200)
    rss, seconds = res.read_text().split()
    return {"rc": p.returncode, "seconds": float(seconds), "maxrss": int(rss), "stderr": p.stderr.decode(errors="replace")}


def same_file(a: Path, b: Path) -> bool:
    """Compared by SHA-256 in chunks: this process stays small."""
    def digest(p: Path) -> bytes:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.digest()
    return a.exists() and b.exists() and digest(a) == digest(b)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--crlsync", required=True)
    p.add_argument("--gen-crl", required=True)
    p.add_argument("--entries", type=int, default=1000000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--maxrss", required=True, help="bench/maxrss executable")
    p.add_argument("--reasons", action="store_true", help="a reasonCode on every entry")
    p.add_argument("--json")
    a = p.parse_args()
    fetcher_harness.check_environment(a.crlsync)

    with FetchEnv(a.crlsync, "bench") as env:
        env.start_nginx()
        pki = env.pki.dir
        crl = env.dir / "big.crl"
        subprocess.run([a.gen_crl, "-q", "-n", str(a.entries), "-o", str(crl), "--ca", str(pki / "issuing.crt"),
                        "--ca-key", str(pki / "issuing.key")] + (["--reasons"] if a.reasons else []), check=True)
        size = crl.stat().st_size
        os.link(crl, env.www / ".issuing.crl.pub")  # env.publish() without holding the bytes here
        os.utime(env.www / ".issuing.crl.pub", (time.time() - 3600, time.time() - 3600))
        os.rename(env.www / ".issuing.crl.pub", env.www / "issuing.crl")
        env.write_config({"issuing": [env.url("issuing.crl")]}, global_lines=["max-size = 1024M", "timeout = 300"])

        first, second = [], []
        for _ in range(a.runs):
            shutil.rmtree(env.cache, ignore_errors=True)
            mark = env.nginx.mark()
            r1 = run_fetch(env, a.maxrss)
            if r1["rc"] != 0:
                print(f"fetch failed (exit {r1['rc']}):\n{r1['stderr']}", file=sys.stderr)
                return 1
            if not same_file(env.crl_path("issuing"), crl):
                print("the installed CRL differs from the published one", file=sys.stderr)
                return 1
            first.append(r1)
            mark = env.nginx.mark()
            r2 = run_fetch(env, a.maxrss)
            reqs = env.nginx.wait_requests(mark, "/issuing.crl")
            r2["status"] = reqs[-1].status if reqs else None
            r2["bytes"] = reqs[-1].bytes if reqs else None
            second.append(r2)

        def med(rs, k):
            return statistics.median(r[k] for r in rs)

        res = {"bench": "fetch", "entries": a.entries, "file_bytes": size,
               "first_seconds": med(first, "seconds"), "first_maxrss": med(first, "maxrss"),
               "second_seconds": med(second, "seconds"), "second_maxrss": med(second, "maxrss"),
               "second_status": second[-1]["status"], "second_body_bytes": second[-1]["bytes"],
               "runs": a.runs}
        st = second[-1]["status"]
        print(f"\n### crlsync fetch from nginx on 127.0.0.1: {a.entries} entries, {size / 1048576:.1f} MiB DER"
              f" (median of {a.runs})\n")
        print("| | time | peak RSS (ru_maxrss) | target |")
        print("|---|---:|---:|---|")
        print(f"| first fetch: download + verify + install | {res['first_seconds'] * 1e3:.0f} ms | "
              f"{res['first_maxrss'] / 1048576:.1f} MiB | <= 1 s, <= 64 MiB |")
        print(f"| second fetch: HTTP {st}, {second[-1]['bytes']} body bytes | {res['second_seconds'] * 1e3:.0f} ms | "
              f"{res['second_maxrss'] / 1048576:.1f} MiB | a 304 and no parse |")
        if st != 304:
            print(f"\nWARNING: the second fetch got HTTP {st}, not 304")
        if a.json:
            with open(a.json, "a") as f:
                f.write(json.dumps(res) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
