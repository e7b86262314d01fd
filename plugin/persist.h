/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the plugin keeps for the life of the OpenVPN process, across its close and reopen on SIGHUP. */
#ifndef CRLSYNC_PLUGIN_PERSIST_H
#define CRLSYNC_PLUGIN_PERSIST_H

#include <stdbool.h>
#include <stddef.h>

/*
 * OpenVPN closes and reopens its plugins on SIGHUP, after it has dropped root: what the plugin could
 * only read or open as root (a 0600 password file, its root-owned rollback marks) must outlive that.
 * The .so is linked with `-z nodelete`, so OpenVPN's dlclose() leaves it mapped and the next
 * dlopen() finds these statics as they were. Everything here is kept until the process exits.
 * Callers are OpenVPN's main thread (open/close) and the plugin's threads; a mutex guards it.
 */

/* At most this many keys of each kind (blobs, fds); a key is at most PERSIST_KEY_MAX bytes. */
#define PERSIST_SLOTS 16
#define PERSIST_KEY_MAX 4096

/*
 * Keeps a copy of `len` bytes under `key`, replacing (and, when `secret`, wiping) what was there.
 * Returns 0, -ENOSPC when every slot is taken, -ENAMETOOLONG or -ENOMEM.
 */
int persist_put(const char *key, const void *data, size_t len, bool secret);

/*
 * A copy of what is kept under `key`, NUL-terminated one byte past *len (so a text can be used as a
 * string); the caller frees it with persist_wipe_free(). Returns 0, -ENOENT or -ENOMEM.
 */
int persist_get(const char *key, char **data, size_t *len);

/* Wipes `len` bytes (a secret) and frees; NULL is a no-op. */
void persist_wipe_free(char *data, size_t len);

/*
 * Keeps `fd` open for the process' lifetime under `key` (the caller gives it up; a former fd of the
 * same key is closed). Returns 0 or -ENOSPC / -ENAMETOOLONG (then fd is closed).
 */
int persist_fd_put(const char *key, int fd);

/* The fd kept under `key`, or -1. It stays owned here: the caller must not close it. */
int persist_fd_get(const char *key);

/* Forgets everything (closes the fds, wipes the blobs). For tests only. */
void persist_reset(void);

#endif
