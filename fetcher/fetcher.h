/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The context every subcommand of crlsync gets (options, log sink), the shared preamble, and the subcommands' table entries. */
#ifndef CRLSYNC_FETCHER_H
#define CRLSYNC_FETCHER_H

#include <stdbool.h>
#include <stdio.h>

#include "crlsync/config.h"
#include "crlsync/log.h"
#include "crlsync/text.h"
#include "cli.h" /* struct options; the exit codes, EXIT_OK ... EXIT_UNDECIDED */

#define FETCHER_DEFAULT_CONFIG CRLSYNC_CONFIG_FILE
#define FETCHER_DEFAULT_PIDFILE CRLSYNC_PIDFILE /* the shipped unit's RuntimeDirectory */

/* `fetch' in the words of the one exit-code table (cli.h). */
enum {
	EXIT_FRESH = EXIT_OK,
	EXIT_NOT_REFRESHED = EXIT_FAIL,
};

/*
 * One run of crlsync: what main() sets up and hands down to the subcommand (as wireguard-tools
 * hands its struct wgdevice down), instead of globals. One per process.
 */
struct fetcher {
	struct options opts;   /* the command line, as cli_parse() read it */
	struct log_sink log;   /* where every line goes: stderr (the journal's with priorities) or syslog */
	bool journal;          /* stderr is the journal (systemd): each line starts with its sd-daemon priority */
	FILE *journal_fd;      /* the journal's stream, when `stderr' became the line-prefixing one */
	bool journal_line_start;
	bool cache_dir_decided; /* a first cache-dir was opened: the user to work as is decided, once */
};

/*
 * Sets f up for the process: options to their defaults (cli_parse() fills them), the stderr sink
 * and, when stderr is the journal, `stderr' replaced by a stream that starts each line with "<3>":
 * what the subcommands print there directly (usage, refresh's refusals, check's file errors) is an
 * error. The sink's ctx is f: it must outlive every use of f->log.
 */
void fetcher_init(struct fetcher *f);

/* From now on f->log goes to syslog (daemon --syslog). */
void fetcher_use_syslog(struct fetcher *f);

/* Loads the configuration named by -c; logs and returns NULL on error. Caller frees (cfg_free). */
struct cfg *fetcher_load_config(struct fetcher *f);

/*
 * Opens cache-dir (creating it 0755 if missing). When the process runs as root and cache-dir
 * belongs to another user, switches the whole process to that user for good first (priv.h),
 * before anything in it is touched; a later call (SIGHUP) that would need such a switch is
 * refused. Returns the fd or -errno (logged).
 */
int fetcher_open_cache_dir(struct fetcher *f, const struct cfg *cfg);

/* What a subcommand needs of the configuration and cache-dir. */
enum fetcher_access {
	FETCHER_CONFIG, /* the configuration only (check: the store loader reads cache-dir itself) */
	FETCHER_READ,   /* cache-dir opened as it is, as whoever runs the command: never created, no user switch */
	FETCHER_WRITE,  /* fetcher_open_cache_dir(): created if missing, root becomes its owner */
};

/* What fetcher_begin() opened; fetcher_end() releases it. */
struct fetcher_run {
	struct cfg *cfg; /* NULL when the configuration could not be loaded */
	int dirfd;       /* cache-dir, or -1 (FETCHER_CONFIG, or it could not be opened) */
	int dir_err;     /* 0, or -errno opening cache-dir */
	char err[768];   /* why it failed, one line (not sanitised) */
};

/*
 * The preamble of the subcommands that work on the configured sources: loads -c's configuration
 * and, but for FETCHER_CONFIG, opens cache-dir. Returns EXIT_OK, EXIT_CONFIG (run->err says why),
 * or EXIT_FAIL (cache-dir: run->dir_err; the configuration stays loaded in run->cfg). Failures
 * are logged through f->log, except with FETCHER_READ: its command (health) answers in its own
 * format. Always call fetcher_end(), whatever it returned.
 */
int fetcher_begin(struct fetcher *f, enum fetcher_access access, struct fetcher_run *run);
void fetcher_end(struct fetcher_run *run);

/* Copies untrusted text into a char array through the one sanitiser (text.h), for printing. */
#define FETCHER_CLEAN(buf, s) text_sanitize_copy((buf), sizeof(buf), (s))

/*
 * The subcommands, one file each (cmd_NAME.c), as main.c's table calls them: argv[0] is the
 * command name, then its operands; its options are in f->opts. Each returns its exit status.
 */
int fetch_main(struct fetcher *f, int argc, char *argv[]);
int daemon_main(struct fetcher *f, int argc, char *argv[]);
int refresh_main(struct fetcher *f, int argc, char *argv[]);
int status_main(struct fetcher *f, int argc, char *argv[]);
int check_main(struct fetcher *f, int argc, char *argv[]);
int verify_main(struct fetcher *f, int argc, char *argv[]);
int health_main(struct fetcher *f, int argc, char *argv[]);

#endif
