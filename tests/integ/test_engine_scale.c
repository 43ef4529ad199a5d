/* SPDX-License-Identifier: MIT */
/* test_engine_scale.c: the engine's and the progress aggregator's CPU per
 * file does not grow with the number of files (audit F15). */
#include "../harness/suites.h"
#include "../harness/test.h"

#include "../../src/alloc.h"
#include "../../src/engine.h"
#include "../../src/http.h"
#include "../../src/hub_hf.h"
#include "../../src/lock.h"
#include "../../src/progress.h"

#include <hubfetch.h>

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

/* sha256 of nothing: every item below is an empty file */
#define EMPTY_SHA256                                                           \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* User CPU of the whole process (the engine and its hashing thread). */
static double user_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
}

static size_t env_count(const char *name, size_t fallback)
{
    const char *v = getenv(name);
    long n = v ? strtol(v, NULL, 10) : 0;
    return n > 0 ? (size_t)n : fallback;
}

typedef struct scale_ctx {
    const char *dir;
    size_t committed;
} scale_ctx;

static int scale_prepare(hub__fetch *f, void *ctx)
{
    scale_ctx *s = ctx;
    f->root = s->dir;
    f->temp_base = hub__aprintf("%s/t%zu", s->dir, f->index);
    return f->temp_base ? HUB_OK : HUB_ENOMEM;
}

/* The bytes are verified: drop them (only the engine is measured). */
static int scale_commit(hub__fetch *f, void *ctx)
{
    scale_ctx *s = ctx;
    unlink(f->temp_path);
    s->committed++;
    return HUB_OK;
}

typedef struct scale_events {
    size_t done;
} scale_events;

static int count_events(const hub_progress *p, void *payload)
{
    scale_events *ev = payload;
    if (p->file && p->phase == HUB_PHASE_DONE)
        ev->done++;
    return 0;
}

/*
 * Every item goes through the engine's whole life (start, temp file,
 * verify, flush on the hashing thread, commit), one file at a time so that
 * each takes turns of the event loop. The audit measured 0.5 s of user CPU
 * for 2,000 tiny files and 21 s for 16,000: the old engine walked every
 * item on every turn. 20,000 items cost it ~40 s; now well under a second.
 */
static void test_many_files_cost_linear_cpu(void)
{
    size_t n = env_count("HUB_TEST_ENGINE_FILES", 20000);
    ASSERT_OK(hub_global_init());
    hub_http_config hc = {0};
    hub_http *http = NULL;
    ASSERT_OK(hub__http_new(&http, &hc));
    hub__progress progress;
    scale_events ev = {0};
    hub__progress_init(&progress, count_events, &ev);
    ASSERT_OK(hub__progress_plan(&progress, n));
    hub__fetch *items = hub__calloc(n, sizeof(*items));
    ASSERT(items != NULL);
    for (size_t i = 0; i < n; i++) {
        hub__fetch *f = &items[i];
        f->path = "empty.bin";
        f->nurls = 1;
        f->urls = hub__calloc(1, sizeof(*f->urls));
        ASSERT(f->urls != NULL);
        /* never asked: an empty file needs no request */
        f->urls[0] = hub__strdup("http://127.0.0.1:9/empty.bin");
        ASSERT(f->urls[0] != NULL);
        f->size = 0;
        memcpy(f->etag, EMPTY_SHA256, sizeof(f->etag));
        f->digest = HUB_DIGEST_SHA256;
        f->index = i;
        hub__progress_set_file(&progress, i, f->path, 0);
    }
    hub__repo repo = {HUB_REPO_MODEL, "hubfetch/scale", "http://127.0.0.1:9"};
    hub__engine_config cfg = {0};
    cfg.http = http;
    cfg.backend = &hub__backend_hf;
    cfg.repo = &repo;
    cfg.revision = "main";
    cfg.progress = &progress;
    cfg.max_files = 1; /* a turn or more per file */
    cfg.connections = 16;
    cfg.max_connections = 16;
    cfg.split_threshold = 16u * 1024 * 1024;
    cfg.max_retries = 3;
    cfg.retry_base_ms = 100;
    cfg.lock_timeout_ms = -1;
    hub__storage_ops ops = {scale_prepare, scale_commit, NULL};
    scale_ctx ctx = {test_tmpdir(), 0};

    double cpu0 = user_cpu_s();
    ASSERT_OK(hub__engine_run(&cfg, items, n, &ops, &ctx));
    double cpu = user_cpu_s() - cpu0;

    ASSERT_EQ_INT(ctx.committed, n);
    ASSERT_EQ_INT(ev.done, n);
    ASSERT_EQ_INT(progress.files_done, n);
    for (size_t i = 0; i < n; i++) {
        ASSERT_EQ_INT(items[i].result, HUB_OK);
        hub__fetch_clear(&items[i]);
    }
    hub__free(items);
    hub__progress_free(&progress);
    hub__http_free(http);
    hub_global_cleanup();
    /* generous: a loaded machine, sanitizers; the old engine took ~40 s */
    if (cpu > 4.0)
        test_fail(__FILE__, __LINE__,
                  "%zu files took %.2f s of user CPU in the engine (limit "
                  "4 s): the per-file cost grows with the number of files",
                  n, cpu);
}

typedef struct busy_ctx {
    const char *dir;
    unsigned busy[64]; /* lock refusals left, per item */
    size_t committed;
    size_t order[64]; /* commit order */
} busy_ctx;

static int busy_prepare(hub__fetch *f, void *ctx)
{
    busy_ctx *b = ctx;
    if (b->busy[f->index]) {
        b->busy[f->index]--;
        return HUB__LOCK_BUSY;
    }
    f->root = b->dir;
    f->temp_base = hub__aprintf("%s/b%zu", b->dir, f->index);
    return f->temp_base ? HUB_OK : HUB_ENOMEM;
}

static int busy_commit(hub__fetch *f, void *ctx)
{
    busy_ctx *b = ctx;
    unlink(f->temp_path);
    b->order[b->committed++] = f->index;
    return HUB_OK;
}

/*
 * Files waiting for a lock leave the running list for the waiters' heap
 * and come back to their place in it; several wait at once, with
 * different wake times, while others start and finish around them.
 */
static void test_lock_waiters_come_back(void)
{
    enum { N = 64 };
    ASSERT_OK(hub_global_init());
    hub_http_config hc = {0};
    hub_http *http = NULL;
    ASSERT_OK(hub__http_new(&http, &hc));
    hub__progress progress;
    hub__progress_init(&progress, NULL, NULL);
    ASSERT_OK(hub__progress_plan(&progress, N));
    hub__fetch items[N];
    memset(items, 0, sizeof(items));
    busy_ctx b = {test_tmpdir(), {0}, 0, {0}};
    for (size_t i = 0; i < N; i++) {
        hub__fetch *f = &items[i];
        f->path = "empty.bin";
        f->nurls = 1;
        f->urls = hub__calloc(1, sizeof(*f->urls));
        ASSERT(f->urls != NULL);
        f->urls[0] = hub__strdup("http://127.0.0.1:9/empty.bin");
        ASSERT(f->urls[0] != NULL);
        memcpy(f->etag, EMPTY_SHA256, sizeof(f->etag));
        f->digest = HUB_DIGEST_SHA256;
        f->index = i;
        b.busy[i] = (unsigned)(i * 7 % 4); /* 0..3 refusals */
        hub__progress_set_file(&progress, i, f->path, 0);
    }
    hub__repo repo = {HUB_REPO_MODEL, "hubfetch/scale", "http://127.0.0.1:9"};
    hub__engine_config cfg = {0};
    cfg.http = http;
    cfg.backend = &hub__backend_hf;
    cfg.repo = &repo;
    cfg.revision = "main";
    cfg.progress = &progress;
    cfg.max_files = 8;
    cfg.connections = 16;
    cfg.max_connections = 16;
    cfg.split_threshold = 16u * 1024 * 1024;
    cfg.max_retries = 3;
    cfg.retry_base_ms = 100;
    cfg.lock_timeout_ms = -1;
    hub__storage_ops ops = {busy_prepare, busy_commit, NULL};
    ASSERT_OK(hub__engine_run(&cfg, items, N, &ops, &b));
    ASSERT_EQ_INT(b.committed, N);
    ASSERT_EQ_INT(progress.files_done, N);
    bool seen[N] = {false};
    for (size_t i = 0; i < N; i++) {
        ASSERT_EQ_INT(items[i].result, HUB_OK);
        ASSERT(!seen[b.order[i]]);
        seen[b.order[i]] = true;
        hub__fetch_clear(&items[i]);
    }
    for (size_t i = 0; i < N; i++)
        ASSERT_EQ_INT(b.busy[i], 0); /* every refusal was waited out */
    hub__progress_free(&progress);
    hub__http_free(http);
    hub_global_cleanup();
}

/*
 * A byte-count event goes to the downloading file that waited longest;
 * finding it walked every file of the plan on each event. 500,000 files
 * in the plan, 40,000 events: 2·10^10 steps (~5 s) before, a few now. The
 * choice itself is unchanged (checked on the way).
 */
static void test_progress_picks_oldest_in_constant_time(void)
{
    size_t n = env_count("HUB_TEST_PROGRESS_FILES", 500000);
    size_t events = 40000;
    hub__progress p;
    scale_events ev = {0};
    hub__progress_init(&p, count_events, &ev);
    ASSERT_OK(hub__progress_plan(&p, n));
    for (size_t i = 0; i < n; i++)
        hub__progress_set_file(&p, i, "f", 100);
    /* the last three files are downloading, 0 first */
    size_t a = n - 3, b = n - 2, c = n - 1;
    hub__progress_file(&p, a, HUB_PHASE_DOWNLOAD, 0, 0, NULL);
    hub__progress_file(&p, b, HUB_PHASE_DOWNLOAD, 0, 0, NULL);
    hub__progress_file(&p, c, HUB_PHASE_DOWNLOAD, 0, 0, NULL);
    p.emitted_ms[a] = 1000;
    p.emitted_ms[b] = 2000;
    p.emitted_ms[c] = 3000;
    /* quiet for one interval: b has not waited longest, a has */
    int64_t now = hub__now_ms();
    p.last_emit_ms = now - 150;
    hub__progress_file(&p, b, HUB_PHASE_DOWNLOAD, 1, 1, NULL);
    ASSERT_EQ_INT(p.emitted_ms[b], 2000);
    hub__progress_file(&p, a, HUB_PHASE_DOWNLOAD, 1, 1, NULL);
    ASSERT(p.emitted_ms[a] >= now);
    /* b is the oldest now; a finishing leaves b and c */
    hub__progress_file(&p, a, HUB_PHASE_DONE, 100, 99, NULL);
    p.last_emit_ms = hub__now_ms() - 150;
    hub__progress_file(&p, c, HUB_PHASE_DOWNLOAD, 2, 2, NULL);
    ASSERT_EQ_INT(p.emitted_ms[c], 3000);
    hub__progress_file(&p, b, HUB_PHASE_DOWNLOAD, 2, 2, NULL);
    ASSERT(p.emitted_ms[b] >= now);
    /* quiet for two intervals: anyone goes */
    p.last_emit_ms = hub__now_ms() - 250;
    hub__progress_file(&p, b, HUB_PHASE_DOWNLOAD, 3, 1, NULL);
    ASSERT(p.last_emit_ms >= now);

    double cpu0 = user_cpu_s();
    for (size_t i = 0; i < events; i++) {
        p.last_emit_ms = hub__now_ms() - 150; /* every event may emit */
        hub__progress_file(&p, i % 2 ? b : c, HUB_PHASE_DOWNLOAD, 3, 0, NULL);
    }
    double cpu = user_cpu_s() - cpu0;
    ASSERT_EQ_INT(ev.done, 1);
    hub__progress_free(&p);
    if (cpu > 0.25)
        test_fail(__FILE__, __LINE__,
                  "%zu progress events over %zu files took %.2f s of user "
                  "CPU (limit 0.25 s)",
                  events, n, cpu);
}

static const test_case engine_tests[] = {
    {"many_files_cost_linear_cpu", test_many_files_cost_linear_cpu},
    {"lock_waiters_come_back", test_lock_waiters_come_back},
    {"progress_picks_oldest_in_constant_time",
     test_progress_picks_oldest_in_constant_time},
};

const test_case *engine_suite(size_t *count)
{
    *count = sizeof(engine_tests) / sizeof(engine_tests[0]);
    return engine_tests;
}
