/* SPDX-License-Identifier: MIT */
/* alloc.h: the only allocation entry points of the library. */
#ifndef HUB_ALLOC_H
#define HUB_ALLOC_H

#include "common.h"

/*
 * Wrappers around the C allocator. On failure they record "out of memory"
 * as the last error and return NULL, so callers only propagate HUB_ENOMEM.
 * Test builds can make the Nth allocation fail (hub__alloc_fail_after).
 */
void *hub__malloc(size_t size);
void *hub__calloc(size_t count, size_t size);
void *hub__realloc(void *ptr, size_t size);
/* realloc for arrays, with overflow check of count * size */
void *hub__reallocarray(void *ptr, size_t count, size_t size);
void hub__free(void *ptr);
char *hub__strdup(const char *s);
char *hub__strndup(const char *s, size_t n);
/*
 * Room for one more element in a growing array: when `n` == `*cap`, the
 * array `*(T **)arrayp` is doubled (from 8). false on OOM (message set;
 * the array is left as it was). Use HUB_GROW(array, n, cap).
 */
bool hub__grow(void *arrayp, size_t n, size_t *cap, size_t size);
#define HUB_GROW(array, n, cap)                                                \
    hub__grow(&(array), (n), &(cap), sizeof(*(array)))

/* printf into a fresh string */
char *hub__aprintf(const char *fmt, ...) HUB_PRINTF(1, 2);

/* Test hook: fail the allocation after `n` more succeed; -1 disables. */
void hub__alloc_fail_after(long n);

#endif
