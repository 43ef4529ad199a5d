/* SPDX-License-Identifier: MIT */
/* cache_target.c: what a cache target names in a scan. */
#include "cache_target.h"

#include "alloc.h"
#include "path.h"

#include <string.h>
#include <strings.h>

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return n > 0;
}

static int find_commit(const hub_cache_info *info,
                       const char *commit,
                       hub__cache_target *out)
{
    for (size_t i = 0; i < info->nrepos; i++) {
        hub__crepo *r = info->repos[i];
        for (size_t j = 0; j < r->nrevs; j++) {
            if (strcasecmp(r->revs[j]->commit, commit) == 0) {
                out->repo = r;
                out->rev = r->revs[j];
                return HUB_OK;
            }
        }
    }
    return HUB_OK;
}

/* The repository `type`/`id` (type < 0: any type). */
static int find_repo(const hub_cache_info *info,
                     int type,
                     const char *id,
                     size_t id_len,
                     const char *target,
                     hub__crepo **out)
{
    hub__crepo *exact = NULL, *folded = NULL;
    size_t nexact = 0, nfolded = 0;
    for (size_t i = 0; i < info->nrepos; i++) {
        hub__crepo *r = info->repos[i];
        if (type >= 0 && (int)r->pub.type != type)
            continue;
        bool by_folder =
            strlen(r->folder) == id_len && strncmp(r->folder, id, id_len) == 0;
        if (by_folder ||
            (strlen(r->id) == id_len && strncmp(r->id, id, id_len) == 0)) {
            exact = r;
            nexact++;
        } else if (strlen(r->id) == id_len &&
                   strncasecmp(r->id, id, id_len) == 0) {
            folded = r;
            nfolded++;
        }
    }
    if (nexact > 1 || (!nexact && nfolded > 1))
        return hub__error_set(HUB_EINVAL,
                              "'%s' names several cached repositories; "
                              "say which with model:, dataset: or space:",
                              target);
    *out = nexact ? exact : nfolded ? folded : NULL;
    return HUB_OK;
}

/* The revision a ref names: the name as written ("refs/pr/1" is stored
 * as refs/refs/pr/1), else without "refs/" ("refs/heads/main"). */
static hub__crev *by_ref(hub__crepo *r, const char *rev, size_t len)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t j = 0; j < r->nrevs; j++) {
            hub__crev *v = r->revs[j];
            if (pass == 0 && strlen(v->commit) == len &&
                strncasecmp(v->commit, rev, len) == 0)
                return v;
            for (size_t k = 0; pass == 0 && k < v->refs.count; k++)
                if (strlen(v->refs.items[k]) == len &&
                    strncmp(v->refs.items[k], rev, len) == 0)
                    return v;
            for (size_t k = 0; pass == 1 && k < v->refs.count; k++)
                if (len > 5 && strncmp(rev, "refs/", 5) == 0 &&
                    strlen(v->refs.items[k]) == len - 5 &&
                    strncmp(v->refs.items[k], rev + 5, len - 5) == 0)
                    return v;
        }
    }
    return NULL;
}

static int find_rev(hub__crepo *r,
                    const char *rev,
                    size_t len,
                    const char *target,
                    hub__crev **out)
{
    *out = by_ref(r, rev, len);
    if (*out)
        return HUB_OK;
    if (len < 4 || len >= 40 || !is_hex(rev, len))
        return HUB_OK;
    size_t hits = 0;
    for (size_t j = 0; j < r->nrevs; j++) {
        if (strncasecmp(r->revs[j]->commit, rev, len) == 0) {
            *out = r->revs[j];
            hits++;
        }
    }
    if (hits > 1) {
        *out = NULL;
        return hub__error_set(HUB_EINVAL,
                              "'%s': the prefix '%.*s' names %zu revisions of "
                              "%s; give more digits",
                              target, (int)len, rev, hits, r->cache_id);
    }
    return HUB_OK;
}

int hub__cache_target_resolve(const hub_cache_info *info,
                              const char *target,
                              hub__cache_target *out)
{
    memset(out, 0, sizeof(*out));
    size_t tl = strlen(target);
    if (!tl || tl > 4 * HUB_REPO_PATH_MAX)
        return hub__error_set(HUB_EINVAL, "empty or overlong cache target");
    if (tl == 40 && is_hex(target, 40))
        return find_commit(info, target, out);

    static const struct {
        const char *name;
        hub_repo_type type;
    } types[] = {{"model", HUB_REPO_MODEL},      {"dataset", HUB_REPO_DATASET},
                 {"space", HUB_REPO_SPACE},      {"models", HUB_REPO_MODEL},
                 {"datasets", HUB_REPO_DATASET}, {"spaces", HUB_REPO_SPACE}};
    int type = -1;
    const char *id = target;
    bool slash_typed = false;
    for (size_t i = 0; i < HUB_ARRAY_LEN(types); i++) {
        size_t n = strlen(types[i].name);
        if (strncmp(target, types[i].name, n) == 0 &&
            (target[n] == ':' || target[n] == '/')) {
            type = (int)types[i].type;
            id = target + n + 1;
            slash_typed = target[n] == '/';
            break;
        }
    }
    const char *at = strchr(id, '@');
    size_t id_len = at ? (size_t)(at - id) : strlen(id);
    if (!id_len)
        return hub__error_set(HUB_EINVAL,
                              "'%s' names no repository; write "
                              "[TYPE:]ORG/NAME[@REV[:PATH]]",
                              target);
    const char *rev = at ? at + 1 : NULL;
    const char *colon = rev ? strchr(rev, ':') : NULL;
    size_t rev_len = !rev ? 0 : colon ? (size_t)(colon - rev) : strlen(rev);
    if (rev && (!rev_len || (colon && !colon[1])))
        return hub__error_set(HUB_EINVAL,
                              "'%s': empty revision or path; write "
                              "ID@REV or ID@REV:PATH",
                              target);
    int rc = find_repo(info, type, id, id_len, target, &out->repo);
    if (rc == HUB_OK && !out->repo && slash_typed) {
        /* "model/gpt2" may be the official cache id or an ORG/NAME */
        rc = find_repo(info, -1, target, (size_t)(id + id_len - target), target,
                       &out->repo);
    }
    if (rc != HUB_OK || !out->repo || !at)
        return rc;

    hub__crepo *r = out->repo;
    out->repo = NULL;
    rc = find_rev(r, rev, rev_len, target, &out->rev);
    if (rc != HUB_OK || !out->rev)
        return rc;
    if (!colon) {
        out->repo = r;
        return HUB_OK;
    }
    if (!info->files)
        return hub__error_set(
            HUB_EINVAL, "'%s': file targets need a scan with files", target);
    const char *path = colon + 1;
    for (size_t k = 0; k < out->rev->nfiles; k++) {
        if (strcmp(out->rev->files[k]->pub.file_name, path) == 0) {
            out->repo = r;
            out->file = out->rev->files[k];
            return HUB_OK;
        }
    }
    out->rev = NULL;
    return HUB_OK;
}
