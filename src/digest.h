/* SPDX-License-Identifier: MIT */
/* digest.h: streaming SHA-256 and git-blob SHA-1 (the only user of
 * OpenSSL). */
#ifndef HUB_DIGEST_H
#define HUB_DIGEST_H

#include "common.h"

typedef enum hub_digest_kind {
    HUB_DIGEST_NONE = 0,
    HUB_DIGEST_SHA256 = 1, /* LFS and Xet files: sha256 of the content */
    HUB_DIGEST_GITSHA1 = 2 /* git files: sha1("blob <len>\0" + content) */
} hub_digest_kind;

typedef struct hub_digest hub_digest;

/* `size` is the content length, needed up front for the git header. */
int hub__digest_new(hub_digest **out, hub_digest_kind kind, uint64_t size);
int hub__digest_update(hub_digest *d, const void *data, size_t len);
/* Lowercase hex into `hex` (at least 65 bytes). */
int hub__digest_final(hub_digest *d, char *hex);
void hub__digest_free(hub_digest *d);

/* The kind an etag implies: 64 hex → sha256, 40 hex → git sha1, else none */
hub_digest_kind hub__digest_kind_for_etag(const char *etag);

/* One-shot SHA-1 / SHA-256 of a buffer into raw bytes. */
int hub__sha1(const void *data, size_t len, unsigned char out[20]);
int hub__sha256(const void *data, size_t len, unsigned char out[32]);

/* urlsafe base64 of sha1(s), as huggingface_hub's _short_hash: 28
 * characters and a NUL into `out`. */
int hub__short_hash(const char *s, char out[29]);

#endif
