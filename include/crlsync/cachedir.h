/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cache-dir contract, once: which names the plugin sees, NAME.crl, the lock, .state, and opening the directory. */
#ifndef CRLSYNC_CACHEDIR_H
#define CRLSYNC_CACHEDIR_H

#include <stdbool.h>
#include <stddef.h>

/*
 * cache-dir is the only channel from the fetcher (its one writer) to the plugin (docs/ARCHITECTURE.md):
 *
 *  - a name that starts with a dot is the fetcher's, never a CRL: the installer's temporary files
 *    (".NAME.XXXXXX"), the lock and the state; every other name is visible, and the plugin loads
 *    every visible regular file but a PEM twin;
 *  - NAME.crl is the CRL of source NAME (DER), NAME.pem its PEM twin (`pem = yes');
 *  - CACHEDIR_LOCK serialises installs between crlsync processes;
 *  - CACHEDIR_STATE/NAME.json is the fetcher's record of source NAME.
 */
#define CACHEDIR_LOCK ".crlsync.lock"
#define CACHEDIR_STATE ".state"
#define CACHEDIR_CRL_SUFFIX ".crl"
#define CACHEDIR_PEM_SUFFIX ".pem"

/*
 * Whether the plugin sees `name': true unless it is empty or starts with a dot ("." and ".."
 * included). The fetcher's own files are hidden; a source name may therefore not start with a dot.
 */
bool cachedir_visible(const char *name);

/*
 * "SOURCE.crl" (or "SOURCE.pem") into buf of len bytes; returns buf. A name that does not fit
 * gives "" (no file name, refused by install_file()), never a truncated name of another file.
 */
const char *cachedir_crl_name(const char *source, char *buf, size_t len);
const char *cachedir_pem_name(const char *source, char *buf, size_t len);

/*
 * `pem = yes' keeps NAME.pem, the PEM form of NAME.crl, beside it for consumers that want PEM
 * (ocserv, HAProxy, nginx). It is the same CRL: whoever loads cache-dir (the plugin) must skip it.
 * True when `name' is "X.pem" and "X.crl" is a regular file in dirfd: a PEM with a DER twin. A
 * PEM bundle an administrator drops in cache-dir under a name of its own is still loaded.
 */
bool cachedir_is_pem_twin(int dirfd, const char *name);

/*
 * Opens the directory at `path' (O_RDONLY, not O_PATH: it can be fsynced and listed; close-on-exec).
 * Returns the fd or -errno. cachedir_create() first makes it (0755) when it is missing: 0 or -errno.
 */
int cachedir_open(const char *path);
int cachedir_create(const char *path);

/*
 * Takes the cache-dir lock (flock on CACHEDIR_LOCK in dirfd, created 0644 if needed, never through
 * a symbolic link) so that two crlsync processes never install at once. With wait false returns
 * -EWOULDBLOCK when held; with wait true a signal that interrupts the wait gives -EINTR.
 * Returns the lock descriptor (>= 0) or -errno. Release with cachedir_unlock() (-1: a no-op).
 */
int cachedir_lock(int dirfd, bool wait);
void cachedir_unlock(int lockfd);

/*
 * Opens CACHEDIR_STATE below dirfd (never through a symbolic link), first creating it 0755 when
 * `create' (readable by monitoring: no secret in it). Returns the fd or -errno.
 */
int cachedir_state_open(int dirfd, bool create);

#endif
