/* SPDX-License-Identifier: MIT */
/* progress.c: per-file and per-job progress, throttled, with cancel. */
#include "progress.h"

#include "alloc.h"
#include "engine.h"

#include <string.h>

#define EMIT_INTERVAL_MS 100
#define HEARTBEAT_MS 1000

void hub__progress_init(hub__progress *p, hub_progress_cb cb, void *payload)
{
    memset(p, 0, sizeof(*p));
    p->cb = cb;
    p->payload = payload;
    atomic_init(&p->cancelled, false);
    p->start_ms = hub__now_ms();
    p->rate_mark_ms = p->start_ms;
    p->job_phase = HUB_PHASE_RESOLVE;
    p->oldest = p->newest = SIZE_MAX;
}

int hub__progress_plan(hub__progress *p, size_t count)
{
    hub__progress_free(p);
    p->planned = true;
    p->file_count = count;
    p->bytes_done = p->bytes_total = 0;
    p->files_done = 0;
    p->names = hub__calloc(count ? count : 1, sizeof(*p->names));
    p->done = hub__calloc(count ? count : 1, sizeof(*p->done));
    p->total = hub__calloc(count ? count : 1, sizeof(*p->total));
    p->phase = hub__calloc(count ? count : 1, sizeof(*p->phase));
    p->endpoint = hub__calloc(count ? count : 1, sizeof(*p->endpoint));
    p->emitted_ms = hub__calloc(count ? count : 1, sizeof(*p->emitted_ms));
    p->older = hub__calloc(count ? count : 1, sizeof(*p->older));
    p->newer = hub__calloc(count ? count : 1, sizeof(*p->newer));
    if (!p->names || !p->done || !p->total || !p->phase || !p->endpoint ||
        !p->emitted_ms || !p->older || !p->newer)
        return HUB_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        p->phase[i] = HUB_PHASE_RESOLVE;
        p->older[i] = p->newer[i] = SIZE_MAX;
    }
    p->oldest = p->newest = SIZE_MAX;
    return HUB_OK;
}

void hub__progress_set_file(hub__progress *p,
                            size_t index,
                            const char *name,
                            uint64_t total)
{
    p->names[index] = name;
    p->total[index] = total;
    if (total != UINT64_MAX)
        p->bytes_total += total;
}

void hub__progress_set_total(hub__progress *p, size_t index, uint64_t total)
{
    if (index >= p->file_count)
        return;
    if (p->total[index] != UINT64_MAX)
        p->bytes_total -= p->total[index];
    p->total[index] = total;
    p->bytes_total += total;
}

void hub__progress_free(hub__progress *p)
{
    hub__free(p->names);
    hub__free(p->done);
    hub__free(p->total);
    hub__free(p->phase);
    hub__free(p->endpoint);
    hub__free(p->emitted_ms);
    hub__free(p->older);
    hub__free(p->newer);
    p->emitted_ms = NULL;
    p->older = p->newer = NULL;
    p->oldest = p->newest = SIZE_MAX;
    p->names = NULL;
    p->done = p->total = NULL;
    p->phase = NULL;
    p->endpoint = NULL;
}

void hub__progress_cancel(hub__progress *p)
{
    atomic_store(&p->cancelled, true);
}

static void update_rate(hub__progress *p, int64_t now)
{
    int64_t dt = now - p->rate_mark_ms;
    if (dt < 250)
        return;
    double inst =
        (double)(p->net_bytes - p->rate_mark_bytes) * 1000.0 / (double)dt;
    /* exponential smoothing with a ~1 s horizon */
    double alpha = dt >= 1000 ? 1.0 : (double)dt / 1000.0;
    p->rate = p->rate_mark_bytes == 0 && p->rate == 0.0
                  ? inst
                  : alpha * inst + (1.0 - alpha) * p->rate;
    p->rate_mark_bytes = p->net_bytes;
    p->rate_mark_ms = now;
}

static bool in_queue(const hub__progress *p, size_t index)
{
    return p->oldest == index || p->older[index] != SIZE_MAX;
}

static void unqueue(hub__progress *p, size_t index)
{
    size_t o = p->older[index], n = p->newer[index];
    if (o != SIZE_MAX)
        p->newer[o] = n;
    else
        p->oldest = n;
    if (n != SIZE_MAX)
        p->older[n] = o;
    else
        p->newest = o;
    p->older[index] = p->newer[index] = SIZE_MAX;
}

/* File `index` just had an event: a downloading file goes to the end of
 * the queue (its event is the newest), any other leaves it. */
static void requeue(hub__progress *p, size_t index)
{
    if (in_queue(p, index))
        unqueue(p, index);
    if (p->phase[index] != HUB_PHASE_DOWNLOAD)
        return;
    p->older[index] = p->newest;
    if (p->newest != SIZE_MAX)
        p->newer[p->newest] = index;
    else
        p->oldest = index;
    p->newest = index;
}

static void emit(hub__progress *p, size_t index, bool file_event, bool final)
{
    hub_progress ev;
    memset(&ev, 0, sizeof(ev));
    ev.version = HUB_PROGRESS_VERSION;
    ev.file_count = p->file_count;
    ev.bytes_done = p->bytes_done;
    ev.bytes_total = p->bytes_total;
    ev.files_done = p->files_done;
    ev.rate = p->rate;
    uint64_t left =
        p->bytes_total > p->bytes_done ? p->bytes_total - p->bytes_done : 0;
    ev.eta = final ? 0.0 : (p->rate > 1.0 ? (double)left / p->rate : -1.0);
    ev.final = final;
    if (file_event) {
        ev.phase = p->phase[index];
        ev.file = p->names[index];
        ev.file_index = index;
        ev.file_bytes_done = p->done[index];
        ev.file_bytes_total = p->total[index];
        ev.endpoint = p->endpoint[index];
    } else {
        ev.phase = p->job_phase;
        ev.file_bytes_total = UINT64_MAX;
    }
    p->last_emit_ms = hub__now_ms();
    if (file_event) {
        p->emitted_ms[index] = p->last_emit_ms;
        requeue(p, index);
    }
    if (p->cb && p->cb(&ev, p->payload) != 0)
        hub__progress_cancel(p);
    if (p->observer)
        p->observer(&ev, p->observer_payload);
}

void hub__progress_job(hub__progress *p, hub_phase phase, bool final)
{
    p->job_phase = phase;
    update_rate(p, hub__now_ms());
    emit(p, 0, false, final);
}

static bool finished(hub_phase ph)
{
    return ph == HUB_PHASE_DONE || ph == HUB_PHASE_CACHED ||
           ph == HUB_PHASE_FAILED;
}

/* Is `index` the downloading file whose last event is the oldest? (A file
 * that stops reporting cannot hold the others back for long: after two
 * intervals anyone goes.) Every phase change is an event, so the queue
 * holds exactly the downloading files, in the order of their last events:
 * its head is the oldest, with no walk over the plan (audit F15). */
static bool waited_longest(const hub__progress *p, size_t index)
{
    return p->oldest == SIZE_MAX ||
           p->emitted_ms[p->oldest] >= p->emitted_ms[index];
}

void hub__progress_file(hub__progress *p,
                        size_t index,
                        hub_phase phase,
                        uint64_t done,
                        uint64_t net,
                        const char *endpoint)
{
    if (index >= p->file_count)
        return;
    bool changed = p->phase[index] != phase;
    if (changed && finished(phase) && !finished(p->phase[index]))
        p->files_done++;
    p->phase[index] = phase;
    if (done >= p->done[index])
        p->bytes_done += done - p->done[index];
    else
        p->bytes_done -= p->done[index] - done; /* restarted from zero */
    p->done[index] = done;
    p->net_bytes += net;
    if (endpoint)
        p->endpoint[index] = endpoint;
    int64_t now = hub__now_ms();
    update_rate(p, now);
    int64_t quiet = now - p->last_emit_ms;
    if (changed ||
        (quiet >= EMIT_INTERVAL_MS &&
         (waited_longest(p, index) || quiet >= 2 * EMIT_INTERVAL_MS)))
        emit(p, index, true, false);
}

void hub__progress_heartbeat(hub__progress *p)
{
    if (!p || !p->cb || hub__progress_cancelled(p))
        return;
    int64_t now = hub__now_ms();
    if (now - p->last_emit_ms < HEARTBEAT_MS)
        return;
    update_rate(p, now);
    emit(p, 0, false, false);
}
