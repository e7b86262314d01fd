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
#include <unistd.h>

#include "crlsync/crl.h"
#include "crlsync/fmt.h"
#include "crlsync/schedule.h"
#include "charon.h"
#include "fetcher.h"
#include "monitor.h"
#include "refresh.h"
#include "state.h"
#include "vici.h"

/*
 * strongSwan: charon forgets every CRL it was given when it restarts (an upgrade, a crash,
 * `systemctl restart strongswan`). The daemon keeps one idle vici connection open and polls it:
 * charon closing it is the restart's first sign. It then reconnects every CHARON_RECONNECT_MIN_S
 * doubling to CHARON_RECONNECT_MAX_S (a failed connect to a unix socket costs nothing; the cap
 * keeps the re-hand within a few seconds of charon answering again) and, once connected, hands
 * every CRL over again. A hand-over that fails (refused, timed out, no authority) is retried after
 * CHARON_RETRY_MIN_S doubling to CHARON_RETRY_MAX_S, not left to the next scheduled pass.
 */
#define CHARON_RECONNECT_MIN_S 1
#define CHARON_RECONNECT_MAX_S 4
#define CHARON_RETRY_MIN_S 1
#define CHARON_RETRY_MAX_S 60
#define CHARON_WATCH_TIMEOUT_MS 1000

struct charon_watch {
	const struct log_sink *log; /* the run's */
	struct vici_conn *conn; /* idle, NULL while charon is away (or no [strongswan] vici) */
	char *uri;              /* what conn is connected to */
	time_t next_connect;
	unsigned backoff;       /* seconds until the next connect attempt after a failed one */
	bool renew;             /* charon was away (or never reached): hand everything over on connect */
	bool told_absent;       /* "cannot reach" logged once per absence */
	/* per source: a hand-over to retry at retry_at[i] (0: none), after fails[i] failures */
	time_t *retry_at;
	unsigned *fails;
	bool *which, *ok;
};

static void watch_close(struct charon_watch *w)
{
	vici_close(w->conn);
	w->conn = NULL;
}

static void watch_free(struct charon_watch *w)
{
	watch_close(w);
	free(w->uri);
	free(w->retry_at);
	free(w->fails);
	free(w->which);
	free(w->ok);
	memset(w, 0, sizeof(*w));
}

/* Sizes the per-source arrays for cfg (after a start or a SIGHUP). Returns false on ENOMEM. */
static bool watch_configure(struct charon_watch *w, const struct cfg *cfg)
{
	size_t n = cfg->n_sources + 1;
	bool same = w->uri != NULL && cfg->strongswan.vici != NULL && strcmp(w->uri, cfg->strongswan.vici) == 0;

	free(w->retry_at);
	free(w->fails);
	free(w->which);
	free(w->ok);
	w->retry_at = calloc(n, sizeof(*w->retry_at));
	w->fails = calloc(n, sizeof(*w->fails));
	w->which = calloc(n, sizeof(*w->which));
	w->ok = calloc(n, sizeof(*w->ok));
	if (!same) {
		/* Another charon (or none): what the old one held says nothing about it. */
		watch_close(w);
		free(w->uri);
		w->uri = cfg->strongswan.vici ? strdup(cfg->strongswan.vici) : NULL;
		w->next_connect = 0;
		w->backoff = CHARON_RECONNECT_MIN_S;
		w->renew = false;
		w->told_absent = false;
		if (cfg->strongswan.vici != NULL && w->uri == NULL)
			return false;
	}
	return w->retry_at && w->fails && w->which && w->ok;
}

/* Connects the idle connection when it is time. On a connection after an absence, every source is due. */
static void watch_connect(struct charon_watch *w, const struct cfg *cfg, time_t now)
{
	int r;

	if (w->uri == NULL || w->conn != NULL || now < w->next_connect)
		return;
	r = vici_connect(w->uri, CHARON_WATCH_TIMEOUT_MS, &w->conn);
	if (r != 0) {
		if (!w->told_absent)
			log_warn(w->log, "charon at %s cannot be reached (%s): trying again every %d s, and every CRL is "
					 "handed over as soon as it answers", w->uri, strerror(-r), CHARON_RECONNECT_MAX_S);
		w->told_absent = true;
		w->renew = true;
		w->next_connect = now + w->backoff;
		w->backoff = w->backoff * 2 > CHARON_RECONNECT_MAX_S ? CHARON_RECONNECT_MAX_S : w->backoff * 2;
		return;
	}
	w->backoff = CHARON_RECONNECT_MIN_S;
	w->told_absent = false;
	if (!w->renew)
		return; /* the first connection at start: the first pass hands everything over */
	log_note(w->log, "charon at %s answers: handing every CRL over again", w->uri);
	for (size_t i = 0; i < cfg->n_sources; i++) {
		w->retry_at[i] = now; /* due at once; `renew' stays set until that hand-over (watch_handover) */
		w->fails[i] = 0;
	}
}

/* The idle connection became readable: charon closed it (or said something out of turn). */
static void watch_check(struct charon_watch *w, time_t now)
{
	int r = vici_check_idle(w->conn);

	if (r == 0)
		return;
	log_warn(w->log, "charon at %s %s: reconnecting; every CRL is handed over again once it answers", w->uri,
		 r == -ECONNRESET ? "closed its vici connection (stopped or restarting)" : strerror(-r));
	watch_close(w);
	w->renew = true;
	w->backoff = CHARON_RECONNECT_MIN_S;
	w->next_connect = now + CHARON_RECONNECT_MIN_S;
}

/* Retry delay after `fails` failed hand-overs in a row: 1, 2, 4, ... 60 s. */
static time_t watch_retry_delay(unsigned fails)
{
	time_t d = CHARON_RETRY_MIN_S;

	for (unsigned i = 1; i < fails && d < CHARON_RETRY_MAX_S; i++)
		d *= 2;
	return d > CHARON_RETRY_MAX_S ? CHARON_RETRY_MAX_S : d;
}

/* Records the outcome of hand-overs of a pass (or of a retry): failures are retried with backoff. */
static void watch_outcome(struct charon_watch *w, size_t i, bool ok, time_t now)
{
	if (ok) {
		w->retry_at[i] = 0;
		w->fails[i] = 0;
		return;
	}
	w->fails[i]++;
	w->retry_at[i] = now + watch_retry_delay(w->fails[i]);
}

/* Hands over again what is due, while charon is connected. Returns -EINTR on SIGTERM, else 0. */
static int watch_handover(struct charon_watch *w, const struct cfg *cfg, int dirfd, int abort_fd, time_t now)
{
	bool any = false;
	int r;

	if (w->uri == NULL || w->conn == NULL)
		return 0; /* away: the reconnection makes everything due */
	for (size_t i = 0; i < cfg->n_sources; i++) {
		w->which[i] = w->retry_at[i] != 0 && w->retry_at[i] <= now;
		any = any || w->which[i];
	}
	if (!any)
		return 0;
	r = refresh_charon(w->log, cfg, dirfd, w->which, w->renew, abort_fd, w->ok);
	if (r == -EINTR)
		return r;
	w->renew = false;
	now = time(NULL);
	for (size_t i = 0; i < cfg->n_sources; i++)
		if (w->which[i])
			watch_outcome(w, i, r == 0 && w->ok[i], now);
	return 0;
}

/*
 * Opens the pidfile, takes an exclusive flock on it for the daemon's lifetime (kept by the
 * returned descriptor) and only then writes our pid: `refresh' signals a pid only while the file
 * is locked, so a stale pidfile naming a recycled pid is never trusted, and two daemons never
 * truncate each other's file. Returns the descriptor or -errno (-EWOULDBLOCK: another daemon).
 */
static int pidfile_take(const struct log_sink *log, const char *path)
{
	char buf[32];
	int fd, n, e;

	/* O_NONBLOCK: a FIFO planted at the path must not hang the start (regular files only). */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	if (fd < 0) {
		e = errno;
		log_error(log, "cannot open pidfile %s: %s", path, strerror(e));
		return -e;
	}
	{
		struct stat sb;

		if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			log_error(log, "pidfile %s is not a regular file: not starting", path);
			close(fd);
			return -EINVAL;
		}
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		e = errno;
		if (e == EWOULDBLOCK)
			log_error(log, "another daemon holds %s: not starting a second one", path);
		else
			log_error(log, "cannot lock pidfile %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		e = errno ? errno : EIO;
		log_error(log, "cannot write pidfile %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

/* Logs loudly how the installed CRLs stand; once per pass, so at most once per attempt. */
static void check_health(const struct log_sink *log, const struct cfg *cfg, int dirfd, time_t now)
{
	for (size_t i = 0; i < cfg->n_sources; i++) {
		struct src_state st;
		char when[40];

		if (state_load(dirfd, cfg->sources[i].name, &st) != 0 || !st.have_crl || !st.has_next_update) {
			state_clear(&st);
			continue;
		}
		fmt_time(st.next_update, when, sizeof(when));
		switch (schedule_health(now, st.crl.this_update, st.next_update, true)) {
		case SCHEDULE_EXPIRED:
			log_error(log, "source %s: the installed CRL number %s EXPIRED at %s; gateways applying "
					  "`expired = reject' now reject its certificates", cfg->sources[i].name,
				  st.crl.number_hex, when);
			break;
		case SCHEDULE_NEAR_EXPIRY:
			log_warn(log, "source %s: the installed CRL number %s expires at %s (%lld min left) and could "
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

int daemon_main(struct fetcher *f, int argc, char *argv[])
{
	const struct log_sink *log = &f->log;
	struct fetcher_run run;
	const char *pidfile = NULL;
	struct cfg *cfg = NULL;
	struct refresh_result *res = NULL;
	time_t *next = NULL;
	bool *due = NULL;
	struct charon_watch watch = { .log = &f->log };
	sigset_t mask, term;
	int sfd = -1, tfd = -1, dirfd = -1, pidfd = -1, rc = 0;
	bool first = true;

	(void)argc; /* options parsed by cli.c, into f->opts */
	(void)argv;
	if (!f->opts.no_pidfile)
		pidfile = f->opts.pidfile != NULL ? f->opts.pidfile : FETCHER_DEFAULT_PIDFILE; /* the shipped unit's */
	if (f->opts.syslog)
		fetcher_use_syslog(f);
	/* Signals are blocked and read in the loop (signalfd): no handler races the refresh engine. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	/*
	 * A second signalfd that only SIGTERM and SIGINT make readable: transfers in flight and
	 * hand-overs are abandoned for these alone. SIGUSR1 (and SIGHUP) wait for the pass to end and
	 * are read then (issue 13: one SIGUSR1 a second aborted every 3-s download). Both descriptors
	 * see the same pending signals; only the loop reads them, from sfd.
	 */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	tfd = signalfd(-1, &term, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || tfd < 0) {
		log_error(log, "signalfd: %s", strerror(errno));
		rc = 1;
		goto out;
	}
	/*
	 * cache-dir first: root switches there to the user who owns it (fetcher_open_cache_dir), and
	 * only then takes the pidfile, which so belongs to the user the daemon runs as, the one user
	 * `refresh' agrees to signal a daemon of. Its directory must be writable by that user.
	 */
	rc = fetcher_begin(f, FETCHER_WRITE, &run);
	cfg = run.cfg; /* both replaced on SIGHUP, and released at the end */
	dirfd = run.dirfd;
	run.cfg = NULL;
	run.dirfd = -1;
	if (rc != EXIT_OK)
		goto out; /* EXIT_CONFIG, or EXIT_FAIL: no cache-dir */
	if (pidfile != NULL && (pidfd = pidfile_take(log, pidfile)) < 0) {
		rc = 1;
		pidfile = NULL; /* not ours: never unlinked */
		goto out;
	}
	log_note(log, "daemon started (pid %ld): %zu source(s), cache-dir %s, interval %lld s", (long)getpid(),
		 cfg->n_sources, cfg->global.cache_dir, cfg->global.interval);
reconfigure:
	free(next);
	free(due);
	free(res);
	next = calloc(cfg->n_sources + 1, sizeof(*next));
	due = calloc(cfg->n_sources + 1, sizeof(*due));
	res = calloc(cfg->n_sources + 1, sizeof(*res));
	if (next == NULL || due == NULL || res == NULL || !watch_configure(&watch, cfg)) {
		rc = 1;
		goto out;
	}
	/*
	 * No source (the package's template as shipped): nothing to fetch, and nothing fails. Wait for
	 * a SIGHUP (systemctl reload) rather than exit, so that adding a source needs no restart.
	 */
	if (cfg->n_sources == 0)
		log_warn(log, "no [source] in %s: nothing to fetch; add one, then SIGHUP (systemctl reload crlsync)",
			 f->opts.config);
	load_schedule(cfg, dirfd, next);
	if (first) {
		/* At start every source is refreshed once, whatever the schedule says. */
		for (size_t i = 0; i < cfg->n_sources; i++)
			next[i] = 0;
		first = false;
	} else {
		/* SIGHUP: hand-overs waiting for a retry were per source of the old configuration; check
		 * every source with charon once now (list-certs: nothing is loaded again that it holds). */
		for (size_t i = 0; watch.uri != NULL && i < cfg->n_sources; i++)
			watch.retry_at[i] = time(NULL);
	}
	for (;;) {
		struct signalfd_siginfo si;
		time_t now = time(NULL), earliest = 0;
		bool any = false, refresh_all = false, wake = false;
		int timeout_ms, r;

		watch_connect(&watch, cfg, now);
		for (size_t i = 0; i < cfg->n_sources; i++) {
			due[i] = next[i] <= now;
			any = any || due[i];
			if (!wake || next[i] < earliest)
				earliest = next[i];
			wake = true;
		}
		if (any) {
			r = refresh_sources(log, cfg, dirfd, due, tfd, res);
			for (size_t i = 0; i < cfg->n_sources; i++) {
				if (!due[i])
					continue;
				next[i] = res[i].next_attempt > now ? res[i].next_attempt : now + SCHEDULE_MIN_DELAY;
				if (r == 0)
					watch_outcome(&watch, i, res[i].charon_ok, time(NULL));
			}
			check_health(log, cfg, dirfd, time(NULL));
			metrics_write_file(log, cfg, dirfd); /* [global] metrics-file: after every pass */
			if (r != 0 && r != -EINTR)
				log_error(log, "refresh pass failed: %s", strerror(-r));
			continue; /* a signal that came during the pass is read below on the next round */
		}
		if (watch_handover(&watch, cfg, dirfd, tfd, now) == -EINTR)
			goto signals;
		/* Wake for the next pass, the next reconnection, or the next hand-over retry. */
		if (watch.uri != NULL && watch.conn == NULL) {
			if (!wake || watch.next_connect < earliest)
				earliest = watch.next_connect;
			wake = true;
		}
		for (size_t i = 0; watch.conn != NULL && i < cfg->n_sources; i++) {
			if (watch.retry_at[i] != 0 && (!wake || watch.retry_at[i] < earliest)) {
				earliest = watch.retry_at[i];
				wake = true;
			}
		}
		now = time(NULL);
		timeout_ms = !wake ? -1 : earliest <= now ? 0 : earliest - now > 86400 ? 86400 * 1000
										: (int)(earliest - now) * 1000;
		{
			struct pollfd pf[2] = { { .fd = sfd, .events = POLLIN },
						{ .fd = watch.conn ? vici_fd(watch.conn) : -1, .events = POLLIN } };

			r = poll(pf, 2, timeout_ms);
			if (r < 0 && errno != EINTR) {
				log_error(log, "poll: %s", strerror(errno));
				rc = 1;
				goto out;
			}
			if (r > 0 && pf[1].revents != 0)
				watch_check(&watch, time(NULL));
		}
signals:
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			switch (si.ssi_signo) {
			case SIGTERM:
			case SIGINT:
				log_note(log, "%s received: exiting", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
				rc = 0;
				goto out;
			case SIGUSR1:
				/* Pending SIGUSR1s merge into one; one that came during a pass is read only
				 * after it: the transfers finished, and this pass starts right after. */
				log_note(log, "SIGUSR1 received: refreshing every source now");
				refresh_all = true;
				break;
			case SIGHUP: {
				struct cfg *n = fetcher_load_config(f);

				if (n == NULL) {
					log_error(log, "SIGHUP: the new configuration is refused; the old one keeps running");
					break;
				}
				if (strcmp(n->global.cache_dir, cfg->global.cache_dir) != 0) {
					int nfd = fetcher_open_cache_dir(f, n);

					if (nfd < 0) {
						log_error(log, "SIGHUP: cannot use the new cache-dir; the old "
								  "configuration keeps running");
						cfg_free(n);
						break;
					}
					close(dirfd);
					dirfd = nfd;
				}
				cfg_free(cfg);
				cfg = n;
				log_note(log, "SIGHUP: configuration reloaded: %zu source(s)", cfg->n_sources);
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
	if (tfd >= 0)
		close(tfd);
	watch_free(&watch);
	free(next);
	free(due);
	free(res);
	cfg_free(cfg);
	return rc;
}
