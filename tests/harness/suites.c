/* SPDX-License-Identifier: MIT */
/* suites.c: name -> suite for the runner. */
#include "suites.h"

const test_case *test_suite(const char *name, size_t *count);

const test_case *test_suite(const char *name, size_t *count)
{
    if (strcmp(name, "unit") == 0)
        return unit_suite(count);
    if (strcmp(name, "api") == 0)
        return api_suite(count);
    if (strcmp(name, "engine") == 0)
        return engine_suite(count);
    if (strcmp(name, "weights") == 0)
        return weights_suite(count);
    return NULL;
}
