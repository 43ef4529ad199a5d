/* SPDX-License-Identifier: MIT */
/* engine.c: fetch files over one curl multi handle. */
#include "engine.h"

#include "alloc.h"
#include "path.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_HOPS 10
#define MAX_RERESOLVES 3
#define MAX_RESTARTS 1
#define HASH_CHUNK (1024 * 1024)
#define HASH_BUDGET_PER_TURN (32u * 1024 * 1024)
#define LOCK_RETRY_MS 100
#define LOCK_LOG_MS 10000
#define POLL_MS 100

enum fetch_state { S_PENDING, S_LOCKWAIT, S_RUNNING, S_DONE, S_FAILED };

struct hub__part {
    hub__fetch *f;
    uint64_t start, end; /* [start, end) of the file */
    uint64_t done;       /* bytes written from start */
    hub_xfer *x;         /* running transfer, or NULL */
    char *url;           /* URL of the current request (hop) */
    bool token;          /* send the token on the current request */
    int hops;
    int attempts;           /* consecutive failed attempts */
    uint64_t attempt_start; /* `done` when the attempt began */
    int64_t retry_at_ms;    /* 0: ready to start */
    uint64_t skip;          /* body bytes to drop (a 200 to a Range) */
    bool complete;
};

typedef struct engine {
    const hub__engine_config *cfg;
    hub__fetch *items;
    size_t count;
    const hub__storage_ops *ops;
    void *ctx;
    size_t next; /* next item to start */
    size_t active_files;
    int active_xfers;
    hub_xfer **pool; /* idle easy handles, for reuse */
    size_t pool_count;
    size_t pool_cap;
    unsigned char *hashbuf;
    int error;              /* first failure */
    hub__error_saved saved; /* its message */
} engine;

int64_t hub__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool is_hub_origin(const engine *e, const char *url)
{
    return hub__http_same_origin(url, e->cfg->repo->endpoint);
}

static long backoff_ms(long base, int attempt)
{
    long d = base;
    for (int i = 1; i < attempt && d < 8000; i++)
        d *= 2;
    if (d > 8000)
        d = 8000;
    /* +-25 % jitter so parallel transfers do not retry in lockstep */
    long jitter = d / 4;
    if (jitter > 0)
        d += (long)(rand() % (2 * jitter + 1)) - jitter;
    return d;
}

/* ---- easy-handle pool ---------------------------------------------------- */

static int get_xfer(engine *e, hub_xfer **out)
{
    if (e->pool_count) {
        *out = e->pool[--e->pool_count];
        return HUB_OK;
    }
    return hub__xfer_new(out, e->cfg->http);
}

static void put_xfer(engine *e, hub_xfer *x)
{
    if (!x)
        return;
    hub__xfer_abort(x);
    if (e->pool_count == e->pool_cap) {
        size_t cap = e->pool_cap ? e->pool_cap * 2 : 16;
        hub_xfer **p = hub__reallocarray(e->pool, cap, sizeof(*p));
        if (!p) {
            hub__xfer_free(x);
            hub__error_clear();
            return;
        }
        e->pool = p;
        e->pool_cap = cap;
    }
    e->pool[e->pool_count++] = x;
}

/* ---- per-file bookkeeping ------------------------------------------------ */

static uint64_t file_done_bytes(const hub__fetch *f)
{
    uint64_t n = 0;
    for (size_t i = 0; i < f->nparts; i++)
        n += f->parts[i].done;
    return n;
}

/* End of the prefix [0, n) that is fully on disk. */
static uint64_t contiguous_end(const hub__fetch *f)
{
    uint64_t end = 0;
    for (size_t i = 0; i < f->nparts; i++) {
        const hub__part *p = &f->parts[i];
        if (p->start != end)
            break;
        end = p->start + p->done;
        if (p->start + p->done < p->end)
            break;
    }
    return end;
}

static void report(engine *e, hub__fetch *f, hub_phase phase)
{
    bool whole = phase == HUB_PHASE_DONE || phase == HUB_PHASE_CACHED;
    uint64_t net = f->bytes_fetched - f->bytes_reported;
    f->bytes_reported = f->bytes_fetched;
    hub__progress_file(e->cfg->progress, f->index, phase,
                       whole ? f->size : file_done_bytes(f), net, f->served_by);
}

static void stop_parts(engine *e, hub__fetch *f)
{
    for (size_t i = 0; i < f->nparts; i++) {
        hub__part *p = &f->parts[i];
        if (p->x) {
            put_xfer(e, p->x);
            p->x = NULL;
            e->active_xfers--;
        }
    }
}

static void close_file(hub__fetch *f)
{
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
}

static void free_parts(hub__fetch *f)
{
    for (size_t i = 0; i < f->nparts; i++)
        hub__free(f->parts[i].url);
    hub__free(f->parts);
    f->parts = NULL;
    f->nparts = 0;
}

void hub__fetch_clear(hub__fetch *f)
{
    close_file(f);
    free_parts(f);
    hub__digest_free(f->hash);
    f->hash = NULL;
    hub__free(f->temp_base);
    hub__free(f->temp_path);
    hub__free(f->lock_path);
    hub__free(f->data_url);
    hub__free(f->served_by);
    f->temp_base = f->temp_path = f->lock_path = NULL;
    f->data_url = f->served_by = NULL;
}

/* The item is finished, one way or the other. */
static void finish(engine *e, hub__fetch *f, int result)
{
    stop_parts(e, f);
    close_file(f);
    if (f->state == S_RUNNING || f->state == S_LOCKWAIT)
        e->active_files--;
    f->result = result;
    f->state = result < 0 ? S_FAILED : S_DONE;
    if (e->ops->release)
        e->ops->release(f, e->ctx);
    if (result < 0) {
        if (e->error == HUB_OK && result != HUB_ECANCELLED) {
            e->error = result;
            /* name the file and repo unless the message already does */
            if (!strstr(hub_error_last()->message, f->path))
                hub__error_prefix("%s '%s', file '%s'",
                                  hub__repo_type_name(e->cfg->repo->type),
                                  e->cfg->repo->id, f->path);
            /* keep the message: later work may overwrite the thread's */
            hub__error_save(&e->saved);
        }
        report(e, f, HUB_PHASE_FAILED);
    } else {
        report(e, f,
               result == HUB__FETCH_SKIP ? HUB_PHASE_CACHED : HUB_PHASE_DONE);
    }
}

/* ---- data path -------------------------------------------------------------
 */

static int
write_all(hub__fetch *f, const char *data, size_t len, uint64_t offset)
{
    while (len) {
        ssize_t n = pwrite(f->fd, data, len, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return hub__path_error(errno, "cannot write", f->temp_path);
        }
        data += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return HUB_OK;
}

/* Hash what is on disk beyond the digest's frontier, up to `budget`. */
static int catch_up(engine *e, hub__fetch *f, uint64_t budget)
{
    uint64_t end = contiguous_end(f);
    while (f->hashed < end && budget) {
        uint64_t want = end - f->hashed;
        if (want > HASH_CHUNK)
            want = HASH_CHUNK;
        if (want > budget)
            want = budget;
        ssize_t n = pread(f->fd, e->hashbuf, (size_t)want, (off_t)f->hashed);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return hub__path_error(n < 0 ? errno : EIO, "cannot read back",
                                   f->temp_path);
        int error = hub__digest_update(f->hash, e->hashbuf, (size_t)n);
        if (error < 0)
            return error;
        f->hashed += (uint64_t)n;
        budget -= (uint64_t)n;
    }
    return HUB_OK;
}

static int on_part_headers(hub_xfer *x, void *payload)
{
    hub__part *p = payload;
    hub__fetch *f = p->f;
    const hub_http_resp *r = hub__xfer_resp(x);
    uint64_t want = p->start + p->done;
    p->skip = 0;
    if (r->status == 206) {
        if (r->has_range_total && r->range_total != f->size)
            return hub__error_set_http(HUB_EPROTO, 206,
                                       "server reports size %llu for '%s', "
                                       "expected %llu: the file changed",
                                       (unsigned long long)r->range_total,
                                       f->path, (unsigned long long)f->size);
        /* hf-mirror.com may omit Content-Range: trust it served our range */
        if (r->has_content_range && r->range_start != want)
            return hub__error_set_http(HUB_EPROTO, 206,
                                       "server sent bytes from %llu of '%s' "
                                       "when asked for %llu",
                                       (unsigned long long)r->range_start,
                                       f->path, (unsigned long long)want);
    } else if (r->status == 200) {
        /* Range ignored: the body starts at 0. Drop what we already have. */
        bool identity = !r->content_encoding ||
                        hub__str_ieq(r->content_encoding, "identity");
        if (identity && r->has_content_length && r->content_length != f->size)
            return hub__error_set_http(HUB_EPROTO, 200,
                                       "server sent %llu bytes for '%s', "
                                       "expected %llu: the file changed",
                                       (unsigned long long)r->content_length,
                                       f->path, (unsigned long long)f->size);
        if (!identity)
            return hub__error_set_http(HUB_EPROTO, 200,
                                       "server compressed '%s' (%s) although "
                                       "asked not to",
                                       f->path, r->content_encoding);
        p->skip = want;
    }
    return HUB_OK;
}

static int
on_part_data(hub_xfer *x, const char *data, size_t len, void *payload)
{
    HUB_UNUSED(x);
    hub__part *p = payload;
    hub__fetch *f = p->f;
    size_t net = len;
    if (p->skip) {
        size_t drop = p->skip < len ? (size_t)p->skip : len;
        p->skip -= drop;
        data += drop;
        len -= drop;
    }
    if (len == 0)
        return HUB_OK;
    uint64_t off = p->start + p->done;
    if (len > p->end - off)
        return hub__error_set(HUB_EPROTO,
                              "server sent more than the %llu bytes of '%s'",
                              (unsigned long long)f->size, f->path);
    int error = write_all(f, data, len, off);
    if (error < 0)
        return error;
    /* the usual case: bytes arrive right at the digest's frontier */
    if (off == f->hashed) {
        error = hub__digest_update(f->hash, data, len);
        if (error < 0)
            return error;
        f->hashed += len;
    }
    p->done += len;
    f->bytes_fetched += net;
    return HUB_OK;
}

/* ---- starting transfers ---------------------------------------------------
 */

static int start_part(engine *e, hub__part *p)
{
    hub__fetch *f = p->f;
    if (!p->url) {
        p->url = hub__strdup(f->data_url ? f->data_url : f->url);
        if (!p->url)
            return HUB_ENOMEM;
        p->hops = 0;
    }
    p->token = is_hub_origin(e, p->url);
    hub_xfer *x = NULL;
    int error = get_xfer(e, &x);
    if (error < 0)
        return error;
    hub_xfer_req req = {0};
    req.url = p->url;
    req.token = p->token ? e->cfg->token : NULL;
    req.ranged = true; /* always: CDNs refuse un-ranged GETs over 50 GB */
    req.range_start = p->start + p->done;
    req.range_end = p->end - 1;
    req.on_headers = on_part_headers;
    req.on_data = on_part_data;
    req.payload = p;
    error = hub__xfer_start(x, &req);
    if (error < 0) {
        put_xfer(e, x);
        return error;
    }
    hub__xfer_set_tag(x, p);
    p->x = x;
    p->attempt_start = p->done;
    e->active_xfers++;
    return HUB_OK;
}

/* Open (or resume) the temp file and lay out the parts. */
static int open_temp(engine *e, hub__fetch *f)
{
    HUB_UNUSED(e);
    f->temp_path = hub__aprintf("%s.incomplete", f->temp_base);
    if (!f->temp_path)
        return HUB_ENOMEM;
    int error = hub__mkdirs_parent(f->temp_path);
    if (error < 0)
        return error;
    f->fd = open(f->temp_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (f->fd < 0)
        return hub__path_error(errno, "cannot create", f->temp_path);
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return hub__path_error(errno, "cannot stat", f->temp_path);
    uint64_t have = (uint64_t)st.st_size;
    if (have > f->size) {
        /* longer than the blob: not a prefix of it, start over */
        if (ftruncate(f->fd, 0) != 0)
            return hub__path_error(errno, "cannot truncate", f->temp_path);
        have = 0;
    }
    /* Reserve the space now: a full disk is reported before the first
     * byte, not after minutes of downloading. KEEP_SIZE keeps the file a
     * prefix of the blob. */
    if (f->size > have) {
        int rc = fallocate(f->fd, FALLOC_FL_KEEP_SIZE, (off_t)have,
                           (off_t)(f->size - have));
        if (rc != 0 && (errno == ENOSPC || errno == EFBIG || errno == EDQUOT))
            return hub__path_error(errno, "no room for", f->temp_path);
    }
    f->resumed = have;
    f->hashed = 0;
    hub__digest_free(f->hash);
    f->hash = NULL;
    error = hub__digest_new(
        &f->hash, f->digest == HUB_DIGEST_NONE ? HUB_DIGEST_SHA256 : f->digest,
        f->size);
    if (error < 0)
        return error;
    free_parts(f);
    f->parts = hub__calloc(1, sizeof(*f->parts));
    if (!f->parts)
        return HUB_ENOMEM;
    f->nparts = 1;
    f->parts[0] = (hub__part){.f = f, .start = 0, .end = f->size, .done = have};
    if (have == f->size)
        f->parts[0].complete = true;
    if (have)
        hub__log(e->cfg->log, HUB_LOG_INFO,
                 "resuming '%s' at %llu of %llu bytes", f->path,
                 (unsigned long long)have, (unsigned long long)f->size);
    return HUB_OK;
}

static int verify_and_commit(engine *e, hub__fetch *f)
{
    report(e, f, HUB_PHASE_VERIFY);
    int error = catch_up(e, f, UINT64_MAX);
    if (error < 0)
        return error;
    char got[65];
    if ((error = hub__digest_final(f->hash, got)) < 0)
        return error;
    hub__digest_free(f->hash);
    f->hash = NULL;
    if (f->digest != HUB_DIGEST_NONE && strcmp(got, f->etag) != 0) {
        const char *kind =
            f->digest == HUB_DIGEST_SHA256 ? "sha256" : "git sha1";
        if (f->restarts < MAX_RESTARTS) {
            hub__log(e->cfg->log, HUB_LOG_WARN,
                     "%s of '%s' is %s, expected %s: downloading it again",
                     kind, f->path, got, f->etag);
            f->restarts++;
            if (ftruncate(f->fd, 0) != 0)
                return hub__path_error(errno, "cannot truncate", f->temp_path);
            close_file(f);
            hub__free(f->temp_path);
            f->temp_path = NULL;
            if ((error = open_temp(e, f)) < 0)
                return error;
            return 1; /* running again */
        }
        /* never leave bad bytes where a later run would resume from them */
        close_file(f);
        unlink(f->temp_path);
        return hub__error_set(HUB_ECHECKSUM,
                              "checksum mismatch: %s is %s, expected %s; "
                              "the download was discarded and the cache left "
                              "as it was",
                              kind, got, f->etag);
    }
    if (fdatasync(f->fd) != 0 && errno != EINVAL)
        return hub__path_error(errno, "cannot flush", f->temp_path);
    close_file(f);
    return e->ops->commit(f, e->ctx);
}

/* ---- retries and completion -----------------------------------------------
 */

static bool part_retry(engine *e, hub__part *p, long delay_ms)
{
    if (p->done > p->attempt_start)
        p->attempts = 0; /* it made progress: a fresh budget */
    p->attempts++;
    if (p->attempts > e->cfg->max_retries)
        return false;
    long d = delay_ms >= 0 ? delay_ms
                           : backoff_ms(e->cfg->retry_base_ms, p->attempts);
    p->retry_at_ms = hub__now_ms() + d;
    hub__log(e->cfg->log, HUB_LOG_INFO, "'%s': %s; retry %d of %d in %.1f s",
             p->f->path, hub_error_last()->message, p->attempts,
             e->cfg->max_retries, (double)d / 1000.0);
    return true;
}

static void restart_from_hub(hub__part *p)
{
    hub__free(p->url);
    p->url = NULL;
}

/* Map a failed HTTP response of a file transfer to an error. */
static int file_http_error(engine *e, hub__part *p, const hub_http_resp *r)
{
    hub__fetch *f = p->f;
    if (is_hub_origin(e, p->url)) {
        hub__what what = {e->cfg->revision, f->path,
                          e->cfg->token && e->cfg->token[0]};
        return e->cfg->backend->map_error(e->cfg->repo, &what, r,
                                          hub__xfer_body(p->x));
    }
    char *host = hub__http_host(p->url);
    int error = hub__error_set_http(HUB_EHTTP, r->status,
                                    "download server %s answered HTTP %ld",
                                    host ? host : "?", r->status);
    hub__free(host);
    return error;
}

/* A transfer of part `p` finished with `result`. */
static void part_done(engine *e, hub__part *p, int result)
{
    hub__fetch *f = p->f;
    hub_xfer *x = p->x;
    const hub_http_resp *r = hub__xfer_resp(x);
    int error = HUB_OK;
    e->active_xfers--;

    if (result < 0) {
        bool transient = result == HUB_ENET || result == HUB_ETIMEOUT;
        p->x = NULL;
        put_xfer(e, x);
        if (transient && part_retry(e, p, -1)) {
            restart_from_hub(p);
            if (f->data_url) {
                p->url = hub__strdup(f->data_url);
                if (!p->url)
                    finish(e, f, HUB_ENOMEM);
            }
            return;
        }
        finish(e, f, result);
        return;
    }

    long st = r->status;
    if (st >= 300 && st < 400) {
        if (!r->location) {
            error = hub__error_set_http(HUB_EPROTO, st,
                                        "redirect without a Location");
        } else if (++p->hops > MAX_HOPS) {
            error = hub__error_set_http(HUB_EPROTO, st,
                                        "more than %d redirects", MAX_HOPS);
        } else {
            if (is_hub_origin(e, p->url) && !f->served_by) {
                f->served_by = hub__strdup(e->cfg->repo->endpoint);
                if (!f->served_by)
                    error = HUB_ENOMEM;
            }
            char *next = hub__strdup(r->location);
            if (!next)
                error = HUB_ENOMEM;
            else {
                hub__free(p->url);
                p->url = next;
            }
        }
        p->x = NULL;
        put_xfer(e, x);
        if (error < 0)
            finish(e, f, error);
        else if ((error = start_part(e, p)) < 0)
            finish(e, f, error);
        return;
    }
    if (st >= 200 && st < 300) {
        if (!f->served_by)
            f->served_by = hub__strdup(e->cfg->repo->endpoint);
        if (!is_hub_origin(e, p->url) && !f->data_url)
            f->data_url = hub__strdup(p->url);
        p->x = NULL;
        put_xfer(e, x);
        if (p->start + p->done < p->end) {
            hub__error_set(HUB_ENET,
                           "connection closed after %llu of %llu bytes",
                           (unsigned long long)(p->start + p->done),
                           (unsigned long long)p->end);
            if (part_retry(e, p, -1)) {
                hub__free(p->url);
                p->url = NULL;
                return;
            }
            finish(e, f, HUB_ENET);
            return;
        }
        p->complete = true;
        return;
    }
    /* An expired signed URL: go back to the hub for a fresh one. */
    if (st == 403 && !is_hub_origin(e, p->url) &&
        f->reresolves < MAX_RERESOLVES) {
        f->reresolves++;
        hub__log(e->cfg->log, HUB_LOG_INFO,
                 "'%s': download link refused (HTTP 403), asking the hub "
                 "for a new one",
                 f->path);
        hub__free(f->data_url);
        f->data_url = NULL;
        restart_from_hub(p);
        p->x = NULL;
        put_xfer(e, x);
        return;
    }
    error = file_http_error(e, p, r);
    if (hub__status_retryable(st)) {
        long wait = r->ratelimit_reset >= 0 ? r->ratelimit_reset * 1000
                    : r->retry_after >= 0   ? r->retry_after * 1000
                                            : -1;
        p->x = NULL;
        put_xfer(e, x);
        if (part_retry(e, p, wait)) {
            restart_from_hub(p);
            return;
        }
        finish(e, f, error);
        return;
    }
    p->x = NULL;
    put_xfer(e, x);
    finish(e, f, error);
}

/* ---- scheduling -------------------------------------------------------------
 */

static void start_item(engine *e, hub__fetch *f, int64_t now)
{
    int rc = e->ops->prepare(f, e->ctx);
    if (rc == HUB__LOCK_BUSY) {
        if (f->state == S_PENDING) {
            f->lock_since_ms = now;
            f->lock_logged_ms = now;
            e->active_files++;
            f->state = S_LOCKWAIT;
        }
        long limit = e->cfg->lock_timeout_ms;
        if (limit >= 0 && now - f->lock_since_ms >= limit) {
            finish(e, f,
                   hub__error_set(HUB_ELOCKED,
                                  "waited %.0f s for the lock '%s' held by "
                                  "another process; if no download is "
                                  "running, that process is gone and the "
                                  "next attempt will get it",
                                  (double)limit / 1000.0,
                                  f->lock_path ? f->lock_path : "?"));
            return;
        }
        if (now - f->lock_logged_ms >= LOCK_LOG_MS) {
            f->lock_logged_ms = now;
            hub__log(e->cfg->log, HUB_LOG_INFO,
                     "still waiting for the lock '%s' (another process is "
                     "downloading '%s')",
                     f->lock_path ? f->lock_path : "?", f->path);
        }
        f->wait_until_ms = now + LOCK_RETRY_MS;
        return;
    }
    if (f->state == S_PENDING)
        e->active_files++;
    f->state = S_RUNNING;
    if (rc == HUB__FETCH_SKIP || rc < 0) {
        finish(e, f, rc);
        return;
    }
    int error = open_temp(e, f);
    if (error < 0) {
        finish(e, f, error);
        return;
    }
    report(e, f, HUB_PHASE_DOWNLOAD);
}

/* Start what can start: new files, idle parts whose backoff expired. */
static void schedule(engine *e, int64_t now)
{
    for (size_t i = 0; i < e->count; i++) {
        hub__fetch *f = &e->items[i];
        if (f->state == S_LOCKWAIT && now >= f->wait_until_ms)
            start_item(e, f, now);
    }
    while (e->error == HUB_OK && e->next < e->count &&
           e->active_files < (size_t)e->cfg->max_files) {
        hub__fetch *f = &e->items[e->next++];
        start_item(e, f, now);
    }
    for (size_t i = 0; i < e->count && e->error == HUB_OK; i++) {
        hub__fetch *f = &e->items[i];
        if (f->state != S_RUNNING)
            continue;
        bool all_complete = true;
        for (size_t k = 0; k < f->nparts && f->state == S_RUNNING; k++) {
            hub__part *p = &f->parts[k];
            if (p->complete)
                continue;
            all_complete = false;
            if (p->x || now < p->retry_at_ms ||
                e->active_xfers >= e->cfg->max_connections)
                continue;
            p->retry_at_ms = 0;
            int error = start_part(e, p);
            if (error < 0)
                finish(e, f, error);
        }
        if (f->state != S_RUNNING)
            continue;
        int error = catch_up(e, f, HASH_BUDGET_PER_TURN);
        if (error < 0) {
            finish(e, f, error);
            continue;
        }
        if (all_complete) {
            error = verify_and_commit(e, f);
            if (error == 1)
                report(e, f, HUB_PHASE_DOWNLOAD);
            else
                finish(e, f, error);
        }
    }
}

static int64_t next_timer(const engine *e, int64_t now)
{
    int64_t soonest = now + POLL_MS;
    for (size_t i = 0; i < e->count; i++) {
        const hub__fetch *f = &e->items[i];
        if (f->state == S_LOCKWAIT && f->wait_until_ms < soonest)
            soonest = f->wait_until_ms;
        if (f->state != S_RUNNING)
            continue;
        for (size_t k = 0; k < f->nparts; k++) {
            const hub__part *p = &f->parts[k];
            if (!p->x && !p->complete && p->retry_at_ms &&
                p->retry_at_ms < soonest)
                soonest = p->retry_at_ms;
        }
    }
    return soonest;
}

static bool all_finished(const engine *e)
{
    if (e->next < e->count && e->error == HUB_OK)
        return false;
    for (size_t i = 0; i < e->count; i++)
        if (e->items[i].state == S_RUNNING || e->items[i].state == S_LOCKWAIT)
            return false;
    return true;
}

static void abort_all(engine *e, int code)
{
    for (size_t i = 0; i < e->count; i++) {
        hub__fetch *f = &e->items[i];
        if (f->state == S_RUNNING || f->state == S_LOCKWAIT) {
            stop_parts(e, f);
            close_file(f);
            e->active_files--;
            f->result = code;
            f->state = S_FAILED;
            if (e->ops->release)
                e->ops->release(f, e->ctx);
        }
    }
}

int hub__engine_run(const hub__engine_config *config,
                    hub__fetch *items,
                    size_t count,
                    const hub__storage_ops *ops,
                    void *ctx)
{
    engine e = {0};
    e.cfg = config;
    e.items = items;
    e.count = count;
    e.ops = ops;
    e.ctx = ctx;
    int error = HUB_OK;
    e.hashbuf = hub__malloc(HASH_CHUNK);
    if (!e.hashbuf)
        return HUB_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        items[i].state = S_PENDING;
        items[i].fd = -1;
        items[i].result = HUB_OK;
    }
    while (!all_finished(&e)) {
        if (hub__progress_cancelled(config->progress)) {
            abort_all(&e, HUB_ECANCELLED);
            e.error = hub__error_set(HUB_ECANCELLED,
                                     "download cancelled; run it again to "
                                     "resume");
            break;
        }
        int64_t now = hub__now_ms();
        schedule(&e, now);
        if (e.error != HUB_OK) {
            abort_all(&e, e.error);
            break;
        }
        if (all_finished(&e))
            break;
        int64_t wake = next_timer(&e, now);
        long wait = wake > now ? (long)(wake - now) : 0;
        if ((error = hub__http_poll(config->http, wait)) < 0) {
            hub__error_save(&e.saved);
            abort_all(&e, error);
            e.error = error;
            break;
        }
        hub_xfer *x;
        int result;
        while ((x = hub__http_next_done(config->http, &result)) != NULL) {
            hub__part *p = hub__xfer_tag(x);
            if (p && p->x == x)
                part_done(&e, p, result);
        }
        /* progress between callbacks: bytes moved in this turn */
        for (size_t i = 0; i < count; i++)
            if (items[i].state == S_RUNNING)
                report(&e, &items[i], HUB_PHASE_DOWNLOAD);
    }
    if (e.error != HUB_OK && e.error != HUB_ECANCELLED)
        hub__error_restore(&e.saved);
    for (size_t i = 0; i < e.pool_count; i++)
        hub__xfer_free(e.pool[i]);
    hub__free(e.pool);
    hub__free(e.hashbuf);
    return e.error;
}

/* ---- metadata requests ------------------------------------------------------
 */

static bool hub_host(const char *url, const char *endpoint)
{
    if (hub__http_same_origin(url, endpoint))
        return true;
    char *host = hub__http_host(url);
    bool known = host && (strcmp(host, "huggingface.co") == 0 ||
                          strcmp(host, "hf.co") == 0 ||
                          strcmp(host, "hub-ci.huggingface.co") == 0);
    hub__free(host);
    return known;
}

/* Sleep `ms`, waking early if the download is cancelled. */
static int wait_ms(hub__progress *progress, long ms)
{
    int64_t until = hub__now_ms() + ms;
    while (hub__now_ms() < until) {
        if (hub__progress_cancelled(progress))
            return hub__error_set(HUB_ECANCELLED, "download cancelled");
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return HUB_OK;
}

int hub__meta_fetch(hub_xfer *x, hub_http *http, const hub__meta_req *req)
{
    char *url = hub__strdup(req->url);
    char *origin = hub__strdup(req->url);
    int error = (url && origin) ? HUB_OK : HUB_ENOMEM;
    int attempt = 0, hops = 0;
    while (error == HUB_OK) {
        hub_xfer_req xr = {0};
        xr.head = req->head;
        xr.url = url;
        xr.token = hub__http_same_origin(url, origin) ? req->token : NULL;
        xr.body_sink = req->body;
        if (req->body)
            hub__buf_reset(req->body);
        if ((error = hub__xfer_start(x, &xr)) < 0)
            break;
        int result = HUB_OK;
        hub_xfer *done = NULL;
        while (!done) {
            if (hub__progress_cancelled(req->progress)) {
                hub__xfer_abort(x);
                error = hub__error_set(HUB_ECANCELLED, "download cancelled");
                break;
            }
            if ((error = hub__http_poll(http, POLL_MS)) < 0)
                break;
            hub_xfer *d;
            while ((d = hub__http_next_done(http, &result)) != NULL)
                if (d == x)
                    done = d;
        }
        if (error < 0)
            break;
        const hub_http_resp *r = hub__xfer_resp(x);
        bool transient = result == HUB_ENET || result == HUB_ETIMEOUT ||
                         (result == HUB_OK && hub__status_retryable(r->status));
        if (transient && attempt < req->max_retries) {
            attempt++;
            long d = backoff_ms(req->retry_base_ms, attempt);
            if (result == HUB_OK && r->ratelimit_reset >= 0)
                d = r->ratelimit_reset * 1000;
            else if (result == HUB_OK && r->retry_after >= 0)
                d = r->retry_after * 1000;
            if (result < 0)
                hub__log(req->log, HUB_LOG_INFO, "%s: %s; retrying in %.1f s",
                         url, hub_error_last()->message, (double)d / 1000.0);
            else
                hub__log(req->log, HUB_LOG_INFO,
                         "%s: HTTP %ld; retrying in %.1f s", url, r->status,
                         (double)d / 1000.0);
            error = wait_ms(req->progress, d);
            continue;
        }
        if (result < 0) {
            error = result;
            break;
        }
        if (r->status >= 300 && r->status < 400 && r->location &&
            hops < MAX_HOPS) {
            /* relative (same origin) or to a hub host: follow; a CDN: stop,
             * the 3xx itself carries the metadata */
            bool relative = hub__http_same_origin(r->location, url);
            if (relative || hub_host(r->location, origin)) {
                hops++;
                char *next = hub__strdup(r->location);
                if (!next) {
                    error = HUB_ENOMEM;
                    break;
                }
                hub__free(url);
                url = next;
                continue;
            }
        }
        break;
    }
    hub__free(url);
    hub__free(origin);
    return error;
}
