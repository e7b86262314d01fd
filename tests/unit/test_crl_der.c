/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of lib/crl_der.c: the fast DER loader, always against the OpenSSL reference loader. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "crl_diff.h"
#include "crlsync/crl.h"
#include "pki.h"

static struct {
	struct pki_ca *ca;  /* EC P-256 */
	struct pki_ca *rsa; /* RSA 2048 */
	time_t now;
} fx;

static int group_setup(void **state)
{
	(void)state;
	fx.now = time(NULL);
	fx.ca = pki_ca_new("crlsync der CA", NULL, 0);
	fx.rsa = pki_ca_new("crlsync der RSA CA", NULL, PKI_CA_RSA);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	pki_ca_free(fx.ca);
	pki_ca_free(fx.rsa);
	return 0;
}

static const unsigned char s1[] = { 0x01 };
static const unsigned char s20[] = { 0x7F, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 };
static const unsigned char s_top[] = { 0x80, 0x01 }; /* DER needs a 0x00 pad */
static const unsigned char s8[] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* A CRL of `issuer` with a mix of entries; DER in *len, caller frees. */
static unsigned char *mixed_der(const struct pki_ca *issuer, const EVP_MD *md, size_t *len)
{
	const struct pki_crl_entry e[] = {
		{ .serial = s1, .serial_len = sizeof(s1), .reason = 1 },
		{ .serial = s20, .serial_len = sizeof(s20), .reason = -1 },
		{ .serial = s_top, .serial_len = sizeof(s_top), .reason = 6 },
		{ .serial = s8, .serial_len = sizeof(s8), .reason = 10, .unknown_noncritical = true,
		  .revoked_at = 86400 * 365 * 30 },
	};
	static const unsigned char num[] = { 0x2A };
	X509_CRL *x = pki_crl_new(&(struct pki_crl_opts){ .issuer = issuer, .entries = e, .n_entries = 4, .md = md,
							  .number = num, .number_len = 1 });
	unsigned char *der = pki_crl_der(x, len);

	X509_CRL_free(x);
	return der;
}

static void expect_agree(const unsigned char *der, size_t len, X509 *ca, bool want_fast, bool want_usable)
{
	char why[600];
	bool fast;
	struct crl *c = NULL;
	enum crl_error e;

	if (!crl_diff_check(der, len, ca, fx.now, &fast, why, sizeof(why)))
		fail_msg("fast and reference loaders disagree: %s", why);
	e = crl_from_der(der, len, &ca, 1, fx.now, "t", 0, &c, why, sizeof(why));
	assert_int_equal(e == CRL_OK, want_usable);
	if (want_usable)
		assert_int_equal(fast, want_fast);
	crl_unref(c);
}

static void crl_from_der__canonical_mixed_entries__fast_path_agrees(void **state)
{
	size_t len;
	unsigned char *der = mixed_der(fx.ca, NULL, &len);

	(void)state;
	expect_agree(der, len, fx.ca->cert, true, true);
	free(der);
}

static void crl_from_der__rsa_pkcs1_sha384__fast_path_agrees(void **state)
{
	size_t len;
	unsigned char *der = mixed_der(fx.rsa, EVP_sha384(), &len);

	(void)state;
	expect_agree(der, len, fx.rsa->cert, true, true);
	free(der);
}

static void crl_from_der__wrong_key__signature_error_without_fallback(void **state)
{
	EVP_PKEY *other = pki_key_new(false);
	X509_CRL *x = pki_crl_new(&(struct pki_crl_opts){ .issuer = fx.ca, .sign_key = other });
	size_t len;
	unsigned char *der = pki_crl_der(x, &len);
	struct crl *c = NULL;
	char err[512];

	(void)state;
	assert_int_equal(crl_from_der(der, len, &fx.ca->cert, 1, fx.now, "t", 0, &c, err, sizeof(err)),
			 CRL_E_SIGNATURE);
	assert_null(c);
	assert_non_null(strstr(err, "signature does not verify"));
	expect_agree(der, len, fx.ca->cert, false, false);
	EVP_PKEY_free(other);
	X509_CRL_free(x);
	free(der);
}

/* Re-signs `x` with RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32) under the RSA CA. */
static void crl_from_der__rsa_pss__fast_path_agrees(void **state)
{
	X509_CRL *x = pki_crl_new(&(struct pki_crl_opts){ .issuer = fx.rsa, .raw = true });
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *der;
	size_t len;

	(void)state;
	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, fx.rsa->key), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0);
	assert_true(X509_CRL_sign_ctx(x, ctx) > 0);
	der = pki_crl_der(x, &len);
	assert_int_equal(X509_CRL_get_signature_nid(x), NID_rsassaPss);
	expect_agree(der, len, fx.rsa->cert, true, true);
	/* Negative twin: a flipped signature bit fails on the fast path itself. */
	der[len - 5] ^= 0x01;
	expect_agree(der, len, fx.rsa->cert, false, false);
	free(der);
	EVP_MD_CTX_free(ctx);
	X509_CRL_free(x);
}

/* An Ed25519 or Ed448 CA (RFC 8410) and a CRL it signs. */
static void eddsa_case(const char *alg)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, alg);
	X509 *ca = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	X509_CRL *x = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_INTEGER *sn = ASN1_INTEGER_new();
	unsigned char *der = NULL;
	int len;

	assert_non_null(key);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)alg, -1, -1, 0);
	X509_set_version(ca, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(ca), 7);
	X509_set_subject_name(ca, n);
	X509_set_issuer_name(ca, n);
	X509_gmtime_adj(X509_getm_notBefore(ca), -86400);
	X509_gmtime_adj(X509_getm_notAfter(ca), 86400);
	X509_set_pubkey(ca, key);
	X509V3_set_ctx(&v3, ca, ca, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
	X509_add_ext(ca, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(ca, key, NULL) > 0);
	X509_CRL_set_version(x, X509_CRL_VERSION_2);
	X509_CRL_set_issuer_name(x, n);
	X509_gmtime_adj(t, -3600);
	X509_CRL_set1_lastUpdate(x, t);
	X509_gmtime_adj(t, 86400);
	X509_CRL_set1_nextUpdate(x, t);
	ASN1_INTEGER_set(sn, 0x1234);
	X509_REVOKED_set_serialNumber(r, sn);
	X509_gmtime_adj(t, -7200);
	X509_REVOKED_set_revocationDate(r, t);
	X509_CRL_add0_revoked(x, r);
	assert_true(X509_CRL_sign(x, key, NULL) > 0);
	len = i2d_X509_CRL(x, &der);
	assert_true(len > 0);
	expect_agree(der, (size_t)len, ca, true, true);
	der[len - 3] ^= 0x40;
	expect_agree(der, (size_t)len, ca, false, false);
	OPENSSL_free(der);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	X509_CRL_free(x);
	X509_NAME_free(n);
	X509_free(ca);
	EVP_PKEY_free(key);
}

static void crl_from_der__ed25519__fast_path_agrees(void **state)
{
	(void)state;
	eddsa_case("ED25519");
}

static void crl_from_der__ed448__fast_path_agrees(void **state)
{
	(void)state;
	eddsa_case("ED448");
}

/* Builds a CRL of fx.ca whose entry list is exactly `entries` (raw DER content), validly signed. */
static unsigned char *with_entries(const unsigned char *entries, size_t elen, size_t *len)
{
	size_t dlen, tl, al, nl;
	unsigned char *der = mixed_der(fx.ca, NULL, &dlen), *tbs2, *out;
	const unsigned char *tbs, *alg;

	assert_true(crl_diff_split(der, dlen, &tbs, &tl, &alg, &al));
	tbs2 = crl_diff_with_entries(tbs, tl, entries, elen, &nl);
	assert_non_null(tbs2);
	out = crl_diff_resign(tbs2, nl, alg, al, fx.ca->key, len);
	assert_non_null(out);
	free(tbs2);
	free(der);
	return out;
}

static void check_entries(const unsigned char *entries, size_t elen, bool want_fast, bool want_usable)
{
	size_t len;
	unsigned char *der = with_entries(entries, elen, &len);

	print_message("entries of %zu octets: fast %d, usable %d\n", elen, want_fast, want_usable);
	expect_agree(der, len, fx.ca->cert, want_fast, want_usable);
	free(der);
}

/* Each a hand-made revokedCertificates content; time 2020-01-01 00:00:00Z. */
#define UTC 0x17, 0x0D, '2', '0', '0', '1', '0', '1', '0', '0', '0', '0', '0', '0', 'Z'
#define GEN 0x18, 0x0F, '2', '0', '2', '0', '0', '1', '0', '1', '0', '0', '0', '0', '0', '0', 'Z'

static void crl_from_der__hand_made_entries__agree_with_reference(void **state)
{
	static const unsigned char plain[] = { 0x30, 0x12, 0x02, 0x01, 0x05, UTC };
	static const unsigned char gen[] = { 0x30, 0x14, 0x02, 0x01, 0x05, GEN };
	static const unsigned char negative[] = { 0x30, 0x12, 0x02, 0x01, 0x85, UTC };
	static const unsigned char padded[] = { 0x30, 0x13, 0x02, 0x02, 0x00, 0x05, UTC };
	static const unsigned char empty_int[] = { 0x30, 0x11, 0x02, 0x00, UTC };
	static const unsigned char no_secs[] = { 0x30, 0x10, 0x02, 0x01, 0x05, 0x17, 0x0B,
						 '2', '0', '0', '1', '0', '1', '0', '0', '0', '0', 'Z' };
	static const unsigned char feb30[] = { 0x30, 0x12, 0x02, 0x01, 0x05, 0x17, 0x0D,
					       '2', '0', '0', '2', '3', '0', '0', '0', '0', '0', '0', '0', 'Z' };
	static const unsigned char reason[] = { 0x30, 0x21, 0x02, 0x01, 0x05, UTC, 0x30, 0x0D, 0x30, 0x0B,
						0x06, 0x03, 0x55, 0x1D, 0x15, 0x04, 0x04, 0x0A, 0x01, 0x01, 0x00 };
	static const unsigned char reason_ok[] = { 0x30, 0x20, 0x02, 0x01, 0x05, UTC, 0x30, 0x0C, 0x30, 0x0A,
						   0x06, 0x03, 0x55, 0x1D, 0x15, 0x04, 0x03, 0x0A, 0x01, 0x04 };
	static const unsigned char reason_remove[] = { 0x30, 0x20, 0x02, 0x01, 0x05, UTC, 0x30, 0x0C, 0x30, 0x0A,
						       0x06, 0x03, 0x55, 0x1D, 0x15, 0x04, 0x03, 0x0A, 0x01, 0x08 };
	static const unsigned char crit_unknown[] = { 0x30, 0x23, 0x02, 0x01, 0x05, UTC, 0x30, 0x0F, 0x30, 0x0D,
						      0x06, 0x03, 0x2A, 0x03, 0x04, 0x01, 0x01, 0xFF,
						      0x04, 0x03, 0x0A, 0x01, 0x04 };
	static const unsigned char bad_oid[] = { 0x30, 0x20, 0x02, 0x01, 0x05, UTC, 0x30, 0x0C, 0x30, 0x0A,
						 0x06, 0x03, 0x2A, 0x80, 0x04, 0x04, 0x03, 0x0A, 0x01, 0x04 };
	static const unsigned char indefinite[] = { 0x30, 0x80, 0x02, 0x01, 0x05, UTC, 0x00, 0x00 };
	static const unsigned char long_len[] = { 0x30, 0x81, 0x12, 0x02, 0x01, 0x05, UTC };
	static const unsigned char trailing[] = { 0x30, 0x14, 0x02, 0x01, 0x05, UTC, 0x05, 0x00 };
	static const unsigned char dup[] = { 0x30, 0x12, 0x02, 0x01, 0x05, UTC, 0x30, 0x12, 0x02, 0x01, 0x05, GEN };

	(void)state;
	check_entries(plain, sizeof(plain), true, true);
	check_entries(gen, sizeof(gen), true, true);
	check_entries(reason_ok, sizeof(reason_ok), true, true);
	check_entries(NULL, 0, true, true);
	check_entries(dup, sizeof(dup) - 2, false, false); /* cut short: not even DER */
	/* The reference decides these: they must come out as it says. */
	check_entries(negative, sizeof(negative), false, true);
	check_entries(reason, sizeof(reason), false, true); /* trailing octet inside the extension value */
	check_entries(padded, sizeof(padded), false, false);
	check_entries(empty_int, sizeof(empty_int), false, false);
	check_entries(no_secs, sizeof(no_secs), false, true); /* OpenSSL reads a UTCTime without seconds */
	check_entries(feb30, sizeof(feb30), false, false);
	check_entries(reason_remove, sizeof(reason_remove), true, true); /* removeFromCRL: listed (crl_rules.h) */
	check_entries(crit_unknown, sizeof(crit_unknown), false, false);
	check_entries(bad_oid, sizeof(bad_oid), false, false);
	check_entries(indefinite, sizeof(indefinite), false, true); /* BER: OpenSSL's decoder takes it */
	check_entries(long_len, sizeof(long_len), false, true); /* a non-minimal length, BER again */
	check_entries(trailing, sizeof(trailing), false, false);
}

/* Every single-byte change of the signed part, re-signed so that the parsers, not the signature, decide. */
static void crl_from_der__every_tbs_byte_changed__agrees_with_reference(void **state)
{
	size_t dlen, tl, al, len;
	unsigned char *der = mixed_der(fx.ca, NULL, &dlen), *tbs2;
	const unsigned char *tbs, *alg;
	static const unsigned char flips[] = { 0x01, 0x80, 0xFF };
	char why[600];
	size_t usable = 0, fast = 0;
	struct crl *c = NULL;

	(void)state;
	assert_true(crl_diff_split(der, dlen, &tbs, &tl, &alg, &al));
	tbs2 = malloc(tl);
	for (size_t i = 0; i < tl; i++) {
		for (size_t f = 0; f < sizeof(flips); f++) {
			unsigned char *out;
			bool used;

			memcpy(tbs2, tbs, tl);
			tbs2[i] ^= flips[f];
			out = crl_diff_resign(tbs2, tl, alg, al, fx.ca->key, &len);
			assert_non_null(out);
			if (!crl_diff_check(out, len, fx.ca->cert, fx.now, &used, why, sizeof(why)))
				fail_msg("octet %zu ^ 0x%02X: %s", i, flips[f], why);
			if (crl_from_der(out, len, &fx.ca->cert, 1, fx.now, "t", CRL_LOAD_NO_INDEX, &c, why, sizeof(why)) ==
			    CRL_OK)
				usable++;
			crl_unref(c);
			c = NULL;
			fast += used;
			free(out);
		}
	}
	/* Not a vacuous sweep: many variants stay usable, and most of those through the fast path. */
	print_message("%zu variants, %zu usable, %zu by the fast path\n", 3 * tl, usable, fast);
	assert_true(fast > 0);
	free(tbs2);
	free(der);
}

static void crl_from_der__truncated_anywhere__unusable(void **state)
{
	size_t len;
	unsigned char *der = mixed_der(fx.ca, NULL, &len);

	(void)state;
	for (size_t cut = 0; cut < len; cut++) {
		struct crl *c = NULL;
		char err[512];

		assert_int_not_equal(crl_from_der(der, cut, &fx.ca->cert, 1, fx.now, "t", 0, &c, err, sizeof(err)), CRL_OK);
		assert_null(c);
		assert_true(err[0] != '\0');
	}
	free(der);
}

/* Many entries, unsorted, in a buffer big enough to be released page by page (CRL_LOAD_DISCARD). */
static void crl_from_der__large_discard__same_as_kept(void **state)
{
	const size_t n = 70000; /* above the radix-sort threshold, and over 2 MiB of entries */
	unsigned char *entries = malloc(n * 40), *p = entries, *der, *copy;
	size_t len, elen;
	struct crl *a = NULL, *b = NULL;
	char err[512];
	uint32_t x = 12345;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		static const unsigned char t[] = { UTC };

		*p++ = 0x30;
		*p++ = 2 + 17 + sizeof(t);
		*p++ = 0x02;
		*p++ = 17;
		*p++ = 0x01; /* positive, 17 octets: a head and a 10-octet tail */
		for (int k = 0; k < 16; k++) {
			x = x * 1103515245U + 12345U;
			*p++ = (unsigned char)(x >> 16);
		}
		memcpy(p, t, sizeof(t));
		p += sizeof(t);
	}
	elen = (size_t)(p - entries);
	der = with_entries(entries, elen, &len);
	copy = malloc(len);
	memcpy(copy, der, len);
	assert_int_equal(crl_from_der(der, len, &fx.ca->cert, 1, fx.now, "t", 0, &a, err, sizeof(err)), CRL_OK);
	assert_int_equal(crl_from_der(copy, len, &fx.ca->cert, 1, fx.now, "t", CRL_LOAD_DISCARD, &b, err, sizeof(err)),
			 CRL_OK);
	free(copy); /* released pages are not read again */
	/* A read-only mapping of a file (the fetcher's download): every pass releases, nothing is lost. */
	{
		char path[] = "/tmp/test_crl_der.XXXXXX";
		int fd = mkstemp(path);
		struct crl *m = NULL, *mi = NULL;
		const unsigned char *map;

		assert_true(fd >= 0);
		unlink(path);
		assert_int_equal(write(fd, der, len), (ssize_t)len);
		map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		assert_true(map != MAP_FAILED);
		assert_int_equal(crl_from_der(map, len, &fx.ca->cert, 1, fx.now, "t", CRL_LOAD_NO_INDEX | CRL_LOAD_MAPPED, &m,
					      err, sizeof(err)),
				 CRL_OK);
		assert_int_equal(crl_from_der(map, len, &fx.ca->cert, 1, fx.now, "t", CRL_LOAD_MAPPED, &mi, err, sizeof(err)),
				 CRL_OK);
		assert_memory_equal(map, der, len); /* released pages come back from the file */
		assert_int_equal(m->entries, n);
		assert_null(m->index);
		assert_memory_equal(m->digest, a->digest, sizeof(a->digest));
		assert_int_equal(crl_index_count(mi->index), n);
		assert_true(crl_index_find(mi->index, entries + 4, 17, false, NULL));
		crl_unref(m);
		crl_unref(mi);
		munmap((void *)map, len);
		close(fd);
	}
	assert_true(a->fast && b->fast);
	assert_int_equal(a->entries, n);
	assert_int_equal(b->entries, n);
	assert_memory_equal(a->digest, b->digest, sizeof(a->digest));
	for (size_t i = 0; i < n; i += 997) {
		const unsigned char *s = entries + i * (elen / n) + 4;
		struct crl_index_hit h;

		assert_true(crl_index_find(a->index, s, 17, false, &h));
		assert_true(crl_index_find(b->index, s, 17, false, &h));
		assert_int_equal(h.reason, CRL_REASON_ABSENT);
	}
	/* And the reference says the same of the whole list. */
	if (!crl_diff_check(der, len, fx.ca->cert, fx.now, NULL, err, sizeof(err)))
		fail_msg("%s", err);
	crl_unref(a);
	crl_unref(b);
	free(der);
	free(entries);
}

static void crl_from_der__no_index__counts_only(void **state)
{
	size_t len;
	unsigned char *der = mixed_der(fx.ca, NULL, &len);
	struct crl *c = NULL;
	char err[512];

	(void)state;
	assert_int_equal(crl_from_der(der, len, &fx.ca->cert, 1, fx.now, "t", CRL_LOAD_NO_INDEX, &c, err, sizeof(err)),
			 CRL_OK);
	assert_null(c->index);
	assert_int_equal(c->entries, 4);
	crl_unref(c);
	/* The reference path honours it too. */
	assert_int_equal(crl_from_der(der, len, &fx.ca->cert, 1, fx.now, "t", CRL_LOAD_NO_INDEX | CRL_LOAD_REFERENCE,
				      &c, err, sizeof(err)),
			 CRL_OK);
	assert_null(c->index);
	assert_false(c->fast);
	crl_unref(c);
	free(der);
}

static void crl_split__der__one_block_in_place(void **state)
{
	size_t len, n = 9;
	unsigned char *der = mixed_der(fx.ca, NULL, &len);
	struct crl_der *v = NULL;
	char err[256];

	(void)state;
	assert_int_equal(crl_split(der, len, &v, &n, err, sizeof(err)), CRL_OK);
	assert_int_equal(n, 1);
	assert_ptr_equal(v[0].der, der);
	assert_int_equal(v[0].len, len);
	assert_null(v[0].owned);
	crl_der_free(v, n);
	free(der);
}

static void crl_split__pem_bundle_with_certificate__crl_blocks_only(void **state)
{
	X509_CRL *x1 = pki_crl_new(&(struct pki_crl_opts){ .issuer = fx.ca });
	X509_CRL *x2 = pki_crl_new(&(struct pki_crl_opts){ .issuer = fx.rsa });
	BIO *b = BIO_new(BIO_s_mem());
	struct crl_der *v = NULL;
	char *data, err[256];
	long blen;
	size_t n = 0, l1;
	unsigned char *d1 = pki_crl_der(x1, &l1);

	(void)state;
	PEM_write_bio_X509_CRL(b, x1);
	PEM_write_bio_X509(b, fx.ca->cert);
	PEM_write_bio_X509_CRL(b, x2);
	blen = BIO_get_mem_data(b, &data);
	assert_int_equal(crl_split((unsigned char *)data, (size_t)blen, &v, &n, err, sizeof(err)), CRL_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].len, l1);
	assert_memory_equal(v[0].der, d1, l1);
	assert_non_null(v[1].owned);
	crl_der_free(v, n);
	/* Negative twin: a damaged block fails the file, as crl_decode() does. */
	data[40] = '*';
	assert_int_equal(crl_split((unsigned char *)data, (size_t)blen, &v, &n, err, sizeof(err)), CRL_E_PARSE);
	assert_null(v);
	assert_non_null(strstr(err, "PEM CRL #1"));
	free(d1);
	BIO_free(b);
	X509_CRL_free(x1);
	X509_CRL_free(x2);
}

static void crl_split__garbage__parse_error(void **state)
{
	static const unsigned char junk[] = "hello, not a CRL";
	struct crl_der *v = (struct crl_der *)0x1;
	size_t n = 5;
	char err[256];

	(void)state;
	assert_int_equal(crl_split(junk, sizeof(junk) - 1, &v, &n, err, sizeof(err)), CRL_E_PARSE);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err, "neither a DER CRL nor a PEM file"));
	assert_int_equal(crl_split(junk, 0, &v, &n, err, sizeof(err)), CRL_E_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crl_from_der__canonical_mixed_entries__fast_path_agrees),
		cmocka_unit_test(crl_from_der__rsa_pkcs1_sha384__fast_path_agrees),
		cmocka_unit_test(crl_from_der__wrong_key__signature_error_without_fallback),
		cmocka_unit_test(crl_from_der__rsa_pss__fast_path_agrees),
		cmocka_unit_test(crl_from_der__ed25519__fast_path_agrees),
		cmocka_unit_test(crl_from_der__ed448__fast_path_agrees),
		cmocka_unit_test(crl_from_der__hand_made_entries__agree_with_reference),
		cmocka_unit_test(crl_from_der__every_tbs_byte_changed__agrees_with_reference),
		cmocka_unit_test(crl_from_der__truncated_anywhere__unusable),
		cmocka_unit_test(crl_from_der__large_discard__same_as_kept),
		cmocka_unit_test(crl_from_der__no_index__counts_only),
		cmocka_unit_test(crl_split__der__one_block_in_place),
		cmocka_unit_test(crl_split__pem_bundle_with_certificate__crl_blocks_only),
		cmocka_unit_test(crl_split__garbage__parse_error),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
