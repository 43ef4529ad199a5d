/* SPDX-License-Identifier: MIT */
/* error.c: thread-local last error, codes, names and static texts. */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Fixed storage: reporting an error never allocates (out-of-memory too). */
static _Thread_local struct {
    hub_error_info info;
    char message[1024];
} last = {{HUB_OK, 0, ""}, ""};

/* Length of the well-formed UTF-8 sequence at `p` (1..4), or 0. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    size_t n;
    unsigned int min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, min = 0x80, cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, min = 0x800, cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, min = 0x10000, cp = c & 0x07u;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) /* a NUL stops here too */
            return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* The end of the userinfo of the URL whose authority starts at `p` (the
 * last '@' before the path), or NULL if it has none. */
static const char *userinfo_end(const char *p)
{
    const char *at = NULL;
    for (; *p && !strchr("/?#\\ \t\"'<>", *p); p++)
        if (*p == '@')
            at = p;
    return at;
}

void hub__text_clean(char *s, size_t size)
{
    if (!s || !size)
        return;
    char out[1024];
    size_t cap = size < sizeof(out) ? size : sizeof(out);
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && o + 1 < cap) {
        if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
            const char *at = userinfo_end((const char *)p + 3);
            if (at) {
                if (o + 7 >= cap)
                    break;
                memcpy(out + o, "://***", 6);
                o += 6;
                p = (const unsigned char *)at; /* the '@' is copied next */
                continue;
            }
        }
        size_t n = utf8_len(p);
        bool c1 = n == 2 && p[0] == 0xc2 && p[1] < 0xa0;
        if (n == 0 || c1 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
            out[o++] = *p == '\n' || *p == '\r' || *p == '\t' ? ' ' : '?';
            p += c1 ? 2 : 1;
            continue;
        }
        if (o + n >= cap)
            break;
        memcpy(out + o, p, n);
        o += n;
        p += n;
    }
    out[o] = '\0';
    memcpy(s, out, o + 1);
}

static HUB_PRINTF(1, 0) void set_message(const char *fmt, va_list ap)
{
    int n = vsnprintf(last.message, sizeof(last.message), fmt, ap);
    if (n < 0)
        last.message[0] = '\0';
    /* One line, no control characters or broken UTF-8 whatever a server
     * put in its error text, and no endpoint credentials. */
    hub__text_clean(last.message, sizeof(last.message));
    last.info.message = last.message;
}

int hub__error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(fmt, ap);
    va_end(ap);
    last.info.code = code;
    last.info.http_status = 0;
    return code;
}

int hub__error_set_http(int code, long status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(fmt, ap);
    va_end(ap);
    last.info.code = code;
    last.info.http_status = status;
    return code;
}

void hub__error_prefix(const char *fmt, ...)
{
    char prefix[512];
    char old[sizeof(last.message)];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    memcpy(old, last.message, sizeof(old));
    snprintf(last.message, sizeof(last.message), "%s: %.*s", prefix,
             (int)(sizeof(last.message) - strlen(prefix) - 3), old);
    hub__text_clean(last.message, sizeof(last.message));
    last.info.message = last.message;
}

int hub__error_oom(void)
{
    static const char oom[] = "out of memory";
    memcpy(last.message, oom, sizeof(oom));
    last.info.message = last.message;
    last.info.code = HUB_ENOMEM;
    last.info.http_status = 0;
    return HUB_ENOMEM;
}

void hub__error_clear(void)
{
    last.message[0] = '\0';
    last.info.message = last.message;
    last.info.code = HUB_OK;
    last.info.http_status = 0;
}

void hub__error_save(hub__error_saved *out)
{
    out->code = last.info.code;
    out->status = last.info.http_status;
    snprintf(out->message, sizeof(out->message), "%.*s",
             (int)sizeof(out->message) - 1, last.message);
}

int hub__error_restore(const hub__error_saved *saved)
{
    return hub__error_set_http(saved->code, saved->status, "%s",
                               saved->message);
}

const hub_error_info *hub_error_last(void)
{
    last.info.message = last.message;
    return &last.info;
}

const char *hub_strerror(int code)
{
    switch (code) {
#define HUB__ERRTEXT(name, value, text)                                        \
    case value:                                                                \
        return text;
        HUB_ERROR_MAP(HUB__ERRTEXT)
#undef HUB__ERRTEXT
    default:
        return "unknown error";
    }
}

const char *hub_error_name(int code)
{
    switch (code) {
#define HUB__ERRNAME(name, value, text)                                        \
    case value:                                                                \
        return #name;
        HUB_ERROR_MAP(HUB__ERRNAME)
#undef HUB__ERRNAME
    default:
        return "UNKNOWN";
    }
}
