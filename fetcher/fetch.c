/* SPDX-License-Identifier: GPL-2.0-only */
/* The refresh engine: download each source (mirrors in order), verify, refuse rollbacks, install atomically. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/x509.h>

#include "crlsync/crl.h"
#include "crlsync/install.h"
#include "crlsync/schedule.h"
#include "download.h"
#include "fetcher.h"
#include "state.h"

struct job {
	const struct cfg *cfg;
	const struct cfg_source *src;
	int dirfd;
	time_t now;
	struct src_state st;
	bool have_file;          /* NAME.crl exists */
	size_t mirror;
	char *url_masked;
	struct dl_request req;
	bool finished, ok, installed;
	/* an acceptable but expired CRL, installed only if no mirror has a current one */
	unsigned char *fallback;
	size_t fallback_len;
	char fallback_url[256];
};

static double jitter(void)
{
	unsigned int r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned int)rand();
	return (double)r / 4294967296.0;
}

static void set_result(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_result(struct job *j, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	state_set(&j->st.last_result, buf);
}

/* Fills the CRL part of the state from a verified CRL. */
static void remember_crl(struct src_state *st, const struct crl *c)
{
	st->have_crl = true;
	snprintf(st->number_hex, sizeof(st->number_hex), "%s", c->number_hex);
	st->has_number = (c->flags & CRL_HAS_NUMBER) != 0;
	memcpy(st->number, c->number, c->number_len);
	st->number_len = c->number_len;
	st->this_update = c->this_update;
	st->has_next_update = (c->flags & CRL_HAS_NEXT_UPDATE) != 0;
	st->next_update = c->next_update;
	st->entries = c->entries;
	memcpy(st->digest, c->digest, sizeof(st->digest));
	snprintf(st->sig_alg, sizeof(st->sig_alg), "%s", OBJ_nid2ln(c->sig_nid));
	snprintf(st->issuer, sizeof(st->issuer), "%s", c->issuer_text);
}

/* Records which file the CRL part of the state describes. */
static void remember_file(struct job *j, const char *fname)
{
	struct stat sb;

	if (fstatat(j->dirfd, fname, &sb, 0) != 0)
		return;
	j->st.file_ino = (unsigned long long)sb.st_ino;
	j->st.file_size = (unsigned long long)sb.st_size;
	j->st.file_mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
}

static bool state_describes(const struct src_state *st, const struct stat *sb)
{
	return st->have_crl && st->file_ino == (unsigned long long)sb->st_ino &&
	       st->file_size == (unsigned long long)sb->st_size &&
	       st->file_mtime_ns == (long long)sb->st_mtim.tv_sec * 1000000000LL + sb->st_mtim.tv_nsec;
}

/*
 * Parses and verifies the installed NAME.crl when the state does not describe it (first run,
 * state lost): the rollback check must compare against what is really installed.
 */
static void learn_installed(struct job *j, const char *fname)
{
	STACK_OF(X509_CRL) *sk = NULL;
	unsigned char *buf = NULL;
	struct crl *c = NULL;
	char err[512];
	size_t len;
	int r;

	r = crl_read_file_at(j->dirfd, fname, CRL_FILE_MAX, &buf, &len);
	if (r != 0) {
		log_warn(logger, "source %s: cannot read the installed %s/%s: %s", j->src->name, j->cfg->cache_dir,
			 fname, strerror(-r));
		goto out;
	}
	if (crl_decode(buf, len, &sk, err, sizeof(err)) != CRL_OK || sk_X509_CRL_num(sk) != 1 ||
	    crl_from_x509(sk_X509_CRL_value(sk, 0), &j->src->ca, 1, j->now, fname, &c, err, sizeof(err)) != CRL_OK) {
		log_warn(logger, "source %s: the installed %s/%s is not usable (%s); it will be replaced", j->src->name,
			 j->cfg->cache_dir, fname, err);
		goto out;
	}
	remember_crl(&j->st, c);
	remember_file(j, fname);
out:
	crl_unref(c);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	free(buf);
}

static void job_start_mirror(struct dl_multi *m, struct job *j);

static void job_finish(struct job *j, bool ok)
{
	struct schedule_in in = {
		.now = j->now,
		.interval = cfg_source_interval(j->cfg, j->src),
		.have_crl = j->st.have_crl,
		.this_update = j->st.this_update,
		.next_update = j->st.next_update,
		.has_next_update = j->st.has_next_update,
		.jitter = jitter(),
	};
	int r;

	j->finished = true;
	j->ok = ok;
	j->st.last_attempt = j->now;
	if (ok) {
		j->st.last_success = j->now;
		j->st.failures = 0;
	} else if (j->req.result != DL_ABORTED) {
		j->st.failures++; /* an abandoned transfer (shutdown) is not the source's fault */
	}
	in.failures = j->st.failures;
	/* Abandoned by a signal: due again at once (a SIGTERM'd process will not come back to it). */
	j->st.next_attempt = j->req.result == DL_ABORTED ? j->now : schedule_next(&in);
	state_set(&j->st.url, j->url_masked);
	r = state_save(j->dirfd, j->src->name, &j->st);
	if (r != 0)
		log_error(logger, "source %s: cannot save its state in %s/" STATE_DIR ": %s", j->src->name,
			  j->cfg->cache_dir, strerror(-r));
}

static bool install_der(struct job *j, const unsigned char *der, size_t len, const struct crl *c, const char *url)
{
	char fname[CFG_NAME_MAX + 8], nu[40];
	int r;

	snprintf(fname, sizeof(fname), "%s.crl", j->src->name);
	r = install_file(j->dirfd, fname, der, len, 0644, NULL);
	if (r != 0) {
		log_error(logger, "source %s: cannot install %s/%s: %s; the previous CRL stays", j->src->name,
			  j->cfg->cache_dir, fname, strerror(-r));
		set_result(j, "install failed: %s", strerror(-r));
		return false;
	}
	remember_crl(&j->st, c);
	remember_file(j, fname);
	j->have_file = true;
	j->installed = true;
	if (c->flags & CRL_HAS_NEXT_UPDATE)
		crl_time_str(c->next_update, nu, sizeof(nu));
	else
		snprintf(nu, sizeof(nu), "never");
	log_note(logger, "source %s: installed CRL number %s from %s (%zu entries, nextUpdate %s) as %s/%s",
		 j->src->name, c->number_hex, url, c->entries, nu, j->cfg->cache_dir, fname);
	set_result(j, "installed number %s", c->number_hex);
	return true;
}

/* Compares a verified candidate with the installed CRL: <0 rollback, 0 same, >0 newer; *conflict for same number, other content. */
static int compare_installed(const struct job *j, const struct crl *c, bool *conflict)
{
	const struct src_state *st = &j->st;
	int age;

	*conflict = false;
	if (!st->have_crl || !j->have_file)
		return 1;
	if ((c->flags & CRL_HAS_NUMBER) && st->has_number) {
		if (c->number_len != st->number_len)
			age = c->number_len < st->number_len ? -1 : 1;
		else
			age = c->number_len ? memcmp(c->number, st->number, c->number_len) : 0;
	} else {
		age = (c->this_update > st->this_update) - (c->this_update < st->this_update);
	}
	if (age == 0 && memcmp(c->digest, st->digest, sizeof(st->digest)) != 0)
		*conflict = true;
	return age;
}

/* Returns true when the source is done (fresh, or failed for good with nothing more to try). */
static bool handle_body(struct job *j, const char *url, char *why, size_t whylen)
{
	STACK_OF(X509_CRL) *sk = NULL;
	struct crl *best = NULL;
	X509_CRL *bestx = NULL;
	unsigned char *der = NULL;
	char err[512] = "";
	bool done = false, conflict;
	int len, age;

	if (crl_decode(j->req.body, j->req.body_len, &sk, err, sizeof(err)) != CRL_OK) {
		snprintf(why, whylen, "%s", err);
		goto out;
	}
	for (int i = 0; i < sk_X509_CRL_num(sk); i++) {
		struct crl *c = NULL;
		enum crl_error e = crl_from_x509(sk_X509_CRL_value(sk, i), &j->src->ca, 1, j->now, j->src->name, &c,
						 err, sizeof(err));

		if (e != CRL_OK) {
			snprintf(why, whylen, "%s", err);
			continue;
		}
		if (best == NULL || crl_compare_age(c, best) > 0) {
			crl_unref(best);
			best = c;
			bestx = sk_X509_CRL_value(sk, i);
		} else {
			crl_unref(c);
		}
	}
	if (best == NULL)
		goto out;
	age = compare_installed(j, best, &conflict);
	if (age < 0 || conflict) {
		char tu[40];

		crl_time_str(best->this_update, tu, sizeof(tu));
		snprintf(why, whylen, "refused: rollback: it serves number %s (thisUpdate %s), %s the installed number %s",
			 best->number_hex, tu, conflict ? "same number but other content than" : "older than",
			 j->st.number_hex);
		goto out;
	}
	if (age == 0) {
		log_info(logger, "source %s: %s serves the installed CRL number %s: unchanged", j->src->name, url,
			 best->number_hex);
		set_result(j, "unchanged (same CRL number %s)", best->number_hex);
		done = j->ok = true;
		goto out;
	}
	len = i2d_X509_CRL(bestx, &der);
	if (len <= 0) {
		snprintf(why, whylen, "cannot encode the CRL as DER");
		goto out;
	}
	if ((best->flags & CRL_HAS_NEXT_UPDATE) && best->next_update < j->now && j->mirror + 1 < j->src->n_urls) {
		/* Newer than ours but already expired: another mirror may have a current one. */
		if (j->fallback == NULL) {
			j->fallback = der;
			j->fallback_len = (size_t)len;
			der = NULL;
			snprintf(j->fallback_url, sizeof(j->fallback_url), "%s", url);
		}
		snprintf(why, whylen, "serves an expired CRL (number %s); trying the next mirror", best->number_hex);
		goto out;
	}
	done = true;
	j->ok = install_der(j, der, (size_t)len, best, url);
	if (j->ok && (best->flags & CRL_HAS_NEXT_UPDATE) && best->next_update < j->now) {
		log_error(logger, "source %s: the newest CRL available (number %s) is already expired", j->src->name,
			  best->number_hex);
		j->ok = false;
	}
out:
	OPENSSL_free(der);
	crl_unref(best);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	return done;
}

static void install_fallback(struct job *j)
{
	STACK_OF(X509_CRL) *sk = NULL;
	struct crl *c = NULL;
	char err[512];

	if (crl_decode(j->fallback, j->fallback_len, &sk, err, sizeof(err)) == CRL_OK &&
	    crl_from_x509(sk_X509_CRL_value(sk, 0), &j->src->ca, 1, j->now, j->src->name, &c, err, sizeof(err)) ==
		    CRL_OK) {
		if (install_der(j, j->fallback, j->fallback_len, c, j->fallback_url))
			log_error(logger, "source %s: no mirror serves a current CRL; installed the newest, expired one "
					  "(number %s)", j->src->name, c->number_hex);
	}
	crl_unref(c);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
}

static void on_done(struct dl_multi *m, struct dl_request *req, void *ctx)
{
	struct job *j = ctx;
	char why[640] = "";
	const char *url = j->url_masked ? j->url_masked : "?";

	switch (req->result) {
	case DL_NOT_MODIFIED:
		if (j->have_file && j->st.have_crl && (int)j->mirror == j->st.url_index) {
			log_info(logger, "source %s: %s: not modified (304)", j->src->name, url);
			set_result(j, "unchanged (304 Not Modified)");
			if (req->etag_out)
				state_set(&j->st.etag, req->etag_out);
			if (req->last_modified_out)
				state_set(&j->st.last_modified, req->last_modified_out);
			j->ok = true;
			goto finish;
		}
		snprintf(why, sizeof(why), "answered 304 to an unconditional request");
		break;
	case DL_OK:
		if (handle_body(j, url, why, sizeof(why))) {
			if (j->ok) {
				/* Validators belong to this mirror's copy. */
				state_set(&j->st.etag, req->etag_out);
				state_set(&j->st.last_modified, req->last_modified_out);
				j->st.url_index = (int)j->mirror;
			}
			goto finish;
		}
		break;
	default:
		snprintf(why, sizeof(why), "%s", req->error[0] ? req->error : "transfer failed");
		break;
	}
	/* An error only when no mirror is left to try. */
	log_msg(logger, j->mirror + 1 < j->src->n_urls && req->result != DL_ABORTED ? LOG_LVL_WARN : LOG_LVL_ERROR,
		NULL, 0, "source %s: %s: %s", j->src->name, url, why);
	set_result(j, "%s: %s", url, why);
	if (req->result == DL_ABORTED)
		goto finish;
	if (j->mirror + 1 < j->src->n_urls) {
		j->mirror++;
		job_start_mirror(m, j);
		return;
	}
	if (j->fallback != NULL) {
		install_fallback(j);
		j->ok = false;
	} else {
		log_error(logger, "source %s: no mirror gave a usable CRL; %s", j->src->name,
			  j->have_file ? "the installed CRL stays" : "nothing is installed for it");
	}
finish:
	job_finish(j, j->ok);
}

static void job_start_mirror(struct dl_multi *m, struct job *j)
{
	const char *url = j->src->urls[j->mirror];
	bool conditional = j->have_file && j->st.have_crl && (int)j->mirror == j->st.url_index;
	int r;

	dl_request_clear(&j->req);
	free(j->url_masked);
	j->url_masked = dl_mask_url(url);
	memset(&j->req, 0, sizeof(j->req));
	j->req.url = url;
	j->req.etag = conditional ? j->st.etag : NULL;
	j->req.last_modified = conditional ? j->st.last_modified : NULL;
	j->req.max_size = (size_t)cfg_source_max_size(j->cfg, j->src);
	j->req.timeout = (long)j->cfg->timeout;
	j->req.user_agent = j->cfg->user_agent;
	debug_f(logger, "source %s: GET %s%s", j->src->name, j->url_masked ? j->url_masked : "?",
		conditional ? " (conditional)" : "");
	r = dl_multi_add(m, &j->req, on_done, j);
	if (r != 0) {
		snprintf(j->req.error, sizeof(j->req.error), "cannot start the transfer: %s", strerror(-r));
		j->req.result = DL_TRANSFER_ERROR;
		on_done(m, &j->req, j);
	}
}

int refresh_sources(const struct cfg *cfg, int dirfd, const bool *due, int abort_fd, struct refresh_result *results)
{
	struct job *jobs = NULL;
	struct dl_multi *m = NULL;
	int lock = -1, r = 0;

	jobs = calloc(cfg->n_sources ? cfg->n_sources : 1, sizeof(*jobs));
	m = dl_multi_new(logger);
	if (jobs == NULL || m == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* One writer at a time: the rollback check and the install must see the same installed CRL. */
	lock = install_lock(dirfd, true);
	if (lock < 0) {
		r = lock;
		log_error(logger, "cannot lock %s/.crlsync.lock: %s", cfg->cache_dir, strerror(-r));
		goto out;
	}
	install_cleanup(dirfd, NULL);
	state_cleanup(dirfd);
	for (size_t i = 0; i < cfg->n_sources; i++) {
		struct job *j = &jobs[i];
		char fname[CFG_NAME_MAX + 8];
		struct stat sb;

		j->cfg = cfg;
		j->src = &cfg->sources[i];
		j->dirfd = dirfd;
		j->now = time(NULL);
		j->st.url_index = -1;
		if (due != NULL && !due[i]) {
			j->finished = true;
			continue;
		}
		r = state_load(dirfd, j->src->name, &j->st);
		if (r != 0)
			log_warn(logger, "source %s: its state in %s/" STATE_DIR " is unreadable (%s); starting afresh",
				 j->src->name, cfg->cache_dir, strerror(-r));
		snprintf(fname, sizeof(fname), "%s.crl", j->src->name);
		j->have_file = fstatat(dirfd, fname, &sb, 0) == 0 && S_ISREG(sb.st_mode);
		if (!j->have_file) {
			j->st.have_crl = false; /* validators and numbers describe a file that is gone */
		} else if (!state_describes(&j->st, &sb)) {
			/* No state, or a state behind the file (killed between rename and save): the
			 * rollback check must compare against what is really installed. */
			j->st.have_crl = false;
			j->st.url_index = -1; /* its validators describe another copy */
			learn_installed(j, fname);
		}
		if (j->src->n_urls == 0) {
			log_error(logger, "source %s: no `url' configured", j->src->name);
			set_result(j, "no url configured");
			job_finish(j, false);
			continue;
		}
		job_start_mirror(m, j);
	}
	r = dl_multi_run(m, abort_fd);
	for (size_t i = 0; i < cfg->n_sources; i++) {
		if (due != NULL && !due[i])
			continue;
		if (!jobs[i].finished)
			job_finish(&jobs[i], false);
		if (results != NULL) {
			results[i].ok = jobs[i].ok;
			results[i].installed = jobs[i].installed;
			results[i].next_attempt = jobs[i].st.next_attempt;
		}
	}
out:
	if (jobs != NULL) {
		for (size_t i = 0; i < cfg->n_sources; i++) {
			dl_request_clear(&jobs[i].req);
			free(jobs[i].url_masked);
			free(jobs[i].fallback);
			state_clear(&jobs[i].st);
		}
	}
	if (lock >= 0)
		install_unlock(lock);
	dl_multi_free(m);
	free(jobs);
	return r;
}

int fetch_main(int argc, char *argv[])
{
	struct refresh_result *res = NULL;
	struct cfg *cfg;
	int dirfd, r, rc = EXIT_FRESH;

	if (argc != 1) {
		fprintf(stderr, "usage: crlsync [-c FILE] fetch\n");
		return EXIT_CONFIG;
	}
	(void)argv;
	cfg = load_config();
	if (cfg == NULL)
		return EXIT_CONFIG;
	dirfd = open_cache_dir(cfg);
	if (dirfd < 0) {
		cfg_free(cfg);
		return EXIT_NOT_REFRESHED;
	}
	res = calloc(cfg->n_sources ? cfg->n_sources : 1, sizeof(*res));
	r = res ? refresh_sources(cfg, dirfd, NULL, -1, res) : -ENOMEM;
	if (r != 0)
		rc = EXIT_NOT_REFRESHED;
	for (size_t i = 0; r == 0 && i < cfg->n_sources; i++)
		if (!res[i].ok)
			rc = EXIT_NOT_REFRESHED;
	free(res);
	close(dirfd);
	cfg_free(cfg);
	return rc;
}
