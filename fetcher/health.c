/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crlsync health: thresholds and states of one source, without any I/O (the command is in monitor.c). */
#include "health.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *health_state_name(enum health_state s)
{
	switch (s) {
	case HEALTH_OK: return "OK";
	case HEALTH_WARNING: return "WARNING";
	case HEALTH_CRITICAL: return "CRITICAL";
	default: return "UNKNOWN";
	}
}

static int rank(enum health_state s)
{
	switch (s) {
	case HEALTH_OK: return 0;
	case HEALTH_UNKNOWN: return 1;
	case HEALTH_WARNING: return 2;
	default: return 3;
	}
}

enum health_state health_worse(enum health_state a, enum health_state b)
{
	return rank(a) >= rank(b) ? a : b;
}

void health_duration(long long secs, char *buf, size_t len)
{
	unsigned long long s = secs < 0 ? (unsigned long long)-secs : (unsigned long long)secs;

	if (s >= 86400)
		snprintf(buf, len, "%llud %lluh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%lluh %llum", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%llum %llus", s / 60, s % 60);
	else
		snprintf(buf, len, "%llus", s);
}

static bool is_hex(const char *s)
{
	return s != NULL && s[0] != '\0' && strspn(s, "0123456789abcdefABCDEF") == strlen(s);
}

int health_number_cmp(const char *a, const char *b)
{
	size_t la, lb;

	if (!is_hex(a) || !is_hex(b))
		return is_hex(a) - is_hex(b);
	while (*a == '0' && a[1] != '\0')
		a++;
	while (*b == '0' && b[1] != '\0')
		b++;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return la < lb ? -1 : 1;
	for (; *a; a++, b++) {
		int ca = *a >= 'a' ? *a - 'a' + 'A' : *a, cb = *b >= 'a' ? *b - 'a' + 'A' : *b;

		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return 0;
}

/* Appends `s' to dst (of size len), truncating. */
static void append(char *dst, size_t len, const char *s)
{
	size_t n = strlen(dst), m = strlen(s);

	if (n + 1 >= len)
		return;
	if (m > len - n - 1)
		m = len - n - 1;
	memcpy(dst + n, s, m);
	dst[n + m] = '\0';
}

/* Raises out->state to s, and puts `why' first when it is the worst so far. */
static void note(struct health_src_out *out, enum health_state s, const char *why)
{
	char old[sizeof(out->why)];

	if (out->why[0] == '\0' || (health_worse(s, out->state) == s && s != out->state)) {
		memcpy(old, out->why, sizeof(old));
		out->why[0] = '\0';
		append(out->why, sizeof(out->why), why);
		if (old[0] != '\0') {
			append(out->why, sizeof(out->why), "; ");
			append(out->why, sizeof(out->why), old);
		}
	} else {
		append(out->why, sizeof(out->why), "; ");
		append(out->why, sizeof(out->why), why);
	}
	out->state = health_worse(out->state, s);
}

void health_source(const struct health_params *p, const struct health_src_in *in, struct health_src_out *out)
{
	char msg[400], d[32];

	memset(out, 0, sizeof(*out));
	out->state = HEALTH_OK;
	if (in->state_err != 0) {
		snprintf(msg, sizeof(msg), "cannot read its state (.state/%s.json): %s", in->name, strerror(-in->state_err));
		note(out, HEALTH_UNKNOWN, msg);
		return;
	}
	if (in->file_err != 0 && in->file_err != -ENOENT) {
		snprintf(msg, sizeof(msg), "cannot look at %s.crl: %s", in->name, strerror(-in->file_err));
		note(out, HEALTH_UNKNOWN, msg);
		return;
	}
	if (!in->have_crl || in->file_err != 0) {
		snprintf(msg, sizeof(msg), "no CRL installed%s%s%s", in->last_result ? " (last attempt: " : "",
			 in->last_result ? in->last_result : "", in->last_result ? ")" : "");
		note(out, HEALTH_CRITICAL, msg);
		return;
	}
	if (in->has_next_update) {
		long long validity = (long long)(in->next_update - in->this_update);

		if (validity < 0)
			validity = 0;
		out->has_left = true;
		out->left = (long long)(in->next_update - p->now) + p->grace;
		out->warn = p->warn >= 0 ? p->warn : validity / 4;
		out->crit = p->crit >= 0 ? p->crit : (validity / 8 < HEALTH_CRIT_DEFAULT_MAX ? validity / 8
											: HEALTH_CRIT_DEFAULT_MAX);
		if (out->left <= 0) {
			health_duration(out->left, d, sizeof(d));
			snprintf(msg, sizeof(msg), "CRL number %s expired %s ago%s", in->number, d,
				 p->grace > 0 ? " (nextUpdate + grace)" : "");
			note(out, HEALTH_CRITICAL, msg);
		} else if (out->left <= out->crit) {
			health_duration(out->left, d, sizeof(d));
			snprintf(msg, sizeof(msg), "CRL number %s expires in %s", in->number, d);
			note(out, HEALTH_CRITICAL, msg);
		} else if (out->left <= out->warn) {
			health_duration(out->left, d, sizeof(d));
			snprintf(msg, sizeof(msg), "CRL number %s expires in %s", in->number, d);
			note(out, HEALTH_WARNING, msg);
		}
	}
	if (in->failures > 0) {
		snprintf(msg, sizeof(msg), "last attempt failed (%s%s%s, %u in a row)", in->result && in->result[0] ? in->result : "error",
			 in->last_result ? ": " : "", in->last_result ? in->last_result : "", in->failures);
		note(out, HEALTH_WARNING, msg);
	}
	if (in->hook != NULL && (strcmp(in->hook, "failed") == 0 || strcmp(in->hook, "timeout") == 0) &&
	    in->hook_number != NULL && strcmp(in->hook_number, in->number) == 0) {
		snprintf(msg, sizeof(msg), "on-install %s for number %s: %s",
			 strcmp(in->hook, "timeout") == 0 ? "timed out" : "failed", in->number,
			 in->hook_detail ? in->hook_detail : "");
		note(out, HEALTH_WARNING, msg);
	}
	if (in->charon != NULL && strcmp(in->charon, "error") == 0) {
		snprintf(msg, sizeof(msg), "charon does not hold it (see crlsync status)");
		note(out, HEALTH_WARNING, msg);
	}
	if (in->gw_configured) {
		long long since = (long long)(p->now - in->installed_at);

		if (in->gw_err != 0) {
			snprintf(msg, sizeof(msg), "cannot read the gateway's status-file: %s", strerror(-in->gw_err));
			note(out, HEALTH_UNKNOWN, msg);
		} else if ((!in->gw_listed || health_number_cmp(in->gw_number, in->number) < 0) &&
			   since > HEALTH_GATEWAY_LAG) {
			health_duration(since, d, sizeof(d));
			if (in->gw_listed)
				snprintf(msg, sizeof(msg), "the gateway enforces number %s, %s installed %s ago", in->gw_number,
					 in->number, d);
			else
				snprintf(msg, sizeof(msg), "the gateway enforces no CRL from %s.crl, number %s installed %s ago",
					 in->name, in->number, d);
			note(out, HEALTH_CRITICAL, msg);
		}
	}
	if (out->state == HEALTH_OK) {
		if (out->has_left) {
			health_duration(out->left, d, sizeof(d));
			snprintf(out->why, sizeof(out->why), "number %s valid for %s", in->number, d);
		} else {
			snprintf(out->why, sizeof(out->why), "number %s (no nextUpdate)", in->number);
		}
	}
}
