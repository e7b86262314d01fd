/* SPDX-License-Identifier: GPL-2.0-only */
/* When to fetch a CRL next: a pure function of times, so that it is tested without clocks. */
#ifndef CRLSYNC_SCHEDULE_H
#define CRLSYNC_SCHEDULE_H

#include <stdbool.h>
#include <time.h>

/* After a success, never poll more often than this, whatever the CRL says. */
#define SCHEDULE_MIN_DELAY 60
/* First retry after a failure; doubles per consecutive failure, up to the interval. */
#define SCHEDULE_RETRY_BASE 30

struct schedule_in {
	time_t now;
	long long interval;     /* [global]/[source] interval: the longest time between refreshes */
	bool have_crl;          /* a CRL is installed for the source */
	time_t this_update;     /* of the installed CRL */
	time_t next_update;     /* of the installed CRL, when has_next_update */
	bool has_next_update;
	unsigned failures;      /* consecutive failed attempts, 0 after a success */
	double jitter;          /* uniform in [0, 1): spreads a fleet of gateways */
};

/*
 * The absolute time of the next attempt. After a success: at the latest after `interval`, and earlier as
 * nextUpdate approaches (half the remaining validity, never later than a margin before nextUpdate),
 * minus up to 10 % jitter, never sooner than SCHEDULE_MIN_DELAY. After failures: exponential
 * backoff from SCHEDULE_RETRY_BASE with jitter, capped at `interval` and at the same margin.
 */
time_t schedule_next(const struct schedule_in *in);

enum schedule_health {
	SCHEDULE_FRESH = 0,
	SCHEDULE_NEAR_EXPIRY,   /* less than max(a quarter of the validity, 1 h) left: warn loudly */
	SCHEDULE_EXPIRED,       /* past nextUpdate: an error */
};

/* How the installed CRL stands at `now`. */
enum schedule_health schedule_health(time_t now, time_t this_update, time_t next_update, bool has_next_update);

/* The margin kept before nextUpdate: a tenth of the validity, between 5 minutes and 1 hour. */
long long schedule_margin(time_t this_update, time_t next_update);

#endif
