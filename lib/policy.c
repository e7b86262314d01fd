/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one place where a revocation check becomes a verdict; everything not explicitly relaxed is rejected. */
#include "crlsync/policy.h"

#include <stdio.h>

void policy_from_cfg(const struct cfg *cfg, struct policy *p)
{
	p->missing = cfg->plugin.missing;
	p->expired = cfg->plugin.expired;
	p->grace = cfg->plugin.grace;
}

enum verdict policy_decide(const struct policy *p, const struct check_result *r, time_t now, char *explain,
			   size_t len)
{
	long long left;

	explain[0] = '\0';
	switch (r->status) {
	case CHECK_GOOD:
		return VERDICT_ACCEPT;
	case CHECK_UNKNOWN:
		if (p->missing == CFG_ACCEPT) {
			snprintf(explain, len, "missing=accept");
			return VERDICT_ACCEPT_RELAXED;
		}
		snprintf(explain, len, "missing=reject");
		return VERDICT_REJECT;
	case CHECK_STALE:
		if (p->expired == CFG_ACCEPT) {
			snprintf(explain, len, "expired=accept");
			return VERDICT_ACCEPT_RELAXED;
		}
		if (r->crl != NULL && p->grace > 0) {
			left = (long long)r->crl->next_update + p->grace - (long long)now;
			if (left >= 0) {
				snprintf(explain, len, "within grace, %lld s left", left);
				return VERDICT_ACCEPT_RELAXED;
			}
			snprintf(explain, len, "expired=reject, grace of %lld s exhausted", p->grace);
			return VERDICT_REJECT;
		}
		snprintf(explain, len, "expired=reject");
		return VERDICT_REJECT;
	case CHECK_REVOKED:
	case CHECK_ERROR:
		break;
	}
	return VERDICT_REJECT;
}

bool policy_evicts(const struct policy *p, const struct check_result *r, time_t now)
{
	char explain[96];

	/* A missing CRL does not evict: a deleted file must not disconnect everyone. */
	return r->status == CHECK_REVOKED ||
	       (r->status == CHECK_STALE && policy_decide(p, r, now, explain, sizeof(explain)) == VERDICT_REJECT);
}

bool policy_rejects_from(const struct policy *p, const struct crl *c, long long *at)
{
	*at = 0;
	if (p->expired != CFG_REJECT || !(c->flags & CRL_HAS_NEXT_UPDATE))
		return false;
	/* policy_decide() relaxes up to nextUpdate + grace inclusive: the first rejecting second is one later. */
	return !__builtin_add_overflow((long long)c->next_update, p->grace, at) && !__builtin_add_overflow(*at, 1LL, at);
}
