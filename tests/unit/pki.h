/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test-only throw-away PKI: CAs, certificates and CRLs (good and deliberately broken) made at test time. */
#ifndef CRLSYNC_TEST_PKI_H
#define CRLSYNC_TEST_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * Nothing here is committed output: every key is made fresh, as s2n's tests/pems/crl/generate.sh
 * does. Every function fails the running cmocka test (fail_msg) instead of returning an error, so
 * tests read as a list of facts. Call them only from inside a test or a setup function.
 */

/* An OID under a private enterprise arc nobody implements (RFC 5280 §5.2, §5.3: unrecognised). */
#define PKI_UNKNOWN_EXT_OID "1.3.6.1.4.1.55555.1"

/* RFC 5280 §4.2.1.13 ReasonFlags bit positions, for struct pki_crl_opts.idp_reason_bits. */
#define PKI_RF_KEY_COMPROMISE (1U << 1)
#define PKI_RF_CA_COMPROMISE (1U << 2)
#define PKI_RF_AFFILIATION_CHANGED (1U << 3)
#define PKI_RF_SUPERSEDED (1U << 4)
#define PKI_RF_CESSATION (1U << 5)
#define PKI_RF_CERTIFICATE_HOLD (1U << 6)
#define PKI_RF_PRIVILEGE_WITHDRAWN (1U << 7)
#define PKI_RF_AA_COMPROMISE (1U << 8)

enum pki_ca_flags {
	PKI_CA_RSA = 1U << 0,         /* RSA 2048 instead of EC P-256 */
	PKI_CA_NO_CRL_SIGN = 1U << 1, /* keyUsage keyCertSign only */
	PKI_CA_NO_KEY_USAGE = 1U << 2, /* no keyUsage extension at all (every use allowed) */
	PKI_CA_NO_SKID = 1U << 3,     /* no subjectKeyIdentifier */
};

/* A CA: its certificate and private key. Free with pki_ca_free(). */
struct pki_ca {
	X509 *cert;
	EVP_PKEY *key;
};

/*
 * A CA named CN=`cn`, O=crlsync test. Self-signed when parent is NULL, else an intermediate
 * signed by parent. Two calls with the same cn give the same name with different keys
 * (a key rollover). Valid from a day ago for ten years.
 */
struct pki_ca *pki_ca_new(const char *cn, const struct pki_ca *parent, unsigned flags);
void pki_ca_free(struct pki_ca *ca);

/* A new key of the CA's default kind (EC P-256). */
EVP_PKEY *pki_key_new(bool rsa);

/*
 * One DistributionPoint of a certificate (RFC 5280 §4.2.1.13). Names are written as
 * "O=crlsync test,CN=crlsync unit CA,CN=CRL1" (one attribute an RDN, in order).
 */
struct pki_dp {
	const char *uri;           /* distributionPoint fullName URI */
	const char *dn;            /* distributionPoint fullName directoryName */
	const char *rdn;           /* distributionPoint nameRelativeToCRLIssuer ("CN=CRL1"), instead of a fullName */
	unsigned reason_bits;      /* reasons (PKI_RF_*), 0 = absent (every reason) */
	const char *crl_issuer;    /* cRLIssuer directoryName, NULL = absent */
};

struct pki_leaf_opts {
	const unsigned char *serial; /* big-endian magnitude; NULL = 0x01 */
	size_t serial_len;
	bool ca;                     /* basicConstraints cA=TRUE (an intermediate below issuer) */
	const char *crldp_uri;       /* a cRLDistributionPoints fullName URI, NULL = none */
	const struct pki_dp *dps;    /* more DistributionPoints, after crldp_uri's */
	size_t n_dps;
	bool no_akid;                /* no authorityKeyIdentifier (issuer found by name only) */
};

/* A certificate CN=`cn` issued by `issuer` (opts may be NULL); all leaves share one EC key. Free with X509_free(). */
X509 *pki_leaf_new(const struct pki_ca *issuer, const char *cn, const struct pki_leaf_opts *opts);

struct pki_crl_entry {
	const unsigned char *serial; /* big-endian magnitude */
	size_t serial_len;
	time_t revoked_at;           /* 0 = the CRL's thisUpdate - 60 */
	int reason;                  /* CRLReason code (0..10), or -1 for no reasonCode extension */
	bool unknown_critical;       /* an entry extension PKI_UNKNOWN_EXT_OID, critical */
	bool unknown_noncritical;    /* the same, not critical */
	const char *cert_issuer_cn;  /* a certificateIssuer entry extension naming CN=this */
};

/* RFC 5280 §5.2.5 issuingDistributionPoint. */
enum pki_idp_flags {
	PKI_IDP = 1U << 0, /* add the extension (implied by any other flag, a reason or a URI) */
	PKI_IDP_USER_ONLY = 1U << 1,
	PKI_IDP_CA_ONLY = 1U << 2,
	PKI_IDP_ATTR_ONLY = 1U << 3,
	PKI_IDP_INDIRECT = 1U << 4,
};

struct pki_crl_opts {
	const struct pki_ca *issuer; /* name from issuer->cert, AKI from its SKID, signed with issuer->key */
	EVP_PKEY *sign_key;          /* sign with this key instead of issuer->key */
	const struct pki_ca *aki_from; /* take the AKI from this CA instead (an AKI mismatch) */
	bool no_aki;                 /* no authorityKeyIdentifier */
	const struct pki_crl_entry *entries;
	size_t n_entries;
	const unsigned char *number; /* cRLNumber magnitude (any length), NULL = no cRLNumber */
	size_t number_len;
	bool number_negative;
	time_t this_update;          /* 0 = now - 3600 */
	time_t next_update;          /* 0 = thisUpdate + 7 days */
	bool no_next_update;
	const EVP_MD *md;            /* NULL = SHA-256 */
	unsigned idp;                /* enum pki_idp_flags */
	unsigned idp_reason_bits;    /* onlySomeReasons (PKI_RF_*), 0 = absent */
	const char *idp_uri;         /* IDP distributionPoint fullName URI */
	const char *idp_dn;          /* IDP distributionPoint fullName directoryName (struct pki_dp's syntax) */
	const char *idp_rdn;         /* IDP distributionPoint nameRelativeToCRLIssuer ("CN=CRL1") */
	bool unknown_critical;       /* a CRL extension PKI_UNKNOWN_EXT_OID, critical */
	bool unknown_noncritical;    /* the same, not critical */
	bool dup_unknown;            /* the non-critical unknown extension twice */
	bool delta;                  /* deltaCRLIndicator (base CRL number 1 unless delta_base) */
	const unsigned char *delta_base; /* BaseCRLNumber magnitude of a delta */
	size_t delta_base_len;
	bool delta_noncritical;      /* the deltaCRLIndicator not marked critical (RFC 5280 §5.2.4 forbids it) */
	const char *freshest_uri;    /* a FreshestCRL (§5.2.6) fullName URI */
	bool ms_exts;                /* AD CS's non-critical CA Version and Next CRL Publish extensions */
	bool raw;                    /* return the CRL as built, not re-decoded from its DER */
};

/*
 * Builds and signs a CRL. Unless opts->raw, the result is decoded again from its own DER, so it is
 * exactly what the library sees in a file. Free with X509_CRL_free().
 */
X509_CRL *pki_crl_new(const struct pki_crl_opts *opts);

/* A name in struct pki_dp's syntax ("O=crlsync test,CN=x"); free with X509_NAME_free(). */
X509_NAME *pki_name(const char *text);

/* DER of a CRL; caller frees with free(). */
unsigned char *pki_crl_der(X509_CRL *crl, size_t *len);
/* PEM of a CRL, NUL-terminated; caller frees with free(). */
char *pki_crl_pem(X509_CRL *crl, size_t *len);

/*
 * Writes `len` bytes to path the way the fetcher installs a file: a hidden temporary file in the
 * same directory, then rename() over the target (so the inode always changes).
 */
void pki_write_file(const char *path, const void *buf, size_t len);
/* pki_write_file() of the CRL's DER (or PEM). */
void pki_crl_write(const char *path, X509_CRL *crl, bool pem);

/* A fresh empty directory under CRLSYNC_TEST_TMP, TMPDIR or /tmp; caller frees the string after pki_rmtree(). */
char *pki_tmpdir(void);
/* Removes a directory tree (ignores errors). */
void pki_rmtree(const char *path);
/* "dir/name" in a static rotating buffer (valid for the next few calls). */
const char *pki_path(const char *dir, const char *name);

#endif
