/* SPDX-License-Identifier: MIT */
/* client.h: the client's effective settings, shared by the api modules. */
#ifndef HUB_CLIENT_H
#define HUB_CLIENT_H

#include "cache_hf.h"
#include "common.h"
#include "engine.h"
#include "http.h"
#include "log.h"

#include <stdatomic.h>

#define HUB_CLIENT_MAGIC 0x68756263u /* "hubc" */

struct hub_client {
    unsigned int magic;
    int hub;          /* hub_kind */
    char *endpoint;   /* the first of `endpoints` */
    char **endpoints; /* tried in order, no trailing '/' */
    char **shown;     /* each as it may be shown (credentials masked) */
    bool *token_to;   /* each: does it get the token? */
    size_t nendpoints;
    char **token_endpoints; /* those that get it (pointers into endpoints) */
    size_t ntoken_endpoints;
    bool token_to_all; /* send_token_to_mirrors */
    char *token;       /* NULL: send none */
    char *cache_dir;   /* resolved */
    bool offline;
    bool symlinks;
    char *user_agent;  /* full header value */
    char *proxy_http;  /* proxy for http:// URLs, NULL: none */
    char *proxy_https; /* proxy for https:// URLs, NULL: none */
    char *no_proxy;
    char *ca_file; /* CA bundle, NULL: the system's */
    char *ca_dir;  /* CA directory, NULL: the system's */
    int max_files;
    int connections;
    int max_connections;
    uint64_t split_threshold;
    uint64_t part_size;
    uint64_t max_rate;
    long connect_timeout_ms;
    long stall_timeout_ms;
    int max_retries;
    long retry_base_ms;
    long lock_timeout_ms;
    hub_logger log;
    atomic_bool busy;         /* a call is running (re-entrance guard) */
    atomic_bool cancel;       /* hub_client_cancel(): cleared by enter */
    hub__tree_memo tree_memo; /* the last tree cache a lookup parsed */
};

/* Mark the client busy for one public call; HUB_EBUSY if it already is
 * (a callback calling back into its own client). Clears a cancel request
 * made while the client was idle: hub_client_cancel() stops what runs. */
int hub__client_enter(hub_client *c);
void hub__client_leave(hub_client *c);

/* Does the token go to `endpoint` (one of the client's)? */
bool hub__client_token_for(const hub_client *c, const char *endpoint);

/* Where huggingface_hub reads and writes the token (its
 * constants.HF_TOKEN_PATH), from the environment; NULL on ENOMEM. */
char *hub__client_token_path(void);
/* huggingface_hub's _clean_token: CR and LF dropped, blanks stripped
 * (possibly ""); NULL on ENOMEM. */
char *hub__client_clean_token(const char *raw, size_t len);

/* The HTTP settings of the client's transfers (proxies, TLS, timeouts). */
void hub__client_http_config(const hub_client *c, hub_http_config *cfg);
/* The engine settings that come from the client (endpoints, token, log,
 * limits); the rest of `cfg` is zeroed for the caller to fill. */
void hub__client_engine_config(const hub_client *c, hub__engine_config *cfg);

#endif
