/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fetcher's privilege rules: root works as cache-dir's owner, and `refresh' signals only a crlsync daemon of the pidfile's owner. */
#ifndef CRLSYNC_PRIV_H
#define CRLSYNC_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "crlsync/log.h"

/*
 * Switches the whole process, for good, to `uid`: its passwd entry's primary group and
 * supplementary groups (initgroups) when it has one, else `gid` and no supplementary group;
 * setresgid, then setresuid. Then checks that neither root's uid nor its gid can be taken back.
 * Returns 0, or -errno with the reason in err (the process must then stop: it may be half
 * switched). A no-op returning 0 when the effective uid is already `uid`.
 */
int priv_drop_to(uid_t uid, gid_t gid, char *err, size_t errlen);

/*
 * When the process runs as root (euid 0) and the directory open as `dirfd` (cache-dir, named
 * `path` in messages) belongs to another uid, drops to that owner with priv_drop_to() and logs a
 * note saying so; otherwise does nothing. Returns 0 (dropped or nothing to do) or -errno (logged).
 * Call it after everything that needs root has been read (the configuration and its `ca' files)
 * and before anything is created or opened in the directory.
 */
int priv_drop_to_dir_owner(int dirfd, const char *path, const struct log_sink *log);

/*
 * Parses the "Uid:" line of a /proc/PID/status text (real, effective, saved, filesystem uid).
 * Returns false when there is none or it does not parse.
 */
bool priv_parse_status_uids(const char *status, uid_t uids[4]);

/* Whether the target of a /proc/PID/exe link (" (deleted)" tolerated: an upgraded binary) names crlsync. */
bool priv_exe_is_crlsync(const char *exe);

/*
 * Whether `pid` is a crlsync daemon run by `owner`: every uid of /proc/PID/status (real,
 * effective, saved, filesystem) is `owner`, and /proc/PID/exe's file name is `crlsync` (when the
 * caller may not read that link, an unprivileged caller reading a daemon that dropped root
 * itself, /proc/PID/comm). Returns 0, or -EPERM with why (sanitised) in `why`, or another
 * -errno (-ESRCH: no such process) with why.
 */
int priv_check_daemon(pid_t pid, uid_t owner, char *why, size_t whylen);

#endif
