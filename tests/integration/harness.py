# SPDX-License-Identifier: GPL-2.0-or-later
"""Drives a real OpenVPN 2.6 server with the crlsync plugin on 127.0.0.1, for the integration suite.

Reusable by the scenarios in scenarios.py, the demo script and later tests:

    with Env(plugin_path, "revoked") as env:          # temp dir, fresh PKI, cache dir
        env.write_config()                            # the crlsync config file
        env.install("root.crl", env.crl(env.pki.root))
        env.install("issuing.crl", env.crl(env.pki.issuing, [Entry(5, reason="keyCompromise")]))
        srv = env.start_server()                      # waits for "Initialization Sequence Completed"
        r = env.connect(env.client("alice", serial=5), expect="rejected")
        r.assert_server_log(r"crlsync: REJECT depth=0 .*keyCompromise")

Every process is started through the Env and killed by PID when it closes (try/finally), never by
name. Only 127.0.0.1 is ever contacted; the tun address of the server is local to this host.
Python: Debian's /usr/bin/python3 with python3-cryptography (stdlib otherwise).
"""

import ctypes
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Sequence, Union

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import gen  # noqa: E402  (tests/fixtures/gen.py)

OPENVPN = shutil.which("openvpn") or "/usr/sbin/openvpn"
CLIENT_TIMEOUT = 15.0
SERVER_START_TIMEOUT = 15.0
RELOAD_TIMEOUT = 5.0

# What the plugin writes (the contract is in README.md beside this file): OpenVPN prefixes
# plugin lines with "PLUGIN crlsync: ".
RE_RELOAD = r"crlsync: .*\breload: "
RE_PLUGIN_REJECT = r"VERIFY PLUGIN ERROR: depth="


class Failure(AssertionError):
    """A scenario assertion failed: the message carries the evidence (log excerpts)."""


class Skip(Exception):
    """A component is missing (exit 77 outside CI)."""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port(kind: int = socket.SOCK_DGRAM, host: str = "127.0.0.1") -> int:
    """An ephemeral port on 127.0.0.1 (or ::1), picked by the kernel (bound, then released)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def random_subnet() -> str:
    """A random 10.x.y.0/24 for `server`: only the tun address of this host, no traffic leaves it."""
    return f"10.{random.randint(128, 254)}.{random.randint(0, 255)}.0"


def _q(p: Union[str, Path]) -> str:
    """Quotes a path for an OpenVPN config line when it needs it."""
    s = str(p)
    return f'"{s}"' if any(c.isspace() for c in s) else s


def excerpt(text: str, pattern: Optional[str] = None, lines: int = 40) -> str:
    """The lines of an OpenVPN log worth showing: plugin lines, verdicts and TLS errors."""
    keep = re.compile(r"crlsync|VERIFY|TLS Error|TLS_ERROR|PUSH_REPLY|SIG[A-Z0-9]+\[|Initialization Sequence|"
                      r"Exiting|error|ERROR" + (f"|{pattern}" if pattern else ""))
    sel = [ln for ln in text.splitlines() if keep.search(ln) and not re.match(r"^\S+ \S+ us=\d+\s{2,}\w+ = ", ln)]
    return "\n".join("    " + ln for ln in sel[-lines:])


class LogFile:
    """An OpenVPN log file read while it grows. Offsets (mark()) let a caller look only at what
    came after an event."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def text(self, since: int = 0) -> str:
        try:
            with open(self.path, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def mark(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def search(self, pattern: str, since: int = 0) -> Optional[re.Match]:
        return re.search(pattern, self.text(since), re.MULTILINE)

    def wait_for(self, pattern: str, timeout: float, since: int = 0,
                 proc: Optional[subprocess.Popen] = None, what: str = "") -> re.Match:
        """Polls (every 5 ms) until `pattern` (a regex, one line) appears after offset `since`.
        Raises Failure with an excerpt on timeout, or when `proc` exits first."""
        deadline = time.monotonic() + timeout
        while True:
            m = self.search(pattern, since)
            if m:
                return m
            if proc is not None and proc.poll() is not None:
                m = self.search(pattern, since)
                if m:
                    return m
                raise Failure(f"{what or self.path.name}: process exited ({proc.returncode}) before "
                              f"/{pattern}/ appeared:\n{excerpt(self.text(since))}")
            if time.monotonic() > deadline:
                raise Failure(f"{what or self.path.name}: /{pattern}/ did not appear within {timeout:.0f} s:\n"
                              f"{excerpt(self.text(since))}")
            time.sleep(0.005)


def wait_for_log(logfile: LogFile, pattern: str, timeout: float = 10.0, since: int = 0,
                 proc: Optional[subprocess.Popen] = None) -> re.Match:
    return logfile.wait_for(pattern, timeout, since, proc)


class Process:
    """A process a test started, with the log it writes (a server, a daemon)."""

    what = "process"

    def __init__(self, proc: subprocess.Popen, log_: "LogFile"):
        self.proc = proc
        self.log = log_

    @property
    def pid(self) -> int:
        return self.proc.pid

    def mark(self) -> int:
        return self.log.mark()

    def wait_for_log(self, pattern: str, timeout: float = 10.0, since: int = 0) -> re.Match:
        """Waits for `pattern` after offset `since`; fails early if the process exits."""
        return self.log.wait_for(pattern, timeout, since, self.proc, what=f"{self.what} log")

    def assert_running(self) -> None:
        if self.proc.poll() is not None:
            raise Failure(f"the {self.what} exited ({self.proc.returncode}):\n{excerpt(self.log.text())}")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)


class Server(Process):
    """A running `openvpn` server (or one that failed to start, for bad-config tests)."""

    what = "server"

    def __init__(self, proc: subprocess.Popen, log_: LogFile, port: int, conf: Path, proto: str):
        super().__init__(proc, log_)
        self.port = port
        self.conf = conf
        self.proto = proto

    def uid(self) -> int:
        """The real uid of the server process (from /proc)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
        raise Failure("no Uid line in /proc status")


class ClientResult:
    """How one client connection ended and the evidence: the client log and the slice of the
    server log written while it ran."""

    def __init__(self, name: str, verdict: str, client_log: str, server_log: str, seconds: float):
        self.name = name
        self.verdict = verdict          # "accepted", "rejected" or "timeout"
        self.client_log = client_log
        self.server_log = server_log
        self.seconds = seconds

    def assert_server_log(self, pattern: str, flags: int = 0) -> re.Match:
        m = re.search(pattern, self.server_log, re.MULTILINE | flags)
        if not m:
            raise Failure(f"{self.name}: server log lacks /{pattern}/; it has:\n{excerpt(self.server_log)}")
        return m

    def assert_not_server_log(self, pattern: str, flags: int = 0) -> None:
        m = re.search(pattern, self.server_log, re.MULTILINE | flags)
        if m:
            raise Failure(f"{self.name}: server log unexpectedly has /{pattern}/: {m.group(0)!r}\n"
                          f"{excerpt(self.server_log)}")


class Client:
    """A running client (for renegotiation tests): the caller owns it through the Env."""

    def __init__(self, name: str, proc: subprocess.Popen, log_: LogFile):
        self.name = name
        self.proc = proc
        self.log = log_

    def wait_for_log(self, pattern: str, timeout: float = 10.0, since: int = 0) -> re.Match:
        return self.log.wait_for(pattern, timeout, since, None, what=f"client {self.name} log")


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the harness dies (ctest timeout, kill -9), so no
    openvpn outlives a test. The kernel clears it when the server later drops to nobody; the
    harness's own SIGTERM handler (run.py) covers that case."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def kill_proc(proc: Optional[subprocess.Popen], grace: float = 3.0) -> None:
    """SIGTERM, then SIGKILL, by PID; reaps it."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace)
    except ProcessLookupError:
        pass


class Env:
    """One scenario's world: a temp dir with a fresh PKI, a cache dir and a crlsync config; the
    processes it started, killed when it closes. Set CRLSYNC_KEEP=1 to keep the dir."""

    def __init__(self, plugin: Union[str, Path], name: str, key_kind: str = "rsa"):
        self.plugin = Path(plugin).resolve()
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix=f"crlsync-it-{name}-"))
        os.chmod(self.dir, 0o755)   # a server running as nobody must reach the cache and config
        self.pki = gen.make_pki(self.dir / "pki", key_kind=key_kind)
        os.chmod(self.dir / "pki", 0o755)
        self.cache = self.dir / "cache"
        self.cache.mkdir(mode=0o755)
        os.chmod(self.cache, 0o755)
        self.config = self.dir / "crlsync.conf"
        self.marks = self.dir / "plugin-marks" / "marks"   # created 0700 / 0600 by the plugin
        self.procs: List[subprocess.Popen] = []
        self.cleanups = []
        self.server: Optional[Server] = None
        self._n_clients = 0
        self._n_servers = 0

    # --- context -------------------------------------------------------------------------------

    def __enter__(self) -> "Env":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(keep=exc_type is not None or os.environ.get("CRLSYNC_KEEP") == "1")

    def close(self, keep: bool = False) -> None:
        for p in reversed(self.procs):
            kill_proc(p)
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # cleanup must go on
                log(f"cleanup: {e}")
        if keep:
            log(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def spawn(self, argv: Sequence[str], out: Path) -> subprocess.Popen:
        with open(out, "wb") as f:
            p = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                 preexec_fn=_die_with_parent)
        self.procs.append(p)
        return p

    # --- fixtures --------------------------------------------------------------------------------

    def write_config(self, missing: Optional[str] = None, expired: Optional[str] = None,
                     grace: Optional[Union[int, str]] = None, sources: Optional[dict] = None,
                     extra_plugin_lines: Sequence[str] = (), raw: Optional[str] = None) -> Path:
        """Writes the crlsync config (world-readable). Default sources: root and issuing. The
        plugin's rollback marks go to the Env's dir (self.marks), never /var/lib: appended to a
        raw config that sets none, at its end so that its line numbers stay."""
        if raw is not None:
            if "marks-file" not in raw:
                raw = raw + ("" if raw.endswith("\n") else "\n") + f"\n[plugin]\nmarks-file = {self.marks}\n"
            self.config.write_text(raw)
            os.chmod(self.config, 0o644)
            return self.config
        if sources is None:
            sources = {"root": self.pki.root_crt, "issuing": self.pki.issuing_crt}
        lines = ["[global]", f"cache-dir = {self.cache}", "", "[plugin]"]
        if missing is not None:
            lines.append(f"missing = {missing}")
        if expired is not None:
            lines.append(f"expired = {expired}")
        if grace is not None:
            lines.append(f"grace = {grace}")
        lines += list(extra_plugin_lines)
        if not any(line.startswith("marks-file") for line in extra_plugin_lines):
            lines.append(f"marks-file = {self.marks}")
        for i, (name, ca) in enumerate(sources.items()):
            lines += ["", f"[source {name}]", f"url = http://127.0.0.1/unused{i}.crl", f"ca = {ca}"]
        self.config.write_text("\n".join(lines) + "\n")
        os.chmod(self.config, 0o644)
        return self.config

    def crl(self, issuer: gen.CA, entries: Sequence[gen.Entry] = (), **kw) -> bytes:
        return gen.make_crl(issuer, entries, **kw)

    def install(self, name: str, data: bytes, mode: int = 0o644) -> float:
        """Renames `data` in as cache/NAME (written to a hidden temp file first, with `mode`).
        Returns the monotonic time just before the rename."""
        tmp = self.cache / f".{name}.tmp"
        tmp.write_bytes(data)
        os.chmod(tmp, mode)
        t = time.monotonic()
        os.rename(tmp, self.cache / name)
        return t

    def remove(self, name: str) -> float:
        t = time.monotonic()
        os.unlink(self.cache / name)
        return t

    def install_good(self, root_entries=(), issuing_entries=(), number: int = 1) -> None:
        """root.crl and issuing.crl, both current; entries revoke what the caller asks."""
        self.install("root.crl", self.crl(self.pki.root, root_entries, number=number))
        self.install("issuing.crl", self.crl(self.pki.issuing, issuing_entries, number=number))

    def client(self, name: str, serial: Optional[int] = None, crldp: Optional[str] = None) -> gen.ClientFiles:
        return self.pki.client(name, serial=serial, crldp=crldp)

    # --- OpenVPN ---------------------------------------------------------------------------------

    def start_server(self, plugin_args: Sequence[str] = (), extra: Sequence[str] = (),
                     proto: str = "udp4", expect_fail: bool = False,
                     timeout: float = SERVER_START_TIMEOUT, config: Optional[Path] = None) -> Server:
        """Starts `openvpn` in server mode on 127.0.0.1:<ephemeral> with the plugin line
        `plugin <so> <config> [key=value ...]`, verb 4, logging to server.log. Waits for
        "Initialization Sequence Completed"; with expect_fail, waits for the process to exit
        instead and returns the Server so that the caller can read its log and exit status."""
        # proto udp6/tcp6-server: the server listens on ::1 only, and clients connect there.
        host = "::1" if proto.endswith("6") or proto.endswith("6-server") else "127.0.0.1"
        port = free_port(socket.SOCK_DGRAM if proto.startswith("udp") else socket.SOCK_STREAM, host)
        self._n_servers += 1
        sfx = "" if self._n_servers == 1 else f"-{self._n_servers}"
        logp = self.dir / f"server{sfx}.log"
        conf = self.dir / f"server{sfx}.conf"
        pargs = " ".join(plugin_args)
        lines = [
            "mode server", "tls-server", f"proto {proto}", f"local {host}", f"port {port}",
            "dev tun", "topology subnet", f"server {random_subnet()} 255.255.255.0",
            f"ca {_q(self.pki.ca_bundle)}", f"cert {_q(self.pki.server_crt)}", f"key {_q(self.pki.server_key)}",
            "dh none", "verb 4", f"log {_q(logp)}",
            f"plugin {_q(self.plugin)} {_q(config or self.config)}" + (f" {pargs}" if pargs else ""),
        ]
        lines += list(extra)
        conf.write_text("\n".join(lines) + "\n")
        os.chmod(conf, 0o644)
        proc = self.spawn([OPENVPN, "--config", str(conf)], self.dir / f"server{sfx}.stdout")
        srv = Server(proc, LogFile(logp), port, conf, proto)
        self.server = srv
        if expect_fail:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise Failure(f"the server did not exit within {timeout:.0f} s:\n{excerpt(srv.log.text())}")
            return srv
        srv.wait_for_log(r"Initialization Sequence Completed", timeout)
        log(f"server pid {proc.pid} up on 127.0.0.1:{port}/{proto}")
        return srv

    def _client_argv(self, cf: gen.ClientFiles, logp: Path, extra: Sequence[str],
                     hand_window: float = CLIENT_TIMEOUT) -> List[str]:
        assert self.server is not None
        proto = "tcp-client" if self.server.proto.startswith("tcp") else self.server.proto
        host = "::1" if "6" in self.server.proto else "127.0.0.1"
        if proto == "tcp-client" and host == "::1":
            proto = "tcp6-client"
        return [OPENVPN, "--client", "--dev", "null", "--remote", host, str(self.server.port),
                "--proto", proto, "--nobind", "--ca", str(self.pki.ca_bundle), "--cert", str(cf.crt),
                "--key", str(cf.key), "--remote-cert-tls", "server", "--verb", "4", "--connect-retry-max", "1",
                "--hand-window", str(int(hand_window)), "--log", str(logp), *extra]

    def connect(self, cf: gen.ClientFiles, expect: Optional[str] = None, timeout: float = CLIENT_TIMEOUT,
                extra: Sequence[str] = ()) -> ClientResult:
        """Runs one client to a verdict and kills it. accepted = the client got PUSH_REPLY;
        rejected = the server's log shows the handshake failing (a plugin rejection shows
        VERIFY PLUGIN ERROR). With `expect`, asserts the verdict, and for "rejected" that the
        plugin (not OpenVPN's own verification) refused."""
        srv = self.server
        assert srv is not None
        srv.assert_running()
        self._n_clients += 1
        logp = self.dir / f"client{self._n_clients}-{cf.name}.log"
        mark = srv.mark()
        t0 = time.monotonic()
        proc = self.spawn(self._client_argv(cf, logp, extra), logp.with_suffix(".stdout"))
        clog = LogFile(logp)
        verdict = "timeout"
        try:
            deadline = t0 + timeout
            while time.monotonic() < deadline:
                if "PUSH_REPLY" in clog.text():
                    verdict = "accepted"
                    break
                stext = srv.log.text(mark)
                if re.search(r"VERIFY PLUGIN ERROR|VERIFY ERROR|TLS Error: TLS handshake failed", stext):
                    verdict = "rejected"
                    break
                if proc.poll() is not None and "PUSH_REPLY" not in clog.text():
                    # The client gave up by itself (e.g. TCP reset): let the server log settle.
                    time.sleep(0.2)
                    stext = srv.log.text(mark)
                    if re.search(r"VERIFY PLUGIN ERROR|VERIFY ERROR|TLS Error", stext):
                        verdict = "rejected"
                    break
                time.sleep(0.01)
        finally:
            kill_proc(proc)
            self.procs.remove(proc)
        time.sleep(0.05)  # the rest of the server's lines about this client
        res = ClientResult(cf.name, verdict, clog.text(), srv.log.text(mark), time.monotonic() - t0)
        log(f"client {cf.name} (serial {gen.serial_hex(cf.serial)}): {verdict} in {res.seconds:.2f} s")
        if expect is not None:
            if verdict != expect:
                raise Failure(f"client {cf.name}: expected {expect}, got {verdict}\n--- server log:\n"
                              f"{excerpt(res.server_log)}\n--- client log:\n{excerpt(res.client_log, lines=15)}")
            if expect == "rejected":
                res.assert_server_log(RE_PLUGIN_REJECT)
            if expect == "accepted":
                res.assert_not_server_log(r"crlsync: REJECT")
        return res

    connect_client = connect

    def start_client(self, cf: gen.ClientFiles, extra: Sequence[str] = (), timeout: float = CLIENT_TIMEOUT,
                     hand_window: float = CLIENT_TIMEOUT) -> Client:
        """Starts a client that stays connected (it neither configures an interface nor exits at
        the MTU step) and waits for its PUSH_REPLY. The Env kills it when it closes."""
        self._n_clients += 1
        logp = self.dir / f"client{self._n_clients}-{cf.name}.log"
        proc = self.spawn(self._client_argv(cf, logp, ["--ifconfig-noexec", "--route-noexec", *extra], hand_window),
                          logp.with_suffix(".stdout"))
        c = Client(cf.name, proc, LogFile(logp))
        c.log.wait_for(r"PUSH_REPLY", timeout, 0, proc, what=f"client {cf.name}")
        log(f"client {cf.name} pid {proc.pid} connected")
        return c

    def wait_reload(self, since: int, timeout: float = RELOAD_TIMEOUT, pattern: str = RE_RELOAD) -> float:
        """Waits for the plugin's reload line after offset `since`; returns the monotonic time
        it was seen."""
        assert self.server is not None
        self.server.wait_for_log(pattern, timeout, since)
        return time.monotonic()

    def install_and_wait(self, name: str, data: bytes, pattern: str = RE_RELOAD,
                         timeout: float = RELOAD_TIMEOUT) -> float:
        """Renames a file in and waits for `pattern` (default: the reload line). Returns the
        seconds from the rename to the line being seen in the log."""
        assert self.server is not None
        mark = self.server.mark()
        t0 = self.install(name, data)
        t1 = self.wait_reload(mark, timeout, pattern)
        return t1 - t0

    def make_persistent_tun(self, owner: str = "nobody", group: str = "nogroup") -> tuple:
        """A persistent tun device owned by `owner` and a private 0666 node for /dev/net/tun, so
        that a server that dropped privileges can reopen its tun after SIGHUP (this host's
        /dev/net/tun is 0600). Returns (ifname, node); removed when the Env closes."""
        ifname = f"crls{random.randrange(16 ** 6):06x}"
        node = self.dir / "tun-node"
        os.mknod(node, 0o666 | 0o020000, os.makedev(10, 200))
        os.chmod(node, 0o666)
        subprocess.run([OPENVPN, "--mktun", "--dev", ifname, "--dev-type", "tun", "--user", owner,
                        "--group", group], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.cleanups.append(lambda: subprocess.run([OPENVPN, "--rmtun", "--dev", ifname, "--dev-type", "tun"],
                                                    stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        return ifname, node


def check_environment(plugin: Optional[Union[str, Path]]) -> None:
    """Raises Skip naming what is missing to run the suite."""
    missing = []
    if not os.path.exists(OPENVPN):
        missing.append("openvpn (Debian package `openvpn`)")
    else:
        out = subprocess.run([OPENVPN, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout
        if not re.search(rb"OpenVPN 2\.(6|[7-9])", out):
            missing.append(f"OpenVPN 2.6 or later (found: {out.splitlines()[:1]})")
    if os.geteuid() != 0:
        missing.append("root (the server opens a tun device)")
    if not os.path.exists("/dev/net/tun"):
        missing.append("/dev/net/tun")
    if plugin is not None and not os.path.exists(plugin):
        missing.append(f"the plugin {plugin}")
    if missing:
        raise Skip("missing: " + "; ".join(missing))


def sighup_and_wait(srv: Server, timeout: float = 15.0) -> int:
    """SIGHUP the server and wait until it is up again. Returns the log offset before it."""
    mark = srv.mark()
    srv.signal(signal.SIGHUP)
    srv.wait_for_log(r"SIGHUP\[hard,\] received, process restarting", timeout, mark)
    srv.wait_for_log(r"Initialization Sequence Completed", timeout, mark)
    return mark


# --- OpenVPN's management interface, for a test's own assertions -----------------------------------


class MgmtBusy(Exception):
    """The management interface did not take our connection in time (it serves one at a time)."""


class MgmtConn:
    """One open connection to OpenVPN's management interface (`management ... unix` or
    `management 127.0.0.1 PORT [pwfile]`). Asynchronous `>...` lines are skipped. OpenVPN serves
    one connection at a time: close it soon (or use Mgmt.query, which connects, asks, disconnects)."""

    def __init__(self, sock: socket.socket, password: Optional[str], timeout: float):
        self.sock = sock
        self.buf = b""
        self.sock.settimeout(timeout)
        if password is not None:
            self._read_until(lambda b: b"ENTER PASSWORD:" in b, timeout)
            self.buf = self.buf.split(b"ENTER PASSWORD:", 1)[1]
            self.sock.sendall(password.encode() + b"\n")
            line = self._line(timeout)
            if not line.startswith("SUCCESS:"):
                raise Failure(f"management password refused: {line!r}")
        # The greeting: ">INFO:OpenVPN Management Interface Version ...".
        while True:
            line = self._line(timeout)
            if line.startswith(">INFO:"):
                break

    def _read_until(self, done, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done(self.buf):
            if time.monotonic() > deadline:
                raise Failure(f"management interface: no answer within {timeout:.0f} s (have {self.buf[-200:]!r})")
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise Failure(f"management interface closed the connection (have {self.buf[-200:]!r})")
            self.buf += chunk

    def _line(self, timeout: float) -> str:
        self._read_until(lambda b: b"\n" in b, timeout)
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace").rstrip("\r")

    def command(self, cmd: str, timeout: float = 5.0) -> List[str]:
        """Sends one command. `status`/`help`-like commands answer with lines up to END (returned
        without it); the others with one SUCCESS:/ERROR: line (returned alone)."""
        self.sock.sendall(cmd.encode() + b"\n")
        multi = cmd.split()[0] in ("status", "help", "version", "log", "echo", "state")
        out: List[str] = []
        while True:
            line = self._line(timeout)
            if line.startswith(">"):
                continue
            if multi:
                if line == "END":
                    return out
                if not out and line.startswith("ERROR:"):
                    return [line]
                out.append(line)
            elif line.startswith(("SUCCESS:", "ERROR:")):
                return [line]

    def close(self) -> None:
        try:
            self.sock.sendall(b"quit\n")
        except OSError:
            pass
        self.sock.close()

    def __enter__(self) -> "MgmtConn":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Mgmt:
    """Where OpenVPN's management interface listens: a unix socket path, or (host, port) on
    127.0.0.1 with an optional password. Server lines for start_server(extra=...) come from
    server_lines()."""

    def __init__(self, where: Union[Path, str, tuple], password: Optional[str] = None,
                 password_file: Optional[Path] = None):
        self.where = where
        self.password = password
        self.password_file = password_file

    @classmethod
    def unix(cls, path: Union[str, Path]) -> "Mgmt":
        return cls(Path(path))

    @classmethod
    def tcp(cls, dirpath: Path, password: Optional[str] = None) -> "Mgmt":
        """127.0.0.1:<ephemeral>; with a password, writes it (0600) to DIR/mgmt.pass."""
        pwf = None
        if password is not None:
            pwf = Path(dirpath) / "mgmt.pass"
            pwf.write_text(password + "\n")
            os.chmod(pwf, 0o600)
        return cls(("127.0.0.1", free_port(socket.SOCK_STREAM)), password, pwf)

    def server_lines(self) -> List[str]:
        """The OpenVPN config line for this interface."""
        if isinstance(self.where, tuple):
            return [f"management {self.where[0]} {self.where[1]}" + (f" {_q(self.password_file)}"
                                                                       if self.password_file else "")]
        return [f"management {_q(self.where)} unix"]

    def plugin_value(self) -> str:
        """The plugin's `management =` value for this interface."""
        if isinstance(self.where, tuple):
            return f"{self.where[0]}:{self.where[1]}"
        return f"unix:{self.where}"

    def open(self, timeout: float = 5.0) -> MgmtConn:
        """Connects, retrying while the interface is busy with another client (refused) or not
        there yet, up to `timeout`. Raises MgmtBusy when it never answered."""
        deadline = time.monotonic() + timeout
        last: Optional[BaseException] = None
        while time.monotonic() < deadline:
            if isinstance(self.where, tuple):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                addr: object = self.where
            else:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                addr = str(self.where)
            try:
                s.settimeout(max(0.2, deadline - time.monotonic()))
                s.connect(addr)
                return MgmtConn(s, self.password, max(1.0, deadline - time.monotonic()))
            except (ConnectionRefusedError, FileNotFoundError, ConnectionResetError, BrokenPipeError,
                    socket.timeout) as e:
                last = e
                s.close()
            except Failure as e:  # accepted, then closed before the greeting: busy, try again
                last = e
                s.close()
            time.sleep(0.02)
        raise MgmtBusy(f"management interface {self.where} did not serve us within {timeout:.0f} s: {last}")

    def query(self, cmd: str, timeout: float = 5.0) -> List[str]:
        """Connects, runs one command, disconnects."""
        with self.open(timeout) as c:
            return c.command(cmd, timeout)

    def clients(self, timeout: float = 5.0) -> dict:
        """`status 3` as {common name: row}, row a dict of the CLIENT_LIST columns named by the
        HEADER line (Real Address, Client ID, Bytes Received, Bytes Sent, ...)."""
        lines = self.query("status 3", timeout)
        header: Optional[List[str]] = None
        rows = {}
        for ln in lines:
            f = ln.split("\t")
            if f[0] == "HEADER" and len(f) > 1 and f[1] == "CLIENT_LIST":
                header = f[2:]
            elif f[0] == "CLIENT_LIST":
                if header is None:
                    raise Failure("status 3 has CLIENT_LIST before its HEADER:\n" + "\n".join(lines))
                rows[f[1]] = dict(zip(header, f[1:]))
        if header is None:
            raise Failure("status 3 has no CLIENT_LIST header:\n" + "\n".join(lines))
        return rows
