/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The logging hook of the core: the library never prints, it hands lines to a sink. */
#ifndef CRLSYNC_LOG_H
#define CRLSYNC_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_NOTE = 2,  /* worth an admin's eye: reloads, relaxed decisions */
	LOG_LVL_INFO = 3,  /* routine: accepted certificates */
	LOG_LVL_DEBUG = 4,
};

/* Receives one complete line, without a trailing newline. Must be callable from any thread. */
typedef void log_fn(void *ctx, enum log_level level, const char *line);

struct log_sink {
	log_fn *fn;
	void *ctx;
};

/*
 * Formats and hands one line to the sink (a NULL sink or fn drops it).
 * `func` prefixes the line when non-NULL; `with_ssl` appends OpenSSL's error queue (and clears it).
 */
void log_msg(const struct log_sink *sink, enum log_level level, const char *func, int with_ssl,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The macro family (OpenSSH style): _f adds the function, _ssl adds OpenSSL's reason. */
#define error_f(s, ...) log_msg((s), LOG_LVL_ERROR, __func__, 0, __VA_ARGS__)
#define error_ssl(s, ...) log_msg((s), LOG_LVL_ERROR, __func__, 1, __VA_ARGS__)
#define warn_f(s, ...) log_msg((s), LOG_LVL_WARN, __func__, 0, __VA_ARGS__)
#define note_f(s, ...) log_msg((s), LOG_LVL_NOTE, __func__, 0, __VA_ARGS__)
#define info_f(s, ...) log_msg((s), LOG_LVL_INFO, __func__, 0, __VA_ARGS__)
#define debug_f(s, ...) log_msg((s), LOG_LVL_DEBUG, __func__, 0, __VA_ARGS__)
/* Without the function name: for lines meant for admins (decisions, reload summaries). */
#define log_error(s, ...) log_msg((s), LOG_LVL_ERROR, NULL, 0, __VA_ARGS__)
#define log_warn(s, ...) log_msg((s), LOG_LVL_WARN, NULL, 0, __VA_ARGS__)
#define log_note(s, ...) log_msg((s), LOG_LVL_NOTE, NULL, 0, __VA_ARGS__)
#define log_info(s, ...) log_msg((s), LOG_LVL_INFO, NULL, 0, __VA_ARGS__)

/*
 * Whether fd 2 is systemd's journal: JOURNAL_STREAM ("DEV:INODE") names the stream it gave, and fd 2
 * still is that stream (not redirected since). Then each line should start with log_sd_prefix().
 */
bool log_stderr_is_journal(void);

/* The sd-daemon(3) priority prefix of a level: "<3>" error, "<4>" warning, "<5>" note, "<6>" info, "<7>" debug. */
const char *log_sd_prefix(enum log_level level);

/* Appends OpenSSL's pending error reasons to buf (always NUL-terminated) and clears the queue. */
void log_ssl_errors(char *buf, unsigned long len);

#endif
