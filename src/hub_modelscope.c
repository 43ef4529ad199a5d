/* SPDX-License-Identifier: MIT */
/* hub_modelscope.c: ModelScope's legacy /api/v1 protocol: URLs, parsers,
 * errors. */
#include "hub_modelscope.h"

#include "alloc.h"
#include "http.h"
#include "json.h"
#include "path.h"
#include "str.h"

#include <stdio.h>
#include <string.h>

int hub__ms_check_repo_id(const char *id)
{
    const char *slash = strchr(id, '/');
    bool ok = slash && slash != id && slash[1] && !strchr(slash + 1, '/') &&
              strlen(id) <= 256;
    for (const char *p = id; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
             (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' ||
             *p == '/';
    if (ok && (strstr(id, "..") || id[0] == '.' || slash[1] == '.'))
        ok = false;
    if (!ok)
        return hub__error_set(HUB_EINVAL,
                              "invalid ModelScope repo id '%.200s': use "
                              "'owner/name' with letters, digits, '-', '_' "
                              "or '.'",
                              id);
    return HUB_OK;
}

static const char *kind(const hub__repo *repo)
{
    return repo->type == HUB_REPO_DATASET ? "datasets" : "models";
}

char *hub__ms_info_url(const hub__repo *repo)
{
    return hub__aprintf("%s/api/v1/%s/%s", repo->endpoint, kind(repo),
                        repo->id);
}

char *hub__ms_revisions_url(const hub__repo *repo)
{
    return hub__aprintf("%s/api/v1/%s/%s/revisions", repo->endpoint, kind(repo),
                        repo->id);
}

char *hub__ms_listing_url(const hub__repo *repo,
                          const char *revision,
                          size_t page,
                          size_t page_size)
{
    char *rev = hub__http_quote_plus(revision);
    char *url = NULL;
    if (rev && repo->type == HUB_REPO_DATASET)
        url = hub__aprintf("%s/api/v1/datasets/%s/repo/tree?Revision=%s&"
                           "Root=%%2F&Recursive=True&PageNumber=%zu&"
                           "PageSize=%zu",
                           repo->endpoint, repo->id, rev, page, page_size);
    else if (rev)
        url = hub__aprintf("%s/api/v1/models/%s/repo/files?Revision=%s&"
                           "Recursive=true",
                           repo->endpoint, repo->id, rev);
    hub__free(rev);
    return url;
}

char *
hub__ms_file_url(const hub__repo *repo, const char *revision, const char *path)
{
    char *rev = hub__http_quote_plus(revision);
    char *file = hub__http_quote_plus(path);
    char *url = NULL;
    if (rev && file)
        url = hub__aprintf("%s/api/v1/%s/%s/repo?Revision=%s&FilePath=%s",
                           repo->endpoint, kind(repo), repo->id, rev, file);
    hub__free(rev);
    hub__free(file);
    return url;
}

static bool is_hex(const char *s, size_t n)
{
    return s && strlen(s) == n && hub__str_is_lower_hex(s, n);
}

/* One listing entry; folders ("tree") only count. */
static int parse_entry(const hub_json *item, hub__listing *into)
{
    const char *type = hub__json_string(hub__json_get(item, "Type"));
    const char *path = hub__json_string(hub__json_get(item, "Path"));
    if (!path)
        return hub__error_set(HUB_EPROTO, "listing entry without a Path");
    if (type && strcmp(type, "tree") == 0)
        return HUB_OK;
    int error = hub__path_check_repo_path(path);
    if (error < 0)
        return error;
    hub__entry e = {0};
    e.path = (char *)path;
    if (!hub__json_u64(hub__json_get(item, "Size"), &e.size))
        e.size = 0;
    const char *sha = hub__json_string(hub__json_get(item, "Sha256"));
    if (sha && sha[0]) {
        if (!is_hex(sha, 64))
            return hub__error_set(HUB_EPROTO,
                                  "listing entry '%.200s' has an invalid "
                                  "Sha256",
                                  path);
        e.lfs_sha256 = (char *)sha;
    }
    const char *rev = hub__json_string(hub__json_get(item, "Revision"));
    e.revision = (char *)(rev && rev[0] ? rev : "");
    /* The listing says 0 (or nothing) for some files that are not empty
     * (datasets): only the empty file's sha256 makes 0 believable. Any
     * other such file is fetched, its size taken from the download's
     * headers, rather than recorded empty without a request. */
    static const char empty_sha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41"
                                       "e4649b934ca495991b7852b855";
    if (e.size == 0 && !(sha && strcmp(sha, empty_sha256) == 0))
        e.size = UINT64_MAX;
    return hub__listing_add(into, &e);
}

int hub__ms_parse_listing(const char *body,
                          size_t len,
                          hub__listing *into,
                          size_t *entries,
                          bool *null_files)
{
    *entries = 0;
    *null_files = false;
    hub_json *root = NULL;
    int error = hub__json_parse(&root, body, len, "file listing");
    if (error < 0)
        return error;
    const hub_json *data = hub__json_get(root, "Data");
    const hub_json *files =
        hub__json_is_array(data) ? data : hub__json_get(data, "Files");
    if (!hub__json_is_array(files)) {
        *null_files = true;
        hub__json_free(root);
        return HUB_OK;
    }
    size_t n = hub__json_array_size(files);
    *entries = n;
    for (size_t i = 0; i < n && error == HUB_OK; i++)
        error = parse_entry(hub__json_array_get(files, i), into);
    hub__json_free(root);
    return error;
}

static int
find_revision(const hub_json *list, const char *revision, hub__ms_revision *out)
{
    size_t n = hub__json_array_size(list);
    for (size_t i = 0; i < n; i++) {
        const hub_json *it = hub__json_array_get(list, i);
        const char *name = hub__json_string(hub__json_get(it, "Revision"));
        if (!name || strcmp(name, revision) != 0)
            continue;
        out->found = true;
        uint64_t t = 0;
        if (hub__json_u64(hub__json_get(it, "CreatedAt"), &t))
            /* seconds, though newer answers may give milliseconds */
            out->created_at = (int64_t)(t > 100000000000ull ? t / 1000 : t);
        const char *c = hub__json_string(hub__json_get(it, "CommitId"));
        if (is_hex(c, 40))
            memcpy(out->commit, c, 41);
        return 1;
    }
    return 0;
}

int hub__ms_parse_revisions(const char *body,
                            size_t len,
                            const char *revision,
                            hub__ms_revision *out)
{
    memset(out, 0, sizeof(*out));
    hub_json *root = NULL;
    int error = hub__json_parse(&root, body, len, "revision list");
    if (error < 0)
        return error;
    const hub_json *map =
        hub__json_get(hub__json_get(root, "Data"), "RevisionMap");
    if (!find_revision(hub__json_get(map, "Branches"), revision, out) &&
        find_revision(hub__json_get(map, "Tags"), revision, out))
        out->is_tag = true;
    hub__json_free(root);
    return HUB_OK;
}

/* Known Chinese server messages, translated (as modelscope-hub does). */
static const char *english(const char *msg)
{
    static const struct {
        const char *zh, *en;
    } table[] = {
        {"模型不存在", "model does not exist"},
        {"数据集不存在", "dataset does not exist"},
        {"用户未登录", "user not logged in"},
        {"该名称已被注册使用", "the name is already taken"},
    };
    for (size_t i = 0; i < HUB_ARRAY_LEN(table); i++)
        if (strstr(msg, table[i].zh))
            return table[i].en;
    return NULL;
}

/* The server's words: Message of a JSON body, translated when known, with
 * controls and broken UTF-8 replaced. */
static void server_words(
    const char *body, size_t len, char *out, size_t outlen, long long *code)
{
    out[0] = '\0';
    *code = 0;
    if (!body || !len || body[0] != '{')
        return;
    hub_json *root = NULL;
    if (hub__json_parse(&root, body, len, "error body") < 0) {
        hub__error_clear();
        return;
    }
    const char *keys[] = {"Message", "message", "msg", "error"};
    for (size_t i = 0; i < HUB_ARRAY_LEN(keys) && !out[0]; i++) {
        const char *m = hub__json_string(hub__json_get(root, keys[i]));
        if (m && m[0]) {
            const char *en = english(m);
            if (en)
                snprintf(out, outlen, "%s (%s)", m, en);
            else
                snprintf(out, outlen, "%s", m);
        }
    }
    uint64_t c = 0;
    if (hub__json_u64(hub__json_get(root, "Code"), &c))
        *code = (long long)c;
    hub__json_free(root);
    hub__text_clean(out, outlen);
}

static const char *type_name(const hub__repo *repo)
{
    return repo->type == HUB_REPO_DATASET ? "dataset" : "model";
}

static int ms_map(const hub__repo *repo,
                  const hub__what *what,
                  long st,
                  const char *body,
                  size_t len)
{
    char words[300];
    long long code;
    server_words(body, len, words, sizeof(words), &code);
    char detail[340] = "";
    if (words[0])
        snprintf(detail, sizeof(detail), ": %s", words);
    const char *rev = what->revision ? what->revision : "master";
    const char *tok =
        what->token_withheld ? "the token was not sent to this mirror (it goes "
                               "only to the endpoint it is for); pass "
                               "--send-token-to-mirrors to send it"
        : what->has_token    ? "check that your token can read it"
                             : "if it is private, pass a token (--token or "
                               "MODELSCOPE_API_TOKEN)";
    if (st == 404 && what->path)
        return hub__error_set_http(HUB_ENOENTRY, st,
                                   "file '%s' not found in ModelScope %s '%s' "
                                   "at revision '%s' (HTTP 404%s)",
                                   what->path, type_name(repo), repo->id, rev,
                                   detail);
    if (st == 404)
        return hub__error_set_http(HUB_ENOREPO, st,
                                   "ModelScope %s '%s' not found on %s (HTTP "
                                   "404%s); check the id; %s",
                                   type_name(repo), repo->id, repo->endpoint,
                                   detail, tok);
    if (st == 401 || st == 403)
        return hub__error_set_http(HUB_EAUTH, st,
                                   "access to ModelScope %s '%s' refused "
                                   "(HTTP %ld%s); %s",
                                   type_name(repo), repo->id, st, detail, tok);
    if (st == 429)
        return hub__error_set_http(HUB_ERATELIMIT, st,
                                   "rate limited by %s (HTTP 429); retry later",
                                   repo->endpoint);
    if (st >= 500)
        return hub__error_set_http(HUB_EHTTP, st,
                                   "server error from %s (HTTP %ld%s); try "
                                   "again later",
                                   repo->endpoint, st, detail);
    if (st == 200) {
        /* HTTP 200 with an error inside the envelope */
        bool missing = strstr(words, "不存在") || strstr(words, "not exist");
        return hub__error_set_http(missing ? HUB_ENOREPO : HUB_EPROTO, st,
                                   "ModelScope answered error %lld for %s "
                                   "'%s'%s",
                                   code, type_name(repo), repo->id, detail);
    }
    return hub__error_set_http(
        HUB_EHTTP, st, "unexpected HTTP %ld%s from %s for %s '%s'", st, detail,
        repo->endpoint, type_name(repo), repo->id);
}

int hub__ms_check_envelope(const hub__repo *repo,
                           const hub__what *what,
                           long status,
                           const char *body,
                           size_t len)
{
    hub_json *root = NULL;
    if (!len || body[0] != '{' ||
        hub__json_parse(&root, body, len, "response") < 0) {
        hub__error_clear();
        return HUB_OK;
    }
    uint64_t code = 200;
    bool success = true;
    bool has_code = hub__json_u64(hub__json_get(root, "Code"), &code);
    bool has_success = hub__json_bool(hub__json_get(root, "Success"), &success);
    hub__json_free(root);
    if ((has_code && code != 200) || (has_success && !success))
        return ms_map(repo, what, status, body, len);
    return HUB_OK;
}

static int map_error(const hub__repo *repo,
                     const hub__what *what,
                     const hub_http_resp *resp,
                     const char *body)
{
    return ms_map(repo, what, resp->status, body, body ? strlen(body) : 0);
}

const hub__backend hub__backend_modelscope = {"modelscope", map_error,
                                              hub__ms_check_envelope};
