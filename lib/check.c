/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The revocation check of one certificate against the CRLs of its issuer in a snapshot. */
#include "crlsync/check.h"
#include "crlsync/fmt.h"

#include <stdio.h>
#include <string.h>

const char *check_status_str(enum check_status s)
{
	switch (s) {
	case CHECK_GOOD: return "good";
	case CHECK_REVOKED: return "revoked";
	case CHECK_STALE: return "stale";
	case CHECK_UNKNOWN: return "unknown";
	case CHECK_ERROR: return "error";
	}
	return "?";
}

void check_describe(const struct check_result *r, char *buf, size_t len)
{
	char t[40];

	switch (r->status) {
	case CHECK_REVOKED:
		fmt_time(r->revoked_at, t, sizeof(t));
		snprintf(buf, len, "revoked on %s, reason %s (CRL %s number %s)", t, fmt_reason(r->reason),
			 r->crl->origin, r->crl->number_hex);
		break;
	case CHECK_STALE:
		fmt_time(r->crl->next_update, t, sizeof(t));
		snprintf(buf, len, "CRL %s number %s expired at %s", r->crl->origin, r->crl->number_hex, t);
		break;
	case CHECK_UNKNOWN:
		snprintf(buf, len, "no usable CRL for the issuer (%s)", r->why);
		break;
	case CHECK_ERROR:
		snprintf(buf, len, "cannot check: %s", r->why);
		break;
	case CHECK_GOOD:
		if (r->crl != NULL)
			snprintf(buf, len, "not revoked (CRL %s number %s)", r->crl->origin, r->crl->number_hex);
		else
			snprintf(buf, len, "trust anchor");
		break;
	}
}

static enum check_status set(struct check_result *res, enum check_status st)
{
	res->status = st;
	return st;
}

/*
 * Whether name and key identifiers alone prove that `ca` issued `cert`: both sides carry a key
 * identifier and they match (X509_check_issued() compared them). Legacy PKIs without key
 * identifiers, or several same-named candidates, need the signature itself.
 */
static bool keyid_proves_issuer(const struct store_issuer *iss, X509 *cert)
{
	const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(cert);

	return akid != NULL && X509_get0_subject_key_id(iss->ca) != NULL;
}

/* The configured ca that really issued cert, or NULL: a same-named CA with another key is not it. */
static const struct store_issuer *pick_issuer(const struct store_issuer **cand, size_t n, X509 *cert)
{
	if (n == 1 && keyid_proves_issuer(cand[0], cert))
		return cand[0];
	for (size_t i = 0; i < n; i++)
		if (X509_verify(cert, X509_get0_pubkey(cand[i]->ca)) == 1)
			return cand[i];
	return NULL;
}

/* A trust anchor: self-issued and really self-signed (EXFLAG_SS alone does not check the signature). */
static bool is_self_signed(X509 *cert)
{
	return (X509_get_extension_flags(cert) & EXFLAG_SS) && X509_verify(cert, X509_get0_pubkey(cert)) == 1;
}

/*
 * The delta in force for the complete CRL `base`: of its issuer's deltas, the newest that applies
 * (crl_delta_applies(): same issuer and scope, BaseCRLNumber <= the base's number < its own).
 * The store keeps at most one per stream, so this is one at most in practice.
 */
static const struct crl *check_delta_of(const struct store_issuer *iss, const struct crl *base)
{
	const struct crl *best = NULL;

	for (size_t i = 0; i < iss->n_crls; i++) {
		const struct crl *d = iss->crls[i];

		if (!(d->flags & CRL_IS_DELTA) || crl_delta_applies(base, d) != CRL_DELTA_APPLIES)
			continue;
		if (best == NULL || d->number_len > best->number_len ||
		    (d->number_len == best->number_len && memcmp(d->number, best->number, d->number_len) > 0))
			best = d;
	}
	return best;
}

enum check_status check_cert(const struct store *snap, X509 *cert, time_t now, struct check_result *res)
{
	const struct store_issuer *cand[16], *iss;
	const ASN1_INTEGER *sn;
	const char *why = NULL;
	const struct crl *stale = NULL, *first = NULL;
	struct crl_index_hit hit;
	unsigned covered = 0;
	size_t n;

	memset(res, 0, sizeof(*res));
	res->reason = CRL_REASON_ABSENT;
	if (cert == NULL || (sn = X509_get0_serialNumber(cert)) == NULL) {
		snprintf(res->why, sizeof(res->why), "no certificate to check");
		return set(res, CHECK_ERROR);
	}
	/* A self-signed certificate is a trust anchor: nothing above it publishes a CRL for it. */
	if (is_self_signed(cert))
		return set(res, CHECK_GOOD);
	n = store_find_issuers(snap, cert, cand, sizeof(cand) / sizeof(cand[0]));
	if (n == 0) {
		snprintf(res->why, sizeof(res->why), "no configured ca is its issuer");
		return set(res, CHECK_UNKNOWN);
	}
	iss = pick_issuer(cand, n, cert);
	if (iss == NULL) {
		snprintf(res->why, sizeof(res->why), "no configured ca with its issuer's name signed it");
		return set(res, CHECK_UNKNOWN);
	}
	for (size_t i = 0; i < iss->n_crls; i++) {
		const struct crl *c = iss->crls[i], *d, *fresh;
		struct crl_index_hit dhit;
		bool in_base, in_delta;

		/* A delta is never in force alone: it only amends the complete CRL it applies to. */
		if ((c->flags & CRL_IS_DELTA) || !crl_covers(c, cert, &why))
			continue;
		covered |= crl_covered_reasons(c, cert);
		if (first == NULL)
			first = c;
		d = check_delta_of(iss, c);
		in_base = crl_index_find(c->index, ASN1_STRING_get0_data(sn), (size_t)ASN1_STRING_length(sn),
					 ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER, &hit);
		in_delta = d != NULL && crl_index_find(d->index, ASN1_STRING_get0_data(sn), (size_t)ASN1_STRING_length(sn),
						       ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER, &dhit);
		/*
		 * RFC 5280 §5.3.1, §6.3.3 (f)-(g): a delta entry replaces the base's. removeFromCRL
		 * releases a certificateHold of the base; against any other reason of the base it would
		 * undo a revocation, which no CA may do (§3.3): the base's verdict stands (fail closed).
		 */
		if (in_delta && dhit.reason == CRL_REASON_REMOVE_FROM_CRL) {
			if (in_base && hit.reason != CRL_REASON_CERTIFICATE_HOLD) {
				res->crl = c;
				res->revoked_at = hit.revoked_at;
				res->reason = hit.reason;
				return set(res, CHECK_REVOKED);
			}
		} else if (in_delta || in_base) {
			/* Listed in any CRL in scope means revoked, whatever its freshness (certificateHold too). */
			res->crl = in_delta ? d : c;
			res->revoked_at = in_delta ? dhit.revoked_at : hit.revoked_at;
			res->reason = in_delta ? dhit.reason : hit.reason;
			return set(res, CHECK_REVOKED);
		}
		/* With a delta in force, its nextUpdate says how current the pair is (§6.3.3 (a)(2)). */
		fresh = d != NULL ? d : c;
		if ((fresh->flags & CRL_HAS_NEXT_UPDATE) && now > fresh->next_update &&
		    (stale == NULL || fresh->next_update < stale->next_update))
			stale = fresh;
	}
	if ((covered & CRL_REASONS_ALL) != CRL_REASONS_ALL) {
		if (iss->n_crls == 0)
			snprintf(res->why, sizeof(res->why), "no CRL loaded for ca [source %s]", iss->source);
		else if (first == NULL)
			snprintf(res->why, sizeof(res->why), "no loaded CRL of ca [source %s] covers it: %s",
				 iss->source, why ? why : "out of scope");
		else
			snprintf(res->why, sizeof(res->why),
				 "the CRLs of ca [source %s] cover only some revocation reasons for it "
				 "(onlySomeReasons, or the reasons of its distribution points)", iss->source);
		res->crl = first;
		return set(res, CHECK_UNKNOWN);
	}
	if (stale != NULL) {
		res->crl = stale;
		return set(res, CHECK_STALE);
	}
	res->crl = first;
	return set(res, CHECK_GOOD);
}
