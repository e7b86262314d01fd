/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of lib/store.c: scanning cache-dir into snapshots, keeping good CRLs, refusing rollbacks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "crlsync/check.h"
#include "crlsync/mark.h"
#include "crlsync/store.h"
#include "pki.h"

#define DAY (24L * 3600)

static struct {
	struct pki_ca *a, *b;    /* the two configured sources */
	struct pki_ca *rollover; /* same name as a, another key, not configured */
	struct pki_ca *stranger; /* never configured */
	time_t now;
} fx;

/* One test's world: a cache dir, a hand-built configuration, a loader, the log it wrote. */
struct world {
	char *dir;
	struct cfg cfg;
	struct cfg_source sources[2];
	struct log_sink sink;
	struct store_loader *l;
	struct store_loader *l2; /* a second loader a test builds itself */
	struct store *snaps[16]; /* every snapshot a test got: teardown drops them, even after a failure */
	size_t n_snaps;
	char log[16384];
};

/* The world keeps the reference, so a failing assertion does not leak the snapshot. */
static void own(struct world *w, struct store *s)
{
	if (s == NULL || s == (struct store *)0x1)
		return;
	assert_true(w->n_snaps < sizeof(w->snaps) / sizeof(w->snaps[0]));
	w->snaps[w->n_snaps++] = s;
}

static void capture(void *ctx, enum log_level level, const char *line)
{
	struct world *w = ctx;
	size_t used = strlen(w->log);

	(void)level;
	snprintf(w->log + used, sizeof(w->log) - used, "%s\n", line);
}

static bool logged(const struct world *w, const char *needle)
{
	return strstr(w->log, needle) != NULL;
}

static int group_setup(void **state)
{
	(void)state;
	fx.now = time(NULL);
	fx.a = pki_ca_new("crlsync store CA A", NULL, 0);
	fx.b = pki_ca_new("crlsync store CA B", NULL, 0);
	fx.rollover = pki_ca_new("crlsync store CA A", NULL, 0);
	fx.stranger = pki_ca_new("crlsync stranger CA", NULL, 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	pki_ca_free(fx.a);
	pki_ca_free(fx.b);
	pki_ca_free(fx.rollover);
	pki_ca_free(fx.stranger);
	return 0;
}

/* A hand-built cfg: cfg_load() is not under test here, and the loader only reads these fields. */
static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->dir = pki_tmpdir();
	w->cfg.global.cache_dir = w->dir;
	w->cfg.sources = w->sources;
	w->cfg.n_sources = 2;
	snprintf(w->sources[0].name, sizeof(w->sources[0].name), "alpha");
	w->sources[0].ca = fx.a->cert; /* borrowed: the fixture owns the certificates */
	snprintf(w->sources[1].name, sizeof(w->sources[1].name), "beta");
	w->sources[1].ca = fx.b->cert;
	w->sink.fn = capture;
	w->sink.ctx = w;
	w->l = store_loader_new(&w->cfg, &w->sink);
	assert_non_null(w->l);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	for (size_t i = 0; i < w->n_snaps; i++)
		store_unref(w->snaps[i]);
	store_loader_free(w->l);
	store_loader_free(w->l2);
	pki_rmtree(w->dir);
	free(w->dir);
	free(w);
	return 0;
}

/* A new snapshot taken at `now` (owned by the world); asserts success. */
static struct store *load_at(struct world *w, time_t now)
{
	struct store *s = (struct store *)0x1;

	w->log[0] = '\0';
	assert_int_equal(store_loader_load(w->l, now, &s), 0);
	assert_non_null(s);
	own(w, s);
	assert_int_equal(atomic_load(&s->refs), 1);
	assert_int_equal(s->n_issuers, 2);
	return s;
}

static struct store *load(struct world *w)
{
	return load_at(w, fx.now);
}

static void write_crl(struct world *w, const char *name, const struct pki_crl_opts *o, bool pem)
{
	X509_CRL *x = pki_crl_new(o);

	pki_crl_write(pki_path(w->dir, name), x, pem);
	X509_CRL_free(x);
}

/* The single CRL of issuer i (asserts there is exactly one). */
static const struct crl *only_crl(const struct store *s, size_t i)
{
	assert_int_equal(s->issuers[i].n_crls, 1);
	return s->issuers[i].crls[0];
}

static const struct pki_crl_opts *numbered(const struct pki_ca *ca, unsigned char n)
{
	static unsigned char nums[16];
	static struct pki_crl_opts o[16];
	static unsigned next;
	unsigned k = next++ % 16;

	nums[k] = n;
	o[k] = (struct pki_crl_opts){ .issuer = ca, .number = &nums[k], .number_len = 1 };
	return &o[k];
}

static void assert_number(const struct crl *c, const char *hex)
{
	assert_string_equal(c->number_hex, hex);
}

/* ---- basic scans ---- */

static void store_loader_load__empty_dir__no_crls(void **state)
{
	struct world *w = *state;
	struct store *s = load(w);

	assert_int_equal(s->n_crls, 0);
	assert_int_equal(s->n_entries, 0);
	assert_ptr_equal(s->issuers[0].ca, fx.a->cert);
	assert_string_equal(s->issuers[0].source, "alpha");
	assert_int_equal(s->issuers[0].n_crls, 0);
	assert_ptr_equal(s->issuers[1].ca, fx.b->cert);
	assert_string_equal(s->issuers[1].source, "beta");
	assert_int_equal(s->issuers[1].n_crls, 0);
}

static void store_loader_load__good_crls_for_two_cas__both_in_force(void **state)
{
	static const unsigned char s1 = 0x11, s2 = 0x12, s3 = 0x13;
	const struct pki_crl_entry ea[] = { { .serial = &s1, .serial_len = 1, .reason = -1 },
					    { .serial = &s2, .serial_len = 1, .reason = 1 } };
	const struct pki_crl_entry eb[] = { { .serial = &s3, .serial_len = 1, .reason = -1 } };
	struct world *w = *state;
	struct store *s;

	write_crl(w, "alpha.crl", &(struct pki_crl_opts){ .issuer = fx.a, .entries = ea, .n_entries = 2 }, false);
	write_crl(w, "beta.pem", &(struct pki_crl_opts){ .issuer = fx.b, .entries = eb, .n_entries = 1 }, true);
	s = load(w);
	assert_int_equal(s->n_crls, 2);
	assert_int_equal(s->n_entries, 3);
	assert_int_equal(X509_cmp(only_crl(s, 0)->ca, fx.a->cert), 0);
	assert_string_equal(only_crl(s, 0)->origin, "alpha.crl");
	assert_int_equal(X509_cmp(only_crl(s, 1)->ca, fx.b->cert), 0);
	assert_string_equal(only_crl(s, 1)->origin, "beta.pem");
	/* The streaming DER loader built both, the DER file's and the PEM file's. */
	assert_true(only_crl(s, 0)->fast);
	assert_true(only_crl(s, 1)->fast);
	assert_true(logged(w, "loaded alpha.crl"));
}

static void store_loader_load__generation__increases(void **state)
{
	struct world *w = *state;
	struct store *s1 = load(w), *s2 = load(w);

	assert_true(s2->generation > s1->generation);
}

static void store_loader_load__hidden_file__ignored(void **state)
{
	struct world *w = *state;
	struct store *s;

	write_crl(w, ".alpha.crl.tmp", &(struct pki_crl_opts){ .issuer = fx.a }, false);
	s = load(w);
	assert_int_equal(s->n_crls, 0);
	/* Twin: the same file under a visible name is loaded. */
	assert_int_equal(rename(pki_path(w->dir, ".alpha.crl.tmp"), pki_path(w->dir, "alpha.crl")), 0);
	s = load(w);
	assert_int_equal(s->n_crls, 1);
}

static void store_loader_load__crl_of_unconfigured_ca__not_in_force(void **state)
{
	struct world *w = *state;
	struct store *s;

	write_crl(w, "stranger.crl", &(struct pki_crl_opts){ .issuer = fx.stranger }, false);
	write_crl(w, "rollover.crl", &(struct pki_crl_opts){ .issuer = fx.rollover }, false);
	s = load(w);
	assert_int_equal(s->n_crls, 0);
	assert_true(logged(w, "refused"));
}

static void store_loader_load__subdirectory__skipped(void **state)
{
	struct world *w = *state;
	struct store *s;

	assert_int_equal(mkdir(pki_path(w->dir, "archive"), 0700), 0);
	write_crl(w, "alpha.crl", &(struct pki_crl_opts){ .issuer = fx.a }, false);
	s = load(w);
	assert_int_equal(s->n_crls, 1);
}

static void store_loader_load__delta_crl__held_beside_its_base(void **state)
{
	struct world *w = *state;
	struct store *s;
	const struct crl *base = NULL, *delta = NULL;

	write_crl(w, "alpha.crl", numbered(fx.a, 3), false);
	write_crl(w, "alpha+.crl",
		  &(struct pki_crl_opts){ .issuer = fx.a, .number = (const unsigned char *)"\x04", .number_len = 1,
					  .delta = true, .delta_base = (const unsigned char *)"\x03", .delta_base_len = 1 },
		  false);
	s = load(w);
	/* Its own stream (mark.h): the delta neither replaces the base nor is refused as older or newer. */
	assert_int_equal(s->issuers[0].n_crls, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct crl *c = s->issuers[0].crls[i];

		if (c->flags & CRL_IS_DELTA)
			delta = c;
		else
			base = c;
	}
	assert_non_null(base);
	assert_non_null(delta);
	assert_string_equal(base->number_hex, "03");
	assert_string_equal(delta->number_hex, "04");
	assert_int_equal(crl_delta_applies(base, delta), CRL_DELTA_APPLIES);
}

static void store_loader_load__delta_indicator_not_critical__refused(void **state)
{
	struct world *w = *state;
	struct store *s;

	write_crl(w, "alpha.crl", numbered(fx.a, 3), false);
	write_crl(w, "alpha+.crl",
		  &(struct pki_crl_opts){ .issuer = fx.a, .number = (const unsigned char *)"\x04", .number_len = 1,
					  .delta = true, .delta_noncritical = true },
		  false);
	s = load(w);
	assert_number(only_crl(s, 0), "03");
}

/* ---- a file that turns bad keeps what it gave ---- */

/* Loads alpha.crl = number 5, then replaces it with `bad` bytes; the number-5 CRL must stay. */
static void assert_kept_after(struct world *w, void (*spoil)(struct world *w))
{
	static const unsigned char s1 = 0x21;
	const struct pki_crl_entry e = { .serial = &s1, .serial_len = 1, .reason = 1 };
	struct store *s1s, *s2s, *s3s;
	const struct crl *before;

	write_crl(w, "alpha.crl",
		  &(struct pki_crl_opts){ .issuer = fx.a, .number = (const unsigned char *)"\x05", .number_len = 1,
					  .entries = &e, .n_entries = 1 },
		  false);
	s1s = load(w);
	before = only_crl(s1s, 0);
	spoil(w);
	s2s = load(w);
	assert_int_equal(s2s->n_crls, 1);
	assert_ptr_equal(only_crl(s2s, 0), before);
	assert_int_equal(s2s->n_entries, 1);
	assert_true(logged(w, "alpha.crl"));
	/* And still on the next scan, when nothing changed. */
	s3s = load(w);
	assert_ptr_equal(only_crl(s3s, 0), before);
}

static void spoil_garbage(struct world *w)
{
	pki_write_file(pki_path(w->dir, "alpha.crl"), "garbage\n", 8);
}

static void spoil_bad_signature(struct world *w)
{
	/* A newer number, but signed by a key that is not the ca's. */
	write_crl(w, "alpha.crl",
		  &(struct pki_crl_opts){ .issuer = fx.a, .sign_key = fx.rollover->key,
					  .number = (const unsigned char *)"\x06", .number_len = 1 },
		  false);
}

static void spoil_truncated(struct world *w)
{
	X509_CRL *x = pki_crl_new(numbered(fx.a, 6));
	size_t len;
	unsigned char *der = pki_crl_der(x, &len);

	pki_write_file(pki_path(w->dir, "alpha.crl"), der, len - 7);
	free(der);
	X509_CRL_free(x);
}

static void spoil_directory(struct world *w)
{
	assert_int_equal(unlink(pki_path(w->dir, "alpha.crl")), 0);
	assert_int_equal(mkdir(pki_path(w->dir, "alpha.crl"), 0700), 0);
}

static void spoil_fifo(struct world *w)
{
	assert_int_equal(unlink(pki_path(w->dir, "alpha.crl")), 0);
	assert_int_equal(mkfifo(pki_path(w->dir, "alpha.crl"), 0600), 0);
}

static void spoil_future(struct world *w)
{
	write_crl(w, "alpha.crl",
		  &(struct pki_crl_opts){ .issuer = fx.a, .number = (const unsigned char *)"\x06", .number_len = 1,
					  .this_update = fx.now + DAY },
		  false);
}

static void store_loader_load__replaced_by_garbage__previous_kept(void **state)
{
	assert_kept_after(*state, spoil_garbage);
}

static void store_loader_load__replaced_by_bad_signature__previous_kept(void **state)
{
	assert_kept_after(*state, spoil_bad_signature);
}

static void store_loader_load__truncated__previous_kept(void **state)
{
	assert_kept_after(*state, spoil_truncated);
}

static void store_loader_load__replaced_by_directory__previous_kept(void **state)
{
	/* Running as root, chmod 000 does not make a file unreadable: a directory under its name does. */
	assert_kept_after(*state, spoil_directory);
}

static void store_loader_load__replaced_by_fifo__previous_kept(void **state)
{
	assert_kept_after(*state, spoil_fifo);
}

static void store_loader_load__replaced_by_future_crl__previous_kept(void **state)
{
	assert_kept_after(*state, spoil_future);
}

static void store_loader_load__replaced_by_newer__newer_in_force(void **state)
{
	struct world *w = *state;
	struct store *s1, *s2;

	/* The twin of the spoilers: a good replacement replaces. */
	write_crl(w, "alpha.crl", numbered(fx.a, 5), false);
	s1 = load(w);
	write_crl(w, "alpha.crl", numbered(fx.a, 6), true);
	s2 = load(w);
	assert_int_equal(s2->n_crls, 1);
	assert_ptr_not_equal(only_crl(s2, 0), only_crl(s1, 0));
	assert_number(only_crl(s2, 0), "06");
	assert_number(only_crl(s1, 0), "05"); /* the old snapshot is immutable */
}

static void store_loader_load__future_crl_unchanged__accepted_once_current(void **state)
{
	struct world *w = *state;
	struct store *s1, *s2;

	/* thisUpdate a day ahead: refused now, but the file is looked at again (the clock may be behind). */
	write_crl(w, "alpha.crl",
		  &(struct pki_crl_opts){ .issuer = fx.a, .this_update = fx.now + DAY, .next_update = fx.now + 9 * DAY },
		  false);
	s1 = load(w);
	assert_int_equal(s1->n_crls, 0);
	s2 = load_at(w, fx.now + 2 * DAY);
	assert_int_equal(s2->n_crls, 1);
}

/* ---- rollback ---- */

static void store_loader_load__lower_number__rollback_refused(void **state)
{
	struct world *w = *state;
	struct store *s1, *s2, *s3;

	write_crl(w, "alpha.crl", numbered(fx.a, 5), false);
	s1 = load(w);
	write_crl(w, "alpha.crl", numbered(fx.a, 4), false);
	s2 = load(w);
	assert_ptr_equal(only_crl(s2, 0), only_crl(s1, 0));
	assert_number(only_crl(s2, 0), "05");
	assert_true(logged(w, "rollback"));
	s3 = load(w);
	assert_number(only_crl(s3, 0), "05");
}

static void store_loader_load__higher_number__accepted(void **state)
{
	struct world *w = *state;
	struct store *s3;

	write_crl(w, "alpha.crl", numbered(fx.a, 5), false);
	load(w);
	write_crl(w, "alpha.crl", numbered(fx.a, 4), false);
	load(w);
	write_crl(w, "alpha.crl", numbered(fx.a, 6), false);
	s3 = load(w);
	assert_number(only_crl(s3, 0), "06");
	assert_false(logged(w, "rollback"));
}

static void store_loader_load__equal_number_other_content__refused(void **state)
{
	static const unsigned char sn = 0x31;
	const struct pki_crl_entry e = { .serial = &sn, .serial_len = 1, .reason = -1 };
	struct world *w = *state;
	struct store *s1, *s2;

	write_crl(w, "alpha.crl",
		  &(struct pki_crl_opts){ .issuer = fx.a, .number = (const unsigned char *)"\x05", .number_len = 1,
					  .entries = &e, .n_entries = 1 },
		  false);
	s1 = load(w);
	/* Number 5 again, without the entry: un-revoking under the same number is not allowed. */
	write_crl(w, "alpha.crl", numbered(fx.a, 5), false);
	s2 = load(w);
	assert_ptr_equal(only_crl(s2, 0), only_crl(s1, 0));
	assert_int_equal(s2->n_entries, 1);
	assert_true(logged(w, "rollback"));
}

static void store_loader_load__equal_number_same_content__accepted(void **state)
{
	struct world *w = *state;
	X509_CRL *x = pki_crl_new(numbered(fx.a, 5));
	struct store *s1, *s2;

	pki_crl_write(pki_path(w->dir, "alpha.crl"), x, false);
	s1 = load(w);
	/* The same CRL installed again (new inode, PEM this time): not a rollback. */
	pki_crl_write(pki_path(w->dir, "alpha.crl"), x, true);
	s2 = load(w);
	assert_int_equal(s2->n_crls, 1);
	assert_memory_equal(only_crl(s2, 0)->digest, only_crl(s1, 0)->digest, 32);
	assert_false(logged(w, "rollback"));
	X509_CRL_free(x);
}

static void store_loader_load__older_this_update_without_number__refused(void **state)
{
	struct world *w = *state;
	struct store *s2;

	write_crl(w, "alpha.crl", &(struct pki_crl_opts){ .issuer = fx.a, .this_update = fx.now - DAY }, false);
	load(w);
	write_crl(w, "alpha.crl", &(struct pki_crl_opts){ .issuer = fx.a, .this_update = fx.now - 2 * DAY }, false);
	s2 = load(w);
	assert_int_equal(only_crl(s2, 0)->this_update, fx.now - DAY);
	assert_true(logged(w, "rollback"));
}

static void store_loader_load__newer_this_update_without_number__accepted(void **state)
{
	struct world *w = *state;
	struct store *s2;

	write_crl(w, "alpha.crl", &(struct pki_crl_opts){ .issuer = fx.a, .this_update = fx.now - 2 * DAY }, false);
	load(w);
	write_crl(w, "alpha.crl", &(struct pki_crl_opts){ .issuer = fx.a, .this_update = fx.now - DAY }, false);
	s2 = load(w);
	assert_int_equal(only_crl(s2, 0)->this_update, fx.now - DAY);
}

static void store_loader_load__newer_in_other_file__wins(void **state)
{
	struct world *w = *state;
	struct store *s2;

	write_crl(w, "alpha.crl", numbered(fx.a, 5), false);
	load(w);
	write_crl(w, "alpha-new.crl", numbered(fx.a, 6), false);
	s2 = load(w);
	assert_int_equal(s2->n_crls, 1); /* one stream: the newer replaces, both are not kept */
	assert_number(only_crl(s2, 0), "06");
	assert_string_equal(only_crl(s2, 0)->origin, "alpha-new.crl");
}

static void store_loader_load__older_in_other_file__loses(void **state)
{
	struct world *w = *state;
	struct store *s1, *s2;

	write_crl(w, "alpha.crl", numbered(fx.a, 5), false);
	s1 = load(w);
	write_crl(w, "alpha-old.crl", numbered(fx.a, 4), false);
	s2 = load(w);
	assert_int_equal(s2->n_crls, 1);
	assert_ptr_equal(only_crl(s2, 0), only_crl(s1, 0));
}

/* ---- removal ---- */

static void store_loader_load__file_deleted__crls_removed(void **state)
{
	struct world *w = *state;
	struct store *s1, *s2;

	write_crl(w, "alpha.crl", numbered(fx.a, 5), false);
	write_crl(w, "beta.crl", numbered(fx.b, 1), false);
	s1 = load(w);
	assert_int_equal(s1->n_crls, 2);
	assert_int_equal(unlink(pki_path(w->dir, "alpha.crl")), 0);
	s2 = load(w);
	assert_int_equal(s2->n_crls, 1);
	assert_int_equal(s2->issuers[0].n_crls, 0);
	assert_int_equal(s2->issuers[1].n_crls, 1);
	assert_true(logged(w, "removed"));
	/* The old snapshot still holds its CRL (valgrind and ASan check the reference counting). */
	assert_number(only_crl(s1, 0), "05");
}

/* ---- streams ---- */

static void store_loader_load__user_only_and_ca_only__two_streams(void **state)
{
	struct world *w = *state;
	struct store *s;

	write_crl(w, "alpha-users.crl",
		  &(struct pki_crl_opts){ .issuer = fx.a, .idp = PKI_IDP_USER_ONLY,
					  .number = (const unsigned char *)"\x07", .number_len = 1 },
		  false);
	write_crl(w, "alpha-cas.crl",
		  &(struct pki_crl_opts){ .issuer = fx.a, .idp = PKI_IDP_CA_ONLY,
					  .number = (const unsigned char *)"\x02", .number_len = 1 },
		  false);
	s = load(w);
	/* Different scopes are different streams: the lower number does not lose to the higher. */
	assert_int_equal(s->issuers[0].n_crls, 2);
	assert_int_equal(s->n_crls, 2);
}

static void store_loader_load__two_crls_same_scope__one_stream(void **state)
{
	struct world *w = *state;
	struct store *s;

	write_crl(w, "alpha-users-1.crl",
		  &(struct pki_crl_opts){ .issuer = fx.a, .idp = PKI_IDP_USER_ONLY,
					  .number = (const unsigned char *)"\x07", .number_len = 1 },
		  false);
	write_crl(w, "alpha-users-2.crl",
		  &(struct pki_crl_opts){ .issuer = fx.a, .idp = PKI_IDP_USER_ONLY,
					  .number = (const unsigned char *)"\x08", .number_len = 1 },
		  false);
	s = load(w);
	assert_number(only_crl(s, 0), "08");
}

static void store_loader_load__pem_bundle_with_bad_crl__good_ones_loaded(void **state)
{
	struct world *w = *state;
	X509_CRL *good_a = pki_crl_new(numbered(fx.a, 1));
	X509_CRL *bad = pki_crl_new(&(struct pki_crl_opts){ .issuer = fx.b, .sign_key = fx.a->key });
	size_t l1, l2;
	char *p1 = pki_crl_pem(good_a, &l1), *p2 = pki_crl_pem(bad, &l2), *all = malloc(l1 + l2);
	struct store *s;

	assert_non_null(all);
	memcpy(all, p1, l1);
	memcpy(all + l1, p2, l2);
	pki_write_file(pki_path(w->dir, "bundle.pem"), all, l1 + l2);
	s = load(w);
	assert_int_equal(s->n_crls, 1);
	assert_string_equal(only_crl(s, 0)->origin, "bundle.pem#1");
	assert_int_equal(s->issuers[1].n_crls, 0);
	assert_true(logged(w, "bundle.pem#2"));
	free(all);
	free(p1);
	free(p2);
	X509_CRL_free(good_a);
	X509_CRL_free(bad);
}

static void store_loader_load__symlink_to_crl_elsewhere__not_followed(void **state)
{
	struct world *w = *state;
	char *elsewhere = pki_tmpdir();
	struct store *s;

	/* cache-dir is the fetcher's: a link there must not make the loader read another file. */
	write_crl(w, "placeholder", &(struct pki_crl_opts){ .issuer = fx.a }, false);
	assert_int_equal(rename(pki_path(w->dir, "placeholder"), pki_path(elsewhere, "alpha.crl")), 0);
	assert_int_equal(symlink(pki_path(elsewhere, "alpha.crl"), pki_path(w->dir, "x.crl")), 0);
	s = load(w);
	assert_int_equal(s->n_crls, 0);
	assert_int_equal(s->issuers[0].n_crls, 0);
	assert_true(logged(w, "x.crl: not a regular file, skipped"));
	pki_rmtree(elsewhere);
	free(elsewhere);
}

static void store_loader_load__same_crl_as_regular_file__loaded(void **state)
{
	struct world *w = *state;
	char *elsewhere = pki_tmpdir();
	struct store *s;

	/* The twin: the same file moved into cache-dir under the link's name. */
	write_crl(w, "placeholder", &(struct pki_crl_opts){ .issuer = fx.a }, false);
	assert_int_equal(rename(pki_path(w->dir, "placeholder"), pki_path(elsewhere, "alpha.crl")), 0);
	assert_int_equal(rename(pki_path(elsewhere, "alpha.crl"), pki_path(w->dir, "x.crl")), 0);
	s = load(w);
	assert_int_equal(s->n_crls, 1);
	assert_string_equal(only_crl(s, 0)->origin, "x.crl");
	pki_rmtree(elsewhere);
	free(elsewhere);
}

/* ---- change detection ---- */

static void store_loader_load__unchanged_file__not_parsed_again(void **state)
{
	struct world *w = *state;
	struct store *s1, *s2;

	write_crl(w, "alpha.crl", numbered(fx.a, 5), false);
	s1 = load(w);
	s2 = load(w);
	assert_ptr_equal(only_crl(s2, 0), only_crl(s1, 0));
	assert_false(logged(w, "loaded")); /* nothing new to say */
}

static void store_loader_load__touched_file__parsed_again(void **state)
{
	struct world *w = *state;
	struct timespec ts[2] = { { .tv_sec = fx.now - DAY }, { .tv_sec = fx.now - DAY } };
	struct store *s1, *s2;

	write_crl(w, "alpha.crl", numbered(fx.a, 5), false);
	s1 = load(w);
	assert_int_equal(utimensat(AT_FDCWD, pki_path(w->dir, "alpha.crl"), ts, 0), 0);
	s2 = load(w);
	assert_ptr_not_equal(only_crl(s2, 0), only_crl(s1, 0));
	assert_memory_equal(only_crl(s2, 0)->digest, only_crl(s1, 0)->digest, 32);
}

/* ---- the directory itself ---- */

static void store_loader_load__missing_dir__negative_errno(void **state)
{
	struct world *w = *state;
	struct store *s = (struct store *)0x1;

	pki_rmtree(w->dir);
	assert_int_equal(store_loader_load(w->l, fx.now, &s), -ENOENT);
	own(w, s);
	assert_null(s);
	assert_true(logged(w, "keeping the CRLs in force"));
}

static void store_loader_load__dir_is_a_file__enotdir(void **state)
{
	struct world *w = *state;
	struct store *s = (struct store *)0x1;

	pki_rmtree(w->dir);
	pki_write_file(w->dir, "x", 1);
	assert_int_equal(store_loader_load(w->l, fx.now, &s), -ENOTDIR);
	own(w, s);
	assert_null(s);
	unlink(w->dir);
}

static void store_loader_load__dir_removed_after_load__error_and_snapshot_kept(void **state)
{
	struct world *w = *state;
	struct store *s1, *s2 = (struct store *)0x1;
	int r;

	write_crl(w, "alpha.crl", numbered(fx.a, 5), false);
	s1 = load(w);
	assert_int_equal(s1->n_crls, 1);
	pki_rmtree(w->dir);
	/*
	 * store.h: "-errno when the directory itself cannot be read (then *out is NULL and the caller
	 * keeps its snapshot)". A vanished cache-dir is not "every file was removed": answering with an
	 * empty snapshot would drop every revocation at once (and with missing=accept, admit revoked
	 * certificates).
	 */
	w->log[0] = '\0';
	r = store_loader_load(w->l, fx.now, &s2);
	own(w, s2);
	assert_int_equal(r, -ENOENT);
	assert_null(s2);
	assert_true(logged(w, "cannot read cache-dir"));
}

static void store_loader_load__dir_reappears__loads_again(void **state)
{
	struct world *w = *state;
	struct store *s = (struct store *)0x1;

	pki_rmtree(w->dir);
	assert_int_equal(store_loader_load(w->l, fx.now, &s), -ENOENT);
	own(w, s);
	assert_int_equal(mkdir(w->dir, 0700), 0);
	write_crl(w, "alpha.crl", numbered(fx.a, 5), false);
	s = load(w);
	assert_int_equal(s->n_crls, 1);
}

/* Loads CRL number 1 of ca A (listing nothing), then leaves number 2 (listing `leaf`) where `move` says. */
static const struct store_issuer *dir_case(struct world *w, X509 *leaf, bool move, char *old, size_t old_len)
{
	static const unsigned char s31 = 0x31;
	const struct pki_crl_entry e = { .serial = &s31, .serial_len = 1, .reason = 1 };
	struct check_result r;
	struct store *s;

	write_crl(w, "alpha.crl", numbered(fx.a, 1), false);
	s = load(w);
	assert_number(only_crl(s, 0), "01");
	assert_int_equal(check_cert(s, leaf, fx.now, &r), CHECK_GOOD);
	snprintf(old, old_len, "%s.old", w->dir);
	if (move) {
		/* An operator moves cache-dir aside and starts a fresh one at the same path. */
		assert_int_equal(rename(w->dir, old), 0);
		assert_int_equal(mkdir(w->dir, 0700), 0);
	}
	write_crl(w, "alpha-2.crl",
		  &(struct pki_crl_opts){ .issuer = fx.a, .number = (const unsigned char *)"\x02", .number_len = 1,
					  .entries = &e, .n_entries = 1 },
		  false);
	return &load(w)->issuers[0];
}

static void store_loader_load__dir_moved_and_recreated__new_dir_read(void **state)
{
	static const unsigned char s31 = 0x31;
	struct world *w = *state;
	X509 *leaf = pki_leaf_new(fx.a, "henry", &(struct pki_leaf_opts){ .serial = &s31, .serial_len = 1 });
	const struct store_issuer *iss;
	struct store *s;
	struct check_result r;
	char old[PATH_MAX];

	iss = dir_case(w, leaf, true, old, sizeof(old));
	s = w->snaps[w->n_snaps - 1];
	/* Only the new directory's CRL: the moved one is not the cache-dir any more. */
	assert_int_equal(iss->n_crls, 1);
	assert_number(iss->crls[0], "02");
	assert_string_equal(iss->crls[0]->origin, "alpha-2.crl");
	assert_int_equal(check_cert(s, leaf, fx.now, &r), CHECK_REVOKED);
	pki_rmtree(old);
	X509_free(leaf);
}

static void store_loader_load__dir_not_moved__same_dir_read(void **state)
{
	static const unsigned char s31 = 0x31;
	struct world *w = *state;
	X509 *leaf = pki_leaf_new(fx.a, "henry", &(struct pki_leaf_opts){ .serial = &s31, .serial_len = 1 });
	const struct store_issuer *iss;
	struct store *s;
	struct check_result r;
	char old[PATH_MAX];

	/* The twin: the same steps without the move; both files are in the one directory. */
	iss = dir_case(w, leaf, false, old, sizeof(old));
	s = w->snaps[w->n_snaps - 1];
	assert_int_equal(iss->n_crls, 1); /* one stream: number 2 supersedes number 1 */
	assert_number(iss->crls[0], "02");
	assert_int_equal(check_cert(s, leaf, fx.now, &r), CHECK_REVOKED);
	assert_int_equal(access(old, F_OK), -1);
	X509_free(leaf);
}

static void store__snapshot__outlives_loader(void **state)
{
	struct world *w = *state;
	struct store *s;

	write_crl(w, "alpha.crl", numbered(fx.a, 5), false);
	s = load(w);
	assert_ptr_equal(store_ref(s), s); /* a reader's reference */
	store_loader_free(w->l);
	w->l = NULL;
	assert_number(only_crl(s, 0), "05");
	store_unref(s);
	/* The world drops the last reference in teardown: ASan and valgrind check the counting. */
	assert_int_equal(atomic_load(&s->refs), 1);
	store_unref(NULL);
	store_loader_free(NULL);
}

/* ---- store_find_issuers ---- */

static void store_find_issuers__leaf_of_configured_ca__that_issuer(void **state)
{
	struct world *w = *state;
	struct store *s = load(w);
	X509 *leaf = pki_leaf_new(fx.b, "carol", NULL);
	const struct store_issuer *out[4];

	assert_int_equal(store_find_issuers(s, leaf, out, 4), 1);
	assert_ptr_equal(out[0], &s->issuers[1]);
	assert_int_equal(store_find_issuers(s, leaf, out, 0), 0);
	assert_int_equal(store_find_issuers(NULL, leaf, out, 4), 0);
	X509_free(leaf);
}

static void store_find_issuers__leaf_of_other_ca__none(void **state)
{
	struct world *w = *state;
	struct store *s = load(w);
	X509 *leaf = pki_leaf_new(fx.stranger, "mallory", NULL);
	X509 *rolled = pki_leaf_new(fx.rollover, "dave", NULL);
	const struct store_issuer *out[4];

	assert_int_equal(store_find_issuers(s, leaf, out, 4), 0);
	/* Same issuer name as source alpha, but its AKI names a key that is not configured. */
	assert_int_equal(store_find_issuers(s, rolled, out, 4), 0);
	X509_free(leaf);
	X509_free(rolled);
}

static void store_find_issuers__key_rollover__by_key_identifier(void **state)
{
	struct world *w = *state;
	struct store *s = NULL;
	X509 *leaf = pki_leaf_new(fx.rollover, "erin", NULL);
	X509 *nameonly = pki_leaf_new(fx.rollover, "frank", &(struct pki_leaf_opts){ .no_akid = true });
	const struct store_issuer *out[4];

	w->sources[1].ca = fx.rollover->cert; /* alpha and beta: one name, two keys */
	w->l2 = store_loader_new(&w->cfg, NULL);
	assert_non_null(w->l2);
	assert_int_equal(store_loader_load(w->l2, fx.now, &s), 0);
	own(w, s);
	assert_int_equal(store_find_issuers(s, leaf, out, 4), 1);
	assert_ptr_equal(out[0]->ca, fx.rollover->cert);
	/* Without an AKI only the name decides: both keys are candidates, and max is respected. */
	assert_int_equal(store_find_issuers(s, nameonly, out, 4), 2);
	assert_int_equal(store_find_issuers(s, nameonly, out, 1), 1);
	X509_free(leaf);
	X509_free(nameonly);
}

static void store_loader_new__duplicate_ca__one_issuer(void **state)
{
	struct world *w = *state;
	struct store *s = NULL;

	w->sources[1].ca = fx.a->cert;
	w->l2 = store_loader_new(&w->cfg, NULL);
	assert_non_null(w->l2);
	assert_int_equal(store_loader_load(w->l2, fx.now, &s), 0);
	own(w, s);
	assert_int_equal(s->n_issuers, 1);
	assert_string_equal(s->issuers[0].source, "alpha");
}

/* ---- marks given by the caller (kept across restarts) ---- */

/* What the marks callback heard: how often, and the last set. */
static struct {
	int calls;
	struct mark set[8];
	size_t n;
} heard;

static void hear(void *ctx, const struct mark *marks, size_t n)
{
	(void)ctx;
	heard.calls++;
	heard.n = n < 8 ? n : 8;
	memcpy(heard.set, marks, heard.n * sizeof(*marks));
}

/* The mark a CRL written by write_crl() would set, read back through a throw-away loader. */
static struct mark mark_of_file(struct world *w, size_t issuer)
{
	struct store_loader *l;
	struct store *s = NULL;
	struct mark m;

	l = store_loader_new(&w->cfg, NULL);
	assert_non_null(l);
	assert_int_equal(store_loader_load(l, fx.now, &s), 0);
	assert_int_equal(s->n_crls, 1);
	mark_from_crl(only_crl(s, issuer), &m);
	store_unref(s);
	store_loader_free(l);
	return m;
}

static void store_loader_set_marks__older_crl_than_initial_mark__refused_nothing_in_force(void **state)
{
	struct world *w = *state;
	struct mark m;
	struct store *s;

	write_crl(w, "alpha.crl", numbered(fx.a, 5), false);
	m = mark_of_file(w, 0); /* as a marks file would give it after a restart */
	write_crl(w, "alpha.crl", numbered(fx.a, 4), false);
	assert_int_equal(store_loader_set_marks(w->l, &m, 1, NULL, NULL), 0);
	s = load(w);
	assert_int_equal(s->issuers[0].n_crls, 0); /* missing (fail closed), never the older one */
	assert_true(logged(w, "alpha.crl: refused: rollback"));
	assert_true(logged(w, "remembered in the marks file"));
	assert_true(logged(w, "no CRL in force for it"));
}

static void store_loader_set_marks__same_crl_as_initial_mark__accepted_no_report(void **state)
{
	struct world *w = *state;
	struct mark m;
	struct store *s;

	write_crl(w, "alpha.crl", numbered(fx.a, 5), false);
	m = mark_of_file(w, 0);
	memset(&heard, 0, sizeof(heard));
	assert_int_equal(store_loader_set_marks(w->l, &m, 1, hear, NULL), 0);
	s = load(w);
	assert_number(only_crl(s, 0), "05");
	assert_false(logged(w, "rollback"));
	assert_int_equal(heard.calls, 0); /* no mark rose: nothing to write */
}

static void store_loader_set_marks__newer_crl__raised_mark_reported(void **state)
{
	struct world *w = *state;
	struct mark m, m6;
	struct store *s;

	write_crl(w, "alpha.crl", numbered(fx.a, 5), false);
	m = mark_of_file(w, 0);
	write_crl(w, "alpha.crl", numbered(fx.a, 6), false);
	memset(&heard, 0, sizeof(heard));
	assert_int_equal(store_loader_set_marks(w->l, &m, 1, hear, NULL), 0);
	s = load(w);
	assert_number(only_crl(s, 0), "06");
	mark_from_crl(only_crl(s, 0), &m6);
	assert_int_equal(heard.calls, 1);
	assert_int_equal(heard.n, 1);
	assert_string_equal(heard.set[0].number_hex, "06");
	assert_memory_equal(heard.set[0].digest, m6.digest, 32);
	load(w); /* unchanged: no new report */
	assert_int_equal(heard.calls, 1);
}

static void store_loader_set_marks__same_number_other_content__refused(void **state)
{
	static const unsigned char sn = 0x31;
	const struct pki_crl_entry e = { .serial = &sn, .serial_len = 1, .reason = -1 };
	struct world *w = *state;
	struct mark m;
	struct store *s;

	write_crl(w, "alpha.crl",
		  &(struct pki_crl_opts){ .issuer = fx.a, .number = (const unsigned char *)"\x05", .number_len = 1,
					  .entries = &e, .n_entries = 1 },
		  false);
	m = mark_of_file(w, 0);
	write_crl(w, "alpha.crl", numbered(fx.a, 5), false); /* number 5 without the entry */
	assert_int_equal(store_loader_set_marks(w->l, &m, 1, NULL, NULL), 0);
	s = load(w);
	assert_int_equal(s->issuers[0].n_crls, 0);
	assert_true(logged(w, "has the same number but other content than"));
}

static void store_loader_set_marks__mark_of_other_issuer__no_effect(void **state)
{
	struct world *w = *state;
	struct mark m;
	struct store *s;

	write_crl(w, "beta.crl", numbered(fx.b, 9), false);
	m = mark_of_file(w, 1);
	assert_int_equal(unlink(pki_path(w->dir, "beta.crl")), 0);
	write_crl(w, "alpha.crl", numbered(fx.a, 1), false);
	assert_int_equal(store_loader_set_marks(w->l, &m, 1, NULL, NULL), 0);
	s = load(w);
	assert_number(only_crl(s, 0), "01");
	assert_false(logged(w, "rollback"));
}

/* ---- work per reload ---- */

static void discard(void *ctx, enum log_level level, const char *line)
{
	(void)ctx;
	(void)level;
	(void)line;
}

/*
 * 20,000 stray files (not CRLs) beside a CRL: a reload compares names O(n log n) times. A linear
 * lookup of each name in the last scan's table (8.5 s a reload with 40,000 files) makes about
 * n^2/2 = 2e8 comparisons here; sorting and binary searches stay under 3 n log2 n.
 */
static void store_loader_load__20000_stray_files__name_compares_n_log_n(void **state)
{
	enum { N = 20000, LOG2N = 15 };
	struct world *w = *state;
	struct store_loader_stats st;
	struct store *s;
	char name[32];

	write_crl(w, "alpha.crl", numbered(fx.a, 1), false);
	for (int i = 0; i < N; i++) {
		int fd;

		snprintf(name, sizeof(name), "stray-%05d", (i * 7919) % N); /* not created in name order */
		fd = open(pki_path(w->dir, name), O_WRONLY | O_CREAT | O_EXCL, 0644);
		assert_true(fd >= 0);
		close(fd);
	}
	w->sink.fn = discard; /* 20,000 "refused" lines on the first load */
	load(w);
	s = load(w); /* the steady state: every file known from the last scan */
	store_loader_get_stats(w->l, &st);
	assert_int_equal(st.names, N + 1);
	assert_number(only_crl(s, 0), "01");
	print_message("%zu names: %llu name comparisons\n", st.names, st.name_compares);
	assert_true(st.name_compares <= 3ULL * (N + 1) * LOG2N);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(store_loader_load__empty_dir__no_crls),
		T(store_loader_load__good_crls_for_two_cas__both_in_force),
		T(store_loader_load__generation__increases),
		T(store_loader_load__hidden_file__ignored),
		T(store_loader_load__crl_of_unconfigured_ca__not_in_force),
		T(store_loader_load__subdirectory__skipped),
		T(store_loader_load__delta_crl__held_beside_its_base),
		T(store_loader_load__delta_indicator_not_critical__refused),
		T(store_loader_load__replaced_by_garbage__previous_kept),
		T(store_loader_load__replaced_by_bad_signature__previous_kept),
		T(store_loader_load__truncated__previous_kept),
		T(store_loader_load__replaced_by_directory__previous_kept),
		T(store_loader_load__replaced_by_fifo__previous_kept),
		T(store_loader_load__replaced_by_future_crl__previous_kept),
		T(store_loader_load__replaced_by_newer__newer_in_force),
		T(store_loader_load__future_crl_unchanged__accepted_once_current),
		T(store_loader_load__lower_number__rollback_refused),
		T(store_loader_load__higher_number__accepted),
		T(store_loader_load__equal_number_other_content__refused),
		T(store_loader_load__equal_number_same_content__accepted),
		T(store_loader_load__older_this_update_without_number__refused),
		T(store_loader_load__newer_this_update_without_number__accepted),
		T(store_loader_load__newer_in_other_file__wins),
		T(store_loader_load__older_in_other_file__loses),
		T(store_loader_load__file_deleted__crls_removed),
		T(store_loader_load__user_only_and_ca_only__two_streams),
		T(store_loader_load__two_crls_same_scope__one_stream),
		T(store_loader_load__pem_bundle_with_bad_crl__good_ones_loaded),
		T(store_loader_load__symlink_to_crl_elsewhere__not_followed),
		T(store_loader_load__same_crl_as_regular_file__loaded),
		T(store_loader_load__unchanged_file__not_parsed_again),
		T(store_loader_load__touched_file__parsed_again),
		T(store_loader_load__missing_dir__negative_errno),
		T(store_loader_load__dir_is_a_file__enotdir),
		T(store_loader_load__dir_removed_after_load__error_and_snapshot_kept),
		T(store_loader_load__dir_reappears__loads_again),
		T(store_loader_load__dir_moved_and_recreated__new_dir_read),
		T(store_loader_load__dir_not_moved__same_dir_read),
		T(store__snapshot__outlives_loader),
		T(store_find_issuers__leaf_of_configured_ca__that_issuer),
		T(store_find_issuers__leaf_of_other_ca__none),
		T(store_find_issuers__key_rollover__by_key_identifier),
		T(store_loader_new__duplicate_ca__one_issuer),
		T(store_loader_set_marks__older_crl_than_initial_mark__refused_nothing_in_force),
		T(store_loader_set_marks__same_crl_as_initial_mark__accepted_no_report),
		T(store_loader_set_marks__newer_crl__raised_mark_reported),
		T(store_loader_set_marks__same_number_other_content__refused),
		T(store_loader_set_marks__mark_of_other_issuer__no_effect),
		T(store_loader_load__20000_stray_files__name_compares_n_log_n),
	};

	return cmocka_run_group_tests_name("store", tests, group_setup, group_teardown);
}
