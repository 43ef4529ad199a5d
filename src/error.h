/* SPDX-License-Identifier: MIT */
/* error.h: the thread-local last error and the error-code table. */
#ifndef HUB_ERROR_H
#define HUB_ERROR_H

#include "common.h"

/*
 * Record an error for hub_error_last() and return `code`, so callers write
 * `return hub__error_set(HUB_EIO, "...")`. Messages are one line, lower
 * case, with no trailing period; they never contain tokens.
 */
int hub__error_set(int code, const char *fmt, ...) HUB_PRINTF(2, 3);

/* As hub__error_set(), also recording the HTTP status involved. */
int hub__error_set_http(int code, long status, const char *fmt, ...)
    HUB_PRINTF(3, 4);

/* Prefix the current message with "<prefix>: ", keeping code and status. */
void hub__error_prefix(const char *fmt, ...) HUB_PRINTF(1, 2);

/* Out of memory: records a static message, never allocates. */
int hub__error_oom(void);

/* Forget the last error (after an error was handled internally). */
void hub__error_clear(void);

/* Copy of the current message and code, to restore after cleanup work. */
typedef struct hub__error_saved {
    int code;
    long status;
    char message[1024];
} hub__error_saved;

void hub__error_save(hub__error_saved *out);
int hub__error_restore(const hub__error_saved *saved);

/*
 * Make `s` (a NUL-terminated string in a buffer of `size` bytes) safe to
 * show: the userinfo of every "scheme://user:pass@host" becomes "***", and
 * C0 controls (CR and LF too), DEL, C1 controls (U+0080..U+009F) and bytes
 * that are not UTF-8 become '?'. Every message and log line goes through
 * it, so text a server wrote cannot drive a terminal and endpoint
 * credentials are never echoed.
 */
void hub__text_clean(char *s, size_t size);

#endif
