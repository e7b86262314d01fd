/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the parser of OpenVPN's management `status 3' replies and the row matcher (plugin/mgmt.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Sessions as OpenVPN's environment describes them: IPv4, IPv6, duplicate-cn, unknown keys. */
	static const struct mgmt_session ses[] = {
		{ .cn = "alice", .ip = "127.0.0.1", .port = "1194", .vaddr = "10.8.0.2", .since = 1795780800, .victim = true },
		{ .cn = "bob", .ip = "::1", .port = "40002", .vaddr = "10.8.0.3", .since = 1795780801, .victim = true },
		{ .cn = "bob", .ip = "::1", .port = "40003", .vaddr = "", .vaddr6 = "fd00::3", .since = -1, .victim = true,
		  .killed = true, .killed_cid = 4 },
		{ .cn = "bob", .ip = "::ffff:127.0.0.1", .port = "1", .since = -1 },
		{ .cn = "", .ip = "", .port = "", .since = -1, .victim = true },
	};
	enum { N = sizeof(ses) / sizeof(ses[0]) };
	enum mgmt_match match[N];
	struct mgmt_status st;
	size_t row[N];
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (mgmt_status_parse(text, &st) == 0) {
		for (size_t i = 0; i < st.n; i++)
			for (size_t j = 0; j < N; j++)
				(void)mgmt_row_fit(&st.rows[i], &ses[j]);
		if (mgmt_status_match(&st, ses, N, match, row) == 0)
			for (size_t j = 0; j < N; j++)
				if (ses[j].victim && match[j] == MGMT_MATCH_ROW &&
				    (row[j] >= st.n || strcmp(st.rows[row[j]].cn, ses[j].cn) != 0))
					abort(); /* never another Common Name's row */
		mgmt_status_clear(&st);
	}
	free(text);
	return 0;
}
