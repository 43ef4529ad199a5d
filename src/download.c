/* SPDX-License-Identifier: MIT */
/* download.c: a download request from resolve to commit. */
#include "download.h"
#include "download_ms.h"

#include "alloc.h"
#include "buf.h"
#include "cache_hf.h"
#include "engine.h"
#include "hub_hf.h"
#include "localdir.h"
#include "path.h"
#include "pattern.h"
#include "result.h"
#include "safefs.h"
#include "str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define API_BODY_MAX (64u * 1024 * 1024)

/* One file of the plan. */
typedef struct plan_item {
    char *path;
    uint64_t size;
    char etag[65];
    hub_file_status status;
    char *local_path;
    char *endpoint;   /* that served it */
    uint64_t fetched; /* bytes received over the network */
} plan_item;

typedef struct dl {
    hub_client *c;
    const hub_download_options *o;
    hub__repo repo;
    char *canonical_id; /* the repo's id as the hub spells it, if another */
    const char *revision;
    bool single;
    bool local;
    bool offline;
    hub__hfcache cache;
    hub__localdir ld;
    hub_http *http;
    hub_xfer *meta;
    hub__progress *progress;
    size_t ep;          /* the endpoint in use (failover moves it on) */
    bool told_withheld; /* logged that a mirror gets no token */
    char commit[41];
    hub__listing listing;
    bool have_listing;
    bool listing_borrowed; /* from the client's tree memo: not ours */
    bool hub_listing;      /* list from the hub, never trees/ (verify) */
    plan_item *plan;
    size_t nplan;
    /* single-file metadata from the HEAD */
    char *head_location;
} dl;

/* ---- setup -------------------------------------------------------------- */

static int ensure_http(dl *d)
{
    if (d->http)
        return HUB_OK;
    hub_http_config cfg;
    hub__client_http_config(d->c, &cfg);
    int error = hub__http_new(&d->http, &cfg);
    if (error == HUB_OK)
        error = hub__xfer_new(&d->meta, d->http);
    return error;
}

/* Forget the listing; free it only if it is ours. */
static void listing_drop(dl *d)
{
    if (!d->listing_borrowed)
        hub__listing_free(&d->listing);
    d->listing = (hub__listing)HUB_LISTING_INIT;
    d->listing_borrowed = false;
    d->have_listing = false;
}

static void dl_free(dl *d)
{
    for (size_t i = 0; i < d->nplan; i++) {
        hub__free(d->plan[i].path);
        hub__free(d->plan[i].local_path);
        hub__free(d->plan[i].endpoint);
    }
    hub__free(d->plan);
    listing_drop(d);
    hub__xfer_free(d->meta);
    hub__http_free(d->http);
    hub__hfcache_free(&d->cache);
    hub__localdir_free(&d->ld);
    hub__free(d->head_location);
    hub__free(d->canonical_id);
}

bool hub__download_is_single(const hub_download_options *o)
{
    return o->file_count == 1 && o->allow_count == 0 && o->ignore_count == 0;
}

static int check_list(const char *const *list, size_t n, const char *what)
{
    if (n && !list)
        return hub__error_set(HUB_EINVAL,
                              "invalid argument: %zu %s but no list", n, what);
    for (size_t i = 0; i < n; i++)
        if (!list[i])
            return hub__error_set(HUB_EINVAL, "invalid argument: NULL in %s",
                                  what);
    return HUB_OK;
}

size_t hub__download_options_size(unsigned int version)
{
    return version == 1 ? offsetof(hub_download_options, prefer_offline)
                        : sizeof(hub_download_options);
}

static int check_options(const hub_download_options *o)
{
    if (o->version == 0 || o->version > HUB_DOWNLOAD_OPTIONS_VERSION)
        return hub__error_set(HUB_EVERSION,
                              "download options version %u not supported "
                              "(this library knows %d)",
                              o->version, HUB_DOWNLOAD_OPTIONS_VERSION);
    if (o->repo_type != HUB_REPO_MODEL && o->repo_type != HUB_REPO_DATASET &&
        o->repo_type != HUB_REPO_SPACE)
        return hub__error_set(HUB_EINVAL, "invalid repo type %d",
                              (int)o->repo_type);
    int error = check_list(o->files, o->file_count, "files");
    if (error == HUB_OK)
        error = check_list(o->allow_patterns, o->allow_count, "allow_patterns");
    if (error == HUB_OK)
        error =
            check_list(o->ignore_patterns, o->ignore_count, "ignore_patterns");
    if (error < 0)
        return error;
    for (size_t i = 0; i < o->file_count; i++) {
        error = hub__path_check_repo_path(o->files[i]);
        if (error < 0)
            return hub__error_set(HUB_EINVAL, "invalid file name '%.200s'",
                                  o->files[i]);
    }
    if (o->revision && strlen(o->revision) > 256)
        return hub__error_set(HUB_EINVAL, "invalid revision: over 256 bytes");
    if (o->revision)
        return hub__path_check_revision(o->revision);
    return HUB_OK;
}

int hub__download_options_take(hub_download_options *dst,
                               const hub_download_options *src)
{
    hub_download_options defaults = HUB_DOWNLOAD_OPTIONS_INIT;
    *dst = defaults;
    if (!src)
        return HUB_OK;
    if (src->version == 0 || src->version > HUB_DOWNLOAD_OPTIONS_VERSION)
        return check_options(src); /* says why */
    memcpy(dst, src, hub__download_options_size(src->version));
    return check_options(dst);
}

static int dl_open(dl *d,
                   hub_client *c,
                   const char *repo_id,
                   const hub_download_options *o,
                   hub__progress *progress)
{
    memset(d, 0, sizeof(*d));
    d->c = c;
    d->o = o;
    d->progress = progress;
    d->revision = o->revision ? o->revision : "main";
    d->repo.type = o->repo_type;
    d->repo.id = repo_id;
    d->repo.endpoint = c->endpoint;
    d->offline = c->offline || o->local_files_only;
    d->local = o->local_dir != NULL;
    int error = hub__hf_check_repo_id(repo_id);
    if (error == HUB_OK)
        error = hub__hfcache_init(&d->cache, c->cache_dir, o->repo_type,
                                  repo_id, c->symlinks);
    if (error == HUB_OK && d->local)
        error = hub__localdir_init(&d->ld, o->local_dir);
    return error;
}

static const char *type_name(const dl *d)
{
    return hub__repo_type_name(d->repo.type);
}

static bool has_token(const dl *d)
{
    return d->c->token && d->c->token[0];
}

/* Does the current endpoint get the token? */
static bool sends_token(const dl *d)
{
    return has_token(d) && hub__client_token_for(d->c, d->repo.endpoint);
}

/* ---- metadata requests --------------------------------------------------- */

static int
meta_request(dl *d, bool head, const char *url, hub_buf *body, int retries)
{
    int error = ensure_http(d);
    if (error < 0)
        return error;
    if (has_token(d) && !sends_token(d) && !d->told_withheld) {
        /* said once, so that a 401 from a mirror is understood */
        d->told_withheld = true;
        hub__log(&d->c->log, HUB_LOG_INFO,
                 "token not sent to %s: it goes only to the endpoint it is "
                 "for (--send-token-to-mirrors sends it to mirrors too)",
                 d->c->shown[d->ep]);
    }
    hub__meta_req req = {0};
    req.head = head;
    req.url = url;
    req.token = d->c->token;
    req.endpoints = (const char *const *)d->c->endpoints;
    req.nendpoints = d->c->nendpoints;
    req.token_endpoints = (const char *const *)d->c->token_endpoints;
    req.ntoken_endpoints = d->c->ntoken_endpoints;
    req.body = body;
    req.max_retries = retries;
    req.retry_base_ms = d->c->retry_base_ms;
    req.log = &d->c->log;
    req.progress = d->progress;
    return hub__meta_fetch(d->meta, d->http, &req);
}

/* Did this request fail in a way another endpoint might not? */
static bool endpoint_down(dl *d, int error)
{
    if (error == HUB_ENET || error == HUB_ETIMEOUT)
        return true;
    return error == HUB_OK && hub__xfer_resp(d->meta)->status >= 500;
}

/* Move on to the next endpoint; false if this was the last one. */
static bool next_endpoint(dl *d, int error)
{
    if (d->ep + 1 >= d->c->nendpoints)
        return false;
    char why[300];
    if (error < 0)
        snprintf(why, sizeof(why), "%s", hub_error_last()->message);
    else
        snprintf(why, sizeof(why), "HTTP %ld", hub__xfer_resp(d->meta)->status);
    d->ep++;
    d->repo.endpoint = d->c->endpoints[d->ep];
    hub__log(&d->c->log, HUB_LOG_WARN, "endpoint %s failed (%s); trying %s",
             d->c->shown[d->ep - 1], why, d->c->shown[d->ep]);
    return true;
}

typedef char *(*url_builder)(const hub__repo *repo,
                             const char *revision,
                             const char *path);

static char *
build_revision(const hub__repo *repo, const char *revision, const char *path)
{
    HUB_UNUSED(path);
    return hub__hf_revision_url(repo, revision);
}

static char *
build_tree(const hub__repo *repo, const char *revision, const char *path)
{
    HUB_UNUSED(path);
    return hub__hf_tree_url(repo, revision);
}

/* A metadata request on the current endpoint, moving on to the next ones
 * while an endpoint is down; only the last one is retried. */
static int meta_failover(dl *d,
                         bool head,
                         url_builder build,
                         const char *revision,
                         const char *path,
                         hub_buf *body,
                         int retries)
{
    for (;;) {
        char *url = build(&d->repo, revision, path);
        if (!url)
            return HUB_ENOMEM;
        bool last = d->ep + 1 >= d->c->nendpoints;
        int error = meta_request(d, head, url, body, last ? retries : 0);
        hub__free(url);
        if (!endpoint_down(d, error) || !next_endpoint(d, error))
            return error;
    }
}

/* Map a failed metadata response (status >= 400) of this request. */
static int meta_error(dl *d, const char *path)
{
    const hub_http_resp *r = hub__xfer_resp(d->meta);
    hub__what what = {d->revision, path, sends_token(d),
                      has_token(d) && !sends_token(d)};
    return hub__backend_hf.map_error(&d->repo, &what, r,
                                     hub__xfer_body(d->meta));
}

/* Errors after which the cache may answer instead (huggingface_hub's
 * rule: all but a missing revision or file, and proxy errors). */
static bool cache_may_answer(int error)
{
    return error != HUB_ENOREV && error != HUB_ENOENTRY &&
           error != HUB_EPROXY && error != HUB_ECANCELLED &&
           error != HUB_ENOMEM && error != HUB_EINVAL;
}

static bool transient(int error)
{
    return error == HUB_ENET || error == HUB_ETIMEOUT || error == HUB_EHTTP ||
           error == HUB_ERATELIMIT;
}

static int not_cached(dl *d, const char *why)
{
    const char *what = d->single ? d->o->files[0] : NULL;
    if (what)
        return hub__error_set(HUB_ENOTCACHED,
                              "file '%s' of %s '%s' at revision '%s' is not "
                              "in the cache %s and %s",
                              what, type_name(d), d->repo.id, d->revision,
                              d->cache.root, why);
    return hub__error_set(HUB_ENOTCACHED,
                          "%s '%s' at revision '%s' is not in the cache %s "
                          "and %s",
                          type_name(d), d->repo.id, d->revision, d->cache.root,
                          why);
}

static const char *offline_why(const dl *d)
{
    return d->o->local_files_only
               ? "only the cache may be used (local_files_only / --offline)"
               : "the network is off (HF_HUB_OFFLINE=1); unset it or run "
                 "once online";
}

/* ---- listing ----------------------------------------------------------------
 */

static int resolve_revision(dl *d)
{
    if (hub__str_is_commit(d->revision)) {
        memcpy(d->commit, d->revision, 41);
        return HUB_OK;
    }
    hub_buf body = HUB_BUF_INIT(API_BODY_MAX);
    int error = meta_failover(d, false, build_revision, d->revision, NULL,
                              &body, d->c->max_retries);
    if (error == HUB_OK) {
        long st = hub__xfer_resp(d->meta)->status;
        if (st >= 400) {
            error = meta_error(d, NULL);
        } else if (st != 200) {
            error = hub__error_set_http(HUB_EPROTO, st,
                                        "unexpected HTTP %ld for the info of "
                                        "%s '%s'",
                                        st, type_name(d), d->repo.id);
        } else {
            char *sha = NULL, *id = NULL;
            error = hub__hf_parse_revision(body.ptr, body.len, &sha, &id);
            if (error == HUB_OK) {
                memcpy(d->commit, sha, 41);
                hub__free(sha);
            }
            /* A renamed or mis-cased id: later requests use the hub's own
             * spelling and skip a 307 each; the cache keeps the user's, as
             * huggingface_hub's does. */
            if (error == HUB_OK && id && strcmp(id, d->repo.id) != 0) {
                hub__free(d->canonical_id);
                d->canonical_id = id;
                d->repo.id = id;
                id = NULL;
            }
            hub__free(id);
        }
    }
    hub__buf_free(&body);
    return error;
}

static int list_files(dl *d)
{
    if (!d->hub_listing &&
        hub__hfcache_read_tree(&d->cache, d->commit, &d->listing) == HUB_OK) {
        d->have_listing = true;
        return HUB_OK;
    }
    char *url = NULL;
    hub_buf body = HUB_BUF_INIT(API_BODY_MAX);
    int error = HUB_OK;
    int pages = 0;
    do {
        if (++pages > 100000) {
            error = hub__error_set(HUB_EPROTO, "tree listing never ends");
            break;
        }
        /* the first page may move to another endpoint; the next pages
         * follow their cursor on the endpoint that gave it */
        if (!url)
            error = meta_failover(d, false, build_tree, d->commit, NULL, &body,
                                  d->c->max_retries);
        else
            error = meta_request(d, false, url, &body, d->c->max_retries);
        if (error < 0)
            break;
        const hub_http_resp *r = hub__xfer_resp(d->meta);
        if (r->status >= 400) {
            error = meta_error(d, NULL);
            break;
        }
        if (r->status != 200) {
            error = hub__error_set_http(HUB_EPROTO, r->status,
                                        "unexpected HTTP %ld listing %s '%s'",
                                        r->status, type_name(d), d->repo.id);
            break;
        }
        error = hub__hf_parse_tree_page(body.ptr, body.len, &d->listing);
        char *next = NULL;
        if (error == HUB_OK && r->link_next) {
            /* the cursor URL is opaque: follow it as given, but only on the
             * hub itself */
            next = hub__http_resolve(hub__xfer_url(d->meta), r->link_next);
            if (!next)
                error = HUB_ENOMEM;
            else if (!hub__http_same_origin(next, d->repo.endpoint))
                error = hub__error_set(HUB_EPROTO,
                                       "tree listing points to another host");
        }
        hub__free(url);
        url = next;
    } while (url && error == HUB_OK);
    hub__free(url);
    hub__buf_free(&body);
    if (error == HUB_OK)
        error = hub__listing_sort(&d->listing);
    if (error == HUB_OK) {
        d->have_listing = true;
        if (!d->o->dry_run && !d->local)
            hub__hfcache_write_tree(&d->cache, d->commit, &d->listing);
    }
    return error;
}

int hub__download_list_remote(hub__listing *out,
                              char commit[41],
                              hub_client *c,
                              hub_repo_type type,
                              const char *repo_id,
                              const char *revision,
                              hub__progress *progress)
{
    *out = (hub__listing)HUB_LISTING_INIT;
    commit[0] = '\0';
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    o.repo_type = type;
    o.revision = revision;
    o.dry_run = 1; /* writes no trees/<commit>.json */
    dl d;
    int error = dl_open(&d, c, repo_id, &o, progress);
    d.hub_listing = true;
    if (error == HUB_OK && d.offline)
        error = hub__error_set(HUB_EINVAL,
                               "listing %s '%s' needs the network, which is "
                               "off (HF_HUB_OFFLINE=1)",
                               type_name(&d), repo_id);
    if (error == HUB_OK)
        error = resolve_revision(&d);
    if (error == HUB_OK)
        error = list_files(&d);
    if (error == HUB_OK) {
        *out = d.listing;
        d.listing = (hub__listing)HUB_LISTING_INIT;
        d.have_listing = false;
        memcpy(commit, d.commit, 41);
    }
    dl_free(&d);
    return error;
}

/* ---- plan -------------------------------------------------------------------
 */

static bool want_file(const dl *d, const char *path)
{
    const hub_download_options *o = d->o;
    for (size_t i = 0; i < o->file_count; i++)
        if (strcmp(o->files[i], path) == 0)
            return true;
    if (o->file_count && !o->allow_count)
        return false; /* explicit files only */
    return hub__patterns_select(o->allow_patterns, o->allow_count,
                                o->ignore_patterns, o->ignore_count, path);
}

static int plan_add(dl *d, const char *path, uint64_t size, const char *etag)
{
    plan_item *p = hub__reallocarray(d->plan, d->nplan + 1, sizeof(*p));
    if (!p)
        return HUB_ENOMEM;
    d->plan = p;
    plan_item *it = &d->plan[d->nplan];
    memset(it, 0, sizeof(*it));
    it->path = hub__strdup(path);
    if (!it->path)
        return HUB_ENOMEM;
    it->size = size;
    snprintf(it->etag, sizeof(it->etag), "%s", etag);
    it->status = HUB_FILE_PLANNED;
    d->nplan++;
    return HUB_OK;
}

/* Where a file ends up. */
static char *final_path(const dl *d, const char *path)
{
    return d->local ? hub__localdir_file(&d->ld, path)
                    : hub__hfcache_pointer(&d->cache, d->commit, path);
}

static int plan_from_listing(dl *d)
{
    for (size_t i = 0; i < d->o->file_count; i++)
        if (!hub__listing_find(&d->listing, d->o->files[i]))
            return hub__error_set(HUB_ENOENTRY,
                                  "file '%s' not found in %s '%s' at "
                                  "revision '%s'",
                                  d->o->files[i], type_name(d), d->repo.id,
                                  d->revision);
    for (size_t i = 0; i < d->listing.count; i++) {
        const hub__entry *e = &d->listing.items[i];
        if (!want_file(d, e->path))
            continue;
        int error = plan_add(d, e->path, e->size, hub__entry_etag(e));
        if (error < 0)
            return error;
    }
    return HUB_OK;
}

/* Mark what is already in place. */
static int plan_check_cache(dl *d)
{
    for (size_t i = 0; i < d->nplan; i++) {
        plan_item *it = &d->plan[i];
        it->local_path = final_path(d, it->path);
        if (!it->local_path)
            return HUB_ENOMEM;
        if (d->o->force_download)
            continue;
        if (d->local) {
            hub__localdir_meta m;
            if (hub__localdir_read_meta(&d->ld, it->path, &m) == HUB_OK &&
                strcmp(m.etag, it->etag) == 0) {
                it->status = HUB_FILE_CACHED;
                /* same content at another commit: record this one, so that
                 * the next request pinned to it costs no request */
                if (strcmp(m.commit, d->commit) != 0 && !d->o->dry_run &&
                    hub__localdir_write_meta(&d->ld, it->path, d->commit,
                                             it->etag) < 0)
                    hub__error_clear(); /* bookkeeping only */
            }
        } else {
            struct stat st;
            if (hub__hfcache_has_file(&d->cache, d->commit, it->path, &st,
                                      NULL))
                it->status = HUB_FILE_CACHED;
        }
    }
    return HUB_OK;
}

/* ---- storage glue for the engine -------------------------------------------
 */

typedef struct fetch_ctx {
    dl *d;
} fetch_ctx;

static plan_item *item_of(hub__fetch *f)
{
    return f->owner;
}

/* The etag becomes a file name (blob, lock, temp file): the one rule, once
 * more where it turns into a path. Sets the message when it is not. */
static bool etag_is_name(const hub__fetch *f)
{
    if (hub__str_is_etag(f->etag))
        return true;
    hub__error_set(HUB_EPROTO,
                   "'%s': refusing an etag that is not a git sha1 or sha256 "
                   "as a file name",
                   f->path);
    return false;
}

static int cache_prepare(hub__fetch *f, void *ctx)
{
    dl *d = ((fetch_ctx *)ctx)->d;
    plan_item *it = item_of(f);
    if (!f->lock_path) {
        if (!etag_is_name(f))
            return HUB_EPROTO;
        f->root = d->cache.root;
        f->lock_path = hub__hfcache_lock_path(&d->cache, f->etag);
        /* known before the lock: the engine watches a holder's partials */
        f->temp_base = hub__hfcache_blob(&d->cache, f->etag);
        if (!f->lock_path || !f->temp_base)
            return HUB_ENOMEM;
    }
    int rc = hub__lock_try(&f->lock, f->root, f->lock_path);
    if (rc != HUB_OK)
        return rc;
    /* Another revision, or another process while we waited, has it. */
    bool exists =
        !d->o->force_download && hub__sfs_is_file(d->cache.root, f->temp_base);
    if (exists) {
        int error =
            hub__hfcache_link(&d->cache, d->commit, it->path, f->etag, false);
        if (error < 0)
            return error;
        it->status = HUB_FILE_LINKED;
        return HUB__FETCH_SKIP;
    }
    return HUB_OK;
}

static int cache_commit(hub__fetch *f, void *ctx)
{
    dl *d = ((fetch_ctx *)ctx)->d;
    plan_item *it = item_of(f);
    char *blob = hub__hfcache_blob(&d->cache, f->etag);
    if (!blob)
        return HUB_ENOMEM;
    int error = hub__sfs_rename(d->cache.root, f->temp_path, blob);
    hub__free(blob);
    if (error == HUB_OK)
        error =
            hub__hfcache_link(&d->cache, d->commit, it->path, f->etag, true);
    if (error == HUB_OK)
        it->status = HUB_FILE_DOWNLOADED;
    return error;
}

static void any_release(hub__fetch *f, void *ctx)
{
    HUB_UNUSED(ctx);
    hub__lock_release(&f->lock);
}

static int local_prepare(hub__fetch *f, void *ctx)
{
    dl *d = ((fetch_ctx *)ctx)->d;
    plan_item *it = item_of(f);
    if (!f->lock_path) {
        if (!etag_is_name(f))
            return HUB_EPROTO;
        f->root = d->ld.root;
        f->lock_path = hub__localdir_lock_path(&d->ld, it->path);
        f->temp_base = hub__localdir_temp_base(&d->ld, it->path, f->etag);
        if (!f->lock_path || !f->temp_base)
            return HUB_ENOMEM;
    }
    int rc = hub__lock_try(&f->lock, f->root, f->lock_path);
    if (rc != HUB_OK)
        return rc;
    if (!d->o->force_download) {
        /* present without metadata (copied by hand): the sha256 decides.
         * With metadata of another etag it is simply outdated: no need to
         * read gigabytes to learn that. */
        hub__localdir_meta m;
        if (hub__sfs_is_file(d->ld.root, it->local_path) &&
            hub__digest_kind_for_etag(f->etag) == HUB_DIGEST_SHA256 &&
            hub__localdir_read_meta(&d->ld, it->path, &m) != HUB_OK) {
            char hex[65];
            if (hub__file_sha256(d->ld.root, it->local_path, hex) == HUB_OK &&
                strcmp(hex, f->etag) == 0) {
                it->status = HUB_FILE_CACHED;
                int error = hub__localdir_write_meta(&d->ld, it->path,
                                                     d->commit, f->etag);
                return error < 0 ? error : HUB__FETCH_SKIP;
            }
            hub__error_clear();
        }
        /* in the main cache at this commit: copy it */
        struct stat st;
        int in = -1;
        if (hub__hfcache_has_file(&d->cache, d->commit, it->path, &st, &in)) {
            int error = hub__copy_fd(in, it->path, d->ld.root, it->local_path);
            close(in);
            if (error == HUB_OK)
                error = hub__localdir_write_meta(&d->ld, it->path, d->commit,
                                                 f->etag);
            if (error < 0)
                return error;
            it->status = HUB_FILE_LINKED;
            return HUB__FETCH_SKIP;
        }
    }
    return HUB_OK;
}

static int local_commit(hub__fetch *f, void *ctx)
{
    dl *d = ((fetch_ctx *)ctx)->d;
    plan_item *it = item_of(f);
    int error = hub__sfs_rename(d->ld.root, f->temp_path, it->local_path);
    if (error == HUB_OK)
        error = hub__localdir_write_meta(&d->ld, it->path, d->commit, f->etag);
    if (error == HUB_OK)
        it->status = HUB_FILE_DOWNLOADED;
    return error;
}

static const hub__storage_ops cache_ops = {cache_prepare, cache_commit,
                                           any_release};
static const hub__storage_ops local_ops = {local_prepare, local_commit,
                                           any_release};

/* ---- fetch ------------------------------------------------------------------
 */

static int run_plan(dl *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->nplan; i++)
        n += d->plan[i].status == HUB_FILE_PLANNED;
    for (size_t i = 0; i < d->nplan; i++)
        if (d->plan[i].status == HUB_FILE_CACHED)
            hub__progress_file(d->progress, i, HUB_PHASE_CACHED,
                               d->plan[i].size, 0, NULL);
    if (n == 0)
        return HUB_OK;
    int error = ensure_http(d);
    if (error < 0)
        return error;
    if (d->local) {
        error = hub__localdir_create(&d->ld);
    } else {
        hub__hfcache_write_tag(&d->cache);
        char *blobs = hub__path_join(d->cache.repo_dir, "blobs");
        error = blobs ? hub__sfs_mkdirs(d->cache.root, blobs) : HUB_ENOMEM;
        hub__free(blobs);
    }
    if (error < 0)
        return error;
    hub__fetch *items = hub__calloc(n, sizeof(*items));
    if (!items)
        return HUB_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < d->nplan && error == HUB_OK; i++) {
        plan_item *it = &d->plan[i];
        if (it->status != HUB_FILE_PLANNED)
            continue;
        hub__fetch *f = &items[k++];
        f->path = it->path;
        f->size = it->size;
        memcpy(f->etag, it->etag, sizeof(f->etag));
        f->digest = hub__digest_kind_for_etag(it->etag);
        f->index = i;
        f->owner = it;
        f->lock = (hub__lock)HUB_LOCK_INIT;
        /* its resolve URL on this endpoint and on the fallbacks */
        f->nurls = d->c->nendpoints - d->ep;
        f->urls = hub__calloc(f->nurls, sizeof(*f->urls));
        for (size_t u = 0; f->urls && u < f->nurls && error == HUB_OK; u++) {
            hub__repo at = d->repo;
            at.endpoint = d->c->endpoints[d->ep + u];
            if (!(f->urls[u] = hub__hf_resolve_url(&at, d->commit, it->path)))
                error = HUB_ENOMEM;
        }
        if (!f->urls)
            error = HUB_ENOMEM;
        /* single file: the HEAD already told where the bytes are */
        if (error == HUB_OK && d->single && d->head_location &&
            strcmp(d->head_location, f->urls[0]) != 0) {
            f->data_url = hub__strdup(d->head_location);
            if (!f->data_url)
                error = HUB_ENOMEM;
        }
        /* never without a digest to check (the listing and the HEAD
         * already refuse such etags: this is the last line) */
        if (error == HUB_OK && f->digest == HUB_DIGEST_NONE)
            error = hub__error_set(HUB_EPROTO,
                                   "'%s': the server's etag is not a content "
                                   "hash, so its bytes cannot be verified; "
                                   "refusing to download it",
                                   it->path);
    }
    if (error == HUB_OK) {
        hub__engine_config cfg;
        hub__client_engine_config(d->c, &cfg);
        cfg.http = d->http;
        cfg.backend = &hub__backend_hf;
        cfg.repo = &d->repo;
        cfg.revision = d->revision;
        cfg.progress = d->progress;
        cfg.told_withheld = &d->told_withheld;
        fetch_ctx ctx = {d};
        error = hub__engine_run(&cfg, items, k,
                                d->local ? &local_ops : &cache_ops, &ctx);
    }
    for (size_t i = 0; i < k; i++) {
        plan_item *it = item_of(&items[i]);
        if (it && items[i].result < 0)
            it->status = HUB_FILE_MISSING;
        if (it) {
            it->fetched = items[i].bytes_fetched;
            /* a file fetched straight from the CDN the HEAD pointed at was
             * still served through this endpoint */
            if (items[i].served_by) {
                it->endpoint = items[i].served_by;
                items[i].served_by = NULL;
            } else if (it->status == HUB_FILE_DOWNLOADED &&
                       !(it->endpoint = hub__strdup(d->c->shown[d->ep]))) {
                error = error < 0 ? error : HUB_ENOMEM;
            }
        }
        hub__fetch_clear(&items[i]);
    }
    hub__free(items);
    return error;
}

/* ---- results
 * ------------------------------------------------------------------ */

static int make_result(dl *d, hub_result **out, const char *path)
{
    hub_result *r = NULL;
    int error = hub__result_new(&r);
    if (error == HUB_OK)
        error = hub__result_set_path(r, path);
    if (error == HUB_OK && d->commit[0])
        error = hub__result_set_commit(r, d->commit);
    for (size_t i = 0; i < d->nplan && error == HUB_OK; i++) {
        plan_item *it = &d->plan[i];
        bool present =
            it->status != HUB_FILE_MISSING && it->status != HUB_FILE_PLANNED;
        error = hub__result_add(
            r, it->path, present || d->o->dry_run ? it->local_path : NULL,
            it->size, it->etag[0] ? it->etag : NULL, it->status, it->endpoint,
            it->fetched);
    }
    if (error < 0) {
        hub_result_free(r);
        return error;
    }
    *out = r;
    return HUB_OK;
}

static int set_progress_plan(dl *d)
{
    int error = hub__progress_plan(d->progress, d->nplan);
    if (error < 0)
        return error;
    for (size_t i = 0; i < d->nplan; i++)
        hub__progress_set_file(d->progress, i, d->plan[i].path,
                               d->plan[i].size);
    return HUB_OK;
}

/* ---- the cache answers alone
 * -------------------------------------------------- */

static bool plan_has(const dl *d, const char *path)
{
    for (size_t i = 0; i < d->nplan; i++)
        if (strcmp(d->plan[i].path, path) == 0)
            return true;
    return false;
}

/* Files under the open directory `dirfd` selected by the patterns, when
 * no listing was recorded: walk it (skipping local_dir's own .cache). As
 * os.walk: a link to a directory is neither a file nor descended into, so
 * no link can loop the walk; the path length bounds its depth. */
static int walk_files(dl *d, int dirfd, const char *prefix)
{
    DIR *dp = hub__sfs_opendir_at(dirfd);
    if (!dp)
        return HUB_OK;
    int error = HUB_OK;
    struct dirent *de;
    while (error == HUB_OK && (de = readdir(dp)) != NULL) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
            (d->local && !prefix[0] && strcmp(name, ".cache") == 0))
            continue;
        char *rel =
            prefix[0] ? hub__aprintf("%s/%s", prefix, name) : hub__strdup(name);
        struct stat st;
        if (!rel) {
            error = HUB_ENOMEM;
        } else if (strlen(rel) > HUB_REPO_PATH_MAX ||
                   fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            /* not a repo path, or gone meanwhile */
        } else if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd, name,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) {
                error = walk_files(d, sub, rel);
                close(sub);
            }
        } else if (S_ISLNK(st.st_mode) &&
                   (fstatat(dirfd, name, &st, 0) != 0 || S_ISDIR(st.st_mode))) {
            /* a dangling link, or one to a directory */
        } else if (want_file(d, rel) && !plan_has(d, rel)) {
            error = plan_add(d, rel, UINT64_MAX, "");
        }
        hub__free(rel);
    }
    closedir(dp);
    return error;
}

/*
 * Answer from the cache only (offline, or the hub failed with an error the
 * cache may answer). Builds the plan with CACHED/MISSING items and returns
 * HUB_OK if everything asked for is present, HUB_ENOTCACHED (message set)
 * if not. Without a recorded listing, patterns select among the files
 * present (as huggingface_hub, which then returns the folder unchecked).
 */
static bool dir_has_entries(const char *path)
{
    DIR *dir = opendir(path);
    if (!dir)
        return false;
    const struct dirent *de;
    bool any = false;
    while (!any && (de = readdir(dir)) != NULL)
        any = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(dir);
    return any;
}

static int answer_from_cache(dl *d, const char *why)
{
    char *snap = NULL;
    const char *base;
    if (d->local) {
        base = d->ld.root;
    } else {
        if (hub__hfcache_resolve(&d->cache, d->revision, d->commit) != HUB_OK) {
            d->commit[0] = '\0';
            /* still say which of the named files are missing: all */
            for (size_t i = 0; i < d->o->file_count; i++) {
                int error = plan_add(d, d->o->files[i], UINT64_MAX, "");
                if (error < 0)
                    return error;
                d->plan[d->nplan - 1].status = HUB_FILE_MISSING;
            }
            return not_cached(d, why);
        }
        snap = hub__hfcache_snapshot_dir(&d->cache, d->commit);
        if (!snap)
            return HUB_ENOMEM;
        base = snap;
        /* the recorded listing matters for patterns only: named files are
         * checked one by one (the microsecond path of "is it here?") */
        bool patterns = d->o->allow_count || !d->o->file_count;
        const hub__listing *tree = NULL;
        if (!d->single && patterns &&
            hub__hfcache_read_tree_memo(&d->cache, d->commit, &d->c->tree_memo,
                                        &tree) == HUB_OK) {
            listing_drop(d);
            d->listing = *tree;
            d->listing_borrowed = true;
            d->have_listing = true;
        }
    }
    /* stat names relative to the snapshot: no walk of the long prefix for
     * each of a thousand files; no link followed but a snapshot's own to
     * its blobs */
    int dirfd = -1, blobs = -1;
    if (d->local) {
        dirfd = hub__sfs_dir(d->ld.root, base, false);
    } else {
        /* base is <repo_dir>/snapshots/<commit> */
        int repo = hub__sfs_dir(d->cache.root, d->cache.repo_dir, false);
        if (repo >= 0) {
            dirfd = hub__sfs_dir_at(repo, base + strlen(d->cache.repo_dir) + 1,
                                    false, base);
            blobs = hub__sfs_dir_at(repo, "blobs", false, base);
            close(repo);
        }
    }
    hub__error_clear();
    bool have_dir = dirfd >= 0;
    /* a local dir answers only if something is in it (huggingface_hub) */
    if (d->local && have_dir && !dir_has_entries(base))
        have_dir = false;
    int error = HUB_OK;
    if (d->single) {
        error = plan_add(d, d->o->files[0], UINT64_MAX, "");
    } else if (d->have_listing) {
        error = plan_from_listing(d);
    } else {
        for (size_t i = 0; i < d->o->file_count && error == HUB_OK; i++)
            error = plan_add(d, d->o->files[i], UINT64_MAX, "");
        if (error == HUB_OK && (d->o->allow_count || !d->o->file_count) &&
            dirfd >= 0)
            error = walk_files(d, dirfd, "");
    }
    size_t missing = 0;
    const char *first_missing = "";
    hub__subdir subdir = HUB_SUBDIR_INIT;
    for (size_t i = 0; i < d->nplan && error == HUB_OK; i++) {
        plan_item *it = &d->plan[i];
        it->local_path = hub__path_join(base, it->path);
        if (!it->local_path) {
            error = HUB_ENOMEM;
            break;
        }
        struct stat st;
        if (dirfd >= 0 && hub__hfcache_pointer_ok(dirfd, blobs, it->path, &st,
                                                  NULL, &subdir)) {
            it->status = HUB_FILE_CACHED;
            if (it->size == UINT64_MAX)
                it->size = (uint64_t)st.st_size;
        } else {
            it->status = HUB_FILE_MISSING;
            if (missing++ == 0)
                first_missing = it->path;
        }
    }
    if (error == HUB_OK && (!have_dir || (d->single && missing)))
        error = not_cached(d, why);
    else if (error == HUB_OK && missing)
        error = hub__error_set(HUB_ENOTCACHED,
                               "%zu of %zu files of %s '%s' at revision '%s' "
                               "are not in the cache (first: '%s') and %s",
                               missing, d->nplan, type_name(d), d->repo.id,
                               d->revision, first_missing, why);
    hub__subdir_free(&subdir);
    if (dirfd >= 0)
        close(dirfd);
    if (blobs >= 0)
        close(blobs);
    hub__free(snap);
    return error;
}

/* ---- single file
 * ----------------------------------------------------------------- */

/* HEAD of the resolve URL: commit, etag, size, where the bytes are. */
static int
head_file(dl *d, const char *path, int retries, uint64_t *size, char *etag)
{
    int error = meta_failover(d, true, hub__hf_resolve_url, d->revision, path,
                              NULL, retries);
    if (error < 0)
        return error;
    const hub_http_resp *r = hub__xfer_resp(d->meta);
    if (r->status >= 400) {
        error = meta_error(d, path);
        if (error == HUB_ENOENTRY && r->repo_commit &&
            hub__str_is_commit(r->repo_commit) && !d->local) {
            /* remember the 404, as huggingface_hub does */
            hub__hfcache_mark_missing(&d->cache, r->repo_commit, path);
            hub__hfcache_write_ref(&d->cache, d->revision, r->repo_commit);
            error = meta_error(d, path); /* the writes reset the message */
        }
        return error;
    }
    if (!r->repo_commit || !hub__str_is_commit(r->repo_commit))
        return hub__error_set_http(HUB_EPROTO, r->status,
                                   "%s did not send the commit of '%s' "
                                   "(X-Repo-Commit); is it a Hugging Face hub?",
                                   d->repo.endpoint, path);
    const char *raw = r->linked_etag ? r->linked_etag : r->etag;
    char *norm = raw ? hub__hf_normalize_etag(raw) : NULL;
    /* the etag names the blob file and is the digest every byte is checked
     * against: only a git sha1 or a sha256 will do */
    if (!norm || !hub__str_is_etag(norm)) {
        hub__free(norm);
        return hub__error_set_http(HUB_EPROTO, r->status,
                                   "%s did not send a usable ETag for '%s' (a "
                                   "git sha1 or sha256 is expected); is it a "
                                   "Hugging Face hub or a faithful mirror?",
                                   d->repo.endpoint, path);
    }
    bool redirect = r->status >= 300 && r->status < 400;
    if (r->has_linked_size)
        *size = r->linked_size;
    else if (!redirect && r->has_content_length)
        *size = r->content_length;
    else {
        hub__free(norm);
        return hub__error_set_http(HUB_EPROTO, r->status,
                                   "%s did not send the size of '%s'",
                                   d->repo.endpoint, path);
    }
    memcpy(d->commit, r->repo_commit, 41);
    snprintf(etag, 65, "%s", norm);
    hub__free(norm);
    hub__free(d->head_location);
    d->head_location = hub__strdup(
        redirect && r->location ? r->location : hub__xfer_url(d->meta));
    return d->head_location ? HUB_OK : HUB_ENOMEM;
}

static void plan_reset(dl *d)
{
    for (size_t i = 0; i < d->nplan; i++) {
        hub__free(d->plan[i].path);
        hub__free(d->plan[i].local_path);
        hub__free(d->plan[i].endpoint);
    }
    d->nplan = 0;
    d->commit[0] = '\0';
}

/* In a local dir a file carries no revision, only its metadata's commit:
 * each must be the commit the revision names, known without the hub when
 * the revision is one, or from the main cache's refs (which snapshots into
 * a local dir write too). */
static bool local_at_revision(dl *d)
{
    char commit[41];
    if (hub__str_is_commit(d->revision))
        memcpy(commit, d->revision, sizeof(commit));
    else if (hub__hfcache_resolve(&d->cache, d->revision, commit) != HUB_OK)
        return false;
    for (size_t i = 0; i < d->nplan; i++) {
        hub__localdir_meta m;
        if (hub__localdir_read_meta(&d->ld, d->plan[i].path, &m) != HUB_OK ||
            strcmp(m.commit, commit) != 0)
            return false;
    }
    memcpy(d->commit, commit, sizeof(commit));
    return true;
}

/* prefer_offline: the cache answers, with no request, when it holds all
 * that is asked; patterns and whole snapshots need the recorded listing
 * (a folder alone cannot tell what is missing from it). */
static bool answered_offline(dl *d)
{
    if (!d->o->prefer_offline || d->o->force_download || d->offline)
        return false;
    bool patterns = !d->single && (d->o->allow_count || !d->o->file_count);
    if (answer_from_cache(d, "") == HUB_OK && (!patterns || d->have_listing) &&
        (!d->local || local_at_revision(d)))
        return true;
    plan_reset(d);
    listing_drop(d);
    hub__error_clear();
    return false;
}

static int download_single(dl *d, hub_result **out)
{
    const char *path = d->o->files[0];
    int error;
    if (answered_offline(d))
        return make_result(d, out, d->plan[0].local_path);
    /* A pinned commit that is here costs no request at all. */
    if (!d->o->force_download && hub__str_is_commit(d->revision)) {
        bool here = false;
        if (d->local) {
            hub__localdir_meta m;
            here = hub__localdir_read_meta(&d->ld, path, &m) == HUB_OK &&
                   strcmp(m.commit, d->revision) == 0;
        } else {
            struct stat st;
            here =
                hub__hfcache_has_file(&d->cache, d->revision, path, &st, NULL);
        }
        if (here && answer_from_cache(d, "") == HUB_OK)
            return make_result(d, out, d->plan[0].local_path);
        plan_reset(d);
        hub__error_clear();
    }
    if (d->offline) {
        error = answer_from_cache(d, offline_why(d));
        return error < 0 ? error : make_result(d, out, d->plan[0].local_path);
    }

    hub__progress_job(d->progress, HUB_PHASE_RESOLVE, false);
    uint64_t size = 0;
    char etag[65];
    error = head_file(d, path, 0, &size, etag);
    if (error < 0 && cache_may_answer(error) && !d->o->force_download) {
        /* the hub failed: a cached copy of the revision still serves */
        hub__error_saved saved;
        hub__error_save(&saved);
        if (answer_from_cache(d, "") == HUB_OK) {
            hub__log(&d->c->log, HUB_LOG_WARN,
                     "could not check '%s' on the hub (%s); using the copy "
                     "on disk",
                     path, saved.message);
            return make_result(d, out, d->plan[0].local_path);
        }
        plan_reset(d);
        /* nothing cached: now retry in earnest (if retries are allowed) */
        if (transient(saved.code) && d->c->max_retries > 0)
            error = head_file(d, path, d->c->max_retries, &size, etag);
        else
            error = hub__error_restore(&saved);
    }
    if (error < 0)
        return error;
    if ((error = plan_add(d, path, size, etag)) < 0)
        return error;
    if ((error = plan_check_cache(d)) < 0)
        return error;
    if (!d->local && !d->o->dry_run)
        hub__hfcache_write_ref(&d->cache, d->revision, d->commit);
    hub__error_clear(); /* a read-only cache still serves */
    if ((error = set_progress_plan(d)) < 0)
        return error;
    if (!d->o->dry_run && (error = run_plan(d)) < 0)
        return error;
    return make_result(d, out, d->plan[0].local_path);
}

/* ---- snapshot
 * ---------------------------------------------------------------------- */

/* Where a snapshot answered from disk lives: the local dir, or the
 * snapshot folder of the resolved commit. */
static char *answer_dir(const dl *d)
{
    if (d->local)
        return hub__strdup(d->ld.root);
    return d->commit[0] ? hub__hfcache_snapshot_dir(&d->cache, d->commit)
                        : hub__strdup("");
}

static int result_at_answer_dir(dl *d, hub_result **out)
{
    char *dir = answer_dir(d);
    int error = dir ? make_result(d, out, dir) : HUB_ENOMEM;
    hub__free(dir);
    return error;
}

static int download_snapshot(dl *d, hub_result **out)
{
    int error = HUB_OK;
    if (d->offline) {
        error = answer_from_cache(d, offline_why(d));
        return error < 0 ? error : result_at_answer_dir(d, out);
    }
    if (answered_offline(d))
        return result_at_answer_dir(d, out);
    hub__progress_job(d->progress, HUB_PHASE_RESOLVE, false);
    error = resolve_revision(d);
    if (error < 0 && cache_may_answer(error)) {
        hub__error_saved saved;
        hub__error_save(&saved);
        listing_drop(d);
        if (answer_from_cache(d, "") == HUB_OK) {
            hub__log(&d->c->log, HUB_LOG_WARN,
                     "could not reach the hub (%s); using the %s on disk",
                     saved.message, d->local ? "local dir" : "cached snapshot");
            return result_at_answer_dir(d, out);
        }
        return hub__error_restore(&saved);
    }
    if (error < 0)
        return error;
    if ((error = list_files(d)) < 0)
        return error;
    if ((error = plan_from_listing(d)) < 0)
        return error;
    /* in local_dir mode too: huggingface_hub's snapshot_download writes the
     * ref into the main cache whatever the destination (reference §4.2) */
    if (!d->o->dry_run)
        hub__hfcache_write_ref(&d->cache, d->revision, d->commit);
    hub__error_clear();
    if ((error = plan_check_cache(d)) < 0)
        return error;
    if ((error = set_progress_plan(d)) < 0)
        return error;
    if (!d->o->dry_run && (error = run_plan(d)) < 0)
        return error;
    return result_at_answer_dir(d, out);
}

static int download_hf(hub_result **out,
                       hub_client *client,
                       const char *repo_id,
                       const hub_download_options *opts,
                       bool single,
                       hub__progress *progress)
{
    dl d;
    int error = dl_open(&d, client, repo_id, opts, progress);
    d.single = single;
    if (error == HUB_OK && single && opts->file_count != 1)
        error = hub__error_set(HUB_EINVAL, "a single-file download needs "
                                           "exactly one file");
    if (error == HUB_OK)
        error = single ? download_single(&d, out) : download_snapshot(&d, out);
    /* a failure still tells what was planned */
    if (error < 0 && !progress->planned && d.nplan)
        set_progress_plan(&d);
    dl_free(&d);
    return error;
}

/* The cache answered before any plan was announced (a pinned commit,
 * offline, the hub unreachable): the files are reported as cached all the
 * same, so that a progress display ends at 100%. */
static void report_answered(hub__progress *progress, const hub_result *r)
{
    size_t n = hub_result_file_count(r);
    if (hub__progress_plan(progress, n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        const hub_file_info *f = hub_result_file(r, i);
        hub__progress_set_file(progress, i, f->path, f->size);
        hub__progress_file(progress, i, HUB_PHASE_CACHED, f->size, 0, NULL);
    }
}

int hub__download(hub_result **out,
                  hub_client *client,
                  const char *repo_id,
                  const hub_download_options *opts,
                  bool single,
                  hub__progress *progress)
{
    *out = NULL;
    int error =
        client->hub == HUB_KIND_MODELSCOPE
            ? hub__download_ms(out, client, repo_id, opts, single, progress)
            : download_hf(out, client, repo_id, opts, single, progress);
    if (error == HUB_OK && !progress->planned && *out)
        report_answered(progress, *out);
    hub__progress_job(
        progress, error == HUB_OK ? HUB_PHASE_DONE : HUB_PHASE_FAILED, true);
    return error;
}

int hub__lookup(hub_result **out,
                hub_client *client,
                const char *repo_id,
                const hub_download_options *opts)
{
    *out = NULL;
    if (client->hub == HUB_KIND_MODELSCOPE)
        return hub__lookup_ms(out, client, repo_id, opts);
    hub__progress progress;
    hub__progress_init(&progress, NULL, NULL);
    dl d;
    int error = dl_open(&d, client, repo_id, opts, &progress);
    d.single = false;
    if (error == HUB_OK) {
        error = answer_from_cache(&d, "only the cache was consulted");
        if (error == HUB_OK || error == HUB_ENOTCACHED) {
            hub__error_saved saved;
            hub__error_save(&saved);
            int rc = result_at_answer_dir(&d, out);
            if (rc < 0)
                error = rc;
            else if (error < 0)
                hub__error_restore(&saved);
        }
    }
    dl_free(&d);
    hub__progress_free(&progress);
    return error;
}
