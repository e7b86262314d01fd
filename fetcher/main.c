/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crlsync: main(), and the table of what each subcommand runs (cli.c parses the command line, context.c sets up the run). */
#include <stdio.h>
#include <stdlib.h>
#include <curl/curl.h>

#include "fetcher.h"

/* What each subcommand runs, in cli.h's order; each gets the run's context (fetcher.h). */
static int (*const command_main[CLI_CMD_COUNT])(struct fetcher *f, int argc, char *argv[]) = {
	[CLI_CMD_FETCH] = fetch_main,   [CLI_CMD_DAEMON] = daemon_main, [CLI_CMD_REFRESH] = refresh_main,
	[CLI_CMD_STATUS] = status_main, [CLI_CMD_CHECK] = check_main,   [CLI_CMD_VERIFY] = verify_main,
	[CLI_CMD_HEALTH] = health_main,
};

int main(int argc, char *argv[])
{
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	struct fetcher f;
	struct cli c;
	int r;

	if (args == NULL) {
		fprintf(stderr, "crlsync: out of memory\n");
		return EXIT_FAIL;
	}
	fetcher_init(&f);
	switch (cli_parse(argc, argv, &f.opts, &c, args)) {
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
		log_error(&f.log, "cannot initialise libcurl");
		r = EXIT_FAIL;
		goto out;
	}
	r = command_main[c.cmd](&f, c.n_args, c.args);
	curl_global_cleanup();
out:
	free(args);
	return r;
}
