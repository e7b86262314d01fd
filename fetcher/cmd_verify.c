/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crlsync verify: any CRL file against a CA certificate, by the same rules as the plugin, and what it holds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "crlsync/crl.h"
#include "crlsync/file.h"
#include "crlsync/fmt.h"
#include "fetcher.h"

/*
 * What verify prints echoes untrusted text: file names given on the command line, the issuer, the
 * loader's messages. Each passes the one sanitiser (text.h) on its way to stdout.
 */
struct clean {
	char file[512], subject[512], why[600];
};

#define CLEAN FETCHER_CLEAN

int verify_main(struct fetcher *f, int argc, char *argv[])
{
	const char *file = NULL, *cafile = NULL;
	struct crl_der *ders = NULL;
	unsigned char *buf = NULL;
	X509 *ca = NULL;
	FILE *caf = NULL;
	size_t len = 0, n = 0;
	char err[512];
	time_t now = time(NULL);
	int rc = EXIT_OK, r;
	struct clean tx;
	char ca_clean[512];

	if (argc == 2) /* CRLFILE; --ca parsed by cli.c, into f->opts */
		file = argv[1], cafile = f->opts.ca;
	if (file == NULL || cafile == NULL) {
		fprintf(stderr, "usage: crlsync verify CRLFILE --ca CAFILE\n");
		return EXIT_USAGE;
	}
	CLEAN(ca_clean, cafile);
	CLEAN(tx.file, file);
	caf = fopen(cafile, "re");
	if (caf == NULL || (ca = PEM_read_X509(caf, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "crlsync: %s: %s\n", ca_clean, caf ? "no PEM certificate in it" : strerror(errno));
		rc = EXIT_USAGE;
		goto out;
	}
	r = file_read(file, CRL_FILE_MAX, &buf, &len);
	if (r != 0) {
		fprintf(stderr, "crlsync: %s: %s\n", tx.file, strerror(-r));
		rc = EXIT_USAGE;
		goto out;
	}
	if (crl_split(buf, len, &ders, &n, err, sizeof(err)) != CRL_OK) {
		printf("%s: unusable: %s\n", tx.file, CLEAN(tx.why, err));
		rc = EXIT_FAIL;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct crl *c = NULL;
		char origin[560], tu[40], nu[40], scope[160];
		enum crl_error e;

		if (n > 1)
			snprintf(origin, sizeof(origin), "%s#%zu", tx.file, i + 1);
		else
			snprintf(origin, sizeof(origin), "%s", tx.file);
		e = crl_from_der(ders[i].der, ders[i].len, &ca, 1, now, origin, 0, &c, err, sizeof(err));
		if (e != CRL_OK) {
			printf("%s: unusable (%s): %s\n", origin, crl_error_str(e), CLEAN(tx.why, err));
			rc = EXIT_FAIL;
			continue;
		}
		fmt_time(c->this_update, tu, sizeof(tu));
		if (c->flags & CRL_HAS_NEXT_UPDATE)
			fmt_time(c->next_update, nu, sizeof(nu));
		else
			snprintf(nu, sizeof(nu), "none");
		printf("%s: usable%s\n", origin,
		       (c->flags & CRL_HAS_NEXT_UPDATE) && now > c->next_update ? ", but EXPIRED" : "");
		printf("  issuer:      %s\n", CLEAN(tx.subject, c->issuer_text));
		printf("  number:      %s\n", c->number_hex);
		printf("  thisUpdate:  %s\n", tu);
		printf("  nextUpdate:  %s\n", nu);
		printf("  entries:     %zu\n", c->entries);
		printf("  signature:   %s, verified against %s\n", OBJ_nid2ln(c->sig_nid), ca_clean);
		fmt_scope(c->flags, scope, sizeof(scope));
		printf("  scope:       %s\n", scope);
		/* A delta and its base shown apart (RFC 5280 §5.2.4, §5.2.6; crlsync(8) DELTA CRLS). */
		if (c->flags & CRL_IS_DELTA)
			printf("  delta CRL:   for base number %s or newer (deltaCRLIndicator)\n", c->base_number_hex);
		for (size_t k = 0; k < c->n_freshest_urls; k++)
			printf("  freshestCRL: %s\n", CLEAN(tx.why, c->freshest_urls[k]));
		printf("  decoded by:  %s\n", c->fast ? "the streaming DER pass"
						       : "OpenSSL's decoder (not in canonical DER: slower for a large CRL)");
		crl_unref(c);
	}
out:
	if (caf != NULL)
		fclose(caf);
	X509_free(ca);
	crl_der_free(ders, n);
	free(buf);
	return rc;
}
