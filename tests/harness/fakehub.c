/* SPDX-License-Identifier: MIT */
/* fakehub.c: start tests/fakehub/fakehub.py for a C test. */
#include "fakehub.h"

#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

void fakehub_start(fakehub *fh, const char *extra)
{
    const char *src = getenv("HUB_SOURCE_DIR");
    if (!src)
        test_skip("HUB_SOURCE_DIR is not set");
    char script[1024], fixtures[1024];
    snprintf(script, sizeof(script), "%s/tests/fakehub/fakehub.py", src);
    snprintf(fixtures, sizeof(fixtures), "%s/tests/fixtures/hub", src);
    snprintf(fh->log_path, sizeof(fh->log_path), "%s/fakehub.log",
             test_tmpdir());
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0)
        test_fail(__FILE__, __LINE__, "pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    char *argv[] = {
        (char *)"python3", script,       (char *)"--fixtures", fixtures,
        (char *)"--log",   fh->log_path, (char *)extra,        NULL};
    if (posix_spawnp(&fh->pid, "python3", &fa, NULL, argv, environ) != 0)
        test_skip("python3 not found");
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    fh->stdin_fd = in[1];
    char line[128];
    size_t n = 0;
    while (n + 1 < sizeof(line)) {
        ssize_t r = read(out[0], line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    close(out[0]);
    if (sscanf(line, "READY %d %d", &fh->hub_port, &fh->cdn_port) != 2)
        test_fail(__FILE__, __LINE__, "fake hub did not start: '%s'", line);
    snprintf(fh->url, sizeof(fh->url), "http://127.0.0.1:%d", fh->hub_port);
}

void fakehub_stop(fakehub *fh)
{
    if (fh->pid <= 0)
        return;
    close(fh->stdin_fd);
    kill(fh->pid, SIGTERM);
    /* a fake that does not go within 10 s is killed: a test must never
     * hang on its own helper */
    bool gone = false;
    for (int i = 0; i < 1000 && !gone; i++) {
        gone = waitpid(fh->pid, NULL, WNOHANG) != 0;
        if (!gone)
            usleep(10 * 1000);
    }
    if (!gone) {
        kill(fh->pid, SIGKILL);
        waitpid(fh->pid, NULL, 0);
    }
    fh->pid = 0;
}

/* One request to the control endpoint; the response text into `resp`. */
static void control(fakehub *fh,
                    const char *method,
                    const char *json,
                    char *resp,
                    size_t resp_len)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)fh->hub_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0)
        test_fail(__FILE__, __LINE__, "cannot reach the fake hub");
    char req[8192];
    int len = snprintf(req, sizeof(req),
                       "%s /_control HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Content-Type: application/json\r\n"
                       "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                       method, strlen(json), json);
    if (write(s, req, (size_t)len) != len)
        test_fail(__FILE__, __LINE__, "cannot write to the fake hub");
    size_t n = 0;
    ssize_t r;
    while (n + 1 < resp_len && (r = read(s, resp + n, resp_len - 1 - n)) > 0)
        n += (size_t)r;
    resp[n] = '\0';
    close(s);
    if (!strstr(resp, " 200 "))
        test_fail(__FILE__, __LINE__, "control request refused: %s", resp);
}

void fakehub_control(fakehub *fh, const char *json)
{
    char resp[16384];
    control(fh, "POST", json, resp, sizeof(resp));
}

/* Wait until the fake has logged every request it is serving. */
static void settle(fakehub *fh)
{
    char resp[65536];
    for (int i = 0; i < 500; i++) {
        control(fh, "GET", "", resp, sizeof(resp));
        if (strstr(resp, "\"in_flight\": 0"))
            return;
        usleep(10 * 1000);
    }
}

/* Walk the log: count the lines holding every needle, and sum their
 * "bytes" fields. */
static void
scan(fakehub *fh, va_list needles_in, size_t *count, unsigned long long *bytes)
{
    settle(fh);
    *count = 0;
    *bytes = 0;
    FILE *fp = fopen(fh->log_path, "r");
    if (!fp)
        return;
    char line[8192];
    while (fgets(line, sizeof(line), fp)) {
        va_list ap;
        va_copy(ap, needles_in);
        bool all = true;
        const char *needle;
        while ((needle = va_arg(ap, const char *)) != NULL)
            all &= strstr(line, needle) != NULL;
        va_end(ap);
        if (!all)
            continue;
        (*count)++;
        const char *b = strstr(line, "\"bytes\": ");
        if (b)
            *bytes += strtoull(b + 9, NULL, 10);
    }
    fclose(fp);
}

size_t fakehub_count(fakehub *fh, ...)
{
    va_list ap;
    va_start(ap, fh);
    size_t count;
    unsigned long long bytes;
    scan(fh, ap, &count, &bytes);
    va_end(ap);
    return count;
}

unsigned long long fakehub_bytes(fakehub *fh, ...)
{
    va_list ap;
    va_start(ap, fh);
    size_t count;
    unsigned long long bytes;
    scan(fh, ap, &count, &bytes);
    va_end(ap);
    return bytes;
}
