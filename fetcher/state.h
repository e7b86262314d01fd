/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the fetcher remembers per source across restarts: validators, attempts, the installed CRL. */
#ifndef CRLSYNC_FETCHER_STATE_H
#define CRLSYNC_FETCHER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "crlsync/cachedir.h"
#include "crlsync/mark.h"

/* A scope as the state writes it: mark.h's text form ("complete", or the SHA-256 hex of the IDP's DER). */
#define STATE_SCOPE_LEN MARK_SCOPE_TEXT_LEN

struct src_state {
	/*
	 * Conditional GET validators, valid only for the URL whose SHA-256 (hex, of the URL as
	 * configured) is validators_url: a mirror's position says nothing once a URL is changed in
	 * place. A state written before it was kept has none: its validators are not used.
	 */
	char *etag;
	char *last_modified;
	char validators_url[2 * 32 + 1]; /* "": the validators belong to no URL */
	int url_index;          /* the mirror that gave the installed CRL (informational), -1: none */
	char *url;              /* masked URL of the last attempt */
	time_t last_attempt;
	time_t last_success;
	time_t next_attempt;
	char *last_result;      /* one line: "installed number 0A", "unchanged (304)", "HTTP 404 from ..." */
	unsigned failures;      /* consecutive */
	/* the installed CRL */
	bool have_crl;
	/*
	 * Its number (number_hex "none" without a crlNumber), thisUpdate, digest and stream, as the
	 * rollback rule (mark.h) compares them. The scope is unknown in a state written before it was
	 * kept, the issuer in one written before issuers were (then the source's `ca' stands for it).
	 */
	struct mark crl;
	time_t next_update;
	bool has_next_update;
	unsigned long long entries;
	char sig_alg[64];
	char issuer[256];       /* one line, sanitised (text.h): it is echoed by status */
	/*
	 * The installed base's FreshestCRL http(s) URLs, one per line ("" when it names none), so that
	 * a pass that gets a 304 for the base need not parse a 10M-entry file again to find its delta.
	 * have_freshest false: unknown (a state written before it was kept): the file is read.
	 */
	bool have_freshest;
	char *freshest;
	/* identity of the NAME.crl this record describes: a mismatch (a crash between the rename and
	 * the state's own save, or a hand-placed file) means the file must be read again */
	unsigned long long file_ino;
	unsigned long long file_size;
	long long file_mtime_ns;
	/*
	 * The high-water mark: the newest CRL this source ever installed (or found installed). Never
	 * lowered and never cleared by a missing or unreadable NAME.crl, so that deleting the file
	 * (or losing it) does not open the door to a rollback.
	 */
	bool have_hw;
	struct mark hw;         /* an unknown scope or issuer is learnt from the next CRL remembered */
	/*
	 * strongSwan ([strongswan] vici): what the running charon was last seen to do with this
	 * source's installed CRL. `charon` is "" (never tried), "held" (list-certs returned it, byte
	 * for byte), "on-demand" (too large for vici: charon reads NAME.crl through an authority's
	 * crl_uris, its cache was flushed and nothing shadows it), "not-loaded" (scoped by an IDP,
	 * load-scoped = no) or "error" (retried at the next refresh).
	 */
	char charon[16];
	char charon_number[48];     /* the number the outcome is about */
	time_t charon_checked;      /* last attempt */
	time_t charon_confirmed;    /* last time charon was seen holding (or reading) the installed CRL */
	char charon_detail[320];    /* one line: how, or why not */
	/*
	 * The last attempt's outcome as a code (status --json `result', health, metrics): "installed",
	 * "not-modified", "refused-rollback", ... (STATE_RESULT_* below). "" in a state written before
	 * codes were kept.
	 */
	char result[24];
	/*
	 * What the consumers of the last install got (pem = yes, on-install): `hook` is "" (nothing to
	 * do yet), "ok", "failed" (the command exited non-zero or was killed, or NAME.pem could not be
	 * written) or "timeout"; about CRL number hook_number, at hook_at; hook_detail says how.
	 */
	char hook[16];
	char hook_number[48];
	time_t hook_at;
	char hook_detail[320];
};

/* The result codes of an attempt (src_state.result): a fixed vocabulary, documented in crlsync(8). */
#define STATE_RESULT_INSTALLED "installed"                 /* a newer CRL was installed */
#define STATE_RESULT_INSTALLED_EXPIRED "installed-expired" /* the newest available, already expired */
#define STATE_RESULT_NOT_MODIFIED "not-modified"           /* 304, or the installed CRL served again */
#define STATE_RESULT_REFUSED_ROLLBACK "refused-rollback"   /* older than (or as old as, other content) ours */
#define STATE_RESULT_REFUSED_SCOPE "refused-scope"         /* another IssuingDistributionPoint scope */
#define STATE_RESULT_INVALID_CRL "invalid-crl"             /* not a CRL, bad signature, critical extension, ... */
#define STATE_RESULT_EXPIRED_CRL "expired-crl"             /* every mirror serves an expired CRL */
#define STATE_RESULT_DOWNLOAD_FAILED "download-failed"     /* HTTP error, timeout, too large, connection */
#define STATE_RESULT_INSTALL_FAILED "install-failed"       /* writing NAME.crl failed: the previous one stays */
#define STATE_RESULT_STATE_ERROR "state-error"             /* the installed CRL could not be compared */
#define STATE_RESULT_NO_URL "no-url"                       /* no `url' configured */
#define STATE_RESULT_DELTA_PENDING "delta-pending"         /* a delta for a newer base than the installed one */
#define STATE_RESULT_DELTA_SUPERSEDED "delta-superseded"   /* a delta the installed base already supersedes */

/* Reads `.state/NAME.json` below dirfd into *st (overwritten, not freed: pass a fresh or cleared one). A missing file is not an error. Returns 0 or -errno/-EINVAL. */
int state_load(int dirfd, const char *name, struct src_state *st);

/* validators_url's form of `url` into out (65 bytes). */
void state_url_key(const char *url, char out[2 * 32 + 1]);

/*
 * Writes it atomically (creates `.state` when needed). `.state` is 0755 and its files 0644: they hold
 * no secret (URLs are masked), and monitoring (status, health, metrics) runs as another user.
 * Returns 0 or -errno.
 */
int state_save(int dirfd, const char *name, const struct src_state *st);

/* Replaces a string field (NULL allowed). Returns false on allocation failure. */
bool state_set(char **field, const char *value);

void state_clear(struct src_state *st);

/* Removes temporary files a killed process left in `.state`. */
void state_cleanup(int dirfd);

#endif
