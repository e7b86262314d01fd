/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the CRL loaders: DER/PEM splitting, the fast loader, and the OpenSSL reference path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crl_reference.h"
#include "crlsync/crl.h"
#include "crlsync/mark.h"

static EVP_PKEY *ca_key;
static X509 *ca;
static X509 *leaf;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509_NAME *issuer, int is_ca)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509_EXTENSION *ext;
	X509V3_CTX ctx;

	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? issuer : n);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_crl_distribution_points, "URI:http://127.0.0.1/ca.crl");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(x, ca_key, EVP_sha256());
	X509_NAME_free(n);
	return x;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ca = make_cert("fuzz ca", ca_key, NULL, 1);
	leaf = make_cert("fuzz leaf", ca_key, X509_get_subject_name(ca), 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509_CRL) *sk = NULL;
	struct crl_der *ders = NULL;
	size_t n = 0;
	char err[512];
	time_t now = 1800000000;

	/* The path the plugin and the fetcher take: split DER/PEM, then the fast loader on each. */
	if (crl_split(data, size, &ders, &n, err, sizeof(err)) == CRL_OK) {
		for (size_t i = 0; i < n; i++) {
			struct crl *c = NULL;

			crl_from_der(ders[i].der, ders[i].len, &ca, 1, now, "fuzz", 0, &c, err, sizeof(err));
			crl_unref(c);
		}
		crl_der_free(ders, n);
	}
	/* The reference decoder, as OpenSSL sees the same bytes. */
	if (crl_decode(data, size, &sk, err, sizeof(err)) != CRL_OK)
		return 0;
	for (int i = 0; i < sk_X509_CRL_num(sk); i++) {
		X509_CRL *x = sk_X509_CRL_value(sk, i);
		struct crl *c = NULL;
		struct mark m;
		const char *why;

		/* As found: almost always refused for its signature. */
		crl_from_x509(x, &ca, 1, now, "fuzz", &c, err, sizeof(err));
		crl_unref(c);
		c = NULL;
		/* Re-signed by our ca, so that every rule after the signature check is reached too. */
		if (!X509_CRL_set_issuer_name(x, X509_get_subject_name(ca)) || !X509_CRL_sign(x, ca_key, EVP_sha256()))
			continue;
		if (crl_from_x509(x, &ca, 1, now, "fuzz", &c, err, sizeof(err)) == CRL_OK) {
			const ASN1_INTEGER *sn = X509_get0_serialNumber(leaf);

			crl_covers(c, leaf, &why);
			crl_index_find(c->index, ASN1_STRING_get0_data(sn), (size_t)ASN1_STRING_length(sn), false, NULL);
			mark_from_crl(c, &m);
			mark_compare_age(&m, &m);
		}
		crl_unref(c);
	}
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	return 0;
}
