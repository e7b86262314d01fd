/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crlsync health [--warn D] [--crit D]: one monitoring-plugins line and exit code for every source (health.c decides). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "crlsync/cachedir.h"
#include "crlsync/text.h"
#include "fetcher.h"
#include "health.h"
#include "monitor.h"

/* No `|' in the text part: it starts the perfdata. */
static void no_pipes(char *s)
{
	for (; *s; s++)
		if (*s == '|')
			*s = '/';
}

static bool parse_threshold(const char *opt, const char *s, long long *out)
{
	if (s == NULL) {
		*out = -1;
		return true;
	}
	if (!cfg_parse_seconds(s, out)) {
		printf("CRLSYNC UNKNOWN - bad value `%.64s' for %s (a duration: 3600, 90m, 6h, 2d)\n", s, opt);
		return false;
	}
	return true;
}

/*
 * The installed delta CRL of v's source as a view of its own, named NAME+ (crlsync(8) DELTA CRLS):
 * its nextUpdate governs freshness while it applies, so it is judged like a base. False when no
 * delta is installed.
 */
static bool delta_view(int dirfd, const struct source_view *v, struct cfg_source *dsrc, struct source_view *dv)
{
	size_t nl = strnlen(v->src->name, CFG_NAME_MAX);
	char fname[CFG_NAME_MAX + 8];
	struct stat sb;

	if (!v->have_delta || !v->dst.have_crl || nl >= CFG_NAME_MAX)
		return false;
	*dsrc = *v->src;
	dsrc->name[nl] = '+';
	dsrc->name[nl + 1] = '\0';
	memset(dv, 0, sizeof(*dv));
	dv->src = dsrc;
	dv->st = v->dst; /* borrowed: cleared with v */
	cachedir_crl_name(dsrc->name, fname, sizeof(fname));
	if (fstatat(dirfd, fname, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		dv->file_err = -errno;
	else if (!S_ISREG(sb.st_mode))
		dv->file_err = -ENOENT;
	else
		dv->file_mtime = sb.st_mtim.tv_sec;
	return true;
}

int health_main(struct fetcher *f, int argc, char *argv[])
{
	struct health_params p = { .now = time(NULL) };
	struct source_view *views = NULL;
	struct gateway_view gw;
	enum health_state worst = HEALTH_OK;
	const struct cfg *cfg;
	struct fetcher_run run;
	char summary[2048] = "", perf[4096] = "";
	size_t n_ok = 0;
	int dirfd, rc;

	(void)argc;
	(void)argv;
	memset(&gw, 0, sizeof(gw));
	if (!parse_threshold("--warn", f->opts.warn, &p.warn) || !parse_threshold("--crit", f->opts.crit, &p.crit))
		return HEALTH_UNKNOWN;
	/*
	 * Monitoring-plugins: every failure to check is UNKNOWN (3), with one line that says why.
	 * Read-only, as whoever runs it (nagios, prometheus): cache-dir is not created, no user switch.
	 */
	rc = fetcher_begin(f, FETCHER_READ, &run);
	cfg = run.cfg;
	dirfd = run.dirfd;
	if (rc == EXIT_CONFIG) {
		text_sanitize(run.err);
		no_pipes(run.err);
		printf("CRLSYNC UNKNOWN - configuration: %s\n", run.err);
		fetcher_end(&run);
		return HEALTH_UNKNOWN;
	}
	p.grace = cfg->plugin.grace;
	if (cfg->n_sources == 0) {
		printf("CRLSYNC UNKNOWN - no [source] configured in %s\n", cfg->path);
		fetcher_end(&run);
		return HEALTH_UNKNOWN;
	}
	if (rc != EXIT_OK) {
		int e = -run.dir_err;

		printf("CRLSYNC %s - cannot open cache-dir %s as uid %ld: %s\n", e == ENOENT ? "CRITICAL" : "UNKNOWN",
		       cfg->global.cache_dir, (long)geteuid(), strerror(e));
		fetcher_end(&run);
		return e == ENOENT ? HEALTH_CRITICAL : HEALTH_UNKNOWN;
	}
	views = calloc(cfg->n_sources, sizeof(*views));
	if (views == NULL) {
		printf("CRLSYNC UNKNOWN - out of memory\n");
		fetcher_end(&run);
		return HEALTH_UNKNOWN;
	}
	monitor_views_load(cfg, dirfd, views);
	gateway_load(cfg, &gw);
	for (int pass = 0; pass < 2; pass++) {
		/* Worst first (pass 0: the problems), then what is fine, so that the line starts with the news. */
		for (size_t i = 0, k = 0; i < cfg->n_sources; k = !k, i += !k) {
			const struct source_view *v = &views[i];
			struct health_src_in in;
			struct health_src_out out;
			struct cfg_source dsrc;
			struct source_view dv;
			size_t n;

			/* k = 1: the source's delta, when one is installed, as NAME+ (not counted as a source) */
			if (k == 1) {
				if (!delta_view(dirfd, v, &dsrc, &dv))
					continue;
				v = &dv;
			}
			monitor_health_in(v, &gw, &in);
			health_source(&p, &in, &out);
			if ((pass == 0) != (out.state != HEALTH_OK))
				continue;
			if (pass == 0) {
				worst = health_worse(worst, out.state);
			} else if (k == 0) {
				n_ok++;
			}
			n = strlen(summary);
			snprintf(summary + n, sizeof(summary) - n, "%s%s: %s%s%s", n ? "; " : "", v->src->name,
				 out.state != HEALTH_OK ? health_state_name(out.state) : "", out.state != HEALTH_OK ? " " : "",
				 out.why);
			/* Perfdata (monitoring-plugins): 'label'=value[UOM];warn;crit;min;max */
			n = strlen(perf);
			if (out.has_left)
				snprintf(perf + n, sizeof(perf) - n, "%s%s_expires_in=%llds;%lld;%lld;; ", "", v->src->name,
					 out.left, out.warn, out.crit);
			n = strlen(perf);
			snprintf(perf + n, sizeof(perf) - n, "%s_failures=%u;;;0; %s_entries=%llu;;;0; ", v->src->name,
				 v->st.failures, v->src->name, v->st.entries);
		}
	}
	if (gw.configured && gw.err == 0) {
		size_t n = strlen(perf);

		snprintf(perf + n, sizeof(perf) - n, "gateway_accept=%luc;;;0; gateway_reject=%luc;;;0; ", gw.accept,
			 gw.reject);
	}
	if (perf[0] != '\0')
		perf[strlen(perf) - 1] = '\0';
	text_sanitize(summary);
	no_pipes(summary);
	printf("CRLSYNC %s - %zu/%zu source(s) OK: %s | %s\n", health_state_name(worst), n_ok, cfg->n_sources, summary,
	       perf);
	monitor_views_clear(cfg, views);
	free(views);
	gateway_clear(&gw);
	fetcher_end(&run);
	return fflush(stdout) == 0 ? (int)worst : HEALTH_UNKNOWN;
}
