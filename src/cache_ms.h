/* SPDX-License-Identifier: MIT */
/* cache_ms.h: the classic ModelScope cache layout (modelscope <= 1.37),
 * which modelscope-hub >= 1.38 also reads (reference §2). */
#ifndef HUB_CACHE_MS_H
#define HUB_CACHE_MS_H

#include "common.h"
#include "log.h"
#include "pickle.h"

/*
 * <root>/<type>s/<owner>/<name, '.' -> '___'>/<path>      the files
 *                                     .msc   pickle [{'Path','Revision'}]
 *                                     .mdl   pickle {'id': owner/masked}
 *                                     .mv    "Revision:<name>,CreatedAt:<t>"
 * <root>/<type>s/<owner>/<name>  -> the masked folder (when the name has '.')
 * <root>/<type>s/._____temp/<owner>/<name>/<path>   downloads in progress
 * <root>/.lock/<owner>___<name>                     the SDK's repo lock
 *
 * <root> is $MODELSCOPE_CACHE or ~/.cache/modelscope/hub. The newer SDK's
 * root is $MODELSCOPE_CACHE or ~/.cache/modelscope, and it looks for this
 * layout under <root> and <root>/hub: either way it finds these files.
 * With a local dir, files go to <dir>/<path>, .msc and .mv beside them,
 * temp files in <dir>/._____temp/.
 */
/* One .msc entry: pointers into the loaded pickle, or into `own`. */
typedef struct hub__msentry {
    const char *path;
    const char *revision;
    char *own; /* "path\0revision\0" for entries recorded by this process */
} hub__msentry;

typedef struct hub__mscache {
    char *root;
    char *repo_dir;
    char *temp_dir;
    char *lock_path;
    char *masked_id;   /* owner/masked name, for .mdl */
    char *dotted_link; /* <type>s/<owner>/<name> when the name has a dot */
    bool local;
    const hub_logger *log;
    hub__pickle msc; /* the index as read: loaded entries point into it */
    hub__msentry *entries;
    size_t count, cap;
    size_t *table; /* by path: entry index + 1, 0 = free (open addressing) */
    size_t table_cap;
    uint64_t seed; /* of the path hash: another user's .msc cannot aim at
                    * one bucket */
    bool no_save;  /* the index on disk could not be read: never replace it */
    char *bad;     /* why the index on disk was taken as empty (unreadable,
                    * not a valid pickle), or NULL: set by the last load */
    bool dirty;    /* entries recorded since the last save */
    int64_t saved_at_ms, save_cost_ms;
} hub__mscache;

int hub__mscache_init(hub__mscache *c,
                      const char *root,
                      hub_repo_type type,
                      const char *repo_id,
                      const char *local_dir,
                      const hub_logger *log);
void hub__mscache_free(hub__mscache *c);

/*
 * Read .msc. Absent (ENOENT): an empty index. Unreadable (permissions, I/O
 * error, too big, not a regular file): an empty index, a warning, and the
 * file is never replaced by this cache (it may be another user's, F8).
 * Not a valid pickle: an empty index and, when `writable` (a download
 * holding the repo lock), set aside as .msc.corrupted as the SDK does; a
 * read-only lookup leaves it where it is. Either way `bad` says why the
 * index was taken as empty. HUB_ENOMEM is returned as is and never taken
 * for a bad index.
 */
int hub__mscache_load(hub__mscache *c, bool writable);

/* The SDK's `exists`: an .msc entry for `path` whose revision is a prefix
 * of `revision` or the reverse, and the file on disk. */
bool hub__mscache_has(const hub__mscache *c,
                      const char *path,
                      const char *revision);
/* The revision the index records for `path`, or NULL if it has none. */
const char *hub__mscache_revision(const hub__mscache *c, const char *path);
/* Any entry for `path` with the file on disk (local_files_only lookups). */
bool hub__mscache_has_path(const hub__mscache *c, const char *path);

char *hub__mscache_file(const hub__mscache *c, const char *path);
/* Where a download in progress lives: the SDK resumes from this name. */
char *hub__mscache_temp(const hub__mscache *c, const char *path);

/*
 * Record `path` at `revision` (replacing its entry). The index is saved
 * (mkstemp-like temp, fsync, rename) when the last save is old enough:
 * at least 1 s, and ten times what that save took, so saving costs at most
 * a tenth of the download's time however big the index grows (the SDK
 * saves after every file: quadratic in files). hub__mscache_flush saves
 * the rest; call it at the end, also after a failure.
 */
int hub__mscache_put(hub__mscache *c, const char *path, const char *revision);
int hub__mscache_flush(hub__mscache *c);

/* The indexed paths, in index order. */
size_t hub__mscache_count(const hub__mscache *c);
const char *hub__mscache_path_at(const hub__mscache *c, size_t i);

/* After a snapshot: .mdl (cache mode), .mv, the dotted-name symlink.
 * Errors are ignored: the files are in place and indexed already. */
void hub__mscache_finish(const hub__mscache *c, const char *mv);

#endif
