/* SPDX-License-Identifier: MIT */
/*
 * progress.c: download a repository with libhubfetch, printing one line per
 * progress event on stderr and the snapshot folder on stdout. Ctrl-C
 * cancels cleanly: what was downloaded is kept, and running the same
 * command again resumes.
 *
 *   cc -Iinclude examples/progress.c -Lbuild -lhubfetch -Wl,-rpath,build
 *   ./a.out openai-community/gpt2 '*.json' '*.safetensors'
 *
 * Arguments: REPO [ALLOW_PATTERN...]. Everything else comes from the
 * environment, as huggingface_hub reads it: HF_ENDPOINT, HF_TOKEN,
 * HF_HUB_CACHE, HF_HUB_OFFLINE, HTTPS_PROXY... Exit status: 0 done, 1
 * failed, 2 usage, 130 interrupted.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction */

#include <hubfetch.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Set by the signal handler, read by the progress callback: the library
 * cancels when the callback returns nonzero. Nothing else is async-signal
 * safe to do from the handler. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int signo)
{
    (void)signo;
    interrupted = 1;
}

static const char *phase_name(hub_phase phase)
{
    static const char *const names[] = {"resolve", "download", "verify",
                                        "done",    "cached",   "failed"};
    return (unsigned)phase < sizeof(names) / sizeof(names[0]) ? names[phase]
                                                              : "?";
}

/* "12.3 MiB", or "?" for the library's "unknown" (UINT64_MAX) */
static const char *human(char *buf, size_t size, uint64_t bytes)
{
    if (bytes == UINT64_MAX)
        snprintf(buf, size, "?");
    else if (bytes < 1024)
        snprintf(buf, size, "%u B", (unsigned)bytes);
    else
        snprintf(buf, size, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
    return buf;
}

static int on_progress(const hub_progress *p, void *payload)
{
    (void)payload;
    char done[32], total[32], rate[32];
    fprintf(stderr, "%-8s %zu/%zu files  %s / %s  %s/s  %s%s\n",
            phase_name(p->phase), p->files_done, p->file_count,
            human(done, sizeof(done), p->bytes_done),
            human(total, sizeof(total), p->bytes_total),
            human(rate, sizeof(rate), (uint64_t)p->rate),
            p->file ? p->file : "(all files)", p->final ? "  [final]" : "");
    /* Checked here, not in the handler: the callback runs about ten times
     * a second while bytes flow, so Ctrl-C takes effect within ~100 ms. */
    return interrupted;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s REPO [ALLOW_PATTERN...]\n", argv[0]);
        return 2;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);

    if (hub_global_init() != HUB_OK) {
        fprintf(stderr, "error: cannot initialise libhubfetch\n");
        return 1;
    }
    hub_client *client = NULL;
    int rc = hub_client_new(&client, NULL); /* settings from the environment */
    if (rc == HUB_OK) {
        hub_download_options opts = HUB_DOWNLOAD_OPTIONS_INIT;
        opts.allow_patterns = (const char *const *)(argv + 2);
        opts.allow_count = (size_t)(argc - 2);
        opts.progress_cb = on_progress;

        char *path = NULL;
        rc = hub_snapshot_download(&path, client, argv[1], &opts);
        if (rc == HUB_OK) {
            printf("%s\n", path);
            hub_free(path);
        }
    }
    if (rc != HUB_OK) /* before any other call: the record is per call */
        fprintf(stderr, "error: %s [%s]\n", hub_error_last()->message,
                hub_error_name(rc));
    if (rc == HUB_ECANCELLED && interrupted)
        fprintf(stderr, "interrupted: run the same command to resume\n");

    hub_client_free(client);
    hub_global_cleanup();
    if (rc == HUB_OK)
        return 0;
    return rc == HUB_ECANCELLED && interrupted ? 130 : 1;
}
