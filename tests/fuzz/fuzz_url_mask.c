/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the fetcher's URL masker, the one URL parsing left by hand (download.c says why): URLs are untrusted input. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "download.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * dl_mask_url(): never NULL for a string, idempotent, a URL without '@' comes back unchanged, at
 * most "***@" longer, and nothing before the last '@' survives but the scheme and its slashes.
 * Response headers are no longer parsed here: libcurl does (curl_easy_header()).
 */
static void check_mask(const char *url)
{
	char *once = dl_mask_url(url), *twice;
	const char *at = strrchr(url, '@');

	if (!once)
		__builtin_trap();
	if (!at && strcmp(once, url) != 0)
		__builtin_trap();
	if (strlen(once) > strlen(url) + 3)
		__builtin_trap();
	if (at && strcmp(once + strlen(once) - strlen(at), at) != 0)
		__builtin_trap(); /* what follows the last '@' is kept as it was */
	twice = dl_mask_url(once);
	if (!twice || strcmp(once, twice) != 0)
		__builtin_trap();
	free(twice);
	free(once);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the input as a URL, up to its first NUL */
	char *url = strndup((const char *)data, size);

	if (!url)
		return 0;
	check_mask(url);
	free(url);
	return 0;
}
