#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""openvpn_bench: client connect latency, server memory and server stalls of a real OpenVPN 2.6 on
127.0.0.1 with no CRL, with OpenVPN's own `crl-verify`, and with the crlsync plugin, side by side.

    /usr/bin/python3 bench/openvpn_bench.py --plugin build-bench/plugin/openvpn-plugin-crlsync.so \
        --gen-crl build-bench/bench/gen_crl --entries 1000000 [--connects 15] [--reasons] [--json out.jsonl]

For each configuration one server (tests/integration/harness.py's PKI, processes and logs) with a
management interface on 127.0.0.1, probed by a thread that sends `pid` every 2 ms over one
connection and records how long each answer takes: OpenVPN answers on its single event loop, so
the longest answer is the longest time the whole server stood still. Then:
  * N sequential client connects (`dev null` clients); latency = client start -> PUSH_REPLY in
    the client's log (OpenVPN's own microsecond timestamps, not a poll);
  * the CRL is replaced by another as large (crl-verify: the PEM file; plugin: a DER file renamed
    into cache-dir), and one client connects 1 s later (crl-verify re-reads the file at the next
    connection; the plugin may still be loading); the longest probe answer from the replacement to
    the end of that connection (plugin: or to its reload line, whichever is later) is the stall;
    the connect latency during it is reported too;
  * server RSS (VmRSS after the connects) and peak (VmHWM since start, and during the replacement).
Never fails on a time; exits non-zero only when something does not work at all.
"""

import argparse
import datetime
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import harness  # noqa: E402  (puts tests/fixtures on sys.path)
import gen  # noqa: E402  (tests/fixtures/gen.py)
from harness import OPENVPN, Env, LogFile, Server, free_port, log, random_subnet  # noqa: E402

ANCHORS = {"connect_none_ms": 25.7, "connect_crl_verify_ms": 775, "stall_s": 3.0, "rss_steady_mib": 248,
           "rss_peak_mib": 367}


def proc_status(pid: int) -> dict:
    """VmRSS and VmHWM of a process, in bytes."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            out[k] = int(v.split()[0]) * 1024
    return out


def reset_hwm(pid: int) -> None:
    """Resets the VmHWM of a process to its current RSS (Linux 4.0+; root)."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


LOG_TS = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) us=(\d+) ")


def log_time(line: str) -> Optional[float]:
    """The epoch time of an OpenVPN --log line ("2026-11-27 15:00:50 us=562584 ..."), local time."""
    m = LOG_TS.match(line)
    if not m:
        return None
    return time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1e6


class Probe(threading.Thread):
    """Asks OpenVPN's management interface `pid` every `interval` s over one connection and records
    (sent at, seconds to answer)."""

    def __init__(self, port: int, interval: float = 0.002):
        super().__init__(daemon=True)
        self.port = port
        self.interval = interval
        self.samples: List[tuple] = []
        self.stop = threading.Event()
        self.error: Optional[str] = None
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self._until(b">INFO:")
        self._until(b"\n")

    def _until(self, token: bytes) -> None:
        while token not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("management interface closed the connection")
            self.buf += chunk
        self.buf = self.buf.split(token, 1)[1]

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                t0 = time.monotonic()
                self.sock.sendall(b"pid\n")
                self._until(b"SUCCESS: pid=")
                self._until(b"\n")
                self.samples.append((t0, time.monotonic() - t0))
                time.sleep(self.interval)
        except Exception as e:  # the server went away: report, do not hang
            self.error = str(e)

    def max_between(self, t0: float, t1: float) -> float:
        return max((d for (t, d) in self.samples if t0 <= t <= t1), default=0.0)

    def close(self) -> None:
        self.stop.set()
        self.join(timeout=10)
        try:
            self.sock.sendall(b"quit\n")
        except OSError:
            pass
        self.sock.close()


class Bench:
    """One configuration's server in an Env."""

    def __init__(self, env: Env, name: str, lines: List[str]):
        self.env = env
        self.name = name
        self.mgmt_port = free_port(socket.SOCK_STREAM)
        self.server = self._start(lines + [f"management 127.0.0.1 {self.mgmt_port}"])
        self.probe = Probe(self.mgmt_port)
        self.probe.start()

    def _start(self, extra: List[str]) -> Server:
        """harness.Env.start_server without the mandatory plugin line."""
        env = self.env
        port = free_port(socket.SOCK_DGRAM)
        slug = re.sub(r"[^A-Za-z0-9]+", "-", self.name).strip("-")
        logp = env.dir / f"server-{slug}.log"
        conf = env.dir / f"server-{slug}.conf"
        lines = ["mode server", "tls-server", "proto udp4", "local 127.0.0.1", f"port {port}", "dev tun",
                 "topology subnet", f"server {random_subnet()} 255.255.255.0", f"ca {env.pki.ca_bundle}",
                 f"cert {env.pki.server_crt}", f"key {env.pki.server_key}", "dh none", "verb 4", f"log {logp}",
                 *extra]
        conf.write_text("\n".join(lines) + "\n")
        t0 = time.monotonic()
        proc = env.spawn([OPENVPN, "--config", str(conf)], env.dir / f"server-{slug}.stdout")
        srv = Server(proc, LogFile(logp), port, conf, "udp4")
        env.server = srv
        srv.wait_for_log(r"Initialization Sequence Completed", 120)
        self.startup = time.monotonic() - t0
        log(f"{self.name}: server pid {proc.pid} up in {self.startup:.2f} s")
        return srv

    def connect(self, cf: gen.ClientFiles, timeout: float = 60.0) -> float:
        """One client to PUSH_REPLY; returns seconds from its start to the PUSH_REPLY line."""
        env = self.env
        env._n_clients += 1
        logp = env.dir / f"client{env._n_clients}.log"
        argv = env._client_argv(cf, logp, [], hand_window=timeout)
        t0 = time.time()
        proc = env.spawn(argv, logp.with_suffix(".stdout"))
        clog = LogFile(logp)
        try:
            m = clog.wait_for(r"^.*PUSH_REPLY.*$", timeout, 0, proc, what=f"client of {self.name}")
        finally:
            harness.kill_proc(proc)
            env.procs.remove(proc)
        t = log_time(m.group(0))
        if t is None:
            raise RuntimeError(f"no timestamp on {m.group(0)!r}")
        return t - t0

    def close(self) -> None:
        self.probe.close()
        harness.kill_proc(self.server.proc)


def pct(v: List[float], p: float) -> float:
    s = sorted(v)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.4999)) - 1))]


def run_config(env: Env, name: str, lines: List[str], cf: gen.ClientFiles, connects: int, replace,
               done: Optional[str] = None) -> dict:
    """Starts the server, measures, replaces the CRL with `replace()` (None: nothing to replace).
    `done`: a server log line that ends the replacement (the plugin's reload line); the stall window
    lasts until it appears, however long the reload takes."""
    b = Bench(env, name, lines)
    res = {"config": name, "startup_s": b.startup}
    try:
        b.connect(cf)  # warm-up: page cache, first-connection paths
        lat = []
        for _ in range(connects):
            lat.append(b.connect(cf))
            time.sleep(0.05)
        st = proc_status(b.server.pid)
        res.update(connect_median_s=statistics.median(lat), connect_p90_s=pct(lat, 90), connect_max_s=max(lat),
                   rss_steady=st["VmRSS"], hwm_since_start=st["VmHWM"],
                   probe_max_steady_s=b.probe.max_between(0, time.monotonic()))
        if replace is not None:
            reset_hwm(b.server.pid)
            mark = b.server.mark()
            t_replace = time.monotonic()
            replace()
            time.sleep(1.0)
            t_conn = time.monotonic()
            res["connect_after_replace_s"] = b.connect(cf)
            if done is not None:
                b.server.wait_for_log(done, 600, mark)
            time.sleep(0.5)
            t_end = time.monotonic()
            res["stall_s"] = b.probe.max_between(t_replace, t_end)
            res["stall_during_connect_s"] = b.probe.max_between(t_conn, t_end)
            res["stall_before_connect_s"] = b.probe.max_between(t_replace, t_conn)
            res["hwm_during_replace"] = proc_status(b.server.pid)["VmHWM"]
            res["rss_after_replace"] = proc_status(b.server.pid)["VmRSS"]
            text = b.server.log.text(mark)
            m = re.search(r"crlsync: reload: .*?(\d+) revoked entries.*?, ([\d.]+) ms\)", text)
            if m:
                res["plugin_reload_ms"] = float(m.group(2))
            # A connection once the new CRL is in force, for the steady latency after the change.
            lat2 = [b.connect(cf) for _ in range(3)]
            res["connect_after_change_median_s"] = statistics.median(lat2)
        if b.probe.error:
            res["probe_error"] = b.probe.error
    finally:
        b.close()
    log(f"{name}: {json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()})}")
    return res


def ms(v: Optional[float]) -> str:
    return "-" if v is None else (f"{v * 1e3:.1f} ms" if v < 10 else f"{v:.1f} s")


def mib(v: Optional[int]) -> str:
    return "-" if v is None else f"{v / 1048576:.1f} MiB"


def table(rows: List[dict], entries: int) -> str:
    by = {r["config"]: r for r in rows}
    none, cv, pl = by.get("no CRL", {}), by.get("crl-verify", {}), by.get("plugin", {})
    ratio = (f"{pl['connect_median_s'] / none['connect_median_s']:.2f}x"
             if pl.get("connect_median_s") and none.get("connect_median_s") else "-")
    ratio_cv = (f"{cv['connect_median_s'] / none['connect_median_s']:.2f}x"
                if cv.get("connect_median_s") and none.get("connect_median_s") else "-")
    out = [f"\n### OpenVPN 2.6 server on 127.0.0.1, {entries} revoked entries\n",
           "| | no CRL | crl-verify (PEM) | crlsync plugin (DER) | target | anchor (issue, 1M) |",
           "|---|---:|---:|---:|---|---:|"]

    def row(label, key, fmt, target="", anchor=""):
        out.append(f"| {label} | {fmt(none.get(key))} | {fmt(cv.get(key))} | {fmt(pl.get(key))} | {target} | {anchor} |")

    row("server start to Initialization Sequence Completed", "startup_s", ms)
    row("client connect, median", "connect_median_s", ms, f"plugin <= 1.1x no CRL (now {ratio}; crl-verify {ratio_cv})",
        "25.7 ms -> 775 ms")
    row("client connect, p90", "connect_p90_s", ms)
    row("longest server stall (mgmt probe), steady", "probe_max_steady_s", ms)
    row("longest server stall, CRL replaced + next connect", "stall_s", ms, "plugin: no stall (<= 1 ms per TLS_VERIFY)",
        "3.0 s")
    row("  of which before the next connect", "stall_before_connect_s", ms)
    row("  of which during the next connect", "stall_during_connect_s", ms)
    row("client connect right after the replacement", "connect_after_replace_s", ms)
    row("client connect with the new CRL, median of 3", "connect_after_change_median_s", ms)
    row("plugin's reload (its log line)", "plugin_reload_ms", lambda v: "-" if v is None else f"{v:.0f} ms")
    row("server RSS steady (VmRSS after the connects)", "rss_steady", mib, "", "248 MiB")
    row("server peak RSS since start (VmHWM)", "hwm_since_start", mib, "", "367 MiB")
    row("server peak RSS during the replacement (VmHWM)", "hwm_during_replace", mib, "plugin <= steady + 64 MiB")
    row("server RSS after the replacement", "rss_after_replace", mib)
    return "\n".join(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--plugin", required=True, help="openvpn-plugin-crlsync.so")
    p.add_argument("--gen-crl", required=True, help="bench/gen_crl executable")
    p.add_argument("--entries", type=int, default=1000000)
    p.add_argument("--connects", type=int, default=15)
    p.add_argument("--configs", default="none,crl-verify,plugin")
    p.add_argument("--reasons", action="store_true", help="a reasonCode on every entry")
    p.add_argument("--json", help="append one JSON line per configuration")
    a = p.parse_args()
    harness.check_environment(a.plugin)
    configs = a.configs.split(",")

    with Env(a.plugin, "bench") as env:
        os.chmod(env.dir, 0o755)
        pki = env.pki.dir
        cf = env.client("bench-client")
        crls = env.dir / "crls"
        crls.mkdir()

        def gen_crl(out: Path, number: int, seed: int, pem: bool = False) -> Path:
            argv = [a.gen_crl, "-q", "-n", str(a.entries), "-o", str(out), "--ca", str(pki / "issuing.crt"),
                    "--ca-key", str(pki / "issuing.key"), "--number", str(number), "--seed", str(seed)] + (["--reasons"] if a.reasons else [])
            subprocess.run(argv + (["--pem"] if pem else []), check=True)
            return out

        t0 = time.monotonic()
        der1, der2 = gen_crl(crls / "issuing-1.der", 1, 11), gen_crl(crls / "issuing-2.der", 2, 12)
        pem1, pem2 = gen_crl(crls / "issuing-1.pem", 1, 11, True), gen_crl(crls / "issuing-2.pem", 2, 12, True)
        log(f"CRLs of {a.entries} entries generated in {time.monotonic() - t0:.1f} s")
        # OpenVPN notices a changed crl-verify file by its mtime (in seconds) and size only, and two CRLs
        # of as many entries have the same size: the first one is dated an hour back, each
        # replacement now, as a CA publishing later would.
        old = time.time() - 3600
        for f in (der1, pem1):
            os.utime(f, (old, old))
        rows = []

        if "none" in configs:
            rows.append(run_config(env, "no CRL", [], cf, a.connects, None))

        if "crl-verify" in configs:
            cv = env.dir / "crl-verify.pem"
            os.link(pem1, cv)

            def replace_pem():
                tmp = env.dir / ".crl-verify.pem.tmp"
                os.link(pem2, tmp)
                os.utime(tmp)
                os.rename(tmp, cv)
            rows.append(run_config(env, "crl-verify", [f"crl-verify {cv}"], cf, a.connects, replace_pem))

        if "plugin" in configs:
            env.write_config()
            env.install("root.crl", env.crl(env.pki.root, number=1))
            os.link(der1, env.cache / "issuing.crl")

            def replace_der():
                tmp = env.cache / ".issuing.crl.tmp"
                os.link(der2, tmp)
                os.utime(tmp)
                os.rename(tmp, env.cache / "issuing.crl")
            rows.append(run_config(env, "plugin", [f"plugin {env.plugin} {env.config}"], cf, a.connects,
                                   replace_der, done=harness.RE_RELOAD))

        print(table(rows, a.entries), flush=True)
        if a.json:
            with open(a.json, "a") as f:
                for r in rows:
                    f.write(json.dumps({"bench": "openvpn", "entries": a.entries, **r}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
