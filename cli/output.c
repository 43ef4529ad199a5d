/* SPDX-License-Identifier: MIT */
/* output.c: messages, sizes, JSON strings and exit codes of the CLI. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>

int cli_exit_code(int hub_code)
{
    if (hub_code == HUB_OK)
        return EXIT_OK;
    if (hub_code == HUB_EINVAL)
        return EXIT_USAGE;
    if (hub_code == HUB_ERROR)
        return EXIT_FAILURE_;
    if (hub_code < 0 && hub_code >= -99)
        return 10 - hub_code;
    return EXIT_FAILURE_;
}

void cli_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hubfetch: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

bool cli_json_errors;

static void
json_error(const char *code, int exit_code, long http_status, const char *msg)
{
    fprintf(stderr,
            "{\"v\":1,\"type\":\"error\",\"code\":\"%s\","
            "\"exit\":%d,\"http_status\":%ld,\"message\":",
            code, exit_code, http_status);
    cli_json_string(stderr, msg);
    fputs("}\n", stderr);
}

int cli_fail(int code)
{
    const hub_error_info *e = hub_error_last();
    const char *msg = e->code == code && e->message && e->message[0]
                          ? e->message
                          : hub_strerror(code);
    if (cli_json_errors)
        json_error(hub_error_name(code), cli_exit_code(code),
                   e->code == code ? e->http_status : 0L, msg);
    else
        cli_err("%s", msg);
    return cli_exit_code(code);
}

__attribute__((format(printf, 2, 0))) static int
verror(int exit_code, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (cli_json_errors)
        json_error(
            hub_error_name(exit_code == EXIT_USAGE ? HUB_EINVAL : HUB_ERROR),
            exit_code, 0L, msg);
    else
        cli_err("%s", msg);
    return exit_code;
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = verror(EXIT_USAGE, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = verror(EXIT_FAILURE_, fmt, ap);
    va_end(ap);
    return rc;
}

void cli_json_log(const char *level, const char *msg)
{
    fprintf(stderr,
            "{\"v\":1,\"type\":\"log\",\"level\":\"%s\",\"message\":", level);
    cli_json_string(stderr, msg);
    fputs("}\n", stderr);
}

void cli_warn(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (cli_json_errors)
        cli_json_log("warning", msg);
    else
        cli_err("warning: %s", msg);
}

void cli_format_size(uint64_t bytes, char *out, size_t outlen)
{
    static const char *units[] = {"", "K", "M", "G", "T", "P", "E"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1000.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1000.0;
        u++;
    }
    if (u == 0)
        snprintf(out, outlen, "%lluB", (unsigned long long)bytes);
    else
        snprintf(out, outlen, "%.1f%s", v, units[u]);
}

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
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* A JSON string that any strict reader takes: controls (C0, DEL, C1)
 * escaped, bytes that are not UTF-8 replaced by U+FFFD. */
void cli_json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; s && *p;) {
        size_t n = utf8_len(p);
        if (n == 0) {
            fputs("\\ufffd", fp);
            p++;
            continue;
        }
        if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) { /* C1 control */
            fprintf(fp, "\\u%04x", p[1]);
            p += 2;
            continue;
        }
        if (n > 1) {
            fwrite(p, 1, n, fp);
            p += n;
            continue;
        }
        switch (*p) {
        case '"':
            fputs("\\\"", fp);
            break;
        case '\\':
            fputs("\\\\", fp);
            break;
        case '\n':
            fputs("\\n", fp);
            break;
        case '\r':
            fputs("\\r", fp);
            break;
        case '\t':
            fputs("\\t", fp);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(fp, "\\u%04x", *p);
            else
                fputc(*p, fp);
        }
        p++;
    }
    fputc('"', fp);
}
