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
#include "str.h"

#include <sys/stat.h>
#include <sys/types.h>

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
    hub_strvec refs;
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

/* One defect the scan met, as a warning says it, and what it concerns. */
typedef struct hub__cproblem {
    struct hub__crev *rev; /* NULL: the repository's own */
    char *file;            /* the snapshot entry (path below it), or NULL */
    char *text;            /* the warning's line */
    bool broken;           /* a file that resolves to no content */
} hub__cproblem;

typedef enum hub__layout {
    HUB__LAYOUT_HF = 0,         /* huggingface_hub's */
    HUB__LAYOUT_MS_CLASSIC = 1, /* modelscope <= 1.37: files, .msc/.mv/.mdl */
    HUB__LAYOUT_MS_NEW = 2      /* modelscope >= 1.38: snapshots/<revision> */
} hub__layout;

typedef struct hub__crepo {
    hub_cache_repo pub; /* first */
    hub__layout layout;
    /* ModelScope: the root the repository lives below (the classic root,
     * or the newer SDK's), its folder and lock relative to it; the classic
     * dotted-name link and temp folder when they exist; else NULL */
    char *ms_root, *ms_rel, *ms_lock, *ms_dotted, *ms_temp;
    char *id, *path, *cache_id, *folder;
    hub_strvec refs, warnings;
    hub_strvec ref_names, ref_targets; /* every ref file read: its name
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
    hub__cproblem *problems; /* all of them: warnings stop at a page */
    size_t nproblems, capproblems;
    hub__cextra *partials, *orphans;
    size_t npartials, norphans, cappartials, caporphans;
    hub_strvec no_exist, trees; /* commits with such an entry */
    bool unreadable;            /* some folder could not be read */
} hub__crepo;

struct hub_cache_info {
    char *dir;
    hub__crepo **repos;
    size_t nrepos, caprepos;
    hub__cblob *blobs;
    size_t nblobs, capblobs;
    size_t *table; /* open addressing: blob index + 1, 0 = empty */
    size_t tcap;
    hub_strvec warnings;
    hub_strvec trash; /* names in .locks/.hubfetch-trash/ */
    hub_strvec spare; /* blob paths of merged duplicates, files use them */
    size_t stamp;
    bool files;      /* per-file entries kept */
    bool modelscope; /* the ModelScope layouts, not huggingface_hub's */
    int oom;
};

/* Where deletions put what they remove before removing it: inside .locks,
 * which huggingface_hub's and the JS scanners both skip. */
#define HUB__CACHE_TRASH ".locks/.hubfetch-trash"
/* The same in a ModelScope cache: inside the SDKs' lock folder, which the
 * classic scan reads as an owner whose folders hold no .mdl (skipped) and
 * the newer one never reads. */
#define HUB__CACHE_TRASH_MS ".lock/.hubfetch-trash"
#define HUB__TRASH_OF(info)                                                    \
    ((info)->modelscope ? HUB__CACHE_TRASH_MS : HUB__CACHE_TRASH)

/* Building a scan (cache_scan.c), for the layouts in other files. */
void hub__cache_warn(hub_cache_info *info, hub__crepo *r, const char *fmt, ...)
    HUB_PRINTF(3, 4);
/* A repository (NULL on OOM); `st` its folder, for times. */
hub__crepo *hub__cache_repo_add(hub_cache_info *info,
                                hub_repo_type type,
                                const char *id,
                                const char *path,
                                const char *folder,
                                const struct stat *st);
/* A revision of `r` (NULL on OOM), then its files: the folder `name` of
 * `at` walked (`st` its lstat; `blobs` the blobs folder or -1). */
hub__crev *hub__cache_rev_add(hub_cache_info *info,
                              hub__crepo *r,
                              const char *name,
                              const char *path);
void hub__cache_rev_walk(hub_cache_info *info,
                         hub__crepo *r,
                         hub__crev *v,
                         int at,
                         const char *name,
                         const struct stat *st,
                         int blobs,
                         int blobs_errno);
/* Size, count and times of `r` from its distinct blobs. */
void hub__cache_repo_totals(hub_cache_info *info, hub__crepo *r);
/* ModelScope metadata in a classic repository folder (.msc, .mv, ...). */
bool hub__cache_ms_meta(const char *name);
/* The ModelScope layouts below the open cache root (cache_scan_ms.c). */
void hub__cache_scan_ms(hub_cache_info *info, int root);

/* The blob index of (dev, ino), or SIZE_MAX. */
size_t hub__cache_blob_find(const hub_cache_info *info, dev_t dev, ino_t ino);

#endif
