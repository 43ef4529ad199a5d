/* SPDX-License-Identifier: MIT */
/*
 * cache_scan.h: what hub_cache_scan() keeps of a Hugging Face cache, for
 * the modules that act on a scan (cache_plan.c, cache_verify.c).
 *
 * Blobs are identified by device and inode: a blob linked by several
 * revisions, or hard-linked, is one entry. A regular file in a snapshot
 * (caches written without symlinks) is its own "blob" with no etag.
 */
#ifndef HUB_CACHE_SCAN_H
#define HUB_CACHE_SCAN_H

#include "common.h"

#include <sys/types.h>

typedef struct hub__strvec {
    char **v;
    size_t n, cap;
} hub__strvec;

typedef struct hub__cblob {
    dev_t dev;
    ino_t ino;
    uint64_t size;
    int64_t atime, mtime;
    nlink_t nlink;
    size_t rev_stamp, repo_stamp;
    char *path; /* absolute; NULL without files */
    char *etag; /* its name in blobs/, NULL for a regular snapshot file */
} hub__cblob;

typedef struct hub__cfile {
    hub_cache_file pub;
    size_t blob; /* index in info->blobs */
    /* name and file_path follow in the same allocation */
} hub__cfile;

typedef struct hub__crev {
    hub_cache_revision pub; /* first: a public pointer is a hub__crev */
    char *commit, *path;
    hub__strvec refs;
    size_t *blob_ids; /* distinct blobs of the revision */
    size_t nblob_ids, capblob_ids;
    hub__cfile **files;
    size_t nfiles, capfiles;
    const hub_cache_file **fileptrs;
    struct hub__crepo *repo;
} hub__crev;

/* Something below blobs/ no snapshot uses: a partial download
 * ("<etag>.…incomplete") or an orphan blob. */
typedef struct hub__cextra {
    char *name;
    char etag[65]; /* "" when the name starts with no etag */
    uint64_t size; /* bytes freed by removing it (0 if hard-linked) */
    int64_t mtime;
} hub__cextra;

typedef struct hub__crepo {
    hub_cache_repo pub; /* first */
    char *id, *path, *cache_id, *folder;
    hub__strvec refs, warnings;
    hub__strvec ref_names, ref_targets; /* every ref file read: its name
                                           and the commit it names */
    size_t extra_warnings;
    hub__crev **revs;
    size_t nrevs, caprevs;
    const hub_cache_revision **revptrs;
    size_t *blob_ids; /* distinct blobs of the repository */
    size_t nblob_ids, capblob_ids;
    /* blob name -> blob index, while scanning */
    char **etags;
    size_t *etag_ids;
    size_t netags, cap_etags;
    hub__cextra *partials, *orphans;
    size_t npartials, norphans, cappartials, caporphans;
    hub__strvec no_exist, trees; /* commits with such an entry */
    bool unreadable;             /* some folder could not be read */
} hub__crepo;

struct hub_cache_info {
    char *dir;
    hub__crepo **repos;
    size_t nrepos, caprepos;
    hub__cblob *blobs;
    size_t nblobs, capblobs;
    size_t *table; /* open addressing: blob index + 1, 0 = empty */
    size_t tcap;
    hub__strvec warnings;
    hub__strvec trash; /* names in .locks/.hubfetch-trash/ */
    size_t stamp;
    bool files; /* per-file entries kept */
    int oom;
};

/* Where deletions put what they remove before removing it: inside .locks,
 * which huggingface_hub's and the JS scanners both skip. */
#define HUB__CACHE_TRASH ".locks/.hubfetch-trash"

/* The blob index of (dev, ino), or SIZE_MAX. */
size_t hub__cache_blob_find(const hub_cache_info *info, dev_t dev, ino_t ino);

#endif
