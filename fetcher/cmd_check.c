/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crlsync check: certificates (PEM or DER files) against the installed CRLs, with the verdict of each. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "crlsync/check.h"
#include "crlsync/crl.h"
#include "crlsync/file.h"
#include "crlsync/fmt.h"
#include "crlsync/store.h"
#include "fetcher.h"

/* check in the words of the one exit-code table (cli.h). */
enum { CHECK_EXIT_GOOD = EXIT_OK, CHECK_EXIT_REVOKED = EXIT_FAIL, CHECK_EXIT_UNDECIDED = EXIT_UNDECIDED, CHECK_EXIT_USAGE = EXIT_USAGE };

/*
 * What these commands print echoes untrusted text: cache-dir file names (a CRL's origin),
 * subjects and issuers, loader messages, file names given on the command line. Each passes the
 * one sanitiser (text.h) on its way to stdout: no input can forge a line of the output.
 */
struct clean {
	char file[512], subject[512], why[600];
};

#define CLEAN FETCHER_CLEAN

/*
 * Loading the cache for a one-shot command: only problems are worth printing, and with -v the
 * notes too: which CRL each file gave, and which file the loader ignored and why (a CRL of the
 * same number as another with other content, an older one), since a verdict rests on that
 * choice (ctx: the fetcher).
 */
static void quiet_sink(void *ctx, enum log_level level, const char *line)
{
	const struct fetcher *f = ctx;

	if (level <= LOG_LVL_WARN || (f->opts.verbose > 0 && level <= LOG_LVL_NOTE))
		f->log.fn(f->log.ctx, level, line);
}

/*
 * Reads every certificate of a PEM or DER file. Returns 0, -errno, -EINVAL (no certificate), or
 * -EBADMSG when a PEM block does not decode (*bad = its position, 1-based): a file is checked
 * whole or not at all, never silently up to its first bad block.
 */
static int read_certs(const char *path, STACK_OF(X509) **out, int *bad)
{
	unsigned char *buf = NULL;
	STACK_OF(X509) *sk = sk_X509_new_null();
	size_t len = 0;
	int r;

	*out = NULL;
	if (sk == NULL)
		return -ENOMEM;
	r = file_read(path, 1 << 20, &buf, &len);
	if (r != 0)
		goto out;
	if (len > 0 && buf[0] == 0x30) {
		const unsigned char *p = buf;
		X509 *x = d2i_X509(NULL, &p, (long)len);

		if (x == NULL || !sk_X509_push(sk, x)) {
			X509_free(x);
			r = -EINVAL;
			goto out;
		}
	} else {
		BIO *b = BIO_new_mem_buf(buf, (int)len);
		X509 *x;

		unsigned long e;

		if (b == NULL) {
			r = -ENOMEM;
			goto out;
		}
		ERR_clear_error();
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
			if (!sk_X509_push(sk, x)) {
				X509_free(x);
				BIO_free(b);
				r = -ENOMEM;
				goto out;
			}
		}
		BIO_free(b);
		/* The loop ends with "no start line" once no block is left; anything else is a bad block. */
		e = ERR_peek_last_error();
		ERR_clear_error();
		if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
			*bad = sk_X509_num(sk) + 1;
			r = -EBADMSG;
			goto out;
		}
		if (sk_X509_num(sk) == 0) {
			r = -EINVAL;
			goto out;
		}
	}
	*out = sk;
	sk = NULL; /* transferred */
out:
	sk_X509_pop_free(sk, X509_free);
	free(buf);
	return r;
}

int check_main(struct fetcher *f, int argc, char *argv[])
{
	const struct log_sink quiet = { quiet_sink, f };
	struct store_loader *l = NULL;
	struct store *snap = NULL;
	struct fetcher_run run;
	time_t now = time(NULL);
	int rc = CHECK_EXIT_GOOD, worst_undecided = 0, revoked = 0, usage = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: crlsync [-c FILE] check CERT...\n");
		return CHECK_EXIT_USAGE;
	}
	rc = fetcher_begin(f, FETCHER_CONFIG, &run);
	if (rc != EXIT_OK)
		goto out; /* EXIT_CONFIG */
	l = store_loader_new(run.cfg, &quiet);
	if (l == NULL || store_loader_load(l, now, &snap) != 0) {
		fprintf(stderr, "crlsync: cannot load the CRLs of %s\n", run.cfg->global.cache_dir);
		rc = CHECK_EXIT_UNDECIDED;
		goto out;
	}
	for (int i = 1; i < argc; i++) {
		STACK_OF(X509) *certs = NULL;
		int bad = 0, r = read_certs(argv[i], &certs, &bad);
		struct clean tx;

		CLEAN(tx.file, argv[i]);
		if (r == -EBADMSG) {
			fprintf(stderr, "crlsync: file %s: certificate #%d does not decode; none of it checked\n", tx.file,
				bad);
			usage++;
			continue;
		}
		if (r != 0) {
			fprintf(stderr, "crlsync: %s: %s\n", tx.file,
				r == -EINVAL ? "no PEM or DER certificate in it" : strerror(-r));
			usage++;
			continue;
		}
		for (int k = 0; k < sk_X509_num(certs); k++) {
			X509 *x = sk_X509_value(certs, k);
			struct check_result res;
			char serial[2 * CRL_SERIAL_MAX + 4], why[600];
			char *subject = fmt_name(X509_get_subject_name(x));

			fmt_serial(X509_get0_serialNumber(x), serial, sizeof(serial));
			check_cert(snap, x, now, &res);
			CLEAN(tx.subject, subject ? subject : "?");
			/* The words are the library's (check_describe(), as the plugin logs them); the verdict is check's. */
			check_describe(&res, why, sizeof(why));
			printf("%s: %s serial %s: %s: %s\n", tx.file, tx.subject, serial,
			       res.status == CHECK_GOOD ? "good" : res.status == CHECK_REVOKED ? "REVOKED" : "cannot decide",
			       CLEAN(tx.why, why));
			if (res.status == CHECK_REVOKED)
				revoked++;
			else if (res.status != CHECK_GOOD)
				worst_undecided++;
			free(subject);
		}
		sk_X509_pop_free(certs, X509_free);
	}
	rc = usage ? CHECK_EXIT_USAGE : revoked ? CHECK_EXIT_REVOKED : worst_undecided ? CHECK_EXIT_UNDECIDED : CHECK_EXIT_GOOD;
out:
	store_unref(snap);
	store_loader_free(l);
	fetcher_end(&run);
	return rc;
}
