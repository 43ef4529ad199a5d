/* SPDX-License-Identifier: MIT */
/* download_ms.c: a download request against ModelScope, from listing to
 * the classic cache (reference: modelscope-protocol.md). */
#include "download_ms.h"

#include "alloc.h"
#include "buf.h"
#include "cache_ms.h"
#include "engine.h"
#include "hub_modelscope.h"
#include "lock.h"
#include "path.h"
#include "pattern.h"
#include "result.h"
#include "safefs.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define API_BODY_MAX (64u * 1024 * 1024)
#define MAX_PAGES 100000

typedef struct ms {
    hub_client *c;
    const hub_download_options *o;
    bool single;
    hub__repo repo;
    const char *revision;
    size_t ep;
    hub__mscache cache;
    hub_http *http;
    hub_xfer *meta;
    hub__progress *progress;
    char *cookie; /* "m_session_id=<token>" */
    hub__listing listing;
    hub__ms_revision rev;
    /* the plan: indexes into `listing`, and what became of each */
    size_t *plan;
    hub_file_status *status;
    char **served_by;
    uint64_t *fetched;
    size_t nplan;
    hub__lock lock;
} ms;

static const char *type_name(const ms *m)
{
    return m->repo.type == HUB_REPO_DATASET ? "dataset" : "model";
}

static bool has_token(const ms *m)
{
    return m->c->token && m->c->token[0];
}

static void ms_free(ms *m)
{
    hub__lock_release(&m->lock);
    for (size_t i = 0; i < m->nplan; i++)
        hub__free(m->served_by ? m->served_by[i] : NULL);
    hub__free(m->served_by);
    hub__free(m->fetched);
    hub__free(m->plan);
    hub__free(m->status);
    hub__listing_free(&m->listing);
    hub__xfer_free(m->meta);
    hub__http_free(m->http);
    hub__mscache_free(&m->cache);
    if (m->cookie) {
        memset(m->cookie, 0, strlen(m->cookie));
        hub__free(m->cookie);
    }
}

static int ms_open(ms *m,
                   hub_client *c,
                   const char *repo_id,
                   const hub_download_options *o,
                   hub__progress *progress)
{
    memset(m, 0, sizeof(*m));
    m->c = c;
    m->o = o;
    m->progress = progress;
    m->lock = (hub__lock)HUB_LOCK_INIT;
    m->revision = o->revision ? o->revision : "master";
    m->repo.type = o->repo_type;
    m->repo.id = repo_id;
    m->repo.endpoint = c->endpoints[0];
    int error = hub__ms_check_repo_id(repo_id);
    if (error < 0)
        return error;
    if (o->repo_type == HUB_REPO_SPACE)
        return hub__error_set(HUB_EUNSUPPORTED,
                              "ModelScope studios (spaces) are not "
                              "downloadable through its API; use a model or "
                              "dataset id");
    for (size_t i = 0; i < o->file_count; i++)
        if (!o->files[i] || hub__path_check_repo_path(o->files[i]) < 0)
            return hub__error_set(HUB_EINVAL, "invalid file name '%.200s'",
                                  o->files[i] ? o->files[i] : "(null)");
    if (has_token(m) &&
        !(m->cookie = hub__aprintf("m_session_id=%s", c->token)))
        return HUB_ENOMEM;
    return hub__mscache_init(&m->cache, c->cache_dir, o->repo_type, repo_id,
                             o->local_dir, &c->log);
}

/* ---- requests ---------------------------------------------------------- */

static int ensure_http(ms *m)
{
    if (m->http)
        return HUB_OK;
    hub_http_config cfg;
    hub__client_http_config(m->c, &cfg);
    int error = hub__http_new(&m->http, &cfg);
    return error < 0 ? error : hub__xfer_new(&m->meta, m->http);
}

/* GET an API URL; the body must be a successful envelope. HUB_OK with
 * `*status` >= 400 is left to the caller only through `map`. */
static int api_get(ms *m, const char *url, hub_buf *body, const char *path)
{
    int error = ensure_http(m);
    if (error < 0)
        return error;
    hub__meta_req req = {0};
    req.url = url;
    req.token = m->c->token;
    req.cookie = m->cookie;
    req.endpoints = (const char *const *)m->c->endpoints;
    req.nendpoints = m->c->nendpoints;
    req.token_endpoints = (const char *const *)m->c->token_endpoints;
    req.ntoken_endpoints = m->c->ntoken_endpoints;
    req.body = body;
    req.max_retries = m->c->max_retries;
    req.retry_base_ms = m->c->retry_base_ms;
    req.log = &m->c->log;
    req.progress = m->progress;
    if ((error = hub__meta_fetch(m->meta, m->http, &req)) < 0)
        return error;
    const hub_http_resp *r = hub__xfer_resp(m->meta);
    bool sent = has_token(m) && hub__client_token_for(m->c, m->repo.endpoint);
    hub__what what = {m->revision, path, sent, has_token(m) && !sent};
    if (r->status >= 300)
        return hub__backend_modelscope.map_error(&m->repo, &what, r,
                                                 hub__buf_cstr(body));
    /* 200 is not enough: the envelope's Code must say so too */
    return hub__ms_check_envelope(&m->repo, &what, r->status, body->ptr,
                                  body->len);
}

/* Which site has the repo: the SDK probes .cn then .ai (or the reverse),
 * moving on when one answers 404 or cannot be reached. */
static int find_site(ms *m)
{
    hub_buf body = HUB_BUF_INIT(API_BODY_MAX);
    int error;
    for (;;) {
        char *url = hub__ms_info_url(&m->repo);
        error = url ? api_get(m, url, &body, NULL) : HUB_ENOMEM;
        hub__free(url);
        long st = m->meta ? hub__xfer_resp(m->meta)->status : 0;
        bool elsewhere = error == HUB_ENET || error == HUB_ETIMEOUT ||
                         (error < 0 && (st == 404 || st >= 500));
        if (!elsewhere || m->ep + 1 >= m->c->nendpoints)
            break;
        hub__log(&m->c->log, HUB_LOG_INFO, "%s: %s; trying %s",
                 m->repo.endpoint, hub_error_last()->message,
                 m->c->endpoints[m->ep + 1]);
        m->repo.endpoint = m->c->endpoints[++m->ep];
    }
    hub__buf_free(&body);
    return error;
}

static int resolve_revision(ms *m)
{
    if (m->repo.type == HUB_REPO_DATASET)
        return HUB_OK; /* no revision list for datasets: the listing tells */
    hub_buf body = HUB_BUF_INIT(API_BODY_MAX);
    char *url = hub__ms_revisions_url(&m->repo);
    int error = url ? api_get(m, url, &body, NULL) : HUB_ENOMEM;
    hub__free(url);
    if (error == HUB_OK)
        error =
            hub__ms_parse_revisions(body.ptr, body.len, m->revision, &m->rev);
    hub__buf_free(&body);
    if (error == HUB_OK && !m->rev.found && !hub__str_is_commit(m->revision))
        error = hub__error_set(HUB_ENOREV,
                               "revision '%s' not found in ModelScope %s '%s'; "
                               "ModelScope's default branch is 'master'",
                               m->revision, type_name(m), m->repo.id);
    return error;
}

static int list_files(ms *m)
{
    hub_buf body = HUB_BUF_INIT(API_BODY_MAX);
    int error = HUB_OK;
    bool paged = m->repo.type == HUB_REPO_DATASET;
    for (size_t page = 1; page <= MAX_PAGES && error == HUB_OK; page++) {
        char *url =
            hub__ms_listing_url(&m->repo, m->revision, page, HUB_MS_PAGE_SIZE);
        error = url ? api_get(m, url, &body, NULL) : HUB_ENOMEM;
        hub__free(url);
        size_t entries = 0;
        bool null_files = false;
        if (error == HUB_OK)
            error = hub__ms_parse_listing(body.ptr, body.len, &m->listing,
                                          &entries, &null_files);
        if (error == HUB_OK && null_files && page == 1 && m->listing.count == 0)
            error = hub__error_set(HUB_ENOREV,
                                   "revision '%s' not found in ModelScope %s "
                                   "'%s' (the listing is empty)",
                                   m->revision, type_name(m), m->repo.id);
        /* datasets: pages until a short one */
        if (!paged || null_files || entries < HUB_MS_PAGE_SIZE)
            break;
    }
    hub__buf_free(&body);
    return error == HUB_OK ? hub__listing_sort(&m->listing) : error;
}

/* ---- plan ------------------------------------------------------------------
 */

static bool named(const ms *m, const char *path)
{
    for (size_t i = 0; i < m->o->file_count; i++)
        if (strcmp(m->o->files[i], path) == 0)
            return true;
    return false;
}

static bool wanted(const ms *m, const char *path)
{
    const hub_download_options *o = m->o;
    if (named(m, path))
        return true;
    if (o->file_count && !o->allow_count)
        return false;
    return hub__patterns_select(o->allow_patterns, o->allow_count,
                                o->ignore_patterns, o->ignore_count, path);
}

static int make_plan(ms *m)
{
    for (size_t i = 0; i < m->o->file_count; i++)
        if (!hub__listing_find(&m->listing, m->o->files[i]))
            return hub__error_set(HUB_ENOENTRY,
                                  "file '%s' not found in ModelScope %s '%s' "
                                  "at revision '%s'",
                                  m->o->files[i], type_name(m), m->repo.id,
                                  m->revision);
    size_t n = m->listing.count;
    m->plan = hub__calloc(n ? n : 1, sizeof(*m->plan));
    m->status = hub__calloc(n ? n : 1, sizeof(*m->status));
    m->served_by = hub__calloc(n ? n : 1, sizeof(*m->served_by));
    m->fetched = hub__calloc(n ? n : 1, sizeof(*m->fetched));
    if (!m->plan || !m->status || !m->served_by || !m->fetched)
        return HUB_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (wanted(m, m->listing.items[i].path))
            m->plan[m->nplan++] = i;
    return HUB_OK;
}

static const hub__entry *entry_of(const ms *m, size_t k)
{
    return &m->listing.items[m->plan[k]];
}

static void check_cache(ms *m)
{
    for (size_t k = 0; k < m->nplan; k++) {
        const hub__entry *e = entry_of(m, k);
        m->status[k] = !m->o->force_download &&
                               hub__mscache_has(&m->cache, e->path, e->revision)
                           ? HUB_FILE_CACHED
                           : HUB_FILE_PLANNED;
    }
}

static _Thread_local uint64_t activity_sum;

static int
add_activity(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    HUB_UNUSED(path);
    HUB_UNUSED(ftw);
    if (type == FTW_F)
        activity_sum = hub__path_fingerprint(activity_sum, st);
    return 0;
}

/* A fingerprint of what a download holding the repo lock writes: its temp
 * files and the index. It changes while that download makes progress. */
static uint64_t holder_activity(const ms *m)
{
    activity_sum = 0;
    nftw(m->cache.temp_dir, add_activity, 8, FTW_PHYS);
    char *msc = hub__path_join(m->cache.repo_dir, ".msc");
    struct stat st;
    if (msc && stat(msc, &st) == 0)
        add_activity(msc, &st, FTW_F, NULL);
    hub__free(msc);
    return activity_sum;
}

/* The SDK's repo lock, waited for while its holder makes progress and for
 * lock_timeout_ms after it stops. */
static int lock_repo(ms *m)
{
    int64_t start = hub__now_ms(), logged = start, checked = start;
    uint64_t seen = holder_activity(m);
    for (;;) {
        int rc = hub__lock_try(&m->lock, m->cache.root, m->cache.lock_path);
        if (rc != HUB__LOCK_BUSY)
            return rc;
        int64_t now = hub__now_ms();
        if (now - checked >= 1000) {
            uint64_t activity = holder_activity(m);
            checked = now;
            if (activity != seen) {
                seen = activity;
                start = now;
            }
        }
        if (m->c->lock_timeout_ms >= 0 && now - start >= m->c->lock_timeout_ms)
            return hub__error_set(HUB_ELOCKED,
                                  "waited %.0f s for the lock '%s' held by "
                                  "another process that made no progress",
                                  (double)m->c->lock_timeout_ms / 1000.0,
                                  m->cache.lock_path);
        if (now - logged >= 10000) {
            logged = now;
            hub__log(&m->c->log, HUB_LOG_INFO,
                     "still waiting for the lock '%s'", m->cache.lock_path);
        }
        hub__progress_heartbeat(m->progress); /* its callback may cancel */
        if (hub__progress_cancelled(m->progress))
            return hub__error_set(HUB_ECANCELLED, "download cancelled");
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* ---- storage glue
 * -------------------------------------------------------------- */

static int ms_prepare(hub__fetch *f, void *ctx)
{
    ms *m = ctx;
    /* the repo lock is held: only the temp names are needed */
    f->root = m->cache.local ? m->cache.repo_dir : m->cache.root;
    f->prefix_path = hub__mscache_temp(&m->cache, f->path);
    f->temp_base = hub__mscache_temp(&m->cache, f->path);
    return f->prefix_path && f->temp_base ? HUB_OK : HUB_ENOMEM;
}

static int ms_commit(hub__fetch *f, void *ctx)
{
    ms *m = ctx;
    size_t k = (size_t)(uintptr_t)f->owner;
    const hub__entry *e = entry_of(m, k);
    char *dest = hub__mscache_file(&m->cache, f->path);
    int error =
        dest ? hub__sfs_rename(f->root, f->temp_path, dest) : HUB_ENOMEM;
    hub__free(dest);
    if (error == HUB_OK)
        error = hub__mscache_put(&m->cache, f->path, e->revision);
    if (error == HUB_OK)
        m->status[k] = HUB_FILE_DOWNLOADED;
    return error;
}

/* no release: the repo-wide lock is held for the whole run */
static const hub__storage_ops ms_ops = {ms_prepare, ms_commit, NULL};

static int fetch(ms *m)
{
    size_t n = 0;
    for (size_t k = 0; k < m->nplan; k++)
        n += m->status[k] == HUB_FILE_PLANNED;
    for (size_t k = 0; k < m->nplan; k++)
        if (m->status[k] == HUB_FILE_CACHED)
            hub__progress_file(m->progress, k, HUB_PHASE_CACHED,
                               entry_of(m, k)->size, 0, NULL);
    if (n == 0)
        return HUB_OK;
    hub__fetch *items = hub__calloc(n, sizeof(*items));
    if (!items)
        return HUB_ENOMEM;
    int error = HUB_OK;
    size_t count = 0;
    for (size_t k = 0; k < m->nplan && error == HUB_OK; k++) {
        if (m->status[k] != HUB_FILE_PLANNED)
            continue;
        const hub__entry *e = entry_of(m, k);
        hub__fetch *f = &items[count++];
        f->path = e->path;
        f->size = e->size;
        snprintf(f->etag, sizeof(f->etag), "%s",
                 e->lfs_sha256 ? e->lfs_sha256 : "");
        f->digest = e->lfs_sha256 ? HUB_DIGEST_SHA256 : HUB_DIGEST_NONE;
        f->index = k;
        f->owner = (void *)(uintptr_t)k;
        f->lock = (hub__lock)HUB_LOCK_INIT;
        f->nurls = m->c->nendpoints - m->ep;
        f->urls = hub__calloc(f->nurls, sizeof(*f->urls));
        for (size_t u = 0; f->urls && u < f->nurls && error == HUB_OK; u++) {
            hub__repo at = m->repo;
            at.endpoint = m->c->endpoints[m->ep + u];
            if (!(f->urls[u] = hub__ms_file_url(&at, m->revision, e->path)))
                error = HUB_ENOMEM;
        }
        if (!f->urls)
            error = HUB_ENOMEM;
        if (error == HUB_OK && !e->lfs_sha256)
            hub__log(&m->c->log, HUB_LOG_WARN,
                     e->size == UINT64_MAX
                         ? "'%s': the listing gives neither sha256 nor size; "
                           "the file is taken as the server sends it"
                         : "'%s': the listing gives no sha256; only its size "
                           "can be checked",
                     e->path);
    }
    if (error == HUB_OK) {
        hub__engine_config cfg;
        hub__client_engine_config(m->c, &cfg);
        cfg.http = m->http;
        cfg.backend = &hub__backend_modelscope;
        cfg.repo = &m->repo;
        cfg.cookie = m->cookie;
        cfg.revision = m->revision;
        cfg.progress = m->progress;
        error = hub__engine_run(&cfg, items, count, &ms_ops, m);
    }
    /* what did complete is indexed, also after a failure or a cancel */
    int saved = hub__mscache_flush(&m->cache);
    if (error == HUB_OK)
        error = saved;
    for (size_t i = 0; i < count; i++) {
        size_t k = (size_t)(uintptr_t)items[i].owner;
        if (items[i].result < 0)
            m->status[k] = HUB_FILE_MISSING;
        else if (entry_of(m, k)->size == UINT64_MAX) /* learnt from the GET */
            m->listing.items[m->plan[k]].size = items[i].size;
        m->served_by[k] = items[i].served_by;
        items[i].served_by = NULL;
        m->fetched[k] = items[i].bytes_fetched;
        hub__fetch_clear(&items[i]);
    }
    hub__free(items);
    return error;
}

/* ---- results
 * ---------------------------------------------------------------------- */

static int make_result(ms *m, hub_result **out, const char *path)
{
    hub_result *r = NULL;
    int error = hub__result_new(&r);
    if (error == HUB_OK)
        error = hub__result_set_path(r, path);
    if (error == HUB_OK && m->rev.commit[0])
        error = hub__result_set_commit(r, m->rev.commit);
    for (size_t k = 0; k < m->nplan && error == HUB_OK; k++) {
        const hub__entry *e = entry_of(m, k);
        char *local = hub__mscache_file(&m->cache, e->path);
        bool here = m->status[k] != HUB_FILE_MISSING &&
                    m->status[k] != HUB_FILE_PLANNED;
        uint64_t size = e->size;
        struct stat st;
        if (size == UINT64_MAX && here && local && stat(local, &st) == 0)
            size = (uint64_t)st.st_size; /* listed without a size */
        error = local ? hub__result_add(r, e->path,
                                        here || m->o->dry_run ? local : NULL,
                                        size, e->lfs_sha256, m->status[k],
                                        m->served_by[k], m->fetched[k])
                      : HUB_ENOMEM;
        hub__free(local);
    }
    if (error < 0) {
        hub_result_free(r);
        return error;
    }
    *out = r;
    return HUB_OK;
}

/* ---- offline: the classic SDK's local_files_only
 * ---------------------------------- */

static int nothing_cached(ms *m, const char *why)
{
    return hub__error_set(HUB_ENOTCACHED,
                          "ModelScope %s '%s' has no files in the cache %s, "
                          "and %s",
                          type_name(m), m->repo.id, m->cache.root, why);
}

static int from_cache(ms *m, hub_result **out, const char *why)
{
    /* read-only: a bad index is not set aside from here */
    int error = hub__mscache_load(&m->cache, false);
    if (error < 0)
        return error;
    hub_result *r = NULL;
    if ((error = hub__result_new(&r)) < 0)
        return error;
    size_t present = 0, missing = 0;
    const char *first_missing = NULL;
    /* named files must be indexed and on disk; patterns select among the
     * indexed files (the SDK returns the folder if anything is indexed) */
    for (size_t i = 0; i < m->o->file_count && error == HUB_OK; i++) {
        const char *p = m->o->files[i];
        bool here = hub__mscache_has_path(&m->cache, p);
        char *local = hub__mscache_file(&m->cache, p);
        error = local ? hub__result_add(
                            r, p, here ? local : NULL, UINT64_MAX, NULL,
                            here ? HUB_FILE_CACHED : HUB_FILE_MISSING, NULL, 0)
                      : HUB_ENOMEM;
        hub__free(local);
        if (here)
            present++;
        else if (missing++ == 0)
            first_missing = p;
    }
    for (size_t i = 0; i < hub__mscache_count(&m->cache) && error == HUB_OK &&
                       (!m->o->file_count || m->o->allow_count);
         i++) {
        const char *p = hub__mscache_path_at(&m->cache, i);
        if (!wanted(m, p) || named(m, p) ||
            !hub__mscache_has_path(&m->cache, p))
            continue; /* a named file is in the result already */
        char *local = hub__mscache_file(&m->cache, p);
        struct stat st;
        error =
            local ? hub__result_add(r, p, local,
                                    stat(local, &st) == 0 ? (uint64_t)st.st_size
                                                          : UINT64_MAX,
                                    NULL, HUB_FILE_CACHED, NULL, 0)
                  : HUB_ENOMEM;
        hub__free(local);
        present++;
    }
    if (error == HUB_OK && (missing || present == 0)) {
        error = missing ? hub__error_set(HUB_ENOTCACHED,
                                         "'%s' of ModelScope %s '%s' is not "
                                         "in the cache %s and %s",
                                         first_missing, type_name(m),
                                         m->repo.id, m->cache.root, why)
                        : nothing_cached(m, why);
    }
    if (error == HUB_OK) {
        if (m->single) {
            char *path = hub__mscache_file(&m->cache, m->o->files[0]);
            error = path ? hub__result_set_path(r, path) : HUB_ENOMEM;
            hub__free(path);
        } else {
            error = hub__result_set_path(r, m->cache.repo_dir);
        }
    }
    if (error < 0 && error != HUB_ENOTCACHED) {
        hub_result_free(r);
        return error;
    }
    *out = r;
    return error;
}

/* ---- entry points
 * ------------------------------------------------------------------ */

static int run(ms *m, hub_result **out)
{
    if (m->o->local_files_only || m->c->offline) {
        int error = from_cache(m, out,
                               "only the cache may be used "
                               "(--offline)");
        if (error < 0) {
            hub_result_free(*out);
            *out = NULL;
        }
        return error;
    }
    /* prefer_offline is not honoured here: the index records each file's
     * commit, not which branch or tag it came from, so only the hub can say
     * whether a cached file is the one a revision names */
    hub__progress_job(m->progress, HUB_PHASE_RESOLVE, false);
    int error = find_site(m);
    if (error == HUB_OK)
        error = resolve_revision(m);
    if (error == HUB_OK)
        error = list_files(m);
    if (error == HUB_OK)
        error = make_plan(m);
    if (error < 0)
        return error;
    error = hub__progress_plan(m->progress, m->nplan);
    for (size_t k = 0; k < m->nplan && error == HUB_OK; k++)
        hub__progress_set_file(m->progress, k, entry_of(m, k)->path,
                               entry_of(m, k)->size);
    if (error == HUB_OK && !m->o->dry_run)
        error = lock_repo(m);
    if (error == HUB_OK)
        error = hub__mscache_load(&m->cache, !m->o->dry_run);
    if (error < 0)
        return error;
    check_cache(m);
    if (!m->o->dry_run) {
        if ((error = fetch(m)) < 0)
            return error;
        char mv[256];
        if (m->repo.type == HUB_REPO_DATASET || !m->rev.found)
            snprintf(mv, sizeof(mv), "%s", m->revision);
        else
            snprintf(mv, sizeof(mv), "Revision:%s,CreatedAt:%lld", m->revision,
                     (long long)m->rev.created_at);
        if (!m->single)
            hub__mscache_finish(&m->cache, mv);
        hub__lock_release(&m->lock);
    }
    char *path = m->single ? hub__mscache_file(&m->cache, m->o->files[0])
                           : hub__strdup(m->cache.repo_dir);
    error = path ? make_result(m, out, path) : HUB_ENOMEM;
    hub__free(path);
    return error;
}

int hub__download_ms(hub_result **out,
                     hub_client *client,
                     const char *repo_id,
                     const hub_download_options *opts,
                     bool single,
                     hub__progress *progress)
{
    *out = NULL;
    ms m;
    int error = ms_open(&m, client, repo_id, opts, progress);
    m.single = single;
    if (error == HUB_OK && single && opts->file_count != 1)
        error = hub__error_set(HUB_EINVAL, "a single-file download needs "
                                           "exactly one file");
    if (error == HUB_OK)
        error = run(&m, out);
    ms_free(&m);
    return error;
}

int hub__lookup_ms(hub_result **out,
                   hub_client *client,
                   const char *repo_id,
                   const hub_download_options *opts)
{
    *out = NULL;
    hub__progress progress;
    hub__progress_init(&progress, NULL, NULL);
    ms m;
    int error = ms_open(&m, client, repo_id, opts, &progress);
    if (error == HUB_OK)
        error = from_cache(&m, out, "only the cache was consulted");
    ms_free(&m);
    hub__progress_free(&progress);
    return error;
}

int hub__download_ms_list_remote(hub__listing *out,
                                 hub_client *client,
                                 hub_repo_type type,
                                 const char *repo_id,
                                 const char *revision,
                                 hub__progress *progress)
{
    *out = (hub__listing)HUB_LISTING_INIT;
    if (client->offline)
        return hub__error_set(HUB_EINVAL,
                              "listing ModelScope %s '%s' needs the network, "
                              "which is off (--offline)",
                              type == HUB_REPO_DATASET ? "dataset" : "model",
                              repo_id);
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    o.repo_type = type;
    o.revision = revision;
    o.dry_run = 1;
    ms m;
    int error = ms_open(&m, client, repo_id, &o, progress);
    if (error == HUB_OK)
        error = find_site(&m);
    if (error == HUB_OK)
        error = resolve_revision(&m);
    if (error == HUB_OK)
        error = list_files(&m);
    if (error == HUB_OK) {
        *out = m.listing;
        m.listing = (hub__listing)HUB_LISTING_INIT;
    }
    ms_free(&m);
    return error;
}
