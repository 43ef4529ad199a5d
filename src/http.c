/* SPDX-License-Identifier: MIT */
/* http.c: HTTP transfers on a curl multi handle. */
#include "http.h"

#include "alloc.h"
#include "str.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ERROR_BODY_MAX (16 * 1024)
/* An error body is read for this long at most: it only feeds a message,
 * and a server trickling it (under the stall check's 1 byte/s) must not
 * hold the transfer for hours before its 16 KiB are in. */
#define ERROR_BODY_MS 10000
#define HEADER_VALUE_MAX 8192
/* Server-asked waits are parsed up to this many seconds (a year); what is
 * obeyed is the caller's business (HUB__SERVER_WAIT_MAX_S). */
#define SERVER_WAIT_PARSE_MAX (366L * 24 * 3600)

struct hub_http {
    CURLM *multi;
    CURLSH *share;
    char *user_agent;
    char *proxy_http;  /* NULL: none */
    char *proxy_https; /* NULL: none */
    char *no_proxy;
    char *ca_file;
    char *ca_dir;
    long connect_timeout_ms;
    long stall_timeout_ms;
    int running; /* transfers running after the last curl_multi_perform,
                    plus those added since */
};

struct hub_xfer {
    hub_http *http;
    CURL *easy;
    struct curl_slist *headers;
    char *url;
    hub_xfer_req req;
    hub_http_resp resp;
    bool in_multi;
    bool headers_done; /* on_headers was called for the final response */
    bool body_is_data; /* the final response's body goes to on_data */
    const char *proxy; /* proxy of this request, or NULL */
    bool failed_cb;    /* a callback returned an error */
    int cb_code;       /* which */
    bool paused;
    bool body_cut;      /* we stopped reading an error body: it is enough */
    int64_t body_start; /* when the final response's body began (ms) */
    hub__error_saved cb_error;
    hub_buf errbody; /* body of non-2xx responses when no sink */
    void *tag;
    char curl_error[CURL_ERROR_SIZE];
};

static long global_refs;

int hub__http_global_init(void)
{
    if (global_refs++ > 0)
        return HUB_OK;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        global_refs = 0;
        return hub__error_set(HUB_ERROR, "libcurl initialisation failed");
    }
    return HUB_OK;
}

void hub__http_global_cleanup(void)
{
    if (global_refs > 0 && --global_refs == 0)
        curl_global_cleanup();
}

int hub__http_new(hub_http **out, const hub_http_config *config)
{
    *out = NULL;
    hub_http *h = hub__calloc(1, sizeof(*h));
    if (!h)
        return HUB_ENOMEM;
    h->multi = curl_multi_init();
    h->share = curl_share_init();
    h->user_agent =
        hub__strdup(config->user_agent ? config->user_agent : "hubfetch");
    h->proxy_http = config->proxy_http ? hub__strdup(config->proxy_http) : NULL;
    h->proxy_https =
        config->proxy_https ? hub__strdup(config->proxy_https) : NULL;
    h->no_proxy = config->no_proxy ? hub__strdup(config->no_proxy) : NULL;
    h->ca_file = config->ca_file ? hub__strdup(config->ca_file) : NULL;
    h->ca_dir = config->ca_dir ? hub__strdup(config->ca_dir) : NULL;
    if (!h->multi || !h->share || !h->user_agent ||
        (config->proxy_http && !h->proxy_http) ||
        (config->proxy_https && !h->proxy_https) ||
        (config->no_proxy && !h->no_proxy) ||
        (config->ca_file && !h->ca_file) || (config->ca_dir && !h->ca_dir)) {
        hub__http_free(h);
        return hub__error_oom();
    }
    h->connect_timeout_ms = config->connect_timeout_ms;
    h->stall_timeout_ms = config->stall_timeout_ms;
    /* DNS and TLS sessions shared by every handle of this multi. */
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (config->max_host_connections > 0)
        curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                          (long)config->max_host_connections);
    if (config->max_total_connections > 0) {
        curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                          (long)config->max_total_connections);
        curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
                          (long)config->max_total_connections);
    }
    *out = h;
    return HUB_OK;
}

void hub__http_free(hub_http *h)
{
    if (!h)
        return;
    if (h->multi)
        curl_multi_cleanup(h->multi);
    if (h->share)
        curl_share_cleanup(h->share);
    hub__free(h->user_agent);
    hub__free(h->proxy_http);
    hub__free(h->proxy_https);
    hub__free(h->no_proxy);
    hub__free(h->ca_file);
    hub__free(h->ca_dir);
    hub__free(h);
}

int hub__xfer_new(hub_xfer **out, hub_http *http)
{
    *out = NULL;
    hub_xfer *x = hub__calloc(1, sizeof(*x));
    if (!x)
        return HUB_ENOMEM;
    x->http = http;
    x->easy = curl_easy_init();
    if (!x->easy) {
        hub__free(x);
        return hub__error_oom();
    }
    x->errbody = (hub_buf)HUB_BUF_INIT(ERROR_BODY_MAX);
    *out = x;
    return HUB_OK;
}

void hub__http_resp_clear(hub_http_resp *r)
{
    hub__free(r->location);
    hub__free(r->etag);
    hub__free(r->linked_etag);
    hub__free(r->repo_commit);
    hub__free(r->error_code);
    hub__free(r->error_message);
    hub__free(r->content_encoding);
    hub__free(r->link_next);
    hub__free(r->request_id);
    memset(r, 0, sizeof(*r));
    r->retry_after = -1;
    r->ratelimit_reset = -1;
}

void hub__xfer_abort(hub_xfer *x)
{
    if (x && x->in_multi) {
        curl_multi_remove_handle(x->http->multi, x->easy);
        x->in_multi = false;
    }
}

void hub__xfer_free(hub_xfer *x)
{
    if (!x)
        return;
    hub__xfer_abort(x);
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    hub__http_resp_clear(&x->resp);
    hub__buf_free(&x->errbody);
    hub__free(x->url);
    hub__free(x);
}

const hub_http_resp *hub__xfer_resp(const hub_xfer *x)
{
    return &x->resp;
}

const char *hub__xfer_url(const hub_xfer *x)
{
    return x->url ? x->url : "";
}

const char *hub__xfer_body(const hub_xfer *x)
{
    if (x->req.body_sink)
        return hub__buf_cstr(x->req.body_sink);
    return hub__buf_cstr(&x->errbody);
}

void hub__xfer_pause(hub_xfer *x)
{
    if (x->in_multi && !x->paused) {
        x->paused = true;
        curl_easy_pause(x->easy, CURLPAUSE_RECV);
    }
}

void hub__xfer_resume(hub_xfer *x)
{
    if (x->in_multi && x->paused) {
        x->paused = false;
        /* may deliver buffered data to on_data right away */
        curl_easy_pause(x->easy, CURLPAUSE_CONT);
    }
}

bool hub__xfer_paused(const hub_xfer *x)
{
    return x->paused;
}

long hub__http_stall_timeout_ms(const hub_http *http)
{
    return http->stall_timeout_ms;
}

void hub__http_wakeup(hub_http *http)
{
    curl_multi_wakeup(http->multi);
}

void hub__xfer_set_tag(hub_xfer *x, void *tag)
{
    x->tag = tag;
}

void *hub__xfer_tag(const hub_xfer *x)
{
    return x->tag;
}

/* ---- header parsing ---------------------------------------------------- */

static char *dup_value(const char *v, size_t n)
{
    if (n > HEADER_VALUE_MAX)
        n = HEADER_VALUE_MAX;
    return hub__str_trim_dup(v, n);
}

static void set_field(char **field, const char *v, size_t n)
{
    hub__free(*field);
    *field = dup_value(v, n);
}

/* "bytes a-b/total", "bytes a-b/<star>" or "bytes <star>/total" (416) */
static void parse_content_range(hub_http_resp *r, const char *v, size_t n)
{
    char buf[128];
    if (n >= sizeof(buf))
        return;
    memcpy(buf, v, n);
    buf[n] = '\0';
    char *p = buf;
    while (*p == ' ')
        p++;
    if (!hub__str_ieqn(p, "bytes ", 6))
        return;
    p += 6;
    while (*p == ' ')
        p++;
    char *slash = strchr(p, '/');
    if (!slash)
        return;
    char *total = slash + 1;
    size_t tlen = strcspn(total, " \r\n");
    if (tlen && !(tlen == 1 && total[0] == '*') &&
        hub__str_to_u64(total, tlen, &r->range_total))
        r->has_range_total = true;
    char *dash = memchr(p, '-', (size_t)(slash - p));
    if (!dash)
        return;
    if (hub__str_to_u64(p, (size_t)(dash - p), &r->range_start) &&
        hub__str_to_u64(dash + 1, (size_t)(slash - dash - 1), &r->range_end) &&
        r->range_end >= r->range_start)
        r->has_content_range = true;
}

/* Link: <url>; rel="next", <url2>; rel="other" */
static void parse_link(hub_http_resp *r, const char *v, size_t n)
{
    const char *end = v + n;
    const char *p = v;
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt)
            return;
        const char *gt = memchr(lt, '>', (size_t)(end - lt));
        if (!gt)
            return;
        const char *next = memchr(gt, ',', (size_t)(end - gt));
        const char *params_end = next ? next : end;
        for (const char *q = gt; q + 10 <= params_end; q++) {
            if (hub__str_ieqn(q, "rel=\"next\"", 10) ||
                hub__str_ieqn(q, "rel=next", 8)) {
                set_field(&r->link_next, lt + 1, (size_t)(gt - lt - 1));
                return;
            }
        }
        p = next ? next + 1 : end;
    }
}

/* RateLimit: "resolvers";r=0;t=12 -> reset in t seconds when r is 0 */
static void parse_ratelimit(hub_http_resp *r, const char *v, size_t n)
{
    uint64_t remaining = 1, reset = 0;
    bool have_r = false, have_t = false;
    for (size_t i = 0; i + 2 < n; i++) {
        if (v[i] != ';')
            continue;
        char key = v[i + 1];
        if (v[i + 2] != '=' || (key != 'r' && key != 't'))
            continue;
        size_t s = i + 3, e = s;
        while (e < n && v[e] >= '0' && v[e] <= '9')
            e++;
        uint64_t val;
        if (!hub__str_to_u64(v + s, e - s, &val))
            continue;
        if (key == 'r') {
            remaining = val;
            have_r = true;
        } else {
            reset = val;
            have_t = true;
        }
    }
    if (have_r && have_t && remaining == 0)
        r->ratelimit_reset =
            reset < SERVER_WAIT_PARSE_MAX ? (long)reset : SERVER_WAIT_PARSE_MAX;
}

/* Retry-After: seconds, or an HTTP date (RFC 9110 10.2.3). -1 if neither;
 * anything longer than SERVER_WAIT_PARSE_MAX is that. */
static long parse_retry_after(const char *v, size_t n)
{
    char *t = dup_value(v, n);
    long wait = -1;
    uint64_t num;
    if (t && t[0] >= '0' && t[0] <= '9') {
        if (hub__str_to_u64(t, strlen(t), &num))
            wait =
                num < SERVER_WAIT_PARSE_MAX ? (long)num : SERVER_WAIT_PARSE_MAX;
        else if (strspn(t, "0123456789") == strlen(t))
            wait = SERVER_WAIT_PARSE_MAX; /* digits beyond 64 bits */
    } else if (t && t[0]) {
        time_t when = curl_getdate(t, NULL);
        time_t now = time(NULL);
        if (when != (time_t)-1)
            wait = when <= now                          ? 0
                   : when - now < SERVER_WAIT_PARSE_MAX ? (long)(when - now)
                                                        : SERVER_WAIT_PARSE_MAX;
    }
    hub__free(t);
    return wait;
}

long hub__http_server_wait(const hub_http_resp *r)
{
    if (r->ratelimit_reset >= 0)
        return r->ratelimit_reset;
    return r->retry_after;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A callback stopped the transfer: keep its code exactly (it may be a
 * caller's private code, such as the engine's "part complete") and the
 * thread's message, to hand back when the transfer is reported done. */
static void callback_failed(hub_xfer *x, int code)
{
    x->failed_cb = true;
    x->cb_code = code;
    hub__error_save(&x->cb_error);
}

static size_t on_header(char *line, size_t size, size_t nitems, void *ud)
{
    hub_xfer *x = ud;
    size_t n = size * nitems;
    hub_http_resp *r = &x->resp;

    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        /* a new response (after 1xx): forget the previous one's headers */
        hub__http_resp_clear(r);
        const char *sp = memchr(line, ' ', n);
        uint64_t status = 0;
        if (sp && (size_t)(line + n - sp) > 3)
            hub__str_to_u64(sp + 1, 3, &status);
        r->status = (long)status;
        return n;
    }
    if (n <= 2 && (line[0] == '\r' || line[0] == '\n')) {
        if (r->status >= 200 && !x->headers_done) {
            x->headers_done = true;
            x->body_start = now_ms();
            x->body_is_data =
                r->status >= 200 && r->status < 300 && x->req.on_data != NULL;
            if (r->location && x->url) {
                char *abs = hub__http_resolve(x->url, r->location);
                if (abs) {
                    hub__free(r->location);
                    r->location = abs;
                }
            }
            if (x->req.on_headers) {
                int error = x->req.on_headers(x, x->req.payload);
                if (error == HUB__XFER_CAPTURE)
                    x->body_is_data = false;
                if (error < 0) {
                    callback_failed(x, error);
                    return 0; /* aborts the transfer */
                }
            }
        }
        return n;
    }
    hub__http_parse_header(r, line, n);
    return n;
}

void hub__http_parse_header(hub_http_resp *r, const char *line, size_t n)
{
    const char *colon = memchr(line, ':', n);
    if (!colon)
        return;
    size_t klen = (size_t)(colon - line);
    const char *v = colon + 1;
    size_t vlen = n - klen - 1;
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
        vlen--;
#define IS(name) (klen == sizeof(name) - 1 && hub__str_ieqn(line, name, klen))
    uint64_t num;
    if (IS("location")) {
        set_field(&r->location, v, vlen);
    } else if (IS("etag")) {
        set_field(&r->etag, v, vlen);
    } else if (IS("x-linked-etag")) {
        set_field(&r->linked_etag, v, vlen);
    } else if (IS("x-repo-commit")) {
        set_field(&r->repo_commit, v, vlen);
    } else if (IS("x-error-code")) {
        set_field(&r->error_code, v, vlen);
    } else if (IS("x-error-message")) {
        set_field(&r->error_message, v, vlen);
    } else if (IS("content-encoding")) {
        set_field(&r->content_encoding, v, vlen);
    } else if (IS("x-request-id")) {
        set_field(&r->request_id, v, vlen);
    } else if (IS("link")) {
        parse_link(r, v, vlen);
    } else if (IS("ratelimit")) {
        parse_ratelimit(r, v, vlen);
    } else if (IS("content-range")) {
        parse_content_range(r, v, vlen);
    } else if (IS("retry-after")) {
        r->retry_after = parse_retry_after(v, vlen);
    } else if (IS("x-linked-size") || IS("content-length")) {
        char *t = dup_value(v, vlen);
        if (t && hub__str_to_u64(t, strlen(t), &num)) {
            if (IS("x-linked-size")) {
                r->has_linked_size = true;
                r->linked_size = num;
            } else {
                r->has_content_length = true;
                r->content_length = num;
            }
        }
        hub__free(t);
    }
#undef IS
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    hub_xfer *x = ud;
    size_t n = size * nmemb;
    if (!x->headers_done)
        return n; /* body of an interim response */
    if (x->body_is_data) {
        int error = x->req.on_data(x, data, n, x->req.payload);
        if (error < 0) {
            callback_failed(x, error);
            return 0;
        }
        return n;
    }
    long st = x->resp.status;
    if (x->req.body_sink && st >= 200 && st < 300) {
        /* API JSON: its sink's cap bounds it */
        int error = hub__buf_put(x->req.body_sink, data, n);
        if (error < 0) {
            callback_failed(x, error);
            return 0;
        }
        return n;
    }
    /* Any other body (an error, a redirect's, a disguised error captured
     * instead of the file) is only read for a message: keep its first
     * 16 KiB, then stop the transfer, reporting the status received (a
     * server sending an endless body must not hold us). */
    hub_buf *b = x->req.body_sink ? x->req.body_sink : &x->errbody;
    size_t room = b->len < ERROR_BODY_MAX ? ERROR_BODY_MAX - b->len : 0;
    if (b->max - b->len < room)
        room = b->max - b->len;
    if (hub__buf_put(b, data, n < room ? n : room) < 0)
        hub__error_clear();
    if (n > room || now_ms() - x->body_start >= ERROR_BODY_MS) {
        x->body_cut = true;
        return 0;
    }
    return n;
}

/* ---- proxies ------------------------------------------------------------ */

/* A proxy or endpoint URL without its credentials, for messages. */
static void redact(const char *url, char *out, size_t len)
{
    snprintf(out, len, "%s", url);
    hub__text_clean(out, len);
}

char *hub__http_url_shown(const char *url)
{
    char shown[1024];
    redact(url, shown, sizeof(shown));
    return hub__strdup(shown);
}

static bool parse_ipv4(const char *s, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    int parts = 0;
    size_t i = 0;
    while (i < n && parts < 4) {
        uint32_t octet = 0;
        size_t digits = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            octet = octet * 10 + (uint32_t)(s[i++] - '0');
            digits++;
        }
        if (!digits || octet > 255)
            return false;
        v = (v << 8) | octet;
        parts++;
        if (i < n && s[i] == '.' && parts < 4)
            i++;
        else
            break;
    }
    if (parts != 4 || i != n)
        return false;
    *out = v;
    return true;
}

/* Does one NO_PROXY entry cover `host`? "*", a host or domain (leading dot
 * optional, subdomains included), an IPv4 address or CIDR block; a ":port"
 * suffix is ignored. */
static bool no_proxy_entry(const char *e, size_t n, const char *host)
{
    if (n == 1 && e[0] == '*')
        return true;
    const char *colon = memchr(e, ':', n);
    if (colon && !memchr(colon + 1, ':', n - (size_t)(colon - e) - 1))
        n = (size_t)(colon - e); /* host:port, not IPv6 */
    const char *slash = memchr(e, '/', n);
    uint32_t net, ip;
    if (slash && parse_ipv4(e, (size_t)(slash - e), &net) &&
        parse_ipv4(host, strlen(host), &ip)) {
        uint64_t bits = 0;
        if (!hub__str_to_u64(slash + 1, n - (size_t)(slash - e) - 1, &bits) ||
            bits > 32)
            return false;
        uint32_t mask = bits ? ~(uint32_t)0 << (32 - bits) : 0;
        return (ip & mask) == (net & mask);
    }
    if (n && e[0] == '.') {
        e++;
        n--;
    }
    size_t h = strlen(host);
    if (h == n)
        return hub__str_ieqn(host, e, n);
    return h > n && host[h - n - 1] == '.' && hub__str_ieqn(host + h - n, e, n);
}

static bool bypass_proxy(const hub_http *hp, const char *url)
{
    if (!hp->no_proxy)
        return false;
    char *host = hub__http_host(url);
    if (!host)
        return false;
    /* IPv6 literals come back in brackets from some parsers */
    bool hit = false;
    for (const char *p = hp->no_proxy; *p && !hit;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        if (n)
            hit = no_proxy_entry(p, n, host);
        p += n;
    }
    hub__free(host);
    return hit;
}

static const char *proxy_for(const hub_http *hp, const char *url)
{
    const char *proxy =
        hub__str_ieqn(url, "https://", 8) ? hp->proxy_https : hp->proxy_http;
    if (!proxy || !proxy[0] || bypass_proxy(hp, url))
        return NULL;
    return proxy;
}

/* ---- starting and running --------------------------------------------- */

int hub__xfer_start(hub_xfer *x, const hub_xfer_req *req)
{
    hub__xfer_abort(x);
    CURL *e = x->easy;
    curl_easy_reset(e);
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    hub__http_resp_clear(&x->resp);
    hub__buf_reset(&x->errbody);
    hub__free(x->url);
    x->url = hub__strdup(req->url);
    if (!x->url)
        return HUB_ENOMEM;
    x->req = *req;
    x->req.url = x->url;
    x->req.token = NULL; /* not kept beyond the header list */
    x->req.cookie = NULL;
    x->req.post = NULL; /* copied into curl below */
    x->headers_done = false;
    x->body_is_data = false;
    x->failed_cb = false;
    x->body_cut = false;
    x->paused = false;
    x->curl_error[0] = '\0';

    /* The body is the file itself: never let a server compress it. */
    struct curl_slist *h = curl_slist_append(NULL, "Accept-Encoding: identity");
    char *auth = NULL;
    if (h && req->token && req->token[0]) {
        auth = hub__aprintf("Authorization: Bearer %s", req->token);
        struct curl_slist *h2 = auth ? curl_slist_append(h, auth) : NULL;
        if (auth) {
            /* wipe the token from our temporary copy */
            memset(auth, 0, strlen(auth));
            hub__free(auth);
        }
        if (!h2) {
            curl_slist_free_all(h);
            h = NULL;
        } else {
            h = h2;
        }
    }
    if (h && req->cookie) {
        char *cookie = hub__aprintf("Cookie: %s", req->cookie);
        struct curl_slist *h2 = cookie ? curl_slist_append(h, cookie) : NULL;
        if (cookie) {
            memset(cookie, 0, strlen(cookie));
            hub__free(cookie);
        }
        if (!h2) {
            curl_slist_free_all(h);
            h = NULL;
        } else {
            h = h2;
        }
    }
    if (!h)
        return hub__error_oom();
    x->headers = h;

    char range[64];
    if (req->ranged) {
        if (req->range_end == UINT64_MAX)
            snprintf(range, sizeof(range), "%llu-",
                     (unsigned long long)req->range_start);
        else
            snprintf(range, sizeof(range), "%llu-%llu",
                     (unsigned long long)req->range_start,
                     (unsigned long long)req->range_end);
    }

    hub_http *hp = x->http;
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                          \
    do {                                                                       \
        if (rc == CURLE_OK)                                                    \
            rc = curl_easy_setopt(e, opt, val);                                \
    } while (0)
    SET(CURLOPT_URL, x->url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_HTTPHEADER, x->headers);
    SET(CURLOPT_USERAGENT, hp->user_agent);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_ERRORBUFFER, x->curl_error);
    SET(CURLOPT_PRIVATE, x);
    SET(CURLOPT_SHARE, hp->share);
    /* "" also keeps libcurl from reading proxies from the environment
     * itself: the client did that already, the way Python does */
    x->proxy = proxy_for(hp, x->url);
    SET(CURLOPT_PROXY, x->proxy ? x->proxy : "");
    /* a tunnel's "200 Connection established" is not the response */
    SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    if (hp->ca_file)
        SET(CURLOPT_CAINFO, hp->ca_file);
    if (hp->ca_dir)
        SET(CURLOPT_CAPATH, hp->ca_dir);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, x);
    /* 128 KiB per connection: fewer callbacks than the default 16 KiB,
     * while 16 connections stay within the memory budget (bench/) */
    SET(CURLOPT_BUFFERSIZE, 128L * 1024L);
    SET(CURLOPT_UPLOAD_BUFFERSIZE, 16L * 1024L);
    if (hp->connect_timeout_ms > 0)
        SET(CURLOPT_CONNECTTIMEOUT_MS, hp->connect_timeout_ms);
    if (hp->stall_timeout_ms > 0) {
        /* curl's low-speed check: under 1 byte/s for N seconds = stalled */
        long secs = (hp->stall_timeout_ms + 999) / 1000;
        SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
        SET(CURLOPT_LOW_SPEED_TIME, secs);
    }
    if (req->head)
        SET(CURLOPT_NOBODY, 1L);
    if (req->post) {
        /* the size first: COPYPOSTFIELDS copies that many bytes */
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->post_len);
        SET(CURLOPT_COPYPOSTFIELDS, req->post);
    }
    if (req->ranged)
        SET(CURLOPT_RANGE, range);
#undef SET
    if (rc != CURLE_OK)
        return hub__error_set(HUB_ERROR, "cannot configure request for %s: %s",
                              x->url, curl_easy_strerror(rc));
    CURLMcode mc = curl_multi_add_handle(hp->multi, e);
    if (mc != CURLM_OK)
        return hub__error_set(HUB_ERROR, "cannot start request for %s: %s",
                              x->url, curl_multi_strerror(mc));
    x->in_multi = true;
    hp->running++; /* its end shows as a drop below this count */
    return HUB_OK;
}

int hub__http_poll(hub_http *http, long timeout_ms)
{
    int still = 0;
    CURLMcode mc = curl_multi_perform(http->multi, &still);
    /* A transfer that this perform finished (fewer running than before)
     * is there to be read now: do not wait for the sockets first (a whole
     * poll timeout per short request otherwise: 100 ms for each header
     * read of `info`). With nothing finished, the poll is also the wait
     * for the caller's next timer. */
    if (mc == CURLM_OK && timeout_ms > 0 && still >= http->running) {
        mc = curl_multi_poll(http->multi, NULL, 0, (int)timeout_ms, NULL);
        if (mc == CURLM_OK)
            mc = curl_multi_perform(http->multi, &still);
    }
    http->running = still;
    if (mc != CURLM_OK)
        return hub__error_set(HUB_ERROR, "transfer engine failure: %s",
                              curl_multi_strerror(mc));
    return HUB_OK;
}

static bool is_tls_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
        return true;
    default:
        return false;
    }
}

/* Did the proxy answer, refusing only the way on to the server? A 407 or
 * a refusal of our credentials is the proxy's own problem. */
static bool proxy_cannot_reach(hub_xfer *x, CURLcode rc)
{
    long code = 0;
    if (curl_easy_getinfo(x->easy, CURLINFO_HTTP_CONNECTCODE, &code) ==
            CURLE_OK &&
        code >= 400 && code != 407)
        return true;
    long px = CURLPX_OK;
    if (rc != CURLE_PROXY ||
        curl_easy_getinfo(x->easy, CURLINFO_PROXY_ERROR, &px) != CURLE_OK)
        return false;
    return px == CURLPX_REPLY_HOST_UNREACHABLE ||
           px == CURLPX_REPLY_NETWORK_UNREACHABLE ||
           px == CURLPX_REPLY_CONNECTION_REFUSED ||
           px == CURLPX_REPLY_TTL_EXPIRED ||
           px == CURLPX_REPLY_GENERAL_SERVER_FAILURE ||
           px == CURLPX_RESOLVE_HOST;
}

static int transport_error(hub_xfer *x, CURLcode rc)
{
    const char *detail =
        x->curl_error[0] ? x->curl_error : curl_easy_strerror(rc);
    int code;
    if (rc == CURLE_OPERATION_TIMEDOUT)
        code = HUB_ETIMEOUT;
    else if (is_tls_error(rc))
        return hub__error_set(HUB_ETLS,
                              "%s; if a private CA or an inspecting proxy is "
                              "in the way, point SSL_CERT_FILE (or "
                              "--ca-bundle) at its certificate",
                              detail);
    else if (x->proxy && proxy_cannot_reach(x, rc)) {
        /* the proxy works but not towards this host (a CONNECT answered
         * 502, a SOCKS "host unreachable"): another endpoint may do */
        char shown[256];
        redact(x->proxy, shown, sizeof(shown));
        char *host = hub__http_host(x->url);
        int error = hub__error_set(HUB_ENET, "proxy %s could not reach %s: %s",
                                   shown, host ? host : "the server", detail);
        hub__free(host);
        return error;
    } else if (x->proxy &&
               (rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_PROXY ||
                rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR ||
                rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING)) {
        /* through a proxy every connection is to the proxy */
        char shown[256];
        redact(x->proxy, shown, sizeof(shown));
        return hub__error_set(HUB_EPROXY,
                              "proxy %s failed: %s; check --proxy, "
                              "HTTPS_PROXY/HTTP_PROXY/ALL_PROXY and NO_PROXY",
                              shown, detail);
    } else if (rc == CURLE_OUT_OF_MEMORY)
        return hub__error_oom();
    else
        code = HUB_ENET;
    return hub__error_set(code, "%s", detail);
}

hub_xfer *hub__http_next_done(hub_http *http, int *result)
{
    int left = 0;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(http->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        hub_xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &x);
        if (!x)
            continue;
        CURLcode rc = msg->data.result;
        curl_multi_remove_handle(http->multi, x->easy);
        x->in_multi = false;
        if (x->failed_cb) {
            hub__error_restore(&x->cb_error);
            *result = x->cb_code;
        } else if (x->body_cut && rc == CURLE_WRITE_ERROR) {
            *result = HUB_OK; /* the response is in; its body was enough */
        } else if (rc != CURLE_OK)
            *result = transport_error(x, rc);
        else
            *result = HUB_OK;
        return x;
    }
    return NULL;
}

/* ---- URLs --------------------------------------------------------------- */

char *hub__http_quote(const char *s, bool keep_slash)
{
    /* curl_easy_escape keeps exactly A-Za-z0-9-._~, as Python's quote. */
    size_t len = strlen(s);
    char *out = hub__malloc(3 * len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const char *seg = s;
    for (;;) {
        size_t n = keep_slash ? strcspn(seg, "/") : strlen(seg);
        if (n) {
            char *esc = curl_easy_escape(NULL, seg, (int)n);
            if (!esc) {
                hub__free(out);
                hub__error_oom();
                return NULL;
            }
            size_t el = strlen(esc);
            memcpy(out + o, esc, el);
            o += el;
            curl_free(esc);
        }
        if (seg[n] == '\0')
            break;
        out[o++] = '/';
        seg += n + 1;
    }
    out[o] = '\0';
    return out;
}

char *hub__http_quote_plus(const char *s)
{
    char *q = hub__http_quote(s, false);
    if (!q)
        return NULL;
    /* "%20" -> "+", in place: the result only shrinks */
    char *w = q;
    for (const char *r = q; *r;) {
        if (r[0] == '%' && r[1] == '2' && r[2] == '0') {
            *w++ = '+';
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return q;
}

static bool url_parts(const char *url, char **scheme, char **host, char **port)
{
    CURLU *u = curl_url();
    bool ok =
        u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK;
    curl_url_cleanup(u);
    return ok;
}

bool hub__http_same_origin(const char *a, const char *b)
{
    char *sa = NULL, *ha = NULL, *pa = NULL;
    char *sb = NULL, *hb = NULL, *pb = NULL;
    bool same = url_parts(a, &sa, &ha, &pa) && url_parts(b, &sb, &hb, &pb) &&
                hub__str_ieq(sa, sb) && hub__str_ieq(ha, hb) &&
                strcmp(pa, pb) == 0;
    curl_free(sa);
    curl_free(ha);
    curl_free(pa);
    curl_free(sb);
    curl_free(hb);
    curl_free(pb);
    return same;
}

char *hub__http_host(const char *url)
{
    char *s = NULL, *h = NULL, *p = NULL;
    char *out = NULL;
    if (url_parts(url, &s, &h, &p)) {
        out = hub__strdup(h);
        for (char *c = out; c && *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
    }
    curl_free(s);
    curl_free(h);
    curl_free(p);
    return out;
}

char *hub__http_resolve(const char *base, const char *ref)
{
    CURLU *u = curl_url();
    char *joined = NULL;
    char *out = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &joined, 0) == CURLUE_OK)
        out = hub__strdup(joined);
    curl_free(joined);
    curl_url_cleanup(u);
    return out;
}
