/* SPDX-License-Identifier: GPL-2.0-only */
/* OpenVPN management interface client: one short connection per action, bounded reads, timeouts. */
#include "mgmt.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = events };
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&pf, 1, (int)left);
		if (r > 0)
			return (pf.revents & (POLLERR | POLLNVAL)) && !(pf.revents & events) ? -EIO : 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int connect_nb(int fd, const struct sockaddr *sa, socklen_t len, long long deadline)
{
	int r, e = 0;
	socklen_t el = sizeof(e);

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EAGAIN)
		return -errno;
	r = wait_fd(fd, POLLOUT, deadline);
	if (r != 0)
		return r;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
		return -errno;
	return -e;
}

static int open_socket(const char *spec, long long deadline)
{
	int fd = -1, r = -EINVAL;

	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		if (strlen(spec + 5) >= sizeof(sun.sun_path))
			return -ENAMETOOLONG;
		strcpy(sun.sun_path, spec + 5);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		r = connect_nb(fd, (struct sockaddr *)&sun, sizeof(sun), deadline);
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai = NULL;
		char host[256];
		const char *colon = strrchr(spec, ':');
		size_t hl = colon ? (size_t)(colon - spec) : 0;

		if (colon == NULL || hl == 0 || hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, spec, hl);
		host[hl] = '\0';
		if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
			memmove(host, host + 1, hl - 2);
			host[hl - 2] = '\0';
		}
		if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || ai == NULL)
			return -EHOSTUNREACH;
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		r = fd < 0 ? -errno : connect_nb(fd, ai->ai_addr, ai->ai_addrlen, deadline);
		freeaddrinfo(ai);
	}
	if (r != 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

static int send_all(int fd, const char *s, long long deadline)
{
	size_t len = strlen(s), off = 0;

	while (off < len) {
		ssize_t n = send(fd, s + off, len - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if ((n = wait_fd(fd, POLLOUT, deadline)) != 0)
			return (int)n;
	}
	return 0;
}

/* Reads until `done` says the buffer holds a complete answer. */
static int read_until(int fd, long long deadline, bool (*done)(const char *buf, size_t len), char **out)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int r;

	*out = NULL;
	if (buf == NULL)
		return -ENOMEM;
	buf[0] = '\0';
	for (;;) {
		ssize_t n;

		if (done(buf, len)) {
			*out = buf;
			return 0;
		}
		if (len + 1 >= cap) {
			char *nb;

			if (cap >= MGMT_REPLY_MAX) {
				r = -EFBIG;
				break;
			}
			nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			continue;
		}
		if (n == 0) {
			r = -ECONNRESET;
			break;
		}
		if (errno != EAGAIN && errno != EINTR) {
			r = -errno;
			break;
		}
		if ((r = wait_fd(fd, POLLIN, deadline)) != 0)
			break;
	}
	free(buf);
	return r;
}

/* The last complete line of buf that is not a real-time notification, or NULL. */
static const char *last_line(const char *buf, size_t len, size_t *linelen)
{
	const char *end = buf + len, *p, *start;

	while (end > buf && end[-1] != '\n')
		end--; /* ignore a partial line */
	while (end > buf) {
		p = end - 1; /* the '\n' */
		start = p;
		while (start > buf && start[-1] != '\n')
			start--;
		*linelen = (size_t)(p - start);
		if (*linelen > 0 && start[*linelen - 1] == '\r')
			(*linelen)--;
		if (start[0] != '>')
			return start;
		end = start;
	}
	return NULL;
}

static bool banner_done(const char *buf, size_t len)
{
	/* ">INFO:OpenVPN Management Interface ..." or the password prompt (no newline after it). */
	return strstr(buf, ">INFO:") != NULL || strstr(buf, "ENTER PASSWORD:") != NULL || len >= 65536;
}

static bool password_done(const char *buf, size_t len)
{
	(void)len;
	return strstr(buf, "SUCCESS:") != NULL || strstr(buf, "ERROR:") != NULL;
}

static bool reply_done(const char *buf, size_t len)
{
	size_t ll;
	const char *l = last_line(buf, len, &ll);

	return l != NULL && ((ll == 3 && memcmp(l, "END", 3) == 0) || (ll >= 8 && memcmp(l, "SUCCESS:", 8) == 0) ||
			     (ll >= 6 && memcmp(l, "ERROR:", 6) == 0));
}

int mgmt_open(const char *spec, const char *password, int timeout_ms, char *err, size_t errlen)
{
	long long deadline = now_ms() + timeout_ms;
	char *buf = NULL;
	int fd, r;

	fd = open_socket(spec, deadline);
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect: %s", strerror(-fd));
		return fd;
	}
	r = read_until(fd, deadline, banner_done, &buf);
	if (r != 0) {
		if (r == -ETIMEDOUT) {
			snprintf(err, errlen, "no banner within %d ms: busy with another management client?", timeout_ms);
			r = -EBUSY;
		} else {
			snprintf(err, errlen, "no banner: %s", strerror(-r));
		}
		goto fail;
	}
	if (strstr(buf, "ENTER PASSWORD:") != NULL) {
		char line[1100];

		free(buf);
		buf = NULL;
		if (password == NULL) {
			snprintf(err, errlen, "it asks for a password and no management-password is configured");
			r = -EACCES;
			goto fail;
		}
		snprintf(line, sizeof(line), "%s\n", password);
		r = send_all(fd, line, deadline);
		memset(line, 0, sizeof(line));
		if (r == 0)
			r = read_until(fd, deadline, password_done, &buf);
		if (r != 0 || strstr(buf, "SUCCESS:") == NULL) {
			snprintf(err, errlen, "password refused");
			r = r ? r : -EACCES;
			goto fail;
		}
	}
	free(buf);
	return fd;
fail:
	free(buf);
	close(fd);
	return r;
}

int mgmt_command(int fd, const char *cmd, int timeout_ms, char **reply)
{
	long long deadline = now_ms() + timeout_ms;
	char line[256];
	int r;

	*reply = NULL;
	if (snprintf(line, sizeof(line), "%s\n", cmd) >= (int)sizeof(line))
		return -EINVAL;
	r = send_all(fd, line, deadline);
	if (r != 0)
		return r;
	return read_until(fd, deadline, reply_done, reply);
}

/* Splits one line at tabs into at most max fields (in place). Returns the count. */
static size_t split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;

	while (n < max) {
		f[n++] = line;
		line = strchr(line, '\t');
		if (line == NULL)
			break;
		*line++ = '\0';
	}
	return n;
}

/* Scans CLIENT_LIST rows; match(col value) selects. Returns how many rows matched, *cid the first. */
static size_t scan_clients(const char *reply, bool by_cn, const char *want, unsigned long *cid, char *cn,
			   size_t cnlen);

bool mgmt_status_find(const char *reply, const char *addr, unsigned long *cid, char *cn, size_t cnlen)
{
	return reply != NULL && addr != NULL && scan_clients(reply, false, addr, cid, cn, cnlen) > 0;
}

bool mgmt_status_find_unique_cn(const char *reply, const char *cn, unsigned long *cid)
{
	return reply != NULL && cn != NULL && cn[0] != '\0' && scan_clients(reply, true, cn, cid, NULL, 0) == 1;
}

static size_t scan_clients(const char *reply, bool by_cn, const char *want, unsigned long *cid, char *cn,
			   size_t cnlen)
{
	char *copy, *save = NULL, *line, *f[32];
	size_t col_addr = 0, col_cid = 0, col_cn = 0, found = 0;
	bool have_header = false;

	copy = strdup(reply);
	if (copy == NULL)
		return 0;
	for (line = strtok_r(copy, "\r\n", &save); line != NULL; line = strtok_r(NULL, "\r\n", &save)) {
		size_t n = split_tabs(line, f, sizeof(f) / sizeof(f[0]));

		if (n >= 2 && strcmp(f[0], "HEADER") == 0 && strcmp(f[1], "CLIENT_LIST") == 0) {
			/* Columns shift with versions: find them by name (HEADER adds one leading field). */
			for (size_t i = 2; i < n; i++) {
				if (strcmp(f[i], "Real Address") == 0)
					col_addr = i - 1;
				else if (strcmp(f[i], "Client ID") == 0)
					col_cid = i - 1;
				else if (strcmp(f[i], "Common Name") == 0)
					col_cn = i - 1;
			}
			have_header = col_addr > 0 && col_cid > 0 && (!by_cn || col_cn > 0);
			continue;
		}
		if (!have_header || n <= col_addr || n <= col_cid || n <= col_cn || strcmp(f[0], "CLIENT_LIST") != 0)
			continue;
		if (strcmp(f[by_cn ? col_cn : col_addr], want) == 0) {
			char *end;
			unsigned long v = strtoul(f[col_cid], &end, 10);

			if (end != f[col_cid] && *end == '\0') {
				if (found++ == 0) {
					*cid = v;
					if (cn != NULL && cnlen > 0)
						snprintf(cn, cnlen, "%s", col_cn > 0 ? f[col_cn] : "");
				}
				if (!by_cn)
					break; /* addresses are unique */
			}
		}
	}
	free(copy);
	return found;
}
