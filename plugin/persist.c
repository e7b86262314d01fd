/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Process-lifetime slots (blobs and fds) that survive OpenVPN's close/reopen of the plugin (see persist.h). */
#include "persist.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

struct blob_slot {
	char *key;
	char *data;
	size_t len;
	bool secret;
};

struct fd_slot {
	char *key;
	int fd;
};

static pthread_mutex_t persist_lock = PTHREAD_MUTEX_INITIALIZER;
static struct blob_slot blobs[PERSIST_SLOTS];
static struct fd_slot fds[PERSIST_SLOTS];

void persist_wipe_free(char *data, size_t len)
{
	if (data == NULL)
		return;
	OPENSSL_cleanse(data, len);
	free(data);
}

static void blob_clear(struct blob_slot *b)
{
	if (b->secret)
		persist_wipe_free(b->data, b->len);
	else
		free(b->data);
	b->data = NULL;
	b->len = 0;
	b->secret = false;
}

int persist_put(const char *key, const void *data, size_t len, bool secret)
{
	struct blob_slot *slot = NULL;
	char *copy;
	int rc = 0;

	if (key == NULL || strlen(key) >= PERSIST_KEY_MAX)
		return -ENAMETOOLONG;
	copy = malloc(len + 1);
	if (copy == NULL)
		return -ENOMEM;
	if (len > 0)
		memcpy(copy, data, len);
	copy[len] = '\0';
	pthread_mutex_lock(&persist_lock);
	for (size_t i = 0; i < PERSIST_SLOTS && slot == NULL; i++)
		if (blobs[i].key != NULL && strcmp(blobs[i].key, key) == 0)
			slot = &blobs[i];
	for (size_t i = 0; i < PERSIST_SLOTS && slot == NULL; i++) {
		if (blobs[i].key == NULL) {
			if ((blobs[i].key = strdup(key)) == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			slot = &blobs[i];
		}
	}
	if (slot == NULL) {
		rc = -ENOSPC;
		goto out;
	}
	blob_clear(slot);
	slot->data = copy;
	slot->len = len;
	slot->secret = secret;
	copy = NULL; /* transferred */
out:
	pthread_mutex_unlock(&persist_lock);
	if (copy != NULL)
		persist_wipe_free(copy, len + 1);
	return rc;
}

int persist_get(const char *key, char **data, size_t *len)
{
	int rc = -ENOENT;

	*data = NULL;
	*len = 0;
	if (key == NULL)
		return -ENOENT;
	pthread_mutex_lock(&persist_lock);
	for (size_t i = 0; i < PERSIST_SLOTS; i++) {
		if (blobs[i].key == NULL || strcmp(blobs[i].key, key) != 0)
			continue;
		*data = malloc(blobs[i].len + 1);
		if (*data == NULL) {
			rc = -ENOMEM;
			break;
		}
		memcpy(*data, blobs[i].data, blobs[i].len + 1);
		*len = blobs[i].len;
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&persist_lock);
	return rc;
}

int persist_fd_put(const char *key, int fd)
{
	struct fd_slot *slot = NULL;
	int rc = 0;

	if (key == NULL || strlen(key) >= PERSIST_KEY_MAX) {
		close(fd);
		return -ENAMETOOLONG;
	}
	pthread_mutex_lock(&persist_lock);
	for (size_t i = 0; i < PERSIST_SLOTS && slot == NULL; i++)
		if (fds[i].key != NULL && strcmp(fds[i].key, key) == 0)
			slot = &fds[i];
	for (size_t i = 0; i < PERSIST_SLOTS && slot == NULL; i++) {
		if (fds[i].key == NULL) {
			if ((fds[i].key = strdup(key)) == NULL) {
				rc = -ENOMEM;
				break;
			}
			fds[i].fd = -1;
			slot = &fds[i];
		}
	}
	if (slot == NULL) {
		rc = rc ? rc : -ENOSPC;
		close(fd);
	} else {
		if (slot->fd >= 0 && slot->fd != fd)
			close(slot->fd);
		slot->fd = fd;
	}
	pthread_mutex_unlock(&persist_lock);
	return rc;
}

int persist_fd_get(const char *key)
{
	int fd = -1;

	if (key == NULL)
		return -1;
	pthread_mutex_lock(&persist_lock);
	for (size_t i = 0; i < PERSIST_SLOTS; i++)
		if (fds[i].key != NULL && strcmp(fds[i].key, key) == 0)
			fd = fds[i].fd;
	pthread_mutex_unlock(&persist_lock);
	return fd;
}

void persist_reset(void)
{
	pthread_mutex_lock(&persist_lock);
	for (size_t i = 0; i < PERSIST_SLOTS; i++) {
		blob_clear(&blobs[i]);
		free(blobs[i].key);
		blobs[i].key = NULL;
		if (fds[i].key != NULL && fds[i].fd >= 0)
			close(fds[i].fd);
		free(fds[i].key);
		fds[i].key = NULL;
		fds[i].fd = -1;
	}
	pthread_mutex_unlock(&persist_lock);
}
