/* SPDX-License-Identifier: MIT */
/* hub_modelscope.h: ModelScope's legacy /api/v1 protocol: URLs, parsers,
 * errors (reference: modelscope-protocol.md). No I/O. */
#ifndef HUB_HUB_MODELSCOPE_H
#define HUB_HUB_MODELSCOPE_H

#include "backend.h"
#include "listing.h"

extern const hub__backend hub__backend_modelscope;

/* Default page size of dataset tree listings (the SDK's snapshot uses 200,
 * single files 100). */
#define HUB_MS_PAGE_SIZE 100

/* "owner/name", both parts non-empty, no further '/'. */
int hub__ms_check_repo_id(const char *id);

/* {E}/api/v1/{models|datasets}/{id} */
char *hub__ms_info_url(const hub__repo *repo);
/* {E}/api/v1/models/{id}/revisions */
char *hub__ms_revisions_url(const hub__repo *repo);
/* models: {E}/api/v1/models/{id}/repo/files?Revision=&Recursive=true;
 * datasets: {E}/api/v1/datasets/{id}/repo/tree?Revision=&Root=/&
 * Recursive=True&PageNumber=&PageSize= */
char *hub__ms_listing_url(const hub__repo *repo,
                          const char *revision,
                          size_t page,
                          size_t page_size);
/* {E}/api/v1/{type}s/{id}/repo?Revision=&FilePath= (quote_plus, as the
 * SDKs encode them) */
char *
hub__ms_file_url(const hub__repo *repo, const char *revision, const char *path);

/*
 * Files of one listing response ("Data.Files" for models, "Data.Files" or
 * "Data" for dataset pages), appended to `into`. `*entries` receives the
 * number of entries the page held (files and folders), to tell a short
 * page; `*null_files` is set when the listing says nothing at all (what the
 * server answers for an unknown revision).
 */
int hub__ms_parse_listing(const char *body,
                          size_t len,
                          hub__listing *into,
                          size_t *entries,
                          bool *null_files);

/* A revision's detail from /revisions: found or not, its creation time and
 * commit (NULL if the server gives none). */
typedef struct hub__ms_revision {
    bool found;
    bool is_tag;
    int64_t created_at;
    char commit[41];
} hub__ms_revision;

int hub__ms_parse_revisions(const char *body,
                            size_t len,
                            const char *revision,
                            hub__ms_revision *out);

/* The body's envelope says failure (Code != 200 or Success false): map it
 * to an error as `map_error` would; HUB_OK if the envelope is fine or
 * absent. */
int hub__ms_check_envelope(const hub__repo *repo,
                           const hub__what *what,
                           long status,
                           const char *body,
                           size_t len);

#endif
