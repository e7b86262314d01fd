/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the revocation index (include/crlsync/crl_index.h): serial forms, limits, bulk lookups. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "crlsync/crl_index.h"

#define T0 ((time_t)1700000000)

static struct crl_index *sealed_with(const unsigned char *serial, size_t len, bool negative, time_t at, int reason)
{
	struct crl_index *idx = crl_index_new(4);

	assert_non_null(idx);
	assert_int_equal(crl_index_add(idx, serial, len, negative, at, reason), 0);
	crl_index_seal(idx);
	return idx;
}

static void crl_index_find__one_byte_serial__found_with_time_and_reason(void **state)
{
	const unsigned char s[] = { 0x1f };
	const unsigned char other[] = { 0x20 };
	struct crl_index_hit hit = { 0, -1 };
	struct crl_index *idx;

	(void)state;
	idx = sealed_with(s, sizeof(s), false, T0, CRL_REASON_KEY_COMPROMISE);
	assert_int_equal(crl_index_count(idx), 1);
	assert_true(crl_index_find(idx, s, sizeof(s), false, &hit));
	assert_int_equal(hit.revoked_at, T0);
	assert_int_equal(hit.reason, CRL_REASON_KEY_COMPROMISE);
	assert_true(crl_index_find(idx, s, sizeof(s), false, NULL)); /* hit is optional */
	assert_false(crl_index_find(idx, other, sizeof(other), false, &hit));
	crl_index_free(idx);
}

static void crl_index_find__twenty_byte_serial__found(void **state)
{
	const unsigned char s[20] = { 0x7a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
				      0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13 };
	unsigned char last_differs[20];
	struct crl_index_hit hit;
	struct crl_index *idx;

	(void)state;
	idx = sealed_with(s, sizeof(s), false, T0 + 5, CRL_REASON_SUPERSEDED);
	assert_true(crl_index_find(idx, s, sizeof(s), false, &hit));
	assert_int_equal(hit.revoked_at, T0 + 5);
	assert_int_equal(hit.reason, CRL_REASON_SUPERSEDED);
	memcpy(last_differs, s, sizeof(s));
	last_differs[19] ^= 0x01;
	assert_false(crl_index_find(idx, last_differs, sizeof(last_differs), false, NULL));
	crl_index_free(idx);
}

/* DER pads a positive INTEGER whose top bit is set with 0x00 (X.690 §8.3.2); both forms are one serial. */
static void crl_index_find__leading_zero_pad__matches_unpadded(void **state)
{
	const unsigned char padded[] = { 0x00, 0x80, 0x01 };
	const unsigned char bare[] = { 0x80, 0x01 };
	const unsigned char double_pad[] = { 0x00, 0x00, 0x80, 0x01 };
	struct crl_index *idx;

	(void)state;
	idx = sealed_with(padded, sizeof(padded), false, T0, CRL_REASON_UNSPECIFIED);
	assert_true(crl_index_find(idx, bare, sizeof(bare), false, NULL));
	assert_true(crl_index_find(idx, padded, sizeof(padded), false, NULL));
	assert_true(crl_index_find(idx, double_pad, sizeof(double_pad), false, NULL));
	crl_index_free(idx);

	idx = sealed_with(bare, sizeof(bare), false, T0, CRL_REASON_UNSPECIFIED);
	assert_true(crl_index_find(idx, padded, sizeof(padded), false, NULL));
	crl_index_free(idx);
}

static void crl_index_find__negative_and_positive_same_magnitude__differ(void **state)
{
	const unsigned char s[] = { 0x05, 0x39 };
	struct crl_index_hit hit;
	struct crl_index *idx;

	(void)state;
	idx = sealed_with(s, sizeof(s), true, T0, CRL_REASON_CA_COMPROMISE);
	assert_true(crl_index_find(idx, s, sizeof(s), true, &hit));
	assert_int_equal(hit.reason, CRL_REASON_CA_COMPROMISE);
	assert_false(crl_index_find(idx, s, sizeof(s), false, NULL));
	crl_index_free(idx);

	idx = crl_index_new(0);
	assert_non_null(idx);
	assert_int_equal(crl_index_add(idx, s, sizeof(s), false, T0, CRL_REASON_SUPERSEDED), 0);
	assert_int_equal(crl_index_add(idx, s, sizeof(s), true, T0 + 1, CRL_REASON_AFFILIATION_CHANGED), 0);
	crl_index_seal(idx);
	assert_int_equal(crl_index_count(idx), 2);
	assert_true(crl_index_find(idx, s, sizeof(s), false, &hit));
	assert_int_equal(hit.reason, CRL_REASON_SUPERSEDED);
	assert_true(crl_index_find(idx, s, sizeof(s), true, &hit));
	assert_int_equal(hit.reason, CRL_REASON_AFFILIATION_CHANGED);
	assert_int_equal(hit.revoked_at, T0 + 1);
	crl_index_free(idx);
}

static void crl_index_find__neighbours__not_found(void **state)
{
	const unsigned char s[] = { 0x12, 0x34, 0x56 };
	const unsigned char one_more[] = { 0x12, 0x34, 0x57 };
	const unsigned char one_less[] = { 0x12, 0x34, 0x55 };
	const unsigned char prefix[] = { 0x12, 0x34 };
	const unsigned char extended[] = { 0x12, 0x34, 0x56, 0x00 };
	const unsigned char shifted[] = { 0x00, 0x12, 0x34 }; /* = 0x1234, not 0x123456 */
	struct crl_index *idx;

	(void)state;
	idx = sealed_with(s, sizeof(s), false, T0, CRL_REASON_UNSPECIFIED);
	assert_true(crl_index_find(idx, s, sizeof(s), false, NULL));
	assert_false(crl_index_find(idx, one_more, sizeof(one_more), false, NULL));
	assert_false(crl_index_find(idx, one_less, sizeof(one_less), false, NULL));
	assert_false(crl_index_find(idx, prefix, sizeof(prefix), false, NULL));
	assert_false(crl_index_find(idx, extended, sizeof(extended), false, NULL));
	assert_false(crl_index_find(idx, shifted, sizeof(shifted), false, NULL));
	crl_index_free(idx);
}

static void crl_index_seal__duplicates__one_entry(void **state)
{
	const unsigned char s[] = { 0x42 };
	const unsigned char padded[] = { 0x00, 0x42 };
	struct crl_index_hit hit;
	struct crl_index *idx;

	(void)state;
	idx = crl_index_new(1);
	assert_non_null(idx);
	assert_int_equal(crl_index_add(idx, s, sizeof(s), false, T0, CRL_REASON_KEY_COMPROMISE), 0);
	assert_int_equal(crl_index_add(idx, s, sizeof(s), false, T0, CRL_REASON_KEY_COMPROMISE), 0);
	assert_int_equal(crl_index_add(idx, padded, sizeof(padded), false, T0, CRL_REASON_KEY_COMPROMISE), 0);
	crl_index_seal(idx);
	assert_int_equal(crl_index_count(idx), 1);
	assert_true(crl_index_find(idx, s, sizeof(s), false, &hit));
	assert_int_equal(hit.reason, CRL_REASON_KEY_COMPROMISE);
	assert_int_equal(hit.revoked_at, T0);
	crl_index_free(idx);
}

static void crl_index_find__empty_index__nothing_found(void **state)
{
	const unsigned char s[] = { 0x01 };
	struct crl_index *idx;

	(void)state;
	idx = crl_index_new(0);
	assert_non_null(idx);
	crl_index_seal(idx);
	assert_int_equal(crl_index_count(idx), 0);
	assert_false(crl_index_find(idx, s, sizeof(s), false, NULL));
	assert_false(crl_index_find(idx, s, sizeof(s), true, NULL));
	crl_index_free(idx);
}

/* Serial 0 occurs in the wild; its magnitude is empty once the zero octet is stripped. */
static void crl_index_find__zero_serial__found_not_confused(void **state)
{
	const unsigned char zero[] = { 0x00 };
	const unsigned char one[] = { 0x01 };
	struct crl_index *idx;

	(void)state;
	idx = sealed_with(zero, sizeof(zero), false, T0, CRL_REASON_UNSPECIFIED);
	assert_true(crl_index_find(idx, zero, sizeof(zero), false, NULL));
	assert_false(crl_index_find(idx, one, sizeof(one), false, NULL));
	crl_index_free(idx);
}

static void crl_index_add__64_bytes__accepted(void **state)
{
	unsigned char s[CRL_SERIAL_MAX];
	struct crl_index *idx;

	(void)state;
	memset(s, 0xab, sizeof(s));
	idx = sealed_with(s, sizeof(s), false, T0, CRL_REASON_UNSPECIFIED);
	assert_true(crl_index_find(idx, s, sizeof(s), false, NULL));
	crl_index_free(idx);
}

static void crl_index_add__65_bytes__einval(void **state)
{
	unsigned char s[CRL_SERIAL_MAX + 1];
	struct crl_index *idx;

	(void)state;
	memset(s, 0xab, sizeof(s));
	idx = crl_index_new(1);
	assert_non_null(idx);
	assert_int_equal(crl_index_add(idx, s, sizeof(s), false, T0, CRL_REASON_UNSPECIFIED), -EINVAL);
	crl_index_seal(idx);
	assert_int_equal(crl_index_count(idx), 0);
	assert_false(crl_index_find(idx, s, sizeof(s), false, NULL));
	crl_index_free(idx);
}

/* The limit is on the magnitude: a 64-octet serial with its DER 0x00 pad is 65 octets long. */
static void crl_index_add__64_byte_magnitude_with_pad__accepted(void **state)
{
	unsigned char s[CRL_SERIAL_MAX + 1];
	struct crl_index *idx;

	(void)state;
	memset(s, 0xab, sizeof(s));
	s[0] = 0x00;
	idx = sealed_with(s, sizeof(s), false, T0, CRL_REASON_UNSPECIFIED);
	assert_true(crl_index_find(idx, s + 1, sizeof(s) - 1, false, NULL));
	crl_index_free(idx);
}

static void crl_index_add__after_seal__einval(void **state)
{
	const unsigned char s[] = { 0x01 };
	const unsigned char t[] = { 0x02 };
	struct crl_index *idx;

	(void)state;
	idx = sealed_with(s, sizeof(s), false, T0, CRL_REASON_UNSPECIFIED);
	assert_int_equal(crl_index_add(idx, t, sizeof(t), false, T0, CRL_REASON_UNSPECIFIED), -EINVAL);
	assert_int_equal(crl_index_count(idx), 1);
	assert_false(crl_index_find(idx, t, sizeof(t), false, NULL));
	crl_index_free(idx);
}

/* xorshift64*: the same "random" serials on every run. */
static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ULL;
}

#define BULK 10000

/*
 * Serial i of set `odd`: 5..20 octets, a non-zero first octet (so the length is the magnitude's),
 * i in two octets (so serials within a set differ) and the last octet's low bit = odd (so the sets
 * are disjoint).
 */
static size_t bulk_serial(uint64_t *rng, unsigned i, bool odd, unsigned char *s)
{
	size_t len = 5 + (size_t)(next_rand(rng) % 16);

	for (size_t k = 0; k < len; k++)
		s[k] = (unsigned char)next_rand(rng);
	if (s[0] == 0)
		s[0] = 1;
	s[len - 3] = (unsigned char)(i >> 8);
	s[len - 2] = (unsigned char)i;
	s[len - 1] = (unsigned char)((s[len - 1] & 0xfe) | (odd ? 1 : 0));
	return len;
}

static const int reasons[] = {
	CRL_REASON_UNSPECIFIED,
	CRL_REASON_KEY_COMPROMISE,
	CRL_REASON_CA_COMPROMISE,
	CRL_REASON_AFFILIATION_CHANGED,
	CRL_REASON_SUPERSEDED,
	CRL_REASON_CESSATION_OF_OPERATION,
	CRL_REASON_CERTIFICATE_HOLD,
	CRL_REASON_REMOVE_FROM_CRL,
	CRL_REASON_PRIVILEGE_WITHDRAWN,
	CRL_REASON_AA_COMPROMISE,
	CRL_REASON_ABSENT,
};

#define N_REASONS (sizeof(reasons) / sizeof(reasons[0]))

static void crl_index_find__10000_random__all_found_others_not(void **state)
{
	unsigned char s[32];
	struct crl_index_hit hit;
	struct crl_index *idx;
	uint64_t rng;

	(void)state;
	idx = crl_index_new(16); /* it has to grow */
	assert_non_null(idx);
	rng = 0x9e3779b97f4a7c15ULL;
	for (unsigned i = 0; i < BULK; i++) {
		size_t len = bulk_serial(&rng, i, false, s);

		assert_int_equal(crl_index_add(idx, s, len, false, T0 + (time_t)i, reasons[i % N_REASONS]), 0);
	}
	crl_index_seal(idx);
	assert_int_equal(crl_index_count(idx), BULK);
	assert_true(crl_index_bytes(idx) > 0);

	rng = 0x9e3779b97f4a7c15ULL; /* replay the same serials */
	for (unsigned i = 0; i < BULK; i++) {
		size_t len = bulk_serial(&rng, i, false, s);

		if (!crl_index_find(idx, s, len, false, &hit))
			fail_msg("serial %u not found", i);
		assert_int_equal(hit.revoked_at, T0 + (time_t)i);
		assert_int_equal(hit.reason, reasons[i % N_REASONS]);
		if (crl_index_find(idx, s, len, true, NULL))
			fail_msg("negative twin of serial %u found", i);
	}
	rng = 0xdeadbeefcafef00dULL;
	for (unsigned i = 0; i < BULK; i++) {
		size_t len = bulk_serial(&rng, i, true, s);

		if (crl_index_find(idx, s, len, false, NULL))
			fail_msg("unlisted serial %u found", i);
	}
	crl_index_free(idx);
}


/* A brute-force model: every (sign, magnitude) added, for the truth about any lookup. */
struct model_entry {
	unsigned char s[CRL_SERIAL_MAX];
	size_t len;
	bool neg;
	time_t at;
	int reason;
};

static int model_cmp(const void *pa, const void *pb)
{
	const struct model_entry *a = pa, *b = pb;

	if (a->neg != b->neg)
		return a->neg ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->s, b->s, a->len);
}

static uint64_t next_rng(uint64_t *r)
{
	*r ^= *r << 13;
	*r ^= *r >> 7;
	*r ^= *r << 17;
	return *r;
}

/*
 * Serials that stress the layout: lengths 1..30 (heads alone, heads + tails), many sharing their
 * first 7 octets (equal heads: the tail decides), some negative, some duplicated, dates before
 * 1970 and after 2106 (the side table). Checked against the model after sealing.
 */
static void model_case(size_t n, bool presorted)
{
	struct model_entry *m = calloc(n, sizeof(*m));
	struct crl_index *idx = crl_index_new(presorted ? n : 0);
	struct crl_index_hit hit;
	uint64_t rng = 0x0123456789abcdefULL + n;
	size_t uniq = 0;

	assert_non_null(m);
	for (size_t i = 0; i < n; i++) {
		uint64_t r = next_rng(&rng);

		m[i].len = 1 + (size_t)(r % 30);
		for (size_t k = 0; k < m[i].len; k++)
			m[i].s[k] = (unsigned char)next_rng(&rng);
		m[i].s[0] |= 1; /* no leading zero: the model compares magnitudes */
		if (r % 5 == 0 && i > 0 && m[i - 1].len > 7) {
			/* same first 7 octets as the previous one, another tail */
			m[i].len = m[i - 1].len;
			memcpy(m[i].s, m[i - 1].s, 7);
		}
		if (r % 97 == 0 && i > 0)
			m[i] = m[i - 1]; /* a duplicate */
		m[i].neg = r % 61 == 0;
		m[i].at = r % 89 == 0 ? (time_t)-86400 * 365 : r % 83 == 0 ? (time_t)7258118400 /* 2200 */
											: T0 + (time_t)(r % 100000);
		m[i].reason = reasons[r % N_REASONS];
	}
	if (presorted)
		qsort(m, n, sizeof(*m), model_cmp);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(crl_index_add(idx, m[i].s, m[i].len, m[i].neg, m[i].at, m[i].reason), 0);
	assert_int_equal(crl_index_seal(idx), 0);
	/* The model's answer for duplicates: the earliest date (and that entry's reason). */
	qsort(m, n, sizeof(*m), model_cmp);
	for (size_t i = 0; i < n; i++) {
		size_t j = i, best = i;

		while (j + 1 < n && model_cmp(&m[j + 1], &m[i]) == 0) {
			j++;
			if (m[j].at < m[best].at)
				best = j;
		}
		uniq++;
		if (!crl_index_find(idx, m[i].s, m[i].len, m[i].neg, &hit))
			fail_msg("entry %zu (len %zu) not found", i, m[i].len);
		assert_int_equal(hit.revoked_at, m[best].at);
		assert_int_equal(hit.reason, m[best].reason);
		/* Its neighbour in value, one more in the last octet, is listed only if the model says so. */
		{
			struct model_entry probe = m[i];
			bool listed;

			probe.s[probe.len - 1]++;
			listed = bsearch(&probe, m, n, sizeof(*m), model_cmp) != NULL;
			assert_int_equal(crl_index_find(idx, probe.s, probe.len, probe.neg, NULL), listed);
			probe.neg = !probe.neg;
			probe.s[probe.len - 1]--;
			listed = bsearch(&probe, m, n, sizeof(*m), model_cmp) != NULL;
			assert_int_equal(crl_index_find(idx, probe.s, probe.len, probe.neg, NULL), listed);
		}
		i = j;
	}
	assert_int_equal(crl_index_count(idx), uniq);
	crl_index_free(idx);
	free(m);
}

static void crl_index_find__small_mixed_against_model__agrees(void **state)
{
	(void)state;
	model_case(5000, false); /* below the radix threshold: qsort */
}

static void crl_index_find__large_mixed_against_model__agrees(void **state)
{
	(void)state;
	model_case(150000, false); /* radix sort */
}

static void crl_index_find__presorted_against_model__agrees(void **state)
{
	(void)state;
	model_case(100000, true); /* the already-sorted shortcut, reserved at its final size */
}

/* Sequential serials (openssl ca, easy-rsa) bunch up in a few directory buckets: the sampled directory answers. */
static void crl_index_find__100000_sequential__all_found_neighbours_not(void **state)
{
	struct crl_index *idx = crl_index_new(0);
	unsigned char s[4];
	struct crl_index_hit hit;

	(void)state;
	for (uint32_t v = 1; v <= 100000; v++) {
		s[0] = (unsigned char)(v >> 24), s[1] = (unsigned char)(v >> 16), s[2] = (unsigned char)(v >> 8), s[3] = (unsigned char)v;
		assert_int_equal(crl_index_add(idx, s, 4, false, T0 + v, CRL_REASON_SUPERSEDED), 0);
	}
	assert_int_equal(crl_index_seal(idx), 0);
	for (uint32_t v = 0; v <= 100001; v++) {
		bool want = v >= 1 && v <= 100000;

		s[0] = (unsigned char)(v >> 24), s[1] = (unsigned char)(v >> 16), s[2] = (unsigned char)(v >> 8), s[3] = (unsigned char)v;
		if (crl_index_find(idx, s, 4, false, &hit) != want)
			fail_msg("serial %u: want %d", v, want);
		if (want)
			assert_int_equal(hit.revoked_at, T0 + v);
		if (v > 0 && crl_index_find(idx, s, 4, true, NULL))
			fail_msg("negative %u found", v);
	}
	crl_index_free(idx);
}

static void crl_index_reserve__exact__no_growth_needed(void **state)
{
	const unsigned char s[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
	struct crl_index *idx = crl_index_new(0);
	size_t before;

	(void)state;
	assert_int_equal(crl_index_reserve(idx, 1, 13), 0);
	before = crl_index_bytes(idx);
	assert_int_equal(crl_index_add(idx, s, sizeof(s), false, T0, CRL_REASON_ABSENT), 0);
	assert_int_equal(crl_index_bytes(idx), before);
	assert_int_equal(crl_index_seal(idx), 0);
	assert_int_equal(crl_index_reserve(idx, 1, 0), -EINVAL); /* sealed */
	crl_index_free(idx);
}

static void crl_index_free__null__no_op(void **state)
{
	(void)state;
	crl_index_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crl_index_find__one_byte_serial__found_with_time_and_reason),
		cmocka_unit_test(crl_index_find__twenty_byte_serial__found),
		cmocka_unit_test(crl_index_find__leading_zero_pad__matches_unpadded),
		cmocka_unit_test(crl_index_find__negative_and_positive_same_magnitude__differ),
		cmocka_unit_test(crl_index_find__neighbours__not_found),
		cmocka_unit_test(crl_index_seal__duplicates__one_entry),
		cmocka_unit_test(crl_index_find__empty_index__nothing_found),
		cmocka_unit_test(crl_index_find__zero_serial__found_not_confused),
		cmocka_unit_test(crl_index_add__64_bytes__accepted),
		cmocka_unit_test(crl_index_add__65_bytes__einval),
		cmocka_unit_test(crl_index_add__64_byte_magnitude_with_pad__accepted),
		cmocka_unit_test(crl_index_add__after_seal__einval),
		cmocka_unit_test(crl_index_find__10000_random__all_found_others_not),
		cmocka_unit_test(crl_index_find__small_mixed_against_model__agrees),
		cmocka_unit_test(crl_index_find__large_mixed_against_model__agrees),
		cmocka_unit_test(crl_index_find__presorted_against_model__agrees),
		cmocka_unit_test(crl_index_find__100000_sequential__all_found_neighbours_not),
		cmocka_unit_test(crl_index_reserve__exact__no_growth_needed),
		cmocka_unit_test(crl_index_free__null__no_op),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
