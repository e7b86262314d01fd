/* SPDX-License-Identifier: GPL-2.0-only */
/* Unit tests of the eviction thread (plugin/evict.c): its reachability check after OpenVPN's privilege drop. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "evict.h"

#define NOBODY 65534

/* The log sink: counts the lines that match, in the child. */
static const char *want_line;
static int want_seen, error_lines;

static void sink_fn(void *ctx, enum log_level level, const char *line)
{
	(void)ctx;
	if (level == LOG_LVL_ERROR)
		__atomic_add_fetch(&error_lines, 1, __ATOMIC_SEQ_CST);
	if (strstr(line, want_line) != NULL)
		__atomic_add_fetch(&want_seen, 1, __ATOMIC_SEQ_CST);
}

static struct store *no_store(void *ctx)
{
	(void)ctx;
	return NULL;
}

/* A listening unix socket at dir/mgmt.sock that greets every connection like OpenVPN, as root. */
static int listen_in(const char *dir, mode_t mode, char *spec, size_t len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int ls;

	assert_int_equal(mkdir(dir, mode), 0);
	assert_int_equal(chmod(dir, mode), 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/mgmt.sock", dir);
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(chmod(sun.sun_path, 0777), 0); /* as OpenVPN creates it (umask 0) */
	assert_int_equal(listen(ls, 8), 0);
	snprintf(spec, len, "unix:%s", sun.sun_path);
	return ls;
}

static void greet(int ls)
{
	static const char banner[] = ">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info\r\n";
	int c = accept(ls, NULL, NULL);

	if (c >= 0) {
		if (write(c, banner, sizeof(banner) - 1) < 0)
			exit(3);
		usleep(100 * 1000);
		close(c);
	}
}

/*
 * In a child: starts the evictor as root, drops to nobody as OpenVPN does after opening plugins
 * (every thread changes uid), and waits up to 4 s for `want` in the plugin's lines. Exits 0 when
 * it came exactly once with exactly `errors` error lines; 1 when it did not come; 2 otherwise.
 */
static int run_dropped(int dir_mode, const char *want, int errors)
{
	char dir[128], spec[160];
	pid_t pid;
	int st;

	snprintf(dir, sizeof(dir), "/tmp/crlsync-test-evict-%ld", (long)getpid());
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct cfg cfg = { 0 };
		struct policy pol = { 0 };
		struct log_sink sink = { .fn = sink_fn };
		struct evictor *e = NULL;
		int ls = listen_in(dir, (mode_t)dir_mode, spec, sizeof(spec));

		want_line = want;
		cfg.management = spec;
		cfg.evict = 1;
		if (evictor_start(&cfg, &pol, &sink, no_store, NULL, &e) != 0)
			_exit(3);
		if (setresgid(NOBODY, NOBODY, NOBODY) != 0 || setresuid(NOBODY, NOBODY, NOBODY) != 0)
			_exit(3);
		for (int i = 0; i < 40 && __atomic_load_n(&want_seen, __ATOMIC_SEQ_CST) == 0; i++) {
			struct timeval tv = { 0, 100 * 1000 };
			fd_set rd;

			FD_ZERO(&rd);
			FD_SET(ls, &rd);
			if (select(ls + 1, &rd, NULL, NULL, &tv) > 0)
				greet(ls);
		}
		usleep(1200 * 1000); /* long enough for a second line, were there one */
		evictor_stop(e);
		_exit(want_seen == 0 ? 1 : want_seen == 1 && error_lines == errors ? 0 : 2);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	{
		char sock[160];

		snprintf(sock, sizeof(sock), "%s/mgmt.sock", dir);
		unlink(sock);
		rmdir(dir);
	}
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Dropping privileges needs root: skipped without it, except under CI=true (a failure there). */
static void need_root(void)
{
	const char *ci = getenv("CI");

	if (geteuid() == 0)
		return;
	if (ci != NULL && strcmp(ci, "true") == 0)
		fail_msg("CI=true and not root: cannot test the privilege drop");
	skip();
}

static void evictor__dropped_to_nobody_root_only_dir__one_clear_error(void **state)
{
	(void)state;
	need_root();
	/* One error, naming the uid, the cause and the fixes, and not repeated. */
	assert_int_equal(run_dropped(0700, "cannot be reached as uid 65534 (nobody), the user OpenVPN runs as now "
					   "(cannot connect: Permission denied): connected clients that a new CRL "
					   "revokes will NOT be evicted. Fix:", 1),
			 0);
	assert_int_equal(run_dropped(0700, "management-client-user nobody", 1), 0);
	assert_int_equal(run_dropped(0700, "TCP port with a password file", 1), 0);
}

static void evictor__dropped_to_nobody_searchable_dir__reachable(void **state)
{
	(void)state;
	need_root();
	/* The twin: nobody can search the directory, so the interface greets it; no error. */
	assert_int_equal(run_dropped(0755, "is reachable as uid 65534 (nobody)", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(evictor__dropped_to_nobody_root_only_dir__one_clear_error),
		cmocka_unit_test(evictor__dropped_to_nobody_searchable_dir__reachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
