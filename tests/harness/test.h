/* SPDX-License-Identifier: MIT */
/* test.h: the in-house test harness: typed assertions and a test table. */
#ifndef HUB_TEST_H
#define HUB_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*test_fn)(void);

typedef struct test_case {
    const char *name;
    test_fn fn;
} test_case;

/* Exit code for a skipped test (ctest SKIP_RETURN_CODE). */
#define TEST_SKIP_CODE 77

void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
void test_skip(const char *why) __attribute__((noreturn));
/* A fresh temporary directory for this test, removed after it. */
const char *test_tmpdir(void);

#define ASSERT(cond)                                                           \
    do {                                                                       \
        if (!(cond))                                                           \
            test_fail(__FILE__, __LINE__, "assertion failed: %s", #cond);      \
    } while (0)

#define ASSERT_EQ_INT(a, b)                                                    \
    do {                                                                       \
        long long va_ = (long long)(a), vb_ = (long long)(b);                  \
        if (va_ != vb_)                                                        \
            test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b,    \
                      va_, vb_);                                               \
    } while (0)

#define ASSERT_EQ_STR(a, b)                                                    \
    do {                                                                       \
        const char *sa_ = (a), *sb_ = (b);                                     \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                             \
            test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a,    \
                      #b, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");         \
    } while (0)

/* a call returning a hub code must succeed */
#define ASSERT_OK(call)                                                        \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ != 0)                                                          \
            test_fail(__FILE__, __LINE__, "%s failed: %d (%s)", #call, rc_,    \
                      hub_error_last()->message);                              \
    } while (0)

#endif
