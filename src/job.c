/* SPDX-License-Identifier: MIT */
/* job.c: a download on a thread of its own, polled, cancelled, awaited. */
#include "alloc.h"
#include "client.h"
#include "download.h"
#include "str.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct hub_job {
    hub_client *client;
    char *repo_id;
    /* the options, with every string and list copied */
    hub_download_options opts;
    char *revision;
    char *local_dir;
    hub_strvec allow, ignore, files;
    bool single;

    hub__progress progress;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool finished;
    int rc;
    hub__error_saved error;
    hub_result *result;

    /* the latest progress, copied under `mu` by the job's thread */
    hub_progress snap;
    char file[1024];
    char endpoint[256];
    char poll_file[1024]; /* what the last hub_job_poll() handed out */
    char poll_endpoint[256];
};

static void observe(const hub_progress *p, void *payload)
{
    hub_job *job = payload;
    pthread_mutex_lock(&job->mu);
    job->snap = *p;
    if (p->file)
        snprintf(job->file, sizeof(job->file), "%s", p->file);
    if (p->endpoint)
        snprintf(job->endpoint, sizeof(job->endpoint), "%s", p->endpoint);
    pthread_mutex_unlock(&job->mu);
}

static void *run(void *arg)
{
    hub_job *job = arg;
    hub_result *result = NULL;
    int rc = hub__download(&result, job->client, job->repo_id, &job->opts,
                           job->single, &job->progress);
    hub__error_saved saved;
    hub__error_save(&saved);
    hub__client_leave(job->client);
    pthread_mutex_lock(&job->mu);
    job->rc = rc;
    job->error = saved;
    job->result = result;
    job->finished = true;
    pthread_cond_broadcast(&job->cv);
    pthread_mutex_unlock(&job->mu);
    return NULL;
}

static int copy_options(hub_job *job, const hub_download_options *o)
{
    job->opts = *o;
    int error = HUB_OK;
    if (o->revision && !(job->revision = hub__strdup(o->revision)))
        return HUB_ENOMEM;
    if (o->local_dir && !(job->local_dir = hub__strdup(o->local_dir)))
        return HUB_ENOMEM;
    if ((error = hub__strvec_copy(&job->allow, o->allow_patterns,
                                  o->allow_count)) < 0 ||
        (error = hub__strvec_copy(&job->ignore, o->ignore_patterns,
                                  o->ignore_count)) < 0 ||
        (error = hub__strvec_copy(&job->files, o->files, o->file_count)) < 0)
        return error;
    job->opts.revision = job->revision;
    job->opts.local_dir = job->local_dir;
    job->opts.allow_patterns = (const char *const *)job->allow.items;
    job->opts.ignore_patterns = (const char *const *)job->ignore.items;
    job->opts.files = (const char *const *)job->files.items;
    return HUB_OK;
}

static void job_release(hub_job *job)
{
    hub__free(job->repo_id);
    hub__free(job->revision);
    hub__free(job->local_dir);
    hub__strvec_free(&job->allow);
    hub__strvec_free(&job->ignore);
    hub__strvec_free(&job->files);
    hub__progress_free(&job->progress);
    hub_result_free(job->result);
    pthread_mutex_destroy(&job->mu);
    pthread_cond_destroy(&job->cv);
    hub__free(job);
}

int hub_job_start(hub_job **out,
                  hub_client *client,
                  const char *repo_id,
                  const hub_download_options *opts)
{
    HUB_ASSERT_ARG(out);
    *out = NULL;
    HUB_ASSERT_ARG(repo_id);
    hub_download_options whole;
    const hub_download_options *o = &whole;
    int error = hub__download_options_take(&whole, opts);
    if (error < 0)
        return error;
    hub_job *job = hub__calloc(1, sizeof(*job));
    if (!job)
        return HUB_ENOMEM;
    pthread_mutex_init(&job->mu, NULL);
    pthread_cond_init(&job->cv, NULL);
    job->client = client;
    job->repo_id = hub__strdup(repo_id);
    error = job->repo_id ? copy_options(job, o) : HUB_ENOMEM;
    if (error < 0) {
        job_release(job);
        return error;
    }
    job->single = hub__download_is_single(o);
    hub__progress_init(&job->progress, job->opts.progress_cb,
                       job->opts.progress_payload);
    job->progress.observer = observe;
    job->progress.observer_payload = job;
    job->snap.version = HUB_PROGRESS_VERSION;
    job->snap.phase = HUB_PHASE_RESOLVE;
    job->snap.eta = -1;
    job->snap.file_bytes_total = UINT64_MAX;
    /* the client is the job's until it finishes */
    if ((error = hub__client_enter(client)) < 0) {
        job_release(job);
        return error;
    }
    /* hub_client_cancel() on the job's client stops it too */
    job->progress.cancel_also = &client->cancel;
    if (pthread_create(&job->thread, NULL, run, job) != 0) {
        hub__client_leave(client);
        job_release(job);
        return hub__error_set(HUB_ERROR, "cannot start a thread for the job");
    }
    *out = job;
    return HUB_OK;
}

void hub_job_poll(hub_job *job, hub_progress *out)
{
    if (!job || !out)
        return;
    pthread_mutex_lock(&job->mu);
    *out = job->snap;
    memcpy(job->poll_file, job->file, sizeof(job->file));
    memcpy(job->poll_endpoint, job->endpoint, sizeof(job->endpoint));
    pthread_mutex_unlock(&job->mu);
    out->file = job->poll_file[0] ? job->poll_file : NULL;
    out->endpoint = job->poll_endpoint[0] ? job->poll_endpoint : NULL;
}

void hub_job_cancel(hub_job *job)
{
    if (job)
        hub__progress_cancel(&job->progress);
}

int hub_job_done(hub_job *job)
{
    if (!job)
        return 1;
    pthread_mutex_lock(&job->mu);
    bool done = job->finished;
    pthread_mutex_unlock(&job->mu);
    return done;
}

int hub_job_wait(hub_job *job, long timeout_ms, hub_result **out)
{
    if (out)
        *out = NULL;
    HUB_ASSERT_ARG(job);
    pthread_mutex_lock(&job->mu);
    if (timeout_ms < 0) {
        while (!job->finished)
            pthread_cond_wait(&job->cv, &job->mu);
    } else {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!job->finished &&
               pthread_cond_timedwait(&job->cv, &job->mu, &until) != ETIMEDOUT)
            ;
    }
    if (!job->finished) {
        pthread_mutex_unlock(&job->mu);
        return hub__error_set(HUB_ETIMEOUT, "the job is still running");
    }
    int rc = job->rc;
    if (rc < 0) {
        hub__error_restore(&job->error);
    } else if (out) {
        *out = job->result;
        job->result = NULL;
    }
    pthread_mutex_unlock(&job->mu);
    return rc;
}

void hub_job_free(hub_job *job)
{
    if (!job)
        return;
    hub_job_cancel(job);
    pthread_join(job->thread, NULL);
    job_release(job);
}
