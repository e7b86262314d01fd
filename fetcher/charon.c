/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The strongSwan sink: load-cert (or crl_uris + flush-certs for large CRLs), then confirm with list-certs. */
#include "charon.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/bn.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crlsync/cachedir.h"
#include "crlsync/crl.h"
#include "crlsync/file.h"
#include "crlsync/text.h"
#include "vici.h"

/* What list-certs showed about one source. */
struct held {
	const struct cfg_source *src;
	const unsigned char *digest; /* SHA-256 of the installed DER */
	bool exact;                  /* charon returned the installed CRL byte for byte */
	bool delta;                  /* the installed CRL is a delta (the pseudo-source NAME+) */
	int others;                  /* other CRLs of the same issuer and kind (complete, or delta) */
	char other_number[48];       /* the first of them */
	int crls;                    /* CRL events seen in all */
};

/* What list-authorities showed. */
struct authority {
	const char *want_uri; /* file://CACHE-DIR/NAME.crl */
	char name[VICI_NAME_MAX + 1];
	bool found;
};

static void crl_number_hex(X509_CRL *x, char *buf, size_t len)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(x, NID_crl_number, NULL, NULL);
	BIGNUM *bn = n ? ASN1_INTEGER_to_BN(n, NULL) : NULL;
	char *h = bn ? BN_bn2hex(bn) : NULL;

	snprintf(buf, len, "%s", h ? h : "none");
	OPENSSL_free(h);
	BN_free(bn);
	ASN1_INTEGER_free(n);
}

static bool on_cert(const struct vici_msg *ev, void *ctx)
{
	struct held *h = ctx;
	unsigned char md[SHA256_DIGEST_LENGTH];
	const unsigned char *der, *p;
	char type[32] = "";
	size_t len = 0;
	X509_CRL *x;

	if (!vici_msg_get_str(ev, "type", type, sizeof(type)) || strcmp(type, "X509_CRL") != 0)
		return true;
	der = vici_msg_get(ev, "data", &len);
	if (der == NULL)
		return true;
	h->crls++;
	SHA256(der, len, md);
	if (memcmp(md, h->digest, sizeof(md)) == 0) {
		h->exact = true;
		return true;
	}
	p = der;
	x = d2i_X509_CRL(NULL, &p, (long)len);
	if (x == NULL)
		return true; /* not ours to judge: charon parsed it */
	/* A base and its delta live side by side in charon (it applies deltas itself, RFC 5280 §5.2.4):
	 * only a CRL of the same kind competes with the one handed over. */
	if (X509_NAME_cmp(X509_CRL_get_issuer(x), X509_get_subject_name(h->src->ca)) == 0 &&
	    (X509_CRL_get_ext_by_NID(x, NID_delta_crl, -1) >= 0) == h->delta) {
		if (h->others++ == 0)
			crl_number_hex(x, h->other_number, sizeof(h->other_number));
	}
	X509_CRL_free(x);
	return true;
}

static bool on_authority(const struct vici_msg *ev, void *ctx)
{
	struct authority *a = ctx;
	const char *section = "";

	for (size_t i = 0; i < ev->n_items; i++) {
		const struct vici_item *it = &ev->items[i];

		if (it->type == VICI_SECTION_START && it->depth == 0)
			section = it->name;
		if (it->type == VICI_LIST_ITEM && it->depth == 1 && strcmp(it->name, "crl_uris") == 0 &&
		    it->value_len == strlen(a->want_uri) && memcmp(it->value, a->want_uri, it->value_len) == 0 &&
		    !a->found) {
			a->found = true;
			snprintf(a->name, sizeof(a->name), "%s", section);
		}
	}
	return true;
}

/* A command whose answer is {success = yes|no, errmsg}. Returns 0, or -errno with err set. */
static int simple_command(struct vici_conn *c, const char *cmd, const struct vici_builder *b, char *err,
			  size_t errlen)
{
	struct vici_msg resp;
	char ok[8] = "", msg[256] = "";
	int r = vici_request(c, cmd, b, NULL, NULL, NULL, &resp, err, errlen);

	if (r != 0)
		return r;
	if (!vici_msg_get_str(&resp, "success", ok, sizeof(ok)) || strcmp(ok, "yes") != 0) {
		if (!vici_msg_get_str(&resp, "errmsg", msg, sizeof(msg)))
			snprintf(msg, sizeof(msg), "no reason given");
		text_sanitize(msg);
		snprintf(err, errlen, "`%s' failed: %s", cmd, msg);
		r = -EPROTO;
	}
	vici_msg_clear(&resp);
	return r;
}

static int list_crls(struct vici_conn *c, struct held *h, char *err, size_t errlen)
{
	struct vici_builder b;
	struct vici_msg resp;
	int r;

	h->exact = false;
	h->others = h->crls = 0;
	h->other_number[0] = '\0';
	vici_builder_init(&b);
	vici_add_kv_str(&b, "type", "X509_CRL");
	r = vici_request(c, "list-certs", &b, "list-cert", on_cert, h, &resp, err, errlen);
	vici_builder_clear(&b);
	vici_msg_clear(&resp);
	return r;
}

static int flush_crls(struct vici_conn *c, char *err, size_t errlen)
{
	struct vici_builder b;
	int r;

	vici_builder_init(&b);
	vici_add_kv_str(&b, "type", "X509_CRL");
	r = simple_command(c, "flush-certs", &b, err, errlen);
	vici_builder_clear(&b);
	return r;
}

static void set_outcome(struct src_state *st, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_outcome(struct src_state *st, const char *what, const char *fmt, ...)
{
	va_list ap;

	snprintf(st->charon, sizeof(st->charon), "%s", what);
	snprintf(st->charon_number, sizeof(st->charon_number), "%s", st->crl.number_hex);
	va_start(ap, fmt);
	vsnprintf(st->charon_detail, sizeof(st->charon_detail), fmt, ap);
	va_end(ap);
	text_sanitize(st->charon_detail);
}

/* The small path: load-cert when needed, then list-certs. Returns 0 or -errno with err. */
static int sync_small(struct vici_conn *c, const struct cfg_source *src, const unsigned char *der, size_t len,
		      bool load, struct held *h, char *err, size_t errlen)
{
	int r;

	if (!load) {
		/* Confirm first: charon may have been restarted (it forgets what it was given). */
		r = list_crls(c, h, err, errlen);
		if (r != 0)
			return r;
		if (h->exact && h->others == 0)
			return 0;
	}
	{
		struct vici_builder b;

		vici_builder_init(&b);
		vici_add_kv_str(&b, "type", "X509_CRL");
		vici_add_kv(&b, "data", der, len);
		r = simple_command(c, "load-cert", &b, err, errlen);
		vici_builder_clear(&b);
		if (r != 0)
			return r;
	}
	/* A copy charon fetched earlier (crl_uris, a CDP) may sit in its cache: it must not be used instead. */
	r = flush_crls(c, err, errlen);
	if (r != 0)
		return r;
	r = list_crls(c, h, err, errlen);
	if (r != 0)
		return r;
	if (!h->exact) {
		/* load-cert said yes, yet charon kept another CRL (a newer number, or the same number with
		 * other content, wins in its store): never trust its answer. */
		if (h->others)
			snprintf(err, errlen, "load-cert answered success, but charon kept CRL number %s of %s instead",
				 h->other_number, src->name);
		else
			snprintf(err, errlen, "load-cert answered success, but list-certs does not return the CRL");
		return -EPROTO;
	}
	if (h->others) {
		snprintf(err, errlen, "charon also holds CRL number %s of the same issuer, which it may use instead",
			 h->other_number);
		return -EPROTO;
	}
	return 0;
}

/* Errors after which charon is not worth asking again in this pass: it went away, or stopped answering. */
static bool unreachable_error(int r)
{
	return r == -ETIMEDOUT || r == -ECONNRESET || r == -EPIPE || r == -ENOTCONN;
}

/*
 * Whether the CRL of `src' has a scope (IDP) that charon would ignore. A delta's stream is never
 * "complete" (mark.h: it carries the delta tag), but the fetcher installs a delta only with its
 * base's scope (RFC 5280 §5.2.4): for the pseudo-source NAME+ the base's state decides.
 */
static bool charon_is_delta(const struct cfg_source *src)
{
	size_t nl = strlen(src->name);

	return nl > 0 && src->name[nl - 1] == '+'; /* `+' is no character of a source's NAME (config.c) */
}

static bool charon_scoped(int dirfd, const struct cfg_source *src, const struct src_state *st)
{
	char base[CFG_NAME_MAX + 1];
	size_t nl = strlen(src->name);
	struct src_state bs;
	bool scoped;

	if (!charon_is_delta(src))
		return st->crl.stream.scope_kind != MARK_SCOPE_COMPLETE;
	snprintf(base, sizeof(base), "%.*s", (int)(nl - 1), src->name);
	memset(&bs, 0, sizeof(bs));
	scoped = state_load(dirfd, base, &bs) != 0 || !bs.have_crl || bs.crl.stream.scope_kind != MARK_SCOPE_COMPLETE;
	state_clear(&bs);
	return scoped;
}

bool charon_sync(const struct log_sink *log, const struct cfg *cfg, int dirfd, const struct cfg_source *src,
		 struct src_state *st, bool installed, int abort_fd, bool *unreachable)
{
	const char *vici = cfg->strongswan.vici;
	char fname[CFG_NAME_MAX + 8], err[1536] = "", uri[512];
	unsigned char *buf = NULL, md[SHA256_DIGEST_LENGTH];
	const unsigned char *der = NULL;
	struct crl_der *ders = NULL;
	size_t buflen = 0, n_ders = 0;
	char why[512];
	struct vici_conn *c = NULL;
	struct held h = { .src = src, .digest = st->crl.digest, .delta = charon_is_delta(src) };
	struct authority a = { .want_uri = uri };
	char prev[sizeof(st->charon)], prev_number[sizeof(st->charon_number)];
	bool ok = false, scoped;
	size_t len = 0;
	int r;

	if (vici == NULL || !st->have_crl)
		return true;
	snprintf(prev, sizeof(prev), "%s", st->charon);
	snprintf(prev_number, sizeof(prev_number), "%s", st->charon_number);
	st->charon_checked = time(NULL);
	cachedir_crl_name(src->name, fname, sizeof(fname));
	snprintf(uri, sizeof(uri), "file://%s%s%s", cfg->global.cache_dir,
		 cfg->global.cache_dir[strlen(cfg->global.cache_dir) - 1] == '/' ? "" : "/", fname);

	/* Charon ignores the IssuingDistributionPoint extension: a scoped CRL would count as complete. */
	scoped = charon_scoped(dirfd, src, st);
	if (scoped && !cfg->strongswan.load_scoped) {
		set_outcome(st, "not-loaded", "has an issuingDistributionPoint (scoped), which charon ignores; "
					      "load-scoped = no");
		if (installed || strcmp(prev, "not-loaded") != 0)
			log_warn(log, "source %s: CRL number %s is scoped (issuingDistributionPoint), but charon treats "
					 "every CRL as complete: not handed to charon at %s (load-scoped = no)",
				 src->name, st->crl.number_hex, vici);
		ok = true;
		goto save;
	}
	r = file_read_at(dirfd, fname, CRL_FILE_MAX, &buf, &buflen);
	if (r != 0) {
		snprintf(err, sizeof(err), "cannot read %s/%s: %s", cfg->global.cache_dir, fname, strerror(-r));
		goto fail;
	}
	/*
	 * The state's number and digest describe the CRL's DER (a file found installed may be PEM,
	 * learn_installed() accepts it): hand over and compare exactly those bytes, and only when they
	 * are still the CRL the state describes. Whatever happens to the file afterwards, what charon is
	 * given and what list-certs must return is this DER, so "held" never names another number.
	 */
	if (crl_split(buf, buflen, &ders, &n_ders, err, sizeof(err)) != CRL_OK || n_ders != 1) {
		if (n_ders > 1)
			snprintf(err, sizeof(err), "%zu CRLs in it", n_ders);
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, sizeof(err), "%s/%s is not one CRL (%s); retried at the next refresh", cfg->global.cache_dir, fname,
			 why);
		goto fail;
	}
	der = ders[0].der;
	len = ders[0].len;
	SHA256(der, len, md);
	if (memcmp(md, st->crl.digest, sizeof(md)) != 0) {
		snprintf(err, sizeof(err), "%s/%s is no longer the CRL number %s the state describes (replaced since); "
				   "retried at the next refresh", cfg->global.cache_dir, fname, st->crl.number_hex);
		goto fail;
	}
	if (*unreachable) {
		snprintf(err, sizeof(err), "not tried: charon was unreachable or stopped answering earlier in this pass");
		goto fail;
	}
	r = vici_connect(vici, CHARON_TIMEOUT_MS, &c);
	if (r != 0) {
		*unreachable = true; /* absent, refusing or not accepting: the same for every source */
		snprintf(err, sizeof(err), "cannot connect: %s%s", strerror(-r),
			 r == -ENOENT || r == -ECONNREFUSED ? " (is charon running, with the vici plugin?)" :
			 r == -ETIMEDOUT ? " (charon accepts no connection: busy or hung?)" : "");
		goto fail;
	}
	vici_set_abort_fd(c, abort_fd);
	if (len <= VICI_VALUE_MAX) {
		bool load = installed || strcmp(prev, "held") != 0 || strcmp(prev_number, st->crl.number_hex) != 0;

		r = sync_small(c, src, der, len, load, &h, err, sizeof(err));
		if (r != 0)
			goto fail;
		set_outcome(st, "held", "load-cert (%zu bytes); list-certs returns it", len);
		st->charon_confirmed = time(NULL);
		if (load || strcmp(prev, "held") != 0)
			log_note(log, "source %s: charon at %s holds CRL number %s (load-cert, %zu bytes; confirmed by "
					 "list-certs)", src->name, vici, st->crl.number_hex, len);
		else
			debug_f(log, "source %s: charon at %s still holds CRL number %s", src->name, vici,
				st->crl.number_hex);
		ok = true;
		goto save;
	}
	/*
	 * Too large for one vici value (and list-certs cannot return it either): charon reads the file
	 * itself through an authority's crl_uris (fetcher plugin for file://: curl). Flushing its CRL
	 * cache makes the next revocation check read the file we just installed.
	 */
	{
		struct vici_msg resp;
		bool flush = installed || strcmp(prev, "on-demand") != 0 || strcmp(prev_number, st->crl.number_hex) != 0;

		r = vici_request(c, "list-authorities", NULL, "list-authority", on_authority, &a, &resp, err,
				 sizeof(err));
		vici_msg_clear(&resp);
		if (r != 0)
			goto fail;
		if (!a.found) {
			snprintf(err, sizeof(err), "the CRL has %zu bytes, more than vici's %d-byte limit, and no authority "
						   "in charon lists crl_uris = %s (see the strongSwan section of the README)",
				 len, VICI_VALUE_MAX, uri);
			r = -ENOENT;
			goto fail;
		}
		if (flush && (r = flush_crls(c, err, sizeof(err))) != 0)
			goto fail;
		r = list_crls(c, &h, err, sizeof(err));
		if (r != 0)
			goto fail;
		if (h.others) {
			snprintf(err, sizeof(err), "charon holds CRL number %s of the same issuer (loaded through load-cert "
						   "or swanctl), which it uses instead of %s until that one expires; run "
						   "`swanctl --load-creds --clear' or restart charon",
				 h.other_number, uri);
			r = -EPROTO;
			goto fail;
		}
		set_outcome(st, "on-demand", "%zu bytes: read by charon from %s (authority %s) at its next check", len,
			    uri, a.name);
		st->charon_confirmed = time(NULL);
		if (flush || strcmp(prev, "on-demand") != 0)
			log_note(log, "source %s: charon at %s will read CRL number %s from %s (authority %s; %zu bytes, "
					 "above vici's %d-byte limit); its CRL cache was flushed", src->name, vici,
				 st->crl.number_hex, uri, a.name, len, VICI_VALUE_MAX);
		ok = true;
	}
	goto save;
fail:
	if (c != NULL && (unreachable_error(r) || r == -EINTR))
		*unreachable = true;
	text_sanitize(err);
	if (r == -EINTR) {
		/* SIGTERM: not charon's fault, and not an outcome worth recording over the last one */
		log_note(log, "source %s: charon at %s: hand-over of CRL number %s abandoned: %s", src->name, vici,
			 st->crl.number_hex, err);
		snprintf(st->charon, sizeof(st->charon), "%s", prev);
		snprintf(st->charon_number, sizeof(st->charon_number), "%s", prev_number);
		goto save;
	}
	set_outcome(st, "error", "%s", err);
	log_error(log, "source %s: charon at %s: %s; the installed CRL number %s stays, and is handed over again "
			  "later (the daemon retries within a minute, and at once when charon is back)", src->name, vici,
		  err, st->crl.number_hex);
save:
	r = state_save(dirfd, src->name, st);
	if (r != 0)
		log_error(log, "source %s: cannot save its state in %s/" CACHEDIR_STATE ": %s", src->name, cfg->global.cache_dir,
			  strerror(-r));
	vici_close(c);
	crl_der_free(ders, n_ders);
	free(buf);
	return ok;
}
