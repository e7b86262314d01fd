/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Text of times, names, serials, numbers, reasons, scopes and errno values (fmt.h), for every message. */
#include "crlsync/fmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>

#include "crlsync/crl.h" /* enum crl_flags */
#include "crlsync/crl_index.h" /* CRL_REASON_ABSENT */

void fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)t);
}

char *fmt_name(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL, *p;
	long n;

	if (b == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		goto out;
	n = BIO_get_mem_data(b, &p);
	s = malloc((size_t)n + 1);
	if (s != NULL) {
		memcpy(s, p, (size_t)n);
		s[n] = '\0';
	}
out:
	BIO_free(b);
	return s;
}

void fmt_serial(const ASN1_INTEGER *serial, char *buf, size_t len)
{
	const unsigned char *d = ASN1_STRING_get0_data(serial);
	size_t n = (size_t)ASN1_STRING_length(serial), o = 0, i = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER && o + 1 < len)
		buf[o++] = '-';
	while (i < n && d[i] == 0)
		i++;
	if (i == n) {
		snprintf(buf + o, len - o, "00");
		return;
	}
	for (; i < n && o + 3 <= len; i++, o += 2)
		snprintf(buf + o, len - o, "%02X", d[i]);
	buf[o < len ? o : len - 1] = '\0';
}

void fmt_number(bool has_number, const unsigned char *number, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (!has_number) {
		snprintf(buf, len, "none");
		return;
	}
	if (n == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (size_t i = 0; i < n && o + 3 <= len; i++, o += 2)
		snprintf(buf + o, len - o, "%02X", number[i]);
}

void fmt_hex_lower(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

const char *fmt_reason(int reason)
{
	switch (reason) {
	case CRL_REASON_UNSPECIFIED: return "unspecified";
	case CRL_REASON_KEY_COMPROMISE: return "keyCompromise";
	case CRL_REASON_CA_COMPROMISE: return "cACompromise";
	case CRL_REASON_AFFILIATION_CHANGED: return "affiliationChanged";
	case CRL_REASON_SUPERSEDED: return "superseded";
	case CRL_REASON_CESSATION_OF_OPERATION: return "cessationOfOperation";
	case CRL_REASON_CERTIFICATE_HOLD: return "certificateHold";
	case CRL_REASON_REMOVE_FROM_CRL: return "removeFromCRL";
	case CRL_REASON_PRIVILEGE_WITHDRAWN: return "privilegeWithdrawn";
	case CRL_REASON_AA_COMPROMISE: return "aACompromise";
	case CRL_REASON_ABSENT: return "unspecified"; /* RFC 5280 §5.3.1: absent means unspecified */
	default: return "unknown reason";
	}
}

void fmt_scope(unsigned crl_flags, char *buf, size_t len)
{
	if (!(crl_flags & CRL_HAS_IDP)) {
		snprintf(buf, len, "complete (no issuingDistributionPoint)");
		return;
	}
	snprintf(buf, len, "issuingDistributionPoint:%s%s%s%s%s%s",
		 crl_flags & CRL_IDP_USER_ONLY ? " onlyContainsUserCerts" : "",
		 crl_flags & CRL_IDP_CA_ONLY ? " onlyContainsCACerts" : "",
		 crl_flags & CRL_IDP_ATTR_ONLY ? " onlyContainsAttributeCerts" : "",
		 crl_flags & CRL_IDP_SOME_REASONS ? " onlySomeReasons" : "",
		 crl_flags & CRL_IDP_INDIRECT ? " indirectCRL" : "", crl_flags & CRL_IDP_HAS_DP ? " distributionPoint" : "");
}

void fmt_verr(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (err == NULL || errlen == 0)
		return;
	vsnprintf(err, errlen, fmt, ap);
}

void fmt_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_verr(err, errlen, fmt, ap);
	va_end(ap);
}

const char *fmt_errno(int e, char *buf, size_t len)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	return strerror_r(e, buf, len); /* the GNU variant: may return a static string instead of filling buf */
#else
	if (strerror_r(e, buf, len) != 0)
		snprintf(buf, len, "error %d", e);
	return buf;
#endif
}
