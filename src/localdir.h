/* SPDX-License-Identifier: MIT */
/* localdir.h: the local_dir layout of huggingface_hub (reference §4). */
#ifndef HUB_LOCALDIR_H
#define HUB_LOCALDIR_H

#include "common.h"

/*
 * <dir>/<path>                                          the real file
 * <dir>/.cache/huggingface/.gitignore                   "*"
 * <dir>/.cache/huggingface/CACHEDIR.TAG
 * <dir>/.cache/huggingface/download/<path>.metadata     commit, etag, time
 * <dir>/.cache/huggingface/download/<path>.lock
 * <dir>/.cache/huggingface/download/<dirs>/<b64>.<etag>.incomplete
 */
typedef struct hub__localdir {
    char *root;     /* the local dir, absolute */
    char *meta_dir; /* root/.cache/huggingface */
} hub__localdir;

/* The paths only: nothing is created (a lookup, an offline run or a dry
 * run must leave the disk as it was). */
int hub__localdir_init(hub__localdir *ld, const char *dir);
/* Before the first write: the directory and its .cache/huggingface, with
 * .gitignore and CACHEDIR.TAG. */
int hub__localdir_create(const hub__localdir *ld);
void hub__localdir_free(hub__localdir *ld);

char *hub__localdir_file(const hub__localdir *ld, const char *path);
char *hub__localdir_lock_path(const hub__localdir *ld, const char *path);
/* Temp file base (without ".incomplete"), next to the metadata file. */
char *hub__localdir_temp_base(const hub__localdir *ld,
                              const char *path,
                              const char *etag);

typedef struct hub__localdir_meta {
    char commit[41];
    char etag[65];
} hub__localdir_meta;

/*
 * Metadata of `path`, valid only if the file exists and was not modified
 * after it was written. HUB_ENOTCACHED (no message) otherwise; a garbled
 * metadata file is deleted, as huggingface_hub does.
 */
int hub__localdir_read_meta(const hub__localdir *ld,
                            const char *path,
                            hub__localdir_meta *out);
int hub__localdir_write_meta(const hub__localdir *ld,
                             const char *path,
                             const char *commit,
                             const char *etag);

/* sha256 of a file below `root`, hex (for a file present without
 * metadata). */
int hub__file_sha256(const char *root, const char *file, char hex[65]);

#endif
