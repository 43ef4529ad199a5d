/* SPDX-License-Identifier: MIT */
/* safetensors.h: safetensors headers and shard indexes, from bytes. */
#ifndef HUB_SAFETENSORS_H
#define HUB_SAFETENSORS_H

/*
 * Parsers of the hubs layer: bytes in, hub_safetensors_info out, no I/O
 * (fuzzed by tests/fuzz/fuzz_parsers.c). The local file reader
 * (header_file.c) and a ranged remote reader feed them the first bytes of
 * a file; every claim of the header (length, shape, offsets) is checked
 * against the bytes given and the file size before it is used, and nothing
 * is allocated by a count the file states (jansson allocates by the JSON
 * it reads, which is bounded by N, itself bounded by the file).
 */

#include "common.h"

/* The safetensors library's cap on N, the JSON header's length. */
#define HUB_SAFETENSORS_MAX_HEADER 100000000u
/* Most shards an index may name (as @huggingface/hub). */
#define HUB_SAFETENSORS_MAX_SHARDS 10000u

/*
 * Parse the header of a safetensors file from its first `len` bytes.
 * `file_size` is the whole file's size, or UINT64_MAX when unknown (then
 * the tensors' end is not checked against it). `what` names the file in
 * messages.
 * @return HUB_OK (`*out` set; free with hub_safetensors_info_free()),
 *   HUB__NEED_MORE (`*need` = bytes from the start of the file needed:
 *   8, then 8 + N), HUB_EFORMAT, HUB_ENOMEM.
 */
int hub__safetensors_parse(hub_safetensors_info **out,
                           const uint8_t *buf,
                           size_t len,
                           uint64_t file_size,
                           const char *what,
                           uint64_t *need);

/* A `model.safetensors.index.json`. */
typedef struct hub__st_index {
    char **shards; /* distinct files of weight_map, first appearance order */
    size_t shard_count;
    char **tensor_names;  /* weight_map's keys ... */
    size_t *tensor_shard; /* ... and the index of their shard */
    size_t tensor_count;
    uint64_t total_size; /* metadata.total_size, or UINT64_MAX */
} hub__st_index;

/*
 * Parse an index: `weight_map` (tensor name -> shard file, each file a
 * plain relative path by hub__path_check_repo_path()), `metadata.total_size`.
 * @return HUB_OK, HUB_EFORMAT, HUB_ENOMEM. `out` is cleared on failure.
 */
int hub__safetensors_parse_index(hub__st_index *out,
                                 const char *json,
                                 size_t len,
                                 const char *what);
void hub__safetensors_index_free(hub__st_index *index);

/*
 * One info for a sharded model: the tensors of `parts[i]` (the header of
 * `index->shards[i]`, for every shard) concatenated, each tagged with its
 * shard, counts summed. Every tensor of the weight_map must be in the
 * shard it names. Consumes `parts` (freed and set to NULL, also on
 * failure). @return HUB_OK, HUB_EFORMAT, HUB_ENOMEM.
 */
int hub__safetensors_merge(hub_safetensors_info **out,
                           hub_safetensors_info **parts,
                           const hub__st_index *index,
                           const char *what);

/* Bits of one element of a safetensors dtype, or 0 if unknown. */
unsigned hub__safetensors_dtype_bits(const char *dtype);

#endif
