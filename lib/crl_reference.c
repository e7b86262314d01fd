/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OpenSSL reference loader: d2i_X509_CRL and OpenSSL's objects, fed to the rules; the verdict on anything unusual. */
#include "crl_reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crl_rules.h"
#include "crlsync/crl.h"
#include "crlsync/crl_index.h"
#include "crlsync/fmt.h"
#include "crlsync/log.h"

static bool looks_pem(const unsigned char *buf, size_t len)
{
	return memmem(buf, len, CRL_PEM_MARKER, sizeof(CRL_PEM_MARKER) - 1) != NULL;
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
		snprintf(err, errlen, "neither a DER CRL nor a PEM file with \"%s\"", CRL_PEM_MARKER);
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

/* The reference's entries: OpenSSL's objects, one by one, through the entry rules. */
static enum crl_error index_entries(const struct crl_source *src, struct crl *c, char *err, size_t errlen)
{
	X509_CRL *x = src->x;
	STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(x);
	int n = sk_X509_REVOKED_num(rev);
	char hex[2 * CRL_SERIAL_MAX + 2];

	c->index = crl_index_new(n > 0 ? (size_t)n : 0);
	if (c->index == NULL)
		return CRL_E_NOMEM;
	for (int i = 0; i < n; i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(rev, i);
		const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(r);
		const STACK_OF(X509_EXTENSION) *exts = X509_REVOKED_get0_extensions(r);
		ASN1_ENUMERATED *reason;
		enum crl_error ce;
		time_t when;
		int code = CRL_REASON_ABSENT, crit = -1, e;

		if (!crl_asn1_time(X509_REVOKED_get0_revocationDate(r), &when)) {
			fmt_serial(sn, hex, sizeof(hex));
			snprintf(err, errlen, "entry %s: bad revocationDate", hex);
			return CRL_E_MALFORMED;
		}
		for (int j = 0; j < sk_X509_EXTENSION_num(exts); j++) {
			fmt_serial(sn, hex, sizeof(hex));
			ce = crl_rules_entry_ext(sk_X509_EXTENSION_value(exts, j), c->flags, hex, err, errlen);
			if (ce != CRL_OK)
				return ce;
		}
		reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
		if (reason != NULL) {
			long v = ASN1_ENUMERATED_get(reason);

			ASN1_ENUMERATED_free(reason);
			if (!crl_rules_reason_ok_in(v, c->flags)) {
				fmt_serial(sn, hex, sizeof(hex));
				return crl_rules_reason(v, hex, err, errlen);
			}
			code = (int)v;
		} else if (crit != -1) {
			fmt_serial(sn, hex, sizeof(hex));
			snprintf(err, errlen, "entry %s: reasonCode does not decode", hex);
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

static int verify(const struct crl_source *src, EVP_PKEY *pkey)
{
	return X509_CRL_verify(src->x, pkey) == 1;
}

/* The reference re-encodes the DER it decoded: the same bytes as the file's for a DER CRL. */
static bool digest(const struct crl_source *src, unsigned char out[32])
{
	unsigned int mdlen = 0;

	return X509_CRL_digest(src->x, EVP_sha256(), out, &mdlen) && mdlen == 32;
}

enum crl_error crl_from_x509(X509_CRL *x, X509 *const *cas, size_t n_cas, time_t now, const char *origin,
			     struct crl **out, char *err, size_t errlen)
{
	const struct crl_source src = { .x = x, .fast = false, .verify = verify, .digest = digest, .entries = index_entries };

	return crl_rules_build(&src, cas, n_cas, now, origin, out, err, errlen);
}

enum crl_error crl_reference_load(const unsigned char *der, size_t len, X509 *const *cas, size_t n_cas, time_t now,
				  const char *origin, unsigned flags, struct crl **out, char *err, size_t errlen)
{
	X509_CRL *x = NULL;
	enum crl_error r = crl_decode_der(der, len, &x, err, errlen);

	if (r == CRL_OK)
		r = crl_from_x509(x, cas, n_cas, now, origin, out, err, errlen);
	if (r == CRL_OK && (flags & CRL_LOAD_NO_INDEX)) {
		crl_index_free((*out)->index);
		(*out)->index = NULL;
	}
	X509_CRL_free(x);
	return r;
}
