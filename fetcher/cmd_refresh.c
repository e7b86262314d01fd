/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crlsync refresh: asks the running daemon (its locked pidfile) to refresh every source now, with SIGUSR1. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fetcher.h"
#include "priv.h"

/* pidfd_open(2) and pidfd_send_signal(2) (Linux 5.1/5.3) through syscall(): glibc before 2.36 has no wrappers. */
static int refresh_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static int refresh_pidfd_signal(int pidfd, int sig)
{
#ifdef SYS_pidfd_send_signal
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
#else
	(void)pidfd;
	(void)sig;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * The pidfile sits in a directory of the fetcher's user, and `refresh' may run as root (charon's
 * unit, cron): whoever owns the pidfile chooses the pid. So a pid is signalled only when it is a
 * crlsync daemon that the pidfile's owner runs (priv_check_daemon), and root first becomes that
 * owner, so that kill(2)'s own rule forbids signalling anyone else's process (issue 10, item 1).
 * The process is held by a pidfd from before the checks to the signal: a pid recycled in between
 * gets nothing (ESRCH).
 */
int refresh_main(struct fetcher *f, int argc, char *argv[])
{
	const char *pidfile = FETCHER_DEFAULT_PIDFILE;
	char buf[32], why[512];
	struct stat st;
	long pid = 0;
	ssize_t n;
	int fd, pidfd = -1, r, rc = 1;

	(void)argc; /* options parsed by cli.c, into f->opts */
	(void)argv;
	if (f->opts.pidfile != NULL)
		pidfile = f->opts.pidfile;
	/* O_NONBLOCK: a FIFO put there would otherwise block the open for good. */
	fd = open(pidfile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		fprintf(stderr, "crlsync: cannot read pidfile %s: %s (is the daemon running with --pidfile?)\n", pidfile,
			strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "crlsync: pidfile %s is not a regular file; nothing signalled\n", pidfile);
		goto out;
	}
	/*
	 * The daemon holds an exclusive flock on its pidfile for as long as it runs. If a shared one is
	 * granted, nobody holds it: the pid in it is stale and may belong to any process by now.
	 */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		fprintf(stderr, "crlsync: no daemon is running (stale pidfile %s); nothing signalled\n", pidfile);
		goto out;
	}
	if (errno != EWOULDBLOCK) {
		fprintf(stderr, "crlsync: cannot check the lock of pidfile %s: %s\n", pidfile, strerror(errno));
		goto out;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n > 0)
		buf[n] = '\0';
	if (n <= 0 || sscanf(buf, "%ld", &pid) != 1 || pid <= 1 || pid != (long)(pid_t)pid) {
		fprintf(stderr, "crlsync: pidfile %s holds no pid (is the daemon still starting?)\n", pidfile);
		goto out;
	}
	pidfd = refresh_pidfd_open((pid_t)pid);
	if (pidfd < 0 && errno != ENOSYS) {
		fprintf(stderr, "crlsync: pid %ld of pidfile %s: %s; nothing signalled\n", pid, pidfile,
			errno == ESRCH ? "no such process" : strerror(errno));
		goto out;
	}
	r = priv_check_daemon((pid_t)pid, st.st_uid, why, sizeof(why));
	if (r != 0) {
		fprintf(stderr, "crlsync: refusing to signal pid %ld of pidfile %s (owned by uid %u): %s; nothing signalled\n",
			pid, pidfile, (unsigned)st.st_uid, why);
		goto out;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		r = priv_drop_to(st.st_uid, st.st_gid, why, sizeof(why));
		if (r != 0) {
			fprintf(stderr, "crlsync: cannot become uid %u, the owner of pidfile %s, to signal pid %ld: %s; "
					"nothing signalled\n", (unsigned)st.st_uid, pidfile, pid, why);
			goto out;
		}
	}
	if ((pidfd >= 0 ? refresh_pidfd_signal(pidfd, SIGUSR1) : kill((pid_t)pid, SIGUSR1)) != 0) {
		fprintf(stderr, "crlsync: cannot signal the daemon (pid %ld): %s\n", pid, strerror(errno));
		goto out;
	}
	printf("crlsync: asked the daemon (pid %ld) to refresh every source\n", pid);
	rc = 0;
out:
	if (pidfd >= 0)
		close(pidfd);
	close(fd);
	return rc;
}
