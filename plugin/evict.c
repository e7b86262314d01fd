/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The eviction thread: re-checks connected clients after each reload and kills revoked ones via management. */
#include "evict.h"

#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mgmt.h"
#include "status_file.h"
#include "crlsync/fmt.h"
#include "crlsync/policy.h"

struct evict_client {
	struct evict_client *prev, *next;
	uint64_t id;
	X509 *chain[EVICT_MAX_DEPTH];
	/* How `status 3` shows this session (see struct mgmt_session), from OpenVPN's environment. */
	char cn[128];
	char ip[64], port[8];
	char vaddr[64], vaddr6[64];
	long long since;
	bool connected;
	bool killed;          /* client-kill sent for killed_cid at killed_at (CLOCK_MONOTONIC) */
	unsigned long killed_cid;
	struct timespec killed_at;
	bool evicted;         /* killed, and its row has left `status 3`: nothing more to do */
};

struct evictor {
	const struct cfg *cfg;
	const struct policy *policy;
	const struct log_sink *log;
	evict_acquire_fn *acquire;
	void *ctx;
	pthread_mutex_t clients_lock; /* the client list; held for copies only, never across I/O */
	struct evict_client *clients;
	uint64_t next_id;
	pthread_mutex_t lock;         /* wake-up state of the thread */
	pthread_cond_t cond;
	bool stop, kicked;
	atomic_bool stopping;         /* stop, readable without the lock from inside a pass */
	pthread_t thread;
	uid_t reach_uid;              /* eviction thread only: the unprivileged uid reachability was told for */
};

const char *evict_env_get(const char **envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static void env_copy(char *dst, size_t len, const char **envp, const char *name)
{
	const char *v = evict_env_get(envp, name);

	snprintf(dst, len, "%s", v != NULL ? v : "");
}

static void set_addr(struct evict_client *c, const char **envp)
{
	static const char *const pairs[][2] = {
		{ "trusted_ip", "trusted_port" },
		{ "untrusted_ip", "untrusted_port" },
		{ "trusted_ip6", "trusted_port" },
		{ "untrusted_ip6", "untrusted_port" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const char *ip = evict_env_get(envp, pairs[i][0]), *port = evict_env_get(envp, pairs[i][1]);

		if (ip != NULL && port != NULL) {
			snprintf(c->ip, sizeof(c->ip), "%s", ip);
			snprintf(c->port, sizeof(c->port), "%s", port);
			return;
		}
	}
}

struct evict_client *evictor_client_new(struct evictor *e)
{
	struct evict_client *c;

	if (e == NULL || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->since = -1;
	pthread_mutex_lock(&e->clients_lock);
	c->id = ++e->next_id;
	c->next = e->clients;
	if (e->clients)
		e->clients->prev = c;
	e->clients = c;
	pthread_mutex_unlock(&e->clients_lock);
	return c;
}

static void drop_chain(struct evict_client *c)
{
	for (int i = 0; i < EVICT_MAX_DEPTH; i++) {
		X509_free(c->chain[i]);
		c->chain[i] = NULL;
	}
}

static void unlink_free(struct evictor *e, struct evict_client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		e->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	drop_chain(c);
	free(c);
}

void evictor_client_free(struct evictor *e, struct evict_client *c)
{
	if (e == NULL || c == NULL)
		return;
	pthread_mutex_lock(&e->clients_lock);
	unlink_free(e, c);
	pthread_mutex_unlock(&e->clients_lock);
}

void evictor_learn(struct evictor *e, struct evict_client *c, int depth, X509 *cert, const char **envp)
{
	if (e == NULL || c == NULL || cert == NULL || depth < 0 || depth >= EVICT_MAX_DEPTH || !X509_up_ref(cert))
		return;
	pthread_mutex_lock(&e->clients_lock);
	X509_free(c->chain[depth]);
	c->chain[depth] = cert;
	if (depth == 0) {
		set_addr(c, envp);
		/* Until CLIENT_CONNECT says otherwise (username-as-common-name, ...), the leaf's CN. */
		if (!c->connected && evict_env_get(envp, "common_name") != NULL)
			env_copy(c->cn, sizeof(c->cn), envp, "common_name");
		else if (!c->connected)
			X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, c->cn, sizeof(c->cn));
	}
	pthread_mutex_unlock(&e->clients_lock);
}

void evictor_connected(struct evictor *e, struct evict_client *c, const char **envp)
{
	const char *since;
	char *end;

	if (e == NULL || c == NULL)
		return;
	since = evict_env_get(envp, "time_unix");
	pthread_mutex_lock(&e->clients_lock);
	set_addr(c, envp);
	/*
	 * What identifies this session in `status 3` (OpenVPN 2.6 gives no Client ID here): its
	 * common_name, time_unix (= Connected Since (time_t)) and pool addresses (= Virtual Address).
	 */
	if (evict_env_get(envp, "common_name") != NULL)
		env_copy(c->cn, sizeof(c->cn), envp, "common_name");
	env_copy(c->vaddr, sizeof(c->vaddr), envp, "ifconfig_pool_remote_ip");
	env_copy(c->vaddr6, sizeof(c->vaddr6), envp, "ifconfig_pool_remote_ip6");
	c->since = -1;
	if (since != NULL && *since >= '0' && *since <= '9') {
		long long v;

		errno = 0;
		v = strtoll(since, &end, 10);
		if (errno == 0 && *end == '\0')
			c->since = v;
	}
	c->connected = true;
	c->killed = false;
	c->evicted = false;
	pthread_mutex_unlock(&e->clients_lock);
	/* It may have connected on a snapshot older than the one in force: check it once. */
	evictor_kick(e);
}

void evictor_disconnected(struct evictor *e, struct evict_client *c)
{
	if (e == NULL || c == NULL)
		return;
	pthread_mutex_lock(&e->clients_lock);
	c->connected = false;
	c->cn[0] = '\0';
	drop_chain(c);
	pthread_mutex_unlock(&e->clients_lock);
}

void evictor_kick(struct evictor *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	e->kicked = true;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

/*
 * A tracked session, copied (chain with references) so that it is checked without the lock. Every
 * session takes part in matching `status 3` rows, victims or not: a row another client fits as
 * well is never killed.
 */
struct suspect {
	uint64_t id;
	char cn[128];
	char ip[64], port[8];
	char vaddr[64], vaddr6[64];
	long long since;
	bool connected, killed;
	unsigned long killed_cid;
	struct timespec killed_at;
	X509 *chain[EVICT_MAX_DEPTH];
};

/* Why a suspect is evicted, for the EVICT line. */
struct victim {
	size_t sus; /* index in the suspects */
	char subject[256];
	char serial[2 * CRL_SERIAL_MAX + 4];
	char why[400];
};

static void suspects_free(struct suspect *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < EVICT_MAX_DEPTH; d++)
			X509_free(s[i].chain[d]);
	free(s);
}

/* Copies every session with a Common Name that has not left already. Returns the count. */
static size_t copy_sessions(struct evictor *e, struct suspect **out)
{
	struct suspect *sus = NULL;
	size_t n = 0, cap = 0;

	pthread_mutex_lock(&e->clients_lock);
	for (struct evict_client *c = e->clients; c != NULL; c = c->next) {
		struct suspect *s;

		if (c->evicted || c->cn[0] == '\0')
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct suspect *ns = realloc(sus, nc * sizeof(*ns));

			if (ns == NULL)
				break;
			sus = ns;
			cap = nc;
		}
		s = &sus[n++];
		memset(s, 0, sizeof(*s));
		s->id = c->id;
		memcpy(s->cn, c->cn, sizeof(s->cn));
		memcpy(s->ip, c->ip, sizeof(s->ip));
		memcpy(s->port, c->port, sizeof(s->port));
		memcpy(s->vaddr, c->vaddr, sizeof(s->vaddr));
		memcpy(s->vaddr6, c->vaddr6, sizeof(s->vaddr6));
		s->since = c->since;
		s->connected = c->connected;
		s->killed = c->killed;
		s->killed_cid = c->killed_cid;
		s->killed_at = c->killed_at;
		if (c->connected)
			for (int d = 0; d < EVICT_MAX_DEPTH; d++)
				if (c->chain[d] != NULL && X509_up_ref(c->chain[d]))
					s->chain[d] = c->chain[d];
	}
	pthread_mutex_unlock(&e->clients_lock);
	*out = sus;
	return n;
}

/*
 * Which connected clients the snapshot now rejects: revoked, or expired past grace with
 * expired=reject. The client list is locked only while copying it: OpenVPN's main thread takes the
 * same lock in TLS_VERIFY and connect/disconnect, and must never wait for CRL checks.
 */
static size_t find_victims(struct evictor *e, const struct store *snap, time_t now, struct suspect *sus,
			   size_t n_sus, struct victim **out)
{
	struct victim *v = NULL;
	size_t n = 0;

	*out = NULL;
	for (size_t i = 0; i < n_sus && !atomic_load(&e->stopping); i++) {
		for (int d = 0; d < EVICT_MAX_DEPTH && sus[i].connected; d++) {
			X509 *x = sus[i].chain[d];
			struct check_result res;
			struct victim *nv;
			char *subj;

			if (x == NULL)
				continue;
			check_cert(snap, x, now, &res);
			if (!policy_evicts(e->policy, &res, now))
				continue; /* a missing CRL never evicts (policy.h) */
			nv = realloc(v, (n + 1) * sizeof(*v));
			if (nv == NULL)
				break;
			v = nv;
			memset(&v[n], 0, sizeof(v[n]));
			v[n].sus = i;
			subj = fmt_name(X509_get_subject_name(sus[i].chain[0] ? sus[i].chain[0] : x));
			snprintf(v[n].subject, sizeof(v[n].subject), "%s", subj ? subj : "?");
			free(subj);
			fmt_serial(X509_get0_serialNumber(x), v[n].serial, sizeof(v[n].serial));
			check_describe(&res, v[n].why, sizeof(v[n].why));
			if (d > 0) {
				size_t l = strlen(v[n].why);

				snprintf(v[n].why + l, sizeof(v[n].why) - l, " (its CA at depth %d)", d);
			}
			n++;
			break;
		}
	}
	*out = v;
	return n;
}

static void mark(struct evictor *e, uint64_t id, bool evicted, unsigned long cid)
{
	pthread_mutex_lock(&e->clients_lock);
	for (struct evict_client *c = e->clients; c != NULL; c = c->next) {
		if (c->id != id)
			continue;
		if (evicted) {
			c->evicted = true;
		} else {
			c->killed = true;
			c->killed_cid = cid;
			clock_gettime(CLOCK_MONOTONIC, &c->killed_at);
		}
	}
	pthread_mutex_unlock(&e->clients_lock);
}

static long secs_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t->tv_sec);
}

/*
 * After OpenVPN's privilege drop (`user`), the eviction thread connects as that user. Says once per
 * uid whether the management interface lets it in, naming the fix when it does not: otherwise
 * every eviction fails, retried forever. Returns false when it cannot tell yet (busy).
 */
static bool reach_note(struct evictor *e, int r, const char *err)
{
	uid_t uid = geteuid();
	bool is_unix = strncmp(e->cfg->plugin.management, "unix:", 5) == 0;
	char user[64] = "?", buf[256];
	struct passwd pw, *res = NULL;

	if (uid == 0 || uid == e->reach_uid)
		return true;
	if (r == -EBUSY || r == -ETIMEDOUT || r == -EINTR)
		return false;
	e->reach_uid = uid;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		snprintf(user, sizeof(user), "%s", pw.pw_name);
	if (r == 0) {
		log_note(e->log, "management %s is reachable as uid %ld (%s), the user OpenVPN runs as now: "
				 "revoked clients can be evicted", e->cfg->plugin.management, (long)uid, user);
	} else if (r == -EACCES || r == -EPERM || (is_unix && r == -ECONNRESET)) {
		log_error(e->log,
			  "management %s cannot be reached as uid %ld (%s), the user OpenVPN runs as now (%s): connected "
			  "clients that a new CRL revokes will NOT be evicted. Fix: let %s reach the socket (every "
			  "directory above it searchable by it, and `management-client-user %s' or a "
			  "`management-client-group' of it if OpenVPN restricts the socket), or use a TCP port with a "
			  "password file (`management 127.0.0.1 PORT FILE'; management = 127.0.0.1:PORT and "
			  "management-password = FILE in [plugin])",
			  e->cfg->plugin.management, (long)uid, user, err, user, user);
	} else if (r == -ENOKEY || r == -EKEYREJECTED) {
		log_error(e->log, "management %s refuses the plugin (%s): connected clients that a new CRL revokes will "
				  "NOT be evicted; set management-password in [plugin] to OpenVPN's management password file",
			  e->cfg->plugin.management, err);
	} else {
		log_warn(e->log, "management %s cannot be reached as uid %ld (%s) (%s): revoked clients are evicted "
				 "only once it can", e->cfg->plugin.management, (long)uid, user, err);
	}
	return true;
}

/* Connects once, as the user OpenVPN now runs as, to tell whether eviction can work. */
static bool reach_check(struct evictor *e)
{
	char err[256] = "";
	int fd = mgmt_open(e->cfg->plugin.management, e->cfg->plugin.management_password, EVICT_MGMT_TIMEOUT_MS, err, sizeof(err));

	if (fd >= 0)
		close(fd);
	return reach_note(e, fd >= 0 ? 0 : fd, err);
}

/* Kills the row of one victim. Returns 0, -EAGAIN (still to watch) or the management error. */
static int kill_row(struct evictor *e, int fd, const struct suspect *s, const struct victim *v,
		    const struct mgmt_row *row)
{
	char cmd[64], *ok = NULL;
	int k;

	/* The matcher never gives another name's row; checked again where the command is made. */
	if (strcmp(row->cn, s->cn) != 0)
		return -EAGAIN;
	/* OpenVPN keeps a killed instance a few seconds (delayed exit): wait for it, do not kill twice. */
	if (s->killed && s->killed_cid == row->cid && secs_since(&s->killed_at) < EVICT_KILL_WAIT_S)
		return -EAGAIN;
	/* HALT: the client is told to exit, not to reconnect (OpenVPN 2.5+). */
	snprintf(cmd, sizeof(cmd), "client-kill %lu HALT", row->cid);
	k = mgmt_command(fd, cmd, EVICT_MGMT_TIMEOUT_MS, &ok);
	if (k != 0 || ok == NULL || strstr(ok, "SUCCESS:") == NULL) {
		log_warn(e->log, "management %s: `%s' failed: %s", e->cfg->plugin.management, cmd,
			 k != 0 ? FMT_ERRNO(-k) : "refused");
		free(ok);
		return k != 0 ? k : -EPROTO;
	}
	free(ok);
	if (s->killed && s->killed_cid == row->cid)
		log_warn(e->log, "client subject=%s serial=%s cid=%lu is still listed %ld s after `client-kill'; sent it "
				 "again", v->subject, v->serial, row->cid, secs_since(&s->killed_at));
	else
	{
		log_error(e->log, "EVICT subject=%s serial=%s cid=%lu peer=%s: %s", v->subject, v->serial, row->cid,
			  row->real, v->why);
		status_count(STATUS_EVICTED);
	}
	mark(e, s->id, false, row->cid);
	return -EAGAIN; /* evicted once its row has left `status 3' */
}

/* One pass. Returns 0 when nothing is left to do, or -errno when the management interface failed. */
static int evict_pass(struct evictor *e, unsigned retry_in)
{
	struct store *snap = e->acquire(e->ctx);
	struct mgmt_status st = { 0 };
	struct mgmt_session *ses = NULL;
	enum mgmt_match *match = NULL;
	struct suspect *sus = NULL;
	struct victim *v = NULL;
	char err[256] = "", *reply = NULL;
	size_t n_sus, n, *row = NULL, waiting = 0;
	int fd = -1, r = 0;

	n_sus = copy_sessions(e, &sus);
	n = find_victims(e, snap, time(NULL), sus, n_sus, &v);
	store_unref(snap);
	if (n == 0)
		goto out;
	fd = mgmt_open(e->cfg->plugin.management, e->cfg->plugin.management_password, EVICT_MGMT_TIMEOUT_MS, err, sizeof(err));
	if (fd < 0) {
		r = fd;
		reach_note(e, r, err);
		log_warn(e->log, "management %s unavailable (%s): %zu client(s) to evict; retrying in %u s",
			 e->cfg->plugin.management, err, n, retry_in);
		goto out;
	}
	reach_note(e, 0, "");
	r = mgmt_command(fd, "status 3", EVICT_MGMT_TIMEOUT_MS, &reply);
	if (r == 0)
		r = mgmt_status_parse(reply, &st);
	if (r != 0) {
		log_warn(e->log, "management %s unavailable (`status 3' failed: %s); retrying in %u s",
			 e->cfg->plugin.management, r == -EBADMSG ? "no client list" : FMT_ERRNO(-r), retry_in);
		goto out;
	}
	ses = calloc(n_sus + 1, sizeof(*ses));
	match = calloc(n_sus + 1, sizeof(*match));
	row = calloc(n_sus + 1, sizeof(*row));
	if (ses == NULL || match == NULL || row == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_sus; i++)
		ses[i] = (struct mgmt_session){ .cn = sus[i].cn, .ip = sus[i].ip, .port = sus[i].port,
						.vaddr = sus[i].vaddr, .vaddr6 = sus[i].vaddr6, .since = sus[i].since,
						.killed = sus[i].killed, .killed_cid = sus[i].killed_cid };
	for (size_t i = 0; i < n; i++)
		ses[v[i].sus].victim = true;
	r = mgmt_status_match(&st, ses, n_sus, match, row);
	if (r != 0)
		goto out;
	for (size_t i = 0; i < n && !atomic_load(&e->stopping); i++) {
		const struct suspect *s = &sus[v[i].sus];
		int k;

		switch (match[v[i].sus]) {
		case MGMT_MATCH_ROW:
			k = kill_row(e, fd, s, &v[i], &st.rows[row[v[i].sus]]);
			if (k == -EAGAIN)
				waiting++;
			else if (k != 0)
				r = k;
			/*
			 * No answer in time (or a broken connection): the connection is out of step, and a
			 * late "SUCCESS:" would be read as the next victim's. The next pass reconnects.
			 */
			if (k != 0 && k != -EAGAIN && k != -EPROTO)
				goto out;
			break;
		case MGMT_MATCH_GONE:
			if (s->killed) {
				/* Its own row has left `status 3': now, and only now, it counts as evicted. */
				mark(e, s->id, true, 0);
				log_info(e->log, "client subject=%s serial=%s cid=%lu has left `status 3' after `client-kill'",
					 v[i].subject, v[i].serial, s->killed_cid);
				break;
			}
			/* Not marked: if it is still connected, the next pass tries again. */
			log_warn(e->log, "client subject=%s serial=%s CN=%s peer=%s:%s is not in the management status (no "
					 "row with its common name and connection time); retrying",
				 v[i].subject, v[i].serial, s->cn, s->ip, s->port);
			waiting++;
			break;
		case MGMT_MATCH_AMBIGUOUS:
			log_warn(e->log, "client subject=%s serial=%s CN=%s peer=%s:%s cannot be told apart in the management "
					 "status from another client with that common name: not killed; retrying",
				 v[i].subject, v[i].serial, s->cn, s->ip, s->port);
			waiting++;
			break;
		case MGMT_MATCH_WAIT:
			waiting++;
			break;
		}
	}
	if (r == 0 && waiting > 0)
		r = -EAGAIN; /* back off and look again soon, not only at the next periodic pass */
out:
	if (fd >= 0)
		close(fd);
	mgmt_status_clear(&st);
	free(reply);
	free(ses);
	free(match);
	free(row);
	free(v);
	suspects_free(sus, n_sus);
	return r;
}

/*
 * Seconds until the next periodic recheck: EVICT_RECHECK_S, or sooner when a CRL in force starts
 * to reject before that (policy_rejects_from(): nextUpdate + grace + 1 with expired = reject), so
 * that expiry evictions come as promptly as revocation ones (issue 13).
 */
static unsigned recheck_in(struct evictor *e)
{
	struct store *snap;
	time_t now = time(NULL);
	long long best = EVICT_RECHECK_S;

	snap = e->acquire(e->ctx);
	for (size_t i = 0; snap != NULL && i < snap->n_issuers; i++) {
		for (size_t k = 0; k < snap->issuers[i].n_crls; k++) {
			long long at;

			if (!policy_rejects_from(e->policy, snap->issuers[i].crls[k], &at))
				continue;
			if (at > (long long)now && at - (long long)now < best)
				best = at - (long long)now;
		}
	}
	store_unref(snap);
	return (unsigned)best;
}

static struct timespec mono_after(unsigned s)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)s;
	return ts;
}

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/*
 * Runs a pass when kicked (a reload, a new client), every EVICT_RECHECK_S anyway (expiry; sooner
 * when a CRL in force crosses nextUpdate + grace before that, recheck_in()), and,
 * after a management failure, not before the backoff has elapsed: kicks meanwhile are remembered
 * for that moment, they neither hurry the retry nor double the delay.
 *
 * OpenVPN drops privileges (`user`) after opening the plugin and tells it nothing. For the first
 * EVICT_DROP_WATCH_S the thread looks at its euid every second, and at every wake-up after that;
 * once it runs unprivileged it checks at once that the management interface lets it in
 * (reach_check()), off OpenVPN's thread.
 */
static void *evict_main(void *arg)
{
	struct evictor *e = arg;
	struct timespec due = mono_after(recheck_in(e)), watch_until = mono_after(EVICT_DROP_WATCH_S), probe_at, now;
	unsigned retry = 0;
	sigset_t all;

	clock_gettime(CLOCK_MONOTONIC, &probe_at);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&e->lock);
	while (!e->stop) {
		struct timespec wake = due;
		uid_t uid = geteuid();

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (uid != 0 && uid != e->reach_uid && !before(&now, &probe_at)) {
			bool told;

			pthread_mutex_unlock(&e->lock);
			told = reach_check(e);
			pthread_mutex_lock(&e->lock);
			if (!told)
				probe_at = mono_after(EVICT_PROBE_RETRY_S); /* busy: ask again soon */
			continue;
		}
		if (uid == 0 && before(&now, &watch_until)) {
			struct timespec soon = mono_after(1);

			if (before(&soon, &wake))
				wake = soon;
		} else if (uid != 0 && uid != e->reach_uid && before(&probe_at, &wake)) {
			wake = probe_at;
		}
		if (before(&now, &due) && (retry > 0 || !e->kicked)) {
			pthread_cond_timedwait(&e->cond, &e->lock, &wake);
			continue; /* re-evaluate: stop, kick, the privilege drop, or the time has come */
		}
		e->kicked = false;
		pthread_mutex_unlock(&e->lock);
		{
			unsigned next = retry ? (retry * 2 > EVICT_RETRY_MAX_S ? EVICT_RETRY_MAX_S : retry * 2) : 1;

			/* Backoff while the interface is absent or busy; OpenVPN itself is never waited for. */
			retry = evict_pass(e, next) != 0 ? next : 0;
		}
		due = mono_after(retry ? retry : recheck_in(e));
		pthread_mutex_lock(&e->lock);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

int evictor_start(const struct cfg *cfg, const struct policy *policy, const struct log_sink *log,
		  evict_acquire_fn *acquire, void *ctx, struct evictor **out)
{
	struct evictor *e = calloc(1, sizeof(*e));
	pthread_condattr_t ca;
	int r;

	*out = NULL;
	if (e == NULL)
		return -ENOMEM;
	e->cfg = cfg;
	e->policy = policy;
	e->log = log;
	e->acquire = acquire;
	e->ctx = ctx;
	pthread_mutex_init(&e->clients_lock, NULL);
	pthread_mutex_init(&e->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	r = -pthread_create(&e->thread, NULL, evict_main, e);
	if (r != 0) {
		pthread_cond_destroy(&e->cond);
		pthread_mutex_destroy(&e->lock);
		pthread_mutex_destroy(&e->clients_lock);
		free(e);
		return r;
	}
	*out = e;
	return 0;
}

void evictor_stop(struct evictor *e)
{
	if (e == NULL)
		return;
	atomic_store(&e->stopping, true);
	pthread_mutex_lock(&e->lock);
	e->stop = true;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
	pthread_join(e->thread, NULL);
	while (e->clients != NULL)
		unlink_free(e, e->clients);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->clients_lock);
	free(e);
}
