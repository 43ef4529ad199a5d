/* SPDX-License-Identifier: MIT */
/* pattern.h: huggingface_hub's allow/ignore patterns (fnmatchcase). */
#ifndef HUB_PATTERN_H
#define HUB_PATTERN_H

#include "common.h"

/*
 * Python's fnmatch.fnmatchcase(name, pattern) exactly: '*' matches any run
 * of characters including '/', '?' one character (a code point, not a
 * byte), "[seq]" / "[!seq]" with ranges as Python 3.11 translates them, no
 * escaping, whole-string, case-sensitive.
 */
bool hub__fnmatch(const char *pattern, const char *name);

/*
 * huggingface_hub's filter_repo_objects() for one path: '\' becomes '/' in
 * patterns and path, a pattern ending in '/' gets a '*'; kept iff it
 * matches any allow pattern (or there are none) and no ignore pattern.
 */
bool hub__patterns_select(const char *const *allow,
                          size_t allow_count,
                          const char *const *ignore,
                          size_t ignore_count,
                          const char *path);

#endif
