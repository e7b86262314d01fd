#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The Debian package, end to end, on this machine (ctest integration.package_deb):

  1. copies the source tree (git's tracked and unignored files: no developer build*/ dir) to a
     temporary directory and runs `dpkg-buildpackage -b -us -uc` there, as the README says;
  2. lintian: no error, no warning, and every override carries a comment saying why;
  3. `dpkg -i`: the files, the conffile, the crlsync user, the directories of tmpfiles.d, the unit
     (not enabled, ExecStart, `systemd-analyze verify`), `crlsync --version`, the man pages;
     `cmake --install` of the build tree installs the same set;
  4. a real `crlsync fetch` as the crlsync user from nginx on 127.0.0.1, with the configuration an
     admin would write in /etc/crlsync/crlsync.conf; stderr's sd-daemon prefixes under a journal;
  5. `dpkg -P`: nothing of the package is left (the crlsync user stays, as Debian keeps them).

Root only; installs and purges the package `crlsync`, so it refuses to run on a machine that has
crlsync installed or its directories. Exit 0 pass, 1 fail, 77 skip (a missing component, only when
CI is not "true").

    /usr/bin/python3 tests/package/package_test.py --source . --build-dir build
"""

import argparse
import gzip
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

import harness  # noqa: E402
from harness import Failure, Skip, log  # noqa: E402

PKG = "crlsync"
MULTIARCH = "x86_64-linux-gnu"
UNIT = "/lib/systemd/system/crlsync.service"
CONF = "/etc/crlsync/crlsync.conf"
PLUGIN = f"/usr/lib/{MULTIARCH}/openvpn/plugins/openvpn-plugin-crlsync.so"
STATE_DIRS = ("/var/lib/crlsync", "/var/lib/crlsync-plugin", "/run/crlsync")
# What the package must install (besides /usr/share/doc/crlsync/{copyright,changelog.Debian.gz}).
EXPECTED = (
    "/usr/sbin/crlsync",
    PLUGIN,
    UNIT,
    "/usr/lib/sysusers.d/crlsync.conf",
    "/usr/lib/tmpfiles.d/crlsync.conf",
    CONF,
    "/usr/share/man/man8/crlsync.8.gz",
    "/usr/share/man/man5/crlsync.conf.5.gz",
    "/usr/share/man/man8/openvpn-plugin-crlsync.8.gz",
    "/usr/share/bash-completion/completions/crlsync",
    "/usr/share/doc/crlsync/examples/crlsync.conf",
    "/usr/share/doc/crlsync/examples/openvpn.conf",
    "/usr/share/doc/crlsync/examples/swanctl.conf",
    "/usr/share/doc/crlsync/examples/strongswan.conf",
)
TOOLS = ("dpkg-buildpackage", "dh", "lintian", "systemd-analyze", "systemd-sysusers", "systemd-tmpfiles",
         "runuser", "git", "cmake", "nginx")


def run(argv, check=True, timeout=300, **kw) -> subprocess.CompletedProcess:
    t = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout, **kw)
    log(f"$ {' '.join(map(str, argv))}: exit {p.returncode} in {time.monotonic() - t:.1f} s")
    if check and p.returncode != 0:
        raise Failure(f"{' '.join(map(str, argv))} exited {p.returncode}\nstdout:\n{harness_tail(p.stdout)}\n"
                      f"stderr:\n{harness_tail(p.stderr)}")
    return p


def harness_tail(text: str, lines: int = 40) -> str:
    return "\n".join("    " + ln for ln in (text or "").splitlines()[-lines:])


def installed(pkg: str = PKG) -> bool:
    p = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkg], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return p.returncode == 0 and p.stdout.startswith(("ii", "rc", "iF", "iU", "hi"))


def preflight() -> None:
    if os.geteuid() != 0:
        raise Skip("needs root (dpkg -i, a system user)")
    missing = [t for t in TOOLS if shutil.which(t) is None and not Path(f"/usr/sbin/{t}").exists()]
    if missing:
        raise Skip(f"missing {', '.join(missing)} (scripts/deps.sh installs them)")
    if installed():
        raise Skip(f"the package {PKG} is installed here: this test installs and purges it")
    left = [d for d in ("/etc/crlsync",) + STATE_DIRS if os.path.exists(d)]
    if left:
        raise Skip(f"{', '.join(left)} exist: purging the package would remove them")


def copy_tree(src: Path, dst: Path) -> None:
    """The files git knows or would add (tracked + untracked, not ignored): what a clean clone holds
    plus a developer's pending work, without build*/, obj-*/ and other ignored output."""
    p = run(["git", "-C", str(src), "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    names = sorted({n for n in p.stdout.split("\0") if n})
    for n in names:
        s = src / n
        if not s.exists() and not s.is_symlink():
            continue  # deleted in the work tree
        d = dst / n
        d.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(s, d, follow_symlinks=False)
    log(f"copied {len(names)} files of {src} to {dst}")


def build_deb(tree: Path) -> Path:
    env = dict(os.environ, DEB_BUILD_OPTIONS=f"nocheck parallel={os.cpu_count() or 1}")
    p = run(["dpkg-buildpackage", "-b", "-us", "-uc"], cwd=tree, env=env, timeout=600, check=False)
    if p.returncode != 0:
        raise Failure(f"dpkg-buildpackage failed ({p.returncode}):\n{harness_tail(p.stdout + p.stderr, 60)}")
    version = run(["dpkg-parsechangelog", "-S", "Version"], cwd=tree).stdout.strip()
    deb = tree.parent / f"{PKG}_{version}_amd64.deb"
    if not deb.exists():
        raise Failure(f"dpkg-buildpackage did not write {deb.name}: {sorted(x.name for x in tree.parent.iterdir())}")
    # The build happened in dh's own directory (obj-*/) and debian/: both ignored, nothing else changed.
    status = run(["git", "-C", str(tree), "status", "--porcelain"]).stdout
    if status.strip():
        raise Failure("the package build changed the source tree:\n" + status)
    return deb


def check_lintian(deb: Path, tree: Path) -> None:
    p = run(["lintian", "--pedantic", "--display-info", "--display-experimental", "--show-overrides", str(deb)],
            check=False,
            env=dict(os.environ, LINTIAN_PROFILE="debian"))
    out = p.stdout + p.stderr
    log("lintian says:\n" + (harness_tail(out) or "    (nothing)"))
    bad = [ln for ln in out.splitlines() if re.match(r"^[EW]: ", ln)]
    if bad or p.returncode not in (0, 2):
        raise Failure(f"lintian reports errors or warnings (exit {p.returncode}):\n" + "\n".join(bad or [out]))
    # An override only with a comment saying why: the line just before each one is a comment.
    for f in (tree / "debian").glob("*lintian-overrides"):
        prev = ""
        for ln in f.read_text().splitlines():
            if ln.strip() and not ln.startswith("#") and not prev.startswith("#"):
                raise Failure(f"{f.name}: override without a comment above it: {ln}")
            prev = ln


def deb_files(deb: Path) -> list:
    out = run(["dpkg-deb", "-c", str(deb)]).stdout
    return [ln.split(None, 5)[5].split(" -> ")[0].lstrip(".") for ln in out.splitlines()]


def check_installed(deb: Path, build_dir: Path, work: Path) -> None:
    files = set(deb_files(deb))
    for f in EXPECTED:
        if f not in files:
            raise Failure(f"the package lacks {f}")
        if not os.path.isfile(f):
            raise Failure(f"{f} is not installed")
    if not os.access("/usr/sbin/crlsync", os.X_OK):
        raise Failure("/usr/sbin/crlsync is not executable")
    # The conffile, as shipped: a template that configures no source.
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", PKG]).stdout
    if CONF not in conffiles:
        raise Failure(f"{CONF} is not a conffile:\n{conffiles}")
    if re.search(r"(?m)^\s*\[source ", Path(CONF).read_text()):
        raise Failure(f"{CONF} as shipped configures a source")
    # The system user, from sysusers.d, and the directories of tmpfiles.d.
    try:
        pw = pwd.getpwnam("crlsync")
    except KeyError:
        raise Failure("no crlsync user after install")
    if pw.pw_uid == 0 or pw.pw_uid >= 1000 or not pw.pw_shell.endswith("nologin") or pw.pw_dir != "/var/lib/crlsync":
        raise Failure(f"crlsync user: {pw}")
    for d, mode, owner in (("/var/lib/crlsync", 0o755, "crlsync"), ("/var/lib/crlsync-plugin", 0o700, "root"),
                           ("/run/crlsync", 0o755, "crlsync")):
        st = os.stat(d)
        if stat.S_IMODE(st.st_mode) != mode or pwd.getpwuid(st.st_uid).pw_name != owner:
            raise Failure(f"{d}: mode {stat.S_IMODE(st.st_mode):o} owner {pwd.getpwuid(st.st_uid).pw_name}, "
                          f"expected {mode:o} {owner}")
    # The version, the same as the package's upstream version.
    version = run(["dpkg-query", "-W", "-f=${Version}", PKG]).stdout.split("-")[0]
    for opt in ("--version", "-V"):
        out = run(["/usr/sbin/crlsync", opt]).stdout.strip()
        if out != f"crlsync {version}":
            raise Failure(f"crlsync {opt} printed {out!r}, expected 'crlsync {version}'")
    run(["/usr/sbin/crlsync", "help"])
    run(["/usr/sbin/crlsync", "status", "--help"])
    if run(["/usr/sbin/crlsync", "bogus"], check=False).returncode != 3:
        raise Failure("an unknown command does not exit 3 (usage error)")
    # The unit: ExecStart from the prefix, not enabled, not started, and verified by systemd itself.
    unit = Path(UNIT).read_text()
    if "ExecStart=/usr/sbin/crlsync -c /etc/crlsync/crlsync.conf daemon" not in unit:
        raise Failure(f"{UNIT}: unexpected ExecStart:\n{unit}")
    wants = list(Path("/etc/systemd/system").glob("*.wants/crlsync.service"))
    if wants:
        raise Failure(f"installing enabled the unit: {wants}")
    v = run(["systemd-analyze", "verify", "--man=no", UNIT], check=False)
    if v.returncode != 0 or re.search(r"crlsync\.service", v.stderr):
        raise Failure(f"systemd-analyze verify {UNIT} (exit {v.returncode}):\n{v.stdout}{v.stderr}")
    # The man pages render without a warning (lintian runs the same check).
    for page in ("/usr/share/man/man8/crlsync.8.gz", "/usr/share/man/man5/crlsync.conf.5.gz",
                 "/usr/share/man/man8/openvpn-plugin-crlsync.8.gz"):
        m = run(["man", "--warnings", "-l", page], check=False, env=dict(os.environ, MANWIDTH="80"))
        if m.returncode != 0 or m.stderr.strip():
            raise Failure(f"man {page}: {m.stderr}")
        text = gzip.decompress(Path(page).read_bytes()).decode()
        for section in ("FILES", "SEE ALSO"):
            if f".SH {section}" not in text:
                raise Failure(f"{page} has no {section} section")
    if ".SH EXIT STATUS" not in gzip.decompress(Path("/usr/share/man/man8/crlsync.8.gz").read_bytes()).decode():
        raise Failure("crlsync(8) has no EXIT STATUS section")
    check_cmake_install(files, build_dir, work)


def check_cmake_install(deb_set: set, build_dir: Path, work: Path) -> None:
    """`cmake --install` of the developer build installs the same set as the package (file names;
    the package adds Debian's copyright, changelog and docs, and compresses man pages)."""
    if build_dir is None:
        return
    dest = work / "cmake-install"
    run(["cmake", "--install", str(build_dir), "--prefix", "/usr"], env=dict(os.environ, DESTDIR=str(dest)))
    got = {p.name for p in dest.rglob("*") if p.is_file()}
    want = {Path(f).name.removesuffix(".gz") for f in deb_set
            if f.startswith(("/usr/", "/lib/", "/etc/")) and not f.endswith("/") and
            not re.search(r"/usr/share/doc/crlsync/[^/]+$", f)}
    want = {n for n in want if n}
    if got != want:
        raise Failure(f"cmake --install and the package differ: only cmake {sorted(got - want)}, "
                      f"only the package {sorted(want - got)}")
    unit = next(dest.rglob("crlsync.service")).read_text()
    if "ExecStart=/usr/sbin/crlsync " not in unit:
        raise Failure(f"cmake --install --prefix /usr: the unit's ExecStart does not follow the prefix:\n{unit}")


def check_fetch(work: Path) -> None:
    """What an admin does after install: a source in /etc/crlsync/crlsync.conf, then a fetch as the
    unit's user, from a CRL server (nginx on 127.0.0.1)."""
    import gen  # tests/fixtures/gen.py, put on sys.path by harness
    from fetcher_harness import Nginx

    os.chmod(work, 0o755)  # the crlsync user reads the CA file and nginx serves from here
    pki = work / "pki"
    pki.mkdir(mode=0o755)
    root = gen.make_root("crlsync package test CA")
    ca = gen.write(pki / "ca.crt", root.cert_pem())
    docroot = work / "www"
    docroot.mkdir(mode=0o755)
    der = gen.make_crl(root, [gen.Entry(0x2A, reason="keyCompromise")], number=7)
    gen.write(docroot / "ca.crl", der)
    nginx = Nginx(work / "nginx", docroot).start()
    original = Path(CONF).read_bytes()
    try:
        Path(CONF).write_text(Path(CONF).read_text() + f"\n[source pkgtest]\nurl = http://127.0.0.1:{nginx.port}/ca.crl\n"
                              f"ca = {ca}\n")
        as_user = ["runuser", "-u", "crlsync", "--", "/usr/sbin/crlsync"]
        r = run(as_user + ["fetch"], check=False, timeout=60)
        if r.returncode != 0:
            raise Failure(f"crlsync fetch as crlsync: exit {r.returncode}\n{r.stderr}\nnginx:\n{nginx.error.text()}")
        installed_crl = Path("/var/lib/crlsync/pkgtest.crl")
        if installed_crl.read_bytes() != der or installed_crl.stat().st_uid != pwd.getpwnam("crlsync").pw_uid:
            raise Failure("pkgtest.crl is not the served CRL, or not the crlsync user's")
        if not re.search(r"(?i)installed CRL number 0?7", r.stderr):
            raise Failure(f"crlsync fetch did not say what it installed:\n{r.stderr}")
        # -q: errors only, for cron; the CRL is unchanged (a 304), exit 0.
        q = run(as_user + ["fetch", "-q"], timeout=60)
        if q.stderr.strip():
            raise Failure(f"crlsync fetch -q printed more than errors:\n{q.stderr}")
        st = run(as_user + ["status"]).stdout
        if not re.search(r"(?m)^pkgtest\s+0?7\s", st) or any(len(ln) > 80 for ln in st.splitlines()):
            raise Failure(f"crlsync status (80 columns) does not show number 07:\n{st}")
        statuses = [req.status for req in nginx.requests(uri="/ca.crl")]
        if statuses[:2] != [200, 304]:
            raise Failure(f"nginx saw {statuses} for /ca.crl, expected a 200 then a 304")
        # Under systemd (JOURNAL_STREAM naming stderr), every line carries its priority: the log's own
        # (<3> for an error) and the lines a subcommand prints itself (usage, refresh's refusals).
        for args, rc_want, first in ((["-c", str(work / "absent.conf"), "fetch"], 2, "<3>crlsync: error: "),
                                     (["refresh", "--pidfile", str(work / "absent.pid")], 1, "<3>crlsync: "),
                                     (["bogus"], 3, "<3>crlsync: unknown command"),
                                     (["-v", "fetch"], 0, "<")):
            with open(work / "journal.err", "w+") as err:
                sb = os.fstat(err.fileno())
                env = dict(os.environ, JOURNAL_STREAM=f"{sb.st_dev}:{sb.st_ino}")
                rc = subprocess.run(["/usr/sbin/crlsync"] + args, stderr=err, stdout=subprocess.DEVNULL, env=env,
                                    timeout=30).returncode
                err.seek(0)
                lines = err.read().splitlines()
            if rc != rc_want or not lines or not lines[0].startswith(first) or \
                    not all(re.match(r"^<[3-7]>", ln) for ln in lines):
                raise Failure(f"crlsync {' '.join(args)} under JOURNAL_STREAM: exit {rc} (expected {rc_want}), "
                              f"stderr {lines}")
    finally:
        Path(CONF).write_bytes(original)
        harness.kill_proc(nginx.proc)


def check_purged(deb: Path) -> None:
    if installed():
        raise Failure(f"{PKG} still known to dpkg after dpkg -P")
    ours = ("/etc/crlsync/", "/usr/share/doc/crlsync/", "/usr/share/doc/crlsync/examples/")
    left = [f for f in deb_files(deb) if (not f.endswith("/") or f in ours) and os.path.lexists(f)]
    left += [d for d in STATE_DIRS if os.path.lexists(d)]
    left += [str(p) for p in Path("/etc/systemd/system").rglob("crlsync.service")]
    left += [str(p) for p in Path("/var/lib/systemd/deb-systemd-helper-enabled").rglob("crlsync.service*")]
    if left:
        raise Failure(f"left after dpkg -P: {sorted(set(left))}")
    # Debian keeps system users at purge (a reused uid would own what crlsync left elsewhere).
    try:
        pwd.getpwnam("crlsync")
    except KeyError:
        raise Failure("the crlsync user was removed at purge: Debian keeps system users")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=HERE.parent.parent, help="the source tree (a git work tree)")
    ap.add_argument("--build-dir", type=Path, help="a configured build tree, to compare cmake --install with")
    a = ap.parse_args()
    t0 = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="crlsync-package-"))
    ok = False
    deb = None
    try:
        preflight()
        tree = work / "src" / PKG
        copy_tree(a.source.resolve(), tree)
        # The copy is a git work tree of its own, so that what the build leaves behind shows.
        run(["git", "init", "-q", str(tree)])
        run(["git", "-C", str(tree), "add", "-A"])
        run(["git", "-C", str(tree), "-c", "user.name=package test", "-c", "user.email=test@localhost", "commit",
             "-q", "--no-gpg-sign", "--no-verify", "-m", "the tree as copied"])
        deb = build_deb(tree)
        check_lintian(deb, tree)
        run(["dpkg", "-i", str(deb)], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        check_installed(deb, a.build_dir, work)
        check_fetch(work)
        run(["dpkg", "-P", PKG])
        check_purged(deb)
        ok = True
        log(f"PASS in {time.monotonic() - t0:.0f} s")
        return 0
    except Skip as e:
        if os.environ.get("CI") == "true":
            print(f"FAIL: {e} (CI=true: a missing component is a failure)", flush=True)
            return 1
        print(f"SKIP: {e}", flush=True)
        return 77
    except Failure as e:
        print(f"FAIL: {e}", flush=True)
        return 1
    finally:
        if deb is not None and installed():
            subprocess.run(["dpkg", "-P", PKG], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if ok or not os.environ.get("CRLSYNC_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")


if __name__ == "__main__":
    sys.exit(main())
