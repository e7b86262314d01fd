/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test-only throw-away PKI built with OpenSSL 3: CAs, certificates and CRLs, made fresh for every run. */
#include "pki.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

/* Fails the running test, with OpenSSL's reasons on stderr. */
static void pki_fail(const char *what, int line)
{
	ERR_print_errors_fp(stderr);
	fail_msg("pki.c line %d: %s failed", line, what);
}

#define need(cond, what)                              \
	do {                                          \
		if (!(cond))                          \
			pki_fail((what), __LINE__);   \
	} while (0)

#define DAY (24L * 3600)

EVP_PKEY *pki_key_new(bool rsa)
{
	EVP_PKEY *k = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");

	need(k != NULL, "key generation");
	return k;
}

static X509_NAME *make_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	need(n != NULL, "X509_NAME_new");
	need(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"crlsync test", -1, -1, 0),
	     "O");
	need(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0), "CN");
	return n;
}

static ASN1_INTEGER *integer_of(const unsigned char *mag, size_t len, bool negative)
{
	BIGNUM *bn = BN_bin2bn(mag, (int)len, NULL);
	ASN1_INTEGER *ai;

	need(bn != NULL, "BN_bin2bn");
	BN_set_negative(bn, negative);
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	need(ai != NULL, "BN_to_ASN1_INTEGER");
	BN_free(bn);
	return ai;
}

/* A GENERAL_NAMES holding one URI. */
static GENERAL_NAMES *uri_names(const char *uri)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	GENERAL_NAME *gen = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	need(gens != NULL && gen != NULL && s != NULL, "GENERAL_NAMES");
	need(ASN1_STRING_set(s, uri, -1), "ASN1_STRING_set");
	GENERAL_NAME_set0_value(gen, GEN_URI, s);
	need(sk_GENERAL_NAME_push(gens, gen), "push");
	return gens;
}

X509_NAME *pki_name(const char *text)
{
	X509_NAME *n = X509_NAME_new();
	char *copy = strdup(text), *save = NULL;

	need(n != NULL && copy != NULL, "pki_name");
	for (char *rdn = strtok_r(copy, ",", &save); rdn != NULL; rdn = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(rdn, '=');

		need(eq != NULL, text);
		*eq = '\0';
		need(X509_NAME_add_entry_by_txt(n, rdn, MBSTRING_UTF8, (const unsigned char *)eq + 1, -1, -1, 0), text);
	}
	free(copy);
	return n;
}

/* A DistributionPointName from one of uri, dn (fullName) or rdn (nameRelativeToCRLIssuer). */
static DIST_POINT_NAME *dp_name(const char *uri, const char *dn, const char *rdn)
{
	DIST_POINT_NAME *dpn = DIST_POINT_NAME_new();

	need(dpn != NULL, "DIST_POINT_NAME_new");
	if (rdn != NULL) {
		X509_NAME *n = pki_name(rdn);

		dpn->type = 1;
		dpn->name.relativename = sk_X509_NAME_ENTRY_new_null();
		need(dpn->name.relativename != NULL, "relativename");
		for (int i = 0; i < X509_NAME_entry_count(n); i++)
			need(sk_X509_NAME_ENTRY_push(dpn->name.relativename,
						     X509_NAME_ENTRY_dup(X509_NAME_get_entry(n, i))), "push RDN");
		X509_NAME_free(n);
		return dpn;
	}
	dpn->type = 0;
	if (uri != NULL) {
		dpn->name.fullname = uri_names(uri);
	} else {
		GENERAL_NAME *gen = GENERAL_NAME_new();

		need(dn != NULL && gen != NULL, "a DP name");
		dpn->name.fullname = GENERAL_NAMES_new();
		need(dpn->name.fullname != NULL, "GENERAL_NAMES_new");
		GENERAL_NAME_set0_value(gen, GEN_DIRNAME, pki_name(dn));
		need(sk_GENERAL_NAME_push(dpn->name.fullname, gen), "push");
	}
	return dpn;
}

static ASN1_BIT_STRING *reason_bits_of(unsigned bits)
{
	ASN1_BIT_STRING *bs = ASN1_BIT_STRING_new();

	need(bs != NULL, "ASN1_BIT_STRING_new");
	for (int i = 0; i < 9; i++)
		if (bits & (1U << i))
			need(ASN1_BIT_STRING_set_bit(bs, i, 1), "set_bit");
	return bs;
}

static void add_conf_ext(X509 *x, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, nid, value);

	need(ext != NULL, value);
	need(X509_add_ext(x, ext, -1), "X509_add_ext");
	X509_EXTENSION_free(ext);
}

static void add_skid(X509 *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();

	/* RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
	need(X509_pubkey_digest(x, EVP_sha1(), md, &mdlen), "X509_pubkey_digest");
	need(os != NULL && ASN1_OCTET_STRING_set(os, md, (int)mdlen), "SKID");
	need(X509_add1_ext_i2d(x, NID_subject_key_identifier, os, 0, X509V3_ADD_DEFAULT), "add SKID");
	ASN1_OCTET_STRING_free(os);
}

static AUTHORITY_KEYID *akid_of(X509 *issuer)
{
	const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(issuer);
	AUTHORITY_KEYID *akid;

	if (skid == NULL)
		return NULL;
	akid = AUTHORITY_KEYID_new();
	need(akid != NULL, "AUTHORITY_KEYID_new");
	akid->keyid = ASN1_OCTET_STRING_dup(skid);
	need(akid->keyid != NULL, "dup keyid");
	return akid;
}

static void add_akid(X509 *x, X509 *issuer)
{
	AUTHORITY_KEYID *akid = akid_of(issuer);

	if (akid == NULL)
		return;
	need(X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT), "add AKID");
	AUTHORITY_KEYID_free(akid);
}

static void set_random_serial(X509 *x)
{
	unsigned char s[8];
	ASN1_INTEGER *ai;

	need(RAND_bytes(s, sizeof(s)) == 1, "RAND_bytes");
	s[0] = (unsigned char)((s[0] & 0x7F) | 0x10);
	ai = integer_of(s, sizeof(s), false);
	need(X509_set_serialNumber(x, ai), "X509_set_serialNumber");
	ASN1_INTEGER_free(ai);
}

static void set_validity(X509 *x)
{
	time_t now = time(NULL);

	need(X509_time_adj_ex(X509_getm_notBefore(x), 0, -DAY, &now) != NULL, "notBefore");
	need(X509_time_adj_ex(X509_getm_notAfter(x), 3650, 0, &now) != NULL, "notAfter");
}

/* Re-decodes a certificate from its DER, so cached extension data is what a parser sees. */
static X509 *reparse_cert(X509 *x)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int len = i2d_X509(x, &der);
	X509 *y;

	need(len > 0, "i2d_X509");
	p = der;
	y = d2i_X509(NULL, &p, len);
	need(y != NULL, "d2i_X509");
	OPENSSL_free(der);
	X509_free(x);
	return y;
}

struct pki_ca *pki_ca_new(const char *cn, const struct pki_ca *parent, unsigned flags)
{
	struct pki_ca *ca = calloc(1, sizeof(*ca));
	X509_NAME *name = make_name(cn);
	X509 *x;

	need(ca != NULL, "calloc");
	ca->key = pki_key_new((flags & PKI_CA_RSA) != 0);
	x = X509_new();
	need(x != NULL, "X509_new");
	need(X509_set_version(x, X509_VERSION_3), "X509_set_version");
	set_random_serial(x);
	need(X509_set_subject_name(x, name), "subject");
	need(X509_set_issuer_name(x, parent ? X509_get_subject_name(parent->cert) : name), "issuer");
	set_validity(x);
	need(X509_set_pubkey(x, ca->key), "X509_set_pubkey");
	add_conf_ext(x, NID_basic_constraints, "critical,CA:TRUE");
	if (flags & PKI_CA_NO_CRL_SIGN)
		add_conf_ext(x, NID_key_usage, "critical,keyCertSign");
	else if (!(flags & PKI_CA_NO_KEY_USAGE))
		add_conf_ext(x, NID_key_usage, "critical,keyCertSign,cRLSign");
	if (!(flags & PKI_CA_NO_SKID))
		add_skid(x);
	add_akid(x, parent ? parent->cert : x);
	need(X509_sign(x, parent ? parent->key : ca->key, EVP_sha256()) > 0, "X509_sign");
	ca->cert = reparse_cert(x);
	X509_NAME_free(name);
	return ca;
}

void pki_ca_free(struct pki_ca *ca)
{
	if (ca == NULL)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	free(ca);
}

static EVP_PKEY *leaf_key;

static void free_leaf_key(void)
{
	EVP_PKEY_free(leaf_key);
	leaf_key = NULL;
}

X509 *pki_leaf_new(const struct pki_ca *issuer, const char *cn, const struct pki_leaf_opts *opts)
{
	static const unsigned char one = 0x01;
	struct pki_leaf_opts o = { 0 };
	X509_NAME *name = make_name(cn);
	ASN1_INTEGER *sn;
	X509 *x = X509_new();

	/* Nothing is ever signed with a leaf's key: one key for all of them saves time under valgrind. */
	if (leaf_key == NULL) {
		leaf_key = pki_key_new(false);
		atexit(free_leaf_key);
	}
	if (opts != NULL)
		o = *opts;
	if (o.serial == NULL) {
		o.serial = &one;
		o.serial_len = 1;
	}
	need(x != NULL, "X509_new");
	need(X509_set_version(x, X509_VERSION_3), "X509_set_version");
	sn = integer_of(o.serial, o.serial_len, false);
	need(X509_set_serialNumber(x, sn), "X509_set_serialNumber");
	ASN1_INTEGER_free(sn);
	need(X509_set_subject_name(x, name), "subject");
	need(X509_set_issuer_name(x, X509_get_subject_name(issuer->cert)), "issuer");
	set_validity(x);
	need(X509_set_pubkey(x, leaf_key), "X509_set_pubkey");
	if (o.ca) {
		add_conf_ext(x, NID_basic_constraints, "critical,CA:TRUE");
		add_conf_ext(x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_conf_ext(x, NID_basic_constraints, "critical,CA:FALSE");
		add_conf_ext(x, NID_key_usage, "critical,digitalSignature");
	}
	add_skid(x);
	if (!o.no_akid)
		add_akid(x, issuer->cert);
	if (o.crldp_uri != NULL || o.n_dps > 0) {
		CRL_DIST_POINTS *dps = sk_DIST_POINT_new_null();

		need(dps != NULL, "sk_DIST_POINT_new_null");
		for (size_t i = o.crldp_uri != NULL ? 0 : 1; i <= o.n_dps; i++) {
			const struct pki_dp uri_dp = { .uri = o.crldp_uri }, *d = i == 0 ? &uri_dp : &o.dps[i - 1];
			DIST_POINT *dp = DIST_POINT_new();

			need(dp != NULL, "DIST_POINT_new");
			if (d->uri != NULL || d->dn != NULL || d->rdn != NULL)
				dp->distpoint = dp_name(d->uri, d->dn, d->rdn);
			if (d->reason_bits != 0)
				dp->reasons = reason_bits_of(d->reason_bits);
			if (d->crl_issuer != NULL) {
				GENERAL_NAME *gen = GENERAL_NAME_new();

				dp->CRLissuer = GENERAL_NAMES_new();
				need(gen != NULL && dp->CRLissuer != NULL, "cRLIssuer");
				GENERAL_NAME_set0_value(gen, GEN_DIRNAME, pki_name(d->crl_issuer));
				need(sk_GENERAL_NAME_push(dp->CRLissuer, gen), "push");
			}
			need(sk_DIST_POINT_push(dps, dp), "push");
		}
		need(X509_add1_ext_i2d(x, NID_crl_distribution_points, dps, 0, X509V3_ADD_DEFAULT), "add CRLDP");
		sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	}
	need(X509_sign(x, issuer->key, EVP_sha256()) > 0, "X509_sign");
	X509_NAME_free(name);
	return reparse_cert(x);
}

static X509_EXTENSION *unknown_ext(bool critical)
{
	static const unsigned char der_null[] = { 0x05, 0x00 };
	ASN1_OBJECT *obj = OBJ_txt2obj(PKI_UNKNOWN_EXT_OID, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext;

	need(obj != NULL && os != NULL, "OBJ_txt2obj");
	need(ASN1_OCTET_STRING_set(os, der_null, sizeof(der_null)), "ASN1_OCTET_STRING_set");
	ext = X509_EXTENSION_create_by_OBJ(NULL, obj, critical ? 1 : 0, os);
	need(ext != NULL, "X509_EXTENSION_create_by_OBJ");
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(os);
	return ext;
}

static ASN1_TIME *time_of(time_t t)
{
	ASN1_TIME *a = ASN1_TIME_set(NULL, t);

	need(a != NULL, "ASN1_TIME_set");
	return a;
}

static void add_entry(X509_CRL *crl, const struct pki_crl_entry *e, time_t this_update)
{
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_INTEGER *sn = integer_of(e->serial, e->serial_len, false);
	ASN1_TIME *when = time_of(e->revoked_at ? e->revoked_at : this_update - 60);

	need(rev != NULL, "X509_REVOKED_new");
	need(X509_REVOKED_set_serialNumber(rev, sn), "X509_REVOKED_set_serialNumber");
	need(X509_REVOKED_set_revocationDate(rev, when), "X509_REVOKED_set_revocationDate");
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(when);
	if (e->reason >= 0) {
		ASN1_ENUMERATED *r = ASN1_ENUMERATED_new();

		need(r != NULL && ASN1_ENUMERATED_set(r, e->reason), "reasonCode");
		need(X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, r, 0, X509V3_ADD_DEFAULT), "add reasonCode");
		ASN1_ENUMERATED_free(r);
	}
	if (e->cert_issuer_cn != NULL) {
		GENERAL_NAMES *gens = GENERAL_NAMES_new();
		GENERAL_NAME *gen = GENERAL_NAME_new();

		need(gens != NULL && gen != NULL, "GENERAL_NAMES_new");
		GENERAL_NAME_set0_value(gen, GEN_DIRNAME, make_name(e->cert_issuer_cn));
		need(sk_GENERAL_NAME_push(gens, gen), "push");
		need(X509_REVOKED_add1_ext_i2d(rev, NID_certificate_issuer, gens, 1, X509V3_ADD_DEFAULT),
		     "add certificateIssuer");
		GENERAL_NAMES_free(gens);
	}
	if (e->unknown_critical || e->unknown_noncritical) {
		X509_EXTENSION *ext = unknown_ext(e->unknown_critical);

		need(X509_REVOKED_add_ext(rev, ext, -1), "X509_REVOKED_add_ext");
		X509_EXTENSION_free(ext);
	}
	need(X509_CRL_add0_revoked(crl, rev), "X509_CRL_add0_revoked");
}

static void add_idp(X509_CRL *crl, const struct pki_crl_opts *o)
{
	ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();

	need(idp != NULL, "ISSUING_DIST_POINT_new");
	idp->onlyuser = (o->idp & PKI_IDP_USER_ONLY) ? 0xFF : 0;
	idp->onlyCA = (o->idp & PKI_IDP_CA_ONLY) ? 0xFF : 0;
	idp->onlyattr = (o->idp & PKI_IDP_ATTR_ONLY) ? 0xFF : 0;
	idp->indirectCRL = (o->idp & PKI_IDP_INDIRECT) ? 0xFF : 0;
	if (o->idp_reason_bits != 0)
		idp->onlysomereasons = reason_bits_of(o->idp_reason_bits);
	if (o->idp_uri != NULL || o->idp_dn != NULL || o->idp_rdn != NULL)
		idp->distpoint = dp_name(o->idp_uri, o->idp_dn, o->idp_rdn);
	/* RFC 5280 §5.2.5: the extension is critical. */
	need(X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, X509V3_ADD_DEFAULT), "add IDP");
	ISSUING_DIST_POINT_free(idp);
}

X509_CRL *pki_crl_new(const struct pki_crl_opts *o)
{
	X509_CRL *crl = X509_CRL_new(), *out;
	time_t tu = o->this_update ? o->this_update : time(NULL) - 3600;
	ASN1_TIME *t;
	unsigned char *der = NULL;
	const unsigned char *p;
	int len;

	need(o->issuer != NULL, "an issuer");
	need(crl != NULL, "X509_CRL_new");
	need(X509_CRL_set_version(crl, X509_CRL_VERSION_2), "X509_CRL_set_version");
	need(X509_CRL_set_issuer_name(crl, X509_get_subject_name(o->issuer->cert)), "X509_CRL_set_issuer_name");
	t = time_of(tu);
	need(X509_CRL_set1_lastUpdate(crl, t), "X509_CRL_set1_lastUpdate");
	ASN1_TIME_free(t);
	if (!o->no_next_update) {
		t = time_of(o->next_update ? o->next_update : tu + 7 * DAY);
		need(X509_CRL_set1_nextUpdate(crl, t), "X509_CRL_set1_nextUpdate");
		ASN1_TIME_free(t);
	}
	for (size_t i = 0; i < o->n_entries; i++)
		add_entry(crl, &o->entries[i], tu);
	if (!o->no_aki) {
		AUTHORITY_KEYID *akid = akid_of(o->aki_from ? o->aki_from->cert : o->issuer->cert);

		if (akid != NULL) {
			need(X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT),
			     "add AKI");
			AUTHORITY_KEYID_free(akid);
		}
	}
	if (o->number != NULL) {
		ASN1_INTEGER *n = integer_of(o->number, o->number_len, o->number_negative);

		need(X509_CRL_add1_ext_i2d(crl, NID_crl_number, n, 0, X509V3_ADD_DEFAULT), "add cRLNumber");
		ASN1_INTEGER_free(n);
	}
	if (o->delta) {
		static const unsigned char one = 1;
		ASN1_INTEGER *base = o->delta_base ? integer_of(o->delta_base, o->delta_base_len, false)
						   : integer_of(&one, 1, false);

		need(X509_CRL_add1_ext_i2d(crl, NID_delta_crl, base, o->delta_noncritical ? 0 : 1, X509V3_ADD_DEFAULT),
		     "add deltaCRLIndicator");
		ASN1_INTEGER_free(base);
	}
	if (o->freshest_uri != NULL) {
		STACK_OF(DIST_POINT) *dps = sk_DIST_POINT_new_null();
		DIST_POINT *dp = DIST_POINT_new();

		need(dps != NULL && dp != NULL && (dp->distpoint = DIST_POINT_NAME_new()) != NULL, "DIST_POINT_new");
		dp->distpoint->type = 0;
		dp->distpoint->name.fullname = uri_names(o->freshest_uri);
		need(sk_DIST_POINT_push(dps, dp) > 0, "sk_DIST_POINT_push");
		need(X509_CRL_add1_ext_i2d(crl, NID_freshest_crl, dps, 0, X509V3_ADD_DEFAULT), "add freshestCRL");
		sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	}
	if (o->ms_exts) {
		/* AD CS: CA Version (1.3.6.1.4.1.311.21.1) INTEGER 0, Next CRL Publish (.21.4) UTCTime. */
		static const unsigned char ver[] = { 0x02, 0x01, 0x00 };
		static const unsigned char next[] = { 0x17, 0x0D, '3', '0', '0', '1', '0', '1', '0', '0', '0', '0', '0', '0', 'Z' };
		const struct { const char *oid; const unsigned char *v; size_t n; } ms[] = {
			{ "1.3.6.1.4.1.311.21.1", ver, sizeof(ver) },
			{ "1.3.6.1.4.1.311.21.4", next, sizeof(next) },
		};

		for (size_t i = 0; i < 2; i++) {
			ASN1_OBJECT *obj = OBJ_txt2obj(ms[i].oid, 1);
			ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
			X509_EXTENSION *ext;

			need(obj != NULL && os != NULL && ASN1_OCTET_STRING_set(os, ms[i].v, (int)ms[i].n), "MS ext");
			ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
			need(ext != NULL && X509_CRL_add_ext(crl, ext, -1), "X509_CRL_add_ext");
			X509_EXTENSION_free(ext);
			ASN1_OBJECT_free(obj);
			ASN1_OCTET_STRING_free(os);
		}
	}
	if (o->idp || o->idp_reason_bits || o->idp_uri || o->idp_dn || o->idp_rdn)
		add_idp(crl, o);
	if (o->unknown_critical || o->unknown_noncritical || o->dup_unknown) {
		X509_EXTENSION *ext = unknown_ext(o->unknown_critical);

		need(X509_CRL_add_ext(crl, ext, -1), "X509_CRL_add_ext");
		if (o->dup_unknown)
			need(X509_CRL_add_ext(crl, ext, -1), "X509_CRL_add_ext");
		X509_EXTENSION_free(ext);
	}
	need(X509_CRL_sort(crl), "X509_CRL_sort");
	need(X509_CRL_sign(crl, o->sign_key ? o->sign_key : o->issuer->key, o->md ? o->md : EVP_sha256()) > 0,
	     "X509_CRL_sign");
	if (o->raw)
		return crl;
	len = i2d_X509_CRL(crl, &der);
	need(len > 0, "i2d_X509_CRL");
	p = der;
	out = d2i_X509_CRL(NULL, &p, len);
	need(out != NULL, "d2i_X509_CRL of our own CRL");
	OPENSSL_free(der);
	X509_CRL_free(crl);
	return out;
}

unsigned char *pki_crl_der(X509_CRL *crl, size_t *len)
{
	unsigned char *der = NULL, *copy;
	int n = i2d_X509_CRL(crl, &der);

	need(n > 0, "i2d_X509_CRL");
	copy = malloc((size_t)n);
	need(copy != NULL, "malloc");
	memcpy(copy, der, (size_t)n);
	OPENSSL_free(der);
	*len = (size_t)n;
	return copy;
}

char *pki_crl_pem(X509_CRL *crl, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *copy;
	long n;

	need(b != NULL, "BIO_new");
	need(PEM_write_bio_X509_CRL(b, crl), "PEM_write_bio_X509_CRL");
	n = BIO_get_mem_data(b, &p);
	need(n > 0, "BIO_get_mem_data");
	copy = malloc((size_t)n + 1);
	need(copy != NULL, "malloc");
	memcpy(copy, p, (size_t)n);
	copy[n] = '\0';
	*len = (size_t)n;
	BIO_free(b);
	return copy;
}

void pki_write_file(const char *path, const void *buf, size_t len)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path) : 1;
	int fd;

	snprintf(tmp, sizeof(tmp), "%.*s/.pki-XXXXXX", dirlen, slash ? path : ".");
	fd = mkstemp(tmp);
	need(fd >= 0, "mkstemp");
	need(len == 0 || write(fd, buf, len) == (ssize_t)len, "write");
	need(close(fd) == 0, "close");
	need(rename(tmp, path) == 0, "rename");
}

void pki_crl_write(const char *path, X509_CRL *crl, bool pem)
{
	size_t len;
	void *buf = pem ? (void *)pki_crl_pem(crl, &len) : (void *)pki_crl_der(crl, &len);

	pki_write_file(path, buf, len);
	free(buf);
}

char *pki_tmpdir(void)
{
	const char *base = getenv("CRLSYNC_TEST_TMP"); /* set by ctest: the build tree's tmp/ */
	char *dir = NULL;

	if (base == NULL || base[0] == '\0')
		base = getenv("TMPDIR");

	need(asprintf(&dir, "%s/crlsync-unit-XXXXXX", base && base[0] ? base : "/tmp") > 0, "asprintf");
	need(mkdtemp(dir) != NULL, "mkdtemp");
	return dir;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void pki_rmtree(const char *path)
{
	if (path != NULL)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *pki_path(const char *dir, const char *name)
{
	static char bufs[8][PATH_MAX];
	static unsigned next;
	char *b = bufs[next++ % 8];

	snprintf(b, PATH_MAX, "%s/%s", dir, name);
	return b;
}
