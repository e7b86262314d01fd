/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Other CRL consumers: NAME.pem beside NAME.crl (pem = yes) and the on-install command after each install. */
#include "consumers.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crlsync/cachedir.h"
#include "crlsync/crl.h"
#include "crlsync/file.h"
#include "crlsync/install.h"
#include "crlsync/io.h"
#include "crlsync/text.h"

extern char **environ;

/* What of a command's output is kept for the log and the detail; the rest is read and dropped. */
#define HOOK_OUTPUT_MAX 4096
#define HOOK_LOG_LINES 20
/* After SIGTERM at the timeout, how long the command's process group has before SIGKILL. */
#define HOOK_KILL_GRACE_MS 2000

int consumers_write_pem(int dirfd, const struct cfg_source *src, const unsigned char *der, size_t len, char *err,
			size_t errlen)
{
	char fname[CFG_NAME_MAX + 8], *pem = NULL;
	size_t pemlen = 0;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (!src->pem)
		return 0;
	cachedir_pem_name(src->name, fname, sizeof(fname));
	r = install_pem_encode(der, len, &pem, &pemlen);
	if (r == 0) {
		/* Public data, like NAME.crl: readable by the gateways that load it (ocserv drops to its own user). */
		r = install_file(dirfd, fname, pem, pemlen, 0644, NULL);
		if (r > 0)
			r = 0; /* in place; only the directory fsync failed, as for NAME.crl */
	}
	free(pem);
	if (r < 0 && err != NULL)
		snprintf(err, errlen, "cannot write %s: %s", fname, strerror(-r));
	return r;
}

/* environ without CRLSYNC_* (a caller's own must not pass for ours), then `add'. NULL on ENOMEM. */
static char **build_env(char *const add[])
{
	size_t n = 0, k = 0, a = 0;
	char **env;

	while (environ != NULL && environ[n] != NULL)
		n++;
	while (add != NULL && add[a] != NULL)
		a++;
	env = calloc(n + a + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "CRLSYNC_", 8) != 0)
			env[k++] = environ[i];
	for (size_t i = 0; i < a; i++)
		env[k++] = add[i];
	env[k] = NULL;
	return env;
}

/* Kills the command's process group: SIGTERM, then SIGKILL after a grace. Reaps pid. */
static int kill_group(pid_t pid)
{
	long long deadline = io_now_ms() + HOOK_KILL_GRACE_MS;
	int status = 0;

	kill(-pid, SIGTERM);
	while (io_now_ms() < deadline) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			goto reaped;
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
reaped:
	kill(-pid, SIGKILL); /* what it left behind in its group */
	return status;
}

int consumers_run(const struct log_sink *log, const char *command, char *const env[], long long timeout_s,
		  int abort_fd, char *detail, size_t detaillen)
{
	char out[HOOK_OUTPUT_MAX + 1], first[160] = "";
	size_t got = 0;
	long long deadline = io_now_ms() + timeout_s * 1000;
	char **envp = NULL;
	int pfd[2] = { -1, -1 }, devnull = -1, status = 0, r;
	bool exited = false, eof = false, timed_out = false, aborted = false;
	pid_t pid;

	detail[0] = '\0';
	envp = build_env(env);
	if (envp == NULL)
		return -ENOMEM;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || pipe2(pfd, O_CLOEXEC) != 0) {
		r = -errno;
		snprintf(detail, detaillen, "cannot start: %s", strerror(-r));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		snprintf(detail, detaillen, "cannot start: %s", strerror(-r));
		goto out;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here on (the parent may have curl's threads). */
		static char sh[] = "sh", dash_c[] = "-c";
		char *const argv[] = { sh, dash_c, (char *)command, NULL };
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL); /* the daemon blocks its signals for signalfd */
		signal(SIGPIPE, SIG_DFL);              /* ignored by the daemon; SIG_IGN would survive exec */
		setpgid(0, 0);                         /* its own group: a timeout kills what it started too */
		if (dup2(devnull, STDIN_FILENO) < 0 || dup2(pfd[1], STDOUT_FILENO) < 0 || dup2(pfd[1], STDERR_FILENO) < 0)
			_exit(126);
		execve("/bin/sh", argv, envp); /* the other descriptors are O_CLOEXEC */
		_exit(127);
	}
	close(pfd[1]);
	pfd[1] = -1;
	while (!exited) {
		struct pollfd pf[2] = { { .fd = eof ? -1 : pfd[0], .events = POLLIN }, { .fd = abort_fd, .events = POLLIN } };
		long long left = deadline - io_now_ms();
		pid_t w;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		/* Every 100 ms at most: a command that exits but leaves a child holding the pipe is done. */
		if (poll(pf, 2, left < 100 ? (int)left : 100) < 0 && errno != EINTR)
			break;
		if (pf[1].revents & POLLIN) {
			aborted = true;
			break;
		}
		if (!eof && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			char buf[1024];
			ssize_t n = read(pfd[0], buf, sizeof(buf));

			if (n <= 0) {
				eof = n == 0 || errno != EINTR;
			} else if (got < HOOK_OUTPUT_MAX) {
				size_t take = (size_t)n < HOOK_OUTPUT_MAX - got ? (size_t)n : HOOK_OUTPUT_MAX - got;

				memcpy(out + got, buf, take);
				got += take;
			}
		}
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			exited = true;
	}
	if (!exited)
		status = kill_group(pid);
	out[got] = '\0';
	/* Its output, line by line, sanitised (text.h): it reaches the journal. */
	{
		char *line = out;

		for (int lines = 0; *line != '\0' && lines < HOOK_LOG_LINES; lines++) {
			char *nl = strchr(line, '\n');

			if (nl != NULL)
				*nl = '\0';
			text_sanitize(line);
			if (first[0] == '\0')
				text_sanitize_copy(first, sizeof(first), line);
			if (line[0] != '\0')
				log_info(log, "on-install: %s", line);
			if (nl == NULL)
				break;
			line = nl + 1;
		}
	}
	if (timed_out || aborted) {
		snprintf(detail, detaillen, "%s after %lld s%s%s", aborted ? "abandoned (shutting down)" : "timed out, killed",
			 timeout_s, first[0] ? ": " : "", first);
		r = 2;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		snprintf(detail, detaillen, "exit 0%s%s", first[0] ? ": " : "", first);
		r = 0;
	} else if (WIFEXITED(status)) {
		snprintf(detail, detaillen, "exit %d%s%s", WEXITSTATUS(status), first[0] ? ": " : "", first);
		r = 1;
	} else {
		snprintf(detail, detaillen, "killed by signal %d%s%s", WIFSIGNALED(status) ? WTERMSIG(status) : 0,
			 first[0] ? ": " : "", first);
		r = 1;
	}
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (devnull >= 0)
		close(devnull);
	free(envp);
	text_sanitize(detail);
	return r;
}

/* NAME.pem again from the installed NAME.crl (a retry after a failure). */
static int rewrite_pem(int dirfd, const struct cfg_source *src, char *err, size_t errlen)
{
	char fname[CFG_NAME_MAX + 8];
	unsigned char *buf = NULL;
	size_t len = 0;
	int r;

	cachedir_crl_name(src->name, fname, sizeof(fname));
	r = file_read_at(dirfd, fname, CRL_FILE_MAX, &buf, &len);
	if (r != 0) {
		snprintf(err, errlen, "cannot read %s: %s", fname, strerror(-r));
		return r;
	}
	r = consumers_write_pem(dirfd, src, buf, len, err, errlen);
	free(buf);
	return r;
}

bool consumers_after_pass(const struct log_sink *log, const struct cfg *cfg, int dirfd, const struct cfg_source *src,
			  struct src_state *st, bool installed, const char *pem_err, int abort_fd)
{
	const char *cmd = cfg_source_on_install(cfg, src);
	char perr[320] = "", detail[sizeof(st->hook_detail)];
	bool retry = !installed && st->have_crl && (strcmp(st->hook, "failed") == 0 || strcmp(st->hook, "timeout") == 0) &&
		     strcmp(st->hook_number, st->crl.number_hex) == 0;
	int r;

	if (!(installed || retry) || !st->have_crl || (cmd == NULL && !src->pem))
		return false;
	if (retry && src->pem) {
		rewrite_pem(dirfd, src, perr, sizeof(perr));
		pem_err = perr;
	}
	snprintf(st->hook_number, sizeof(st->hook_number), "%s", st->crl.number_hex);
	st->hook_at = time(NULL);
	if (pem_err != NULL && pem_err[0] != '\0') {
		/* The consumers would read an old PEM: the command is not run for it. */
		log_error(log, "source %s: %s; the on-install command is not run; the installed %s.crl (number %s) "
				  "stays, retried at the next pass", src->name, pem_err, src->name, st->crl.number_hex);
		snprintf(st->hook, sizeof(st->hook), "failed");
		text_sanitize_copy(st->hook_detail, sizeof(st->hook_detail), pem_err);
		return true;
	}
	if (cmd == NULL) {
		snprintf(st->hook, sizeof(st->hook), "ok");
		snprintf(st->hook_detail, sizeof(st->hook_detail), "%s.pem written", src->name);
		return true;
	}
	{
		char e_src[CFG_NAME_MAX + 32], e_file[4200], e_pem[4200], e_num[96];
		char *env[5] = { e_src, e_file, e_num, NULL, NULL };

		snprintf(e_src, sizeof(e_src), "CRLSYNC_SOURCE=%s", src->name);
		snprintf(e_file, sizeof(e_file), "CRLSYNC_FILE=%s/%s" CACHEDIR_CRL_SUFFIX, cfg->global.cache_dir, src->name);
		snprintf(e_num, sizeof(e_num), "CRLSYNC_NUMBER=%s", st->crl.number_hex);
		if (src->pem) {
			snprintf(e_pem, sizeof(e_pem), "CRLSYNC_PEM=%s/%s" CACHEDIR_PEM_SUFFIX, cfg->global.cache_dir, src->name);
			env[3] = e_pem;
		}
		log_info(log, "source %s: running on-install for number %s%s", src->name, st->crl.number_hex,
			 retry ? " again (it failed last time)" : "");
		r = consumers_run(log, cmd, env, cfg->global.on_install_timeout, abort_fd, detail, sizeof(detail));
	}
	snprintf(st->hook_detail, sizeof(st->hook_detail), "%s", detail);
	if (r == 0) {
		snprintf(st->hook, sizeof(st->hook), "ok");
		log_note(log, "source %s: on-install for number %s: %s", src->name, st->crl.number_hex, detail);
	} else {
		snprintf(st->hook, sizeof(st->hook), "%s", r == 2 ? "timeout" : "failed");
		log_error(log, "source %s: on-install for number %s failed: %s; the installed CRL stays, the command "
				  "is run again at the next pass",
			  src->name, st->crl.number_hex, r < 0 ? strerror(-r) : detail);
	}
	return true;
}
