/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Eviction: connected clients whose chain a new CRL revokes are killed through the management interface. */
#ifndef CRLSYNC_PLUGIN_EVICT_H
#define CRLSYNC_PLUGIN_EVICT_H

#include <openssl/x509.h>

#include "crlsync/check.h"
#include "crlsync/config.h"
#include "crlsync/log.h"
#include "crlsync/policy.h"
#include "crlsync/store.h"

#define EVICT_MAX_DEPTH 16
/* Expiry is a matter of time, not of reloads: connected clients are re-checked this often. */
#define EVICT_RECHECK_S 60
#define EVICT_RETRY_MAX_S 30
#define EVICT_MGMT_TIMEOUT_MS 3000
/* OpenVPN 2.6 lists a killed client ~5 s more (delayed exit): client-kill is sent again only after this. */
#define EVICT_KILL_WAIT_S 15
/* How long after start the thread looks every second for OpenVPN's privilege drop (`user`). */
#define EVICT_DROP_WATCH_S 120
/* After the drop, a reachability check that found the interface busy is tried again after this. */
#define EVICT_PROBE_RETRY_S 5

struct evictor;
struct evict_client;

/* Returns a new reference to the snapshot in force (the plugin's). */
typedef struct store *evict_acquire_fn(void *ctx);

/*
 * Starts the eviction thread for cfg->plugin.management. The configuration and policy must outlive it.
 * Returns 0 and *out, or -errno.
 */
int evictor_start(const struct cfg *cfg, const struct policy *policy, const struct log_sink *log,
		  evict_acquire_fn *acquire, void *ctx, struct evictor **out);

/* Stops and joins the thread, frees every client record. NULL is a no-op. */
void evictor_stop(struct evictor *e);

/* Per-client context (OpenVPN's client constructor/destructor). NULL e: NULL. */
struct evict_client *evictor_client_new(struct evictor *e);
void evictor_client_free(struct evictor *e, struct evict_client *c);

/* TLS_VERIFY: remembers the certificate at `depth` and the peer's real address. */
void evictor_learn(struct evictor *e, struct evict_client *c, int depth, X509 *cert, const char **envp);
/* CLIENT_CONNECT_V2 / CLIENT_DISCONNECT. */
void evictor_connected(struct evictor *e, struct evict_client *c, const char **envp);
void evictor_disconnected(struct evictor *e, struct evict_client *c);

/* A new snapshot is in force: re-check connected clients now. */
void evictor_kick(struct evictor *e);

/* The value of NAME in OpenVPN's environment block, or NULL. */
const char *evict_env_get(const char **envp, const char *name);

#endif
