/* SPDX-License-Identifier: MIT */
/*
 * cache_plan.c: deleting from a Hugging Face cache, safely beside running
 * downloads (hub_cache_plan_delete, hub_cache_plan_prune,
 * hub_cache_execute).
 *
 * A plan is made from a scan and only names what the scan saw. Executing
 * it, per repository:
 *   1. the locks of every blob and partial file to delete are taken
 *      without waiting (`.locks/<repo>/<etag>.lock`, as downloads of
 *      hubfetch and huggingface_hub take them); a held one is "in use";
 *   2. refs, then snapshots (renamed into .locks/.hubfetch-trash first, so
 *      a snapshot is there whole or not at all), then files, then blobs
 *      and partials, then .no_exist/ and trees/ entries: at any instant a
 *      ref names an existing snapshot and a link an existing blob;
 *   3. each step checks the disk again first: a ref that moved, a snapshot
 *      a ref names again, a blob a snapshot links again (a download that
 *      finished meanwhile) are kept ("changed").
 * A whole repository is renamed into the trash in one step, after taking
 * every lock of the repository and checking that its snapshots and refs
 * are still the ones scanned. Nothing is followed: removal uses *at()
 * calls below directory fds opened with O_NOFOLLOW.
 */
#include "alloc.h"
#include "cache_hf.h"
#include "cache_scan.h"
#include "cache_target.h"
#include "client.h"
#include "lock.h"
#include "path.h"
#include "safefs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Folders below a snapshot removed at most (the scan reads 64). */
#define REMOVE_DEPTH 128
#define DEFAULT_PARTIAL_AGE 3600
/* A ref name, a path below a repository folder. */
#define HUB__REF_NAME_MAX 1100

typedef struct op {
    hub_cache_op pub;
    char *path, *name, *message;
    hub__crepo *repo;
    hub__crev *rev;
    size_t blob; /* BLOB: blob index, or SIZE_MAX for an orphan */
} op;

struct hub_cache_plan {
    const hub_cache_info *info;
    op *ops;
    size_t nops, cap;
    const hub_cache_op **ptrs;
    hub_strvec unmatched;
    uint64_t bytes, freed;
    bool executed;
    bool oom;
};

/* What a plan does to one repository while it is made. */
typedef struct repo_sel {
    bool whole;
    unsigned char *rev_del; /* per revision: 1 deleted */
    hub__cfile **files;     /* single files deleted (revisions kept) */
    size_t nfiles, capfiles;
} repo_sel;

/* --------------------------------------------------------------------- */
/* Building                                                               */

static op *add_op(hub_cache_plan *p,
                  hub_cache_op_kind kind,
                  hub__crepo *r,
                  hub__crev *v,
                  char *path,
                  const char *name,
                  uint64_t bytes)
{
    if (!path) {
        p->oom = true;
        return NULL;
    }
    if (!HUB_GROW(p->ops, p->nops, p->cap)) {
        hub__free(path);
        p->oom = true;
        return NULL;
    }
    op *o = &p->ops[p->nops];
    memset(o, 0, sizeof(*o));
    o->path = path;
    o->name = name ? hub__strdup(name) : NULL;
    if (name && !o->name) {
        hub__free(path);
        p->oom = true;
        return NULL;
    }
    o->pub.kind = kind;
    o->pub.bytes = bytes;
    o->repo = r;
    o->rev = v;
    o->blob = SIZE_MAX;
    p->bytes += bytes;
    p->nops++;
    return o;
}

static bool strvec_has(const hub_strvec *s, const char *x)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i], x) == 0)
            return true;
    return false;
}

/* Space a blob frees once nothing uses it: none when hard-linked out of
 * the scan's sight. */
static uint64_t blob_bytes(const hub__cblob *b)
{
    return b->nlink <= 1 ? b->size : 0;
}

/* used[b]: some file that stays uses blob b. */
static unsigned char *remaining_use(const hub_cache_info *info, repo_sel *sel)
{
    unsigned char *used = hub__calloc(info->nblobs + 1, 1);
    if (!used)
        return NULL;
    for (size_t i = 0; i < info->nrepos; i++) {
        const hub__crepo *r = info->repos[i];
        if (sel[i].whole)
            continue;
        for (size_t j = 0; j < r->nrevs; j++) {
            if (sel[i].rev_del && sel[i].rev_del[j])
                continue;
            const hub__crev *v = r->revs[j];
            if (!sel[i].nfiles) {
                for (size_t k = 0; k < v->nblob_ids; k++)
                    used[v->blob_ids[k]] = 1;
                continue;
            }
            for (size_t k = 0; k < v->nfiles; k++) {
                bool gone = false;
                for (size_t f = 0; f < sel[i].nfiles && !gone; f++)
                    gone = sel[i].files[f] == v->files[k];
                if (!gone)
                    used[v->files[k]->blob] = 1;
            }
        }
    }
    return used;
}

static bool commit_kept(const hub__crepo *r, const repo_sel *s, const char *c)
{
    for (size_t j = 0; j < r->nrevs; j++)
        if (strcmp(r->revs[j]->commit, c) == 0)
            return !(s->rev_del && s->rev_del[j]);
    /* no snapshot: kept while a ref names it (a commit whose files were all
     * missing has only .no_exist) */
    return strvec_has(&r->ref_targets, c);
}

/* The operations for repository `i`, in execution order. */
static void plan_repo(hub_cache_plan *p,
                      size_t i,
                      repo_sel *s,
                      const unsigned char *used,
                      unsigned char *counted,
                      size_t *emitted,
                      const hub_cache_prune_options *prune,
                      int64_t now)
{
    const hub_cache_info *info = p->info;
    hub__crepo *r = info->repos[i];
    if (s->whole) {
        uint64_t bytes = 0;
        for (size_t k = 0; k < r->nblob_ids; k++) {
            size_t b = r->blob_ids[k];
            if (!used[b] && !counted[b]) {
                counted[b] = 1;
                bytes += blob_bytes(&info->blobs[b]);
            }
        }
        for (size_t k = 0; k < r->norphans; k++)
            bytes += r->orphans[k].size;
        for (size_t k = 0; k < r->npartials; k++)
            bytes += r->partials[k].size;
        add_op(p, HUB_CACHE_OP_REPO, r, NULL, hub__strdup(r->path), NULL,
               bytes);
        return;
    }
    size_t first = p->nops;
    /* refs, then snapshots */
    for (size_t j = 0; s->rev_del && j < r->nrevs; j++) {
        if (!s->rev_del[j])
            continue;
        hub__crev *v = r->revs[j];
        for (size_t k = 0; r->layout == HUB__LAYOUT_HF && k < v->refs.count;
             k++)
            add_op(p, HUB_CACHE_OP_REF, r, v,
                   hub__aprintf("%s/refs/%s", r->path, v->refs.items[k]),
                   v->refs.items[k], 0);
    }
    for (size_t j = 0; s->rev_del && j < r->nrevs; j++) {
        if (!s->rev_del[j])
            continue;
        hub__crev *v = r->revs[j];
        uint64_t bytes = 0; /* its regular files (no-symlink caches) */
        for (size_t k = 0; k < v->nblob_ids; k++) {
            const hub__cblob *b = &info->blobs[v->blob_ids[k]];
            if (!b->etag && !used[v->blob_ids[k]] && !counted[v->blob_ids[k]]) {
                counted[v->blob_ids[k]] = 1;
                bytes += blob_bytes(b);
            }
        }
        add_op(p, HUB_CACHE_OP_SNAPSHOT, r, v, hub__strdup(v->path), v->commit,
               bytes);
    }
    for (size_t f = 0; f < s->nfiles; f++) {
        hub__cfile *file = s->files[f];
        const hub__cblob *b = &info->blobs[file->blob];
        uint64_t bytes = 0;
        if (!b->etag && !used[file->blob] && !counted[file->blob]) {
            counted[file->blob] = 1;
            bytes = blob_bytes(b);
        }
        hub__crev *v = NULL;
        for (size_t j = 0; j < r->nrevs && !v; j++)
            for (size_t k = 0; k < r->revs[j]->nfiles && !v; k++)
                if (r->revs[j]->files[k] == file)
                    v = r->revs[j];
        add_op(p, HUB_CACHE_OP_FILE, r, v, hub__strdup(file->pub.file_path),
               file->pub.file_name, bytes);
    }
    /* blobs no remaining file uses */
    for (size_t j = 0; j < r->nrevs; j++) {
        const hub__crev *v = r->revs[j];
        bool del = s->rev_del && s->rev_del[j];
        for (size_t k = 0; k < v->nfiles; k++) {
            size_t b = v->files[k]->blob;
            const hub__cblob *cb = &info->blobs[b];
            const hub_cache_file *file = &v->files[k]->pub;
            /* one operation per repository holding a link to the blob; its
             * bytes counted once */
            if (!file->blob_name || used[b] || emitted[b] == i + 1)
                continue;
            bool selected = del;
            for (size_t f = 0; f < s->nfiles && !selected; f++)
                selected = s->files[f] == v->files[k];
            if (!selected)
                continue;
            emitted[b] = i + 1;
            uint64_t bytes = counted[b] ? 0 : blob_bytes(cb);
            counted[b] = 1;
            op *o =
                add_op(p, HUB_CACHE_OP_BLOB, r, NULL,
                       hub__strdup(file->blob_path), file->blob_name, bytes);
            if (o)
                o->blob = b;
        }
    }
    if (prune) {
        int64_t age =
            prune->partial_age ? prune->partial_age : DEFAULT_PARTIAL_AGE;
        for (size_t k = 0; k < r->npartials; k++) {
            const hub__cextra *e = &r->partials[k];
            bool ms = r->layout != HUB__LAYOUT_HF;
            if ((!ms && !e->etag[0]) || (age > 0 && e->mtime > now - age))
                continue;
            add_op(p, HUB_CACHE_OP_PARTIAL, r, NULL,
                   ms ? hub__aprintf("%s/%s", r->ms_root, e->name)
                      : hub__aprintf("%s/blobs/%s", r->path, e->name),
                   e->name, e->size);
        }
        for (size_t k = 0; k < r->norphans; k++) {
            const hub__cextra *e = &r->orphans[k];
            if (strcmp(e->etag, e->name) != 0)
                continue; /* not a blob name: not ours to judge */
            add_op(p, HUB_CACHE_OP_BLOB, r, NULL,
                   hub__aprintf("%s/blobs/%s", r->path, e->name), e->name,
                   e->size);
        }
    }
    /* what belongs to commits no longer here */
    for (size_t k = 0; k < r->no_exist.count; k++) {
        const char *c = r->no_exist.items[k];
        bool ours = false; /* a commit this plan deletes */
        for (size_t j = 0; s->rev_del && j < r->nrevs && !ours; j++)
            ours = s->rev_del[j] && strcmp(r->revs[j]->commit, c) == 0;
        if ((ours || prune) && !commit_kept(r, s, c))
            add_op(p, HUB_CACHE_OP_NO_EXIST, r, NULL,
                   hub__aprintf("%s/.no_exist/%s", r->path, c), c, 0);
    }
    for (size_t k = 0; k < r->trees.count; k++) {
        const char *c = r->trees.items[k];
        bool ours = false;
        for (size_t j = 0; s->rev_del && j < r->nrevs && !ours; j++)
            ours = s->rev_del[j] && strcmp(r->revs[j]->commit, c) == 0;
        if ((ours || prune) && !commit_kept(r, s, c))
            add_op(p, HUB_CACHE_OP_TREE, r, NULL,
                   hub__aprintf("%s/trees/%s.json", r->path, c), c, 0);
    }
    HUB_UNUSED(first);
}

/* Does anything of repository `i` stay? */
static bool repo_keeps_something(const hub__crepo *r, const repo_sel *s)
{
    for (size_t j = 0; j < r->nrevs; j++)
        if (!(s->rev_del && s->rev_del[j]))
            return true;
    /* a ref to a commit without snapshot still means something */
    return r->ref_names.count > 0 && r->nrevs == 0;
}

static hub_cache_plan *plan_new(const hub_cache_info *info)
{
    hub_cache_plan *p = hub__calloc(1, sizeof(*p));
    if (p)
        p->info = info;
    return p;
}

static int plan_finish(hub_cache_plan *p,
                       repo_sel *sel,
                       const hub_cache_prune_options *prune,
                       int64_t now)
{
    const hub_cache_info *info = p->info;
    int rc = HUB_OK;
    unsigned char *used = remaining_use(info, sel);
    unsigned char *counted = hub__calloc(info->nblobs + 1, 1);
    size_t *emitted = hub__calloc(info->nblobs + 1, sizeof(*emitted));
    if (!used || !counted || !emitted) {
        rc = HUB_ENOMEM;
        goto out;
    }
    if (prune) {
        for (size_t k = 0; k < info->trash.count; k++)
            add_op(p, HUB_CACHE_OP_TRASH, NULL, NULL,
                   hub__aprintf("%s/%s/%s", info->dir, HUB__TRASH_OF(info),
                                info->trash.items[k]),
                   info->trash.items[k], 0);
    }
    for (size_t i = 0; i < info->nrepos; i++) {
        repo_sel *s = &sel[i];
        bool any = s->whole || s->nfiles;
        for (size_t j = 0; s->rev_del && j < info->repos[i]->nrevs; j++)
            any = any || s->rev_del[j];
        if (any || prune)
            plan_repo(p, i, s, used, counted, emitted, prune, now);
    }
    if (p->oom)
        rc = HUB_ENOMEM;
    if (rc == HUB_OK) {
        p->ptrs = hub__calloc(p->nops + 1, sizeof(*p->ptrs));
        if (!p->ptrs)
            rc = HUB_ENOMEM;
        for (size_t k = 0; p->ptrs && k < p->nops; k++) {
            op *o = &p->ops[k];
            o->pub.path = o->path;
            o->pub.name = o->name;
            o->pub.repo = o->repo ? &o->repo->pub : NULL;
            o->pub.revision = o->rev ? &o->rev->pub : NULL;
            p->ptrs[k] = &o->pub;
        }
    }
out:
    hub__free(used);
    hub__free(counted);
    hub__free(emitted);
    return rc;
}

static void sel_free(repo_sel *sel, size_t n)
{
    for (size_t i = 0; sel && i < n; i++) {
        hub__free(sel[i].rev_del);
        hub__free(sel[i].files);
    }
    hub__free(sel);
}

static bool sel_rev(repo_sel *s, const hub__crepo *r, size_t j)
{
    if (!s->rev_del && !(s->rev_del = hub__calloc(r->nrevs + 1, 1)))
        return false;
    s->rev_del[j] = 1;
    return true;
}

/* Selecting every revision selects the repository. */
static void whole_if_all(const hub_cache_info *info, repo_sel *sel)
{
    for (size_t i = 0; i < info->nrepos; i++) {
        const hub__crepo *r = info->repos[i];
        if (sel[i].whole || !sel[i].rev_del || !r->nrevs)
            continue;
        if (!repo_keeps_something(r, &sel[i]))
            sel[i].whole = true;
    }
}

static size_t repo_index(const hub_cache_info *info, const hub__crepo *r)
{
    for (size_t i = 0; i < info->nrepos; i++)
        if (info->repos[i] == r)
            return i;
    return SIZE_MAX;
}

/* The end of making a plan: hand it out, or free it. */
static int
plan_done(hub_cache_plan *p, repo_sel *sel, int rc, hub_cache_plan **out)
{
    sel_free(sel, p->info->nrepos);
    if (rc != HUB_OK) {
        hub_cache_plan_free(p);
        return rc == HUB_ENOMEM ? hub__error_oom() : rc;
    }
    *out = p;
    return HUB_OK;
}

static int check_info(const hub_cache_info *info)
{
    if (!info->files)
        return hub__error_set(HUB_EINVAL,
                              "a deletion plan needs a scan with files "
                              "(without HUB_CACHE_SCAN_NO_FILES)");
    return HUB_OK;
}

int hub_cache_plan_delete(hub_cache_plan **out,
                          const hub_cache_info *info,
                          const char *const *targets,
                          size_t count)
{
    HUB_ASSERT_ARG(out);
    *out = NULL;
    HUB_ASSERT_ARG(info);
    HUB_ASSERT_ARG(targets || !count);
    int rc = check_info(info);
    if (rc != HUB_OK)
        return rc;
    hub_cache_plan *p = plan_new(info);
    repo_sel *sel = hub__calloc(info->nrepos + 1, sizeof(*sel));
    if (!p || !sel) {
        hub__free(p);
        hub__free(sel);
        return hub__error_oom();
    }
    for (size_t t = 0; t < count && rc == HUB_OK; t++) {
        hub__cache_target tg;
        HUB_ASSERT(targets[t]);
        if (!targets[t]) {
            rc = hub__error_set(HUB_EINVAL, "invalid argument: NULL target");
            break;
        }
        rc = hub__cache_target_resolve(info, targets[t], &tg);
        if (rc != HUB_OK)
            break;
        if (!tg.repo) {
            if (hub__strvec_push(&p->unmatched, targets[t]) != HUB_OK) {
                rc = HUB_ENOMEM;
                break;
            }
            continue;
        }
        if (tg.file && tg.repo->layout == HUB__LAYOUT_MS_CLASSIC) {
            rc = hub__error_set(HUB_EINVAL,
                                "'%s': one file of a classic ModelScope "
                                "repository cannot be deleted (its .msc "
                                "index would still list it); delete the "
                                "repository",
                                targets[t]);
            break;
        }
        size_t i = repo_index(info, tg.repo);
        repo_sel *s = &sel[i];
        if (!tg.rev) {
            s->whole = true;
        } else if (!tg.file) {
            size_t j = 0;
            while (tg.repo->revs[j] != tg.rev)
                j++;
            if (!sel_rev(s, tg.repo, j))
                rc = HUB_ENOMEM;
        } else {
            bool dup = false;
            for (size_t f = 0; f < s->nfiles && !dup; f++)
                dup = s->files[f] == tg.file;
            if (dup)
                continue;
            if (!HUB_GROW(s->files, s->nfiles, s->capfiles)) {
                rc = HUB_ENOMEM;
                break;
            }
            s->files[s->nfiles++] = tg.file;
        }
    }
    if (rc == HUB_OK) {
        /* a file of a revision deleted whole is no extra operation */
        for (size_t i = 0; i < info->nrepos; i++) {
            repo_sel *s = &sel[i];
            size_t o = 0;
            for (size_t f = 0; f < s->nfiles; f++) {
                bool in_del = s->whole;
                const hub__crepo *r = info->repos[i];
                for (size_t j = 0; s->rev_del && j < r->nrevs && !in_del; j++)
                    for (size_t k = 0;
                         s->rev_del[j] && k < r->revs[j]->nfiles && !in_del;
                         k++)
                        in_del = r->revs[j]->files[k] == s->files[f];
                if (!in_del)
                    s->files[o++] = s->files[f];
            }
            s->nfiles = o;
        }
        whole_if_all(info, sel);
        rc = plan_finish(p, sel, NULL, 0);
    }
    return plan_done(p, sel, rc, out);
}

typedef struct lru_item {
    size_t repo, rev;
    int64_t atime;
} lru_item;

static int cmp_lru(const void *a, const void *b)
{
    const lru_item *x = a, *y = b;
    if (x->atime != y->atime)
        return x->atime < y->atime ? -1 : 1;
    if (x->repo != y->repo)
        return x->repo < y->repo ? -1 : 1;
    return x->rev < y->rev ? -1 : x->rev > y->rev;
}

/* Evict least recently used revisions until the blobs left fit. */
static int evict(const hub_cache_info *info, repo_sel *sel, uint64_t max)
{
    size_t nrevs = 0;
    for (size_t i = 0; i < info->nrepos; i++)
        nrevs += info->repos[i]->nrevs;
    uint32_t *refcount = hub__calloc(info->nblobs + 1, sizeof(*refcount));
    lru_item *items = hub__calloc(nrevs + 1, sizeof(*items));
    if (!refcount || !items) {
        hub__free(refcount);
        hub__free(items);
        return HUB_ENOMEM;
    }
    size_t n = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < info->nrepos; i++) {
        const hub__crepo *r = info->repos[i];
        for (size_t j = 0; j < r->nrevs; j++) {
            if (sel[i].rev_del && sel[i].rev_del[j])
                continue;
            const hub__crev *v = r->revs[j];
            for (size_t k = 0; k < v->nblob_ids; k++)
                if (refcount[v->blob_ids[k]]++ == 0)
                    total += info->blobs[v->blob_ids[k]].size;
            items[n++] = (lru_item){i, j, v->pub.last_accessed};
        }
    }
    if (n > 1)
        qsort(items, n, sizeof(*items), cmp_lru);
    int rc = HUB_OK;
    for (size_t t = 0; t < n && total > max; t++) {
        const hub__crepo *r = info->repos[items[t].repo];
        const hub__crev *v = r->revs[items[t].rev];
        if (!sel_rev(&sel[items[t].repo], r, items[t].rev)) {
            rc = HUB_ENOMEM;
            break;
        }
        for (size_t k = 0; k < v->nblob_ids; k++)
            if (--refcount[v->blob_ids[k]] == 0)
                total -= info->blobs[v->blob_ids[k]].size;
    }
    hub__free(refcount);
    hub__free(items);
    return rc;
}

int hub_cache_plan_prune(hub_cache_plan **out,
                         const hub_cache_info *info,
                         const hub_cache_prune_options *opts)
{
    HUB_ASSERT_ARG(out);
    *out = NULL;
    HUB_ASSERT_ARG(info);
    hub_cache_prune_options o = HUB_CACHE_PRUNE_OPTIONS_INIT;
    if (opts) {
        if (opts->version != 1)
            return hub__error_set(HUB_EVERSION,
                                  "unsupported hub_cache_prune_options "
                                  "version %u",
                                  opts->version);
        if (opts->flags)
            return hub__error_set(HUB_EINVAL,
                                  "unknown hub_cache_prune_options flags %#x",
                                  opts->flags);
        o = *opts;
    }
    int rc = check_info(info);
    if (rc != HUB_OK)
        return rc;
    int64_t now = o.now ? o.now : (int64_t)time(NULL);
    hub_cache_plan *p = plan_new(info);
    repo_sel *sel = hub__calloc(info->nrepos + 1, sizeof(*sel));
    if (!p || !sel) {
        hub__free(p);
        hub__free(sel);
        return hub__error_oom();
    }
    for (size_t i = 0; i < info->nrepos && rc == HUB_OK; i++) {
        const hub__crepo *r = info->repos[i];
        for (size_t j = 0; j < r->nrevs && rc == HUB_OK; j++) {
            const hub__crev *v = r->revs[j];
            bool old =
                o.older_than > 0 && v->pub.last_accessed < now - o.older_than;
            if ((v->refs.count == 0 || old) && !sel_rev(&sel[i], r, j))
                rc = HUB_ENOMEM;
        }
    }
    if (rc == HUB_OK && o.max_size > 0)
        rc = evict(info, sel, o.max_size);
    if (rc == HUB_OK) {
        whole_if_all(info, sel);
        int64_t age = o.partial_age ? o.partial_age : DEFAULT_PARTIAL_AGE;
        for (size_t i = 0; i < info->nrepos; i++) {
            const hub__crepo *r = info->repos[i];
            /* a folder holding neither snapshot nor ref keeps nothing */
            if (!r->nrevs && !r->ref_names.count && !r->unreadable)
                sel[i].whole = true;
            /* a partial download that may still resume keeps its folder */
            for (size_t k = 0; sel[i].whole && k < r->npartials; k++)
                if (age > 0 && r->partials[k].mtime > now - age)
                    sel[i].whole = false;
        }
        rc = plan_finish(p, sel, &o, now);
    }
    return plan_done(p, sel, rc, out);
}

/* --------------------------------------------------------------------- */
/* Executing                                                              */

typedef struct held {
    char etag[HUB__REF_NAME_MAX]; /* or a ModelScope lock's path */
    hub__lock lock;
    int rc; /* HUB_OK held, HUB__LOCK_BUSY, or an error */
} held;

typedef struct exec_ctx {
    hub_cache_plan *p;
    int root;  /* the cache folder */
    int trash; /* .locks/.hubfetch-trash, made when first needed */
    unsigned long counter;
    size_t failed;
    char *first_failure;
    held *locks;
    size_t nlocks, caplocks;
} exec_ctx;

static void
set_state(exec_ctx *x, op *o, hub_cache_op_state state, const char *fmt, ...)
    HUB_PRINTF(4, 5);

static void
set_state(exec_ctx *x, op *o, hub_cache_op_state state, const char *fmt, ...)
{
    o->pub.state = state;
    if (state == HUB_CACHE_OP_DONE)
        x->p->freed += o->pub.bytes;
    if (!fmt)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    hub__text_clean(buf, sizeof(buf));
    hub__free(o->message);
    o->message = hub__strdup(buf);
    o->pub.message = o->message;
    if (state == HUB_CACHE_OP_FAILED) {
        x->failed++;
        if (!x->first_failure)
            x->first_failure = hub__aprintf("%s: %s", o->path, buf);
    }
}

static void fail_errno(exec_ctx *x, op *o, const char *what, int err)
{
    set_state(x, o, HUB_CACHE_OP_FAILED, "cannot %s: %s", what, strerror(err));
}

/* The directory `rel` below the cache root, or -1 (errno set). */
static int dir_at(int at, const char *rel)
{
    int fd = hub__sfs_dir_at(at, rel, false, rel);
    if (fd < 0) {
        hub__error_clear();
        if (!errno)
            errno = ENOENT;
        return -1;
    }
    return fd;
}

/* Move `name` of `at` into the trash, then remove it there. 0, or -1
 * with errno set when it could not be moved (nothing changed). */
static int to_trash(exec_ctx *x, op *o, int at, const char *name)
{
    if (x->trash < 0) {
        x->trash = hub__sfs_dir_at(x->root, HUB__TRASH_OF(x->p->info), true,
                                   HUB__TRASH_OF(x->p->info));
        if (x->trash < 0) {
            hub__error_clear();
            if (!errno)
                errno = EIO;
            return -1;
        }
    }
    char tname[96];
    for (;;) {
        snprintf(tname, sizeof(tname), "t%ld-%lu-%ld", (long)getpid(),
                 ++x->counter, (long)time(NULL));
        if (renameat(at, name, x->trash, tname) == 0)
            break;
        if (errno == EXDEV) /* another filesystem: removed where it is */
            return hub__sfs_remove_tree(at, name, REMOVE_DEPTH);
        if (errno != EEXIST && errno != ENOTEMPTY)
            return -1;
    }
    if (hub__sfs_remove_tree(x->trash, tname, REMOVE_DEPTH) != 0)
        o->message = hub__aprintf("moved out of the cache but not all "
                                  "removed (%s): 'hubfetch cache prune' "
                                  "finishes it",
                                  strerror(errno));
    o->pub.message = o->message;
    return 0;
}

/* The content of a ref file, whitespace stripped; false if unreadable. */
static bool read_ref(int dirfd, const char *name, char *out, size_t size)
{
    int fd =
        openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        n = read(fd, out, size - 1);
    close(fd);
    if (n < 0)
        return false;
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' ||
                     out[n - 1] == ' ' || out[n - 1] == '\t'))
        n--;
    out[n] = '\0';
    return true;
}

/* Every ref file below `dirfd` (refs/), as name and commit. */
static void read_refs_now(int at,
                          const char *prefix,
                          unsigned depth,
                          hub_strvec *names,
                          hub_strvec *targets,
                          bool *oom)
{
    DIR *d = hub__sfs_opendir_at(at);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        char name[HUB__REF_NAME_MAX];
        if (snprintf(name, sizeof(name), "%s%s", prefix, n) >=
            (int)sizeof(name) - 1)
            continue;
        if (S_ISDIR(st.st_mode) && depth > 0) {
            int sub = openat(dirfd(d), n,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) {
                char p2[HUB__REF_NAME_MAX];
                if (snprintf(p2, sizeof(p2), "%s/", name) < (int)sizeof(p2))
                    read_refs_now(sub, p2, depth - 1, names, targets, oom);
                close(sub);
            }
            continue;
        }
        char commit[256];
        if (!S_ISREG(st.st_mode) ||
            !read_ref(dirfd(d), n, commit, sizeof(commit)))
            continue;
        if (hub__strvec_push(names, name) != HUB_OK ||
            hub__strvec_push(targets, commit) != HUB_OK)
            *oom = true;
    }
    closedir(d);
}

typedef struct repo_now {
    hub_strvec ref_names, ref_targets;
    bool oom;
} repo_now;

static void repo_now_read(repo_now *n, int repo_fd)
{
    hub__strvec_free(&n->ref_names);
    hub__strvec_free(&n->ref_targets);
    n->oom = false;
    int refs = dir_at(repo_fd, "refs");
    if (refs >= 0) {
        read_refs_now(refs, "", 8, &n->ref_names, &n->ref_targets, &n->oom);
        close(refs);
    }
}

/* The ref of `n` naming `commit`, or NULL. */
static const char *ref_naming(const repo_now *n, const char *commit)
{
    for (size_t i = 0; i < n->ref_targets.count; i++)
        if (strcmp(n->ref_targets.items[i], commit) == 0)
            return n->ref_names.items[i];
    return NULL;
}

/* The lock of `etag` in this repository, taken once. */
static held *lock_for(exec_ctx *x, const hub__crepo *r, const char *etag)
{
    for (size_t i = 0; i < x->nlocks; i++)
        if (strcmp(x->locks[i].etag, etag) == 0)
            return &x->locks[i];
    if (!HUB_GROW(x->locks, x->nlocks, x->caplocks))
        return NULL;
    held *h = &x->locks[x->nlocks++];
    snprintf(h->etag, sizeof(h->etag), "%s", etag);
    h->lock = (hub__lock)HUB_LOCK_INIT;
    const char *root =
        r->layout == HUB__LAYOUT_HF ? x->p->info->dir : r->ms_root;
    char *path =
        r->layout == HUB__LAYOUT_HF
            ? hub__aprintf("%s/.locks/%s/%s.lock", root, r->folder, etag)
            : hub__aprintf("%s/%s", root, etag);
    h->rc = path ? hub__lock_try(&h->lock, root, path) : HUB_ENOMEM;
    if (h->rc < 0)
        hub__error_clear();
    hub__free(path);
    return h;
}

static void release_locks(exec_ctx *x)
{
    for (size_t i = 0; i < x->nlocks; i++)
        hub__lock_release(&x->locks[i].lock);
    x->nlocks = 0;
}

/* Why a lock cannot protect a deletion, or NULL when it is held. */
static const char *lock_problem(const held *h)
{
    if (!h)
        return "out of memory";
    if (h->rc == HUB__LOCK_BUSY)
        return "a download holds its lock";
    if (h->rc != HUB_OK)
        return "its lock cannot be taken";
    return NULL;
}

/* The etag a name in blobs/ starts with ("<etag>[.…]"). */
static void etag_of(const char *name, char out[65])
{
    size_t n = strcspn(name, ".");
    if (n >= 65)
        n = 0;
    memcpy(out, name, n);
    out[n] = '\0';
}

/* Every etag a snapshot of the repository links now. */
static void
collect_links(int at, size_t depth, hub_strvec *out, bool *incomplete)
{
    DIR *d = hub__sfs_opendir_at(at);
    if (!d) {
        *incomplete = true;
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            *incomplete = true;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (depth >= REMOVE_DEPTH) {
                *incomplete = true;
                continue;
            }
            int sub = openat(dirfd(d), n,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                *incomplete = true;
                continue;
            }
            collect_links(sub, depth + 1, out, incomplete);
            close(sub);
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t len = readlinkat(dirfd(d), n, target, sizeof(target) - 1);
            if (len <= 0) {
                *incomplete = true;
                continue;
            }
            target[len] = '\0';
            /* any link naming a blob keeps it, exact form or not */
            const char *slash = strrchr(target, '/');
            const char *etag = slash ? slash + 1 : target;
            if (hub__strvec_push(out, etag) != HUB_OK)
                *incomplete = true;
        }
    }
    closedir(d);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void exec_ref(exec_ctx *x, op *o, int repo_fd)
{
    const char *name = o->name;
    const char *slash = strrchr(name, '/');
    char parent[HUB__REF_NAME_MAX] = "refs";
    if (slash)
        snprintf(parent, sizeof(parent), "refs/%.*s", (int)(slash - name),
                 name);
    const char *leaf = slash ? slash + 1 : name;
    int dfd = dir_at(repo_fd, parent);
    char now[256];
    if (dfd < 0 || !read_ref(dfd, leaf, now, sizeof(now))) {
        if (errno == ENOENT)
            set_state(x, o, HUB_CACHE_OP_GONE, NULL);
        else
            fail_errno(x, o, "read the ref", errno);
        if (dfd >= 0)
            close(dfd);
        return;
    }
    if (strcmp(now, o->rev->commit) != 0) {
        set_state(x, o, HUB_CACHE_OP_CHANGED, "the ref now names %.64s: kept",
                  now);
    } else if (unlinkat(dfd, leaf, 0) != 0) {
        fail_errno(x, o, "remove the ref", errno);
    } else {
        set_state(x, o, HUB_CACHE_OP_DONE, NULL);
    }
    close(dfd);
    /* refs/pr left empty goes too, as it came with the ref */
    for (char *cut = strrchr(parent, '/'); cut && strcmp(parent, "refs") != 0;
         cut = strrchr(parent, '/')) {
        if (unlinkat(repo_fd, parent, AT_REMOVEDIR) != 0)
            break;
        *cut = '\0';
    }
}

/* A snapshot, .no_exist/<commit>: kept while a ref names the commit. */
static void exec_commit_dir(exec_ctx *x,
                            op *o,
                            int repo_fd,
                            const char *dir,
                            const char *commit,
                            repo_now *now)
{
    repo_now_read(now, repo_fd);
    const char *ref = ref_naming(now, commit);
    if (now->oom) {
        set_state(x, o, HUB_CACHE_OP_FAILED, "out of memory");
        return;
    }
    if (ref) {
        set_state(x, o, HUB_CACHE_OP_CHANGED,
                  "ref '%s' names this commit: kept", ref);
        return;
    }
    if (o->pub.kind != HUB_CACHE_OP_SNAPSHOT) {
        char snap[128];
        struct stat st;
        snprintf(snap, sizeof(snap), "snapshots/%s", commit);
        int s = dir_at(repo_fd, snap);
        if (s >= 0) {
            close(s);
            set_state(x, o, HUB_CACHE_OP_CHANGED,
                      "the commit has a snapshot again: kept");
            return;
        }
        HUB_UNUSED(st);
    }
    int dfd = dir_at(repo_fd, dir);
    if (dfd < 0) {
        if (errno == ENOENT)
            set_state(x, o, HUB_CACHE_OP_GONE, NULL);
        else
            fail_errno(x, o, "open", errno);
        return;
    }
    struct stat st;
    if (fstatat(dfd, commit, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            set_state(x, o, HUB_CACHE_OP_GONE, NULL);
        else
            fail_errno(x, o, "read", errno);
    } else if (!S_ISDIR(st.st_mode)) {
        set_state(x, o, HUB_CACHE_OP_CHANGED, "no longer a folder: kept");
    } else if (to_trash(x, o, dfd, commit) != 0) {
        fail_errno(x, o, "move it out of the cache", errno);
    } else {
        set_state(x, o, HUB_CACHE_OP_DONE, NULL);
    }
    close(dfd);
}

static void exec_file(exec_ctx *x, op *o, int repo_fd)
{
    char dir[HUB__REF_NAME_MAX * 4];
    const char *slash = strrchr(o->name, '/');
    snprintf(dir, sizeof(dir), "snapshots/%s%s%.*s", o->rev->commit,
             slash ? "/" : "", slash ? (int)(slash - o->name) : 0, o->name);
    int dfd = dir_at(repo_fd, dir);
    const char *leaf = slash ? slash + 1 : o->name;
    if (dfd < 0 || unlinkat(dfd, leaf, 0) != 0) {
        if (errno == ENOENT)
            set_state(x, o, HUB_CACHE_OP_GONE, NULL);
        else
            fail_errno(x, o, "remove", errno);
    } else {
        set_state(x, o, HUB_CACHE_OP_DONE, NULL);
    }
    if (dfd >= 0)
        close(dfd);
}

/* Blobs and partial files: under their lock, and a blob only if no
 * snapshot links it now. */
static void
exec_blob(exec_ctx *x, op *o, int repo_fd, hub_strvec *links, int *links_state)
{
    char etag[65];
    etag_of(o->name, etag);
    const char *why = lock_problem(lock_for(x, o->repo, etag));
    if (why) {
        set_state(x, o, HUB_CACHE_OP_IN_USE, "%s: kept", why);
        return;
    }
    const held *h = lock_for(x, o->repo, etag);
    if (o->pub.kind == HUB_CACHE_OP_PARTIAL && h->lock.unsupported) {
        set_state(x, o, HUB_CACHE_OP_IN_USE,
                  "this filesystem has no locks, so a running download "
                  "cannot be told: kept");
        return;
    }
    if (o->pub.kind == HUB_CACHE_OP_BLOB) {
        if (*links_state == 0) { /* read once, after the snapshots went */
            bool incomplete = false;
            int snaps = dir_at(repo_fd, "snapshots");
            if (snaps >= 0) {
                collect_links(snaps, 0, links, &incomplete);
                close(snaps);
            } else if (errno != ENOENT) {
                incomplete = true;
            }
            if (links->count > 1)
                qsort(links->items, links->count, sizeof(char *), cmp_cstr);
            *links_state = incomplete ? 2 : 1;
        }
        if (*links_state == 2) {
            set_state(x, o, HUB_CACHE_OP_CHANGED,
                      "the snapshots could not all be read again: kept");
            return;
        }
        const char *key = o->name;
        if (links->count && bsearch(&key, links->items, links->count,
                                    sizeof(char *), cmp_cstr)) {
            set_state(x, o, HUB_CACHE_OP_CHANGED,
                      "a snapshot links it again: kept");
            return;
        }
    }
    int dfd = dir_at(repo_fd, "blobs");
    struct stat st;
    if (dfd < 0 || fstatat(dfd, o->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            set_state(x, o, HUB_CACHE_OP_GONE, NULL);
        else
            fail_errno(x, o, "read", errno);
    } else if (!S_ISREG(st.st_mode)) {
        set_state(x, o, HUB_CACHE_OP_CHANGED, "not a regular file: kept");
    } else if (unlinkat(dfd, o->name, 0) != 0) {
        fail_errno(x, o, "remove", errno);
    } else {
        set_state(x, o, HUB_CACHE_OP_DONE, NULL);
    }
    if (dfd >= 0)
        close(dfd);
}

static void exec_tree(exec_ctx *x, op *o, int repo_fd, repo_now *now)
{
    repo_now_read(now, repo_fd);
    char snap[128], file[128];
    snprintf(snap, sizeof(snap), "snapshots/%s", o->name);
    snprintf(file, sizeof(file), "%s.json", o->name);
    int s = dir_at(repo_fd, snap);
    if (s >= 0 || ref_naming(now, o->name)) {
        if (s >= 0)
            close(s);
        set_state(x, o, HUB_CACHE_OP_CHANGED, "the commit is back: kept");
        return;
    }
    int dfd = dir_at(repo_fd, "trees");
    if (dfd < 0 || unlinkat(dfd, file, 0) != 0) {
        if (errno == ENOENT)
            set_state(x, o, HUB_CACHE_OP_GONE, NULL);
        else
            fail_errno(x, o, "remove", errno);
    } else {
        set_state(x, o, HUB_CACHE_OP_DONE, NULL);
    }
    if (dfd >= 0)
        close(dfd);
}

/* Are the repository's snapshots and refs still the ones scanned? */
static const char *repo_changed(
    const hub__crepo *r, int repo_fd, repo_now *now, char *why, size_t size)
{
    repo_now_read(now, repo_fd);
    if (now->oom)
        return "out of memory";
    for (size_t i = 0; i < now->ref_names.count; i++) {
        bool known = false;
        for (size_t k = 0; k < r->ref_names.count && !known; k++)
            known =
                strcmp(r->ref_names.items[k], now->ref_names.items[i]) == 0 &&
                strcmp(r->ref_targets.items[k], now->ref_targets.items[i]) == 0;
        if (!known) {
            snprintf(why, size, "ref '%s' changed since the scan",
                     now->ref_names.items[i]);
            return why;
        }
    }
    int snaps = dir_at(repo_fd, "snapshots");
    if (snaps < 0)
        return NULL;
    DIR *d = hub__sfs_opendir_at(snaps);
    close(snaps);
    if (!d)
        return "its snapshots cannot be read";
    const char *res = NULL;
    struct dirent *de;
    while (!res && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        bool known = false;
        for (size_t j = 0; j < r->nrevs && !known; j++)
            known = strcmp(r->revs[j]->commit, de->d_name) == 0;
        if (!known) {
            snprintf(why, size, "revision %.64s appeared since the scan",
                     de->d_name);
            res = why;
        }
    }
    closedir(d);
    return res;
}

static void exec_whole(exec_ctx *x, op *o, repo_now *now)
{
    const hub__crepo *r = o->repo;
    int repo_fd = dir_at(x->root, r->folder);
    if (repo_fd < 0) {
        if (errno == ENOENT)
            set_state(x, o, HUB_CACHE_OP_GONE, NULL);
        else
            fail_errno(x, o, "open", errno);
        return;
    }
    /* every lock of the repository: no download may run in it */
    char locks_rel[HUB__REF_NAME_MAX];
    snprintf(locks_rel, sizeof(locks_rel), ".locks/%s", r->folder);
    int ldir = dir_at(x->root, locks_rel);
    DIR *d = ldir >= 0 ? hub__sfs_opendir_at(ldir) : NULL;
    const char *busy = NULL;
    struct dirent *de;
    while (d && !busy && (de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (nl <= 5 || strcmp(de->d_name + nl - 5, ".lock") != 0 || nl > 69)
            continue;
        char etag[65];
        memcpy(etag, de->d_name, nl - 5);
        etag[nl - 5] = '\0';
        busy = lock_problem(lock_for(x, r, etag));
    }
    if (d)
        closedir(d);
    if (ldir >= 0)
        close(ldir);
    char why[256];
    const char *changed =
        busy ? NULL : repo_changed(r, repo_fd, now, why, sizeof(why));
    close(repo_fd);
    if (busy)
        set_state(x, o, HUB_CACHE_OP_IN_USE,
                  "a download is running in it (%s): kept", busy);
    else if (changed)
        set_state(x, o, HUB_CACHE_OP_CHANGED, "%s: kept", changed);
    else if (to_trash(x, o, x->root, r->folder) != 0)
        fail_errno(x, o, "move it out of the cache", errno);
    else
        set_state(x, o, HUB_CACHE_OP_DONE, NULL);
    release_locks(x);
}

/* ModelScope: the SDK's repo lock (classic), or every per-file lock of the
 * repository (new layout); why it cannot be taken, or NULL. */
static const char *ms_lock(exec_ctx *x, const hub__crepo *r, int root)
{
    if (r->layout == HUB__LAYOUT_MS_CLASSIC) {
        held *h = lock_for(x, r, r->ms_lock);
        if (h && h->rc == HUB_OK && h->lock.unsupported)
            return "this filesystem has no locks, so a running download "
                   "cannot be told";
        return lock_problem(h);
    }
    const char *prefix = strchr(r->ms_lock, '/') + 1;
    int ldir = dir_at(root, ".lock");
    DIR *d = ldir >= 0 ? hub__sfs_opendir_at(ldir) : NULL;
    const char *busy = NULL;
    struct dirent *de;
    while (d && !busy && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char rel[HUB__REF_NAME_MAX];
        if (snprintf(rel, sizeof(rel), ".lock/%s", de->d_name) <
            (int)sizeof(rel))
            busy = lock_problem(lock_for(x, r, rel));
    }
    if (d)
        closedir(d);
    if (ldir >= 0)
        close(ldir);
    return busy;
}

/* Split "a/b/c" into the open folder "a/b" below `root` and "c". */
static int parent_of(int root, const char *rel, const char **leaf)
{
    const char *slash = strrchr(rel, '/');
    *leaf = slash ? slash + 1 : rel;
    if (!slash)
        return dup(root);
    char dir[HUB__REF_NAME_MAX];
    if ((size_t)(slash - rel) >= sizeof(dir)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(dir, rel, (size_t)(slash - rel));
    dir[slash - rel] = '\0';
    return dir_at(root, dir);
}

/* Remove `rel` (below `root`) through the trash; owner folders left empty
 * go too (rmdir: only when empty). */
static int ms_remove(exec_ctx *x, op *o, int root, const char *rel)
{
    const char *leaf;
    int pfd = parent_of(root, rel, &leaf);
    if (pfd < 0)
        return -1;
    struct stat st;
    int rc = fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW);
    if (rc == 0)
        rc = S_ISDIR(st.st_mode) ? to_trash(x, o, pfd, leaf)
                                 : unlinkat(pfd, leaf, 0);
    int e = errno;
    close(pfd);
    errno = e;
    return rc;
}

static void exec_ms(exec_ctx *x, size_t from, size_t to, hub_client *client)
{
    hub_cache_plan *p = x->p;
    const hub__crepo *r = p->ops[from].repo;
    int root = hub__sfs_dir(r->ms_root, r->ms_root, false);
    if (root < 0) {
        hub__error_clear();
        int e = errno ? errno : EIO;
        for (size_t k = from; k < to; k++)
            fail_errno(x, &p->ops[k], "open the cache", e);
        return;
    }
    const char *busy = ms_lock(x, r, root);
    for (size_t k = from; k < to; k++) {
        op *o = &p->ops[k];
        if (client && atomic_load(&client->cancel))
            break;
        if (busy) {
            set_state(x, o, HUB_CACHE_OP_IN_USE, "%s: kept", busy);
            continue;
        }
        const char *rel = o->pub.kind == HUB_CACHE_OP_REPO      ? r->ms_rel
                          : o->pub.kind == HUB_CACHE_OP_PARTIAL ? r->ms_temp
                                                                : NULL;
        char snap[HUB__REF_NAME_MAX * 4];
        if (o->pub.kind == HUB_CACHE_OP_SNAPSHOT &&
            snprintf(snap, sizeof(snap), "%s/snapshots/%s", r->ms_rel,
                     o->name) < (int)sizeof(snap))
            rel = snap;
        if (o->pub.kind == HUB_CACHE_OP_FILE &&
            snprintf(snap, sizeof(snap), "%s/snapshots/%s/%s", r->ms_rel,
                     o->rev->commit, o->name) < (int)sizeof(snap))
            rel = snap;
        if (!rel) {
            set_state(x, o, HUB_CACHE_OP_FAILED, "unexpected operation");
        } else if (ms_remove(x, o, root, rel) != 0) {
            if (errno == ENOENT)
                set_state(x, o, HUB_CACHE_OP_GONE, NULL);
            else
                fail_errno(x, o, "remove", errno);
        } else {
            set_state(x, o, HUB_CACHE_OP_DONE, NULL);
        }
        if (o->pub.state != HUB_CACHE_OP_DONE)
            continue;
        /* with the repository: the dotted-name link to it and its downloads
         * in progress */
        if (o->pub.kind == HUB_CACHE_OP_REPO && r->ms_dotted)
            (void)ms_remove(x, o, root, r->ms_dotted);
        if (o->pub.kind == HUB_CACHE_OP_REPO && r->ms_temp)
            (void)ms_remove(x, o, root, r->ms_temp);
        /* and owner folders left empty (rmdir fails on any other) */
        const char *owned[] = {
            o->pub.kind == HUB_CACHE_OP_REPO ? r->ms_rel : NULL, r->ms_temp};
        for (size_t i = 0; i < 2; i++) {
            char dir[HUB__REF_NAME_MAX];
            const char *leaf;
            if (!owned[i] || r->layout != HUB__LAYOUT_MS_CLASSIC ||
                snprintf(dir, sizeof(dir), "%s", owned[i]) >= (int)sizeof(dir))
                continue;
            char *cut = strrchr(dir, '/');
            if (!cut)
                continue;
            *cut = '\0';
            int pfd = parent_of(root, dir, &leaf);
            if (pfd >= 0) {
                (void)unlinkat(pfd, leaf, AT_REMOVEDIR);
                close(pfd);
            }
        }
    }
    release_locks(x);
    close(root);
}

/* The operations [from, to) of one repository. */
static void exec_repo(exec_ctx *x, size_t from, size_t to, hub_client *client)
{
    hub_cache_plan *p = x->p;
    const hub__crepo *r = p->ops[from].repo;
    if (r->layout != HUB__LAYOUT_HF) {
        exec_ms(x, from, to, client);
        return;
    }
    repo_now now = {0};
    if (p->ops[from].pub.kind == HUB_CACHE_OP_REPO) {
        exec_whole(x, &p->ops[from], &now);
        hub__strvec_free(&now.ref_names);
        hub__strvec_free(&now.ref_targets);
        return;
    }
    int repo_fd = dir_at(x->root, r->folder);
    if (repo_fd < 0) {
        int e = errno;
        for (size_t k = from; k < to; k++) {
            if (e == ENOENT)
                set_state(x, &p->ops[k], HUB_CACHE_OP_GONE, NULL);
            else
                fail_errno(x, &p->ops[k], "open the repository", e);
        }
        return;
    }
    /* locks first, so no download can link a blob between the check and
     * the unlink */
    for (size_t k = from; k < to; k++) {
        op *o = &p->ops[k];
        if (o->pub.kind == HUB_CACHE_OP_BLOB ||
            o->pub.kind == HUB_CACHE_OP_PARTIAL) {
            char etag[65];
            etag_of(o->name, etag);
            if (etag[0])
                lock_for(x, r, etag);
        }
    }
    hub_strvec links = {0};
    int links_state = 0;
    for (size_t k = from; k < to; k++) {
        op *o = &p->ops[k];
        if (client && atomic_load(&client->cancel))
            break;
        switch (o->pub.kind) {
        case HUB_CACHE_OP_REF:
            exec_ref(x, o, repo_fd);
            break;
        case HUB_CACHE_OP_SNAPSHOT:
            exec_commit_dir(x, o, repo_fd, "snapshots", o->name, &now);
            break;
        case HUB_CACHE_OP_FILE:
            exec_file(x, o, repo_fd);
            break;
        case HUB_CACHE_OP_BLOB:
        case HUB_CACHE_OP_PARTIAL:
            exec_blob(x, o, repo_fd, &links, &links_state);
            break;
        case HUB_CACHE_OP_NO_EXIST:
            exec_commit_dir(x, o, repo_fd, ".no_exist", o->name, &now);
            break;
        case HUB_CACHE_OP_TREE:
            exec_tree(x, o, repo_fd, &now);
            break;
        default:
            set_state(x, o, HUB_CACHE_OP_FAILED, "unexpected operation");
            break;
        }
    }
    release_locks(x);
    hub__strvec_free(&links);
    hub__strvec_free(&now.ref_names);
    hub__strvec_free(&now.ref_targets);
    close(repo_fd);
}

static void exec_trash(exec_ctx *x, op *o)
{
    int t = dir_at(x->root, HUB__TRASH_OF(x->p->info));
    if (t < 0 || hub__sfs_remove_tree(t, o->name, REMOVE_DEPTH) != 0)
        fail_errno(x, o, "remove", errno);
    else
        set_state(x, o, HUB_CACHE_OP_DONE, NULL);
    if (t >= 0)
        close(t);
}

int hub_cache_execute(hub_cache_plan *plan, hub_client *client)
{
    HUB_ASSERT_ARG(plan);
    if (plan->executed)
        return hub__error_set(HUB_EINVAL, "this plan was executed already");
    plan->executed = true;
    if (client) {
        int rc = hub__client_enter(client);
        if (rc != HUB_OK)
            return rc;
    }
    exec_ctx x = {.p = plan, .root = -1, .trash = -1};
    int rc = HUB_OK;
    x.root = open(plan->info->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (x.root < 0) {
        rc = hub__path_error(errno, "cannot open the cache", plan->info->dir);
        goto out;
    }
    for (size_t k = 0; k < plan->nops;) {
        if (client && atomic_load(&client->cancel))
            break;
        op *o = &plan->ops[k];
        if (o->pub.kind == HUB_CACHE_OP_TRASH) {
            exec_trash(&x, o);
            k++;
            continue;
        }
        size_t end = k + 1;
        while (end < plan->nops && plan->ops[end].repo == o->repo &&
               plan->ops[end].pub.kind != HUB_CACHE_OP_TRASH)
            end++;
        exec_repo(&x, k, end, client);
        k = end;
    }
    if (client && atomic_load(&client->cancel))
        rc = hub__error_set(HUB_ECANCELLED,
                            "cache deletion cancelled; what was done is "
                            "consistent, run it again to finish");
    else if (x.failed)
        rc = hub__error_set(HUB_EIO, "%zu cache operation%s failed; first: %s",
                            x.failed, x.failed == 1 ? "" : "s",
                            x.first_failure ? x.first_failure : "?");
out:
    if (x.trash >= 0) {
        close(x.trash);
        int l = dir_at(x.root, plan->info->modelscope ? ".lock" : ".locks");
        if (l >= 0) { /* only when empty */
            (void)unlinkat(l, ".hubfetch-trash", AT_REMOVEDIR);
            close(l);
        }
    }
    if (x.root >= 0)
        close(x.root);
    hub__free(x.first_failure);
    hub__free(x.locks);
    if (client)
        hub__client_leave(client);
    return rc;
}

size_t hub_cache_plan_op_count(const hub_cache_plan *plan)
{
    return plan ? plan->nops : 0;
}

const hub_cache_op *hub_cache_plan_op(const hub_cache_plan *plan, size_t index)
{
    return plan && plan->ptrs && index < plan->nops ? plan->ptrs[index] : NULL;
}

uint64_t hub_cache_plan_bytes(const hub_cache_plan *plan)
{
    return plan ? plan->bytes : 0;
}

uint64_t hub_cache_plan_freed(const hub_cache_plan *plan)
{
    return plan ? plan->freed : 0;
}

size_t hub_cache_plan_unmatched_count(const hub_cache_plan *plan)
{
    return plan ? plan->unmatched.count : 0;
}

const char *hub_cache_plan_unmatched(const hub_cache_plan *plan, size_t index)
{
    return plan && index < plan->unmatched.count ? plan->unmatched.items[index]
                                                 : NULL;
}

void hub_cache_plan_free(hub_cache_plan *plan)
{
    if (!plan)
        return;
    for (size_t k = 0; k < plan->nops; k++) {
        hub__free(plan->ops[k].path);
        hub__free(plan->ops[k].name);
        hub__free(plan->ops[k].message);
    }
    hub__free(plan->ops);
    hub__free(plan->ptrs);
    hub__strvec_free(&plan->unmatched);
    hub__free(plan);
}
