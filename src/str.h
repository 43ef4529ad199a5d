/* SPDX-License-Identifier: MIT */
/* str.h: small string helpers and a vector of owned strings. */
#ifndef HUB_STR_H
#define HUB_STR_H

#include "common.h"

typedef struct hub_strvec {
    char **items;
    size_t count;
    size_t cap;
} hub_strvec;

#define HUB_STRVEC_INIT                                                        \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

int hub__strvec_push(hub_strvec *vec, const char *s);
/* takes ownership of `s` (freed on failure) */
int hub__strvec_push_owned(hub_strvec *vec, char *s);
int hub__strvec_copy(hub_strvec *out, const char *const *items, size_t count);
void hub__strvec_free(hub_strvec *vec);

bool hub__str_starts_with(const char *s, const char *prefix);
bool hub__str_ends_with(const char *s, const char *suffix);
/* ASCII case-insensitive equality */
bool hub__str_ieq(const char *a, const char *b);
bool hub__str_ieqn(const char *a, const char *b, size_t n);
/* all `len` chars lowercase hex */
bool hub__str_is_lower_hex(const char *s, size_t len);
/* exactly 40 lowercase hex chars: a commit as huggingface_hub means it */
bool hub__str_is_commit(const char *s);
/* exactly `len` lowercase hex digits (NULL: false) */
bool hub__str_is_hex_of(const char *s, size_t len);
/* The one rule for a blob's name in a Hugging Face cache (an etag): a git
 * sha1 or a sha256, lowercase hex. Anything else never becomes a file name. */
bool hub__str_is_etag(const char *s);
/* decimal to uint64 with full validation (no sign, no junk, no overflow) */
bool hub__str_to_u64(const char *s, size_t len, uint64_t *out);
/* huggingface_hub's truthy: "1", "ON", "YES", "TRUE" in any case */
bool hub__str_is_true(const char *s);
/* copy of s[0..len) without leading/trailing ASCII whitespace */
char *hub__str_trim_dup(const char *s, size_t len);

/* `n` random lowercase hex characters and a NUL into `out` (n + 1 bytes). */
void hub__random_hex(char *out, size_t n);
#endif
