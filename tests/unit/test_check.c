/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of lib/check.c: one certificate against the CRLs of its issuer in a snapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/x509v3.h>

#include "crl_reference.h"
#include "crlsync/check.h"
#include "pki.h"

#define DAY (24L * 3600)

static struct {
	struct pki_ca *ca;       /* configured */
	struct pki_ca *rollover; /* same name as ca, another key */
	struct pki_ca *stranger; /* never configured */
	X509 *leaf;              /* serial 0x01 */
	X509 *sub;               /* CA certificate issued by ca, serial 0x02 */
	time_t now;
} fx;

static const unsigned char s01 = 0x01, s02 = 0x02;

static int group_setup(void **state)
{
	(void)state;
	fx.now = time(NULL);
	fx.ca = pki_ca_new("crlsync check CA", NULL, 0);
	fx.rollover = pki_ca_new("crlsync check CA", NULL, 0);
	fx.stranger = pki_ca_new("crlsync stranger CA", NULL, 0);
	fx.leaf = pki_leaf_new(fx.ca, "alice", &(struct pki_leaf_opts){ .serial = &s01, .serial_len = 1 });
	fx.sub = pki_leaf_new(fx.ca, "crlsync sub CA", &(struct pki_leaf_opts){ .serial = &s02, .serial_len = 1, .ca = true });
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	pki_ca_free(fx.ca);
	pki_ca_free(fx.rollover);
	pki_ca_free(fx.stranger);
	X509_free(fx.leaf);
	X509_free(fx.sub);
	return 0;
}

/* A verified crl; caller unrefs (or hands it to snap()). */
static struct crl *mk(const struct pki_crl_opts *o)
{
	X509 *cas[] = { fx.ca->cert, fx.rollover->cert };
	X509_CRL *x = pki_crl_new(o);
	struct crl *c = NULL;
	char err[512];

	if (crl_from_x509(x, cas, 2, fx.now, "check.crl", &c, err, sizeof(err)) != CRL_OK)
		fail_msg("crl_from_x509: %s", err);
	X509_CRL_free(x);
	return c;
}

/*
 * A hand-built snapshot (store_loader is tested in test_store.c): one issuer per ca, each crl
 * under the issuer that verified it. Takes over the crl references; free with store_unref(),
 * which frees exactly what is allocated here.
 */
static struct store *snap(X509 *const *cas, size_t n_cas, struct crl *const *crls, size_t n_crls)
{
	static const char *const names[] = { "first", "second", "third" };
	struct store *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	assert_true(n_cas <= 3);
	atomic_init(&s->refs, 1);
	s->issuers = calloc(n_cas ? n_cas : 1, sizeof(*s->issuers));
	assert_non_null(s->issuers);
	s->n_issuers = n_cas;
	for (size_t i = 0; i < n_cas; i++) {
		s->issuers[i].ca = cas[i];
		s->issuers[i].source = names[i];
	}
	for (size_t k = 0; k < n_crls; k++) {
		size_t i = 0;

		while (i < n_cas && X509_cmp(cas[i], crls[k]->ca) != 0)
			i++;
		assert_true(i < n_cas);
		s->issuers[i].crls = realloc(s->issuers[i].crls, (s->issuers[i].n_crls + 1) * sizeof(struct crl *));
		assert_non_null(s->issuers[i].crls);
		s->issuers[i].crls[s->issuers[i].n_crls++] = crls[k];
		s->n_crls++;
		s->n_entries += crls[k]->entries;
	}
	return s;
}

/* fx.ca configured, holding these crls. */
static struct store *snap_ca(struct crl *const *crls, size_t n)
{
	X509 *cas[] = { fx.ca->cert };

	return snap(cas, 1, crls, n);
}

static enum check_status check_at(const struct store *s, X509 *cert, time_t now, struct check_result *r)
{
	enum check_status st = check_cert(s, cert, now, r);

	assert_int_equal(r->status, st);
	if (st == CHECK_UNKNOWN || st == CHECK_ERROR)
		assert_true(r->why[0] != '\0');
	if (st != CHECK_REVOKED)
		assert_int_equal(r->reason, CRL_REASON_ABSENT);
	return st;
}

static enum check_status check(const struct store *s, X509 *cert, struct check_result *r)
{
	return check_at(s, cert, fx.now, r);
}

/* One entry: serial with reason, revoked at `when`. */
#define ENTRY(sn, len, why, when) \
	((const struct pki_crl_entry){ .serial = (sn), .serial_len = (len), .reason = (why), .revoked_at = (when) })

/* ---- the basic answers ---- */

static void check_cert__not_listed__good(void **state)
{
	const struct pki_crl_entry e = ENTRY(&s02, 1, CRL_REASON_KEY_COMPROMISE, 0);
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1 });
	struct store *s = snap_ca(&c, 1);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, fx.leaf, &r), CHECK_GOOD);
	assert_ptr_equal(r.crl, c);
	store_unref(s);
}

static void check_cert__listed__revoked_with_reason_and_date(void **state)
{
	const struct pki_crl_entry e = ENTRY(&s01, 1, CRL_REASON_KEY_COMPROMISE, fx.now - 3 * DAY);
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1 });
	struct store *s = snap_ca(&c, 1);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, fx.leaf, &r), CHECK_REVOKED);
	assert_ptr_equal(r.crl, c);
	assert_int_equal(r.reason, CRL_REASON_KEY_COMPROMISE);
	assert_int_equal(r.revoked_at, fx.now - 3 * DAY);
	store_unref(s);
}

static void check_cert__listed_without_reason__revoked_reason_absent(void **state)
{
	const struct pki_crl_entry e = ENTRY(&s01, 1, -1, fx.now - DAY);
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1 });
	struct store *s = snap_ca(&c, 1);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, fx.leaf, &r), CHECK_REVOKED);
	assert_int_equal(r.reason, CRL_REASON_ABSENT);
	store_unref(s);
}

static void check_cert__certificate_hold__revoked(void **state)
{
	const struct pki_crl_entry e = ENTRY(&s01, 1, CRL_REASON_CERTIFICATE_HOLD, fx.now - DAY);
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1 });
	struct store *s = snap_ca(&c, 1);
	struct check_result r;

	(void)state;
	/* RFC 5280 §5.3.1: a certificate on hold is revoked while it is listed. */
	assert_int_equal(check(s, fx.leaf, &r), CHECK_REVOKED);
	assert_int_equal(r.reason, CRL_REASON_CERTIFICATE_HOLD);
	store_unref(s);
}

static void check_cert__hold_released_by_newer_crl__good(void **state)
{
	const struct pki_crl_entry e = ENTRY(&s01, 1, CRL_REASON_CERTIFICATE_HOLD, fx.now - 2 * DAY);
	char *dir = pki_tmpdir();
	struct cfg_source src = { .ca = fx.ca->cert };
	struct cfg cfg = { .global.cache_dir = dir, .sources = &src, .n_sources = 1 };
	struct store_loader *l;
	struct store *s1 = NULL, *s2 = NULL;
	struct check_result r;
	X509_CRL *x;

	(void)state;
	snprintf(src.name, sizeof(src.name), "hold");
	x = pki_crl_new(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1,
						.number = (const unsigned char *)"\x01", .number_len = 1,
						.this_update = fx.now - DAY });
	pki_crl_write(pki_path(dir, "ca.crl"), x, false);
	X509_CRL_free(x);
	l = store_loader_new(&cfg, NULL);
	assert_non_null(l);
	assert_int_equal(store_loader_load(l, fx.now, &s1), 0);
	assert_int_equal(check(s1, fx.leaf, &r), CHECK_REVOKED);
	assert_int_equal(r.reason, CRL_REASON_CERTIFICATE_HOLD);
	/* The next CRL no longer lists it: the hold is released (RFC 5280 §3.3). */
	x = pki_crl_new(&(struct pki_crl_opts){ .issuer = fx.ca, .number = (const unsigned char *)"\x02",
						.number_len = 1, .this_update = fx.now - 600 });
	pki_crl_write(pki_path(dir, "ca.crl"), x, false);
	X509_CRL_free(x);
	assert_int_equal(store_loader_load(l, fx.now, &s2), 0);
	assert_int_equal(check(s2, fx.leaf, &r), CHECK_GOOD);
	assert_string_equal(r.crl->number_hex, "02");
	/* A reader still holding the old snapshot still sees the hold. */
	assert_int_equal(check(s1, fx.leaf, &r), CHECK_REVOKED);
	store_unref(s1);
	store_unref(s2);
	store_loader_free(l);
	pki_rmtree(dir);
	free(dir);
}

static void check_cert__self_signed__good(void **state)
{
	struct store *s = snap_ca(NULL, 0);
	struct check_result r;

	(void)state;
	/* A trust anchor has no issuer CRL: even with no CRL at all, and even if not configured. */
	assert_int_equal(check(s, fx.ca->cert, &r), CHECK_GOOD);
	assert_null(r.crl);
	assert_int_equal(check(s, fx.stranger->cert, &r), CHECK_GOOD);
	store_unref(s);
}

static void check_cert__self_issued_not_self_signed__revoked(void **state)
{
	static const unsigned char s03 = 0x03;
	const struct pki_crl_entry e = ENTRY(&s03, 1, CRL_REASON_KEY_COMPROMISE, 0);
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1 });
	struct store *s = snap_ca(&c, 1);
	/* Subject = issuer = the ca's name, no AKI, signed by the ca: self-issued, not self-signed. */
	X509 *fake = pki_leaf_new(fx.ca, "crlsync check CA",
				  &(struct pki_leaf_opts){ .serial = &s03, .serial_len = 1, .no_akid = true });
	struct check_result r;

	(void)state;
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(fake), X509_get_issuer_name(fake)), 0);
	/* OpenSSL flags it self-signed from names and key identifiers alone, never checking the signature. */
	assert_true(X509_get_extension_flags(fake) & EXFLAG_SS);
	assert_int_equal(check(s, fake, &r), CHECK_REVOKED);
	assert_ptr_equal(r.crl, c);
	assert_int_equal(r.reason, CRL_REASON_KEY_COMPROMISE);
	X509_free(fake);
	store_unref(s);
}

static void check_cert__real_self_signed_root_listed_by_itself__good(void **state)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(fx.ca->cert);
	const struct pki_crl_entry e = ENTRY(ASN1_STRING_get0_data(sn), (size_t)ASN1_STRING_length(sn),
					     CRL_REASON_KEY_COMPROMISE, 0);
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1 });
	struct store *s = snap_ca(&c, 1);
	struct check_result r;

	(void)state;
	/* The twin: the root's signature verifies with its own key, so it stays a trust anchor. */
	assert_true(X509_get_extension_flags(fx.ca->cert) & EXFLAG_SS);
	assert_int_equal(check(s, fx.ca->cert, &r), CHECK_GOOD);
	assert_null(r.crl);
	store_unref(s);
}

static void check_cert__intermediate_without_crl__unknown(void **state)
{
	struct store *s = snap_ca(NULL, 0);
	struct check_result r;

	(void)state;
	/* The twin: a CA certificate that is not self-signed is checked like any other. */
	assert_int_equal(check(s, fx.sub, &r), CHECK_UNKNOWN);
	store_unref(s);
}

static void check_cert__no_configured_issuer__unknown(void **state)
{
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca });
	struct store *s = snap_ca(&c, 1);
	X509 *leaf = pki_leaf_new(fx.stranger, "mallory", NULL);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, leaf, &r), CHECK_UNKNOWN);
	assert_null(r.crl);
	assert_non_null(strstr(r.why, "no configured ca"));
	X509_free(leaf);
	store_unref(s);
}

static void check_cert__issuer_without_crl__unknown(void **state)
{
	struct store *s = snap_ca(NULL, 0);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, fx.leaf, &r), CHECK_UNKNOWN);
	assert_null(r.crl);
	assert_non_null(strstr(r.why, "no CRL loaded"));
	store_unref(s);
}

static void check_cert__null_cert__error(void **state)
{
	struct store *s = snap_ca(NULL, 0);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, NULL, &r), CHECK_ERROR);
	store_unref(s);
}

/* ---- freshness ---- */

static void check_cert__expired_crl__stale(void **state)
{
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .this_update = fx.now - 10 * DAY,
						   .next_update = fx.now - DAY });
	struct store *s = snap_ca(&c, 1);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, fx.leaf, &r), CHECK_STALE);
	assert_ptr_equal(r.crl, c);
	store_unref(s);
}

static void check_cert__at_next_update__good_one_second_later_stale(void **state)
{
	time_t nu = fx.now + DAY;
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .next_update = nu });
	struct store *s = snap_ca(&c, 1);
	struct check_result r;

	(void)state;
	assert_int_equal(check_at(s, fx.leaf, nu, &r), CHECK_GOOD);
	assert_int_equal(check_at(s, fx.leaf, nu + 1, &r), CHECK_STALE);
	store_unref(s);
}

static void check_cert__revoked_in_expired_crl__revoked(void **state)
{
	const struct pki_crl_entry e = ENTRY(&s01, 1, CRL_REASON_SUPERSEDED, fx.now - 20 * DAY);
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1,
						   .this_update = fx.now - 10 * DAY, .next_update = fx.now - DAY });
	struct store *s = snap_ca(&c, 1);
	struct check_result r;

	(void)state;
	/* An old CRL cannot un-revoke: staleness only matters for certificates it does not list. */
	assert_int_equal(check(s, fx.leaf, &r), CHECK_REVOKED);
	assert_int_equal(r.reason, CRL_REASON_SUPERSEDED);
	store_unref(s);
}

static void check_cert__crl_without_next_update__never_stale(void **state)
{
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .this_update = fx.now - 400 * DAY,
						   .no_next_update = true });
	struct store *s = snap_ca(&c, 1);
	struct check_result r;

	(void)state;
	assert_int_equal(check_at(s, fx.leaf, fx.now + 400 * DAY, &r), CHECK_GOOD);
	store_unref(s);
}

/* ---- scope ---- */

static void check_cert__user_only_crl_ca_cert__unknown(void **state)
{
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_USER_ONLY });
	struct store *s = snap_ca(&c, 1);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, fx.sub, &r), CHECK_UNKNOWN);
	assert_non_null(strstr(r.why, "onlyContainsUserCerts"));
	store_unref(s);
}

static void check_cert__user_only_crl_leaf__good(void **state)
{
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_USER_ONLY });
	struct store *s = snap_ca(&c, 1);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, fx.leaf, &r), CHECK_GOOD);
	store_unref(s);
}

static void check_cert__user_only_and_ca_only_crls__each_cert_its_crl(void **state)
{
	const struct pki_crl_entry e = ENTRY(&s02, 1, CRL_REASON_CA_COMPROMISE, 0);
	struct crl *c[2] = {
		mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_USER_ONLY }),
		mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_CA_ONLY, .entries = &e, .n_entries = 1 }),
	};
	struct crl *user = c[0], *cas = c[1];
	struct store *s = snap_ca(c, 2);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, fx.leaf, &r), CHECK_GOOD);
	assert_ptr_equal(r.crl, user);
	assert_int_equal(check(s, fx.sub, &r), CHECK_REVOKED);
	assert_ptr_equal(r.crl, cas);
	store_unref(s);
}

static void check_cert__listed_in_out_of_scope_crl__not_revoked(void **state)
{
	const struct pki_crl_entry e = ENTRY(&s01, 1, CRL_REASON_KEY_COMPROMISE, 0);
	struct crl *c[2] = {
		mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_CA_ONLY, .entries = &e, .n_entries = 1 }),
		mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_USER_ONLY }),
	};
	struct store *s = snap_ca(c, 2);
	struct check_result r;

	(void)state;
	/* The CA-only CRL says nothing about an end entity (RFC 5280 §6.3.3 (b)(2)(ii)). */
	assert_int_equal(check(s, fx.leaf, &r), CHECK_GOOD);
	store_unref(s);
}

static void check_cert__expired_crl_out_of_scope__ignored(void **state)
{
	struct crl *c[2] = {
		mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_CA_ONLY, .this_update = fx.now - 10 * DAY,
					   .next_update = fx.now - DAY }),
		mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_USER_ONLY }),
	};
	struct store *s = snap_ca(c, 2);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, fx.leaf, &r), CHECK_GOOD);
	assert_int_equal(check(s, fx.sub, &r), CHECK_STALE);
	store_unref(s);
}

static void check_cert__idp_name_not_in_cert__unknown(void **state)
{
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_uri = "http://crl.example/p1.crl" });
	struct store *s = snap_ca(&c, 1);
	X509 *in = pki_leaf_new(fx.ca, "p1", &(struct pki_leaf_opts){ .crldp_uri = "http://crl.example/p1.crl" });
	X509 *out = pki_leaf_new(fx.ca, "p2", &(struct pki_leaf_opts){ .crldp_uri = "http://crl.example/p2.crl" });
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, in, &r), CHECK_GOOD);
	assert_int_equal(check(s, out, &r), CHECK_UNKNOWN);
	assert_non_null(strstr(r.why, "distribution point"));
	X509_free(in);
	X509_free(out);
	store_unref(s);
}

/* ---- onlySomeReasons ---- */

#define RF_FIRST_HALF (PKI_RF_KEY_COMPROMISE | PKI_RF_CA_COMPROMISE | PKI_RF_AFFILIATION_CHANGED | PKI_RF_SUPERSEDED)
#define RF_SECOND_HALF \
	(PKI_RF_CESSATION | PKI_RF_CERTIFICATE_HOLD | PKI_RF_PRIVILEGE_WITHDRAWN | PKI_RF_AA_COMPROMISE)

static void check_cert__some_reasons_crls_covering_all__good(void **state)
{
	struct crl *c[2] = {
		mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_reason_bits = RF_FIRST_HALF }),
		mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_reason_bits = RF_SECOND_HALF }),
	};
	struct store *s = snap_ca(c, 2);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, fx.leaf, &r), CHECK_GOOD);
	store_unref(s);
}

static void check_cert__some_reasons_crls_covering_part__unknown(void **state)
{
	struct crl *c[2] = {
		mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_reason_bits = RF_FIRST_HALF }),
		/* certificateHold missing from the union */
		mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_reason_bits = RF_SECOND_HALF & ~PKI_RF_CERTIFICATE_HOLD }),
	};
	struct store *s = snap_ca(c, 2);
	struct check_result r;

	(void)state;
	/* RFC 5280 §6.3.3 (j)/(k): reasons_mask must reach all-reasons for a "not revoked" answer. */
	assert_int_equal(check(s, fx.leaf, &r), CHECK_UNKNOWN);
	assert_non_null(strstr(r.why, "some revocation reasons"));
	store_unref(s);
}

static void check_cert__listed_in_some_reasons_crl__revoked(void **state)
{
	const struct pki_crl_entry e = ENTRY(&s01, 1, CRL_REASON_KEY_COMPROMISE, 0);
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_reason_bits = RF_FIRST_HALF, .entries = &e,
						   .n_entries = 1 });
	struct store *s = snap_ca(&c, 1);
	struct check_result r;

	(void)state;
	/* Incomplete coverage cannot say "good", but a listing is a listing. */
	assert_int_equal(check(s, fx.leaf, &r), CHECK_REVOKED);
	store_unref(s);
}

static void check_cert__some_reasons_one_part_expired__stale(void **state)
{
	struct crl *c[2] = {
		mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_reason_bits = RF_FIRST_HALF }),
		mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_reason_bits = RF_SECOND_HALF,
					   .this_update = fx.now - 10 * DAY, .next_update = fx.now - DAY }),
	};
	struct crl *old = c[1];
	struct store *s = snap_ca(c, 2);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, fx.leaf, &r), CHECK_STALE);
	assert_ptr_equal(r.crl, old);
	store_unref(s);
}

/* ---- serials ---- */

static void serial_case(const unsigned char *listed, const unsigned char *unlisted, size_t len)
{
	const struct pki_crl_entry e = ENTRY(listed, len, CRL_REASON_AFFILIATION_CHANGED, 0);
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1 });
	struct store *s = snap_ca(&c, 1);
	X509 *yes = pki_leaf_new(fx.ca, "listed", &(struct pki_leaf_opts){ .serial = listed, .serial_len = len });
	X509 *no = pki_leaf_new(fx.ca, "unlisted", &(struct pki_leaf_opts){ .serial = unlisted, .serial_len = len });
	struct check_result r;

	assert_int_equal(check(s, yes, &r), CHECK_REVOKED);
	assert_int_equal(r.reason, CRL_REASON_AFFILIATION_CHANGED);
	assert_int_equal(check(s, no, &r), CHECK_GOOD);
	X509_free(yes);
	X509_free(no);
	store_unref(s);
}

static void check_cert__one_byte_serial__revoked(void **state)
{
	static const unsigned char s = 0x7F, t = 0x7E;

	(void)state;
	serial_case(&s, &t, 1);
}

static void check_cert__twenty_byte_serial__revoked(void **state)
{
	unsigned char s[20], t[20];

	(void)state;
	for (int i = 0; i < 20; i++)
		s[i] = (unsigned char)(0x11 + i);
	memcpy(t, s, sizeof(t));
	t[19]++;
	serial_case(s, t, 20);
}

static void check_cert__top_bit_serial__revoked(void **state)
{
	static const unsigned char s[] = { 0x8A, 0x3F }, t[] = { 0x8A, 0x40 };

	(void)state;
	serial_case(s, t, 2);
}

/* ---- a real chain: root -> intermediate -> leaf ---- */

static void check_cert__intermediate_listed_by_root__revoked(void **state)
{
	struct pki_ca *mid = pki_ca_new("crlsync check intermediate", fx.ca, 0);
	const ASN1_INTEGER *sn = X509_get0_serialNumber(mid->cert);
	const struct pki_crl_entry e = ENTRY(ASN1_STRING_get0_data(sn), (size_t)ASN1_STRING_length(sn),
					     CRL_REASON_CA_COMPROMISE, 0);
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_CA_ONLY, .entries = &e,
						   .n_entries = 1 });
	struct crl *clean = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp = PKI_IDP_CA_ONLY });
	struct store *s = snap_ca(&c, 1), *s_clean = snap_ca(&clean, 1);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, mid->cert, &r), CHECK_REVOKED);
	assert_int_equal(r.reason, CRL_REASON_CA_COMPROMISE);
	assert_int_equal(check(s_clean, mid->cert, &r), CHECK_GOOD);
	store_unref(s);
	store_unref(s_clean);
	pki_ca_free(mid);
}

static void check_cert__leaf_of_intermediate__intermediate_crl_decides(void **state)
{
	struct pki_ca *mid = pki_ca_new("crlsync check intermediate", fx.ca, 0);
	X509 *cas[] = { fx.ca->cert, mid->cert };
	X509 *leaf = pki_leaf_new(mid, "grace", &(struct pki_leaf_opts){ .serial = &s01, .serial_len = 1 });
	const struct pki_crl_entry e = ENTRY(&s01, 1, CRL_REASON_KEY_COMPROMISE, 0);
	X509_CRL *x = pki_crl_new(&(struct pki_crl_opts){ .issuer = mid, .entries = &e, .n_entries = 1 });
	X509_CRL *root_x = pki_crl_new(&(struct pki_crl_opts){ .issuer = fx.ca });
	struct crl *c[2] = { NULL, NULL };
	struct store *s, *s_root_only;
	struct check_result r;
	char err[256];

	(void)state;
	assert_int_equal(crl_from_x509(x, cas, 2, fx.now, "mid.crl", &c[0], err, sizeof(err)), CRL_OK);
	assert_int_equal(crl_from_x509(root_x, cas, 2, fx.now, "root.crl", &c[1], err, sizeof(err)), CRL_OK);
	s = snap(cas, 2, c, 2);
	/* The root's CRL lists nothing; the leaf is revoked by its own issuer's CRL, not by serial alone. */
	assert_int_equal(check(s, leaf, &r), CHECK_REVOKED);
	assert_ptr_equal(r.crl, c[0]);
	/* Twin: the same serial under the root is not revoked. */
	assert_int_equal(check(s, fx.leaf, &r), CHECK_GOOD);
	assert_ptr_equal(r.crl, c[1]);
	/* And without the intermediate configured, its leaf is unknown. */
	s_root_only = snap(cas, 1, &c[1], 0);
	assert_int_equal(check(s_root_only, leaf, &r), CHECK_UNKNOWN);
	store_unref(s);
	store_unref(s_root_only);
	X509_CRL_free(x);
	X509_CRL_free(root_x);
	X509_free(leaf);
	pki_ca_free(mid);
}

/* ---- several keys under one name ---- */

static void check_cert__key_rollover__crls_of_the_signing_key(void **state)
{
	const struct pki_crl_entry e = ENTRY(&s01, 1, CRL_REASON_KEY_COMPROMISE, 0);
	X509 *cas[] = { fx.ca->cert, fx.rollover->cert };
	struct crl *c[2] = {
		mk(&(struct pki_crl_opts){ .issuer = fx.ca }),
		mk(&(struct pki_crl_opts){ .issuer = fx.rollover, .entries = &e, .n_entries = 1 }),
	};
	struct crl *new_key_crl = c[1];
	struct store *s = snap(cas, 2, c, 2);
	/* Without an AKI both issuers match by name; the signature picks the right one. */
	X509 *rolled = pki_leaf_new(fx.rollover, "rolled", &(struct pki_leaf_opts){ .no_akid = true });
	X509 *rolled_akid = pki_leaf_new(fx.rollover, "rolled2", NULL);
	X509 *old_key = pki_leaf_new(fx.ca, "old", &(struct pki_leaf_opts){ .no_akid = true });
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, rolled, &r), CHECK_REVOKED);
	assert_ptr_equal(r.crl, new_key_crl);
	assert_int_equal(check(s, rolled_akid, &r), CHECK_REVOKED);
	assert_int_equal(check(s, old_key, &r), CHECK_GOOD);
	X509_free(rolled);
	X509_free(rolled_akid);
	X509_free(old_key);
	store_unref(s);
}

/* A crl verified against exactly these cas; caller unrefs (or hands it to snap()). */
static struct crl *mk_for(X509 *const *cas, size_t n_cas, const struct pki_crl_opts *o)
{
	X509_CRL *x = pki_crl_new(o);
	struct crl *c = NULL;
	char err[512];

	if (crl_from_x509(x, cas, n_cas, fx.now, "legacy.crl", &c, err, sizeof(err)) != CRL_OK)
		fail_msg("crl_from_x509: %s", err);
	X509_CRL_free(x);
	return c;
}

static void check_cert__legacy_same_name_other_key__unknown(void **state)
{
	static const unsigned char s03 = 0x03;
	const struct pki_crl_entry e = ENTRY(&s03, 1, CRL_REASON_KEY_COMPROMISE, 0);
	/* A legacy PKI: no key identifiers anywhere, so only the name links a certificate to its CA. */
	struct pki_ca *old = pki_ca_new("crlsync legacy CA", NULL, PKI_CA_NO_SKID);
	struct pki_ca *new_key = pki_ca_new("crlsync legacy CA", NULL, PKI_CA_NO_SKID);
	X509 *cas[] = { old->cert };
	struct crl *c = mk_for(cas, 1, &(struct pki_crl_opts){ .issuer = old, .entries = &e, .n_entries = 1 });
	struct store *s = snap(cas, 1, &c, 1);
	X509 *forged = pki_leaf_new(new_key, "mallory", &(struct pki_leaf_opts){ .serial = &s01, .serial_len = 1 });
	X509 *forged_listed =
		pki_leaf_new(new_key, "mallory2", &(struct pki_leaf_opts){ .serial = &s03, .serial_len = 1 });
	const struct store_issuer *cand[2];
	struct check_result r;

	(void)state;
	assert_null(X509_get0_authority_key_id(forged));
	assert_null(X509_get0_subject_key_id(old->cert));
	/* The name alone makes the configured ca a candidate; its CRL must not answer for another key. */
	assert_int_equal(store_find_issuers(s, forged, cand, 2), 1);
	assert_int_equal(check(s, forged, &r), CHECK_UNKNOWN);
	assert_null(r.crl);
	assert_non_null(strstr(r.why, "signed it"));
	assert_int_equal(check(s, forged_listed, &r), CHECK_UNKNOWN);
	X509_free(forged);
	X509_free(forged_listed);
	store_unref(s);
	pki_ca_free(old);
	pki_ca_free(new_key);
}

static void check_cert__legacy_same_name_configured_key__crl_decides(void **state)
{
	static const unsigned char s03 = 0x03;
	const struct pki_crl_entry e = ENTRY(&s03, 1, CRL_REASON_KEY_COMPROMISE, 0);
	struct pki_ca *old = pki_ca_new("crlsync legacy CA", NULL, PKI_CA_NO_SKID);
	X509 *cas[] = { old->cert };
	struct crl *c = mk_for(cas, 1, &(struct pki_crl_opts){ .issuer = old, .entries = &e, .n_entries = 1 });
	struct store *s = snap(cas, 1, &c, 1);
	X509 *good = pki_leaf_new(old, "alice", &(struct pki_leaf_opts){ .serial = &s01, .serial_len = 1 });
	X509 *listed = pki_leaf_new(old, "bob", &(struct pki_leaf_opts){ .serial = &s03, .serial_len = 1 });
	struct check_result r;

	(void)state;
	/* The twin: the same legacy ca, certificates really signed by its key. */
	assert_null(X509_get0_authority_key_id(good));
	assert_int_equal(check(s, good, &r), CHECK_GOOD);
	assert_ptr_equal(r.crl, c);
	assert_int_equal(check(s, listed, &r), CHECK_REVOKED);
	assert_int_equal(r.reason, CRL_REASON_KEY_COMPROMISE);
	X509_free(good);
	X509_free(listed);
	store_unref(s);
	pki_ca_free(old);
}

static void check_cert__no_akid_signed_by_unconfigured_rollover__unknown(void **state)
{
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca });
	struct store *s = snap_ca(&c, 1);
	/* The configured ca has a SKID, but the certificate names no key: one name, two keys. */
	X509 *rolled = pki_leaf_new(fx.rollover, "rolled", &(struct pki_leaf_opts){ .no_akid = true });
	X509 *own_key = pki_leaf_new(fx.ca, "own", &(struct pki_leaf_opts){ .no_akid = true });
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, rolled, &r), CHECK_UNKNOWN);
	assert_null(r.crl);
	assert_non_null(strstr(r.why, "signed it"));
	/* Twin: without an AKI but signed by the configured key, its CRL decides. */
	assert_int_equal(check(s, own_key, &r), CHECK_GOOD);
	assert_ptr_equal(r.crl, c);
	X509_free(rolled);
	X509_free(own_key);
	store_unref(s);
}

/* ---- delta CRLs (RFC 5280 §5.2.4, §6.3.3) ---- */

#define FRESHEST "http://pki.example/check%2B.crl"

/* A base numbered `bn` (with FreshestCRL, as AD CS writes it) listing `be`; NULL for none. */
static struct crl *mk_base(unsigned char bn, const struct pki_crl_entry *be, size_t n, time_t next)
{
	return mk(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &bn, .number_len = 1, .entries = be,
					   .n_entries = n, .freshest_uri = FRESHEST, .ms_exts = true,
					   .this_update = fx.now - 2 * DAY, .next_update = next });
}

/* A delta numbered `dn` for base number `db`, listing `de`. */
static struct crl *mk_delta(unsigned char dn, unsigned char db, const struct pki_crl_entry *de, size_t n, time_t next,
			    const char *idp)
{
	return mk(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &dn, .number_len = 1, .delta = true,
					   .delta_base = &db, .delta_base_len = 1, .entries = de, .n_entries = n,
					   .ms_exts = true, .idp_uri = idp, .this_update = fx.now - 600,
					   .next_update = next });
}

/* Base and delta in a snapshot (references taken over); the leaf's verdict. */
static enum check_status check_pair(struct crl *base, struct crl *delta, struct check_result *r,
				    const struct crl **by)
{
	struct crl *v[2] = { delta, base };
	size_t n = 0;
	struct store *s;
	enum check_status st;

	/* The delta first: the order of the snapshot must not matter. */
	if (delta != NULL)
		v[n++] = delta;
	if (base != NULL)
		v[n++] = base;
	s = snap_ca(v, n);
	st = check(s, fx.leaf, r);
	*by = r->crl == delta && delta != NULL ? delta : r->crl == base && base != NULL ? base : NULL;
	store_unref(s);
	return st;
}

static void check_cert__listed_in_delta_only__revoked(void **state)
{
	const struct pki_crl_entry de = ENTRY(&s01, 1, CRL_REASON_KEY_COMPROMISE, fx.now - 3600);
	struct crl *b = mk_base(4, NULL, 0, 0), *d = mk_delta(5, 4, &de, 1, 0, NULL);
	const struct crl *by;
	struct check_result r;

	(void)state;
	assert_int_equal(check_pair(b, d, &r, &by), CHECK_REVOKED);
	assert_ptr_equal(by, d);
	assert_int_equal(r.reason, CRL_REASON_KEY_COMPROMISE);
}

static void check_cert__listed_in_neither_with_delta__good(void **state)
{
	const struct pki_crl_entry de = ENTRY(&s02, 1, CRL_REASON_KEY_COMPROMISE, fx.now - 3600);
	struct crl *b = mk_base(4, NULL, 0, 0), *d = mk_delta(5, 4, &de, 1, 0, NULL);
	const struct crl *by;
	struct check_result r;

	(void)state;
	assert_int_equal(check_pair(b, d, &r, &by), CHECK_GOOD);
}

static void check_cert__listed_in_base_only_with_delta__revoked(void **state)
{
	const struct pki_crl_entry be = ENTRY(&s01, 1, CRL_REASON_SUPERSEDED, fx.now - 3 * DAY);
	struct crl *b = mk_base(4, &be, 1, 0), *d = mk_delta(5, 4, NULL, 0, 0, NULL);
	const struct crl *by;
	struct check_result r;

	(void)state;
	assert_int_equal(check_pair(b, d, &r, &by), CHECK_REVOKED);
	assert_ptr_equal(by, b);
}

static void check_cert__hold_in_base_removed_by_delta__good(void **state)
{
	const struct pki_crl_entry be = ENTRY(&s01, 1, CRL_REASON_CERTIFICATE_HOLD, fx.now - 3 * DAY);
	const struct pki_crl_entry de = ENTRY(&s01, 1, CRL_REASON_REMOVE_FROM_CRL, fx.now - 3600);
	struct crl *b = mk_base(4, &be, 1, 0), *d = mk_delta(5, 4, &de, 1, 0, NULL);
	const struct crl *by;
	struct check_result r;

	(void)state;
	/* RFC 5280 §5.3.1: removeFromCRL in a delta releases the base's certificateHold. */
	assert_int_equal(check_pair(b, d, &r, &by), CHECK_GOOD);
}

static void check_cert__key_compromise_in_base_removed_by_delta__revoked(void **state)
{
	const struct pki_crl_entry be = ENTRY(&s01, 1, CRL_REASON_KEY_COMPROMISE, fx.now - 3 * DAY);
	const struct pki_crl_entry de = ENTRY(&s01, 1, CRL_REASON_REMOVE_FROM_CRL, fx.now - 3600);
	struct crl *b = mk_base(4, &be, 1, 0), *d = mk_delta(5, 4, &de, 1, 0, NULL);
	const struct crl *by;
	struct check_result r;

	(void)state;
	/* Only a hold is ever released (§3.3: revocation is final); OpenSSL would release it: we fail closed. */
	assert_int_equal(check_pair(b, d, &r, &by), CHECK_REVOKED);
	assert_ptr_equal(by, b);
	assert_int_equal(r.reason, CRL_REASON_KEY_COMPROMISE);
}

static void check_cert__delta_without_base__unknown(void **state)
{
	const struct pki_crl_entry de = ENTRY(&s02, 1, CRL_REASON_KEY_COMPROMISE, fx.now - 3600);
	struct crl *d = mk_delta(5, 4, &de, 1, 0, NULL);
	const struct crl *by;
	struct check_result r;

	(void)state;
	/* Never in force alone: a delta is no complete CRL. */
	assert_int_equal(check_pair(NULL, d, &r, &by), CHECK_UNKNOWN);
}

static void check_cert__delta_for_newer_base__not_applied(void **state)
{
	const struct pki_crl_entry de = ENTRY(&s01, 1, CRL_REASON_KEY_COMPROMISE, fx.now - 3600);
	struct crl *b = mk_base(4, NULL, 0, 0), *d = mk_delta(7, 6, &de, 1, 0, NULL);
	const struct crl *by;
	struct check_result r;

	(void)state;
	/* A stray delta for base 6 says nothing about base 4 (§5.2.4): it waits for its base. */
	assert_int_equal(check_pair(b, d, &r, &by), CHECK_GOOD);
	assert_ptr_equal(by, b);
}

static void check_cert__delta_older_than_base__not_applied(void **state)
{
	const struct pki_crl_entry de = ENTRY(&s01, 1, CRL_REASON_CERTIFICATE_HOLD, fx.now - 3600);
	struct crl *b = mk_base(6, NULL, 0, 0), *d = mk_delta(5, 4, &de, 1, 0, NULL);
	const struct crl *by;
	struct check_result r;

	(void)state;
	/* Base 6 supersedes delta 5 (whose hold base 6 no longer lists: released). */
	assert_int_equal(check_pair(b, d, &r, &by), CHECK_GOOD);
}

static void check_cert__delta_with_other_idp__not_applied(void **state)
{
	const struct pki_crl_entry de = ENTRY(&s01, 1, CRL_REASON_KEY_COMPROMISE, fx.now - 3600);
	struct crl *b = mk_base(4, NULL, 0, 0), *d = mk_delta(5, 4, &de, 1, 0, "http://pki.example/other.crl");
	const struct crl *by;
	struct check_result r;

	(void)state;
	assert_int_equal(check_pair(b, d, &r, &by), CHECK_GOOD);
	assert_ptr_equal(by, b);
}

static void check_cert__expired_delta_current_base__stale(void **state)
{
	struct crl *b = mk_base(4, NULL, 0, fx.now + 5 * DAY), *d = mk_delta(5, 4, NULL, 0, fx.now - 60, NULL);
	const struct crl *by;
	struct check_result r;

	(void)state;
	/* With a delta in force its nextUpdate says how current the answer is. */
	assert_int_equal(check_pair(b, d, &r, &by), CHECK_STALE);
	assert_ptr_equal(by, d);
}

static void check_cert__current_delta_expired_base__good(void **state)
{
	struct crl *b = mk_base(4, NULL, 0, fx.now - 60), *d = mk_delta(5, 4, NULL, 0, fx.now + DAY, NULL);
	const struct crl *by;
	struct check_result r;

	(void)state;
	assert_int_equal(check_pair(b, d, &r, &by), CHECK_GOOD);
	/* Twin: the same base without its delta is stale. */
	assert_int_equal(check_pair(mk_base(4, NULL, 0, fx.now - 60), NULL, &r, &by), CHECK_STALE);
}

static void check_cert__only_the_delta_file_changes__revoked_after_reload(void **state)
{
	static const unsigned char n4 = 4, n5 = 5, n6 = 6;
	const struct pki_crl_entry de = ENTRY(&s01, 1, CRL_REASON_KEY_COMPROMISE, fx.now - 60);
	char *dir = pki_tmpdir();
	struct cfg_source src = { .ca = fx.ca->cert };
	struct cfg cfg = { .global.cache_dir = dir, .sources = &src, .n_sources = 1 };
	struct store_loader *l;
	struct store *s1 = NULL, *s2 = NULL, *s3 = NULL;
	struct check_result r;
	X509_CRL *x;

	(void)state;
	snprintf(src.name, sizeof(src.name), "corp");
	x = pki_crl_new(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &n4, .number_len = 1,
						.freshest_uri = FRESHEST, .this_update = fx.now - DAY });
	pki_crl_write(pki_path(dir, "corp.crl"), x, false);
	X509_CRL_free(x);
	x = pki_crl_new(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &n5, .number_len = 1, .delta = true,
						.delta_base = &n4, .delta_base_len = 1, .this_update = fx.now - 3600 });
	pki_crl_write(pki_path(dir, "corp+.crl"), x, false);
	X509_CRL_free(x);
	l = store_loader_new(&cfg, NULL);
	assert_non_null(l);
	assert_int_equal(store_loader_load(l, fx.now, &s1), 0);
	assert_int_equal(s1->n_crls, 2);
	assert_int_equal(check(s1, fx.leaf, &r), CHECK_GOOD);
	/* Only the delta is replaced (AD CS publishes one a day): the next snapshot revokes. */
	x = pki_crl_new(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &n6, .number_len = 1, .delta = true,
						.delta_base = &n4, .delta_base_len = 1, .entries = &de, .n_entries = 1,
						.this_update = fx.now - 60 });
	pki_crl_write(pki_path(dir, "corp+.crl"), x, false);
	X509_CRL_free(x);
	assert_int_equal(store_loader_load(l, fx.now, &s2), 0);
	assert_int_equal(check(s2, fx.leaf, &r), CHECK_REVOKED);
	assert_string_equal(r.crl->origin, "corp+.crl");
	/* A delta rollback (number 5 again, its old content) is refused: the revocation stays. */
	x = pki_crl_new(&(struct pki_crl_opts){ .issuer = fx.ca, .number = &n5, .number_len = 1, .delta = true,
						.delta_base = &n4, .delta_base_len = 1, .this_update = fx.now - 3600 });
	pki_crl_write(pki_path(dir, "corp+.crl"), x, false);
	X509_CRL_free(x);
	assert_int_equal(store_loader_load(l, fx.now, &s3), 0);
	assert_int_equal(check(s3, fx.leaf, &r), CHECK_REVOKED);
	store_unref(s1);
	store_unref(s2);
	store_unref(s3);
	store_loader_free(l);
	pki_rmtree(dir);
	free(dir);
}

/* OpenSSL's own verdict with X509_V_FLAG_CRL_CHECK | X509_V_FLAG_USE_DELTAS on fx.leaf: revoked or not. */
static bool openssl_revoked(const struct pki_crl_opts *bo, const struct pki_crl_opts *dopt, int *err)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_CRL *b = pki_crl_new(bo), *d = pki_crl_new(dopt);
	int ok;

	assert_true(st && ctx && b && d);
	assert_int_equal(X509_STORE_add_cert(st, fx.ca->cert), 1);
	assert_int_equal(X509_STORE_add_crl(st, b), 1);
	assert_int_equal(X509_STORE_add_crl(st, d), 1);
	/*
	 * EXTENDED_CRL_SUPPORT too: without it OpenSSL 3.0's get_crl_score() never reaches its "don't
	 * process deltas at this stage" branch and may take the delta for the complete CRL.
	 */
	X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_USE_DELTAS | X509_V_FLAG_EXTENDED_CRL_SUPPORT);
	assert_int_equal(X509_STORE_CTX_init(ctx, st, fx.leaf, NULL), 1);
	X509_STORE_CTX_set_time(ctx, 0, fx.now);
	ok = X509_verify_cert(ctx);
	*err = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	X509_CRL_free(b);
	X509_CRL_free(d);
	return ok != 1 && *err == X509_V_ERR_CERT_REVOKED;
}

static void check_cert__deltas__agree_with_openssl_use_deltas(void **state)
{
	static const unsigned char n4 = 4, n5 = 5, n6 = 6, n7 = 7;
	const struct pki_crl_entry kc = ENTRY(&s01, 1, CRL_REASON_KEY_COMPROMISE, fx.now - 3 * DAY);
	const struct pki_crl_entry hold = ENTRY(&s01, 1, CRL_REASON_CERTIFICATE_HOLD, fx.now - 3 * DAY);
	const struct pki_crl_entry rm = ENTRY(&s01, 1, CRL_REASON_REMOVE_FROM_CRL, fx.now - 3600);
	const struct pki_crl_entry other = ENTRY(&s02, 1, CRL_REASON_KEY_COMPROMISE, fx.now - 3600);
	/* base entry, base number, delta entry, delta number, delta's base number: every case OpenSSL and we share. */
	const struct {
		const struct pki_crl_entry *be, *de;
		const unsigned char *bn, *dn, *db;
	} cases[] = {
		{ NULL, &kc, &n4, &n5, &n4 },    /* in the delta only */
		{ &kc, NULL, &n4, &n5, &n4 },    /* in the base only */
		{ &hold, &rm, &n4, &n5, &n4 },   /* a hold released */
		{ NULL, &other, &n4, &n5, &n4 }, /* neither */
		{ NULL, &kc, &n4, &n7, &n6 },    /* a delta for a newer base: not applied */
		{ &hold, &rm, &n6, &n5, &n4 },   /* an older delta: not applied, the hold stands */
		{ NULL, &kc, &n6, &n7, &n4 },    /* a newer base, a delta for an older one: applies */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pki_crl_opts bo = { .issuer = fx.ca, .number = cases[i].bn, .number_len = 1,
						 .entries = cases[i].be, .n_entries = cases[i].be != NULL,
						 .freshest_uri = FRESHEST, .this_update = fx.now - 2 * DAY };
		const struct pki_crl_opts dopt = { .issuer = fx.ca, .number = cases[i].dn, .number_len = 1,
						   .delta = true, .delta_base = cases[i].db, .delta_base_len = 1,
						   .entries = cases[i].de, .n_entries = cases[i].de != NULL,
						   .this_update = fx.now - 600 };
		struct crl *v[2] = { mk(&bo), mk(&dopt) };
		struct store *s = snap_ca(v, 2);
		struct check_result r;
		int err = 0;
		bool theirs = openssl_revoked(&bo, &dopt, &err);

		if ((check(s, fx.leaf, &r) == CHECK_REVOKED) != theirs)
			fail_msg("case %zu: crlsync says %s, OpenSSL %s (%s)", i, check_status_str(r.status),
				 theirs ? "revoked" : "not revoked", X509_verify_cert_error_string(err));
		if (!theirs && err != X509_V_OK)
			fail_msg("case %zu: OpenSSL failed otherwise: %s", i, X509_verify_cert_error_string(err));
		store_unref(s);
	}
}

/* ---- RFC 5280 corners found by the differential test against OpenSSL (issue 14) ---- */

#define CHECK_CA_DN "O=crlsync test,CN=crlsync check CA"

/* A leaf of fx.ca, serial 0x01, with these DistributionPoints; caller frees. */
static X509 *leaf_dps(const struct pki_dp *dps, size_t n)
{
	return pki_leaf_new(fx.ca, "erin", &(struct pki_leaf_opts){ .serial = &s01, .serial_len = 1, .dps = dps, .n_dps = n });
}

static void check_cert__idp_relative_name_cert_full_dn__good(void **state)
{
	const struct pki_dp dp = { .dn = CHECK_CA_DN ",CN=CRL1" };
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_rdn = "CN=CRL1" });
	struct store *s = snap_ca(&c, 1);
	X509 *leaf = leaf_dps(&dp, 1);
	struct check_result r;

	(void)state;
	/* §5.2.5: nameRelativeToCRLIssuer CN=CRL1 is the CRL issuer's DN plus CN=CRL1. */
	assert_int_equal(check(s, leaf, &r), CHECK_GOOD);
	assert_ptr_equal(r.crl, c);
	X509_free(leaf);
	store_unref(s);
}

static void check_cert__idp_relative_name_cert_full_dn_listed__revoked(void **state)
{
	const struct pki_dp dp = { .dn = CHECK_CA_DN ",CN=CRL1" };
	const struct pki_crl_entry e = ENTRY(&s01, 1, CRL_REASON_KEY_COMPROMISE, 0);
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_rdn = "CN=CRL1", .entries = &e, .n_entries = 1 });
	struct store *s = snap_ca(&c, 1);
	X509 *leaf = leaf_dps(&dp, 1);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, leaf, &r), CHECK_REVOKED);
	assert_int_equal(r.reason, CRL_REASON_KEY_COMPROMISE);
	X509_free(leaf);
	store_unref(s);
}

static void check_cert__cert_relative_name_idp_full_dn__good(void **state)
{
	const struct pki_dp dp = { .rdn = "CN=CRL1" };
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_dn = CHECK_CA_DN ",CN=CRL1" });
	struct store *s = snap_ca(&c, 1);
	X509 *leaf = leaf_dps(&dp, 1);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, leaf, &r), CHECK_GOOD);
	X509_free(leaf);
	store_unref(s);
}

static void check_cert__idp_relative_name_other_point__unknown(void **state)
{
	const struct pki_dp dp = { .dn = CHECK_CA_DN ",CN=CRL2" };
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_rdn = "CN=CRL1" });
	struct store *s = snap_ca(&c, 1);
	X509 *leaf = leaf_dps(&dp, 1);
	struct check_result r;

	(void)state;
	assert_int_equal(check(s, leaf, &r), CHECK_UNKNOWN);
	assert_non_null(strstr(r.why, "distribution point"));
	X509_free(leaf);
	store_unref(s);
}

static void check_cert__dp_reasons_not_all_covered__unknown(void **state)
{
	const struct pki_dp dp = { .uri = "http://crl.example/kc.crl", .reason_bits = PKI_RF_KEY_COMPROMISE };
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca });
	struct store *s = snap_ca(&c, 1);
	X509 *leaf = leaf_dps(&dp, 1);
	struct check_result r;

	(void)state;
	/* §6.3.3 (d): the certificate's only DP vouches for keyCompromise alone; the rest is unknown. */
	assert_int_equal(check(s, leaf, &r), CHECK_UNKNOWN);
	assert_non_null(strstr(r.why, "only some revocation reasons"));
	X509_free(leaf);
	store_unref(s);
}

static void check_cert__dp_reasons_all_covered_by_two_dps__good(void **state)
{
	const struct pki_dp dps[] = {
		{ .uri = "http://crl.example/kc.crl", .reason_bits = PKI_RF_KEY_COMPROMISE | PKI_RF_CA_COMPROMISE },
		{ .uri = "http://crl.example/rest.crl",
		  .reason_bits = PKI_RF_AFFILIATION_CHANGED | PKI_RF_SUPERSEDED | PKI_RF_CESSATION |
				 PKI_RF_CERTIFICATE_HOLD | PKI_RF_PRIVILEGE_WITHDRAWN | PKI_RF_AA_COMPROMISE },
	};
	struct crl *c[] = { mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_uri = "http://crl.example/kc.crl" }),
			    mk(&(struct pki_crl_opts){ .issuer = fx.ca, .idp_uri = "http://crl.example/rest.crl" }) };
	struct store *both = snap_ca(c, 2), *one;
	X509 *leaf = leaf_dps(dps, 2);
	struct check_result r;

	(void)state;
	assert_int_equal(check(both, leaf, &r), CHECK_GOOD);
	/* The negative twin: the kc partition alone leaves the other reasons uncovered. */
	one = snap_ca(&(struct crl *){ crl_ref(c[0]) }, 1);
	assert_int_equal(check(one, leaf, &r), CHECK_UNKNOWN);
	X509_free(leaf);
	store_unref(both);
	store_unref(one);
}

static void check_cert__dp_reasons_listed_for_other_reason__revoked(void **state)
{
	const struct pki_dp dp = { .uri = "http://crl.example/kc.crl", .reason_bits = PKI_RF_KEY_COMPROMISE };
	const struct pki_crl_entry e = ENTRY(&s01, 1, CRL_REASON_SUPERSEDED, 0);
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1 });
	struct store *s = snap_ca(&c, 1);
	X509 *leaf = leaf_dps(&dp, 1);
	struct check_result r;

	(void)state;
	/* Fail closed: a CRL in scope that lists the certificate revokes it, whatever reasons it vouches for. */
	assert_int_equal(check(s, leaf, &r), CHECK_REVOKED);
	assert_int_equal(r.reason, CRL_REASON_SUPERSEDED);
	X509_free(leaf);
	store_unref(s);
}

static void check_cert__remove_from_crl_in_complete_crl__revoked(void **state)
{
	const struct pki_crl_entry e = ENTRY(&s01, 1, CRL_REASON_REMOVE_FROM_CRL, 0);
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1 });
	struct store *s = snap_ca(&c, 1);
	struct check_result r;

	(void)state;
	/* §5.3.1: removeFromCRL belongs in deltas; in a complete CRL the listing counts (OpenSSL ignores it). */
	assert_int_equal(check(s, fx.leaf, &r), CHECK_REVOKED);
	assert_int_equal(r.reason, CRL_REASON_REMOVE_FROM_CRL);
	store_unref(s);
}

static void check_cert__remove_from_crl_for_other_serial__good(void **state)
{
	const struct pki_crl_entry e = ENTRY(&s02, 1, CRL_REASON_REMOVE_FROM_CRL, 0);
	struct crl *c = mk(&(struct pki_crl_opts){ .issuer = fx.ca, .entries = &e, .n_entries = 1 });
	struct store *s = snap_ca(&c, 1);
	struct check_result r;

	(void)state;
	/* The twin: one malformed entry no longer costs every other certificate of the CA its CRL. */
	assert_int_equal(check(s, fx.leaf, &r), CHECK_GOOD);
	assert_int_equal(check(s, fx.sub, &r), CHECK_REVOKED);
	store_unref(s);
}

static void check_status_str__every_status__named(void **state)
{
	(void)state;
	assert_string_equal(check_status_str(CHECK_GOOD), "good");
	assert_string_equal(check_status_str(CHECK_REVOKED), "revoked");
	assert_string_equal(check_status_str(CHECK_STALE), "stale");
	assert_string_equal(check_status_str(CHECK_UNKNOWN), "unknown");
	assert_string_equal(check_status_str(CHECK_ERROR), "error");
	assert_string_equal(check_status_str((enum check_status)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_cert__not_listed__good),
		cmocka_unit_test(check_cert__listed_in_delta_only__revoked),
		cmocka_unit_test(check_cert__listed_in_neither_with_delta__good),
		cmocka_unit_test(check_cert__listed_in_base_only_with_delta__revoked),
		cmocka_unit_test(check_cert__hold_in_base_removed_by_delta__good),
		cmocka_unit_test(check_cert__key_compromise_in_base_removed_by_delta__revoked),
		cmocka_unit_test(check_cert__delta_without_base__unknown),
		cmocka_unit_test(check_cert__delta_for_newer_base__not_applied),
		cmocka_unit_test(check_cert__delta_older_than_base__not_applied),
		cmocka_unit_test(check_cert__delta_with_other_idp__not_applied),
		cmocka_unit_test(check_cert__expired_delta_current_base__stale),
		cmocka_unit_test(check_cert__current_delta_expired_base__good),
		cmocka_unit_test(check_cert__deltas__agree_with_openssl_use_deltas),
		cmocka_unit_test(check_cert__only_the_delta_file_changes__revoked_after_reload),
		cmocka_unit_test(check_cert__listed__revoked_with_reason_and_date),
		cmocka_unit_test(check_cert__listed_without_reason__revoked_reason_absent),
		cmocka_unit_test(check_cert__certificate_hold__revoked),
		cmocka_unit_test(check_cert__hold_released_by_newer_crl__good),
		cmocka_unit_test(check_cert__self_signed__good),
		cmocka_unit_test(check_cert__self_issued_not_self_signed__revoked),
		cmocka_unit_test(check_cert__real_self_signed_root_listed_by_itself__good),
		cmocka_unit_test(check_cert__intermediate_without_crl__unknown),
		cmocka_unit_test(check_cert__no_configured_issuer__unknown),
		cmocka_unit_test(check_cert__issuer_without_crl__unknown),
		cmocka_unit_test(check_cert__null_cert__error),
		cmocka_unit_test(check_cert__expired_crl__stale),
		cmocka_unit_test(check_cert__at_next_update__good_one_second_later_stale),
		cmocka_unit_test(check_cert__revoked_in_expired_crl__revoked),
		cmocka_unit_test(check_cert__crl_without_next_update__never_stale),
		cmocka_unit_test(check_cert__user_only_crl_ca_cert__unknown),
		cmocka_unit_test(check_cert__user_only_crl_leaf__good),
		cmocka_unit_test(check_cert__user_only_and_ca_only_crls__each_cert_its_crl),
		cmocka_unit_test(check_cert__listed_in_out_of_scope_crl__not_revoked),
		cmocka_unit_test(check_cert__expired_crl_out_of_scope__ignored),
		cmocka_unit_test(check_cert__idp_name_not_in_cert__unknown),
		cmocka_unit_test(check_cert__some_reasons_crls_covering_all__good),
		cmocka_unit_test(check_cert__some_reasons_crls_covering_part__unknown),
		cmocka_unit_test(check_cert__listed_in_some_reasons_crl__revoked),
		cmocka_unit_test(check_cert__some_reasons_one_part_expired__stale),
		cmocka_unit_test(check_cert__one_byte_serial__revoked),
		cmocka_unit_test(check_cert__twenty_byte_serial__revoked),
		cmocka_unit_test(check_cert__top_bit_serial__revoked),
		cmocka_unit_test(check_cert__intermediate_listed_by_root__revoked),
		cmocka_unit_test(check_cert__leaf_of_intermediate__intermediate_crl_decides),
		cmocka_unit_test(check_cert__key_rollover__crls_of_the_signing_key),
		cmocka_unit_test(check_cert__legacy_same_name_other_key__unknown),
		cmocka_unit_test(check_cert__legacy_same_name_configured_key__crl_decides),
		cmocka_unit_test(check_cert__no_akid_signed_by_unconfigured_rollover__unknown),
		cmocka_unit_test(check_cert__idp_relative_name_cert_full_dn__good),
		cmocka_unit_test(check_cert__idp_relative_name_cert_full_dn_listed__revoked),
		cmocka_unit_test(check_cert__cert_relative_name_idp_full_dn__good),
		cmocka_unit_test(check_cert__idp_relative_name_other_point__unknown),
		cmocka_unit_test(check_cert__dp_reasons_not_all_covered__unknown),
		cmocka_unit_test(check_cert__dp_reasons_all_covered_by_two_dps__good),
		cmocka_unit_test(check_cert__dp_reasons_listed_for_other_reason__revoked),
		cmocka_unit_test(check_cert__remove_from_crl_in_complete_crl__revoked),
		cmocka_unit_test(check_cert__remove_from_crl_for_other_serial__good),
		cmocka_unit_test(check_status_str__every_status__named),
	};

	return cmocka_run_group_tests_name("check", tests, group_setup, group_teardown);
}
