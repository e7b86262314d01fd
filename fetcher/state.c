/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-source state as small JSON files in cache-dir/.state (jansson), written atomically. */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "crlsync/install.h"
#include "crlsync/text.h"

#define STATE_FILE_MAX (64 * 1024)

bool state_set(char **field, const char *value)
{
	char *v = NULL;

	if (value != NULL && (v = strdup(value)) == NULL)
		return false;
	free(*field);
	*field = v;
	return true;
}

void state_clear(struct src_state *st)
{
	free(st->etag);
	free(st->last_modified);
	free(st->url);
	free(st->last_result);
	free(st->freshest);
	memset(st, 0, sizeof(*st));
	st->url_index = -1;
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
	out[2 * n] = '\0';
}

void state_url_key(const char *url, char out[2 * 32 + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)(url ? url : ""), url ? strlen(url) : 0, md);
	hex(md, sizeof(md), out);
}

static bool unhex(const char *s, unsigned char *out, size_t max, size_t *n)
{
	size_t len = s ? strlen(s) : 0;

	if (len % 2 || len / 2 > max)
		return false;
	for (size_t i = 0; i < len / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return false;
		out[i] = (unsigned char)v;
	}
	*n = len / 2;
	return true;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static time_t jtime(json_t *o, const char *k)
{
	return (time_t)json_integer_value(json_object_get(o, k));
}

/* Strings of a state file are echoed by status and logs: the fetcher's user may have written anything there. */
static void copy_str(char *dst, size_t len, const char *src)
{
	text_sanitize_copy(dst, len, src);
}

static bool set_clean(char **field, const char *value)
{
	if (!state_set(field, value))
		return false;
	text_sanitize(*field);
	return true;
}

/*
 * A mark as the state keeps it: {number, number_raw, has_number, this_update, sha256, scope,
 * issuer_key}. A damaged field must not make a mark vanish: without a usable number it falls back
 * to thisUpdate, without a digest to all zeros (then the same number is always "other content",
 * which is refused). Returns false when the digest was unusable.
 */
static bool load_mark(json_t *o, struct mark *m)
{
	unsigned char num[sizeof(m->number)];
	size_t n = 0;
	bool has = unhex(jstr(o, "number_raw"), num, sizeof(num), &n) && json_is_true(json_object_get(o, "has_number"));
	bool digest_ok;

	memset(m, 0, sizeof(*m));
	mark_set_number(m, has, num, n);
	m->this_update = jtime(o, "this_update");
	digest_ok = unhex(jstr(o, "sha256"), m->digest, sizeof(m->digest), &n) && n == sizeof(m->digest);
	if (!digest_ok)
		memset(m->digest, 0, sizeof(m->digest));
	mark_scope_parse(jstr(o, "scope"), &m->stream); /* "" or damaged: unknown */
	m->stream.has_issuer = unhex(jstr(o, "issuer_key"), m->stream.issuer, sizeof(m->stream.issuer), &n) &&
			       n == sizeof(m->stream.issuer);
	if (!m->stream.has_issuer)
		memset(m->stream.issuer, 0, sizeof(m->stream.issuer));
	return digest_ok;
}

static void save_mark(json_t *o, const struct mark *m)
{
	char num[2 * sizeof(m->number) + 1], dig[2 * sizeof(m->digest) + 1], scope[MARK_SCOPE_TEXT_LEN];

	hex(m->number, m->number_len, num);
	hex(m->digest, sizeof(m->digest), dig);
	mark_scope_text(&m->stream, scope);
	json_object_set_new(o, "number", json_string(m->number_hex));
	json_object_set_new(o, "number_raw", json_string(num));
	json_object_set_new(o, "has_number", json_boolean(m->has_number));
	json_object_set_new(o, "this_update", json_integer(m->this_update));
	json_object_set_new(o, "sha256", json_string(dig));
	json_object_set_new(o, "scope", json_string(scope));
	if (m->stream.has_issuer) {
		char ik[2 * sizeof(m->stream.issuer) + 1];

		hex(m->stream.issuer, sizeof(m->stream.issuer), ik);
		json_object_set_new(o, "issuer_key", json_string(ik));
	}
}

/* The "freshest_urls" array of a state into st->freshest (one per line); only clean URLs are kept. */
static bool load_freshest(const json_t *a, struct src_state *st)
{
	size_t i, len = 0;
	json_t *u;

	if (!json_is_array(a))
		return true; /* unknown: have_freshest stays false */
	json_array_foreach(a, i, u)
		if (json_is_string(u) && text_is_clean(json_string_value(u)))
			len += strlen(json_string_value(u)) + 1;
	if ((st->freshest = calloc(1, len + 1)) == NULL)
		return false;
	json_array_foreach(a, i, u) {
		if (json_is_string(u) && text_is_clean(json_string_value(u))) {
			strcat(st->freshest, json_string_value(u));
			strcat(st->freshest, "\n");
		}
	}
	st->have_freshest = true;
	return true;
}

static json_t *freshest_json(const char *lines)
{
	json_t *a = json_array();

	for (const char *p = lines ? lines : "", *nl; a != NULL && (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		json_array_append_new(a, json_stringn(p, (size_t)(nl - p)));
	return a;
}

int state_load(int dirfd, const char *name, struct src_state *st)
{
	char path[256];
	json_error_t jerr;
	json_t *o = NULL, *crl, *hw;
	int fd, r = 0;
	FILE *f;

	/* *st is overwritten, not freed: callers pass a fresh or cleared one. */
	memset(st, 0, sizeof(*st));
	st->url_index = -1;
	snprintf(path, sizeof(path), CACHEDIR_STATE "/%s.json", name);
	/*
	 * .state is the fetcher's user's: a FIFO there must not hang `status' (O_NONBLOCK, then a
	 * regular file only) and a huge file must not eat memory (STATE_FILE_MAX).
	 */
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	{
		struct stat sb;

		if (fstat(fd, &sb) != 0)
			r = -errno;
		else if (!S_ISREG(sb.st_mode))
			r = -EINVAL;
		else if (sb.st_size > STATE_FILE_MAX)
			r = -EFBIG;
		if (r != 0) {
			close(fd);
			return r;
		}
	}
	f = fdopen(fd, "r");
	if (f == NULL) {
		r = -errno;
		close(fd);
		return r;
	}
	o = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (!json_is_object(o)) {
		r = -EINVAL;
		goto out;
	}
	if (!state_set(&st->etag, text_is_clean(jstr(o, "etag")) ? jstr(o, "etag") : NULL) ||
	    !state_set(&st->last_modified, text_is_clean(jstr(o, "last_modified")) ? jstr(o, "last_modified") : NULL) ||
	    !set_clean(&st->url, jstr(o, "url")) || !set_clean(&st->last_result, jstr(o, "last_result"))) {
		r = -ENOMEM;
		goto out;
	}
	{
		const char *k = jstr(o, "validators_url_sha256");
		unsigned char tmp[32];
		size_t n = 0;

		/* Without it (a state of an older crlsync, or a damaged one) the validators are dropped:
		 * one unconditional GET, rather than a 304 for another URL's copy (issue 13). */
		if (k != NULL && unhex(k, tmp, sizeof(tmp), &n) && n == sizeof(tmp)) {
			snprintf(st->validators_url, sizeof(st->validators_url), "%s", k);
		} else {
			state_set(&st->etag, NULL);
			state_set(&st->last_modified, NULL);
		}
	}
	st->url_index = json_is_integer(json_object_get(o, "url_index"))
				? (int)json_integer_value(json_object_get(o, "url_index"))
				: -1;
	st->last_attempt = jtime(o, "last_attempt");
	st->last_success = jtime(o, "last_success");
	st->next_attempt = jtime(o, "next_attempt");
	st->failures = (unsigned)json_integer_value(json_object_get(o, "failures"));
	crl = json_object_get(o, "crl");
	if (json_is_object(crl)) {
		/* without its digest the record is useless: re-read the file */
		st->have_crl = load_mark(crl, &st->crl);
		st->has_next_update = json_is_integer(json_object_get(crl, "next_update"));
		st->next_update = jtime(crl, "next_update");
		st->entries = (unsigned long long)json_integer_value(json_object_get(crl, "entries"));
		copy_str(st->sig_alg, sizeof(st->sig_alg), jstr(crl, "signature_algorithm"));
		copy_str(st->issuer, sizeof(st->issuer), jstr(crl, "issuer"));
		if (!load_freshest(json_object_get(crl, "freshest_urls"), st)) {
			r = -ENOMEM;
			goto out;
		}
		st->file_ino = (unsigned long long)json_integer_value(json_object_get(crl, "file_ino"));
		st->file_size = (unsigned long long)json_integer_value(json_object_get(crl, "file_size"));
		st->file_mtime_ns = (long long)json_integer_value(json_object_get(crl, "file_mtime_ns"));
	}
	{
		json_t *ch = json_object_get(o, "charon");

		if (json_is_object(ch)) {
			copy_str(st->charon, sizeof(st->charon), jstr(ch, "state"));
			copy_str(st->charon_number, sizeof(st->charon_number), jstr(ch, "number"));
			copy_str(st->charon_detail, sizeof(st->charon_detail), jstr(ch, "detail"));
			st->charon_checked = jtime(ch, "checked");
			st->charon_confirmed = jtime(ch, "confirmed");
		}
	}
	copy_str(st->result, sizeof(st->result), jstr(o, "result"));
	{
		json_t *h = json_object_get(o, "on_install");

		if (json_is_object(h)) {
			copy_str(st->hook, sizeof(st->hook), jstr(h, "state"));
			copy_str(st->hook_number, sizeof(st->hook_number), jstr(h, "number"));
			copy_str(st->hook_detail, sizeof(st->hook_detail), jstr(h, "detail"));
			st->hook_at = jtime(h, "at");
		}
	}
	hw = json_object_get(o, "high_water");
	if (json_is_object(hw)) {
		st->have_hw = true;
		load_mark(hw, &st->hw);
	} else if (json_is_object(crl)) {
		/* A state written before the mark was kept: its CRL record is the best mark there is. */
		st->have_hw = true;
		load_mark(crl, &st->hw);
	}
out:
	json_decref(o);
	return r;
}

/* A JSON string of text_sanitize()d `s` (also valid UTF-8, which json_string() requires). */
static json_t *jclean(const char *s)
{
	char *copy = strdup(s ? s : "");
	json_t *j;

	if (copy == NULL)
		return NULL;
	text_sanitize(copy);
	j = json_string(copy);
	free(copy);
	return j;
}

int state_save(int dirfd, const char *name, const struct src_state *st)
{
	char fname[256];
	json_t *o = json_object(), *crl = NULL;
	char *text = NULL;
	int sfd = -1, r;

	if (o == NULL)
		return -ENOMEM;
	/*
	 * Validators go back to the server as request headers: one that the sanitiser would change
	 * (a CR LF, a control byte) is not kept at all. Every other string passes text_sanitize().
	 */
	json_object_set_new(o, "etag", text_is_clean(st->etag) ? json_string(st->etag) : json_null());
	json_object_set_new(o, "last_modified", text_is_clean(st->last_modified) ? json_string(st->last_modified)
										 : json_null());
	json_object_set_new(o, "url_index", json_integer(st->url_index));
	if (st->validators_url[0] != '\0')
		json_object_set_new(o, "validators_url_sha256", json_string(st->validators_url));
	json_object_set_new(o, "url", st->url ? jclean(st->url) : json_null());
	json_object_set_new(o, "last_attempt", json_integer(st->last_attempt));
	json_object_set_new(o, "last_success", json_integer(st->last_success));
	json_object_set_new(o, "next_attempt", json_integer(st->next_attempt));
	json_object_set_new(o, "last_result", st->last_result ? jclean(st->last_result) : json_null());
	json_object_set_new(o, "failures", json_integer(st->failures));
	if (st->have_crl) {
		crl = json_object();
		if (crl == NULL) {
			r = -ENOMEM;
			goto out;
		}
		save_mark(crl, &st->crl);
		if (st->has_next_update)
			json_object_set_new(crl, "next_update", json_integer(st->next_update));
		json_object_set_new(crl, "entries", json_integer((json_int_t)st->entries));
		json_object_set_new(crl, "signature_algorithm", jclean(st->sig_alg));
		json_object_set_new(crl, "issuer", jclean(st->issuer));
		if (st->have_freshest)
			json_object_set_new(crl, "freshest_urls", freshest_json(st->freshest));
		json_object_set_new(crl, "file_ino", json_integer((json_int_t)st->file_ino));
		json_object_set_new(crl, "file_size", json_integer((json_int_t)st->file_size));
		json_object_set_new(crl, "file_mtime_ns", json_integer((json_int_t)st->file_mtime_ns));
		json_object_set_new(o, "crl", crl);
	}
	if (st->have_hw) {
		json_t *hw = json_object();

		if (hw == NULL) {
			r = -ENOMEM;
			goto out;
		}
		save_mark(hw, &st->hw);
		json_object_set_new(o, "high_water", hw);
	}
	if (st->charon[0] != '\0') {
		json_t *ch = json_object();

		if (ch == NULL) {
			r = -ENOMEM;
			goto out;
		}
		json_object_set_new(ch, "state", jclean(st->charon));
		json_object_set_new(ch, "number", jclean(st->charon_number));
		json_object_set_new(ch, "detail", jclean(st->charon_detail));
		json_object_set_new(ch, "checked", json_integer(st->charon_checked));
		json_object_set_new(ch, "confirmed", json_integer(st->charon_confirmed));
		json_object_set_new(o, "charon", ch);
	}
	if (st->result[0] != '\0')
		json_object_set_new(o, "result", jclean(st->result));
	if (st->hook[0] != '\0') {
		json_t *h = json_object();

		if (h == NULL) {
			r = -ENOMEM;
			goto out;
		}
		json_object_set_new(h, "state", jclean(st->hook));
		json_object_set_new(h, "number", jclean(st->hook_number));
		json_object_set_new(h, "detail", jclean(st->hook_detail));
		json_object_set_new(h, "at", json_integer(st->hook_at));
		json_object_set_new(o, "on_install", h);
	}
	text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (text == NULL || strlen(text) > STATE_FILE_MAX) {
		r = -ENOMEM;
		goto out;
	}
	/* Readable by monitoring (status, health, metrics as nagios or prometheus): no secret in it. */
	sfd = cachedir_state_open(dirfd, true);
	if (sfd < 0) {
		r = sfd;
		goto out;
	}
	{
		struct stat sb;

		/* A .state of an older crlsync (0700): opened up once, by its owner. */
		if (fstat(sfd, &sb) == 0 && sb.st_uid == geteuid() && (sb.st_mode & 07777) != 0755)
			(void)fchmod(sfd, 0755);
	}
	snprintf(fname, sizeof(fname), "%s.json", name);
	r = install_file(sfd, fname, text, strlen(text), 0644, NULL);
	if (r > 0)
		r = 0; /* saved; only the directory fsync failed: the next save tries again */
out:
	if (sfd >= 0)
		close(sfd);
	free(text);
	json_decref(o);
	return r;
}

void state_cleanup(int dirfd)
{
	int sfd = cachedir_state_open(dirfd, false);

	if (sfd < 0)
		return;
	install_cleanup(sfd, NULL);
	close(sfd);
}
