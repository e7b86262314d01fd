/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The revocation index: serial -> (revocation time, reason), built once per CRL, looked up per handshake. */
#ifndef CRLSYNC_CRL_INDEX_H
#define CRLSYNC_CRL_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/x509v3.h>

/* Longest serial magnitude indexed. RFC 5280 §4.1.2.2 allows 20 octets; real CAs exceed it a little. */
#define CRL_SERIAL_MAX 64

/*
 * Reason codes are RFC 5280 §5.3.1's, as OpenSSL names them (CRL_REASON_KEY_COMPROMISE ...
 * CRL_REASON_AA_COMPROMISE); CRL_REASON_ABSENT marks an entry without a reasonCode.
 */
#define CRL_REASON_ABSENT 255

struct crl_index_hit {
	time_t revoked_at;
	int reason; /* CRL_REASON_*, or CRL_REASON_ABSENT */
};

struct crl_index;

/* A new, empty, unsealed index with room for `hint` entries (it grows). NULL on allocation failure. */
struct crl_index *crl_index_new(size_t hint);

/*
 * Makes room for `n` more entries whose longest serial has `tail_max` octets beyond the first 7
 * (a loader that measured them first), so that nothing is reallocated or moved while adding: the
 * index is built in place, each serial's tail in a slot of the longest one's size until seal packs
 * them. Returns 0, -EINVAL (sealed) or -ENOMEM.
 */
int crl_index_reserve(struct crl_index *idx, size_t n, size_t tail_max);

/*
 * Adds one entry. `serial` is the big-endian magnitude (leading zero octets are ignored, so the
 * DER forms with and without a 0x00 pad match); `negative` marks a (non-conforming) negative serial.
 * Returns 0, -EINVAL (too long, or index sealed) or -ENOMEM.
 */
int crl_index_add(struct crl_index *idx, const unsigned char *serial, size_t len, bool negative,
		  time_t revoked_at, int reason);

/*
 * Sorts (in place: a few KB of stack, no scratch arrays) and freezes the index; after this only
 * lookups are allowed. Duplicate serials keep one entry (the earliest revocation). Returns 0, or
 * -ENOMEM (the index stays unsealed, takes no more entries, and may only be sealed again or freed).
 */
int crl_index_seal(struct crl_index *idx);

/* True when the serial is listed; fills *hit when non-NULL. The index must be sealed. Thread-safe. */
bool crl_index_find(const struct crl_index *idx, const unsigned char *serial, size_t len, bool negative,
		    struct crl_index_hit *hit);

size_t crl_index_count(const struct crl_index *idx);

/* Bytes of heap the index holds (for status and benchmarks). */
size_t crl_index_bytes(const struct crl_index *idx);

void crl_index_free(struct crl_index *idx);

/* The name of a reason code ("keyCompromise"): fmt.h's fmt_reason(). */

#endif
