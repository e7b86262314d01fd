/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of fetcher/priv.c: /proc parsing, which process `refresh' may signal, and dropping root for good. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "priv.h"

#define NOBODY ((uid_t)65534)

static char logbuf[4096];

static void capture_log(void *ctx, enum log_level level, const char *line)
{
	size_t used = strlen(logbuf);

	(void)ctx;
	(void)level;
	snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", line);
}

static const struct log_sink test_sink = { .fn = capture_log };

/* Tests that switch users need root; outside CI they skip without it, under CI=true they fail. */
static bool need_root(void)
{
	const char *ci = getenv("CI");

	if (geteuid() == 0)
		return true;
	if (ci != NULL && strcmp(ci, "true") == 0)
		fail_msg("needs root (CI=true: no skipping)");
	skip();
	return false;
}

/* Runs fn in a child process (which may switch users for good) and asserts that it exits 0. */
static void in_child(int (*fn)(void *), void *arg)
{
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child failed at check %d (status %#x)", WIFEXITED(status) ? WEXITSTATUS(status) : -1, status);
}

/* ---- priv_parse_status_uids ---- */

static void priv_parse_status_uids__uid_line__four_ids(void **state)
{
	uid_t u[4];

	(void)state;
	assert_true(priv_parse_status_uids("Name:\tcrlsync\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t101\t102\t103\t104\n"
					   "Gid:\t0\t0\t0\t0\n",
					   u));
	assert_int_equal(u[0], 101);
	assert_int_equal(u[1], 102);
	assert_int_equal(u[2], 103);
	assert_int_equal(u[3], 104);
	assert_true(priv_parse_status_uids("Uid:\t0\t0\t0\t0", u));
	assert_int_equal(u[3], 0);
	assert_true(priv_parse_status_uids("Uid:\t4294967294 4294967294 4294967294 4294967294\n", u));
	assert_int_equal(u[0], 4294967294U);
}

/* No Uid line at a line start, too few ids, garbage, an overflow: false, never a guess. */
static void priv_parse_status_uids__missing_or_garbled__false(void **state)
{
	uid_t u[4];

	(void)state;
	assert_false(priv_parse_status_uids(NULL, u));
	assert_false(priv_parse_status_uids("", u));
	assert_false(priv_parse_status_uids("Name:\tUid:\t0\t0\t0\t0\n", u)); /* a process named "Uid:..." */
	assert_false(priv_parse_status_uids("Uid:\t1\t2\t3\n", u));
	assert_false(priv_parse_status_uids("Uid:\t1\t2\t3\tx\n", u));
	assert_false(priv_parse_status_uids("Uid:\t-1\t2\t3\t4\n", u));
	assert_false(priv_parse_status_uids("Uid:\t1\t2\t3\t4x\n", u));
	assert_false(priv_parse_status_uids("Uid:\t99999999999999999999\t2\t3\t4\n", u));
}

/* ---- priv_exe_is_crlsync ---- */

static void priv_exe_is_crlsync__crlsync_binaries__true(void **state)
{
	(void)state;
	assert_true(priv_exe_is_crlsync("/usr/sbin/crlsync"));
	assert_true(priv_exe_is_crlsync("/work/build/fetcher/crlsync"));
	assert_true(priv_exe_is_crlsync("/usr/sbin/crlsync (deleted)")); /* upgraded while running */
	assert_true(priv_exe_is_crlsync("/crlsync"));
}

static void priv_exe_is_crlsync__other_binaries__false(void **state)
{
	(void)state;
	assert_false(priv_exe_is_crlsync(NULL));
	assert_false(priv_exe_is_crlsync(""));
	assert_false(priv_exe_is_crlsync("crlsync")); /* not what the kernel gives: refused */
	assert_false(priv_exe_is_crlsync("/usr/bin/sleep"));
	assert_false(priv_exe_is_crlsync("/usr/sbin/crlsync2"));
	assert_false(priv_exe_is_crlsync("/usr/sbin/notcrlsync"));
	assert_false(priv_exe_is_crlsync("/opt/crlsync/bin/sleep"));
	assert_false(priv_exe_is_crlsync("/usr/sbin/crlsync (deleted) (deleted)"));
	assert_false(priv_exe_is_crlsync("/usr/sbin/crlsync.bak"));
	assert_false(priv_exe_is_crlsync(" (deleted)"));
}

/* ---- priv_check_daemon ---- */

/* This very process: the right owner, but its executable is test_priv, not crlsync. */
static void priv_check_daemon__self_not_crlsync__refused(void **state)
{
	char why[512];

	(void)state;
	assert_int_equal(priv_check_daemon(getpid(), getuid(), why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "not crlsync"));
}

/* The pidfile's owner is another uid than the process': refused, both uids named. */
static void priv_check_daemon__other_owner__refused(void **state)
{
	char why[512], want[64];

	(void)state;
	assert_int_equal(priv_check_daemon(getpid(), getuid() + 1, why, sizeof(why)), -EPERM);
	snprintf(want, sizeof(want), "runs as uid %u", (unsigned)getuid());
	assert_non_null(strstr(why, want));
	snprintf(want, sizeof(want), "not as uid %u", (unsigned)getuid() + 1);
	assert_non_null(strstr(why, want));
}

static void priv_check_daemon__reaped_pid__esrch(void **state)
{
	char why[512];
	pid_t pid = fork();

	(void)state;
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(priv_check_daemon(pid, getuid(), why, sizeof(why)), -ESRCH);
}

/* The positive twin: a process whose executable is named crlsync (a copy of sleep), run by the owner. */
static void priv_check_daemon__executable_named_crlsync__accepted(void **state)
{
	const char *base = getenv("CRLSYNC_TEST_TMP");
	char dir[PATH_MAX], exe[PATH_MAX + 16], cmd[2 * PATH_MAX + 64], why[512];
	pid_t pid;
	int r;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/crlsync-priv-XXXXXX", base && base[0] ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(exe, sizeof(exe), "%s/crlsync", dir);
	snprintf(cmd, sizeof(cmd), "cp /bin/sleep '%s'", exe);
	assert_int_equal(system(cmd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(exe, "crlsync", "30", (char *)NULL);
		_exit(127);
	}
	/* Until the exec happened, /proc/PID/exe is still test_priv. */
	for (int i = 0; i < 2000 && (r = priv_check_daemon(pid, getuid(), why, sizeof(why))) != 0; i++)
		usleep(1000);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(exe);
	rmdir(dir);
	if (r != 0)
		fail_msg("a crlsync executable of ours refused: %s", why);
	assert_int_equal(priv_check_daemon(pid, getuid(), why, sizeof(why)), -ESRCH);
}

/*
 * A daemon that switched from root to its user is not dumpable: its exe link is root's to read.
 * Root still reads it (and refuses this impostor, whose executable is test_priv); the user it
 * runs as falls back to its name, "crlsync" (the real daemon's case). Another user: refused.
 */
static int check_as_nobody(void *arg)
{
	pid_t pid = *(pid_t *)arg;
	char why[512], err[256];

	if (priv_drop_to(NOBODY, NOBODY, err, sizeof(err)) != 0)
		return 10;
	if (priv_check_daemon(pid, NOBODY, why, sizeof(why)) != 0)
		return 11;
	return 0;
}

static void priv_check_daemon__dropped_daemon_unprivileged_caller__name_checked(void **state)
{
	int ready[2];
	char why[512], c;
	pid_t pid;

	(void)state;
	if (!need_root())
		return;
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];

		close(ready[0]);
		prctl(PR_SET_NAME, "crlsync", 0, 0, 0);
		if (priv_drop_to(NOBODY, NOBODY, err, sizeof(err)) != 0)
			_exit(1);
		(void)!write(ready[1], "r", 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	assert_int_equal(priv_check_daemon(pid, NOBODY, why, sizeof(why)), -EPERM); /* root reads exe */
	assert_non_null(strstr(why, "not crlsync"));
	in_child(check_as_nobody, &pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* ---- priv_drop_to, priv_drop_to_dir_owner ---- */

static int drop_and_try_back(void *arg)
{
	gid_t groups[8];
	char err[256];

	(void)arg;
	if (priv_drop_to(NOBODY, 12345, err, sizeof(err)) != 0)
		return 10;
	if (getuid() != NOBODY || geteuid() != NOBODY)
		return 11;
	if (getgid() != 65534 || getegid() != 65534) /* nobody's passwd group (nogroup), not the fallback */
		return 12;
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 || setegid(0) == 0)
		return 13;
	if (getgroups(8, groups) < 0)
		return 14;
	for (int i = 0, n = getgroups(8, groups); i < n; i++)
		if (groups[i] == 0)
			return 15; /* root's group 0 kept */
	if (open("/etc/shadow", O_RDONLY) >= 0)
		return 16;
	return 0;
}

static void priv_drop_to__root_to_nobody__root_not_regained(void **state)
{
	(void)state;
	if (!need_root())
		return;
	in_child(drop_and_try_back, NULL);
}

/* A uid without a passwd entry: the given gid, no supplementary group. */
static int drop_to_unnamed(void *arg)
{
	char err[256];

	(void)arg;
	if (priv_drop_to(54321, 54322, err, sizeof(err)) != 0)
		return 10;
	if (getuid() != 54321 || getgid() != 54322 || getgroups(0, NULL) != 1)
		return 11;
	return 0;
}

static void priv_drop_to__uid_without_passwd__given_gid(void **state)
{
	(void)state;
	if (!need_root())
		return;
	in_child(drop_to_unnamed, NULL);
}

struct dir_case {
	char dir[PATH_MAX];
	uid_t owner;
};

static int drop_for_dir(void *arg)
{
	struct dir_case *c = arg;
	int fd = open(c->dir, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		return 10;
	logbuf[0] = '\0';
	if (priv_drop_to_dir_owner(fd, c->dir, &test_sink) != 0)
		return 11;
	if (geteuid() != c->owner || getuid() != c->owner)
		return 12;
	if (c->owner != 0 && (strstr(logbuf, "switched to that user") == NULL || strstr(logbuf, c->dir) == NULL))
		return 13;
	if (c->owner == 0 && logbuf[0] != '\0')
		return 14;
	return 0;
}

/* Root in root's directory stays root, silently; in nobody's directory it becomes nobody, and says so. */
static void priv_drop_to_dir_owner__owner_decides__root_or_owner(void **state)
{
	const char *base = getenv("CRLSYNC_TEST_TMP");
	struct dir_case c;

	(void)state;
	if (!need_root())
		return;
	snprintf(c.dir, sizeof(c.dir), "%s/crlsync-priv-XXXXXX", base && base[0] ? base : "/tmp");
	assert_non_null(mkdtemp(c.dir));
	c.owner = 0;
	in_child(drop_for_dir, &c);
	assert_int_equal(chown(c.dir, NOBODY, NOBODY), 0);
	c.owner = NOBODY;
	in_child(drop_for_dir, &c);
	rmdir(c.dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(priv_parse_status_uids__uid_line__four_ids),
		cmocka_unit_test(priv_parse_status_uids__missing_or_garbled__false),
		cmocka_unit_test(priv_exe_is_crlsync__crlsync_binaries__true),
		cmocka_unit_test(priv_exe_is_crlsync__other_binaries__false),
		cmocka_unit_test(priv_check_daemon__self_not_crlsync__refused),
		cmocka_unit_test(priv_check_daemon__other_owner__refused),
		cmocka_unit_test(priv_check_daemon__reaped_pid__esrch),
		cmocka_unit_test(priv_check_daemon__executable_named_crlsync__accepted),
		cmocka_unit_test(priv_check_daemon__dropped_daemon_unprivileged_caller__name_checked),
		cmocka_unit_test(priv_drop_to__root_to_nobody__root_not_regained),
		cmocka_unit_test(priv_drop_to__uid_without_passwd__given_gid),
		cmocka_unit_test(priv_drop_to_dir_owner__owner_decides__root_or_owner),
	};

	return cmocka_run_group_tests_name("priv", tests, NULL, NULL);
}
