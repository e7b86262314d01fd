# SPDX-License-Identifier: GPL-2.0-or-later
"""Drives a real charon (Debian's strongswan-charon, swanctl, the vici and curl plugins) for the
strongswan scenarios, next to fetcher_harness.FetchEnv's nginx and crlsync.

    with SwanEnv(crlsync, "small_held") as env:        # FetchEnv + a charon directory
        ch = env.start_charon()                       # own strongswan.conf (STRONGSWAN_CONF), vici socket,
                                                      # log file, private /run (charon's pidfile is fixed)
        env.write_config({...}, global_lines=..., strongswan=True)
        env.fetch(expect_rc=0)
        ch.crls()                                     # [(issuer, number, der)] via vici list-certs

Every charon is started by the harness and stopped by PID. IKE scenarios create their own network
namespaces (unique names, a veth pair, addresses only inside them) and delete them in finally.
"""

import os
import re
import shutil
import socket
import struct
import subprocess
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from cryptography import x509

import gen
from fetcher_harness import FetchEnv, tail
from harness import Failure, LogFile, Skip, _die_with_parent, kill_proc, log

CHARON = "/usr/lib/ipsec/charon"
SWANCTL = shutil.which("swanctl") or "/usr/sbin/swanctl"
PLUGINS = ("random nonce aes sha1 sha2 hmac kdf gmp pem pkcs1 pkcs8 x509 revocation constraints pubkey curl "
           "kernel-netlink socket-default vici")
CURL_PLUGIN = "/usr/lib/ipsec/plugins/libstrongswan-curl.so"
VICI_PLUGIN = "/usr/lib/ipsec/plugins/libstrongswan-vici.so"
START_TIMEOUT = 15.0


# --- a minimal vici client (test side; the fetcher has its own in C) -----------------------------

def _enc_msg(kv: Dict[str, bytes]) -> bytes:
    out = b""
    for k, v in kv.items():
        out += bytes([3, len(k)]) + k.encode() + struct.pack(">H", len(v)) + v
    return out


def _dec_msg(b: bytes) -> List[tuple]:
    """Flat list of (type, name, value)."""
    i, out, list_name = 0, [], ""
    while i < len(b):
        t = b[i]
        i += 1
        name, val = "", None
        if t in (1, 3, 4):
            n = b[i]
            name = b[i + 1:i + 1 + n].decode()
            i += 1 + n
            if t == 4:
                list_name = name
        if t in (3, 5):
            n = struct.unpack(">H", b[i:i + 2])[0]
            val = b[i + 2:i + 2 + n]
            i += 2 + n
            if t == 5:
                name = list_name
        out.append((t, name, val))
    return out


class Vici:
    def __init__(self, path: Path, timeout: float = 10.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(str(path))

    def close(self) -> None:
        self.s.close()

    def _send(self, op: int, name: Optional[str], body: bytes = b"") -> None:
        pkt = bytes([op]) + (bytes([len(name)]) + name.encode() if name is not None else b"") + body
        self.s.sendall(struct.pack(">I", len(pkt)) + pkt)

    def _recv(self) -> Tuple[int, str, bytes]:
        def exact(n: int) -> bytes:
            buf = b""
            while len(buf) < n:
                c = self.s.recv(n - len(buf))
                if not c:
                    raise ConnectionError("vici closed")
                buf += c
            return buf
        n = struct.unpack(">I", exact(4))[0]
        p = exact(n)
        op, i, name = p[0], 1, ""
        if op in (0, 3, 4, 7):
            name = p[2:2 + p[1]].decode()
            i = 2 + p[1]
        return op, name, p[i:]

    def request(self, cmd: str, kv: Optional[Dict[str, bytes]] = None, event: Optional[str] = None):
        events = []
        if event:
            self._send(3, event)
            op, _, _ = self._recv()
            if op != 5:
                raise Failure(f"vici: cannot register {event} ({op})")
        self._send(0, cmd, _enc_msg(kv or {}))
        while True:
            op, name, body = self._recv()
            if op == 7:
                events.append(_dec_msg(body))
            elif op == 1:
                resp = _dec_msg(body)
                break
            else:
                raise Failure(f"vici: {cmd}: unexpected op {op}")
        if event:
            self._send(4, event)
            while self._recv()[0] != 5:
                pass
        return resp, events


def crl_number(der: bytes) -> Optional[int]:
    c = x509.load_der_x509_crl(der)
    try:
        return c.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return None


# --- charon -------------------------------------------------------------------------------------

class Charon:
    """charon with its own strongswan.conf, vici socket, swanctl dir and log in `dir`; optionally
    inside network namespace `netns`. /run is a private tmpfs (charon's pidfile path is compiled in)."""

    def __init__(self, dir_: Path, name: str = "charon", netns: Optional[str] = None, port: int = 0,
                 extra: str = ""):
        self.dir = Path(dir_)
        self.name = name
        self.netns = netns
        self.port = port
        self.extra = extra
        self.sock = self.dir / "charon.vici"
        self.conf = self.dir / "strongswan.conf"
        self.swanctl_dir = self.dir / "swanctl"
        self.log = LogFile(self.dir / "charon.log")
        self.proc: Optional[subprocess.Popen] = None
        for d in ("x509", "x509ca", "x509crl", "private", "rsa", "ecdsa", "pkcs8", "x509aa", "x509ac", "x509ocsp",
                  "pubkey", "pkcs12", "bliss", "conf.d"):
            (self.swanctl_dir / d).mkdir(parents=True, exist_ok=True)
        (self.swanctl_dir / "swanctl.conf").write_text("# written by strongswan_harness.py\n")

    @property
    def uri(self) -> str:
        return f"unix://{self.sock}"

    def write_conf(self) -> None:
        self.conf.write_text(f"""# written by strongswan_harness.py
charon {{
    load_modular = no
    load = {PLUGINS}
    port = {self.port}
    port_nat_t = {4500 if self.port == 500 else 0}
    install_routes = no
    install_virtual_ip = no
    retransmit_tries = 1
    retransmit_timeout = 2.0
    plugins {{
        vici {{
            socket = unix://{self.sock}
        }}
    }}
    filelog {{
        log {{
            path = {self.log.path}
            time_format = %H:%M:%S
            append = yes
            flush_line = yes
            default = 1
            cfg = 2
            lib = 1
        }}
    }}
    syslog {{
        daemon {{
            default = -1
        }}
    }}
{self.extra}
}}
""")

    def env(self) -> dict:
        e = dict(os.environ)
        e["STRONGSWAN_CONF"] = str(self.conf)
        return e

    def start(self) -> "Charon":
        self.write_conf()
        try:
            self.sock.unlink()
        except FileNotFoundError:
            pass
        inner = f"mount -t tmpfs -o mode=0755 tmpfs /run && exec {CHARON}"
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns, "sh", "-c", inner]
        else:
            argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", inner]
        with open(self.dir / f"{self.name}.stderr", "ab") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         env=self.env(), preexec_fn=_die_with_parent)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise Failure(f"charon exited ({self.proc.returncode}) at start:\n{tail(self.log.text())}\n"
                              f"{tail((self.dir / f'{self.name}.stderr').read_text(errors='replace'))}")
            if self.sock.exists():
                try:
                    v = Vici(self.sock, 1.0)
                    v.request("version")
                    v.close()
                    break
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise Failure(f"charon's vici socket {self.sock} did not answer within {START_TIMEOUT:.0f} s:\n"
                              f"{tail(self.log.text())}")
            time.sleep(0.02)
        log(f"{self.name}: charon pid {self.proc.pid}{' in netns ' + self.netns if self.netns else ''}, vici {self.uri}")
        return self

    def stop(self) -> None:
        kill_proc(self.proc, grace=5.0)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def swanctl(self, *args: str, timeout: float = 30.0, check: bool = True) -> subprocess.CompletedProcess:
        argv = [SWANCTL, *args, "--uri", self.uri]
        p = subprocess.run(argv, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        out = p.stdout.decode(errors="replace")
        (self.dir / f"swanctl-{args[0].lstrip('-')}.log").open("a").write(f"$ {' '.join(argv)}\n{out}\n")
        if check and p.returncode != 0:
            raise Failure(f"swanctl {' '.join(args)} failed ({p.returncode}):\n{tail(out)}\ncharon:\n{tail(self.log.text())}")
        return p

    def load_all(self) -> None:
        self.swanctl("--load-all", "--noprompt", "--file", str(self.swanctl_dir / "swanctl.conf"))

    def crls(self) -> List[Tuple[str, Optional[int], bytes]]:
        """What charon holds: (issuer, crlNumber, DER) per CRL list-certs returns (at most 64 KiB each:
        charon drops larger ones from the stream)."""
        v = Vici(self.sock)
        try:
            _, events = v.request("list-certs", {"type": b"X509_CRL"}, event="list-cert")
        finally:
            v.close()
        out = []
        for ev in events:
            d = {n: val for (t, n, val) in ev if t == 3}
            if d.get("type") == b"X509_CRL" and "data" in d:
                c = x509.load_der_x509_crl(d["data"])
                out.append((c.issuer.rfc4514_string(), crl_number(d["data"]), d["data"]))
        return out

    def numbers(self, issuer: x509.Name) -> List[Optional[int]]:
        return [n for (i, n, _) in self.crls() if i == issuer.rfc4514_string()]


def check_environment(crlsync) -> None:
    missing = []
    for path, pkg in ((CHARON, "strongswan-charon"), (SWANCTL, "strongswan-swanctl"),
                      (VICI_PLUGIN, "strongswan-swanctl (vici plugin)"),
                      (CURL_PLUGIN, "libstrongswan-extra-plugins (curl plugin, file:// fetcher)")):
        if not os.path.exists(path):
            missing.append(f"{path} (Debian package `{pkg}')")
    if os.geteuid() != 0:
        missing.append("root (charon, mount and network namespaces)")
    if shutil.which("unshare") is None:
        missing.append("unshare (util-linux)")
    if missing:
        raise Skip("missing: " + "; ".join(missing))
    from fetcher_harness import check_environment as fetcher_check
    fetcher_check(crlsync)


class SwanEnv(FetchEnv):
    """FetchEnv plus charons and network namespaces, all torn down when it closes."""

    def __init__(self, crlsync, name: str):
        super().__init__(crlsync, name)
        self.charons: List[Charon] = []
        self.netns: List[str] = []

    def close(self, keep: bool = False) -> None:
        for c in reversed(self.charons):
            c.stop()
        for ns in reversed(self.netns):
            subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        super().close(keep)

    def new_charon(self, name: str = "charon", netns: Optional[str] = None, port: int = 0, extra: str = "") -> Charon:
        c = Charon(self.dir / name, name, netns, port, extra)
        self.charons.append(c)
        return c

    def start_charon(self, name: str = "charon", **kw) -> Charon:
        return self.new_charon(name, **kw).start()

    def strongswan_lines(self, ch: Charon, load_scoped: Optional[bool] = None) -> List[str]:
        lines = ["", "[strongswan]", f"vici = {ch.uri}"]
        if load_scoped is not None:
            lines.append(f"load-scoped = {'yes' if load_scoped else 'no'}")
        return lines

    def write_swan_config(self, ch: Charon, sources: Dict[str, list], load_scoped: Optional[bool] = None,
                          ca: Optional[Path] = None) -> Path:
        self.write_config({n: {"urls": u, "ca": ca or self.pki.issuing_crt} for n, u in sources.items()})
        with open(self.config, "a") as f:
            f.write("\n".join(self.strongswan_lines(ch, load_scoped)) + "\n")
        return self.config

    def make_netns_pair(self) -> Tuple[str, str, str, str]:
        """Two fresh namespaces joined by a veth pair; returns (ns_a, ns_b, addr_a, addr_b)."""
        tag = uuid.uuid4().hex[:8]
        a, b = f"crlsync-{tag}-a", f"crlsync-{tag}-b"
        net = f"10.{int(tag[:2], 16) % 200 + 20}.{int(tag[2:4], 16)}"
        for ns in (a, b):
            subprocess.run(["ip", "netns", "add", ns], check=True)
            self.netns.append(ns)
            subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "link", "add", f"vc{tag[:6]}a", "netns", a, "type", "veth", "peer", "name",
                        f"vc{tag[:6]}b", "netns", b], check=True)
        for ns, dev, ip in ((a, f"vc{tag[:6]}a", f"{net}.1"), (b, f"vc{tag[:6]}b", f"{net}.2")):
            subprocess.run(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", dev], check=True)
            subprocess.run(["ip", "-n", ns, "link", "set", dev, "up"], check=True)
        log(f"netns {a} ({net}.1) <-> {b} ({net}.2)")
        return a, b, f"{net}.1", f"{net}.2"


def rx_number(n: int) -> str:
    return r"(?:0x)?0*" + format(n, "X") + r"\b"
