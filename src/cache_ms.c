/* SPDX-License-Identifier: MIT */
/* cache_ms.c: the classic ModelScope cache layout. */
#include "cache_ms.h"

#include "alloc.h"
#include "buf.h"
#include "path.h"
#include "safefs.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEMP_DIR "._____temp" /* a dot and five underscores */
#define MSC_MAX (256u * 1024 * 1024)
/* Entries beyond these cannot name a file the SDK wrote (a path is at most
 * PATH_MAX, a revision a commit id or a ref name): ignored, so that a
 * hostile index cannot make its few shared strings (BINGET) into gigabytes
 * of hashing or of a rewritten index. */
#define ENTRY_PATH_MAX 4096
#define ENTRY_REVISION_MAX 256
/* Save the index at most once a second, and no more often than ten times
 * what the last save took. */
#define SAVE_EVERY_MS 1000
#define SAVE_COST_FACTOR 10

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
                      const char *local_dir,
                      const hub_logger *log)
{
    memset(c, 0, sizeof(*c));
    c->log = log;
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

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void entries_clear(hub__mscache *c)
{
    for (size_t i = 0; i < c->count; i++)
        hub__free(c->entries[i].own);
    hub__free(c->entries);
    hub__free(c->table);
    hub__pickle_free(&c->msc);
    c->entries = NULL;
    c->table = NULL;
    c->count = c->cap = c->table_cap = 0;
    c->no_save = c->dirty = false;
}

void hub__mscache_free(hub__mscache *c)
{
    entries_clear(c);
    hub__free(c->bad);
    hub__free(c->root);
    hub__free(c->repo_dir);
    hub__free(c->temp_dir);
    hub__free(c->lock_path);
    hub__free(c->masked_id);
    hub__free(c->dotted_link);
    memset(c, 0, sizeof(*c));
}

/* ---- entries by path ---------------------------------------------------- */

/* FNV-1a from a per-process random basis, then a final mix. */
static size_t hash(const hub__mscache *c, const char *s)
{
    uint64_t h = c->seed ^ 0xcbf29ce484222325u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3u;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    return (size_t)h;
}

/* The table slot of `path`: its entry's, or the free one it would take. */
static size_t slot_of(const hub__mscache *c, const char *path)
{
    size_t mask = c->table_cap - 1;
    for (size_t i = hash(c, path) & mask;; i = (i + 1) & mask) {
        size_t e = c->table[i];
        if (e == 0 || strcmp(c->entries[e - 1].path, path) == 0)
            return i;
    }
}

static const hub__msentry *find(const hub__mscache *c, const char *path)
{
    if (!c->table_cap)
        return NULL;
    size_t e = c->table[slot_of(c, path)];
    return e ? &c->entries[e - 1] : NULL;
}

/* Room for one more entry, the table kept at most half full. */
static int reserve(hub__mscache *c)
{
    if (c->count == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        hub__msentry *e = hub__reallocarray(c->entries, cap, sizeof(*e));
        if (!e)
            return HUB_ENOMEM;
        c->entries = e;
        c->cap = cap;
    }
    if (2 * (c->count + 1) <= c->table_cap)
        return HUB_OK;
    size_t cap = c->table_cap ? 2 * c->table_cap : 128;
    size_t *t = hub__calloc(cap, sizeof(*t));
    if (!t)
        return HUB_ENOMEM;
    if (!c->seed && getrandom(&c->seed, sizeof(c->seed), 0) < 0)
        c->seed = (uint64_t)(uintptr_t)c ^ (uint64_t)now_ms();
    hub__free(c->table);
    c->table = t;
    c->table_cap = cap;
    for (size_t i = 0; i < c->count; i++)
        c->table[slot_of(c, c->entries[i].path)] = i + 1;
    return HUB_OK;
}

/* Add or replace `path`'s entry; `own` (may be NULL) holds both strings. */
static int
set_entry(hub__mscache *c, const char *path, const char *revision, char *own)
{
    int error = reserve(c);
    if (error < 0) {
        hub__free(own);
        return error;
    }
    size_t slot = slot_of(c, path);
    if (c->table[slot]) {
        hub__msentry *e = &c->entries[c->table[slot] - 1];
        hub__free(e->own);
        *e = (hub__msentry){path, revision, own};
        return HUB_OK;
    }
    c->entries[c->count++] = (hub__msentry){path, revision, own};
    c->table[slot] = c->count;
    return HUB_OK;
}

/* ---- load ---------------------------------------------------------------- */

/* The directory nothing below is followed if a link (safefs.h): the cache
 * root, or the local dir in local mode. */
static const char *trust_root(const hub__mscache *c)
{
    return c->local ? c->repo_dir : c->root;
}

/* The whole of `path`, bounded; errno-style `*err` on failure (ENOENT:
 * there is none). Not followed if a symlink: the index is a plain file. */
static char *
read_index(const char *root, const char *path, size_t *len, int *err)
{
    *err = 0;
    int fd = hub__sfs_open(root, path, O_RDONLY, 0);
    if (fd < 0) {
        *err = fd == HUB_ENOMEM ? ENOMEM : errno;
        hub__error_clear();
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0)
        *err = errno;
    else if (!S_ISREG(st.st_mode))
        *err = EINVAL;
    else if ((uint64_t)st.st_size > MSC_MAX)
        *err = EFBIG;
    hub_buf b = HUB_BUF_INIT(MSC_MAX);
    char chunk[65536];
    while (*err == 0) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *err = n < 0 ? errno : 0;
            break;
        }
        int error = hub__buf_put(&b, chunk, (size_t)n);
        if (error < 0)
            *err = error == HUB_ENOMEM ? ENOMEM : EFBIG;
    }
    close(fd);
    if (*err == 0 && !b.ptr && hub__buf_put(&b, "", 0) < 0)
        *err = ENOMEM; /* an empty file: "" */
    if (*err) {
        hub__buf_free(&b);
        hub__error_clear();
        return NULL;
    }
    *len = b.len;
    return hub__buf_detach(&b);
}

static int entries_from_pickle(hub__mscache *c)
{
    for (size_t i = 0; i < c->msc.count; i++) {
        const char *p = hub__pdict_get(&c->msc.dicts[i], "Path");
        const char *r = hub__pdict_get(&c->msc.dicts[i], "Revision");
        if (!p || !r || strnlen(p, ENTRY_PATH_MAX + 1) > ENTRY_PATH_MAX ||
            strnlen(r, ENTRY_REVISION_MAX + 1) > ENTRY_REVISION_MAX)
            continue;
        /* a path listed twice: the later entry is the newer (the SDK
         * appends) */
        int error = set_entry(c, p, r, NULL);
        if (error < 0)
            return error;
    }
    return HUB_OK;
}

static const char *why_unreadable(int err)
{
    switch (err) {
    case EFBIG:
        return "bigger than 256 MiB";
    case EINVAL:
        return "not a regular file";
    case ELOOP:
        return "a symbolic link";
    default:
        return strerror(err);
    }
}

int hub__mscache_load(hub__mscache *c, bool writable)
{
    entries_clear(c);
    hub__free(c->bad);
    c->bad = NULL;
    c->saved_at_ms = now_ms();
    char *path = hub__path_join(c->repo_dir, ".msc");
    if (!path)
        return HUB_ENOMEM;
    size_t len = 0;
    int err = 0;
    char *raw = read_index(trust_root(c), path, &len, &err);
    int error = HUB_OK;
    if (!raw && err == ENOMEM) {
        error = hub__error_set(HUB_ENOMEM, "out of memory reading '%s'", path);
    } else if (!raw && err != ENOENT) {
        /* maybe another user's, or a disk error: an empty index written
         * over it would lose every entry it holds */
        c->no_save = true;
        c->bad = hub__aprintf("cannot be read (%s)", why_unreadable(err));
        if (!c->bad)
            error = HUB_ENOMEM;
        hub__log(c->log, HUB_LOG_WARN,
                 "cannot read the ModelScope cache index '%s' (%s): it is "
                 "left as is and files fetched now are not recorded in it; "
                 "make it readable and writable by every user of the cache",
                 path, why_unreadable(err));
    } else if (raw) {
        error = hub__pickle_read(&c->msc, (unsigned char *)raw, len);
        if (error == HUB_OK)
            error = entries_from_pickle(c);
        if (error == HUB_EPROTO) {
            char *why = hub__strdup(hub_error_last()->message);
            char *aside = hub__aprintf("%s.corrupted", path);
            /* as the SDK: set the bad one aside and start an empty index;
             * a lookup only reads, and never moves it */
            bool moved = writable && aside &&
                         hub__sfs_rename(trust_root(c), path, aside) == HUB_OK;
            if (writable && !moved)
                c->no_save = true;
            hub__log(c->log, HUB_LOG_WARN, "%s: %s; %s", path,
                     why ? why : "unreadable",
                     moved ? "set aside as .msc.corrupted, starting a new index"
                           : "taken as empty");
            hub__free(aside);
            hub__error_clear();
            hub__pickle_free(&c->msc);
            bool keep = c->no_save;
            entries_clear(c);
            c->no_save = keep;
            c->bad = hub__aprintf("is not a valid index (%s)",
                                  why ? why : "unreadable");
            hub__free(why);
            error = c->bad ? HUB_OK : HUB_ENOMEM;
        }
    }
    hub__free(raw);
    hub__free(path);
    if (error < 0)
        entries_clear(c);
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
    struct stat st;
    bool here = file && hub__sfs_lstat(trust_root(c), file, &st) == 0 &&
                S_ISREG(st.st_mode);
    hub__free(file);
    return here;
}

bool hub__mscache_has(const hub__mscache *c,
                      const char *path,
                      const char *revision)
{
    const hub__msentry *e = find(c, path);
    if (!e)
        return false;
    return (hub__str_starts_with(e->revision, revision) ||
            hub__str_starts_with(revision, e->revision)) &&
           on_disk(c, path);
}

const char *hub__mscache_revision(const hub__mscache *c, const char *path)
{
    const hub__msentry *e = find(c, path);
    return e ? e->revision : NULL;
}

bool hub__mscache_has_path(const hub__mscache *c, const char *path)
{
    return find(c, path) && on_disk(c, path);
}

/* ---- save ---------------------------------------------------------------- */

/* Write `data` to a new temp file beside `dest`, fsync, rename. The file
 * gets the mode of the one it replaces, else 0666 less the umask (the
 * kernel applies it: mkstemp's 0600 would shut other users of a shared
 * cache out of the index, and they would then write over it). */
static int
save(const char *root, const char *dest, const char *data, size_t len)
{
    struct stat old;
    bool replaces =
        hub__sfs_lstat(root, dest, &old) == 0 && S_ISREG(old.st_mode);
    char rnd[17];
    hub__random_hex(rnd, 16);
    char *tmp = hub__aprintf("%s.%s", dest, rnd);
    if (!tmp)
        return HUB_ENOMEM;
    int fd = hub__sfs_open(root, tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    int error = fd < 0 ? fd : HUB_OK;
    if (error == HUB_OK && replaces &&
        fchmod(fd, old.st_mode & (S_IRWXU | S_IRWXG | S_IRWXO)) != 0)
        error = hub__path_error(errno, "cannot set the mode of", tmp);
    for (size_t off = 0; error == HUB_OK && off < len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            error = hub__path_error(errno, "cannot write", tmp);
        else
            off += (size_t)n;
    }
    if (error == HUB_OK && fsync(fd) != 0)
        error = hub__path_error(errno, "cannot flush", tmp);
    if (fd >= 0)
        close(fd);
    if (error == HUB_OK)
        error = hub__sfs_rename(root, tmp, dest);
    if (error < 0 && fd >= 0)
        (void)hub__sfs_unlink(root, tmp);
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
        error = save(trust_root(c), dest, b.ptr, b.len);
    hub__buf_free(&b);
    hub__free(dest);
    return error;
}

static int save_index(hub__mscache *c)
{
    static const char *keys[] = {"Path", "Revision"};
    int64_t start = now_ms();
    hub__pickle p = {0};
    p.dicts = hub__calloc(c->count ? c->count : 1, sizeof(*p.dicts));
    const char **values =
        hub__calloc(2 * (c->count ? c->count : 1), sizeof(*values));
    int error = p.dicts && values ? hub__sfs_mkdirs(trust_root(c), c->repo_dir)
                                  : HUB_ENOMEM;
    if (error == HUB_OK) {
        for (size_t i = 0; i < c->count; i++) {
            values[2 * i] = c->entries[i].path;
            values[2 * i + 1] = c->entries[i].revision;
            p.dicts[i] = (hub__pdict){keys, &values[2 * i], 2};
        }
        p.count = c->count;
        error = save_pickle(c, ".msc", &p, true);
    }
    hub__free(p.dicts);
    hub__free(values);
    if (error == HUB_OK) {
        c->dirty = false;
        c->saved_at_ms = now_ms();
        c->save_cost_ms = c->saved_at_ms - start;
    }
    return error;
}

int hub__mscache_put(hub__mscache *c, const char *path, const char *revision)
{
    size_t lp = strlen(path), lr = strlen(revision);
    char *own = hub__malloc(lp + lr + 2);
    if (!own)
        return HUB_ENOMEM;
    memcpy(own, path, lp + 1);
    memcpy(own + lp + 1, revision, lr + 1);
    int error = set_entry(c, own, own + lp + 1, own);
    if (error < 0)
        return error;
    c->dirty = true;
    int64_t wait = SAVE_COST_FACTOR * c->save_cost_ms;
    if (wait < SAVE_EVERY_MS)
        wait = SAVE_EVERY_MS;
    if (c->no_save || now_ms() - c->saved_at_ms < wait)
        return HUB_OK;
    return save_index(c);
}

int hub__mscache_flush(hub__mscache *c)
{
    return c->dirty && !c->no_save ? save_index(c) : HUB_OK;
}

size_t hub__mscache_count(const hub__mscache *c)
{
    return c->count;
}

const char *hub__mscache_path_at(const hub__mscache *c, size_t i)
{
    return c->entries[i].path;
}

void hub__mscache_finish(const hub__mscache *c, const char *mv)
{
    if (!c->local) {
        const char *keys[] = {"id"};
        const char *values[] = {c->masked_id};
        hub__pdict d = {keys, values, 1};
        hub__pickle mdl = {&d, 1, NULL};
        save_pickle(c, ".mdl", &mdl, false);
    }
    char *mv_path = hub__path_join(c->repo_dir, ".mv");
    if (mv_path && mv)
        save(trust_root(c), mv_path, mv, strlen(mv));
    hub__free(mv_path);
    struct stat st;
    if (c->dotted_link && hub__sfs_lstat(c->root, c->dotted_link, &st) != 0) {
        /* the SDK links the dotted name to the masked folder (errors
         * ignored: the SDK only logs them too) */
        const char *base = strrchr(c->repo_dir, '/');
        if (base)
            (void)hub__sfs_symlink(c->root, base + 1, c->dotted_link);
    }
    hub__error_clear();
}
