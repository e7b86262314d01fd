/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the benchmarks: monotonic time, resident memory of this process, percentiles. */
#ifndef CRLSYNC_BENCH_UTIL_H
#define CRLSYNC_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_MIB (1024.0 * 1024.0)

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now_ns(void);

/* VmRSS and VmHWM of this process from /proc/self/status, in bytes; 0 when unreadable. */
size_t bench_rss(void);
size_t bench_hwm(void);

/*
 * Resets VmHWM to the current RSS (writes "5" to /proc/self/clear_refs, Linux 4.0+), so that a
 * later bench_hwm() is the peak of what came after. Returns false when the kernel refused.
 */
bool bench_hwm_reset(void);

/* The p-th percentile (0..100) of v[0..n) by nearest rank; sorts v in place. 0 when n is 0. */
double bench_percentile(double *v, size_t n, double p);

/* Sorts v[0..n) ascending. */
void bench_sort(double *v, size_t n);

/* "1.23 s", "45.6 ms", "789 us" or "12.3 ns" for a duration in nanoseconds, into buf. */
const char *bench_fmt_ns(double ns, char *buf, size_t len);

/* "123.4 MiB" for bytes, into buf. */
const char *bench_fmt_mib(double bytes, char *buf, size_t len);

#endif
