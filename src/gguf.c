/* SPDX-License-Identifier: MIT */
/* gguf.c: GGUF headers (metadata and tensor infos), from bytes. */
#include "gguf.h"

#include "alloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ggml_type (GGMLQuantizationType, cache-and-remote.md B3); the gaps are
 * types llama.cpp removed, which it refuses too */
static const char *const ggml_types[] = {
    [0] = "F32",      [1] = "F16",     [2] = "Q4_0",     [3] = "Q4_1",
    [6] = "Q5_0",     [7] = "Q5_1",    [8] = "Q8_0",     [9] = "Q8_1",
    [10] = "Q2_K",    [11] = "Q3_K",   [12] = "Q4_K",    [13] = "Q5_K",
    [14] = "Q6_K",    [15] = "Q8_K",   [16] = "IQ2_XXS", [17] = "IQ2_XS",
    [18] = "IQ3_XXS", [19] = "IQ1_S",  [20] = "IQ4_NL",  [21] = "IQ3_S",
    [22] = "IQ2_S",   [23] = "IQ4_XS", [24] = "I8",      [25] = "I16",
    [26] = "I32",     [27] = "I64",    [28] = "F64",     [29] = "IQ1_M",
    [30] = "BF16",    [34] = "TQ1_0",  [35] = "TQ2_0",   [39] = "MXFP4",
    [40] = "NVFP4",   [41] = "Q1_0",   [42] = "Q2_0",
};

const char *hub_ggml_type_name(uint32_t type)
{
    return type < HUB_ARRAY_LEN(ggml_types) ? ggml_types[type] : NULL;
}

/* llama_ftype (GGMLFileQuantizationType); 5 and 6 were removed */
static const char *const file_types[] = {
    [0] = "F32",        [1] = "F16",           [2] = "Q4_0",
    [3] = "Q4_1",       [4] = "Q4_1_SOME_F16", [7] = "Q8_0",
    [8] = "Q5_0",       [9] = "Q5_1",          [10] = "Q2_K",
    [11] = "Q3_K_S",    [12] = "Q3_K_M",       [13] = "Q3_K_L",
    [14] = "Q4_K_S",    [15] = "Q4_K_M",       [16] = "Q5_K_S",
    [17] = "Q5_K_M",    [18] = "Q6_K",         [19] = "IQ2_XXS",
    [20] = "IQ2_XS",    [21] = "Q2_K_S",       [22] = "IQ3_XS",
    [23] = "IQ3_XXS",   [24] = "IQ1_S",        [25] = "IQ4_NL",
    [26] = "IQ3_S",     [27] = "IQ3_M",        [28] = "IQ2_S",
    [29] = "IQ2_M",     [30] = "IQ4_XS",       [31] = "IQ1_M",
    [32] = "BF16",      [33] = "Q4_0_4_4",     [34] = "Q4_0_4_8",
    [35] = "Q4_0_8_8",  [36] = "TQ1_0",        [37] = "TQ2_0",
    [38] = "MXFP4_MOE", [39] = "NVFP4",        [40] = "Q1_0",
    [41] = "Q2_0",
};

const char *hub__gguf_file_type_name(int64_t file_type)
{
    if (file_type < 0 || (uint64_t)file_type >= HUB_ARRAY_LEN(file_types))
        return NULL;
    return file_types[file_type];
}

/* bytes of a scalar value type; 0 for STRING, ARRAY and unknown types */
static unsigned scalar_size(uint32_t type)
{
    static const unsigned sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return type < HUB_ARRAY_LEN(sizes) ? sizes[type] : 0;
}

/* fewest bytes one value of `type` takes in a file */
static unsigned min_size(uint32_t type)
{
    if (type == HUB_GGUF_STRING)
        return 8;
    if (type == HUB_GGUF_ARRAY)
        return 12;
    return scalar_size(type);
}

static const char *type_name(uint32_t type)
{
    static const char *const names[] = {
        "uint8", "int8",   "uint16", "int16",  "uint32", "int32",  "float32",
        "bool",  "string", "array",  "uint64", "int64",  "float64"};
    return type < HUB_ARRAY_LEN(names) ? names[type] : "unknown";
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1, cp = c & 0x1Fu, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2, cp = c & 0x0Fu, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3, cp = c & 0x07u, min = 0x10000;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

/* ---- results ---- */

static void unconst_free(const void *p)
{
    hub__free((void *)(uintptr_t)p);
}

static void value_free(hub_gguf_value *v)
{
    unconst_free(v->str);
    unconst_free(v->data);
    if (v->strings)
        for (uint64_t k = 0; k < v->count; k++)
            unconst_free(v->strings[k]);
    unconst_free(v->strings);
    unconst_free(v->lengths);
    if (v->items)
        for (uint64_t k = 0; k < v->count; k++)
            value_free((hub_gguf_value *)(uintptr_t)&v->items[k]);
    unconst_free(v->items);
    memset(v, 0, sizeof(*v));
}

void hub_gguf_info_free(hub_gguf_info *info)
{
    if (!info)
        return;
    for (uint64_t i = 0; i < info->kv_count; i++) {
        hub_gguf_kv *kv = (hub_gguf_kv *)(uintptr_t)&info->kvs[i];
        unconst_free(kv->key);
        value_free(&kv->value);
    }
    unconst_free(info->kvs);
    for (uint64_t i = 0; i < info->tensor_count; i++) {
        unconst_free(info->tensors[i].name);
        unconst_free(info->tensors[i].dims);
    }
    unconst_free(info->tensors);
    hub__free(info);
}

const hub_gguf_kv *hub_gguf_info_get(const hub_gguf_info *info, const char *key)
{
    if (!info || !key)
        return NULL;
    for (uint64_t i = 0; i < info->kv_count; i++)
        if (strcmp(info->kvs[i].key, key) == 0)
            return &info->kvs[i];
    return NULL;
}

/* ---- the reader ---- */

typedef struct rd {
    const uint8_t *p;
    size_t len;
    uint64_t pos;
    uint64_t end; /* bytes the header may span */
    bool be;
    const hub__gguf_limits *lim;
    const char *what;
    const char *ctx; /* the key or tensor being read, for messages */
    uint64_t *need;
} rd;

/* `n` more bytes at the cursor, for `item`: HUB_OK when present,
 * HUB__NEED_MORE when the file may still hold them, else HUB_EFORMAT. */
static int have(rd *r, uint64_t n, const char *item)
{
    uint64_t stop;
    bool over = __builtin_add_overflow(r->pos, n, &stop);
    if (over || stop > r->end) {
        const char *where = r->ctx ? r->ctx : "header";
        if (r->lim->file_size != UINT64_MAX &&
            (over || stop > r->lim->file_size))
            return hub__error_set(HUB_EFORMAT,
                                  "%s: %s of %s at offset %" PRIu64
                                  " needs %" PRIu64 " bytes, past the end of "
                                  "the %" PRIu64 "-byte file",
                                  r->what, item, where, r->pos, n,
                                  r->lim->file_size);
        return hub__error_set(HUB_EFORMAT,
                              "%s: %s of %s at offset %" PRIu64
                              " needs %" PRIu64 " bytes, past the %" PRIu64
                              "-byte cap on GGUF headers",
                              r->what, item, where, r->pos, n, r->end);
    }
    if (stop > r->len) {
        *r->need = stop;
        return HUB__NEED_MORE;
    }
    return HUB_OK;
}

static uint64_t get_uint(const uint8_t *p, unsigned n, bool be)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[be ? i : n - 1 - i];
    return v;
}

/* an unsigned integer of `n` bytes at the cursor */
static int rd_uint(rd *r, unsigned n, uint64_t *out, const char *item)
{
    int error = have(r, n, item);
    if (error)
        return error;
    *out = get_uint(r->p + r->pos, n, r->be);
    r->pos += n;
    return HUB_OK;
}

static int rd_u32(rd *r, uint32_t *out, const char *item)
{
    uint64_t v = 0;
    int error = rd_uint(r, 4, &v, item);
    *out = (uint32_t)v;
    return error;
}

/* A string: u64 length, bytes. Copied (NUL-terminated) when `keep`. */
static int
rd_str(rd *r, char **out, size_t *len_out, bool keep, const char *item)
{
    uint64_t n;
    int error;
    if ((error = rd_uint(r, 8, &n, item)) || (error = have(r, n, item)))
        return error;
    if (keep) {
        /* n bytes are present: the copy is bounded by the input */
        char *s = hub__malloc((size_t)n + 1);
        if (!s)
            return HUB_ENOMEM;
        memcpy(s, r->p + r->pos, (size_t)n);
        s[n] = 0;
        *out = s;
        *len_out = (size_t)n;
    }
    r->pos += n;
    return HUB_OK;
}

/* A key or tensor name: valid UTF-8 without NUL. */
static int rd_name(rd *r, char **out, const char *item)
{
    size_t n = 0;
    uint64_t at = r->pos;
    int error = rd_str(r, out, &n, true, item);
    if (error)
        return error;
    if (memchr(*out, 0, n) || !utf8_valid((const uint8_t *)*out, n)) {
        hub__free(*out);
        *out = NULL;
        return hub__error_set(HUB_EFORMAT,
                              "%s: %s at offset %" PRIu64
                              " is not valid UTF-8 (or holds a NUL)",
                              r->what, item, at);
    }
    return HUB_OK;
}

/* Store one scalar element of an array, converted to host order. */
static void put_scalar(void *data, uint64_t k, uint32_t type, uint64_t raw)
{
    switch (scalar_size(type)) {
    case 1: {
        uint8_t b = (uint8_t)raw;
        if (type == HUB_GGUF_BOOL)
            b = b != 0;
        ((uint8_t *)data)[k] = b;
        break;
    }
    case 2:
        ((uint16_t *)data)[k] = (uint16_t)raw;
        break;
    case 4:
        ((uint32_t *)data)[k] = (uint32_t)raw;
        break;
    default:
        ((uint64_t *)data)[k] = raw;
        break;
    }
}

static void set_scalar(hub_gguf_value *v, uint32_t type, uint64_t raw)
{
    switch (type) {
    case HUB_GGUF_INT8:
        v->i = (int8_t)(uint8_t)raw;
        break;
    case HUB_GGUF_INT16:
        v->i = (int16_t)(uint16_t)raw;
        break;
    case HUB_GGUF_INT32:
        v->i = (int32_t)(uint32_t)raw;
        break;
    case HUB_GGUF_INT64:
        v->i = (int64_t)raw;
        break;
    case HUB_GGUF_FLOAT32: {
        uint32_t bits = (uint32_t)raw;
        float f;
        memcpy(&f, &bits, sizeof(f));
        v->f = (double)f;
        break;
    }
    case HUB_GGUF_FLOAT64:
        memcpy(&v->f, &raw, sizeof(v->f));
        break;
    case HUB_GGUF_BOOL:
        v->u = raw != 0;
        break;
    default:
        v->u = raw;
        break;
    }
}

static int
rd_value(rd *r, uint32_t type, hub_gguf_value *v, unsigned depth, bool keep);

static int rd_array(rd *r, hub_gguf_value *v, unsigned depth, bool keep)
{
    uint32_t elem;
    uint64_t count;
    int error;
    if ((error = rd_u32(r, &elem, "array type")))
        return error;
    if (min_size(elem) == 0)
        return hub__error_set(HUB_EFORMAT,
                              "%s: %s: unknown array element type %" PRIu32
                              " at offset %" PRIu64,
                              r->what, r->ctx, elem, r->pos - 4);
    if (elem == HUB_GGUF_ARRAY && depth + 1 >= HUB_GGUF_MAX_DEPTH)
        return hub__error_set(HUB_EFORMAT,
                              "%s: %s: arrays nested more than %d deep",
                              r->what, r->ctx, HUB_GGUF_MAX_DEPTH);
    if ((error = rd_uint(r, 8, &count, "array length")))
        return error;
    /* the elements must fit in the bytes there can be, before anything is
     * allocated for them (each takes min_size bytes at least) */
    uint64_t least;
    if (__builtin_mul_overflow(count, (uint64_t)min_size(elem), &least))
        least = UINT64_MAX;
    if ((error = have(r, least, "array")))
        return error;
    if (keep && r->lim->max_array_values && count > r->lim->max_array_values)
        keep = false;
    v->elem_type = (hub_gguf_type)elem;
    v->count = count;
    v->kept = keep;
    unsigned size = scalar_size(elem);
    if (size) {
        if (keep) {
            void *data = hub__calloc((size_t)count ? (size_t)count : 1, size);
            if (!data)
                return HUB_ENOMEM;
            for (uint64_t k = 0; k < count; k++)
                put_scalar(data, k, elem,
                           get_uint(r->p + r->pos + k * size, size, r->be));
            v->data = data;
        }
        r->pos += count * size;
        return HUB_OK;
    }
    char **strings = NULL;
    size_t *lengths = NULL;
    hub_gguf_value *items = NULL;
    if (keep && elem == HUB_GGUF_STRING) {
        strings =
            hub__calloc((size_t)count ? (size_t)count : 1, sizeof(char *));
        lengths =
            hub__calloc((size_t)count ? (size_t)count : 1, sizeof(size_t));
        v->strings = (const char *const *)strings;
        v->lengths = lengths;
        if (!strings || !lengths)
            return HUB_ENOMEM;
    } else if (keep) {
        items = hub__calloc((size_t)count ? (size_t)count : 1, sizeof(*items));
        v->items = items;
        if (!items)
            return HUB_ENOMEM;
    }
    for (uint64_t k = 0; k < count; k++) {
        if (elem == HUB_GGUF_STRING) {
            char *s = NULL;
            size_t n = 0;
            if ((error = rd_str(r, &s, &n, keep, "string")))
                return error;
            if (keep) {
                strings[k] = s;
                lengths[k] = n;
            }
        } else {
            hub_gguf_value skip;
            memset(&skip, 0, sizeof(skip));
            if ((error = rd_value(r, elem, keep ? &items[k] : &skip, depth + 1,
                                  keep)))
                return error;
        }
    }
    return HUB_OK;
}

/* One value of `type` into `v` (nothing is kept when !keep: skipped). On
 * failure `v` holds what was read, for value_free(). */
static int
rd_value(rd *r, uint32_t type, hub_gguf_value *v, unsigned depth, bool keep)
{
    v->type = (hub_gguf_type)type;
    if (type == HUB_GGUF_STRING) {
        char *s = NULL;
        size_t n = 0;
        int error = rd_str(r, &s, &n, keep, "string");
        v->str = s;
        v->len = n;
        return error;
    }
    if (type == HUB_GGUF_ARRAY)
        return rd_array(r, v, depth, keep);
    unsigned size = scalar_size(type);
    if (!size)
        return hub__error_set(HUB_EFORMAT,
                              "%s: %s: unknown value type %" PRIu32
                              " at offset %" PRIu64,
                              r->what, r->ctx, type, r->pos - 4);
    uint64_t raw;
    int error = rd_uint(r, size, &raw, type_name(type));
    if (!error)
        set_scalar(v, type, raw);
    return error;
}

/* ---- the header ---- */

static int by_key(const void *a, const void *b)
{
    const hub_gguf_kv *const *x = a, *const *y = b;
    return strcmp((*x)->key, (*y)->key);
}

static int by_tensor_name(const void *a, const void *b)
{
    const hub_gguf_tensor *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* Refuse two keys or two tensors of the same name, as llama.cpp does. */
static int check_unique(const hub_gguf_info *info, const char *what)
{
    size_t n =
        (size_t)(info->kv_count > info->tensor_count ? info->kv_count
                                                     : info->tensor_count);
    const void **sorted = hub__calloc(n ? n : 1, sizeof(void *));
    if (!sorted)
        return HUB_ENOMEM;
    int error = HUB_OK;
    for (size_t i = 0; i < info->kv_count; i++)
        sorted[i] = &info->kvs[i];
    qsort(sorted, (size_t)info->kv_count, sizeof(void *), by_key);
    for (size_t i = 1; i < info->kv_count; i++) {
        const hub_gguf_kv *kv = sorted[i];
        if (strcmp(((const hub_gguf_kv *)sorted[i - 1])->key, kv->key) == 0) {
            error = hub__error_set(HUB_EFORMAT, "%s: duplicate key '%s'", what,
                                   kv->key);
            goto done;
        }
    }
    for (size_t i = 0; i < info->tensor_count; i++)
        sorted[i] = &info->tensors[i];
    qsort(sorted, (size_t)info->tensor_count, sizeof(void *), by_tensor_name);
    for (size_t i = 1; i < info->tensor_count; i++) {
        const hub_gguf_tensor *t = sorted[i];
        if (strcmp(((const hub_gguf_tensor *)sorted[i - 1])->name, t->name) ==
            0) {
            error = hub__error_set(HUB_EFORMAT, "%s: duplicate tensor '%s'",
                                   what, t->name);
            goto done;
        }
    }
done:
    hub__free(sorted);
    return error;
}

/* An integer value of any integer type, as signed (false if none fits). */
static bool value_int(const hub_gguf_value *v, int64_t *out)
{
    switch (v->type) {
    case HUB_GGUF_UINT8:
    case HUB_GGUF_UINT16:
    case HUB_GGUF_UINT32:
    case HUB_GGUF_UINT64:
        if (v->u > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)v->u;
        return true;
    case HUB_GGUF_INT8:
    case HUB_GGUF_INT16:
    case HUB_GGUF_INT32:
    case HUB_GGUF_INT64:
        *out = v->i;
        return true;
    default:
        return false;
    }
}

static uint64_t
arch_fact(const hub_gguf_info *info, const char *arch, const char *name)
{
    char key[256];
    int n = snprintf(key, sizeof(key), "%s.%s", arch, name);
    if (n < 0 || (size_t)n >= sizeof(key))
        return 0;
    const hub_gguf_kv *kv = hub_gguf_info_get(info, key);
    int64_t v;
    return kv && value_int(&kv->value, &v) && v > 0 ? (uint64_t)v : 0;
}

static void derive_facts(hub_gguf_info *info)
{
    const hub_gguf_kv *kv = hub_gguf_info_get(info, "general.architecture");
    if (kv && kv->value.type == HUB_GGUF_STRING)
        info->architecture = kv->value.str;
    kv = hub_gguf_info_get(info, "general.name");
    if (kv && kv->value.type == HUB_GGUF_STRING)
        info->name = kv->value.str;
    info->file_type = -1;
    kv = hub_gguf_info_get(info, "general.file_type");
    int64_t ft;
    if (kv && value_int(&kv->value, &ft)) {
        info->file_type = ft;
        info->file_type_name = hub__gguf_file_type_name(ft);
    }
    if (info->architecture) {
        info->context_length =
            arch_fact(info, info->architecture, "context_length");
        info->embedding_length =
            arch_fact(info, info->architecture, "embedding_length");
        info->block_count = arch_fact(info, info->architecture, "block_count");
    }
}

/* general.alignment: a u32 power of two, default 32 (llama.cpp's rule) */
static int read_alignment(hub_gguf_info *info, const char *what)
{
    info->alignment = 32;
    const hub_gguf_kv *kv = hub_gguf_info_get(info, "general.alignment");
    if (!kv)
        return HUB_OK;
    if (kv->value.type != HUB_GGUF_UINT32 || kv->value.u == 0 ||
        (kv->value.u & (kv->value.u - 1)) != 0)
        return hub__error_set(HUB_EFORMAT,
                              "%s: general.alignment is not a uint32 power "
                              "of two",
                              what);
    info->alignment = (uint32_t)kv->value.u;
    return HUB_OK;
}

static int read_kvs(rd *r, hub_gguf_info *info, uint64_t kv_count)
{
    hub_gguf_kv *kvs = NULL;
    size_t cap = 0;
    int error = HUB_OK;
    for (uint64_t i = 0; i < kv_count; i++) {
        if (!HUB_GROW(kvs, (size_t)info->kv_count, cap)) {
            error = HUB_ENOMEM;
            break;
        }
        info->kvs = kvs;
        hub_gguf_kv *kv = &kvs[info->kv_count];
        memset(kv, 0, sizeof(*kv));
        char *key = NULL;
        r->ctx = "a key";
        if ((error = rd_name(r, &key, "key")))
            break;
        kv->key = key;
        info->kv_count++; /* from here on it is freed with the info */
        r->ctx = key;
        uint32_t type;
        if ((error = rd_u32(r, &type, "value type")))
            break;
        if ((error = rd_value(r, type, &kv->value, 0, true)))
            break;
    }
    r->ctx = NULL;
    return error;
}

static int read_tensors(rd *r, hub_gguf_info *info, uint64_t tensor_count)
{
    hub_gguf_tensor *tensors = NULL;
    size_t cap = 0;
    int error = HUB_OK;
    for (uint64_t i = 0; i < tensor_count; i++) {
        if (!HUB_GROW(tensors, (size_t)info->tensor_count, cap)) {
            error = HUB_ENOMEM;
            break;
        }
        info->tensors = tensors;
        hub_gguf_tensor *t = &tensors[info->tensor_count];
        memset(t, 0, sizeof(*t));
        char *name = NULL;
        r->ctx = "a tensor name";
        if ((error = rd_name(r, &name, "tensor name")))
            break;
        t->name = name;
        info->tensor_count++;
        r->ctx = name;
        uint32_t n_dims;
        if ((error = rd_u32(r, &n_dims, "n_dims")))
            break;
        if (n_dims > HUB_GGUF_MAX_DIMS) {
            error = hub__error_set(HUB_EFORMAT,
                                   "%s: tensor '%s' has %" PRIu32
                                   " dimensions (at most %d)",
                                   r->what, name, n_dims, HUB_GGUF_MAX_DIMS);
            break;
        }
        if ((error = have(r, 8u * n_dims, "dimensions")))
            break;
        uint64_t *dims = hub__calloc(n_dims ? n_dims : 1, sizeof(uint64_t));
        if (!dims) {
            error = HUB_ENOMEM;
            break;
        }
        t->dims = dims;
        t->n_dims = n_dims;
        uint64_t product = 1;
        for (uint32_t d = 0; d < n_dims; d++) {
            (void)rd_uint(r, 8, &dims[d], "dimension"); /* present */
            if (dims[d] > (uint64_t)INT64_MAX ||
                __builtin_mul_overflow(product, dims[d], &product) ||
                product > (uint64_t)INT64_MAX) {
                error = hub__error_set(HUB_EFORMAT,
                                       "%s: tensor '%s': its dimensions "
                                       "overflow 63 bits",
                                       r->what, name);
                break;
            }
        }
        if (error)
            break;
        t->parameters = product;
        if ((error = rd_u32(r, &t->type, "ggml type")))
            break;
        if (!(t->type_name = hub_ggml_type_name(t->type))) {
            error = hub__error_set(HUB_EFORMAT,
                                   "%s: tensor '%s' has unknown or removed "
                                   "ggml type %" PRIu32,
                                   r->what, name, t->type);
            break;
        }
        if ((error = rd_uint(r, 8, &t->offset, "tensor offset")))
            break;
        if (__builtin_add_overflow(info->parameters, product,
                                   &info->parameters)) {
            error = hub__error_set(HUB_EFORMAT,
                                   "%s: the parameter count overflows 64 bits",
                                   r->what);
            break;
        }
    }
    r->ctx = NULL;
    return error;
}

int hub__gguf_parse(hub_gguf_info **out,
                    const uint8_t *buf,
                    size_t len,
                    const hub__gguf_limits *limits,
                    const char *what,
                    uint64_t *need)
{
    *out = NULL;
    *need = 0;
    rd r;
    memset(&r, 0, sizeof(r));
    r.p = buf;
    r.len = len;
    r.lim = limits;
    r.what = what;
    r.need = need;
    r.end = limits->file_size;
    if (limits->max_header && limits->max_header < r.end)
        r.end = limits->max_header;
    hub_gguf_info *info = NULL;
    int error;
    uint32_t version;
    uint64_t tensor_count, kv_count;
    if ((error = have(&r, 4, "magic")))
        return error;
    if (memcmp(buf, "GGUF", 4) != 0)
        return hub__error_set(HUB_EFORMAT,
                              "%s: not a GGUF file (magic %02x %02x %02x "
                              "%02x, not \"GGUF\")",
                              what, buf[0], buf[1], buf[2], buf[3]);
    r.pos = 4;
    if ((error = rd_u32(&r, &version, "version")))
        return error;
    if ((version & 0xFFFFu) == 0) { /* written big-endian */
        r.be = true;
        version = (uint32_t)get_uint(buf + 4, 4, true);
    }
    if (version == 1)
        return hub__error_set(HUB_EFORMAT,
                              "%s: GGUF version 1 is not supported (llama.cpp "
                              "dropped it too); convert the file to version 3",
                              what);
    if (version != 2 && version != 3)
        return hub__error_set(HUB_EFORMAT, "%s: unknown GGUF version %" PRIu32,
                              what, version);
    if ((error = rd_uint(&r, 8, &tensor_count, "tensor count")) ||
        (error = rd_uint(&r, 8, &kv_count, "kv count")))
        return error;
    /* each pair takes 13 bytes at least, each tensor info 24 */
    uint64_t room = r.end - r.pos;
    if (kv_count > room / 13 || tensor_count > room / 24 ||
        kv_count * 13 > room - tensor_count * 24)
        return hub__error_set(HUB_EFORMAT,
                              "%s: %" PRIu64 " keys and %" PRIu64
                              " tensors cannot fit in %" PRIu64 " bytes",
                              what, kv_count, tensor_count, room);
    if (!(info = hub__calloc(1, sizeof(*info))))
        return HUB_ENOMEM;
    info->version = version;
    info->big_endian = r.be;
    if ((error = read_kvs(&r, info, kv_count)) ||
        (error = read_alignment(info, what)) ||
        (error = read_tensors(&r, info, tensor_count)) ||
        (error = check_unique(info, what)))
        goto done;
    info->header_size = r.pos;
    uint64_t pad =
        (info->alignment - r.pos % info->alignment) % info->alignment;
    if (__builtin_add_overflow(r.pos, pad, &info->data_offset)) {
        error = hub__error_set(HUB_EFORMAT, "%s: header too long", what);
        goto done;
    }
    for (uint64_t i = 0; i < info->tensor_count; i++) {
        const hub_gguf_tensor *t = &info->tensors[i];
        uint64_t at;
        if (t->offset % info->alignment != 0) {
            error = hub__error_set(HUB_EFORMAT,
                                   "%s: tensor '%s' at offset %" PRIu64
                                   " is not aligned to %" PRIu32,
                                   what, t->name, t->offset, info->alignment);
            goto done;
        }
        if (__builtin_add_overflow(info->data_offset, t->offset, &at) ||
            (limits->file_size != UINT64_MAX && at > limits->file_size)) {
            error = hub__error_set(HUB_EFORMAT,
                                   "%s: tensor '%s' starts at data offset "
                                   "%" PRIu64 ", past the end of the file",
                                   what, t->name, t->offset);
            goto done;
        }
    }
    derive_facts(info);
    *out = info;
    info = NULL;
done:
    hub_gguf_info_free(info);
    return error;
}
