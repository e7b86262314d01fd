/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Atomic installation into cache-dir: hidden O_EXCL temp file, fsync, rename over the name, fsync the directory. */
#include "crlsync/install.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "crlsync/cachedir.h"
#include "crlsync/text.h"

/* ".NAME.XXXXXX": the leading dot hides the temp file from the plugin (cachedir_visible()). */
#define INSTALL_SUFFIX_LEN 6
#define INSTALL_TMP_EXTRA (1 + 1 + INSTALL_SUFFIX_LEN) /* the two dots and the suffix */
/* 62^6 suffixes: a collision is already unlikely; more than this many in a row means something else is wrong. */
#define INSTALL_MAX_TRIES 64

static const char install_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
#define INSTALL_ALPHABET_LEN (sizeof(install_alphabet) - 1)

/* A name the plugin will read: a plain, non-hidden entry of cache-dir. 0 or -EINVAL/-ENAMETOOLONG. */
static int install_check_name(const char *name)
{
	size_t len;

	if (!cachedir_visible(name) || strchr(name, '/') != NULL)
		return -EINVAL; /* also refuses "." and "..", which are hidden */
	len = strlen(name);
	if (len + INSTALL_TMP_EXTRA > NAME_MAX)
		return -ENAMETOOLONG; /* its temp name would not fit */
	return 0;
}

static bool install_is_suffix_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Fills buf with len random bytes: getrandom(), or /dev/urandom where it is missing or would block. */
static int install_random(unsigned char *buf, size_t len)
{
	size_t got = 0;
	int fd, r = 0;

	while (got < len) {
		/* GRND_NONBLOCK: early at boot the pool may not be ready, and names need no crypto. */
		ssize_t n = getrandom(buf + got, len - got, GRND_NONBLOCK);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != ENOSYS && errno != EAGAIN)
			return -errno;
		break;
	}
	if (got == len)
		return 0;

	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto out;
		}
		got += (size_t)n;
	}
out:
	close(fd);
	return r;
}

/* Writes ".NAME.XXXXXX" into tmp (NAME_MAX + 1 bytes), the suffix drawn without modulo bias. */
static int install_tmp_name(char *tmp, size_t tmplen, const char *name)
{
	unsigned char rnd[32];
	size_t used = sizeof(rnd), pos;
	int r;

	r = snprintf(tmp, tmplen, ".%s.", name);
	if (r < 0 || (size_t)r + INSTALL_SUFFIX_LEN >= tmplen)
		return -ENAMETOOLONG;
	pos = (size_t)r;
	while (pos < (size_t)r + INSTALL_SUFFIX_LEN) {
		unsigned char b;

		if (used == sizeof(rnd)) {
			int e = install_random(rnd, sizeof(rnd));

			if (e < 0)
				return e;
			used = 0;
		}
		b = rnd[used++];
		/* 248 = 4 * 62: bytes above would favour the first letters. */
		if (b >= 256 - 256 % INSTALL_ALPHABET_LEN)
			continue;
		tmp[pos++] = install_alphabet[b % INSTALL_ALPHABET_LEN];
	}
	tmp[pos] = '\0';
	return 0;
}

/* write() until done: retries EINTR, continues after short writes. 0 or -errno. */
static int install_write_all(int fd, const unsigned char *p, size_t len,
			     ssize_t (*wr)(int fd, const void *buf, size_t len))
{
	while (len > 0) {
		ssize_t n = wr(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0 || (size_t)n > len)
			return -EIO; /* no progress (or a broken write): never loop forever */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int install_temp_open(int dirfd, const char *name, char *tmp, size_t tmplen)
{
	int fd = -1, r;

	r = install_check_name(name);
	if (r < 0)
		return r;
	if (tmplen < NAME_MAX + 1)
		return -EINVAL;
	for (int tries = 0; fd < 0; tries++) {
		if (tries == INSTALL_MAX_TRIES)
			return -EEXIST;
		r = install_tmp_name(tmp, tmplen, name);
		if (r < 0)
			return r;
		/* O_EXCL|O_NOFOLLOW: never write through a file or a symlink someone else put there. */
		fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	return fd;
}

void install_temp_abort(int dirfd, const char *tmp, int fd)
{
	if (fd >= 0)
		close(fd);
	if (tmp != NULL && tmp[0] != '\0')
		unlinkat(dirfd, tmp, 0);
}

int install_temp_commit(int dirfd, const char *tmp, int fd, const char *name, mode_t mode,
			const struct install_ops *ops)
{
	int (*sync)(int) = ops && ops->fsync ? ops->fsync : fsync;
	int (*ren)(int, const char *, int, const char *) = ops && ops->renameat ? ops->renameat : renameat;
	bool created = true;
	int r;

	r = install_check_name(name);
	if (r < 0)
		goto out;
	/* fchmod, not the open mode: the umask of the fetcher must not decide what the plugin may read. */
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		goto out;
	}
	/* The data must be on disk before the name points at it, or a crash leaves an empty CRL. */
	if (sync(fd) < 0) {
		r = -errno;
		goto out;
	}
	r = close(fd);
	fd = -1; /* closed even when close() fails (Linux): never close it twice */
	if (r < 0) {
		r = -errno;
		goto out;
	}
	if (ren(dirfd, tmp, dirfd, name) < 0) {
		r = -errno;
		goto out;
	}
	created = false; /* the temp name is gone: it is `name` now */
	/*
	 * Makes the rename itself durable. When this fails the new file is in place (readers see it)
	 * but maybe not on disk: that is not "not installed", so it is 1, with errno saying why.
	 */
	r = sync(dirfd) < 0 ? 1 : 0; /* nothing below touches errno: fd is closed, the temp name gone */
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlinkat(dirfd, tmp, 0);
	return r;
}

int install_file(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		 const struct install_ops *ops)
{
	ssize_t (*wr)(int, const void *, size_t) = ops && ops->write ? ops->write : write;
	char tmp[NAME_MAX + 1];
	int fd, r;

	r = install_check_name(name);
	if (r < 0)
		return r;
	if (data == NULL && len > 0)
		return -EINVAL;
	fd = install_temp_open(dirfd, name, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	r = install_write_all(fd, data, len, wr);
	if (r < 0) {
		install_temp_abort(dirfd, tmp, fd);
		return r;
	}
	return install_temp_commit(dirfd, tmp, fd, name, mode, ops);
}

int install_inspect(int dirfd, const char *name, struct stat *st, char *target, size_t targetlen)
{
	ssize_t n;
	int r;

	if (targetlen > 0)
		target[0] = '\0';
	r = install_check_name(name);
	if (r < 0)
		return r;
	/* Never follows: a link must neither be read as the installed CRL nor hide it (ELOOP). */
	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) != 0)
		return -errno;
	if (S_ISREG(st->st_mode))
		return 0;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISLNK(st->st_mode))
		return -EINVAL;
	if (targetlen > 0) {
		n = readlinkat(dirfd, name, target, targetlen - 1);
		if (n < 0)
			snprintf(target, targetlen, "?");
		else
			target[n] = '\0'; /* truncated when longer: only shown */
		text_sanitize(target);
	}
	return -ELOOP;
}

/*
 * Whether `entry` is ".NAME.XXXXXX" for this `name` (or, when name is NULL, for any name that
 * install_file() accepts) with exactly INSTALL_SUFFIX_LEN suffix characters from the alphabet.
 */
static bool install_is_leftover(const char *entry, const char *name)
{
	size_t len = strlen(entry), mid;
	char base[NAME_MAX + 1];

	if (len < 1 + INSTALL_TMP_EXTRA || entry[0] != '.' || entry[len - INSTALL_SUFFIX_LEN - 1] != '.')
		return false;
	for (size_t i = len - INSTALL_SUFFIX_LEN; i < len; i++)
		if (!install_is_suffix_char(entry[i]))
			return false;
	mid = len - INSTALL_TMP_EXTRA; /* length of the NAME part */
	if (name != NULL)
		return strlen(name) == mid && memcmp(entry + 1, name, mid) == 0;
	if (mid >= sizeof(base))
		return false;
	memcpy(base, entry + 1, mid);
	base[mid] = '\0';
	return install_check_name(base) == 0;
}

int install_cleanup(int dirfd, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd, removed = 0;

	if (name != NULL && install_check_name(name) < 0)
		return -EINVAL;
	/* Our own open file description: fdopendir(dup()) would share (and move) the caller's offset. */
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		int r = -errno;

		close(fd);
		return r;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (!install_is_leftover(de->d_name, name))
			continue;
		/* Only regular files: a directory or symlink with such a name is not ours. */
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd, de->d_name, 0) == 0)
			removed++;
	}
	closedir(d); /* closes fd */
	return removed;
}

int install_pem_encode(const unsigned char *der, size_t len, char **pem, size_t *pemlen)
{
	BIO *bio = NULL;
	char *data, *out = NULL;
	long n;
	int rc = -ENOMEM;

	*pem = NULL;
	*pemlen = 0;
	/* OpenSSL's own PEM writer: RFC 7468 form, base64 in 64-column lines, as `openssl crl' writes it. */
	if (len > LONG_MAX || (bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio(bio, PEM_STRING_X509_CRL, "", der, (long)len) <= 0)
		goto out;
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || (out = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(out, data, (size_t)n);
	out[n] = '\0'; /* also a string */
	*pem = out;
	*pemlen = (size_t)n;
	rc = 0;
out:
	ERR_clear_error();
	BIO_free(bio);
	return rc;
}
