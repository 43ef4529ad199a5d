/* SPDX-License-Identifier: MIT */
/* fuzz_parsers.c: libFuzzer over what the network and other programs'
 * caches hand the library: tree pages and repo info (Hub), listings and
 * revisions (ModelScope), .msc pickles, Location resolution, patterns, and
 * the files huggingface_hub leaves (trees/<commit>.json, local-dir
 * .metadata), and response headers (ETag, sizes, Content-Range, Link,
 * RateLimit, Retry-After, error text) down to the etag rule and the text
 * cleaning of messages, and the headers of weights files (safetensors and
 * its shard index, GGUF), whole and as prefixes. The first byte picks the
 * parser. ctest runs it briefly from seeds/ in the sanitizer build; longer:
 * build-asan/tests/fuzz_parsers -max_total_time=600 DIR tests/fuzz/seeds. */
#include "alloc.h"
#include "cache_hf.h"
#include "error.h"
#include "gguf.h"
#include "http.h"
#include "hub_hf.h"
#include "hub_modelscope.h"
#include "listing.h"
#include "localdir.h"
#include "path.h"
#include "pattern.h"
#include "pickle.h"
#include "safetensors.h"
#include "str.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COMMIT "336de85ded21fb397e9153c318fe74ccdaa1f6e9"

/* A scratch cache and local dir, made once, for the parsers that read
 * files (trees/<commit>.json written by huggingface_hub, local-dir
 * .metadata files). */
static char scratch[64];
static char tree_file[256], meta_file[256], local_file[256];

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_scratch(void)
{
    nftw(scratch, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_scratch(void)
{
    if (scratch[0])
        return;
    atexit(remove_scratch);
    snprintf(scratch, sizeof(scratch), "/tmp/hubfetch-fuzz-%ld",
             (long)getpid());
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/cache/models--org--name/trees", scratch);
    hub__mkdirs(dir);
    snprintf(tree_file, sizeof(tree_file), "%s/" COMMIT ".json", dir);
    snprintf(dir, sizeof(dir), "%s/local/.cache/huggingface/download", scratch);
    hub__mkdirs(dir);
    snprintf(meta_file, sizeof(meta_file), "%s/a.txt.metadata", dir);
    snprintf(local_file, sizeof(local_file), "%s/local/a.txt", scratch);
    FILE *f = fopen(local_file, "w");
    if (f)
        fclose(f);
}

static void put(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fwrite(data, 1, size, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0] % 12;
    data++;
    size--;
    char *s = malloc(size + 1); /* the text parsers want a terminator */
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    switch (sel) {
    case 0: {
        hub__pickle p = {0};
        if (hub__pickle_read(&p, data, size) == HUB_OK) {
            for (size_t i = 0; i < p.count; i++)
                (void)hub__pdict_get(&p.dicts[i], "Path");
        }
        hub__pickle_free(&p);
        break;
    }
    case 1: {
        hub__listing l = {0};
        hub__hf_parse_tree_page(s, size, &l);
        hub__listing_free(&l);
        break;
    }
    case 2: {
        char *sha = NULL, *id = NULL;
        hub__hf_parse_revision(s, size, &sha, &id);
        hub__free(sha);
        hub__free(id);
        break;
    }
    case 3: {
        hub__listing l = {0};
        size_t n = 0;
        bool nf = false;
        hub__ms_parse_listing(s, size, &l, &n, &nf);
        hub__listing_free(&l);
        break;
    }
    case 4: {
        hub__ms_revision r;
        memset(&r, 0, sizeof r);
        hub__ms_parse_revisions(s, size, "master", &r);
        break;
    }
    case 5: {
        const char *nul = memchr(s, '\n', size);
        if (nul) {
            size_t k = (size_t)(nul - s);
            char *a = strndup(s, k);
            char *r = hub__http_resolve(a, nul + 1);
            hub__free(r);
            (void)hub__http_same_origin(a, nul + 1);
            char *q = hub__http_quote(nul + 1, true);
            hub__free(q);
            free(a);
        }
        break;
    }
    case 7: {
        make_scratch();
        put(tree_file, data, size);
        char root[128];
        snprintf(root, sizeof(root), "%s/cache", scratch);
        hub__hfcache c;
        if (hub__hfcache_init(&c, root, HUB_REPO_MODEL, "org/name", true) ==
            HUB_OK) {
            hub__listing l = {0};
            hub__hfcache_read_tree(&c, COMMIT, &l);
            hub__listing_free(&l);
            hub__hfcache_free(&c);
        }
        break;
    }
    case 8: {
        make_scratch();
        put(meta_file, data, size);
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/local", scratch);
        hub__localdir ld;
        if (hub__localdir_init(&ld, dir) == HUB_OK) {
            hub__localdir_meta m;
            hub__localdir_read_meta(&ld, "a.txt", &m);
            hub__localdir_free(&ld);
        }
        break;
    }
    case 9: {
        /* header lines, one per '\n', as curl hands them over */
        hub_http_resp r;
        memset(&r, 0, sizeof(r));
        hub__http_resp_clear(&r);
        for (const char *line = s; line < s + size;) {
            const char *nl = memchr(line, '\n', (size_t)(s + size - line));
            size_t n = nl ? (size_t)(nl - line) + 1 : (size_t)(s + size - line);
            hub__http_parse_header(&r, line, n);
            line += n;
        }
        const char *raw = r.linked_etag ? r.linked_etag : r.etag;
        char *etag = raw ? hub__hf_normalize_etag(raw) : NULL;
        if (etag)
            (void)hub__str_is_etag(etag);
        hub__free(etag);
        if (r.error_message)
            hub__error_set(HUB_EHTTP, "server said: %s", r.error_message);
        hub__http_resp_clear(&r);
        break;
    }
    case 10: {
        /* a safetensors file, whole then as a prefix; an index */
        hub_safetensors_info *info = NULL;
        uint64_t need = 0;
        int rc = hub__safetensors_parse(&info, data, size, size, "f", &need);
        if (rc == HUB__NEED_MORE) /* all of the file was there */
            abort();
        hub_safetensors_info_free(info);
        rc = hub__safetensors_parse(&info, data, size, UINT64_MAX, "f", &need);
        if (rc == HUB__NEED_MORE && need <= size)
            abort();
        hub_safetensors_info_free(info);
        hub__st_index ix;
        if (hub__safetensors_parse_index(&ix, s, size, "i") == HUB_OK)
            hub__safetensors_index_free(&ix);
        break;
    }
    case 11: {
        /* a GGUF file, whole then as a prefix of an unknown size with
         * short arrays dropped */
        hub__gguf_limits lim = {size, 0, 0};
        hub_gguf_info *info = NULL;
        uint64_t need = 0;
        int rc = hub__gguf_parse(&info, data, size, &lim, "f", &need);
        if (rc == HUB__NEED_MORE)
            abort();
        if (info)
            (void)hub_gguf_info_get(info, "general.name");
        hub_gguf_info_free(info);
        hub__gguf_limits open = {UINT64_MAX, 1u << 20, 2};
        rc = hub__gguf_parse(&info, data, size, &open, "f", &need);
        if (rc == HUB__NEED_MORE && need <= size)
            abort();
        hub_gguf_info_free(info);
        break;
    }
    case 6: {
        const char *nl = memchr(s, '\n', size);
        if (nl) {
            char *pat = strndup(s, (size_t)(nl - s));
            (void)hub__fnmatch(pat, nl + 1);
            free(pat);
        }
        break;
    }
    }
    free(s);
    hub__error_clear();
    return 0;
}
