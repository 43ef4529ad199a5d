/* SPDX-License-Identifier: MIT */
/* buf.h: growable byte buffer with a mandatory size cap (curl's dynbuf). */
#ifndef HUB_BUF_H
#define HUB_BUF_H

#include "common.h"

/*
 * `ptr` is always NUL-terminated when not NULL, so text can be used as a C
 * string. Growth beyond `max` fails with HUB_EPROTO: caps are how input
 * from the network stays bounded.
 */
typedef struct hub_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max;
} hub_buf;

#define HUB_BUF_INIT(maxlen)                                                   \
    {                                                                          \
        NULL, 0, 0, (maxlen)                                                   \
    }

int hub__buf_put(hub_buf *buf, const void *data, size_t len);
int hub__buf_puts(hub_buf *buf, const char *s);
int hub__buf_printf(hub_buf *buf, const char *fmt, ...) HUB_PRINTF(2, 3);
/* "" when empty, never NULL */
const char *hub__buf_cstr(const hub_buf *buf);
void hub__buf_reset(hub_buf *buf);
void hub__buf_free(hub_buf *buf);
/* Hand the storage to the caller (a fresh "" if empty); buffer is reset. */
char *hub__buf_detach(hub_buf *buf);

#endif
