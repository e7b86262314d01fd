/* SPDX-License-Identifier: GPL-2.0-only */
/* Unit tests of the fetcher's vici client: encoding round trips, every malformed packet refused, a fake charon. */
#include <errno.h>
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

static int listen_sock(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *tmp = getenv("CRLSYNC_TEST_TMP");
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sock_path, sizeof(sock_path), "%s/vici-%ld.sock", tmp ? tmp : "/tmp", (long)getpid());
	unlink(sock_path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void send_raw(int fd, const unsigned char *body, size_t len)
{
	unsigned char hdr[4] = { (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
				 (unsigned char)len };

	if (write(fd, hdr, 4) != 4 || write(fd, body, len) != (ssize_t)len)
		_exit(2);
}

static void read_packet(int fd)
{
	unsigned char hdr[4], buf[4096];
	size_t len;

	if (read(fd, hdr, 4) != 4)
		_exit(3);
	len = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
	while (len > 0) {
		ssize_t r = read(fd, buf, len < sizeof(buf) ? len : sizeof(buf));

		if (r <= 0)
			_exit(4);
		len -= (size_t)r;
	}
}

/* mode 0: a good stream (confirm, 2 events, response, confirm); 1: garbage answer; 2: silence. */
static pid_t fake_charon(int lfd, int mode)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		static const unsigned char confirm[] = { VICI_EVENT_CONFIRM };
		static const unsigned char event[] = { VICI_EVENT, 9, 'l', 'i', 's', 't', '-', 'c', 'e', 'r', 't',
						       VICI_KEY_VALUE, 4, 't', 'y', 'p', 'e', 0, 8, 'X', '5', '0', '9',
						       '_', 'C', 'R', 'L' };
		static const unsigned char resp[] = { VICI_CMD_RESPONSE, VICI_KEY_VALUE, 7, 's', 'u', 'c', 'c', 'e',
						      's', 's', 0, 3, 'y', 'e', 's' };
		static const unsigned char bad[] = { VICI_CMD_RESPONSE, VICI_SECTION_END };
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			_exit(1);
		if (mode == 2) {
			sleep(5);
			_exit(0);
		}
		read_packet(fd); /* register */
		send_raw(fd, confirm, sizeof(confirm));
		read_packet(fd); /* request */
		if (mode == 1) {
			send_raw(fd, bad, sizeof(bad));
			_exit(0);
		}
		send_raw(fd, event, sizeof(event));
		send_raw(fd, event, sizeof(event));
		send_raw(fd, resp, sizeof(resp));
		read_packet(fd); /* unregister */
		send_raw(fd, confirm, sizeof(confirm));
		_exit(0);
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

static void run_fake(int mode, int want_r, const char *want_err, int want_events)
{
	char uri[128], err[256] = "", ok[8];
	struct vici_conn *c = NULL;
	struct vici_msg resp;
	int lfd = listen_sock(), events = 0, st;
	pid_t pid = fake_charon(lfd, mode);

	snprintf(uri, sizeof(uri), "unix://%s", sock_path);
	assert_int_equal(vici_connect(uri, 300, &c), 0);
	assert_int_equal(vici_request(c, "list-certs", NULL, "list-cert", count_events, &events, &resp, err, sizeof(err)),
			 want_r);
	assert_int_equal(events, want_events);
	if (want_r == 0) {
		assert_true(vici_msg_get_str(&resp, "success", ok, sizeof(ok)));
		assert_string_equal(ok, "yes");
	} else if (strstr(err, want_err) == NULL) {
		fail_msg("error `%s' lacks `%s'", err, want_err);
	}
	vici_msg_clear(&resp);
	vici_close(c);
	if (mode == 2)
		kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(lfd);
	unlink(sock_path);
}

static void vici_request__streamed__events_then_response(void **state)
{
	(void)state;
	run_fake(0, 0, "", 2);
}

static void vici_request__malformed_answer__ebadmsg(void **state)
{
	(void)state;
	run_fake(1, -EBADMSG, "section end without a section", 0);
}

static void vici_request__silent_charon__etimedout(void **state)
{
	(void)state;
	run_fake(2, -ETIMEDOUT, "no answer in time", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vici_parse__round_trip__every_element),
		cmocka_unit_test(vici_parse__unnamed_ops__no_name),
		cmocka_unit_test(vici_parse__malformed__rejected_with_reason),
		cmocka_unit_test(vici_parse__oversized__rejected),
		cmocka_unit_test(vici_builder__bad_input__fails_encoding),
		cmocka_unit_test(vici_connect__bad_uri_or_absent__errno),
		cmocka_unit_test(vici_request__streamed__events_then_response),
		cmocka_unit_test(vici_request__malformed_answer__ebadmsg),
		cmocka_unit_test(vici_request__silent_charon__etimedout),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
