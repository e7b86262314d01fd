/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the config parser: any bytes give a valid cfg or one error line, never a crash or leak. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crlsync/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CFG_NAME_MAX)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* What cfg_parse_buffer() promises on success; a broken promise is a crash for the fuzzer. */
static void check_cfg(const struct cfg *cfg)
{
	if (!cfg->path || !cfg->cache_dir || cfg->cache_dir[0] != '/' || cfg->grace < 0)
		__builtin_trap();
	if (cfg->missing != CFG_REJECT && cfg->missing != CFG_ACCEPT)
		__builtin_trap();
	if (cfg->expired != CFG_REJECT && cfg->expired != CFG_ACCEPT)
		__builtin_trap();
	if ((cfg->n_sources == 0) != (cfg->sources == NULL))
		__builtin_trap();
	for (size_t i = 0; i < cfg->n_sources; i++) {
		const struct cfg_source *src = &cfg->sources[i];

		if (!name_ok(src->name) || !src->ca_path || src->ca || src->line < 1)
			__builtin_trap();
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg->sources[j].name, src->name) == 0)
				__builtin_trap();
		}
		for (size_t j = 0; j < src->n_urls; j++) {
			if (!strstr(src->urls[j], "://"))
				__builtin_trap();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg *cfg = NULL;
	char err[256];

	err[0] = '\0';
	/* load_cas false: a fuzzer must not open files named by its input */
	if (cfg_parse_buffer("fuzz.conf", (const char *)data, size, false, &cfg, err, sizeof(err))) {
		if (!cfg)
			__builtin_trap();
		check_cfg(cfg);
	} else {
		/* exactly one line, naming the input */
		if (cfg || strncmp(err, "fuzz.conf", 9) != 0 || strchr(err, '\n'))
			__builtin_trap();
	}
	cfg_free(cfg);
	return 0;
}
