/* SPDX-License-Identifier: MIT */
/* hub_hf.c: the Hugging Face Hub protocol: URLs, parsers, errors. */
#include "hub_hf.h"

#include "alloc.h"
#include "json.h"
#include "path.h"
#include "str.h"

#include <stdio.h>
#include <string.h>

const char *hub__repo_type_name(hub_repo_type type)
{
    switch (type) {
    case HUB_REPO_DATASET:
        return "dataset";
    case HUB_REPO_SPACE:
        return "space";
    case HUB_REPO_MODEL:
        break;
    }
    return "model";
}

bool hub__status_retryable(long status)
{
    return status == 408 || status == 429 || status == 500 || status == 502 ||
           status == 503 || status == 504;
}

static const char *url_prefix(hub_repo_type type)
{
    switch (type) {
    case HUB_REPO_DATASET:
        return "datasets/";
    case HUB_REPO_SPACE:
        return "spaces/";
    case HUB_REPO_MODEL:
        break;
    }
    return "";
}

static bool is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* [\w\-.]{1,max} starting and ending with a word character */
static bool valid_part(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max || !is_word(s[0]) || !is_word(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_word(s[i]) && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

int hub__hf_check_repo_id(const char *id)
{
    const char *slash = strchr(id, '/');
    bool ok;
    if (slash)
        ok = strchr(slash + 1, '/') == NULL &&
             valid_part(id, (size_t)(slash - id), 256) &&
             valid_part(slash + 1, strlen(slash + 1), 96);
    else
        ok = valid_part(id, strlen(id), 96);
    if (ok && (strstr(id, "--") || strstr(id, "..")))
        ok = false;
    if (ok && hub__str_ends_with(id, ".git"))
        ok = false;
    if (!ok)
        return hub__error_set(
            HUB_EINVAL,
            "invalid repo id '%.200s': use 'name' or 'org/name' with letters, "
            "digits, '-', '_' or '.' (no '--' or '..', at most 96 characters)",
            id);
    return HUB_OK;
}

char *hub__hf_resolve_url(const hub__repo *repo,
                          const char *revision,
                          const char *path)
{
    char *rev = hub__http_quote(revision, false);
    char *file = hub__http_quote(path, true);
    char *url = NULL;
    if (rev && file)
        url = hub__aprintf("%s/%s%s/resolve/%s/%s", repo->endpoint,
                           url_prefix(repo->type), repo->id, rev, file);
    hub__free(rev);
    hub__free(file);
    return url;
}

char *hub__hf_revision_url(const hub__repo *repo, const char *revision)
{
    char *rev = hub__http_quote(revision, false);
    char *url = NULL;
    if (rev)
        url = hub__aprintf("%s/api/%ss/%s/revision/%s", repo->endpoint,
                           hub__repo_type_name(repo->type), repo->id, rev);
    hub__free(rev);
    return url;
}

char *hub__hf_tree_url(const hub__repo *repo, const char *revision)
{
    return hub__hf_tree_url_at(repo, revision, NULL, true, false);
}

char *hub__hf_tree_url_at(const hub__repo *repo,
                          const char *revision,
                          const char *path,
                          bool recursive,
                          bool expand)
{
    char *rev = hub__http_quote(revision, false);
    char *sub = path && path[0] ? hub__http_quote(path, false) : NULL;
    char *url = NULL;
    if (rev && (sub || !(path && path[0])))
        url = hub__aprintf("%s/api/%ss/%s/tree/%s%s%s?recursive=%s&expand=%s",
                           repo->endpoint, hub__repo_type_name(repo->type),
                           repo->id, rev, sub ? "/" : "", sub ? sub : "",
                           recursive ? "true" : "false",
                           expand ? "true" : "false");
    hub__free(rev);
    hub__free(sub);
    return url;
}

char *hub__hf_paths_info_url(const hub__repo *repo, const char *revision)
{
    char *rev = hub__http_quote(revision, false);
    char *url = NULL;
    if (rev)
        url = hub__aprintf("%s/api/%ss/%s/paths-info/%s", repo->endpoint,
                           hub__repo_type_name(repo->type), repo->id, rev);
    hub__free(rev);
    return url;
}

char *hub__hf_paths_info_body(const char *path, bool expand)
{
    char *q = hub__http_quote_plus(path);
    char *body =
        q ? hub__aprintf("paths=%s&expand=%s", q, expand ? "true" : "false")
          : NULL;
    hub__free(q);
    return body;
}

int hub__hf_parse_revision(const char *body,
                           size_t len,
                           char **commit_out,
                           char **id_out)
{
    *commit_out = NULL;
    if (id_out)
        *id_out = NULL;
    hub_json *root = NULL;
    int error = hub__json_parse(&root, body, len, "repository info");
    if (error < 0)
        return error;
    const char *sha = hub__json_string(hub__json_get(root, "sha"));
    if (!sha || !hub__str_is_commit(sha))
        error = hub__error_set(HUB_EPROTO,
                               "repository info has no valid commit 'sha'");
    else if (!(*commit_out = hub__strdup(sha)))
        error = HUB_ENOMEM;
    const char *id = hub__json_string(hub__json_get(root, "id"));
    if (error == HUB_OK && id_out && id) {
        if (hub__hf_check_repo_id(id) == HUB_OK)
            error = (*id_out = hub__strdup(id)) ? HUB_OK : HUB_ENOMEM;
        else
            hub__error_clear(); /* no canonical id: keep the user's */
    }
    hub__json_free(root);
    if (error < 0) {
        hub__free(*commit_out);
        *commit_out = NULL;
    }
    return error;
}

/* One entry of a tree page or paths-info answer into `out` (strings
 * borrowed from `item`); HUB__SKIP for an entry of another type than file
 * or directory (none is known today: skipped, as before). A folder's oid
 * and size are optional (a mirror may leave them out). */
#define HUB__SKIP 1
static int parse_tree_item(const hub_json *item, size_t i, hub__tree_item *out)
{
    memset(out, 0, sizeof(*out));
    const char *type = hub__json_string(hub__json_get(item, "type"));
    const char *path = hub__json_string(hub__json_get(item, "path"));
    if (!type || !path)
        return hub__error_set(HUB_EPROTO,
                              "tree listing entry %zu lacks type or path", i);
    out->is_dir = strcmp(type, "directory") == 0;
    if (!out->is_dir && strcmp(type, "file") != 0)
        return HUB__SKIP;
    int error = hub__path_check_repo_path(path);
    if (error < 0)
        return error;
    out->path = path;
    out->oid = hub__json_string(hub__json_get(item, "oid"));
    if (out->is_dir) {
        if (!hub__str_is_hex_of(out->oid, 40))
            out->oid = NULL;
        if (!hub__json_u64(hub__json_get(item, "size"), &out->size))
            out->size = 0;
    } else if (!hub__json_u64(hub__json_get(item, "size"), &out->size) ||
               !hub__str_is_hex_of(out->oid, 40))
        return hub__error_set(HUB_EPROTO,
                              "tree listing entry '%.200s' has no valid "
                              "size or oid",
                              path);
    const hub_json *lfs = hub__json_get(item, "lfs");
    if (lfs && !out->is_dir) {
        out->lfs_sha256 = hub__json_string(hub__json_get(lfs, "oid"));
        if (!hub__str_is_hex_of(out->lfs_sha256, 64) ||
            !hub__json_u64(hub__json_get(lfs, "size"), &out->lfs_size))
            return hub__error_set(HUB_EPROTO,
                                  "tree listing entry '%.200s' has an "
                                  "invalid lfs record",
                                  path);
        if (!hub__json_u64(hub__json_get(lfs, "pointerSize"),
                           &out->lfs_pointer_size))
            out->lfs_pointer_size = 0;
        /* For LFS files the real size is the LFS one. */
        out->size = out->lfs_size;
    }
    const char *xet = hub__json_string(hub__json_get(item, "xetHash"));
    if (hub__str_is_hex_of(xet, 64))
        out->xet_hash = xet;
    else if (xet)
        out->xet_unrecorded = true;
    const hub_json *last = hub__json_get(item, "lastCommit");
    const char *id = hub__json_string(hub__json_get(last, "id"));
    if (last && hub__str_is_hex_of(id, 40)) {
        out->last_commit_id = id;
        out->last_commit_title = hub__json_string(hub__json_get(last, "title"));
        out->last_commit_date = hub__json_string(hub__json_get(last, "date"));
    }
    return HUB_OK;
}

int hub__hf_parse_tree_items(const char *body,
                             size_t len,
                             int (*each)(const hub__tree_item *item,
                                         void *payload),
                             void *payload)
{
    hub_json *root = NULL;
    int error = hub__json_parse(&root, body, len, "tree listing");
    if (error < 0)
        return error;
    if (!hub__json_is_array(root)) {
        hub__json_free(root);
        return hub__error_set(HUB_EPROTO, "tree listing is not a JSON array");
    }
    size_t n = hub__json_array_size(root);
    for (size_t i = 0; i < n && error == HUB_OK; i++) {
        hub__tree_item it;
        error = parse_tree_item(hub__json_array_get(root, i), i, &it);
        if (error == HUB__SKIP)
            error = HUB_OK;
        else if (error == HUB_OK)
            error = each(&it, payload);
    }
    hub__json_free(root);
    return error;
}

static int add_file(const hub__tree_item *it, void *payload)
{
    hub__listing *into = payload;
    if (it->is_dir)
        return HUB_OK; /* directories: their files are listed too */
    hub__entry e = {0};
    e.path = (char *)it->path;
    e.size = it->size;
    e.blob_id = (char *)it->oid;
    e.lfs_sha256 = (char *)it->lfs_sha256;
    e.lfs_size = it->lfs_size;
    e.xet_hash = (char *)it->xet_hash;
    if (it->xet_unrecorded)
        into->xet_unrecorded = true;
    return hub__listing_add(into, &e);
}

int hub__hf_parse_tree_page(const char *body, size_t len, hub__listing *into)
{
    return hub__hf_parse_tree_items(body, len, add_file, into);
}

char *hub__hf_normalize_etag(const char *etag)
{
    while (*etag == 'W' || *etag == '/')
        etag++;
    size_t n = strlen(etag);
    while (n && *etag == '"') {
        etag++;
        n--;
    }
    while (n && etag[n - 1] == '"')
        n--;
    return hub__strndup(etag, n);
}

char *hub__hf_repo_folder_name(hub_repo_type type, const char *id)
{
    size_t extra = 0;
    for (const char *p = id; *p; p++)
        extra += *p == '/';
    const char *tname = hub__repo_type_name(type);
    char *out = hub__malloc(strlen(tname) + 3 + strlen(id) + extra + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    memcpy(out, tname, strlen(tname));
    o += strlen(tname);
    out[o++] = 's';
    out[o++] = '-';
    out[o++] = '-';
    for (const char *p = id; *p; p++) {
        if (*p == '/') {
            out[o++] = '-';
            out[o++] = '-';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return out;
}

/* The server's own words for the failure: X-Error-Message, or a JSON
 * "error" field, or nothing; with controls and broken UTF-8 replaced (the
 * server must not drive the user's terminal). */
static void server_text(const hub_http_resp *resp,
                        const char *body,
                        char *out,
                        size_t outlen)
{
    out[0] = '\0';
    if (resp->error_message && resp->error_message[0]) {
        snprintf(out, outlen, "%s", resp->error_message);
        hub__text_clean(out, outlen);
        return;
    }
    if (!body || body[0] != '{')
        return;
    hub_json *root = NULL;
    if (hub__json_parse(&root, body, strlen(body), "error body") < 0) {
        hub__error_clear();
        return;
    }
    const char *e = hub__json_string(hub__json_get(root, "error"));
    if (e)
        snprintf(out, outlen, "%s", e);
    hub__json_free(root);
    hub__text_clean(out, outlen);
}

static int hf_map_error(const hub__repo *repo,
                        const hub__what *what,
                        const hub_http_resp *resp,
                        const char *body)
{
    long st = resp->status;
    const char *code = resp->error_code ? resp->error_code : "";
    const char *type = hub__repo_type_name(repo->type);
    const char *rev = what->revision ? what->revision : "main";
    char text[300];
    server_text(resp, body, text, sizeof(text));
    char detail[340] = "";
    if (text[0])
        snprintf(detail, sizeof(detail), ": %s", text);

    if (strcmp(code, "RevisionNotFound") == 0)
        return hub__error_set_http(
            HUB_ENOREV, st,
            "revision '%s' not found in %s '%s' (HTTP %ld%s); check the "
            "branch, tag or commit",
            rev, type, repo->id, st, detail);
    if (strcmp(code, "EntryNotFound") == 0)
        return hub__error_set_http(
            HUB_ENOENTRY, st,
            "file '%s' not found in %s '%s' at revision '%s' (HTTP %ld); "
            "check the file name",
            what->path ? what->path : "?", type, repo->id, rev, st);
    bool denied = st == 401 || st == 403 || strcmp(code, "GatedRepo") == 0 ||
                  strcmp(code, "RepoNotFound") == 0;
    if (denied && what->token_withheld)
        return hub__error_set_http(
            strcmp(code, "GatedRepo") == 0 ? HUB_EGATED
            : st == 404                    ? HUB_ENOREPO
                                           : HUB_EAUTH,
            st,
            "%s '%s' refused by %s (HTTP %ld%s), which was not sent the "
            "token: it goes only to the endpoint it is for; pass "
            "--send-token-to-mirrors if this mirror should get it",
            type, repo->id, repo->endpoint, st, detail);
    if (strcmp(code, "GatedRepo") == 0) {
        if (!what->has_token)
            return hub__error_set_http(
                HUB_EGATED, st,
                "%s '%s' is gated (HTTP %ld): request access at %s/%s%s "
                "and pass a token (--token or HF_TOKEN)",
                type, repo->id, st, repo->endpoint,
                repo->type == HUB_REPO_DATASET ? "datasets/"
                : repo->type == HUB_REPO_SPACE ? "spaces/"
                                               : "",
                repo->id);
        return hub__error_set_http(
            HUB_EGATED, st,
            "%s '%s' is gated and your token has no access (HTTP %ld): "
            "request access at %s/%s%s, or use a token of an account that "
            "has it",
            type, repo->id, st, repo->endpoint,
            repo->type == HUB_REPO_DATASET ? "datasets/"
            : repo->type == HUB_REPO_SPACE ? "spaces/"
                                           : "",
            repo->id);
    }
    if (strcmp(text, "Access to this resource is disabled.") == 0)
        return hub__error_set_http(HUB_ENOREPO, st,
                                   "%s '%s' is disabled on %s (HTTP %ld)", type,
                                   repo->id, repo->endpoint, st);
    bool invalid_token =
        strcmp(text, "Invalid credentials in Authorization header") == 0;
    if (st == 401 && invalid_token)
        return hub__error_set_http(
            HUB_EAUTH, st,
            "the token was rejected by %s (HTTP 401: invalid credentials); "
            "check --token, HF_TOKEN or the token file",
            repo->endpoint);
    if (strcmp(code, "RepoNotFound") == 0 || st == 401) {
        if (what->has_token)
            return hub__error_set_http(
                HUB_ENOREPO, st,
                "%s '%s' not found on %s (HTTP %ld); check the repo id and "
                "--repo-type, and that your token can read it",
                type, repo->id, repo->endpoint, st);
        return hub__error_set_http(
            HUB_ENOREPO, st,
            "%s '%s' not found on %s (HTTP %ld); check the repo id and "
            "--repo-type; if it is private, pass a token (--token or "
            "HF_TOKEN)",
            type, repo->id, repo->endpoint, st);
    }
    if (st == 403)
        return hub__error_set_http(
            HUB_EAUTH, st,
            "access to %s '%s' forbidden (HTTP 403%s); make sure your token "
            "has the right permissions",
            type, repo->id, detail);
    if (st == 429) {
        long wait = resp->ratelimit_reset >= 0 ? resp->ratelimit_reset
                                               : resp->retry_after;
        if (wait >= 0)
            return hub__error_set_http(
                HUB_ERATELIMIT, st,
                "rate limited by %s (HTTP 429); retry in %ld s, or use a "
                "token for a higher limit",
                repo->endpoint, wait);
        return hub__error_set_http(
            HUB_ERATELIMIT, st,
            "rate limited by %s (HTTP 429); retry later, or use a token for "
            "a higher limit",
            repo->endpoint);
    }
    if (st >= 500)
        return hub__error_set_http(HUB_EHTTP, st,
                                   "server error from %s (HTTP %ld%s) for %s "
                                   "'%s'; try again later",
                                   repo->endpoint, st, detail, type, repo->id);
    return hub__error_set_http(HUB_EHTTP, st,
                               "unexpected HTTP %ld%s from %s for %s '%s'", st,
                               detail, repo->endpoint, type, repo->id);
}

const hub__backend hub__backend_hf = {"huggingface", hf_map_error, NULL};
