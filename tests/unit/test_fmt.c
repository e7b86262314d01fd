/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of lib/fmt.c: the text of times, serials, numbers, reasons, scopes and errno values. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/bn.h>

#include "crlsync/crl.h"
#include "crlsync/crl_index.h"
#include "crlsync/fmt.h"

static void serial_hex_of(const unsigned char *mag, size_t n, bool negative, char *buf, size_t len)
{
	BIGNUM *bn = BN_bin2bn(mag, (int)n, NULL);
	ASN1_INTEGER *ai;

	assert_non_null(bn);
	BN_set_negative(bn, negative);
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	assert_non_null(ai);
	fmt_serial(ai, buf, len);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
}

static void fmt_serial__values__upper_hex(void **state)
{
	static const unsigned char s1f = 0x1F, zero = 0x00, top[] = { 0x8A, 0x3F };
	unsigned char twenty[20];
	char buf[64], want[41];

	(void)state;
	serial_hex_of(&s1f, 1, false, buf, sizeof(buf));
	assert_string_equal(buf, "1F");
	serial_hex_of(&zero, 1, false, buf, sizeof(buf));
	assert_string_equal(buf, "00");
	serial_hex_of(&s1f, 1, true, buf, sizeof(buf));
	assert_string_equal(buf, "-1F");
	serial_hex_of(top, 2, false, buf, sizeof(buf));
	assert_string_equal(buf, "8A3F");
	for (int i = 0; i < 20; i++) {
		twenty[i] = (unsigned char)(0xA0 + i);
		snprintf(want + 2 * i, 3, "%02X", twenty[i]);
	}
	serial_hex_of(twenty, 20, false, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void fmt_serial__small_buffer__truncated_terminated(void **state)
{
	static const unsigned char top[] = { 0x8A, 0x3F, 0x11 };
	char buf[6];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	serial_hex_of(top, 3, false, buf, 5);
	assert_string_equal(buf, "8A3F");
	assert_int_equal(buf[5], 'x'); /* nothing written past len */
	serial_hex_of(top, 3, false, buf, 1);
	assert_string_equal(buf, "");
}

static void fmt_time__known_instants__utc(void **state)
{
	char buf[40];

	(void)state;
	fmt_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01 00:00:00 UTC");
	fmt_time(1793613600, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-02 10:00:00 UTC");
}

static void fmt_time__small_buffer__fallback_terminated(void **state)
{
	char buf[8];

	(void)state;
	fmt_time(1793613600, buf, sizeof(buf));
	assert_true(memchr(buf, '\0', sizeof(buf)) != NULL);
}


static void fmt_reason__codes__rfc5280_names(void **state)
{
	static const struct {
		int reason;
		const char *name;
	} names[] = {
		{ CRL_REASON_UNSPECIFIED, "unspecified" },
		{ CRL_REASON_KEY_COMPROMISE, "keyCompromise" },
		{ CRL_REASON_CA_COMPROMISE, "cACompromise" },
		{ CRL_REASON_AFFILIATION_CHANGED, "affiliationChanged" },
		{ CRL_REASON_SUPERSEDED, "superseded" },
		{ CRL_REASON_CESSATION_OF_OPERATION, "cessationOfOperation" },
		{ CRL_REASON_CERTIFICATE_HOLD, "certificateHold" },
		{ CRL_REASON_REMOVE_FROM_CRL, "removeFromCRL" },
		{ CRL_REASON_PRIVILEGE_WITHDRAWN, "privilegeWithdrawn" },
		{ CRL_REASON_AA_COMPROMISE, "aACompromise" },
		{ CRL_REASON_ABSENT, "unspecified" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_string_equal(fmt_reason(names[i].reason), names[i].name);
	/* 7 is unassigned in RFC 5280 §5.3.1; whatever the name, there is one */
	assert_non_null(fmt_reason(7));
	assert_non_null(fmt_reason(-1));
	assert_non_null(fmt_reason(1000));
}

static void fmt_number__forms__as_crl_number_hex(void **state)
{
	static const unsigned char n[] = { 0x0A, 0x00, 0xFF };
	char buf[2 * CRL_NUMBER_MAX + 3];

	(void)state;
	fmt_number(true, n, 3, buf, sizeof(buf));
	assert_string_equal(buf, "0A00FF");
	fmt_number(true, n, 0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	/* Twin: no number at all. */
	fmt_number(false, n, 3, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	/* Truncated, never overrun: whole octets only. */
	fmt_number(true, n, 3, buf, 6);
	assert_string_equal(buf, "0A00");
}

static void fmt_hex_lower__digest__lower_case(void **state)
{
	static const unsigned char d[] = { 0x00, 0xAB, 0xCD, 0xEF };
	char out[9];

	(void)state;
	fmt_hex_lower(d, sizeof(d), out);
	assert_string_equal(out, "00abcdef");
	fmt_hex_lower(d, 0, out);
	assert_string_equal(out, "");
}

static void fmt_scope__flags__named(void **state)
{
	char buf[160];

	(void)state;
	fmt_scope(0, buf, sizeof(buf));
	assert_string_equal(buf, "complete (no issuingDistributionPoint)");
	/* Twin: the IDP flags have no meaning without CRL_HAS_IDP. */
	fmt_scope(CRL_IDP_USER_ONLY, buf, sizeof(buf));
	assert_string_equal(buf, "complete (no issuingDistributionPoint)");
	fmt_scope(CRL_HAS_IDP | CRL_IDP_USER_ONLY | CRL_IDP_HAS_DP, buf, sizeof(buf));
	assert_string_equal(buf, "issuingDistributionPoint: onlyContainsUserCerts distributionPoint");
	fmt_scope(CRL_HAS_IDP | CRL_IDP_CA_ONLY | CRL_IDP_ATTR_ONLY | CRL_IDP_SOME_REASONS | CRL_IDP_INDIRECT, buf,
		  sizeof(buf));
	assert_string_equal(buf, "issuingDistributionPoint: onlyContainsCACerts onlyContainsAttributeCerts "
				 "onlySomeReasons indirectCRL");
}

static void fmt_errno__known_and_unknown__text_in_any_case(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(fmt_errno(ENOENT, buf, sizeof(buf)), "No such file or directory");
	/* Twin: an unknown value still gives a string, not NULL. */
	assert_non_null(fmt_errno(123456, buf, sizeof(buf)));
	assert_true(strlen(fmt_errno(123456, buf, sizeof(buf))) > 0);
}

static void fmt_err__buffer__message_or_nothing(void **state)
{
	char buf[16];

	(void)state;
	fmt_err(buf, sizeof(buf), "line %d: %s", 12, "unknown key");
	assert_string_equal(buf, "line 12: unknow"); /* truncated, terminated */
	/* Twin: no buffer, nothing written and no crash. */
	fmt_err(NULL, 0, "line %d", 1);
	buf[0] = 'x';
	fmt_err(buf, 0, "line %d", 1);
	assert_int_equal(buf[0], 'x');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fmt_serial__values__upper_hex),
		cmocka_unit_test(fmt_serial__small_buffer__truncated_terminated),
		cmocka_unit_test(fmt_time__known_instants__utc),
		cmocka_unit_test(fmt_time__small_buffer__fallback_terminated),
		cmocka_unit_test(fmt_reason__codes__rfc5280_names),
		cmocka_unit_test(fmt_number__forms__as_crl_number_hex),
		cmocka_unit_test(fmt_hex_lower__digest__lower_case),
		cmocka_unit_test(fmt_scope__flags__named),
		cmocka_unit_test(fmt_errno__known_and_unknown__text_in_any_case),
		cmocka_unit_test(fmt_err__buffer__message_or_nothing),
	};

	return cmocka_run_group_tests_name("fmt", tests, NULL, NULL);
}
