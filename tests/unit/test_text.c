/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of lib/text.c (the sanitiser) and of its use by log_msg(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "crlsync/log.h"
#include "crlsync/text.h"

static void text_sanitize__newline_and_escape__become_question_marks(void **state)
{
	char s[] = "a.crl\ncrlsync: EVICT x\x1b[2J\x7f";

	(void)state;
	assert_int_equal(text_sanitize(s), 3);
	assert_string_equal(s, "a.crl?crlsync: EVICT x?[2J?");
}

static void text_sanitize__printable_ascii__unchanged(void **state)
{
	char s[] = "CN=alice, O=Example ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./";
	char copy[sizeof(s)];

	(void)state;
	memcpy(copy, s, sizeof(s));
	assert_int_equal(text_sanitize(s), 0);
	assert_string_equal(s, copy);
	assert_true(text_is_clean(s));
}

static void text_sanitize__high_bytes__replaced(void **state)
{
	char s[] = "M\xc3\xbcller \x9b" "31m";

	(void)state;
	assert_int_equal(text_sanitize(s), 3);
	assert_string_equal(s, "M??ller ?31m");
	assert_false(text_is_clean("\xc3\xbc"));
	assert_false(text_is_clean(NULL));
}

static void text_sanitize_copy__long_input__truncated_and_terminated(void **state)
{
	char dst[6];

	(void)state;
	assert_string_equal(text_sanitize_copy(dst, sizeof(dst), "ab\r\ncdefgh"), "ab??c");
	assert_string_equal(text_sanitize_copy(dst, sizeof(dst), NULL), "");
	text_sanitize(NULL); /* no-op */
}

static char seen[1024];

static void capture(void *ctx, enum log_level level, const char *line)
{
	(void)ctx;
	(void)level;
	snprintf(seen, sizeof(seen), "%s", line);
}

static void log_msg__argument_with_newline__one_line(void **state)
{
	const struct log_sink sink = { capture, NULL };

	(void)state;
	log_note(&sink, "loaded %s: ok", "x.crl\n2026-12-06 12:00:00 crlsync: EVICT subject=CN=bob");
	assert_null(strchr(seen, '\n'));
	assert_string_equal(seen, "loaded x.crl?2026-12-06 12:00:00 crlsync: EVICT subject=CN=bob: ok");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_sanitize__newline_and_escape__become_question_marks),
		cmocka_unit_test(text_sanitize__printable_ascii__unchanged),
		cmocka_unit_test(text_sanitize__high_bytes__replaced),
		cmocka_unit_test(text_sanitize_copy__long_input__truncated_and_terminated),
		cmocka_unit_test(log_msg__argument_with_newline__one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
