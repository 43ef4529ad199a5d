/* SPDX-License-Identifier: MIT */
/* hasher.h: a thread that follows downloads on disk with their digests. */
#ifndef HUB_HASHER_H
#define HUB_HASHER_H

#include "digest.h"

#include <stdatomic.h>

/*
 * Multi-connection downloads write out of order; their digest can only
 * follow the contiguous prefix on disk. One thread per engine run reads
 * that prefix back (from the page cache) and hashes it while the download
 * goes on, so verification overlaps the transfer and uses the second core.
 * It also flushes files to disk on request (resume checkpoints).
 *
 * A job belongs to the hasher between hub__hasher_add and
 * hub__hasher_remove: only then does the hasher touch its digest and fd.
 */
typedef struct hub__hashjob {
    int fd; /* read-only use by the hasher */
    uint64_t size;
    hub_digest *digest;              /* updated by the hasher only */
    atomic_uint_least64_t ready;     /* engine: [0, ready) is on disk */
    atomic_uint_least64_t hashed;    /* hasher: the digest covers [0, hashed) */
    atomic_uint_least64_t sync_req;  /* engine: please fdatasync, round N */
    atomic_uint_least64_t sync_done; /* hasher: round N is on disk */
    atomic_int error;                /* hasher: a hub error code, 0 if fine */
    char message[256];               /* its message, valid once error != 0 */
    struct hub__hashjob *next;
    bool busy; /* the hasher is working on it (under lock) */
} hub__hashjob;

typedef struct hub__hasher hub__hasher;

/* `wake` is called from the hasher thread when a job finishes its digest or
 * a flush, so the engine's poll returns at once. */
int hub__hasher_new(hub__hasher **out, void (*wake)(void *), void *wake_arg);
/* Stops the thread; every job must have been removed. */
void hub__hasher_free(hub__hasher *h);

void hub__hasher_add(hub__hasher *h, hub__hashjob *job);
/* Waits until the hasher is not using the job, then forgets it. */
void hub__hasher_remove(hub__hasher *h, hub__hashjob *job);
/* New work: `ready` advanced or a sync was requested. */
void hub__hasher_kick(hub__hasher *h);

#endif
