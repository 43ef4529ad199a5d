/* SPDX-License-Identifier: MIT */
/* download.h: a download request from resolve to commit, for a Hugging
 * Face endpoint (reference §2, §5, §6). */
#ifndef HUB_DOWNLOAD_H
#define HUB_DOWNLOAD_H

#include "client.h"
#include "progress.h"

/* How much of the struct a caller built for `version` (1..current) has. */
size_t hub__download_options_size(unsigned int version);
/* Copy a caller's options (NULL: defaults) into a whole struct of this
 * version, the fields the caller's version lacks at their defaults, and
 * check what a caller could get wrong (version, repo type, counts without
 * lists, unsafe file names): HUB_EINVAL/HUB_EVERSION with a message. Every
 * public entry point starts with this; the functions below take its
 * output. */
int hub__download_options_take(hub_download_options *dst,
                               const hub_download_options *src);
/* One named file and no patterns: hf_hub_download semantics. */
bool hub__download_is_single(const hub_download_options *o);

/*
 * Run one request: resolve the revision, plan (patterns, cache), fetch
 * through the engine, commit into the cache or local dir. `single` selects
 * hf_hub_download semantics for opts->files[0]. `progress` carries the
 * callback and the cancel flag; it is owned by the caller.
 */
int hub__download(hub_result **out,
                  hub_client *client,
                  const char *repo_id,
                  const hub_download_options *opts,
                  bool single,
                  hub__progress *progress);

/* The hub's own listing of `repo_id` at `revision` (resolved to `commit`,
 * 41 bytes), sorted; never the recorded trees/<commit>.json, and nothing
 * written. For hub_cache_verify(). */
int hub__download_list_remote(hub__listing *out,
                              char commit[41],
                              hub_client *client,
                              hub_repo_type type,
                              const char *repo_id,
                              const char *revision,
                              hub__progress *progress);

/* The cache-only lookup behind hub_cache_lookup(). */
int hub__lookup(hub_result **out,
                hub_client *client,
                const char *repo_id,
                const hub_download_options *opts);

#endif
