/* SPDX-License-Identifier: MIT */
/*
 * cache_verify.c: hub_cache_verify(), does every cached file still hold
 * what its name says?
 *
 * The scan (cache_scan.c) says which snapshot files resolve to which
 * blobs, blobs identified by device and inode; the selection (targets,
 * cache_target.c) picks files; each distinct blob they use becomes one
 * work item, hashed once on a pool of threads that read 1 MiB at a time
 * (the page cache and the disk's read-ahead do the rest), biggest first so
 * the threads finish together. The calling thread only reports progress
 * and watches for a cancel. Findings are then read off the selection in
 * cache order, so that every file of every revision using a bad blob is
 * named once.
 *
 * Every file is opened through safefs.c: each component relative to its
 * folder with O_NOFOLLOW, so a link planted in a shared cache is refused,
 * never followed; a snapshot link that is not the exact
 * "../../blobs/<etag>" form is not even in the scan's file list (its
 * warning becomes a finding).
 */
#include "alloc.h"
#include "cache_hf.h"
#include "cache_ms.h"
#include "cache_scan.h"
#include "cache_target.h"
#include "client.h"
#include "digest.h"
#include "download.h"
#include "download_ms.h"
#include "hub_hf.h"
#include "localdir.h"
#include "path.h"
#include "safefs.h"
#include "str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READ_SIZE (1024 * 1024)
#define MAX_THREADS 256
#define TICK_MS 100
/* Folders read below a local dir's metadata folder. */
#define MAX_DEPTH 64
#define META_MAX 4096

/* ---- result ------------------------------------------------------------ */

typedef struct itemvec {
    hub_cache_verify_item *v;
    size_t n, cap;
} itemvec;

struct hub_cache_verify_result {
    hub_cache_verify_summary sum;
    itemvec items;
    unsigned int flags;
};

static void item_free(hub_cache_verify_item *it)
{
    hub__free((char *)it->repo_id);
    hub__free((char *)it->commit);
    hub__free((char *)it->file);
    hub__free((char *)it->path);
    hub__free((char *)it->algorithm);
    hub__free((char *)it->expected);
    hub__free((char *)it->actual);
    hub__free((char *)it->message);
}

static void itemvec_free(itemvec *iv)
{
    for (size_t i = 0; i < iv->n; i++)
        item_free(&iv->v[i]);
    hub__free(iv->v);
    memset(iv, 0, sizeof(*iv));
}

static const char *algo_name(hub_digest_kind k)
{
    return k == HUB_DIGEST_SHA256    ? "sha256"
           : k == HUB_DIGEST_GITSHA1 ? "git-sha1"
                                     : NULL;
}

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = hub__strdup(s);
    if (!d)
        *oom = true;
    return d;
}

/* What one finding says; strings are copied. */
typedef struct finding {
    hub_verify_status status;
    hub_repo_type type;
    const char *repo_id, *commit, *file, *path;
    hub_digest_kind kind;
    const char *expected, *actual;
} finding;

static int add_item(itemvec *iv, const finding *f, const char *fmt, ...)
    HUB_PRINTF(3, 4);

static int add_item(itemvec *iv, const finding *f, const char *fmt, ...)
{
    if (!HUB_GROW(iv->v, iv->n, iv->cap))
        return HUB_ENOMEM;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    hub__text_clean(msg, sizeof(msg));
    bool oom = false;
    hub_cache_verify_item *it = &iv->v[iv->n];
    memset(it, 0, sizeof(*it));
    it->status = f->status;
    it->repo_type = f->type;
    it->repo_id = dup_or_null(f->repo_id, &oom);
    it->commit = dup_or_null(f->commit, &oom);
    it->file = dup_or_null(f->file, &oom);
    it->path = dup_or_null(f->path, &oom);
    it->algorithm = dup_or_null(algo_name(f->kind), &oom);
    it->expected = dup_or_null(f->expected, &oom);
    it->actual = dup_or_null(f->actual, &oom);
    it->message = dup_or_null(msg, &oom);
    if (oom) {
        item_free(it);
        return HUB_ENOMEM;
    }
    iv->n++;
    return HUB_OK;
}

/* ---- hashing ------------------------------------------------------------ */

enum { WS_PENDING = 0, WS_OK, WS_MISMATCH, WS_UNREADABLE, WS_SKIPPED };

/* One content to hash. */
typedef struct work {
    char *path;       /* absolute */
    const char *root; /* the folder it must stay below */
    const char *name; /* shown in progress (borrowed) */
    uint64_t size;    /* as the scan saw it */
    hub_digest_kind kind;
    char expected[65];
    /* written by the worker that took it */
    int state;
    char actual[65];
    char *error;
} work;

typedef struct pool {
    work **items; /* biggest first */
    size_t n;
    atomic_size_t next;
    atomic_size_t done;
    atomic_uint_least64_t bytes;
    atomic_bool stop;
    const atomic_bool *cancel; /* the client's flag */
    atomic_size_t *current;    /* per thread: item in hand, SIZE_MAX none */
    atomic_uint_least64_t *current_bytes;
    pthread_mutex_t mu;
    pthread_cond_t finished;
    int running;
} pool;

typedef struct worker_arg {
    pool *p;
    size_t index;
} worker_arg;

static bool stopping(pool *p)
{
    return atomic_load(&p->stop) || (p->cancel && atomic_load(p->cancel));
}

static void fail_work(work *w, int state, const char *msg)
{
    w->state = state;
    w->error = hub__strdup(msg);
    hub__error_clear();
}

static void hash_one(pool *p, size_t self, work *w, unsigned char *buf)
{
    int fd = hub__sfs_open(w->root, w->path, O_RDONLY, 0);
    if (fd < 0) {
        fail_work(w, WS_UNREADABLE, hub_error_last()->message);
        return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s is not a regular file", w->path);
        fail_work(w, WS_UNREADABLE, msg);
        close(fd);
        return;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    hub_digest *d = NULL;
    if (hub__digest_new(&d, w->kind, (uint64_t)st.st_size) < 0) {
        fail_work(w, WS_UNREADABLE, hub_error_last()->message);
        close(fd);
        return;
    }
    uint64_t got = 0;
    for (;;) {
        if (stopping(p)) {
            w->state = WS_SKIPPED;
            break;
        }
        ssize_t n = read(fd, buf, READ_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            char msg[512];
            snprintf(msg, sizeof(msg), "cannot read %s: %s", w->path,
                     strerror(errno));
            fail_work(w, WS_UNREADABLE, msg);
            break;
        }
        if (n == 0)
            break;
        if (hub__digest_update(d, buf, (size_t)n) < 0) {
            fail_work(w, WS_UNREADABLE, hub_error_last()->message);
            break;
        }
        got += (uint64_t)n;
        atomic_fetch_add(&p->bytes, (uint64_t)n);
        atomic_store(&p->current_bytes[self], got);
    }
    if (w->state == WS_PENDING) {
        if (hub__digest_final(d, w->actual) < 0)
            fail_work(w, WS_UNREADABLE, hub_error_last()->message);
        else
            w->state =
                strcmp(w->actual, w->expected) == 0 ? WS_OK : WS_MISMATCH;
    }
    /* the progress counted the scan's size: count what differs */
    if (got < w->size && w->state != WS_SKIPPED)
        atomic_fetch_add(&p->bytes, w->size - got);
    hub__digest_free(d);
    close(fd);
}

static void *worker(void *arg)
{
    worker_arg *a = arg;
    pool *p = a->p;
    unsigned char *buf = hub__malloc(READ_SIZE);
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            break;
        work *w = p->items[i];
        if (!buf) {
            fail_work(w, WS_UNREADABLE, "out of memory");
        } else if (stopping(p)) {
            w->state = WS_SKIPPED;
        } else {
            atomic_store(&p->current_bytes[a->index], 0);
            atomic_store(&p->current[a->index], i);
            hash_one(p, a->index, w, buf);
        }
        atomic_store(&p->current[a->index], SIZE_MAX);
        atomic_fetch_add(&p->done, 1);
    }
    hub__free(buf);
    pthread_mutex_lock(&p->mu);
    p->running--;
    pthread_cond_signal(&p->finished);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmp_work(const void *a, const void *b)
{
    const work *x = *(work *const *)a, *y = *(work *const *)b;
    return x->size < y->size ? 1 : x->size > y->size ? -1 : 0;
}

typedef struct reporter {
    hub_progress_cb cb;
    void *payload;
    hub_progress ev;
    int64_t start;
    size_t *reported; /* per thread: item shown in flight */
} reporter;

/* One round of events; false when the callback asks to stop. */
static bool report(reporter *r, pool *p, int nthreads, bool final)
{
    if (!r->cb)
        return true;
    hub_progress *ev = &r->ev;
    uint64_t done = atomic_load(&p->bytes);
    ev->bytes_done = done > ev->bytes_total ? ev->bytes_total : done;
    ev->files_done = atomic_load(&p->done);
    double secs = (double)(mono_ms() - r->start) / 1000.0;
    ev->rate = secs > 0 ? (double)ev->bytes_done / secs : 0.0;
    ev->eta = ev->rate > 0
                  ? (double)(ev->bytes_total - ev->bytes_done) / ev->rate
                  : -1.0;
    bool go = true;
    for (int t = 0; t < nthreads; t++) {
        size_t cur = final ? SIZE_MAX : atomic_load(&p->current[t]);
        size_t was = r->reported[t];
        if (was != SIZE_MAX && was != cur) {
            ev->phase = HUB_PHASE_DONE;
            ev->file = p->items[was]->name;
            ev->file_index = was;
            ev->file_bytes_done = ev->file_bytes_total = p->items[was]->size;
            go = r->cb(ev, r->payload) == 0 && go;
            r->reported[t] = SIZE_MAX;
        }
        if (cur != SIZE_MAX && cur < p->n) {
            ev->phase = HUB_PHASE_VERIFY;
            ev->file = p->items[cur]->name;
            ev->file_index = cur;
            ev->file_bytes_total = p->items[cur]->size;
            uint64_t fb = atomic_load(&p->current_bytes[t]);
            ev->file_bytes_done =
                fb > ev->file_bytes_total ? ev->file_bytes_total : fb;
            go = r->cb(ev, r->payload) == 0 && go;
            r->reported[t] = cur;
        }
    }
    ev->file = NULL;
    ev->file_index = 0;
    ev->file_bytes_done = ev->file_bytes_total = 0;
    ev->phase = final ? HUB_PHASE_DONE : HUB_PHASE_VERIFY;
    ev->final = final;
    if (final)
        ev->eta = 0;
    go = r->cb(ev, r->payload) == 0 && go;
    return go;
}

/* Hash every item on `nthreads` threads; the calling thread reports. */
static int run_pool(work **items,
                    size_t n,
                    int nthreads,
                    hub_client *client,
                    hub_progress_cb cb,
                    void *payload)
{
    qsort(items, n, sizeof(*items), cmp_work);
    pool p;
    memset(&p, 0, sizeof(p));
    p.items = items;
    p.n = n;
    atomic_init(&p.next, 0);
    atomic_init(&p.done, 0);
    atomic_init(&p.bytes, 0);
    atomic_init(&p.stop, false);
    p.cancel = &client->cancel;
    reporter r;
    memset(&r, 0, sizeof(r));
    r.cb = cb;
    r.payload = payload;
    r.start = mono_ms();
    r.ev.version = HUB_PROGRESS_VERSION;
    r.ev.file_count = n;
    for (size_t i = 0; i < n; i++)
        r.ev.bytes_total += items[i]->size;
    size_t nt = (size_t)nthreads;
    p.current = hub__calloc(nt, sizeof(*p.current));
    p.current_bytes = hub__calloc(nt, sizeof(*p.current_bytes));
    r.reported = hub__calloc(nt, sizeof(*r.reported));
    pthread_t *th = hub__calloc(nt, sizeof(*th));
    worker_arg *args = hub__calloc(nt, sizeof(*args));
    if (!p.current || !p.current_bytes || !r.reported || !th || !args) {
        hub__free(p.current);
        hub__free(p.current_bytes);
        hub__free(r.reported);
        hub__free(th);
        hub__free(args);
        return HUB_ENOMEM;
    }
    for (size_t t = 0; t < nt; t++) {
        atomic_init(&p.current[t], SIZE_MAX);
        atomic_init(&p.current_bytes[t], 0);
        r.reported[t] = SIZE_MAX;
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p.finished, &ca);
    pthread_condattr_destroy(&ca);
    int error = HUB_OK;
    size_t started = 0;
    for (; started < nt; started++) {
        args[started].p = &p;
        args[started].index = started;
        pthread_mutex_lock(&p.mu);
        p.running++;
        pthread_mutex_unlock(&p.mu);
        if (pthread_create(&th[started], NULL, worker, &args[started]) != 0) {
            pthread_mutex_lock(&p.mu);
            p.running--;
            pthread_mutex_unlock(&p.mu);
            break;
        }
    }
    if (started == 0) {
        /* no thread at all: hash here */
        args[0].p = &p;
        args[0].index = 0;
        p.running = 1;
        worker(&args[0]);
    }
    pthread_mutex_lock(&p.mu);
    while (p.running > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&p.finished, &p.mu, &ts);
        if (p.running == 0)
            break;
        pthread_mutex_unlock(&p.mu);
        if (!report(&r, &p, (int)(started ? started : 1), false))
            atomic_store(&p.stop, true);
        pthread_mutex_lock(&p.mu);
    }
    pthread_mutex_unlock(&p.mu);
    for (size_t t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    bool cancelled = stopping(&p);
    if (!report(&r, &p, (int)(started ? started : 1), true))
        cancelled = true;
    if (cancelled)
        error = hub__error_set(HUB_ECANCELLED, "verification cancelled");
    pthread_cond_destroy(&p.finished);
    pthread_mutex_destroy(&p.mu);
    hub__free(p.current);
    hub__free(p.current_bytes);
    hub__free(r.reported);
    hub__free(th);
    hub__free(args);
    return error;
}

static void work_free(work *w)
{
    if (!w)
        return;
    hub__free(w->path);
    hub__free(w->error);
    hub__free(w);
}

static work *work_new(const char *path,
                      const char *root,
                      const char *name,
                      uint64_t size,
                      const char *expected)
{
    work *w = hub__calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->path = hub__strdup(path);
    if (!w->path) {
        hub__free(w);
        return NULL;
    }
    w->root = root;
    w->name = name;
    w->size = size;
    w->kind = hub__digest_kind_for_etag(expected);
    snprintf(w->expected, sizeof(w->expected), "%s", expected);
    return w;
}

typedef struct workvec {
    work **v;
    size_t n, cap;
} workvec;

static int workvec_push(workvec *wv, work *w)
{
    if (!w)
        return HUB_ENOMEM;
    if (!HUB_GROW(wv->v, wv->n, wv->cap)) {
        work_free(w);
        return HUB_ENOMEM;
    }
    wv->v[wv->n++] = w;
    return HUB_OK;
}

static void workvec_free(workvec *wv)
{
    for (size_t i = 0; i < wv->n; i++)
        work_free(wv->v[i]);
    hub__free(wv->v);
}

/* ---- the verification ------------------------------------------------------
 */

typedef struct verify {
    hub_client *client;
    hub_cache_verify_options o;
    hub_cache_verify_result *res;
    itemvec fails, notes; /* failures first, then the rest */
    workvec work;
    int nthreads;
    hub__progress progress; /* the listing requests' cancel point */
} verify;

static bool is_failure(hub_verify_status s, unsigned int flags)
{
    if (s == HUB_VERIFY_UNVERIFIABLE || s == HUB_VERIFY_UNINDEXED)
        return false;
    if (s == HUB_VERIFY_MISSING)
        return (flags & HUB_CACHE_VERIFY_FAIL_ON_MISSING) != 0;
    return true;
}

static int add(verify *v, const finding *f, const char *fmt, ...)
    HUB_PRINTF(3, 4);

static int add(verify *v, const finding *f, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    itemvec *iv = is_failure(f->status, v->o.flags) ? &v->fails : &v->notes;
    hub_cache_verify_summary *s = &v->res->sum;
    switch (f->status) {
    case HUB_VERIFY_MISMATCH:
    case HUB_VERIFY_UNREADABLE:
    case HUB_VERIFY_BROKEN:
        s->failed_files++;
        break;
    case HUB_VERIFY_DEFECT:
        s->defects++;
        break;
    case HUB_VERIFY_MISSING:
        s->missing++;
        break;
    case HUB_VERIFY_EXTRA:
        s->extra++;
        break;
    case HUB_VERIFY_UNVERIFIABLE:
        s->unverifiable++;
        break;
    case HUB_VERIFY_REMOTE_DIFFERS:
    case HUB_VERIFY_UNINDEXED:
        break;
    }
    return add_item(iv, f, "%s", msg);
}

/* A finding for a hashed item that is not sound (or HUB_OK if it is). */
static int add_work_finding(verify *v, finding *f, const work *w)
{
    if (!w || w->state == WS_OK || w->state == WS_SKIPPED ||
        w->state == WS_PENDING)
        return HUB_OK;
    f->kind = w->kind;
    f->expected = w->expected;
    if (w->state == WS_MISMATCH) {
        f->status = HUB_VERIFY_MISMATCH;
        f->actual = w->actual;
        return add(v, f, "expected %s (%s), got %s", w->expected,
                   algo_name(w->kind), w->actual);
    }
    f->status = HUB_VERIFY_UNREADABLE;
    f->actual = NULL;
    return add(v, f, "%s", w->error ? w->error : "cannot be read");
}

/* ---- cache mode ------------------------------------------------------------
 */

/* What was selected in one repository. */
typedef struct rsel {
    bool whole;           /* every revision */
    bool *revs;           /* per revision: all its files */
    bool *some;           /* per revision: some files (file targets) */
    bool **files;         /* per revision, per file (file targets), or NULL */
    hub__listing *remote; /* per revision (HUB_CACHE_VERIFY_REMOTE) */
    bool *remote_ok;
    bool **seen;        /* per revision, per remote entry: found here */
    hub__listing *tree; /* per revision: trees/<commit>.json, if needed */
    bool *tree_read;
    hub__mscache *msc; /* ModelScope classic: the index (.msc), or NULL */
} rsel;

static void rsel_free(rsel *s, const hub__crepo *r)
{
    for (size_t j = 0; j < r->nrevs; j++) {
        if (s->files)
            hub__free(s->files[j]);
        if (s->remote)
            hub__listing_free(&s->remote[j]);
        if (s->seen)
            hub__free(s->seen[j]);
        if (s->tree)
            hub__listing_free(&s->tree[j]);
    }
    hub__free(s->revs);
    hub__free(s->some);
    hub__free(s->files);
    hub__free(s->remote);
    hub__free(s->remote_ok);
    hub__free(s->seen);
    hub__free(s->tree);
    hub__free(s->tree_read);
    if (s->msc)
        hub__mscache_free(s->msc);
    hub__free(s->msc);
}

static size_t rev_index(const hub__crepo *r, const hub__crev *rev)
{
    for (size_t j = 0; j < r->nrevs; j++)
        if (r->revs[j] == rev)
            return j;
    return SIZE_MAX;
}

static size_t file_index(const hub__crev *rev, const hub__cfile *f)
{
    for (size_t k = 0; k < rev->nfiles; k++)
        if (rev->files[k] == f)
            return k;
    return SIZE_MAX;
}

static bool rev_selected(const rsel *s, size_t j)
{
    return s->whole || s->revs[j] || s->some[j];
}

static bool file_selected(const rsel *s, size_t j, size_t k)
{
    return s->whole || s->revs[j] ||
           (s->files && s->files[j] && s->files[j][k]);
}

static int rsel_alloc(rsel *s, const hub__crepo *r)
{
    size_t n = r->nrevs ? r->nrevs : 1;
    s->revs = hub__calloc(n, sizeof(*s->revs));
    s->some = hub__calloc(n, sizeof(*s->some));
    s->files = hub__calloc(n, sizeof(*s->files));
    s->remote = hub__calloc(n, sizeof(*s->remote));
    s->remote_ok = hub__calloc(n, sizeof(*s->remote_ok));
    s->seen = hub__calloc(n, sizeof(*s->seen));
    s->tree = hub__calloc(n, sizeof(*s->tree));
    s->tree_read = hub__calloc(n, sizeof(*s->tree_read));
    if (!s->revs || !s->some || !s->files || !s->remote || !s->remote_ok ||
        !s->seen || !s->tree || !s->tree_read)
        return HUB_ENOMEM;
    return HUB_OK;
}

static int select_targets(verify *v, hub_cache_info *info, rsel *sel)
{
    int error = HUB_OK;
    for (size_t i = 0; i < info->nrepos && error == HUB_OK; i++)
        error = rsel_alloc(&sel[i], info->repos[i]);
    if (error < 0)
        return error;
    if (!v->o.target_count) {
        for (size_t i = 0; i < info->nrepos; i++)
            sel[i].whole = true;
        return HUB_OK;
    }
    for (size_t t = 0; t < v->o.target_count; t++) {
        const char *target = v->o.targets[t];
        if (!target)
            return hub__error_set(HUB_EINVAL, "invalid argument: NULL target");
        hub__cache_target ct;
        if ((error = hub__cache_target_resolve(info, target, &ct)) < 0)
            return error;
        if (!ct.repo)
            return hub__error_set(HUB_ENOTCACHED,
                                  "'%s' is not in the cache %s; see "
                                  "'hubfetch cache ls --revisions'",
                                  target, info->dir);
        size_t ri = 0;
        while (ri < info->nrepos && info->repos[ri] != ct.repo)
            ri++;
        if (ri == info->nrepos)
            return hub__error_set(HUB_ERROR, "internal error: target repo");
        rsel *s = &sel[ri];
        if (!ct.rev) {
            s->whole = true;
            continue;
        }
        size_t j = rev_index(ct.repo, ct.rev);
        if (j == SIZE_MAX)
            return hub__error_set(HUB_ERROR, "internal error: target rev");
        if (!ct.file) {
            s->revs[j] = true;
            continue;
        }
        if (!s->files[j]) {
            s->files[j] =
                hub__calloc(ct.rev->nfiles ? ct.rev->nfiles : 1, sizeof(bool));
            if (!s->files[j])
                return HUB_ENOMEM;
        }
        size_t k = file_index(ct.rev, ct.file);
        if (k != SIZE_MAX) {
            s->files[j][k] = true;
            s->some[j] = true;
        }
    }
    return HUB_OK;
}

/* The recorded listing of revision j, read once; NULL if none. */
static const hub__listing *tree_of(rsel *s, const hub__crepo *r, size_t j)
{
    if (!s->tree_read[j]) {
        s->tree_read[j] = true;
        hub__hfcache c;
        if (hub__hfcache_init(&c, r->path, r->pub.type, r->id, true) ==
            HUB_OK) {
            /* the repository's own folder: the scan found it there */
            hub__free(c.repo_dir);
            c.repo_dir = hub__strdup(r->path);
            if (c.repo_dir && hub__hfcache_read_tree(&c, r->revs[j]->commit,
                                                     &s->tree[j]) != HUB_OK)
                hub__listing_free(&s->tree[j]);
        }
        hub__hfcache_free(&c);
        hub__error_clear();
    }
    return s->tree[j].count ? &s->tree[j] : NULL;
}

/* The scan's warnings about the selected part of repository `r`. */
static int repo_warnings(verify *v, hub__crepo *r, rsel *s)
{
    bool any = s->whole;
    for (size_t j = 0; j < r->nrevs && !any; j++)
        any = rev_selected(s, j);
    if (!any)
        return HUB_OK;
    for (size_t w = 0; w < r->nproblems; w++) {
        const hub__cproblem *p = &r->problems[w];
        const char *text = p->text;
        size_t j = 0;
        while (j < r->nrevs && r->revs[j] != p->rev)
            j++;
        bool of_rev = j < r->nrevs;
        /* a revision's problem counts when all the revision is selected;
         * the repository's own only when all of it is */
        if (of_rev ? !(s->whole || s->revs[j]) : !s->whole)
            continue;
        const char *file = of_rev ? p->file : NULL;
        finding f = {0};
        f.status = p->broken && file ? HUB_VERIFY_BROKEN : HUB_VERIFY_DEFECT;
        f.type = r->pub.type;
        f.repo_id = r->id;
        f.commit = of_rev ? r->revs[j]->commit : NULL;
        f.file = file;
        int error = add(v, &f, "%s", text);
        if (error == HUB_OK && f.status == HUB_VERIFY_BROKEN) {
            v->res->sum.files++;
            /* not "missing" too: it is there, broken */
            if (s->remote_ok[j]) {
                const hub__entry *e = hub__listing_find(&s->remote[j], file);
                if (e)
                    s->seen[j][e - s->remote[j].items] = true;
            }
        }
        if (error < 0)
            return error;
    }
    return HUB_OK;
}

/* ---- ModelScope ------------------------------------------------------------
 *
 * A ModelScope cache names no file by its digest. Offline, a classic
 * repository's index (.msc) is checked against the files there (what it
 * lists must be there: the SDK takes it as cached; what it does not list
 * the SDK downloads again), and the files are "not verifiable offline".
 * With --remote every file is hashed (sha256, on the same pool, each
 * content once) and compared with the Sha256 and Size of the hub's
 * listing.
 *
 * Which revision is listed: the one the SDK downloaded. A classic folder
 * holds one revision, fetched by the branch or tag name that .mv records
 * ("master" without .mv, as after a single-file download), and the scan
 * names the revision so; a new-layout snapshot folder is named by it. The
 * per-file Revision in .msc is the commit that last changed each file:
 * listing by it would take a request per distinct commit, by a commit id
 * the classic SDK never sends (whether the server takes one is unverified,
 * reference §1.8, §9). It tells instead a file the hub has changed since
 * it was cached (the listing's Revision differs, which is the SDK's own
 * test before it downloads the file again) from a corrupt one.
 */

static bool is_ms(const hub__crepo *r)
{
    return r->layout != HUB__LAYOUT_HF;
}

/* The hub's listing of revision j of `r`. */
static int
list_remote(verify *v, const hub__crepo *r, size_t j, hub__listing *out)
{
    const char *rev = r->revs[j]->commit;
    if (is_ms(r))
        return hub__download_ms_list_remote(out, v->client, r->pub.type, r->id,
                                            rev, &v->progress);
    char commit[41];
    return hub__download_list_remote(out, commit, v->client, r->pub.type, r->id,
                                     rev, &v->progress);
}

/* A classic repository's index, read only: a bad one stays where it is. */
static int ms_load_index(rsel *s, const hub__crepo *r)
{
    s->msc = hub__calloc(1, sizeof(*s->msc));
    if (!s->msc)
        return HUB_ENOMEM;
    int error =
        hub__mscache_init(s->msc, r->ms_root, r->pub.type, r->id, NULL, NULL);
    if (error == HUB_OK) {
        /* the repository's own folder: the scan found it there */
        hub__free(s->msc->repo_dir);
        s->msc->repo_dir = hub__strdup(r->path);
        error =
            s->msc->repo_dir ? hub__mscache_load(s->msc, false) : HUB_ENOMEM;
    }
    return error;
}

/* Commit ids the SDK takes for the same (one may be short). */
static bool same_revision(const char *a, const char *b)
{
    return a[0] && b[0] &&
           (hub__str_starts_with(a, b) || hub__str_starts_with(b, a));
}

/* The findings of file `fd` (content `b`, hashed by `w` if at all) of
 * ModelScope revision j; `e` its entry in the hub's listing. */
static int ms_file_findings(verify *v,
                            const rsel *s,
                            const hub__crev *rev,
                            size_t j,
                            finding *fd,
                            const hub__cblob *b,
                            const work *w,
                            const hub__entry *e)
{
    const char *cached =
        s->msc ? hub__mscache_revision(s->msc, fd->file) : NULL;
    if (s->msc && !s->msc->bad && !cached) {
        /* (a bad index is one defect, not one note per file) */
        finding x = *fd;
        x.status = HUB_VERIFY_UNINDEXED;
        int error = add(v, &x,
                        "not in the index (.msc): the ModelScope SDK does "
                        "not take it as cached and downloads it again");
        if (error < 0)
            return error;
    }
    if (!s->remote_ok[j]) {
        fd->status = HUB_VERIFY_UNVERIFIABLE;
        return add(v, fd,
                   "not verifiable offline: a ModelScope cache records no "
                   "digest; run with --remote to check it against the hub");
    }
    if (!e) {
        fd->status = HUB_VERIFY_EXTRA;
        return add(v, fd, "not on the hub at revision %s", rev->commit);
    }
    bool sized = e->size != UINT64_MAX;
    if (!e->lfs_sha256) {
        if (sized && e->size != b->size) {
            fd->status = HUB_VERIFY_MISMATCH;
            return add(v, fd, "%llu bytes, the hub lists %llu (and no sha256)",
                       (unsigned long long)b->size,
                       (unsigned long long)e->size);
        }
        fd->status = HUB_VERIFY_UNVERIFIABLE;
        return add(v, fd, "the hub lists no sha256 for it%s",
                   sized ? "; its size matches" : "");
    }
    if (!w || w->state == WS_SKIPPED || w->state == WS_PENDING)
        return HUB_OK;
    if (w->state == WS_UNREADABLE)
        return add_work_finding(v, fd, w);
    /* the content's own sha256: right also when it is hard-linked under
     * another name that the hub lists with another digest */
    if (strcmp(w->actual, e->lfs_sha256) == 0)
        return HUB_OK;
    fd->kind = HUB_DIGEST_SHA256;
    fd->expected = e->lfs_sha256;
    fd->actual = w->actual;
    if (cached && e->revision && !same_revision(cached, e->revision)) {
        fd->status = HUB_VERIFY_REMOTE_DIFFERS;
        return add(v, fd,
                   "the hub's %s has another version of it (commit %s) than "
                   "the one cached (commit %s); the SDK downloads it again",
                   rev->commit, e->revision, cached);
    }
    fd->status = HUB_VERIFY_MISMATCH;
    if (sized && e->size != b->size)
        return add(v, fd,
                   "expected %s (sha256, %llu bytes), got %s (%llu bytes)",
                   e->lfs_sha256, (unsigned long long)e->size, w->actual,
                   (unsigned long long)b->size);
    return add(v, fd, "expected %s (sha256), got %s", e->lfs_sha256, w->actual);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A classic revision's index against the folder: unreadable, or listing
 * files that are gone (the SDK takes them as cached). */
static int ms_index_findings(verify *v, const hub__crepo *r, rsel *s, size_t j)
{
    const hub__mscache *c = s->msc;
    const hub__crev *rev = r->revs[j];
    finding fd = {0};
    fd.type = r->pub.type;
    fd.repo_id = r->id;
    fd.commit = rev->commit;
    if (c->bad) {
        fd.status = HUB_VERIFY_DEFECT;
        return add(v, &fd,
                   "the index %s/.msc %s: the ModelScope SDK sets it aside "
                   "and downloads every file again",
                   r->path, c->bad);
    }
    /* what the folder has: its files, and the entries the scan refused */
    const char **names =
        hub__calloc(rev->nfiles + r->nproblems + 1, sizeof(*names));
    if (!names)
        return HUB_ENOMEM;
    size_t n = 0;
    for (size_t k = 0; k < rev->nfiles; k++)
        names[n++] = rev->files[k]->pub.file_name;
    for (size_t k = 0; k < r->nproblems; k++)
        if (r->problems[k].rev == rev && r->problems[k].file)
            names[n++] = r->problems[k].file;
    qsort(names, n, sizeof(*names), cmp_str);
    hub__listing *remote = s->remote_ok[j] ? &s->remote[j] : NULL;
    int error = HUB_OK;
    for (size_t i = 0; i < hub__mscache_count(c) && error == HUB_OK; i++) {
        const char *p = hub__mscache_path_at(c, i);
        if (bsearch(&p, names, n, sizeof(*names), cmp_str))
            continue;
        char *abs = hub__path_check_repo_path(p) == HUB_OK
                        ? hub__mscache_file(c, p)
                        : NULL;
        hub__error_clear();
        fd.status = HUB_VERIFY_BROKEN;
        fd.file = p;
        fd.path = abs;
        v->res->sum.files++;
        error = add(v, &fd,
                    "listed in the index (.msc) but missing: the ModelScope "
                    "SDK takes it as cached and does not download it again");
        hub__free(abs);
        /* not "missing" too: the index says it is here */
        const hub__entry *e = remote ? hub__listing_find(remote, p) : NULL;
        if (e)
            s->seen[j][e - remote->items] = true;
    }
    hub__free(names);
    return error;
}

static int verify_cache(verify *v)
{
    hub_cache_info *info = NULL;
    int error = hub_cache_scan(&info, v->client, NULL);
    if (error < 0)
        return error;
    hub_cache_verify_summary *sum = &v->res->sum;
    rsel *sel = hub__calloc(info->nrepos ? info->nrepos : 1, sizeof(*sel));
    work **by_blob =
        hub__calloc(info->nblobs ? info->nblobs : 1, sizeof(*by_blob));
    if (!sel || !by_blob) {
        error = HUB_ENOMEM;
        goto done;
    }
    if ((error = select_targets(v, info, sel)) < 0)
        goto done;

    /* the hub's listings first: they are the expectation of files with
     * no blob name */
    for (size_t i = 0; i < info->nrepos; i++) {
        hub__crepo *r = info->repos[i];
        rsel *s = &sel[i];
        for (size_t j = 0; j < r->nrevs; j++) {
            if (!rev_selected(s, j))
                continue;
            sum->revisions++;
            if (!(v->o.flags & HUB_CACHE_VERIFY_REMOTE))
                continue;
            error = list_remote(v, r, j, &s->remote[j]);
            if (error < 0) {
                hub__error_prefix("%s:%s@%s", hub__repo_type_name(r->pub.type),
                                  r->id, r->revs[j]->commit);
                goto done;
            }
            s->seen[j] = hub__calloc(
                s->remote[j].count ? s->remote[j].count : 1, sizeof(bool));
            if (!s->seen[j]) {
                error = HUB_ENOMEM;
                goto done;
            }
            s->remote_ok[j] = true;
        }
        bool any = s->whole;
        for (size_t j = 0; j < r->nrevs && !any; j++)
            any = rev_selected(s, j);
        sum->repos += any;
        if (any && r->layout == HUB__LAYOUT_MS_CLASSIC &&
            (error = ms_load_index(s, r)) < 0)
            goto done;
    }

    /* one work item per distinct content with something to check against */
    for (size_t i = 0; i < info->nrepos; i++) {
        hub__crepo *r = info->repos[i];
        rsel *s = &sel[i];
        for (size_t j = 0; j < r->nrevs; j++) {
            hub__crev *rev = r->revs[j];
            for (size_t k = 0; k < rev->nfiles; k++) {
                if (!file_selected(s, j, k))
                    continue;
                hub__cfile *f = rev->files[k];
                sum->files++;
                if (by_blob[f->blob])
                    continue;
                const hub__cblob *b = &info->blobs[f->blob];
                const char *expected = b->etag;
                if (!expected && s->remote_ok[j]) {
                    const hub__entry *e =
                        hub__listing_find(&s->remote[j], f->pub.file_name);
                    expected = e ? hub__entry_etag(e) : NULL;
                }
                if (!expected && !is_ms(r)) {
                    const hub__listing *t = tree_of(s, r, j);
                    const hub__entry *e =
                        t ? hub__listing_find(t, f->pub.file_name) : NULL;
                    expected = e ? hub__entry_etag(e) : NULL;
                }
                if (!expected ||
                    hub__digest_kind_for_etag(expected) == HUB_DIGEST_NONE)
                    continue;
                work *w = work_new(b->path, info->dir, f->pub.file_name,
                                   b->size, expected);
                if ((error = workvec_push(&v->work, w)) < 0)
                    goto done;
                by_blob[f->blob] = w;
            }
        }
    }
    sum->blobs = v->work.n;
    if (v->work.n) {
        int nt = v->nthreads < (int)v->work.n ? v->nthreads : (int)v->work.n;
        sum->threads = nt;
        error = run_pool(v->work.v, v->work.n, nt, v->client, v->o.progress_cb,
                         v->o.progress_payload);
        for (size_t i = 0; i < v->work.n; i++)
            if (v->work.v[i]->state != WS_SKIPPED)
                sum->bytes += v->work.v[i]->size;
        if (error < 0)
            goto done;
    }

    /* findings, in cache order: every file of a bad blob is named */
    for (size_t i = 0; i < info->nrepos && error == HUB_OK; i++) {
        hub__crepo *r = info->repos[i];
        rsel *s = &sel[i];
        for (size_t j = 0; j < r->nrevs && error == HUB_OK; j++) {
            hub__crev *rev = r->revs[j];
            hub__listing *remote = s->remote_ok[j] ? &s->remote[j] : NULL;
            for (size_t k = 0; k < rev->nfiles && error == HUB_OK; k++) {
                if (!file_selected(s, j, k))
                    continue;
                hub__cfile *f = rev->files[k];
                const hub__cblob *b = &info->blobs[f->blob];
                const work *w = by_blob[f->blob];
                finding fd = {0};
                fd.type = r->pub.type;
                fd.repo_id = r->id;
                fd.commit = rev->commit;
                fd.file = f->pub.file_name;
                fd.path = b->path;
                const hub__entry *e =
                    remote ? hub__listing_find(remote, f->pub.file_name) : NULL;
                if (e)
                    s->seen[j][e - remote->items] = true;
                if (is_ms(r)) {
                    error = ms_file_findings(v, s, rev, j, &fd, b, w, e);
                    continue;
                }
                if (!w) {
                    fd.status = HUB_VERIFY_UNVERIFIABLE;
                    error = add(v, &fd,
                                "a plain file with no listing to check it "
                                "against (trees/%s.json); --remote checks "
                                "it against the hub",
                                rev->commit);
                } else {
                    error = add_work_finding(v, &fd, w);
                }
                if (error < 0)
                    break;
                if (remote && !e) {
                    finding x = fd;
                    x.status = HUB_VERIFY_EXTRA;
                    x.kind = HUB_DIGEST_NONE;
                    x.expected = x.actual = NULL;
                    error =
                        add(v, &x, "not on the hub at commit %s", rev->commit);
                } else if (e && b->etag &&
                           strcmp(hub__entry_etag(e), b->etag) != 0) {
                    finding x = fd;
                    x.status = HUB_VERIFY_REMOTE_DIFFERS;
                    x.kind = hub__digest_kind_for_etag(hub__entry_etag(e));
                    x.expected = hub__entry_etag(e);
                    x.actual = b->etag;
                    error = add(v, &x,
                                "the hub lists %s, the snapshot links to "
                                "blob %s",
                                hub__entry_etag(e), b->etag);
                }
            }
            if (error == HUB_OK && s->msc && (s->whole || s->revs[j]))
                error = ms_index_findings(v, r, s, j);
        }
        if (error == HUB_OK)
            error = repo_warnings(v, r, s);
        /* what the hub has and the snapshot lacks (whole revisions only) */
        for (size_t j = 0; j < r->nrevs && error == HUB_OK; j++) {
            if (!s->remote_ok[j] || !(s->whole || s->revs[j]))
                continue;
            const hub__listing *l = &s->remote[j];
            for (size_t k = 0; k < l->count && error == HUB_OK; k++) {
                const hub__entry *e = &l->items[k];
                if (s->seen[j][k])
                    continue;
                finding x = {0};
                x.status = HUB_VERIFY_MISSING;
                x.type = r->pub.type;
                x.repo_id = r->id;
                x.commit = r->revs[j]->commit;
                x.file = e->path;
                x.kind = hub__digest_kind_for_etag(hub__entry_etag(e));
                x.expected = hub__entry_etag(e);
                error = add(v, &x,
                            is_ms(r) ? "on the hub, not in the cache"
                                     : "on the hub, not in the snapshot");
            }
        }
    }

done:
    for (size_t i = 0; sel && i < info->nrepos; i++)
        rsel_free(&sel[i], info->repos[i]);
    hub__free(sel);
    hub__free(by_blob);
    hub_cache_info_free(info);
    return error;
}

/* ---- local dir mode --------------------------------------------------------
 */

/* One file of a local dir that has metadata. */
typedef struct lfile {
    char *path; /* relative, '/'-separated */
    char commit[41];
    char etag[65];
    bool meta_ok;
    work *w;
} lfile;

typedef struct lstate {
    verify *v;
    hub__localdir ld;
    lfile *files;
    size_t n, cap;
} lstate;

static int cmp_lfile(const void *a, const void *b)
{
    return strcmp(((const lfile *)a)->path, ((const lfile *)b)->path);
}

/* Parse "<commit>\n<etag>\n<timestamp>\n" as localdir.c writes it (and
 * huggingface_hub); read-only: a garbled file is reported, not removed. */
static bool parse_meta(const char *text, lfile *f)
{
    const char *l1 = text, *e1 = strchr(l1, '\n');
    if (!e1)
        return false;
    const char *l2 = e1 + 1, *e2 = strchr(l2, '\n');
    if (!e2)
        return false;
    char *commit = hub__str_trim_dup(l1, (size_t)(e1 - l1));
    char *etag = hub__str_trim_dup(l2, (size_t)(e2 - l2));
    bool ok = commit && etag && strlen(commit) <= 40 && strlen(etag) <= 64;
    if (ok) {
        snprintf(f->commit, sizeof(f->commit), "%s", commit);
        snprintf(f->etag, sizeof(f->etag), "%s", etag);
    }
    hub__free(commit);
    hub__free(etag);
    hub__error_clear();
    return ok;
}

static int lfile_push(lstate *ls, char *path)
{
    if (!path)
        return HUB_ENOMEM;
    if (!HUB_GROW(ls->files, ls->n, ls->cap)) {
        hub__free(path);
        return HUB_ENOMEM;
    }
    lfile *f = &ls->files[ls->n++];
    memset(f, 0, sizeof(*f));
    f->path = path;
    return HUB_OK;
}

/* Every "<path>.metadata" below the open folder `dfd` (`rel` its path
 * below download/, "" or ending in '/'). */
static int walk_meta(lstate *ls, int dfd, const char *rel, size_t depth)
{
    int fd = dup(dfd);
    DIR *d = fd >= 0 ? hub__sfs_opendir_at(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return hub__path_error(errno, "cannot read", ls->ld.meta_dir);
    }
    int error = HUB_OK;
    struct dirent *de;
    while (error == HUB_OK && (de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        size_t nl = strlen(n);
        if (S_ISDIR(st.st_mode)) {
            if (depth + 1 > MAX_DEPTH ||
                strlen(rel) + nl + 2 > HUB_REPO_PATH_MAX) {
                finding f = {0};
                f.status = HUB_VERIFY_DEFECT;
                f.repo_id = ls->v->o.repo_id;
                f.type = ls->v->o.repo_type;
                error = add(ls->v, &f, "folder too deep, not read: %s/%s%s",
                            ls->ld.meta_dir, rel, n);
                continue;
            }
            int sub = openat(dirfd(d), n,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            char *srel = hub__aprintf("%s%s/", rel, n);
            if (sub >= 0 && srel)
                error = walk_meta(ls, sub, srel, depth + 1);
            else if (!srel)
                error = HUB_ENOMEM;
            if (sub >= 0)
                close(sub);
            hub__free(srel);
            continue;
        }
        if (!S_ISREG(st.st_mode) || nl <= 9 ||
            strcmp(n + nl - 9, ".metadata") != 0)
            continue;
        char *path = hub__aprintf("%s%.*s", rel, (int)(nl - 9), n);
        if ((error = lfile_push(ls, path)) < 0)
            break;
        lfile *f = &ls->files[ls->n - 1];
        int mfd = openat(dirfd(d), n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        size_t len = 0;
        char *text = mfd >= 0 ? hub__file_read_fd(mfd, META_MAX, &len) : NULL;
        if (mfd >= 0)
            close(mfd);
        hub__error_clear();
        f->meta_ok = text && parse_meta(text, f) &&
                     hub__path_check_repo_path(f->path) == HUB_OK;
        hub__error_clear();
        hub__free(text);
    }
    closedir(d);
    return error;
}

static int verify_local(verify *v)
{
    lstate ls;
    memset(&ls, 0, sizeof(ls));
    ls.v = v;
    hub_cache_verify_summary *sum = &v->res->sum;
    hub__listing remote = HUB_LISTING_INIT;
    bool *seen = NULL;
    char *dl_dir = NULL;
    int error = hub__localdir_init(&ls.ld, v->o.local_dir);
    if (error < 0)
        return error;
    if (!hub__path_is_dir(ls.ld.root)) {
        error = hub__error_set(HUB_ENOTCACHED, "local dir not found: %s",
                               ls.ld.root);
        goto done;
    }
    dl_dir = hub__aprintf("%s/download", ls.ld.meta_dir);
    if (!dl_dir) {
        error = HUB_ENOMEM;
        goto done;
    }
    int dfd = hub__sfs_dir(ls.ld.root, dl_dir, false);
    if (dfd < 0) {
        error = hub__error_set(HUB_ENOTCACHED,
                               "%s holds no download metadata (%s): nothing "
                               "was downloaded there by hubfetch or "
                               "huggingface_hub",
                               ls.ld.root, dl_dir);
        goto done;
    }
    error = walk_meta(&ls, dfd, "", 0);
    close(dfd);
    if (error < 0)
        goto done;
    qsort(ls.files, ls.n, sizeof(*ls.files), cmp_lfile);
    sum->repos = 1;
    sum->revisions = 1;

    if (v->o.flags & HUB_CACHE_VERIFY_REMOTE) {
        if (!v->o.repo_id) {
            error = hub__error_set(HUB_EINVAL,
                                   "verifying a local dir against the hub "
                                   "needs the repository's id");
            goto done;
        }
        const char *rev = v->o.revision;
        for (size_t i = 0; !rev && i < ls.n; i++) {
            if (!ls.files[i].meta_ok || !hub__str_is_commit(ls.files[i].commit))
                continue;
            rev = ls.files[i].commit;
            for (size_t k = 0; k < ls.n && rev; k++)
                if (ls.files[k].meta_ok &&
                    strcmp(ls.files[k].commit, ls.files[i].commit) != 0)
                    rev = NULL;
            break;
        }
        char commit[41];
        error = hub__download_list_remote(&remote, commit, v->client,
                                          v->o.repo_type, v->o.repo_id,
                                          rev ? rev : "main", &v->progress);
        if (error < 0)
            goto done;
        seen = hub__calloc(remote.count ? remote.count : 1, sizeof(*seen));
        if (!seen) {
            error = HUB_ENOMEM;
            goto done;
        }
    }

    for (size_t i = 0; i < ls.n; i++) {
        lfile *f = &ls.files[i];
        sum->files++;
        if (!f->meta_ok ||
            hub__digest_kind_for_etag(f->etag) == HUB_DIGEST_NONE)
            continue;
        char *abs = hub__localdir_file(&ls.ld, f->path);
        if (!abs) {
            error = HUB_ENOMEM;
            goto done;
        }
        struct stat st;
        uint64_t size =
            hub__sfs_lstat(ls.ld.root, abs, &st) == 0 && S_ISREG(st.st_mode)
                ? (uint64_t)st.st_size
                : 0;
        f->w = work_new(abs, ls.ld.root, f->path, size, f->etag);
        hub__free(abs);
        if ((error = workvec_push(&v->work, f->w)) < 0) {
            f->w = NULL;
            goto done;
        }
    }
    /* files the hub has, present without metadata: checked against it */
    for (size_t k = 0; k < remote.count; k++) {
        const hub__entry *e = &remote.items[k];
        lfile key = {0};
        key.path = e->path;
        if (bsearch(&key, ls.files, ls.n, sizeof(*ls.files), cmp_lfile))
            continue;
        char *abs = hub__localdir_file(&ls.ld, e->path);
        if (!abs) {
            error = HUB_ENOMEM;
            goto done;
        }
        struct stat st;
        if (hub__sfs_lstat(ls.ld.root, abs, &st) == 0 && S_ISREG(st.st_mode)) {
            seen[k] = true;
            sum->files++;
            error = workvec_push(&v->work, work_new(abs, ls.ld.root, e->path,
                                                    (uint64_t)st.st_size,
                                                    hub__entry_etag(e)));
        }
        hub__free(abs);
        if (error < 0)
            goto done;
    }
    sum->blobs = v->work.n;
    if (v->work.n) {
        int nt = v->nthreads < (int)v->work.n ? v->nthreads : (int)v->work.n;
        sum->threads = nt;
        error = run_pool(v->work.v, v->work.n, nt, v->client, v->o.progress_cb,
                         v->o.progress_payload);
        for (size_t i = 0; i < v->work.n; i++)
            if (v->work.v[i]->state != WS_SKIPPED)
                sum->bytes += v->work.v[i]->size;
        if (error < 0)
            goto done;
    }

    for (size_t i = 0; i < ls.n && error == HUB_OK; i++) {
        lfile *f = &ls.files[i];
        finding fd = {0};
        fd.type = v->o.repo_type;
        fd.repo_id = v->o.repo_id;
        fd.commit = f->meta_ok && f->commit[0] ? f->commit : NULL;
        fd.file = f->path;
        const hub__entry *e =
            remote.count ? hub__listing_find(&remote, f->path) : NULL;
        if (e)
            seen[e - remote.items] = true;
        char *abs = hub__localdir_file(&ls.ld, f->path);
        fd.path = abs;
        if (!f->meta_ok) {
            fd.status = HUB_VERIFY_DEFECT;
            error = add(v, &fd, "unreadable metadata %s/download/%s.metadata",
                        ls.ld.meta_dir, f->path);
        } else if (!f->w) {
            fd.status = HUB_VERIFY_UNVERIFIABLE;
            error =
                add(v, &fd, "the metadata records no digest ('%s')", f->etag);
        } else if (f->w->state == WS_UNREADABLE && f->w->size == 0 &&
                   hub__sfs_lstat(ls.ld.root, abs, &(struct stat){0}) != 0) {
            fd.status = HUB_VERIFY_BROKEN;
            error = add(v, &fd, "has metadata but is missing");
        } else {
            error = add_work_finding(v, &fd, f->w);
        }
        if (error == HUB_OK && (v->o.flags & HUB_CACHE_VERIFY_REMOTE)) {
            finding x = fd;
            x.kind = HUB_DIGEST_NONE;
            x.expected = x.actual = NULL;
            if (!e) {
                x.status = HUB_VERIFY_EXTRA;
                error = add(v, &x, "not on the hub");
            } else if (f->meta_ok && strcmp(hub__entry_etag(e), f->etag) != 0) {
                x.status = HUB_VERIFY_REMOTE_DIFFERS;
                x.kind = hub__digest_kind_for_etag(hub__entry_etag(e));
                x.expected = hub__entry_etag(e);
                x.actual = f->etag;
                error = add(v, &x, "the hub lists %s, the metadata records %s",
                            hub__entry_etag(e), f->etag);
            }
        }
        hub__free(abs);
    }
    /* the present files without metadata, checked against the hub */
    for (size_t i = 0; i < v->work.n && error == HUB_OK; i++) {
        work *w = v->work.v[i];
        bool tracked = false;
        for (size_t k = 0; k < ls.n && !tracked; k++)
            tracked = ls.files[k].w == w;
        if (tracked)
            continue;
        finding fd = {0};
        fd.type = v->o.repo_type;
        fd.repo_id = v->o.repo_id;
        fd.file = w->name;
        fd.path = w->path;
        error = add_work_finding(v, &fd, w);
    }
    for (size_t k = 0; k < remote.count && error == HUB_OK; k++) {
        if (seen[k])
            continue;
        const hub__entry *e = &remote.items[k];
        finding x = {0};
        x.status = HUB_VERIFY_MISSING;
        x.type = v->o.repo_type;
        x.repo_id = v->o.repo_id;
        x.file = e->path;
        x.kind = hub__digest_kind_for_etag(hub__entry_etag(e));
        x.expected = hub__entry_etag(e);
        error = add(v, &x, "on the hub, not in the local dir");
    }

done:
    for (size_t i = 0; i < ls.n; i++)
        hub__free(ls.files[i].path);
    hub__free(ls.files);
    hub__free(seen);
    hub__free(dl_dir);
    hub__listing_free(&remote);
    hub__localdir_free(&ls.ld);
    return error;
}

/* ---- API -------------------------------------------------------------- */

int hub_cache_verify_options_init(hub_cache_verify_options *opts,
                                  unsigned int version)
{
    HUB_ASSERT_ARG(opts);
    if (version != HUB_CACHE_VERIFY_OPTIONS_VERSION)
        return hub__error_set(HUB_EVERSION,
                              "unsupported hub_cache_verify_options version "
                              "%u",
                              version);
    hub_cache_verify_options d = HUB_CACHE_VERIFY_OPTIONS_INIT;
    *opts = d;
    return HUB_OK;
}

static int check_options(const hub_cache_verify_options *o)
{
    if (o->version < 1 || o->version > HUB_CACHE_VERIFY_OPTIONS_VERSION)
        return hub__error_set(HUB_EVERSION,
                              "unsupported hub_cache_verify_options version "
                              "%u",
                              o->version);
    if (o->flags &
        ~(HUB_CACHE_VERIFY_REMOTE | HUB_CACHE_VERIFY_FAIL_ON_MISSING))
        return hub__error_set(HUB_EINVAL, "unknown hub_cache_verify flags %#x",
                              o->flags);
    if (o->target_count && !o->targets)
        return hub__error_set(HUB_EINVAL,
                              "invalid argument: target_count without "
                              "targets");
    if (o->threads < 0 || o->threads > MAX_THREADS)
        return hub__error_set(HUB_EINVAL,
                              "invalid thread count %d (0 for one per CPU, "
                              "at most %d)",
                              o->threads, MAX_THREADS);
    if ((unsigned)o->repo_type > HUB_REPO_SPACE)
        return hub__error_set(HUB_EINVAL, "invalid repo_type %d",
                              (int)o->repo_type);
    if (o->local_dir && o->repo_id)
        return hub__hf_check_repo_id(o->repo_id);
    return HUB_OK;
}

static int64_t now_ms(void)
{
    return mono_ms();
}

int hub_cache_verify(hub_cache_verify_result **out,
                     hub_client *client,
                     const hub_cache_verify_options *opts)
{
    HUB_ASSERT_ARG(out);
    *out = NULL;
    HUB_ASSERT_ARG(client);
    verify v;
    memset(&v, 0, sizeof(v));
    hub_cache_verify_options d = HUB_CACHE_VERIFY_OPTIONS_INIT;
    v.o = opts ? *opts : d;
    int error = check_options(&v.o);
    if (error < 0)
        return error;
    if ((error = hub__client_enter(client)) < 0)
        return error;
    v.client = client;
    if (client->hub != HUB_KIND_HF && v.o.local_dir) {
        error = hub__error_set(HUB_EUNSUPPORTED,
                               "verifying a ModelScope local dir is not "
                               "supported yet; verify its cache");
        goto leave;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    v.nthreads = v.o.threads          ? v.o.threads
                 : cpus < 1           ? 1
                 : cpus > MAX_THREADS ? MAX_THREADS
                                      : (int)cpus;
    v.res = hub__calloc(1, sizeof(*v.res));
    if (!v.res) {
        error = HUB_ENOMEM;
        goto leave;
    }
    v.res->flags = v.o.flags;
    hub__progress_init(&v.progress, NULL, NULL);
    v.progress.cancel_also = &client->cancel;
    int64_t start = now_ms();
    error = v.o.local_dir ? verify_local(&v) : verify_cache(&v);
    v.res->sum.seconds = (double)(now_ms() - start) / 1000.0;
    hub__progress_free(&v.progress);
    workvec_free(&v.work);
    if (error == HUB_OK) {
        /* failures first, then the notes */
        itemvec *all = &v.res->items;
        size_t n = v.fails.n + v.notes.n;
        all->v = hub__calloc(n ? n : 1, sizeof(*all->v));
        if (!all->v) {
            error = HUB_ENOMEM;
        } else {
            if (v.fails.n)
                memcpy(all->v, v.fails.v, v.fails.n * sizeof(*all->v));
            if (v.notes.n)
                memcpy(all->v + v.fails.n, v.notes.v,
                       v.notes.n * sizeof(*all->v));
            all->n = all->cap = n;
            hub__free(v.fails.v);
            hub__free(v.notes.v);
            v.fails = v.notes = (itemvec){0};
        }
    }
    if (error == HUB_OK) {
        size_t nfail = 0;
        for (size_t i = 0; i < v.res->items.n; i++)
            nfail += is_failure(v.res->items.v[i].status, v.o.flags);
        *out = v.res;
        v.res = NULL;
        if (nfail) {
            const hub_cache_verify_summary *s = &(*out)->sum;
            const hub_cache_verify_item *first = &(*out)->items.v[0];
            error = hub__error_set(
                HUB_ECHECKSUM,
                "verification failed: %zu problem(s) (%llu of %llu file(s) "
                "failed); first: %s%s%s: %s",
                nfail, (unsigned long long)s->failed_files,
                (unsigned long long)s->files,
                first->repo_id ? first->repo_id : "",
                first->repo_id && first->file ? ":" : "",
                first->file ? first->file : "", first->message);
        }
    }
    itemvec_free(&v.fails);
    itemvec_free(&v.notes);
    hub_cache_verify_result_free(v.res);
leave:
    hub__client_leave(client);
    return error;
}

const hub_cache_verify_summary *
hub_cache_verify_result_summary(const hub_cache_verify_result *result)
{
    return result ? &result->sum : NULL;
}

size_t hub_cache_verify_result_count(const hub_cache_verify_result *result)
{
    return result ? result->items.n : 0;
}

const hub_cache_verify_item *
hub_cache_verify_result_item(const hub_cache_verify_result *result,
                             size_t index)
{
    return result && index < result->items.n ? &result->items.v[index] : NULL;
}

int hub_cache_verify_item_failed(const hub_cache_verify_result *result,
                                 const hub_cache_verify_item *item)
{
    return result && item && is_failure(item->status, result->flags);
}

void hub_cache_verify_result_free(hub_cache_verify_result *result)
{
    if (!result)
        return;
    itemvec_free(&result->items);
    hub__free(result);
}
