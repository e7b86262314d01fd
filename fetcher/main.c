/* SPDX-License-Identifier: GPL-2.0-only */
/* crlsync: the subcommand table, common options and the process' logging. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <curl/curl.h>

#include "fetcher.h"
#include "priv.h"

struct options opts = { .config = FETCHER_DEFAULT_CONFIG };

static void stderr_sink(void *ctx, enum log_level level, const char *line)
{
	static const char *const tag[] = { "error: ", "warning: ", "", "", "debug: " };

	(void)ctx;
	if (level == LOG_LVL_DEBUG && opts.verbose < 1)
		return;
	fprintf(stderr, "crlsync: %s%s\n", tag[level], line);
}

static void syslog_sink(void *ctx, enum log_level level, const char *line)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

	(void)ctx;
	if (level == LOG_LVL_DEBUG && opts.verbose < 1)
		return;
	syslog(prio[level], "%s", line);
}

static const struct log_sink stderr_log = { stderr_sink, NULL };
static const struct log_sink syslog_log = { syslog_sink, NULL };
const struct log_sink *logger = &stderr_log;

void logger_use_syslog(void)
{
	openlog("crlsync", LOG_PID, LOG_DAEMON);
	logger = &syslog_log;
}

struct cfg *load_config(void)
{
	struct cfg *cfg = NULL;
	char err[768];

	if (!cfg_load(opts.config, &cfg, err, sizeof(err))) {
		log_error(logger, "%s", err);
		return NULL;
	}
	return cfg;
}

int open_cache_dir(const struct cfg *cfg)
{
	/* Whether a first cache-dir was opened: the user to work as is decided then, once. */
	static bool decided;
	struct stat st;
	int fd, r;

	if (mkdir(cfg->cache_dir, 0755) != 0 && errno != EEXIST) {
		r = -errno;
		log_error(logger, "cannot create cache-dir %s: %s", cfg->cache_dir, strerror(-r));
		return r;
	}
	fd = open(cfg->cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		log_error(logger, "cannot open cache-dir %s: %s", cfg->cache_dir, strerror(e));
		return -e;
	}
	/*
	 * Root working in a directory of the fetcher's user would leave root's 0600 state there, which
	 * the daemon, run as that user, can then neither read nor replace (issue 10, item 9). The
	 * configuration and its `ca' files are read by now: switch to the owner before anything in
	 * the directory is created or opened. Once: a daemon that kept root at start (root's own
	 * cache-dir) refuses a SIGHUP to another user's directory rather than switch mid-run (its
	 * pidfile would belong to root, and `refresh' would no longer signal it).
	 */
	if (decided && geteuid() == 0 && fstat(fd, &st) == 0 && st.st_uid != 0) {
		log_error(logger, "cache-dir %s belongs to uid %u, but this process runs as root and started with root's "
				  "cache-dir: restart it to work as that user",
			  cfg->cache_dir, (unsigned)st.st_uid);
		close(fd);
		return -EPERM;
	}
	decided = true;
	r = priv_drop_to_dir_owner(fd, cfg->cache_dir, logger);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char *argv[]);
	const char *help;
} commands[] = {
	{ "fetch", fetch_main, "fetch                      one pass over every source, then exit" },
	{ "daemon", daemon_main, "daemon [--pidfile F] [--syslog]   stay in the foreground, refresh on schedule" },
	{ "refresh", refresh_main, "refresh [--pidfile F]      ask the running daemon to refresh every source now" },
	{ "status", status_main, "status [--json]            per source: installed CRL, last attempt, next attempt" },
	{ "check", check_main, "check CERT...              is any certificate revoked by the installed CRLs?" },
	{ "verify", verify_main, "verify CRLFILE --ca CAFILE verify a CRL file and print its summary" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: crlsync [-c FILE] [-v] COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].help);
	fprintf(f, "\n  -c FILE   configuration (default %s)\n", FETCHER_DEFAULT_CONFIG);
}

int main(int argc, char *argv[])
{
	int i = 1, r;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			opts.config = argv[++i];
		} else if (strcmp(argv[i], "-v") == 0) {
			opts.verbose++;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "crlsync: unknown option `%s'\n", argv[i]);
			usage(stderr);
			return 3;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 3;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name) != 0)
			continue;
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			fprintf(stderr, "crlsync: cannot initialise libcurl\n");
			return 1;
		}
		r = commands[c].fn(argc - i, argv + i);
		curl_global_cleanup();
		return r;
	}
	fprintf(stderr, "crlsync: unknown command `%s'\n", argv[i]);
	usage(stderr);
	return 3;
}
