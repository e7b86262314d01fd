/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the fetcher's vici client: encoding round trips, every malformed packet refused, fake charons that misbehave. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "vici.h"

/* Parses `len` bytes; on failure, checks that the reason contains `word`. */
static void expect_bad(const void *body, size_t len, const char *word)
{
	struct vici_msg m;
	char err[256] = "";

	assert_false(vici_parse(body, len, &m, err, sizeof(err)));
	if (strstr(err, word) == NULL)
		fail_msg("reason `%s' lacks `%s'", err, word);
	assert_null(m.items);
	assert_null(m.raw);
}

static void vici_parse__round_trip__every_element(void **state)
{
	struct vici_builder b;
	struct vici_msg m;
	unsigned char *pkt = NULL, big[VICI_VALUE_MAX];
	size_t len = 0, n = 0;
	char err[256], buf[32];

	(void)state;
	memset(big, 0xab, sizeof(big));
	vici_builder_init(&b);
	vici_add_kv_str(&b, "type", "X509_CRL");
	vici_add_section_start(&b, "auth");
	vici_add_list_start(&b, "crl_uris");
	vici_add_list_item(&b, "file:///a", 9);
	vici_add_list_item(&b, "", 0);
	vici_add_list_end(&b);
	vici_add_kv(&b, "data", big, sizeof(big)); /* the largest value vici can carry */
	vici_add_section_end(&b);
	assert_false(b.failed);
	assert_true(vici_packet_encode(VICI_CMD_REQUEST, "load-cert", &b, &pkt, &len, err, sizeof(err)));
	assert_int_equal(len - 4, ((size_t)pkt[0] << 24) | ((size_t)pkt[1] << 16) | ((size_t)pkt[2] << 8) | pkt[3]);
	assert_true(vici_parse(pkt + 4, len - 4, &m, err, sizeof(err)));
	assert_int_equal(m.op, VICI_CMD_REQUEST);
	assert_string_equal(m.name, "load-cert");
	assert_int_equal(m.n_items, 8);
	assert_int_equal(m.items[3].type, VICI_LIST_ITEM);
	assert_string_equal(m.items[3].name, "crl_uris");
	assert_int_equal(m.items[3].depth, 1);
	assert_memory_equal(m.items[3].value, "file:///a", 9);
	assert_int_equal(m.items[4].value_len, 0);
	assert_int_equal(m.items[6].value_len, VICI_VALUE_MAX);
	assert_int_equal(m.items[7].type, VICI_SECTION_END);
	assert_true(vici_msg_get_str(&m, "type", buf, sizeof(buf)));
	assert_string_equal(buf, "X509_CRL");
	assert_null(vici_msg_get(&m, "data", &n)); /* not at the top level */
	vici_msg_clear(&m);
	free(pkt);
	vici_builder_clear(&b);
}

static void vici_parse__unnamed_ops__no_name(void **state)
{
	static const unsigned char confirm[] = { VICI_EVENT_CONFIRM };
	static const unsigned char empty_resp[] = { VICI_CMD_RESPONSE };
	struct vici_msg m;
	char err[128];

	(void)state;
	assert_true(vici_parse(confirm, sizeof(confirm), &m, err, sizeof(err)));
	assert_int_equal(m.op, VICI_EVENT_CONFIRM);
	assert_string_equal(m.name, "");
	assert_int_equal(m.n_items, 0);
	vici_msg_clear(&m);
	assert_true(vici_parse(empty_resp, sizeof(empty_resp), &m, err, sizeof(err)));
	vici_msg_clear(&m);
}

static void vici_parse__malformed__rejected_with_reason(void **state)
{
	unsigned char deep[1 + 2 * 40 * 3];
	size_t n = 0;

	(void)state;
	expect_bad("", 0, "empty packet");
	expect_bad("\x08", 1, "unknown operation 8");
	expect_bad("\x00", 1, "truncated operation name");
	expect_bad("\x00\x00", 2, "empty operation name");
	expect_bad("\x07\x05" "ab", 4, "runs past the end");
	expect_bad("\x00\x03" "a\0b", 5, "NUL byte");
	expect_bad("\x02" "x", 2, "carries no message");
	expect_bad("\x05\x03", 2, "carries no message");
	expect_bad("\x01\x09", 2, "unknown element type 9");
	expect_bad("\x01\x00", 2, "unknown element type 0");
	expect_bad("\x01\x02", 2, "section end without a section");
	expect_bad("\x01\x01\x01" "s", 4, "ends inside a section");
	expect_bad("\x01\x01\x00", 3, "empty section name");
	expect_bad("\x01\x05\x00\x00", 4, "list item outside a list");
	expect_bad("\x01\x06", 2, "list end without a list");
	expect_bad("\x01\x04\x01" "l", 4, "ends inside a list");
	expect_bad("\x01\x04\x01" "l\x03\x01k\x00\x00", 10, "inside list `l'");
	expect_bad("\x01\x04\x01" "l\x04\x01m", 7, "inside list `l'");
	expect_bad("\x01\x04\x01" "l\x01\x01s", 7, "inside list `l'");
	expect_bad("\x01\x03\x01k\x00", 5, "truncated value length");
	expect_bad("\x01\x03\x01k\x00\x05" "abc", 9, "runs past the end");
	expect_bad("\x01\x03\x05k", 4, "runs past the end");
	expect_bad("\x01\x03", 2, "truncated key name");
	deep[n++] = VICI_CMD_RESPONSE;
	for (int i = 0; i < 40; i++) {
		deep[n++] = VICI_SECTION_START;
		deep[n++] = 1;
		deep[n++] = 's';
	}
	expect_bad(deep, n, "nested deeper than 32");
}

static void vici_parse__oversized__rejected(void **state)
{
	unsigned char *p = calloc(1, VICI_PACKET_MAX + 1);

	(void)state;
	assert_non_null(p);
	p[0] = VICI_CMD_RESPONSE;
	expect_bad(p, VICI_PACKET_MAX + 1, "exceeds");
	free(p);
}

/* Elements of a list of k empty items: CMD_RESPONSE, LIST_START "l", k x LIST_ITEM, LIST_END. */
static unsigned char *list_packet(size_t k, size_t *len)
{
	unsigned char *p = malloc(1 + 3 + 3 * k + 1);
	size_t n = 0;

	assert_non_null(p);
	p[n++] = VICI_CMD_RESPONSE;
	p[n++] = VICI_LIST_START;
	p[n++] = 1;
	p[n++] = 'l';
	for (size_t i = 0; i < k; i++) {
		p[n++] = VICI_LIST_ITEM;
		p[n++] = 0;
		p[n++] = 0;
	}
	p[n++] = VICI_LIST_END;
	*len = n;
	return p;
}

static void vici_parse__too_many_elements__rejected(void **state)
{
	struct vici_msg m;
	char err[256];
	size_t len;
	unsigned char *p;

	(void)state;
	/* exactly the limit: accepted */
	p = list_packet(VICI_ITEMS_MAX - 2, &len);
	assert_true(vici_parse(p, len, &m, err, sizeof(err)));
	assert_int_equal(m.n_items, VICI_ITEMS_MAX);
	vici_msg_clear(&m);
	free(p);
	/* one more: refused, nothing kept */
	p = list_packet(VICI_ITEMS_MAX - 1, &len);
	expect_bad(p, len, "more than 16384 elements");
	free(p);
}

static void vici_builder__bad_input__fails_encoding(void **state)
{
	struct vici_builder b;
	unsigned char *pkt = NULL, *big = calloc(1, VICI_VALUE_MAX + 1);
	size_t len;
	char err[256], name[300];

	(void)state;
	assert_non_null(big);
	vici_builder_init(&b);
	vici_add_kv(&b, "data", big, VICI_VALUE_MAX + 1);
	assert_true(b.failed);
	assert_false(vici_packet_encode(VICI_CMD_REQUEST, "load-cert", &b, &pkt, &len, err, sizeof(err)));
	assert_non_null(strstr(err, "65535"));
	assert_null(pkt);
	vici_builder_clear(&b);

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	vici_add_kv_str(&b, name, "v");
	assert_true(b.failed);
	vici_builder_clear(&b);

	vici_add_section_start(&b, "open");
	assert_false(vici_packet_encode(VICI_CMD_REQUEST, "x", &b, &pkt, &len, err, sizeof(err)));
	assert_non_null(strstr(err, "still open"));
	vici_builder_clear(&b);

	vici_add_list_item(&b, "x", 1);
	assert_true(b.failed);
	vici_builder_clear(&b);

	assert_false(vici_packet_encode(VICI_CMD_REQUEST, NULL, NULL, &pkt, &len, err, sizeof(err)));
	assert_false(vici_packet_encode(VICI_EVENT_CONFIRM, "x", NULL, &pkt, &len, err, sizeof(err)));
	assert_true(vici_packet_encode(VICI_EVENT_REGISTER, "list-cert", NULL, &pkt, &len, err, sizeof(err)));
	assert_int_equal(len, 4 + 1 + 1 + 9);
	free(pkt);
	free(big);
}

static void vici_connect__bad_uri_or_absent__errno(void **state)
{
	struct vici_conn *c = (struct vici_conn *)1;

	(void)state;
	assert_int_equal(vici_connect("/run/charon.vici", 100, &c), -EINVAL);
	assert_null(c);
	assert_int_equal(vici_connect("tcp://127.0.0.1:4502", 100, &c), -EINVAL);
	assert_int_equal(vici_connect("unix:///nonexistent/crlsync-test/charon.vici", 100, &c), -ENOENT);
	assert_null(c);
	vici_close(NULL);
}

/* --- a fake charon on a unix socket ------------------------------------------------------------- */

static char sock_path[108];

static int listen_sock(int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *tmp = getenv("CRLSYNC_TEST_TMP");
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sock_path, sizeof(sock_path), "%s/vici-%ld.sock", tmp ? tmp : "/tmp", (long)getpid());
	unlink(sock_path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (backlog >= 0)
		assert_int_equal(listen(fd, backlog), 0);
	return fd;
}

static void sock_uri(char *uri, size_t len)
{
	snprintf(uri, len, "unix://%s", sock_path);
}

/* The fake's exit codes: what it found wrong in what the client sent. */
enum { FAKE_OK = 0, FAKE_ACCEPT = 1, FAKE_WRITE = 2, FAKE_SHORT = 3, FAKE_OP = 5, FAKE_NAME = 6, FAKE_NOT_EOF = 7 };

static bool dribble; /* the fake writes byte by byte: the client must reassemble partial reads */

static void write_full(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, dribble ? 1 : n);

		if (w <= 0)
			_exit(FAKE_WRITE);
		p += w;
		n -= (size_t)w;
		if (dribble)
			usleep(200);
	}
}

static void send_raw(int fd, const unsigned char *body, size_t len)
{
	unsigned char hdr[4] = { (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
				 (unsigned char)len };

	write_full(fd, hdr, 4);
	write_full(fd, body, len);
}

static void read_full(int fd, unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			_exit(FAKE_SHORT);
		p += r;
		n -= (size_t)r;
	}
}

/* Reads one packet and checks its operation and name (NULL: unnamed). */
static void expect_packet(int fd, unsigned op, const char *name)
{
	unsigned char hdr[4], body[4096];
	size_t len;

	read_full(fd, hdr, 4);
	len = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
	if (len == 0 || len > sizeof(body))
		_exit(FAKE_SHORT);
	read_full(fd, body, len);
	if (body[0] != op)
		_exit(FAKE_OP);
	if (name != NULL && (len < 2u + strlen(name) || body[1] != strlen(name) || memcmp(body + 2, name, strlen(name)) != 0))
		_exit(FAKE_NAME);
}

/* The client closed its end without sending anything more. */
static void expect_eof(int fd)
{
	unsigned char c;

	if (read(fd, &c, 1) != 0)
		_exit(FAKE_NOT_EOF);
}

enum fake_mode {
	GOOD,          /* confirm, 2 events, response, confirm */
	GARBAGE,       /* a response with a section end at the top */
	SILENT,        /* reads nothing, answers nothing */
	CLOSE,         /* closes at once, before reading */
	CMD_UNKNOWN,   /* the command is unknown: the client must still unregister */
	EVENT_UNKNOWN, /* the event is unknown: no command may follow */
	HUGE,          /* announces a 2 GiB answer */
	ENDLESS,       /* events, one every 20 ms, never a response */
	WRONG_EVENT,   /* an event the client did not register for */
};

static const unsigned char pkt_confirm[] = { VICI_EVENT_CONFIRM };
static const unsigned char pkt_event[] = { VICI_EVENT, 9, 'l', 'i', 's', 't', '-', 'c', 'e', 'r', 't', VICI_KEY_VALUE, 4,
				       't', 'y', 'p', 'e', 0, 8, 'X', '5', '0', '9', '_', 'C', 'R', 'L' };
static const unsigned char pkt_resp[] = { VICI_CMD_RESPONSE, VICI_KEY_VALUE, 7, 's', 'u', 'c', 'c', 'e',
				      's', 's', 0, 3, 'y', 'e', 's' };

static void fake_serve(int fd, enum fake_mode mode)
{
	static const unsigned char bad[] = { VICI_CMD_RESPONSE, VICI_SECTION_END };
	static const unsigned char cmd_unknown[] = { VICI_CMD_UNKNOWN };
	static const unsigned char event_unknown[] = { VICI_EVENT_UNKNOWN };
	static const unsigned char other_event[] = { VICI_EVENT, 3, 'l', 'o', 'g' };
	static const unsigned char huge[] = { 0x7f, 0xff, 0xff, 0xff };

	switch (mode) {
	case SILENT:
		sleep(5);
		_exit(FAKE_OK);
	case CLOSE:
		close(fd);
		_exit(FAKE_OK);
	default:
		break;
	}
	expect_packet(fd, VICI_EVENT_REGISTER, "list-cert");
	if (mode == EVENT_UNKNOWN) {
		send_raw(fd, event_unknown, sizeof(event_unknown));
		expect_eof(fd);
		_exit(FAKE_OK);
	}
	send_raw(fd, pkt_confirm, sizeof(pkt_confirm));
	expect_packet(fd, VICI_CMD_REQUEST, "list-certs");
	switch (mode) {
	case GARBAGE:
		send_raw(fd, bad, sizeof(bad));
		expect_eof(fd); /* the stream is out of step: nothing more may be sent */
		_exit(FAKE_OK);
	case HUGE:
		write_full(fd, huge, sizeof(huge));
		expect_eof(fd);
		_exit(FAKE_OK);
	case ENDLESS:
		for (int i = 0; i < 1000; i++) {
			send_raw(fd, pkt_event, sizeof(pkt_event));
			usleep(20000);
		}
		_exit(FAKE_OK);
	case WRONG_EVENT:
		send_raw(fd, other_event, sizeof(other_event));
		expect_eof(fd);
		_exit(FAKE_OK);
	case CMD_UNKNOWN:
		send_raw(fd, cmd_unknown, sizeof(cmd_unknown));
		break;
	default:
		send_raw(fd, pkt_event, sizeof(pkt_event));
		send_raw(fd, pkt_event, sizeof(pkt_event));
		send_raw(fd, pkt_resp, sizeof(pkt_resp));
		break;
	}
	expect_packet(fd, VICI_EVENT_UNREGISTER, "list-cert");
	send_raw(fd, pkt_confirm, sizeof(pkt_confirm));
	expect_eof(fd);
	_exit(FAKE_OK);
}

static pid_t fake_charon(int lfd, enum fake_mode mode)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		signal(SIGPIPE, SIG_DFL);
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			_exit(FAKE_ACCEPT);
		/* the fake may write into a closed connection: only the client must survive that */
		signal(SIGPIPE, SIG_IGN);
		fake_serve(fd, mode);
	}
	return pid;
}

static bool count_events(const struct vici_msg *ev, void *ctx)
{
	char type[16];

	assert_true(vici_msg_get_str(ev, "type", type, sizeof(type)));
	assert_string_equal(type, "X509_CRL");
	(*(int *)ctx)++;
	return true;
}

static bool stop_at_first(const struct vici_msg *ev, void *ctx)
{
	(void)ev;
	(*(int *)ctx)++;
	return false;
}

static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Runs list-certs against a fake in `mode`; checks the result, the error text, the events seen,
 * and the fake's verdict on what the client sent (want_fake: its exit code; -1: killed by us).
 */
static void run_fake(enum fake_mode mode, vici_event_fn *fn, int want_r, const char *want_err, int want_events,
		     int want_fake)
{
	char uri[128], err[256] = "", ok[8];
	struct vici_conn *c = NULL;
	struct vici_msg resp;
	int fds = open_fds(), lfd = listen_sock(4), events = 0, st = 0;
	pid_t pid = fake_charon(lfd, mode);

	sock_uri(uri, sizeof(uri));
	assert_int_equal(vici_connect(uri, 300, &c), 0);
	assert_int_equal(vici_request(c, "list-certs", NULL, "list-cert", fn, &events, &resp, err, sizeof(err)), want_r);
	if (want_events >= 0)
		assert_int_equal(events, want_events);
	if (want_r == 0) {
		assert_true(vici_msg_get_str(&resp, "success", ok, sizeof(ok)));
		assert_string_equal(ok, "yes");
		vici_msg_clear(&resp);
	} else {
		if (strstr(err, want_err) == NULL)
			fail_msg("error `%s' lacks `%s'", err, want_err);
		assert_null(resp.items);
		assert_null(resp.raw);
	}
	if (want_r != 0 && want_r != -ECANCELED && want_r != -ENOSYS) {
		/* out of step: the connection refuses further requests without touching the socket */
		assert_int_equal(vici_request(c, "version", NULL, NULL, NULL, NULL, &resp, err, sizeof(err)), -ENOTCONN);
		assert_non_null(strstr(err, "unusable"));
	}
	vici_close(c);
	if (want_fake < 0)
		kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (want_fake < 0) {
		assert_true(WIFSIGNALED(st));
	} else {
		if (!WIFEXITED(st) || WEXITSTATUS(st) != want_fake)
			fail_msg("fake charon (mode %d): status 0x%x, want exit %d", (int)mode, st, want_fake);
	}
	close(lfd);
	unlink(sock_path);
	assert_int_equal(open_fds(), fds); /* no descriptor leaked, whatever the outcome */
}

static void vici_request__streamed__events_then_response_then_unregister(void **state)
{
	(void)state;
	run_fake(GOOD, count_events, 0, "", 2, FAKE_OK);
}

static void vici_request__dribbled_bytes__reassembled(void **state)
{
	(void)state;
	dribble = true;
	run_fake(GOOD, count_events, 0, "", 2, FAKE_OK);
	dribble = false;
}

static void vici_request__callback_stops__ecanceled_stream_still_ends(void **state)
{
	(void)state;
	run_fake(GOOD, stop_at_first, -ECANCELED, "", 1, FAKE_OK);
}

static void vici_request__malformed_answer__ebadmsg(void **state)
{
	(void)state;
	run_fake(GARBAGE, count_events, -EBADMSG, "`list-certs': section end without a section", 0, FAKE_OK);
}

static void vici_request__silent_charon__etimedout(void **state)
{
	(void)state;
	run_fake(SILENT, count_events, -ETIMEDOUT, "no answer in time", 0, -1);
}

static void vici_request__closed_socket__error_not_sigpipe(void **state)
{
	int r;
	char uri[128], err[256] = "";
	struct vici_conn *c = NULL;
	struct vici_msg resp;
	unsigned char *big = calloc(1, VICI_VALUE_MAX);
	struct vici_builder b;
	int lfd = listen_sock(4), st = 0;
	pid_t pid = fake_charon(lfd, CLOSE);

	(void)state;
	assert_non_null(big);
	sock_uri(uri, sizeof(uri));
	assert_int_equal(vici_connect(uri, 1000, &c), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid); /* charon's end is closed now */
	/* Large enough not to fit in the socket buffer at once: send() meets the closed peer. SIGPIPE is
	 * not ignored in this process (see main): MSG_NOSIGNAL keeps it alive. */
	vici_builder_init(&b);
	vici_add_kv(&b, "data", big, VICI_VALUE_MAX);
	r = vici_request(c, "load-cert", &b, NULL, NULL, NULL, &resp, err, sizeof(err));
	assert_true(r == -EPIPE || r == -ECONNRESET);
	assert_non_null(strstr(err, "`load-cert': cannot"));
	vici_builder_clear(&b);
	vici_close(c);
	close(lfd);
	unlink(sock_path);
	free(big);
}

static void vici_request__unknown_command__enosys_and_unregistered(void **state)
{
	(void)state;
	run_fake(CMD_UNKNOWN, count_events, -ENOSYS, "charon knows no such command", 0, FAKE_OK);
}

static void vici_request__unknown_event__enosys_no_command(void **state)
{
	(void)state;
	run_fake(EVENT_UNKNOWN, count_events, -ENOSYS, "knows no event `list-cert'", 0, FAKE_OK);
}

static void vici_request__announced_huge_packet__ebadmsg(void **state)
{
	(void)state;
	run_fake(HUGE, count_events, -EBADMSG, "announced packet of 2147483647 bytes", 0, FAKE_OK);
}

static void vici_request__foreign_event__ebadmsg(void **state)
{
	(void)state;
	run_fake(WRONG_EVENT, count_events, -EBADMSG, "unexpected operation 7 (log)", 0, FAKE_OK);
}

static void vici_request__endless_stream__bounded_by_request_timeout(void **state)
{
	long long t0 = mono_ms(), took;

	(void)state;
	/* 300 ms per packet, each event arriving well within it: only the request's own bound ends it */
	run_fake(ENDLESS, count_events, -ETIMEDOUT, "no answer in time", -1, -1);
	took = mono_ms() - t0;
	if (took > 300LL * VICI_REQUEST_SPAN + 2000)
		fail_msg("an endless event stream held the request for %lld ms", took);
}

static void vici_connect__refused_or_backlog_full__errno(void **state)
{
	char uri[128];
	struct vici_conn *c = NULL, *held[64];
	int fds = open_fds(), lfd = listen_sock(-1), n = 0, r = 0;
	long long t0;

	(void)state;
	sock_uri(uri, sizeof(uri));
	/* bound, not listening: refused */
	assert_int_equal(vici_connect(uri, 200, &c), -ECONNREFUSED);
	assert_null(c);
	/* listening, never accepting: once the backlog is full, connect waits and times out instead of
	 * handing back an unconnected socket */
	assert_int_equal(listen(lfd, 0), 0);
	t0 = mono_ms();
	while (n < 64 && (r = vici_connect(uri, 200, &held[n])) == 0)
		n++;
	assert_int_equal(r, -ETIMEDOUT);
	assert_true(n >= 1);
	assert_true(mono_ms() - t0 >= 150);
	for (int i = 0; i < n; i++)
		vici_close(held[i]);
	close(lfd);
	unlink(sock_path);
	assert_int_equal(open_fds(), fds);
}

/* An idle connection: quiet while charon keeps it open, -ECONNRESET once charon closed it. */
static void vici_check_idle__charon_closes__econnreset(void **state)
{
	char uri[128];
	struct vici_conn *c = NULL;
	int fds = open_fds(), lfd = listen_sock(4), afd;

	(void)state;
	sock_uri(uri, sizeof(uri));
	assert_int_equal(vici_connect(uri, 500, &c), 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_true(vici_fd(c) >= 0);
	assert_int_equal(vici_check_idle(c), 0);
	assert_int_equal(vici_check_idle(c), 0); /* never consumes, never blocks */
	close(afd);
	assert_int_equal(vici_check_idle(c), -ECONNRESET);
	vici_close(c);
	close(lfd);
	unlink(sock_path);
	assert_int_equal(open_fds(), fds);
}

/* The twin: bytes nobody asked for put the stream out of step: -EBADMSG, the connection unusable. */
static void vici_check_idle__unsolicited_bytes__ebadmsg(void **state)
{
	char uri[128], err[256];
	struct vici_conn *c = NULL;
	struct vici_msg resp;
	int lfd = listen_sock(4), afd;

	(void)state;
	sock_uri(uri, sizeof(uri));
	assert_int_equal(vici_connect(uri, 500, &c), 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(write(afd, "\0", 1), 1);
	assert_int_equal(vici_check_idle(c), -EBADMSG);
	assert_int_equal(vici_request(c, "version", NULL, NULL, NULL, NULL, &resp, err, sizeof(err)), -ENOTCONN);
	vici_close(c);
	close(afd);
	close(lfd);
	unlink(sock_path);
}

/* A silent charon and a readable abort fd (SIGTERM): the request ends at once with -EINTR, not after its timeout. */
static void vici_request__abort_fd_readable__eintr_at_once(void **state)
{
	char uri[128], err[256] = "";
	struct vici_conn *c = NULL;
	struct vici_msg resp;
	int lfd = listen_sock(4), afd, p[2];
	long long t0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	sock_uri(uri, sizeof(uri));
	assert_int_equal(vici_connect(uri, 5000, &c), 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	vici_set_abort_fd(c, p[0]);
	assert_int_equal(write(p[1], "x", 1), 1);
	t0 = mono_ms();
	assert_int_equal(vici_request(c, "version", NULL, NULL, NULL, NULL, &resp, err, sizeof(err)), -EINTR);
	assert_true(mono_ms() - t0 < 1000);
	assert_non_null(strstr(err, "interrupted"));
	vici_close(c);
	/* the twin: without an abort fd the silent charon costs the timeout */
	assert_int_equal(vici_connect(uri, 200, &c), 0);
	t0 = mono_ms();
	assert_int_equal(vici_request(c, "version", NULL, NULL, NULL, NULL, &resp, err, sizeof(err)), -ETIMEDOUT);
	assert_true(mono_ms() - t0 >= 150);
	vici_close(c);
	close(afd);
	close(lfd);
	close(p[0]);
	close(p[1]);
	unlink(sock_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vici_parse__round_trip__every_element),
		cmocka_unit_test(vici_parse__unnamed_ops__no_name),
		cmocka_unit_test(vici_parse__malformed__rejected_with_reason),
		cmocka_unit_test(vici_parse__oversized__rejected),
		cmocka_unit_test(vici_parse__too_many_elements__rejected),
		cmocka_unit_test(vici_builder__bad_input__fails_encoding),
		cmocka_unit_test(vici_connect__bad_uri_or_absent__errno),
		cmocka_unit_test(vici_connect__refused_or_backlog_full__errno),
		cmocka_unit_test(vici_request__streamed__events_then_response_then_unregister),
		cmocka_unit_test(vici_request__dribbled_bytes__reassembled),
		cmocka_unit_test(vici_request__callback_stops__ecanceled_stream_still_ends),
		cmocka_unit_test(vici_request__malformed_answer__ebadmsg),
		cmocka_unit_test(vici_request__silent_charon__etimedout),
		cmocka_unit_test(vici_request__closed_socket__error_not_sigpipe),
		cmocka_unit_test(vici_request__unknown_command__enosys_and_unregistered),
		cmocka_unit_test(vici_request__unknown_event__enosys_no_command),
		cmocka_unit_test(vici_request__announced_huge_packet__ebadmsg),
		cmocka_unit_test(vici_request__foreign_event__ebadmsg),
		cmocka_unit_test(vici_request__endless_stream__bounded_by_request_timeout),
		cmocka_unit_test(vici_check_idle__charon_closes__econnreset),
		cmocka_unit_test(vici_check_idle__unsolicited_bytes__ebadmsg),
		cmocka_unit_test(vici_request__abort_fd_readable__eintr_at_once),
	};

	/* SIGPIPE keeps its default action: a send() without MSG_NOSIGNAL would kill this test. */
	signal(SIGPIPE, SIG_DFL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
