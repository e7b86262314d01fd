/* SPDX-License-Identifier: GPL-2.0-or-later */
/* scan_bench: what stray files in cache-dir cost each reload (the plugin's store_loader_load()). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crlsync/store.h"

/*
 * A cache-dir with one CRL and N stray files (not CRLs: editors' leftovers, a misdirected sync).
 * The first load parses everything (the stray files are refused once); each reload after that
 * (the CRL replaced by a newer one, as the fetcher does) must only list, sort, stat and look up
 * names. Prints per N the median of the reloads, in ms, and the name comparisons of the last one.
 */

static void die(const char *what)
{
	fprintf(stderr, "scan_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static X509 *make_ca(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"scan_bench CA", -1, -1, 0);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	X509_sign(x, key, EVP_sha256());
	X509_NAME_free(n);
	return x;
}

static void write_crl(const char *dir, const char *name, X509 *ca, EVP_PKEY *key, long number)
{
	X509_CRL *c = X509_CRL_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	ASN1_TIME *t = ASN1_TIME_new();
	unsigned char *der = NULL;
	char tmp[4200], path[4200];
	int len, fd;

	X509_CRL_set_version(c, 1);
	X509_CRL_set_issuer_name(c, X509_get_subject_name(ca));
	X509_gmtime_adj(t, -3600);
	X509_CRL_set1_lastUpdate(c, t);
	X509_gmtime_adj(t, 86400);
	X509_CRL_set1_nextUpdate(c, t);
	ASN1_INTEGER_set(num, number);
	X509_CRL_add1_ext_i2d(c, NID_crl_number, num, 0, 0);
	X509_CRL_sign(c, key, EVP_sha256());
	len = i2d_X509_CRL(c, &der);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, der, (size_t)len) != len || close(fd) != 0 || rename(tmp, path) != 0)
		die(path);
	OPENSSL_free(der);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(num);
	X509_CRL_free(c);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char *argv[])
{
	static const long def[] = { 0, 10000, 40000 };
	enum { RELOADS = 5 };
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *ca = make_ca(key);
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	long counts[16];
	size_t n_counts = 0;

	for (int i = 1; i < argc && n_counts < 16; i++)
		counts[n_counts++] = strtol(argv[i], NULL, 10);
	if (n_counts == 0)
		for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++)
			counts[n_counts++] = def[i];
	printf("| stray files | first load (ms) | reload, median of %d (ms) | name comparisons a reload |\n", RELOADS);
	printf("|---:|---:|---:|---:|\n");
	for (size_t k = 0; k < n_counts; k++) {
		char dir[4096], path[4200];
		struct cfg cfg = { 0 };
		struct cfg_source src = { .ca = ca };
		struct store_loader *l;
		struct store_loader_stats st;
		struct store *s = NULL;
		double t0, first, times[RELOADS];

		snprintf(dir, sizeof(dir), "%s/scan_bench.XXXXXX", base);
		if (mkdtemp(dir) == NULL)
			die("mkdtemp");
		snprintf(src.name, sizeof(src.name), "bench");
		cfg.global.cache_dir = dir;
		cfg.sources = &src;
		cfg.n_sources = 1;
		write_crl(dir, "bench.crl", ca, key, 1);
		for (long i = 0; i < counts[k]; i++) {
			int fd;

			snprintf(path, sizeof(path), "%s/stray-%06ld", dir, (i * 7919) % counts[k]);
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
			if (fd < 0)
				die(path);
			close(fd);
		}
		l = store_loader_new(&cfg, NULL);
		t0 = now_ms();
		if (l == NULL || store_loader_load(l, time(NULL), &s) != 0)
			die("store_loader_load");
		first = now_ms() - t0;
		store_unref(s);
		for (int r = 0; r < RELOADS; r++) {
			write_crl(dir, "bench.crl", ca, key, 2 + r); /* what makes the plugin reload */
			t0 = now_ms();
			if (store_loader_load(l, time(NULL), &s) != 0 || s->n_crls != 1)
				die("reload");
			times[r] = now_ms() - t0;
			store_unref(s);
		}
		store_loader_get_stats(l, &st);
		qsort(times, RELOADS, sizeof(times[0]), cmp_double);
		printf("| %ld | %.1f | %.1f | %llu |\n", counts[k], first, times[RELOADS / 2], st.name_compares);
		fflush(stdout);
		store_loader_free(l);
		for (long i = 0; i < counts[k]; i++) {
			snprintf(path, sizeof(path), "%s/stray-%06ld", dir, i);
			unlink(path);
		}
		snprintf(path, sizeof(path), "%s/bench.crl", dir);
		unlink(path);
		rmdir(dir);
	}
	X509_free(ca);
	EVP_PKEY_free(key);
	return 0;
}
