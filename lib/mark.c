/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rollback rule (see mark.h): stream keys, age, rollback, and marks as checked text in two file slots. */
#include "crlsync/mark.h"
#include "crlsync/fmt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* --- stream keys -------------------------------------------------------------------------------- */

static void sha256_parts(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
			 unsigned char out[MARK_KEY_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;

	memset(out, 0, MARK_KEY_LEN);
	if (ctx == NULL)
		return;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 || (alen && EVP_DigestUpdate(ctx, a, alen) != 1) ||
	    (blen && EVP_DigestUpdate(ctx, b, blen) != 1) || EVP_DigestFinal_ex(ctx, out, &n) != 1)
		memset(out, 0, MARK_KEY_LEN);
	EVP_MD_CTX_free(ctx);
}

/* The delta stream's scope: a domain-separated digest, never equal to a complete CRL's scope key. */
static const unsigned char delta_tag[] = "crlsync delta CRL stream";

static void stream_of(const struct crl *c, bool as_delta, struct mark_stream *out)
{
	unsigned char *name = NULL, *key = NULL;
	int nlen, klen;

	memset(out, 0, sizeof(*out));
	if (c->ca != NULL) {
		nlen = i2d_X509_NAME(X509_get_subject_name(c->ca), &name);
		klen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c->ca), &key);
		if (nlen > 0 && klen > 0) {
			sha256_parts(name, (size_t)nlen, key, (size_t)klen, out->issuer);
			out->has_issuer = true;
		}
		OPENSSL_free(name);
		OPENSSL_free(key);
	}
	if (as_delta) {
		/*
		 * Deltas replace deltas, never the complete CRLs they amend (RFC 5280 §5.2.4 numbers
		 * them in one sequence, so a base would otherwise "roll back" its own delta).
		 */
		out->scope_kind = MARK_SCOPE_IDP;
		sha256_parts(delta_tag, sizeof(delta_tag) - 1, c->scope, c->scope ? c->scope_len : 0, out->scope);
	} else if (c->scope == NULL) {
		out->scope_kind = MARK_SCOPE_COMPLETE;
	} else {
		out->scope_kind = MARK_SCOPE_IDP;
		sha256_parts(c->scope, c->scope_len, NULL, 0, out->scope);
	}
}

void mark_stream_of(const struct crl *c, struct mark_stream *out)
{
	stream_of(c, (c->flags & CRL_IS_DELTA) != 0, out);
}

void mark_base_stream_of(const struct crl *c, struct mark_stream *out)
{
	stream_of(c, false, out);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 2*n hex digits into out. */
static bool unhex_exact(const char *s, size_t slen, unsigned char *out, size_t n)
{
	if (slen != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

void mark_scope_text(const struct mark_stream *s, char out[MARK_SCOPE_TEXT_LEN])
{
	if (s->scope_kind == MARK_SCOPE_COMPLETE)
		snprintf(out, MARK_SCOPE_TEXT_LEN, "complete");
	else if (s->scope_kind == MARK_SCOPE_IDP)
		fmt_hex_lower(s->scope, MARK_KEY_LEN, out);
	else
		out[0] = '\0';
}

bool mark_scope_parse(const char *text, struct mark_stream *s)
{
	s->scope_kind = MARK_SCOPE_UNKNOWN;
	memset(s->scope, 0, sizeof(s->scope));
	if (text == NULL || text[0] == '\0')
		return true;
	if (strcmp(text, "complete") == 0) {
		s->scope_kind = MARK_SCOPE_COMPLETE;
		return true;
	}
	if (!unhex_exact(text, strlen(text), s->scope, MARK_KEY_LEN)) {
		memset(s->scope, 0, sizeof(s->scope));
		return false;
	}
	s->scope_kind = MARK_SCOPE_IDP;
	return true;
}

void mark_set_number(struct mark *m, bool has_number, const unsigned char *number, size_t len)
{
	m->has_number = has_number && len <= sizeof(m->number);
	m->number_len = m->has_number ? len : 0;
	memset(m->number, 0, sizeof(m->number));
	if (m->number_len)
		memcpy(m->number, number, m->number_len);
	fmt_number(m->has_number, m->number, m->number_len, m->number_hex, sizeof(m->number_hex)); /* crl.h's form */
}

void mark_from_crl(const struct crl *c, struct mark *out)
{
	memset(out, 0, sizeof(*out));
	mark_stream_of(c, &out->stream);
	mark_set_number(out, (c->flags & CRL_HAS_NUMBER) != 0, c->number, c->number_len);
	out->this_update = c->this_update;
	memcpy(out->digest, c->digest, sizeof(out->digest));
}

/* --- the rule ----------------------------------------------------------------------------------- */

bool mark_same_stream(const struct mark_stream *a, const struct mark_stream *b)
{
	if (a->has_issuer && b->has_issuer && memcmp(a->issuer, b->issuer, MARK_KEY_LEN) != 0)
		return false;
	if (a->scope_kind == MARK_SCOPE_UNKNOWN || b->scope_kind == MARK_SCOPE_UNKNOWN)
		return true;
	return a->scope_kind == b->scope_kind &&
	       (a->scope_kind != MARK_SCOPE_IDP || memcmp(a->scope, b->scope, MARK_KEY_LEN) == 0);
}

int mark_compare_age(const struct mark *a, const struct mark *b)
{
	if (a->has_number && b->has_number) {
		if (a->number_len != b->number_len)
			return a->number_len < b->number_len ? -1 : 1;
		return a->number_len ? memcmp(a->number, b->number, a->number_len) : 0;
	}
	return (a->this_update > b->this_update) - (a->this_update < b->this_update);
}

bool mark_is_rollback(const struct mark *cand, const struct mark *ref)
{
	int age = mark_compare_age(cand, ref);

	return age < 0 || (age == 0 && memcmp(cand->digest, ref->digest, sizeof(cand->digest)) != 0);
}

bool mark_raise(struct mark *m, const struct mark *c)
{
	bool changed = false;

	if (!mark_same_stream(&m->stream, &c->stream))
		return false;
	if (mark_compare_age(c, m) > 0) {
		struct mark_stream keep = m->stream;

		*m = *c;
		/* what m knew of its stream stays known */
		if (!m->stream.has_issuer && keep.has_issuer) {
			m->stream.has_issuer = true;
			memcpy(m->stream.issuer, keep.issuer, MARK_KEY_LEN);
		}
		if (m->stream.scope_kind == MARK_SCOPE_UNKNOWN && keep.scope_kind != MARK_SCOPE_UNKNOWN) {
			m->stream.scope_kind = keep.scope_kind;
			memcpy(m->stream.scope, keep.scope, MARK_KEY_LEN);
		}
		return true;
	}
	if (!m->stream.has_issuer && c->stream.has_issuer) {
		m->stream.has_issuer = true;
		memcpy(m->stream.issuer, c->stream.issuer, MARK_KEY_LEN);
		changed = true;
	}
	if (m->stream.scope_kind == MARK_SCOPE_UNKNOWN && c->stream.scope_kind != MARK_SCOPE_UNKNOWN) {
		m->stream.scope_kind = c->stream.scope_kind;
		memcpy(m->stream.scope, c->stream.scope, MARK_KEY_LEN);
		changed = true;
	}
	return changed;
}

int mark_set_merge(struct mark **set, size_t *n, const struct mark *m)
{
	struct mark *nv;

	for (size_t i = 0; i < *n; i++)
		if (mark_same_stream(&(*set)[i].stream, &m->stream))
			return mark_raise(&(*set)[i], m) ? 1 : 0;
	nv = realloc(*set, (*n + 1) * sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	*set = nv;
	nv[(*n)++] = *m;
	return 1;
}

/* --- text --------------------------------------------------------------------------------------- */

#define CHECK_HEX 16 /* a line's checksum: the first 8 octets of its SHA-256, in hex */

static void check_of(const char *text, size_t len, char out[CHECK_HEX + 1])
{
	unsigned char md[MARK_KEY_LEN];

	sha256_parts((const unsigned char *)text, len, NULL, 0, md);
	fmt_hex_lower(md, CHECK_HEX / 2, out);
}

size_t mark_format(const struct mark *m, char *buf, size_t len)
{
	char issuer[2 * MARK_KEY_LEN + 1] = "-", scope[MARK_SCOPE_TEXT_LEN], number[2 * CRL_NUMBER_MAX + 1],
	     digest[2 * MARK_KEY_LEN + 1], check[CHECK_HEX + 1];
	int n;

	if (m->stream.has_issuer)
		fmt_hex_lower(m->stream.issuer, MARK_KEY_LEN, issuer);
	mark_scope_text(&m->stream, scope);
	if (scope[0] == '\0')
		snprintf(scope, sizeof(scope), "-");
	if (!m->has_number)
		snprintf(number, sizeof(number), "none");
	else if (m->number_len == 0)
		snprintf(number, sizeof(number), "0");
	else
		fmt_hex_lower(m->number, m->number_len, number);
	fmt_hex_lower(m->digest, sizeof(m->digest), digest);
	n = snprintf(buf, len, "m1 %s %s %s %lld %s", issuer, scope, number, (long long)m->this_update, digest);
	if (n < 0 || (size_t)n + 1 + CHECK_HEX >= len)
		return 0;
	check_of(buf, (size_t)n, check);
	snprintf(buf + n, len - (size_t)n, " %s", check);
	return (size_t)n + 1 + CHECK_HEX;
}

bool mark_parse(const char *line, size_t len, struct mark *out)
{
	char copy[MARK_LINE_MAX], check[CHECK_HEX + 1], *f[7], *save = NULL, *tok;
	unsigned char num[CRL_NUMBER_MAX];
	size_t k = 0, nlen;
	long long tu;
	char *end;

	if (len < CHECK_HEX + 2 || len >= sizeof(copy))
		return false;
	memcpy(copy, line, len);
	copy[len] = '\0';
	check_of(copy, len - CHECK_HEX - 1, check);
	if (copy[len - CHECK_HEX - 1] != ' ' || memcmp(copy + len - CHECK_HEX, check, CHECK_HEX) != 0)
		return false;
	copy[len - CHECK_HEX - 1] = '\0';
	for (tok = strtok_r(copy, " ", &save); tok != NULL && k < 7; tok = strtok_r(NULL, " ", &save))
		f[k++] = tok;
	if (k != 6 || tok != NULL || strcmp(f[0], "m1") != 0)
		return false;
	memset(out, 0, sizeof(*out));
	if (strcmp(f[1], "-") != 0) {
		if (!unhex_exact(f[1], strlen(f[1]), out->stream.issuer, MARK_KEY_LEN))
			return false;
		out->stream.has_issuer = true;
	}
	if (strcmp(f[2], "-") != 0 && (!mark_scope_parse(f[2], &out->stream) || out->stream.scope_kind == MARK_SCOPE_UNKNOWN))
		return false;
	if (strcmp(f[3], "none") == 0) {
		mark_set_number(out, false, NULL, 0);
	} else if (strcmp(f[3], "0") == 0) {
		mark_set_number(out, true, NULL, 0);
	} else {
		nlen = strlen(f[3]) / 2;
		if (nlen == 0 || nlen > sizeof(num) || !unhex_exact(f[3], strlen(f[3]), num, nlen) || num[0] == 0)
			return false;
		mark_set_number(out, true, num, nlen);
	}
	errno = 0;
	tu = strtoll(f[4], &end, 10);
	if (errno != 0 || *end != '\0' || end == f[4])
		return false;
	out->this_update = (time_t)tu;
	return unhex_exact(f[5], strlen(f[5]), out->digest, sizeof(out->digest));
}

#define BLOCK_MAGIC "crlsync-marks 1"

int mark_set_encode(const struct mark *set, size_t n, unsigned long long seq, char **out, size_t *len)
{
	size_t cap = 128 + n * (MARK_LINE_MAX + 1), used;
	char *buf = malloc(cap), digest_hex[2 * MARK_KEY_LEN + 1];
	unsigned char md[MARK_KEY_LEN];

	*out = NULL;
	*len = 0;
	if (buf == NULL)
		return -ENOMEM;
	used = (size_t)snprintf(buf, cap, BLOCK_MAGIC " seq=%llu count=%zu\n", seq, n);
	for (size_t i = 0; i < n; i++) {
		size_t l = mark_format(&set[i], buf + used, cap - used);

		if (l == 0) {
			free(buf);
			return -ENOMEM; /* cannot happen: cap counts MARK_LINE_MAX a line */
		}
		used += l;
		buf[used++] = '\n';
	}
	sha256_parts((const unsigned char *)buf, used, NULL, 0, md);
	fmt_hex_lower(md, sizeof(md), digest_hex);
	used += (size_t)snprintf(buf + used, cap - used, "end %s\n", digest_hex);
	*out = buf;
	*len = used;
	return 0;
}

int mark_set_decode(const char *buf, size_t len, struct mark **set, size_t *n, unsigned long long *seq,
		    size_t *bad)
{
	unsigned long long s = 0;
	size_t count = (size_t)-1, lines = 0, pos = 0;
	bool header = false;
	int r;

	/* A slot never written (a hole, a new file) reads as NULs: empty, not damaged. */
	while (len > 0 && buf[len - 1] == '\0')
		len--;
	if (len == 0)
		return 0;
	while (pos < len) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		size_t start = pos, l = nl ? (size_t)(nl - line) : len - pos;
		struct mark m;

		pos += l + (nl != NULL);
		if (start == 0 && l >= sizeof(BLOCK_MAGIC) - 1 && memcmp(line, BLOCK_MAGIC, sizeof(BLOCK_MAGIC) - 1) == 0) {
			char hdr[80];

			if (l < sizeof(hdr)) {
				memcpy(hdr, line, l);
				hdr[l] = '\0';
				header = sscanf(hdr, BLOCK_MAGIC " seq=%llu count=%zu", &s, &count) == 2;
			}
			if (!header)
				(*bad)++;
			continue;
		}
		if (l >= 4 && memcmp(line, "end ", 4) == 0) {
			unsigned char md[MARK_KEY_LEN];
			char hex[2 * MARK_KEY_LEN + 1];

			sha256_parts((const unsigned char *)buf, start, NULL, 0, md);
			fmt_hex_lower(md, sizeof(md), hex);
			if (header && nl != NULL && l == 4 + 2 * MARK_KEY_LEN && memcmp(line + 4, hex, 2 * MARK_KEY_LEN) == 0 &&
			    lines == count) {
				*seq = s;
				return 1;
			}
			return 0; /* the block does not check as a whole: only its lines that do count */
		}
		if (!mark_parse(line, l, &m)) {
			if (l > 0)
				(*bad)++;
			continue;
		}
		lines++;
		if ((r = mark_set_merge(set, n, &m)) < 0)
			return r;
	}
	return 0; /* no end line: torn */
}

/* --- the file ----------------------------------------------------------------------------------- */

/*
 * Opens `dir` from / one component at a time, never through a symlink, and checks every directory
 * on the way: owned by root or the effective uid, and writable by no group or others (above the
 * last, a root-owned sticky directory such as /tmp passes: nobody else can rename or remove root's
 * entries there). Checking the last directory alone is not enough: whoever owns one above it (the
 * fetcher's user, when the marks live under cache-dir) can rename the marks' directory away and
 * put a symlink to another root directory in its place, where the next start creates an empty
 * marks file, every mark lost. Returns the directory's fd or -errno (err set).
 */
static int open_dir_chain(const char *path, const char *dir, char *err, size_t errlen)
{
	char part[PATH_MAX], ebuf[128];
	const char *p = dir;
	uid_t euid = geteuid();
	struct stat st;
	int fd, nfd, r;

	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(part, sizeof(part), "/");
	for (;;) {
		char name[NAME_MAX + 1];
		const char *next;
		size_t len, plen = strlen(part);

		if (fd < 0 || fstat(fd, &st) != 0) {
			r = -errno;
			fmt_err(err, errlen, "cannot open the directory %s of the marks file: %s%s", part,
				fmt_errno(-r, ebuf, sizeof(ebuf)),
				r == -ELOOP ? " (a symlink: not followed; give marks-file's real path)" : "");
			goto fail;
		}
		while (*p == '/')
			p++;
		next = p + strcspn(p, "/");
		len = (size_t)(next - p);
		if (st.st_uid != 0 && st.st_uid != euid) {
			r = -EPERM;
			fmt_err(err, errlen,
				"marks file %s: the directory %s on its path belongs to uid %ld, not root or uid %ld: that "
				"user could replace the rollback marks; use a directory of root's (`chown root: %s; chmod "
				"0700 %s') or another `marks-file'",
				path, part, (long)st.st_uid, (long)euid, part, part);
			goto fail;
		}
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) && (len == 0 || !(st.st_mode & S_ISVTX) || st.st_uid != 0)) {
			r = -EPERM;
			fmt_err(err, errlen,
				"marks file %s: the directory %s on its path is writable by group or others (mode %04o): "
				"they could replace the rollback marks; `chmod go-w %s' or use another `marks-file'",
				path, part, (unsigned)(st.st_mode & 07777), part);
			goto fail;
		}
		if (len == 0)
			return fd; /* `dir' itself, checked */
		if (len >= sizeof(name) || plen + 1 + len >= sizeof(part)) {
			r = -ENAMETOOLONG;
			fmt_err(err, errlen, "marks file `%s': a name on its path is too long", path);
			goto fail;
		}
		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		snprintf(part + plen, sizeof(part) - plen, "%s%s", plen > 1 ? "/" : "", name);
		nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		r = errno;
		if (nfd < 0 && r == ENOTDIR && fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			r = ELOOP; /* O_DIRECTORY says ENOTDIR for a symlink */
		close(fd);
		fd = nfd;
		errno = r; /* for the message at the top of the loop */
		p = next;
	}
fail:
	if (fd >= 0)
		close(fd);
	return r;
}

int mark_file_open(const char *path, bool mkdir_parent, char *err, size_t errlen)
{
	char dir[PATH_MAX], ebuf[128];
	const char *slash = strrchr(path, '/'), *base;
	uid_t euid = geteuid();
	struct stat st;
	int dfd = -1, fd = -1, r;

	if (path[0] != '/' || slash == NULL || slash[1] == '\0' || (size_t)(slash - path) >= sizeof(dir)) {
		fmt_err(err, errlen, "marks file `%s': an absolute path of a file is needed", path);
		return -EINVAL;
	}
	base = slash + 1;
	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (mkdir_parent && mkdir(dir, 0700) != 0 && errno != EEXIST) {
		r = -errno;
		fmt_err(err, errlen, "cannot create the directory %s of the marks file: %s", dir,
			fmt_errno(-r, ebuf, sizeof(ebuf)));
		return r;
	}
	dfd = open_dir_chain(path, dir, err, errlen);
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, base, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) != 0) {
		r = -errno;
		fmt_err(err, errlen, "cannot open the marks file %s: %s%s", path,
			fmt_errno(-r, ebuf, sizeof(ebuf)),
			r == -ELOOP ? " (a symlink: not followed)" : "");
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EPERM;
		fmt_err(err, errlen, "marks file %s is not a regular file; remove it", path);
		goto fail;
	}
	if (st.st_uid != euid) {
		r = -EPERM;
		fmt_err(err, errlen,
			"marks file %s belongs to uid %ld, not uid %ld: that user could rewrite the rollback marks; "
			"`chown %ld %s' (or remove it)",
			path, (long)st.st_uid, (long)euid, (long)euid, path);
		goto fail;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		r = -EPERM;
		fmt_err(err, errlen,
			"marks file %s is writable by group or others (mode %04o): they could rewrite the rollback "
			"marks; `chmod 0600 %s'",
			path, (unsigned)(st.st_mode & 07777), path);
		goto fail;
	}
	close(dfd);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return r;
}

/* Reads slot `i` (missing bytes read as NULs). *buf is malloc'd. */
static int read_slot(int fd, int i, char **buf, size_t *len)
{
	size_t got = 0;
	char *b = malloc(MARK_SLOT_SIZE);

	*buf = NULL;
	*len = 0;
	if (b == NULL)
		return -ENOMEM;
	while (got < MARK_SLOT_SIZE) {
		ssize_t r = pread(fd, b + got, MARK_SLOT_SIZE - got, (off_t)(i * MARK_SLOT_SIZE + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;

			free(b);
			return e;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	*buf = b;
	*len = got;
	return 0;
}

/* Both slots into *set; intact[i] and seq[i] per slot, bad[i] unreadable lines. */
static int read_slots(int fd, struct mark **set, size_t *n, bool intact[2], unsigned long long seq[2], size_t bad[2],
		      bool empty[2])
{
	for (int i = 0; i < 2; i++) {
		char *buf = NULL;
		size_t len = 0, k;
		int r = read_slot(fd, i, &buf, &len);

		intact[i] = false;
		seq[i] = 0;
		bad[i] = 0;
		if (r != 0)
			return r;
		for (k = 0; k < len && buf[k] == '\0'; k++)
			;
		empty[i] = k == len;
		r = mark_set_decode(buf, len, set, n, &seq[i], &bad[i]);
		free(buf);
		if (r < 0)
			return r;
		intact[i] = r == 1;
	}
	return 0;
}

int mark_file_read(int fd, const char *what, const struct log_sink *log, struct mark **set, size_t *n)
{
	unsigned long long seq[2];
	bool intact[2], empty[2];
	size_t bad[2];
	int r = read_slots(fd, set, n, intact, seq, bad, empty);

	if (r != 0)
		return r;
	for (int i = 0; i < 2; i++) {
		if (empty[i] || (intact[i] && bad[i] == 0))
			continue;
		if (!intact[i] && !empty[1 - i] && intact[1 - i])
			log_warn(log, "marks file %s: slot %d is damaged (an interrupted write?): %zu unreadable record(s); "
				      "the other slot and every record that checks are used",
				 what, i + 1, bad[i]);
		else
			log_error(log, "marks file %s: slot %d is damaged: %zu unreadable record(s); every record that "
				       "checks is used, the rest is lost",
				  what, i + 1, bad[i]);
	}
	return 0;
}

int mark_file_write(int fd, const struct mark *set, size_t n)
{
	struct mark *all = NULL;
	size_t n_all = 0, len = 0, bad[2], done = 0;
	unsigned long long seq[2];
	bool intact[2], empty[2];
	char *text = NULL;
	int slot, r;

	/*
	 * Read, merge and write under an exclusive lock: two OpenVPN processes sharing the file (a UDP
	 * and a TCP server) would otherwise both read it, pick the same slot, and the second write
	 * would drop the mark the first added. Only root (or OpenVPN's euid) can open the file to hold it.
	 */
	while (flock(fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return -errno;
	r = read_slots(fd, &all, &n_all, intact, seq, bad, empty);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = mark_set_merge(&all, &n_all, &set[i]) < 0 ? -ENOMEM : 0;
	if (r != 0)
		goto out;
	/* Overwrite the slot that does not hold the newest intact block. */
	if (intact[0] && intact[1])
		slot = seq[0] <= seq[1] ? 0 : 1;
	else
		slot = intact[0] ? 1 : 0;
	r = mark_set_encode(all, n_all, (seq[0] > seq[1] ? seq[0] : seq[1]) + 1, &text, &len);
	if (r != 0)
		goto out;
	if (len > MARK_SLOT_SIZE) {
		r = -EFBIG;
		goto out;
	}
	while (done < len) {
		ssize_t w = pwrite(fd, text + done, len - done, (off_t)((size_t)slot * MARK_SLOT_SIZE + done));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = w < 0 ? -errno : -EIO;
			goto out;
		}
		done += (size_t)w;
	}
	if (fdatasync(fd) != 0)
		r = -errno;
out:
	flock(fd, LOCK_UN);
	free(text);
	free(all);
	return r;
}
