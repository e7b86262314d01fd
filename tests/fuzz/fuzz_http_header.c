/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the fetcher's header parser and URL masker: response headers and URLs are untrusted input. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "download.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What dl_parse_header() promises about a kept validator: safe to send back in a request header. */
static void check_validator(const char *v)
{
	size_t n;

	if (!v)
		return;
	n = strlen(v);
	if (n == 0 || n > DL_HEADER_MAX || v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t')
		__builtin_trap();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			__builtin_trap();
	}
}

/* dl_mask_url(): never NULL for a string, idempotent, and a URL without '@' comes back unchanged. */
static void check_mask(const char *url)
{
	char *once = dl_mask_url(url), *twice;

	if (!once)
		__builtin_trap();
	if (!strchr(url, '@') && strcmp(once, url) != 0)
		__builtin_trap();
	if (strlen(once) > strlen(url) + 3)
		__builtin_trap();
	twice = dl_mask_url(once);
	if (!twice || strcmp(once, twice) != 0)
		__builtin_trap();
	free(twice);
	free(once);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *etag = NULL, *lm = NULL, *url;

	/* the input as a header block, one line at a time with its "\n", as libcurl hands them */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		char *before_etag = etag, *before_lm = lm;

		if (!dl_parse_header(p, len, &etag, &lm) && (etag != before_etag || lm != before_lm))
			__builtin_trap(); /* a rejected line must not touch the outputs */
		check_validator(etag);
		check_validator(lm);
		p += len;
	}
	free(etag);
	free(lm);

	/* and as a URL, up to its first NUL */
	url = strndup((const char *)data, size);
	if (!url)
		return 0;
	check_mask(url);
	free(url);
	return 0;
}
