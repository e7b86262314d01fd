/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Formats log lines and hands them to the caller's sink (plugin_log, syslog or stderr). */
#include "crlsync/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/err.h>

#include "crlsync/text.h"

bool log_stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	/* systemd.exec(5): compare both numbers, since stderr may have been redirected since. */
	if (env == NULL || sscanf(env, "%llu:%llu%c", &dev, &ino, &end) != 2)
		return false;
	return fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

const char *log_sd_prefix(enum log_level level)
{
	static const char *const prefix[] = { "<3>", "<4>", "<5>", "<6>", "<7>" };

	return (unsigned)level < sizeof(prefix) / sizeof(prefix[0]) ? prefix[level] : "<6>";
}

void log_ssl_errors(char *buf, unsigned long len)
{
	unsigned long e;
	size_t used;

	if (len == 0)
		return;
	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		used = strlen(buf);
		if (used + 3 >= len)
			continue; /* keep draining the queue */
		if (used > 0) {
			buf[used++] = ';';
			buf[used++] = ' ';
			buf[used] = '\0';
		}
		ERR_error_string_n(e, buf + used, len - used);
	}
}

void log_msg(const struct log_sink *sink, enum log_level level, const char *func, int with_ssl, const char *fmt,
	     ...)
{
	char line[1024];
	char ssl[384];
	size_t off = 0;
	va_list ap;
	int n;

	if (sink == NULL || sink->fn == NULL) {
		if (with_ssl)
			ERR_clear_error();
		return;
	}
	if (func != NULL) {
		n = snprintf(line, sizeof(line), "%s: ", func);
		off = n > 0 ? (size_t)n : 0;
	}
	va_start(ap, fmt);
	vsnprintf(line + off, sizeof(line) - off, fmt, ap);
	va_end(ap);
	if (with_ssl) {
		log_ssl_errors(ssl, sizeof(ssl));
		if (ssl[0] != '\0') {
			off = strlen(line);
			snprintf(line + off, sizeof(line) - off, ": %s", ssl);
		}
	}
	/*
	 * Arguments carry untrusted text (file names, subjects, server messages): one line stays one
	 * line whatever they hold, so no input can forge a line of its own (text.h).
	 */
	text_sanitize(line);
	sink->fn(sink->ctx, level, line);
}
