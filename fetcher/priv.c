/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fetcher's privilege rules: root works as cache-dir's owner, and `refresh' signals only a crlsync daemon of the pidfile's owner. */
#include "priv.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crlsync/text.h"

#define PRIV_PW_BUF 16384 /* getpwuid_r's buffer: far above any passwd line */

/* The passwd entry of uid into *pw (strings in buf), or NULL when it has none (or it cannot be read). */
static struct passwd *priv_pw(uid_t uid, struct passwd *pw, char *buf, size_t len)
{
	struct passwd *res = NULL;

	if (getpwuid_r(uid, pw, buf, len, &res) != 0)
		return NULL;
	return res;
}

int priv_drop_to(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	struct passwd pwbuf, *pw;
	uid_t r, e, s;
	gid_t rg, eg, sg;
	char *buf;
	int ret = 0;

	if (errlen > 0)
		err[0] = '\0';
	if (geteuid() == uid && getuid() == uid)
		return 0;
	buf = malloc(PRIV_PW_BUF);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pw = priv_pw(uid, &pwbuf, buf, PRIV_PW_BUF);
	if (pw != NULL)
		gid = pw->pw_gid;
	/* Groups first: once the uid is not 0 any more, neither the groups nor the gid can be changed. */
	if (pw != NULL ? initgroups(pw->pw_name, gid) != 0 : setgroups(1, &gid) != 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot set the supplementary groups of uid %u: %s", (unsigned)uid, strerror(-ret));
		goto out;
	}
	if (setresgid(gid, gid, gid) != 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot switch to gid %u: %s", (unsigned)gid, strerror(-ret));
		goto out;
	}
	if (setresuid(uid, uid, uid) != 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot switch to uid %u: %s", (unsigned)uid, strerror(-ret));
		goto out;
	}
	/*
	 * That it is for good: the real, effective and saved ids are all the new ones, and taking
	 * root's back fails (it would succeed with a saved uid of 0, or CAP_SETUID kept by securebits).
	 */
	if (getresuid(&r, &e, &s) != 0 || r != uid || e != uid || s != uid || getresgid(&rg, &eg, &sg) != 0 ||
	    rg != gid || eg != gid || sg != gid || (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) ||
	    (gid != 0 && (setgid(0) == 0 || setegid(0) == 0))) {
		ret = -EPERM;
		snprintf(err, errlen, "switched to uid %u gid %u, but root's ids could still be taken back", (unsigned)uid,
			 (unsigned)gid);
		goto out;
	}
out:
	free(buf);
	return ret;
}

int priv_drop_to_dir_owner(int dirfd, const char *path, const struct log_sink *log)
{
	struct passwd pwbuf, *pw;
	struct stat st;
	char err[256], name[64], *buf;
	int r;

	if (geteuid() != 0)
		return 0;
	if (fstat(dirfd, &st) != 0) {
		r = -errno;
		log_error(log, "cannot stat cache-dir %s: %s", path, strerror(-r));
		return r;
	}
	if (st.st_uid == 0)
		return 0; /* root's own directory (or one root just created): root keeps working in it */
	buf = malloc(PRIV_PW_BUF);
	pw = buf ? priv_pw(st.st_uid, &pwbuf, buf, PRIV_PW_BUF) : NULL;
	text_sanitize_copy(name, sizeof(name), pw ? pw->pw_name : "no passwd entry");
	free(buf);
	r = priv_drop_to(st.st_uid, st.st_gid, err, sizeof(err));
	if (r < 0) {
		log_error(log, "running as root, cache-dir %s belongs to uid %u (%s): %s; refusing to work in it as root, "
			       "which would leave files that user cannot use",
			  path, (unsigned)st.st_uid, name, err);
		return r;
	}
	log_note(log, "running as root, cache-dir %s belongs to uid %u (%s): switched to that user (gid %u) for good "
		      "before touching anything in it",
		 path, (unsigned)st.st_uid, name, (unsigned)getgid());
	return 0;
}

bool priv_parse_status_uids(const char *status, uid_t uids[4])
{
	const char *p = status;

	if (status == NULL)
		return false;
	/* "Uid:\t0\t0\t0\t0\n", at the start of a line */
	while (p != NULL && strncmp(p, "Uid:", 4) != 0) {
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	if (p == NULL)
		return false;
	p += 4;
	for (int i = 0; i < 4; i++) {
		unsigned long v;
		char *end;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			return false;
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno != 0 || v > (unsigned long)(uid_t)-1 || end == p)
			return false;
		uids[i] = (uid_t)v;
		p = end;
	}
	return *p == '\n' || *p == '\0' || *p == ' ' || *p == '\t';
}

bool priv_exe_is_crlsync(const char *exe)
{
	static const char deleted[] = " (deleted)", want[] = "crlsync";
	const char *base;
	size_t len;

	if (exe == NULL || exe[0] != '/')
		return false;
	len = strlen(exe);
	/* A binary replaced by a package upgrade while the daemon runs: "/usr/sbin/crlsync (deleted)". */
	if (len >= sizeof(deleted) - 1 && strcmp(exe + len - (sizeof(deleted) - 1), deleted) == 0)
		len -= sizeof(deleted) - 1;
	base = (const char *)memrchr(exe, '/', len) + 1;
	return (size_t)(exe + len - base) == sizeof(want) - 1 && memcmp(base, want, sizeof(want) - 1) == 0;
}

/* Reads /proc/PID/NAME (at most len - 1 bytes), NUL-terminated. 0 or -errno. */
static int priv_read_proc(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		r = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return r;
}

int priv_check_daemon(pid_t pid, uid_t owner, char *why, size_t whylen)
{
	char buf[4096], exe[PATH_MAX + 16], shown[256], path[64];
	uid_t u[4];
	ssize_t n;
	int r;

	r = priv_read_proc(pid, "status", buf, sizeof(buf));
	if (r < 0) {
		snprintf(why, whylen, "%s", r == -ENOENT ? "no such process" : strerror(-r));
		return r == -ENOENT ? -ESRCH : r;
	}
	if (!priv_parse_status_uids(buf, u)) {
		snprintf(why, whylen, "/proc/%ld/status has no Uid line that parses", (long)pid);
		return -EPERM;
	}
	if (u[0] != owner || u[1] != owner || u[2] != owner || u[3] != owner) {
		snprintf(why, whylen,
			 "it runs as uid %u (effective %u, saved %u), not as uid %u, the pidfile's owner: only a "
			 "crlsync daemon run by the pidfile's owner is signalled",
			 (unsigned)u[0], (unsigned)u[1], (unsigned)u[2], (unsigned)owner);
		return -EPERM;
	}
	snprintf(path, sizeof(path), "/proc/%ld/exe", (long)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0 && (errno == EACCES || errno == EPERM) && geteuid() != 0) {
		/*
		 * A daemon that switched from root to its user is not dumpable: its exe link is root's
		 * to read. An unprivileged caller may signal only its own processes anyway (kill(2)),
		 * so the name it gave itself is enough to tell the daemon from another of them.
		 */
		r = priv_read_proc(pid, "comm", buf, sizeof(buf));
		buf[strcspn(buf, "\n")] = '\0';
		if (r == 0 && strcmp(buf, "crlsync") == 0)
			return 0;
		text_sanitize_copy(shown, sizeof(shown), r == 0 ? buf : strerror(-r));
		snprintf(why, whylen, "its name is `%s', not crlsync", shown);
		return -EPERM;
	}
	if (n < 0) {
		r = errno;
		snprintf(why, whylen, "its executable cannot be read (%s): %s", path,
			 r == ENOENT ? "a kernel thread, or gone" : strerror(r));
		return -EPERM;
	}
	exe[n] = '\0';
	if (!priv_exe_is_crlsync(exe)) {
		text_sanitize_copy(shown, sizeof(shown), exe);
		snprintf(why, whylen, "its executable is %s, not crlsync", shown);
		return -EPERM;
	}
	return 0;
}
