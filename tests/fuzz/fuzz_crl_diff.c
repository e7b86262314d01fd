/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Differential libFuzzer target: the fast DER CRL loader must agree with the OpenSSL reference loader. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crl_diff.h"
#include "crlsync/crl.h"

/*
 * The first input octet picks what the rest is:
 *   0: a whole CRL as it comes (mostly refused for its signature by both: the parsers' edges);
 *   1: the content of revokedCertificates, put into a template CRL and signed by our CA, so
 *      every entry rule of both loaders is reached with a valid signature;
 *   2: a whole tbsCertList, signed by our CA: CRL-level fields, lengths, the skeleton.
 * Any disagreement on usable/unusable or on a (serial, date, reason) aborts.
 */

static EVP_PKEY *key;
static X509 *ca;
static unsigned char *tmpl_tbs, *tmpl_alg;
static size_t tmpl_tbs_len, tmpl_alg_len;
static time_t now = 1800000000;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void need(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_crl_diff: setup: %s failed\n", what);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	X509_NAME *n = X509_NAME_new();
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	X509_CRL *x = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	unsigned char *der = NULL;
	const unsigned char *tbs, *alg;
	int len;

	(void)argc;
	(void)argv;
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ca = X509_new();
	need(key && ca && n && x && t && num, "allocation");
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"fuzz diff ca", -1, -1, 0);
	X509_set_version(ca, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(ca), 1);
	X509_set_subject_name(ca, n);
	X509_set_issuer_name(ca, n);
	X509_time_adj_ex(X509_getm_notBefore(ca), -3650, 0, &now);
	X509_time_adj_ex(X509_getm_notAfter(ca), 3650, 0, &now);
	X509_set_pubkey(ca, key);
	X509V3_set_ctx(&v3, ca, ca, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
	X509_add_ext(ca, ext, -1);
	X509_EXTENSION_free(ext);
	need(X509_sign(ca, key, EVP_sha256()) > 0, "CA");
	X509_CRL_set_version(x, X509_CRL_VERSION_2);
	X509_CRL_set_issuer_name(x, n);
	X509_time_adj_ex(t, -1, 0, &now);
	X509_CRL_set1_lastUpdate(x, t);
	X509_time_adj_ex(t, 7, 0, &now);
	X509_CRL_set1_nextUpdate(x, t);
	ASN1_INTEGER_set(num, 5);
	X509_CRL_add1_ext_i2d(x, NID_crl_number, num, 0, X509V3_ADD_DEFAULT);
	need(X509_CRL_sign(x, key, EVP_sha256()) > 0, "template CRL");
	len = i2d_X509_CRL(x, &der);
	need(len > 0 && crl_diff_split(der, (size_t)len, &tbs, &tmpl_tbs_len, &alg, &tmpl_alg_len), "template");
	tmpl_tbs = malloc(tmpl_tbs_len);
	tmpl_alg = malloc(tmpl_alg_len);
	need(tmpl_tbs && tmpl_alg, "allocation");
	memcpy(tmpl_tbs, tbs, tmpl_tbs_len);
	memcpy(tmpl_alg, alg, tmpl_alg_len);
	OPENSSL_free(der);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t);
	X509_CRL_free(x);
	X509_NAME_free(n);
	return 0;
}

static void check(const unsigned char *der, size_t len)
{
	char why[700];

	if (!crl_diff_check(der, len, ca, now, NULL, why, sizeof(why))) {
		fprintf(stderr, "fuzz_crl_diff: the loaders disagree: %s\n", why);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *tbs = NULL, *der = NULL;
	size_t tbs_len = 0, len = 0;

	if (size < 1 || size > (1 << 20))
		return 0;
	switch (data[0] % 3) {
	case 0:
		check(data + 1, size - 1);
		break;
	case 1:
		tbs = crl_diff_with_entries(tmpl_tbs, tmpl_tbs_len, data + 1, size - 1, &tbs_len);
		if (tbs != NULL)
			der = crl_diff_resign(tbs, tbs_len, tmpl_alg, tmpl_alg_len, key, &len);
		if (der != NULL)
			check(der, len);
		break;
	default:
		der = crl_diff_resign(data + 1, size - 1, tmpl_alg, tmpl_alg_len, key, &len);
		if (der != NULL)
			check(der, len);
		break;
	}
	free(tbs);
	free(der);
	return 0;
}
