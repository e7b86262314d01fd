/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small native client of strongSwan's vici protocol (src/libcharon/plugins/vici/README.md). */
#ifndef CRLSYNC_FETCHER_VICI_H
#define CRLSYNC_FETCHER_VICI_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Wire format: every packet is a 32-bit big-endian length (of what follows), an operation byte,
 * for the named operations a name (one length byte, then the name), and a message: a sequence of
 * elements (type byte; name with a length byte where it has one; values with a 16-bit big-endian
 * length). charon refuses packets above 512 KiB (VICI_MESSAGE_SIZE_MAX) and cannot encode a value
 * above 65,535 bytes: a DER CRL larger than that never fits into `load-cert` nor `list-certs`.
 */
#define VICI_PACKET_MAX (512 * 1024)
#define VICI_VALUE_MAX 0xffff
#define VICI_NAME_MAX 255
#define VICI_DEPTH_MAX 32     /* sections nested deeper are refused */
/*
 * Elements per message. Each decoded element takes ~280 bytes (its name is copied): 16,384 bound a
 * hostile packet to ~4.5 MiB, far above what the answers crlsync reads carry (a handful each).
 */
#define VICI_ITEMS_MAX 16384
/* A whole request (registration, command, event stream, unregistration) takes at most this many timeouts. */
#define VICI_REQUEST_SPAN 6

enum vici_op {
	VICI_CMD_REQUEST = 0,    /* named: a command */
	VICI_CMD_RESPONSE = 1,   /* the answer to it */
	VICI_CMD_UNKNOWN = 2,    /* no such command */
	VICI_EVENT_REGISTER = 3, /* named */
	VICI_EVENT_UNREGISTER = 4, /* named */
	VICI_EVENT_CONFIRM = 5,
	VICI_EVENT_UNKNOWN = 6,
	VICI_EVENT = 7,          /* named: a (streamed) event */
};

enum vici_type {
	VICI_SECTION_START = 1, /* named */
	VICI_SECTION_END = 2,
	VICI_KEY_VALUE = 3,     /* named, value */
	VICI_LIST_START = 4,    /* named */
	VICI_LIST_ITEM = 5,     /* value */
	VICI_LIST_END = 6,
};

/* --- building a message ------------------------------------------------------------------------ */

/* A message under construction. Any error (too long, bad nesting, no memory) sticks in `failed`. */
struct vici_builder {
	unsigned char *data;
	size_t len, cap;
	int depth;      /* open sections */
	bool in_list;
	bool failed;
	char error[128];
};

void vici_builder_init(struct vici_builder *b);
void vici_builder_clear(struct vici_builder *b);
void vici_add_section_start(struct vici_builder *b, const char *name);
void vici_add_section_end(struct vici_builder *b);
void vici_add_kv(struct vici_builder *b, const char *name, const void *value, size_t len);
void vici_add_kv_str(struct vici_builder *b, const char *name, const char *value);
void vici_add_list_start(struct vici_builder *b, const char *name);
void vici_add_list_item(struct vici_builder *b, const void *value, size_t len);
void vici_add_list_end(struct vici_builder *b);

/*
 * The whole packet (length prefix included) of `op` (name for the named operations, else NULL)
 * carrying the builder's message (b may be NULL: no message). Returns true and a malloc'd buffer
 * the caller frees; false with `err` when the builder failed, the nesting is open, or it is too big.
 */
bool vici_packet_encode(enum vici_op op, const char *name, const struct vici_builder *b, unsigned char **out,
			size_t *outlen, char *err, size_t errlen);

/* --- a decoded packet -------------------------------------------------------------------------- */

struct vici_item {
	enum vici_type type;
	int depth;                  /* sections open around it (0: top level) */
	char name[VICI_NAME_MAX + 1]; /* "" for SECTION_END, LIST_ITEM, LIST_END; a list item's is its list's */
	const unsigned char *value; /* into vici_msg.raw; KEY_VALUE and LIST_ITEM */
	size_t value_len;
};

struct vici_msg {
	enum vici_op op;
	char name[VICI_NAME_MAX + 1]; /* command or event name; "" for the unnamed operations */
	unsigned char *raw;         /* the packet body, owned */
	size_t raw_len;
	struct vici_item *items;    /* owned */
	size_t n_items;
};

/*
 * Parses one packet body (after the 4-byte length) of untrusted input. Returns true and fills
 * *msg (takes a copy; free with vici_msg_clear), or false with the first reason in `err`: unknown
 * operation, truncated name or value, a name with a NUL byte, unbalanced sections or lists, an
 * element where it cannot be, nesting deeper than VICI_DEPTH_MAX, a message on an operation that
 * has none. *msg is left empty on failure.
 */
bool vici_parse(const unsigned char *body, size_t len, struct vici_msg *msg, char *err, size_t errlen);

void vici_msg_clear(struct vici_msg *msg);

/* The value of top-level key `key`, or NULL (len set when found). */
const unsigned char *vici_msg_get(const struct vici_msg *msg, const char *key, size_t *len);

/* Same, as a NUL-terminated copy in buf (truncated to fit); false when absent. */
bool vici_msg_get_str(const struct vici_msg *msg, const char *key, char *buf, size_t buflen);

/* --- a connection ------------------------------------------------------------------------------ */

struct vici_conn;

/*
 * Connects to `uri` (unix:///path), waiting at most timeout_ms (a full listen backlog is retried
 * until then: -ETIMEDOUT). Every later read and write gives up after timeout_ms, and a whole
 * vici_request() after VICI_REQUEST_SPAN * timeout_ms. Never raises SIGPIPE (MSG_NOSIGNAL).
 * Returns 0 and *out (free with vici_close), or -errno (-EINVAL for a bad URI).
 */
int vici_connect(const char *uri, int timeout_ms, struct vici_conn **out);

void vici_close(struct vici_conn *c);

/*
 * From now on every wait of `c` (a read or write that must wait) also watches abort_fd (-1: none):
 * once it is readable, the request ends with -EINTR and the connection is unusable. It is only
 * polled, never read (the daemon's signalfd for SIGTERM: the signal stays queued for its loop).
 */
void vici_set_abort_fd(struct vici_conn *c, int abort_fd);

/* The socket, to poll an idle connection for POLLIN (charon closing it). Still owned by c. */
int vici_fd(const struct vici_conn *c);

/*
 * For a connection kept open with no request in flight: 0 while it is open and quiet, -ECONNRESET
 * once charon closed it (it exited, crashed, or is restarting), -EBADMSG when charon sent
 * something nobody asked for, another -errno on a socket error. After a non-zero return the
 * connection is unusable: close it. Never blocks.
 */
int vici_check_idle(struct vici_conn *c);

/* Called for each event of a streamed command; returning false stops collecting (the result is -ECANCELED). */
typedef bool vici_event_fn(const struct vici_msg *event, void *ctx);

/*
 * Sends command `cmd` with message `b` (NULL: empty) and reads its answer into *resp (filled only
 * when 0 is returned; free with vici_msg_clear). With `event`, registers for it first, hands every such event to `fn`, and
 * unregisters afterwards (the streamed commands: list-certs, list-authorities, ...).
 * Returns 0, -ENOSYS for a command (or event) charon does not know, -ETIMEDOUT, -EBADMSG for a
 * malformed or unexpected packet (err says why, after the command's name), -EMSGSIZE, or another
 * -errno. After an error that leaves the stream out of step (anything but -ENOSYS, -ECANCELED and
 * -EMSGSIZE), the connection is unusable: later requests fail with -ENOTCONN; close it.
 */
int vici_request(struct vici_conn *c, const char *cmd, const struct vici_builder *b, const char *event,
		 vici_event_fn *fn, void *ctx, struct vici_msg *resp, char *err, size_t errlen);

#endif
