/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one capped whole-file reader (file.h): regular files only, never a hang, never past the cap. */
#include "crlsync/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; glibc 2.36's headers lack it */
#endif

/*
 * Faults a big buffer's pages in with one call before read() fills it: 40 MB in 4 KiB pages is
 * ten thousand page faults, 120 ms on a virtual machine, 70 ms this way. Not huge pages: the
 * plugin releases the buffer's pages as it parses (CRL_LOAD_DISCARD), at 4 KiB granularity. An
 * older kernel says EINVAL and the faults happen one by one, as before.
 */
static void prefault(void *p, size_t len)
{
	uintptr_t page = 4096, a = ((uintptr_t)p + page - 1) & ~(page - 1), b = ((uintptr_t)p + len) & ~(page - 1);

	if (len >= ((size_t)4 << 20) && b > a)
		(void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
}

static void release(unsigned char *b, size_t alloc, bool secret)
{
	if (b != NULL && secret)
		OPENSSL_cleanse(b, alloc);
	free(b);
}

/* Grows *b from `alloc` to `want` bytes, `have` of them in use; a secret is copied and wiped, never realloc()ed. */
static int grow(unsigned char **b, size_t have, size_t alloc, size_t want, bool secret)
{
	unsigned char *nb;

	if (!secret) {
		nb = realloc(*b, want);
		if (nb == NULL)
			return -ENOMEM;
		*b = nb;
		return 0;
	}
	nb = malloc(want);
	if (nb == NULL)
		return -ENOMEM;
	memcpy(nb, *b, have);
	release(*b, alloc, true);
	*b = nb;
	return 0;
}

int file_read_ex(int dirfd, const char *path, unsigned flags, size_t cap, unsigned char **buf, size_t *len,
		 struct file_info *info)
{
	bool secret = (flags & FILE_SECRET) != 0;
	unsigned char *b = NULL;
	size_t have = 0, alloc = 0;
	struct stat st;
	int fd, fl, r = 0;

	*buf = NULL;
	*len = 0;
	if (info != NULL)
		*info = (struct file_info){ false, 0 };
	if (cap > SIZE_MAX / 2)
		cap = SIZE_MAX / 2;
	fd = openat(dirfd, path,
		    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | ((flags & FILE_NOFOLLOW) ? O_NOFOLLOW : 0));
	if (fd < 0)
		return -errno;
	if (info != NULL)
		info->opened = true;
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out;
	}
	if (info != NULL)
		info->type = st.st_mode & S_IFMT;
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if ((unsigned long long)st.st_size > cap) {
		r = -EFBIG;
		goto out;
	}
	/* A regular file from here on: plain blocking reads. */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		r = -errno;
		goto out;
	}
	/* The size, one byte more to notice a file that grew while we read it, and the NUL. */
	alloc = (size_t)st.st_size + 2;
	b = malloc(alloc);
	if (b == NULL) {
		r = -ENOMEM;
		goto out;
	}
	prefault(b, alloc);
	for (;;) {
		ssize_t n = read(fd, b + have, alloc - 1 - have);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > cap) {
			r = -EFBIG;
			goto out;
		}
		if (have == alloc - 1) {
			/* cap + 1 bytes tell "larger" from "exactly cap"; + the NUL. */
			size_t want = alloc > (cap + 2) / 2 ? cap + 2 : alloc * 2;

			r = grow(&b, have, alloc, want, secret);
			if (r != 0)
				goto out;
			alloc = want;
		}
	}
	b[have] = '\0';
	*buf = b;
	*len = have;
	b = NULL; /* transferred */
out:
	release(b, alloc, secret);
	close(fd);
	return r;
}

int file_read(const char *path, size_t cap, unsigned char **buf, size_t *len)
{
	return file_read_ex(AT_FDCWD, path, 0, cap, buf, len, NULL);
}

int file_read_at(int dirfd, const char *path, size_t cap, unsigned char **buf, size_t *len)
{
	return file_read_ex(dirfd, path, FILE_NOFOLLOW, cap, buf, len, NULL);
}

int file_map_at(int dirfd, const char *path, size_t cap, const unsigned char **map, size_t *len)
{
	static const unsigned char empty[1];
	struct stat st;
	void *m;
	int fd, r = 0;

	*map = NULL;
	*len = 0;
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	if ((unsigned long long)st.st_size > cap) {
		r = -EFBIG;
		goto out;
	}
	if (st.st_size == 0) {
		*map = empty;
		goto out;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	*map = m;
	*len = (size_t)st.st_size;
out:
	close(fd);
	return r;
}

void file_unmap(const unsigned char *map, size_t len)
{
	if (map != NULL && len > 0)
		munmap((void *)map, len);
}

int file_open_at(int dirfd, const char *path, size_t cap, size_t *size)
{
	struct stat st;
	int fd, fl, r;

	*size = 0;
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto fail;
	}
	if ((unsigned long long)st.st_size > cap) {
		r = -EFBIG;
		goto fail;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		r = -errno;
		goto fail;
	}
	*size = (size_t)st.st_size;
	return fd;
fail:
	close(fd);
	return r;
}
