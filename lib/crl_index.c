/* SPDX-License-Identifier: GPL-2.0-only */
/* The revocation index: a sorted array of serials compared as integers, searched by bisection. */
#include "crlsync/crl_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * Entries are fixed-size and refer to serial octets in one arena, so an index is two allocations
 * whatever its size. Serials compare as integers: sign first, then length of the magnitude
 * (leading zeros stripped on the way in), then octets.
 */
struct entry {
	int64_t revoked_at;
	uint32_t off;
	uint8_t len;
	uint8_t neg;
	uint8_t reason;
};

struct crl_index {
	struct entry *e;
	size_t n, cap;
	unsigned char *arena;
	size_t arena_len, arena_cap;
	bool sealed;
};

struct crl_index *crl_index_new(size_t hint)
{
	struct crl_index *idx = calloc(1, sizeof(*idx));

	if (idx == NULL)
		return NULL;
	if (hint > 0) {
		idx->e = malloc(hint * sizeof(*idx->e));
		idx->arena = malloc(hint * 20);
		if (idx->e == NULL || idx->arena == NULL) {
			crl_index_free(idx);
			return NULL;
		}
		idx->cap = hint;
		idx->arena_cap = hint * 20;
	}
	return idx;
}

static void strip(const unsigned char **s, size_t *len)
{
	while (*len > 0 && (*s)[0] == 0) {
		(*s)++;
		(*len)--;
	}
}

int crl_index_add(struct crl_index *idx, const unsigned char *serial, size_t len, bool negative, time_t revoked_at,
		  int reason)
{
	strip(&serial, &len);
	if (idx->sealed || len > CRL_SERIAL_MAX)
		return -EINVAL;
	if (idx->n == idx->cap) {
		size_t cap = idx->cap ? idx->cap * 2 : 64;
		struct entry *e = realloc(idx->e, cap * sizeof(*e));

		if (e == NULL)
			return -ENOMEM;
		idx->e = e;
		idx->cap = cap;
	}
	if (idx->arena_len + len > idx->arena_cap) {
		size_t cap = idx->arena_cap ? idx->arena_cap * 2 : 1024;
		unsigned char *a;

		while (cap < idx->arena_len + len)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -ENOMEM;
		a = realloc(idx->arena, cap);
		if (a == NULL)
			return -ENOMEM;
		idx->arena = a;
		idx->arena_cap = cap;
	}
	if (len > 0)
		memcpy(idx->arena + idx->arena_len, serial, len);
	idx->e[idx->n] = (struct entry){
		.revoked_at = revoked_at,
		.off = (uint32_t)idx->arena_len,
		.len = (uint8_t)len,
		.neg = negative && len > 0, /* -0 is 0 */
		.reason = (uint8_t)(reason < 0 || reason > 255 ? CRL_REASON_ABSENT : reason),
	};
	idx->arena_len += len;
	idx->n++;
	return 0;
}

static int key_cmp(const unsigned char *a, size_t alen, bool aneg, const unsigned char *b, size_t blen, bool bneg)
{
	int c;

	if (aneg != bneg)
		return aneg ? -1 : 1;
	if (alen != blen)
		c = alen < blen ? -1 : 1;
	else
		c = alen ? memcmp(a, b, alen) : 0;
	return aneg ? -c : c;
}

/* glibc's qsort_r (_GNU_SOURCE) passes the arena as context. */
static int entry_cmp(const void *pa, const void *pb, void *ctx)
{
	const unsigned char *arena = ctx;
	const struct entry *a = pa, *b = pb;
	int c = key_cmp(arena + a->off, a->len, a->neg, arena + b->off, b->len, b->neg);

	if (c != 0)
		return c;
	/* Duplicates: keep the earliest revocation first so dedup keeps it. */
	return (a->revoked_at > b->revoked_at) - (a->revoked_at < b->revoked_at);
}

void crl_index_seal(struct crl_index *idx)
{
	size_t i, w;

	if (idx->sealed)
		return;
	idx->sealed = true;
	if (idx->n < 2)
		return;
	qsort_r(idx->e, idx->n, sizeof(*idx->e), entry_cmp, idx->arena);
	for (i = 1, w = 1; i < idx->n; i++) {
		const struct entry *p = &idx->e[w - 1], *c = &idx->e[i];

		if (key_cmp(idx->arena + p->off, p->len, p->neg, idx->arena + c->off, c->len, c->neg) == 0)
			continue;
		idx->e[w++] = *c;
	}
	idx->n = w;
}

bool crl_index_find(const struct crl_index *idx, const unsigned char *serial, size_t len, bool negative,
		    struct crl_index_hit *hit)
{
	size_t lo = 0, hi;

	if (idx == NULL || !idx->sealed)
		return false;
	strip(&serial, &len);
	if (len == 0)
		negative = false;
	hi = idx->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct entry *e = &idx->e[mid];
		int c = key_cmp(idx->arena + e->off, e->len, e->neg, serial, len, negative);

		if (c == 0) {
			if (hit != NULL) {
				hit->revoked_at = (time_t)e->revoked_at;
				hit->reason = e->reason;
			}
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

size_t crl_index_count(const struct crl_index *idx)
{
	return idx ? idx->n : 0;
}

size_t crl_index_bytes(const struct crl_index *idx)
{
	return idx ? sizeof(*idx) + idx->cap * sizeof(*idx->e) + idx->arena_cap : 0;
}

void crl_index_free(struct crl_index *idx)
{
	if (idx == NULL)
		return;
	free(idx->e);
	free(idx->arena);
	free(idx);
}

const char *crl_reason_str(int reason)
{
	switch (reason) {
	case CRL_REASON_UNSPECIFIED: return "unspecified";
	case CRL_REASON_KEY_COMPROMISE: return "keyCompromise";
	case CRL_REASON_CA_COMPROMISE: return "cACompromise";
	case CRL_REASON_AFFILIATION_CHANGED: return "affiliationChanged";
	case CRL_REASON_SUPERSEDED: return "superseded";
	case CRL_REASON_CESSATION_OF_OPERATION: return "cessationOfOperation";
	case CRL_REASON_CERTIFICATE_HOLD: return "certificateHold";
	case CRL_REASON_REMOVE_FROM_CRL: return "removeFromCRL";
	case CRL_REASON_PRIVILEGE_WITHDRAWN: return "privilegeWithdrawn";
	case CRL_REASON_AA_COMPROMISE: return "aACompromise";
	case CRL_REASON_ABSENT: return "unspecified"; /* RFC 5280 §5.3.1: absent means unspecified */
	default: return "unknown reason";
	}
}
