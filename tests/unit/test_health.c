/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of fetcher/health.c: the one place where `crlsync health' decides OK, WARNING, CRITICAL or UNKNOWN. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "health.h"

#define NOW ((time_t)1800000000)
#define DAY 86400LL

/* A fresh source: a 7-day CRL issued a day ago, last attempt fine, nothing else configured. */
static struct health_src_in fresh(void)
{
	return (struct health_src_in){
		.name = "issuing",
		.have_crl = true,
		.number = "0A",
		.this_update = NOW - DAY,
		.has_next_update = true,
		.next_update = NOW + 6 * DAY,
		.installed_at = NOW - DAY,
		.result = "not-modified",
		.last_result = "unchanged (304 Not Modified)",
		.hook = "",
		.charon = "",
	};
}

static struct health_params params(long long warn, long long crit)
{
	return (struct health_params){ .now = NOW, .grace = 0, .warn = warn, .crit = crit };
}

static enum health_state run(const struct health_params *p, const struct health_src_in *in, struct health_src_out *out)
{
	health_source(p, in, out);
	print_message("%s: %s\n", health_state_name(out->state), out->why);
	return out->state;
}

static void health_source__fresh_defaults__ok_with_thresholds(void **state)
{
	struct health_src_in in = fresh();
	struct health_params p = params(-1, -1);
	struct health_src_out out;

	(void)state;
	assert_int_equal(run(&p, &in, &out), HEALTH_OK);
	assert_true(out.has_left);
	assert_int_equal(out.left, 6 * DAY);
	assert_int_equal(out.warn, 7 * DAY / 4); /* a quarter of the validity */
	assert_int_equal(out.crit, 3600);        /* 1 h: shorter than an eighth of 7 days */
	assert_non_null(strstr(out.why, "number 0A valid for 6d 0h"));
}

static void health_source__short_validity_default_crit__an_eighth(void **state)
{
	struct health_src_in in = fresh();
	struct health_params p = params(-1, -1);
	struct health_src_out out;

	(void)state;
	in.this_update = NOW - 60;
	in.next_update = NOW + 3540; /* a 1-hour CRL, a minute old: fresh, not critical */
	assert_int_equal(run(&p, &in, &out), HEALTH_OK);
	assert_int_equal(out.crit, 3600 / 8);
	/* ...and its twin, within that eighth: critical */
	in.next_update = NOW + 400;
	in.this_update = in.next_update - 3600;
	assert_int_equal(run(&p, &in, &out), HEALTH_CRITICAL);
}

static void health_source__within_warn__warning(void **state)
{
	struct health_src_in in = fresh();
	struct health_params p = params(6 * DAY, 3600);
	struct health_src_out out;

	(void)state;
	assert_int_equal(run(&p, &in, &out), HEALTH_WARNING); /* left == warn */
	assert_non_null(strstr(out.why, "expires in 6d 0h"));
	p.warn = 6 * DAY - 1;
	assert_int_equal(run(&p, &in, &out), HEALTH_OK); /* one second outside */
}

static void health_source__within_crit__critical(void **state)
{
	struct health_src_in in = fresh();
	struct health_params p = params(7 * DAY, 6 * DAY);
	struct health_src_out out;

	(void)state;
	assert_int_equal(run(&p, &in, &out), HEALTH_CRITICAL);
	p.crit = 6 * DAY - 1;
	assert_int_equal(run(&p, &in, &out), HEALTH_WARNING); /* outside crit, inside warn */
}

static void health_source__expired__critical(void **state)
{
	struct health_src_in in = fresh();
	struct health_params p = params(0, 0);
	struct health_src_out out;

	(void)state;
	in.next_update = NOW - 120;
	assert_int_equal(run(&p, &in, &out), HEALTH_CRITICAL);
	assert_non_null(strstr(out.why, "expired 2m 0s ago"));
	assert_true(out.left < 0);
}

static void health_source__expired_within_grace__not_expired(void **state)
{
	struct health_src_in in = fresh();
	struct health_params p = params(0, 0);
	struct health_src_out out;

	(void)state;
	in.next_update = NOW - 120;
	p.grace = 3600; /* the plugin still honours it for 58 minutes */
	assert_int_equal(run(&p, &in, &out), HEALTH_OK);
	assert_int_equal(out.left, 3480);
	p.crit = 3600;
	assert_int_equal(run(&p, &in, &out), HEALTH_CRITICAL);
	assert_non_null(strstr(out.why, "expires in 58m"));
	/* past nextUpdate + grace */
	p.grace = 60;
	assert_int_equal(run(&p, &in, &out), HEALTH_CRITICAL);
	assert_non_null(strstr(out.why, "expired 1m 0s ago (nextUpdate + grace)"));
}

static void health_source__no_crl__critical(void **state)
{
	struct health_src_in in = fresh();
	struct health_params p = params(-1, -1);
	struct health_src_out out;

	(void)state;
	in.have_crl = false;
	in.failures = 2;
	in.last_result = "http://127.0.0.1/x.crl: HTTP 404";
	assert_int_equal(run(&p, &in, &out), HEALTH_CRITICAL);
	assert_non_null(strstr(out.why, "no CRL installed (last attempt: http://127.0.0.1/x.crl: HTTP 404)"));
	/* a state that describes a CRL whose file is gone */
	in = fresh();
	in.file_err = -ENOENT;
	assert_int_equal(run(&p, &in, &out), HEALTH_CRITICAL);
}

static void health_source__failed_attempt_valid_crl__warning(void **state)
{
	struct health_src_in in = fresh();
	struct health_params p = params(-1, -1);
	struct health_src_out out;

	(void)state;
	in.failures = 1;
	in.result = "download-failed";
	in.last_result = "HTTP 503";
	assert_int_equal(run(&p, &in, &out), HEALTH_WARNING);
	assert_non_null(strstr(out.why, "last attempt failed (download-failed: HTTP 503, 1 in a row)"));
}

static void health_source__unreadable_state__unknown(void **state)
{
	struct health_src_in in = fresh();
	struct health_params p = params(-1, -1);
	struct health_src_out out;

	(void)state;
	in.state_err = -EACCES;
	assert_int_equal(run(&p, &in, &out), HEALTH_UNKNOWN);
	assert_non_null(strstr(out.why, "cannot read its state (.state/issuing.json): Permission denied"));
	in = fresh();
	in.file_err = -EACCES;
	assert_int_equal(run(&p, &in, &out), HEALTH_UNKNOWN);
}

static void health_source__on_install_failed_for_current__warning(void **state)
{
	struct health_src_in in = fresh();
	struct health_params p = params(-1, -1);
	struct health_src_out out;

	(void)state;
	in.hook = "failed";
	in.hook_number = "0A";
	in.hook_detail = "exit 1: occtl: cannot connect";
	assert_int_equal(run(&p, &in, &out), HEALTH_WARNING);
	assert_non_null(strstr(out.why, "on-install failed for number 0A: exit 1: occtl: cannot connect"));
	in.hook = "timeout";
	assert_int_equal(run(&p, &in, &out), HEALTH_WARNING);
	/* twins: about an older number (superseded), or fine */
	in.hook_number = "09";
	assert_int_equal(run(&p, &in, &out), HEALTH_OK);
	in.hook = "ok";
	in.hook_number = "0A";
	assert_int_equal(run(&p, &in, &out), HEALTH_OK);
}

static void health_source__gateway_behind_over_30s__critical(void **state)
{
	struct health_src_in in = fresh();
	struct health_params p = params(-1, -1);
	struct health_src_out out;

	(void)state;
	in.gw_configured = true;
	in.gw_listed = true;
	in.gw_number = "09";
	in.installed_at = NOW - 31;
	assert_int_equal(run(&p, &in, &out), HEALTH_CRITICAL);
	assert_non_null(strstr(out.why, "the gateway enforces number 09, 0A installed 31s ago"));
	in.installed_at = NOW - 30; /* not yet: the plugin reloads within seconds */
	assert_int_equal(run(&p, &in, &out), HEALTH_OK);
	in.installed_at = NOW - 300;
	in.gw_number = "0a"; /* the same number */
	assert_int_equal(run(&p, &in, &out), HEALTH_OK);
	in.gw_listed = false; /* not enforced at all */
	in.gw_number = NULL;
	assert_int_equal(run(&p, &in, &out), HEALTH_CRITICAL);
	in.gw_err = -ENOENT; /* no status file to read */
	assert_int_equal(run(&p, &in, &out), HEALTH_UNKNOWN);
}

static void health_source__several_problems__worst_first(void **state)
{
	struct health_src_in in = fresh();
	struct health_params p = params(-1, -1);
	struct health_src_out out;

	(void)state;
	in.failures = 3;
	in.next_update = NOW - 10;
	assert_int_equal(run(&p, &in, &out), HEALTH_CRITICAL);
	assert_ptr_equal(strstr(out.why, "CRL number 0A expired"), out.why);
	assert_non_null(strstr(out.why, "; last attempt failed"));
}

static void health_worse__order__critical_warning_unknown_ok(void **state)
{
	(void)state;
	assert_int_equal(health_worse(HEALTH_OK, HEALTH_UNKNOWN), HEALTH_UNKNOWN);
	assert_int_equal(health_worse(HEALTH_UNKNOWN, HEALTH_WARNING), HEALTH_WARNING);
	assert_int_equal(health_worse(HEALTH_CRITICAL, HEALTH_WARNING), HEALTH_CRITICAL);
	assert_int_equal(health_worse(HEALTH_UNKNOWN, HEALTH_CRITICAL), HEALTH_CRITICAL);
	assert_int_equal(health_worse(HEALTH_OK, HEALTH_OK), HEALTH_OK);
}

static void health_number_cmp__hex__numeric_order(void **state)
{
	(void)state;
	assert_true(health_number_cmp("0A", "10") < 0);
	assert_true(health_number_cmp("0100", "FF") > 0);
	assert_int_equal(health_number_cmp("0a", "0A"), 0);
	assert_int_equal(health_number_cmp("00", "0"), 0);
	assert_true(health_number_cmp("none", "01") < 0);
	assert_int_equal(health_number_cmp("none", "none"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(health_source__fresh_defaults__ok_with_thresholds),
		cmocka_unit_test(health_source__short_validity_default_crit__an_eighth),
		cmocka_unit_test(health_source__within_warn__warning),
		cmocka_unit_test(health_source__within_crit__critical),
		cmocka_unit_test(health_source__expired__critical),
		cmocka_unit_test(health_source__expired_within_grace__not_expired),
		cmocka_unit_test(health_source__no_crl__critical),
		cmocka_unit_test(health_source__failed_attempt_valid_crl__warning),
		cmocka_unit_test(health_source__unreadable_state__unknown),
		cmocka_unit_test(health_source__on_install_failed_for_current__warning),
		cmocka_unit_test(health_source__gateway_behind_over_30s__critical),
		cmocka_unit_test(health_source__several_problems__worst_first),
		cmocka_unit_test(health_worse__order__critical_warning_unknown_ok),
		cmocka_unit_test(health_number_cmp__hex__numeric_order),
	};

	return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
