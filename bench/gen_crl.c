/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gen_crl: writes large, valid, signed X.509 v2 CRLs fast, by encoding the DER directly (RFC 5280 §5.1). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/*
 * X509_CRL_add0_revoked() keeps a STACK of X509_REVOKED and re-encodes everything at signing:
 * minutes and gigabytes for 10M entries. Here every entry is written once into one buffer,
 * behind room left for the TBSCertList header, the TBS is signed in place, and the file is
 * the buffer. 10M entries take a few seconds.
 */

#define MAX_REVOKE 64
#define DATE_TABLE 4096 /* distinct revocationDates, chosen at random per entry */
#define ENTRY_MAX 64    /* SEQ hdr 2 + INTEGER 2+21 + UTCTime 15 + reasonCode extension 15 */

enum gen_alg { ALG_RSA2048, ALG_RSA_PSS, ALG_ECDSA_P256, ALG_ED25519 };

static const struct {
	const char *name;
	enum gen_alg alg;
	/* AlgorithmIdentifier DER (RFC 4055 §3.1 for PSS: SHA-256, MGF1-SHA-256, salt 32) */
	const unsigned char *der;
	size_t der_len;
} algs[] = {
#define A(...) (const unsigned char[]){ __VA_ARGS__ }, sizeof((const unsigned char[]){ __VA_ARGS__ })
	{ "rsa2048", ALG_RSA2048, A(0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00) },
	{ "rsa-pss", ALG_RSA_PSS,
	  A(0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34, 0xa0, 0x0f, 0x30,
	    0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a,
	    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
	    0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20) },
	{ "ecdsa-p256", ALG_ECDSA_P256, A(0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02) },
	{ "ed25519", ALG_ED25519, A(0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70) },
#undef A
};

struct gen_opts {
	unsigned long long entries;
	const char *out;
	const char *ca_path, *ca_key_path;
	bool new_ca;
	int alg; /* index in algs[], -1 = from the key */
	unsigned long long number;
	long long this_update; /* absolute */
	long long next_update; /* absolute, or -1 = none */
	unsigned long long seed;
	bool sequential;
	unsigned long long seq_start;
	bool reasons;
	bool pem;
	const char *serials_path;
	unsigned long long serials_count;
	unsigned char revoke[MAX_REVOKE][21];
	size_t revoke_len[MAX_REVOKE];
	size_t n_revoke;
	bool quiet;
};

/* xoshiro256** (Blackman & Vigna): fast, seedable; serials need no cryptographic randomness here. */
static uint64_t rng_s[4];

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
	uint64_t r = rotl(rng_s[1] * 5, 7) * 9, t = rng_s[1] << 17;

	rng_s[2] ^= rng_s[0];
	rng_s[3] ^= rng_s[1];
	rng_s[1] ^= rng_s[2];
	rng_s[0] ^= rng_s[3];
	rng_s[2] ^= t;
	rng_s[3] = rotl(rng_s[3], 45);
	return r;
}

static void rng_seed(uint64_t seed)
{
	for (int i = 0; i < 4; i++) { /* splitmix64 */
		uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		rng_s[i] = z ^ (z >> 31);
	}
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;
	unsigned long e;

	va_start(ap, fmt);
	fputs("gen_crl: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	while ((e = ERR_get_error()) != 0)
		fprintf(stderr, " [%s]", ERR_error_string(e, NULL));
	fputc('\n', stderr);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- DER writing ---- */

static size_t len_size(size_t n)
{
	size_t k = 1;

	if (n < 0x80)
		return 1;
	while (n > 0) {
		k++;
		n >>= 8;
	}
	return k;
}

static unsigned char *put_len(unsigned char *p, size_t n)
{
	size_t k = len_size(n);

	if (k == 1) {
		*p++ = (unsigned char)n;
		return p;
	}
	*p++ = (unsigned char)(0x80 | (k - 1));
	for (size_t i = k - 1; i > 0; i--)
		*p++ = (unsigned char)(n >> (8 * (i - 1)));
	return p;
}

static unsigned char *put_hdr(unsigned char *p, unsigned char tag, size_t n)
{
	*p++ = tag;
	return put_len(p, n);
}

/* A positive INTEGER from a big-endian magnitude (leading zeros stripped, a 0x00 pad when needed). */
static unsigned char *put_uint(unsigned char *p, const unsigned char *mag, size_t n)
{
	while (n > 1 && mag[0] == 0) {
		mag++;
		n--;
	}
	if (n == 0) {
		static const unsigned char zero = 0;

		mag = &zero;
		n = 1;
	}
	p = put_hdr(p, 0x02, n + (mag[0] & 0x80 ? 1 : 0));
	if (mag[0] & 0x80)
		*p++ = 0;
	memcpy(p, mag, n);
	return p + n;
}

static size_t u64_mag(unsigned long long v, unsigned char out[8])
{
	size_t n = 0;
	unsigned char tmp[8];

	do {
		tmp[n++] = (unsigned char)(v & 0xff);
		v >>= 8;
	} while (v > 0);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* UTCTime (until 2049) or GeneralizedTime (RFC 5280 §5.1.2.4), 15 or 17 bytes with its header. */
static unsigned char *put_time(unsigned char *p, time_t t)
{
	struct tm tm;
	char s[20];

	gmtime_r(&t, &tm);
	if (tm.tm_year + 1900 < 2050) {
		strftime(s, sizeof(s), "%y%m%d%H%M%SZ", &tm);
		p = put_hdr(p, 0x17, 13);
	} else {
		strftime(s, sizeof(s), "%Y%m%d%H%M%SZ", &tm);
		p = put_hdr(p, 0x18, 15);
	}
	memcpy(p, s, strlen(s));
	return p + strlen(s);
}

/* ---- the CA ---- */

static EVP_PKEY *new_key(enum gen_alg alg)
{
	switch (alg) {
	case ALG_RSA2048:
	case ALG_RSA_PSS:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	case ALG_ECDSA_P256:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	case ALG_ED25519:
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	}
	return NULL;
}

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

	if (e == NULL || !X509_add_ext(x, e, -1))
		die("cannot add extension %s", OBJ_nid2sn(nid));
	X509_EXTENSION_free(e);
}

/* A self-signed CA allowed to sign CRLs (keyUsage cRLSign, RFC 5280 §4.2.1.3), with a subjectKeyIdentifier. */
static X509 *new_ca(EVP_PKEY *key, enum gen_alg alg)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	unsigned char sn[16];

	if (x == NULL || name == NULL)
		die("out of memory");
	for (size_t i = 0; i < sizeof(sn); i++)
		sn[i] = (unsigned char)rng_next();
	sn[0] &= 0x7f;
	sn[0] |= 0x01;
	X509_set_version(x, X509_VERSION_3);
	{
		BIGNUM *bn = BN_bin2bn(sn, sizeof(sn), NULL);

		BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
		BN_free(bn);
	}
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"crlsync bench", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"crlsync bench CA", -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400L);
	X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
	add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
	if (!X509_sign(x, key, alg == ALG_ED25519 ? NULL : EVP_sha256()))
		die("cannot sign the CA certificate");
	X509_NAME_free(name);
	return x;
}

static void write_pem(const char *path, X509 *ca, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	if ((ca != NULL && !PEM_write_X509(f, ca)) ||
	    (key != NULL && !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)) || fclose(f) != 0)
		die("%s: cannot write", path);
}

static void load_ca(const struct gen_opts *o, X509 **ca, EVP_PKEY **key)
{
	FILE *f = fopen(o->ca_path, "r");

	if (f == NULL)
		die("%s: %s", o->ca_path, strerror(errno));
	*ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (*ca == NULL)
		die("%s: no PEM certificate", o->ca_path);
	f = fopen(o->ca_key_path, "r");
	if (f == NULL)
		die("%s: %s", o->ca_key_path, strerror(errno));
	*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (*key == NULL)
		die("%s: no PEM private key", o->ca_key_path);
	if (X509_check_private_key(*ca, *key) != 1)
		die("%s does not match %s", o->ca_key_path, o->ca_path);
}

static int alg_of_key(EVP_PKEY *key, int wanted)
{
	int id = EVP_PKEY_get_base_id(key);

	if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
		if (wanted == ALG_RSA_PSS)
			return ALG_RSA_PSS;
		if (wanted >= 0 && wanted != ALG_RSA2048)
			die("--alg %s does not match the CA's RSA key", algs[wanted].name);
		return ALG_RSA2048;
	}
	if (id == EVP_PKEY_EC) {
		if (wanted >= 0 && wanted != ALG_ECDSA_P256)
			die("--alg %s does not match the CA's EC key", algs[wanted].name);
		return ALG_ECDSA_P256;
	}
	if (id == EVP_PKEY_ED25519) {
		if (wanted >= 0 && wanted != ALG_ED25519)
			die("--alg %s does not match the CA's Ed25519 key", algs[wanted].name);
		return ALG_ED25519;
	}
	die("unsupported CA key type %s", OBJ_nid2sn(id));
}

static unsigned char *sign(EVP_PKEY *key, enum gen_alg alg, const unsigned char *tbs, size_t len, size_t *siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *sig;

	if (md == NULL || EVP_DigestSignInit(md, &pctx, alg == ALG_ED25519 ? NULL : EVP_sha256(), NULL, key) != 1)
		die("cannot start signing");
	if (alg == ALG_RSA_PSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1 || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1))
		die("cannot set RSA-PSS parameters");
	if (EVP_DigestSign(md, NULL, siglen, tbs, len) != 1 || (sig = malloc(*siglen)) == NULL ||
	    EVP_DigestSign(md, sig, siglen, tbs, len) != 1)
		die("cannot sign");
	EVP_MD_CTX_free(md);
	return sig;
}

/* ---- options ---- */

static unsigned long long parse_count(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s)
		die("bad number `%s'", s);
	if (*end == 'k' || *end == 'K')
		v *= 1000, end++;
	else if (*end == 'M' || *end == 'm')
		v *= 1000000, end++;
	if (*end != '\0')
		die("bad number `%s'", s);
	return v;
}

/* "@EPOCH" absolute, or seconds relative to `base` (suffixes s m h d). */
static long long parse_when(const char *s, long long base)
{
	char *end;
	long long v;

	if (s[0] == '@') {
		v = strtoll(s + 1, &end, 10);
		if (*end != '\0' || end == s + 1)
			die("bad time `%s'", s);
		return v;
	}
	v = strtoll(s, &end, 10);
	if (end == s)
		die("bad time `%s'", s);
	switch (*end) {
	case '\0': case 's': break;
	case 'm': v *= 60; break;
	case 'h': v *= 3600; break;
	case 'd': v *= 86400; break;
	default: die("bad time `%s'", s);
	}
	if (*end != '\0' && end[1] != '\0')
		die("bad time `%s'", s);
	return base + v;
}

static void parse_hex(const char *s, unsigned char out[21], size_t *len)
{
	size_t n = strlen(s), k = 0;
	unsigned char tmp[21];

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2, n -= 2;
	if (n == 0 || n > 40)
		die("serial `%s': 1 to 40 hex digits", s);
	for (size_t i = 0; i < n; i++) {
		int c = s[n - 1 - i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			die("serial `%s' is not hex", s);
		if (i % 2 == 0)
			tmp[k++] = (unsigned char)d;
		else
			tmp[k - 1] |= (unsigned char)(d << 4);
	}
	for (size_t i = 0; i < k; i++)
		out[i] = tmp[k - 1 - i];
	*len = k;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gen_crl -n ENTRIES -o OUT [options]\n"
		"  -n, --entries N        revoked entries (k/M suffixes: 1M = 1000000); default 1000\n"
		"  -o, --out FILE         the CRL (DER unless --pem)\n"
		"  --ca FILE --ca-key FILE  sign with this CA (PEM certificate and key)\n"
		"  --new-ca               first create a fresh CA and write it to --ca and --ca-key\n"
		"                         (without --ca: an ephemeral CA written to OUT.ca.pem and OUT.ca.key)\n"
		"  --alg ALG              rsa2048 (sha256WithRSAEncryption, default), rsa-pss, ecdsa-p256, ed25519\n"
		"  --number N             cRLNumber (default 1)\n"
		"  --this-update T        seconds from now (default -3600), or @EPOCH; suffixes s m h d\n"
		"  --next-update T        seconds after thisUpdate (default 7d), @EPOCH, or `none'\n"
		"  --seed S               serials and dates are a function of S (default 1)\n"
		"  --sequential[=START]   small sequential serials START, START+1, ... (default: 20-byte random)\n"
		"  --reasons              a reasonCode extension on every entry\n"
		"  --revoke HEX           also list this serial (repeatable, up to %d), reason keyCompromise\n"
		"  --pem                  PEM output\n"
		"  --serials FILE         write revoked serials (upper-case hex, one a line) for lookup hits\n"
		"  --serials-count K      how many (default 1000, spread over the whole list)\n"
		"  -q, --quiet\n",
		MAX_REVOKE);
}

static void parse_args(int argc, char *argv[], struct gen_opts *o)
{
	enum { O_CA = 256, O_CA_KEY, O_NEW_CA, O_ALG, O_NUMBER, O_THIS, O_NEXT, O_SEED, O_SEQ, O_REASONS, O_REVOKE,
	       O_PEM, O_SERIALS, O_SERIALS_COUNT };
	static const struct option lo[] = {
		{ "entries", required_argument, NULL, 'n' }, { "out", required_argument, NULL, 'o' },
		{ "ca", required_argument, NULL, O_CA }, { "ca-key", required_argument, NULL, O_CA_KEY },
		{ "new-ca", no_argument, NULL, O_NEW_CA }, { "alg", required_argument, NULL, O_ALG },
		{ "number", required_argument, NULL, O_NUMBER }, { "this-update", required_argument, NULL, O_THIS },
		{ "next-update", required_argument, NULL, O_NEXT }, { "seed", required_argument, NULL, O_SEED },
		{ "sequential", optional_argument, NULL, O_SEQ }, { "reasons", no_argument, NULL, O_REASONS },
		{ "revoke", required_argument, NULL, O_REVOKE }, { "pem", no_argument, NULL, O_PEM },
		{ "serials", required_argument, NULL, O_SERIALS },
		{ "serials-count", required_argument, NULL, O_SERIALS_COUNT }, { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *next = NULL;
	long long now = (long long)time(NULL);
	int c;

	*o = (struct gen_opts){ .entries = 1000, .alg = -1, .number = 1, .seed = 1, .seq_start = 1,
				.serials_count = 1000 };
	o->this_update = now - 3600;
	while ((c = getopt_long(argc, argv, "n:o:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'n': o->entries = parse_count(optarg); break;
		case 'o': o->out = optarg; break;
		case O_CA: o->ca_path = optarg; break;
		case O_CA_KEY: o->ca_key_path = optarg; break;
		case O_NEW_CA: o->new_ca = true; break;
		case O_ALG:
			o->alg = -2;
			for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
				if (strcmp(optarg, algs[i].name) == 0)
					o->alg = (int)i;
			if (o->alg == -2)
				die("unknown --alg `%s' (rsa2048, rsa-pss, ecdsa-p256, ed25519)", optarg);
			break;
		case O_NUMBER: o->number = parse_count(optarg); break;
		case O_THIS: o->this_update = parse_when(optarg, now); break;
		case O_NEXT: next = optarg; break;
		case O_SEED: o->seed = parse_count(optarg); break;
		case O_SEQ:
			o->sequential = true;
			if (optarg != NULL)
				o->seq_start = parse_count(optarg);
			break;
		case O_REASONS: o->reasons = true; break;
		case O_REVOKE:
			if (o->n_revoke == MAX_REVOKE)
				die("at most %d --revoke", MAX_REVOKE);
			parse_hex(optarg, o->revoke[o->n_revoke], &o->revoke_len[o->n_revoke]);
			o->n_revoke++;
			break;
		case O_PEM: o->pem = true; break;
		case O_SERIALS: o->serials_path = optarg; break;
		case O_SERIALS_COUNT: o->serials_count = parse_count(optarg); break;
		case 'q': o->quiet = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc || o->out == NULL) {
		usage(stderr);
		exit(2);
	}
	if ((o->ca_path == NULL) != (o->ca_key_path == NULL))
		die("--ca and --ca-key go together");
	if (next == NULL)
		o->next_update = o->this_update + 7 * 86400;
	else if (strcmp(next, "none") == 0)
		o->next_update = -1;
	else
		o->next_update = parse_when(next, o->this_update);
	if (o->n_revoke > o->entries)
		die("more --revoke serials than entries");
}

/* ---- the CRL ---- */

/* One revokedCertificates entry (RFC 5280 §5.1.2.6); returns the end. */
static unsigned char *put_entry(unsigned char *p, const unsigned char *mag, size_t n, const unsigned char *date,
				size_t date_len, int reason)
{
	unsigned char body[ENTRY_MAX], *q = body;

	q = put_uint(q, mag, n);
	memcpy(q, date, date_len);
	q += date_len;
	if (reason >= 0) {
		/* crlEntryExtensions: SEQUENCE { SEQUENCE { id-ce-cRLReasons, OCTET STRING { ENUMERATED } } } */
		static const unsigned char ext[] = { 0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d,
						     0x15, 0x04, 0x03, 0x0a, 0x01 };

		memcpy(q, ext, sizeof(ext));
		q += sizeof(ext);
		*q++ = (unsigned char)reason;
	}
	p = put_hdr(p, 0x30, (size_t)(q - body));
	memcpy(p, body, (size_t)(q - body));
	return p + (q - body);
}

int main(int argc, char *argv[])
{
	/* RFC 5280 §5.3.1 codes valid in a complete CRL: not 7 (unused) nor removeFromCRL (8). */
	static const int reason_codes[] = { 1, 1, 1, 4, 4, 5, 3, 0, 2, 6, 9, 10 };
	struct gen_opts o;
	X509 *ca = NULL;
	EVP_PKEY *key = NULL;
	unsigned char dates[DATE_TABLE][17];
	size_t date_len[DATE_TABLE];
	unsigned char *buf, *p, *ents, *ents_end, *sig;
	unsigned char *name_der = NULL, *prefix, *pp;
	size_t name_len, cap, head, siglen, tbs_len, ext_len, prefix_len, revoked_len, total;
	unsigned char ext[128], *e = ext, num[8];
	const ASN1_OCTET_STRING *skid;
	double t0 = now_s(), t_gen, t_sign;
	enum gen_alg alg;
	FILE *f, *sf = NULL;
	unsigned long long step = 1, next_revoke = 0;
	size_t rev_i = 0;

	parse_args(argc, argv, &o);
	rng_seed(o.seed);

	if (o.ca_path != NULL && !o.new_ca) {
		load_ca(&o, &ca, &key);
		alg = (enum gen_alg)alg_of_key(key, o.alg);
	} else {
		char path[4096];

		alg = o.alg >= 0 ? (enum gen_alg)o.alg : ALG_RSA2048;
		key = new_key(alg);
		if (key == NULL)
			die("cannot generate a %s key", algs[alg].name);
		ca = new_ca(key, alg);
		if (o.ca_path != NULL) {
			write_pem(o.ca_path, ca, NULL);
			write_pem(o.ca_key_path, NULL, key);
		} else {
			snprintf(path, sizeof(path), "%s.ca.pem", o.out);
			write_pem(path, ca, NULL);
			snprintf(path, sizeof(path), "%s.ca.key", o.out);
			write_pem(path, NULL, key);
		}
	}

	/* revocationDate: spread over the year before thisUpdate, from a table (formatting is the slow part). */
	for (size_t i = 0; i < DATE_TABLE; i++)
		date_len[i] = (size_t)(put_time(dates[i], (time_t)(o.this_update - 60 - (long long)(rng_next() % (365ULL * 86400)))) - dates[i]);

	{
		int l = i2d_X509_NAME(X509_get_subject_name(ca), &name_der);

		if (l <= 0)
			die("cannot encode the issuer name");
		name_len = (size_t)l;
	}
	head = 64 + algs[alg].der_len + name_len + 64;
	cap = head + o.entries * ENTRY_MAX + 1024;
	buf = malloc(cap);
	if (buf == NULL)
		die("cannot allocate %zu bytes", cap);

	/* The entries, at `head`; --revoke serials replace evenly spaced ones. */
	ents = p = buf + head;
	if (o.n_revoke > 0) {
		step = o.entries / (o.n_revoke + 1);
		next_revoke = step;
	}
	if (o.serials_path != NULL) {
		sf = fopen(o.serials_path, "w");
		if (sf == NULL)
			die("%s: %s", o.serials_path, strerror(errno));
	}
	{
		unsigned long long sstep = o.serials_count ? (o.entries + o.serials_count - 1) / o.serials_count : 0;

		for (unsigned long long i = 0; i < o.entries; i++) {
			unsigned char mag[21];
			size_t n;
			uint64_t r = rng_next();
			const unsigned char *m = mag;
			int reason = o.reasons ? reason_codes[(r >> 40) % (sizeof(reason_codes) / sizeof(reason_codes[0]))] : -1;
			size_t di = (size_t)(r % DATE_TABLE);

			if (rev_i < o.n_revoke && i == next_revoke) {
				m = o.revoke[rev_i];
				n = o.revoke_len[rev_i];
				reason = 1; /* keyCompromise */
				rev_i++;
				next_revoke += step;
			} else if (o.sequential) {
				n = u64_mag(o.seq_start + i, mag);
			} else {
				/* RFC 5280 §4.1.2.2: positive, at most 20 octets; first octet 01..7F keeps it 20. */
				uint64_t a = rng_next(), b = rng_next(), c = rng_next();

				memcpy(mag, &a, 8);
				memcpy(mag + 8, &b, 8);
				memcpy(mag + 16, &c, 4);
				mag[0] = (unsigned char)((mag[0] & 0x7f) | 0x01);
				n = 20;
			}
			p = put_entry(p, m, n, dates[di], date_len[di], reason);
			if (sf != NULL && sstep > 0 && i % sstep == sstep / 2) {
				size_t k = 0;

				while (k + 1 < n && m[k] == 0)
					k++;
				for (; k < n; k++)
					fprintf(sf, "%02X", m[k]);
				fputc('\n', sf);
			}
		}
	}
	if (sf != NULL && fclose(sf) != 0)
		die("%s: cannot write", o.serials_path);
	ents_end = p;

	/* crlExtensions [0]: authorityKeyIdentifier (when the CA has a SKID) and cRLNumber (RFC 5280 §5.2.1, §5.2.3). */
	{
		unsigned char inner[100], *q = inner;
		unsigned char tmp[60], *t;
		size_t nl = u64_mag(o.number, num);

		skid = X509_get0_subject_key_id(ca);
		if (skid != NULL && ASN1_STRING_length(skid) <= 32) {
			size_t kl = (size_t)ASN1_STRING_length(skid);
			/* SEQUENCE { OID 2.5.29.35, OCTET STRING { SEQUENCE { [0] keyid } } } */
			t = put_hdr(tmp, 0x06, 3);
			memcpy(t, "\x55\x1d\x23", 3);
			t += 3;
			t = put_hdr(t, 0x04, kl + 2 + 2);
			t = put_hdr(t, 0x30, kl + 2);
			t = put_hdr(t, 0x80, kl);
			memcpy(t, ASN1_STRING_get0_data(skid), kl);
			t += kl;
			q = put_hdr(q, 0x30, (size_t)(t - tmp));
			memcpy(q, tmp, (size_t)(t - tmp));
			q += t - tmp;
		}
		{
			unsigned char ib[12], *ie = put_uint(ib, num, nl);

			t = put_hdr(tmp, 0x06, 3);
			memcpy(t, "\x55\x1d\x14", 3);
			t += 3;
			t = put_hdr(t, 0x04, (size_t)(ie - ib));
			memcpy(t, ib, (size_t)(ie - ib));
			t += ie - ib;
			q = put_hdr(q, 0x30, (size_t)(t - tmp));
			memcpy(q, tmp, (size_t)(t - tmp));
			q += t - tmp;
		}
		e = put_hdr(e, 0xa0, (size_t)(q - inner) + 1 + len_size((size_t)(q - inner)));
		e = put_hdr(e, 0x30, (size_t)(q - inner));
		memcpy(e, inner, (size_t)(q - inner));
		e += q - inner;
		ext_len = (size_t)(e - ext);
	}
	memcpy(ents_end, ext, ext_len);

	/* The TBSCertList header and the fields before revokedCertificates, written just before the entries. */
	revoked_len = (size_t)(ents_end - ents);
	prefix = malloc(head);
	if (prefix == NULL)
		die("out of memory");
	pp = prefix;
	{
		unsigned char fields[512], *fq = fields;

		fq = put_hdr(fq, 0x02, 1);
		*fq++ = 1; /* v2 */
		memcpy(fq, algs[alg].der, algs[alg].der_len);
		fq += algs[alg].der_len;
		memcpy(fq, name_der, name_len);
		fq += name_len;
		fq = put_time(fq, (time_t)o.this_update);
		if (o.next_update >= 0)
			fq = put_time(fq, (time_t)o.next_update);
		if (o.entries > 0) /* RFC 5280 §5.1.2.6: absent, not empty, when nothing is revoked */
			fq = put_hdr(fq, 0x30, revoked_len);
		tbs_len = (size_t)(fq - fields) + (o.entries > 0 ? revoked_len : 0) + ext_len;
		pp = put_hdr(pp, 0x30, tbs_len);
		memcpy(pp, fields, (size_t)(fq - fields));
		pp += fq - fields;
	}
	prefix_len = (size_t)(pp - prefix);
	if (prefix_len + 8 > head)
		die("internal: header room");
	memcpy(ents - prefix_len, prefix, prefix_len);
	tbs_len += 1 + len_size(tbs_len); /* with its own header */
	p = ents - prefix_len;           /* the TBS, contiguous */
	t_gen = now_s();

	sig = sign(key, alg, p, tbs_len, &siglen);
	t_sign = now_s();

	/* Certificate-style wrapper: SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature }. */
	{
		unsigned char *end = p + tbs_len, *outer;
		size_t body = tbs_len + algs[alg].der_len + 1 + len_size(siglen + 1) + siglen + 1;
		unsigned char hdr[8], *h = put_hdr(hdr, 0x30, body);

		memcpy(end, algs[alg].der, algs[alg].der_len);
		end += algs[alg].der_len;
		end = put_hdr(end, 0x03, siglen + 1);
		*end++ = 0; /* no unused bits */
		memcpy(end, sig, siglen);
		end += siglen;
		outer = p - (h - hdr);
		memcpy(outer, hdr, (size_t)(h - hdr));
		total = (size_t)(end - outer);
		p = outer;
	}

	f = fopen(o.out, "wb");
	if (f == NULL)
		die("%s: %s", o.out, strerror(errno));
	if (o.pem) {
		/* RFC 7468: 64 base64 characters a line. */
		unsigned char line[66];

		fputs("-----BEGIN X509 CRL-----\n", f);
		for (size_t off = 0; off < total; off += 48) {
			int k = EVP_EncodeBlock(line, p + off, (int)(total - off < 48 ? total - off : 48));

			line[k] = '\n';
			fwrite(line, 1, (size_t)k + 1, f);
		}
		fputs("-----END X509 CRL-----\n", f);
	} else {
		fwrite(p, 1, total, f);
	}
	if (ferror(f) || fclose(f) != 0)
		die("%s: cannot write", o.out);
	if (!o.quiet)
		fprintf(stderr, "gen_crl: %s: %llu entries, %zu bytes DER, %s, number %llu; %.2f s encode, %.2f s sign, %.2f s total\n",
			o.out, o.entries, total, algs[alg].name, o.number, t_gen - t0, t_sign - t_gen, now_s() - t0);
	free(sig);
	free(prefix);
	free(buf);
	OPENSSL_free(name_der);
	X509_free(ca);
	EVP_PKEY_free(key);
	return 0;
}
