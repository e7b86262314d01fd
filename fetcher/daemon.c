/* SPDX-License-Identifier: GPL-2.0-only */
/* crlsync daemon: refreshes on schedule; SIGUSR1 refreshes now, SIGHUP re-reads the config, SIGTERM exits. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crlsync/crl.h"
#include "crlsync/schedule.h"
#include "fetcher.h"
#include "state.h"

/* Writes our pid, refusing when another live daemon holds the file. Returns 0 or -errno. */
static int pidfile_write(const char *path)
{
	char buf[32];
	FILE *f;
	long pid;
	int fd, n;

	f = fopen(path, "re");
	if (f != NULL) {
		if (fscanf(f, "%ld", &pid) == 1 && pid > 0 && pid != getpid() && kill((pid_t)pid, 0) == 0) {
			fclose(f);
			log_error(logger, "pidfile %s names a running process (%ld): another daemon?", path, pid);
			return -EEXIST;
		}
		fclose(f);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		int e = errno;

		log_error(logger, "cannot write pidfile %s: %s", path, strerror(e));
		return -e;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	return 0;
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
		switch (schedule_health(now, st.this_update, st.next_update, true)) {
		case SCHEDULE_EXPIRED:
			log_error(logger, "source %s: the installed CRL number %s EXPIRED at %s; gateways applying "
					  "`expired = reject' now reject its certificates", cfg->sources[i].name,
				  st.number_hex, when);
			break;
		case SCHEDULE_NEAR_EXPIRY:
			log_warn(logger, "source %s: the installed CRL number %s expires at %s (%lld min left) and could "
					 "not be refreshed yet", cfg->sources[i].name, st.number_hex, when,
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
	int sfd = -1, dirfd = -1, rc = 0;
	bool first = true;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc) {
			pidfile = argv[++i];
		} else if (strcmp(argv[i], "--syslog") == 0) {
			opts.syslog = true;
		} else {
			fprintf(stderr, "usage: crlsync [-c FILE] daemon [--pidfile FILE] [--syslog]\n");
			return EXIT_CONFIG;
		}
	}
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
	if (pidfile != NULL && pidfile_write(pidfile) != 0) {
		rc = 1;
		pidfile = NULL;
		goto out;
	}
	dirfd = open_cache_dir(cfg);
	if (dirfd < 0) {
		rc = 1;
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
		unlink(pidfile);
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

int refresh_main(int argc, char *argv[])
{
	const char *pidfile = FETCHER_DEFAULT_PIDFILE;
	long pid = 0;
	FILE *f;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc) {
			pidfile = argv[++i];
		} else {
			fprintf(stderr, "usage: crlsync [-c FILE] refresh [--pidfile FILE]\n");
			return 3;
		}
	}
	f = fopen(pidfile, "re");
	if (f == NULL) {
		fprintf(stderr, "crlsync: cannot read pidfile %s: %s (is the daemon running with --pidfile?)\n", pidfile,
			strerror(errno));
		return 1;
	}
	if (fscanf(f, "%ld", &pid) != 1 || pid <= 1) {
		fclose(f);
		fprintf(stderr, "crlsync: pidfile %s holds no pid\n", pidfile);
		return 1;
	}
	fclose(f);
	if (kill((pid_t)pid, SIGUSR1) != 0) {
		fprintf(stderr, "crlsync: cannot signal the daemon (pid %ld): %s\n", pid, strerror(errno));
		return 1;
	}
	printf("crlsync: asked the daemon (pid %ld) to refresh every source\n", pid);
	return 0;
}
