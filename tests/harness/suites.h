/* SPDX-License-Identifier: MIT */
/* suites.h: the suites linked into hub_tests. */
#ifndef HUB_TEST_SUITES_H
#define HUB_TEST_SUITES_H

#include "test.h"

const test_case *unit_suite(size_t *count);
const test_case *api_suite(size_t *count);
const test_case *engine_suite(size_t *count);
const test_case *weights_suite(size_t *count);

#endif
