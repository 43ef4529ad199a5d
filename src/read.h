/* SPDX-License-Identifier: MIT */
/* read.h: byte ranges of a repository file, from the cache or the hub,
 * for hub_read() and the remote header readers. */
#ifndef HUB_READ_H
#define HUB_READ_H

#include "request.h"

/* Copy a caller's options (NULL: defaults) and check them. */
int hub__read_options_take(hub_read_options *dst, const hub_read_options *src);

/* The checks of every remote read entry point: a Hugging Face client, a
 * valid repo id and repository path. */
int hub__read_check(hub_client *c, const char *repo_id, const char *path);

/* The cached copy of `path` at `revision` (resolved through refs/, as
 * hub_cache_lookup does): an open fd, its size and the commit (41 bytes).
 * HUB_ENOTCACHED with no message when it is not there. */
int hub__read_cached(hub_client *c,
                     hub_repo_type type,
                     const char *repo_id,
                     const char *revision,
                     const char *path,
                     int *fd,
                     uint64_t *size,
                     char *commit);

/* Bytes [offset, offset + length) of the open file `fd` (`size` bytes,
 * named `what` in messages) to `cb`. */
int hub__read_fd(int fd,
                 uint64_t size,
                 const char *what,
                 uint64_t offset,
                 uint64_t length,
                 hub_read_cb cb,
                 void *payload,
                 hub_read_info *info);

/* The same from the hub, on the request context `q` (its connections and
 * endpoint kept from one read to the next); `flags` as
 * hub_read_options.flags (the cache is not looked at here). */
int hub__read_remote(hub__rq *q,
                     const char *path,
                     uint64_t offset,
                     uint64_t length,
                     unsigned int flags,
                     hub_read_cb cb,
                     void *payload,
                     hub_read_info *info);

#endif
