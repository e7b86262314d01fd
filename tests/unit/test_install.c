/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of lib/install.c: atomic install with fault injection and SIGKILL, cleanup (the lock: test_cachedir.c). */
#include <dirent.h>
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "crlsync/install.h"

#define NAME "ca.crl"
#define OLD "old CRL content\n"
#define NEW "the new CRL, longer than the old one\n"

/* One test's world: a fresh directory, open. */
struct world {
	char dir[PATH_MAX];
	int dirfd;
};

/* What the fault-injecting system calls do, and what they saw. */
static struct {
	int write_calls;
	int fsync_calls;
	int rename_calls;
	char tmp_seen[NAME_MAX + 1]; /* the name of the file written to */
} fault;

static int setup(void **state)
{
	const char *base = getenv("CRLSYNC_TEST_TMP"); /* set by ctest: the build tree's tmp/ */
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(w->dir, sizeof(w->dir), "%s/crlsync-install-XXXXXX", base);
	assert_non_null(mkdtemp(w->dir));
	w->dirfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(w->dirfd >= 0);
	memset(&fault, 0, sizeof(fault));
	*state = w;
	return 0;
}

/* The directory is flat, but a test may have made a subdirectory (one level). */
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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The directory's entries, sorted, joined by ','. Static buffer: valid until the next call. */
static const char *listing(const struct world *w)
{
	static char out[4096];
	char *names[64];
	size_t n = 0;
	DIR *d = opendir(w->dir);
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		assert_true(n < sizeof(names) / sizeof(names[0]));
		names[n] = strdup(de->d_name);
		assert_non_null(names[n]);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strncat(out, ",", sizeof(out) - strlen(out) - 1);
		strncat(out, names[i], sizeof(out) - strlen(out) - 1);
		free(names[i]);
	}
	return out;
}

static void put(const struct world *w, const char *name, const char *content)
{
	int fd = openat(w->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(close(fd), 0);
}

/* The content of `name` (malloc'd, NUL-terminated, *len set), or NULL when absent. */
static char *get(const struct world *w, const char *name, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd = openat(w->dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		assert_int_equal(errno, ENOENT);
		return NULL;
	}
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		assert_true(n > 0);
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	if (len != NULL)
		*len = got;
	return buf;
}

static void assert_content(const struct world *w, const char *name, const char *want)
{
	char *got = get(w, name, NULL);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static ino_t inode_of(const struct world *w, const char *name)
{
	struct stat st;

	assert_int_equal(fstatat(w->dirfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_ino;
}

/* Records the name of the file behind fd (the temp file), through /proc. */
static void note_tmp_name(int fd)
{
	char link[64], path[PATH_MAX];
	ssize_t n;
	const char *slash;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return;
	path[n] = '\0';
	slash = strrchr(path, '/');
	/* A temp name is short; a longer one would fail the test's comparison, never overflow. */
	strncpy(fault.tmp_seen, slash ? slash + 1 : path, sizeof(fault.tmp_seen) - 1);
	fault.tmp_seen[sizeof(fault.tmp_seen) - 1] = '\0';
}

static ssize_t write_enospc(int fd, const void *buf, size_t len)
{
	(void)buf;
	(void)len;
	note_tmp_name(fd);
	fault.write_calls++;
	errno = ENOSPC;
	return -1;
}

static ssize_t write_zero(int fd, const void *buf, size_t len)
{
	(void)fd;
	(void)buf;
	(void)len;
	fault.write_calls++;
	return 0;
}

/* At most 5 bytes per call, and every third call interrupted before writing anything. */
static ssize_t write_short(int fd, const void *buf, size_t len)
{
	note_tmp_name(fd);
	if (++fault.write_calls % 3 == 0) {
		errno = EINTR;
		return -1;
	}
	return write(fd, buf, len < 5 ? len : 5);
}

static bool is_dir_fd(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

static int fsync_file_eio(int fd)
{
	fault.fsync_calls++;
	if (!is_dir_fd(fd)) {
		errno = EIO;
		return -1;
	}
	return fsync(fd);
}

static int fsync_dir_eio(int fd)
{
	fault.fsync_calls++;
	if (is_dir_fd(fd)) {
		errno = EIO;
		return -1;
	}
	return fsync(fd);
}

static int renameat_exdev(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	(void)olddirfd;
	(void)oldpath;
	(void)newdirfd;
	(void)newpath;
	fault.rename_calls++;
	errno = EXDEV;
	return -1;
}

static bool is_tmp_of(const char *entry, const char *name)
{
	size_t n = strlen(name), len = strlen(entry);

	if (len != n + 8 || entry[0] != '.' || strncmp(entry + 1, name, n) != 0 || entry[n + 1] != '.')
		return false;
	for (size_t i = n + 2; i < len; i++)
		if (!((entry[i] >= 'a' && entry[i] <= 'z') || (entry[i] >= 'A' && entry[i] <= 'Z') ||
		      (entry[i] >= '0' && entry[i] <= '9')))
			return false;
	return true;
}

/* ---- install_file: success ---- */

static void install_file__fresh_dir_umask_077__mode_0644(void **state)
{
	struct world *w = *state;
	mode_t old = umask(077);
	struct stat st;
	int r;

	r = install_file(w->dirfd, NAME, NEW, strlen(NEW), 0644, NULL);
	umask(old);
	assert_int_equal(r, 0);
	assert_content(w, NAME, NEW);
	assert_int_equal(fstatat(w->dirfd, NAME, &st, 0), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_string_equal(listing(w), NAME);
}

/* The twin: the mode asked for, not a fixed 0644 nor the umask's (0 here) 0666. */
static void install_file__mode_0600_umask_0__mode_0600(void **state)
{
	struct world *w = *state;
	mode_t old = umask(0);
	struct stat st;
	int r;

	r = install_file(w->dirfd, NAME, NEW, strlen(NEW), 0600, NULL);
	umask(old);
	assert_int_equal(r, 0);
	assert_int_equal(fstatat(w->dirfd, NAME, &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void install_file__existing_file__content_replaced_inode_changed(void **state)
{
	struct world *w = *state;
	ino_t before;

	put(w, NAME, OLD);
	before = inode_of(w, NAME);
	assert_int_equal(install_file(w->dirfd, NAME, NEW, strlen(NEW), 0644, NULL), 0);
	assert_content(w, NAME, NEW);
	assert_true(inode_of(w, NAME) != before);
	assert_string_equal(listing(w), NAME);
}

/* The twin of the replacement: a failing install changes neither content nor inode (see faults below). */
static void install_file__existing_file_write_fails__content_and_inode_kept(void **state)
{
	struct world *w = *state;
	struct install_ops ops = { .write = write_enospc };
	ino_t before;

	put(w, NAME, OLD);
	before = inode_of(w, NAME);
	assert_int_equal(install_file(w->dirfd, NAME, NEW, strlen(NEW), 0644, &ops), -ENOSPC);
	assert_content(w, NAME, OLD);
	assert_true(inode_of(w, NAME) == before);
	assert_string_equal(listing(w), NAME);
}

static void install_file__empty_data__empty_file(void **state)
{
	struct world *w = *state;

	assert_int_equal(install_file(w->dirfd, NAME, NULL, 0, 0644, NULL), 0);
	assert_content(w, NAME, "");
}

static void install_file__null_data_with_length__einval(void **state)
{
	struct world *w = *state;

	assert_int_equal(install_file(w->dirfd, NAME, NULL, 5, 0644, NULL), -EINVAL);
	assert_string_equal(listing(w), "");
}

/* A symlink at the name is replaced, never written through. */
static void install_file__name_is_symlink__replaced_not_followed(void **state)
{
	struct world *w = *state;
	struct stat st;

	put(w, "victim", OLD);
	assert_int_equal(symlinkat("victim", w->dirfd, NAME), 0);
	assert_int_equal(install_file(w->dirfd, NAME, NEW, strlen(NEW), 0644, NULL), 0);
	assert_int_equal(fstatat(w->dirfd, NAME, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_content(w, NAME, NEW);
	assert_content(w, "victim", OLD);
}

/* install_inspect: a regular file is what is installed. */
static void install_inspect__regular_file__zero_with_stat(void **state)
{
	struct world *w = *state;
	char target[64] = "unchanged";
	struct stat st;

	put(w, NAME, OLD);
	assert_int_equal(install_inspect(w->dirfd, NAME, &st, target, sizeof(target)), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, (off_t)strlen(OLD));
	assert_string_equal(target, "");
}

/*
 * Issue 10, item 8: a symlink at the name (to a CRL elsewhere, here a regular file) is not the
 * installed CRL: -ELOOP with where it points, sanitised; and install_file() then replaces the
 * link, never its target.
 */
static void install_inspect__symlink_to_file__eloop_target_then_replaced(void **state)
{
	struct world *w = *state;
	char target[64];
	struct stat st;

	put(w, "victim", OLD);
	assert_int_equal(symlinkat("victim\n\033[31mforged", w->dirfd, NAME), 0);
	assert_int_equal(install_inspect(w->dirfd, NAME, &st, target, sizeof(target)), -ELOOP);
	assert_string_equal(target, "victim??[31mforged");
	assert_int_equal(install_file(w->dirfd, NAME, NEW, strlen(NEW), 0644, NULL), 0);
	assert_int_equal(install_inspect(w->dirfd, NAME, &st, target, sizeof(target)), 0);
	assert_content(w, NAME, NEW);
	assert_content(w, "victim", OLD);
}

/* A dangling link and an over-long target: still -ELOOP, the target cut to fit. */
static void install_inspect__dangling_long_symlink__eloop_truncated(void **state)
{
	struct world *w = *state;
	char target[8];
	struct stat st;

	assert_int_equal(symlinkat("/nonexistent/elsewhere.crl", w->dirfd, NAME), 0);
	assert_int_equal(install_inspect(w->dirfd, NAME, &st, target, sizeof(target)), -ELOOP);
	assert_string_equal(target, "/nonexi");
	assert_int_equal(install_inspect(w->dirfd, NAME, &st, NULL, 0), -ELOOP);
}

/* Absent, a directory, a FIFO, a name install_file() refuses. */
static void install_inspect__absent_dir_fifo_bad_name__errors(void **state)
{
	struct world *w = *state;
	char target[16];
	struct stat st;

	assert_int_equal(install_inspect(w->dirfd, NAME, &st, target, sizeof(target)), -ENOENT);
	assert_int_equal(mkdirat(w->dirfd, "d.crl", 0755), 0);
	assert_int_equal(install_inspect(w->dirfd, "d.crl", &st, target, sizeof(target)), -EISDIR);
	assert_int_equal(mkfifoat(w->dirfd, "f.crl", 0644), 0);
	assert_int_equal(install_inspect(w->dirfd, "f.crl", &st, target, sizeof(target)), -EINVAL);
	assert_string_equal(target, "");
	assert_int_equal(install_inspect(w->dirfd, ".hidden.crl", &st, target, sizeof(target)), -EINVAL);
	assert_int_equal(install_inspect(w->dirfd, "a/b.crl", &st, target, sizeof(target)), -EINVAL);
}

/* The twin: a directory at the name cannot be replaced; the error comes back and nothing is left. */
static void install_file__name_is_directory__error_no_temp(void **state)
{
	struct world *w = *state;
	struct stat st;

	assert_int_equal(mkdirat(w->dirfd, NAME, 0755), 0);
	assert_true(install_file(w->dirfd, NAME, NEW, strlen(NEW), 0644, NULL) < 0);
	assert_int_equal(fstatat(w->dirfd, NAME, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_string_equal(listing(w), NAME);
}

/* ---- install_file: faults ---- */

static void install_file__short_writes_and_eintr__complete_file(void **state)
{
	struct world *w = *state;
	struct install_ops ops = { .write = write_short };

	put(w, NAME, OLD);
	assert_int_equal(install_file(w->dirfd, NAME, NEW, strlen(NEW), 0644, &ops), 0);
	assert_true(fault.write_calls > (int)strlen(NEW) / 5);
	assert_content(w, NAME, NEW);
	assert_string_equal(listing(w), NAME);
}

/* The temp file the data went into was hidden, named after the target, with a 6-character suffix. */
static void install_file__temp_name__hidden_with_six_char_suffix(void **state)
{
	struct world *w = *state;
	struct install_ops ops = { .write = write_short };

	assert_int_equal(install_file(w->dirfd, NAME, NEW, strlen(NEW), 0644, &ops), 0);
	assert_true(is_tmp_of(fault.tmp_seen, NAME));
}

/* The twin: two installs draw different suffixes. */
static void install_file__two_installs__different_temp_names(void **state)
{
	struct world *w = *state;
	struct install_ops ops = { .write = write_short };
	char first[NAME_MAX + 1];

	assert_int_equal(install_file(w->dirfd, NAME, NEW, strlen(NEW), 0644, &ops), 0);
	snprintf(first, sizeof(first), "%s", fault.tmp_seen);
	assert_int_equal(install_file(w->dirfd, NAME, OLD, strlen(OLD), 0644, &ops), 0);
	assert_true(is_tmp_of(first, NAME));
	assert_true(is_tmp_of(fault.tmp_seen, NAME));
	assert_string_not_equal(first, fault.tmp_seen);
}

static void install_file__write_enospc__error_old_kept_no_temp(void **state)
{
	struct world *w = *state;
	struct install_ops ops = { .write = write_enospc };

	put(w, NAME, OLD);
	assert_int_equal(install_file(w->dirfd, NAME, NEW, strlen(NEW), 0644, &ops), -ENOSPC);
	assert_int_equal(fault.write_calls, 1);
	assert_true(is_tmp_of(fault.tmp_seen, NAME)); /* it existed, and is gone now: */
	assert_content(w, NAME, OLD);
	assert_string_equal(listing(w), NAME);
}

/* A write that makes no progress is an error, not an endless loop. */
static void install_file__write_returns_zero__eio_no_temp(void **state)
{
	struct world *w = *state;
	struct install_ops ops = { .write = write_zero };

	put(w, NAME, OLD);
	assert_int_equal(install_file(w->dirfd, NAME, NEW, strlen(NEW), 0644, &ops), -EIO);
	assert_int_equal(fault.write_calls, 1);
	assert_content(w, NAME, OLD);
	assert_string_equal(listing(w), NAME);
}

static void install_file__fsync_eio__error_old_kept_no_temp(void **state)
{
	struct world *w = *state;
	struct install_ops ops = { .fsync = fsync_file_eio };

	put(w, NAME, OLD);
	assert_int_equal(install_file(w->dirfd, NAME, NEW, strlen(NEW), 0644, &ops), -EIO);
	assert_int_equal(fault.fsync_calls, 1);
	assert_content(w, NAME, OLD);
	assert_string_equal(listing(w), NAME);
}

static void install_file__renameat_exdev__error_old_kept_no_temp(void **state)
{
	struct world *w = *state;
	struct install_ops ops = { .renameat = renameat_exdev };

	put(w, NAME, OLD);
	assert_int_equal(install_file(w->dirfd, NAME, NEW, strlen(NEW), 0644, &ops), -EXDEV);
	assert_int_equal(fault.rename_calls, 1);
	assert_content(w, NAME, OLD);
	assert_string_equal(listing(w), NAME);
}

/* The steps for data that arrives in pieces (the fetcher's download, issue 14). */
static void install_temp_commit__written_in_pieces__renamed_mode_set_no_temp(void **state)
{
	struct world *w = *state;
	char tmp[NAME_MAX + 1];
	struct stat st;
	int fd;

	put(w, NAME, OLD);
	fd = install_temp_open(w->dirfd, NAME, tmp, sizeof(tmp));
	assert_true(fd >= 0);
	assert_true(is_tmp_of(tmp, NAME));
	assert_int_equal(write(fd, "ne", 2), 2);
	assert_int_equal(write(fd, "w", 1), 1);
	assert_content(w, NAME, OLD); /* nothing visible before the commit */
	assert_int_equal(install_temp_commit(w->dirfd, tmp, fd, NAME, 0644, NULL), 0);
	assert_content(w, NAME, "new");
	assert_string_equal(listing(w), NAME);
	assert_int_equal(fstatat(w->dirfd, NAME, &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

static void install_temp_commit__renameat_exdev__error_old_kept_no_temp(void **state)
{
	struct world *w = *state;
	struct install_ops ops = { .renameat = renameat_exdev };
	char tmp[NAME_MAX + 1];
	int fd;

	put(w, NAME, OLD);
	fd = install_temp_open(w->dirfd, NAME, tmp, sizeof(tmp));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "new", 3), 3);
	assert_int_equal(install_temp_commit(w->dirfd, tmp, fd, NAME, 0644, &ops), -EXDEV);
	assert_content(w, NAME, OLD);
	assert_string_equal(listing(w), NAME);
}

static void install_temp_abort__verification_failed__temp_removed_old_kept(void **state)
{
	struct world *w = *state;
	char tmp[NAME_MAX + 1];
	int fd;

	put(w, NAME, OLD);
	fd = install_temp_open(w->dirfd, NAME, tmp, sizeof(tmp));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "bad", 3), 3);
	install_temp_abort(w->dirfd, tmp, fd);
	assert_content(w, NAME, OLD);
	assert_string_equal(listing(w), NAME);
}

static void install_temp_open__bad_name_or_short_buffer__einval(void **state)
{
	struct world *w = *state;
	char tmp[NAME_MAX + 1], small[8];

	assert_int_equal(install_temp_open(w->dirfd, ".hidden", tmp, sizeof(tmp)), -EINVAL);
	assert_int_equal(install_temp_open(w->dirfd, "a/b", tmp, sizeof(tmp)), -EINVAL);
	assert_int_equal(install_temp_open(w->dirfd, NAME, small, sizeof(small)), -EINVAL);
	assert_string_equal(listing(w), "");
}

/* Without an old file, a failure leaves the name absent (and no temp file). */
static void install_file__renameat_exdev_no_old_file__absent_no_temp(void **state)
{
	struct world *w = *state;
	struct install_ops ops = { .renameat = renameat_exdev };

	assert_int_equal(install_file(w->dirfd, NAME, NEW, strlen(NEW), 0644, &ops), -EXDEV);
	assert_null(get(w, NAME, NULL));
	assert_string_equal(listing(w), "");
}

/* After the rename only the directory fsync can fail: 1 (installed, not yet durable), errno EIO, the new file in place. */
static void install_file__dir_fsync_eio__one_new_file_in_place(void **state)
{
	struct world *w = *state;
	struct install_ops ops = { .fsync = fsync_dir_eio };

	put(w, NAME, OLD);
	errno = 0;
	assert_int_equal(install_file(w->dirfd, NAME, NEW, strlen(NEW), 0644, &ops), 1);
	assert_int_equal(errno, EIO);
	assert_int_equal(fault.fsync_calls, 2);
	assert_content(w, NAME, NEW);
	assert_string_equal(listing(w), NAME);
}

/* ---- install_file: names ---- */

static void install_file__bad_names__einval(void **state)
{
	static const char *const bad[] = { "", ".", "..", ".hidden", ".crlsync.lock", "/", "a/b", "../x", "ca.crl/" };
	struct world *w = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(install_file(w->dirfd, bad[i], NEW, strlen(NEW), 0644, NULL), -EINVAL);
	assert_int_equal(install_file(w->dirfd, NULL, NEW, strlen(NEW), 0644, NULL), -EINVAL);
	assert_string_equal(listing(w), "");
}

/* The twin: dots inside a name are fine. */
static void install_file__dotted_names__accepted(void **state)
{
	struct world *w = *state;

	assert_int_equal(install_file(w->dirfd, "issuing.crl", NEW, strlen(NEW), 0644, NULL), 0);
	assert_int_equal(install_file(w->dirfd, "a..b.", OLD, strlen(OLD), 0644, NULL), 0);
	assert_string_equal(listing(w), "a..b.,issuing.crl");
}

/* ".NAME.XXXXXX" must fit NAME_MAX: 247 characters are the most. */
static void install_file__longest_name__accepted(void **state)
{
	struct world *w = *state;
	char name[NAME_MAX + 1];

	memset(name, 'n', NAME_MAX - 8);
	name[NAME_MAX - 8] = '\0';
	assert_int_equal(install_file(w->dirfd, name, NEW, strlen(NEW), 0644, NULL), 0);
	assert_content(w, name, NEW);
}

static void install_file__name_one_too_long__enametoolong(void **state)
{
	struct world *w = *state;
	char name[NAME_MAX + 1];

	memset(name, 'n', NAME_MAX - 7);
	name[NAME_MAX - 7] = '\0';
	assert_int_equal(install_file(w->dirfd, name, NEW, strlen(NEW), 0644, NULL), -ENAMETOOLONG);
	assert_string_equal(listing(w), "");
}

/* ---- install_cleanup ---- */

static void make_cleanup_fixture(const struct world *w)
{
	static const char *const files[] = {
		".ca.crl.AbC123", ".ca.crl.zzzzzz", ".ca.crl.000000", /* leftovers of ca.crl */
		".other.crl.Q1w2E3", ".x.aaaaaa",                    /* leftovers of other names */
		"ca.crl", "ca.crl.abc123",                           /* real (visible) files */
		".crlsync.lock", ".state", ".ca.crl",                /* our own or foreign hidden files */
		".ca.crl.abc12", ".ca.crl.abc1234", ".ca.crl.abc-12", /* suffix too short, too long, not alnum */
		".ca.crlXabc123", "..abcdef", "...abcdef",           /* no dot before the suffix, no name, hidden name */
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put(w, files[i], "x");
	assert_int_equal(mkdirat(w->dirfd, ".ca.crl.DIR123", 0755), 0); /* right name, not a file */
	assert_int_equal(symlinkat("ca.crl", w->dirfd, ".ca.crl.LNK123"), 0);
}

static void install_cleanup__leftovers_of_name__only_those_removed(void **state)
{
	struct world *w = *state;

	make_cleanup_fixture(w);
	assert_int_equal(install_cleanup(w->dirfd, "ca.crl"), 3);
	assert_string_equal(listing(w), "...abcdef,..abcdef,.ca.crl,.ca.crl.DIR123,.ca.crl.LNK123,.ca.crl.abc-12,"
					".ca.crl.abc12,.ca.crl.abc1234,.ca.crlXabc123,.crlsync.lock,.other.crl.Q1w2E3,"
					".state,.x.aaaaaa,ca.crl,ca.crl.abc123");
	assert_int_equal(install_cleanup(w->dirfd, "ca.crl"), 0);
}

static void install_cleanup__null_name__leftovers_of_every_name_removed(void **state)
{
	struct world *w = *state;

	make_cleanup_fixture(w);
	assert_int_equal(install_cleanup(w->dirfd, NULL), 5);
	assert_string_equal(listing(w), "...abcdef,..abcdef,.ca.crl,.ca.crl.DIR123,.ca.crl.LNK123,.ca.crl.abc-12,"
					".ca.crl.abc12,.ca.crl.abc1234,.ca.crlXabc123,.crlsync.lock,.state,ca.crl,"
					"ca.crl.abc123");
}

/* The twin: nothing of ours, nothing removed. */
static void install_cleanup__no_leftovers__nothing_removed(void **state)
{
	struct world *w = *state;

	put(w, "ca.crl", "x");
	put(w, ".crlsync.lock", "");
	put(w, ".state", "x");
	assert_int_equal(install_cleanup(w->dirfd, "ca.crl"), 0);
	assert_int_equal(install_cleanup(w->dirfd, NULL), 0);
	assert_string_equal(listing(w), ".crlsync.lock,.state,ca.crl");
}

static void install_cleanup__bad_name__einval(void **state)
{
	struct world *w = *state;

	put(w, "..hidden.abcdef", "x");
	assert_int_equal(install_cleanup(w->dirfd, ".hidden"), -EINVAL);
	assert_int_equal(install_cleanup(w->dirfd, "a/b"), -EINVAL);
	assert_string_equal(listing(w), "..hidden.abcdef");
}

/* ---- SIGKILL at random points ---- */

#define BIG_LEN (8u << 20)
#define KILL_ROUNDS 20

static void fill(unsigned char *buf, size_t len, unsigned seed)
{
	uint32_t x = seed;

	for (size_t i = 0; i < len; i++) {
		x = x * 1664525u + 1013904223u;
		buf[i] = (unsigned char)(x >> 24);
	}
}

/*
 * A child installs two 8 MiB versions in turn, forever; the parent kills it 20 times at random
 * moments. The target is absent only before the first install ever completed; otherwise it is
 * exactly one version, never a mix or a prefix. Leftover temp files are what cleanup is for.
 */
static void install_file__killed_at_random_points__old_or_new_never_torn(void **state)
{
	struct world *w = *state;
	unsigned char *a = malloc(BIG_LEN), *b = malloc(BIG_LEN);
	unsigned seed = (unsigned)time(NULL) ^ ((unsigned)getpid() << 8);
	int seen_a = 0, seen_b = 0, leftovers = 0;
	bool existed = false;

	assert_non_null(a);
	assert_non_null(b);
	fill(a, BIG_LEN, 1);
	fill(b, BIG_LEN, 2);
	srand(seed);
	print_message("seed %u\n", seed);

	for (int round = 0; round < KILL_ROUNDS; round++) {
		char *got;
		size_t len = 0;
		int status, removed;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			for (unsigned i = 0; i < 100000; i++)
				if (install_file(w->dirfd, "big.crl", i % 2 ? b : a, BIG_LEN, 0644, NULL) < 0)
					_exit(3);
			_exit(0);
		}
		/* Up to 150 ms: from before the first write to several installs in (round 0: at once). */
		if (round > 0)
			usleep((useconds_t)(rand() % 150000));
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));

		got = get(w, "big.crl", &len);
		if (got == NULL) {
			assert_false(existed); /* a name never disappears once installed */
		} else {
			existed = true;
			assert_int_equal(len, BIG_LEN);
			if (memcmp(got, a, BIG_LEN) == 0)
				seen_a++;
			else if (memcmp(got, b, BIG_LEN) == 0)
				seen_b++;
			else
				fail_msg("round %d: big.crl is neither version (torn)", round);
			free(got);
		}
		removed = install_cleanup(w->dirfd, "big.crl");
		assert_true(removed >= 0 && removed <= 1);
		leftovers += removed;
		assert_string_equal(listing(w), existed ? "big.crl" : "");
	}
	print_message("%d rounds: version A %d, version B %d, absent %d, temp files cleaned %d\n", KILL_ROUNDS,
		      seen_a, seen_b, KILL_ROUNDS - seen_a - seen_b, leftovers);
	free(a);
	free(b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(install_file__fresh_dir_umask_077__mode_0644),
		T(install_file__mode_0600_umask_0__mode_0600),
		T(install_file__existing_file__content_replaced_inode_changed),
		T(install_file__existing_file_write_fails__content_and_inode_kept),
		T(install_file__empty_data__empty_file),
		T(install_file__null_data_with_length__einval),
		T(install_file__name_is_symlink__replaced_not_followed),
		T(install_file__name_is_directory__error_no_temp),
		T(install_temp_commit__written_in_pieces__renamed_mode_set_no_temp),
		T(install_temp_commit__renameat_exdev__error_old_kept_no_temp),
		T(install_temp_abort__verification_failed__temp_removed_old_kept),
		T(install_temp_open__bad_name_or_short_buffer__einval),
		T(install_inspect__regular_file__zero_with_stat),
		T(install_inspect__symlink_to_file__eloop_target_then_replaced),
		T(install_inspect__dangling_long_symlink__eloop_truncated),
		T(install_inspect__absent_dir_fifo_bad_name__errors),
		T(install_file__short_writes_and_eintr__complete_file),
		T(install_file__temp_name__hidden_with_six_char_suffix),
		T(install_file__two_installs__different_temp_names),
		T(install_file__write_enospc__error_old_kept_no_temp),
		T(install_file__write_returns_zero__eio_no_temp),
		T(install_file__fsync_eio__error_old_kept_no_temp),
		T(install_file__renameat_exdev__error_old_kept_no_temp),
		T(install_file__renameat_exdev_no_old_file__absent_no_temp),
		T(install_file__dir_fsync_eio__one_new_file_in_place),
		T(install_file__bad_names__einval),
		T(install_file__dotted_names__accepted),
		T(install_file__longest_name__accepted),
		T(install_file__name_one_too_long__enametoolong),
		T(install_cleanup__leftovers_of_name__only_those_removed),
		T(install_cleanup__null_name__leftovers_of_every_name_removed),
		T(install_cleanup__no_leftovers__nothing_removed),
		T(install_cleanup__bad_name__einval),
		T(install_file__killed_at_random_points__old_or_new_never_torn),
	};

	return cmocka_run_group_tests_name("install", tests, NULL, NULL);
}
