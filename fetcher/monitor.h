/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What monitoring sees: each source's state and installed file, the gateway's status file; the metrics. */
#ifndef CRLSYNC_FETCHER_MONITOR_H
#define CRLSYNC_FETCHER_MONITOR_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "crlsync/config.h"
#include "crlsync/log.h"
#include "health.h"
#include "state.h"

/* One CRL the plugin enforces, as its status file says. */
struct gw_crl {
	char file[256];
	char source[CFG_NAME_MAX + 1];
	char number[48];
	time_t this_update, next_update;
	unsigned long long entries;
};

/* The plugin's status file ([plugin] status-file), read by the fetcher's user or monitoring's. */
struct gateway_view {
	bool configured;
	int err;                 /* 0, or -errno (-EINVAL: not the plugin's JSON) */
	unsigned long generation;
	long pid;
	time_t written, reload_time;
	char reload_error[256];
	char policy[96];         /* "missing=reject expired=reject grace=0" */
	unsigned long accept, reject, relaxed, evicted, reload_failures;
	struct gw_crl *crls;
	size_t n_crls;
};

/* Reads cfg->plugin.status_file into *gw (cleared first). Never fails: gw->err says what went wrong. */
void gateway_load(const struct cfg *cfg, struct gateway_view *gw);
void gateway_clear(struct gateway_view *gw);

/* The CRL the gateway enforces from cache-dir/NAME.crl, or NULL. */
const struct gw_crl *gateway_find(const struct gateway_view *gw, const char *source_name);

/* One source as monitoring sees it. */
struct source_view {
	const struct cfg_source *src;
	int state_err;       /* 0 or -errno reading .state/NAME.json */
	struct src_state st; /* cleared when state_err */
	int file_err;        /* 0, -ENOENT, or another -errno looking at NAME.crl */
	time_t file_mtime;
	bool have_delta;     /* its delta CRL (NAME+, crlsync(8) DELTA CRLS) was ever attempted: dst says how */
	struct src_state dst; /* .state/NAME+.json; cleared when !have_delta */
};

/* Fills views[i] for every source from the cache-dir open as dirfd. Free with monitor_views_clear(). */
void monitor_views_load(const struct cfg *cfg, int dirfd, struct source_view *views);
void monitor_views_clear(const struct cfg *cfg, struct source_view *views);

/* health's input of one source. */
void monitor_health_in(const struct source_view *v, const struct gateway_view *gw, struct health_src_in *in);

/*
 * The Prometheus text exposition format (version 0.0.4) of every source, and of the gateway when
 * its status file is configured, to f. Returns 0 or -EIO.
 */
int metrics_print(FILE *f, const struct cfg *cfg, const struct source_view *views, const struct gateway_view *gw,
		  time_t now);

/*
 * [global] metrics-file: writes the metrics of the cache-dir open as dirfd to that file,
 * atomically (a hidden temporary file in its directory, then rename: node_exporter's textfile
 * collector reads only *.prom). Logs and returns -errno on failure; 0 when none is configured.
 */
int metrics_write_file(const struct log_sink *log, const struct cfg *cfg, int dirfd);

#endif
