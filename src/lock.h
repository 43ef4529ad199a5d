/* SPDX-License-Identifier: MIT */
/* lock.h: cross-process file locks, compatible with huggingface_hub's. */
#ifndef HUB_LOCK_H
#define HUB_LOCK_H

#include "common.h"

/* Returned (positive) by hub__lock_try when another process holds it. */
#define HUB__LOCK_BUSY 1

typedef struct hub__lock {
    int fd;           /* -1 when not held */
    bool unsupported; /* the filesystem has no flock: held "softly" */
} hub__lock;

#define HUB_LOCK_INIT                                                          \
    {                                                                          \
        -1, false                                                              \
    }

/*
 * One non-blocking attempt at flock(LOCK_EX) on `path`, below the trusted
 * directory `root` (safefs.h: no link followed), created mode 0664 with its
 * directories, as py-filelock does, so Python and hubfetch processes
 * exclude each other. Returns HUB_OK when held, HUB__LOCK_BUSY,
 * or an error. On filesystems without flock the lock is reported held and
 * `unsupported` set: correctness never depends on it (unique temp names,
 * atomic renames, verified content).
 */
int hub__lock_try(hub__lock *lock, const char *root, const char *path);

/* Release; the file is never unlinked (that would break exclusion). */
void hub__lock_release(hub__lock *lock);

#endif
