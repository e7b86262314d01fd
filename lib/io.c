/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The monotonic clock in milliseconds and the deadline-bound poll loop (io.h). */
#include "crlsync/io.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

/* One poll(2) waits at most this long, so that a far deadline never overflows its int timeout. */
#define IO_POLL_SLICE_MS 60000

long long io_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int io_wait(int fd, short events, long long deadline_ms, int abort_fd, short *revents)
{
	if (revents != NULL)
		*revents = 0;
	for (;;) {
		struct pollfd pf[2] = { { .fd = fd, .events = events }, { .fd = abort_fd, .events = POLLIN } };
		long long left = deadline_ms - io_now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(pf, abort_fd >= 0 ? 2 : 1, left > IO_POLL_SLICE_MS ? IO_POLL_SLICE_MS : (int)left);
		if (n > 0 && abort_fd >= 0 && pf[1].revents != 0)
			return -EINTR;
		if (n > 0) {
			if (revents != NULL)
				*revents = pf[0].revents;
			return 0;
		}
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}
