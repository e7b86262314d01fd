/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The strongSwan sink: hands installed CRLs to a running charon over vici and confirms what it holds. */
#ifndef CRLSYNC_FETCHER_CHARON_H
#define CRLSYNC_FETCHER_CHARON_H

#include <stdbool.h>

#include "crlsync/config.h"
#include "crlsync/log.h"
#include "state.h"

#define CHARON_TIMEOUT_MS 5000 /* per vici connect, read or write (a whole request: VICI_REQUEST_SPAN of them) */

/*
 * Makes the charon at cfg->strongswan.vici hold the CRL installed for `src` (described by *st),
 * then asks charon what it holds. `installed`: a new CRL was installed in this pass, or charon is
 * a new one (restarted): hand it over without first asking whether charon holds it.
 *   - complete CRLs of up to 65,535 bytes: `load-cert` (X509_CRL, DER), then `flush-certs` X509_CRL
 *     (so that no older fetched copy in charon's cache is used instead), then `list-certs` X509_CRL
 *     must return the installed DER byte for byte;
 *   - larger ones: charon must have an authority whose crl_uris list file://CACHE-DIR/NAME.crl
 *     (`list-authorities`); its cache is flushed so that its next revocation check reads the file,
 *     and `list-certs` must show no other CRL of the issuer that would be used instead;
 *   - CRLs with an issuingDistributionPoint are not handed over unless load-scoped = yes.
 * Without a CRL in *st, or without [strongswan] vici, does nothing. Logs to `log'. Records the outcome in the
 * charon fields of *st and saves the state; never touches the installed file. Returns true when
 * charon holds the CRL (or it is deliberately not loaded), false on any error (logged with the
 * socket and the source; retried on the next call). abort_fd (-1: none) is polled during every
 * wait: once readable (SIGTERM) the hand-over is abandoned (false, logged as a note, the previous
 * outcome kept).
 * `unreachable` is shared by the calls of one pass (start it false): set when charon could not be
 * reached or stopped answering, so that the next sources of the pass fail at once instead of each
 * waiting for its own timeout (a hung charon holds a pass up for one timeout, not one per source).
 */
bool charon_sync(const struct log_sink *log, const struct cfg *cfg, int dirfd, const struct cfg_source *src,
		 struct src_state *st, bool installed, int abort_fd, bool *unreachable);

#endif
