/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plugin's rollback marks (see marks.h): the marks file through a process-lifetime fd, or memory. */
#include "marks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "persist.h"
#include "crlsync/fmt.h"

/* persist.c keys: the fd of the marks file and the path it was opened for; the set in memory. */
#define KEY_FD "marks.fd"
#define KEY_PATH "marks.path"
#define KEY_MEM "marks.mem"       /* "PATH\0BLOCK": a block of mark_set_encode() for that path */
#define KEY_WARNED "marks.warned" /* the memory-only warning was logged once */

struct plugin_marks {
	const struct log_sink *log;
	char *path;
	int fd;                  /* this instance's dup() of the fd persist.c keeps; -1: memory only */
	struct mark *initial;
	size_t n_initial;
};

/* The fd kept for `path` by an earlier open in this process, or -1. */
static int kept_fd(const char *path)
{
	char *kp = NULL;
	size_t len = 0;
	int fd = persist_fd_get(KEY_FD);

	if (fd < 0 || persist_get(KEY_PATH, &kp, &len) != 0)
		return -1;
	if (strcmp(kp, path) != 0)
		fd = -1;
	persist_wipe_free(kp, len);
	return fd;
}

/* Merges the set kept in memory for this path (a SIGHUP's predecessor, memory mode or a failed write). */
static int merge_memory(struct plugin_marks *pm)
{
	unsigned long long seq;
	char *blob = NULL;
	size_t len = 0, plen = strlen(pm->path), bad = 0;
	int r = 0;

	if (persist_get(KEY_MEM, &blob, &len) != 0)
		return 0;
	if (len > plen && memcmp(blob, pm->path, plen) == 0 && blob[plen] == '\0')
		r = mark_set_decode(blob + plen + 1, len - plen - 1, &pm->initial, &pm->n_initial, &seq, &bad);
	persist_wipe_free(blob, len);
	return r < 0 ? r : 0;
}

static void keep_in_memory(const struct plugin_marks *pm, const struct mark *marks, size_t n)
{
	size_t plen = strlen(pm->path), len = 0;
	char *block = NULL, *blob;

	if (mark_set_encode(marks, n, 0, &block, &len) != 0)
		return;
	blob = malloc(plen + 1 + len);
	if (blob != NULL) {
		memcpy(blob, pm->path, plen + 1);
		memcpy(blob + plen + 1, block, len);
		if (persist_put(KEY_MEM, blob, plen + 1 + len, false) != 0)
			log_error(pm->log, "cannot keep the rollback marks in memory; a SIGHUP may forget the newest");
		free(blob);
	}
	free(block);
}

int plugin_marks_open(const struct cfg *cfg, const struct log_sink *log, struct plugin_marks **out)
{
	struct plugin_marks *pm = calloc(1, sizeof(*pm));
	bool explicit = cfg->plugin.marks_file != NULL;
	char err[768], ebuf[128];
	int fd, r;

	*out = NULL;
	if (pm == NULL || (pm->path = strdup(explicit ? cfg->plugin.marks_file : CFG_DEFAULT_MARKS_FILE)) == NULL) {
		free(pm);
		return -ENOMEM;
	}
	pm->log = log;
	pm->fd = -1;
	fd = kept_fd(pm->path);
	if (fd < 0) {
		fd = mark_file_open(pm->path, true, err, sizeof(err));
		if (fd >= 0) {
			r = persist_fd_put(KEY_FD, fd); /* closes fd on failure */
			if (r == 0)
				r = persist_put(KEY_PATH, pm->path, strlen(pm->path), false);
			if (r != 0) {
				snprintf(err, sizeof(err), "marks file %s: cannot keep it open for SIGHUP: %s", pm->path,
					 fmt_errno(-r, ebuf, sizeof(ebuf)));
				fd = r;
			}
		}
	}
	if (fd >= 0) {
		r = mark_file_read(fd, pm->path, log, &pm->initial, &pm->n_initial);
		if (r != 0) {
			snprintf(err, sizeof(err), "marks file %s: cannot read: %s", pm->path, fmt_errno(-r, ebuf, sizeof(ebuf)));
			fd = r;
		}
	}
	if (fd < 0 && explicit) {
		log_error(log, "%s; refusing to start (the rollback marks must persist: fix it, or point `marks-file' "
			       "at a file root can create)", err);
		plugin_marks_free(pm);
		return fd;
	}
	if (fd < 0) {
		char *w = NULL;
		size_t wl = 0;

		if (persist_get(KEY_WARNED, &w, &wl) != 0) {
			log_warn(log, "%s; the rollback marks (the newest CRL enforced per issuer and scope) are kept in "
				      "memory only: they survive SIGHUP, not a restart of OpenVPN (start OpenVPN as root, or "
				      "set `marks-file' in [plugin])", err);
			persist_put(KEY_WARNED, "1", 1, false);
		}
		persist_wipe_free(w, wl);
	}
	/*
	 * A duplicate of our own: persist.c closes its fd when another open names another path, and
	 * an instance still open must never write through a number the kernel gave to another file.
	 */
	pm->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
	if (fd >= 0 && pm->fd < 0) {
		r = -errno;
		log_error(log, "marks file %s: %s", pm->path, fmt_errno(-r, ebuf, sizeof(ebuf)));
		plugin_marks_free(pm);
		return r;
	}
	r = merge_memory(pm);
	if (r != 0) {
		plugin_marks_free(pm);
		return r;
	}
	*out = pm;
	return 0;
}

const struct mark *plugin_marks_initial(const struct plugin_marks *pm, size_t *n)
{
	*n = pm->n_initial;
	return pm->initial;
}

void plugin_marks_save(void *ctx, const struct mark *marks, size_t n)
{
	struct plugin_marks *pm = ctx;
	char ebuf[128];
	int r;

	/* Memory first: a SIGHUP keeps the raised marks even if the file cannot take them. */
	keep_in_memory(pm, marks, n);
	if (pm->fd < 0)
		return;
	r = mark_file_write(pm->fd, marks, n);
	if (r != 0)
		log_error(pm->log, "marks file %s: cannot write the raised rollback marks: %s; they hold until OpenVPN "
				   "restarts", pm->path, fmt_errno(-r, ebuf, sizeof(ebuf)));
}

void plugin_marks_free(struct plugin_marks *pm)
{
	if (pm == NULL)
		return;
	if (pm->fd >= 0)
		close(pm->fd);
	free(pm->initial);
	free(pm->path);
	free(pm);
}
