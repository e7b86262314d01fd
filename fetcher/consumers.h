/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Other CRL consumers (ocserv, HAProxy, nginx): NAME.pem beside NAME.crl, and the on-install command. */
#ifndef CRLSYNC_FETCHER_CONSUMERS_H
#define CRLSYNC_FETCHER_CONSUMERS_H

#include <stdbool.h>
#include <stddef.h>

#include "crlsync/config.h"
#include "crlsync/log.h"
#include "state.h"

/*
 * `pem = yes': installs cache-dir/NAME.pem, the PEM form of `der', atomically (install_file()),
 * right after NAME.crl. Returns 0 (also when pem = no) or -errno; on failure `err' says why (the
 * DER install stands: the caller records it for health).
 */
int consumers_write_pem(int dirfd, const struct cfg_source *src, const unsigned char *der, size_t len, char *err,
			size_t errlen);

/*
 * After a pass, for one source: when `installed' (a new CRL this pass), or when the consumers of
 * the installed CRL failed last time (then NAME.pem is rewritten from NAME.crl and the command run
 * again), runs the source's on-install command (or [global]'s) with /bin/sh -c, as this process'
 * user, with CRLSYNC_SOURCE, CRLSYNC_FILE, CRLSYNC_PEM (pem = yes) and CRLSYNC_NUMBER in its
 * environment, stdin /dev/null, its output logged, killed after on-install-timeout. `pem_err' is
 * the consumers_write_pem() error of this pass ("" or NULL: none). Records the outcome in st->hook*
 * and returns true when st changed (the caller saves it). Never touches the installed CRL.
 * abort_fd (or -1): when it becomes readable (SIGTERM), the command is killed.
 */
bool consumers_after_pass(const struct log_sink *log, const struct cfg *cfg, int dirfd, const struct cfg_source *src,
			  struct src_state *st, bool installed, const char *pem_err, int abort_fd);

/*
 * Runs `command' with /bin/sh -c and `env' (NULL-terminated "K=V" added to the environment) for at
 * most timeout_s seconds. Returns 0 when it exited 0, 1 when it failed (exit status, signal), 2 on
 * timeout (killed), -errno when it could not be started; `detail' holds one sanitised line (how it
 * ended, and the first line of its output). For tests too.
 */
int consumers_run(const struct log_sink *log, const char *command, char *const env[], long long timeout_s,
		  int abort_fd, char *detail, size_t detaillen);

#endif
