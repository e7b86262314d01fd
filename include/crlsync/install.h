/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Atomic installation of files into cache-dir (after unbound-anchor): temp file, fsync, rename, fsync dir. */
#ifndef CRLSYNC_INSTALL_H
#define CRLSYNC_INSTALL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * The system calls install_file() makes, replaceable for fault injection in tests.
 * NULL members (or a NULL ops pointer) mean the real call.
 */
struct install_ops {
	ssize_t (*write)(int fd, const void *buf, size_t len);
	int (*fsync)(int fd);
	int (*renameat)(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
};

/*
 * Installs `data` as `name` in the directory open as `dirfd` (opened O_RDONLY, not O_PATH: it is fsynced): creates ".NAME.XXXXXX" there with
 * O_CREAT|O_EXCL (random suffix, retried on collision), sets `mode` (fchmod, so the umask does not
 * matter), writes everything, fsyncs, renames over `name`, then fsyncs the directory. On any
 * failure the temporary file is removed and `name` is untouched. Returns 0 when installed, -errno
 * when not (`name` untouched), or 1 when installed but the final directory fsync failed (errno
 * says why): the new file is in place and readers see it, yet a crash could still bring back the
 * old one. Callers treat 1 as installed, with a warning.
 */
int install_file(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		 const struct install_ops *ops);

/*
 * install_file() in steps, for data that arrives in pieces (a download written straight to disk,
 * never held in memory whole). install_temp_open() creates ".NAME.XXXXXX" in dirfd with
 * O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, open read-write (the caller may map it read-only to verify
 * what it wrote) and returns its descriptor (>= 0) with the temp name in `tmp` (tmplen >= NAME_MAX
 * + 1), or -errno. The caller then either installs it with install_temp_commit() (fchmod `mode`,
 * fsync, rename over `name`, fsync dirfd; the same returns as install_file(); on failure the temp
 * file is removed and `name` untouched) or drops it with install_temp_abort(). Both close `fd`
 * whatever happens; only ops->fsync and ops->renameat are used.
 */
int install_temp_open(int dirfd, const char *name, char *tmp, size_t tmplen);
int install_temp_commit(int dirfd, const char *tmp, int fd, const char *name, mode_t mode,
			const struct install_ops *ops);
void install_temp_abort(int dirfd, const char *tmp, int fd);

/*
 * What is installed as `name` in dirfd, never following a symbolic link: 0 with *st filled for a
 * regular file; -ELOOP for a symbolic link, with its target (sanitised, truncated to fit) in
 * `target` when targetlen > 0; -EISDIR for a directory, -EINVAL for another type or a name
 * install_file() refuses, -ENOENT when absent, another -errno when it cannot be looked at.
 * A link at `name` is no CRL to read; install_file() replaces the link itself (rename(2) does not
 * follow it), never its target.
 */
int install_inspect(int dirfd, const char *name, struct stat *st, char *target, size_t targetlen);

/*
 * Removes temporary files ".NAME.XXXXXX" left behind by a process killed mid-install (only call
 * while holding the lock). `name` NULL removes those of every name. Returns how many were removed,
 * or -errno.
 */
int install_cleanup(int dirfd, const char *name);

/*
 * The PEM form of a DER CRL ("-----BEGIN X509 CRL-----", base64 in 64-column lines, by OpenSSL's
 * PEM writer), in a new buffer (caller frees) of *pemlen bytes, NUL-terminated one byte past them.
 * Returns 0 or -ENOMEM.
 */
int install_pem_encode(const unsigned char *der, size_t len, char **pem, size_t *pemlen);

#endif
