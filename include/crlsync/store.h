/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The set of CRLs in force: an immutable snapshot built from cache-dir, and the loader that builds it. */
#ifndef CRLSYNC_STORE_H
#define CRLSYNC_STORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "crlsync/config.h"
#include "crlsync/crl.h"
#include "crlsync/log.h"
#include "crlsync/mark.h"

/* CRLs in force for one configured ca. */
struct store_issuer {
	X509 *ca;               /* borrowed from the configuration */
	const char *source;     /* name of the [source] that configured it */
	struct crl **crls;      /* one per stream (IDP scope), newest accepted */
	size_t n_crls;
};

/* An immutable snapshot. Readers hold a reference; nothing in it changes after store_loader_load(). */
struct store {
	atomic_int refs;
	unsigned long generation;
	struct store_issuer *issuers;
	size_t n_issuers;
	size_t n_crls;
	size_t n_entries;
};

struct store *store_ref(struct store *s);
/* Drops a reference, freeing on the last (with every crl it alone holds); NULL is a no-op. */
void store_unref(struct store *s);

/*
 * The issuer entries that may have issued `cert` (name and key identifier match, as
 * X509_check_issued()). Returns how many were written to out[] (at most max).
 */
size_t store_find_issuers(const struct store *s, X509 *cert, const struct store_issuer **out, size_t max);

struct store_loader;

/*
 * A loader for cfg->cache_dir. The configuration must outlive the loader. Not thread-safe:
 * one thread builds snapshots. NULL on allocation failure.
 */
struct store_loader *store_loader_new(const struct cfg *cfg, const struct log_sink *log);

/*
 * Scans the cache directory and returns a new snapshot in *out (refs = 1, caller unrefs).
 * Every regular non-hidden file is read, DER or PEM, whatever its name; unchanged files are not
 * parsed again. A file that cannot be read, parsed or verified leaves the CRLs it gave before in
 * force; a CRL older than the one in force for its stream (lower crlNumber, or older thisUpdate)
 * is refused; a CRL of equal number but other content is refused; a removed file removes its CRLs.
 * Returns 0, or -errno when the directory itself cannot be read (then *out is NULL and the caller
 * keeps its snapshot).
 */
int store_loader_load(struct store_loader *l, time_t now, struct store **out);

void store_loader_free(struct store_loader *l);

/*
 * Hears of every load that raised or added a mark (the newest CRL accepted for a stream): `marks`
 * is then the whole set, and the call comes before store_loader_load() returns the snapshot that
 * enforces them, so that a caller who keeps them (the plugin's marks file) has them before any
 * handshake sees the new CRL. Called on the loading thread.
 */
typedef void store_marks_fn(void *ctx, const struct mark *marks, size_t n);

/*
 * Before the first load: the marks the loader must respect besides its own (e.g. kept across
 * restarts: a CRL older than one of them, or as old with other content, is refused as a rollback
 * even when nothing is in force for its stream yet), and who hears of raised ones (fn may be
 * NULL). Returns 0 or -ENOMEM.
 */
int store_loader_set_marks(struct store_loader *l, const struct mark *initial, size_t n, store_marks_fn *fn,
			   void *ctx);

/* The work the last load did, for tests and benchmarks: it must grow as n log n with the files. */
struct store_loader_stats {
	size_t names;                   /* visible names listed in cache-dir */
	unsigned long long name_compares; /* file-name comparisons (sorting, lookups of the last scan) */
};

void store_loader_get_stats(const struct store_loader *l, struct store_loader_stats *out);

#endif
