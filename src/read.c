/* SPDX-License-Identifier: MIT */
/*
 * read.c: hub_read(), byte ranges of a repository file (reference B1).
 *
 * From the cache when the revision resolves there and holds the file (no
 * request); else one GET of the resolve URL with a Range, through the
 * request context of request.c (endpoint failover, token origins, retries,
 * cancel) with the redirect to the CDN followed (hub__meta_fetch's
 * follow_any: the token stays with its origins, https is never left).
 * The bytes stream to the caller as they arrive; a retry asks from the
 * first byte not yet delivered, and a server that ignores Range has the
 * bytes before it skipped and those after it cut. What the file is (etag,
 * size, commit) is taken from the responses that speak for the hub (they
 * carry X-Repo-Commit; a CDN's own ETag is never the file's): a change
 * between two attempts fails the read rather than splice two versions.
 */
#include "read.h"

#include "alloc.h"
#include "cache_hf.h"
#include "digest.h"
#include "hub_hf.h"
#include "path.h"
#include "str.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK (256u * 1024)
/* on_data's code for "the range is complete" (a server sending more) */
#define READ_CUT (-1000)

/* ---- options and checks -------------------------------------------------- */

int hub_read_options_init(hub_read_options *opts, unsigned int version)
{
    if (!opts)
        return hub__error_set(HUB_EINVAL, "invalid argument: opts");
    if (version == 0 || version > HUB_READ_OPTIONS_VERSION)
        return hub__error_set(HUB_EVERSION,
                              "read options version %u not supported", version);
    hub_read_options init = HUB_READ_OPTIONS_INIT;
    init.version = version;
    *opts = init;
    return HUB_OK;
}

int hub__read_options_take(hub_read_options *dst, const hub_read_options *src)
{
    hub_read_options defaults = HUB_READ_OPTIONS_INIT;
    *dst = src ? *src : defaults;
    if (dst->version == 0 || dst->version > HUB_READ_OPTIONS_VERSION)
        return hub__error_set(HUB_EVERSION,
                              "read options version %u not supported "
                              "(this library knows %d)",
                              dst->version, HUB_READ_OPTIONS_VERSION);
    if (dst->repo_type != HUB_REPO_MODEL &&
        dst->repo_type != HUB_REPO_DATASET && dst->repo_type != HUB_REPO_SPACE)
        return hub__error_set(HUB_EINVAL, "invalid repo type %d",
                              (int)dst->repo_type);
    if (dst->flags & ~(HUB_READ_VERIFY | HUB_READ_NO_CACHE))
        return hub__error_set(HUB_EINVAL, "unknown read flags %#x", dst->flags);
    if (dst->revision && strlen(dst->revision) > 256)
        return hub__error_set(HUB_EINVAL, "invalid revision: over 256 bytes");
    if (dst->revision)
        return hub__path_check_revision(dst->revision);
    return HUB_OK;
}

int hub__read_check(hub_client *c, const char *repo_id, const char *path)
{
    if (c->hub == HUB_KIND_MODELSCOPE)
        return hub__error_set(HUB_EUNSUPPORTED,
                              "remote reads are not supported on ModelScope; "
                              "download the file instead");
    int error = hub__hf_check_repo_id(repo_id);
    if (error == HUB_OK && hub__path_check_repo_path(path) < 0)
        error = hub__error_set(HUB_EINVAL,
                               "invalid path '%.200s': a relative path in "
                               "the repository, without '.', '..' or empty "
                               "parts",
                               path);
    return error;
}

static void info_reset(hub_read_info *info)
{
    memset(info, 0, sizeof(*info));
    info->size = UINT64_MAX;
}

/* [offset, end) of a file of `size` bytes (end UINT64_MAX: to its end). */
static int past_end(const char *what, uint64_t offset, uint64_t size)
{
    return hub__error_set(HUB_EINVAL,
                          "cannot read from byte %" PRIu64 " of '%s': the "
                          "file has %" PRIu64 " bytes",
                          offset, what, size);
}

/* ---- the cache ----------------------------------------------------------- */

int hub__read_cached(hub_client *c,
                     hub_repo_type type,
                     const char *repo_id,
                     const char *revision,
                     const char *path,
                     int *fd,
                     uint64_t *size,
                     char *commit)
{
    *fd = -1;
    hub__hfcache cache;
    int error =
        hub__hfcache_init(&cache, c->cache_dir, type, repo_id, c->symlinks);
    if (error < 0)
        return error;
    struct stat st;
    if (hub__hfcache_resolve(&cache, revision, commit) != HUB_OK ||
        !hub__hfcache_has_file(&cache, commit, path, &st, fd)) {
        error = HUB_ENOTCACHED;
        commit[0] = '\0';
    } else {
        *size = (uint64_t)st.st_size;
    }
    hub__hfcache_free(&cache);
    hub__error_clear();
    return error;
}

int hub__read_fd(int fd,
                 uint64_t size,
                 const char *what,
                 uint64_t offset,
                 uint64_t length,
                 hub_read_cb cb,
                 void *payload,
                 hub_read_info *info)
{
    info->size = size;
    info->from_cache = 1;
    if (offset > size)
        return past_end(what, offset, size);
    uint64_t end = length > size - offset ? size : offset + length;
    char *buf = end > offset ? hub__malloc(READ_CHUNK) : NULL;
    if (end > offset && !buf)
        return HUB_ENOMEM;
    int error = HUB_OK;
    uint64_t at = offset;
    while (at < end) {
        size_t want = end - at < READ_CHUNK ? (size_t)(end - at) : READ_CHUNK;
        ssize_t n = pread(fd, buf, want, (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            error = hub__error_set(HUB_EIO, "cannot read '%s' in the cache: %s",
                                   what, n < 0 ? strerror(errno) : "it shrank");
            break;
        }
        if (cb(buf, (size_t)n, payload) != 0) {
            error = hub__error_set(
                HUB_ECANCELLED, "read of '%s' stopped by its callback", what);
            break;
        }
        at += (uint64_t)n;
        info->bytes_read += (uint64_t)n;
    }
    hub__free(buf);
    return error;
}

/* ---- the hub ------------------------------------------------------------- */

typedef struct rd {
    hub__rq *q;
    const char *path;
    uint64_t offset;
    uint64_t end; /* exclusive; UINT64_MAX: to the end of the file */
    uint64_t delivered;
    uint64_t skip; /* bytes to drop (a server that ignored Range) */
    bool verify;
    hub_digest *digest;
    hub_read_cb cb;
    void *payload;
    hub_read_info *info;
    bool cb_stopped;
} rd;

static int changed(const rd *r, long status)
{
    return hub__error_set_http(HUB_EPROTO, status,
                               "'%s' changed on the hub while it was being "
                               "read; read it again",
                               r->path);
}

static int learn_size(rd *r, uint64_t size, long status)
{
    if (r->info->size != UINT64_MAX && r->info->size != size)
        return changed(r, status);
    r->info->size = size;
    return HUB_OK;
}

/* What a response that speaks for the hub says about the file. */
static int learn_file(rd *r, const hub_http_resp *h)
{
    if (!h->repo_commit)
        return HUB_OK; /* a CDN: its ETag is its own */
    if (hub__str_is_commit(h->repo_commit))
        memcpy(r->info->commit, h->repo_commit, 41);
    bool redirect = h->status >= 300 && h->status < 400;
    const char *raw =
        h->linked_etag ? h->linked_etag : (redirect ? NULL : h->etag);
    char *norm = raw ? hub__hf_normalize_etag(raw) : NULL;
    if (raw && !norm)
        return HUB_ENOMEM;
    int error = HUB_OK;
    if (norm && hub__str_is_etag(norm)) {
        if (r->info->etag[0] && strcmp(r->info->etag, norm) != 0)
            error = changed(r, h->status);
        else
            snprintf(r->info->etag, sizeof(r->info->etag), "%s", norm);
    }
    hub__free(norm);
    if (error == HUB_OK && h->has_linked_size)
        error = learn_size(r, h->linked_size, h->status);
    return error;
}

static int on_headers(hub_xfer *x, void *payload)
{
    rd *r = payload;
    const hub_http_resp *h = hub__xfer_resp(x);
    int error = learn_file(r, h);
    if (error < 0 || h->status < 200 || h->status >= 300)
        return error;
    uint64_t want = r->offset + r->delivered;
    bool identity =
        !h->content_encoding || hub__str_ieq(h->content_encoding, "identity");
    r->skip = 0;
    if (h->status == 206) {
        if (h->has_content_range && h->range_start != want)
            return hub__error_set_http(HUB_EPROTO, 206,
                                       "server sent bytes from %" PRIu64
                                       " when asked for %" PRIu64,
                                       h->range_start, want);
        if (h->has_range_total)
            error = learn_size(r, h->range_total, 206);
        else if (h->has_content_length && identity && r->end == UINT64_MAX)
            error = learn_size(r, want + h->content_length, 206);
    } else {
        /* Range ignored: the whole file; what was delivered is dropped */
        if (!identity)
            return hub__error_set_http(HUB_EPROTO, h->status,
                                       "server compressed '%s' (%s) although "
                                       "asked not to",
                                       r->path, h->content_encoding);
        if (h->has_content_length)
            error = learn_size(r, h->content_length, h->status);
        r->skip = want;
    }
    return error;
}

static int on_data(hub_xfer *x, const char *data, size_t len, void *payload)
{
    HUB_UNUSED(x);
    rd *r = payload;
    r->info->bytes_fetched += len;
    if (r->skip) {
        size_t drop = r->skip < len ? (size_t)r->skip : len;
        r->skip -= drop;
        data += drop;
        len -= drop;
    }
    if (len == 0)
        return HUB_OK;
    uint64_t at = r->offset + r->delivered;
    bool cut = false;
    if (r->end != UINT64_MAX && len > r->end - at) {
        len = (size_t)(r->end - at);
        cut = true;
    }
    uint64_t size = r->info->size;
    if (size != UINT64_MAX && len > size - at)
        return hub__error_set(
            HUB_EPROTO, "server sent more than the %" PRIu64 " bytes of '%s'",
            size, r->path);
    if (r->verify && !r->digest) {
        hub_digest_kind kind = hub__digest_kind_for_etag(r->info->etag);
        if (kind == HUB_DIGEST_NONE || size == UINT64_MAX)
            return hub__error_set(HUB_EPROTO,
                                  "%s did not send the %s of '%s' to verify "
                                  "it against",
                                  r->q->c->shown[r->q->ep],
                                  kind == HUB_DIGEST_NONE ? "etag" : "size",
                                  r->path);
        int error = hub__digest_new(&r->digest, kind, size);
        if (error < 0)
            return error;
    }
    if (r->digest) {
        int error = hub__digest_update(r->digest, data, len);
        if (error < 0)
            return error;
    }
    if (len && r->cb(data, len, r->payload) != 0) {
        r->cb_stopped = true;
        return hub__error_set(HUB_ECANCELLED,
                              "read of '%s' stopped by its callback", r->path);
    }
    r->delivered += len;
    r->info->bytes_read += len;
    return cut ? READ_CUT : HUB_OK;
}

static char *build_resolve(const hub__rq *q, const void *arg)
{
    return hub__hf_resolve_url(&q->repo, q->revision, arg);
}

/* Everything asked for is there (or the end of the file reached). */
static bool complete(const rd *r)
{
    uint64_t at = r->offset + r->delivered;
    return at == r->end || (r->info->size != UINT64_MAX && at >= r->info->size);
}

/* The error of a response that is neither data nor followed. */
static int http_error(rd *r)
{
    hub__rq *q = r->q;
    const hub_http_resp *h = hub__xfer_resp(q->meta);
    const char *url = hub__xfer_url(q->meta);
    if (h->status == 416) {
        uint64_t at = r->offset + r->delivered;
        if (h->has_range_total) {
            int error = learn_size(r, h->range_total, 416);
            if (error < 0)
                return error;
            if (at == h->range_total)
                return HUB_OK; /* nothing left: an empty read */
            return past_end(r->path, r->offset, h->range_total);
        }
        return hub__error_set_http(HUB_EINVAL, 416,
                                   "cannot read from byte %" PRIu64
                                   " of '%s': past its end",
                                   r->offset, r->path);
    }
    if (h->status >= 300 && h->status < 400)
        return hub__error_set_http(HUB_EPROTO, h->status,
                                   "too many redirects reading '%s'", r->path);
    if (!h->repo_commit && !hub__http_same_origin(url, q->repo.endpoint)) {
        char *host = hub__http_host(url);
        int error = hub__error_set_http(HUB_EHTTP, h->status,
                                        "download server %s answered HTTP %ld "
                                        "for '%s'",
                                        host ? host : "?", h->status, r->path);
        hub__free(host);
        return error;
    }
    return hub__rq_error(q, r->path);
}

int hub__read_remote(hub__rq *q,
                     const char *path,
                     uint64_t offset,
                     uint64_t length,
                     unsigned int flags,
                     hub_read_cb cb,
                     void *payload,
                     hub_read_info *info)
{
    rd r;
    memset(&r, 0, sizeof(r));
    r.q = q;
    r.path = path;
    r.offset = offset;
    r.end = length > UINT64_MAX - offset ? UINT64_MAX : offset + length;
    r.verify = (flags & HUB_READ_VERIFY) != 0;
    r.cb = cb;
    r.payload = payload;
    r.info = info;
    int error = HUB_OK;
    bool reresolved = false;
    /* a response that ends early without an error (a 206 shorter than
     * asked) is asked again while it brings bytes */
    for (int round = 0;; round++) {
        uint64_t before = r.delivered;
        hub__meta_req req = {0};
        req.on_headers = on_headers;
        req.on_data = on_data;
        req.payload = &r;
        req.ranged = true;
        req.range_start = offset;
        req.range_end = r.end == UINT64_MAX ? UINT64_MAX : r.end - 1;
        req.delivered = &r.delivered;
        req.follow_any = true;
        error = hub__rq_failover(q, build_resolve, path, &req);
        if (error == READ_CUT) {
            hub__error_clear();
            error = HUB_OK;
        }
        if (error < 0)
            break;
        long status = hub__xfer_resp(q->meta)->status;
        if (status < 200 || status >= 300) {
            /* an expired CDN link: the hub hands out a fresh one */
            if (status == 403 && !reresolved &&
                !hub__xfer_resp(q->meta)->repo_commit &&
                !hub__http_same_origin(hub__xfer_url(q->meta),
                                       q->repo.endpoint)) {
                reresolved = true;
                continue;
            }
            error = http_error(&r);
            break;
        }
        if (complete(&r))
            break;
        if (r.delivered == before || round >= q->c->max_retries) {
            error = hub__error_set_http(HUB_ENET, status,
                                        "'%s': the server ended the answer "
                                        "after %" PRIu64 " bytes",
                                        path, offset + r.delivered);
            break;
        }
    }
    /* an empty file (a 416 for "bytes=0-") may come without an etag:
     * nothing was delivered, there is nothing to check */
    hub_digest_kind empty_kind = hub__digest_kind_for_etag(info->etag);
    if (error == HUB_OK && r.verify && !r.digest && r.delivered == 0 &&
        empty_kind != HUB_DIGEST_NONE)
        error = hub__digest_new(&r.digest, empty_kind, 0);
    if (error == HUB_OK && r.digest) {
        char hex[65] = "";
        if (error == HUB_OK)
            error = hub__digest_final(r.digest, hex);
        if (error == HUB_OK && strcmp(hex, info->etag) != 0)
            error = hub__error_set(HUB_ECHECKSUM,
                                   "'%s' of %s '%s': the %" PRIu64
                                   " bytes read hash to %s, the hub says %s",
                                   path, hub__repo_type_name(q->repo.type),
                                   q->repo.id, r.delivered, hex, info->etag);
    }
    hub__digest_free(r.digest);
    return error;
}

/* ---- entry points -------------------------------------------------------- */

int hub_read(hub_read_info *info_out,
             hub_client *c,
             const char *repo_id,
             const char *path,
             uint64_t offset,
             uint64_t length,
             const hub_read_options *opts,
             hub_read_cb on_data_cb,
             void *payload)
{
    hub_read_info local;
    hub_read_info *info = info_out ? info_out : &local;
    info_reset(info);
    if (!repo_id || !path || !on_data_cb)
        return hub__error_set(HUB_EINVAL, "invalid argument: %s",
                              !repo_id ? "repo_id"
                              : !path  ? "path"
                                       : "on_data");
    hub_read_options o;
    int error = hub__read_options_take(&o, opts);
    if (error < 0)
        return error;
    if ((o.flags & HUB_READ_VERIFY) && (offset != 0 || length != UINT64_MAX))
        return hub__error_set(HUB_EINVAL,
                              "verifying needs the whole file (offset 0, "
                              "length UINT64_MAX)");
    if ((error = hub__client_enter(c)) < 0)
        return error;
    const char *revision = o.revision ? o.revision : "main";
    error = hub__read_check(c, repo_id, path);
    int fd = -1;
    if (error == HUB_OK && !(o.flags & HUB_READ_NO_CACHE)) {
        uint64_t size = 0;
        if (hub__read_cached(c, o.repo_type, repo_id, revision, path, &fd,
                             &size, info->commit) == HUB_OK) {
            error = hub__read_fd(fd, size, path, offset, length, on_data_cb,
                                 payload, info);
            close(fd);
            hub__client_leave(c);
            return error;
        }
    }
    if (error == HUB_OK && c->offline)
        error = hub__error_set(HUB_ENOTCACHED,
                               "'%s' of %s '%s' at revision '%s' is not in the "
                               "cache %s and the network is off "
                               "(HF_HUB_OFFLINE=1)",
                               path, hub__repo_type_name(o.repo_type), repo_id,
                               revision, c->cache_dir);
    if (error == HUB_OK && length > 0) {
        hub__rq q;
        error = hub__rq_init(&q, c, o.repo_type, repo_id, "read");
        q.revision = revision;
        if (error == HUB_OK)
            error = hub__read_remote(&q, path, offset, length, o.flags,
                                     on_data_cb, payload, info);
        hub__rq_free(&q);
    }
    hub__client_leave(c);
    return error;
}

typedef struct into_buf {
    char *buf;
    size_t len, cap;
} into_buf;

static int to_buf(const void *data, size_t len, void *payload)
{
    into_buf *b = payload;
    if (len > b->cap - b->len)
        return -1; /* cannot happen: reads never pass their range */
    memcpy(b->buf + b->len, data, len);
    b->len += len;
    return 0;
}

int hub_read_buf(size_t *got,
                 void *buf,
                 hub_client *c,
                 const char *repo_id,
                 const char *path,
                 uint64_t offset,
                 size_t length,
                 const hub_read_options *opts)
{
    if (got)
        *got = 0;
    if (!got || (!buf && length))
        return hub__error_set(HUB_EINVAL, "invalid argument: %s",
                              got ? "buf" : "got");
    into_buf b = {buf, 0, length};
    int error =
        hub_read(NULL, c, repo_id, path, offset, length, opts, to_buf, &b);
    *got = b.len;
    return error;
}
