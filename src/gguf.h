/* SPDX-License-Identifier: MIT */
/* gguf.h: GGUF headers (metadata and tensor infos), from bytes. */
#ifndef HUB_GGUF_H
#define HUB_GGUF_H

/*
 * A parser of the hubs layer: bytes in, hub_gguf_info out, no I/O (fuzzed
 * by tests/fuzz/fuzz_parsers.c). It takes a prefix of the file and either
 * finishes or says how many bytes it needs at least to go on
 * (HUB__NEED_MORE); the caller reads more and calls again with the longer
 * prefix (it parses from the start each time: grow the prefix
 * geometrically). Every length and count is checked against the bytes the
 * header may span before anything is allocated for it, so what is
 * allocated is bounded by a small multiple of the bytes given.
 */

#include "common.h"

/* Format limits (as @huggingface/gguf and llama.cpp): */
#define HUB_GGUF_MAX_DIMS 8  /* dimensions of a tensor */
#define HUB_GGUF_MAX_DEPTH 4 /* arrays of arrays */

typedef struct hub__gguf_limits {
    /* size of the whole file, or UINT64_MAX when unknown */
    uint64_t file_size;
    /* most bytes the header may span (its end: tensor infos); a header
     * needing more is refused. 0: no cap beyond the file's size. */
    uint64_t max_header;
    /* arrays longer than this keep no values (0: all are kept) */
    uint64_t max_array_values;
} hub__gguf_limits;

/*
 * Parse a GGUF header from the first `len` bytes of a file. `what` names
 * the file in messages.
 * @return HUB_OK (`*out` set; free with hub_gguf_info_free()),
 *   HUB__NEED_MORE (`*need` = bytes from the start of the file needed at
 *   least; more may be asked for next time), HUB_EFORMAT, HUB_ENOMEM.
 */
int hub__gguf_parse(hub_gguf_info **out,
                    const uint8_t *buf,
                    size_t len,
                    const hub__gguf_limits *limits,
                    const char *what,
                    uint64_t *need);

/* llama.cpp's llama_ftype name for general.file_type, or NULL. */
const char *hub__gguf_file_type_name(int64_t file_type);

#endif
