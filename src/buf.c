/* SPDX-License-Identifier: MIT */
/* buf.c: growable, capped byte buffer. */
#include "buf.h"

#include "alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int grow(hub_buf *buf, size_t extra)
{
    size_t need;
    if (__builtin_add_overflow(buf->len, extra, &need) ||
        __builtin_add_overflow(need, (size_t)1, &need) || need - 1 > buf->max)
        return hub__error_set(HUB_EPROTO, "data exceeds the limit of %zu bytes",
                              buf->max);
    if (need <= buf->cap)
        return HUB_OK;
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = hub__realloc(buf->ptr, cap);
    if (!p)
        return HUB_ENOMEM;
    buf->ptr = p;
    buf->cap = cap;
    return HUB_OK;
}

int hub__buf_put(hub_buf *buf, const void *data, size_t len)
{
    int error = grow(buf, len);
    if (error < 0)
        return error;
    if (len)
        memcpy(buf->ptr + buf->len, data, len);
    buf->len += len;
    buf->ptr[buf->len] = '\0';
    return HUB_OK;
}

int hub__buf_puts(hub_buf *buf, const char *s)
{
    return hub__buf_put(buf, s, strlen(s));
}

int hub__buf_printf(hub_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return hub__error_set(HUB_ERROR, "formatting failed");
    int error = grow(buf, (size_t)n);
    if (error < 0)
        return error;
    va_start(ap, fmt);
    vsnprintf(buf->ptr + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
    return HUB_OK;
}

const char *hub__buf_cstr(const hub_buf *buf)
{
    return buf->ptr ? buf->ptr : "";
}

void hub__buf_reset(hub_buf *buf)
{
    buf->len = 0;
    if (buf->ptr)
        buf->ptr[0] = '\0';
}

void hub__buf_free(hub_buf *buf)
{
    hub__free(buf->ptr);
    buf->ptr = NULL;
    buf->len = buf->cap = 0;
}

char *hub__buf_detach(hub_buf *buf)
{
    char *p = buf->ptr;
    buf->ptr = NULL;
    buf->len = buf->cap = 0;
    return p ? p : hub__strdup("");
}
