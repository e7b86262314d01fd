/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Builds immutable snapshots of the CRLs in force from cache-dir, keeping the good ones when new files are bad. */
#include "crlsync/store.h"
#include "crlsync/cachedir.h"
#include "crlsync/file.h"
#include "crlsync/fmt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What one file of cache-dir gave at the last scan. */
struct file_rec {
	char *name;
	struct stat st;        /* identity of the version we loaded: dev, ino, size, mtime, ctime */
	bool failed;           /* the file could not be used; crls[] are the ones it gave before */
	bool retry;            /* the failure may heal by itself (e.g. thisUpdate ahead of our clock) */
	struct crl **crls;
	size_t n_crls;
};

struct store_loader {
	const struct cfg *cfg;
	const struct log_sink *log;
	X509 **cas;           /* distinct configured cas */
	const char **ca_source;
	size_t n_cas;
	struct file_rec *files;
	size_t n_files;
	struct crl **in_force; /* what the last snapshot held */
	size_t n_in_force;
	/*
	 * The newest CRL ever accepted per stream (mark.h): revocations are never silently undone.
	 * mark_origin[i] names the file it came from, or is NULL for a mark given by the caller.
	 */
	struct mark *marks;
	char **mark_origin;
	size_t n_marks;
	store_marks_fn *marks_fn;
	void *marks_ctx;
	struct store_loader_stats stats;
	unsigned long generation;
	/*
	 * cache-dir stays open: scans are relative to it, so they keep working after OpenVPN's
	 * chroot, and after a privilege drop as long as the directory is searchable.
	 */
	int dirfd;
};

struct store *store_ref(struct store *s)
{
	if (s != NULL)
		atomic_fetch_add(&s->refs, 1);
	return s;
}

void store_unref(struct store *s)
{
	if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	for (size_t i = 0; i < s->n_issuers; i++) {
		for (size_t j = 0; j < s->issuers[i].n_crls; j++)
			crl_unref(s->issuers[i].crls[j]);
		free(s->issuers[i].crls);
	}
	free(s->issuers);
	free(s);
}

size_t store_find_issuers(const struct store *s, X509 *cert, const struct store_issuer **out, size_t max)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (size_t i = 0; i < s->n_issuers && n < max; i++)
		if (X509_check_issued(s->issuers[i].ca, cert) == X509_V_OK)
			out[n++] = &s->issuers[i];
	return n;
}

struct store_loader *store_loader_new(const struct cfg *cfg, const struct log_sink *log)
{
	struct store_loader *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->cfg = cfg;
	l->log = log;
	l->dirfd = -1;
	l->cas = calloc(cfg->n_sources + 1, sizeof(*l->cas));
	l->ca_source = calloc(cfg->n_sources + 1, sizeof(*l->ca_source));
	if (l->cas == NULL || l->ca_source == NULL) {
		store_loader_free(l);
		return NULL;
	}
	for (size_t i = 0; i < cfg->n_sources; i++) {
		X509 *ca = cfg->sources[i].ca;
		bool dup = false;

		if (ca == NULL)
			continue;
		for (size_t j = 0; j < l->n_cas; j++)
			dup = dup || X509_cmp(l->cas[j], ca) == 0;
		if (dup)
			continue;
		l->ca_source[l->n_cas] = cfg->sources[i].name;
		l->cas[l->n_cas++] = ca;
	}
	return l;
}

static void free_crls(struct crl **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		crl_unref(v[i]);
	free(v);
}

static void file_rec_clear(struct file_rec *f)
{
	free(f->name);
	free_crls(f->crls, f->n_crls);
	memset(f, 0, sizeof(*f));
}

void store_loader_free(struct store_loader *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n_files; i++)
		file_rec_clear(&l->files[i]);
	free(l->files);
	free_crls(l->in_force, l->n_in_force);
	for (size_t i = 0; i < l->n_marks; i++)
		free(l->mark_origin[i]);
	free(l->mark_origin);
	free(l->marks);
	free(l->cas);
	free(l->ca_source);
	if (l->dirfd >= 0)
		close(l->dirfd);
	free(l);
}

/* Opens cache-dir, or opens it again when the one we hold was removed (and maybe recreated). */
static int open_dir(struct store_loader *l)
{
	struct stat st;
	int fd;

	/*
	 * Keep the directory we hold while the path still leads to it (or cannot be resolved at all,
	 * as after OpenVPN's chroot); reopen when it was removed, or moved away and replaced.
	 */
	if (l->dirfd >= 0 && fstat(l->dirfd, &st) == 0 && st.st_nlink > 0) {
		struct stat now;

		if (stat(l->cfg->global.cache_dir, &now) != 0 || (now.st_dev == st.st_dev && now.st_ino == st.st_ino))
			return 0;
	}
	/* A removed (or replaced) cache-dir is an error, never an empty one: the snapshot in force stays. */
	fd = cachedir_open(l->cfg->global.cache_dir);
	if (fd < 0)
		return fd;
	if (l->dirfd >= 0)
		close(l->dirfd);
	l->dirfd = fd;
	return 0;
}

static bool same_version(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static int push_crl(struct crl ***v, size_t *n, struct crl *c)
{
	struct crl **nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (nv == NULL)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = crl_ref(c);
	return 0;
}

/*
 * The record of `name` at the last scan. l->files is in strcmp order (built from the sorted
 * listing), so this is a binary search: with thousands of stray files in cache-dir, a scan stays
 * n log n (a linear search here made 40,000 files cost 8.5 s a reload).
 */
static const struct file_rec *find_file(struct store_loader *l, const char *name)
{
	size_t lo = 0, hi = l->n_files;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, l->files[mid].name);

		l->stats.name_compares++;
		if (c == 0)
			return &l->files[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int name_cmp(const void *a, const void *b, void *ctx)
{
	struct store_loader *l = ctx;

	l->stats.name_compares++;
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Loads one file into `rec`. On failure the CRLs the file gave before stay (copied from `prev`);
 * when only some CRLs of a PEM bundle fail, the earlier ones of the failed streams stay.
 * Fresh CRLs are appended to *fresh so the caller logs each once.
 */
static int load_file(struct store_loader *l, const char *path, const char *name, const struct stat *st,
		     const struct file_rec *prev, time_t now, struct file_rec *rec, struct crl ***fresh,
		     size_t *n_fresh)
{
	struct crl_der *ders = NULL;
	struct crl *streamed = NULL;
	unsigned char *buf = NULL;
	size_t len = 0, n = 0;
	char err[512], origin[300], ebuf[128];
	enum crl_error e;
	bool failed = false;
	int r = 0;

	rec->st = *st;
	/* One DER CRL (what the fetcher installs): read a window at a time, never whole (issue 14). */
	if (crl_from_file_at(l->dirfd, name, l->cas, l->n_cas, now, name, 0, &e, &streamed, err, sizeof(err))) {
		n = 1;
		goto crls;
	}
	r = file_read_at(l->dirfd, name, CRL_FILE_MAX, &buf, &len);
	if (r != 0) {
		log_error(l->log, "%s: cannot read: %s (uid %ld)%s", path, fmt_errno(-r, ebuf, sizeof(ebuf)), (long)geteuid(),
			  prev && prev->n_crls ? "; keeping the CRLs it gave before" : "");
		failed = true;
		rec->retry = r == -EACCES || r == -EPERM;
		r = 0;
		goto keep;
	}
	e = crl_split(buf, len, &ders, &n, err, sizeof(err));
	if (e != CRL_OK) {
		log_error(l->log, "%s: refused: %s%s", path, err,
			  prev && prev->n_crls ? "; keeping the CRLs it gave before" : "");
		failed = true;
		goto keep;
	}
crls:
	for (size_t i = 0; i < n; i++) {
		struct crl *c = NULL;

		if (n > 1)
			snprintf(origin, sizeof(origin), "%s#%zu", name, i + 1);
		else
			snprintf(origin, sizeof(origin), "%s", name);
		/* The file buffer is freed unread after this: its pages may go as the index grows. */
		if (ders == NULL) {
			c = streamed; /* e and err from crl_from_file_at() */
			streamed = NULL;
		} else {
			e = crl_from_der(ders[i].der, ders[i].len, l->cas, l->n_cas, now, origin, CRL_LOAD_DISCARD, &c,
					 err, sizeof(err));
		}
		if (e == CRL_E_NOMEM) {
			r = -ENOMEM;
			goto out;
		}
		if (e != CRL_OK) {
			log_error(l->log, "%s/%s: refused: %s; a CRL of that issuer in force stays in force",
				  l->cfg->global.cache_dir, origin, err);
			failed = true;
			rec->retry = rec->retry || e == CRL_E_FUTURE;
			continue;
		}
		r = push_crl(&rec->crls, &rec->n_crls, c);
		if (r == 0)
			r = push_crl(fresh, n_fresh, c);
		crl_unref(c);
		if (r != 0)
			goto out;
	}
keep:
	rec->failed = failed;
	if (failed && prev != NULL) {
		/* Keep what the file gave before for every stream it does not now give. */
		for (size_t i = 0; i < prev->n_crls; i++) {
			struct mark_stream ps, rs;
			bool covered = false;

			mark_stream_of(prev->crls[i], &ps);
			for (size_t j = 0; j < rec->n_crls && !covered; j++) {
				mark_stream_of(rec->crls[j], &rs);
				covered = mark_same_stream(&ps, &rs);
			}
			if (!covered && (r = push_crl(&rec->crls, &rec->n_crls, prev->crls[i])) != 0)
				goto out;
		}
	}
out:
	crl_der_free(ders, n);
	free(buf);
	return r;
}

static bool is_fresh(struct crl *c, struct crl **fresh, size_t n_fresh)
{
	for (size_t i = 0; i < n_fresh; i++)
		if (fresh[i] == c)
			return true;
	return false;
}

/* The mark of `stream`, or -1. */
static ssize_t find_mark(const struct store_loader *l, const struct mark_stream *stream)
{
	for (size_t i = 0; i < l->n_marks; i++)
		if (mark_same_stream(&l->marks[i].stream, stream))
			return (ssize_t)i;
	return -1;
}

/*
 * Adds the mark `m` (from `origin`, NULL when given by the caller) or raises the one of its
 * stream. Returns 1 when the set changed, 0 when not, -ENOMEM.
 */
static int remember(struct store_loader *l, const struct mark *m, const char *origin)
{
	ssize_t i = find_mark(l, &m->stream);
	char *o = NULL;

	if (i >= 0 && mark_compare_age(m, &l->marks[i]) <= 0)
		return 0;
	if (origin != NULL && (o = strdup(origin)) == NULL)
		return -ENOMEM;
	if (i < 0) {
		struct mark *nm = realloc(l->marks, (l->n_marks + 1) * sizeof(*nm));
		char **no;

		if (nm == NULL) {
			free(o);
			return -ENOMEM;
		}
		l->marks = nm;
		no = realloc(l->mark_origin, (l->n_marks + 1) * sizeof(*no));
		if (no == NULL) {
			free(o);
			return -ENOMEM;
		}
		l->mark_origin = no;
		i = (ssize_t)l->n_marks++;
		l->mark_origin[i] = NULL;
	}
	l->marks[i] = *m;
	free(l->mark_origin[i]);
	l->mark_origin[i] = o;
	return 1;
}

int store_loader_set_marks(struct store_loader *l, const struct mark *initial, size_t n, store_marks_fn *fn,
			   void *ctx)
{
	l->marks_fn = fn;
	l->marks_ctx = ctx;
	for (size_t i = 0; i < n; i++)
		if (remember(l, &initial[i], NULL) < 0)
			return -ENOMEM;
	return 0;
}

void store_loader_get_stats(const struct store_loader *l, struct store_loader_stats *out)
{
	*out = l->stats;
}

static void describe(const struct crl *c, char *buf, size_t len)
{
	char tu[40], nu[40];

	fmt_time(c->this_update, tu, sizeof(tu));
	if (c->flags & CRL_HAS_NEXT_UPDATE)
		fmt_time(c->next_update, nu, sizeof(nu));
	else
		snprintf(nu, sizeof(nu), "never (no nextUpdate)");
	snprintf(buf, len, "%sissuer %s, number %s%s%s, %zu entries, thisUpdate %s, nextUpdate %s%s",
		 c->flags & CRL_IS_DELTA ? "delta CRL, " : "", c->issuer_text, c->number_hex,
		 c->flags & CRL_IS_DELTA ? " for base number " : "", c->flags & CRL_IS_DELTA ? c->base_number_hex : "",
		 c->entries, tu, nu, c->flags & CRL_HAS_IDP ? ", scoped by issuingDistributionPoint" : "");
}

/* `c` (whose mark is cm) refused against `ref`, the mark of `ref_origin` (NULL: given by the caller). */
static void log_refused(const struct store_loader *l, const struct crl *c, const struct mark *cm,
			const struct mark *ref, const char *ref_origin, const char *what, const struct crl *kept)
{
	char t_new[40], t_old[40], was[200];

	fmt_time(c->this_update, t_new, sizeof(t_new));
	fmt_time(ref->this_update, t_old, sizeof(t_old));
	if (ref_origin != NULL)
		snprintf(was, sizeof(was), "%s number %s, thisUpdate %s", ref_origin, ref->number_hex, t_old);
	else
		snprintf(was, sizeof(was), "number %s, thisUpdate %s, remembered in the marks file", ref->number_hex, t_old);
	/* A rollback is an error; an older copy beside the newer one is only worth a note. */
	log_msg(l->log, what[0] == 'r' ? LOG_LVL_ERROR : LOG_LVL_NOTE, NULL, 0,
		"%s/%s: refused: %s: CRL of %s number %s (thisUpdate %s) %s the one %s (%s); %s", l->cfg->global.cache_dir,
		c->origin, what, c->issuer_text, c->number_hex, t_new,
		mark_compare_age(cm, ref) < 0 ? "is older than" : "has the same number but other content than",
		what[0] == 'r' ? "accepted before" : "in force", was,
		kept ? "keeping the CRL in force" : "no CRL in force for it");
}

/*
 * Chooses, per stream, the CRL in force: the newest candidate, unless it is a rollback against
 * the stream's mark (mark_is_rollback(): older than the newest ever accepted, or as old but
 * different), in which case the previous one in force stays. Every fresh candidate that is not
 * chosen is logged with the reason. *raised tells whether a mark rose.
 */
static int choose(struct store_loader *l, struct crl **cand, size_t n_cand, struct crl **fresh, size_t n_fresh,
		  struct crl ***out, size_t *n_out, bool *raised)
{
	struct mark *cm = calloc(n_cand ? n_cand : 1, sizeof(*cm)), pm, chm;
	char d[600];
	int r = 0;

	if (cm == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n_cand; i++)
		mark_from_crl(cand[i], &cm[i]);
	for (size_t i = 0; i < n_cand; i++) {
		struct crl *best = cand[i], *prev = NULL, *chosen;
		const struct mark *bm = &cm[i], *ref;
		const char *ref_origin = NULL;
		ssize_t mi;
		bool done = false;

		for (size_t j = 0; j < i && !done; j++)
			done = mark_same_stream(&cm[j].stream, &cm[i].stream); /* stream already decided */
		if (done)
			continue;
		for (size_t j = i + 1; j < n_cand; j++) {
			if (mark_same_stream(&cm[j].stream, &cm[i].stream) && mark_compare_age(&cm[j], bm) > 0) {
				best = cand[j];
				bm = &cm[j];
			}
		}
		for (size_t j = 0; j < l->n_in_force; j++) {
			mark_stream_of(l->in_force[j], &pm.stream);
			if (mark_same_stream(&pm.stream, &cm[i].stream))
				prev = l->in_force[j];
		}
		mi = find_mark(l, &cm[i].stream);
		ref = mi >= 0 ? &l->marks[mi] : NULL;
		if (ref != NULL) {
			pm = *ref; /* a copy: remember() below may move the array */
			ref = &pm;
			ref_origin = l->mark_origin[mi];
		}
		chosen = ref && mark_is_rollback(bm, ref) ? prev : best;
		if (chosen != NULL)
			mark_from_crl(chosen, &chm);
		for (size_t j = i; j < n_cand; j++) {
			struct crl *c = cand[j];

			if (c == chosen || !mark_same_stream(&cm[j].stream, &cm[i].stream) || !is_fresh(c, fresh, n_fresh))
				continue;
			if (ref && mark_is_rollback(&cm[j], ref))
				log_refused(l, c, &cm[j], ref, ref_origin, "rollback", chosen);
			else if (chosen && mark_is_rollback(&cm[j], &chm))
				log_refused(l, c, &cm[j], &chm, chosen->origin, "superseded", chosen);
		}
		if (chosen == NULL)
			continue;
		if (chosen != prev && is_fresh(chosen, fresh, n_fresh)) {
			describe(chosen, d, sizeof(d));
			log_note(l->log, "loaded %s: %s", chosen->origin, d);
		}
		r = remember(l, &chm, chosen->origin);
		if (r < 0)
			goto out;
		*raised = *raised || r > 0;
		if ((r = push_crl(out, n_out, chosen)) != 0)
			goto out;
	}
out:
	free(cm);
	return r < 0 ? r : 0;
}

/*
 * Says what became of the CRLs of files that disappeared since the last scan. Both tables are in
 * name order: one merge walk, not a search per file.
 */
static void log_removed(struct store_loader *l, const struct file_rec *recs, size_t n_recs,
			struct crl *const *chosen, size_t n_chosen)
{
	size_t j = 0;

	for (size_t i = 0; i < l->n_files; i++) {
		const struct file_rec *f = &l->files[i];
		int c = 1;

		while (j < n_recs && (l->stats.name_compares++, c = strcmp(recs[j].name, f->name)) < 0)
			j++;
		if (j < n_recs && c == 0)
			continue; /* still there */
		for (size_t k = 0; k < f->n_crls; k++) {
			bool kept = false;

			for (size_t m = 0; m < n_chosen && !kept; m++)
				kept = chosen[m] == f->crls[k];
			if (kept)
				log_warn(l->log,
					 "%s/%s removed, but its CRL of %s number %s stays in force: the CRLs left for "
					 "that issuer are older (rollback refused)",
					 l->cfg->global.cache_dir, f->crls[k]->origin, f->crls[k]->issuer_text, f->crls[k]->number_hex);
			else
				log_note(l->log, "%s/%s removed: its CRL of %s number %s is no longer in force",
					 l->cfg->global.cache_dir, f->crls[k]->origin, f->crls[k]->issuer_text,
					 f->crls[k]->number_hex);
		}
	}
}

static int build_snapshot(struct store_loader *l, struct crl **crls, size_t n, struct store **out)
{
	struct store *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL)
		return -ENOMEM;
	atomic_init(&s->refs, 1);
	s->generation = ++l->generation;
	s->issuers = calloc(l->n_cas ? l->n_cas : 1, sizeof(*s->issuers));
	if (s->issuers == NULL) {
		free(s);
		return -ENOMEM;
	}
	s->n_issuers = l->n_cas;
	for (size_t i = 0; i < l->n_cas; i++) {
		s->issuers[i].ca = l->cas[i];
		s->issuers[i].source = l->ca_source[i];
	}
	for (size_t k = 0; k < n; k++) {
		for (size_t i = 0; i < l->n_cas; i++) {
			if (X509_cmp(l->cas[i], crls[k]->ca) != 0)
				continue;
			if (push_crl(&s->issuers[i].crls, &s->issuers[i].n_crls, crls[k]) != 0) {
				store_unref(s);
				return -ENOMEM;
			}
			s->n_crls++;
			s->n_entries += crls[k]->entries;
			break;
		}
	}
	*out = s;
	return 0;
}

int store_loader_load(struct store_loader *l, time_t now, struct store **out)
{
	struct file_rec *recs = NULL;
	struct crl **fresh = NULL, **cand = NULL, **chosen = NULL;
	size_t n_recs = 0, n_fresh = 0, n_cand = 0, n_chosen = 0, n_names = 0, cap_names = 0;
	char **names = NULL, *path = NULL, ebuf[128];
	struct dirent *de;
	DIR *dir = NULL;
	bool raised = false;
	int r = 0;

	*out = NULL;
	memset(&l->stats, 0, sizeof(l->stats));
	r = open_dir(l);
	if (r == 0) {
		/* fdopendir() takes the descriptor over: hand it a duplicate, rewound. */
		int fd = dup(l->dirfd);

		if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0 || (dir = fdopendir(fd)) == NULL) {
			r = -errno;
			if (fd >= 0)
				close(fd);
		}
	}
	if (r != 0) {
		log_error(l->log, "cannot read cache-dir %s: %s (uid %ld); keeping the CRLs in force",
			  l->cfg->global.cache_dir, fmt_errno(-r, ebuf, sizeof(ebuf)), (long)geteuid());
		return r;
	}
	while ((errno = 0, de = readdir(dir)) != NULL) {
		if (!cachedir_visible(de->d_name))
			continue; /* hidden: the fetcher's temporary files, editors' swap files */
		if (cachedir_is_pem_twin(l->dirfd, de->d_name))
			continue; /* `pem = yes': NAME.crl's PEM copy for other consumers, the same CRL */
		if (n_names == cap_names) {
			size_t nc = cap_names ? cap_names * 2 : 16;
			char **nn = realloc(names, nc * sizeof(*nn));

			if (nn == NULL) {
				r = -ENOMEM;
				goto out;
			}
			names = nn;
			cap_names = nc;
		}
		if ((names[n_names] = strdup(de->d_name)) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		n_names++;
	}
	if (errno != 0) {
		r = -errno;
		log_error(l->log, "cannot list cache-dir %s: %s; keeping the CRLs in force", l->cfg->global.cache_dir,
			  fmt_errno(-r, ebuf, sizeof(ebuf)));
		goto out;
	}
	l->stats.names = n_names;
	if (n_names > 1)
		qsort_r(names, n_names, sizeof(*names), name_cmp, l);
	recs = calloc(n_names ? n_names : 1, sizeof(*recs));
	if (recs == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_names; i++) {
		const struct file_rec *prev = find_file(l, names[i]);
		struct file_rec *rec = &recs[n_recs];
		struct stat st;

		/* No per-file allocation or formatting here: the path is built only for a message or a load. */
		/*
		 * Never through a link: cache-dir is the fetcher's user's, and following a link would make
		 * this thread (root before OpenVPN's drop) look up any path it names (an automount, a hung
		 * NFS mount, or "does this root-only file exist" in the log). A link is not a regular file.
		 */
		if (fstatat(l->dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue; /* gone since readdir: a rename in progress */
			log_error(l->log, "%s/%s: cannot stat: %s%s", l->cfg->global.cache_dir, names[i], fmt_errno(errno, ebuf, sizeof(ebuf)),
				  prev && prev->n_crls ? "; keeping the CRLs it gave before" : "");
			memset(&st, 0, sizeof(st));
			st.st_mode = S_IFREG;
		}
		if (!S_ISREG(st.st_mode) && (prev == NULL || prev->n_crls == 0)) {
			debug_f(l->log, "%s/%s: not a regular file, skipped", l->cfg->global.cache_dir, names[i]);
			continue;
		}
		rec->name = names[i];
		names[i] = NULL; /* transferred */
		n_recs++;
		if (!S_ISREG(st.st_mode)) {
			/* A CRL file replaced by a directory, FIFO or device: unusable, like a garbage file. */
			log_error(l->log, "%s/%s: refused: not a regular file any more; keeping the CRLs it gave before",
				  l->cfg->global.cache_dir, rec->name);
			rec->st = st;
			rec->failed = true;
			for (size_t j = 0; j < prev->n_crls; j++)
				if ((r = push_crl(&rec->crls, &rec->n_crls, prev->crls[j])) != 0)
					goto out;
			continue;
		}
		if (prev != NULL && !prev->retry && same_version(&prev->st, &st)) {
			/* Unchanged since the last scan: reuse, without parsing or logging again. */
			rec->st = prev->st;
			rec->failed = prev->failed;
			for (size_t j = 0; j < prev->n_crls; j++)
				if ((r = push_crl(&rec->crls, &rec->n_crls, prev->crls[j])) != 0)
					goto out;
			continue;
		}
		free(path);
		if (asprintf(&path, "%s/%s", l->cfg->global.cache_dir, rec->name) < 0) {
			path = NULL;
			r = -ENOMEM;
			goto out;
		}
		r = load_file(l, path, rec->name, &st, prev, now, rec, &fresh, &n_fresh);
		if (r != 0)
			goto out;
	}
	for (size_t i = 0; i < n_recs; i++)
		for (size_t j = 0; j < recs[i].n_crls; j++)
			if ((r = push_crl(&cand, &n_cand, recs[i].crls[j])) != 0)
				goto out;
	r = choose(l, cand, n_cand, fresh, n_fresh, &chosen, &n_chosen, &raised);
	if (r != 0)
		goto out;
	/* Before the snapshot exists: whoever keeps the marks has them before a handshake sees it. */
	if (raised && l->marks_fn != NULL)
		l->marks_fn(l->marks_ctx, l->marks, l->n_marks);
	log_removed(l, recs, n_recs, chosen, n_chosen);
	r = build_snapshot(l, chosen, n_chosen, out);
	if (r != 0)
		goto out;
	/* Commit: the new file table and the set in force replace the old ones. */
	for (size_t i = 0; i < l->n_files; i++)
		file_rec_clear(&l->files[i]);
	free(l->files);
	l->files = recs;
	l->n_files = n_recs;
	recs = NULL;
	n_recs = 0;
	free_crls(l->in_force, l->n_in_force);
	l->in_force = chosen;
	l->n_in_force = n_chosen;
	chosen = NULL;
	n_chosen = 0;
out:
	if (r == -ENOMEM)
		log_error(l->log, "reload of %s: out of memory; keeping the CRLs in force", l->cfg->global.cache_dir);
	if (dir != NULL)
		closedir(dir);
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	free(path);
	for (size_t i = 0; i < n_recs; i++)
		file_rec_clear(&recs[i]);
	free(recs);
	free_crls(fresh, n_fresh);
	free_crls(cand, n_cand);
	free_crls(chosen, n_chosen);
	return r;
}
