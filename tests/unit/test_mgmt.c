/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the management interface client (plugin/mgmt.c): the status parser and the busy/absent cases. */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
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

static struct mgmt_status parsed(const char *text)
{
	struct mgmt_status st;

	assert_int_equal(mgmt_status_parse(text, &st), 0);
	return st;
}

/* A session as CLIENT_CONNECT's environment describes it. */
static struct mgmt_session ses(const char *cn, const char *ip, const char *port, const char *vaddr, long long since,
			       bool victim)
{
	return (struct mgmt_session){ .cn = cn, .ip = ip, .port = port, .vaddr = vaddr, .vaddr6 = "", .since = since,
				      .victim = victim };
}

static void mgmt_status_parse__openvpn_2_6__rows_by_header(void **state)
{
	struct mgmt_status st = parsed(status3);

	(void)state;
	assert_int_equal(st.n, 2);
	assert_string_equal(st.rows[0].cn, "alice");
	assert_string_equal(st.rows[0].real, "127.0.0.1:40001");
	assert_string_equal(st.rows[0].vaddr, "10.8.0.2");
	assert_string_equal(st.rows[0].vaddr6, "");
	assert_int_equal(st.rows[0].since, 1795780800);
	assert_int_equal(st.rows[0].cid, 4);
	assert_int_equal(st.rows[1].cid, 17);
	mgmt_status_clear(&st);
	mgmt_status_clear(&st); /* cleared: a no-op */
}

static void mgmt_status_parse__no_header__bad_message(void **state)
{
	struct mgmt_status st;

	(void)state;
	/* Without the HEADER line the columns are unknown: nothing is guessed. */
	assert_int_equal(mgmt_status_parse(strstr(status3, "CLIENT_LIST\talice"), &st), -EBADMSG);
	assert_int_equal(mgmt_status_parse("", &st), -EBADMSG);
	assert_int_equal(mgmt_status_parse(NULL, &st), -EBADMSG);
	assert_int_equal(mgmt_status_parse("ERROR: unknown command\r\n", &st), -EBADMSG);
	/* A header with no clients is a valid, empty list. */
	assert_int_equal(mgmt_status_parse("HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tClient ID\nEND\n", &st), 0);
	assert_int_equal(st.n, 0);
	mgmt_status_clear(&st);
}

static void mgmt_status_parse__bad_client_id__row_left_out(void **state)
{
	static const char text[] = "HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tClient ID\tConnected Since (time_t)\n"
				   "CLIENT_LIST\tx\t127.0.0.1:1\tabc\t5\n"
				   "CLIENT_LIST\ty\t127.0.0.1:2\n"
				   "CLIENT_LIST\tz\t127.0.0.1:3\t-1\t5\n"
				   "CLIENT_LIST\tw\t127.0.0.1:4\t99999999999999999999999\t5\n"
				   "CLIENT_LIST\tv\t127.0.0.1:5\t7\tnot-a-time\n";
	struct mgmt_status st = parsed(text);

	(void)state;
	assert_int_equal(st.n, 1); /* only v: short row, negative and oversized ids are not killable */
	assert_string_equal(st.rows[0].cn, "v");
	assert_int_equal(st.rows[0].since, -1);
	mgmt_status_clear(&st);
}

/* What OpenVPN 2.6.14 printed (proto udp6, server on ::1, duplicate-cn): IPv6 peers without a port. */
static const char status3_udp6[] =
	"TITLE\tOpenVPN 2.6.14 x86_64-pc-linux-gnu\r\n"
	"TIME\t2026-12-06 20:19:06\t1796588346\r\n"
	"HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tVirtual Address\tVirtual IPv6 Address\tBytes Received\t"
	"Bytes Sent\tConnected Since\tConnected Since (time_t)\tUsername\tClient ID\tPeer ID\tData Channel Cipher\r\n"
	"CLIENT_LIST\tbob\t::1\t10.199.7.3\t\t4276\t4538\t2026-12-06 20:19:02\t1796588342\tUNDEF\t1\t1\tAES-256-GCM\r\n"
	"CLIENT_LIST\talice\t::1\t10.199.7.2\t\t4358\t4578\t2026-12-06 20:19:00\t1796588340\tUNDEF\t0\t0\tAES-256-GCM\r\n"
	"CLIENT_LIST\tbob\t::1\t10.199.7.4\t\t4196\t4386\t2026-12-06 20:19:03\t1796588343\tUNDEF\t2\t2\tAES-256-GCM\r\n"
	"HEADER\tROUTING_TABLE\tVirtual Address\tCommon Name\tReal Address\tLast Ref\tLast Ref (time_t)\r\n"
	"ROUTING_TABLE\t10.199.7.4\tbob\t::1\t2026-12-06 20:19:03\t1796588343\r\n"
	"END\r\n";

static void mgmt_status_match__ipv4_two_clients_same_host__own_rows(void **state)
{
	struct mgmt_status st = parsed(status3);
	struct mgmt_session s[] = {
		ses("alice", "127.0.0.1", "40001", "10.8.0.2", 1795780800, false),
		ses("bob", "127.0.0.1", "40002", "10.8.0.3", 1795780800, true),
	};
	enum mgmt_match m[2];
	size_t row[2];

	(void)state;
	assert_int_equal(mgmt_status_match(&st, s, 2, m, row), 0);
	assert_int_equal(m[1], MGMT_MATCH_ROW);
	assert_int_equal(st.rows[row[1]].cid, 17);
	/* The twin: alice is the victim. */
	s[0].victim = true;
	s[1].victim = false;
	assert_int_equal(mgmt_status_match(&st, s, 2, m, row), 0);
	assert_int_equal(m[0], MGMT_MATCH_ROW);
	assert_int_equal(st.rows[row[0]].cid, 4);
	mgmt_status_clear(&st);
}

static void mgmt_status_match__ipv6_same_host__own_row_not_the_first(void **state)
{
	struct mgmt_status st = parsed(status3_udp6);
	/* The case: alice is revoked; the first row with Real Address ::1 is bob's. */
	struct mgmt_session s[] = {
		ses("alice", "::1", "32850", "10.199.7.2", 1796588340, true),
		ses("bob", "::1", "32859", "10.199.7.3", 1796588342, false),
		ses("bob", "::1", "32870", "10.199.7.4", 1796588343, false),
	};
	enum mgmt_match m[3];
	size_t row[3];

	(void)state;
	assert_int_equal(mgmt_status_match(&st, s, 3, m, row), 0);
	assert_int_equal(m[0], MGMT_MATCH_ROW);
	assert_int_equal(st.rows[row[0]].cid, 0);
	assert_string_equal(st.rows[row[0]].cn, "alice");
	mgmt_status_clear(&st);
}

static void mgmt_row_fit__address_forms__same_peer(void **state)
{
	struct mgmt_row v4 = { .cn = "a", .real = "127.0.0.1:40001", .vaddr = "", .vaddr6 = "", .since = -1 };
	struct mgmt_row v6 = { .cn = "a", .real = "::1", .vaddr = "", .vaddr6 = "", .since = -1 };
	struct mgmt_row v6b = { .cn = "a", .real = "[0:0:0:0:0:0:0:1]:40001", .vaddr = "", .vaddr6 = "", .since = -1 };
	struct mgmt_session mapped = ses("a", "::ffff:127.0.0.1", "40001", "", -1, true);
	struct mgmt_session six = ses("a", "0::1", "40001", "", -1, true);
	struct mgmt_session other = ses("a", "::2", "40001", "", -1, true);
	unsigned cn_only = mgmt_row_fit(&v4, &other);

	(void)state;
	/* An IPv4-mapped peer is the IPv4 row, port included; "::1" and "0::1" are one address. */
	assert_true(mgmt_row_fit(&v4, &mapped) > cn_only);
	assert_true(mgmt_row_fit(&v6, &six) > cn_only);
	assert_true(mgmt_row_fit(&v6b, &six) > mgmt_row_fit(&v6, &six)); /* with its port: better still */
	/* The twins: another address, another port, only the Common Name agrees. */
	assert_int_equal(mgmt_row_fit(&v6, &other), cn_only);
	mapped.port = "40002";
	assert_int_equal(mgmt_row_fit(&v4, &mapped), cn_only);
	assert_int_equal(mgmt_row_fit(&v6, &mapped), cn_only);
}

static void mgmt_row_fit__other_cn__never(void **state)
{
	struct mgmt_row r = { .cn = "alice", .real = "::1", .vaddr = "10.8.0.2", .vaddr6 = "", .since = 5, .cid = 3 };
	struct mgmt_session bob = ses("bob", "::1", "1", "10.8.0.2", 5, true);
	struct mgmt_session alice = ses("alice", "::1", "1", "10.8.0.2", 5, true);

	(void)state;
	/* Same address, connection time and virtual address: still another certificate's row. */
	assert_int_equal(mgmt_row_fit(&r, &bob), 0);
	assert_true(mgmt_row_fit(&r, &alice) > 0);
	bob.cn = "";
	assert_int_equal(mgmt_row_fit(&r, &bob), 0);
	/* Another connection time or virtual address: another session of that name. */
	alice.since = 6;
	assert_int_equal(mgmt_row_fit(&r, &alice), 0);
	alice.since = 5;
	alice.vaddr = "10.8.0.9";
	assert_int_equal(mgmt_row_fit(&r, &alice), 0);
}

static void mgmt_status_match__cn_mismatch__gone_not_killed(void **state)
{
	/* Only alice is listed, at bob's old address: bob's row is gone, alice's is not his. */
	struct mgmt_status st = parsed(status3_udp6);
	struct mgmt_session s[] = { ses("carol", "::1", "32859", "10.199.7.3", 1796588342, true) };
	enum mgmt_match m[1];
	size_t row[1];

	(void)state;
	assert_int_equal(mgmt_status_match(&st, s, 1, m, row), 0);
	assert_int_equal(m[0], MGMT_MATCH_GONE);
	mgmt_status_clear(&st);
}

static void mgmt_status_match__floated__found_by_connect_keys(void **state)
{
	struct mgmt_status st = parsed(status3);
	/* bob connected from 192.0.2.7:5000 and floated to 127.0.0.1:40002. */
	struct mgmt_session s[] = {
		ses("alice", "127.0.0.1", "40001", "10.8.0.2", 1795780800, false),
		ses("bob", "192.0.2.7", "5000", "10.8.0.3", 1795780800, true),
	};
	enum mgmt_match m[2];
	size_t row[2];

	(void)state;
	assert_int_equal(mgmt_status_match(&st, s, 2, m, row), 0);
	assert_int_equal(m[1], MGMT_MATCH_ROW);
	assert_int_equal(st.rows[row[1]].cid, 17);
	mgmt_status_clear(&st);
}

static void mgmt_status_match__cn_only_unique__found(void **state)
{
	struct mgmt_status st = parsed(status3);
	/* Nothing but the Common Name is known (no time_unix, no pool, another address). */
	struct mgmt_session s[] = { ses("bob", "192.0.2.7", "5000", "", -1, true) };
	enum mgmt_match m[1];
	size_t row[1];

	(void)state;
	assert_int_equal(mgmt_status_match(&st, s, 1, m, row), 0);
	assert_int_equal(m[0], MGMT_MATCH_ROW);
	assert_int_equal(st.rows[row[0]].cid, 17);
	mgmt_status_clear(&st);
}

static void mgmt_status_match__cn_only_ambiguous__not_killed(void **state)
{
	struct mgmt_status st = parsed(status3_udp6);
	/* Two bob rows, the plugin knows only one bob and nothing but his name and host. */
	struct mgmt_session s[] = { ses("bob", "::1", "5000", "", -1, true) };
	enum mgmt_match m[1];
	size_t row[1];

	(void)state;
	assert_int_equal(mgmt_status_match(&st, s, 1, m, row), 0);
	assert_int_equal(m[0], MGMT_MATCH_AMBIGUOUS);
	mgmt_status_clear(&st);
}

static void mgmt_status_match__duplicate_cn_same_cert__every_session(void **state)
{
	struct mgmt_status st = parsed(status3_udp6);
	struct mgmt_session s[] = {
		ses("alice", "::1", "32850", "10.199.7.2", 1796588340, false),
		ses("bob", "::1", "32870", "10.199.7.4", 1796588343, true),
		ses("bob", "::1", "32859", "10.199.7.3", 1796588342, true),
	};
	enum mgmt_match m[3];
	size_t row[3];

	(void)state;
	assert_int_equal(mgmt_status_match(&st, s, 3, m, row), 0);
	assert_int_equal(m[1], MGMT_MATCH_ROW);
	assert_int_equal(m[2], MGMT_MATCH_ROW);
	assert_int_equal(st.rows[row[1]].cid, 2);
	assert_int_equal(st.rows[row[2]].cid, 1);
	/* Indistinguishable sessions (no keys), all of them victims: each still gets a row of its own. */
	s[1] = ses("bob", "::1", "1", "", -1, true);
	s[2] = ses("bob", "::1", "2", "", -1, true);
	assert_int_equal(mgmt_status_match(&st, s, 3, m, row), 0);
	assert_int_equal(m[1], MGMT_MATCH_ROW);
	assert_int_equal(m[2], MGMT_MATCH_ROW);
	assert_true(row[1] != row[2]);
	assert_string_equal(st.rows[row[1]].cn, "bob");
	assert_string_equal(st.rows[row[2]].cn, "bob");
	mgmt_status_clear(&st);
}

static void mgmt_status_match__duplicate_cn_innocent_twin__spared(void **state)
{
	struct mgmt_status st = parsed(status3_udp6);
	/* Two certificates named bob (duplicate-cn): only the first is revoked. */
	struct mgmt_session s[] = {
		ses("bob", "::1", "32859", "10.199.7.3", 1796588342, true),
		ses("bob", "::1", "32870", "10.199.7.4", 1796588343, false),
	};
	enum mgmt_match m[2];
	size_t row[2];

	(void)state;
	assert_int_equal(mgmt_status_match(&st, s, 2, m, row), 0);
	assert_int_equal(m[0], MGMT_MATCH_ROW);
	assert_int_equal(st.rows[row[0]].cid, 1);
	/* The twin: nothing tells them apart, so neither row is killed. */
	s[0] = ses("bob", "::1", "1", "", -1, true);
	s[1] = ses("bob", "::1", "2", "", -1, false);
	assert_int_equal(mgmt_status_match(&st, s, 2, m, row), 0);
	assert_int_equal(m[0], MGMT_MATCH_AMBIGUOUS);
	mgmt_status_clear(&st);
}

static void mgmt_status_match__duplicate_cn_two_victims_and_twin__victims_only(void **state)
{
	/* duplicate-cn over udp6: the revoked certificate twice, another bob and alice, all at ::1. */
	static const char text[] =
		"HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tVirtual Address\tVirtual IPv6 Address\t"
		"Connected Since (time_t)\tClient ID\n"
		"CLIENT_LIST\tbob\t::1\t10.1.1.2\t\t100\t0\n"
		"CLIENT_LIST\tbob\t::1\t10.1.1.3\t\t100\t1\n"
		"CLIENT_LIST\tbob\t::1\t10.1.1.4\t\t100\t2\n"
		"CLIENT_LIST\talice\t::1\t10.1.1.5\t\t100\t3\n"
		"END\n";
	struct mgmt_status st = parsed(text);
	struct mgmt_session s[] = {
		ses("alice", "::1", "4", "10.1.1.5", 100, false),
		ses("bob", "::1", "3", "10.1.1.4", 100, false),
		ses("bob", "::1", "2", "10.1.1.3", 100, true),
		ses("bob", "::1", "1", "10.1.1.2", 100, true),
	};
	enum mgmt_match m[4];
	size_t row[4];

	(void)state;
	assert_int_equal(mgmt_status_match(&st, s, 4, m, row), 0);
	assert_int_equal(m[2], MGMT_MATCH_ROW);
	assert_int_equal(st.rows[row[2]].cid, 1);
	assert_int_equal(m[3], MGMT_MATCH_ROW);
	assert_int_equal(st.rows[row[3]].cid, 0);
	mgmt_status_clear(&st);
}

static void mgmt_status_match__killed_row_still_listed__same_row(void **state)
{
	struct mgmt_status st = parsed(status3_udp6);
	struct mgmt_session s[] = { ses("bob", "::1", "1", "", -1, true), ses("bob", "::1", "2", "", -1, true) };
	enum mgmt_match m[2];
	size_t row[2];

	(void)state;
	/* Killed earlier in the row of cid 2, which OpenVPN still lists: that row stays the victim's. */
	s[1].killed = true;
	s[1].killed_cid = 2;
	assert_int_equal(mgmt_status_match(&st, s, 2, m, row), 0);
	assert_int_equal(m[1], MGMT_MATCH_ROW);
	assert_int_equal(st.rows[row[1]].cid, 2);
	assert_int_equal(m[0], MGMT_MATCH_ROW);
	assert_int_equal(st.rows[row[0]].cid, 1);
	mgmt_status_clear(&st);
}

static void mgmt_status_match__row_gone__gone(void **state)
{
	static const char empty[] = "HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tVirtual Address\tClient ID\n"
				    "CLIENT_LIST\talice\t::1\t10.8.0.2\t0\nEND\n";
	struct mgmt_status st = parsed(empty);
	struct mgmt_session s[] = { ses("bob", "::1", "1", "10.8.0.3", 7, true) };
	enum mgmt_match m[1];
	size_t row[1];

	(void)state;
	assert_int_equal(mgmt_status_match(&st, s, 1, m, row), 0);
	assert_int_equal(m[0], MGMT_MATCH_GONE);
	mgmt_status_clear(&st);
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
		cmocka_unit_test(mgmt_status_parse__openvpn_2_6__rows_by_header),
		cmocka_unit_test(mgmt_status_parse__no_header__bad_message),
		cmocka_unit_test(mgmt_status_parse__bad_client_id__row_left_out),
		cmocka_unit_test(mgmt_status_match__ipv4_two_clients_same_host__own_rows),
		cmocka_unit_test(mgmt_status_match__ipv6_same_host__own_row_not_the_first),
		cmocka_unit_test(mgmt_row_fit__address_forms__same_peer),
		cmocka_unit_test(mgmt_row_fit__other_cn__never),
		cmocka_unit_test(mgmt_status_match__cn_mismatch__gone_not_killed),
		cmocka_unit_test(mgmt_status_match__floated__found_by_connect_keys),
		cmocka_unit_test(mgmt_status_match__cn_only_unique__found),
		cmocka_unit_test(mgmt_status_match__cn_only_ambiguous__not_killed),
		cmocka_unit_test(mgmt_status_match__duplicate_cn_same_cert__every_session),
		cmocka_unit_test(mgmt_status_match__duplicate_cn_innocent_twin__spared),
		cmocka_unit_test(mgmt_status_match__duplicate_cn_two_victims_and_twin__victims_only),
		cmocka_unit_test(mgmt_status_match__killed_row_still_listed__same_row),
		cmocka_unit_test(mgmt_status_match__row_gone__gone),
		cmocka_unit_test(mgmt_open__nothing_listens__error),
		cmocka_unit_test(mgmt_open__listener_never_answers__busy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
