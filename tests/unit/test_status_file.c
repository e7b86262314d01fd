/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of plugin/status_file.c: the plugin's status file (JSON, counters, atomic writes by its thread). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "crlsync/install.h"
#include "persist.h"
#include "status_file.h"

static void quiet(void *ctx, enum log_level level, const char *line)
{
	(void)ctx;
	(void)level;
	print_message("log: %s\n", line);
}

static const struct log_sink sink = { quiet, NULL };

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	if (f == NULL || buf == NULL) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void status_file_render__fields__as_documented(void **state)
{
	struct cfg cfg = { 0 };
	struct policy pol = { .missing = CFG_REJECT, .expired = CFG_ACCEPT, .grace = 60 };
	unsigned long cnt[STATUS_N_COUNTERS] = { 5, 2, 1, 3, 4 };
	char *s;

	(void)state;
	s = status_file_render(&cfg, &pol, "[]", 7, 1800000000, "Permission denied", cnt, 1800000001);
	assert_non_null(s);
	print_message("%s", s);
	assert_non_null(strstr(s, "\"schema\": 1"));
	assert_non_null(strstr(s, "\"version\": \""));
	assert_non_null(strstr(s, "\"generation\": 7"));
	assert_non_null(strstr(s, "\"policy\": {\"missing\": \"reject\", \"expired\": \"accept\", \"grace\": 60}"));
	assert_non_null(strstr(s, "\"counters\": {\"accept\": 5, \"reject\": 2, \"relaxed\": 1, \"evicted\": 3, "
				  "\"reload_failures\": 4}"));
	assert_non_null(strstr(s, "\"last_reload\": {\"time\": \"2027-01-15T08:00:00Z\", \"error\": \"Permission denied\"}"));
	assert_non_null(strstr(s, "\"written\": \"2027-01-15T08:00:01Z\""));
	free(s);
	/* its twin: no error is null, not "" */
	s = status_file_render(&cfg, &pol, "[]", 7, 1800000000, "", cnt, 1800000001);
	assert_non_null(strstr(s, "\"error\": null"));
	free(s);
}

static void status_file_render__hostile_error_text__escaped_sanitised(void **state)
{
	struct cfg cfg = { 0 };
	struct policy pol = { 0 };
	unsigned long cnt[STATUS_N_COUNTERS] = { 0 };
	char *s;

	(void)state;
	s = status_file_render(&cfg, &pol, "[]", 1, 1, "a\"b\\c\nd\x1b", cnt, 1);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"error\": \"a\\\"b\\\\c?d?\""));
	free(s);
}

static void status_count__any_thread__adds_one(void **state)
{
	unsigned long before = status_counter_get(STATUS_REJECT);

	(void)state;
	status_count(STATUS_REJECT);
	status_count(STATUS_REJECT);
	assert_int_equal(status_counter_get(STATUS_REJECT), before + 2);
	status_count(STATUS_N_COUNTERS); /* out of range: ignored */
	assert_int_equal(status_counter_get(STATUS_N_COUNTERS), 0);
}

static void status_file_open__writes_on_counter_change__within_tick(void **state)
{
	const char *tmp = getenv("CRLSYNC_TEST_TMP");
	char dir[512], path[600];
	struct cfg cfg = { 0 };
	struct policy pol = { 0 };
	struct status_file *sf = NULL;
	struct stat sb;
	char *text, want[64];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/status_file.%d", tmp ? tmp : "/tmp", (int)getpid());
	snprintf(path, sizeof(path), "%s/sub/status.json", dir);
	mkdir(dir, 0755);
	cfg.plugin.status_file = path;
	/* The directory is created when missing (as root at OpenVPN's start) */
	assert_int_equal(status_file_open(&cfg, &pol, &sink, &sf), 0);
	assert_non_null(sf);
	status_file_reloaded(sf, NULL, -EIO); /* a failed reload: written at once with its error */
	/* Up to the contract's 10 s, not the tick: under valgrind on a loaded machine a write can lag. */
	for (int i = 0; i < 100 && stat(path, &sb) != 0; i++)
		usleep(100 * 1000);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);
	text = slurp(path);
	assert_non_null(strstr(text, "Input/output error; the CRLs in force stay"));
	free(text);
	/* A counter change, and no reload: written within STATUS_FILE_TICK_S (waited for up to the contract's 10 s) */
	status_count(STATUS_ACCEPT);
	snprintf(want, sizeof(want), "\"accept\": %lu", status_counter_get(STATUS_ACCEPT));
	for (int i = 0; i < 100; i++) {
		text = slurp(path);
		if (text != NULL && strstr(text, want) != NULL)
			break;
		free(text);
		text = NULL;
		usleep(100 * 1000);
	}
	assert_non_null(text);
	free(text);
	status_file_close(sf);
	/* no temporary file left behind */
	assert_int_equal(install_cleanup(open(dir, O_RDONLY), NULL), 0);
	unlink(path);
	persist_reset();
}

static void status_file_open__not_configured__nothing(void **state)
{
	struct cfg cfg = { 0 };
	struct policy pol = { 0 };
	struct status_file *sf = (void *)1;

	(void)state;
	assert_int_equal(status_file_open(&cfg, &pol, &sink, &sf), 0);
	assert_null(sf);
	status_file_reloaded(NULL, NULL, 0);
	status_file_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status_file_render__fields__as_documented),
		cmocka_unit_test(status_file_render__hostile_error_text__escaped_sanitised),
		cmocka_unit_test(status_count__any_thread__adds_one),
		cmocka_unit_test(status_file_open__writes_on_counter_change__within_tick),
		cmocka_unit_test(status_file_open__not_configured__nothing),
	};

	return cmocka_run_group_tests_name("status_file", tests, NULL, NULL);
}
