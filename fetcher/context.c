/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The context of one crlsync run: its log sinks (stderr, the journal, syslog) and the preamble the subcommands share. */
#include "fetcher.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "crlsync/cachedir.h"
#include "priv.h"

/*
 * `stderr' when it is the journal: every line it is given starts with "<3>" (an error), written to
 * the journal's own stream, f->journal_fd. The sink writes its own prefixes there directly.
 */
static ssize_t journal_write(void *cookie, const char *buf, size_t len)
{
	struct fetcher *f = cookie;

	for (size_t i = 0; i < len;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) + 1 : len - i; /* up to and with the newline, or the rest */

		if (f->journal_line_start)
			fputs(log_sd_prefix(LOG_LVL_ERROR), f->journal_fd);
		fwrite(buf + i, 1, n, f->journal_fd);
		f->journal_line_start = nl != NULL;
		i += n;
	}
	fflush(f->journal_fd);
	return (ssize_t)len;
}

static void journal_stderr(struct fetcher *f)
{
	FILE *s;

	f->journal = log_stderr_is_journal();
	if (!f->journal)
		return;
	f->journal_fd = stderr;
	f->journal_line_start = true;
	s = fopencookie(f, "w", (cookie_io_functions_t){ .write = journal_write });
	if (s == NULL)
		return; /* the sink's lines keep their prefixes; direct ones go without */
	setvbuf(s, NULL, _IOLBF, 0);
	stderr = s;
}

/* -q keeps errors only (cron mails what is left); debug lines need -v. */
static bool wanted(const struct fetcher *f, enum log_level level)
{
	return !(level == LOG_LVL_DEBUG && f->opts.verbose < 1) && !(f->opts.quiet && level != LOG_LVL_ERROR);
}

static void stderr_sink(void *ctx, enum log_level level, const char *line)
{
	static const char *const tag[] = { "error: ", "warning: ", "", "", "debug: " };
	const struct fetcher *f = ctx;

	if (!wanted(f, level))
		return;
	if (f->journal)
		fprintf(f->journal_fd, "%scrlsync: %s%s\n", log_sd_prefix(level), tag[level], line);
	else
		fprintf(stderr, "crlsync: %s%s\n", tag[level], line);
}

static void syslog_sink(void *ctx, enum log_level level, const char *line)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

	if (!wanted(ctx, level))
		return;
	syslog(prio[level], "%s", line);
}

void fetcher_init(struct fetcher *f)
{
	memset(f, 0, sizeof(*f));
	f->opts.config = FETCHER_DEFAULT_CONFIG;
	f->log = (struct log_sink){ stderr_sink, f };
	journal_stderr(f);
}

void fetcher_use_syslog(struct fetcher *f)
{
	openlog("crlsync", LOG_PID, LOG_DAEMON);
	f->log = (struct log_sink){ syslog_sink, f };
}

/* Loads -c's configuration into *cfg; err says why not. */
static bool load(const struct fetcher *f, struct cfg **cfg, char *err, size_t errlen)
{
	return cfg_load(f->opts.config, cfg, err, errlen);
}

struct cfg *fetcher_load_config(struct fetcher *f)
{
	struct cfg *cfg = NULL;
	char err[768];

	if (!load(f, &cfg, err, sizeof(err))) {
		log_error(&f->log, "%s", err);
		return NULL;
	}
	return cfg;
}

int fetcher_open_cache_dir(struct fetcher *f, const struct cfg *cfg)
{
	struct stat st;
	int fd, r;

	r = cachedir_create(cfg->global.cache_dir);
	if (r < 0) {
		log_error(&f->log, "cannot create cache-dir %s: %s", cfg->global.cache_dir, strerror(-r));
		return r;
	}
	fd = cachedir_open(cfg->global.cache_dir);
	if (fd < 0) {
		log_error(&f->log, "cannot open cache-dir %s: %s", cfg->global.cache_dir, strerror(-fd));
		return fd;
	}
	/*
	 * Root working in a directory of the fetcher's user would leave root's 0600 state there, which
	 * the daemon, run as that user, can then neither read nor replace (issue 10, item 9). The
	 * configuration and its `ca' files are read by now: switch to the owner before anything in
	 * the directory is created or opened. Once: a daemon that kept root at start (root's own
	 * cache-dir) refuses a SIGHUP to another user's directory rather than switch mid-run (its
	 * pidfile would belong to root, and `refresh' would no longer signal it).
	 */
	if (f->cache_dir_decided && geteuid() == 0 && fstat(fd, &st) == 0 && st.st_uid != 0) {
		log_error(&f->log, "cache-dir %s belongs to uid %u, but this process runs as root and started with root's "
				   "cache-dir: restart it to work as that user",
			  cfg->global.cache_dir, (unsigned)st.st_uid);
		close(fd);
		return -EPERM;
	}
	f->cache_dir_decided = true;
	r = priv_drop_to_dir_owner(fd, cfg->global.cache_dir, &f->log);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int fetcher_begin(struct fetcher *f, enum fetcher_access access, struct fetcher_run *run)
{
	memset(run, 0, sizeof(*run));
	run->dirfd = -1;
	if (!load(f, &run->cfg, run->err, sizeof(run->err))) {
		run->cfg = NULL;
		if (access != FETCHER_READ)
			log_error(&f->log, "%s", run->err);
		return EXIT_CONFIG;
	}
	switch (access) {
	case FETCHER_CONFIG:
		return EXIT_OK;
	case FETCHER_READ:
		run->dirfd = cachedir_open(run->cfg->global.cache_dir);
		if (run->dirfd < 0)
			run->dir_err = run->dirfd;
		break;
	case FETCHER_WRITE:
		run->dirfd = fetcher_open_cache_dir(f, run->cfg);
		if (run->dirfd < 0)
			run->dir_err = run->dirfd; /* logged */
		break;
	}
	if (run->dir_err != 0) {
		run->dirfd = -1;
		snprintf(run->err, sizeof(run->err), "cannot open cache-dir %s: %s", run->cfg->global.cache_dir,
			 strerror(-run->dir_err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

void fetcher_end(struct fetcher_run *run)
{
	if (run->dirfd >= 0)
		close(run->dirfd);
	run->dirfd = -1;
	cfg_free(run->cfg);
	run->cfg = NULL;
}
