/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the config parser and the files it names (ca, management-password): a valid cfg or one error line. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "crlsync/config.h"

/*
 * Input: CONFIG [NUL FILE]. The config is parsed as is; FILE is written to a temp file of this
 * process, and every "@F" in the config is replaced by that file's path, so that `ca = @F` and
 * `management-password = @F` reach the readers with fuzzed content. No other file is ever opened:
 * the cas are loaded only when every `ca` is @F. (A config never holds a NUL: the parser refuses it.)
 */
#define PLACEHOLDER "@F"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmp_dir[256], tmp_file[300];

static void cleanup(void)
{
	unlink(tmp_file);
	rmdir(tmp_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/fuzz_config.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmp_dir))
		abort();
	snprintf(tmp_file, sizeof(tmp_file), "%s/f", tmp_dir);
	atexit(cleanup);
	return 0;
}

static void write_tmp(const uint8_t *data, size_t len)
{
	int fd = open(tmp_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		abort();
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n <= 0)
			abort();
		data += n;
		len -= (size_t)n;
	}
	close(fd);
}

/* The config with every placeholder replaced by tmp_file; *outlen its length. Caller frees. */
static char *expand(const uint8_t *data, size_t len, size_t *outlen)
{
	size_t plen = strlen(PLACEHOLDER), flen = strlen(tmp_file), n = 0, o = 0;
	char *out;

	for (size_t i = 0; i + plen <= len; i++)
		if (memcmp(data + i, PLACEHOLDER, plen) == 0)
			n++;
	out = malloc(len + n * flen + 1);
	if (!out)
		abort();
	for (size_t i = 0; i < len;) {
		if (i + plen <= len && memcmp(data + i, PLACEHOLDER, plen) == 0) {
			memcpy(out + o, tmp_file, flen);
			o += flen;
			i += plen;
		} else {
			out[o++] = (char)data[i++];
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CFG_NAME_MAX || s[0] == '.')
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static bool url_ok(const char *u)
{
	static const char *const schemes[] = { "http://", "https://", "file://" };
	bool scheme = false;

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		scheme = scheme || strncasecmp(u, schemes[i], strlen(schemes[i])) == 0;
	for (const char *c = u; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c == 0x7f)
			return false;
	return scheme;
}

/* What cfg_parse_buffer() promises on success; a broken promise is a crash for the fuzzer. */
static void check_cfg(const struct cfg *cfg, bool cas_loaded)
{
	if (!cfg->path || !cfg->global.cache_dir || cfg->global.cache_dir[0] != '/' || cfg->plugin.grace < 0)
		__builtin_trap();
	if (cfg->plugin.missing != CFG_REJECT && cfg->plugin.missing != CFG_ACCEPT)
		__builtin_trap();
	if (cfg->plugin.expired != CFG_REJECT && cfg->plugin.expired != CFG_ACCEPT)
		__builtin_trap();
	if (cfg->global.timeout <= 0 || cfg->global.timeout > CFG_TIMEOUT_MAX)
		__builtin_trap();
	/* the parser records the password file, it never reads it */
	if (cfg->plugin.management_password ||
	    (cfg->plugin.management_password_path && cfg->plugin.management_password_path[0] != '/'))
		__builtin_trap();
	if ((cfg->n_sources == 0) != (cfg->sources == NULL))
		__builtin_trap();
	for (size_t i = 0; i < cfg->n_sources; i++) {
		const struct cfg_source *src = &cfg->sources[i];

		if (!name_ok(src->name) || !src->ca_path || (src->ca != NULL) != cas_loaded || src->line < 1)
			__builtin_trap();
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg->sources[j].name, src->name) == 0)
				__builtin_trap();
		}
		for (size_t j = 0; j < src->n_urls; j++) {
			if (!url_ok(src->urls[j]))
				__builtin_trap();
		}
	}
}

/* Exactly one line, naming the input. */
static void check_err(const char *err, const char *name)
{
	if (strncmp(err, name, strlen(name)) != 0 || strchr(err, '\n'))
		__builtin_trap();
}

static bool every_ca_is_tmp(const struct cfg *cfg)
{
	for (size_t i = 0; i < cfg->n_sources; i++)
		if (strcmp(cfg->sources[i].ca_path, tmp_file) != 0)
			return false;
	return cfg->n_sources > 0;
}

/* cfg_read_secret() on the fuzzed file: one NUL-terminated line of 1..4096 bytes, or an error naming it. */
static void check_secret(void)
{
	char err[512], *pw = NULL;
	size_t len = 0;
	int rc;

	err[0] = '\0';
	rc = cfg_read_secret(tmp_file, &pw, &len, err, sizeof(err));
	if (rc == 0) {
		if (!pw || len == 0 || len > 4096 || pw[len] != '\0' || strlen(pw) != len || strpbrk(pw, "\r\n"))
			__builtin_trap();
		cfg_secret_free(pw, len);
	} else {
		if (rc > 0 || pw || len != 0 || !strstr(err, tmp_file) || strchr(err, '\n'))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t conflen = nul ? (size_t)(nul - data) : size, len;
	struct cfg *cfg = NULL;
	char err[256], *conf;

	write_tmp(nul ? nul + 1 : data + size, nul ? size - conflen - 1 : 0);
	conf = expand(data, conflen, &len);
	err[0] = '\0';
	if (cfg_parse_buffer("fuzz.conf", conf, len, false, &cfg, err, sizeof(err))) {
		if (!cfg)
			__builtin_trap();
		check_cfg(cfg, false);
		if (cfg->plugin.management_password_path && strcmp(cfg->plugin.management_password_path, tmp_file) == 0)
			check_secret();
		if (every_ca_is_tmp(cfg)) {
			struct cfg *loaded = NULL;

			if (cfg_parse_buffer("fuzz.conf", conf, len, true, &loaded, err, sizeof(err)))
				check_cfg(loaded, true);
			else if (loaded)
				__builtin_trap();
			else
				check_err(err, "fuzz.conf");
			cfg_free(loaded);
		}
	} else {
		if (cfg)
			__builtin_trap();
		check_err(err, "fuzz.conf");
	}
	cfg_free(cfg);
	free(conf);
	return 0;
}
