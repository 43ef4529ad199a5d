/* SPDX-License-Identifier: MIT */
/* runner.c: runs each test of a suite in a child process with a timeout
 * and a fresh temporary directory. */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern const test_case *test_suite(const char *name, size_t *count);

static char tmpdir[512];

const char *test_tmpdir(void)
{
    return tmpdir;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    _exit(1);
}

void test_skip(const char *why)
{
    fprintf(stderr, "skipped: %s\n", why);
    fflush(stderr);
    _exit(TEST_SKIP_CODE);
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char child[4096];
            snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
            struct stat st;
            if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(child);
            else
                unlink(child);
        }
        closedir(d);
    }
    rmdir(path);
}

static int run_one(const test_case *t, int timeout_s)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof(tmpdir), "%s/hubtest.XXXXXX", base);
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        alarm((unsigned)timeout_s);
        t->fn();
        fflush(NULL);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    remove_tree(tmpdir);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        fprintf(stderr, "%s: timed out after %d s\n", t->name, timeout_s);
    else if (WIFSIGNALED(status))
        fprintf(stderr, "%s: killed by signal %d\n", t->name, WTERMSIG(status));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SUITE [TEST...]\n", argv[0]);
        return 2;
    }
    size_t count = 0;
    const test_case *tests = test_suite(argv[1], &count);
    if (!tests) {
        fprintf(stderr, "unknown suite '%s'\n", argv[1]);
        return 2;
    }
    int timeout = 60;
    const char *mult = getenv("HUB_TEST_TIMEOUT_MULTIPLIER");
    long factor = mult ? strtol(mult, NULL, 10) : 1;
    if (factor > 0)
        timeout *= (int)factor;
    int passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < count; i++) {
        bool selected = argc == 2;
        for (int a = 2; a < argc; a++)
            selected |= strstr(tests[i].name, argv[a]) != NULL;
        if (!selected)
            continue;
        int rc = run_one(&tests[i], timeout);
        if (rc == 0) {
            passed++;
        } else if (rc == TEST_SKIP_CODE) {
            skipped++;
            fprintf(stderr, "SKIP %s\n", tests[i].name);
        } else {
            failed++;
            fprintf(stderr, "FAIL %s\n", tests[i].name);
        }
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    if (failed)
        return 1;
    return passed == 0 && skipped ? TEST_SKIP_CODE : 0;
}
