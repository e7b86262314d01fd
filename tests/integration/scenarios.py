# SPDX-License-Identifier: GPL-2.0-or-later
"""The integration scenarios: each builds its own PKI and cache, runs a real OpenVPN server with
the plugin, and asserts both the verdict and the plugin's log line (after strongSwan's
testing/tests/ikev2/crl-revoked). One ctest per scenario (see CMakeLists.txt)."""

import datetime
import grp
import os
import pwd
import re
import shutil
from typing import Callable, Dict, List, Sequence

import gen
from gen import IDP, Entry
from harness import RE_RELOAD, Env, Failure, Server, excerpt, kill_proc, log, sighup_and_wait

SCENARIOS: Dict[str, Callable] = {}


def scenario(fn: Callable) -> Callable:
    SCENARIOS[fn.__name__] = fn
    return fn


ISSUING_CN = "crlsync test issuing CA"
ROOT_CN = "crlsync test root CA"


def utc(dt: datetime.datetime) -> str:
    """The plugin's date format: 2026-11-02 10:00:00 UTC."""
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC")


def revoked_at() -> datetime.datetime:
    """A fixed revocation date, a day ago to the second, so the log line can be asserted exactly."""
    return gen.now() - datetime.timedelta(days=1, hours=2)


def rx_serial(serial: int) -> str:
    """serial=<HEX>: the magnitude in hex, any case; leading zero octets tolerated."""
    return r"serial=(?i:(?:0x)?(?:00)*" + gen.serial_hex(serial) + r")\b"


def rx_reject(depth: int, cn: str, serial: int, issuer_cn: str, reason: str) -> str:
    """The contract: REJECT depth=<d> subject=<RFC 2253> serial=<HEX> issuer=<...>: <reason>."""
    return (rf"crlsync: REJECT depth={depth} subject=[^\n]*CN={re.escape(cn)}\b[^\n]* {rx_serial(serial)} "
            rf"issuer=[^\n]*CN={re.escape(issuer_cn)}[^\n]*: {reason}")


def rx_revoked(when: datetime.datetime, reason: str, origin: str, number: int) -> str:
    return (rf"revoked on {re.escape(utc(when))}, reason {reason} "
            rf"\(CRL {re.escape(origin)} number (?:0x)?0*{number:X}\)")


RX_NO_CRL = r"no usable CRL for the issuer \([^\n]+\)"


def rx_refused(name: str) -> str:
    """A refused file: a plugin line naming the file and saying refused or keeping."""
    return rf"crlsync: [^\n]*{re.escape(name)}[^\n]*\b(?:refused|keeping)\b"


def cur_server_log(env: Env) -> str:
    return env.server.log.text()


def assert_log(text: str, pattern: str, what: str) -> re.Match:
    m = re.search(pattern, text, re.MULTILINE)
    if not m:
        raise Failure(f"{what}: log lacks /{pattern}/:\n{excerpt(text)}")
    return m


# --- verdicts on a fixed cache ---------------------------------------------------------------------


@scenario
def good(plugin):
    """Both CRLs current, alice not listed (another serial is): accepted."""
    with Env(plugin, "good") as env:
        env.write_config()
        env.install_good(issuing_entries=[Entry(0x77, reason="keyCompromise")])
        env.start_server()
        alice = env.client("alice", serial=0x05)
        r = env.connect(alice, expect="accepted")
        r.assert_server_log(r"VERIFY PLUGIN OK: depth=0, [^\n]*CN=alice")
        r.assert_server_log(r"VERIFY PLUGIN OK: depth=1, [^\n]*CN=" + re.escape(ISSUING_CN))
        r.assert_not_server_log(r"ACCEPT \(relaxed\)")


@scenario
def revoked(plugin):
    """alice listed with keyCompromise: rejected, the line names serial, date, reason and CRL."""
    with Env(plugin, "revoked") as env:
        env.write_config()
        when = revoked_at()
        env.install("root.crl", env.crl(env.pki.root))
        env.install("issuing.crl", env.crl(env.pki.issuing, [Entry(0x05, when, "keyCompromise")], number=2))
        env.start_server()
        r = env.connect(env.client("alice", serial=0x05), expect="rejected")
        r.assert_server_log(rx_reject(0, "alice", 0x05, ISSUING_CN, rx_revoked(when, "keyCompromise", "issuing.crl", 2)))
        # Its twin: bob, issued by the same CA and not listed.
        env.connect(env.client("bob", serial=0x06), expect="accepted")


@scenario
def hold(plugin):
    """certificateHold is a revocation while it lasts."""
    with Env(plugin, "hold") as env:
        env.write_config()
        when = revoked_at()
        env.install("root.crl", env.crl(env.pki.root))
        env.install("issuing.crl", env.crl(env.pki.issuing, [Entry(0x05, when, "certificateHold")], number=2))
        env.start_server()
        r = env.connect(env.client("alice", serial=0x05), expect="rejected")
        r.assert_server_log(rx_reject(0, "alice", 0x05, ISSUING_CN, rx_revoked(when, "certificateHold", "issuing.crl", 2)))


@scenario
def hold_released(plugin):
    """A newer CRL without the hold entry lets the certificate in again."""
    with Env(plugin, "hold_released") as env:
        env.write_config()
        env.install("root.crl", env.crl(env.pki.root))
        env.install("issuing.crl", env.crl(env.pki.issuing, [Entry(0x05, reason="certificateHold")], number=2))
        env.start_server()
        alice = env.client("alice", serial=0x05)
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(r"crlsync: REJECT depth=0 [^\n]*certificateHold")
        dt = env.install_and_wait("issuing.crl", env.crl(env.pki.issuing, [], number=3))
        log(f"rename -> reload line: {dt * 1000:.1f} ms")
        env.connect(alice, expect="accepted")


@scenario
def revoked_intermediate(plugin):
    """The root's CRL revokes the issuing CA: every client below it is rejected at depth 1."""
    with Env(plugin, "revoked_intermediate") as env:
        env.write_config()
        when = revoked_at()
        iss_serial = env.pki.issuing.cert.serial_number
        env.install("root.crl", env.crl(env.pki.root, [Entry(iss_serial, when, "cACompromise")], number=4))
        env.install("issuing.crl", env.crl(env.pki.issuing))
        env.start_server()
        r = env.connect(env.client("alice", serial=0x05), expect="rejected")
        r.assert_server_log(rx_reject(1, ISSUING_CN, iss_serial, ROOT_CN, rx_revoked(when, "cACompromise", "root.crl", 4)))
        r.assert_server_log(r"VERIFY PLUGIN ERROR: depth=1")


@scenario
def expired_reject(plugin):
    """The issuing CRL is past nextUpdate and the policy is the default (expired=reject, grace 0)."""
    with Env(plugin, "expired_reject") as env:
        env.write_config()
        nu = gen.now() - datetime.timedelta(hours=1)
        env.install("root.crl", env.crl(env.pki.root))
        env.install("issuing.crl", env.crl(env.pki.issuing, this_update=-2 * 86400, next_update=nu))
        env.start_server()
        r = env.connect(env.client("alice", serial=0x05), expect="rejected")
        # Contract: "CRL <origin> expired at <date>"; the number may stand between.
        r.assert_server_log(rx_reject(0, "alice", 0x05, ISSUING_CN,
                                      rf"CRL issuing\.crl(?: number \S+)? expired at {re.escape(utc(nu))}"))


@scenario
def expired_grace(plugin):
    """grace=3600 as a plugin argument: a CRL expired 10 minutes ago is still honoured, loudly."""
    with Env(plugin, "expired_grace") as env:
        env.write_config()
        env.install("root.crl", env.crl(env.pki.root))
        env.install("issuing.crl", env.crl(env.pki.issuing, [Entry(0x06, reason="keyCompromise")],
                                           this_update=-86400, next_update=-600))
        env.start_server(plugin_args=["grace=3600"])
        r = env.connect(env.client("alice", serial=0x05), expect="accepted")
        r.assert_server_log(r"crlsync: ACCEPT \(relaxed\) depth=0 [^\n]*CN=alice[^\n]*within grace")
        # Grace honours the CRL, entries included.
        r = env.connect(env.client("bob", serial=0x06), expect="rejected")
        r.assert_server_log(r"crlsync: REJECT depth=0 [^\n]*CN=bob[^\n]*keyCompromise")


@scenario
def expired_accept(plugin):
    """expired=accept as a plugin argument: a CRL expired two days ago is honoured, loudly."""
    with Env(plugin, "expired_accept") as env:
        env.write_config()
        env.install("root.crl", env.crl(env.pki.root))
        env.install("issuing.crl", env.crl(env.pki.issuing, [Entry(0x06, reason="keyCompromise")],
                                           this_update=-4 * 86400, next_update=-2 * 86400))
        env.start_server(plugin_args=["expired=accept"])
        r = env.connect(env.client("alice", serial=0x05), expect="accepted")
        r.assert_server_log(r"crlsync: ACCEPT \(relaxed\) depth=0 [^\n]*CN=alice")
        # An expired CRL still revokes what it lists.
        r = env.connect(env.client("bob", serial=0x06), expect="rejected")
        r.assert_server_log(r"crlsync: REJECT depth=0 [^\n]*CN=bob[^\n]*keyCompromise")


@scenario
def missing_reject(plugin):
    """No CRL from the issuing CA and missing=reject (the default)."""
    with Env(plugin, "missing_reject") as env:
        env.write_config()
        env.install("root.crl", env.crl(env.pki.root))
        env.start_server()
        r = env.connect(env.client("alice", serial=0x05), expect="rejected")
        r.assert_server_log(rx_reject(0, "alice", 0x05, ISSUING_CN, RX_NO_CRL))
        # The issuing CA itself is covered by the root's CRL: depth 1 passed.
        r.assert_server_log(r"VERIFY PLUGIN OK: depth=1")


@scenario
def missing_accept(plugin):
    """missing=accept in the config file: accepted, with a relaxed line."""
    with Env(plugin, "missing_accept") as env:
        env.write_config(missing="accept")
        env.install("root.crl", env.crl(env.pki.root))
        env.start_server()
        r = env.connect(env.client("alice", serial=0x05), expect="accepted")
        r.assert_server_log(r"crlsync: ACCEPT \(relaxed\) depth=0 [^\n]*CN=alice[^\n]*" + RX_NO_CRL)


# --- formats -------------------------------------------------------------------------------------


@scenario
def pem_and_der(plugin):
    """The root CRL in PEM, the issuing one in DER, under names without an extension."""
    with Env(plugin, "pem_and_der") as env:
        env.write_config()
        env.install("rootlist", gen.to_pem(env.crl(env.pki.root)))
        env.install("issuing-current", env.crl(env.pki.issuing, [Entry(0x06, reason="superseded")], number=7))
        env.start_server()
        env.connect(env.client("alice", serial=0x05), expect="accepted")
        r = env.connect(env.client("bob", serial=0x06), expect="rejected")
        r.assert_server_log(r"crlsync: REJECT depth=0 [^\n]*CN=bob[^\n]*reason superseded \(CRL issuing-current number (?:0x)?0*7\)")


@scenario
def pem_bundle(plugin):
    """Both CRLs concatenated in one PEM file."""
    with Env(plugin, "pem_bundle") as env:
        env.write_config()
        env.install("bundle", gen.pem_bundle([env.crl(env.pki.root),
                                              env.crl(env.pki.issuing, [Entry(0x06, reason="keyCompromise")])]))
        env.start_server()
        env.connect(env.client("alice", serial=0x05), expect="accepted")
        r = env.connect(env.client("bob", serial=0x06), expect="rejected")
        r.assert_server_log(r"crlsync: REJECT depth=0 [^\n]*CN=bob[^\n]*keyCompromise \(CRL bundle")


# --- unusable CRLs -------------------------------------------------------------------------------


@scenario
def critical_ext(plugin):
    """An unknown critical extension (RFC 5280 §5.2): the CRL is unusable, so the issuer has no
    CRL and missing=reject rejects. The same at entry level (§5.3)."""
    with Env(plugin, "critical_ext") as env:
        env.write_config()
        env.install("root.crl", env.crl(env.pki.root))
        env.install("issuing.crl", env.crl(env.pki.issuing, critical_unknown=True))
        env.start_server()
        startup = cur_server_log(env)
        assert_log(startup, rx_refused("issuing.crl"), "startup")
        assert_log(startup, r"crlsync: [^\n]*issuing\.crl[^\n]*critical[^\n]*" + re.escape(gen.UNKNOWN_CRL_EXT_OID),
                   "startup")
        alice = env.client("alice", serial=0x05)
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(rx_reject(0, "alice", 0x05, ISSUING_CN, RX_NO_CRL))
        # Entry level: refused too, so still no CRL for the issuer.
        mark = env.server.mark()
        env.install("issuing-entry.crl", env.crl(env.pki.issuing, [Entry(0x06, critical_unknown=True)], number=2))
        env.server.wait_for_log(r"crlsync: [^\n]*issuing-entry\.crl[^\n]*critical", 5, mark)
        env.wait_reload(mark)
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(rx_reject(0, "alice", 0x05, ISSUING_CN, RX_NO_CRL))
        # The twin: the same CRL without it is used.
        env.install_and_wait("issuing-plain.crl", env.crl(env.pki.issuing, number=3))
        env.connect(alice, expect="accepted")


@scenario
def future_thisupdate(plugin):
    """thisUpdate two hours ahead is beyond any clock skew: unusable, so rejected. Its twin, one
    minute ahead, is within the tolerated skew and is used."""
    with Env(plugin, "future_thisupdate") as env:
        env.write_config()
        env.install("root.crl", env.crl(env.pki.root))
        env.install("issuing.crl", env.crl(env.pki.issuing, this_update=7200, next_update=86400))
        env.start_server()
        assert_log(cur_server_log(env), rx_refused("issuing.crl"), "startup")
        alice = env.client("alice", serial=0x05)
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(rx_reject(0, "alice", 0x05, ISSUING_CN, RX_NO_CRL))
        env.install_and_wait("issuing-skewed.crl", env.crl(env.pki.issuing, number=2, this_update=60))
        env.connect(alice, expect="accepted")


@scenario
def wrong_key(plugin):
    """A CRL with the issuing CA's name and key identifier but signed by another key (an
    impostor CA with the same subject): the signature fails, the CRL is unusable."""
    with Env(plugin, "wrong_key") as env:
        env.write_config()
        impostor = gen.make_impostor(env.pki.issuing)
        env.install("root.crl", env.crl(env.pki.root))
        # Signed by the impostor's key, naming the real CA and carrying its AKI: only the
        # signature tells them apart.
        env.install("issuing.crl", env.crl(env.pki.issuing, key=impostor.key))
        # The impostor's own CRL (its own AKI): matches no configured ca.
        env.install("impostor.crl", env.crl(impostor))
        env.start_server()
        startup = cur_server_log(env)
        assert_log(startup, rx_refused("issuing.crl"), "startup")
        assert_log(startup, rx_refused("impostor.crl"), "startup")
        r = env.connect(env.client("alice", serial=0x05), expect="rejected")
        r.assert_server_log(rx_reject(0, "alice", 0x05, ISSUING_CN, RX_NO_CRL))


# --- distribution points -------------------------------------------------------------------------


@scenario
def idp_user_only(plugin):
    """django-ca style: SHA-512 CRLs with a critical IDP. The issuing CA's user CRL has
    onlyContainsUserCerts and a fullName equal to the clients' CRLDP; the root's has
    onlyContainsCACerts. A listed client is rejected, the other accepted."""
    with Env(plugin, "idp_user_only") as env:
        env.write_config()
        url = "http://127.0.0.1/django_ca/crl/issuing-user.der"
        env.install("root-ca.crl", env.crl(env.pki.root, hash_name="sha512", idp=IDP(only_ca=True)))
        env.install("issuing-user.crl", env.crl(env.pki.issuing, [Entry(0x06, reason="keyCompromise")],
                                                hash_name="sha512", idp=IDP(full_name=url, only_user=True)))
        env.start_server()
        env.connect(env.client("alice", serial=0x05, crldp=url), expect="accepted")
        r = env.connect(env.client("bob", serial=0x06, crldp=url), expect="rejected")
        r.assert_server_log(r"crlsync: REJECT depth=0 [^\n]*CN=bob[^\n]*keyCompromise \(CRL issuing-user\.crl")


@scenario
def idp_ca_only(plugin):
    """The only CRL of the issuing CA has onlyContainsCACerts: it does not cover a leaf, so the
    leaf has no CRL and is rejected."""
    with Env(plugin, "idp_ca_only") as env:
        env.write_config()
        env.install("root.crl", env.crl(env.pki.root))
        env.install("issuing-ca-only.crl", env.crl(env.pki.issuing, idp=IDP(only_ca=True)))
        env.start_server()
        r = env.connect(env.client("alice", serial=0x05), expect="rejected")
        r.assert_server_log(rx_reject(0, "alice", 0x05, ISSUING_CN, RX_NO_CRL))


@scenario
def serials(plugin):
    """1-octet, 20-octet and top-bit (DER 00 8A 3F) serials are found; their near misses (a prefix,
    a suffix, the last octet off by one) are not."""
    with Env(plugin, "serials") as env:
        env.write_config()
        listed = {"s1": gen.SERIAL_1_BYTE, "s20": gen.SERIAL_20_BYTES, "stop": gen.SERIAL_TOP_BIT}
        twins = {"n1": 0x0105, "n20": gen.SERIAL_20_BYTES + 1, "ntop": 0x8A}
        env.install("root.crl", env.crl(env.pki.root))
        env.install("issuing.crl", env.crl(env.pki.issuing, [Entry(s, reason="keyCompromise") for s in listed.values()]))
        env.start_server()
        for name, s in listed.items():
            r = env.connect(env.client(name, serial=s), expect="rejected")
            r.assert_server_log(rx_reject(0, name, s, ISSUING_CN, r"revoked on [^\n]*keyCompromise"))
        for name, s in twins.items():
            env.connect(env.client(name, serial=s), expect="accepted")


# --- live changes --------------------------------------------------------------------------------


@scenario
def live_replace(plugin):
    """A CRL renamed into the cache takes effect after the reload line, without a restart."""
    with Env(plugin, "live_replace") as env:
        env.write_config()
        env.install_good()
        env.start_server()
        alice = env.client("alice", serial=0x05)
        env.connect(alice, expect="accepted")
        times = []
        for number, entries, verdict in ((2, [Entry(0x05, reason="keyCompromise")], "rejected"),
                                         (3, [], "accepted"),
                                         (4, [Entry(0x05, reason="affiliationChanged")], "rejected")):
            mark = env.server.mark()
            dt = env.install_and_wait("issuing.crl", env.crl(env.pki.issuing, entries, number=number))
            times.append(dt)
            line = env.server.log.search(r"^.*" + RE_RELOAD + r".*$", mark).group(0)
            if not re.search(r"reload:\D*\b2\b", line):
                raise Failure(f"reload line does not give the 2 CRLs in force: {line!r}")
            env.connect(alice, expect=verdict)
        log("rename -> reload line (ms): " + ", ".join(f"{t * 1000:.1f}" for t in times))
        if max(times) >= 1.0:
            raise Failure(f"a reload took {max(times):.3f} s after the rename (want well under a second)")


@scenario
def garbage_keeps(plugin):
    """Garbage renamed over the issuing CRL is refused; the previous CRL (revoking alice) stays."""
    _keeps(plugin, "garbage_keeps", lambda env: gen.garbage(700))


@scenario
def truncated_keeps(plugin):
    """Same with a newer CRL (revoking nobody) cut in half."""
    _keeps(plugin, "truncated_keeps", lambda env: gen.truncated(env.crl(env.pki.issuing, number=3)))


def _keeps(plugin, name, bad):
    with Env(plugin, name) as env:
        env.write_config()
        env.install("root.crl", env.crl(env.pki.root))
        env.install("issuing.crl", env.crl(env.pki.issuing, [Entry(0x05, reason="keyCompromise")], number=2))
        env.start_server()
        alice, bob = env.client("alice", serial=0x05), env.client("bob", serial=0x06)
        env.connect(alice, expect="rejected")
        env.connect(bob, expect="accepted")
        mark = env.server.mark()
        env.install("issuing.crl", bad(env))
        env.server.wait_for_log(rx_refused("issuing.crl"), 5, mark)
        env.wait_reload(mark)
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(rx_reject(0, "alice", 0x05, ISSUING_CN, r"revoked on [^\n]*keyCompromise \(CRL issuing\.crl number (?:0x)?0*2\)"))
        env.connect(bob, expect="accepted")


@scenario
def rollback(plugin):
    """A CRL with a lower crlNumber than the one in force is refused (rollback); a higher one is taken."""
    with Env(plugin, "rollback") as env:
        env.write_config()
        env.install("root.crl", env.crl(env.pki.root))
        env.install("issuing.crl", env.crl(env.pki.issuing, [Entry(0x05, reason="keyCompromise")], number=5))
        env.start_server()
        alice, bob = env.client("alice", serial=0x05), env.client("bob", serial=0x06)
        env.connect(alice, expect="rejected")
        mark = env.server.mark()
        env.install("issuing.crl", env.crl(env.pki.issuing, [], number=4))
        env.server.wait_for_log(r"crlsync: [^\n]*rollback", 5, mark)
        env.wait_reload(mark)
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(r"crlsync: REJECT depth=0 [^\n]*CN=alice[^\n]*number (?:0x)?0*5\)")
        env.connect(bob, expect="accepted")
        # Under another file name too: the stream (issuer + scope) decides, not the file.
        mark = env.server.mark()
        env.install("issuing-old.crl", env.crl(env.pki.issuing, [], number=3))
        env.server.wait_for_log(r"crlsync: [^\n]*rollback", 5, mark)
        env.wait_reload(mark)
        env.connect(alice, expect="rejected")
        # The twin: number 6 without alice is taken.
        env.install_and_wait("issuing.crl", env.crl(env.pki.issuing, [], number=6))
        env.connect(alice, expect="accepted")


@scenario
def rollback_sighup(plugin):
    """As nobody: an older, validly signed CRL renamed in while running is refused (rollback); a
    SIGHUP then reopens the plugin unprivileged, which reads its marks through the root-owned marks
    file it kept open: the older CRL is still refused and alice (revoked by number 5, not by 4)
    stays rejected (nothing is in force for the issuing CA: missing = reject). Twin: number 6,
    which does not list alice, is taken after the SIGHUP."""
    with Env(plugin, "rollback_sighup") as env:
        extra = _nobody_setup(env)
        env.write_config()
        env.install("root.crl", env.crl(env.pki.root))
        env.install("issuing.crl", env.crl(env.pki.issuing, [Entry(0x05, reason="keyCompromise")], number=5))
        srv = _start_as_nobody(env, extra)
        alice = env.client("alice", serial=0x05)
        env.connect(alice, expect="rejected")
        st, dst = os.stat(env.marks), os.stat(env.marks.parent)
        if st.st_uid != 0 or st.st_mode & 0o777 != 0o600 or dst.st_uid != 0 or dst.st_mode & 0o777 != 0o700:
            raise Failure(f"marks file {env.marks}: uid {st.st_uid} mode {st.st_mode & 0o777:o}, directory uid "
                          f"{dst.st_uid} mode {dst.st_mode & 0o777:o}; want root's 0600 in root's 0700")
        mark = srv.mark()
        env.install("issuing.crl", env.crl(env.pki.issuing, [], number=4))
        srv.wait_for_log(r"crlsync: [^\n]*issuing\.crl: refused: rollback[^\n]*number (?:0x)?0*4\b", 5, mark)
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(r"crlsync: REJECT depth=0 [^\n]*CN=alice[^\n]*number (?:0x)?0*5\)")
        mark = sighup_and_wait(srv)
        after = srv.log.text(mark)
        assert_log(after, r"PLUGIN_INIT: POST ", "after SIGHUP")
        assert_log(after, r"crlsync: [^\n]*issuing\.crl: refused: rollback[^\n]*number (?:0x)?0*5\b[^\n]*remembered "
                          r"in the marks file", "after SIGHUP")
        if re.search(r"crlsync: loaded issuing\.crl", after):
            raise Failure(f"the older CRL was loaded after SIGHUP:\n{excerpt(after)}")
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(r"crlsync: REJECT depth=0 [^\n]*CN=alice[^\n]*" + RX_NO_CRL)
        env.install_and_wait("issuing.crl", env.crl(env.pki.issuing, [], number=6))
        env.connect(alice, expect="accepted")


@scenario
def rollback_restart(plugin):
    """OpenVPN stopped, an older validly signed CRL put in cache-dir, OpenVPN started again: the
    marks file remembers number 5, so number 4 is refused (rollback) and alice, whom 5 revokes,
    stays rejected. Twin: number 6 without alice is taken."""
    with Env(plugin, "rollback_restart") as env:
        env.write_config()
        env.install("root.crl", env.crl(env.pki.root))
        env.install("issuing.crl", env.crl(env.pki.issuing, [Entry(0x05, reason="keyCompromise")], number=5))
        srv = env.start_server()
        alice = env.client("alice", serial=0x05)
        env.connect(alice, expect="rejected")
        kill_proc(srv.proc)
        env.install("issuing.crl", env.crl(env.pki.issuing, [], number=4))
        srv = env.start_server()
        text = srv.log.text()
        assert_log(text, r"crlsync: [^\n]*issuing\.crl: refused: rollback[^\n]*number (?:0x)?0*4\b[^\n]*number "
                         r"(?:0x)?0*5\b[^\n]*remembered in the marks file", "after the restart")
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(r"crlsync: REJECT depth=0 [^\n]*CN=alice[^\n]*" + RX_NO_CRL)
        env.install_and_wait("issuing.crl", env.crl(env.pki.issuing, [], number=6))
        env.connect(alice, expect="accepted")


@scenario
def crafted_file_name(plugin):
    """A cache-dir file whose name holds a newline and a whole forged plugin line: the plugin names
    the file in its `refused' line, and no forged line appears in the server log (the newline
    became '?'). Its twin in the same log: the real lines still start lines."""
    with Env(plugin, "crafted_file_name") as env:
        env.write_config()
        env.install_good()
        srv = env.start_server()
        forged = "2026-12-06 12:00:00 us=000000 crlsync: EVICT subject=CN=bob serial=06 cid=1 peer=127.0.0.1:1: forged"
        mark = srv.mark()
        env.install("x.crl\n" + forged, b"not a CRL")
        srv.wait_for_log(r"crlsync: [^\n]*/x\.crl\?2026-12-06 12:00:00 us=000000 crlsync: EVICT[^\n]*: refused", 5, mark)
        text = srv.log.text(mark)
        if re.search(r"^2026-12-06 12:00:00 us=000000 crlsync: EVICT", text, re.MULTILINE):
            raise Failure(f"a forged line reached the server log:\n{excerpt(text)}")
        if re.search(r"^[^\n]*crlsync: EVICT", text, re.MULTILINE) and not re.search(r"x\.crl\?", text):
            raise Failure(f"an EVICT line without eviction:\n{excerpt(text)}")
        env.connect(env.client("alice", serial=0x05), expect="accepted")


@scenario
def delete_removes(plugin):
    """Deleting the issuing CRL file takes its CRL out of force: missing, so rejected."""
    with Env(plugin, "delete_removes") as env:
        env.write_config()
        env.install_good()
        env.start_server()
        alice = env.client("alice", serial=0x05)
        env.connect(alice, expect="accepted")
        mark = env.server.mark()
        t0 = env.remove("issuing.crl")
        dt = env.wait_reload(mark) - t0
        log(f"unlink -> reload line: {dt * 1000:.1f} ms")
        line = env.server.log.search(r"^.*" + RE_RELOAD + r".*$", mark).group(0)
        if not re.search(r"reload:\D*\b1\b", line):
            raise Failure(f"reload line does not give the 1 CRL left in force: {line!r}")
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(rx_reject(0, "alice", 0x05, ISSUING_CN, RX_NO_CRL))


@scenario
def renegotiation(plugin):
    """A connected client whose certificate is revoked meanwhile is refused at its next TLS
    renegotiation (client reneg-sec 5), and its session ends."""
    with Env(plugin, "renegotiation") as env:
        env.write_config()
        env.install_good()
        env.start_server()
        alice = env.client("alice", serial=0x05)
        # tran-window 4 / hand-window 6: the old key dies soon after a failed renegotiation, so
        # the client's session visibly ends (SIGUSR1[soft,tls-error]) instead of lingering 60 s.
        c = env.start_client(alice, extra=["--reneg-sec", "5", "--tran-window", "4"], hand_window=6)
        # The twin first: one renegotiation while alice is not revoked passes.
        srv = env.server
        srv.wait_for_log(r"alice/127\.0\.0\.1:\d+ VERIFY PLUGIN OK: depth=0", 12)
        c.wait_for_log(r"TLS: soft reset", 1)
        mark = srv.mark()
        cmark = c.log.mark()
        dt = env.install_and_wait("issuing.crl", env.crl(env.pki.issuing, [Entry(0x05, reason="keyCompromise")],
                                                         number=2))
        log(f"rename -> reload line: {dt * 1000:.1f} ms")
        # "alice/": the established instance, not a fresh connection.
        srv.wait_for_log(r"alice/127\.0\.0\.1:\d+ VERIFY PLUGIN ERROR: depth=0", 12, mark)
        assert_log(srv.log.text(mark), rx_reject(0, "alice", 0x05, ISSUING_CN, r"revoked on [^\n]*keyCompromise"),
                   "server log after the renegotiation")
        c.log.wait_for(r"SIGUSR1\[soft,tls-error\]|Exiting", 15, cmark, c.proc, what="client alice")
        log("alice's session ended after the refused renegotiation")


@scenario
def user_nobody(plugin):
    """OpenVPN drops to nobody after start: the plugin's watcher keeps enforcing live changes as
    nobody, and after SIGHUP the plugin is opened again unprivileged and still enforces."""
    with Env(plugin, "user_nobody") as env:
        extra = _nobody_setup(env)
        so = env.plugin
        env.write_config()
        env.install_good()
        srv = _start_as_nobody(env, extra)
        alice, bob = env.client("alice", serial=0x05), env.client("bob", serial=0x06)
        env.connect(alice, expect="accepted")
        dt = env.install_and_wait("issuing.crl", env.crl(env.pki.issuing, [Entry(0x05, reason="keyCompromise")],
                                                         number=2))
        log(f"rename -> reload line (as nobody): {dt * 1000:.1f} ms")
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(r"crlsync: REJECT depth=0 [^\n]*CN=alice[^\n]*keyCompromise")
        # SIGHUP: OpenVPN closes the plugin and opens it again, now as nobody.
        mark = sighup_and_wait(srv)
        after = srv.log.text(mark)
        assert_log(after, r"PLUGIN_INIT: POST " + re.escape(str(so)), "after SIGHUP")
        if re.search(r"crlsync: [^\n]*(?:cannot read|refusing to start|Permission denied)", after):
            raise Failure(f"the plugin could not read as nobody:\n{after}")
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(r"crlsync: REJECT depth=0 [^\n]*CN=alice[^\n]*keyCompromise")
        env.connect(bob, expect="accepted")
        dt = env.install_and_wait("issuing.crl", env.crl(env.pki.issuing, [], number=3))
        log(f"rename -> reload line (after SIGHUP, as nobody): {dt * 1000:.1f} ms")
        env.connect(alice, expect="accepted")
        env.install_and_wait("issuing.crl", env.crl(env.pki.issuing, [Entry(0x05, reason="keyCompromise")], number=4))
        env.connect(alice, expect="rejected")


def _nobody_setup(env: Env) -> List[str]:
    """What a server running as nobody needs to survive SIGHUP: the .so copied into the 0755 temp
    dir (a build dir may sit under /root), the server key owned by nobody, a persistent tun owned
    by nobody and a private tun node. Returns the extra server config lines."""
    nobody = pwd.getpwnam("nobody")
    nogroup = "nogroup" if _has_group("nogroup") else grp.getgrgid(nobody.pw_gid).gr_name
    so = env.dir / "openvpn-plugin-crlsync.so"
    shutil.copy2(env.plugin, so)
    os.chmod(so, 0o755)
    env.plugin = so
    os.chown(env.pki.server_key, nobody.pw_uid, -1)
    ifname, node = env.make_persistent_tun("nobody", nogroup)
    return ["user nobody", f"group {nogroup}", "persist-tun", "persist-key", f"dev {ifname}", "dev-type tun",
            f"dev-node {node}", "ifconfig-noexec", "route-noexec"]


def _start_as_nobody(env: Env, extra: Sequence[str], **kw) -> Server:
    """Starts the server with _nobody_setup()'s lines and checks that it dropped to nobody."""
    srv = env.start_server(extra=extra, **kw)
    srv.wait_for_log(r"UID set to nobody", 5)
    if srv.uid() != _nobody_uid():
        raise Failure(f"the server runs as uid {srv.uid()}, not nobody")
    return srv


def _nobody_uid() -> int:
    return pwd.getpwnam("nobody").pw_uid


def _has_group(name: str) -> bool:
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


@scenario
def bad_config(plugin):
    """An unknown key: the plugin names the file and line and OpenVPN refuses to start. Likewise an
    unknown plugin argument."""
    with Env(plugin, "bad_config") as env:
        raw = (f"[global]\ncache-dir = {env.cache}\n\n[plugin]\nmissing = reject\nintervall = 5\n\n"
               f"[source issuing]\nurl = http://127.0.0.1/unused.crl\nca = {env.pki.issuing_crt}\n")
        env.write_config(raw=raw)  # `intervall' is on line 6
        srv = env.start_server(expect_fail=True)
        text = srv.log.text()
        if srv.proc.returncode == 0:
            raise Failure("openvpn exited 0 with a bad plugin config")
        assert_log(text, r"crlsync: [^\n]*crlsync\.conf[^\n]* line 6\b[^\n]*intervall", "bad config")
        assert_log(text, r"plugin initialization function failed", "bad config")
        log(f"openvpn exited {srv.proc.returncode}")
        # An unknown plugin argument on a good config.
        env.write_config()
        srv = env.start_server(plugin_args=["frobnicate=1"], expect_fail=True)
        if srv.proc.returncode == 0:
            raise Failure("openvpn exited 0 with an unknown plugin argument")
        assert_log(srv.log.text(), r"crlsync: [^\n]*frobnicate", "bad plugin argument")
        assert_log(srv.log.text(), r"plugin initialization function failed", "bad plugin argument")


# --- privileges and chroot -----------------------------------------------------------------------


@scenario
def sighup_unreadable_config(plugin):
    """As nobody, a SIGHUP with the crlsync config no longer readable by nobody (0600, root):
    the plugin names the file, the errno and the hint, and OpenVPN exits rather than run
    unchecked. The twin (readable config, SIGHUP works) is user_nobody."""
    import signal
    import subprocess
    with Env(plugin, "sighup_unreadable_config") as env:
        extra = _nobody_setup(env)
        env.write_config()
        env.install_good()
        srv = _start_as_nobody(env, extra)
        alice = env.client("alice", serial=0x05)
        env.connect(alice, expect="accepted")
        os.chown(env.config, 0, 0)
        os.chmod(env.config, 0o600)
        mark = srv.mark()
        srv.signal(signal.SIGHUP)
        try:
            srv.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            raise Failure("openvpn did not exit within 15 s after SIGHUP with an unreadable plugin config:\n"
                          f"{excerpt(srv.log.text(mark))}")
        after = srv.log.text(mark)
        log(f"openvpn exited {srv.proc.returncode} after SIGHUP")
        if srv.proc.returncode == 0:
            raise Failure(f"openvpn exited 0 after the plugin refused to start:\n{excerpt(after)}")
        assert_log(after, r"SIGHUP\[hard,\] received", "after SIGHUP")
        assert_log(after, rf"crlsync: [^\n]*{re.escape(str(env.config))}: cannot (?:open|read): Permission denied"
                          r"[^\n]*readable by that user[^\n]*refusing to start", "after SIGHUP")
        assert_log(after, r"plugin initialization function failed", "after SIGHUP")
        if re.search(r"Initialization Sequence Completed", after):
            raise Failure(f"openvpn completed its initialisation again without the plugin:\n{excerpt(after)}")


@scenario
def sighup_unreadable_cache_file(plugin):
    """As nobody (after a SIGHUP, so the plugin itself was opened unprivileged), a CRL renamed in
    with mode 0600 owned by root cannot be read: the plugin says so with the errno and its uid and
    keeps the CRL the file gave before. chmod 0644 (IN_ATTRIB) makes it load the new one."""
    with Env(plugin, "sighup_unreadable_cache_file") as env:
        extra = _nobody_setup(env)
        env.write_config()
        env.install_good()      # issuing.crl number 1 revokes nobody
        srv = _start_as_nobody(env, extra)
        sighup_and_wait(srv)
        alice, bob = env.client("alice", serial=0x05), env.client("bob", serial=0x06)
        env.connect(alice, expect="accepted")
        # Number 2 revokes alice, but nobody cannot read it.
        mark = srv.mark()
        env.install("issuing.crl", env.crl(env.pki.issuing, [Entry(0x05, reason="keyCompromise")], number=2),
                    mode=0o600)
        path = env.cache / "issuing.crl"
        srv.wait_for_log(rf"crlsync: [^\n]*{re.escape(str(path))}: cannot read: Permission denied "
                         rf"\(uid {_nobody_uid()}\); keeping the CRLs it gave before", 5, mark)
        env.wait_reload(mark)
        line = srv.log.search(r"^.*" + RE_RELOAD + r".*$", mark).group(0)
        if not re.search(r"reload:\D*\b2\b", line):
            raise Failure(f"reload line does not give the 2 CRLs still in force: {line!r}")
        # The previous CRL (number 1, which does not list alice) is still the one in force.
        r = env.connect(alice, expect="accepted")
        r.assert_server_log(r"crlsync: OK depth=0 [^\n]*CN=alice[^\n]*not revoked \(CRL issuing\.crl number "
                            r"(?:0x)?0*1\)")
        mark = srv.mark()
        os.chmod(path, 0o644)
        env.wait_reload(mark)
        assert_log(srv.log.text(mark), r"crlsync: loaded issuing\.crl: [^\n]*number (?:0x)?0*2\b", "after chmod")
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(rx_reject(0, "alice", 0x05, ISSUING_CN,
                                      r"revoked on [^\n]*keyCompromise \(CRL issuing\.crl number (?:0x)?0*2\)"))
        env.connect(bob, expect="accepted")


@scenario
def chroot(plugin):
    """OpenVPN chroots (as root) into an empty directory; cache-dir lies outside it. A CRL renamed
    in afterwards is still loaded (reads are relative to the directory opened before the chroot)
    and enforced."""
    with Env(plugin, "chroot") as env:
        jail = env.dir / "jail"
        jail.mkdir(mode=0o755)
        os.chmod(jail, 0o755)
        env.write_config()
        env.install_good()
        # OpenVPN wants --tmp-dir to exist inside the chroot: "/" (the jail itself) keeps it empty.
        srv = env.start_server(extra=[f"chroot {jail}", "tmp-dir /"])
        srv.wait_for_log(rf"chroot to '{re.escape(str(jail))}' and cd to '/' succeeded", 5)
        root = os.readlink(f"/proc/{srv.pid}/root")
        if root != str(jail):
            raise Failure(f"the server's root is {root}, not {jail}")
        if (jail / env.cache.relative_to("/")).exists():
            raise Failure("cache-dir is visible inside the chroot; the test would prove nothing")
        alice, bob = env.client("alice", serial=0x05), env.client("bob", serial=0x06)
        env.connect(alice, expect="accepted")
        mark = srv.mark()
        dt = env.install_and_wait("issuing.crl", env.crl(env.pki.issuing, [Entry(0x05, reason="keyCompromise")],
                                                         number=2))
        log(f"rename -> reload line (chrooted): {dt * 1000:.1f} ms")
        line = srv.log.search(r"^.*" + RE_RELOAD + r".*$", mark).group(0)
        if not re.search(r"reload:\D*\b2\b", line):
            raise Failure(f"reload line does not give the 2 CRLs in force: {line!r}")
        after = srv.log.text(mark)
        if re.search(r"crlsync: [^\n]*(?:cannot|failed|keeping the CRLs)", after):
            raise Failure(f"the reload in the chroot reported a problem:\n{excerpt(after)}")
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(rx_reject(0, "alice", 0x05, ISSUING_CN,
                                      r"revoked on [^\n]*keyCompromise \(CRL issuing\.crl number (?:0x)?0*2\)"))
        env.connect(bob, expect="accepted")


# --- coverage of the chain and of streams --------------------------------------------------------


@scenario
def missing_root_crl(plugin):
    """Only the issuing CA's CRL, none from the root: with missing=reject the client is rejected at
    depth 1 (the issuing CA's own check), so the root must publish a CRL too. Twin: the root's
    CRL renamed in, and the same client is accepted."""
    with Env(plugin, "missing_root_crl") as env:
        env.write_config(missing="reject")
        env.install("issuing.crl", env.crl(env.pki.issuing))
        env.start_server()
        alice = env.client("alice", serial=0x05)
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(rx_reject(1, ISSUING_CN, env.pki.issuing.cert.serial_number, ROOT_CN, RX_NO_CRL))
        r.assert_server_log(r"VERIFY PLUGIN ERROR: depth=1")
        r.assert_not_server_log(r"VERIFY PLUGIN (?:OK|ERROR): depth=0")
        env.install_and_wait("root.crl", env.crl(env.pki.root))
        env.connect(alice, expect="accepted")


@scenario
def two_files_same_stream(plugin):
    """Two files of one stream: number 5 in a.crl, number 6 (revoking alice) in b.crl. The newest
    wins; deleting b.crl does not bring back number 5 (rollback refused), alice stays rejected."""
    with Env(plugin, "two_files_same_stream") as env:
        env.write_config()
        env.install("root.crl", env.crl(env.pki.root))
        env.install("a.crl", env.crl(env.pki.issuing, [], number=5))
        env.install("b.crl", env.crl(env.pki.issuing, [Entry(0x05, reason="keyCompromise")], number=6))
        srv = env.start_server()
        assert_log(cur_server_log(env), rx_refused("a.crl") + r": superseded: [^\n]*number (?:0x)?0*5\b",
                   "startup")
        alice, bob = env.client("alice", serial=0x05), env.client("bob", serial=0x06)
        rx_b6 = r"revoked on [^\n]*keyCompromise \(CRL b\.crl number (?:0x)?0*6\)"
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(rx_reject(0, "alice", 0x05, ISSUING_CN, rx_b6))
        env.connect(bob, expect="accepted")
        mark = srv.mark()
        t0 = env.remove("b.crl")
        dt = env.wait_reload(mark) - t0
        log(f"unlink -> reload line: {dt * 1000:.1f} ms")
        after = srv.log.text(mark)
        assert_log(after, rf"crlsync: [^\n]*{re.escape(str(env.cache / 'b.crl'))} removed, but its CRL of [^\n]*"
                          rf"number (?:0x)?0*6 stays in force[^\n]*rollback refused", "after unlink")
        line = srv.log.search(r"^.*" + RE_RELOAD + r".*$", mark).group(0)
        if not re.search(r"reload:\D*\b2\b", line):
            raise Failure(f"reload line does not give the 2 CRLs in force: {line!r}")
        r = env.connect(alice, expect="rejected")
        r.assert_server_log(rx_reject(0, "alice", 0x05, ISSUING_CN, rx_b6))
        env.connect(bob, expect="accepted")


# --- transports and algorithms ---------------------------------------------------------------------


def _good_and_revoked(env: Env, crl_of=None, **server_kw) -> None:
    """root.crl, issuing.crl (number 2, revoking bob) made by `crl_of(entries, number)`; alice
    accepted, bob rejected with the full line."""
    when = revoked_at()
    entries = [Entry(0x06, when, "keyCompromise")]
    env.write_config()
    env.install("root.crl", env.crl(env.pki.root))
    env.install("issuing.crl", crl_of(entries, 2) if crl_of else env.crl(env.pki.issuing, entries, number=2))
    env.start_server(**server_kw)
    r = env.connect(env.client("alice", serial=0x05), expect="accepted")
    r.assert_server_log(r"crlsync: OK depth=0 [^\n]*CN=alice[^\n]*not revoked \(CRL issuing\.crl number (?:0x)?0*2\)")
    r = env.connect(env.client("bob", serial=0x06), expect="rejected")
    r.assert_server_log(rx_reject(0, "bob", 0x06, ISSUING_CN, rx_revoked(when, "keyCompromise", "issuing.crl", 2)))


@scenario
def tcp(plugin):
    """The good/revoked pair over proto tcp-server / tcp-client: the transport does not matter."""
    with Env(plugin, "tcp") as env:
        _good_and_revoked(env, proto="tcp-server")
        assert_log(cur_server_log(env), r"TCPv4_SERVER link local \(bound\): \[AF_INET\]127\.0\.0\.1:", "startup")


@scenario
def ec_pki(plugin):
    """The whole chain with EC P-256 keys and a SHA-384 (ecdsa-with-SHA384) CRL: alice accepted,
    bob (listed) rejected."""
    from cryptography import x509
    from cryptography.x509.oid import SignatureAlgorithmOID
    with Env(plugin, "ec_pki", key_kind="ec") as env:
        def crl_of(entries, number):
            der = env.crl(env.pki.issuing, entries, number=number, hash_name="sha384")
            oid = x509.load_der_x509_crl(der).signature_algorithm_oid
            if oid != SignatureAlgorithmOID.ECDSA_WITH_SHA384:
                raise Failure(f"the CRL is signed with {oid}, not ecdsa-with-SHA384")
            return der
        _good_and_revoked(env, crl_of)


@scenario
def rsa_pss_crl(plugin):
    """The issuing CRL signed with RSA-PSS (SHA-256, made by `openssl ca -gencrl -sigopt
    rsa_padding_mode:pss`: cryptography 38 cannot sign a CRL with PSS): alice accepted, bob rejected."""
    with Env(plugin, "rsa_pss_crl") as env:
        _good_and_revoked(env, lambda entries, number: _openssl_pss_crl(env, entries, number))


def _openssl_pss_crl(env: Env, entries: Sequence[Entry], number: int) -> bytes:
    """A DER CRL of the issuing CA signed with RSASSA-PSS by the openssl CLI, from an index.txt
    written here (with crlNumber and AKI, like gen.make_crl)."""
    import subprocess
    from cryptography import x509
    from cryptography.x509.oid import SignatureAlgorithmOID
    openssl = shutil.which("openssl")
    if openssl is None:
        raise Failure("the openssl CLI is missing")
    d = env.dir / "openssl-ca"
    d.mkdir(exist_ok=True)
    exp = (gen.now() + datetime.timedelta(days=300)).strftime("%y%m%d%H%M%SZ")
    index = []
    for e in entries:
        when = e.revoked_at if isinstance(e.revoked_at, datetime.datetime) else revoked_at()
        rev = when.strftime("%y%m%d%H%M%SZ") + (f",{e.reason}" if e.reason else "")
        index.append(f"R\t{exp}\t{rev}\t{gen.serial_hex(e.serial)}\tunknown\t/CN=revoked{e.serial}\n")
    (d / "index.txt").write_text("".join(index))
    (d / "crlnumber").write_text(gen.serial_hex(number) + "\n")
    (d / "ca.cnf").write_text(
        "[ca]\ndefault_ca = crlsync\n\n[crlsync]\n"
        f"database = {d}/index.txt\ncrlnumber = {d}/crlnumber\n"
        f"certificate = {env.pki.issuing_crt}\nprivate_key = {env.pki.dir}/issuing.key\n"
        "default_md = sha256\ndefault_crl_days = 1\ncrl_extensions = crl_ext\n\n"
        "[crl_ext]\nauthorityKeyIdentifier = keyid:always\n")
    pem = d / "crl.pem"
    p = subprocess.run([openssl, "ca", "-batch", "-gencrl", "-config", str(d / "ca.cnf"), "-out", str(pem),
                        "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        raise Failure(f"openssl ca -gencrl failed ({p.returncode}):\n{p.stdout.decode(errors='replace')}")
    crl = x509.load_pem_x509_crl(pem.read_bytes())
    if crl.signature_algorithm_oid != SignatureAlgorithmOID.RSASSA_PSS:
        raise Failure(f"openssl signed the CRL with {crl.signature_algorithm_oid}, not RSASSA-PSS")
    got = sorted(r.serial_number for r in crl)
    if got != sorted(e.serial for e in entries):
        raise Failure(f"openssl's CRL lists {got}, not {[e.serial for e in entries]}")
    from cryptography.hazmat.primitives import serialization
    return crl.public_bytes(serialization.Encoding.DER)


# --- many clients ----------------------------------------------------------------------------------


@scenario
def many_clients_reload(plugin):
    """Three connected clients (reneg-sec 5). A CRL revoking bob is renamed in: at the next
    renegotiations bob is refused and his session ends, alice and carol pass against the new CRL
    and stay connected."""
    with Env(plugin, "many_clients_reload") as env:
        env.write_config()
        env.install_good()
        srv = env.start_server()
        cfs = {"alice": env.client("alice", serial=0x05), "bob": env.client("bob", serial=0x06),
               "carol": env.client("carol", serial=0x07)}
        clients = {n: env.start_client(cf, extra=["--reneg-sec", "5", "--tran-window", "4"], hand_window=6)
                   for n, cf in cfs.items()}
        mark = srv.mark()
        cmarks = {n: c.log.mark() for n, c in clients.items()}
        dt = env.install_and_wait("issuing.crl", env.crl(env.pki.issuing, [Entry(0x06, reason="keyCompromise")],
                                                         number=2))
        log(f"rename -> reload line: {dt * 1000:.1f} ms")
        srv.wait_for_log(r"bob/127\.0\.0\.1:\d+ VERIFY PLUGIN ERROR: depth=0", 12, mark)
        # The plugin's own lines carry no client prefix (OpenVPN's plugin_log does not add it).
        assert_log(srv.log.text(mark),
                   rx_reject(0, "bob", 0x06, ISSUING_CN, r"revoked on [^\n]*keyCompromise \(CRL issuing\.crl number "
                                                         r"(?:0x)?0*2\)"), "server log after the install")
        for n in ("alice", "carol"):
            srv.wait_for_log(rf"crlsync: OK depth=0 [^\n]*CN={n}[^\n]*"
                             rf"{rx_serial(cfs[n].serial)}: not revoked \(CRL issuing\.crl number (?:0x)?0*2\)",
                             12, mark)
            srv.wait_for_log(rf"{n}/127\.0\.0\.1:\d+ VERIFY PLUGIN OK: depth=0", 1, mark)
        clients["bob"].log.wait_for(r"SIGUSR1\[soft,tls-error\]|Exiting", 15, cmarks["bob"], clients["bob"].proc,
                                    what="client bob")
        for n in ("alice", "carol"):
            c = clients[n]
            # The client's side of a renegotiation that completed after the install.
            c.wait_for_log(r"TLS: soft reset[^\n]*\n(?:[^\n]*\n)*?[^\n]*Control Channel: TLS", 1, cmarks[n])
            if c.proc.poll() is not None:
                raise Failure(f"client {n} exited ({c.proc.returncode}):\n{excerpt(c.log.text())}")
            if re.search(r"SIGUSR1\[soft,tls-error\]|TLS Error", c.log.text()):
                raise Failure(f"client {n} had a TLS error:\n{excerpt(c.log.text())}")
        log("bob's session ended; alice and carol renegotiated against CRL number 2 and stay connected")


# --- the plugin's status file (issue 12) -----------------------------------------------------------


def _read_status(path) -> dict:
    import json
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _wait_status(path, pred, timeout: float, what: str) -> dict:
    import time
    deadline = time.monotonic() + timeout
    while True:
        js = _read_status(path)
        if js and pred(js):
            return js
        if time.monotonic() > deadline:
            raise Failure(f"{what}: not in {path} within {timeout:.0f} s:\n{path.read_text() if path.exists() else '(absent)'}")
        time.sleep(0.05)


def _numbers(js: dict, file: str) -> List[str]:
    return [c["number"] for c in js.get("crls", []) if c.get("file") == file]


@scenario
def status_file_nobody(plugin):
    """[plugin] status-file with `user nobody`, in a directory nobody owns: the file (0644, written
    atomically by the plugin after the drop) lists each CRL in force once (issuing.pem, pem = yes's
    twin of issuing.crl, is not loaded), shows number 02 within 10 s of issuing.crl being renamed
    over, counts an accepted and a refused client within 10 s, and keeps its counters across SIGHUP."""
    import time
    with Env(plugin, "status_file_nobody") as env:
        extra = _nobody_setup(env)
        gw = env.dir / "gw"
        gw.mkdir()
        os.chown(gw, _nobody_uid(), -1)
        os.chmod(gw, 0o755)
        sf = gw / "status.json"
        env.write_config(extra_plugin_lines=[f"status-file = {sf}"])
        env.install_good()
        env.install("issuing.pem", gen.to_pem(env.crl(env.pki.issuing, number=1)))
        srv = _start_as_nobody(env, extra)
        js = _wait_status(sf, lambda j: _numbers(j, "issuing.crl") == ["01"], 10, "issuing.crl number 01")
        if _numbers(js, "issuing.pem") or len(js["crls"]) != 2:
            raise Failure(f"the status file lists {[c['file'] for c in js['crls']]}: issuing.pem is loaded too")
        for k in ("schema", "version", "generation", "policy", "crls", "counters", "last_reload"):
            if k not in js:
                raise Failure(f"the status file lacks `{k}`: {js}")
        c = js["crls"][0]
        for k in ("file", "issuer", "number", "this_update", "next_update", "entries"):
            if k not in c:
                raise Failure(f"a CRL of the status file lacks `{k}`: {c}")
        base = dict(js["counters"])
        alice = env.client("alice", serial=0x05)
        env.connect(alice, expect="accepted")
        _wait_status(sf, lambda j: j["counters"]["accept"] >= base["accept"] + 1, 10, "accept counted")
        # a newer CRL revoking alice, renamed in: the file shows it within 10 s
        t0 = time.monotonic()
        env.install("issuing.crl", env.crl(env.pki.issuing, [Entry(0x05, reason="keyCompromise")], number=2))
        env.install("issuing.pem", gen.to_pem(env.crl(env.pki.issuing, [Entry(0x05, reason="keyCompromise")], number=2)))
        js = _wait_status(sf, lambda j: _numbers(j, "issuing.crl") == ["02"], 10, "issuing.crl number 02")
        log(f"status file shows number 02 {time.monotonic() - t0:.2f} s after the rename")
        env.connect(alice, expect="rejected")
        js = _wait_status(sf, lambda j: j["counters"]["reject"] >= base["reject"] + 1, 10, "reject counted")
        st = os.stat(sf)
        if st.st_uid != _nobody_uid() or st.st_mode & 0o777 != 0o644:
            raise Failure(f"{sf}: uid {st.st_uid}, mode {oct(st.st_mode & 0o777)}; expected nobody's 0644 (written after the drop)")
        before = dict(js["counters"])
        sighup_and_wait(srv)
        js = _wait_status(sf, lambda j: j["generation"] >= 1 and _numbers(j, "issuing.crl") == ["02"], 10, "after SIGHUP")
        for k, v in before.items():
            if js["counters"][k] < v:
                raise Failure(f"counter {k} went from {v} to {js['counters'][k]} across SIGHUP")
        env.connect(alice, expect="rejected")
        _wait_status(sf, lambda j: j["counters"]["reject"] >= before["reject"] + 1, 10, "reject counted after SIGHUP")
