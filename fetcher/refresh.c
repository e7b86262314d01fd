/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The job engine of a pass: each source a job, its mirrors in order over libcurl multi, verified, rollbacks refused, installed atomically. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "crlsync/cachedir.h"
#include "crlsync/crl.h"
#include "crlsync/file.h"
#include "crlsync/fmt.h"
#include "crlsync/install.h"
#include "crlsync/mark.h"
#include "crlsync/schedule.h"
#include "charon.h"
#include "consumers.h"
#include "download.h"
#include "installed.h"
#include "refresh.h"
#include "state.h"

struct job {
	const struct log_sink *log;
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
	const char *why_code;    /* STATE_RESULT_* of the reason handle_body() gives in `why' */
	char pem_err[320];       /* pem = yes: why NAME.pem could not be written this pass ("" none) */
	/*
	 * A delta job (RFC 5280 §5.2.4): the source seen as "NAME+" (so NAME+.crl, .state/NAME+.json)
	 * with the delta's URLs, amending the base that `base` installed or holds.
	 */
	struct job *base;
	struct cfg_source dsrc;
	char **durls;            /* the URLs of dsrc (owned) */
	bool base_due;           /* a delta for a newer base was seen: the base is due again at once */
	bool keep_validators;    /* false: this answer is not installed, its validators must not be kept */
};

/* The attempt's outcome as a code (state.h STATE_RESULT_*), beside set_result()'s text. */
static void set_code(struct job *j, const char *code)
{
	snprintf(j->st.result, sizeof(j->st.result), "%s", code);
}

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

static void job_start_mirror(struct dl_multi *m, struct job *j);
static bool job_conditional(const struct job *j);

static void job_finish(struct job *j, bool ok)
{
	struct schedule_in in = {
		.now = j->now,
		.interval = cfg_source_interval(j->cfg, j->src),
		.have_crl = j->st.have_crl,
		.this_update = j->st.crl.this_update,
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
		log_error(j->log, "source %s: cannot save its state in %s/" CACHEDIR_STATE ": %s", j->src->name,
			  j->cfg->global.cache_dir, strerror(-r));
}

static bool install_der(struct job *j, const unsigned char *der, size_t len, const struct crl *c, const char *url)
{
	char fname[CFG_NAME_MAX + 8], nu[40];
	int r;

	cachedir_crl_name(j->src->name, fname, sizeof(fname));
	/* All of the download: its own temporary file, renamed into place, never copied (issue 14). */
	if (dl_request_has_file(&j->req) && der == j->req.body && len == j->req.body_len)
		r = dl_request_install(&j->req, fname, 0644);
	else
		r = install_file(j->dirfd, fname, der, len, 0644, NULL);
	if (r < 0) {
		log_error(j->log, "source %s: cannot install %s/%s: %s; the previous CRL stays", j->src->name,
			  j->cfg->global.cache_dir, fname, strerror(-r));
		set_result(j, "install failed: %s", strerror(-r));
		set_code(j, STATE_RESULT_INSTALL_FAILED);
		return false;
	}
	if (r > 0) {
		/* Renamed into place (the plugin may already use it), only not yet known durable: it is the
		 * installed CRL now, and the state and the high-water mark must say so. */
		log_warn(j->log, "source %s: installed %s/%s, but fsyncing %s failed: %s; a crash now could bring "
				 "back the previous file", j->src->name, j->cfg->global.cache_dir, fname, j->cfg->global.cache_dir,
			 strerror(errno));
	}
	installed_remember(&j->st, c);
	installed_record_file(j->dirfd, fname, &j->st);
	j->have_file = true;
	j->installed = true;
	if (c->flags & CRL_HAS_NEXT_UPDATE)
		fmt_time(c->next_update, nu, sizeof(nu));
	else
		snprintf(nu, sizeof(nu), "never");
	log_note(j->log, "source %s: installed CRL number %s from %s (%zu entries, nextUpdate %s) as %s/%s",
		 j->src->name, c->number_hex, url, c->entries, nu, j->cfg->global.cache_dir, fname);
	set_result(j, "installed number %s", c->number_hex);
	set_code(j, c->flags & CRL_HAS_NEXT_UPDATE && c->next_update < j->now ? STATE_RESULT_INSTALLED_EXPIRED
									     : STATE_RESULT_INSTALLED);
	/* pem = yes: its PEM twin at once, so that both names show the same CRL (the plugin skips the twin). */
	if (consumers_write_pem(j->dirfd, j->src, der, len, j->pem_err, sizeof(j->pem_err)) != 0)
		log_error(j->log, "source %s: %s; %s/%s stays installed", j->src->name, j->pem_err, j->cfg->global.cache_dir,
			  fname);
	return true;
}

/*
 * Whether the verified delta `d` may be installed beside the base its job amends (RFC 5280
 * §5.2.4, crl_delta_fit(): the one rule the plugin's check applies too): the base's issuer, key and
 * scope, a BaseCRLNumber at most the installed base's number, its own number higher. A delta for a
 * newer base stays out (the base is due again at once); one the base supersedes is not installed.
 * False with `why' (and *done when no other mirror would change the answer).
 */
static bool delta_admit(struct job *j, const struct crl *d, char *why, size_t whylen, bool *done)
{
	const struct src_state *bs = &j->base->st;
	struct mark_stream s;
	enum crl_delta_fit f;

	j->why_code = STATE_RESULT_REFUSED_SCOPE;
	if (!bs->have_crl || !j->base->have_file) {
		snprintf(why, whylen, "no base CRL installed for it: a delta is never in force alone");
		return false;
	}
	mark_base_stream_of(d, &s);
	if (!mark_same_stream(&s, &bs->crl.stream)) {
		snprintf(why, whylen, "refused: its issuer, key or scope (issuingDistributionPoint) is not the base's");
		return false;
	}
	f = crl_delta_fit(d, bs->crl.has_number, bs->crl.number, bs->crl.number_len);
	if (f == CRL_DELTA_APPLIES)
		return true;
	*done = true;
	j->keep_validators = false;
	if (f == CRL_DELTA_NEWER_BASE) {
		snprintf(why, whylen, "delta number %s is for base number %s, newer than the installed base number %s: "
				      "kept out of force until that base is installed; fetching the base again",
			 d->number_hex, d->base_number_hex, bs->crl.number_hex);
		j->why_code = STATE_RESULT_DELTA_PENDING;
		j->base_due = true;
	} else {
		snprintf(why, whylen, "delta number %s (for base number %s) not installed: %s (installed base number %s)",
			 d->number_hex, d->base_number_hex, crl_delta_fit_str(f), bs->crl.number_hex);
		j->why_code = f == CRL_DELTA_NOT_NEWER ? STATE_RESULT_DELTA_SUPERSEDED : STATE_RESULT_INVALID_CRL;
	}
	log_warn(j->log, "source %s: %s", j->src->name, why);
	set_result(j, "%s", why);
	set_code(j, j->why_code);
	j->ok = f == CRL_DELTA_NOT_NEWER;
	return false;
}

/* Returns true when the source is done (fresh, or failed for good with nothing more to try). */
static bool handle_body(struct job *j, const char *url, char *why, size_t whylen)
{
	struct crl_der *ders = NULL;
	struct crl *best = NULL;
	const unsigned char *der = NULL;
	size_t n = 0, len = 0;
	char err[512] = "";
	const char *against = NULL;
	bool done = false, conflict, scope_diff;
	int age;

	j->why_code = STATE_RESULT_INVALID_CRL;
	if (crl_split(j->req.body, j->req.body_len, &ders, &n, err, sizeof(err)) != CRL_OK) {
		snprintf(why, whylen, "%s", err);
		goto out;
	}
	struct mark bm = { 0 }, cm;

	for (size_t i = 0; i < n; i++) {
		struct crl *c = NULL;
		/* Every entry is checked, but the fetcher never looks one up: no index to build. */
		/* A DER body is the mapping of its temporary file: every pass releases what it read. */
		unsigned flags = CRL_LOAD_NO_INDEX |
				 (dl_request_has_file(&j->req) && ders[i].der == j->req.body ? CRL_LOAD_MAPPED : 0);
		enum crl_error e = crl_from_der(ders[i].der, ders[i].len, &j->src->ca, 1, j->now, j->src->name, flags,
						&c, err, sizeof(err));

		if (e != CRL_OK) {
			snprintf(why, whylen, "%s", err);
			continue;
		}
		if (((c->flags & CRL_IS_DELTA) != 0) != (j->base != NULL)) {
			snprintf(why, whylen, "%s", j->base ? "not a delta CRL (no deltaCRLIndicator), where the delta is expected"
							    : "a delta CRL (deltaCRLIndicator), not the complete CRL of this source");
			crl_unref(c);
			continue;
		}
		mark_from_crl(c, &cm);
		if (best == NULL || mark_compare_age(&cm, &bm) > 0) {
			crl_unref(best);
			best = c;
			bm = cm;
			der = ders[i].der;
			len = ders[i].len;
		} else {
			crl_unref(c);
		}
	}
	if (best == NULL)
		goto out;
	if (j->base != NULL && !delta_admit(j, best, why, whylen, &done))
		goto out;
	age = installed_compare(&j->st, j->have_file, best, &conflict, &scope_diff, &against);
	if (scope_diff) {
		char sc[160];

		fmt_scope(best->flags, sc, sizeof(sc));
		snprintf(why, whylen, "refused: its scope (%s) differs from the %s", sc,
			 j->st.have_crl && j->have_file ? "installed CRL's"
							 : "scope of the CRLs this source installed before");
		j->why_code = STATE_RESULT_REFUSED_SCOPE;
		goto out;
	}
	if (age < 0) {
		char tu[40];

		fmt_time(best->this_update, tu, sizeof(tu));
		snprintf(why, whylen,
			 "refused: rollback: it serves number %s (thisUpdate %s), %s the number %s this source installed",
			 best->number_hex, tu, conflict ? "same number but other content than" : "older than", against);
		j->why_code = STATE_RESULT_REFUSED_ROLLBACK;
		goto out;
	}
	if (age == 0) {
		log_info(j->log, "source %s: %s serves the installed CRL number %s: unchanged", j->src->name, url,
			 best->number_hex);
		set_result(j, "unchanged (same CRL number %s)", best->number_hex);
		set_code(j, STATE_RESULT_NOT_MODIFIED);
		done = j->ok = true;
		goto out;
	}
	/* Installed as DER, byte for byte what was verified (a PEM body's decoded block). */
	if ((best->flags & CRL_HAS_NEXT_UPDATE) && best->next_update < j->now && j->mirror + 1 < j->src->n_urls) {
		/* Newer than ours but already expired: another mirror may have a current one. */
		if (j->fallback == NULL && (j->fallback = malloc(len)) != NULL) {
			memcpy(j->fallback, der, len);
			j->fallback_len = len;
			snprintf(j->fallback_url, sizeof(j->fallback_url), "%s", url);
		}
		snprintf(why, whylen, "serves an expired CRL (number %s); trying the next mirror", best->number_hex);
		j->why_code = STATE_RESULT_EXPIRED_CRL;
		goto out;
	}
	done = true;
	j->ok = install_der(j, der, len, best, url);
	if (j->ok && (best->flags & CRL_HAS_NEXT_UPDATE) && best->next_update < j->now) {
		log_error(j->log, "source %s: the newest CRL available (number %s) is already expired", j->src->name,
			  best->number_hex);
		j->ok = false;
	}
out:
	crl_unref(best);
	crl_der_free(ders, n);
	return done;
}

static void install_fallback(struct job *j)
{
	struct crl *c = NULL;
	char err[512];

	if (crl_from_der(j->fallback, j->fallback_len, &j->src->ca, 1, j->now, j->src->name, CRL_LOAD_NO_INDEX, &c, err,
			 sizeof(err)) == CRL_OK) {
		if (install_der(j, j->fallback, j->fallback_len, c, j->fallback_url))
			log_error(j->log, "source %s: no mirror serves a current CRL; installed the newest, expired one "
					  "(number %s)", j->src->name, c->number_hex);
	}
	crl_unref(c);
}

static void on_done(struct dl_multi *m, struct dl_request *req, void *ctx)
{
	struct job *j = ctx;
	char why[640] = "";
	const char *url = j->url_masked ? j->url_masked : "?";

	j->why_code = STATE_RESULT_DOWNLOAD_FAILED;
	switch (req->result) {
	case DL_NOT_MODIFIED:
		if (job_conditional(j)) {
			log_info(j->log, "source %s: %s: not modified (304)", j->src->name, url);
			set_result(j, "unchanged (304 Not Modified)");
			set_code(j, STATE_RESULT_NOT_MODIFIED);
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
		j->keep_validators = true;
		if (handle_body(j, url, why, sizeof(why))) {
			if (j->ok && j->keep_validators) {
				/* Validators belong to this URL's copy (not to a position in the list). */
				state_set(&j->st.etag, req->etag_out);
				state_set(&j->st.last_modified, req->last_modified_out);
				state_url_key(j->src->urls[j->mirror], j->st.validators_url);
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
	log_msg(j->log, j->mirror + 1 < j->src->n_urls && req->result != DL_ABORTED ? LOG_LVL_WARN : LOG_LVL_ERROR,
		NULL, 0, "source %s: %s: %s", j->src->name, url, why);
	set_result(j, "%s: %s", url, why);
	set_code(j, j->why_code);
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
		log_error(j->log, "source %s: no mirror gave a usable CRL; %s", j->src->name,
			  j->have_file ? "the installed CRL stays" : "nothing is installed for it");
	}
finish:
	job_finish(j, j->ok);
}

/*
 * Whether the validators kept in the state may go with a request to the current mirror: they
 * describe the installed CRL and came from this very URL (issue 13: after a URL was changed in
 * place, the new one got the old one's ETag, and a 304 for a file never fetched).
 */
static bool job_conditional(const struct job *j)
{
	char key[sizeof(j->st.validators_url)];

	if (!j->have_file || !j->st.have_crl || j->st.validators_url[0] == '\0')
		return false;
	state_url_key(j->src->urls[j->mirror], key);
	return strcmp(key, j->st.validators_url) == 0;
}

static void job_start_mirror(struct dl_multi *m, struct job *j)
{
	const char *url = j->src->urls[j->mirror];
	bool conditional = job_conditional(j);
	int r;

	dl_request_clear(&j->req);
	free(j->url_masked);
	j->url_masked = dl_mask_url(url);
	memset(&j->req, 0, sizeof(j->req));
	j->req.url = url;
	/* The body goes to a temporary file in cache-dir, never whole into memory (issue 14). */
	j->req.body_dirfd = j->dirfd;
	cachedir_crl_name(j->src->name, j->req.body_name, sizeof(j->req.body_name));
	j->req.etag = conditional ? j->st.etag : NULL;
	j->req.last_modified = conditional ? j->st.last_modified : NULL;
	j->req.max_size = (size_t)cfg_source_max_size(j->cfg, j->src);
	j->req.timeout = (long)j->cfg->global.timeout;
	j->req.user_agent = j->cfg->global.user_agent;
	debug_f(j->log, "source %s: GET %s%s", j->src->name, j->url_masked ? j->url_masked : "?",
		conditional ? " (conditional)" : "");
	r = dl_multi_add(m, &j->req, on_done, j);
	if (r != 0) {
		snprintf(j->req.error, sizeof(j->req.error), "cannot start the transfer: %s", strerror(-r));
		j->req.result = DL_TRANSFER_ERROR;
		on_done(m, &j->req, j);
	}
}

/*
 * Takes the cache-dir lock. With an abort_fd (the daemon's signalfd: every signal is blocked, so
 * a blocking flock() could never be interrupted) it polls: a try every LOCK_POLL_MS, and -EINTR
 * as soon as abort_fd is readable (the signal stays queued for the caller to read).
 */
#define LOCK_POLL_MS 200

static int lock_cache(const struct log_sink *log, const struct cfg *cfg, int dirfd, int abort_fd)
{
	int lock = cachedir_lock(dirfd, false);

	if (lock != -EWOULDBLOCK)
		return lock;
	log_note(log, "waiting for another crlsync holding %s/" CACHEDIR_LOCK, cfg->global.cache_dir);
	if (abort_fd < 0)
		return cachedir_lock(dirfd, true);
	for (;;) {
		struct pollfd pf = { .fd = abort_fd, .events = POLLIN };
		int n = poll(&pf, 1, LOCK_POLL_MS);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			return -EINTR;
		lock = cachedir_lock(dirfd, false);
		if (lock != -EWOULDBLOCK)
			return lock;
	}
}

/*
 * Loads the state of j->src and learns what is installed as NAME.crl. Returns 0 when the job may
 * start, 1 when it is finished already (logged, and saved where that is safe).
 */
static int job_prepare(struct job *j)
{
	char fname[CFG_NAME_MAX + 8], link[256];
	struct stat sb;
	int r;

	r = state_load(j->dirfd, j->src->name, &j->st);
	if (r == -EINVAL) {
		log_warn(j->log, "source %s: its state in %s/" CACHEDIR_STATE " is damaged; starting afresh", j->src->name,
			 j->cfg->global.cache_dir);
		state_clear(&j->st);
	} else if (r != 0) {
		/* It holds the high-water mark: saving over it, or installing without it, could let
		 * an older CRL in. Nothing this pass; the state file is left alone. */
		log_error(j->log, "source %s: cannot read its state in %s/" CACHEDIR_STATE ": %s; nothing installed "
				  "for it this pass", j->src->name, j->cfg->global.cache_dir, strerror(-r));
		state_clear(&j->st);
		j->finished = true;
		j->st.next_attempt = j->now + SCHEDULE_MIN_DELAY;
		return 1;
	}
	r = 0;
	cachedir_crl_name(j->src->name, fname, sizeof(fname));
	/* A symlink there is no installed CRL (issue 10, item 8): the next install renames over
	 * the link itself, its target untouched; the high-water mark still refuses older CRLs. */
	j->have_file = install_inspect(j->dirfd, fname, &sb, link, sizeof(link)) == 0;
	if (!j->have_file && link[0] != '\0')
		log_warn(j->log, "source %s: %s/%s is a symbolic link (to %s), not a CRL file: not read, and the "
				 "next CRL installed replaces the link (its target is left alone)",
			 j->src->name, j->cfg->global.cache_dir, fname, link);
	if (!j->have_file) {
		/* Validators and the record describe a file that is gone; the high-water mark stays. */
		j->st.have_crl = false;
	} else if (!installed_describes(&j->st, &sb) || j->st.crl.stream.scope_kind == MARK_SCOPE_UNKNOWN) {
		/* No state, or a state behind the file (killed between rename and save), or one
		 * written before scopes were kept: the rollback and scope checks must compare
		 * against what is really installed. */
		j->st.have_crl = false;
		j->st.url_index = -1; /* its validators describe another copy */
		j->st.validators_url[0] = '\0';
		r = installed_learn(j->log, j->cfg, j->src, j->dirfd, fname, j->now, &j->st);
		if (r < 0) {
			log_error(j->log, "source %s: cannot read the installed %s/%s: %s; cannot compare with "
					  "the installed CRL, nothing installed for it this pass", j->src->name,
				  j->cfg->global.cache_dir, fname, strerror(-r));
			set_result(j, "error: cannot compare with the installed CRL (%s)", strerror(-r));
			set_code(j, STATE_RESULT_STATE_ERROR);
			job_finish(j, false);
			r = 0;
			return 1;
		}
		r = 0;
	}
	return 0;
}

/* The FreshestCRL URLs of the installed base dirfd/NAME.crl (http and https only: crl.h). */
static size_t base_freshest(const struct job *b, char ***out)
{
	char fname[CFG_NAME_MAX + 8], err[512];
	const unsigned char *buf = NULL;
	struct crl_der *ders = NULL;
	struct crl *c = NULL;
	size_t len = 0, n = 0, got = 0;

	*out = NULL;
	cachedir_crl_name(b->src->name, fname, sizeof(fname));
	/*
	 * The state remembers the installed base's FreshestCRL URLs: a pass that got a 304 for a
	 * 10M-entry base must not verify it again just to find its delta (0.8 s). Only when the state
	 * describes the very file installed now; otherwise the file is read.
	 */
	{
		struct stat sb;

		if (b->st.have_freshest && fstatat(b->dirfd, fname, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(sb.st_mode) && installed_describes(&b->st, &sb)) {
			size_t lines = 0;

			for (const char *p = b->st.freshest; *p; p++)
				lines += *p == '\n';
			if (lines == 0 || (*out = calloc(lines, sizeof(**out))) == NULL)
				return 0;
			for (const char *p = b->st.freshest, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
				if (((*out)[got] = strndup(p, (size_t)(nl - p))) != NULL)
					got++;
			debug_f(b->log, "source %s: the delta's URLs from the state (the installed %s is not read again)",
				b->src->name, fname);
			return got;
		}
	}
	/* Mapped, read a MiB at a time and released: a 10M-entry base never sits in memory (issue 14). */
	if (file_map_at(b->dirfd, fname, CRL_FILE_MAX, &buf, &len) != 0)
		return 0;
	if (crl_split(buf, len, &ders, &n, err, sizeof(err)) == CRL_OK && n == 1 &&
	    crl_from_der(ders[0].der, ders[0].len, &b->src->ca, 1, b->now, fname,
			 CRL_LOAD_NO_INDEX | (ders[0].der == buf ? CRL_LOAD_MAPPED : 0), &c, err, sizeof(err)) == CRL_OK &&
	    c->n_freshest_urls > 0 && (*out = calloc(c->n_freshest_urls, sizeof(**out))) != NULL) {
		for (size_t i = 0; i < c->n_freshest_urls; i++)
			if (((*out)[got] = strdup(c->freshest_urls[i])) != NULL)
				got++;
	}
	crl_unref(c);
	crl_der_free(ders, n);
	file_unmap(buf, len);
	return got;
}

/*
 * Starts the delta job of the base job `b` when its source has a base installed and a delta to
 * fetch: `delta-url` (repeatable), else the installed base's FreshestCRL http(s) URLs. The delta
 * is the source "NAME+": NAME+.crl beside NAME.crl (AD CS names its delta file so), its own state
 * .state/NAME+.json, the same conditional GET, mirrors, verification and rollback rule (its own
 * stream, mark.h). Returns true when a transfer was started or the job finished at once.
 */
static bool delta_job_start(struct dl_multi *m, struct job *b, struct job *d)
{
	const struct cfg_source *src = b->src;
	size_t n;

	if (!b->have_file || !b->st.have_crl)
		return false; /* no base in force: a delta alone is never used */
	if (strlen(src->name) >= CFG_NAME_MAX) {
		log_error(b->log, "source %s: its name is too long for its delta's (%s+): no delta fetched", src->name,
			  src->name);
		return false;
	}
	if (src->n_delta_urls > 0) {
		d->durls = calloc(src->n_delta_urls, sizeof(*d->durls));
		for (n = 0; d->durls != NULL && n < src->n_delta_urls; n++)
			if ((d->durls[n] = strdup(src->delta_urls[n])) == NULL)
				break;
	} else {
		n = base_freshest(b, &d->durls);
	}
	if (n == 0) {
		free(d->durls);
		d->durls = NULL;
		return false;
	}
	d->log = b->log;
	d->cfg = b->cfg;
	d->dsrc = *src;
	snprintf(d->dsrc.name, sizeof(d->dsrc.name), "%s+", src->name);
	d->dsrc.urls = d->durls;
	d->dsrc.n_urls = n;
	d->dsrc.delta_urls = NULL;
	d->dsrc.n_delta_urls = 0;
	d->dsrc.pem = false;
	d->dsrc.on_install = (char *)""; /* the source's hooks run for its base */
	d->src = &d->dsrc;
	d->base = b;
	d->dirfd = b->dirfd;
	d->now = time(NULL);
	d->st.url_index = -1;
	if (job_prepare(d) != 0)
		return true;
	job_start_mirror(m, d);
	return true;
}

/* Forgets a job's transfer, state and (a delta job's) URLs; what it is for stays. */
static void job_clear(struct job *j)
{
	dl_request_clear(&j->req);
	free(j->url_masked);
	j->url_masked = NULL;
	free(j->fallback);
	j->fallback = NULL;
	state_clear(&j->st);
	for (size_t k = 0; j->durls != NULL && k < j->dsrc.n_urls; k++)
		free(j->durls[k]);
	free(j->durls);
	j->durls = NULL;
}

/*
 * Starts the base job `j` afresh in this pass (a delta named a newer base than the one installed:
 * RFC 5280 §5.2.4, issue 14 "the base is fetched at once"). Its `installed' is cleared, so that the
 * caller learns whether this attempt installed a base. Returns whether a transfer was started.
 */
static bool base_refetch(struct dl_multi *m, struct job *j)
{
	const struct log_sink *log = j->log;
	const struct cfg *cfg = j->cfg;
	const struct cfg_source *src = j->src;
	int dirfd = j->dirfd;

	if (src->n_urls == 0)
		return false;
	job_clear(j);
	memset(j, 0, sizeof(*j));
	j->log = log;
	j->cfg = cfg;
	j->src = src;
	j->dirfd = dirfd;
	j->now = time(NULL);
	j->st.url_index = -1;
	log_note(log, "source %s: its delta is for a newer base than the installed one: fetching the base again now",
		 src->name);
	if (job_prepare(j) != 0)
		return false;
	job_start_mirror(m, j);
	return true;
}

int refresh_sources(const struct log_sink *log, const struct cfg *cfg, int dirfd, const bool *due, int abort_fd,
		    struct refresh_result *results)
{
	struct job *jobs = NULL, *djobs = NULL;
	struct dl_multi *m = NULL;
	bool charon_unreachable = false; /* one timeout per pass for a hung charon, not one per source */
	size_t n_delta = 0;
	int lock = -1, r = 0;

	jobs = calloc(cfg->n_sources ? cfg->n_sources : 1, sizeof(*jobs));
	m = dl_multi_new(log);
	if (jobs == NULL || m == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* One writer at a time: the rollback check and the install must see the same installed CRL. */
	lock = lock_cache(log, cfg, dirfd, abort_fd);
	if (lock < 0) {
		r = lock;
		if (r != -EINTR)
			log_error(log, "cannot lock %s/" CACHEDIR_LOCK ": %s", cfg->global.cache_dir, strerror(-r));
		for (size_t i = 0; results != NULL && i < cfg->n_sources; i++) {
			results[i].ok = results[i].installed = false;
			/* Retried soon; not at once, or the daemon would start a pass before reading the
			 * signal that interrupted this one (SIGUSR1 makes everything due anyway). */
			results[i].next_attempt = time(NULL) + SCHEDULE_MIN_DELAY;
		}
		goto out;
	}
	install_cleanup(dirfd, NULL);
	state_cleanup(dirfd);
	for (size_t i = 0; i < cfg->n_sources; i++) {
		struct job *j = &jobs[i];

		j->log = log;
		j->cfg = cfg;
		j->src = &cfg->sources[i];
		j->dirfd = dirfd;
		j->now = time(NULL);
		j->st.url_index = -1;
		if (due != NULL && !due[i]) {
			j->finished = true;
			continue;
		}
		if (job_prepare(j) != 0)
			continue;
		if (j->src->n_urls == 0) {
			log_error(log, "source %s: no `url' configured", j->src->name);
			set_result(j, "no url configured");
			set_code(j, STATE_RESULT_NO_URL);
			job_finish(j, false);
			continue;
		}
		job_start_mirror(m, j);
	}
	r = dl_multi_run(m, abort_fd);
	for (size_t i = 0; i < cfg->n_sources; i++)
		if ((due == NULL || due[i]) && !jobs[i].finished)
			job_finish(&jobs[i], false);
	/* Then the deltas, each against the base its source has installed now (RFC 5280 §5.2.4). */
	if (r != -EINTR) {
		djobs = calloc(cfg->n_sources ? cfg->n_sources : 1, sizeof(*djobs));
		if (djobs == NULL) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < cfg->n_sources; i++)
			if ((due == NULL || due[i]) && delta_job_start(m, &jobs[i], &djobs[i]))
				n_delta++;
		if (n_delta > 0)
			r = dl_multi_run(m, abort_fd);
	}
	/*
	 * A delta for a newer base: that base is fetched at once, in this pass, and then the delta
	 * once more against it. Once only: a CA whose delta runs ahead of the base it serves is
	 * retried on the delta's schedule, never in a loop.
	 */
	if (r != -EINTR && djobs != NULL) {
		/* Per source: AGAIN_BASE when its base is fetched again, AGAIN_HAD when it installed one before. */
		enum { AGAIN_BASE = 1, AGAIN_HAD = 2 };
		unsigned char *again = calloc(cfg->n_sources ? cfg->n_sources : 1, sizeof(*again));
		size_t n_again = 0;

		if (again == NULL) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < cfg->n_sources; i++) {
			struct job *dj = &djobs[i];
			bool installed = jobs[i].installed;

			if (dj->base == NULL || !dj->base_due)
				continue;
			if (!dj->finished)
				job_finish(dj, false);
			if (base_refetch(m, &jobs[i])) {
				again[i] = AGAIN_BASE | (installed ? AGAIN_HAD : 0);
				n_again++;
			}
			jobs[i].installed = jobs[i].installed || installed;
		}
		if (n_again > 0)
			r = dl_multi_run(m, abort_fd);
		n_again = 0;
		for (size_t i = 0; r != -EINTR && i < cfg->n_sources; i++) {
			bool fresh;

			if (!(again[i] & AGAIN_BASE))
				continue;
			if (!jobs[i].finished)
				job_finish(&jobs[i], false);
			fresh = jobs[i].installed;
			jobs[i].installed = fresh || (again[i] & AGAIN_HAD);
			if (!fresh)
				continue; /* no newer base: the delta stays out of force (its state says so) */
			job_clear(&djobs[i]);
			memset(&djobs[i], 0, sizeof(djobs[i]));
			if (delta_job_start(m, &jobs[i], &djobs[i]))
				n_again++;
		}
		free(again);
		if (n_again > 0)
			r = dl_multi_run(m, abort_fd);
	}
	for (size_t i = 0; i < cfg->n_sources; i++) {
		struct job *dj = djobs != NULL && djobs[i].base != NULL ? &djobs[i] : NULL;

		if (due != NULL && !due[i])
			continue;
		if (dj != NULL && !dj->finished)
			job_finish(dj, false);
		/* Other consumers (pem, on-install): after the transfers, so a slow command stalls none of them. */
		if (r != -EINTR && consumers_after_pass(log, cfg, dirfd, jobs[i].src, &jobs[i].st, jobs[i].installed,
							jobs[i].pem_err, abort_fd)) {
			int sr = state_save(dirfd, jobs[i].src->name, &jobs[i].st);

			if (sr != 0)
				log_error(log, "source %s: cannot save its state in %s/" CACHEDIR_STATE ": %s",
					  jobs[i].src->name, cfg->global.cache_dir, strerror(-sr));
		}
		if (results != NULL)
			results[i].charon_ok = true;
		/* strongSwan: hand charon what is installed (a new CRL, or one it still lacks). */
		if (r != -EINTR && cfg->strongswan.vici != NULL &&
		    !charon_sync(log, cfg, dirfd, jobs[i].src, &jobs[i].st, jobs[i].installed, abort_fd, &charon_unreachable) &&
		    results != NULL)
			results[i].charon_ok = false;
		/* Its delta too, as NAME+.crl (charon applies delta CRLs itself), confirmed the same way. */
		if (r != -EINTR && cfg->strongswan.vici != NULL && dj != NULL && dj->have_file &&
		    !charon_sync(log, cfg, dirfd, dj->src, &dj->st, dj->installed, abort_fd, &charon_unreachable) &&
		    results != NULL)
			results[i].charon_ok = false;
		if (results != NULL) {
			results[i].ok = jobs[i].ok && (dj == NULL || dj->ok);
			results[i].installed = jobs[i].installed || (dj != NULL && dj->installed);
			results[i].next_attempt = jobs[i].st.next_attempt;
			if (dj != NULL && dj->st.next_attempt < results[i].next_attempt)
				results[i].next_attempt = dj->st.next_attempt;
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
	for (size_t i = 0; djobs != NULL && i < cfg->n_sources; i++)
		job_clear(&djobs[i]);
	free(djobs);
	if (lock >= 0)
		cachedir_unlock(lock);
	dl_multi_free(m);
	free(jobs);
	return r;
}

/* The pseudo-source of src's delta CRL: a copy named NAME+ (false when the name leaves no room). */
static bool delta_source(const struct cfg_source *src, struct cfg_source *d)
{
	size_t nl = strnlen(src->name, CFG_NAME_MAX);

	if (nl >= CFG_NAME_MAX)
		return false;
	*d = *src;
	d->name[nl] = '+';
	d->name[nl + 1] = '\0';
	d->urls = NULL;
	d->n_urls = 0;
	d->pem = false;
	return true;
}

int refresh_charon(const struct log_sink *log, const struct cfg *cfg, int dirfd, const bool *which, bool renew,
		   int abort_fd, bool *ok)
{
	struct cfg_source dsrc;
	bool unreachable = false;
	int lock;

	for (size_t i = 0; i < cfg->n_sources; i++)
		ok[i] = true;
	if (cfg->strongswan.vici == NULL)
		return 0;
	/* The state is rewritten: one writer at a time, as in a pass. */
	lock = lock_cache(log, cfg, dirfd, abort_fd);
	if (lock < 0) {
		if (lock != -EINTR)
			log_error(log, "cannot lock %s/" CACHEDIR_LOCK ": %s", cfg->global.cache_dir, strerror(-lock));
		for (size_t i = 0; i < cfg->n_sources; i++)
			ok[i] = !which[i];
		return lock;
	}
	for (size_t i = 0; i < cfg->n_sources; i++) {
		const struct cfg_source *src = &cfg->sources[i];
		struct src_state st;

		if (!which[i])
			continue;
		/* Only a state that describes the installed file says what to hand over; else the next pass. */
		if (installed_current(dirfd, src, &st))
			ok[i] = charon_sync(log, cfg, dirfd, src, &st, renew, abort_fd, &unreachable);
		state_clear(&st);
		/* And its delta, NAME+.crl, when one is installed (crlsync(8) DELTA CRLS). */
		if (delta_source(src, &dsrc) && installed_current(dirfd, &dsrc, &st) &&
		    !charon_sync(log, cfg, dirfd, &dsrc, &st, renew, abort_fd, &unreachable))
			ok[i] = false;
		state_clear(&st);
	}
	cachedir_unlock(lock);
	return 0;
}
