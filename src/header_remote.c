/* SPDX-License-Identifier: MIT */
/*
 * header_remote.c: hub_safetensors_info_remote() and hub_gguf_info_remote(),
 * the header of a weights file on the hub (reference B2, B3, B6), read with
 * ranged requests (read.c) and handed to the byte parsers.
 *
 * Bytes: the first request asks for the 8 length bytes and a read-ahead
 * (safetensors: 100,000 bytes, the whole header of most files; GGUF: 2 MiB
 * in all, as @huggingface/gguf); then safetensors asks for exactly the
 * 8 + N the parser needs, and GGUF for at least 2 MiB more, or what the
 * parser needs if more. So a read transfers at most its header plus 2 MiB;
 * each byte is fetched once (the prefix only grows). The parsers start
 * over on each call: GGUF's 2 MiB steps keep the calls few. A file the
 * cache holds is read from its blob by header_file.c's fd readers.
 * Shards of an index are read one after the other on one request context
 * (its connections kept alive between them).
 */
#include "alloc.h"
#include "header_file.h"
#include "read.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ST_READ_AHEAD 100000u
#define GGUF_STEP (2u * 1024 * 1024)

typedef struct hctx {
    hub_client *c;
    const char *repo_id;
    const char *revision;
    hub_read_options o;
    hub__rq q;
    bool have_q;
} hctx;

static int ensure_rq(hctx *h)
{
    if (h->have_q)
        return HUB_OK;
    h->have_q = true;
    int error =
        hub__rq_init(&h->q, h->c, h->o.repo_type, h->repo_id, "header read");
    h->q.revision = h->revision;
    return error;
}

static int offline(const hctx *h, const char *path)
{
    return hub__error_set(HUB_ENOTCACHED,
                          "'%s' of %s '%s' at revision '%s' is not in the "
                          "cache %s and the network is off (HF_HUB_OFFLINE=1)",
                          path, hub__repo_type_name(h->o.repo_type), h->repo_id,
                          h->revision, h->c->cache_dir);
}

/* An open cached copy of `path`, or -1. */
static int cached_fd(hctx *h, const char *path, uint64_t *size)
{
    if (h->o.flags & HUB_READ_NO_CACHE)
        return -1;
    int fd;
    char commit[41];
    if (hub__read_cached(h->c, h->o.repo_type, h->repo_id, h->revision, path,
                         &fd, size, commit) != HUB_OK)
        return -1;
    return fd;
}

typedef struct grow {
    uint8_t *buf;
    size_t len, cap;
    uint64_t max; /* most bytes it may hold */
    int failed;   /* why append() refused: HUB_EFORMAT (max), HUB_ENOMEM */
} grow;

static int append(const void *data, size_t len, void *payload)
{
    grow *g = payload;
    if (len > g->max - g->len) {
        g->failed = HUB_EFORMAT;
        return 1;
    }
    if (len > g->cap - g->len) {
        size_t cap = g->cap ? g->cap : 64 * 1024;
        while (cap - g->len < len)
            cap *= 2;
        if (cap > g->max)
            cap = (size_t)g->max;
        uint8_t *p = hub__realloc(g->buf, cap);
        if (!p) {
            g->failed = HUB_ENOMEM;
            return 1;
        }
        g->buf = p;
        g->cap = cap;
    }
    memcpy(g->buf + g->len, data, len);
    g->len += len;
    return 0;
}

/* Bytes [g->len, want) of `path` appended to g. */
static int fetch(hctx *h,
                 const char *path,
                 grow *g,
                 uint64_t want,
                 uint64_t *size,
                 uint64_t *net,
                 int *requests)
{
    hub_read_info info;
    memset(&info, 0, sizeof(info));
    info.size = UINT64_MAX;
    uint64_t at = g->len;
    int error =
        hub__read_remote(&h->q, path, at, want - at, 0, append, g, &info);
    *net += info.bytes_fetched;
    (*requests)++;
    if (g->failed == HUB_ENOMEM)
        error = hub__error_oom();
    if (info.size != UINT64_MAX)
        *size = info.size;
    return error;
}

/* The header of one file, from the cache or the hub. */
static int read_one(hctx *h,
                    const char *path,
                    bool gguf,
                    uint64_t cap,
                    const void *pctx,
                    void *out)
{
    hub__header_parse_fn parse =
        gguf ? hub__header_parse_gguf : hub__header_parse_st;
    uint64_t size = 0;
    int fd = cached_fd(h, path, &size);
    if (fd >= 0) {
        int error = hub__header_read_fd(fd, size, path, cap, parse, pctx, out);
        close(fd);
        return error;
    }
    if (h->c->offline)
        return offline(h, path);
    int error = ensure_rq(h);
    if (error < 0)
        return error;
    grow g = {NULL, 0, 0, cap, 0};
    size = UINT64_MAX;
    uint64_t net = 0;
    int requests = 0;
    uint64_t want = gguf ? GGUF_STEP : 8 + ST_READ_AHEAD;
    for (;;) {
        if (want > cap)
            want = cap;
        if (want > size)
            want = size;
        if (want > g.len &&
            (error = fetch(h, path, &g, want, &size, &net, &requests)) < 0)
            break;
        uint64_t need = 0;
        error = parse(out, g.buf, g.len, size, pctx, path, &need);
        if (error != HUB__NEED_MORE)
            break;
        uint64_t limit = size < cap ? size : cap;
        if (need <= g.len || need > limit) {
            /* the parsers refuse what cannot be in the file; the cap is
             * ours */
            error = hub__error_set(HUB_EFORMAT,
                                   "%s: the header needs more than %" PRIu64
                                   " bytes (max_header_bytes)",
                                   path, limit);
            break;
        }
        want = gguf && need < g.len + GGUF_STEP ? g.len + GGUF_STEP : need;
    }
    if (error == HUB_OK)
        hub__log(&h->c->log, HUB_LOG_INFO,
                 "'%s': header read in %d request%s, %" PRIu64
                 " bytes received",
                 path, requests, requests == 1 ? "" : "s", net);
    hub__free(g.buf);
    return error;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

static int read_index(hctx *h, const char *path, hub__st_index *index)
{
    uint64_t size = 0;
    int fd = cached_fd(h, path, &size);
    if (fd >= 0) {
        int error =
            hub__header_read_index_fd(fd, size, path, HUB__INDEX_CAP, index);
        close(fd);
        return error;
    }
    memset(index, 0, sizeof(*index));
    if (h->c->offline)
        return offline(h, path);
    int error = ensure_rq(h);
    if (error < 0)
        return error;
    grow g = {NULL, 0, 0, HUB__INDEX_CAP, 0};
    hub_read_info info;
    memset(&info, 0, sizeof(info));
    info.size = UINT64_MAX;
    error = hub__read_remote(&h->q, path, 0, UINT64_MAX, HUB_READ_VERIFY,
                             append, &g, &info);
    if (g.failed == HUB_ENOMEM)
        error = hub__error_oom();
    else if (g.failed)
        error =
            hub__error_set(HUB_EFORMAT, "%s: over the %u-byte cap on an index",
                           path, HUB__INDEX_CAP);
    if (error == HUB_OK)
        error = hub__safetensors_parse_index(index, (const char *)g.buf, g.len,
                                             path);
    hub__free(g.buf);
    return error;
}

static int
sharded(hctx *h, hub_safetensors_info **out, const char *path, uint64_t cap)
{
    hub__st_index index;
    int error = read_index(h, path, &index);
    if (error < 0)
        return error;
    const char *slash = strrchr(path, '/');
    int dir_len = slash ? (int)(slash - path) : 0;
    hub_safetensors_info **parts =
        hub__calloc(index.shard_count ? index.shard_count : 1, sizeof(*parts));
    if (!parts)
        error = HUB_ENOMEM;
    for (size_t i = 0; error == HUB_OK && i < index.shard_count; i++) {
        char *shard =
            slash ? hub__aprintf("%.*s/%s", dir_len, path, index.shards[i])
                  : hub__strdup(index.shards[i]);
        if (!shard) {
            error = HUB_ENOMEM;
            break;
        }
        error = read_one(h, shard, false, cap, NULL, &parts[i]);
        hub__free(shard);
    }
    if (error == HUB_OK)
        error = hub__safetensors_merge(out, parts, &index, path);
    if (parts)
        for (size_t i = 0; i < index.shard_count; i++)
            hub_safetensors_info_free(parts[i]);
    hub__free(parts);
    hub__safetensors_index_free(&index);
    return error;
}

static int open_call(hctx *h,
                     hub_client *c,
                     const char *repo_id,
                     const char *path,
                     const hub_read_options *ropts,
                     const hub_header_options *hopts,
                     hub_header_options *ho)
{
    memset(h, 0, sizeof(*h));
    if (!repo_id || !path)
        return hub__error_set(HUB_EINVAL, "invalid argument: %s",
                              repo_id ? "path" : "repo_id");
    int error = hub__read_options_take(&h->o, ropts);
    if (error == HUB_OK)
        error = hub__header_options_take(ho, hopts);
    if (error < 0)
        return error;
    if ((error = hub__client_enter(c)) < 0)
        return error;
    h->c = c;
    h->repo_id = repo_id;
    h->revision = h->o.revision ? h->o.revision : "main";
    error = hub__read_check(c, repo_id, path);
    if (error < 0) {
        hub__client_leave(c);
        h->c = NULL;
    }
    return error;
}

static void close_call(hctx *h)
{
    if (h->have_q)
        hub__rq_free(&h->q);
    if (h->c)
        hub__client_leave(h->c);
}

int hub_safetensors_info_remote(hub_safetensors_info **out,
                                hub_client *c,
                                const char *repo_id,
                                const char *path,
                                const hub_read_options *ropts,
                                const hub_header_options *hopts)
{
    HUB_ASSERT_ARG(out);
    *out = NULL;
    hctx h;
    hub_header_options ho;
    int error = open_call(&h, c, repo_id, path, ropts, hopts, &ho);
    if (error < 0)
        return error;
    uint64_t cap = hub__header_st_cap(&ho);
    if (ends_with(path, ".json"))
        error = sharded(&h, out, path, cap);
    else
        error = read_one(&h, path, false, cap, NULL, out);
    close_call(&h);
    return error;
}

int hub_gguf_info_remote(hub_gguf_info **out,
                         hub_client *c,
                         const char *repo_id,
                         const char *path,
                         const hub_read_options *ropts,
                         const hub_header_options *hopts)
{
    HUB_ASSERT_ARG(out);
    *out = NULL;
    hctx h;
    hub_header_options ho;
    int error = open_call(&h, c, repo_id, path, ropts, hopts, &ho);
    if (error < 0)
        return error;
    hub__gguf_limits lim;
    hub__header_gguf_limits(&ho, &lim);
    error = read_one(&h, path, true, lim.max_header, &lim, out);
    close_call(&h);
    return error;
}
