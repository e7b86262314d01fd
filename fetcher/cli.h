/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command line of crlsync: options, subcommands, help texts and the one table of exit codes. */
#ifndef CRLSYNC_CLI_H
#define CRLSYNC_CLI_H

#include <stdbool.h>
#include <stdio.h>

#ifndef CRLSYNC_VERSION
#define CRLSYNC_VERSION "0.0.0-unknown"
#endif
#ifndef CRLSYNC_CONFIG_FILE /* from CMake: SYSCONFDIR/crlsync/crlsync.conf */
#define CRLSYNC_CONFIG_FILE "/etc/crlsync/crlsync.conf"
#endif
/* Where the shipped unit's daemon writes its pid (RuntimeDirectory=crlsync), and refresh reads it. */
#define CRLSYNC_PIDFILE "/run/crlsync/crlsync.pid"

/*
 * The exit status of every subcommand, the same for all (crlsync(8), EXIT STATUS). Scripts and
 * cron tell "the command line is wrong" (3) from "the configuration is wrong" (2) from "it ran and
 * something failed" (1). `check' alone has a fifth answer: it ran, and cannot decide (4).
 */
enum {
	EXIT_OK = 0,        /* success: every source fresh, daemon signalled, no certificate revoked, CRL usable */
	EXIT_FAIL = 1,      /* operational failure (a source not refreshed, ...); check: a certificate is revoked */
	EXIT_CONFIG = 2,    /* the configuration cannot be loaded (file, syntax, a `ca' file) */
	EXIT_USAGE = 3,     /* bad command line, or a file named on it cannot be read */
	EXIT_UNDECIDED = 4, /* check: no usable (or only an expired) CRL to decide by */
};

/* One row of the exit-code table, as `crlsync help' prints it. */
struct cli_exit {
	int code;
	const char *meaning;
};
extern const struct cli_exit cli_exits[];
extern const unsigned cli_n_exits;

/* The subcommands, in the order of `crlsync help'; main.c maps each to its *_main(). */
enum cli_cmd {
	CLI_CMD_FETCH,
	CLI_CMD_DAEMON,
	CLI_CMD_REFRESH,
	CLI_CMD_STATUS,
	CLI_CMD_CHECK,
	CLI_CMD_VERIFY,
	CLI_CMD_HEALTH,
	CLI_CMD_COUNT,
	CLI_CMD_NONE = -1,
};

/* Options of one run: global ones and each subcommand's own, all parsed by cli_parse() (into struct fetcher). */
struct options {
	const char *config;  /* -c/--config FILE */
	int verbose;         /* -v/--verbose, repeatable: debug lines */
	bool quiet;          /* -q/--quiet: errors only (cron) */
	const char *pidfile; /* daemon, refresh: --pidfile FILE (NULL: the default) */
	bool no_pidfile;     /* daemon: --no-pidfile */
	bool syslog;         /* daemon: --syslog */
	bool json;           /* status: --json */
	bool wide;           /* status: --wide, every column */
	const char *ca;      /* verify: --ca FILE */
	bool prometheus;     /* status: --prometheus, the Prometheus text format */
	const char *warn;    /* health: --warn DURATION (NULL: the default) */
	const char *crit;    /* health: --crit DURATION (NULL: the default) */
};

enum cli_action {
	CLI_RUN,     /* run `cmd' with args[0..n_args) (args[0] is its name) */
	CLI_HELP,    /* print cli_help(cmd) on stdout (cmd CLI_CMD_NONE: the general help), exit 0 */
	CLI_VERSION, /* print the version on stdout, exit 0 */
	CLI_ERROR,   /* print err and a usage hint on stderr, exit EXIT_USAGE */
};

struct cli {
	enum cli_action action;
	enum cli_cmd cmd;
	int n_args;
	char **args; /* NULL-terminated; points into argv; the caller's array (argc + 1 entries) */
	char err[256];
};

/*
 * Parses argv with getopt_long into *o (reset to the defaults first) and *c. Global options
 * (-c, -q, -v, -V, -h) may come before or after the subcommand; a subcommand's own options only
 * after its name. args must hold argc + 1 pointers. Never prints, never exits: the caller acts
 * on c->action. Returns c->action.
 */
enum cli_action cli_parse(int argc, char *argv[], struct options *o, struct cli *c, char **args);

/* The name of a subcommand ("fetch"), or NULL. */
const char *cli_cmd_name(enum cli_cmd cmd);

/* Prints the help of cmd (CLI_CMD_NONE: every subcommand, the options and the exit codes) to f. */
void cli_help(FILE *f, enum cli_cmd cmd);

/* The usage line(s) of cmd (CLI_CMD_NONE: the general one) to f, for errors. */
void cli_usage(FILE *f, enum cli_cmd cmd);

#endif
