/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Monitoring: the views of sources and gateway, and the Prometheus metrics (status --prometheus, metrics-file). */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "crlsync/cachedir.h"
#include "crlsync/install.h"
#include "crlsync/text.h"
#include "crlsync/log.h"

#define GATEWAY_FILE_MAX (4 * 1024 * 1024)

/* --- the gateway's status file ------------------------------------------------------------ */

static time_t iso_time(json_t *v)
{
	const char *s = json_string_value(v);
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return 0;
	return timegm(&tm);
}

static void jcopy(char *dst, size_t len, json_t *v)
{
	text_sanitize_copy(dst, len, json_string_value(v));
}

static unsigned long jul(json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));

	return v > 0 ? (unsigned long)v : 0;
}

void gateway_clear(struct gateway_view *gw)
{
	free(gw->crls);
	memset(gw, 0, sizeof(*gw));
}

void gateway_load(const struct cfg *cfg, struct gateway_view *gw)
{
	json_error_t jerr;
	json_t *o = NULL, *crls, *cnt, *pol, *lr;
	struct stat sb;
	int fd;
	FILE *f;

	memset(gw, 0, sizeof(*gw));
	if (cfg->plugin.status_file == NULL)
		return;
	gw->configured = true;
	/* OpenVPN's user writes it: a FIFO must not hang monitoring, a huge file not eat memory. */
	fd = open(cfg->plugin.status_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		gw->err = -errno;
		return;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > GATEWAY_FILE_MAX) {
		gw->err = -EINVAL;
		close(fd);
		return;
	}
	f = fdopen(fd, "r");
	if (f == NULL) {
		gw->err = -errno;
		close(fd);
		return;
	}
	o = json_loadf(f, 0, &jerr);
	fclose(f);
	if (!json_is_object(o) || !json_is_array(json_object_get(o, "crls"))) {
		gw->err = -EINVAL;
		goto out;
	}
	gw->generation = jul(o, "generation");
	gw->pid = (long)jul(o, "pid");
	gw->written = iso_time(json_object_get(o, "written"));
	pol = json_object_get(o, "policy");
	if (json_is_object(pol)) {
		char m[16], e[16];

		jcopy(m, sizeof(m), json_object_get(pol, "missing"));
		jcopy(e, sizeof(e), json_object_get(pol, "expired"));
		snprintf(gw->policy, sizeof(gw->policy), "missing=%s expired=%s grace=%lld", m, e,
			 (long long)json_integer_value(json_object_get(pol, "grace")));
	}
	cnt = json_object_get(o, "counters");
	gw->accept = jul(cnt, "accept");
	gw->reject = jul(cnt, "reject");
	gw->relaxed = jul(cnt, "relaxed");
	gw->evicted = jul(cnt, "evicted");
	gw->reload_failures = jul(cnt, "reload_failures");
	lr = json_object_get(o, "last_reload");
	gw->reload_time = iso_time(json_object_get(lr, "time"));
	jcopy(gw->reload_error, sizeof(gw->reload_error), json_object_get(lr, "error"));
	crls = json_object_get(o, "crls");
	gw->crls = calloc(json_array_size(crls) + 1, sizeof(*gw->crls));
	if (gw->crls == NULL) {
		gw->err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < json_array_size(crls); i++) {
		json_t *c = json_array_get(crls, i);
		struct gw_crl *g = &gw->crls[gw->n_crls];

		if (!json_is_object(c))
			continue;
		jcopy(g->file, sizeof(g->file), json_object_get(c, "file"));
		jcopy(g->source, sizeof(g->source), json_object_get(c, "source"));
		jcopy(g->number, sizeof(g->number), json_object_get(c, "number"));
		g->this_update = iso_time(json_object_get(c, "this_update"));
		g->next_update = iso_time(json_object_get(c, "next_update"));
		g->entries = jul(c, "entries");
		gw->n_crls++;
	}
out:
	json_decref(o);
}

const struct gw_crl *gateway_find(const struct gateway_view *gw, const char *source_name)
{
	char file[CFG_NAME_MAX + 8];
	const struct gw_crl *best = NULL;

	cachedir_crl_name(source_name, file, sizeof(file));
	for (size_t i = 0; gw->err == 0 && i < gw->n_crls; i++)
		if (strcmp(gw->crls[i].file, file) == 0 &&
		    (best == NULL || health_number_cmp(gw->crls[i].number, best->number) > 0))
			best = &gw->crls[i];
	return best;
}

/* --- the sources ------------------------------------------------------------------------- */

void monitor_views_load(const struct cfg *cfg, int dirfd, struct source_view *views)
{
	for (size_t i = 0; i < cfg->n_sources; i++) {
		struct source_view *v = &views[i];
		char fname[CFG_NAME_MAX + 8];
		struct stat sb;

		memset(v, 0, sizeof(*v));
		v->src = &cfg->sources[i];
		v->state_err = state_load(dirfd, v->src->name, &v->st);
		if (v->state_err != 0) {
			state_clear(&v->st);
		}
		/* Its delta, the pseudo-source NAME+ (crlsync(8) DELTA CRLS): shown apart from the base. */
		if (strlen(v->src->name) < CFG_NAME_MAX) {
			char dname[CFG_NAME_MAX + 2];

			snprintf(dname, sizeof(dname), "%.*s+", CFG_NAME_MAX - 1, v->src->name);
			v->have_delta = state_load(dirfd, dname, &v->dst) == 0 && (v->dst.have_crl || v->dst.last_attempt != 0);
			if (!v->have_delta)
				state_clear(&v->dst);
		}
		cachedir_crl_name(v->src->name, fname, sizeof(fname));
		if (fstatat(dirfd, fname, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			v->file_err = -errno;
		else if (!S_ISREG(sb.st_mode))
			v->file_err = -ENOENT; /* a link or a directory is no installed CRL */
		else
			v->file_mtime = sb.st_mtim.tv_sec;
	}
}

void monitor_views_clear(const struct cfg *cfg, struct source_view *views)
{
	for (size_t i = 0; views != NULL && i < cfg->n_sources; i++) {
		state_clear(&views[i].st);
		state_clear(&views[i].dst);
	}
}

void monitor_health_in(const struct source_view *v, const struct gateway_view *gw, struct health_src_in *in)
{
	const struct src_state *st = &v->st;
	const struct gw_crl *g = gw != NULL ? gateway_find(gw, v->src->name) : NULL;

	memset(in, 0, sizeof(*in));
	in->name = v->src->name;
	in->state_err = v->state_err;
	in->file_err = v->file_err;
	in->have_crl = st->have_crl;
	in->number = st->crl.number_hex;
	in->this_update = st->crl.this_update;
	in->has_next_update = st->has_next_update;
	in->next_update = st->next_update;
	in->installed_at = v->file_mtime;
	in->failures = st->failures;
	in->result = st->result;
	in->last_result = st->last_result;
	in->hook = st->hook;
	in->hook_number = st->hook_number;
	in->hook_detail = st->hook_detail;
	in->charon = st->charon;
	if (gw != NULL && gw->configured) {
		in->gw_configured = true;
		in->gw_err = gw->err;
		in->gw_listed = g != NULL;
		in->gw_number = g != NULL ? g->number : NULL;
		in->gw_written = gw->written;
	}
}

/* --- Prometheus ---------------------------------------------------------------------------- */

/* A label value: source names are [A-Za-z0-9._-]; other text is sanitised, `"' and `\' escaped. */
static void label(FILE *f, const char *s)
{
	char clean[320];

	text_sanitize_copy(clean, sizeof(clean), s);
	for (const char *c = clean; *c; c++) {
		if (*c == '"' || *c == '\\')
			fputc('\\', f);
		fputc(*c, f);
	}
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A CRL number as a float sample: exact up to 2^53; NaN without a number ("none"). */
static double number_value(const char *hex)
{
	double v = 0;

	if (hex == NULL || hex[0] == '\0' || strspn(hex, "0123456789abcdefABCDEF") != strlen(hex))
		return -1;
	for (const char *c = hex; *c; c++)
		v = v * 16 + (double)(*c <= '9' ? *c - '0' : (*c | 0x20) - 'a' + 10);
	return v;
}

#define PER_SOURCE(cond, fmt, ...)                                                                               \
	for (size_t i = 0; i < cfg->n_sources; i++) {                                                            \
		const struct source_view *v = &views[i];                                                         \
		const struct src_state *st = &v->st;                                                             \
		(void)st;                                                                                        \
		if (!(cond))                                                                                     \
			continue;                                                                                \
		fprintf(f, "%s{source=\"", metric);                                                              \
		label(f, v->src->name);                                                                          \
		fprintf(f, "\"} " fmt "\n", __VA_ARGS__);                                                        \
	}

int metrics_print(FILE *f, const struct cfg *cfg, const struct source_view *views, const struct gateway_view *gw,
		  time_t now)
{
	const char *metric;

	(void)now;
	metric = "crlsync_source_state_readable";
	head(f, metric, "gauge", "1 when the fetcher's state of the source could be read, 0 when not (then its other metrics are missing)");
	PER_SOURCE(true, "%d", v->state_err == 0);
	metric = "crlsync_crl_installed";
	head(f, metric, "gauge", "1 when a verified CRL is installed as cache-dir/NAME.crl");
	PER_SOURCE(v->state_err == 0, "%d", st->have_crl && v->file_err == 0);
	metric = "crlsync_crl_number";
	head(f, metric, "gauge", "crlNumber of the installed CRL (exact up to 2^53)");
	PER_SOURCE(v->state_err == 0 && st->have_crl && number_value(st->crl.number_hex) >= 0, "%.17g",
		   number_value(st->crl.number_hex));
	metric = "crlsync_crl_this_update_timestamp_seconds";
	head(f, metric, "gauge", "thisUpdate of the installed CRL, Unix time");
	PER_SOURCE(v->state_err == 0 && st->have_crl, "%lld", (long long)st->crl.this_update);
	metric = "crlsync_crl_next_update_timestamp_seconds";
	head(f, metric, "gauge", "nextUpdate of the installed CRL, Unix time (absent: the CRL has none)");
	PER_SOURCE(v->state_err == 0 && st->have_crl && st->has_next_update, "%lld", (long long)st->next_update);
	metric = "crlsync_crl_entries";
	head(f, metric, "gauge", "revoked certificates listed in the installed CRL");
	PER_SOURCE(v->state_err == 0 && st->have_crl, "%llu", st->entries);
	metric = "crlsync_last_success_timestamp_seconds";
	head(f, metric, "gauge", "last attempt that left the source fresh (installed or unchanged), Unix time");
	PER_SOURCE(v->state_err == 0 && st->last_success != 0, "%lld", (long long)st->last_success);
	metric = "crlsync_last_attempt_timestamp_seconds";
	head(f, metric, "gauge", "last attempt to refresh the source, Unix time");
	PER_SOURCE(v->state_err == 0 && st->last_attempt != 0, "%lld", (long long)st->last_attempt);
	metric = "crlsync_next_attempt_timestamp_seconds";
	head(f, metric, "gauge", "when the daemon plans the next attempt, Unix time");
	PER_SOURCE(v->state_err == 0 && st->next_attempt != 0, "%lld", (long long)st->next_attempt);
	metric = "crlsync_consecutive_failures";
	head(f, metric, "gauge", "failed attempts since the last success");
	PER_SOURCE(v->state_err == 0, "%u", st->failures);
	metric = "crlsync_last_result";
	head(f, metric, "gauge", "1 for the result code of the last attempt (crlsync(8): installed, not-modified, refused-rollback, ...)");
	for (size_t i = 0; i < cfg->n_sources; i++) {
		if (views[i].state_err != 0 || views[i].st.last_attempt == 0)
			continue;
		fprintf(f, "%s{source=\"", metric);
		label(f, views[i].src->name);
		fprintf(f, "\",result=\"");
		label(f, views[i].st.result[0] ? views[i].st.result : "unknown");
		fprintf(f, "\"} 1\n");
	}
	/* The delta CRLs (NAME+.crl), apart from their bases: the same names with crlsync_delta_. */
	metric = "crlsync_delta_crl_installed";
	head(f, metric, "gauge", "1 when a verified delta CRL is installed as cache-dir/NAME+.crl (absent: no delta attempted)");
	PER_SOURCE(v->have_delta, "%d", v->dst.have_crl);
	metric = "crlsync_delta_crl_number";
	head(f, metric, "gauge", "crlNumber of the installed delta CRL (exact up to 2^53)");
	PER_SOURCE(v->have_delta && v->dst.have_crl && number_value(v->dst.crl.number_hex) >= 0, "%.17g",
		   number_value(v->dst.crl.number_hex));
	metric = "crlsync_delta_crl_next_update_timestamp_seconds";
	head(f, metric, "gauge", "nextUpdate of the installed delta CRL, Unix time: it governs freshness while it applies");
	PER_SOURCE(v->have_delta && v->dst.have_crl && v->dst.has_next_update, "%lld", (long long)v->dst.next_update);
	metric = "crlsync_delta_crl_entries";
	head(f, metric, "gauge", "revoked certificates listed in the installed delta CRL");
	PER_SOURCE(v->have_delta && v->dst.have_crl, "%llu", v->dst.entries);
	metric = "crlsync_delta_last_result";
	head(f, metric, "gauge", "1 for the result code of the last attempt at the delta CRL (delta-pending, delta-superseded, ...)");
	for (size_t i = 0; i < cfg->n_sources; i++) {
		if (!views[i].have_delta || views[i].dst.last_attempt == 0)
			continue;
		fprintf(f, "%s{source=\"", metric);
		label(f, views[i].src->name);
		fprintf(f, "\",result=\"");
		label(f, views[i].dst.result[0] ? views[i].dst.result : "unknown");
		fprintf(f, "\"} 1\n");
	}
	metric = "crlsync_on_install_ok";
	head(f, metric, "gauge", "1 when the consumers (on-install command, NAME.pem) of the last install succeeded, 0 when they failed");
	PER_SOURCE(v->state_err == 0 && st->hook[0] != '\0', "%d", strcmp(st->hook, "ok") == 0);
	if (cfg->strongswan.vici != NULL) {
		static const char *const states[] = { "held", "on-demand", "not-loaded", "error" };

		metric = "crlsync_charon_state";
		head(f, metric, "gauge", "1 for what charon was last seen to do with the installed CRL ([strongswan])");
		for (size_t i = 0; i < cfg->n_sources; i++) {
			if (views[i].state_err != 0 || views[i].st.charon[0] == '\0')
				continue;
			for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
				fprintf(f, "%s{source=\"", metric);
				label(f, views[i].src->name);
				fprintf(f, "\",state=\"%s\"} %d\n", states[k], strcmp(views[i].st.charon, states[k]) == 0);
			}
		}
		metric = "crlsync_charon_holds_current";
		head(f, metric, "gauge", "1 when charon holds (or reads on demand) the installed CRL number");
		PER_SOURCE(v->state_err == 0 && st->charon[0] != '\0', "%d",
			   st->have_crl && strcmp(st->charon_number, st->crl.number_hex) == 0 &&
				   (strcmp(st->charon, "held") == 0 || strcmp(st->charon, "on-demand") == 0));
	}
	if (gw != NULL && gw->configured) {
		metric = "crlsync_plugin_status_readable";
		head(f, metric, "gauge", "1 when the OpenVPN plugin's status-file could be read");
		fprintf(f, "%s %d\n", metric, gw->err == 0);
		if (gw->err == 0) {
			static const struct {
				const char *name, *help;
			} c[] = {
				{ "crlsync_plugin_accept_total", "peer certificates (depth 0) the plugin accepted" },
				{ "crlsync_plugin_reject_total", "certificates the plugin refused" },
				{ "crlsync_plugin_relaxed_total", "certificates accepted only by a relaxed policy (missing or expired = accept, grace)" },
				{ "crlsync_plugin_evicted_total", "connected clients killed through the management interface" },
				{ "crlsync_plugin_reload_failures_total", "reloads of cache-dir that failed as a whole" },
			};
			const unsigned long val[] = { gw->accept, gw->reject, gw->relaxed, gw->evicted, gw->reload_failures };

			for (size_t k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
				head(f, c[k].name, "counter", c[k].help);
				fprintf(f, "%s %lu\n", c[k].name, val[k]);
			}
			metric = "crlsync_plugin_generation";
			head(f, metric, "gauge", "generation of the plugin's snapshot of CRLs in force");
			fprintf(f, "%s %lu\n", metric, gw->generation);
			metric = "crlsync_plugin_last_reload_timestamp_seconds";
			head(f, metric, "gauge", "the plugin's last reload, Unix time");
			fprintf(f, "%s %lld\n", metric, (long long)gw->reload_time);
			metric = "crlsync_plugin_last_reload_ok";
			head(f, metric, "gauge", "1 when the plugin's last reload succeeded");
			fprintf(f, "%s %d\n", metric, gw->reload_error[0] == '\0');
			metric = "crlsync_plugin_crl_number";
			head(f, metric, "gauge", "crlNumber of the CRL the plugin enforces from cache-dir/NAME.crl");
			for (size_t i = 0; i < cfg->n_sources; i++) {
				const struct gw_crl *g = gateway_find(gw, views[i].src->name);

				if (g == NULL || number_value(g->number) < 0)
					continue;
				fprintf(f, "%s{source=\"", metric);
				label(f, views[i].src->name);
				fprintf(f, "\"} %.17g\n", number_value(g->number));
			}
		}
	}
	return ferror(f) ? -EIO : 0;
}

int metrics_write_file(const struct log_sink *log, const struct cfg *cfg, int dirfd)
{
	struct source_view *views = NULL;
	struct gateway_view gw;
	char *text = NULL, dir[4096];
	const char *slash;
	size_t len = 0;
	FILE *f = NULL;
	int dfd = -1, r = 0;

	if (cfg->global.metrics_file == NULL)
		return 0;
	memset(&gw, 0, sizeof(gw));
	slash = strrchr(cfg->global.metrics_file, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash == cfg->global.metrics_file ? 1 : (int)(slash - cfg->global.metrics_file),
		 cfg->global.metrics_file);
	views = calloc(cfg->n_sources ? cfg->n_sources : 1, sizeof(*views));
	f = open_memstream(&text, &len);
	if (views == NULL || f == NULL) {
		r = -ENOMEM;
		goto out;
	}
	monitor_views_load(cfg, dirfd, views);
	gateway_load(cfg, &gw);
	r = metrics_print(f, cfg, views, &gw, time(NULL));
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	f = NULL;
	if (r != 0)
		goto out;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		goto out;
	}
	/* Readable by node_exporter; install_file()'s temporary name is hidden (.NAME.XXXXXX): not *.prom. */
	r = install_file(dfd, slash + 1, text, len, 0644, NULL);
	if (r > 0)
		r = 0;
out:
	if (r != 0)
		log_error(log, "metrics-file %s: cannot write it: %s", cfg->global.metrics_file, strerror(-r));
	if (f != NULL)
		fclose(f);
	if (dfd >= 0)
		close(dfd);
	monitor_views_clear(cfg, views);
	free(views);
	gateway_clear(&gw);
	free(text);
	return r;
}
