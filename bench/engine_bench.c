/* SPDX-License-Identifier: MIT */
/* engine_bench.c: the transfer engine's CPU and wall time for a download of
 * N small files (audit F15), without the hub, the plan or the cache layout:
 * every item is fetched from one URL (or is empty: no request at all), its
 * temp file verified, flushed and dropped. Run by bench/scale. */
#include "../src/alloc.h"
#include "../src/engine.h"
#include "../src/http.h"
#include "../src/hub_hf.h"
#include "../src/progress.h"

#include <hubfetch.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct bench_ctx {
    const char *dir;
    size_t committed;
    size_t events;
} bench_ctx;

static int bench_prepare(hub__fetch *f, void *ctx)
{
    bench_ctx *b = ctx;
    f->root = b->dir;
    f->temp_base = hub__aprintf("%s/t%zu", b->dir, f->index);
    return f->temp_base ? HUB_OK : HUB_ENOMEM;
}

static int bench_commit(hub__fetch *f, void *ctx)
{
    bench_ctx *b = ctx;
    unlink(f->temp_path);
    b->committed++;
    return HUB_OK;
}

static int count_event(const hub_progress *p, void *payload)
{
    bench_ctx *b = payload;
    (void)p;
    b->events++;
    return 0;
}

static double secs(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void usage(void)
{
    fprintf(stderr, "usage: engine_bench --files N --dir DIR [--max-files M] "
                    "[--url URL --size BYTES --sha256 HEX]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    size_t n = 0;
    int max_files = 8;
    const char *dir = NULL, *url = NULL, *sha = NULL;
    uint64_t size = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--files") == 0)
            n = (size_t)strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--max-files") == 0)
            max_files = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
        else if (strcmp(argv[i], "--url") == 0)
            url = argv[i + 1];
        else if (strcmp(argv[i], "--size") == 0)
            size = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--sha256") == 0)
            sha = argv[i + 1];
        else
            usage();
    }
    if (!n || !dir || max_files < 1 || (url && (!sha || strlen(sha) != 64)))
        usage();
    if (!url)
        sha =
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    if (hub_global_init() != HUB_OK)
        return 1;
    hub_http_config hc = {0};
    hub_http *http = NULL;
    bench_ctx b = {dir, 0, 0};
    hub__progress progress;
    hub__progress_init(&progress, count_event, &b);
    hub__fetch *items = hub__calloc(n, sizeof(*items));
    if (hub__http_new(&http, &hc) < 0 || !items ||
        hub__progress_plan(&progress, n) < 0) {
        fprintf(stderr, "engine_bench: setup: %s\n", hub_error_last()->message);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        hub__fetch *f = &items[i];
        f->path = "file.bin";
        f->nurls = 1;
        f->urls = hub__calloc(1, sizeof(*f->urls));
        if (!f->urls ||
            !(f->urls[0] = hub__strdup(url ? url : "http://127.0.0.1:9/")))
            return 1;
        f->size = url ? size : 0;
        memcpy(f->etag, sha, 64);
        f->digest = HUB_DIGEST_SHA256;
        f->index = i;
        hub__progress_set_file(&progress, i, f->path, f->size);
    }
    hub__repo repo = {HUB_REPO_MODEL, "bench/scale", "http://127.0.0.1:9"};
    /* hubfetch's defaults (client.c) */
    hub__engine_config cfg = {0};
    cfg.http = http;
    cfg.backend = &hub__backend_hf;
    cfg.repo = &repo;
    cfg.revision = "main";
    cfg.progress = &progress;
    cfg.max_files = max_files;
    cfg.connections = 16;
    cfg.max_connections = 16;
    cfg.split_threshold = 16u * 1024 * 1024;
    cfg.max_retries = 5;
    cfg.retry_base_ms = 1000;
    cfg.lock_timeout_ms = -1;
    hub__storage_ops ops = {bench_prepare, bench_commit, NULL};

    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    int64_t t0 = hub__now_ms();
    int error = hub__engine_run(&cfg, items, n, &ops, &b);
    int64_t t1 = hub__now_ms();
    getrusage(RUSAGE_SELF, &r1);
    if (error < 0)
        fprintf(stderr, "engine_bench: %s\n", hub_error_last()->message);
    printf("{\"files\": %zu, \"max_files\": %d, \"bytes_per_file\": %llu, "
           "\"ok\": %s, \"committed\": %zu, \"events\": %zu, "
           "\"user_s\": %.3f, \"sys_s\": %.3f, \"wall_s\": %.3f}\n",
           n, max_files, (unsigned long long)(url ? size : 0),
           error == HUB_OK ? "true" : "false", b.committed, b.events,
           secs(r1.ru_utime) - secs(r0.ru_utime),
           secs(r1.ru_stime) - secs(r0.ru_stime), (double)(t1 - t0) / 1000.0);
    for (size_t i = 0; i < n; i++)
        hub__fetch_clear(&items[i]);
    hub__free(items);
    hub__progress_free(&progress);
    hub__http_free(http);
    hub_global_cleanup();
    return error == HUB_OK ? 0 : 1;
}
