/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sanitiser of untrusted text (see text.h): one rule for logs, status output and state files. */
#include "crlsync/text.h"

#include <string.h>

size_t text_sanitize(char *s)
{
	size_t n = 0;

	for (; s != NULL && *s; s++) {
		if (!text_byte_ok((unsigned char)*s)) {
			*s = '?';
			n++;
		}
	}
	return n;
}

char *text_sanitize_copy(char *dst, size_t dstlen, const char *src)
{
	size_t n;

	if (dst == NULL || dstlen == 0)
		return dst;
	if (src == NULL)
		src = "";
	n = strnlen(src, dstlen - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
	text_sanitize(dst);
	return dst;
}

bool text_is_clean(const char *s)
{
	if (s == NULL)
		return false;
	for (; *s; s++)
		if (!text_byte_ok((unsigned char)*s))
			return false;
	return true;
}
