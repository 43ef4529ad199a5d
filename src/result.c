/* SPDX-License-Identifier: MIT */
/* result.c: the outcome of a download or lookup. */
#include "result.h"

#include "alloc.h"

#include <string.h>

int hub__result_new(hub_result **out)
{
    *out = hub__calloc(1, sizeof(**out));
    return *out ? HUB_OK : HUB_ENOMEM;
}

static char *dup_or_null(const char *s, bool *failed)
{
    if (!s)
        return NULL;
    char *d = hub__strdup(s);
    if (!d)
        *failed = true;
    return d;
}

int hub__result_add(hub_result *r,
                    const char *path,
                    const char *local_path,
                    uint64_t size,
                    const char *etag,
                    hub_file_status status,
                    const char *endpoint,
                    uint64_t bytes_fetched)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        hub_file_info *f = hub__reallocarray(r->files, cap, sizeof(*f));
        if (!f)
            return HUB_ENOMEM;
        r->files = f;
        r->cap = cap;
    }
    bool failed = false;
    hub_file_info info;
    memset(&info, 0, sizeof(info));
    info.path = dup_or_null(path, &failed);
    info.local_path = dup_or_null(local_path, &failed);
    info.etag = dup_or_null(etag, &failed);
    info.endpoint = dup_or_null(endpoint, &failed);
    info.size = size;
    info.status = status;
    info.bytes_fetched = bytes_fetched;
    if (failed) {
        hub__free((void *)info.path);
        hub__free((void *)info.local_path);
        hub__free((void *)info.etag);
        hub__free((void *)info.endpoint);
        return HUB_ENOMEM;
    }
    r->files[r->count++] = info;
    return HUB_OK;
}

int hub__result_set_path(hub_result *r, const char *path)
{
    char *p = hub__strdup(path);
    if (!p)
        return HUB_ENOMEM;
    hub__free(r->path);
    r->path = p;
    return HUB_OK;
}

int hub__result_set_commit(hub_result *r, const char *commit)
{
    char *c = hub__strdup(commit);
    if (!c)
        return HUB_ENOMEM;
    hub__free(r->commit);
    r->commit = c;
    return HUB_OK;
}

const char *hub_result_path(const hub_result *r)
{
    return r ? r->path : NULL;
}

const char *hub_result_commit(const hub_result *r)
{
    return r ? r->commit : NULL;
}

size_t hub_result_file_count(const hub_result *r)
{
    return r ? r->count : 0;
}

const hub_file_info *hub_result_file(const hub_result *r, size_t index)
{
    return r && index < r->count ? &r->files[index] : NULL;
}

void hub_result_free(hub_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++) {
        hub__free((void *)r->files[i].path);
        hub__free((void *)r->files[i].local_path);
        hub__free((void *)r->files[i].etag);
        hub__free((void *)r->files[i].endpoint);
    }
    hub__free(r->files);
    hub__free(r->path);
    hub__free(r->commit);
    hub__free(r);
}
