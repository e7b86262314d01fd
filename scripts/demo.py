#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The crlsync demo on loopback: a throwaway CA publishes its CRLs on a local nginx, the crlsync
# daemon verifies and installs them, a real OpenVPN server with the plugin accepts a good client
# and rejects a revoked one, then a live revocation reaches the gateway after `crlsync refresh`.
import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

import fetcher_harness  # noqa: E402
import harness  # noqa: E402
from gen import Entry, to_pem  # noqa: E402


def say(msg: str = "") -> None:
    print(msg, flush=True)


def plugin_line(text: str, pattern: str) -> str:
    m = re.search(r"crlsync: (" + pattern + r"[^\n]*)", text)
    return m.group(1) if m else "(no plugin line)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--crlsync", required=True)
    args = ap.parse_args()
    harness.log = fetcher_harness.log = lambda msg: None  # the demo narrates itself
    crlsync = str(Path(args.crlsync).resolve())

    with harness.Env(args.plugin, "demo") as env:
        say("1. A throwaway PKI: root CA -> issuing CA -> server, alice (serial 05), bob (serial 0B).")
        alice = env.client("alice", serial=0x05)
        bob = env.client("bob", serial=0x0B)
        say(f"   in {env.dir}")

        say("2. The CA publishes its CRLs on a local web server (nginx on 127.0.0.1):")
        www = env.dir / "www"
        www.mkdir(mode=0o755)
        nginx = fetcher_harness.Nginx(env.dir / "nginx", www).start()
        env.procs.append(nginx.proc)

        def publish(name: str, data: bytes) -> None:
            tmp = www / f".{name}"
            tmp.write_bytes(data)
            tmp.chmod(0o644)
            tmp.rename(www / name)

        publish("root.crl", env.crl(env.pki.root, [], number=1))
        publish("issuing.pem", to_pem(env.crl(env.pki.issuing, [Entry(0x0B, reason="keyCompromise")], number=1)))
        base = f"http://127.0.0.1:{nginx.port}"
        say(f"   {base}/root.crl (DER, revokes nothing), {base}/issuing.pem (PEM, number 1, revokes bob)")

        env.config.write_text(f"""[global]
cache-dir = {env.cache}
interval = 1h

[plugin]
missing = reject
expired = reject
management = unix:{env.dir}/mgmt.sock
marks-file = {env.marks}

[source root]
url = {base}/root.crl
ca = {env.pki.root_crt}

[source issuing]
url = http://127.0.0.1:1/down-mirror.crl
url = {base}/issuing.pem
ca = {env.pki.issuing_crt}
""")
        env.config.chmod(0o644)

        say("3. The crlsync daemon fetches, verifies and installs them (the first mirror of issuing is down):")
        pidfile = env.dir / "crlsync.pid"
        dlog = env.dir / "crlsync.log"
        with open(dlog, "wb") as f:
            daemon = subprocess.Popen([crlsync, "-c", str(env.config), "daemon", "--pidfile", str(pidfile)],
                                      stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
        env.procs.append(daemon)
        deadline = time.monotonic() + 10
        while not ((env.cache / "root.crl").exists() and (env.cache / "issuing.crl").exists()):
            if time.monotonic() > deadline or daemon.poll() is not None:
                raise harness.Failure("the daemon installed nothing:\n" + dlog.read_text())
            time.sleep(0.02)
        time.sleep(0.1)
        for line in dlog.read_text().splitlines():
            say("   " + line)

        say("4. A real OpenVPN server starts on 127.0.0.1 with the plugin reading that cache:")
        srv = env.start_server(extra=[f"management {env.dir}/mgmt.sock unix"])
        say(f"   openvpn pid {srv.pid}, port {srv.port}/udp")
        say("   " + plugin_line(srv.log.text(), r"started"))

        say("5. alice connects:")
        r = env.connect(alice, expect="accepted")
        say(f"   ACCEPTED in {r.seconds:.2f} s (the server pushed her configuration)")

        say("6. bob connects:")
        r = env.connect(bob, expect="rejected")
        say("   REJECTED: " + plugin_line(r.server_log, r"REJECT"))

        say("   alice connects again and stays connected:")
        alice_session = env.start_client(alice, extra=["--ping", "1"])
        say(f"   alice's tunnel is up (openvpn client pid {alice_session.proc.pid})")

        say("7. Live revocation: the CA revokes alice and publishes CRL number 2; the admin runs `crlsync refresh`.")
        publish("issuing.pem", to_pem(env.crl(env.pki.issuing, [
            Entry(0x0B, reason="keyCompromise"), Entry(0x05, reason="affiliationChanged")], number=2)))
        mark = srv.mark()
        t0 = time.monotonic()
        out = subprocess.run([crlsync, "-c", str(env.config), "refresh", "--pidfile", str(pidfile)],
                             capture_output=True, text=True, check=True).stdout.strip()
        say("   " + out)
        srv.wait_for_log(r"crlsync: reload:", timeout=10, since=mark)
        say(f"   the gateway enforces CRL number 2 {(time.monotonic() - t0) * 1000:.0f} ms later:")
        say("   " + plugin_line(srv.log.text(mark), r"reload:"))

        srv.wait_for_log(r"crlsync: EVICT [^\n]*CN=alice", timeout=15, since=mark)
        say(f"   alice, still connected, is evicted {(time.monotonic() - t0) * 1000:.0f} ms after the refresh:")
        say("   " + plugin_line(srv.log.text(mark), r"EVICT"))
        try:
            alice_session.proc.wait(timeout=10)
            say(f"   her client was told to halt and exited (status {alice_session.proc.returncode}).")
        except subprocess.TimeoutExpired:
            raise harness.Failure("alice's client is still running after her eviction")

        say("8. alice tries to connect again:")
        r = env.connect(alice, expect="rejected")
        say("   REJECTED: " + plugin_line(r.server_log, r"REJECT"))

        say("9. The web server is tampered with: it now serves the old CRL number 1 (alice not revoked).")
        publish("issuing.pem", to_pem(env.crl(env.pki.issuing, [Entry(0x0B, reason="keyCompromise")], number=1)))
        rc = subprocess.run([crlsync, "-c", str(env.config), "fetch"], capture_output=True, text=True)
        for line in rc.stderr.splitlines():
            if "rollback" in line:
                say("   " + line)
        say(f"   `crlsync fetch` exits {rc.returncode}: the installed CRL number 2 stays.")
        env.connect(alice, expect="rejected")
        say("   alice is still REJECTED.")

        say("10. crlsync status:")
        st = subprocess.run([crlsync, "-c", str(env.config), "status"], capture_output=True, text=True)
        for line in st.stdout.splitlines():
            say("   " + line)
        chk = subprocess.run([crlsync, "-c", str(env.config), "check", str(alice.crt), str(bob.crt)],
                             capture_output=True, text=True)
        say(f"11. crlsync check alice.crt bob.crt (exit {chk.returncode}):")
        for line in chk.stdout.splitlines():
            say("   " + line)
    say()
    say("Demo complete: OpenVPN, nginx, the daemon and the clients were stopped and the temp dir removed.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except harness.Failure as e:
        print(f"demo FAILED: {e}", file=sys.stderr)
        sys.exit(1)
