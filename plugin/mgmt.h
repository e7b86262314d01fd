/* SPDX-License-Identifier: GPL-2.0-only */
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
 * connected descriptor or -errno, with `err` saying why.
 */
int mgmt_open(const char *spec, const char *password, int timeout_ms, char *err, size_t errlen);

/*
 * Sends `cmd` and reads its reply: up to a line "END" (multi-line replies such as `status 3`) or
 * a line starting "SUCCESS:" or "ERROR:". Real-time notifications (">...") are skipped. Returns 0
 * with *reply (caller frees) or -errno.
 */
int mgmt_command(int fd, const char *cmd, int timeout_ms, char **reply);

/*
 * Finds, in a `status 3` reply, the client whose Real Address is `addr` ("ip:port"), using the
 * HEADER line to locate the columns. Returns true and sets *cid (and copies the common name into
 * cn when non-NULL). A parser of untrusted text: bounded, never trusts column counts.
 */
bool mgmt_status_find(const char *reply, const char *addr, unsigned long *cid, char *cn, size_t cnlen);

/*
 * The client whose Common Name is `cn`, when exactly one listed client has it (more than one, e.g.
 * with duplicate-cn, is ambiguous: false). For clients whose address OpenVPN shows differently.
 */
bool mgmt_status_find_unique_cn(const char *reply, const char *cn, unsigned long *cid);

#endif
