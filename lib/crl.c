/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loads one CRL, verifies it against the configured issuers (RFC 5280 §5, §6.3.3) and indexes its entries. */
#include "crlsync/crl.h"
#include "crl_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

static const char pem_marker[] = "-----BEGIN X509 CRL-----";

static bool looks_pem(const unsigned char *buf, size_t len)
{
	return memmem(buf, len, pem_marker, sizeof(pem_marker) - 1) != NULL;
}

enum crl_error crl_decode_der(const unsigned char *buf, size_t len, X509_CRL **out, char *err, size_t errlen)
{
	const unsigned char *p = buf;
	X509_CRL *x;
	char ssl[256];

	*out = NULL;
	ERR_clear_error();
	if (len > CRL_FILE_MAX || len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "file of %zu bytes is larger than the limit", len);
		return CRL_E_TOO_LARGE;
	}
	x = d2i_X509_CRL(NULL, &p, (long)len);
	if (x == NULL) {
		log_ssl_errors(ssl, sizeof(ssl));
		snprintf(err, errlen, "not a valid DER CRL (%s)", ssl[0] ? ssl : "decode error");
		return CRL_E_PARSE;
	}
	if (p != buf + len) {
		snprintf(err, errlen, "%zu bytes of trailing data after the DER CRL", (size_t)(buf + len - p));
		X509_CRL_free(x);
		return CRL_E_PARSE;
	}
	*out = x;
	return CRL_OK;
}

enum crl_error crl_decode(const unsigned char *buf, size_t len, STACK_OF(X509_CRL) **out, char *err, size_t errlen)
{
	STACK_OF(X509_CRL) *sk = NULL;
	X509_CRL *x = NULL;
	BIO *bio = NULL;
	enum crl_error r = CRL_E_PARSE;
	char ssl[256];

	*out = NULL;
	err[0] = '\0';
	ERR_clear_error();
	if (len > CRL_FILE_MAX || len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "file of %zu bytes is larger than the limit", len);
		return CRL_E_TOO_LARGE;
	}
	sk = sk_X509_CRL_new_null();
	if (sk == NULL)
		return CRL_E_NOMEM;
	if (len > 0 && buf[0] == 0x30) {
		r = crl_decode_der(buf, len, &x, err, errlen);
		if (r != CRL_OK)
			goto out;
		r = CRL_E_PARSE;
		if (!sk_X509_CRL_push(sk, x)) {
			r = CRL_E_NOMEM;
			goto out;
		}
		x = NULL; /* transferred */
	} else if (looks_pem(buf, len)) {
		bio = BIO_new_mem_buf(buf, (int)len);
		if (bio == NULL) {
			r = CRL_E_NOMEM;
			goto out;
		}
		for (;;) {
			unsigned long e;

			x = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
			if (x == NULL) {
				e = ERR_peek_last_error();
				if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE &&
				    sk_X509_CRL_num(sk) > 0) {
					ERR_clear_error();
					break;
				}
				log_ssl_errors(ssl, sizeof(ssl));
				snprintf(err, errlen, "PEM CRL #%d does not decode (%s)", sk_X509_CRL_num(sk) + 1,
					 ssl[0] ? ssl : "decode error");
				goto out;
			}
			if (!sk_X509_CRL_push(sk, x)) {
				r = CRL_E_NOMEM;
				goto out;
			}
			x = NULL; /* transferred */
		}
	} else {
		snprintf(err, errlen, "neither a DER CRL nor a PEM file with \"%s\"", pem_marker);
		goto out;
	}
	*out = sk;
	sk = NULL; /* transferred */
	r = CRL_OK;
out:
	X509_CRL_free(x);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	BIO_free(bio);
	return r;
}

bool crl_asn1_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return false;
	*out = timegm(&tm);
	return true;
}

void crl_time_str(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)t);
}

char *crl_name_text(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL, *p;
	long n;

	if (b == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		goto out;
	n = BIO_get_mem_data(b, &p);
	s = malloc((size_t)n + 1);
	if (s != NULL) {
		memcpy(s, p, (size_t)n);
		s[n] = '\0';
	}
out:
	BIO_free(b);
	return s;
}

void crl_serial_hex(const ASN1_INTEGER *serial, char *buf, size_t len)
{
	const unsigned char *d = ASN1_STRING_get0_data(serial);
	size_t n = (size_t)ASN1_STRING_length(serial), o = 0, i = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER && o + 1 < len)
		buf[o++] = '-';
	while (i < n && d[i] == 0)
		i++;
	if (i == n) {
		snprintf(buf + o, len - o, "00");
		return;
	}
	for (; i < n && o + 3 <= len; i++, o += 2)
		snprintf(buf + o, len - o, "%02X", d[i]);
	buf[o < len ? o : len - 1] = '\0';
}

const char *crl_error_str(enum crl_error e)
{
	switch (e) {
	case CRL_OK: return "ok";
	case CRL_E_PARSE: return "unparsable";
	case CRL_E_NO_CA: return "no matching ca";
	case CRL_E_KEY_USAGE: return "ca lacks cRLSign";
	case CRL_E_SIGNATURE: return "bad signature";
	case CRL_E_FUTURE: return "thisUpdate in the future";
	case CRL_E_CRITICAL_EXT: return "unrecognised critical extension";
	case CRL_E_DELTA: return "delta CRL not supported";
	case CRL_E_MALFORMED: return "malformed";
	case CRL_E_TOO_LARGE: return "too large";
	case CRL_E_NOMEM: return "out of memory";
	}
	return "?";
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
	crl_index_free(c->index);
	free(c);
}

static void hex_of(const unsigned char *d, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	if (n == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (size_t i = 0; i < n && o + 3 <= len; i++, o += 2)
		snprintf(buf + o, len - o, "%02X", d[i]);
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

/* ... and at entry level (§5.3). certificateIssuer is handled by the caller. */
static bool entry_ext_known(int nid)
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

static enum crl_error find_signer(X509_CRL *x, const struct crl_raw *raw, X509 *const *cas, size_t n_cas,
				  const char *issuer, X509 **signer, char *err, size_t errlen)
{
	AUTHORITY_KEYID *akid;
	bool name_match = false, ku_fail = false;
	int crit = -1;
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
		if (raw != NULL) {
			int v = crl_der_verify(raw, x, X509_get0_pubkey(cas[i]));

			if (v < 0) {
				r = CRL_E_FALLBACK;
				goto out;
			}
			if (v == 1) {
				*signer = cas[i];
				r = CRL_OK;
				goto out;
			}
			continue;
		}
		if (X509_CRL_verify(x, X509_get0_pubkey(cas[i])) == 1) {
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
			snprintf(err, errlen, "a delta CRL (deltaCRLIndicator): delta CRLs are not used");
			return CRL_E_DELTA;
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
	(void)c;
	return CRL_OK;
}

static enum crl_error read_number(X509_CRL *x, struct crl *c, char *err, size_t errlen)
{
	ASN1_INTEGER *num;
	BIGNUM *bn = NULL;
	int crit = -1;
	enum crl_error r = CRL_OK;

	num = X509_CRL_get_ext_d2i(x, NID_crl_number, &crit, NULL);
	if (num == NULL) {
		if (crit != -1) {
			snprintf(err, errlen, "cRLNumber extension does not decode");
			return CRL_E_MALFORMED;
		}
		snprintf(c->number_hex, sizeof(c->number_hex), "none");
		return CRL_OK;
	}
	bn = ASN1_INTEGER_to_BN(num, NULL);
	if (bn == NULL) {
		r = CRL_E_NOMEM;
		goto out;
	}
	/* RFC 5280 §5.2.3: a non-negative integer of at most 20 octets. */
	if (BN_is_negative(bn) || BN_num_bytes(bn) > CRL_NUMBER_MAX) {
		snprintf(err, errlen, "cRLNumber is negative or longer than 20 octets");
		r = CRL_E_MALFORMED;
		goto out;
	}
	c->number_len = (size_t)BN_bn2bin(bn, c->number);
	c->flags |= CRL_HAS_NUMBER;
	hex_of(c->number, c->number_len, c->number_hex, sizeof(c->number_hex));
out:
	BN_free(bn);
	ASN1_INTEGER_free(num);
	return r;
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

static enum crl_error index_entries(X509_CRL *x, struct crl *c, char *err, size_t errlen)
{
	STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(x);
	int n = sk_X509_REVOKED_num(rev);
	char oid[80], hex[2 * CRL_SERIAL_MAX + 2];

	c->index = crl_index_new(n > 0 ? (size_t)n : 0);
	if (c->index == NULL)
		return CRL_E_NOMEM;
	for (int i = 0; i < n; i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(rev, i);
		const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(r);
		const STACK_OF(X509_EXTENSION) *exts = X509_REVOKED_get0_extensions(r);
		ASN1_ENUMERATED *reason;
		time_t when;
		int code = CRL_REASON_ABSENT, crit = -1, e;

		if (!crl_asn1_time(X509_REVOKED_get0_revocationDate(r), &when)) {
			crl_serial_hex(sn, hex, sizeof(hex));
			snprintf(err, errlen, "entry %s: bad revocationDate", hex);
			return CRL_E_MALFORMED;
		}
		for (int j = 0; j < sk_X509_EXTENSION_num(exts); j++) {
			X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, j);
			int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));

			crl_serial_hex(sn, hex, sizeof(hex));
			if (!entry_ext_known(nid) && X509_EXTENSION_get_critical(ext)) {
				oid_text(ext, oid, sizeof(oid));
				snprintf(err, errlen, "entry %s: unrecognised critical extension %s (RFC 5280 5.3)",
					 hex, oid);
				return CRL_E_CRITICAL_EXT;
			}
			/* §5.3.3: certificateIssuer only belongs in indirect CRLs, which we do not use. */
			if (nid == NID_certificate_issuer && !(c->flags & CRL_IDP_INDIRECT)) {
				snprintf(err, errlen, "entry %s: certificateIssuer in a CRL that is not indirect", hex);
				return CRL_E_MALFORMED;
			}
		}
		reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
		if (reason != NULL) {
			long v = ASN1_ENUMERATED_get(reason);

			ASN1_ENUMERATED_free(reason);
			if (v < 0 || v > 10 || v == 7) {
				crl_serial_hex(sn, hex, sizeof(hex));
				snprintf(err, errlen, "entry %s: invalid reasonCode %ld", hex, v);
				return CRL_E_MALFORMED;
			}
			code = (int)v;
		} else if (crit != -1) {
			crl_serial_hex(sn, hex, sizeof(hex));
			snprintf(err, errlen, "entry %s: reasonCode does not decode", hex);
			return CRL_E_MALFORMED;
		}
		if (code == CRL_REASON_REMOVE_FROM_CRL) {
			/* §5.3.1: removeFromCRL only appears in delta CRLs. */
			crl_serial_hex(sn, hex, sizeof(hex));
			snprintf(err, errlen, "entry %s: removeFromCRL in a complete CRL", hex);
			return CRL_E_MALFORMED;
		}
		e = crl_index_add(c->index, ASN1_STRING_get0_data(sn), (size_t)ASN1_STRING_length(sn),
				  ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER, when, code);
		if (e == -ENOMEM)
			return CRL_E_NOMEM;
		if (e != 0) {
			snprintf(err, errlen, "entry #%d: serial longer than %d octets", i + 1, CRL_SERIAL_MAX);
			return CRL_E_MALFORMED;
		}
	}
	if (crl_index_seal(c->index) != 0)
		return CRL_E_NOMEM;
	c->entries = crl_index_count(c->index);
	return CRL_OK;
}

enum crl_error crl_from_x509(X509_CRL *x, X509 *const *cas, size_t n_cas, time_t now, const char *origin,
			     struct crl **out, char *err, size_t errlen)
{
	return crl_build(x, NULL, cas, n_cas, now, origin, out, err, errlen);
}

enum crl_error crl_build(X509_CRL *x, const struct crl_raw *raw, X509 *const *cas, size_t n_cas, time_t now,
			 const char *origin, struct crl **out, char *err, size_t errlen)
{
	struct crl *c = NULL;
	X509 *signer = NULL;
	unsigned int mdlen = 0;
	char t1[40], t2[40];
	enum crl_error r;

	*out = NULL;
	err[0] = '\0';
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CRL_E_NOMEM;
	atomic_init(&c->refs, 1);
	c->origin = strdup(origin ? origin : "?");
	c->issuer_text = crl_name_text(X509_CRL_get_issuer(x));
	if (c->origin == NULL || c->issuer_text == NULL) {
		r = CRL_E_NOMEM;
		goto out;
	}
	/* Authenticity first: nothing else about an unsigned CRL is worth reporting. */
	r = find_signer(x, raw, cas, n_cas, c->issuer_text, &signer, err, errlen);
	if (r != CRL_OK)
		goto out;
	if (!X509_up_ref(signer)) {
		r = CRL_E_NOMEM;
		goto out;
	}
	c->ca = signer;
	c->fast = raw != NULL;
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
			crl_time_str(c->this_update, t1, sizeof(t1));
			crl_time_str(c->next_update, t2, sizeof(t2));
			snprintf(err, errlen, "nextUpdate %s is before thisUpdate %s", t2, t1);
			r = CRL_E_MALFORMED;
			goto out;
		}
	}
	if (c->this_update > now + CRL_SKEW_SECONDS) {
		crl_time_str(c->this_update, t1, sizeof(t1));
		crl_time_str(now, t2, sizeof(t2));
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
	/*
	 * The digest names the content: the file's own bytes (the reference re-encodes the same DER).
	 * Before the entries, which may release the pages they have read (CRL_LOAD_DISCARD).
	 */
	if (raw != NULL ? !EVP_Digest(raw->der, raw->der_len, c->digest, &mdlen, EVP_sha256(), NULL)
			: !X509_CRL_digest(x, EVP_sha256(), c->digest, &mdlen)) {
		r = CRL_E_NOMEM;
		goto out;
	}
	if (mdlen != sizeof(c->digest)) {
		r = CRL_E_NOMEM;
		goto out;
	}
	r = raw != NULL ? crl_der_entries(raw, c, err, errlen) : index_entries(x, c, err, errlen);
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

int crl_compare_age(const struct crl *a, const struct crl *b)
{
	if ((a->flags & CRL_HAS_NUMBER) && (b->flags & CRL_HAS_NUMBER)) {
		if (a->number_len != b->number_len)
			return a->number_len < b->number_len ? -1 : 1;
		return a->number_len ? memcmp(a->number, b->number, a->number_len) : 0;
	}
	return (a->this_update > b->this_update) - (a->this_update < b->this_update);
}

bool crl_same_stream(const struct crl *a, const struct crl *b)
{
	if (X509_cmp(a->ca, b->ca) != 0 || a->scope_len != b->scope_len || (a->scope == NULL) != (b->scope == NULL))
		return false;
	return a->scope_len == 0 || memcmp(a->scope, b->scope, a->scope_len) == 0;
}

static bool names_intersect(const GENERAL_NAMES *a, const GENERAL_NAMES *b)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(a); i++)
		for (int j = 0; j < sk_GENERAL_NAME_num(b); j++)
			if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(a, i), sk_GENERAL_NAME_value(b, j)) == 0)
				return true;
	return false;
}

static bool dpname_equal(const DIST_POINT_NAME *a, const DIST_POINT_NAME *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la = i2d_DIST_POINT_NAME(a, &da), lb = i2d_DIST_POINT_NAME(b, &db);
	bool eq = la > 0 && la == lb && memcmp(da, db, (size_t)la) == 0;

	OPENSSL_free(da);
	OPENSSL_free(db);
	return eq;
}

/* RFC 5280 §6.3.3 (b)(2)(i): the IDP name must match a name of one of the certificate's DPs. */
static bool dp_matches(const DIST_POINT_NAME *idp, X509 *cert)
{
	STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
	bool ok = false;

	for (int i = 0; !ok && i < sk_DIST_POINT_num(dps); i++) {
		const DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

		if (dp->distpoint != NULL) {
			if (idp->type == 0 && dp->distpoint->type == 0)
				ok = names_intersect(idp->name.fullname, dp->distpoint->name.fullname);
			else
				ok = dpname_equal(idp, dp->distpoint);
		} else if (dp->CRLissuer != NULL && idp->type == 0) {
			ok = names_intersect(idp->name.fullname, dp->CRLissuer);
		}
	}
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
	else if ((c->flags & CRL_IDP_HAS_DP) && !dp_matches(c->idp_dp, cert))
		*why = "its distribution point is not one of the certificate's";
	return *why == NULL;
}
