/* SPDX-License-Identifier: MIT */
/*
 * lookup_bench.c: micro-benchmark of hub_cache_lookup(), the cache-only
 * "is it here?" call, over a cache populated beforehand by a real download.
 *
 *   lookup_bench --cache-dir DIR --repo ID [--revision REV]
 *                [--files a,b,c] [--iterations N] [--max-seconds S]
 *                [--warmup N]
 *
 * Two measurements, both on one client created once (as a long-lived
 * program would):
 *
 *   snapshot  the whole snapshot of REV (default main), no file list, no
 *             patterns: like huggingface_hub's
 *             snapshot_download(repo, local_files_only=True)
 *   files     the files of --files (e.g. the 5 files a library checks
 *             before loading a model): like a loop of
 *             hf_hub_download(..., local_files_only=True)
 *
 * Each call is timed on its own (CLOCK_MONOTONIC). A measurement stops
 * after N timed calls or S seconds, whichever comes first (at least 100
 * calls). Every call must return HUB_OK with every file CACHED, else the
 * program fails (exit 1): a lookup that "wins" by failing is no result.
 *
 * Output: one JSON object per measurement on stdout, one line each:
 *   {"name":"snapshot","calls":N,"files":F,"median_us":..,"p99_us":..,
 *    "mean_us":..,"min_us":..,"max_us":..}
 *
 * Build (see bench/README.md): make -C bench lookup_bench
 */
#define _POSIX_C_SOURCE 200809L

#include <hubfetch.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double percentile(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0.0;
    double rank = p / 100.0 * (double)n;
    size_t idx = (size_t)rank;
    if ((double)idx < rank)
        idx++;
    if (idx == 0)
        idx = 1;
    if (idx > n)
        idx = n;
    return v[idx - 1];
}

static double median(const double *v, size_t n)
{
    if (n == 0)
        return 0.0;
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* One lookup; checks that everything is CACHED. Returns the file count or
 * -1 on failure (message on stderr). */
static long one_lookup(hub_client *client,
                       const char *repo,
                       const hub_download_options *opts)
{
    hub_result *r = NULL;
    int rc = hub_cache_lookup(&r, client, repo, opts);
    if (rc != HUB_OK) {
        fprintf(stderr, "lookup_bench: hub_cache_lookup(%s): %s: %s\n", repo,
                hub_error_name(rc), hub_error_last()->message);
        hub_result_free(r);
        return -1;
    }
    size_t n = hub_result_file_count(r);
    for (size_t i = 0; i < n; i++) {
        const hub_file_info *f = hub_result_file(r, i);
        if (!f || f->status != HUB_FILE_CACHED || !f->local_path) {
            fprintf(stderr, "lookup_bench: %s: file %s reported missing\n",
                    repo, f && f->path ? f->path : "?");
            hub_result_free(r);
            return -1;
        }
    }
    hub_result_free(r);
    return (long)n;
}

static int measure(const char *name,
                   hub_client *client,
                   const char *repo,
                   const hub_download_options *opts,
                   size_t iterations,
                   double max_seconds,
                   size_t warmup)
{
    long files = 0;
    for (size_t i = 0; i < warmup; i++)
        if ((files = one_lookup(client, repo, opts)) < 0)
            return -1;
    double *t = malloc(iterations * sizeof(double));
    if (!t) {
        fprintf(stderr, "lookup_bench: out of memory\n");
        return -1;
    }
    size_t n = 0;
    double start = now_us(), limit = max_seconds * 1e6;
    while (n < iterations) {
        double t0 = now_us();
        files = one_lookup(client, repo, opts);
        double t1 = now_us();
        if (files < 0) {
            free(t);
            return -1;
        }
        t[n++] = t1 - t0;
        if (n >= 100 && t1 - start > limit)
            break;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += t[i];
    qsort(t, n, sizeof(double), cmp_double);
    printf("{\"name\":\"%s\",\"calls\":%zu,\"files\":%ld,\"median_us\":%.3f,"
           "\"p99_us\":%.3f,\"mean_us\":%.3f,\"min_us\":%.3f,"
           "\"max_us\":%.3f}\n",
           name, n, files, median(t, n), percentile(t, n, 99.0),
           sum / (double)n, t[0], t[n - 1]);
    fflush(stdout);
    free(t);
    return 0;
}

static void usage(void)
{
    fputs("usage: lookup_bench --cache-dir DIR --repo ID [--revision REV]\n"
          "                    [--files a,b,c] [--iterations N]\n"
          "                    [--max-seconds S] [--warmup N]\n",
          stderr);
}

static int parse_size(const char *s, size_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || !end || *end || end == s || v == 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    const char *cache_dir = NULL, *repo = NULL, *revision = "main";
    char *files_arg = NULL;
    size_t iterations = 20000, warmup = 50;
    double max_seconds = 3.0;
    /* every option takes a value: step over pairs */
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            usage();
            return 2;
        }
        if (strcmp(a, "--cache-dir") == 0)
            cache_dir = v;
        else if (strcmp(a, "--repo") == 0)
            repo = v;
        else if (strcmp(a, "--revision") == 0)
            revision = v;
        else if (strcmp(a, "--files") == 0)
            files_arg = strdup(v);
        else if (strcmp(a, "--iterations") == 0) {
            if (parse_size(v, &iterations) != 0) {
                usage();
                return 2;
            }
        } else if (strcmp(a, "--warmup") == 0) {
            if (parse_size(v, &warmup) != 0) {
                usage();
                return 2;
            }
        } else if (strcmp(a, "--max-seconds") == 0) {
            char *end = NULL;
            max_seconds = strtod(v, &end);
            if (!end || *end || max_seconds <= 0) {
                usage();
                return 2;
            }
        } else {
            usage();
            return 2;
        }
    }
    if (!cache_dir || !repo) {
        usage();
        return 2;
    }

    /* --files a,b,c -> array (split in place) */
    const char *files[64];
    size_t nfiles = 0;
    if (files_arg) {
        char *p = files_arg;
        while (p && *p && nfiles < 64) {
            files[nfiles++] = p;
            char *comma = strchr(p, ',');
            if (comma) {
                *comma = '\0';
                p = comma + 1;
            } else {
                p = NULL;
            }
        }
    }

    if (hub_global_init() != HUB_OK) {
        fprintf(stderr, "lookup_bench: hub_global_init failed\n");
        return 1;
    }
    hub_client_options copts = HUB_CLIENT_OPTIONS_INIT;
    copts.flags = HUB_CLIENT_IGNORE_ENV; /* nothing but what we say */
    copts.cache_dir = cache_dir;
    copts.offline = 1;
    copts.token = "";
    hub_client *client = NULL;
    if (hub_client_new(&client, &copts) != HUB_OK) {
        fprintf(stderr, "lookup_bench: hub_client_new: %s\n",
                hub_error_last()->message);
        hub_global_cleanup();
        return 1;
    }

    int rc = 0;
    hub_download_options snap = HUB_DOWNLOAD_OPTIONS_INIT;
    snap.revision = revision;
    snap.local_files_only = 1;
    if (measure("snapshot", client, repo, &snap, iterations, max_seconds,
                warmup) != 0)
        rc = 1;

    if (rc == 0 && nfiles > 0) {
        hub_download_options req = HUB_DOWNLOAD_OPTIONS_INIT;
        req.revision = revision;
        req.local_files_only = 1;
        req.files = files;
        req.file_count = nfiles;
        if (measure("files", client, repo, &req, iterations, max_seconds,
                    warmup) != 0)
            rc = 1;
    }

    hub_client_free(client);
    hub_global_cleanup();
    free(files_arg);
    return rc;
}
