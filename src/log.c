/* SPDX-License-Identifier: MIT */
/* log.c: level filter in front of the embedder's log callback. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void hub__log(const hub_logger *logger, int level, const char *fmt, ...)
{
    if (!hub__log_enabled(logger, level))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* one line, no control characters, no endpoint credentials */
    hub__text_clean(line, sizeof(line));
    logger->cb(level, line, logger->payload);
}
