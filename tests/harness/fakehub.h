/* SPDX-License-Identifier: MIT */
/* fakehub.h: start tests/fakehub/fakehub.py for a C test. */
#ifndef HUB_TEST_FAKEHUB_H
#define HUB_TEST_FAKEHUB_H

#include <stddef.h>
#include <sys/types.h>

typedef struct fakehub {
    pid_t pid;
    int stdin_fd;
    int hub_port;
    int cdn_port;
    char url[64];
    char log_path[1024];
} fakehub;

/* Start the fake (skips the test if python3 or the sources are missing).
 * `extra` is NULL or one extra argument string (e.g. "--page-size=10"). */
void fakehub_start(fakehub *fh, const char *extra);
void fakehub_stop(fakehub *fh);
/* POST a JSON body to /_control; aborts the test on failure. */
void fakehub_control(fakehub *fh, const char *json);
/* Number of logged requests whose JSON line contains all of `needles`
 * (NULL-terminated). */
size_t fakehub_count(fakehub *fh, ...);
/* Sum of the "bytes" field of those requests. */
unsigned long long fakehub_bytes(fakehub *fh, ...);

#endif
