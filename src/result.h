/* SPDX-License-Identifier: MIT */
/* result.h: building the hub_result handed to callers. */
#ifndef HUB_RESULT_H
#define HUB_RESULT_H

#include "common.h"

struct hub_result {
    char *path;
    char *commit;
    hub_file_info *files;
    size_t count;
    size_t cap;
};

int hub__result_new(hub_result **out);
/* Copies every string. */
int hub__result_add(hub_result *r,
                    const char *path,
                    const char *local_path,
                    uint64_t size,
                    const char *etag,
                    hub_file_status status,
                    const char *endpoint,
                    uint64_t bytes_fetched);
int hub__result_set_path(hub_result *r, const char *path);
int hub__result_set_commit(hub_result *r, const char *commit);

#endif
