/* SPDX-License-Identifier: MIT */
/* str.c: small string helpers and a vector of owned strings. */
#include "str.h"

#include "alloc.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int hub__strvec_push_owned(hub_strvec *vec, char *s)
{
    if (!s)
        return HUB_ENOMEM;
    if (vec->count == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 8;
        char **items = hub__reallocarray(vec->items, cap, sizeof(*items));
        if (!items) {
            hub__free(s);
            return HUB_ENOMEM;
        }
        vec->items = items;
        vec->cap = cap;
    }
    vec->items[vec->count++] = s;
    return HUB_OK;
}

int hub__strvec_push(hub_strvec *vec, const char *s)
{
    char *copy = hub__strdup(s);
    return copy ? hub__strvec_push_owned(vec, copy) : HUB_ENOMEM;
}

int hub__strvec_copy(hub_strvec *out, const char *const *items, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (!items[i])
            return hub__error_set(HUB_EINVAL, "invalid argument: NULL in list");
        int error = hub__strvec_push(out, items[i]);
        if (error < 0)
            return error;
    }
    return HUB_OK;
}

void hub__strvec_free(hub_strvec *vec)
{
    for (size_t i = 0; i < vec->count; i++)
        hub__free(vec->items[i]);
    hub__free(vec->items);
    vec->items = NULL;
    vec->count = vec->cap = 0;
}

bool hub__str_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool hub__str_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool hub__str_ieqn(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
        if (!a[i])
            return true;
    }
    return true;
}

bool hub__str_ieq(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && hub__str_ieqn(a, b, n);
}

bool hub__str_is_lower_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

bool hub__str_is_commit(const char *s)
{
    return strlen(s) == 40 && hub__str_is_lower_hex(s, 40);
}

bool hub__str_is_hex_of(const char *s, size_t len)
{
    return s && strlen(s) == len && hub__str_is_lower_hex(s, len);
}

bool hub__str_is_etag(const char *s)
{
    return hub__str_is_hex_of(s, 40) || hub__str_is_hex_of(s, 64);
}

bool hub__str_to_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 20)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (__builtin_mul_overflow(v, 10u, &v) ||
            __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
            return false;
    }
    *out = v;
    return true;
}

bool hub__str_is_true(const char *s)
{
    return s && (hub__str_ieq(s, "1") || hub__str_ieq(s, "on") ||
                 hub__str_ieq(s, "yes") || hub__str_ieq(s, "true"));
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

char *hub__str_trim_dup(const char *s, size_t len)
{
    while (len && is_space(*s)) {
        s++;
        len--;
    }
    while (len && is_space(s[len - 1]))
        len--;
    return hub__strndup(s, len);
}

void hub__random_hex(char *out, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char bytes[64];
    size_t need = (n + 1) / 2;
    if (need > sizeof(bytes))
        need = sizeof(bytes);
    if (getrandom(bytes, need, 0) != (ssize_t)need) {
        /* no entropy source: fall back to something unique per process */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t v = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^
                     (uint64_t)(uintptr_t)out;
        for (size_t i = 0; i < need; i++)
            bytes[i] = (unsigned char)(v >> (8 * (i % 8)));
    }
    for (size_t i = 0; i < n && i / 2 < need; i++)
        out[i] = digits[(bytes[i / 2] >> (4 * (i % 2))) & 15];
    out[n] = '\0';
}
