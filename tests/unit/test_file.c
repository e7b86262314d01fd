/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of lib/file.c: the one capped reader (regular files only, the cap, NUL, symlinks, secrets). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "crlsync/file.h"
#include "pki.h"

static struct {
	char *dir;
} fx;

static int group_setup(void **state)
{
	(void)state;
	fx.dir = pki_tmpdir();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	pki_rmtree(fx.dir);
	free(fx.dir);
	return 0;
}

static void file_read__regular__whole_content(void **state)
{
	static const char content[] = "0123456789";
	const char *p = pki_path(fx.dir, "ten");
	unsigned char *buf = (unsigned char *)0x1;
	size_t len = 99;

	(void)state;
	pki_write_file(p, content, 10);
	assert_int_equal(file_read(p, 1000, &buf, &len), 0);
	assert_int_equal(len, 10);
	assert_memory_equal(buf, content, 10);
	free(buf);
	/* Exactly at the cap is still allowed. */
	assert_int_equal(file_read(p, 10, &buf, &len), 0);
	assert_int_equal(len, 10);
	free(buf);
}

static void file_read__empty__zero_length(void **state)
{
	const char *p = pki_path(fx.dir, "empty");
	unsigned char *buf = NULL;
	size_t len = 99;

	(void)state;
	pki_write_file(p, "", 0);
	assert_int_equal(file_read(p, 1000, &buf, &len), 0);
	assert_int_equal(len, 0);
	free(buf);
}

static void file_read__over_cap__efbig(void **state)
{
	static const char content[] = "0123456789";
	const char *p = pki_path(fx.dir, "eleven");
	unsigned char *buf = (unsigned char *)0x1;
	size_t len = 99;

	(void)state;
	pki_write_file(p, content, 10);
	assert_int_equal(file_read(p, 9, &buf, &len), -EFBIG);
	assert_null(buf);
	assert_int_equal(len, 0);
}

static void file_read__missing__enoent(void **state)
{
	unsigned char *buf = (unsigned char *)0x1;
	size_t len = 99;

	(void)state;
	assert_int_equal(file_read(pki_path(fx.dir, "no-such-file"), 1000, &buf, &len), -ENOENT);
	assert_null(buf);
	assert_int_equal(len, 0);
}

static void file_read__directory__eisdir(void **state)
{
	unsigned char *buf = (unsigned char *)0x1;
	size_t len = 99;

	(void)state;
	assert_int_equal(file_read(fx.dir, 1000, &buf, &len), -EISDIR);
	assert_null(buf);
}

static void file_read__fifo__einval(void **state)
{
	const char *p = pki_path(fx.dir, "fifo");
	unsigned char *buf = (unsigned char *)0x1;
	size_t len = 99;

	(void)state;
	unlink(p);
	assert_int_equal(mkfifo(p, 0600), 0);
	/* Must not block on a FIFO nobody writes to. */
	assert_int_equal(file_read(p, 1000, &buf, &len), -EINVAL);
	assert_null(buf);
	unlink(p);
}

static void file_read_at__relative_to_dirfd__read(void **state)
{
	int dfd = open(fx.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unsigned char *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_true(dfd >= 0);
	pki_write_file(pki_path(fx.dir, "at"), "abc", 3);
	assert_int_equal(file_read_at(dfd, "at", 100, &buf, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "abc", 3);
	free(buf);
	/* Twin: a name that is not in that directory. */
	assert_int_equal(file_read_at(dfd, "not-there", 100, &buf, &len), -ENOENT);
	assert_null(buf);
	close(dfd);
}

static void file_read__any_content__nul_past_the_end(void **state)
{
	const char *p = pki_path(fx.dir, "text");
	unsigned char *buf = NULL;
	size_t len = 0;

	(void)state;
	pki_write_file(p, "a\0b", 3);
	assert_int_equal(file_read(p, 100, &buf, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "a\0b\0", 4);
	free(buf);
	/* Twin: an empty file is an empty string, not NULL. */
	pki_write_file(p, "", 0);
	assert_int_equal(file_read(p, 100, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(buf[0], '\0');
	free(buf);
}

/* /proc files say size 0 and hold more: the reader grows the buffer, and the cap still holds. */
static void file_read_ex__size_unknown_ahead__grows_to_content(void **state)
{
	unsigned char *buf = NULL;
	size_t len = 0;

	(void)state;
	for (unsigned flags = 0; flags <= FILE_SECRET; flags += FILE_SECRET) {
		assert_int_equal(file_read_ex(AT_FDCWD, "/proc/self/status", flags, 1 << 20, &buf, &len, NULL), 0);
		assert_true(len > 100);
		assert_int_equal(buf[len], '\0');
		assert_non_null(strstr((char *)buf, "Name:"));
		free(buf);
		/* Twin: the same file over a small cap. */
		assert_int_equal(file_read_ex(AT_FDCWD, "/proc/self/status", flags, 64, &buf, &len, NULL), -EFBIG);
		assert_null(buf);
		assert_int_equal(len, 0);
	}
}

static void file_read_at__symlink__eloop(void **state)
{
	int dfd = open(fx.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unsigned char *buf = (unsigned char *)0x1;
	size_t len = 99;

	(void)state;
	assert_true(dfd >= 0);
	pki_write_file(pki_path(fx.dir, "target"), "secret", 6);
	unlink(pki_path(fx.dir, "link"));
	assert_int_equal(symlink("target", pki_path(fx.dir, "link")), 0);
	assert_int_equal(file_read_at(dfd, "link", 100, &buf, &len), -ELOOP);
	assert_null(buf);
	/* Twin: a path the user named follows the link. */
	assert_int_equal(file_read(pki_path(fx.dir, "link"), 100, &buf, &len), 0);
	assert_memory_equal(buf, "secret", 6);
	free(buf);
	close(dfd);
}

/* The readers a piece at a time (issue 14): the same refusals as file_read_at(), then the file. */
static void file_open_at__regular__fd_and_size_refusals_as_file_read_at(void **state)
{
	int dfd = open(fx.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;
	char buf[8];
	size_t size = 99;

	(void)state;
	assert_true(dfd >= 0);
	pki_write_file(pki_path(fx.dir, "open-at"), "abcdef", 6);
	fd = file_open_at(dfd, "open-at", 100, &size);
	assert_true(fd >= 0);
	assert_int_equal(size, 6);
	assert_int_equal(pread(fd, buf, sizeof(buf), 2), 4);
	assert_memory_equal(buf, "cdef", 4);
	close(fd);
	assert_int_equal(file_open_at(dfd, "open-at", 5, &size), -EFBIG);
	assert_int_equal(file_open_at(dfd, "not-there", 100, &size), -ENOENT);
	assert_int_equal(file_open_at(dfd, ".", 100, &size), -EISDIR);
	unlink(pki_path(fx.dir, "open-link"));
	assert_int_equal(symlink("open-at", pki_path(fx.dir, "open-link")), 0);
	assert_int_equal(file_open_at(dfd, "open-link", 100, &size), -ELOOP);
	unlink(pki_path(fx.dir, "open-fifo"));
	assert_int_equal(mkfifo(pki_path(fx.dir, "open-fifo"), 0600), 0);
	assert_int_equal(file_open_at(dfd, "open-fifo", 100, &size), -EINVAL); /* and no hang */
	close(dfd);
}

static void file_map_at__regular_and_empty__mapped_refusals_as_file_read_at(void **state)
{
	int dfd = open(fx.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const unsigned char *map = NULL;
	size_t len = 99;

	(void)state;
	assert_true(dfd >= 0);
	pki_write_file(pki_path(fx.dir, "map-at"), "mapped", 6);
	assert_int_equal(file_map_at(dfd, "map-at", 100, &map, &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(map, "mapped", 6);
	file_unmap(map, len);
	pki_write_file(pki_path(fx.dir, "map-empty"), "", 0);
	assert_int_equal(file_map_at(dfd, "map-empty", 100, &map, &len), 0);
	assert_non_null(map);
	assert_int_equal(len, 0);
	file_unmap(map, len);
	assert_int_equal(file_map_at(dfd, "map-at", 5, &map, &len), -EFBIG);
	assert_null(map);
	unlink(pki_path(fx.dir, "map-link"));
	assert_int_equal(symlink("map-at", pki_path(fx.dir, "map-link")), 0);
	assert_int_equal(file_map_at(dfd, "map-link", 100, &map, &len), -ELOOP);
	assert_null(map);
	close(dfd);
}

static void file_read_ex__fifo__info_says_fifo_opened(void **state)
{
	const char *p = pki_path(fx.dir, "fifo2");
	struct file_info fi = { false, 0 };
	unsigned char *buf = NULL;
	size_t len = 0;

	(void)state;
	unlink(p);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(file_read_ex(AT_FDCWD, p, FILE_SECRET, 100, &buf, &len, &fi), -EINVAL);
	assert_true(fi.opened);
	assert_int_equal(fi.type, S_IFIFO);
	unlink(p);
	/* Twin: a missing file was never opened. */
	assert_int_equal(file_read_ex(AT_FDCWD, p, 0, 100, &buf, &len, &fi), -ENOENT);
	assert_false(fi.opened);
	assert_int_equal(fi.type, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(file_read__regular__whole_content),
		cmocka_unit_test(file_read__empty__zero_length),
		cmocka_unit_test(file_read__over_cap__efbig),
		cmocka_unit_test(file_read__missing__enoent),
		cmocka_unit_test(file_read__directory__eisdir),
		cmocka_unit_test(file_read__fifo__einval),
		cmocka_unit_test(file_read_at__relative_to_dirfd__read),
		cmocka_unit_test(file_read__any_content__nul_past_the_end),
		cmocka_unit_test(file_read_ex__size_unknown_ahead__grows_to_content),
		cmocka_unit_test(file_read_at__symlink__eloop),
		cmocka_unit_test(file_read_ex__fifo__info_says_fifo_opened),
		cmocka_unit_test(file_open_at__regular__fd_and_size_refusals_as_file_read_at),
		cmocka_unit_test(file_map_at__regular_and_empty__mapped_refusals_as_file_read_at),
	};

	return cmocka_run_group_tests_name("file", tests, group_setup, group_teardown);
}
