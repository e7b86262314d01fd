/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verdict, in one home: what a revocation check means for a handshake, and for a connected client. */
#ifndef CRLSYNC_POLICY_H
#define CRLSYNC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "crlsync/check.h"
#include "crlsync/config.h"
#include "crlsync/crl.h"

enum verdict {
	VERDICT_ACCEPT = 0,
	VERDICT_ACCEPT_RELAXED,    /* accepted only because a policy relaxes fail-closed: log a warning */
	VERDICT_REJECT,
};

struct policy {
	enum cfg_action missing;
	enum cfg_action expired;
	long long grace;
};

void policy_from_cfg(const struct cfg *cfg, struct policy *p);

/*
 * The one place a check result becomes a verdict. Revoked and error always reject; unknown follows
 * `missing`; stale follows `expired`, and with expired=reject is still accepted (relaxed) until
 * nextUpdate + grace. Sets *explain to a short phrase for the log ("within grace, 120 s left").
 */
enum verdict policy_decide(const struct policy *p, const struct check_result *r, time_t now, char *explain,
			   size_t len);

/*
 * Whether a client already connected must go (the eviction thread): when revoked, or when its CRL
 * expired and policy_decide() now rejects it. A missing CRL (unknown) never evicts, nor does an
 * error: a deleted or damaged file must not disconnect everyone; new handshakes still follow
 * policy_decide().
 */
bool policy_evicts(const struct policy *p, const struct check_result *r, time_t now);

/*
 * When `c', once past nextUpdate, starts to reject under p: nextUpdate + grace + 1 (policy_decide()
 * rejects from that second on), in *at. False when it never does (expired = accept, no nextUpdate,
 * or a time past what a long long holds).
 */
bool policy_rejects_from(const struct policy *p, const struct crl *c, long long *at);

#endif
