/* SPDX-License-Identifier: MIT */
/* engine.c: fetch files over one curl multi handle. */
#include "engine.h"

#include "alloc.h"
#include "path.h"
#include "safefs.h"
#include "str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define MAX_HOPS 10
#define MAX_RERESOLVES 3
#define MAX_RESTARTS 1
#define HASH_CHUNK (256 * 1024)
#define HASH_BUDGET_PER_TURN (32u * 1024 * 1024)
#define LOCK_RETRY_MS 100
#define LOCK_LOG_MS 10000
#define HOLDER_CHECK_MS 1000
#define POLL_MS 100
#define JOURNAL_MS 100     /* journal records at most this often */
#define CHECKPOINT_MS 2000 /* flush to disk for reboot-proof resume */
#define PART_ALIGN (64 * 1024)
#define WRITE_BACK_STEP (16u * 1024 * 1024)
/* Smallest half worth a new request: stealing cuts a running transfer, and
 * what was in flight on it (socket buffers: megabytes) is fetched twice. */
#define MIN_STEAL (8u * 1024 * 1024)
#define MIN_PART (4u * 1024 * 1024)
#define MAX_PART (64u * 1024 * 1024)

/* How long one metadata request (a HEAD, an info, a tree page, a
 * ModelScope API call) may take in all, its retries and our own backoff
 * included, in stall timeouts: 6, so 3 minutes at the default 30 s. The
 * largest real answers (a tree page of 1000 entries, a ModelScope listing
 * of a few MB) come in seconds, and huggingface_hub gives these requests
 * 10 s of silence; but a server trickling a byte a second passes the
 * stall check for ever, and this ends it. Waits the server asked for are
 * not counted: they are capped on their own (HUB__SERVER_WAIT_MAX_S). */
#define META_DEADLINE_STALLS 6
#define DEFAULT_STALL_MS 30000

/* A callback's way to say "this part got its bytes": the transfer stops. */
#define PART_CUT (-1000)

enum fetch_state {
    S_PENDING,
    S_LOCKWAIT,
    S_RUNNING,
    S_VERIFY,
    S_FLUSH, /* verified; the hashing thread puts it on disk */
    S_DONE,
    S_FAILED
};

/* one connection's current range of a file */
struct hub__part {
    hub__fetch *f;
    bool in_use;
    uint64_t start, end; /* [start, end); end may shrink (tail stealing) */
    uint64_t done;       /* bytes written from start */
    hub_xfer *x;         /* running transfer, or NULL */
    char *url;           /* URL of the current request (hop) */
    int hops;
    int attempts; /* consecutive failed attempts */
    uint64_t attempt_start;
    int64_t retry_at_ms; /* 0: may start now */
    uint64_t skip;       /* body bytes to drop (a 200 to a Range) */
    bool captured;       /* the body is not the file: kept to read why */
};

typedef struct hub__fetch_state {
    int state;
    bool sparse;   /* several connections, journal; else one prefix */
    bool threaded; /* the hashing thread keeps the digest (big files) */
    int64_t wait_until_ms;
    int64_t lock_since_ms;     /* waiting, or the holder's last progress */
    int64_t holder_checked_ms; /* when its partial files were last looked at */
    uint64_t holder_seen;      /* what they looked like then */
    int64_t lock_logged_ms;
    int fd;
    hub__part *parts;
    size_t nparts; /* slots */
    uint64_t part_size;
    bool url_known;     /* a first response arrived: ranges work or not */
    bool reserved;      /* disk space reserved (after that response) */
    bool no_ranges;     /* the server ignores Range */
    hub__part *adopter; /* the part carrying the whole file since then */
    int restarts;
    int reresolves;
    uint64_t bytes_reported;
    /* prefix mode: the digest follows the data in memory */
    hub_digest *hash;
    uint64_t hashed;
    uint64_t written_back; /* writeback started up to here */
    /* sparse mode */
    char *journal_path;
    hub__journal journal;
    bool journal_open;
    hub__rangelist todo;     /* not yet assigned */
    hub__rangelist written;  /* on disk */
    hub__rangelist durable;  /* flushed to disk */
    hub__rangelist snapshot; /* `written` at the last flush request */
    uint64_t sync_round;
    bool journal_dirty;
    int64_t journal_ms;
    int64_t checkpoint_ms;
    hub__hashjob job;
    bool job_added;
    /* the running list (see "scheduling") */
    bool in_run;
    hub__fetch *run_prev, *run_next;
} hub__fetch_state;

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
    hub__hasher *hasher;
    /* global rate limit: a token bucket over all transfers */
    double tokens;
    int64_t tokens_ms;
    int paused;
    int error;              /* first failure */
    hub__error_saved saved; /* its message */
    bool told_withheld;     /* logged that a mirror gets no token */
    /* So that a turn costs what is in flight, not the whole plan: files
     * not started yet are items[next..count), the started ones are on the
     * running list or in the lock waiters' heap (see "scheduling"). */
    hub__fetch *run_head, *run_tail; /* running, verifying, flushing */
    hub__fetch **waiters;            /* min-heap by wait_until_ms */
    hub__fetch **due;                /* scratch: waiters whose time came */
    size_t nwaiters;
    size_t waiters_cap;
} engine;

int64_t hub__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The configured endpoint `url` belongs to, or NULL (a CDN). */
static const char *endpoint_of(const engine *e, const char *url)
{
    for (size_t i = 0; i < e->cfg->nendpoints; i++)
        if (hub__http_same_origin(url, e->cfg->endpoints[i]))
            return e->cfg->endpoints[i];
    return NULL;
}

static bool is_hub_origin(const engine *e, const char *url)
{
    return endpoint_of(e, url) != NULL;
}

/* `url`'s endpoint as it may be shown (credentials masked), or NULL. */
static const char *shown_of(const engine *e, const char *url)
{
    for (size_t i = 0; i < e->cfg->nendpoints; i++)
        if (hub__http_same_origin(url, e->cfg->endpoints[i]))
            return e->cfg->shown ? e->cfg->shown[i] : NULL;
    return NULL;
}

/* Does the token go to `url`? Only to the origins it is for: the endpoint
 * the user gave, not the mirrors (unless asked), never a CDN. */
static bool gets_token(const engine *e, const char *url)
{
    if (!e->cfg->token || !e->cfg->token[0])
        return false;
    for (size_t i = 0; i < e->cfg->ntoken_endpoints; i++)
        if (hub__http_same_origin(url, e->cfg->token_endpoints[i]))
            return true;
    return false;
}

/* https -> http: the rest of the exchange would travel in clear (a private
 * file, a signed URL). */
static bool is_downgrade(const char *from, const char *to)
{
    return hub__str_ieqn(from, "https://", 8) &&
           hub__str_ieqn(to, "http://", 7);
}

static int downgrade_error(long status, const char *from, const char *to)
{
    char *a = hub__http_host(from), *b = hub__http_host(to);
    int error = hub__error_set_http(
        HUB_ETLS, status,
        "refused a redirect from https://%s to http://%s (it would leave "
        "TLS); use an https mirror, or give the http:// endpoint yourself",
        a ? a : "?", b ? b : "?");
    hub__free(a);
    hub__free(b);
    return error;
}

/* A hub endpoint that is not given the token: say so once, so that a 401
 * from a mirror is understood. */
static void note_withheld(engine *e, const char *url)
{
    bool *told =
        e->cfg->told_withheld ? e->cfg->told_withheld : &e->told_withheld;
    if (*told || !e->cfg->token || !e->cfg->token[0] || gets_token(e, url) ||
        !is_hub_origin(e, url))
        return;
    *told = true;
    const char *ep = shown_of(e, url);
    hub__log(e->cfg->log, HUB_LOG_INFO,
             "token not sent to %s: it goes only to the endpoint it is for "
             "(--send-token-to-mirrors sends it to mirrors too)",
             ep ? ep : "a mirror");
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
    if (hub__xfer_paused(x))
        e->paused--;
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

/* Stop a part's transfer (if any); the slot stays as it is. */
static void drop_xfer(engine *e, hub__part *p)
{
    if (p->x) {
        put_xfer(e, p->x);
        p->x = NULL;
        e->active_xfers--;
    }
}

/* ---- per-file bookkeeping ------------------------------------------------ */

static uint64_t file_done_bytes(const hub__fetch *f)
{
    const hub__fetch_state *st = f->st;
    if (st->sparse)
        return hub__ranges_total(&st->written);
    return st->nparts ? st->parts[0].start + st->parts[0].done : 0;
}

static void report(engine *e, hub__fetch *f, hub_phase phase)
{
    hub__fetch_state *st = f->st;
    bool whole = phase == HUB_PHASE_DONE || phase == HUB_PHASE_CACHED;
    uint64_t net = f->bytes_fetched - st->bytes_reported;
    st->bytes_reported = f->bytes_fetched;
    hub__progress_file(e->cfg->progress, f->index, phase,
                       whole ? f->size : file_done_bytes(f), net, f->served_by);
}

static void close_file(hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    if (st->fd >= 0) {
        close(st->fd);
        st->fd = -1;
    }
}

static void free_parts(hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    for (size_t i = 0; i < st->nparts; i++)
        hub__free(st->parts[i].url);
    hub__free(st->parts);
    st->parts = NULL;
    st->nparts = 0;
}

/* Record the sparse file's ranges in its journal (now, or when due). */
static int journal_sync(hub__fetch *f, bool force)
{
    hub__fetch_state *st = f->st;
    if (!st->journal_open || !st->journal_dirty)
        return HUB_OK;
    int64_t now = hub__now_ms();
    if (!force && now - st->journal_ms < JOURNAL_MS)
        return HUB_OK;
    st->journal_ms = now;
    st->journal_dirty = false;
    return hub__journal_write(&st->journal, &st->written, &st->durable);
}

/* Hand the digest back from the hasher thread (it stops using it). */
static void detach_job(engine *e, hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    if (st->job_added) {
        hub__hasher_remove(e->hasher, &st->job);
        st->job_added = false;
    }
}

static void close_journal(hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    if (st->journal_open) {
        hub__journal_close(&st->journal);
        st->journal_open = false;
    }
}

void hub__fetch_clear(hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    if (st) {
        close_file(f);
        close_journal(f);
        free_parts(f);
        hub__digest_free(st->hash);
        hub__digest_free(st->job.digest);
        hub__free(st->journal_path);
        hub__ranges_free(&st->todo);
        hub__ranges_free(&st->written);
        hub__ranges_free(&st->durable);
        hub__ranges_free(&st->snapshot);
        hub__free(st);
        f->st = NULL;
    }
    for (size_t u = 0; f->urls && u < f->nurls; u++)
        hub__free(f->urls[u]);
    hub__free(f->urls);
    f->urls = NULL;
    f->nurls = 0;
    hub__free(f->temp_base);
    hub__free(f->prefix_path);
    hub__free(f->temp_path);
    hub__free(f->lock_path);
    hub__free(f->data_url);
    hub__free(f->served_by);
    f->temp_base = f->prefix_path = f->temp_path = f->lock_path = NULL;
    f->data_url = f->served_by = NULL;
}

/* Room kept free on the disk beyond a reservation: a download announced by
 * a server never takes the last bytes other programs need. */
#define DISK_MARGIN (64u * 1024 * 1024)

/*
 * Reserve the file's disk space, once the first data response confirmed
 * its size (never on the word of a listing or a HEAD alone): a full disk
 * is reported before the transfer runs for minutes, and a hostile server
 * cannot fill the disk without sending the bytes.
 */
static int reserve_space(hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    if (st->reserved || st->fd < 0 || f->size == UINT64_MAX)
        return HUB_OK;
    st->reserved = true;
    struct stat sb;
    struct statvfs vfs;
    if (fstat(st->fd, &sb) != 0 || fstatvfs(st->fd, &vfs) != 0)
        return HUB_OK; /* nothing known: the writes will tell */
    uint64_t have = (uint64_t)sb.st_blocks * 512u;
    uint64_t need = f->size > have ? f->size - have : 0;
    uint64_t avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
    if (need && avail < need + DISK_MARGIN)
        return hub__error_set(HUB_ENOSPC,
                              "no room for '%s': it needs %llu more bytes "
                              "and %llu are free; free some space (or point "
                              "the cache elsewhere) and run again, the "
                              "download resumes",
                              f->path, (unsigned long long)need,
                              (unsigned long long)avail);
    /* prefix mode keeps the file a prefix of the blob (KEEP_SIZE) */
    uint64_t from = st->sparse ? 0 : (uint64_t)sb.st_size;
    int mode = st->sparse ? 0 : FALLOC_FL_KEEP_SIZE;
    if (f->size > from &&
        fallocate(st->fd, mode, (off_t)from, (off_t)(f->size - from)) != 0 &&
        (errno == ENOSPC || errno == EFBIG || errno == EDQUOT))
        return hub__path_error(errno, "no room for", f->temp_path);
    return HUB_OK;
}

/* Close and remove the temp file and its journal. */
static void discard_temp(hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    close_journal(f);
    close_file(f);
    (void)hub__sfs_unlink(f->root, f->temp_path);
    if (st->journal_path)
        (void)hub__sfs_unlink(f->root, st->journal_path);
    hub__error_clear();
}

/* A failed file keeps only what holds data: an empty temp file (and its
 * journal) goes, a partial one gives back the space reserved beyond it. */
static void release_space(hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    struct stat sb;
    if (st->fd < 0 || fstat(st->fd, &sb) != 0 || !f->temp_path)
        return;
    uint64_t held =
        st->sparse ? hub__ranges_total(&st->written) : (uint64_t)sb.st_size;
    if (held == 0) {
        discard_temp(f);
        return;
    }
    if (!st->reserved)
        return;
    if (!st->sparse) {
        /* blocks kept beyond the end (KEEP_SIZE) are dropped */
        if (ftruncate(st->fd, sb.st_size) != 0)
            hub__error_clear(); /* only space given back late */
        return;
    }
    uint64_t at = 0;
    for (size_t i = 0; i <= st->written.n; i++) {
        uint64_t end = i < st->written.n ? st->written.r[i].start : f->size;
        if (end > at)
            (void)fallocate(st->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                            (off_t)at, (off_t)(end - at));
        if (i < st->written.n)
            at = st->written.r[i].end;
    }
}

/* The item is finished, one way or the other. */
static bool is_active(int s)
{
    return s == S_RUNNING || s == S_LOCKWAIT || s == S_VERIFY || s == S_FLUSH;
}

static void finish(engine *e, hub__fetch *f, int result)
{
    hub__fetch_state *st = f->st;
    hub__error_saved why;
    if (result < 0)
        hub__error_save(&why);
    for (size_t i = 0; i < st->nparts; i++)
        drop_xfer(e, &st->parts[i]);
    detach_job(e, f);
    /* what is on disk stays for the next run: record it exactly */
    if (result < 0 && st->journal_open) {
        st->journal_dirty = true;
        journal_sync(f, true);
    }
    if (result < 0)
        release_space(f);
    close_journal(f);
    close_file(f);
    if (is_active(st->state))
        e->active_files--;
    f->result = result;
    st->state = result < 0 ? S_FAILED : S_DONE;
    if (e->ops->release)
        e->ops->release(f, e->ctx);
    if (result < 0) {
        hub__error_restore(&why);
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

/* The engine whose transfers run on this thread, for curl's callbacks. */
static _Thread_local engine *current;

static int
write_all(hub__fetch *f, const char *data, size_t len, uint64_t offset)
{
    int fd = f->st->fd;
    while (len) {
        ssize_t n = pwrite(fd, data, len, (off_t)offset);
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

/* Prefix mode: hash what is on disk beyond the digest's frontier (a resumed
 * prefix), up to `budget` bytes. */
static int catch_up(engine *e, hub__fetch *f, uint64_t budget)
{
    hub__fetch_state *st = f->st;
    uint64_t end = st->parts[0].start + st->parts[0].done;
    while (st->hashed < end && budget) {
        uint64_t want = end - st->hashed;
        if (want > HASH_CHUNK)
            want = HASH_CHUNK;
        if (want > budget)
            want = budget;
        ssize_t n = pread(st->fd, e->hashbuf, (size_t)want, (off_t)st->hashed);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return hub__path_error(n < 0 ? errno : EIO, "cannot read back",
                                   f->temp_path);
        int error = hub__digest_update(st->hash, e->hashbuf, (size_t)n);
        if (error < 0)
            return error;
        st->hashed += (uint64_t)n;
        budget -= (uint64_t)n;
    }
    return HUB_OK;
}

/* Learn the size of a file the listing did not size, from the response. */
static int learn_size(hub__part *p, const hub_http_resp *r, uint64_t want)
{
    hub__fetch *f = p->f;
    uint64_t size = UINT64_MAX;
    bool identity =
        !r->content_encoding || hub__str_ieq(r->content_encoding, "identity");
    if (r->status == 206 && r->has_range_total)
        size = r->range_total;
    else if (r->status == 206 && r->has_content_length && identity)
        size = want + r->content_length;
    else if (r->status == 200 && r->has_content_length && identity)
        size = r->content_length;
    if (size == UINT64_MAX)
        return hub__error_set_http(HUB_EPROTO, r->status,
                                   "the server did not say how big the file "
                                   "is");
    f->size = size;
    p->end = size;
    if (current)
        hub__progress_set_total(current->cfg->progress, f->index, size);
    return HUB_OK;
}

/* The first URL outside the hub that serves bytes (the CDN link a redirect
 * led to) serves the file's other parts too, without a hub round trip each.
 * Learnt from the headers, so parts that start while this one still runs
 * already use it. */
static int remember_data_url(hub__part *p)
{
    hub__fetch *f = p->f;
    const char *url = p->url;
    if (!current || is_hub_origin(current, url))
        return HUB_OK;
    if (p->hops > 0)
        f->st->reresolves = 0; /* a link fresh from the hub serves */
    if (f->data_url)
        return HUB_OK;
    f->data_url = hub__strdup(url);
    return f->data_url ? HUB_OK : HUB_ENOMEM;
}

static int on_part_headers(hub_xfer *x, void *payload)
{
    hub__part *p = payload;
    hub__fetch *f = p->f;
    const hub_http_resp *r = hub__xfer_resp(x);
    uint64_t want = p->start + p->done;
    p->skip = 0;
    p->captured = false;
    if ((r->status == 200 || r->status == 206) && f->size == UINT64_MAX) {
        int error = learn_size(p, r, want);
        if (error < 0)
            return error;
    }
    bool identity =
        !r->content_encoding || hub__str_ieq(r->content_encoding, "identity");
    /* A body that is not the file: maybe an error in disguise (ModelScope
     * answers 200 with an error envelope); keep it to read why. */
    bool other =
        (r->status == 206 && r->has_range_total && r->range_total != f->size) ||
        (r->status == 200 && r->has_content_length && identity &&
         r->content_length != f->size);
    if (other && current && current->cfg->backend->check_body) {
        p->captured = true;
        return HUB__XFER_CAPTURE;
    }
    if (r->status == 206) {
        if (r->has_range_total && r->range_total != f->size)
            return hub__error_set_http(HUB_EPROTO, 206,
                                       "server reports size %llu, expected "
                                       "%llu: the file changed",
                                       (unsigned long long)r->range_total,
                                       (unsigned long long)f->size);
        /* hf-mirror.com may omit Content-Range: trust it served our range */
        if (r->has_content_range && r->range_start != want)
            return hub__error_set_http(HUB_EPROTO, 206,
                                       "server sent bytes from %llu when "
                                       "asked for %llu",
                                       (unsigned long long)r->range_start,
                                       (unsigned long long)want);
        f->st->url_known = true;
        int error = reserve_space(f);
        return error < 0 ? error : remember_data_url(p);
    } else if (r->status == 200) {
        if (!identity)
            return hub__error_set_http(HUB_EPROTO, 200,
                                       "server compressed the file (%s) "
                                       "although asked not to",
                                       r->content_encoding);
        if (r->has_content_length && r->content_length != f->size)
            return hub__error_set_http(HUB_EPROTO, 200,
                                       "server sent %llu bytes, expected "
                                       "%llu: the file changed",
                                       (unsigned long long)r->content_length,
                                       (unsigned long long)f->size);
        f->st->url_known = true;
        f->st->no_ranges = true;
        if (f->st->sparse) {
            /* Range ignored: this one transfer carries the whole file
             * (rewriting bytes already there is harmless, they are the
             * same); the loop stops the other connections */
            p->start = 0;
            p->done = 0;
            p->end = f->size;
            f->st->adopter = p;
        } else {
            p->skip = want; /* drop the prefix we already have */
        }
        int error = reserve_space(f);
        return error < 0 ? error : remember_data_url(p);
    }
    return HUB_OK;
}

static int
on_part_data(hub_xfer *x, const char *data, size_t len, void *payload)
{
    hub__part *p = payload;
    hub__fetch *f = p->f;
    hub__fetch_state *st = f->st;
    size_t net = len;
    if (p->skip) {
        size_t drop = p->skip < len ? (size_t)p->skip : len;
        p->skip -= drop;
        data += drop;
        len -= drop;
    }
    f->bytes_fetched += net;
    if (len == 0)
        return HUB_OK;
    uint64_t off = p->start + p->done;
    bool cut = false;
    if (len > p->end - off) {
        if (!st->sparse || p->end == f->size)
            return hub__error_set(HUB_EPROTO,
                                  "server sent more than the %llu bytes of "
                                  "the file",
                                  (unsigned long long)f->size);
        /* the tail of this range went to another connection */
        len = (size_t)(p->end - off);
        cut = true;
    }
    int error = write_all(f, data, len, off);
    if (error < 0)
        return error;
    if (st->sparse) {
        if ((error = hub__ranges_add(&st->written, off, off + len)) < 0)
            return error;
        st->journal_dirty = true;
    } else if (!st->threaded && off == st->hashed) {
        /* one connection: the digest follows the bytes in memory */
        if ((error = hub__digest_update(st->hash, data, len)) < 0)
            return error;
        st->hashed += len;
    }
    p->done += len;
    HUB_UNUSED(x);
    return cut ? PART_CUT : HUB_OK;
}

/* ---- rate limit -------------------------------------------------------------
 */

static void refill(engine *e, int64_t now)
{
    if (!e->cfg->max_rate)
        return;
    double rate = (double)e->cfg->max_rate;
    e->tokens += rate * (double)(now - e->tokens_ms) / 1000.0;
    e->tokens_ms = now;
    /* a burst of at most 50 ms worth */
    if (e->tokens > rate / 20.0)
        e->tokens = rate / 20.0;
}

/* ---- starting transfers ---------------------------------------------------
 */

static int data_cb(hub_xfer *x, const char *data, size_t len, void *payload);

static int start_part(engine *e, hub__part *p)
{
    hub__fetch *f = p->f;
    if (!p->url) {
        /* a HEAD on an https endpoint may have pointed at an http CDN */
        if (f->data_url && is_downgrade(f->urls[f->url_at], f->data_url)) {
            int error = downgrade_error(0, f->urls[f->url_at], f->data_url);
            hub__error_prefix("'%s'", f->path);
            return error;
        }
        p->url = hub__strdup(f->data_url ? f->data_url : f->urls[f->url_at]);
        if (!p->url)
            return HUB_ENOMEM;
        p->hops = 0;
    }
    hub_xfer *x = NULL;
    int error = get_xfer(e, &x);
    if (error < 0)
        return error;
    hub_xfer_req req = {0};
    req.url = p->url;
    note_withheld(e, p->url);
    req.token = gets_token(e, p->url) ? e->cfg->token : NULL;
    req.cookie = req.token ? e->cfg->cookie : NULL;
    req.ranged = true; /* always: CDNs refuse un-ranged GETs over 50 GB */
    req.range_start = p->start + p->done;
    req.range_end = p->end - 1;
    if (!f->st->sparse)
        req.range_end = UINT64_MAX; /* open-ended, as older clients ask */
    req.on_headers = on_part_headers;
    req.on_data = data_cb;
    req.payload = p;
    error = hub__xfer_start(x, &req);
    if (error < 0) {
        put_xfer(e, x);
        return error;
    }
    hub__xfer_set_tag(x, p);
    p->x = x;
    p->attempt_start = p->done;
    p->retry_at_ms = 0;
    e->active_xfers++;
    return HUB_OK;
}

static int data_cb(hub_xfer *x, const char *data, size_t len, void *payload)
{
    hub__part *p = payload;
    int rc = on_part_data(x, data, len, payload);
    engine *e = current;
    HUB_UNUSED(p);
    if (e && e->cfg->max_rate) {
        e->tokens -= (double)len;
        if (e->tokens < 0 && rc == HUB_OK && !hub__xfer_paused(x)) {
            hub__xfer_pause(x);
            e->paused++;
        }
    }
    return rc;
}

/* Split [0, size) into what is missing given `have`. */
static int
todo_from(hub__fetch_state *st, uint64_t size, const hub__rangelist *have)
{
    hub__ranges_clear(&st->todo);
    uint64_t at = 0;
    for (size_t i = 0; i < have->n; i++) {
        int error = hub__ranges_add(&st->todo, at, have->r[i].start);
        if (error < 0)
            return error;
        at = have->r[i].end;
    }
    return hub__ranges_add(&st->todo, at, size);
}

static uint64_t choose_part_size(const engine *e, uint64_t size)
{
    if (e->cfg->part_size)
        return e->cfg->part_size;
    /* enough parts that the digest, which follows the finished prefix,
     * trails the download by little; few enough that requests are rare */
    uint64_t conns =
        (uint64_t)(e->cfg->connections > 0 ? e->cfg->connections : 1);
    uint64_t p = size / (conns * 16);
    if (p < MIN_PART)
        p = MIN_PART;
    if (p > MAX_PART)
        p = MAX_PART;
    return p - p % PART_ALIGN;
}

static char *suffixed(const char *base, const char *suffix)
{
    return hub__aprintf("%s%s", base, suffix);
}

/* Hand the digest to the hashing thread, which reads the file back as its
 * prefix grows: verification overlaps the transfer on the other core. */
static int attach_job(engine *e, hub__fetch *f, uint64_t ready)
{
    hub__fetch_state *st = f->st;
    st->threaded = true;
    st->job.fd = st->fd;
    st->job.size = f->size;
    int error = hub__digest_new(
        &st->job.digest,
        f->digest == HUB_DIGEST_NONE ? HUB_DIGEST_SHA256 : f->digest, f->size);
    if (error < 0)
        return error;
    atomic_store(&st->job.ready, ready);
    atomic_store(&st->job.hashed, 0);
    atomic_store(&st->job.sync_req, 0);
    atomic_store(&st->job.sync_done, 0);
    atomic_store(&st->job.error, 0);
    hub__hasher_add(e->hasher, &st->job);
    st->job_added = true;
    return HUB_OK;
}

/* One connection, "<base>.incomplete": resume from its length. */
static int open_prefix(engine *e, hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    f->temp_path = f->prefix_path ? hub__strdup(f->prefix_path)
                                  : suffixed(f->temp_base, ".incomplete");
    if (!f->temp_path)
        return HUB_ENOMEM;
    int error;
    st->fd = hub__sfs_open_own(f->root, f->temp_path, 0666);
    if (st->fd < 0)
        return st->fd;
    struct stat sb;
    if (fstat(st->fd, &sb) != 0)
        return hub__path_error(errno, "cannot stat", f->temp_path);
    uint64_t have = (uint64_t)sb.st_size;
    /* longer than the blob: not a prefix of it. Of unknown size: it may be
     * whole already, and "bytes=<size>-" would only ever get a 416. Either
     * way, start over. */
    if (have > f->size || (have && f->size == UINT64_MAX)) {
        if (ftruncate(st->fd, 0) != 0)
            return hub__path_error(errno, "cannot truncate", f->temp_path);
        have = 0;
    }
    st->reserved = false; /* reserve_space(), at the first data response */
    st->hashed = 0;
    if (f->size != UINT64_MAX && f->size >= e->cfg->split_threshold)
        error = attach_job(e, f, have);
    else
        error = hub__digest_new(&st->hash,
                                f->digest == HUB_DIGEST_NONE ? HUB_DIGEST_SHA256
                                                             : f->digest,
                                f->size);
    if (error < 0)
        return error;
    st->parts = hub__calloc(1, sizeof(*st->parts));
    if (!st->parts)
        return HUB_ENOMEM;
    st->nparts = 1;
    st->parts[0] = (hub__part){.f = f,
                               .in_use = have < f->size,
                               .start = 0,
                               .end = f->size,
                               .done = have};
    if (have)
        hub__log(e->cfg->log, HUB_LOG_INFO, "resuming '%s' at %llu bytes",
                 f->path, (unsigned long long)have);
    return HUB_OK;
}

/* Several connections: "<base>.hubfetch.incomplete" and its journal. A
 * prefix left by a one-connection run (ours or huggingface_hub's) is
 * adopted as the first range. */
static int open_sparse(engine *e, hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    f->temp_path = suffixed(f->temp_base, ".hubfetch.incomplete");
    st->journal_path = suffixed(f->temp_base, ".hubfetch-journal.incomplete");
    char *prefix = f->prefix_path ? hub__strdup(f->prefix_path)
                                  : suffixed(f->temp_base, ".incomplete");
    hub__rangelist have = HUB_RANGELIST_INIT;
    int error =
        (f->temp_path && st->journal_path && prefix) ? HUB_OK : HUB_ENOMEM;
    if (error == HUB_OK)
        error = hub__journal_open(&st->journal, f->root, st->journal_path,
                                  f->etag, f->size, &have);
    if (error < 0)
        goto done;
    st->journal_open = true;
    struct stat sb;
    bool sparse_ok = hub__sfs_lstat(f->root, f->temp_path, &sb) == 0 &&
                     S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == f->size;
    if (!sparse_ok)
        hub__ranges_clear(&have);
    /* a prefix is adopted only if it is a plain file of ours (what a link
     * or another user's file points at is never renamed into our name) */
    if (have.n == 0 && hub__sfs_lstat(f->root, prefix, &sb) == 0 &&
        S_ISREG(sb.st_mode) && sb.st_nlink == 1 && sb.st_uid == geteuid() &&
        (uint64_t)sb.st_size <= f->size &&
        hub__sfs_rename(f->root, prefix, f->temp_path) == HUB_OK)
        error = hub__ranges_add(&have, 0, (uint64_t)sb.st_size);
    hub__error_clear();
    if (error < 0)
        goto done;
    st->fd = hub__sfs_open_own(f->root, f->temp_path, 0666);
    if (st->fd < 0) {
        error = st->fd;
        goto done;
    }
    if (have.n == 0 && ftruncate(st->fd, 0) != 0) {
        error = hub__path_error(errno, "cannot truncate", f->temp_path);
        goto done;
    }
    /* sized, not allocated: the space is reserved once the first data
     * response confirms the size (reserve_space) */
    st->reserved = false;
    if (fstat(st->fd, &sb) != 0 || (uint64_t)sb.st_size != f->size) {
        if (ftruncate(st->fd, (off_t)f->size) != 0) {
            error = hub__path_error(errno, "cannot size", f->temp_path);
            goto done;
        }
    }
    /* nothing is known to be flushed yet (what this boot wrote, or an
     * adopted prefix, may still be in the page cache): `durable` fills at
     * the first checkpoint */
    hub__ranges_clear(&st->durable);
    if ((error = hub__ranges_copy(&st->written, &have)) < 0 ||
        (error = todo_from(st, f->size, &have)) < 0)
        goto done;
    st->journal_dirty = true;
    if ((error = journal_sync(f, true)) < 0)
        goto done;
    uint64_t resumed = hub__ranges_total(&have);
    if (resumed)
        hub__log(e->cfg->log, HUB_LOG_INFO,
                 "resuming '%s': %llu of %llu bytes already here in %zu "
                 "range(s)",
                 f->path, (unsigned long long)resumed,
                 (unsigned long long)f->size, have.n);
    st->part_size = choose_part_size(e, f->size);
    st->nparts = (size_t)(e->cfg->connections > 0 ? e->cfg->connections : 1);
    st->parts = hub__calloc(st->nparts, sizeof(*st->parts));
    if (!st->parts) {
        error = HUB_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < st->nparts; i++)
        st->parts[i].f = f;
    if ((error = attach_job(e, f, hub__ranges_prefix(&st->written))) < 0)
        goto done;
    st->checkpoint_ms = hub__now_ms();
done:
    hub__free(prefix);
    hub__ranges_free(&have);
    return error;
}

/* Give a free slot of `f` its next range; false when there is none. */
static bool assign_range(hub__fetch *f, hub__part *slot)
{
    hub__fetch_state *st = f->st;
    uint64_t start, end;
    if (st->todo.n) {
        start = st->todo.r[0].start;
        end = st->todo.r[0].end;
        if (end - start > st->part_size)
            end = start + st->part_size;
        st->todo.r[0].start = end;
        if (end == st->todo.r[0].end) {
            memmove(st->todo.r, st->todo.r + 1,
                    (st->todo.n - 1) * sizeof(*st->todo.r));
            st->todo.n--;
        }
    } else {
        /* the tail: halve the range with the most bytes left */
        hub__part *victim = NULL;
        uint64_t most = 0;
        for (size_t i = 0; i < st->nparts; i++) {
            hub__part *q = &st->parts[i];
            uint64_t left = q->end - q->start - q->done;
            if (q->in_use && left > most) {
                most = left;
                victim = q;
            }
        }
        if (!victim || most < 2 * MIN_STEAL)
            return false;
        uint64_t mid = victim->start + victim->done + most / 2;
        mid += PART_ALIGN - mid % PART_ALIGN;
        if (mid >= victim->end)
            return false;
        start = mid;
        end = victim->end;
        victim->end = mid;
    }
    hub__free(slot->url);
    *slot = (hub__part){.f = f, .in_use = true, .start = start, .end = end};
    return true;
}

static int verify_and_flush(engine *e, hub__fetch *f);

/* The sparse file is complete: let the hasher finish, then verify. */
static void enter_verify(engine *e, hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    st->state = S_VERIFY;
    atomic_store(&st->job.ready, f->size);
    hub__hasher_kick(e->hasher);
    report(e, f, HUB_PHASE_VERIFY);
}

static int reopen(engine *e, hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    hub__free(f->temp_path);
    f->temp_path = NULL;
    hub__free(st->journal_path);
    st->journal_path = NULL;
    free_parts(f);
    hub__digest_free(st->hash);
    st->hash = NULL;
    hub__digest_free(st->job.digest);
    st->job.digest = NULL;
    hub__ranges_clear(&st->todo);
    hub__ranges_clear(&st->written);
    hub__ranges_clear(&st->durable);
    hub__ranges_clear(&st->snapshot);
    st->sync_round = 0;
    st->hashed = st->written_back = 0;
    st->url_known = st->no_ranges = st->threaded = false;
    st->state = S_RUNNING;
    return st->sparse ? open_sparse(e, f) : open_prefix(e, f);
}

/* Verified bytes go to disk before the rename makes them the cache's. The
 * flush runs on the hashing thread: on a snapshot of small files an fdatasync
 * each, on the event loop, would stall every other transfer. */
static void start_flush(engine *e, hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    detach_job(e, f);
    st->job.fd = st->fd;
    st->job.size = f->size == UINT64_MAX ? 0 : f->size;
    atomic_store(&st->job.ready, 0);
    atomic_store(&st->job.hashed, 0);
    atomic_store(&st->job.sync_done, 0);
    atomic_store(&st->job.sync_req, 1);
    atomic_store(&st->job.error, 0);
    st->state = S_FLUSH;
    hub__hasher_add(e->hasher, &st->job);
    st->job_added = true;
}

static int commit(engine *e, hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    detach_job(e, f);
    if (atomic_load(&st->job.error))
        return hub__error_set(atomic_load(&st->job.error), "'%s': %s",
                              f->temp_path, st->job.message);
    close_journal(f);
    close_file(f);
    int error = e->ops->commit(f, e->ctx);
    if (error < 0)
        return error;
    if (st->journal_path)
        (void)hub__sfs_unlink(f->root, st->journal_path);
    hub__error_clear();
    return HUB_OK;
}

static int verify_and_flush(engine *e, hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    char got[65];
    int error;
    if (st->threaded) {
        detach_job(e, f);
        if (atomic_load(&st->job.error))
            return hub__error_set(atomic_load(&st->job.error), "%s",
                                  st->job.message);
        error = hub__digest_final(st->job.digest, got);
    } else {
        report(e, f, HUB_PHASE_VERIFY);
        if ((error = catch_up(e, f, UINT64_MAX)) < 0)
            return error;
        error = hub__digest_final(st->hash, got);
    }
    if (error < 0)
        return error;
    if (f->digest != HUB_DIGEST_NONE && strcmp(got, f->etag) != 0) {
        const char *kind =
            f->digest == HUB_DIGEST_SHA256 ? "sha256" : "git sha1";
        /* never leave bad bytes where a later run would resume from them */
        discard_temp(f);
        if (st->restarts < MAX_RESTARTS) {
            hub__log(e->cfg->log, HUB_LOG_WARN,
                     "%s of '%s' is %s, expected %s: downloading it again",
                     kind, f->path, got, f->etag);
            st->restarts++;
            if ((error = reopen(e, f)) < 0)
                return error;
            report(e, f, HUB_PHASE_DOWNLOAD);
            return 1; /* running again */
        }
        return hub__error_set(HUB_ECHECKSUM,
                              "checksum mismatch: %s is %s, expected %s; "
                              "the download was discarded and the cache left "
                              "as it was",
                              kind, got, f->etag);
    }
    start_flush(e, f);
    return HUB_OK;
}

/* ---- retries and completion -----------------------------------------------
 */

/* The server answered `status` asking to wait `secs` before a retry, more
 * than we ever wait: fail now, saying how long and what to do. */
static int server_wait_refused(const char *what, long status, long secs)
{
    char about[32] = "";
    if (secs >= 2 * 86400)
        snprintf(about, sizeof(about), " (about %ld days)",
                 (secs + 43200) / 86400);
    else if (secs >= 2 * 3600)
        snprintf(about, sizeof(about), " (about %ld h)", (secs + 1800) / 3600);
    else if (secs >= 2 * 60)
        snprintf(about, sizeof(about), " (about %ld min)", (secs + 30) / 60);
    return hub__error_set_http(HUB_ERATELIMIT, status,
                               "%s answered HTTP %ld and asks to wait %ld s%s "
                               "before trying again, longer than hubfetch "
                               "waits (%ld s); try again later",
                               what, status, secs, about,
                               HUB__SERVER_WAIT_MAX_S);
}

static bool part_retry(engine *e, hub__part *p, long delay_ms)
{
    if (p->done > p->attempt_start)
        p->attempts = 0; /* it made progress: a fresh budget */
    p->attempts++;
    if (p->attempts > e->cfg->max_retries)
        return false;
    long d = delay_ms >= 0 ? delay_ms
                           : backoff_ms(e->cfg->retry_base_ms, p->attempts);
    p->retry_at_ms = hub__now_ms() + (d > 0 ? d : 1);
    hub__log(e->cfg->log, HUB_LOG_INFO, "'%s': %s; retry %d of %d in %.1f s",
             p->f->path, hub_error_last()->message, p->attempts,
             e->cfg->max_retries, (double)d / 1000.0);
    return true;
}

/* Next attempt goes to the CDN URL if known, else back to the hub. */
static void restart_url(hub__part *p)
{
    hub__free(p->url);
    p->url = NULL;
}

/* Out of retries: say what was tried. */
static int gave_up(hub__part *p, int error)
{
    if (p->attempts > 1)
        hub__error_prefix("gave up after %d attempts", p->attempts);
    return error;
}

/* Map a failed HTTP response of a file transfer to an error. */
static int file_http_error(engine *e, hub__part *p, const hub_http_resp *r)
{
    hub__fetch *f = p->f;
    const char *ep = endpoint_of(e, p->url);
    if (ep) {
        bool given = e->cfg->token && e->cfg->token[0];
        bool sent = gets_token(e, p->url);
        hub__what what = {e->cfg->revision, f->path, sent, given && !sent};
        /* the endpoint that answered, which failover may have changed */
        hub__repo repo = *e->cfg->repo;
        repo.endpoint = ep;
        return e->cfg->backend->map_error(&repo, &what, r,
                                          hub__xfer_body(p->x));
    }
    char *host = hub__http_host(p->url);
    int error = hub__error_set_http(HUB_EHTTP, r->status,
                                    "download server %s answered HTTP %ld",
                                    host ? host : "?", r->status);
    hub__free(host);
    return error;
}

/* The hub endpoint part `p` was talking to failed: move the file to the
 * next endpoint, if there is one, at once (no point retrying a mirror that
 * is down while another is configured). */
static bool failover(engine *e, hub__part *p)
{
    hub__fetch *f = p->f;
    const char *ep = endpoint_of(e, p->url);
    if (!ep || f->url_at + 1 >= f->nurls)
        return false;
    const char *next = shown_of(e, f->urls[f->url_at + 1]);
    hub__log(e->cfg->log, HUB_LOG_WARN,
             "'%s': endpoint %s failed (%s); trying %s", f->path,
             shown_of(e, p->url), hub_error_last()->message,
             next ? next : "the next one");
    f->url_at++;
    drop_xfer(e, p);
    restart_url(p);
    /* the other connections of this file follow on their next request */
    return true;
}

/* A part has all its bytes: free the slot for the next range. */
static void part_complete(engine *e, hub__part *p)
{
    drop_xfer(e, p);
    p->in_use = false;
    hub__free(p->url);
    p->url = NULL;
}

/* A transfer of part `p` finished with `result`. */
static void part_done(engine *e, hub__part *p, int result)
{
    hub__fetch *f = p->f;
    hub_xfer *x = p->x;
    const hub_http_resp *r = hub__xfer_resp(x);
    int error = HUB_OK;

    if (result == PART_CUT) {
        part_complete(e, p);
        return;
    }
    if (result < 0) {
        bool transient = result == HUB_ENET || result == HUB_ETIMEOUT;
        if (transient && failover(e, p))
            return;
        drop_xfer(e, p);
        restart_url(p);
        if (transient && part_retry(e, p, -1))
            return;
        finish(e, f, gave_up(p, result));
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
        } else if (is_downgrade(p->url, r->location)) {
            error = downgrade_error(st, p->url, r->location);
            hub__error_prefix("'%s'", f->path);
        } else {
            const char *ep = shown_of(e, p->url);
            if (ep && !f->served_by && !(f->served_by = hub__strdup(ep)))
                error = HUB_ENOMEM;
            char *next = hub__strdup(r->location);
            if (!next) {
                error = HUB_ENOMEM;
            } else {
                hub__free(p->url);
                p->url = next;
            }
        }
        drop_xfer(e, p);
        if (error < 0 || (error = start_part(e, p)) < 0)
            finish(e, f, error);
        return;
    }
    if (st >= 200 && st < 300 && p->captured) {
        const char *body = hub__xfer_body(x);
        bool given = e->cfg->token && e->cfg->token[0];
        bool sent = gets_token(e, p->url);
        hub__what what = {e->cfg->revision, f->path, sent, given && !sent};
        error = e->cfg->backend->check_body(e->cfg->repo, &what, st, body,
                                            strlen(body));
        if (error == HUB_OK)
            error = hub__error_set_http(
                HUB_EPROTO, st,
                "the server sent something else than "
                "the file (%s)",
                r->has_content_length ? "another size" : "unexpected content");
        drop_xfer(e, p);
        finish(e, f, error);
        return;
    }
    if (st >= 200 && st < 300) {
        const char *ep = shown_of(e, p->url);
        if (!f->served_by && ep)
            f->served_by = hub__strdup(ep);
        if (p->start + p->done >= p->end) {
            part_complete(e, p);
            return;
        }
        drop_xfer(e, p);
        restart_url(p);
        hub__error_set(HUB_ENET, "connection closed after %llu of %llu bytes",
                       (unsigned long long)(p->start + p->done),
                       (unsigned long long)p->end);
        if (!part_retry(e, p, -1))
            finish(e, f, gave_up(p, HUB_ENET));
        return;
    }
    /* An expired signed URL: go back to the hub for a fresh one. Links
     * expire again and again over a long download, so only refusals in a
     * row count (a fresh link that serves resets them), and a link already
     * given up on by another part costs nothing. */
    if (st == 403 && !is_hub_origin(e, p->url)) {
        bool fresh = p->hops > 0; /* just handed out by the hub */
        bool in_use = f->data_url && strcmp(f->data_url, p->url) == 0;
        if (!fresh && !in_use) {
            drop_xfer(e, p);
            restart_url(p);
            return;
        }
        if (f->st->reresolves < MAX_RERESOLVES) {
            f->st->reresolves++;
            hub__log(e->cfg->log, HUB_LOG_INFO,
                     "'%s': download link refused (HTTP 403), asking the hub "
                     "for a new one",
                     f->path);
            hub__free(f->data_url);
            f->data_url = NULL;
            drop_xfer(e, p);
            restart_url(p);
            return;
        }
    }
    /* Listed without a size, and empty: "bytes=0-" of an empty file is
     * unsatisfiable, and the 416 says the file's size, 0. */
    if (st == 416 && f->size == UINT64_MAX && p->start + p->done == 0 &&
        r->has_range_total && r->range_total == 0) {
        f->size = 0;
        p->end = 0;
        hub__progress_set_total(e->cfg->progress, f->index, 0);
        part_complete(e, p);
        return;
    }
    error = file_http_error(e, p, r);
    if (st >= 500 && failover(e, p))
        return;
    /* read before the transfer (which holds `r`) goes back to the pool */
    long asked = hub__http_server_wait(r);
    if (hub__status_retryable(st) && asked > HUB__SERVER_WAIT_MAX_S) {
        char *host = hub__http_host(p->url);
        char what[300];
        /* finish() names the repo and file */
        snprintf(what, sizeof(what), "%s", host ? host : "the server");
        hub__free(host);
        error = server_wait_refused(what, st, asked);
        drop_xfer(e, p);
        restart_url(p);
        finish(e, f, error);
        return;
    }
    long wait = asked >= 0 ? asked * 1000 : -1;
    drop_xfer(e, p);
    restart_url(p);
    if (hub__status_retryable(st)) {
        if (part_retry(e, p, wait))
            return;
        error = gave_up(p, error);
    }
    finish(e, f, error);
}

/* ---- scheduling -------------------------------------------------------------
 */

/* A fingerprint of the partial files a lock holder writes next to
 * `temp_base` ("<base>.incomplete", huggingface_hub's
 * "<base>.<8hex>.incomplete", ours): it changes while the holder makes
 * progress. 0 when there are none. */
static uint64_t holder_activity(const char *root, const char *temp_base)
{
    const char *base;
    int dfd = hub__sfs_parent(root, temp_base, false, &base);
    hub__error_clear();
    size_t blen = strlen(base);
    uint64_t seen = 0;
    DIR *dir = dfd >= 0 ? hub__sfs_opendir_at(dfd) : NULL;
    if (dfd >= 0)
        close(dfd);
    const struct dirent *de;
    while (dir && (de = readdir(dir)) != NULL) {
        const char *name = de->d_name;
        size_t n = strlen(name);
        struct stat st;
        if (n > blen && strncmp(name, base, blen) == 0 && name[blen] == '.' &&
            hub__str_ends_with(name, ".incomplete") &&
            fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            seen = hub__path_fingerprint(seen, &st);
    }
    if (dir)
        closedir(dir);
    return seen;
}

static void start_item(engine *e, hub__fetch *f, int64_t now)
{
    hub__fetch_state *st = f->st;
    int rc = e->ops->prepare(f, e->ctx);
    /* a storage layer must say below which directory its files go */
    if (rc == HUB_OK && !f->root)
        rc = hub__error_set(HUB_EINVAL,
                            "internal error: no cache root for "
                            "'%s'",
                            f->path);
    if (rc == HUB__LOCK_BUSY) {
        if (st->state == S_PENDING) {
            st->lock_since_ms = now;
            st->lock_logged_ms = now;
            st->holder_checked_ms = now;
            st->holder_seen =
                f->temp_base ? holder_activity(f->root, f->temp_base) : 0;
            e->active_files++;
            st->state = S_LOCKWAIT;
        }
        /* the timeout runs while the holder shows no progress: a download
         * that takes an hour is waited for, a stuck one is not */
        if (f->temp_base && now - st->holder_checked_ms >= HOLDER_CHECK_MS) {
            uint64_t seen = holder_activity(f->root, f->temp_base);
            st->holder_checked_ms = now;
            if (seen != st->holder_seen) {
                st->holder_seen = seen;
                st->lock_since_ms = now;
            }
        }
        long limit = e->cfg->lock_timeout_ms;
        if (limit >= 0 && now - st->lock_since_ms >= limit) {
            finish(e, f,
                   hub__error_set(HUB_ELOCKED,
                                  "waited %.0f s for the lock '%s' held by "
                                  "another process that made no progress; "
                                  "if no download is running, that process "
                                  "is gone and the next attempt will get it",
                                  (double)limit / 1000.0,
                                  f->lock_path ? f->lock_path : "?"));
            return;
        }
        if (now - st->lock_logged_ms >= LOCK_LOG_MS) {
            st->lock_logged_ms = now;
            hub__log(e->cfg->log, HUB_LOG_INFO,
                     "still waiting for the lock '%s' (another process is "
                     "downloading '%s')",
                     f->lock_path ? f->lock_path : "?", f->path);
        }
        /* a waiting file reports nothing: the callback may still cancel */
        hub__progress_heartbeat(e->cfg->progress);
        st->wait_until_ms = now + LOCK_RETRY_MS;
        return;
    }
    if (st->state == S_PENDING)
        e->active_files++;
    st->state = S_RUNNING;
    if (rc == HUB__FETCH_SKIP || rc < 0) {
        finish(e, f, rc);
        return;
    }
    /* several connections for big files, or to continue such a download */
    char *journal = suffixed(f->temp_base, ".hubfetch-journal.incomplete");
    /* unsized files (some ModelScope listings) go in one stream: the size
     * arrives with the first response */
    struct stat jst;
    bool journal_here = journal &&
                        hub__sfs_lstat(f->root, journal, &jst) == 0 &&
                        S_ISREG(jst.st_mode);
    st->sparse =
        f->size != UINT64_MAX &&
        ((e->cfg->connections > 1 && f->size >= e->cfg->split_threshold) ||
         journal_here);
    hub__free(journal);
    int error = st->sparse ? open_sparse(e, f) : open_prefix(e, f);
    if (error < 0) {
        finish(e, f, error);
        return;
    }
    report(e, f, HUB_PHASE_DOWNLOAD);
}

/* After a 200 to a Range: only the adopter goes on. Not done in curl's
 * callback, where removing other transfers is not allowed. */
static void adopt_whole_file(engine *e, hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    for (size_t i = 0; i < st->nparts; i++) {
        hub__part *q = &st->parts[i];
        if (q == st->adopter || !q->in_use)
            continue;
        drop_xfer(e, q);
        q->in_use = false;
        hub__free(q->url);
        q->url = NULL;
    }
    hub__ranges_clear(&st->todo);
    st->adopter = NULL;
}

static int parts_in_use(const hub__fetch_state *st)
{
    int n = 0;
    for (size_t i = 0; i < st->nparts; i++)
        n += st->parts[i].in_use;
    return n;
}

/* Start idle parts of `f`; with `extra`, also open more connections. */
static void feed(engine *e, hub__fetch *f, int64_t now, bool extra)
{
    hub__fetch_state *st = f->st;
    for (size_t k = 0; k < st->nparts && st->state == S_RUNNING; k++) {
        hub__part *p = &st->parts[k];
        if (e->active_xfers >= e->cfg->max_connections)
            return;
        if (!p->in_use) {
            if (!st->sparse)
                continue;
            /* a second connection only once the first showed ranges work */
            int used = parts_in_use(st);
            if (used > 0 && (!extra || !st->url_known || st->no_ranges))
                continue;
            if (!assign_range(f, p))
                continue;
        }
        if (p->x || now < p->retry_at_ms)
            continue;
        int error = start_part(e, p);
        if (error < 0) {
            finish(e, f, error);
            return;
        }
        if (!extra)
            return; /* one transfer per file in the first pass */
    }
}

/* Start writing the verified prefix to disk as it grows, so the flush
 * before the rename has little left (the hashing thread does the same for
 * multi-connection files). */
static void write_back(hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    if (st->hashed >= st->written_back + WRITE_BACK_STEP) {
        sync_file_range(st->fd, (off_t)st->written_back,
                        (off_t)(st->hashed - st->written_back),
                        SYNC_FILE_RANGE_WRITE);
        st->written_back = st->hashed;
    }
}

/* Sparse bookkeeping each turn: hashing, journal, flush checkpoints. */
/* Tell the hashing thread how far the file is on disk. */
static int tend_job(engine *e, hub__fetch *f, uint64_t ready)
{
    hub__fetch_state *st = f->st;
    if (ready > atomic_load(&st->job.ready)) {
        atomic_store(&st->job.ready, ready);
        hub__hasher_kick(e->hasher);
    }
    if (atomic_load(&st->job.error))
        return hub__error_set(atomic_load(&st->job.error), "%s",
                              st->job.message);
    return HUB_OK;
}

static int tend_sparse(engine *e, hub__fetch *f, int64_t now)
{
    hub__fetch_state *st = f->st;
    int error = tend_job(e, f, hub__ranges_prefix(&st->written));
    if (error < 0)
        return error;
    /* a flush finished: what it covered survives a reboot */
    if (st->sync_round && atomic_load(&st->job.sync_done) == st->sync_round &&
        st->snapshot.n) {
        error = hub__ranges_copy(&st->durable, &st->snapshot);
        if (error < 0)
            return error;
        hub__ranges_clear(&st->snapshot);
        st->journal_dirty = true;
    }
    if (now - st->checkpoint_ms >= CHECKPOINT_MS && !st->snapshot.n) {
        error = hub__ranges_copy(&st->snapshot, &st->written);
        if (error < 0)
            return error;
        st->checkpoint_ms = now;
        atomic_store(&st->job.sync_req, ++st->sync_round);
        hub__hasher_kick(e->hasher);
    }
    return journal_sync(f, false);
}

static bool parts_idle(const hub__fetch_state *st)
{
    for (size_t i = 0; i < st->nparts; i++)
        if (st->parts[i].in_use)
            return false;
    return true;
}

/*
 * Where the started files are. A turn must cost what is in flight (at most
 * max_files files, lock waiters included), never the whole plan: walking
 * every item each turn made a snapshot of N files cost O(N^2) (audit F15).
 * - items[next..count): not started, in order;
 * - the running list: running, verifying and flushing files, in index
 *   order (the order in which they get connections). A file that finishes
 *   stays linked until the next turn's prune, so nothing that finishes a
 *   file has to know about the list;
 * - the waiters: files waiting for a lock, a min-heap by wake time.
 */
static void run_insert(engine *e, hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    /* new files go last; a former lock waiter goes back to its place */
    hub__fetch *after = e->run_tail;
    while (after && after > f)
        after = after->st->run_prev;
    st->run_prev = after;
    st->run_next = after ? after->st->run_next : e->run_head;
    if (st->run_next)
        st->run_next->st->run_prev = f;
    else
        e->run_tail = f;
    if (after)
        after->st->run_next = f;
    else
        e->run_head = f;
    st->in_run = true;
}

static void run_unlink(engine *e, hub__fetch *f)
{
    hub__fetch_state *st = f->st;
    if (st->run_prev)
        st->run_prev->st->run_next = st->run_next;
    else
        e->run_head = st->run_next;
    if (st->run_next)
        st->run_next->st->run_prev = st->run_prev;
    else
        e->run_tail = st->run_prev;
    st->run_prev = st->run_next = NULL;
    st->in_run = false;
}

/* Unlink the files that finished since the last turn. */
static void run_prune(engine *e)
{
    hub__fetch *f = e->run_head;
    while (f) {
        hub__fetch *next = f->st->run_next;
        if (!is_active(f->st->state))
            run_unlink(e, f);
        f = next;
    }
}

/* Does `a` wake before `b`? Ties in index order. */
static bool wakes_first(const hub__fetch *a, const hub__fetch *b)
{
    if (a->st->wait_until_ms != b->st->wait_until_ms)
        return a->st->wait_until_ms < b->st->wait_until_ms;
    return a < b;
}

static int waiters_push(engine *e, hub__fetch *f)
{
    if (e->nwaiters == e->waiters_cap) {
        /* not expected: waiters count against max_files */
        size_t cap = e->waiters_cap * 2;
        hub__fetch **w = hub__reallocarray(e->waiters, cap, sizeof(*w));
        if (!w)
            return HUB_ENOMEM;
        e->waiters = w;
        hub__fetch **d = hub__reallocarray(e->due, cap, sizeof(*d));
        if (!d)
            return HUB_ENOMEM;
        e->due = d;
        e->waiters_cap = cap;
    }
    size_t i = e->nwaiters++;
    while (i > 0 && wakes_first(f, e->waiters[(i - 1) / 2])) {
        e->waiters[i] = e->waiters[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    e->waiters[i] = f;
    return HUB_OK;
}

static hub__fetch *waiters_pop(engine *e)
{
    hub__fetch *top = e->waiters[0];
    hub__fetch *last = e->waiters[--e->nwaiters];
    size_t n = e->nwaiters, i = 0;
    if (n == 0)
        return top;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && wakes_first(e->waiters[c + 1], e->waiters[c]))
            c++;
        if (!wakes_first(e->waiters[c], last))
            break;
        e->waiters[i] = e->waiters[c];
        i = c;
    }
    e->waiters[i] = last;
    return top;
}

static int by_index(const void *a, const void *b)
{
    const hub__fetch *x = *(hub__fetch *const *)a;
    const hub__fetch *y = *(hub__fetch *const *)b;
    return x < y ? -1 : x > y;
}

/* Start `f` (or try its lock again) and file it where it is now. */
static void start_and_file(engine *e, hub__fetch *f, int64_t now)
{
    start_item(e, f, now);
    hub__fetch_state *st = f->st;
    if (st->state == S_LOCKWAIT) {
        int error = waiters_push(e, f);
        if (error < 0)
            finish(e, f, error);
    } else if (is_active(st->state) && !st->in_run) {
        run_insert(e, f);
    }
}

/* Start what can start: new files, idle parts whose backoff expired. */
static void schedule(engine *e, int64_t now)
{
    run_prune(e);
    /* lock waiters whose time came, in index order */
    size_t due = 0;
    while (e->nwaiters && e->waiters[0]->st->wait_until_ms <= now)
        e->due[due++] = waiters_pop(e);
    qsort(e->due, due, sizeof(*e->due), by_index);
    for (size_t i = 0; i < due; i++)
        start_and_file(e, e->due[i], now);
    while (e->error == HUB_OK && e->next < e->count &&
           e->active_files < (size_t)e->cfg->max_files) {
        hub__fetch *f = &e->items[e->next++];
        start_and_file(e, f, now);
    }
    for (hub__fetch *f = e->run_head; f; f = f->st->run_next)
        if (f->st->adopter)
            adopt_whole_file(e, f);
    /* every running file first gets one connection, then big files more */
    for (int pass = 0; pass < 2; pass++)
        for (hub__fetch *f = e->run_head; f && e->error == HUB_OK;
             f = f->st->run_next) {
            if (f->st->state == S_RUNNING)
                feed(e, f, now, pass == 1);
        }
    for (hub__fetch *f = e->run_head; f && e->error == HUB_OK;
         f = f->st->run_next) {
        hub__fetch_state *st = f->st;
        int error = HUB_OK;
        if (st->state == S_RUNNING) {
            if (st->sparse)
                error = tend_sparse(e, f, now);
            else if (st->threaded)
                error = tend_job(e, f, st->parts[0].start + st->parts[0].done);
            else if ((error = catch_up(e, f, HASH_BUDGET_PER_TURN)) == HUB_OK)
                write_back(f);
            if (error == HUB_OK && parts_idle(st) &&
                (!st->sparse || st->todo.n == 0)) {
                if (st->threaded)
                    enter_verify(e, f);
                else
                    st->state = S_VERIFY;
            }
        }
        if (error == HUB_OK && st->state == S_VERIFY &&
            (!st->threaded || atomic_load(&st->job.hashed) == f->size ||
             atomic_load(&st->job.error))) {
            error = verify_and_flush(e, f);
            if (error < HUB_OK)
                finish(e, f, error);
            continue; /* flushing, or 1: downloading it again */
        }
        if (error == HUB_OK && st->state == S_FLUSH &&
            (atomic_load(&st->job.sync_done) == 1 ||
             atomic_load(&st->job.error))) {
            finish(e, f, commit(e, f));
            continue;
        }
        if (error < 0)
            finish(e, f, error);
    }
}

static int64_t next_timer(const engine *e, int64_t now)
{
    /* a file finished after this turn's starts: its slot is free now, and
     * no transfer may be left to wake the poll */
    if (e->error == HUB_OK && e->next < e->count &&
        e->active_files < (size_t)e->cfg->max_files)
        return now;
    int64_t soonest = now + POLL_MS;
    if (e->nwaiters && e->waiters[0]->st->wait_until_ms < soonest)
        soonest = e->waiters[0]->st->wait_until_ms;
    for (const hub__fetch *f = e->run_head; f; f = f->st->run_next) {
        const hub__fetch_state *st = f->st;
        if (st->state != S_RUNNING)
            continue;
        for (size_t k = 0; k < st->nparts; k++) {
            const hub__part *p = &st->parts[k];
            /* one already due waits for a free connection, which a
             * finishing transfer wakes us for: counting it would spin */
            if (p->in_use && !p->x && p->retry_at_ms > now &&
                p->retry_at_ms < soonest)
                soonest = p->retry_at_ms;
        }
    }
    if (e->paused && e->tokens < 0 && e->cfg->max_rate) {
        int64_t refill_at =
            now + (int64_t)(-e->tokens * 1000.0 / (double)e->cfg->max_rate) + 1;
        if (refill_at < soonest)
            soonest = refill_at;
    }
    return soonest;
}

static bool all_finished(const engine *e)
{
    if (e->next < e->count && e->error == HUB_OK)
        return false;
    /* counts the files in an active state (what max_files caps) */
    return e->active_files == 0;
}

static void abort_all(engine *e, int code)
{
    for (size_t i = 0; i < e->count; i++) {
        hub__fetch *f = &e->items[i];
        if (is_active(f->st->state)) {
            hub__error_set(code, "%s", hub_strerror(code));
            finish(e, f, code);
        } else if (f->st->state == S_PENDING) {
            /* never started: not fetched either, whatever the caller
             * assumed of a result left at HUB_OK */
            f->result = code;
            f->st->state = S_FAILED;
        }
    }
}

static void resume_paused(engine *e)
{
    if (!e->paused || e->tokens <= 0)
        return;
    for (hub__fetch *f = e->run_head; f; f = f->st->run_next) {
        hub__fetch_state *st = f->st;
        for (size_t k = 0; k < st->nparts; k++) {
            hub_xfer *x = st->parts[k].x;
            if (x && hub__xfer_paused(x)) {
                e->paused--;
                hub__xfer_resume(x);
            }
        }
    }
}

static void wake_http(void *arg)
{
    hub__http_wakeup(arg);
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
    e.tokens_ms = hub__now_ms();
    int error = HUB_OK;
    e.hashbuf = hub__malloc(HASH_CHUNK);
    if (!e.hashbuf)
        return HUB_ENOMEM;
    for (size_t i = 0; i < count && error == HUB_OK; i++) {
        items[i].result = HUB_OK;
        items[i].st = hub__calloc(1, sizeof(hub__fetch_state));
        if (!items[i].st)
            error = HUB_ENOMEM;
        else
            items[i].st->fd = -1;
    }
    /* lock waiters count against max_files */
    e.waiters_cap =
        count < (size_t)config->max_files ? count : (size_t)config->max_files;
    if (e.waiters_cap == 0)
        e.waiters_cap = 1;
    e.waiters = hub__calloc(e.waiters_cap, sizeof(*e.waiters));
    e.due = hub__calloc(e.waiters_cap, sizeof(*e.due));
    if (error == HUB_OK && (!e.waiters || !e.due))
        error = HUB_ENOMEM;
    if (error == HUB_OK)
        error = hub__hasher_new(&e.hasher, wake_http, config->http);
    if (error < 0) {
        hub__free(e.waiters);
        hub__free(e.due);
        hub__free(e.hashbuf);
        return error;
    }
    engine *outer = current;
    current = &e;
    while (!all_finished(&e)) {
        if (hub__progress_cancelled(config->progress)) {
            abort_all(&e, HUB_ECANCELLED);
            e.error = hub__error_set(HUB_ECANCELLED,
                                     "download cancelled; run it again to "
                                     "resume");
            break;
        }
        int64_t now = hub__now_ms();
        refill(&e, now);
        resume_paused(&e);
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
            /* recorded first: the aborts must not replace its message */
            hub__error_save(&e.saved);
            e.error = error;
            abort_all(&e, error);
            break;
        }
        hub_xfer *x;
        int result;
        while ((x = hub__http_next_done(config->http, &result)) != NULL) {
            hub__part *p = hub__xfer_tag(x);
            if (p && p->x == x)
                part_done(&e, p, result);
        }
        /* progress between events: the bytes that moved this turn */
        run_prune(&e);
        for (hub__fetch *f = e.run_head; f; f = f->st->run_next)
            if (f->st->state == S_RUNNING)
                report(&e, f, HUB_PHASE_DOWNLOAD);
    }
    current = outer;
    if (e.error != HUB_OK && e.error != HUB_ECANCELLED)
        hub__error_restore(&e.saved);
    hub__hasher_free(e.hasher);
    for (size_t i = 0; i < e.pool_count; i++)
        hub__xfer_free(e.pool[i]);
    hub__free(e.pool);
    hub__free(e.waiters);
    hub__free(e.due);
    hub__free(e.hashbuf);
    return e.error;
}

/* ---- metadata requests ------------------------------------------------------
 */

static bool is_endpoint(const hub__meta_req *req, const char *url)
{
    for (size_t i = 0; i < req->nendpoints; i++)
        if (hub__http_same_origin(url, req->endpoints[i]))
            return true;
    return false;
}

/* Is `url` on an origin the token is for? */
static bool is_token_endpoint(const hub__meta_req *req, const char *url)
{
    for (size_t i = 0; i < req->ntoken_endpoints; i++)
        if (hub__http_same_origin(url, req->token_endpoints[i]))
            return true;
    return false;
}

/* May a metadata request follow an absolute redirect to `url`? To the
 * configured endpoints and the Hub's own hosts (mirrors 308 to the Hub),
 * never elsewhere. */
static bool hub_host(const hub__meta_req *req, const char *url)
{
    if (is_endpoint(req, url))
        return true;
    char *host = hub__http_host(url);
    bool known = host && (strcmp(host, "huggingface.co") == 0 ||
                          strcmp(host, "hf.co") == 0 ||
                          strcmp(host, "hub-ci.huggingface.co") == 0);
    hub__free(host);
    return known;
}

static int cancelled(void)
{
    return hub__error_set(HUB_ECANCELLED,
                          "download cancelled; run it again to resume");
}

/* Sleep `ms`, waking within 20 ms if the download is cancelled, and
 * giving the progress callback its heartbeat meanwhile. */
static int wait_ms(hub__progress *progress, long ms)
{
    int64_t until = hub__now_ms() + ms;
    for (;;) {
        hub__progress_heartbeat(progress);
        if (hub__progress_cancelled(progress))
            return cancelled();
        int64_t left = until - hub__now_ms();
        if (left <= 0)
            return HUB_OK;
        struct timespec ts = {0, (left < 20 ? (long)left : 20L) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* "host (/path)" of `url` for a message: what was asked, without the
 * query (signed links) or userinfo; anything but printable ASCII shown
 * as '?'. */
static void where_of(const char *url, char *out, size_t len)
{
    char *host = hub__http_host(url);
    const char *path = strstr(url, "://");
    path = path ? strchr(path + 3, '/') : NULL;
    int plen = path ? (int)strcspn(path, "?#") : 0;
    snprintf(out, len, "%s (%.*s)", host ? host : "the server",
             plen > 200 ? 200 : plen, path ? path : "");
    hub__free(host);
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
}

int hub__meta_fetch(hub_xfer *x, hub_http *http, const hub__meta_req *req)
{
    char *url = hub__strdup(req->url);
    int error = url ? HUB_OK : HUB_ENOMEM;
    int attempt = 0, hops = 0;
    long stall = hub__http_stall_timeout_ms(http);
    long budget = META_DEADLINE_STALLS * (stall > 0 ? stall : DEFAULT_STALL_MS);
    int64_t deadline = hub__now_ms() + budget;
    char host[512];
    while (error == HUB_OK) {
        hub_xfer_req xr = {0};
        xr.head = req->head;
        xr.url = url;
        /* only to the origins the token is for: never to a mirror the
         * user did not name for it, nor to where a redirect leads */
        xr.token = is_token_endpoint(req, url) ? req->token : NULL;
        xr.cookie = xr.token ? req->cookie : NULL;
        xr.body_sink = req->body;
        xr.post = req->post;
        xr.post_len = req->post_len;
        xr.on_headers = req->on_headers;
        xr.on_data = req->on_data;
        xr.payload = req->payload;
        uint64_t had = req->delivered ? *req->delivered : 0;
        if (req->ranged) {
            xr.ranged = true;
            xr.range_start = req->range_start + had;
            xr.range_end = req->range_end;
        }
        if (req->body)
            hub__buf_reset(req->body);
        if ((error = hub__xfer_start(x, &xr)) < 0)
            break;
        int result = HUB_OK;
        hub_xfer *done = NULL;
        while (!done) {
            hub__progress_heartbeat(req->progress);
            if (hub__progress_cancelled(req->progress)) {
                hub__xfer_abort(x);
                error = cancelled();
                break;
            }
            if (hub__now_ms() >= deadline) {
                hub__xfer_abort(x);
                where_of(url, host, sizeof(host));
                error = hub__error_set(HUB_ETIMEOUT,
                                       "%s did not answer within %ld s "
                                       "(too slow, or stuck); try again later",
                                       host, budget / 1000);
                if (attempt > 0)
                    hub__error_prefix("gave up after %d attempts", attempt + 1);
                break;
            }
            if ((error = hub__http_poll(http, POLL_MS)) < 0)
                break;
            hub_xfer *d;
            while ((d = hub__http_next_done(http, &result)) != NULL)
                if (d == x)
                    done = d;
            if (req->delivered && *req->delivered != had) {
                /* data flows: the deadline is for answers, not bodies */
                had = *req->delivered;
                deadline = hub__now_ms() + budget;
                attempt = 0;
            }
        }
        if (error < 0)
            break;
        const hub_http_resp *r = hub__xfer_resp(x);
        bool transient = result == HUB_ENET || result == HUB_ETIMEOUT ||
                         (result == HUB_OK && hub__status_retryable(r->status));
        long asked = result == HUB_OK ? hub__http_server_wait(r) : -1;
        if (transient && attempt < req->max_retries &&
            asked > HUB__SERVER_WAIT_MAX_S) {
            where_of(url, host, sizeof(host));
            error = server_wait_refused(host, r->status, asked);
            break;
        }
        long d = asked >= 0 ? asked * 1000
                            : backoff_ms(req->retry_base_ms, attempt + 1);
        /* our own backoff only if it ends before the deadline; a wait the
         * server asked for (capped above) is not ours: the deadline moves */
        if (transient && attempt < req->max_retries &&
            (asked >= 0 || hub__now_ms() + d < deadline)) {
            if (asked >= 0)
                deadline += d;
            attempt++;
            /* host and path only: a CDN link's query signs it */
            where_of(url, host, sizeof(host));
            if (result < 0)
                hub__log(req->log, HUB_LOG_INFO, "%s: %s; retrying in %.1f s",
                         host, hub_error_last()->message, (double)d / 1000.0);
            else
                hub__log(req->log, HUB_LOG_INFO,
                         "%s: HTTP %ld; retrying in %.1f s", host, r->status,
                         (double)d / 1000.0);
            error = wait_ms(req->progress, d);
            continue;
        }
        if (result < 0) {
            if (attempt > 0)
                hub__error_prefix("gave up after %d attempts", attempt + 1);
            error = result;
            break;
        }
        /* a POST is repeated only where the status says the method stays
         * (307, 308) */
        bool may_follow = !req->post || r->status == 307 || r->status == 308;
        if (r->status >= 300 && r->status < 400 && r->location &&
            hops < MAX_HOPS && may_follow) {
            /* relative (same origin) or to a hub host: follow; a CDN: stop,
             * the 3xx itself carries the metadata */
            bool relative = hub__http_same_origin(r->location, url);
            if (is_downgrade(url, r->location)) {
                error = downgrade_error(r->status, url, r->location);
                break;
            }
            if (relative || req->follow_any || hub_host(req, r->location)) {
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
    return error;
}
