# SPDX-License-Identifier: GPL-2.0-or-later
"""Drives the crlsync fetcher (the `crlsync` executable) against a real nginx on 127.0.0.1.

Reusable by fetcher_scenarios.py and later tests:

    with FetchEnv(crlsync_path, "first_install") as env:   # temp dir, fresh PKI, docroot, cache dir
        env.start_nginx()                                  # its own config, ephemeral port, logs in the dir
        der = env.crl(number=1)
        env.publish("issuing.crl", der)                    # atomic rename into the docroot, fresh mtime
        env.write_config({"issuing": [env.url("issuing.crl")]})
        r = env.fetch(expect_rc=0)
        r.assert_err(r"installed CRL number 01")
        assert env.installed("issuing") == der
        mark = env.nginx.mark()
        env.fetch(expect_rc=0)
        env.nginx.requests(since=mark)                      # [Request(status=304, inm='"..."', ...)]

Every process is started through the Env and killed by PID when it closes (try/finally), never by
name; each child also gets PR_SET_PDEATHSIG. Only 127.0.0.1 is ever contacted.
Python: Debian's /usr/bin/python3 with python3-cryptography (stdlib otherwise).
"""

import datetime
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import gen  # noqa: F401  (tests/fixtures/gen.py; harness puts it on sys.path)
from harness import Failure, LogFile, Process, Skip, _die_with_parent, free_port, kill_proc, log

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_START_TIMEOUT = 10.0
RUN_TIMEOUT = 60.0

# One access-log line per request, written when the response ends (nginx does not buffer it
# without `buffer=`): the status, what the client sent as validators, and how much body went out.
ACCESS_FORMAT = ('$status $request_method $uri bytes=$body_bytes_sent user="$remote_user" '
                 'inm="$http_if_none_match" ims="$http_if_modified_since" ua="$http_user_agent"')
RE_ACCESS = re.compile(r'^(?P<status>\d{3}) (?P<method>\S+) (?P<uri>\S+) bytes=(?P<bytes>\d+) '
                       r'user="(?P<user>[^"]*)" inm="(?P<inm>[^"]*)" ims="(?P<ims>[^"]*)" ua="(?P<ua>[^"]*)"$')


def tail(text: str, lines: int = 25) -> str:
    return "\n".join("    " + ln for ln in text.splitlines()[-lines:])


# --- nginx -------------------------------------------------------------------------------------


@dataclass
class Request:
    """One line of nginx's access log. `inm`/`ims` are None when the header was absent."""
    status: int
    method: str
    uri: str
    bytes: int
    user: Optional[str]
    inm: Optional[str]
    ims: Optional[str]
    ua: str

    @property
    def conditional(self) -> bool:
        return self.inm is not None or self.ims is not None


def _absent(v: str) -> Optional[str]:
    return None if v == "-" else v


class Nginx:
    """nginx with its own config and logs in `dir`, serving `docroot` on 127.0.0.1:<ephemeral>.
    It answers conditional GETs itself (etag on; if_modified_since exact)."""

    def __init__(self, dir_: Path, docroot: Path, locations: str = ""):
        self.dir = Path(dir_)
        self.docroot = Path(docroot)
        self.locations = locations
        self.port = 0
        self.proc: Optional[subprocess.Popen] = None
        self.access = LogFile(self.dir / "access.log")
        self.error = LogFile(self.dir / "error.log")

    def conf(self) -> str:
        d = self.dir
        return f"""# written by fetcher_harness.py
worker_processes 1;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    log_format crlsync '{ACCESS_FORMAT}';
    access_log {d}/access.log crlsync;
    client_body_temp_path {d}/tmp-body;
    proxy_temp_path {d}/tmp-proxy;
    fastcgi_temp_path {d}/tmp-fastcgi;
    uwsgi_temp_path {d}/tmp-uwsgi;
    scgi_temp_path {d}/tmp-scgi;
    types {{ application/pkix-crl crl; }}
    default_type application/octet-stream;
    sendfile off;
    server {{
        listen 127.0.0.1:{self.port};
        root {self.docroot};
        location /slow/ {{ limit_rate 16k; }}
{self.locations}
    }}
}}
"""

    def start(self) -> "Nginx":
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.port = free_port(socket.SOCK_STREAM)
        conf = self.dir / "nginx.conf"
        conf.write_text(self.conf())
        pid = self.dir / "nginx.pid"
        argv = [NGINX, "-p", str(self.dir), "-c", str(conf), "-e", str(self.dir / "error.log"),
                "-g", f"daemon off; pid {pid};"]
        with open(self.dir / "nginx.stdout", "wb") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         preexec_fn=_die_with_parent)
        deadline = time.monotonic() + NGINX_START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise Failure(f"nginx exited ({self.proc.returncode}) at start:\n{tail(self.error.text())}\n"
                              f"{tail((self.dir / 'nginx.stdout').read_text(errors='replace'))}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass
                if pid.exists():
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise Failure(f"nginx did not listen on 127.0.0.1:{self.port} within {NGINX_START_TIMEOUT:.0f} s:\n"
                              f"{tail(self.error.text())}")
            time.sleep(0.01)
        log(f"nginx pid {self.proc.pid} on 127.0.0.1:{self.port}, docroot {self.docroot}")
        return self

    def stop(self) -> None:
        kill_proc(self.proc)

    def mark(self) -> int:
        return self.access.mark()

    def requests(self, since: int = 0, uri: Optional[str] = None) -> List[Request]:
        out = []
        for ln in self.access.text(since).splitlines():
            m = RE_ACCESS.match(ln)
            if not m:
                raise Failure(f"unparsable access log line: {ln!r}")
            r = Request(int(m["status"]), m["method"], m["uri"], int(m["bytes"]), _absent(m["user"]),
                        _absent(m["inm"]), _absent(m["ims"]), m["ua"])
            if uri is None or r.uri == uri:
                out.append(r)
        return out

    def wait_requests(self, since: int, uri: str, n: int = 1, timeout: float = 5.0) -> List[Request]:
        """nginx writes a line when the response is over: waits for `n` lines about `uri`."""
        deadline = time.monotonic() + timeout
        while True:
            reqs = self.requests(since, uri)
            if len(reqs) >= n or time.monotonic() > deadline:
                return reqs
            time.sleep(0.01)


# --- crlsync runs ------------------------------------------------------------------------------


class Result:
    """How one `crlsync ...` run ended: exit status, stdout, stderr, wall time."""

    def __init__(self, argv: Sequence[str], rc: int, out: str, err: str, seconds: float):
        self.argv = list(argv)
        self.rc = rc
        self.out = out
        self.err = err
        self.seconds = seconds

    def show(self) -> str:
        return (f"$ {' '.join(self.argv[1:])}\n  exit {self.rc} in {self.seconds:.2f} s\n  stdout:\n{tail(self.out)}\n"
                f"  stderr:\n{tail(self.err)}")

    def assert_rc(self, rc: int) -> "Result":
        if self.rc != rc:
            raise Failure(f"expected exit {rc}, got {self.rc}\n{self.show()}")
        return self

    def _search(self, pattern: str, text: str, what: str) -> re.Match:
        m = re.search(pattern, text, re.MULTILINE)
        if not m:
            raise Failure(f"{what} lacks /{pattern}/\n{self.show()}")
        return m

    def assert_err(self, pattern: str) -> re.Match:
        return self._search(pattern, self.err, "stderr")

    def assert_out(self, pattern: str) -> re.Match:
        return self._search(pattern, self.out, "stdout")

    def assert_not(self, needle: str) -> None:
        """Neither stream contains `needle` (a plain string)."""
        for what, text in (("stdout", self.out), ("stderr", self.err)):
            if needle in text:
                raise Failure(f"{what} contains {needle!r}\n{self.show()}")


class Daemon(Process):
    """A running `crlsync daemon` (stderr to a log file)."""

    what = "daemon"

    def __init__(self, proc: subprocess.Popen, log_: LogFile, pidfile: Path):
        super().__init__(proc, log_)
        self.pidfile = pidfile

    def wait_until(self, pred, timeout: float, what: str) -> float:
        """Polls `pred` (every 2 ms) while the daemon runs; returns the monotonic time it held.
        Failure with the daemon's log when it exits first or on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            if pred():
                return time.monotonic()
            if self.proc.poll() is not None:
                raise Failure(f"{what}: the daemon exited ({self.proc.returncode}) first:\n{tail(self.log.text())}")
            if time.monotonic() > deadline:
                raise Failure(f"{what}: not within {timeout:.1f} s; daemon log:\n{tail(self.log.text())}")
            time.sleep(0.002)

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"the daemon did not exit within {timeout:.0f} s:\n{tail(self.log.text())}")


# --- a server that trickles ----------------------------------------------------------------------


class TrickleServer:
    """An HTTP server on 127.0.0.1:<ephemeral> (python's http.server, in a thread of the test)
    that answers every GET with `make(n)` (n = 1, 2, ... per request), its body sent in `chunks`
    pieces spread over `seconds`: a slow download that is always in flight. No validators.

        srv = TrickleServer(lambda n: env.crl(number=n), seconds=3.0).start()
        env.write_config({"issuing": [srv.url("issuing.crl")]})
        ...
        srv.stop()
    """

    def __init__(self, make, seconds: float = 3.0, chunks: int = 10):
        import threading
        self.make = make
        self.seconds = seconds
        self.chunks = chunks
        self.lock = threading.Lock()
        self.requests = 0
        self.completed = 0
        self.httpd = None
        self.thread = None

    def start(self) -> "TrickleServer":
        import http.server
        import threading
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                with srv.lock:
                    srv.requests += 1
                    n = srv.requests
                body = srv.make(n)
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                step = (len(body) + srv.chunks - 1) // srv.chunks
                try:
                    for i in range(0, len(body), step):
                        time.sleep(srv.seconds / srv.chunks)
                        self.wfile.write(body[i:i + step])
                        self.wfile.flush()
                except OSError:
                    return  # the client went away (an abandoned transfer)
                with srv.lock:
                    srv.completed += 1

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        log(f"trickle server on 127.0.0.1:{self.port} ({self.seconds:.1f} s per body)")
        return self

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


# --- large CRLs, DER by hand -------------------------------------------------------------------
# gen.make_crl() builds every entry through python-cryptography, far too slow for 200,000 entries.
# A v2 CRL is simple enough to encode directly (RFC 5280 §5.1); it is signed with the CA's key and
# checked once with python-cryptography.


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _len(len(body)) + body


def _int(v: int) -> bytes:
    return _tlv(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big"))


def _oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for a in arcs[2:]:
        chunk = [a & 0x7F]
        a >>= 7
        while a:
            chunk.append(0x80 | (a & 0x7F))
            a >>= 7
        body += bytes(reversed(chunk))
    return _tlv(0x06, bytes(body))


def _utc(dt: datetime.datetime) -> bytes:
    return _tlv(0x17, dt.strftime("%y%m%d%H%M%SZ").encode())


def _seq(*parts: bytes) -> bytes:
    return _tlv(0x30, b"".join(parts))


SHA256_RSA = _seq(_oid("1.2.840.113549.1.1.11"), b"\x05\x00")


def big_entries(n: int, first_serial: int = 0x100000) -> bytes:
    """The DER of `n` revokedCertificates entries (serial, revocationDate an hour ago), concatenated."""
    date = _utc(gen.now() - datetime.timedelta(hours=1))
    out = []
    for s in range(first_serial, first_serial + n):
        body = _int(s) + date
        out.append(b"\x30" + _len(len(body)) + body)
    return b"".join(out)


def big_crl(ca: gen.CA, entries_der: bytes, number: int, this_update: int = -3600, next_update: int = 86400) -> bytes:
    """A v2 CRL of `ca` (RSA, sha256WithRSAEncryption) with the entries of big_entries(), a
    crlNumber and the CA's authorityKeyIdentifier."""
    if not isinstance(ca.key, rsa.RSAPrivateKey):
        raise ValueError("big_crl signs with RSA only")
    n = gen.now()
    exts = _seq(_seq(_oid("2.5.29.20"), _tlv(0x04, _int(number))),
                _seq(_oid("2.5.29.35"), _tlv(0x04, _seq(_tlv(0x80, ca.ski)))))
    tbs = _seq(_int(1), SHA256_RSA, ca.cert.subject.public_bytes(),
               _utc(n + datetime.timedelta(seconds=this_update)), _utc(n + datetime.timedelta(seconds=next_update)),
               _tlv(0x30, entries_der), _tlv(0xA0, exts))
    sig = ca.key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    return _seq(tbs, SHA256_RSA, _tlv(0x03, b"\x00" + sig))


# --- the environment ---------------------------------------------------------------------------


class FetchEnv:
    """One scenario's world: a temp dir with a fresh PKI, an nginx docroot, a cache dir and a
    crlsync config; the processes it started, killed when it closes. CRLSYNC_KEEP=1 keeps the dir
    (it is always kept on failure)."""

    def __init__(self, crlsync: Union[str, Path], name: str, locations: str = ""):
        self.crlsync = str(Path(crlsync).resolve())
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix=f"crlsync-ft-{name}-"))
        os.chmod(self.dir, 0o755)   # nginx's workers (nobody when started as root) read the docroot
        self.pki = gen.make_pki(self.dir / "pki")
        self.www = self.dir / "www"
        self.www.mkdir(mode=0o755)
        os.chmod(self.www, 0o755)
        (self.www / "slow").mkdir(mode=0o755)
        self.cache = self.dir / "cache"
        self.config = self.dir / "crlsync.conf"
        self.pidfile = self.dir / "crlsync.pid"
        self.nginx = Nginx(self.dir / "nginx", self.www, locations)
        self.procs: List[subprocess.Popen] = []
        self._mtime = int(time.time()) - 100000
        self._n_runs = 0

    def __enter__(self) -> "FetchEnv":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(keep=exc_type is not None or os.environ.get("CRLSYNC_KEEP") == "1")

    def close(self, keep: bool = False) -> None:
        for p in reversed(self.procs):
            kill_proc(p)
        self.nginx.stop()
        if keep:
            log(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- fixtures ------------------------------------------------------------------------------

    def start_nginx(self) -> Nginx:
        return self.nginx.start()

    def url(self, path: str, userinfo: Optional[str] = None) -> str:
        auth = f"{userinfo}@" if userinfo else ""
        return f"http://{auth}127.0.0.1:{self.nginx.port}/{path}"

    def crl(self, issuer: Optional[gen.CA] = None, entries: Sequence[gen.Entry] = (), number: Optional[int] = 1,
            **kw) -> bytes:
        """A DER CRL (default issuer: the issuing CA), see gen.make_crl()."""
        return gen.make_crl(issuer or self.pki.issuing, entries, number=number, **kw)

    def publish(self, path: str, data: bytes) -> Path:
        """Puts `data` at docroot/path by rename, with an mtime later than any before: nginx's
        ETag and Last-Modified change with every publish even within one second and at equal size
        (its ETag is mtime-size), so a conditional GET never hides new content."""
        dst = self.www / path
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.pub")
        tmp.write_bytes(data)
        os.chmod(tmp, 0o644)
        self._mtime = max(self._mtime + 1, int(time.time()) - 50000)
        os.utime(tmp, (self._mtime, self._mtime))
        os.rename(tmp, dst)
        return dst

    def unpublish(self, path: str) -> None:
        (self.www / path).unlink()

    def write_config(self, sources: Dict[str, Union[Sequence[str], dict]], global_lines: Sequence[str] = (),
                     raw: Optional[str] = None) -> Path:
        """[global] cache-dir + global_lines; one [source NAME] per item: a list of urls (ca: the
        issuing CA), or a dict with `urls`, optional `ca` (a path) and `lines` (extra key = value)."""
        if raw is not None:
            self.config.write_text(raw)
            return self.config
        lines = ["[global]", f"cache-dir = {self.cache}", *global_lines]
        for name, spec in sources.items():
            if not isinstance(spec, dict):
                spec = {"urls": list(spec)}
            lines += ["", f"[source {name}]"]
            lines += [f"url = {u}" for u in spec["urls"]]
            lines.append(f"ca = {spec.get('ca', self.pki.issuing_crt)}")
            lines += list(spec.get("lines", ()))
        tmp = self.config.with_name(".crlsync.conf.tmp")
        tmp.write_text("\n".join(lines) + "\n")
        os.rename(tmp, self.config)   # a daemon re-reading it on SIGHUP never sees half of it
        return self.config

    # --- the cache -----------------------------------------------------------------------------

    def crl_path(self, name: str) -> Path:
        return self.cache / f"{name}.crl"

    def installed(self, name: str) -> Optional[bytes]:
        try:
            return self.crl_path(name).read_bytes()
        except FileNotFoundError:
            return None

    def temp_files(self, name: Optional[str] = None) -> List[str]:
        """Leftover install temp files `.NAME.crl.XXXXXX` in cache-dir (of every source when name is None)."""
        pat = re.compile(r"^\.%s\.crl\.[A-Za-z0-9]{6}$" % (re.escape(name) if name else r"[A-Za-z0-9._-]+"))
        try:
            return sorted(e for e in os.listdir(self.cache) if pat.match(e))
        except FileNotFoundError:
            return []

    def state_temp_files(self) -> List[str]:
        """Leftover temp files of the state files (.state/.NAME.json.XXXXXX)."""
        try:
            return sorted(e for e in os.listdir(self.cache / ".state") if re.match(r"^\..+\.json\.[A-Za-z0-9]{6}$", e))
        except FileNotFoundError:
            return []

    def assert_installed(self, name: str, der: bytes, what: str = "") -> None:
        have = self.installed(name)
        if have != der:
            desc = "absent" if have is None else f"{len(have)} bytes, sha256 {_sha(have)}"
            raise Failure(f"{what + ': ' if what else ''}{self.crl_path(name)} is {desc}; expected {len(der)} bytes, "
                          f"sha256 {_sha(der)}")

    def assert_no_temp_files(self, name: Optional[str] = None) -> None:
        left = self.temp_files(name)
        if left:
            raise Failure(f"temp files left in {self.cache}: {left}")

    # --- crlsync -------------------------------------------------------------------------------

    def argv(self, *args: str, config: bool = True) -> List[str]:
        return [self.crlsync, *(["-c", str(self.config)] if config else []), *args]

    def run(self, *args: str, expect_rc: Optional[int] = None, timeout: float = RUN_TIMEOUT,
            config: bool = True, prefix: Sequence[str] = (), user: Optional[int] = None) -> Result:
        """Runs `crlsync -c CONFIG ARGS...` to the end; logs the exit status and timing. `prefix`
        runs it through a wrapper (e.g. setpriv dropping capabilities); `user` as that uid (its
        passwd group, no supplementary group: needs root)."""
        argv = [*prefix, *self.argv(*args, config=config)]
        self._n_runs += 1
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             preexec_fn=_die_with_parent, **as_user(user))
        self.procs.append(p)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_proc(p)
            out, err = p.communicate()
            raise Failure(f"`{' '.join(argv[1:])}` did not end within {timeout:.0f} s\n"
                          f"stderr:\n{tail(err.decode(errors='replace'))}")
        finally:
            self.procs.remove(p)
        r = Result(argv, p.returncode, out.decode(errors="replace"), err.decode(errors="replace"),
                   time.monotonic() - t0)
        (self.dir / f"run{self._n_runs}-{args[0]}.log").write_text(r.show() + "\n")
        log(f"crlsync {' '.join(args)}: exit {r.rc} in {r.seconds:.2f} s")
        if expect_rc is not None:
            r.assert_rc(expect_rc)
        return r

    def fetch(self, expect_rc: Optional[int] = None, timeout: float = RUN_TIMEOUT,
              prefix: Sequence[str] = ()) -> Result:
        return self.run("fetch", expect_rc=expect_rc, timeout=timeout, prefix=prefix)

    def spawn(self, *args: str, out: Optional[Path] = None, user: Optional[int] = None) -> subprocess.Popen:
        """Starts `crlsync -c CONFIG ARGS...` without waiting (stdout+stderr to `out` or /dev/null),
        as `user` when given (see run())."""
        argv = self.argv(*args)
        if out is None:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent, **as_user(user))
        else:
            with open(out, "wb") as f:
                p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent, **as_user(user))
        self.procs.append(p)
        return p

    def reap(self, p: subprocess.Popen, timeout: float = RUN_TIMEOUT) -> int:
        try:
            rc = p.wait(timeout=timeout)
        finally:
            if p.poll() is None:
                kill_proc(p)
            if p in self.procs:
                self.procs.remove(p)
        return rc

    def start_daemon(self, extra: Sequence[str] = (), name: str = "daemon", user: Optional[int] = None,
                     pidfile: Optional[Path] = None) -> Daemon:
        """Starts `crlsync daemon --pidfile PIDFILE` (default env.pidfile), as `user` when given,
        and waits for its pidfile."""
        pidfile = Path(pidfile or self.pidfile)
        logp = self.dir / f"{name}.log"
        p = self.spawn("daemon", "--pidfile", str(pidfile), *extra, out=logp, user=user)
        d = Daemon(p, LogFile(logp), pidfile)
        deadline = time.monotonic() + 5
        while not pidfile.exists():
            d.assert_running()
            if time.monotonic() > deadline:
                raise Failure(f"the daemon wrote no pidfile {pidfile} within 5 s:\n{tail(d.log.text())}")
            time.sleep(0.005)
        log(f"daemon pid {p.pid}")
        return d

    def status_json(self) -> list:
        r = self.run("status", "--json", expect_rc=0)
        try:
            return json.loads(r.out)
        except ValueError as e:
            raise Failure(f"status --json is not JSON ({e})\n{r.show()}")

    def source_status(self, name: str) -> dict:
        for s in self.status_json():
            if s.get("name") == name:
                return s
        raise Failure(f"status --json has no source {name!r}")


def as_user(uid: Optional[int]) -> dict:
    """Popen keywords that run the child as `uid` with its passwd group and no supplementary group."""
    if uid is None:
        return {}
    import pwd
    try:
        gid = pwd.getpwuid(uid).pw_gid
    except KeyError:
        gid = uid
    return {"user": uid, "group": gid, "extra_groups": []}


def need_root(what: str) -> None:
    """A scenario that switches users needs root: a Failure under CI=true (.ci/run is root), else
    the test is skipped (exit 77; run.py only turns a Skip at check_environment() into 77)."""
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            raise Failure(f"{what} needs root (CI=true: no skipping)")
        log(f"SKIP: {what} needs root")
        raise SystemExit(77)


def _sha(b: bytes) -> str:
    import hashlib
    return hashlib.sha256(b).hexdigest()[:16]


def wait_until(pred, timeout: float, what: str, interval: float = 0.002) -> float:
    """Polls `pred` until true; returns the monotonic time it became true. Failure on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return time.monotonic()
        if time.monotonic() > deadline:
            raise Failure(f"{what}: not within {timeout:.1f} s")
        time.sleep(interval)


def file_mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def check_environment(crlsync: Optional[Union[str, Path]]) -> None:
    """Raises Skip naming what is missing to run the fetcher scenarios."""
    missing = []
    if not os.path.exists(NGINX):
        missing.append("nginx (Debian package `nginx-light`)")
    if crlsync is not None and not os.access(crlsync, os.X_OK):
        missing.append(f"the crlsync executable {crlsync}")
    if missing:
        raise Skip("missing: " + "; ".join(missing))
