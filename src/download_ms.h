/* SPDX-License-Identifier: MIT */
/* download_ms.h: a download request against ModelScope, from listing to
 * the classic cache. */
#ifndef HUB_DOWNLOAD_MS_H
#define HUB_DOWNLOAD_MS_H

#include "client.h"
#include "progress.h"

int hub__download_ms(hub_result **out,
                     hub_client *client,
                     const char *repo_id,
                     const hub_download_options *opts,
                     bool single,
                     hub__progress *progress);

int hub__lookup_ms(hub_result **out,
                   hub_client *client,
                   const char *repo_id,
                   const hub_download_options *opts);

/* ModelScope's listing of `repo_id` at `revision` (a branch, a tag, or
 * what the server takes), sorted; nothing written. For hub_cache_verify(). */
int hub__download_ms_list_remote(hub__listing *out,
                                 hub_client *client,
                                 hub_repo_type type,
                                 const char *repo_id,
                                 const char *revision,
                                 hub__progress *progress);

#endif
