#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
# The crlsync demo on loopback: a throwaway CA, CRLs in the cache, a real OpenVPN server with the
# plugin, a good and a revoked client, then a live revocation. Prints what happens in plain words.
import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

import harness  # noqa: E402
from gen import Entry, to_pem  # noqa: E402


def say(msg: str = "") -> None:
    print(msg, flush=True)


def plugin_line(text: str, pattern: str) -> str:
    m = re.search(r"crlsync: (" + pattern + r".*)", text)
    return m.group(1) if m else "(no plugin line)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--plugin", required=True)
    args = ap.parse_args()
    harness.log = lambda msg: None  # the demo narrates itself

    with harness.Env(args.plugin, "demo") as env:
        say("1. A throwaway PKI: root CA -> issuing CA -> server, alice (serial 05), bob (serial 0B).")
        alice = env.client("alice", serial=0x05)
        bob = env.client("bob", serial=0x0B)
        say(f"   in {env.dir}")

        say("2. The CA publishes its CRLs; they land in the plugin's cache-dir:")
        env.write_config()
        env.install("root.crl", env.crl(env.pki.root, [], number=1))
        env.install("issuing.crl", to_pem(env.crl(env.pki.issuing, [Entry(0x0B, reason="keyCompromise")],
                                                  number=1)))
        say("   root.crl (DER, revokes nothing) and issuing.crl (PEM, number 1, revokes bob: keyCompromise)")

        say("3. A real OpenVPN server starts on 127.0.0.1 with the plugin:")
        srv = env.start_server()
        say(f"   openvpn pid {srv.pid}, port {srv.port}/udp, "
            f"plugin {env.plugin.name} {env.config}")
        say("   " + plugin_line(srv.log.text(), r"started"))

        say("4. alice connects:")
        r = env.connect(alice, expect="accepted")
        say(f"   ACCEPTED in {r.seconds:.2f} s (the server pushed her configuration)")

        say("5. bob connects:")
        r = env.connect(bob, expect="rejected")
        say("   REJECTED: " + plugin_line(r.server_log, r"REJECT"))

        say("6. Live revocation: the CA revokes alice; CRL number 2 is renamed into the cache.")
        mark = srv.mark()
        dt = env.install_and_wait("issuing.crl", env.crl(env.pki.issuing, [
            Entry(0x0B, reason="keyCompromise"), Entry(0x05, reason="affiliationChanged")], number=2))
        say(f"   the plugin reloaded {dt * 1000:.0f} ms after the rename, on its own thread:")
        say("   " + plugin_line(srv.log.text(mark), r"reload:"))

        say("7. alice connects again:")
        r = env.connect(alice, expect="rejected")
        say("   REJECTED: " + plugin_line(r.server_log, r"REJECT"))

        say("8. Someone puts the old CRL (number 1, alice not revoked) back: a rollback.")
        mark = srv.mark()
        env.install_and_wait("issuing.crl", env.crl(env.pki.issuing, [Entry(0x0B, reason="keyCompromise")],
                                                     number=1), pattern=r"refused: rollback")
        say("   " + plugin_line(srv.log.text(mark), r".*refused").strip())
        r = env.connect(alice, expect="rejected")
        say("   alice is still REJECTED: revocations are never silently undone.")

        say("9. A corrupt file replaces the CRL:")
        mark = srv.mark()
        env.install_and_wait("issuing.crl", b"this is not a CRL\n", pattern=r"refused")
        say("   " + plugin_line(srv.log.text(mark), r".*refused").strip())
        env.connect(alice, expect="rejected")
        env.connect(env.client("carol", serial=0x0C), expect="accepted")
        say("   alice is still REJECTED and carol (never revoked) is ACCEPTED: the good CRL stayed in force.")
    say()
    say("Demo complete: the server and clients were stopped and the temp dir removed.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except harness.Failure as e:
        print(f"demo FAILED: {e}", file=sys.stderr)
        sys.exit(1)
