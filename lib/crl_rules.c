/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The CRL rules (RFC 5280 §5, §6.3.3) fed by both loaders, and the verified, reference-counted struct crl they build. */
#include "crl_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "crlsync/crl.h"
#include "crlsync/crl_index.h"
#include "crlsync/fmt.h"
#include "crlsync/log.h"

bool crl_asn1_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return false;
	*out = timegm(&tm);
	return true;
}

/* Extension OIDs we understand at CRL level (RFC 5280 §5.2). */
static bool crl_ext_known(int nid)
{
	switch (nid) {
	case NID_authority_key_identifier:
	case NID_issuer_alt_name:
	case NID_crl_number:
	case NID_delta_crl:
	case NID_issuing_distribution_point:
	case NID_freshest_crl:
		return true;
	default:
		return false;
	}
}

/* ... and at entry level (§5.3). certificateIssuer is judged by crl_rules_entry_ext(). */
bool crl_rules_entry_ext_known(int nid)
{
	switch (nid) {
	case NID_crl_reason:
	case NID_invalidity_date:
	case NID_hold_instruction_code:
	case NID_certificate_issuer:
		return true;
	default:
		return false;
	}
}

static void oid_text(const X509_EXTENSION *ext, char *buf, size_t len)
{
	if (OBJ_obj2txt(buf, (int)len, X509_EXTENSION_get_object((X509_EXTENSION *)ext), 1) <= 0)
		snprintf(buf, len, "?");
}

enum crl_error crl_rules_entry_ext(const X509_EXTENSION *ext, unsigned crl_flags, const char *serial_hex, char *err,
				   size_t errlen)
{
	int nid = OBJ_obj2nid(X509_EXTENSION_get_object((X509_EXTENSION *)ext));
	char oid[80];

	if (!crl_rules_entry_ext_known(nid) && X509_EXTENSION_get_critical(ext)) {
		oid_text(ext, oid, sizeof(oid));
		snprintf(err, errlen, "entry %s: unrecognised critical extension %s (RFC 5280 5.3)", serial_hex, oid);
		return CRL_E_CRITICAL_EXT;
	}
	/* §5.3.3: certificateIssuer only belongs in indirect CRLs, which we do not use. */
	if (nid == NID_certificate_issuer && !(crl_flags & CRL_IDP_INDIRECT)) {
		snprintf(err, errlen, "entry %s: certificateIssuer in a CRL that is not indirect", serial_hex);
		return CRL_E_MALFORMED;
	}
	return CRL_OK;
}

enum crl_error crl_rules_reason(long code, const char *serial_hex, char *err, size_t errlen)
{
	if (crl_rules_reason_ok(code))
		return CRL_OK;
	snprintf(err, errlen, "entry %s: invalid reasonCode %ld", serial_hex, code);
	return CRL_E_MALFORMED;
}

/* ReasonFlags bit (RFC 5280 §4.2.1.13) -> bit (1 << CRLReason code). */
static unsigned reasons_from_bits(const ASN1_BIT_STRING *bs)
{
	static const int map[9] = { -1, 1, 2, 3, 4, 5, 6, 9, 10 };
	unsigned m = 0;

	for (int i = 1; i < 9; i++)
		if (ASN1_BIT_STRING_get_bit(bs, i))
			m |= 1U << map[i];
	return m;
}

static bool ca_matches_crl(X509 *ca, X509_CRL *x, const AUTHORITY_KEYID *akid)
{
	const ASN1_OCTET_STRING *skid;

	if (X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(x)) != 0)
		return false;
	skid = X509_get0_subject_key_id(ca);
	if (akid != NULL && akid->keyid != NULL && skid != NULL && ASN1_OCTET_STRING_cmp(akid->keyid, skid) != 0)
		return false;
	return true;
}

static enum crl_error find_signer(const struct crl_source *src, X509 *const *cas, size_t n_cas, const char *issuer,
				  X509 **signer, char *err, size_t errlen)
{
	X509_CRL *x = src->x;
	AUTHORITY_KEYID *akid;
	bool name_match = false, ku_fail = false;
	int crit = -1, v;
	enum crl_error r;

	*signer = NULL;
	akid = X509_CRL_get_ext_d2i(x, NID_authority_key_identifier, &crit, NULL);
	if (akid == NULL && crit == -2) {
		snprintf(err, errlen, "duplicate authorityKeyIdentifier extension");
		return CRL_E_MALFORMED;
	}
	for (size_t i = 0; i < n_cas; i++) {
		if (cas[i] == NULL || !ca_matches_crl(cas[i], x, akid))
			continue;
		name_match = true;
		/* RFC 5280 §4.2.1.3: a CRL signer with keyUsage must assert cRLSign. */
		if (!(X509_get_key_usage(cas[i]) & KU_CRL_SIGN)) {
			ku_fail = true;
			continue;
		}
		ERR_clear_error();
		v = src->verify(src, X509_get0_pubkey(cas[i]));
		if (v < 0) {
			r = CRL_E_FALLBACK;
			goto out;
		}
		if (v == 1) {
			*signer = cas[i];
			r = CRL_OK;
			goto out;
		}
	}
	if (!name_match) {
		snprintf(err, errlen, "no configured ca is the issuer %s%s", issuer,
			 akid && akid->keyid ? " (with its authority key identifier)" : "");
		r = CRL_E_NO_CA;
	} else if (ku_fail) {
		snprintf(err, errlen, "the configured ca %s does not allow cRLSign in its keyUsage", issuer);
		r = CRL_E_KEY_USAGE;
	} else {
		char ssl[200];

		log_ssl_errors(ssl, sizeof(ssl));
		snprintf(err, errlen, "signature does not verify against the configured ca %s%s%s", issuer,
			 ssl[0] ? ": " : "", ssl);
		r = CRL_E_SIGNATURE;
	}
out:
	AUTHORITY_KEYID_free(akid);
	ERR_clear_error();
	return r;
}

static enum crl_error check_crl_extensions(X509_CRL *x, struct crl *c, char *err, size_t errlen)
{
	const STACK_OF(X509_EXTENSION) *exts = X509_CRL_get0_extensions(x);
	char oid[80];

	for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));

		if (nid == NID_delta_crl) {
			/* RFC 5280 §5.2.4: "This extension MUST be marked critical." */
			if (!X509_EXTENSION_get_critical(ext)) {
				snprintf(err, errlen, "deltaCRLIndicator is not marked critical (RFC 5280 5.2.4)");
				return CRL_E_DELTA;
			}
			c->flags |= CRL_IS_DELTA;
		}
		if (!crl_ext_known(nid) && X509_EXTENSION_get_critical(ext)) {
			oid_text(ext, oid, sizeof(oid));
			snprintf(err, errlen, "unrecognised critical CRL extension %s (RFC 5280 5.2)", oid);
			return CRL_E_CRITICAL_EXT;
		}
		for (int j = i + 1; j < sk_X509_EXTENSION_num(exts); j++) {
			if (OBJ_cmp(X509_EXTENSION_get_object(ext),
				    X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, j))) == 0) {
				oid_text(ext, oid, sizeof(oid));
				snprintf(err, errlen, "extension %s appears twice", oid);
				return CRL_E_MALFORMED;
			}
		}
	}
	return CRL_OK;
}

/* A non-negative INTEGER of at most 20 octets (RFC 5280 §5.2.3, §5.2.4) into number/len. */
static enum crl_error crl_number_of(const ASN1_INTEGER *num, const char *what, unsigned char *number, size_t *len,
				    char *err, size_t errlen)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(num, NULL);
	enum crl_error r = CRL_OK;

	if (bn == NULL)
		return CRL_E_NOMEM;
	if (BN_is_negative(bn) || BN_num_bytes(bn) > CRL_NUMBER_MAX) {
		snprintf(err, errlen, "%s is negative or longer than 20 octets", what);
		r = CRL_E_MALFORMED;
	} else {
		*len = (size_t)BN_bn2bin(bn, number);
	}
	BN_free(bn);
	return r;
}

/* Big-endian magnitudes without leading zeros: <0, 0, >0. */
static int number_cmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return alen ? memcmp(a, b, alen) : 0;
}

/*
 * A delta CRL's BaseCRLNumber (§5.2.4), and its own cRLNumber, which must be there and higher:
 * delta and complete CRLs of one scope share one sequence of numbers.
 */
static enum crl_error read_delta(X509_CRL *x, struct crl *c, char *err, size_t errlen)
{
	ASN1_INTEGER *base;
	int crit = -1;
	enum crl_error r;

	base = X509_CRL_get_ext_d2i(x, NID_delta_crl, &crit, NULL);
	if (base == NULL) {
		snprintf(err, errlen, "deltaCRLIndicator (BaseCRLNumber) does not decode");
		return CRL_E_MALFORMED;
	}
	r = crl_number_of(base, "BaseCRLNumber", c->base_number, &c->base_number_len, err, errlen);
	ASN1_INTEGER_free(base);
	if (r != CRL_OK)
		return r;
	fmt_number(true, c->base_number, c->base_number_len, c->base_number_hex, sizeof(c->base_number_hex));
	if (!(c->flags & CRL_HAS_NUMBER)) {
		snprintf(err, errlen, "a delta CRL without a cRLNumber (RFC 5280 5.2.4)");
		return CRL_E_DELTA;
	}
	if (number_cmp(c->number, c->number_len, c->base_number, c->base_number_len) <= 0) {
		snprintf(err, errlen, "a delta CRL whose number %s is not higher than its BaseCRLNumber %s", c->number_hex,
			 c->base_number_hex);
		return CRL_E_DELTA;
	}
	return CRL_OK;
}

static bool url_is_http(const char *u, size_t n)
{
	return (n > 7 && strncasecmp(u, "http://", 7) == 0) || (n > 8 && strncasecmp(u, "https://", 8) == 0);
}

/*
 * A complete CRL's FreshestCRL (§5.2.6): the http(s) URIs of its fullNames, where the fetcher finds
 * the delta. One that does not decode is malformed, as any other extension we rely on.
 */
static enum crl_error read_freshest(X509_CRL *x, struct crl *c, char *err, size_t errlen)
{
	STACK_OF(DIST_POINT) *dps;
	int crit = -1;
	enum crl_error r = CRL_OK;

	dps = X509_CRL_get_ext_d2i(x, NID_freshest_crl, &crit, NULL);
	if (dps == NULL) {
		if (crit != -1) {
			snprintf(err, errlen, "freshestCRL extension does not decode");
			return CRL_E_MALFORMED;
		}
		return CRL_OK;
	}
	for (int i = 0; r == CRL_OK && i < sk_DIST_POINT_num(dps); i++) {
		const DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		for (int k = 0; k < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); k++) {
			const GENERAL_NAME *gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, k);
			const unsigned char *u;
			size_t n;
			char **v;

			if (gn->type != GEN_URI)
				continue;
			u = ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
			n = (size_t)ASN1_STRING_length(gn->d.uniformResourceIdentifier);
			/* Only plain printable URLs: no NUL, space or control character can hide in one. */
			if (!url_is_http((const char *)u, n) || n > 2048)
				continue;
			for (size_t m = 0; m < n && u != NULL; m++)
				if (u[m] <= 0x20 || u[m] >= 0x7f)
					u = NULL;
			if (u == NULL || c->n_freshest_urls >= 8)
				continue;
			v = realloc(c->freshest_urls, (c->n_freshest_urls + 1) * sizeof(*v));
			if (v == NULL || (v[c->n_freshest_urls] = strndup((const char *)u, n)) == NULL) {
				if (v != NULL)
					c->freshest_urls = v;
				r = CRL_E_NOMEM;
				break;
			}
			c->freshest_urls = v;
			c->n_freshest_urls++;
		}
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return r;
}

static enum crl_error read_number(X509_CRL *x, struct crl *c, char *err, size_t errlen)
{
	ASN1_INTEGER *num;
	int crit = -1;
	enum crl_error r;

	num = X509_CRL_get_ext_d2i(x, NID_crl_number, &crit, NULL);
	if (num == NULL) {
		if (crit != -1) {
			snprintf(err, errlen, "cRLNumber extension does not decode");
			return CRL_E_MALFORMED;
		}
		fmt_number(false, NULL, 0, c->number_hex, sizeof(c->number_hex));
		return CRL_OK;
	}
	/* RFC 5280 §5.2.3: a non-negative integer of at most 20 octets. */
	r = crl_number_of(num, "cRLNumber", c->number, &c->number_len, err, errlen);
	ASN1_INTEGER_free(num);
	if (r != CRL_OK)
		return r;
	c->flags |= CRL_HAS_NUMBER;
	fmt_number(true, c->number, c->number_len, c->number_hex, sizeof(c->number_hex));
	return CRL_OK;
}

static enum crl_error read_idp(X509_CRL *x, struct crl *c, char *err, size_t errlen)
{
	ISSUING_DIST_POINT *idp;
	int crit = -1, idx, only = 0;
	enum crl_error r = CRL_OK;

	c->reasons = CRL_REASONS_ALL;
	idp = X509_CRL_get_ext_d2i(x, NID_issuing_distribution_point, &crit, NULL);
	if (idp == NULL) {
		if (crit != -1) {
			snprintf(err, errlen, "issuingDistributionPoint extension does not decode");
			return CRL_E_MALFORMED;
		}
		return CRL_OK;
	}
	c->flags |= CRL_HAS_IDP;
	if (idp->onlyuser > 0) {
		c->flags |= CRL_IDP_USER_ONLY;
		only++;
	}
	if (idp->onlyCA > 0) {
		c->flags |= CRL_IDP_CA_ONLY;
		only++;
	}
	if (idp->onlyattr > 0) {
		c->flags |= CRL_IDP_ATTR_ONLY;
		only++;
	}
	if (only > 1) {
		/* RFC 5280 §5.2.5: at most one of the three may be TRUE. */
		snprintf(err, errlen, "issuingDistributionPoint asserts more than one of onlyContains*");
		r = CRL_E_MALFORMED;
		goto out;
	}
	if (idp->indirectCRL > 0)
		c->flags |= CRL_IDP_INDIRECT;
	if (idp->onlysomereasons != NULL) {
		c->flags |= CRL_IDP_SOME_REASONS;
		c->reasons = reasons_from_bits(idp->onlysomereasons);
	}
	if (idp->distpoint != NULL) {
		c->flags |= CRL_IDP_HAS_DP;
		c->idp_dp = idp->distpoint;
		idp->distpoint = NULL; /* transferred */
		/*
		 * §5.2.5: a nameRelativeToCRLIssuer stands for the CRL issuer's DN with it appended;
		 * OpenSSL keeps that DN in dpname (freed with the name), as its own validator does.
		 */
		if (!DIST_POINT_set_dpname(c->idp_dp, X509_CRL_get_issuer(x))) {
			r = CRL_E_NOMEM;
			goto out;
		}
	}
	/* The raw extension value is the stream key: CRLs of the same ca and scope replace each other. */
	idx = X509_CRL_get_ext_by_NID(x, NID_issuing_distribution_point, -1);
	if (idx >= 0) {
		const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_CRL_get_ext(x, idx));

		c->scope_len = (size_t)ASN1_STRING_length(v);
		c->scope = malloc(c->scope_len ? c->scope_len : 1);
		if (c->scope == NULL) {
			r = CRL_E_NOMEM;
			goto out;
		}
		memcpy(c->scope, ASN1_STRING_get0_data(v), c->scope_len);
	}
out:
	ISSUING_DIST_POINT_free(idp);
	return r;
}

struct crl *crl_ref(struct crl *c)
{
	if (c != NULL)
		atomic_fetch_add(&c->refs, 1);
	return c;
}

void crl_unref(struct crl *c)
{
	if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	free(c->origin);
	free(c->issuer_text);
	X509_free(c->ca);
	DIST_POINT_NAME_free(c->idp_dp);
	free(c->scope);
	for (size_t i = 0; i < c->n_freshest_urls; i++)
		free(c->freshest_urls[i]);
	free(c->freshest_urls);
	crl_index_free(c->index);
	free(c);
}

enum crl_error crl_rules_build(const struct crl_source *src, X509 *const *cas, size_t n_cas, time_t now,
			       const char *origin, struct crl **out, char *err, size_t errlen)
{
	X509_CRL *x = src->x;
	struct crl *c = NULL;
	X509 *signer = NULL;
	char t1[40], t2[40];
	enum crl_error r;

	*out = NULL;
	err[0] = '\0';
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CRL_E_NOMEM;
	atomic_init(&c->refs, 1);
	c->origin = strdup(origin ? origin : "?");
	c->issuer_text = fmt_name(X509_CRL_get_issuer(x));
	if (c->origin == NULL || c->issuer_text == NULL) {
		r = CRL_E_NOMEM;
		goto out;
	}
	/* Authenticity first: nothing else about an unsigned CRL is worth reporting. */
	r = find_signer(src, cas, n_cas, c->issuer_text, &signer, err, errlen);
	if (r != CRL_OK)
		goto out;
	if (!X509_up_ref(signer)) {
		r = CRL_E_NOMEM;
		goto out;
	}
	c->ca = signer;
	c->fast = src->fast;
	c->sig_nid = X509_CRL_get_signature_nid(x);
	if (!crl_asn1_time(X509_CRL_get0_lastUpdate(x), &c->this_update)) {
		snprintf(err, errlen, "thisUpdate does not decode");
		r = CRL_E_MALFORMED;
		goto out;
	}
	if (X509_CRL_get0_nextUpdate(x) != NULL) {
		if (!crl_asn1_time(X509_CRL_get0_nextUpdate(x), &c->next_update)) {
			snprintf(err, errlen, "nextUpdate does not decode");
			r = CRL_E_MALFORMED;
			goto out;
		}
		c->flags |= CRL_HAS_NEXT_UPDATE;
		if (c->next_update < c->this_update) {
			fmt_time(c->this_update, t1, sizeof(t1));
			fmt_time(c->next_update, t2, sizeof(t2));
			snprintf(err, errlen, "nextUpdate %s is before thisUpdate %s", t2, t1);
			r = CRL_E_MALFORMED;
			goto out;
		}
	}
	if (c->this_update > now + CRL_SKEW_SECONDS) {
		fmt_time(c->this_update, t1, sizeof(t1));
		fmt_time(now, t2, sizeof(t2));
		snprintf(err, errlen, "thisUpdate %s is in the future (now %s, %d s of skew allowed)", t1, t2,
			 CRL_SKEW_SECONDS);
		r = CRL_E_FUTURE;
		goto out;
	}
	r = check_crl_extensions(x, c, err, errlen);
	if (r != CRL_OK)
		goto out;
	r = read_number(x, c, err, errlen);
	if (r != CRL_OK)
		goto out;
	r = read_idp(x, c, err, errlen);
	if (r != CRL_OK)
		goto out;
	/* §5.2.6: FreshestCRL MUST NOT appear in a delta; one that does is ignored, never followed. */
	r = c->flags & CRL_IS_DELTA ? read_delta(x, c, err, errlen) : read_freshest(x, c, err, errlen);
	if (r != CRL_OK)
		goto out;
	/*
	 * The digest names the content. Before the entries, which may release the pages they have
	 * read (CRL_LOAD_DISCARD).
	 */
	if (!src->digest(src, c->digest)) {
		r = CRL_E_NOMEM;
		goto out;
	}
	r = src->entries(src, c, err, errlen);
	if (r != CRL_OK)
		goto out;
	*out = c;
	c = NULL; /* transferred */
	r = CRL_OK;
out:
	if (r == CRL_E_NOMEM && err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	crl_unref(c);
	ERR_clear_error();
	return r;
}

static bool names_intersect(const GENERAL_NAMES *a, const GENERAL_NAMES *b)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(a); i++)
		for (int j = 0; j < sk_GENERAL_NAME_num(b); j++)
			if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(a, i), sk_GENERAL_NAME_value(b, j)) == 0)
				return true;
	return false;
}

/*
 * Whether two DistributionPointNames name the same point (RFC 5280 §6.3.3 (b)(2)(i)). Two fullNames
 * share a GeneralName. A nameRelativeToCRLIssuer stands for its base DN with the relative name
 * appended (§4.2.1.13, §5.2.5): its dpname, set by DIST_POINT_set_dpname(), equals the other's
 * (both relative) or a directoryName of the other's fullName. X509_NAME_cmp() compares canonical
 * encodings, as OpenSSL's idp_check_dp() does: raw DER would miss a PrintableString/UTF8String pair.
 */
static bool dpname_match(const DIST_POINT_NAME *a, const DIST_POINT_NAME *b)
{
	const X509_NAME *nm;
	const GENERAL_NAMES *gens;

	if (a->type == 0 && b->type == 0)
		return names_intersect(a->name.fullname, b->name.fullname);
	if (a->type == 1 && b->type == 1)
		return a->dpname != NULL && b->dpname != NULL && X509_NAME_cmp(a->dpname, b->dpname) == 0;
	nm = a->type == 1 ? a->dpname : b->dpname;
	gens = a->type == 1 ? b->name.fullname : a->name.fullname;
	for (int i = 0; nm != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_DIRNAME && X509_NAME_cmp(nm, g->d.directoryName) == 0)
			return true;
	}
	return false;
}

/*
 * Whether the certificate's distribution point `dp` is one that `c` answers for (§6.3.3 (b)(2)(i)).
 * A DP whose cRLIssuer does not name c's issuer points at another issuer's (indirect) CRL. Without
 * an IDP name, c is the CRL of every DP of its own issuer; with one, the names must match: the DP's
 * relative name is appended to its cRLIssuer, else to the certificate's issuer (§4.2.1.13).
 */
static bool dp_answers(const struct crl *c, DIST_POINT *dp, X509 *cert)
{
	const X509_NAME *crl_issuer = X509_get_subject_name(c->ca), *base = NULL;
	bool by_issuer = dp->CRLissuer == NULL;

	for (int i = 0; i < sk_GENERAL_NAME_num(dp->CRLissuer); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(dp->CRLissuer, i);

		if (g->type != GEN_DIRNAME)
			continue;
		if (base == NULL)
			base = g->d.directoryName;
		if (X509_NAME_cmp(g->d.directoryName, crl_issuer) == 0)
			by_issuer = true;
	}
	if (!(c->flags & CRL_IDP_HAS_DP))
		return by_issuer;
	if (dp->distpoint == NULL)
		return c->idp_dp->type == 0 && dp->CRLissuer != NULL &&
		       names_intersect(c->idp_dp->name.fullname, dp->CRLissuer);
	if (!by_issuer)
		return false;
	/* Fails only out of memory: the DP then matches nothing, which fails closed (missing). */
	if (!DIST_POINT_set_dpname(dp->distpoint, base != NULL ? base : X509_get_issuer_name(cert)))
		return false;
	return dpname_match(c->idp_dp, dp->distpoint);
}

/* The certificate's cRLDistributionPoints, NULL when it has none (or they do not decode). */
static STACK_OF(DIST_POINT) *cert_dps(X509 *cert)
{
	if (X509_get_ext_by_NID(cert, NID_crl_distribution_points, -1) < 0)
		return NULL;
	return X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
}

/* RFC 5280 §6.3.3 (b)(2)(i): the IDP name must match a name of one of the certificate's DPs. */
static bool dp_matches(const struct crl *c, X509 *cert)
{
	STACK_OF(DIST_POINT) *dps = cert_dps(cert);
	bool ok = false;

	for (int i = 0; !ok && i < sk_DIST_POINT_num(dps); i++)
		ok = dp_answers(c, sk_DIST_POINT_value(dps, i), cert);
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return ok;
}

bool crl_covers(const struct crl *c, X509 *cert, const char **why)
{
	bool is_ca = (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;

	*why = NULL;
	if (c->flags & CRL_IDP_ATTR_ONLY)
		*why = "it covers attribute certificates only";
	else if (c->flags & CRL_IDP_INDIRECT)
		*why = "it is an indirect CRL, which is not supported";
	else if ((c->flags & CRL_IDP_USER_ONLY) && is_ca)
		*why = "it covers end-entity certificates only (onlyContainsUserCerts)";
	else if ((c->flags & CRL_IDP_CA_ONLY) && !is_ca)
		*why = "it covers CA certificates only (onlyContainsCACerts)";
	else if ((c->flags & CRL_IDP_HAS_DP) && !dp_matches(c, cert))
		*why = "its distribution point is not one of the certificate's";
	return *why == NULL;
}

unsigned crl_covered_reasons(const struct crl *c, X509 *cert)
{
	STACK_OF(DIST_POINT) *dps = cert_dps(cert);
	unsigned dp_reasons = 0;
	bool answered = false;

	/*
	 * §6.3.3 (d): a DP that carries reasons gets from its CRL those reasons only (intersected with
	 * onlySomeReasons). RFC 5280 walks the DPs one by one, so a CRL that answers several DPs
	 * covers the union of theirs (OpenSSL takes the first DP only).
	 */
	for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

		if (!dp_answers(c, dp, cert))
			continue;
		answered = true;
		dp_reasons |= dp->reasons != NULL ? reasons_from_bits(dp->reasons) : CRL_REASONS_ALL;
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	/* No DP of the certificate (or none of its issuer's) names a CRL: its issuer's CRL covers every reason. */
	if (!answered && !(c->flags & CRL_IDP_HAS_DP))
		dp_reasons = CRL_REASONS_ALL;
	return c->reasons & dp_reasons;
}

enum crl_delta_fit crl_delta_fit(const struct crl *delta, bool has_number, const unsigned char *number, size_t len)
{
	if (!(delta->flags & CRL_IS_DELTA))
		return CRL_DELTA_NOT_DELTA;
	if (!has_number)
		return CRL_DELTA_NO_NUMBER;
	/* §5.2.4: a delta with BaseCRLNumber M applies to a complete CRL numbered M or higher ... */
	if (number_cmp(delta->base_number, delta->base_number_len, number, len) > 0)
		return CRL_DELTA_NEWER_BASE;
	/* ... that it is newer than: otherwise the complete CRL already says more than it. */
	if (number_cmp(delta->number, delta->number_len, number, len) <= 0)
		return CRL_DELTA_NOT_NEWER;
	return CRL_DELTA_APPLIES;
}

/* The same issuer: the verifying ca's name and key (a re-issued ca certificate is the same issuer). */
static bool same_issuer(X509 *a, X509 *b)
{
	if (a == NULL || b == NULL)
		return false;
	return X509_NAME_cmp(X509_get_subject_name(a), X509_get_subject_name(b)) == 0 &&
	       EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(b)) == 1;
}

enum crl_delta_fit crl_delta_applies(const struct crl *base, const struct crl *delta)
{
	if ((base->flags & CRL_IS_DELTA) || !(delta->flags & CRL_IS_DELTA))
		return CRL_DELTA_NOT_DELTA;
	/* §5.2.4: the same issuer and the same scope (the IDP, byte for byte) as the complete CRL. */
	if (!same_issuer(base->ca, delta->ca) || (base->scope == NULL) != (delta->scope == NULL) ||
	    (base->scope != NULL && (base->scope_len != delta->scope_len ||
				     memcmp(base->scope, delta->scope, base->scope_len) != 0)))
		return CRL_DELTA_OTHER_STREAM;
	return crl_delta_fit(delta, (base->flags & CRL_HAS_NUMBER) != 0, base->number, base->number_len);
}

const char *crl_delta_fit_str(enum crl_delta_fit f)
{
	switch (f) {
	case CRL_DELTA_APPLIES: return "it applies to the base";
	case CRL_DELTA_NOT_DELTA: return "it is not a delta CRL";
	case CRL_DELTA_OTHER_STREAM: return "its issuer, key or scope (issuingDistributionPoint) is not the base's";
	case CRL_DELTA_NEWER_BASE: return "its BaseCRLNumber is higher than the base's number";
	case CRL_DELTA_NOT_NEWER: return "its number is not higher than the base's";
	case CRL_DELTA_NO_NUMBER: return "the base has no cRLNumber";
	}
	return "?";
}
