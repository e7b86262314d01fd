/* SPDX-License-Identifier: GPL-2.0-only */
/* The eviction thread: re-checks connected clients after each reload and kills revoked ones via management. */
#include "evict.h"

#include <errno.h>
#include <pthread.h>
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

struct evict_client {
	struct evict_client *prev, *next;
	uint64_t id;
	X509 *chain[EVICT_MAX_DEPTH];
	char ip[64], port[8];  /* real address, as OpenVPN gave it in the environment */
	bool connected;
	bool evicted;         /* client-kill sent: do not do it again */
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
};

struct victim {
	uint64_t id;
	char ip[64], port[8];
	char cn[128];
	char subject[256];
	char serial[2 * CRL_SERIAL_MAX + 4];
	char why[400];
};

const char *evict_env_get(const char **envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
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
	if (depth == 0)
		set_addr(c, envp);
	pthread_mutex_unlock(&e->clients_lock);
}

void evictor_connected(struct evictor *e, struct evict_client *c, const char **envp)
{
	if (e == NULL || c == NULL)
		return;
	pthread_mutex_lock(&e->clients_lock);
	set_addr(c, envp);
	c->connected = true;
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

/* A connected client's chain, copied (with references) so that it is checked without the lock. */
struct suspect {
	uint64_t id;
	char ip[64], port[8];
	X509 *chain[EVICT_MAX_DEPTH];
};

static void suspects_free(struct suspect *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < EVICT_MAX_DEPTH; d++)
			X509_free(s[i].chain[d]);
	free(s);
}

/*
 * Which connected clients the snapshot now rejects: revoked, or expired past grace with
 * expired=reject. The client list is locked only while copying it: OpenVPN's main thread takes the
 * same lock in TLS_VERIFY and connect/disconnect, and must never wait for CRL checks.
 */
static size_t find_victims(struct evictor *e, const struct store *snap, time_t now, struct victim **out)
{
	struct suspect *sus = NULL;
	struct victim *v = NULL;
	size_t n_sus = 0, cap = 0, n = 0;

	*out = NULL;
	pthread_mutex_lock(&e->clients_lock);
	for (struct evict_client *c = e->clients; c != NULL; c = c->next) {
		if (!c->connected || c->evicted)
			continue;
		if (n_sus == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct suspect *ns = realloc(sus, nc * sizeof(*ns));

			if (ns == NULL)
				break;
			sus = ns;
			cap = nc;
		}
		memset(&sus[n_sus], 0, sizeof(sus[n_sus]));
		sus[n_sus].id = c->id;
		memcpy(sus[n_sus].ip, c->ip, sizeof(c->ip));
		memcpy(sus[n_sus].port, c->port, sizeof(c->port));
		for (int d = 0; d < EVICT_MAX_DEPTH; d++)
			if (c->chain[d] != NULL && X509_up_ref(c->chain[d]))
				sus[n_sus].chain[d] = c->chain[d];
		n_sus++;
	}
	pthread_mutex_unlock(&e->clients_lock);
	for (size_t i = 0; i < n_sus && !atomic_load(&e->stopping); i++) {
		for (int d = 0; d < EVICT_MAX_DEPTH; d++) {
			X509 *x = sus[i].chain[d];
			struct check_result res;
			char explain[96];
			struct victim *nv;
			char *subj;

			if (x == NULL)
				continue;
			check_cert(snap, x, now, &res);
			/* A missing CRL does not evict: a deleted file must not disconnect everyone. */
			if (!(res.status == CHECK_REVOKED ||
			      (res.status == CHECK_STALE &&
			       policy_decide(e->policy, &res, now, explain, sizeof(explain)) == VERDICT_REJECT)))
				continue;
			nv = realloc(v, (n + 1) * sizeof(*v));
			if (nv == NULL)
				break;
			v = nv;
			memset(&v[n], 0, sizeof(v[n]));
			v[n].id = sus[i].id;
			memcpy(v[n].ip, sus[i].ip, sizeof(v[n].ip));
			memcpy(v[n].port, sus[i].port, sizeof(v[n].port));
			if (sus[i].chain[0] != NULL)
				X509_NAME_get_text_by_NID(X509_get_subject_name(sus[i].chain[0]), NID_commonName, v[n].cn,
							  sizeof(v[n].cn));
			subj = crl_name_text(X509_get_subject_name(sus[i].chain[0] ? sus[i].chain[0] : x));
			snprintf(v[n].subject, sizeof(v[n].subject), "%s", subj ? subj : "?");
			free(subj);
			crl_serial_hex(X509_get0_serialNumber(x), v[n].serial, sizeof(v[n].serial));
			check_describe(&res, v[n].why, sizeof(v[n].why));
			if (d > 0) {
				size_t l = strlen(v[n].why);

				snprintf(v[n].why + l, sizeof(v[n].why) - l, " (its CA at depth %d)", d);
			}
			n++;
			break;
		}
	}
	suspects_free(sus, n_sus);
	*out = v;
	return n;
}

/*
 * The client's id in `status 3`. OpenVPN shows the real address as "ip:port" (IPv4, v4-mapped),
 * "[ip6]:port" or a bare IPv6 address depending on version; a client whose address changed
 * (float, NAT rebinding) is found by its Common Name when exactly one client has it.
 */
static bool lookup_cid(const char *reply, const struct victim *v, unsigned long *cid)
{
	char a[96];

	snprintf(a, sizeof(a), "%s:%s", v->ip, v->port);
	if (mgmt_status_find(reply, a, cid, NULL, 0))
		return true;
	if (strchr(v->ip, ':') != NULL) {
		snprintf(a, sizeof(a), "[%s]:%s", v->ip, v->port);
		if (mgmt_status_find(reply, a, cid, NULL, 0) || mgmt_status_find(reply, v->ip, cid, NULL, 0))
			return true;
	}
	return mgmt_status_find_unique_cn(reply, v->cn, cid);
}

static void mark_evicted(struct evictor *e, uint64_t id)
{
	pthread_mutex_lock(&e->clients_lock);
	for (struct evict_client *c = e->clients; c != NULL; c = c->next)
		if (c->id == id)
			c->evicted = true;
	pthread_mutex_unlock(&e->clients_lock);
}

/* One pass. Returns 0 when nothing is left to do, or -errno when the management interface failed. */
static int evict_pass(struct evictor *e, unsigned retry_in)
{
	struct store *snap = e->acquire(e->ctx);
	struct victim *v = NULL;
	char err[256], *reply = NULL, cmd[64];
	size_t n, unmatched = 0;
	int fd = -1, r = 0;

	n = find_victims(e, snap, time(NULL), &v);
	store_unref(snap);
	if (n == 0)
		goto out;
	fd = mgmt_open(e->cfg->management, e->cfg->management_password, EVICT_MGMT_TIMEOUT_MS, err, sizeof(err));
	if (fd < 0) {
		r = fd;
		log_warn(e->log, "management %s unavailable (%s): %zu client(s) to evict; retrying in %u s",
			 e->cfg->management, err, n, retry_in);
		goto out;
	}
	r = mgmt_command(fd, "status 3", EVICT_MGMT_TIMEOUT_MS, &reply);
	if (r != 0) {
		log_warn(e->log, "management %s unavailable (`status 3' failed: %s); retrying in %u s",
			 e->cfg->management, strerror(-r), retry_in);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned long cid;
		char *ok = NULL;
		int k;

		if (atomic_load(&e->stopping))
			break; /* closing: OpenVPN's main thread is in close() and cannot answer us */
		if (!lookup_cid(reply, &v[i], &cid)) {
			/* Not marked evicted: if it is still connected, the next pass tries again. */
			log_warn(e->log, "client subject=%s serial=%s peer=%s:%s is not in the management status (by "
					 "address or unique common name); retrying at the next pass",
				 v[i].subject, v[i].serial, v[i].ip, v[i].port);
			unmatched++;
			continue;
		}
		/* HALT: the client is told to exit, not to reconnect (OpenVPN 2.5+). */
		snprintf(cmd, sizeof(cmd), "client-kill %lu HALT", cid);
		k = mgmt_command(fd, cmd, EVICT_MGMT_TIMEOUT_MS, &ok);
		if (k != 0 || ok == NULL || strstr(ok, "SUCCESS:") == NULL) {
			log_warn(e->log, "management %s: `%s' failed: %s", e->cfg->management, cmd,
				 k != 0 ? strerror(-k) : "refused");
			free(ok);
			r = k != 0 ? k : -EPROTO;
			continue;
		}
		free(ok);
		mark_evicted(e, v[i].id);
		log_error(e->log, "EVICT subject=%s serial=%s cid=%lu peer=%s:%s: %s", v[i].subject, v[i].serial, cid,
			  v[i].ip, v[i].port, v[i].why);
	}
	if (r == 0 && unmatched > 0)
		r = -EAGAIN; /* back off and look again soon, not only at the next periodic pass */
out:
	if (fd >= 0)
		close(fd);
	free(reply);
	free(v);
	return r;
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
 * Runs a pass when kicked (a reload, a new client), every EVICT_RECHECK_S anyway (expiry), and,
 * after a management failure, not before the backoff has elapsed: kicks meanwhile are remembered
 * for that moment, they neither hurry the retry nor double the delay.
 */
static void *evict_main(void *arg)
{
	struct evictor *e = arg;
	struct timespec due = mono_after(EVICT_RECHECK_S), now;
	unsigned retry = 0;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&e->lock);
	while (!e->stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (before(&now, &due) && (retry > 0 || !e->kicked)) {
			pthread_cond_timedwait(&e->cond, &e->lock, &due);
			continue; /* re-evaluate: stop, kick, or the time has come */
		}
		e->kicked = false;
		pthread_mutex_unlock(&e->lock);
		{
			unsigned next = retry ? (retry * 2 > EVICT_RETRY_MAX_S ? EVICT_RETRY_MAX_S : retry * 2) : 1;

			/* Backoff while the interface is absent or busy; OpenVPN itself is never waited for. */
			retry = evict_pass(e, next) != 0 ? next : 0;
		}
		due = mono_after(retry ? retry : EVICT_RECHECK_S);
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
