/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One home for the text that messages, status and state show: times, names, serials, numbers, reasons, scopes, errno. */
#ifndef CRLSYNC_FMT_H
#define CRLSYNC_FMT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <openssl/asn1.h>
#include <openssl/x509.h>

/*
 * Every function here writes a NUL-terminated string that fits `len` (truncated if it must) and
 * needs no lock: the plugin calls them on its reload and eviction threads as well as OpenVPN's.
 */

/* "2026-11-02 10:00:00 UTC" ("@SECONDS" when the time does not convert). 40 bytes always fit. */
void fmt_time(time_t t, char *buf, size_t len);

/* One-line RFC 2253 form of a name (UTF-8 kept as is); malloc'd, the caller frees. NULL only when out of memory. */
char *fmt_name(const X509_NAME *name);

/* Upper-case hex of a serial's magnitude: "1F", "00" for zero, "-1F" for a (non-conforming) negative one. */
void fmt_serial(const ASN1_INTEGER *serial, char *buf, size_t len);

/*
 * A cRLNumber as crl.h's number_hex shows it: upper-case, two digits an octet of the big-endian
 * magnitude ("0A"), "0" for zero (no octets), "none" when the CRL has none (has_number false).
 */
void fmt_number(bool has_number, const unsigned char *number, size_t n, char *buf, size_t len);

/* Lower-case hex of n octets into out, which holds 2 * n + 1 bytes (digests and keys in state files). */
void fmt_hex_lower(const unsigned char *d, size_t n, char *out);

/* RFC 5280 §5.3.1 name of a reason code ("keyCompromise"); "unspecified" for CRL_REASON_ABSENT. */
const char *fmt_reason(int reason);

/*
 * A CRL's scope from its crl.h flags (enum crl_flags): "complete (no issuingDistributionPoint)", or
 * "issuingDistributionPoint:" and the fields it asserts (" onlyContainsUserCerts ..."). 160 bytes fit.
 */
void fmt_scope(unsigned crl_flags, char *buf, size_t len);

/*
 * An error message into the caller's optional buffer: `err` NULL or `errlen` 0 writes nothing
 * (the "char *err, size_t errlen" out-parameters of the core and the fetcher).
 */
void fmt_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* fmt_err() for a caller that has its own `...' (config.c, which then sanitises what it wrote). */
void fmt_verr(char *err, size_t errlen, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* strerror() without its static buffer (not thread-safe): the text of errno `e` in buf, returned. */
const char *fmt_errno(int e, char *buf, size_t len);

/*
 * fmt_errno() into a buffer that lives as long as the enclosing block (a C11 compound literal), for
 * use as an argument: log_error(s, "...: %s", FMT_ERRNO(-r)). For the plugin's threads.
 */
#define FMT_ERRNO(e) fmt_errno((e), (char[128]){ 0 }, 128)

#endif
