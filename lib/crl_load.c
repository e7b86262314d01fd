/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What callers call to load CRLs (crl.h): DER/PEM framing and the loader dispatch, the fast path, else the reference. */
#include "crlsync/crl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "crl_der.h"
#include "crl_reference.h"
#include "crlsync/file.h"
#include "crlsync/log.h"

enum crl_error crl_from_der(const unsigned char *der, size_t len, X509 *const *cas, size_t n_cas, time_t now,
			    const char *origin, unsigned flags, struct crl **out, char *err, size_t errlen)
{
	enum crl_error r;

	if (!(flags & CRL_LOAD_REFERENCE)) {
		r = crl_der_load(der, len, cas, n_cas, now, origin, flags, out, err, errlen);
		if (r != CRL_E_FALLBACK)
			return r;
	}
	/* After a DISCARD pass nothing would be left to fall back on: crl_der_load() only discards once it cannot fail. */
	err[0] = '\0';
	return crl_reference_load(der, len, cas, n_cas, now, origin, flags, out, err, errlen);
}

bool crl_from_file_at(int dirfd, const char *name, X509 *const *cas, size_t n_cas, time_t now,
		      const char *origin, unsigned flags, enum crl_error *e, struct crl **out, char *err, size_t errlen)
{
	enum crl_error r = CRL_E_FALLBACK;
	unsigned char first = 0;
	size_t size = 0;
	int fd;

	*out = NULL;
	err[0] = '\0';
	if (flags & CRL_LOAD_REFERENCE)
		return false;
	fd = file_open_at(dirfd, name, CRL_FILE_MAX, &size);
	if (fd < 0)
		return false; /* the whole-file reader says why */
	if (size > 0 && pread(fd, &first, 1, 0) == 1 && first == 0x30)
		r = crl_der_load_fd(fd, size, cas, n_cas, now, origin, flags, out, err, errlen);
	close(fd);
	if (r == CRL_E_FALLBACK) {
		*out = NULL;
		err[0] = '\0';
		return false;
	}
	*e = r;
	return true;
}

void crl_der_free(struct crl_der *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		OPENSSL_free(v[i].owned);
	free(v);
}

enum crl_error crl_split(const unsigned char *buf, size_t len, struct crl_der **out, size_t *n, char *err,
			 size_t errlen)
{
	struct crl_der *v = NULL;
	size_t nv = 0;
	BIO *bio = NULL;
	enum crl_error r = CRL_E_PARSE;
	char ssl[256];

	*out = NULL;
	*n = 0;
	err[0] = '\0';
	if (len > CRL_FILE_MAX || len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "file of %zu bytes is larger than the limit", len);
		return CRL_E_TOO_LARGE;
	}
	if (len > 0 && buf[0] == 0x30) {
		v = calloc(1, sizeof(*v));
		if (v == NULL)
			return CRL_E_NOMEM;
		v[0].der = buf;
		v[0].len = len;
		nv = 1;
		goto done;
	}
	if (memmem(buf, len, CRL_PEM_MARKER, sizeof(CRL_PEM_MARKER) - 1) == NULL) {
		snprintf(err, errlen, "neither a DER CRL nor a PEM file with \"%s\"", CRL_PEM_MARKER);
		return CRL_E_PARSE;
	}
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio == NULL)
		return CRL_E_NOMEM;
	ERR_clear_error();
	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		long dlen = 0;
		struct crl_der *nvv;

		if (!PEM_read_bio(bio, &name, &header, &data, &dlen)) {
			unsigned long e = ERR_peek_last_error();

			if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE && nv > 0) {
				ERR_clear_error();
				break;
			}
			log_ssl_errors(ssl, sizeof(ssl));
			snprintf(err, errlen, "PEM CRL #%zu does not decode (%s)", nv + 1, ssl[0] ? ssl : "decode error");
			goto out;
		}
		/* PEM_read_bio_X509_CRL skips other blocks (certificates in a bundle): so do we. */
		if (strcmp(name, PEM_STRING_X509_CRL) != 0) {
			OPENSSL_free(name);
			OPENSSL_free(header);
			OPENSSL_free(data);
			continue;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		nvv = realloc(v, (nv + 1) * sizeof(*v));
		if (nvv == NULL) {
			OPENSSL_free(data);
			r = CRL_E_NOMEM;
			goto out;
		}
		v = nvv;
		v[nv++] = (struct crl_der){ data, (size_t)dlen, data };
	}
done:
	*out = v;
	*n = nv;
	v = NULL; /* transferred */
	r = CRL_OK;
out:
	crl_der_free(v, nv);
	BIO_free(bio);
	return r;
}

const char *crl_error_str(enum crl_error e)
{
	switch (e) {
	case CRL_OK: return "ok";
	case CRL_E_PARSE: return "unparsable";
	case CRL_E_NO_CA: return "no matching ca";
	case CRL_E_KEY_USAGE: return "ca lacks cRLSign";
	case CRL_E_SIGNATURE: return "bad signature";
	case CRL_E_FUTURE: return "thisUpdate in the future";
	case CRL_E_CRITICAL_EXT: return "unrecognised critical extension";
	case CRL_E_DELTA: return "malformed delta CRL";
	case CRL_E_MALFORMED: return "malformed";
	case CRL_E_TOO_LARGE: return "too large";
	case CRL_E_NOMEM: return "out of memory";
	}
	return "?";
}
