/* SPDX-License-Identifier: MIT */
/* progress.h: per-file and per-job progress, throttled, with cancel. */
#ifndef HUB_PROGRESS_H
#define HUB_PROGRESS_H

#include "common.h"

#include <stdatomic.h>

/*
 * Aggregates what the engine reports and calls the embedder's callback:
 * at most every 100 ms for byte counts (to the file in flight that has
 * waited longest, so that every one moves), immediately for a file's phase
 * change, and once with final=1 at the end. A nonzero return from the
 * callback, or hub__progress_cancel() from any thread, sets `cancelled`.
 */
typedef struct hub__progress {
    hub_progress_cb cb;
    void *payload;
    atomic_bool cancelled;
    /* also cancelled while this is set (the client's hub_client_cancel()
     * flag), or NULL */
    const atomic_bool *cancel_also;

    bool planned; /* hub__progress_plan() was called */
    size_t file_count;
    const char **names; /* borrowed */
    uint64_t *done;     /* bytes on disk per file */
    uint64_t *total;    /* size per file, UINT64_MAX unknown */
    hub_phase *phase;
    const char **endpoint; /* borrowed, per file */
    int64_t *emitted_ms;   /* per file: its last event */
    /* the downloading files, oldest event first: a list through
     * `older`/`newer` (SIZE_MAX ends it), since every phase change and
     * every event moves a file to its end */
    size_t *older, *newer;
    size_t oldest, newest;

    uint64_t bytes_done;
    uint64_t bytes_total;
    size_t files_done;
    hub_phase job_phase;

    int64_t start_ms;
    int64_t last_emit_ms;
    /* download rate from network bytes, smoothed */
    uint64_t net_bytes;
    uint64_t rate_mark_bytes;
    int64_t rate_mark_ms;
    double rate;

    /* called with every event, after the user callback (job snapshots) */
    void (*observer)(const hub_progress *p, void *payload);
    void *observer_payload;
} hub__progress;

void hub__progress_init(hub__progress *p, hub_progress_cb cb, void *payload);
/* Set the plan: `count` files; names borrowed for the job's duration. A
 * second call replaces the first. */
int hub__progress_plan(hub__progress *p, size_t count);
void hub__progress_set_file(hub__progress *p,
                            size_t index,
                            const char *name,
                            uint64_t total);
/* A file's size became known (the listing did not give it). */
void hub__progress_set_total(hub__progress *p, size_t index, uint64_t total);
void hub__progress_free(hub__progress *p);

/* Job-level event (resolve, final). */
void hub__progress_job(hub__progress *p, hub_phase phase, bool final);
/* File `index` is in `phase` with `done` bytes on disk; `net` more bytes
 * came over the network since the last call. */
void hub__progress_file(hub__progress *p,
                        size_t index,
                        hub_phase phase,
                        uint64_t done,
                        uint64_t net,
                        const char *endpoint);

/* While something waits (a backoff, a server-asked wait, a lock, a slow
 * metadata request): repeat the job-level event if the callback heard
 * nothing for a second, so that it can still cancel. Cheap to call often.
 * NULL is fine. */
void hub__progress_heartbeat(hub__progress *p);

void hub__progress_cancel(hub__progress *p);
static inline bool hub__progress_cancelled(hub__progress *p)
{
    return p && (atomic_load(&p->cancelled) ||
                 (p->cancel_also && atomic_load(p->cancel_also)));
}

#endif
