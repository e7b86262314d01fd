/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of fetcher/download.c: masking, header parsing, and real transfers (file: and a canned HTTP server on 127.0.0.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "download.h"

#define LM "Wed, 21 Oct 2015 07:28:00 GMT"
#define UA "crlsync-test/1"

/* ================================================================================================
 * A canned HTTP/1.1 server on 127.0.0.1:0, one thread per connection, "Connection: close" always.
 * Its threads never call cmocka: the tests look at what it recorded.
 * ============================================================================================== */

#define SRV_MAX_CONN 256
#define SRV_MAX_REQ 256

static struct {
	int lfd;
	int stop_fd; /* eventfd, readable once teardown begins */
	int port;
	pthread_t thr;
	pthread_mutex_t lock;
	pthread_t conns[SRV_MAX_CONN];
	size_t n_conns;
	char *requests[SRV_MAX_REQ];
	size_t n_requests;
	atomic_long chunk_bytes_sent;
} srv = { .lfd = -1, .stop_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

/* 1: fd has something for us (data or EOF), 0: timed out, -1: the server is stopping. */
static int srv_wait(int fd, short events, int ms)
{
	struct pollfd p[2] = { { .fd = srv.stop_fd, .events = POLLIN }, { .fd = fd, .events = events } };
	int n = poll(p, fd >= 0 ? 2 : 1, ms);

	if (n < 0 || (p[0].revents & POLLIN))
		return -1;
	return n == 0 ? 0 : 1;
}

static void srv_sleep(int ms)
{
	(void)srv_wait(-1, 0, ms);
}

static bool srv_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n;

		if (srv_wait(fd, POLLOUT, -1) <= 0)
			return false;
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool srv_sendf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool srv_sendf(int fd, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return n > 0 && (size_t)n < sizeof(buf) && srv_send(fd, buf, (size_t)n);
}

/* Keeps the connection open, sending nothing, until the client gives up, the server stops, or
 * about `ms` have passed (-1: no limit). */
static void srv_hold(int fd, int ms)
{
	char buf[512];
	int step = ms < 0 ? -1 : 100;

	for (int waited = 0; ms < 0 || waited < ms; waited += step) {
		int r = srv_wait(fd, POLLIN, step);

		if (r < 0 || (r > 0 && recv(fd, buf, sizeof(buf), 0) <= 0))
			return;
	}
}

static void srv_body(int fd, const char *status, const char *extra_headers, const char *body)
{
	srv_sendf(fd, "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s", status, extra_headers,
		  strlen(body), body);
}

static void srv_redirect(int fd, const char *extra_headers, const char *location)
{
	srv_sendf(fd, "HTTP/1.1 302 Found\r\n%sLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		  extra_headers, location);
}

static bool has_header(const char *request, const char *header_line)
{
	char needle[1024];

	snprintf(needle, sizeof(needle), "\r\n%s\r\n", header_line);
	return strstr(request, needle) != NULL;
}

static void srv_route(int fd, const char *request, const char *path)
{
	char filler[1000];
	long n;

	memset(filler, 'x', sizeof(filler));
	if (strcmp(path, "/ok") == 0 || strcmp(path, "/hop/0") == 0) {
		srv_body(fd, "200 OK", "ETag: \"v1\"\r\nLast-Modified: " LM "\r\n", "crl body\n");
	} else if (strcmp(path, "/plain") == 0) {
		srv_body(fd, "200 OK", "", "plain");
	} else if (strcmp(path, "/cond") == 0) {
		if (has_header(request, "If-None-Match: \"v1\"") || has_header(request, "If-Modified-Since: " LM))
			srv_sendf(fd, "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nLast-Modified: " LM
				      "\r\nConnection: close\r\n\r\n");
		else
			srv_body(fd, "200 OK", "ETag: \"v1\"\r\nLast-Modified: " LM "\r\n", "fresh crl\n");
	} else if (strcmp(path, "/always-304") == 0) {
		srv_sendf(fd, "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n");
	} else if (strcmp(path, "/404") == 0) {
		srv_body(fd, "404 Not Found", "ETag: \"error-page\"\r\n", "not here\n");
	} else if (sscanf(path, "/sized/%ld", &n) == 1 && n >= 0) {
		if (!srv_sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: %ld\r\nConnection: close\r\n\r\n", n))
			return;
		for (; n > 0; n -= (long)sizeof(filler)) {
			if (!srv_send(fd, filler, n < (long)sizeof(filler) ? (size_t)n : sizeof(filler)))
				return;
		}
	} else if (strcmp(path, "/huge-cl") == 0) {
		/* announces 100 MiB and sends none of it: a client that waits for the body times out */
		srv_sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\nConnection: close\r\n\r\n");
		srv_hold(fd, -1);
	} else if (strcmp(path, "/chunked-forever") == 0 || sscanf(path, "/chunked/%ld", &n) == 1) {
		bool forever = path[8] == '-';
		long left = forever ? 64L << 20 : n; /* even "forever" stops at 64 MiB */

		if (!srv_sendf(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"))
			return;
		while (left > 0) {
			size_t c = left < (long)sizeof(filler) ? (size_t)left : sizeof(filler);

			if (!srv_sendf(fd, "%zx\r\n", c) || !srv_send(fd, filler, c) || !srv_send(fd, "\r\n", 2))
				return;
			atomic_fetch_add(&srv.chunk_bytes_sent, (long)c);
			left -= (long)c;
		}
		srv_send(fd, "0\r\n\r\n", 5);
	} else if (strcmp(path, "/to-file") == 0) {
		srv_redirect(fd, "", "file:///etc/passwd");
	} else if (sscanf(path, "/to-ftp/%ld", &n) == 1) {
		/* ftp is in libcurl's default redirect list (it is refused by the main allow-list too) */
		char next[128];

		snprintf(next, sizeof(next), "ftp://127.0.0.1:%ld/x", n);
		srv_redirect(fd, "", next);
	} else if (sscanf(path, "/hop/%ld", &n) == 1 && n > 0) {
		char next[64];

		snprintf(next, sizeof(next), "/hop/%ld", n - 1);
		srv_redirect(fd, "", next);
	} else if (strcmp(path, "/v/case") == 0) {
		srv_body(fd, "200 OK", "etag: \"a\"\r\nLAST-modified: " LM "\r\n", "crl");
	} else if (strcmp(path, "/v/ws") == 0) {
		srv_body(fd, "200 OK", "ETag: \t \"v\" \t\r\nLast-Modified:" LM "   \r\n", "crl");
	} else if (strcmp(path, "/v/twice") == 0) {
		srv_body(fd, "200 OK", "ETag: \"first\"\r\nETag: \"second\"\r\n", "crl");
	} else if (strcmp(path, "/v/bad") == 0) {
		srv_body(fd, "200 OK", "ETag: \"bell\a\"\r\nETag: \"del\x7f\"\r\nETag:   \t \r\nLast-Modified: \r\n", "crl");
	} else if (strcmp(path, "/v/good-then-bad") == 0) {
		srv_body(fd, "200 OK", "ETag: \"good\"\r\nETag: \"bell\a\"\r\nLast-Modified: " LM "\r\nLast-Modified: \r\n", "crl");
	} else if (sscanf(path, "/v/long/%ld", &n) == 1 && n > 0 && n < 65536) {
		/* an ETag of n bytes ('a'), then a body */
		if (!srv_sendf(fd, "HTTP/1.1 200 OK\r\nETag: "))
			return;
		for (long left = n; left > 0; left -= (long)sizeof(filler)) {
			if (!srv_send(fd, filler, left < (long)sizeof(filler) ? (size_t)left : sizeof(filler)))
				return;
		}
		srv_sendf(fd, "\r\nContent-Length: 3\r\nConnection: close\r\n\r\ncrl");
	} else if (strcmp(path, "/redir-etag") == 0) {
		srv_redirect(fd, "ETag: \"redirect\"\r\nLast-Modified: " LM "\r\n", "/plain");
	} else if (strcmp(path, "/creds-redirect") == 0) {
		char next[128];

		snprintf(next, sizeof(next), "http://mallory:t0psecret@127.0.0.1:%d/404", srv.port);
		srv_redirect(fd, "", next);
	} else if (strcmp(path, "/hang") == 0) {
		/* gives up after 15 s: a client without a timeout then fails its test instead of hanging it */
		srv_hold(fd, 15000);
	} else if (sscanf(path, "/slow/%ld", &n) == 1) {
		srv_sleep((int)n);
		srv_body(fd, "200 OK", "", "slow body");
	} else {
		srv_body(fd, "404 Not Found", "", "no route\n");
	}
}

static void *srv_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char req[16384], path[1024], target[1024];
	size_t n = 0;
	const char *p;

	while (n < 4 || !memmem(req, n, "\r\n\r\n", 4)) {
		ssize_t r;

		if (n + 1 >= sizeof(req) || srv_wait(fd, POLLIN, -1) <= 0)
			goto out;
		r = recv(fd, req + n, sizeof(req) - 1 - n, 0);
		if (r <= 0)
			goto out;
		n += (size_t)r;
	}
	req[n] = '\0';
	pthread_mutex_lock(&srv.lock);
	if (srv.n_requests < SRV_MAX_REQ)
		srv.requests[srv.n_requests++] = strdup(req);
	pthread_mutex_unlock(&srv.lock);
	if (sscanf(req, "GET %1023s HTTP/1.1\r\n", target) != 1)
		goto out;
	/* a proxy request carries the absolute form (RFC 9112 §3.2.2) */
	p = target;
	if (strncmp(p, "http://", 7) == 0)
		p = strchr(p + 7, '/') ? strchr(p + 7, '/') : "/";
	snprintf(path, sizeof(path), "%s", p);
	srv_route(fd, req, path);
out:
	close(fd);
	return NULL;
}

static void *srv_main(void *arg)
{
	(void)arg;
	while (srv_wait(srv.lfd, POLLIN, -1) > 0) {
		int fd = accept(srv.lfd, NULL, NULL);

		if (fd < 0)
			continue;
		pthread_mutex_lock(&srv.lock);
		if (srv.n_conns < SRV_MAX_CONN &&
		    pthread_create(&srv.conns[srv.n_conns], NULL, srv_conn, (void *)(intptr_t)fd) == 0)
			srv.n_conns++;
		else
			close(fd);
		pthread_mutex_unlock(&srv.lock);
	}
	return NULL;
}

/* Listens on 127.0.0.1:0; returns the fd (and the port), or -1. */
static int listen_loopback(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* The most recent request whose request line names `path` (a copy, caller frees), or NULL. */
static char *srv_request_for(const char *path)
{
	char line[1100];
	char *found = NULL;

	snprintf(line, sizeof(line), "%s HTTP/1.1\r\n", path);
	pthread_mutex_lock(&srv.lock);
	for (size_t i = srv.n_requests; i-- > 0 && !found;) {
		const char *eol = strstr(srv.requests[i], "\r\n");

		if (eol && (size_t)(eol - srv.requests[i]) + 2 >= strlen(line) &&
		    strncmp(eol + 2 - strlen(line), line, strlen(line)) == 0)
			found = strdup(srv.requests[i]);
	}
	pthread_mutex_unlock(&srv.lock);
	return found;
}

/* ================================================================================================
 * Fixtures and helpers
 * ============================================================================================== */

static char tmpdir[512];
static char logbuf[1 << 16]; /* everything the module logged during the current test */

static void capture_log(void *ctx, enum log_level level, const char *line)
{
	size_t used = strlen(logbuf);

	(void)ctx;
	(void)level;
	snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", line);
}

static const struct log_sink test_sink = { .fn = capture_log };

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	const char *base = getenv("CRLSYNC_TEST_TMP");
	static const char *const proxy_vars[] = { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
						 "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY" };

	(void)state;
	/* the transfers below go to 127.0.0.1 directly, whatever the environment says */
	for (size_t i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++)
		unsetenv(proxy_vars[i]);
	if (!base || !*base)
		base = "/tmp";
	if (mkdir(base, 0700) != 0 && errno != EEXIST)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_download.XXXXXX", base);
	if (!mkdtemp(tmpdir))
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	srv.stop_fd = eventfd(0, EFD_CLOEXEC);
	srv.lfd = listen_loopback(&srv.port);
	if (srv.stop_fd < 0 || srv.lfd < 0 || pthread_create(&srv.thr, NULL, srv_main, NULL) != 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	uint64_t one = 1;

	(void)state;
	if (write(srv.stop_fd, &one, sizeof(one)) != sizeof(one))
		return -1;
	pthread_join(srv.thr, NULL);
	for (size_t i = 0; i < srv.n_conns; i++)
		pthread_join(srv.conns[i], NULL);
	for (size_t i = 0; i < srv.n_requests; i++)
		free(srv.requests[i]);
	close(srv.lfd);
	close(srv.stop_fd);
	curl_global_cleanup();
	nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static int test_setup(void **state)
{
	(void)state;
	logbuf[0] = '\0';
	return 0;
}

static char *http_url(char *buf, size_t len, const char *path)
{
	snprintf(buf, len, "http://127.0.0.1:%d%s", srv.port, path);
	return buf;
}

static char *file_url(char *buf, size_t len, const char *leaf)
{
	snprintf(buf, len, "file://%s/%s", tmpdir, leaf);
	return buf;
}

static void write_file(const char *leaf, const void *data, size_t len)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, leaf);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static struct dl_request new_req(const char *url)
{
	return (struct dl_request){ .url = url, .max_size = 65536, .timeout = 10, .user_agent = UA };
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Which requests ended, in order. */
struct done_log {
	int calls;
	struct dl_request *order[8];
	enum dl_result results[8];
};

static void record_done(struct dl_multi *m, struct dl_request *req, void *ctx)
{
	struct done_log *l = ctx;

	(void)m;
	if (l->calls < 8) {
		l->order[l->calls] = req;
		l->results[l->calls] = req->result;
	}
	l->calls++;
}

/* Runs one request to its end on a fresh multi handle; its callback must run exactly once. */
static void fetch(struct dl_request *req)
{
	struct done_log l = { 0 };
	struct dl_multi *m = dl_multi_new(&test_sink);

	assert_non_null(m);
	assert_int_equal(dl_multi_add(m, req, record_done, &l), 0);
	assert_int_equal(dl_multi_run(m, -1), 0);
	assert_int_equal(l.calls, 1);
	assert_ptr_equal(l.order[0], req);
	assert_null(req->priv);
	dl_multi_free(m);
}

#define assert_contains(hay, needle)                                                                   \
	do {                                                                                           \
		if (!strstr((hay), (needle)))                                                          \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));                    \
	} while (0)

#define assert_lacks(hay, needle)                                                                      \
	do {                                                                                           \
		if (strstr((hay), (needle)))                                                           \
			fail_msg("\"%s\" contains \"%s\"", (hay), (needle));                            \
	} while (0)

/* ================================================================================================
 * dl_mask_url
 * ============================================================================================== */

static void mask_is(const char *in, const char *want)
{
	char *got = dl_mask_url(in);

	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("dl_mask_url(\"%s\") = \"%s\", want \"%s\"", in, got, want);
	assert_ptr_not_equal(got, in);
	free(got);
}

static void dl_mask_url__user_and_password__masked(void **state)
{
	(void)state;
	mask_is("http://user:pw@host/x", "http://***@host/x");
	mask_is("https://user:pw@crl.example.net:8443/ca.crl?x=1", "https://***@crl.example.net:8443/ca.crl?x=1");
	mask_is("HTTP://u:p@[::1]:80/", "HTTP://***@[::1]:80/");
}

static void dl_mask_url__user_only__masked(void **state)
{
	(void)state;
	mask_is("http://user@host", "http://***@host");
	mask_is("http://:pw@host/", "http://***@host/");
}

static void dl_mask_url__no_credentials__unchanged_copy(void **state)
{
	(void)state;
	mask_is("http://host/x", "http://host/x");
	mask_is("http://host:8080/ca.crl?x=1#f", "http://host:8080/ca.crl?x=1#f");
	mask_is("file:///var/lib/crlsync/ca.crl", "file:///var/lib/crlsync/ca.crl");
	mask_is("", "");
}

static void dl_mask_url__no_scheme__handled(void **state)
{
	(void)state;
	mask_is("user:pw@host/x", "***@host/x");
	mask_is("//user:pw@host/x", "//***@host/x");
	mask_is("host:8080/x", "host:8080/x");
	mask_is("host/x", "host/x");
	mask_is("http:/user:pw@host/x", "http:/***@host/x");
}

static void dl_mask_url__at_in_password__everything_before_host_masked(void **state)
{
	(void)state;
	mask_is("http://user:p@ss@host/x", "http://***@host/x");
	mask_is("http://user:p@ss@host", "http://***@host");
}

/* Issue 10, item 11: whatever a password holds, nothing of it shows, nor of the user name. */
static void dl_mask_url__slash_query_fragment_in_password__nothing_of_it_shown(void **state)
{
	(void)state;
	mask_is("http://u:p/a?b#c@host/path", "http://***@host/path");
	mask_is("http://user:pa/ss@host/x.crl", "http://***@host/x.crl");
	mask_is("http://user:pa?ss@host/x.crl", "http://***@host/x.crl");
	mask_is("http://user:pa#ss@host/x.crl", "http://***@host/x.crl");
	mask_is("https://user:p/@?#@@crl.example.net:8443/ca.crl?x=1", "https://***@crl.example.net:8443/ca.crl?x=1");
	mask_is("http://tok/en+b64==@host/", "http://***@host/"); /* a user-only token with a '/' */
	mask_is("user:p/w@host/x", "***@host/x");
	mask_is("http:/u:p?w@host", "http:/***@host");
}

/* The price of masking up to the last '@': an '@' after the host hides what comes before it. */
static void dl_mask_url__at_in_path_or_query__masked_up_to_it(void **state)
{
	(void)state;
	mask_is("http://host/~a@b/c.crl", "http://***@b/c.crl");
	mask_is("http://host?who=a@b", "http://***@b");
	mask_is("http://host#a@b", "http://***@b");
	mask_is("http://u:pw@host/x?mail=a@b", "http://***@b");
}

/* A malformed URL leaks nothing either: no scheme, stray backslashes, an '@' at the very end. */
static void dl_mask_url__malformed__nothing_before_last_at_shown(void **state)
{
	(void)state;
	mask_is("http:\\\\u:p/x@host/", "***@host/"); /* no "scheme:/": masked from the start */
	mask_is("http://u:p/x@", "http://***@");
	mask_is("@", "***@");
	mask_is("http://@@@", "http://***@");
	mask_is("u:p/x", "u:p/x"); /* no '@': no userinfo at all, nothing to tell apart */
}

static void dl_mask_url__null__null(void **state)
{
	(void)state;
	assert_null(dl_mask_url(NULL));
}

/* ================================================================================================
 * dl_multi: arguments and life cycle
 * ============================================================================================== */

static void dl_multi_add__bad_arguments__einval_no_callback(void **state)
{
	struct dl_multi *m = dl_multi_new(NULL);
	struct done_log l = { 0 };
	char u[128];
	struct dl_request r;

	(void)state;
	assert_non_null(m);
	http_url(u, sizeof(u), "/ok");

	r = new_req(NULL);
	assert_int_equal(dl_multi_add(m, &r, record_done, &l), -EINVAL);
	r = new_req(u);
	r.timeout = 0;
	assert_int_equal(dl_multi_add(m, &r, record_done, &l), -EINVAL);
	r = new_req(u);
	r.max_size = 0;
	assert_int_equal(dl_multi_add(m, &r, record_done, &l), -EINVAL);
	/* header injection through a stored validator or the user agent */
	r = new_req(u);
	r.etag = "\"v1\"\r\nX-Injected: 1";
	assert_int_equal(dl_multi_add(m, &r, record_done, &l), -EINVAL);
	r = new_req(u);
	r.last_modified = LM "\nX-Injected: 1";
	assert_int_equal(dl_multi_add(m, &r, record_done, &l), -EINVAL);
	r = new_req(u);
	r.user_agent = "crlsync\r\nX-Injected: 1";
	assert_int_equal(dl_multi_add(m, &r, record_done, &l), -EINVAL);
	assert_int_equal(dl_multi_add(NULL, &r, record_done, &l), -EINVAL);
	assert_int_equal(dl_multi_add(m, NULL, record_done, &l), -EINVAL);

	assert_int_equal(dl_multi_run(m, -1), 0);
	assert_int_equal(l.calls, 0);
	dl_multi_free(m);
}

static void dl_multi_add__same_request_twice__ebusy(void **state)
{
	struct dl_multi *m = dl_multi_new(NULL);
	struct done_log l = { 0 };
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/ok"));

	(void)state;
	assert_non_null(m);
	assert_int_equal(dl_multi_add(m, &r, record_done, &l), 0);
	assert_int_equal(dl_multi_add(m, &r, record_done, &l), -EBUSY);
	assert_int_equal(dl_multi_run(m, -1), 0);
	assert_int_equal(l.calls, 1);
	assert_int_equal(r.result, DL_OK);
	dl_request_clear(&r);
	dl_multi_free(m);
}

static void dl_multi_run__nothing_added__returns_0(void **state)
{
	struct dl_multi *m = dl_multi_new(NULL);

	(void)state;
	assert_non_null(m);
	assert_int_equal(dl_multi_run(m, -1), 0);
	assert_int_equal(dl_multi_run(NULL, -1), -EINVAL);
	dl_multi_free(m);
	dl_multi_free(NULL);
	dl_request_clear(NULL);
}

static void dl_multi_free__transfers_never_run__dropped_without_callbacks(void **state)
{
	struct dl_multi *m = dl_multi_new(NULL);
	struct done_log l = { 0 };
	char u[128];
	struct dl_request r1 = new_req(http_url(u, sizeof(u), "/ok")), r2 = new_req(u);

	(void)state;
	assert_non_null(m);
	assert_int_equal(dl_multi_add(m, &r1, record_done, &l), 0);
	assert_int_equal(dl_multi_add(m, &r2, record_done, &l), 0);
	dl_multi_free(m);
	assert_int_equal(l.calls, 0);
	assert_null(r1.priv);
	assert_null(r2.priv);
}

static void dl_request_clear__reused_request__outputs_replaced_not_leaked(void **state)
{
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/ok"));

	(void)state;
	fetch(&r);
	assert_int_equal(r.result, DL_OK);
	/* the same request again, without clearing: dl_multi_add frees the old outputs */
	r.url = http_url(u, sizeof(u), "/404");
	fetch(&r);
	assert_int_equal(r.result, DL_HTTP_ERROR);
	assert_null(r.body);
	dl_request_clear(&r);
	assert_null(r.body);
	assert_null(r.etag_out);
	assert_null(r.last_modified_out);
	assert_int_equal(r.body_len, 0);
	assert_string_equal(r.error, "");
}

/* ================================================================================================
 * Bodies to a temporary file in cache-dir (issue 14: never the whole body in memory)
 * ============================================================================================== */

/* A fresh directory under tmpdir, open O_RDONLY (install fsyncs it). */
static int cache_dir(const char *leaf)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, leaf);
	assert_int_equal(mkdir(path, 0700), 0);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* The names in dirfd but "." and "..", each followed by ' ', into buf; returns how many. */
static int dir_names(int dirfd, char *buf, size_t len)
{
	int fd = dup(dirfd), n = 0;
	DIR *d;
	struct dirent *e;

	assert_true(fd >= 0);
	d = fdopendir(fd);
	assert_non_null(d);
	rewinddir(d); /* a dup shares the offset of the previous listing */
	buf[0] = '\0';
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		strncat(buf, e->d_name, len - strlen(buf) - 2);
		strcat(buf, " ");
	}
	closedir(d);
	return n;
}

static void to_file__ok__mapped_from_a_hidden_temp_then_renamed_as_verified(void **state)
{
	static const unsigned char crl[] = { 0x30, 0x82, 0x00, 0x10, 0x00, 0xff, 'c', 'r', 'l', 0x00 };
	char u[700], names[512];
	struct dl_request r = new_req(file_url(u, sizeof(u), "tofile.crl"));
	int dfd = cache_dir("cache-ok");
	struct stat st;

	(void)state;
	write_file("tofile.crl", crl, sizeof(crl));
	r.body_dirfd = dfd;
	snprintf(r.body_name, sizeof(r.body_name), "ca.crl");
	fetch(&r);
	assert_int_equal(r.result, DL_OK);
	assert_true(dl_request_has_file(&r));
	assert_int_equal(r.body_len, sizeof(crl));
	assert_memory_equal(r.body, crl, sizeof(crl));
	/* Only the hidden temporary file, which the plugin skips: nothing installed before verification. */
	assert_int_equal(dir_names(dfd, names, sizeof(names)), 1);
	assert_int_equal(strncmp(names, ".ca.crl.", 8), 0);
	assert_int_equal(dl_request_install(&r, "ca.crl", 0644), 0);
	assert_int_equal(dir_names(dfd, names, sizeof(names)), 1);
	assert_string_equal(names, "ca.crl ");
	assert_int_equal(fstatat(dfd, "ca.crl", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal((size_t)st.st_size, sizeof(crl));
	assert_memory_equal(r.body, crl, sizeof(crl)); /* still mapped until cleared */
	assert_false(dl_request_has_file(&r));
	assert_int_equal(dl_request_install(&r, "ca.crl", 0644), -EINVAL); /* only once */
	dl_request_clear(&r);
	assert_int_equal(dir_names(dfd, names, sizeof(names)), 1); /* clear never removes what was installed */
	close(dfd);
}

static void to_file__cleared_without_install__temp_removed_old_file_stays(void **state)
{
	char u[700], names[512];
	struct dl_request r = new_req(file_url(u, sizeof(u), "tofile2.crl"));
	int dfd = cache_dir("cache-clear");
	int old = openat(dfd, "ca.crl", O_WRONLY | O_CREAT | O_EXCL, 0644);

	(void)state;
	assert_true(old >= 0);
	assert_int_equal(write(old, "old", 3), 3);
	close(old);
	write_file("tofile2.crl", "new CRL that fails verification", 31);
	r.body_dirfd = dfd;
	snprintf(r.body_name, sizeof(r.body_name), "ca.crl");
	fetch(&r);
	assert_int_equal(r.result, DL_OK);
	assert_true(dl_request_has_file(&r));
	dl_request_clear(&r);
	assert_int_equal(dir_names(dfd, names, sizeof(names)), 1);
	assert_string_equal(names, "ca.crl ");
	close(dfd);
}

static void to_file__over_max_size__too_large_and_no_file_left(void **state)
{
	char data[5001], u[700], names[512];
	struct dl_request r = new_req(file_url(u, sizeof(u), "tofile-over.crl"));
	int dfd = cache_dir("cache-over");

	(void)state;
	memset(data, 'o', sizeof(data));
	write_file("tofile-over.crl", data, sizeof(data));
	r.max_size = sizeof(data) - 1;
	r.body_dirfd = dfd;
	snprintf(r.body_name, sizeof(r.body_name), "ca.crl");
	fetch(&r);
	assert_int_equal(r.result, DL_TOO_LARGE);
	assert_null(r.body);
	assert_false(dl_request_has_file(&r));
	assert_int_equal(dir_names(dfd, names, sizeof(names)), 0);
	dl_request_clear(&r);
	close(dfd);
}

static void to_file__http_404__no_file_left(void **state)
{
	char u[128], names[512];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/404"));
	int dfd = cache_dir("cache-404");

	(void)state;
	r.body_dirfd = dfd;
	snprintf(r.body_name, sizeof(r.body_name), "ca.crl");
	fetch(&r);
	assert_int_equal(r.result, DL_HTTP_ERROR);
	assert_null(r.body);
	assert_int_equal(dir_names(dfd, names, sizeof(names)), 0);
	dl_request_clear(&r);
	close(dfd);
}

static void to_file__cache_dir_unusable__transfer_error_saying_why(void **state)
{
	char u[700];
	struct dl_request r = new_req(file_url(u, sizeof(u), "tofile3.crl"));

	(void)state;
	write_file("tofile3.crl", "abc", 3);
	r.body_dirfd = -1; /* EBADF: the temporary file cannot be created */
	snprintf(r.body_name, sizeof(r.body_name), "ca.crl");
	fetch(&r);
	assert_int_equal(r.result, DL_TRANSFER_ERROR);
	assert_null(r.body);
	assert_contains(r.error, "temporary file for ca.crl");
	dl_request_clear(&r);
}

/* ================================================================================================
 * file: URLs
 * ============================================================================================== */

static void file_url__small_file__ok_with_the_exact_bytes(void **state)
{
	static const unsigned char crl[] = { 0x30, 0x82, 0x00, 0x10, 0x00, 0xff, 'c', 'r', 'l', 0x00 };
	char u[700];
	struct dl_request r = new_req(file_url(u, sizeof(u), "small.crl"));

	(void)state;
	write_file("small.crl", crl, sizeof(crl));
	fetch(&r);
	assert_int_equal(r.result, DL_OK);
	assert_int_equal(r.http_status, 0);
	assert_int_equal(r.body_len, sizeof(crl));
	assert_memory_equal(r.body, crl, sizeof(crl));
	assert_int_equal(r.body[r.body_len], 0); /* NUL-terminated for PEM readers */
	assert_string_equal(r.error, "");
	dl_request_clear(&r);
}

static void file_url__empty_file__ok_with_non_null_body(void **state)
{
	char u[700];
	struct dl_request r = new_req(file_url(u, sizeof(u), "empty.crl"));

	(void)state;
	write_file("empty.crl", "", 0);
	fetch(&r);
	assert_int_equal(r.result, DL_OK);
	assert_non_null(r.body);
	assert_int_equal(r.body_len, 0);
	dl_request_clear(&r);
}

static void file_url__missing__transfer_error(void **state)
{
	char u[700];
	struct dl_request r = new_req(file_url(u, sizeof(u), "does-not-exist.crl"));

	(void)state;
	fetch(&r);
	assert_int_equal(r.result, DL_TRANSFER_ERROR);
	assert_null(r.body);
	assert_contains(r.error, "does-not-exist.crl");
	dl_request_clear(&r);
}

static void file_url__exactly_max_size__ok(void **state)
{
	char data[5000], u[700];
	struct dl_request r = new_req(file_url(u, sizeof(u), "exact.crl"));

	(void)state;
	memset(data, 'e', sizeof(data));
	write_file("exact.crl", data, sizeof(data));
	r.max_size = sizeof(data);
	fetch(&r);
	assert_int_equal(r.result, DL_OK);
	assert_int_equal(r.body_len, sizeof(data));
	dl_request_clear(&r);
}

static void file_url__one_byte_over_max_size__too_large(void **state)
{
	char data[5001], u[700];
	struct dl_request r = new_req(file_url(u, sizeof(u), "over.crl"));

	(void)state;
	memset(data, 'o', sizeof(data));
	write_file("over.crl", data, sizeof(data));
	r.max_size = sizeof(data) - 1;
	fetch(&r);
	assert_int_equal(r.result, DL_TOO_LARGE);
	assert_null(r.body);
	assert_int_equal(r.body_len, 0);
	assert_contains(r.error, "5000 bytes");
	dl_request_clear(&r);
}

/* ================================================================================================
 * Protocols
 * ============================================================================================== */

static void disallowed_protocols__transfer_error_without_connecting(void **state)
{
	static const char *const schemes[] = { "ftp", "gopher", "dict", "telnet", "ldap", "imap", "smtp", "ftps", "scp" };
	int port, lfd = listen_loopback(&port);

	(void)state;
	assert_true(lfd >= 0);
	assert_int_equal(fcntl(lfd, F_SETFL, O_NONBLOCK), 0);
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		char u[128], want[64];
		struct dl_request r;

		snprintf(u, sizeof(u), "%s://127.0.0.1:%d/x", schemes[i], port);
		r = new_req(u);
		fetch(&r);
		assert_int_equal(r.result, DL_TRANSFER_ERROR);
		assert_contains(r.error, "protocol not allowed");
		snprintf(want, sizeof(want), "\"%s\"", schemes[i]);
		assert_contains(r.error, want);
		dl_request_clear(&r);
	}
	/* nobody knocked */
	assert_int_equal(accept(lfd, NULL, NULL), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	close(lfd);
}

static void allowed_protocol_any_case__ok(void **state)
{
	char u[128];
	struct dl_request r;

	(void)state;
	snprintf(u, sizeof(u), "HTTP://127.0.0.1:%d/ok", srv.port);
	r = new_req(u);
	fetch(&r);
	assert_int_equal(r.result, DL_OK);
	dl_request_clear(&r);
}

/* ================================================================================================
 * HTTP
 * ============================================================================================== */

static void http_200__body_validators_and_our_headers(void **state)
{
	char u[128], *seen;
	struct dl_request r = new_req(http_url(u, sizeof(u), "/ok"));

	(void)state;
	fetch(&r);
	assert_int_equal(r.result, DL_OK);
	assert_int_equal(r.http_status, 200);
	assert_int_equal(r.body_len, strlen("crl body\n"));
	assert_memory_equal(r.body, "crl body\n", r.body_len);
	assert_string_equal(r.etag_out, "\"v1\"");
	assert_string_equal(r.last_modified_out, LM);
	seen = srv_request_for("/ok");
	assert_non_null(seen);
	assert_true(has_header(seen, "User-Agent: " UA));
	assert_lacks(seen, "If-None-Match");
	assert_lacks(seen, "If-Modified-Since");
	free(seen);
	dl_request_clear(&r);
}

/*
 * Validators as libcurl parses the final response's headers (curl_easy_header()), kept only when
 * they may go back verbatim in a request header: not empty, at most DL_HEADER_MAX bytes, no
 * control byte but tab.
 */
static struct dl_request fetch_path(const char *path)
{
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), path));

	fetch(&r);
	assert_int_equal(r.result, DL_OK);
	return r;
}

static void http_validators__names_any_case__kept(void **state)
{
	struct dl_request r = fetch_path("/v/case");

	(void)state;
	assert_string_equal(r.etag_out, "\"a\"");
	assert_string_equal(r.last_modified_out, LM);
	dl_request_clear(&r);
}

static void http_validators__white_space_around__trimmed(void **state)
{
	struct dl_request r = fetch_path("/v/ws");

	(void)state;
	assert_string_equal(r.etag_out, "\"v\"");
	assert_string_equal(r.last_modified_out, LM);
	dl_request_clear(&r);
}

static void http_validators__sent_twice__last_kept(void **state)
{
	struct dl_request r = fetch_path("/v/twice");

	(void)state;
	assert_string_equal(r.etag_out, "\"second\"");
	assert_null(r.last_modified_out);
	dl_request_clear(&r);
}

static void http_validators__control_bytes_or_empty__not_kept(void **state)
{
	struct dl_request r = fetch_path("/v/bad");

	(void)state;
	assert_null(r.etag_out);
	assert_null(r.last_modified_out);
	assert_memory_equal(r.body, "crl", 3); /* the body stands: only the validators go */
	dl_request_clear(&r);
}

static void http_validators__bad_after_good__good_kept(void **state)
{
	struct dl_request r = fetch_path("/v/good-then-bad");

	(void)state;
	assert_string_equal(r.etag_out, "\"good\"");
	assert_string_equal(r.last_modified_out, LM);
	dl_request_clear(&r);
}

static void http_validators__long__limit_is_dl_header_max(void **state)
{
	char path[64];
	struct dl_request r;

	(void)state;
	snprintf(path, sizeof(path), "/v/long/%d", DL_HEADER_MAX);
	r = fetch_path(path);
	assert_non_null(r.etag_out);
	assert_int_equal(strlen(r.etag_out), DL_HEADER_MAX);
	dl_request_clear(&r);
	/* one byte more: not kept */
	snprintf(path, sizeof(path), "/v/long/%d", DL_HEADER_MAX + 1);
	r = fetch_path(path);
	assert_null(r.etag_out);
	dl_request_clear(&r);
}

static void http_conditional__etag_matches__not_modified_and_header_sent(void **state)
{
	char u[128], *seen;
	struct dl_request r = new_req(http_url(u, sizeof(u), "/cond"));

	(void)state;
	r.etag = "\"v1\"";
	fetch(&r);
	seen = srv_request_for("/cond");
	assert_non_null(seen);
	assert_true(has_header(seen, "If-None-Match: \"v1\""));
	free(seen);
	assert_int_equal(r.result, DL_NOT_MODIFIED);
	assert_int_equal(r.http_status, 304);
	assert_null(r.body);
	assert_string_equal(r.etag_out, "\"v1\"");
	assert_string_equal(r.last_modified_out, LM);
	assert_string_equal(r.error, "");
	dl_request_clear(&r);
}

static void http_conditional__etag_differs__ok_with_body(void **state)
{
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/cond"));

	(void)state;
	r.etag = "\"v0\"";
	fetch(&r);
	assert_int_equal(r.result, DL_OK);
	assert_memory_equal(r.body, "fresh crl\n", r.body_len);
	assert_string_equal(r.etag_out, "\"v1\"");
	dl_request_clear(&r);
}

static void http_conditional__last_modified__sent_verbatim_not_modified(void **state)
{
	char u[128], *seen;
	struct dl_request r = new_req(http_url(u, sizeof(u), "/cond"));

	(void)state;
	r.last_modified = LM;
	fetch(&r);
	seen = srv_request_for("/cond");
	assert_non_null(seen);
	assert_true(has_header(seen, "If-Modified-Since: " LM));
	assert_lacks(seen, "If-None-Match");
	free(seen);
	assert_int_equal(r.result, DL_NOT_MODIFIED);
	dl_request_clear(&r);
}

static void http_304_to_unconditional_request__http_error(void **state)
{
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/always-304"));

	(void)state;
	fetch(&r);
	assert_int_equal(r.result, DL_HTTP_ERROR);
	assert_int_equal(r.http_status, 304);
	assert_contains(r.error, "HTTP 304");
	dl_request_clear(&r);
}

static void http_404__http_error_with_status(void **state)
{
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/404"));

	(void)state;
	fetch(&r);
	assert_int_equal(r.result, DL_HTTP_ERROR);
	assert_int_equal(r.http_status, 404);
	assert_string_equal(r.error, "HTTP 404");
	assert_null(r.body);
	assert_null(r.etag_out); /* an error page's validators are not the CRL's */
	dl_request_clear(&r);
}

static void http_credentials__used_but_never_in_error_or_log(void **state)
{
	char u[128], *seen;
	struct dl_request r;
	int port, lfd = listen_loopback(&port);

	(void)state;
	snprintf(u, sizeof(u), "http://alice:s3cretpw@127.0.0.1:%d/404", srv.port);
	r = new_req(u);
	fetch(&r);
	assert_int_equal(r.result, DL_HTTP_ERROR);
	seen = srv_request_for("/404");
	assert_non_null(seen);
	assert_contains(seen, "\r\nAuthorization: Basic "); /* they were used */
	free(seen);
	assert_lacks(r.error, "s3cretpw");
	assert_lacks(r.error, "alice");
	assert_lacks(logbuf, "s3cretpw");
	assert_contains(logbuf, "http://***@127.0.0.1:");
	dl_request_clear(&r);

	/* a transfer error: connection refused by a port nobody listens on any more */
	assert_true(lfd >= 0);
	close(lfd);
	snprintf(u, sizeof(u), "http://alice:s3cretpw@127.0.0.1:%d/x", port);
	r = new_req(u);
	fetch(&r);
	assert_int_equal(r.result, DL_TRANSFER_ERROR);
	assert_lacks(r.error, "s3cretpw");
	assert_lacks(logbuf, "s3cretpw");
	dl_request_clear(&r);
}

/*
 * A password with a raw '/', '?' and '#': libcurl takes "alice:s3c" for host and port and gives
 * up, but the URL as configured reaches the debug log and the error, and none of it may show.
 */
static void http_password_with_slash_query_fragment__never_in_error_or_log(void **state)
{
	char u[160];
	struct dl_request r;

	(void)state;
	snprintf(u, sizeof(u), "http://alice:s3c/re?t#pw@127.0.0.1:%d/404", srv.port);
	r = new_req(u);
	fetch(&r);
	assert_int_not_equal(r.result, DL_OK);
	for (const char *const *p = (const char *const[]){ "alice", "s3c", "re?t", "t#pw", NULL }; *p; p++) {
		assert_lacks(r.error, *p);
		assert_lacks(logbuf, *p);
	}
	assert_contains(logbuf, "http://***@127.0.0.1:");
	dl_request_clear(&r);
}

static void http_redirect_with_credentials__location_masked(void **state)
{
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/creds-redirect"));

	(void)state;
	fetch(&r);
	assert_int_equal(r.result, DL_HTTP_ERROR);
	assert_contains(r.error, "HTTP 404");
	assert_contains(r.error, "after 1 redirect, at http://***@127.0.0.1:");
	assert_lacks(r.error, "t0psecret");
	assert_lacks(r.error, "mallory");
	assert_lacks(logbuf, "t0psecret");
	dl_request_clear(&r);
}

static void http_content_length_over_max__too_large_before_the_body(void **state)
{
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/huge-cl"));
	double t0 = now_s();

	(void)state;
	r.max_size = 4096;
	r.timeout = 20; /* waiting for the body would end in a timeout, not DL_TOO_LARGE */
	fetch(&r);
	assert_int_equal(r.result, DL_TOO_LARGE);
	assert_true(now_s() - t0 < 10);
	assert_null(r.body);
	assert_null(r.etag_out);
	assert_contains(r.error, "4096 bytes");
	dl_request_clear(&r);
}

static void http_content_length_equal_max__ok(void **state)
{
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/sized/4096"));

	(void)state;
	r.max_size = 4096;
	fetch(&r);
	assert_int_equal(r.result, DL_OK);
	assert_int_equal(r.body_len, 4096);
	dl_request_clear(&r);

	r = new_req(http_url(u, sizeof(u), "/sized/4097"));
	r.max_size = 4096;
	fetch(&r);
	assert_int_equal(r.result, DL_TOO_LARGE);
	dl_request_clear(&r);
}

static void http_chunked_past_max__too_large(void **state)
{
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/chunked-forever"));

	(void)state;
	atomic_store(&srv.chunk_bytes_sent, 0);
	r.max_size = 65536;
	fetch(&r);
	assert_int_equal(r.result, DL_TOO_LARGE);
	assert_null(r.body);
	assert_int_equal(r.body_len, 0);
	/* abandoned early: far from the 64 MiB the server would send */
	assert_true(atomic_load(&srv.chunk_bytes_sent) < (16L << 20));
	dl_request_clear(&r);
}

static void http_chunked_under_max__ok(void **state)
{
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/chunked/3000"));

	(void)state;
	r.max_size = 4096;
	fetch(&r);
	assert_int_equal(r.result, DL_OK);
	assert_int_equal(r.body_len, 3000);
	dl_request_clear(&r);
}

static void http_redirect_to_file__refused(void **state)
{
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/to-file"));

	(void)state;
	fetch(&r);
	assert_int_equal(r.result, DL_TRANSFER_ERROR);
	assert_contains(r.error, "protocol not allowed");
	assert_contains(r.error, "\"file\"");
	assert_null(r.body);
	dl_request_clear(&r);
}

static void http_redirect_to_ftp__refused_without_connecting(void **state)
{
	char u[128], path[64];
	int port, lfd = listen_loopback(&port);
	struct dl_request r;

	(void)state;
	assert_true(lfd >= 0);
	assert_int_equal(fcntl(lfd, F_SETFL, O_NONBLOCK), 0);
	snprintf(path, sizeof(path), "/to-ftp/%d", port);
	r = new_req(http_url(u, sizeof(u), path));
	fetch(&r);
	assert_int_equal(r.result, DL_TRANSFER_ERROR);
	assert_contains(r.error, "protocol not allowed");
	assert_contains(r.error, "\"ftp\"");
	assert_int_equal(accept(lfd, NULL, NULL), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	close(lfd);
	dl_request_clear(&r);
}

static void http_three_redirects__followed(void **state)
{
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/hop/3"));

	(void)state;
	fetch(&r);
	assert_int_equal(r.result, DL_OK);
	assert_memory_equal(r.body, "crl body\n", r.body_len);
	dl_request_clear(&r);
}

static void http_four_redirects__refused(void **state)
{
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/hop/4"));

	(void)state;
	fetch(&r);
	assert_int_equal(r.result, DL_TRANSFER_ERROR);
	assert_contains(r.error, "more than 3 redirects");
	assert_null(r.body);
	dl_request_clear(&r);
}

static void http_redirect__its_validators_not_kept(void **state)
{
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/redir-etag"));

	(void)state;
	fetch(&r);
	assert_int_equal(r.result, DL_OK);
	assert_memory_equal(r.body, "plain", r.body_len);
	assert_null(r.etag_out);
	assert_null(r.last_modified_out);
	dl_request_clear(&r);
}

static void http_server_never_answers__timeout_transfer_error(void **state)
{
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/hang"));
	double t0 = now_s(), took;

	(void)state;
	r.timeout = 2;
	fetch(&r);
	took = now_s() - t0;
	assert_int_equal(r.result, DL_TRANSFER_ERROR);
	assert_contains(r.error, "timed out");
	assert_true(took >= 1.5 && took < 10);
	dl_request_clear(&r);
}

static void proxy_from_environment__honoured(void **state)
{
	char proxy[64], *seen;
	struct dl_request r = new_req("http://crl.example.invalid/plain");

	(void)state;
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", srv.port);
	setenv("http_proxy", proxy, 1);
	fetch(&r);
	unsetenv("http_proxy");
	assert_int_equal(r.result, DL_OK);
	assert_memory_equal(r.body, "plain", r.body_len);
	seen = srv_request_for("http://crl.example.invalid/plain");
	assert_non_null(seen);
	free(seen);
	dl_request_clear(&r);
}

/* ================================================================================================
 * Several transfers, callbacks, abort
 * ============================================================================================== */

static void concurrent__fast_one_ends_first(void **state)
{
	struct dl_multi *m = dl_multi_new(&test_sink);
	struct done_log l = { 0 };
	char u1[128], u2[128];
	struct dl_request slow = new_req(http_url(u1, sizeof(u1), "/slow/1500"));
	struct dl_request fast = new_req(http_url(u2, sizeof(u2), "/ok"));

	(void)state;
	assert_non_null(m);
	assert_int_equal(dl_multi_add(m, &slow, record_done, &l), 0); /* the slow one first */
	assert_int_equal(dl_multi_add(m, &fast, record_done, &l), 0);
	assert_int_equal(dl_multi_run(m, -1), 0);
	assert_int_equal(l.calls, 2);
	assert_ptr_equal(l.order[0], &fast);
	assert_ptr_equal(l.order[1], &slow);
	assert_int_equal(fast.result, DL_OK);
	assert_int_equal(slow.result, DL_OK);
	assert_memory_equal(slow.body, "slow body", slow.body_len);
	dl_request_clear(&slow);
	dl_request_clear(&fast);
	dl_multi_free(m);
}

struct mirrors {
	struct dl_request primary, fallback;
	char fallback_url[128];
	struct done_log log;
	int add_rc;
};

/* On failure of the primary, tries the mirror: the way the daemon walks a source's URLs. */
static void try_mirror(struct dl_multi *m, struct dl_request *req, void *ctx)
{
	struct mirrors *mi = ctx;

	record_done(m, req, &mi->log);
	if (req == &mi->primary && req->result != DL_OK) {
		mi->fallback = new_req(mi->fallback_url);
		mi->add_rc = dl_multi_add(m, &mi->fallback, try_mirror, mi);
	}
}

static void done_callback__adds_mirror__fallback_runs_in_the_same_run(void **state)
{
	struct dl_multi *m = dl_multi_new(&test_sink);
	struct mirrors mi = { .add_rc = 1 };
	char u[128];

	(void)state;
	assert_non_null(m);
	mi.primary = new_req(http_url(u, sizeof(u), "/404"));
	http_url(mi.fallback_url, sizeof(mi.fallback_url), "/ok");
	assert_int_equal(dl_multi_add(m, &mi.primary, try_mirror, &mi), 0);
	assert_int_equal(dl_multi_run(m, -1), 0);
	assert_int_equal(mi.add_rc, 0);
	assert_int_equal(mi.log.calls, 2);
	assert_ptr_equal(mi.log.order[0], &mi.primary);
	assert_int_equal(mi.log.results[0], DL_HTTP_ERROR);
	assert_ptr_equal(mi.log.order[1], &mi.fallback);
	assert_int_equal(mi.fallback.result, DL_OK);
	assert_memory_equal(mi.fallback.body, "crl body\n", mi.fallback.body_len);
	dl_request_clear(&mi.primary);
	dl_request_clear(&mi.fallback);
	dl_multi_free(m);
}

struct delayed_write {
	int fd;
	int ms;
};

static void *write_later(void *arg)
{
	struct delayed_write *d = arg;
	struct timespec ts = { .tv_sec = d->ms / 1000, .tv_nsec = (long)(d->ms % 1000) * 1000000L };
	uint64_t one = 1;

	nanosleep(&ts, NULL);
	if (write(d->fd, &one, sizeof(one)) != sizeof(one))
		abort();
	return NULL;
}

static void abort_fd__written_during_slow_transfers__aborted_and_eintr(void **state)
{
	struct dl_multi *m = dl_multi_new(&test_sink);
	struct done_log l = { 0 };
	char u1[128], u2[128];
	struct dl_request hang = new_req(http_url(u1, sizeof(u1), "/hang"));
	struct dl_request slow = new_req(http_url(u2, sizeof(u2), "/slow/20000"));
	struct delayed_write d = { .fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), .ms = 300 };
	uint64_t v = 0;
	pthread_t t;
	double t0;

	(void)state;
	assert_non_null(m);
	assert_true(d.fd >= 0);
	hang.timeout = 30;
	slow.timeout = 30;
	assert_int_equal(dl_multi_add(m, &hang, record_done, &l), 0);
	assert_int_equal(dl_multi_add(m, &slow, record_done, &l), 0);
	t0 = now_s();
	assert_int_equal(pthread_create(&t, NULL, write_later, &d), 0);
	assert_int_equal(dl_multi_run(m, d.fd), -EINTR);
	assert_true(now_s() - t0 < 10);
	pthread_join(t, NULL);
	assert_int_equal(l.calls, 2);
	assert_int_equal(hang.result, DL_ABORTED);
	assert_int_equal(slow.result, DL_ABORTED);
	assert_string_equal(hang.error, "aborted");
	assert_null(hang.body);
	/* the caller owns abort_fd: its value is still there */
	assert_int_equal(read(d.fd, &v, sizeof(v)), sizeof(v));
	assert_int_equal(v, 1);
	/* the multi handle is usable after an abort */
	dl_request_clear(&hang);
	hang = new_req(http_url(u1, sizeof(u1), "/ok"));
	assert_int_equal(dl_multi_add(m, &hang, record_done, &l), 0);
	assert_int_equal(dl_multi_run(m, d.fd), 0);
	assert_int_equal(hang.result, DL_OK);
	close(d.fd);
	dl_request_clear(&hang);
	dl_request_clear(&slow);
	dl_multi_free(m);
}

static void abort_fd__never_written__transfers_complete(void **state)
{
	struct dl_multi *m = dl_multi_new(&test_sink);
	struct done_log l = { 0 };
	char u[128];
	struct dl_request r = new_req(http_url(u, sizeof(u), "/slow/300"));
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	(void)state;
	assert_non_null(m);
	assert_true(efd >= 0);
	assert_int_equal(dl_multi_add(m, &r, record_done, &l), 0);
	assert_int_equal(dl_multi_run(m, efd), 0);
	assert_int_equal(l.calls, 1);
	assert_int_equal(r.result, DL_OK);
	close(efd);
	dl_request_clear(&r);
	dl_multi_free(m);
}

struct abort_adder {
	struct dl_request extra;
	int add_rc;
	int calls;
};

static void add_on_abort(struct dl_multi *m, struct dl_request *req, void *ctx)
{
	struct abort_adder *a = ctx;

	a->calls++;
	if (req->result == DL_ABORTED)
		a->add_rc = dl_multi_add(m, &a->extra, add_on_abort, a);
}

static void abort_fd__callback_adds_during_abort__ecanceled(void **state)
{
	struct dl_multi *m = dl_multi_new(NULL);
	struct abort_adder a = { .add_rc = 1 };
	char u1[128], u2[128];
	struct dl_request r = new_req(http_url(u1, sizeof(u1), "/hang"));
	int efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK); /* readable from the start */

	(void)state;
	assert_non_null(m);
	assert_true(efd >= 0);
	a.extra = new_req(http_url(u2, sizeof(u2), "/ok"));
	assert_int_equal(dl_multi_add(m, &r, add_on_abort, &a), 0);
	assert_int_equal(dl_multi_run(m, efd), -EINTR);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.add_rc, -ECANCELED);
	assert_int_equal(r.result, DL_ABORTED);
	assert_null(a.extra.priv);
	close(efd);
	dl_request_clear(&r);
	dl_multi_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(dl_mask_url__user_and_password__masked, test_setup),
		cmocka_unit_test_setup(dl_mask_url__user_only__masked, test_setup),
		cmocka_unit_test_setup(dl_mask_url__no_credentials__unchanged_copy, test_setup),
		cmocka_unit_test_setup(dl_mask_url__no_scheme__handled, test_setup),
		cmocka_unit_test_setup(dl_mask_url__at_in_password__everything_before_host_masked, test_setup),
		cmocka_unit_test_setup(dl_mask_url__slash_query_fragment_in_password__nothing_of_it_shown, test_setup),
		cmocka_unit_test_setup(dl_mask_url__at_in_path_or_query__masked_up_to_it, test_setup),
		cmocka_unit_test_setup(dl_mask_url__malformed__nothing_before_last_at_shown, test_setup),
		cmocka_unit_test_setup(dl_mask_url__null__null, test_setup),
		cmocka_unit_test_setup(dl_multi_add__bad_arguments__einval_no_callback, test_setup),
		cmocka_unit_test_setup(dl_multi_add__same_request_twice__ebusy, test_setup),
		cmocka_unit_test_setup(dl_multi_run__nothing_added__returns_0, test_setup),
		cmocka_unit_test_setup(dl_multi_free__transfers_never_run__dropped_without_callbacks, test_setup),
		cmocka_unit_test_setup(dl_request_clear__reused_request__outputs_replaced_not_leaked, test_setup),
		cmocka_unit_test_setup(file_url__small_file__ok_with_the_exact_bytes, test_setup),
		cmocka_unit_test_setup(file_url__empty_file__ok_with_non_null_body, test_setup),
		cmocka_unit_test_setup(file_url__missing__transfer_error, test_setup),
		cmocka_unit_test_setup(file_url__exactly_max_size__ok, test_setup),
		cmocka_unit_test_setup(file_url__one_byte_over_max_size__too_large, test_setup),
		cmocka_unit_test_setup(to_file__ok__mapped_from_a_hidden_temp_then_renamed_as_verified, test_setup),
		cmocka_unit_test_setup(to_file__cleared_without_install__temp_removed_old_file_stays, test_setup),
		cmocka_unit_test_setup(to_file__over_max_size__too_large_and_no_file_left, test_setup),
		cmocka_unit_test_setup(to_file__http_404__no_file_left, test_setup),
		cmocka_unit_test_setup(to_file__cache_dir_unusable__transfer_error_saying_why, test_setup),
		cmocka_unit_test_setup(disallowed_protocols__transfer_error_without_connecting, test_setup),
		cmocka_unit_test_setup(allowed_protocol_any_case__ok, test_setup),
		cmocka_unit_test_setup(http_200__body_validators_and_our_headers, test_setup),
		cmocka_unit_test_setup(http_validators__names_any_case__kept, test_setup),
		cmocka_unit_test_setup(http_validators__white_space_around__trimmed, test_setup),
		cmocka_unit_test_setup(http_validators__sent_twice__last_kept, test_setup),
		cmocka_unit_test_setup(http_validators__control_bytes_or_empty__not_kept, test_setup),
		cmocka_unit_test_setup(http_validators__bad_after_good__good_kept, test_setup),
		cmocka_unit_test_setup(http_validators__long__limit_is_dl_header_max, test_setup),
		cmocka_unit_test_setup(http_conditional__etag_matches__not_modified_and_header_sent, test_setup),
		cmocka_unit_test_setup(http_conditional__etag_differs__ok_with_body, test_setup),
		cmocka_unit_test_setup(http_conditional__last_modified__sent_verbatim_not_modified, test_setup),
		cmocka_unit_test_setup(http_304_to_unconditional_request__http_error, test_setup),
		cmocka_unit_test_setup(http_404__http_error_with_status, test_setup),
		cmocka_unit_test_setup(http_credentials__used_but_never_in_error_or_log, test_setup),
		cmocka_unit_test_setup(http_password_with_slash_query_fragment__never_in_error_or_log, test_setup),
		cmocka_unit_test_setup(http_redirect_with_credentials__location_masked, test_setup),
		cmocka_unit_test_setup(http_content_length_over_max__too_large_before_the_body, test_setup),
		cmocka_unit_test_setup(http_content_length_equal_max__ok, test_setup),
		cmocka_unit_test_setup(http_chunked_past_max__too_large, test_setup),
		cmocka_unit_test_setup(http_chunked_under_max__ok, test_setup),
		cmocka_unit_test_setup(http_redirect_to_file__refused, test_setup),
		cmocka_unit_test_setup(http_redirect_to_ftp__refused_without_connecting, test_setup),
		cmocka_unit_test_setup(http_three_redirects__followed, test_setup),
		cmocka_unit_test_setup(http_four_redirects__refused, test_setup),
		cmocka_unit_test_setup(http_redirect__its_validators_not_kept, test_setup),
		cmocka_unit_test_setup(http_server_never_answers__timeout_transfer_error, test_setup),
		cmocka_unit_test_setup(proxy_from_environment__honoured, test_setup),
		cmocka_unit_test_setup(concurrent__fast_one_ends_first, test_setup),
		cmocka_unit_test_setup(done_callback__adds_mirror__fallback_runs_in_the_same_run, test_setup),
		cmocka_unit_test_setup(abort_fd__written_during_slow_transfers__aborted_and_eintr, test_setup),
		cmocka_unit_test_setup(abort_fd__never_written__transfers_complete, test_setup),
		cmocka_unit_test_setup(abort_fd__callback_adds_during_abort__ecanceled, test_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
