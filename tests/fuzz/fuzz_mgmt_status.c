/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the parser of OpenVPN's management `status 3' replies (plugin/mgmt.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), cn[64];
	unsigned long cid = 0;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	mgmt_status_find(text, "127.0.0.1:1194", &cid, cn, sizeof(cn));
	mgmt_status_find(text, "", &cid, NULL, 0);
	mgmt_status_find_unique_cn(text, "alice", &cid);
	free(text);
	return 0;
}
