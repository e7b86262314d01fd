/* SPDX-License-Identifier: GPL-2.0-or-later */
/* openvpn-plugin-crlsync.so: OpenVPN v3 glue, fail-closed TLS_VERIFY decisions, snapshot swap on reload. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openvpn-plugin.h>

#include "crlsync/check.h"
#include "crlsync/config.h"
#include "crlsync/fmt.h"
#include "crlsync/log.h"
#include "crlsync/policy.h"
#include "crlsync/store.h"
#include "evict.h"
#include "marks.h"
#include "persist.h"
#include "status_file.h"
#include "watch.h"

#define PLUGIN_NAME "crlsync"
/* Built with -fvisibility=hidden: only these entry points leave the .so (see exports.map). */
#define CRLSYNC_EXPORT __attribute__((visibility("default")))

struct plugin {
	plugin_log_t plog;          /* OpenVPN's logger: main thread only (see thread_log()) */
	pthread_t main_thread;      /* the thread OpenVPN opened us on, which makes every callback */
	bool stderr_useful;
	bool stderr_journal;        /* fd 2 is systemd's journal: sd-daemon priority prefixes, no timestamp */
	struct log_sink sink;
	struct cfg *cfg;
	struct policy policy;
	pthread_mutex_t load_lock;   /* serialises loads (open() and the watch thread); TLS_VERIFY never takes it */
	struct store_loader *loader;
	/*
	 * The snapshot in force. The lock guards only the pointer and the reference taken on it, never
	 * a load: TLS_VERIFY waits at most for a pointer swap.
	 */
	pthread_mutex_t snap_lock;
	struct store *snap;
	struct watch *watch;
	struct evictor *evictor;     /* NULL unless eviction is enabled */
	struct plugin_marks *marks;  /* the rollback marks, kept across restarts and SIGHUP (marks.h) */
	struct status_file *status;  /* [plugin] status-file, or NULL */
};

/*
 * Lines from the plugin's own threads. OpenVPN's logger is not thread-safe (with a management
 * interface it keeps an unlocked log history, and concurrent calls corrupt OpenVPN's heap), so
 * only OpenVPN's main thread may call plugin_log. The others write one line with one write(2)
 * to stderr, which OpenVPN points at its --log file (and systemd at the journal); when stderr is
 * /dev/null (--daemon without --log, OpenVPN logs to syslog) they go to syslog instead.
 */
static void thread_log(struct plugin *p, enum log_level level, const char *line)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
	char buf[1200], ts[32];
	struct timespec now;
	struct tm tm;
	int n;

	if (level == LOG_LVL_DEBUG)
		return;
	if (!p->stderr_useful) {
		syslog(LOG_DAEMON | prio[level], PLUGIN_NAME ": %s", line);
		return;
	}
	/*
	 * OpenVPN's own --log format, so that the lines sort and read alike; in the journal (OpenVPN's
	 * openvpn-server@.service) the priority instead, so that `journalctl -p err' shows errors, and
	 * no timestamp, as OpenVPN's --suppress-timestamps there.
	 */
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	if (p->stderr_journal)
		n = snprintf(buf, sizeof(buf), "%s" PLUGIN_NAME ": %s\n", log_sd_prefix(level), line);
	else
		n = snprintf(buf, sizeof(buf), "%s us=%06ld " PLUGIN_NAME ": %s\n", ts, now.tv_nsec / 1000, line);
	if (n > (int)sizeof(buf) - 1) {
		n = (int)sizeof(buf) - 1;
		buf[n - 1] = '\n';
	}
	if (write(STDERR_FILENO, buf, (size_t)n) < 0)
		syslog(LOG_DAEMON | prio[level], PLUGIN_NAME ": %s", line);
}

/* Whether fd 2 leads anywhere (not closed, not /dev/null). */
static bool stderr_is_useful(void)
{
	struct stat a, b;

	if (fstat(STDERR_FILENO, &a) != 0)
		return false;
	if (S_ISCHR(a.st_mode) && stat("/dev/null", &b) == 0 && a.st_rdev == b.st_rdev)
		return false;
	return true;
}

static void plugin_sink(void *ctx, enum log_level level, const char *line)
{
	struct plugin *p = ctx;
	openvpn_plugin_log_flags_t f;

	if (!pthread_equal(pthread_self(), p->main_thread)) {
		thread_log(p, level, line);
		return;
	}

	switch (level) {
	case LOG_LVL_ERROR: f = PLOG_ERR | PLOG_NOMUTE; break;
	case LOG_LVL_WARN: f = PLOG_WARN | PLOG_NOMUTE; break;
	case LOG_LVL_NOTE:
	case LOG_LVL_INFO: f = PLOG_NOTE; break;
	default: f = PLOG_DEBUG; break;
	}
	p->plog(f, PLUGIN_NAME, "%s", line);
}

static struct store *snap_acquire(struct plugin *p)
{
	struct store *s;

	pthread_mutex_lock(&p->snap_lock);
	s = store_ref(p->snap);
	pthread_mutex_unlock(&p->snap_lock);
	return s;
}

static struct store *snap_acquire_cb(void *ctx)
{
	return snap_acquire(ctx);
}

/*
 * Readers never drop the last reference: the swapping thread keeps one until they are done, so a
 * large snapshot is always freed here, off the handshake path.
 */
static void snap_publish(struct plugin *p, struct store *s)
{
	struct store *old;

	pthread_mutex_lock(&p->snap_lock);
	old = p->snap;
	p->snap = s;
	pthread_mutex_unlock(&p->snap_lock);
	if (old == NULL)
		return;
	while (atomic_load(&old->refs) > 1) {
		struct timespec ts = { 0, 200 * 1000 };

		nanosleep(&ts, NULL);
	}
	store_unref(old);
}

static bool same_crls(const struct store *a, const struct store *b)
{
	if (a == NULL || b == NULL || a->n_issuers != b->n_issuers)
		return false;
	for (size_t i = 0; i < a->n_issuers; i++) {
		if (a->issuers[i].n_crls != b->issuers[i].n_crls)
			return false;
		for (size_t j = 0; j < a->issuers[i].n_crls; j++)
			if (a->issuers[i].crls[j] != b->issuers[i].crls[j])
				return false;
	}
	return true;
}

/* Loads cache-dir and publishes the result. Returns 0 or -errno (the snapshot in force stays). */
static int reload(struct plugin *p, const char *why, bool quiet_if_same)
{
	struct timespec t0, t1;
	struct store *s = NULL, *cur;
	size_t with = 0;
	int r;

	pthread_mutex_lock(&p->load_lock);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = store_loader_load(p->loader, time(NULL), &s);
	if (r != 0) {
		log_error(&p->sink, "reload (%s) failed: %s; keeping the CRLs in force", why, FMT_ERRNO(-r));
		status_count(STATUS_RELOAD_FAILURES);
		status_file_reloaded(p->status, NULL, r);
		goto out;
	}
	cur = snap_acquire(p);
	if (quiet_if_same && same_crls(cur, s)) {
		store_unref(cur);
		store_unref(s);
		goto out;
	}
	store_unref(cur);
	for (size_t i = 0; i < s->n_issuers; i++)
		with += s->issuers[i].n_crls > 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_note(&p->sink,
		 "reload: %zu CRL(s) in force for %zu of %zu ca(s), %zu revoked entries (generation %lu, %s, %.1f ms)",
		 s->n_crls, with, s->n_issuers, s->n_entries, s->generation, why,
		 (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	snap_publish(p, s);
	/* s stays alive: only a load publishes (and frees the old snapshot), and loads hold load_lock. */
	status_file_reloaded(p->status, s, 0);
	evictor_kick(p->evictor);
out:
	pthread_mutex_unlock(&p->load_lock);
	return r;
}

static void on_change(void *ctx, bool periodic)
{
	reload(ctx, periodic ? "periodic rescan" : "cache-dir changed", periodic);
}

static void plugin_free(struct plugin *p)
{
	if (p == NULL)
		return;
	watch_stop(p->watch);
	evictor_stop(p->evictor); /* after the watch: no kick arrives any more */
	status_file_close(p->status); /* after the watch: no reload reports to it any more */
	store_unref(p->snap);
	store_loader_free(p->loader);
	plugin_marks_free(p->marks); /* after the loader, which reports raised marks to it */
	cfg_free(p->cfg);
	pthread_mutex_destroy(&p->snap_lock);
	pthread_mutex_destroy(&p->load_lock);
	free(p);
}

/*
 * The management password ([plugin] management-password, or the plugin argument): read here, by the
 * plugin alone, never by cfg_load(), which the fetcher shares. OpenVPN opens the plugin as root and,
 * on SIGHUP, again after its privilege drop, when a root-only 0600 file cannot be read any more: so a
 * copy read as root is kept for the process' lifetime (persist.c, the .so stays mapped) and used by a
 * reopen that may not read the file. Returns false after logging why the plugin cannot start.
 */
static bool load_management_password(struct plugin *p)
{
	struct cfg *cfg = p->cfg;
	const char *path = cfg->plugin.management_password_path;
	char err[768], key[PERSIST_KEY_MAX];
	char *pw = NULL;
	size_t len = 0;
	bool keep;
	int rc, r;

	if (path == NULL || !cfg_evict(cfg))
		return true; /* only eviction logs in to the management interface */
	r = snprintf(key, sizeof(key), "management-password:%s", path);
	keep = r > 0 && (size_t)r < sizeof(key);
	rc = cfg_read_secret(path, &pw, &len, err, sizeof(err));
	if (rc == 0) {
		if (keep && (r = persist_put(key, pw, len, true)) != 0)
			log_warn(&p->sink, "cannot keep the management password for a reopen after SIGHUP: %s",
				 FMT_ERRNO(-r));
		cfg->plugin.management_password = pw;
		return true;
	}
	if ((rc == -EACCES || rc == -EPERM) && geteuid() != 0) {
		if (keep && persist_get(key, &pw, &len) == 0) {
			log_note(&p->sink,
				 "management-password: %s (uid %ld); using the password kept from when the plugin read "
				 "it as root (a changed password file needs an OpenVPN restart: SIGHUP does not re-read it)",
				 err, (long)geteuid());
			cfg->plugin.management_password = pw;
			return true;
		}
		log_error(&p->sink,
			  "management-password: %s (uid %ld), and no copy was kept from OpenVPN's start as root: restart "
			  "OpenVPN so that the plugin reads it as root, or make the file readable by uid %ld; refusing to "
			  "start",
			  err, (long)geteuid(), (long)geteuid());
		return false;
	}
	log_error(&p->sink, "management-password: %s; refusing to start", err);
	return false;
}

CRLSYNC_EXPORT int openvpn_plugin_min_version_required_v1(void)
{
	return 3;
}

CRLSYNC_EXPORT int openvpn_plugin_open_v3(const int version, struct openvpn_plugin_args_open_in const *args,
					  struct openvpn_plugin_args_open_return *ret)
{
	struct plugin *p = NULL;
	char err[768];
	int argc = 0, r;

	/* struct version 5 is OpenVPN 2.4.7; the X509 we are handed is only ours to read with OpenSSL. */
	if (args == NULL || args->callbacks == NULL || args->callbacks->plugin_log == NULL) {
		fprintf(stderr, PLUGIN_NAME ": called without OpenVPN's plugin callbacks\n");
		return OPENVPN_PLUGIN_FUNC_ERROR;
	}
	if (version < 5) {
		args->callbacks->plugin_log(PLOG_ERR, PLUGIN_NAME,
					    "OpenVPN's plugin interface is too old (v3 struct version %d, need 5: "
					    "OpenVPN 2.4.7 or later)", version);
		return OPENVPN_PLUGIN_FUNC_ERROR;
	}
	if (args->ssl_api != SSLAPI_OPENSSL) {
		args->callbacks->plugin_log(PLOG_ERR, PLUGIN_NAME,
					    "this OpenVPN is not built with OpenSSL; crlsync needs OpenSSL certificates");
		return OPENVPN_PLUGIN_FUNC_ERROR;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return OPENVPN_PLUGIN_FUNC_ERROR;
	p->plog = args->callbacks->plugin_log;
	p->main_thread = pthread_self();
	p->stderr_useful = stderr_is_useful();
	p->stderr_journal = p->stderr_useful && log_stderr_is_journal();
	pthread_mutex_init(&p->snap_lock, NULL);
	pthread_mutex_init(&p->load_lock, NULL);
	p->sink.fn = plugin_sink;
	p->sink.ctx = p;
	while (args->argv != NULL && args->argv[argc] != NULL)
		argc++;
	if (argc < 2) {
		log_error(&p->sink, "usage: plugin %s CONFIG-FILE [key=value ...]", argc ? args->argv[0] : "openvpn-plugin-crlsync.so");
		goto fail;
	}
	if (!cfg_load(args->argv[1], &p->cfg, err, sizeof(err))) {
		log_error(&p->sink, "%s%s; refusing to start", err,
			  geteuid() != 0 && strstr(err, "Permission denied")
				  ? " (OpenVPN reopens plugins after dropping privileges on SIGHUP: make the "
				    "configuration and ca files readable by that user)"
				  : "");
		goto fail;
	}
	for (int i = 2; i < argc; i++) {
		if (!cfg_apply_override(p->cfg, args->argv[i], err, sizeof(err))) {
			log_error(&p->sink, "%s; refusing to start", err);
			goto fail;
		}
	}
	if (!load_management_password(p))
		goto fail;
	policy_from_cfg(p->cfg, &p->policy);
	if (p->cfg->plugin.evict == 1 && p->cfg->plugin.management == NULL) {
		log_error(&p->sink, "%s: `evict = yes' needs `management' in [plugin]; refusing to start", p->cfg->path);
		goto fail;
	}
	p->loader = store_loader_new(p->cfg, &p->sink);
	if (p->loader == NULL)
		goto fail;
	/* The newest CRL enforced per issuer and scope, before the first load: no restart undoes a revocation. */
	if (plugin_marks_open(p->cfg, &p->sink, &p->marks) != 0)
		goto fail;
	{
		size_t n;
		const struct mark *m = plugin_marks_initial(p->marks, &n);

		if (store_loader_set_marks(p->loader, m, n, plugin_marks_save, p->marks) != 0)
			goto fail;
	}
	/* The evictor exists before the watch thread can reload and kick it. */
	if (cfg_evict(p->cfg)) {
		r = evictor_start(p->cfg, &p->policy, &p->sink, snap_acquire_cb, p, &p->evictor);
		if (r != 0) {
			log_error(&p->sink, "cannot start the eviction thread: %s; refusing to start", FMT_ERRNO(-r));
			goto fail;
		}
		log_note(&p->sink, "eviction enabled: connected clients that a new CRL revokes are killed through "
				   "management %s", p->cfg->plugin.management);
	} else if (p->cfg->plugin.management != NULL) {
		log_warn(&p->sink, "evict = no: connected clients stay connected until they renegotiate, even when "
				   "a new CRL revokes them");
	}
	/* While still root: the status file's directory is opened (and kept) now; the first load reports to it. */
	if (status_file_open(p->cfg, &p->policy, &p->sink, &p->status) != 0)
		goto fail;
	/* Watch before the first load, so that nothing renamed in between is missed. */
	r = watch_start(p->cfg->global.cache_dir, on_change, p, &p->sink, &p->watch);
	if (r != 0) {
		log_error(&p->sink, "cannot watch cache-dir %s: %s; refusing to start", p->cfg->global.cache_dir, FMT_ERRNO(-r));
		goto fail;
	}
	if (reload(p, "startup", false) != 0) {
		log_error(&p->sink, "cannot load cache-dir %s; refusing to start", p->cfg->global.cache_dir);
		goto fail;
	}
	{
		struct store *s = snap_acquire(p);

		log_note(&p->sink,
			 "started (uid %ld, version " CRLSYNC_VERSION "): config %s, cache-dir %s, %zu ca(s), %zu CRL(s) in "
			 "force; policy missing=%s expired=%s grace=%lld s",
			 (long)geteuid(), p->cfg->path, p->cfg->global.cache_dir, s->n_issuers, s->n_crls,
			 cfg_action_str(p->policy.missing), cfg_action_str(p->policy.expired), p->policy.grace);
		if (p->policy.missing == CFG_ACCEPT)
			log_warn(&p->sink, "policy relaxed: missing=accept lets a certificate through when its CA has no "
					   "usable CRL");
		if (p->policy.expired == CFG_ACCEPT)
			log_warn(&p->sink, "policy relaxed: expired=accept honours CRLs past their nextUpdate forever");
		else if (p->policy.grace > 0)
			log_warn(&p->sink, "policy relaxed: expired CRLs are honoured for %lld s past nextUpdate",
				 p->policy.grace);
		store_unref(s);
	}
	ret->type_mask = OPENVPN_PLUGIN_MASK(OPENVPN_PLUGIN_TLS_VERIFY);
	if (p->evictor != NULL)
		ret->type_mask |= OPENVPN_PLUGIN_MASK(OPENVPN_PLUGIN_CLIENT_CONNECT_V2) |
				  OPENVPN_PLUGIN_MASK(OPENVPN_PLUGIN_CLIENT_DISCONNECT);
	ret->handle = p;
	return OPENVPN_PLUGIN_FUNC_SUCCESS;
fail:
	plugin_free(p);
	return OPENVPN_PLUGIN_FUNC_ERROR;
}

static int tls_verify(struct plugin *p, const struct openvpn_plugin_args_func_in *args)
{
	X509 *cert = args->current_cert;
	struct check_result res;
	struct store *s;
	char why[512], explain[96], serial[2 * CRL_SERIAL_MAX + 4] = "?";
	char *subject = NULL, *issuer = NULL, peer[80];
	const char *ip = evict_env_get(args->envp, "untrusted_ip"), *port = evict_env_get(args->envp, "untrusted_port");
	time_t now = time(NULL);
	enum verdict v;

	/* Which connection this is: the plugin's lines carry no OpenVPN client prefix. */
	if (ip == NULL)
		ip = evict_env_get(args->envp, "untrusted_ip6");
	snprintf(peer, sizeof(peer), "%s:%s", ip ? ip : "?", port ? port : "?");

	s = snap_acquire(p);
	check_cert(s, cert, now, &res);
	v = policy_decide(&p->policy, &res, now, explain, sizeof(explain));
	if (v != VERDICT_ACCEPT || res.crl != NULL) {
		check_describe(&res, why, sizeof(why));
		if (cert != NULL) {
			subject = fmt_name(X509_get_subject_name(cert));
			issuer = fmt_name(X509_get_issuer_name(cert));
			fmt_serial(X509_get0_serialNumber(cert), serial, sizeof(serial));
		}
		if (v == VERDICT_REJECT)
			log_error(&p->sink, "REJECT depth=%d subject=%s serial=%s issuer=%s: %s [%s] peer=%s",
				  args->current_cert_depth, subject ? subject : "?", serial, issuer ? issuer : "?", why,
				  res.status == CHECK_REVOKED ? "revoked" : explain, peer);
		else if (v == VERDICT_ACCEPT_RELAXED)
			log_warn(&p->sink, "ACCEPT (relaxed) depth=%d subject=%s serial=%s issuer=%s: %s [%s] peer=%s",
				 args->current_cert_depth, subject ? subject : "?", serial, issuer ? issuer : "?", why,
				 explain, peer);
		else
			log_info(&p->sink, "OK depth=%d subject=%s serial=%s: %s peer=%s", args->current_cert_depth,
				 subject ? subject : "?", serial, why, peer);
		free(subject);
		free(issuer);
	}
	store_unref(s); /* never the last reference: see snap_publish() */
	/* Counters for the status file: an atomic add each, the status thread writes them. */
	if (v == VERDICT_REJECT)
		status_count(STATUS_REJECT);
	else if (v == VERDICT_ACCEPT_RELAXED)
		status_count(STATUS_RELAXED);
	if (v != VERDICT_REJECT && args->current_cert_depth == 0)
		status_count(STATUS_ACCEPT);
	if (v != VERDICT_REJECT)
		evictor_learn(p->evictor, args->per_client_context, args->current_cert_depth, cert, args->envp);
	return v == VERDICT_REJECT ? OPENVPN_PLUGIN_FUNC_ERROR : OPENVPN_PLUGIN_FUNC_SUCCESS;
}

CRLSYNC_EXPORT int openvpn_plugin_func_v3(const int version, struct openvpn_plugin_args_func_in const *args,
					  struct openvpn_plugin_args_func_return *ret)
{
	struct plugin *p = args ? args->handle : NULL;

	(void)version;
	(void)ret;
	if (p == NULL)
		return OPENVPN_PLUGIN_FUNC_ERROR;
	switch (args->type) {
	case OPENVPN_PLUGIN_TLS_VERIFY:
		return tls_verify(p, args);
	case OPENVPN_PLUGIN_CLIENT_CONNECT_V2:
		evictor_connected(p->evictor, args->per_client_context, args->envp);
		break;
	case OPENVPN_PLUGIN_CLIENT_DISCONNECT:
		evictor_disconnected(p->evictor, args->per_client_context);
		break;
	default:
		break;
	}
	return OPENVPN_PLUGIN_FUNC_SUCCESS;
}

CRLSYNC_EXPORT void *openvpn_plugin_client_constructor_v1(openvpn_plugin_handle_t handle)
{
	struct plugin *p = handle;

	return p ? evictor_client_new(p->evictor) : NULL;
}

CRLSYNC_EXPORT void openvpn_plugin_client_destructor_v1(openvpn_plugin_handle_t handle, void *per_client_context)
{
	struct plugin *p = handle;

	if (p != NULL)
		evictor_client_free(p->evictor, per_client_context);
}

CRLSYNC_EXPORT void openvpn_plugin_close_v1(openvpn_plugin_handle_t handle)
{
	plugin_free(handle);
}
