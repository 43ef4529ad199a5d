/* SPDX-License-Identifier: MIT */
/*
 * remote.c: hub_list_*() and hub_stat(), what a revision holds on the hub
 * without downloading it (reference B1, hf-protocol §1.4, §1.5).
 *
 * The listing is the tree API, one page in memory at a time: the first
 * page is asked on the client's endpoints in order (failover while one is
 * down), the next ones follow the hub's opaque Link cursor on the endpoint
 * that gave it, and only there. A stat is one paths-info POST. Requests go
 * through the request context of request.c (hub__meta_fetch: relative or
 * hub hosts only; a POST re-sent only for 307/308). Entries come
 * from the one tree parser (hub_hf.c) and are copied into the iterator's
 * page, their server text cleaned.
 */
#include "alloc.h"
#include "client.h"
#include "hub_hf.h"
#include "json.h"
#include "path.h"
#include "progress.h"
#include "request.h"
#include "str.h"

#include <stdio.h>
#include <string.h>

#define REMOTE_BODY_MAX (64u * 1024 * 1024)
#define REMOTE_MAX_PAGES 100000

struct hub_list {
    hub__rq q;
    char *repo_id;
    char *revision;
    char *path;
    bool recursive;
    bool expand;
    char *next_url;  /* cursor of the next page, NULL after the last */
    hub_entry *page; /* the entries of the page being read */
    size_t count, cap, pos;
    size_t total; /* entries returned so far, all pages */
    int pages;
    int failed; /* a later page failed: its code, returned again */
};

static void entry_strings_free(hub_entry *e)
{
    hub__free((char *)e->path);
    hub__free((char *)e->oid);
    hub__free((char *)e->lfs_sha256);
    hub__free((char *)e->xet_hash);
    hub__free((char *)e->last_commit_id);
    hub__free((char *)e->last_commit_title);
    hub__free((char *)e->last_commit_date);
    memset(e, 0, sizeof(*e));
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

/* Server text as it may be shown: controls and bad UTF-8 replaced. */
static char *dup_clean(const char *s, bool *oom)
{
    char *d = dup_or_null(s, oom);
    if (d)
        hub__text_clean(d, strlen(d) + 1);
    return d;
}

static int entry_copy(hub_entry *dst, const hub__tree_item *it)
{
    bool oom = false;
    memset(dst, 0, sizeof(*dst));
    dst->type = it->is_dir ? HUB_ENTRY_DIRECTORY : HUB_ENTRY_FILE;
    dst->size = it->size;
    dst->lfs_size = it->lfs_sha256 ? it->lfs_size : 0;
    dst->lfs_pointer_size = it->lfs_sha256 ? it->lfs_pointer_size : 0;
    dst->path = dup_or_null(it->path, &oom);
    dst->oid = dup_or_null(it->oid, &oom);
    dst->lfs_sha256 = dup_or_null(it->lfs_sha256, &oom);
    dst->xet_hash = dup_or_null(it->xet_hash, &oom);
    dst->last_commit_id = dup_or_null(it->last_commit_id, &oom);
    dst->last_commit_title = dup_clean(it->last_commit_title, &oom);
    dst->last_commit_date = dup_clean(it->last_commit_date, &oom);
    if (oom) {
        entry_strings_free(dst);
        return HUB_ENOMEM;
    }
    return HUB_OK;
}

/* ---- options ------------------------------------------------------------- */

int hub_list_options_init(hub_list_options *opts, unsigned int version)
{
    if (!opts)
        return hub__error_set(HUB_EINVAL, "invalid argument: opts");
    if (version == 0 || version > HUB_LIST_OPTIONS_VERSION)
        return hub__error_set(HUB_EVERSION,
                              "list options version %u not supported", version);
    hub_list_options init = HUB_LIST_OPTIONS_INIT;
    init.version = version;
    *opts = init;
    return HUB_OK;
}

static int take_options(hub_list_options *dst, const hub_list_options *src)
{
    hub_list_options defaults = HUB_LIST_OPTIONS_INIT;
    *dst = src ? *src : defaults;
    if (dst->version == 0 || dst->version > HUB_LIST_OPTIONS_VERSION)
        return hub__error_set(HUB_EVERSION,
                              "list options version %u not supported "
                              "(this library knows %d)",
                              dst->version, HUB_LIST_OPTIONS_VERSION);
    if (dst->repo_type != HUB_REPO_MODEL &&
        dst->repo_type != HUB_REPO_DATASET && dst->repo_type != HUB_REPO_SPACE)
        return hub__error_set(HUB_EINVAL, "invalid repo type %d",
                              (int)dst->repo_type);
    if (dst->revision && strlen(dst->revision) > 256)
        return hub__error_set(HUB_EINVAL, "invalid revision: over 256 bytes");
    if (dst->revision)
        return hub__path_check_revision(dst->revision);
    return HUB_OK;
}

/* Checks shared by hub_list_open() and hub_stat(): the client can list,
 * the names are sound. `path` may be NULL (the root). */
static int check_call(hub_client *c, const char *repo_id, const char *path)
{
    if (c->hub == HUB_KIND_MODELSCOPE)
        return hub__error_set(HUB_EUNSUPPORTED,
                              "listing a repository is not supported on "
                              "ModelScope (its listing has no git ids and "
                              "may lack sizes and sha256); use 'hubfetch "
                              "download --dry-run' there");
    if (c->offline)
        return hub__error_set(HUB_EINVAL,
                              "listing '%s' needs the network, which is off "
                              "(HF_HUB_OFFLINE=1); unset it",
                              repo_id);
    int error = hub__hf_check_repo_id(repo_id);
    if (error == HUB_OK && path && path[0] &&
        hub__path_check_repo_path(path) < 0)
        error = hub__error_set(HUB_EINVAL,
                               "invalid path '%.200s': a relative path in "
                               "the repository, without '.', '..' or empty "
                               "parts",
                               path);
    return error;
}

/* ---- hub_list ------------------------------------------------------------ */

static void page_clear(hub_list *it)
{
    for (size_t i = 0; i < it->count; i++)
        entry_strings_free(&it->page[i]);
    it->count = it->pos = 0;
}

static int page_add(const hub__tree_item *item, void *payload)
{
    hub_list *it = payload;
    if (it->total + it->count >= HUB_LISTING_MAX_FILES)
        return hub__error_set(HUB_EPROTO,
                              "repository listing has more than %d entries",
                              HUB_LISTING_MAX_FILES);
    if (it->count == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 64;
        hub_entry *p = hub__reallocarray(it->page, cap, sizeof(*p));
        if (!p)
            return HUB_ENOMEM;
        it->page = p;
        it->cap = cap;
    }
    int error = entry_copy(&it->page[it->count], item);
    if (error == HUB_OK)
        it->count++;
    return error;
}

typedef struct tree_arg {
    const char *path;
    bool recursive, expand;
} tree_arg;

static char *build_tree(const hub__rq *q, const void *arg)
{
    const tree_arg *a = arg;
    return hub__hf_tree_url_at(&q->repo, q->revision, a->path, a->recursive,
                               a->expand);
}

/* Parse the page in `body` and take the cursor of the next one. */
static int take_page(hub_list *it, const hub_buf *body)
{
    page_clear(it);
    int error = hub__hf_parse_tree_items(body->ptr, body->len, page_add, it);
    const hub_http_resp *r = hub__xfer_resp(it->q.meta);
    char *next = NULL;
    if (error == HUB_OK && r->link_next) {
        /* the cursor URL is opaque: followed as given, on the hub only */
        next = hub__http_resolve(hub__xfer_url(it->q.meta), r->link_next);
        if (!next)
            error = HUB_ENOMEM;
        else if (!hub__http_same_origin(next, it->q.repo.endpoint))
            error = hub__error_set(HUB_EPROTO,
                                   "tree listing of %s '%s' points to another "
                                   "host",
                                   hub__repo_type_name(it->q.repo.type),
                                   it->q.repo.id);
    }
    hub__free(it->next_url);
    it->next_url = error == HUB_OK ? next : NULL;
    if (error < 0)
        hub__free(next);
    it->pages++;
    return error;
}

typedef struct one_entry {
    const char *path;
    hub_entry *out;
    bool found;
} one_entry;

static int keep_match(const hub__tree_item *item, void *payload)
{
    one_entry *o = payload;
    if (o->found || strcmp(item->path, o->path) != 0)
        return HUB_OK;
    int error = entry_copy(o->out, item);
    o->found = error == HUB_OK;
    return error;
}

static char *build_paths_info(const hub__rq *q, const void *arg)
{
    HUB_UNUSED(arg);
    return hub__hf_paths_info_url(&q->repo, q->revision);
}

/* paths-info for `o->path` into `o->out`; `o->found` says whether the hub
 * knew it (a missing path is simply absent from the answer). */
static int stat_into(hub__rq *q, one_entry *o, bool expand)
{
    const char *path = o->path;
    char *post = hub__hf_paths_info_body(path, expand);
    if (!post)
        return HUB_ENOMEM;
    hub_buf body = HUB_BUF_INIT(REMOTE_BODY_MAX);
    hub__meta_req req = {0};
    req.post = post;
    req.body = &body;
    int error = hub__rq_failover(q, build_paths_info, NULL, &req);
    hub__free(post);
    if (error == HUB_OK && hub__xfer_resp(q->meta)->status != 200)
        error = hub__rq_error(q, path);
    if (error == HUB_OK)
        error = hub__hf_parse_tree_items(body.ptr, body.len, keep_match, o);
    hub__buf_free(&body);
    return error;
}

/* The tree API answers a file's path with EntryNotFound: list that file
 * alone, as `ls FILE` does. */
static int list_single_file(hub_list *it, int tree_error)
{
    hub__error_saved saved;
    hub__error_save(&saved);
    page_clear(it);
    if (it->cap == 0) {
        it->page = hub__calloc(1, sizeof(*it->page));
        if (!it->page)
            return HUB_ENOMEM;
        it->cap = 1;
    }
    one_entry o = {it->path, &it->page[0], false};
    int error = stat_into(&it->q, &o, it->expand);
    if (error == HUB_OK && o.found && it->page[0].type == HUB_ENTRY_FILE) {
        it->count = 1;
        return HUB_OK;
    }
    if (o.found)
        entry_strings_free(&it->page[0]);
    if (error < 0 && error != HUB_ENOENTRY)
        return error;
    /* not a file either: the tree's answer stands */
    hub__error_restore(&saved);
    return tree_error;
}

int hub_list_open(hub_list **out,
                  hub_client *c,
                  const char *repo_id,
                  const char *path,
                  const hub_list_options *opts)
{
    if (!out)
        return hub__error_set(HUB_EINVAL, "invalid argument: out");
    *out = NULL;
    if (!repo_id)
        return hub__error_set(HUB_EINVAL, "invalid argument: repo_id");
    hub_list_options o;
    int error = take_options(&o, opts);
    if (error < 0)
        return error;
    if ((error = hub__client_enter(c)) < 0)
        return error;
    hub_list *it = NULL;
    hub_buf body = HUB_BUF_INIT(REMOTE_BODY_MAX);
    error = check_call(c, repo_id, path);
    if (error == HUB_OK) {
        it = hub__calloc(1, sizeof(*it));
        if (!it)
            error = HUB_ENOMEM;
    }
    if (error == HUB_OK) {
        it->repo_id = hub__strdup(repo_id);
        it->revision = hub__strdup(o.revision ? o.revision : "main");
        it->path = path && path[0] ? hub__strdup(path) : NULL;
        it->recursive = o.recursive != 0;
        it->expand = o.expand != 0;
        if (!it->repo_id || !it->revision || (path && path[0] && !it->path))
            error = HUB_ENOMEM;
    }
    if (error == HUB_OK)
        error = hub__rq_init(&it->q, c, o.repo_type, it->repo_id, "listing");
    if (error == HUB_OK) {
        it->q.revision = it->revision;
        tree_arg a = {it->path, it->recursive, it->expand};
        hub__meta_req req = {0};
        req.body = &body;
        error = hub__rq_failover(&it->q, build_tree, &a, &req);
        if (error == HUB_OK && hub__xfer_resp(it->q.meta)->status != 200) {
            error = hub__rq_error(&it->q, it->path);
            if (error == HUB_ENOENTRY && it->path)
                error = list_single_file(it, error);
        } else if (error == HUB_OK) {
            error = take_page(it, &body);
        }
    }
    hub__buf_free(&body);
    hub__client_leave(c);
    if (error < 0) {
        hub_list_free(it);
        return error;
    }
    *out = it;
    return HUB_OK;
}

int hub_list_next(hub_list *it, const hub_entry **entry)
{
    if (entry)
        *entry = NULL;
    if (!it || !entry)
        return hub__error_set(HUB_EINVAL, "invalid argument: %s",
                              it ? "entry" : "it");
    if (it->failed)
        return hub__error_set(it->failed,
                              "this listing failed before; open it again");
    while (it->pos >= it->count) {
        if (!it->next_url) {
            page_clear(it);
            return HUB_LIST_DONE;
        }
        if (it->pages >= REMOTE_MAX_PAGES) {
            it->failed = HUB_EPROTO;
            return hub__error_set(HUB_EPROTO, "tree listing never ends");
        }
        int error = hub__client_enter(it->q.c);
        if (error < 0)
            return error; /* busy: try again later, not a failed listing */
        it->total += it->count;
        page_clear(it);
        hub_buf body = HUB_BUF_INIT(REMOTE_BODY_MAX);
        /* the next pages follow their cursor on the endpoint that gave it */
        hub__meta_req req = {0};
        req.url = it->next_url;
        req.body = &body;
        error = hub__rq_send(&it->q, &req);
        if (error == HUB_OK && hub__xfer_resp(it->q.meta)->status != 200)
            error = hub__rq_error(&it->q, NULL);
        if (error == HUB_OK)
            error = take_page(it, &body);
        hub__buf_free(&body);
        hub__client_leave(it->q.c);
        if (error < 0) {
            page_clear(it);
            it->failed = error;
            return error;
        }
    }
    *entry = &it->page[it->pos++];
    return HUB_OK;
}

const char *hub_list_endpoint(const hub_list *it)
{
    return it ? it->q.c->shown[it->q.ep] : NULL;
}

void hub_list_free(hub_list *it)
{
    if (!it)
        return;
    page_clear(it);
    hub__free(it->page);
    hub__rq_free(&it->q);
    hub__free(it->next_url);
    hub__free(it->repo_id);
    hub__free(it->revision);
    hub__free(it->path);
    hub__free(it);
}

/* ---- hub_stat ------------------------------------------------------------ */

int hub_stat(hub_entry **out,
             hub_client *c,
             const char *repo_id,
             const char *path,
             const hub_list_options *opts)
{
    if (!out)
        return hub__error_set(HUB_EINVAL, "invalid argument: out");
    *out = NULL;
    if (!repo_id || !path || !path[0])
        return hub__error_set(HUB_EINVAL, "invalid argument: %s",
                              repo_id ? "path" : "repo_id");
    hub_list_options o;
    int error = take_options(&o, opts);
    if (error < 0)
        return error;
    if ((error = hub__client_enter(c)) < 0)
        return error;
    hub_entry *e = NULL;
    hub__rq q;
    bool have_q = false;
    error = check_call(c, repo_id, path);
    if (error == HUB_OK) {
        e = hub__calloc(1, sizeof(*e));
        if (!e)
            error = HUB_ENOMEM;
    }
    if (error == HUB_OK) {
        error = hub__rq_init(&q, c, o.repo_type, repo_id, "listing");
        have_q = true;
    }
    if (error == HUB_OK) {
        q.revision = o.revision ? o.revision : "main";
        one_entry one = {path, e, false};
        error = stat_into(&q, &one, o.expand != 0);
        if (error == HUB_OK && !one.found)
            error = hub__rq_not_found(&q, path, 200);
    }
    if (have_q)
        hub__rq_free(&q);
    hub__client_leave(c);
    if (error < 0) {
        hub_entry_free(e);
        return error;
    }
    *out = e;
    return HUB_OK;
}

void hub_entry_free(hub_entry *entry)
{
    if (!entry)
        return;
    entry_strings_free(entry);
    hub__free(entry);
}

/* ---- hub_repo_info ------------------------------------------------------- */

static char *build_revision(const hub__rq *q, const void *arg)
{
    HUB_UNUSED(arg);
    return hub__hf_revision_url(&q->repo, q->revision);
}

void hub_repo_info_free(hub_repo_info_result *info)
{
    if (!info)
        return;
    hub__free((char *)info->id);
    hub__free((char *)info->sha);
    hub__free((char *)info->last_modified);
    hub__free((char *)info->gated);
    hub__free(info);
}

/* The fields of the repo info JSON `body` into `r`. */
static int parse_repo_info(const hub_buf *body,
                           const char *repo_id,
                           hub_repo_info_result *r)
{
    hub_json *root = NULL;
    int error = hub__json_parse(&root, body->ptr, body->len, "repository info");
    if (error < 0)
        return error;
    bool oom = false;
    const char *sha = hub__json_string(hub__json_get(root, "sha"));
    const char *id = hub__json_string(hub__json_get(root, "id"));
    bool b = false;
    if (!sha || !hub__str_is_commit(sha)) {
        error = hub__error_set(HUB_EPROTO,
                               "repository info of '%s' has no valid commit "
                               "'sha'",
                               repo_id);
    } else {
        r->sha = dup_or_null(sha, &oom);
        r->id = dup_clean(
            id && hub__hf_check_repo_id(id) == HUB_OK ? id : repo_id, &oom);
        hub__error_clear();
        r->last_modified = dup_clean(
            hub__json_string(hub__json_get(root, "lastModified")), &oom);
        r->is_private =
            hub__json_bool(hub__json_get(root, "private"), &b) && b ? 1 : 0;
        const hub_json *g = hub__json_get(root, "gated");
        if (hub__json_string(g))
            r->gated = dup_clean(hub__json_string(g), &oom);
        else if (hub__json_bool(g, &b) && b)
            r->gated = dup_or_null("auto", &oom);
        error = oom ? HUB_ENOMEM : HUB_OK;
    }
    hub__json_free(root);
    return error;
}

int hub_repo_info(hub_repo_info_result **out,
                  hub_client *c,
                  const char *repo_id,
                  const hub_list_options *opts)
{
    if (!out)
        return hub__error_set(HUB_EINVAL, "invalid argument: out");
    *out = NULL;
    if (!repo_id)
        return hub__error_set(HUB_EINVAL, "invalid argument: repo_id");
    hub_list_options o;
    int error = take_options(&o, opts);
    if (error < 0)
        return error;
    if ((error = hub__client_enter(c)) < 0)
        return error;
    hub_repo_info_result *r = NULL;
    hub__rq q;
    bool have_q = false;
    error = check_call(c, repo_id, NULL);
    if (error == HUB_OK && !(r = hub__calloc(1, sizeof(*r))))
        error = HUB_ENOMEM;
    if (error == HUB_OK) {
        error = hub__rq_init(&q, c, o.repo_type, repo_id, "repository info");
        have_q = true;
    }
    if (error == HUB_OK) {
        q.revision = o.revision ? o.revision : "main";
        hub_buf body = HUB_BUF_INIT(REMOTE_BODY_MAX);
        hub__meta_req req = {0};
        req.body = &body;
        error = hub__rq_failover(&q, build_revision, NULL, &req);
        if (error == HUB_OK && hub__xfer_resp(q.meta)->status != 200)
            error = hub__rq_error(&q, NULL);
        if (error == HUB_OK)
            error = parse_repo_info(&body, repo_id, r);
        hub__buf_free(&body);
    }
    if (have_q)
        hub__rq_free(&q);
    hub__client_leave(c);
    if (error < 0) {
        hub_repo_info_free(r);
        return error;
    }
    *out = r;
    return HUB_OK;
}
