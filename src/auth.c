/* SPDX-License-Identifier: MIT */
/* auth.c: who a token belongs to (whoami-v2), and the token files
 * huggingface_hub's login() writes and logout() removes. */
#include "alloc.h"
#include "buf.h"
#include "client.h"
#include "engine.h"
#include "http.h"
#include "json.h"
#include "path.h"
#include "progress.h"
#include "safefs.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WHOAMI_BODY_MAX (1024u * 1024)
#define ORGS_MAX 10000
#define STORED_TOKENS_MAX (1024u * 1024)
#define STORED_TOKENS_NAME "stored_tokens"

/* ---- whoami ---------------------------------------------------------------
 */

/* What hub_whoami() hands out, and what it owns. */
typedef struct whoami_owned {
    hub_whoami_info info; /* first: the public pointer is this struct's */
    char *name, *fullname, *type, *token_name, *token_role;
    char **orgs;
} whoami_owned;

void hub_whoami_info_free(hub_whoami_info *info)
{
    if (!info)
        return;
    whoami_owned *w = (whoami_owned *)info;
    hub__free(w->name);
    hub__free(w->fullname);
    hub__free(w->type);
    hub__free(w->token_name);
    hub__free(w->token_role);
    for (size_t i = 0; i < info->org_count; i++)
        hub__free(w->orgs[i]);
    hub__free(w->orgs);
    hub__free(w);
}

/* A string member as it may be shown, NULL when absent; ENOMEM through
 * `*error`. */
static char *shown_string(const hub_json *v, int *error)
{
    const char *s = v ? hub__json_string(v) : NULL;
    if (!s)
        return NULL;
    char *copy = hub__strdup(s);
    if (!copy) {
        *error = HUB_ENOMEM;
        return NULL;
    }
    hub__text_clean(copy, strlen(copy) + 1);
    return copy;
}

static int parse_whoami(whoami_owned *w, const char *body, const char *shown)
{
    hub_json *root = NULL;
    int error = hub__json_parse(&root, body, strlen(body), "whoami answer");
    if (error < 0)
        return error;
    if (!hub__json_is_object(root) || !hub__json_get(root, "name") ||
        !hub__json_string(hub__json_get(root, "name"))) {
        hub__json_free(root);
        return hub__error_set(HUB_EPROTO,
                              "%s/api/whoami-v2 did not answer with an "
                              "account name (not a Hugging Face hub?)",
                              shown);
    }
    w->name = shown_string(hub__json_get(root, "name"), &error);
    w->fullname = shown_string(hub__json_get(root, "fullname"), &error);
    w->type = shown_string(hub__json_get(root, "type"), &error);
    const hub_json *auth = hub__json_get(root, "auth");
    const hub_json *at =
        hub__json_is_object(auth) ? hub__json_get(auth, "accessToken") : NULL;
    if (hub__json_is_object(at)) {
        w->token_name = shown_string(hub__json_get(at, "displayName"), &error);
        w->token_role = shown_string(hub__json_get(at, "role"), &error);
    }
    const hub_json *orgs = hub__json_get(root, "orgs");
    size_t n = hub__json_is_array(orgs) ? hub__json_array_size(orgs) : 0;
    if (n > ORGS_MAX)
        n = ORGS_MAX;
    if (error == HUB_OK && n && !(w->orgs = hub__calloc(n, sizeof(*w->orgs))))
        error = HUB_ENOMEM;
    for (size_t i = 0; i < n && error == HUB_OK; i++) {
        const hub_json *org = hub__json_array_get(orgs, i);
        char *name = hub__json_is_object(org)
                         ? shown_string(hub__json_get(org, "name"), &error)
                         : NULL;
        if (name)
            w->orgs[w->info.org_count++] = name;
    }
    hub__json_free(root);
    w->info.name = w->name;
    w->info.fullname = w->fullname;
    w->info.type = w->type;
    w->info.orgs = (const char *const *)w->orgs;
    w->info.token_name = w->token_name;
    w->info.token_role = w->token_role;
    return error;
}

/* The failed answer `r` of whoami-v2 at `shown`, as an error. */
static int whoami_error(const hub_http_resp *r, const char *shown)
{
    long s = r->status;
    if (s == 401 || s == 403)
        return hub__error_set_http(HUB_EAUTH, s,
                                   "token refused by %s (HTTP %ld): run "
                                   "'hubfetch auth login' with a valid "
                                   "token, or fix HF_TOKEN",
                                   shown, s);
    if (s == 429)
        return hub__error_set_http(HUB_ERATELIMIT, s,
                                   "%s rate-limits whoami (HTTP 429), "
                                   "strictly on purpose; try again later",
                                   shown);
    if (s == 404)
        return hub__error_set_http(HUB_EHTTP, s,
                                   "%s has no /api/whoami-v2 (HTTP 404): a "
                                   "mirror that does not pass it through?",
                                   shown);
    return hub__error_set_http(HUB_EHTTP, s, "whoami at %s: HTTP %ld", shown,
                               s);
}

static int whoami_run(whoami_owned *w, hub_client *c)
{
    if (c->hub != HUB_KIND_HF)
        return hub__error_set(HUB_EUNSUPPORTED,
                              "whoami is a Hugging Face request; a "
                              "ModelScope client cannot make it");
    if (!c->token || !c->token[0])
        return hub__error_set(HUB_EAUTH, "no token: run 'hubfetch auth "
                                         "login' or set HF_TOKEN");
    if (!c->ntoken_endpoints)
        return hub__error_set(HUB_EINVAL, "no endpoint the token is for");
    /* the origin the token is for, and only it */
    const char *ep = c->token_endpoints[0];
    const char *shown = ep;
    for (size_t i = 0; i < c->nendpoints; i++)
        if (c->endpoints[i] == ep)
            shown = c->shown[i];
    char *url = hub__aprintf("%s/api/whoami-v2", ep);
    if (!url)
        return HUB_ENOMEM;
    hub_http_config cfg;
    hub__client_http_config(c, &cfg);
    hub_http *http = NULL;
    hub_xfer *x = NULL;
    hub_buf body = HUB_BUF_INIT(WHOAMI_BODY_MAX);
    hub__progress progress;
    hub__progress_init(&progress, NULL, NULL);
    progress.cancel_also = &c->cancel;
    int error = hub__http_new(&http, &cfg);
    if (error == HUB_OK)
        error = hub__xfer_new(&x, http);
    if (error == HUB_OK) {
        hub__meta_req req = {0};
        req.url = url;
        req.token = c->token;
        req.endpoints = &ep;
        req.nendpoints = 1;
        req.token_endpoints = &ep;
        req.ntoken_endpoints = 1;
        req.body = &body;
        req.max_retries = c->max_retries;
        req.retry_base_ms = c->retry_base_ms;
        req.log = &c->log;
        req.progress = &progress;
        error = hub__meta_fetch(x, http, &req);
    }
    if (error == HUB_OK) {
        const hub_http_resp *r = hub__xfer_resp(x);
        if (r->status >= 200 && r->status < 300)
            error = parse_whoami(w, body.ptr ? body.ptr : "", shown);
        else
            error = whoami_error(r, shown);
    }
    hub__buf_free(&body);
    hub__progress_free(&progress);
    hub__xfer_free(x);
    hub__http_free(http);
    hub__free(url);
    return error;
}

int hub_whoami(hub_whoami_info **out, hub_client *client)
{
    HUB_ASSERT_ARG(out);
    *out = NULL;
    int error = hub__client_enter(client);
    if (error < 0)
        return error;
    whoami_owned *w = hub__calloc(1, sizeof(*w));
    error = w ? whoami_run(w, client) : HUB_ENOMEM;
    hub__client_leave(client);
    if (error < 0) {
        hub_whoami_info_free(w ? &w->info : NULL);
        return error;
    }
    *out = &w->info;
    return HUB_OK;
}

/* ---- the token files ------------------------------------------------------
 */

int hub_token_path(char **out)
{
    HUB_ASSERT_ARG(out);
    *out = hub__client_token_path();
    return *out ? HUB_OK : HUB_ENOMEM;
}

/* Split `path` into its folder (fresh; "." for a bare name) and its last
 * component (inside `path`); NULL leaf for a path ending in '/'. */
static char *split_path(const char *path, const char **leaf)
{
    const char *slash = strrchr(path, '/');
    *leaf = slash ? slash + 1 : path;
    if (!**leaf)
        *leaf = NULL;
    if (!slash)
        return hub__strdup(".");
    return hub__strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* Replace the file `leaf` of `dir` with `data`, mode 0600: a temp name
 * beside it, written, flushed, renamed over it (a link there is replaced,
 * never followed). `shown` names it in messages. */
static int write_secret(const char *dir,
                        const char *leaf,
                        const char *data,
                        size_t len,
                        const char *shown)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* safefs takes paths below the root, the root included */
    char *tmp =
        hub__aprintf("%s/.hubfetch-%ld-%lx.tmp", dir, (long)getpid(),
                     (unsigned long)ts.tv_nsec ^ (unsigned long)ts.tv_sec);
    char *final = tmp ? hub__path_join(dir, leaf) : NULL;
    if (!final) {
        hub__free(tmp);
        return HUB_ENOMEM;
    }
    int fd = hub__sfs_open(dir, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        hub__free(tmp);
        hub__free(final);
        return fd;
    }
    int error = HUB_OK;
    if (fchmod(fd, 0600) != 0)
        error = hub__path_error(errno, "cannot set the mode of", shown);
    for (size_t done = 0; error == HUB_OK && done < len;) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            error = hub__path_error(errno, "cannot write", shown);
        else
            done += (size_t)n;
    }
    if (error == HUB_OK && fsync(fd) != 0)
        error = hub__path_error(errno, "cannot write", shown);
    if (close(fd) != 0 && error == HUB_OK)
        error = hub__path_error(errno, "cannot write", shown);
    if (error == HUB_OK)
        error = hub__sfs_rename(dir, tmp, final);
    if (error < 0) {
        hub__error_saved saved;
        hub__error_save(&saved);
        hub__sfs_unlink(dir, tmp);
        error = hub__error_restore(&saved);
    }
    hub__free(tmp);
    hub__free(final);
    return error;
}

/* One section of stored_tokens. */
typedef struct stored {
    char *name;
    char *token; /* hf_token, or NULL */
} stored;

typedef struct stored_list {
    stored *items;
    size_t n, cap;
} stored_list;

static void stored_free(stored_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        hub__free(l->items[i].name);
        if (l->items[i].token) {
            memset(l->items[i].token, 0, strlen(l->items[i].token));
            hub__free(l->items[i].token);
        }
    }
    hub__free(l->items);
    *l = (stored_list){0};
}

static stored *stored_find(stored_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].name, name) == 0)
            return &l->items[i];
    return NULL;
}

/* stored_tokens as configparser reads it (the parts login writes): full
 * line comments (# ;), [section] headers, "key = value" or "key: value"
 * (key lowercased). A file configparser refuses (an option outside a
 * section, a section or key twice) counts as empty, as
 * get_stored_tokens() has it; so does a missing or unreadable file. */
static int stored_parse(stored_list *l, char *text)
{
    stored *cur = NULL;
    bool bad = false;
    for (char *line = text; line && !bad;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *s = line;
        line = nl ? nl + 1 : NULL;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t len = strlen(s);
        while (len &&
               (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
            s[--len] = '\0';
        if (!*s || *s == '#' || *s == ';')
            continue;
        char *close = strrchr(s, ']');
        if (*s == '[' && close && close > s + 1) {
            *close = '\0';
            if (stored_find(l, s + 1)) {
                bad = true;
                break;
            }
            if (strcmp(s + 1, "DEFAULT") == 0) {
                cur = NULL; /* not a section configparser lists */
                continue;
            }
            if (!HUB_GROW(l->items, l->n, l->cap))
                return HUB_ENOMEM;
            cur = &l->items[l->n];
            *cur = (stored){hub__strdup(s + 1), NULL};
            if (!cur->name)
                return HUB_ENOMEM;
            l->n++;
            continue;
        }
        size_t k = strcspn(s, "=:");
        if (!s[k] || !cur) {
            bad = true; /* no section yet, or not "key = value" */
            break;
        }
        char *value = s + k + 1;
        while (k && (s[k - 1] == ' ' || s[k - 1] == '\t'))
            k--;
        while (*value == ' ' || *value == '\t')
            value++;
        if (k == 8 && hub__str_ieqn(s, "hf_token", 8)) {
            if (cur->token) {
                bad = true;
                break;
            }
            if (!(cur->token = hub__strdup(value)))
                return HUB_ENOMEM;
        }
    }
    if (bad)
        stored_free(l);
    return HUB_OK;
}

static int stored_cmp(const void *a, const void *b)
{
    return strcmp(((const stored *)a)->name, ((const stored *)b)->name);
}

/* Record `token` under `name` in stored_tokens of `dir`. */
static int stored_save(const char *dir, const char *token, const char *name)
{
    char *path = hub__path_join(dir, STORED_TOKENS_NAME);
    if (!path)
        return HUB_ENOMEM;
    stored_list l = {0};
    int error = HUB_OK;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    char *text =
        fd >= 0 ? hub__file_read_fd(fd, STORED_TOKENS_MAX, &len) : NULL;
    if (fd >= 0)
        close(fd);
    hub__error_clear(); /* unreadable: as configparser, nothing stored */
    if (text)
        error = stored_parse(&l, text);
    if (text) {
        memset(text, 0, len);
        hub__free(text);
    }
    stored *s = error == HUB_OK ? stored_find(&l, name) : NULL;
    if (error == HUB_OK && !s) {
        if (!HUB_GROW(l.items, l.n, l.cap)) {
            error = HUB_ENOMEM;
        } else {
            s = &l.items[l.n];
            *s = (stored){hub__strdup(name), NULL};
            if (s->name)
                l.n++;
            else
                error = HUB_ENOMEM;
        }
    }
    if (error == HUB_OK) {
        if (s->token)
            memset(s->token, 0, strlen(s->token));
        hub__free(s->token);
        if (!(s->token = hub__strdup(token)))
            error = HUB_ENOMEM;
    }
    /* configparser.write of sorted sections: "[name]\nkey = value\n\n" */
    hub_buf out = HUB_BUF_INIT(STORED_TOKENS_MAX * 2);
    if (error == HUB_OK)
        qsort(l.items, l.n, sizeof(*l.items), stored_cmp);
    for (size_t i = 0; i < l.n && error == HUB_OK; i++) {
        if (l.items[i].token)
            error = hub__buf_printf(&out, "[%s]\nhf_token = %s\n\n",
                                    l.items[i].name, l.items[i].token);
        else
            error = hub__buf_printf(&out, "[%s]\n\n", l.items[i].name);
    }
    if (error == HUB_OK)
        error = write_secret(dir, STORED_TOKENS_NAME, out.ptr ? out.ptr : "",
                             out.len, path);
    if (out.ptr)
        memset(out.ptr, 0, out.len);
    hub__buf_free(&out);
    stored_free(&l);
    hub__free(path);
    return error;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

int hub_token_save(const char *token, const char *name)
{
    HUB_ASSERT_ARG(token);
    if (name &&
        (!name[0] || strpbrk(name, "\r\n") || strcmp(name, "DEFAULT") == 0))
        return hub__error_set(HUB_EINVAL,
                              "invalid token name for stored_tokens");
    char *clean = hub__client_clean_token(token, strlen(token));
    if (!clean)
        return HUB_ENOMEM;
    int error = HUB_OK;
    if (!clean[0] || has_control(clean))
        error = hub__error_set(HUB_EINVAL,
                               clean[0] ? "the token has control characters"
                                        : "the token is empty");
    char *path = error == HUB_OK ? hub__client_token_path() : NULL;
    const char *leaf = NULL;
    char *dir = path ? split_path(path, &leaf) : NULL;
    if (error == HUB_OK && !dir)
        error = HUB_ENOMEM;
    if (error == HUB_OK && !leaf)
        error = hub__error_set(
            HUB_EINVAL, "token path '%s' names a folder (HF_TOKEN_PATH)", path);
    if (error == HUB_OK)
        error = hub__mkdirs(dir);
    if (error == HUB_OK && name)
        error = stored_save(dir, clean, name);
    if (error == HUB_OK)
        error = write_secret(dir, leaf, clean, strlen(clean), path);
    memset(clean, 0, strlen(clean));
    hub__free(clean);
    hub__free(dir);
    hub__free(path);
    return error;
}

int hub_token_remove(int *removed)
{
    if (removed)
        *removed = 0;
    char *path = hub__client_token_path();
    if (!path)
        return HUB_ENOMEM;
    int error = HUB_OK;
    if (unlink(path) == 0) {
        if (removed)
            *removed = 1;
    } else if (errno != ENOENT) {
        error = hub__path_error(errno, "cannot remove", path);
    }
    const char *leaf = NULL;
    char *dir = error == HUB_OK ? split_path(path, &leaf) : NULL;
    char *list = dir ? hub__path_join(dir, STORED_TOKENS_NAME) : NULL;
    if (error == HUB_OK && !list)
        error = HUB_ENOMEM;
    if (error == HUB_OK && unlink(list) != 0 && errno != ENOENT)
        error = hub__path_error(errno, "cannot remove", list);
    hub__free(list);
    hub__free(dir);
    hub__free(path);
    return error;
}
