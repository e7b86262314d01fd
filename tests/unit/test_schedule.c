/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of lib/schedule.c: table-driven cases for the next fetch time, CRL health and margin. */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "crlsync/schedule.h"

/*
 * The constants of lib/schedule.c, restated: the tests are the specification. SCHEDULE_MIN_DELAY
 * and SCHEDULE_RETRY_BASE come from the header.
 */
#define MARGIN_MIN 300
#define MARGIN_MAX 3600
#define MAX_DELAY (10LL * 366 * 24 * 3600)

#define M 60LL
#define H 3600LL
#define D 86400LL
#define NOW ((time_t)1700000000)

_Static_assert(sizeof(time_t) == sizeof(long), "the extreme cases below assume a 64-bit time_t");
#define T_MAX ((time_t)LONG_MAX)
#define T_MIN ((time_t)LONG_MIN)

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* An installed CRL, its times relative to NOW. */
#define CRL(tu, nu) .have_crl = true, .this_update = NOW + (tu), .next_update = NOW + (nu), .has_next_update = true

/* schedule_next() must return now + a delay within [lo, hi]. */
struct next_case {
	const char *name;
	struct schedule_in in;
	long long lo, hi;
};

static const struct next_case next_cases[] = {
	/* Nothing fetched yet: due at once; after a first failure: the backoff, not at once. */
	{ "schedule_next__no_crl_yet__now", { .now = NOW, .interval = H }, 0, 0 },
	{ "schedule_next__no_crl_after_failure__retry_base", { .now = NOW, .interval = H, .failures = 1, .jitter = 0.5 },
	  30, 30 },

	/* Long validity: the interval decides; a long interval is cut to half the remaining validity. */
	{ "schedule_next__long_validity__interval", { .now = NOW, .interval = H, CRL(-D, 7 * D) }, H, H },
	{ "schedule_next__long_validity_longer_interval__half_remaining",
	  { .now = NOW, .interval = 30 * D, CRL(-D, 7 * D) }, 7 * D / 2, 7 * D / 2 },

	/* nextUpdate approaching: half the remaining time, unless the interval is shorter. */
	{ "schedule_next__next_update_near__half_remaining", { .now = NOW, .interval = D, CRL(-20 * H, 4 * H) },
	  2 * H, 2 * H },
	{ "schedule_next__next_update_near_short_interval__interval", { .now = NOW, .interval = H, CRL(-20 * H, 4 * H) },
	  H, H },

	/* The margin (1 h for 10 days of validity): within twice the margin, the margin start decides. */
	{ "schedule_next__within_twice_margin__margin_start", { .now = NOW, .interval = D, CRL(-10 * D, 90 * M) },
	  30 * M, 30 * M },
	{ "schedule_next__beyond_twice_margin__half_remaining", { .now = NOW, .interval = D, CRL(-10 * D, 3 * H) },
	  90 * M, 90 * M },
	{ "schedule_next__inside_margin__min_delay", { .now = NOW, .interval = D, CRL(-10 * D, 30 * M) },
	  SCHEDULE_MIN_DELAY, SCHEDULE_MIN_DELAY },
	{ "schedule_next__margin_of_short_crl__five_minutes", { .now = NOW, .interval = D, CRL(-30 * M, 10 * M) },
	  5 * M, 5 * M },

	/* Jitter: 0 keeps the delay, 0.999 takes off at most 10 %. */
	{ "schedule_next__jitter_zero__full_delay", { .now = NOW, .interval = H, CRL(-D, 7 * D), .jitter = 0.0 }, H, H },
	{ "schedule_next__jitter_almost_one__at_most_ten_percent_earlier",
	  { .now = NOW, .interval = H, CRL(-D, 7 * D), .jitter = 0.999 }, H - H / 10, H - 1 },
	{ "schedule_next__jitter_nan__treated_as_zero", { .now = NOW, .interval = H, CRL(-D, 7 * D), .jitter = NAN },
	  H, H },
	{ "schedule_next__jitter_above_one__at_most_ten_percent_earlier",
	  { .now = NOW, .interval = H, CRL(-D, 7 * D), .jitter = 5.0 }, H - H / 10, H - H / 10 },

	/* Never sooner than SCHEDULE_MIN_DELAY, whatever the interval or the jitter. */
	{ "schedule_next__short_interval__min_delay", { .now = NOW, .interval = 10, CRL(-D, 7 * D), .jitter = 0.999 },
	  SCHEDULE_MIN_DELAY, SCHEDULE_MIN_DELAY },
	{ "schedule_next__interval_just_above_min__kept", { .now = NOW, .interval = 61, CRL(-D, 7 * D) }, 61, 61 },
	{ "schedule_next__zero_interval__min_delay", { .now = NOW, .interval = 0, CRL(-D, 7 * D) },
	  SCHEDULE_MIN_DELAY, SCHEDULE_MIN_DELAY },
	{ "schedule_next__negative_interval__min_delay", { .now = NOW, .interval = LLONG_MIN, CRL(-D, 7 * D) },
	  SCHEDULE_MIN_DELAY, SCHEDULE_MIN_DELAY },

	/* Without nextUpdate only the interval counts (a stale next_update is not read). */
	{ "schedule_next__no_next_update__interval",
	  { .now = NOW, .interval = 2 * H, .have_crl = true, .this_update = NOW - D, .next_update = NOW - 1 },
	  2 * H, 2 * H },
	{ "schedule_next__same_times_with_next_update__min_delay",
	  { .now = NOW, .interval = 2 * H, .have_crl = true, .this_update = NOW - D, .next_update = NOW - 1,
	    .has_next_update = true },
	  SCHEDULE_MIN_DELAY, SCHEDULE_MIN_DELAY },
	/* Without a CRL, a nextUpdate is not read either. */
	{ "schedule_next__failure_without_crl__next_update_ignored",
	  { .now = NOW, .interval = D, .failures = 8, .jitter = 0.5, .next_update = NOW + 2 * H,
	    .this_update = NOW - D, .has_next_update = true },
	  3840, 3840 },

	/* Expired: retry soon, jitter or not. */
	{ "schedule_next__expired__min_delay", { .now = NOW, .interval = D, CRL(-D, -10), .jitter = 0.999 },
	  SCHEDULE_MIN_DELAY, SCHEDULE_MIN_DELAY },
	/* Still valid this second: back one second after nextUpdate (django-ca publishes exactly then). */
	{ "schedule_next__expires_this_second__next_update_plus_one", { .now = NOW, .interval = D, CRL(-D, 0) }, 1, 1 },
	{ "schedule_next__expires_in_thirty_seconds__next_update_plus_one",
	  { .now = NOW, .interval = D, CRL(-D, 30), .jitter = 0.999 }, 31, 31 },
	{ "schedule_next__failure_expires_in_ten_seconds__next_update_plus_one",
	  { .now = NOW, .interval = D, CRL(-D, 10), .failures = 3, .jitter = 0.5 }, 11, 11 },
	/* The twin: once past nextUpdate, no alignment, the floor. */
	{ "schedule_next__expired_one_second_ago__floor", { .now = NOW, .interval = D, CRL(-D, -1) },
	  SCHEDULE_MIN_DELAY, SCHEDULE_MIN_DELAY },
	{ "schedule_next__expires_in_two_minutes__min_delay", { .now = NOW, .interval = D, CRL(-D, 2 * M) },
	  SCHEDULE_MIN_DELAY, SCHEDULE_MIN_DELAY },

	/* Failures: backoff, bounded by the margin start, at the SCHEDULE_MIN_DELAY pace inside it. */
	{ "schedule_next__failure_near_expiry__margin_start",
	  { .now = NOW, .interval = D, CRL(-D, 2 * H), .failures = 8, .jitter = 0.5 }, H, H },
	{ "schedule_next__failure_far_from_expiry__plain_backoff",
	  { .now = NOW, .interval = D, CRL(-D, 6 * D), .failures = 8, .jitter = 0.5 }, 3840, 3840 },
	{ "schedule_next__failure_inside_margin__min_delay_pace",
	  { .now = NOW, .interval = D, CRL(-D, 30 * M), .failures = 5, .jitter = 0.999 },
	  SCHEDULE_MIN_DELAY, SCHEDULE_MIN_DELAY },
	{ "schedule_next__first_failure_inside_margin__retry_base",
	  { .now = NOW, .interval = D, CRL(-D, 30 * M), .failures = 1, .jitter = 0.5 }, 30, 30 },
	{ "schedule_next__failure_after_expiry__min_delay_pace",
	  { .now = NOW, .interval = D, CRL(-D, -10), .failures = 6, .jitter = 0.5 },
	  SCHEDULE_MIN_DELAY, SCHEDULE_MIN_DELAY },
	{ "schedule_next__failure_just_before_margin__min_delay_not_less",
	  { .now = NOW, .interval = D, CRL(-D, H + 5), .failures = 6, .jitter = 0.5 },
	  SCHEDULE_MIN_DELAY, SCHEDULE_MIN_DELAY },
	{ "schedule_next__failure_jitter_zero__eighty_percent",
	  { .now = NOW, .interval = D, .failures = 1, .jitter = 0.0 }, 24, 24 },
	{ "schedule_next__failure_jitter_almost_one__below_hundred_twenty_percent",
	  { .now = NOW, .interval = D, .failures = 1, .jitter = 0.999 }, 35, 35 },
	{ "schedule_next__failure_jitter_beyond_interval__capped_at_interval",
	  { .now = NOW, .interval = 2000, .failures = 7, .jitter = 0.999 }, 1920, 2000 },

	/* Overflow: huge intervals and failure counts stay bounded, without undefined behaviour. */
	{ "schedule_next__huge_interval__ten_years", { .now = NOW, .interval = LLONG_MAX, .have_crl = true },
	  MAX_DELAY, MAX_DELAY },
	{ "schedule_next__failures_uint_max__interval",
	  { .now = NOW, .interval = H, .failures = UINT_MAX, .jitter = 0.999 }, H, H },
	{ "schedule_next__failures_uint_max_huge_interval__ten_years",
	  { .now = NOW, .interval = LLONG_MAX, .failures = UINT_MAX, .jitter = 0.999 }, MAX_DELAY, MAX_DELAY },
	{ "schedule_next__extreme_crl_times__interval",
	  { .now = NOW, .interval = H, .have_crl = true, .this_update = T_MIN, .next_update = T_MAX,
	    .has_next_update = true },
	  H, H },
	{ "schedule_next__extreme_crl_times_reversed__min_delay",
	  { .now = NOW, .interval = H, .have_crl = true, .this_update = T_MAX, .next_update = T_MIN,
	    .has_next_update = true, .failures = UINT_MAX },
	  SCHEDULE_MIN_DELAY, SCHEDULE_MIN_DELAY },
};

struct health_case {
	const char *name;
	time_t now, this_update, next_update;
	bool has_next_update;
	enum schedule_health want;
};

static const struct health_case health_cases[] = {
	{ "schedule_health__no_next_update__fresh", NOW, NOW - D, NOW - D, false, SCHEDULE_FRESH },
	{ "schedule_health__past_next_update__expired", NOW, NOW - D, NOW - 1, true, SCHEDULE_EXPIRED },
	{ "schedule_health__at_next_update__near_expiry_not_expired", NOW, NOW - D, NOW, true, SCHEDULE_NEAR_EXPIRY },
	{ "schedule_health__one_second_after__expired", NOW + 1, NOW - D, NOW, true, SCHEDULE_EXPIRED },
	/* 8 days of validity: NEAR_EXPIRY below 2 days left. */
	{ "schedule_health__more_than_quarter_left__fresh", NOW, NOW - 6 * D + 1, NOW + 2 * D + 1, true,
	  SCHEDULE_FRESH },
	{ "schedule_health__exactly_quarter_left__fresh", NOW, NOW - 6 * D, NOW + 2 * D, true, SCHEDULE_FRESH },
	{ "schedule_health__less_than_quarter_left__near_expiry", NOW, NOW - 6 * D - 1, NOW + 2 * D - 1, true,
	  SCHEDULE_NEAR_EXPIRY },
	/* 2 hours of validity: a quarter is 30 min, so the hour decides. */
	{ "schedule_health__short_validity_over_an_hour_left__fresh", NOW, NOW - 59 * M, NOW + 61 * M, true,
	  SCHEDULE_FRESH },
	{ "schedule_health__short_validity_under_an_hour_left__near_expiry", NOW, NOW - 61 * M, NOW + 59 * M, true,
	  SCHEDULE_NEAR_EXPIRY },
	/* Short validity: half of it, up to an hour (a fresh 2-minute CRL is not near its end). */
	{ "schedule_health__two_minute_crl_just_installed__fresh", NOW, NOW - 5, NOW + 115, true, SCHEDULE_FRESH },
	{ "schedule_health__two_minute_crl_last_minute__near_expiry", NOW, NOW - 61, NOW + 59, true,
	  SCHEDULE_NEAR_EXPIRY },
	{ "schedule_health__one_minute_crl_at_half__fresh", NOW, NOW - 30, NOW + 30, true, SCHEDULE_FRESH },
	{ "schedule_health__one_minute_crl_past_half__near_expiry", NOW, NOW - 31, NOW + 29, true, SCHEDULE_NEAR_EXPIRY },
	/* A nextUpdate before thisUpdate counts as no validity: the hour rule. */
	{ "schedule_health__next_before_this_two_hours_left__fresh", NOW, NOW + D, NOW + 2 * H, true, SCHEDULE_FRESH },
	{ "schedule_health__next_before_this_half_hour_left__near_expiry", NOW, NOW + D, NOW + 30 * M, true,
	  SCHEDULE_NEAR_EXPIRY },
	/* Extreme times: no overflow. */
	{ "schedule_health__extreme_validity__fresh", NOW, T_MIN, T_MAX, true, SCHEDULE_FRESH },
	{ "schedule_health__extreme_validity_last_second__near_expiry", T_MAX - 1, T_MIN, T_MAX, true,
	  SCHEDULE_NEAR_EXPIRY },
	{ "schedule_health__extreme_past__expired", T_MAX, T_MIN, T_MIN, true, SCHEDULE_EXPIRED },
};

struct margin_case {
	const char *name;
	time_t this_update, next_update;
	long long want;
};

static const struct margin_case margin_cases[] = {
	{ "schedule_margin__one_hour_validity__tenth", NOW, NOW + H, H / 10 },
	{ "schedule_margin__one_day_validity__capped_at_one_hour", NOW, NOW + D, MARGIN_MAX },
	{ "schedule_margin__ten_hours_validity__exactly_one_hour", NOW, NOW + 10 * H, MARGIN_MAX },
	{ "schedule_margin__fifty_minutes_validity__exactly_five_minutes", NOW, NOW + 50 * M, MARGIN_MIN },
	{ "schedule_margin__twenty_minutes_validity__floor_five_minutes", NOW, NOW + 20 * M, MARGIN_MIN },
	/* Below 20 minutes of validity 5 minutes cannot be kept back: a quarter of it. */
	{ "schedule_margin__ten_minutes_validity__quarter", NOW, NOW + 10 * M, 10 * M / 4 },
	{ "schedule_margin__one_minute_validity__quarter", NOW, NOW + M, 15 },
	{ "schedule_margin__zero_validity__five_minutes", NOW, NOW, MARGIN_MIN },
	{ "schedule_margin__negative_validity__five_minutes", NOW, NOW - D, MARGIN_MIN },
	{ "schedule_margin__extreme_validity__one_hour", T_MIN, T_MAX, MARGIN_MAX },
	{ "schedule_margin__extreme_reversed__five_minutes", T_MAX, T_MIN, MARGIN_MIN },
};

struct floor_case {
	const char *name;
	time_t this_update, next_update;
	bool has_next_update;
	long long want;
};

static const struct floor_case floor_cases[] = {
	{ "schedule_floor__one_minute_crl__fifteen_seconds", NOW, NOW + M, true, 15 },
	{ "schedule_floor__two_minute_crl__thirty_seconds", NOW, NOW + 2 * M, true, 30 },
	{ "schedule_floor__four_minute_crl__min_delay", NOW, NOW + 4 * M, true, SCHEDULE_MIN_DELAY },
	{ "schedule_floor__one_day_crl__min_delay", NOW, NOW + D, true, SCHEDULE_MIN_DELAY },
	{ "schedule_floor__ten_second_crl__absolute_floor", NOW, NOW + 10, true, SCHEDULE_FLOOR_MIN },
	{ "schedule_floor__one_second_crl__absolute_floor", NOW, NOW + 1, true, SCHEDULE_FLOOR_MIN },
	{ "schedule_floor__no_next_update__min_delay", NOW, NOW + M, false, SCHEDULE_MIN_DELAY },
	{ "schedule_floor__zero_validity__min_delay", NOW, NOW, true, SCHEDULE_MIN_DELAY },
	{ "schedule_floor__negative_validity__min_delay", NOW, NOW - M, true, SCHEDULE_MIN_DELAY },
	{ "schedule_floor__extreme_validity__min_delay", T_MIN, T_MAX, true, SCHEDULE_MIN_DELAY },
};

static void run_floor_case(void **state)
{
	const struct floor_case *c = *state;

	assert_int_equal(schedule_floor(c->this_update, c->next_update, c->has_next_update), c->want);
}

static void run_next_case(void **state)
{
	const struct next_case *c = *state;
	time_t at = schedule_next(&c->in);
	long long delay = (long long)at - (long long)c->in.now;

	if (delay < c->lo || delay > c->hi)
		print_error("%s: delay %lld, want [%lld, %lld]\n", c->name, delay, c->lo, c->hi);
	assert_in_range(delay, c->lo, c->hi);
}

static void run_health_case(void **state)
{
	const struct health_case *c = *state;

	assert_int_equal(schedule_health(c->now, c->this_update, c->next_update, c->has_next_update), c->want);
}

static void run_margin_case(void **state)
{
	const struct margin_case *c = *state;

	assert_int_equal(schedule_margin(c->this_update, c->next_update), c->want);
}

static long long delay_of(const struct schedule_in *in)
{
	return (long long)schedule_next(in) - (long long)in->now;
}

/* Failures 1..10, a long interval, jitter in the middle: 30, 60, 120, ... 15360. */
static void schedule_next__failures_one_to_ten__doubling(void **state)
{
	struct schedule_in in = { .now = NOW, .interval = D, .jitter = 0.5 };

	(void)state;
	for (in.failures = 1; in.failures <= 10; in.failures++)
		assert_int_equal(delay_of(&in), (long long)SCHEDULE_RETRY_BASE << (in.failures - 1));
}

/* The twin: with a one-hour interval the doubling stops there. */
static void schedule_next__failures_one_to_ten_short_interval__capped_at_interval(void **state)
{
	struct schedule_in in = { .now = NOW, .interval = H, .jitter = 0.5 };
	long long prev = 0;

	(void)state;
	for (in.failures = 1; in.failures <= 10; in.failures++) {
		long long want = (long long)SCHEDULE_RETRY_BASE << (in.failures - 1);
		long long got = delay_of(&in);

		assert_int_equal(got, want < H ? want : H);
		assert_true(got >= prev);
		prev = got;
	}
	assert_int_equal(prev, H);
}

/* Any jitter keeps a success within [90 %, 100 %] and a retry within [80 %, 120 %). */
static void schedule_next__any_jitter__within_bounds(void **state)
{
	struct schedule_in ok = { .now = NOW, .interval = 10 * H, CRL(-D, 30 * D) };
	struct schedule_in retry = { .now = NOW, .interval = D, .failures = 6 }; /* backoff 960 */

	(void)state;
	for (int i = 0; i < 1000; i++) {
		ok.jitter = retry.jitter = i / 1000.0;
		assert_in_range(delay_of(&ok), 9 * H, 10 * H);
		assert_in_range(delay_of(&retry), 768, 1151);
	}
}

/* The twin: different jitters do spread a fleet (0 and 0.999 land at least 9 % apart). */
static void schedule_next__different_jitter__different_times(void **state)
{
	struct schedule_in a = { .now = NOW, .interval = 10 * H, CRL(-D, 30 * D), .jitter = 0.0 };
	struct schedule_in b = a;

	(void)state;
	b.jitter = 0.999;
	assert_true(delay_of(&a) - delay_of(&b) >= 9 * H / 10 - 1);
	a.failures = b.failures = 3;
	assert_true(delay_of(&b) - delay_of(&a) >= 47);
}

/* A success that ends within the margin is never scheduled after the margin starts. */
static void schedule_next__any_remaining__not_after_margin_start(void **state)
{
	struct schedule_in in = { .now = NOW, .interval = 30 * D, .jitter = 0.0 };

	(void)state;
	for (long long rem = 2 * H + 1; rem < 40 * D; rem = rem * 9 / 8) {
		in.have_crl = in.has_next_update = true;
		in.this_update = NOW - D;
		in.next_update = NOW + rem;
		assert_true(schedule_next(&in) <= in.next_update - schedule_margin(in.this_update, in.next_update));
		assert_true(delay_of(&in) <= rem / 2);
	}
}

/* The twin: once inside the margin, it cannot be met, and MIN_DELAY wins over it. */
static void schedule_next__inside_margin_any_remaining__min_delay(void **state)
{
	struct schedule_in in = { .now = NOW, .interval = 30 * D, CRL(-D, 0) };

	(void)state;
	for (long long rem = 0; rem <= H; rem += 7) {
		in.next_update = NOW + rem;
		/* ... or one second after nextUpdate, when that comes sooner */
		assert_int_equal(delay_of(&in), rem + 1 < SCHEDULE_MIN_DELAY ? rem + 1 : SCHEDULE_MIN_DELAY);
	}
}

/* now + delay saturates instead of wrapping. */
static void schedule_next__now_near_time_max__saturates(void **state)
{
	struct schedule_in in = { .now = T_MAX - 10, .interval = H, .have_crl = true };

	(void)state;
	assert_true(schedule_next(&in) == T_MAX);
	in.failures = UINT_MAX;
	assert_true(schedule_next(&in) == T_MAX);
}

/* The twin: far from the limit nothing saturates, even for a negative now. */
static void schedule_next__negative_now__plain_sum(void **state)
{
	struct schedule_in in = { .now = -5 * D, .interval = H, .have_crl = true };

	(void)state;
	assert_true(schedule_next(&in) == -5 * D + H);
}

/* A one-minute CRL is polled every quarter minute near its end, with jitter before. */
static void schedule_next__one_minute_crl__floor_fifteen_seconds(void **state)
{
	struct schedule_in in = { .now = NOW, .interval = H, CRL(-50, 10), .jitter = 0.999 };

	(void)state;
	/* inside its margin: the floor, but not after nextUpdate + 1 s */
	assert_int_equal(delay_of(&in), 11);
	in.this_update = NOW - 40;
	in.next_update = NOW + 20;
	assert_int_equal(delay_of(&in), 15);
	/* fresh: half the remaining validity, less jitter, never below the floor */
	in.this_update = NOW;
	in.next_update = NOW + 60;
	assert_in_range(delay_of(&in), 27, 30);
	in.jitter = 0.0;
	assert_int_equal(delay_of(&in), 30);
	/* expired: the floor, not the minute of a long CRL */
	in.next_update = NOW - 1;
	in.this_update = NOW - 61;
	assert_int_equal(delay_of(&in), 15);
}

/* The twin: a day-long CRL keeps the one-minute floor. */
static void schedule_next__one_day_crl_inside_margin__min_delay(void **state)
{
	struct schedule_in in = { .now = NOW, .interval = H, CRL(-D + 30 * M, 30 * M), .jitter = 0.999 };

	(void)state;
	assert_int_equal(delay_of(&in), SCHEDULE_MIN_DELAY);
	in.next_update = NOW - 10;
	assert_int_equal(delay_of(&in), SCHEDULE_MIN_DELAY);
}

/*
 * A CA re-issues CRLs valid for V seconds every P seconds, P up to 3/4 V; the daemon fetches
 * whenever schedule_next() says, jitter at random. The installed CRL must never expire before
 * the next fetch (issue 13: 60-s CRLs every 20 s expired in 4 of 150 samples).
 */
static void schedule_next__reissued_short_crls__never_expire_before_next_fetch(void **state)
{
	static const long long validities[] = { 60, 61, 90, 120, 300, 600, 3600, D };
	static const int divisors[][2] = { { 1, 3 }, { 1, 2 }, { 2, 3 }, { 3, 4 } }; /* P = V * a / b */

	(void)state;
	srand(13);
	for (size_t v = 0; v < ARRAY_LEN(validities); v++) {
		for (size_t p = 0; p < ARRAY_LEN(divisors); p++) {
			long long V = validities[v], P = V * divisors[p][0] / divisors[p][1];
			time_t t0 = NOW, t = NOW + rand() % P;

			for (int round = 0; round < 400; round++) {
				time_t issued = t - (t - t0) % P;
				struct schedule_in in = { .now = t, .interval = 30 * D, CRL(0, 0),
							  .jitter = rand() / (RAND_MAX + 1.0) };
				time_t next;

				in.this_update = issued;
				in.next_update = issued + V;
				next = schedule_next(&in);
				if (next > in.next_update)
					fail_msg("V=%lld P=%lld: fetched at +%lld (CRL issued at +%lld), next fetch at +%lld, "
						 "after its nextUpdate +%lld", V, P, (long long)(t - t0), (long long)(issued - t0),
						 (long long)(next - t0), (long long)(in.next_update - t0));
				assert_true(next > t);
				t = next;
			}
		}
	}
}

#define CASES(table, fn)                                                                   \
	for (size_t i = 0; i < ARRAY_LEN(table); i++)                                      \
		tests[n++] = (struct CMUnitTest){ .name = (table)[i].name, .test_func = (fn), \
						  .initial_state = (void *)&(table)[i] }

int main(void)
{
	static const struct CMUnitTest named[] = {
		cmocka_unit_test(schedule_next__failures_one_to_ten__doubling),
		cmocka_unit_test(schedule_next__failures_one_to_ten_short_interval__capped_at_interval),
		cmocka_unit_test(schedule_next__any_jitter__within_bounds),
		cmocka_unit_test(schedule_next__different_jitter__different_times),
		cmocka_unit_test(schedule_next__any_remaining__not_after_margin_start),
		cmocka_unit_test(schedule_next__inside_margin_any_remaining__min_delay),
		cmocka_unit_test(schedule_next__now_near_time_max__saturates),
		cmocka_unit_test(schedule_next__negative_now__plain_sum),
		cmocka_unit_test(schedule_next__one_minute_crl__floor_fifteen_seconds),
		cmocka_unit_test(schedule_next__one_day_crl_inside_margin__min_delay),
		cmocka_unit_test(schedule_next__reissued_short_crls__never_expire_before_next_fetch),
	};
	struct CMUnitTest tests[ARRAY_LEN(next_cases) + ARRAY_LEN(health_cases) + ARRAY_LEN(margin_cases) +
				ARRAY_LEN(floor_cases) + ARRAY_LEN(named)];
	size_t n = 0;

	/* Each table row runs as its own named test, so a failure names the case. */
	CASES(next_cases, run_next_case);
	CASES(health_cases, run_health_case);
	CASES(margin_cases, run_margin_case);
	CASES(floor_cases, run_floor_case);
	for (size_t i = 0; i < ARRAY_LEN(named); i++)
		tests[n++] = named[i];
	return _cmocka_run_group_tests("schedule", tests, n, NULL, NULL);
}
