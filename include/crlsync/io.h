/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Waiting on a descriptor against a monotonic deadline: the one clock and poll loop of the plugin's and the fetcher's sockets. */
#ifndef CRLSYNC_IO_H
#define CRLSYNC_IO_H

/* CLOCK_MONOTONIC in milliseconds: deadlines that a clock set back or forward does not move. */
long long io_now_ms(void);

/*
 * Waits until fd reports anything for `events` (or an error or hang-up condition) or io_now_ms()
 * reaches deadline_ms. Returns 0 (*revents, when not NULL, holds what poll(2) reported: an error
 * condition is left to the next read, write or getsockopt to say), -ETIMEDOUT, -EINTR as soon as
 * abort_fd (>= 0; -1: none) is readable (it is not read: the caller's signal stays queued), or
 * -errno of poll(2). An interrupted poll(2) is resumed with what is left of the deadline.
 */
int io_wait(int fd, short events, long long deadline_ms, int abort_fd, short *revents);

#endif
