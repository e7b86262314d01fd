/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of lib/policy.c: the one table that turns a check result into a verdict, and what evicts. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crlsync/policy.h"

#define GRACE 3600LL

/* policy_decide() reads only next_update of the deciding CRL: a bare struct is enough. */
static struct crl stale_crl;
static time_t next_update;

static int group_setup(void **state)
{
	(void)state;
	next_update = time(NULL) - 3 * 24 * 3600;
	stale_crl.next_update = next_update;
	stale_crl.flags = CRL_HAS_NEXT_UPDATE;
	return 0;
}

/* When, relative to nextUpdate + grace. */
enum when { BEFORE, AT, AFTER };

static time_t when_of(enum when w, long long grace)
{
	time_t end = next_update + (time_t)grace;

	return w == BEFORE ? end - 1 : w == AT ? end : end + 1;
}

static enum verdict decide(enum check_status st, enum cfg_action missing, enum cfg_action expired, long long grace,
			   time_t now, char *explain, size_t len)
{
	const struct policy p = { .missing = missing, .expired = expired, .grace = grace };
	struct check_result r = { .status = st, .reason = CRL_REASON_ABSENT };

	if (st == CHECK_STALE)
		r.crl = &stale_crl;
	return policy_decide(&p, &r, now, explain, len);
}

/* One row of the table: the verdict and the exact phrase for the log. */
static void row(enum check_status st, enum cfg_action missing, enum cfg_action expired, long long grace,
		enum when w, enum verdict want, const char *want_explain)
{
	char explain[128] = "stale text from an earlier call";
	enum verdict v = decide(st, missing, expired, grace, when_of(w, grace), explain, sizeof(explain));

	if (v != want || strcmp(explain, want_explain) != 0)
		fail_msg("%s missing=%s expired=%s grace=%lld when=%d: got verdict %d \"%s\", want %d \"%s\"",
			 check_status_str(st), cfg_action_str(missing), cfg_action_str(expired), grace, (int)w, (int)v,
			 explain, (int)want, want_explain);
}

/* ---- good, revoked, error: the policy cannot change them ---- */

static void policy_decide__good__accept_whatever_the_policy(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++)
		for (int e = 0; e < 2; e++)
			row(CHECK_GOOD, m, e, GRACE, AFTER, VERDICT_ACCEPT, "");
}

static void policy_decide__revoked__reject_whatever_the_policy(void **state)
{
	(void)state;
	/* Even with everything relaxed and well within grace: a revocation is never relaxed. */
	for (int m = 0; m < 2; m++)
		for (int e = 0; e < 2; e++)
			for (enum when w = BEFORE; w <= AFTER; w++)
				row(CHECK_REVOKED, m, e, GRACE, w, VERDICT_REJECT, "");
}

static void policy_decide__error__reject_whatever_the_policy(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++)
		for (int e = 0; e < 2; e++)
			row(CHECK_ERROR, m, e, GRACE, BEFORE, VERDICT_REJECT, "");
}

/* ---- unknown follows `missing` ---- */

static void policy_decide__unknown_missing_accept__accept_relaxed(void **state)
{
	(void)state;
	for (int e = 0; e < 2; e++)
		row(CHECK_UNKNOWN, CFG_ACCEPT, e, GRACE, BEFORE, VERDICT_ACCEPT_RELAXED, "missing=accept");
}

static void policy_decide__unknown_missing_reject__reject(void **state)
{
	(void)state;
	/* `expired` and grace do not apply to a certificate no CRL covers. */
	for (int e = 0; e < 2; e++)
		for (enum when w = BEFORE; w <= AFTER; w++)
			row(CHECK_UNKNOWN, CFG_REJECT, e, GRACE, w, VERDICT_REJECT, "missing=reject");
}

/* ---- stale follows `expired` and grace ---- */

static void policy_decide__stale_expired_accept__accept_relaxed(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++)
		for (enum when w = BEFORE; w <= AFTER; w++) {
			row(CHECK_STALE, m, CFG_ACCEPT, GRACE, w, VERDICT_ACCEPT_RELAXED, "expired=accept");
			row(CHECK_STALE, m, CFG_ACCEPT, 0, w, VERDICT_ACCEPT_RELAXED, "expired=accept");
		}
}

static void policy_decide__stale_expired_reject_no_grace__reject(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++)
		for (enum when w = BEFORE; w <= AFTER; w++)
			row(CHECK_STALE, m, CFG_REJECT, 0, w, VERDICT_REJECT, "expired=reject");
}

static void policy_decide__stale_before_grace_end__accept_relaxed(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++)
		row(CHECK_STALE, m, CFG_REJECT, GRACE, BEFORE, VERDICT_ACCEPT_RELAXED, "within grace, 1 s left");
}

static void policy_decide__stale_exactly_at_grace_end__accept_relaxed(void **state)
{
	(void)state;
	/* "until nextUpdate + grace": the last second is still inside. */
	for (int m = 0; m < 2; m++)
		row(CHECK_STALE, m, CFG_REJECT, GRACE, AT, VERDICT_ACCEPT_RELAXED, "within grace, 0 s left");
}

static void policy_decide__stale_after_grace_end__reject(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++)
		row(CHECK_STALE, m, CFG_REJECT, GRACE, AFTER, VERDICT_REJECT,
		    "expired=reject, grace of 3600 s exhausted");
}

static void policy_decide__stale_just_past_next_update__full_grace_left(void **state)
{
	const struct policy p = { .missing = CFG_REJECT, .expired = CFG_REJECT, .grace = GRACE };
	const struct check_result r = { .status = CHECK_STALE, .crl = &stale_crl };
	char explain[64];

	(void)state;
	assert_int_equal(policy_decide(&p, &r, next_update + 1, explain, sizeof(explain)), VERDICT_ACCEPT_RELAXED);
	assert_string_equal(explain, "within grace, 3599 s left");
}

static void policy_decide__stale_without_crl__reject_despite_grace(void **state)
{
	const struct policy p = { .missing = CFG_REJECT, .expired = CFG_REJECT, .grace = GRACE };
	const struct check_result r = { .status = CHECK_STALE, .crl = NULL };
	char explain[64];

	(void)state;
	/* No nextUpdate to count the grace from: fail closed. */
	assert_int_equal(policy_decide(&p, &r, next_update + 1, explain, sizeof(explain)), VERDICT_REJECT);
	assert_string_equal(explain, "expired=reject");
}

/* ---- the whole table, against the contract in check.h ---- */

static void policy_decide__whole_table__as_documented(void **state)
{
	static const long long graces[] = { 0, 1, GRACE };
	int rows = 0;

	(void)state;
	for (enum check_status st = CHECK_GOOD; st <= CHECK_ERROR; st++)
		for (int m = 0; m < 2; m++)
			for (int e = 0; e < 2; e++)
				for (size_t g = 0; g < sizeof(graces) / sizeof(graces[0]); g++)
					for (enum when w = BEFORE; w <= AFTER; w++) {
						long long grace = graces[g];
						char text[80] = "";
						enum verdict want = VERDICT_REJECT;

						switch (st) {
						case CHECK_GOOD:
							want = VERDICT_ACCEPT;
							break;
						case CHECK_REVOKED:
						case CHECK_ERROR:
							break;
						case CHECK_UNKNOWN:
							want = m == CFG_ACCEPT ? VERDICT_ACCEPT_RELAXED : VERDICT_REJECT;
							snprintf(text, sizeof(text), "missing=%s", cfg_action_str(m));
							break;
						case CHECK_STALE:
							if (e == CFG_ACCEPT) {
								want = VERDICT_ACCEPT_RELAXED;
								snprintf(text, sizeof(text), "expired=accept");
							} else if (grace == 0) {
								snprintf(text, sizeof(text), "expired=reject");
							} else if (w != AFTER) {
								want = VERDICT_ACCEPT_RELAXED;
								snprintf(text, sizeof(text), "within grace, %d s left",
									 w == BEFORE ? 1 : 0);
							} else {
								snprintf(text, sizeof(text),
									 "expired=reject, grace of %lld s exhausted", grace);
							}
							break;
						}
						row(st, m, e, grace, w, want, text);
						rows++;
					}
	assert_int_equal(rows, 5 * 2 * 2 * 3 * 3);
}

/* ---- the explain buffer ---- */

static void policy_decide__small_explain_buffer__truncated_terminated(void **state)
{
	char explain[8];

	(void)state;
	memset(explain, 'x', sizeof(explain));
	assert_int_equal(decide(CHECK_STALE, CFG_REJECT, CFG_REJECT, GRACE, when_of(AFTER, GRACE), explain, 6),
			 VERDICT_REJECT);
	assert_string_equal(explain, "expir");
	assert_int_equal(explain[6], 'x'); /* nothing written past len */
}

static void policy_from_cfg__copies_plugin_keys(void **state)
{
	struct cfg cfg = { .plugin.missing = CFG_ACCEPT, .plugin.expired = CFG_REJECT, .plugin.grace = 86400 };
	struct policy p;

	(void)state;
	memset(&p, 0xA5, sizeof(p));
	policy_from_cfg(&cfg, &p);
	assert_int_equal(p.missing, CFG_ACCEPT);
	assert_int_equal(p.expired, CFG_REJECT);
	assert_int_equal(p.grace, 86400);
	/* The zero cfg is the fail-closed one. */
	memset(&cfg, 0, sizeof(cfg));
	policy_from_cfg(&cfg, &p);
	assert_int_equal(p.missing, CFG_REJECT);
	assert_int_equal(p.expired, CFG_REJECT);
	assert_int_equal(p.grace, 0);
}

/* ---- eviction: what a connected client's check means ---- */

static bool evicts(enum check_status st, enum cfg_action missing, enum cfg_action expired, long long grace,
		   time_t now)
{
	const struct policy p = { .missing = missing, .expired = expired, .grace = grace };
	struct check_result r = { .status = st, .reason = CRL_REASON_ABSENT };

	if (st == CHECK_STALE)
		r.crl = &stale_crl;
	return policy_evicts(&p, &r, now);
}

static void policy_evicts__revoked__evicts_whatever_the_policy(void **state)
{
	(void)state;
	for (int m = CFG_REJECT; m <= CFG_ACCEPT; m++)
		for (int e = CFG_REJECT; e <= CFG_ACCEPT; e++)
			assert_true(evicts(CHECK_REVOKED, m, e, GRACE, when_of(BEFORE, GRACE)));
}

/* A missing CRL never evicts, even with missing = reject: a deleted file must not disconnect everyone. */
static void policy_evicts__unknown_good_or_error__never_evicts(void **state)
{
	(void)state;
	for (int m = CFG_REJECT; m <= CFG_ACCEPT; m++)
		for (int e = CFG_REJECT; e <= CFG_ACCEPT; e++)
			for (int w = BEFORE; w <= AFTER; w++) {
				assert_false(evicts(CHECK_UNKNOWN, m, e, GRACE, when_of(w, GRACE)));
				assert_false(evicts(CHECK_GOOD, m, e, GRACE, when_of(w, GRACE)));
				assert_false(evicts(CHECK_ERROR, m, e, GRACE, when_of(w, GRACE)));
			}
}

/* Expired: evicts exactly when policy_decide() rejects it (past grace with expired = reject). */
static void policy_evicts__stale_past_grace_expired_reject__evicts(void **state)
{
	(void)state;
	assert_true(evicts(CHECK_STALE, CFG_REJECT, CFG_REJECT, GRACE, when_of(AFTER, GRACE)));
	assert_true(evicts(CHECK_STALE, CFG_ACCEPT, CFG_REJECT, 0, when_of(BEFORE, 0)));
}

static void policy_evicts__stale_within_grace_or_expired_accept__stays(void **state)
{
	(void)state;
	assert_false(evicts(CHECK_STALE, CFG_REJECT, CFG_REJECT, GRACE, when_of(AT, GRACE)));
	assert_false(evicts(CHECK_STALE, CFG_REJECT, CFG_ACCEPT, GRACE, when_of(AFTER, GRACE)));
	assert_false(evicts(CHECK_STALE, CFG_REJECT, CFG_ACCEPT, 0, when_of(AFTER, 0)));
}

/* The first rejecting second: at `at - 1' still relaxed, at `at' rejected, as policy_decide() says. */
static void policy_rejects_from__expired_reject__grace_end_plus_one(void **state)
{
	const long long graces[] = { 0, 1, GRACE };

	(void)state;
	for (size_t i = 0; i < sizeof(graces) / sizeof(graces[0]); i++) {
		const struct policy p = { .missing = CFG_REJECT, .expired = CFG_REJECT, .grace = graces[i] };
		long long at = 0;

		assert_true(policy_rejects_from(&p, &stale_crl, &at));
		assert_int_equal(at, (long long)next_update + graces[i] + 1);
		assert_true(evicts(CHECK_STALE, CFG_REJECT, CFG_REJECT, graces[i], (time_t)at));
		if (graces[i] > 0)
			assert_false(evicts(CHECK_STALE, CFG_REJECT, CFG_REJECT, graces[i], (time_t)at - 1));
	}
}

static void policy_rejects_from__expired_accept_or_no_next_update__never(void **state)
{
	const struct policy accept = { .missing = CFG_REJECT, .expired = CFG_ACCEPT, .grace = GRACE };
	const struct policy reject = { .missing = CFG_REJECT, .expired = CFG_REJECT, .grace = GRACE };
	const struct policy huge = { .missing = CFG_REJECT, .expired = CFG_REJECT, .grace = LLONG_MAX };
	struct crl open_ended = { .next_update = 0, .flags = 0 };
	long long at = 42;

	(void)state;
	assert_false(policy_rejects_from(&accept, &stale_crl, &at));
	assert_false(policy_rejects_from(&reject, &open_ended, &at));
	assert_false(policy_rejects_from(&huge, &stale_crl, &at)); /* past what a long long holds */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_decide__good__accept_whatever_the_policy),
		cmocka_unit_test(policy_decide__revoked__reject_whatever_the_policy),
		cmocka_unit_test(policy_decide__error__reject_whatever_the_policy),
		cmocka_unit_test(policy_decide__unknown_missing_accept__accept_relaxed),
		cmocka_unit_test(policy_decide__unknown_missing_reject__reject),
		cmocka_unit_test(policy_decide__stale_expired_accept__accept_relaxed),
		cmocka_unit_test(policy_decide__stale_expired_reject_no_grace__reject),
		cmocka_unit_test(policy_decide__stale_before_grace_end__accept_relaxed),
		cmocka_unit_test(policy_decide__stale_exactly_at_grace_end__accept_relaxed),
		cmocka_unit_test(policy_decide__stale_after_grace_end__reject),
		cmocka_unit_test(policy_decide__stale_just_past_next_update__full_grace_left),
		cmocka_unit_test(policy_decide__stale_without_crl__reject_despite_grace),
		cmocka_unit_test(policy_decide__whole_table__as_documented),
		cmocka_unit_test(policy_decide__small_explain_buffer__truncated_terminated),
		cmocka_unit_test(policy_from_cfg__copies_plugin_keys),
		cmocka_unit_test(policy_evicts__revoked__evicts_whatever_the_policy),
		cmocka_unit_test(policy_evicts__unknown_good_or_error__never_evicts),
		cmocka_unit_test(policy_evicts__stale_past_grace_expired_reject__evicts),
		cmocka_unit_test(policy_evicts__stale_within_grace_or_expired_accept__stays),
		cmocka_unit_test(policy_rejects_from__expired_reject__grace_end_plus_one),
		cmocka_unit_test(policy_rejects_from__expired_accept_or_no_next_update__never),
	};

	return cmocka_run_group_tests_name("policy", tests, group_setup, NULL);
}
