/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of lib/crl.c: decoding, verification (RFC 5280 §5, §6.3.3), scope, index and helpers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/pem.h>

#include "crl_reference.h"
#include "crl_rules.h"
#include "crlsync/crl.h"
#include "crlsync/mark.h"
#include "pki.h"

#define DAY (24L * 3600)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct {
	struct pki_ca *ca;       /* the configured issuer */
	struct pki_ca *rollover; /* same name as ca, another key */
	struct pki_ca *other;    /* another name */
	struct pki_ca *no_sign;  /* keyUsage without cRLSign */
	struct pki_ca *no_ku;    /* no keyUsage at all */
	struct pki_ca *rsa;
	X509 *leaf;              /* end entity of ca, no CRLDP */
	X509 *sub;               /* CA certificate issued by ca, no CRLDP */
	X509 *leaf_dp;           /* end entity of ca with CRLDP http://crl.example/a.crl */
	time_t now;
	char *dir;
} fx;

static int group_setup(void **state)
{
	(void)state;
	fx.now = time(NULL);
	fx.ca = pki_ca_new("crlsync unit CA", NULL, 0);
	fx.rollover = pki_ca_new("crlsync unit CA", NULL, 0);
	fx.other = pki_ca_new("crlsync other CA", NULL, 0);
	fx.no_sign = pki_ca_new("crlsync no-cRLSign CA", NULL, PKI_CA_NO_CRL_SIGN);
	fx.no_ku = pki_ca_new("crlsync no-keyUsage CA", NULL, PKI_CA_NO_KEY_USAGE);
	fx.rsa = pki_ca_new("crlsync RSA CA", NULL, PKI_CA_RSA);
	fx.leaf = pki_leaf_new(fx.ca, "alice", NULL);
	fx.sub = pki_leaf_new(fx.ca, "crlsync sub CA", &(struct pki_leaf_opts){ .ca = true });
	fx.leaf_dp = pki_leaf_new(fx.ca, "bob", &(struct pki_leaf_opts){ .crldp_uri = "http://crl.example/a.crl" });
	fx.dir = pki_tmpdir();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	pki_ca_free(fx.ca);
	pki_ca_free(fx.rollover);
	pki_ca_free(fx.other);
	pki_ca_free(fx.no_sign);
	pki_ca_free(fx.no_ku);
	pki_ca_free(fx.rsa);
	X509_free(fx.leaf);
	X509_free(fx.sub);
	X509_free(fx.leaf_dp);
	pki_rmtree(fx.dir);
	free(fx.dir);
	return 0;
}

/* The marks (mark.h) of loaded CRLs: which is newer, whether they replace each other. */
static int age_of(const struct crl *a, const struct crl *b)
{
	struct mark ma, mb;

	mark_from_crl(a, &ma);
	mark_from_crl(b, &mb);
	return mark_compare_age(&ma, &mb);
}

static bool same_stream_of(const struct crl *a, const struct crl *b)
{
	struct mark_stream sa, sb;

	mark_stream_of(a, &sa);
	mark_stream_of(b, &sb);
	return mark_same_stream(&sa, &sb);
}

/* crl_from_x509() of a freshly built CRL against `cas`; checks the out-parameter contract. */
static enum crl_error load_with(const struct pki_crl_opts *o, X509 *const *cas, size_t n_cas, struct crl **out)
{
	X509_CRL *x = pki_crl_new(o);
	char err[512];
	enum crl_error e;

	struct crl *fast = (struct crl *)0x1;
	unsigned char *der;
	size_t len;

	*out = (struct crl *)0x1; /* must be reset */
	e = crl_from_x509(x, cas, n_cas, fx.now, "unit.crl", out, err, sizeof(err));
	if (e == CRL_OK) {
		assert_non_null(*out);
		assert_int_equal(atomic_load(&(*out)->refs), 1);
	} else {
		assert_null(*out);
		assert_true(err[0] != '\0'); /* says why */
	}
	/* Every case doubles as a differential test: the fast DER loader must say the same. */
	der = pki_crl_der(x, &len);
	assert_int_equal(crl_from_der(der, len, cas, n_cas, fx.now, "unit.crl", 0, &fast, err, sizeof(err)), e);
	if (e == CRL_OK) {
		assert_int_equal(fast->flags, (*out)->flags);
		assert_int_equal(fast->number_len, (*out)->number_len);
		assert_memory_equal(fast->number, (*out)->number, sizeof(fast->number));
		assert_int_equal(fast->this_update, (*out)->this_update);
		assert_int_equal(fast->next_update, (*out)->next_update);
		assert_int_equal(fast->entries, (*out)->entries);
		assert_memory_equal(fast->digest, (*out)->digest, sizeof(fast->digest));
		assert_int_equal(fast->reasons, (*out)->reasons);
		assert_int_equal(fast->sig_nid, (*out)->sig_nid);
		assert_int_equal(fast->base_number_len, (*out)->base_number_len);
		assert_memory_equal(fast->base_number, (*out)->base_number, sizeof(fast->base_number));
		assert_int_equal(fast->n_freshest_urls, (*out)->n_freshest_urls);
		assert_true(same_stream_of(fast, *out));
		assert_string_equal(fast->issuer_text, (*out)->issuer_text);
		for (int i = 0; i < sk_X509_REVOKED_num(X509_CRL_get_REVOKED(x)); i++) {
			const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(X509_CRL_get_REVOKED(x), i));
			struct crl_index_hit h1 = { 0 }, h2 = { 0 };
			bool neg = ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER;

			assert_true(crl_index_find((*out)->index, ASN1_STRING_get0_data(sn), (size_t)ASN1_STRING_length(sn), neg, &h1));
			assert_true(crl_index_find(fast->index, ASN1_STRING_get0_data(sn), (size_t)ASN1_STRING_length(sn), neg, &h2));
			assert_int_equal(h1.revoked_at, h2.revoked_at);
			assert_int_equal(h1.reason, h2.reason);
		}
	} else {
		assert_null(fast);
	}
	crl_unref(fast);
	free(der);
	X509_CRL_free(x);
	return e;
}

/* Expects `want` with fx.ca as the only configured ca. */
static void expect_error(const struct pki_crl_opts *o, enum crl_error want)
{
	X509 *cas[] = { fx.ca->cert };
	struct crl *c = NULL;

	assert_int_equal(load_with(o, cas, 1, &c), want);
	crl_unref(c);
}

/* A verified crl of fx.ca; caller unrefs. */
static struct crl *load_ok(const struct pki_crl_opts *o)
{
	X509 *cas[] = { fx.ca->cert };
	struct crl *c = NULL;

	assert_int_equal(load_with(o, cas, 1, &c), CRL_OK);
	return c;
}

static unsigned char *build_der(const struct pki_crl_opts *o, size_t *len)
{
	X509_CRL *x = pki_crl_new(o);
	unsigned char *der = pki_crl_der(x, len);

	X509_CRL_free(x);
	return der;
}

static char *build_pem(const struct pki_crl_opts *o, size_t *len)
{
	X509_CRL *x = pki_crl_new(o);
	char *pem = pki_crl_pem(x, len);

	X509_CRL_free(x);
	return pem;
}

static enum crl_error decode(const void *buf, size_t len, STACK_OF(X509_CRL) **sk)
{
	char err[512];
	enum crl_error e;

	*sk = (STACK_OF(X509_CRL) *)0x1;
	e = crl_decode(buf, len, sk, err, sizeof(err));
	if (e == CRL_OK) {
		assert_non_null(*sk);
	} else {
		assert_null(*sk);
		assert_true(err[0] != '\0');
	}
	return e;
}

static void free_stack(STACK_OF(X509_CRL) *sk)
{
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
}

/* The DER of element i equals `der`. */
static void assert_stack_der(STACK_OF(X509_CRL) *sk, int i, const unsigned char *der, size_t len)
{
	size_t got_len;
	unsigned char *got = pki_crl_der(sk_X509_CRL_value(sk, i), &got_len);

	assert_int_equal(got_len, len);
	assert_memory_equal(got, der, len);
	free(got);
}

/* ---- crl_decode ---- */

static void crl_decode__der__one_crl(void **state)
{
	size_t len;
	unsigned char *der = build_der(&(struct pki_crl_opts){ .issuer = fx.ca }, &len);
	STACK_OF(X509_CRL) *sk;

	(void)state;
	assert_int_equal(decode(der, len, &sk), CRL_OK);
	assert_int_equal(sk_X509_CRL_num(sk), 1);
	assert_stack_der(sk, 0, der, len);
	free_stack(sk);
	free(der);
}

static void crl_decode__truncated_der__parse_error(void **state)
{
	size_t len;
	unsigned char *der = build_der(&(struct pki_crl_opts){ .issuer = fx.ca }, &len);
	STACK_OF(X509_CRL) *sk;

	(void)state;
	assert_int_equal(decode(der, len - 1, &sk), CRL_E_PARSE);
	assert_int_equal(decode(der, len / 2, &sk), CRL_E_PARSE);
	assert_int_equal(decode(der, 1, &sk), CRL_E_PARSE);
	free(der);
}

static void crl_decode__der_with_trailing_bytes__parse_error(void **state)
{
	size_t len;
	unsigned char *der = build_der(&(struct pki_crl_opts){ .issuer = fx.ca }, &len);
	unsigned char *longer = malloc(len + 1);
	STACK_OF(X509_CRL) *sk;

	(void)state;
	assert_non_null(longer);
	memcpy(longer, der, len);
	longer[len] = 0x00;
	assert_int_equal(decode(longer, len + 1, &sk), CRL_E_PARSE);
	free(longer);
	free(der);
}

static void crl_decode__pem__one_crl(void **state)
{
	struct pki_crl_opts o = { .issuer = fx.ca };
	X509_CRL *x = pki_crl_new(&o);
	size_t len, der_len;
	char *pem = pki_crl_pem(x, &len);
	unsigned char *der = pki_crl_der(x, &der_len);
	STACK_OF(X509_CRL) *sk;

	(void)state;
	assert_int_equal(decode(pem, len, &sk), CRL_OK);
	assert_int_equal(sk_X509_CRL_num(sk), 1);
	assert_stack_der(sk, 0, der, der_len);
	free_stack(sk);
	free(pem);
	free(der);
	X509_CRL_free(x);
}

static void crl_decode__pem_with_text_around__one_crl(void **state)
{
	size_t len;
	char *pem = build_pem(&(struct pki_crl_opts){ .issuer = fx.ca }, &len);
	char *text = NULL;
	STACK_OF(X509_CRL) *sk;

	(void)state;
	/* What `openssl crl -text` writes: a dump before the PEM block. */
	assert_true(asprintf(&text, "Certificate Revocation List (CRL):\n        Version 2 (0x1)\n%s\n", pem) > 0);
	assert_int_equal(decode(text, strlen(text), &sk), CRL_OK);
	assert_int_equal(sk_X509_CRL_num(sk), 1);
	free_stack(sk);
	free(text);
	free(pem);
}

static void crl_decode__pem_with_three_crls__three_in_order(void **state)
{
	static const unsigned char n1 = 1, n2 = 2, n3 = 3;
	const struct pki_crl_opts o[3] = {
		{ .issuer = fx.ca, .number = &n1, .number_len = 1 },
		{ .issuer = fx.other, .number = &n2, .number_len = 1 },
		{ .issuer = fx.ca, .number = &n3, .number_len = 1, .idp = PKI_IDP_CA_ONLY },
	};
	unsigned char *der[3];
	size_t der_len[3], total = 0;
	char *all = NULL;
	STACK_OF(X509_CRL) *sk;

	(void)state;
	for (int i = 0; i < 3; i++) {
		X509_CRL *x = pki_crl_new(&o[i]);
		size_t len;
		char *pem = pki_crl_pem(x, &len);

		der[i] = pki_crl_der(x, &der_len[i]);
		all = realloc(all, total + len + 1);
		assert_non_null(all);
		memcpy(all + total, pem, len);
		total += len;
		all[total] = '\0';
		free(pem);
		X509_CRL_free(x);
	}
	assert_int_equal(decode(all, total, &sk), CRL_OK);
	assert_int_equal(sk_X509_CRL_num(sk), 3);
	for (int i = 0; i < 3; i++) {
		assert_stack_der(sk, i, der[i], der_len[i]);
		free(der[i]);
	}
	free_stack(sk);
	free(all);
}

static void crl_decode__pem_with_bad_second_crl__parse_error(void **state)
{
	size_t len;
	char *pem = build_pem(&(struct pki_crl_opts){ .issuer = fx.ca }, &len);
	char *all = malloc(3 * len + 1), *second;
	STACK_OF(X509_CRL) *sk;

	(void)state;
	assert_non_null(all);
	memcpy(all, pem, len);
	memcpy(all + len, pem, len);
	memcpy(all + 2 * len, pem, len);
	all[3 * len] = '\0';
	/* Break the base64 of the second block: the whole file fails, not just that CRL. */
	second = all + len + strlen("-----BEGIN X509 CRL-----\n") + 10;
	memcpy(second, "!!!!", 4);
	assert_int_equal(decode(all, 3 * len, &sk), CRL_E_PARSE);
	free(all);
	free(pem);
}

static void crl_decode__garbage__parse_error(void **state)
{
	static const char garbage[] = "this is not a CRL at all\n";
	static const unsigned char der_like[] = { 0x30, 0x82, 0xff, 0xff, 0x01, 0x02 };
	STACK_OF(X509_CRL) *sk;

	(void)state;
	assert_int_equal(decode(garbage, sizeof(garbage) - 1, &sk), CRL_E_PARSE);
	assert_int_equal(decode(der_like, sizeof(der_like), &sk), CRL_E_PARSE);
}

static void crl_decode__pem_certificate__parse_error(void **state)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;
	STACK_OF(X509_CRL) *sk;

	(void)state;
	assert_non_null(b);
	assert_true(PEM_write_bio_X509(b, fx.leaf));
	n = BIO_get_mem_data(b, &p);
	assert_int_equal(decode(p, (size_t)n, &sk), CRL_E_PARSE);
	BIO_free(b);
}

static void crl_decode__over_file_limit__too_large(void **state)
{
	/* A sparse mapping: nothing is touched unless the decoder reads before checking the size. */
	size_t len = CRL_FILE_MAX + 1;
	void *big = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	STACK_OF(X509_CRL) *sk;

	(void)state;
	if (big == MAP_FAILED)
		skip();
	assert_int_equal(decode(big, len, &sk), CRL_E_TOO_LARGE);
	munmap(big, len);
}

static void crl_decode__empty__parse_error(void **state)
{
	static const unsigned char nothing[1] = { 0 };
	STACK_OF(X509_CRL) *sk;

	(void)state;
	assert_int_equal(decode(nothing, 0, &sk), CRL_E_PARSE);
}

/* ---- crl_from_x509: authenticity ---- */

static void crl_from_x509__matching_ca__ok(void **state)
{
	time_t tu = fx.now - 7200, nu = fx.now + 3 * DAY;
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .this_update = tu, .next_update = nu });

	(void)state;
	assert_int_equal(X509_cmp(c->ca, fx.ca->cert), 0);
	assert_string_equal(c->origin, "unit.crl");
	assert_string_equal(c->issuer_text, "CN=crlsync unit CA,O=crlsync test");
	assert_int_equal(c->this_update, tu);
	assert_int_equal(c->next_update, nu);
	assert_true(c->flags & CRL_HAS_NEXT_UPDATE);
	assert_false(c->flags & CRL_HAS_IDP);
	assert_int_equal(c->entries, 0);
	assert_int_equal(c->sig_nid, NID_ecdsa_with_SHA256);
	assert_null(c->scope);
	crl_unref(c);
}

static void crl_from_x509__no_configured_ca__no_ca(void **state)
{
	struct crl *c;

	(void)state;
	assert_int_equal(load_with(&(struct pki_crl_opts){ .issuer = fx.ca }, NULL, 0, &c), CRL_E_NO_CA);
}

static void crl_from_x509__other_issuer_name__no_ca(void **state)
{
	X509 *cas[] = { fx.other->cert, fx.rsa->cert };
	struct crl *c;

	(void)state;
	assert_int_equal(load_with(&(struct pki_crl_opts){ .issuer = fx.ca }, cas, 2, &c), CRL_E_NO_CA);
	/* Twin: the same CRL with its issuer among the candidates. */
	X509 *cas2[] = { fx.other->cert, fx.ca->cert };
	assert_int_equal(load_with(&(struct pki_crl_opts){ .issuer = fx.ca }, cas2, 2, &c), CRL_OK);
	assert_int_equal(X509_cmp(c->ca, fx.ca->cert), 0);
	crl_unref(c);
}

static void crl_from_x509__aki_of_other_key__no_ca(void **state)
{
	/* Same issuer name, but the AKI names the rollover key, which is not configured. */
	expect_error(&(struct pki_crl_opts){ .issuer = fx.rollover }, CRL_E_NO_CA);
}

static void crl_from_x509__ca_without_crl_sign__key_usage(void **state)
{
	X509 *cas[] = { fx.no_sign->cert };
	struct crl *c;

	(void)state;
	/* RFC 5280 §4.2.1.3: a keyUsage without cRLSign forbids signing CRLs. */
	assert_int_equal(load_with(&(struct pki_crl_opts){ .issuer = fx.no_sign }, cas, 1, &c), CRL_E_KEY_USAGE);
}

static void crl_from_x509__ca_without_key_usage__ok(void **state)
{
	X509 *cas[] = { fx.no_ku->cert };
	struct crl *c;

	(void)state;
	/* No keyUsage extension at all: every use is allowed. */
	assert_int_equal(load_with(&(struct pki_crl_opts){ .issuer = fx.no_ku }, cas, 1, &c), CRL_OK);
	crl_unref(c);
}

static void crl_from_x509__same_name_other_key_without_aki__signature(void **state)
{
	/* No AKI: the name matches fx.ca, but the rollover key signed it. */
	expect_error(&(struct pki_crl_opts){ .issuer = fx.rollover, .no_aki = true }, CRL_E_SIGNATURE);
}

static void crl_from_x509__wrong_key_with_matching_aki__signature(void **state)
{
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .sign_key = fx.other->key }, CRL_E_SIGNATURE);
}

static void crl_from_x509__key_rollover__verified_with_second_key(void **state)
{
	X509 *cas[] = { fx.ca->cert, fx.rollover->cert };
	struct crl *c;

	(void)state;
	assert_int_equal(load_with(&(struct pki_crl_opts){ .issuer = fx.rollover }, cas, 2, &c), CRL_OK);
	assert_int_equal(X509_cmp(c->ca, fx.rollover->cert), 0);
	crl_unref(c);
	/* Without an AKI both keys are tried: still the second. */
	assert_int_equal(load_with(&(struct pki_crl_opts){ .issuer = fx.rollover, .no_aki = true }, cas, 2, &c),
			 CRL_OK);
	assert_int_equal(X509_cmp(c->ca, fx.rollover->cert), 0);
	crl_unref(c);
	/* And the first key's CRL still verifies with the first. */
	assert_int_equal(load_with(&(struct pki_crl_opts){ .issuer = fx.ca, .no_aki = true }, cas, 2, &c), CRL_OK);
	assert_int_equal(X509_cmp(c->ca, fx.ca->cert), 0);
	crl_unref(c);
}

static void crl_from_x509__rsa_sha384__ok(void **state)
{
	X509 *cas[] = { fx.rsa->cert };
	struct crl *c;

	(void)state;
	assert_int_equal(load_with(&(struct pki_crl_opts){ .issuer = fx.rsa, .md = EVP_sha384() }, cas, 1, &c),
			 CRL_OK);
	assert_int_equal(c->sig_nid, NID_sha384WithRSAEncryption);
	crl_unref(c);
}

/* ---- crl_from_x509: time ---- */

static void crl_from_x509__this_update_beyond_skew__future(void **state)
{
	(void)state;
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .this_update = fx.now + CRL_SKEW_SECONDS + 1 },
		     CRL_E_FUTURE);
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .this_update = fx.now + DAY }, CRL_E_FUTURE);
}

static void crl_from_x509__this_update_within_skew__ok(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .this_update = fx.now + CRL_SKEW_SECONDS });

	(void)state;
	assert_int_equal(c->this_update, fx.now + CRL_SKEW_SECONDS);
	crl_unref(c);
}

static void crl_from_x509__next_update_before_this_update__malformed(void **state)
{
	(void)state;
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .this_update = fx.now - DAY,
					     .next_update = fx.now - DAY - 1 },
		     CRL_E_MALFORMED);
}

static void crl_from_x509__next_update_equal_this_update__ok(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .this_update = fx.now - DAY,
							 .next_update = fx.now - DAY });

	(void)state;
	crl_unref(c);
}

static void crl_from_x509__no_next_update__ok_without_flag(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .no_next_update = true });

	(void)state;
	assert_false(c->flags & CRL_HAS_NEXT_UPDATE);
	crl_unref(c);
}

/* ---- crl_from_x509: extensions ---- */

static void crl_from_x509__unknown_critical_crl_ext__critical_ext(void **state)
{
	(void)state;
	/* RFC 5280 §5.2: a CRL with an unrecognised critical extension must not be used. */
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .unknown_critical = true }, CRL_E_CRITICAL_EXT);
}

static void crl_from_x509__unknown_noncritical_crl_ext__ok(void **state)
{
	(void)state;
	crl_unref(load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .unknown_noncritical = true }));
}

static void crl_from_x509__unknown_critical_entry_ext__critical_ext(void **state)
{
	static const unsigned char sn = 0x05;
	const struct pki_crl_entry e = { .serial = &sn, .serial_len = 1, .reason = -1, .unknown_critical = true };

	(void)state;
	/* RFC 5280 §5.3: the same rule at entry level. */
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1 }, CRL_E_CRITICAL_EXT);
}

static void crl_from_x509__unknown_noncritical_entry_ext__ok(void **state)
{
	static const unsigned char sn = 0x05;
	const struct pki_crl_entry e = { .serial = &sn, .serial_len = 1, .reason = -1, .unknown_noncritical = true };
	struct crl *c;

	(void)state;
	c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1 });
	assert_int_equal(c->entries, 1);
	crl_unref(c);
}

static void crl_from_x509__delta_indicator__delta_loaded(void **state)
{
	static const unsigned char n = 2, base = 1;
	struct crl *c;

	(void)state;
	c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &n, .number_len = 1, .delta = true });
	assert_true(c->flags & CRL_IS_DELTA);
	assert_int_equal(c->base_number_len, 1);
	assert_memory_equal(c->base_number, &base, 1);
	assert_string_equal(c->base_number_hex, "01");
	crl_unref(c);
}

static void crl_from_x509__delta_indicator_not_critical__delta_error(void **state)
{
	static const unsigned char n = 2;

	(void)state;
	/* RFC 5280 §5.2.4: the extension MUST be critical, so that no delta-unaware reader takes it as complete. */
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &n, .number_len = 1, .delta = true,
					     .delta_noncritical = true },
		     CRL_E_DELTA);
}

static void crl_from_x509__delta_without_number__delta_error(void **state)
{
	(void)state;
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .delta = true }, CRL_E_DELTA);
}

static void crl_from_x509__delta_number_not_above_base__delta_error(void **state)
{
	static const unsigned char n = 5;

	(void)state;
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &n, .number_len = 1, .delta = true,
					     .delta_base = &n, .delta_base_len = 1 },
		     CRL_E_DELTA);
}

static void crl_from_x509__delta_remove_from_crl__indexed(void **state)
{
	static const unsigned char n = 2, sn = 0x21;
	const struct pki_crl_entry e = { .serial = &sn, .serial_len = 1, .reason = CRL_REASON_REMOVE_FROM_CRL };
	struct crl_index_hit h;
	struct crl *c;

	(void)state;
	c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &n, .number_len = 1, .delta = true,
					    .entries = &e, .n_entries = 1 });
	assert_true(crl_index_find(c->index, &sn, 1, false, &h));
	assert_int_equal(h.reason, CRL_REASON_REMOVE_FROM_CRL);
	crl_unref(c);
}

static void crl_from_x509__freshest_crl__http_urls_kept(void **state)
{
	static const unsigned char n = 2;
	struct crl *c;

	(void)state;
	c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &n, .number_len = 1,
					    .freshest_uri = "http://pki.example/Corp-Issuing%2B.crl" });
	assert_false(c->flags & CRL_IS_DELTA);
	assert_int_equal(c->n_freshest_urls, 1);
	assert_string_equal(c->freshest_urls[0], "http://pki.example/Corp-Issuing%2B.crl");
	crl_unref(c);
}

static void crl_from_x509__freshest_crl_ldap__no_urls(void **state)
{
	static const unsigned char n = 2;
	struct crl *c;

	(void)state;
	c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &n, .number_len = 1,
					    .freshest_uri = "ldap:///CN=Corp-Issuing+,CN=CDP?deltaRevocationList" });
	assert_int_equal(c->n_freshest_urls, 0);
	crl_unref(c);
}

static void crl_from_x509__ad_cs_microsoft_extensions__ok(void **state)
{
	static const unsigned char n = 2;

	(void)state;
	/* CA Version and Next CRL Publish: non-critical, harmless (issue 14). */
	crl_unref(load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &n, .number_len = 1, .ms_exts = true }));
	crl_unref(load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &n, .number_len = 1, .ms_exts = true,
						   .delta = true }));
}

/* A base numbered `bn` (and an IDP URI or none) and a delta numbered `dn` for base number `db`. */
static enum crl_delta_fit fit_of(const struct pki_ca *base_ca, unsigned char bn, const char *base_idp,
				 const struct pki_ca *delta_ca, unsigned char dn, unsigned char db, const char *delta_idp)
{
	X509 *cas[] = { fx.ca->cert, fx.rollover->cert };
	struct crl *b = NULL, *d = NULL;
	enum crl_delta_fit f;

	assert_int_equal(load_with(&(struct pki_crl_opts){ .issuer = base_ca, .number = &bn, .number_len = 1,
							   .idp_uri = base_idp },
				   cas, 2, &b),
			 CRL_OK);
	assert_int_equal(load_with(&(struct pki_crl_opts){ .issuer = delta_ca, .number = &dn, .number_len = 1,
							   .delta = true, .delta_base = &db, .delta_base_len = 1,
							   .idp_uri = delta_idp },
				   cas, 2, &d),
			 CRL_OK);
	f = crl_delta_applies(b, d);
	/* Base and delta are separate streams: neither ever rolls the other back. */
	assert_false(same_stream_of(b, d));
	assert_int_equal(crl_delta_applies(d, b), CRL_DELTA_NOT_DELTA);
	crl_unref(b);
	crl_unref(d);
	return f;
}

static void crl_delta_applies__base_at_or_above_base_number__applies(void **state)
{
	(void)state;
	assert_int_equal(fit_of(fx.ca, 4, NULL, fx.ca, 5, 4, NULL), CRL_DELTA_APPLIES);
	assert_int_equal(fit_of(fx.ca, 4, NULL, fx.ca, 6, 3, NULL), CRL_DELTA_APPLIES);
}

static void crl_delta_applies__base_number_above_base__newer_base(void **state)
{
	(void)state;
	assert_int_equal(fit_of(fx.ca, 4, NULL, fx.ca, 7, 6, NULL), CRL_DELTA_NEWER_BASE);
}

static void crl_delta_applies__delta_not_newer__not_newer(void **state)
{
	(void)state;
	assert_int_equal(fit_of(fx.ca, 6, NULL, fx.ca, 5, 4, NULL), CRL_DELTA_NOT_NEWER);
	assert_int_equal(fit_of(fx.ca, 5, NULL, fx.ca, 5, 4, NULL), CRL_DELTA_NOT_NEWER);
}

static void crl_delta_applies__other_idp__other_stream(void **state)
{
	(void)state;
	assert_int_equal(fit_of(fx.ca, 4, NULL, fx.ca, 5, 4, "http://crl.example/a.crl"), CRL_DELTA_OTHER_STREAM);
	assert_int_equal(fit_of(fx.ca, 4, "http://crl.example/a.crl", fx.ca, 5, 4, "http://crl.example/b.crl"),
			 CRL_DELTA_OTHER_STREAM);
	assert_int_equal(fit_of(fx.ca, 4, "http://crl.example/a.crl", fx.ca, 5, 4, "http://crl.example/a.crl"),
			 CRL_DELTA_APPLIES);
}

static void crl_delta_applies__other_key_same_name__other_stream(void **state)
{
	(void)state;
	assert_int_equal(fit_of(fx.ca, 4, NULL, fx.rollover, 5, 4, NULL), CRL_DELTA_OTHER_STREAM);
}

static void crl_from_x509__complete_crl_with_number__ok(void **state)
{
	static const unsigned char n = 2;

	(void)state;
	crl_unref(load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &n, .number_len = 1 }));
}

static void crl_from_x509__duplicate_extension__malformed(void **state)
{
	(void)state;
	/* RFC 5280 §4.2 (applied to CRLs by §5.2): an extension appears at most once. Raw: OpenSSL's
	 * own decoder does not object to a repeated unknown extension, crlsync must. */
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .dup_unknown = true, .raw = true }, CRL_E_MALFORMED);
}

static void crl_from_x509__remove_from_crl_entry__usable_and_listed(void **state)
{
	static const unsigned char sn = 0x05, other = 0x06;
	const struct pki_crl_entry e[] = { { .serial = &sn, .serial_len = 1, .reason = CRL_REASON_REMOVE_FROM_CRL },
					   { .serial = &other, .serial_len = 1, .reason = CRL_REASON_KEY_COMPROMISE } };
	struct crl_index_hit h;
	struct crl *c;

	(void)state;
	/*
	 * RFC 5280 §5.3.1: removeFromCRL only belongs in delta CRLs. In a complete CRL one such entry
	 * no longer makes the whole CRL unusable (every certificate of the CA refused, or, with
	 * missing = accept, every revoked one let in): the CRL loads, the entry stays listed with its
	 * reason, and check.c counts it as a revocation. Both loaders agree (load_with()).
	 */
	c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = e, .n_entries = 2 });
	assert_int_equal(c->entries, 2);
	assert_true(crl_index_find(c->index, &sn, 1, false, &h));
	assert_int_equal(h.reason, CRL_REASON_REMOVE_FROM_CRL);
	assert_true(crl_index_find(c->index, &other, 1, false, &h));
	assert_int_equal(h.reason, CRL_REASON_KEY_COMPROMISE);
	crl_unref(c);
}

static void crl_from_x509__unassigned_reason_code__malformed(void **state)
{
	static const unsigned char sn = 0x05;
	const struct pki_crl_entry seven = { .serial = &sn, .serial_len = 1, .reason = 7 };
	const struct pki_crl_entry eleven = { .serial = &sn, .serial_len = 1, .reason = 11 };

	(void)state;
	/* RFC 5280 §5.3.1: value 7 is not used. */
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &seven, .n_entries = 1 }, CRL_E_MALFORMED);
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &eleven, .n_entries = 1 }, CRL_E_MALFORMED);
}

static void crl_from_x509__certificate_issuer_not_indirect__malformed(void **state)
{
	static const unsigned char sn = 0x05;
	const struct pki_crl_entry e = { .serial = &sn, .serial_len = 1, .reason = -1,
					 .cert_issuer_cn = "someone else" };

	(void)state;
	/* RFC 5280 §5.3.3: certificateIssuer only belongs in an indirect CRL. */
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1 }, CRL_E_MALFORMED);
}

static void crl_from_x509__certificate_issuer_indirect__ok_but_never_covers(void **state)
{
	static const unsigned char sn = 0x05;
	const struct pki_crl_entry e = { .serial = &sn, .serial_len = 1, .reason = -1,
					 .cert_issuer_cn = "someone else" };
	const char *why;
	struct crl *c;

	(void)state;
	c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1,
					     .idp = PKI_IDP_INDIRECT });
	assert_true(c->flags & CRL_IDP_INDIRECT);
	assert_false(crl_covers(c, fx.leaf, &why));
	assert_non_null(why);
	crl_unref(c);
}

static void crl_from_x509__idp_user_and_ca_only__malformed(void **state)
{
	(void)state;
	/* RFC 5280 §5.2.5: at most one of onlyContainsUserCerts, CACerts, AttributeCerts is TRUE. */
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_USER_ONLY | PKI_IDP_CA_ONLY },
		     CRL_E_MALFORMED);
}

/* ---- cRLNumber ---- */

static void crl_from_x509__number__parsed_with_hex(void **state)
{
	static const unsigned char n[] = { 0x01, 0x02 };
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .number = n, .number_len = 2 });

	(void)state;
	assert_true(c->flags & CRL_HAS_NUMBER);
	assert_int_equal(c->number_len, 2);
	assert_memory_equal(c->number, n, 2);
	assert_string_equal(c->number_hex, "0102");
	crl_unref(c);
}

static void crl_from_x509__number_zero__empty_magnitude(void **state)
{
	static const unsigned char zero = 0;
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &zero, .number_len = 1 });

	(void)state;
	assert_true(c->flags & CRL_HAS_NUMBER);
	assert_int_equal(c->number_len, 0);
	assert_string_equal(c->number_hex, "0");
	crl_unref(c);
}

static void crl_from_x509__no_number__hex_none(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca });

	(void)state;
	assert_false(c->flags & CRL_HAS_NUMBER);
	assert_int_equal(c->number_len, 0);
	assert_string_equal(c->number_hex, "none");
	crl_unref(c);
}

static void crl_from_x509__number_20_octets_top_bit__ok(void **state)
{
	unsigned char n[20];
	char hex[41];
	struct crl *c;

	(void)state;
	for (int i = 0; i < 20; i++)
		n[i] = (unsigned char)(0xF0 + (i % 16));
	/* 20 octets of magnitude (21 in DER with the 0x00 pad): the largest number RFC 5280 §5.2.3 allows. */
	c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .number = n, .number_len = 20 });
	assert_int_equal(c->number_len, 20);
	assert_memory_equal(c->number, n, 20);
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02X", n[i]);
	assert_string_equal(c->number_hex, hex);
	crl_unref(c);
}

static void crl_from_x509__number_21_octets__malformed(void **state)
{
	unsigned char n[21];

	(void)state;
	memset(n, 0x11, sizeof(n));
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .number = n, .number_len = 21 }, CRL_E_MALFORMED);
}

static void crl_from_x509__number_negative__malformed(void **state)
{
	static const unsigned char n = 5;

	(void)state;
	expect_error(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &n, .number_len = 1, .number_negative = true },
		     CRL_E_MALFORMED);
}

/* ---- a loaded CRL's mark (mark.h): age and stream ---- */

static struct crl *numbered(const unsigned char *n, size_t len, time_t tu)
{
	return load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .number = n, .number_len = len, .this_update = tu });
}

static void crl_mark_age__numbers__ordered_by_value(void **state)
{
	static const unsigned char five = 5, six = 6, ff = 0xFF, n256[] = { 0x01, 0x00 };
	time_t tu = fx.now - DAY;
	struct crl *a = numbered(&five, 1, tu), *b = numbered(&six, 1, tu), *a2 = numbered(&five, 1, tu);
	struct crl *c = numbered(&ff, 1, tu), *d = numbered(n256, 2, tu);

	(void)state;
	assert_true(age_of(a, b) < 0);
	assert_true(age_of(b, a) > 0);
	assert_int_equal(age_of(a, a2), 0);
	/* 0x0100 > 0xFF: a longer magnitude is larger. */
	assert_true(age_of(c, d) < 0);
	assert_true(age_of(d, c) > 0);
	crl_unref(a);
	crl_unref(b);
	crl_unref(a2);
	crl_unref(c);
	crl_unref(d);
}

static void crl_mark_age__numbers__win_over_this_update(void **state)
{
	static const unsigned char five = 5, six = 6;
	/* Number 6 was issued "earlier" by the clock: the number decides (RFC 5280 §5.2.3). */
	struct crl *a = numbered(&five, 1, fx.now - DAY), *b = numbered(&six, 1, fx.now - 2 * DAY);

	(void)state;
	assert_true(age_of(a, b) < 0);
	assert_true(age_of(b, a) > 0);
	crl_unref(a);
	crl_unref(b);
}

static void crl_mark_age__without_numbers__ordered_by_this_update(void **state)
{
	struct crl *old = numbered(NULL, 0, fx.now - 2 * DAY), *young = numbered(NULL, 0, fx.now - DAY);
	struct crl *young2 = numbered(NULL, 0, fx.now - DAY);

	(void)state;
	assert_true(age_of(old, young) < 0);
	assert_true(age_of(young, old) > 0);
	assert_int_equal(age_of(young, young2), 0);
	crl_unref(old);
	crl_unref(young);
	crl_unref(young2);
}

static void crl_mark_age__one_without_number__ordered_by_this_update(void **state)
{
	static const unsigned char nine = 9;
	struct crl *numbered_old = numbered(&nine, 1, fx.now - 2 * DAY), *plain_young = numbered(NULL, 0, fx.now - DAY);

	(void)state;
	assert_true(age_of(numbered_old, plain_young) < 0);
	assert_true(age_of(plain_young, numbered_old) > 0);
	crl_unref(numbered_old);
	crl_unref(plain_young);
}

static void crl_mark_stream__same_ca_without_idp__true(void **state)
{
	static const unsigned char one = 1, two = 2;
	struct crl *a = numbered(&one, 1, fx.now - DAY), *b = numbered(&two, 1, fx.now - 60);

	(void)state;
	assert_true(same_stream_of(a, b));
	assert_true(same_stream_of(b, a));
	crl_unref(a);
	crl_unref(b);
}

static void crl_mark_stream__other_ca__false(void **state)
{
	X509 *cas[] = { fx.ca->cert, fx.rollover->cert, fx.other->cert };
	struct crl *a, *b, *c;

	(void)state;
	assert_int_equal(load_with(&(struct pki_crl_opts){ .issuer = fx.ca }, cas, 3, &a), CRL_OK);
	assert_int_equal(load_with(&(struct pki_crl_opts){ .issuer = fx.rollover }, cas, 3, &b), CRL_OK);
	assert_int_equal(load_with(&(struct pki_crl_opts){ .issuer = fx.other }, cas, 3, &c), CRL_OK);
	assert_false(same_stream_of(a, b)); /* same name, other key */
	assert_false(same_stream_of(a, c));
	crl_unref(a);
	crl_unref(b);
	crl_unref(c);
}

static void crl_mark_stream__same_ca_other_idp__false(void **state)
{
	struct crl *plain = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca });
	struct crl *user = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_USER_ONLY });
	struct crl *cas = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_CA_ONLY });
	struct crl *dp = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_uri = "http://crl.example/a.crl" });

	(void)state;
	assert_false(same_stream_of(plain, user));
	assert_false(same_stream_of(user, plain));
	assert_false(same_stream_of(user, cas));
	assert_false(same_stream_of(user, dp));
	crl_unref(plain);
	crl_unref(user);
	crl_unref(cas);
	crl_unref(dp);
}

static void crl_mark_stream__same_ca_same_idp__true(void **state)
{
	static const unsigned char one = 1, two = 2;
	struct crl *a = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_USER_ONLY,
							 .number = &one, .number_len = 1 });
	struct crl *b = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_USER_ONLY,
							 .number = &two, .number_len = 1, .this_update = fx.now - 10 });

	(void)state;
	assert_true(same_stream_of(a, b));
	crl_unref(a);
	crl_unref(b);
}

/* ---- IDP and crl_covers ---- */

static void assert_covers(const struct crl *c, X509 *cert, bool want)
{
	const char *why = "unset";
	bool got = crl_covers(c, cert, &why);

	assert_int_equal(got, want);
	if (want)
		assert_null(why);
	else
		assert_non_null(why);
}

static void crl_covers__no_idp__leaf_and_ca(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca });

	(void)state;
	assert_covers(c, fx.leaf, true);
	assert_covers(c, fx.sub, true);
	assert_covers(c, fx.leaf_dp, true);
	crl_unref(c);
}

static void crl_covers__user_only_leaf__true(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_USER_ONLY });

	(void)state;
	assert_int_equal(c->flags & (CRL_HAS_IDP | CRL_IDP_USER_ONLY | CRL_IDP_CA_ONLY),
			 CRL_HAS_IDP | CRL_IDP_USER_ONLY);
	assert_non_null(c->scope);
	assert_true(c->scope_len > 0);
	assert_covers(c, fx.leaf, true);
	crl_unref(c);
}

static void crl_covers__user_only_ca_cert__false(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_USER_ONLY });

	(void)state;
	assert_covers(c, fx.sub, false);
	crl_unref(c);
}

static void crl_covers__ca_only_ca_cert__true(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_CA_ONLY });

	(void)state;
	assert_int_equal(c->flags & (CRL_HAS_IDP | CRL_IDP_USER_ONLY | CRL_IDP_CA_ONLY), CRL_HAS_IDP | CRL_IDP_CA_ONLY);
	assert_covers(c, fx.sub, true);
	crl_unref(c);
}

static void crl_covers__ca_only_leaf__false(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_CA_ONLY });

	(void)state;
	assert_covers(c, fx.leaf, false);
	crl_unref(c);
}

static void crl_covers__attr_only__false(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_ATTR_ONLY });

	(void)state;
	/* An attribute-certificate CRL never covers a public-key certificate (RFC 5280 §5.2.5). */
	assert_true(c->flags & CRL_IDP_ATTR_ONLY);
	assert_covers(c, fx.leaf, false);
	assert_covers(c, fx.sub, false);
	crl_unref(c);
}

static void crl_covers__indirect__false(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_INDIRECT });

	(void)state;
	assert_true(c->flags & CRL_IDP_INDIRECT);
	assert_covers(c, fx.leaf, false);
	crl_unref(c);
}

static void crl_covers__idp_name_matching_crldp__true(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_uri = "http://crl.example/a.crl" });

	(void)state;
	assert_true(c->flags & CRL_IDP_HAS_DP);
	assert_non_null(c->idp_dp);
	assert_covers(c, fx.leaf_dp, true);
	crl_unref(c);
}

static void crl_covers__idp_name_not_matching_crldp__false(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_uri = "http://crl.example/b.crl" });

	(void)state;
	assert_covers(c, fx.leaf_dp, false);
	crl_unref(c);
}

static void crl_covers__idp_name_cert_without_crldp__false(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_uri = "http://crl.example/a.crl" });

	(void)state;
	/* RFC 5280 §6.3.3 (b)(2)(i): a partitioned CRL needs a matching DP in the certificate. */
	assert_covers(c, fx.leaf, false);
	crl_unref(c);
}

static void crl_covers__idp_name_and_user_only__both_apply(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_USER_ONLY,
							 .idp_uri = "http://crl.example/a.crl" });
	X509 *sub_dp = pki_leaf_new(fx.ca, "crlsync sub CA 2",
				    &(struct pki_leaf_opts){ .ca = true, .crldp_uri = "http://crl.example/a.crl" });

	(void)state;
	assert_covers(c, fx.leaf_dp, true);
	assert_covers(c, sub_dp, false);
	X509_free(sub_dp);
	crl_unref(c);
}

/* ---- DP names as directory names, nameRelativeToCRLIssuer (RFC 5280 §4.2.1.13, §5.2.5, §6.3.3 (b)(2)(i)) ---- */

#define UNIT_CA_DN "O=crlsync test,CN=crlsync unit CA"

/* A leaf of fx.ca with the one DistributionPoint `dp`; caller frees. */
static X509 *leaf_with_dp(const struct pki_dp *dp)
{
	return pki_leaf_new(fx.ca, "carol", &(struct pki_leaf_opts){ .dps = dp, .n_dps = 1 });
}

static void crl_covers__idp_relative_name_cert_full_dn__true(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_rdn = "CN=CRL1" });
	X509 *leaf = leaf_with_dp(&(struct pki_dp){ .dn = UNIT_CA_DN ",CN=CRL1" });

	(void)state;
	/* CN=CRL1 relative to the CRL issuer is O=crlsync test,CN=crlsync unit CA,CN=CRL1. */
	assert_true(c->flags & CRL_IDP_HAS_DP);
	assert_covers(c, leaf, true);
	X509_free(leaf);
	crl_unref(c);
}

static void crl_covers__idp_relative_name_cert_other_dn__false(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_rdn = "CN=CRL1" });
	X509 *other = leaf_with_dp(&(struct pki_dp){ .dn = UNIT_CA_DN ",CN=CRL2" });
	X509 *bare = leaf_with_dp(&(struct pki_dp){ .dn = "CN=CRL1" }); /* not under the issuer's DN */

	(void)state;
	assert_covers(c, other, false);
	assert_covers(c, bare, false);
	X509_free(other);
	X509_free(bare);
	crl_unref(c);
}

static void crl_covers__idp_full_dn_cert_relative_name__true(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_dn = UNIT_CA_DN ",CN=CRL1" });
	X509 *leaf = leaf_with_dp(&(struct pki_dp){ .rdn = "CN=CRL1" });

	(void)state;
	/* The other way round: the certificate's relative name goes after its issuer's DN. */
	assert_covers(c, leaf, true);
	X509_free(leaf);
	crl_unref(c);
}

static void crl_covers__idp_full_dn_cert_other_relative_name__false(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_dn = UNIT_CA_DN ",CN=CRL1" });
	X509 *leaf = leaf_with_dp(&(struct pki_dp){ .rdn = "CN=CRL2" });

	(void)state;
	assert_covers(c, leaf, false);
	X509_free(leaf);
	crl_unref(c);
}

static void crl_covers__relative_names_both_sides__equal_only(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_rdn = "CN=CRL1" });
	X509 *same = leaf_with_dp(&(struct pki_dp){ .rdn = "CN=CRL1" });
	X509 *other = leaf_with_dp(&(struct pki_dp){ .rdn = "CN=CRL2" });

	(void)state;
	assert_covers(c, same, true);
	assert_covers(c, other, false);
	X509_free(same);
	X509_free(other);
	crl_unref(c);
}

static void crl_covers__relative_name_under_other_crl_issuer__false(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_rdn = "CN=CRL1" });
	X509 *leaf = leaf_with_dp(&(struct pki_dp){ .rdn = "CN=CRL1", .crl_issuer = "O=crlsync test,CN=elsewhere" });

	(void)state;
	/* §4.2.1.13: with cRLIssuer the relative name is under that issuer, whose (indirect) CRL this is not. */
	assert_covers(c, leaf, false);
	X509_free(leaf);
	crl_unref(c);
}

/* ---- DistributionPoint.reasons (RFC 5280 §6.3.3 (d)) ---- */

#define R(code) (1U << (code))

static void crl_covered_reasons__dp_without_reasons__all(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca });
	X509 *leaf = leaf_with_dp(&(struct pki_dp){ .uri = "http://crl.example/a.crl" });

	(void)state;
	assert_int_equal(crl_covered_reasons(c, leaf), CRL_REASONS_ALL);
	assert_int_equal(crl_covered_reasons(c, fx.leaf), CRL_REASONS_ALL); /* no CRLDP at all */
	X509_free(leaf);
	crl_unref(c);
}

static void crl_covered_reasons__dp_with_reasons__only_those(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca });
	X509 *leaf = leaf_with_dp(&(struct pki_dp){ .uri = "http://crl.example/a.crl",
						    .reason_bits = PKI_RF_KEY_COMPROMISE | PKI_RF_CA_COMPROMISE });

	(void)state;
	assert_covers(c, leaf, true); /* in scope all the same: a listing still counts */
	assert_int_equal(crl_covered_reasons(c, leaf), R(CRL_REASON_KEY_COMPROMISE) | R(CRL_REASON_CA_COMPROMISE));
	X509_free(leaf);
	crl_unref(c);
}

static void crl_covered_reasons__dp_reasons_and_only_some_reasons__intersection(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_uri = "http://crl.example/a.crl",
							 .idp_reason_bits = PKI_RF_KEY_COMPROMISE | PKI_RF_SUPERSEDED });
	X509 *leaf = leaf_with_dp(&(struct pki_dp){ .uri = "http://crl.example/a.crl",
						    .reason_bits = PKI_RF_KEY_COMPROMISE | PKI_RF_CA_COMPROMISE });

	(void)state;
	assert_int_equal(crl_covered_reasons(c, leaf), R(CRL_REASON_KEY_COMPROMISE));
	X509_free(leaf);
	crl_unref(c);
}

static void crl_covered_reasons__two_dps_one_crl__union(void **state)
{
	const struct pki_dp dps[] = {
		{ .uri = "http://crl.example/a.crl", .reason_bits = PKI_RF_KEY_COMPROMISE },
		{ .uri = "http://crl.example/b.crl", .reason_bits = PKI_RF_SUPERSEDED },
	};
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca });
	X509 *leaf = pki_leaf_new(fx.ca, "dave", &(struct pki_leaf_opts){ .dps = dps, .n_dps = 2 });
	struct crl *a = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_uri = "http://crl.example/a.crl" });

	(void)state;
	/* §6.3.3 walks the DPs one by one: a CRL that answers both covers both DPs' reasons. */
	assert_int_equal(crl_covered_reasons(c, leaf), R(CRL_REASON_KEY_COMPROMISE) | R(CRL_REASON_SUPERSEDED));
	/* A partitioned CRL answers only the DP it names. */
	assert_int_equal(crl_covered_reasons(a, leaf), R(CRL_REASON_KEY_COMPROMISE));
	X509_free(leaf);
	crl_unref(c);
	crl_unref(a);
}

static void crl_from_x509__only_some_reasons__reasons_mask(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){
		.issuer = fx.ca, .idp_reason_bits = PKI_RF_KEY_COMPROMISE | PKI_RF_CERTIFICATE_HOLD |
						    PKI_RF_PRIVILEGE_WITHDRAWN | PKI_RF_AA_COMPROMISE });

	(void)state;
	assert_true(c->flags & CRL_HAS_IDP);
	assert_true(c->flags & CRL_IDP_SOME_REASONS);
	/* ReasonFlags bits 1, 6, 7, 8 are CRLReason codes 1, 6, 9, 10. */
	assert_int_equal(c->reasons, (1U << CRL_REASON_KEY_COMPROMISE) | (1U << CRL_REASON_CERTIFICATE_HOLD) |
					     (1U << CRL_REASON_PRIVILEGE_WITHDRAWN) | (1U << CRL_REASON_AA_COMPROMISE));
	assert_covers(c, fx.leaf, true); /* scope is not narrowed, only the reasons */
	crl_unref(c);
}

static void crl_from_x509__no_idp__all_reasons(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca });
	struct crl *u = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_USER_ONLY });

	(void)state;
	assert_false(c->flags & CRL_IDP_SOME_REASONS);
	assert_int_equal(c->reasons, CRL_REASONS_ALL);
	assert_false(u->flags & CRL_IDP_SOME_REASONS);
	assert_int_equal(u->reasons, CRL_REASONS_ALL);
	crl_unref(c);
	crl_unref(u);
}

/* ---- entries and the index ---- */

static void crl_from_x509__entries__indexed_with_reason_and_date(void **state)
{
	static const unsigned char s5 = 0x05, s6 = 0x06, s7 = 0x07;
	const struct pki_crl_entry e[] = {
		{ .serial = &s5, .serial_len = 1, .revoked_at = fx.now - 10 * DAY, .reason = CRL_REASON_KEY_COMPROMISE },
		{ .serial = &s6, .serial_len = 1, .revoked_at = fx.now - 5 * DAY, .reason = CRL_REASON_CERTIFICATE_HOLD },
		{ .serial = &s7, .serial_len = 1, .revoked_at = fx.now - 2 * DAY, .reason = -1 },
	};
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = e, .n_entries = 3 });
	struct crl_index_hit hit;

	(void)state;
	assert_int_equal(c->entries, 3);
	assert_true(crl_index_find(c->index, &s5, 1, false, &hit));
	assert_int_equal(hit.revoked_at, fx.now - 10 * DAY);
	assert_int_equal(hit.reason, CRL_REASON_KEY_COMPROMISE);
	assert_true(crl_index_find(c->index, &s6, 1, false, &hit));
	assert_int_equal(hit.revoked_at, fx.now - 5 * DAY);
	assert_int_equal(hit.reason, CRL_REASON_CERTIFICATE_HOLD);
	assert_true(crl_index_find(c->index, &s7, 1, false, &hit));
	assert_int_equal(hit.revoked_at, fx.now - 2 * DAY);
	assert_int_equal(hit.reason, CRL_REASON_ABSENT);
	crl_unref(c);
}

static void crl_from_x509__entries__unlisted_serial_not_found(void **state)
{
	static const unsigned char s5 = 0x05, s4 = 0x04, s8 = 0x08, s0 = 0x00;
	const struct pki_crl_entry e = { .serial = &s5, .serial_len = 1, .reason = CRL_REASON_KEY_COMPROMISE };
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1 });
	struct crl *empty = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca });

	(void)state;
	assert_false(crl_index_find(c->index, &s4, 1, false, NULL));
	assert_false(crl_index_find(c->index, &s8, 1, false, NULL));
	assert_false(crl_index_find(c->index, &s0, 1, false, NULL));
	assert_false(crl_index_find(c->index, &s5, 1, true, NULL)); /* -5 is not 5 */
	assert_false(crl_index_find(empty->index, &s5, 1, false, NULL));
	assert_int_equal(empty->entries, 0);
	crl_unref(c);
	crl_unref(empty);
}

static void crl_from_x509__duplicate_serial__one_entry_earliest_date(void **state)
{
	static const unsigned char s5 = 0x05;
	const struct pki_crl_entry e[] = {
		{ .serial = &s5, .serial_len = 1, .revoked_at = fx.now - 2 * DAY, .reason = CRL_REASON_SUPERSEDED },
		{ .serial = &s5, .serial_len = 1, .revoked_at = fx.now - 9 * DAY, .reason = CRL_REASON_KEY_COMPROMISE },
	};
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = e, .n_entries = 2 });
	struct crl_index_hit hit;

	(void)state;
	assert_int_equal(c->entries, 1);
	assert_true(crl_index_find(c->index, &s5, 1, false, &hit));
	assert_int_equal(hit.revoked_at, fx.now - 9 * DAY);
	crl_unref(c);
}

/* Looks the certificate's own serial up, as check_cert() does. */
static bool find_cert(const struct crl *c, X509 *cert)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(cert);

	return crl_index_find(c->index, ASN1_STRING_get0_data(sn), (size_t)ASN1_STRING_length(sn),
			      ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER, NULL);
}

/* A CRL listing `listed` (and a few neighbours' neighbours) and two certificates: listed and not. */
static void serial_case(const unsigned char *listed, const unsigned char *unlisted, size_t len)
{
	static const unsigned char filler[] = { 0x42 };
	const struct pki_crl_entry e[] = {
		{ .serial = filler, .serial_len = 1, .reason = -1 },
		{ .serial = listed, .serial_len = len, .reason = CRL_REASON_KEY_COMPROMISE },
	};
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = e, .n_entries = 2 });
	X509 *yes = pki_leaf_new(fx.ca, "listed", &(struct pki_leaf_opts){ .serial = listed, .serial_len = len });
	X509 *no = pki_leaf_new(fx.ca, "unlisted", &(struct pki_leaf_opts){ .serial = unlisted, .serial_len = len });

	assert_int_equal(ASN1_STRING_length(X509_get0_serialNumber(yes)), (int)len);
	assert_true(find_cert(c, yes));
	assert_false(find_cert(c, no));
	X509_free(yes);
	X509_free(no);
	crl_unref(c);
}

static void crl_index__one_byte_serial__found(void **state)
{
	static const unsigned char s = 0x05, t = 0x06;

	(void)state;
	serial_case(&s, &t, 1);
}

static void crl_index__twenty_byte_serial__found(void **state)
{
	unsigned char s[20], t[20];

	(void)state;
	/* 20 octets with the top bit clear: the longest RFC 5280 §4.1.2.2 serial. */
	for (int i = 0; i < 20; i++)
		s[i] = (unsigned char)(0x7E - i);
	memcpy(t, s, sizeof(t));
	t[19] ^= 0x01; /* differs only in the last octet */
	serial_case(s, t, 20);
}

static void crl_index__top_bit_serial__found(void **state)
{
	static const unsigned char s[] = { 0x8A, 0x3F }, t[] = { 0x0A, 0x3F };
	static const unsigned char padded[] = { 0x00, 0x8A, 0x3F };
	const struct pki_crl_entry e = { .serial = s, .serial_len = 2, .reason = -1 };
	struct crl *c;

	(void)state;
	/* DER is 02 03 00 8A 3F; the magnitude 8A3F must match with or without the pad, and 0A3F not. */
	serial_case(s, t, 2);
	c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1 });
	assert_true(crl_index_find(c->index, padded, sizeof(padded), false, NULL));
	assert_true(crl_index_find(c->index, s, sizeof(s), false, NULL));
	assert_false(crl_index_find(c->index, s, sizeof(s), true, NULL));
	crl_unref(c);
}

/* ---- helpers ---- */

static void crl_asn1_time__valid_and_null(void **state)
{
	ASN1_TIME *t = ASN1_TIME_set(NULL, 1793613600);
	time_t out = 0;

	(void)state;
	assert_non_null(t);
	assert_true(crl_asn1_time(t, &out));
	assert_int_equal(out, 1793613600);
	assert_false(crl_asn1_time(NULL, &out));
	ASN1_TIME_free(t);
}

static void crl_error_str__every_code__named(void **state)
{
	(void)state;
	for (int e = CRL_OK; e <= CRL_E_NOMEM; e++) {
		assert_non_null(crl_error_str((enum crl_error)e));
		assert_string_not_equal(crl_error_str((enum crl_error)e), "?");
	}
	assert_string_equal(crl_error_str((enum crl_error)999), "?");
}

static void crl_ref__last_unref__frees(void **state)
{
	struct crl *c = load_ok(&(struct pki_crl_opts){ .issuer = fx.ca });

	(void)state;
	assert_ptr_equal(crl_ref(c), c);
	assert_int_equal(atomic_load(&c->refs), 2);
	crl_unref(c);
	assert_int_equal(atomic_load(&c->refs), 1);
	crl_unref(c); /* freed: sanitizers and valgrind see a leak or a double free otherwise */
	crl_unref(NULL);
	assert_null(crl_ref(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crl_decode__der__one_crl),
		cmocka_unit_test(crl_decode__truncated_der__parse_error),
		cmocka_unit_test(crl_decode__der_with_trailing_bytes__parse_error),
		cmocka_unit_test(crl_decode__pem__one_crl),
		cmocka_unit_test(crl_decode__pem_with_text_around__one_crl),
		cmocka_unit_test(crl_decode__pem_with_three_crls__three_in_order),
		cmocka_unit_test(crl_decode__pem_with_bad_second_crl__parse_error),
		cmocka_unit_test(crl_decode__garbage__parse_error),
		cmocka_unit_test(crl_decode__pem_certificate__parse_error),
		cmocka_unit_test(crl_decode__over_file_limit__too_large),
		cmocka_unit_test(crl_decode__empty__parse_error),
		cmocka_unit_test(crl_from_x509__matching_ca__ok),
		cmocka_unit_test(crl_from_x509__no_configured_ca__no_ca),
		cmocka_unit_test(crl_from_x509__other_issuer_name__no_ca),
		cmocka_unit_test(crl_from_x509__aki_of_other_key__no_ca),
		cmocka_unit_test(crl_from_x509__ca_without_crl_sign__key_usage),
		cmocka_unit_test(crl_from_x509__ca_without_key_usage__ok),
		cmocka_unit_test(crl_from_x509__same_name_other_key_without_aki__signature),
		cmocka_unit_test(crl_from_x509__wrong_key_with_matching_aki__signature),
		cmocka_unit_test(crl_from_x509__key_rollover__verified_with_second_key),
		cmocka_unit_test(crl_from_x509__rsa_sha384__ok),
		cmocka_unit_test(crl_from_x509__this_update_beyond_skew__future),
		cmocka_unit_test(crl_from_x509__this_update_within_skew__ok),
		cmocka_unit_test(crl_from_x509__next_update_before_this_update__malformed),
		cmocka_unit_test(crl_from_x509__next_update_equal_this_update__ok),
		cmocka_unit_test(crl_from_x509__no_next_update__ok_without_flag),
		cmocka_unit_test(crl_from_x509__unknown_critical_crl_ext__critical_ext),
		cmocka_unit_test(crl_from_x509__unknown_noncritical_crl_ext__ok),
		cmocka_unit_test(crl_from_x509__unknown_critical_entry_ext__critical_ext),
		cmocka_unit_test(crl_from_x509__unknown_noncritical_entry_ext__ok),
		cmocka_unit_test(crl_from_x509__delta_indicator__delta_loaded),
		cmocka_unit_test(crl_from_x509__delta_indicator_not_critical__delta_error),
		cmocka_unit_test(crl_from_x509__delta_without_number__delta_error),
		cmocka_unit_test(crl_from_x509__delta_number_not_above_base__delta_error),
		cmocka_unit_test(crl_from_x509__delta_remove_from_crl__indexed),
		cmocka_unit_test(crl_from_x509__freshest_crl__http_urls_kept),
		cmocka_unit_test(crl_from_x509__freshest_crl_ldap__no_urls),
		cmocka_unit_test(crl_from_x509__ad_cs_microsoft_extensions__ok),
		cmocka_unit_test(crl_delta_applies__base_at_or_above_base_number__applies),
		cmocka_unit_test(crl_delta_applies__base_number_above_base__newer_base),
		cmocka_unit_test(crl_delta_applies__delta_not_newer__not_newer),
		cmocka_unit_test(crl_delta_applies__other_idp__other_stream),
		cmocka_unit_test(crl_delta_applies__other_key_same_name__other_stream),
		cmocka_unit_test(crl_from_x509__complete_crl_with_number__ok),
		cmocka_unit_test(crl_from_x509__duplicate_extension__malformed),
		cmocka_unit_test(crl_from_x509__remove_from_crl_entry__usable_and_listed),
		cmocka_unit_test(crl_from_x509__unassigned_reason_code__malformed),
		cmocka_unit_test(crl_from_x509__certificate_issuer_not_indirect__malformed),
		cmocka_unit_test(crl_from_x509__certificate_issuer_indirect__ok_but_never_covers),
		cmocka_unit_test(crl_from_x509__idp_user_and_ca_only__malformed),
		cmocka_unit_test(crl_from_x509__number__parsed_with_hex),
		cmocka_unit_test(crl_from_x509__number_zero__empty_magnitude),
		cmocka_unit_test(crl_from_x509__no_number__hex_none),
		cmocka_unit_test(crl_from_x509__number_20_octets_top_bit__ok),
		cmocka_unit_test(crl_from_x509__number_21_octets__malformed),
		cmocka_unit_test(crl_from_x509__number_negative__malformed),
		cmocka_unit_test(crl_mark_age__numbers__ordered_by_value),
		cmocka_unit_test(crl_mark_age__numbers__win_over_this_update),
		cmocka_unit_test(crl_mark_age__without_numbers__ordered_by_this_update),
		cmocka_unit_test(crl_mark_age__one_without_number__ordered_by_this_update),
		cmocka_unit_test(crl_mark_stream__same_ca_without_idp__true),
		cmocka_unit_test(crl_mark_stream__other_ca__false),
		cmocka_unit_test(crl_mark_stream__same_ca_other_idp__false),
		cmocka_unit_test(crl_mark_stream__same_ca_same_idp__true),
		cmocka_unit_test(crl_covers__no_idp__leaf_and_ca),
		cmocka_unit_test(crl_covers__user_only_leaf__true),
		cmocka_unit_test(crl_covers__user_only_ca_cert__false),
		cmocka_unit_test(crl_covers__ca_only_ca_cert__true),
		cmocka_unit_test(crl_covers__ca_only_leaf__false),
		cmocka_unit_test(crl_covers__attr_only__false),
		cmocka_unit_test(crl_covers__indirect__false),
		cmocka_unit_test(crl_covers__idp_name_matching_crldp__true),
		cmocka_unit_test(crl_covers__idp_name_not_matching_crldp__false),
		cmocka_unit_test(crl_covers__idp_name_cert_without_crldp__false),
		cmocka_unit_test(crl_covers__idp_name_and_user_only__both_apply),
		cmocka_unit_test(crl_covers__idp_relative_name_cert_full_dn__true),
		cmocka_unit_test(crl_covers__idp_relative_name_cert_other_dn__false),
		cmocka_unit_test(crl_covers__idp_full_dn_cert_relative_name__true),
		cmocka_unit_test(crl_covers__idp_full_dn_cert_other_relative_name__false),
		cmocka_unit_test(crl_covers__relative_names_both_sides__equal_only),
		cmocka_unit_test(crl_covers__relative_name_under_other_crl_issuer__false),
		cmocka_unit_test(crl_covered_reasons__dp_without_reasons__all),
		cmocka_unit_test(crl_covered_reasons__dp_with_reasons__only_those),
		cmocka_unit_test(crl_covered_reasons__dp_reasons_and_only_some_reasons__intersection),
		cmocka_unit_test(crl_covered_reasons__two_dps_one_crl__union),
		cmocka_unit_test(crl_from_x509__only_some_reasons__reasons_mask),
		cmocka_unit_test(crl_from_x509__no_idp__all_reasons),
		cmocka_unit_test(crl_from_x509__entries__indexed_with_reason_and_date),
		cmocka_unit_test(crl_from_x509__entries__unlisted_serial_not_found),
		cmocka_unit_test(crl_from_x509__duplicate_serial__one_entry_earliest_date),
		cmocka_unit_test(crl_index__one_byte_serial__found),
		cmocka_unit_test(crl_index__twenty_byte_serial__found),
		cmocka_unit_test(crl_index__top_bit_serial__found),
		cmocka_unit_test(crl_asn1_time__valid_and_null),
		cmocka_unit_test(crl_error_str__every_code__named),
		cmocka_unit_test(crl_ref__last_unref__frees),
	};

	return cmocka_run_group_tests_name("crl", tests, group_setup, group_teardown);
}
