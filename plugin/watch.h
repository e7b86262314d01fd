/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OS seam of the plugin: a thread that watches cache-dir and calls back, off OpenVPN's event loop. */
#ifndef CRLSYNC_PLUGIN_WATCH_H
#define CRLSYNC_PLUGIN_WATCH_H

#include <stdbool.h>

#include "crlsync/log.h"

/* Called on the watch thread after a burst of changes settled, or periodically (then `periodic`). */
typedef void watch_fn(void *ctx, bool periodic);

struct watch;

/* Quiet time that ends a burst of events, and the longest a burst may delay a reload. */
#define WATCH_SETTLE_MS 30
#define WATCH_MAX_DELAY_MS 250
/* Rescan period, to pick up what no event announces (a clock that reached a CRL's thisUpdate). */
#define WATCH_RESCAN_S 60

/*
 * Starts watching `dir` (moved in/out, closed after write, deleted, attribute changes) on a new
 * thread that calls fn(ctx). Returns 0 and *out (stop with watch_stop()), or -errno.
 */
int watch_start(const char *dir, watch_fn *fn, void *ctx, const struct log_sink *log, struct watch **out);

/* Stops and joins the thread; a callback in progress finishes first. NULL is a no-op. */
void watch_stop(struct watch *w);

#endif
