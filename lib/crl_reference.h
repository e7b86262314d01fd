/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to lib/ (and its tests): the OpenSSL reference loader, which decides whatever the fast path does not. */
#ifndef CRLSYNC_CRL_REFERENCE_H
#define CRLSYNC_CRL_REFERENCE_H

#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>

#include "crlsync/crl.h"

/*
 * One DER CRL through OpenSSL's decoder (d2i_X509_CRL) and the rules (crl_rules.h): the verdict
 * and message crl_from_der() gives for anything outside the fast path's canonical subset, and for
 * CRL_LOAD_REFERENCE. With CRL_LOAD_NO_INDEX the index is dropped before returning (every entry
 * is checked all the same). Returns CRL_OK and a new crl in *out (refs = 1), or the reason with `err`.
 */
enum crl_error crl_reference_load(const unsigned char *der, size_t len, X509 *const *cas, size_t n_cas, time_t now,
				  const char *origin, unsigned flags, struct crl **out, char *err, size_t errlen);

/*
 * Verifies a decoded CRL against candidate issuers `cas` and builds its index, with the rules of
 * crl_rules_build(). Returns CRL_OK and a new crl in *out (refs = 1), or the reason with `err`.
 */
enum crl_error crl_from_x509(X509_CRL *x, X509 *const *cas, size_t n_cas, time_t now, const char *origin,
			     struct crl **out, char *err, size_t errlen);

/* Decodes exactly one DER CRL with OpenSSL: CRL_OK, CRL_E_TOO_LARGE, or CRL_E_PARSE with `err`. */
enum crl_error crl_decode_der(const unsigned char *buf, size_t len, X509_CRL **out, char *err, size_t errlen);

/*
 * Decodes a buffer holding one DER CRL or one or more PEM CRLs (detected by content) with OpenSSL
 * alone, for tests and fuzzing beside crl_split(). Returns CRL_OK with a new stack in *out (free
 * with sk_X509_CRL_pop_free(.., X509_CRL_free)), or CRL_E_PARSE with `err` saying why (a PEM
 * file with any undecodable CRL fails whole).
 */
enum crl_error crl_decode(const unsigned char *buf, size_t len, STACK_OF(X509_CRL) **out, char *err,
			  size_t errlen);

#endif
