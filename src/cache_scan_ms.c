/* SPDX-License-Identifier: MIT */
/*
 * cache_scan_ms.c: what a ModelScope cache holds, in both SDK layouts
 * (reference modelscope-protocol.md §2), as repositories and revisions of
 * the same scan as a Hugging Face cache.
 *
 * classic (modelscope <= 1.37, and hubfetch): <R>/<type>s/<owner>/<name
 *   with '.' as "___">/ holds the files with .msc/.mdl/.mv beside them;
 *   one revision, named as .mv says ("master" when it says nothing, as the
 *   SDK's scan_cache_dir does). <R>/<type>s/<owner>/<dotted name> may link
 *   to it; downloads in progress sit in <R>/<type>s/._____temp/<owner>/
 *   <name>/; the SDK's repo lock is <R>/.lock/<owner>___<name>.
 * new (modelscope-hub >= 1.38): <N>/<type>s/<owner>--<name>/snapshots/
 *   <revision>/ where N is R without its last "/hub" (or R itself when
 *   MODELSCOPE_CACHE names it); per-file locks <N>/.lock/<type>_<owner>___
 *   <name>_*.lock.
 * A revision is named by the branch or tag it was fetched as, and that
 * name is its one ref, so no revision is ever "detached".
 */
#include "alloc.h"
#include "cache_scan.h"
#include "safefs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool hub__cache_ms_meta(const char *n)
{
    return strcmp(n, ".msc") == 0 || strcmp(n, ".mdl") == 0 ||
           strcmp(n, ".mv") == 0 || strcmp(n, ".msc.corrupted") == 0 ||
           strcmp(n, "._____temp") == 0;
}

static DIR *opendir_at(int at, const char *name)
{
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (!d)
        close(fd);
    return d;
}

static const char *type_word(hub_repo_type t)
{
    return t == HUB_REPO_DATASET ? "dataset" : "model";
}

/* The folder `rel` below `root`, no link followed; -1 if absent. */
static int dir_quiet(int root, const char *rel)
{
    int fd = hub__sfs_dir_at(root, rel, false, rel);
    if (fd < 0) {
        hub__error_clear();
        return -1;
    }
    return fd;
}

static bool push_extra(hub__crepo *r, const hub__cextra *e)
{
    if (!HUB_GROW(r->partials, r->npartials, r->cappartials))
        return false;
    r->partials[r->npartials++] = *e;
    return true;
}

static bool skip(const char *n)
{
    return n[0] == '.' || strcmp(n, "desktop.ini") == 0 ||
           strcmp(n, "Thumbs.db") == 0;
}

/* "a___b" -> "a.b" */
static char *unmask(const char *s)
{
    char *o = hub__strdup(s);
    if (!o)
        return NULL;
    char *w = o;
    for (const char *p = s; *p;) {
        if (strncmp(p, "___", 3) == 0) {
            *w++ = '.';
            p += 3;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return o;
}

/* The revision .mv names ("Revision:v1,CreatedAt:…" for models, the bare
 * name for datasets), "master" when there is none. */
static void read_mv(int repo_fd, char *out, size_t size)
{
    snprintf(out, size, "master");
    int fd =
        openat(repo_fd, ".mv", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[256];
    struct stat st;
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    const char *v = buf;
    const char *tag = strstr(buf, "Revision:");
    if (tag)
        v = tag + 9;
    size_t len = strcspn(v, ",\r\n");
    /* a name the target grammar can take back */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v[i] < 0x21 || v[i] == '@' || v[i] == ':')
            return;
    if (len && len < size) {
        memcpy(out, v, len);
        out[len] = '\0';
    }
}

/* A revision named `name` is also its own ref. */
static void self_ref(hub_cache_info *info, hub__crepo *r, hub__crev *v)
{
    if (hub__strvec_push(&v->refs, v->commit) != HUB_OK ||
        hub__strvec_push(&r->refs, v->commit) != HUB_OK ||
        hub__strvec_push(&r->ref_names, v->commit) != HUB_OK ||
        hub__strvec_push(&r->ref_targets, v->commit) != HUB_OK)
        info->oom = 1;
}

/* Files below the temp folder: bytes and newest mtime. */
static void temp_usage(int fd, uint64_t *bytes, int64_t *mtime, int depth)
{
    DIR *d = hub__sfs_opendir_at(fd);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISREG(st.st_mode)) {
            /* folders left empty are no download in progress */
            if (st.st_mtim.tv_sec > *mtime)
                *mtime = st.st_mtim.tv_sec;
            *bytes += (uint64_t)st.st_size;
        } else if (S_ISDIR(st.st_mode) && depth < 32) {
            int sub = openat(dirfd(d), de->d_name,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) {
                temp_usage(sub, bytes, mtime, depth + 1);
                close(sub);
            }
        }
    }
    closedir(d);
}

/* The classic repository <kind>/<owner>/<masked>. */
static void scan_classic(hub_cache_info *info,
                         int root,
                         int owner_fd,
                         const char *kind,
                         hub_repo_type type,
                         const char *owner,
                         const char *masked,
                         const struct stat *st)
{
    char *name = unmask(masked);
    char *id = name ? hub__aprintf("%s/%s", owner, name) : NULL;
    char *path = hub__aprintf("%s/%s/%s/%s", info->dir, kind, owner, masked);
    char *rel = hub__aprintf("%s/%s/%s", kind, owner, masked);
    hub__crepo *r = id && path && rel
                        ? hub__cache_repo_add(info, type, id, path, rel, st)
                        : NULL;
    if (!r) {
        info->oom = 1;
        goto out;
    }
    r->layout = HUB__LAYOUT_MS_CLASSIC;
    r->ms_root = hub__strdup(info->dir);
    r->ms_rel = rel;
    rel = NULL;
    r->ms_lock = hub__aprintf(".lock/%s___%s", owner, name);
    if (!r->ms_root || !r->ms_lock) {
        info->oom = 1;
        goto out;
    }
    /* the dotted-name link the SDK makes, when it is one to this folder */
    char target[512];
    ssize_t n = strcmp(name, masked) != 0
                    ? readlinkat(owner_fd, name, target, sizeof(target) - 1)
                    : -1;
    if (n > 0) {
        target[n] = '\0';
        const char *base = strrchr(target, '/');
        if (strcmp(base ? base + 1 : target, masked) == 0)
            r->ms_dotted = hub__aprintf("%s/%s/%s", kind, owner, name);
    }
    int repo_fd = openat(owner_fd, masked,
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (repo_fd < 0) {
        hub__cache_warn(info, r, "cannot read %s: %s", path, strerror(errno));
        r->unreadable = true;
        goto out;
    }
    char revision[128];
    read_mv(repo_fd, revision, sizeof(revision));
    hub__crev *v = hub__cache_rev_add(info, r, revision, path);
    if (!v) {
        info->oom = 1;
        close(repo_fd);
        goto out;
    }
    self_ref(info, r, v);
    hub__cache_rev_walk(info, r, v, owner_fd, masked, st, -1, ENOENT);
    close(repo_fd);
    /* a download in progress or left behind */
    char temp[1024];
    snprintf(temp, sizeof(temp), "%s/._____temp/%s/%s", kind, owner, name);
    int tfd = dir_quiet(root, temp);
    if (tfd >= 0) {
        uint64_t bytes = 0;
        int64_t mtime = 0;
        temp_usage(tfd, &bytes, &mtime, 0);
        close(tfd);
        hub__cextra e = {0};
        e.name = hub__strdup(temp);
        e.size = bytes;
        e.mtime = mtime;
        r->ms_temp = hub__strdup(temp);
        if (!e.name || !r->ms_temp || !push_extra(r, &e)) {
            hub__free(e.name);
            info->oom = 1;
        }
    }
    hub__cache_repo_totals(info, r);
out:
    hub__free(name);
    hub__free(id);
    hub__free(path);
    hub__free(rel);
}

/* The new layout's repository <N>/<kind>/<owner>--<name>. */
static void scan_new(hub_cache_info *info,
                     const char *nroot,
                     int kind_fd,
                     const char *kind,
                     hub_repo_type type,
                     const char *folder,
                     const struct stat *st)
{
    const char *sep = strstr(folder, "--");
    char *id = hub__aprintf("%.*s/%s", (int)(sep - folder), folder, sep + 2);
    char *path = hub__aprintf("%s/%s/%s", nroot, kind, folder);
    char *rel = hub__aprintf("%s/%s", kind, folder);
    hub__crepo *r = id && path && rel
                        ? hub__cache_repo_add(info, type, id, path, rel, st)
                        : NULL;
    if (!r) {
        info->oom = 1;
        goto out;
    }
    r->layout = HUB__LAYOUT_MS_NEW;
    r->ms_root = hub__strdup(nroot);
    r->ms_rel = rel;
    rel = NULL;
    r->ms_lock = hub__aprintf(".lock/%s_%.*s___%s_", type_word(type),
                              (int)(sep - folder), folder, sep + 2);
    if (!r->ms_root || !r->ms_lock) {
        info->oom = 1;
        goto out;
    }
    int repo_fd = openat(kind_fd, folder,
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = repo_fd >= 0 ? opendir_at(repo_fd, "snapshots") : NULL;
    if (!d) {
        if (errno != ENOENT) {
            hub__cache_warn(info, r, "cannot read %s/snapshots: %s", path,
                            strerror(errno));
            r->unreadable = true;
        }
        if (repo_fd >= 0)
            close(repo_fd);
        hub__cache_repo_totals(info, r);
        goto out;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL && !info->oom) {
        const char *n = de->d_name;
        if (skip(n))
            continue;
        struct stat sst;
        if (fstatat(dirfd(d), n, &sst, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(sst.st_mode)) {
            hub__cache_warn(info, r, "stray entry in %s/snapshots: %s", path,
                            n);
            continue;
        }
        char *vpath = hub__aprintf("%s/snapshots/%s", path, n);
        hub__crev *v = vpath ? hub__cache_rev_add(info, r, n, vpath) : NULL;
        hub__free(vpath);
        if (!v) {
            info->oom = 1;
            break;
        }
        self_ref(info, r, v);
        hub__cache_rev_walk(info, r, v, dirfd(d), n, &sst, -1, ENOENT);
    }
    closedir(d);
    close(repo_fd);
    hub__cache_repo_totals(info, r);
out:
    hub__free(id);
    hub__free(path);
    hub__free(rel);
}

/* <root>/<kind>: classic owners, and new-layout folders when `nroot`. */
static void scan_kind(hub_cache_info *info,
                      int root,
                      const char *root_path,
                      const char *kind,
                      hub_repo_type type,
                      bool classic,
                      bool new_layout)
{
    int kind_fd =
        openat(root, kind, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (kind_fd < 0)
        return;
    DIR *d = opendir_at(kind_fd, ".");
    if (!d) {
        hub__cache_warn(info, NULL, "cannot read %s/%s: %s", root_path, kind,
                        strerror(errno));
        close(kind_fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL && !info->oom) {
        const char *n = de->d_name;
        if (skip(n))
            continue;
        struct stat st;
        if (fstatat(kind_fd, n, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode)) {
            if (classic)
                hub__cache_warn(info, NULL, "stray entry in %s/%s: %s",
                                root_path, kind, n);
            continue;
        }
        const char *sep = strstr(n, "--");
        if (sep && sep != n && sep[2]) {
            if (new_layout)
                scan_new(info, root_path, kind_fd, kind, type, n, &st);
            continue;
        }
        if (!classic)
            continue;
        int owner_fd =
            openat(kind_fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *od = owner_fd >= 0 ? opendir_at(owner_fd, ".") : NULL;
        if (!od) {
            hub__cache_warn(info, NULL, "cannot read %s/%s/%s: %s", root_path,
                            kind, n, strerror(errno));
            if (owner_fd >= 0)
                close(owner_fd);
            continue;
        }
        struct dirent *re;
        while ((re = readdir(od)) != NULL && !info->oom) {
            const char *m = re->d_name;
            if (skip(m))
                continue;
            struct stat rst;
            if (fstatat(owner_fd, m, &rst, AT_SYMLINK_NOFOLLOW) != 0)
                continue;
            if (S_ISDIR(rst.st_mode))
                scan_classic(info, root, owner_fd, kind, type, n, m, &rst);
            /* a link is the dotted name of a masked folder (checked there)
             * or someone else's: never followed */
        }
        closedir(od);
        close(owner_fd);
    }
    closedir(d);
    close(kind_fd);
}

void hub__cache_scan_ms(hub_cache_info *info, int root)
{
    scan_kind(info, root, info->dir, "models", HUB_REPO_MODEL, true, false);
    scan_kind(info, root, info->dir, "datasets", HUB_REPO_DATASET, true, false);
    /* the newer SDK's root: the classic one without its "/hub", or the
     * same folder when MODELSCOPE_CACHE names it */
    size_t dl = strlen(info->dir);
    bool hub_suffix = dl > 4 && strcmp(info->dir + dl - 4, "/hub") == 0;
    char *nroot =
        hub_suffix ? hub__strndup(info->dir, dl - 4) : hub__strdup(info->dir);
    if (!nroot) {
        info->oom = 1;
        return;
    }
    int nfd = hub_suffix ? open(nroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                         : dup(root);
    if (nfd >= 0) {
        scan_kind(info, nfd, nroot, "models", HUB_REPO_MODEL, false, true);
        scan_kind(info, nfd, nroot, "datasets", HUB_REPO_DATASET, false, true);
        close(nfd);
    }
    hub__free(nroot);
}
