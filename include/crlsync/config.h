/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The INI configuration shared by the plugin and the fetcher (read by lib/config.c's own line reader). */
#ifndef CRLSYNC_CONFIG_H
#define CRLSYNC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/x509.h>

enum cfg_action {
	CFG_REJECT = 0, /* the default everywhere: fail closed */
	CFG_ACCEPT = 1,
};

#define CFG_NAME_MAX 64

/* One [source NAME] section: a CRL and the CA that signs it. */
struct cfg_source {
	char name[CFG_NAME_MAX + 1];
	char **urls;      /* repeatable `url`, in file order (for the fetcher) */
	size_t n_urls;
	char **delta_urls; /* repeatable `delta-url`: the delta CRL's mirrors; none = the base's FreshestCRL */
	size_t n_delta_urls;
	char *ca_path;    /* `ca`: PEM certificate of the CRL issuer */
	X509 *ca;         /* loaded from ca_path by cfg_load() */
	int line;         /* line of the section header, for messages */
	long long interval;   /* `interval` override in seconds, 0 = [global] interval */
	unsigned long long max_size; /* `max-size` override in bytes, 0 = [global] max-size */
	bool pem;         /* `pem = yes`: the fetcher also keeps cache-dir/NAME.pem (the plugin never reads it) */
	char *on_install; /* `on-install`: NULL = [global]'s; "" = none for this source */
};

#define CFG_DEFAULT_INTERVAL 3600
#define CFG_DEFAULT_TIMEOUT 30
/* Largest `timeout` (1 day): libcurl refuses more than INT_MAX/1000 s, and only at fetch time. */
#define CFG_TIMEOUT_MAX 86400
/* Longest vici socket path (sun_path holds 108 bytes with its NUL). */
#define CFG_VICI_PATH_MAX 108
#define CFG_DEFAULT_MAX_SIZE (64ULL << 20)
#define CFG_DEFAULT_USER_AGENT "crlsync/0.1"
/* Where the plugin keeps its rollback marks unless `marks-file' says otherwise. */
#define CFG_DEFAULT_MARKS_FILE "/var/lib/crlsync-plugin/marks"
/* How long an on-install command may run before it is killed (SIGTERM, then SIGKILL). */
#define CFG_DEFAULT_ON_INSTALL_TIMEOUT 60

/* [global]: what the fetcher does, and where cache-dir is (the plugin reads cache_dir too). */
struct cfg_global {
	char *cache_dir;              /* cache-dir, required */
	long long interval;           /* interval: longest time between refreshes (s, > 0) */
	long long timeout;            /* timeout: per transfer (s, > 0) */
	unsigned long long max_size;  /* max-size: largest CRL downloaded (bytes, > 0) */
	char *user_agent;             /* user-agent */
	char *metrics_file;           /* metrics-file: Prometheus textfile the daemon rewrites, or NULL */
	char *on_install;             /* on-install: /bin/sh -c COMMAND after each install, or NULL */
	long long on_install_timeout; /* on-install-timeout: seconds (default CFG_DEFAULT_ON_INSTALL_TIMEOUT) */
};

/* [plugin]: the OpenVPN plugin's policy and its management, marks and status files. */
struct cfg_plugin {
	enum cfg_action missing;      /* missing */
	enum cfg_action expired;      /* expired */
	long long grace;              /* grace, seconds, >= 0 */
	char *management;             /* management: "unix:/path" or "host:port", or NULL */
	/*
	 * management-password: cfg_load() records the path only, and never reads the file (the
	 * fetcher shares this configuration, and a root-only 0600 file is not for its user). The plugin
	 * reads it with cfg_read_secret() and puts the password here; cfg_free() wipes it.
	 */
	char *management_password;
	char *management_password_path;
	int evict;                    /* evict: 1/0, or -1 when unset (then: yes iff management) */
	char *marks_file;             /* marks-file: absolute path, or NULL (CFG_DEFAULT_MARKS_FILE) */
	char *status_file;            /* status-file: the plugin's JSON view of what it enforces, or NULL */
};

/* [strongswan]: the fetcher's strongSwan sink. */
struct cfg_strongswan {
	char *vici;                   /* vici: "unix:///path" of charon's vici socket, or NULL */
	bool load_scoped;             /* load-scoped: also hand charon CRLs with an IDP (default no) */
};

/* The whole file: one member per fixed section, then the [source NAME] sections in file order. */
struct cfg {
	char *path;
	struct cfg_global global;
	struct cfg_plugin plugin;
	struct cfg_strongswan strongswan;
	struct cfg_source *sources;
	size_t n_sources;
};

/*
 * Parses `path` into a new configuration and loads every `ca` file (both must be regular files).
 * Returns true and sets *out (caller frees with cfg_free()); on false, *out stays NULL and
 * `err` holds one line naming the file and line, e.g. "crlsync.conf line 12: unknown key `intervall'".
 */
bool cfg_load(const char *path, struct cfg **out, char *err, size_t errlen);

/*
 * Same, from an in-memory buffer (for fuzzing and tests). `name` is used in messages;
 * `ca` files are not loaded when load_cas is false.
 */
bool cfg_parse_buffer(const char *name, const char *buf, size_t len, bool load_cas, struct cfg **out,
		      char *err, size_t errlen);

/*
 * Applies one plugin argument "key=value" as an override of a [plugin] key.
 * Returns false with `err` set when the key is unknown or the value bad; cfg is then unchanged.
 */
bool cfg_apply_override(struct cfg *cfg, const char *kv, char *err, size_t errlen);

/*
 * Reads a password file: its first line, without CR/LF, at most 4096 bytes of file.
 * Only a regular file is read (a FIFO or device is refused without blocking); a file larger than
 * that, an empty first line or a NUL byte in it is an error. Returns 0 and sets *out (NUL-terminated,
 * *outlen bytes; the caller frees it with cfg_secret_free()), or -errno (-EACCES when the caller's
 * user may not read it; -EINVAL for bad content) with `err` naming the file.
 */
int cfg_read_secret(const char *path, char **out, size_t *outlen, char *err, size_t errlen);

/* Wipes `len` bytes of a secret and frees it; NULL is a no-op. */
void cfg_secret_free(char *secret, size_t len);

/* Parses a size in bytes with an optional K or M suffix (binary: 1K = 1024). */
bool cfg_parse_size(const char *s, unsigned long long *out);

/* The effective interval and max-size of a source (its override, or the global value). */
long long cfg_source_interval(const struct cfg *cfg, const struct cfg_source *src);
unsigned long long cfg_source_max_size(const struct cfg *cfg, const struct cfg_source *src);

/* The on-install command of a source (its own, else [global]'s), or NULL for none. */
const char *cfg_source_on_install(const struct cfg *cfg, const struct cfg_source *src);

/* Whether connected clients are evicted (the `evict` key, defaulting to whether management is set). */
bool cfg_evict(const struct cfg *cfg);

/* The source named `name`, or NULL. */
const struct cfg_source *cfg_find_source(const struct cfg *cfg, const char *name);

/* Parses "reject"/"accept". */
bool cfg_parse_action(const char *s, enum cfg_action *out);

/* Parses a non-negative duration in seconds, with optional s/m/h/d suffix. */
bool cfg_parse_seconds(const char *s, long long *out);

const char *cfg_action_str(enum cfg_action a);

/* Frees everything; NULL is a no-op. */
void cfg_free(struct cfg *cfg);

#endif
