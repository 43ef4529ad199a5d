/* SPDX-License-Identifier: MIT */
/* cache_hf.h: the Hugging Face cache layout, exactly as huggingface_hub
 * writes it (reference §3). */
#ifndef HUB_CACHE_HF_H
#define HUB_CACHE_HF_H

#include "common.h"
#include "listing.h"

#include <sys/stat.h>

/*
 * <root>/CACHEDIR.TAG
 * <root>/.locks/<folder>/<etag>.lock
 * <root>/<folder>/blobs/<etag>                 content, named by its etag
 * <root>/<folder>/refs/<revision>              40-hex commit, no newline
 * <root>/<folder>/snapshots/<commit>/<path>    relative symlink to the blob
 * <root>/<folder>/.no_exist/<commit>/<path>    empty marker of a 404
 * <root>/<folder>/trees/<commit>.json          listing cache (Python 1.22+)
 */
/* Exact bytes of huggingface_hub's CACHEDIR.TAG (reference §3.2), in the
 * cache root and in a local dir's .cache/huggingface. */
extern const char hub__hf_cachedir_tag[];

typedef struct hub__hfcache {
    char *root;     /* cache directory */
    char *folder;   /* models--org--name */
    char *repo_dir; /* root/folder */
    bool symlinks;  /* false: files are moved/copied into snapshots */
} hub__hfcache;

int hub__hfcache_init(hub__hfcache *c,
                      const char *root,
                      hub_repo_type type,
                      const char *repo_id,
                      bool symlinks);
void hub__hfcache_free(hub__hfcache *c);

/* Fresh paths. */
char *hub__hfcache_snapshot_dir(const hub__hfcache *c, const char *commit);
char *hub__hfcache_pointer(const hub__hfcache *c,
                           const char *commit,
                           const char *path);
char *hub__hfcache_blob(const hub__hfcache *c, const char *etag);
char *hub__hfcache_lock_path(const hub__hfcache *c, const char *etag);

/*
 * The commit a revision names in this cache: the revision itself when it
 * is 40 lowercase hex, else the content of refs/<revision> (whitespace
 * stripped: Python never writes any, but people copy refs by hand).
 * `commit` receives 41 bytes. HUB_ENOTCACHED (no message) if unknown.
 */
int hub__hfcache_resolve(const hub__hfcache *c,
                         const char *revision,
                         char *commit);

/* Write refs/<revision> = commit (no newline) via a temp file and rename,
 * unless it already says so or revision == commit. */
int hub__hfcache_write_ref(const hub__hfcache *c,
                           const char *revision,
                           const char *commit);

/* Touch .no_exist/<commit>/<path> (errors ignored, as Python does). */
void hub__hfcache_mark_missing(const hub__hfcache *c,
                               const char *commit,
                               const char *path);

/* Create <root>/CACHEDIR.TAG if missing (errors ignored). */
void hub__hfcache_write_tag(const hub__hfcache *c);

/*
 * Make snapshots/<commit>/<path> point at blobs/<etag>: a relative symlink
 * ("../../" plus one "../" per directory level). Without symlinks a new
 * blob is moved there, an old one copied (huggingface_hub's fallback).
 */
int hub__hfcache_link(const hub__hfcache *c,
                      const char *commit,
                      const char *path,
                      const char *etag,
                      bool new_blob);

/* trees/<commit>.json: HUB_ENOTCACHED (no message) when absent/invalid. */
int hub__hfcache_read_tree(const hub__hfcache *c,
                           const char *commit,
                           hub__listing *out);

/* The last tree cache read, kept while its file stays the same inode with the
 * same size and times (it is only ever replaced by a rename): a program that
 * asks "is it here?" again and again parses it once. */
typedef struct hub__tree_memo {
    char *path; /* NULL: empty */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    hub__listing listing;
} hub__tree_memo;

void hub__tree_memo_free(hub__tree_memo *m);
/* Like hub__hfcache_read_tree, but `*out` is owned by `memo` and valid until
 * the next call on it. */
int hub__hfcache_read_tree_memo(const hub__hfcache *c,
                                const char *commit,
                                hub__tree_memo *memo,
                                const hub__listing **out);
/* Write it as Python does (indent=1, sorted, mkstemp + rename). The
 * listing must be sorted. Errors are ignored: it is only a cache. */
void hub__hfcache_write_tree(const hub__hfcache *c,
                             const char *commit,
                             const hub__listing *listing);

/* Copy the open file `in` (named `src` in messages) to `dst` below `root`,
 * through a temp file and a rename (the no-symlink fallback, local dirs). */
int hub__copy_fd(int in, const char *src, const char *root, const char *dst);

/*
 * Is snapshots/<commit>/<path> a file of this cache? A regular file (the
 * no-symlink layout), or a symlink of the form "../../[../]blobs/<etag>"
 * to a regular blob; no other link is followed and no directory in the
 * path may be a link. `snap` is the open snapshot directory, `blobs` the
 * open blobs directory (or -1). Opens the content when `fd_out` is given.
 * `memo` (or NULL) keeps the last subdirectory open for the next call.
 */
typedef struct hub__subdir {
    int fd; /* -1: none */
    char *dir;
} hub__subdir;
#define HUB_SUBDIR_INIT                                                        \
    {                                                                          \
        -1, NULL                                                               \
    }
void hub__subdir_free(hub__subdir *m);
/* The etag a snapshot link names when its target is exactly
 * "../../" + "../" * depth + "blobs/<etag>" (depth = folders between the
 * snapshot folder and the link), else NULL: the one rule for a link. */
const char *hub__hfcache_link_blob(const char *target, size_t depth);
bool hub__hfcache_pointer_ok(int snap,
                             int blobs,
                             const char *path,
                             struct stat *st,
                             int *fd_out,
                             hub__subdir *memo);
/* The same from paths: opens what it needs. */
bool hub__hfcache_has_file(const hub__hfcache *c,
                           const char *commit,
                           const char *path,
                           struct stat *st,
                           int *fd_out);

#endif
