/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the fetcher knows of each installed NAME.crl: its record in the state, the high-water mark, rollback comparison. */
#ifndef CRLSYNC_FETCHER_INSTALLED_H
#define CRLSYNC_FETCHER_INSTALLED_H

#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

#include "crlsync/config.h"
#include "crlsync/crl.h"
#include "crlsync/log.h"
#include "state.h"

/* Fills the CRL part of *st from a verified CRL, and raises the high-water mark (never lowers it). */
void installed_remember(struct src_state *st, const struct crl *c);

/* Records which file the CRL part of *st describes: the identity (inode, size, mtime) of dirfd/fname. */
void installed_record_file(int dirfd, const char *fname, struct src_state *st);

/* Whether *st records a CRL, and that CRL is the file sb describes (same inode, size and mtime). */
bool installed_describes(const struct src_state *st, const struct stat *sb);

/*
 * Loads the state of `src' into *st and returns true when it describes the NAME.crl installed
 * now (a regular file, not a link): only then does it say what is installed. *st is to be
 * state_clear()ed either way.
 */
bool installed_current(int dirfd, const struct cfg_source *src, struct src_state *st);

/*
 * Parses and verifies the installed cache-dir/fname when the state does not describe it (first
 * run, state lost), into the CRL part of *st: the rollback check must compare against what is
 * really installed. Returns 0 when learned, 1 when the file is not a usable CRL (it may be
 * replaced; the high-water mark still holds; logged), or -errno when it could not be read: then
 * nothing may be installed, since what is there is unknown (EIO, EACCES, ...).
 */
int installed_learn(const struct log_sink *log, const struct cfg *cfg, const struct cfg_source *src, int dirfd,
		    const char *fname, time_t now, struct src_state *st);

/*
 * Compares a verified candidate with the high-water mark and the installed CRL (have_file: NAME.crl
 * is there, and *st describes it when st->have_crl), by the one rollback rule (mark.h): <0 rollback
 * (mark_is_rollback() against the mark; *conflict when as old with other content), 0 the installed
 * CRL itself, >0 to be installed. *scope_diff (and <0) when its stream is not the installed CRL's
 * (or, with no file, the mark's): numbers are only compared within one stream. *against: the
 * number it was compared with (points into *st).
 */
int installed_compare(const struct src_state *st, bool have_file, const struct crl *c, bool *conflict,
		      bool *scope_diff, const char **against);

#endif
