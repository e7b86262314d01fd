/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the benchmarks: monotonic time, resident memory of this process, percentiles. */
#include "bench_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static size_t status_kib(const char *key)
{
	char line[256];
	size_t klen = strlen(key), v = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtoull(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v * 1024;
}

size_t bench_rss(void)
{
	return status_kib("VmRSS");
}

size_t bench_hwm(void)
{
	return status_kib("VmHWM");
}

bool bench_hwm_reset(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, "5", 1) == 1;
	close(fd);
	return ok;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_sort(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), dbl_cmp);
}

double bench_percentile(double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	bench_sort(v, n);
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

const char *bench_fmt_ns(double ns, char *buf, size_t len)
{
	if (ns >= 1e9)
		snprintf(buf, len, "%.2f s", ns / 1e9);
	else if (ns >= 1e6)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else if (ns >= 1e4)
		snprintf(buf, len, "%.0f us", ns / 1e3);
	else if (ns >= 1e3)
		snprintf(buf, len, "%.2f us", ns / 1e3);
	else
		snprintf(buf, len, "%.0f ns", ns);
	return buf;
}

const char *bench_fmt_mib(double bytes, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f MiB", bytes / BENCH_MIB);
	return buf;
}
