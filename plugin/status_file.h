/* SPDX-License-Identifier: GPL-2.0-or-later */
/* [plugin] status-file: what the plugin enforces and decided, as JSON that monitoring and `crlsync status' read. */
#ifndef CRLSYNC_PLUGIN_STATUS_FILE_H
#define CRLSYNC_PLUGIN_STATUS_FILE_H

#include "crlsync/check.h"
#include "crlsync/config.h"
#include "crlsync/log.h"
#include "crlsync/policy.h"
#include "crlsync/store.h"

/*
 * The counters. They live for the OpenVPN process (static storage in the .so, which is linked
 * -z nodelete): a SIGHUP (close and reopen of the plugin) does not reset them, a restart does,
 * as Prometheus counters expect. TLS_VERIFY only bumps them (one atomic add); the status thread
 * writes the file.
 */
enum status_counter {
	STATUS_ACCEPT,          /* a peer's leaf (depth 0) accepted, strictly or relaxed */
	STATUS_REJECT,          /* a certificate refused (OpenVPN stops the handshake at the first) */
	STATUS_RELAXED,         /* a certificate of any depth accepted only by a relaxed policy */
	STATUS_EVICTED,         /* a connected client killed through the management interface */
	STATUS_RELOAD_FAILURES, /* a reload that failed as a whole (the CRLs in force stayed) */
	STATUS_N_COUNTERS,
};

/* Adds one to a counter; safe from any thread, never blocks. Counted also without a status-file. */
void status_count(enum status_counter c);

/* Reads a counter (tests). */
unsigned long status_counter_get(enum status_counter c);

struct status_file;

/*
 * With `[plugin] status-file', while OpenVPN is still root (openvpn_plugin_open_v3): opens the
 * file's directory (creating it 0755 when missing) and keeps that descriptor for the process
 * (persist.h), then starts the thread that writes the file: atomically (temporary file, rename)
 * in that directory, after every reload (status_file_reloaded()) and within STATUS_FILE_TICK_S
 * seconds of a counter change. After OpenVPN's privilege drop the directory must be writable by
 * OpenVPN's user (one error names the fix otherwise). *out is NULL when no status-file is
 * configured. Returns 0, or -errno after logging (the plugin refuses to start).
 */
int status_file_open(const struct cfg *cfg, const struct policy *pol, const struct log_sink *log,
		     struct status_file **out);

/* The longest a counter change waits to be written. */
#define STATUS_FILE_TICK_S 2

/*
 * After a reload (any thread that loads): s the snapshot now in force (NULL when the reload
 * failed, then err is its -errno). Describes it for the next write and wakes the writer.
 */
void status_file_reloaded(struct status_file *sf, const struct store *s, int err);

/* Writes once more, stops the thread, frees; NULL is a no-op. The kept directory stays open. */
void status_file_close(struct status_file *sf);

/*
 * The JSON document (for tests): counters as given, the CRLs of s (NULL: none), the last reload's
 * time and error. A new NUL-terminated string the caller frees, or NULL.
 */
char *status_file_render(const struct cfg *cfg, const struct policy *pol, const char *crls_json,
			 unsigned long generation, time_t reload_time, const char *reload_error,
			 const unsigned long counters[STATUS_N_COUNTERS], time_t now);

/* The "crls" array of a snapshot, as JSON text (a new string, or NULL). */
char *status_file_crls_json(const struct store *s);

#endif
