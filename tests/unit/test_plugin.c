/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of plugin/plugin.c and plugin/watch-linux.c: OpenVPN's v3 entry points driven in-process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/pem.h>

#include <openvpn-plugin.h>

#include "persist.h"
#include "pki.h"

/*
 * The plugin is compiled into this program (see CMakeLists.txt), so its own code runs here under
 * ASan/UBSan and valgrind: argument handling, the watch thread, snapshot swaps, close. What OpenVPN
 * itself does with the verdicts is the integration suite's business (tests/integration).
 */

#define DAY (24L * 3600)
#define LINE_MAX_LEN 1400
#define HAMMER_SWAPS 50
#define HAMMER_CALLS 20000UL

/* ---- the fake OpenVPN logger: every line recorded, thread-safe ---- */

static int real_stderr = -1;          /* fd 2 as it was: fd 2 itself is captured (see capture_stderr) */
static atomic_ulong sync_seen;        /* the last sync marker the stderr reader has passed */

struct line {
	openvpn_plugin_log_flags_t flags;
	char *text; /* "crlsync: ..." as OpenVPN would print it */
};

static struct {
	pthread_mutex_t lock;
	struct line *lines;
	size_t n, cap;
	/* The hammer keeps decision lines out of the list: the thread-local copy below is enough. */
	atomic_bool drop_decisions;
	bool verbose;
} rec = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The last line logged by this thread: TLS_VERIFY logs on its caller's thread, before it returns. */
static _Thread_local char tl_line[LINE_MAX_LEN];
static _Thread_local unsigned long tl_seq;

static void fake_vlog(openvpn_plugin_log_flags_t flags, const char *name, const char *fmt, va_list ap)
{
	char text[LINE_MAX_LEN];
	int n = snprintf(text, sizeof(text), "%s: ", name ? name : "?");

	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	memcpy(tl_line, text, strlen(text) + 1);
	tl_seq++;
	if (rec.verbose)
		dprintf(real_stderr >= 0 ? real_stderr : 2, "  [plugin_log %#x] %s\n", (unsigned)flags, text);
	if (atomic_load(&rec.drop_decisions) && (strncmp(text + n, "OK ", 3) == 0 || strncmp(text + n, "REJECT ", 7) == 0))
		return;
	pthread_mutex_lock(&rec.lock);
	if (rec.n == rec.cap) {
		size_t nc = rec.cap ? rec.cap * 2 : 256;
		struct line *nl = realloc(rec.lines, nc * sizeof(*nl));

		if (nl == NULL)
			abort();
		rec.lines = nl;
		rec.cap = nc;
	}
	rec.lines[rec.n].flags = flags;
	rec.lines[rec.n].text = strdup(text);
	if (rec.lines[rec.n].text == NULL)
		abort();
	rec.n++;
	pthread_mutex_unlock(&rec.lock);
}

/*
 * The plugin's own threads may not call OpenVPN's logger (it is not thread-safe): they write
 * their lines to stderr. The test points fd 2 at a pipe, records those lines like plugin_log
 * ones (with every level flag, since the level is not in the text) and echoes all to the real stderr.
 */
static void record_thread_line(const char *text)
{
	pthread_mutex_lock(&rec.lock);
	if (rec.n == rec.cap) {
		size_t nc = rec.cap ? rec.cap * 2 : 256;
		struct line *nl = realloc(rec.lines, nc * sizeof(*nl));

		if (nl == NULL)
			abort();
		rec.lines = nl;
		rec.cap = nc;
	}
	rec.lines[rec.n].flags = PLOG_ERR | PLOG_WARN | PLOG_NOTE;
	rec.lines[rec.n].text = strdup(text);
	if (rec.lines[rec.n].text == NULL)
		abort();
	rec.n++;
	pthread_mutex_unlock(&rec.lock);
}

static void *stderr_reader(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[8192];
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		char *nl, *start = buf;

		if (n <= 0)
			break;
		if (real_stderr >= 0 && write(real_stderr, buf + len, (size_t)n) < 0)
			break; /* (the sync markers are echoed too: harmless) */
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = strchr(start, '\n')) != NULL) {
			const char *tag;

			*nl = '\0';
			if (strncmp(start, "crlsync-test-sync ", 18) == 0)
				atomic_store(&sync_seen, strtoul(start + 18, NULL, 10));
			else if ((tag = strstr(start, "crlsync: ")) != NULL)
				record_thread_line(tag);
			start = nl + 1;
		}
		len = strlen(start);
		memmove(buf, start, len);
		if (len == sizeof(buf) - 1)
			len = 0; /* an over-long line: drop it */
	}
	return NULL;
}

static void capture_stderr(void)
{
	pthread_t t;
	int pfd[2];

	if (pipe(pfd) != 0 || (real_stderr = dup(STDERR_FILENO)) < 0 || dup2(pfd[1], STDERR_FILENO) < 0)
		abort();
	close(pfd[1]);
	setvbuf(stderr, NULL, _IONBF, 0);
	if (pthread_create(&t, NULL, stderr_reader, (void *)(intptr_t)pfd[0]) != 0)
		abort();
	pthread_detach(t);
}

static void fake_log(openvpn_plugin_log_flags_t flags, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fake_log(openvpn_plugin_log_flags_t flags, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fake_vlog(flags, name, fmt, ap);
	va_end(ap);
}

static size_t log_mark(void)
{
	size_t n;

	pthread_mutex_lock(&rec.lock);
	n = rec.n;
	pthread_mutex_unlock(&rec.lock);
	return n;
}

/* A NULL-terminated list of substrings a line must all hold. */
#define NEEDLES(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* A line from `from` on that holds every needle and, when flags is not 0, one of those flags. */
static bool log_find_flags(size_t from, unsigned flags, const char *const *needles)
{
	bool found = false;

	pthread_mutex_lock(&rec.lock);
	for (size_t i = from; i < rec.n && !found; i++) {
		found = flags == 0 || (rec.lines[i].flags & flags) != 0;
		for (const char *const *nd = needles; found && *nd != NULL; nd++)
			found = strstr(rec.lines[i].text, *nd) != NULL;
	}
	pthread_mutex_unlock(&rec.lock);
	return found;
}

#define log_find(from, ...) log_find_flags((from), 0U, NEEDLES(__VA_ARGS__))

/* "`a' and `b'", for messages. */
static const char *needles_str(const char *const *needles)
{
	static char buf[1024];
	size_t o = 0;

	buf[0] = '\0';
	for (const char *const *nd = needles; *nd != NULL && o < sizeof(buf); nd++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s`%s'", nd == needles ? "" : " and ", *nd);
	return buf;
}

static size_t log_count(size_t from, const char *a)
{
	size_t k = 0;

	pthread_mutex_lock(&rec.lock);
	for (size_t i = from; i < rec.n; i++)
		k += strstr(rec.lines[i].text, a) != NULL;
	pthread_mutex_unlock(&rec.lock);
	return k;
}

static void log_dump(size_t from)
{
	pthread_mutex_lock(&rec.lock);
	dprintf(real_stderr >= 0 ? real_stderr : 2, "plugin log since line %zu:\n", from);
	for (size_t i = from; i < rec.n; i++)
		dprintf(real_stderr >= 0 ? real_stderr : 2, "  [%#x] %s\n", (unsigned)rec.lines[i].flags,
			rec.lines[i].text);
	pthread_mutex_unlock(&rec.lock);
}

static void log_clear(void)
{
	pthread_mutex_lock(&rec.lock);
	for (size_t i = 0; i < rec.n; i++)
		free(rec.lines[i].text);
	free(rec.lines);
	rec.lines = NULL;
	rec.n = rec.cap = 0;
	pthread_mutex_unlock(&rec.lock);
}

/*
 * Waits until every line the plugin's threads wrote to stderr so far has been recorded: a marker
 * written now comes out of the pipe after them.
 */
static void stderr_sync(void)
{
	static atomic_ulong seq;
	unsigned long n = atomic_fetch_add(&seq, 1) + 1;

	dprintf(STDERR_FILENO, "crlsync-test-sync %lu\n", n);
	for (int i = 0; i < 20000 && atomic_load(&sync_seen) < n; i++)
		usleep(1000);
}

#define assert_logged_flags(from, flags, ...)                                                  \
	do {                                                                                   \
		stderr_sync();                                                                 \
		if (!log_find_flags((from), (flags), NEEDLES(__VA_ARGS__))) {                  \
			log_dump(from);                                                        \
			fail_msg("no log line with %s", needles_str(NEEDLES(__VA_ARGS__)));    \
		}                                                                              \
	} while (0)
#define assert_logged(from, ...) assert_logged_flags((from), 0U, __VA_ARGS__)
#define assert_not_logged(from, ...)                                                           \
	do {                                                                                   \
		stderr_sync();                                                                 \
		if (log_find((from), __VA_ARGS__)) {                                           \
			log_dump(from);                                                        \
			fail_msg("unexpected log line with %s", needles_str(NEEDLES(__VA_ARGS__))); \
		}                                                                              \
	} while (0)

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Waits up to `ms` for a line with both needles (b may be NULL), logged by the watch thread. */
static bool log_wait(size_t from, const char *a, const char *b, long ms)
{
	long long end = now_ns() + ms * 1000000LL;

	while (!log_find(from, a, b)) {
		if (now_ns() > end)
			return false;
		sleep_ms(1);
	}
	return true;
}

/* ---- the PKI: root -> issuing -> leaves, plus a CA nobody configured ---- */

static const unsigned char s_good = 0x01, s_revoked = 0x02, s_flip = 0x03;

static struct {
	struct pki_ca *root, *issuing, *stranger;
	X509 *good;     /* serial 01: never revoked */
	X509 *revoked;  /* serial 02: revoked in every issuing CRL */
	X509 *flip;     /* serial 03: revoked in the issuing CRLs with an odd number */
	X509 *foreign;  /* issued by the stranger CA */
	unsigned char issuing_serial[32];
	size_t issuing_serial_len;
} fx;

static int group_setup(void **state)
{
	const ASN1_INTEGER *sn;

	(void)state;
	rec.verbose = getenv("CRLSYNC_TEST_VERBOSE") != NULL;
	fx.root = pki_ca_new("crlsync plugin root", NULL, 0);
	fx.issuing = pki_ca_new("crlsync plugin issuing", fx.root, 0);
	fx.stranger = pki_ca_new("crlsync plugin stranger", NULL, 0);
	fx.good = pki_leaf_new(fx.issuing, "alice", &(struct pki_leaf_opts){ .serial = &s_good, .serial_len = 1 });
	fx.revoked = pki_leaf_new(fx.issuing, "mallory", &(struct pki_leaf_opts){ .serial = &s_revoked, .serial_len = 1 });
	fx.flip = pki_leaf_new(fx.issuing, "bob", &(struct pki_leaf_opts){ .serial = &s_flip, .serial_len = 1 });
	fx.foreign = pki_leaf_new(fx.stranger, "eve", &(struct pki_leaf_opts){ .serial = &s_good, .serial_len = 1 });
	sn = X509_get0_serialNumber(fx.issuing->cert);
	assert_true(ASN1_STRING_length(sn) > 0 && (size_t)ASN1_STRING_length(sn) <= sizeof(fx.issuing_serial));
	fx.issuing_serial_len = (size_t)ASN1_STRING_length(sn);
	memcpy(fx.issuing_serial, ASN1_STRING_get0_data(sn), fx.issuing_serial_len);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	pki_ca_free(fx.root);
	pki_ca_free(fx.issuing);
	pki_ca_free(fx.stranger);
	X509_free(fx.good);
	X509_free(fx.revoked);
	X509_free(fx.flip);
	X509_free(fx.foreign);
	log_clear();
	return 0;
}

/* The issuing CA's CRL number `number`: always lists 02, and 03 when revoke_flip. */
static X509_CRL *issuing_crl_at(unsigned char number, bool revoke_flip, time_t this_update, time_t next_update)
{
	const struct pki_crl_entry entries[] = {
		{ .serial = &s_revoked, .serial_len = 1, .reason = 1 /* keyCompromise */ },
		{ .serial = &s_flip, .serial_len = 1, .reason = 4 /* superseded */ },
	};

	return pki_crl_new(&(struct pki_crl_opts){ .issuer = fx.issuing, .entries = entries,
						   .n_entries = revoke_flip ? 2 : 1, .number = &number, .number_len = 1,
						   .this_update = this_update, .next_update = next_update });
}

static X509_CRL *issuing_crl(unsigned char number, bool revoke_flip)
{
	return issuing_crl_at(number, revoke_flip, 0, 0);
}

/* The root's CRL: lists the issuing CA when revoke_issuing. */
static X509_CRL *root_crl(unsigned char number, bool revoke_issuing)
{
	const struct pki_crl_entry entry = { .serial = fx.issuing_serial, .serial_len = fx.issuing_serial_len,
					     .reason = 2 /* cACompromise */ };

	return pki_crl_new(&(struct pki_crl_opts){ .issuer = fx.root, .entries = &entry,
						   .n_entries = revoke_issuing ? 1 : 0, .number = &number,
						   .number_len = 1 });
}

static void write_crl(const char *path, X509_CRL *crl)
{
	pki_crl_write(path, crl, false);
	X509_CRL_free(crl);
}

static void write_cert_pem(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	assert_int_equal(fclose(f), 0);
}

static void write_text(const char *path, const char *text)
{
	pki_write_file(path, text, strlen(text));
}

/* ---- one test's world: a directory with ca files, a cache-dir, a configuration, maybe a plugin ---- */

struct world {
	char *dir;
	char conf[PATH_MAX];
	char cache[PATH_MAX];
	char root_pem[PATH_MAX];
	char issuing_pem[PATH_MAX];
	char root_crl[PATH_MAX];
	char issuing_crl[PATH_MAX];
	openvpn_plugin_handle_t handle;
	size_t mark; /* first log line of this test */
};

/* [global], then `plugin_lines' as the [plugin] section, then the two sources. */
static void write_conf(struct world *w, const char *plugin_lines)
{
	char *text = NULL;

	assert_true(asprintf(&text,
			     "; written by test_plugin.c\n"
			     "[global]\n"
			     "cache-dir = %s\n"
			     "\n"
			     "[plugin]\n"
			     "%s"
			     "marks-file = %s/plugin-marks/marks\n" /* never /var/lib: each world its own */
			     "\n"
			     "[source root]\n"
			     "url = http://127.0.0.1/root.crl\n"
			     "ca = %s\n"
			     "\n"
			     "[source issuing]\n"
			     "url = http://127.0.0.1/issuing.crl\n"
			     "ca = %s\n",
			     w->cache, plugin_lines, w->dir, w->root_pem, w->issuing_pem) > 0);
	write_text(w->conf, text);
	free(text);
}

static int world_setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->dir = pki_tmpdir();
	snprintf(w->conf, sizeof(w->conf), "%s/crlsync.conf", w->dir);
	snprintf(w->cache, sizeof(w->cache), "%s/cache", w->dir);
	snprintf(w->root_pem, sizeof(w->root_pem), "%s/root-ca.crt", w->dir);
	snprintf(w->issuing_pem, sizeof(w->issuing_pem), "%s/issuing-ca.crt", w->dir);
	snprintf(w->root_crl, sizeof(w->root_crl), "%s/root.crl", w->cache);
	snprintf(w->issuing_crl, sizeof(w->issuing_crl), "%s/issuing.crl", w->cache);
	assert_int_equal(mkdir(w->cache, 0755), 0);
	write_cert_pem(w->root_pem, fx.root->cert);
	write_cert_pem(w->issuing_pem, fx.issuing->cert);
	write_crl(w->root_crl, root_crl(1, false));
	write_crl(w->issuing_crl, issuing_crl(2, false));
	write_conf(w, "missing = reject\nexpired = reject\ngrace = 0\n");
	w->mark = log_mark();
	*state = w;
	return 0;
}

static int world_teardown(void **state)
{
	struct world *w = *state;

	if (w == NULL)
		return 0;
	atomic_store(&rec.drop_decisions, false);
	/* After a failed assertion too: closing joins the watch thread before the directory goes. */
	openvpn_plugin_close_v1(w->handle);
	pki_rmtree(w->dir);
	free(w->dir);
	free(w);
	return 0;
}

static struct openvpn_plugin_callbacks callbacks = { .plugin_log = fake_log, .plugin_vlog = fake_vlog };
static const char *envp[] = { "verb=4", "dev=tun0", NULL };

/* openvpn_plugin_open_v3() as OpenVPN 2.6 calls it, with a struct version and ssl_api of our choice. */
static int open_raw(int version, ovpnSSLAPI api, const char **argv, struct openvpn_plugin_args_open_return *ret)
{
	const struct openvpn_plugin_args_open_in in = {
		.type_mask = (1 << OPENVPN_PLUGIN_N) - 1,
		.argv = argv,
		.envp = envp,
		.callbacks = &callbacks,
		.ssl_api = api,
		.ovpn_version = "2.6.14",
		.ovpn_version_major = 2,
		.ovpn_version_minor = 6,
		.ovpn_version_patch = ".14",
	};

	return openvpn_plugin_open_v3(version, &in, ret);
}

/* Opens the plugin on w->conf with up to two override arguments (a1 NULL: none; a2 NULL: one). */
static int open_world_args(struct world *w, const char *a1, const char *a2)
{
	const char *argv[] = { "openvpn-plugin-crlsync.so", w->conf, a1, a1 ? a2 : NULL, NULL };
	struct openvpn_plugin_args_open_return ret = { 0 };
	int r;

	assert_null(w->handle);
	r = open_raw(OPENVPN_PLUGINv3_STRUCTVER, SSLAPI_OPENSSL, argv, &ret);
	if (r == OPENVPN_PLUGIN_FUNC_SUCCESS) {
		assert_non_null(ret.handle);
		assert_int_equal(ret.type_mask, OPENVPN_PLUGIN_MASK(OPENVPN_PLUGIN_TLS_VERIFY));
		w->handle = ret.handle;
	} else {
		assert_null(ret.handle);
	}
	return r;
}

static void open_world(struct world *w)
{
	if (open_world_args(w, NULL, NULL) != OPENVPN_PLUGIN_FUNC_SUCCESS) {
		log_dump(w->mark);
		fail_msg("openvpn_plugin_open_v3 failed");
	}
}

/* What OpenVPN 2.6 sets before TLS_VERIFY (a subset). */
static const char *tls_envp[] = { "verb=4", "untrusted_ip=192.0.2.7", "untrusted_port=51194", NULL };

static int call_env(openvpn_plugin_handle_t handle, int type, X509 *cert, int depth, const char **env)
{
	static const char *argv[] = { "openvpn-plugin-crlsync.so", NULL };
	const struct openvpn_plugin_args_func_in in = {
		.type = type,
		.argv = argv,
		.envp = env,
		.handle = handle,
		.current_cert_depth = depth,
		.current_cert = cert,
	};
	struct openvpn_plugin_string_list *list = NULL;
	struct openvpn_plugin_args_func_return ret = { .return_list = &list };
	int r = openvpn_plugin_func_v3(OPENVPN_PLUGINv3_STRUCTVER, &in, &ret);

	assert_null(list);
	return r;
}

static int call(openvpn_plugin_handle_t handle, int type, X509 *cert, int depth)
{
	return call_env(handle, type, cert, depth, tls_envp);
}

static int verify(struct world *w, X509 *cert, int depth)
{
	return call(w->handle, OPENVPN_PLUGIN_TLS_VERIFY, cert, depth);
}

#define SUCCESS OPENVPN_PLUGIN_FUNC_SUCCESS
#define ERROR OPENVPN_PLUGIN_FUNC_ERROR

/* Calls TLS_VERIFY until it returns `want' (at most `ms'); returns the milliseconds it took, or -1. */
static double verify_until(struct world *w, X509 *cert, int depth, int want, long ms, long long since_ns)
{
	long long end = now_ns() + ms * 1000000LL;

	for (;;) {
		if (verify(w, cert, depth) == want)
			return (double)(now_ns() - since_ns) / 1e6;
		if (now_ns() > end)
			return -1;
		sleep_ms(1);
	}
}

/* ---- open: arguments, configuration, API checks ---- */

static void open__good_config__tls_verify_mask_and_started_log(void **state)
{
	struct world *w = *state;

	open_world(w);
	assert_logged_flags(w->mark, PLOG_NOTE, "crlsync: started (uid", "2 ca(s), 2 CRL(s) in force");
	assert_logged(w->mark, "policy missing=reject expired=reject grace=0 s");
	assert_logged(w->mark, "reload: 2 CRL(s) in force for 2 of 2 ca(s), 1 revoked entries", "startup");
	assert_not_logged(w->mark, "policy relaxed");
}

static void open__no_config_argument__error_with_usage(void **state)
{
	struct world *w = *state;
	const char *argv[] = { "/usr/lib/openvpn/plugins/openvpn-plugin-crlsync.so", NULL };
	struct openvpn_plugin_args_open_return ret = { 0 };

	assert_int_equal(open_raw(OPENVPN_PLUGINv3_STRUCTVER, SSLAPI_OPENSSL, argv, &ret), ERROR);
	assert_null(ret.handle);
	assert_logged_flags(w->mark, PLOG_ERR, "usage: plugin /usr/lib/openvpn/plugins/openvpn-plugin-crlsync.so",
			    "CONFIG-FILE [key=value ...]");
}

static void open__empty_argv__error_without_crash(void **state)
{
	struct world *w = *state;
	const char *argv[] = { NULL };
	struct openvpn_plugin_args_open_return ret = { 0 };

	assert_int_equal(open_raw(OPENVPN_PLUGINv3_STRUCTVER, SSLAPI_OPENSSL, argv, &ret), ERROR);
	assert_logged(w->mark, "usage: plugin openvpn-plugin-crlsync.so CONFIG-FILE");
}

static void open__config_file_missing__error_names_file(void **state)
{
	struct world *w = *state;

	assert_int_equal(unlink(w->conf), 0);
	assert_int_equal(open_world_args(w, NULL, NULL), ERROR);
	assert_logged_flags(w->mark, PLOG_ERR, w->conf, "cannot open: No such file or directory; refusing to start");
}

static void open__unknown_key__error_names_file_and_line(void **state)
{
	struct world *w = *state;
	char want[PATH_MAX + 64];

	/* Line 7: "; written by", [global], cache-dir, blank, [plugin], missing, grace-period. */
	write_conf(w, "missing = reject\ngrace-period = 1h\n");
	assert_int_equal(open_world_args(w, NULL, NULL), ERROR);
	snprintf(want, sizeof(want), "crlsync: %s line 7: unknown key `grace-period' in [plugin]", w->conf);
	assert_logged_flags(w->mark, PLOG_ERR, want, "; refusing to start");
	assert_not_logged(w->mark, "started");
}

static void open__unreadable_ca__error_names_file(void **state)
{
	struct world *w = *state;

	assert_int_equal(unlink(w->issuing_pem), 0);
	assert_int_equal(open_world_args(w, NULL, NULL), ERROR);
	assert_logged_flags(w->mark, PLOG_ERR, w->issuing_pem, "refusing to start");
}

static void open__override_grace_abc__error(void **state)
{
	struct world *w = *state;

	assert_int_equal(open_world_args(w, "grace=abc", NULL), ERROR);
	assert_logged_flags(w->mark, PLOG_ERR, "plugin argument `grace=abc'", "; refusing to start");
}

static void open__override_grace_2h__started_with_warning(void **state)
{
	struct world *w = *state;

	assert_int_equal(open_world_args(w, "grace=2h", NULL), SUCCESS);
	assert_logged(w->mark, "policy missing=reject expired=reject grace=7200 s");
	assert_logged_flags(w->mark, PLOG_WARN, "policy relaxed: expired CRLs are honoured for 7200 s");
}

static void open__override_unknown_key__error(void **state)
{
	struct world *w = *state;

	assert_int_equal(open_world_args(w, "missing=accept", "cache-dir=/tmp"), ERROR);
	assert_logged_flags(w->mark, PLOG_ERR, "plugin argument `cache-dir=/tmp': unknown key `cache-dir'",
			    "refusing to start");
}

static void open__override_without_equals__error(void **state)
{
	struct world *w = *state;

	assert_int_equal(open_world_args(w, "grace", NULL), ERROR);
	assert_logged(w->mark, "plugin argument `grace': expected key=value", "refusing to start");
}

static void open__struct_version_4__error(void **state)
{
	struct world *w = *state;
	const char *argv[] = { "openvpn-plugin-crlsync.so", w->conf, NULL };
	struct openvpn_plugin_args_open_return ret = { 0 };

	/* Said on stderr: before version 5 the callbacks may not be what the header says. */
	assert_int_equal(open_raw(4, SSLAPI_OPENSSL, argv, &ret), ERROR);
	assert_null(ret.handle);
	assert_not_logged(w->mark, "started");
}

static void open__struct_version_6__accepted(void **state)
{
	struct world *w = *state;
	const char *argv[] = { "openvpn-plugin-crlsync.so", w->conf, NULL };
	struct openvpn_plugin_args_open_return ret = { 0 };

	/* A newer OpenVPN only appends members. */
	assert_int_equal(open_raw(OPENVPN_PLUGINv3_STRUCTVER + 1, SSLAPI_OPENSSL, argv, &ret), SUCCESS);
	w->handle = ret.handle;
	assert_non_null(w->handle);
}

static void open__ssl_api_mbedtls__error(void **state)
{
	struct world *w = *state;
	const char *argv[] = { "openvpn-plugin-crlsync.so", w->conf, NULL };
	struct openvpn_plugin_args_open_return ret = { 0 };

	assert_int_equal(open_raw(OPENVPN_PLUGINv3_STRUCTVER, SSLAPI_MBEDTLS, argv, &ret), ERROR);
	assert_null(ret.handle);
	assert_logged_flags(w->mark, PLOG_ERR, "crlsync: this OpenVPN is not built with OpenSSL");
}

static void open__missing_cache_dir__error(void **state)
{
	struct world *w = *state;

	pki_rmtree(w->cache);
	assert_int_equal(open_world_args(w, NULL, NULL), ERROR);
	assert_logged_flags(w->mark, PLOG_ERR, "cannot watch cache-dir", "refusing to start");
}

/* ---- TLS_VERIFY decisions ---- */

static void tls_verify__good_leaf__success(void **state)
{
	struct world *w = *state;

	open_world(w);
	assert_int_equal(verify(w, fx.good, 0), SUCCESS);
	assert_logged(w->mark, "crlsync: OK ", "depth=0 subject=CN=alice",
		      "serial=01: not revoked (CRL issuing.crl number 02)");
	assert_not_logged(w->mark, "REJECT");
}

static void tls_verify__revoked_leaf__error_logged(void **state)
{
	struct world *w = *state;

	open_world(w);
	assert_int_equal(verify(w, fx.revoked, 0), ERROR);
	assert_logged_flags(w->mark, PLOG_ERR, "crlsync: REJECT ", "depth=0 subject=CN=mallory",
			    "serial=02 issuer=CN=crlsync plugin issuing",
			    "reason keyCompromise (CRL issuing.crl number 02) [revoked]");
	/* The connection, from OpenVPN's environment (untrusted_ip, untrusted_port). */
	assert_logged(w->mark, "REJECT ", "depth=0 subject=CN=mallory", "[revoked] peer=192.0.2.7:51194");
}

static void tls_verify__self_signed_root_at_depth_2__success(void **state)
{
	struct world *w = *state;

	open_world(w);
	assert_int_equal(verify(w, fx.root->cert, 2), SUCCESS);
	assert_not_logged(w->mark, "REJECT");
}

static void tls_verify__issuing_ca_at_depth_1__success(void **state)
{
	struct world *w = *state;

	open_world(w);
	assert_int_equal(verify(w, fx.issuing->cert, 1), SUCCESS);
	assert_logged(w->mark, "crlsync: OK ", "depth=1 subject=CN=crlsync plugin issuing",
		      "not revoked (CRL root.crl number 01)");
}

static void tls_verify__issuing_ca_revoked_by_root__error(void **state)
{
	struct world *w = *state;

	write_crl(w->root_crl, root_crl(2, true));
	open_world(w);
	assert_int_equal(verify(w, fx.issuing->cert, 1), ERROR);
	assert_logged(w->mark, "crlsync: REJECT ", "depth=1 subject=CN=crlsync plugin issuing",
		      "reason cACompromise (CRL root.crl number 02) [revoked]");
	/* The root itself stays a trust anchor. */
	assert_int_equal(verify(w, fx.root->cert, 2), SUCCESS);
}

static void tls_verify__missing_crl_default__error(void **state)
{
	struct world *w = *state;

	assert_int_equal(unlink(w->issuing_crl), 0);
	open_world(w);
	assert_int_equal(verify(w, fx.good, 0), ERROR);
	assert_logged_flags(w->mark, PLOG_ERR, "crlsync: REJECT ", "depth=0 subject=CN=alice",
			    "no usable CRL for the issuer (no CRL loaded for ca [source issuing]) [missing=reject]");
}

static void tls_verify__missing_crl_accept_override__success_relaxed(void **state)
{
	struct world *w = *state;

	assert_int_equal(unlink(w->issuing_crl), 0);
	assert_int_equal(open_world_args(w, "missing=accept", NULL), SUCCESS);
	assert_logged_flags(w->mark, PLOG_WARN, "policy relaxed: missing=accept");
	assert_int_equal(verify(w, fx.good, 0), SUCCESS);
	assert_logged_flags(w->mark, PLOG_WARN, "crlsync: ACCEPT (relaxed) ", "depth=0 subject=CN=alice", "[missing=accept]");
	/* A CA that is configured and has a CRL still decides: the relaxation is only for the missing one. */
	assert_int_equal(verify(w, fx.issuing->cert, 1), SUCCESS);
	assert_not_logged(w->mark, "ACCEPT (relaxed) ", "depth=1");
}

static void tls_verify__unconfigured_issuer__error(void **state)
{
	struct world *w = *state;

	open_world(w);
	assert_int_equal(verify(w, fx.foreign, 0), ERROR);
	assert_logged(w->mark, "crlsync: REJECT ", "depth=0 subject=CN=eve", "(no configured ca is its issuer)",
		      "[missing=reject]");
}

static void tls_verify__expired_crl__error(void **state)
{
	struct world *w = *state;
	time_t now = time(NULL);

	write_crl(w->issuing_crl, issuing_crl_at(2, false, now - 10 * DAY, now - DAY));
	open_world(w);
	assert_int_equal(verify(w, fx.good, 0), ERROR);
	assert_logged(w->mark, "crlsync: REJECT ", "depth=0 subject=CN=alice", "CRL issuing.crl number 02 expired at",
		      "[expired=reject]");
}

static void tls_verify__expired_crl_within_grace_override__success_relaxed(void **state)
{
	struct world *w = *state;
	time_t now = time(NULL);

	write_crl(w->issuing_crl, issuing_crl_at(2, false, now - 10 * DAY, now - DAY));
	assert_int_equal(open_world_args(w, "grace=2d", NULL), SUCCESS);
	assert_int_equal(verify(w, fx.good, 0), SUCCESS);
	assert_logged_flags(w->mark, PLOG_WARN, "crlsync: ACCEPT (relaxed) ", "depth=0 subject=CN=alice", "[within grace, ");
	/* Listed in an expired CRL is still revoked. */
	assert_int_equal(verify(w, fx.revoked, 0), ERROR);
}

static void tls_verify__ipv6_peer__named_in_line(void **state)
{
	struct world *w = *state;
	const char *env6[] = { "untrusted_ip6=2001:db8::7", "untrusted_port=443", NULL };

	open_world(w);
	assert_int_equal(call_env(w->handle, OPENVPN_PLUGIN_TLS_VERIFY, fx.revoked, 0, env6), ERROR);
	assert_logged(w->mark, "REJECT ", "depth=0 subject=CN=mallory", "peer=2001:db8::7:443");
}

static void tls_verify__no_peer_in_env__question_marks(void **state)
{
	struct world *w = *state;
	const char *none[] = { NULL };

	open_world(w);
	assert_int_equal(call_env(w->handle, OPENVPN_PLUGIN_TLS_VERIFY, fx.revoked, 0, none), ERROR);
	assert_logged(w->mark, "REJECT ", "depth=0 subject=CN=mallory", "peer=?:?");
	/* A NULL environment block too. */
	assert_int_equal(call_env(w->handle, OPENVPN_PLUGIN_TLS_VERIFY, fx.good, 0, NULL), SUCCESS);
}

static void tls_verify__no_certificate__error(void **state)
{
	struct world *w = *state;

	open_world(w);
	assert_int_equal(verify(w, NULL, 0), ERROR);
	assert_logged(w->mark, "crlsync: REJECT ", "depth=0 subject=? serial=?", "cannot check: no certificate to check");
}

static void func__other_plugin_type__success_no_decision(void **state)
{
	struct world *w = *state;

	open_world(w);
	assert_int_equal(call(w->handle, OPENVPN_PLUGIN_UP, fx.revoked, 0), SUCCESS);
	assert_not_logged(w->mark, "REJECT");
}

static void func__null_handle__error(void **state)
{
	struct world *w = *state;
	struct openvpn_plugin_args_func_return ret = { 0 };

	assert_int_equal(call(NULL, OPENVPN_PLUGIN_TLS_VERIFY, fx.good, 0), ERROR);
	assert_int_equal(openvpn_plugin_func_v3(OPENVPN_PLUGINv3_STRUCTVER, NULL, &ret), ERROR);
	assert_int_equal(log_mark(), w->mark);
}

/* ---- live reload through the watch thread ---- */

static void reload__revoking_crl_renamed_in__rejected_within_5s(void **state)
{
	struct world *w = *state;
	long long t0;
	double ms;
	size_t mark;

	open_world(w);
	assert_int_equal(verify(w, fx.flip, 0), SUCCESS);
	mark = log_mark();
	t0 = now_ns();
	write_crl(w->issuing_crl, issuing_crl(3, true));
	ms = verify_until(w, fx.flip, 0, ERROR, 5000, t0);
	if (ms < 0) {
		log_dump(w->mark);
		fail_msg("a revoking CRL renamed into cache-dir was not enforced within 5 s");
	}
	print_message("reload delay (rename to first rejection): %.1f ms\n", ms);
	assert_logged(mark, "loaded issuing.crl: ", "number 03");
	assert_logged_flags(mark, PLOG_NOTE, "reload: 2 CRL(s) in force", "cache-dir changed");
	assert_logged(mark, "crlsync: REJECT ", "depth=0 subject=CN=bob",
		      "reason superseded (CRL issuing.crl number 03) [revoked]");
	assert_int_equal(verify(w, fx.good, 0), SUCCESS);
}

static void reload__nothing_renamed__no_reload(void **state)
{
	struct world *w = *state;

	/* The negative twin: nothing changes, nothing is enforced. */
	open_world(w);
	sleep_ms(300); /* longer than WATCH_MAX_DELAY_MS */
	assert_int_equal(verify(w, fx.flip, 0), SUCCESS);
	assert_int_equal(log_count(w->mark, "reload:"), 1);
}

/*
 * Waits for the watch thread's reload after a change made after `mark`: its "reload:" line is the
 * last it logs before publishing, so what it logged while loading is all there once this returns.
 */
static void wait_reload(const struct world *w, size_t mark, const char *what)
{
	if (!log_wait(mark, "reload: ", "cache-dir changed", 5000)) {
		log_dump(w->mark);
		fail_msg("%s: no reload within 5 s", what);
	}
}

static void reload__garbage_over_crl__verdicts_kept(void **state)
{
	struct world *w = *state;
	size_t mark;

	open_world(w);
	mark = log_mark();
	write_text(w->issuing_crl, "this is not a CRL\n");
	wait_reload(w, mark, "garbage over issuing.crl");
	assert_logged_flags(mark, PLOG_ERR, "issuing.crl: refused", "keeping the CRLs it gave before");
	assert_logged(mark, "reload: 2 CRL(s) in force for 2 of 2 ca(s)");
	assert_int_equal(verify(w, fx.revoked, 0), ERROR);
	assert_int_equal(verify(w, fx.good, 0), SUCCESS);
	assert_int_equal(verify(w, fx.flip, 0), SUCCESS);
	assert_logged(mark, "crlsync: OK ", "depth=0 subject=CN=bob", "(CRL issuing.crl number 02)");
}

static void reload__garbage_new_file__verdicts_kept(void **state)
{
	struct world *w = *state;
	size_t mark;

	open_world(w);
	mark = log_mark();
	write_text(pki_path(w->cache, "junk.crl"), "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
	wait_reload(w, mark, "garbage junk.crl");
	assert_logged_flags(mark, PLOG_ERR, "junk.crl: refused");
	assert_logged(mark, "reload: 2 CRL(s) in force for 2 of 2 ca(s)");
	assert_int_equal(verify(w, fx.revoked, 0), ERROR);
	assert_int_equal(verify(w, fx.good, 0), SUCCESS);
}

static void reload__older_crl_unrevoking__rollback_refused(void **state)
{
	struct world *w = *state;
	size_t mark;

	write_crl(w->issuing_crl, issuing_crl(5, true));
	open_world(w);
	assert_int_equal(verify(w, fx.flip, 0), ERROR);
	mark = log_mark();
	write_crl(w->issuing_crl, issuing_crl(4, false));
	wait_reload(w, mark, "older issuing.crl");
	assert_logged_flags(mark, PLOG_ERR, "issuing.crl: refused: rollback", "keeping the CRL in force");
	mark = log_mark();
	assert_int_equal(verify(w, fx.flip, 0), ERROR);
	assert_logged(mark, "crlsync: REJECT ", "depth=0 subject=CN=bob", "(CRL issuing.crl number 05)");
}

/* Closes the plugin as OpenVPN does on SIGHUP or exit. */
static void close_world(struct world *w)
{
	openvpn_plugin_close_v1(w->handle);
	w->handle = NULL;
}

/*
 * A restart: a new process forgets what persist.c kept, and the older (validly signed) number 4 is
 * in cache-dir. The marks file remembers number 5: refused, issuing has no CRL in force, bob
 * (whom 5 revokes, 4 does not) stays rejected, as does everyone else (missing = reject).
 */
static void reopen__older_crl_after_restart__refused_from_marks_file(void **state)
{
	struct world *w = *state;
	size_t mark;

	write_crl(w->issuing_crl, issuing_crl(5, true));
	open_world(w);
	assert_int_equal(verify(w, fx.flip, 0), ERROR);
	close_world(w);
	persist_reset();
	write_crl(w->issuing_crl, issuing_crl(4, false));
	mark = log_mark();
	open_world(w);
	assert_logged_flags(mark, PLOG_ERR, "issuing.crl: refused: rollback",
			    "number 05, thisUpdate");
	assert_logged(mark, "remembered in the marks file", "no CRL in force for it");
	assert_int_equal(verify(w, fx.flip, 0), ERROR);
	assert_int_equal(verify(w, fx.good, 0), ERROR);
	/* the twin: a newer number is taken, and raises the mark */
	close_world(w);
	persist_reset();
	write_crl(w->issuing_crl, issuing_crl(6, false));
	open_world(w);
	assert_int_equal(verify(w, fx.flip, 0), SUCCESS);
}

/* A SIGHUP: the reopen reads the marks through the fd kept open (persist.c), not the path. */
static void reopen__older_crl_at_sighup__refused_through_kept_fd(void **state)
{
	struct world *w = *state;
	char marks[PATH_MAX + 32], moved[PATH_MAX + 40];
	size_t mark;

	write_crl(w->issuing_crl, issuing_crl(5, true));
	open_world(w);
	close_world(w);
	/* the path no longer leads to the file (as after a privilege drop, it could not be opened) */
	snprintf(marks, sizeof(marks), "%s/plugin-marks/marks", w->dir);
	snprintf(moved, sizeof(moved), "%s/plugin-marks/marks.away", w->dir);
	assert_int_equal(rename(marks, moved), 0);
	write_crl(w->issuing_crl, issuing_crl(4, false));
	mark = log_mark();
	open_world(w);
	assert_logged_flags(mark, PLOG_ERR, "issuing.crl: refused: rollback");
	assert_int_equal(verify(w, fx.flip, 0), ERROR);
}

/* The fetcher's user could rewrite a group-writable marks file: an explicit marks-file is refused. */
static void open__marks_file_group_writable__refused_naming_it(void **state)
{
	struct world *w = *state;
	char marks[PATH_MAX + 32];

	open_world(w);
	close_world(w);
	persist_reset();
	snprintf(marks, sizeof(marks), "%s/plugin-marks/marks", w->dir);
	assert_int_equal(chmod(marks, 0660), 0);
	assert_int_equal(open_world_args(w, NULL, NULL), ERROR);
	assert_logged_flags(w->mark, PLOG_ERR, marks, "writable by group or others");
	assert_logged(w->mark, "chmod 0600", "refusing to start");
}

static void reload__crl_removed__fails_closed(void **state)
{
	struct world *w = *state;

	open_world(w);
	assert_int_equal(verify(w, fx.good, 0), SUCCESS);
	assert_int_equal(unlink(w->issuing_crl), 0);
	if (verify_until(w, fx.good, 0, ERROR, 5000, now_ns()) < 0) {
		log_dump(w->mark);
		fail_msg("removing the CRL did not take its coverage away within 5 s");
	}
	assert_logged(w->mark, "issuing.crl removed", "is no longer in force");
	assert_logged(w->mark, "crlsync: REJECT ", "depth=0 subject=CN=alice", "[missing=reject]");
}

/* ---- close ---- */

static void close__null_handle__no_crash(void **state)
{
	(void)state;
	openvpn_plugin_close_v1(NULL);
}

static void close__right_after_rename__joins_watch_thread(void **state)
{
	struct world *w = *state;
	size_t after;

	/* The watch thread has not even woken: close must still stop and join it, then free. */
	open_world(w);
	write_crl(w->issuing_crl, issuing_crl(3, true));
	openvpn_plugin_close_v1(w->handle);
	w->handle = NULL;
	/* Nothing may log after close: the thread is gone. */
	after = log_mark();
	sleep_ms(300);
	assert_int_equal(log_mark(), after);
}

static void close__inside_settle_window__joins_watch_thread(void **state)
{
	struct world *w = *state;
	size_t before, after;
	long long t0;

	/* 10 ms after the rename the watch thread is waiting for the burst to settle (WATCH_SETTLE_MS). */
	open_world(w);
	write_crl(w->issuing_crl, issuing_crl(3, true));
	sleep_ms(10);
	before = log_mark();
	t0 = now_ns();
	openvpn_plugin_close_v1(w->handle);
	print_message("close inside the settle window: %.1f ms, %zu line(s) logged meanwhile%s\n",
		      (double)(now_ns() - t0) / 1e6, log_mark() - before,
		      log_find(before, "reload: ", NULL) ? " (a reload ran after the stop request)" : "");
	w->handle = NULL;
	after = log_mark();
	sleep_ms(300);
	assert_int_equal(log_mark(), after);
}

static void close__reopen_same_config__independent_instances(void **state)
{
	struct world *w = *state;
	openvpn_plugin_handle_t first;

	/* SIGHUP: OpenVPN closes and opens again; two instances may even overlap (--plugin twice). */
	open_world(w);
	first = w->handle;
	w->handle = NULL;
	open_world(w);
	assert_ptr_not_equal(first, w->handle);
	assert_int_equal(call(first, OPENVPN_PLUGIN_TLS_VERIFY, fx.revoked, 0), ERROR);
	openvpn_plugin_close_v1(first);
	assert_int_equal(verify(w, fx.revoked, 0), ERROR);
	assert_int_equal(verify(w, fx.good, 0), SUCCESS);
}

/* ---- the hammer: decisions on one thread while CRLs are swapped in on another ---- */

struct hammer {
	const char *cache;
	int swaps; /* HAMMER_SWAPS, or fewer (CRLSYNC_HAMMER_SWAPS, e.g. under valgrind) */
	unsigned char *der[HAMMER_SWAPS];
	size_t len[HAMMER_SWAPS];
	unsigned char number[HAMMER_SWAPS];
	unsigned long calls_per_swap;
	atomic_ulong calls;    /* the verifier's progress */
	atomic_bool done;      /* the renamer finished */
	atomic_bool stop;      /* the test gave up: renamer, stop now */
	atomic_int err;        /* errno of a failed write or rename */
	atomic_int unseen;     /* installs whose load was not logged in time */
	int wait_ms;           /* how long the renamer waits for each load (CRLSYNC_HAMMER_WAIT_MS, 3000) */
};

/* The fetcher's install, without pki.h (its failures longjmp, which only the test thread may do). */
static int install(const char *dir, const char *name, const unsigned char *buf, size_t len)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	int fd, r = 0;

	snprintf(tmp, sizeof(tmp), "%s/.hammer.tmp", dir);
	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	if (close(fd) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, dst) != 0)
		r = -errno;
	if (r != 0)
		unlink(tmp);
	return r;
}

static void *hammer_renamer(void *arg)
{
	struct hammer *h = arg;

	for (int i = 0; i < h->swaps && !atomic_load(&h->stop); i++) {
		char want[32];
		size_t mark = log_mark();
		int r;

		/* Spread the swaps over the verifier's calls, whatever the speed (valgrind). */
		while (atomic_load(&h->calls) < (unsigned long)i * h->calls_per_swap && !atomic_load(&h->stop))
			sleep_ms(1);
		r = install(h->cache, "issuing.crl", h->der[i], h->len[i]);
		if (r != 0) {
			atomic_store(&h->err, -r);
			break;
		}
		/* Each generation is published while the verifier runs: wait for the load before the next. */
		snprintf(want, sizeof(want), "number %02X,", h->number[i]);
		if (!log_wait(mark, "loaded issuing.crl: ", want, h->wait_ms))
			atomic_fetch_add(&h->unseen, 1);
	}
	atomic_store(&h->done, true);
	return NULL;
}

/* The CRL number a decision line names ("... (CRL issuing.crl number 2F) ..."), or -1. */
static long line_number(const char *line, const char *origin)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "(CRL %s number ", origin);
	p = strstr(line, key);
	if (p == NULL)
		return -1;
	return strtol(p + strlen(key), NULL, 16);
}

struct hammer_stats {
	unsigned long calls, bad, flips_rejected, flips_accepted, distinct, over_100us, over_1ms;
	long long max_ns, total_ns;
	long last_number;
	char first_bad[LINE_MAX_LEN + 64];
};

/* Whether this thread's last line is a decision `verdict' ("OK", "REJECT") holding `what'. */
static bool decided(const char *verdict, const char *what)
{
	static const char prefix[] = "crlsync: ";
	size_t n = strlen(verdict);

	return strncmp(tl_line, prefix, sizeof(prefix) - 1) == 0 &&
	       strncmp(tl_line + sizeof(prefix) - 1, verdict, n) == 0 && tl_line[sizeof(prefix) - 1 + n] == ' ' &&
	       strstr(tl_line, what) != NULL;
}

static void hammer_bad(struct hammer_stats *st, const char *what, int rc)
{
	if (st->bad++ == 0)
		snprintf(st->first_bad, sizeof(st->first_bad), "call %lu: %s (rc %d, line `%s')", st->calls, what, rc,
			 tl_line);
}

/*
 * One decision, checked against the CRL generation the plugin says it used: the verdict must be
 * the one that generation gives, and generations never go back (they are swapped in order).
 */
static void hammer_one(struct world *w, struct hammer_stats *st, unsigned long n)
{
	static const int depth[4] = { 0, 0, 0, 1 };
	X509 *const certs[4] = { fx.good, fx.revoked, fx.flip, fx.issuing->cert };
	unsigned k = (unsigned)(n % 5);
	unsigned long seq = tl_seq;
	long long t0, dt;
	long num;
	int rc;

	if (k == 4) {
		/* The root at depth 2: a trust anchor, accepted without a word. */
		t0 = now_ns();
		rc = verify(w, fx.root->cert, 2);
		dt = now_ns() - t0;
		if (rc != SUCCESS || tl_seq != seq)
			hammer_bad(st, "root at depth 2", rc);
		goto time;
	}
	t0 = now_ns();
	rc = verify(w, certs[k], depth[k]);
	dt = now_ns() - t0;
	if (tl_seq == seq) {
		hammer_bad(st, "no decision logged", rc);
		goto time;
	}
	if (k == 3) {
		if (rc != SUCCESS || !decided("OK", "depth=1 subject=CN=crlsync plugin issuing") ||
		    line_number(tl_line, "root.crl") != 1)
			hammer_bad(st, "issuing CA at depth 1", rc);
		goto time;
	}
	num = line_number(tl_line, "issuing.crl");
	if (num < 2 || num > 2 + HAMMER_SWAPS) {
		hammer_bad(st, "a CRL number from no generation", rc);
		goto time;
	}
	if (num < st->last_number)
		hammer_bad(st, "an older generation after a newer one", rc);
	if (num != st->last_number)
		st->distinct++;
	st->last_number = num;
	switch (k) {
	case 0:
		if (rc != SUCCESS || !decided("OK", "depth=0 subject=CN=alice"))
			hammer_bad(st, "good leaf", rc);
		break;
	case 1:
		if (rc != ERROR || !decided("REJECT", "depth=0 subject=CN=mallory") || strstr(tl_line, "[revoked]") == NULL)
			hammer_bad(st, "revoked leaf", rc);
		break;
	case 2:
		/* Odd generations revoke bob, even ones do not. */
		if (num % 2 == 1) {
			st->flips_rejected++;
			if (rc != ERROR || !decided("REJECT", "depth=0 subject=CN=bob"))
				hammer_bad(st, "bob under a revoking generation", rc);
		} else {
			st->flips_accepted++;
			if (rc != SUCCESS || !decided("OK", "depth=0 subject=CN=bob"))
				hammer_bad(st, "bob under a non-revoking generation", rc);
		}
		break;
	}
time:
	st->total_ns += dt;
	st->over_100us += dt > 100000;
	st->over_1ms += dt > 1000000;
	if (dt > st->max_ns)
		st->max_ns = dt;
	st->calls++;
}

static void hammer__verify_while_crls_swap__every_verdict_from_a_generation(void **state)
{
	struct world *w = *state;
	struct hammer h = { .cache = w->cache };
	struct hammer_stats st = { .last_number = 2 };
	const char *env = getenv("CRLSYNC_HAMMER_CALLS");
	unsigned long calls = env ? strtoul(env, NULL, 10) : HAMMER_CALLS;
	pthread_t renamer;
	long long t0, close_ns;
	size_t mark;
	bool started = false;

	const char *senv = getenv("CRLSYNC_HAMMER_SWAPS"), *wenv = getenv("CRLSYNC_HAMMER_WAIT_MS");

	h.wait_ms = wenv ? (int)strtol(wenv, NULL, 10) : 3000;
	if (h.wait_ms < 3000)
		h.wait_ms = 3000;

	/* Even, so that the last generation does not revoke bob (checked at the end). */
	h.swaps = senv ? (int)strtol(senv, NULL, 10) : HAMMER_SWAPS;
	if (h.swaps < 2 || h.swaps > HAMMER_SWAPS)
		h.swaps = HAMMER_SWAPS;
	h.swaps &= ~1;
	if (calls < (unsigned long)h.swaps)
		calls = (unsigned long)h.swaps;
	h.calls_per_swap = calls / (unsigned long)h.swaps;
	/* Generations 03..34 (hex): odd ones revoke bob; all revoke mallory, none alice. */
	for (int i = 0; i < h.swaps; i++) {
		X509_CRL *c;

		h.number[i] = (unsigned char)(3 + i);
		c = issuing_crl(h.number[i], h.number[i] % 2 == 1);
		h.der[i] = pki_crl_der(c, &h.len[i]);
		X509_CRL_free(c);
	}
	open_world(w);
	mark = log_mark();
	atomic_store(&rec.drop_decisions, true);
	if (pthread_create(&renamer, NULL, hammer_renamer, &h) == 0)
		started = true;
	for (unsigned long n = 0; started && (n < calls || !atomic_load(&h.done)); n++) {
		hammer_one(w, &st, n);
		atomic_store(&h.calls, n + 1);
	}
	atomic_store(&h.stop, true);
	if (started)
		pthread_join(renamer, NULL);
	atomic_store(&rec.drop_decisions, false);
	for (int i = 0; i < h.swaps; i++)
		free(h.der[i]);
	assert_true(started);
	assert_int_equal(atomic_load(&h.err), 0);

	/* The last generation (34, even) is the one in force at the end. */
	t0 = now_ns();
	while (!(verify(w, fx.flip, 0) == SUCCESS && line_number(tl_line, "issuing.crl") == 2 + h.swaps)) {
		if (now_ns() - t0 > 5000000000LL) {
			log_dump(mark);
			fail_msg("the last generation is not in force 5 s after its rename: `%s'", tl_line);
		}
		sleep_ms(1);
	}
	t0 = now_ns();
	openvpn_plugin_close_v1(w->handle);
	close_ns = now_ns() - t0;
	w->handle = NULL;

	print_message("hammer: %lu TLS_VERIFY calls, %zu reloads, %lu generations seen by the verifier, "
		      "bob rejected %lu / accepted %lu, %d loads not seen in 3 s\n",
		      st.calls, log_count(mark, "reload: "), st.distinct, st.flips_rejected, st.flips_accepted,
		      atomic_load(&h.unseen));
	print_message("hammer: TLS_VERIFY max %.3f ms, mean %.1f us, %lu calls over 100 us, %lu over 1 ms; "
		      "close %.1f ms\n",
		      (double)st.max_ns / 1e6, (double)st.total_ns / 1e3 / (double)(st.calls ? st.calls : 1),
		      st.over_100us, st.over_1ms, (double)close_ns / 1e6);
	if (st.bad != 0) {
		log_dump(mark);
		fail_msg("%lu inconsistent verdicts; first: %s", st.bad, st.first_bad);
	}
	assert_true(st.calls >= calls);
	/* Swaps really happened under the verifier's feet. */
	assert_true(st.distinct >= 2);
	assert_true(st.flips_rejected > 0 && st.flips_accepted > 0);
	assert_true(log_count(mark, "reload: ") >= 2);
	assert_not_logged(mark, "rollback");
	assert_not_logged(mark, "failed");
}

#define T(f) cmocka_unit_test_setup_teardown(f, world_setup, world_teardown)

int main(void)
{
	capture_stderr();
	const struct CMUnitTest tests[] = {
		T(open__good_config__tls_verify_mask_and_started_log),
		T(open__no_config_argument__error_with_usage),
		T(open__empty_argv__error_without_crash),
		T(open__config_file_missing__error_names_file),
		T(open__unknown_key__error_names_file_and_line),
		T(open__unreadable_ca__error_names_file),
		T(open__override_grace_abc__error),
		T(open__override_grace_2h__started_with_warning),
		T(open__override_unknown_key__error),
		T(open__override_without_equals__error),
		T(open__struct_version_4__error),
		T(open__struct_version_6__accepted),
		T(open__ssl_api_mbedtls__error),
		T(open__missing_cache_dir__error),
		T(tls_verify__good_leaf__success),
		T(tls_verify__revoked_leaf__error_logged),
		T(tls_verify__self_signed_root_at_depth_2__success),
		T(tls_verify__issuing_ca_at_depth_1__success),
		T(tls_verify__issuing_ca_revoked_by_root__error),
		T(tls_verify__missing_crl_default__error),
		T(tls_verify__missing_crl_accept_override__success_relaxed),
		T(tls_verify__unconfigured_issuer__error),
		T(tls_verify__expired_crl__error),
		T(tls_verify__expired_crl_within_grace_override__success_relaxed),
		T(tls_verify__ipv6_peer__named_in_line),
		T(tls_verify__no_peer_in_env__question_marks),
		T(tls_verify__no_certificate__error),
		T(func__other_plugin_type__success_no_decision),
		T(func__null_handle__error),
		T(reload__revoking_crl_renamed_in__rejected_within_5s),
		T(reload__nothing_renamed__no_reload),
		T(reload__garbage_over_crl__verdicts_kept),
		T(reload__garbage_new_file__verdicts_kept),
		T(reload__older_crl_unrevoking__rollback_refused),
		T(reopen__older_crl_after_restart__refused_from_marks_file),
		T(reopen__older_crl_at_sighup__refused_through_kept_fd),
		T(open__marks_file_group_writable__refused_naming_it),
		T(reload__crl_removed__fails_closed),
		T(close__null_handle__no_crash),
		T(close__right_after_rename__joins_watch_thread),
		T(close__inside_settle_window__joins_watch_thread),
		T(close__reopen_same_config__independent_instances),
		T(hammer__verify_while_crls_swap__every_verdict_from_a_generation),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
