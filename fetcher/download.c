/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CRL downloads over libcurl multi: allow-listed protocols, timeouts, a byte cap, conditional GET. */
#include "download.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>
#include <curl/curl.h>

#include "crlsync/install.h"

/* What a CRL distribution point may use (RFC 5280 §4.2.1.13 names http and ldap; we take http(s)
 * and local files). A redirect may not lead to file: a server must not make us read local files. */
#define DL_PROTOCOLS "http,https,file"
#define DL_REDIR_PROTOCOLS "http,https"
#define DL_DEFAULT_USER_AGENT "crlsync"
#define DL_POLL_MS 1000
#define DL_BODY_MIN_ALLOC 4096

/* Why a callback stopped the transfer (libcurl only reports CURLE_WRITE_ERROR). */
enum dl_stop {
	DL_STOP_NONE = 0,
	DL_STOP_TOO_LARGE,
	DL_STOP_STATUS, /* the final response is not a 200: its body is of no use */
	DL_STOP_FILE,   /* the temporary file could not be created or written (file_err) */
};

struct dl_xfer {
	struct dl_multi *m;
	struct dl_request *req;
	dl_done_fn *done;
	void *ctx;
	CURL *easy;
	struct curl_slist *headers;
	char *shown_url; /* dl_mask_url(req->url), for the debug log */
	size_t cap;      /* allocated size of req->body */
	enum dl_stop stop;
	int file_err;     /* errno of DL_STOP_FILE */
	bool conditional; /* we sent If-None-Match or If-Modified-Since */
	char errbuf[CURL_ERROR_SIZE];
	struct dl_xfer *prev, *next;
};

struct dl_multi {
	CURLM *multi;
	struct log_sink log;
	struct dl_xfer *head; /* transfers in flight */
	size_t n_active;
	bool running;  /* inside dl_multi_run(): no nesting */
	bool aborting; /* ending everything: callbacks may not add more */
};

/* ---- URL masking ---- */

/*
 * Hand-parsed on purpose, not with curl_url(): the rule is "everything between the scheme's `//'
 * and the LAST '@' is masked", whatever the password holds. curl_url() refuses, or splits
 * elsewhere, exactly the URLs that matter here: "http://u:p/a?b#c@host/" is to it host `u', port
 * `p' (CURLUE_BAD_PORT_NUMBER) with "/a?b#c@host/" as path, query and fragment, and a parse that
 * fails shows nothing of where the password is. URLs themselves go to libcurl unparsed
 * (CURLOPT_URL), and the one look at a parsed URL after a transfer is CURLINFO_SCHEME.
 */

/* Where the authority of `url` starts: after "scheme:" and any slashes (curl accepts 1 to 3, be
 * generous), or after leading slashes when there is no scheme. */
static size_t authority_start(const char *url)
{
	size_t i = 0;

	if ((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z')) {
		i = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
		/* "scheme:/..." is a scheme; "user:pw@host" is not (no slash after the colon) */
		if (url[i] != ':' || url[i + 1] != '/')
			i = 0;
		else
			i++;
	}
	while (url[i] == '/' || url[i] == '\\')
		i++;
	return i;
}

/*
 * The length of what must be masked at `s`, the start of an authority: everything up to and
 * including the LAST '@' before the first byte of `stop` (NUL always stops), or 0 if there is no
 * '@'. Not the authority as RFC 3986 §3.2 delimits it (up to the first '/', '?' or '#'): a
 * password holding a raw '/', '?', '#' or '@' ("http://u:p/a?b#c@host/") would then show in part.
 * Where the authority ends depends on where the userinfo ends, so only the last '@' is a boundary
 * no password can cross. The price: an '@' in a path or query ("http://host/~a@b/c.crl") hides
 * what comes before it (shown as "***@b/c.crl" after the slashes). Hiding too much is a nuisance, showing a password a
 * leak (issue 10, item 11).
 */
static size_t userinfo_len(const char *s, const char *stop)
{
	size_t end = strcspn(s, stop);
	const char *at = memrchr(s, '@', end);

	return at ? (size_t)(at - s) + 1 : 0;
}

char *dl_mask_url(const char *url)
{
	size_t start, ui, len;
	char *out;

	if (!url)
		return NULL;
	len = strlen(url);
	start = authority_start(url);
	ui = userinfo_len(url + start, ""); /* the whole rest: see userinfo_len() */
	if (ui == 0)
		return strdup(url);
	/* "***@" replaces ui bytes (which include the '@') */
	out = malloc(len - ui + 4 + 1);
	if (!out)
		return NULL;
	memcpy(out, url, start);
	memcpy(out + start, "***@", 4);
	memcpy(out + start + 4, url + start + ui, len - start - ui + 1);
	return out;
}

/*
 * Copies free text (libcurl's error buffer) into dst, masking the userinfo of anything that looks
 * like a URL. libcurl 7.88 does not put URLs in its messages (it names hosts and paths), but a
 * later version might: this keeps the promise of dl_request.error whatever libcurl says. In text
 * a URL ends at white space or a control character (a password may hold anything else), and
 * everything up to its last '@' is masked, as in dl_mask_url().
 */
static void mask_text(char *dst, size_t dstlen, const char *src)
{
	static const char url_end[] = " \t\r\n\v\f\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\x12\x13"
				      "\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f";
	size_t o = 0;

	if (dstlen == 0)
		return;
	while (*src && o + 1 < dstlen) {
		if (src[0] == ':' && src[1] == '/' && src[2] == '/') {
			size_t skip = 3, ui;

			while (src[skip] == '/')
				skip++;
			ui = userinfo_len(src + skip, url_end);
			for (size_t k = 0; k < skip && o + 1 < dstlen; k++)
				dst[o++] = src[k];
			src += skip;
			if (ui > 0) {
				for (const char *p = "***@"; *p && o + 1 < dstlen; p++)
					dst[o++] = *p;
				src += ui;
			}
			continue;
		}
		dst[o++] = *src++;
	}
	dst[o] = '\0';
}

/* ---- validators ---- */

static bool is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/*
 * Whether a validator the server sent may be kept, to go back verbatim in a request header
 * (If-None-Match, If-Modified-Since): not empty (it would validate nothing), at most
 * DL_HEADER_MAX bytes, and no control byte but tab: a CR or LF would split that header.
 */
static bool validator_ok(const char *v)
{
	size_t n = 0;

	for (; v[n] != '\0'; n++) {
		if (is_ctl((unsigned char)v[n]) || n >= DL_HEADER_MAX)
			return false;
	}
	return n > 0;
}

/*
 * The `name' header of the final response as libcurl parsed it (curl_easy_header(), curl 7.84+:
 * request -1 is the last one, so that redirects, 1xx and proxy CONNECT answers never count;
 * leading and trailing white space trimmed), the last one that validator_ok() accepts when it
 * came more than once. A copy (caller frees), or NULL: none, or none usable (said in the debug log).
 */
static char *response_validator(struct dl_xfer *x, const char *name)
{
	struct curl_header *h;
	char *keep = NULL;

	for (size_t i = 0; curl_easy_header(x->easy, name, i, CURLH_HEADER, -1, &h) == CURLHE_OK; i++) {
		if (validator_ok(h->value)) {
			char *copy = strdup(h->value);

			if (copy != NULL) {
				free(keep);
				keep = copy;
			}
		} else {
			debug_f(&x->m->log, "%s: malformed or over-long validator header ignored", x->shown_url);
		}
		if (i + 1 >= h->amount)
			break;
	}
	return keep;
}

/* ---- libcurl callbacks ---- */

static void drop_validators(struct dl_request *req)
{
	free(req->etag_out);
	req->etag_out = NULL;
	free(req->last_modified_out);
	req->last_modified_out = NULL;
}

/* The body, in memory or mapped, and its temporary file if it is still one (removed: never installed). */
static void body_release(struct dl_request *req)
{
	if (req->body_mapped && req->body != NULL)
		munmap(req->body, req->body_len);
	else
		free(req->body);
	if (req->body_tmp[0] != '\0') {
		install_temp_abort(req->body_dirfd, req->body_tmp, req->body_fd);
		req->body_tmp[0] = '\0';
		req->body_fd = -1;
	}
	req->body = NULL;
	req->body_len = 0;
	req->body_mapped = false;
}

static void drop_body(struct dl_xfer *x)
{
	body_release(x->req);
	x->cap = 0;
}

/* A piece of the body into its temporary file (created at the first piece). False with x->file_err. */
static bool body_to_file(struct dl_xfer *x, const char *p, size_t n)
{
	struct dl_request *req = x->req;

	if (n == 0)
		return true;
	if (req->body_tmp[0] == '\0') {
		int fd = install_temp_open(req->body_dirfd, req->body_name, req->body_tmp, sizeof(req->body_tmp));

		if (fd < 0) {
			req->body_tmp[0] = '\0';
			x->file_err = -fd;
			return false;
		}
		req->body_fd = fd;
	}
	while (n > 0) {
		ssize_t w = write(req->body_fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			x->file_err = w < 0 ? errno : EIO;
			return false;
		}
		p += w;
		n -= (size_t)w;
		req->body_len += (size_t)w;
	}
	return true;
}

/*
 * Called once per header line of every response, including redirects and 1xx ones, only to see
 * where a response starts and where its headers end: libcurl parses the headers themselves
 * (response_validator()). Its buffer holds exactly n bytes, not NUL-terminated: every look at it
 * stays within n.
 */
static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct dl_xfer *x = userdata;
	struct dl_request *req = x->req;
	size_t n = size * nitems;

	if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		/* A new response (after a redirect, a 100 or a proxy CONNECT): what the previous one
		 * sent is not the body we will keep. */
		drop_body(x);
		return n;
	}
	if ((n == 2 && buf[0] == '\r' && buf[1] == '\n') || (n == 1 && buf[0] == '\n')) {
		long code = 0;
		curl_off_t cl = -1;

		/* End of headers: refuse an announced body over the cap before reading any of it. */
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (code == 200 && cl > 0 && (uint64_t)cl > (uint64_t)req->max_size) {
			x->stop = DL_STOP_TOO_LARGE;
			return 0; /* CURLE_WRITE_ERROR */
		}
	}
	return n;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct dl_xfer *x = userdata;
	struct dl_request *req = x->req;
	size_t n = size * nmemb;
	long code = 0;

	/* Bodies of followed redirects never get here (libcurl skips them): this is the final response. */
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code != 0 && code != 200) {
		x->stop = DL_STOP_STATUS;
		return 0;
	}
	if (req->body_len == 0) {
		curl_off_t cl = -1;

		/* file: URLs announce their size here, not in a header block */
		curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (cl > 0 && (uint64_t)cl > (uint64_t)req->max_size) {
			x->stop = DL_STOP_TOO_LARGE;
			return 0;
		}
		/* The announced size, at once: a 40 MB CRL then costs one buffer, not a series of copies. */
		if (cl > 0 && x->cap < (size_t)cl + 1 && req->body_name[0] == '\0') {
			unsigned char *sized = realloc(req->body, (size_t)cl + 1);

			if (sized != NULL) {
				req->body = sized;
				x->cap = (size_t)cl + 1;
			}
		}
	}
	if (n > req->max_size - req->body_len) {
		x->stop = DL_STOP_TOO_LARGE;
		return 0;
	}
	if (req->body_name[0] != '\0') {
		if (!body_to_file(x, ptr, n)) {
			x->stop = DL_STOP_FILE;
			return 0;
		}
		return n;
	}
	/* keep room for a terminating NUL: a PEM body can then be read as a string */
	if (req->body_len + n + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : DL_BODY_MIN_ALLOC;
		unsigned char *grown;

		while (cap < req->body_len + n + 1)
			cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
		if (cap > req->max_size + 1)
			cap = req->max_size + 1;
		grown = realloc(req->body, cap);
		if (!grown)
			return 0; /* CURLE_WRITE_ERROR with no stop reason: reported as out of memory */
		req->body = grown;
		x->cap = cap;
	}
	memcpy(req->body + req->body_len, ptr, n);
	req->body_len += n;
	req->body[req->body_len] = '\0';
	return n;
}

/* ---- requests ---- */

void dl_request_clear(struct dl_request *req)
{
	if (!req)
		return;
	body_release(req);
	drop_validators(req);
	req->result = DL_OK;
	req->http_status = 0;
	req->error[0] = '\0';
}

bool dl_request_has_file(const struct dl_request *req)
{
	return req != NULL && req->body_tmp[0] != '\0' && req->body_mapped;
}

int dl_request_install(struct dl_request *req, const char *name, mode_t mode)
{
	int r;

	if (!dl_request_has_file(req))
		return -EINVAL;
	/* The mapping stays (body still reads the same bytes, now under `name`) until dl_request_clear(). */
	r = install_temp_commit(req->body_dirfd, req->body_tmp, req->body_fd, name, mode, NULL);
	req->body_tmp[0] = '\0'; /* committed or removed: no longer ours to remove */
	req->body_fd = -1;
	return r;
}

/* A value we put verbatim into a request header: no CR/LF (header injection), no other controls. */
static bool header_value_ok(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++) {
		if (is_ctl((unsigned char)s[n]) || n >= max)
			return false;
	}
	return true;
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
	struct curl_slist *grown;
	char *line;

	if (asprintf(&line, "%s: %s", name, value) < 0)
		return -ENOMEM;
	grown = curl_slist_append(*list, line);
	free(line);
	if (!grown)
		return -ENOMEM;
	*list = grown;
	return 0;
}

static void xfer_free(struct dl_xfer *x)
{
	if (!x)
		return;
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	free(x->shown_url);
	free(x);
}

#define SETOPT(opt, val)                                                                                   \
	do {                                                                                               \
		if (curl_easy_setopt(x->easy, (opt), (val)) != CURLE_OK) {                                \
			error_f(&m->log, "libcurl refused %s (libcurl %s too old?)", #opt,                  \
				curl_version_info(CURLVERSION_NOW)->version);                               \
			rc = -ENOTSUP;                                                                     \
			goto out;                                                                          \
		}                                                                                          \
	} while (0)

int dl_multi_add(struct dl_multi *m, struct dl_request *req, dl_done_fn *done, void *ctx)
{
	struct dl_xfer *x = NULL;
	long connect_timeout;
	int rc;

	if (!m || !req || !req->url || req->max_size == 0 || req->max_size > SIZE_MAX / 2 || req->timeout <= 0)
		return -EINVAL;
	if ((req->etag && !header_value_ok(req->etag, DL_HEADER_MAX)) ||
	    (req->last_modified && !header_value_ok(req->last_modified, DL_HEADER_MAX)) ||
	    (req->user_agent && !header_value_ok(req->user_agent, DL_HEADER_MAX)))
		return -EINVAL;
	if (req->priv)
		return -EBUSY; /* already in flight */
	if (m->aborting)
		return -ECANCELED;

	dl_request_clear(req);
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->m = m;
	x->req = req;
	x->done = done;
	x->ctx = ctx;
	x->shown_url = dl_mask_url(req->url);
	x->easy = curl_easy_init();
	if (!x->shown_url || !x->easy) {
		rc = -ENOMEM;
		goto out;
	}
	if (req->etag && req->etag[0]) {
		if ((rc = add_header(&x->headers, "If-None-Match", req->etag)) < 0)
			goto out;
		x->conditional = true;
	}
	if (req->last_modified && req->last_modified[0]) {
		/* verbatim: the server compares its own string (RFC 9110 §13.1.3 allows exact match) */
		if ((rc = add_header(&x->headers, "If-Modified-Since", req->last_modified)) < 0)
			goto out;
		x->conditional = true;
	}
	connect_timeout = req->timeout < DL_CONNECT_TIMEOUT ? req->timeout : DL_CONNECT_TIMEOUT;

	SETOPT(CURLOPT_URL, req->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, DL_PROTOCOLS);
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, DL_REDIR_PROTOCOLS);
	SETOPT(CURLOPT_FOLLOWLOCATION, 1L);
	SETOPT(CURLOPT_MAXREDIRS, (long)DL_MAX_REDIRECTS);
	SETOPT(CURLOPT_NOSIGNAL, 1L); /* no SIGALRM for DNS timeouts: we are one thread among others */
	SETOPT(CURLOPT_CONNECTTIMEOUT, connect_timeout);
	SETOPT(CURLOPT_TIMEOUT, req->timeout);
	SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
	SETOPT(CURLOPT_USERAGENT, req->user_agent ? req->user_agent : DL_DEFAULT_USER_AGENT);
	SETOPT(CURLOPT_FAILONERROR, 0L); /* we read the status ourselves: 304 is not an error */
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, x);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, x);
	SETOPT(CURLOPT_PRIVATE, x);
	if (x->headers)
		SETOPT(CURLOPT_HTTPHEADER, x->headers);
	/* Left at libcurl's defaults on purpose: proxies from http_proxy/https_proxy/no_proxy,
	 * certificate and host verification, credentials only to the first host
	 * (CURLOPT_UNRESTRICTED_AUTH off), no Accept-Encoding (the cap counts what we store). */

	if (curl_multi_add_handle(m->multi, x->easy) != CURLM_OK) {
		rc = -ENOMEM;
		goto out;
	}
	x->next = m->head;
	if (m->head)
		m->head->prev = x;
	m->head = x;
	m->n_active++;
	req->priv = x;
	x = NULL; /* transferred to m */
	rc = 0;
out:
	xfer_free(x);
	return rc;
}

#undef SETOPT

/* Takes x off the multi handle and the list; frees it. The request stays with its outputs. */
static void xfer_release(struct dl_multi *m, struct dl_xfer *x)
{
	curl_multi_remove_handle(m->multi, x->easy);
	if (x->prev)
		x->prev->next = x->next;
	else
		m->head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	m->n_active--;
	x->req->priv = NULL;
	xfer_free(x);
}

static const char *result_name(enum dl_result r)
{
	switch (r) {
	case DL_OK:
		return "ok";
	case DL_NOT_MODIFIED:
		return "not modified";
	case DL_HTTP_ERROR:
		return "http error";
	case DL_TOO_LARGE:
		return "too large";
	case DL_TRANSFER_ERROR:
		return "transfer error";
	case DL_ABORTED:
		return "aborted";
	}
	return "?";
}

/* Sets req->error, truncated to fit (a cut message beats none). */
static void set_error(struct dl_request *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct dl_request *req, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req->error, sizeof(req->error), fmt, ap);
	va_end(ap);
}

/* Appends " (after N redirects, at URL)" when the answer did not come from the URL we were given. */
static void append_where(struct dl_xfer *x)
{
	struct dl_request *req = x->req;
	long redirects = 0;
	char *eff = NULL, *shown;
	size_t used = strlen(req->error);

	curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_COUNT, &redirects);
	curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &eff);
	if (redirects <= 0 || !eff || used + 1 >= sizeof(req->error))
		return;
	/* the effective URL comes from a Location header and may carry credentials too */
	shown = dl_mask_url(eff);
	snprintf(req->error + used, sizeof(req->error) - used, " (after %ld redirect%s, at %s)", redirects,
		 redirects == 1 ? "" : "s", shown ? shown : "an unprintable URL");
	free(shown);
}

/* Fills the outputs of x->req from a transfer that libcurl ended with `res`. */
static void xfer_finish(struct dl_xfer *x, CURLcode res)
{
	struct dl_request *req = x->req;
	char reason[CURL_ERROR_SIZE];
	char *scheme = NULL;
	long code = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(x->easy, CURLINFO_SCHEME, &scheme);
	req->http_status = code;
	mask_text(reason, sizeof(reason), x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));

	if (x->stop == DL_STOP_TOO_LARGE || res == CURLE_FILESIZE_EXCEEDED) {
		req->result = DL_TOO_LARGE;
		set_error(req, "body larger than the limit of %zu bytes", req->max_size);
	} else if (x->stop == DL_STOP_STATUS) {
		req->result = DL_HTTP_ERROR;
		set_error(req, "HTTP %ld", code);
	} else if (x->stop == DL_STOP_FILE) {
		req->result = DL_TRANSFER_ERROR;
		set_error(req, "cannot write the body to a temporary file for %s: %s", req->body_name,
			  strerror(x->file_err));
	} else if (res == CURLE_WRITE_ERROR) {
		req->result = DL_TRANSFER_ERROR;
		set_error(req, "out of memory storing the body");
	} else if (res == CURLE_UNSUPPORTED_PROTOCOL) {
		req->result = DL_TRANSFER_ERROR;
		set_error(req, "protocol not allowed (only " DL_PROTOCOLS ", redirects only to " DL_REDIR_PROTOCOLS "): %s",
			  reason);
	} else if (res == CURLE_TOO_MANY_REDIRECTS) {
		req->result = DL_TRANSFER_ERROR;
		set_error(req, "more than %d redirects: %s", DL_MAX_REDIRECTS, reason);
	} else if (res == CURLE_OPERATION_TIMEDOUT) {
		req->result = DL_TRANSFER_ERROR;
		set_error(req, "timed out (limit %lds): %s", req->timeout, reason);
	} else if (res != CURLE_OK) {
		req->result = DL_TRANSFER_ERROR;
		set_error(req, "%s", reason);
	} else if (code == 200 || (code == 0 && scheme && strcasecmp(scheme, "file") == 0)) {
		req->result = DL_OK;
	} else if (code == 304 && x->conditional) {
		req->result = DL_NOT_MODIFIED;
	} else {
		req->result = DL_HTTP_ERROR;
		set_error(req, "HTTP %ld%s", code,
			 code == 304 ? " to a request that was not conditional" : "");
	}
	if (req->result != DL_OK && req->result != DL_NOT_MODIFIED)
		append_where(x);

	if (req->result == DL_OK && req->body_tmp[0] != '\0') {
		/* Read-only: what the caller verifies is what dl_request_install() renames into place. */
		void *map = mmap(NULL, req->body_len, PROT_READ, MAP_SHARED, req->body_fd, 0);

		if (map == MAP_FAILED) {
			req->result = DL_TRANSFER_ERROR;
			set_error(req, "cannot map the body's temporary file: %s", strerror(errno));
		} else {
			req->body = map;
			req->body_mapped = true;
		}
	}
	if (req->result == DL_OK && !req->body) {
		/* an empty body is still a body: never hand out DL_OK with body == NULL */
		req->body = calloc(1, 1);
		if (!req->body) {
			req->result = DL_TRANSFER_ERROR;
			set_error(req, "out of memory storing the body");
		}
	}
	if (req->result != DL_OK)
		drop_body(x);
	drop_validators(req);
	if (req->result == DL_OK || req->result == DL_NOT_MODIFIED) {
		/* Validators of the copy we keep (200) or hold (304); a file: URL has none. */
		req->etag_out = response_validator(x, "ETag");
		req->last_modified_out = response_validator(x, "Last-Modified");
	}
	debug_f(&x->m->log, "%s: %s%s%s (status %ld, %zu bytes)", x->shown_url, result_name(req->result),
		req->error[0] ? ": " : "", req->error, code, req->body_len);
}

/* Hands every finished transfer to its callback (which may add new ones). */
static void collect(struct dl_multi *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
		struct dl_xfer *x;
		struct dl_request *req;
		char *priv = NULL;
		dl_done_fn *done;
		CURLcode res;
		void *ctx;

		if (msg->msg != CURLMSG_DONE)
			continue;
		res = msg->data.result; /* msg dies with the handle */
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (struct dl_xfer *)(void *)priv;
		xfer_finish(x, res);
		req = x->req;
		done = x->done;
		ctx = x->ctx;
		xfer_release(m, x);
		if (done)
			done(m, req, ctx); /* last: the callback may free or reuse req */
	}
}

/* Ends every transfer in flight with `result` and calls the callbacks; none may add new ones. */
static void end_all(struct dl_multi *m, enum dl_result result, const char *why)
{
	m->aborting = true;
	while (m->head) {
		struct dl_xfer *x = m->head;
		struct dl_request *req = x->req;
		dl_done_fn *done = x->done;
		void *ctx = x->ctx;
		long code = 0;

		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
		req->result = result;
		req->http_status = code;
		set_error(req, "%s", why);
		drop_body(x);
		drop_validators(req);
		debug_f(&m->log, "%s: %s: %s", x->shown_url, result_name(result), why);
		xfer_release(m, x);
		if (done)
			done(m, req, ctx);
	}
	m->aborting = false;
}

static bool fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	/* HUP/ERR/NVAL count too: a closed pipe or a stale fd must not leave us spinning */
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL));
}

int dl_multi_run(struct dl_multi *m, int abort_fd)
{
	struct curl_waitfd wfd;
	int running, rc = 0;
	CURLMcode mc = CURLM_OK;

	if (!m)
		return -EINVAL;
	if (m->running)
		return -EBUSY;
	m->running = true;
	while (m->n_active > 0) {
		mc = curl_multi_perform(m->multi, &running);
		if (mc != CURLM_OK)
			break;
		collect(m);
		if (m->n_active == 0)
			break;
		memset(&wfd, 0, sizeof(wfd));
		wfd.fd = abort_fd;
		wfd.events = CURL_WAIT_POLLIN;
		/* returns early for socket activity, libcurl's own timers, or abort_fd */
		mc = curl_multi_poll(m->multi, abort_fd >= 0 ? &wfd : NULL, abort_fd >= 0 ? 1 : 0, DL_POLL_MS, NULL);
		if (mc != CURLM_OK)
			break;
		if (abort_fd >= 0 && (wfd.revents != 0 || fd_readable(abort_fd))) {
			end_all(m, DL_ABORTED, "aborted");
			rc = -EINTR;
			break;
		}
	}
	if (mc != CURLM_OK) {
		char why[128];

		snprintf(why, sizeof(why), "libcurl multi interface failed: %s", curl_multi_strerror(mc));
		error_f(&m->log, "%s", why);
		end_all(m, DL_TRANSFER_ERROR, why);
		rc = mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
	}
	m->running = false;
	return rc;
}

/* ---- the multi handle ---- */

struct dl_multi *dl_multi_new(const struct log_sink *log)
{
	struct dl_multi *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (log)
		m->log = *log;
	m->multi = curl_multi_init();
	if (!m->multi) {
		free(m);
		return NULL;
	}
	return m;
}

void dl_multi_free(struct dl_multi *m)
{
	if (!m)
		return;
	/* Transfers never run to the end are dropped without their callbacks; their requests keep
	 * whatever outputs they had (dl_request_clear frees them). */
	while (m->head)
		xfer_release(m, m->head);
	curl_multi_cleanup(m->multi);
	free(m);
}
