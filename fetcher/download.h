/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Concurrent CRL downloads with libcurl multi: allow-listed protocols, caps, conditional GET. */
#ifndef CRLSYNC_FETCHER_DOWNLOAD_H
#define CRLSYNC_FETCHER_DOWNLOAD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "crlsync/log.h"

#define DL_MAX_REDIRECTS 3
#define DL_CONNECT_TIMEOUT 10 /* seconds, capped by the transfer timeout */
#define DL_HEADER_MAX 8192    /* longest validator (ETag, Last-Modified) kept */

enum dl_result {
	DL_OK = 0,          /* a body arrived (HTTP 200, or a file: URL) */
	DL_NOT_MODIFIED,    /* HTTP 304 to our conditional GET: nothing to parse */
	DL_HTTP_ERROR,      /* any other HTTP status */
	DL_TOO_LARGE,       /* the body exceeded max_size: abandoned as soon as that was known */
	DL_TRANSFER_ERROR,  /* DNS, connect, TLS, timeout, protocol not allowed, ... (see error) */
	DL_ABORTED,         /* abandoned because abort_fd became readable */
};

struct dl_request {
	/* in */
	const char *url;
	const char *etag;           /* validators of the copy we hold, or NULL */
	const char *last_modified;
	size_t max_size;
	long timeout;               /* seconds for the whole transfer */
	const char *user_agent;
	/*
	 * Where the body goes. body_name[0] == '\0': in memory (malloc'd, a NUL after it). Else the
	 * body is written as it arrives to a temporary file ".NAME.XXXXXX" in body_dirfd (cache-dir),
	 * created O_EXCL by install_temp_open(), and on DL_OK mapped read-only as `body` (no NUL after
	 * it): a CRL of any size then costs only the pages its reader looks at, which it may release
	 * (CRL_LOAD_MAPPED). dl_request_install() renames the very file verified over body_name;
	 * dl_request_clear() (and every failure) removes it.
	 */
	int body_dirfd;
	char body_name[NAME_MAX + 1];
	/* out */
	enum dl_result result;
	long http_status;           /* 0 for file: URLs */
	unsigned char *body;        /* malloc'd, owned by the request (dl_request_clear frees) */
	size_t body_len;
	char *etag_out;             /* validators the final response sent with a 200 or 304, or NULL */
	char *last_modified_out;
	char error[320];            /* why, for DL_HTTP_ERROR..DL_ABORTED; never contains credentials */
	/* private */
	void *priv;
	int body_fd;                /* the temporary file, while body_tmp[0] != '\0' */
	bool body_mapped;           /* body is a mapping of it, not malloc'd */
	char body_tmp[NAME_MAX + 1];
};

struct dl_multi;

/* Called on the thread running dl_multi_run() when a transfer ends; may dl_multi_add() more. */
typedef void dl_done_fn(struct dl_multi *m, struct dl_request *req, void *ctx);

/* NULL on failure. Call curl_global_init() once before. */
struct dl_multi *dl_multi_new(const struct log_sink *log);

/* Starts `req` (which must outlive the transfer). Returns 0 or -errno (then done is not called). */
int dl_multi_add(struct dl_multi *m, struct dl_request *req, dl_done_fn *done, void *ctx);

/*
 * Runs until every transfer (including ones added by callbacks) has ended, or until abort_fd
 * (>= 0) is readable: then the transfers in flight end as DL_ABORTED (their callbacks run) and
 * -EINTR is returned. Returns 0 otherwise.
 */
int dl_multi_run(struct dl_multi *m, int abort_fd);

void dl_multi_free(struct dl_multi *m);

/* Frees the outputs of a request (body, its temporary file, validators); the inputs are the caller's. */
void dl_request_clear(struct dl_request *req);

/* True when req->body is the mapping of a temporary file that dl_request_install() can install. */
bool dl_request_has_file(const struct dl_request *req);

/*
 * Installs the body's temporary file as `name` in body_dirfd (install_temp_commit(): `mode`, fsync,
 * rename, fsync the directory), byte for byte what the caller verified through the mapping. The
 * mapping stays valid (the same bytes, now under `name`) until dl_request_clear(). Returns what
 * install_temp_commit() returns, or -EINVAL when the body is not in a file; the temporary file is
 * gone either way.
 */
int dl_request_install(struct dl_request *req, const char *name, mode_t mode);

/*
 * A copy of `url` with everything between the scheme's "//" and the LAST '@' in the URL replaced
 * by "***" (caller frees); NULL on allocation failure. Conservative on purpose: a password may
 * hold a raw '/', '?', '#' or '@', so an '@' in a path or query masks what precedes it too.
 */
char *dl_mask_url(const char *url);

#endif
