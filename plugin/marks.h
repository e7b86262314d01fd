/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plugin's rollback marks across restarts and SIGHUP: a file only root (or OpenVPN's euid) can write, or memory. */
#ifndef CRLSYNC_PLUGIN_MARKS_H
#define CRLSYNC_PLUGIN_MARKS_H

#include <stddef.h>

#include "crlsync/config.h"
#include "crlsync/log.h"
#include "crlsync/mark.h"

/*
 * The newest CRL the plugin ever enforced per issuer and scope must outlive it: a restart or a
 * SIGHUP would otherwise let an older, still validly signed CRL in cache-dir (the fetcher's user
 * owns it) undo revocations. The marks live in `[plugin] marks-file' (CFG_DEFAULT_MARKS_FILE),
 * which the fetcher's user must not be able to rewrite (mark_file_open() checks owner and modes).
 *
 * The file is opened at the first open (OpenVPN still root) and its fd kept for the process
 * (persist_fd_put()): the reopen on SIGHUP, after OpenVPN dropped privileges, reads and writes
 * through it (no rename is possible then: mark_file_write()'s two slots make every write safe in
 * place). When the default path cannot be used (OpenVPN started unprivileged, no /var/lib), the
 * marks are kept in memory across SIGHUP (persist_put()) with one warning that a restart loses
 * them; an explicitly configured marks-file that cannot be used stops the plugin.
 */
struct plugin_marks;

/* At each plugin open. Returns 0 and *out, or -errno (logged: refuse to start). */
int plugin_marks_open(const struct cfg *cfg, const struct log_sink *log, struct plugin_marks **out);

/* The marks the store loader must respect (store_loader_set_marks()). */
const struct mark *plugin_marks_initial(const struct plugin_marks *pm, size_t *n);

/* A store_marks_fn: keeps the whole raised set (the file through its fd, and memory). */
void plugin_marks_save(void *ctx, const struct mark *marks, size_t n);

void plugin_marks_free(struct plugin_marks *pm);

#endif
