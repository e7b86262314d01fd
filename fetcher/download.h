/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Concurrent CRL downloads with libcurl multi: allow-listed protocols, caps, conditional GET. */
#ifndef CRLSYNC_FETCHER_DOWNLOAD_H
#define CRLSYNC_FETCHER_DOWNLOAD_H

#include <stdbool.h>
#include <stddef.h>

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

/* Frees the outputs of a request (body, validators); the inputs are the caller's. */
void dl_request_clear(struct dl_request *req);

/*
 * A copy of `url` with everything between the scheme's "//" and the LAST '@' in the URL replaced
 * by "***" (caller frees); NULL on allocation failure. Conservative on purpose: a password may
 * hold a raw '/', '?', '#' or '@', so an '@' in a path or query masks what precedes it too.
 */
char *dl_mask_url(const char *url);

#endif
