/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reload_bench: TLS_VERIFY latency, enforcement delay and memory of the real plugin .so while a big CRL is replaced. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <openvpn-plugin.h>

#include "bench_util.h"

/*
 * OpenVPN as far as the plugin can tell: the .so is dlopen()ed and opened with a configuration
 * whose cache-dir holds one CRL, and TLS_VERIFY is called on the thread that opened it (as
 * OpenVPN does: decision lines then go to plugin_log, not to stderr). That thread calls
 * TLS_VERIFY for a probe certificate in a tight loop and records every call's duration, while
 * another thread renames a new CRL, which revokes the probe, into cache-dir. The plugin's own
 * threads write their lines to stderr: fd 2 is a pipe read here, for the "reload:" lines.
 */

#ifndef BENCH_PLUGIN_PATH
#define BENCH_PLUGIN_PATH "openvpn-plugin-crlsync.so"
#endif

/* Call durations: 10 ns bins up to 100 us, then 1 us bins up to 100 ms, then one overflow bin. */
#define FINE_NS 10
#define FINE_BINS 10000
#define COARSE_NS 1000
#define COARSE_BINS 100000

struct hist {
	uint32_t fine[FINE_BINS];
	uint32_t coarse[COARSE_BINS];
	uint64_t over, n;
	int64_t max;
	uint64_t above_1ms;
};

static void hist_add(struct hist *h, int64_t ns)
{
	if (ns < (int64_t)FINE_NS * FINE_BINS)
		h->fine[ns / FINE_NS]++;
	else if (ns < (int64_t)COARSE_NS * COARSE_BINS)
		h->coarse[ns / COARSE_NS]++;
	else
		h->over++;
	if (ns > h->max)
		h->max = ns;
	if (ns > 1000000)
		h->above_1ms++;
	h->n++;
}

/* Upper edge of the bin holding the p-th percentile, in ns. */
static double hist_pct(const struct hist *h, double p)
{
	uint64_t want = (uint64_t)(p / 100.0 * (double)h->n + 0.999999), seen = 0;

	if (h->n == 0)
		return 0;
	for (int i = 0; i < FINE_BINS; i++)
		if ((seen += h->fine[i]) >= want)
			return (double)(i + 1) * FINE_NS;
	for (int i = FINE_NS * FINE_BINS / COARSE_NS; i < COARSE_BINS; i++)
		if ((seen += h->coarse[i]) >= want)
			return (double)(i + 1) * COARSE_NS;
	return (double)h->max;
}

/* When the slow calls (> 1 ms) of the reload window happened, relative to the rename. */
#define SLOW_MAX 4096

struct slow_call {
	int64_t at, ns;
};

static struct slow_call slow[SLOW_MAX];
static size_t n_slow;

struct opts {
	const char *plugin;
	const char *ca, *ca_key;
	const char *empty, *base, *next;
	const char *probe_serial;
	long window_ms;
	const char *json;
	const char *label;
	bool verbose;
};

static struct {
	int real_stderr;
	atomic_ulong reloads;   /* "reload:" lines seen (stderr from the watch thread, or plugin_log) */
	char last_reload[512];  /* the last of them */
	pthread_mutex_t lock;
	bool verbose;
} logs = { .real_stderr = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;
	int fd = logs.real_stderr >= 0 ? logs.real_stderr : 2;

	va_start(ap, fmt);
	dprintf(fd, "reload_bench: ");
	vdprintf(fd, fmt, ap);
	dprintf(fd, "\n");
	va_end(ap);
	exit(1);
}

static void note_line(const char *line)
{
	const char *r = strstr(line, "reload:");

	if (logs.verbose)
		dprintf(logs.real_stderr >= 0 ? logs.real_stderr : 2, "  | %s\n", line);
	if (r == NULL)
		return;
	pthread_mutex_lock(&logs.lock);
	snprintf(logs.last_reload, sizeof(logs.last_reload), "%s", r);
	pthread_mutex_unlock(&logs.lock);
	atomic_fetch_add(&logs.reloads, 1);
}

/* OpenVPN's plugin_log: formats the line as OpenVPN would, keeps only what we need. */
static void fake_vlog(openvpn_plugin_log_flags_t flags, const char *name, const char *fmt, va_list ap)
{
	char text[1400];

	(void)flags;
	(void)name;
	vsnprintf(text, sizeof(text), fmt, ap);
	if (logs.verbose || strstr(text, "reload:") != NULL)
		note_line(text);
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
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = strchr(start, '\n')) != NULL) {
			*nl = '\0';
			note_line(start);
			start = nl + 1;
		}
		len = strlen(start);
		memmove(buf, start, len);
		if (len == sizeof(buf) - 1)
			len = 0;
	}
	return NULL;
}

static void capture_stderr(void)
{
	pthread_t t;
	int pfd[2];

	if (pipe(pfd) != 0 || (logs.real_stderr = dup(STDERR_FILENO)) < 0 || dup2(pfd[1], STDERR_FILENO) < 0)
		die("cannot capture stderr: %s", strerror(errno));
	close(pfd[1]);
	setvbuf(stderr, NULL, _IONBF, 0);
	if (pthread_create(&t, NULL, stderr_reader, (void *)(intptr_t)pfd[0]) != 0)
		die("pthread_create failed");
	pthread_detach(t);
}

/* ---- the plugin, as OpenVPN 2.6 drives it ---- */

static struct {
	void *so;
	int (*open_v3)(const int, struct openvpn_plugin_args_open_in const *, struct openvpn_plugin_args_open_return *);
	int (*func_v3)(const int, struct openvpn_plugin_args_func_in const *, struct openvpn_plugin_args_func_return *);
	void (*close_v1)(openvpn_plugin_handle_t);
	openvpn_plugin_handle_t handle;
} plugin;

static struct openvpn_plugin_callbacks callbacks = { .plugin_log = fake_log, .plugin_vlog = fake_vlog };

static void plugin_open(const char *so, const char *conf)
{
	static const char *envp[] = { "verb=4", "dev=tun0", NULL };
	const char *argv[] = { so, conf, NULL };
	const struct openvpn_plugin_args_open_in in = {
		.type_mask = (1 << OPENVPN_PLUGIN_N) - 1,
		.argv = argv,
		.envp = envp,
		.callbacks = &callbacks,
		.ssl_api = SSLAPI_OPENSSL,
		.ovpn_version = "2.6.14",
		.ovpn_version_major = 2,
		.ovpn_version_minor = 6,
		.ovpn_version_patch = ".14",
	};
	struct openvpn_plugin_args_open_return ret = { 0 };

	plugin.so = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (plugin.so == NULL)
		die("dlopen %s: %s", so, dlerror());
	*(void **)&plugin.open_v3 = dlsym(plugin.so, "openvpn_plugin_open_v3");
	*(void **)&plugin.func_v3 = dlsym(plugin.so, "openvpn_plugin_func_v3");
	*(void **)&plugin.close_v1 = dlsym(plugin.so, "openvpn_plugin_close_v1");
	if (plugin.open_v3 == NULL || plugin.func_v3 == NULL || plugin.close_v1 == NULL)
		die("%s lacks the OpenVPN v3 entry points", so);
	if (plugin.open_v3(OPENVPN_PLUGINv3_STRUCTVER, &in, &ret) != OPENVPN_PLUGIN_FUNC_SUCCESS)
		die("openvpn_plugin_open_v3 failed (run with --verbose to see the plugin's lines)");
	plugin.handle = ret.handle;
}

/* One TLS_VERIFY of `cert` at depth 0, as OpenVPN 2.6 makes it. True when accepted. */
static bool tls_verify(X509 *cert)
{
	static const char *envp[] = { "verb=4", "untrusted_ip=127.0.0.1", "untrusted_port=51194", NULL };
	static const char *argv[] = { "openvpn-plugin-crlsync.so", NULL };
	const struct openvpn_plugin_args_func_in in = {
		.type = OPENVPN_PLUGIN_TLS_VERIFY,
		.argv = argv,
		.envp = envp,
		.handle = plugin.handle,
		.current_cert_depth = 0,
		.current_cert = cert,
	};
	struct openvpn_plugin_string_list *list = NULL;
	struct openvpn_plugin_args_func_return ret = { .return_list = &list };

	return plugin.func_v3(OPENVPN_PLUGINv3_STRUCTVER, &in, &ret) == OPENVPN_PLUGIN_FUNC_SUCCESS;
}

/* ---- fixtures ---- */

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		die("%s: no PEM certificate", path);
	return x;
}

static EVP_PKEY *read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		die("%s: no PEM private key", path);
	return k;
}

/* The probe: a client certificate with serial `hex`, issued by the CA (authorityKeyIdentifier included). */
static X509 *make_probe(X509 *ca, EVP_PKEY *ca_key, const char *hex)
{
	X509 *x = X509_new();
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	BIGNUM *bn = NULL;
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int id = EVP_PKEY_get_base_id(ca_key);

	if (x == NULL || key == NULL || name == NULL || !BN_hex2bn(&bn, hex))
		die("cannot make the probe certificate (serial `%s')", hex);
	X509_set_version(x, X509_VERSION_3);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"reload-probe", -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, X509_get_subject_name(ca));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
	if (e == NULL || !X509_add_ext(x, e, -1))
		die("cannot add the probe's authorityKeyIdentifier");
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:FALSE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (!X509_sign(x, ca_key, id == EVP_PKEY_ED25519 ? NULL : EVP_sha256()))
		die("cannot sign the probe certificate");
	BN_free(bn);
	X509_NAME_free(name);
	EVP_PKEY_free(key);
	return x;
}

static void copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	if (in < 0)
		die("%s: %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		die("%s: %s", to, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			die("%s: %s", to, strerror(errno));
	if (n < 0 || close(out) != 0)
		die("copying %s: %s", from, strerror(errno));
	close(in);
}

struct world {
	char dir[64];
	char cache[96];
	char conf[96];
	char target[128];
};

static void world_make(struct world *w, const struct opts *o)
{
	char ca_abs[PATH_MAX];
	FILE *f;

	snprintf(w->dir, sizeof(w->dir), "/tmp/crlsync-reload-XXXXXX");
	if (mkdtemp(w->dir) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(w->cache, sizeof(w->cache), "%s/cache", w->dir);
	snprintf(w->conf, sizeof(w->conf), "%s/crlsync.conf", w->dir);
	snprintf(w->target, sizeof(w->target), "%s/bench.crl", w->cache);
	if (mkdir(w->cache, 0755) != 0)
		die("%s: %s", w->cache, strerror(errno));
	f = fopen(w->conf, "w");
	if (f == NULL)
		die("%s: %s", w->conf, strerror(errno));
	if (realpath(o->ca, ca_abs) == NULL)
		die("%s: %s", o->ca, strerror(errno));
	/* The rollback marks beside cache-dir, never in /var/lib (each run has a CA of its own anyway). */
	fprintf(f, "; written by reload_bench\n[global]\ncache-dir = %s\n\n[plugin]\nmissing = reject\nexpired = reject\n"
		   "marks-file = %s/plugin-marks/marks\n\n[source bench]\nurl = http://127.0.0.1/unused.crl\nca = %s\n",
		   w->cache, w->dir, ca_abs);
	fclose(f);
}

/* Copies `from` next to cache-dir first (a hidden name inside it), so that install() is a bare rename. */
static void stage(const struct world *w, const char *from, const char *name)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/.%s", w->cache, name);
	copy_file(from, path);
}

static int64_t install(const struct world *w, const char *name)
{
	char path[192];
	int64_t t;

	snprintf(path, sizeof(path), "%s/.%s", w->cache, name);
	t = bench_now_ns();
	if (rename(path, w->target) != 0)
		die("rename %s: %s", path, strerror(errno));
	return t;
}

static void world_remove(const struct world *w)
{
	char path[192];

	unlink(w->target);
	snprintf(path, sizeof(path), "%s/.base", w->cache);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.next", w->cache);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.empty", w->cache);
	unlink(path);
	rmdir(w->cache);
	unlink(w->conf);
	snprintf(path, sizeof(path), "%s/plugin-marks/marks", w->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/plugin-marks", w->dir);
	rmdir(path);
	rmdir(w->dir);
}

static struct world *the_world;

/* On every exit, die() included: no temp dir is left behind. */
static void cleanup(void)
{
	if (the_world != NULL)
		world_remove(the_world);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Waits for the plugin's next "reload:" line after `seen` of them. */
static bool wait_reload(unsigned long seen, long timeout_ms)
{
	int64_t end = bench_now_ns() + (int64_t)timeout_ms * 1000000;

	while (atomic_load(&logs.reloads) <= seen)
		if (bench_now_ns() > end)
			return false;
		else
			sleep_ms(2);
	return true;
}

/* Calls TLS_VERIFY for `ms` milliseconds (settling, warming); returns how many were accepted. */
static size_t verify_for(X509 *probe, long ms, struct hist *h)
{
	int64_t end = bench_now_ns() + (int64_t)ms * 1000000;
	size_t ok = 0;

	while (bench_now_ns() < end) {
		int64_t t0 = bench_now_ns();

		ok += tls_verify(probe);
		if (h != NULL)
			hist_add(h, bench_now_ns() - t0);
	}
	return ok;
}

/* ---- the replacement ---- */

struct renamer {
	const struct world *w;
	atomic_llong t_rename;
};

static void *renamer_main(void *arg)
{
	struct renamer *r = arg;

	sleep_ms(200); /* the verify loop is running at full speed by then */
	atomic_store(&r->t_rename, install(r->w, "next"));
	return NULL;
}

static double reload_ms_of(const char *line)
{
	const char *p = strrchr(line, ',');

	return p != NULL ? strtod(p + 1, NULL) : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: reload_bench --ca CA.pem --ca-key KEY.pem --empty EMPTY.der --base OLD.der --next NEW.der\n"
		"                    --probe-serial HEX [--plugin SO] [--window-ms N] [--label TEXT] [--json FILE]\n"
		"                    [--verbose]\n"
		"  OLD.der and NEW.der: big CRLs of the CA; NEW.der lists HEX and has a higher crlNumber.\n"
		"  EMPTY.der: a CRL of the CA without entries and a lower crlNumber (the baseline for bytes per entry).\n");
}

int main(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "plugin", required_argument, NULL, 'p' }, { "ca", required_argument, NULL, 'a' },
		{ "ca-key", required_argument, NULL, 'k' }, { "empty", required_argument, NULL, 'e' },
		{ "base", required_argument, NULL, 'b' }, { "next", required_argument, NULL, 'n' },
		{ "probe-serial", required_argument, NULL, 's' }, { "window-ms", required_argument, NULL, 'w' },
		{ "json", required_argument, NULL, 'j' }, { "label", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct opts o = { .plugin = BENCH_PLUGIN_PATH, .window_ms = 1000 };
	struct world w;
	struct renamer rn = { 0 };
	struct hist *idle = calloc(1, sizeof(*idle)), *win = calloc(1, sizeof(*win));
	X509 *ca, *probe;
	EVP_PKEY *ca_key;
	size_t rss_empty, rss_base, rss_after, hwm_during, entries = 0;
	unsigned long seen;
	int64_t t_reject = 0, t_end, t_start, t_rename;
	pthread_t th;
	char reload_base[512], reload_next[512], a[32], b[32];
	double reload_ms_next;
	uint64_t before_n = 0, accepted_after = 0;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o.plugin = optarg; break;
		case 'a': o.ca = optarg; break;
		case 'k': o.ca_key = optarg; break;
		case 'e': o.empty = optarg; break;
		case 'b': o.base = optarg; break;
		case 'n': o.next = optarg; break;
		case 's': o.probe_serial = optarg; break;
		case 'w': o.window_ms = strtol(optarg, NULL, 10); break;
		case 'j': o.json = optarg; break;
		case 'l': o.label = optarg; break;
		case 'v': logs.verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o.ca || !o.ca_key || !o.empty || !o.base || !o.next || !o.probe_serial || idle == NULL || win == NULL) {
		usage(stderr);
		return 2;
	}
	/* Every page of the histograms now, so that they are in every RSS figure alike. */
	memset(idle, 0, sizeof(*idle));
	memset(win, 0, sizeof(*win));
	ca = read_cert(o.ca);
	ca_key = read_key(o.ca_key);
	probe = make_probe(ca, ca_key, o.probe_serial);
	world_make(&w, &o);
	the_world = &w;
	atexit(cleanup);
	stage(&w, o.empty, "empty");
	stage(&w, o.base, "base");
	stage(&w, o.next, "next");
	install(&w, "empty");
	capture_stderr();

	/* 1. An empty CRL: the plugin's own footprint. */
	plugin_open(o.plugin, w.conf);
	if (!wait_reload(0, 5000))
		die("no startup reload line from the plugin");
	if (verify_for(probe, 300, NULL) == 0)
		die("the probe is rejected with an empty CRL (run with --verbose)");
	rss_empty = bench_rss();

	/* 2. The big CRL, loaded by the plugin's watch thread. */
	seen = atomic_load(&logs.reloads);
	install(&w, "base");
	if (!wait_reload(seen, 120000))
		die("the plugin did not reload %s within 120 s", o.base);
	pthread_mutex_lock(&logs.lock);
	snprintf(reload_base, sizeof(reload_base), "%s", logs.last_reload);
	pthread_mutex_unlock(&logs.lock);
	{
		const char *p = strstr(reload_base, "CRL(s) in force");

		p = p ? strstr(p, "ca(s), ") : NULL;
		entries = p ? strtoull(p + 7, NULL, 10) : 0;
	}
	if (entries == 0)
		die("the plugin did not take %s (a crlNumber not above the empty CRL's? run with --verbose): %s", o.base,
		    reload_base);
	sleep_ms(1000); /* the old snapshot is freed, the watch thread idle */
	if (verify_for(probe, 1000, idle) == 0)
		die("the probe is rejected by %s: it must not list %s", o.base, o.probe_serial);
	rss_base = bench_rss();

	/* 3. The replacement, under a tight TLS_VERIFY loop on OpenVPN's (this) thread. */
	bench_hwm_reset();
	seen = atomic_load(&logs.reloads);
	atomic_store(&rn.t_rename, 0);
	rn.w = &w;
	if (pthread_create(&th, NULL, renamer_main, &rn) != 0)
		die("pthread_create failed");
	t_start = bench_now_ns();
	t_end = t_start + 120LL * 1000000000;
	for (;;) {
		int64_t t0 = bench_now_ns(), t1;
		bool ok = tls_verify(probe);

		t1 = bench_now_ns();
		t_rename = atomic_load(&rn.t_rename);
		if (t_rename == 0 || t0 < t_rename) {
			hist_add(idle, t1 - t0);
			before_n++;
			continue;
		}
		hist_add(win, t1 - t0);
		if (t1 - t0 > 1000000 && n_slow < SLOW_MAX)
			slow[n_slow++] = (struct slow_call){ t0 - t_rename, t1 - t0 };
		if (!ok && t_reject == 0) {
			t_reject = t1;
			t_end = t1 + (int64_t)o.window_ms * 1000000;
		}
		if (ok && t_reject != 0)
			accepted_after++;
		if (t1 > t_end)
			break;
	}
	pthread_join(th, NULL);
	hwm_during = bench_hwm();
	if (t_reject == 0)
		die("the probe was never rejected within 120 s of the rename: does %s list %s?", o.next, o.probe_serial);
	wait_reload(seen, 5000);
	pthread_mutex_lock(&logs.lock);
	snprintf(reload_next, sizeof(reload_next), "%s", logs.last_reload);
	pthread_mutex_unlock(&logs.lock);
	reload_ms_next = reload_ms_of(reload_next);
	sleep_ms(1000);
	rss_after = bench_rss();

	/* 4. The table. */
	{
		double n = entries ? (double)entries : 1, enforce = (double)(t_reject - t_rename);
		double per_entry = ((double)rss_base - (double)rss_empty) / n;
		double p999 = hist_pct(win, 99.9), p99 = hist_pct(win, 99), p50 = hist_pct(win, 50);

		printf("\n### Plugin reload%s%s: %zu entries replaced by %zu (TLS_VERIFY loop on OpenVPN's thread)\n\n",
		       o.label ? " " : "", o.label ? o.label : "", entries, entries);
		printf("| | measured | target | anchor (crl-verify, 1M) |\n|---|---:|---|---:|\n");
		printf("| TLS_VERIFY calls during the reload window | %llu | | |\n", (unsigned long long)win->n);
		printf("| TLS_VERIFY max during reload | %s | <= 1 ms | server blocked 3.0 s |\n",
		       bench_fmt_ns((double)win->max, a, sizeof(a)));
		printf("| TLS_VERIFY p99.9 / p99 / p50 during reload | %s / ", bench_fmt_ns(p999, a, sizeof(a)));
		printf("%s / ", bench_fmt_ns(p99, a, sizeof(a)));
		printf("%s | | |\n", bench_fmt_ns(p50, a, sizeof(a)));
		printf("| TLS_VERIFY calls > 1 ms during reload | %llu | 0 | |\n", (unsigned long long)win->above_1ms);
		printf("| TLS_VERIFY p50 / max before the rename | %s / ", bench_fmt_ns(hist_pct(idle, 50), a, sizeof(a)));
		printf("%s | | |\n", bench_fmt_ns((double)idle->max, b, sizeof(b)));
		printf("| rename -> first REJECT | %s | <= 0.5 s | |\n", bench_fmt_ns(enforce, a, sizeof(a)));
		printf("| plugin's own reload time (its log line) | %.1f ms | | |\n", reload_ms_next);
		printf("| accepted after the first REJECT | %llu | 0 | |\n", (unsigned long long)accepted_after);
		printf("| RSS with an empty CRL | %s | | |\n", bench_fmt_mib((double)rss_empty, a, sizeof(a)));
		printf("| RSS steady with the CRL | %s | | 248 MiB (server) |\n", bench_fmt_mib((double)rss_base, a, sizeof(a)));
		printf("| resident bytes per entry | %.1f B | <= 32 B | |\n", per_entry);
		printf("| peak RSS during the reload (VmHWM) | %s (+%s) | <= steady + 64 MiB | 367 MiB (server) |\n",
		       bench_fmt_mib((double)hwm_during, a, sizeof(a)),
		       bench_fmt_mib((double)hwm_during - (double)rss_base, b, sizeof(b)));
		printf("| RSS 1 s after the reload | %s | | |\n", bench_fmt_mib((double)rss_after, a, sizeof(a)));
		if (n_slow > 0) {
			size_t before = 0;

			for (size_t i = 0; i < n_slow; i++)
				before += slow[i].at < enforce;
			printf("\nCalls over 1 ms: %zu while the new CRL was loading, %zu after the swap; the first ones "
			       "(ms after the rename: duration):", before, n_slow - before);
			for (size_t i = 0; i < n_slow && i < 12; i++)
				printf(" %.0f: %s%s", (double)slow[i].at / 1e6, bench_fmt_ns((double)slow[i].ns, a, sizeof(a)),
				       i + 1 < n_slow && i + 1 < 12 ? "," : "");
			printf("\n");
		}
		if (o.json != NULL) {
			FILE *f = fopen(o.json, "a");

			if (f == NULL)
				die("%s: %s", o.json, strerror(errno));
			fprintf(f,
				"{\"bench\":\"reload\",\"label\":\"%s\",\"entries\":%zu,\"calls\":%llu,\"max_ns\":%lld,"
				"\"p999_ns\":%.0f,\"p99_ns\":%.0f,\"p50_ns\":%.0f,\"above_1ms\":%llu,\"idle_p50_ns\":%.0f,\"idle_max_ns\":%lld,"
				"\"enforce_ns\":%.0f,\"reload_ms\":%.1f,\"accepted_after\":%llu,\"rss_empty\":%zu,"
				"\"rss_steady\":%zu,\"bytes_per_entry\":%.1f,\"hwm_during\":%zu,\"rss_after\":%zu}\n",
				o.label ? o.label : "", entries, (unsigned long long)win->n, (long long)win->max, p999, p99,
				p50, (unsigned long long)win->above_1ms, hist_pct(idle, 50), (long long)idle->max, enforce, reload_ms_next,
				(unsigned long long)accepted_after, rss_empty, rss_base, per_entry, hwm_during, rss_after);
			fclose(f);
		}
	}
	fflush(stdout);
	(void)before_n;
	plugin.close_v1(plugin.handle);
	X509_free(probe);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	free(idle);
	free(win);
	return 0;
}
