/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A client of OpenVPN's management interface: connect, authenticate, `status 3`, `client-kill`. */
#ifndef CRLSYNC_PLUGIN_MGMT_H
#define CRLSYNC_PLUGIN_MGMT_H

#include <stdbool.h>
#include <stddef.h>

/* Longest reply read for one command (a `status 3` of thousands of clients fits). */
#define MGMT_REPLY_MAX (8U << 20)

/*
 * Connects to `spec` ("unix:/path" or "host:port") and waits for the banner, answering the
 * password prompt when `password` is set. The interface serves one connection at a time: when
 * another holds it, no banner comes and this fails with -EBUSY after timeout_ms. Returns the
 * connected descriptor or -errno, with `err` saying why: the connect(2) error (-EACCES: a
 * directory or the socket not accessible), -ECONNRESET when it closed before the banner
 * (`management-client-user`/`-group` refusing us), -ENOKEY when it asks for a password and none
 * is set, -EKEYREJECTED when the password is refused, -EBUSY.
 */
int mgmt_open(const char *spec, const char *password, int timeout_ms, char *err, size_t errlen);

/*
 * Sends `cmd` and reads its reply: up to a line "END" (multi-line replies such as `status 3`) or
 * a line starting "SUCCESS:" or "ERROR:". Real-time notifications (">...") are skipped. Returns 0
 * with *reply (caller frees) or -errno.
 */
int mgmt_command(int fd, const char *cmd, int timeout_ms, char **reply);

/* One CLIENT_LIST row of a `status 3` reply. The strings point into its struct mgmt_status. */
struct mgmt_row {
	const char *cn;     /* Common Name: OpenVPN's common_name of the session */
	const char *real;   /* Real Address: "ip:port" (IPv4, v4-mapped), a bare IPv6 address (2.6) */
	const char *vaddr;  /* Virtual Address, Virtual IPv6 Address: "" when none */
	const char *vaddr6;
	long long since;    /* Connected Since (time_t), -1 when absent */
	unsigned long cid;  /* Client ID */
};

struct mgmt_status {
	char *text; /* the reply, split in place */
	struct mgmt_row *rows;
	size_t n;
};

/*
 * Parses the CLIENT_LIST rows of a `status 3` reply, locating the columns by the HEADER line
 * (they shift between versions). Rows without a numeric Client ID are left out. A parser of
 * untrusted text: bounded, never trusts column counts. Returns 0 (st filled, free it with
 * mgmt_status_clear()), -EBADMSG without a usable HEADER, or -ENOMEM.
 */
int mgmt_status_parse(const char *reply, struct mgmt_status *st);

/* Frees what mgmt_status_parse() allocated; a zeroed st is a no-op. */
void mgmt_status_clear(struct mgmt_status *st);

/*
 * A session the plugin tracks, as OpenVPN described it at CLIENT_CONNECT (or TLS_VERIFY while it
 * is not connected yet). Empty strings and since < 0 mean unknown.
 */
struct mgmt_session {
	const char *cn;            /* common_name: the value `status 3` shows */
	const char *ip, *port;     /* real address (trusted_ip or trusted_ip6, trusted_port) */
	const char *vaddr, *vaddr6; /* ifconfig_pool_remote_ip, ifconfig_pool_remote_ip6 */
	long long since;           /* time_unix: `status 3`'s Connected Since (time_t) */
	bool victim;               /* to be killed */
	bool killed;               /* client-kill already sent for row cid `killed_cid` */
	unsigned long killed_cid;
};

enum mgmt_match {
	MGMT_MATCH_GONE,      /* no row can be this session: it left (or is not listed yet) */
	MGMT_MATCH_ROW,       /* this row, and no other client's */
	MGMT_MATCH_WAIT,      /* its rows are taken by other victims that cannot be told apart: later */
	MGMT_MATCH_AMBIGUOUS, /* a row it fits fits another client (or an unknown one) as well */
};

/*
 * How well row r fits session s: 0 when it cannot be s (another Common Name, connection time or
 * virtual address), otherwise higher the more it agrees (connection time, virtual addresses,
 * real address with its port, a bare IPv6 real address).
 */
unsigned mgmt_row_fit(const struct mgmt_row *r, const struct mgmt_session *s);

/*
 * Which row of st each victim among the n sessions is. A row is a victim's only when the victim
 * fits it best, no session that is not a victim fits it as well, and there are no more such rows
 * than victims indistinguishable from each other (duplicate-cn: each session of a revoked
 * certificate gets its own row). match[i] is MGMT_MATCH_* and row[i] the row for
 * MGMT_MATCH_ROW; entries of non-victims are left alone. Returns 0 or -ENOMEM.
 */
int mgmt_status_match(const struct mgmt_status *st, const struct mgmt_session *s, size_t n,
		      enum mgmt_match *match, size_t *row);

#endif
