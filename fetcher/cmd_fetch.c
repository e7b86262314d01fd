/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crlsync fetch: one pass over every source, then exit 0 when each is fresh (the job engine is refresh.c). */
#include <errno.h>
#include <stdlib.h>

#include "fetcher.h"
#include "refresh.h"

int fetch_main(struct fetcher *f, int argc, char *argv[])
{
	struct refresh_result *res = NULL;
	struct fetcher_run run;
	int r, rc;

	if (argc != 1) {
		fprintf(stderr, "usage: crlsync [-c FILE] fetch\n");
		return EXIT_USAGE;
	}
	(void)argv;
	rc = fetcher_begin(f, FETCHER_CONFIG, &run);
	if (rc != EXIT_OK)
		goto out; /* EXIT_CONFIG */
	if (run.cfg->n_sources == 0)
		log_warn(&f->log, "%s has no [source NAME] section: nothing to fetch", run.cfg->path);
	run.dirfd = fetcher_open_cache_dir(f, run.cfg); /* after the warning: FETCHER_WRITE, in two steps */
	if (run.dirfd < 0) {
		rc = EXIT_NOT_REFRESHED;
		goto out;
	}
	res = calloc(run.cfg->n_sources ? run.cfg->n_sources : 1, sizeof(*res));
	r = res ? refresh_sources(&f->log, run.cfg, run.dirfd, NULL, -1, res) : -ENOMEM;
	rc = r == 0 ? EXIT_FRESH : EXIT_NOT_REFRESHED;
	for (size_t i = 0; r == 0 && i < run.cfg->n_sources; i++)
		if (!res[i].ok)
			rc = EXIT_NOT_REFRESHED;
out:
	free(res);
	fetcher_end(&run);
	return rc;
}
