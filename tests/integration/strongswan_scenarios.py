# SPDX-License-Identifier: GPL-2.0-or-later
"""The strongSwan scenarios: a real charon (Debian 12's 5.9.8) started by the test with its own
strongswan.conf and vici socket, nginx serving CRLs, and the real `crlsync`. They assert what
charon holds (vici list-certs, the CRL number parsed from the DER it returns), crlsync's log
lines and status, and, in network namespaces the test creates, real IKEv2 handshakes with
`revocation = strict`. One ctest per scenario (integration.strongswan_<name>)."""

import os
import re
import signal
import time
from pathlib import Path
from typing import Callable, Dict

import gen
from gen import Entry, IDP
from fetcher_harness import big_crl, big_entries, tail
from harness import Failure, log
from strongswan_harness import Charon, SwanEnv, rx_number

SCENARIOS: Dict[str, Callable] = {}


def scenario(fn: Callable) -> Callable:
    SCENARIOS[fn.__name__] = fn
    return fn


SRC = "issuing"
PATH = "issuing.crl"
VICI_VALUE_MAX = 65535


def env_with_charon(crlsync, name: str, load_scoped=None):
    env = SwanEnv(crlsync, name)
    env.start_nginx()
    ch = env.start_charon()
    env.write_swan_config(ch, {SRC: [env.url(PATH)]}, load_scoped=load_scoped)
    return env, ch


def charon_status(env: SwanEnv, name: str = SRC) -> dict:
    s = env.source_status(name)
    c = s.get("charon")
    if not isinstance(c, dict):
        raise Failure(f"status --json has no charon object for {name}: {s}")
    return c


def assert_held(env: SwanEnv, ch: Charon, number: int, der: bytes) -> None:
    issuer = env.pki.issuing.cert.subject.rfc4514_string()
    held = [(n, d) for (i, n, d) in ch.crls() if i == issuer]
    if held != [(number, der)]:
        raise Failure(f"charon holds {[(n, len(d)) for (n, d) in held]} of {issuer}; expected number {number} "
                      f"({len(der)} bytes) and nothing else")
    c = charon_status(env)
    if c.get("state") != "held" or c.get("holds_current") is not True or not re.fullmatch(rx_number(number),
                                                                                            str(c.get("number"))):
        raise Failure(f"status --json charon: {c}")
    if not c.get("last_confirmed"):
        raise Failure(f"status --json charon lacks last_confirmed: {c}")


def entries_crl(env: SwanEnv, n: int, number: int, first: int = 0x100000, ca=None) -> bytes:
    t0 = time.monotonic()
    der = big_crl(ca or env.pki.issuing, big_entries(n, first), number)
    log(f"{n}-entry CRL number {number}: {len(der)} bytes in {time.monotonic() - t0:.2f} s")
    return der


# --- load-cert: CRLs that fit into one vici value --------------------------------------------------


@scenario
def small_held(crlsync):
    """A 1,000-entry CRL (about 25 KB) installed by `fetch` reaches charon through load-cert;
    list-certs returns it byte for byte with its number, status says `held'. Twin: a rollback
    the fetcher refuses is never handed to charon."""
    with env_with_charon(crlsync, "small_held")[0] as env:
        ch = env.charons[0]
        der = entries_crl(env, 1000, 5)
        if len(der) > VICI_VALUE_MAX:
            raise Failure(f"the small CRL has {len(der)} bytes")
        env.publish(PATH, der)
        r = env.fetch(expect_rc=0)
        r.assert_err(rf"source {SRC}: charon at {re.escape(ch.uri)} holds CRL number {rx_number(5)}")
        assert_held(env, ch, 5, der)
        st = env.run("status", expect_rc=0)
        st.assert_out(r"CHARON")
        st.assert_out(rf"^{SRC}\s.*\bheld\b")
        # negative twin: an older CRL is refused by the fetcher and charon keeps number 5
        env.publish(PATH, entries_crl(env, 10, 4))
        r = env.fetch(expect_rc=1)
        r.assert_err(r"rollback")
        assert_held(env, ch, 5, der)


@scenario
def delta_held(crlsync):
    """Delta CRLs (issue 14): base 10 names its delta in FreshestCRL (issuing%2B.crl), delta 11
    revokes 0x06. `fetch` hands both to charon (which applies deltas itself): list-certs returns
    base and delta byte for byte, each confirmed, the delta as source issuing+. Twin: a delta for
    a newer base (13 for base 12) is neither installed nor handed over, charon keeps delta 11."""
    env, ch = env_with_charon(crlsync, "delta_held")
    with env:
        base = env.crl(number=10, freshest=[env.url("issuing%2B.crl")], ms_ext=True)
        delta = env.crl(entries=[Entry(0x06, reason="keyCompromise")], number=11, delta_base=10, ms_ext=True)
        env.publish(PATH, base)
        env.publish("issuing+.crl", delta)
        r = env.fetch(expect_rc=0)
        r.assert_err(rf"source {SRC}: charon at {re.escape(ch.uri)} holds CRL number {rx_number(10)}")
        r.assert_err(rf"source {SRC}\+: charon at {re.escape(ch.uri)} holds CRL number {rx_number(11)}")
        issuer = env.pki.issuing.cert.subject.rfc4514_string()
        held = sorted((n, d) for (i, n, d) in ch.crls() if i == issuer)
        if held != [(10, base), (11, delta)]:
            raise Failure(f"charon holds {[(n, len(d)) for (n, d) in held]}; expected base 10 and delta 11")
        env.publish("issuing+.crl", env.crl(entries=[Entry(0x07)], number=13, delta_base=12, ms_ext=True))
        env.fetch(expect_rc=1).assert_err(r"newer than the installed base")
        held = sorted((n, d) for (i, n, d) in ch.crls() if i == issuer)
        if held != [(10, base), (11, delta)]:
            raise Failure(f"after a delta for a newer base charon holds {[(n, len(d)) for (n, d) in held]}")


@scenario
def newer_replaces(crlsync):
    """Number 1 held by charon; nginx then serves number 2: charon holds number 2 and only it.
    Twin: the same number again (304) loads nothing new and keeps number 2."""
    env, ch = env_with_charon(crlsync, "newer_replaces")
    with env:
        d1 = env.crl(entries=[Entry(0x05)], number=1)
        env.publish(PATH, d1)
        env.fetch(expect_rc=0)
        assert_held(env, ch, 1, d1)
        d2 = env.crl(entries=[Entry(0x05), Entry(0x06)], number=2)
        env.publish(PATH, d2)
        env.fetch(expect_rc=0).assert_err(rf"holds CRL number {rx_number(2)}")
        assert_held(env, ch, 2, d2)
        r = env.fetch(expect_rc=0)
        r.assert_not("load-cert")
        assert_held(env, ch, 2, d2)


@scenario
def charon_restarted(crlsync):
    """charon restarts and forgets its CRLs: the next refresh (a 304, nothing installed) finds it
    missing in list-certs and loads it again. Twin: while charon is down the refresh logs an
    error naming the socket and the source, exits 0 (the CRL is fresh) and status says error."""
    env, ch = env_with_charon(crlsync, "charon_restarted")
    with env:
        d1 = env.crl(number=3)
        env.publish(PATH, d1)
        env.fetch(expect_rc=0)
        assert_held(env, ch, 3, d1)
        ch.stop()
        r = env.fetch(expect_rc=0)
        r.assert_err(rf"error: source {SRC}: charon at {re.escape(ch.uri)}: cannot connect")
        if charon_status(env).get("state") != "error":
            raise Failure(f"status after a failed hand-over: {charon_status(env)}")
        ch.start()
        if ch.numbers(env.pki.issuing.cert.subject):
            raise Failure("a fresh charon already holds a CRL")
        env.fetch(expect_rc=0).assert_err(rf"holds CRL number {rx_number(3)}")
        assert_held(env, ch, 3, d1)


@scenario
def charon_stopped_during_refresh(crlsync):
    """The daemon runs; charon is stopped; number 2 is published and `crlsync refresh` sent: the
    CRL is installed, the hand-over error names the socket and source, the daemon keeps running.
    charon comes back: the next SIGUSR1 (an unchanged CRL) hands number 2 over."""
    env, ch = env_with_charon(crlsync, "charon_stopped_during_refresh")
    with env:
        d1 = env.crl(number=1)
        env.publish(PATH, d1)
        d = env.start_daemon()
        d.wait_for_log(rf"holds CRL number {rx_number(1)}", timeout=20)
        assert_held(env, ch, 1, d1)
        ch.stop()
        d2 = env.crl(entries=[Entry(0x07)], number=2)
        env.publish(PATH, d2)
        mark = d.mark()
        env.run("refresh", "--pidfile", str(env.pidfile), expect_rc=0)
        d.wait_for_log(rf"installed CRL number {rx_number(2)}", timeout=20, since=mark)
        d.wait_for_log(rf"source {SRC}: charon at {re.escape(ch.uri)}: cannot connect", timeout=20, since=mark)
        env.assert_installed(SRC, d2)
        d.assert_running()
        ch.start()
        mark = d.mark()
        env.run("refresh", "--pidfile", str(env.pidfile), expect_rc=0)
        d.wait_for_log(rf"holds CRL number {rx_number(2)}", timeout=20, since=mark)
        assert_held(env, ch, 2, d2)
        d.assert_running()


def charon_pid(ch: Charon) -> int:
    """The charon process itself (the harness execs it from unshare's shell, so normally proc.pid)."""
    pid = ch.proc.pid
    for _ in range(3):
        if Path(f"/proc/{pid}/comm").read_text().strip() == "charon":
            return pid
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if len(kids) != 1:
            break
        pid = int(kids[0])
    raise Failure(f"cannot find charon below pid {ch.proc.pid}")


@scenario
def charon_hung_during_refresh(crlsync):
    """charon hangs (SIGSTOP: its vici socket still accepts, nothing answers) while the daemon
    installs number 2: the install is not held up, the hand-over gives up after its timeout
    (5 s per read) with an error naming the socket, the source and the command, status says
    error, and the daemon keeps running and still answers. Twin: charon resumes (SIGCONT) and the
    next `crlsync refresh` hands number 2 over."""
    env, ch = env_with_charon(crlsync, "charon_hung_during_refresh")
    with env:
        d1 = env.crl(number=1)
        env.publish(PATH, d1)
        d = env.start_daemon()
        d.wait_for_log(rf"holds CRL number {rx_number(1)}", timeout=20)
        pid = charon_pid(ch)
        os.kill(pid, signal.SIGSTOP)
        try:
            d2 = env.crl(entries=[Entry(0x07)], number=2)
            env.publish(PATH, d2)
            mark = d.mark()
            t0 = time.monotonic()
            env.run("refresh", "--pidfile", str(env.pidfile), expect_rc=0)
            d.wait_for_log(rf"installed CRL number {rx_number(2)}", timeout=20, since=mark)
            env.assert_installed(SRC, d2)
            d.wait_for_log(rf"error: source {SRC}: charon at {re.escape(ch.uri)}: `[a-z-]+': cannot receive: no "
                           rf"answer in time \(5000 ms\); the installed CRL number {rx_number(2)} stays", timeout=40,
                           since=mark)
            took = time.monotonic() - t0
            log(f"hung charon: hand-over abandoned after {took:.1f} s")
            if took > 35:
                raise Failure(f"a hung charon held the daemon for {took:.1f} s")
            d.assert_running()
            c = charon_status(env)
            if c.get("state") != "error" or c.get("holds_current") is not False:
                raise Failure(f"status while charon hangs: {c}")
        finally:
            os.kill(pid, signal.SIGCONT)
        mark = d.mark()
        env.run("refresh", "--pidfile", str(env.pidfile), expect_rc=0)
        d.wait_for_log(rf"holds CRL number {rx_number(2)}", timeout=20, since=mark)
        assert_held(env, ch, 2, d2)
        d.assert_running()


# --- charon restarts and failed hand-overs, handled by the daemon on its own (issue 13, item 1) ----

REHAND_LIMIT = 10.0  # the contract: every CRL handed over again within 10 s of charon answering


def crash_charon(ch: Charon) -> None:
    """SIGKILL, as a crash: charon gets no chance to say goodbye; the daemon only sees its vici
    connection close."""
    os.kill(charon_pid(ch), signal.SIGKILL)
    ch.proc.wait(timeout=10)


def restart_rehands(crlsync, name: str, large: bool) -> float:
    """The daemon runs and charon holds (or reads on demand) number 3; charon crashes and is
    started again: with no signal and no hook, the daemon hands the CRL over again. Returns the
    seconds from charon answering again to the hand-over."""
    env, ch = env_with_charon(crlsync, name)
    with env:
        if large:
            write_authority(ch, env, env.pki.issuing_crt)
            ch.load_all()
            der = entries_crl(env, 4000, 3)
            if len(der) <= VICI_VALUE_MAX:
                raise Failure(f"the large CRL has only {len(der)} bytes")
            done = rf"source {SRC}: charon at {re.escape(ch.uri)} will read CRL number {rx_number(3)}"
        else:
            der = env.crl(entries=[Entry(0x05)], number=3)
            done = rf"source {SRC}: charon at {re.escape(ch.uri)} holds CRL number {rx_number(3)}"
        env.publish(PATH, der)
        d = env.start_daemon()
        d.wait_for_log(done, timeout=20)
        if not large:
            assert_held(env, ch, 3, der)
        for round_ in (1, 2):
            mark = d.mark()
            crash_charon(ch)
            time.sleep(2.5 * round_)  # down for a while: the daemon's reconnect attempts fail meanwhile
            ch.start()  # returns once charon answers on vici
            t0 = time.monotonic()
            if large:
                ch.load_all()  # what strongSwan's unit does after start (swanctl --load-all)
                d.wait_for_log(done, timeout=REHAND_LIMIT + 5, since=mark)
            else:
                issuer = env.pki.issuing.cert.subject
                deadline = t0 + REHAND_LIMIT + 5
                while ch.numbers(issuer) != [3]:
                    if time.monotonic() > deadline:
                        raise Failure(f"charon restarted holds {ch.numbers(issuer)} after "
                                      f"{time.monotonic() - t0:.1f} s; daemon log:\n{tail(d.log.text())}")
                    d.assert_running()
                    time.sleep(0.05)
            took = time.monotonic() - t0
            log(f"charon restart {round_} ({'on-demand' if large else 'load-cert'} path): CRL handed over again "
                f"{took:.2f} s after charon answered")
            if took > REHAND_LIMIT:
                raise Failure(f"re-hand took {took:.1f} s (limit {REHAND_LIMIT:.0f} s)")
            d.wait_for_log(rf"charon at {re.escape(ch.uri)} closed its vici connection", timeout=5, since=mark)
            d.wait_for_log(r"charon at .* answers: handing every CRL over again", timeout=5, since=mark)
        if large:
            c = charon_status(env)
            if c.get("state") != "on-demand" or c.get("holds_current") is not True:
                raise Failure(f"status after the restart: {c}")
        else:
            assert_held(env, ch, 3, der)
        if re.search(r"SIGUSR1 received", d.log.text()):
            raise Failure("the daemon was signalled")
        d.signal(signal.SIGTERM)
        if d.wait_exit(5) != 0:
            raise Failure(f"SIGTERM: exit status {d.proc.returncode}")
        return took


@scenario
def charon_crash_rehand_small(crlsync):
    """charon crashes (SIGKILL) under a running daemon and is started again, twice: without any
    signal or hook the daemon notices (its idle vici connection closes), reconnects as charon
    answers and loads the CRL again (load-cert): list-certs returns number 3 within 10 s of charon
    answering. Twin: while charon is away, nothing is handed over (it holds nothing when back)."""
    restart_rehands(crlsync, "charon_crash_rehand_small", large=False)


@scenario
def charon_crash_rehand_large(crlsync):
    """The same for a CRL above vici's 64 KiB (about 90 KB): after each restart and swanctl
    --load-all the daemon confirms the authority's crl_uris, flushes charon's cache and says so
    within 10 s; status says on-demand."""
    restart_rehands(crlsync, "charon_crash_rehand_large", large=True)


@scenario
def handover_timeout_retried(crlsync):
    """charon hangs (SIGSTOP) while the daemon installs number 2: the hand-over times out. charon
    resumes (SIGCONT): the daemon hands number 2 over on its own (backoff from 1 s), with no
    `crlsync refresh' and long before its next scheduled pass (interval 1 h)."""
    env, ch = env_with_charon(crlsync, "handover_timeout_retried")
    with env:
        d1 = env.crl(number=1)
        env.publish(PATH, d1)
        d = env.start_daemon()
        d.wait_for_log(rf"holds CRL number {rx_number(1)}", timeout=20)
        pid = charon_pid(ch)
        os.kill(pid, signal.SIGSTOP)
        try:
            d2 = env.crl(entries=[Entry(0x07)], number=2)
            env.publish(PATH, d2)
            mark = d.mark()
            env.run("refresh", "--pidfile", str(env.pidfile), expect_rc=0)
            d.wait_for_log(rf"installed CRL number {rx_number(2)}", timeout=20, since=mark)
            d.wait_for_log(rf"error: source {SRC}: charon at {re.escape(ch.uri)}: `[a-z-]+': cannot receive: no "
                           rf"answer in time", timeout=40, since=mark)
        finally:
            os.kill(pid, signal.SIGCONT)
        t0 = time.monotonic()
        mark2 = d.mark()
        d.wait_for_log(rf"holds CRL number {rx_number(2)}", timeout=70, since=mark2)
        log(f"hand-over retried {time.monotonic() - t0:.1f} s after charon resumed")
        assert_held(env, ch, 2, d2)
        if len(re.findall(r"SIGUSR1 received", d.log.text(mark))) != 1:
            raise Failure("the daemon was signalled again")


@scenario
def handover_refused_retried(crlsync):
    """charon refuses the hand-over of a CRL above 64 KiB (no authority lists its file in
    crl_uris): an error. The administrator then loads the authority (swanctl --load-all), and the
    daemon, retrying with backoff, hands the CRL over within seconds, no signal sent. Twin: the
    error is not repeated once handed over."""
    env, ch = env_with_charon(crlsync, "handover_refused_retried")
    with env:
        der = entries_crl(env, 4000, 5)
        env.publish(PATH, der)
        d = env.start_daemon()
        d.wait_for_log(rf"error: source {SRC}: charon at {re.escape(ch.uri)}: the CRL has {len(der)} bytes, more "
                       rf"than vici's 65535-byte limit, and no authority", timeout=20)
        d.wait_for_log(r"no authority", timeout=10, since=d.mark())  # retried, still refused
        write_authority(ch, env, env.pki.issuing_crt)
        ch.load_all()
        t0 = time.monotonic()
        mark = d.mark()
        d.wait_for_log(rf"source {SRC}: charon at {re.escape(ch.uri)} will read CRL number {rx_number(5)}",
                       timeout=70, since=mark)
        log(f"refused hand-over succeeded {time.monotonic() - t0:.1f} s after the authority was loaded")
        c = charon_status(env)
        if c.get("state") != "on-demand":
            raise Failure(f"status: {c}")
        time.sleep(3)
        if "no authority" in d.log.text(mark):
            raise Failure(f"refused again after the hand-over:\n{tail(d.log.text(mark))}")
        if "SIGUSR1" in d.log.text():
            raise Failure("the daemon was signalled")


@scenario
def pem_found_installed(crlsync):
    """A PEM CRL an administrator put into cache-dir before crlsync's first run, the same CRL
    nginx serves: crlsync learns it (no install: unchanged) and hands charon its DER, which
    list-certs returns byte for byte. Twin: a PEM file holding an older number is replaced by the
    served one, and charon holds the served number, never the PEM's."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    def pem(der: bytes) -> bytes:
        return x509.load_der_x509_crl(der).public_bytes(Encoding.PEM)

    env, ch = env_with_charon(crlsync, "pem_found_installed")
    with env:
        d4 = env.crl(entries=[Entry(0x05)], number=4)
        env.publish(PATH, d4)
        env.cache.mkdir(parents=True, exist_ok=True)
        (env.cache / f"{SRC}.crl").write_bytes(pem(d4))
        r = env.fetch(expect_rc=0)
        r.assert_err(rf"serves the installed CRL number {rx_number(4)}: unchanged")
        r.assert_not("installed CRL number 04 from")
        r.assert_err(rf"source {SRC}: charon at {re.escape(ch.uri)} holds CRL number {rx_number(4)}")
        assert_held(env, ch, 4, d4)
    env, ch = env_with_charon(crlsync, "pem_found_installed_older")
    with env:
        d3, d5 = env.crl(number=3), env.crl(entries=[Entry(0x05)], number=5)
        env.cache.mkdir(parents=True, exist_ok=True)
        (env.cache / f"{SRC}.crl").write_bytes(pem(d3))
        env.publish(PATH, d5)
        env.fetch(expect_rc=0).assert_err(rf"holds CRL number {rx_number(5)}")
        env.assert_installed(SRC, d5)
        assert_held(env, ch, 5, d5)


@scenario
def scoped_not_loaded(crlsync):
    """A CRL with an issuingDistributionPoint (onlyContainsUserCerts) is installed but not handed
    to charon (load-scoped = no, the default): logged, charon holds nothing, status not-loaded.
    Twin: with load-scoped = yes it is loaded and held."""
    env, ch = env_with_charon(crlsync, "scoped_not_loaded")
    with env:
        der = env.crl(entries=[Entry(0x05)], number=2, idp=IDP(only_user=True))
        env.publish(PATH, der)
        r = env.fetch(expect_rc=0)
        r.assert_err(rf"warning: source {SRC}: CRL number {rx_number(2)} is scoped")
        env.assert_installed(SRC, der)
        if ch.numbers(env.pki.issuing.cert.subject):
            raise Failure(f"charon holds a scoped CRL: {ch.crls()}")
        if charon_status(env).get("state") != "not-loaded":
            raise Failure(f"status: {charon_status(env)}")
        env.write_swan_config(ch, {SRC: [env.url(PATH)]}, load_scoped=True)
        env.fetch(expect_rc=0).assert_err(rf"holds CRL number {rx_number(2)}")
        assert_held(env, ch, 2, der)


# --- large CRLs: crl_uris = file://, flush-certs --------------------------------------------------


@scenario
def large_without_authority(crlsync):
    """A 100,000-entry CRL (over 2 MB) cannot go through vici: without an authority whose
    crl_uris names the installed file, crlsync logs an error saying so, the CRL stays installed
    and status says error. Twin (large_on_demand): with the authority it is handed over."""
    env, ch = env_with_charon(crlsync, "large_without_authority")
    with env:
        der = entries_crl(env, 100000, 9)
        env.publish(PATH, der)
        r = env.fetch(expect_rc=0)
        r.assert_err(rf"error: source {SRC}: charon at {re.escape(ch.uri)}: the CRL has {len(der)} bytes, more than "
                     rf"vici's 65535-byte limit, and no authority in charon lists crl_uris = file://")
        env.assert_installed(SRC, der)
        if charon_status(env).get("state") != "error":
            raise Failure(f"status: {charon_status(env)}")


def write_authority(ch: Charon, env: SwanEnv, ca_crt: Path, extra: str = "", source: str = SRC) -> None:
    """swanctl.conf: an authority for `source` whose crl_uris is crlsync's installed file (+ `extra`)."""
    (ch.swanctl_dir / "x509ca" / ca_crt.name).write_bytes(ca_crt.read_bytes())
    (ch.swanctl_dir / "swanctl.conf").write_text(f"""authorities {{
    crlsync-{source} {{
        cacert = {ca_crt.name}
        crl_uris = file://{env.cache}/{source}.crl
    }}
}}
{extra}""")


@scenario
def large_on_demand(crlsync):
    """A 100,000-entry CRL with `authorities.X.crl_uris = file://CACHE/issuing.crl' in charon:
    crlsync flushes charon's CRL cache and confirms the authority; status on-demand. A
    1,000-entry CRL loaded before (load-cert) would shadow it: twin, logged as an error."""
    env, ch = env_with_charon(crlsync, "large_on_demand")
    with env:
        write_authority(ch, env, env.pki.issuing_crt)
        ch.load_all()
        small = entries_crl(env, 1000, 1)
        env.publish(PATH, small)
        env.fetch(expect_rc=0)
        assert_held(env, ch, 1, small)
        big = entries_crl(env, 100000, 2)
        env.publish(PATH, big)
        t0 = time.monotonic()
        r = env.fetch(expect_rc=0)
        log(f"fetch + hand-over of {len(big)} bytes: {time.monotonic() - t0:.2f} s")
        # the small number 1 still sits in charon's vici store and would be used instead: an error
        r.assert_err(rf"error: source {SRC}: charon at {re.escape(ch.uri)}: charon holds CRL number 01 of the same "
                     rf"issuer.*swanctl --load-creds --clear")
        ch.swanctl("--load-creds", "--clear", "--noprompt", "--file", str(ch.swanctl_dir / "swanctl.conf"))
        mark = len(ch.log.text())
        r = env.fetch(expect_rc=0)
        r.assert_err(rf"source {SRC}: charon at {re.escape(ch.uri)} will read CRL number {rx_number(2)} from "
                     rf"file://{re.escape(str(env.cache))}/{SRC}.crl \(authority crlsync-{SRC}")
        c = charon_status(env)
        if c.get("state") != "on-demand" or c.get("holds_current") is not True:
            raise Failure(f"status: {c}")
        if "flush" not in ch.log.text()[mark:] and "flushed" not in r.err:
            raise Failure("no cache flush")


# --- IKEv2 between two charons in network namespaces ----------------------------------------------

IKE_PROPOSAL = "aes128-sha256-modp2048"


def ike_pair(env: SwanEnv, number: int, revoked: int):
    """moon (gateway, crlsync's CRL via crl_uris file://) and a client charon in two fresh
    namespaces; root CA issues moon, carol and dave (the crlsync source CA is the root here:
    chain leaf -> self-signed root)."""
    ns_a, ns_b, ip_a, ip_b = env.make_netns_pair()
    root = env.pki.root
    moon_leaf = gen.make_leaf(root, "moon", serial=0x4000)
    clients = {"carol": gen.make_leaf(root, "carol", serial=0x4001),
               "dave": gen.make_leaf(root, "dave", serial=0x4002)}
    moon = env.new_charon("moon", netns=ns_a, port=500)
    write_authority(moon, env, env.pki.root_crt, source="root", extra=f"""connections {{
    rw {{
        version = 2
        local_addrs = {ip_a}
        proposals = {IKE_PROPOSAL}
        local {{
            auth = pubkey
            certs = moon.crt
        }}
        remote {{
            auth = pubkey
            revocation = strict
        }}
        children {{
            net {{
                local_ts = {ip_a}/32
                esp_proposals = aes128-sha256
            }}
        }}
    }}
}}
""")
    gen.write(moon.swanctl_dir / "x509" / "moon.crt", moon_leaf.cert_pem())
    gen.write(moon.swanctl_dir / "private" / "moon.key", moon_leaf.key_pem(), 0o600)
    client = env.new_charon("client", netns=ns_b, port=500)
    conns = ""
    for name, leaf in clients.items():
        gen.write(client.swanctl_dir / "x509" / f"{name}.crt", leaf.cert_pem())
        gen.write(client.swanctl_dir / "private" / f"{name}.key", leaf.key_pem(), 0o600)
        conns += f"""    {name} {{
        version = 2
        remote_addrs = {ip_a}
        local_addrs = {ip_b}
        proposals = {IKE_PROPOSAL}
        local {{
            auth = pubkey
            certs = {name}.crt
        }}
        remote {{
            auth = pubkey
        }}
        children {{
            {name} {{
                remote_ts = {ip_a}/32
                esp_proposals = aes128-sha256
            }}
        }}
    }}
"""
    (client.swanctl_dir / "x509ca" / "root.crt").write_bytes(env.pki.root_crt.read_bytes())
    (client.swanctl_dir / "swanctl.conf").write_text("connections {\n" + conns + "}\n")
    moon.start()
    client.start()
    moon.load_all()
    client.load_all()
    env.write_config({"root": {"urls": [env.url("root.crl")], "ca": env.pki.root_crt}})
    with open(env.config, "a") as f:
        f.write("\n".join(env.strongswan_lines(moon)) + "\n")
    return moon, client, clients


def initiate(moon: Charon, client: Charon, name: str) -> str:
    """Initiates `name`'s connection from the client; returns "established" or "refused" from
    moon's point of view (its IKE_AUTH verdict; the CHILD_SA is not required)."""
    mark = len(moon.log.text())
    p = client.swanctl("--initiate", "--child", name, "--timeout", "20", timeout=40, check=False)
    text = moon.log.text()[mark:]
    # each attempt needs its own IKE_AUTH: never reuse the IKE_SA (the CHILD_SA may fail to install
    # on a kernel without ESP, the IKE_SA stays up otherwise)
    client.swanctl("--terminate", "--ike", name, "--timeout", "5", timeout=20, check=False)
    if re.search(r"IKE_SA rw\[\d+\] established", text):
        return "established"
    if re.search(r"certificate was revoked|AUTHENTICATION_FAILED|no trusted RSA public key found", text):
        return "refused"
    raise Failure(f"no IKE_AUTH verdict for {name} (swanctl exit {p.returncode}):\n{tail(p.stdout.decode(errors='replace'))}"
                  f"\nmoon:\n{tail(text, 40)}")


def assert_no_network_fetch(moon: Charon, cache: Path) -> None:
    for m in re.finditer(r"fetching (crl|ocsp) from '([^']*)'", moon.log.text()):
        if m.group(1) != "crl" or not m.group(2).startswith(f"file://{cache}/"):
            raise Failure(f"charon fetched over the network: {m.group(0)}")


@scenario
def ike_revocation(crlsync):
    """IKEv2 between two charons in two network namespaces (certificate auth, moon with
    revocation = strict). A 100,000-entry CRL revoking dave, installed by crlsync and read by
    moon through crl_uris = file://: carol is authenticated, dave refused. Then a newer CRL also
    revoking carol: crlsync flushes moon's cache and carol is refused too. moon never fetches
    anything but the installed file."""
    with SwanEnv(crlsync, "ike_revocation") as env:
        env.start_nginx()
        moon, client, clients = ike_pair(env, 1, 0x4002)
        root = env.pki.root
        big = big_crl(root, big_entries(99999, 0x100000) + _entry(0x4002), 7)
        log(f"root CRL number 7: {len(big)} bytes")
        env.publish("root.crl", big)
        env.fetch(expect_rc=0).assert_err(rf"source root: charon at {re.escape(moon.uri)} will read CRL number "
                                          rf"{rx_number(7)}")
        if initiate(moon, client, "carol") != "established":
            raise Failure(f"carol (good) was refused:\n{tail(moon.log.text(), 40)}")
        if initiate(moon, client, "dave") != "refused":
            raise Failure("dave (revoked in CRL 7) was authenticated")
        if not re.search(r"fetching crl from 'file://" + re.escape(str(env.cache)) + r"/root\.crl'", moon.log.text()):
            raise Failure(f"moon did not read the installed file:\n{tail(moon.log.text(), 40)}")
        # a newer CRL revoking carol as well: read at the next check, not the cached number 7
        newer = big_crl(root, big_entries(99999, 0x100000) + _entry(0x4001) + _entry(0x4002), 8)
        env.publish("root.crl", newer)
        env.fetch(expect_rc=0).assert_err(rf"will read CRL number {rx_number(8)}")
        if initiate(moon, client, "carol") != "refused":
            raise Failure("carol (revoked in CRL 8) was still authenticated: charon used the older CRL")
        assert_no_network_fetch(moon, env.cache)
        log(f"largest CRL proven in charon: {len(newer)} bytes, 100,001 entries")


def _entry(serial: int) -> bytes:
    """One revokedCertificates entry (serial, an hour ago) in DER, as big_entries() makes them."""
    return big_entries(1, serial)
