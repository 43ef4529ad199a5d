/* SPDX-License-Identifier: MIT */
/* test_weights.c: safetensors and GGUF headers: the files
 * tests/fixtures/gen_weights.py writes (expectations worked out there),
 * prefixes of them, and malformed headers, each with its error. */
#include "../harness/suites.h"
#include "../harness/test.h"

#include "../../src/alloc.h"
#include "../../src/gguf.h"
#include "../../src/safetensors.h"

#include <sys/stat.h>

static char fixtures[512];

/* Write the fixtures into the test's temporary directory. */
static const char *gen(void)
{
    const char *src = getenv("HUB_SOURCE_DIR");
    if (!src)
        test_skip("HUB_SOURCE_DIR is not set");
    snprintf(fixtures, sizeof(fixtures), "%s/w", test_tmpdir());
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "python3 '%s/tests/fixtures/gen_weights.py' '%s' </dev/null", src,
             fixtures);
    if (system(cmd) != 0)
        test_fail(__FILE__, __LINE__, "gen_weights.py failed");
    return fixtures;
}

static char *fixture(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s/%s", fixtures, name);
    return path;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ASSERT(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    ASSERT(b && fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static uint64_t dtype_params(const hub_safetensors_info *info, const char *d)
{
    for (size_t i = 0; i < info->dtype_count; i++)
        if (strcmp(info->dtypes[i].dtype, d) == 0)
            return info->dtypes[i].parameters;
    return UINT64_MAX;
}

static void expect_error(int rc, int code, const char *fragment)
{
    if (rc != code)
        test_fail(__FILE__, __LINE__, "expected %d, got %d (%s)", code, rc,
                  hub_error_last()->message);
    if (!strstr(hub_error_last()->message, fragment))
        test_fail(__FILE__, __LINE__, "message '%s' lacks '%s'",
                  hub_error_last()->message, fragment);
}

/* ---- safetensors ---- */

static void test_safetensors_single_file(void)
{
    gen();
    hub_safetensors_info *info;
    ASSERT_OK(
        hub_safetensors_info_file(&info, fixture("single.safetensors"), NULL));
    ASSERT_EQ_INT(info->tensor_count, 25);
    ASSERT_EQ_INT(info->dtype_count, 22);
    ASSERT_EQ_INT(dtype_params(info, "F32"), 9);
    ASSERT_EQ_INT(dtype_params(info, "BF16"), 136);
    ASSERT_EQ_INT(dtype_params(info, "F6_E2M3"), 16);
    ASSERT_EQ_INT(dtype_params(info, "F4"), 8);
    ASSERT_EQ_INT(dtype_params(info, "C64"), 8);
    ASSERT_EQ_INT(info->parameter_total, 321);
    ASSERT_EQ_STR(info->dtypes[0].dtype, "BF16"); /* sorted by name */
    ASSERT_EQ_INT(info->sharded, 0);
    ASSERT(info->shard_count == 0 && info->total_size == UINT64_MAX);
    /* data order; scalars and empty tensors included */
    ASSERT_EQ_STR(info->tensors[0].name, "model.bool.weight");
    ASSERT_EQ_STR(info->tensors[0].dtype, "BOOL");
    ASSERT_EQ_INT(info->tensors[0].offset_end, 8);
    ASSERT_EQ_STR(info->tensors[1].dtype, "F4");
    ASSERT_EQ_INT(info->tensors[1].offset_end - info->tensors[1].offset_begin,
                  4);
    ASSERT(info->tensors[1].file == NULL);
    bool scalar = false, empty = false;
    for (size_t i = 0; i < info->tensor_count; i++) {
        const hub_safetensors_tensor *t = &info->tensors[i];
        if (strcmp(t->name, "model.scalar") == 0) {
            scalar = true;
            ASSERT(t->ndim == 0 && t->parameters == 1);
        }
        if (strcmp(t->name, "model.empty") == 0) {
            empty = true;
            ASSERT(t->ndim == 2 && t->shape[0] == 0 && t->shape[1] == 3);
            ASSERT(t->parameters == 0 && t->offset_begin == t->offset_end);
        }
    }
    ASSERT(scalar && empty);
    ASSERT_EQ_INT(info->metadata_count, 3);
    ASSERT_EQ_STR(info->metadata_keys[1], "note");
    ASSERT_EQ_STR(info->metadata_values[1], "caf\xc3\xa9");
    struct stat st;
    ASSERT(stat(fixture("single.safetensors"), &st) == 0);
    ASSERT_EQ_INT(info->data_offset, 8 + info->header_size);
    ASSERT_EQ_INT(info->data_offset + info->data_size, st.st_size);
    ASSERT_EQ_INT(info->header_size % 8, 0);
    hub_safetensors_info_free(info);
}

static void test_safetensors_sharded(void)
{
    gen();
    hub_safetensors_info *info;
    ASSERT_OK(hub_safetensors_info_file(
        &info, fixture("sharded/model.safetensors.index.json"), NULL));
    ASSERT_EQ_INT(info->sharded, 1);
    ASSERT_EQ_INT(info->shard_count, 2);
    /* weight_map is sorted by tensor: lm_head (shard 2) comes first */
    ASSERT_EQ_STR(info->shards[0], "model-00002-of-00002.safetensors");
    ASSERT_EQ_INT(info->tensor_count, 5);
    ASSERT_EQ_INT(info->dtype_count, 2);
    ASSERT_EQ_INT(dtype_params(info, "BF16"), 3072);
    ASSERT_EQ_INT(dtype_params(info, "F32"), 16);
    ASSERT_EQ_INT(info->parameter_total, 3088);
    ASSERT_EQ_INT(info->total_size, 6208);
    ASSERT_EQ_INT(info->data_size, 6208);
    ASSERT_EQ_STR(info->tensors[0].file, "model-00002-of-00002.safetensors");
    ASSERT_EQ_STR(info->tensors[0].name, "model.layers.1.mlp.weight");
    ASSERT_EQ_STR(info->tensors[4].file, "model-00001-of-00002.safetensors");
    ASSERT_EQ_INT(info->metadata_count, 1);
    hub_safetensors_info_free(info);

    /* an index naming a tensor its shard lacks; a shard out of the folder */
    char path[1100];
    snprintf(path, sizeof(path), "%s", fixture("sharded/bad.index.json"));
    FILE *f = fopen(path, "w");
    ASSERT(f);
    fputs("{\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\"}}", f);
    fclose(f);
    expect_error(hub_safetensors_info_file(&info, path, NULL), HUB_EFORMAT,
                 "does not hold it");
    ASSERT(info == NULL);
    f = fopen(path, "w");
    ASSERT(f);
    fputs("{\"weight_map\":{\"x\":\"../single.safetensors\"}}", f);
    fclose(f);
    expect_error(hub_safetensors_info_file(&info, path, NULL), HUB_EFORMAT,
                 "unsafe shard path");
}

static void test_safetensors_prefixes(void)
{
    gen();
    size_t size;
    uint8_t *buf = slurp(fixture("single.safetensors"), &size);
    hub_safetensors_info *info = NULL;
    uint64_t need = 0;
    ASSERT_EQ_INT(hub__safetensors_parse(&info, buf, 3, UINT64_MAX, "x", &need),
                  HUB__NEED_MORE);
    ASSERT_EQ_INT(need, 8);
    ASSERT_EQ_INT(hub__safetensors_parse(&info, buf, 8, size, "x", &need),
                  HUB__NEED_MORE);
    uint64_t n = need;
    ASSERT(n > 8 && n < size);
    ASSERT_EQ_INT(
        hub__safetensors_parse(&info, buf, (size_t)n - 1, size, "x", &need),
        HUB__NEED_MORE);
    ASSERT_EQ_INT(need, n);
    /* the header alone, size unknown: parsed, the end not checked */
    ASSERT_OK(
        hub__safetensors_parse(&info, buf, (size_t)n, UINT64_MAX, "x", &need));
    ASSERT_EQ_INT(info->parameter_total, 321);
    hub_safetensors_info_free(info);
    free(buf);
}

/* 8-byte length, JSON, `data` zero bytes: parse with the file's size */
static int st_bytes(const char *json, size_t data)
{
    size_t n = strlen(json);
    uint8_t *b = calloc(1, 8 + n + data);
    ASSERT(b);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(b + 8, json, n);
    hub_safetensors_info *info = NULL;
    uint64_t need = 0;
    int rc = hub__safetensors_parse(&info, b, 8 + n + data, 8 + n + data,
                                    "m.safetensors", &need);
    hub_safetensors_info_free(info);
    free(b);
    return rc;
}

#define T(dtype, shape, a, b)                                                  \
    "{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #a       \
    "," #b "]}"

static void test_safetensors_malformed(void)
{
    /* well formed, to be sure the helper is right */
    ASSERT_OK(st_bytes("{\"a\":" T("F32", "[2]", 0, 8) "}", 8));
    ASSERT_OK(st_bytes("{}", 0));
    ASSERT_OK(st_bytes("{\"__metadata__\":null}", 0));
    static const struct {
        const char *json;
        size_t data;
        const char *error;
    } cases[] = {
        {"[]", 0, "does not start with '{'"},
        {"{\"a\":", 0, "not valid UTF-8 JSON"},
        {"{\"\xff\":" T("F32", "[1]", 0, 4) "}", 4, "not valid UTF-8 JSON"},
        {"{\"a\":" T("F32", "[1]", 0, 4) ",\"a\":" T("F32", "[1]", 4, 8) "}", 8,
         "not valid UTF-8 JSON"}, /* duplicate key */
        {"{\"a\":" T("F12", "[1]", 0, 4) "}", 4, "unknown dtype 'F12'"},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "lacks"},
        {"{\"a\":" T("F32", "[1]", 0, 4) ",\"b\":3}", 4, "not an object"},
        {"{\"a\":" T("F32", "[2]", 0, 4) "}", 4, "hold 4 bytes"},
        {"{\"a\":" T("F32", "[1]", 0, 4) ",\"b\":" T("F32", "[1]", 8, 12) "}",
         12, "leaves a gap"},
        {"{\"a\":" T("F32", "[2]", 0, 8) ",\"b\":" T("F32", "[2]", 4, 12) "}",
         12, "overlaps"},
        {"{\"a\":" T("F32", "[1]", 4, 8) "}", 8, "leaves a gap"},
        {"{\"a\":" T("F32", "[4]", 0, 16) "}", 8, "past the 8 data bytes"},
        {"{\"a\":" T("F32", "[1]", 0, 4) "}", 8, "trailing bytes"},
        {"{\"a\":" T("F4", "[3]", 0, 2) "}", 2, "do not fill whole bytes"},
        {"{\"a\":" T("F6_E3M2", "[2]", 0, 2) "}", 2, "do not fill whole"},
        {"{\"a\":" T("U8", "[4294967296,4294967296]", 0, 1) "}", 1,
         "product overflows 64 bits"},
        {"{\"a\":" T("F64", "[2305843009213693952]", 0, 1) "}", 1,
         "size overflows 64 bits"},
        {"{\"a\":" T("U8", "[-1]", 0, 1) "}", 1, "non-negative"},
        {"{\"a\":" T("U8", "[1.5]", 0, 1) "}", 1, "non-negative"},
        {"{\"a\":" T("U8", "[1]", 1, 0) "}", 1, "begin <= end"},
        {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1,
         "not [begin, end]"},
        {"{\"__metadata__\":{\"k\":1}}", 0, "value of 'k' is not a string"},
        {"{\"__metadata__\":[\"k\"]}", 0, "not an object of strings"},
        {"{\"a\":\"x\"}", 0, "not an object"},
        {"5", 0, "too small for a JSON object"},
    };
    for (size_t i = 0; i < HUB_ARRAY_LEN(cases); i++) {
        int rc = st_bytes(cases[i].json, cases[i].data);
        if (rc != HUB_EFORMAT ||
            !strstr(hub_error_last()->message, cases[i].error))
            test_fail(__FILE__, __LINE__, "case %zu: %d '%s', wanted '%s'", i,
                      rc, hub_error_last()->message, cases[i].error);
    }
    /* lengths: over the cap, past the file, too short a file */
    uint8_t b[16] = {0};
    hub_safetensors_info *info = NULL;
    uint64_t need;
    b[0] = 0x01, b[1] = 0xe1, b[2] = 0xf5, b[3] = 0x05; /* 100000001 */
    expect_error(hub__safetensors_parse(&info, b, 16, UINT64_MAX, "m", &need),
                 HUB_EFORMAT, "over the safetensors cap");
    memset(b, 0xff, 8); /* 2^64 - 1 */
    expect_error(hub__safetensors_parse(&info, b, 16, UINT64_MAX, "m", &need),
                 HUB_EFORMAT, "over the safetensors cap");
    memset(b, 0, 8);
    b[0] = 100;
    expect_error(hub__safetensors_parse(&info, b, 16, 16, "m", &need),
                 HUB_EFORMAT, "runs past the end of the 16-byte file");
    expect_error(hub__safetensors_parse(&info, b, 5, 5, "m", &need),
                 HUB_EFORMAT, "too small");
    ASSERT(info == NULL);
}

/* ---- GGUF ---- */

static const hub_gguf_value *kv(const hub_gguf_info *info, const char *key)
{
    const hub_gguf_kv *p = hub_gguf_info_get(info, key);
    if (!p)
        test_fail(__FILE__, __LINE__, "no key %s", key);
    return &p->value;
}

static void check_llama(const char *name, int big_endian)
{
    hub_gguf_info *info;
    ASSERT_OK(hub_gguf_info_file(&info, fixture(name), NULL));
    ASSERT_EQ_INT(info->version, 3);
    ASSERT_EQ_INT(info->big_endian, big_endian);
    ASSERT_EQ_INT(info->kv_count, 26);
    ASSERT_EQ_INT(info->tensor_count, 14);
    ASSERT_EQ_STR(info->architecture, "llama");
    ASSERT_EQ_STR(info->name, "Tiny Llama");
    ASSERT_EQ_INT(info->file_type, 15);
    ASSERT_EQ_STR(info->file_type_name, "Q4_K_M");
    ASSERT_EQ_INT(info->context_length, 4096);
    ASSERT_EQ_INT(info->embedding_length, 256);
    ASSERT_EQ_INT(info->block_count, 2);
    ASSERT_EQ_INT(info->parameters, 577281);
    ASSERT_EQ_INT(info->alignment, 32);
    ASSERT(info->header_size <= info->data_offset &&
           info->data_offset % 32 == 0 &&
           info->data_offset - info->header_size < 32);
    const hub_gguf_value *v = kv(info, "tokenizer.ggml.tokens");
    ASSERT(v->type == HUB_GGUF_ARRAY && v->elem_type == HUB_GGUF_STRING);
    ASSERT(v->count == 101 && v->kept);
    ASSERT_EQ_STR(v->strings[1], "<s>");
    ASSERT_EQ_STR(v->strings[100], "\xc3\xa9t\xc3\xa9");
    ASSERT_EQ_INT(v->lengths[100], 5);
    v = kv(info, "tokenizer.ggml.scores");
    ASSERT(v->elem_type == HUB_GGUF_FLOAT32 && v->count == 101);
    ASSERT(((const float *)v->data)[5] == -5.0f);
    v = kv(info, "tokenizer.ggml.token_type");
    ASSERT(((const int32_t *)v->data)[0] == 2);
    ASSERT(((const int32_t *)v->data)[100] == 1);
    ASSERT_EQ_INT(kv(info, "test.u8")->u, 200);
    ASSERT_EQ_INT(kv(info, "test.i8")->i, -100);
    ASSERT_EQ_INT(kv(info, "test.u16")->u, 60000);
    ASSERT_EQ_INT(kv(info, "test.i16")->i, -30000);
    ASSERT_EQ_INT(kv(info, "test.u32")->u, 4000000000);
    ASSERT_EQ_INT(kv(info, "test.i32")->i, -2000000000);
    ASSERT(kv(info, "test.f32")->f == 0.5);
    ASSERT(kv(info, "test.bool")->type == HUB_GGUF_BOOL &&
           kv(info, "test.bool")->u == 1);
    ASSERT_EQ_STR(kv(info, "test.string")->str, "hello");
    ASSERT(kv(info, "test.u64")->u == 9223372036854775813ull);
    ASSERT(kv(info, "test.i64")->i == -4611686018427387904ll);
    ASSERT(kv(info, "test.f64")->f == -2.25);
    ASSERT(kv(info, "llama.rope.freq_base")->f == 10000.0);
    v = kv(info, "test.nested");
    ASSERT(v->elem_type == HUB_GGUF_ARRAY && v->count == 3 && v->items);
    ASSERT(v->items[0].elem_type == HUB_GGUF_UINT16 && v->items[0].count == 3);
    ASSERT(((const uint16_t *)v->items[0].data)[2] == 3);
    ASSERT_EQ_STR(v->items[1].strings[1], "bc");
    ASSERT(v->items[2].items[0].elem_type == HUB_GGUF_BOOL);
    ASSERT(((const uint8_t *)v->items[2].items[0].data)[0] == 1);
    ASSERT(((const uint8_t *)v->items[2].items[0].data)[1] == 0);
    v = kv(info, "test.empty");
    ASSERT(v->count == 0 && v->elem_type == HUB_GGUF_UINT64);
    ASSERT(hub_gguf_info_get(info, "nope") == NULL);
    const hub_gguf_tensor *t = &info->tensors[0];
    ASSERT_EQ_STR(t->name, "token_embd.weight");
    ASSERT_EQ_STR(t->type_name, "Q4_K");
    ASSERT(t->n_dims == 2 && t->dims[0] == 256 && t->dims[1] == 101);
    ASSERT(t->offset == 0 && t->parameters == 25856);
    ASSERT_EQ_STR(info->tensors[2].type_name, "Q8_0");
    /* after 101 * 144 = 14544 bytes padded to 14560, then 256 * 4 */
    ASSERT_EQ_INT(info->tensors[2].offset, 15584);
    ASSERT_EQ_INT(info->tensors[13].n_dims, 4);
    hub_gguf_info_free(info);
}

static void test_gguf_llama_v3(void)
{
    gen();
    check_llama("llama-v3.gguf", 0);
    check_llama("llama-v3-be.gguf", 1);
    /* arrays over the cap keep their count, not their values */
    hub_header_options o = HUB_HEADER_OPTIONS_INIT;
    o.max_array_values = 100;
    hub_gguf_info *info;
    ASSERT_OK(hub_gguf_info_file(&info, fixture("llama-v3.gguf"), &o));
    const hub_gguf_value *v = kv(info, "tokenizer.ggml.tokens");
    ASSERT(v->count == 101 && !v->kept && !v->strings);
    ASSERT(kv(info, "test.nested")->kept);
    hub_gguf_info_free(info);
    /* a header cap below the header */
    o.max_array_values = 0;
    o.max_header_bytes = 1000;
    expect_error(hub_gguf_info_file(&info, fixture("llama-v3.gguf"), &o),
                 HUB_EFORMAT, "cap");
    o.version = 99;
    ASSERT_EQ_INT(hub_gguf_info_file(&info, fixture("llama-v3.gguf"), &o),
                  HUB_EVERSION);
}

static void test_gguf_gemma_v2_and_v1(void)
{
    gen();
    hub_gguf_info *info;
    ASSERT_OK(hub_gguf_info_file(&info, fixture("gemma-v2.gguf"), NULL));
    ASSERT_EQ_INT(info->version, 2);
    ASSERT_EQ_STR(info->architecture, "gemma");
    ASSERT_EQ_STR(info->file_type_name, "F16");
    ASSERT_EQ_INT(info->context_length, 8192);
    ASSERT_EQ_INT(info->embedding_length, 128); /* a uint64 */
    ASSERT_EQ_INT(info->block_count, 1);        /* an int32 */
    ASSERT_EQ_INT(info->parameters, 17024);
    ASSERT_EQ_STR(info->tensors[1].type_name, "BF16");
    hub_gguf_info_free(info);
    expect_error(hub_gguf_info_file(&info, fixture("old-v1.gguf"), NULL),
                 HUB_EFORMAT, "GGUF version 1 is not supported");
    ASSERT(info == NULL);
    expect_error(hub_gguf_info_file(&info, fixture("single.safetensors"), NULL),
                 HUB_EFORMAT, "not a GGUF file");
    ASSERT_EQ_INT(hub_gguf_info_file(&info, fixture("absent.gguf"), NULL),
                  HUB_EIO);
    ASSERT_EQ_INT(hub_gguf_info_file(&info, fixtures, NULL), HUB_EIO);
    ASSERT_EQ_STR(hub_ggml_type_name(12), "Q4_K");
    ASSERT(hub_ggml_type_name(4) == NULL && hub_ggml_type_name(999) == NULL);
}

/* Every prefix shorter than the header asks for more, never fails; the
 * bytes asked for lead to the end; a truncated file fails. */
static void test_gguf_prefixes(void)
{
    gen();
    size_t size;
    uint8_t *buf = slurp(fixture("llama-v3.gguf"), &size);
    hub__gguf_limits lim = {size, 0, 0};
    hub_gguf_info *info = NULL;
    uint64_t need = 0;
    size_t len = 0;
    int rounds = 0;
    while (hub__gguf_parse(&info, buf, len, &lim, "m", &need) ==
           HUB__NEED_MORE) {
        ASSERT(need > len && need <= size);
        len = (size_t)need;
        rounds++;
    }
    ASSERT(info != NULL);
    uint64_t header = info->header_size;
    ASSERT(rounds > 50 && len == header);
    hub_gguf_info_free(info);
    for (size_t k = 0; k < header; k += 3) {
        int rc = hub__gguf_parse(&info, buf, k, &lim, "m", &need);
        if (rc != HUB__NEED_MORE || need <= k)
            test_fail(__FILE__, __LINE__, "prefix %zu: %d (%s)", k, rc,
                      hub_error_last()->message);
    }
    /* the same prefix as a whole (truncated) file */
    lim.file_size = header / 2;
    expect_error(
        hub__gguf_parse(&info, buf, (size_t)header / 2, &lim, "m", &need),
        HUB_EFORMAT, "past the end of the");
    ASSERT(info == NULL);
    free(buf);
}

/* A little GGUF writer for the malformed cases. */
typedef struct gb {
    uint8_t b[512];
    size_t n;
} gb;

static void gb_raw(gb *g, const void *p, size_t n)
{
    ASSERT(g->n + n <= sizeof(g->b));
    memcpy(g->b + g->n, p, n);
    g->n += n;
}

static void gb_u32(gb *g, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        g->b[g->n++] = (uint8_t)(v >> (8 * i));
}

static void gb_u64(gb *g, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        g->b[g->n++] = (uint8_t)(v >> (8 * i));
}

static void gb_str(gb *g, const char *s)
{
    gb_u64(g, strlen(s));
    gb_raw(g, s, strlen(s));
}

static void gb_head(gb *g, uint32_t version, uint64_t tensors, uint64_t kvs)
{
    g->n = 0;
    gb_raw(g, "GGUF", 4);
    gb_u32(g, version);
    gb_u64(g, tensors);
    gb_u64(g, kvs);
}

/* one tensor info */
static void gb_tensor(gb *g,
                      const char *name,
                      uint32_t n,
                      uint64_t dim,
                      uint32_t type,
                      uint64_t offset)
{
    gb_str(g, name);
    gb_u32(g, n);
    for (uint32_t i = 0; i < n; i++)
        gb_u64(g, dim);
    gb_u32(g, type);
    gb_u64(g, offset);
}

/* parse g as a whole file (padded by `extra` zero bytes) */
static int gb_parse(gb *g, size_t extra)
{
    uint8_t *b = calloc(1, g->n + extra + 1);
    ASSERT(b);
    memcpy(b, g->b, g->n);
    hub__gguf_limits lim = {g->n + extra, 0, 0};
    hub_gguf_info *info = NULL;
    uint64_t need = 0;
    int rc = hub__gguf_parse(&info, b, g->n + extra, &lim, "m.gguf", &need);
    hub_gguf_info_free(info);
    free(b);
    return rc;
}

static void test_gguf_malformed(void)
{
    gb g;
    gb_head(&g, 3, 1, 1);
    gb_str(&g, "general.alignment");
    gb_u32(&g, HUB_GGUF_UINT32);
    gb_u32(&g, 64);
    gb_tensor(&g, "t", 1, 16, 0, 0);
    ASSERT_OK(gb_parse(&g, 128)); /* well formed */
    expect_error(gb_parse(&g, 0), HUB_EFORMAT, "past the end of the file");

    gb_head(&g, 3, 0, 0);
    g.b[0] = 'X';
    expect_error(gb_parse(&g, 0), HUB_EFORMAT, "not a GGUF file");
    gb_head(&g, 4, 0, 0);
    expect_error(gb_parse(&g, 0), HUB_EFORMAT, "unknown GGUF version 4");
    gb_head(&g, 3, 0, 1ull << 40);
    expect_error(gb_parse(&g, 0), HUB_EFORMAT, "cannot fit");
    gb_head(&g, 3, UINT64_MAX, 0);
    expect_error(gb_parse(&g, 0), HUB_EFORMAT, "cannot fit");
    /* a key longer than the file */
    gb_head(&g, 3, 0, 1);
    gb_u64(&g, 1ull << 62);
    expect_error(gb_parse(&g, 64), HUB_EFORMAT, "past the end of the");
    /* a key that is not UTF-8 */
    gb_head(&g, 3, 0, 1);
    gb_str(&g, "a\xc0\xafz");
    gb_u32(&g, HUB_GGUF_UINT8);
    gb_raw(&g, "\1", 1);
    expect_error(gb_parse(&g, 0), HUB_EFORMAT, "not valid UTF-8");
    /* value type 13 */
    gb_head(&g, 3, 0, 1);
    gb_str(&g, "k");
    gb_u32(&g, 13);
    expect_error(gb_parse(&g, 8), HUB_EFORMAT, "unknown value type 13");
    /* array of an unknown type; an absurd count, never allocated */
    gb_head(&g, 3, 0, 1);
    gb_str(&g, "k");
    gb_u32(&g, HUB_GGUF_ARRAY);
    gb_u32(&g, 77);
    gb_u64(&g, 1);
    expect_error(gb_parse(&g, 0), HUB_EFORMAT, "unknown array element type");
    gb_head(&g, 3, 0, 1);
    gb_str(&g, "k");
    gb_u32(&g, HUB_GGUF_ARRAY);
    gb_u32(&g, HUB_GGUF_UINT64);
    gb_u64(&g, 1ull << 61);
    expect_error(gb_parse(&g, 0), HUB_EFORMAT, "past the end of the");
    gb_head(&g, 3, 0, 1);
    gb_str(&g, "k");
    gb_u32(&g, HUB_GGUF_ARRAY);
    gb_u32(&g, HUB_GGUF_STRING);
    gb_u64(&g, 1000);
    gb_str(&g, "only one");
    expect_error(gb_parse(&g, 0), HUB_EFORMAT, "past the end of the");
    /* arrays 5 deep */
    gb_head(&g, 3, 0, 1);
    gb_str(&g, "k");
    gb_u32(&g, HUB_GGUF_ARRAY);
    for (int d = 0; d < 5; d++) {
        gb_u32(&g, HUB_GGUF_ARRAY);
        gb_u64(&g, 1);
    }
    expect_error(gb_parse(&g, 64), HUB_EFORMAT, "nested more than 4 deep");
    /* a duplicate key */
    gb_head(&g, 3, 0, 2);
    for (int i = 0; i < 2; i++) {
        gb_str(&g, "k");
        gb_u32(&g, HUB_GGUF_BOOL);
        gb_raw(&g, "\1", 1);
    }
    expect_error(gb_parse(&g, 0), HUB_EFORMAT, "duplicate key 'k'");
    /* alignment not a power of two, or not a uint32 */
    gb_head(&g, 3, 0, 1);
    gb_str(&g, "general.alignment");
    gb_u32(&g, HUB_GGUF_UINT32);
    gb_u32(&g, 48);
    expect_error(gb_parse(&g, 0), HUB_EFORMAT, "power of two");
    gb_head(&g, 3, 0, 1);
    gb_str(&g, "general.alignment");
    gb_u32(&g, HUB_GGUF_UINT64);
    gb_u64(&g, 32);
    expect_error(gb_parse(&g, 0), HUB_EFORMAT, "power of two");
    /* tensor infos */
    static const struct {
        uint32_t n_dims;
        uint64_t dim;
        uint32_t type;
        uint64_t offset;
        const char *error;
    } tensors[] = {
        {9, 1, 0, 0, "9 dimensions (at most 8)"},
        {2, 1ull << 32, 0, 0, "overflow 63 bits"},
        {1, 1ull << 63, 0, 0, "overflow 63 bits"},
        {1, 4, 4, 0, "unknown or removed ggml type 4"},
        {1, 4, 43, 0, "unknown or removed ggml type 43"},
        {1, 4, 0, 3, "not aligned to 32"},
        {1, 4, 0, 1ull << 40, "past the end of the file"},
        {1, 4, 0, UINT64_MAX - 31, "past the end of the file"},
    };
    for (size_t i = 0; i < HUB_ARRAY_LEN(tensors); i++) {
        gb_head(&g, 3, 1, 0);
        gb_tensor(&g, "t", tensors[i].n_dims, tensors[i].dim, tensors[i].type,
                  tensors[i].offset);
        int rc = gb_parse(&g, 64);
        if (rc != HUB_EFORMAT ||
            !strstr(hub_error_last()->message, tensors[i].error))
            test_fail(__FILE__, __LINE__, "tensor case %zu: %d '%s'", i, rc,
                      hub_error_last()->message);
    }
    gb_head(&g, 3, 2, 0);
    gb_tensor(&g, "t", 1, 8, 0, 0);
    gb_tensor(&g, "t", 1, 8, 0, 32);
    expect_error(gb_parse(&g, 128), HUB_EFORMAT, "duplicate tensor 't'");
    gb_head(&g, 3, 1, 0);
    gb_tensor(&g, "\xed\xa0\x80", 1, 8, 0, 0); /* a surrogate */
    expect_error(gb_parse(&g, 128), HUB_EFORMAT, "not valid UTF-8");
    gb_head(&g, 1, 0, 0);
    expect_error(gb_parse(&g, 0), HUB_EFORMAT, "version 1");
}

/* Out of memory anywhere: a clean HUB_ENOMEM, nothing leaked (ASan). */
static void test_weights_alloc_failures(void)
{
    gen();
    size_t size;
    uint8_t *buf = slurp(fixture("llama-v3.gguf"), &size);
    hub__gguf_limits lim = {size, 0, 0};
    int rc = HUB_ENOMEM;
    for (long n = 0; rc == HUB_ENOMEM; n += 7) {
        hub__alloc_fail_after(n);
        hub_gguf_info *info = NULL;
        uint64_t need;
        rc = hub__gguf_parse(&info, buf, size, &lim, "m", &need);
        hub__alloc_fail_after(-1);
        ASSERT(rc == HUB_OK || rc == HUB_ENOMEM);
        ASSERT((rc == HUB_OK) == (info != NULL));
        hub_gguf_info_free(info);
    }
    free(buf);
    const char *files[] = {"single.safetensors",
                           "sharded/model.safetensors.index.json"};
    for (size_t f = 0; f < 2; f++) {
        rc = HUB_ENOMEM;
        for (long n = 0; rc == HUB_ENOMEM; n++) {
            hub__alloc_fail_after(n);
            hub_safetensors_info *info = NULL;
            rc = hub_safetensors_info_file(&info, fixture(files[f]), NULL);
            hub__alloc_fail_after(-1);
            ASSERT(rc == HUB_OK || rc == HUB_ENOMEM);
            hub_safetensors_info_free(info);
        }
    }
}

static const test_case weights_tests[] = {
    {"safetensors_single_file", test_safetensors_single_file},
    {"safetensors_sharded", test_safetensors_sharded},
    {"safetensors_prefixes", test_safetensors_prefixes},
    {"safetensors_malformed", test_safetensors_malformed},
    {"gguf_llama_v3", test_gguf_llama_v3},
    {"gguf_gemma_v2_and_v1", test_gguf_gemma_v2_and_v1},
    {"gguf_prefixes", test_gguf_prefixes},
    {"gguf_malformed", test_gguf_malformed},
    {"weights_alloc_failures", test_weights_alloc_failures},
};

const test_case *weights_suite(size_t *count)
{
    *count = HUB_ARRAY_LEN(weights_tests);
    return weights_tests;
}
