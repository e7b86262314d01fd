/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rollback rule, once: a stream's newest CRL (a mark), when a candidate would undo it, and how marks are kept. */
#ifndef CRLSYNC_MARK_H
#define CRLSYNC_MARK_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "crlsync/crl.h"
#include "crlsync/log.h"

/*
 * A stream is what one CRL replaces another within (RFC 5280 §5.2.3: numbers grow per issuer and
 * scope). Its key, in one form everywhere (the plugin's store, its marks file, the fetcher and its
 * state):
 *  - the issuer: SHA-256 of the verifying ca's subject name (DER) followed by its
 *    SubjectPublicKeyInfo (DER), so a re-issued ca certificate with the same name and key is the
 *    same issuer;
 *  - the scope: "complete" (no issuingDistributionPoint), or the SHA-256 of the IDP extension's
 *    DER value, written as 64 lower-case hex digits.
 * Either part may be unknown (a fetcher state written before it was kept): unknown matches anything.
 * A delta CRL (CRL_IS_DELTA) has a stream of its own beside its base's: its scope part is the
 * SHA-256 of a fixed tag followed by the IDP's DER (or nothing), written as 64 hex digits like an
 * IDP scope. So deltas are held to no rollback among themselves, and a base and its delta, whose
 * numbers share one sequence (RFC 5280 §5.2.4), never count as rolling each other back.
 */
#define MARK_KEY_LEN 32
#define MARK_SCOPE_TEXT_LEN 65 /* "complete", 64 hex digits, or "" (unknown), with the NUL */

enum mark_scope {
	MARK_SCOPE_UNKNOWN = 0,
	MARK_SCOPE_COMPLETE,
	MARK_SCOPE_IDP,
};

struct mark_stream {
	bool has_issuer;
	unsigned char issuer[MARK_KEY_LEN];
	enum mark_scope scope_kind;
	unsigned char scope[MARK_KEY_LEN]; /* when MARK_SCOPE_IDP */
};

/* The newest CRL of a stream as far as its rollback matters. */
struct mark {
	struct mark_stream stream;
	bool has_number;
	unsigned char number[CRL_NUMBER_MAX]; /* big-endian magnitude, leading zeros stripped */
	size_t number_len;
	char number_hex[2 * CRL_NUMBER_MAX + 3]; /* as crl.h's number_hex: "0A", "0", or "none" */
	time_t this_update;
	unsigned char digest[32]; /* SHA-256 of the CRL's DER: its content */
};

/* The stream key of a verified CRL (issuer from c->ca, scope from c->scope; a delta's own stream). */
void mark_stream_of(const struct crl *c, struct mark_stream *out);

/* The stream of the complete CRLs a delta `c` amends (for a complete CRL, mark_stream_of()). */
void mark_base_stream_of(const struct crl *c, struct mark_stream *out);

/* The mark a verified CRL sets. */
void mark_from_crl(const struct crl *c, struct mark *out);

/* Same issuer and same scope (an unknown part matches anything). */
bool mark_same_stream(const struct mark_stream *a, const struct mark_stream *b);

/*
 * <0, 0, >0 as `a` is older than, as old as, newer than `b`: by crlNumber when both have one,
 * else by thisUpdate. Only meaningful within one stream.
 */
int mark_compare_age(const struct mark *a, const struct mark *b);

/*
 * THE rollback rule: a candidate undoes `ref` (the newest ever accepted for its stream) when it is
 * older, or as old with other content (same number, other digest). Same stream assumed.
 */
bool mark_is_rollback(const struct mark *cand, const struct mark *ref);

/*
 * Raises `m` to `c` when c is newer (never lowers it); a mark of unknown scope or issuer learns
 * them from c. Returns true when m changed.
 */
bool mark_raise(struct mark *m, const struct mark *c);

/* The scope part as text: "complete", 64 hex digits, or "" when unknown. */
void mark_scope_text(const struct mark_stream *s, char out[MARK_SCOPE_TEXT_LEN]);
/* Parses that text back (NULL or "" is unknown). False when malformed (s then unknown). */
bool mark_scope_parse(const char *text, struct mark_stream *s);

/* Sets number, number_len, has_number and number_hex from raw bytes (has_number false: "none"). */
void mark_set_number(struct mark *m, bool has_number, const unsigned char *number, size_t len);

/*
 * One mark as one line of text (no newline), with a checksum of its own:
 *   m1 ISSUER|- SCOPE|- NUMBER|none THISUPDATE DIGEST CHECK
 * Returns the length, or 0 when buf is too small (MARK_LINE_MAX always fits).
 */
#define MARK_LINE_MAX 256
size_t mark_format(const struct mark *m, char *buf, size_t len);
/* Parses one such line (without its newline); false when malformed or its checksum is wrong. */
bool mark_parse(const char *line, size_t len, struct mark *out);

/*
 * A set of marks: at most one per stream. Adds `m` or raises the mark of its stream. Returns 1
 * when the set changed, 0 when not, -ENOMEM.
 */
int mark_set_merge(struct mark **set, size_t *n, const struct mark *m);

/*
 * A whole set as a text block (sequence number, the lines, a checksum over the block), as kept in
 * a slot of the marks file or in memory. *out is malloc'd (caller frees). Returns 0 or -ENOMEM.
 */
int mark_set_encode(const struct mark *set, size_t n, unsigned long long seq, char **out, size_t *len);
/*
 * Decodes a block, merging every mark whose line checks into *set. Returns 1 when the whole
 * block is intact (its checksum holds; *seq set), 0 when it is damaged, torn or empty (the
 * lines that check were still merged; *bad counts those that did not), -ENOMEM.
 */
int mark_set_decode(const char *buf, size_t len, struct mark **set, size_t *n, unsigned long long *seq,
		    size_t *bad);

/*
 * The marks file. It must be writable by nobody but the process that enforces the marks: the
 * fetcher's user, who owns cache-dir, must not be able to lower them. Opens (creating) `path`
 * O_RDWR|O_NOFOLLOW|O_CLOEXEC 0600; when `mkdir_parent`, its directory is created 0700 first if
 * missing. Refused (-EPERM, `err` naming the path and the fix): a file that is not regular, not
 * owned by the effective uid, or writable by group or others; a path through a symlink, or through
 * any directory (from / down) not owned by root or the effective uid, or writable by group or
 * others (above the last, a root-owned sticky directory passes). Returns the fd or -errno (err set).
 */
int mark_file_open(const char *path, bool mkdir_parent, char *err, size_t errlen);

/*
 * Two slots of MARK_SLOT_SIZE bytes each, each a block as above, written alternately: a crash or
 * torn write damages at most the slot being written, and reading merges every line that checks
 * from both slots (the highest mark per stream wins), so a damaged write can never lower a mark.
 */
#define MARK_SLOT_SIZE ((size_t)256 * 1024)

/*
 * Reads both slots, merging into *set. Every damaged line or slot is logged (naming `what`).
 * Returns 0 or -errno (read error, -ENOMEM).
 */
int mark_file_read(int fd, const char *what, const struct log_sink *log, struct mark **set, size_t *n);

/*
 * Writes `set`, merged with what the file holds, into the slot that does not hold the newest
 * intact block, and fdatasync()s, all under an exclusive flock() (another process sharing the file
 * waits). Returns 0 or -errno (-EFBIG when the set does not fit a slot).
 */
int mark_file_write(int fd, const struct mark *set, size_t n);

#endif
