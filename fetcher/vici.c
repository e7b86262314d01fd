/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vici: message encoding, a strict decoder of untrusted packets, and a unix-socket client with timeouts. */
#include "vici.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
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

/* --- builder ----------------------------------------------------------------------------------- */

void vici_builder_init(struct vici_builder *b)
{
	memset(b, 0, sizeof(*b));
}

void vici_builder_clear(struct vici_builder *b)
{
	free(b->data);
	vici_builder_init(b);
}

static void builder_fail(struct vici_builder *b, const char *why)
{
	if (!b->failed)
		snprintf(b->error, sizeof(b->error), "%s", why);
	b->failed = true;
}

static void put(struct vici_builder *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	/* The packet adds 5 + 256 bytes of header around the message. */
	if (n > VICI_PACKET_MAX || b->len + n > VICI_PACKET_MAX - 4 - 1 - 1 - VICI_NAME_MAX) {
		builder_fail(b, "message larger than a vici packet");
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		unsigned char *d;

		while (cap < b->len + n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (d == NULL) {
			builder_fail(b, "out of memory");
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put_byte(struct vici_builder *b, unsigned v)
{
	unsigned char c = (unsigned char)v;

	put(b, &c, 1);
}

static void put_name(struct vici_builder *b, const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > VICI_NAME_MAX) {
		builder_fail(b, n ? "name longer than 255 bytes" : "empty name");
		return;
	}
	put_byte(b, (unsigned)n);
	put(b, name, n);
}

static void put_value(struct vici_builder *b, const void *value, size_t len)
{
	if (len > VICI_VALUE_MAX) {
		builder_fail(b, "value longer than 65535 bytes");
		return;
	}
	put_byte(b, (unsigned)(len >> 8));
	put_byte(b, (unsigned)(len & 0xff));
	put(b, value, len);
}

void vici_add_section_start(struct vici_builder *b, const char *name)
{
	if (b->in_list || b->depth >= VICI_DEPTH_MAX)
		builder_fail(b, b->in_list ? "section inside a list" : "sections nested too deep");
	put_byte(b, VICI_SECTION_START);
	put_name(b, name);
	b->depth++;
}

void vici_add_section_end(struct vici_builder *b)
{
	if (b->in_list || b->depth == 0)
		builder_fail(b, "section end without a section");
	put_byte(b, VICI_SECTION_END);
	b->depth--;
}

void vici_add_kv(struct vici_builder *b, const char *name, const void *value, size_t len)
{
	if (b->in_list)
		builder_fail(b, "key-value inside a list");
	put_byte(b, VICI_KEY_VALUE);
	put_name(b, name);
	put_value(b, value, len);
}

void vici_add_kv_str(struct vici_builder *b, const char *name, const char *value)
{
	if (value == NULL) {
		builder_fail(b, "key-value without a value");
		return;
	}
	vici_add_kv(b, name, value, strlen(value));
}

void vici_add_list_start(struct vici_builder *b, const char *name)
{
	if (b->in_list)
		builder_fail(b, "list inside a list");
	put_byte(b, VICI_LIST_START);
	put_name(b, name);
	b->in_list = true;
}

void vici_add_list_item(struct vici_builder *b, const void *value, size_t len)
{
	if (!b->in_list)
		builder_fail(b, "list item outside a list");
	put_byte(b, VICI_LIST_ITEM);
	put_value(b, value, len);
}

void vici_add_list_end(struct vici_builder *b)
{
	if (!b->in_list)
		builder_fail(b, "list end without a list");
	put_byte(b, VICI_LIST_END);
	b->in_list = false;
}

static bool op_named(unsigned op)
{
	return op == VICI_CMD_REQUEST || op == VICI_EVENT_REGISTER || op == VICI_EVENT_UNREGISTER || op == VICI_EVENT;
}

/* Operations that carry a message (the others are the op byte and, maybe, a name only). */
static bool op_has_message(unsigned op)
{
	return op == VICI_CMD_REQUEST || op == VICI_CMD_RESPONSE || op == VICI_EVENT;
}

bool vici_packet_encode(enum vici_op op, const char *name, const struct vici_builder *b, unsigned char **out,
			size_t *outlen, char *err, size_t errlen)
{
	size_t nlen = name ? strlen(name) : 0, mlen = b ? b->len : 0, total;
	unsigned char *p;

	*out = NULL;
	*outlen = 0;
	if ((unsigned)op > VICI_EVENT) {
		fmt_err(err, errlen, "unknown operation %u", (unsigned)op);
		return false;
	}
	if (op_named(op) ? nlen == 0 || nlen > VICI_NAME_MAX : nlen != 0) {
		fmt_err(err, errlen, "operation %u %s", (unsigned)op, op_named(op) ? "needs a name of 1-255 bytes" : "has no name");
		return false;
	}
	if (b != NULL && (b->failed || b->depth != 0 || b->in_list)) {
		fmt_err(err, errlen, "cannot encode the message: %s", b->failed ? b->error : "a section or list is still open");
		return false;
	}
	if (mlen && !op_has_message(op)) {
		fmt_err(err, errlen, "operation %u carries no message", (unsigned)op);
		return false;
	}
	total = 1 + (op_named(op) ? 1 + nlen : 0) + mlen;
	if (total > VICI_PACKET_MAX) {
		fmt_err(err, errlen, "packet of %zu bytes exceeds the %d-byte limit", total, VICI_PACKET_MAX);
		return false;
	}
	p = malloc(4 + total);
	if (p == NULL) {
		fmt_err(err, errlen, "out of memory");
		return false;
	}
	p[0] = (unsigned char)(total >> 24);
	p[1] = (unsigned char)(total >> 16);
	p[2] = (unsigned char)(total >> 8);
	p[3] = (unsigned char)total;
	p[4] = (unsigned char)op;
	if (op_named(op)) {
		p[5] = (unsigned char)nlen;
		memcpy(p + 6, name, nlen);
	}
	if (mlen)
		memcpy(p + 4 + total - mlen, b->data, mlen);
	*out = p;
	*outlen = 4 + total;
	return true;
}

/* --- decoder ----------------------------------------------------------------------------------- */

void vici_msg_clear(struct vici_msg *msg)
{
	if (msg == NULL)
		return;
	free(msg->raw);
	free(msg->items);
	memset(msg, 0, sizeof(*msg));
}

/* A length-prefixed name at *pos; no NUL byte in it (we hand names around as C strings). */
static bool get_name(const unsigned char *p, size_t len, size_t *pos, char *name, bool allow_empty, char *err,
		     size_t errlen, const char *what)
{
	size_t n;

	if (*pos >= len) {
		fmt_err(err, errlen, "truncated %s name at offset %zu", what, *pos);
		return false;
	}
	n = p[(*pos)++];
	if (n == 0 && !allow_empty) {
		fmt_err(err, errlen, "empty %s name at offset %zu", what, *pos - 1);
		return false;
	}
	if (n > len - *pos) {
		fmt_err(err, errlen, "%s name of %zu bytes at offset %zu runs past the end (%zu left)", what, n, *pos - 1,
			len - *pos);
		return false;
	}
	if (memchr(p + *pos, '\0', n) != NULL) {
		fmt_err(err, errlen, "%s name at offset %zu contains a NUL byte", what, *pos - 1);
		return false;
	}
	memcpy(name, p + *pos, n);
	name[n] = '\0';
	*pos += n;
	return true;
}

bool vici_parse(const unsigned char *body, size_t len, struct vici_msg *msg, char *err, size_t errlen)
{
	struct vici_msg m;
	size_t pos = 0, cap = 0;
	int depth = 0;
	bool in_list = false;
	char list_name[VICI_NAME_MAX + 1] = "";

	memset(msg, 0, sizeof(*msg));
	memset(&m, 0, sizeof(m));
	if (len == 0) {
		fmt_err(err, errlen, "empty packet");
		return false;
	}
	if (len > VICI_PACKET_MAX) {
		fmt_err(err, errlen, "packet of %zu bytes exceeds the %d-byte limit", len, VICI_PACKET_MAX);
		return false;
	}
	if (body[0] > VICI_EVENT) {
		fmt_err(err, errlen, "unknown operation %u", body[0]);
		return false;
	}
	m.op = (enum vici_op)body[0];
	pos = 1;
	if (op_named(m.op) && !get_name(body, len, &pos, m.name, false, err, errlen, "operation"))
		return false;
	if (!op_has_message(m.op) && pos != len) {
		fmt_err(err, errlen, "operation %u carries no message, but %zu bytes follow", (unsigned)m.op, len - pos);
		return false;
	}
	m.raw_len = len;
	m.raw = malloc(len);
	if (m.raw == NULL) {
		fmt_err(err, errlen, "out of memory");
		return false;
	}
	memcpy(m.raw, body, len);
	while (pos < len) {
		struct vici_item it;
		size_t at = pos;
		unsigned t = m.raw[pos++];

		memset(&it, 0, sizeof(it));
		if (t < VICI_SECTION_START || t > VICI_LIST_END) {
			fmt_err(err, errlen, "unknown element type %u at offset %zu", t, at);
			goto fail;
		}
		it.type = (enum vici_type)t;
		it.depth = depth;
		if (in_list && t != VICI_LIST_ITEM && t != VICI_LIST_END) {
			fmt_err(err, errlen, "element type %u inside list `%s' at offset %zu", t, list_name, at);
			goto fail;
		}
		switch (t) {
		case VICI_SECTION_START:
			if (depth >= VICI_DEPTH_MAX) {
				fmt_err(err, errlen, "sections nested deeper than %d at offset %zu", VICI_DEPTH_MAX, at);
				goto fail;
			}
			if (!get_name(m.raw, len, &pos, it.name, false, err, errlen, "section"))
				goto fail;
			depth++;
			break;
		case VICI_SECTION_END:
			if (depth == 0) {
				fmt_err(err, errlen, "section end without a section at offset %zu", at);
				goto fail;
			}
			depth--;
			it.depth = depth;
			break;
		case VICI_LIST_START:
			if (!get_name(m.raw, len, &pos, it.name, false, err, errlen, "list"))
				goto fail;
			snprintf(list_name, sizeof(list_name), "%s", it.name);
			in_list = true;
			break;
		case VICI_LIST_END:
			if (!in_list) {
				fmt_err(err, errlen, "list end without a list at offset %zu", at);
				goto fail;
			}
			in_list = false;
			break;
		case VICI_LIST_ITEM:
			if (!in_list) {
				fmt_err(err, errlen, "list item outside a list at offset %zu", at);
				goto fail;
			}
			snprintf(it.name, sizeof(it.name), "%s", list_name);
			/* a value follows, as for a key-value */
			/* fall through */
		case VICI_KEY_VALUE:
			if (t == VICI_KEY_VALUE && !get_name(m.raw, len, &pos, it.name, false, err, errlen, "key"))
				goto fail;
			if (len - pos < 2) {
				fmt_err(err, errlen, "truncated value length at offset %zu", pos);
				goto fail;
			}
			it.value_len = ((size_t)m.raw[pos] << 8) | m.raw[pos + 1];
			pos += 2;
			if (it.value_len > len - pos) {
				fmt_err(err, errlen, "value of %zu bytes at offset %zu runs past the end (%zu left)", it.value_len,
					pos - 2, len - pos);
				goto fail;
			}
			it.value = m.raw + pos;
			pos += it.value_len;
			break;
		}
		if (m.n_items == cap) {
			struct vici_item *ni;

			if (cap >= VICI_ITEMS_MAX) {
				fmt_err(err, errlen, "more than %d elements", VICI_ITEMS_MAX);
				goto fail;
			}
			cap = cap ? cap * 2 : 16;
			ni = realloc(m.items, cap * sizeof(*ni));
			if (ni == NULL) {
				fmt_err(err, errlen, "out of memory");
				goto fail;
			}
			m.items = ni;
		}
		m.items[m.n_items++] = it;
	}
	if (in_list || depth != 0) {
		fmt_err(err, errlen, "message ends inside %s", in_list ? "a list" : "a section");
		goto fail;
	}
	*msg = m; /* transferred */
	return true;
fail:
	vici_msg_clear(&m);
	return false;
}

const unsigned char *vici_msg_get(const struct vici_msg *msg, const char *key, size_t *len)
{
	for (size_t i = 0; i < msg->n_items; i++) {
		const struct vici_item *it = &msg->items[i];

		if (it->type == VICI_KEY_VALUE && it->depth == 0 && strcmp(it->name, key) == 0) {
			*len = it->value_len;
			return it->value;
		}
	}
	return NULL;
}

bool vici_msg_get_str(const struct vici_msg *msg, const char *key, char *buf, size_t buflen)
{
	size_t n = 0;
	const unsigned char *v = vici_msg_get(msg, key, &n);

	if (v == NULL || buflen == 0)
		return false;
	if (n >= buflen)
		n = buflen - 1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return true;
}

/* --- connection -------------------------------------------------------------------------------- */

struct vici_conn {
	int fd;
	int timeout_ms;
	int abort_fd; /* -1, or a descriptor whose readability abandons any wait (-EINTR) */
	bool broken; /* a packet went half-way or an answer made no sense: the stream is out of step */
};

static long long min_ll(long long a, long long b)
{
	return a < b ? a : b;
}

int vici_connect(const char *uri, int timeout_ms, struct vici_conn **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vici_conn *c;
	const char *path;
	long long deadline;
	int fd, r = 0;

	*out = NULL;
	if (uri == NULL || strncmp(uri, "unix://", 7) != 0 || uri[7] != '/')
		return -EINVAL;
	if (timeout_ms <= 0)
		return -EINVAL;
	path = uri + 7;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	deadline = io_now_ms() + timeout_ms;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EISCONN)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			/*
			 * AF_UNIX: the listen backlog is full (charon busy or hung). Nothing is in
			 * progress (polling for POLLOUT would report an unconnected socket as ready):
			 * try again until the deadline.
			 */
			long long left = deadline - io_now_ms();

			if (left <= 0) {
				r = -ETIMEDOUT;
				break;
			}
			poll(NULL, 0, left < 20 ? (int)left : 20);
			continue;
		}
		if (errno == EINPROGRESS || errno == EALREADY) {
			r = io_wait(fd, POLLOUT, deadline, -1, NULL);
			if (r == 0) {
				int e = 0;
				socklen_t el = sizeof(e);

				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
					e = errno;
				r = -e;
			}
			break;
		}
		r = -errno;
		break;
	}
	if (r != 0) {
		close(fd);
		return r;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	c->abort_fd = -1;
	*out = c;
	return 0;
}

void vici_close(struct vici_conn *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c);
}

void vici_set_abort_fd(struct vici_conn *c, int abort_fd)
{
	c->abort_fd = abort_fd;
}

int vici_fd(const struct vici_conn *c)
{
	return c->fd;
}

int vici_check_idle(struct vici_conn *c)
{
	unsigned char b;
	ssize_t n;

	if (c->broken)
		return -ENOTCONN;
	n = recv(c->fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	c->broken = true;
	if (n == 0)
		return -ECONNRESET; /* charon closed it: it exited, crashed or is restarting */
	if (n < 0)
		return -errno;
	return -EBADMSG; /* nothing was asked: unsolicited bytes put the stream out of step */
}

/* MSG_NOSIGNAL: charon closing its end must not kill the fetcher with SIGPIPE (it is not ignored). */
static int write_all(struct vici_conn *c, const unsigned char *p, size_t n, long long deadline)
{
	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		w = io_wait(c->fd, POLLOUT, deadline, c->abort_fd, NULL);
		if (w != 0)
			return (int)w;
	}
	return 0;
}

static int read_all(struct vici_conn *c, unsigned char *p, size_t n, long long deadline)
{
	while (n > 0) {
		ssize_t r = recv(c->fd, p, n, 0);

		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r == 0)
			return -ECONNRESET; /* charon closed the connection */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		r = io_wait(c->fd, POLLIN, deadline, c->abort_fd, NULL);
		if (r != 0)
			return (int)r;
	}
	return 0;
}

static void io_err(const struct vici_conn *c, int r, const char *what, char *err, size_t errlen)
{
	if (r == -ETIMEDOUT)
		fmt_err(err, errlen, "cannot %s: no answer in time (%d ms)", what, c->timeout_ms);
	else if (r == -EINTR)
		fmt_err(err, errlen, "cannot %s: interrupted (shutting down)", what);
	else
		fmt_err(err, errlen, "cannot %s: %s", what, strerror(-r));
}

/* Sends one packet, done by `end` (and within one timeout). A failure leaves the connection broken. */
static int send_packet(struct vici_conn *c, enum vici_op op, const char *name, const struct vici_builder *b,
		       long long end, char *err, size_t errlen)
{
	unsigned char *pkt = NULL;
	size_t len = 0;
	int r;

	if (!vici_packet_encode(op, name, b, &pkt, &len, err, errlen))
		return -EMSGSIZE; /* nothing sent: the stream is still in step */
	r = write_all(c, pkt, len, min_ll(io_now_ms() + c->timeout_ms, end));
	if (r != 0) {
		io_err(c, r, "send", err, errlen);
		c->broken = true;
	}
	free(pkt);
	return r;
}

/* Receives one packet, done by `end` (and within one timeout). A failure leaves the connection broken. */
static int recv_packet(struct vici_conn *c, struct vici_msg *msg, long long end, char *err, size_t errlen)
{
	long long deadline = min_ll(io_now_ms() + c->timeout_ms, end);
	unsigned char hdr[4], *body = NULL;
	size_t len;
	int r;

	memset(msg, 0, sizeof(*msg));
	r = read_all(c, hdr, sizeof(hdr), deadline);
	if (r != 0) {
		io_err(c, r, "receive", err, errlen);
		goto out;
	}
	len = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
	if (len == 0 || len > VICI_PACKET_MAX) {
		/* refused before any allocation: the length is charon's word only */
		fmt_err(err, errlen, "announced packet of %zu bytes (limit %d)", len, VICI_PACKET_MAX);
		r = -EBADMSG;
		goto out;
	}
	body = malloc(len);
	if (body == NULL) {
		fmt_err(err, errlen, "out of memory for a packet of %zu bytes", len);
		r = -ENOMEM;
		goto out;
	}
	r = read_all(c, body, len, deadline);
	if (r != 0)
		io_err(c, r, "receive", err, errlen);
	else if (!vici_parse(body, len, msg, err, errlen))
		r = -EBADMSG;
out:
	if (r != 0)
		c->broken = true;
	free(body);
	return r;
}

/*
 * (Un)registers `event`: 0, -ENOSYS (EVENT_UNKNOWN: still in step), or an error. While
 * unregistering, late events of our own stream (`late_ok`) are skipped.
 */
static int event_op(struct vici_conn *c, enum vici_op op, const char *event, bool late_ok, long long end,
		    char *err, size_t errlen)
{
	int r = send_packet(c, op, event, NULL, end, err, errlen);

	while (r == 0) {
		struct vici_msg m;

		r = recv_packet(c, &m, end, err, errlen);
		if (r != 0)
			break;
		if (m.op == VICI_EVENT_CONFIRM) {
			vici_msg_clear(&m);
			return 0;
		}
		if (m.op == VICI_EVENT_UNKNOWN) {
			fmt_err(err, errlen, "charon knows no event `%s'", event);
			r = -ENOSYS;
		} else if (m.op == VICI_EVENT && late_ok && strcmp(m.name, event) == 0) {
			/* a late event of our own stream, before the unregistration took effect */
		} else {
			fmt_err(err, errlen, "unexpected operation %u while %s `%s'", (unsigned)m.op,
				op == VICI_EVENT_REGISTER ? "registering" : "unregistering", event);
			c->broken = true;
			r = -EBADMSG;
		}
		vici_msg_clear(&m);
	}
	return r;
}

/* Puts "`cmd': " in front of the message in err (truncating its end when it does not fit). */
static void prefix_err(char *err, size_t errlen, const char *cmd)
{
	char tmp[512];

	if (err == NULL || errlen == 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s", err);
	fmt_err(err, errlen, "`%s': %s", cmd, tmp);
}

int vici_request(struct vici_conn *c, const char *cmd, const struct vici_builder *b, const char *event,
		 vici_event_fn *fn, void *ctx, struct vici_msg *resp, char *err, size_t errlen)
{
	long long end;
	bool cancelled = false;
	int r;

	memset(resp, 0, sizeof(*resp));
	if (c->broken) {
		fmt_err(err, errlen, "the connection is unusable after an earlier error");
		r = -ENOTCONN;
		goto out;
	}
	/* Every read and write has its timeout; the whole exchange (a stream of events) has one too. */
	end = io_now_ms() + (long long)c->timeout_ms * VICI_REQUEST_SPAN;
	if (event != NULL) {
		r = event_op(c, VICI_EVENT_REGISTER, event, false, end, err, errlen);
		if (r != 0)
			goto out;
	}
	r = send_packet(c, VICI_CMD_REQUEST, cmd, b, end, err, errlen);
	while (r == 0) {
		struct vici_msg m;

		r = recv_packet(c, &m, end, err, errlen);
		if (r != 0)
			break;
		if (m.op == VICI_CMD_RESPONSE) {
			*resp = m; /* transferred */
			break;
		}
		if (m.op == VICI_CMD_UNKNOWN) {
			fmt_err(err, errlen, "charon knows no such command");
			r = -ENOSYS;
		} else if (m.op == VICI_EVENT && event != NULL && strcmp(m.name, event) == 0) {
			if (!cancelled && fn != NULL && !fn(&m, ctx))
				cancelled = true; /* keep reading up to the response: the stream must end cleanly */
		} else {
			fmt_err(err, errlen, "unexpected operation %u (%s) in the answer", (unsigned)m.op,
				m.name[0] ? m.name : "unnamed");
			c->broken = true;
			r = -EBADMSG;
		}
		vici_msg_clear(&m);
	}
	/* Also after CMD_UNKNOWN (in step): the registration must not outlive the request. */
	if (event != NULL && !c->broken && (r == 0 || r == -ENOSYS || r == -EMSGSIZE)) {
		int u = event_op(c, VICI_EVENT_UNREGISTER, event, true, end, err, errlen);

		if (u != 0)
			r = u;
	}
out:
	if (r == 0 && cancelled)
		r = -ECANCELED;
	if (r != 0)
		vici_msg_clear(resp); /* *resp is only ever handed over with 0 */
	if (r != 0 && r != -ECANCELED)
		prefix_err(err, errlen, cmd);
	return r;
}
