# SPDX-License-Identifier: GPL-2.0-or-later
"""Monitoring and the other CRL consumers (issue 12): `crlsync health` at each state and threshold,
`status --prometheus` through promtool, status --json's schema and result codes, `pem = yes` and
`on-install` with the daemon, and a real ocserv that refuses a client once a CRL installed by
crlsync revokes it (on-install runs `occtl reload`). Real crlsync, nginx, ocserv and openconnect on
127.0.0.1, ephemeral ports. One ctest per scenario (integration.consumers_<name>)."""

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Dict

from cryptography import x509

import gen
from gen import Entry
from fetcher_harness import FetchEnv, need_root, wait_until
from harness import Failure, Skip, _die_with_parent, kill_proc, log

SCENARIOS: Dict[str, Callable] = {}


def scenario(fn: Callable) -> Callable:
    SCENARIOS[fn.__name__] = fn
    return fn


SRC = "issuing"
PATH = "issuing.crl"


def _need(tool: str) -> str:
    p = shutil.which(tool) or (f"/usr/sbin/{tool}" if os.path.exists(f"/usr/sbin/{tool}") else None)
    if p is None:
        if os.environ.get("CI") == "true":
            raise Failure(f"{tool} is missing (CI=true: no skipping; scripts/deps.sh installs it)")
        raise Skip(f"{tool} is missing (scripts/deps.sh installs it)")
    return p


def _nobody() -> int:
    return pwd.getpwnam("nobody").pw_uid


def health(env: FetchEnv, *args: str, rc: int, pattern: str, user=None):
    r = env.run("health", *args, user=user)
    line = r.out.strip()
    log(f"health {' '.join(args)}: exit {r.rc}: {line}")
    if r.rc != rc:
        raise Failure(f"health {' '.join(args)}: exit {r.rc}, expected {rc}\n{r.show()}")
    if len(r.out.strip().splitlines()) != 1:
        raise Failure(f"health printed more than one line:\n{r.show()}")
    import re
    if not re.match(r"^CRLSYNC (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]*( \| [^\n]*)?$", line):
        raise Failure(f"health's line is not `CRLSYNC STATE - summary | perfdata`: {line!r}")
    if not re.search(pattern, line):
        raise Failure(f"health {' '.join(args)}: {line!r} does not match {pattern!r}")
    return line


def promtool_check(text: str, what: str) -> None:
    promtool = _need("promtool")
    p = subprocess.run([promtool, "check", "metrics"], input=text.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    if p.returncode != 0:
        raise Failure(f"promtool check metrics on {what}: exit {p.returncode}\n{p.stdout.decode()}\n--- input:\n{text}")
    log(f"promtool check metrics on {what}: ok")


def status_json(env: FetchEnv, user=None) -> dict:
    r = env.run("status", "--json", expect_rc=0, user=user)
    js = json.loads(r.out)
    for s in js:
        if s["name"] == SRC:
            return s
    raise Failure(f"status --json has no source {SRC}: {r.out}")


@scenario
def health_states(crlsync):
    """health at each state: no CRL (CRITICAL 2), a fresh one (OK 0, also as nobody), within --warn
    (WARNING 1), within --crit (CRITICAL 2), a failed attempt while valid (WARNING 1), expired
    (CRITICAL 2), an unreadable state as nobody (UNKNOWN 3), a bad --warn (UNKNOWN 3)."""
    need_root("health as nobody")
    with FetchEnv(crlsync, "health_states") as env:
        env.start_nginx()
        env.write_config({SRC: [env.url(PATH)]})
        env.fetch(expect_rc=1)  # 404: nothing installed
        health(env, rc=2, pattern=r"^CRLSYNC CRITICAL - 0/1 source\(s\) OK: issuing: CRITICAL no CRL installed")
        # a 7-day CRL issued an hour ago
        env.publish(PATH, env.crl(number=1, this_update=-3600, next_update=7 * 86400))
        env.fetch(expect_rc=0)
        health(env, rc=0, pattern=r"^CRLSYNC OK - 1/1 source\(s\) OK: issuing: number 01 valid for (?:6d 23h|7d 0h)"
                                  r" \| issuing_expires_in=\d+s;152100;3600;;")
        health(env, rc=0, pattern=r"^CRLSYNC OK - ", user=_nobody())  # monitoring runs unprivileged
        health(env, "--warn", "8d", rc=1, pattern=r"^CRLSYNC WARNING - [^|]*issuing: WARNING CRL number 01 expires in (?:6d|7d)")
        health(env, "--warn", "8d", "--crit", "7d", rc=2, pattern=r"^CRLSYNC CRITICAL - [^|]*expires in (?:6d|7d)")
        health(env, "--crit", "6d", rc=0, pattern=r"^CRLSYNC OK")  # twin: just outside
        # the server loses it: the CRL is still valid, the attempt failed
        env.unpublish(PATH)
        env.fetch(expect_rc=1)
        health(env, rc=1, pattern=r"^CRLSYNC WARNING - [^|]*last attempt failed \(download-failed: [^|]*404")
        # an expired one (the newest available): installed, and critical
        env.publish(PATH, env.crl(number=2, this_update=-7200, next_update=-60))
        env.fetch(expect_rc=1)
        health(env, rc=2, pattern=r"^CRLSYNC CRITICAL - [^|]*CRL number 02 expired 1m")
        # the state unreadable by the monitoring user: UNKNOWN, saying what and why
        os.chmod(env.cache / ".state" / f"{SRC}.json", 0o600)
        health(env, rc=3, pattern=r"^CRLSYNC UNKNOWN - [^|]*cannot read its state \(\.state/issuing\.json\): "
                                  r"Permission denied", user=_nobody())
        r = env.run("status", "--json", user=_nobody())
        if r.rc != 1 or json.loads(r.out)[0]["state_error"] != "Permission denied":
            raise Failure(f"status --json with an unreadable state must say so and exit 1:\n{r.show()}")
        health(env, "--warn", "soon", rc=3, pattern=r"^CRLSYNC UNKNOWN - bad value `soon' for --warn")


@scenario
def prometheus_and_json(crlsync):
    """status --prometheus passes promtool check metrics and carries every documented metric;
    status --json has schema 1 and the result codes installed, not-modified, refused-rollback;
    .state is 0755 and its files 0644 (monitoring reads them)."""
    need_root("status as nobody")
    with FetchEnv(crlsync, "prometheus_and_json") as env:
        env.start_nginx()
        env.write_config({SRC: [env.url(PATH)]})
        env.publish(PATH, env.crl(number=5, entries=[Entry(0x10), Entry(0x11)]))
        env.fetch(expect_rc=0)
        s = status_json(env, user=_nobody())
        if s.get("schema") != 1 or s.get("result") != "installed" or s["crl"]["number"] != "05":
            raise Failure(f"status --json after an install: {s}")
        mode = os.stat(env.cache / ".state").st_mode & 0o777
        fmode = os.stat(env.cache / ".state" / f"{SRC}.json").st_mode & 0o777
        if mode != 0o755 or fmode != 0o644:
            raise Failure(f".state is {oct(mode)}, its file {oct(fmode)}: monitoring cannot read them")
        env.fetch(expect_rc=0)
        if status_json(env)["result"] != "not-modified":
            raise Failure(f"status --json after a 304: {status_json(env)}")
        env.publish(PATH, env.crl(number=4))
        env.fetch(expect_rc=1)
        s = status_json(env)
        if s["result"] != "refused-rollback" or "rollback" not in (s["last_result"] or ""):
            raise Failure(f"status --json after a rollback: {s}")
        r = env.run("status", "--prometheus", expect_rc=0, user=_nobody())
        promtool_check(r.out, "status --prometheus")
        for m in ["crlsync_crl_number", "crlsync_crl_this_update_timestamp_seconds",
                  "crlsync_crl_next_update_timestamp_seconds", "crlsync_crl_entries",
                  "crlsync_last_success_timestamp_seconds", "crlsync_last_attempt_timestamp_seconds",
                  "crlsync_consecutive_failures"]:
            if f'{m}{{source="{SRC}"}}' not in r.out:
                raise Failure(f"status --prometheus lacks {m}:\n{r.out}")
        if f'crlsync_crl_number{{source="{SRC}"}} 5\n' not in r.out or \
                f'crlsync_crl_entries{{source="{SRC}"}} 2\n' not in r.out or \
                f'crlsync_last_result{{source="{SRC}",result="refused-rollback"}} 1' not in r.out:
            raise Failure(f"status --prometheus values:\n{r.out}")
        r = env.run("status", "--prometheus", "--json")
        if r.rc != 3:
            raise Failure(f"--prometheus with --json must be a usage error:\n{r.show()}")


@scenario
def daemon_pem_on_install(crlsync):
    """The daemon with pem = yes, on-install and metrics-file: NAME.pem holds the same CRL as
    NAME.crl; the command runs after each install with CRLSYNC_SOURCE, CRLSYNC_FILE, CRLSYNC_PEM and
    CRLSYNC_NUMBER in its environment (a hostile-looking value stays a value); the metrics file
    passes promtool. A failing command is reported by health (WARNING) and status, the CRL stays
    installed; a hung one is killed at on-install-timeout."""
    with FetchEnv(crlsync, "daemon_pem_on_install") as env:
        env.start_nginx()
        out = env.dir / "hook.out"
        metrics = env.dir / "textfile" / "crlsync.prom"
        metrics.parent.mkdir()
        hook = env.dir / "hook.sh"
        hook.write_text("#!/bin/sh\n"
                        f'printf "%s|%s|%s|%s\\n" "$CRLSYNC_SOURCE" "$CRLSYNC_FILE" "$CRLSYNC_PEM" "$CRLSYNC_NUMBER" >> {out}\n'
                        f'[ -e {env.dir}/fail ] && {{ echo "occtl: cannot connect"; exit 3; }}\n'
                        f'[ -e {env.dir}/hang ] && exec sleep 60\n'
                        "exit 0\n")
        hook.chmod(0o755)
        env.write_config({SRC: {"urls": [env.url(PATH)], "lines": ["pem = yes"]}},
                         global_lines=[f"on-install = {hook} 'arg with $(touch {env.dir}/injected)'",
                                       "on-install-timeout = 2", f"metrics-file = {metrics}", "interval = 5m"])
        env.publish(PATH, env.crl(number=1))
        d = env.start_daemon()
        wait_until(lambda: out.exists() and "|01" in out.read_text(), 10, "on-install for number 01")
        line = out.read_text().splitlines()[0]
        want = f"{SRC}|{env.cache}/{SRC}.crl|{env.cache}/{SRC}.pem|01"
        if line != want:
            raise Failure(f"on-install environment: {line!r}, expected {want!r}")
        pem = (env.cache / f"{SRC}.pem").read_bytes()
        der = x509.load_pem_x509_crl(pem).public_bytes(serialization_der())
        if der != env.installed(SRC):
            raise Failure(f"{SRC}.pem is not {SRC}.crl in PEM")
        if (env.dir / "injected").exists():
            raise Failure("the on-install command line was expanded twice")
        wait_until(lambda: metrics.exists(), 10, "the metrics file")
        promtool_check(metrics.read_text(), str(metrics))
        # a newer CRL, and the command fails: installed anyway, health warns, status says why
        (env.dir / "fail").touch()
        env.publish(PATH, env.crl(number=2))
        d.signal(signal.SIGUSR1)
        wait_until(lambda: "|02" in out.read_text(), 10, "on-install for number 02")
        wait_until(lambda: status_json(env).get("on_install", {}) and status_json(env)["on_install"]["state"] == "failed",
                   10, "on_install failed in status")
        env.assert_installed(SRC, env.crl_path(SRC).read_bytes())
        if x509.load_der_x509_crl(env.installed(SRC)).extensions.get_extension_for_class(x509.CRLNumber).value.crl_number != 2:
            raise Failure("the failing on-install undid the install")
        health(env, rc=1, pattern=r"^CRLSYNC WARNING - [^|]*on-install failed for number 02: exit 3: occtl: cannot connect")
        d.wait_for_log(r"on-install for number 02 failed: exit 3", 5)
        # hung: killed after on-install-timeout (2 s), reported as such
        (env.dir / "fail").unlink()
        (env.dir / "hang").touch()
        env.publish(PATH, env.crl(number=3))
        t0 = time.monotonic()
        d.signal(signal.SIGUSR1)
        d.wait_for_log(r"on-install for number 03 failed: timed out, killed after 2 s", 10)
        log(f"hung on-install killed after {time.monotonic() - t0:.1f} s")
        if status_json(env)["on_install"]["state"] != "timeout":
            raise Failure(f"status after a hung on-install: {status_json(env)}")
        # healed: the next pass runs it again for the installed number
        (env.dir / "hang").unlink()
        d.signal(signal.SIGUSR1)
        wait_until(lambda: status_json(env)["on_install"]["state"] == "ok", 10, "on-install retried")
        health(env, rc=0, pattern=r"^CRLSYNC OK")


def serialization_der():
    from cryptography.hazmat.primitives import serialization
    return serialization.Encoding.DER


@scenario
def ocserv_refuses_revoked(crlsync):
    """A real ocserv (certificate authentication, crl = cache-dir/NAME.pem) on 127.0.0.1: alice
    authenticates (openconnect --authenticate); crlsync's daemon installs a CRL revoking her, its
    on-install runs `occtl reload`, and ocserv refuses her with no manual step; bob still gets in."""
    need_root("ocserv")
    ocserv, occtl, openconnect = _need("ocserv"), _need("occtl"), _need("openconnect")
    with FetchEnv(crlsync, "ocserv_refuses_revoked") as env:
        env.start_nginx()
        for p in [env.dir / "pki"] + list((env.dir / "pki").iterdir()):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)   # ocserv's workers run as nobody
        env.write_config({SRC: {"urls": [env.url(PATH)], "lines": ["pem = yes"]}},
                         global_lines=[f"on-install = {occtl} -s {env.dir}/occtl.sock reload", "interval = 5m"])
        env.publish(PATH, env.crl(number=1))
        env.fetch(expect_rc=0)  # ocserv needs a CRL file to start with
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        conf = env.dir / "ocserv.conf"
        conf.write_text(f"""auth = "certificate"
tcp-port = {port}
listen-host = 127.0.0.1
run-as-user = nobody
run-as-group = nogroup
socket-file = {env.dir}/ocserv.sock
use-occtl = true
occtl-socket-file = {env.dir}/occtl.sock
isolate-workers = false
server-cert = {env.pki.server_crt}
server-key = {env.pki.server_key}
ca-cert = {env.pki.ca_bundle}
crl = {env.cache}/{SRC}.pem
cert-user-oid = 2.5.4.3
max-clients = 4
try-mtu-ports = false
device = vpns
ipv4-network = 192.168.99.0
ipv4-netmask = 255.255.255.0
pid-file = {env.dir}/ocserv.pid
""")
        ologp = env.dir / "ocserv.log"
        with open(ologp, "wb") as f:
            oc = subprocess.Popen([ocserv, "-f", "-d", "2", "-c", str(conf)], stdin=subprocess.DEVNULL, stdout=f,
                                  stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        env.procs.append(oc)
        wait_until(lambda: (env.dir / "occtl.sock").exists() and "initialized ocserv" in ologp.read_text(), 10,
                   "ocserv up")
        alice = env.pki.client("alice", serial=0x05)
        bob = env.pki.client("bob", serial=0x06)

        def auth(cf) -> bool:
            p = subprocess.run([openconnect, "--authenticate", "--non-inter", "--cafile", str(env.pki.ca_bundle),
                                "-c", str(cf.crt), "-k", str(cf.key), f"https://127.0.0.1:{port}/"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=15)
            ok = p.returncode == 0 and "COOKIE=" in p.stdout.decode(errors="replace")
            log(f"openconnect --authenticate as {cf.name}: exit {p.returncode}, {'in' if ok else 'refused'}")
            return ok

        if not auth(alice):
            raise Failure(f"alice refused before any revocation:\n{ologp.read_text()[-3000:]}")
        d = env.start_daemon()
        mark = len(ologp.read_text())
        env.publish(PATH, env.crl(number=2, entries=[Entry(0x05, reason="keyCompromise")]))
        t0 = time.monotonic()
        d.signal(signal.SIGUSR1)
        d.wait_for_log(r"source issuing: on-install for number 02: exit 0", 10)
        wait_until(lambda: "reload" in ologp.read_text()[mark:].lower(), 5, "ocserv reloads")
        time.sleep(0.5)  # sec-mod and main re-read the configuration
        if auth(alice):
            raise Failure(f"ocserv still lets alice in after the CRL revoking her:\n{ologp.read_text()[-3000:]}")
        log(f"alice refused {time.monotonic() - t0:.1f} s after the new CRL was published")
        if "revoked" not in ologp.read_text()[mark:]:
            raise Failure(f"ocserv's log does not say the chain is revoked:\n{ologp.read_text()[mark:][-3000:]}")
        if not auth(bob):
            raise Failure("bob (not revoked) refused")
        kill_proc(oc)
        env.procs.remove(oc)
