/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to lib/: what the reference loader (crl.c) and the fast DER path (crl_der.c) share. */
#ifndef CRLSYNC_CRL_INTERNAL_H
#define CRLSYNC_CRL_INTERNAL_H

#include "crlsync/crl.h"

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
};

/* Not a verdict: the fast path met something outside its canonical subset; ask the reference. */
#define CRL_E_FALLBACK ((enum crl_error)-1)

/*
 * The rules of crl_from_x509() on a decoded CRL. With raw == NULL, x is the whole CRL (the
 * reference). With raw, x is a skeleton without entries: the signature is checked over raw->tbs
 * and the entries are read from raw->revoked. May return CRL_E_FALLBACK only with raw.
 */
enum crl_error crl_build(X509_CRL *x, const struct crl_raw *raw, X509 *const *cas, size_t n_cas, time_t now,
			 const char *origin, struct crl **out, char *err, size_t errlen);

/* Decodes exactly one DER CRL with OpenSSL (crl_decode()'s DER branch): CRL_OK or CRL_E_PARSE with `err`. */
enum crl_error crl_decode_der(const unsigned char *buf, size_t len, X509_CRL **out, char *err, size_t errlen);

/* Verifies raw->sig over raw->tbs with the algorithm of the skeleton: 1 good, 0 bad, -1 cannot tell. */
int crl_der_verify(const struct crl_raw *raw, X509_CRL *skel, EVP_PKEY *pkey);

/* Reads every entry of raw->revoked into c (an index unless CRL_LOAD_NO_INDEX); CRL_E_FALLBACK on anything unusual. */
enum crl_error crl_der_entries(const struct crl_raw *raw, struct crl *c, char *err, size_t errlen);

#endif
