/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fast DER loader against the OpenSSL reference: shared by unit tests and the differential fuzz target. */
#include "crl_diff.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crlsync/crl.h"
#include "crlsync/mark.h"

static bool tlv(const unsigned char **p, const unsigned char *end, unsigned char tag, size_t *hdr, size_t *len)
{
	const unsigned char *q = *p;
	size_t l, n;

	if (end - q < 2 || q[0] != tag)
		return false;
	l = q[1];
	*hdr = 2;
	if (l & 0x80) {
		n = l & 0x7F;
		if (n == 0 || n > 4 || (size_t)(end - q) < 2 + n)
			return false;
		for (l = 0, *hdr = 2 + n; n > 0; n--)
			l = l << 8 | q[*hdr - n];
	}
	if ((size_t)(end - q) - *hdr < l)
		return false;
	*len = l;
	*p = q + *hdr + l;
	return true;
}

bool crl_diff_split(const unsigned char *der, size_t len, const unsigned char **tbs, size_t *tbs_len,
		    const unsigned char **alg, size_t *alg_len)
{
	const unsigned char *p = der, *end = der + len, *q;
	size_t hdr, l;

	if (!tlv(&p, end, 0x30, &hdr, &l))
		return false;
	p = der + hdr;
	end = p + l;
	q = p;
	if (!tlv(&p, end, 0x30, &hdr, &l))
		return false;
	*tbs = q;
	*tbs_len = (size_t)(p - q);
	q = p;
	if (!tlv(&p, end, 0x30, &hdr, &l))
		return false;
	*alg = q;
	*alg_len = (size_t)(p - q);
	return true;
}

static size_t put_len(unsigned char *p, size_t len)
{
	size_t n = 0;

	if (len < 0x80) {
		p[0] = (unsigned char)len;
		return 1;
	}
	for (size_t l = len; l > 0; l >>= 8)
		n++;
	p[0] = (unsigned char)(0x80 | n);
	for (size_t i = 0; i < n; i++)
		p[1 + i] = (unsigned char)(len >> (8 * (n - 1 - i)));
	return 1 + n;
}

unsigned char *crl_diff_resign(const unsigned char *tbs, size_t tbs_len, const unsigned char *alg_tlv,
			       size_t alg_len, EVP_PKEY *key, size_t *out_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[1024], hdr[8], *out = NULL, *p;
	size_t sig_len = sizeof(sig), bits_len, body, hl;

	if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256(),
					      NULL, key) != 1 ||
	    EVP_DigestSign(ctx, sig, &sig_len, tbs, tbs_len) != 1)
		goto out;
	bits_len = 1 + sig_len;
	body = tbs_len + alg_len + 1 + put_len(hdr, bits_len) + bits_len;
	hl = 1 + put_len(hdr, body);
	out = malloc(hl + body);
	if (out == NULL)
		goto out;
	p = out;
	*p++ = 0x30;
	p += put_len(p, body);
	memcpy(p, tbs, tbs_len);
	p += tbs_len;
	memcpy(p, alg_tlv, alg_len);
	p += alg_len;
	*p++ = 0x03;
	p += put_len(p, bits_len);
	*p++ = 0;
	memcpy(p, sig, sig_len);
	p += sig_len;
	*out_len = (size_t)(p - out);
out:
	EVP_MD_CTX_free(ctx);
	return out;
}

unsigned char *crl_diff_with_entries(const unsigned char *tbs, size_t tbs_len, const unsigned char *entries,
				     size_t entries_len, size_t *out_len)
{
	const unsigned char *p, *end, *content, *cut = NULL, *resume = NULL, *last = NULL;
	unsigned char hdr[8], *out, *o;
	size_t hl, l, pre, post, n;

	p = tbs;
	if (!tlv(&p, tbs + tbs_len, 0x30, &hl, &l))
		return NULL;
	content = tbs + hl;
	end = content + l;
	/* The list goes where it is, or else after the times, before [0] crlExtensions. */
	for (p = content; p < end;) {
		const unsigned char *start = p;
		unsigned char tag = p[0];

		if (!tlv(&p, end, tag, &hl, &l))
			return NULL;
		if (tag == 0x30 && last != NULL && (last[0] == 0x17 || last[0] == 0x18)) {
			cut = start;
			resume = p;
			break;
		}
		if (tag == 0xA0) {
			cut = resume = start;
			break;
		}
		last = start;
	}
	if (cut == NULL)
		cut = resume = end;
	pre = (size_t)(cut - content);
	post = (size_t)(end - resume);
	n = pre + 1 + put_len(hdr, entries_len) + entries_len + post;
	out = malloc(1 + 9 + n);
	if (out == NULL)
		return NULL;
	o = out;
	*o++ = 0x30;
	o += put_len(o, n);
	memcpy(o, content, pre);
	o += pre;
	*o++ = 0x30;
	o += put_len(o, entries_len);
	if (entries_len > 0)
		memcpy(o, entries, entries_len);
	o += entries_len;
	memcpy(o, resume, post);
	o += post;
	*out_len = (size_t)(o - out);
	return out;
}

/*
 * The fast loader reading a file a window at a time (crl_from_file_at(), issue 14): `der` written
 * to a scratch directory made once. False when it did not load it that way; else its verdict.
 */
static bool from_file(const unsigned char *der, size_t len, X509 *ca, time_t now, enum crl_error *e, struct crl **c,
		      char *err, size_t errlen)
{
	static int dirfd = -1;
	static char dir[256];
	int fd;
	bool ok;

	if (dirfd < 0) {
		const char *t = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/crl_diff.XXXXXX", t && t[0] ? t : "/tmp");
		if (mkdtemp(dir) == NULL || (dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			abort();
	}
	fd = openat(dirfd, "diff.crl", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (len > 0 && write(fd, der, len) != (ssize_t)len))
		abort();
	close(fd);
	ok = crl_from_file_at(dirfd, "diff.crl", &ca, 1, now, "diff", 0, e, c, err, errlen);
	unlinkat(dirfd, "diff.crl", 0);
	return ok;
}

bool crl_diff_check(const unsigned char *der, size_t len, X509 *ca, time_t now, bool *fast_used, char *why,
		    size_t whylen)
{
	struct crl *f = NULL, *r = NULL, *w = NULL;
	enum crl_error ew = CRL_OK;
	bool windowed;
	struct mark_stream fs, rs;
	char e1[512], e2[512], e3[512];
	enum crl_error ef, er;
	X509_CRL *x = NULL;
	const unsigned char *p = der;
	bool ok = false;

	ef = crl_from_der(der, len, &ca, 1, now, "diff", 0, &f, e1, sizeof(e1));
	er = crl_from_der(der, len, &ca, 1, now, "diff", CRL_LOAD_REFERENCE, &r, e2, sizeof(e2));
	windowed = from_file(der, len, ca, now, &ew, &w, e3, sizeof(e3));
	if (fast_used != NULL)
		*fast_used = f != NULL && f->fast;
	/* Read from the file or from memory, the fast loader decides alike, or leaves both to the reference. */
	if (windowed ? ew != ef || (ew == CRL_OK && !f->fast) : ef == CRL_OK && f->fast) {
		snprintf(why, whylen, "in memory %s (%s), from the file %s (%s)", crl_error_str(ef), e1,
			 windowed ? crl_error_str(ew) : "left to the reference", windowed ? e3 : "");
		goto out;
	}
	if ((ef == CRL_OK) != (er == CRL_OK)) {
		snprintf(why, whylen, "fast %s (%s), reference %s (%s)", crl_error_str(ef), e1, crl_error_str(er), e2);
		goto out;
	}
	if (ef != CRL_OK) {
		ok = true;
		goto out;
	}
#define SAME(cond, what)                                          \
	do {                                                      \
		if (!(cond)) {                                    \
			snprintf(why, whylen, "differ in %s", what); \
			goto out;                                 \
		}                                                 \
	} while (0)
	SAME(f->flags == r->flags, "flags");
	SAME(f->number_len == r->number_len && memcmp(f->number, r->number, sizeof(f->number)) == 0, "crlNumber");
	SAME(f->base_number_len == r->base_number_len &&
		     memcmp(f->base_number, r->base_number, sizeof(f->base_number)) == 0,
	     "BaseCRLNumber");
	SAME(f->n_freshest_urls == r->n_freshest_urls, "FreshestCRL URLs");
	SAME(f->this_update == r->this_update, "thisUpdate");
	SAME(f->next_update == r->next_update, "nextUpdate");
	SAME(f->reasons == r->reasons, "reasons");
	SAME(f->sig_nid == r->sig_nid, "signature algorithm");
	SAME(memcmp(f->digest, r->digest, sizeof(f->digest)) == 0, "digest");
	mark_stream_of(f, &fs);
	mark_stream_of(r, &rs);
	SAME(mark_same_stream(&fs, &rs), "scope");
	SAME(strcmp(f->issuer_text, r->issuer_text) == 0, "issuer");
	SAME(f->entries == r->entries, "entry count");
	if (w != NULL) {
		SAME(memcmp(w->digest, f->digest, sizeof(f->digest)) == 0, "digest, read from the file");
		SAME(w->entries == f->entries && w->flags == f->flags && w->this_update == f->this_update &&
			     w->next_update == f->next_update && w->number_len == f->number_len &&
			     strcmp(w->issuer_text, f->issuer_text) == 0,
		     "the CRL read from the file");
	}
	x = d2i_X509_CRL(NULL, &p, (long)len);
	SAME(x != NULL, "decodability");
	for (int i = 0; i < sk_X509_REVOKED_num(X509_CRL_get_REVOKED(x)); i++) {
		const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(X509_CRL_get_REVOKED(x), i));
		const unsigned char *s = ASN1_STRING_get0_data(sn);
		size_t sl = (size_t)ASN1_STRING_length(sn);
		bool neg = ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER;
		struct crl_index_hit h1 = { 0 }, h2 = { 0 };
		bool b1 = crl_index_find(f->index, s, sl, neg, &h1), b2 = crl_index_find(r->index, s, sl, neg, &h2);
		struct crl_index_hit h3 = { 0 };

		SAME(b1 && b2, "an entry's presence");
		SAME(w == NULL || (crl_index_find(w->index, s, sl, neg, &h3) && h3.revoked_at == h1.revoked_at &&
				   h3.reason == h1.reason),
		     "an entry read from the file");
		SAME(h1.revoked_at == h2.revoked_at, "an entry's date");
		SAME(h1.reason == h2.reason, "an entry's reason");
	}
#undef SAME
	ok = true;
out:
	X509_CRL_free(x);
	crl_unref(f);
	crl_unref(r);
	crl_unref(w);
	return ok;
}
