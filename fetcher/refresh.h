/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The refresh engine: one pass over the sources (download, verify, refuse rollbacks, install), and charon's hand-overs. */
#ifndef CRLSYNC_FETCHER_REFRESH_H
#define CRLSYNC_FETCHER_REFRESH_H

#include <stdbool.h>
#include <time.h>

#include "crlsync/config.h"
#include "crlsync/log.h"

/* The outcome of one source in a pass. */
struct refresh_result {
	bool ok;             /* fresh: installed, or confirmed unchanged */
	bool installed;      /* a new CRL was installed */
	time_t next_attempt; /* when the scheduler wants to see it again */
	bool charon_ok;      /* [strongswan]: charon holds it (or nothing to hand over); false: retry the hand-over */
};

/*
 * Refreshes the sources whose `due[i]` is true (all when due is NULL) concurrently, mirrors in
 * order, under the cache-dir lock, logging to `log'. Fills results[i] for those. Returns 0, or
 * -EINTR when abort_fd became readable (transfers abandoned, nothing half-installed), or another
 * -errno.
 */
int refresh_sources(const struct log_sink *log, const struct cfg *cfg, int dirfd, const bool *due, int abort_fd,
		    struct refresh_result *results);

/*
 * [strongswan] only: hands charon the installed CRL of every source with which[i] again
 * (charon_sync(); renew: charon is new, load without asking first), under the cache-dir lock,
 * without downloading anything. A source whose state does not describe its installed file is left
 * to the next pass. ok[i] (every source) is false where a hand-over failed. Returns 0, or -EINTR
 * when abort_fd became readable (SIGTERM), or the lock's -errno.
 */
int refresh_charon(const struct log_sink *log, const struct cfg *cfg, int dirfd, const bool *which, bool renew,
		   int abort_fd, bool *ok);

#endif
