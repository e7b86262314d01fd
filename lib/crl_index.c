/* SPDX-License-Identifier: GPL-2.0-only */
/* The revocation index: serials sorted as integers in a compact array, found through a small sampled directory. */
#include "crlsync/crl_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * Layout, chosen for a million-entry CRL (docs/PERFORMANCE.md has the measurements):
 *  - head[i]: 8 bytes that order the serials: octet 0 is the magnitude's length (0x80 set for a
 *    negative serial), octets 1..7 its first 7 octets, zero-padded. Comparing heads as integers
 *    compares (sign, length, leading octets), i.e. the serials as integers up to the tail.
 *  - rec[i]: the revocation time (uint32 seconds since 1970; UINT32_MAX sends the lookup to a side
 *    table for the rare date outside 1970..2106), the reason, and the offset of the serial's
 *    octets beyond the 7th ("tail") in one arena. Tails stay in the order they were added.
 *  - top[]: every TOP_STRIDE-th head, a directory small enough to stay in cache, so that a lookup
 *    touches one or two cache lines of head[] and one rec.
 * With 20-octet serials (the RFC 5280 maximum, and the common random ones) that is 8 + 9 + 13 + 0.5
 * bytes per entry.
 */
#define HEAD_OCTETS 7
#define TOP_STRIDE 16
#define WHEN_BIG UINT32_MAX

struct rec {
	uint32_t when;
	uint32_t tail;
	uint8_t reason;
} __attribute__((packed));

struct big_when {
	uint64_t head;
	uint32_t tail;
	int64_t when;
};

struct crl_index {
	uint64_t *head;
	struct rec *rec;
	size_t n, cap;
	unsigned char *tails;
	size_t tails_len, tails_cap;
	uint64_t *top;
	size_t n_top;
	struct big_when *big;
	size_t n_big;
	bool sealed;
};

struct crl_index *crl_index_new(size_t hint)
{
	struct crl_index *idx = calloc(1, sizeof(*idx));

	if (idx == NULL)
		return NULL;
	if (hint > 0 && crl_index_reserve(idx, hint, 0) != 0) {
		crl_index_free(idx);
		return NULL;
	}
	return idx;
}

static int grow_entries(struct crl_index *idx, size_t cap)
{
	uint64_t *h;
	struct rec *r;

	if (cap > (size_t)UINT32_MAX)
		return -ENOMEM;
	h = realloc(idx->head, cap * sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	idx->head = h;
	r = realloc(idx->rec, cap * sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	idx->rec = r;
	idx->cap = cap;
	return 0;
}

static int grow_tails(struct crl_index *idx, size_t cap)
{
	unsigned char *t;

	if (cap > (size_t)UINT32_MAX)
		return -ENOMEM;
	t = realloc(idx->tails, cap ? cap : 1);
	if (t == NULL)
		return -ENOMEM;
	idx->tails = t;
	idx->tails_cap = cap;
	return 0;
}

int crl_index_reserve(struct crl_index *idx, size_t n, size_t tail_bytes)
{
	int r = 0;

	if (idx->sealed)
		return -EINVAL;
	if (n > SIZE_MAX / 2 - idx->n || tail_bytes > SIZE_MAX / 2 - idx->tails_len)
		return -ENOMEM;
	if (idx->n + n > idx->cap)
		r = grow_entries(idx, idx->n + n);
	if (r == 0 && idx->tails_len + tail_bytes > idx->tails_cap)
		r = grow_tails(idx, idx->tails_len + tail_bytes);
	return r;
}

static void strip(const unsigned char **s, size_t *len)
{
	while (*len > 0 && (*s)[0] == 0) {
		(*s)++;
		(*len)--;
	}
}

/* The head of a stripped magnitude. */
static uint64_t head_of(const unsigned char *s, size_t len, bool negative)
{
	uint64_t h = (uint64_t)len | (negative && len > 0 ? 0x80 : 0);

	for (size_t i = 0; i < HEAD_OCTETS; i++)
		h = h << 8 | (i < len ? s[i] : 0);
	return h;
}

static size_t tail_len(uint64_t head)
{
	size_t len = (size_t)(head >> 56) & 0x7F;

	return len > HEAD_OCTETS ? len - HEAD_OCTETS : 0;
}

int crl_index_add(struct crl_index *idx, const unsigned char *serial, size_t len, bool negative, time_t revoked_at,
		  int reason)
{
	size_t tl;
	uint32_t when;
	int r;

	strip(&serial, &len);
	if (idx->sealed || len > CRL_SERIAL_MAX)
		return -EINVAL;
	tl = len > HEAD_OCTETS ? len - HEAD_OCTETS : 0;
	if (idx->n == idx->cap && (r = grow_entries(idx, idx->cap ? idx->cap * 2 : 64)) != 0)
		return r;
	if (idx->tails_len + tl > idx->tails_cap) {
		size_t cap = idx->tails_cap ? idx->tails_cap * 2 : 1024;

		while (cap < idx->tails_len + tl)
			cap *= 2;
		if ((r = grow_tails(idx, cap)) != 0)
			return r;
	}
	idx->head[idx->n] = head_of(serial, len, negative);
	if (revoked_at >= 0 && (int64_t)revoked_at < (int64_t)WHEN_BIG) {
		when = (uint32_t)revoked_at;
	} else {
		struct big_when *b = realloc(idx->big, (idx->n_big + 1) * sizeof(*b));

		if (b == NULL)
			return -ENOMEM;
		idx->big = b;
		b[idx->n_big++] = (struct big_when){ idx->head[idx->n], (uint32_t)idx->tails_len, (int64_t)revoked_at };
		when = WHEN_BIG;
	}
	idx->rec[idx->n] = (struct rec){
		.when = when,
		.tail = (uint32_t)idx->tails_len,
		.reason = (uint8_t)(reason < 0 || reason > 255 ? CRL_REASON_ABSENT : reason),
	};
	if (tl > 0)
		memcpy(idx->tails + idx->tails_len, serial + HEAD_OCTETS, tl);
	idx->tails_len += tl;
	idx->n++;
	return 0;
}

static int tail_cmp(const struct crl_index *idx, uint64_t head, uint32_t a, uint32_t b)
{
	size_t tl = tail_len(head);
	/* Negative serials sort by magnitude too: the order only has to be total and consistent. */
	return tl == 0 ? 0 : memcmp(idx->tails + a, idx->tails + b, tl);
}

/* Orders entry positions by (head, tail). */
static int pos_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct crl_index *idx = ctx;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	uint64_t ha = idx->head[a], hb = idx->head[b];

	if (ha != hb)
		return ha < hb ? -1 : 1;
	return tail_cmp(idx, ha, idx->rec[a].tail, idx->rec[b].tail);
}

/*
 * LSD radix sort of (head, position) by head, 16 bits a pass; a pass whose digit is the same for
 * every key is skipped (the length octet of uniform serials, the zero octets of short ones).
 * On success *keys_out and *pos_out are the sorted arrays (one of each pair is freed).
 */
static int radix_sort(uint64_t *keys, size_t n, uint64_t **keys_out, uint32_t **pos_out)
{
	uint64_t *orig = keys, *k2 = malloc(n * sizeof(*k2));
	uint32_t *p1 = malloc(n * sizeof(*p1)), *p2 = malloc(n * sizeof(*p2));
	size_t(*hist)[65536] = calloc(4, sizeof(*hist));
	int r = -ENOMEM;

	if (k2 == NULL || p1 == NULL || p2 == NULL || hist == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = keys[i];

		p1[i] = (uint32_t)i;
		hist[0][k & 0xFFFF]++;
		hist[1][(k >> 16) & 0xFFFF]++;
		hist[2][(k >> 32) & 0xFFFF]++;
		hist[3][k >> 48]++;
	}
	for (int d = 0; d < 4; d++) {
		unsigned shift = 16U * (unsigned)d;
		size_t sum = 0, *h = hist[d];
		uint64_t *tk;
		uint32_t *tp;

		if (h[(keys[0] >> shift) & 0xFFFF] == n)
			continue;
		for (size_t b = 0; b < 65536; b++) {
			size_t c = h[b];

			h[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++) {
			size_t at = h[(keys[i] >> shift) & 0xFFFF]++;

			k2[at] = keys[i];
			p2[at] = p1[i];
		}
		tk = keys, keys = k2, k2 = tk;
		tp = p1, p1 = p2, p2 = tp;
	}
	*keys_out = keys;
	*pos_out = p1;
	p1 = NULL; /* transferred */
	r = 0;
out:
	if (k2 != orig)
		free(k2); /* the scratch half; the caller frees its own array when it is not the result */
	free(p1);
	free(p2);
	free(hist);
	return r;
}

/* new[k] = old[pos[k]] for rec[], in place; pos[] is used up. */
static void permute_recs(struct rec *rec, uint32_t *pos, size_t n)
{
	const uint32_t done = 0x80000000U;

	for (size_t k = 0; k < n; k++) {
		struct rec tmp;
		size_t j;

		if (pos[k] & done)
			continue;
		tmp = rec[k];
		j = k;
		while ((pos[j] & ~done) != k) {
			size_t next = pos[j] & ~done;

			rec[j] = rec[next];
			pos[j] |= done;
			j = next;
		}
		rec[j] = tmp;
		pos[j] |= done;
	}
}

static int64_t when_of(const struct crl_index *idx, size_t i)
{
	const struct rec *r = &idx->rec[i];

	if (r->when != WHEN_BIG)
		return r->when;
	for (size_t b = 0; b < idx->n_big; b++)
		if (idx->big[b].head == idx->head[i] && idx->big[b].tail == r->tail)
			return idx->big[b].when;
	return (int64_t)WHEN_BIG;
}

static int sort_entries(struct crl_index *idx)
{
	size_t n = idx->n;
	uint32_t *pos = NULL;
	uint64_t *sorted = NULL;
	int r;

	for (size_t i = 1; i < n; i++) {
		if (idx->head[i - 1] > idx->head[i])
			goto unsorted;
	}
	/* Already in head order (a CA that writes its list sorted): only runs of equal heads remain. */
	pos = malloc(n * sizeof(*pos));
	if (pos == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		pos[i] = (uint32_t)i;
	sorted = idx->head;
	goto runs;
unsorted:
	if (n < 65536) {
		pos = malloc(n * sizeof(*pos));
		if (pos == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++)
			pos[i] = (uint32_t)i;
		qsort_r(pos, n, sizeof(*pos), pos_cmp, idx);
		sorted = malloc(n * sizeof(*sorted));
		if (sorted == NULL) {
			free(pos);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++)
			sorted[i] = idx->head[pos[i]];
		goto apply;
	}
	r = radix_sort(idx->head, n, &sorted, &pos);
	if (r != 0)
		return r;
	if (sorted != idx->head)
		free(idx->head);
	idx->head = sorted;
runs:
	/* Equal heads: order by tail. Rare with real serials (the first 7 octets agree). */
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && sorted[j] == sorted[i])
			j++;
		if (j - i > 1 && tail_len(sorted[i]) > 0) {
			/* pos_cmp reads head[] by original position: use the tails directly. */
			for (size_t a = i + 1; a < j; a++) {
				uint32_t v = pos[a];
				size_t b = a;

				while (b > i && tail_cmp(idx, sorted[i], idx->rec[pos[b - 1]].tail, idx->rec[v].tail) > 0) {
					pos[b] = pos[b - 1];
					b--;
				}
				pos[b] = v;
			}
		}
		i = j;
	}
apply:
	if (sorted != idx->head) {
		free(idx->head);
		idx->head = sorted;
	}
	permute_recs(idx->rec, pos, n);
	free(pos);
	return 0;
}

static bool same_serial(const struct crl_index *idx, size_t a, size_t b)
{
	return idx->head[a] == idx->head[b] && tail_cmp(idx, idx->head[a], idx->rec[a].tail, idx->rec[b].tail) == 0;
}

/* Sorts, drops duplicate serials (keeping the earliest revocation), trims, builds the directory. */
int crl_index_seal(struct crl_index *idx)
{
	size_t k = 0;
	int r;

	if (idx->sealed)
		return 0;
	if (idx->n > 1) {
		r = sort_entries(idx);
		if (r != 0)
			return r;
		for (size_t i = 1; i < idx->n; i++) {
			if (same_serial(idx, k, i)) {
				if (when_of(idx, i) < when_of(idx, k))
					idx->rec[k] = idx->rec[i];
				continue;
			}
			k++;
			idx->head[k] = idx->head[i];
			idx->rec[k] = idx->rec[i];
		}
		idx->n = k + 1;
	}
	if (idx->n < idx->cap && idx->n > 0) {
		/* Shrinking never fails in practice; if it does, the bigger arrays are still valid. */
		uint64_t *h = realloc(idx->head, idx->n * sizeof(*h));
		struct rec *rc;

		if (h != NULL)
			idx->head = h;
		rc = realloc(idx->rec, idx->n * sizeof(*rc));
		if (rc != NULL)
			idx->rec = rc;
		idx->cap = idx->n;
	}
	if (idx->tails_len < idx->tails_cap && idx->tails_len > 0) {
		unsigned char *t = realloc(idx->tails, idx->tails_len);

		if (t != NULL) {
			idx->tails = t;
			idx->tails_cap = idx->tails_len;
		}
	}
	idx->n_top = (idx->n + TOP_STRIDE - 1) / TOP_STRIDE;
	if (idx->n_top > 0) {
		idx->top = malloc(idx->n_top * sizeof(*idx->top));
		if (idx->top == NULL)
			return -ENOMEM;
		for (size_t t = 0; t < idx->n_top; t++)
			idx->top[t] = idx->head[t * TOP_STRIDE];
	}
	idx->sealed = true;
	return 0;
}

bool crl_index_find(const struct crl_index *idx, const unsigned char *serial, size_t len, bool negative,
		    struct crl_index_hit *hit)
{
	size_t lo = 0, n_top, i, tl;
	uint64_t key;

	if (idx == NULL || !idx->sealed)
		return false;
	strip(&serial, &len);
	if (len > CRL_SERIAL_MAX)
		return false;
	key = head_of(serial, len, negative);
	tl = len > HEAD_OCTETS ? len - HEAD_OCTETS : 0;
	/* Branch-free lower bound in the directory: the first top[t] >= key. */
	n_top = idx->n_top;
	while (n_top > 1) {
		size_t half = n_top / 2;

		lo = idx->top[lo + half - 1] < key ? lo + half : lo;
		n_top -= half;
	}
	if (n_top == 1 && idx->top[lo] < key)
		lo++;
	/* head[(lo - 1) * STRIDE] < key <= head[lo * STRIDE]: the first head >= key is in between. */
	i = lo > 0 ? (lo - 1) * TOP_STRIDE + 1 : 0;
	while (i < idx->n && idx->head[i] < key)
		i++;
	for (; i < idx->n && idx->head[i] == key; i++) {
		const struct rec *r = &idx->rec[i];

		if (tl > 0 && memcmp(idx->tails + r->tail, serial + HEAD_OCTETS, tl) != 0)
			continue;
		if (hit != NULL) {
			hit->revoked_at = (time_t)when_of(idx, i);
			hit->reason = r->reason;
		}
		return true;
	}
	return false;
}

size_t crl_index_count(const struct crl_index *idx)
{
	return idx ? idx->n : 0;
}

size_t crl_index_bytes(const struct crl_index *idx)
{
	if (idx == NULL)
		return 0;
	return sizeof(*idx) + idx->cap * (sizeof(*idx->head) + sizeof(*idx->rec)) + idx->tails_cap +
	       idx->n_top * sizeof(*idx->top) + idx->n_big * sizeof(*idx->big);
}

void crl_index_free(struct crl_index *idx)
{
	if (idx == NULL)
		return;
	free(idx->head);
	free(idx->rec);
	free(idx->tails);
	free(idx->top);
	free(idx->big);
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
