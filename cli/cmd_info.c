/* SPDX-License-Identifier: MIT */
/* cmd_info.c: hubfetch info REPO_ID [FILE...]: a repository's facts (commit,
 * last modified, private, gated, files and size) and what its weights
 * files hold (safetensors and GGUF headers, read with ranged requests or
 * from the cache) */
#include "cli.h"
#include "client_args.h"
#include "opt.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Arrays longer than this are shown by type and length (but --all). */
#define INFO_ARRAY_SHOWN 16

enum {
    O_HELP = 1,
    O_TYPE,
    O_REVISION,
    O_FORMAT,
    O_TENSORS,
    O_ALL,
    O_NO_CACHE,
};

static const cli_opt options[] = {
    {"help", 'h', false, O_HELP},
    {"repo-type", 0, true, O_TYPE},
    {"type", 0, true, O_TYPE},
    {"revision", 0, true, O_REVISION},
    {"format", 0, true, O_FORMAT},
    {"tensors", 0, false, O_TENSORS},
    {"all", 0, false, O_ALL},
    {"no-cache", 0, false, O_NO_CACHE},
    CLI_CLIENT_OPTIONS,
    CLI_LOG_OPTIONS,
    {NULL, 0, false, 0},
};

static void help(FILE *fp)
{
    fputs(
        "usage: hubfetch info REPO_ID [FILE...] [options]\n"
        "\n"
        "What a repository is at a revision (commit, last modified, private,\n"
        "gated, its file count and total size) and what its weights hold:\n"
        "for each FILE, else every *.safetensors (a *.safetensors.index.json\n"
        "standing for its shards) and *.gguf, the parameters in total and per\n"
        "dtype, the tensor count and the header's metadata. Only the headers\n"
        "are read, with ranged requests; a file the cache holds at that\n"
        "revision is read from disk, with no request.\n"
        "\n"
        "  --revision REV         branch, tag, commit or refs/pr/N (main)\n"
        "  --repo-type TYPE       model (default), dataset or space\n"
        "  --format FMT           text (default) or json: one JSON object\n"
        "                         (docs/CLI.md)\n"
        "  --tensors              also every tensor: name, dtype, shape and\n"
        "                         offsets\n"
        "  --all                  GGUF arrays in full (else an array of more\n"
        "                         than 16 values, such as a token list, is\n"
        "                         shown by type and length)\n"
        "  --no-cache             ask the hub even if the cache holds a file\n"
        "  --token TOKEN          access token (default: HF_TOKEN, then the\n"
        "                         token file); sent only to the first\n"
        "                         endpoint, never to the CDN\n"
        "  --endpoint URL         hub endpoint (default: HF_ENDPOINT, then\n"
        "                         https://huggingface.co); repeat it for\n"
        "                         fallbacks\n"
        "  --send-token-to-mirrors  send the token to the fallbacks too\n"
        "  --proxy URL            http://, socks5:// or socks5h:// proxy\n"
        "  --no-proxy HOSTS       hosts reached directly\n"
        "  --ca-bundle FILE       CA certificates to trust\n"
        "  --retries N            retries of a failing request (5)\n"
        "  -q, --quiet            no warnings\n"
        "  -v, --verbose          say what is happening (retries)\n"
        "  -h, --help             this help\n"
        "\n"
        "exit codes: 0 shown, 2 usage or a FILE that is no safetensors or\n"
        "GGUF file, 15 repository not found, 16 revision not found, 17 no\n"
        "such file, 18 gated, 19 not authorized, 22 network error, 35\n"
        "malformed header, 31 interrupted; all in docs/CLI.md\n",
        fp);
}

/* ---- what is gathered ----------------------------------------------------
 */

enum { W_ST, W_GGUF };

typedef struct wfile {
    char *path;
    int kind;
    hub_safetensors_info *st;
    hub_gguf_info *gg;
} wfile;

typedef struct counts {
    const char **names;
    uint64_t *values;
    size_t n, cap;
} counts;

static int counts_add(counts *c, const char *name, uint64_t v)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->names[i], name) == 0) {
            c->values[i] += v;
            return 0;
        }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        const char **names = realloc(c->names, cap * sizeof(*names));
        if (names)
            c->names = names;
        uint64_t *values = realloc(c->values, cap * sizeof(*values));
        if (values)
            c->values = values;
        if (!names || !values)
            return -1;
        c->cap = cap;
    }
    /* sorted by name */
    size_t at = c->n;
    while (at > 0 && strcmp(c->names[at - 1], name) > 0) {
        c->names[at] = c->names[at - 1];
        c->values[at] = c->values[at - 1];
        at--;
    }
    c->names[at] = name;
    c->values[at] = v;
    c->n++;
    return 0;
}

static void counts_free(counts *c)
{
    free(c->names);
    free(c->values);
}

/* Parameters per dtype of a file (GGUF: per ggml type name). */
static int file_counts(const wfile *w, counts *c)
{
    if (w->kind == W_ST) {
        for (size_t i = 0; i < w->st->dtype_count; i++)
            if (counts_add(c, w->st->dtypes[i].dtype,
                           w->st->dtypes[i].parameters) < 0)
                return -1;
        return 0;
    }
    for (uint64_t i = 0; i < w->gg->tensor_count; i++) {
        const hub_gguf_tensor *t = &w->gg->tensors[i];
        if (counts_add(c, t->type_name ? t->type_name : "?", t->parameters) < 0)
            return -1;
    }
    return 0;
}

static uint64_t file_parameters(const wfile *w)
{
    return w->kind == W_ST ? w->st->parameter_total : w->gg->parameters;
}

static uint64_t file_tensors(const wfile *w)
{
    return w->kind == W_ST ? (uint64_t)w->st->tensor_count
                           : w->gg->tensor_count;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- values --------------------------------------------------------------
 */

/* The shortest decimal that reads back as the same float (or double). */
static void print_float(FILE *fp, double v, bool single, bool json)
{
    if (isnan(v) || isinf(v)) {
        if (json)
            fputs("null", fp);
        else
            fputs(isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"), fp);
        return;
    }
    char buf[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, v);
        double back = strtod(buf, NULL);
        if (single ? (float)back == (float)v : back == v)
            break;
    }
    /* Python writes an integral float below 1e16 in full ("10000.0") */
    double mag = v < 0 ? -v : v;
    if (strchr(buf, 'e') && mag >= 1e-4 && mag < 1e16 &&
        v == (double)(int64_t)v)
        snprintf(buf, sizeof(buf), "%.1f", v);
    fputs(buf, fp);
    /* JSON and Python show a float as one */
    if (!strpbrk(buf, ".en"))
        fputs(".0", fp);
}

static const char *gguf_type_name(hub_gguf_type t)
{
    static const char *names[] = {
        "uint8", "int8",   "uint16", "int16",  "uint32", "int32",  "float32",
        "bool",  "string", "array",  "uint64", "int64",  "float64"};
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

/* A string value, quoted and escaped as JSON (text too: one line each). */
static void print_text_string(FILE *fp, const char *s, size_t len, bool json)
{
    (void)len;
    (void)json;
    cli_json_string(fp, s);
}

static void print_value(FILE *fp, const hub_gguf_value *v, bool json);

static void
print_element(FILE *fp, const hub_gguf_value *arr, uint64_t i, bool json)
{
    const void *d = arr->data;
    switch (arr->elem_type) {
    case HUB_GGUF_UINT8:
        fprintf(fp, "%u", ((const uint8_t *)d)[i]);
        break;
    case HUB_GGUF_INT8:
        fprintf(fp, "%d", ((const int8_t *)d)[i]);
        break;
    case HUB_GGUF_UINT16:
        fprintf(fp, "%u", ((const uint16_t *)d)[i]);
        break;
    case HUB_GGUF_INT16:
        fprintf(fp, "%d", ((const int16_t *)d)[i]);
        break;
    case HUB_GGUF_UINT32:
        fprintf(fp, "%" PRIu32, ((const uint32_t *)d)[i]);
        break;
    case HUB_GGUF_INT32:
        fprintf(fp, "%" PRId32, ((const int32_t *)d)[i]);
        break;
    case HUB_GGUF_UINT64:
        fprintf(fp, "%" PRIu64, ((const uint64_t *)d)[i]);
        break;
    case HUB_GGUF_INT64:
        fprintf(fp, "%" PRId64, ((const int64_t *)d)[i]);
        break;
    case HUB_GGUF_FLOAT32:
        print_float(fp, (double)((const float *)d)[i], true, json);
        break;
    case HUB_GGUF_FLOAT64:
        print_float(fp, ((const double *)d)[i], false, json);
        break;
    case HUB_GGUF_BOOL:
        fputs(((const uint8_t *)d)[i] ? "true" : "false", fp);
        break;
    case HUB_GGUF_STRING:
        print_text_string(fp, arr->strings[i], arr->lengths[i], json);
        break;
    case HUB_GGUF_ARRAY:
        print_value(fp, &arr->items[i], json);
        break;
    }
}

static void print_value(FILE *fp, const hub_gguf_value *v, bool json)
{
    switch (v->type) {
    case HUB_GGUF_UINT8:
    case HUB_GGUF_UINT16:
    case HUB_GGUF_UINT32:
    case HUB_GGUF_UINT64:
        fprintf(fp, "%" PRIu64, v->u);
        break;
    case HUB_GGUF_INT8:
    case HUB_GGUF_INT16:
    case HUB_GGUF_INT32:
    case HUB_GGUF_INT64:
        fprintf(fp, "%" PRId64, v->i);
        break;
    case HUB_GGUF_FLOAT32:
        print_float(fp, v->f, true, json);
        break;
    case HUB_GGUF_FLOAT64:
        print_float(fp, v->f, false, json);
        break;
    case HUB_GGUF_BOOL:
        fputs(v->u ? "true" : "false", fp);
        break;
    case HUB_GGUF_STRING:
        print_text_string(fp, v->str, v->len, json);
        break;
    case HUB_GGUF_ARRAY:
        if (!v->kept) {
            if (json)
                fprintf(fp, "{\"array\":\"%s\",\"length\":%" PRIu64 "}",
                        gguf_type_name(v->elem_type), v->count);
            else
                fprintf(fp, "[%s x %" PRIu64 "]", gguf_type_name(v->elem_type),
                        v->count);
            break;
        }
        fputc('[', fp);
        for (uint64_t i = 0; i < v->count; i++) {
            if (i)
                fputs(json ? "," : ", ", fp);
            print_element(fp, v, i, json);
        }
        fputc(']', fp);
        break;
    }
}

/* ---- JSON ----------------------------------------------------------------
 */

static void json_counts(FILE *fp, const counts *c)
{
    fputc('{', fp);
    for (size_t i = 0; i < c->n; i++) {
        if (i)
            fputc(',', fp);
        cli_json_string(fp, c->names[i]);
        fprintf(fp, ":%" PRIu64, c->values[i]);
    }
    fputc('}', fp);
}

static void json_opt_string(FILE *fp, const char *key, const char *v)
{
    fprintf(fp, ",\"%s\":", key);
    if (v)
        cli_json_string(fp, v);
    else
        fputs("null", fp);
}

/* 0 (absent) as null */
static void json_opt_u64(FILE *fp, const char *key, uint64_t v)
{
    if (v)
        fprintf(fp, ",\"%s\":%" PRIu64, key, v);
    else
        fprintf(fp, ",\"%s\":null", key);
}

static void json_shape(FILE *fp, const uint64_t *dims, size_t n)
{
    fputc('[', fp);
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "%s%" PRIu64, i ? "," : "", dims[i]);
    fputc(']', fp);
}

static int json_file(FILE *fp, const wfile *w, bool tensors)
{
    counts c = {0};
    if (file_counts(w, &c) < 0) {
        counts_free(&c);
        return -1;
    }
    fputs("{\"path\":", fp);
    cli_json_string(fp, w->path);
    fprintf(fp,
            ",\"format\":\"%s\",\"parameters\":%" PRIu64
            ",\"parameter_count\":",
            w->kind == W_ST ? "safetensors" : "gguf", file_parameters(w));
    json_counts(fp, &c);
    counts_free(&c);
    fprintf(fp, ",\"tensor_count\":%" PRIu64 ",\"metadata\":{",
            file_tensors(w));
    if (w->kind == W_ST) {
        const hub_safetensors_info *s = w->st;
        for (size_t i = 0; i < s->metadata_count; i++) {
            if (i)
                fputc(',', fp);
            cli_json_string(fp, s->metadata_keys[i]);
            fputc(':', fp);
            cli_json_string(fp, s->metadata_values[i]);
        }
        fprintf(fp, "},\"header_size\":%" PRIu64 ",\"sharded\":%s",
                s->header_size, s->sharded ? "true" : "false");
        if (s->sharded) {
            fputs(",\"shards\":[", fp);
            for (size_t i = 0; i < s->shard_count; i++) {
                if (i)
                    fputc(',', fp);
                cli_json_string(fp, s->shards[i]);
            }
            fputc(']', fp);
        }
        if (tensors) {
            fputs(",\"tensors\":[", fp);
            for (size_t i = 0; i < s->tensor_count; i++) {
                const hub_safetensors_tensor *t = &s->tensors[i];
                fputs(i ? ",{\"name\":" : "{\"name\":", fp);
                cli_json_string(fp, t->name);
                fputs(",\"dtype\":", fp);
                cli_json_string(fp, t->dtype);
                fputs(",\"shape\":", fp);
                json_shape(fp, t->shape, t->ndim);
                fprintf(fp, ",\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]",
                        t->offset_begin, t->offset_end);
                if (t->file) {
                    fputs(",\"file\":", fp);
                    cli_json_string(fp, t->file);
                }
                fputc('}', fp);
            }
            fputc(']', fp);
        }
    } else {
        const hub_gguf_info *g = w->gg;
        for (uint64_t i = 0; i < g->kv_count; i++) {
            if (i)
                fputc(',', fp);
            cli_json_string(fp, g->kvs[i].key);
            fputc(':', fp);
            print_value(fp, &g->kvs[i].value, true);
        }
        fprintf(fp, "},\"version\":%" PRIu32, g->version);
        json_opt_string(fp, "architecture", g->architecture);
        json_opt_string(fp, "name", g->name);
        json_opt_u64(fp, "context_length", g->context_length);
        json_opt_u64(fp, "embedding_length", g->embedding_length);
        json_opt_u64(fp, "block_count", g->block_count);
        if (g->file_type >= 0)
            fprintf(fp, ",\"file_type\":%" PRId64, g->file_type);
        else
            fputs(",\"file_type\":null", fp);
        json_opt_string(fp, "file_type_name", g->file_type_name);
        fprintf(fp, ",\"header_size\":%" PRIu64, g->header_size);
        if (tensors) {
            fputs(",\"tensors\":[", fp);
            for (uint64_t i = 0; i < g->tensor_count; i++) {
                const hub_gguf_tensor *t = &g->tensors[i];
                fputs(i ? ",{\"name\":" : "{\"name\":", fp);
                cli_json_string(fp, t->name);
                fputs(",\"dtype\":", fp);
                cli_json_string(fp, t->type_name ? t->type_name : "?");
                fputs(",\"shape\":", fp);
                json_shape(fp, t->dims, t->n_dims);
                fprintf(fp, ",\"offset\":%" PRIu64 "}", t->offset);
            }
            fputc(']', fp);
        }
    }
    fputc('}', fp);
    return 0;
}

/* ---- text ----------------------------------------------------------------
 */

static void text_counts(FILE *fp, const counts *c)
{
    for (size_t i = 0; i < c->n; i++)
        fprintf(fp, "%s%s %" PRIu64, i ? ", " : " (", c->names[i],
                c->values[i]);
    if (c->n)
        fputc(')', fp);
}

static void text_dims(FILE *fp, const uint64_t *dims, size_t n)
{
    fputc('[', fp);
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "%s%" PRIu64, i ? ", " : "", dims[i]);
    fputc(']', fp);
}

static int text_file(FILE *fp, const wfile *w, bool tensors)
{
    counts c = {0};
    if (file_counts(w, &c) < 0) {
        counts_free(&c);
        return -1;
    }
    fprintf(fp, "\n%s\n", w->path);
    if (w->kind == W_ST) {
        const hub_safetensors_info *s = w->st;
        if (s->sharded)
            fprintf(fp, "  format            safetensors, %zu shards\n",
                    s->shard_count);
        else
            fputs("  format            safetensors\n", fp);
    } else {
        fprintf(fp, "  format            GGUF v%" PRIu32 "\n", w->gg->version);
    }
    fprintf(fp, "  parameters        %" PRIu64, file_parameters(w));
    text_counts(fp, &c);
    counts_free(&c);
    fprintf(fp, "\n  tensors           %" PRIu64 "\n", file_tensors(w));
    if (w->kind == W_ST) {
        const hub_safetensors_info *s = w->st;
        if (s->metadata_count)
            fputs("  metadata\n", fp);
        for (size_t i = 0; i < s->metadata_count; i++) {
            fprintf(fp, "    %s = ", s->metadata_keys[i]);
            cli_json_string(fp, s->metadata_values[i]);
            fputc('\n', fp);
        }
        if (tensors)
            fputs("  tensor list (name, dtype, shape, data offsets)\n", fp);
        if (tensors)
            for (size_t i = 0; i < s->tensor_count; i++) {
                const hub_safetensors_tensor *t = &s->tensors[i];
                fprintf(fp, "    %s  %s  ", t->name, t->dtype);
                text_dims(fp, t->shape, t->ndim);
                fprintf(fp, "  %" PRIu64 "-%" PRIu64, t->offset_begin,
                        t->offset_end);
                if (t->file)
                    fprintf(fp, "  %s", t->file);
                fputc('\n', fp);
            }
        return 0;
    }
    const hub_gguf_info *g = w->gg;
    if (g->architecture)
        fprintf(fp, "  architecture      %s\n", g->architecture);
    if (g->name)
        fprintf(fp, "  name              %s\n", g->name);
    if (g->context_length)
        fprintf(fp, "  context length    %" PRIu64 "\n", g->context_length);
    if (g->embedding_length)
        fprintf(fp, "  embedding length  %" PRIu64 "\n", g->embedding_length);
    if (g->block_count)
        fprintf(fp, "  block count       %" PRIu64 "\n", g->block_count);
    if (g->file_type >= 0)
        fprintf(fp, "  file type         %s (%" PRId64 ")\n",
                g->file_type_name ? g->file_type_name : "?", g->file_type);
    fputs("  metadata\n", fp);
    for (uint64_t i = 0; i < g->kv_count; i++) {
        fprintf(fp, "    %s = ", g->kvs[i].key);
        print_value(fp, &g->kvs[i].value, false);
        fputc('\n', fp);
    }
    if (tensors)
        fputs("  tensor list (name, type, dims, offset)\n", fp);
    if (tensors)
        for (uint64_t i = 0; i < g->tensor_count; i++) {
            const hub_gguf_tensor *t = &g->tensors[i];
            fprintf(fp, "    %s  %s  ", t->name,
                    t->type_name ? t->type_name : "?");
            text_dims(fp, t->dims, t->n_dims);
            fprintf(fp, "  %" PRIu64 "\n", t->offset);
        }
    return 0;
}

/* ---- the command ---------------------------------------------------------
 */

typedef struct info_state {
    char **paths; /* every file of the listing */
    size_t npaths, cap;
    uint64_t total_size;
    wfile *files;
    size_t nfiles;
} info_state;

static int push_path(info_state *s, const char *path)
{
    if (s->npaths == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **p = realloc(s->paths, cap * sizeof(*p));
        if (!p)
            return -1;
        s->paths = p;
        s->cap = cap;
    }
    if (!(s->paths[s->npaths] = strdup(path)))
        return -1;
    s->npaths++;
    return 0;
}

static bool has_path(const info_state *s, const char *path)
{
    for (size_t i = 0; i < s->npaths; i++)
        if (strcmp(s->paths[i], path) == 0)
            return true;
    return false;
}

static int add_file(info_state *s, const char *path, int kind)
{
    wfile *f = realloc(s->files, (s->nfiles + 1) * sizeof(*f));
    if (!f)
        return -1;
    s->files = f;
    memset(&f[s->nfiles], 0, sizeof(f[0]));
    f[s->nfiles].kind = kind;
    if (!(f[s->nfiles].path = strdup(path)))
        return -1;
    s->nfiles++;
    return 0;
}

static void state_free(info_state *s)
{
    for (size_t i = 0; i < s->npaths; i++)
        free(s->paths[i]);
    free(s->paths);
    for (size_t i = 0; i < s->nfiles; i++) {
        free(s->files[i].path);
        hub_safetensors_info_free(s->files[i].st);
        hub_gguf_info_free(s->files[i].gg);
    }
    free(s->files);
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const wfile *)a)->path, ((const wfile *)b)->path);
}

static int kind_of(const char *path)
{
    if (ends_with(path, ".safetensors") ||
        ends_with(path, ".safetensors.index.json"))
        return W_ST;
    if (ends_with(path, ".gguf"))
        return W_GGUF;
    return -1;
}

/* Is `path` a shard named by one of the indexes read so far? */
static bool is_shard(const info_state *s, const char *path)
{
    for (size_t i = 0; i < s->nfiles; i++) {
        const hub_safetensors_info *st = s->files[i].st;
        if (!st || !st->sharded)
            continue;
        const char *index = s->files[i].path;
        const char *slash = strrchr(index, '/');
        size_t dir = slash ? (size_t)(slash - index) + 1 : 0;
        if (strncmp(path, index, dir) != 0)
            continue;
        for (size_t k = 0; k < st->shard_count; k++)
            if (strcmp(path + dir, st->shards[k]) == 0)
                return true;
    }
    return false;
}

static int read_file(hub_client *client,
                     const char *repo_id,
                     wfile *w,
                     const hub_read_options *ropts,
                     const hub_header_options *hopts)
{
    if (w->kind == W_ST)
        return hub_safetensors_info_remote(&w->st, client, repo_id, w->path,
                                           ropts, hopts);
    return hub_gguf_info_remote(&w->gg, client, repo_id, w->path, ropts, hopts);
}

static const char *type_name(hub_repo_type t)
{
    return t == HUB_REPO_DATASET ? "dataset"
                                 : (t == HUB_REPO_SPACE ? "space" : "model");
}

static int print_all(const hub_repo_info_result *ri,
                     hub_repo_type type,
                     const info_state *s,
                     bool json,
                     bool tensors)
{
    FILE *fp = stdout;
    counts sum = {0};
    uint64_t st_total = 0;
    size_t nst = 0;
    for (size_t i = 0; i < s->nfiles; i++)
        if (s->files[i].kind == W_ST) {
            nst++;
            st_total += s->files[i].st->parameter_total;
            if (file_counts(&s->files[i], &sum) < 0) {
                counts_free(&sum);
                return -1;
            }
        }
    int r = 0;
    if (json) {
        fputs("{\"id\":", fp);
        cli_json_string(fp, ri->id);
        fprintf(fp, ",\"type\":\"%s\",\"sha\":\"%s\"", type_name(type),
                ri->sha);
        json_opt_string(fp, "lastModified", ri->last_modified);
        fprintf(fp, ",\"private\":%s,\"gated\":",
                ri->is_private ? "true" : "false");
        if (ri->gated)
            cli_json_string(fp, ri->gated);
        else
            fputs("false", fp);
        fprintf(fp, ",\"file_count\":%zu,\"total_size\":%" PRIu64, s->npaths,
                s->total_size);
        if (nst) {
            fputs(",\"safetensors\":{\"parameters\":", fp);
            json_counts(fp, &sum);
            fprintf(fp, ",\"total\":%" PRIu64 "}", st_total);
        }
        fputs(",\"files\":[", fp);
        for (size_t i = 0; i < s->nfiles && r == 0; i++) {
            if (i)
                fputc(',', fp);
            r = json_file(fp, &s->files[i], tensors);
        }
        fputs("]}\n", fp);
    } else {
        char size[32];
        cli_format_size(s->total_size, size, sizeof(size));
        fprintf(fp, "%s %s\n", type_name(type), ri->id);
        fprintf(fp, "  commit            %s\n", ri->sha);
        if (ri->last_modified)
            fprintf(fp, "  last modified     %s\n", ri->last_modified);
        fprintf(fp, "  private           %s\n", ri->is_private ? "yes" : "no");
        fprintf(fp, "  gated             %s\n", ri->gated ? ri->gated : "no");
        fprintf(fp, "  files             %zu, %sB (%" PRIu64 " bytes)\n",
                s->npaths, size, s->total_size);
        if (nst) {
            fprintf(fp, "  safetensors       %" PRIu64 " parameters", st_total);
            text_counts(fp, &sum);
            fputc('\n', fp);
        }
        for (size_t i = 0; i < s->nfiles && r == 0; i++)
            r = text_file(fp, &s->files[i], tensors);
    }
    counts_free(&sum);
    return r;
}

int cmd_info(int argc, char **argv)
{
    hub_client_options copts;
    hub_read_options ropts;
    hub_list_options lopts;
    hub_header_options hopts;
    hub_client_options_init(&copts, HUB_CLIENT_OPTIONS_VERSION);
    hub_read_options_init(&ropts, HUB_READ_OPTIONS_VERSION);
    hub_list_options_init(&lopts, HUB_LIST_OPTIONS_VERSION);
    hub_header_options_init(&hopts, HUB_HEADER_OPTIONS_VERSION);
    cli_client_args ca;
    const char *repo_id = NULL;
    const char **wanted = NULL;
    size_t nwanted = 0;
    bool json = false, tensors = false, all = false;
    int rc = EXIT_OK, err = HUB_OK;
    hub_client *client = NULL;
    hub_repo_info_result *ri = NULL;
    hub_list *it = NULL;
    info_state s = {0};
    if (cli_client_args_init(&ca, &copts, argc) != EXIT_OK)
        return EXIT_FAILURE_;
    if (!(wanted = calloc((size_t)argc + 1, sizeof(*wanted)))) {
        cli_client_args_free(&ca);
        return cli_error("out of memory");
    }

    cli_opt_state st;
    cli_opt_init(&st, argc - 1, argv + 1);
    int id;
    while ((id = cli_opt_next(&st, options)) != CLI_OPT_END) {
        switch (id) {
        case O_HELP:
            help(stdout);
            goto done;
        case CLI_OPT_POSITIONAL:
            if (!repo_id)
                repo_id = st.positional;
            else
                wanted[nwanted++] = st.positional;
            break;
        case O_TYPE:
            if ((rc = cli_parse_repo_type(st.arg, &ropts.repo_type)) != EXIT_OK)
                goto done;
            break;
        case O_REVISION:
            ropts.revision = st.arg;
            break;
        case O_FORMAT:
            if (strcmp(st.arg, "json") == 0) {
                json = true;
            } else if (strcmp(st.arg, "text") == 0) {
                json = false;
            } else {
                rc = cli_usage("--format must be text or json, not '%s'",
                               st.arg);
                goto done;
            }
            break;
        case O_TENSORS:
            tensors = true;
            break;
        case O_ALL:
            all = true;
            break;
        case O_NO_CACHE:
            ropts.flags |= HUB_READ_NO_CACHE;
            break;
        case CLI_OPT_UNKNOWN:
            rc = cli_usage("unknown option '%s'; see 'hubfetch info --help'",
                           st.bad);
            goto done;
        case CLI_OPT_MISSING:
            rc = cli_usage("option '%s' needs a value", st.bad);
            goto done;
        default:
            if (CLI_IS_CLIENT_OPT(id) &&
                (rc = cli_client_arg(&ca, id, st.arg)) != EXIT_OK)
                goto done;
            break;
        }
    }
    if (!repo_id || !repo_id[0]) {
        rc = cli_usage("missing REPO_ID; see 'hubfetch info --help'");
        goto done;
    }
    for (size_t i = 0; i < nwanted; i++)
        if (kind_of(wanted[i]) < 0) {
            rc = cli_usage("'%s' is no safetensors (*.safetensors, "
                           "*.safetensors.index.json) or GGUF (*.gguf) file",
                           wanted[i]);
            goto done;
        }
    if (!all)
        hopts.max_array_values = INFO_ARRAY_SHOWN;
    cli_client_log(&ca);

    err = hub_client_new(&client, &copts);
    if (err != HUB_OK) {
        rc = cli_fail(err);
        goto done;
    }
    cli_cancel_on_signal(client);

    /* the revision's commit, then everything read at that commit */
    lopts.repo_type = ropts.repo_type;
    lopts.revision = ropts.revision;
    const char *asked = ropts.revision ? ropts.revision : "main";
    err = hub_repo_info(&ri, client, repo_id, &lopts);
    if (err == HUB_OK) {
        lopts.revision = ri->sha;
        ropts.revision = ri->sha;
        lopts.recursive = 1;
        err = hub_list_open(&it, client, ri->id, NULL, &lopts);
    }
    while (err == HUB_OK) {
        const hub_entry *e = NULL;
        err = hub_list_next(it, &e);
        if (err != HUB_OK)
            break;
        if (e->type != HUB_ENTRY_FILE)
            continue;
        s.total_size += e->size;
        if (push_path(&s, e->path) < 0) {
            rc = cli_error("out of memory");
            goto done;
        }
    }
    if (err == HUB_LIST_DONE)
        err = HUB_OK;
    if (err == HUB_OK) {
        for (size_t i = 0; i < nwanted; i++) {
            if (!has_path(&s, wanted[i])) {
                cli_err("no '%s' in %s '%s' at revision '%s'", wanted[i],
                        type_name(ropts.repo_type), ri->id, asked);
                rc = cli_exit_code(HUB_ENOENTRY);
                goto done;
            }
            if (add_file(&s, wanted[i], kind_of(wanted[i])) < 0) {
                rc = cli_error("out of memory");
                goto done;
            }
        }
    }
    /* no FILE: the indexes first (they name the shards to leave out),
     * then the other safetensors and GGUF files */
    for (int pass = 0; err == HUB_OK && !nwanted && pass < 2; pass++) {
        for (size_t i = 0; i < s.npaths && err == HUB_OK; i++) {
            const char *p = s.paths[i];
            bool index = ends_with(p, ".safetensors.index.json");
            int kind = kind_of(p);
            if (kind < 0 || index != (pass == 0) || (pass && is_shard(&s, p)))
                continue;
            if (add_file(&s, p, kind) < 0) {
                rc = cli_error("out of memory");
                goto done;
            }
            if (pass == 0)
                err = read_file(client, ri->id, &s.files[s.nfiles - 1], &ropts,
                                &hopts);
        }
    }
    for (size_t i = 0; err == HUB_OK && i < s.nfiles; i++)
        if (!s.files[i].st && !s.files[i].gg)
            err = read_file(client, ri->id, &s.files[i], &ropts, &hopts);
    cli_cancel_on_signal_end();
    if (err == HUB_OK && !nwanted)
        qsort(s.files, s.nfiles, sizeof(*s.files), by_path);
    if (err == HUB_ECANCELLED && cli_interrupted()) {
        cli_err("interrupted");
        rc = cli_exit_code(HUB_ECANCELLED);
        goto done;
    }
    if (err != HUB_OK) {
        rc = cli_fail(err);
        goto done;
    }
    if (print_all(ri, ropts.repo_type, &s, json, tensors) < 0) {
        rc = cli_error("out of memory");
        goto done;
    }
    if (fflush(stdout) != 0)
        rc = cli_error("cannot write to stdout: %s", strerror(errno));
done:
    state_free(&s);
    hub_list_free(it);
    hub_repo_info_free(ri);
    hub_client_free(client);
    cli_client_args_free(&ca);
    free(wanted);
    return rc;
}
