/* SPDX-License-Identifier: MIT */
/* cache_hf.c: the Hugging Face cache layout. */
#include "cache_hf.h"

#include "alloc.h"
#include "buf.h"
#include "hub_hf.h"
#include "json.h"
#include "path.h"
#include "safefs.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char hub__hf_cachedir_tag[] =
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by huggingface_hub.\n"
    "# For information about cache directory tags, see:\n"
    "#\thttps://bford.info/cachedir/\n";

int hub__hfcache_init(hub__hfcache *c,
                      const char *root,
                      hub_repo_type type,
                      const char *repo_id,
                      bool symlinks)
{
    memset(c, 0, sizeof(*c));
    c->root = hub__strdup(root);
    c->folder = hub__hf_repo_folder_name(type, repo_id);
    c->repo_dir =
        c->root && c->folder ? hub__path_join(c->root, c->folder) : NULL;
    c->symlinks = symlinks;
    if (!c->repo_dir) {
        hub__hfcache_free(c);
        return HUB_ENOMEM;
    }
    return HUB_OK;
}

void hub__hfcache_free(hub__hfcache *c)
{
    hub__free(c->root);
    hub__free(c->folder);
    hub__free(c->repo_dir);
    memset(c, 0, sizeof(*c));
}

char *hub__hfcache_snapshot_dir(const hub__hfcache *c, const char *commit)
{
    return hub__aprintf("%s/snapshots/%s", c->repo_dir, commit);
}

char *hub__hfcache_pointer(const hub__hfcache *c,
                           const char *commit,
                           const char *path)
{
    return hub__aprintf("%s/snapshots/%s/%s", c->repo_dir, commit, path);
}

char *hub__hfcache_blob(const hub__hfcache *c, const char *etag)
{
    return hub__aprintf("%s/blobs/%s", c->repo_dir, etag);
}

char *hub__hfcache_lock_path(const hub__hfcache *c, const char *etag)
{
    return hub__aprintf("%s/.locks/%s/%s.lock", c->root, c->folder, etag);
}

int hub__hfcache_resolve(const hub__hfcache *c,
                         const char *revision,
                         char *commit)
{
    if (hub__str_is_commit(revision)) {
        memcpy(commit, revision, 41);
        return HUB_OK;
    }
    /* never a path outside refs/, whatever a caller passes */
    if (hub__path_check_revision(revision) < 0) {
        hub__error_clear();
        return HUB_ENOTCACHED;
    }
    char *ref = hub__aprintf("%s/refs/%s", c->repo_dir, revision);
    if (!ref)
        return HUB_ENOMEM;
    size_t len = 0;
    int fd = hub__sfs_open(c->root, ref, O_RDONLY, 0);
    hub__free(ref);
    char *raw = fd >= 0 ? hub__file_read_fd(fd, 256, &len) : NULL;
    if (fd >= 0)
        close(fd);
    hub__error_clear();
    if (!raw)
        return HUB_ENOTCACHED;
    char *trimmed = hub__str_trim_dup(raw, len);
    hub__free(raw);
    if (!trimmed)
        return HUB_ENOMEM;
    int error = HUB_ENOTCACHED;
    if (hub__str_is_commit(trimmed)) {
        memcpy(commit, trimmed, 41);
        error = HUB_OK;
    }
    hub__free(trimmed);
    return error;
}

/* Write `len` bytes to a new temp file beside `path` (below `root`), then
 * rename. */
static int write_atomic(const char *root,
                        const char *path,
                        const char *data,
                        size_t len,
                        mode_t mode)
{
    char rnd[9];
    hub__random_hex(rnd, 8);
    char *tmp = hub__aprintf("%s.%s.tmp", path, rnd);
    if (!tmp)
        return HUB_ENOMEM;
    int error = HUB_OK;
    int fd = hub__sfs_open(root, tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        error = fd;
        goto done;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            error = hub__path_error(errno, "cannot write", tmp);
            break;
        }
        off += (size_t)n;
    }
    if (close(fd) != 0 && error == HUB_OK)
        error = hub__path_error(errno, "cannot write", tmp);
    if (error == HUB_OK)
        error = hub__sfs_rename(root, tmp, path);
    if (error < 0)
        (void)hub__sfs_unlink(root, tmp);
done:
    hub__free(tmp);
    return error;
}

int hub__hfcache_write_ref(const hub__hfcache *c,
                           const char *revision,
                           const char *commit)
{
    if (strcmp(revision, commit) == 0)
        return HUB_OK;
    int error = hub__path_check_revision(revision);
    if (error < 0)
        return error;
    char current[41];
    if (hub__hfcache_resolve(c, revision, current) == HUB_OK &&
        strcmp(current, commit) == 0) {
        /* also rewrite a hand-made ref with a newline: Python can't read
         * it */
        char *ref = hub__aprintf("%s/refs/%s", c->repo_dir, revision);
        struct stat st;
        bool exact = ref && hub__sfs_lstat(c->root, ref, &st) == 0 &&
                     S_ISREG(st.st_mode) && st.st_size == 40;
        hub__free(ref);
        if (exact)
            return HUB_OK;
    }
    char *ref = hub__aprintf("%s/refs/%s", c->repo_dir, revision);
    if (!ref)
        return HUB_ENOMEM;
    error = write_atomic(c->root, ref, commit, 40, 0666);
    hub__free(ref);
    return error;
}

void hub__hfcache_mark_missing(const hub__hfcache *c,
                               const char *commit,
                               const char *path)
{
    if (hub__path_check_repo_path(path) < 0) {
        hub__error_clear();
        return;
    }
    char *marker =
        hub__aprintf("%s/.no_exist/%s/%s", c->repo_dir, commit, path);
    int fd =
        marker ? hub__sfs_open(c->root, marker, O_WRONLY | O_CREAT, 0666) : -1;
    if (fd >= 0)
        close(fd);
    hub__free(marker);
    hub__error_clear();
}

void hub__hfcache_write_tag(const hub__hfcache *c)
{
    char *tag = hub__path_join(c->root, "CACHEDIR.TAG");
    struct stat st;
    if (tag && hub__sfs_lstat(c->root, tag, &st) != 0 &&
        hub__mkdirs(c->root) == HUB_OK)
        write_atomic(c->root, tag, hub__hf_cachedir_tag,
                     sizeof(hub__hf_cachedir_tag) - 1, 0666);
    hub__free(tag);
    hub__error_clear();
}

int hub__copy_fd(int in, const char *src, const char *root, const char *dst)
{
    char rnd[9];
    hub__random_hex(rnd, 8);
    char *tmp = hub__aprintf("%s.%s.tmp", dst, rnd);
    int error = HUB_OK;
    int out = -1;
    if (!tmp) {
        error = HUB_ENOMEM;
        goto done;
    }
    out = hub__sfs_open(root, tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (out < 0) {
        error = out;
        goto done;
    }
    char buf[64 * 1024];
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            error = hub__path_error(errno, "cannot read", src);
            break;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                error = hub__path_error(errno, "cannot write", tmp);
                break;
            }
            off += w;
        }
        if (error < 0)
            break;
    }
    if (close(out) != 0 && error == HUB_OK)
        error = hub__path_error(errno, "cannot write", tmp);
    out = -1;
    if (error == HUB_OK)
        error = hub__sfs_rename(root, tmp, dst);
    if (error < 0)
        (void)hub__sfs_unlink(root, tmp);
done:
    hub__free(tmp);
    return error;
}

int hub__hfcache_link(const hub__hfcache *c,
                      const char *commit,
                      const char *path,
                      const char *etag,
                      bool new_blob)
{
    char *pointer = hub__hfcache_pointer(c, commit, path);
    char *blob = hub__hfcache_blob(c, etag);
    char *target = NULL;
    int error = HUB_OK;
    if (!pointer || !blob) {
        error = HUB_ENOMEM;
        goto done;
    }
    if (!c->symlinks) {
        if (new_blob) {
            error = hub__sfs_rename(c->root, blob, pointer);
        } else {
            int in = hub__sfs_open(c->root, blob, O_RDONLY, 0);
            error = in < 0 ? in : hub__copy_fd(in, blob, c->root, pointer);
            if (in >= 0)
                close(in);
        }
        goto done;
    }
    /* ../../ from snapshots/<commit>/, one more ../ per directory level */
    size_t depth = 0;
    for (const char *p = path; *p; p++)
        depth += *p == '/';
    hub_buf t = HUB_BUF_INIT(4 * HUB_REPO_PATH_MAX);
    error = hub__buf_puts(&t, "../../");
    for (size_t i = 0; i < depth && error == HUB_OK; i++)
        error = hub__buf_puts(&t, "../");
    if (error == HUB_OK)
        error = hub__buf_printf(&t, "blobs/%s", etag);
    if (error < 0) {
        hub__buf_free(&t);
        goto done;
    }
    target = hub__buf_detach(&t);
    if (!target) {
        error = HUB_ENOMEM;
        goto done;
    }
    error = hub__sfs_symlink(c->root, target, pointer);
done:
    hub__free(pointer);
    hub__free(blob);
    hub__free(target);
    return error;
}

/* One "files" member of a tree cache; anything odd makes it invalid. */
static int
tree_entry_from_json(const char *key, const hub_json *v, void *payload)
{
    hub__entry e = {0};
    e.path = (char *)key;
    e.blob_id = (char *)hub__json_string(hub__json_get(v, "blob_id"));
    const hub_json *lfs = hub__json_get(v, "lfs_sha256");
    const hub_json *xet = hub__json_get(v, "xet_hash");
    /* the blob_id names a blob file: the same rule as the listing's oid
     * (another user of a shared cache may have written this file) */
    if (!hub__json_u64(hub__json_get(v, "size"), &e.size) || !e.blob_id ||
        !hub__str_is_hex_of(e.blob_id, 40) ||
        hub__path_check_repo_path(key) < 0)
        return HUB_EPROTO;
    if (lfs) {
        e.lfs_sha256 = (char *)hub__json_string(lfs);
        if (!e.lfs_sha256 || strlen(e.lfs_sha256) != 64 ||
            !hub__str_is_lower_hex(e.lfs_sha256, 64) ||
            !hub__json_u64(hub__json_get(v, "lfs_size"), &e.lfs_size) ||
            e.lfs_size != e.size)
            return HUB_EPROTO;
    }
    if (xet) {
        e.xet_hash = (char *)hub__json_string(xet);
        if (!e.xet_hash || strlen(e.xet_hash) != 64 ||
            !hub__str_is_lower_hex(e.xet_hash, 64))
            return HUB_EPROTO;
    }
    return hub__listing_add(payload, &e);
}

#define TREE_MAX_BYTES (256u * 1024 * 1024)

static int read_tree_fd(int fd, hub__listing *out)
{
    size_t len = 0;
    char *raw = fd >= 0 ? hub__file_read_fd(fd, TREE_MAX_BYTES, &len) : NULL;
    if (!raw) {
        hub__error_clear();
        return HUB_ENOTCACHED;
    }
    hub_json *root = NULL;
    int error = hub__json_parse(&root, raw, len, "tree cache");
    hub__free(raw);
    uint64_t version = 0;
    const hub_json *files = hub__json_get(root, "files");
    if (error < 0 ||
        !hub__json_u64(hub__json_get(root, "format_version"), &version) ||
        version != 1 || !hub__json_is_object(files)) {
        hub__json_free(root);
        hub__error_clear();
        return HUB_ENOTCACHED;
    }
    error = hub__json_object_foreach(files, tree_entry_from_json, out);
    hub__json_free(root);
    if (error == HUB_OK)
        error = hub__listing_sort(out);
    if (error < 0) {
        hub__listing_free(out);
        if (error != HUB_ENOMEM) {
            hub__error_clear();
            error = HUB_ENOTCACHED;
        }
    }
    return error;
}

int hub__hfcache_read_tree(const hub__hfcache *c,
                           const char *commit,
                           hub__listing *out)
{
    char *path = hub__aprintf("%s/trees/%s.json", c->repo_dir, commit);
    if (!path)
        return HUB_ENOMEM;
    int fd = hub__sfs_open(c->root, path, O_RDONLY, 0);
    hub__error_clear();
    hub__free(path);
    int error = read_tree_fd(fd, out);
    if (fd >= 0)
        close(fd);
    return error;
}

void hub__tree_memo_free(hub__tree_memo *m)
{
    hub__free(m->path);
    hub__listing_free(&m->listing);
    *m = (hub__tree_memo){0};
}

static bool same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

int hub__hfcache_read_tree_memo(const hub__hfcache *c,
                                const char *commit,
                                hub__tree_memo *memo,
                                const hub__listing **out)
{
    *out = NULL;
    char *path = hub__aprintf("%s/trees/%s.json", c->repo_dir, commit);
    if (!path)
        return HUB_ENOMEM;
    struct stat sb;
    int fd = hub__sfs_open(c->root, path, O_RDONLY, 0);
    hub__error_clear();
    if (fd < 0 || fstat(fd, &sb) != 0) {
        if (fd >= 0)
            close(fd);
        hub__free(path);
        return HUB_ENOTCACHED;
    }
    if (memo->path && strcmp(memo->path, path) == 0 && memo->dev == sb.st_dev &&
        memo->ino == sb.st_ino && memo->size == sb.st_size &&
        same_time(memo->mtime, sb.st_mtim) &&
        same_time(memo->ctime, sb.st_ctim)) {
        close(fd);
        hub__free(path);
        *out = &memo->listing;
        return HUB_OK;
    }
    hub__tree_memo_free(memo);
    hub__listing listing = HUB_LISTING_INIT;
    int error = read_tree_fd(fd, &listing);
    close(fd);
    if (error < 0) {
        hub__free(path);
        return error;
    }
    *memo = (hub__tree_memo){.path = path,
                             .dev = sb.st_dev,
                             .ino = sb.st_ino,
                             .size = sb.st_size,
                             .mtime = sb.st_mtim,
                             .ctime = sb.st_ctim,
                             .listing = listing};
    *out = &memo->listing;
    return HUB_OK;
}

static int tree_entry_json(hub_json *files, const hub__entry *e)
{
    hub_json *o = hub__json_object();
    if (!o)
        return HUB_ENOMEM;
    int error = hub__json_set_u64(o, "size", e->size);
    if (error == HUB_OK)
        error = hub__json_set_string(o, "blob_id", e->blob_id);
    if (error == HUB_OK && e->lfs_sha256) {
        error = hub__json_set_string(o, "lfs_sha256", e->lfs_sha256);
        if (error == HUB_OK)
            error = hub__json_set_u64(o, "lfs_size", e->lfs_size);
    }
    if (error == HUB_OK && e->xet_hash)
        error = hub__json_set_string(o, "xet_hash", e->xet_hash);
    if (error < 0) {
        hub__json_free(o);
        return error;
    }
    return hub__json_set(files, e->path, o);
}

void hub__hfcache_write_tree(const hub__hfcache *c,
                             const char *commit,
                             const hub__listing *listing)
{
    /* Python trusts the file to be exact; it writes none in this case
     * either (reference §3.10) */
    if (listing->xet_unrecorded)
        return;
    hub_json *root = hub__json_object();
    hub_json *files = hub__json_object();
    hub_buf out = HUB_BUF_INIT(512u * 1024 * 1024);
    char *dir = hub__aprintf("%s/trees", c->repo_dir);
    char *path = hub__aprintf("%s/trees/%s.json", c->repo_dir, commit);
    char *tmp = NULL;
    int error = (root && files && dir && path) ? HUB_OK : HUB_ENOMEM;
    if (error == HUB_OK)
        error = hub__json_set_u64(root, "format_version", 1);
    for (size_t i = 0; i < listing->count && error == HUB_OK; i++)
        error = tree_entry_json(files, &listing->items[i]);
    if (error == HUB_OK) {
        error = hub__json_set(root, "files", files);
        files = NULL;
    }
    if (error == HUB_OK)
        error = hub__json_dump_python(root, &out);
    if (error == HUB_OK) {
        /* a fresh name and 0600, as Python's mkstemp: below the cache root
         * without following links */
        char rnd[9];
        hub__random_hex(rnd, 8);
        tmp = hub__aprintf("%s/tmp%s.tmp", dir, rnd);
        int fd =
            tmp ? hub__sfs_open(c->root, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)
                : -1;
        error = fd < 0 ? HUB_EIO : HUB_OK;
        for (size_t off = 0; error == HUB_OK && off < out.len;) {
            ssize_t n = write(fd, out.ptr + off, out.len - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                error = HUB_EIO;
            else
                off += (size_t)n;
        }
        if (fd >= 0 && close(fd) != 0)
            error = HUB_EIO;
        if (error == HUB_OK)
            error = hub__sfs_rename(c->root, tmp, path);
        if (error < 0 && tmp && fd >= 0)
            (void)hub__sfs_unlink(c->root, tmp);
    }
    hub__json_free(root);
    hub__json_free(files);
    hub__buf_free(&out);
    hub__free(dir);
    hub__free(path);
    hub__free(tmp);
    hub__error_clear();
}

/* Is `target` the link snapshots/<commit>/<path> must hold: one "../" per
 * directory level of `path` plus two, then "blobs/<etag>"? Gives the etag. */
const char *hub__hfcache_link_blob(const char *target, size_t depth)
{
    depth += 2;
    for (size_t i = 0; i < depth; i++, target += 3)
        if (strncmp(target, "../", 3) != 0)
            return NULL;
    if (strncmp(target, "blobs/", 6) != 0 || !hub__str_is_etag(target + 6))
        return NULL;
    return target + 6;
}

void hub__subdir_free(hub__subdir *m)
{
    if (m->fd >= 0)
        close(m->fd);
    hub__free(m->dir);
    m->fd = -1;
    m->dir = NULL;
}

/* The directory part of `path` below `snap`, through `memo` when given:
 * a sorted listing asks for the same directory many times in a row. */
static int
open_subdir(int snap, const char *path, size_t len, hub__subdir *memo)
{
    if (memo && memo->dir && strlen(memo->dir) == len &&
        memcmp(memo->dir, path, len) == 0)
        return memo->fd;
    char *dir = hub__strndup(path, len);
    int fd = dir ? hub__sfs_dir_at(snap, dir, false, path) : -1;
    hub__error_clear();
    if (memo && fd >= 0) {
        hub__subdir_free(memo);
        memo->fd = fd;
        memo->dir = dir;
        return fd;
    }
    hub__free(dir);
    return fd;
}

bool hub__hfcache_pointer_ok(int snap,
                             int blobs,
                             const char *path,
                             struct stat *st,
                             int *fd_out,
                             hub__subdir *memo)
{
    if (fd_out)
        *fd_out = -1;
    const char *slash = strrchr(path, '/');
    const char *leaf = slash ? slash + 1 : path;
    int dfd = snap;
    if (slash) {
        dfd = open_subdir(snap, path, (size_t)(slash - path), memo);
        if (dfd < 0)
            return false;
    }
    bool ok = false;
    int fd = -1;
    if (fstatat(dfd, leaf, st, AT_SYMLINK_NOFOLLOW) != 0)
        goto done;
    if (S_ISREG(st->st_mode)) {
        ok = true;
        if (fd_out)
            fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    } else if (S_ISLNK(st->st_mode) && blobs >= 0) {
        char target[4 * HUB_REPO_PATH_MAX];
        ssize_t n = readlinkat(dfd, leaf, target, sizeof(target) - 1);
        if (n <= 0)
            goto done;
        target[n] = '\0';
        size_t depth = 0;
        for (const char *p = path; *p; p++)
            depth += *p == '/';
        const char *etag = hub__hfcache_link_blob(target, depth);
        ok = etag && fstatat(blobs, etag, st, AT_SYMLINK_NOFOLLOW) == 0 &&
             S_ISREG(st->st_mode);
        if (ok && fd_out)
            fd = openat(blobs, etag, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (ok && fd_out) {
        ok = fd >= 0;
        *fd_out = fd;
    }
done:
    if (dfd != snap && (!memo || dfd != memo->fd))
        close(dfd);
    return ok;
}

bool hub__hfcache_has_file(const hub__hfcache *c,
                           const char *commit,
                           const char *path,
                           struct stat *st,
                           int *fd_out)
{
    if (fd_out)
        *fd_out = -1;
    char *snap_dir = hub__hfcache_snapshot_dir(c, commit);
    char *blobs_dir = hub__path_join(c->repo_dir, "blobs");
    int snap = snap_dir ? hub__sfs_dir(c->root, snap_dir, false) : -1;
    int blobs = blobs_dir ? hub__sfs_dir(c->root, blobs_dir, false) : -1;
    hub__error_clear();
    bool ok = snap >= 0 &&
              hub__hfcache_pointer_ok(snap, blobs, path, st, fd_out, NULL);
    if (snap >= 0)
        close(snap);
    if (blobs >= 0)
        close(blobs);
    hub__free(snap_dir);
    hub__free(blobs_dir);
    return ok;
}
