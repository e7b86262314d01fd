/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crlsync daemon: refreshes on schedule; SIGUSR1 refreshes now, SIGHUP re-reads the config, SIGTERM exits. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "crlsync/crl.h"
#include "crlsync/schedule.h"
#include "fetcher.h"
#include "priv.h"
#include "state.h"

/*
 * Opens the pidfile, takes an exclusive flock on it for the daemon's lifetime (kept by the
 * returned descriptor) and only then writes our pid: `refresh' signals a pid only while the file
 * is locked, so a stale pidfile naming a recycled pid is never trusted, and two daemons never
 * truncate each other's file. Returns the descriptor or -errno (-EWOULDBLOCK: another daemon).
 */
static int pidfile_take(const char *path)
{
	char buf[32];
	int fd, n, e;

	/* O_NONBLOCK: a FIFO planted at the path must not hang the start (regular files only). */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	if (fd < 0) {
		e = errno;
		log_error(logger, "cannot open pidfile %s: %s", path, strerror(e));
		return -e;
	}
	{
		struct stat sb;

		if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			log_error(logger, "pidfile %s is not a regular file: not starting", path);
			close(fd);
			return -EINVAL;
		}
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		e = errno;
		if (e == EWOULDBLOCK)
			log_error(logger, "another daemon holds %s: not starting a second one", path);
		else
			log_error(logger, "cannot lock pidfile %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		e = errno ? errno : EIO;
		log_error(logger, "cannot write pidfile %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

/* Logs loudly how the installed CRLs stand; once per pass, so at most once per attempt. */
static void check_health(const struct cfg *cfg, int dirfd, time_t now)
{
	for (size_t i = 0; i < cfg->n_sources; i++) {
		struct src_state st;
		char when[40];

		if (state_load(dirfd, cfg->sources[i].name, &st) != 0 || !st.have_crl || !st.has_next_update) {
			state_clear(&st);
			continue;
		}
		crl_time_str(st.next_update, when, sizeof(when));
		switch (schedule_health(now, st.crl.this_update, st.next_update, true)) {
		case SCHEDULE_EXPIRED:
			log_error(logger, "source %s: the installed CRL number %s EXPIRED at %s; gateways applying "
					  "`expired = reject' now reject its certificates", cfg->sources[i].name,
				  st.crl.number_hex, when);
			break;
		case SCHEDULE_NEAR_EXPIRY:
			log_warn(logger, "source %s: the installed CRL number %s expires at %s (%lld min left) and could "
					 "not be refreshed yet", cfg->sources[i].name, st.crl.number_hex, when,
				 (long long)(st.next_update - now) / 60);
			break;
		case SCHEDULE_FRESH:
			break;
		}
		state_clear(&st);
	}
}

/* Next attempt per source, from the saved state (a new source is due now). */
static void load_schedule(const struct cfg *cfg, int dirfd, time_t *next)
{
	for (size_t i = 0; i < cfg->n_sources; i++) {
		struct src_state st;

		next[i] = 0;
		if (state_load(dirfd, cfg->sources[i].name, &st) == 0 && st.next_attempt > 0)
			next[i] = st.next_attempt;
		state_clear(&st);
	}
}

int daemon_main(int argc, char *argv[])
{
	const char *pidfile = NULL;
	struct cfg *cfg = NULL;
	struct refresh_result *res = NULL;
	time_t *next = NULL;
	bool *due = NULL;
	sigset_t mask;
	int sfd = -1, dirfd = -1, pidfd = -1, rc = 0;
	bool first = true;

	(void)argc; /* options parsed by cli.c, into opts */
	(void)argv;
	if (!opts.no_pidfile)
		pidfile = opts.pidfile != NULL ? opts.pidfile : FETCHER_DEFAULT_PIDFILE; /* the shipped unit's */
	if (opts.syslog)
		logger_use_syslog();
	/* Signals are blocked and read in the loop (signalfd): no handler races the refresh engine. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		log_error(logger, "signalfd: %s", strerror(errno));
		return 1;
	}
	cfg = load_config();
	if (cfg == NULL) {
		rc = EXIT_CONFIG;
		goto out;
	}
	/*
	 * cache-dir first: root switches there to the user who owns it (open_cache_dir), and only
	 * then takes the pidfile, which so belongs to the user the daemon runs as, the one user
	 * `refresh' agrees to signal a daemon of. Its directory must be writable by that user.
	 */
	dirfd = open_cache_dir(cfg);
	if (dirfd < 0) {
		rc = 1;
		goto out;
	}
	if (pidfile != NULL && (pidfd = pidfile_take(pidfile)) < 0) {
		rc = 1;
		pidfile = NULL; /* not ours: never unlinked */
		goto out;
	}
	log_note(logger, "daemon started (pid %ld): %zu source(s), cache-dir %s, interval %lld s", (long)getpid(),
		 cfg->n_sources, cfg->cache_dir, cfg->interval);
reconfigure:
	free(next);
	free(due);
	free(res);
	next = calloc(cfg->n_sources + 1, sizeof(*next));
	due = calloc(cfg->n_sources + 1, sizeof(*due));
	res = calloc(cfg->n_sources + 1, sizeof(*res));
	if (next == NULL || due == NULL || res == NULL) {
		rc = 1;
		goto out;
	}
	/*
	 * No source (the package's template as shipped): nothing to fetch, and nothing fails. Wait for
	 * a SIGHUP (systemctl reload) rather than exit, so that adding a source needs no restart.
	 */
	if (cfg->n_sources == 0)
		log_warn(logger, "no [source] in %s: nothing to fetch; add one, then SIGHUP (systemctl reload crlsync)",
			 opts.config);
	load_schedule(cfg, dirfd, next);
	if (first) {
		/* At start every source is refreshed once, whatever the schedule says. */
		for (size_t i = 0; i < cfg->n_sources; i++)
			next[i] = 0;
		first = false;
	}
	for (;;) {
		struct signalfd_siginfo si;
		time_t now = time(NULL), earliest = 0;
		bool any = false, refresh_all = false;
		int timeout_ms, r;

		for (size_t i = 0; i < cfg->n_sources; i++) {
			due[i] = next[i] <= now;
			any = any || due[i];
			if (i == 0 || next[i] < earliest)
				earliest = next[i];
		}
		if (any) {
			r = refresh_sources(cfg, dirfd, due, sfd, res);
			for (size_t i = 0; i < cfg->n_sources; i++)
				if (due[i])
					next[i] = res[i].next_attempt > now ? res[i].next_attempt : now + SCHEDULE_MIN_DELAY;
			check_health(cfg, dirfd, time(NULL));
			if (r != 0 && r != -EINTR)
				log_error(logger, "refresh pass failed: %s", strerror(-r));
			continue; /* a signal that interrupted the pass is read below on the next round */
		}
		timeout_ms = cfg->n_sources == 0 ? -1
			     : earliest - now > 86400 ? 86400 * 1000
						      : (int)(earliest - now) * 1000;
		{
			struct pollfd pf = { .fd = sfd, .events = POLLIN };

			r = poll(&pf, 1, timeout_ms);
			if (r < 0 && errno != EINTR) {
				log_error(logger, "poll: %s", strerror(errno));
				rc = 1;
				goto out;
			}
		}
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			switch (si.ssi_signo) {
			case SIGTERM:
			case SIGINT:
				log_note(logger, "%s received: exiting", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
				rc = 0;
				goto out;
			case SIGUSR1:
				log_note(logger, "SIGUSR1 received: refreshing every source now");
				refresh_all = true;
				break;
			case SIGHUP: {
				struct cfg *n = load_config();

				if (n == NULL) {
					log_error(logger, "SIGHUP: the new configuration is refused; the old one keeps running");
					break;
				}
				if (strcmp(n->cache_dir, cfg->cache_dir) != 0) {
					int nfd = open_cache_dir(n);

					if (nfd < 0) {
						log_error(logger, "SIGHUP: cannot use the new cache-dir; the old "
								  "configuration keeps running");
						cfg_free(n);
						break;
					}
					close(dirfd);
					dirfd = nfd;
				}
				cfg_free(cfg);
				cfg = n;
				log_note(logger, "SIGHUP: configuration reloaded: %zu source(s)", cfg->n_sources);
				goto reconfigure;
			}
			}
		}
		if (refresh_all)
			for (size_t i = 0; i < cfg->n_sources; i++)
				next[i] = 0;
	}
out:
	if (pidfile != NULL)
		unlink(pidfile); /* while still holding its lock: no other daemon has taken it over */
	if (pidfd >= 0)
		close(pidfd);
	if (dirfd >= 0)
		close(dirfd);
	if (sfd >= 0)
		close(sfd);
	free(next);
	free(due);
	free(res);
	cfg_free(cfg);
	return rc;
}

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
int refresh_main(int argc, char *argv[])
{
	const char *pidfile = FETCHER_DEFAULT_PIDFILE;
	char buf[32], why[512];
	struct stat st;
	long pid = 0;
	ssize_t n;
	int fd, pidfd = -1, r, rc = 1;

	(void)argc; /* options parsed by cli.c, into opts */
	(void)argv;
	if (opts.pidfile != NULL)
		pidfile = opts.pidfile;
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
