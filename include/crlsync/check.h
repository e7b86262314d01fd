/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The revocation check of one certificate against a snapshot (the verdict it leads to: policy.h). */
#ifndef CRLSYNC_CHECK_H
#define CRLSYNC_CHECK_H

#include <stdbool.h>
#include <time.h>
#include <openssl/x509.h>

#include "crlsync/config.h"
#include "crlsync/store.h"

/* After strongSwan's cert_validation_t. */
enum check_status {
	CHECK_GOOD = 0,    /* complete, current CRL coverage and not listed */
	CHECK_REVOKED,     /* listed (certificateHold included) */
	CHECK_STALE,       /* not listed, but a CRL needed for coverage is past nextUpdate */
	CHECK_UNKNOWN,     /* no usable CRL covers it (no ca configured, none loaded, out of scope) */
	CHECK_ERROR,       /* could not check at all (bad certificate, internal failure) */
};

struct check_result {
	enum check_status status;
	const struct crl *crl;     /* deciding CRL (borrowed from the snapshot), NULL when none */
	time_t revoked_at;         /* CHECK_REVOKED */
	int reason;                /* CHECK_REVOKED: CRL_REASON_* or CRL_REASON_ABSENT */
	char why[200];             /* CHECK_UNKNOWN / CHECK_ERROR: why */
};

/*
 * Checks `cert` against the CRLs of its issuer in `snap`. A self-signed certificate is GOOD
 * (a trust anchor has no issuer CRL). Never allocates on success paths that matter; thread-safe.
 */
enum check_status check_cert(const struct store *snap, X509 *cert, time_t now, struct check_result *res);

const char *check_status_str(enum check_status s);

/*
 * The why of a result, for logs: "revoked on <date>, reason <r> (CRL <origin> number <n>)",
 * "CRL <origin> number <n> expired at <date>", "no usable CRL for the issuer (<why>)", ...
 */
void check_describe(const struct check_result *r, char *buf, size_t len);

#endif
