/* SPDX-License-Identifier: MIT */
/* common.h: internal prelude shared by every module of the library. */
#ifndef HUB_COMMON_H
#define HUB_COMMON_H

#include <hubfetch.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HUB_PRINTF(fmt_idx, args_idx)                                          \
    __attribute__((format(printf, fmt_idx, args_idx)))
#define HUB_UNUSED(x) ((void)(x))
#define HUB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Argument checks: a misused library reports "invalid argument" instead of
 * crashing (libgit2's assert_safe idea); debug builds also assert.
 */
#ifndef NDEBUG
#include <assert.h>
#define HUB_ASSERT(expr) assert(expr)
#else
#define HUB_ASSERT(expr) ((void)0)
#endif

#define HUB_ASSERT_ARG(expr)                                                   \
    do {                                                                       \
        if (!(expr))                                                           \
            return hub__error_set(HUB_EINVAL, "invalid argument: %s", #expr);  \
    } while (0)

/*
 * Returned (positive) by the header parsers that take a prefix of a file
 * (safetensors.h, gguf.h): the bytes given end before the header does;
 * call again with at least `*need` bytes from the start of the file.
 */
#define HUB__NEED_MORE 1

#include "error.h"

#endif
