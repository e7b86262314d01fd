# SPDX-License-Identifier: GPL-2.0-or-later
"""Eviction scenarios ("Revocation reaches connected clients"): a real OpenVPN 2.6 server with a
management interface, clients that stay connected (`--ping 1`, so traffic flows both ways), and
a CRL renamed into the cache that revokes one of them. The plugin's background thread must find
the client through the management interface (`status 3`), send `client-kill CID HALT` and log
one EVICT line per client. One ctest each: integration.evict_<name> (see CMakeLists.txt).

The test queries `status 3` itself through the same interface. OpenVPN serves one management
connection at a time, so every query connects, asks and disconnects (harness.Mgmt.query), and
none is made while the plugin is expected to be talking to it.

What OpenVPN 2.6 itself does after `client-kill CID HALT` (measured on 2.6.14): the client logs
"Halt command was pushed by server" and exits within milliseconds (it does not reconnect); the
server keeps the instance for about 5 s more ("SIGTERM[soft,delayed-exit] received,
client-instance exiting"), so `status 3` lists the client until then.
"""

import datetime
import os
import pwd
import re
import subprocess
import time
from typing import Callable, Dict, List, Optional, Sequence

from harness import Client, Env, Failure, Mgmt, MgmtConn, excerpt, log  # first: puts tests/fixtures on the path
import gen  # noqa: E402
from gen import Entry  # noqa: E402
from scenarios import ISSUING_CN, ROOT_CN, revoked_at, rx_reject, rx_revoked, rx_serial, utc  # noqa: E402

SCENARIOS: Dict[str, Callable] = {}


def scenario(fn: Callable) -> Callable:
    SCENARIOS[fn.__name__] = fn
    return fn


SERIALS = {"alice": 0x05, "bob": 0x06, "carol": 0x07, "dave": 0x08, "erin": 0x09, "frank": 0x0A}

EVICT_TIMEOUT = 5.0        # rename -> the client told to halt and the EVICT line
# OpenVPN keeps a killed instance ~5 s ("delayed-exit") before status 3 drops it.
GONE_TIMEOUT = EVICT_TIMEOUT + 7.0
QUIET = 3.0                # how long "nothing happens" is watched for

RX_CLIENT_HALTED = r"Halt command was pushed by server"
RX_CLIENT_EXITING = r"SIGTERM\[soft,server-pushed-halt\] received, process exiting"
RX_RETRY = r"crlsync: [^\n]*management [^\n]*unavailable[^\n]*retrying in (\d+) s"
RX_ANY_EVICT = r"crlsync: [^\n]*EVICT"
RX_KILL_CMD = r"MANAGEMENT: CMD 'client-kill (\d+)(?: ([^']*))?'"


def rx_evict(cn: Optional[str], serial: int, cid: str, peer: str, tail: str) -> str:
    """The contract: EVICT subject=<...> serial=<HEX> cid=<n> peer=<ip:port>: <why>."""
    subj = rf"[^\n]*CN={re.escape(cn)}\b[^\n]*" if cn else r"[^\n]*"
    return (rf"crlsync: EVICT subject={subj} {rx_serial(serial)} cid={re.escape(cid)} "
            rf"peer={re.escape(peer)}: {tail}")


# --- setting up ----------------------------------------------------------------------------------


def _setup(env: Env, mgmt: Optional[Mgmt], plugin_lines: Sequence[str] = (), **config_kw) -> List[str]:
    """Writes the crlsync config with `plugin_lines`; returns the server's extra lines: the
    management interface (unless None) and `ping 1`, so that the server's byte counters move too."""
    env.write_config(extra_plugin_lines=list(plugin_lines), **config_kw)
    return ["ping 1"] + (mgmt.server_lines() if mgmt is not None else [])


def _clients(env: Env, names: Sequence[str]) -> Dict[str, gen.ClientFiles]:
    return {n: env.client(n, serial=SERIALS[n]) for n in names}


def _connect(env: Env, cfs: Dict[str, gen.ClientFiles]) -> Dict[str, Client]:
    """Persistent clients pinging every second."""
    return {n: env.start_client(cf, extra=["--ping", "1"]) for n, cf in cfs.items()}


def _listed(mgmt: Mgmt, names: Sequence[str]) -> Dict[str, dict]:
    """status 3 rows of `names`, each required to be listed."""
    rows = mgmt.clients()
    missing = [n for n in names if n not in rows]
    if missing:
        raise Failure(f"status 3 does not list {missing}; it lists {sorted(rows)}")
    return rows


def _wait_halted(c: Client, since: int, timeout: float, t0: float) -> float:
    """Waits for the client to be told to halt and to exit; returns seconds since t0."""
    c.log.wait_for(RX_CLIENT_HALTED, timeout, since, None, what=f"client {c.name} log")
    t = time.monotonic() - t0
    try:
        c.proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        raise Failure(f"client {c.name} was told to halt but did not exit:\n{excerpt(c.log.text(since))}")
    c.log.wait_for(RX_CLIENT_EXITING, 1, since, None, what=f"client {c.name} log")
    return t


def _wait_gone(mgmt: Mgmt, name: str, t0: float, timeout: float) -> float:
    """Polls status 3 (every 100 ms, one connection each) until `name` is no longer listed."""
    deadline = t0 + timeout
    while True:
        rows = mgmt.clients()
        if name not in rows:
            return time.monotonic() - t0
        if time.monotonic() > deadline:
            raise Failure(f"status 3 still lists {name} {timeout:.0f} s after the rename: {rows[name]}")
        time.sleep(0.1)


def _assert_not_halted(c: Client, since: int = 0) -> None:
    if c.proc.poll() is not None:
        raise Failure(f"client {c.name} exited ({c.proc.returncode}):\n{excerpt(c.log.text(since), 'Halt')}")
    t = c.log.text(since)
    m = re.search(r"Halt command|RESTART|SIGUSR1\[|SIGTERM\[", t)
    if m:
        raise Failure(f"client {c.name} was disturbed ({m.group(0)!r}):\n{excerpt(t, 'Halt|RESTART')}")


def _assert_stay(mgmt: Mgmt, clients: Dict[str, Client], names: Sequence[str], before: Dict[str, dict],
                 since: Dict[str, int], secs: float = QUIET) -> None:
    """`names` stay listed under the same client ID and real address, their processes run, and
    both byte counters grow over `secs`."""
    first = _listed(mgmt, names)
    time.sleep(secs)
    second = _listed(mgmt, names)
    for n in names:
        for rows in (first, second):
            for col in ("Client ID", "Real Address"):
                if rows[n][col] != before[n][col]:
                    raise Failure(f"{n}: {col} changed from {before[n][col]} to {rows[n][col]} (reconnected?)")
        for col in ("Bytes Received", "Bytes Sent"):
            a, b = int(first[n][col]), int(second[n][col])
            if b <= a:
                raise Failure(f"{n}: {col} did not grow over {secs:.0f} s ({a} -> {b})")
        _assert_not_halted(clients[n], since[n])
    log("still connected, counters growing: " + ", ".join(
        f"{n} rx {first[n]['Bytes Received']}->{second[n]['Bytes Received']} "
        f"tx {first[n]['Bytes Sent']}->{second[n]['Bytes Sent']}" for n in names))


def _kill_cmds(text: str) -> List[tuple]:
    return re.findall(RX_KILL_CMD, text)


def _assert_killed_exactly(text: str, cids: Dict[str, str]) -> None:
    """The server log (after the install) has `client-kill CID HALT` once for each wanted
    client and for no other."""
    cmds = _kill_cmds(text)
    want = sorted(cids.values())
    got = sorted(c for c, _ in cmds)
    if got != want:
        raise Failure(f"client-kill commands for client IDs {got}, want {want} ({cids}):\n"
                      f"{excerpt(text, 'MANAGEMENT: CMD')}")
    for cid, msg in cmds:
        if msg.strip() != "HALT":
            raise Failure(f"client-kill {cid} was sent with {msg!r}, not HALT")


def _marks(clients: Dict[str, Client]) -> Dict[str, int]:
    return {n: c.log.mark() for n, c in clients.items()}


def _revoke_issuing(env: Env, serials: Sequence[int], when: datetime.datetime, reason: str = "keyCompromise",
                    number: int = 2) -> float:
    """Renames in issuing.crl `number` listing `serials`; returns the monotonic time before the rename."""
    return env.install("issuing.crl", env.crl(env.pki.issuing, [Entry(s, when, reason) for s in serials],
                                              number=number))


def _revoke_leaf_and_check(env: Env, mgmt: Mgmt, victims: Sequence[str], keep: Sequence[str]):
    """The core of several scenarios: `victims` + `keep` connected; issuing.crl number 2 revokes
    the victims; each victim is told to halt, its EVICT line names its cid and real address,
    status 3 drops it; `keep` stay connected with growing counters. Returns (clients, times,
    status 3 rows before, the revocation date)."""
    cfs = _clients(env, list(victims) + list(keep))
    clients = _connect(env, cfs)
    before = _listed(mgmt, list(cfs))
    log("status 3 before: " + ", ".join(f"{n} cid {r['Client ID']} {r['Real Address']}" for n, r in before.items()))
    return _revoke_connected_and_check(env, mgmt, clients, before, victims, keep)


def _revoke_connected_and_check(env: Env, mgmt: Mgmt, clients: Dict[str, Client], before: Dict[str, dict],
                                victims: Sequence[str], keep: Sequence[str]):
    """_revoke_leaf_and_check() once the clients are connected and their rows known."""
    srv = env.server
    mark, cmarks = srv.mark(), _marks(clients)
    when = revoked_at()
    t0 = _revoke_issuing(env, [SERIALS[v] for v in victims], when)
    times = {}
    for v in victims:
        times[f"{v} halted"] = _wait_halted(clients[v], cmarks[v], EVICT_TIMEOUT, t0)
        r = before[v]
        srv.wait_for_log(rx_evict(v, SERIALS[v], r["Client ID"], r["Real Address"],
                                  rx_revoked(when, "keyCompromise", "issuing.crl", 2)),
                         max(0.5, t0 + EVICT_TIMEOUT - time.monotonic()), mark)
        times[f"{v} EVICT line"] = time.monotonic() - t0
    for v in victims:
        times[f"{v} gone from status 3"] = _wait_gone(mgmt, v, t0, GONE_TIMEOUT)
    after = srv.log.text(mark)
    _assert_killed_exactly(after, {v: before[v]["Client ID"] for v in victims})
    evicts = re.findall(r"^.*" + RX_ANY_EVICT + r".*$", after, re.MULTILINE)
    if len(evicts) != len(victims):
        raise Failure(f"{len(evicts)} EVICT lines for {len(victims)} revoked client(s):\n" + "\n".join(evicts))
    # No evicted client came back by itself (the processes exited; nothing else connects as them).
    later = after[after.find("client-kill"):]
    for v in victims:
        m = re.search(rf"^.*VERIFY (?:PLUGIN )?(?:OK|ERROR): depth=0, [^\n]*CN={v}\b.*$", later, re.MULTILINE)
        if m:
            raise Failure(f"{v} connected again after the HALT: {m.group(0)!r}")
    _assert_stay(mgmt, clients, keep, before, cmarks)
    srv.assert_running()
    log("rename -> " + ", ".join(f"{k}: {t * 1000:.0f} ms" for k, t in times.items()))
    return clients, times, before, when


# --- scenarios -----------------------------------------------------------------------------------


@scenario
def revoked_leaf(plugin):
    """Three connected clients; a CRL revoking bob is renamed in: bob is told to HALT and exits,
    the EVICT line names him (cid, real address, date, reason, CRL), status 3 drops him; alice and
    carol stay listed with growing byte counters. (evict defaults to yes with management set.)"""
    with Env(plugin, "evict_revoked_leaf") as env:
        mgmt = Mgmt.unix(env.dir / "mgmt.sock")
        extra = _setup(env, mgmt, [f"management = {mgmt.plugin_value()}"])
        env.install_good()
        env.start_server(extra=extra)
        _revoke_leaf_and_check(env, mgmt, ["bob"], ["alice", "carol"])


@scenario
def cannot_reconnect(plugin):
    """After bob's eviction, bob connecting again is rejected by the plugin as usual."""
    with Env(plugin, "evict_cannot_reconnect") as env:
        mgmt = Mgmt.unix(env.dir / "mgmt.sock")
        extra = _setup(env, mgmt, [f"management = {mgmt.plugin_value()}"])
        env.install_good()
        env.start_server(extra=extra)
        _, _, _, when = _revoke_leaf_and_check(env, mgmt, ["bob"], ["alice"])
        bob = env.client("bob")
        r = env.connect(bob, expect="rejected")
        r.assert_server_log(rx_reject(0, "bob", SERIALS["bob"], ISSUING_CN,
                                      rx_revoked(when, "keyCompromise", "issuing.crl", 2)))
        if "bob" in _listed(mgmt, ["alice"]):
            raise Failure("status 3 lists bob again after his rejected reconnection")
        # The twin: a good client still gets in.
        env.connect(env.client("carol", serial=SERIALS["carol"]), expect="accepted")


@scenario
def delta_revoked(plugin):
    """Delta CRLs (RFC 5280 §5.2.4; issue 14): alice, bob and carol connected under base
    issuing.crl number 10. First the negative twin: issuing+.crl, a delta for base 12 (newer than
    the installed base) revoking bob, is not in force: nobody is told anything. Then a delta for
    base 10 revoking bob only (number 14: a delta's number never goes back, the stray one had 13): bob is told to HALT, the EVICT line names the delta,
    status 3 drops him, alice and carol stay; bob connecting again is rejected, carol still gets in."""
    with Env(plugin, "evict_delta_revoked") as env:
        mgmt = Mgmt.unix(env.dir / "mgmt.sock")
        extra = _setup(env, mgmt, [f"management = {mgmt.plugin_value()}"])
        env.install("root.crl", env.crl(env.pki.root, number=1))
        env.install("issuing.crl", env.crl(env.pki.issuing, number=10, ms_ext=True))
        env.start_server(extra=extra)
        srv = env.server
        clients = _connect(env, _clients(env, ["alice", "bob", "carol"]))
        before = _listed(mgmt, list(clients))
        when = revoked_at()
        mark, cmarks = srv.mark(), _marks(clients)
        env.install("issuing+.crl", env.crl(env.pki.issuing, [Entry(SERIALS["bob"], when, "keyCompromise")],
                                            number=13, delta_base=12, ms_ext=True))
        _assert_stay(mgmt, clients, ["alice", "bob", "carol"], before, cmarks)
        if re.search(RX_ANY_EVICT, srv.log.text(mark)):
            raise Failure(f"a delta for a newer base evicted someone:\n{excerpt(srv.log.text(mark), 'EVICT')}")
        mark, cmarks = srv.mark(), _marks(clients)
        t0 = env.install("issuing+.crl", env.crl(env.pki.issuing, [Entry(SERIALS["bob"], when, "keyCompromise")],
                                                 number=14, delta_base=10, ms_ext=True))
        _wait_halted(clients["bob"], cmarks["bob"], EVICT_TIMEOUT, t0)
        r = before["bob"]
        srv.wait_for_log(rx_evict("bob", SERIALS["bob"], r["Client ID"], r["Real Address"],
                                  rf"revoked on {re.escape(utc(when))}, reason keyCompromise[^\n]*issuing\+\.crl"),
                         max(0.5, t0 + EVICT_TIMEOUT - time.monotonic()), mark)
        _wait_gone(mgmt, "bob", t0, GONE_TIMEOUT)
        _assert_killed_exactly(srv.log.text(mark), {"bob": r["Client ID"]})
        _assert_stay(mgmt, clients, ["alice", "carol"], before, cmarks)
        rj = env.connect(env.client("bob", serial=SERIALS["bob"]), expect="rejected")
        rj.assert_server_log(rx_reject(0, "bob", SERIALS["bob"], ISSUING_CN,
                                       rf"revoked on {re.escape(utc(when))}, reason keyCompromise[^\n]*issuing\+\.crl"))
        env.connect(env.client("carol", serial=SERIALS["carol"]), expect="accepted")
        srv.assert_running()


@scenario
def revoked_intermediate(plugin):
    """alice and bob connected under the issuing CA; the root's CRL revokes the issuing CA: both
    are evicted, their EVICT lines carry the CA's serial and cACompromise from root.crl, and the
    server keeps running (a new client under the revoked CA is rejected at depth 1)."""
    with Env(plugin, "evict_revoked_intermediate") as env:
        mgmt = Mgmt.unix(env.dir / "mgmt.sock")
        extra = _setup(env, mgmt, [f"management = {mgmt.plugin_value()}", "evict = yes"])
        env.install_good()
        srv = env.start_server(extra=extra)
        cfs = _clients(env, ["alice", "bob"])
        clients = _connect(env, cfs)
        before = _listed(mgmt, ["alice", "bob"])
        mark, cmarks = srv.mark(), _marks(clients)
        when = revoked_at()
        iss = env.pki.issuing.cert.serial_number
        t0 = env.install("root.crl", env.crl(env.pki.root, [Entry(iss, when, "cACompromise")], number=4))
        times = {}
        for n in ("alice", "bob"):
            times[f"{n} halted"] = _wait_halted(clients[n], cmarks[n], EVICT_TIMEOUT, t0)
        tail = rx_revoked(when, "cACompromise", "root.crl", 4)
        for n in ("alice", "bob"):
            r = before[n]
            m = srv.wait_for_log(rf"crlsync: EVICT [^\n]*cid={r['Client ID']} peer={re.escape(r['Real Address'])}: "
                                 rf"{tail}", max(0.5, t0 + EVICT_TIMEOUT - time.monotonic()), mark)
            line = m.group(0)
            if not re.search(rx_serial(iss), line):
                raise Failure(f"{n}'s EVICT line does not carry the issuing CA's serial "
                              f"{gen.serial_hex(iss)}: {line!r}")
            if not re.search(rf"subject=[^\n]*CN=(?:{re.escape(ISSUING_CN)}|{n})\b", line):
                raise Failure(f"{n}'s EVICT line names neither the CA nor {n}: {line!r}")
            times[f"{n} EVICT line"] = time.monotonic() - t0
        for n in ("alice", "bob"):
            times[f"{n} gone from status 3"] = _wait_gone(mgmt, n, t0, GONE_TIMEOUT)
        _assert_killed_exactly(srv.log.text(mark), {n: before[n]["Client ID"] for n in ("alice", "bob")})
        srv.assert_running()
        log("rename -> " + ", ".join(f"{k}: {t * 1000:.0f} ms" for k, t in times.items()))
        r = env.connect(env.client("carol", serial=SERIALS["carol"]), expect="rejected")
        r.assert_server_log(rx_reject(1, ISSUING_CN, iss, ROOT_CN, tail))


@scenario
def tcp_management_password(plugin):
    """Management on 127.0.0.1:<ephemeral> with a password file; the plugin gets
    management=127.0.0.1:PORT and management-password=FILE as plugin arguments: bob is evicted,
    alice stays, and the password never shows in the log."""
    with Env(plugin, "evict_tcp_management_password") as env:
        password = "crlsync-" + gen.serial_hex(int(time.time() * 1000))
        mgmt = Mgmt.tcp(env.dir, password=password)
        extra = _setup(env, mgmt)
        env.install_good()
        srv = env.start_server(extra=extra, plugin_args=[f"management={mgmt.plugin_value()}",
                                                         f"management-password={mgmt.password_file}"])
        srv.wait_for_log(rf"MANAGEMENT: TCP Socket listening on \[AF_INET\]127\.0\.0\.1:{mgmt.where[1]}", 1)
        _revoke_leaf_and_check(env, mgmt, ["bob"], ["alice"])
        text = srv.log.text()
        if password in text:
            raise Failure("the management password appears in the server log")
        m = re.search(r"^.*(?:wrong password|bad password|password is incorrect).*$", text, re.MULTILINE | re.I)
        if m:
            raise Failure(f"a management login failed: {m.group(0)!r}")


def _password_env(env: Env, newline: bool) -> tuple:
    """A TCP management port on 127.0.0.1 with a fresh password in a root-owned 0600 file (with or
    without a trailing newline), named by `management-password` in [plugin]. Returns (mgmt,
    password, the crlsync config's extra [plugin] lines)."""
    password = "crlsync-" + gen.serial_hex(int(time.time() * 1000))
    mgmt = Mgmt.tcp(env.dir, password=password)
    mgmt.password_file.write_text(password + ("\n" if newline else ""))
    st = mgmt.password_file.stat()
    if st.st_uid != 0 or st.st_mode & 0o777 != 0o600:
        raise Failure(f"{mgmt.password_file} is uid {st.st_uid} mode {st.st_mode & 0o777:o}, want root 0600")
    return mgmt, password, [f"management = {mgmt.plugin_value()}", f"management-password = {mgmt.password_file}"]


def _assert_password_unseen(srv_text: str, password: str) -> None:
    if password in srv_text:
        raise Failure("the management password appears in the server log")
    m = re.search(r"^.*(?:wrong password|bad password|password is incorrect|AUTH.*fail).*$", srv_text,
                  re.MULTILINE | re.I)
    if m:
        raise Failure(f"a management login failed: {m.group(0)!r}")


@scenario
def tcp_password_no_newline(plugin):
    """A TCP management port whose password file has no trailing newline (`echo -n pw > file`),
    named in [plugin]: the plugin logs in and bob is evicted, alice stays. The plugin once read
    such a file past its end (no NUL): the password it sent carried heap bytes and every login
    failed. MALLOC_PERTURB_ makes OpenVPN's fresh heap bytes non-zero, so that such a bug shows
    every time rather than by the heap's history."""
    with Env(plugin, "evict_tcp_password_no_newline") as env:
        mgmt, password, lines = _password_env(env, newline=False)
        extra = _setup(env, mgmt, lines)
        env.install_good()
        old = os.environ.get("MALLOC_PERTURB_")
        os.environ["MALLOC_PERTURB_"] = "165"
        try:
            srv = env.start_server(extra=extra)
        finally:
            if old is None:
                del os.environ["MALLOC_PERTURB_"]
            else:
                os.environ["MALLOC_PERTURB_"] = old
        srv.wait_for_log(rf"MANAGEMENT: TCP Socket listening on \[AF_INET\]127\.0\.0\.1:{mgmt.where[1]}", 1)
        _revoke_leaf_and_check(env, mgmt, ["bob"], ["alice"])
        _assert_password_unseen(srv.log.text(), password)


@scenario
def sighup_password_root_only(plugin):
    """`user nobody` with a root-only 0600 password file for a TCP management port: at SIGHUP the
    plugin, reopened as nobody, cannot read the file; it says that it uses the password it kept
    from its start as root, OpenVPN keeps running, and eviction still logs in after the SIGHUP:
    bob is evicted, alice stays."""
    from scenarios import _nobody_setup, _start_as_nobody  # noqa: E402
    from harness import sighup_and_wait  # noqa: E402
    with Env(plugin, "evict_sighup_password_root_only") as env:
        nobody_lines = _nobody_setup(env)
        mgmt, password, lines = _password_env(env, newline=True)
        # OpenVPN itself re-checks its own `management ... PWFILE` as nobody at SIGHUP ("Options
        # error: --management user/password file fails ... Permission denied") and exits: its copy
        # must be readable by nobody. The plugin's file stays root's 0600.
        own = env.dir / "openvpn-mgmt.pass"
        own.write_text(password + "\n")
        os.chmod(own, 0o600)
        os.chown(own, pwd.getpwnam("nobody").pw_uid, -1)
        mgmt.password_file = own
        extra = _setup(env, mgmt, lines)
        env.install_good()
        srv = _start_as_nobody(env, nobody_lines + extra)
        first = srv.log.text()
        if re.search(r"crlsync: [^\n]*password kept", first):
            raise Failure("the plugin used a kept password at its first start (as root it reads the file)")
        mark = sighup_and_wait(srv)
        after = srv.log.text(mark)
        if not re.search(r"PLUGIN_INIT: POST " + re.escape(str(env.plugin)), after):
            raise Failure(f"the plugin was not opened again after SIGHUP:\n{excerpt(after)}")
        m = re.search(r"^.*crlsync: [^\n]*management-password: [^\n]*" + re.escape(str(env.dir / "mgmt.pass")) +
                      r"[^\n]*Permission denied[^\n]*using the password kept[^\n]*OpenVPN restart.*$",
                      after, re.MULTILINE)
        if not m:
            raise Failure(f"no line saying that the plugin, as nobody, uses the password it kept:\n"
                          f"{excerpt(after, 'crlsync')}")
        log(f"after SIGHUP: {m.group(0).strip()}")
        srv.assert_running()
        if srv.uid() != pwd.getpwnam("nobody").pw_uid:
            raise Failure(f"the server runs as uid {srv.uid()} after SIGHUP, not nobody")
        _revoke_leaf_and_check(env, mgmt, ["bob"], ["alice"])
        _assert_password_unseen(srv.log.text(), password)


@scenario
def mgmt_absent(plugin):
    """The plugin's management socket path has no listener (OpenVPN has no management interface):
    the revoked, connected bob is not evicted, the plugin says it retries, and the server keeps
    serving: good clients connect (PUSH_REPLY) and a new connection of bob is rejected. The
    retries keep to the delays they announce ("retrying in N s") while good clients come and go."""
    with Env(plugin, "evict_mgmt_absent") as env:
        sock = env.dir / "nobody-listens.sock"
        extra = _setup(env, None, [f"management = unix:{sock}"])
        env.install_good()
        srv = env.start_server(extra=extra)
        cfs = _clients(env, ["alice", "bob", "carol", "dave", "erin", "frank"])
        clients = _connect(env, {n: cfs[n] for n in ("alice", "bob")})
        mark, cmarks = srv.mark(), _marks(clients)
        t0 = _revoke_issuing(env, [SERIALS["bob"]], revoked_at())
        m = srv.wait_for_log(RX_RETRY, 10, mark)
        log(f"rename -> first retry line: {(time.monotonic() - t0) * 1000:.0f} ms ({m.group(0).strip()})")
        # While the plugin retries, OpenVPN serves new clients as usual.
        for n in ("carol", "dave", "erin", "frank"):
            r = env.connect(cfs[n], expect="accepted")
            if r.seconds > 5:
                raise Failure(f"{n} needed {r.seconds:.1f} s to connect while the plugin retried")
        env.connect(env.client("bob"), expect="rejected")
        time.sleep(max(0.0, t0 + 8 - time.monotonic()))
        after = srv.log.text(mark)
        if re.search(RX_ANY_EVICT, after):
            raise Failure(f"an EVICT line without a management interface:\n{excerpt(after)}")
        for n in ("alice", "bob"):
            _assert_not_halted(clients[n], cmarks[n])
        srv.assert_running()
        retries = [(_log_time(ln), int(re.search(RX_RETRY, ln).group(1)))
                   for ln in after.splitlines() if re.search(RX_RETRY, ln)]
        desc = ", ".join(f"+{t - retries[0][0]:.3f} s (then {n} s)" for t, n in retries)
        log(f"retry lines: {desc}")
        for (ta, na), (tb, _) in zip(retries, retries[1:]):
            if tb - ta < na - 0.25:
                sel = "\n".join("    " + ln for ln in after.splitlines()
                                 if re.search(RX_RETRY + r"|PLUGIN_CLIENT_CONNECT|VERIFY PLUGIN ERROR", ln))
                raise Failure(f"the plugin announced \"retrying in {na} s\" and retried {tb - ta:.3f} s later "
                              f"(good clients connected meanwhile); retry lines at {desc}:\n{sel}")


def _log_time(line: str) -> float:
    """The time stamp of an OpenVPN log line ("2026-11-27 13:01:40 us=895371 ..."), in seconds."""
    m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) us=(\d+) ", line)
    if not m:
        raise Failure(f"no time stamp on {line!r}")
    return time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1e6


@scenario
def mgmt_busy(plugin):
    """The test holds the only management connection while a CRL revoking bob is renamed in: the
    plugin logs that it retries and bob stays; once the test lets go, bob is evicted within 10 s."""
    with Env(plugin, "evict_mgmt_busy") as env:
        mgmt = Mgmt.unix(env.dir / "mgmt.sock")
        extra = _setup(env, mgmt, [f"management = {mgmt.plugin_value()}"])
        env.install_good()
        srv = env.start_server(extra=extra)
        cfs = _clients(env, ["alice", "bob", "carol"])
        clients = _connect(env, {n: cfs[n] for n in ("alice", "bob")})
        before = _listed(mgmt, ["alice", "bob"])
        mark, cmarks = srv.mark(), _marks(clients)
        hold: MgmtConn = mgmt.open()
        try:
            when = revoked_at()
            t0 = _revoke_issuing(env, [SERIALS["bob"]], when)
            # The plugin waiting on the busy interface does not hold OpenVPN up: a new client
            # gets in while it waits (well before its first retry line).
            time.sleep(0.3)
            res = env.connect(cfs["carol"], expect="accepted")
            if res.seconds > 5:
                raise Failure(f"carol needed {res.seconds:.1f} s to connect while the plugin waited")
            m = srv.wait_for_log(RX_RETRY, 20, mark)
            t_retry = time.monotonic() - t0
            log(f"rename -> retry line while held: {t_retry * 1000:.0f} ms ({m.group(0).strip()})")
            _assert_not_halted(clients["bob"], cmarks["bob"])
            if re.search(RX_ANY_EVICT, srv.log.text(mark)):
                raise Failure(f"an EVICT line while the test held the management interface:\n"
                              f"{excerpt(srv.log.text(mark))}")
            # Our connection is still the one served, and bob is still there.
            rows = [ln.split("\t") for ln in hold.command("status 3")]
            if not any(f[0] == "CLIENT_LIST" and f[1] == "bob" for f in rows):
                raise Failure("status 3 on the held connection does not list bob")
        finally:
            hold.close()
        t_rel = time.monotonic()
        dt = _wait_halted(clients["bob"], cmarks["bob"], 10, t_rel)
        r = before["bob"]
        srv.wait_for_log(rx_evict("bob", SERIALS["bob"], r["Client ID"], r["Real Address"],
                                  rx_revoked(when, "keyCompromise", "issuing.crl", 2)), 2, mark)
        log(f"release -> bob halted: {dt * 1000:.0f} ms")
        _assert_killed_exactly(srv.log.text(mark), {"bob": r["Client ID"]})
        _assert_stay(mgmt, clients, ["alice"], before, cmarks)


def _expiry_setup(env: Env, ahead: int, grace: int):
    """alice (and bob) connected while issuing.crl (number 1) is current; it expires `ahead`
    seconds after it was made. Returns (nextUpdate, its epoch, clients, before rows)."""
    mgmt = Mgmt.unix(env.dir / "mgmt.sock")
    extra = _setup(env, mgmt, [f"management = {mgmt.plugin_value()}"], expired="reject", grace=grace)
    cfs = _clients(env, ["alice", "bob", "carol"])   # keys first: the clock runs from the CRL on
    nu = gen.now() + datetime.timedelta(seconds=ahead)
    env.install("root.crl", env.crl(env.pki.root))
    env.install("issuing.crl", env.crl(env.pki.issuing, number=1, next_update=nu))
    env.start_server(extra=extra)
    clients = _connect(env, {n: cfs[n] for n in ("alice", "bob")})
    nu_epoch = nu.replace(tzinfo=datetime.timezone.utc).timestamp()
    if time.time() >= nu_epoch:
        raise Failure("the clients connected only after the CRL had expired; the test proves nothing")
    before = _listed(mgmt, ["alice", "bob"])
    return mgmt, nu, nu_epoch, clients, before, cfs


@scenario
def expired_transition(plugin):
    """expired=reject, grace=0: issuing.crl expires ~8 s after alice and bob connected; both are
    evicted within 65 s of the expiry (the plugin rechecks at least every 60 s), with the
    "CRL ... expired at" reason; a new connection is then rejected for the same reason."""
    with Env(plugin, "evict_expired_transition") as env:
        mgmt, nu, nu_epoch, clients, before, cfs = _expiry_setup(env, 8, 0)
        srv = env.server
        mark, cmarks = srv.mark(), _marks(clients)
        tail = rf"CRL issuing\.crl number (?:0x)?0*1 expired at {re.escape(utc(nu))}"
        log(f"issuing.crl expires at {utc(nu)}, in {nu_epoch - time.time():.1f} s")
        for n in ("alice", "bob"):
            r = before[n]
            srv.wait_for_log(rx_evict(n, SERIALS[n], r["Client ID"], r["Real Address"], tail),
                             max(1.0, nu_epoch + 65 - time.time()), mark)
            t = time.time() - nu_epoch
            if t < 0:
                raise Failure(f"{n} evicted {-t:.1f} s before the CRL expired")
            log(f"expiry -> {n}'s EVICT line: {t:.1f} s")
            _wait_halted(clients[n], cmarks[n], 5, time.monotonic())
        _assert_killed_exactly(srv.log.text(mark), {n: before[n]["Client ID"] for n in ("alice", "bob")})
        r = env.connect(cfs["carol"], expect="rejected")
        r.assert_server_log(rx_reject(0, "carol", SERIALS["carol"], ISSUING_CN, tail))
        srv.assert_running()


EXPIRY_EVICT_LIMIT = 5.0  # issue 13: expiry evictions within 5 s of nextUpdate + grace, as revocation ones


@scenario
def expired_evicted_promptly(plugin):
    """expired=reject, grace=4: issuing.crl's nextUpdate + grace passes ~12 s after alice and bob
    connected, with no reload in between: both are evicted within 5 s of that moment (the plugin
    schedules its recheck for it instead of waiting up to 60 s), never before it, with the
    "CRL ... expired at" reason."""
    grace = 4
    with Env(plugin, "evict_expired_evicted_promptly") as env:
        mgmt, nu, nu_epoch, clients, before, cfs = _expiry_setup(env, 8, grace)
        srv = env.server
        mark, cmarks = srv.mark(), _marks(clients)
        deadline = nu_epoch + grace
        tail = rf"CRL issuing\.crl number (?:0x)?0*1 expired at {re.escape(utc(nu))}"
        log(f"issuing.crl expires at {utc(nu)}; nextUpdate + grace in {deadline - time.time():.1f} s")
        for n in ("alice", "bob"):
            r = before[n]
            srv.wait_for_log(rx_evict(n, SERIALS[n], r["Client ID"], r["Real Address"], tail),
                             max(1.0, deadline + EXPIRY_EVICT_LIMIT + 3 - time.time()), mark)
            t = time.time() - deadline
            log(f"nextUpdate + grace -> {n}'s EVICT line: {t:.2f} s")
            if t < 0:
                raise Failure(f"{n} evicted {-t:.1f} s before nextUpdate + grace")
            if t > EXPIRY_EVICT_LIMIT:
                raise Failure(f"{n} evicted {t:.1f} s after nextUpdate + grace (limit {EXPIRY_EVICT_LIMIT:.0f} s)")
        _wait_halted(clients["alice"], cmarks["alice"], 5, time.monotonic())
        _assert_killed_exactly(srv.log.text(mark), {n: before[n]["Client ID"] for n in ("alice", "bob")})
        srv.assert_running()


@scenario
def expired_grace_twin(plugin):
    """The twin of expired_transition, cheap: issuing.crl expires ~5 s after alice and bob
    connected, then a reload (issuing.crl number 2, also past its nextUpdate, listing bob) makes
    the plugin recheck the connected clients. With grace=3600 bob is evicted (an expired CRL within
    grace still revokes) and alice, whose only problem is the expiry, stays. The control, run
    first on its own server and differing only in grace=0, shows that this very recheck does
    evict alice for the expiry (else the grace half would prove nothing)."""
    for grace in (0, 3600):
        _expire_then_reload(plugin, grace)


def _expire_then_reload(plugin, grace: int) -> None:
    with Env(plugin, f"evict_expired_grace_twin_{grace}") as env:
        mgmt, nu, nu_epoch, clients, before, cfs = _expiry_setup(env, 5, grace)
        srv = env.server
        mark, cmarks = srv.mark(), _marks(clients)
        time.sleep(max(0.0, nu_epoch + 1 - time.time()))
        when = revoked_at()
        nu2 = gen.now() - datetime.timedelta(seconds=1)
        t0 = env.install("issuing.crl", env.crl(env.pki.issuing, [Entry(SERIALS["bob"], when, "keyCompromise")],
                                                number=2, this_update=-600, next_update=nu2))
        expired_tail = rf"CRL issuing\.crl number (?:0x)?0*2 expired at {re.escape(utc(nu2))}"
        revoked_tail = rx_revoked(when, "keyCompromise", "issuing.crl", 2)
        dt = _wait_halted(clients["bob"], cmarks["bob"], EVICT_TIMEOUT, t0)
        r = before["bob"]
        # With grace=0 the CRL may be cited for the entry or for its expiry: both reject bob.
        bob_tail = revoked_tail if grace else f"(?:{revoked_tail}|{expired_tail})"
        srv.wait_for_log(rx_evict("bob", SERIALS["bob"], r["Client ID"], r["Real Address"], bob_tail), 2, mark)
        log(f"grace={grace}: rename -> bob halted: {dt * 1000:.0f} ms (the recheck after the expiry ran)")
        if grace == 0:
            a = before["alice"]
            try:
                dt = _wait_halted(clients["alice"], cmarks["alice"], EVICT_TIMEOUT, t0)
            except Failure as e:
                raise Failure(f"control (grace=0): the recheck the reload triggered did not evict alice for the "
                              f"expired CRL, so the grace=3600 half would prove nothing:\n{e}\n"
                              f"{excerpt(srv.log.text(mark))}")
            srv.wait_for_log(rx_evict("alice", SERIALS["alice"], a["Client ID"], a["Real Address"], expired_tail),
                             2, mark)
            log(f"grace=0: rename -> alice halted for the expiry: {dt * 1000:.0f} ms")
            _assert_killed_exactly(srv.log.text(mark), {n: before[n]["Client ID"] for n in ("alice", "bob")})
            env.connect(cfs["carol"], expect="rejected").assert_server_log(
                rx_reject(0, "carol", SERIALS["carol"], ISSUING_CN, expired_tail))
            return
        _wait_gone(mgmt, "bob", t0, GONE_TIMEOUT)
        _assert_stay(mgmt, clients, ["alice"], before, cmarks)
        after = srv.log.text(mark)
        evicts = re.findall(r"^.*" + RX_ANY_EVICT + r".*$", after, re.MULTILINE)
        if len(evicts) != 1:
            raise Failure("want only bob's EVICT line, have:\n" + "\n".join(evicts))
        _assert_killed_exactly(after, {"bob": r["Client ID"]})
        # A new connection is let in, loudly, within grace.
        res = env.connect(cfs["carol"], expect="accepted")
        res.assert_server_log(r"crlsync: ACCEPT \(relaxed\) depth=0 [^\n]*CN=carol[^\n]*within grace")


@scenario
def disabled(plugin):
    """evict = no with management set: the revoked, connected bob stays connected (no EVICT line,
    no client-kill, still listed with growing counters), but a new connection of bob is rejected."""
    with Env(plugin, "evict_disabled") as env:
        mgmt = Mgmt.unix(env.dir / "mgmt.sock")
        extra = _setup(env, mgmt, [f"management = {mgmt.plugin_value()}", "evict = no"])
        env.install_good()
        srv = env.start_server(extra=extra)
        cfs = _clients(env, ["alice", "bob"])
        clients = _connect(env, cfs)
        before = _listed(mgmt, ["alice", "bob"])
        mark, cmarks = srv.mark(), _marks(clients)
        env.install_and_wait("issuing.crl", env.crl(env.pki.issuing, [Entry(SERIALS["bob"], reason="keyCompromise")],
                                                    number=2))
        time.sleep(2)
        _assert_stay(mgmt, clients, ["alice", "bob"], before, cmarks)
        after = srv.log.text(mark)
        if re.search(RX_ANY_EVICT, after) or _kill_cmds(after):
            raise Failure(f"evict = no, yet the plugin evicted:\n{excerpt(after, 'client-kill')}")
        r = env.connect(env.client("bob"), expect="rejected")
        r.assert_server_log(r"crlsync: REJECT depth=0 [^\n]*CN=bob[^\n]*keyCompromise")
        _assert_not_halted(clients["bob"], cmarks["bob"])


# --- matching the right row: IPv6 peers, duplicate-cn (issue 10, item 3) -----------------------


def _rows(mgmt: Mgmt) -> List[dict]:
    """Every CLIENT_LIST row of status 3 (Mgmt.clients() keeps one per Common Name)."""
    header: Optional[List[str]] = None
    rows = []
    for ln in mgmt.query("status 3"):
        f = ln.split("\t")
        if f[0] == "HEADER" and len(f) > 1 and f[1] == "CLIENT_LIST":
            header = f[2:]
        elif f[0] == "CLIENT_LIST" and header is not None:
            rows.append(dict(zip(header, f[1:])))
    return rows


def _vaddr(c: Client) -> str:
    """The virtual address the server pushed to a connected client."""
    m = re.search(r"PUSH_REPLY,[^']*?ifconfig (\d+\.\d+\.\d+\.\d+) ", c.log.text())
    if not m:
        raise Failure(f"client {c.name}: no ifconfig in its PUSH_REPLY")
    return m.group(1)


@scenario
def udp6_same_host(plugin):
    """proto udp6 on ::1: alice, bob and carol connect from ::1, and OpenVPN 2.6 shows all three
    with the same Real Address "::1" (no port for IPv6 peers). The client revoked is one that
    status 3 does not list first: it is told to HALT, its EVICT line names its own cid, and the
    two others stay connected. (The plugin once took the first row with that address: it killed
    another client and left the revoked one connected.)"""
    with Env(plugin, "evict_udp6_same_host") as env:
        mgmt = Mgmt.unix(env.dir / "mgmt.sock")
        extra = _setup(env, mgmt, [f"management = {mgmt.plugin_value()}"])
        env.install_good()
        env.start_server(extra=extra, proto="udp6")
        names = ["alice", "bob", "carol"]
        clients = _connect(env, _clients(env, names))
        before = _listed(mgmt, names)
        order = list(before)
        if any(before[n]["Real Address"] != "::1" for n in names):
            raise Failure(f"status 3 does not show the IPv6 peers as ::1: {before}")
        victim = order[-1]   # not the first row listed: that one a first-match lookup would take
        log(f"status 3 lists {order}, all at ::1; revoking {victim}")
        _revoke_connected_and_check(env, mgmt, clients, before, [victim], [n for n in names if n != victim])


@scenario
def duplicate_cn_udp6(plugin):
    """duplicate-cn, proto udp6 on ::1: bob's certificate (serial 06) is connected twice, a second
    certificate also named bob (serial 0B) and alice once each, all four at Real Address ::1. A CRL
    revokes serial 06: both of its sessions are killed (one client-kill each), the other bob and
    alice stay connected."""
    with Env(plugin, "evict_duplicate_cn_udp6") as env:
        mgmt = Mgmt.unix(env.dir / "mgmt.sock")
        extra = _setup(env, mgmt, [f"management = {mgmt.plugin_value()}"]) + ["duplicate-cn"]
        env.install_good()
        srv = env.start_server(extra=extra, proto="udp6")
        bob = env.client("bob", serial=SERIALS["bob"])
        twin_leaf = gen.make_leaf(env.pki.issuing, "bob", serial=0x0B, kind="client", key_kind=env.pki.key_kind)
        twin = gen.ClientFiles("bob", gen.write(env.dir / "pki" / "bob-twin.crt", twin_leaf.cert_pem()),
                               gen.write(env.dir / "pki" / "bob-twin.key", twin_leaf.key_pem(), 0o600), twin_leaf)
        alice = env.client("alice", serial=SERIALS["alice"])
        sessions = {"bob#1": bob, "bob#2": bob, "bob-twin": twin, "alice": alice}
        clients = {k: env.start_client(cf, extra=["--ping", "1"]) for k, cf in sessions.items()}
        vaddr = {k: _vaddr(c) for k, c in clients.items()}
        rows = {r["Virtual Address"]: r for r in _rows(mgmt)}
        if sorted(rows) != sorted(vaddr.values()):
            raise Failure(f"status 3 rows {sorted(rows)} are not the sessions' {vaddr}")
        cid = {k: rows[v]["Client ID"] for k, v in vaddr.items()}
        log("sessions: " + ", ".join(f"{k} cid {cid[k]} {vaddr[k]} {rows[vaddr[k]]['Real Address']}" for k in sessions))
        mark, cmarks = srv.mark(), _marks(clients)
        when = revoked_at()
        t0 = _revoke_issuing(env, [SERIALS["bob"]], when)
        for k in ("bob#1", "bob#2"):
            _wait_halted(clients[k], cmarks[k], EVICT_TIMEOUT, t0)
            srv.wait_for_log(rx_evict("bob", SERIALS["bob"], cid[k], "::1",
                                      rx_revoked(when, "keyCompromise", "issuing.crl", 2)),
                             max(0.5, t0 + EVICT_TIMEOUT - time.monotonic()), mark)
        deadline = t0 + GONE_TIMEOUT
        while {cid["bob#1"], cid["bob#2"]} & {r["Client ID"] for r in _rows(mgmt)}:
            if time.monotonic() > deadline:
                raise Failure(f"status 3 still lists a killed bob {GONE_TIMEOUT:.0f} s after the rename")
            time.sleep(0.1)
        _assert_killed_exactly(srv.log.text(mark), {"bob#1": cid["bob#1"], "bob#2": cid["bob#2"]})
        time.sleep(QUIET)
        after = {r["Client ID"]: r for r in _rows(mgmt)}
        for k in ("bob-twin", "alice"):
            if cid[k] not in after:
                raise Failure(f"{k} (cid {cid[k]}) is no longer listed: {sorted(after)}")
            _assert_not_halted(clients[k], cmarks[k])
        srv.assert_running()


@scenario
def username_as_cn_odd(plugin):
    """username-as-common-name: status 3 shows each session under the username it logged in with,
    as OpenVPN rewrote it. bob (revoked) logs in as "alice,<TAB>ü" padded to OpenVPN's longest (63
    bytes), alice as "alice": bob is killed in his own row, alice, whose name bob's starts with,
    stays."""
    with Env(plugin, "evict_username_as_cn_odd") as env:
        mgmt = Mgmt.unix(env.dir / "mgmt.sock")
        extra = _setup(env, mgmt, [f"management = {mgmt.plugin_value()}"])
        extra += ["script-security 2", "auth-user-pass-verify /bin/true via-file", "username-as-common-name"]
        env.install_good()
        srv = env.start_server(extra=extra)
        users = {"bob": "alice,\tü".ljust(62, "x"), "alice": "alice"}
        clients = {}
        for n, u in users.items():
            up = gen.write(env.dir / f"{n}.up", f"{u}\npw\n".encode(), 0o600)
            clients[n] = env.start_client(env.client(n, serial=SERIALS[n]), extra=["--ping", "1", "--auth-user-pass",
                                                                                  str(up)])
        rows = {r["Common Name"]: r for r in _rows(mgmt)}
        log(f"status 3 lists {sorted(rows)}")
        if len(rows) != 2 or "alice" not in rows:
            raise Failure(f"status 3 lists {sorted(rows)}, not two usernames")
        users["bob"] = next(n for n in rows if n != "alice")
        cid = {n: rows[u]["Client ID"] for n, u in users.items()}
        mark, cmarks = srv.mark(), _marks(clients)
        when = revoked_at()
        t0 = _revoke_issuing(env, [SERIALS["bob"]], when)
        _wait_halted(clients["bob"], cmarks["bob"], EVICT_TIMEOUT, t0)
        srv.wait_for_log(rx_evict("bob", SERIALS["bob"], cid["bob"], rows[users["bob"]]["Real Address"],
                                  rx_revoked(when, "keyCompromise", "issuing.crl", 2)),
                         max(0.5, t0 + EVICT_TIMEOUT - time.monotonic()), mark)
        _assert_killed_exactly(srv.log.text(mark), {"bob": cid["bob"]})
        time.sleep(QUIET)
        if cid["alice"] not in {r["Client ID"] for r in _rows(mgmt)}:
            raise Failure("alice is no longer listed")
        _assert_not_halted(clients["alice"], cmarks["alice"])
        srv.assert_running()


# --- eviction after OpenVPN's privilege drop (issue 10, item 12) --------------------------------

RX_UNREACHABLE = (r"crlsync: [^\n]*management {where} cannot be reached as uid {uid} \(nobody\), the user OpenVPN "
                  r"runs as now \([^\n]*{why}[^\n]*\): connected clients that a new CRL revokes will NOT be evicted\. "
                  r"Fix: [^\n]*searchable[^\n]*management-client-user nobody[^\n]*management-client-group[^\n]*"
                  r"TCP port with a password file")
RX_REACHABLE = r"crlsync: [^\n]*management {where} is reachable as uid {uid} \(nobody\)"


class _MgmtAs(Mgmt):
    """The test's own management connections, made as another user: with `management-client-user`
    OpenVPN checks the peer's uid, which the kernel records at connect()."""

    def __init__(self, where, uid: int):
        super().__init__(where)
        self.uid = uid

    def open(self, timeout: float = 5.0) -> MgmtConn:
        os.seteuid(self.uid)
        try:
            return super().open(timeout)
        finally:
            os.seteuid(0)


def _nobody_env(env: Env, plugin_lines: Sequence[str], mgmt: Optional[Mgmt], server_lines: Sequence[str] = ()):
    """A server that drops to nobody after opening the plugin. Returns (server, nobody's uid)."""
    from scenarios import _nobody_setup, _start_as_nobody  # noqa: E402
    nobody_lines = _nobody_setup(env)
    extra = _setup(env, mgmt, plugin_lines) + list(server_lines)
    env.install_good()
    srv = _start_as_nobody(env, nobody_lines + extra)
    return srv, pwd.getpwnam("nobody").pw_uid


def _assert_one(text: str, pattern: str, what: str) -> str:
    found = re.findall(r"^.*" + pattern + r".*$", text, re.MULTILINE)
    if len(found) != 1:
        raise Failure(f"want exactly one {what} line, have {len(found)}:\n" + "\n".join(found) + "\n" + excerpt(text))
    return found[0]


@scenario
def nobody_unix_root_only_dir(plugin):
    """`user nobody`, the management socket in a root-only (0700) directory: once OpenVPN has
    dropped privileges, before any client connects, the plugin logs one error saying that nobody
    cannot reach the socket and how to fix it. A revoked client then cannot be evicted (the
    retries say `Permission denied'), and the error is not repeated. The twins, where nobody may
    connect, are nobody_unix_client_user and nobody_tcp_password."""
    with Env(plugin, "evict_nobody_unix_root_only_dir") as env:
        private = env.dir / "private"
        private.mkdir(mode=0o700)
        os.chmod(private, 0o700)
        mgmt = Mgmt.unix(private / "mgmt.sock")
        srv, uid = _nobody_env(env, [f"management = {mgmt.plugin_value()}"], mgmt)
        t0 = time.monotonic()
        rx = RX_UNREACHABLE.format(where=re.escape(mgmt.plugin_value()), uid=uid, why="Permission denied")
        m = srv.wait_for_log(rx, 5)
        log(f"started -> the error: {(time.monotonic() - t0) * 1000:.0f} ms: {m.group(0).strip()}")
        clients = _connect(env, _clients(env, ["alice", "bob"]))
        mark, cmarks = srv.mark(), _marks(clients)
        _revoke_issuing(env, [SERIALS["bob"]], revoked_at())
        srv.wait_for_log(r"crlsync: [^\n]*management [^\n]*unavailable \(cannot connect: Permission denied\)"
                         r"[^\n]*retrying in 2 s", 8, mark)
        text = srv.log.text()
        _assert_one(text, rx, "unreachable-management error")
        if re.search(RX_ANY_EVICT, text) or re.search(RX_REACHABLE.format(where=".*", uid=uid), text):
            raise Failure(f"eviction claims to work from a root-only directory:\n{excerpt(text)}")
        srv.assert_running()


@scenario
def nobody_unix_client_user(plugin):
    """The twin of nobody_unix_root_only_dir: `user nobody`, the socket in a directory nobody can
    search, and `management-client-user nobody`, as the README advises. The plugin notes that the
    interface is reachable as nobody, and bob, revoked, is evicted while alice stays."""
    with Env(plugin, "evict_nobody_unix_client_user") as env:
        where = env.dir / "mgmt.sock"
        uid = pwd.getpwnam("nobody").pw_uid
        mgmt = _MgmtAs(where, uid)
        srv, uid = _nobody_env(env, [f"management = {mgmt.plugin_value()}"], mgmt,
                               server_lines=["management-client-user nobody"])
        srv.wait_for_log(RX_REACHABLE.format(where=re.escape(mgmt.plugin_value()), uid=uid), 5)
        _revoke_leaf_and_check(env, mgmt, ["bob"], ["alice"])
        text = srv.log.text()
        if re.search(r"cannot be reached as uid", text):
            raise Failure(f"an unreachable-management error although nobody may connect:\n{excerpt(text)}")


@scenario
def nobody_unix_client_user_refused(plugin):
    """`user nobody` and `management-client-user root` (the socket itself in a searchable
    directory): OpenVPN hangs up on the plugin's connections, and the one error names
    management-client-user."""
    with Env(plugin, "evict_nobody_unix_client_user_refused") as env:
        mgmt = Mgmt.unix(env.dir / "mgmt.sock")
        srv, uid = _nobody_env(env, [f"management = {mgmt.plugin_value()}"], mgmt,
                               server_lines=["management-client-user root"])
        rx = RX_UNREACHABLE.format(where=re.escape(mgmt.plugin_value()), uid=uid, why="no banner")
        m = srv.wait_for_log(rx, 5)
        log(m.group(0).strip())
        clients = _connect(env, _clients(env, ["alice", "bob"]))
        mark = srv.mark()
        _revoke_issuing(env, [SERIALS["bob"]], revoked_at())
        srv.wait_for_log(r"crlsync: [^\n]*management [^\n]*unavailable[^\n]*retrying in 2 s", 8, mark)
        _assert_one(srv.log.text(), rx, "unreachable-management error")
        _assert_not_halted(clients["bob"])


@scenario
def nobody_tcp_password(plugin):
    """The other twin: `user nobody` with a TCP management port on 127.0.0.1 and a root-only
    password file. The plugin notes that the port is reachable as nobody, and bob is evicted."""
    with Env(plugin, "evict_nobody_tcp_password") as env:
        password = "crlsync-" + gen.serial_hex(int(time.time() * 1000))
        mgmt = Mgmt.tcp(env.dir, password=password)
        srv, uid = _nobody_env(env, [f"management = {mgmt.plugin_value()}",
                                     f"management-password = {mgmt.password_file}"], mgmt)
        srv.wait_for_log(RX_REACHABLE.format(where=re.escape(mgmt.plugin_value()), uid=uid), 5)
        _revoke_leaf_and_check(env, mgmt, ["bob"], ["alice"])
        if password in srv.log.text():
            raise Failure("the management password appears in the server log")
