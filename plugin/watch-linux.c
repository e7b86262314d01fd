/* SPDX-License-Identifier: GPL-2.0-or-later */
/* inotify(7) implementation of the cache-dir watch: one thread, woken by events or by a stop eventfd. */
#include "watch.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "crlsync/cachedir.h"
#include "crlsync/fmt.h"
#include "crlsync/io.h"

#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB | \
		    IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct watch {
	char *dir;
	int ifd, wd, stopfd;
	watch_fn *fn;
	void *ctx;
	const struct log_sink *log;
	pthread_t thread;
};

/* Reads pending events; true when one concerns a visible file or the directory itself. */
static bool drain(struct watch *w)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool relevant = false;

	for (;;) {
		ssize_t n = read(w->ifd, buf, sizeof(buf));

		if (n <= 0)
			return relevant;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->mask & IN_Q_OVERFLOW)
				relevant = true;
			else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
				log_error(w->log, "cache-dir %s was removed or moved; still serving the CRLs in force",
					  w->dir);
				w->wd = -1;
				relevant = true;
			} else if (ev->len == 0 || cachedir_visible(ev->name)) {
				/* Hidden names are temporary files: their rename into place is the event that counts. */
				relevant = true;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
}

static void *watch_main(void *arg)
{
	struct watch *w = arg;
	sigset_t all;

	/* OpenVPN's signals belong to its main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		struct pollfd pf[2] = { { .fd = w->stopfd, .events = POLLIN }, { .fd = w->ifd, .events = POLLIN } };
		int r = poll(pf, 2, WATCH_RESCAN_S * 1000);

		if (r < 0 && errno == EINTR)
			continue;
		if (pf[0].revents)
			break;
		if (w->wd < 0) {
			/* The directory went away: try to watch it again, then rescan (which logs what it finds). */
			w->wd = inotify_add_watch(w->ifd, w->dir, WATCH_MASK);
		}
		if (r > 0 && (pf[1].revents & POLLIN)) {
			long long start = io_now_ms();
			bool relevant = drain(w), stop = false;

			/* Let a burst settle (several files renamed in), but never delay a reload much. */
			while (io_now_ms() - start < WATCH_MAX_DELAY_MS) {
				struct pollfd q[2] = { pf[0], pf[1] };

				if (poll(q, 2, WATCH_SETTLE_MS) <= 0)
					break;
				if (q[0].revents) {
					stop = true; /* closing: a load now would only delay OpenVPN's shutdown */
					break;
				}
				relevant = drain(w) || relevant;
			}
			if (stop)
				break;
			if (!relevant)
				continue;
		}
		w->fn(w->ctx, r == 0);
	}
	return NULL;
}

int watch_start(const char *dir, watch_fn *fn, void *ctx, const struct log_sink *log, struct watch **out)
{
	struct watch *w;
	int r;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->ifd = w->stopfd = w->wd = -1;
	w->fn = fn;
	w->ctx = ctx;
	w->log = log;
	w->dir = strdup(dir);
	if (w->dir == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	w->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->ifd < 0 || w->stopfd < 0) {
		r = -errno;
		goto fail;
	}
	w->wd = inotify_add_watch(w->ifd, dir, WATCH_MASK);
	if (w->wd < 0) {
		r = -errno;
		goto fail;
	}
	r = -pthread_create(&w->thread, NULL, watch_main, w);
	if (r != 0)
		goto fail;
	*out = w;
	return 0;
fail:
	if (w->ifd >= 0)
		close(w->ifd);
	if (w->stopfd >= 0)
		close(w->stopfd);
	free(w->dir);
	free(w);
	return r;
}

void watch_stop(struct watch *w)
{
	uint64_t one = 1;

	if (w == NULL)
		return;
	if (write(w->stopfd, &one, sizeof(one)) != sizeof(one))
		log_error(w->log, "cannot stop the watch thread: %s", FMT_ERRNO(errno));
	pthread_join(w->thread, NULL);
	close(w->ifd);
	close(w->stopfd);
	free(w->dir);
	free(w);
}
