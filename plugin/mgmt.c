/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OpenVPN management interface client: one short connection per action, bounded reads, timeouts. */
#include "mgmt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "crlsync/fmt.h"
#include "crlsync/io.h"

/* io_wait(), where an error condition without the awaited event is -EIO at once. */
static int wait_fd(int fd, short events, long long deadline)
{
	short revents;
	int r = io_wait(fd, events, deadline, -1, &revents);

	if (r == 0 && (revents & (POLLERR | POLLNVAL)) && !(revents & events))
		return -EIO;
	return r;
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
	long long deadline = io_now_ms() + timeout_ms;
	char *buf = NULL;
	int fd, r;

	fd = open_socket(spec, deadline);
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect: %s", FMT_ERRNO(-fd));
		return fd;
	}
	r = read_until(fd, deadline, banner_done, &buf);
	if (r != 0) {
		if (r == -ETIMEDOUT) {
			snprintf(err, errlen, "no banner within %d ms: busy with another management client?", timeout_ms);
			r = -EBUSY;
		} else {
			snprintf(err, errlen, "no banner: %s", FMT_ERRNO(-r));
		}
		goto fail;
	}
	if (strstr(buf, "ENTER PASSWORD:") != NULL) {
		char line[1100];

		free(buf);
		buf = NULL;
		if (password == NULL) {
			snprintf(err, errlen, "it asks for a password and no management-password is configured");
			r = -ENOKEY;
			goto fail;
		}
		snprintf(line, sizeof(line), "%s\n", password);
		r = send_all(fd, line, deadline);
		memset(line, 0, sizeof(line));
		if (r == 0)
			r = read_until(fd, deadline, password_done, &buf);
		if (r != 0 || strstr(buf, "SUCCESS:") == NULL) {
			snprintf(err, errlen, "password refused");
			r = r ? r : -EKEYREJECTED;
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
	long long deadline = io_now_ms() + timeout_ms;
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

static bool parse_ull(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' && *v <= max;
}

void mgmt_status_clear(struct mgmt_status *st)
{
	if (st == NULL)
		return;
	free(st->rows);
	free(st->text);
	memset(st, 0, sizeof(*st));
}

int mgmt_status_parse(const char *reply, struct mgmt_status *st)
{
	/* Column of each field in a CLIENT_LIST row (0: absent; column 0 is the row's tag). */
	size_t c_cn = 0, c_real = 0, c_vaddr = 0, c_vaddr6 = 0, c_since = 0, c_cid = 0, cap = 0;
	bool usable = false, seen = false;
	char *save = NULL, *line, *f[64];

	memset(st, 0, sizeof(*st));
	if (reply == NULL)
		return -EBADMSG;
	st->text = strdup(reply);
	if (st->text == NULL)
		return -ENOMEM;
	for (line = strtok_r(st->text, "\r\n", &save); line != NULL; line = strtok_r(NULL, "\r\n", &save)) {
		size_t n = split_tabs(line, f, sizeof(f) / sizeof(f[0]));
		unsigned long long v;
		struct mgmt_row *r;

		if (n >= 2 && strcmp(f[0], "HEADER") == 0 && strcmp(f[1], "CLIENT_LIST") == 0) {
			/* Columns shift with versions: find them by name (HEADER adds one leading field). */
			c_cn = c_real = c_vaddr = c_vaddr6 = c_since = c_cid = 0;
			for (size_t i = 2; i < n; i++) {
				size_t *col = strcmp(f[i], "Common Name") == 0		  ? &c_cn
					      : strcmp(f[i], "Real Address") == 0	  ? &c_real
					      : strcmp(f[i], "Virtual Address") == 0	  ? &c_vaddr
					      : strcmp(f[i], "Virtual IPv6 Address") == 0 ? &c_vaddr6
					      : strcmp(f[i], "Connected Since (time_t)") == 0 ? &c_since
					      : strcmp(f[i], "Client ID") == 0		  ? &c_cid
											  : NULL;

				if (col != NULL && *col == 0)
					*col = i - 1;
			}
			usable = c_cn > 0 && c_real > 0 && c_cid > 0;
			seen = seen || usable;
			continue;
		}
		if (!usable || strcmp(f[0], "CLIENT_LIST") != 0 || n <= c_cn || n <= c_real || n <= c_cid)
			continue;
		if (!parse_ull(f[c_cid], ULONG_MAX, &v))
			continue; /* no Client ID: nothing could be killed by it */
		if (st->n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct mgmt_row *nr = realloc(st->rows, nc * sizeof(*nr));

			if (nr == NULL) {
				mgmt_status_clear(st);
				return -ENOMEM;
			}
			st->rows = nr;
			cap = nc;
		}
		r = &st->rows[st->n++];
		r->cid = (unsigned long)v;
		r->cn = f[c_cn];
		r->real = f[c_real];
		r->vaddr = c_vaddr > 0 && c_vaddr < n ? f[c_vaddr] : "";
		r->vaddr6 = c_vaddr6 > 0 && c_vaddr6 < n ? f[c_vaddr6] : "";
		r->since = c_since > 0 && c_since < n && parse_ull(f[c_since], LLONG_MAX, &v) ? (long long)v : -1;
	}
	if (!seen) {
		mgmt_status_clear(st);
		return -EBADMSG;
	}
	return 0;
}

/* An IP address and port (-1: none), IPv4-mapped IPv6 addresses as IPv4. */
struct addr {
	int family; /* 0: unknown */
	unsigned char b[16];
	long port;
};

static void addr_from(const char *ip, const char *port, struct addr *a)
{
	unsigned long long p;

	memset(a, 0, sizeof(*a));
	a->port = -1;
	if (ip == NULL)
		return;
	if (inet_pton(AF_INET, ip, a->b) == 1) {
		a->family = AF_INET;
	} else if (inet_pton(AF_INET6, ip, a->b) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		a->family = AF_INET6;
		if (memcmp(a->b, mapped, sizeof(mapped)) == 0) {
			memmove(a->b, a->b + 12, 4);
			memset(a->b + 4, 0, 12);
			a->family = AF_INET;
		}
	} else {
		return;
	}
	if (port != NULL && *port != '\0') {
		if (parse_ull(port, 65535, &p))
			a->port = (long)p;
		else
			a->family = 0;
	}
}

/*
 * A Real Address as `status 3` prints it. OpenVPN 2.6 (mroute_addr_print_ex) writes "a.b.c.d:port"
 * for IPv4 and IPv4-mapped peers, and an IPv6 address bare, without its port ("v6addr:port" would
 * be ambiguous): two clients from one IPv6 host share their Real Address. "[v6]:port" is read too.
 */
static void addr_parse_real(const char *s, struct addr *a)
{
	const char *port = NULL, *c;
	char host[INET6_ADDRSTRLEN + 1];
	size_t hl;

	memset(a, 0, sizeof(*a));
	a->port = -1;
	if (s[0] == '[') {
		c = strchr(s, ']');
		if (c == NULL || (c[1] != '\0' && c[1] != ':'))
			return;
		s++;
		hl = (size_t)(c - s);
		port = c[1] == ':' ? c + 2 : NULL;
	} else if ((c = strchr(s, ':')) != NULL && strchr(c + 1, ':') == NULL) {
		hl = (size_t)(c - s); /* one colon: IPv4 with its port */
		port = c + 1;
	} else {
		hl = strlen(s); /* none, or several: a bare address */
	}
	if (hl >= sizeof(host))
		return;
	memcpy(host, s, hl);
	host[hl] = '\0';
	addr_from(host, port, a);
}

static bool set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* Two virtual IPv6 addresses, compared as addresses when both parse. */
static bool same_ip(const char *a, const char *b)
{
	struct addr x, y;

	addr_from(a, NULL, &x);
	addr_from(b, NULL, &y);
	if (x.family != 0 && y.family != 0)
		return x.family == y.family && memcmp(x.b, y.b, sizeof(x.b)) == 0;
	return strcmp(a, b) == 0;
}

/*
 * Weights: what a session fixed at connect (its connection time, its virtual addresses) outweighs
 * the real address, which a float or a NAT rebinding changes; an address with its port outweighs
 * a bare IPv6 one, which every client of that host shares.
 */
enum { FIT_CN = 1, FIT_REAL_BARE = 2, FIT_REAL_PORT = 4, FIT_KEY = 8 };

static unsigned fit_parsed(const struct mgmt_row *r, const struct addr *ra, const struct mgmt_session *s,
			   const struct addr *sa)
{
	unsigned fit = FIT_CN;

	/* Never another Common Name: whatever else agrees, that row is another certificate's. */
	if (!set(s->cn) || strcmp(r->cn, s->cn) != 0)
		return 0;
	if (s->since >= 0 && r->since >= 0) {
		if (s->since != r->since)
			return 0;
		fit += FIT_KEY;
	}
	if (set(s->vaddr) && set(r->vaddr)) {
		if (!same_ip(s->vaddr, r->vaddr))
			return 0;
		fit += FIT_KEY;
	}
	if (set(s->vaddr6) && set(r->vaddr6)) {
		if (!same_ip(s->vaddr6, r->vaddr6))
			return 0;
		fit += FIT_KEY;
	}
	if (ra->family != 0 && ra->family == sa->family && memcmp(ra->b, sa->b, sizeof(ra->b)) == 0) {
		if (ra->port < 0)
			fit += FIT_REAL_BARE;
		else if (ra->port == sa->port)
			fit += FIT_REAL_PORT;
	}
	return fit;
}

unsigned mgmt_row_fit(const struct mgmt_row *r, const struct mgmt_session *s)
{
	struct addr ra, sa;

	if (r == NULL || s == NULL)
		return 0;
	addr_parse_real(r->real, &ra);
	addr_from(s->ip, s->port, &sa);
	return fit_parsed(r, &ra, s, &sa);
}

struct ref {
	const char *cn;
	size_t i;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = strcmp(x->cn, y->cn);

	return c != 0 ? c : (x->i > y->i) - (x->i < y->i);
}

struct match_ctx {
	const struct mgmt_status *st;
	const struct mgmt_session *s;
	struct addr *ra, *sa;
	unsigned *best;  /* per row: the best fit any session has */
	size_t *owner;   /* per row: the victim it is given to, or SIZE_MAX */
	unsigned *vbest; /* per session: its best fit */
	enum mgmt_match *match;
	size_t *row;
};

static unsigned fit_at(const struct match_ctx *m, size_t r, size_t s)
{
	return fit_parsed(&m->st->rows[r], &m->ra[r], &m->s[s], &m->sa[s]);
}

/* Whether row r is one of victim v's candidates: it fits v best, and nothing fits r better. */
static bool candidate(const struct match_ctx *m, size_t r, size_t v)
{
	return m->vbest[v] > 0 && m->best[r] == m->vbest[v] && fit_at(m, r, v) == m->vbest[v];
}

/* One Common Name: rows rr[0..nr), sessions ss[0..ns). */
static void match_group(struct match_ctx *m, const struct ref *rr, size_t nr, const struct ref *ss, size_t ns)
{
	for (size_t a = 0; a < nr; a++) {
		size_t r = rr[a].i;

		m->best[r] = 0;
		m->owner[r] = SIZE_MAX;
		for (size_t b = 0; b < ns; b++) {
			unsigned f = fit_at(m, r, ss[b].i);

			if (f > m->best[r])
				m->best[r] = f;
		}
	}
	for (size_t b = 0; b < ns; b++) {
		size_t v = ss[b].i, n_cand = 0;

		if (!m->s[v].victim)
			continue;
		m->vbest[v] = 0;
		for (size_t a = 0; a < nr; a++) {
			unsigned f = fit_at(m, rr[a].i, v);

			if (f > m->vbest[v])
				m->vbest[v] = f;
		}
		if (m->vbest[v] == 0) {
			m->match[v] = MGMT_MATCH_GONE;
			continue;
		}
		m->match[v] = MGMT_MATCH_WAIT;
		for (size_t a = 0; a < nr && m->match[v] == MGMT_MATCH_WAIT; a++) {
			size_t r = rr[a].i;

			if (!candidate(m, r, v))
				continue;
			n_cand++;
			/* A client that is not a victim fits this row as well: it may be theirs. */
			for (size_t c = 0; c < ns; c++)
				if (!m->s[ss[c].i].victim && fit_at(m, r, ss[c].i) == m->vbest[v])
					m->match[v] = MGMT_MATCH_AMBIGUOUS;
		}
		if (n_cand == 0)
			m->match[v] = MGMT_MATCH_AMBIGUOUS; /* the rows it fits are others', better */
	}
	/* Give each victim one of its rows: first the row it was already killed in, then any. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t b = 0; b < ns; b++) {
			size_t v = ss[b].i;

			if (!m->s[v].victim || m->match[v] != MGMT_MATCH_WAIT)
				continue;
			for (size_t a = 0; a < nr; a++) {
				size_t r = rr[a].i;

				if (m->owner[r] != SIZE_MAX || !candidate(m, r, v) ||
				    (pass == 0 && !(m->s[v].killed && m->s[v].killed_cid == m->st->rows[r].cid)))
					continue;
				m->owner[r] = v;
				m->match[v] = MGMT_MATCH_ROW;
				m->row[v] = r;
				break;
			}
		}
	}
	/*
	 * More rows than victims that fit them equally: one of them belongs to a session the plugin
	 * does not know, and which one cannot be told. Kill none of them.
	 */
	for (size_t b = 0; b < ns; b++) {
		size_t v = ss[b].i;

		if (!m->s[v].victim || (m->match[v] != MGMT_MATCH_ROW && m->match[v] != MGMT_MATCH_WAIT))
			continue;
		for (size_t a = 0; a < nr; a++)
			if (m->owner[rr[a].i] == SIZE_MAX && candidate(m, rr[a].i, v)) {
				m->match[v] = MGMT_MATCH_AMBIGUOUS;
				break;
			}
	}
}

int mgmt_status_match(const struct mgmt_status *st, const struct mgmt_session *s, size_t n,
		      enum mgmt_match *match, size_t *row)
{
	struct match_ctx m = { .st = st, .s = s, .match = match, .row = row };
	struct ref *rr = NULL, *ss = NULL;
	size_t nr = st->n, ns = 0, a = 0;
	int r = -ENOMEM;

	for (size_t i = 0; i < n; i++)
		if (s[i].victim)
			match[i] = MGMT_MATCH_GONE;
	m.ra = calloc(nr + 1, sizeof(*m.ra));
	m.best = calloc(nr + 1, sizeof(*m.best));
	m.owner = calloc(nr + 1, sizeof(*m.owner));
	rr = calloc(nr + 1, sizeof(*rr));
	m.sa = calloc(n + 1, sizeof(*m.sa));
	m.vbest = calloc(n + 1, sizeof(*m.vbest));
	ss = calloc(n + 1, sizeof(*ss));
	if (m.ra == NULL || m.best == NULL || m.owner == NULL || rr == NULL || m.sa == NULL || m.vbest == NULL ||
	    ss == NULL)
		goto out;
	for (size_t i = 0; i < nr; i++) {
		addr_parse_real(st->rows[i].real, &m.ra[i]);
		rr[i] = (struct ref){ st->rows[i].cn, i };
	}
	for (size_t i = 0; i < n; i++) {
		if (!set(s[i].cn))
			continue;
		addr_from(s[i].ip, s[i].port, &m.sa[i]);
		ss[ns++] = (struct ref){ s[i].cn, i };
	}
	/* Sorted by Common Name, rows and sessions meet group by group: no rows x sessions walk. */
	qsort(rr, nr, sizeof(*rr), ref_cmp);
	qsort(ss, ns, sizeof(*ss), ref_cmp);
	for (size_t b = 0; b < ns;) {
		size_t be = b, ae;
		bool victims = false;
		int c = 1;

		for (; be < ns && strcmp(ss[be].cn, ss[b].cn) == 0; be++)
			if (s[ss[be].i].victim)
				victims = true;
		while (a < nr && (c = strcmp(rr[a].cn, ss[b].cn)) < 0)
			a++;
		for (ae = a; ae < nr && strcmp(rr[ae].cn, ss[b].cn) == 0;)
			ae++;
		if (victims && c == 0)
			match_group(&m, rr + a, ae - a, ss + b, be - b);
		a = ae;
		b = be;
	}
	r = 0;
out:
	free(rr);
	free(ss);
	free(m.ra);
	free(m.sa);
	free(m.best);
	free(m.owner);
	free(m.vbest);
	return r;
}
