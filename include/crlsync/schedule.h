/* SPDX-License-Identifier: GPL-2.0-or-later */
/* When to fetch a CRL next: a pure function of times, so that it is tested without clocks. */
#ifndef CRLSYNC_SCHEDULE_H
#define CRLSYNC_SCHEDULE_H

#include <stdbool.h>
#include <time.h>

/*
 * After a success, never poll more often than the floor: a quarter of the installed CRL's validity,
 * between SCHEDULE_FLOOR_MIN and SCHEDULE_MIN_DELAY (schedule_floor()). A CRL valid for a minute
 * is so polled every 15 s, one valid for 4 minutes or more every minute at most.
 */
#define SCHEDULE_MIN_DELAY 60
#define SCHEDULE_FLOOR_MIN 5
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
 * minus up to 10 % jitter, never sooner than schedule_floor(). After failures: exponential
 * backoff from SCHEDULE_RETRY_BASE with jitter, capped at `interval` and at the same margin.
 * Either way, while the CRL is valid, never later than one second after its nextUpdate (a CA may
 * publish the next one exactly then).
 */
time_t schedule_next(const struct schedule_in *in);

enum schedule_health {
	SCHEDULE_FRESH = 0,
	SCHEDULE_NEAR_EXPIRY,   /* less than max(validity / 4, min(validity / 2, 1 h)) left: warn loudly */
	SCHEDULE_EXPIRED,       /* past nextUpdate: an error */
};

/* How the installed CRL stands at `now`. */
enum schedule_health schedule_health(time_t now, time_t this_update, time_t next_update, bool has_next_update);

/*
 * The margin kept before nextUpdate: a tenth of the validity, between 5 minutes (or a quarter of
 * the validity, when that is shorter) and 1 hour.
 */
long long schedule_margin(time_t this_update, time_t next_update);

/*
 * The shortest delay between two successful attempts: a quarter of the validity, clamped to
 * [SCHEDULE_FLOOR_MIN, SCHEDULE_MIN_DELAY]; SCHEDULE_MIN_DELAY without nextUpdate or validity.
 */
long long schedule_floor(time_t this_update, time_t next_update, bool has_next_update);

#endif
