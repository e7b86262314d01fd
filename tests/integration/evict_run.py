#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Runs one eviction scenario (evict_scenarios.py) against a real OpenVPN server with the plugin
and a management interface (one ctest each: integration.evict_<name>).

    /usr/bin/python3 evict_run.py --plugin build/plugin/openvpn-plugin-crlsync.so revoked_leaf
    /usr/bin/python3 evict_run.py --list

Exit 0 pass, 1 fail, 77 skip (a missing component, only when CI is not "true"; the same rule as
run.py).
"""

import argparse
import signal
import sys
import time
import traceback
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import _missing  # noqa: E402  (the same skip rule as the OpenVPN suite)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--plugin", help="path of openvpn-plugin-crlsync.so")
    p.add_argument("--list", action="store_true", help="print the scenario names")
    p.add_argument("--check-list", nargs="*", metavar="NAME",
                   help="fail unless NAME... is exactly the set of scenarios (keeps CMakeLists.txt in step)")
    p.add_argument("scenario", nargs="*")
    a = p.parse_args()

    try:
        import harness
        from evict_scenarios import SCENARIOS
    except ImportError as e:  # python3-cryptography missing
        return _missing(f"cannot import the harness ({e}); use Debian's /usr/bin/python3 with python3-cryptography")

    if a.list:
        print("\n".join(SCENARIOS))
        return 0
    if a.check_list is not None:
        want, have = set(a.check_list), set(SCENARIOS)
        if want != have:
            print(f"FAIL: CMakeLists.txt lacks {sorted(have - want)}; unknown there: {sorted(want - have)}")
            return 1
        print(f"{len(have)} eviction scenarios registered")
        return 0
    if not a.plugin or not a.scenario:
        p.error("--plugin and a scenario are needed")
    unknown = [s for s in a.scenario if s not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s) {unknown}; known: {', '.join(SCENARIOS)}")
    try:
        harness.check_environment(a.plugin)
    except harness.Skip as e:
        return _missing(str(e))

    def on_term(signum, frame):
        # ctest's TIMEOUT: unwind so that every Env kills its processes.
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    failed = 0
    for name in a.scenario:
        t0 = time.monotonic()
        harness.log(f"scenario evict_{name}: {SCENARIOS[name].__doc__.strip().splitlines()[0]}")
        try:
            SCENARIOS[name](a.plugin)
        except harness.Failure as e:
            failed += 1
            print(f"FAIL: evict_{name} ({time.monotonic() - t0:.1f} s)\n{e}", flush=True)
        except KeyboardInterrupt as e:
            failed += 1
            print(f"INTERRUPTED: evict_{name} ({e})", flush=True)
            break
        except Exception:
            failed += 1
            print(f"ERROR: evict_{name}\n{traceback.format_exc()}", flush=True)
        else:
            print(f"PASS: evict_{name} ({time.monotonic() - t0:.1f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
