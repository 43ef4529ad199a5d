/* SPDX-License-Identifier: MIT */
/* header_file.h: what the local header readers (header_file.c) share with
 * the remote ones (header_remote.c): options, caps, parse adapters, and
 * the readers of an open file (a cached blob). */
#ifndef HUB_HEADER_FILE_H
#define HUB_HEADER_FILE_H

#include "common.h"
#include "gguf.h"
#include "safetensors.h"

#define HUB__GGUF_DEFAULT_CAP (256u * 1024 * 1024)
/* an index of a large MoE reaches tens of MB */
#define HUB__INDEX_CAP (256u * 1024 * 1024)

/* Copy and check a caller's options (NULL: defaults). */
int hub__header_options_take(hub_header_options *dst,
                             const hub_header_options *src);
/* The most header bytes of a safetensors file, with the options. */
uint64_t hub__header_st_cap(const hub_header_options *o);
/* The GGUF parser's limits, with the options (file_size left 0). */
void hub__header_gguf_limits(const hub_header_options *o,
                             hub__gguf_limits *lim);

/* A byte parser behind one signature: `ctx` is NULL for safetensors, a
 * hub__gguf_limits for GGUF (its file_size replaced by `file_size`). */
typedef int (*hub__header_parse_fn)(void *out,
                                    const uint8_t *buf,
                                    size_t len,
                                    uint64_t file_size,
                                    const void *ctx,
                                    const char *what,
                                    uint64_t *need);
int hub__header_parse_st(void *out,
                         const uint8_t *buf,
                         size_t len,
                         uint64_t file_size,
                         const void *ctx,
                         const char *what,
                         uint64_t *need);
int hub__header_parse_gguf(void *out,
                           const uint8_t *buf,
                           size_t len,
                           uint64_t file_size,
                           const void *ctx,
                           const char *what,
                           uint64_t *need);

/* Read a prefix of the open file `fd` (`size` bytes, `path` in messages)
 * until `parse` is satisfied, never past `cap`. */
int hub__header_read_fd(int fd,
                        uint64_t size,
                        const char *path,
                        uint64_t cap,
                        hub__header_parse_fn parse,
                        const void *ctx,
                        void *out);
/* Parse the whole open index file `fd` (at most `cap` bytes). */
int hub__header_read_index_fd(int fd,
                              uint64_t size,
                              const char *path,
                              uint64_t cap,
                              hub__st_index *index);

#endif
