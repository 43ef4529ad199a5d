/* SPDX-License-Identifier: MIT */
/* hasher.c: a thread that follows downloads on disk with their digests. */
#include "hasher.h"

#include "alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (256 * 1024)
/* bytes hashed per turn on one job, so that flushes and other jobs wait
 * little */
#define TURN_BYTES (16u * 1024 * 1024)

struct hub__hasher {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work; /* new work or stop */
    pthread_cond_t idle; /* a job was put down */
    hub__hashjob *jobs;
    bool stop;
    bool kicked;
    unsigned char *buf;
    void (*wake)(void *);
    void *wake_arg;
};

static bool has_work(const hub__hashjob *j)
{
    if (atomic_load(&j->error))
        return false;
    return atomic_load(&j->hashed) < atomic_load(&j->ready) ||
           atomic_load(&j->sync_done) < atomic_load(&j->sync_req);
}

static void fail(hub__hashjob *j, int code, const char *what, int err)
{
    snprintf(j->message, sizeof(j->message), "%s: %s", what, strerror(err));
    atomic_store(&j->error, code);
}

/* One turn on a job: flush if asked, then hash a slice. */
static void work_on(hub__hasher *h, hub__hashjob *j)
{
    uint64_t req = atomic_load(&j->sync_req);
    bool notify = false;
    if (atomic_load(&j->sync_done) < req) {
        if (fdatasync(j->fd) != 0 && errno != EINVAL && errno != EROFS) {
            int err = errno;
            fail(j, err == ENOSPC || err == EDQUOT ? HUB_ENOSPC : HUB_EIO,
                 "cannot flush the download to disk", err);
            notify = true;
        } else {
            atomic_store(&j->sync_done, req);
            notify = true;
        }
    }
    uint64_t ready = atomic_load(&j->ready);
    uint64_t hashed = atomic_load(&j->hashed);
    uint64_t from = hashed;
    uint64_t budget = TURN_BYTES;
    while (hashed < ready && budget && !atomic_load(&j->error)) {
        uint64_t want = ready - hashed;
        if (want > READ_CHUNK)
            want = READ_CHUNK;
        ssize_t n = pread(j->fd, h->buf, (size_t)want, (off_t)hashed);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fail(j, HUB_EIO, "cannot read back the download",
                 n < 0 ? errno : EIO);
            notify = true;
            break;
        }
        if (hub__digest_update(j->digest, h->buf, (size_t)n) < 0) {
            fail(j, HUB_ERROR, "digest update failed", EIO);
            notify = true;
            break;
        }
        hashed += (uint64_t)n;
        budget -= (uint64_t)n;
        atomic_store(&j->hashed, hashed);
    }
    /* start writing back what is hashed, so the final flush before the
     * rename has little left to wait for */
    if (hashed > from)
        sync_file_range(j->fd, (off_t)from, (off_t)(hashed - from),
                        SYNC_FILE_RANGE_WRITE);
    if (hashed == j->size && ready == j->size)
        notify = true;
    if (notify && h->wake)
        h->wake(h->wake_arg);
}

static void *run(void *arg)
{
    hub__hasher *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        hub__hashjob *pick = NULL;
        for (hub__hashjob *j = h->jobs; j; j = j->next)
            if (has_work(j)) {
                pick = j;
                break;
            }
        if (!pick) {
            if (!h->kicked)
                pthread_cond_wait(&h->work, &h->mu);
            h->kicked = false;
            continue;
        }
        /* round robin: the job goes to the back of the list */
        if (pick->next) {
            hub__hashjob **pp = &h->jobs;
            while (*pp != pick)
                pp = &(*pp)->next;
            *pp = pick->next;
            hub__hashjob *tail = h->jobs;
            while (tail->next)
                tail = tail->next;
            tail->next = pick;
            pick->next = NULL;
        }
        pick->busy = true;
        pthread_mutex_unlock(&h->mu);
        work_on(h, pick);
        pthread_mutex_lock(&h->mu);
        pick->busy = false;
        pthread_cond_broadcast(&h->idle);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

int hub__hasher_new(hub__hasher **out, void (*wake)(void *), void *wake_arg)
{
    *out = NULL;
    hub__hasher *h = hub__calloc(1, sizeof(*h));
    if (!h)
        return HUB_ENOMEM;
    h->buf = hub__malloc(READ_CHUNK);
    if (!h->buf) {
        hub__free(h);
        return HUB_ENOMEM;
    }
    h->wake = wake;
    h->wake_arg = wake_arg;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->work, NULL);
    pthread_cond_init(&h->idle, NULL);
    if (pthread_create(&h->thread, NULL, run, h) != 0) {
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->work);
        pthread_cond_destroy(&h->idle);
        hub__free(h->buf);
        hub__free(h);
        return hub__error_set(HUB_ERROR, "cannot start the hashing thread");
    }
    *out = h;
    return HUB_OK;
}

void hub__hasher_free(hub__hasher *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_cond_signal(&h->work);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->work);
    pthread_cond_destroy(&h->idle);
    hub__free(h->buf);
    hub__free(h);
}

void hub__hasher_add(hub__hasher *h, hub__hashjob *job)
{
    pthread_mutex_lock(&h->mu);
    job->busy = false;
    job->next = h->jobs;
    h->jobs = job;
    h->kicked = true;
    pthread_cond_signal(&h->work);
    pthread_mutex_unlock(&h->mu);
}

void hub__hasher_remove(hub__hasher *h, hub__hashjob *job)
{
    pthread_mutex_lock(&h->mu);
    while (job->busy)
        pthread_cond_wait(&h->idle, &h->mu);
    for (hub__hashjob **pp = &h->jobs; *pp; pp = &(*pp)->next)
        if (*pp == job) {
            *pp = job->next;
            break;
        }
    job->next = NULL;
    pthread_mutex_unlock(&h->mu);
}

void hub__hasher_kick(hub__hasher *h)
{
    pthread_mutex_lock(&h->mu);
    h->kicked = true;
    pthread_cond_signal(&h->work);
    pthread_mutex_unlock(&h->mu);
}
