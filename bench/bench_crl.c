/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench_crl: load, verify, index and look up one CRL file, crlsync's loader side by side with OpenSSL's. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <getopt.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crlsync/crl.h"
#include "crlsync/file.h"
#include "crlsync/crl_index.h"
#include "bench_util.h"

/*
 * Every measurement runs in a child of its own (fork), so that one phase's heap does not hide
 * the next one's peak: the child resets its VmHWM, notes its VmRSS as the baseline, runs the
 * phase and reports peak and steady RSS over that baseline through a pipe. The parent only
 * walks the DER once for a sample of listed serials (lookup hits) and prints the table.
 *
 * Lookups are ~100 ns: one clock_gettime per call would be a third of it. They are timed in
 * batches of `batch` calls, the median (and p99) of the batch means reported; a per-call p99 over
 * individually timed calls is given too, with the timer's own cost beside it.
 */

#define SERIAL_TLV_MAX 24 /* tag, length, 0x00 pad and 20 octets, and a little more */

/* A serial as its DER INTEGER (tag 02, short length): d2i_ASN1_INTEGER input and index key alike. */
struct query {
	unsigned char tlv[SERIAL_TLV_MAX];
	bool hit;
};

struct opts {
	const char *crl_path;
	const char *ca_path;
	size_t lookups;
	size_t batch;
	bool skip_openssl;
	const char *json_path;
	const char *label;
};

/* What a child reports. Times in ns, memory in bytes over the child's baseline. */
struct phase {
	bool ok;
	char err[256];
	double t_read, t_parse, t_verify, t_first, t_total;
	double peak, steady, index_bytes;
	double lk_median, lk_p99, lk_call_p50, lk_call_p99, lk_call_max, timer_ns;
	double lk_listed, lk_unlisted; /* medians of batch means over listed only, unlisted only */
	size_t entries, hits, queries;
};

static struct query *queries;
static size_t n_queries;
static X509 *ca;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench_crl: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- a minimal DER walk to sample the listed serials (RFC 5280 §5.1) ---- */

static bool tlv(const unsigned char **p, const unsigned char *end, unsigned char *tag, const unsigned char **body,
		size_t *len)
{
	size_t n, k;

	if (end - *p < 2)
		return false;
	*tag = (*p)[0];
	n = (*p)[1];
	*p += 2;
	if (n & 0x80) {
		k = n & 0x7f;
		if (k == 0 || k > 8 || (size_t)(end - *p) < k)
			return false;
		for (n = 0; k > 0; k--)
			n = (n << 8) | *(*p)++;
	}
	if ((size_t)(end - *p) < n)
		return false;
	*body = *p;
	*len = n;
	*p += n;
	return true;
}

static uint64_t rng_state = 0x853c49e6748fea9bULL;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Reservoir-samples `want` entries' serials into queries[0..) and counts the entries. Returns
 * the count; dies on a CRL it cannot walk (this is a benchmark, not a parser).
 */
static size_t sample_serials(const unsigned char *der, size_t len, size_t want, size_t *taken)
{
	const unsigned char *p = der, *end = der + len, *b, *q, *qe;
	unsigned char tag;
	size_t n, count = 0;

	if (!tlv(&p, end, &tag, &b, &n) || tag != 0x30)
		die("%s: not a DER SEQUENCE (a PEM file? use DER for bench_crl)", "CRL");
	p = b;
	end = b + n;
	if (!tlv(&p, end, &tag, &b, &n) || tag != 0x30)
		die("no TBSCertList");
	q = b;
	qe = b + n;
	if (!tlv(&q, qe, &tag, &b, &n))
		die("truncated TBSCertList");
	if (tag == 0x02 && !tlv(&q, qe, &tag, &b, &n)) /* version, then signature */
		die("truncated TBSCertList");
	if (!tlv(&q, qe, &tag, &b, &n) || !tlv(&q, qe, &tag, &b, &n)) /* issuer, thisUpdate */
		die("truncated TBSCertList");
	if (!tlv(&q, qe, &tag, &b, &n))
		return 0;
	if ((tag == 0x17 || tag == 0x18) && !tlv(&q, qe, &tag, &b, &n)) /* nextUpdate */
		return 0;
	if (tag != 0x30) /* no revokedCertificates: the extensions [0], or nothing */
		return 0;
	{
		const unsigned char *e = b, *ee = b + n;

		while (e < ee) {
			const unsigned char *eb, *s, *sb;
			size_t el, sl;
			unsigned char st;

			if (!tlv(&e, ee, &tag, &eb, &el) || tag != 0x30)
				die("entry %zu is not a SEQUENCE", count + 1);
			s = eb;
			if (!tlv(&s, eb + el, &st, &sb, &sl) || st != 0x02 || sl + 2 > SERIAL_TLV_MAX || sl > 127)
				die("entry %zu: serial is not a short INTEGER", count + 1);
			/* Reservoir sampling (Vitter's algorithm R): every entry equally likely. */
			{
				size_t slot = count < want ? count : (size_t)(rng_next() % (count + 1));

				if (slot < want) {
					queries[slot].tlv[0] = 0x02;
					queries[slot].tlv[1] = (unsigned char)sl;
					memcpy(queries[slot].tlv + 2, sb, sl);
					queries[slot].hit = true;
				}
			}
			count++;
		}
	}
	*taken = count < want ? count : want;
	return count;
}

/* Half hits from the sample, half random 20-octet serials (almost surely absent), shuffled. */
static void build_queries(const unsigned char *der, size_t len, size_t total, size_t *entries)
{
	size_t hits = 0;

	queries = calloc(total, sizeof(*queries));
	if (queries == NULL)
		die("out of memory");
	*entries = sample_serials(der, len, total / 2, &hits);
	n_queries = 0;
	/* With fewer entries than wanted, hits repeat. */
	for (size_t i = hits; hits > 0 && i < total / 2; i++)
		queries[i] = queries[i % hits];
	n_queries = hits > 0 ? total / 2 : 0;
	while (n_queries < total) {
		struct query *q = &queries[n_queries++];

		q->tlv[0] = 0x02;
		q->tlv[1] = 20;
		for (int i = 0; i < 20; i += 8) {
			uint64_t r = rng_next();

			memcpy(q->tlv + 2 + i, &r, i + 8 <= 20 ? 8 : 20 - (size_t)i);
		}
		q->tlv[2] = (unsigned char)((q->tlv[2] & 0x7f) | 0x01);
		q->hit = false;
	}
	for (size_t i = n_queries; i > 1; i--) {
		size_t j = (size_t)(rng_next() % i);
		struct query t = queries[i - 1];

		queries[i - 1] = queries[j];
		queries[j] = t;
	}
}

/* ---- timing lookups ---- */

typedef bool (*lookup_fn)(void *ctx, size_t i);

static double timer_overhead(void)
{
	double v[1001];

	for (int i = 0; i < 1001; i++) {
		int64_t a = bench_now_ns(), b = bench_now_ns();

		v[i] = (double)(b - a);
	}
	return bench_percentile(v, 1001, 50);
}

static void time_lookups(lookup_fn fn, void *ctx, const struct opts *o, struct phase *ph)
{
	size_t nb = o->lookups / o->batch, calls = o->lookups < 200000 ? o->lookups : 200000;
	double *v = malloc((nb > calls ? nb : calls) * sizeof(*v));
	volatile size_t sink = 0;
	size_t hits = 0;

	if (v == NULL || nb == 0)
		die("out of memory or too few lookups");
	for (size_t i = 0; i < 20000 && i < n_queries; i++) /* warm the caches and branch predictors */
		sink += fn(ctx, i);
	for (size_t b = 0, k = 0; b < nb; b++) {
		int64_t t0 = bench_now_ns();

		for (size_t j = 0; j < o->batch; j++, k++)
			hits += fn(ctx, k % n_queries);
		v[b] = (double)(bench_now_ns() - t0) / (double)o->batch;
	}
	ph->hits = hits;
	ph->queries = nb * o->batch;
	ph->lk_median = bench_percentile(v, nb, 50);
	ph->lk_p99 = bench_percentile(v, nb, 99);
	/* The same, over listed serials only and over unlisted ones only (a good client's check). */
	for (int want = 0; want < 2; want++) {
		size_t b = 0, j = 0;
		int64_t t0 = bench_now_ns();

		for (size_t i = 0; i < n_queries && b < nb; i++) {
			if (queries[i].hit != (want == 1))
				continue;
			sink += fn(ctx, i);
			if (++j == o->batch) {
				v[b++] = (double)(bench_now_ns() - t0) / (double)o->batch;
				j = 0;
				t0 = bench_now_ns();
			}
		}
		*(want ? &ph->lk_listed : &ph->lk_unlisted) = b > 0 ? bench_percentile(v, b, 50) : 0;
	}
	for (size_t i = 0; i < calls; i++) {
		int64_t t0 = bench_now_ns();

		sink += fn(ctx, (i * 7919) % n_queries);
		v[i] = (double)(bench_now_ns() - t0);
	}
	ph->lk_call_p50 = bench_percentile(v, calls, 50);
	ph->lk_call_p99 = bench_percentile(v, calls, 99);
	ph->lk_call_max = v[calls - 1];
	ph->timer_ns = timer_overhead();
	(void)sink;
	free(v);
}

/* ---- the two contenders, each in a child ---- */

static double since(int64_t t0)
{
	return (double)(bench_now_ns() - t0);
}

struct ossl_ctx {
	X509_CRL *crl;
	ASN1_INTEGER **sn;
};

static bool ossl_lookup(void *ctx, size_t i)
{
	struct ossl_ctx *c = ctx;
	X509_REVOKED *r = NULL;

	return X509_CRL_get0_by_serial(c->crl, &r, c->sn[i]) == 1;
}

static void run_openssl(const struct opts *o, struct phase *ph)
{
	struct ossl_ctx c = { 0 };
	unsigned char *buf = NULL;
	const unsigned char *p;
	size_t len, base;
	int64_t t0;
	X509_REVOKED *r = NULL;
	int e;

	c.sn = malloc(n_queries * sizeof(*c.sn));
	for (size_t i = 0; c.sn != NULL && i < n_queries; i++) {
		p = queries[i].tlv;
		c.sn[i] = d2i_ASN1_INTEGER(NULL, &p, 2 + queries[i].tlv[1]);
		if (c.sn[i] == NULL)
			die("query %zu does not decode", i);
	}
	if (c.sn == NULL)
		die("out of memory");
	bench_hwm_reset();
	base = bench_rss();

	t0 = bench_now_ns();
	e = file_read(o->crl_path, CRL_FILE_MAX, &buf, &len);
	if (e != 0)
		die("%s: %s", o->crl_path, strerror(-e));
	ph->t_read = since(t0);
	t0 = bench_now_ns();
	p = buf;
	c.crl = d2i_X509_CRL(NULL, &p, (long)len);
	ph->t_parse = since(t0);
	if (c.crl == NULL) {
		snprintf(ph->err, sizeof(ph->err), "d2i_X509_CRL failed");
		return;
	}
	t0 = bench_now_ns();
	if (X509_CRL_verify(c.crl, X509_get0_pubkey(ca)) != 1) {
		snprintf(ph->err, sizeof(ph->err), "X509_CRL_verify: the signature does not verify against the ca");
		return;
	}
	ph->t_verify = since(t0);
	t0 = bench_now_ns();
	(void)X509_CRL_get0_by_serial(c.crl, &r, c.sn[0]); /* sorts the entries (once, under a lock) */
	ph->t_first = since(t0);
	ph->t_total = ph->t_read + ph->t_parse + ph->t_verify + ph->t_first;
	ph->entries = (size_t)sk_X509_REVOKED_num(X509_CRL_get_REVOKED(c.crl));
	free(buf);
	malloc_trim(0);
	ph->peak = (double)bench_hwm() - (double)base;
	ph->steady = (double)bench_rss() - (double)base;
	time_lookups(ossl_lookup, &c, o, ph);
	ph->ok = true;
}

struct crlsync_ctx {
	const struct crl *crl;
};

static bool crlsync_lookup(void *ctx, size_t i)
{
	const struct crlsync_ctx *c = ctx;
	const unsigned char *t = queries[i].tlv;
	struct crl_index_hit hit;

	return crl_index_find(c->crl->index, t + 2, t[1], false, &hit);
}

/*
 * The loader under test from a buffer: crl_from_der() with CRL_LOAD_NO_INDEX as the fetcher calls
 * it (the plugin loads a DER file with crl_from_file_at(): load_file() below).
 */
static enum crl_error load(const unsigned char *buf, size_t len, unsigned flags, struct crl **out, char *err,
			   size_t errlen)
{
	X509 *const cas[] = { ca };

	return crl_from_der(buf, len, cas, 1, time(NULL), "bench", flags, out, err, errlen);
}

/* As the plugin loads a DER file from cache-dir: crl_from_file_at(), read a window at a time. */
static bool load_file(const char *path, struct crl **out, enum crl_error *r, char *err, size_t errlen)
{
	X509 *const cas[] = { ca };
	char *d = strdup(path), *b = strdup(path);
	int dirfd;
	bool ok;

	if (d == NULL || b == NULL)
		die("out of memory");
	dirfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		die("%s: %s", path, strerror(errno));
	ok = crl_from_file_at(dirfd, basename(b), cas, 1, time(NULL), "bench", 0, r, out, err, errlen);
	close(dirfd);
	free(d);
	free(b);
	return ok;
}

static void run_crlsync(const struct opts *o, unsigned flags, bool lookups, struct phase *ph)
{
	struct crlsync_ctx c = { 0 };
	struct crl *crl = NULL;
	unsigned char *buf = NULL;
	size_t len, base;
	int64_t t0;
	enum crl_error r = CRL_OK;
	int e;

	bench_hwm_reset();
	base = bench_rss();
	t0 = bench_now_ns();
	if (flags == 0 && load_file(o->crl_path, &crl, &r, ph->err, sizeof(ph->err))) {
		/* The plugin's path: reading is part of the load. */
		ph->t_read = 0;
		ph->t_parse = since(t0);
	} else {
		e = file_read(o->crl_path, CRL_FILE_MAX, &buf, &len);
		if (e != 0)
			die("%s: %s", o->crl_path, strerror(-e));
		ph->t_read = since(t0);
		t0 = bench_now_ns();
		r = load(buf, len, flags ? flags : CRL_LOAD_DISCARD, &crl, ph->err, sizeof(ph->err));
		ph->t_parse = since(t0);
	}
	if (r != CRL_OK) {
		char why[300];

		snprintf(why, sizeof(why), "%s: %s", crl_error_str(r), ph->err);
		snprintf(ph->err, sizeof(ph->err), "%.200s", why);
		return;
	}
	ph->t_total = ph->t_read + ph->t_parse;
	ph->entries = crl->entries;
	ph->index_bytes = (double)crl_index_bytes(crl->index);
	free(buf);
	malloc_trim(0);
	ph->peak = (double)bench_hwm() - (double)base;
	ph->steady = (double)bench_rss() - (double)base;
	c.crl = crl;
	if (lookups)
		time_lookups(crlsync_lookup, &c, o, ph);
	ph->ok = true;
	crl_unref(crl);
}

enum contender { C_OPENSSL, C_CRLSYNC, C_CRLSYNC_NO_INDEX };

/* Runs one contender in a child and returns what it measured. */
static struct phase measure(const struct opts *o, enum contender which)
{
	struct phase ph = { 0 };
	int pfd[2], status;
	pid_t pid;

	if (pipe(pfd) != 0)
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(pfd[0]);
		switch (which) {
		case C_OPENSSL: run_openssl(o, &ph); break;
		case C_CRLSYNC: run_crlsync(o, 0, true, &ph); break; /* as the plugin: from the file */
		case C_CRLSYNC_NO_INDEX: run_crlsync(o, CRL_LOAD_NO_INDEX, false, &ph); break;
		}
		if (write(pfd[1], &ph, sizeof(ph)) != (ssize_t)sizeof(ph))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &ph, sizeof(ph)) != (ssize_t)sizeof(ph)) {
		memset(&ph, 0, sizeof(ph));
		snprintf(ph.err, sizeof(ph.err), "the child died (out of memory?)");
	}
	close(pfd[0]);
	waitpid(pid, &status, 0);
	return ph;
}

/* ---- output ---- */

static const char *ns_or(const struct phase *ph, double ns, char *buf, size_t len)
{
	if (!ph->ok)
		return "-";
	return bench_fmt_ns(ns, buf, len);
}

static const char *mib_or(const struct phase *ph, double b, char *buf, size_t len)
{
	if (!ph->ok)
		return "-";
	return bench_fmt_mib(b, buf, len);
}

static void ratio(double ref, double ours, char *buf, size_t len)
{
	if (ref > 0 && ours > 0)
		snprintf(buf, len, "%.1fx", ref / ours);
	else
		snprintf(buf, len, "-");
}

static void print_table(const struct opts *o, size_t entries, size_t file_len, const struct phase *os,
			const struct phase *cs, const struct phase *ni)
{
	char a[32], b[32], r[32];
	double n = entries > 0 ? (double)entries : 1;
	bool is_1m = entries >= 900000 && entries <= 1100000;

	const char *loader = "crl_from_file_at (a DER file read a window at a time, as the plugin loads it)";
	printf("\n### %s: %zu entries, %.1f MiB DER\n\n", o->label ? o->label : o->crl_path, entries,
	       (double)file_len / BENCH_MIB);
	printf("crlsync loader: %s. Lookups: %zu (half listed, half not), timed in batches of %zu.\n\n", loader,
	       cs->queries ? cs->queries : os->queries, o->batch);
	if (!os->ok && !o->skip_openssl)
		printf("OpenSSL failed: %s\n\n", os->err);
	if (!cs->ok)
		printf("crlsync failed: %s\n\n", cs->err);
	printf("| | OpenSSL | crlsync | OpenSSL / crlsync | target |%s\n", is_1m ? " anchor (issue, 1M) |" : "");
	printf("|---|---:|---:|---:|---|%s\n", is_1m ? "---:|" : "");
	printf("| read file | %s | %s | | |%s\n", ns_or(os, os->t_read, a, sizeof(a)),
	       cs->ok && cs->t_read == 0 ? "(in load)" : ns_or(cs, cs->t_read, b, sizeof(b)), is_1m ? " |" : "");
	printf("| parse (d2i_X509_CRL) / load+verify+index | %s | %s | | |%s\n", ns_or(os, os->t_parse, a, sizeof(a)),
	       ns_or(cs, cs->t_parse, b, sizeof(b)), is_1m ? " 1.5 s |" : "");
	printf("| X509_CRL_verify | %s | (in load) | | |%s\n", ns_or(os, os->t_verify, a, sizeof(a)),
	       is_1m ? " 0.17-0.22 s |" : "");
	printf("| first lookup (sorts) | %s | (in load) | | |%s\n", ns_or(os, os->t_first, a, sizeof(a)),
	       is_1m ? " 0.68 s |" : "");
	ratio(os->t_total, cs->t_total, r, sizeof(r));
	printf("| **read+parse+verify+index, total** | %s | %s | %s | >= 5x |%s\n", ns_or(os, os->t_total, a, sizeof(a)),
	       ns_or(cs, cs->t_total, b, sizeof(b)), r, is_1m ? " 2.4 s |" : "");
	if (ni->ok) {
		ratio(os->t_total, ni->t_total, r, sizeof(r));
		printf("| check only, no index (CRL_LOAD_NO_INDEX) | | %s | %s | |%s\n", ns_or(ni, ni->t_total, b, sizeof(b)),
		       r, is_1m ? " |" : "");
	}
	printf("| peak RSS during load (file buffer included) | %s | %s | | |%s\n", mib_or(os, os->peak, a, sizeof(a)),
	       mib_or(cs, cs->peak, b, sizeof(b)), is_1m ? " 318 MiB |" : "");
	printf("| steady RSS after load | %s | %s | | |%s\n", mib_or(os, os->steady, a, sizeof(a)),
	       mib_or(cs, cs->steady, b, sizeof(b)), is_1m ? " |" : "");
	printf("| steady RSS per entry | %s | %s | | <= 32 B |%s\n",
	       os->ok ? (snprintf(a, sizeof(a), "%.0f B", os->steady / n), a) : "-",
	       cs->ok ? (snprintf(b, sizeof(b), "%.0f B", cs->steady / n), b) : "-", is_1m ? " |" : "");
	printf("| index heap per entry (crl_index_bytes) | | %s | | <= 32 B |%s\n",
	       cs->ok ? (snprintf(b, sizeof(b), "%.1f B", cs->index_bytes / n), b) : "-", is_1m ? " |" : "");
	ratio(os->lk_median, cs->lk_median, r, sizeof(r));
	printf("| **lookup, median of batch means** | %s | %s | %s | <= 150 ns, >= 15x |%s\n",
	       ns_or(os, os->lk_median, a, sizeof(a)), ns_or(cs, cs->lk_median, b, sizeof(b)), r,
	       is_1m ? " 2.3-2.5 us |" : "");
	printf("| lookup of a listed serial only, median | %s | %s | | |\n", ns_or(os, os->lk_listed, a, sizeof(a)),
	       ns_or(cs, cs->lk_listed, b, sizeof(b)));
	printf("| lookup of an unlisted serial only (a good client), median | %s | %s | | |\n",
	       ns_or(os, os->lk_unlisted, a, sizeof(a)), ns_or(cs, cs->lk_unlisted, b, sizeof(b)));
	printf("| lookup, p99 of batch means | %s | %s | | |%s\n", ns_or(os, os->lk_p99, a, sizeof(a)),
	       ns_or(cs, cs->lk_p99, b, sizeof(b)), is_1m ? " |" : "");
	printf("| lookup, per call p50 / p99 (timer ~%.0f ns included) | %s / ", cs->ok ? cs->timer_ns : os->timer_ns,
	       ns_or(os, os->lk_call_p50, a, sizeof(a)));
	printf("%s | ", ns_or(os, os->lk_call_p99, a, sizeof(a)));
	printf("%s / ", ns_or(cs, cs->lk_call_p50, b, sizeof(b)));
	printf("%s | | |%s\n", ns_or(cs, cs->lk_call_p99, b, sizeof(b)), is_1m ? " |" : "");
	if (os->ok && cs->ok && os->hits != cs->hits)
		printf("\nWARNING: OpenSSL found %zu of the listed serials, crlsync %zu\n", os->hits, cs->hits);
}

static void phase_json(FILE *f, const char *name, const struct phase *p)
{
	fprintf(f,
		"\"%s\":{\"ok\":%s,\"read_ns\":%.0f,\"parse_ns\":%.0f,\"verify_ns\":%.0f,\"first_ns\":%.0f,"
		"\"total_ns\":%.0f,\"peak_bytes\":%.0f,\"steady_bytes\":%.0f,\"index_bytes\":%.0f,"
		"\"lookup_median_ns\":%.1f,\"lookup_listed_ns\":%.1f,\"lookup_unlisted_ns\":%.1f,\"lookup_p99_ns\":%.1f,\"lookup_call_p50_ns\":%.0f,"
		"\"lookup_call_p99_ns\":%.0f,\"timer_ns\":%.0f,\"hits\":%zu,\"queries\":%zu}",
		name, p->ok ? "true" : "false", p->t_read, p->t_parse, p->t_verify, p->t_first, p->t_total, p->peak,
		p->steady, p->index_bytes, p->lk_median, p->lk_listed, p->lk_unlisted, p->lk_p99, p->lk_call_p50, p->lk_call_p99, p->timer_ns, p->hits,
		p->queries);
}

static void write_json(const struct opts *o, size_t entries, size_t file_len, const struct phase *os,
		       const struct phase *cs, const struct phase *ni)
{
	FILE *f = fopen(o->json_path, "a");

	if (f == NULL)
		die("%s: %s", o->json_path, strerror(errno));
	fprintf(f, "{\"bench\":\"crl\",\"label\":\"%s\",\"entries\":%zu,\"file_bytes\":%zu,", o->label ? o->label : "",
		entries, file_len);
	fprintf(f, "\"loader\":\"crl_from_file_at (a DER file, a window at a time, as the plugin loads it)\",");
	phase_json(f, "openssl", os);
	fputc(',', f);
	phase_json(f, "crlsync", cs);
	fputc(',', f);
	phase_json(f, "crlsync_no_index", ni);
	fputs("}\n", f);
	fclose(f);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_crl --crl FILE.der --ca CA.pem [--lookups N] [--batch N] [--skip-openssl]\n"
		   "                 [--label TEXT] [--json FILE (appends one line)]\n");
}

int main(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "crl", required_argument, NULL, 'c' }, { "ca", required_argument, NULL, 'a' },
		{ "lookups", required_argument, NULL, 'n' }, { "batch", required_argument, NULL, 'b' },
		{ "skip-openssl", no_argument, NULL, 's' }, { "json", required_argument, NULL, 'j' },
		{ "label", required_argument, NULL, 'l' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct opts o = { .lookups = 1000000, .batch = 64 };
	struct phase os = { 0 }, cs, ni = { 0 };
	unsigned char *der = NULL;
	size_t len, entries;
	FILE *f;
	int c, e;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o.crl_path = optarg; break;
		case 'a': o.ca_path = optarg; break;
		case 'n': o.lookups = strtoull(optarg, NULL, 10); break;
		case 'b': o.batch = strtoull(optarg, NULL, 10); break;
		case 's': o.skip_openssl = true; break;
		case 'j': o.json_path = optarg; break;
		case 'l': o.label = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.crl_path == NULL || o.ca_path == NULL || o.batch == 0 || o.lookups < o.batch) {
		usage(stderr);
		return 2;
	}
	f = fopen(o.ca_path, "r");
	if (f == NULL || (ca = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		die("%s: no PEM certificate", o.ca_path);
	fclose(f);

	e = file_read(o.crl_path, CRL_FILE_MAX, &der, &len);
	if (e != 0)
		die("%s: %s", o.crl_path, strerror(-e));
	/* The query pool: as many as lookups, at most 1M distinct (then it wraps). */
	build_queries(der, len, o.lookups < 1048576 ? o.lookups : 1048576, &entries);
	free(der);
	malloc_trim(0);

	if (!o.skip_openssl)
		os = measure(&o, C_OPENSSL);
	cs = measure(&o, C_CRLSYNC);
	ni = measure(&o, C_CRLSYNC_NO_INDEX);
	print_table(&o, entries, len, &os, &cs, &ni);
	if (o.json_path != NULL)
		write_json(&o, entries, len, &os, &cs, &ni);
	free(queries);
	X509_free(ca);
	return 0;
}
