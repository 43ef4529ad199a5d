/* SPDX-License-Identifier: MIT */
/* log.h: level filter in front of the embedder's log callback. */
#ifndef HUB_LOG_H
#define HUB_LOG_H

#include "common.h"

typedef struct hub_logger {
    hub_log_cb cb;
    void *payload;
    int level;
} hub_logger;

/* Format and pass one line to the callback if `level` is enabled. The
 * library never prints by itself. */
void hub__log(const hub_logger *logger, int level, const char *fmt, ...)
    HUB_PRINTF(3, 4);

static inline bool hub__log_enabled(const hub_logger *logger, int level)
{
    return logger && logger->cb && level <= logger->level;
}

#endif
