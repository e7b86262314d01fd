/* SPDX-License-Identifier: GPL-2.0-or-later */
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
 *  - rec[i]: the revocation time (uint32 seconds since 1970; WHEN_BIG sends the lookup to a side
 *    table for the rare date outside 1970..2106) and the reason: 5 bytes.
 *  - tails: the octets of each serial beyond the 7th, in sorted order, back to back. An entry's
 *    tail offset is its block's (top_tail[]) plus the tail lengths of the heads before it in the
 *    block, which a lookup has in cache anyway: no offset per entry.
 *  - top[] and top2[]: every TOP_STRIDE-th head, and every TOP_STRIDE-th of those: 32 KB of top2
 *    at a million entries stays in L1, so a lookup walks top2 in cache and then touches one block
 *    of top[], one block of head[] and, for a listed serial, the block's rec[] and tails, which it
 *    asks for all at once (prefetch) so that their cache misses overlap.
 * With 20-octet serials (the RFC 5280 maximum, and the common random ones) that is 8 + 5 + 13 +
 * 0.8 bytes per entry.
 */
#define HEAD_OCTETS 7
#define TOP_STRIDE 16
#define WHEN_BIG UINT32_MAX
#define DIR_FILL 32     /* entries per directory bucket on average: a directory of n/8 bytes stays in L2 */
#define DIR_MAX_FILL 256 /* a fuller bucket means an uneven spread: no directory */
#define DIR_MIN_ENTRIES 4096
#define FILTER_BITS 8          /* per entry: about 2 % false positives with 4 probes in a 512-bit block */
#define FILTER_MIN_ENTRIES 4096

struct rec {
	uint32_t when;
	uint8_t reason;
} __attribute__((packed));

/* A revocation date outside 1970..2106, kept by serial. */
struct big_when {
	uint64_t head;
	unsigned char tail[CRL_SERIAL_MAX - HEAD_OCTETS];
	int64_t when;
};

struct crl_index {
	uint64_t *head;
	struct rec *rec;
	size_t n, cap;
	/*
	 * While building, entry i's tail is at tails + i * stride (stride: the longest tail so far,
	 * shorter ones zero-padded), so that the sort moves entries in place; seal packs them back to
	 * back. Uniform serials (the common random 20-octet ones) waste nothing.
	 */
	unsigned char *tails;
	size_t tails_len, tails_cap, stride;
	uint64_t *top;      /* head[t * TOP_STRIDE] */
	uint32_t *top_tail; /* tail offset of entry t * TOP_STRIDE */
	size_t n_top;
	uint64_t *top2;     /* top[u * TOP_STRIDE] */
	size_t n_top2;
	/*
	 * When the heads spread evenly over [dir_min, dir_max] (random serials: the common case), a
	 * direct directory replaces both bisections: bucket (head - dir_min) >> dir_shift holds the
	 * entries dir[b] .. dir[b + 1] - 1, DIR_FILL on average; NULL otherwise (sequential serials).
	 */
	uint32_t *dir;
	uint64_t dir_min, dir_max;
	unsigned dir_shift;
	/*
	 * A blocked Bloom filter (one cache line a serial, FILTER_BITS per entry): most lookups are
	 * for serials that are not listed (every good client, every CA certificate), and the filter,
	 * 1 MB at a million entries, answers those from cache, never from DRAM. It has no false
	 * negatives: "not in the filter" is exact; the rare false positive takes the full lookup.
	 */
	uint64_t *filter;   /* n_blocks * 8 words */
	size_t filter_mask; /* n_blocks - 1 */
	struct big_when *big; /* sorted by serial once sealed */
	size_t n_big;
	bool packed; /* sorted, deduplicated, tails back to back: only the lookup structures are missing */
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
	/* Never NULL, so that tails + offset is defined when no serial is longer than 7 octets. */
	idx->tails = malloc(1);
	if (idx->tails == NULL || (hint > 0 && crl_index_reserve(idx, hint, 0) != 0)) {
		crl_index_free(idx);
		return NULL;
	}
	return idx;
}

/*
 * Gives back the end of an array that seal made shorter: a small one is realloc()ed, a big one
 * keeps its address and returns its unused pages (a realloc() there would copy it, for a moment
 * holding it twice). Returns the array, which stays valid (a failed realloc() keeps it).
 */
static void *big_shrink(void *p, size_t old, size_t size)
{
	uintptr_t page = 4096, a, b;
	void *q;

	if (old < HUGE_MIN) {
		q = realloc(p, size ? size : 1);
		return q != NULL ? q : p;
	}
	a = ((uintptr_t)p + size + page - 1) & ~(page - 1);
	b = ((uintptr_t)p + old) & ~(page - 1);
	if (b > a)
		(void)madvise((void *)a, b - a, MADV_DONTNEED);
	return p;
}

static int grow_entries(struct crl_index *idx, size_t cap)
{
	uint64_t *h;
	struct rec *r;
	unsigned char *t;

	if (cap > (size_t)UINT32_MAX / 2 || (idx->stride > 0 && cap > (size_t)UINT32_MAX / idx->stride))
		return -ENOMEM;
	h = big_realloc(idx->head, idx->n * sizeof(*h), cap * sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	idx->head = h;
	r = big_realloc(idx->rec, idx->n * sizeof(*r), cap * sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	idx->rec = r;
	if (idx->stride > 0) {
		t = big_realloc(idx->tails, idx->n * idx->stride, cap * idx->stride);
		if (t == NULL)
			return -ENOMEM;
		idx->tails = t;
		idx->tails_cap = cap * idx->stride;
	}
	idx->cap = cap;
	return 0;
}

/* Widens every entry's tail slot to `stride` octets (a longer serial came): from the end, in place. */
static int restride(struct crl_index *idx, size_t stride)
{
	size_t old = idx->stride, cap = idx->cap > 0 ? idx->cap : 1;
	unsigned char *t;

	if (cap > (size_t)UINT32_MAX / stride)
		return -ENOMEM;
	t = big_realloc(idx->tails, idx->n * old, cap * stride);
	if (t == NULL)
		return -ENOMEM;
	for (size_t i = idx->n; i-- > 0;) {
		memmove(t + i * stride, t + i * old, old);
		memset(t + i * stride + old, 0, stride - old);
	}
	idx->tails = t;
	idx->tails_cap = cap * stride;
	idx->stride = stride;
	idx->tails_len = idx->n * stride;
	return 0;
}

int crl_index_reserve(struct crl_index *idx, size_t n, size_t tail_max)
{
	int r = 0;

	if (idx->sealed || idx->packed)
		return -EINVAL;
	if (n > SIZE_MAX / 2 - idx->n || tail_max > CRL_SERIAL_MAX)
		return -ENOMEM;
	if (idx->n + n > idx->cap)
		r = grow_entries(idx, idx->n + n);
	if (r == 0 && tail_max > idx->stride)
		r = restride(idx, tail_max);
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
	uint64_t head;
	unsigned char *slot;
	int r;

	strip(&serial, &len);
	if (idx->sealed || idx->packed || len > CRL_SERIAL_MAX)
		return -EINVAL;
	tl = len > HEAD_OCTETS ? len - HEAD_OCTETS : 0;
	head = head_of(serial, len, negative);
	if (idx->n == idx->cap && (r = grow_entries(idx, idx->cap ? idx->cap * 2 : 64)) != 0)
		return r;
	if (tl > idx->stride && (r = restride(idx, tl)) != 0)
		return r;
	if (revoked_at >= 0 && (int64_t)revoked_at < (int64_t)WHEN_BIG) {
		when = (uint32_t)revoked_at;
	} else {
		struct big_when *b = realloc(idx->big, (idx->n_big + 1) * sizeof(*b));

		if (b == NULL)
			return -ENOMEM;
		idx->big = b;
		b = &b[idx->n_big++];
		memset(b, 0, sizeof(*b));
		b->head = head;
		if (tl > 0)
			memcpy(b->tail, serial + HEAD_OCTETS, tl);
		b->when = (int64_t)revoked_at;
		when = WHEN_BIG;
	}
	idx->head[idx->n] = head;
	idx->rec[idx->n] = (struct rec){
		.when = when,
		.reason = (uint8_t)(reason < 0 || reason > 255 ? CRL_REASON_ABSENT : reason),
	};
	if (idx->stride > 0) {
		slot = idx->tails + idx->n * idx->stride;
		if (tl > 0)
			memcpy(slot, serial + HEAD_OCTETS, tl);
		if (idx->stride > tl)
			memset(slot + tl, 0, idx->stride - tl);
	}
	idx->n++;
	idx->tails_len = idx->n * idx->stride;
	return 0;
}

/*
 * The sort, in place (issue 14: a 10M-entry reload peaked 456 MiB above steady state with an LSD
 * radix sort's scratch keys and positions and gathered copies of the records and tails). An
 * American flag sort (McIlroy, Bostic, McIlroy, "Engineering radix sort", 1993): MSD radix on the
 * octets of (head, tail), each pass permuting head[], rec[] and the tail slots in place by
 * swapping every entry into its bucket, small buckets by insertion. Extra memory: 3 KB of counters
 * a level. Negative serials sort by magnitude too: the order only has to be total.
 */
#define SORT_SMALL 24

/* Octet d of entry i's key: the head's 8 octets, most significant first, then its tail. */
static inline unsigned key_octet(const struct crl_index *idx, size_t i, unsigned d)
{
	return d < 8 ? (unsigned)(idx->head[i] >> (56 - 8 * d)) & 0xFF : idx->tails[i * idx->stride + (d - 8)];
}

static inline void swap_entries(struct crl_index *idx, size_t a, size_t b)
{
	uint64_t h = idx->head[a];
	struct rec r = idx->rec[a];
	unsigned char *ta = idx->tails + a * idx->stride, *tb = idx->tails + b * idx->stride;
	size_t k = 0;

	idx->head[a] = idx->head[b];
	idx->head[b] = h;
	idx->rec[a] = idx->rec[b];
	idx->rec[b] = r;
	for (; k + 8 <= idx->stride; k += 8) {
		uint64_t x, y;

		memcpy(&x, ta + k, 8);
		memcpy(&y, tb + k, 8);
		memcpy(ta + k, &y, 8);
		memcpy(tb + k, &x, 8);
	}
	for (; k < idx->stride; k++) {
		unsigned char c = ta[k];

		ta[k] = tb[k];
		tb[k] = c;
	}
}

static int entry_cmp(const struct crl_index *idx, size_t a, size_t b)
{
	uint64_t ha = idx->head[a], hb = idx->head[b];
	size_t tl = tail_len(ha);

	if (ha != hb)
		return ha < hb ? -1 : 1;
	return tl == 0 ? 0 : memcmp(idx->tails + a * idx->stride, idx->tails + b * idx->stride, tl);
}

static void insertion_sort(struct crl_index *idx, size_t lo, size_t hi)
{
	for (size_t i = lo + 1; i < hi; i++)
		for (size_t j = i; j > lo && entry_cmp(idx, j - 1, j) > 0; j--)
			swap_entries(idx, j - 1, j);
}

/* Sorts entries [lo, hi), which agree on their first d key octets. */
static void flag_sort(struct crl_index *idx, size_t lo, size_t hi, unsigned d)
{
	uint32_t count[256], next[256], end[256];
	size_t sum;

	for (;;) {
		if (hi - lo < SORT_SMALL) {
			insertion_sort(idx, lo, hi);
			return;
		}
		if (d >= 8 && d - 8 >= tail_len(idx->head[lo]))
			return; /* the same serial throughout: dedup's business */
		memset(count, 0, sizeof(count));
		for (size_t i = lo; i < hi; i++)
			count[key_octet(idx, i, d)]++;
		if (count[key_octet(idx, lo, d)] == hi - lo) {
			d++; /* one value (the length octet of uniform serials): nothing to move */
			continue;
		}
		break;
	}
	sum = lo;
	for (unsigned b = 0; b < 256; b++) {
		next[b] = (uint32_t)sum;
		sum += count[b];
		end[b] = (uint32_t)sum;
	}
	for (unsigned b = 0; b < 256; b++) {
		while (next[b] < end[b]) {
			unsigned v = key_octet(idx, next[b], d);

			if (v == b)
				next[b]++;
			else
				swap_entries(idx, next[b], next[v]++);
		}
	}
	sum = lo;
	for (unsigned b = 0; b < 256; b++) {
		if (end[b] - sum > 1)
			flag_sort(idx, sum, end[b], d + 1);
		sum = end[b];
	}
}

static int big_cmp(const void *pa, const void *pb)
{
	const struct big_when *a = pa, *b = pb;
	int c;

	if (a->head != b->head)
		return a->head < b->head ? -1 : 1;
	c = memcmp(a->tail, b->tail, sizeof(a->tail));
	if (c != 0)
		return c;
	return (a->when > b->when) - (a->when < b->when);
}

/* The date of a serial whose rec says WHEN_BIG: the earliest the side table has for it. */
static int64_t big_when_of(const struct crl_index *idx, uint64_t head, const unsigned char *tail)
{
	struct big_when key;
	size_t lo = 0, hi = idx->n_big, tl = tail_len(head);

	memset(&key, 0, sizeof(key));
	key.head = head;
	memcpy(key.tail, tail, tl);
	key.when = INT64_MIN;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (big_cmp(&idx->big[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < idx->n_big && idx->big[lo].head == head && memcmp(idx->big[lo].tail, key.tail, sizeof(key.tail)) == 0)
		return idx->big[lo].when;
	return (int64_t)WHEN_BIG; /* not reached: every WHEN_BIG entry has a row */
}

static int64_t when_at(const struct crl_index *idx, size_t i, const unsigned char *tail)
{
	return idx->rec[i].when != WHEN_BIG ? (int64_t)idx->rec[i].when : big_when_of(idx, idx->head[i], tail);
}

/*
 * Drops duplicate serials in sorted order, keeping the earliest revocation, then packs the tails
 * back to back (in place: an entry's packed offset is never past its slot).
 */
static void dedup_pack(struct crl_index *idx)
{
	size_t k = 0, S = idx->stride, off = 0;
	unsigned char *t = idx->tails;

	if (idx->n == 0)
		return;
	for (size_t i = 1; i < idx->n; i++) {
		size_t tl = tail_len(idx->head[i]);
		const unsigned char *ti = t + i * S, *tk = t + k * S;

		if (idx->head[i] == idx->head[k] && memcmp(tk, ti, tl) == 0) {
			if (when_at(idx, i, ti) < when_at(idx, k, tk))
				idx->rec[k] = idx->rec[i];
			continue;
		}
		k++;
		if (k != i) {
			idx->head[k] = idx->head[i];
			idx->rec[k] = idx->rec[i];
			memcpy(t + k * S, ti, S);
		}
	}
	idx->n = k + 1;
	/* Runs of full-width tails move as one block: uniform serials cost a few memmove()s, not n. */
	for (size_t i = 0; i < idx->n;) {
		size_t j = i;

		while (j < idx->n && tail_len(idx->head[j]) == S)
			j++;
		if (j > i) {
			if (off != i * S)
				memmove(t + off, t + i * S, (j - i) * S);
			off += (j - i) * S;
			i = j;
			continue;
		}
		if (S > 0) {
			size_t tl = tail_len(idx->head[i]);

			if (off != i * S)
				memmove(t + off, t + i * S, tl);
			off += tl;
		}
		i++;
	}
	idx->tails_len = off;
}

/* A 64-bit hash of the whole serial (head and tail): murmur3's finaliser over a simple fold. */
static uint64_t serial_hash(uint64_t head, const unsigned char *tail, size_t tl)
{
	uint64_t h = head * 0x9E3779B97F4A7C15ULL;

	for (size_t i = 0; i < tl; i++)
		h = (h ^ tail[i]) * 0x100000001B3ULL;
	h ^= h >> 33;
	h *= 0xFF51AFD7ED558CCDULL;
	h ^= h >> 33;
	h *= 0xC4CEB9FE1A85EC53ULL;
	h ^= h >> 33;
	return h;
}

/* The block (8 words) and the 4 bit positions (9 bits each) a hash selects. */
static const uint64_t *filter_block(const struct crl_index *idx, uint64_t h)
{
	return idx->filter + ((size_t)(h >> 36) & idx->filter_mask) * 8;
}

static bool filter_has(const struct crl_index *idx, uint64_t h)
{
	const uint64_t *blk = filter_block(idx, h);

	for (int k = 0; k < 4; k++) {
		unsigned bit = (unsigned)(h >> (9 * k)) & 511;

		if (!(blk[bit >> 6] & (1ULL << (bit & 63))))
			return false;
	}
	return true;
}

static void filter_set(uint64_t *blk, uint64_t h)
{
	for (int k = 0; k < 4; k++) {
		unsigned bit = (unsigned)(h >> (9 * k)) & 511;

		blk[bit >> 6] |= 1ULL << (bit & 63);
	}
}

/*
 * Every serial into the filter. Each one lands in a random cache line of a filter far larger than
 * the cache (16 MB at 10M entries): the hashes of a batch are computed and their blocks asked for
 * (prefetch) before any is written, so that the misses overlap instead of coming one at a time
 * (at 10M entries the plain loop was most of seal's time).
 */
#define FILTER_BATCH 32

static int build_filter(struct crl_index *idx)
{
	size_t blocks = 1, off = 0;
	uint64_t hs[FILTER_BATCH];

	if (idx->n < FILTER_MIN_ENTRIES)
		return 0;
	while (blocks * 512 < idx->n * FILTER_BITS)
		blocks *= 2;
	idx->filter = big_alloc(blocks * 64);
	if (idx->filter == NULL)
		return -ENOMEM;
	memset(idx->filter, 0, blocks * 64);
	idx->filter_mask = blocks - 1;
	for (size_t i = 0; i < idx->n; i += FILTER_BATCH) {
		size_t m = idx->n - i < FILTER_BATCH ? idx->n - i : FILTER_BATCH;

		for (size_t k = 0; k < m; k++) {
			size_t tl = tail_len(idx->head[i + k]);

			hs[k] = serial_hash(idx->head[i + k], idx->tails + off, tl);
			__builtin_prefetch(filter_block(idx, hs[k]), 1);
			off += tl;
		}
		for (size_t k = 0; k < m; k++)
			filter_set((uint64_t *)filter_block(idx, hs[k]), hs[k]);
	}
	return 0;
}

static int build_dir(struct crl_index *idx)
{
	uint64_t range;
	unsigned bits = 0, lg = 0;
	size_t nb, b = 0, fill = 0, most = 0, first, last;

	if (idx->n < DIR_MIN_ENTRIES)
		return 0;
	/*
	 * The range leaves out the smallest and largest 0.2 %: a few serials of another length (a
	 * random 20-octet serial with a leading zero octet is 19 octets long) must not stretch it.
	 * Keys outside it take the sampled directory.
	 */
	first = idx->n / 512;
	last = idx->n - 1 - idx->n / 512;
	idx->dir_min = idx->head[first];
	idx->dir_max = idx->head[last];
	range = idx->dir_max - idx->dir_min;
	if (range == 0)
		return 0;
	while (bits < 64 && (range >> bits) != 0)
		bits++;
	while (((size_t)2 << lg) <= (last - first + 1) / DIR_FILL)
		lg++;
	idx->dir_shift = bits > lg ? bits - lg : 0;
	nb = (size_t)(range >> idx->dir_shift) + 1;
	idx->dir = malloc((nb + 1) * sizeof(*idx->dir));
	if (idx->dir == NULL)
		return -ENOMEM;
	for (size_t i = first; i <= last; i++) {
		size_t bi = (size_t)((idx->head[i] - idx->dir_min) >> idx->dir_shift);

		for (; b <= bi; b++) {
			idx->dir[b] = (uint32_t)i;
			fill = 0;
		}
		if (++fill > most)
			most = fill;
	}
	for (; b <= nb; b++)
		idx->dir[b] = (uint32_t)(last + 1);
	if (most > DIR_MAX_FILL) {
		free(idx->dir);
		idx->dir = NULL; /* uneven: the sampled directory answers instead */
	}
	return 0;
}

/* Sorts, drops duplicate serials (keeping the earliest revocation), trims, builds the directory. */
int crl_index_seal(struct crl_index *idx)
{
	size_t off = 0;
	int r;

	if (idx->sealed)
		return 0;
	if (idx->n_big > 1)
		qsort(idx->big, idx->n_big, sizeof(*idx->big), big_cmp);
	if (idx->n > 1 && !idx->packed) {
		bool in_order = true;

		/* Already in order (a CA that writes its list sorted): no pass at all. */
		for (size_t i = 1; i < idx->n && in_order; i++)
			in_order = entry_cmp(idx, i - 1, i) <= 0;
		if (!in_order)
			flag_sort(idx, 0, idx->n, 0);
	}
	if (!idx->packed)
		dedup_pack(idx);
	idx->packed = true;
	/* Duplicates, a generous hint or padded tails left room: give it back, never copying a big array. */
	if (idx->n < idx->cap && idx->n > 0) {
		idx->head = big_shrink(idx->head, idx->cap * sizeof(*idx->head), idx->n * sizeof(*idx->head));
		idx->rec = big_shrink(idx->rec, idx->cap * sizeof(*idx->rec), idx->n * sizeof(*idx->rec));
		idx->cap = idx->n;
	}
	if (idx->tails != NULL && idx->tails_len < idx->tails_cap) {
		idx->tails = big_shrink(idx->tails, idx->tails_cap, idx->tails_len);
		idx->tails_cap = idx->tails_len;
	}
	idx->n_top = (idx->n + TOP_STRIDE - 1) / TOP_STRIDE;
	if (idx->n_top > 0) {
		free(idx->top);
		free(idx->top_tail);
		free(idx->top2);
		idx->top2 = NULL;
		idx->top = malloc(idx->n_top * sizeof(*idx->top));
		idx->top_tail = malloc(idx->n_top * sizeof(*idx->top_tail));
		if (idx->top == NULL || idx->top_tail == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < idx->n; i++) {
			if (i % TOP_STRIDE == 0) {
				idx->top[i / TOP_STRIDE] = idx->head[i];
				idx->top_tail[i / TOP_STRIDE] = (uint32_t)off;
			}
			off += tail_len(idx->head[i]);
		}
		idx->n_top2 = (idx->n_top + TOP_STRIDE - 1) / TOP_STRIDE;
		idx->top2 = malloc(idx->n_top2 * sizeof(*idx->top2));
		if (idx->top2 == NULL)
			return -ENOMEM;
		for (size_t u = 0; u < idx->n_top2; u++)
			idx->top2[u] = idx->top[u * TOP_STRIDE];
	}
	r = build_dir(idx);
	if (r == 0)
		r = build_filter(idx);
	if (r != 0)
		return r;
	idx->sealed = true;
	return 0;
}

/* In a sampled array a[j] = b[j * STRIDE], the first b[] >= key from the first a[] >= key (found at u). */
static size_t block_start(size_t u)
{
	return u > 0 ? (u - 1) * TOP_STRIDE : 0;
}

bool crl_index_find(const struct crl_index *idx, const unsigned char *serial, size_t len, bool negative,
		    struct crl_index_hit *hit)
{
	size_t lo = 0, n, i, b, tl, off;
	uint64_t key;

	if (idx == NULL || !idx->sealed || idx->n == 0)
		return false;
	strip(&serial, &len);
	if (len > CRL_SERIAL_MAX)
		return false;
	key = head_of(serial, len, negative);
	tl = len > HEAD_OCTETS ? len - HEAD_OCTETS : 0;
	if (idx->dir != NULL && key >= idx->dir_min && key <= idx->dir_max) {
		i = idx->dir[(key - idx->dir_min) >> idx->dir_shift];
		b = i / TOP_STRIDE; /* tail offsets are counted from the start of i's block */
	} else {
		/* top2: branch-free bisection for its first element >= key. */
		n = idx->n_top2;
		while (n > 1) {
			size_t half = n / 2;

			lo = idx->top2[lo + half - 1] < key ? lo + half : lo;
			n -= half;
		}
		if (idx->top2[lo] < key)
			lo++;
		/* top: a scan of one block. */
		for (i = block_start(lo); i < idx->n_top && idx->top[i] < key; i++)
			;
		/* head: the block before top's answer holds the first head >= key (or its first entry does). */
		b = i > 0 ? i - 1 : 0;
	}
	i = b * TOP_STRIDE;
	off = idx->top_tail[b];
	/*
	 * Everything the rest may touch, asked for at once (a bucket's heads, records and tails from
	 * the block start on): the cache misses overlap instead of queueing one after another.
	 */
	for (size_t l = 0; l < 6; l++)
		__builtin_prefetch((const char *)&idx->head[i] + 64 * l);
	for (size_t l = 0; l < 4; l++)
		__builtin_prefetch((const char *)&idx->rec[i] + 64 * l);
	for (size_t l = 0; tl > 0 && l < 8; l++)
		__builtin_prefetch(idx->tails + off + 64 * l);
	/*
	 * The filter after the prefetches: for a listed serial its own cache miss then overlaps
	 * theirs (filter first cost a listed lookup a whole extra memory round trip, 400 against
	 * 250 ns at 1M entries); an unlisted one pays only the issued prefetches.
	 */
	if (idx->filter != NULL && !filter_has(idx, serial_hash(key, serial + HEAD_OCTETS, tl)))
		return false; /* certainly not listed */
	for (; i < idx->n && idx->head[i] < key; i++)
		off += tail_len(idx->head[i]);
	for (; i < idx->n && idx->head[i] == key; off += tl, i++) {
		if (tl > 0 && memcmp(idx->tails + off, serial + HEAD_OCTETS, tl) != 0)
			continue;
		if (hit != NULL) {
			hit->revoked_at = (time_t)when_at(idx, i, idx->tails + off);
			hit->reason = idx->rec[i].reason;
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
	return sizeof(*idx) + idx->cap * (sizeof(*idx->head) + sizeof(*idx->rec)) +
	       idx->tails_cap +
	       idx->n_top * (sizeof(*idx->top) + sizeof(*idx->top_tail)) + idx->n_top2 * sizeof(*idx->top2) +
	       (idx->dir ? ((size_t)((idx->dir_max - idx->dir_min) >> idx->dir_shift) + 2) * sizeof(*idx->dir) : 0) +
	       (idx->filter ? (idx->filter_mask + 1) * 64 : 0) + idx->n_big * sizeof(*idx->big);
}

void crl_index_free(struct crl_index *idx)
{
	if (idx == NULL)
		return;
	free(idx->head);
	free(idx->rec);
	free(idx->tails);
	free(idx->top);
	free(idx->top_tail);
	free(idx->top2);
	free(idx->dir);
	free(idx->filter);
	free(idx->big);
	free(idx);
}
