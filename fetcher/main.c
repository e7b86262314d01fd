/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crlsync: main(), what each subcommand runs (cli.c parses the command line), and the process' logging. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <curl/curl.h>

#include "fetcher.h"
#include "monitor.h"
#include "priv.h"

/*
 * Whether stderr is the journal (systemd): then every line starts with its sd-daemon priority.
 * The log sink writes its own ("<4>crlsync: warning: ..."), straight to fd 2 through `journal_fd';
 * `stderr' itself becomes a stream that starts each line with "<3>": what the subcommands print
 * there directly (usage, refresh's refusals, check's file errors) is an error.
 */
static bool journal;
static FILE *journal_fd;

static ssize_t journal_write(void *cookie, const char *buf, size_t len)
{
	static bool line_start = true;

	(void)cookie;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) + 1 : len - i; /* up to and with the newline, or the rest */

		if (line_start)
			fputs(log_sd_prefix(LOG_LVL_ERROR), journal_fd);
		fwrite(buf + i, 1, n, journal_fd);
		line_start = nl != NULL;
		i += n;
	}
	fflush(journal_fd);
	return (ssize_t)len;
}

static void journal_stderr(void)
{
	FILE *f;

	journal = log_stderr_is_journal();
	if (!journal)
		return;
	journal_fd = stderr;
	f = fopencookie(NULL, "w", (cookie_io_functions_t){ .write = journal_write });
	if (f == NULL)
		return; /* the sink's lines keep their prefixes; direct ones go without */
	setvbuf(f, NULL, _IOLBF, 0);
	stderr = f;
}

/* -q keeps errors only (cron mails what is left); debug lines need -v. */
static bool wanted(enum log_level level)
{
	return !(level == LOG_LVL_DEBUG && opts.verbose < 1) && !(opts.quiet && level != LOG_LVL_ERROR);
}

static void stderr_sink(void *ctx, enum log_level level, const char *line)
{
	static const char *const tag[] = { "error: ", "warning: ", "", "", "debug: " };

	(void)ctx;
	if (!wanted(level))
		return;
	if (journal)
		fprintf(journal_fd, "%scrlsync: %s%s\n", log_sd_prefix(level), tag[level], line);
	else
		fprintf(stderr, "crlsync: %s%s\n", tag[level], line);
}

static void syslog_sink(void *ctx, enum log_level level, const char *line)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

	(void)ctx;
	if (!wanted(level))
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

/* What each subcommand runs, in cli.h's order. */
static int (*const command_main[CLI_CMD_COUNT])(int argc, char *argv[]) = {
	[CLI_CMD_FETCH] = fetch_main,   [CLI_CMD_DAEMON] = daemon_main, [CLI_CMD_REFRESH] = refresh_main,
	[CLI_CMD_STATUS] = status_main, [CLI_CMD_CHECK] = check_main,   [CLI_CMD_VERIFY] = verify_main,
	[CLI_CMD_HEALTH] = health_main,
};

int main(int argc, char *argv[])
{
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	struct cli c;
	int r;

	if (args == NULL) {
		fprintf(stderr, "crlsync: out of memory\n");
		return EXIT_FAIL;
	}
	journal_stderr();
	switch (cli_parse(argc, argv, &opts, &c, args)) {
	case CLI_VERSION:
		printf("crlsync %s\n", CRLSYNC_VERSION);
		r = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
		goto out;
	case CLI_HELP:
		cli_help(stdout, c.cmd);
		r = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
		goto out;
	case CLI_ERROR:
		fprintf(stderr, "crlsync: %s\n", c.err);
		cli_usage(stderr, c.cmd);
		fprintf(stderr, "Try `crlsync help%s%s'.\n", c.cmd != CLI_CMD_NONE ? " " : "",
			c.cmd != CLI_CMD_NONE ? cli_cmd_name(c.cmd) : "");
		r = EXIT_USAGE;
		goto out;
	case CLI_RUN:
		break;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error(logger, "cannot initialise libcurl");
		r = EXIT_FAIL;
		goto out;
	}
	r = command_main[c.cmd](c.n_args, c.args);
	curl_global_cleanup();
out:
	free(args);
	return r;
}
