/* SPDX-License-Identifier: GPL-2.0-or-later */
/* When to fetch next and how fresh the installed CRL is: pure arithmetic on times, no clock, no I/O. */
#include "crlsync/schedule.h"

#include <limits.h>

/* schedule_margin(): a tenth of the validity, clamped to [min(5 min, validity / 4), 1 h]. */
#define SCHEDULE_MARGIN_DIV 10
#define SCHEDULE_MARGIN_MIN 300
#define SCHEDULE_MARGIN_MAX 3600
/* schedule_floor(): a quarter of the validity, clamped to [SCHEDULE_FLOOR_MIN, SCHEDULE_MIN_DELAY]. */
#define SCHEDULE_FLOOR_DIV 4
/* The longest delay ever returned (ten years): bounds the arithmetic, whatever the configuration. */
#define SCHEDULE_MAX_DELAY (10LL * 366 * 24 * 3600)
/* After a success, jitter makes the delay up to 10 % shorter (never longer: the caps are deadlines). */
#define SCHEDULE_JITTER_OK 0.10
/* After a failure, jitter spreads the retry over [80 %, 120 %) of the backoff (before the caps). */
#define SCHEDULE_JITTER_RETRY 0.20
/* schedule_health(): NEAR_EXPIRY when less than max(validity / 4, min(validity / 2, 1 h)) is left. */
#define SCHEDULE_NEAR_DIV 4
#define SCHEDULE_NEAR_MIN 3600

/* The largest time_t, without assuming its width. */
#define SCHEDULE_TIME_MAX \
	((time_t)((((time_t)1 << (sizeof(time_t) * CHAR_BIT - 2)) - 1) * 2 + 1))

/* a - b, saturated: times come from CRLs, which may hold any year. */
static long long schedule_sub(long long a, long long b)
{
	long long r;

	if (__builtin_sub_overflow(a, b, &r))
		return a > b ? LLONG_MAX : LLONG_MIN;
	return r;
}

static long long schedule_min(long long a, long long b)
{
	return a < b ? a : b;
}

static long long schedule_max(long long a, long long b)
{
	return a > b ? a : b;
}

long long schedule_margin(time_t this_update, time_t next_update)
{
	long long validity = schedule_sub(next_update, this_update);

	if (validity <= 0)
		return SCHEDULE_MARGIN_MIN;
	/* A CRL valid for minutes cannot keep 5 minutes back: a quarter of it instead (issue 13). */
	return schedule_max(schedule_min(SCHEDULE_MARGIN_MIN, validity / SCHEDULE_FLOOR_DIV),
			    schedule_min(validity / SCHEDULE_MARGIN_DIV, SCHEDULE_MARGIN_MAX));
}

long long schedule_floor(time_t this_update, time_t next_update, bool has_next_update)
{
	long long validity = has_next_update ? schedule_sub(next_update, this_update) : 0;

	if (validity <= 0)
		return SCHEDULE_MIN_DELAY;
	return schedule_max(SCHEDULE_FLOOR_MIN, schedule_min(validity / SCHEDULE_FLOOR_DIV, SCHEDULE_MIN_DELAY));
}

/*
 * Precisely, with remaining = next_update - now and margin = schedule_margin(), all in seconds:
 *
 *   floor     = schedule_floor(): validity / 4 clamped to [SCHEDULE_FLOOR_MIN, SCHEDULE_MIN_DELAY]
 *               (SCHEDULE_MIN_DELAY without a CRL, without nextUpdate, or with no validity)
 *   interval' = interval clamped to [floor, SCHEDULE_MAX_DELAY]
 *   cap       = max(remaining - margin, floor)   when a CRL with nextUpdate is installed,
 *               none otherwise. Be there when the margin starts; once inside it (or past nextUpdate)
 *               come back at the fastest allowed pace, the floor.
 *
 *   no CRL and no failure (nothing tried yet):  now (due at once)
 *   success: d = min(interval', cap, remaining / 2 if remaining > 0)
 *            d = d - d * 10 % * jitter
 *            d = max(d, floor)
 *   failure: b = SCHEDULE_RETRY_BASE * 2^(failures - 1), doubling stopped once >= interval'
 *            d = b * (80 % + 40 % * jitter)
 *            d = min(d, interval', cap)
 *            (so d >= 24 s, or the floor: the first retry may come before SCHEDULE_MIN_DELAY)
 *   then, while the CRL is still valid (now <= nextUpdate): never later than nextUpdate + 1 s.
 *            Producers that publish the next CRL exactly at nextUpdate (django-ca's generic view)
 *            are so met within about a second, not a floor later; it happens once per CRL (the
 *            attempt after it finds the CRL expired or replaced).
 *
 * An expired CRL is thus refetched every floor, failing or not, whereas a source without any CRL
 * backs off up to its interval (a wrong URL should not be hammered). A CRL valid for V >= 60 s is
 * polled at least every V / 4 near its end: a CA that publishes its successor a quarter of the
 * validity ahead is always met before nextUpdate. The result, now + d, saturates at the largest time_t.
 */
time_t schedule_next(const struct schedule_in *in)
{
	long long interval, cap = LLONG_MAX, delay, floor;
	double jitter = in->jitter;
	time_t at;

	if (!in->have_crl && in->failures == 0)
		return in->now;
	if (!(jitter >= 0.0)) /* also NaN */
		jitter = 0.0;
	if (jitter > 1.0)
		jitter = 1.0;
	floor = schedule_floor(in->this_update, in->next_update, in->have_crl && in->has_next_update);
	interval = schedule_max(floor, schedule_min(in->interval, SCHEDULE_MAX_DELAY));

	if (in->have_crl && in->has_next_update) {
		long long remaining = schedule_sub(in->next_update, in->now);
		long long margin = schedule_margin(in->this_update, in->next_update);

		cap = schedule_max(schedule_sub(remaining, margin), floor);
		if (in->failures == 0 && remaining > 0)
			cap = schedule_min(cap, remaining / 2);
	}

	if (in->failures == 0) {
		delay = schedule_min(interval, cap);
		delay -= (long long)((double)delay * SCHEDULE_JITTER_OK * jitter);
		delay = schedule_max(delay, floor);
	} else {
		long long backoff = SCHEDULE_RETRY_BASE;

		/* A loop, not a shift: failures may be UINT_MAX; it stops within ~24 rounds at the interval. */
		for (unsigned i = 1; i < in->failures && backoff < interval; i++)
			backoff *= 2;
		delay = (long long)((double)backoff * (1.0 - SCHEDULE_JITTER_RETRY + 2 * SCHEDULE_JITTER_RETRY * jitter));
		delay = schedule_min(delay, schedule_min(interval, cap));
	}
	if (in->have_crl && in->has_next_update && in->now <= in->next_update) {
		long long until = schedule_sub(in->next_update, in->now);

		/* until + 1 >= 1: at most once per CRL, so no floor is needed here */
		if (until < LLONG_MAX && delay > until + 1)
			delay = until + 1;
	}

	if (__builtin_add_overflow(in->now, delay, &at))
		return SCHEDULE_TIME_MAX;
	return at;
}

/*
 * Precisely: without nextUpdate always FRESH (nothing expires). EXPIRED when now > next_update
 * (the moment itself still counts as valid, as in check.c). NEAR_EXPIRY when
 * next_update - now < max(validity / 4, min(validity / 2, 1 h)), validity = next_update - this_update
 * (1 h when the validity is not positive). FRESH otherwise: a CRL valid for 2 minutes is near its
 * end in its last minute, not from the moment it is installed.
 */
enum schedule_health schedule_health(time_t now, time_t this_update, time_t next_update, bool has_next_update)
{
	long long validity, threshold;

	if (!has_next_update)
		return SCHEDULE_FRESH;
	if (now > next_update)
		return SCHEDULE_EXPIRED;
	validity = schedule_max(schedule_sub(next_update, this_update), 0);
	threshold = validity > 0 ? schedule_max(validity / SCHEDULE_NEAR_DIV, schedule_min(validity / 2, SCHEDULE_NEAR_MIN))
				 : SCHEDULE_NEAR_MIN;
	return schedule_sub(next_update, now) < threshold ? SCHEDULE_NEAR_EXPIRY : SCHEDULE_FRESH;
}
