/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loading and verifying one CRL (RFC 5280 §5, §6.3.3) into an immutable, indexed object. */
#ifndef CRLSYNC_CRL_H
#define CRLSYNC_CRL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crlsync/crl_index.h"
#include "crlsync/log.h"

/* Clock skew tolerated for thisUpdate in the future. */
#define CRL_SKEW_SECONDS 300
/* Largest CRL file read. */
#define CRL_FILE_MAX ((size_t)1 << 30)
#define CRL_NUMBER_MAX 20 /* RFC 5280 §5.2.3: at most 20 octets */

enum crl_flags {
	CRL_HAS_NEXT_UPDATE = 1U << 0,
	CRL_HAS_NUMBER = 1U << 1,
	CRL_HAS_IDP = 1U << 2,
	CRL_IDP_USER_ONLY = 1U << 3,  /* onlyContainsUserCerts */
	CRL_IDP_CA_ONLY = 1U << 4,    /* onlyContainsCACerts */
	CRL_IDP_ATTR_ONLY = 1U << 5,  /* onlyContainsAttributeCerts: never covers a public-key certificate */
	CRL_IDP_INDIRECT = 1U << 6,   /* indirectCRL: not supported, never counts */
	CRL_IDP_SOME_REASONS = 1U << 7,
	CRL_IDP_HAS_DP = 1U << 8,     /* a distributionPoint name narrows the scope */
	CRL_IS_DELTA = 1U << 9,       /* a delta CRL (RFC 5280 §5.2.4): base_number set, never in force alone */
};

/* Bit (1 << reason) for each RFC 5280 reason an IDP may restrict to; certificateHold included. */
/* keyCompromise(1)..certificateHold(6), privilegeWithdrawn(9), aACompromise(10): RFC 5280 ReasonFlags. */
#define CRL_REASONS_ALL 0x067EU

/* Why a CRL is unusable. */
enum crl_error {
	CRL_OK = 0,
	CRL_E_PARSE,        /* not DER or PEM X.509 CRL, or truncated */
	CRL_E_NO_CA,        /* no configured ca has the CRL's issuer name (and key identifier) */
	CRL_E_KEY_USAGE,    /* the matching ca lacks cRLSign */
	CRL_E_SIGNATURE,    /* signature does not verify against the matching ca */
	CRL_E_FUTURE,       /* thisUpdate later than now + CRL_SKEW_SECONDS */
	CRL_E_CRITICAL_EXT, /* an unrecognised critical extension (CRL or entry level) */
	CRL_E_DELTA,        /* a delta CRL that breaks RFC 5280 §5.2.4 (non-critical indicator, no or a low cRLNumber) */
	CRL_E_MALFORMED,    /* structurally valid DER but breaks RFC 5280 rules we rely on */
	CRL_E_TOO_LARGE,
	CRL_E_NOMEM,
};

/* An immutable, verified CRL. Shared between snapshots by reference count. */
struct crl {
	atomic_int refs;
	char *origin;           /* "issuing.crl" or "bundle.pem#2": where it came from */
	char *issuer_text;      /* one-line RFC 2253 issuer, for messages */
	X509 *ca;               /* the configured ca whose key verified it (own reference) */
	unsigned char number[CRL_NUMBER_MAX];
	size_t number_len;      /* big-endian magnitude, leading zeros stripped; 0 = zero */
	char number_hex[2 * CRL_NUMBER_MAX + 3];
	time_t this_update;
	time_t next_update;     /* valid when CRL_HAS_NEXT_UPDATE */
	unsigned flags;         /* enum crl_flags */
	unsigned reasons;       /* reasons covered (CRL_REASONS_ALL unless onlySomeReasons) */
	DIST_POINT_NAME *idp_dp;  /* IDP distributionPoint when CRL_IDP_HAS_DP */
	unsigned char *scope;   /* DER of the IDP extension value (NULL when absent): with the ca, the stream key */
	size_t scope_len;
	unsigned char digest[32]; /* SHA-256 of the CRL's DER */
	int sig_nid;            /* signature algorithm */
	size_t entries;
	struct crl_index *index;  /* NULL when loaded with CRL_LOAD_NO_INDEX */
	bool fast;                /* built by the streaming DER path, not the OpenSSL reference */
	/* CRL_IS_DELTA: the DeltaCRLIndicator's BaseCRLNumber, as number above */
	unsigned char base_number[CRL_NUMBER_MAX];
	size_t base_number_len;
	char base_number_hex[2 * CRL_NUMBER_MAX + 3];
	/* A complete CRL's FreshestCRL (§5.2.6): its http and https fullName URIs, where its delta lives */
	char **freshest_urls;
	size_t n_freshest_urls;
};

/* How crl_from_der() works. */
enum crl_load_flags {
	CRL_LOAD_NO_INDEX = 1U << 0,  /* check every entry but keep only the count (c->index is NULL) */
	CRL_LOAD_REFERENCE = 1U << 1, /* OpenSSL's decoder only: the reference, for benchmarks and fuzzing */
	/*
	 * The caller frees `der` without reading it again: the loader may release its pages as it
	 * goes (madvise), so that a reload does not hold the file and the new index at once.
	 */
	CRL_LOAD_DISCARD = 1U << 2,
	/*
	 * `der` is a read-only mapping of a file (the fetcher's download, never written to memory
	 * whole): every pass (signature, digest, entries) releases the pages behind it, which come
	 * back from the page cache when read again, so that checking a CRL of any size keeps only a
	 * few MiB of it resident. Exceptions: Ed25519/Ed448 signatures (one-shot: the signed bytes
	 * are resident at once while verifying) and a CRL the reference loader must judge.
	 */
	CRL_LOAD_MAPPED = 1U << 3,
};

/*
 * Verifies one DER CRL against candidate issuers `cas` and builds its index. The rules: issuer
 * name (and authority key identifier when both sides have one) match a ca with cRLSign; signature
 * verifies; thisUpdate <= now + skew, nextUpdate not before it; no unrecognised critical
 * extension (CRL or entry); cRLNumber and issuingDistributionPoint well formed. A delta CRL
 * (DeltaCRLIndicator, RFC 5280 §5.2.4) loads with CRL_IS_DELTA when its indicator is critical and
 * its own cRLNumber is higher than its BaseCRLNumber; its removeFromCRL (8) entries are indexed
 * with that reason. Whether it applies to a complete CRL is crl_delta_fit()'s to say.
 * Two loaders feed the same rules. The fast path: a streaming pass over the entries (strict DER,
 * bounds on every length) takes serial, date and reason; the signature is checked with EVP over
 * the signed bytes as they are; CRL-level fields are decoded by OpenSSL from a skeleton without
 * the entries. Anything outside that canonical subset (BER, negative serials, unusual times or
 * extensions) goes to the OpenSSL reference loader, whose verdict and message are then the answer.
 * Returns CRL_OK and a new crl in *out (refs = 1), or the reason with `err`.
 */
enum crl_error crl_from_der(const unsigned char *der, size_t len, X509 *const *cas, size_t n_cas, time_t now,
			    const char *origin, unsigned flags, struct crl **out, char *err, size_t errlen);

/*
 * crl_from_der() of the file `name` in dirfd when it holds one DER CRL, read a window at a time
 * with pread() (issue 14): a CRL of any size then costs its index and a few MiB, never the file
 * and the index at once. True with crl_from_der()'s verdict in *e (and *out, err). False, with
 * *out NULL and nothing said, for anything it does not load that way (a PEM file, a file it
 * cannot open, a CRL for the reference loader): the caller then reads the whole file and calls
 * crl_split() and crl_from_der(), which say why.
 */
bool crl_from_file_at(int dirfd, const char *name, X509 *const *cas, size_t n_cas, time_t now,
		      const char *origin, unsigned flags, enum crl_error *e, struct crl **out, char *err, size_t errlen);

/* The armour line of a PEM CRL (RFC 7468 §5). */
#define CRL_PEM_MARKER "-----BEGIN X509 CRL-----"

/* One DER CRL of a buffer: `der` points into the buffer (DER input) or into `owned` (decoded PEM). */
struct crl_der {
	const unsigned char *der;
	size_t len;
	unsigned char *owned;
};

/*
 * Splits a buffer holding one DER CRL or one or more PEM CRLs (detected by content) into DER
 * CRLs; PEM blocks of other types (a certificate in a bundle) are skipped. Returns CRL_OK with
 * *out (free with crl_der_free()) and *n >= 1, or CRL_E_PARSE / CRL_E_TOO_LARGE with `err`: a
 * PEM block that does not decode (base64, armour) fails the whole file, as OpenSSL's own PEM
 * reader does; a block whose DER is not a CRL is refused on its own by crl_from_der().
 */
enum crl_error crl_split(const unsigned char *buf, size_t len, struct crl_der **out, size_t *n, char *err,
			 size_t errlen);
void crl_der_free(struct crl_der *v, size_t n);

/* Takes a reference. */
struct crl *crl_ref(struct crl *c);
/* Drops a reference, freeing on the last; NULL is a no-op. */
void crl_unref(struct crl *c);

/* Which CRL is newer, and whether two belong to the same stream: mark.h (mark_from_crl(), mark_compare_age()). */

/*
 * Whether this CRL's scope covers `cert` (RFC 5280 §6.3.3 (b)): user/CA-only flags against the
 * certificate's basicConstraints, the IDP distributionPoint against the certificate's CRL DPs,
 * never for attribute-only or indirect CRLs. Sets *why when it does not.
 */
bool crl_covers(const struct crl *c, X509 *cert, const char **why);

/*
 * The revocation reasons (bit 1 << CRL_REASON_*) for which `c` vouches about `cert` (RFC 5280
 * §6.3.3 (d)): its onlySomeReasons (all without), cut down to the reasons of the certificate's
 * distribution points that `c` answers for (a DP without reasons: all). Meaningful when
 * crl_covers(); may be 0 then, yet a listing in `c` still revokes (check.c).
 */
unsigned crl_covered_reasons(const struct crl *c, X509 *cert);

/*
 * Whether the delta CRL `delta` applies to the complete CRL whose number is (has_number, number,
 * len) within their stream (RFC 5280 §5.2.4, §6.3.3 (c)): the delta's BaseCRLNumber at most the
 * complete CRL's number, and its own number higher. The one rule, for the fetcher (against the
 * installed base) and the check (crl_delta_applies()).
 */
enum crl_delta_fit {
	CRL_DELTA_APPLIES = 0,
	CRL_DELTA_NOT_DELTA,     /* `delta` is a complete CRL, or the base is a delta */
	CRL_DELTA_OTHER_STREAM,  /* another issuer, key or scope (IDP) than the base */
	CRL_DELTA_NEWER_BASE,    /* BaseCRLNumber higher than the base's number: wait for that base */
	CRL_DELTA_NOT_NEWER,     /* the delta's number is not higher than the base's: the base says more */
	CRL_DELTA_NO_NUMBER,     /* the base has no cRLNumber to compare */
};
enum crl_delta_fit crl_delta_fit(const struct crl *delta, bool has_number, const unsigned char *number, size_t len);

/* The same for two loaded CRLs, with the issuer (name and key of the verifying ca) and scope (IDP DER) first. */
enum crl_delta_fit crl_delta_applies(const struct crl *base, const struct crl *delta);

/* A phrase for a fit: "its BaseCRLNumber is higher than the base's number". */
const char *crl_delta_fit_str(enum crl_delta_fit f);

/* A short name of the reason ("bad signature"); the text of CRLs' fields is fmt.h's. */
const char *crl_error_str(enum crl_error e);

#endif
