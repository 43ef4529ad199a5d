/* SPDX-License-Identifier: MIT */
/* fuzz_parsers.c: libFuzzer over what the network and other programs'
 * caches hand the library: tree pages and repo info (Hub), listings and
 * revisions (ModelScope), .msc pickles, Location resolution, patterns. The
 * first byte picks the parser. ctest runs it briefly from seeds/ in the
 * sanitizer build; longer: build-asan/tests/fuzz_parsers -max_total_time=600
 * DIR tests/fuzz/seeds. */
#include "alloc.h"
#include "error.h"
#include "http.h"
#include "hub_hf.h"
#include "hub_modelscope.h"
#include "listing.h"
#include "pattern.h"
#include "pickle.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0] % 7;
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
