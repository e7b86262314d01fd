/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one capped reader of a whole file: CRLs, the configuration, password files. */
#ifndef CRLSYNC_FILE_H
#define CRLSYNC_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* How file_read_ex() opens and keeps a file. */
enum file_read_flags {
	/*
	 * Refuse a symlink (-ELOOP). For names in a directory another user writes (cache-dir belongs
	 * to the unprivileged fetcher): a link there must not make a root process read another file.
	 */
	FILE_NOFOLLOW = 1U << 0,
	/*
	 * The bytes may be a secret (a password file, a configuration with URL credentials): every
	 * block freed on the way is wiped first, so the buffer is never realloc()ed.
	 */
	FILE_SECRET = 1U << 1,
};

/* What file_read_ex() saw, for a message that says why: "cannot open" or "a FIFO, not a regular file". */
struct file_info {
	bool opened; /* open() succeeded */
	mode_t type; /* st_mode & S_IFMT once fstat() succeeded, else 0 */
};

/*
 * Reads a whole regular file of at most `cap` bytes. The file is opened O_NONBLOCK, so that a
 * FIFO without a writer cannot hang the open, and refused unless it is a regular file before any
 * read: a FIFO or a device would block or never end (/dev/zero). The cap holds on the size and
 * again while reading (a file that grows). Returns 0 with *buf (malloc'd, the caller frees it; with
 * FILE_SECRET, wipes it first) and *len; the buffer always has a NUL one byte past *len, so a text
 * can be used as a string whatever it holds. Else -errno, with *buf NULL: -EFBIG when larger than
 * `cap`, -EISDIR for a directory, -EINVAL for any other file that is not regular, -ELOOP for a
 * symlink with FILE_NOFOLLOW. `dirfd` is AT_FDCWD or a directory for a relative `path`; `info`
 * may be NULL.
 */
int file_read_ex(int dirfd, const char *path, unsigned flags, size_t cap, unsigned char **buf, size_t *len,
		 struct file_info *info);

/* A path the user named (symlinks are theirs to follow): file_read_ex(AT_FDCWD, path, 0, ...). */
int file_read(const char *path, size_t cap, unsigned char **buf, size_t *len);

/* A name in a directory others may write: file_read_ex(dirfd, path, FILE_NOFOLLOW, ...). */
int file_read_at(int dirfd, const char *path, size_t cap, unsigned char **buf, size_t *len);

/*
 * A read-only mapping of the regular file `path` in dirfd (never through a symlink: -ELOOP) of at
 * most `cap` bytes, for a reader that releases what it has read (CRL_LOAD_MAPPED): a 400 MB CRL then
 * never sits in memory whole. Only for files that nobody truncates in place (cache-dir, where
 * files are replaced by rename): a file cut short under the mapping faults its reader (SIGBUS).
 * Returns 0 with *map and *len (an empty file: a valid pointer and 0), which file_unmap() releases;
 * else -errno as file_read_ex() says, *map NULL.
 */
int file_map_at(int dirfd, const char *path, size_t cap, const unsigned char **map, size_t *len);
void file_unmap(const unsigned char *map, size_t len);

/*
 * Opens the regular file `path` in dirfd for reading as file_read_at() would read it (never through
 * a symlink, never hanging on a FIFO, at most `cap` bytes), for a reader that takes it a piece at a
 * time with pread() (crl_from_file_at()). Returns the descriptor (the caller closes it) with its size
 * in *size, or -errno as file_read_ex() says.
 */
int file_open_at(int dirfd, const char *path, size_t cap, size_t *size);

#endif
