/* SPDX-License-Identifier: MIT */
/* request.h: one request context of the api modules that ask the hub
 * questions (remote.c: listings and stats; read.c: byte ranges) through
 * the client: its endpoints with failover, token origins, retries,
 * deadline, cancel, and the hub's error mapping. */
#ifndef HUB_REQUEST_H
#define HUB_REQUEST_H

#include "client.h"
#include "engine.h"
#include "progress.h"

/* The client, the repository on the endpoint in use, a connection set
 * and the cancel point. `what` names the operation in a cancel message
 * ("listing", "read"). */
typedef struct hub__rq {
    hub_client *c;
    hub__repo repo;
    const char *revision;
    const char *what;
    hub_http *http;
    hub_xfer *meta;
    hub__progress progress;
    size_t ep;
    bool told_withheld;
} hub__rq;

int hub__rq_init(hub__rq *q,
                 hub_client *c,
                 hub_repo_type type,
                 const char *id,
                 const char *what);
void hub__rq_free(hub__rq *q);

bool hub__rq_has_token(const hub__rq *q);
/* Does the endpoint in use get the token? */
bool hub__rq_sends_token(const hub__rq *q);

/* Send `req` (its url, body, post and streaming fields set by the caller)
 * with the client's token, endpoints, retries, log and cancel point. */
int hub__rq_send(hub__rq *q, hub__meta_req *req);

typedef char *(*hub__rq_build_fn)(const hub__rq *q, const void *arg);

/* `req` on the endpoint in use, its URL built for it, moving on to the
 * next endpoints while one is down (unreachable, timed out, 5xx). */
int hub__rq_failover(hub__rq *q,
                     hub__rq_build_fn build,
                     const void *arg,
                     hub__meta_req *req);

/* HUB_ENOENTRY naming `path` at the revision. */
int hub__rq_not_found(const hub__rq *q, const char *path, long status);
/* The error of a response that is not 200 (`path`: what was asked). */
int hub__rq_error(const hub__rq *q, const char *path);

#endif
