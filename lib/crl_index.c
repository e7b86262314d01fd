/* SPDX-License-Identifier: GPL-2.0-only */
/* The revocation index: serials sorted as integers in a compact array, found through a small sampled directory. */
#include "crlsync/crl_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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
	uint64_t *top;   /* head[t * TOP_STRIDE] */
	size_t n_top;
	uint64_t *top2;  /* top[u * TOP_STRIDE]: 32 KB at a million entries, stays in L1 */
	size_t n_top2;
	struct big_when *big;
	size_t n_big;
	bool sealed;
};

/*
 * Arrays of a big index live in transparent huge pages where the kernel offers them (Debian's
 * default is "madvise"): a million-entry build faults in ~60 MB, 15,000 page faults in 4 KiB
 * pages, and a lookup's walk over 8 MB of heads misses the TLB at every step without them.
 */
#define HUGE_MIN ((size_t)4 << 20)
#define HUGE_ALIGN ((size_t)2 << 20)

static void *big_alloc(size_t size)
{
	void *p = NULL;

	if (size < HUGE_MIN)
		return malloc(size ? size : 1);
	size = (size + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1);
	if (posix_memalign(&p, HUGE_ALIGN, size) != 0)
		return NULL;
	(void)madvise(p, size, MADV_HUGEPAGE); /* advice: without THP it is plain memory */
	return p;
}

/* realloc() for big_alloc() memory: `old` bytes are kept. */
static void *big_realloc(void *p, size_t old, size_t size)
{
	void *q;

	if (size < HUGE_MIN && old < HUGE_MIN)
		return realloc(p, size ? size : 1);
	q = big_alloc(size);
	if (q == NULL)
		return NULL;
	if (p != NULL)
		memcpy(q, p, old < size ? old : size);
	free(p);
	return q;
}

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
	h = big_realloc(idx->head, idx->n * sizeof(*h), cap * sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	idx->head = h;
	r = big_realloc(idx->rec, idx->n * sizeof(*r), cap * sizeof(*r));
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
	t = big_realloc(idx->tails, idx->tails_len, cap);
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
 * LSD radix sort of (head, position) by head, a byte a pass (256 buckets keep the scatter's write
 * streams in cache); a pass whose byte is the same for every key is skipped (the length octet of
 * uniform serials, the zero octets of short ones). On success *keys_out and *pos_out are the
 * sorted arrays; the caller frees its own `keys` when it is not the result.
 */
static int radix_sort(uint64_t *keys, size_t n, uint64_t **keys_out, uint32_t **pos_out)
{
	uint64_t *orig = keys, *k2 = big_alloc(n * sizeof(*k2));
	uint32_t *p1 = big_alloc(n * sizeof(*p1)), *p2 = big_alloc(n * sizeof(*p2));
	size_t(*hist)[256] = calloc(8, sizeof(*hist));
	int r = -ENOMEM;

	if (k2 == NULL || p1 == NULL || p2 == NULL || hist == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = keys[i];

		p1[i] = (uint32_t)i;
		for (int d = 0; d < 8; d++)
			hist[d][(k >> (8 * d)) & 0xFF]++;
	}
	for (int d = 0; d < 8; d++) {
		unsigned shift = 8U * (unsigned)d;
		size_t sum = 0, *h = hist[d];
		uint64_t *tk;
		uint32_t *tp;

		if (h[(keys[0] >> shift) & 0xFF] == n)
			continue;
		for (size_t b = 0; b < 256; b++) {
			size_t c = h[b];

			h[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++) {
			size_t at = h[(keys[i] >> shift) & 0xFF]++;

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
		free(k2); /* the scratch half */
	free(p1);
	free(p2);
	free(hist);
	return r;
}

/*
 * new[k] = old[pos[k]] for rec[]: a gather into a new array. Sequential writes and independent
 * reads run several cache misses at once; an in-place cycle walk is one dependent miss after
 * another (3x slower at a million entries). It costs no peak: the sort's scratch is gone by now.
 */
static int permute_recs(struct crl_index *idx, const uint32_t *pos, size_t n)
{
	struct rec *r = big_alloc(n * sizeof(*r));

	if (r == NULL)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++)
		r[k] = idx->rec[pos[k]];
	free(idx->rec);
	idx->rec = r;
	return 0;
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
	pos = big_alloc(n * sizeof(*pos));
	if (pos == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		pos[i] = (uint32_t)i;
	sorted = idx->head;
	goto runs;
unsorted:
	if (n < 65536) {
		pos = big_alloc(n * sizeof(*pos));
		if (pos == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++)
			pos[i] = (uint32_t)i;
		qsort_r(pos, n, sizeof(*pos), pos_cmp, idx);
		sorted = big_alloc(n * sizeof(*sorted));
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
	r = permute_recs(idx, pos, n);
	free(pos);
	return r;
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
	/* Duplicates or a generous hint left room: give it back (the old arrays stay valid if that fails). */
	if (idx->n < idx->cap && idx->n > 0) {
		uint64_t *h = big_realloc(idx->head, idx->n * sizeof(*h), idx->n * sizeof(*h));
		struct rec *rc;

		if (h != NULL) {
			idx->head = h;
			rc = big_realloc(idx->rec, idx->n * sizeof(*rc), idx->n * sizeof(*rc));
			if (rc != NULL) {
				idx->rec = rc;
				idx->cap = idx->n;
			}
		}
	}
	if (idx->tails_len < idx->tails_cap && idx->tails_len > 0) {
		unsigned char *t = big_realloc(idx->tails, idx->tails_len, idx->tails_len);

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
		idx->n_top2 = (idx->n_top + TOP_STRIDE - 1) / TOP_STRIDE;
		idx->top2 = malloc(idx->n_top2 * sizeof(*idx->top2));
		if (idx->top2 == NULL)
			return -ENOMEM;
		for (size_t u = 0; u < idx->n_top2; u++)
			idx->top2[u] = idx->top[u * TOP_STRIDE];
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
	/*
	 * Lower bound of key, level by level. In a sampled array a[j] = b[j * STRIDE], if u is the
	 * first j with a[j] >= key then b's first element >= key lies in ((u - 1) * STRIDE, u * STRIDE]:
	 * a scan of at most STRIDE elements (two cache lines of u64). The smallest level is bisected
	 * without branches.
	 */
	n_top = idx->n_top2;
	while (n_top > 1) {
		size_t half = n_top / 2;

		lo = idx->top2[lo + half - 1] < key ? lo + half : lo;
		n_top -= half;
	}
	if (n_top == 1 && idx->top2[lo] < key)
		lo++;
	i = lo > 0 ? (lo - 1) * TOP_STRIDE + 1 : 0;
	while (i < idx->n_top && idx->top[i] < key)
		i++;
	lo = i;
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
	       (idx->n_top + idx->n_top2) * sizeof(*idx->top) + idx->n_big * sizeof(*idx->big);
}

void crl_index_free(struct crl_index *idx)
{
	if (idx == NULL)
		return;
	free(idx->head);
	free(idx->rec);
	free(idx->tails);
	free(idx->top);
	free(idx->top2);
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
