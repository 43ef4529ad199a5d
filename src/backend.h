/* SPDX-License-Identifier: MIT */
/* backend.h: what the engine needs to know about a hub. */
#ifndef HUB_BACKEND_H
#define HUB_BACKEND_H

#include "common.h"
#include "http.h"

/* A repository on a hub endpoint. Strings are borrowed. */
typedef struct hub__repo {
    hub_repo_type type;
    const char *id;       /* "org/name" or "name" */
    const char *endpoint; /* "https://huggingface.co", no trailing '/' */
} hub__repo;

/* What a request was for, to word error messages. */
typedef struct hub__what {
    const char *revision; /* or NULL */
    const char *path;     /* file in the repo, or NULL */
    bool has_token;       /* a token was sent */
    bool token_withheld;  /* a token was given but not sent (a mirror) */
} hub__what;

/*
 * A hub backend: a table of functions with no I/O. Parsers take bytes,
 * builders return fresh strings, and map_error turns a failed response
 * into a hub_error code with a one-line message saying what to do.
 */
typedef struct hub__backend {
    const char *name;
    int (*map_error)(const hub__repo *repo,
                     const hub__what *what,
                     const hub_http_resp *resp,
                     const char *body);
    /* A successful status whose body is an error in disguise (ModelScope
     * answers 200 with Code != 200 inside): its error, else HUB_OK. NULL
     * when the hub never does that. */
    int (*check_body)(const hub__repo *repo,
                      const hub__what *what,
                      long status,
                      const char *body,
                      size_t len);
} hub__backend;

/* "model", "dataset", "space" */
const char *hub__repo_type_name(hub_repo_type type);

/* Is this HTTP status worth retrying (408, 429, 500, 502, 503, 504)? */
bool hub__status_retryable(long status);

#endif
