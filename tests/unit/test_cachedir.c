/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of lib/cachedir.c: the visible names, NAME.crl and its PEM twin, opening cache-dir, the lock, .state. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "crlsync/cachedir.h"

/* One test's world: a fresh directory, open. */
struct world {
	char dir[PATH_MAX];
	int dirfd;
};

static int setup(void **state)
{
	const char *base = getenv("CRLSYNC_TEST_TMP"); /* set by ctest: the build tree's tmp/ */
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(w->dir, sizeof(w->dir), "%s/crlsync-cachedir-XXXXXX", base);
	assert_non_null(mkdtemp(w->dir));
	w->dirfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(w->dirfd >= 0);
	*state = w;
	return 0;
}

/* The directory is flat, but a test may have made a subdirectory (one level, empty). */
static int teardown(void **state)
{
	struct world *w = *state;
	DIR *d = opendir(w->dir);
	struct dirent *de;

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(w->dirfd, de->d_name, 0) < 0)
			unlinkat(w->dirfd, de->d_name, AT_REMOVEDIR);
	}
	if (d != NULL)
		closedir(d);
	close(w->dirfd);
	rmdir(w->dir);
	free(w);
	return 0;
}

static void touch(const struct world *w, const char *name)
{
	int fd = openat(w->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	close(fd);
}

/* ---- visible names ---- */

static void cachedir_visible__plain_names__visible(void **state)
{
	(void)state;
	assert_true(cachedir_visible("issuing.crl"));
	assert_true(cachedir_visible("a"));
	assert_true(cachedir_visible("bundle.pem"));
	assert_true(cachedir_visible("x.y.z"));
}

static void cachedir_visible__dotted_or_empty__hidden(void **state)
{
	(void)state;
	assert_false(cachedir_visible(""));
	assert_false(cachedir_visible(NULL));
	assert_false(cachedir_visible("."));
	assert_false(cachedir_visible(".."));
	assert_false(cachedir_visible(CACHEDIR_LOCK));
	assert_false(cachedir_visible(CACHEDIR_STATE));
	assert_false(cachedir_visible(".issuing.crl.AbC123")); /* the installer's temp file */
}

/* ---- NAME.crl, NAME.pem ---- */

static void cachedir_crl_name__source__name_dot_crl(void **state)
{
	char buf[80];

	(void)state;
	assert_ptr_equal(cachedir_crl_name("issuing", buf, sizeof(buf)), buf);
	assert_string_equal(buf, "issuing.crl");
	assert_string_equal(cachedir_pem_name("issuing", buf, sizeof(buf)), "issuing.pem");
	assert_string_equal(cachedir_crl_name("a.b", buf, sizeof(buf)), "a.b.crl");
}

/* A name cut short could be another file: nothing, never a truncated one. */
static void cachedir_crl_name__does_not_fit__empty(void **state)
{
	char buf[8];

	(void)state;
	assert_string_equal(cachedir_crl_name("abc", buf, sizeof(buf)), "abc.crl"); /* exactly fits */
	assert_string_equal(cachedir_crl_name("abcd", buf, sizeof(buf)), "");
	assert_string_equal(cachedir_pem_name("abcdefgh", buf, sizeof(buf)), "");
}

static void cachedir_is_pem_twin__names__only_with_crl_twin(void **state)
{
	struct world *w = *state;

	touch(w, "a.crl");
	touch(w, "a.pem");
	touch(w, "b.pem");
	assert_true(cachedir_is_pem_twin(w->dirfd, "a.pem"));
	assert_false(cachedir_is_pem_twin(w->dirfd, "b.pem")); /* a bundle of its own: loaded */
	assert_false(cachedir_is_pem_twin(w->dirfd, "a.crl"));
	assert_false(cachedir_is_pem_twin(w->dirfd, ".pem"));
	assert_false(cachedir_is_pem_twin(w->dirfd, "pem"));
}

/* The twin must be a regular file: a directory or a link named X.crl makes X.pem no twin. */
static void cachedir_is_pem_twin__crl_not_regular__not_a_twin(void **state)
{
	struct world *w = *state;

	assert_int_equal(mkdirat(w->dirfd, "d.crl", 0755), 0);
	touch(w, "d.pem");
	assert_int_equal(symlinkat("d.pem", w->dirfd, "l.crl"), 0);
	touch(w, "l.pem");
	assert_false(cachedir_is_pem_twin(w->dirfd, "d.pem"));
	assert_false(cachedir_is_pem_twin(w->dirfd, "l.pem"));
}

/* ---- opening cache-dir ---- */

static void cachedir_open__existing_dir__fd_cloexec(void **state)
{
	struct world *w = *state;
	int fd = cachedir_open(w->dir);

	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(fsync(fd), 0); /* not O_PATH */
	close(fd);
}

static void cachedir_open__missing_or_file__errno(void **state)
{
	struct world *w = *state;
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/none", w->dir);
	assert_int_equal(cachedir_open(path), -ENOENT);
	touch(w, "file");
	snprintf(path, sizeof(path), "%s/file", w->dir);
	assert_int_equal(cachedir_open(path), -ENOTDIR);
}

static void cachedir_create__missing__made_0755_then_exists_ok(void **state)
{
	struct world *w = *state;
	char path[PATH_MAX + 16];
	mode_t old = umask(077);
	struct stat st;

	snprintf(path, sizeof(path), "%s/cache", w->dir);
	assert_int_equal(cachedir_create(path), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(cachedir_create(path), 0); /* there already */
	snprintf(path, sizeof(path), "%s/no/such", w->dir);
	assert_int_equal(cachedir_create(path), -ENOENT);
}

/* ---- the lock ---- */

static void cachedir_lock__free__acquired_lock_file_0644(void **state)
{
	struct world *w = *state;
	mode_t old = umask(022);
	struct stat st;
	int fd = cachedir_lock(w->dirfd, false);

	umask(old);
	assert_true(fd >= 0);
	assert_int_equal(fstatat(w->dirfd, ".crlsync.lock", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cachedir_unlock(fd);
}

/* flock belongs to the open file description: a second open, even in this process, conflicts. */
static void cachedir_lock__held_by_other_description__ewouldblock_until_unlock(void **state)
{
	struct world *w = *state;
	int a, b;

	a = cachedir_lock(w->dirfd, false);
	assert_true(a >= 0);
	assert_int_equal(cachedir_lock(w->dirfd, false), -EWOULDBLOCK);
	cachedir_unlock(a);
	b = cachedir_lock(w->dirfd, false);
	assert_true(b >= 0);
	cachedir_unlock(b);
}

/* Another process holds it: wait=false refuses, wait=true gets it once that process lets go. */
static void cachedir_lock__held_by_other_process__waits_for_release(void **state)
{
	struct world *w = *state;
	int p[2], fd, status;
	char c;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int l = cachedir_lock(w->dirfd, false);

		if (write(p[1], l >= 0 ? "y" : "n", 1) != 1)
			_exit(2);
		usleep(300 * 1000);
		_exit(0); /* the kernel releases the lock */
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	assert_int_equal(c, 'y');
	assert_int_equal(cachedir_lock(w->dirfd, false), -EWOULDBLOCK);
	fd = cachedir_lock(w->dirfd, true);
	assert_true(fd >= 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cachedir_unlock(fd);
}

/* A symlink planted at the lock name is not followed. */
static void cachedir_lock__lock_name_is_symlink__eloop(void **state)
{
	struct world *w = *state;

	assert_int_equal(symlinkat("elsewhere", w->dirfd, ".crlsync.lock"), 0);
	assert_int_equal(cachedir_lock(w->dirfd, false), -ELOOP);
	assert_int_equal(faccessat(w->dirfd, "elsewhere", F_OK, AT_SYMLINK_NOFOLLOW), -1);
}

static void cachedir_lock__bad_dirfd__ebadf(void **state)
{
	(void)state;
	assert_int_equal(cachedir_lock(-1, false), -EBADF);
	cachedir_unlock(-1); /* a no-op */
}

/* ---- .state ---- */

static void cachedir_state_open__create__made_0755_and_opened(void **state)
{
	struct world *w = *state;
	mode_t old = umask(077);
	struct stat st;
	int fd;

	assert_int_equal(cachedir_state_open(w->dirfd, false), -ENOENT);
	fd = cachedir_state_open(w->dirfd, true);
	umask(old);
	assert_true(fd >= 0);
	assert_int_equal(fstatat(w->dirfd, ".state", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0755 & ~077); /* mkdirat honours the umask; state_save() opens it up */
	close(fd);
	fd = cachedir_state_open(w->dirfd, false);
	assert_true(fd >= 0);
	close(fd);
}

/* A symlink planted at .state is not followed, created over or not. */
static void cachedir_state_open__symlink__refused(void **state)
{
	struct world *w = *state;

	assert_int_equal(mkdirat(w->dirfd, "elsewhere", 0755), 0);
	assert_int_equal(symlinkat("elsewhere", w->dirfd, ".state"), 0);
	/* O_DIRECTORY | O_NOFOLLOW on a link: Linux says ENOTDIR (not ELOOP); either way, refused. */
	assert_int_equal(cachedir_state_open(w->dirfd, false), -ENOTDIR);
	assert_int_equal(cachedir_state_open(w->dirfd, true), -ENOTDIR);
	unlinkat(w->dirfd, ".state", 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cachedir_visible__plain_names__visible),
		cmocka_unit_test(cachedir_visible__dotted_or_empty__hidden),
		cmocka_unit_test(cachedir_crl_name__source__name_dot_crl),
		cmocka_unit_test(cachedir_crl_name__does_not_fit__empty),
		T(cachedir_is_pem_twin__names__only_with_crl_twin),
		T(cachedir_is_pem_twin__crl_not_regular__not_a_twin),
		T(cachedir_open__existing_dir__fd_cloexec),
		T(cachedir_open__missing_or_file__errno),
		T(cachedir_create__missing__made_0755_then_exists_ok),
		T(cachedir_lock__free__acquired_lock_file_0644),
		T(cachedir_lock__held_by_other_description__ewouldblock_until_unlock),
		T(cachedir_lock__held_by_other_process__waits_for_release),
		T(cachedir_lock__lock_name_is_symlink__eloop),
		T(cachedir_lock__bad_dirfd__ebadf),
		T(cachedir_state_open__create__made_0755_and_opened),
		T(cachedir_state_open__symlink__refused),
	};

	return cmocka_run_group_tests_name("cachedir", tests, NULL, NULL);
}
