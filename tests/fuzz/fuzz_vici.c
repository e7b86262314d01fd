/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the fetcher's vici packet decoder (fetcher/vici.c): charon's answers are untrusted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vici.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vici_msg m;
	char err[256], buf[64];
	size_t len = 0;

	if (!vici_parse(data, size, &m, err, sizeof(err)))
		return 0;
	/* Every item must lie inside the packet; the helpers must stay in bounds. */
	for (size_t i = 0; i < m.n_items; i++) {
		const struct vici_item *it = &m.items[i];

		if (it->value != NULL && (it->value < m.raw || it->value + it->value_len > m.raw + m.raw_len))
			abort();
		if (strlen(it->name) > VICI_NAME_MAX)
			abort();
	}
	(void)vici_msg_get(&m, "data", &len);
	(void)vici_msg_get_str(&m, "success", buf, sizeof(buf));
	vici_msg_clear(&m);
	return 0;
}
