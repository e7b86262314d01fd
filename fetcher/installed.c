/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The installed-CRL bookkeeping of the fetcher: what NAME.crl holds, as the state records it, and the rollback comparison. */
#include "installed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/objects.h>

#include "crlsync/cachedir.h"
#include "crlsync/file.h"
#include "crlsync/install.h"
#include "crlsync/mark.h"
#include "crlsync/text.h"

/* Raises the high-water mark to c when it is newer (mark_raise(): its stream only); never lowers it. */
static void raise_high_water(struct src_state *st, const struct mark *c)
{
	if (!st->have_hw) {
		st->have_hw = true;
		st->hw = *c;
		return;
	}
	mark_raise(&st->hw, c);
}

void installed_remember(struct src_state *st, const struct crl *c)
{
	st->have_crl = true;
	mark_from_crl(c, &st->crl);
	st->has_next_update = (c->flags & CRL_HAS_NEXT_UPDATE) != 0;
	st->next_update = c->next_update;
	st->entries = c->entries;
	snprintf(st->sig_alg, sizeof(st->sig_alg), "%s", OBJ_nid2ln(c->sig_nid));
	text_sanitize_copy(st->issuer, sizeof(st->issuer), c->issuer_text);
	/* Its delta's URLs, kept so that a 304 for the base needs no parse of it (issue 14). */
	{
		size_t len = 0;
		char *f;

		for (size_t i = 0; i < c->n_freshest_urls; i++)
			if (text_is_clean(c->freshest_urls[i]))
				len += strlen(c->freshest_urls[i]) + 1;
		if ((f = calloc(1, len + 1)) != NULL) {
			for (size_t i = 0; i < c->n_freshest_urls; i++) {
				if (text_is_clean(c->freshest_urls[i])) {
					strcat(f, c->freshest_urls[i]);
					strcat(f, "\n");
				}
			}
		}
		free(st->freshest);
		st->freshest = f;
		st->have_freshest = f != NULL; /* out of memory: unknown, the file is read again */
	}
	raise_high_water(st, &st->crl);
}

void installed_record_file(int dirfd, const char *fname, struct src_state *st)
{
	struct stat sb;

	if (fstatat(dirfd, fname, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	st->file_ino = (unsigned long long)sb.st_ino;
	st->file_size = (unsigned long long)sb.st_size;
	st->file_mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
}

bool installed_describes(const struct src_state *st, const struct stat *sb)
{
	return st->have_crl && st->file_ino == (unsigned long long)sb->st_ino &&
	       st->file_size == (unsigned long long)sb->st_size &&
	       st->file_mtime_ns == (long long)sb->st_mtim.tv_sec * 1000000000LL + sb->st_mtim.tv_nsec;
}

bool installed_current(int dirfd, const struct cfg_source *src, struct src_state *st)
{
	char fname[CFG_NAME_MAX + 8], link[256];
	struct stat sb;

	cachedir_crl_name(src->name, fname, sizeof(fname));
	return state_load(dirfd, src->name, st) == 0 && st->have_crl &&
	       install_inspect(dirfd, fname, &sb, link, sizeof(link)) == 0 && installed_describes(st, &sb);
}

#define LEARN_AHEAD ((time_t)10 * 366 * 86400) /* "far in the future" for installed_learn(): ten years */

int installed_learn(const struct log_sink *log, const struct cfg *cfg, const struct cfg_source *src, int dirfd,
		    const char *fname, time_t now, struct src_state *st)
{
	struct crl_der *ders = NULL;
	unsigned char *buf = NULL;
	struct crl *c = NULL;
	char err[512];
	size_t len, n = 0;
	int r;

	r = file_read_at(dirfd, fname, CRL_FILE_MAX, &buf, &len);
	if (r == -EFBIG) {
		log_warn(log, "source %s: the installed %s/%s is larger than %zu bytes, not a usable CRL; it will be "
			      "replaced", src->name, cfg->global.cache_dir, fname, CRL_FILE_MAX);
		r = 1;
		goto out;
	}
	if (r != 0)
		goto out;
	/*
	 * A far-future `now': this file was verified when it was installed, and a thisUpdate ahead of
	 * our clock (skew, a clock set back) must not make it "unusable", or an older CRL would
	 * replace it. For learning what is installed only: candidates are verified with the real now.
	 */
	if (crl_split(buf, len, &ders, &n, err, sizeof(err)) != CRL_OK || n != 1 ||
	    crl_from_der(ders[0].der, ders[0].len, &src->ca, 1, now + LEARN_AHEAD, fname, CRL_LOAD_NO_INDEX, &c, err,
			 sizeof(err)) != CRL_OK) {
		if (n > 1)
			snprintf(err, sizeof(err), "%zu CRLs in it", n);
		log_warn(log, "source %s: the installed %s/%s is not usable (%s); it will be replaced", src->name,
			 cfg->global.cache_dir, fname, err);
		r = 1;
		goto out;
	}
	installed_remember(st, c);
	installed_record_file(dirfd, fname, st);
out:
	crl_unref(c);
	crl_der_free(ders, n);
	free(buf);
	return r;
}

int installed_compare(const struct src_state *st, bool have_file, const struct crl *c, bool *conflict,
		      bool *scope_diff, const char **against)
{
	bool installed = st->have_crl && have_file;
	struct mark m;
	int age;

	*conflict = *scope_diff = false;
	*against = st->crl.number_hex;
	mark_from_crl(c, &m);
	if (installed ? !mark_same_stream(&m.stream, &st->crl.stream)
		      : st->have_hw && !mark_same_stream(&m.stream, &st->hw.stream)) {
		*scope_diff = true;
		return -1;
	}
	if (st->have_hw && mark_same_stream(&m.stream, &st->hw.stream) && mark_is_rollback(&m, &st->hw)) {
		*against = st->hw.number_hex;
		*conflict = mark_compare_age(&m, &st->hw) == 0;
		return -1;
	}
	if (!installed)
		return 1; /* nothing (usable) installed: anything not below the mark */
	age = mark_compare_age(&m, &st->crl);
	if (age == 0 && mark_is_rollback(&m, &st->crl))
		*conflict = true;
	return *conflict ? -1 : age;
}
