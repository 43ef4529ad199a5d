/* SPDX-License-Identifier: MIT */
/* http.h: HTTP transfers on a curl multi handle (the only user of
 * libcurl). */
#ifndef HUB_HTTP_H
#define HUB_HTTP_H

#include "buf.h"
#include "common.h"

/*
 * One hub_http is one curl multi handle: every transfer of a download runs
 * on it, so connections are reused across requests and files. Redirects
 * are never followed here: the caller sees each 3xx and decides (tokens
 * must not follow a redirect to another host). Not thread-safe: one thread
 * drives a hub_http at a time.
 */
typedef struct hub_http hub_http;
typedef struct hub_xfer hub_xfer;

typedef struct hub_http_config {
    const char *user_agent;    /* full User-Agent value */
    long connect_timeout_ms;   /* per connection attempt */
    long stall_timeout_ms;     /* no byte for this long aborts a transfer */
    const char *proxy_http;    /* for http:// URLs; NULL: none */
    const char *proxy_https;   /* for https:// URLs; NULL: none */
    const char *no_proxy;      /* hosts reached directly, or NULL */
    const char *ca_file;       /* CA bundle, NULL: the system's */
    const char *ca_dir;        /* CA directory, NULL: the system's */
    int max_host_connections;  /* cap per host:port, 0 = none */
    int max_total_connections; /* cap overall, 0 = none */
} hub_http_config;

/* Response headers the hub protocol needs, from the final response. */
typedef struct hub_http_resp {
    long status;
    char *location;      /* absolute target of a 3xx, or NULL */
    char *etag;          /* raw ETag header */
    char *linked_etag;   /* raw X-Linked-Etag */
    char *repo_commit;   /* X-Repo-Commit */
    char *error_code;    /* X-Error-Code */
    char *error_message; /* X-Error-Message */
    char *content_encoding;
    char *link_next;  /* URL of Link: <...>; rel="next" */
    char *request_id; /* X-Request-Id */
    bool has_linked_size;
    uint64_t linked_size; /* X-Linked-Size */
    bool has_content_length;
    uint64_t content_length;
    bool has_content_range;          /* "bytes a-b/total" parsed */
    uint64_t range_start, range_end; /* inclusive */
    bool has_range_total;
    uint64_t range_total;
    long retry_after;     /* seconds from Retry-After (number or date), or
                             -1; at most a year */
    long ratelimit_reset; /* t= of a RateLimit header with r=0, or -1 */
} hub_http_resp;

/* One response header line ("Name: value\r\n", untrusted) into `r`;
 * unknown names are ignored, every value is bounded. The transfer's header
 * callback uses it; exposed for the fuzzer. */
void hub__http_parse_header(hub_http_resp *r, const char *line, size_t n);
/* Free what `r` holds and reset it to "no response". */
void hub__http_resp_clear(hub_http_resp *r);

/* The longest wait a server may ask for (Retry-After, RateLimit t=) that
 * is obeyed; a longer one fails the request at once (HUB_ERATELIMIT), so
 * that no answer can park a download for a day. 300 s is the window of the
 * Hub's own resolver rate limit ("resolvers";t=300). */
#define HUB__SERVER_WAIT_MAX_S 300L

/* Seconds the server asked to wait before a retry (RateLimit t= first,
 * then Retry-After), or -1 if it did not say. */
long hub__http_server_wait(const hub_http_resp *r);

/*
 * Called once the final response's headers are complete, before any body
 * byte (also for an empty body). Return HUB_OK to receive the body through
 * on_data, HUB__XFER_CAPTURE to have it kept like an error body instead
 * (it is not what was asked for, but its text may say why), or a negative
 * code (message set) to abort the transfer.
 */
#define HUB__XFER_CAPTURE 1
typedef int (*hub_xfer_headers_cb)(hub_xfer *x, void *payload);
/* Body bytes of a 2xx response. Return HUB_OK or a negative code, which
 * stops the transfer and is what hub__http_next_done() reports for it, as
 * is (it may be the caller's own code). */
typedef int (*hub_xfer_data_cb)(hub_xfer *x,
                                const char *data,
                                size_t len,
                                void *payload);

typedef struct hub_xfer_req {
    bool head; /* HEAD instead of GET */
    const char *url;
    const char *token;  /* sent as "Authorization: Bearer"; NULL: none */
    const char *cookie; /* Cookie header value, or NULL */
    bool ranged;        /* send Range: bytes=start-[end] */
    uint64_t range_start;
    uint64_t range_end; /* inclusive; UINT64_MAX for an open range */
    hub_xfer_headers_cb on_headers; /* may be NULL */
    hub_xfer_data_cb on_data;       /* NULL: 2xx body goes to body_sink */
    void *payload;
    /* Where non-streamed bodies go (API JSON, error texts); capped by its
     * max. NULL: error bodies are kept in an internal buffer. Whatever the
     * sink, the body of a response that is not 2xx data (an error, a
     * redirect, a captured body) is read up to 16 KiB and for 10 s at
     * most; then the transfer stops and is reported done (HUB_OK) with
     * the status received and that much of the body. */
    hub_buf *body_sink;
    /* POST this body (application/x-www-form-urlencoded) instead of a GET;
     * copied when the transfer starts. NULL: no body. */
    const char *post;
    size_t post_len;
} hub_xfer_req;

int hub__http_global_init(void);
void hub__http_global_cleanup(void);

int hub__http_new(hub_http **out, const hub_http_config *config);
void hub__http_free(hub_http *http);

int hub__xfer_new(hub_xfer **out, hub_http *http);
/* Cancels the transfer if it is running. NULL is fine. */
void hub__xfer_free(hub_xfer *x);

/* Configure and start. The strings in `req` are copied. */
int hub__xfer_start(hub_xfer *x, const hub_xfer_req *req);
/* Stop a running transfer without reporting it as done. */
void hub__xfer_abort(hub_xfer *x);

const hub_http_resp *hub__xfer_resp(const hub_xfer *x);
/* URL of the request (as started) */
const char *hub__xfer_url(const hub_xfer *x);
/* Error/metadata body captured (NUL-terminated, maybe truncated). */
const char *hub__xfer_body(const hub_xfer *x);
/* Stop receiving (also from inside on_data) / receive again. A paused
 * transfer's connection is throttled by TCP flow control. */
void hub__xfer_pause(hub_xfer *x);
void hub__xfer_resume(hub_xfer *x);
bool hub__xfer_paused(const hub_xfer *x);
/* Caller-owned tag for bookkeeping. */
void hub__xfer_set_tag(hub_xfer *x, void *tag);
void *hub__xfer_tag(const hub_xfer *x);

/*
 * Run transfers: do pending work, then wait up to `timeout_ms` for sockets
 * to become ready. Returns HUB_OK or an error from the multi interface.
 */
int hub__http_poll(hub_http *http, long timeout_ms);

/*
 * Next finished transfer, or NULL. `*result` is HUB_OK when an HTTP
 * response arrived completely (whatever its status), else the transport
 * error (ENET, ETIMEOUT, ETLS, EPROXY, ENOMEM, or the code a callback
 * returned), with the message set on this thread.
 */
hub_xfer *hub__http_next_done(hub_http *http, int *result);

/* The stall timeout the transfers were configured with (ms). */
long hub__http_stall_timeout_ms(const hub_http *http);

/* Make a hub__http_poll() in progress return now. Thread-safe. */
void hub__http_wakeup(hub_http *http);

/* Percent-encode as Python's urllib.parse.quote(s, safe=""), or with
 * `keep_slash` as quote(s) (safe="/"). */
char *hub__http_quote(const char *s, bool keep_slash);

/* Python's urllib.parse.quote_plus(s): as quote(s, safe=""), but a space
 * becomes '+'. */
char *hub__http_quote_plus(const char *s);

/* Do two absolute URLs share scheme, host and port? */
bool hub__http_same_origin(const char *a, const char *b);
/* Host part of an absolute URL (lower case, no port), freshly allocated. */
char *hub__http_host(const char *url);

/* `url` as it may be shown: its userinfo masked (user:password becomes ***),
 * controls replaced (hub__text_clean). Fresh string, NULL on ENOMEM. */
char *hub__http_url_shown(const char *url);
/* Resolve `ref` (absolute or relative) against `base`, per RFC 3986. */
char *hub__http_resolve(const char *base, const char *ref);

#endif
