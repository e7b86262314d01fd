/* SPDX-License-Identifier: GPL-2.0-only */
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

#include "crlsync/install.h"

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
	memset(st, 0, sizeof(*st));
	st->url_index = -1;
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
	out[2 * n] = '\0';
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

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

int state_load(int dirfd, const char *name, struct src_state *st)
{
	char path[256];
	json_error_t jerr;
	json_t *o = NULL, *crl, *hw;
	size_t n = 0;
	int fd, r = 0;
	FILE *f;

	/* *st is overwritten, not freed: callers pass a fresh or cleared one. */
	memset(st, 0, sizeof(*st));
	st->url_index = -1;
	snprintf(path, sizeof(path), STATE_DIR "/%s.json", name);
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
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
	if (!state_set(&st->etag, jstr(o, "etag")) || !state_set(&st->last_modified, jstr(o, "last_modified")) ||
	    !state_set(&st->url, jstr(o, "url")) || !state_set(&st->last_result, jstr(o, "last_result"))) {
		r = -ENOMEM;
		goto out;
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
		st->have_crl = true;
		copy_str(st->number_hex, sizeof(st->number_hex), jstr(crl, "number"));
		st->has_number = unhex(jstr(crl, "number_raw"), st->number, sizeof(st->number), &st->number_len) &&
				 json_is_true(json_object_get(crl, "has_number"));
		st->this_update = jtime(crl, "this_update");
		st->has_next_update = json_is_integer(json_object_get(crl, "next_update"));
		st->next_update = jtime(crl, "next_update");
		st->entries = (unsigned long long)json_integer_value(json_object_get(crl, "entries"));
		if (!unhex(jstr(crl, "sha256"), st->digest, sizeof(st->digest), &n) || n != sizeof(st->digest))
			st->have_crl = false; /* without its digest the record is useless: re-read the file */
		copy_str(st->sig_alg, sizeof(st->sig_alg), jstr(crl, "signature_algorithm"));
		copy_str(st->issuer, sizeof(st->issuer), jstr(crl, "issuer"));
		copy_str(st->scope, sizeof(st->scope), jstr(crl, "scope"));
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
	hw = json_object_get(o, "high_water");
	if (json_is_object(hw)) {
		st->have_hw = true;
		copy_str(st->hw_number_hex, sizeof(st->hw_number_hex), jstr(hw, "number"));
		/* A damaged field must not make the mark vanish: fall back to thisUpdate, and an all-zero
		 * digest (then the same number is always "other content", which is refused). */
		st->hw_has_number = unhex(jstr(hw, "number_raw"), st->hw_number, sizeof(st->hw_number),
					  &st->hw_number_len) &&
				    json_is_true(json_object_get(hw, "has_number"));
		st->hw_this_update = jtime(hw, "this_update");
		if (!unhex(jstr(hw, "sha256"), st->hw_digest, sizeof(st->hw_digest), &n) || n != sizeof(st->hw_digest))
			memset(st->hw_digest, 0, sizeof(st->hw_digest));
		copy_str(st->hw_scope, sizeof(st->hw_scope), jstr(hw, "scope"));
	} else if (json_is_object(crl)) {
		/* A state written before the mark was kept: its CRL record is the best mark there is. */
		st->have_hw = true;
		copy_str(st->hw_number_hex, sizeof(st->hw_number_hex), jstr(crl, "number"));
		st->hw_has_number = unhex(jstr(crl, "number_raw"), st->hw_number, sizeof(st->hw_number),
					  &st->hw_number_len) &&
				    json_is_true(json_object_get(crl, "has_number"));
		st->hw_this_update = jtime(crl, "this_update");
		if (!unhex(jstr(crl, "sha256"), st->hw_digest, sizeof(st->hw_digest), &n) || n != sizeof(st->hw_digest))
			memset(st->hw_digest, 0, sizeof(st->hw_digest));
		copy_str(st->hw_scope, sizeof(st->hw_scope), jstr(crl, "scope"));
	}
out:
	json_decref(o);
	return r;
}

int state_save(int dirfd, const char *name, const struct src_state *st)
{
	char num[41], dig[65], fname[256];
	json_t *o = json_object(), *crl = NULL;
	char *text = NULL;
	int sfd = -1, r;

	if (o == NULL)
		return -ENOMEM;
	json_object_set_new(o, "etag", st->etag ? json_string(st->etag) : json_null());
	json_object_set_new(o, "last_modified", st->last_modified ? json_string(st->last_modified) : json_null());
	json_object_set_new(o, "url_index", json_integer(st->url_index));
	json_object_set_new(o, "url", st->url ? json_string(st->url) : json_null());
	json_object_set_new(o, "last_attempt", json_integer(st->last_attempt));
	json_object_set_new(o, "last_success", json_integer(st->last_success));
	json_object_set_new(o, "next_attempt", json_integer(st->next_attempt));
	json_object_set_new(o, "last_result", st->last_result ? json_string(st->last_result) : json_null());
	json_object_set_new(o, "failures", json_integer(st->failures));
	if (st->have_crl) {
		crl = json_object();
		if (crl == NULL) {
			r = -ENOMEM;
			goto out;
		}
		hex(st->number, st->number_len, num);
		hex(st->digest, sizeof(st->digest), dig);
		json_object_set_new(crl, "number", json_string(st->number_hex));
		json_object_set_new(crl, "number_raw", json_string(num));
		json_object_set_new(crl, "has_number", json_boolean(st->has_number));
		json_object_set_new(crl, "this_update", json_integer(st->this_update));
		if (st->has_next_update)
			json_object_set_new(crl, "next_update", json_integer(st->next_update));
		json_object_set_new(crl, "entries", json_integer((json_int_t)st->entries));
		json_object_set_new(crl, "sha256", json_string(dig));
		json_object_set_new(crl, "signature_algorithm", json_string(st->sig_alg));
		json_object_set_new(crl, "issuer", json_string(st->issuer));
		json_object_set_new(crl, "scope", json_string(st->scope));
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
		hex(st->hw_number, st->hw_number_len, num);
		hex(st->hw_digest, sizeof(st->hw_digest), dig);
		json_object_set_new(hw, "number", json_string(st->hw_number_hex));
		json_object_set_new(hw, "number_raw", json_string(num));
		json_object_set_new(hw, "has_number", json_boolean(st->hw_has_number));
		json_object_set_new(hw, "this_update", json_integer(st->hw_this_update));
		json_object_set_new(hw, "sha256", json_string(dig));
		json_object_set_new(hw, "scope", json_string(st->hw_scope));
		json_object_set_new(o, "high_water", hw);
	}
	if (st->charon[0] != '\0') {
		json_t *ch = json_object();

		if (ch == NULL) {
			r = -ENOMEM;
			goto out;
		}
		json_object_set_new(ch, "state", json_string(st->charon));
		json_object_set_new(ch, "number", json_string(st->charon_number));
		json_object_set_new(ch, "detail", json_string(st->charon_detail));
		json_object_set_new(ch, "checked", json_integer(st->charon_checked));
		json_object_set_new(ch, "confirmed", json_integer(st->charon_confirmed));
		json_object_set_new(o, "charon", ch);
	}
	text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (text == NULL || strlen(text) > STATE_FILE_MAX) {
		r = -ENOMEM;
		goto out;
	}
	if (mkdirat(dirfd, STATE_DIR, 0700) != 0 && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	sfd = openat(dirfd, STATE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (sfd < 0) {
		r = -errno;
		goto out;
	}
	snprintf(fname, sizeof(fname), "%s.json", name);
	r = install_file(sfd, fname, text, strlen(text), 0600, NULL);
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
	int sfd = openat(dirfd, STATE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (sfd < 0)
		return;
	install_cleanup(sfd, NULL);
	close(sfd);
}
