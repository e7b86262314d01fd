/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to lib/: the CRL rules, below both loaders, and the small interface through which each loader feeds them. */
#ifndef CRLSYNC_CRL_RULES_H
#define CRLSYNC_CRL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crlsync/crl.h"

/* Not a verdict: the fast path met something outside its canonical subset; the reference decides. */
#define CRL_E_FALLBACK ((enum crl_error)-1)

/*
 * What a loader hands the rules: the CRL as OpenSSL decodes it, and how to do the three things
 * that depend on how the loader holds the bytes. The reference passes the whole CRL; the fast
 * path a skeleton without its entries, the signed bytes and the entries staying in its buffer.
 */
struct crl_source {
	X509_CRL *x;
	bool fast;  /* sets crl->fast */
	void *ctx;  /* the loader's own */
	/* The signature with `pkey`: 1 verifies, 0 does not, -1 cannot tell (only the fast path: fall back). */
	int (*verify)(const struct crl_source *src, EVP_PKEY *pkey);
	/* SHA-256 of the CRL's DER, the file's own bytes: false when out of memory. */
	bool (*digest)(const struct crl_source *src, unsigned char out[32]);
	/*
	 * Every entry into c (c->entries; c->index unless the loader was asked for none), each through
	 * crl_rules_entry_ext_known() and crl_rules_reason(). CRL_OK, the reason with `err`, or (fast
	 * path) CRL_E_FALLBACK. Called last, once everything else holds.
	 */
	enum crl_error (*entries)(const struct crl_source *src, struct crl *c, char *err, size_t errlen);
};

/*
 * The rules of a complete CRL (RFC 5280 §5, crl.h's crl_from_der()): a configured ca with the
 * issuer's name (and authority key identifier) that allows cRLSign and whose key verifies the
 * signature, checked first; thisUpdate and nextUpdate that decode, in order, thisUpdate not after
 * now + CRL_SKEW_SECONDS; no delta CRL, no unknown critical or repeated extension; a cRLNumber of
 * at most 20 octets; a well-formed issuingDistributionPoint (the scope). Then the digest and the
 * entries, through `src`. Returns CRL_OK with a new crl in *out (refs = 1), the reason with
 * `err`, or CRL_E_FALLBACK when a callback of the fast path said so.
 */
enum crl_error crl_rules_build(const struct crl_source *src, X509 *const *cas, size_t n_cas, time_t now,
			       const char *origin, struct crl **out, char *err, size_t errlen);

/* Entry extensions understood (RFC 5280 §5.3): reasonCode, invalidityDate, holdInstructionCode, certificateIssuer. */
bool crl_rules_entry_ext_known(int nid);

/*
 * One extension of the entry `serial_hex` (RFC 5280 §5.3): an unrecognised critical one makes the
 * CRL unusable (CRL_E_CRITICAL_EXT); certificateIssuer belongs in indirect CRLs only (§5.3.3,
 * CRL_E_MALFORMED). CRL_OK otherwise; `err` says why.
 */
enum crl_error crl_rules_entry_ext(const X509_EXTENSION *ext, unsigned crl_flags, const char *serial_hex, char *err,
				   size_t errlen);

/*
 * An entry's reasonCode (RFC 5280 §5.3.1): 0 to 10 but 7 (unused). removeFromCRL (8) belongs in
 * delta CRLs only; in a complete CRL it is a CA's mistake that must not cost every certificate of
 * the CA its CRL: the entry is kept, and its serial counts as revoked (check.c), never released.
 * Inline: the fast path asks it per entry.
 */
static inline bool crl_rules_reason_ok(long code)
{
	return code >= 0 && code <= 10 && code != 7;
}

/* The same within a CRL of `crl_flags`: a delta CRL (CRL_IS_DELTA) may carry removeFromCRL (§5.3.1). */
static inline bool crl_rules_reason_ok_in(long code, unsigned crl_flags)
{
	return crl_rules_reason_ok(code) || (code == 8 && (crl_flags & CRL_IS_DELTA));
}

/* The same as a verdict: CRL_OK, or CRL_E_MALFORMED with `err` naming the entry by `serial_hex`. */
enum crl_error crl_rules_reason(long code, const char *serial_hex, char *err, size_t errlen);

/* ASN1_TIME to time_t; false when malformed or NULL. */
bool crl_asn1_time(const ASN1_TIME *t, time_t *out);

#endif
