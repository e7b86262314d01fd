/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to lib/: the fast DER path, which loads canonical CRLs and says CRL_E_FALLBACK on anything else. */
#ifndef CRLSYNC_CRL_DER_H
#define CRLSYNC_CRL_DER_H

#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>

#include "crl_rules.h" /* CRL_E_FALLBACK */
#include "crlsync/crl.h"

/*
 * One DER CRL in one strict pass (crl.h's crl_from_der() says how): the rules of crl_rules.h, the
 * signature with EVP over the signed bytes as they are, the entries read in place. Returns
 * CRL_OK and a new crl in *out (refs = 1), the reason with `err`, or CRL_E_FALLBACK (*out NULL)
 * when the CRL is outside the canonical subset and the reference must decide. It never calls
 * the reference itself. With CRL_LOAD_DISCARD it releases the pages of `der` only once it can no
 * longer answer CRL_E_FALLBACK.
 */
enum crl_error crl_der_load(const unsigned char *der, size_t len, X509 *const *cas, size_t n_cas, time_t now,
			    const char *origin, unsigned flags, struct crl **out, char *err, size_t errlen);

/*
 * The same over the DER CRL of `len` octets open as `fd` (read with pread(), never mapped: a file
 * cut short under us is a read error, not a SIGBUS), holding in memory only the octets before and
 * after the entries and a window of about a MiB: a CRL of any size costs its index and a few MiB.
 * CRL_LOAD_DISCARD and CRL_LOAD_MAPPED are moot. CRL_E_FALLBACK also for a read error, an
 * Ed25519/Ed448 CRL aside (its signed bytes are read whole, as the signature needs them).
 */
enum crl_error crl_der_load_fd(int fd, size_t len, X509 *const *cas, size_t n_cas, time_t now, const char *origin,
			       unsigned flags, struct crl **out, char *err, size_t errlen);

#endif
