/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of lib/mark.c: the one rollback rule, stream keys, and the marks file (text, slots, ownership). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "crlsync/mark.h"
#include "pki.h"

static struct pki_ca *ca_a, *ca_b;

static int group_setup(void **state)
{
	(void)state;
	ca_a = pki_ca_new("crlsync mark CA A", NULL, 0);
	ca_b = pki_ca_new("crlsync mark CA B", NULL, 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	pki_ca_free(ca_a);
	pki_ca_free(ca_b);
	return 0;
}

/* A mark by hand: issuer A, complete scope, number n (0: none), thisUpdate tu, digest filled with d. */
static struct mark mk(unsigned n, time_t tu, unsigned char d)
{
	struct mark m;
	unsigned char num = (unsigned char)n;

	memset(&m, 0, sizeof(m));
	m.stream.has_issuer = true;
	memset(m.stream.issuer, 0xAA, sizeof(m.stream.issuer));
	m.stream.scope_kind = MARK_SCOPE_COMPLETE;
	mark_set_number(&m, n != 0, &num, 1);
	m.this_update = tu;
	memset(m.digest, d, sizeof(m.digest));
	return m;
}

/* ---- the rule ---- */

static void mark_is_rollback__older_number__true(void **state)
{
	struct mark ref = mk(5, 1000, 1), cand = mk(4, 2000, 2); /* a later thisUpdate does not help */

	(void)state;
	assert_true(mark_compare_age(&cand, &ref) < 0);
	assert_true(mark_is_rollback(&cand, &ref));
}

static void mark_is_rollback__newer_number__false(void **state)
{
	struct mark ref = mk(5, 1000, 1), cand = mk(6, 900, 2);

	(void)state;
	assert_true(mark_compare_age(&cand, &ref) > 0);
	assert_false(mark_is_rollback(&cand, &ref));
}

static void mark_is_rollback__same_number_other_digest__true(void **state)
{
	struct mark ref = mk(5, 1000, 1), cand = mk(5, 1000, 2);

	(void)state;
	assert_int_equal(mark_compare_age(&cand, &ref), 0);
	assert_true(mark_is_rollback(&cand, &ref));
}

static void mark_is_rollback__same_number_same_digest__false(void **state)
{
	struct mark ref = mk(5, 1000, 1), cand = mk(5, 1000, 1);

	(void)state;
	assert_false(mark_is_rollback(&cand, &ref));
}

static void mark_is_rollback__no_number__this_update_decides(void **state)
{
	struct mark ref = mk(0, 1000, 1), older = mk(0, 999, 2), newer = mk(0, 1001, 3), numbered_old = mk(9, 999, 4);

	(void)state;
	assert_string_equal(ref.number_hex, "none");
	assert_true(mark_is_rollback(&older, &ref));
	assert_false(mark_is_rollback(&newer, &ref));
	/* one side without a number: thisUpdate decides, whatever the other's number */
	assert_true(mark_is_rollback(&numbered_old, &ref));
}

static void mark_compare_age__longer_number__newer(void **state)
{
	struct mark a = mk(0xFF, 0, 1), b;
	static const unsigned char two[] = { 0x01, 0x00 };

	(void)state;
	b = a;
	mark_set_number(&b, true, two, 2);
	assert_string_equal(b.number_hex, "0100");
	assert_true(mark_compare_age(&b, &a) > 0);
	assert_true(mark_compare_age(&a, &b) < 0);
}

static void mark_same_stream__different_scope__false(void **state)
{
	struct mark a = mk(1, 0, 1), b = a;

	(void)state;
	b.stream.scope_kind = MARK_SCOPE_IDP;
	memset(b.stream.scope, 0x11, sizeof(b.stream.scope));
	assert_false(mark_same_stream(&a.stream, &b.stream));
	a.stream = b.stream;
	a.stream.scope[0] = 0x12;
	assert_false(mark_same_stream(&a.stream, &b.stream));
	a.stream.scope[0] = 0x11;
	assert_true(mark_same_stream(&a.stream, &b.stream));
}

static void mark_same_stream__different_issuer__false(void **state)
{
	struct mark a = mk(1, 0, 1), b = a;

	(void)state;
	b.stream.issuer[3] ^= 1;
	assert_false(mark_same_stream(&a.stream, &b.stream));
	/* unknown (a fetcher state from before issuers were kept) matches */
	b.stream.has_issuer = false;
	assert_true(mark_same_stream(&a.stream, &b.stream));
}

static void mark_same_stream__unknown_scope__matches_any(void **state)
{
	struct mark a = mk(1, 0, 1), b = a;

	(void)state;
	b.stream.scope_kind = MARK_SCOPE_UNKNOWN;
	assert_true(mark_same_stream(&a.stream, &b.stream));
}

static void mark_stream_of__crls__issuer_from_ca_scope_from_idp(void **state)
{
	static unsigned char idp1[] = { 0x30, 0x03, 0x81, 0x01, 0xff }, idp2[] = { 0x30, 0x03, 0x82, 0x01, 0xff };
	struct crl c1 = { .ca = ca_a->cert }, c2 = { .ca = ca_a->cert, .scope = idp1, .scope_len = sizeof(idp1) },
		   c3 = { .ca = ca_a->cert, .scope = idp2, .scope_len = sizeof(idp2) }, c4 = { .ca = ca_b->cert };
	struct mark_stream s1, s2, s3, s4, s2b;
	char text[MARK_SCOPE_TEXT_LEN];

	(void)state;
	mark_stream_of(&c1, &s1);
	mark_stream_of(&c2, &s2);
	mark_stream_of(&c3, &s3);
	mark_stream_of(&c4, &s4);
	mark_stream_of(&c2, &s2b);
	assert_true(s1.has_issuer);
	assert_int_equal(s1.scope_kind, MARK_SCOPE_COMPLETE);
	assert_int_equal(s2.scope_kind, MARK_SCOPE_IDP);
	assert_false(mark_same_stream(&s1, &s2));
	assert_false(mark_same_stream(&s2, &s3));
	assert_false(mark_same_stream(&s1, &s4));
	assert_true(mark_same_stream(&s2, &s2b));
	/* the scope text is the fetcher state's form: "complete" or the SHA-256 hex of the IDP's DER */
	mark_scope_text(&s1, text);
	assert_string_equal(text, "complete");
	mark_scope_text(&s2, text);
	assert_int_equal(strlen(text), 64);
	assert_true(mark_scope_parse(text, &s3));
	assert_memory_equal(s3.scope, s2.scope, MARK_KEY_LEN);
	assert_false(mark_scope_parse("complet", &s3));
	assert_int_equal(s3.scope_kind, MARK_SCOPE_UNKNOWN);
}

static void mark_raise__older__unchanged_newer__raised(void **state)
{
	struct mark m = mk(5, 0, 1), older = mk(4, 0, 2), newer = mk(6, 0, 3), other = mk(9, 0, 4);

	(void)state;
	assert_false(mark_raise(&m, &older));
	assert_string_equal(m.number_hex, "05");
	assert_true(mark_raise(&m, &newer));
	assert_string_equal(m.number_hex, "06");
	other.stream.scope_kind = MARK_SCOPE_IDP;
	assert_false(mark_raise(&m, &other)); /* another stream says nothing about this one */
	assert_string_equal(m.number_hex, "06");
}

/* ---- text ---- */

static void mark_format__round_trip__same_mark(void **state)
{
	struct mark a = mk(0x7F, 1764000000, 0x5A), b, none = mk(0, -5, 1), zero = a;
	char line[MARK_LINE_MAX];
	size_t n;

	(void)state;
	n = mark_format(&a, line, sizeof(line));
	assert_true(n > 0 && n == strlen(line));
	assert_true(mark_parse(line, n, &b));
	assert_memory_equal(&a, &b, sizeof(a));
	n = mark_format(&none, line, sizeof(line));
	assert_true(mark_parse(line, n, &b));
	assert_false(b.has_number);
	assert_int_equal(b.this_update, -5);
	mark_set_number(&zero, true, NULL, 0);
	n = mark_format(&zero, line, sizeof(line));
	assert_true(mark_parse(line, n, &b));
	assert_true(b.has_number);
	assert_int_equal(b.number_len, 0);
	assert_string_equal(b.number_hex, "0");
}

static void mark_parse__one_byte_changed__refused(void **state)
{
	struct mark a = mk(0x7F, 1764000000, 0x5A), b;
	char line[MARK_LINE_MAX];
	size_t n;

	(void)state;
	n = mark_format(&a, line, sizeof(line));
	for (size_t i = 0; i < n; i++) {
		char keep = line[i];

		line[i] = keep == '1' ? '2' : '1';
		assert_false(mark_parse(line, n, &b));
		line[i] = keep;
	}
	assert_false(mark_parse(line, n - 1, &b));
	assert_true(mark_parse(line, n, &b));
}

static void mark_set_decode__intact_block__all_marks_and_seq(void **state)
{
	struct mark set[2] = { mk(3, 0, 1), mk(4, 0, 2) }, *out = NULL;
	unsigned long long seq = 0;
	size_t len, n = 0, bad = 0;
	char *text;

	(void)state;
	set[1].stream.scope_kind = MARK_SCOPE_IDP;
	assert_int_equal(mark_set_encode(set, 2, 42, &text, &len), 0);
	assert_int_equal(mark_set_decode(text, len, &out, &n, &seq, &bad), 1);
	assert_int_equal(n, 2);
	assert_int_equal(seq, 42);
	assert_int_equal(bad, 0);
	assert_memory_equal(&out[0], &set[0], sizeof(set[0]));
	assert_memory_equal(&out[1], &set[1], sizeof(set[1]));
	free(out);
	free(text);
}

static void mark_set_decode__torn_block__lines_that_check_kept(void **state)
{
	struct mark set[2] = { mk(3, 0, 1), mk(4, 0, 2) }, *out = NULL;
	unsigned long long seq = 0;
	size_t len, n = 0, bad = 0;
	char *text, *nl;

	(void)state;
	set[1].stream.scope_kind = MARK_SCOPE_IDP;
	assert_int_equal(mark_set_encode(set, 2, 7, &text, &len), 0);
	/* torn in the middle of the second record */
	nl = strchr(strchr(text, '\n') + 1, '\n');
	assert_int_equal(mark_set_decode(text, (size_t)(nl - text) + 20, &out, &n, &seq, &bad), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].number_hex, "03");
	assert_true(bad >= 1);
	free(out);
	free(text);
}

/* ---- the file ---- */

struct fworld {
	char *dir;
	char path[PATH_MAX];
	char log[4096];
	struct log_sink sink;
};

static void capture(void *ctx, enum log_level level, const char *line)
{
	struct fworld *w = ctx;
	size_t used = strlen(w->log);

	(void)level;
	snprintf(w->log + used, sizeof(w->log) - used, "%s\n", line);
}

static int fsetup(void **state)
{
	struct fworld *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->dir = pki_tmpdir();
	assert_int_equal(chmod(w->dir, 0755), 0);
	snprintf(w->path, sizeof(w->path), "%s/marks.d/marks", w->dir);
	w->sink.fn = capture;
	w->sink.ctx = w;
	*state = w;
	return 0;
}

static int fteardown(void **state)
{
	struct fworld *w = *state;

	pki_rmtree(w->dir);
	free(w->dir);
	free(w);
	return 0;
}

static int open_marks(struct fworld *w, char *err, size_t errlen)
{
	return mark_file_open(w->path, true, err, errlen);
}

static void mark_file__round_trip__marks_back(void **state)
{
	struct fworld *w = *state;
	struct mark set[2] = { mk(3, 0, 1), mk(9, 0, 2) }, *out = NULL;
	char err[512] = "";
	size_t n = 0;
	struct stat st;
	int fd = open_marks(w, err, sizeof(err));

	assert_true(fd >= 0);
	set[1].stream.issuer[0] = 0xBB;
	assert_int_equal(mark_file_read(fd, w->path, &w->sink, &out, &n), 0);
	assert_int_equal(n, 0); /* a new file: no marks, nothing logged */
	assert_string_equal(w->log, "");
	assert_int_equal(mark_file_write(fd, set, 2), 0);
	close(fd);
	/* created 0600 in a 0700 directory */
	assert_int_equal(stat(w->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	fd = open_marks(w, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(mark_file_read(fd, w->path, &w->sink, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(&out[0], &set[0], sizeof(set[0]));
	assert_memory_equal(&out[1], &set[1], sizeof(set[1]));
	assert_string_equal(w->log, "");
	free(out);
	close(fd);
}

static void mark_file_write__lower_mark__never_lowers(void **state)
{
	struct fworld *w = *state;
	struct mark m5 = mk(5, 0, 1), m4 = mk(4, 0, 2), *out = NULL;
	char err[512];
	size_t n = 0;
	int fd = open_marks(w, err, sizeof(err));

	assert_true(fd >= 0);
	assert_int_equal(mark_file_write(fd, &m5, 1), 0);
	assert_int_equal(mark_file_write(fd, &m4, 1), 0); /* merged with what the file holds */
	assert_int_equal(mark_file_read(fd, w->path, &w->sink, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].number_hex, "05");
	free(out);
	close(fd);
}

/*
 * Two OpenVPN processes (a UDP and a TCP server) share the default marks file. Each write reads the
 * file, merges and rewrites a slot: unserialised, two writers that read the same file both pick the
 * same slot and the second drops the mark the first wrote, and a restart then accepts that rollback.
 * A writer waits for the other's lock.
 */
static void mark_file_write__other_writer_holds_lock__waits(void **state)
{
	struct fworld *w = *state;
	struct mark m = mk(7, 0, 1);
	char err[512];
	int fd = open_marks(w, err, sizeof(err)), other, status = 0;
	pid_t pid;

	assert_true(fd >= 0);
	other = open(w->path, O_RDWR | O_CLOEXEC);
	assert_true(other >= 0);
	assert_int_equal(flock(other, LOCK_EX), 0); /* the other process, between its read and its write */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(mark_file_write(fd, &m, 1) == 0 ? 0 : 1);
	usleep(300 * 1000);
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0); /* still waiting */
	assert_int_equal(flock(other, LOCK_UN), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(other);
	close(fd);
}

/* A write torn at any byte leaves at least the last completed write's marks. */
static void mark_file_write__torn_at_every_byte__last_complete_write_kept(void **state)
{
	struct fworld *w = *state;
	struct mark m5 = mk(5, 0, 1), m6 = mk(6, 0, 2), m7 = mk(7, 0, 3), *out = NULL;
	char err[512], *text;
	size_t len, n;
	int fd = open_marks(w, err, sizeof(err));

	assert_true(fd >= 0);
	assert_int_equal(mark_file_write(fd, &m5, 1), 0); /* slot 1, seq 1 */
	assert_int_equal(mark_file_write(fd, &m6, 1), 0); /* slot 2, seq 2 */
	/* the next write (7) goes to slot 1: tear it after `cut' bytes, over the old content */
	assert_int_equal(mark_set_encode(&m7, 1, 3, &text, &len), 0);
	for (size_t cut = 0; cut < len; cut++) {
		assert_int_equal(pwrite(fd, text, cut, 0), (ssize_t)cut);
		n = 0;
		w->log[0] = '\0';
		assert_int_equal(mark_file_read(fd, w->path, &w->sink, &out, &n), 0);
		assert_int_equal(n, 1);
		assert_true(strcmp(out[0].number_hex, "06") == 0 || strcmp(out[0].number_hex, "07") == 0);
		free(out);
		out = NULL;
	}
	free(text);
	close(fd);
}

static void mark_file_read__corrupt_record__logged_other_slot_used(void **state)
{
	struct fworld *w = *state;
	struct mark m5 = mk(5, 0, 1), m6 = mk(6, 0, 2), *out = NULL;
	char err[512], c;
	size_t n = 0;
	int fd = open_marks(w, err, sizeof(err));

	assert_true(fd >= 0);
	assert_int_equal(mark_file_write(fd, &m5, 1), 0); /* slot 1 */
	assert_int_equal(mark_file_write(fd, &m6, 1), 0); /* slot 2 */
	/* flip a digit of slot 2's record (its second line) */
	assert_int_equal(pread(fd, &c, 1, (off_t)MARK_SLOT_SIZE + 60), 1);
	c = c == '1' ? '2' : '1';
	assert_int_equal(pwrite(fd, &c, 1, (off_t)MARK_SLOT_SIZE + 60), 1);
	assert_int_equal(mark_file_read(fd, w->path, &w->sink, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].number_hex, "05");
	assert_non_null(strstr(w->log, "slot 2 is damaged"));
	assert_non_null(strstr(w->log, "1 unreadable record"));
	free(out);
	close(fd);
}

static void mark_file_open__symlink__refused(void **state)
{
	struct fworld *w = *state;
	char err[512] = "", target[PATH_MAX + 16];
	int fd = open_marks(w, err, sizeof(err));

	assert_true(fd >= 0);
	close(fd);
	snprintf(target, sizeof(target), "%s.real", w->path);
	assert_int_equal(rename(w->path, target), 0);
	assert_int_equal(symlink(target, w->path), 0);
	assert_int_equal(mark_file_open(w->path, true, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, w->path));
}

static void mark_file_open__group_writable_file__refused(void **state)
{
	struct fworld *w = *state;
	char err[512] = "";
	int fd = open_marks(w, err, sizeof(err));

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(w->path, 0620), 0);
	assert_int_equal(mark_file_open(w->path, true, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, w->path));
	assert_non_null(strstr(err, "chmod 0600"));
}

static void mark_file_open__world_writable_dir__refused(void **state)
{
	struct fworld *w = *state;
	char err[512] = "", dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/marks.d", w->dir);
	assert_int_equal(mkdir(dir, 0777), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(mark_file_open(w->path, true, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "writable by group or others"));
	assert_non_null(strstr(err, dir));
}

/* The fetcher's user owns the file, or its directory: refused (needs root to chown; skipped otherwise). */
static void mark_file_open__file_of_other_user__refused(void **state)
{
	struct fworld *w = *state;
	char err[512] = "";
	int fd;

	if (geteuid() != 0) {
		skip();
		return;
	}
	fd = open_marks(w, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chown(w->path, 65534, 65534), 0);
	assert_int_equal(mark_file_open(w->path, true, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "belongs to uid 65534"));
	assert_non_null(strstr(err, "chown 0"));
}

static void mark_file_open__dir_of_other_user__refused(void **state)
{
	struct fworld *w = *state;
	char err[512] = "", dir[PATH_MAX];

	if (geteuid() != 0) {
		skip();
		return;
	}
	snprintf(dir, sizeof(dir), "%s/marks.d", w->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chown(dir, 65534, 65534), 0);
	assert_int_equal(mark_file_open(w->path, true, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "belongs to uid 65534, not root"));
}

/*
 * The fetcher's user owns a directory ABOVE the marks file's (cache-dir, say, holding a root-owned
 * 0700 marks.d): it can rename marks.d away and put a symlink to another root directory in its
 * place, where the plugin then creates a fresh, empty marks file at its next start (every mark
 * lost). So every directory of the path must be safe, not only the last, and none a symlink.
 */
static void mark_file_open__ancestor_of_other_user__refused(void **state)
{
	struct fworld *w = *state;
	char err[768] = "", mid[PATH_MAX], path[PATH_MAX + 32];

	if (geteuid() != 0) {
		skip();
		return;
	}
	snprintf(mid, sizeof(mid), "%s/fetcher", w->dir);
	assert_int_equal(mkdir(mid, 0755), 0);
	assert_int_equal(chown(mid, 65534, 65534), 0);
	snprintf(path, sizeof(path), "%s/marks.d/marks", mid);
	assert_int_equal(mark_file_open(path, true, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "belongs to uid 65534, not root"));
	assert_non_null(strstr(err, mid));
}

static void mark_file_open__symlinked_dir__refused(void **state)
{
	struct fworld *w = *state;
	char err[768] = "", real[PATH_MAX], link[PATH_MAX], path[PATH_MAX + 32];

	snprintf(real, sizeof(real), "%s/real.d", w->dir);
	snprintf(link, sizeof(link), "%s/link.d", w->dir);
	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(symlink(real, link), 0);
	snprintf(path, sizeof(path), "%s/marks", link);
	assert_int_equal(mark_file_open(path, false, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "symlink"));
	assert_non_null(strstr(err, link));
}

/* A root-owned sticky directory above (/tmp): nobody else can rename or remove root's entries there. */
static void mark_file_open__under_sticky_root_dir__accepted(void **state)
{
	struct fworld *w = *state;
	char err[768] = "", sticky[PATH_MAX], path[PATH_MAX + 32];
	int fd;

	if (geteuid() != 0) {
		skip();
		return;
	}
	snprintf(sticky, sizeof(sticky), "%s/tmp", w->dir);
	assert_int_equal(mkdir(sticky, 0700), 0);
	assert_int_equal(chmod(sticky, 01777), 0);
	snprintf(path, sizeof(path), "%s/marks.d/marks", sticky);
	fd = mark_file_open(path, true, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
}

static void mark_file_open__relative_path__einval(void **state)
{
	char err[512] = "";

	(void)state;
	assert_int_equal(mark_file_open("marks", true, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "absolute"));
}

#define F(f) cmocka_unit_test_setup_teardown(f, fsetup, fteardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mark_is_rollback__older_number__true),
		cmocka_unit_test(mark_is_rollback__newer_number__false),
		cmocka_unit_test(mark_is_rollback__same_number_other_digest__true),
		cmocka_unit_test(mark_is_rollback__same_number_same_digest__false),
		cmocka_unit_test(mark_is_rollback__no_number__this_update_decides),
		cmocka_unit_test(mark_compare_age__longer_number__newer),
		cmocka_unit_test(mark_same_stream__different_scope__false),
		cmocka_unit_test(mark_same_stream__different_issuer__false),
		cmocka_unit_test(mark_same_stream__unknown_scope__matches_any),
		cmocka_unit_test(mark_stream_of__crls__issuer_from_ca_scope_from_idp),
		cmocka_unit_test(mark_raise__older__unchanged_newer__raised),
		cmocka_unit_test(mark_format__round_trip__same_mark),
		cmocka_unit_test(mark_parse__one_byte_changed__refused),
		cmocka_unit_test(mark_set_decode__intact_block__all_marks_and_seq),
		cmocka_unit_test(mark_set_decode__torn_block__lines_that_check_kept),
		F(mark_file__round_trip__marks_back),
		F(mark_file_write__lower_mark__never_lowers),
		F(mark_file_write__other_writer_holds_lock__waits),
		F(mark_file_write__torn_at_every_byte__last_complete_write_kept),
		F(mark_file_read__corrupt_record__logged_other_slot_used),
		F(mark_file_open__symlink__refused),
		F(mark_file_open__group_writable_file__refused),
		F(mark_file_open__world_writable_dir__refused),
		F(mark_file_open__file_of_other_user__refused),
		F(mark_file_open__dir_of_other_user__refused),
		F(mark_file_open__ancestor_of_other_user__refused),
		F(mark_file_open__symlinked_dir__refused),
		F(mark_file_open__under_sticky_root_dir__accepted),
		cmocka_unit_test(mark_file_open__relative_path__einval),
	};

	return cmocka_run_group_tests_name("mark", tests, group_setup, group_teardown);
}
