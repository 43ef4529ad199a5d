/* SPDX-License-Identifier: MIT */
/* hub_hf.h: the Hugging Face Hub protocol: URLs, parsers, errors. */
#ifndef HUB_HUB_HF_H
#define HUB_HUB_HF_H

#include "backend.h"
#include "listing.h"

extern const hub__backend hub__backend_hf;

/* Is `id` a valid repo id ("name" or "org/name", as huggingface_hub's
 * validate_repo_id)? Sets the error when not. */
int hub__hf_check_repo_id(const char *id);

/* {endpoint}/{prefix}{repo}/resolve/{quote(rev, "")}/{quote(path)} */
char *hub__hf_resolve_url(const hub__repo *repo,
                          const char *revision,
                          const char *path);
/* {endpoint}/api/{type}s/{repo}/revision/{quote(rev, "")} */
char *hub__hf_revision_url(const hub__repo *repo, const char *revision);
/* {endpoint}/api/{type}s/{repo}/tree/{quote(rev,
 * "")}?recursive=true&expand=false */
char *hub__hf_tree_url(const hub__repo *repo, const char *revision);

/* {endpoint}/api/{type}s/{repo}/tree/{quote(rev, "")}[/{quote(path, "")}]
 * ?recursive=true|false&expand=true|false; `path` NULL or "": the root. */
char *hub__hf_tree_url_at(const hub__repo *repo,
                          const char *revision,
                          const char *path,
                          bool recursive,
                          bool expand);
/* {endpoint}/api/{type}s/{repo}/paths-info/{quote(rev, "")} (a POST) */
char *hub__hf_paths_info_url(const hub__repo *repo, const char *revision);
/* Its form body: paths=<quote_plus(path)>&expand=true|false */
char *hub__hf_paths_info_body(const char *path, bool expand);

/* The "sha" of a repo-info JSON document, and its "id" (the canonical id,
 * NULL when absent or not a valid repo id) if `id_out` is not NULL. */
int hub__hf_parse_revision(const char *body,
                           size_t len,
                           char **commit_out,
                           char **id_out);
/* Append the files of one tree page to `into` (directories are skipped;
 * paths are validated). */
int hub__hf_parse_tree_page(const char *body, size_t len, hub__listing *into);
/* Every entry (files and folders) of a tree page or a paths-info answer,
 * validated, to `each` in the server's order; a negative return from
 * `each` stops the walk and is returned. */
int hub__hf_parse_tree_items(const char *body,
                             size_t len,
                             int (*each)(const hub__tree_item *item,
                                         void *payload),
                             void *payload);

/* huggingface_hub's _normalize_etag: drop a leading run of 'W' and '/',
 * then surrounding double quotes. Fresh string. */
char *hub__hf_normalize_etag(const char *etag);

/* {type}s--{id with '/' replaced by "--"} */
char *hub__hf_repo_folder_name(hub_repo_type type, const char *id);

#endif
