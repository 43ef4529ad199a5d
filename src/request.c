/* SPDX-License-Identifier: MIT */
/*
 * request.c: the request context remote.c and read.c share. Requests go
 * through hub__meta_fetch (engine.c), as the download's metadata does: the
 * same redirect rule, retries, deadline, token origins and cancel; the
 * first endpoint that is down hands over to the next one, as downloads do.
 */
#include "request.h"

#include "alloc.h"
#include "hub_hf.h"

#include <stdio.h>
#include <string.h>

bool hub__rq_has_token(const hub__rq *q)
{
    return q->c->token && q->c->token[0];
}

bool hub__rq_sends_token(const hub__rq *q)
{
    return hub__rq_has_token(q) &&
           hub__client_token_for(q->c, q->repo.endpoint);
}

int hub__rq_init(hub__rq *q,
                 hub_client *c,
                 hub_repo_type type,
                 const char *id,
                 const char *what)
{
    memset(q, 0, sizeof(*q));
    q->c = c;
    q->repo.type = type;
    q->repo.id = id;
    q->repo.endpoint = c->endpoint;
    q->what = what;
    hub__progress_init(&q->progress, NULL, NULL);
    q->progress.cancel_also = &c->cancel;
    hub_http_config cfg;
    hub__client_http_config(c, &cfg);
    int error = hub__http_new(&q->http, &cfg);
    if (error == HUB_OK)
        error = hub__xfer_new(&q->meta, q->http);
    return error;
}

void hub__rq_free(hub__rq *q)
{
    hub__xfer_free(q->meta);
    hub__http_free(q->http);
    hub__progress_free(&q->progress);
    q->meta = NULL;
    q->http = NULL;
}

int hub__rq_send(hub__rq *q, hub__meta_req *req)
{
    if (hub__rq_has_token(q) && !hub__rq_sends_token(q) && !q->told_withheld) {
        q->told_withheld = true;
        hub__log(&q->c->log, HUB_LOG_INFO,
                 "token not sent to %s: it goes only to the endpoint it is "
                 "for (--send-token-to-mirrors sends it to mirrors too)",
                 q->c->shown[q->ep]);
    }
    req->token = q->c->token;
    req->endpoints = (const char *const *)q->c->endpoints;
    req->nendpoints = q->c->nendpoints;
    req->token_endpoints = (const char *const *)q->c->token_endpoints;
    req->ntoken_endpoints = q->c->ntoken_endpoints;
    req->post_len = req->post ? strlen(req->post) : 0;
    req->max_retries = q->c->max_retries;
    req->retry_base_ms = q->c->retry_base_ms;
    req->log = &q->c->log;
    req->progress = &q->progress;
    int error = hub__meta_fetch(q->meta, q->http, req);
    if (error == HUB_ECANCELLED)
        error = hub__error_set(HUB_ECANCELLED, "%s cancelled", q->what);
    return error;
}

static bool endpoint_down(hub__rq *q, int error)
{
    if (error == HUB_ENET || error == HUB_ETIMEOUT)
        return true;
    return error == HUB_OK && hub__xfer_resp(q->meta)->status >= 500;
}

static bool next_endpoint(hub__rq *q, int error)
{
    if (q->ep + 1 >= q->c->nendpoints)
        return false;
    char why[300];
    if (error < 0)
        snprintf(why, sizeof(why), "%s", hub_error_last()->message);
    else
        snprintf(why, sizeof(why), "HTTP %ld", hub__xfer_resp(q->meta)->status);
    q->ep++;
    q->repo.endpoint = q->c->endpoints[q->ep];
    hub__log(&q->c->log, HUB_LOG_WARN, "endpoint %s failed (%s); trying %s",
             q->c->shown[q->ep - 1], why, q->c->shown[q->ep]);
    return true;
}

int hub__rq_failover(hub__rq *q,
                     hub__rq_build_fn build,
                     const void *arg,
                     hub__meta_req *req)
{
    for (;;) {
        char *url = build(q, arg);
        if (!url)
            return HUB_ENOMEM;
        req->url = url;
        int error = hub__rq_send(q, req);
        req->url = NULL;
        hub__free(url);
        if (!endpoint_down(q, error) || !next_endpoint(q, error))
            return error;
    }
}

int hub__rq_not_found(const hub__rq *q, const char *path, long status)
{
    return hub__error_set_http(
        HUB_ENOENTRY, status,
        "no '%s' in %s '%s' at revision '%s'; check the path (paths are "
        "case-sensitive) and list its folder to see what is there",
        path, hub__repo_type_name(q->repo.type), q->repo.id, q->revision);
}

int hub__rq_error(const hub__rq *q, const char *path)
{
    const hub_http_resp *r = hub__xfer_resp(q->meta);
    if (r->status >= 400) {
        hub__what what = {q->revision, path, hub__rq_sends_token(q),
                          hub__rq_has_token(q) && !hub__rq_sends_token(q)};
        int error = hub__backend_hf.map_error(&q->repo, &what, r,
                                              hub__xfer_body(q->meta));
        if (error == HUB_ENOENTRY && path)
            error = hub__rq_not_found(q, path, r->status);
        return error;
    }
    return hub__error_set_http(
        HUB_EPROTO, r->status, "unexpected HTTP %ld from %s '%s' (%s)",
        r->status, hub__repo_type_name(q->repo.type), q->repo.id, q->what);
}
