/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crlsync health: the monitoring-plugins verdict (OK/WARNING/CRITICAL/UNKNOWN) of one source, decided in one place. */
#ifndef CRLSYNC_FETCHER_HEALTH_H
#define CRLSYNC_FETCHER_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* The monitoring-plugins states, which are also health's exit codes (Nagios, Icinga, Sensu). */
enum health_state {
	HEALTH_OK = 0,
	HEALTH_WARNING = 1,
	HEALTH_CRITICAL = 2,
	HEALTH_UNKNOWN = 3,
};

/* Default thresholds when --warn/--crit are not given (crlsync(8)). */
#define HEALTH_CRIT_DEFAULT_MAX 3600 /* crit: 1 h before expiry, or an eighth of the validity if shorter */
#define HEALTH_GATEWAY_LAG 30        /* the gateway may enforce an older CRL this long after an install */

/* What health knows about one source; every string is sanitised already (state.c) or NULL. */
struct health_src_in {
	const char *name;
	int state_err;           /* 0, or -errno: .state/NAME.json could not be read */
	int file_err;            /* 0, or -errno: cache-dir/NAME.crl could not be looked at (-ENOENT: none) */
	bool have_crl;           /* the state describes an installed CRL */
	const char *number;      /* its number ("0A", "none") */
	time_t this_update;
	bool has_next_update;
	time_t next_update;
	time_t installed_at;     /* NAME.crl's mtime: when it was installed */
	unsigned failures;       /* consecutive failed attempts */
	const char *result;      /* the last attempt's code (state.h), "" or NULL when unknown */
	const char *last_result; /* its text */
	const char *hook;        /* on-install/pem outcome: "", "ok", "failed", "timeout" */
	const char *hook_number;
	const char *hook_detail;
	const char *charon;      /* "", "held", "on-demand", "not-loaded", "error" */
	/* The gateway (plugin status-file), when configured. */
	bool gw_configured;
	int gw_err;              /* 0, or -errno reading the status file */
	bool gw_listed;          /* the plugin enforces a CRL from NAME.crl */
	const char *gw_number;
	time_t gw_written;       /* when the plugin last wrote its status file */
};

struct health_params {
	time_t now;
	long long grace; /* the plugin's [plugin] grace: a CRL is honoured that long past nextUpdate */
	long long warn;  /* seconds before expiry (nextUpdate + grace); < 0: a quarter of the validity */
	long long crit;  /* seconds before expiry; < 0: min(1 h, an eighth of the validity) */
};

struct health_src_out {
	enum health_state state;
	char why[400];       /* one line: what is wrong, or what is right */
	bool has_left;       /* a nextUpdate: left/warn/crit are meaningful */
	long long left;      /* seconds until expiry (nextUpdate + grace), negative once expired */
	long long warn, crit; /* the thresholds applied, in seconds */
};

/*
 * The verdict of one source, the only place where health decides:
 * - UNKNOWN: its state or NAME.crl cannot be read (say which, and why), or the gateway's status
 *   file cannot be read;
 * - CRITICAL: no CRL installed, expired (past nextUpdate + grace) or within crit of it, or the
 *   gateway has enforced an older CRL than the installed one for more than HEALTH_GATEWAY_LAG s;
 * - WARNING: within warn of expiry, the last attempt failed (the CRL still valid), the on-install
 *   command (or NAME.pem) failed for the installed CRL, or charon's hand-over failed;
 * - OK otherwise.
 */
void health_source(const struct health_params *p, const struct health_src_in *in, struct health_src_out *out);

/* The worse of two states, in the monitoring-plugins order: CRITICAL > WARNING > UNKNOWN > OK. */
enum health_state health_worse(enum health_state a, enum health_state b);

/* "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *health_state_name(enum health_state s);

/* "2d 3h", "5m 10s", "40s": a duration for humans (negative: its absolute value). */
void health_duration(long long secs, char *buf, size_t len);

/* Compares two CRL numbers as hex strings ("0A" < "10"): <0, 0, >0; "none" or junk sorts first. */
int health_number_cmp(const char *a, const char *b);

#endif
