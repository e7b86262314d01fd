/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fast CRL loader: one strict DER pass over the entries, EVP over the signed bytes, OpenSSL for the rest. */
#include "crl_der.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "crl_rules.h"
#include "crlsync/crl.h"
#include "crlsync/crl_index.h"

/*
 * Why: OpenSSL's generic decoder builds an object per entry (about 250 bytes each) and takes
 * seconds for a million entries; what a revocation check needs of an entry is its serial, date
 * and reason. The pass below accepts only canonical DER (RFC 5280 §4.1.2.2, §5.1.2.6, X.690
 * §10-11) and the entry extensions we understand; on everything else it answers CRL_E_FALLBACK,
 * and the dispatcher (crl_load.c) asks the reference loader (crl_reference.c), so the verdict and the
 * message of an unusual CRL are exactly the reference's. The rules themselves are crl_rules.c's,
 * fed through struct crl_source. tests/fuzz/fuzz_crl_diff.c holds the two loaders to agreement.
 */

/* The fast path's view of the original DER: pointers into the caller's buffer. */
struct crl_raw {
	const unsigned char *der; /* the whole CertificateList */
	size_t der_len;
	const unsigned char *tbs; /* the signed bytes: tbsCertList with its header */
	size_t tbs_len;
	const unsigned char *sig; /* the signature value (BIT STRING content after the unused-bits octet) */
	size_t sig_len;
	const unsigned char *revoked; /* content octets of revokedCertificates; NULL when absent */
	size_t revoked_len;
	unsigned flags; /* enum crl_load_flags */
	/*
	 * crl_der_load_fd(): fd >= 0, and only the octets before and after the entries are in memory
	 * at `der` (the rest of that range is reserved, never readable); the passes over the entries
	 * and the signed bytes read them a window at a time (raw_bytes()).
	 */
	int fd;
	unsigned char *win;
	size_t win_cap, win_off, win_len;
};

#define WINDOW ((size_t)1 << 20)

/*
 * `n` octets at offset `off` of the CRL: in place, or (fd mode) read into the window, which
 * holds at least WINDOW octets from `off` on (an entry longer than that grows it). The pointer
 * is valid until the next call. NULL on a read error or out of memory.
 */
static const unsigned char *raw_bytes(struct crl_raw *raw, size_t off, size_t n)
{
	size_t want, got = 0;

	if (raw->fd < 0)
		return raw->der + off;
	if (off >= raw->win_off && n <= raw->win_len && off - raw->win_off <= raw->win_len - n)
		return raw->win + (off - raw->win_off);
	want = n > WINDOW ? n : WINDOW;
	if (want > raw->der_len - off)
		want = raw->der_len - off;
	if (want > raw->win_cap) {
		unsigned char *w = realloc(raw->win, want);

		if (w == NULL)
			return NULL;
		raw->win = w;
		raw->win_cap = want;
	}
	raw->win_len = 0;
	while (got < want) {
		ssize_t r = pread(raw->fd, raw->win + got, want - got, (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return NULL; /* an error, or the file shrank under us */
		got += (size_t)r;
	}
	raw->win_off = off;
	raw->win_len = want;
	return n <= want ? raw->win : NULL;
}

/* ---- strict DER reading ---- */

struct der {
	const unsigned char *p, *end;
};

/* One TLV with a low tag number and a minimal definite length within bounds; the value in *v, *len. */
static bool der_next(struct der *d, unsigned char *tag, const unsigned char **v, size_t *len)
{
	const unsigned char *p = d->p;
	size_t l, n;

	if (d->end - p < 2)
		return false;
	*tag = *p++;
	if ((*tag & 0x1F) == 0x1F)
		return false;
	l = *p++;
	if (l & 0x80) {
		n = l & 0x7F;
		/* 0: indefinite (BER); more than 4 octets: beyond CRL_FILE_MAX anyway. */
		if (n == 0 || n > 4 || (size_t)(d->end - p) < n || p[0] == 0)
			return false;
		for (l = 0; n > 0; n--)
			l = l << 8 | *p++;
		if (l < 0x80)
			return false; /* X.690 §10.1: the short form was due */
	}
	if ((size_t)(d->end - p) < l)
		return false;
	*v = p;
	*len = l;
	d->p = p + l;
	return true;
}

/* The same, expecting `want`. */
static bool der_expect(struct der *d, unsigned char want, const unsigned char **v, size_t *len)
{
	struct der save = *d;
	unsigned char tag;

	if (der_next(d, &tag, v, len) && tag == want)
		return true;
	*d = save;
	return false;
}

static unsigned char der_peek(const struct der *d)
{
	return d->p < d->end ? d->p[0] : 0;
}

/* ---- times ---- */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian); H. Hinnant's days_from_civil. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const unsigned char *s, size_t n, unsigned *out)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

/*
 * UTCTime "YYMMDDHHMMSSZ" or GeneralizedTime "YYYYMMDDHHMMSSZ" (RFC 5280 §4.1.2.5), checked as
 * ASN1_TIME_to_tm() checks them (month, day of that month, hour, minute, second 0-59). Any other
 * form (no seconds, fractions, offsets) is left to the reference.
 */
static bool der_time(unsigned char tag, const unsigned char *s, size_t len, time_t *out)
{
	static const unsigned char mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h, mi, se, md;
	size_t yl;

	if (tag == 0x17 && len == 13)
		yl = 2;
	else if (tag == 0x18 && len == 15)
		yl = 4;
	else
		return false;
	if (s[len - 1] != 'Z' || !digits(s, yl, &y) || !digits(s + yl, 2, &mo) || !digits(s + yl + 2, 2, &d) ||
	    !digits(s + yl + 4, 2, &h) || !digits(s + yl + 6, 2, &mi) || !digits(s + yl + 8, 2, &se))
		return false;
	if (yl == 2)
		y += y < 50 ? 2000 : 1900;
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
		return false;
	md = mdays[mo - 1] + (mo == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
	if (d > md)
		return false;
	*out = (time_t)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se);
	return true;
}

/* ---- entries ---- */

/* X.690 §8.19 as c2i_ASN1_OBJECT() checks it: no 0x80 padding, the last octet ends a subidentifier. */
static bool oid_ok(const unsigned char *o, size_t len)
{
	if (len == 0 || (o[len - 1] & 0x80))
		return false;
	for (size_t i = 0; i < len; i++)
		if (o[i] == 0x80 && (i == 0 || !(o[i - 1] & 0x80)))
			return false;
	return true;
}

static const unsigned char oid_reason[] = { 0x55, 0x1D, 0x15 };      /* 2.5.29.21 reasonCode */
static const unsigned char oid_hold[] = { 0x55, 0x1D, 0x17 };        /* 2.5.29.23 holdInstructionCode */
static const unsigned char oid_invalidity[] = { 0x55, 0x1D, 0x18 };  /* 2.5.29.24 invalidityDate */

static const unsigned char oid_cert_issuer[] = { 0x55, 0x1D, 0x1D }; /* 2.5.29.29 certificateIssuer */

static bool oid_is(const unsigned char *o, size_t len, const unsigned char *want)
{
	return len == 3 && memcmp(o, want, 3) == 0;
}

/* The entry extensions the rules know by NID (crl_rules_entry_ext_known()); NID_undef for any other. */
static int entry_ext_nid(const unsigned char *o, size_t len)
{
	if (oid_is(o, len, oid_reason))
		return NID_crl_reason;
	if (oid_is(o, len, oid_hold))
		return NID_hold_instruction_code;
	if (oid_is(o, len, oid_invalidity))
		return NID_invalidity_date;
	if (oid_is(o, len, oid_cert_issuer))
		return NID_certificate_issuer;
	return NID_undef;
}

struct entry {
	const unsigned char *serial; /* magnitude, leading zeros stripped */
	size_t serial_len;
	time_t when;
	int reason;
};

/*
 * One revokedCertificates element. False for anything the reference must judge: negative or
 * non-minimal serials, unusual times, certificateIssuer, unknown critical extensions, a reason
 * that is not a plain valid code, a second reasonCode, trailing octets.
 */
static bool parse_entry(const unsigned char *v, size_t len, unsigned crl_flags, struct entry *e)
{
	struct der d = { v, v + len }, exts;
	const unsigned char *s, *t, *x;
	size_t sl, tl, xl;
	unsigned char tag;

	if (!der_expect(&d, 0x02, &s, &sl) || sl == 0)
		return false;
	if (s[0] & 0x80)
		return false; /* negative: non-conforming, rare; the reference indexes it */
	if (sl > 1 && s[0] == 0 && !(s[1] & 0x80))
		return false; /* X.690 §8.3.2: not minimal */
	while (sl > 0 && s[0] == 0)
		s++, sl--;
	if (sl > CRL_SERIAL_MAX)
		return false;
	e->serial = s;
	e->serial_len = sl;
	if (!der_next(&d, &tag, &t, &tl) || !der_time(tag, t, tl, &e->when))
		return false;
	e->reason = CRL_REASON_ABSENT;
	if (d.p == d.end)
		return true;
	if (!der_expect(&d, 0x30, &x, &xl) || d.p != d.end)
		return false;
	exts = (struct der){ x, x + xl };
	while (exts.p < exts.end) {
		struct der ext;
		const unsigned char *o, *b, *ev;
		size_t ol, bl, evl;
		bool critical = false;
		int nid;

		if (!der_expect(&exts, 0x30, &x, &xl))
			return false;
		ext = (struct der){ x, x + xl };
		if (!der_expect(&ext, 0x06, &o, &ol) || !oid_ok(o, ol))
			return false;
		if (der_peek(&ext) == 0x01) {
			if (!der_expect(&ext, 0x01, &b, &bl) || bl != 1)
				return false;
			critical = b[0] != 0;
		}
		if (!der_expect(&ext, 0x04, &ev, &evl) || ext.p != ext.end)
			return false;
		nid = entry_ext_nid(o, ol);
		/*
		 * certificateIssuer (critical or not: the reference judges it against the IDP) and unknown
		 * critical extensions: the reference says why.
		 */
		if (nid == NID_certificate_issuer || (critical && !crl_rules_entry_ext_known(nid)))
			return false;
		if (nid == NID_crl_reason) {
			/* RFC 5280 §5.3.1: one plain ENUMERATED that the rules accept in this CRL (delta or not). */
			if (e->reason != CRL_REASON_ABSENT || evl != 3 || ev[0] != 0x0A || ev[1] != 1 ||
			    !crl_rules_reason_ok_in(ev[2], crl_flags))
				return false;
			e->reason = ev[2];
		}
		/* holdInstructionCode, invalidityDate, non-critical unknown ones: not needed for the decision. */
	}
	return true;
}

/* Releases the pages of [from, to) that lie wholly inside it (CRL_LOAD_DISCARD, CRL_LOAD_MAPPED). */
static void discard(const unsigned char *from, const unsigned char *to)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a = ((uintptr_t)from + page - 1) & ~(page - 1),
		  b = (uintptr_t)to & ~(page - 1);

	if (b > a)
		(void)madvise((void *)a, b - a, MADV_DONTNEED);
}

#define DISCARD_STEP ((size_t)1 << 20)

/* A pass that releases what it has read, a MiB at a time, when `on`. */
struct releaser {
	const unsigned char *mark;
	bool on;
};

static void release_upto(struct releaser *rl, const unsigned char *p, bool last)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

	if (!rl->on || p <= rl->mark || ((size_t)(p - rl->mark) < DISCARD_STEP && !last))
		return;
	discard(rl->mark, p);
	/* From the page where this one stopped: the next call releases the page it cut through. */
	rl->mark = (const unsigned char *)((uintptr_t)p & ~(page - 1));
}

/* The length of the TLV whose header starts at p (avail octets there), as der_next() reads it; 0 if malformed. */
static size_t tlv_total(const unsigned char *p, size_t avail)
{
	size_t l, n, h = 2;

	if (avail < 2 || (p[0] & 0x1F) == 0x1F)
		return 0;
	l = p[1];
	if (l & 0x80) {
		n = l & 0x7F;
		if (n == 0 || n > 4 || avail < 2 + n || p[2] == 0)
			return 0;
		for (l = 0; n > 0; n--)
			l = l << 8 | p[h++];
		if (l < 0x80)
			return 0;
	}
	return h + l;
}

/* The entry (a SEQUENCE) at *off, before `end`: its content in *v, *vl, *off past it. False when malformed. */
static bool next_entry(struct crl_raw *raw, size_t *off, size_t end, const unsigned char **v, size_t *vl)
{
	size_t avail = end - *off, total;
	const unsigned char *p = raw_bytes(raw, *off, avail < 6 ? avail : 6);
	struct der d;

	if (p == NULL || (total = tlv_total(p, avail < 6 ? avail : 6)) == 0 || total > avail)
		return false;
	if ((p = raw_bytes(raw, *off, total)) == NULL)
		return false;
	d = (struct der){ p, p + total };
	if (!der_expect(&d, 0x30, v, vl))
		return false;
	*off += total;
	return true;
}

/* The entries straight from the buffer (or the file): pass 1 checks and counts, pass 2 indexes. */
static enum crl_error der_entries(const struct crl_source *src, struct crl *c, char *err, size_t errlen)
{
	struct crl_raw *raw = src->ctx;
	size_t n = 0, tail_max = 0, off, vl;
	size_t start = raw->revoked != NULL ? (size_t)(raw->revoked - raw->der) : 0;
	size_t end = raw->revoked != NULL ? start + raw->revoked_len : 0;
	const unsigned char *v;
	struct entry e;
	/* A mapped file's pages come back from the page cache: pass 1 may release them too. */
	struct releaser rl = { raw->der + start, raw->fd < 0 && (raw->flags & CRL_LOAD_MAPPED) != 0 };
	int r;

	(void)err;
	(void)errlen;
	/*
	 * Pass 1 checks every entry and counts, so that pass 2 cannot fail (and may discard the
	 * pages behind it) and the index is allocated once at its final size.
	 */
	for (off = start; off < end;) {
		if (!next_entry(raw, &off, end, &v, &vl) || !parse_entry(v, vl, c->flags, &e))
			return CRL_E_FALLBACK;
		n++;
		if (e.serial_len > 7 + tail_max)
			tail_max = e.serial_len - 7;
		release_upto(&rl, raw->der + off, off == end);
	}
	c->entries = n;
	if (raw->flags & CRL_LOAD_NO_INDEX)
		return CRL_OK;
	c->index = crl_index_new(0);
	if (c->index == NULL || crl_index_reserve(c->index, n, tail_max) != 0)
		return CRL_E_NOMEM;
	rl = (struct releaser){ raw->der + start, raw->fd < 0 && (raw->flags & (CRL_LOAD_DISCARD | CRL_LOAD_MAPPED)) != 0 };
	for (off = start; off < end;) {
		/* Pass 1 read the same octets: only a file that changed under us fails here. */
		if (!next_entry(raw, &off, end, &v, &vl) || !parse_entry(v, vl, c->flags, &e))
			return CRL_E_FALLBACK;
		r = crl_index_add(c->index, e.serial, e.serial_len, false, e.when, e.reason);
		if (r != 0)
			return CRL_E_NOMEM;
		release_upto(&rl, raw->der + off, false);
	}
	if (crl_index_seal(c->index) != 0)
		return CRL_E_NOMEM;
	c->entries = crl_index_count(c->index);
	return CRL_OK;
}

/* ---- signature ---- */

/* RSASSA-PSS parameters (RFC 4055 §3.1) into the verify context, as OpenSSL's rsa_pss_to_ctx does. */
static bool pss_setup(EVP_MD_CTX *ctx, const X509_ALGOR *alg, EVP_PKEY *pkey)
{
	const ASN1_OBJECT *obj;
	const void *pval;
	int ptype;
	RSA_PSS_PARAMS *pss = NULL;
	X509_ALGOR *mgf1 = NULL;
	const EVP_MD *md = EVP_sha1(), *mgf1md = EVP_sha1();
	EVP_PKEY_CTX *pctx = NULL;
	const unsigned char *q;
	long salt = 20;
	bool ok = false;

	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	if (ptype != V_ASN1_SEQUENCE || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
		return false;
	q = ASN1_STRING_get0_data(pval);
	pss = d2i_RSA_PSS_PARAMS(NULL, &q, ASN1_STRING_length(pval));
	if (pss == NULL)
		goto out;
	if (pss->hashAlgorithm != NULL && (md = EVP_get_digestbyobj(pss->hashAlgorithm->algorithm)) == NULL)
		goto out;
	if (pss->maskGenAlgorithm != NULL) {
		if (OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) != NID_mgf1 ||
		    (mgf1 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR), pss->maskGenAlgorithm->parameter)) ==
			    NULL ||
		    (mgf1md = EVP_get_digestbyobj(mgf1->algorithm)) == NULL)
			goto out;
	}
	if (pss->saltLength != NULL && ((salt = ASN1_INTEGER_get(pss->saltLength)) < 0 || salt > INT32_MAX))
		goto out;
	if (pss->trailerField != NULL && ASN1_INTEGER_get(pss->trailerField) != 1)
		goto out;
	if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)salt) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, mgf1md) <= 0)
		goto out;
	ok = true;
out:
	RSA_PSS_PARAMS_free(pss);
	X509_ALGOR_free(mgf1);
	return ok;
}

/* raw->sig over raw->tbs with the algorithm of the skeleton: 1 good, 0 bad, -1 cannot tell. */
static int der_verify(const struct crl_source *src, EVP_PKEY *pkey)
{
	struct crl_raw *raw = src->ctx;
	size_t tbs_off = (size_t)(raw->tbs - raw->der);
	const unsigned char *p;
	X509_CRL *skel = src->x;
	const ASN1_BIT_STRING *sig;
	const X509_ALGOR *alg;
	const ASN1_OBJECT *obj;
	const void *pval;
	EVP_MD_CTX *ctx;
	int nid, mdnid, pknid, ptype, r = -1;

	if (pkey == NULL)
		return -1;
	X509_CRL_get0_signature(skel, &sig, &alg);
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	nid = OBJ_obj2nid(obj);
	if (nid == NID_undef || !OBJ_find_sigid_algs(nid, &mdnid, &pknid))
		return -1;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -1;
	if (nid == NID_rsassaPss) {
		if (!pss_setup(ctx, alg, pkey))
			goto out;
	} else if (mdnid == NID_undef) {
		/* Ed25519/Ed448 (RFC 8410 §3): no parameters, the key of that type, no pre-hash. */
		if ((nid != NID_ED25519 && nid != NID_ED448) || ptype != V_ASN1_UNDEF ||
		    EVP_PKEY_get_base_id(pkey) != nid || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1)
			goto out;
	} else {
		const EVP_MD *md = EVP_get_digestbynid(mdnid);

		if (md == NULL || EVP_PKEY_type(pknid) != EVP_PKEY_get_base_id(pkey) ||
		    EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) != 1)
			goto out;
	}
	if (mdnid == NID_undef && nid != NID_rsassaPss) {
		/* Ed25519/Ed448 sign the message itself, not a digest: one call over all of it. */
		if ((p = raw_bytes(raw, tbs_off, raw->tbs_len)) == NULL)
			goto out;
		r = EVP_DigestVerify(ctx, raw->sig, raw->sig_len, p, raw->tbs_len) == 1 ? 1 : 0;
		if (raw->fd < 0 && (raw->flags & CRL_LOAD_MAPPED))
			discard(raw->tbs, raw->tbs + raw->tbs_len);
	} else {
		struct releaser rl = { raw->tbs, raw->fd < 0 && (raw->flags & CRL_LOAD_MAPPED) != 0 };

		/* EVP_DigestVerify() is Update + Final for these: the same verdict, a MiB at a time. */
		for (size_t o = 0; o < raw->tbs_len; o += DISCARD_STEP) {
			size_t k = raw->tbs_len - o < DISCARD_STEP ? raw->tbs_len - o : DISCARD_STEP;

			if ((p = raw_bytes(raw, tbs_off + o, k)) == NULL || EVP_DigestVerifyUpdate(ctx, p, k) != 1)
				goto out;
			release_upto(&rl, raw->tbs + o + k, o + k == raw->tbs_len);
		}
		r = EVP_DigestVerifyFinal(ctx, raw->sig, raw->sig_len) == 1 ? 1 : 0;
	}
out:
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

/* ---- the CRL ---- */

static size_t der_len_size(size_t len)
{
	size_t n = 1;

	if (len >= 0x80)
		for (size_t l = len; l > 0; l >>= 8)
			n++;
	return n;
}

static unsigned char *der_put_header(unsigned char *p, unsigned char tag, size_t len)
{
	size_t n = der_len_size(len);

	*p++ = tag;
	if (n == 1) {
		*p++ = (unsigned char)len;
		return p;
	}
	*p++ = (unsigned char)(0x80 | (n - 1));
	for (size_t i = n - 1; i > 0; i--)
		*p++ = (unsigned char)(len >> (8 * (i - 1)));
	return p;
}

/* The file's own bytes: the digest that names the content. */
static bool der_digest(const struct crl_source *src, unsigned char out[32])
{
	struct crl_raw *raw = src->ctx;
	struct releaser rl = { raw->der, raw->fd < 0 && (raw->flags & CRL_LOAD_MAPPED) != 0 };
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int mdlen = 0;
	bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;

	for (size_t o = 0; ok && o < raw->der_len; o += DISCARD_STEP) {
		size_t k = raw->der_len - o < DISCARD_STEP ? raw->der_len - o : DISCARD_STEP;

		const unsigned char *p = raw_bytes(raw, o, k);

		ok = p != NULL && EVP_DigestUpdate(ctx, p, k) == 1;
		release_upto(&rl, raw->der + o + k, o + k == raw->der_len);
	}
	ok = ok && EVP_DigestFinal_ex(ctx, out, &mdlen) == 1 && mdlen == 32;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static enum crl_error load(struct crl_raw *rawp, X509 *const *cas, size_t n_cas, time_t now, const char *origin,
			   struct crl **out, char *err, size_t errlen)
{
	const unsigned char *der = rawp->der;
	size_t len = rawp->der_len;
	struct der outer = { der, der + len }, list, tbs;
	const unsigned char *tbs_v, *alg_v, *alg_tlv, *bits, *parts[8], *v;
	size_t tbs_l, alg_l, alg_tlv_l, bits_l, part_len[8], n_parts = 0, vl, body = 0, skel_tbs, skel_len;
	unsigned char *skel = NULL, *p, tag;
	const unsigned char *cp;
	struct crl_raw *raw = rawp;
	struct crl_source src = { .fast = true, .ctx = raw, .verify = der_verify, .digest = der_digest,
				  .entries = der_entries };
	X509_CRL *x = NULL;
	enum crl_error r = CRL_E_FALLBACK;

	*out = NULL;
	err[0] = '\0';
	/* CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue } (RFC 5280 §5.1) */
	if (!der_expect(&outer, 0x30, &v, &vl) || outer.p != outer.end)
		goto fallback;
	list = (struct der){ v, v + vl };
	raw->tbs = list.p;
	if (!der_expect(&list, 0x30, &tbs_v, &tbs_l))
		goto fallback;
	raw->tbs_len = (size_t)(list.p - raw->tbs);
	alg_tlv = list.p;
	if (!der_expect(&list, 0x30, &alg_v, &alg_l))
		goto fallback;
	alg_tlv_l = (size_t)(list.p - alg_tlv);
	if (!der_expect(&list, 0x03, &bits, &bits_l) || bits_l < 1 || bits[0] != 0 || list.p != list.end)
		goto fallback;
	raw->sig = bits + 1;
	raw->sig_len = bits_l - 1;
	/* tbsCertList: version?, signature, issuer, thisUpdate, nextUpdate?, revokedCertificates?, [0] crlExtensions? */
	tbs = (struct der){ tbs_v, tbs_v + tbs_l };
	while (tbs.p < tbs.end) {
		const unsigned char *start = tbs.p;

		if (n_parts == 8 || !der_next(&tbs, &tag, &v, &vl))
			goto fallback;
		/* The first SEQUENCE after the times is the list; the algorithm and issuer come before them. */
		if (tag == 0x30 && n_parts >= 3 && (parts[n_parts - 1][0] == 0x17 || parts[n_parts - 1][0] == 0x18)) {
			if (raw->revoked != NULL)
				goto fallback; /* a second list: the reference refuses the structure */
			raw->revoked = v;
			raw->revoked_len = vl;
			continue;
		}
		parts[n_parts] = start;
		part_len[n_parts++] = (size_t)(tbs.p - start);
		body += (size_t)(tbs.p - start);
	}
	/* The signature algorithm inside must be the outer one (RFC 5280 §5.1.2.2); X509_ALGOR_cmp by bytes. */
	for (size_t i = 0; i < n_parts; i++) {
		if (parts[i][0] == 0x30) {
			if (part_len[i] != alg_tlv_l || memcmp(parts[i], alg_tlv, alg_tlv_l) != 0)
				goto fallback;
			break;
		}
	}
	/* The skeleton: the same CRL without its entries, small enough for OpenSSL's decoder. */
	skel_tbs = 1 + der_len_size(body) + body;
	skel_len = 1 + der_len_size(skel_tbs + alg_tlv_l + 1 + der_len_size(bits_l) + bits_l) + skel_tbs + alg_tlv_l +
		   1 + der_len_size(bits_l) + bits_l;
	skel = malloc(skel_len);
	if (skel == NULL) {
		r = CRL_E_NOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	p = der_put_header(skel, 0x30, skel_tbs + alg_tlv_l + 1 + der_len_size(bits_l) + bits_l);
	p = der_put_header(p, 0x30, body);
	for (size_t i = 0; i < n_parts; i++) {
		memcpy(p, parts[i], part_len[i]);
		p += part_len[i];
	}
	memcpy(p, alg_tlv, alg_tlv_l);
	p += alg_tlv_l;
	p = der_put_header(p, 0x03, bits_l);
	memcpy(p, bits, bits_l);
	cp = skel;
	x = d2i_X509_CRL(NULL, &cp, (long)skel_len);
	if (x == NULL || cp != skel + skel_len) {
		ERR_clear_error();
		goto fallback;
	}
	src.x = x;
	r = crl_rules_build(&src, cas, n_cas, now, origin, out, err, errlen);
	goto out;
fallback:
	r = CRL_E_FALLBACK;
out:
	X509_CRL_free(x);
	free(skel);
	return r;
}

enum crl_error crl_der_load(const unsigned char *der, size_t len, X509 *const *cas, size_t n_cas, time_t now,
			    const char *origin, unsigned flags, struct crl **out, char *err, size_t errlen)
{
	struct crl_raw raw = { .der = der, .der_len = len, .flags = flags, .fd = -1 };

	return load(&raw, cas, n_cas, now, origin, out, err, errlen);
}

#define FD_HEAD ((size_t)64 << 10)  /* read first: the headers up to the entries */
#define FD_EDGE_MAX ((size_t)16 << 20) /* more than this before or after the entries: read it all */

/* Reads [off, off + n) of fd into der + off, making those pages of the reservation readable first. */
static bool fill(int fd, unsigned char *der, size_t off, size_t n)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a = ((uintptr_t)der + off) & ~(page - 1),
		  b = ((uintptr_t)der + off + n + page - 1) & ~(page - 1);
	size_t got = 0;

	if (n == 0)
		return true;
	if (mprotect((void *)a, b - a, PROT_READ | PROT_WRITE) != 0)
		return false;
	while (got < n) {
		ssize_t r = pread(fd, der + off + got, n - got, (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

/*
 * Where the entries are: the offset and length of revokedCertificates' content, found from the
 * headers alone (the same walk as load()'s), or false when that needs more than the `have`
 * octets read (or the CRL is no canonical DER: load() then says so).
 */
static bool locate_entries(const unsigned char *der, size_t len, size_t have, size_t *start, size_t *rlen)
{
	struct der outer = { der, der + len }, list, tbs;
	const unsigned char *v, *prev = NULL;
	size_t vl, n_parts = 0;
	unsigned char tag;

	/* Lengths are checked against `len` but only headers inside `have` are read. */
	if (have < 16 || !der_expect(&outer, 0x30, &v, &vl))
		return false;
	list = (struct der){ v, v + vl };
	if (!der_expect(&list, 0x30, &v, &vl))
		return false;
	tbs = (struct der){ v, v + vl };
	while (tbs.p < tbs.end && (size_t)(tbs.p - der) + 6 <= have) {
		const unsigned char *at = tbs.p;

		if (!der_next(&tbs, &tag, &v, &vl))
			return false;
		if (tag == 0x30 && n_parts >= 3 && prev != NULL && (prev[0] == 0x17 || prev[0] == 0x18)) {
			*start = (size_t)(v - der);
			*rlen = vl;
			return true;
		}
		if ((size_t)(tbs.p - der) > have)
			return false; /* a part before the entries that we have not read */
		prev = at;
		n_parts++;
	}
	return false;
}

enum crl_error crl_der_load_fd(int fd, size_t len, X509 *const *cas, size_t n_cas, time_t now, const char *origin,
			       unsigned flags, struct crl **out, char *err, size_t errlen)
{
	struct crl_raw raw = { .der_len = len, .flags = flags & ~(unsigned)(CRL_LOAD_DISCARD | CRL_LOAD_MAPPED),
			       .fd = fd };
	size_t head = len < FD_HEAD ? len : FD_HEAD, start = 0, rlen = 0, tail;
	unsigned char *der;
	enum crl_error r = CRL_E_FALLBACK;

	*out = NULL;
	err[0] = '\0';
	if (len == 0)
		return CRL_E_FALLBACK;
	/* Address space for all of it, readable only where read: the entries never are. */
	der = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (der == MAP_FAILED)
		return CRL_E_FALLBACK;
	raw.der = der;
	if (!fill(fd, der, 0, head))
		goto out;
	if (!locate_entries(der, len, head, &start, &rlen) || start > FD_EDGE_MAX) {
		/* No entries, or headers beyond what we read: small enough to read whole, or odd. */
		if (len > FD_EDGE_MAX || !fill(fd, der, head, len - head))
			goto out;
		raw.fd = -1;
	} else {
		tail = len - (start + rlen);
		if (tail > FD_EDGE_MAX || !fill(fd, der, head, start > head ? start - head : 0) ||
		    !fill(fd, der, start + rlen, tail))
			goto out;
	}
	r = load(&raw, cas, n_cas, now, origin, out, err, errlen);
out:
	free(raw.win);
	munmap(der, len);
	return r;
}
