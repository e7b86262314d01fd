/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of `pem = yes' in the core: the PEM encoding of NAME.crl, and the loader skipping NAME.pem (issue 12). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/pem.h>

#include "crlsync/install.h"
#include "crlsync/store.h"
#include "pki.h"

static void nolog(void *ctx, enum log_level level, const char *line)
{
	(void)ctx;
	(void)level;
	print_message("log: %s\n", line);
}

static const struct log_sink sink = { nolog, NULL };

static void install_pem_encode__crl__same_as_openssl(void **state)
{
	struct pki_ca *ca = pki_ca_new("PEM CA", NULL, 0);
	static const unsigned char five[] = { 5 }, three[] = { 3 };
	struct pki_crl_entry e[] = { { .serial = five, .serial_len = 1, .reason = -1 } };
	struct pki_crl_opts o = { .issuer = ca, .entries = e, .n_entries = 1, .number = three, .number_len = 1 };
	X509_CRL *crl = pki_crl_new(&o);
	size_t dlen = 0, plen = 0, olen = 0;
	unsigned char *der = pki_crl_der(crl, &dlen);
	char *ours = NULL, *theirs = pki_crl_pem(crl, &olen);

	(void)state;
	assert_int_equal(install_pem_encode(der, dlen, &ours, &plen), 0);
	assert_int_equal(plen, olen);
	assert_memory_equal(ours, theirs, olen);
	free(ours);
	/* every length modulo 3, and the 64-column lines */
	for (size_t n = 1; n < 100; n++) { /* a CRL is never empty */
		assert_int_equal(install_pem_encode(der, n, &ours, &plen), 0);
		assert_int_equal(strlen(ours), plen); /* NUL-terminated, no NUL inside */
		assert_true(plen > 0);
		for (char *line = ours, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1)
			assert_true(nl - line <= 64);
		free(ours);
	}
	free(theirs);
	free(der);
	X509_CRL_free(crl);
	pki_ca_free(ca);
}

static void store_loader_load__pem_twin__loaded_once(void **state)
{
	struct pki_ca *ca = pki_ca_new("Twin CA", NULL, 0);
	static const unsigned char two[] = { 2 };
	struct pki_crl_opts o = { .issuer = ca, .number = two, .number_len = 1 };
	X509_CRL *crl = pki_crl_new(&o);
	char *dir = pki_tmpdir(), cfgtext[1024], err[512];
	struct cfg *cfg = NULL;
	struct store_loader *l;
	struct store *s = NULL;

	(void)state;
	pki_write_file(pki_path(dir, "ca.crt"), "", 0);
	{
		FILE *f = fopen(pki_path(dir, "ca.crt"), "w");

		PEM_write_X509(f, ca->cert);
		fclose(f);
	}
	pki_crl_write(pki_path(dir, "twin.crl"), crl, false);
	pki_crl_write(pki_path(dir, "twin.pem"), crl, true);
	snprintf(cfgtext, sizeof(cfgtext), "[global]\ncache-dir = %s\n[source twin]\nurl = http://127.0.0.1/x\nca = %s\n", dir,
		 pki_path(dir, "ca.crt"));
	assert_true(cfg_parse_buffer("t.conf", cfgtext, strlen(cfgtext), true, &cfg, err, sizeof(err)));
	l = store_loader_new(cfg, &sink);
	assert_int_equal(store_loader_load(l, time(NULL), &s), 0);
	assert_int_equal(s->n_crls, 1);
	assert_string_equal(s->issuers[0].crls[0]->origin, "twin.crl");
	store_unref(s);
	/* its twin: without twin.crl, twin.pem is an ordinary PEM file and is loaded */
	unlink(pki_path(dir, "twin.crl"));
	assert_int_equal(store_loader_load(l, time(NULL), &s), 0);
	assert_int_equal(s->n_crls, 1);
	assert_string_equal(s->issuers[0].crls[0]->origin, "twin.pem");
	store_unref(s);
	store_loader_free(l);
	cfg_free(cfg);
	X509_CRL_free(crl);
	pki_ca_free(ca);
	pki_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(install_pem_encode__crl__same_as_openssl),
		cmocka_unit_test(store_loader_load__pem_twin__loaded_once),
	};

	return cmocka_run_group_tests_name("pem_twin", tests, NULL, NULL);
}
