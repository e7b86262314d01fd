/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the eviction thread (plugin/evict.c): its reachability check after OpenVPN's privilege drop, and a hostile management peer. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "evict.h"
#include "crl_reference.h"
#include "crlsync/crl.h"
#include "pki.h"

#define NOBODY 65534

/* The log sink: counts the lines that match, in the child. */
static const char *want_line;
static int want_seen, error_lines;

static void sink_fn(void *ctx, enum log_level level, const char *line)
{
	(void)ctx;
	if (level == LOG_LVL_ERROR)
		__atomic_add_fetch(&error_lines, 1, __ATOMIC_SEQ_CST);
	if (strstr(line, want_line) != NULL)
		__atomic_add_fetch(&want_seen, 1, __ATOMIC_SEQ_CST);
}

static struct store *no_store(void *ctx)
{
	(void)ctx;
	return NULL;
}

/* A listening unix socket at dir/mgmt.sock that greets every connection like OpenVPN, as root. */
static int listen_in(const char *dir, mode_t mode, char *spec, size_t len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int ls;

	assert_int_equal(mkdir(dir, mode), 0);
	assert_int_equal(chmod(dir, mode), 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/mgmt.sock", dir);
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(chmod(sun.sun_path, 0777), 0); /* as OpenVPN creates it (umask 0) */
	assert_int_equal(listen(ls, 8), 0);
	snprintf(spec, len, "unix:%s", sun.sun_path);
	return ls;
}

static void greet(int ls)
{
	static const char banner[] = ">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info\r\n";
	int c = accept(ls, NULL, NULL);

	if (c >= 0) {
		if (write(c, banner, sizeof(banner) - 1) < 0)
			exit(3);
		usleep(100 * 1000);
		close(c);
	}
}

/*
 * In a child: starts the evictor as root, drops to nobody as OpenVPN does after opening plugins
 * (every thread changes uid), and waits up to 4 s for `want` in the plugin's lines. Exits 0 when
 * it came exactly once with exactly `errors` error lines; 1 when it did not come; 2 otherwise.
 */
static int run_dropped(int dir_mode, const char *want, int errors)
{
	char dir[128], spec[160];
	pid_t pid;
	int st;

	snprintf(dir, sizeof(dir), "/tmp/crlsync-test-evict-%ld", (long)getpid());
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct cfg cfg = { 0 };
		struct policy pol = { 0 };
		struct log_sink sink = { .fn = sink_fn };
		struct evictor *e = NULL;
		int ls = listen_in(dir, (mode_t)dir_mode, spec, sizeof(spec));

		want_line = want;
		cfg.plugin.management = spec;
		cfg.plugin.evict = 1;
		if (evictor_start(&cfg, &pol, &sink, no_store, NULL, &e) != 0)
			_exit(3);
		if (setresgid(NOBODY, NOBODY, NOBODY) != 0 || setresuid(NOBODY, NOBODY, NOBODY) != 0)
			_exit(3);
		for (int i = 0; i < 40 && __atomic_load_n(&want_seen, __ATOMIC_SEQ_CST) == 0; i++) {
			struct timeval tv = { 0, 100 * 1000 };
			fd_set rd;

			FD_ZERO(&rd);
			FD_SET(ls, &rd);
			if (select(ls + 1, &rd, NULL, NULL, &tv) > 0)
				greet(ls);
		}
		usleep(1200 * 1000); /* long enough for a second line, were there one */
		evictor_stop(e);
		_exit(want_seen == 0 ? 1 : want_seen == 1 && error_lines == errors ? 0 : 2);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	{
		char sock[160];

		snprintf(sock, sizeof(sock), "%s/mgmt.sock", dir);
		unlink(sock);
		rmdir(dir);
	}
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Dropping privileges needs root: skipped without it, except under CI=true (a failure there). */
static void need_root(void)
{
	const char *ci = getenv("CI");

	if (geteuid() == 0)
		return;
	if (ci != NULL && strcmp(ci, "true") == 0)
		fail_msg("CI=true and not root: cannot test the privilege drop");
	skip();
}

static void evictor__dropped_to_nobody_root_only_dir__one_clear_error(void **state)
{
	(void)state;
	need_root();
	/* One error, naming the uid, the cause and the fixes, and not repeated. */
	assert_int_equal(run_dropped(0700, "cannot be reached as uid 65534 (nobody), the user OpenVPN runs as now "
					   "(cannot connect: Permission denied): connected clients that a new CRL "
					   "revokes will NOT be evicted. Fix:", 1),
			 0);
	assert_int_equal(run_dropped(0700, "management-client-user nobody", 1), 0);
	assert_int_equal(run_dropped(0700, "TCP port with a password file", 1), 0);
}

static void evictor__dropped_to_nobody_searchable_dir__reachable(void **state)
{
	(void)state;
	need_root();
	/* The twin: nobody can search the directory, so the interface greets it; no error. */
	assert_int_equal(run_dropped(0755, "is reachable as uid 65534 (nobody)", 0), 0);
}

/* ---- a hostile management peer: the evictor with revoked clients, the test answering for OpenVPN ---- */

/* Every line the evictor logged, one string. */
static pthread_mutex_t lines_lock = PTHREAD_MUTEX_INITIALIZER;
static char lines[65536];

static void collect_fn(void *ctx, enum log_level level, const char *line)
{
	size_t l;

	(void)ctx;
	(void)level;
	pthread_mutex_lock(&lines_lock);
	l = strlen(lines);
	snprintf(lines + l, sizeof(lines) - l, "%s\n", line);
	pthread_mutex_unlock(&lines_lock);
}

static size_t count_in_lines(const char *what)
{
	size_t n = 0;

	pthread_mutex_lock(&lines_lock);
	for (const char *p = lines; (p = strstr(p, what)) != NULL; p++)
		n++;
	pthread_mutex_unlock(&lines_lock);
	return n;
}

static struct store *peer_snap;

static struct store *snap_acquire(void *ctx)
{
	(void)ctx;
	return store_ref(peer_snap);
}

/* Clients CN=victim<i>, serial i + 1, connected at 1000 with pool address 10.8.0.<i + 2>; all revoked. */
#define PEER_VICTIMS 3

struct peer {
	struct pki_ca *ca;
	X509 *leaf[PEER_VICTIMS];
	struct cfg cfg;
	struct policy pol;
	struct log_sink sink;
	struct evictor *e;
	struct evict_client *c[PEER_VICTIMS];
	char path[108], spec[120];
	int ls;
};

static void peer_start(struct peer *p)
{
	struct pki_crl_entry ent[PEER_VICTIMS];
	unsigned char sn[PEER_VICTIMS];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	X509 *cas[1];
	X509_CRL *x;
	struct crl *crl = NULL;
	char err[256];

	memset(p, 0, sizeof(*p));
	lines[0] = '\0';
	p->ca = pki_ca_new("crlsync evict CA", NULL, 0);
	for (int i = 0; i < PEER_VICTIMS; i++) {
		char cn[16];

		sn[i] = (unsigned char)(i + 1);
		snprintf(cn, sizeof(cn), "victim%d", i);
		p->leaf[i] = pki_leaf_new(p->ca, cn, &(struct pki_leaf_opts){ .serial = &sn[i], .serial_len = 1 });
		ent[i] = (struct pki_crl_entry){ .serial = &sn[i], .serial_len = 1, .reason = 1 };
	}
	x = pki_crl_new(&(struct pki_crl_opts){ .issuer = p->ca, .entries = ent, .n_entries = PEER_VICTIMS });
	cas[0] = p->ca->cert;
	if (crl_from_x509(x, cas, 1, time(NULL), "evict.crl", &crl, err, sizeof(err)) != CRL_OK)
		fail_msg("crl_from_x509: %s", err);
	X509_CRL_free(x);
	peer_snap = calloc(1, sizeof(*peer_snap));
	assert_non_null(peer_snap);
	atomic_init(&peer_snap->refs, 1);
	peer_snap->issuers = calloc(1, sizeof(*peer_snap->issuers));
	peer_snap->issuers[0] = (struct store_issuer){ .ca = p->ca->cert, .source = "evict" };
	peer_snap->issuers[0].crls = calloc(1, sizeof(struct crl *));
	peer_snap->issuers[0].crls[0] = crl;
	peer_snap->issuers[0].n_crls = 1;
	peer_snap->n_issuers = peer_snap->n_crls = 1;

	snprintf(p->path, sizeof(p->path), "/tmp/crlsync-test-evict-peer-%ld.sock", (long)getpid());
	unlink(p->path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", p->path);
	p->ls = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(p->ls >= 0);
	assert_int_equal(bind(p->ls, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(p->ls, 4), 0);
	snprintf(p->spec, sizeof(p->spec), "unix:%s", p->path);
	p->cfg.plugin.management = p->spec;
	p->cfg.plugin.evict = 1;
	p->sink.fn = collect_fn;
	assert_int_equal(evictor_start(&p->cfg, &p->pol, &p->sink, snap_acquire, NULL, &p->e), 0);
	for (int i = 0; i < PEER_VICTIMS; i++) {
		char cn[32], vaddr[48], port[32];
		const char *env[] = { cn, "time_unix=1000", vaddr, "trusted_ip=127.0.0.1", port, NULL };

		snprintf(cn, sizeof(cn), "common_name=victim%d", i);
		snprintf(vaddr, sizeof(vaddr), "ifconfig_pool_remote_ip=10.8.0.%d", i + 2);
		snprintf(port, sizeof(port), "trusted_port=%d", 40000 + i);
		p->c[i] = evictor_client_new(p->e);
		assert_non_null(p->c[i]);
		evictor_learn(p->e, p->c[i], 0, p->leaf[i], env);
		evictor_connected(p->e, p->c[i], env); /* kicks the thread */
	}
}

static void peer_stop(struct peer *p)
{
	evictor_stop(p->e);
	close(p->ls);
	unlink(p->path);
	store_unref(peer_snap);
	peer_snap = NULL;
	for (int i = 0; i < PEER_VICTIMS; i++)
		X509_free(p->leaf[i]);
	pki_ca_free(p->ca);
}

/* The next connection of the evictor, greeted as OpenVPN does; -1 when none comes within ms. */
static int peer_accept(struct peer *p, int ms)
{
	static const char banner[] = ">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info\r\n";
	struct pollfd pf = { .fd = p->ls, .events = POLLIN };
	int c;

	if (poll(&pf, 1, ms) != 1 || (c = accept(p->ls, NULL, NULL)) < 0)
		return -1;
	assert_int_equal(write(c, banner, sizeof(banner) - 1), (ssize_t)sizeof(banner) - 1);
	return c;
}

/* One command line from the evictor into buf (no newline); false on EOF or after ms. */
static bool peer_line(int c, char *buf, size_t len, int ms)
{
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd pf = { .fd = c, .events = POLLIN };

		if (poll(&pf, 1, ms) != 1 || read(c, buf + n, 1) != 1)
			return false;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return true;
		}
		n++;
	}
	return false;
}

/* Sends s; the evictor may have hung up already. */
static void peer_send(int c, const char *s)
{
	(void)!send(c, s, strlen(s), MSG_NOSIGNAL);
}

/* `status 3' listing every victim, as OpenVPN 2.6 (cid = 7 + i). */
static void peer_status(int c)
{
	char buf[2048];
	size_t l;

	snprintf(buf, sizeof(buf), "TITLE\tOpenVPN 2.6.14\r\nHEADER\tCLIENT_LIST\tCommon Name\tReal Address\tVirtual Address\t"
				   "Virtual IPv6 Address\tConnected Since (time_t)\tClient ID\r\n");
	for (int i = 0; i < PEER_VICTIMS; i++) {
		l = strlen(buf);
		snprintf(buf + l, sizeof(buf) - l, "CLIENT_LIST\tvictim%d\t127.0.0.1:%d\t10.8.0.%d\t\t1000\t%d\r\n", i,
			 40000 + i, i + 2, 7 + i);
	}
	l = strlen(buf);
	snprintf(buf + l, sizeof(buf) - l, "END\r\n");
	peer_send(c, buf);
}

static void evictor__client_kill_unanswered__connection_dropped(void **state)
{
	struct peer p;
	char cmd[256];
	int c, kills = 0;

	(void)state;
	peer_start(&p);
	c = peer_accept(&p, 5000);
	assert_true(c >= 0);
	assert_true(peer_line(c, cmd, sizeof(cmd), 3000));
	assert_string_equal(cmd, "status 3");
	peer_status(c);
	/*
	 * The first client-kill is answered only after the evictor gave up on it (OpenVPN busy, or a
	 * peer playing games): the connection is out of step, and a late "SUCCESS:" must not be taken
	 * for the answer to the next victim's kill. Nothing more is sent on it.
	 */
	assert_true(peer_line(c, cmd, sizeof(cmd), 3000));
	assert_non_null(strstr(cmd, "client-kill "));
	kills++;
	usleep((EVICT_MGMT_TIMEOUT_MS + 500) * 1000);
	peer_send(c, "SUCCESS: client-kill command succeeded\r\n");
	while (peer_line(c, cmd, sizeof(cmd), 2000)) {
		if (strstr(cmd, "client-kill ") != NULL)
			kills++;
		peer_send(c, "ERROR: client-kill command failed\r\n");
	}
	close(c);
	assert_int_equal(kills, 1);
	assert_int_equal(count_in_lines("EVICT "), 0); /* no kill was confirmed */
	peer_stop(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(evictor__dropped_to_nobody_root_only_dir__one_clear_error),
		cmocka_unit_test(evictor__dropped_to_nobody_searchable_dir__reachable),
		cmocka_unit_test(evictor__client_kill_unanswered__connection_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
