/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fast DER loader against the OpenSSL reference: shared by unit tests and the differential fuzz target. */
#ifndef CRLSYNC_TEST_CRL_DIFF_H
#define CRLSYNC_TEST_CRL_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * Loads `der` with crl_from_der() and with the reference (CRL_LOAD_REFERENCE) against `ca`.
 * True when they agree: both unusable, or both usable with the same number, times, flags, scope,
 * digest, entry count and, for every entry the reference decoded, the same (serial, date, reason)
 * lookup. False with `why` otherwise. *fast_used (may be NULL) tells whether the fast path decided.
 */
bool crl_diff_check(const unsigned char *der, size_t len, X509 *ca, time_t now, bool *fast_used, char *why,
		    size_t whylen);

/*
 * A CertificateList whose tbsCertList is `tbs` byte for byte (whatever it holds), signed with `key`
 * under the signature AlgorithmIdentifier `alg_tlv` (a DER SEQUENCE). Caller frees; NULL on failure.
 */
unsigned char *crl_diff_resign(const unsigned char *tbs, size_t tbs_len, const unsigned char *alg_tlv,
			       size_t alg_len, EVP_PKEY *key, size_t *out_len);

/* Locates tbsCertList and the outer AlgorithmIdentifier of a DER CRL; false when the outer structure is not DER. */
bool crl_diff_split(const unsigned char *der, size_t len, const unsigned char **tbs, size_t *tbs_len,
		    const unsigned char **alg, size_t *alg_len);

/*
 * A copy of tbsCertList `tbs` whose revokedCertificates content is `entries` (the list is added
 * after the times when `tbs` has none). Caller frees; NULL when `tbs` does not have the expected shape.
 */
unsigned char *crl_diff_with_entries(const unsigned char *tbs, size_t tbs_len, const unsigned char *entries,
				     size_t entries_len, size_t *out_len);

#endif
