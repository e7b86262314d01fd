/* SPDX-License-Identifier: GPL-2.0-or-later */
/* [plugin] status-file: the CRLs in force, the policy and the decision counters, written by a thread of its own. */
#include "status_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crlsync/fmt.h"
#include "crlsync/install.h"
#include "crlsync/text.h"
#include "persist.h"

#ifndef CRLSYNC_VERSION
#define CRLSYNC_VERSION "0.0.0-unknown"
#endif

/* Process lifetime: the .so stays mapped across OpenVPN's dlclose (-z nodelete), so SIGHUP keeps them. */
static atomic_ulong counters[STATUS_N_COUNTERS];
static atomic_ulong changes;

static const char *const counter_names[STATUS_N_COUNTERS] = {
	[STATUS_ACCEPT] = "accept",     [STATUS_REJECT] = "reject",
	[STATUS_RELAXED] = "relaxed",   [STATUS_EVICTED] = "evicted",
	[STATUS_RELOAD_FAILURES] = "reload_failures",
};

void status_count(enum status_counter c)
{
	if (c < 0 || c >= STATUS_N_COUNTERS)
		return;
	atomic_fetch_add_explicit(&counters[c], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&changes, 1, memory_order_release);
}

unsigned long status_counter_get(enum status_counter c)
{
	return c >= 0 && c < STATUS_N_COUNTERS ? atomic_load(&counters[c]) : 0;
}

struct status_file {
	const struct cfg *cfg;
	const struct policy *pol;
	const struct log_sink *log;
	int dirfd;            /* owned by persist.c */
	char name[256];       /* the file's name in dirfd */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock; /* guards what follows */
	pthread_cond_t cond;
	bool stop, kick;
	char *crls;           /* JSON array of the CRLs in force */
	unsigned long generation;
	time_t reload_time;
	char reload_error[256];
	int last_errno;       /* of the last write: one message per new error */
};

/* A growing string; on allocation failure it stays failed and render returns NULL. */
struct buf {
	char *s;
	size_t len, cap;
	bool failed;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if (b->s != NULL && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t nc = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
		char *ns = realloc(b->s, nc);

		if (ns == NULL) {
			b->failed = true;
			return;
		}
		b->s = ns;
		b->cap = nc;
	}
}

/* A JSON string of sanitised text (text.h: printable ASCII only, so only `"' and `\' need escaping). */
static void bstr(struct buf *b, const char *s)
{
	char clean[512];

	if (s == NULL) {
		bprintf(b, "null");
		return;
	}
	text_sanitize_copy(clean, sizeof(clean), s);
	bprintf(b, "\"");
	for (const char *c = clean; *c; c++) {
		if (*c == '"' || *c == '\\')
			bprintf(b, "\\%c", *c);
		else
			bprintf(b, "%c", *c);
	}
	bprintf(b, "\"");
}

static void btime(struct buf *b, time_t t)
{
	char ts[40];
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL) {
		bprintf(b, "null");
		return;
	}
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	bprintf(b, "\"%s\"", ts);
}

char *status_file_crls_json(const struct store *s)
{
	struct buf b = { 0 };
	bool first = true;

	bprintf(&b, "[");
	for (size_t i = 0; s != NULL && i < s->n_issuers; i++) {
		for (size_t j = 0; j < s->issuers[i].n_crls; j++) {
			const struct crl *c = s->issuers[i].crls[j];
			char file[300];
			char *hash;

			/* origin is "NAME" or, for a bundle, "NAME#2": the cache-dir file is NAME */
			snprintf(file, sizeof(file), "%s", c->origin ? c->origin : "");
			hash = strrchr(file, '#');
			if (hash != NULL && hash[1] != '\0' && strspn(hash + 1, "0123456789") == strlen(hash + 1))
				*hash = '\0';
			bprintf(&b, "%s\n  {\"file\": ", first ? "" : ",");
			bstr(&b, file);
			bprintf(&b, ", \"source\": ");
			bstr(&b, s->issuers[i].source);
			bprintf(&b, ", \"issuer\": ");
			bstr(&b, c->issuer_text);
			bprintf(&b, ", \"number\": ");
			bstr(&b, c->number_hex);
			bprintf(&b, ", \"this_update\": ");
			btime(&b, c->this_update);
			bprintf(&b, ", \"next_update\": ");
			if (c->flags & CRL_HAS_NEXT_UPDATE)
				btime(&b, c->next_update);
			else
				bprintf(&b, "null");
			bprintf(&b, ", \"entries\": %zu}", c->entries);
			first = false;
		}
	}
	bprintf(&b, "%s]", first ? "" : "\n ");
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

char *status_file_render(const struct cfg *cfg, const struct policy *pol, const char *crls_json,
			 unsigned long generation, time_t reload_time, const char *reload_error,
			 const unsigned long cnt[STATUS_N_COUNTERS], time_t now)
{
	struct buf b = { 0 };

	(void)cfg;
	bprintf(&b, "{\n \"schema\": 1,\n \"version\": \"%s\",\n \"pid\": %ld,\n \"uid\": %ld,\n \"written\": ",
		CRLSYNC_VERSION, (long)getpid(), (long)geteuid());
	btime(&b, now);
	bprintf(&b, ",\n \"generation\": %lu,\n \"policy\": {\"missing\": \"%s\", \"expired\": \"%s\", \"grace\": %lld},\n",
		generation, cfg_action_str(pol->missing), cfg_action_str(pol->expired), pol->grace);
	bprintf(&b, " \"crls\": %s,\n \"counters\": {", crls_json ? crls_json : "[]");
	for (int i = 0; i < STATUS_N_COUNTERS; i++)
		bprintf(&b, "%s\"%s\": %lu", i ? ", " : "", counter_names[i], cnt[i]);
	bprintf(&b, "},\n \"last_reload\": {\"time\": ");
	btime(&b, reload_time);
	bprintf(&b, ", \"error\": ");
	bstr(&b, reload_error && reload_error[0] ? reload_error : NULL);
	bprintf(&b, "}\n}\n");
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* One write. Called on the status thread only. */
static void write_once(struct status_file *sf)
{
	unsigned long cnt[STATUS_N_COUNTERS];
	char *text, err[256];
	int r;

	for (int i = 0; i < STATUS_N_COUNTERS; i++)
		cnt[i] = atomic_load(&counters[i]);
	pthread_mutex_lock(&sf->lock);
	snprintf(err, sizeof(err), "%s", sf->reload_error);
	text = status_file_render(sf->cfg, sf->pol, sf->crls, sf->generation, sf->reload_time, err, cnt, time(NULL));
	pthread_mutex_unlock(&sf->lock);
	if (text == NULL)
		return;
	/* World-readable: monitoring reads it as its own user; it holds what the CRLs say, nothing secret. */
	r = install_file(sf->dirfd, sf->name, text, strlen(text), 0644, NULL);
	free(text);
	if (r > 0)
		r = 0;
	if (r < 0 && r != sf->last_errno)
		log_error(sf->log,
			  "status-file %s: cannot write it as uid %ld: %s; monitoring sees an old one. Its directory "
			  "must be writable by the user OpenVPN runs as (e.g. install -d -o nobody -g nogroup -m 0755 "
			  "DIR for `user nobody')",
			  sf->cfg->plugin.status_file, (long)geteuid(), FMT_ERRNO(-r));
	else if (r == 0 && sf->last_errno != 0)
		log_note(sf->log, "status-file %s: written again", sf->cfg->plugin.status_file);
	sf->last_errno = r;
}

static void *status_thread(void *arg)
{
	struct status_file *sf = arg;
	unsigned long seen = atomic_load(&changes) - 1; /* the first round writes */

	for (;;) {
		struct timespec until;
		bool stop, kick;
		unsigned long now_changes;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += STATUS_FILE_TICK_S;
		pthread_mutex_lock(&sf->lock);
		while (!sf->stop && !sf->kick &&
		       pthread_cond_timedwait(&sf->cond, &sf->lock, &until) != ETIMEDOUT)
			;
		stop = sf->stop;
		kick = sf->kick;
		sf->kick = false;
		pthread_mutex_unlock(&sf->lock);
		now_changes = atomic_load_explicit(&changes, memory_order_acquire);
		if (kick || stop || now_changes != seen) {
			seen = now_changes;
			write_once(sf);
		}
		if (stop)
			break;
	}
	return NULL;
}

int status_file_open(const struct cfg *cfg, const struct policy *pol, const struct log_sink *log,
		     struct status_file **out)
{
	struct status_file *sf = NULL;
	char dir[4096], key[PERSIST_KEY_MAX];
	const char *slash;
	int fd, r;

	*out = NULL;
	if (cfg->plugin.status_file == NULL)
		return 0;
	slash = strrchr(cfg->plugin.status_file, '/');
	if (slash == NULL || slash[1] == '\0' || strlen(slash + 1) >= sizeof(sf->name) ||
	    (size_t)(slash - cfg->plugin.status_file) >= sizeof(dir)) {
		log_error(log, "status-file %s: not the absolute path of a file; refusing to start", cfg->plugin.status_file);
		return -EINVAL;
	}
	if (slash == cfg->plugin.status_file)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - cfg->plugin.status_file), cfg->plugin.status_file);
	/*
	 * The directory is opened once, as root at OpenVPN's start, and kept for the process: a reopen
	 * on SIGHUP (unprivileged, maybe in a chroot) writes through the same descriptor.
	 */
	snprintf(key, sizeof(key), "status-file-dir:%.*s", (int)(sizeof(key) - 20), dir);
	fd = persist_fd_get(key);
	if (fd < 0) {
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			r = -errno;
			log_error(log, "status-file %s: cannot create %s: %s; refusing to start", cfg->plugin.status_file, dir,
				  FMT_ERRNO(-r));
			return r;
		}
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			log_error(log, "status-file %s: cannot open %s: %s; refusing to start", cfg->plugin.status_file, dir,
				  FMT_ERRNO(-r));
			return r;
		}
		r = persist_fd_put(key, fd);
		if (r != 0) {
			log_error(log, "status-file %s: cannot keep its directory open: %s; refusing to start",
				  cfg->plugin.status_file, FMT_ERRNO(-r));
			return r;
		}
	}
	sf = calloc(1, sizeof(*sf));
	if (sf == NULL)
		return -ENOMEM;
	sf->cfg = cfg;
	sf->pol = pol;
	sf->log = log;
	sf->dirfd = fd;
	snprintf(sf->name, sizeof(sf->name), "%s", slash + 1);
	pthread_mutex_init(&sf->lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_cond_init(&sf->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	sf->crls = strdup("[]");
	r = -pthread_create(&sf->thread, NULL, status_thread, sf);
	if (r != 0) {
		log_error(log, "status-file %s: cannot start its thread: %s; refusing to start", cfg->plugin.status_file,
			  FMT_ERRNO(-r));
		status_file_close(sf);
		return r;
	}
	sf->started = true;
	*out = sf;
	return 0;
}

void status_file_reloaded(struct status_file *sf, const struct store *s, int err)
{
	char *crls = NULL;

	if (sf == NULL)
		return;
	if (s != NULL)
		crls = status_file_crls_json(s);
	pthread_mutex_lock(&sf->lock);
	sf->reload_time = time(NULL);
	if (s != NULL) {
		if (crls != NULL) {
			free(sf->crls);
			sf->crls = crls;
			crls = NULL;
		}
		sf->generation = s->generation;
		sf->reload_error[0] = '\0';
	} else {
		snprintf(sf->reload_error, sizeof(sf->reload_error), "%s; the CRLs in force stay", FMT_ERRNO(-err));
	}
	sf->kick = true;
	pthread_cond_signal(&sf->cond);
	pthread_mutex_unlock(&sf->lock);
	free(crls);
}

void status_file_close(struct status_file *sf)
{
	if (sf == NULL)
		return;
	if (sf->started) {
		pthread_mutex_lock(&sf->lock);
		sf->stop = true;
		pthread_cond_signal(&sf->cond);
		pthread_mutex_unlock(&sf->lock);
		pthread_join(sf->thread, NULL);
	}
	pthread_cond_destroy(&sf->cond);
	pthread_mutex_destroy(&sf->lock);
	free(sf->crls);
	free(sf);
}
