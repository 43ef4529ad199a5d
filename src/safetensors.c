/* SPDX-License-Identifier: MIT */
/* safetensors.c: safetensors headers and shard indexes, from bytes. */
#include "safetensors.h"

#include "alloc.h"
#include "json.h"
#include "path.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* safetensors 0.8's Dtype, with Dtype::bitsize (cache-and-remote.md B2) */
static const struct {
    const char *name;
    unsigned bits;
} dtypes[] = {
    {"BOOL", 8},    {"F4", 4},          {"F6_E2M3", 6},     {"F6_E3M2", 6},
    {"U8", 8},      {"I8", 8},          {"F8_E5M2", 8},     {"F8_E4M3", 8},
    {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8}, {"I16", 16},
    {"U16", 16},    {"F16", 16},        {"BF16", 16},       {"I32", 32},
    {"U32", 32},    {"F32", 32},        {"C64", 64},        {"F64", 64},
    {"I64", 64},    {"U64", 64},
};
#define DTYPE_COUNT HUB_ARRAY_LEN(dtypes)

static int dtype_index(const char *name)
{
    for (size_t i = 0; i < DTYPE_COUNT; i++)
        if (strcmp(dtypes[i].name, name) == 0)
            return (int)i;
    return -1;
}

unsigned hub__safetensors_dtype_bits(const char *dtype)
{
    int i = dtype_index(dtype);
    return i < 0 ? 0 : dtypes[i].bits;
}

/* const-qualified result fields are ours to free */
static void unconst_free(const void *p)
{
    hub__free((void *)(uintptr_t)p);
}

void hub_safetensors_info_free(hub_safetensors_info *info)
{
    if (!info)
        return;
    for (size_t i = 0; i < info->tensor_count; i++) {
        unconst_free(info->tensors[i].name);
        unconst_free(info->tensors[i].shape);
    }
    unconst_free(info->tensors);
    unconst_free(info->dtypes);
    for (size_t i = 0; i < info->metadata_count; i++) {
        unconst_free(info->metadata_keys[i]);
        unconst_free(info->metadata_values[i]);
    }
    unconst_free(info->metadata_keys);
    unconst_free(info->metadata_values);
    for (size_t i = 0; i < info->shard_count; i++)
        unconst_free(info->shards[i]);
    unconst_free(info->shards);
    hub__free(info);
}

/* The parse under way: what the result will hold, in mutable form. */
typedef struct st_parse {
    const char *what;
    hub_safetensors_tensor *tensors;
    size_t count, cap;
    char **keys, **values;
    size_t meta_count;
    uint64_t params[DTYPE_COUNT];
    bool seen[DTYPE_COUNT];
} st_parse;

static int count_member(const char *key, const hub_json *value, void *payload)
{
    (void)key;
    (void)value;
    (*(size_t *)payload)++;
    return HUB_OK;
}

static int add_meta(const char *key, const hub_json *value, void *payload)
{
    st_parse *p = payload;
    const char *s = hub__json_string(value);
    if (!s)
        return hub__error_set(HUB_EFORMAT,
                              "%s: __metadata__ value of '%s' is not a string",
                              p->what, key);
    p->keys[p->meta_count] = hub__strdup(key);
    p->values[p->meta_count] = hub__strdup(s);
    if (!p->keys[p->meta_count] || !p->values[p->meta_count]) {
        hub__free(p->keys[p->meta_count]);
        hub__free(p->values[p->meta_count]);
        return HUB_ENOMEM;
    }
    p->meta_count++;
    return HUB_OK;
}

static int add_tensor(const char *key, const hub_json *value, void *payload)
{
    st_parse *p = payload;
    if (strcmp(key, "__metadata__") == 0) {
        if (hub__json_is_null(value)) /* none, as serde's Option */
            return HUB_OK;
        if (!hub__json_is_object(value))
            return hub__error_set(HUB_EFORMAT,
                                  "%s: __metadata__ is not an object of "
                                  "strings",
                                  p->what);
        /* sized by members jansson holds already, never by a claim */
        size_t n = 0;
        hub__json_object_foreach(value, count_member, &n);
        p->keys = hub__calloc(n ? n : 1, sizeof(char *));
        p->values = hub__calloc(n ? n : 1, sizeof(char *));
        if (!p->keys || !p->values)
            return HUB_ENOMEM;
        return hub__json_object_foreach(value, add_meta, p);
    }
    if (!hub__json_is_object(value))
        return hub__error_set(HUB_EFORMAT, "%s: tensor '%s' is not an object",
                              p->what, key);
    const char *dtype = hub__json_string(hub__json_get(value, "dtype"));
    const hub_json *shape = hub__json_get(value, "shape");
    const hub_json *offsets = hub__json_get(value, "data_offsets");
    if (!dtype || !hub__json_is_array(shape) || !hub__json_is_array(offsets))
        return hub__error_set(HUB_EFORMAT,
                              "%s: tensor '%s' lacks a dtype string, a shape "
                              "or data_offsets array",
                              p->what, key);
    int d = dtype_index(dtype);
    if (d < 0)
        return hub__error_set(HUB_EFORMAT,
                              "%s: tensor '%s' has unknown dtype '%s'", p->what,
                              key, dtype);
    if (hub__json_array_size(offsets) != 2)
        return hub__error_set(HUB_EFORMAT,
                              "%s: tensor '%s': data_offsets is not [begin, "
                              "end]",
                              p->what, key);
    uint64_t begin, end;
    if (!hub__json_u64(hub__json_array_get(offsets, 0), &begin) ||
        !hub__json_u64(hub__json_array_get(offsets, 1), &end) || end < begin)
        return hub__error_set(HUB_EFORMAT,
                              "%s: tensor '%s': data_offsets are not two "
                              "integers with begin <= end",
                              p->what, key);
    if (!HUB_GROW(p->tensors, p->count, p->cap))
        return HUB_ENOMEM;
    hub_safetensors_tensor *t = &p->tensors[p->count];
    memset(t, 0, sizeof(*t));
    size_t ndim = hub__json_array_size(shape);
    uint64_t *dims = NULL;
    if (ndim) {
        /* as many as the JSON holds: bounded by the header's bytes */
        dims = hub__calloc(ndim, sizeof(uint64_t));
        if (!dims)
            return HUB_ENOMEM;
    }
    uint64_t count = 1;
    for (size_t i = 0; i < ndim; i++) {
        if (!hub__json_u64(hub__json_array_get(shape, i), &dims[i])) {
            hub__free(dims);
            return hub__error_set(HUB_EFORMAT,
                                  "%s: tensor '%s': shape holds something "
                                  "other than non-negative integers",
                                  p->what, key);
        }
        if (__builtin_mul_overflow(count, dims[i], &count)) {
            hub__free(dims);
            return hub__error_set(HUB_EFORMAT,
                                  "%s: tensor '%s': the shape's product "
                                  "overflows 64 bits",
                                  p->what, key);
        }
    }
    uint64_t bits;
    if (__builtin_mul_overflow(count, (uint64_t)dtypes[d].bits, &bits)) {
        hub__free(dims);
        return hub__error_set(HUB_EFORMAT,
                              "%s: tensor '%s': its size overflows 64 bits",
                              p->what, key);
    }
    if (bits % 8 != 0) {
        hub__free(dims);
        return hub__error_set(HUB_EFORMAT,
                              "%s: tensor '%s': %" PRIu64 " %s elements do "
                              "not fill whole bytes",
                              p->what, key, count, dtype);
    }
    if (end - begin != bits / 8) {
        hub__free(dims);
        return hub__error_set(
            HUB_EFORMAT,
            "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
            ") hold %" PRIu64 " bytes, its shape and dtype %s need %" PRIu64,
            p->what, key, begin, end, end - begin, dtype, bits / 8);
    }
    t->name = hub__strdup(key);
    if (!t->name) {
        hub__free(dims);
        return HUB_ENOMEM;
    }
    t->dtype = dtypes[d].name;
    t->shape = dims;
    t->ndim = ndim;
    t->offset_begin = begin;
    t->offset_end = end;
    t->parameters = count;
    p->count++;
    if (__builtin_add_overflow(p->params[d], count, &p->params[d]))
        return hub__error_set(HUB_EFORMAT,
                              "%s: the %s parameter count overflows 64 bits",
                              p->what, dtype);
    p->seen[d] = true;
    return HUB_OK;
}

static int by_offsets(const void *a, const void *b)
{
    const hub_safetensors_tensor *x = a, *y = b;
    if (x->offset_begin != y->offset_begin)
        return x->offset_begin < y->offset_begin ? -1 : 1;
    if (x->offset_end != y->offset_end)
        return x->offset_end < y->offset_end ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int by_dtype(const void *a, const void *b)
{
    const hub_dtype_count *x = a, *y = b;
    return strcmp(x->dtype, y->dtype);
}

/* Per-dtype counts and the total, from `params`/`seen`. */
static int fill_dtypes(hub_safetensors_info *info,
                       const uint64_t *params,
                       const bool *seen,
                       const char *what)
{
    hub_dtype_count *out = hub__calloc(DTYPE_COUNT, sizeof(*out));
    if (!out)
        return HUB_ENOMEM;
    size_t n = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < DTYPE_COUNT; i++) {
        if (!seen[i])
            continue;
        out[n].dtype = dtypes[i].name;
        out[n].parameters = params[i];
        n++;
        if (__builtin_add_overflow(total, params[i], &total)) {
            hub__free(out);
            return hub__error_set(
                HUB_EFORMAT, "%s: the parameter count overflows 64 bits", what);
        }
    }
    qsort(out, n, sizeof(*out), by_dtype);
    info->dtypes = out;
    info->dtype_count = n;
    info->parameter_total = total;
    return HUB_OK;
}

static void parse_clear(st_parse *p)
{
    for (size_t i = 0; i < p->count; i++) {
        unconst_free(p->tensors[i].name);
        unconst_free(p->tensors[i].shape);
    }
    hub__free(p->tensors);
    for (size_t i = 0; i < p->meta_count; i++) {
        hub__free(p->keys[i]);
        hub__free(p->values[i]);
    }
    hub__free(p->keys);
    hub__free(p->values);
}

int hub__safetensors_parse(hub_safetensors_info **out,
                           const uint8_t *buf,
                           size_t len,
                           uint64_t file_size,
                           const char *what,
                           uint64_t *need)
{
    *out = NULL;
    *need = 0;
    if (file_size != UINT64_MAX && file_size < 8)
        return hub__error_set(HUB_EFORMAT,
                              "%s: %" PRIu64 " bytes, too small for a "
                              "safetensors file",
                              what, file_size);
    if (len < 8) {
        *need = 8;
        return HUB__NEED_MORE;
    }
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | buf[i];
    if (n > HUB_SAFETENSORS_MAX_HEADER)
        return hub__error_set(HUB_EFORMAT,
                              "%s: header length %" PRIu64 " is over the "
                              "safetensors cap of %u bytes",
                              what, n, HUB_SAFETENSORS_MAX_HEADER);
    if (file_size != UINT64_MAX && n > file_size - 8)
        return hub__error_set(HUB_EFORMAT,
                              "%s: header length %" PRIu64 " runs past the "
                              "end of the %" PRIu64 "-byte file",
                              what, n, file_size);
    if (n < 2)
        return hub__error_set(HUB_EFORMAT,
                              "%s: header length %" PRIu64 " is too small for "
                              "a JSON object",
                              what, n);
    if (len - 8 < n) {
        *need = 8 + n;
        return HUB__NEED_MORE;
    }
    if (buf[8] != '{')
        return hub__error_set(HUB_EFORMAT,
                              "%s: the header does not start with '{': not a "
                              "safetensors file",
                              what);
    hub_json *root = NULL;
    st_parse p;
    memset(&p, 0, sizeof(p));
    p.what = what;
    hub_safetensors_info *info = NULL;
    int error = hub__json_parse(&root, (const char *)buf + 8, (size_t)n, what);
    if (error < 0) {
        /* jansson's words, our code: the file is at fault, not a server */
        hub__error_set(HUB_EFORMAT, "%s: header is not valid UTF-8 JSON (%s)",
                       what, hub_error_last()->message);
        error = HUB_EFORMAT;
        goto done;
    }
    if (!hub__json_is_object(root)) {
        error = hub__error_set(HUB_EFORMAT, "%s: header is not a JSON object",
                               what);
        goto done;
    }
    if ((error = hub__json_object_foreach(root, add_tensor, &p)) < 0)
        goto done;
    if (p.count) /* qsort wants a non-NULL array */
        qsort(p.tensors, p.count, sizeof(*p.tensors), by_offsets);
    uint64_t at = 0;
    for (size_t i = 0; i < p.count; i++) {
        const hub_safetensors_tensor *t = &p.tensors[i];
        if (t->offset_begin != at) {
            error = hub__error_set(
                HUB_EFORMAT,
                t->offset_begin < at
                    ? "%s: tensor '%s' at [%" PRIu64 ", %" PRIu64
                      ") overlaps the tensor before it (ending at %" PRIu64 ")"
                    : "%s: tensor '%s' at [%" PRIu64 ", %" PRIu64
                      ") leaves a gap after the tensor before it (ending at "
                      "%" PRIu64 ")",
                what, t->name, t->offset_begin, t->offset_end, at);
            goto done;
        }
        at = t->offset_end;
    }
    if (file_size != UINT64_MAX && at != file_size - 8 - n) {
        error = hub__error_set(
            HUB_EFORMAT,
            at > file_size - 8 - n
                ? "%s: tensors end at data offset %" PRIu64
                  ", past the %" PRIu64 " data bytes of the file (truncated?)"
                : "%s: tensors end at data offset %" PRIu64 ", the file has "
                  "%" PRIu64 " data bytes (trailing bytes)",
            what, at, file_size - 8 - n);
        goto done;
    }
    if (!(info = hub__calloc(1, sizeof(*info)))) {
        error = HUB_ENOMEM;
        goto done;
    }
    if ((error = fill_dtypes(info, p.params, p.seen, what)) < 0)
        goto done;
    info->tensors = p.tensors;
    info->tensor_count = p.count;
    info->metadata_keys = (const char *const *)p.keys;
    info->metadata_values = (const char *const *)p.values;
    info->metadata_count = p.meta_count;
    memset(&p, 0, sizeof(p));
    info->header_size = n;
    info->data_offset = 8 + n;
    info->data_size = at;
    info->total_size = UINT64_MAX;
    *out = info;
    info = NULL;
done:
    hub_safetensors_info_free(info);
    parse_clear(&p);
    hub__json_free(root);
    return error;
}

/* ---- sharded models ---- */

void hub__safetensors_index_free(hub__st_index *index)
{
    for (size_t i = 0; i < index->shard_count; i++)
        hub__free(index->shards[i]);
    hub__free(index->shards);
    for (size_t i = 0; i < index->tensor_count; i++)
        hub__free(index->tensor_names[i]);
    hub__free(index->tensor_names);
    hub__free(index->tensor_shard);
    memset(index, 0, sizeof(*index));
}

typedef struct ix_parse {
    hub__st_index *ix;
    const char *what;
    size_t last; /* shard of the previous tensor: shards come in runs */
} ix_parse;

static int find_shard(const hub__st_index *ix, const char *file, size_t hint)
{
    if (hint < ix->shard_count && strcmp(ix->shards[hint], file) == 0)
        return (int)hint;
    for (size_t i = 0; i < ix->shard_count; i++)
        if (strcmp(ix->shards[i], file) == 0)
            return (int)i;
    return -1;
}

static int add_weight(const char *key, const hub_json *value, void *payload)
{
    ix_parse *p = payload;
    hub__st_index *ix = p->ix;
    const char *file = hub__json_string(value);
    if (!file)
        return hub__error_set(HUB_EFORMAT,
                              "%s: weight_map entry '%s' is not a file name",
                              p->what, key);
    int s = find_shard(ix, file, p->last);
    if (s < 0) {
        if (hub__path_check_repo_path(file) < 0)
            return hub__error_set(HUB_EFORMAT,
                                  "%s: weight_map names an unsafe shard path "
                                  "'%s' (tensor '%s')",
                                  p->what, file, key);
        if (ix->shard_count >= HUB_SAFETENSORS_MAX_SHARDS)
            return hub__error_set(HUB_EFORMAT,
                                  "%s: weight_map names more than %u shards",
                                  p->what, HUB_SAFETENSORS_MAX_SHARDS);
        if (!(ix->shards[ix->shard_count] = hub__strdup(file)))
            return HUB_ENOMEM;
        s = (int)ix->shard_count++;
    }
    p->last = (size_t)s;
    if (!(ix->tensor_names[ix->tensor_count] = hub__strdup(key)))
        return HUB_ENOMEM;
    ix->tensor_shard[ix->tensor_count++] = (size_t)s;
    return HUB_OK;
}

int hub__safetensors_parse_index(hub__st_index *out,
                                 const char *json,
                                 size_t len,
                                 const char *what)
{
    memset(out, 0, sizeof(*out));
    out->total_size = UINT64_MAX;
    hub_json *root = NULL;
    int error = hub__json_parse(&root, json, len, what);
    if (error < 0) {
        hub__error_set(HUB_EFORMAT, "%s: not valid UTF-8 JSON (%s)", what,
                       hub_error_last()->message);
        error = HUB_EFORMAT;
        goto done;
    }
    const hub_json *map = hub__json_get(root, "weight_map");
    if (!hub__json_is_object(map)) {
        error = hub__error_set(HUB_EFORMAT,
                               "%s: no weight_map object: not a safetensors "
                               "index",
                               what);
        goto done;
    }
    size_t n = 0;
    hub__json_object_foreach(map, count_member, &n);
    size_t shard_cap =
        n < HUB_SAFETENSORS_MAX_SHARDS ? n : (size_t)HUB_SAFETENSORS_MAX_SHARDS;
    out->shards = hub__calloc(shard_cap ? shard_cap : 1, sizeof(char *));
    out->tensor_names = hub__calloc(n ? n : 1, sizeof(char *));
    out->tensor_shard = hub__calloc(n ? n : 1, sizeof(size_t));
    if (!out->shards || !out->tensor_names || !out->tensor_shard) {
        error = HUB_ENOMEM;
        goto done;
    }
    ix_parse p = {out, what, 0};
    if ((error = hub__json_object_foreach(map, add_weight, &p)) < 0)
        goto done;
    uint64_t total;
    if (hub__json_u64(
            hub__json_get(hub__json_get(root, "metadata"), "total_size"),
            &total))
        out->total_size = total;
done:
    if (error < 0)
        hub__safetensors_index_free(out);
    hub__json_free(root);
    return error;
}

static int by_name(const void *a, const void *b)
{
    const hub_safetensors_tensor *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* Every tensor of the weight_map is in the shard it names, and no tensor
 * is in two shards. */
static int check_weight_map(const hub_safetensors_info *info,
                            const hub__st_index *index,
                            const char *what)
{
    const hub_safetensors_tensor **sorted = hub__calloc(
        info->tensor_count ? info->tensor_count : 1, sizeof(*sorted));
    if (!sorted)
        return HUB_ENOMEM;
    for (size_t i = 0; i < info->tensor_count; i++)
        sorted[i] = &info->tensors[i];
    qsort(sorted, info->tensor_count, sizeof(*sorted), by_name);
    int error = HUB_OK;
    for (size_t i = 1; i < info->tensor_count; i++)
        if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0) {
            error = hub__error_set(HUB_EFORMAT,
                                   "%s: tensor '%s' is in two shards, '%s' "
                                   "and '%s'",
                                   what, sorted[i]->name, sorted[i - 1]->file,
                                   sorted[i]->file);
            goto done;
        }
    for (size_t i = 0; i < index->tensor_count; i++) {
        hub_safetensors_tensor key;
        memset(&key, 0, sizeof(key));
        key.name = index->tensor_names[i];
        const hub_safetensors_tensor *kp = &key;
        const hub_safetensors_tensor **hit =
            bsearch(&kp, sorted, info->tensor_count, sizeof(*sorted), by_name);
        const char *shard = index->shards[index->tensor_shard[i]];
        if (!hit || strcmp((*hit)->file, shard) != 0) {
            error = hub__error_set(HUB_EFORMAT,
                                   "%s: weight_map puts tensor '%s' in '%s', "
                                   "which does not hold it",
                                   what, key.name, shard);
            goto done;
        }
    }
done:
    hub__free(sorted);
    return error;
}

int hub__safetensors_merge(hub_safetensors_info **out,
                           hub_safetensors_info **parts,
                           const hub__st_index *index,
                           const char *what)
{
    *out = NULL;
    int error = HUB_OK;
    hub_safetensors_info *info = NULL;
    uint64_t params[DTYPE_COUNT] = {0};
    bool seen[DTYPE_COUNT] = {0};
    size_t total = 0;
    for (size_t i = 0; i < index->shard_count; i++)
        if (__builtin_add_overflow(total, parts[i]->tensor_count, &total)) {
            error = hub__error_oom();
            goto done;
        }
    if (!(info = hub__calloc(1, sizeof(*info)))) {
        error = HUB_ENOMEM;
        goto done;
    }
    info->sharded = 1;
    info->total_size = index->total_size;
    char **shards = hub__calloc(index->shard_count ? index->shard_count : 1,
                                sizeof(char *));
    hub_safetensors_tensor *tensors =
        hub__calloc(total ? total : 1, sizeof(*tensors));
    info->shards = (const char *const *)shards;
    info->tensors = tensors;
    if (!shards || !tensors) {
        error = HUB_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < index->shard_count; i++) {
        if (!(shards[i] = hub__strdup(index->shards[i]))) {
            error = HUB_ENOMEM;
            goto done;
        }
        info->shard_count++;
    }
    for (size_t i = 0; i < index->shard_count; i++) {
        hub_safetensors_info *part = parts[i];
        size_t first = info->tensor_count;
        for (size_t k = 0; k < part->tensor_count; k++) {
            tensors[info->tensor_count] = part->tensors[k];
            tensors[info->tensor_count++].file = shards[i];
        }
        part->tensor_count = 0; /* the names and shapes moved */
        for (size_t k = first; k < info->tensor_count; k++) {
            int d = dtype_index(tensors[k].dtype);
            seen[d] = true;
            if (__builtin_add_overflow(params[d], tensors[k].parameters,
                                       &params[d])) {
                error = hub__error_set(HUB_EFORMAT,
                                       "%s: the %s parameter count overflows "
                                       "64 bits",
                                       what, tensors[k].dtype);
                goto done;
            }
        }
        info->header_size += part->header_size;
        if (__builtin_add_overflow(info->data_size, part->data_size,
                                   &info->data_size)) {
            error = hub__error_set(
                HUB_EFORMAT, "%s: the shards' sizes overflow 64 bits", what);
            goto done;
        }
        if (i == 0) {
            info->metadata_keys = part->metadata_keys;
            info->metadata_values = part->metadata_values;
            info->metadata_count = part->metadata_count;
            part->metadata_keys = part->metadata_values = NULL;
            part->metadata_count = 0;
        }
    }
    if ((error = fill_dtypes(info, params, seen, what)) < 0)
        goto done;
    if ((error = check_weight_map(info, index, what)) < 0)
        goto done;
    *out = info;
    info = NULL;
done:
    for (size_t i = 0; i < index->shard_count; i++) {
        hub_safetensors_info_free(parts[i]);
        parts[i] = NULL;
    }
    hub_safetensors_info_free(info);
    return error;
}
