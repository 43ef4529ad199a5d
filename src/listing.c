/* SPDX-License-Identifier: MIT */
/* listing.c: the files of a repository at one commit. */
#include "listing.h"

#include "alloc.h"

#include <stdlib.h>
#include <string.h>

static void entry_free(hub__entry *e)
{
    hub__free(e->path);
    hub__free(e->blob_id);
    hub__free(e->lfs_sha256);
    hub__free(e->xet_hash);
    hub__free(e->revision);
}

int hub__listing_add(hub__listing *l, const hub__entry *e)
{
    if (l->count >= HUB_LISTING_MAX_FILES)
        return hub__error_set(HUB_EPROTO,
                              "repository listing has more than %d files",
                              HUB_LISTING_MAX_FILES);
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        hub__entry *items = hub__reallocarray(l->items, cap, sizeof(*items));
        if (!items)
            return HUB_ENOMEM;
        l->items = items;
        l->cap = cap;
    }
    hub__entry copy = *e;
    copy.path = hub__strdup(e->path);
    copy.blob_id = e->blob_id ? hub__strdup(e->blob_id) : NULL;
    copy.lfs_sha256 = e->lfs_sha256 ? hub__strdup(e->lfs_sha256) : NULL;
    copy.xet_hash = e->xet_hash ? hub__strdup(e->xet_hash) : NULL;
    copy.revision = e->revision ? hub__strdup(e->revision) : NULL;
    if (!copy.path || (e->blob_id && !copy.blob_id) ||
        (e->lfs_sha256 && !copy.lfs_sha256) ||
        (e->xet_hash && !copy.xet_hash) || (e->revision && !copy.revision)) {
        entry_free(&copy);
        return HUB_ENOMEM;
    }
    l->items[l->count++] = copy;
    return HUB_OK;
}

void hub__listing_free(hub__listing *l)
{
    for (size_t i = 0; i < l->count; i++)
        entry_free(&l->items[i]);
    hub__free(l->items);
    l->items = NULL;
    l->count = l->cap = 0;
    l->xet_unrecorded = false;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const hub__entry *)a)->path, ((const hub__entry *)b)->path);
}

int hub__listing_sort(hub__listing *l)
{
    if (l->count > 1)
        qsort(l->items, l->count, sizeof(*l->items), by_path);
    for (size_t i = 1; i < l->count; i++)
        if (strcmp(l->items[i - 1].path, l->items[i].path) == 0)
            return hub__error_set(HUB_EPROTO,
                                  "repository listing names '%.200s' twice",
                                  l->items[i].path);
    return HUB_OK;
}

const hub__entry *hub__listing_find(const hub__listing *l, const char *path)
{
    size_t lo = 0, hi = l->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->items[mid].path, path);
        if (c == 0)
            return &l->items[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
