/* SPDX-License-Identifier: MIT */
/* download.h: a download request from resolve to commit, for a Hugging
 * Face endpoint (reference §2, §5, §6). */
#ifndef HUB_DOWNLOAD_H
#define HUB_DOWNLOAD_H

#include "client.h"
#include "progress.h"

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

/* The cache-only lookup behind hub_cache_lookup(). */
int hub__lookup(hub_result **out,
                hub_client *client,
                const char *repo_id,
                const hub_download_options *opts);

#endif
