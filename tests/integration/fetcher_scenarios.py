# SPDX-License-Identifier: GPL-2.0-or-later
"""The fetcher scenarios: each builds its own PKI, docroot and cache, serves CRLs with a real
nginx on 127.0.0.1 and runs the real `crlsync` executable. They assert exit statuses, the
installed bytes, the fetcher's messages (source, URL, reason) and nginx's access log. One ctest
per scenario (integration.fetcher_<name>, see CMakeLists.txt)."""

import base64
import datetime
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from typing import Callable, Dict, Optional

from cryptography import x509

import gen
from gen import Entry
from fetcher_harness import (FetchEnv, Result, TrickleServer, as_user, big_crl, big_entries, file_mode, need_root,
                             tail)
from harness import Failure, Skip, _die_with_parent, free_port, log

SCENARIOS: Dict[str, Callable] = {}


def scenario(fn: Callable) -> Callable:
    SCENARIOS[fn.__name__] = fn
    return fn


SRC = "issuing"       # the source most scenarios configure
PATH = "issuing.crl"  # where nginx serves its CRL


def utc(dt: datetime.datetime) -> str:
    """The fetcher's date format: 2026-11-02 10:00:00 UTC."""
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC")


def rx_number(n: int) -> str:
    """A CRL number as the fetcher prints it: hex, even length (01, 0A), optional 0x."""
    return r"(?:0x)?0*" + format(n, "X") + r"\b"


def rx_error(source: str, url: str, reason: str) -> str:
    """The contract: an error names the source and the (masked) URL and says why (`reason`, any
    case), on one line."""
    return rf"source {re.escape(source)}\b[^\n]*{re.escape(url)}[^\n]*(?i:{reason})"


def basic_env(crlsync, name: str, locations: str = "", **cfg_kw) -> FetchEnv:
    env = FetchEnv(crlsync, name, locations)
    env.start_nginx()
    env.write_config({SRC: [env.url(PATH)]}, **cfg_kw)
    return env


def assert_kept(env: FetchEnv, r: Result, before: Optional[bytes], source: str = SRC) -> None:
    """After a refused CRL: exit 1, the previous NAME.crl byte-identical, no temp file."""
    r.assert_rc(1)
    env.assert_installed(source, before, "the previous CRL must stay")
    env.assert_no_temp_files()


# --- installing --------------------------------------------------------------------------------


@scenario
def first_install(crlsync):
    """A DER CRL served by nginx is installed as cache-dir/NAME.crl, byte-identical, mode 0644;
    fetch exits 0 and status (table and JSON) shows its number."""
    with basic_env(crlsync, "first_install") as env:
        der = env.crl(entries=[Entry(0x05, reason="keyCompromise"), Entry(0x1F)], number=7)
        env.publish(PATH, der)
        r = env.fetch(expect_rc=0)
        r.assert_err(rf"source {SRC}: installed CRL number {rx_number(7)} from {re.escape(env.url(PATH))}")
        env.assert_installed(SRC, der)
        mode = file_mode(env.crl_path(SRC))
        if mode != 0o644:
            raise Failure(f"{env.crl_path(SRC)} has mode {mode:04o}, expected 0644")
        env.assert_no_temp_files()
        st = env.run("status", expect_rc=0)
        st.assert_out(rf"^{SRC}\s+{rx_number(7)}")
        s = env.source_status(SRC)
        crl = s.get("crl") or {}
        if not re.fullmatch(rx_number(7), str(crl.get("number"))) or crl.get("entries") != 2:
            raise Failure(f"status --json for {SRC}: {s}")
        if s.get("url") != env.url(PATH):
            raise Failure(f"status --json url {s.get('url')!r}, expected {env.url(PATH)!r}")
        for k in ("last_attempt", "last_success", "next_attempt", "last_result"):
            if not s.get(k):
                raise Failure(f"status --json lacks {k}: {s}")


@scenario
def not_modified(crlsync):
    """The second fetch sends If-None-Match / If-Modified-Since, nginx answers 304, the file is
    left alone (same inode, same bytes) and fetch exits 0."""
    with basic_env(crlsync, "not_modified") as env:
        der = env.crl(number=1)
        env.publish(PATH, der)
        mark = env.nginx.mark()
        env.fetch(expect_rc=0)
        first = env.nginx.wait_requests(mark, "/" + PATH)
        if [q.status for q in first] != [200] or first[0].conditional:
            raise Failure(f"first fetch: expected one unconditional 200, nginx logged {first}")
        ino = os.stat(env.crl_path(SRC)).st_ino
        mark = env.nginx.mark()
        r = env.fetch(expect_rc=0)
        second = env.nginx.wait_requests(mark, "/" + PATH)
        if [q.status for q in second] != [304] or not second[0].conditional:
            raise Failure(f"second fetch: expected one conditional request answered 304, nginx logged {second}")
        log(f"second request: If-None-Match {second[0].inm!r}, If-Modified-Since {second[0].ims!r}")
        if os.stat(env.crl_path(SRC)).st_ino != ino:
            raise Failure("the 304 replaced NAME.crl (its inode changed)")
        env.assert_installed(SRC, der)
        r.assert_not("installed CRL")
        env.assert_no_temp_files()


@scenario
def newer_installed(crlsync):
    """Number 1 installed; nginx then serves number 2 (revoking a serial): it replaces number 1."""
    with basic_env(crlsync, "newer_installed") as env:
        env.publish(PATH, env.crl(number=1))
        env.fetch(expect_rc=0)
        der2 = env.crl(entries=[Entry(0x05, reason="keyCompromise")], number=2)
        env.publish(PATH, der2)
        r = env.fetch(expect_rc=0)
        r.assert_err(rf"installed CRL number {rx_number(2)} from {re.escape(env.url(PATH))} \(1 entries")
        env.assert_installed(SRC, der2)
        env.assert_no_temp_files()
        s = env.source_status(SRC)
        if not re.fullmatch(rx_number(2), str((s.get("crl") or {}).get("number"))):
            raise Failure(f"status --json after the update: {s}")


@scenario
def pem_served_der_installed(crlsync):
    """nginx serves the CRL as PEM: the installed file is its DER, byte for byte."""
    with basic_env(crlsync, "pem_served_der_installed") as env:
        der = env.crl(entries=[Entry(0x05)], number=3)
        env.publish(PATH, gen.to_pem(der))
        env.fetch(expect_rc=0)
        env.assert_installed(SRC, der, "PEM served, DER installed")


@scenario
def file_url(crlsync):
    """A file: URL is a source like any other."""
    with FetchEnv(crlsync, "file_url") as env:
        der = env.crl(number=4)
        p = env.publish(PATH, der)
        env.write_config({SRC: [f"file://{p}"]})
        r = env.fetch(expect_rc=0)
        r.assert_err(rf"installed CRL number {rx_number(4)} from file://{re.escape(str(p))}")
        env.assert_installed(SRC, der)


@scenario
def redirect(crlsync):
    """A 302 to the CRL is followed (installed); a 302 to a file: URL is refused, not followed."""
    with FetchEnv(crlsync, "redirect") as env:
        der = env.crl(number=1)
        real = env.publish(PATH, der)
        env.nginx.locations = (f"        location = /moved.crl {{ return 302 /{PATH}; }}\n"
                               f"        location = /tofile.crl {{ return 302 file://{real}; }}\n")
        env.start_nginx()
        env.write_config({SRC: [env.url("moved.crl")]})
        env.fetch(expect_rc=0)
        env.assert_installed(SRC, der, "after a 302")
        env.write_config({"other": {"urls": [env.url("tofile.crl")]}})
        r = env.fetch(expect_rc=1)
        r.assert_err(rx_error("other", env.url("tofile.crl"), r"protocol|redirect|not allowed"))
        if env.installed("other") is not None:
            raise Failure("a redirect to file: was followed: other.crl got installed")


# --- refusing ----------------------------------------------------------------------------------


def _refused(crlsync, name: str, bad: Callable[[FetchEnv], bytes], reason: str) -> None:
    """Number 2 installed; nginx then serves the bad CRL: refused with source, URL and reason,
    exit 1, the number 2 file byte-identical, no temp file left."""
    with basic_env(crlsync, name) as env:
        good = env.crl(entries=[Entry(0x05, reason="keyCompromise")], number=2)
        env.publish(PATH, good)
        env.fetch(expect_rc=0)
        env.assert_installed(SRC, good)
        env.publish(PATH, bad(env))
        r = env.fetch()
        m = r.assert_err(rx_error(SRC, env.url(PATH), reason))
        assert_kept(env, r, good)
        log(f"refused, number 2 kept: {m.group(0)}")
        # The next pass does not take the bad CRL either, and status still shows number 2.
        r2 = env.fetch()
        assert_kept(env, r2, good)
        s = env.source_status(SRC)
        if not re.fullmatch(rx_number(2), str((s.get("crl") or {}).get("number"))):
            raise Failure(f"status --json after the refusal: {s}")


@scenario
def refused_older(crlsync):
    """nginx serves number 1 after number 2 was installed: rollback refused."""
    _refused(crlsync, "refused_older", lambda env: env.crl(number=1), r"rollback|older")


@scenario
def refused_wrong_key(crlsync):
    """A CRL naming the issuing CA (and its AKI) but signed by another key."""
    _refused(crlsync, "refused_wrong_key",
             lambda env: env.crl(number=3, key=gen.make_impostor(env.pki.issuing).key), r"signature")


@scenario
def refused_garbage(crlsync):
    """Random bytes, neither DER nor PEM."""
    _refused(crlsync, "refused_garbage", lambda env: gen.garbage(2048), r"DER|PEM|decode|pars")


@scenario
def refused_truncated(crlsync):
    """A valid number 3 cut in half."""
    _refused(crlsync, "refused_truncated", lambda env: gen.truncated(env.crl(number=3)),
             r"DER|decode|truncat|pars")


@scenario
def refused_critical_ext(crlsync):
    """Number 3 with an unrecognised critical CRL extension (RFC 5280 §5.2)."""
    _refused(crlsync, "refused_critical_ext", lambda env: env.crl(number=3, critical_unknown=True),
             r"critical[^\n]*" + re.escape(gen.UNKNOWN_CRL_EXT_OID))


@scenario
def refused_future_thisupdate(crlsync):
    """Number 3 whose thisUpdate is an hour ahead."""
    _refused(crlsync, "refused_future_thisupdate", lambda env: env.crl(number=3, this_update=3600),
             r"thisUpdate[^\n]*future")


@scenario
def refused_delta(crlsync):
    """Number 3 that is a delta CRL (deltaCRLIndicator): not used."""
    _refused(crlsync, "refused_delta", lambda env: env.crl(number=3, delta_base=2), r"delta")


@scenario
def refused_same_number_other_content(crlsync):
    """Number 2 again, but revoking another serial: refused (a revocation would silently vanish)."""
    _refused(crlsync, "refused_same_number_other_content",
             lambda env: env.crl(entries=[Entry(0x06)], number=2), r"same number|other content")


@scenario
def state_behind_file(crlsync):
    """The rollback check must hold against the installed file, not only against the state: after
    a crash between the rename of NAME.crl and the save of .state/NAME.json (simulated by deleting
    the state, then by putting back the state of the previous CRL), number 2 with other content
    (a revocation gone) is still refused and the installed number 2 stays."""
    with basic_env(crlsync, "state_behind_file") as env:
        state = env.cache / ".state" / f"{SRC}.json"
        env.publish(PATH, env.crl(number=1))
        env.fetch(expect_rc=0)
        state1 = state.read_bytes()
        der2 = env.crl(entries=[Entry(0x05, reason="keyCompromise")], number=2)
        env.publish(PATH, der2)
        env.fetch(expect_rc=0)
        env.assert_installed(SRC, der2)
        other2 = env.crl(number=2)   # number 2 again, without the revocation of 05
        env.publish(PATH, other2)
        for how in ("state deleted", "state of number 1 put back"):
            if how == "state deleted":
                state.unlink()
            else:
                state.write_bytes(state1)
            r = env.fetch()
            if env.installed(SRC) == other2:
                raise Failure(f"{how}: number 2 with other content replaced the installed number 2 "
                              f"(a revocation silently undone)\n{r.show()}")
            r.assert_err(rx_error(SRC, env.url(PATH), r"same number|other content"))
            assert_kept(env, r, der2)
            log(f"{how}: refused, number 2 kept")


@scenario
def rollback_future_installed(crlsync):
    """No state, and the installed number 5 has a thisUpdate 10 minutes ahead of our clock (it
    was verified when installed; the clock went back): it still counts, so number 3 is refused
    as a rollback (exit 1, number 5 kept). The twin: number 6 replaces it."""
    with basic_env(crlsync, "rollback_future_installed") as env:
        env.cache.mkdir(mode=0o755)
        der5 = env.crl(entries=[Entry(0x05, reason="keyCompromise")], number=5, this_update=600)
        gen.install(env.crl_path(SRC), der5)
        env.publish(PATH, env.crl(number=3))
        r = env.fetch()
        r.assert_err(rx_error(SRC, env.url(PATH), r"rollback|older"))
        assert_kept(env, r, der5)
        der6 = env.crl(entries=[Entry(0x05, reason="keyCompromise")], number=6)
        env.publish(PATH, der6)
        env.fetch(expect_rc=0)
        env.assert_installed(SRC, der6, "number 6 after the refused number 3")


@scenario
def rollback_file_deleted(crlsync):
    """The state knows number 5 and NAME.crl is deleted: the high-water mark in the state still
    refuses number 3 (exit 1, nothing installed) and number 5 with other content; number 5
    itself is installed again (the twin), then number 6."""
    with basic_env(crlsync, "rollback_file_deleted") as env:
        der5 = env.crl(entries=[Entry(0x05, reason="keyCompromise")], number=5)
        env.publish(PATH, der5)
        env.fetch(expect_rc=0)
        env.crl_path(SRC).unlink()
        for bad, why in ((env.crl(number=3), r"rollback|older"), (env.crl(number=5), r"same number|other content")):
            env.publish(PATH, bad)
            for _ in range(2):   # and the pass after the refusal too
                r = env.fetch()
                r.assert_err(rx_error(SRC, env.url(PATH), why))
                assert_kept(env, r, None)
        env.publish(PATH, der5)
        env.fetch(expect_rc=0)
        env.assert_installed(SRC, der5, "number 5 itself, back")
        der6 = env.crl(number=6)
        env.publish(PATH, der6)
        env.fetch(expect_rc=0)
        env.assert_installed(SRC, der6)


def _no_dac_prefix() -> list:
    """A wrapper under which a root crlsync cannot read a mode-000 file (no CAP_DAC_OVERRIDE or
    CAP_DAC_READ_SEARCH); nothing for another user, for whom mode 000 is enough."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        raise Failure("setpriv (util-linux) is needed to drop CAP_DAC_OVERRIDE as root")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


@scenario
def installed_unreadable(crlsync):
    """The installed NAME.crl exists but cannot be read (mode 000, EACCES) and the state does not
    describe it: nothing is installed this pass (exit 1, "cannot compare with the installed CRL"),
    the file untouched. The twin: a file that reads but is no CRL is replaced, yet the high-water
    mark still refuses an older number. An unreadable state (it holds the mark) blocks the pass too."""
    with basic_env(crlsync, "installed_unreadable") as env:
        der2 = env.crl(entries=[Entry(0x05, reason="keyCompromise")], number=2)
        env.publish(PATH, der2)
        env.fetch(expect_rc=0)
        state = env.cache / ".state" / f"{SRC}.json"
        state.unlink()
        os.chmod(env.crl_path(SRC), 0)
        env.publish(PATH, env.crl(number=3))
        prefix = _no_dac_prefix()
        r = env.fetch(prefix=prefix)
        r.assert_rc(1)
        r.assert_err(rf"source {SRC}\b[^\n]*cannot compare with the installed CRL")
        if env.crl_path(SRC).stat().st_mode & 0o777 != 0:
            raise Failure("the unreadable NAME.crl was replaced")
        os.chmod(env.crl_path(SRC), 0o644)
        env.assert_installed(SRC, der2, "the unreadable file must stay")
        # Readable again: number 3 goes in.
        env.fetch(expect_rc=0, prefix=prefix)
        env.assert_installed(SRC, (env.www / PATH).read_bytes(), "number 3 once readable")
        # A file that reads but is garbage may be replaced, but not by anything under the mark (3).
        gen.install(env.crl_path(SRC), gen.garbage(700))
        env.publish(PATH, env.crl(number=1))
        r = env.fetch()
        r.assert_err(r"not usable")
        r.assert_err(rx_error(SRC, env.url(PATH), r"rollback|older"))
        r.assert_rc(1)
        der4 = env.crl(number=4)
        env.publish(PATH, der4)
        env.fetch(expect_rc=0)
        env.assert_installed(SRC, der4, "number 4 over the garbage")
        # The state (it holds the mark) unreadable: nothing installed, the state file left alone.
        os.chmod(state, 0)
        env.publish(PATH, env.crl(number=5))
        r = env.fetch(prefix=prefix)
        r.assert_rc(1)
        r.assert_err(rf"source {SRC}: cannot read its state")
        os.chmod(state, 0o600)
        env.assert_installed(SRC, der4, "with the state unreadable")
        if '"high_water"' not in state.read_text():
            raise Failure(f"the unreadable state was overwritten: {state.read_text()}")
        env.fetch(expect_rc=0)
        env.assert_installed(SRC, (env.www / PATH).read_bytes(), "number 5 once the state reads")


@scenario
def scope_change_refused(crlsync):
    """Complete number 5 installed; a mirror serves a validly signed number 6 that only covers CA
    certificates (IssuingDistributionPoint onlyContainsCACerts): refused for its scope, the next
    mirror's complete number 5 confirmed (exit 0, number 5 kept); alone it fails (exit 1); with
    NAME.crl deleted it is still refused. The twin: a complete number 6 is installed."""
    with basic_env(crlsync, "scope_change_refused") as env:
        der5 = env.crl(entries=[Entry(0x05, reason="keyCompromise")], number=5)
        env.publish(PATH, der5)
        env.fetch(expect_rc=0)
        env.publish("narrow.crl", env.crl(number=6, idp=gen.IDP(only_ca=True)))
        env.write_config({SRC: [env.url("narrow.crl"), env.url(PATH)]})
        r = env.fetch(expect_rc=0)
        r.assert_err(rx_error(SRC, env.url("narrow.crl"), r"scope[^\n]*onlyContainsCACerts[^\n]*differs"))
        env.assert_installed(SRC, der5, "the narrower CRL must not replace the complete one")
        env.write_config({SRC: [env.url("narrow.crl")]})
        r = env.fetch()
        r.assert_err(rx_error(SRC, env.url("narrow.crl"), r"scope[^\n]*differs"))
        assert_kept(env, r, der5)
        env.crl_path(SRC).unlink()
        r = env.fetch()
        r.assert_err(rx_error(SRC, env.url("narrow.crl"), r"scope[^\n]*differs"))
        assert_kept(env, r, None)
        env.write_config({SRC: [env.url(PATH)]})
        env.fetch(expect_rc=0)
        env.assert_installed(SRC, der5, "the complete number 5 back")
        der6 = env.crl(number=6)
        env.publish(PATH, der6)
        env.fetch(expect_rc=0)
        env.assert_installed(SRC, der6, "a complete number 6")


@scenario
def http_404(crlsync):
    """The CRL disappears from the server: exit 1, the message has the URL and 404, the
    installed CRL stays."""
    with basic_env(crlsync, "http_404") as env:
        der = env.crl(number=1)
        env.publish(PATH, der)
        env.fetch(expect_rc=0)
        env.unpublish(PATH)
        r = env.fetch()
        r.assert_err(rx_error(SRC, env.url(PATH), r"\b404\b"))
        assert_kept(env, r, der)
        # A source that never had a CRL: exit 1 too, nothing installed.
        env.write_config({SRC: [env.url(PATH)], "never": [env.url("never.crl")]})
        r = env.fetch()
        r.assert_rc(1)
        r.assert_err(rx_error("never", env.url("never.crl"), r"\b404\b"))
        if env.installed("never") is not None:
            raise Failure("never.crl exists")


@scenario
def url_changed_in_place(crlsync):
    """The source's only URL is changed in place from a.crl to b.crl, two files nginx gives the
    same ETag and Last-Modified (same mtime and size) but other CRLs: the first request to b.crl
    is unconditional and number 2 is installed (issue 13: it went out with a.crl's ETag and got a
    304 for a file never fetched). Twin: the next request to b.crl is conditional (304). A state
    file of an older crlsync (no validators_url_sha256) still loads: one unconditional GET, then
    conditional ones again."""
    import json
    with basic_env(crlsync, "url_changed_in_place") as env:
        a, b = env.crl(number=1), env.crl(number=2)
        if len(a) != len(b):
            raise Failure(f"the two CRLs differ in size ({len(a)}, {len(b)}): the ETags would differ")
        pa, pb = env.publish("a.crl", a), env.publish("b.crl", b)
        st = pa.stat()
        os.utime(pb, (st.st_mtime, st.st_mtime))
        env.write_config({SRC: [env.url("a.crl")]})
        env.fetch(expect_rc=0).assert_err(rf"installed CRL number {rx_number(1)}")
        env.write_config({SRC: [env.url("b.crl")]})
        mark = env.nginx.mark()
        r = env.fetch(expect_rc=0)
        reqs = env.nginx.wait_requests(mark, "/b.crl")
        log(f"first request to the new URL: {reqs}")
        if not reqs or reqs[0].conditional or reqs[0].status != 200:
            raise Failure(f"the first request to the new URL went with the old URL's validators: {reqs}\n{r.show()}")
        env.assert_installed(SRC, b, "after the URL was changed in place")
        mark = env.nginx.mark()
        env.fetch(expect_rc=0).assert_err(r"not modified \(304\)")
        reqs = env.nginx.wait_requests(mark, "/b.crl")
        if not reqs or not reqs[0].conditional or reqs[0].status != 304:
            raise Failure(f"the second request to the new URL is not a conditional GET answered 304: {reqs}")

        # a state written by an older crlsync: validators without the URL they belong to
        state = env.cache / ".state" / f"{SRC}.json"
        o = json.loads(state.read_text())
        if "validators_url_sha256" not in o:
            raise Failure(f"the state does not say which URL its validators belong to: {sorted(o)}")
        del o["validators_url_sha256"]
        state.write_text(json.dumps(o))
        env.run("status", expect_rc=0).assert_out(rf"^{SRC}\s+{rx_number(2)}")
        mark = env.nginx.mark()
        env.fetch(expect_rc=0).assert_err(rf"serves the installed CRL number {rx_number(2)}: unchanged")
        reqs = env.nginx.wait_requests(mark, "/b.crl")
        if not reqs or reqs[0].conditional:
            raise Failure(f"validators of an old state file were used: {reqs}")
        mark = env.nginx.mark()
        env.fetch(expect_rc=0)
        reqs = env.nginx.wait_requests(mark, "/b.crl")
        if not reqs or not reqs[0].conditional:
            raise Failure(f"no conditional GET after the old state was rewritten: {reqs}")


@scenario
def dead_mirror_then_good(crlsync):
    """First url: a closed port on 127.0.0.1; second: nginx. Installed from the second, exit 0,
    the dead mirror named in a message."""
    with FetchEnv(crlsync, "dead_mirror_then_good") as env:
        env.start_nginx()
        dead = f"http://127.0.0.1:{free_port(socket.SOCK_STREAM)}/{PATH}"   # bound, then released: closed
        der = env.crl(number=1)
        env.publish(PATH, der)
        env.write_config({SRC: [dead, env.url(PATH)]})
        r = env.fetch(expect_rc=0)
        r.assert_err(rx_error(SRC, dead, r"connect|refused"))
        r.assert_err(rf"installed CRL number {rx_number(1)} from {re.escape(env.url(PATH))}")
        env.assert_installed(SRC, der)
        if r.seconds > 10:
            raise Failure(f"a refused connection on loopback took {r.seconds:.1f} s")


@scenario
def bad_mirror_then_good(crlsync):
    """First url serves garbage, second a good CRL: installed from the second, exit 0."""
    with basic_env(crlsync, "bad_mirror_then_good") as env:
        der = env.crl(number=1)
        env.publish("bad.crl", gen.garbage(1024))
        env.publish(PATH, der)
        env.write_config({SRC: [env.url("bad.crl"), env.url(PATH)]})
        r = env.fetch(expect_rc=0)
        r.assert_err(rx_error(SRC, env.url("bad.crl"), r"DER|PEM|decode|pars"))
        env.assert_installed(SRC, der)
        # A mirror with a badly signed CRL is passed over the same way.
        der2 = env.crl(number=2)
        env.publish("bad.crl", env.crl(number=3, key=gen.make_impostor(env.pki.issuing).key))
        env.publish(PATH, der2)
        r = env.fetch(expect_rc=0)
        r.assert_err(rx_error(SRC, env.url("bad.crl"), r"signature"))
        env.assert_installed(SRC, der2)
        # And one that serves an older CRL (rollback) too.
        der3 = env.crl(number=3)
        env.publish("bad.crl", env.crl(number=1))
        env.publish(PATH, der3)
        r = env.fetch(expect_rc=0)
        r.assert_err(rx_error(SRC, env.url("bad.crl"), r"rollback|older"))
        env.assert_installed(SRC, der3)


@scenario
def oversized(crlsync):
    """max-size = 1K and a 3 KB CRL: refused as too large, exit 1, nothing installed, no temp
    file. A source with its own max-size = 64K takes the same file."""
    with FetchEnv(crlsync, "oversized") as env:
        env.start_nginx()
        der = env.crl(entries=[Entry(0x1000 + i) for i in range(100)], number=1)
        if len(der) <= 2048:
            raise Failure(f"fixture: the CRL is only {len(der)} bytes")
        env.publish(PATH, der)
        env.write_config({SRC: [env.url(PATH)], "roomy": {"urls": [env.url(PATH)], "lines": ["max-size = 64K"]}},
                         global_lines=["max-size = 1K"])
        r = env.fetch(expect_rc=1)
        r.assert_err(rx_error(SRC, env.url(PATH), r"too large|larger than"))
        if env.installed(SRC) is not None:
            raise Failure(f"{SRC}.crl of {len(der)} bytes installed despite max-size = 1K")
        env.assert_installed("roomy", der, "the source with max-size = 64K")
        env.assert_no_temp_files()


@scenario
def credentials_masked(crlsync):
    """url = http://user:secret@127.0.0.1:port/x.crl: the credentials reach nginx, but `secret`
    is in no message of fetch (success or failure), of status or status --json."""
    with basic_env(crlsync, "credentials_masked") as env:
        der = env.crl(number=1)
        env.publish(PATH, der)
        env.write_config({SRC: [env.url(PATH, "user:secret")], "gone": [env.url("gone.crl", "user:secret")]})
        mark = env.nginx.mark()
        r = env.fetch(expect_rc=1)
        env.assert_installed(SRC, der)
        reqs = env.nginx.wait_requests(mark, "/" + PATH)
        if not reqs or reqs[0].user != "user":
            raise Failure(f"the credentials were not sent (nginx: {reqs})")
        r.assert_err(rx_error("gone", "http://", r"\b404\b"))
        runs = [r, env.fetch(), env.run("status", expect_rc=0), env.run("status", "--json", expect_rc=0)]
        env.unpublish(PATH)
        runs.append(env.fetch())
        for x in runs:
            x.assert_not("secret")
        if not any("127.0.0.1" in x.out + x.err for x in runs):
            raise Failure("no message names the URL at all")
        for p in (env.cache / ".state").glob("*.json"):
            if "secret" in p.read_text():
                log(f"NOTE: {p} contains the password")


@scenario
def credentials_reserved_chars_masked(crlsync):
    """A password with a raw '/', '?', '#' and '@' (url = http://u5er:se/cr?et#x@y@127.0.0.1:port/...):
    libcurl cannot use it, and no part of it, nor the user name, is in any message of fetch, of
    status or status --json, or in the state files; the URL shows as http://***@127.0.0.1:port/...
    The twin: a good mirror after it still installs."""
    with basic_env(crlsync, "credentials_reserved_chars_masked") as env:
        der = env.crl(number=1)
        env.publish(PATH, der)
        secret_url = env.url(PATH, "u5er:se/cr?et#x@y")
        shown = f"http://***@127.0.0.1:{env.nginx.port}/{PATH}"
        env.write_config({SRC: [secret_url, env.url(PATH)]})
        r = env.fetch(expect_rc=0)
        env.assert_installed(SRC, der, "from the second mirror")
        r.assert_err(rf"source {SRC}: {re.escape(shown)}: ")
        env.write_config({SRC: [secret_url]})
        runs = [r, env.fetch(expect_rc=1), env.run("status", expect_rc=0), env.run("status", "--json", expect_rc=0)]
        runs[1].assert_err(rf"source {SRC}: {re.escape(shown)}: ")
        texts = [p.read_text(errors="replace") for p in (env.cache / ".state").glob("*.json")]
        if not texts:
            raise Failure("no state file written")
        for needle in ("u5er", "se/cr", "cr?et", "et#x", "x@y"):
            for x in runs:
                x.assert_not(needle)
            for t in texts:
                if needle in t:
                    raise Failure(f"a state file holds {needle!r}: {t}")
        if shown not in runs[3].out:
            raise Failure(f"status --json does not show the masked URL {shown}:\n{runs[3].out}")


# --- daemon ------------------------------------------------------------------------------------


def _installed_is(env: FetchEnv, name: str, der: bytes) -> Callable[[], bool]:
    return lambda: env.installed(name) == der


@scenario
def daemon_sigusr1(crlsync):
    """The daemon installs number 1 at start; nginx then serves number 2; `crlsync refresh`
    (SIGUSR1 via the pidfile) gets it installed within 1 s."""
    with basic_env(crlsync, "daemon_sigusr1") as env:
        der1 = env.crl(number=1)
        env.publish(PATH, der1)
        d = env.start_daemon()
        d.wait_until(_installed_is(env, SRC, der1), 5, "the daemon's first pass installing number 1")
        lat = []
        for n in (2, 3, 4):
            der = env.crl(entries=[Entry(0x05 + n)], number=n)
            env.publish(PATH, der)
            time.sleep(0.2)
            d.assert_running()
            if env.installed(SRC) == der:
                raise Failure(f"number {n} was installed before any refresh was asked for")
            t0 = time.monotonic()
            env.run("refresh", "--pidfile", str(env.pidfile), expect_rc=0)
            t1 = d.wait_until(_installed_is(env, SRC, der), 1.0, f"number {n} installed after `crlsync refresh`")
            lat.append(t1 - t0)
            log(f"refresh -> number {n} installed in {1000 * (t1 - t0):.0f} ms")
        d.assert_running()
        log(f"SIGUSR1 -> installed latency: min {1000 * min(lat):.0f} ms, max {1000 * max(lat):.0f} ms")
        env.assert_no_temp_files()


@scenario
def daemon_sigusr1_storm(crlsync):
    """A 3-s download (a local server trickling each CRL over 3 s, a newer number every request)
    and one SIGUSR1 a second for 12 s: the requests are coalesced, every transfer finishes and a
    pass follows it at once: installs (3 expected, at least 2 asserted), nothing aborted (issue 13: 12 aborted transfers,
    0 installs). Twin: SIGTERM in the middle of such a transfer still ends the daemon within 2 s."""
    with FetchEnv(crlsync, "daemon_sigusr1_storm") as env:
        srv = TrickleServer(lambda n: env.crl(number=n), seconds=3.0).start()
        try:
            env.write_config({SRC: [srv.url(PATH)]})
            d = env.start_daemon()
            t_end = time.monotonic() + 12
            sent = 0
            while time.monotonic() < t_end:
                time.sleep(1.0)
                d.signal(signal.SIGUSR1)
                sent += 1
            text = d.log.text()
            installs = len(re.findall(r"installed CRL number", text))
            aborted = len(re.findall(r"(?i)aborted", text))
            log(f"SIGUSR1 storm: {sent} signals in 12 s, {installs} installs, {aborted} aborted transfers, "
                f"{srv.requests} requests, {srv.completed} complete")
            if aborted or installs < 2:
                raise Failure(f"{installs} installs and {aborted} aborted transfers under the storm:\n{tail(text)}")
            d.assert_running()
            # SIGTERM is not coalesced: it abandons the transfer in flight
            d.signal(signal.SIGUSR1)
            n0 = srv.requests
            d.wait_until(lambda: srv.requests > n0, 5, "a transfer in flight")
            time.sleep(0.5)
            t0 = time.monotonic()
            d.signal(signal.SIGTERM)
            rc = d.wait_exit(2)
            log(f"SIGTERM during a trickling transfer: exit {rc} after {1000 * (time.monotonic() - t0):.0f} ms")
            if rc != 0:
                raise Failure(f"SIGTERM: exit status {rc}")
            env.assert_no_temp_files()
        finally:
            srv.stop()


def _next_update(der: bytes) -> float:
    c = x509.load_der_x509_crl(der)
    nu = getattr(c, "next_update_utc", None) or c.next_update.replace(tzinfo=datetime.timezone.utc)
    return nu.timestamp()


SHORT_LIVED_SAMPLES = 155


@scenario
def daemon_short_lived_crls(crlsync):
    """A CA issues CRLs valid for 60 s and re-issues one every 20 s; the daemon runs with the
    default interval. Sampled every second for 155 s, the installed CRL is never expired (issue
    13: 4 of 150 samples were, the daemon never polled more often than every 60 s); the worst
    validity left is logged. Takes about 3 minutes."""
    import threading
    with basic_env(crlsync, "daemon_short_lived_crls") as env:
        stop = threading.Event()
        issued = [0]

        def issue():
            issued[0] += 1
            env.publish(PATH, env.crl(number=issued[0], this_update=0, next_update=60))

        def ca():
            while not stop.wait(20.0):
                issue()

        issue()
        t = threading.Thread(target=ca, daemon=True)
        t.start()
        try:
            d = env.start_daemon()
            d.wait_for_log(r"installed CRL number", timeout=10)
            worst, expired = None, 0
            for i in range(SHORT_LIVED_SAMPLES):
                time.sleep(1.0)
                der = env.installed(SRC)
                left = _next_update(der) - time.time()
                worst = left if worst is None else min(worst, left)
                if left < 0:
                    expired += 1
                    log(f"sample {i}: the installed CRL expired {-left:.1f} s ago")
            d.assert_running()
        finally:
            stop.set()
            t.join()
        log(f"short-lived CRLs: {issued[0]} issued, {SHORT_LIVED_SAMPLES} samples, {expired} expired, worst validity "
            f"left {worst:.1f} s")
        if expired or worst <= 0:
            raise Failure(f"the installed CRL was expired in {expired} of {SHORT_LIVED_SAMPLES} samples (worst "
                          f"{worst:.1f} s left)\n{tail(d.log.text())}")


@scenario
def daemon_publish_at_next_update(crlsync):
    """A producer that publishes the next CRL exactly at the installed one's nextUpdate
    (django-ca's generic view, 600-s CRLs): the daemon fetches one second after nextUpdate and the
    new CRL is installed within about 2 s of it, not a minute later. Twin: no near-expiry warning
    right after a fresh 120-s CRL is installed, and one for a CRL with 20 s of its 120 left."""
    import threading
    with basic_env(crlsync, "daemon_publish_at_next_update") as env:
        der1 = env.crl(number=1, this_update=-570, next_update=30)
        nu = _next_update(der1)
        env.publish(PATH, der1)
        der2 = env.crl(number=2, this_update=30, next_update=630)

        def producer():
            time.sleep(max(0.0, nu - time.time()))
            env.publish(PATH, der2)

        t = threading.Thread(target=producer, daemon=True)
        t.start()
        d = env.start_daemon()
        d.wait_until(_installed_is(env, SRC, der1), 5, "number 1 installed")
        d.wait_until(_installed_is(env, SRC, der2), 45, "number 2 installed after it was published at nextUpdate")
        late = time.time() - nu
        t.join()
        log(f"published at nextUpdate: installed {late:.2f} s after nextUpdate")
        if late > 3.0:
            raise Failure(f"installed {late:.1f} s after nextUpdate")
        d.signal(signal.SIGTERM)
        d.wait_exit(3)
        env.pidfile.unlink(missing_ok=True)

        # warnings proportional to the validity
        for n, tu, nu_, warn in ((3, 0, 120, False), (4, -100, 20, True)):
            der = env.crl(number=n, this_update=tu, next_update=nu_)
            env.publish(PATH, der)
            d = env.start_daemon(name=f"daemon-{n}")
            d.wait_until(_installed_is(env, SRC, der), 5, f"number {n} installed")
            time.sleep(1.0)
            got = re.search(r"expires at [^\n]* and could not be refreshed yet", d.log.text())
            if bool(got) != warn:
                raise Failure(f"CRL valid {tu}..+{nu_} s: near-expiry warning {'missing' if warn else 'logged'}:\n"
                              f"{tail(d.log.text())}")
            d.signal(signal.SIGTERM)
            d.wait_exit(3)
            env.pidfile.unlink(missing_ok=True)


@scenario
def daemon_sighup_new_source(crlsync):
    """SIGHUP with a source added: its CRL gets installed. SIGHUP with a broken config: refused
    and logged, the daemon lives on with the old config (SIGUSR1 still refreshes both sources)."""
    with basic_env(crlsync, "daemon_sighup_new_source") as env:
        der1 = env.crl(number=1)
        env.publish(PATH, der1)
        d = env.start_daemon()
        d.wait_until(_installed_is(env, SRC, der1), 5, "the first pass")
        root1 = env.crl(env.pki.root, number=1)
        env.publish("root.crl", root1)
        good_sources = {SRC: [env.url(PATH)], "root": {"urls": [env.url("root.crl")], "ca": env.pki.root_crt}}
        env.write_config(good_sources)
        mark = d.mark()
        t0 = time.monotonic()
        d.signal(signal.SIGHUP)
        t1 = d.wait_until(_installed_is(env, "root", root1), 5, "root.crl after SIGHUP with the new source")
        log(f"SIGHUP -> new source installed in {1000 * (t1 - t0):.0f} ms")
        d.wait_for_log(r"(?i)reload", 2, mark)

        env.write_config({}, raw=env.config.read_text() + "\n[source broken]\nurl = http://127.0.0.1:1/x.crl\n"
                                                            "bogus-key = 1\n")
        mark = d.mark()
        d.signal(signal.SIGHUP)
        m = d.wait_for_log(r"(?i)[^\n]*(refus|keep|old)[^\n]*", 5, mark)
        d.wait_for_log(r"line \d+", 1, mark)
        log(f"broken config: {m.group(0).strip()}")
        time.sleep(0.2)
        d.assert_running()

        der2, root2 = env.crl(number=2), env.crl(env.pki.root, number=2)
        env.publish(PATH, der2)
        env.publish("root.crl", root2)
        mark = d.mark()
        t0 = time.monotonic()
        d.signal(signal.SIGUSR1)
        d.wait_until(lambda: env.installed(SRC) == der2 and env.installed("root") == root2, 2,
                     "both sources refreshed by SIGUSR1 after the refused reload")
        log(f"SIGUSR1 after the refused reload: both installed in {1000 * (time.monotonic() - t0):.0f} ms")
        if re.search(r"source broken\b", d.log.text(mark)):
            raise Failure(f"the refused config's source is in use:\n{tail(d.log.text(mark))}")
        d.assert_running()


@scenario
def daemon_sigterm(crlsync):
    """SIGTERM (and SIGINT) end the daemon with status 0 within a few seconds: when idle, and in
    the middle of a slow transfer (nginx limit_rate), leaving no temp file and nothing half-installed."""
    with basic_env(crlsync, "daemon_sigterm") as env:
        der = env.crl(number=1)
        env.publish(PATH, der)
        for sig in (signal.SIGTERM, signal.SIGINT):
            d = env.start_daemon(name=f"daemon-{sig.name}")
            d.wait_until(_installed_is(env, SRC, der), 5, "the first pass")
            time.sleep(0.1)
            t0 = time.monotonic()
            d.signal(sig)
            rc = d.wait_exit(3)
            log(f"idle daemon, {sig.name}: exit {rc} after {1000 * (time.monotonic() - t0):.0f} ms")
            if rc != 0:
                raise Failure(f"{sig.name} on an idle daemon: exit status {rc}\n{tail(d.log.text())}")
            env.pidfile.unlink(missing_ok=True)

        # 2 MB at 16 KB/s: the transfer would take two minutes.
        big = gen.garbage(2 << 20)
        env.publish("slow/big.crl", big)
        env.write_config({SRC: [env.url(PATH)], "slow": [env.url("slow/big.crl")]}, global_lines=["timeout = 100"])
        amark = env.nginx.mark()
        d = env.start_daemon(name="daemon-slow")
        time.sleep(1.5)   # the transfer is on
        d.assert_running()
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        rc = d.wait_exit(5)
        dt = time.monotonic() - t0
        log(f"daemon in a slow transfer, SIGTERM: exit {rc} after {1000 * dt:.0f} ms")
        if rc != 0:
            raise Failure(f"SIGTERM during a transfer: exit status {rc}\n{tail(d.log.text())}")
        reqs = env.nginx.wait_requests(amark, "/slow/big.crl", timeout=3)
        if not reqs or reqs[0].bytes >= len(big):
            raise Failure(f"the slow transfer was not in progress (nginx: {reqs})")
        log(f"nginx had sent {reqs[0].bytes} of {len(big)} bytes")
        if env.installed("slow") is not None:
            raise Failure("slow.crl installed from an abandoned transfer")
        env.assert_no_temp_files()


@scenario
def daemon_sigterm_waiting_lock(crlsync):
    """Another process holds cache-dir/.crlsync.lock: the daemon says once that it waits, and
    SIGTERM still ends it with status 0 within 2 s, nothing installed. The twin: when the lock is
    released the waiting daemon installs the CRL."""
    import fcntl
    with basic_env(crlsync, "daemon_sigterm_waiting_lock") as env:
        der = env.crl(number=1)
        env.publish(PATH, der)
        env.cache.mkdir(mode=0o755)
        with open(env.cache / ".crlsync.lock", "a+") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            d = env.start_daemon(name="daemon-locked")
            d.wait_for_log(r"waiting for another crlsync holding", 5)
            time.sleep(0.5)
            d.assert_running()
            t0 = time.monotonic()
            d.signal(signal.SIGTERM)
            rc = d.wait_exit(2)
            dt = time.monotonic() - t0
            log(f"daemon waiting for the lock, SIGTERM: exit {rc} after {1000 * dt:.0f} ms")
            if rc != 0 or dt > 2:
                raise Failure(f"SIGTERM while waiting for the lock: exit {rc} after {dt:.1f} s\n{tail(d.log.text())}")
            if env.installed(SRC) is not None:
                raise Failure("installed while another process held the lock")
            if len(re.findall(r"waiting for another crlsync", d.log.text())) != 1:
                raise Failure(f"the wait is not logged exactly once:\n{tail(d.log.text())}")
            env.pidfile.unlink(missing_ok=True)
            d = env.start_daemon(name="daemon-released")
            d.wait_for_log(r"waiting for another crlsync holding", 5)
            fcntl.flock(lk, fcntl.LOCK_UN)
        d.wait_until(_installed_is(env, SRC, der), 2, "the install once the lock is released")
        d.signal(signal.SIGTERM)
        if d.wait_exit(3) != 0:
            raise Failure(f"SIGTERM: exit status {d.proc.returncode}\n{tail(d.log.text())}")


@scenario
def refresh_stale_pidfile(crlsync):
    """A pidfile naming a live process that is no daemon (a stale pidfile, its pid recycled):
    `refresh` exits 1 ("no daemon is running") and signals nothing (the process lives). A second
    daemon on the pidfile of a running one refuses to start and leaves the file alone; `refresh`
    then reaches the running daemon (the twin)."""
    with basic_env(crlsync, "refresh_stale_pidfile") as env:
        bystander = subprocess.Popen(["sleep", "60"], preexec_fn=_die_with_parent)
        env.procs.append(bystander)
        env.pidfile.write_text(f"{bystander.pid}\n")
        r = env.run("refresh", "--pidfile", str(env.pidfile), expect_rc=1)
        r.assert_err(r"no daemon is running \(stale pidfile")
        time.sleep(0.3)
        if bystander.poll() is not None:
            raise Failure(f"refresh signalled the pid of a stale pidfile (it exited {bystander.returncode})")
        env.pidfile.unlink()

        der1 = env.crl(number=1)
        env.publish(PATH, der1)
        d = env.start_daemon()
        d.wait_until(_installed_is(env, SRC, der1), 5, "the first pass")
        env.pidfile.read_text()
        second = env.run("daemon", "--pidfile", str(env.pidfile), timeout=10)
        second.assert_rc(1)
        second.assert_err(rf"another daemon holds {re.escape(str(env.pidfile))}")
        if env.pidfile.read_text().strip() != str(d.pid):
            raise Failure(f"the refused daemon changed the pidfile: {env.pidfile.read_text()!r}, daemon pid {d.pid}")
        der2 = env.crl(number=2)
        env.publish(PATH, der2)
        env.run("refresh", "--pidfile", str(env.pidfile), expect_rc=0)
        d.wait_until(_installed_is(env, SRC, der2), 2, "number 2 after refresh")
        d.signal(signal.SIGTERM)
        if d.wait_exit(3) != 0:
            raise Failure(f"SIGTERM: exit status {d.proc.returncode}\n{tail(d.log.text())}")
        if env.pidfile.exists():
            raise Failure("the daemon left its pidfile behind")
        if bystander.poll() is not None:
            raise Failure("the bystander process died")


# --- trust boundaries (issue 10): root, the fetcher's user and what it owns -----------------------


def _nobody() -> tuple:
    """The uid and gid of `nobody`, the stand-in for the fetcher's own user."""
    pw = pwd.getpwnam("nobody")
    return pw.pw_uid, pw.pw_gid


def _user_dir(path, uid: int, gid: int):
    """A 0755 directory that belongs to uid:gid (a /run/crlsync/ or /var/lib/crlsync of that user)."""
    path.mkdir(mode=0o755, exist_ok=True)
    os.chown(path, uid, gid)
    os.chmod(path, 0o755)
    return path


def _proc_uids(pid: int) -> list:
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            if ln.startswith("Uid:"):
                return [int(x) for x in ln.split()[1:]]
    return []


# Run as the pidfile's owner: takes the pidfile, holds an exclusive flock on it (as the daemon does)
# and writes into it each pid read from stdin, answering "ok".
PIDFILE_HOLDER = r"""
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
for line in sys.stdin:
    os.ftruncate(fd, 0)
    os.pwrite(fd, line.encode(), 0)
    print("ok", flush=True)
"""


@scenario
def refresh_hostile_pidfile(crlsync):
    """The pidfile's directory belongs to the fetcher's user (nobody here), who may write any pid
    into a pidfile it holds locked. `crlsync refresh` as root then refuses, exit 1, naming the
    pidfile, the pid, the owner's uid and why, and signals nothing: not root's `sleep` (another
    uid), not nobody's `sleep` (no crlsync), and a FIFO there does not block it. The twin: the
    real daemon run by nobody, its pidfile there, is refreshed by root."""
    need_root("refresh_hostile_pidfile")
    uid, gid = _nobody()
    with basic_env(crlsync, "refresh_hostile_pidfile") as env:
        rundir = _user_dir(env.dir / "run", uid, gid)
        pidfile = rundir / "crlsync.pid"
        victims = []
        for user in (None, uid):
            p = subprocess.Popen(["sleep", "60"], stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
                                 **as_user(user))
            env.procs.append(p)
            victims.append(p)
        holder = subprocess.Popen([sys.executable, "-c", PIDFILE_HOLDER, str(pidfile)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, preexec_fn=_die_with_parent, **as_user(uid))
        env.procs.append(holder)
        whys = (rf"it runs as uid 0 \(effective 0, saved 0\), not as uid {uid}, the pidfile's owner",
                r"its executable is /\S*/sleep, not crlsync")
        for victim, why in zip(victims, whys):
            holder.stdin.write(f"{victim.pid}\n")
            holder.stdin.flush()
            if holder.stdout.readline().strip() != "ok":
                raise Failure(f"the pidfile holder (as nobody) failed (exit {holder.poll()})")
            if pidfile.stat().st_uid != uid:
                raise Failure(f"{pidfile} belongs to uid {pidfile.stat().st_uid}, not nobody")
            r = env.run("refresh", "--pidfile", str(pidfile), timeout=10)
            r.assert_rc(1)
            m = r.assert_err(rf"refusing to signal pid {victim.pid} of pidfile {re.escape(str(pidfile))} "
                             rf"\(owned by uid {uid}\): {why}[^\n]*; nothing signalled")
            log(f"refused: {m.group(0)}")
            time.sleep(0.3)
            if victim.poll() is not None:
                raise Failure(f"refresh as root signalled pid {victim.pid} named by nobody's pidfile "
                              f"(it exited {victim.returncode})\n{r.show()}")
        holder.stdin.close()
        env.reap(holder, timeout=5)
        pidfile.unlink()
        # A FIFO at the pidfile: opened without blocking, refused.
        os.mkfifo(pidfile)
        os.chown(pidfile, uid, gid)
        r = env.run("refresh", "--pidfile", str(pidfile), timeout=5)
        r.assert_rc(1)
        r.assert_err(rf"pidfile {re.escape(str(pidfile))} is not a regular file")
        pidfile.unlink()

        # The twin: nobody's own daemon, its pidfile in nobody's directory: root refreshes it.
        _user_dir(env.cache, uid, gid)
        der1 = env.crl(number=1)
        env.publish(PATH, der1)
        d = env.start_daemon(user=uid, pidfile=pidfile)
        d.wait_until(_installed_is(env, SRC, der1), 5, "the first pass of the daemon run by nobody")
        der2 = env.crl(entries=[Entry(0x05)], number=2)
        env.publish(PATH, der2)
        r = env.run("refresh", "--pidfile", str(pidfile), expect_rc=0)
        r.assert_out(rf"asked the daemon \(pid {d.pid}\)")
        d.wait_until(_installed_is(env, SRC, der2), 2, "number 2 after root's `crlsync refresh`")
        d.signal(signal.SIGTERM)
        if d.wait_exit(3) != 0:
            raise Failure(f"SIGTERM: exit status {d.proc.returncode}\n{tail(d.log.text())}")
        for victim in victims:
            if victim.poll() is not None:
                raise Failure(f"the bystander pid {victim.pid} died")


@scenario
def symlink_at_installed_name(crlsync):
    """cache-dir/NAME.crl is a symlink to a file elsewhere (a CRL of the same CA, number 9): it is
    not read as the installed CRL (the plugin does not follow links either), a warning names the
    link and where it points, and the served CRL is installed by renaming over the link:
    NAME.crl is then a regular file, the link's target untouched. A dangling link: the same."""
    with basic_env(crlsync, "symlink_at_installed_name") as env:
        der2 = env.crl(entries=[Entry(0x05, reason="keyCompromise")], number=2)
        env.publish(PATH, der2)
        elsewhere = env.dir / "elsewhere.crl"
        precious = env.crl(number=9)
        elsewhere.write_bytes(precious)
        env.cache.mkdir(mode=0o755)
        link = env.crl_path(SRC)
        os.symlink(elsewhere, link)
        r = env.fetch()
        r.assert_err(rf"warning: source {SRC}: {re.escape(str(link))} is a symbolic link "
                     rf"\(to {re.escape(str(elsewhere))}\), not a CRL file")
        r.assert_rc(0)
        r.assert_err(rf"installed CRL number {rx_number(2)}")
        if not stat.S_ISREG(os.lstat(link).st_mode):
            raise Failure(f"{link} is still no regular file after the install")
        env.assert_installed(SRC, der2, "over the symlink")
        if elsewhere.read_bytes() != precious:
            raise Failure(f"the link's target {elsewhere} was changed")
        env.assert_no_temp_files()
        r = env.fetch(expect_rc=0)
        r.assert_not("symbolic link")

        # A dangling link, as from a removed target: replaced too.
        env.publish(PATH, env.crl(number=3))
        link.unlink()
        os.symlink(env.dir / "gone.crl", link)
        r = env.fetch(expect_rc=0)
        r.assert_err(r"is a symbolic link")
        if not stat.S_ISREG(os.lstat(link).st_mode):
            raise Failure(f"{link} (a dangling link) is still no regular file after the install")
        env.assert_installed(SRC, (env.www / PATH).read_bytes(), "over the dangling symlink")
        if (env.dir / "gone.crl").exists():
            raise Failure("the dangling link was written through")


@scenario
def root_fetch_in_owners_cache_dir(crlsync):
    """cache-dir belongs to the fetcher's user (nobody here) and `crlsync fetch` runs as root: it
    switches to that user before touching cache-dir (and says so), so NAME.crl, .state/ and the
    lock belong to nobody, and the daemon run by nobody afterwards reads its state and installs.
    The daemon started as root switches too, before its pidfile, which so belongs to nobody, and
    root's `refresh` reaches it. The twin: a cache-dir that does not exist yet is created by root
    and stays root's (no switch)."""
    need_root("root_fetch_in_owners_cache_dir")
    uid, gid = _nobody()
    with basic_env(crlsync, "root_fetch_in_owners_cache_dir") as env:
        _user_dir(env.cache, uid, gid)
        der1 = env.crl(number=1)
        env.publish(PATH, der1)
        r = env.fetch(expect_rc=0)
        r.assert_err(rf"running as root, cache-dir {re.escape(str(env.cache))} belongs to uid {uid} \(nobody\): "
                     rf"switched to that user")
        env.assert_installed(SRC, der1)
        state = env.cache / ".state"
        for p in (env.crl_path(SRC), state, state / f"{SRC}.json", env.cache / ".crlsync.lock"):
            st = os.lstat(p)
            if st.st_uid != uid or st.st_gid != gid:
                raise Failure(f"{p} belongs to {st.st_uid}:{st.st_gid}, not nobody ({uid}:{gid}), after a fetch "
                              f"run as root")
        env.run("status", expect_rc=0).assert_out(rf"^{SRC}\s+{rx_number(1)}")

        # The daemon as nobody: reads the state root's fetch left, installs number 2.
        rundir = _user_dir(env.dir / "run", uid, gid)
        pidfile = rundir / "crlsync.pid"
        der2 = env.crl(entries=[Entry(0x05)], number=2)
        env.publish(PATH, der2)
        d = env.start_daemon(user=uid, pidfile=pidfile)
        d.wait_until(_installed_is(env, SRC, der2), 5, "number 2 by the daemon run by nobody")
        d.signal(signal.SIGTERM)
        if d.wait_exit(3) != 0:
            raise Failure(f"SIGTERM: exit status {d.proc.returncode}\n{tail(d.log.text())}")
        if re.search(r"error:|cannot|(?i:permission denied)", d.log.text()):
            raise Failure(f"the daemon run by nobody complained:\n{tail(d.log.text())}")

        # The daemon started as root: nobody's process, nobody's pidfile, refreshed by root.
        d = env.start_daemon(pidfile=pidfile, name="daemon-root")
        der3 = env.crl(entries=[Entry(0x06)], number=3)
        d.wait_for_log(r"switched to that user", 5)
        uids = _proc_uids(d.pid)
        if uids != [uid] * 4 or pidfile.stat().st_uid != uid:
            raise Failure(f"daemon started as root: uids {uids}, pidfile owner {pidfile.stat().st_uid}; "
                          f"expected nobody ({uid}) for both")
        env.publish(PATH, der3)
        env.run("refresh", "--pidfile", str(pidfile), expect_rc=0)
        d.wait_until(_installed_is(env, SRC, der3), 5, "number 3 after root's refresh of the switched daemon")
        d.signal(signal.SIGTERM)
        if d.wait_exit(3) != 0:
            raise Failure(f"SIGTERM: exit status {d.proc.returncode}\n{tail(d.log.text())}")
        if pidfile.exists():
            raise Failure("the switched daemon left its pidfile behind")
        if env.crl_path(SRC).stat().st_uid != uid:
            raise Failure("the daemon started as root installed a file nobody does not own")

        # The twin: no cache-dir yet: root creates it and keeps working as root.
        env.cache = env.dir / "cache-new"
        env.write_config({SRC: [env.url(PATH)]})
        r = env.fetch(expect_rc=0)
        r.assert_not("switched to that user")
        if os.stat(env.cache).st_uid != 0 or os.stat(env.crl_path(SRC)).st_uid != 0:
            raise Failure("a cache-dir root created is not root's, or its CRL is not")


# --- atomicity ---------------------------------------------------------------------------------

KILL_ROUNDS = 20
# 100,000 entries keep the scenario near 15-20 s on a busy 2-CPU host: a complete fetch of such a
# CRL takes ~0.4-0.6 s (download, parse, verify), twice that at 200,000.
BIG_ENTRIES = int(os.environ.get("CRLSYNC_KILL9_ENTRIES", "100000"))


# Fails fsync() on directories only, with EIO: the rename has happened, its durability is unknown.
DIR_FSYNC_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/stat.h>
int fsync(int fd)
{
	static int (*real)(int);
	struct stat st;

	if (real == 0)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}
"""


@scenario
def dir_fsync_fails_installed(crlsync):
    """fsync of cache-dir fails (EIO, through an LD_PRELOAD shim) after the rename of number 2:
    it is installed, with a warning, and the state says so (exit 0, status shows number 2, then
    number 1 is refused as older). The twin: with a working fsync no such warning."""
    cc = shutil.which("cc") or shutil.which("clang") or shutil.which("gcc")
    if cc is None:
        raise Skip("no C compiler for the fsync shim")
    with basic_env(crlsync, "dir_fsync_fails_installed") as env:
        src = env.dir / "dirfsync.c"
        src.write_text(DIR_FSYNC_SHIM)
        so = env.dir / "dirfsync.so"
        subprocess.run([cc, "-shared", "-fPIC", "-o", str(so), str(src), "-ldl"], check=True)
        der1 = env.crl(number=1)
        env.publish(PATH, der1)
        r = env.fetch(expect_rc=0)
        r.assert_not("fsyncing")
        der2 = env.crl(entries=[Entry(0x05, reason="keyCompromise")], number=2)
        env.publish(PATH, der2)
        prefix = ["env", f"LD_PRELOAD={so}", "ASAN_OPTIONS=verify_asan_link_order=0"]
        r = env.fetch(expect_rc=0, prefix=prefix)
        r.assert_err(rf"source {SRC}: installed [^\n]*{re.escape(SRC)}\.crl, but fsyncing [^\n]*failed")
        r.assert_not("cannot install")
        env.assert_installed(SRC, der2)
        s = env.source_status(SRC)
        if not re.fullmatch(rx_number(2), str((s.get("crl") or {}).get("number"))):
            raise Failure(f"status --json after an install whose directory fsync failed: {s}")
        env.publish(PATH, der1)
        r = env.fetch()
        r.assert_err(rx_error(SRC, env.url(PATH), r"rollback|older"))
        assert_kept(env, r, der2)


@scenario
def kill9_never_torn(crlsync):
    """A large CRL (100,000 entries, 2.2 MB); 20 times: publish the next number, start `fetch`,
    SIGKILL it (after a random delay, or just as its temp file appears). After each kill NAME.crl
    is absent, the complete old DER or the complete new DER, never torn. Temp files of killed runs
    are removed by the next run that gets as far as installing. CRLSYNC_SEED repeats a sequence;
    CRLSYNC_KILL9_ENTRIES=200000 makes it heavier (about 30 s on a loaded 2-CPU host)."""
    with basic_env(crlsync, "kill9_never_torn") as env:
        t0 = time.monotonic()
        entries = big_entries(BIG_ENTRIES)
        der = big_crl(env.pki.issuing, entries, 1)
        log(f"{BIG_ENTRIES} entries: {len(der)} bytes of DER in {time.monotonic() - t0:.2f} s")
        if not x509.load_der_x509_crl(der).is_signature_valid(env.pki.issuing.key.public_key()):
            raise Failure("fixture: the hand-made CRL does not verify")
        env.publish(PATH, der)
        r = env.fetch(expect_rc=0, timeout=30)
        env.assert_installed(SRC, der)
        full = r.seconds
        published = {1: der}
        number, leftovers_seen, installs, state_left, all_left = 1, 0, 0, set(), set()
        seed = int(os.environ.get("CRLSYNC_SEED") or time.time_ns() % 1000000)
        rnd = random.Random(seed)
        log(f"seed {seed}")
        for i in range(KILL_ROUNDS):
            number += 1
            new = big_crl(env.pki.issuing, entries, number)
            published[number] = new
            env.publish(PATH, new)
            old = env.installed(SRC)
            p = env.spawn("fetch")
            mine = set()   # temp files this run was seen to create
            if i % 2 == 0:
                delay = rnd.uniform(0, 1.1 * full)
                time.sleep(delay)
                how = f"after {1000 * delay:.0f} ms"
            else:
                ts = time.monotonic()
                while p.poll() is None and time.monotonic() - ts < 3 * full + 1:
                    mine = set(env.temp_files(SRC)) - all_left
                    if mine:
                        break
                    time.sleep(0.0005)
                extra = rnd.uniform(0, 0.01)
                time.sleep(extra)
                how = f"{1000 * (time.monotonic() - ts):.0f} ms in, {1000 * extra:.1f} ms after its temp file appeared"
            p.kill()
            rc = env.reap(p, 5)
            cur = env.installed(SRC)
            if cur not in (old, new):
                which = [k for k, v in published.items() if v == cur]
                raise Failure(f"round {i + 1}: after SIGKILL {how}, {SRC}.crl is "
                              f"{'absent' if cur is None else f'{len(cur)} bytes'} (published number {which}), "
                              f"neither the old ({None if old is None else len(old)} bytes) nor the new "
                              f"({len(new)} bytes) CRL")
            left = env.temp_files(SRC)
            if mine and set(left) & all_left:
                # It created its temp file, so it held the lock and ran the cleanup before.
                raise Failure(f"round {i + 1}: a run that got to installing left the temp files of earlier "
                              f"killed runs: {sorted(set(left) & all_left)}")
            leftovers_seen += bool(left)
            all_left |= set(left)
            installs += cur == new and cur != old
            state_left |= set(env.state_temp_files())
            log(f"round {i + 1}: killed {how} (exit {rc}): "
                f"{'new' if cur == new and cur != old else 'old'} CRL in place, temp files {left}")
        r = env.fetch(expect_rc=0, timeout=30)
        env.assert_installed(SRC, published[number], "after the last, complete run")
        env.assert_no_temp_files()
        log(f"{KILL_ROUNDS} kills: {installs} installed the new CRL, {leftovers_seen} left a temp file; "
            f"a complete run takes {full:.2f} s")
        if state_left or env.state_temp_files():
            log(f"NOTE: state temp files left in {env.cache / '.state'}: {sorted(state_left)} "
                f"(now: {env.state_temp_files()})")
        if leftovers_seen == 0:
            raise Failure("no kill left a temp file: the cleanup by the next run was not exercised")


@scenario
def two_processes_lock(crlsync):
    """Two `fetch` runs at once, five times over with a new number each time: both exit 0 and the
    file is one complete CRL (the newest)."""
    with basic_env(crlsync, "two_processes_lock") as env:
        entries = big_entries(20_000)
        for n in range(1, 6):
            der = big_crl(env.pki.issuing, entries, n)
            env.publish(PATH, der)
            outs = [env.dir / f"pair{n}-{k}.log" for k in (1, 2)]
            ps = [env.spawn("fetch", out=o) for o in outs]
            rcs = [env.reap(p, 30) for p in ps]
            if rcs != [0, 0]:
                raise Failure(f"round {n}: exit statuses {rcs}\n" +
                              "\n".join(tail(o.read_text(errors="replace")) for o in outs))
            env.assert_installed(SRC, der, f"round {n}")
            env.assert_no_temp_files()
            installs = sum("installed CRL" in o.read_text(errors="replace") for o in outs)
            if installs != 1:
                raise Failure(f"round {n}: {installs} of the two runs installed number {n}\n" +
                              "\n".join(tail(o.read_text(errors="replace")) for o in outs))


# --- check and verify --------------------------------------------------------------------------


@scenario
def check_cmd(crlsync):
    """check: a revoked certificate exits 1 with date and reason; a good one 0; no CRL installed
    4 (cannot decide); an expired CRL 4; a missing file 3."""
    with basic_env(crlsync, "check_cmd") as env:
        alice = env.pki.client("alice", serial=0x05)
        bob = env.pki.client("bob", serial=0x06)
        r = env.run("check", str(bob.crt))
        r.assert_rc(4)  # cannot decide (crlsync(8), EXIT STATUS)
        when = gen.now() - datetime.timedelta(days=1, hours=2)
        env.publish(PATH, env.crl(entries=[Entry(0x05, revoked_at=when, reason="keyCompromise")], number=2))
        env.fetch(expect_rc=0)
        r = env.run("check", str(alice.crt), expect_rc=1)
        r.assert_out(rf"(?i)revoked[^\n]*{re.escape(utc(when))}[^\n]*keyCompromise")
        env.run("check", str(bob.crt), expect_rc=0).assert_out(r"(?i)\bgood\b")
        env.run("check", str(bob.crt), str(alice.crt), expect_rc=1)
        env.run("check", str(env.dir / "nonexistent.crt"), expect_rc=3)
        env.run("check", expect_rc=3)
        # An expired CRL cannot vouch for bob (written straight into the cache).
        gen.install(env.crl_path(SRC), env.crl(number=3, this_update=-7200, next_update=-60))
        env.run("check", str(bob.crt), expect_rc=4)


@scenario
def check_bad_pem_block(crlsync):
    """check on one PEM file: the root certificate, then a "CERTIFICATE" block that does not
    decode, then a revoked certificate: the file fails whole (exit 3, "certificate #2 does not
    decode"), no verdict printed for it. The twin without the bad block: exit 1, REVOKED."""
    with basic_env(crlsync, "check_bad_pem_block") as env:
        alice = env.pki.client("alice", serial=0x05)
        env.publish(PATH, env.crl(entries=[Entry(0x05, reason="keyCompromise")], number=2))
        env.fetch(expect_rc=0)
        root = env.pki.root_crt.read_bytes()
        bad = (b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(gen.garbage(300)) +
               b"-----END CERTIFICATE-----\n")
        f = gen.write(env.dir / "mixed.pem", root + bad + alice.crt.read_bytes())
        r = env.run("check", str(f), expect_rc=3)
        r.assert_err(rf"file {re.escape(str(f))}: certificate #2 does not decode")
        if "good" in r.out or "REVOKED" in r.out:
            raise Failure(f"a verdict was printed for a file that does not decode whole\n{r.show()}")
        ok = gen.write(env.dir / "fine.pem", root + alice.crt.read_bytes())
        r = env.run("check", str(ok), expect_rc=1)
        r.assert_out(r"REVOKED")


@scenario
def check_verbose_dropped_crl(crlsync):
    """check -v says which CRL file it ignored and why: beside the installed issuing.crl (number
    2, revoking 0x05) a second file holds number 2 again with other content (revoking 0x06). The
    loader keeps the first in force; -v names the other file and "same number but other content"
    on stderr, and the verdict follows the CRL in force (bob 0x06 good, alice 0x05 revoked).
    The twin without -v prints no such line (check stays quiet unless something is wrong)."""
    with basic_env(crlsync, "check_verbose_dropped_crl") as env:
        alice = env.pki.client("alice", serial=0x05)
        bob = env.pki.client("bob", serial=0x06)
        env.publish(PATH, env.crl(entries=[Entry(0x05, reason="keyCompromise")], number=2))
        env.fetch(expect_rc=0)
        other = env.cache / "zz-copy.crl"
        gen.install(other, env.crl(entries=[Entry(0x06, reason="keyCompromise")], number=2))
        r = env.run("check", "-v", str(bob.crt), expect_rc=0)
        r.assert_out(r"(?i)\bgood\b[^\n]*issuing\.crl")
        r.assert_err(rf"{re.escape(str(other))}: refused: [^\n]*number {rx_number(2)}[^\n]*"
                     rf"same number but other content[^\n]*issuing\.crl")
        env.run("check", "-v", str(alice.crt), expect_rc=1).assert_out(r"REVOKED")
        r = env.run("check", str(bob.crt), expect_rc=0)
        if "zz-copy.crl" in r.err:
            raise Failure(f"check without -v printed a note about the ignored file\n{r.show()}")


# --- delta CRLs (RFC 5280 §5.2.4, §5.2.6; issue 14) -------------------------------------------------

DPATH = "issuing+.crl"           # the delta beside the base, as AD CS names it ...
DURL_PATH = "issuing%2B.crl"     # ... and as its FreshestCRL spells it (nginx decodes %2B)
DSRC = SRC + "+"                 # the delta's name in the cache: issuing+.crl, .state/issuing+.json


def rx_error_delta(url: str, reason: str) -> str:
    """rx_error() for the delta (its name ends in `+', a non-word character)."""
    return rf"source {re.escape(DSRC)}:[^\n]*{re.escape(url)}[^\n]*(?i:{reason})"


def delta_env(crlsync, name: str, **cfg_kw) -> FetchEnv:
    return basic_env(crlsync, name, **cfg_kw)


def ad_base(env: FetchEnv, number: int, entries=(), **kw) -> bytes:
    """An AD CS-style base: FreshestCRL naming NAME%2B.crl, the Microsoft extensions."""
    kw.setdefault("freshest", [env.url(DURL_PATH)])
    return env.crl(entries=entries, number=number, ms_ext=True, **kw)


def ad_delta(env: FetchEnv, number: int, base: int, entries=(), **kw) -> bytes:
    """An AD CS-style delta: critical DeltaCRLIndicator (BaseCRLNumber `base`), the Microsoft extensions."""
    return env.crl(entries=entries, number=number, delta_base=base, ms_ext=True, **kw)


def delta_state(env: FetchEnv) -> dict:
    import json
    return json.loads((env.cache / ".state" / f"{DSRC}.json").read_text())


@scenario
def delta_revoked_base_and_delta(crlsync):
    """A base (number 10, revoking alice 0x05) whose FreshestCRL names issuing%2B.crl, and its
    delta (number 11, base 10, revoking bob 0x06), both with AD CS's Microsoft extensions: fetch
    installs issuing.crl and issuing+.crl byte for byte; check refuses alice (base only) and bob
    (delta only), carol is good. Its negative twin: before the delta is published, bob is good and
    the fetch says the delta failed; the second fetch sends conditional requests for both (304)."""
    with delta_env(crlsync, "delta_revoked_base_and_delta") as env:
        alice = env.pki.client("alice", serial=0x05)
        bob = env.pki.client("bob", serial=0x06)
        carol = env.pki.client("carol", serial=0x07)
        base = ad_base(env, 10, [Entry(0x05, reason="keyCompromise")])
        env.publish(PATH, base)
        r = env.fetch()
        r.assert_err(rf"source {re.escape(DSRC)}:[^\n]*{re.escape(env.url(DURL_PATH))}[^\n]*(?i:404|not found)")
        env.assert_installed(SRC, base)
        if env.installed(DSRC) is not None:
            raise Failure("a delta was installed although none is published")
        env.run("check", str(bob.crt), expect_rc=0).assert_out(r"(?i)\bgood\b")
        if (env.source_status(SRC).get("delta") or {}).get("crl") is not None:
            raise Failure(f"status --json shows a delta CRL although none is installed: {env.source_status(SRC)}")
        delta = ad_delta(env, 11, 10, [Entry(0x06, reason="keyCompromise")])
        env.publish(DPATH, delta)
        mark = env.nginx.mark()
        r = env.fetch(expect_rc=0)
        r.assert_err(rf"source {re.escape(DSRC)}: installed CRL number {rx_number(11)} from "
                     rf"{re.escape(env.url(DURL_PATH))}")
        env.assert_installed(SRC, base)
        env.assert_installed(DSRC, delta)
        env.assert_no_temp_files()
        env.assert_no_temp_files(DSRC)  # .issuing+.crl.XXXXXX: the default pattern has no `+'
        env.run("check", str(alice.crt), expect_rc=1).assert_out(r"REVOKED")
        env.run("check", str(bob.crt), expect_rc=1).assert_out(r"REVOKED")
        env.run("check", str(carol.crt), expect_rc=0).assert_out(r"(?i)\bgood\b")
        # status shows base and delta apart: the table a row NAME+, --json a "delta" object.
        env.run("status", expect_rc=0).assert_out(rf"^{re.escape(DSRC)}\s+{rx_number(11)}")
        s = env.source_status(SRC)
        dc = (s.get("delta") or {}).get("crl") or {}
        if not re.fullmatch(rx_number(10), str((s.get("crl") or {}).get("number"))) or \
                not re.fullmatch(rx_number(11), str(dc.get("number"))) or dc.get("entries") != 1 or \
                s["delta"].get("url") != env.url(DURL_PATH):
            raise Failure(f"status --json does not show the base and its delta apart: {s}")
        m = env.run("status", "--prometheus", expect_rc=0).out
        for line in (f'crlsync_crl_number{{source="{SRC}"}} 10', f'crlsync_delta_crl_number{{source="{SRC}"}} 11',
                     f'crlsync_delta_crl_entries{{source="{SRC}"}} 1',
                     f'crlsync_delta_last_result{{source="{SRC}",result="installed"}} 1'):
            if line + "\n" not in m:
                raise Failure(f"status --prometheus lacks {line!r}:\n{m}")
        v = env.run("verify", str(env.crl_path(DSRC)), "--ca", str(env.pki.issuing_crt), expect_rc=0, config=False)
        v.assert_out(rf"number:\s+{rx_number(11)}")
        v.assert_out(rf"delta CRL:\s+for base number {rx_number(10)}")
        v = env.run("verify", str(env.crl_path(SRC)), "--ca", str(env.pki.issuing_crt), expect_rc=0, config=False)
        v.assert_out(rf"freshestCRL:\s+{re.escape(env.url(DURL_PATH))}")
        v.assert_not("delta CRL:")
        # The base's FreshestCRL URLs are in its state: a 304 for the base does not read the installed
        # file again (a 10M-entry base took 0.8 s to verify at every pass just to find its delta).
        st = json.loads((env.cache / ".state" / f"{SRC}.json").read_text())
        if st["crl"].get("freshest_urls") != [env.url(DURL_PATH)]:
            raise Failure(f"the base's state keeps no FreshestCRL URLs: {st['crl'].get('freshest_urls')!r}")
        mark = env.nginx.mark()
        env.run("-v", "fetch", expect_rc=0).assert_err(r"the delta's URLs from the state")
        for path in ("/" + PATH, "/" + DPATH):  # nginx logs the decoded $uri
            q = env.nginx.wait_requests(mark, path)
            if [x.status for x in q] != [304] or not q[0].conditional:
                raise Failure(f"third fetch of {path}: expected one conditional 304, nginx logged {q}")
        env.assert_installed(DSRC, delta)


@scenario
def delta_url_overrides_freshest(crlsync):
    """`delta-url` (repeatable) overrides the base's FreshestCRL: the base names a dead path, the
    first delta-url is dead too, the second serves the delta, which is installed. Its twin: the
    FreshestCRL path alone (no delta-url) gives no delta."""
    with FetchEnv(crlsync, "delta_url_overrides_freshest") as env:
        env.start_nginx()
        bob = env.pki.client("bob", serial=0x06)
        env.publish(PATH, ad_base(env, 10, freshest=[env.url("nowhere%2B.crl")]))
        delta = ad_delta(env, 11, 10, [Entry(0x06)])
        env.publish("deltas/" + DPATH, delta)
        env.write_config({SRC: [env.url(PATH)]})
        env.fetch(expect_rc=1)
        if env.installed(DSRC) is not None:
            raise Failure("a delta was installed from a dead FreshestCRL URL")
        env.write_config({SRC: {"urls": [env.url(PATH)], "lines": [
            f"delta-url = {env.url('dead%2B.crl')}", f"delta-url = {env.url('deltas/issuing%2B.crl')}"]}})
        env.fetch(expect_rc=0)
        env.assert_installed(DSRC, delta)
        env.run("check", str(bob.crt), expect_rc=1).assert_out(r"REVOKED")


@scenario
def delta_hold_released(crlsync):
    """The base puts alice (0x05) on certificateHold; a delta that does not list her leaves her
    refused; the next delta lists her with removeFromCRL (RFC 5280 §5.3.1): she is good again,
    while the base stays the same."""
    with delta_env(crlsync, "delta_hold_released") as env:
        alice = env.pki.client("alice", serial=0x05)
        base = ad_base(env, 10, [Entry(0x05, reason="certificateHold")])
        env.publish(PATH, base)
        env.publish(DPATH, ad_delta(env, 11, 10))
        env.fetch(expect_rc=0)
        env.run("check", str(alice.crt), expect_rc=1).assert_out(r"(?i)REVOKED[^\n]*certificateHold")
        delta = ad_delta(env, 12, 10, [Entry(0x05, reason="removeFromCRL")])
        env.publish(DPATH, delta)
        env.fetch(expect_rc=0)
        env.assert_installed(SRC, base)
        env.assert_installed(DSRC, delta)
        env.run("check", str(alice.crt), expect_rc=0).assert_out(r"(?i)\bgood\b")


@scenario
def delta_stray_newer_base(crlsync):
    """Base 10 and delta 11 installed. nginx then serves delta 13 for base 12 while the base URL
    still serves 10: the delta is not installed (issuing+.crl stays delta 11, status says
    delta-pending), and the base is fetched again at once, in the same pass (two requests for
    it). Once base 12 is published, the next fetch installs base 12 and delta 13."""
    with delta_env(crlsync, "delta_stray_newer_base") as env:
        bob = env.pki.client("bob", serial=0x06)
        env.publish(PATH, ad_base(env, 10))
        d11 = ad_delta(env, 11, 10)
        env.publish(DPATH, d11)
        env.fetch(expect_rc=0)
        env.assert_installed(DSRC, d11)
        d13 = ad_delta(env, 13, 12, [Entry(0x06, reason="keyCompromise")])
        env.publish(DPATH, d13)
        mark = env.nginx.mark()
        r = env.fetch()
        r.assert_err(rf"source {re.escape(DSRC)}: [^\n]*delta number {rx_number(13)}[^\n]*base number "
                     rf"{rx_number(12)}[^\n]*newer than the installed base")
        r.assert_err(rf"source {re.escape(SRC)}: [^\n]*fetching the base again")
        q = env.nginx.wait_requests(mark, "/" + PATH, n=2)
        if len(q) != 2:
            raise Failure(f"the base was not fetched again in the same pass: nginx logged {q}")
        env.assert_installed(DSRC, d11, "a delta for a newer base must stay out")
        if delta_state(env).get("result") != "delta-pending":
            raise Failure(f"the delta's state does not say delta-pending: {delta_state(env)}")
        env.run("check", str(bob.crt), expect_rc=0)
        b12 = ad_base(env, 12)
        env.publish(PATH, b12)
        env.fetch(expect_rc=0)
        env.assert_installed(SRC, b12)
        env.assert_installed(DSRC, d13)
        env.run("check", str(bob.crt), expect_rc=1).assert_out(r"REVOKED")


@scenario
def delta_expired(crlsync):
    """A delta whose nextUpdate has passed (the base is current): fetch says so and fails; once
    installed, the delta governs freshness (RFC 5280 §6.3.3), so check cannot vouch for bob (4).
    Its twin: a current delta, bob good."""
    with delta_env(crlsync, "delta_expired") as env:
        bob = env.pki.client("bob", serial=0x06)
        env.publish(PATH, ad_base(env, 10))
        env.publish(DPATH, ad_delta(env, 11, 10))
        env.fetch(expect_rc=0)
        env.run("check", str(bob.crt), expect_rc=0)
        env.run("health", expect_rc=0).assert_out(rf"^CRLSYNC OK - 1/1 source\(s\) OK: [^\n]*{re.escape(DSRC)}: ")
        old = ad_delta(env, 12, 10, this_update=-7200, next_update=-60)
        env.publish(DPATH, old)
        r = env.fetch()
        if r.rc == 0:
            raise Failure(f"an expired delta: fetch exited 0\n{r.show()}")
        r.assert_err(rf"source {re.escape(DSRC)}:[^\n]*(?i:expired)")
        env.run("check", str(bob.crt), expect_rc=4)
        # health judges the delta apart, as NAME+: its nextUpdate governs while it applies.
        h = env.run("health", expect_rc=2)
        h.assert_out(rf"^CRLSYNC CRITICAL - 1/1 source\(s\) OK: {re.escape(DSRC)}: CRITICAL [^\n]*(?i:expired)")


@scenario
def delta_rollback(crlsync):
    """Delta 12 installed; nginx then serves delta 11 (same base): refused as a rollback of the
    delta stream, issuing+.crl stays delta 12 and bob (revoked by 12) stays refused."""
    with delta_env(crlsync, "delta_rollback") as env:
        bob = env.pki.client("bob", serial=0x06)
        env.publish(PATH, ad_base(env, 10))
        d12 = ad_delta(env, 12, 10, [Entry(0x06)])
        env.publish(DPATH, d12)
        env.fetch(expect_rc=0)
        env.publish(DPATH, ad_delta(env, 11, 10))
        r = env.fetch(expect_rc=1)
        r.assert_err(rx_error_delta(env.url(DURL_PATH), r"rollback"))
        env.assert_installed(DSRC, d12, "the newer delta must stay")
        env.assert_no_temp_files()
        env.assert_no_temp_files(DSRC)
        env.run("check", str(bob.crt), expect_rc=1).assert_out(r"REVOKED")


@scenario
def delta_other_idp(crlsync):
    """A delta whose issuingDistributionPoint differs from its base's (the base has none): refused
    (scope), nothing installed as issuing+.crl, bob whom it lists stays good. Its twin: the same
    delta without the IDP is installed."""
    with delta_env(crlsync, "delta_other_idp") as env:
        bob = env.pki.client("bob", serial=0x06)
        env.publish(PATH, ad_base(env, 10))
        env.publish(DPATH, ad_delta(env, 11, 10, [Entry(0x06)], idp=gen.IDP(full_name=env.url("other.crl"))))
        r = env.fetch(expect_rc=1)
        r.assert_err(rx_error_delta(env.url(DURL_PATH), r"scope|issuingDistributionPoint"))
        if env.installed(DSRC) is not None:
            raise Failure("a delta of another scope was installed")
        env.run("check", str(bob.crt), expect_rc=0)
        d = ad_delta(env, 12, 10, [Entry(0x06)])
        env.publish(DPATH, d)
        env.fetch(expect_rc=0)
        env.assert_installed(DSRC, d)
        env.run("check", str(bob.crt), expect_rc=1)


@scenario
def verify_cmd(crlsync):
    """verify: a good CRL exits 0 and prints its summary, decoded by the streaming pass (a BER
    twin by OpenSSL's decoder); against the wrong CA 1 with the reason; garbage 1; a missing file 3."""
    with FetchEnv(crlsync, "verify_cmd") as env:
        der = env.crl(entries=[Entry(0x05), Entry(0x06)], number=0x2A)
        f = gen.write(env.dir / "x.crl", der)
        r = env.run("verify", str(f), "--ca", str(env.pki.issuing_crt), expect_rc=0, config=False)
        r.assert_out(r"(?i)usable")
        r.assert_out(r"(?i)number:?\s+(?:0x)?2A\b")
        r.assert_out(r"(?i)thisUpdate:?\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
        r.assert_out(r"(?i)nextUpdate:?\s+\d{4}-\d\d-\d\d")
        r.assert_out(r"(?i)entries:?\s+2\b")
        r.assert_out(r"crlsync test issuing CA")
        r.assert_out(r"decoded by:\s+the streaming DER pass")
        # The same CRL with a BER length (0x84, leading zero octets) on the outside: the signature
        # still holds, OpenSSL's decoder takes it, and so does the fallback.
        assert der[0] == 0x30 and der[1] in (0x81, 0x82), "fixture: outer length form"
        n = der[1] & 0x7F
        ber = bytes([0x30, 0x84]) + bytes(4 - n) + der[2:2 + n] + der[2 + n:]
        b = gen.write(env.dir / "ber.crl", ber)
        r = env.run("verify", str(b), "--ca", str(env.pki.issuing_crt), expect_rc=0, config=False)
        r.assert_out(r"(?i)number:?\s+(?:0x)?2A\b")
        r.assert_out(r"decoded by:\s+OpenSSL's decoder")
        r = env.run("verify", str(f), "--ca", str(env.pki.root_crt), expect_rc=1, config=False)
        r.assert_out(r"(?i)unusable[^\n]*(issuer|signature|ca)")
        g = gen.write(env.dir / "g.crl", gen.garbage(300))
        env.run("verify", str(g), "--ca", str(env.pki.issuing_crt), expect_rc=1, config=False)
        env.run("verify", str(env.dir / "missing.crl"), "--ca", str(env.pki.issuing_crt), expect_rc=3, config=False)
        env.run("verify", str(f), expect_rc=3, config=False)


def _control_chars(o, where: str = "") -> list:
    """Every string of a JSON value holding a byte the sanitiser would replace, with its path."""
    if isinstance(o, dict):
        return [x for k, v in o.items() for x in _control_chars(v, f"{where}.{k}")]
    if isinstance(o, list):
        return [x for i, v in enumerate(o) for x in _control_chars(v, f"{where}[{i}]")]
    if isinstance(o, str) and any(not 0x20 <= ord(c) < 0x7F for c in o):
        return [f"{where}={o!r}"]
    return []


@scenario
def status_sanitized(crlsync):
    """The fetcher's user can write anything into .state/NAME.json: status (table and --json) shows
    a newline or ESC there as '?', so no forged row appears, and the next save keeps none of them
    (a validator holding CR LF is dropped rather than sent back as a header). Twin: the clean
    strings of the same state are shown as they are."""
    import json
    with basic_env(crlsync, "status_sanitized") as env:
        env.publish(PATH, env.crl(number=3))
        env.fetch(expect_rc=0)
        state = env.cache / ".state" / f"{SRC}.json"
        o = json.loads(state.read_text())
        o["last_result"] = "installed\nforged-source 99 2026-12-06 12:00:00 UTC\x1b[31m"
        o["url"] = "http://127.0.0.1/x\r\nforged-url"
        o["crl"]["issuer"] = "CN=crlsync\nforged-issuer"
        o["etag"] = '"abc"\r\nX-Injected: 1'
        state.write_text(json.dumps(o))
        for args in ((), ("--wide",)):  # the 80-column table, then the full one (with the URL)
            st = env.run("status", *args, expect_rc=0)
            rows = st.out.splitlines()
            if len(rows) != 2 or "\x1b" in st.out or any(r.startswith("forged") for r in rows):
                raise Failure(f"status printed a forged row or a control byte:\n{st.out!r}")
        st.assert_out(rf"^{SRC}\s+{rx_number(3)}[^\n]*installed\?forged-source 99[^\n]*\?\[31m "
                      r"\(http://127\.0\.0\.1/x\?\?forged-url\)$")
        js = json.loads(env.run("status", "--json", expect_rc=0).out)
        bad = _control_chars(js)
        if bad:
            raise Failure(f"status --json passes control bytes on: {bad}")
        if js[0]["crl"]["issuer"] != "CN=crlsync?forged-issuer":
            raise Failure(f"status --json issuer {js[0]['crl']['issuer']!r}")
        mark = env.nginx.mark()
        env.fetch(expect_rc=0)
        for req in env.nginx.wait_requests(mark, "/" + PATH):
            log(f"request after the edit: {req}")
        o = json.loads(state.read_text())
        bad = _control_chars(o)
        if bad or "X-Injected" in str(o.get("etag")):
            raise Failure(f"the saved state keeps control bytes: {bad or o.get('etag')}")


@scenario
def status_state_fifo(crlsync):
    """The fetcher's user can put a FIFO at .state/NAME.json: `status` must not block on it (it
    used to hang in open()), and says the state is unreadable. Twin: the regular file is read."""
    import os
    with basic_env(crlsync, "status_state_fifo") as env:
        env.publish(PATH, env.crl(number=3))
        env.fetch(expect_rc=0)
        env.run("status", expect_rc=0).assert_out(rf"^{SRC}\s+{rx_number(3)}")
        state = env.cache / ".state" / f"{SRC}.json"
        state.unlink()
        os.mkfifo(state)
        r = env.run("status", timeout=10)
        r.assert_err(rf"source {SRC}: unreadable state")


@scenario
def config_error(crlsync):
    """An unknown key: fetch exits 2 naming the file and line."""
    with FetchEnv(crlsync, "config_error") as env:
        env.write_config({}, raw=f"[global]\ncache-dir = {env.cache}\nintervall = 5\n")
        r = env.fetch(expect_rc=2)
        r.assert_err(rf"{re.escape(env.config.name)}[^\n]*line 3")


@scenario
def plugin_password_not_read(crlsync):
    """The shared config names a root-only 0600 `[plugin] management-password` file: `crlsync
    fetch`, run as an unprivileged user (nobody, through setpriv), never reads it and installs the
    CRL; its messages do not mention the file. (It once read the file at every config load and
    stopped with "cannot read `management-password'".)"""
    import pwd
    if not shutil.which("setpriv"):
        raise Failure("setpriv (util-linux) is needed to run crlsync as nobody")
    nobody = pwd.getpwnam("nobody")
    with basic_env(crlsync, "plugin_password_not_read") as env:
        pw = env.dir / "mgmt.pass"
        pw.write_text("s3cret-mgmt\n")
        os.chmod(pw, 0o600)
        with open(env.config, "a") as f:
            f.write(f"\n[plugin]\nmanagement = 127.0.0.1:7505\nmanagement-password = {pw}\n")
        os.chmod(env.config, 0o644)
        env.cache.mkdir(mode=0o755, exist_ok=True)
        os.chown(env.cache, nobody.pw_uid, nobody.pw_gid)
        der = env.crl(number=3)
        env.publish(PATH, der)
        as_nobody = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups", "--"]
        r = env.fetch(expect_rc=0, prefix=as_nobody)
        r.assert_err(rf"source {SRC}: installed CRL number {rx_number(3)}")
        env.assert_installed(SRC, der)
        if os.stat(env.crl_path(SRC)).st_uid != nobody.pw_uid:
            raise Failure(f"{env.crl_path(SRC)} is not owned by nobody: did crlsync run as nobody?")
        for text in (r.out, r.err):
            if "mgmt.pass" in text or "management-password" in text or "s3cret" in text:
                raise Failure(f"crlsync mentions the plugin's password file:\n{text}")
