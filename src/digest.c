/* SPDX-License-Identifier: MIT */
/* digest.c: streaming SHA-256 and git-blob SHA-1 over OpenSSL EVP. */
#include "digest.h"

#include "alloc.h"
#include "str.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

struct hub_digest {
    EVP_MD_CTX *ctx;
    hub_digest_kind kind;
};

int hub__digest_new(hub_digest **out, hub_digest_kind kind, uint64_t size)
{
    *out = NULL;
    hub_digest *d = hub__calloc(1, sizeof(*d));
    if (!d)
        return HUB_ENOMEM;
    d->kind = kind;
    d->ctx = EVP_MD_CTX_new();
    const EVP_MD *md = kind == HUB_DIGEST_SHA256 ? EVP_sha256() : EVP_sha1();
    if (!d->ctx || EVP_DigestInit_ex(d->ctx, md, NULL) != 1) {
        hub__digest_free(d);
        return hub__error_set(HUB_ERROR, "cannot initialise the digest");
    }
    if (kind == HUB_DIGEST_GITSHA1) {
        char header[32];
        int n = snprintf(header, sizeof(header), "blob %llu",
                         (unsigned long long)size);
        /* the header includes its terminating NUL */
        if (EVP_DigestUpdate(d->ctx, header, (size_t)n + 1) != 1) {
            hub__digest_free(d);
            return hub__error_set(HUB_ERROR, "digest update failed");
        }
    }
    *out = d;
    return HUB_OK;
}

int hub__digest_update(hub_digest *d, const void *data, size_t len)
{
    if (EVP_DigestUpdate(d->ctx, data, len) != 1)
        return hub__error_set(HUB_ERROR, "digest update failed");
    return HUB_OK;
}

int hub__digest_final(hub_digest *d, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(d->ctx, md, &n) != 1)
        return hub__error_set(HUB_ERROR, "digest finalisation failed");
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < n; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * n] = '\0';
    return HUB_OK;
}

void hub__digest_free(hub_digest *d)
{
    if (!d)
        return;
    EVP_MD_CTX_free(d->ctx);
    hub__free(d);
}

hub_digest_kind hub__digest_kind_for_etag(const char *etag)
{
    size_t n = strlen(etag);
    if (n == 64 && hub__str_is_lower_hex(etag, 64))
        return HUB_DIGEST_SHA256;
    if (n == 40 && hub__str_is_lower_hex(etag, 40))
        return HUB_DIGEST_GITSHA1;
    return HUB_DIGEST_NONE;
}

static int
oneshot(const EVP_MD *md, const void *data, size_t len, unsigned char *out)
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, md, NULL) != 1)
        return hub__error_set(HUB_ERROR, "digest failed");
    return HUB_OK;
}

int hub__sha1(const void *data, size_t len, unsigned char out[20])
{
    return oneshot(EVP_sha1(), data, len, out);
}

int hub__sha256(const void *data, size_t len, unsigned char out[32])
{
    return oneshot(EVP_sha256(), data, len, out);
}

int hub__short_hash(const char *s, char out[29])
{
    unsigned char md[20];
    int error = hub__sha1(s, strlen(s), md);
    if (error < 0)
        return error;
    unsigned char b64[32];
    if (EVP_EncodeBlock(b64, md, sizeof(md)) != 28)
        return hub__error_set(HUB_ERROR, "base64 encoding failed");
    for (int i = 0; i < 28; i++)
        out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
    out[28] = '\0';
    return HUB_OK;
}
