/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crlsync status: per source, the installed CRL and the fetcher's last and next attempts (table or JSON). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "crlsync/crl.h"
#include "crlsync/fmt.h"
#include "fetcher.h"
#include "monitor.h"
#include "state.h"

static void when(time_t t, char *buf, size_t len)
{
	if (t == 0)
		snprintf(buf, len, "-");
	else
		fmt_time(t, buf, len);
}

static json_t *jtime(time_t t)
{
	char buf[40];
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/*
 * Whether charon holds the installed CRL, as last seen by the fetcher (status does not ask charon):
 * "held", "on-demand", "not-loaded", "error" about the installed number, "stale(09)" when the last
 * outcome is about an older number (the current one not handed over yet), or "-".
 */
static void charon_word(const struct src_state *st, char *buf, size_t len)
{
	if (st->charon[0] == '\0' || !st->have_crl)
		snprintf(buf, len, "-");
	else if (strcmp(st->charon_number, st->crl.number_hex) != 0)
		snprintf(buf, len, "stale(%s)", st->charon_number); /* about an older CRL: the current one is pending */
	else
		snprintf(buf, len, "%s", st->charon);
}

/*
 * The default table fits an 80-column terminal (status --wide prints every column): SOURCE (up to
 * 16), NUMBER (8), nextUpdate and the next attempt to the minute in UTC, CHARON (10) with vici,
 * then RESULT in what is left. A longer field is cut, its last character `~'.
 */
enum { NARROW_COLS = 80, NARROW_NAME_MAX = 16, NARROW_NUMBER = 8, NARROW_CHARON = 10 };

static void cut(char *s, int w)
{
	if (w > 0 && (int)strlen(s) > w) {
		s[w - 1] = '~';
		s[w] = '\0';
	}
}

static void short_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(buf, len, "-");
	else
		strftime(buf, len, "%m-%d %H:%M", &tm);
}

static int narrow_name_width(const struct cfg *cfg)
{
	int w = (int)strlen("SOURCE");

	/* + 1: the row of a source's delta CRL, NAME+ (crlsync(8) DELTA CRLS). */
	for (size_t i = 0; i < cfg->n_sources; i++)
		if ((int)strlen(cfg->sources[i].name) + 1 > w)
			w = (int)strlen(cfg->sources[i].name) + 1;
	return w > NARROW_NAME_MAX ? NARROW_NAME_MAX : w;
}

static void narrow_header(const struct cfg *cfg, int nw)
{
	printf("%-*s %-*s %-12s %-11s %-*s%s\n", nw, "SOURCE", NARROW_NUMBER, "NUMBER", "NEXT UPDATE", "NEXT TRY",
	       cfg->strongswan.vici ? NARROW_CHARON + 1 : 0, cfg->strongswan.vici ? "CHARON" : "", "RESULT");
}

static void charon_word(const struct src_state *st, char *buf, size_t len);

static void narrow_row(const struct cfg *cfg, const struct cfg_source *src, const struct src_state *st, time_t now,
		       int nw)
{
	char name[sizeof(src->name)], num[sizeof(st->crl.number_hex)], nu[24] = "-", na[24], ch[64] = "", res[NARROW_COLS + 8];
	int used = nw + 1 + NARROW_NUMBER + 1 + 12 + 1 + 11 + 1;

	snprintf(name, sizeof(name), "%s", src->name);
	cut(name, nw);
	snprintf(num, sizeof(num), "%s", st->have_crl ? st->crl.number_hex : "-");
	cut(num, NARROW_NUMBER);
	if (st->have_crl && st->has_next_update) {
		short_time(st->next_update, nu, sizeof(nu) - 1);
		if (now > st->next_update)
			strcat(nu, "!"); /* expired */
	}
	short_time(st->next_attempt, na, sizeof(na));
	if (cfg->strongswan.vici) {
		charon_word(st, ch, sizeof(ch));
		cut(ch, NARROW_CHARON);
		used += NARROW_CHARON + 1;
	}
	snprintf(res, sizeof(res), "%s", st->last_result ? st->last_result : "never attempted");
	cut(res, NARROW_COLS - used);
	printf("%-*s %-*s %-12s %-11s %-*s%s\n", nw, name, NARROW_NUMBER, num, nu, na,
	       cfg->strongswan.vici ? NARROW_CHARON + 1 : 0, ch, res);
}

static json_t *charon_json(const struct src_state *st)
{
	json_t *o;
	bool current;

	if (st->charon[0] == '\0')
		return json_null();
	current = st->have_crl && strcmp(st->charon_number, st->crl.number_hex) == 0;
	o = json_object();
	json_object_set_new(o, "state", json_string(st->charon));
	/* true only when charon was seen holding (or reading, for on-demand) the installed CRL */
	json_object_set_new(o, "holds_current", json_boolean(current && (strcmp(st->charon, "held") == 0 ||
									 strcmp(st->charon, "on-demand") == 0)));
	json_object_set_new(o, "number", json_string(st->charon_number));
	json_object_set_new(o, "detail", json_string(st->charon_detail));
	json_object_set_new(o, "last_checked", jtime(st->charon_checked));
	json_object_set_new(o, "last_confirmed", jtime(st->charon_confirmed));
	return o;
}

/* What the OpenVPN plugin enforces from NAME.crl, from its status file ([plugin] status-file), or null. */
static json_t *gateway_json(const struct gateway_view *gw, const struct src_state *st, const char *name)
{
	const struct gw_crl *g;
	json_t *o;

	if (gw == NULL || !gw->configured)
		return json_null();
	o = json_object();
	if (gw->err != 0) {
		json_object_set_new(o, "error", json_string(strerror(-gw->err)));
		return o;
	}
	g = gateway_find(gw, name);
	json_object_set_new(o, "number", g ? json_string(g->number) : json_null());
	json_object_set_new(o, "this_update", g ? jtime(g->this_update) : json_null());
	json_object_set_new(o, "next_update", g && g->next_update ? jtime(g->next_update) : json_null());
	json_object_set_new(o, "entries", g ? json_integer((json_int_t)g->entries) : json_null());
	json_object_set_new(o, "enforces_installed",
			    json_boolean(g != NULL && st->have_crl && health_number_cmp(g->number, st->crl.number_hex) >= 0));
	json_object_set_new(o, "generation", json_integer((json_int_t)gw->generation));
	json_object_set_new(o, "written", jtime(gw->written));
	return o;
}

static json_t *on_install_json(const struct src_state *st)
{
	json_t *o;

	if (st->hook[0] == '\0')
		return json_null();
	o = json_object();
	json_object_set_new(o, "state", json_string(st->hook));
	json_object_set_new(o, "number", json_string(st->hook_number));
	json_object_set_new(o, "detail", json_string(st->hook_detail));
	json_object_set_new(o, "at", jtime(st->hook_at));
	return o;
}

static json_t *source_json(const struct cfg_source *src, const struct src_state *st, time_t now, int state_err,
			   const struct gateway_view *gw)
{
	json_t *o = json_object(), *c = json_null();

	json_object_set_new(o, "schema", json_integer(1));
	json_object_set_new(o, "name", json_string(src->name));
	/* Never a silent null: a state that cannot be read says so (and status exits 1). */
	json_object_set_new(o, "state_error", state_err != 0 ? json_string(strerror(-state_err)) : json_null());
	if (st->have_crl) {
		c = json_object();
		json_object_set_new(c, "number", json_string(st->crl.number_hex));
		json_object_set_new(c, "this_update", jtime(st->crl.this_update));
		json_object_set_new(c, "next_update", st->has_next_update ? jtime(st->next_update) : json_null());
		json_object_set_new(c, "expired", json_boolean(st->has_next_update && now > st->next_update));
		json_object_set_new(c, "entries", json_integer((json_int_t)st->entries));
		json_object_set_new(c, "issuer", json_string(st->issuer));
		json_object_set_new(c, "signature_algorithm", json_string(st->sig_alg));
	}
	json_object_set_new(o, "crl", c);
	json_object_set_new(o, "last_attempt", jtime(st->last_attempt));
	json_object_set_new(o, "last_result", st->last_result ? json_string(st->last_result) : json_null());
	/* The code of the last attempt (state.h STATE_RESULT_*); "never" before any, "unknown" from an older state. */
	json_object_set_new(o, "result", json_string(state_err != 0 ? "unknown"
							: st->result[0] ? st->result
							: st->last_attempt == 0 ? "never" : "unknown"));
	json_object_set_new(o, "last_success", jtime(st->last_success));
	json_object_set_new(o, "failures", json_integer(st->failures));
	json_object_set_new(o, "next_attempt", jtime(st->next_attempt));
	json_object_set_new(o, "url", st->url ? json_string(st->url) : json_null());
	json_object_set_new(o, "charon", charon_json(st));
	json_object_set_new(o, "pem", json_boolean(src->pem));
	json_object_set_new(o, "on_install", on_install_json(st));
	json_object_set_new(o, "gateway", gateway_json(gw, st, src->name));
	return o;
}

/*
 * The state of source NAME's delta CRL (the pseudo-source NAME+, crlsync(8) DELTA CRLS) into *st.
 * False (and *st cleared) when it has none: never attempted, or unreadable.
 */
static bool delta_state_load(int dirfd, const char *name, struct src_state *st)
{
	char dname[CFG_NAME_MAX + 2];

	memset(st, 0, sizeof(*st));
	if ((size_t)snprintf(dname, sizeof(dname), "%s+", name) >= sizeof(dname) || state_load(dirfd, dname, st) != 0 ||
	    (!st->have_crl && st->last_attempt == 0)) {
		state_clear(st);
		return false;
	}
	return true;
}

/* A source's delta CRL in --json: apart from its base, with its own result and schedule. */
static json_t *delta_json(const struct src_state *st, time_t now)
{
	json_t *o = json_object(), *c = json_null();

	if (st->have_crl) {
		c = json_object();
		json_object_set_new(c, "number", json_string(st->crl.number_hex));
		json_object_set_new(c, "this_update", jtime(st->crl.this_update));
		json_object_set_new(c, "next_update", st->has_next_update ? jtime(st->next_update) : json_null());
		json_object_set_new(c, "expired", json_boolean(st->has_next_update && now > st->next_update));
		json_object_set_new(c, "entries", json_integer((json_int_t)st->entries));
	}
	json_object_set_new(o, "crl", c);
	json_object_set_new(o, "last_attempt", jtime(st->last_attempt));
	json_object_set_new(o, "last_result", st->last_result ? json_string(st->last_result) : json_null());
	json_object_set_new(o, "result", json_string(st->result[0] ? st->result : "unknown"));
	json_object_set_new(o, "last_success", jtime(st->last_success));
	json_object_set_new(o, "failures", json_integer(st->failures));
	json_object_set_new(o, "next_attempt", jtime(st->next_attempt));
	json_object_set_new(o, "url", st->url ? json_string(st->url) : json_null());
	return o;
}

/* Below the table: what the OpenVPN plugin enforces, from its status file, per source. */
static void gateway_table(const struct cfg *cfg, const struct gateway_view *gw, int dirfd)
{
	char w[40], rl[40];

	printf("\nGATEWAY (OpenVPN plugin, status-file %s)\n", cfg->plugin.status_file);
	if (gw->err != 0) {
		printf("  cannot read it as uid %ld: %s\n", (long)geteuid(), strerror(-gw->err));
		return;
	}
	when(gw->written, w, sizeof(w));
	when(gw->reload_time, rl, sizeof(rl));
	printf("  pid %ld, written %s, generation %lu, %s\n  last reload %s%s%s\n", gw->pid, w, gw->generation,
	       gw->policy, rl, gw->reload_error[0] ? ": " : " (ok)", gw->reload_error);
	printf("  accept %lu, reject %lu, relaxed %lu, evicted %lu, reload failures %lu\n", gw->accept, gw->reject,
	       gw->relaxed, gw->evicted, gw->reload_failures);
	for (size_t i = 0; i < cfg->n_sources; i++) {
		const struct gw_crl *g = gateway_find(gw, cfg->sources[i].name);
		struct src_state st;
		bool ok = state_load(dirfd, cfg->sources[i].name, &st) == 0;

		printf("  %-16s enforces %-10s installed %-10s%s\n", cfg->sources[i].name, g ? g->number : "-",
		       ok && st.have_crl ? st.crl.number_hex : "-",
		       g && ok && st.have_crl && health_number_cmp(g->number, st.crl.number_hex) < 0 ? "  (older)" : "");
		state_clear(&st);
	}
}

int status_main(struct fetcher *f, int argc, char *argv[])
{
	bool json = false;
	const struct cfg *cfg;
	struct fetcher_run run;
	json_t *arr = NULL;
	time_t now = time(NULL);
	int dirfd, rc = 0;

	struct gateway_view gw;

	(void)argc; /* --json, --wide, --prometheus: parsed by cli.c, into f->opts */
	(void)argv;
	json = f->opts.json;
	rc = fetcher_begin(f, FETCHER_WRITE, &run);
	if (rc != EXIT_OK) {
		fetcher_end(&run);
		return rc;
	}
	cfg = run.cfg;
	dirfd = run.dirfd;
	if (f->opts.prometheus) {
		struct source_view *views = calloc(cfg->n_sources ? cfg->n_sources : 1, sizeof(*views));

		rc = EXIT_FAIL;
		gateway_load(cfg, &gw);
		if (views != NULL) {
			monitor_views_load(cfg, dirfd, views);
			rc = metrics_print(stdout, cfg, views, &gw, now) == 0 && fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
			for (size_t i = 0; i < cfg->n_sources; i++)
				if (views[i].state_err != 0) {
					log_error(&f->log, "source %s: cannot read its state in %s/" CACHEDIR_STATE " as uid %ld: %s",
						  cfg->sources[i].name, cfg->global.cache_dir, (long)geteuid(),
						  strerror(-views[i].state_err));
					rc = EXIT_FAIL;
				}
			monitor_views_clear(cfg, views);
			free(views);
		}
		gateway_clear(&gw);
		fetcher_end(&run);
		return rc;
	}
	gateway_load(cfg, &gw);
	if (json)
		arr = json_array();
	else if (!f->opts.wide)
		narrow_header(cfg, narrow_name_width(cfg));
	else
		printf("%-16s %-10s %-23s %-23s %8s  %-23s %-23s %-23s %s%s\n", "SOURCE", "NUMBER", "THIS UPDATE",
		       "NEXT UPDATE", "ENTRIES", "LAST ATTEMPT", "LAST SUCCESS", "NEXT ATTEMPT",
		       cfg->strongswan.vici ? "CHARON       " : "", "RESULT (URL)");
	for (size_t i = 0; i < cfg->n_sources; i++) {
		const struct cfg_source *src = &cfg->sources[i];
		char tu[40] = "-", nu[40] = "-", la[40], ls[40], na[40], num[48] = "-", ent[24] = "-";
		struct src_state st;
		/* state_load() passes every string through the sanitiser: the table and --json print them as they are. */
		int r = state_load(dirfd, src->name, &st);

		if (r != 0) {
			/* Not a silent empty row: say what cannot be read, as whom, and fail. */
			log_error(&f->log, "source %s: unreadable state %s/" CACHEDIR_STATE "/%s.json (as uid %ld): %s",
				  src->name, cfg->global.cache_dir, src->name, (long)geteuid(), strerror(-r));
			rc = EXIT_FAIL;
			state_clear(&st);
		}
		struct src_state ds;
		bool have_delta = delta_state_load(dirfd, src->name, &ds);
		struct cfg_source dsrc = *src; /* its delta's row: the name NAME+ */
		size_t nl = strnlen(src->name, CFG_NAME_MAX);

		if (nl < CFG_NAME_MAX) {
			dsrc.name[nl] = '+';
			dsrc.name[nl + 1] = '\0';
		}
		if (json) {
			json_t *o = source_json(src, &st, now, r, &gw);

			json_object_set_new(o, "delta", have_delta ? delta_json(&ds, now) : json_null());
			json_array_append_new(arr, o);
		} else if (!f->opts.wide) {
			narrow_row(cfg, src, &st, now, narrow_name_width(cfg));
			if (have_delta)
				narrow_row(cfg, &dsrc, &ds, now, narrow_name_width(cfg));
		} else {
			if (st.have_crl) {
				snprintf(num, sizeof(num), "%s", st.crl.number_hex);
				fmt_time(st.crl.this_update, tu, sizeof(tu));
				if (st.has_next_update)
					fmt_time(st.next_update, nu, sizeof(nu));
				snprintf(ent, sizeof(ent), "%llu", st.entries);
			}
			when(st.last_attempt, la, sizeof(la));
			when(st.last_success, ls, sizeof(ls));
			when(st.next_attempt, na, sizeof(na));
			char ch[64] = "";

			if (cfg->strongswan.vici) {
				charon_word(&st, ch, sizeof(ch) - 1);
				int pad = strlen(ch) < 13 ? 13 - (int)strlen(ch) : 1;

				snprintf(ch + strlen(ch), sizeof(ch) - strlen(ch), "%*s", pad, "");
			}
			printf("%-16s %-10s %-23s %-23s%s %8s  %-23s %-23s %-23s %s%s (%s)\n", src->name, num, tu, nu,
			       st.have_crl && st.has_next_update && now > st.next_update ? "!" : " ", ent, la, ls, na, ch,
			       st.last_result ? st.last_result : "never attempted", st.url ? st.url : "-");
			if (have_delta) {
				snprintf(num, sizeof(num), "%s", ds.have_crl ? ds.crl.number_hex : "-");
				snprintf(tu, sizeof(tu), "-");
				snprintf(nu, sizeof(nu), "-");
				snprintf(ent, sizeof(ent), "-");
				if (ds.have_crl) {
					fmt_time(ds.crl.this_update, tu, sizeof(tu));
					if (ds.has_next_update)
						fmt_time(ds.next_update, nu, sizeof(nu));
					snprintf(ent, sizeof(ent), "%llu", ds.entries);
				}
				when(ds.last_attempt, la, sizeof(la));
				when(ds.last_success, ls, sizeof(ls));
				when(ds.next_attempt, na, sizeof(na));
				printf("%-16s %-10s %-23s %-23s%s %8s  %-23s %-23s %-23s %s%s (%s)\n", dsrc.name, num, tu, nu,
				       ds.have_crl && ds.has_next_update && now > ds.next_update ? "!" : " ", ent, la, ls, na,
				       cfg->strongswan.vici ? "-            " : "",
				       ds.last_result ? ds.last_result : "never attempted", ds.url ? ds.url : "-");
			}
		}
		state_clear(&ds);
		state_clear(&st);
	}
	if (!json && gw.configured)
		gateway_table(cfg, &gw, dirfd);
	if (json) {
		if (json_dumpf(arr, stdout, JSON_INDENT(2)) != 0)
			rc = 1;
		putchar('\n');
		json_decref(arr);
	}
	gateway_clear(&gw);
	fetcher_end(&run);
	return rc;
}
