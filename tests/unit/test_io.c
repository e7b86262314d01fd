/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of io.h: the monotonic clock and the deadline-bound wait the plugin and the fetcher share. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "crlsync/io.h"

static void io_now_ms__two_reads__never_backwards(void **state)
{
	long long a = io_now_ms(), b = io_now_ms();

	(void)state;
	assert_true(a > 0);
	assert_true(b >= a);
}

static void io_wait__readable__0_with_revents(void **state)
{
	int p[2];
	short revents = 0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(io_wait(p[0], POLLIN, io_now_ms() + 1000, -1, &revents), 0);
	assert_true(revents & POLLIN);
	close(p[0]);
	close(p[1]);
}

static void io_wait__nothing_to_read__etimedout_at_the_deadline(void **state)
{
	int p[2];
	long long t0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	t0 = io_now_ms();
	assert_int_equal(io_wait(p[0], POLLIN, t0 + 50, -1, NULL), -ETIMEDOUT);
	assert_true(io_now_ms() - t0 >= 50);
	assert_int_equal(io_wait(p[0], POLLIN, t0, -1, NULL), -ETIMEDOUT); /* a past deadline: at once */
	close(p[0]);
	close(p[1]);
}

static void io_wait__abort_fd_readable__eintr_and_left_unread(void **state)
{
	int p[2], a[2];
	char c;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(a), 0);
	assert_int_equal(write(a[1], "s", 1), 1);
	assert_int_equal(io_wait(p[0], POLLIN, io_now_ms() + 10000, a[0], NULL), -EINTR);
	assert_int_equal(read(a[0], &c, 1), 1); /* still there for the caller */
	close(p[0]);
	close(p[1]);
	close(a[0]);
	close(a[1]);
}

static void io_wait__peer_closed__0_with_hangup_for_the_caller(void **state)
{
	int p[2];
	short revents = 0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	assert_int_equal(io_wait(p[1], POLLOUT, io_now_ms() + 1000, -1, &revents), 0);
	assert_true(revents & POLLERR);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(io_now_ms__two_reads__never_backwards),
		cmocka_unit_test(io_wait__readable__0_with_revents),
		cmocka_unit_test(io_wait__nothing_to_read__etimedout_at_the_deadline),
		cmocka_unit_test(io_wait__abort_fd_readable__eintr_and_left_unread),
		cmocka_unit_test(io_wait__peer_closed__0_with_hangup_for_the_caller),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
