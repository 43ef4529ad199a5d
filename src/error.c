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

static HUB_PRINTF(1, 0) void set_message(const char *fmt, va_list ap)
{
    int n = vsnprintf(last.message, sizeof(last.message), fmt, ap);
    if (n < 0)
        last.message[0] = '\0';
    /* Keep it one line whatever a server put in its error text. */
    for (char *p = last.message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
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
