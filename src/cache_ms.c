/* SPDX-License-Identifier: MIT */
/* cache_ms.c: the classic ModelScope cache layout. */
#include "cache_ms.h"

#include "alloc.h"
#include "buf.h"
#include "path.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEMP_DIR "._____temp" /* a dot and five underscores */
#define MSC_MAX (256u * 1024 * 1024)

/* The classic SDK writes every '.' of the name as "___" on disk. */
static char *mask(const char *name)
{
    hub_buf b = HUB_BUF_INIT(4096);
    int error = HUB_OK;
    for (const char *p = name; *p && error == HUB_OK; p++)
        error = *p == '.' ? hub__buf_puts(&b, "___") : hub__buf_put(&b, p, 1);
    if (error < 0) {
        hub__buf_free(&b);
        return NULL;
    }
    return hub__buf_detach(&b);
}

int hub__mscache_init(hub__mscache *c,
                      const char *root,
                      hub_repo_type type,
                      const char *repo_id,
                      const char *local_dir)
{
    memset(c, 0, sizeof(*c));
    const char *slash = strchr(repo_id, '/');
    char *owner = hub__strndup(repo_id, (size_t)(slash - repo_id));
    const char *name = slash + 1;
    char *masked = mask(name);
    const char *kind = type == HUB_REPO_DATASET ? "datasets" : "models";
    int error = (owner && masked) ? HUB_OK : HUB_ENOMEM;
    if (error == HUB_OK) {
        c->root = hub__strdup(root);
        c->masked_id = hub__aprintf("%s/%s", owner, masked);
        c->lock_path = hub__aprintf("%s/.lock/%s___%s", root, owner, name);
        if (local_dir) {
            c->local = true;
            c->repo_dir = hub__path_resolve(local_dir);
            c->temp_dir =
                c->repo_dir ? hub__path_join(c->repo_dir, TEMP_DIR) : NULL;
        } else {
            c->repo_dir =
                hub__aprintf("%s/%s/%s/%s", root, kind, owner, masked);
            c->temp_dir = hub__aprintf("%s/%s/" TEMP_DIR "/%s/%s", root, kind,
                                       owner, name);
            if (strcmp(masked, name) != 0)
                c->dotted_link =
                    hub__aprintf("%s/%s/%s/%s", root, kind, owner, name);
        }
        if (!c->root || !c->masked_id || !c->lock_path || !c->repo_dir ||
            !c->temp_dir ||
            (!local_dir && strcmp(masked, name) != 0 && !c->dotted_link))
            error = HUB_ENOMEM;
    }
    hub__free(owner);
    hub__free(masked);
    if (error < 0)
        hub__mscache_free(c);
    return error;
}

void hub__mscache_free(hub__mscache *c)
{
    hub__free(c->root);
    hub__free(c->repo_dir);
    hub__free(c->temp_dir);
    hub__free(c->lock_path);
    hub__free(c->masked_id);
    hub__free(c->dotted_link);
    hub__pickle_free(&c->msc);
    memset(c, 0, sizeof(*c));
}

int hub__mscache_load(hub__mscache *c)
{
    hub__pickle_free(&c->msc);
    char *path = hub__path_join(c->repo_dir, ".msc");
    if (!path)
        return HUB_ENOMEM;
    size_t len = 0;
    char *raw = hub__file_read(path, MSC_MAX, &len);
    int error = HUB_OK;
    if (raw && hub__pickle_read(&c->msc, (unsigned char *)raw, len) < 0) {
        /* as the SDK: keep the bad one aside, start an empty index */
        char *aside = hub__aprintf("%s.corrupted", path);
        if (aside)
            rename(path, aside);
        hub__free(aside);
        hub__error_clear();
    }
    hub__free(raw);
    hub__free(path);
    return error;
}

char *hub__mscache_file(const hub__mscache *c, const char *path)
{
    return hub__path_join(c->repo_dir, path);
}

char *hub__mscache_temp(const hub__mscache *c, const char *path)
{
    return hub__path_join(c->temp_dir, path);
}

static bool on_disk(const hub__mscache *c, const char *path)
{
    char *file = hub__mscache_file(c, path);
    bool here = file && access(file, F_OK) == 0;
    hub__free(file);
    return here;
}

bool hub__mscache_has(const hub__mscache *c,
                      const char *path,
                      const char *revision)
{
    for (size_t i = 0; i < c->msc.count; i++) {
        const char *p = hub__pdict_get(&c->msc.dicts[i], "Path");
        const char *r = hub__pdict_get(&c->msc.dicts[i], "Revision");
        if (!p || !r || strcmp(p, path) != 0)
            continue;
        if (hub__str_starts_with(r, revision) ||
            hub__str_starts_with(revision, r))
            return on_disk(c, path);
    }
    return false;
}

bool hub__mscache_has_path(const hub__mscache *c, const char *path)
{
    for (size_t i = 0; i < c->msc.count; i++) {
        const char *p = hub__pdict_get(&c->msc.dicts[i], "Path");
        if (p && strcmp(p, path) == 0)
            return on_disk(c, path);
    }
    return false;
}

/* Write `data` to a mkstemp file beside `dest`, fsync, rename. */
static int save(const char *dest, const char *data, size_t len)
{
    char *tmp = hub__aprintf("%s.XXXXXX", dest);
    if (!tmp)
        return HUB_ENOMEM;
    int fd = mkstemp(tmp);
    int error = fd < 0 ? hub__path_error(errno, "cannot create", tmp) : HUB_OK;
    for (size_t off = 0; error == HUB_OK && off < len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            error = hub__path_error(errno, "cannot write", tmp);
        else
            off += (size_t)n;
    }
    /* (mkstemp's 0600 stays: the SDK's own .msc is made the same way) */
    if (error == HUB_OK && fsync(fd) != 0)
        error = hub__path_error(errno, "cannot flush", tmp);
    if (fd >= 0)
        close(fd);
    if (error == HUB_OK && rename(tmp, dest) != 0)
        error = hub__path_error(errno, "cannot rename into", dest);
    if (error < 0 && fd >= 0)
        unlink(tmp);
    hub__free(tmp);
    return error;
}

static int save_pickle(const hub__mscache *c,
                       const char *name,
                       const hub__pickle *p,
                       bool as_list)
{
    hub_buf b = HUB_BUF_INIT(MSC_MAX);
    char *dest = hub__path_join(c->repo_dir, name);
    int error = dest ? hub__pickle_write(p, as_list, &b) : HUB_ENOMEM;
    if (error == HUB_OK)
        error = save(dest, b.ptr, b.len);
    hub__buf_free(&b);
    hub__free(dest);
    return error;
}

int hub__mscache_put(hub__mscache *c, const char *path, const char *revision)
{
    /* drop the file's older entry, then append the new one */
    hub__pickle *m = &c->msc;
    for (size_t i = 0; i < m->count; i++) {
        const char *p = hub__pdict_get(&m->dicts[i], "Path");
        if (!p || strcmp(p, path) != 0)
            continue;
        hub__pdict old = m->dicts[i];
        m->dicts[i] = m->dicts[m->count - 1];
        m->count--;
        hub__pdict_free(&old);
        break;
    }
    /* built whole before it joins the index: a half entry (NULL keys)
     * would crash the next lookup */
    hub__pdict e = {0};
    e.keys = hub__calloc(2, sizeof(char *));
    e.values = hub__calloc(2, sizeof(char *));
    if (e.keys && e.values) {
        e.count = 2;
        e.keys[0] = hub__strdup("Path");
        e.values[0] = hub__strdup(path);
        e.keys[1] = hub__strdup("Revision");
        e.values[1] = hub__strdup(revision);
    }
    hub__pdict *d = e.keys && e.values && e.keys[0] && e.values[0] &&
                            e.keys[1] && e.values[1]
                        ? hub__reallocarray(m->dicts, m->count + 1, sizeof(*d))
                        : NULL;
    if (!d) {
        hub__pdict_free(&e);
        return HUB_ENOMEM;
    }
    m->dicts = d;
    m->dicts[m->count++] = e;
    int error = hub__mkdirs(c->repo_dir);
    return error < 0 ? error : save_pickle(c, ".msc", m, true);
}

void hub__mscache_finish(const hub__mscache *c, const char *mv)
{
    if (!c->local) {
        char *keys[] = {(char *)"id"};
        char *values[] = {c->masked_id};
        hub__pdict d = {keys, values, 1};
        hub__pickle mdl = {&d, 1};
        save_pickle(c, ".mdl", &mdl, false);
    }
    char *mv_path = hub__path_join(c->repo_dir, ".mv");
    if (mv_path && mv)
        save(mv_path, mv, strlen(mv));
    hub__free(mv_path);
    if (c->dotted_link && access(c->dotted_link, F_OK) != 0) {
        /* the SDK links the dotted name to the masked folder */
        const char *base = strrchr(c->repo_dir, '/');
        if (base && symlink(base + 1, c->dotted_link) != 0)
            hub__error_clear(); /* the SDK only logs this too */
    }
    hub__error_clear();
}
