/* SPDX-License-Identifier: MIT */
/* cache_target.h: what a cache target ("model:org/name@main:file") names
 * in a scan; one grammar for cache rm, verify and the bindings. */
#ifndef HUB_CACHE_TARGET_H
#define HUB_CACHE_TARGET_H

#include "cache_scan.h"

typedef struct hub__cache_target {
    hub__crepo *repo; /* NULL: the target matches nothing */
    hub__crev *rev;   /* NULL: every revision of `repo` */
    hub__cfile *file; /* NULL: the whole revision */
} hub__cache_target;

/*
 * Resolve `target` in `info`:
 *   [TYPE:|TYPE/]ID | models--org--name    a repository (TYPE model,
 *                                          dataset, space)
 *   ...@REV                                a revision: commit, unique
 *                                          prefix (>= 4 hex), or ref
 *   ...@REV:PATH                           a file of it
 *   COMMIT (40 hex)                        that revision, in any repo
 * HUB_OK with `out->repo` NULL when nothing matches; HUB_EINVAL (message
 * set) when the target is malformed or ambiguous.
 */
int hub__cache_target_resolve(const hub_cache_info *info,
                              const char *target,
                              hub__cache_target *out);

#endif
