/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of lib/log.c's journal helpers: when stderr is systemd's journal, and the sd-daemon prefixes. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "crlsync/log.h"

/* Points fd 2 at a fresh temporary file for the test; returns the saved fd 2. */
static int stderr_to_tmpfile(struct stat *st)
{
	char path[] = "/tmp/crlsync-test-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);

	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	assert_int_equal(fstat(STDERR_FILENO, st), 0);
	return saved;
}

static void stderr_restore(int saved)
{
	dup2(saved, STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
}

static void log_stderr_is_journal__matching_stream__true(void **state)
{
	struct stat st;
	char env[64];
	int saved = stderr_to_tmpfile(&st);
	bool r;

	(void)state;
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	r = log_stderr_is_journal();
	stderr_restore(saved);
	assert_true(r);
}

static void log_stderr_is_journal__redirected_since__false(void **state)
{
	struct stat st;
	char env[64];
	int saved = stderr_to_tmpfile(&st);
	bool r;

	(void)state;
	/* the journal's stream was another inode: stderr was redirected (e.g. 2>file in ExecStart=sh -c) */
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", env, 1);
	r = log_stderr_is_journal();
	stderr_restore(saved);
	assert_false(r);
}

static void log_stderr_is_journal__unset_or_garbage__false(void **state)
{
	struct stat st;
	char env[64];
	int saved = stderr_to_tmpfile(&st);
	bool unset, garbage, trailing;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	unset = log_stderr_is_journal();
	setenv("JOURNAL_STREAM", "journal", 1);
	garbage = log_stderr_is_journal();
	snprintf(env, sizeof(env), "%llu:%llux", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	trailing = log_stderr_is_journal();
	stderr_restore(saved);
	assert_false(unset);
	assert_false(garbage);
	assert_false(trailing);
}

static void log_sd_prefix__each_level__sd_daemon_priority(void **state)
{
	(void)state;
	/* sd-daemon(3): <3> SD_ERR, <4> SD_WARNING, <5> SD_NOTICE, <6> SD_INFO, <7> SD_DEBUG */
	assert_string_equal(log_sd_prefix(LOG_LVL_ERROR), "<3>");
	assert_string_equal(log_sd_prefix(LOG_LVL_WARN), "<4>");
	assert_string_equal(log_sd_prefix(LOG_LVL_NOTE), "<5>");
	assert_string_equal(log_sd_prefix(LOG_LVL_INFO), "<6>");
	assert_string_equal(log_sd_prefix(LOG_LVL_DEBUG), "<7>");
	assert_string_equal(log_sd_prefix((enum log_level)42), "<6>");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(log_stderr_is_journal__matching_stream__true),
		cmocka_unit_test(log_stderr_is_journal__redirected_since__false),
		cmocka_unit_test(log_stderr_is_journal__unset_or_garbage__false),
		cmocka_unit_test(log_sd_prefix__each_level__sd_daemon_priority),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
