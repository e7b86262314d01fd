/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared declarations of the crlsync executable: subcommands, the refresh engine, logging. */
#ifndef CRLSYNC_FETCHER_H
#define CRLSYNC_FETCHER_H

#include <stdbool.h>
#include <time.h>

#include "crlsync/config.h"
#include "crlsync/crl.h"
#include "crlsync/log.h"
#include "cli.h" /* struct options opts; the exit codes, EXIT_OK ... EXIT_UNDECIDED */

#define FETCHER_DEFAULT_CONFIG CRLSYNC_CONFIG_FILE
#define FETCHER_DEFAULT_PIDFILE CRLSYNC_PIDFILE /* the shipped unit's RuntimeDirectory */

/* `fetch' in the words of the one exit-code table (cli.h). */
enum {
	EXIT_FRESH = EXIT_OK,
	EXIT_NOT_REFRESHED = EXIT_FAIL,
};

/* The process' log sink: stderr ("crlsync: ...") or syslog. */
extern const struct log_sink *logger;
void logger_use_syslog(void);

/* Loads the configuration named by -c; logs and returns NULL on error. */
struct cfg *load_config(void);

/*
 * Opens cache-dir (creating it 0755 if missing). When the process runs as root and cache-dir
 * belongs to another user, switches the whole process to that user for good first (priv.h),
 * before anything in it is touched; a later call (SIGHUP) that would need such a switch is
 * refused. Returns the fd or -errno (logged).
 */
int open_cache_dir(const struct cfg *cfg);

/* The outcome of one source in a pass. */
struct refresh_result {
	bool ok;             /* fresh: installed, or confirmed unchanged */
	bool installed;      /* a new CRL was installed */
	time_t next_attempt; /* when the scheduler wants to see it again */
	bool charon_ok;      /* [strongswan]: charon holds it (or nothing to hand over); false: retry the hand-over */
};

/*
 * Refreshes the sources whose `due[i]` is true (all when due is NULL) concurrently, mirrors in
 * order, under the cache-dir lock. Fills results[i] for those. Returns 0, or -EINTR when abort_fd
 * became readable (transfers abandoned, nothing half-installed), or another -errno.
 */
int refresh_sources(const struct cfg *cfg, int dirfd, const bool *due, int abort_fd, struct refresh_result *results);

/*
 * [strongswan] only: hands charon the installed CRL of every source with which[i] again
 * (charon_sync(); renew: charon is new, load without asking first), under the cache-dir lock,
 * without downloading anything. A source whose state does not describe its installed file is left
 * to the next pass. ok[i] (every source) is false where a hand-over failed. Returns 0, or -EINTR
 * when abort_fd became readable (SIGTERM), or the lock's -errno.
 */
int refresh_charon(const struct cfg *cfg, int dirfd, const bool *which, bool renew, int abort_fd, bool *ok);

/* Subcommands (main.c): argv[0] is the command name, then its operands; its options are in opts. */
int fetch_main(int argc, char *argv[]);
int daemon_main(int argc, char *argv[]);
int refresh_main(int argc, char *argv[]);
int status_main(int argc, char *argv[]);
int check_main(int argc, char *argv[]);
int verify_main(int argc, char *argv[]);

#endif
