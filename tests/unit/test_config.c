/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of lib/config.c: a good file, every error with its file, line and word, overrides, durations. */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
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
	char fifo[4200], pw_root[4200];
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
	P(fifo, "fifo");
	P(pw_root, "mgmt.pass");
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
	if (mkfifo(fx.fifo, 0644) != 0) /* no writer ever: open() without O_NONBLOCK would block */
		return -1;
	write_file(fx.pw_root, "root-only\n", NULL, NULL);
	chmod(fx.pw_root, 0600);
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

/*
 * Runs fn(arg) in a child, as nobody when `as_nobody` (root reads any file), and requires it to
 * return true within 10 s: a call that blocks (open() of a FIFO) fails the test, it does not hang the run.
 */
static void in_child(bool (*fn)(const void *arg), const void *arg, bool as_nobody)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(10);
		if (as_nobody && geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(3);
		_exit(fn(arg) ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("the child was killed by signal %d (%s)", WTERMSIG(status),
			 WTERMSIG(status) == SIGALRM ? "blocked for 10 s" : "crash");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Writes `len` bytes to a new file of fx.dir; returns its path (caller frees). */
static char *write_bytes(const char *leaf, const void *data, size_t len)
{
	char *path = xasprintf("%s/%s", fx.dir, leaf);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	return path;
}

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
			 "url = FILE:///srv/pki/root.crl\n",                          /* 18 */
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
	assert_string_equal(cfg->global.cache_dir, "/var/lib/crlsync");
	assert_int_equal(cfg->plugin.missing, CFG_ACCEPT);
	assert_int_equal(cfg->plugin.expired, CFG_ACCEPT);
	assert_int_equal(cfg->plugin.grace, 900);
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
	assert_string_equal(cfg->sources[1].urls[1], "FILE:///srv/pki/root.crl"); /* schemes ignore case */
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
	assert_int_equal(cfg->plugin.missing, CFG_REJECT);
	assert_int_equal(cfg->plugin.expired, CFG_REJECT);
	assert_int_equal(cfg->plugin.grace, 0);
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
	assert_string_equal(cfg->global.cache_dir, "/var/cache/crlsync");
	assert_int_equal(cfg->plugin.grace, 86400);
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
	assert_int_equal(cfg->plugin.missing, CFG_ACCEPT);
	assert_int_equal(cfg->plugin.expired, CFG_ACCEPT);
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

		assert_int_equal(strlen(cfg->global.cache_dir), 199 - strlen("cache-dir = "));
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

/* cache-dir/.NAME.crl is hidden: the installer's temp files and the lock look alike, the plugin skips it. */
static void cfg_parse_buffer__source_name_leading_dot__rejected(void **state)
{
	struct cfg *cfg;

	(void)state;
	expect_fail(GLOBAL "[source .hidden]\nca = /x\n", 3, "invalid source name `.hidden' (must not start with `.')");
	expect_fail(GLOBAL "[source .crlsync.lock]\nca = /x\n", 3, "must not start with `.'");
	expect_fail(GLOBAL "[source ...]\nca = /x\n", 3, "must not start with `.'");
	/* the twin: a dot elsewhere is fine */
	cfg = expect_ok(GLOBAL "[source a.b.]\nca = /x\n[source a..b]\nca = /y\n", false);
	assert_string_equal(cfg->sources[0].name, "a.b.");
	assert_string_equal(cfg->sources[1].name, "a..b");
	cfg_free(cfg);
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
	assert_int_equal(cfg->global.interval, 7200);
	assert_int_equal(cfg->global.timeout, 15);
	assert_int_equal(cfg->global.max_size, 512 * 1024);
	assert_string_equal(cfg->global.user_agent, "gw-7 (crlsync)");
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
	assert_int_equal(cfg->global.interval, 3600);
	assert_int_equal(cfg->global.timeout, 30);
	assert_int_equal(cfg->global.max_size, 64ULL << 20);
	assert_string_equal(cfg->global.user_agent, CFG_DEFAULT_USER_AGENT);
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

/* libcurl refuses CURLOPT_TIMEOUT above INT_MAX/1000 s, and only when the fetch starts. */
static void cfg_parse_buffer__timeout_over_a_day__rejected(void **state)
{
	struct cfg *cfg;

	(void)state;
	expect_fail(GLOBAL "timeout = 86401\n", 3, "bad value `86401' for `timeout' (at most 86400 s, 1d)");
	expect_fail(GLOBAL "timeout = 2147484\n", 3, "at most 86400 s"); /* INT_MAX/1000 + 1 */
	expect_fail(GLOBAL "timeout = 25d\n", 3, "at most 86400 s");
	expect_fail(GLOBAL "timeout = 9223372036854775807\n", 3, "for `timeout'");
	/* the twins: the largest accepted */
	cfg = expect_ok(GLOBAL "timeout = 1d\n", false);
	assert_int_equal(cfg->global.timeout, CFG_TIMEOUT_MAX);
	assert_int_equal(cfg->global.timeout, 86400);
	cfg_free(cfg);
	cfg = expect_ok(GLOBAL "timeout = 86400s\n", false);
	assert_int_equal(cfg->global.timeout, 86400);
	cfg_free(cfg);
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
	assert_string_equal(cfg->plugin.management, "unix:/run/openvpn/mgmt.sock");
	assert_true(cfg_evict(cfg)); /* default yes when management is set */
	cfg_free(cfg);
	assert_true(cfg_parse_buffer("t.conf", b, strlen(b), false, &cfg, err, sizeof(err)));
	assert_false(cfg_evict(cfg));
	cfg_free(cfg);
	assert_true(cfg_parse_buffer("t.conf", c, strlen(c), false, &cfg, err, sizeof(err)));
	assert_null(cfg->plugin.management);
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
	assert_string_equal(cfg->strongswan.vici, "unix:///var/run/charon.vici");
	assert_false(cfg->strongswan.load_scoped); /* default: scoped CRLs are not handed to charon */
	cfg_free(cfg);
	assert_true(cfg_parse_buffer("t.conf", b, strlen(b), false, &cfg, err, sizeof(err)));
	assert_string_equal(cfg->strongswan.vici, "unix:///run/x.vici");
	assert_true(cfg->strongswan.load_scoped);
	cfg_free(cfg);
	assert_true(cfg_parse_buffer("t.conf", c, strlen(c), false, &cfg, err, sizeof(err)));
	assert_null(cfg->strongswan.vici); /* no section: no charon */
	assert_false(cfg->strongswan.load_scoped);
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
	static const char *const confs[] = {
		GLOBAL "[source a]\nca = /x\nurl = user:s3cret@host/a.crl\n",
		GLOBAL "[source a]\nca = /x\nurl = ftp://user:s3cret@host/a.crl\n",
		GLOBAL "[source a]\nca = /x\nurl = http://user:s3cret@host/a.crl http://b/c.crl\n",
		GLOBAL "[source a]\nca = /x\nurl = http://user:s3cret@host/a\x01.crl\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
		struct cfg *cfg = NULL;
		char err[512];

		assert_false(cfg_parse_buffer("neg.conf", confs[i], strlen(confs[i]), false, &cfg, err, sizeof(err)));
		if (strstr(err, "s3cret") || strstr(err, "user"))
			fail_msg("credentials echoed: %s", err);
	}
}

/* The fetcher allows http, https and file only (DL_PROTOCOLS): anything else would fail at every fetch. */
static void cfg_parse_buffer__url_scheme_not_allowed__rejected(void **state)
{
	struct cfg *cfg;

	(void)state;
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = ldap://ldap.example.com/cn=Root?crl\n", 5,
		    "unsupported scheme `ldap' in `url' (expected http, https or file)");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = ftp://x/a.crl\n", 5, "unsupported scheme `ftp'");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = httpx://x/a.crl\n", 5, "unsupported scheme `httpx'");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = http+unix://x/a.crl\n", 5, "unsupported scheme `http+unix'");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = htt://x/a.crl\n", 5, "unsupported scheme `htt'");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = http://x/a.crl\nurl = gopher://x/1\n", 6, "`gopher'");
	/* the twins: every allowed scheme, in any case */
	cfg = expect_ok(GLOBAL "[source a]\nca = /x\nurl = http://x/a.crl\nurl = HTTPS://x/a.crl\n"
			       "url = file:///srv/a.crl\nurl = Http://u:p@x:8080/a.crl?x=1#f\n",
			false);
	assert_int_equal(cfg->sources[0].n_urls, 4);
	assert_string_equal(cfg->sources[0].urls[1], "HTTPS://x/a.crl");
	assert_string_equal(cfg->sources[0].urls[3], "Http://u:p@x:8080/a.crl?x=1#f");
	cfg_free(cfg);
}

/*
 * `delta-url' (issue 14): repeatable like `url', kept apart from it and in file order, with the same
 * checks (a delta is fetched with the same mirrors logic, crlsync.conf(5)).
 */
static void cfg_parse_buffer__delta_url__repeatable_apart_from_url(void **state)
{
	struct cfg *cfg;

	(void)state;
	cfg = expect_ok(GLOBAL "[source a]\nca = /x\nurl = http://x/a.crl\ndelta-url = http://x/a%2B.crl\n"
			       "delta-url = https://y/a+.crl\n",
			false);
	assert_int_equal(cfg->sources[0].n_urls, 1);
	assert_int_equal(cfg->sources[0].n_delta_urls, 2);
	assert_string_equal(cfg->sources[0].delta_urls[0], "http://x/a%2B.crl");
	assert_string_equal(cfg->sources[0].delta_urls[1], "https://y/a+.crl");
	cfg_free(cfg);
	/* none: the base's FreshestCRL decides */
	cfg = expect_ok(GLOBAL "[source a]\nca = /x\nurl = http://x/a.crl\n", false);
	assert_int_equal(cfg->sources[0].n_delta_urls, 0);
	assert_null(cfg->sources[0].delta_urls);
	cfg_free(cfg);
	/* the negative twins: the same checks as `url', naming the key */
	expect_fail(GLOBAL "[source a]\nca = /x\ndelta-url = ldap://x/cn=a?crl\n", 5, "unsupported scheme `ldap' in `delta-url'");
	expect_fail(GLOBAL "[source a]\nca = /x\ndelta-url = http://a/b http://c/d\n", 5,
		    "whitespace or control character in `delta-url'");
	expect_fail(GLOBAL "[plugin]\ndelta-url = http://x/a.crl\n", 4, "delta-url");
}

/* A URL holds no whitespace: what is left after it on the line, if not a comment, is refused. */
static void cfg_parse_buffer__url_with_trailing_text__rejected(void **state)
{
	struct cfg *cfg;

	(void)state;
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = http://a/b http://c/d\n", 5,
		    "whitespace or control character in `url' (one URL per line)");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = http://a/b\x01\n", 5, "control character");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = http://a/b\x7f\n", 5, "control character");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = http://a/b\vc\n", 5, "control character");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = http://a /b\n", 5, "whitespace");
	/* the twins: a comment after whitespace is a comment, trailing blanks are stripped */
	cfg = expect_ok(GLOBAL "[source a]\nca = /x\nurl = http://a/b ; mirror\nurl = http://c/d;x   \n", false);
	assert_string_equal(cfg->sources[0].urls[0], "http://a/b");
	assert_string_equal(cfg->sources[0].urls[1], "http://c/d;x");
	cfg_free(cfg);
}

/*
 * One comment rule for every key: `;' or `#' after whitespace (or first in a value) starts a comment,
 * inside a word it is text. Before, `# mirror' was refused after a url and kept in a user-agent.
 */
static void cfg_parse_buffer__inline_comment__same_for_every_key(void **state)
{
	struct cfg *cfg;

	(void)state;
	cfg = expect_ok(GLOBAL "user-agent = gw-7 # the label\non-install = logger -t crlsync installed\t# log it\n"
			       "metrics-file = /run/m.prom ;x\n[plugin] # policy\nmissing = accept # yes\n"
			       "expired = accept\t;yes\n[source a]   ; the first\nca = /x.pem # its CA\n"
			       "url = http://a/b # mirror\nurl = http://c/d\t#x\nurl = http://e/f#frag ; with a fragment\n",
			false);
	assert_string_equal(cfg->global.user_agent, "gw-7");
	assert_string_equal(cfg->global.on_install, "logger -t crlsync installed");
	assert_string_equal(cfg->global.metrics_file, "/run/m.prom");
	assert_int_equal(cfg->plugin.missing, CFG_ACCEPT);
	assert_int_equal(cfg->plugin.expired, CFG_ACCEPT);
	assert_string_equal(cfg->sources[0].ca_path, "/x.pem");
	assert_int_equal(cfg->sources[0].n_urls, 3);
	assert_string_equal(cfg->sources[0].urls[0], "http://a/b");
	assert_string_equal(cfg->sources[0].urls[1], "http://c/d");
	assert_string_equal(cfg->sources[0].urls[2], "http://e/f#frag");
	cfg_free(cfg);

	/* the twins: inside a word both are text, in every key */
	cfg = expect_ok(GLOBAL "user-agent = gw#7;x\non-install = a;b#c\n", false);
	assert_string_equal(cfg->global.user_agent, "gw#7;x");
	assert_string_equal(cfg->global.on_install, "a;b#c");
	cfg_free(cfg);
	expect_fail(GLOBAL "[plugin]\nmissing = accept#x\n", 4, "bad value `accept#x' for `missing'");
	expect_fail(GLOBAL "[plugin]\nmissing = accept;x\n", 4, "bad value `accept;x' for `missing'");

	/* a comment where the value should be leaves it empty, and empty is refused where it is */
	expect_fail(GLOBAL "user-agent = # none\n", 3, "empty `user-agent'");
	expect_fail(GLOBAL "user-agent =; none\n", 3, "empty `user-agent'");
	expect_fail(GLOBAL "[source a]\nca = /x\nurl = #http://a/b\n", 5, "empty `url'");
	/* and in a key or a header it cuts the line short */
	expect_fail(GLOBAL "[plugin]\nmissing # = accept\n", 4, "key = value");
	expect_fail(GLOBAL "[plugin #]\n", 3, "`]'");
	expect_fail(GLOBAL "[plugin] x # y\n", 3, "unexpected text `x # y'");
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

/* A FIFO or a device as `ca' would block OpenVPN's startup (open) or never end (read): refused at once. */
static bool ca_fifo_refused(const void *arg)
{
	char *conf = xasprintf(GLOBAL "[source a]\nurl = http://x/a.crl\nca = %s\n", fx.fifo);
	char *want = xasprintf("neg.conf line 5: cannot read ca `%s': a FIFO, not a regular file", fx.fifo);
	struct cfg *cfg = NULL;
	char err[512] = "";
	bool ok;

	(void)arg;
	ok = !cfg_parse_buffer("neg.conf", conf, strlen(conf), true, &cfg, err, sizeof(err)) && !cfg &&
	     strcmp(err, want) == 0;
	if (!ok)
		fprintf(stderr, "child got: %s\n", err);
	cfg_free(cfg);
	free(conf);
	free(want);
	return ok;
}

static void cfg_parse_buffer__ca_fifo__refused_without_blocking(void **state)
{
	(void)state;
	in_child(ca_fifo_refused, NULL, false);
}

static void cfg_parse_buffer__ca_device__refused(void **state)
{
	(void)state;
	expect_ca_fail("/dev/zero", "cannot read ca `/dev/zero': a character device, not a regular file");
	expect_ca_fail("/dev/null", "a character device, not a regular file");
	/* the twin: a regular file with a certificate */
	{
		char *conf = xasprintf(GLOBAL "[source a]\nurl = http://x/a.crl\nca = %s\n", fx.ca1);
		struct cfg *cfg = expect_ok(conf, true);

		assert_non_null(cfg->sources[0].ca);
		cfg_free(cfg);
		free(conf);
	}
}

/* --- management-password: recorded by the parser, read by cfg_read_secret() ------------------- */

/* The fetcher (its own user) and the plugin's unprivileged reopen load the same file. */
static bool password_root_only_not_read(const void *arg)
{
	char *conf = xasprintf(GLOBAL "[plugin]\nmanagement = 127.0.0.1:7505\nmanagement-password = %s\n"
				      "[source a]\nca = %s\n",
			       fx.pw_root, fx.ca1);
	struct cfg *cfg = NULL;
	char err[512] = "";
	bool ok;

	(void)arg;
	ok = cfg_parse_buffer("ok.conf", conf, strlen(conf), true, &cfg, err, sizeof(err));
	if (!ok)
		fprintf(stderr, "child got: %s\n", err);
	ok = ok && cfg->plugin.management_password == NULL && cfg->plugin.management_password_path != NULL &&
	     strcmp(cfg->plugin.management_password_path, fx.pw_root) == 0;
	cfg_free(cfg);
	free(conf);
	return ok;
}

static void cfg_parse_buffer__management_password_root_only__path_kept_file_not_read(void **state)
{
	char *conf;
	struct cfg *cfg;

	(void)state;
	/* as nobody, with a 0600 root file (in a 0700 directory): loads, reads nothing */
	chmod(fx.dir, 0711);
	in_child(password_root_only_not_read, NULL, true);
	chmod(fx.dir, 0700);
	/* a file that does not exist is the plugin's business, when it starts */
	conf = xasprintf(GLOBAL "[plugin]\nmanagement-password = %s\n", fx.missing);
	cfg = expect_ok(conf, true);
	assert_string_equal(cfg->plugin.management_password_path, fx.missing);
	assert_null(cfg->plugin.management_password);
	cfg_free(cfg);
	free(conf);
}

static void expect_override_fail(struct cfg *cfg, const char *kv, const char *want);

static void cfg_apply_override__management_password__path_only(void **state)
{
	struct cfg *cfg;
	char err[256] = "";

	(void)state;
	cfg = expect_ok(GLOBAL, false);
	if (!cfg_apply_override(cfg, "management-password=/nonexistent/mgmt.pass", err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(cfg->plugin.management_password_path, "/nonexistent/mgmt.pass");
	assert_null(cfg->plugin.management_password);
	expect_override_fail(cfg, "management-password=mgmt.pass", "absolute path");
	assert_string_equal(cfg->plugin.management_password_path, "/nonexistent/mgmt.pass");
	cfg_free(cfg);
}

/* Reads `path` with cfg_read_secret() and checks the result: `want` (NULL: an error containing `word`). */
static void expect_secret(const char *path, const char *want, size_t wantlen, int wantrc, const char *word)
{
	char err[512], *pw = (char *)&fx;
	size_t len = 42;
	int rc;

	memset(err, 'x', sizeof(err));
	rc = cfg_read_secret(path, &pw, &len, err, sizeof(err));
	if (want) {
		if (rc != 0)
			fail_msg("%s: %d %s", path, rc, err);
		assert_non_null(pw);
		assert_int_equal(len, wantlen);
		assert_memory_equal(pw, want, wantlen);
		assert_int_equal(pw[len], '\0'); /* a string, whatever the file held */
		assert_int_equal(strlen(pw), len);
		cfg_secret_free(pw, len);
		return;
	}
	if (rc == 0)
		fail_msg("%s: accepted (%zu bytes)", path, len);
	assert_int_equal(rc, wantrc);
	assert_null(pw);
	assert_int_equal(len, 0);
	if (!strstr(err, path) || !strstr(err, word))
		fail_msg("error `%s' does not name `%s' and `%s'", err, path, word);
	assert_null(strchr(err, '\n'));
}

/* `echo -n secret > mgmt.pass`: once a heap over-read and a 1-byte overflow in OpenVPN's root process. */
static void cfg_read_secret__no_trailing_newline__whole_file(void **state)
{
	char *path = write_bytes("pw-nonl", "s3cret", 6);

	(void)state;
	expect_secret(path, "s3cret", 6, 0, NULL);
	free(path);
	path = write_bytes("pw-one", "x", 1);
	expect_secret(path, "x", 1, 0, NULL);
	free(path);
}

static void cfg_read_secret__exactly_4096_bytes__accepted(void **state)
{
	char buf[4097], *path;

	(void)state;
	memset(buf, 'p', sizeof(buf));
	path = write_bytes("pw-4096", buf, 4096);
	expect_secret(path, buf, 4096, 0, NULL);
	free(path);
	buf[4095] = '\n';
	path = write_bytes("pw-4095nl", buf, 4096);
	expect_secret(path, buf, 4095, 0, NULL);
	free(path);
}

static void cfg_read_secret__larger_than_4096__error_names_file(void **state)
{
	char buf[8192], *path;

	(void)state;
	memset(buf, 'p', sizeof(buf));
	buf[10] = '\n'; /* even with a short first line: the file is wrong */
	path = write_bytes("pw-4097", buf, 4097);
	expect_secret(path, NULL, 0, -EFBIG, "larger than 4096 bytes");
	free(path);
	path = write_bytes("pw-8192", buf, 8192);
	expect_secret(path, NULL, 0, -EFBIG, "larger than 4096 bytes");
	free(path);
}

static void cfg_read_secret__first_line__without_cr_lf(void **state)
{
	char *path = write_bytes("pw-crlf", "pw one\r\nsecond line\n", 21);

	(void)state;
	expect_secret(path, "pw one", 6, 0, NULL);
	free(path);
	path = write_bytes("pw-nl", "pw\n\0after\n", 10); /* a NUL past the first line is not the password */
	expect_secret(path, "pw", 2, 0, NULL);
	free(path);
}

static void cfg_read_secret__nul_or_empty__rejected(void **state)
{
	char *path = write_bytes("pw-nul", "s3\0cret\n", 8);

	(void)state;
	expect_secret(path, NULL, 0, -EINVAL, "NUL byte in its first line");
	free(path);
	path = write_bytes("pw-nul-end", "s3cret\0", 7);
	expect_secret(path, NULL, 0, -EINVAL, "NUL byte");
	free(path);
	path = write_bytes("pw-empty", "", 0);
	expect_secret(path, NULL, 0, -EINVAL, "holds no password on its first line");
	free(path);
	path = write_bytes("pw-emptyline", "\nsecond\n", 8);
	expect_secret(path, NULL, 0, -EINVAL, "holds no password");
	free(path);
}

static bool secret_fifo_refused(const void *arg)
{
	char *pw = NULL, err[512] = "";
	size_t len = 0;
	int rc;

	(void)arg;
	rc = cfg_read_secret(fx.fifo, &pw, &len, err, sizeof(err));
	if (rc != -EINVAL || pw || !strstr(err, "a FIFO, not a regular file")) {
		fprintf(stderr, "child got: %d %s\n", rc, err);
		return false;
	}
	return true;
}

static void cfg_read_secret__not_regular__refused(void **state)
{
	(void)state;
	in_child(secret_fifo_refused, NULL, false);
	expect_secret("/dev/zero", NULL, 0, -EINVAL, "a character device, not a regular file");
	expect_secret(fx.cadir, NULL, 0, -EISDIR, "Is a directory");
	expect_secret(fx.missing, NULL, 0, -ENOENT, "No such file or directory");
}

static bool secret_root_only_eacces(const void *arg)
{
	char *pw = NULL, err[512] = "", *want;
	size_t len = 0;
	bool ok;
	int rc;

	(void)arg;
	want = xasprintf("cannot read password file `%s': Permission denied", fx.pw_root);
	rc = cfg_read_secret(fx.pw_root, &pw, &len, err, sizeof(err));
	ok = rc == -EACCES && !pw && strcmp(err, want) == 0;
	if (!ok)
		fprintf(stderr, "child got: %d %s\n", rc, err);
	free(want);
	return ok;
}

/* The plugin tells "not readable by this user" (a reopen after the privilege drop) from the rest. */
static void cfg_read_secret__root_only_as_nobody__eacces(void **state)
{
	(void)state;
	chmod(fx.dir, 0711);
	in_child(secret_root_only_eacces, NULL, true);
	chmod(fx.dir, 0700);
	expect_secret(fx.pw_root, "root-only", 9, 0, NULL); /* the twin, as root */
	expect_secret("mgmt.pass", NULL, 0, -EINVAL, "not an absolute path");
	cfg_secret_free(NULL, 0);
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

static bool load_fifo_refused(const void *arg)
{
	char *want = xasprintf("%s: cannot read: a FIFO, not a regular file", fx.fifo);
	struct cfg *cfg = NULL;
	char err[512] = "";
	bool ok;

	(void)arg;
	ok = !cfg_load(fx.fifo, &cfg, err, sizeof(err)) && !cfg && strcmp(err, want) == 0;
	if (!ok)
		fprintf(stderr, "child got: %s\n", err);
	free(want);
	return ok;
}

static void cfg_load__not_regular__refused_without_blocking(void **state)
{
	struct cfg *cfg = NULL;
	char err[512];

	(void)state;
	in_child(load_fifo_refused, NULL, false);
	assert_false(cfg_load("/dev/null", &cfg, err, sizeof(err)));
	assert_null(cfg);
	assert_string_equal(err, "/dev/null: cannot read: a character device, not a regular file");
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
	assert_int_equal(cfg->plugin.missing, CFG_ACCEPT);
	assert_int_equal(cfg->plugin.expired, CFG_ACCEPT);
	assert_int_equal(cfg->plugin.grace, 7200);
	assert_true(cfg_apply_override(cfg, "missing=reject", err, sizeof(err)));
	assert_int_equal(cfg->plugin.missing, CFG_REJECT);
	assert_true(cfg_apply_override(cfg, "grace=0", err, sizeof(err)));
	assert_int_equal(cfg->plugin.grace, 0);
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
	assert_int_equal(cfg->plugin.missing, CFG_ACCEPT);
	assert_int_equal(cfg->plugin.expired, CFG_REJECT);
	assert_int_equal(cfg->plugin.grace, 90);
	assert_string_equal(cfg->global.cache_dir, "/var/lib/crlsync");
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
		cmocka_unit_test(cfg_parse_buffer__source_name_leading_dot__rejected),
		cmocka_unit_test(cfg_parse_buffer__duplicate_source__rejected),
		cmocka_unit_test(cfg_parse_buffer__source_without_ca__header_line),
		cmocka_unit_test(cfg_parse_buffer__missing_cache_dir__file_error),
		cmocka_unit_test(cfg_parse_buffer__unknown_key__names_key_and_section),
		cmocka_unit_test(cfg_parse_buffer__fetcher_keys__parsed),
		cmocka_unit_test(cfg_parse_buffer__fetcher_defaults__documented_values),
		cmocka_unit_test(cfg_parse_buffer__fetcher_keys_bad__rejected),
		cmocka_unit_test(cfg_parse_buffer__timeout_over_a_day__rejected),
		cmocka_unit_test(cfg_parse_size__suffixes__bytes),
		cmocka_unit_test(cfg_parse_buffer__management_keys__parsed),
		cmocka_unit_test(cfg_parse_buffer__management_bad__rejected),
		cmocka_unit_test(cfg_parse_buffer__bad_value__names_value_and_key),
		cmocka_unit_test(cfg_parse_buffer__duplicate_key__rejected),
		cmocka_unit_test(cfg_parse_buffer__cache_dir_relative__rejected),
		cmocka_unit_test(cfg_parse_buffer__bad_url__rejected),
		cmocka_unit_test(cfg_parse_buffer__bad_url__credentials_not_echoed),
		cmocka_unit_test(cfg_parse_buffer__url_scheme_not_allowed__rejected),
		cmocka_unit_test(cfg_parse_buffer__delta_url__repeatable_apart_from_url),
		cmocka_unit_test(cfg_parse_buffer__url_with_trailing_text__rejected),
		cmocka_unit_test(cfg_parse_buffer__inline_comment__same_for_every_key),
		cmocka_unit_test(cfg_parse_buffer__ca_missing__strerror),
		cmocka_unit_test(cfg_parse_buffer__ca_directory__strerror),
		cmocka_unit_test(cfg_parse_buffer__ca_unreadable__permission_denied),
		cmocka_unit_test(cfg_parse_buffer__ca_not_pem__names_line_and_path),
		cmocka_unit_test(cfg_parse_buffer__ca_empty__rejected),
		cmocka_unit_test(cfg_parse_buffer__ca_fifo__refused_without_blocking),
		cmocka_unit_test(cfg_parse_buffer__ca_device__refused),
		cmocka_unit_test(cfg_parse_buffer__management_password_root_only__path_kept_file_not_read),
		cmocka_unit_test(cfg_apply_override__management_password__path_only),
		cmocka_unit_test(cfg_read_secret__no_trailing_newline__whole_file),
		cmocka_unit_test(cfg_read_secret__exactly_4096_bytes__accepted),
		cmocka_unit_test(cfg_read_secret__larger_than_4096__error_names_file),
		cmocka_unit_test(cfg_read_secret__first_line__without_cr_lf),
		cmocka_unit_test(cfg_read_secret__nul_or_empty__rejected),
		cmocka_unit_test(cfg_read_secret__not_regular__refused),
		cmocka_unit_test(cfg_read_secret__root_only_as_nobody__eacces),
		cmocka_unit_test(cfg_load__not_regular__refused_without_blocking),
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
