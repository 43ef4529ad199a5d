/* SPDX-License-Identifier: MIT */
/* engine.h: fetch files over one curl multi handle: parallel files and
 * ranged connections, resumable, verified while streaming, retried,
 * rate-limited, cancellable. */
#ifndef HUB_ENGINE_H
#define HUB_ENGINE_H

#include "backend.h"
#include "digest.h"
#include "hasher.h"
#include "http.h"
#include "journal.h"
#include "lock.h"
#include "log.h"
#include "progress.h"

/* Returned (positive) by a storage's prepare(): nothing to fetch. */
#define HUB__FETCH_SKIP 2

typedef struct hub__part hub__part;

/*
 * One file to fetch. The caller fills the input fields; the storage layer
 * (prepare/commit/release below) decides where the bytes go.
 *
 * Temp files, next to where the blob will live (`temp_base`):
 * - "<temp_base>.incomplete": one connection, always a contiguous prefix
 *   of the blob (the name older huggingface_hub versions resume from);
 * - "<temp_base>.hubfetch.incomplete" and "...hubfetch-journal.incomplete":
 *   several connections writing at their offsets, and the journal of which
 *   ranges are there (journal.h).
 * Both end in ".incomplete", so `hf cache prune` cleans them up.
 */
typedef struct hub__fetch {
    /* input */
    const char *path; /* path in the repository (messages, progress) */
    char **urls;      /* its resolve URL on each endpoint, in order (owned:
                         hub__fetch_clear frees them) */
    size_t nurls;
    size_t url_at; /* the endpoint in use: failover moves it on */
    uint64_t size; /* exact size; UINT64_MAX: only the server knows */
    char etag[65]; /* expected digest, lowercase hex */
    hub_digest_kind digest;
    size_t index;   /* position in the progress plan */
    void *owner;    /* storage-layer state */
    char *data_url; /* known final URL (e.g. from a HEAD), or NULL */

    /* set by prepare() */
    const char *root; /* the trusted directory temp_base and lock_path lie
                         below: nothing under it is followed if a link
                         (safefs.h) */
    char *temp_base;
    char *prefix_path; /* the one-connection temp file, if not
                          \"<temp_base>.incomplete\" */
    hub__lock lock;
    char *lock_path;

    /* output */
    int result;             /* HUB_OK, HUB__FETCH_SKIP, or an error */
    uint64_t bytes_fetched; /* body bytes received over the network */
    char *served_by;        /* endpoint whose redirect served it */
    char *temp_path;        /* the verified temp file, for commit() */

    /* engine state */
    struct hub__fetch_state *st;
} hub__fetch;

typedef struct hub__storage_ops {
    /*
     * Before any byte: take the lock (may return HUB__LOCK_BUSY to be
     * called again later), look for the content already in the cache
     * (return HUB__FETCH_SKIP after linking it), else set temp_base and
     * return HUB_OK. A temp_base set before the lock is busy lets the
     * engine see the holder's partial files grow while it waits.
     */
    int (*prepare)(hub__fetch *f, void *ctx);
    /* `f->temp_path` holds the verified content: move it into place. */
    int (*commit)(hub__fetch *f, void *ctx);
    /* Always called last for a prepared file (release the lock); may be
     * NULL. */
    void (*release)(hub__fetch *f, void *ctx);
} hub__storage_ops;

typedef struct hub__engine_config {
    hub_http *http;
    const hub__backend *backend;
    const hub__repo *repo;
    const char *const *endpoints; /* the hub's (failover, redirects) */
    size_t nendpoints;
    const char *const *shown;           /* each endpoint as it may be shown */
    const char *const *token_endpoints; /* the origins the token is for */
    size_t ntoken_endpoints;
    const char *token;    /* sent only to token_endpoints' origins */
    bool *told_withheld;  /* shared "said the token was withheld", or NULL */
    const char *cookie;   /* a Cookie sent with the token, or NULL */
    const char *revision; /* for messages */
    const hub_logger *log;
    hub__progress *progress;
    int max_files;            /* files in flight */
    int connections;          /* ranged connections per large file */
    int max_connections;      /* transfers in flight, all files */
    uint64_t split_threshold; /* files this big get several connections */
    uint64_t part_size;       /* 0: chosen per file (see engine.c) */
    uint64_t max_rate;        /* bytes/s over all transfers, 0 = unlimited */
    int max_retries;          /* per transfer, after the first attempt */
    long retry_base_ms;       /* first backoff step */
    long lock_timeout_ms;     /* -1: forever */
} hub__engine_config;

/*
 * Fetch every item (in parallel, within the limits). Each item's `result`
 * tells its fate; the return value is HUB_OK if all succeeded or were
 * skipped, else the first failure (ECANCELLED when cancelled), with its
 * message set.
 */
int hub__engine_run(const hub__engine_config *config,
                    hub__fetch *items,
                    size_t count,
                    const hub__storage_ops *ops,
                    void *ctx);

/* Release what an item owns: its URLs and what the engine allocated. */
void hub__fetch_clear(hub__fetch *f);

/* Milliseconds on a monotonic clock. */
int64_t hub__now_ms(void);

/*
 * One metadata request (HEAD, GET or a small POST), run to completion on the
 * same curl multi handle as everything else, following relative redirects and
 * absolute ones to the hub's own hosts only. Retries transient failures
 * `max_retries` times. On HTTP >= 400 the response is left in `x` for the
 * caller to map (result HUB_OK); transport failures return their error.
 */
typedef struct hub__meta_req {
    bool head;
    const char *url;
    const char *token;
    const char *cookie;           /* sent with the token, or NULL */
    const char *const *endpoints; /* hub origins: redirects */
    size_t nendpoints;
    const char *const *token_endpoints; /* the origins the token is for */
    size_t ntoken_endpoints;
    hub_buf *body; /* GET body sink, or NULL */
    /* a form-encoded body to POST instead of a GET, or NULL; a 307/308
     * answering it is followed with the same POST, any other 3xx is left
     * to the caller */
    const char *post;
    size_t post_len;
    int max_retries;
    long retry_base_ms;
    const hub_logger *log;
    hub__progress *progress; /* to honour cancel while waiting */

    /* A data read (read.c) instead of metadata: the 2xx body streams to
     * on_data (the caller's code from it ends the request as is), and
     * on_headers sees the headers of every response, redirects included.
     * NULL: the body goes to `body`. */
    hub_xfer_headers_cb on_headers;
    hub_xfer_data_cb on_data;
    void *payload;
    /* Range: bytes=range_start + *delivered - range_end (inclusive,
     * UINT64_MAX: open), so that a retry resumes after what was
     * delivered; progress there renews the retries and the deadline (a
     * long body is not a slow answer: the stall timeout guards it). */
    bool ranged;
    uint64_t range_start, range_end;
    const uint64_t *delivered; /* or NULL */
    /* Follow absolute redirects to any host (the CDN a file is served
     * from): the token stays with its origins, https is never left. */
    bool follow_any;
} hub__meta_req;

int hub__meta_fetch(hub_xfer *x, hub_http *http, const hub__meta_req *req);

#endif
