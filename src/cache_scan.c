/* SPDX-License-Identifier: MIT */
/*
 * cache_scan.c: hub_cache_scan(), what a Hugging Face cache holds.
 *
 * One pass over the cache with directory streams: every name is looked at
 * with fstatat()/readlinkat()/openat() relative to its folder's fd and
 * never followed (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW), so a link planted in a
 * shared cache cannot make the scan read or count anything outside it. A
 * snapshot entry counts when it is a regular file (copy mode) or the exact
 * link "../../[../]blobs/<etag>" (hub__hfcache_link_blob) to a regular
 * blob. Blobs are identified by device and inode, so a blob used by
 * several revisions, or hard-linked, counts once everywhere.
 *
 * Unlike huggingface_hub's scan_cache_dir(), a defect never hides a
 * repository: it is listed with what exists, and the defect becomes one of
 * its warnings.
 */
#include "cache_scan.h"
#include "alloc.h"
#include "cache_hf.h"
#include "client.h"
#include "common.h"
#include "path.h"

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
#include <unistd.h>

/* Past this many warnings a repository gets one line counting the rest. */
#define MAX_WARNINGS 20
/* Folders read below a snapshot folder: far more than any repository. */
#define MAX_DEPTH 64

/* Keep `str` (owned; NULL is out of memory): false on OOM. */
static bool push(hub_strvec *s, char *str)
{
    return hub__strvec_push_owned(s, str) == HUB_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static HUB_PRINTF(7, 0) void vproblem(hub_cache_info *info,
                                      hub__crepo *r,
                                      hub__crev *v,
                                      const char *rel,
                                      const char *name,
                                      bool broken,
                                      const char *fmt,
                                      va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    hub__text_clean(buf, sizeof(buf));
    if (r) { /* every one, for the tools; the warnings stop at a page */
        if (r->nproblems == r->capproblems) {
            size_t cap = r->capproblems ? r->capproblems * 2 : 8;
            hub__cproblem *pv =
                hub__reallocarray(r->problems, cap, sizeof(*pv));
            if (!pv) {
                info->oom = 1;
                return;
            }
            r->problems = pv;
            r->capproblems = cap;
        }
        hub__cproblem *p = &r->problems[r->nproblems];
        p->rev = v;
        p->broken = broken;
        p->text = hub__strdup(buf);
        p->file = name ? hub__aprintf("%s%s", rel ? rel : "", name) : NULL;
        if (!p->text || (name && !p->file)) {
            hub__free(p->text);
            hub__free(p->file);
            info->oom = 1;
            return;
        }
        r->nproblems++;
        if (r->warnings.count >= MAX_WARNINGS) {
            r->extra_warnings++;
            return;
        }
    }
    if (!push(r ? &r->warnings : &info->warnings, hub__strdup(buf)))
        info->oom = 1;
}

void hub__cache_warn(hub_cache_info *info, hub__crepo *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vproblem(info, r, NULL, NULL, NULL, false, fmt, ap);
    va_end(ap);
}

/* A problem with the entry `rel``name` of revision `v`: `broken` when it
 * is a file that resolves to no content. */
static void problem(hub_cache_info *info,
                    hub__crepo *r,
                    hub__crev *v,
                    const char *rel,
                    const char *name,
                    bool broken,
                    const char *fmt,
                    ...) HUB_PRINTF(7, 8);

static void problem(hub_cache_info *info,
                    hub__crepo *r,
                    hub__crev *v,
                    const char *rel,
                    const char *name,
                    bool broken,
                    const char *fmt,
                    ...)
{
    va_list ap;
    va_start(ap, fmt);
    vproblem(info, r, v, rel, name, broken, fmt, ap);
    va_end(ap);
}

static int64_t secs(struct timespec ts)
{
    return (int64_t)ts.tv_sec;
}

static size_t hash_blob(dev_t dev, ino_t ino)
{
    uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15u ^ (uint64_t)dev;
    return (size_t)(h ^ (h >> 29));
}

/* The index of the blob `st` describes, added if new; SIZE_MAX on OOM. */
/* The index of the blob (dev, ino) of `tpl`, added as a copy of `tpl` if
 * new (`*added` says which); SIZE_MAX on OOM. */
static size_t blob_put(hub_cache_info *info, const hub__cblob *tpl, bool *added)
{
    *added = false;
    if (info->nblobs * 2 >= info->tcap) {
        size_t cap = info->tcap ? info->tcap * 2 : 1024;
        size_t *t = hub__calloc(cap, sizeof(*t));
        if (!t)
            return SIZE_MAX;
        for (size_t i = 0; i < info->nblobs; i++) {
            size_t h = hash_blob(info->blobs[i].dev, info->blobs[i].ino);
            while (t[h & (cap - 1)])
                h++;
            t[h & (cap - 1)] = i + 1;
        }
        hub__free(info->table);
        info->table = t;
        info->tcap = cap;
    }
    size_t h = hash_blob(tpl->dev, tpl->ino);
    for (;; h++) {
        size_t slot = info->table[h & (info->tcap - 1)];
        if (!slot)
            break;
        hub__cblob *b = &info->blobs[slot - 1];
        if (b->dev == tpl->dev && b->ino == tpl->ino)
            return slot - 1;
    }
    if (!HUB_GROW(info->blobs, info->nblobs, info->capblobs))
        return SIZE_MAX;
    info->blobs[info->nblobs] = *tpl;
    info->table[h & (info->tcap - 1)] = info->nblobs + 1;
    *added = true;
    return info->nblobs++;
}

/* The index of the blob `st` describes, added if new; SIZE_MAX on OOM. */
static size_t blob_id(hub_cache_info *info, const struct stat *st)
{
    hub__cblob b = {.dev = st->st_dev,
                    .ino = st->st_ino,
                    .size = (uint64_t)st->st_size,
                    .atime = secs(st->st_atim),
                    .mtime = secs(st->st_mtim),
                    .nlink = st->st_nlink};
    bool added;
    return blob_put(info, &b, &added);
}

size_t hub__cache_blob_find(const hub_cache_info *info, dev_t dev, ino_t ino)
{
    if (!info->tcap)
        return SIZE_MAX;
    for (size_t h = hash_blob(dev, ino);; h++) {
        size_t slot = info->table[h & (info->tcap - 1)];
        if (!slot)
            return SIZE_MAX;
        const hub__cblob *b = &info->blobs[slot - 1];
        if (b->dev == dev && b->ino == ino)
            return slot - 1;
    }
}

static bool add_id(size_t **ids, size_t *n, size_t *cap, size_t id)
{
    if (!HUB_GROW(*ids, *n, *cap))
        return false;
    (*ids)[(*n)++] = id;
    return true;
}

static size_t hash_str(const char *s)
{
    size_t h = 14695981039346656037u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The blob index known for `etag` in `r`, or SIZE_MAX. */
static size_t etag_find(const hub__crepo *r, const char *etag)
{
    if (!r->cap_etags)
        return SIZE_MAX;
    for (size_t h = hash_str(etag);; h++) {
        size_t i = h & (r->cap_etags - 1);
        if (!r->etags[i])
            return SIZE_MAX;
        if (strcmp(r->etags[i], etag) == 0)
            return r->etag_ids[i];
    }
}

static void etag_put(hub__crepo *r, const char *etag, size_t id)
{
    if ((r->netags + 1) * 2 > r->cap_etags) {
        size_t cap = r->cap_etags ? r->cap_etags * 2 : 256;
        char **k = hub__calloc(cap, sizeof(*k));
        size_t *v = hub__calloc(cap, sizeof(*v));
        if (!k || !v) {
            hub__free(k);
            hub__free(v);
            r->unreadable = true; /* orphans can no longer be told */
            return;
        }
        for (size_t i = 0; i < r->cap_etags; i++) {
            if (!r->etags[i])
                continue;
            size_t h = hash_str(r->etags[i]);
            while (k[h & (cap - 1)])
                h++;
            k[h & (cap - 1)] = r->etags[i];
            v[h & (cap - 1)] = r->etag_ids[i];
        }
        hub__free(r->etags);
        hub__free(r->etag_ids);
        r->etags = k;
        r->etag_ids = v;
        r->cap_etags = cap;
    }
    char *key = hub__strdup(etag);
    if (!key) {
        hub__error_clear();
        r->unreadable = true;
        return;
    }
    size_t h = hash_str(etag);
    while (r->etags[h & (r->cap_etags - 1)])
        h++;
    r->etags[h & (r->cap_etags - 1)] = key;
    r->etag_ids[h & (r->cap_etags - 1)] = id;
    r->netags++;
}

static void etags_free(hub__crepo *r)
{
    for (size_t i = 0; i < r->cap_etags; i++)
        hub__free(r->etags[i]);
    hub__free(r->etags);
    hub__free(r->etag_ids);
    r->etags = NULL;
    r->etag_ids = NULL;
    r->cap_etags = r->netags = 0;
}

/* A file of revision `v` whose content is blob `id`. */
static void
count_id(hub_cache_info *info, hub__crepo *r, hub__crev *v, size_t id)
{
    hub__cblob *b = &info->blobs[id];
    v->pub.nb_files++;
    if (b->rev_stamp != info->stamp) {
        b->rev_stamp = info->stamp;
        if (!add_id(&v->blob_ids, &v->nblob_ids, &v->capblob_ids, id))
            info->oom = 1;
        v->pub.size_on_disk += b->size;
        if (b->mtime > v->pub.last_modified)
            v->pub.last_modified = b->mtime;
        if (b->atime > v->pub.last_accessed)
            v->pub.last_accessed = b->atime;
    }
    if (b->repo_stamp != info->nrepos) {
        b->repo_stamp = info->nrepos;
        if (!add_id(&r->blob_ids, &r->nblob_ids, &r->capblob_ids, id))
            info->oom = 1;
    }
}

/* A file of revision `v` whose content is the regular file `st`. */
static size_t count_file(hub_cache_info *info,
                         hub__crepo *r,
                         hub__crev *v,
                         const struct stat *st)
{
    size_t id = blob_id(info, st);
    if (id == SIZE_MAX)
        info->oom = 1;
    else
        count_id(info, r, v, id);
    return id;
}

/* Keep the file `rel``name` of `v` (content: blob `id`, named `etag` in
 * blobs/ or NULL for a regular file), when the scan keeps files. */
static void add_file(hub_cache_info *info,
                     hub__crepo *r,
                     hub__crev *v,
                     const char *rel,
                     const char *name,
                     size_t id,
                     const char *etag)
{
    if (!info->files || id == SIZE_MAX)
        return;
    hub__cblob *b = &info->blobs[id];
    if (!b->path) {
        b->path = etag ? hub__aprintf("%s/blobs/%s", r->path, etag)
                       : hub__aprintf("%s/%s%s", v->path, rel, name);
        if (etag && b->path)
            b->etag = strrchr(b->path, '/') + 1;
        if (!b->path) {
            info->oom = 1;
            return;
        }
    }
    /* the blob of this repository: another one's when hard-linked */
    size_t bl = strlen(r->path) + 7 + (etag ? strlen(etag) : 0);
    bool own = etag && (strncmp(b->path, r->path, strlen(r->path)) != 0 ||
                        strlen(b->path) != bl);
    size_t rl = strlen(rel), nl = strlen(name), pl = strlen(v->path);
    hub__cfile *f = hub__malloc(sizeof(*f) + rl + nl + 1 + pl + 1 + rl + nl +
                                1 + (own ? bl + 1 : 0));
    if (!f) {
        info->oom = 1;
        return;
    }
    char *fname = (char *)(f + 1);
    char *fpath = fname + rl + nl + 1;
    memcpy(fname, rel, rl);
    memcpy(fname + rl, name, nl + 1);
    memcpy(fpath, v->path, pl);
    fpath[pl] = '/';
    memcpy(fpath + pl + 1, fname, rl + nl + 1);
    f->blob = id;
    f->pub.file_name = fname;
    f->pub.file_path = fpath;
    if (!etag) {
        f->pub.blob_path = fpath;
        f->pub.blob_name = NULL;
    } else if (own) {
        char *bpath = fpath + pl + 1 + rl + nl + 1;
        snprintf(bpath, bl + 1, "%s/blobs/%s", r->path, etag);
        f->pub.blob_path = bpath;
        f->pub.blob_name = bpath + bl - strlen(etag);
    } else {
        f->pub.blob_path = b->path;
        f->pub.blob_name = b->etag;
    }
    f->pub.size_on_disk = b->size;
    f->pub.blob_last_accessed = b->atime;
    f->pub.blob_last_modified = b->mtime;
    if (!HUB_GROW(v->files, v->nfiles, v->capfiles)) {
        hub__free(f);
        info->oom = 1;
        return;
    }
    v->files[v->nfiles++] = f;
}

static bool ignored_name(const char *n)
{
    return strcmp(n, ".DS_Store") == 0 || strcmp(n, "Thumbs.db") == 0 ||
           strcmp(n, "desktop.ini") == 0;
}

static DIR *open_dir_at(int at, const char *name)
{
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return d;
}

/* The files of a snapshot folder, `rel` its path below the snapshot ("" at
 * the top, else ending in '/'), `depth` the folders between. */
static void walk(hub_cache_info *info,
                 hub__crepo *r,
                 hub__crev *v,
                 DIR *d,
                 int blobs,
                 int blobs_err,
                 char *rel,
                 size_t rel_len,
                 size_t depth)
{
    struct dirent *de;
    int dfd = dirfd(d);
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        if (depth == 0 && r->layout == HUB__LAYOUT_MS_CLASSIC &&
            hub__cache_ms_meta(n))
            continue;
        struct stat st;
        /* A link (the common case) needs no lstat: readlinkat says all; nor
         * a folder: opening it with O_DIRECTORY | O_NOFOLLOW refuses
         * anything else, whatever was swapped in since readdir. */
        if (de->d_type == DT_LNK) {
            st.st_mode = S_IFLNK;
        } else if (de->d_type == DT_DIR) {
            st.st_mode = S_IFDIR;
        } else if (fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            problem(info, r, v, rel, n, false, "cannot read %s/%s%s: %s",
                    v->path, rel, n, strerror(errno));
            r->unreadable = true;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            size_t nl = strlen(n);
            /* bounded: a hostile tree cannot exhaust the stack or fds */
            if (rel_len + nl + 2 > HUB_REPO_PATH_MAX * 4 ||
                depth + 1 > MAX_DEPTH) {
                problem(info, r, v, rel, n, false,
                        "folder too deep, not read: %s/%s%s", v->path, rel, n);
                r->unreadable = true;
                continue;
            }
            DIR *sub = open_dir_at(dfd, n);
            if (!sub) {
                problem(info, r, v, rel, n, false, "cannot read %s/%s%s: %s",
                        v->path, rel, n, strerror(errno));
                r->unreadable = true;
                continue;
            }
            memcpy(rel + rel_len, n, nl);
            rel[rel_len + nl] = '/';
            rel[rel_len + nl + 1] = '\0';
            walk(info, r, v, sub, blobs, blobs_err, rel, rel_len + nl + 1,
                 depth + 1);
            rel[rel_len] = '\0';
            closedir(sub);
        } else if (S_ISREG(st.st_mode)) {
            add_file(info, r, v, rel, n, count_file(info, r, v, &st), NULL);
        } else if (S_ISLNK(st.st_mode)) {
            char target[4 * HUB_REPO_PATH_MAX];
            ssize_t len = readlinkat(dfd, n, target, sizeof(target) - 1);
            if (len <= 0) {
                problem(info, r, v, rel, n, true,
                        "cannot read the link %s/%s%s: %s", v->path, rel, n,
                        len < 0 ? strerror(errno) : "empty");
                r->unreadable = true;
                continue;
            }
            target[len] = '\0';
            const char *etag = hub__hfcache_link_blob(target, depth);
            struct stat bst;
            size_t known = etag ? etag_find(r, etag) : SIZE_MAX;
            if (known != SIZE_MAX) {
                count_id(info, r, v, known);
                add_file(info, r, v, rel, n, known, etag);
            } else if (!etag) {
                problem(info, r, v, rel, n, true,
                        "%s/%s%s links to '%s', not to a blob of this "
                        "repository: not followed nor counted",
                        v->path, rel, n, target);
            } else if (blobs < 0) {
                problem(info, r, v, rel, n, true,
                        "broken link %s/%s%s: %s/blobs: %s", v->path, rel, n,
                        r->path, strerror(blobs_err));
            } else if (fstatat(blobs, etag, &bst, AT_SYMLINK_NOFOLLOW) != 0) {
                problem(info, r, v, rel, n, true,
                        "broken link %s/%s%s: blob %s %s", v->path, rel, n,
                        etag, errno == ENOENT ? "is missing" : strerror(errno));
            } else if (!S_ISREG(bst.st_mode)) {
                problem(info, r, v, rel, n, true,
                        "%s/%s%s: blob %s is not a regular file: not followed "
                        "nor counted",
                        v->path, rel, n, etag);
            } else {
                size_t id = count_file(info, r, v, &bst);
                if (id != SIZE_MAX)
                    etag_put(r, etag, id);
                add_file(info, r, v, rel, n, id, etag);
            }
        } else {
            problem(info, r, v, rel, n, true,
                    "%s/%s%s is not a file: not counted", v->path, rel, n);
        }
    }
}

static hub__crev *find_rev(hub__crepo *r, const char *commit)
{
    for (size_t i = 0; i < r->nrevs; i++)
        if (strcmp(r->revs[i]->commit, commit) == 0)
            return r->revs[i];
    return NULL;
}

/* Every file below refs/ (recursively: refs/pr/1), `rel` as in walk(). */
static void read_refs(hub_cache_info *info,
                      hub__crepo *r,
                      int repo_fd,
                      DIR *d,
                      char *rel,
                      size_t rel_len)
{
    struct dirent *de;
    int dfd = dirfd(d);
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || ignored_name(n))
            continue;
        struct stat st;
        size_t nl = strlen(n);
        if (fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            rel_len + nl + 2 > HUB_REPO_PATH_MAX) {
            hub__cache_warn(info, r, "cannot read %s/refs/%s%s", r->path, rel,
                            n);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            DIR *sub = open_dir_at(dfd, n);
            if (!sub) {
                hub__cache_warn(info, r, "cannot read %s/refs/%s%s: %s",
                                r->path, rel, n, strerror(errno));
                continue;
            }
            memcpy(rel + rel_len, n, nl);
            rel[rel_len + nl] = '/';
            rel[rel_len + nl + 1] = '\0';
            read_refs(info, r, repo_fd, sub, rel, rel_len + nl + 1);
            rel[rel_len] = '\0';
            closedir(sub);
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            hub__cache_warn(info, r, "ref %s/refs/%s%s is not a file: ignored",
                            r->path, rel, n);
            continue;
        }
        char commit[256];
        ssize_t len = -1;
        int fd = openat(dfd, n, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) {
            len = read(fd, commit, sizeof(commit) - 1);
            close(fd);
        }
        if (len < 0) {
            hub__cache_warn(info, r, "cannot read ref %s/refs/%s%s: %s",
                            r->path, rel, n, strerror(errno));
            continue;
        }
        while (len > 0 && (commit[len - 1] == '\n' || commit[len - 1] == ' ' ||
                           commit[len - 1] == '\r' || commit[len - 1] == '\t'))
            len--;
        commit[len] = '\0';
        char name[HUB_REPO_PATH_MAX + 2];
        snprintf(name, sizeof(name), "%s%s", rel, n);
        if (!push(&r->ref_names, hub__strdup(name)) ||
            !push(&r->ref_targets, hub__strdup(commit)))
            info->oom = 1;
        hub__crev *v = find_rev(r, commit);
        if (v) {
            if (!push(&v->refs, hub__strdup(name)) ||
                !push(&r->refs, hub__strdup(name)))
                info->oom = 1;
            continue;
        }
        /* A commit whose files were all looked up and found missing has
         * only .no_exist/<commit>: huggingface_hub writes that. */
        char noex[300];
        struct stat nst;
        snprintf(noex, sizeof(noex), ".no_exist/%s", commit);
        if (len > 0 && !strchr(commit, '/') && strcmp(commit, ".") != 0 &&
            strcmp(commit, "..") != 0 &&
            fstatat(repo_fd, noex, &nst, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISDIR(nst.st_mode))
            continue;
        hub__cache_warn(
            info, r, "ref '%s' names commit '%s', which has no snapshot in %s",
            name, commit, r->path);
    }
}

hub__crev *hub__cache_rev_add(hub_cache_info *info,
                              hub__crepo *r,
                              const char *name,
                              const char *path)
{
    HUB_UNUSED(info);
    if (!HUB_GROW(r->revs, r->nrevs, r->caprevs))
        return NULL;
    hub__crev *v = hub__calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    r->revs[r->nrevs++] = v;
    v->commit = hub__strdup(name);
    v->path = hub__strdup(path);
    if (!v->commit || !v->path)
        return NULL;
    v->repo = r;
    return v;
}

void hub__cache_rev_walk(hub_cache_info *info,
                         hub__crepo *r,
                         hub__crev *v,
                         int at,
                         const char *name,
                         const struct stat *st,
                         int blobs,
                         int blobs_errno)
{
    v->pub.last_modified = INT64_MIN;
    v->pub.last_accessed = INT64_MIN;
    DIR *sd = open_dir_at(at, name);
    if (!sd) {
        problem(info, r, v, NULL, NULL, false, "cannot read %s: %s", v->path,
                strerror(errno));
        r->unreadable = true;
    } else {
        char rel[HUB_REPO_PATH_MAX * 4 + 2] = "";
        info->stamp++;
        walk(info, r, v, sd, blobs, blobs_errno, rel, 0, 0);
        closedir(sd);
    }
    if (v->pub.last_modified == INT64_MIN)
        v->pub.last_modified = secs(st->st_mtim);
    if (v->pub.last_accessed == INT64_MIN)
        v->pub.last_accessed = secs(st->st_atim);
}

static void scan_snapshots(hub_cache_info *info, hub__crepo *r, int repo_fd)
{
    DIR *d = open_dir_at(repo_fd, "snapshots");
    if (!d) {
        if (errno != ENOENT) {
            hub__cache_warn(info, r, "cannot read %s/snapshots: %s", r->path,
                            strerror(errno));
            r->unreadable = true;
        }
        return;
    }
    int blobs = openat(repo_fd, "blobs",
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int blobs_errno = blobs < 0 ? errno : 0;
    struct dirent *de;
    int dfd = dirfd(d);
    while ((de = readdir(d)) != NULL && !info->oom) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || ignored_name(n))
            continue;
        struct stat st;
        if (fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            hub__cache_warn(info, r, "cannot read %s/snapshots/%s: %s", r->path,
                            n, strerror(errno));
            r->unreadable = true;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            hub__cache_warn(info, r, "stray %s in %s/snapshots: %s",
                            S_ISLNK(st.st_mode) ? "link (not followed)"
                                                : "file",
                            r->path, n);
            continue;
        }
        char *path = hub__aprintf("%s/snapshots/%s", r->path, n);
        hub__crev *v = path ? hub__cache_rev_add(info, r, n, path) : NULL;
        hub__free(path);
        if (!v) {
            info->oom = 1;
            break;
        }
        hub__cache_rev_walk(info, r, v, dfd, n, &st, blobs, blobs_errno);
    }
    if (blobs >= 0)
        close(blobs);
    closedir(d);
}

/* qsort() wants a non-NULL base even for no element */
static void
sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

static int cmp_rev(const void *a, const void *b)
{
    return strcmp((*(hub__crev *const *)a)->commit,
                  (*(hub__crev *const *)b)->commit);
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp((*(hub__cfile *const *)a)->pub.file_name,
                  (*(hub__cfile *const *)b)->pub.file_name);
}

static int cmp_repo(const void *a, const void *b)
{
    return strcmp((*(hub__crepo *const *)a)->cache_id,
                  (*(hub__crepo *const *)b)->cache_id);
}

/* Do the first `n` bytes of `s` make an etag (40 or 64 lowercase hex)? */
static bool etag_prefix(const char *s, size_t n)
{
    if (n != 40 && n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static bool add_extra(hub__cextra **v,
                      size_t *n,
                      size_t *cap,
                      const char *name,
                      const struct stat *st,
                      uint64_t size)
{
    if (!HUB_GROW(*v, *n, *cap))
        return false;
    hub__cextra *e = &(*v)[*n];
    e->name = hub__strdup(name);
    if (!e->name)
        return false;
    size_t el = strcspn(name, ".");
    e->etag[0] = '\0';
    if (el < sizeof(e->etag) && etag_prefix(name, el)) {
        memcpy(e->etag, name, el);
        e->etag[el] = '\0';
    }
    e->size = size;
    e->mtime = secs(st->st_mtim);
    (*n)++;
    return true;
}

/* What blobs/ holds that no snapshot uses: partial downloads, and orphan
 * blobs (only told when every snapshot could be read). Runs before the
 * repository's etag table is freed. */
static void scan_blobs(hub_cache_info *info, hub__crepo *r, int repo_fd)
{
    DIR *d = open_dir_at(repo_fd, "blobs");
    if (!d) {
        if (errno != ENOENT)
            r->unreadable = true;
        return;
    }
    int dfd = dirfd(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        size_t nl = strlen(n);
        bool partial = nl > 11 && strcmp(n + nl - 11, ".incomplete") == 0;
        if (!partial && (r->unreadable || etag_find(r, n) != SIZE_MAX))
            continue;
        struct stat st;
        if (fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (!S_ISREG(st.st_mode)) {
            if (!partial)
                hub__cache_warn(info, r,
                                "%s/blobs/%s is not a regular file: left alone",
                                r->path, n);
            continue;
        }
        /* a hard link to a blob in use frees nothing */
        uint64_t size =
            st.st_nlink > 1 ||
                    hub__cache_blob_find(info, st.st_dev, st.st_ino) != SIZE_MAX
                ? 0
            : (uint64_t)st.st_blocks * 512 < (uint64_t)st.st_size
                ? (uint64_t)st.st_blocks * 512
                : (uint64_t)st.st_size;
        bool ok = partial ? add_extra(&r->partials, &r->npartials,
                                      &r->cappartials, n, &st, size)
                          : add_extra(&r->orphans, &r->norphans, &r->caporphans,
                                      n, &st, size);
        if (!ok)
            info->oom = 1;
    }
    closedir(d);
}

/* The names of `dir`'s entries, each cut at `suffix` when given (entries
 * without it are skipped). */
static void list_names(hub_cache_info *info,
                       int repo_fd,
                       const char *dir,
                       const char *suffix,
                       hub_strvec *out)
{
    DIR *d = open_dir_at(repo_fd, dir);
    if (!d)
        return;
    struct dirent *de;
    size_t sl = suffix ? strlen(suffix) : 0;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        size_t nl = strlen(n);
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        if (suffix && (nl <= sl || strcmp(n + nl - sl, suffix) != 0))
            continue;
        char *c = hub__strdup(n);
        if (c)
            c[nl - sl] = '\0';
        if (!push(out, c))
            info->oom = 1;
    }
    closedir(d);
}

hub__crepo *hub__cache_repo_add(hub_cache_info *info,
                                hub_repo_type type,
                                const char *id,
                                const char *path,
                                const char *folder,
                                const struct stat *st)
{
    if (!HUB_GROW(info->repos, info->nrepos, info->caprepos))
        return NULL;
    hub__crepo *r = hub__calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    info->repos[info->nrepos++] = r;
    r->pub.type = type;
    r->id = hub__strdup(id);
    r->path = hub__strdup(path);
    r->folder = hub__strdup(folder);
    static const char *const tn[] = {"model", "dataset", "space"};
    r->cache_id = hub__aprintf("%s/%s", tn[type], id);
    if (!r->id || !r->path || !r->folder || !r->cache_id)
        return NULL;
    r->pub.last_accessed = secs(st->st_atim);
    r->pub.last_modified = secs(st->st_mtim);
    return r;
}

void hub__cache_repo_totals(hub_cache_info *info, hub__crepo *r)
{
    bool any = false;
    for (size_t i = 0; i < r->nblob_ids; i++) {
        const hub__cblob *b = &info->blobs[r->blob_ids[i]];
        r->pub.size_on_disk += b->size;
        if (!any || b->atime > r->pub.last_accessed)
            r->pub.last_accessed = b->atime;
        if (!any || b->mtime > r->pub.last_modified)
            r->pub.last_modified = b->mtime;
        any = true;
    }
    r->pub.nb_files = r->nblob_ids;
}

static void scan_repo(hub_cache_info *info,
                      int root,
                      const char *name,
                      hub_repo_type type,
                      const char *id_part,
                      const struct stat *st)
{
    /* "org--name" -> "org/name" */
    size_t il = strlen(id_part);
    char *id = hub__malloc(il + 1);
    char *path = hub__aprintf("%s/%s", info->dir, name);
    hub__crepo *r = NULL;
    if (id && path) {
        size_t o = 0;
        for (size_t i = 0; i < il; i++) {
            if (id_part[i] == '-' && id_part[i + 1] == '-') {
                id[o++] = '/';
                i++;
            } else {
                id[o++] = id_part[i];
            }
        }
        id[o] = '\0';
        r = hub__cache_repo_add(info, type, id, path, name, st);
    }
    hub__free(id);
    hub__free(path);
    if (!r) {
        info->oom = 1;
        return;
    }

    int fd =
        openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        hub__cache_warn(info, r, "cannot read %s: %s", r->path,
                        strerror(errno));
        r->unreadable = true;
        return;
    }
    scan_snapshots(info, r, fd);
    scan_blobs(info, r, fd);
    etags_free(r);
    list_names(info, fd, ".no_exist", NULL, &r->no_exist);
    list_names(info, fd, "trees", ".json", &r->trees);
    DIR *refs = open_dir_at(fd, "refs");
    if (refs) {
        char rel[HUB_REPO_PATH_MAX + 2] = "";
        read_refs(info, r, fd, refs, rel, 0);
        closedir(refs);
    } else if (errno != ENOENT) {
        hub__cache_warn(info, r, "cannot read %s/refs: %s", r->path,
                        strerror(errno));
    }
    close(fd);
    hub__cache_repo_totals(info, r);
}

/* Point the public fields at the private arrays, once they stop moving. */
static int finish(hub_cache_info *info)
{
    sort(info->repos, info->nrepos, sizeof(*info->repos), cmp_repo);
    for (size_t i = 0; i < info->nrepos; i++) {
        hub__crepo *r = info->repos[i];
        if (r->extra_warnings)
            push(&r->warnings, hub__aprintf("%zu more problems not shown",
                                            r->extra_warnings));
        sort(r->revs, r->nrevs, sizeof(*r->revs), cmp_rev);
        sort(r->refs.items, r->refs.count, sizeof(char *), cmp_str);
        r->revptrs = hub__calloc(r->nrevs + 1, sizeof(*r->revptrs));
        if (!r->revptrs)
            return HUB_ENOMEM;
        for (size_t j = 0; j < r->nrevs; j++) {
            hub__crev *v = r->revs[j];
            sort(v->refs.items, v->refs.count, sizeof(char *), cmp_str);
            sort(v->files, v->nfiles, sizeof(*v->files), cmp_file);
            v->fileptrs = hub__calloc(v->nfiles + 1, sizeof(*v->fileptrs));
            if (!v->fileptrs)
                return HUB_ENOMEM;
            for (size_t k = 0; k < v->nfiles; k++)
                v->fileptrs[k] = &v->files[k]->pub;
            v->pub.files = v->fileptrs;
            v->pub.file_count = v->nfiles;
            v->pub.commit_hash = v->commit;
            v->pub.snapshot_path = v->path;
            v->pub.refs = (const char *const *)v->refs.items;
            v->pub.ref_count = v->refs.count;
            r->revptrs[j] = &v->pub;
        }
        r->pub.repo_id = r->id;
        r->pub.repo_path = r->path;
        r->pub.refs = (const char *const *)r->refs.items;
        r->pub.ref_count = r->refs.count;
        r->pub.revisions = r->revptrs;
        r->pub.revision_count = r->nrevs;
        r->pub.warnings = (const char *const *)r->warnings.items;
        r->pub.warning_count = r->warnings.count;
    }
    return info->oom ? HUB_ENOMEM : HUB_OK;
}

static bool repo_type_of(const char *name, hub_repo_type *t, const char **id)
{
    static const struct {
        const char *prefix;
        hub_repo_type type;
    } types[] = {{"models--", HUB_REPO_MODEL},
                 {"datasets--", HUB_REPO_DATASET},
                 {"spaces--", HUB_REPO_SPACE}};
    for (size_t i = 0; i < HUB_ARRAY_LEN(types); i++) {
        size_t n = strlen(types[i].prefix);
        if (strncmp(name, types[i].prefix, n) == 0 && name[n]) {
            *t = types[i].type;
            *id = name + n;
            return true;
        }
    }
    return false;
}

/* The repository folders of the cache, read first so that threads can
 * share them out. */
typedef struct folder {
    char *name;
    hub_repo_type type;
    size_t id_off; /* the id part of `name` */
    struct stat st;
} folder;

typedef struct folder_list {
    folder *v;
    size_t n, cap;
} folder_list;

static bool add_folder(folder_list *l,
                       const char *name,
                       hub_repo_type type,
                       const char *id,
                       const struct stat *st)
{
    if (!HUB_GROW(l->v, l->n, l->cap))
        return false;
    folder *f = &l->v[l->n];
    f->name = hub__strdup(name);
    if (!f->name)
        return false;
    f->type = type;
    f->id_off = (size_t)(id - name);
    f->st = *st;
    l->n++;
    return true;
}

static void folders_free(folder_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        hub__free(l->v[i].name);
    hub__free(l->v);
}

static void info_clear(hub_cache_info *info);

/* Repositories per thread below which one thread is as fast. */
#define MIN_REPOS_PER_THREAD 16
#define MAX_THREADS 4

typedef struct shard {
    hub_cache_info info; /* its repositories and blobs, merged after */
    const folder_list *folders;
    atomic_size_t *next;
    int root;
    pthread_t thread;
    bool started;
} shard;

static void *scan_shard(void *arg)
{
    shard *sh = arg;
    for (;;) {
        size_t k = atomic_fetch_add(sh->next, 1);
        if (k >= sh->folders->n || sh->info.oom)
            break;
        const folder *f = &sh->folders->v[k];
        scan_repo(&sh->info, sh->root, f->name, f->type, f->name + f->id_off,
                  &f->st);
    }
    return NULL;
}

/* Move a shard's repositories into `info`, its blobs into one table (a blob
 * hard-linked from repositories of two shards is one blob again). */
static void merge(hub_cache_info *info, hub_cache_info *s)
{
    size_t *map = hub__calloc(s->nblobs + 1, sizeof(*map));
    if (!map) {
        info->oom = 1;
        return;
    }
    size_t i = 0;
    for (; i < s->nblobs && !info->oom; i++) {
        bool added;
        map[i] = blob_put(info, &s->blobs[i], &added);
        if (map[i] == SIZE_MAX)
            info->oom = 1;
        else if (!added && s->blobs[i].path) /* files still point at it */
            info->oom |= !push(&info->spare, s->blobs[i].path);
    }
    /* paths now owned by `info`; on OOM the rest are freed with `s` */
    if (i < s->nblobs)
        memmove(s->blobs, s->blobs + i, (s->nblobs - i) * sizeof(*s->blobs));
    s->nblobs -= i;
    for (size_t ri = 0; ri < s->nrepos && !info->oom; ri++) {
        hub__crepo *r = s->repos[ri];
        for (size_t k = 0; k < r->nblob_ids; k++)
            r->blob_ids[k] = map[r->blob_ids[k]];
        for (size_t j = 0; j < r->nrevs; j++) {
            hub__crev *v = r->revs[j];
            for (size_t k = 0; k < v->nblob_ids; k++)
                v->blob_ids[k] = map[v->blob_ids[k]];
            for (size_t k = 0; k < v->nfiles; k++)
                v->files[k]->blob = map[v->files[k]->blob];
        }
        if (!HUB_GROW(info->repos, info->nrepos, info->caprepos)) {
            info->oom = 1;
            break;
        }
        info->repos[info->nrepos++] = r;
        s->repos[ri] = NULL;
    }
    if (s->oom)
        info->oom = 1;
    hub__free(map);
}

/* Scan the repository folders, on several threads when there are many. */
static void scan_folders(hub_cache_info *info, int root, const folder_list *l)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t threads = l->n / MIN_REPOS_PER_THREAD;
    if (cpus > 0 && threads > (size_t)cpus)
        threads = (size_t)cpus;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    shard sh[MAX_THREADS];
    atomic_size_t next = 0;
    memset(sh, 0, sizeof(sh));
    for (size_t t = 0; t < threads; t++) {
        sh[t].info.dir = info->dir;
        sh[t].info.files = info->files;
        sh[t].folders = l;
        sh[t].next = &next;
        sh[t].root = root;
        sh[t].started =
            pthread_create(&sh[t].thread, NULL, scan_shard, &sh[t]) == 0;
    }
    size_t started = 0;
    for (size_t t = 0; t < threads; t++)
        started += sh[t].started;
    if (!started) { /* no thread: this one does it all */
        for (size_t k = 0; k < l->n && !info->oom; k++)
            scan_repo(info, root, l->v[k].name, l->v[k].type,
                      l->v[k].name + l->v[k].id_off, &l->v[k].st);
        return;
    }
    for (size_t t = 0; t < threads; t++) {
        if (!sh[t].started)
            continue;
        pthread_join(sh[t].thread, NULL);
        merge(info, &sh[t].info);
        info_clear(&sh[t].info); /* what merge did not take */
    }
}

int hub_cache_scan(hub_cache_info **out,
                   hub_client *client,
                   const hub_cache_scan_options *opts)
{
    HUB_ASSERT_ARG(out);
    *out = NULL;
    HUB_ASSERT_ARG(client);
    if (opts && (opts->version < 1 || opts->version > 1))
        return hub__error_set(HUB_EVERSION,
                              "unsupported hub_cache_scan_options version %u",
                              opts->version);
    if (opts && (opts->flags & ~HUB_CACHE_SCAN_NO_FILES))
        return hub__error_set(HUB_EINVAL, "unknown hub_cache_scan flags %#x",
                              opts->flags);
    const char *dir = hub_client_cache_dir(client);
    int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) {
        int e = errno;
        if (e == ENOENT)
            return hub__error_set(HUB_ENOTCACHED,
                                  "cache directory not found: %s; set "
                                  "HF_HUB_CACHE or pass the cache folder",
                                  dir);
        return hub__error_set(HUB_EIO, "cannot read the cache %s: %s", dir,
                              strerror(e));
    }
    DIR *d = fdopendir(root);
    if (!d) {
        int e = errno;
        close(root);
        return hub__error_set(HUB_EIO, "cannot read the cache %s: %s", dir,
                              strerror(e));
    }
    hub_cache_info *info = hub__calloc(1, sizeof(*info));
    if (!info || !(info->dir = hub__strdup(dir))) {
        hub__free(info);
        closedir(d);
        return HUB_ENOMEM;
    }
    info->files = !(opts && (opts->flags & HUB_CACHE_SCAN_NO_FILES));
    info->modelscope = client->hub != HUB_KIND_HF;
    /* what an interrupted deletion left (hub_cache_plan_prune() ends it) */
    int locks = openat(dirfd(d), info->modelscope ? ".lock" : ".locks",
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (locks >= 0) {
        list_names(info, locks, ".hubfetch-trash", NULL, &info->trash);
        close(locks);
    }
    if (info->modelscope) {
        hub__cache_scan_ms(info, dirfd(d));
        closedir(d);
        int rc = finish(info);
        if (rc != HUB_OK) {
            hub_cache_info_free(info);
            return hub__error_oom();
        }
        *out = info;
        return HUB_OK;
    }
    struct dirent *de;
    folder_list folders = {0};
    errno = 0;
    while (!info->oom && (de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        /* .locks, and dot-folders (ours, in progress) are no repos */
        if (n[0] == '.' || strcmp(n, "CACHEDIR.TAG") == 0 || ignored_name(n))
            continue;
        struct stat st;
        hub_repo_type type;
        const char *id;
        if (fstatat(root, n, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            hub__cache_warn(info, NULL, "cannot read %s/%s: %s", dir, n,
                            strerror(errno));
        } else if (!S_ISDIR(st.st_mode)) {
            hub__cache_warn(
                info, NULL, "stray %s in the cache: %s/%s",
                S_ISLNK(st.st_mode) ? "link (not followed)" : "file", dir, n);
        } else if (!repo_type_of(n, &type, &id)) {
            hub__cache_warn(info, NULL, "not a repository folder: %s/%s", dir,
                            n);
        } else if (!add_folder(&folders, n, type, id, &st)) {
            info->oom = 1;
        }
    }
    if (!info->oom)
        scan_folders(info, root, &folders);
    folders_free(&folders);

    closedir(d);
    int rc = finish(info);
    if (rc != HUB_OK) {
        hub_cache_info_free(info);
        return hub__error_oom();
    }
    *out = info;
    return HUB_OK;
}

const char *hub_cache_info_dir(const hub_cache_info *info)
{
    return info ? info->dir : NULL;
}

size_t hub_cache_info_repo_count(const hub_cache_info *info)
{
    return info ? info->nrepos : 0;
}

const hub_cache_repo *hub_cache_info_repo(const hub_cache_info *info,
                                          size_t index)
{
    return info && index < info->nrepos ? &info->repos[index]->pub : NULL;
}

uint64_t hub_cache_info_size_on_disk(const hub_cache_info *info)
{
    uint64_t total = 0;
    for (size_t i = 0; info && i < info->nblobs; i++)
        total += info->blobs[i].size;
    return total;
}

uint64_t hub_cache_info_revisions_size(const hub_cache_info *info,
                                       const hub_cache_revision *const *revs,
                                       size_t count)
{
    if (!info || !info->nblobs || (!revs && count))
        return 0;
    unsigned char *seen = hub__calloc(info->nblobs, 1);
    if (!seen)
        return 0;
    uint64_t total = 0;
    for (size_t i = 0; i < count; i++) {
        /* `pub` is the first member of a hub__crev */
        const hub__crev *v = (const hub__crev *)(const void *)revs[i];
        for (size_t k = 0; v && k < v->nblob_ids; k++) {
            size_t id = v->blob_ids[k];
            if (id < info->nblobs && !seen[id]) {
                seen[id] = 1;
                total += info->blobs[id].size;
            }
        }
    }
    hub__free(seen);
    return total;
}

size_t hub_cache_info_warning_count(const hub_cache_info *info)
{
    return info ? info->warnings.count : 0;
}

const char *hub_cache_info_warning(const hub_cache_info *info, size_t index)
{
    return info && index < info->warnings.count ? info->warnings.items[index]
                                                : NULL;
}

static void repo_free(hub__crepo *r)
{
    if (!r)
        return;
    for (size_t j = 0; j < r->nrevs; j++) {
        hub__crev *v = r->revs[j];
        if (!v)
            continue;
        hub__free(v->commit);
        hub__free(v->path);
        hub__free(v->blob_ids);
        for (size_t k = 0; k < v->nfiles; k++)
            hub__free(v->files[k]);
        hub__free(v->files);
        hub__free(v->fileptrs);
        hub__strvec_free(&v->refs);
        hub__free(v);
    }
    hub__free(r->revs);
    hub__free(r->revptrs);
    hub__free(r->id);
    hub__free(r->path);
    hub__free(r->cache_id);
    hub__free(r->blob_ids);
    hub__strvec_free(&r->refs);
    hub__strvec_free(&r->warnings);
    hub__strvec_free(&r->ref_names);
    hub__strvec_free(&r->ref_targets);
    hub__strvec_free(&r->no_exist);
    hub__strvec_free(&r->trees);
    for (size_t k = 0; k < r->npartials; k++)
        hub__free(r->partials[k].name);
    for (size_t k = 0; k < r->norphans; k++)
        hub__free(r->orphans[k].name);
    hub__free(r->partials);
    hub__free(r->orphans);
    for (size_t k = 0; k < r->nproblems; k++) {
        hub__free(r->problems[k].text);
        hub__free(r->problems[k].file);
    }
    hub__free(r->problems);
    hub__free(r->folder);
    hub__free(r->ms_root);
    hub__free(r->ms_rel);
    hub__free(r->ms_lock);
    hub__free(r->ms_dotted);
    hub__free(r->ms_temp);
    hub__free(r);
}

/* Everything of `info` but the struct and its folder name. */
static void info_clear(hub_cache_info *info)
{
    for (size_t i = 0; i < info->nrepos; i++)
        repo_free(info->repos[i]);
    hub__free(info->repos);
    for (size_t i = 0; i < info->nblobs; i++)
        hub__free(info->blobs[i].path);
    hub__free(info->blobs);
    hub__strvec_free(&info->trash);
    hub__strvec_free(&info->spare);
    hub__free(info->table);
    hub__strvec_free(&info->warnings);
}

void hub_cache_info_free(hub_cache_info *info)
{
    if (!info)
        return;
    info_clear(info);
    hub__free(info->dir);
    hub__free(info);
}
