/* SPDX-License-Identifier: MIT */
/* client.c: clients, their settings from options and the environment, and
 * the public download entry points. */
#include "client.h"

#include "alloc.h"
#include "download.h"
#include "http.h"
#include "path.h"
#include "result.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_ENDPOINT "https://huggingface.co"
#define TOKEN_FILE_MAX 4096

static atomic_long init_refs;

int hub_global_init(void)
{
    if (atomic_fetch_add(&init_refs, 1) > 0)
        return HUB_OK;
    int error = hub__http_global_init();
    if (error < 0)
        atomic_fetch_sub(&init_refs, 1);
    return error;
}

void hub_global_cleanup(void)
{
    long before = atomic_load(&init_refs);
    while (before > 0 &&
           !atomic_compare_exchange_weak(&init_refs, &before, before - 1))
        ;
    if (before == 1)
        hub__http_global_cleanup();
}

const char *hub_version(void)
{
#define HUB__STR2(x) #x
#define HUB__STR(x) HUB__STR2(x)
    return HUB__STR(HUB_VERSION_MAJOR) "." HUB__STR(
        HUB_VERSION_MINOR) "." HUB__STR(HUB_VERSION_PATCH);
}

int hub_version_num(void)
{
    return HUB_VERSION_NUM;
}

/* The bytes of hub_client_options a caller of `version` has. */
static size_t client_options_size(unsigned int version)
{
    return version == 1 ? offsetof(hub_client_options, send_token_to_mirrors)
                        : sizeof(hub_client_options);
}

int hub_client_options_init(hub_client_options *opts, unsigned int version)
{
    if (!opts)
        return hub__error_set(HUB_EINVAL, "invalid argument: opts");
    if (version == 0 || version > HUB_CLIENT_OPTIONS_VERSION)
        return hub__error_set(
            HUB_EVERSION, "client options version %u not supported", version);
    hub_client_options init = HUB_CLIENT_OPTIONS_INIT;
    init.version = version;
    /* an older caller's struct is shorter: fill only what it has */
    memcpy(opts, &init, client_options_size(version));
    return HUB_OK;
}

int hub_download_options_init(hub_download_options *opts, unsigned int version)
{
    if (!opts)
        return hub__error_set(HUB_EINVAL, "invalid argument: opts");
    if (version == 0 || version > HUB_DOWNLOAD_OPTIONS_VERSION)
        return hub__error_set(
            HUB_EVERSION, "download options version %u not supported", version);
    hub_download_options init = HUB_DOWNLOAD_OPTIONS_INIT;
    init.version = version;
    /* an older caller's struct is shorter: fill only what it has */
    memcpy(opts, &init, hub__download_options_size(version));
    return HUB_OK;
}

/* ---- the environment, read as huggingface_hub reads it --------------------
 */

typedef struct env {
    bool use;
} env;

/* os.environ.get(name): NULL when unset (an empty value counts as set) */
static const char *env_get(const env *e, const char *name)
{
    return e->use ? getenv(name) : NULL;
}

/* `os.environ.get(a) or os.environ.get(b)`: empty counts as unset */
static const char *env_first(const env *e, const char *a, const char *b)
{
    const char *v = env_get(e, a);
    if (v && v[0])
        return v;
    v = b ? env_get(e, b) : NULL;
    return v && v[0] ? v : NULL;
}

/* HF_HOME = expandvars(expanduser($HF_HOME or ($XDG_CACHE_HOME or
 * ~/.cache)/huggingface)) */
static char *hf_home(const env *e)
{
    const char *home = env_get(e, "HF_HOME");
    if (home)
        return hub__path_expand(home);
    const char *xdg = env_get(e, "XDG_CACHE_HOME");
    char *base = xdg ? hub__strdup(xdg) : hub__path_expand("~/.cache");
    char *joined = base ? hub__path_join(base, "huggingface") : NULL;
    hub__free(base);
    char *out = joined ? hub__path_expand(joined) : NULL;
    hub__free(joined);
    return out;
}

static char *default_cache_dir(const env *e)
{
    const char *v = env_get(e, "HF_HUB_CACHE");
    if (!v)
        v = env_get(e, "HUGGINGFACE_HUB_CACHE");
    if (v)
        return hub__path_expand(v);
    char *home = hf_home(e);
    char *out = home ? hub__path_join(home, "hub") : NULL;
    hub__free(home);
    return out;
}

/* _clean_token: drop CR and LF, strip, empty means none */
static char *clean_token(const char *raw, size_t len)
{
    char *copy = hub__malloc(len + 1);
    if (!copy)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (raw[i] != '\r' && raw[i] != '\n')
            copy[n++] = raw[i];
    char *out = hub__str_trim_dup(copy, n);
    memset(copy, 0, len + 1);
    hub__free(copy);
    return out;
}

/* constants.HF_TOKEN_PATH: expandvars(expanduser($HF_TOKEN_PATH or
 * $HF_HOME/token)) */
static char *token_path(const env *e)
{
    const char *p = env_get(e, "HF_TOKEN_PATH");
    if (p)
        return hub__path_expand(p);
    char *home = hf_home(e);
    char *path = home ? hub__path_join(home, "token") : NULL;
    hub__free(home);
    return path;
}

char *hub__client_token_path(void)
{
    env e = {true};
    return token_path(&e);
}

char *hub__client_clean_token(const char *raw, size_t len)
{
    return clean_token(raw, len);
}

static int token_from_file(const env *e, char **out)
{
    *out = NULL;
    char *path = token_path(e);
    if (!path)
        return HUB_ENOMEM;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    hub__free(path);
    if (fd < 0)
        return HUB_OK;
    char buf[TOKEN_FILE_MAX];
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    if (n <= 0)
        return HUB_OK;
    char *tok = clean_token(buf, (size_t)n);
    memset(buf, 0, sizeof(buf));
    if (!tok)
        return HUB_ENOMEM;
    if (tok[0])
        *out = tok;
    else
        hub__free(tok);
    return HUB_OK;
}

static int resolve_token(const hub_client_options *o, const env *e, char **out)
{
    *out = NULL;
    if (o->token) {
        if (!o->token[0])
            return HUB_OK; /* "" : explicitly no token */
        *out = clean_token(o->token, strlen(o->token));
        return *out ? HUB_OK : HUB_ENOMEM;
    }
    if (hub__str_is_true(env_get(e, "HF_HUB_DISABLE_IMPLICIT_TOKEN")))
        return HUB_OK;
    const char *v = env_first(e, "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN");
    if (v) {
        char *tok = clean_token(v, strlen(v));
        if (!tok)
            return HUB_ENOMEM;
        if (tok[0])
            *out = tok;
        else
            hub__free(tok);
        return HUB_OK;
    }
    return token_from_file(e, out);
}

/* ---- endpoints
 * ---------------------------------------------------------------- */

#define HF_MIRROR "https://hf-mirror.com"

/* Simplified Chinese locale (LC_ALL, then LC_MESSAGES, then LANG)? */
static bool chinese_locale(const env *e)
{
    const char *names[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < HUB_ARRAY_LEN(names); i++) {
        const char *v = env_get(e, names[i]);
        if (!v || !v[0])
            continue;
        return hub__str_ieqn(v, "zh_CN", 5) || hub__str_ieqn(v, "zh-CN", 5) ||
               hub__str_ieqn(v, "zh_SG", 5) || hub__str_ieqn(v, "zh_Hans", 7);
    }
    return false;
}

/* Add an endpoint (once); `token`: it gets the token. */
static int add_endpoint(hub_client *c, const char *url, size_t len, bool token)
{
    while (len && url[len - 1] == '/')
        len--;
    if (!len)
        return HUB_OK;
    char *copy = hub__strndup(url, len);
    if (!copy)
        return HUB_ENOMEM;
    if (!hub__str_starts_with(copy, "http://") &&
        !hub__str_starts_with(copy, "https://")) {
        /* the message masks credentials */
        int error = hub__error_set(HUB_EINVAL,
                                   "endpoint '%s' must start with http:// or "
                                   "https://, or be 'auto'",
                                   copy);
        hub__free(copy);
        return error;
    }
    token = token || c->token_to_all;
    for (size_t i = 0; i < c->nendpoints; i++)
        if (strcmp(c->endpoints[i], copy) == 0) {
            c->token_to[i] = c->token_to[i] || token;
            hub__free(copy);
            return HUB_OK;
        }
    char *shown = hub__http_url_shown(copy);
    char **list =
        hub__reallocarray(c->endpoints, c->nendpoints + 1, sizeof(*list));
    if (list)
        c->endpoints = list;
    char **shown_list =
        list ? hub__reallocarray(c->shown, c->nendpoints + 1, sizeof(*list))
             : NULL;
    if (shown_list)
        c->shown = shown_list;
    bool *token_to = shown_list
                         ? hub__reallocarray(c->token_to, c->nendpoints + 1,
                                             sizeof(*token_to))
                         : NULL;
    if (token_to)
        c->token_to = token_to;
    if (!shown || !token_to) {
        hub__free(copy);
        hub__free(shown);
        return HUB_ENOMEM;
    }
    c->endpoints[c->nendpoints] = copy;
    c->shown[c->nendpoints] = shown;
    c->token_to[c->nendpoints++] = token;
    return HUB_OK;
}

/* One endpoint spec: a URL, or "auto" (the mirror or the hub by locale,
 * then the other as fallback). `token`: the spec is the one the token is
 * for; with "auto" that is the hub, never the mirror it adds. */
static int
add_spec(hub_client *c, const env *e, const char *s, size_t len, bool token)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 4 && hub__str_ieqn(s, "auto", 4)) {
        bool zh = chinese_locale(e);
        const char *first = zh ? HF_MIRROR : DEFAULT_ENDPOINT;
        const char *second = zh ? DEFAULT_ENDPOINT : HF_MIRROR;
        int error = add_endpoint(c, first, strlen(first), token && !zh);
        return error < 0 ? error
                         : add_endpoint(c, second, strlen(second), token && zh);
    }
    return add_endpoint(c, s, len, token);
}

static int
resolve_endpoints(hub_client *c, const hub_client_options *o, const env *e)
{
    const char *first = o->endpoint ? o->endpoint : env_get(e, "HF_ENDPOINT");
    if (!first || !first[0])
        first = DEFAULT_ENDPOINT;
    int error = add_spec(c, e, first, strlen(first), true);
    if (error == HUB_OK && o->fallback_count) {
        for (size_t i = 0; i < o->fallback_count && error == HUB_OK; i++)
            error = add_spec(c, e, o->fallback_endpoints[i],
                             strlen(o->fallback_endpoints[i]), false);
    } else if (error == HUB_OK) {
        const char *list = env_get(e, "HUBFETCH_ENDPOINTS");
        for (const char *p = list; p && *p && error == HUB_OK;) {
            size_t n = strcspn(p, ",");
            error = add_spec(c, e, p, n, false);
            p += n;
            if (*p == ',')
                p++;
        }
    }
    if (error == HUB_OK)
        c->endpoint = c->endpoints[0];
    return error;
}

/* ---- ModelScope's defaults, as its SDKs read them ---------------------- */

#define MS_CN "https://www.modelscope.cn"
#define MS_AI "https://www.modelscope.ai"

/* Endpoint: MODELSCOPE_ENDPOINT (a URL; https:// added if missing), else
 * MODELSCOPE_DOMAIN (a bare domain), else .cn then .ai, probed in that
 * order (the reverse with MODELSCOPE_PREFER_AI_SITE=true). */
static int
resolve_ms_endpoints(hub_client *c, const hub_client_options *o, const env *e)
{
    const char *chosen = o->endpoint;
    if (!chosen) {
        const char *v = env_get(e, "MODELSCOPE_ENDPOINT");
        if (v && v[0])
            chosen = v;
    }
    if (!chosen) {
        const char *v = env_get(e, "MODELSCOPE_DOMAIN");
        if (v && v[0])
            chosen = v;
    }
    int error = HUB_OK;
    if (chosen) {
        char *url = strstr(chosen, "://") ? hub__strdup(chosen)
                                          : hub__aprintf("https://%s", chosen);
        error = url ? add_endpoint(c, url, strlen(url), true) : HUB_ENOMEM;
        hub__free(url);
    } else {
        const char *pref = env_get(e, "MODELSCOPE_PREFER_AI_SITE");
        bool ai = pref && strcmp(pref, "true") == 0;
        const char *first = ai ? MS_AI : MS_CN, *second = ai ? MS_CN : MS_AI;
        /* both sites are ModelScope's own: the token is for either */
        error = add_endpoint(c, first, strlen(first), true);
        if (error == HUB_OK)
            error = add_endpoint(c, second, strlen(second), true);
    }
    for (size_t i = 0; i < o->fallback_count && error == HUB_OK; i++)
        error = add_endpoint(c, o->fallback_endpoints[i],
                             strlen(o->fallback_endpoints[i]), false);
    if (error == HUB_OK)
        c->endpoint = c->endpoints[0];
    return error;
}

static int
resolve_ms_token(const hub_client_options *o, const env *e, char **out)
{
    *out = NULL;
    const char *v = o->token ? o->token : env_get(e, "MODELSCOPE_API_TOKEN");
    if (!v || !v[0])
        return HUB_OK;
    *out = clean_token(v, strlen(v));
    return *out ? HUB_OK : HUB_ENOMEM;
}

/* $MODELSCOPE_CACHE, else ~/.cache/modelscope/hub: the classic SDK's root,
 * where the newer SDK looks too */
static char *ms_cache_dir(const env *e)
{
    const char *v = env_get(e, "MODELSCOPE_CACHE");
    return hub__path_expand(v && v[0] ? v : "~/.cache/modelscope/hub");
}

/* ---- proxies, as Python's urllib.request.getproxies() reads them -----------
 */

/* $name_proxy in either case; the lowercase one wins, even when empty */
static const char *env_proxy(const env *e, const char *lower, const char *upper)
{
    const char *v = env_get(e, lower);
    if (v)
        return v[0] ? v : NULL;
    v = env_get(e, upper);
    return v && v[0] ? v : NULL;
}

static int set_proxy(char **out, const char *value)
{
    *out = NULL;
    if (!value || !value[0])
        return HUB_OK;
    /* a bare host:port means an HTTP proxy, as httpx reads it */
    *out = strstr(value, "://") ? hub__strdup(value)
                                : hub__aprintf("http://%s", value);
    return *out ? HUB_OK : HUB_ENOMEM;
}

static int
resolve_proxies(hub_client *c, const hub_client_options *o, const env *e)
{
    int error;
    if (o->proxy) {
        error = set_proxy(&c->proxy_http, o->proxy);
        if (error == HUB_OK)
            error = set_proxy(&c->proxy_https, o->proxy);
    } else {
        const char *all = env_proxy(e, "all_proxy", "ALL_PROXY");
        const char *http = env_proxy(e, "http_proxy", "HTTP_PROXY");
        /* CGI: an HTTP_PROXY variable may come from a request header */
        if (env_get(e, "REQUEST_METHOD") && !env_get(e, "http_proxy"))
            http = NULL;
        const char *https = env_proxy(e, "https_proxy", "HTTPS_PROXY");
        error = set_proxy(&c->proxy_http, http ? http : all);
        if (error == HUB_OK)
            error = set_proxy(&c->proxy_https, https ? https : all);
    }
    const char *np =
        o->no_proxy ? o->no_proxy : env_proxy(e, "no_proxy", "NO_PROXY");
    if (error == HUB_OK && np && np[0] && !(c->no_proxy = hub__strdup(np)))
        error = HUB_ENOMEM;
    return error;
}

/* ---- client ---------------------------------------------------------------
 */

static int bad_option(const char *what)
{
    return hub__error_set(HUB_EINVAL, "invalid client option: %s", what);
}

int hub_client_new(hub_client **out, const hub_client_options *opts)
{
    HUB_ASSERT_ARG(out);
    *out = NULL;
    hub_client_options defaults = HUB_CLIENT_OPTIONS_INIT;
    const hub_client_options *o = opts ? opts : &defaults;
    if (o->version == 0 || o->version > HUB_CLIENT_OPTIONS_VERSION)
        return hub__error_set(HUB_EVERSION,
                              "client options version %u not supported "
                              "(this library knows %d)",
                              o->version, HUB_CLIENT_OPTIONS_VERSION);
    if (o->max_files < 0 || o->connections < 0 || o->max_connections < 0)
        return bad_option("negative concurrency");
    if (o->connect_timeout_ms < 0 || o->stall_timeout_ms < 0)
        return bad_option("negative timeout");
    if (o->max_retries < HUB_AUTO || o->lock_timeout_ms < -1)
        return bad_option("retries or lock timeout");
    for (size_t i = 0; i < o->fallback_count; i++)
        if (!o->fallback_endpoints || !o->fallback_endpoints[i])
            return bad_option("fallback_count without that many endpoints");

    env e = {!(o->flags & HUB_CLIENT_IGNORE_ENV)};
    hub_client *c = hub__calloc(1, sizeof(*c));
    if (!c)
        return HUB_ENOMEM;
    c->magic = HUB_CLIENT_MAGIC;
    atomic_init(&c->busy, false);
    atomic_init(&c->cancel, false);
    int error = HUB_OK;

    if (o->hub != HUB_KIND_HF && o->hub != HUB_KIND_MODELSCOPE) {
        error = bad_option("hub");
        goto fail;
    }
    c->hub = o->hub;
    c->token_to_all = o->version >= 2 && o->send_token_to_mirrors;
    bool ms = o->hub == HUB_KIND_MODELSCOPE;
    if ((error = ms ? resolve_ms_endpoints(c, o, &e)
                    : resolve_endpoints(c, o, &e)) < 0)
        goto fail;
    if (!(c->token_endpoints =
              hub__calloc(c->nendpoints, sizeof(*c->token_endpoints)))) {
        error = HUB_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < c->nendpoints; i++)
        if (c->token_to[i])
            c->token_endpoints[c->ntoken_endpoints++] = c->endpoints[i];
    if ((error = resolve_proxies(c, o, &e)) < 0)
        goto fail;
    /* CA certificates as Python's ssl/httpx take them from the environment */
    const char *ca = o->ca_bundle ? o->ca_bundle : env_get(&e, "SSL_CERT_FILE");
    const char *ca_dir = o->ca_bundle ? NULL : env_get(&e, "SSL_CERT_DIR");
    if ((ca && ca[0] && !(c->ca_file = hub__path_expand(ca))) ||
        (ca_dir && ca_dir[0] && !(c->ca_dir = hub__path_expand(ca_dir)))) {
        error = HUB_ENOMEM;
        goto fail;
    }

    if ((error = ms ? resolve_ms_token(o, &e, &c->token)
                    : resolve_token(o, &e, &c->token)) < 0)
        goto fail;

    char *dir = o->cache_dir ? hub__path_expand(o->cache_dir)
                : ms         ? ms_cache_dir(&e)
                             : default_cache_dir(&e);
    if (!dir) {
        error = HUB_ENOMEM;
        goto fail;
    }
    /* Path(cache_dir).expanduser().resolve(), as huggingface_hub */
    c->cache_dir = hub__path_resolve(dir);
    hub__free(dir);
    if (!c->cache_dir) {
        error = HUB_ENOMEM;
        goto fail;
    }

    /* the ModelScope SDKs have no offline variable: HF's is not theirs */
    c->offline = o->offline == HUB_AUTO
                     ? !ms && hub__str_is_true(env_first(
                                  &e, "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
                     : o->offline != 0;
    c->symlinks =
        o->symlinks == HUB_AUTO
            ? !hub__str_is_true(env_get(&e, "HF_HUB_DISABLE_SYMLINKS"))
            : o->symlinks != 0;

    c->user_agent =
        o->user_agent && o->user_agent[0]
            ? hub__aprintf("hubfetch/%s; %s", hub_version(), o->user_agent)
            : hub__aprintf("hubfetch/%s", hub_version());
    if (!c->user_agent) {
        error = HUB_ENOMEM;
        goto fail;
    }
    c->max_files = o->max_files ? o->max_files : 8;
    c->connections = o->connections ? o->connections : 16;
    c->max_connections = o->max_connections ? o->max_connections : 16;
    c->max_rate = o->max_rate;
    c->split_threshold =
        o->split_threshold ? o->split_threshold : 16u * 1024 * 1024;
    c->part_size = o->part_size;
    c->connect_timeout_ms =
        o->connect_timeout_ms ? o->connect_timeout_ms : 10000;
    c->stall_timeout_ms = o->stall_timeout_ms ? o->stall_timeout_ms : 30000;
    c->max_retries = o->max_retries == HUB_AUTO ? 5 : o->max_retries;
    c->retry_base_ms = 500;
    c->lock_timeout_ms = o->lock_timeout_ms ? o->lock_timeout_ms : 600000;
    c->log.cb = o->log_cb;
    c->log.payload = o->log_payload;
    c->log.level = o->log_level;
    *out = c;
    return HUB_OK;
fail:
    hub_client_free(c);
    return error;
}

bool hub__client_token_for(const hub_client *c, const char *endpoint)
{
    for (size_t i = 0; i < c->nendpoints; i++)
        if (c->endpoints[i] == endpoint ||
            hub__http_same_origin(endpoint, c->endpoints[i]))
            if (c->token_to[i])
                return true;
    return false;
}

void hub__client_http_config(const hub_client *c, hub_http_config *cfg)
{
    *cfg = (hub_http_config){
        .user_agent = c->user_agent,
        .connect_timeout_ms = c->connect_timeout_ms,
        .stall_timeout_ms = c->stall_timeout_ms,
        .proxy_http = c->proxy_http,
        .proxy_https = c->proxy_https,
        .no_proxy = c->no_proxy,
        .ca_file = c->ca_file,
        .ca_dir = c->ca_dir,
        .max_total_connections = c->max_connections,
    };
}

void hub__client_engine_config(const hub_client *c, hub__engine_config *cfg)
{
    *cfg = (hub__engine_config){
        .endpoints = (const char *const *)c->endpoints,
        .nendpoints = c->nendpoints,
        .shown = (const char *const *)c->shown,
        .token_endpoints = (const char *const *)c->token_endpoints,
        .ntoken_endpoints = c->ntoken_endpoints,
        .token = c->token,
        .log = &c->log,
        .max_files = c->max_files,
        .connections = c->connections,
        .max_connections = c->max_connections,
        .split_threshold = c->split_threshold,
        .part_size = c->part_size,
        .max_rate = c->max_rate,
        .max_retries = c->max_retries,
        .retry_base_ms = c->retry_base_ms,
        .lock_timeout_ms = c->lock_timeout_ms,
    };
}

void hub_client_free(hub_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nendpoints; i++) {
        hub__free(c->endpoints[i]);
        hub__free(c->shown[i]);
    }
    hub__free(c->endpoints);
    hub__free(c->shown);
    hub__free(c->token_to);
    hub__free(c->token_endpoints);
    if (c->token) {
        memset(c->token, 0, strlen(c->token));
        hub__free(c->token);
    }
    hub__free(c->cache_dir);
    hub__free(c->user_agent);
    hub__free(c->proxy_http);
    hub__free(c->proxy_https);
    hub__free(c->no_proxy);
    hub__free(c->ca_file);
    hub__free(c->ca_dir);
    hub__tree_memo_free(&c->tree_memo);
    c->magic = 0;
    hub__free(c);
}

const char *hub_client_cache_dir(const hub_client *c)
{
    return c ? c->cache_dir : NULL;
}

const char *hub_client_endpoint(const hub_client *c)
{
    return c && c->shown ? c->shown[0] : NULL;
}

int hub__client_enter(hub_client *c)
{
    if (!c || c->magic != HUB_CLIENT_MAGIC)
        return hub__error_set(HUB_EINVAL, "invalid argument: client");
    bool expected = false;
    if (!atomic_compare_exchange_strong(&c->busy, &expected, true))
        return hub__error_set(HUB_EBUSY,
                              "the client is busy: a callback may not call "
                              "back into its own client, and a client serves "
                              "one call at a time");
    atomic_store(&c->cancel, false);
    return HUB_OK;
}

/* Called from signal handlers: only a lock-free atomic store is allowed. */
_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2,
               "hub_client_cancel needs a lock-free atomic_bool");

void hub_client_cancel(hub_client *c)
{
    if (c)
        atomic_store(&c->cancel, true);
}

void hub__client_leave(hub_client *c)
{
    atomic_store(&c->busy, false);
}

/* ---- downloads --------------------------------------------------------------
 */

/* `o` is whole and checked (hub__download_options_take). */
static int run_download(hub_result **out,
                        hub_client *c,
                        const char *repo_id,
                        const hub_download_options *o,
                        bool single)
{
    hub__progress progress;
    hub__progress_init(&progress, o->progress_cb, o->progress_payload);
    progress.cancel_also = &c->cancel;
    int error = hub__download(out, c, repo_id, o, single, &progress);
    hub__progress_free(&progress);
    return error;
}

int hub_download(hub_result **out,
                 hub_client *client,
                 const char *repo_id,
                 const hub_download_options *opts)
{
    HUB_ASSERT_ARG(out);
    *out = NULL;
    HUB_ASSERT_ARG(repo_id);
    hub_download_options o;
    int error = hub__download_options_take(&o, opts);
    if (error < 0)
        return error;
    if ((error = hub__client_enter(client)) < 0)
        return error;
    error = run_download(out, client, repo_id, &o, hub__download_is_single(&o));
    hub__client_leave(client);
    return error;
}

static int path_download(char **path_out,
                         hub_client *client,
                         const char *repo_id,
                         const char *filename,
                         const hub_download_options *opts)
{
    HUB_ASSERT_ARG(path_out);
    *path_out = NULL;
    HUB_ASSERT_ARG(repo_id);
    hub_download_options o;
    int error = hub__download_options_take(&o, opts);
    if (error < 0)
        return error;
    if ((error = hub__client_enter(client)) < 0)
        return error;
    const char *files[1] = {filename};
    if (filename) {
        o.files = files;
        o.file_count = 1;
        o.allow_patterns = o.ignore_patterns = NULL;
        o.allow_count = o.ignore_count = 0;
    }
    hub_result *r = NULL;
    error = run_download(&r, client, repo_id, &o, filename != NULL);
    if (error == HUB_OK) {
        *path_out = hub__strdup(r->path);
        if (!*path_out)
            error = HUB_ENOMEM;
    }
    hub_result_free(r);
    hub__client_leave(client);
    return error;
}

int hub_download_file(char **path_out,
                      hub_client *client,
                      const char *repo_id,
                      const char *filename,
                      const hub_download_options *opts)
{
    if (path_out)
        *path_out = NULL;
    HUB_ASSERT_ARG(filename);
    return path_download(path_out, client, repo_id, filename, opts);
}

int hub_snapshot_download(char **path_out,
                          hub_client *client,
                          const char *repo_id,
                          const hub_download_options *opts)
{
    return path_download(path_out, client, repo_id, NULL, opts);
}

int hub_cache_lookup(hub_result **out,
                     hub_client *client,
                     const char *repo_id,
                     const hub_download_options *opts)
{
    HUB_ASSERT_ARG(out);
    *out = NULL;
    HUB_ASSERT_ARG(repo_id);
    hub_download_options o;
    int error = hub__download_options_take(&o, opts);
    if (error < 0)
        return error;
    if ((error = hub__client_enter(client)) < 0)
        return error;
    error = hub__lookup(out, client, repo_id, &o);
    hub__client_leave(client);
    return error;
}
