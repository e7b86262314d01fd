/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Differential test of lib/check.c against OpenSSL's X509_verify_cert() over generated PKIs (issue 14). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "crlsync/check.h"
#include "crlsync/crl.h"
#include "crlsync/store.h"
#include "pki.h"

/*
 * Every case is one small PKI: a root, the intermediate "Inter" (the CA under test) and one leaf
 * of Inter whose cRLDistributionPoints and Inter's CRLs vary along the corners of RFC 5280 §6.3.3
 * that a first differential run found (issue 14): distribution point names as URI, as a
 * directoryName and as nameRelativeToCRLIssuer on either side; DistributionPoint.reasons;
 * onlySomeReasons partitions; removeFromCRL in a complete CRL. crlsync decides with check_cert()
 * on CRLs from the fast loader; OpenSSL with X509_verify_cert(), X509_V_FLAG_CRL_CHECK |
 * X509_V_FLAG_CRL_CHECK_ALL (the root's own empty CRL covers Inter), plus
 * X509_V_FLAG_EXTENDED_CRL_SUPPORT whenever a CRL carries an issuingDistributionPoint.
 *
 * What must hold:
 * - safety: no case in which a CRL in scope lists the leaf is accepted by crlsync;
 * - crlsync's verdict is the one the abstract rule (expect(), below) gives;
 * - where OpenSSL says otherwise, documented() names why, and nothing else differs.
 */

#define INTER_DN "O=crlsync test,CN=Inter"
#define U1 "http://crl.example/crl1.crl"
#define U2 "http://crl.example/crl2.crl"

/* ReasonFlags partitions: keyCompromise + cACompromise, and the rest. */
#define RF_KC (PKI_RF_KEY_COMPROMISE | PKI_RF_CA_COMPROMISE)
#define RF_REST (PKI_RF_AFFILIATION_CHANGED | PKI_RF_SUPERSEDED | PKI_RF_CESSATION | PKI_RF_CERTIFICATE_HOLD | \
		 PKI_RF_PRIVILEGE_WITHDRAWN | PKI_RF_AA_COMPROMISE)
#define RF_ALL (RF_KC | RF_REST)

static const unsigned char leaf_sn = 0x11, other_sn = 0x12;

static struct {
	struct pki_ca *root, *inter;
	X509_CRL *root_crl;
	time_t now;
} fx;

/* The certificate's DPs: the point each names (abstractly) and how. */
enum dp_form { DP_NONE, DP_URI1, DP_DN1, DP_RDN1, DP_URI2, DP_RDN2, DP_TWO_URIS, DP_FORMS };
/* The CRL's IDP distributionPoint. */
enum idp_form { IDP_NONE, IDP_URI1, IDP_DN1, IDP_RDN1, IDP_FORMS };
/* Inter's CRLs: one complete CRL, or two onlySomeReasons partitions (RF_KC, RF_REST). */
enum crl_set { SET_ONE, SET_PARTITIONS, SET_FORMS };
/* Who is listed, and how. */
enum listing { LIST_NONE, LIST_KC_FIRST, LIST_SUPERSEDED_LAST, LIST_REMOVE_FIRST, LIST_REMOVE_OTHER, LIST_FORMS };

struct dcase {
	enum dp_form dp;
	bool dp_reasons; /* the DPs carry reasons: RF_KC on the first (DP_TWO_URIS: always RF_KC, RF_REST) */
	enum idp_form idp;
	enum crl_set set;
	enum listing list;
};

/* Abstract points: U1 and U2 are URIs, D1 = Inter's DN + CN=CRL1 (however written), D2 = ... CN=CRL2. */
enum point { P_NONE, P_U1, P_U2, P_D1, P_D2 };

static enum point dp_point(enum dp_form f, int i)
{
	static const enum point p[] = { [DP_URI1] = P_U1, [DP_DN1] = P_D1, [DP_RDN1] = P_D1, [DP_URI2] = P_U2,
					[DP_RDN2] = P_D2 };

	if (f == DP_TWO_URIS)
		return i == 0 ? P_U1 : P_U2;
	return i == 0 ? p[f] : P_NONE;
}

static int dp_count(enum dp_form f)
{
	return f == DP_NONE ? 0 : f == DP_TWO_URIS ? 2 : 1;
}

static unsigned dp_reason_bits(const struct dcase *k, int i)
{
	if (k->dp == DP_TWO_URIS)
		return i == 0 ? RF_KC : RF_REST;
	return k->dp_reasons ? RF_KC : RF_ALL;
}

static enum point idp_point(enum idp_form f)
{
	static const enum point p[] = { [IDP_NONE] = P_NONE, [IDP_URI1] = P_U1, [IDP_DN1] = P_D1, [IDP_RDN1] = P_D1 };

	return p[f];
}

/* The rule, abstractly (README "Decisions", RFC 5280 §6.3.3 (b)(2)(i), (d)). */
static enum check_status expect(const struct dcase *k, bool *in_scope_listed)
{
	enum point ip = idp_point(k->idp);
	unsigned reasons = 0;
	bool in_scope = ip == P_NONE, listed;

	for (int i = 0; i < dp_count(k->dp); i++) {
		/* Without an IDP name the CRL answers every DP of its issuer; with one, the DP it names. */
		if (ip == P_NONE || dp_point(k->dp, i) == ip) {
			in_scope = true;
			reasons |= dp_reason_bits(k, i);
		}
	}
	if (dp_count(k->dp) == 0 || (ip == P_NONE && reasons == 0))
		reasons = RF_ALL;
	listed = k->list == LIST_KC_FIRST || k->list == LIST_SUPERSEDED_LAST || k->list == LIST_REMOVE_FIRST;
	*in_scope_listed = in_scope && listed;
	if (!in_scope)
		return CHECK_UNKNOWN;
	if (listed)
		return CHECK_REVOKED; /* whatever reasons the listing CRL vouches for: fail closed */
	return reasons == RF_ALL ? CHECK_GOOD : CHECK_UNKNOWN;
}

static X509 *make_leaf(const struct dcase *k)
{
	struct pki_dp dps[2] = { { 0 } };

	for (int i = 0; i < dp_count(k->dp); i++) {
		switch (dp_point(k->dp, i)) {
		case P_U1: dps[i].uri = U1; break;
		case P_U2: dps[i].uri = U2; break;
		case P_D1:
			if (k->dp == DP_DN1)
				dps[i].dn = INTER_DN ",CN=CRL1";
			else
				dps[i].rdn = "CN=CRL1";
			break;
		case P_D2: dps[i].rdn = "CN=CRL2"; break;
		case P_NONE: break;
		}
		dps[i].reason_bits = dp_reason_bits(k, i) == RF_ALL ? 0 : dp_reason_bits(k, i);
	}
	return pki_leaf_new(fx.inter, "leaf",
			    &(struct pki_leaf_opts){ .serial = &leaf_sn, .serial_len = 1, .dps = dps,
						     .n_dps = (size_t)dp_count(k->dp) });
}

/* Inter's CRLs of the case: 1 or 2. */
static size_t make_crls(const struct dcase *k, X509_CRL *out[2])
{
	static const unsigned char n1 = 1;
	size_t n = k->set == SET_ONE ? 1 : 2;

	for (size_t i = 0; i < n; i++) {
		struct pki_crl_entry e = { .serial = &leaf_sn, .serial_len = 1, .reason = -1 };
		struct pki_crl_opts o = { .issuer = fx.inter, .number = &n1, .number_len = 1 };
		bool first = i == 0, last = i == n - 1;

		if (k->set == SET_PARTITIONS)
			o.idp_reason_bits = first ? RF_KC : RF_REST;
		switch (k->idp) {
		case IDP_NONE: break;
		case IDP_URI1: o.idp_uri = U1; break;
		case IDP_DN1: o.idp_dn = INTER_DN ",CN=CRL1"; break;
		case IDP_RDN1: o.idp_rdn = "CN=CRL1"; break;
		case IDP_FORMS: break;
		}
		if ((k->list == LIST_KC_FIRST && first) || (k->list == LIST_REMOVE_FIRST && first) ||
		    (k->list == LIST_SUPERSEDED_LAST && last) || (k->list == LIST_REMOVE_OTHER && first)) {
			e.reason = k->list == LIST_KC_FIRST ? CRL_REASON_KEY_COMPROMISE
				   : k->list == LIST_SUPERSEDED_LAST ? CRL_REASON_SUPERSEDED
								     : CRL_REASON_REMOVE_FROM_CRL;
			if (k->list == LIST_REMOVE_OTHER)
				e.serial = &other_sn;
			o.entries = &e;
			o.n_entries = 1;
		}
		out[i] = pki_crl_new(&o);
	}
	return n;
}

static enum check_status crlsync_decides(X509 *leaf, X509_CRL *const *crls, size_t n, struct check_result *r)
{
	struct store *s = calloc(1, sizeof(*s));
	enum check_status st;

	assert_non_null(s);
	atomic_init(&s->refs, 1);
	s->issuers = calloc(1, sizeof(*s->issuers));
	s->issuers[0].crls = calloc(2, sizeof(struct crl *));
	assert_true(s->issuers != NULL && s->issuers[0].crls != NULL);
	s->n_issuers = 1;
	s->issuers[0].ca = fx.inter->cert;
	s->issuers[0].source = "inter";
	for (size_t i = 0; i < n; i++) {
		X509 *cas[] = { fx.inter->cert };
		size_t len;
		unsigned char *der = pki_crl_der(crls[i], &len);
		struct crl *c = NULL;
		char err[300];

		/* The production path: the fast loader (test_crl holds it to the reference). */
		if (crl_from_der(der, len, cas, 1, fx.now, "inter.crl", 0, &c, err, sizeof(err)) != CRL_OK)
			fail_msg("crl_from_der: %s", err);
		free(der);
		s->issuers[0].crls[s->issuers[0].n_crls++] = c;
		s->n_crls++;
	}
	st = check_cert(s, leaf, fx.now, r);
	store_unref(s);
	return st;
}

/* X509_V_OK, or the error of the verification and its depth. */
static int openssl_decides(X509 *leaf, X509_CRL *const *crls, size_t n, bool extended, int *depth)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	unsigned long flags = X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	int err;

	assert_true(store != NULL && ctx != NULL && untrusted != NULL);
	assert_true(X509_STORE_add_cert(store, fx.root->cert));
	assert_true(X509_STORE_add_crl(store, fx.root_crl));
	for (size_t i = 0; i < n; i++)
		assert_true(X509_STORE_add_crl(store, crls[i]));
	assert_true(sk_X509_push(untrusted, fx.inter->cert));
	assert_true(X509_STORE_CTX_init(ctx, store, leaf, untrusted));
	if (extended)
		flags |= X509_V_FLAG_EXTENDED_CRL_SUPPORT;
	X509_STORE_CTX_set_flags(ctx, flags);
	X509_STORE_CTX_set_time(ctx, 0, fx.now);
	err = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	*depth = X509_STORE_CTX_get_error_depth(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	return err;
}

enum outcome { ACCEPT, REVOKED, UNDECIDED, OTHER };

static enum outcome of_crlsync(enum check_status st)
{
	return st == CHECK_GOOD ? ACCEPT : st == CHECK_REVOKED ? REVOKED : UNDECIDED;
}

static enum outcome of_openssl(int err, int depth)
{
	if (err == X509_V_OK)
		return ACCEPT;
	if (depth != 0)
		return OTHER; /* the root's or Inter's part of the chain must never fail here */
	if (err == X509_V_ERR_CERT_REVOKED)
		return REVOKED;
	/* No CRL at all, or none whose scope covers the certificate: crlsync's "missing" (unknown). */
	if (err == X509_V_ERR_UNABLE_TO_GET_CRL || err == X509_V_ERR_DIFFERENT_CRL_SCOPE)
		return UNDECIDED;
	return OTHER;
}

/*
 * Why crlsync and OpenSSL may differ on a case, NULL when they must not. Each is a deliberate
 * rule of crlsync (README, "Decisions"); counted and printed at the end.
 */
enum diff_kind { DIFF_REMOVE_FROM_CRL, DIFF_LISTED_NO_NEW_REASON, DIFF_DP_UNION, DIFF_KINDS };

static const char *const diff_why[DIFF_KINDS] = {
	[DIFF_REMOVE_FROM_CRL] = "removeFromCRL in a complete CRL: crlsync counts the listing as a revocation "
				 "(RFC 5280 5.3.1 allows the reason in deltas only; fail closed); OpenSSL's cert_crl() "
				 "reads it as 'not revoked'",
	[DIFF_LISTED_NO_NEW_REASON] = "listed in a CRL in scope that adds no reason the certificate's DP asks for: "
				      "crlsync revokes (a listing in scope always counts), OpenSSL skips that CRL "
				      "('no new reasons') and cannot get a CRL",
	[DIFF_DP_UNION] = "a CRL without an IDP name answers each of the certificate's DPs: crlsync covers the "
			  "union of their reasons (RFC 5280 6.3.3 walks the DPs one by one), OpenSSL's "
			  "crl_crldp_check() only the first DP's",
};

static int documented(const struct dcase *k, enum outcome cs, enum outcome os)
{
	if (k->list == LIST_REMOVE_FIRST && cs == REVOKED && (os == ACCEPT || os == UNDECIDED))
		return DIFF_REMOVE_FROM_CRL;
	if (k->list == LIST_SUPERSEDED_LAST && k->set == SET_PARTITIONS && cs == REVOKED && os == UNDECIDED &&
	    (k->dp_reasons || k->dp == DP_TWO_URIS))
		return DIFF_LISTED_NO_NEW_REASON;
	if (k->dp == DP_TWO_URIS && k->idp == IDP_NONE && cs == ACCEPT && os == UNDECIDED)
		return DIFF_DP_UNION;
	return -1;
}

static int group_setup(void **state)
{
	(void)state;
	fx.now = time(NULL);
	fx.root = pki_ca_new("crlsync diff root", NULL, 0);
	fx.inter = pki_ca_new("Inter", fx.root, 0);
	fx.root_crl = pki_crl_new(&(struct pki_crl_opts){ .issuer = fx.root });
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	pki_ca_free(fx.root);
	pki_ca_free(fx.inter);
	X509_CRL_free(fx.root_crl);
	return 0;
}

static void check_cert__generated_pkis__never_accepts_listed_and_agrees_with_openssl_or_says_why(void **state)
{
	size_t cases = 0, agree = 0, diff[DIFF_KINDS] = { 0 }, listed_cases = 0, failures = 0;

	(void)state;
	for (int dp = 0; dp < DP_FORMS; dp++)
	for (int dr = 0; dr < 2; dr++)
	for (int idp = 0; idp < IDP_FORMS; idp++)
	for (int set = 0; set < SET_FORMS; set++)
	for (int list = 0; list < LIST_FORMS; list++) {
		const struct dcase k = { (enum dp_form)dp, dr != 0, (enum idp_form)idp, (enum crl_set)set,
					 (enum listing)list };
		X509_CRL *crls[2] = { NULL, NULL };
		X509 *leaf;
		struct check_result r;
		enum check_status want, got;
		enum outcome cs, os;
		bool in_scope_listed;
		int err, depth, d;
		size_t n;

		if ((k.dp == DP_NONE || k.dp == DP_TWO_URIS) && k.dp_reasons)
			continue; /* no DP to carry reasons / reasons fixed by the form */
		cases++;
		leaf = make_leaf(&k);
		n = make_crls(&k, crls);
		want = expect(&k, &in_scope_listed);
		got = crlsync_decides(leaf, crls, n, &r);
		err = openssl_decides(leaf, crls, n, k.idp != IDP_NONE || k.set == SET_PARTITIONS, &depth);
		cs = of_crlsync(got);
		os = of_openssl(err, depth);
		listed_cases += in_scope_listed;
		if (in_scope_listed && got != CHECK_REVOKED) {
			print_error("case dp=%d reasons=%d idp=%d set=%d list=%d: listed in a CRL in scope, yet %s (%s)\n",
				    dp, dr, idp, set, list, check_status_str(got), r.why);
			failures++;
		}
		if (got != want) {
			print_error("case dp=%d reasons=%d idp=%d set=%d list=%d: crlsync %s, the rule says %s (%s)\n",
				    dp, dr, idp, set, list, check_status_str(got), check_status_str(want), r.why);
			failures++;
		}
		if (cs == os) {
			agree++;
		} else if ((d = documented(&k, cs, os)) >= 0) {
			diff[d]++;
		} else {
			print_error("case dp=%d reasons=%d idp=%d set=%d list=%d: crlsync %s (%s), OpenSSL %s at depth %d: "
				    "an undocumented difference\n",
				    dp, dr, idp, set, list, check_status_str(got), r.why,
				    X509_verify_cert_error_string(err), depth);
			failures++;
		}
		X509_free(leaf);
		for (size_t i = 0; i < n; i++)
			X509_CRL_free(crls[i]);
	}
	print_message("%zu generated PKIs, %zu with the leaf listed in a CRL in scope (every one revoked by crlsync); "
		      "%zu agree with OpenSSL\n", cases, listed_cases, agree);
	for (int i = 0; i < DIFF_KINDS; i++)
		print_message("  %zu differ: %s\n", diff[i], diff_why[i]);
	assert_int_equal(failures, 0);
	assert_int_equal(cases, agree + diff[0] + diff[1] + diff[2]);
	/* The corners are really exercised: each documented difference occurs. */
	for (int i = 0; i < DIFF_KINDS; i++)
		assert_true(diff[i] > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_cert__generated_pkis__never_accepts_listed_and_agrees_with_openssl_or_says_why),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
