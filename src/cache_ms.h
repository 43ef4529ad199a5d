/* SPDX-License-Identifier: MIT */
/* cache_ms.h: the classic ModelScope cache layout (modelscope <= 1.37),
 * which modelscope-hub >= 1.38 also reads (reference §2). */
#ifndef HUB_CACHE_MS_H
#define HUB_CACHE_MS_H

#include "common.h"
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
typedef struct hub__mscache {
    char *root;
    char *repo_dir;
    char *temp_dir;
    char *lock_path;
    char *masked_id;   /* owner/masked name, for .mdl */
    char *dotted_link; /* <type>s/<owner>/<name> when the name has a dot */
    bool local;
    hub__pickle msc; /* the index as loaded, updated by put */
} hub__mscache;

int hub__mscache_init(hub__mscache *c,
                      const char *root,
                      hub_repo_type type,
                      const char *repo_id,
                      const char *local_dir);
void hub__mscache_free(hub__mscache *c);

/* Read .msc (absent: empty; unreadable: set aside as .msc.corrupted and
 * start empty, as the SDK does). */
int hub__mscache_load(hub__mscache *c);

/* The SDK's `exists`: an .msc entry for `path` whose revision is a prefix
 * of `revision` or the reverse, and the file on disk. */
bool hub__mscache_has(const hub__mscache *c,
                      const char *path,
                      const char *revision);
/* Any entry for `path` with the file on disk (local_files_only lookups). */
bool hub__mscache_has_path(const hub__mscache *c, const char *path);

char *hub__mscache_file(const hub__mscache *c, const char *path);
/* Where a download in progress lives: the SDK resumes from this name. */
char *hub__mscache_temp(const hub__mscache *c, const char *path);

/* Record `path` at `revision` (replacing its old entry) and save .msc
 * atomically (mkstemp, fsync, rename), as the SDK does after each file. */
int hub__mscache_put(hub__mscache *c, const char *path, const char *revision);

/* After a snapshot: .mdl (cache mode), .mv, the dotted-name symlink.
 * Errors are ignored: the files are in place and indexed already. */
void hub__mscache_finish(const hub__mscache *c, const char *mv);

#endif
