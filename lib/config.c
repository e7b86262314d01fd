/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parses crlsync.conf (INI, read line by line here) into struct cfg; the first error comes back with file and line. */

#include "crlsync/config.h"
#include "crlsync/cachedir.h"
#include "crlsync/file.h"
#include "crlsync/fmt.h"
#include "crlsync/text.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Caps (STYLE: every buffer has one). A bigger config or ca is a mistake, or /dev/zero. */
#define CFG_FILE_MAX (1024 * 1024)
#define CFG_CA_FILE_MAX (1024 * 1024)
#define CFG_SECRET_MAX 4096

/*
 * Longest line, end of line excluded: the limit of the libinih-based parser this one replaced, so a
 * file valid for one is valid for the other. A longer line is refused, never cut.
 */
#define CFG_LINE_MAX 199

/* Room for one message body; a line is at most CFG_LINE_MAX characters, paths included. */
#define CFG_WHAT_MAX 512

enum sec_kind {
	SEC_NONE = 0, /* before the first section header */
	SEC_GLOBAL,
	SEC_PLUGIN,
	SEC_SOURCE,
	SEC_STRONGSWAN,
};

struct sec_def {
	const char *word;
	enum sec_kind kind;
	bool named; /* [word NAME] */
};

static const struct sec_def sections[] = {
	{ "global", SEC_GLOBAL, false },
	{ "plugin", SEC_PLUGIN, false },
	{ "source", SEC_SOURCE, true },
	{ "strongswan", SEC_STRONGSWAN, false },
};

/* What a key handler may touch. */
struct key_ctx {
	struct cfg *cfg;
	struct cfg_source *src; /* the current [source NAME]; NULL in the other sections */
	bool load_cas;
};

/*
 * Applies one value. Returns false with `what` set (no file/line prefix, the caller adds it);
 * on false the configuration is unchanged, which cfg_apply_override() relies on.
 */
typedef bool key_fn(const struct key_ctx *k, const char *key, const char *value, char *what, size_t whatlen);

struct key_def {
	enum sec_kind sec;
	const char *key;
	key_fn *fn;
	bool repeatable;
};

static key_fn key_cache_dir, key_missing, key_expired, key_grace, key_url, key_ca, key_interval, key_timeout,
	key_max_size, key_user_agent, key_src_interval, key_src_max_size, key_management, key_management_password,
	key_evict, key_vici, key_load_scoped, key_marks_file, key_metrics_file, key_on_install, key_on_install_timeout,
	key_src_on_install, key_src_pem, key_status_file;

/* Every accepted key. New keys are one line here (and a handler); nothing else needs to change. */
static const struct key_def keys[] = {
	{ SEC_GLOBAL, "cache-dir", key_cache_dir, false },
	{ SEC_GLOBAL, "interval", key_interval, false },
	{ SEC_GLOBAL, "timeout", key_timeout, false },
	{ SEC_GLOBAL, "max-size", key_max_size, false },
	{ SEC_GLOBAL, "user-agent", key_user_agent, false },
	{ SEC_PLUGIN, "missing", key_missing, false },
	{ SEC_PLUGIN, "expired", key_expired, false },
	{ SEC_PLUGIN, "grace", key_grace, false },
	{ SEC_PLUGIN, "management", key_management, false },
	{ SEC_PLUGIN, "management-password", key_management_password, false },
	{ SEC_PLUGIN, "evict", key_evict, false },
	{ SEC_SOURCE, "url", key_url, true },
	{ SEC_SOURCE, "delta-url", key_url, true }, /* the delta CRL's mirrors, overriding the base's FreshestCRL */
	{ SEC_SOURCE, "ca", key_ca, false },
	{ SEC_SOURCE, "interval", key_src_interval, false },
	{ SEC_SOURCE, "max-size", key_src_max_size, false },
	{ SEC_PLUGIN, "marks-file", key_marks_file, false },
	{ SEC_STRONGSWAN, "vici", key_vici, false },
	{ SEC_STRONGSWAN, "load-scoped", key_load_scoped, false },
	{ SEC_GLOBAL, "metrics-file", key_metrics_file, false },
	{ SEC_GLOBAL, "on-install", key_on_install, false },
	{ SEC_GLOBAL, "on-install-timeout", key_on_install_timeout, false },
	{ SEC_SOURCE, "on-install", key_src_on_install, false },
	{ SEC_SOURCE, "pem", key_src_pem, false },
	{ SEC_PLUGIN, "status-file", key_status_file, false },
};

struct parser {
	const char *name; /* file name for messages */
	const char *buf;
	size_t len;
	size_t pos;
	int line; /* the physical line being parsed, from 1 */
	bool load_cas;
	struct cfg *cfg;
	enum sec_kind sec;
	int sec_line;
	int seen[ARRAY_SIZE(keys)]; /* line where each key was first set, 0 = not yet */
	bool failed;
	char *err;
	size_t errlen;
};

/* --- small helpers ----------------------------------------------------------------------- */

/* ASCII classes on purpose: the plugin runs under OpenVPN's locale. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static const char *skip_space(const char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

static bool is_comment(char c)
{
	return c == ';' || c == '#';
}

/*
 * The comment rule, the same for every key and header: `;' or `#' starts a comment at the start of
 * a line, of a value (after `=' and blanks) or after a header's `]', and anywhere it follows
 * whitespace. Inside a word neither does: `url = http://x/a.crl#f' keeps its fragment.
 * Returns the first of `chars` in `s`, or the comment, or the end; `after_space` says whether the
 * character before `s` counts as whitespace.
 */
static const char *find_chars_or_comment(const char *s, const char *chars, bool after_space)
{
	while (*s && !strchr(chars, *s) && !(after_space && is_comment(*s))) {
		after_space = is_space(*s);
		s++;
	}
	return s;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* fmt_err(), sanitised: messages echo input, one printable line whatever the bytes were. */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_verr(err, errlen, fmt, ap);
	va_end(ap);
	if (err != NULL && errlen > 0)
		text_sanitize(err);
}

/* Records the first error only; `line` 0 means the file as a whole. */
static void fail(struct parser *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(struct parser *p, int line, const char *fmt, ...)
{
	char what[CFG_WHAT_MAX];
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line > 0)
		set_err(p->err, p->errlen, "%s line %d: %s", p->name, line, what);
	else
		set_err(p->err, p->errlen, "%s: %s", p->name, what);
}

/* What kind of file a mode is, for "is a FIFO, not a regular file". */
static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFSOCK:
		return "a socket";
	case S_IFDIR:
		return "a directory";
	default:
		return "not a regular file";
	}
}

/*
 * Reads `path` whole with file.h's reader (regular files only, O_NONBLOCK open, capped, NUL-terminated,
 * wiped: a configuration may hold URL credentials, a password file a password). Returns 0,
 * -EFBIG, -EISDIR, -ENOTREG_ (then *type holds the file's type) or -errno; *opened says whether
 * open() succeeded.
 */
#define ENOTREG_ 0x10000 /* not an errno: "not a regular file", described with file_kind() */

static int read_file_capped(const char *path, size_t cap, char **out, size_t *outlen, bool *opened,
			    mode_t *type)
{
	struct file_info fi;
	unsigned char *buf;
	int rc = file_read_ex(AT_FDCWD, path, FILE_SECRET, cap, &buf, outlen, &fi);

	*out = (char *)buf;
	*opened = fi.opened;
	*type = fi.type;
	return rc == -EINVAL && fi.type != 0 && fi.type != S_IFREG ? -ENOTREG_ : rc;
}

/* The reason read_file_capped() failed, for a message that names the file before it. */
static const char *read_error(int rc, mode_t type, size_t cap, char *buf, size_t len)
{
	char ebuf[128];

	if (rc == -EFBIG)
		snprintf(buf, len, "larger than %zu bytes", cap);
	else if (rc == -ENOTREG_)
		snprintf(buf, len, "%s, not a regular file", file_kind(type));
	else
		snprintf(buf, len, "%s", fmt_errno(-rc, ebuf, sizeof(ebuf)));
	return buf;
}

/* A certificate is never encrypted; without this OpenSSL would prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Loads the first PEM certificate of `path` into *out. */
static bool load_ca(const char *path, X509 **out, char *what, size_t whatlen)
{
	char ebuf[128];
	char *data = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	bool opened, ok = false;
	mode_t type;
	int rc;

	*out = NULL;
	rc = read_file_capped(path, CFG_CA_FILE_MAX, &data, &len, &opened, &type);
	if (rc == -EFBIG) {
		snprintf(what, whatlen, "ca `%s' is larger than %d bytes", path, CFG_CA_FILE_MAX);
		goto out;
	}
	if (rc < 0) {
		snprintf(what, whatlen, "cannot read ca `%s': %s", path,
			 read_error(rc, type, CFG_CA_FILE_MAX, ebuf, sizeof(ebuf)));
		goto out;
	}
	bio = BIO_new_mem_buf(data, (int)len);
	if (!bio) {
		snprintf(what, whatlen, "ca `%s': out of memory", path);
		goto out;
	}
	*out = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
	if (!*out) {
		snprintf(what, whatlen, "no PEM certificate in ca `%s'", path);
		goto out;
	}
	ok = true;
out:
	ERR_clear_error(); /* the reason is in `what`; leave no stale entries for the next caller */
	BIO_free(bio);
	free(data);
	return ok;
}

/* --- values ------------------------------------------------------------------------------ */

bool cfg_parse_action(const char *s, enum cfg_action *out)
{
	if (!s)
		return false;
	if (strcmp(s, "reject") == 0) {
		*out = CFG_REJECT;
		return true;
	}
	if (strcmp(s, "accept") == 0) {
		*out = CFG_ACCEPT;
		return true;
	}
	return false;
}

const char *cfg_action_str(enum cfg_action a)
{
	switch (a) {
	case CFG_REJECT:
		return "reject";
	case CFG_ACCEPT:
		return "accept";
	}
	return "invalid";
}

bool cfg_parse_seconds(const char *s, long long *out)
{
	long long v = 0, mul = 1;

	if (!s || !is_digit(*s))
		return false; /* empty, sign, whitespace */
	for (; is_digit(*s); s++) {
		int d = *s - '0';

		if (v > (LLONG_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	switch (*s) {
	case '\0':
		break;
	case 's':
		s++;
		break;
	case 'm':
		mul = 60;
		s++;
		break;
	case 'h':
		mul = 60 * 60;
		s++;
		break;
	case 'd':
		mul = 24 * 60 * 60;
		s++;
		break;
	default:
		return false;
	}
	if (*s != '\0' || v > LLONG_MAX / mul)
		return false;
	*out = v * mul;
	return true;
}

static bool set_action(enum cfg_action *field, const char *key, const char *value, char *what, size_t whatlen)
{
	enum cfg_action a;

	if (!cfg_parse_action(value, &a)) {
		snprintf(what, whatlen, "bad value `%s' for `%s' (expected reject or accept)", value, key);
		return false;
	}
	*field = a;
	return true;
}

static bool key_missing(const struct key_ctx *k, const char *key, const char *value, char *what, size_t whatlen)
{
	return set_action(&k->cfg->plugin.missing, key, value, what, whatlen);
}

static bool key_expired(const struct key_ctx *k, const char *key, const char *value, char *what, size_t whatlen)
{
	return set_action(&k->cfg->plugin.expired, key, value, what, whatlen);
}

static bool key_grace(const struct key_ctx *k, const char *key, const char *value, char *what, size_t whatlen)
{
	long long v;

	if (!cfg_parse_seconds(value, &v)) {
		snprintf(what, whatlen, "bad value `%s' for `%s' (expected seconds, e.g. 90, 15m, 2h, 1d)", value,
			 key);
		return false;
	}
	k->cfg->plugin.grace = v;
	return true;
}

bool cfg_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v = 0, mul = 1;

	if (!s || !is_digit(*s))
		return false;
	for (; is_digit(*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (ULLONG_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (*s == 'K' || *s == 'k')
		mul = 1ULL << 10;
	else if (*s == 'M' || *s == 'm')
		mul = 1ULL << 20;
	else if (*s == 'G' || *s == 'g')
		mul = 1ULL << 30;
	if (mul != 1)
		s++;
	if (*s != '\0' || v > ULLONG_MAX / mul)
		return false;
	*out = v * mul;
	return true;
}

const char *cfg_source_on_install(const struct cfg *cfg, const struct cfg_source *src)
{
	const char *c = src->on_install != NULL ? src->on_install : cfg->global.on_install;

	return c != NULL && c[0] != '\0' ? c : NULL;
}

long long cfg_source_interval(const struct cfg *cfg, const struct cfg_source *src)
{
	return src && src->interval > 0 ? src->interval : cfg->global.interval;
}

unsigned long long cfg_source_max_size(const struct cfg *cfg, const struct cfg_source *src)
{
	return src && src->max_size > 0 ? src->max_size : cfg->global.max_size;
}

const struct cfg_source *cfg_find_source(const struct cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_sources; i++)
		if (strcmp(cfg->sources[i].name, name) == 0)
			return &cfg->sources[i];
	return NULL;
}

/* A positive duration: 0 would mean "refresh continuously" or "no time at all". */
static bool positive_seconds(long long *field, const char *key, const char *value, char *what, size_t whatlen)
{
	long long v;

	if (!cfg_parse_seconds(value, &v) || v <= 0) {
		snprintf(what, whatlen, "bad value `%s' for `%s' (expected a positive duration, e.g. 90, 15m, 2h, 1d)",
			 value, key);
		return false;
	}
	*field = v;
	return true;
}

static bool positive_size(unsigned long long *field, const char *key, const char *value, char *what,
			  size_t whatlen)
{
	unsigned long long v;

	if (!cfg_parse_size(value, &v) || v == 0) {
		snprintf(what, whatlen, "bad value `%s' for `%s' (expected a positive size, e.g. 512K, 64M)", value,
			 key);
		return false;
	}
	*field = v;
	return true;
}

static bool key_interval(const struct key_ctx *k, const char *key, const char *value, char *what, size_t whatlen)
{
	return positive_seconds(&k->cfg->global.interval, key, value, what, whatlen);
}

/*
 * libcurl keeps a timeout in milliseconds in an int: CURLOPT_TIMEOUT refuses more than INT_MAX/1000 s
 * (24.8 days), CURLOPT_TIMEOUT_MS more than INT_MAX ms, and either refusal would only show at fetch
 * time. A day is far past any sane transfer and fits both.
 */
static bool key_timeout(const struct key_ctx *k, const char *key, const char *value, char *what, size_t whatlen)
{
	long long v;

	if (!positive_seconds(&v, key, value, what, whatlen))
		return false;
	if (v > CFG_TIMEOUT_MAX) {
		snprintf(what, whatlen, "bad value `%s' for `%s' (at most %d s, 1d)", value, key, CFG_TIMEOUT_MAX);
		return false;
	}
	k->cfg->global.timeout = v;
	return true;
}

static bool key_max_size(const struct key_ctx *k, const char *key, const char *value, char *what, size_t whatlen)
{
	return positive_size(&k->cfg->global.max_size, key, value, what, whatlen);
}

static bool key_src_interval(const struct key_ctx *k, const char *key, const char *value, char *what,
			     size_t whatlen)
{
	return positive_seconds(&k->src->interval, key, value, what, whatlen);
}

static bool key_src_max_size(const struct key_ctx *k, const char *key, const char *value, char *what,
			     size_t whatlen)
{
	return positive_size(&k->src->max_size, key, value, what, whatlen);
}

static bool key_user_agent(const struct key_ctx *k, const char *key, const char *value, char *what,
			   size_t whatlen)
{
	char *ua;

	/* It goes into an HTTP header: printable ASCII only. */
	for (const char *c = value; *c; c++) {
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e) {
			snprintf(what, whatlen, "`%s' may hold printable ASCII only", key);
			return false;
		}
	}
	if (value[0] == '\0') {
		snprintf(what, whatlen, "empty `%s'", key);
		return false;
	}
	ua = strdup(value);
	if (!ua) {
		snprintf(what, whatlen, "out of memory");
		return false;
	}
	free(k->cfg->global.user_agent);
	k->cfg->global.user_agent = ua;
	return true;
}

bool cfg_evict(const struct cfg *cfg)
{
	return cfg->plugin.evict >= 0 ? cfg->plugin.evict == 1 : cfg->plugin.management != NULL;
}

/* "unix:/abs/path" or "host:port" (host a name or an address; [v6]:port). */
static bool key_management(const struct key_ctx *k, const char *key, const char *value, char *what,
			   size_t whatlen)
{
	const char *colon;
	char *v;
	long port;

	if (strncmp(value, "unix:", 5) == 0) {
		if (value[5] != '/') {
			snprintf(what, whatlen, "`%s' = unix:PATH needs an absolute path, not `%s'", key, value + 5);
			return false;
		}
	} else {
		colon = strrchr(value, ':');
		if (colon == NULL || colon == value || colon[1] == '\0') {
			snprintf(what, whatlen, "bad value `%s' for `%s' (expected unix:/path or host:port)", value, key);
			return false;
		}
		port = 0;
		for (const char *c = colon + 1; *c; c++) {
			if (!is_digit(*c) || (port = port * 10 + (*c - '0')) > 65535) {
				snprintf(what, whatlen, "bad port in `%s' for `%s'", value, key);
				return false;
			}
		}
		if (port == 0) {
			snprintf(what, whatlen, "bad port in `%s' for `%s'", value, key);
			return false;
		}
	}
	v = strdup(value);
	if (!v) {
		snprintf(what, whatlen, "out of memory");
		return false;
	}
	free(k->cfg->plugin.management);
	k->cfg->plugin.management = v;
	return true;
}

/*
 * Only the path is recorded here, never the file read: the configuration is shared with the
 * fetcher (its own user), and the plugin reopens it unprivileged on SIGHUP, and neither can read a
 * root-only 0600 password file. The plugin reads it with cfg_read_secret() (see plugin.c).
 */
static bool key_management_password(const struct key_ctx *k, const char *key, const char *value, char *what,
				    size_t whatlen)
{
	char *path;

	if (value[0] != '/') {
		snprintf(what, whatlen, "`%s' must be an absolute path, not `%s'", key, value);
		return false;
	}
	path = strdup(value);
	if (!path) {
		snprintf(what, whatlen, "out of memory");
		return false;
	}
	free(k->cfg->plugin.management_password_path);
	k->cfg->plugin.management_password_path = path;
	return true;
}

int cfg_read_secret(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
	char ebuf[128];
	char *buf = NULL;
	size_t len = 0, n;
	bool opened;
	mode_t type;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (err && errlen)
		err[0] = '\0';
	if (!path || path[0] != '/') {
		set_err(err, errlen, "password file `%s' is not an absolute path", path ? path : "");
		return -EINVAL;
	}
	rc = read_file_capped(path, CFG_SECRET_MAX, &buf, &len, &opened, &type);
	if (rc < 0) {
		set_err(err, errlen, "cannot read password file `%s': %s", path,
			read_error(rc, type, CFG_SECRET_MAX, ebuf, sizeof(ebuf)));
		return rc == -ENOTREG_ ? -EINVAL : rc;
	}
	/* Like OpenVPN's own password files: the first line, without its CR/LF (if any: `echo -n`). */
	for (n = 0; n < len && buf[n] != '\n' && buf[n] != '\r'; n++) {
		if (buf[n] == '\0') {
			set_err(err, errlen, "password file `%s' has a NUL byte in its first line", path);
			rc = -EINVAL;
			goto out;
		}
	}
	if (n == 0) {
		set_err(err, errlen, "password file `%s' holds no password on its first line", path);
		rc = -EINVAL;
		goto out;
	}
	OPENSSL_cleanse(buf + n, len - n); /* the rest of the file is not ours to keep */
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	buf = NULL; /* transferred */
out:
	cfg_secret_free(buf, len);
	return rc;
}

void cfg_secret_free(char *secret, size_t len)
{
	if (!secret)
		return;
	OPENSSL_cleanse(secret, len);
	free(secret);
}

static bool key_evict(const struct key_ctx *k, const char *key, const char *value, char *what, size_t whatlen)
{
	if (strcmp(value, "yes") == 0)
		k->cfg->plugin.evict = 1;
	else if (strcmp(value, "no") == 0)
		k->cfg->plugin.evict = 0;
	else {
		snprintf(what, whatlen, "bad value `%s' for `%s' (expected yes or no)", value, key);
		return false;
	}
	return true;
}

/*
 * [strongswan] vici = unix:///abs/path: charon's vici socket (strongSwan's own URI form). Only unix
 * sockets: vici has no authentication, a TCP listener would hand CRL loading to anyone who reaches it.
 */
static bool key_vici(const struct key_ctx *k, const char *key, const char *value, char *what, size_t whatlen)
{
	char *uri;

	if (strncmp(value, "unix://", 7) != 0 || value[7] != '/' || value[8] == '\0') {
		snprintf(what, whatlen, "`%s' must be unix:///absolute/path, not `%s'", key, value);
		return false;
	}
	if (strlen(value + 7) >= CFG_VICI_PATH_MAX) {
		snprintf(what, whatlen, "`%s': socket path longer than %d bytes", key, CFG_VICI_PATH_MAX - 1);
		return false;
	}
	uri = strdup(value);
	if (!uri) {
		snprintf(what, whatlen, "out of memory");
		return false;
	}
	free(k->cfg->strongswan.vici);
	k->cfg->strongswan.vici = uri;
	return true;
}

/* The plugin's rollback marks (mark.h): an absolute path; opened and checked by the plugin alone. */
static bool key_marks_file(const struct key_ctx *k, const char *key, const char *value, char *what,
			   size_t whatlen)
{
	char *v;

	if (value[0] != '/' || value[strlen(value) - 1] == '/') {
		snprintf(what, whatlen, "`%s' must be the absolute path of a file, not `%s'", key, value);
		return false;
	}
	v = strdup(value);
	if (!v) {
		snprintf(what, whatlen, "out of memory");
		return false;
	}
	free(k->cfg->plugin.marks_file);
	k->cfg->plugin.marks_file = v;
	return true;
}

/* An absolute file path (metrics-file, status-file): the writer replaces it atomically in its directory. */
static bool abs_file(char **field, const char *key, const char *value, char *what, size_t whatlen)
{
	char *v;

	if (value[0] != '/' || value[strlen(value) - 1] == '/') {
		snprintf(what, whatlen, "`%s' must be the absolute path of a file, not `%s'", key, value);
		return false;
	}
	for (const char *c = value; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			snprintf(what, whatlen, "`%s' holds a control character", key);
			return false;
		}
	}
	v = strdup(value);
	if (!v) {
		snprintf(what, whatlen, "out of memory");
		return false;
	}
	free(*field);
	*field = v;
	return true;
}

static bool key_metrics_file(const struct key_ctx *k, const char *key, const char *value, char *what,
			     size_t whatlen)
{
	return abs_file(&k->cfg->global.metrics_file, key, value, what, whatlen);
}

static bool key_status_file(const struct key_ctx *k, const char *key, const char *value, char *what,
			    size_t whatlen)
{
	return abs_file(&k->cfg->plugin.status_file, key, value, what, whatlen);
}

/*
 * on-install = COMMAND: run by /bin/sh -c as written (the administrator's text); the values about
 * the CRL travel in the environment only, never in the command line (no injection). Control
 * characters are refused. In a [source], an empty value turns [global]'s off for that source.
 */
static bool command_value(char **field, bool empty_ok, const char *key, const char *value, char *what,
			  size_t whatlen)
{
	char *v;

	if (value[0] == '\0' && !empty_ok) {
		snprintf(what, whatlen, "empty `%s'", key);
		return false;
	}
	for (const char *c = value; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			snprintf(what, whatlen, "`%s' holds a control character", key);
			return false;
		}
	}
	v = strdup(value);
	if (!v) {
		snprintf(what, whatlen, "out of memory");
		return false;
	}
	free(*field);
	*field = v;
	return true;
}

static bool key_on_install(const struct key_ctx *k, const char *key, const char *value, char *what,
			   size_t whatlen)
{
	return command_value(&k->cfg->global.on_install, false, key, value, what, whatlen);
}

static bool key_src_on_install(const struct key_ctx *k, const char *key, const char *value, char *what,
			       size_t whatlen)
{
	return command_value(&k->src->on_install, true, key, value, what, whatlen);
}

static bool key_on_install_timeout(const struct key_ctx *k, const char *key, const char *value, char *what,
				   size_t whatlen)
{
	long long v;

	if (!cfg_parse_seconds(value, &v) || v <= 0 || v > CFG_TIMEOUT_MAX) {
		snprintf(what, whatlen, "bad value `%s' for `%s' (seconds, or 30s, 5m; more than 0, at most 1d)", value,
			 key);
		return false;
	}
	k->cfg->global.on_install_timeout = v;
	return true;
}

static bool key_src_pem(const struct key_ctx *k, const char *key, const char *value, char *what, size_t whatlen)
{
	if (strcmp(value, "yes") == 0)
		k->src->pem = true;
	else if (strcmp(value, "no") == 0)
		k->src->pem = false;
	else {
		snprintf(what, whatlen, "bad value `%s' for `%s' (expected yes or no)", value, key);
		return false;
	}
	return true;
}

static bool key_load_scoped(const struct key_ctx *k, const char *key, const char *value, char *what,
			    size_t whatlen)
{
	if (strcmp(value, "yes") == 0)
		k->cfg->strongswan.load_scoped = true;
	else if (strcmp(value, "no") == 0)
		k->cfg->strongswan.load_scoped = false;
	else {
		snprintf(what, whatlen, "bad value `%s' for `%s' (expected yes or no)", value, key);
		return false;
	}
	return true;
}

static bool key_cache_dir(const struct key_ctx *k, const char *key, const char *value, char *what,
			  size_t whatlen)
{
	char *dir;

	if (value[0] != '/') {
		snprintf(what, whatlen, "`%s' must be an absolute path, not `%s'", key, value);
		return false;
	}
	dir = strdup(value);
	if (!dir) {
		snprintf(what, whatlen, "out of memory");
		return false;
	}
	free(k->cfg->global.cache_dir);
	k->cfg->global.cache_dir = dir;
	return true;
}

/*
 * The length of the scheme of "scheme://rest" with something after "://", or 0.
 * RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
 */
static size_t url_scheme_len(const char *u)
{
	size_t i = 0;

	if (!is_alpha(u[0]))
		return 0;
	while (is_alpha(u[i]) || is_digit(u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.')
		i++;
	return strncmp(u + i, "://", 3) == 0 && u[i + 3] != '\0' ? i : 0;
}

/* The fetcher's allow-list (fetcher/download.c DL_PROTOCOLS); schemes are case-insensitive (RFC 3986 §3.1). */
static bool url_scheme_allowed(const char *u, size_t len)
{
	static const char *const allowed[] = { "http", "https", "file" };

	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
		size_t j = 0;

		if (strlen(allowed[i]) != len)
			continue;
		/* ASCII folding, not strncasecmp(): OpenVPN's locale must not matter */
		while (j < len && (u[j] | 0x20) == allowed[i][j])
			j++;
		if (j == len)
			return true;
	}
	return false;
}

static bool key_url(const struct key_ctx *k, const char *key, const char *value, char *what, size_t whatlen)
{
	struct cfg_source *src = k->src;
	char *url = NULL, **urls;
	size_t scheme;

	/* The value is not echoed: a URL may carry credentials (STYLE: never log them). */
	if (value[0] == '\0') {
		snprintf(what, whatlen, "empty `%s'", key);
		return false;
	}
	/*
	 * RFC 3986 has no whitespace or control characters in a URI: here they are a second URL left on
	 * the line (a comment is already gone), which would otherwise fail at fetch time.
	 */
	for (const char *c = value; *c; c++) {
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c == 0x7f) {
			snprintf(what, whatlen, "whitespace or control character in `%s' (one URL per line)", key);
			return false;
		}
	}
	scheme = url_scheme_len(value);
	if (scheme == 0) {
		snprintf(what, whatlen, "`%s' needs a scheme, as in scheme://host/path", key);
		return false;
	}
	if (!url_scheme_allowed(value, scheme)) {
		/* the scheme alone is safe to echo: RFC 3986 characters, before any credentials */
		snprintf(what, whatlen, "unsupported scheme `%.*s' in `%s' (expected http, https or file)",
			 (int)(scheme > 32 ? 32 : scheme), value, key);
		return false;
	}
	url = strdup(value);
	if (strcmp(key, "delta-url") == 0) {
		urls = url ? realloc(src->delta_urls, (src->n_delta_urls + 1) * sizeof(*urls)) : NULL;
		if (!urls) {
			free(url);
			snprintf(what, whatlen, "out of memory");
			return false;
		}
		urls[src->n_delta_urls++] = url;
		src->delta_urls = urls;
		return true;
	}
	urls = url ? realloc(src->urls, (src->n_urls + 1) * sizeof(*urls)) : NULL;
	if (!urls) {
		free(url);
		snprintf(what, whatlen, "out of memory");
		return false;
	}
	urls[src->n_urls++] = url;
	src->urls = urls;
	return true;
}

static bool key_ca(const struct key_ctx *k, const char *key, const char *value, char *what, size_t whatlen)
{
	struct cfg_source *src = k->src;
	X509 *ca = NULL;
	char *path;

	if (value[0] == '\0') {
		snprintf(what, whatlen, "empty `%s'", key);
		return false;
	}
	/*
	 * A relative path is relative to the configuration file, not to whatever directory OpenVPN
	 * has changed to (`cd`).
	 */
	if (value[0] != '/' && k->cfg->path != NULL && strrchr(k->cfg->path, '/') != NULL) {
		const char *slash = strrchr(k->cfg->path, '/');

		if (asprintf(&path, "%.*s/%s", (int)(slash - k->cfg->path), k->cfg->path, value) < 0)
			path = NULL;
	} else {
		path = strdup(value);
	}
	if (path != NULL && k->load_cas && !load_ca(path, &ca, what, whatlen)) {
		free(path);
		return false;
	}
	if (!path) {
		X509_free(ca);
		snprintf(what, whatlen, "out of memory");
		return false;
	}
	free(src->ca_path);
	X509_free(src->ca);
	src->ca_path = path;
	src->ca = ca;
	return true;
}

static const struct key_def *find_key(enum sec_kind sec, const char *key, size_t keylen)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (keys[i].sec == sec && strlen(keys[i].key) == keylen && memcmp(keys[i].key, key, keylen) == 0)
			return &keys[i];
	}
	return NULL;
}

/* --- sections ---------------------------------------------------------------------------- */

static struct cfg_source *current_source(const struct parser *p)
{
	if (p->sec != SEC_SOURCE || p->cfg->n_sources == 0)
		return NULL;
	return &p->cfg->sources[p->cfg->n_sources - 1];
}

static void section_label(const struct parser *p, char *buf, size_t len)
{
	const struct cfg_source *src = current_source(p);

	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		if (sections[i].kind != p->sec)
			continue;
		if (src)
			snprintf(buf, len, "[%s %s]", sections[i].word, src->name);
		else
			snprintf(buf, len, "[%s]", sections[i].word);
		return;
	}
	snprintf(buf, len, "(no section)");
}

/* Checks what a section needs once it has ended (next header or end of file). */
static bool end_section(struct parser *p)
{
	const struct cfg_source *src = current_source(p);

	if (src && !src->ca_path) {
		fail(p, p->sec_line, "[source %s] has no `ca'", src->name);
		return false;
	}
	return true;
}

static bool source_name_ok(struct parser *p, const char *name, size_t len)
{
	if (len == 0) {
		fail(p, p->line, "empty source name");
		return false;
	}
	if (len > CFG_NAME_MAX) {
		fail(p, p->line, "source name `%.*s' is longer than %d characters", (int)len, name, CFG_NAME_MAX);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '_' && c != '-') {
			fail(p, p->line, "invalid source name `%.*s' (allowed: A-Z a-z 0-9 . _ -)", (int)len, name);
			return false;
		}
	}
	/*
	 * The name becomes a file name in cache-dir, where a leading dot means hidden: "." and "..",
	 * the installer's temp files (.NAME.crl.XXXXXX) and the lock, files the plugin skips.
	 */
	if (!cachedir_visible(name)) {
		fail(p, p->line, "invalid source name `%.*s' (must not start with `.')", (int)len, name);
		return false;
	}
	return true;
}

static bool add_source(struct parser *p, const char *name, size_t len)
{
	struct cfg *cfg = p->cfg;
	struct cfg_source *sources, *src;

	if (!source_name_ok(p, name, len))
		return false;
	for (size_t i = 0; i < cfg->n_sources; i++) {
		if (strlen(cfg->sources[i].name) == len && memcmp(cfg->sources[i].name, name, len) == 0) {
			fail(p, p->line, "duplicate source `%.*s' (first at line %d)", (int)len, name,
			     cfg->sources[i].line);
			return false;
		}
	}
	sources = realloc(cfg->sources, (cfg->n_sources + 1) * sizeof(*sources));
	if (!sources) {
		fail(p, p->line, "out of memory");
		return false;
	}
	cfg->sources = sources;
	src = &sources[cfg->n_sources++];
	memset(src, 0, sizeof(*src));
	memcpy(src->name, name, len);
	src->name[len] = '\0';
	src->line = p->line;
	return true;
}

/* A header line "[word]" or "[word NAME]", `s` at the '['. */
static bool begin_section(struct parser *p, const char *s)
{
	const char *close, *rest, *a, *b, *word_end, *name;
	const struct sec_def *sd = NULL;

	if (!end_section(p))
		return false;
	close = find_chars_or_comment(s + 1, "]", false);
	if (*close != ']') {
		fail(p, p->line, "missing `]' in section header");
		return false;
	}
	rest = skip_space(close + 1);
	if (*rest != '\0' && !is_comment(*rest)) {
		fail(p, p->line, "unexpected text `%s' after section header", rest);
		return false;
	}
	a = skip_space(s + 1);
	b = close;
	while (b > a && is_space(b[-1]))
		b--;
	word_end = a;
	while (word_end < b && !is_space(*word_end))
		word_end++;
	name = word_end;
	while (name < b && is_space(*name))
		name++;
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		if (strlen(sections[i].word) == (size_t)(word_end - a) &&
		    memcmp(sections[i].word, a, (size_t)(word_end - a)) == 0)
			sd = &sections[i];
	}
	if (!sd) {
		fail(p, p->line, "unknown section `%.*s'", (int)(b - a), a);
		return false;
	}
	if (!sd->named && name < b) {
		fail(p, p->line, "unexpected name `%.*s' in [%s]", (int)(b - name), name, sd->word);
		return false;
	}
	if (sd->named && name == b) {
		fail(p, p->line, "[%s] without a name (expected [%s NAME])", sd->word, sd->word);
		return false;
	}
	if (sd->kind == SEC_SOURCE && !add_source(p, name, (size_t)(b - name)))
		return false;
	p->sec = sd->kind;
	p->sec_line = p->line;
	/* Keys of a named section are per instance; [global] and [plugin] may be split but not repeat keys. */
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (sd->named && keys[i].sec == sd->kind)
			p->seen[i] = 0;
	}
	return true;
}

static bool on_key(struct parser *p, const char *key, const char *value)
{
	char what[CFG_WHAT_MAX], label[CFG_NAME_MAX + 16];
	const struct key_def *kd;
	struct key_ctx k;
	size_t i;

	if (p->sec == SEC_NONE) {
		fail(p, p->line, "key `%s' before any [section]", key);
		return false;
	}
	section_label(p, label, sizeof(label));
	kd = find_key(p->sec, key, strlen(key));
	if (!kd) {
		fail(p, p->line, "unknown key `%s' in %s", key, label);
		return false;
	}
	i = (size_t)(kd - keys);
	if (!kd->repeatable && p->seen[i]) {
		fail(p, p->line, "duplicate key `%s' in %s (first at line %d)", key, label, p->seen[i]);
		return false;
	}
	k.cfg = p->cfg;
	k.src = current_source(p);
	k.load_cas = p->load_cas;
	if (!kd->fn(&k, kd->key, value, what, sizeof(what))) {
		fail(p, p->line, "%s", what);
		return false;
	}
	if (!p->seen[i])
		p->seen[i] = p->line;
	return true;
}

/*
 * One line, without its end of line: blank, comment, "[header]" or "key = value" (also "key: value",
 * as configparser and the libinih-based parser accepted). The key and the value lose their outer
 * whitespace, the value its comment. Returns false after fail().
 */
static bool parse_line(struct parser *p, char *line)
{
	char *s = line, *t, *end, *key_end, *value, *value_end;

	if (p->line == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
	    (unsigned char)s[2] == 0xBF)
		s += 3; /* UTF-8 BOM */
	t = (char *)skip_space(s);
	if (*t == '\0' || is_comment(*t))
		return true;
	if (t != s) {
		/*
		 * INI readers in configparser's style take an indented line for more of the previous value,
		 * so "  ca = x" would be read as part of a url elsewhere. Refuse rather than guess either way.
		 */
		fail(p, p->line,
		     "indented line (continuation lines are not supported; remove the leading whitespace)");
		return false;
	}
	if (*t == '[')
		return begin_section(p, t);
	end = (char *)find_chars_or_comment(t, "=:", false);
	if (*end != '=' && *end != ':') {
		fail(p, p->line, "syntax error: expected `key = value' or `[section]'");
		return false;
	}
	if (end == t) {
		fail(p, p->line, "missing key name before `%c'", *end);
		return false;
	}
	key_end = end;
	while (key_end > t && is_space(key_end[-1]))
		key_end--;
	*key_end = '\0';
	value = (char *)skip_space(end + 1);
	value_end = (char *)find_chars_or_comment(value, "", true);
	while (value_end > value && is_space(value_end[-1]))
		value_end--;
	*value_end = '\0';
	return on_key(p, t, value);
}

/*
 * Splits the buffer into physical lines (LF or CRLF) and parses each; stops at the first error.
 * A NUL byte or a line longer than CFG_LINE_MAX is refused, never read around.
 */
static bool parse_lines(struct parser *p)
{
	char line[CFG_LINE_MAX + 1];

	while (!p->failed && p->pos < p->len) {
		const char *start = p->buf + p->pos, *nl;
		size_t avail = p->len - p->pos, n;

		nl = memchr(start, '\n', avail);
		n = nl ? (size_t)(nl - start) : avail;
		p->pos += nl ? n + 1 : n;
		p->line++;
		if (n > 0 && start[n - 1] == '\r')
			n--; /* CRLF */
		if (memchr(start, '\0', n)) {
			fail(p, p->line, "NUL byte in line");
			break;
		}
		if (n > CFG_LINE_MAX) {
			fail(p, p->line, "line too long (at most %d characters)", CFG_LINE_MAX);
			break;
		}
		memcpy(line, start, n);
		line[n] = '\0';
		if (!parse_line(p, line))
			break;
	}
	return !p->failed;
}

/* --- entry points ------------------------------------------------------------------------ */

bool cfg_parse_buffer(const char *name, const char *buf, size_t len, bool load_cas, struct cfg **out,
		      char *err, size_t errlen)
{
	struct parser p;
	struct cfg *cfg = NULL;
	bool ok = false;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	memset(&p, 0, sizeof(p));
	p.name = name ? name : "(config)";
	p.buf = buf;
	p.len = buf ? len : 0;
	p.load_cas = load_cas;
	p.err = err;
	p.errlen = errlen;
	if (len > CFG_FILE_MAX) {
		fail(&p, 0, "larger than %d bytes", CFG_FILE_MAX);
		goto out;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg || !(cfg->path = strdup(p.name))) {
		fail(&p, 0, "out of memory");
		goto out;
	}
	cfg->plugin.missing = CFG_REJECT;
	cfg->plugin.expired = CFG_REJECT;
	cfg->plugin.grace = 0;
	cfg->global.interval = CFG_DEFAULT_INTERVAL;
	cfg->global.timeout = CFG_DEFAULT_TIMEOUT;
	cfg->global.on_install_timeout = CFG_DEFAULT_ON_INSTALL_TIMEOUT;
	cfg->global.max_size = CFG_DEFAULT_MAX_SIZE;
	cfg->plugin.evict = -1;
	p.cfg = cfg;

	if (!parse_lines(&p) || !end_section(&p))
		goto out;
	if (!cfg->global.cache_dir) {
		fail(&p, 0, "missing `cache-dir' in [global]");
		goto out;
	}
	if (!cfg->global.user_agent && !(cfg->global.user_agent = strdup(CFG_DEFAULT_USER_AGENT))) {
		fail(&p, 0, "out of memory");
		goto out;
	}
	*out = cfg;
	cfg = NULL; /* transferred */
	ok = true;
out:
	cfg_free(cfg);
	return ok;
}

bool cfg_load(const char *path, struct cfg **out, char *err, size_t errlen)
{
	char ebuf[128];
	char *buf = NULL;
	size_t len = 0;
	bool opened, ok = false;
	mode_t type;
	int rc;

	*out = NULL;
	rc = read_file_capped(path, CFG_FILE_MAX, &buf, &len, &opened, &type);
	if (rc == -EFBIG) {
		set_err(err, errlen, "%s: larger than %d bytes", path, CFG_FILE_MAX);
		goto out;
	}
	if (rc < 0) {
		set_err(err, errlen, "%s: cannot %s: %s", path, opened ? "read" : "open",
			read_error(rc, type, CFG_FILE_MAX, ebuf, sizeof(ebuf)));
		goto out;
	}
	ok = cfg_parse_buffer(path, buf, len, true, out, err, errlen);
out:
	free(buf);
	return ok;
}

bool cfg_apply_override(struct cfg *cfg, const char *kv, char *err, size_t errlen)
{
	char what[CFG_WHAT_MAX];
	const struct key_def *kd;
	struct key_ctx k;
	const char *eq;

	if (!cfg || !kv) {
		set_err(err, errlen, "plugin argument: missing");
		return false;
	}
	eq = strchr(kv, '=');
	if (!eq) {
		set_err(err, errlen, "plugin argument `%s': expected key=value", kv);
		return false;
	}
	kd = find_key(SEC_PLUGIN, kv, (size_t)(eq - kv));
	if (!kd) {
		set_err(err, errlen, "plugin argument `%s': unknown key `%.*s'", kv, (int)(eq - kv), kv);
		return false;
	}
	k.cfg = cfg;
	k.src = NULL;
	k.load_cas = false; /* [plugin] keys load no file (management-password: see cfg_read_secret()) */
	if (!kd->fn(&k, kd->key, eq + 1, what, sizeof(what))) {
		set_err(err, errlen, "plugin argument `%s': %s", kv, what);
		return false;
	}
	return true;
}

void cfg_free(struct cfg *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_sources; i++) {
		struct cfg_source *src = &cfg->sources[i];

		for (size_t j = 0; j < src->n_urls; j++)
			free(src->urls[j]);
		free(src->urls);
		for (size_t j = 0; j < src->n_delta_urls; j++)
			free(src->delta_urls[j]);
		free(src->delta_urls);
		free(src->ca_path);
		free(src->on_install);
		X509_free(src->ca);
	}
	free(cfg->sources);
	free(cfg->global.cache_dir);
	free(cfg->global.user_agent);
	free(cfg->plugin.management);
	if (cfg->plugin.management_password)
		OPENSSL_cleanse(cfg->plugin.management_password, strlen(cfg->plugin.management_password));
	free(cfg->plugin.management_password);
	free(cfg->plugin.management_password_path);
	free(cfg->plugin.marks_file);
	free(cfg->strongswan.vici);
	free(cfg->global.metrics_file);
	free(cfg->global.on_install);
	free(cfg->plugin.status_file);
	free(cfg->path);
	free(cfg);
}
