#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs integration scenarios (one ctest each) of one suite:
  openvpn  (scenarios.py)          a real OpenVPN server with the plugin            --plugin SO
  evict    (evict_scenarios.py)    the same with a management interface, eviction    --plugin SO
  fetcher  (fetcher_scenarios.py)  the real crlsync executable against a real nginx  --crlsync EXE
  strongswan (strongswan_scenarios.py) crlsync handing CRLs to a real charon (vici), IKEv2  --crlsync EXE

    /usr/bin/python3 run.py --plugin build/plugin/openvpn-plugin-crlsync.so revoked
    /usr/bin/python3 run.py --suite evict --plugin build/plugin/openvpn-plugin-crlsync.so revoked_leaf
    /usr/bin/python3 run.py --suite fetcher --crlsync build/fetcher/crlsync first_install
    /usr/bin/python3 run.py [--suite S] --list

Exit 0 pass, 1 fail, 77 skip (a missing component, only when CI is not "true": under CI a
missing component is a failure, because .ci/run installs everything).
"""

import argparse
import os
import signal
import sys
import time
import traceback
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))

EXIT_SKIP = 77


def _missing(what: str) -> int:
    if os.environ.get("CI") == "true":
        print(f"FAIL: {what} (CI=true: a missing component is a failure)", flush=True)
        return 1
    print(f"SKIP: {what}", flush=True)
    return EXIT_SKIP


# suite -> (scenario module, what the scenarios take, prefix of the ctest names)
SUITES = {
    "openvpn": ("scenarios", "plugin", ""),
    "evict": ("evict_scenarios", "plugin", "evict_"),
    "fetcher": ("fetcher_scenarios", "crlsync", "fetcher_"),
    "strongswan": ("strongswan_scenarios", "crlsync", "strongswan_"),
    "consumers": ("consumers_scenarios", "crlsync", "consumers_"),
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--suite", choices=SUITES, default="openvpn")
    p.add_argument("--plugin", help="path of openvpn-plugin-crlsync.so (openvpn, evict)")
    p.add_argument("--crlsync", help="path of the crlsync executable (fetcher)")
    p.add_argument("--list", action="store_true", help="print the scenario names")
    p.add_argument("--check-list", nargs="*", metavar="NAME",
                   help="fail unless NAME... is exactly the set of scenarios (keeps CMakeLists.txt in step)")
    p.add_argument("scenario", nargs="*")
    a = p.parse_args()
    module, takes, prefix = SUITES[a.suite]

    try:
        import importlib
        import harness
        import fetcher_harness
        SCENARIOS = importlib.import_module(module).SCENARIOS
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
        print(f"{len(have)} {a.suite} scenarios registered")
        return 0
    target = getattr(a, takes)
    if not target or not a.scenario:
        p.error(f"--{takes} and a scenario are needed for the {a.suite} suite")
    unknown = [s for s in a.scenario if s not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s) {unknown}; known: {', '.join(SCENARIOS)}")
    try:
        if a.suite == "strongswan":
            importlib.import_module("strongswan_harness").check_environment(target)
        else:
            (fetcher_harness if takes == "crlsync" else harness).check_environment(target)
    except harness.Skip as e:
        return _missing(str(e))

    def on_term(signum, frame):
        # ctest's TIMEOUT: unwind so that every Env kills its processes (and tun devices).
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    failed = 0
    for name in a.scenario:
        t0 = time.monotonic()
        label = prefix + name
        harness.log(f"scenario {label}: {SCENARIOS[name].__doc__.strip().splitlines()[0]}")
        try:
            SCENARIOS[name](target)
        except harness.Failure as e:
            failed += 1
            print(f"FAIL: {label} ({time.monotonic() - t0:.1f} s)\n{e}", flush=True)
        except KeyboardInterrupt as e:
            failed += 1
            print(f"INTERRUPTED: {label} ({e})", flush=True)
            break
        except Exception:
            failed += 1
            print(f"ERROR: {label}\n{traceback.format_exc()}", flush=True)
        else:
            print(f"PASS: {label} ({time.monotonic() - t0:.1f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
