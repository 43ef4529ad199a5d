/* SPDX-License-Identifier: MIT */
/* alloc.c: allocation wrappers with an out-of-memory injection hook. */
#include "alloc.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_countdown = -1;

void hub__alloc_fail_after(long n)
{
    atomic_store(&fail_countdown, n);
}

static bool should_fail(void)
{
    long n = atomic_load(&fail_countdown);
    while (n >= 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &n, n - 1))
            return n == 0;
    }
    return false;
}

void *hub__malloc(size_t size)
{
    void *p = should_fail() ? NULL : malloc(size ? size : 1);
    if (!p)
        hub__error_oom();
    return p;
}

void *hub__calloc(size_t count, size_t size)
{
    void *p = should_fail() ? NULL : calloc(count ? count : 1, size ? size : 1);
    if (!p)
        hub__error_oom();
    return p;
}

void *hub__realloc(void *ptr, size_t size)
{
    void *p = should_fail() ? NULL : realloc(ptr, size ? size : 1);
    if (!p)
        hub__error_oom();
    return p;
}

void *hub__reallocarray(void *ptr, size_t count, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        hub__error_oom();
        return NULL;
    }
    return hub__realloc(ptr, total);
}

void hub__free(void *ptr)
{
    free(ptr);
}

char *hub__strndup(const char *s, size_t n)
{
    char *p = hub__malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *hub__strdup(const char *s)
{
    return hub__strndup(s, strlen(s));
}

char *hub__aprintf(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = n >= 0 ? hub__malloc((size_t)n + 1) : NULL;
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

void hub_free(void *ptr)
{
    free(ptr);
}

bool hub__grow(void *arrayp, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 8;
    void *old;
    memcpy(&old, arrayp, sizeof(old)); /* any object pointer, as void * */
    void *v = hub__reallocarray(old, c, size);
    if (!v)
        return false;
    memcpy(arrayp, &v, sizeof(v));
    *cap = c;
    return true;
}
