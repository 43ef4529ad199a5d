/* SPDX-License-Identifier: MIT */
/* listing.h: the files of a repository at one commit. */
#ifndef HUB_LISTING_H
#define HUB_LISTING_H

#include "common.h"

/* One file as the hub's tree listing describes it. */
typedef struct hub__entry {
    char *path;
    uint64_t size;    /* real content size (LFS: not the pointer's) */
    char *blob_id;    /* git object id (sha1) */
    char *lfs_sha256; /* sha256 of the content for LFS files, or NULL */
    uint64_t lfs_size;
    char *xet_hash; /* or NULL */
    char *revision; /* ModelScope: the last commit touching the file */
} hub__entry;

typedef struct hub__listing {
    hub__entry *items;
    size_t count;
    size_t cap;
    /* an entry carried an xet hash that is not 64 hex (redacted): a tree
     * cache of this listing would not be exact, so none is written */
    bool xet_unrecorded;
} hub__listing;

#define HUB_LISTING_INIT                                                       \
    {                                                                          \
        NULL, 0, 0, false                                                      \
    }

/* One entry of the hub's tree or paths-info answer, files and folders,
 * with every field the hub gives (reference B1). Strings are borrowed
 * from the parsed document: valid during the callback that gets it. */
typedef struct hub__tree_item {
    bool is_dir;
    const char *path;       /* checked by hub__path_check_repo_path */
    uint64_t size;          /* files: content size (LFS: the real one) */
    const char *oid;        /* git blob sha1, or tree sha1 for a folder */
    const char *lfs_sha256; /* or NULL */
    uint64_t lfs_size;
    uint64_t lfs_pointer_size; /* 0 when not given */
    const char *xet_hash;      /* 64 hex, or NULL */
    bool xet_unrecorded;       /* an xetHash that is not 64 hex was left out */
    /* expand=true: the last commit touching the entry, else NULL; title
     * and date are server text, as sent (clean them before showing) */
    const char *last_commit_id; /* 40 hex */
    const char *last_commit_title;
    const char *last_commit_date;
} hub__tree_item;

/* Most files accepted in one listing: bounds what a server can make us
 * allocate. */
#define HUB_LISTING_MAX_FILES 1000000

/* Append a copy of `e`. */
int hub__listing_add(hub__listing *l, const hub__entry *e);
void hub__listing_free(hub__listing *l);
/* Sort by path (byte order) and refuse duplicates. */
int hub__listing_sort(hub__listing *l);
/* Entry with this path (listing must be sorted), or NULL. */
const hub__entry *hub__listing_find(const hub__listing *l, const char *path);

/* The name of the blob in the cache: sha256 for LFS files, else git sha1. */
static inline const char *hub__entry_etag(const hub__entry *e)
{
    return e->lfs_sha256 ? e->lfs_sha256 : e->blob_id;
}

#endif
