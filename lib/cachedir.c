/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cache-dir contract shared by the plugin, its watch thread, the installer and the fetcher (cachedir.h). */
#include "crlsync/cachedir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

bool cachedir_visible(const char *name)
{
	return name != NULL && name[0] != '\0' && name[0] != '.';
}

static const char *with_suffix(const char *source, const char *suffix, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s%s", source, suffix);

	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0'; /* never a truncated name: it could be another file */
	return buf;
}

const char *cachedir_crl_name(const char *source, char *buf, size_t len)
{
	return with_suffix(source, CACHEDIR_CRL_SUFFIX, buf, len);
}

const char *cachedir_pem_name(const char *source, char *buf, size_t len)
{
	return with_suffix(source, CACHEDIR_PEM_SUFFIX, buf, len);
}

bool cachedir_is_pem_twin(int dirfd, const char *name)
{
	const size_t sl = sizeof(CACHEDIR_PEM_SUFFIX) - 1;
	size_t n = strlen(name);
	char base[NAME_MAX + 1], twin[NAME_MAX + 1];
	struct stat st;

	if (n <= sl || n >= sizeof(base) || strcmp(name + n - sl, CACHEDIR_PEM_SUFFIX) != 0)
		return false;
	memcpy(base, name, n - sl);
	base[n - sl] = '\0';
	if (cachedir_crl_name(base, twin, sizeof(twin))[0] == '\0')
		return false;
	return fstatat(dirfd, twin, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int cachedir_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int cachedir_create(const char *path)
{
	return mkdir(path, 0755) != 0 && errno != EEXIST ? -errno : 0;
}

/* EINTR is returned, not retried: a blocking wait stays interruptible by the caller's signals. */
int cachedir_lock(int dirfd, bool wait)
{
	int fd, r;

	fd = openat(dirfd, CACHEDIR_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	/* flock, not fcntl locks: held per open file description, so a second open in the same process conflicts too. */
	if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

void cachedir_unlock(int lockfd)
{
	if (lockfd < 0)
		return;
	/* Explicitly: a forked child may still share the descriptor, and close() alone would keep the lock. */
	flock(lockfd, LOCK_UN);
	close(lockfd);
}

int cachedir_state_open(int dirfd, bool create)
{
	int fd;

	if (create && mkdirat(dirfd, CACHEDIR_STATE, 0755) != 0 && errno != EEXIST)
		return -errno;
	fd = openat(dirfd, CACHEDIR_STATE, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}
