/* SPDX-License-Identifier: GPL-2.0-only */
/* Unit tests of the management interface client (plugin/mgmt.c): the status parser and the busy/absent cases. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "mgmt.h"

static const char status3[] =
	"TITLE\tOpenVPN 2.6.14 x86_64-pc-linux-gnu\r\n"
	"TIME\t2026-11-27 12:00:00\t1795780800\r\n"
	"HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tVirtual Address\tVirtual IPv6 Address\tBytes Received\t"
	"Bytes Sent\tConnected Since\tConnected Since (time_t)\tUsername\tClient ID\tPeer ID\tData Channel Cipher\r\n"
	"CLIENT_LIST\talice\t127.0.0.1:40001\t10.8.0.2\t\t3456\t2345\t2026-11-27 12:00:00\t1795780800\tUNDEF\t4\t0\t"
	"AES-256-GCM\r\n"
	"CLIENT_LIST\tbob\t127.0.0.1:40002\t10.8.0.3\t\t3456\t2345\t2026-11-27 12:00:00\t1795780800\tUNDEF\t17\t1\t"
	"AES-256-GCM\r\n"
	"HEADER\tROUTING_TABLE\tVirtual Address\tCommon Name\tReal Address\tLast Ref\tLast Ref (time_t)\r\n"
	"ROUTING_TABLE\t10.8.0.3\tbob\t127.0.0.1:40002\t2026-11-27 12:00:00\t1795780800\r\n"
	"END\r\n";

static void mgmt_status_find__known_address__client_id_and_cn(void **state)
{
	unsigned long cid = 0;
	char cn[32];

	(void)state;
	assert_true(mgmt_status_find(status3, "127.0.0.1:40002", &cid, cn, sizeof(cn)));
	assert_int_equal(cid, 17);
	assert_string_equal(cn, "bob");
	assert_true(mgmt_status_find(status3, "127.0.0.1:40001", &cid, NULL, 0));
	assert_int_equal(cid, 4);
}

static void mgmt_status_find__unknown_address__not_found(void **state)
{
	unsigned long cid = 99;

	(void)state;
	assert_false(mgmt_status_find(status3, "127.0.0.1:40003", &cid, NULL, 0));
	assert_false(mgmt_status_find(status3, "127.0.0.1:4000", &cid, NULL, 0)); /* prefix only */
	assert_int_equal(cid, 99);
}

static void mgmt_status_find__no_header__not_found(void **state)
{
	unsigned long cid = 0;
	const char *p = strstr(status3, "CLIENT_LIST\talice");

	(void)state;
	/* Without the HEADER line the columns are unknown: nothing is guessed. */
	assert_false(mgmt_status_find(p, "127.0.0.1:40001", &cid, NULL, 0));
	assert_false(mgmt_status_find("", "127.0.0.1:40001", &cid, NULL, 0));
	assert_false(mgmt_status_find(NULL, "127.0.0.1:40001", &cid, NULL, 0));
}

static void mgmt_status_find__bad_client_id__not_found(void **state)
{
	static const char text[] = "HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tClient ID\n"
				   "CLIENT_LIST\tx\t127.0.0.1:1\tabc\n"
				   "CLIENT_LIST\ty\t127.0.0.1:2\n";
	unsigned long cid = 0;

	(void)state;
	assert_false(mgmt_status_find(text, "127.0.0.1:1", &cid, NULL, 0));
	assert_false(mgmt_status_find(text, "127.0.0.1:2", &cid, NULL, 0)); /* short row */
}

static void mgmt_status_find_unique_cn__one_client__found(void **state)
{
	unsigned long cid = 0;

	(void)state;
	/* A client whose address changed (float) is still found by its unique Common Name. */
	assert_true(mgmt_status_find_unique_cn(status3, "bob", &cid));
	assert_int_equal(cid, 17);
	assert_false(mgmt_status_find_unique_cn(status3, "carol", &cid));
	assert_false(mgmt_status_find_unique_cn(status3, "", &cid));
}

static void mgmt_status_find_unique_cn__duplicate_cn__ambiguous(void **state)
{
	static const char text[] = "HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tClient ID\n"
				   "CLIENT_LIST\tshared\t127.0.0.1:1\t3\n"
				   "CLIENT_LIST\tshared\t127.0.0.1:2\t4\n"
				   "CLIENT_LIST\tsolo\t127.0.0.1:3\t5\n";
	unsigned long cid = 0;

	(void)state;
	/* duplicate-cn: guessing could kill an innocent client. */
	assert_false(mgmt_status_find_unique_cn(text, "shared", &cid));
	assert_true(mgmt_status_find_unique_cn(text, "solo", &cid));
	assert_int_equal(cid, 5);
}

static void mgmt_open__nothing_listens__error(void **state)
{
	char err[256] = "", path[128];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "unix:/tmp/crlsync-test-mgmt-absent-%ld.sock", (long)getpid());
	fd = mgmt_open(path, NULL, 500, err, sizeof(err));
	assert_true(fd < 0);
	assert_int_equal(fd, -ENOENT);
	assert_non_null(strstr(err, "cannot connect"));
}

static void mgmt_open__listener_never_answers__busy(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char err[256] = "", spec[140];
	int ls, fd;

	(void)state;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/crlsync-test-mgmt-busy-%ld.sock", (long)getpid());
	unlink(sun.sun_path);
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(ls, 4), 0);
	/* Like OpenVPN serving another management client: the connection waits, no banner comes. */
	snprintf(spec, sizeof(spec), "unix:%s", sun.sun_path);
	fd = mgmt_open(spec, NULL, 300, err, sizeof(err));
	assert_int_equal(fd, -EBUSY);
	assert_non_null(strstr(err, "busy"));
	close(ls);
	unlink(sun.sun_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mgmt_status_find__known_address__client_id_and_cn),
		cmocka_unit_test(mgmt_status_find__unknown_address__not_found),
		cmocka_unit_test(mgmt_status_find__no_header__not_found),
		cmocka_unit_test(mgmt_status_find__bad_client_id__not_found),
		cmocka_unit_test(mgmt_status_find_unique_cn__one_client__found),
		cmocka_unit_test(mgmt_status_find_unique_cn__duplicate_cn__ambiguous),
		cmocka_unit_test(mgmt_open__nothing_listens__error),
		cmocka_unit_test(mgmt_open__listener_never_answers__busy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
