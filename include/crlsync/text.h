/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one sanitiser for untrusted text on its way to a log line, status output or state file. */
#ifndef CRLSYNC_TEXT_H
#define CRLSYNC_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Untrusted strings (cache-dir file names, subjects, URLs, HTTP headers, server and charon
 * messages) reach OpenVPN's log, syslog, terminals and monitoring. A newline in one would forge a
 * whole log line (`crlsync: EVICT ...`), an ESC would drive the admin's terminal. Every byte that
 * is not printable ASCII (below 0x20, 0x7f, and 0x80 and above: a lone byte of a C1 control
 * or invalid UTF-8 is no safer) becomes '?'. The length never changes, so a line can be
 * sanitised in place where it was formatted.
 */

/* Whether `c` passes unchanged. */
static inline bool text_byte_ok(unsigned char c)
{
	return c >= 0x20 && c < 0x7f;
}

/* Sanitises the NUL-terminated `s` in place; returns how many bytes were replaced. NULL is a no-op. */
size_t text_sanitize(char *s);

/*
 * Copies `src` (NULL reads as "") into dst, truncated to dstlen - 1 bytes, always NUL-terminated,
 * sanitised. Returns dst.
 */
char *text_sanitize_copy(char *dst, size_t dstlen, const char *src);

/* Whether `s` (NULL: false) would pass unchanged. */
bool text_is_clean(const char *s);

#endif
