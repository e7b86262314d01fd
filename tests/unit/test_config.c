/* SPDX-License-Identifier: GPL-2.0-only */
/* Unit tests of lib/config.c: a good file, every error with its file, line and word, overrides, durations. */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crlsync/config.h"

/* Generated once per run in a fresh directory; no key material is committed or kept. */
static struct {
	char dir[4096];
	char ca1[4200], ca2[4200], notpem[4200], encrypted[4200], noread[4200], junk_first[4200];
	char missing[4200], cadir[4200], good_conf[4200], big_conf[4200];
	X509 *x1, *x2;
} fx;

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}

static X509 *make_ca(const char *cn)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *name;

	if (!key || !x)
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		abort();
	EVP_PKEY_free(key);
	return x;
}

static void write_file(const char *path, const char *prefix, X509 *x, const char *suffix)
{
	FILE *f = fopen(path, "w");

	if (!f)
		abort();
	if (prefix)
		fputs(prefix, f);
	if (x && !PEM_write_X509(f, x))
		abort();
	if (suffix)
		fputs(suffix, f);
	if (fclose(f) != 0)
		abort();
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	const char *base = getenv("CRLSYNC_TEST_TMP");
	FILE *f;

	(void)state;
	if (!base || !*base)
		base = "/tmp";
	if (mkdir(base, 0700) != 0 && errno != EEXIST)
		return -1;
	snprintf(fx.dir, sizeof(fx.dir), "%s/test_config.XXXXXX", base);
	if (!mkdtemp(fx.dir))
		return -1;
#define P(field, leaf) snprintf(fx.field, sizeof(fx.field), "%s/%s", fx.dir, leaf)
	P(ca1, "ca1.pem");
	P(ca2, "ca2.pem");
	P(notpem, "notpem.txt");
	P(encrypted, "encrypted.pem");
	P(noread, "noread.pem");
	P(junk_first, "junk-first.pem");
	P(missing, "does-not-exist.pem");
	P(cadir, "cadir");
	P(good_conf, "good.conf");
	P(big_conf, "big.conf");
#undef P
	fx.x1 = make_ca("crlsync test CA one");
	fx.x2 = make_ca("crlsync test CA two");
	write_file(fx.ca1, NULL, fx.x1, NULL);
	write_file(fx.ca2, "# a comment before the certificate\n", fx.x2, NULL);
	write_file(fx.notpem, "this is not a certificate\n", NULL, NULL);
	/* A CERTIFICATE block claiming encryption: must fail, never prompt for a passphrase. */
	write_file(fx.encrypted,
		   "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n"
		   "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAAAAAAAAAAAAAAAAAAAA==\n"
		   "-----END CERTIFICATE-----\n",
		   NULL, NULL);
	write_file(fx.noread, NULL, fx.x1, NULL);
	chmod(fx.noread, 0);
	write_file(fx.junk_first, "-----BEGIN SOMETHING ELSE-----\nAAAA\n-----END SOMETHING ELSE-----\n", fx.x2,
		   "trailing text\n");
	if (mkdir(fx.cadir, 0700) != 0)
		return -1;
	/* One byte over the 1 MiB cap, all comment lines. */
	f = fopen(fx.big_conf, "w");
	if (!f)
		return -1;
	for (int i = 0; i < 1024 * 1024 / 64; i++)
		fprintf(f, "; %-61s\n", "padding"); /* 64 bytes */
	fputc('\n', f);
	fclose(f);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	X509_free(fx.x1);
	X509_free(fx.x2);
	if (fx.dir[0])
		nftw(fx.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/*
 * Parses `conf` as "neg.conf" and checks that it fails with one line that starts with
 * "neg.conf line LINE: " ("neg.conf: " for LINE 0) and contains `word`.
 */
static void check_fail(const char *conf, size_t len, bool load_cas, int line, const char *word)
{
	struct cfg *cfg = (struct cfg *)&fx; /* must be reset to NULL */
	char err[512], prefix[64];

	memset(err, 'x', sizeof(err));
	if (cfg_parse_buffer("neg.conf", conf, len, load_cas, &cfg, err, sizeof(err))) {
		cfg_free(cfg);
		fail_msg("accepted:\n%s", conf);
	}
	assert_null(cfg);
	if (line > 0)
		snprintf(prefix, sizeof(prefix), "neg.conf line %d: ", line);
	else
		snprintf(prefix, sizeof(prefix), "neg.conf: ");
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("error `%s' does not start with `%s' for:\n%s", err, prefix, conf);
	if (!strstr(err, word))
		fail_msg("error `%s' does not mention `%s' for:\n%s", err, word, conf);
	assert_null(strchr(err, '\n'));
}

static void expect_fail(const char *conf, int line, const char *word)
{
	check_fail(conf, strlen(conf), false, line, word);
}

/* Same, loading the ca files. */
static void expect_fail_ca(const char *conf, int line, const char *word)
{
	check_fail(conf, strlen(conf), true, line, word);
}

static struct cfg *expect_ok(const char *conf, bool load_cas)
{
	struct cfg *cfg = NULL;
	char err[512] = "";

	if (!cfg_parse_buffer("ok.conf", conf, strlen(conf), load_cas, &cfg, err, sizeof(err)))
		fail_msg("rejected: %s\n%s", err, conf);
	assert_non_null(cfg);
	return cfg;
}

#define GLOBAL "[global]\ncache-dir = /var/lib/crlsync\n" /* lines 1-2 */

/* --- good files -------------------------------------------------------------------------- */

static void cfg_load__good_file__every_value_parsed(void **state)
{
	struct cfg *cfg = (struct cfg *)&fx;
	char err[512] = "";
	char *text;
	FILE *f;

	(void)state;
	text = xasprintf("; crlsync test configuration\n"                             /* 1 */
			 "[global]\n"                                                  /* 2 */
			 "cache-dir = /var/lib/crlsync      ; one file per source\n"   /* 3 */
			 "\n"                                                          /* 4 */
			 "[plugin]\n"                                                  /* 5 */
			 "missing = accept\n"                                          /* 6 */
			 "expired = accept                  ; reject|accept\n"         /* 7 */
			 "grace   = 15m\n"                                             /* 8 */
			 "\n"                                                          /* 9 */
			 "[source corp-issuing]             ; first\n"                 /* 10 */
			 "url = http://pki.example.com/issuing.crl\n"                  /* 11 */
			 "url = http://backup.example.com/issuing.crl   ; second\n"    /* 12 */
			 "ca  = %s\n"                                                  /* 13 */
			 "\n"                                                          /* 14 */
			 "[source Root_CA.2]\n"                                        /* 15 */
			 "url = https://pki.example.com/root.crl\n"                    /* 16 */
			 "ca = %s\n"                                                   /* 17 */
			 "url = ldap://ldap.example.com/cn=Root,o=x?certificateRevocationList\n", /* 18 */
			 fx.ca1, fx.junk_first);
	f = fopen(fx.good_conf, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(text);

	if (!cfg_load(fx.good_conf, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	assert_non_null(cfg);
	assert_string_equal(cfg->path, fx.good_conf);
	assert_string_equal(cfg->cache_dir, "/var/lib/crlsync");
	assert_int_equal(cfg->missing, CFG_ACCEPT);
	assert_int_equal(cfg->expired, CFG_ACCEPT);
	assert_int_equal(cfg->grace, 900);
	assert_int_equal(cfg->n_sources, 2);

	assert_string_equal(cfg->sources[0].name, "corp-issuing");
	assert_int_equal(cfg->sources[0].line, 10);
	assert_int_equal(cfg->sources[0].n_urls, 2);
	assert_string_equal(cfg->sources[0].urls[0], "http://pki.example.com/issuing.crl");
	assert_string_equal(cfg->sources[0].urls[1], "http://backup.example.com/issuing.crl");
	assert_string_equal(cfg->sources[0].ca_path, fx.ca1);
	assert_non_null(cfg->sources[0].ca);
	assert_int_equal(X509_cmp(cfg->sources[0].ca, fx.x1), 0);

	assert_string_equal(cfg->sources[1].name, "Root_CA.2");
	assert_int_equal(cfg->sources[1].line, 15);
	assert_int_equal(cfg->sources[1].n_urls, 2);
	assert_string_equal(cfg->sources[1].urls[0], "https://pki.example.com/root.crl");
	assert_string_equal(cfg->sources[1].urls[1], "ldap://ldap.example.com/cn=Root,o=x?certificateRevocationList");
	assert_string_equal(cfg->sources[1].ca_path, fx.junk_first);
	assert_non_null(cfg->sources[1].ca);
	assert_int_equal(X509_cmp(cfg->sources[1].ca, fx.x2), 0); /* the first certificate, past other blocks */
	cfg_free(cfg);
}

static void cfg_parse_buffer__minimal__defaults_reject_reject_zero(void **state)
{
	struct cfg *cfg;

	(void)state;
	cfg = expect_ok(GLOBAL, true);
	assert_string_equal(cfg->path, "ok.conf");
	assert_int_equal(cfg->missing, CFG_REJECT);
	assert_int_equal(cfg->expired, CFG_REJECT);
	assert_int_equal(cfg->grace, 0);
	assert_int_equal(cfg->n_sources, 0);
	assert_null(cfg->sources);
	cfg_free(cfg);
}

static void cfg_parse_buffer__no_load_cas__path_kept_ca_null(void **state)
{
	struct cfg *cfg;
	char *conf;

	(void)state;
	conf = xasprintf(GLOBAL "[source a]\nca = %s\n", fx.missing);
	cfg = expect_ok(conf, false);
	assert_int_equal(cfg->n_sources, 1);
	assert_string_equal(cfg->sources[0].ca_path, fx.missing);
	assert_null(cfg->sources[0].ca);
	assert_int_equal(cfg->sources[0].n_urls, 0); /* a source without url is allowed */
	assert_null(cfg->sources[0].urls);
	cfg_free(cfg);
	free(conf);
}

static void cfg_parse_buffer__bom_crlf_colon_comments__accepted(void **state)
{
	const char conf[] = "\xEF\xBB\xBF; comment after a BOM\r\n"
			    "# hash comment\r\n"
			    "   \t\r\n"
			    "    ; indented comment\r\n"
			    "[global] ; comment after the header\r\n"
			    "cache-dir: /var/cache/crlsync\r\n"
			    "[plugin]\r\n"
			    "grace=1d\r\n"
			    "[ source  x ]\r\n"
			    "ca=/etc/x.pem\r\n"
			    "url=http://x/y.crl";
	struct cfg *cfg;

	(void)state;
	cfg = expect_ok(conf, false);
	assert_string_equal(cfg->cache_dir, "/var/cache/crlsync");
	assert_int_equal(cfg->grace, 86400);
	assert_int_equal(cfg->n_sources, 1);
	assert_string_equal(cfg->sources[0].name, "x");
	assert_int_equal(cfg->sources[0].line, 9);
	assert_string_equal(cfg->sources[0].ca_path, "/etc/x.pem");
	assert_string_equal(cfg->sources[0].urls[0], "http://x/y.crl");
	cfg_free(cfg);
}

static void cfg_parse_buffer__split_global_and_plugin__merged(void **state)
{
	const char conf[] = "[plugin]\nmissing = accept\n[global]\ncache-dir = /c\n[plugin]\nexpired = accept\n";
	struct cfg *cfg;

	(void)state;
	cfg = expect_ok(conf, false);
	assert_int_equal(cfg->missing, CFG_ACCEPT);
	assert_int_equal(cfg->expired, CFG_ACCEPT);
	cfg_free(cfg);
}

static void cfg_parse_buffer__name_of_64__kept_whole(void **state)
{
	char name[CFG_NAME_MAX + 1], *conf;
	struct cfg *cfg;

	(void)state;
	memset(name, 'n', CFG_NAME_MAX);
	name[CFG_NAME_MAX] = '\0';
	conf = xasprintf(GLOBAL "[source %s]\nca = /x\n", name);
	cfg = expect_ok(conf, false);
	assert_string_equal(cfg->sources[0].name, name); /* inih alone would cut it at 49 */
	cfg_free(cfg);
	free(conf);
}

/* --- lines ------------------------------------------------------------------------------- */

static char *conf_with_line_of(size_t linelen, const char *eol)
{
	/* line 2 is "cache-dir = /aaa...", exactly linelen characters before the end of line */
	const char *head = "cache-dir = /";
	size_t n = linelen - strlen(head);
	char *pad = malloc(n + 1);
	char *conf;

	assert_non_null(pad);
	memset(pad, 'a', n);
	pad[n] = '\0';
	conf = xasprintf("[global]\n%s%s%s", head, pad, eol);
	free(pad);
	return conf;
}

static void cfg_parse_buffer__line_of_199__accepted(void **state)
{
	const char *eols[] = { "\n", "\r\n", "" };

	(void)state;
	for (size_t i = 0; i < sizeof(eols) / sizeof(eols[0]); i++) {
		char *conf = conf_with_line_of(199, eols[i]);
		struct cfg *cfg = expect_ok(conf, false);

		assert_int_equal(strlen(cfg->cache_dir), 199 - strlen("cache-dir = "));
		cfg_free(cfg);
		free(conf);
	}
}

static void cfg_parse_buffer__line_of_200__too_long(void **state)
{
	const char *eols[] = { "\n", "\r\n", "" };

	(void)state;
	for (size_t i = 0; i < sizeof(eols) / sizeof(eols[0]); i++) {
		char *conf = conf_with_line_of(200, eols[i]);

		expect_fail(conf, 2, "line too long (at most 199 characters)");
		free(conf);
	}
	/* a long comment is refused too: inih would read its tail as a line of its own */
	{
		char *conf = conf_with_line_of(300, "\n");

		conf[9] = ';';
		expect_fail(conf, 2, "too long");
		free(conf);
	}
}

static void cfg_parse_buffer__nul_byte__rejected(void **state)
{
	const char conf[] = "[global]\ncache-dir = /a\0b\n";

	(void)state;
	check_fail(conf, sizeof(conf) - 1, false, 2, "NUL");
}

static void cfg_parse_buffer__indented_key__rejected(void **state)
{
	(void)state;
	expect_fail("[global]\n  cache-dir = /x\n", 2, "indented");
	/* inih would have made this "ca = /y" a second line of the url */
	expect_fail(GLOBAL "[source a]\nurl = http://x/a.crl\n\tca = /y\n", 5, "continuation");
}

static void cfg_parse_buffer__syntax_errors__line_and_reason(void **state)
{
	(void)state;
	expect_fail(GLOBAL "[plugin\nmissing = accept\n", 3, "`]'");
	expect_fail(GLOBAL "[plugin ;]\n", 3, "`]'");
	expect_fail(GLOBAL "[plugin] trailing\n", 3, "trailing");
	expect_fail(GLOBAL "[plugin]\njust some words\n", 4, "key = value");
	expect_fail(GLOBAL "[plugin]\nmissing ; = accept\n", 4, "key = value");
	expect_fail(GLOBAL "[plugin]\n= accept\n", 4, "missing key");
	expect_fail("cache-dir = /x\n[global]\n", 1, "before any [section]");
}

static void cfg_parse_buffer__two_errors__first_reported(void **state)
{
	(void)state;
	expect_fail(GLOBAL "[plugin]\nmissing = maybe\nbogus line\n[foo]\n", 4, "maybe");
	expect_fail(GLOBAL "[plugin]\nbogus line\nmissing = maybe\n", 4, "key = value");
	expect_fail(GLOBAL "[source a]\nurl = http://a/\n[foo]\n", 3, "has no `ca'");
}

/* --- sections ---------------------------------------------------------------------------- */

static void cfg_parse_buffer__unknown_section__rejected(void **state)
{
	(void)state;
	expect_fail(GLOBAL "[sources x]\n", 3, "unknown section `sources x'");
	expect_fail(GLOBAL "\n[foo]\n", 4, "unknown section `foo'");
	expect_fail(GLOBAL "[]\n", 3, "unknown section `'");
	expect_fail(GLOBAL "[Global]\n", 3, "Global");
	expect_fail(GLOBAL "[global x]\n", 3, "unexpected name `x'");
}

static void cfg_parse_buffer__source_without_name__rejected(void **state)
{
	(void)state;
	expect_fail(GLOBAL "[source]\nca = /x\n", 3, "[source] without a name");
	expect_fail(GLOBAL "[source   ]\nca = /x\n", 3, "without a name");
}

static void cfg_parse_buffer__invalid_source_name__rejected(void **state)
{
	char name[CFG_NAME_MAX + 2], *conf;

	(void)state;
	memset(name, 'n', CFG_NAME_MAX + 1);
	name[CFG_NAME_MAX + 1] = '\0';
	conf = xasprintf(GLOBAL "[source %s]\nca = /x\n", name);
	expect_fail(conf, 3, "longer than 64");
	free(conf);
	expect_fail(GLOBAL "[source a/b]\n", 3, "invalid source name `a/b'");
	expect_fail(GLOBAL "[source a b]\n", 3, "invalid source name `a b'");
	expect_fail(GLOBAL "[source caf\xc3\xa9]\n", 3, "invalid source name");
	expect_fail(GLOBAL "[source a;b]\n", 3, "invalid source name `a;b'");
	expect_fail(GLOBAL "[source ..]\n", 3, "invalid source name `..'");
	expect_fail(GLOBAL "[source .]\n", 3, "invalid source name `.'");
}

static void cfg_parse_buffer__duplicate_source__rejected(void **state)
{
	(void)state;
	expect_fail(GLOBAL "[source a]\nca = /x\n[source b]\nca = /y\n[source a]\nca = /z\n", 7,
		    "duplicate source `a' (first at line 3)");
}

static void cfg_parse_buffer__source_without_ca__header_line(void **state)
{
	(void)state;
	expect_fail(GLOBAL "[source a]\nurl = http://x/a.crl\n\n[plugin]\n", 3, "[source a] has no `ca'");
	expect_fail(GLOBAL "[source a]\nca = /x\n[source b]\nurl = http://x/b.crl\n", 5, "[source b] has no `ca'");
	expect_fail(GLOBAL "[source b]\n", 3, "`ca'");
}

static void cfg_parse_buffer__missing_cache_dir__file_error(void **state)
{
	(void)state;
	expect_fail("[plugin]\nmissing = reject\n", 0, "missing `cache-dir' in [global]");
	expect_fail("", 0, "missing `cache-dir' in [global]");
	check_fail(NULL, 0, false, 0, "missing `cache-dir'");
}

/* --- keys -------------------------------------------------------------------------------- */

static void cfg_parse_buffer__fetcher_keys__parsed(void **state)
{
	static const char text[] = "[global]\ncache-dir = /var/lib/crlsync\ninterval = 2h\ntimeout = 15\n"
				   "max-size = 512K\nuser-agent = gw-7 (crlsync)\n"
				   "[source a]\nca = /x\ninterval = 10m\nmax-size = 1M\n[source b]\nca = /y\n";
	struct cfg *cfg = NULL;
	char err[512];

	(void)state;
	assert_true(cfg_parse_buffer("t.conf", text, strlen(text), false, &cfg, err, sizeof(err)));
	assert_int_equal(cfg->interval, 7200);
	assert_int_equal(cfg->timeout, 15);
	assert_int_equal(cfg->max_size, 512 * 1024);
	assert_string_equal(cfg->user_agent, "gw-7 (crlsync)");
	assert_int_equal(cfg_source_interval(cfg, &cfg->sources[0]), 600);
	assert_int_equal(cfg_source_max_size(cfg, &cfg->sources[0]), 1024 * 1024);
	assert_int_equal(cfg_source_interval(cfg, &cfg->sources[1]), 7200);
	assert_int_equal(cfg_source_max_size(cfg, &cfg->sources[1]), 512 * 1024);
	assert_ptr_equal(cfg_find_source(cfg, "b"), &cfg->sources[1]);
	assert_null(cfg_find_source(cfg, "c"));
	cfg_free(cfg);
}

static void cfg_parse_buffer__fetcher_defaults__documented_values(void **state)
{
	static const char text[] = "[global]\ncache-dir = /c\n";
	struct cfg *cfg = NULL;
	char err[512];

	(void)state;
	assert_true(cfg_parse_buffer("t.conf", text, strlen(text), false, &cfg, err, sizeof(err)));
	assert_int_equal(cfg->interval, 3600);
	assert_int_equal(cfg->timeout, 30);
	assert_int_equal(cfg->max_size, 64ULL << 20);
	assert_string_equal(cfg->user_agent, CFG_DEFAULT_USER_AGENT);
	cfg_free(cfg);
}

static void cfg_parse_buffer__fetcher_keys_bad__rejected(void **state)
{
	(void)state;
	expect_fail(GLOBAL "interval = 0\n", 3, "bad value `0' for `interval'");
	expect_fail(GLOBAL "timeout = -5\n", 3, "bad value `-5' for `timeout'");
	expect_fail(GLOBAL "max-size = 64X\n", 3, "bad value `64X' for `max-size'");
	expect_fail(GLOBAL "max-size = 99999999999999999999M\n", 3, "for `max-size'");
	expect_fail(GLOBAL "user-agent = caf\xc3\xa9\n", 3, "printable ASCII");
	expect_fail(GLOBAL "[source a]\nca = /x\ninterval = soon\n", 5, "bad value `soon' for `interval'");
	expect_fail(GLOBAL "interval = 1h\ninterval = 2h\n", 4, "duplicate key `interval'");
}

static void cfg_parse_buffer__management_keys__parsed(void **state)
{
	static const char a[] = "[global]\ncache-dir = /c\n[plugin]\nmanagement = unix:/run/openvpn/mgmt.sock\n";
	static const char b[] = "[global]\ncache-dir = /c\n[plugin]\nmanagement = 127.0.0.1:7505\nevict = no\n";
	static const char c[] = "[global]\ncache-dir = /c\n";
	struct cfg *cfg = NULL;
	char err[512];

	(void)state;
	assert_true(cfg_parse_buffer("t.conf", a, strlen(a), false, &cfg, err, sizeof(err)));
	assert_string_equal(cfg->management, "unix:/run/openvpn/mgmt.sock");
	assert_true(cfg_evict(cfg)); /* default yes when management is set */
	cfg_free(cfg);
	assert_true(cfg_parse_buffer("t.conf", b, strlen(b), false, &cfg, err, sizeof(err)));
	assert_false(cfg_evict(cfg));
	cfg_free(cfg);
	assert_true(cfg_parse_buffer("t.conf", c, strlen(c), false, &cfg, err, sizeof(err)));
	assert_null(cfg->management);
	assert_false(cfg_evict(cfg)); /* and no without it */
	cfg_free(cfg);
}

static void cfg_parse_buffer__management_bad__rejected(void **state)
{
	(void)state;
	expect_fail(GLOBAL "[plugin]\nmanagement = unix:relative.sock\n", 4, "absolute path");
	expect_fail(GLOBAL "[plugin]\nmanagement = 127.0.0.1\n", 4, "expected unix:/path or host:port");
	expect_fail(GLOBAL "[plugin]\nmanagement = 127.0.0.1:99999\n", 4, "bad port");
	expect_fail(GLOBAL "[plugin]\nevict = maybe\n", 4, "expected yes or no");
	expect_fail(GLOBAL "[plugin]\nmanagement-password = pw.txt\n", 4, "absolute path");
}

static void cfg_parse_buffer__strongswan_keys__parsed(void **state)
{
	static const char a[] = "[global]\ncache-dir = /c\n[strongswan]\nvici = unix:///var/run/charon.vici   ; a comment\n";
	static const char b[] = "[global]\ncache-dir = /c\n[strongswan]\nvici = unix:///run/x.vici\nload-scoped = yes\n";
	static const char c[] = "[global]\ncache-dir = /c\n";
	struct cfg *cfg = NULL;
	char err[512];

	(void)state;
	assert_true(cfg_parse_buffer("t.conf", a, strlen(a), false, &cfg, err, sizeof(err)));
	assert_string_equal(cfg->strongswan_vici, "unix:///var/run/charon.vici");
	assert_false(cfg->strongswan_load_scoped); /* default: scoped CRLs are not handed to charon */
	cfg_free(cfg);
	assert_true(cfg_parse_buffer("t.conf", b, strlen(b), false, &cfg, err, sizeof(err)));
	assert_string_equal(cfg->strongswan_vici, "unix:///run/x.vici");
	assert_true(cfg->strongswan_load_scoped);
	cfg_free(cfg);
	assert_true(cfg_parse_buffer("t.conf", c, strlen(c), false, &cfg, err, sizeof(err)));
	assert_null(cfg->strongswan_vici); /* no section: no charon */
	assert_false(cfg->strongswan_load_scoped);
	cfg_free(cfg);
}

static void cfg_parse_buffer__strongswan_bad__rejected(void **state)
{
	char long_path[300];

	(void)state;
	expect_fail(GLOBAL "[strongswan]\nvici = /run/charon.vici\n", 4, "must be unix:///absolute/path");
	expect_fail(GLOBAL "[strongswan]\nvici = unix:/run/charon.vici\n", 4, "must be unix:///absolute/path");
	expect_fail(GLOBAL "[strongswan]\nvici = unix://run/charon.vici\n", 4, "must be unix:///absolute/path");
	expect_fail(GLOBAL "[strongswan]\nvici = unix:///\n", 4, "must be unix:///absolute/path");
	expect_fail(GLOBAL "[strongswan]\nvici = tcp://127.0.0.1:4502\n", 4, "must be unix:///absolute/path");
	expect_fail(GLOBAL "[strongswan]\nvici =\n", 4, "must be unix:///absolute/path");
	expect_fail(GLOBAL "[strongswan]\nload-scoped = true\n", 4, "expected yes or no");
	expect_fail(GLOBAL "[strongswan]\nvici = unix:///a\nvici = unix:///b\n", 5, "vici");
	snprintf(long_path, sizeof(long_path), GLOBAL "[strongswan]\nvici = unix:///%0120d\n", 0);
	expect_fail(long_path, 4, "socket path longer than");
}

static void cfg_parse_size__suffixes__bytes(void **state)
{
	unsigned long long v = 0;

	(void)state;
	assert_true(cfg_parse_size("64M", &v));
	assert_int_equal(v, 64ULL << 20);
	assert_true(cfg_parse_size("1k", &v));
	assert_int_equal(v, 1024);
	assert_true(cfg_parse_size("100", &v));
	assert_int_equal(v, 100);
	assert_false(cfg_parse_size("", &v));
	assert_false(cfg_parse_size("M", &v));
	assert_false(cfg_parse_size("-1", &v));
	assert_false(cfg_parse_size("1MB", &v));
	assert_false(cfg_parse_size("18446744073709551615K", &v));
}

static void cfg_parse_buffer__unknown_key__names_key_and_section(void **state)
{
	(void)state;
	expect_fail("[global]\ncache-dir = /x\nintervall = 1h\n", 3, "unknown key `intervall' in [global]");
	expect_fail(GLOBAL "[plugin]\nfoo = bar\n", 4, "unknown key `foo' in [plugin]");
	expect_fail(GLOBAL "[source corp]\nca = /x\nuri = http://x/\n", 5, "unknown key `uri' in [source corp]");
	/* keys of another section */
	expect_fail(GLOBAL "url = http://x/\n", 3, "unknown key `url' in [global]");
	expect_fail(GLOBAL "[source a]\ncache-dir = /x\n", 4, "unknown key `cache-dir' in [source a]");
	expect_fail(GLOBAL "[source a]\ngrace = 1\n", 4, "unknown key `grace'");
	expect_fail(GLOBAL "[plugin]\nMissing = accept\n", 4, "Missing");
	/* planned keys are refused until they are implemented */
	
	expect_fail(GLOBAL "[source a]\nca = /x\ntimeout = 10\n", 5, "unknown key `timeout' in [source a]");
	expect_fail(GLOBAL "[plugin]\ninterval = 10\n", 4, "unknown key `interval' in [plugin]");
	expect_fail(GLOBAL "[strongswan]\nsocket = unix:///run/charon.vici\n", 4, "unknown key `socket' in [strongswan]");
	expect_fail(GLOBAL "[strongswan]\nurl = http://x/\n", 4, "unknown key `url' in [strongswan]");
	expect_fail(GLOBAL "[strongswan x]\nvici = unix:///run/charon.vici\n", 3, "unexpected name `x'");
}

static void cfg_parse_buffer__bad_value__names_value_and_key(void **state)
{
	(void)state;
	expect_fail(GLOBAL "[plugin]\nmissing = maybe\n", 4, "bad value `maybe' for `missing'");
	expect_fail(GLOBAL "[plugin]\nexpired = Reject\n", 4, "bad value `Reject' for `expired'");
	expect_fail(GLOBAL "[plugin]\nmissing =\n", 4, "bad value `' for `missing'");
	expect_fail(GLOBAL "[plugin]\ngrace = -1\n", 4, "bad value `-1' for `grace'");
	expect_fail(GLOBAL "[plugin]\ngrace = abc\n", 4, "bad value `abc' for `grace'");
	expect_fail(GLOBAL "[plugin]\ngrace = 9223372036854775808\n", 4, "bad value `9223372036854775808'");
	expect_fail(GLOBAL "[plugin]\ngrace = 106751991167301d\n", 4, "bad value `106751991167301d'");
	expect_fail(GLOBAL "[plugin]\ngrace =\n", 4, "`grace'");
	expect_fail(GLOBAL "[plugin]\ngrace = 1 h\n", 4, "`1 h'");
}

static void cfg_parse_buffer__duplicate_key__rejected(void **state)
{
	(void)state;
	expect_fail(GLOBAL "cache-dir = /y\n", 3, "duplicate key `cache-dir' in [global] (first at line 2)");
	expect_fail(GLOBAL "[plugin]\n[global]\ncache-dir = /y\n", 5, "duplicate key `cache-dir'");
	expect_fail(GLOBAL "[plugin]\ngrace = 1\ngrace = 2\n", 5, "duplicate key `grace' in [plugin]");
	expect_fail(GLOBAL "[plugin]\nmissing = accept\n[plugin]\nmissing = accept\n", 6, "duplicate key `missing'");
	expect_fail(GLOBAL "[plugin]\nexpired = accept\nexpired = reject\n", 5, "duplicate key `expired'");
	expect_fail(GLOBAL "[source a]\nca = /x\nca = /y\n", 5, "duplicate key `ca' in [source a] (first at line 4)");
}

static void cfg_parse_buffer__cache_dir_relative__rejected(void **state)
{
	(void)state;
	expect_fail("[global]\ncache-dir = var/lib/crlsync\n", 2, "`var/lib/crlsync'");
	expect_fail("[global]\ncache-dir = ./x\n", 2, "absolute");
	expect_fail("[global]\ncache-dir =\n", 2, "absolute");
}

static void cfg_parse_buffer__bad_url__rejected(void **state)
{
	(void)state;
	expect_fail(GLOBAL "[source a]\nca = /x\nurl =\n", 5, "empty `url'");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = ; nothing\n", 5, "empty `url'");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = pki.example.com/a.crl\n", 5, "`url' needs a scheme");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = http:/x/a.crl\n", 5, "scheme");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = ://x/a.crl\n", 5, "scheme");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = 1http://x/a.crl\n", 5, "scheme");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = http://\n", 5, "scheme");
}

static void cfg_parse_buffer__bad_url__credentials_not_echoed(void **state)
{
	const char conf[] = GLOBAL "[source a]\nca = /x\nurl = user:s3cret@host/a.crl\n";
	struct cfg *cfg = NULL;
	char err[512];

	(void)state;
	assert_false(cfg_parse_buffer("neg.conf", conf, strlen(conf), false, &cfg, err, sizeof(err)));
	assert_null(strstr(err, "s3cret"));
}

/* --- ca files ---------------------------------------------------------------------------- */

static void expect_ca_fail(const char *path, const char *word)
{
	char *conf = xasprintf(GLOBAL "[source a]\nurl = http://x/a.crl\nca = %s\n\n", path);

	expect_fail_ca(conf, 5, path); /* the `ca' line, and its path */
	expect_fail_ca(conf, 5, word);
	free(conf);
}

static void cfg_parse_buffer__ca_missing__strerror(void **state)
{
	(void)state;
	expect_ca_fail(fx.missing, "cannot read ca");
	expect_ca_fail(fx.missing, "No such file or directory");
}

static void cfg_parse_buffer__ca_directory__strerror(void **state)
{
	(void)state;
	expect_ca_fail(fx.cadir, "Is a directory");
}

/* Root reads any file, so the check runs as nobody in a child. */
static void cfg_parse_buffer__ca_unreadable__permission_denied(void **state)
{
	char conf[8192], want[8192];
	int status;
	pid_t pid;

	(void)state;
	snprintf(conf, sizeof(conf), GLOBAL "[source a]\nca = %s\n", fx.noread);
	snprintf(want, sizeof(want), "neg.conf line 4: cannot read ca `%s': Permission denied", fx.noread);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct cfg *cfg = NULL;
		char err[512] = "";
		bool ok;

		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(3);
		ok = cfg_parse_buffer("neg.conf", conf, strlen(conf), true, &cfg, err, sizeof(err));
		if (ok || cfg || strcmp(err, want) != 0) {
			fprintf(stderr, "child got: %s\n", err);
			cfg_free(cfg);
			_exit(1);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void cfg_parse_buffer__ca_not_pem__names_line_and_path(void **state)
{
	(void)state;
	expect_ca_fail(fx.notpem, "no PEM certificate in ca");
	expect_ca_fail(fx.encrypted, "no PEM certificate in ca");
	expect_ca_fail(fx.big_conf, "larger than");
}

static void cfg_parse_buffer__ca_empty__rejected(void **state)
{
	(void)state;
	expect_fail(GLOBAL "[source a]\nca =\n", 4, "empty `ca'");
}

/* --- files ------------------------------------------------------------------------------- */

static void cfg_load__missing_file__names_it_with_strerror(void **state)
{
	struct cfg *cfg = (struct cfg *)&fx;
	char err[512];
	char *want = xasprintf("%s: cannot open: No such file or directory", fx.missing);

	(void)state;
	assert_false(cfg_load(fx.missing, &cfg, err, sizeof(err)));
	assert_null(cfg);
	assert_string_equal(err, want);
	free(want);
}

static void cfg_load__directory__names_it_with_strerror(void **state)
{
	struct cfg *cfg = NULL;
	char err[512];
	char *want = xasprintf("%s: cannot read: Is a directory", fx.cadir);

	(void)state;
	assert_false(cfg_load(fx.cadir, &cfg, err, sizeof(err)));
	assert_null(cfg);
	assert_string_equal(err, want);
	free(want);
}

static void cfg_load__larger_than_cap__rejected(void **state)
{
	struct cfg *cfg = NULL;
	char err[512];

	(void)state;
	assert_false(cfg_load(fx.big_conf, &cfg, err, sizeof(err)));
	assert_null(cfg);
	assert_non_null(strstr(err, fx.big_conf));
	assert_non_null(strstr(err, "larger than 1048576 bytes"));
}

static void cfg_parse_buffer__larger_than_cap__rejected(void **state)
{
	size_t len = 1024 * 1024 + 1;
	char *big = malloc(len);

	(void)state;
	assert_non_null(big);
	memset(big, '\n', len);
	check_fail(big, len, false, 0, "larger than");
	free(big);
}

static void cfg_load__ca_error__reported_with_path_and_line(void **state)
{
	char *text = xasprintf(GLOBAL "[source a]\nca = %s\n", fx.notpem);
	struct cfg *cfg = NULL;
	char err[512];
	char *want = xasprintf("%s line 4: no PEM certificate in ca `%s'", fx.good_conf, fx.notpem);
	FILE *f = fopen(fx.good_conf, "w");

	(void)state;
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_false(cfg_load(fx.good_conf, &cfg, err, sizeof(err)));
	assert_null(cfg);
	assert_string_equal(err, want);
	free(want);
	free(text);
}

static void cfg_parse_buffer__small_err_buffer__truncated_not_overrun(void **state)
{
	const char conf[] = "[global]\ncache-dir = /x\nintervall = 1h\n";
	struct cfg *cfg = NULL;
	char err[12];

	(void)state;
	assert_false(cfg_parse_buffer("neg.conf", conf, strlen(conf), false, &cfg, err, sizeof(err)));
	assert_string_equal(err, "neg.conf li");
	assert_false(cfg_parse_buffer("neg.conf", conf, strlen(conf), false, &cfg, NULL, 0));
}

static void cfg_parse_buffer__control_chars__not_echoed(void **state)
{
	const char conf[] = "[global]\ncache-dir = /x\nbad\x1b[31mkey = 1\n";
	struct cfg *cfg = NULL;
	char err[512];

	(void)state;
	assert_false(cfg_parse_buffer("neg.conf", conf, strlen(conf), false, &cfg, err, sizeof(err)));
	assert_null(strchr(err, '\x1b'));
	assert_non_null(strstr(err, "bad?[31mkey"));
}

/* --- overrides --------------------------------------------------------------------------- */

static void cfg_apply_override__plugin_keys__applied(void **state)
{
	struct cfg *cfg;
	char err[256] = "";

	(void)state;
	cfg = expect_ok(GLOBAL, false);
	assert_true(cfg_apply_override(cfg, "missing=accept", err, sizeof(err)));
	assert_true(cfg_apply_override(cfg, "expired=accept", err, sizeof(err)));
	assert_true(cfg_apply_override(cfg, "grace=2h", err, sizeof(err)));
	assert_int_equal(cfg->missing, CFG_ACCEPT);
	assert_int_equal(cfg->expired, CFG_ACCEPT);
	assert_int_equal(cfg->grace, 7200);
	assert_true(cfg_apply_override(cfg, "missing=reject", err, sizeof(err)));
	assert_int_equal(cfg->missing, CFG_REJECT);
	assert_true(cfg_apply_override(cfg, "grace=0", err, sizeof(err)));
	assert_int_equal(cfg->grace, 0);
	cfg_free(cfg);
}

static void expect_override_fail(struct cfg *cfg, const char *kv, const char *want)
{
	char err[256] = "";

	if (cfg_apply_override(cfg, kv, err, sizeof(err)))
		fail_msg("override `%s' accepted", kv);
	if (!strstr(err, want))
		fail_msg("override `%s': error `%s' does not mention `%s'", kv, err, want);
}

static void cfg_apply_override__bad__rejected_cfg_unchanged(void **state)
{
	struct cfg *cfg;
	char err[256];

	(void)state;
	cfg = expect_ok(GLOBAL "[plugin]\nmissing = accept\ngrace = 90\n", false);
	assert_false(cfg_apply_override(cfg, "foo=bar", err, sizeof(err)));
	assert_string_equal(err, "plugin argument `foo=bar': unknown key `foo'");
	expect_override_fail(cfg, "grace", "plugin argument `grace': expected key=value");
	expect_override_fail(cfg, "", "expected key=value");
	expect_override_fail(cfg, "=1", "unknown key `'");
	expect_override_fail(cfg, "grace =1", "unknown key `grace '");
	expect_override_fail(cfg, "GRACE=1", "unknown key `GRACE'");
	expect_override_fail(cfg, "cache-dir=/tmp", "unknown key `cache-dir'");
	expect_override_fail(cfg, "url=http://x/", "unknown key `url'");
	expect_override_fail(cfg, "ca=/x", "unknown key `ca'");
	expect_override_fail(cfg, "grace=-1", "plugin argument `grace=-1': bad value `-1' for `grace'");
	expect_override_fail(cfg, "grace=", "bad value `' for `grace'");
	expect_override_fail(cfg, "missing=maybe", "bad value `maybe' for `missing'");
	expect_override_fail(cfg, "expired=", "bad value `' for `expired'");
	/* nothing above changed anything */
	assert_int_equal(cfg->missing, CFG_ACCEPT);
	assert_int_equal(cfg->expired, CFG_REJECT);
	assert_int_equal(cfg->grace, 90);
	assert_string_equal(cfg->cache_dir, "/var/lib/crlsync");
	cfg_free(cfg);
}

/* --- values ------------------------------------------------------------------------------ */

static void cfg_parse_seconds__valid__converted(void **state)
{
	static const struct {
		const char *s;
		long long v;
	} ok[] = {
		{ "0", 0 },
		{ "90", 90 },
		{ "90s", 90 },
		{ "15m", 900 },
		{ "2h", 7200 },
		{ "1d", 86400 },
		{ "007", 7 },
		{ "0d", 0 },
		{ "9223372036854775807", 9223372036854775807LL },
		{ "9223372036854775807s", 9223372036854775807LL },
		{ "106751991167300d", 106751991167300LL * 86400 },
		{ "153722867280912930m", 153722867280912930LL * 60 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		long long v = -42;

		if (!cfg_parse_seconds(ok[i].s, &v))
			fail_msg("`%s' rejected", ok[i].s);
		assert_int_equal(v, ok[i].v);
	}
}

static void cfg_parse_seconds__invalid__rejected_out_untouched(void **state)
{
	static const char *bad[] = {
		"", "-1", "+1", " 1", "1 ", "s", "m", "1x", "1ms", "1ss", "1.5h", "0x10", "1H", "1D", "abc",
		"9223372036854775808", "99999999999999999999999", "106751991167301d", "153722867280912931m",
		"2562047788015216h", "1\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long long v = -42;

		if (cfg_parse_seconds(bad[i], &v))
			fail_msg("`%s' accepted as %lld", bad[i], v);
		assert_int_equal(v, -42);
	}
	assert_false(cfg_parse_seconds(NULL, NULL));
}

static void cfg_parse_action__words__parsed(void **state)
{
	enum cfg_action a = CFG_ACCEPT;

	(void)state;
	assert_true(cfg_parse_action("reject", &a));
	assert_int_equal(a, CFG_REJECT);
	assert_true(cfg_parse_action("accept", &a));
	assert_int_equal(a, CFG_ACCEPT);
	assert_false(cfg_parse_action("Reject", &a));
	assert_false(cfg_parse_action("", &a));
	assert_false(cfg_parse_action("accept ", &a));
	assert_false(cfg_parse_action("maybe", &a));
	assert_false(cfg_parse_action(NULL, &a));
	assert_int_equal(a, CFG_ACCEPT);
	assert_string_equal(cfg_action_str(CFG_REJECT), "reject");
	assert_string_equal(cfg_action_str(CFG_ACCEPT), "accept");
	assert_string_equal(cfg_action_str((enum cfg_action)7), "invalid");
}

static void cfg_free__null__no_op(void **state)
{
	(void)state;
	cfg_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cfg_load__good_file__every_value_parsed),
		cmocka_unit_test(cfg_parse_buffer__minimal__defaults_reject_reject_zero),
		cmocka_unit_test(cfg_parse_buffer__no_load_cas__path_kept_ca_null),
		cmocka_unit_test(cfg_parse_buffer__bom_crlf_colon_comments__accepted),
		cmocka_unit_test(cfg_parse_buffer__split_global_and_plugin__merged),
		cmocka_unit_test(cfg_parse_buffer__name_of_64__kept_whole),
		cmocka_unit_test(cfg_parse_buffer__line_of_199__accepted),
		cmocka_unit_test(cfg_parse_buffer__line_of_200__too_long),
		cmocka_unit_test(cfg_parse_buffer__nul_byte__rejected),
		cmocka_unit_test(cfg_parse_buffer__indented_key__rejected),
		cmocka_unit_test(cfg_parse_buffer__syntax_errors__line_and_reason),
		cmocka_unit_test(cfg_parse_buffer__two_errors__first_reported),
		cmocka_unit_test(cfg_parse_buffer__unknown_section__rejected),
		cmocka_unit_test(cfg_parse_buffer__strongswan_keys__parsed),
		cmocka_unit_test(cfg_parse_buffer__strongswan_bad__rejected),
		cmocka_unit_test(cfg_parse_buffer__source_without_name__rejected),
		cmocka_unit_test(cfg_parse_buffer__invalid_source_name__rejected),
		cmocka_unit_test(cfg_parse_buffer__duplicate_source__rejected),
		cmocka_unit_test(cfg_parse_buffer__source_without_ca__header_line),
		cmocka_unit_test(cfg_parse_buffer__missing_cache_dir__file_error),
		cmocka_unit_test(cfg_parse_buffer__unknown_key__names_key_and_section),
		cmocka_unit_test(cfg_parse_buffer__fetcher_keys__parsed),
		cmocka_unit_test(cfg_parse_buffer__fetcher_defaults__documented_values),
		cmocka_unit_test(cfg_parse_buffer__fetcher_keys_bad__rejected),
		cmocka_unit_test(cfg_parse_size__suffixes__bytes),
		cmocka_unit_test(cfg_parse_buffer__management_keys__parsed),
		cmocka_unit_test(cfg_parse_buffer__management_bad__rejected),
		cmocka_unit_test(cfg_parse_buffer__bad_value__names_value_and_key),
		cmocka_unit_test(cfg_parse_buffer__duplicate_key__rejected),
		cmocka_unit_test(cfg_parse_buffer__cache_dir_relative__rejected),
		cmocka_unit_test(cfg_parse_buffer__bad_url__rejected),
		cmocka_unit_test(cfg_parse_buffer__bad_url__credentials_not_echoed),
		cmocka_unit_test(cfg_parse_buffer__ca_missing__strerror),
		cmocka_unit_test(cfg_parse_buffer__ca_directory__strerror),
		cmocka_unit_test(cfg_parse_buffer__ca_unreadable__permission_denied),
		cmocka_unit_test(cfg_parse_buffer__ca_not_pem__names_line_and_path),
		cmocka_unit_test(cfg_parse_buffer__ca_empty__rejected),
		cmocka_unit_test(cfg_load__missing_file__names_it_with_strerror),
		cmocka_unit_test(cfg_load__directory__names_it_with_strerror),
		cmocka_unit_test(cfg_load__larger_than_cap__rejected),
		cmocka_unit_test(cfg_parse_buffer__larger_than_cap__rejected),
		cmocka_unit_test(cfg_load__ca_error__reported_with_path_and_line),
		cmocka_unit_test(cfg_parse_buffer__small_err_buffer__truncated_not_overrun),
		cmocka_unit_test(cfg_parse_buffer__control_chars__not_echoed),
		cmocka_unit_test(cfg_apply_override__plugin_keys__applied),
		cmocka_unit_test(cfg_apply_override__bad__rejected_cfg_unchanged),
		cmocka_unit_test(cfg_parse_seconds__valid__converted),
		cmocka_unit_test(cfg_parse_seconds__invalid__rejected_out_untouched),
		cmocka_unit_test(cfg_parse_action__words__parsed),
		cmocka_unit_test(cfg_free__null__no_op),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
