/* SPDX-License-Identifier: MIT */
/* test_unit.c: unit tests of the library's internals (no network). */
#include "../harness/suites.h"
#include "../harness/test.h"

#include "../../src/alloc.h"
#include "../../src/buf.h"
#include "../../src/cache_hf.h"
#include "../../src/cache_ms.h"
#include "../../src/client.h"
#include "../../src/digest.h"
#include "../../src/http.h"
#include "../../src/hub_hf.h"
#include "../../src/json.h"
#include "../../src/localdir.h"
#include "../../src/lock.h"
#include "../../src/path.h"
#include "../../src/pattern.h"
#include "../../src/pickle.h"
#include "../../src/safefs.h"
#include "../../src/str.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define HUB_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HUB_TEST_ASAN 1
#endif
#endif

/* ---- patterns: expectations computed with Python 3.11's fnmatchcase ---- */

static void test_fnmatch_python_cases(void)
{
    static const struct {
        const char *pat, *name;
        bool match;
    } cases[] = {
        {"*.json", "config.json", true},
        {"*.json", "a/b/c.json", true},
        {"data/*.json", "data/sub/x.json", true},
        {"?", "/", true},
        {"?", "\xc3\xa9", true}, /* one code point, two bytes */
        {"[!a]", "b", true},
        {"[!a]", "a", false},
        {"[^a]", "^", true},
        {"[^a]", "b", false},
        {"[]]", "]", true},
        {"[]a]", "a", true},
        {"[!]]", "x", true},
        {"[!]]", "]", false},
        {"[a-c]", "b", true},
        {"[c-a]", "b", false},
        {"[z-a]x", "x", false},
        {"[!z-a]", "q", true},
        {"[a-]", "-", true},
        {"[-a]", "-", true},
        {"[a-c-e]", "-", true},
        {"[a-c-e]", "d", false},
        {"[", "[", true},
        {"[a", "[a", true},
        {"a[b", "a[b", true},
        {"**", "x/y", true},
        {"*", ".hidden", true},
        {"a*b*c", "aXbYc", true},
        {"a*b*c", "aXbY", false},
        {"[[]", "[", true},
        {"[\\]", "\\", true},
        {"[a&&b]", "&", true},
        {"x", "X", false},
        {"", "", true},
        {"*", "", true},
        {"[a-c][!d-f]?", "bz1", true},
        {"\xc3\xa9*",
         "\xc3\xa9"
         "a",
         true},
        {"[\xc3\xa9-\xc3\xbc]", "\xc3\xb6", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (hub__fnmatch(cases[i].pat, cases[i].name) != cases[i].match)
            test_fail(__FILE__, __LINE__, "fnmatch('%s', '%s') != %d",
                      cases[i].name, cases[i].pat, cases[i].match);
}

static void test_patterns_select(void)
{
    const char *allow[] = {"*.json", "onnx/"};
    const char *ignore[] = {"tokenizer*"};
    ASSERT(hub__patterns_select(allow, 2, ignore, 1, "config.json"));
    ASSERT(hub__patterns_select(allow, 2, ignore, 1, "onnx/model.onnx"));
    ASSERT(!hub__patterns_select(allow, 2, ignore, 1, "tokenizer.json"));
    ASSERT(!hub__patterns_select(allow, 2, ignore, 1, "model.safetensors"));
    ASSERT(hub__patterns_select(NULL, 0, NULL, 0, "anything"));
    ASSERT(!hub__patterns_select(NULL, 0, ignore, 1, "tokenizer.json"));
    /* backslashes become slashes in patterns and paths */
    const char *win[] = {"onnx\\*"};
    ASSERT(hub__patterns_select(win, 1, NULL, 0, "onnx/model.onnx"));
}

/* ---- paths --------------------------------------------------------------- */

static void test_repo_path_safety(void)
{
    ASSERT_OK(hub__path_check_repo_path("config.json"));
    ASSERT_OK(hub__path_check_repo_path("a/b/c.bin"));
    ASSERT_OK(hub__path_check_repo_path("docs/read me \xc3\xa9.md"));
    ASSERT_OK(hub__path_check_repo_path("a..b/..c"));
    const char *bad[] = {"",
                         "../escape.txt",
                         "/abs/path.txt",
                         "a/../../b.txt",
                         "a/./b",
                         "a//b",
                         "a/",
                         "..",
                         "C:evil",
                         "a\\..\\b",
                         "\\\\host\\share",
                         "line\nbreak"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (hub__path_check_repo_path(bad[i]) != HUB_EPROTO)
            test_fail(__FILE__, __LINE__, "accepted '%s'", bad[i]);
        ASSERT(strstr(hub_error_last()->message, "unsafe file name"));
    }
    char longname[400];
    memset(longname, 'x', 300);
    longname[300] = '\0';
    ASSERT_EQ_INT(hub__path_check_repo_path(longname), HUB_EPROTO);
}

static void test_path_expand(void)
{
    setenv("HOME", "/home/me", 1);
    setenv("HUBT_X", "val", 1);
    unsetenv("HUBT_UNSET");
    char *s = hub__path_expand("~/cache");
    ASSERT_EQ_STR(s, "/home/me/cache");
    hub__free(s);
    s = hub__path_expand("$HUBT_X/a/${HUBT_X}b/$HUBT_UNSET/~");
    ASSERT_EQ_STR(s, "val/a/valb/$HUBT_UNSET/~");
    hub__free(s);
    s = hub__path_abspath("/a/./b/../c//d/");
    ASSERT_EQ_STR(s, "/a/c/d");
    hub__free(s);
}

/* ---- URLs ------------------------------------------------------------------
 */

static void test_quote_and_urls(void)
{
    char *q = hub__http_quote("refs/pr/1", false);
    ASSERT_EQ_STR(q, "refs%2Fpr%2F1");
    hub__free(q);
    q = hub__http_quote("docs/read me \xc3\xa9.md", true);
    ASSERT_EQ_STR(q, "docs/read%20me%20%C3%A9.md");
    hub__free(q);
    q = hub__http_quote("A-z_0.9~", false);
    ASSERT_EQ_STR(q, "A-z_0.9~");
    hub__free(q);

    hub__repo model = {HUB_REPO_MODEL, "org/name", "https://hf.co"};
    hub__repo data = {HUB_REPO_DATASET, "org/data", "https://hf.co"};
    hub__repo space = {HUB_REPO_SPACE, "org/sp", "https://hf.co"};
    char *u = hub__hf_resolve_url(&model, "refs/pr/1", "a b/c.json");
    ASSERT_EQ_STR(u,
                  "https://hf.co/org/name/resolve/refs%2Fpr%2F1/a%20b/c.json");
    hub__free(u);
    u = hub__hf_resolve_url(&data, "main", "x.csv");
    ASSERT_EQ_STR(u, "https://hf.co/datasets/org/data/resolve/main/x.csv");
    hub__free(u);
    u = hub__hf_revision_url(&space, "v1.0");
    ASSERT_EQ_STR(u, "https://hf.co/api/spaces/org/sp/revision/v1.0");
    hub__free(u);
    u = hub__hf_tree_url(&model, "abc");
    ASSERT_EQ_STR(u, "https://hf.co/api/models/org/name/tree/"
                     "abc?recursive=true&expand=false");
    hub__free(u);

    ASSERT(hub__http_same_origin("http://a:1/x", "http://A:1/y?z"));
    ASSERT(!hub__http_same_origin("http://a:1/x", "http://a:2/x"));
    ASSERT(!hub__http_same_origin("http://a/x", "https://a/x"));
    ASSERT(hub__http_same_origin("https://a/x", "https://a:443/x"));
    u = hub__http_resolve("http://h:1/a/b?q", "/api/x?y=1");
    ASSERT_EQ_STR(u, "http://h:1/api/x?y=1");
    hub__free(u);
}

static void test_etag_and_folders(void)
{
    char *e = hub__hf_normalize_etag("W/\"abc123\"");
    ASSERT_EQ_STR(e, "abc123");
    hub__free(e);
    e = hub__hf_normalize_etag("\"deadbeef\"");
    ASSERT_EQ_STR(e, "deadbeef");
    hub__free(e);
    e = hub__hf_normalize_etag("WW//x");
    ASSERT_EQ_STR(e, "x");
    hub__free(e);
    char *f = hub__hf_repo_folder_name(HUB_REPO_MODEL, "julien-c/EsperBERTo");
    ASSERT_EQ_STR(f, "models--julien-c--EsperBERTo");
    hub__free(f);
    f = hub__hf_repo_folder_name(HUB_REPO_DATASET, "gpt2");
    ASSERT_EQ_STR(f, "datasets--gpt2");
    hub__free(f);
    ASSERT_OK(hub__hf_check_repo_id("gpt2"));
    ASSERT_OK(hub__hf_check_repo_id("Org_1/Name-2.x"));
    const char *bad[] = {"",     "a/b/c", "-x",    "x-",
                         "a--b", "a..b",  "x.git", "datasets/foo/bar",
                         "a b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (hub__hf_check_repo_id(bad[i]) != HUB_EINVAL)
            test_fail(__FILE__, __LINE__, "accepted repo id '%s'", bad[i]);
}

/* ---- digests
 * ----------------------------------------------------------------- */

static void test_digests(void)
{
    hub_digest *d = NULL;
    char hex[65];
    ASSERT_OK(hub__digest_new(&d, HUB_DIGEST_SHA256, 3));
    ASSERT_OK(hub__digest_update(d, "abc", 3));
    ASSERT_OK(hub__digest_final(d, hex));
    hub__digest_free(d);
    ASSERT_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff6"
                       "1f20015ad");
    ASSERT_OK(hub__digest_new(&d, HUB_DIGEST_GITSHA1, 6));
    ASSERT_OK(hub__digest_update(d, "hel", 3));
    ASSERT_OK(hub__digest_update(d, "lo\n", 3));
    ASSERT_OK(hub__digest_final(d, hex));
    hub__digest_free(d);
    ASSERT_EQ_STR(hex, "ce013625030ba8dba906f756967f9e9ca394464a");
    ASSERT_OK(hub__digest_new(&d, HUB_DIGEST_GITSHA1, 0));
    ASSERT_OK(hub__digest_final(d, hex));
    hub__digest_free(d);
    ASSERT_EQ_STR(hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    char b64[29];
    ASSERT_OK(hub__short_hash("model.safetensors.metadata", b64));
    ASSERT_EQ_STR(b64, "xGOKKLRSlIhH692hSVvI1-gpoa8=");
    ASSERT_EQ_INT(hub__digest_kind_for_etag("e69de29bb2d1d6434b8b29ae775ad8c2e"
                                            "48c5391"),
                  HUB_DIGEST_GITSHA1);
    ASSERT_EQ_INT(hub__digest_kind_for_etag("xyz"), HUB_DIGEST_NONE);
}

/* ---- buffers, JSON, errors
 * ------------------------------------------------------- */

static void test_buf_cap(void)
{
    hub_buf b = HUB_BUF_INIT(8);
    ASSERT_OK(hub__buf_puts(&b, "1234"));
    ASSERT_OK(hub__buf_puts(&b, "5678"));
    ASSERT_EQ_INT(hub__buf_puts(&b, "9"), HUB_EPROTO);
    ASSERT_EQ_STR(hub__buf_cstr(&b), "12345678");
    hub__buf_free(&b);
}

static void test_json_python_dump(void)
{
    hub_json *root = hub__json_object();
    hub_json *files = hub__json_object();
    hub_json *a = hub__json_object();
    hub_json *u = hub__json_object();
    ASSERT_OK(hub__json_set_u64(root, "format_version", 1));
    ASSERT_OK(hub__json_set_u64(a, "size", 1));
    ASSERT_OK(hub__json_set_string(a, "blob_id", "x"));
    ASSERT_OK(hub__json_set_u64(u, "size", 0));
    ASSERT_OK(hub__json_set_string(u, "blob_id", "y"));
    ASSERT_OK(hub__json_set_string(u, "lfs_sha256", "z"));
    ASSERT_OK(hub__json_set_u64(u, "lfs_size", 0));
    ASSERT_OK(hub__json_set(files, "a b", a));
    ASSERT_OK(hub__json_set(files, "\xc3\xa9/\xc3\xbc", u));
    ASSERT_OK(hub__json_set(root, "files", files));
    hub_buf out = HUB_BUF_INIT(1 << 20);
    ASSERT_OK(hub__json_dump_python(root, &out));
    /* byte for byte what json.dump(data, f, indent=1) writes */
    ASSERT_EQ_STR(hub__buf_cstr(&out), "{\n"
                                       " \"format_version\": 1,\n"
                                       " \"files\": {\n"
                                       "  \"a b\": {\n"
                                       "   \"size\": 1,\n"
                                       "   \"blob_id\": \"x\"\n"
                                       "  },\n"
                                       "  \"\\u00e9/\\u00fc\": {\n"
                                       "   \"size\": 0,\n"
                                       "   \"blob_id\": \"y\",\n"
                                       "   \"lfs_sha256\": \"z\",\n"
                                       "   \"lfs_size\": 0\n"
                                       "  }\n"
                                       " }\n"
                                       "}");
    hub__buf_free(&out);
    hub__json_free(root);
}

static void test_error_table(void)
{
    const char *seen_names[64] = {0};
    const char *seen_texts[64] = {0};
    for (int code = 0; code >= HUB__ERROR_LAST; code--) {
        const char *name = hub_error_name(code);
        const char *text = hub_strerror(code);
        ASSERT(name && name[0] && strcmp(name, "UNKNOWN") != 0);
        ASSERT(text && text[0] && strcmp(text, "unknown error") != 0);
        for (int k = 0; k < -code; k++) {
            ASSERT(strcmp(seen_names[k], name) != 0);
            ASSERT(strcmp(seen_texts[k], text) != 0);
        }
        seen_names[-code] = name;
        seen_texts[-code] = text;
    }
    ASSERT_EQ_INT(hub__error_set(HUB_EIO, "line1\nline2"), HUB_EIO);
    ASSERT_EQ_STR(hub_error_last()->message, "line1 line2");
    ASSERT_EQ_INT(hub_error_last()->code, HUB_EIO);
}

/* ---- listings
 * ------------------------------------------------------------------------ */

static void test_parse_tree(void)
{
    const char *page =
        "[{\"type\":\"directory\",\"path\":\"onnx\",\"oid\":\"1\",\"size\":0},"
        "{\"type\":\"file\",\"path\":\"config.json\","
        "\"oid\":\"fc20600ae1408d085a8cfd1dd6fdf150fdb9823c\",\"size\":136},"
        "{\"type\":\"file\",\"path\":\"onnx/model.onnx\","
        "\"oid\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"size\":1048576,"
        "\"lfs\":{\"oid\":\"016b0529a24f7f685e74756fd86eb531e03cdc4e983f2b0d7"
        "6a3faa7d8044bf5\",\"size\":1048576,\"pointerSize\":134}}]";
    hub__listing l = HUB_LISTING_INIT;
    ASSERT_OK(hub__hf_parse_tree_page(page, strlen(page), &l));
    ASSERT_EQ_INT(l.count, 2);
    ASSERT_OK(hub__listing_sort(&l));
    const hub__entry *e = hub__listing_find(&l, "onnx/model.onnx");
    ASSERT(e && e->lfs_sha256);
    ASSERT_EQ_INT(e->size, 1048576);
    ASSERT_EQ_STR(hub__entry_etag(e), "016b0529a24f7f685e74756fd86eb531e03cdc4"
                                      "e983f2b0d76a3faa7d8044bf5");
    hub__listing_free(&l);

    const char *evil = "[{\"type\":\"file\",\"path\":\"../escape.txt\","
                       "\"oid\":\"fc20600ae1408d085a8cfd1dd6fdf150fdb9823c\","
                       "\"size\":1}]";
    ASSERT_EQ_INT(hub__hf_parse_tree_page(evil, strlen(evil), &l), HUB_EPROTO);
    hub__listing_free(&l);
    const char *nul = "[{\"type\":\"file\",\"path\":\"a\\u0000b\","
                      "\"oid\":\"fc20600ae1408d085a8cfd1dd6fdf150fdb9823c\","
                      "\"size\":1}]";
    ASSERT(hub__hf_parse_tree_page(nul, strlen(nul), &l) < 0);
    hub__listing_free(&l);
    ASSERT_EQ_INT(hub__hf_parse_tree_page("{", 1, &l), HUB_EPROTO);
    hub__listing_free(&l);

    char *sha = NULL;
    const char *info = "{\"sha\":\"336de85ded21fb397e9153c318fe74ccdaa1f6e9\"}";
    ASSERT_OK(hub__hf_parse_revision(info, strlen(info), &sha, NULL));
    ASSERT_EQ_STR(sha, "336de85ded21fb397e9153c318fe74ccdaa1f6e9");
    hub__free(sha);
    ASSERT_EQ_INT(hub__hf_parse_revision("{\"sha\":\"x\"}", 11, &sha, NULL),
                  HUB_EPROTO);
    /* the canonical id, when the hub gives a valid one */
    char *id = NULL;
    const char *named = "{\"id\":\"Org/New-Name\","
                        "\"sha\":\"336de85ded21fb397e9153c318fe74ccdaa1f6e9\"}";
    ASSERT_OK(hub__hf_parse_revision(named, strlen(named), &sha, &id));
    ASSERT_EQ_STR(id, "Org/New-Name");
    hub__free(sha);
    hub__free(id);
    const char *bad = "{\"id\":\"../x\","
                      "\"sha\":\"336de85ded21fb397e9153c318fe74ccdaa1f6e9\"}";
    ASSERT_OK(hub__hf_parse_revision(bad, strlen(bad), &sha, &id));
    ASSERT(id == NULL);
    hub__free(sha);
    ASSERT_OK(hub__hf_parse_revision(info, strlen(info), &sha, &id));
    ASSERT(id == NULL);
    hub__free(sha);
}

/* ---- the cache layout
 * ---------------------------------------------------------------- */

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void test_cache_refs_and_links(void)
{
    hub__hfcache c;
    ASSERT_OK(
        hub__hfcache_init(&c, test_tmpdir(), HUB_REPO_MODEL, "org/m", true));
    const char *commit = "336de85ded21fb397e9153c318fe74ccdaa1f6e9";
    char got[41];
    ASSERT_EQ_INT(hub__hfcache_resolve(&c, "main", got), HUB_ENOTCACHED);
    ASSERT_OK(hub__hfcache_write_ref(&c, "main", commit));
    ASSERT_OK(hub__hfcache_write_ref(&c, "refs/pr/1", commit));
    char path[1024];
    snprintf(path, sizeof(path), "%s/refs/main", c.repo_dir);
    ASSERT_EQ_STR(slurp(path), commit); /* exactly 40 bytes, no newline */
    snprintf(path, sizeof(path), "%s/refs/refs/pr/1", c.repo_dir);
    ASSERT_EQ_STR(slurp(path), commit);
    ASSERT_OK(hub__hfcache_resolve(&c, "refs/pr/1", got));
    ASSERT_EQ_STR(got, commit);
    /* a hand-made ref with a newline is read, and rewritten clean */
    FILE *fp = fopen(path, "w");
    fprintf(fp, "%s\n", commit);
    fclose(fp);
    ASSERT_OK(hub__hfcache_resolve(&c, "refs/pr/1", got));
    ASSERT_EQ_STR(got, commit);
    ASSERT_OK(hub__hfcache_write_ref(&c, "refs/pr/1", commit));
    ASSERT_EQ_STR(slurp(path), commit);

    /* links are relative, one ../ per level */
    char blob[1024];
    snprintf(blob, sizeof(blob), "%s/blobs", c.repo_dir);
    ASSERT_OK(hub__mkdirs(blob));
    snprintf(blob, sizeof(blob), "%s/blobs/abc", c.repo_dir);
    fp = fopen(blob, "w");
    fputs("data", fp);
    fclose(fp);
    ASSERT_OK(hub__hfcache_link(&c, commit, "a/b/x.bin", "abc", true));
    ASSERT_OK(hub__hfcache_link(&c, commit, "top.bin", "abc", true));
    char target[1024];
    snprintf(path, sizeof(path), "%s/snapshots/%s/a/b/x.bin", c.repo_dir,
             commit);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    ASSERT(n > 0);
    target[n] = '\0';
    ASSERT_EQ_STR(target, "../../../../blobs/abc");
    ASSERT_EQ_STR(slurp(path), "data");
    snprintf(path, sizeof(path), "%s/snapshots/%s/top.bin", c.repo_dir, commit);
    n = readlink(path, target, sizeof(target) - 1);
    target[n] = '\0';
    ASSERT_EQ_STR(target, "../../blobs/abc");

    hub__hfcache_write_tag(&c);
    snprintf(path, sizeof(path), "%s/CACHEDIR.TAG", test_tmpdir());
    ASSERT_EQ_STR(slurp(path),
                  "Signature: 8a477f597d28d172789f06886806bc55\n"
                  "# This file is a cache directory tag created by "
                  "huggingface_hub.\n"
                  "# For information about cache directory tags, see:\n"
                  "#\thttps://bford.info/cachedir/\n");
    hub__hfcache_free(&c);
}

static void test_cache_no_symlinks(void)
{
    hub__hfcache c;
    ASSERT_OK(hub__hfcache_init(&c, test_tmpdir(), HUB_REPO_MODEL, "m", false));
    const char *commit = "336de85ded21fb397e9153c318fe74ccdaa1f6e9";
    char blob[1024], path[1024];
    snprintf(blob, sizeof(blob), "%s/blobs", c.repo_dir);
    ASSERT_OK(hub__mkdirs(blob));
    snprintf(blob, sizeof(blob), "%s/blobs/abc", c.repo_dir);
    FILE *fp = fopen(blob, "w");
    fputs("data", fp);
    fclose(fp);
    /* an old blob is copied, a new one moved (huggingface_hub's fallback) */
    ASSERT_OK(hub__hfcache_link(&c, commit, "copy.bin", "abc", false));
    ASSERT(access(blob, F_OK) == 0);
    ASSERT_OK(hub__hfcache_link(&c, commit, "moved.bin", "abc", true));
    ASSERT(access(blob, F_OK) != 0);
    snprintf(path, sizeof(path), "%s/snapshots/%s/moved.bin", c.repo_dir,
             commit);
    struct stat st;
    ASSERT(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
    ASSERT_EQ_STR(slurp(path), "data");
    hub__hfcache_free(&c);
}

static void test_tree_cache_round_trip(void)
{
    hub__hfcache c;
    ASSERT_OK(hub__hfcache_init(&c, test_tmpdir(), HUB_REPO_MODEL, "m", true));
    hub__listing l = HUB_LISTING_INIT;
    hub__entry a = {0}, b = {0};
    a.path = (char *)"z.txt";
    a.size = 3;
    a.blob_id = (char *)"fc20600ae1408d085a8cfd1dd6fdf150fdb9823c";
    b.path = (char *)"a/big.bin";
    b.size = 10;
    b.blob_id = (char *)"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    b.lfs_sha256 = (char *)"016b0529a24f7f685e74756fd86eb531e03cdc4e983f2b0d7"
                           "6a3faa7d8044bf5";
    b.lfs_size = 10;
    ASSERT_OK(hub__listing_add(&l, &a));
    ASSERT_OK(hub__listing_add(&l, &b));
    ASSERT_OK(hub__listing_sort(&l));
    const char *commit = "336de85ded21fb397e9153c318fe74ccdaa1f6e9";
    hub__hfcache_write_tree(&c, commit, &l);
    hub__listing back = HUB_LISTING_INIT;
    ASSERT_OK(hub__hfcache_read_tree(&c, commit, &back));
    ASSERT_EQ_INT(back.count, 2);
    ASSERT_EQ_STR(back.items[0].path, "a/big.bin");
    ASSERT_EQ_STR(back.items[0].lfs_sha256, b.lfs_sha256);
    ASSERT_EQ_INT(back.items[1].size, 3);
    char path[1024];
    snprintf(path, sizeof(path), "%s/trees/%s.json", c.repo_dir, commit);
    struct stat st;
    ASSERT(stat(path, &st) == 0);
    ASSERT_EQ_INT(st.st_mode & 0777, 0600); /* mkstemp, as Python */
    /* a corrupt tree cache is ignored, not trusted */
    FILE *fp = fopen(path, "w");
    fputs("{\"format_version\": 1, \"files\": {\"../x\": {\"size\": 1, "
          "\"blob_id\": \"x\"}}}",
          fp);
    fclose(fp);
    hub__listing_free(&back);
    ASSERT_EQ_INT(hub__hfcache_read_tree(&c, commit, &back), HUB_ENOTCACHED);
    hub__listing_free(&back);
    hub__listing_free(&l);
    /* a redacted xet hash: no tree cache at all, rather than an inexact one
     * (reference §3.10) */
    const char *redacted =
        "[{\"type\":\"file\",\"path\":\"w.bin\",\"xetHash\":\"redacted\","
        "\"oid\":\"fc20600ae1408d085a8cfd1dd6fdf150fdb9823c\",\"size\":1}]";
    ASSERT_OK(hub__hf_parse_tree_page(redacted, strlen(redacted), &l));
    ASSERT(l.xet_unrecorded);
    const char *other = "c4ef15906d838aa47a14b2f34f10065101bac6fc";
    hub__hfcache_write_tree(&c, other, &l);
    snprintf(path, sizeof(path), "%s/trees/%s.json", c.repo_dir, other);
    ASSERT(access(path, F_OK) != 0);
    hub__listing_free(&l);
    hub__hfcache_free(&c);
}

static void test_localdir_layout(void)
{
    hub__localdir ld;
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/out", test_tmpdir());
    ASSERT_OK(hub__localdir_init(&ld, dir));
    ASSERT(access(dir, F_OK) != 0); /* nothing made yet */
    ASSERT_OK(hub__localdir_create(&ld));
    char *base = hub__localdir_temp_base(&ld, "model.safetensors", "abc");
    char want[1024];
    snprintf(want, sizeof(want),
             "%s/.cache/huggingface/download/xGOKKLRSlIhH692hSVvI1-gpoa8=.abc",
             ld.root);
    ASSERT_EQ_STR(base, want);
    hub__free(base);
    snprintf(want, sizeof(want), "%s/.cache/huggingface/.gitignore", ld.root);
    ASSERT_EQ_STR(slurp(want), "*");
    /* metadata is valid only while the file is unchanged */
    hub__localdir_meta m;
    ASSERT_EQ_INT(hub__localdir_read_meta(&ld, "a/f.txt", &m), HUB_ENOTCACHED);
    snprintf(want, sizeof(want), "%s/a", ld.root);
    ASSERT_OK(hub__mkdirs(want));
    snprintf(want, sizeof(want), "%s/a/f.txt", ld.root);
    FILE *fp = fopen(want, "w");
    fputs("x", fp);
    fclose(fp);
    ASSERT_OK(hub__localdir_write_meta(
        &ld, "a/f.txt", "336de85ded21fb397e9153c318fe74ccdaa1f6e9", "et"));
    ASSERT_OK(hub__localdir_read_meta(&ld, "a/f.txt", &m));
    ASSERT_EQ_STR(m.commit, "336de85ded21fb397e9153c318fe74ccdaa1f6e9");
    ASSERT_EQ_STR(m.etag, "et");
    hub__localdir_free(&ld);
}

static void test_safefs_confines(void)
{
    char root[512], path[2048], out[512];
    snprintf(root, sizeof(root), "%s/sfs", test_tmpdir());
    snprintf(out, sizeof(out), "%s/outside", test_tmpdir());
    ASSERT_OK(hub__mkdirs(out));
    /* created below the root, parents included */
    snprintf(path, sizeof(path), "%s/a/b/f", root);
    int fd = hub__sfs_open(root, path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    ASSERT(fd >= 0);
    close(fd);
    /* a path outside the root, or with "..", is refused */
    ASSERT_EQ_INT(hub__sfs_open(root, out, O_RDONLY, 0), HUB_EINVAL);
    snprintf(path, sizeof(path), "%s/a/../../outside/x", root);
    ASSERT(hub__sfs_open(root, path, O_WRONLY | O_CREAT, 0644) < 0);
    ASSERT(hub_error_last()->code != HUB_OK);
    /* a directory link below the root is not followed, even to create */
    snprintf(path, sizeof(path), "%s/link", root);
    ASSERT(symlink(out, path) == 0);
    snprintf(path, sizeof(path), "%s/link/x", root);
    ASSERT_EQ_INT(hub__sfs_open(root, path, O_WRONLY | O_CREAT, 0644), HUB_EIO);
    ASSERT(strstr(hub_error_last()->message, "symbolic link") != NULL);
    ASSERT_EQ_INT(hub__sfs_mkdirs(root, path), HUB_EIO);
    snprintf(path, sizeof(path), "%s/x", out);
    ASSERT(access(path, F_OK) != 0);
    /* a file link is neither opened nor written through, but replaced by
     * open_own, which also refuses hard links */
    snprintf(path, sizeof(path), "%s/victim", out);
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    ASSERT(fd >= 0 && write(fd, "v", 1) == 1);
    close(fd);
    char lnk[2048];
    snprintf(lnk, sizeof(lnk), "%s/a/flink", root);
    ASSERT(symlink(path, lnk) == 0);
    ASSERT_EQ_INT(hub__sfs_open(root, lnk, O_RDWR, 0), HUB_EIO);
    fd = hub__sfs_open_own(root, lnk, 0644);
    ASSERT(fd >= 0 && write(fd, "mine", 4) == 4);
    close(fd);
    struct stat st;
    ASSERT(lstat(lnk, &st) == 0 && S_ISREG(st.st_mode));
    ASSERT(stat(path, &st) == 0 && st.st_size == 1);
    snprintf(lnk, sizeof(lnk), "%s/a/hard", root);
    ASSERT(link(path, lnk) == 0);
    fd = hub__sfs_open_own(root, lnk, 0644);
    ASSERT(fd >= 0 && write(fd, "mine", 4) == 4);
    close(fd);
    ASSERT(stat(path, &st) == 0 && st.st_size == 1 && st.st_nlink == 1);
    /* the root itself may be a link (the user's choice) */
    char alias[512];
    snprintf(alias, sizeof(alias), "%s/alias", test_tmpdir());
    ASSERT(symlink(root, alias) == 0);
    snprintf(path, sizeof(path), "%s/a/b/f", alias);
    ASSERT(hub__sfs_is_file(alias, path));
    hub__error_clear();
}

static void test_lock_excludes_other_process(void)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/.locks/repo/x.lock", test_tmpdir());
    hub__lock l = HUB_LOCK_INIT;
    ASSERT_OK(hub__lock_try(&l, test_tmpdir(), path));
    pid_t pid = fork();
    if (pid == 0) {
        hub__lock other = HUB_LOCK_INIT;
        _exit(hub__lock_try(&other, test_tmpdir(), path) == HUB__LOCK_BUSY ? 0
                                                                           : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    hub__lock_release(&l);
    ASSERT(access(path, F_OK) == 0); /* never unlinked */
    struct stat st;
    ASSERT(stat(path, &st) == 0);
    ASSERT_EQ_INT(st.st_mode & 0777, 0664);
}

static void test_alloc_failures_are_clean(void)
{
    /* every allocation of a listing parse failing in turn: no crash, no
     * leak (ASan), a clean out-of-memory code */
    const char *page =
        "[{\"type\":\"file\",\"path\":\"a.txt\","
        "\"oid\":\"fc20600ae1408d085a8cfd1dd6fdf150fdb9823c\",\"size\":1},"
        "{\"type\":\"file\",\"path\":\"b.txt\","
        "\"oid\":\"fc20600ae1408d085a8cfd1dd6fdf150fdb9823c\",\"size\":2}]";
    for (long n = 0; n < 20; n++) {
        hub__listing l = HUB_LISTING_INIT;
        hub__alloc_fail_after(n);
        int rc = hub__hf_parse_tree_page(page, strlen(page), &l);
        hub__alloc_fail_after(-1);
        ASSERT(rc == HUB_OK || rc == HUB_ENOMEM);
        hub__listing_free(&l);
    }
}

/* ---- the ModelScope SDK's pickles ---------------------------------------- */

static void test_pickle_reads_python_and_back(void)
{
    /* pickle.dumps([{'Path':'a.txt','Revision':'r1'},{'Path':'b/c.bin',
     * 'Revision':'r2'}], protocol=4): FRAME, MEMOIZE, and BINGET for the
     * repeated keys */
    static const unsigned char py4[] =
        "\x80\x04\x95\x3f\x00\x00\x00\x00\x00\x00\x00\x5d\x94\x28\x7d\x94"
        "\x28\x8c\x04\x50\x61\x74\x68\x94\x8c\x05\x61\x2e\x74\x78\x74\x94"
        "\x8c\x08\x52\x65\x76\x69\x73\x69\x6f\x6e\x94\x8c\x02\x72\x31\x94"
        "\x75\x7d\x94\x28\x68\x02\x8c\x07\x62\x2f\x63\x2e\x62\x69\x6e\x94"
        "\x68\x04\x8c\x02\x72\x32\x94\x75\x65\x2e";
    hub__pickle p;
    ASSERT_OK(hub__pickle_read(&p, py4, sizeof(py4) - 1));
    ASSERT_EQ_INT(p.count, 2);
    ASSERT_EQ_STR(hub__pdict_get(&p.dicts[1], "Path"), "b/c.bin");
    ASSERT_EQ_STR(hub__pdict_get(&p.dicts[1], "Revision"), "r2");
    hub_buf out = HUB_BUF_INIT(1 << 20);
    ASSERT_OK(hub__pickle_write(&p, true, &out));
    hub__pickle back;
    ASSERT_OK(hub__pickle_read(&back, (unsigned char *)out.ptr, out.len));
    ASSERT_EQ_INT(back.count, 2);
    ASSERT_EQ_STR(hub__pdict_get(&back.dicts[0], "Path"), "a.txt");
    hub__pickle_free(&back);
    hub__buf_free(&out);
    /* every truncation, and every single-byte corruption, is refused or
     * read safely: never a crash (ASan watches) */
    for (size_t n = 0; n + 1 < sizeof(py4) - 1; n++) {
        hub__pickle t;
        ASSERT(hub__pickle_read(&t, py4, n) < 0);
    }
    unsigned char bad[sizeof(py4)];
    for (size_t i = 0; i < sizeof(py4) - 1; i++) {
        memcpy(bad, py4, sizeof(py4));
        bad[i] ^= 0xff;
        hub__pickle t;
        if (hub__pickle_read(&t, bad, sizeof(py4) - 1) == HUB_OK)
            hub__pickle_free(&t);
    }
    /* code-running opcodes are not data: refused */
    static const unsigned char evil[] = "\x80\x02cos\nsystem\n.";
    hub__pickle t;
    ASSERT_EQ_INT(hub__pickle_read(&t, evil, sizeof(evil) - 1), HUB_EPROTO);
    hub__pickle_free(&p);
}

/* Run `fn(arg)` in a child under a deadline and (but with ASan, which
 * reserves terabytes of address space) an address-space limit of what the
 * process maps now plus `extra_mb`: a blow-up fails the test instead of
 * swapping the machine or hanging it. Returns the child's exit code, or
 * -1 if it was killed (deadline). */
static int run_bounded(int (*fn)(const void *),
                       const void *arg,
                       size_t extra_mb,
                       unsigned seconds)
{
    pid_t pid = fork();
    if (pid == 0) {
#ifndef HUB_TEST_ASAN
        unsigned long pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (!f || fscanf(f, "%lu", &pages) != 1)
            _exit(3);
        fclose(f);
        rlim_t cap = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) +
                     (rlim_t)extra_mb * 1024 * 1024;
        struct rlimit rl = {cap, cap};
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(3);
#else
        (void)extra_mb;
#endif
        alarm(seconds);
        _exit(fn(arg));
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

typedef struct hostile {
    unsigned char *data;
    size_t len;
} hostile;

/* A list of `n` dicts {S: S}, S a `big`-byte string memoized once and
 * fetched with BINGET everywhere else: 7 input bytes per dict. */
static hostile memo_bomb(size_t big, size_t n)
{
    hostile h = {malloc(big + 7 * n + 2 * (n / 1000) + 32), 0};
    unsigned char *p = h.data;
    if (!p)
        return h;
    *p++ = 0x80; /* PROTO 4 */
    *p++ = 4;
    *p++ = ']';
    *p++ = '(';
    *p++ = '}';
    *p++ = '(';
    *p++ = 'X';
    for (int i = 0; i < 4; i++)
        *p++ = (unsigned char)(big >> (8 * i));
    memset(p, 'a', big);
    p += big;
    memcpy(p, "\x94h\x00u", 4);
    p += 4;
    for (size_t i = 1; i < n; i++) {
        if (i % 1000 == 0) { /* APPENDS in batches, as Python writes */
            memcpy(p, "e(", 2);
            p += 2;
        }
        memcpy(p, "}(h\x00h\x00u", 7);
        p += 7;
    }
    memcpy(p, "e.", 2);
    p += 2;
    h.len = (size_t)(p - h.data);
    return h;
}

static int read_memo_bomb(const void *arg)
{
    const hostile *h = arg;
    hub__pickle p;
    if (hub__pickle_read(&p, h->data, h->len) != HUB_OK)
        return 1;
    /* one copy of the string, whatever the number of references */
    int rc = p.count > 1 && p.dicts[0].count == 1 &&
                     strlen(p.dicts[0].keys[0]) == 65536 &&
                     p.dicts[p.count - 1].values[0] == p.dicts[0].keys[0]
                 ? 0
                 : 2;
    hub__pickle_free(&p);
    return rc;
}

static void test_pickle_memo_references_share(void)
{
    /* ~1 MiB that references a 64 KiB string 300,000 times: copied on each
     * BINGET it took 19 GiB; shared it takes a few times the input */
#ifdef HUB_TEST_ASAN
    size_t n = 2000;
#else
    size_t n = 150000;
#endif
    hostile h = memo_bomb(65536, n);
    ASSERT(h.data);
    ASSERT_EQ_INT(run_bounded(read_memo_bomb, &h, 256, 60), 0);
    free(h.data);
}

static int read_memoize_run(const void *arg)
{
    const hostile *h = arg;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hub__pickle p;
    int rc = hub__pickle_read(&p, h->data, h->len);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc == HUB_OK)
        hub__pickle_free(&p);
    double s = (double)(t1.tv_sec - t0.tv_sec) +
               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* linear: milliseconds; quadratic: about ten minutes. The bound is
     * generous for a loaded machine and sanitizers. */
    return rc == HUB_OK && s < 10.0 ? 0 : 1;
}

static void test_pickle_memoize_is_linear(void)
{
    /* an empty list memoized 900,000 times (~1 MB): each MEMOIZE took the
     * next index by scanning the whole memo */
    size_t n = 900000;
    hostile h = {malloc(n + 8), 0};
    ASSERT(h.data);
    memcpy(h.data, "\x80\x04]", 3);
    memset(h.data + 3, 0x94, n);
    h.data[3 + n] = '.';
    h.len = n + 4;
    ASSERT_EQ_INT(run_bounded(read_memoize_run, &h, 512, 30), 0);
    free(h.data);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ASSERT(f && fwrite(data, 1, len, f) == len);
    fclose(f);
}

static void test_msc_kept_when_unreadable_or_short_of_memory(void)
{
    const char *dir = test_tmpdir();
    char msc[1024], aside[1100], real[1024];
    snprintf(msc, sizeof(msc), "%s/.msc", dir);
    snprintf(aside, sizeof(aside), "%s.corrupted", msc);
    hub__mscache c;
    ASSERT_OK(hub__mscache_init(&c, dir, HUB_REPO_MODEL, "o/n", dir, NULL));
    ASSERT_OK(hub__mscache_load(&c, true));
    ASSERT_OK(hub__mscache_put(&c, "a.txt", "r1"));
    ASSERT_OK(hub__mscache_put(&c, "b.txt", "r2"));
    ASSERT_OK(hub__mscache_put(&c, "a.txt", "r3")); /* replaces */
    ASSERT_OK(hub__mscache_flush(&c));
    hub__mscache_free(&c);
    /* out of memory at every step of a load: an error or the index, never
     * the index set aside (it is fine, the process is not) */
    for (long n = 0; n < 60; n++) {
        ASSERT_OK(hub__mscache_init(&c, dir, HUB_REPO_MODEL, "o/n", dir, NULL));
        hub__alloc_fail_after(n);
        int rc = hub__mscache_load(&c, true);
        hub__alloc_fail_after(-1);
        ASSERT(rc == HUB_OK || rc == HUB_ENOMEM);
        ASSERT(access(msc, F_OK) == 0);
        ASSERT(access(aside, F_OK) != 0);
        if (rc == HUB_OK) {
            ASSERT_EQ_INT(hub__mscache_count(&c), 2);
            ASSERT_EQ_STR(hub__mscache_path_at(&c, 0), "a.txt");
        }
        hub__mscache_free(&c);
    }
    /* an index that cannot be read (here: a symlink, not followed) is not
     * replaced by what this process records */
    snprintf(real, sizeof(real), "%s/real.msc", dir);
    ASSERT(rename(msc, real) == 0);
    ASSERT(symlink("real.msc", msc) == 0);
    ASSERT_OK(hub__mscache_init(&c, dir, HUB_REPO_MODEL, "o/n", dir, NULL));
    ASSERT_OK(hub__mscache_load(&c, true));
    ASSERT_OK(hub__mscache_put(&c, "c.txt", "r4"));
    ASSERT_OK(hub__mscache_flush(&c));
    hub__mscache_free(&c);
    struct stat st;
    ASSERT(lstat(msc, &st) == 0 && S_ISLNK(st.st_mode));
    ASSERT(access(aside, F_OK) != 0);
    /* a bad pickle: a lookup leaves it; a download sets it aside */
    ASSERT(unlink(msc) == 0);
    write_file(msc, "\x80\x02garbage", 9);
    ASSERT_OK(hub__mscache_init(&c, dir, HUB_REPO_MODEL, "o/n", dir, NULL));
    ASSERT_OK(hub__mscache_load(&c, false));
    ASSERT_EQ_INT(hub__mscache_count(&c), 0);
    ASSERT(access(aside, F_OK) != 0);
    ASSERT_OK(hub__mscache_load(&c, true));
    ASSERT(access(aside, F_OK) == 0);
    hub__mscache_free(&c);
}

/* ---- credentials: which endpoints get the token; what may be shown ---- */

/* A client from `endpoint` + `fallbacks`, the environment ignored unless
 * `env`; NULL on failure. */
static hub_client *token_client(const char *endpoint,
                                const char *const *fallbacks,
                                size_t n,
                                int to_mirrors,
                                bool env)
{
    hub_client_options o = HUB_CLIENT_OPTIONS_INIT;
    o.flags = env ? 0 : HUB_CLIENT_IGNORE_ENV;
    o.endpoint = endpoint;
    o.token = "hf_SECRET";
    o.fallback_endpoints = fallbacks;
    o.fallback_count = n;
    o.send_token_to_mirrors = to_mirrors;
    o.cache_dir = "/tmp/hubfetch-unit-cache";
    hub_client *c = NULL;
    return hub_client_new(&c, &o) == HUB_OK ? c : NULL;
}

static void test_token_bound_to_one_origin(void)
{
    /* auto outside a Chinese locale: the hub gets it, the mirror not */
    hub_client *c = token_client("auto", NULL, 0, 0, false);
    ASSERT(c);
    ASSERT_EQ_INT(c->nendpoints, 2);
    ASSERT_EQ_STR(c->endpoints[1], "https://hf-mirror.com");
    ASSERT(hub__client_token_for(c, "https://huggingface.co"));
    ASSERT(!hub__client_token_for(c, "https://hf-mirror.com"));
    ASSERT_EQ_INT(c->ntoken_endpoints, 1);
    ASSERT_EQ_STR(c->token_endpoints[0], "https://huggingface.co");
    hub_client_free(c);

    /* a Chinese locale puts the mirror first: still only the hub */
    const char *saved = getenv("LC_ALL");
    char *keep = saved ? hub__strdup(saved) : NULL;
    setenv("LC_ALL", "zh_CN.UTF-8", 1);
    c = token_client("auto", NULL, 0, 0, true);
    if (keep) {
        setenv("LC_ALL", keep, 1);
        hub__free(keep);
    } else {
        unsetenv("LC_ALL");
    }
    ASSERT(c);
    ASSERT_EQ_STR(c->endpoints[0], "https://hf-mirror.com");
    ASSERT(!hub__client_token_for(c, "https://hf-mirror.com"));
    ASSERT(hub__client_token_for(c, "https://huggingface.co"));
    hub_client_free(c);

    /* explicit fallbacks, and "auto" among them, get nothing */
    const char *fb[] = {"https://mirror.example", "auto"};
    c = token_client("https://hub.example", fb, 2, 0, false);
    ASSERT(c);
    ASSERT_EQ_INT(c->nendpoints, 4);
    ASSERT_EQ_INT(c->ntoken_endpoints, 1);
    ASSERT(hub__client_token_for(c, "https://hub.example"));
    ASSERT(!hub__client_token_for(c, "https://mirror.example"));
    ASSERT(!hub__client_token_for(c, "https://huggingface.co"));
    ASSERT(!hub__client_token_for(c, "https://hf-mirror.com"));
    hub_client_free(c);

    /* unless asked */
    c = token_client("https://hub.example", fb, 2, 1, false);
    ASSERT(c);
    ASSERT_EQ_INT(c->ntoken_endpoints, 4);
    ASSERT(hub__client_token_for(c, "https://hf-mirror.com"));
    hub_client_free(c);

    /* a version-1 caller has no send_token_to_mirrors: whatever lies
     * after its struct is not read */
    hub_client_options o;
    memset(&o, 0x5a, sizeof(o));
    ASSERT_OK(hub_client_options_init(&o, 1));
    ASSERT_EQ_INT(o.send_token_to_mirrors, 0x5a5a5a5a);
    o.flags = HUB_CLIENT_IGNORE_ENV;
    o.endpoint = "https://hub.example";
    o.token = "hf_SECRET";
    o.fallback_endpoints = fb;
    o.fallback_count = 1;
    o.cache_dir = "/tmp/hubfetch-unit-cache";
    c = NULL;
    ASSERT_OK(hub_client_new(&c, &o));
    ASSERT(!hub__client_token_for(c, "https://mirror.example"));
    hub_client_free(c);
}

static void test_text_clean(void)
{
    char s[256];
    /* terminal escapes, BEL, DEL, C1 as UTF-8 and as a raw byte, broken
     * UTF-8; valid UTF-8 kept */
    snprintf(s, sizeof(s), "%s",
             "a\x1b]0;pwned\x07\x1b[2Jb\x7f\xc2\x9b"
             "1m\x9b"
             "c\xff\xc3(\xe2\x82 "
             "caf\xc3\xa9 \xe6\x97\xa5\n\r\t.");
    hub__text_clean(s, sizeof(s));
    ASSERT_EQ_STR(s,
                  "a?]0;pwned??[2Jb??1m?c?\?(?\? caf\xc3\xa9 \xe6\x97\xa5   .");
    /* overlong and surrogate encodings are not UTF-8 either */
    snprintf(s, sizeof(s), "%s", "\xc0\x9b\xed\xa0\x80x");
    hub__text_clean(s, sizeof(s));
    ASSERT(strchr(s, 0x1b) == NULL);
    ASSERT_EQ_STR(s + strlen(s) - 1, "x");
    /* credentials of any URL */
    snprintf(s, sizeof(s), "%s",
             "endpoint http://alice:S3CRET@127.0.0.1:8080/x@y failed; "
             "trying https://u@h/ and 'socks5h://p:q@proxy:1080'");
    hub__text_clean(s, sizeof(s));
    ASSERT_EQ_STR(s, "endpoint http://***@127.0.0.1:8080/x@y failed; trying "
                     "https://***@h/ and 'socks5h://***@proxy:1080'");
    /* a URL without userinfo, an '@' in the path or the query: as is */
    snprintf(s, sizeof(s), "%s", "https://h.example/a@b?c=d@e");
    hub__text_clean(s, sizeof(s));
    ASSERT_EQ_STR(s, "https://h.example/a@b?c=d@e");
    /* a small buffer is never overrun */
    char small[8] = "http://";
    hub__text_clean(small, sizeof(small));
    ASSERT_EQ_STR(small, "http://");
    /* messages go through it */
    hub__error_set(HUB_EHTTP, "x %s y", "\x1b[2J http://a:b@h");
    ASSERT_EQ_STR(hub_error_last()->message, "x ?[2J http://***@h y");
    hub__error_clear();
}

static void test_endpoint_credentials_not_shown(void)
{
    hub_client *c =
        token_client("http://alice:S3CRET@127.0.0.1:9", NULL, 0, 0, false);
    ASSERT(c);
    ASSERT_EQ_STR(hub_client_endpoint(c), "http://***@127.0.0.1:9");
    /* the real one is still used */
    ASSERT_EQ_STR(c->endpoints[0], "http://alice:S3CRET@127.0.0.1:9");
    hub_client_free(c);
    hub_client_options o = HUB_CLIENT_OPTIONS_INIT;
    o.flags = HUB_CLIENT_IGNORE_ENV;
    o.endpoint = "ftp://bob:S3CRET@host";
    ASSERT_EQ_INT(hub_client_new(&c, &o), HUB_EINVAL);
    ASSERT(strstr(hub_error_last()->message, "S3CRET") == NULL);
}

static const test_case unit_tests[] = {
    {"msc_kept_when_unreadable_or_short_of_memory",
     test_msc_kept_when_unreadable_or_short_of_memory},
    {"pickle_memo_references_share", test_pickle_memo_references_share},
    {"pickle_memoize_is_linear", test_pickle_memoize_is_linear},
    {"pickle_reads_python_and_back", test_pickle_reads_python_and_back},
    {"fnmatch_python_cases", test_fnmatch_python_cases},
    {"patterns_select", test_patterns_select},
    {"repo_path_safety", test_repo_path_safety},
    {"path_expand", test_path_expand},
    {"quote_and_urls", test_quote_and_urls},
    {"etag_and_folders", test_etag_and_folders},
    {"digests", test_digests},
    {"buf_cap", test_buf_cap},
    {"json_python_dump", test_json_python_dump},
    {"error_table", test_error_table},
    {"parse_tree", test_parse_tree},
    {"cache_refs_and_links", test_cache_refs_and_links},
    {"cache_no_symlinks", test_cache_no_symlinks},
    {"tree_cache_round_trip", test_tree_cache_round_trip},
    {"localdir_layout", test_localdir_layout},
    {"safefs_confines", test_safefs_confines},
    {"lock_excludes_other_process", test_lock_excludes_other_process},
    {"alloc_failures_are_clean", test_alloc_failures_are_clean},
    {"token_bound_to_one_origin", test_token_bound_to_one_origin},
    {"text_clean", test_text_clean},
    {"endpoint_credentials_not_shown", test_endpoint_credentials_not_shown},
};

const test_case *unit_suite(size_t *count)
{
    *count = sizeof(unit_tests) / sizeof(unit_tests[0]);
    return unit_tests;
}
