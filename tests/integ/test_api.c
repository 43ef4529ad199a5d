/* SPDX-License-Identifier: MIT */
/* test_api.c: the public API against the fake hub. */
#include "../harness/fakehub.h"
#include "../harness/suites.h"

#include <hubfetch.h>

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEMO "hubfetch/demo-model"
#define DEMO_MAIN "336de85ded21fb397e9153c318fe74ccdaa1f6e9"
#define DEMO_V1 "c4ef15906d838aa47a14b2f34f10065101bac6fc"

static fakehub fh;
static char cache_dir[1024];

static hub_client *client_with(const char *token, int offline)
{
    hub_client_options o;
    ASSERT_OK(hub_client_options_init(&o, HUB_CLIENT_OPTIONS_VERSION));
    o.flags = HUB_CLIENT_IGNORE_ENV;
    o.endpoint = fh.url;
    snprintf(cache_dir, sizeof(cache_dir), "%s/cache", test_tmpdir());
    o.cache_dir = cache_dir;
    o.token = token ? token : "";
    o.offline = offline;
    hub_client *c = NULL;
    ASSERT_OK(hub_client_new(&c, &o));
    return c;
}

static void start(void)
{
    ASSERT_OK(hub_global_init());
    fakehub_start(&fh, NULL);
}

static void stop(hub_client *c)
{
    hub_client_free(c);
    fakehub_stop(&fh);
    hub_global_cleanup();
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void test_file_then_pinned_hit_makes_no_request(void)
{
    start();
    hub_client *c = client_with(NULL, 0);
    char *path = NULL;
    ASSERT_OK(hub_download_file(&path, c, DEMO, "config.json", NULL));
    char want[2048];
    snprintf(want, sizeof(want),
             "%s/models--hubfetch--demo-model/snapshots/" DEMO_MAIN
             "/config.json",
             cache_dir);
    ASSERT_EQ_STR(path, want);
    ASSERT(exists(path));
    hub_free(path);
    size_t before = fakehub_count(&fh, "\"server\"", NULL);
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    o.revision = DEMO_MAIN;
    ASSERT_OK(hub_download_file(&path, c, DEMO, "config.json", &o));
    ASSERT_EQ_STR(path, want);
    hub_free(path);
    ASSERT_EQ_INT(fakehub_count(&fh, "\"server\"", NULL), before);
    stop(c);
}

static void test_snapshot_patterns_and_statuses(void)
{
    start();
    hub_client *c = client_with(NULL, 0);
    const char *allow[] = {"*.json", "onnx/"};
    const char *ignore[] = {"tokenizer*"};
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    o.allow_patterns = allow;
    o.allow_count = 2;
    o.ignore_patterns = ignore;
    o.ignore_count = 1;
    hub_result *r = NULL;
    ASSERT_OK(hub_download(&r, c, DEMO, &o));
    ASSERT_EQ_STR(hub_result_commit(r), DEMO_MAIN);
    /* config.json, generation_config.json, onnx/model.onnx */
    ASSERT_EQ_INT(hub_result_file_count(r), 3);
    for (size_t i = 0; i < hub_result_file_count(r); i++) {
        const hub_file_info *f = hub_result_file(r, i);
        ASSERT_EQ_INT(f->status, HUB_FILE_DOWNLOADED);
        ASSERT(exists(f->local_path));
        ASSERT(strncmp(f->path, "tokenizer", 9) != 0);
        ASSERT_EQ_STR(f->endpoint, fh.url);
    }
    hub_result_free(r);
    /* again by branch: only the revision lookup, the listing is cached */
    size_t before = fakehub_count(&fh, "\"server\"", NULL);
    ASSERT_OK(hub_download(&r, c, DEMO, &o));
    for (size_t i = 0; i < hub_result_file_count(r); i++)
        ASSERT_EQ_INT(hub_result_file(r, i)->status, HUB_FILE_CACHED);
    hub_result_free(r);
    ASSERT_EQ_INT(fakehub_count(&fh, "\"server\"", NULL), before + 1);
    ASSERT_EQ_INT(fakehub_count(&fh, "/revision/main", NULL), 2);
    stop(c);
}

typedef struct events {
    int count;
    int finals;
    int resolve;
    uint64_t last_done;
    bool monotonic;
    int done_files;
    hub_progress last;
    hub_client *reenter; /* call back into this client from the callback */
    int reenter_rc;
    uint64_t cancel_after; /* cancel once this many bytes are done */
} events;

static int on_event(const hub_progress *p, void *payload)
{
    events *e = payload;
    e->count++;
    ASSERT_EQ_INT(p->version, HUB_PROGRESS_VERSION);
    e->finals += p->final;
    if (!p->file && p->phase == HUB_PHASE_RESOLVE)
        e->resolve++;
    if (p->bytes_done < e->last_done)
        e->monotonic = false;
    e->last_done = p->bytes_done;
    if (p->file && p->phase == HUB_PHASE_DONE)
        e->done_files++;
    e->last = *p;
    if (e->reenter) {
        char *path = NULL;
        e->reenter_rc =
            hub_download_file(&path, e->reenter, DEMO, "config.json", NULL);
        hub_free(path);
        e->reenter = NULL;
    }
    return e->cancel_after && p->bytes_done >= e->cancel_after;
}

static void test_progress_events(void)
{
    start();
    hub_client *c = client_with(NULL, 0);
    events ev = {0};
    ev.monotonic = true;
    ev.reenter = c;
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    o.progress_cb = on_event;
    o.progress_payload = &ev;
    char *path = NULL;
    ASSERT_OK(hub_snapshot_download(&path, c, DEMO, &o));
    hub_free(path);
    ASSERT(ev.resolve >= 1);
    ASSERT_EQ_INT(ev.finals, 1);
    ASSERT(ev.last.final);
    ASSERT_EQ_INT(ev.last.phase, HUB_PHASE_DONE);
    ASSERT(ev.monotonic);
    ASSERT_EQ_INT(ev.last.file_count, 10);
    ASSERT_EQ_INT(ev.last.files_done, 10);
    ASSERT_EQ_INT(ev.done_files, 10);
    ASSERT_EQ_INT(ev.last.bytes_done, ev.last.bytes_total);
    ASSERT(ev.last.bytes_total > 32u * 1024 * 1024);
    /* a callback calling back into its own client is refused */
    ASSERT_EQ_INT(ev.reenter_rc, HUB_EBUSY);
    stop(c);
}

static void test_cancel_then_resume(void)
{
    start();
    /* slow the CDN so the cancel lands mid-file */
    fakehub_control(&fh, "{\"faults\": [{\"match\": \"repos/\", \"server\": "
                         "\"cdn\", \"action\": {\"rate\": 20000000}}]}");
    hub_client *c = client_with(NULL, 0);
    events ev = {0};
    ev.cancel_after = 48u * 1024 * 1024;
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    o.progress_cb = on_event;
    o.progress_payload = &ev;
    char *path = NULL;
    const uint64_t size = 256u * 1024 * 1024;
    ASSERT_EQ_INT(
        hub_download_file(&path, c, "hubfetch/big-model", "model.bin", &o),
        HUB_ECANCELLED);
    ASSERT(path == NULL);
    unsigned long long first = fakehub_bytes(&fh, "\"cdn\"", NULL);
    ASSERT(first >= 48u * 1024 * 1024 && first < size);
    /* what was fetched stays, with its journal, for the next run */
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "ls %s/models--hubfetch--big-model/blobs/*.incomplete | wc -l | "
             "grep -qx 2",
             cache_dir);
    ASSERT_EQ_INT(system(cmd), 0);

    fakehub_control(&fh, "{\"reset\": true}");
    ASSERT_OK(
        hub_download_file(&path, c, "hubfetch/big-model", "model.bin", NULL));
    struct stat st;
    ASSERT(stat(path, &st) == 0);
    ASSERT_EQ_INT(st.st_size, (long long)size);
    hub_free(path);
    snprintf(cmd, sizeof(cmd),
             "ls %s/models--hubfetch--big-model/blobs/ | grep -q incomplete",
             cache_dir);
    ASSERT(system(cmd) != 0);
    /* the second run asked only for what was missing: the two runs
     * together fetched the file once, give or take what was in flight */
    unsigned long long both = fakehub_bytes(&fh, "\"cdn\"", NULL);
    ASSERT(both >= size);
    ASSERT(both - size < 8u * 1024 * 1024);
    stop(c);
}

static void expect_error(hub_client *c,
                         const char *repo,
                         const char *file,
                         const char *revision,
                         int code,
                         const char *words)
{
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    o.revision = revision;
    char *path = NULL;
    int rc = file ? hub_download_file(&path, c, repo, file, &o)
                  : hub_snapshot_download(&path, c, repo, &o);
    if (rc != code)
        test_fail(__FILE__, __LINE__, "%s %s: got %s (%s), expected %s", repo,
                  file ? file : "", hub_error_name(rc),
                  hub_error_last()->message, hub_error_name(code));
    ASSERT(path == NULL);
    if (!strstr(hub_error_last()->message, words))
        test_fail(__FILE__, __LINE__, "message '%s' lacks '%s'",
                  hub_error_last()->message, words);
}

static void test_errors_name_the_cause(void)
{
    start();
    hub_client *anon = client_with(NULL, 0);
    expect_error(anon, "hubfetch/nope", "config.json", NULL, HUB_ENOREPO,
                 "pass a token");
    expect_error(anon, "hubfetch/nope", NULL, NULL, HUB_ENOREPO,
                 "model 'hubfetch/nope' not found");
    expect_error(anon, "hubfetch/private-model", "config.json", NULL,
                 HUB_ENOREPO, "private");
    expect_error(anon, "hubfetch/gated-model", "config.json", NULL, HUB_EGATED,
                 "request access");
    ASSERT_EQ_INT(hub_error_last()->http_status, 401);
    expect_error(anon, DEMO, "config.json", "no-such-branch", HUB_ENOREV,
                 "no-such-branch");
    expect_error(anon, DEMO, NULL, "no-such-branch", HUB_ENOREV,
                 "revision 'no-such-branch' not found");
    expect_error(anon, DEMO, "missing.bin", NULL, HUB_ENOENTRY,
                 "file 'missing.bin' not found");
    char marker[2048];
    snprintf(marker, sizeof(marker),
             "%s/models--hubfetch--demo-model/.no_exist/" DEMO_MAIN
             "/missing.bin",
             cache_dir);
    ASSERT(exists(marker));
    expect_error(anon, "bad//id", "x", NULL, HUB_EINVAL, "invalid repo id");
    hub_client_free(anon);

    hub_client *bob = client_with("hf_bob", 0);
    expect_error(bob, "hubfetch/gated-model", "config.json", NULL, HUB_EGATED,
                 "no access");
    ASSERT_EQ_INT(hub_error_last()->http_status, 403);
    expect_error(bob, "hubfetch/nope", "config.json", NULL, HUB_ENOREPO,
                 "token can read it");
    hub_client_free(bob);

    hub_client *bad = client_with("hf_invalid", 0);
    expect_error(bad, DEMO, "config.json", NULL, HUB_EAUTH,
                 "token was rejected");
    hub_client_free(bad);

    hub_client *alice = client_with("hf_alice", 0);
    char *path = NULL;
    ASSERT_OK(
        hub_snapshot_download(&path, alice, "hubfetch/private-model", NULL));
    hub_free(path);
    ASSERT_OK(hub_download_file(&path, alice, "hubfetch/gated-model",
                                "model.safetensors", NULL));
    hub_free(path);
    /* the token went to the hub, never to the CDN */
    ASSERT(fakehub_count(&fh, "\"hub\"", "\"auth\": true", NULL) > 0);
    ASSERT(fakehub_count(&fh, "\"cdn\"", NULL) > 0);
    ASSERT_EQ_INT(fakehub_count(&fh, "\"cdn\"", "\"auth\": true", NULL), 0);
    stop(alice);
}

/* Bad options are refused the same way by every entry point and hub, and
 * never crash: a count without its list, an unknown version. */
static char *slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "rb");
    ASSERT(f != NULL);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void test_whoami(void)
{
    start();
    hub_client *alice = client_with("hf_alice", 0);
    hub_whoami_info *who = NULL;
    ASSERT_OK(hub_whoami(&who, alice));
    ASSERT_EQ_STR(who->name, "alice");
    ASSERT_EQ_STR(who->fullname, "Alice Liddell");
    ASSERT_EQ_STR(who->type, "user");
    ASSERT_EQ_INT(who->org_count, 2);
    ASSERT_EQ_STR(who->orgs[0], "hubfetch");
    ASSERT_EQ_STR(who->orgs[1], "wonderland");
    ASSERT_EQ_STR(who->token_name, "alice-laptop");
    ASSERT_EQ_STR(who->token_role, "read");
    hub_whoami_info_free(who);
    ASSERT_EQ_INT(fakehub_count(&fh, "/api/whoami-v2", "\"auth\": true", NULL),
                  1);
    hub_client_free(alice);

    /* refused by the hub */
    hub_client *nobody = client_with("hf_nobody", 0);
    who = (hub_whoami_info *)1;
    ASSERT_EQ_INT(hub_whoami(&who, nobody), HUB_EAUTH);
    ASSERT(who == NULL);
    ASSERT_EQ_INT(hub_error_last()->http_status, 401);
    ASSERT(strstr(hub_error_last()->message, "token refused") != NULL);
    ASSERT(strstr(hub_error_last()->message, "hf_nobody") == NULL);
    hub_client_free(nobody);

    /* no token: no request */
    size_t before = fakehub_count(&fh, "\"server\"", NULL);
    hub_client *anon = client_with(NULL, 0);
    ASSERT_EQ_INT(hub_whoami(&who, anon), HUB_EAUTH);
    ASSERT_EQ_STR(hub_error_last()->message,
                  "no token: run 'hubfetch auth login' or set HF_TOKEN");
    ASSERT_EQ_INT(fakehub_count(&fh, "\"server\"", NULL), before);
    hub_whoami_info_free(NULL);
    stop(anon);
}

static void test_token_files(void)
{
    char dir[1024], path[1100], stored[1100];
    snprintf(dir, sizeof(dir), "%s/tokdir/sub", test_tmpdir());
    snprintf(path, sizeof(path), "%s/tok", dir);
    snprintf(stored, sizeof(stored), "%s/stored_tokens", dir);
    setenv("HF_TOKEN_PATH", path, 1);
    char *p = NULL;
    ASSERT_OK(hub_token_path(&p));
    ASSERT_EQ_STR(p, path);
    hub_free(p);

    ASSERT_EQ_INT(hub_token_save("", NULL), HUB_EINVAL);
    ASSERT_EQ_INT(hub_token_save("hf_a\x1b", NULL), HUB_EINVAL);
    ASSERT_EQ_INT(hub_token_save("hf_a", "two\nlines"), HUB_EINVAL);
    ASSERT(access(path, F_OK) != 0);

    ASSERT_OK(hub_token_save("  hf_zed\r\n", "zed"));
    ASSERT_EQ_STR(slurp(path), "hf_zed");
    struct stat st;
    ASSERT_EQ_INT(stat(path, &st), 0);
    ASSERT_EQ_INT(st.st_mode & 07777, 0600);
    ASSERT_OK(hub_token_save("hf_amy", "amy"));
    ASSERT_EQ_STR(slurp(path), "hf_amy");
    ASSERT_EQ_STR(slurp(stored), "[amy]\nhf_token = hf_amy\n\n"
                                 "[zed]\nhf_token = hf_zed\n\n");
    ASSERT_EQ_INT(stat(stored, &st), 0);
    ASSERT_EQ_INT(st.st_mode & 07777, 0600);
    ASSERT_OK(hub_token_save("hf_zed2", "zed"));
    ASSERT_EQ_STR(slurp(stored), "[amy]\nhf_token = hf_amy\n\n"
                                 "[zed]\nhf_token = hf_zed2\n\n");
    ASSERT_OK(hub_token_save("hf_only", NULL));
    ASSERT_EQ_STR(slurp(path), "hf_only");

    int removed = -1;
    ASSERT_OK(hub_token_remove(&removed));
    ASSERT_EQ_INT(removed, 1);
    ASSERT(access(path, F_OK) != 0 && access(stored, F_OK) != 0);
    ASSERT_OK(hub_token_remove(&removed));
    ASSERT_EQ_INT(removed, 0);
    unsetenv("HF_TOKEN_PATH");
}

static void test_bad_options_everywhere(void)
{
    start();
    for (int kind = HUB_KIND_HF; kind <= HUB_KIND_MODELSCOPE; kind++) {
        hub_client_options co;
        ASSERT_OK(hub_client_options_init(&co, HUB_CLIENT_OPTIONS_VERSION));
        co.flags = HUB_CLIENT_IGNORE_ENV;
        co.hub = kind;
        co.endpoint = fh.url;
        snprintf(cache_dir, sizeof(cache_dir), "%s/cache", test_tmpdir());
        co.cache_dir = cache_dir;
        co.offline = 1;
        hub_client *c = NULL;
        co.fallback_count = 1; /* and no list */
        ASSERT_EQ_INT(hub_client_new(&c, &co), HUB_EINVAL);
        co.fallback_count = 0;
        ASSERT_OK(hub_client_new(&c, &co));
        char *path = (char *)"garbage";
        ASSERT_EQ_INT(hub_download_file(&path, c, DEMO, NULL, NULL),
                      HUB_EINVAL);
        ASSERT(!path); /* out-parameters are NULL on failure */
        hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
        o.allow_count = 1; /* and no list */
        hub_result *r = NULL;
        hub_job *job = NULL;
        ASSERT_EQ_INT(hub_cache_lookup(&r, c, DEMO, &o), HUB_EINVAL);
        ASSERT_EQ_INT(hub_download(&r, c, DEMO, &o), HUB_EINVAL);
        ASSERT_EQ_INT(hub_job_start(&job, c, DEMO, &o), HUB_EINVAL);
        ASSERT(!r && !job);
        const char *files[] = {"config.json", NULL};
        o = (hub_download_options)HUB_DOWNLOAD_OPTIONS_INIT;
        o.files = files;
        o.file_count = 2;
        ASSERT_EQ_INT(hub_job_start(&job, c, DEMO, &o), HUB_EINVAL);
        o = (hub_download_options)HUB_DOWNLOAD_OPTIONS_INIT;
        o.version = 99;
        ASSERT_EQ_INT(hub_cache_lookup(&r, c, DEMO, &o), HUB_EVERSION);
        o.version = HUB_DOWNLOAD_OPTIONS_VERSION;
        o.repo_type = (hub_repo_type)7;
        ASSERT_EQ_INT(hub_download(&r, c, DEMO, &o), HUB_EINVAL);
        if (kind == HUB_KIND_MODELSCOPE)
            stop(c);
        else
            hub_client_free(c);
    }
}

static hub_client *ms_client(int offline)
{
    hub_client_options co;
    ASSERT_OK(hub_client_options_init(&co, HUB_CLIENT_OPTIONS_VERSION));
    co.flags = HUB_CLIENT_IGNORE_ENV;
    co.hub = HUB_KIND_MODELSCOPE;
    co.endpoint = fh.url;
    snprintf(cache_dir, sizeof(cache_dir), "%s/ms-cache", test_tmpdir());
    co.cache_dir = cache_dir;
    co.offline = offline;
    hub_client *c = NULL;
    ASSERT_OK(hub_client_new(&c, &co));
    return c;
}

/* ModelScope answers from its index: a file both named and matched by a
 * pattern is listed once; a missing file is named in the message. */
static void test_modelscope_cache_answers(void)
{
    const char *src = getenv("HUB_SOURCE_DIR");
    if (!src)
        test_skip("HUB_SOURCE_DIR is not set");
    char extra[1200];
    snprintf(extra, sizeof(extra), "--ms-fixtures=%s/tests/fixtures/modelscope",
             src);
    ASSERT_OK(hub_global_init());
    fakehub_start(&fh, extra);
    hub_client *on = ms_client(0);
    char *path = NULL;
    ASSERT_OK(hub_snapshot_download(&path, on, "hubfetch/ms-demo", NULL));
    hub_free(path);
    hub_client_free(on);

    hub_client *off = ms_client(1);
    const char *files[] = {"config.json"};
    const char *allow[] = {"*.json"};
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    o.files = files;
    o.file_count = 1;
    o.allow_patterns = allow;
    o.allow_count = 1;
    hub_result *r = NULL;
    ASSERT_OK(hub_cache_lookup(&r, off, "hubfetch/ms-demo", &o));
    size_t seen = 0;
    for (size_t i = 0; i < hub_result_file_count(r); i++)
        seen += strcmp(hub_result_file(r, i)->path, "config.json") == 0;
    ASSERT_EQ_INT(seen, 1);
    hub_result_free(r);
    ASSERT_EQ_INT(
        hub_download_file(&path, off, "hubfetch/ms-demo", "nope.json", NULL),
        HUB_ENOTCACHED);
    ASSERT(strstr(hub_error_last()->message, "'nope.json'"));
    stop(off);
}

static void test_offline_and_lookup(void)
{
    start();
    hub_client *off = client_with(NULL, 1);
    char *path = NULL;
    expect_error(off, DEMO, "config.json", NULL, HUB_ENOTCACHED,
                 "not in the cache");
    expect_error(off, DEMO, NULL, NULL, HUB_ENOTCACHED, "HF_HUB_OFFLINE");
    ASSERT_EQ_INT(fakehub_count(&fh, "\"server\"", NULL), 0);

    hub_client *on = client_with(NULL, 0);
    const char *allow[] = {"*.json"};
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    o.allow_patterns = allow;
    o.allow_count = 1;
    ASSERT_OK(hub_snapshot_download(&path, on, DEMO, &o));
    hub_free(path);
    size_t requests = fakehub_count(&fh, "\"server\"", NULL);

    /* everything asked for is here */
    hub_result *r = NULL;
    ASSERT_OK(hub_cache_lookup(&r, off, DEMO, &o));
    ASSERT_EQ_INT(hub_result_file_count(r), 4);
    hub_result_free(r);
    const char *files[] = {"config.json", "tokenizer.json"};
    hub_download_options f = HUB_DOWNLOAD_OPTIONS_INIT;
    f.files = files;
    f.file_count = 2;
    ASSERT_OK(hub_cache_lookup(&r, off, DEMO, &f));
    hub_result_free(r);
    /* something is missing: said, and listed */
    const char *more[] = {"config.json", "model.safetensors"};
    f.files = more;
    ASSERT_EQ_INT(hub_cache_lookup(&r, off, DEMO, &f), HUB_ENOTCACHED);
    ASSERT(strstr(hub_error_last()->message, "model.safetensors"));
    ASSERT(r);
    ASSERT_EQ_INT(hub_result_file(r, 0)->status, HUB_FILE_CACHED);
    ASSERT_EQ_INT(hub_result_file(r, 1)->status, HUB_FILE_MISSING);
    hub_result_free(r);
    /* with the recorded listing, a whole-snapshot request knows it is
     * incomplete */
    ASSERT_EQ_INT(hub_cache_lookup(&r, off, DEMO, NULL), HUB_ENOTCACHED);
    hub_result_free(r);
    expect_error(off, DEMO, NULL, NULL, HUB_ENOTCACHED, "are not in the cache");
    ASSERT_OK(hub_snapshot_download(&path, off, DEMO, &o));
    hub_free(path);
    ASSERT_EQ_INT(fakehub_count(&fh, "\"server\"", NULL), requests);

    /* the client remembers the parsed listing between lookups, but never
     * past a change of the file: a listing that grew is seen at once */
    ASSERT_OK(hub_snapshot_download(&path, on, DEMO, NULL));
    hub_free(path);
    ASSERT_OK(hub_cache_lookup(&r, off, DEMO, NULL));
    hub_result_free(r);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "python3 -c 'import glob, json, os, sys\n"
             "p = glob.glob(sys.argv[1] + \"/models--*/trees/*.json\")[0]\n"
             "t = json.load(open(p))\n"
             "t[\"files\"][\"zz-extra.txt\"] = {\"size\": 1, "
             "\"blob_id\": 40 * \"a\"}\n"
             "json.dump(t, open(p + \".new\", \"w\"), indent=1)\n"
             "os.replace(p + \".new\", p)' '%s'",
             cache_dir);
    ASSERT_EQ_INT(system(cmd), 0);
    ASSERT_EQ_INT(hub_cache_lookup(&r, off, DEMO, NULL), HUB_ENOTCACHED);
    ASSERT(strstr(hub_error_last()->message, "zz-extra.txt"));
    hub_result_free(r);
    hub_client_free(on);
    stop(off);
}

static void test_prefer_offline(void)
{
    start();
    hub_client *c = client_with(NULL, 0);
    char *path = NULL;
    const char *allow[] = {"*.json"};
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    o.allow_patterns = allow;
    o.allow_count = 1;
    o.prefer_offline = 1;
    ASSERT_OK(hub_snapshot_download(&path, c, DEMO, &o)); /* nothing cached */
    hub_free(path);
    size_t requests = fakehub_count(&fh, "\"server\"", NULL);
    ASSERT(requests > 0);

    /* all there: no request at all, not even for the branch */
    hub_result *r = NULL;
    ASSERT_OK(hub_download(&r, c, DEMO, &o));
    ASSERT_EQ_STR(hub_result_commit(r), DEMO_MAIN);
    ASSERT_EQ_INT(hub_result_file_count(r), 4);
    for (size_t i = 0; i < 4; i++)
        ASSERT_EQ_INT(hub_result_file(r, i)->status, HUB_FILE_CACHED);
    hub_result_free(r);
    ASSERT_OK(hub_download_file(&path, c, DEMO, "config.json", &o));
    hub_free(path);
    ASSERT_EQ_INT(fakehub_count(&fh, "\"server\"", NULL), requests);

    /* something missing: downloaded as usual */
    ASSERT_OK(hub_download_file(&path, c, DEMO, "onnx/model.onnx", &o));
    hub_free(path);
    ASSERT(fakehub_count(&fh, "\"server\"", NULL) > requests);
    o.allow_count = 0;
    ASSERT_OK(hub_download(&r, c, DEMO, &o)); /* whole snapshot: incomplete */
    hub_result_free(r);
    ASSERT_EQ_INT(fakehub_count(&fh, "/revision/main", NULL), 2);
    requests = fakehub_count(&fh, "\"server\"", NULL);
    ASSERT_OK(hub_download(&r, c, DEMO, &o)); /* now complete */
    hub_result_free(r);
    ASSERT_EQ_INT(fakehub_count(&fh, "\"server\"", NULL), requests);

    /* without the recorded listing a folder cannot vouch for a snapshot */
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "rm -r '%s'/models--hubfetch--demo-model/trees",
             cache_dir);
    ASSERT_EQ_INT(system(cmd), 0);
    ASSERT_OK(hub_download(&r, c, DEMO, &o));
    hub_result_free(r);
    ASSERT(fakehub_count(&fh, "\"server\"", NULL) > requests);
    /* force_download wins */
    requests = fakehub_count(&fh, "\"server\"", NULL);
    o.force_download = 1;
    ASSERT_OK(hub_download_file(&path, c, DEMO, "config.json", &o));
    hub_free(path);
    ASSERT(fakehub_count(&fh, "\"server\"", NULL) > requests);
    o.force_download = 0;

    /* a local dir: a file there answers only for the commit it came from */
    char local[1024];
    snprintf(local, sizeof(local), "%s/local", test_tmpdir());
    o.local_dir = local;
    o.revision = "v1.0";
    ASSERT_OK(hub_download_file(&path, c, DEMO, "config.json", &o));
    hub_free(path);
    requests = fakehub_count(&fh, "\"server\"", NULL);
    o.revision = DEMO_V1; /* the same commit, named: no request */
    ASSERT_OK(hub_download(
        &r, c, DEMO,
        &(hub_download_options){.version = HUB_DOWNLOAD_OPTIONS_VERSION,
                                .revision = DEMO_V1,
                                .files = (const char *[]){"config.json"},
                                .file_count = 1,
                                .local_dir = local,
                                .prefer_offline = 1}));
    ASSERT_EQ_STR(hub_result_commit(r), DEMO_V1);
    hub_result_free(r);
    ASSERT_EQ_INT(fakehub_count(&fh, "\"server\"", NULL), requests);
    o.revision = NULL; /* main: another commit, so the hub is asked */
    ASSERT_OK(hub_download_file(&path, c, DEMO, "config.json", &o));
    ASSERT(fakehub_count(&fh, "\"server\"", NULL) > requests);
    char want[2048];
    snprintf(want, sizeof(want), "%s/config.json", local);
    ASSERT_EQ_STR(path, want);
    hub_free(path);
    /* main's copy now, says its metadata */
    snprintf(want, sizeof(want),
             "%s/.cache/huggingface/download/config.json.metadata", local);
    FILE *mf = fopen(want, "r");
    ASSERT(mf);
    char first[64] = "";
    ASSERT(fgets(first, sizeof(first), mf));
    fclose(mf);
    ASSERT_EQ_INT(strncmp(first, DEMO_MAIN, 40), 0);
    stop(c);
}

/* A program built against the version-1 header passes a shorter struct:
 * the library must neither read nor write past it. */
static void test_version_1_callers(void)
{
    start();
    hub_client *c = client_with(NULL, 0);
    size_t v1 = offsetof(hub_download_options, prefer_offline);
    unsigned char *mem = malloc(sizeof(hub_download_options));
    ASSERT(mem);
    memset(mem, 0xAB, sizeof(hub_download_options));
    hub_download_options *o = (hub_download_options *)(void *)mem;
    ASSERT_OK(hub_download_options_init(o, 1));
    for (size_t i = v1; i < sizeof(hub_download_options); i++)
        ASSERT_EQ_INT(mem[i], 0xAB); /* init wrote only version 1's fields */
    ASSERT_EQ_INT(o->version, 1);
    ASSERT_EQ_INT(o->repo_type, HUB_REPO_MODEL);
    /* what lies past it (0xAB..., a nonzero prefer_offline) is not read:
     * the second call still asks the hub for the branch */
    char *path = NULL;
    ASSERT_OK(hub_download_file(&path, c, DEMO, "config.json", o));
    hub_free(path);
    size_t requests = fakehub_count(&fh, "\"server\"", NULL);
    ASSERT_OK(hub_download_file(&path, c, DEMO, "config.json", o));
    hub_free(path);
    ASSERT(fakehub_count(&fh, "\"server\"", NULL) > requests);
    hub_job *job = NULL;
    hub_result *r = NULL;
    ASSERT_OK(hub_job_start(&job, c, DEMO, o));
    ASSERT_OK(hub_job_wait(job, -1, &r));
    hub_result_free(r);
    hub_job_free(job);
    ASSERT_OK(hub_cache_lookup(&r, c, DEMO, o));
    hub_result_free(r);
    free(mem);
    /* a version this library does not know is refused, not guessed at */
    hub_download_options future = HUB_DOWNLOAD_OPTIONS_INIT;
    future.version = HUB_DOWNLOAD_OPTIONS_VERSION + 1;
    ASSERT_EQ_INT(hub_download_file(&path, c, DEMO, "config.json", &future),
                  HUB_EVERSION);
    stop(c);
}

static void test_corrupt_bytes_never_committed(void)
{
    start();
    hub_client *c = client_with(NULL, 0);
    fakehub_control(&fh, "{\"faults\": [{\"match\": \"repos/\", \"server\": "
                         "\"cdn\", \"action\": {\"corrupt\": true}}]}");
    char *path = NULL;
    ASSERT_EQ_INT(hub_download_file(&path, c, DEMO, "onnx/model.onnx", NULL),
                  HUB_ECHECKSUM);
    ASSERT(strstr(hub_error_last()->message, "checksum mismatch"));
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "test -z \"$(ls %s/models--hubfetch--demo-model/blobs/)\"",
             cache_dir);
    ASSERT_EQ_INT(system(cmd), 0);
    /* once the CDN is healthy again the file arrives, verified */
    fakehub_control(&fh, "{\"reset\": true}");
    ASSERT_OK(hub_download_file(&path, c, DEMO, "onnx/model.onnx", NULL));
    hub_free(path);
    stop(c);
}

static void test_local_dir(void)
{
    start();
    hub_client *c = client_with(NULL, 0);
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/out", test_tmpdir());
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    o.local_dir = dir;
    o.revision = "v1.0";
    char *path = NULL;
    ASSERT_OK(hub_snapshot_download(&path, c, DEMO, &o));
    ASSERT_EQ_STR(path, dir);
    hub_free(path);
    char f[2048];
    snprintf(f, sizeof(f), "%s/model.safetensors", dir);
    struct stat st;
    ASSERT(lstat(f, &st) == 0 && S_ISREG(st.st_mode));
    snprintf(f, sizeof(f),
             "%s/.cache/huggingface/download/model.safetensors.metadata", dir);
    ASSERT(exists(f));
    size_t before = fakehub_count(&fh, "\"server\"", NULL);
    hub_result *r = NULL;
    ASSERT_OK(hub_download(&r, c, DEMO, &o));
    for (size_t i = 0; i < hub_result_file_count(r); i++)
        ASSERT_EQ_INT(hub_result_file(r, i)->status, HUB_FILE_CACHED);
    hub_result_free(r);
    /* only metadata requests the second time */
    ASSERT(fakehub_count(&fh, "\"server\"", NULL) <= before + 2);
    stop(c);
}

static void test_job_polls_cancels_and_waits(void)
{
    start();
    hub_client *c = client_with(NULL, 0);
    fakehub_control(&fh, "{\"faults\": [{\"match\": \"repos/\", \"server\": "
                         "\"cdn\", \"action\": {\"rate\": 30000000}}]}");
    hub_job *job = NULL;
    ASSERT_OK(hub_job_start(&job, c, DEMO, NULL));
    /* the client is the job's meanwhile */
    char *path = NULL;
    ASSERT_EQ_INT(hub_download_file(&path, c, DEMO, "config.json", NULL),
                  HUB_EBUSY);
    ASSERT_EQ_INT(hub_job_wait(job, 10, NULL), HUB_ETIMEOUT);
    hub_progress p;
    uint64_t seen = 0;
    while (!hub_job_done(job)) {
        hub_job_poll(job, &p);
        ASSERT_EQ_INT(p.version, HUB_PROGRESS_VERSION);
        ASSERT(p.bytes_done >= seen);
        seen = p.bytes_done;
        usleep(20 * 1000);
    }
    hub_result *r = NULL;
    ASSERT_OK(hub_job_wait(job, -1, &r));
    ASSERT(r && hub_result_file_count(r) == 10);
    hub_result_free(r);
    hub_job_poll(job, &p);
    ASSERT(p.final);
    ASSERT_EQ_INT(p.bytes_done, p.bytes_total);
    hub_job_free(job);

    /* cancel: a resumable partial, a consistent cache, ECANCELLED */
    ASSERT_OK(hub_job_start(&job, c, "hubfetch/big-model", NULL));
    do {
        usleep(20 * 1000);
        hub_job_poll(job, &p);
    } while (p.bytes_done < 16u * 1024 * 1024);
    hub_job_cancel(job);
    ASSERT_EQ_INT(hub_job_wait(job, 5000, &r), HUB_ECANCELLED);
    ASSERT(r == NULL);
    ASSERT_EQ_INT(hub_error_last()->code, HUB_ECANCELLED);
    hub_job_free(job);
    /* the client is free again, and the download resumes */
    fakehub_control(&fh, "{\"reset\": true}");
    ASSERT_OK(
        hub_download_file(&path, c, "hubfetch/big-model", "model.bin", NULL));
    hub_free(path);
    stop(c);
}

/* ---- cancellation reaches every wait (security audit F5) ---------------- */

#define WAIT_250S                                                              \
    "{\"faults\": [{\"match\": \"resolve/main/config.json\", \"server\": "     \
    "\"hub\", \"action\": {\"status\": 429, \"headers\": "                     \
    "{\"Retry-After\": \"250\"}}}]}"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *cancel_later(void *arg)
{
    usleep(700 * 1000);
    hub_client_cancel(arg);
    return NULL;
}

static void test_client_cancel_stops_a_server_asked_wait(void)
{
    start();
    hub_client *c = client_with(NULL, 0);
    fakehub_control(&fh, WAIT_250S);
    pthread_t t;
    ASSERT(pthread_create(&t, NULL, cancel_later, c) == 0);
    double t0 = now_s();
    char *path = NULL;
    ASSERT_EQ_INT(hub_download_file(&path, c, DEMO, "config.json", NULL),
                  HUB_ECANCELLED);
    ASSERT(now_s() - t0 < 3.0);
    ASSERT(path == NULL);
    pthread_join(t, NULL);
    /* the request ended with that call: the next one runs */
    fakehub_control(&fh, "{\"reset\": true}");
    ASSERT_OK(hub_download_file(&path, c, DEMO, "config.json", NULL));
    hub_free(path);
    /* a cancel while nothing runs has no effect */
    hub_client_cancel(c);
    hub_client_cancel(NULL);
    ASSERT_OK(hub_download_file(&path, c, DEMO, "tokenizer.json", NULL));
    hub_free(path);
    stop(c);
}

static int cancel_on_second_heartbeat(const hub_progress *p, void *payload)
{
    int *heartbeats = payload;
    if (!p->file && !p->final)
        (*heartbeats)++;
    return *heartbeats >= 3;
}

static void test_progress_callback_cancels_during_a_wait(void)
{
    start();
    hub_client *c = client_with(NULL, 0);
    fakehub_control(&fh, WAIT_250S);
    int heartbeats = 0;
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    o.progress_cb = cancel_on_second_heartbeat;
    o.progress_payload = &heartbeats;
    double t0 = now_s();
    char *path = NULL;
    ASSERT_EQ_INT(hub_download_file(&path, c, DEMO, "config.json", &o),
                  HUB_ECANCELLED);
    ASSERT(now_s() - t0 < 5.0);
    ASSERT(heartbeats >= 3);
    stop(c);
}

static void test_job_and_client_cancel_stop_a_waiting_job(void)
{
    start();
    hub_client *c = client_with(NULL, 0);
    fakehub_control(&fh, WAIT_250S);
    const char *files[] = {"config.json"};
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    o.files = files;
    o.file_count = 1;
    for (int how = 0; how < 2; how++) {
        hub_job *job = NULL;
        ASSERT_OK(hub_job_start(&job, c, DEMO, &o));
        usleep(700 * 1000);
        ASSERT(!hub_job_done(job));
        double t0 = now_s();
        if (how == 0)
            hub_job_cancel(job);
        else
            hub_client_cancel(c);
        ASSERT_EQ_INT(hub_job_wait(job, 2000, NULL), HUB_ECANCELLED);
        ASSERT(now_s() - t0 < 2.0);
        hub_job_free(job);
    }
    stop(c);
}

/* hub_cache_scan() over what the downloads wrote: two revisions sharing
 * blobs count them once in the repository and in the totals. */
static void test_cache_scan(void)
{
    start();
    hub_client *c = client_with(NULL, 0);
    hub_cache_info *info = (hub_cache_info *)1;
    ASSERT_EQ_INT(hub_cache_scan(&info, c, NULL), HUB_ENOTCACHED);
    ASSERT(info == NULL);
    ASSERT(strstr(hub_error_last()->message, "cache directory not found"));
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    char *path = NULL;
    ASSERT_OK(hub_snapshot_download(&path, c, DEMO, NULL));
    hub_free(path);
    o.revision = "v1.0";
    ASSERT_OK(hub_snapshot_download(&path, c, DEMO, &o));
    hub_free(path);
    hub_cache_scan_options so = HUB_CACHE_SCAN_OPTIONS_INIT;
    so.version = 99;
    ASSERT_EQ_INT(hub_cache_scan(&info, c, &so), HUB_EVERSION);
    ASSERT_EQ_INT(hub_cache_scan(NULL, c, NULL), HUB_EINVAL);
    ASSERT_EQ_INT(hub_cache_scan(&info, NULL, NULL), HUB_EINVAL);
    so.version = HUB_CACHE_SCAN_OPTIONS_VERSION;
    ASSERT_OK(hub_cache_scan(&info, c, &so));
    ASSERT_EQ_STR(hub_cache_info_dir(info), cache_dir);
    ASSERT_EQ_INT(hub_cache_info_repo_count(info), 1);
    ASSERT_EQ_INT(hub_cache_info_warning_count(info), 0);
    ASSERT(hub_cache_info_warning(info, 0) == NULL);
    ASSERT(hub_cache_info_repo(info, 1) == NULL);
    const hub_cache_repo *r = hub_cache_info_repo(info, 0);
    ASSERT_EQ_INT(r->type, HUB_REPO_MODEL);
    ASSERT_EQ_STR(r->repo_id, DEMO);
    char want[2048];
    snprintf(want, sizeof(want), "%s/models--hubfetch--demo-model", cache_dir);
    ASSERT_EQ_STR(r->repo_path, want);
    ASSERT_EQ_INT(r->warning_count, 0);
    ASSERT_EQ_INT(r->revision_count, 2);
    ASSERT_EQ_INT(r->ref_count, 2);
    ASSERT_EQ_STR(r->refs[0], "main");
    ASSERT_EQ_STR(r->refs[1], "v1.0");
    const hub_cache_revision *a = r->revisions[0], *b = r->revisions[1];
    ASSERT_EQ_STR(a->commit_hash, DEMO_MAIN);
    ASSERT_EQ_STR(b->commit_hash, DEMO_V1);
    ASSERT_EQ_INT(a->ref_count, 1);
    ASSERT_EQ_STR(a->refs[0], "main");
    ASSERT_EQ_STR(b->refs[0], "v1.0");
    snprintf(want, sizeof(want),
             "%s/models--hubfetch--demo-model/snapshots/" DEMO_MAIN, cache_dir);
    ASSERT_EQ_STR(a->snapshot_path, want);
    ASSERT(a->nb_files > 0 && b->nb_files > 0);
    ASSERT(a->size_on_disk > 0 && b->size_on_disk > 0);
    /* shared blobs: the repository is smaller than its revisions' sum */
    ASSERT(r->size_on_disk < a->size_on_disk + b->size_on_disk);
    ASSERT(r->nb_files < a->nb_files + b->nb_files);
    ASSERT_EQ_INT(hub_cache_info_size_on_disk(info), r->size_on_disk);
    ASSERT_EQ_INT(hub_cache_info_revisions_size(info, r->revisions, 2),
                  r->size_on_disk);
    ASSERT_EQ_INT(hub_cache_info_revisions_size(info, &r->revisions[1], 1),
                  b->size_on_disk);
    ASSERT_EQ_INT(hub_cache_info_revisions_size(info, NULL, 0), 0);
    ASSERT(r->last_modified >= a->last_modified);
    ASSERT(r->last_accessed > 0);
    hub_cache_info_free(info);
    hub_cache_info_free(NULL);
    ASSERT_EQ_INT(hub_cache_info_repo_count(NULL), 0);
    hub_client_options mo;
    ASSERT_OK(hub_client_options_init(&mo, HUB_CLIENT_OPTIONS_VERSION));
    mo.flags = HUB_CLIENT_IGNORE_ENV;
    mo.hub = HUB_KIND_MODELSCOPE;
    mo.cache_dir = cache_dir;
    hub_client *ms = NULL;
    ASSERT_OK(hub_client_new(&ms, &mo));
    /* the Hugging Face layout is no ModelScope repository */
    ASSERT_OK(hub_cache_scan(&info, ms, NULL));
    ASSERT_EQ_INT(hub_cache_info_repo_count(info), 0);
    hub_cache_info_free(info);
    hub_client_free(ms);
    stop(c);
}

/* Files of a scan, and a plan to delete one revision: its ref, its
 * snapshot, then exactly the blobs the other revision does not use. */
static void test_cache_plan_delete(void)
{
    start();
    hub_client *c = client_with(NULL, 0);
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    char *path = NULL;
    ASSERT_OK(hub_snapshot_download(&path, c, DEMO, NULL));
    hub_free(path);
    o.revision = "v1.0";
    ASSERT_OK(hub_snapshot_download(&path, c, DEMO, &o));
    hub_free(path);
    hub_cache_info *info = NULL;
    hub_cache_plan *plan = NULL;
    hub_cache_scan_options so = HUB_CACHE_SCAN_OPTIONS_INIT;
    so.flags = HUB_CACHE_SCAN_NO_FILES;
    ASSERT_OK(hub_cache_scan(&info, c, &so));
    ASSERT_EQ_INT(hub_cache_info_repo(info, 0)->revisions[0]->file_count, 0);
    const char *t1[] = {DEMO "@v1.0"};
    ASSERT_EQ_INT(hub_cache_plan_delete(&plan, info, t1, 1), HUB_EINVAL);
    ASSERT(plan == NULL);
    hub_cache_info_free(info);
    ASSERT_OK(hub_cache_scan(&info, c, NULL));
    const hub_cache_repo *r = hub_cache_info_repo(info, 0);
    const hub_cache_revision *v1 = r->revisions[1];
    ASSERT_EQ_STR(v1->commit_hash, DEMO_V1);
    ASSERT(v1->file_count == v1->nb_files && v1->file_count > 0);
    uint64_t own = 0; /* bytes of blobs main does not use */
    for (size_t i = 0; i < v1->file_count; i++) {
        const hub_cache_file *f = v1->files[i];
        ASSERT(i == 0 || strcmp(v1->files[i - 1]->file_name, f->file_name) < 0);
        ASSERT(f->blob_name && strstr(f->blob_path, f->blob_name));
        ASSERT(strncmp(f->file_path, v1->snapshot_path,
                       strlen(v1->snapshot_path)) == 0);
        bool shared = false;
        const hub_cache_revision *m = r->revisions[0];
        for (size_t k = 0; k < m->file_count; k++)
            shared =
                shared || strcmp(m->files[k]->blob_name, f->blob_name) == 0;
        bool dup = false;
        for (size_t k = 0; k < i; k++)
            dup = dup || strcmp(v1->files[k]->blob_name, f->blob_name) == 0;
        if (!shared && !dup)
            own += f->size_on_disk;
    }
    ASSERT(v1->last_accessed > 0);
    const char *bad[] = {"x@"};
    ASSERT_EQ_INT(hub_cache_plan_delete(&plan, info, bad, 1), HUB_EINVAL);
    const char *t2[] = {"model:" DEMO "@v1.0", "no/such"};
    ASSERT_OK(hub_cache_plan_delete(&plan, info, t2, 2));
    ASSERT_EQ_INT(hub_cache_plan_unmatched_count(plan), 1);
    ASSERT_EQ_STR(hub_cache_plan_unmatched(plan, 0), "no/such");
    ASSERT_EQ_INT(hub_cache_plan_bytes(plan), own);
    size_t n = hub_cache_plan_op_count(plan);
    ASSERT(n >= 2);
    ASSERT_EQ_INT(hub_cache_plan_op(plan, 0)->kind, HUB_CACHE_OP_REF);
    ASSERT_EQ_STR(hub_cache_plan_op(plan, 0)->name, "v1.0");
    ASSERT_EQ_INT(hub_cache_plan_op(plan, 1)->kind, HUB_CACHE_OP_SNAPSHOT);
    ASSERT(hub_cache_plan_op(plan, 1)->revision == v1);
    /* then blobs, then the listing cache of the commit (trees/) */
    for (size_t i = 2; i < n; i++) {
        hub_cache_op_kind k = hub_cache_plan_op(plan, i)->kind;
        ASSERT(k == HUB_CACHE_OP_BLOB ||
               (k == HUB_CACHE_OP_TREE && i == n - 1));
    }
    ASSERT(hub_cache_plan_op(plan, n) == NULL);
    ASSERT_OK(hub_cache_execute(plan, c));
    ASSERT_EQ_INT(hub_cache_execute(plan, c), HUB_EINVAL);
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ_INT(hub_cache_plan_op(plan, i)->state, HUB_CACHE_OP_DONE);
    ASSERT_EQ_INT(hub_cache_plan_freed(plan), own);
    hub_cache_plan_free(plan);
    hub_cache_info_free(info);
    ASSERT_OK(hub_cache_scan(&info, c, NULL));
    r = hub_cache_info_repo(info, 0);
    ASSERT_EQ_INT(r->revision_count, 1);
    ASSERT_EQ_INT(r->warning_count, 0);
    /* prune: nothing is detached, nothing to do */
    hub_cache_prune_options po = HUB_CACHE_PRUNE_OPTIONS_INIT;
    ASSERT_OK(hub_cache_plan_prune(&plan, info, &po));
    ASSERT_EQ_INT(hub_cache_plan_op_count(plan), 0);
    hub_cache_plan_free(plan);
    po.version = 7;
    ASSERT_EQ_INT(hub_cache_plan_prune(&plan, info, &po), HUB_EVERSION);
    hub_cache_info_free(info);
    hub_cache_plan_free(NULL);
    stop(c);
}

typedef struct verify_events {
    size_t calls, finals, file_events;
    int after_final; /* an event came after the final one */
    int other_thread;
    pthread_t caller;
    hub_progress last;
    int cancel;
} verify_events;

static int on_verify_progress(const hub_progress *p, void *payload)
{
    verify_events *e = payload;
    e->calls++;
    if (e->finals)
        e->after_final = 1;
    e->finals += p->final != 0;
    e->file_events += p->file != NULL;
    if (!pthread_equal(pthread_self(), e->caller))
        e->other_thread = 1;
    e->last = *p;
    e->last.file = NULL;
    return e->cancel;
}

/* hub_cache_verify(): a sound cache, the progress callback (calling thread
 * only, one final event), a corrupt blob shared by two revisions named in
 * both, a cancel from the callback, bad options. */
static void test_cache_verify(void)
{
    start();
    hub_client *c = client_with(NULL, 0);
    hub_cache_verify_result *res = (hub_cache_verify_result *)1;
    ASSERT_EQ_INT(hub_cache_verify(&res, c, NULL), HUB_ENOTCACHED);
    ASSERT(res == NULL);
    char *path = NULL;
    ASSERT_OK(hub_snapshot_download(&path, c, DEMO, NULL));
    hub_free(path);
    hub_download_options o = HUB_DOWNLOAD_OPTIONS_INIT;
    o.revision = "v1.0";
    ASSERT_OK(hub_snapshot_download(&path, c, DEMO, &o));
    hub_free(path);

    hub_cache_verify_options vo;
    ASSERT_OK(
        hub_cache_verify_options_init(&vo, HUB_CACHE_VERIFY_OPTIONS_VERSION));
    ASSERT_EQ_INT(hub_cache_verify_options_init(&vo, 99), HUB_EVERSION);
    verify_events ev;
    memset(&ev, 0, sizeof(ev));
    ev.caller = pthread_self();
    vo.progress_cb = on_verify_progress;
    vo.progress_payload = &ev;
    vo.threads = 2;
    ASSERT_OK(hub_cache_verify(&res, c, &vo));
    const hub_cache_verify_summary *s = hub_cache_verify_result_summary(res);
    ASSERT_EQ_INT(s->repos, 1);
    ASSERT_EQ_INT(s->revisions, 2);
    ASSERT(s->blobs > 0 && s->blobs < s->files);
    ASSERT_EQ_INT(s->failed_files, 0);
    ASSERT_EQ_INT(s->unverifiable, 0);
    ASSERT_EQ_INT(s->threads, 2);
    ASSERT_EQ_INT(hub_cache_verify_result_count(res), 0);
    ASSERT(hub_cache_verify_result_item(res, 0) == NULL);
    ASSERT_EQ_INT(ev.finals, 1);
    ASSERT(!ev.after_final);
    ASSERT(!ev.other_thread);
    ASSERT_EQ_INT(ev.last.file_count, s->blobs);
    ASSERT_EQ_INT(ev.last.files_done, s->blobs);
    ASSERT_EQ_INT(ev.last.bytes_done, s->bytes);
    ASSERT_EQ_INT(ev.last.bytes_total, s->bytes);
    hub_cache_verify_result_free(res);
    hub_cache_verify_result_free(NULL);

    /* one corrupt blob, used by both revisions */
    char link[2048], blob[4096];
    snprintf(link, sizeof(link),
             "%s/models--hubfetch--demo-model/snapshots/" DEMO_MAIN
             "/model.safetensors",
             cache_dir);
    ASSERT(realpath(link, blob) != NULL);
    FILE *fp = fopen(blob, "r+b");
    ASSERT(fp != NULL);
    fseek(fp, 4096, SEEK_SET);
    int byte = fgetc(fp);
    fseek(fp, 4096, SEEK_SET);
    fputc(byte ^ 1, fp);
    fclose(fp);
    memset(&ev, 0, sizeof(ev));
    ev.caller = pthread_self();
    const char *targets[] = {DEMO};
    vo.targets = targets;
    vo.target_count = 1;
    vo.threads = 0;
    ASSERT_EQ_INT(hub_cache_verify(&res, c, &vo), HUB_ECHECKSUM);
    ASSERT(res != NULL);
    ASSERT(strstr(hub_error_last()->message, "verification failed"));
    ASSERT_EQ_INT(hub_cache_verify_result_summary(res)->failed_files, 2);
    ASSERT_EQ_INT(hub_cache_verify_result_count(res), 2);
    const char *base = strrchr(blob, '/') + 1;
    for (size_t i = 0; i < 2; i++) {
        const hub_cache_verify_item *it = hub_cache_verify_result_item(res, i);
        ASSERT_EQ_INT(it->status, HUB_VERIFY_MISMATCH);
        ASSERT(hub_cache_verify_item_failed(res, it));
        ASSERT_EQ_STR(it->repo_id, DEMO);
        ASSERT_EQ_STR(it->commit, i == 0 ? DEMO_MAIN : DEMO_V1);
        ASSERT_EQ_STR(it->file, "model.safetensors");
        ASSERT_EQ_STR(it->algorithm, "sha256");
        ASSERT_EQ_STR(it->expected, base);
        ASSERT(strcmp(it->actual, base) != 0);
        ASSERT_EQ_STR(it->path, blob);
    }
    hub_cache_verify_result_free(res);

    /* the callback cancels */
    memset(&ev, 0, sizeof(ev));
    ev.caller = pthread_self();
    ev.cancel = 1;
    ASSERT_EQ_INT(hub_cache_verify(&res, c, &vo), HUB_ECANCELLED);
    ASSERT(res == NULL);

    /* bad arguments */
    const char *bad[] = {DEMO "@"};
    vo.targets = bad;
    ASSERT_EQ_INT(hub_cache_verify(&res, c, &vo), HUB_EINVAL);
    vo.targets = targets;
    vo.threads = -1;
    ASSERT_EQ_INT(hub_cache_verify(&res, c, &vo), HUB_EINVAL);
    vo.threads = 0;
    vo.version = 99;
    ASSERT_EQ_INT(hub_cache_verify(&res, c, &vo), HUB_EVERSION);
    ASSERT_EQ_INT(hub_cache_verify(NULL, c, NULL), HUB_EINVAL);
    ASSERT_EQ_INT(hub_cache_verify(&res, NULL, NULL), HUB_EINVAL);
    stop(c);
}

/* hub_list: every entry of a paged listing (10 a page), in order, once;
 * hub_stat: a file, a folder, a missing path (paths-info's 200 []). */
static void test_list_and_stat(void)
{
    ASSERT_OK(hub_global_init());
    fakehub_start(&fh, "--page-size=10");
    hub_client *c = client_with(NULL, 0);
    hub_list_options lo;
    ASSERT_OK(hub_list_options_init(&lo, HUB_LIST_OPTIONS_VERSION));
    lo.recursive = 1;
    hub_list *it = NULL;
    ASSERT_OK(hub_list_open(&it, c, "hubfetch/paged", NULL, &lo));
    ASSERT_EQ_INT(fakehub_count(&fh, "/tree/main", NULL), 1);
    const hub_entry *e = NULL;
    size_t files = 0, dirs = 0, n = 0;
    char prev[256] = "";
    int rc;
    while ((rc = hub_list_next(it, &e)) == HUB_OK) {
        ASSERT(strcmp(prev, e->path) < 0); /* sorted: none twice */
        snprintf(prev, sizeof(prev), "%s", e->path);
        if (e->type == HUB_ENTRY_DIRECTORY) {
            dirs++;
            ASSERT_EQ_STR(e->path, "sub");
            ASSERT_EQ_INT(e->size, 0);
        } else {
            files++;
            ASSERT(e->size >= 8);
            ASSERT_EQ_INT(strlen(e->oid), 40);
            ASSERT(e->lfs_sha256 == NULL && e->xet_hash == NULL);
            ASSERT(e->last_commit_id == NULL);
        }
        if (++n == 10) /* the page boundary: the next page not asked yet */
            ASSERT_EQ_INT(fakehub_count(&fh, "/tree/main", NULL), 1);
        if (n == 11)
            ASSERT_EQ_INT(fakehub_count(&fh, "cursor=", NULL), 1);
    }
    ASSERT_EQ_INT(rc, HUB_LIST_DONE);
    ASSERT(e == NULL);
    ASSERT_EQ_INT(files, 25); /* README.md, 20 + 4 generated */
    ASSERT_EQ_INT(dirs, 1);
    ASSERT_EQ_INT(fakehub_count(&fh, "/tree/main", NULL), 3);
    ASSERT_EQ_INT(hub_list_next(it, &e), HUB_LIST_DONE);
    hub_list_free(it);

    /* a folder, not recursive, with its last commits */
    lo.recursive = 0;
    lo.expand = 1;
    ASSERT_OK(hub_list_open(&it, c, DEMO, "onnx", &lo));
    ASSERT_OK(hub_list_next(it, &e));
    ASSERT_EQ_STR(e->path, "onnx/model.onnx");
    ASSERT_EQ_INT(e->size, 1048576);
    ASSERT_EQ_INT(e->lfs_size, 1048576);
    ASSERT_EQ_INT(strlen(e->lfs_sha256), 64);
    ASSERT_EQ_STR(e->last_commit_id, DEMO_MAIN);
    ASSERT_EQ_STR(e->last_commit_date, "2024-01-02T00:00:00.000Z");
    ASSERT_EQ_INT(hub_list_next(it, &e), HUB_LIST_DONE);
    hub_list_free(it);

    /* a missing folder fails at open, with ENOENTRY */
    ASSERT_EQ_INT(hub_list_open(&it, c, DEMO, "no/such", NULL), HUB_ENOENTRY);
    ASSERT(it == NULL);
    ASSERT(strstr(hub_error_last()->message, "no/such") != NULL);

    hub_entry *st = NULL;
    ASSERT_OK(hub_stat(&st, c, DEMO, "model.safetensors", NULL));
    ASSERT_EQ_INT(st->type, HUB_ENTRY_FILE);
    ASSERT_EQ_INT(st->size, 33554432);
    ASSERT_EQ_INT(strlen(st->xet_hash), 64);
    ASSERT_EQ_INT(strlen(st->lfs_sha256), 64);
    ASSERT(st->lfs_pointer_size > 0);
    hub_entry_free(st);
    ASSERT_OK(hub_stat(&st, c, DEMO, "tokenizer", &lo));
    ASSERT_EQ_INT(st->type, HUB_ENTRY_DIRECTORY);
    ASSERT_EQ_STR(st->path, "tokenizer");
    ASSERT_EQ_INT(strlen(st->oid), 40);
    ASSERT_EQ_STR(st->last_commit_id, DEMO_MAIN);
    hub_entry_free(st);
    /* and one from the missing folder (is it a file?) */
    ASSERT_EQ_INT(fakehub_count(&fh, "\"POST\"", "/paths-info/main", NULL), 3);
    ASSERT_EQ_INT(hub_stat(&st, c, DEMO, "nope.txt", NULL), HUB_ENOENTRY);
    ASSERT(st == NULL);
    ASSERT(strstr(hub_error_last()->message, "nope.txt") != NULL);
    lo.revision = "nope";
    ASSERT_EQ_INT(hub_stat(&st, c, DEMO, "config.json", &lo), HUB_ENOREV);

    /* bad arguments */
    ASSERT_EQ_INT(hub_stat(&st, c, DEMO, "../x", NULL), HUB_EINVAL);
    ASSERT_EQ_INT(hub_list_open(&it, c, "bad//id", NULL, NULL), HUB_EINVAL);
    lo.version = 99;
    ASSERT_EQ_INT(hub_list_open(&it, c, DEMO, NULL, &lo), HUB_EVERSION);
    ASSERT_EQ_INT(hub_list_next(NULL, &e), HUB_EINVAL);
    hub_list_free(NULL);
    hub_entry_free(NULL);
    stop(c);
}

typedef struct collect {
    unsigned char *buf;
    size_t len, cap;
} collect;

static int collect_cb(const void *data, size_t len, void *payload)
{
    collect *k = payload;
    if (len > k->cap - k->len)
        return 1;
    memcpy(k->buf + k->len, data, len);
    k->len += len;
    return 0;
}

static void test_remote_read(void)
{
    start();
    hub_client *c = client_with(NULL, 0);
    /* the whole LFS file, verified, to compare the ranges with */
    size_t size = 1024 * 1024;
    collect all = {malloc(size), 0, size};
    hub_read_options ro;
    ASSERT_OK(hub_read_options_init(&ro, HUB_READ_OPTIONS_VERSION));
    ro.flags = HUB_READ_VERIFY;
    hub_read_info info;
    ASSERT_OK(hub_read(&info, c, DEMO, "onnx/model.onnx", 0, UINT64_MAX, &ro,
                       collect_cb, &all));
    ASSERT_EQ_INT((long long)all.len, (long long)size);
    ASSERT_EQ_INT((long long)info.size, (long long)size);
    ASSERT_EQ_INT((int)strlen(info.etag), 64);
    ASSERT_EQ_STR(info.commit, DEMO_MAIN);
    ASSERT_EQ_INT(info.from_cache, 0);
    /* ranges into a buffer: start, middle, end, past the end */
    unsigned char buf[4096];
    size_t got = 0;
    ASSERT_OK(
        hub_read_buf(&got, buf, c, DEMO, "onnx/model.onnx", 0, 100, NULL));
    ASSERT_EQ_INT((long long)got, 100);
    ASSERT(memcmp(buf, all.buf, 100) == 0);
    ASSERT_OK(hub_read_buf(&got, buf, c, DEMO, "onnx/model.onnx", 500000,
                           sizeof(buf), NULL));
    ASSERT_EQ_INT((long long)got, (long long)sizeof(buf));
    ASSERT(memcmp(buf, all.buf + 500000, sizeof(buf)) == 0);
    ASSERT_OK(hub_read_buf(&got, buf, c, DEMO, "onnx/model.onnx", size - 10,
                           sizeof(buf), NULL));
    ASSERT_EQ_INT((long long)got, 10);
    ASSERT(memcmp(buf, all.buf + size - 10, 10) == 0);
    ASSERT_OK(
        hub_read_buf(&got, buf, c, DEMO, "onnx/model.onnx", size, 10, NULL));
    ASSERT_EQ_INT((long long)got, 0);
    ASSERT_EQ_INT(
        hub_read_buf(&got, buf, c, DEMO, "onnx/model.onnx", size + 1, 10, NULL),
        HUB_EINVAL);
    ASSERT(strstr(hub_error_last()->message, "1048576 bytes") != NULL);
    ASSERT_EQ_INT(hub_read_buf(&got, buf, c, DEMO, "no/such.bin", 0, 10, NULL),
                  HUB_ENOENTRY);
    ro.flags = HUB_READ_VERIFY;
    ASSERT_EQ_INT(hub_read(NULL, c, DEMO, "onnx/model.onnx", 1, UINT64_MAX, &ro,
                           collect_cb, &all),
                  HUB_EINVAL);
    /* a git file through the 307 to the resolve cache */
    ASSERT_OK(
        hub_read_buf(&got, buf, c, DEMO, "config.json", 0, sizeof(buf), NULL));
    ASSERT(got > 10 && buf[0] == '{');
    /* a retry resumes after the bytes delivered: none twice */
    fakehub_control(&fh, "{\"faults\": [{\"match\": \"/repos/\", \"server\": "
                         "\"cdn\", \"times\": 1, \"action\": "
                         "{\"drop_after\": 300000}}]}");
    collect again = {malloc(size), 0, size};
    ASSERT_OK(hub_read(&info, c, DEMO, "onnx/model.onnx", 0, UINT64_MAX, &ro,
                       collect_cb, &again));
    ASSERT_EQ_INT((long long)again.len, (long long)size);
    ASSERT(memcmp(again.buf, all.buf, size) == 0);
    ASSERT_EQ_INT(
        fakehub_count(&fh, "\"range\": \"bytes=300000-\"", "cdn", NULL), 1);
    free(again.buf);
    /* cached: read from disk, no request */
    char *path = NULL;
    ASSERT_OK(hub_download_file(&path, c, DEMO, "onnx/model.onnx", NULL));
    hub_free(path);
    size_t before = fakehub_count(&fh, "\"server\"", NULL);
    ASSERT_OK(hub_read_buf(&got, buf, c, DEMO, "onnx/model.onnx", 500000,
                           sizeof(buf), NULL));
    ASSERT(memcmp(buf, all.buf + 500000, sizeof(buf)) == 0);
    ASSERT_EQ_INT(fakehub_count(&fh, "\"server\"", NULL), before);
    free(all.buf);
    hub_client_free(c);
    /* the token goes to the hub, never to the CDN */
    c = client_with("hf_alice", 0);
    ASSERT_OK(hub_read_buf(&got, buf, c, "hubfetch/private-model",
                           "model.safetensors", 0, 64, NULL));
    ASSERT_EQ_INT((long long)got, 64);
    ASSERT(fakehub_count(&fh, "private-model", "\"auth\": true", NULL) >= 1);
    ASSERT(fakehub_count(&fh, "\"server\": \"cdn\"", NULL) >= 1);
    ASSERT_EQ_INT(
        fakehub_count(&fh, "\"server\": \"cdn\"", "\"auth\": true", NULL), 0);
    stop(c);
}

/* A fixture directory with hubfetch/weights (tests/fixtures/weights_repo.py)
 * and the fake serving it. */
static const char *weights_start(void)
{
    static char dir[1024], arg[1100];
    const char *src = getenv("HUB_SOURCE_DIR");
    if (!src)
        test_skip("HUB_SOURCE_DIR is not set");
    snprintf(dir, sizeof(dir), "%s/weights", test_tmpdir());
    char cmd[2400];
    snprintf(cmd, sizeof(cmd),
             "python3 '%s/tests/fixtures/weights_repo.py' '%s' </dev/null", src,
             dir);
    if (system(cmd) != 0)
        test_fail(__FILE__, __LINE__, "weights_repo.py failed");
    ASSERT_OK(hub_global_init());
    snprintf(arg, sizeof(arg), "--fixtures=%s", dir);
    fakehub_start(&fh, arg);
    return dir;
}

/* Bytes of file data the fake sent since its log was cleared. */
static unsigned long long data_bytes(void)
{
    return fakehub_bytes(&fh, "\"status\": 206", NULL) +
           fakehub_bytes(&fh, "\"status\": 200", NULL);
}

static void same_st(const hub_safetensors_info *a,
                    const hub_safetensors_info *b)
{
    ASSERT_EQ_INT((long long)a->tensor_count, (long long)b->tensor_count);
    ASSERT_EQ_INT((long long)a->parameter_total, (long long)b->parameter_total);
    ASSERT_EQ_INT((long long)a->header_size, (long long)b->header_size);
    ASSERT_EQ_INT((long long)a->data_offset, (long long)b->data_offset);
    ASSERT_EQ_INT((long long)a->data_size, (long long)b->data_size);
    ASSERT_EQ_INT(a->sharded, b->sharded);
    ASSERT_EQ_INT((long long)a->dtype_count, (long long)b->dtype_count);
    ASSERT_EQ_INT((long long)a->metadata_count, (long long)b->metadata_count);
    for (size_t i = 0; i < a->tensor_count; i++) {
        ASSERT_EQ_STR(a->tensors[i].name, b->tensors[i].name);
        ASSERT_EQ_STR(a->tensors[i].dtype, b->tensors[i].dtype);
        ASSERT_EQ_INT((long long)a->tensors[i].offset_begin,
                      (long long)b->tensors[i].offset_begin);
        ASSERT_EQ_INT((long long)a->tensors[i].parameters,
                      (long long)b->tensors[i].parameters);
        if (a->tensors[i].file || b->tensors[i].file)
            ASSERT_EQ_STR(a->tensors[i].file, b->tensors[i].file);
    }
}

static void test_remote_headers(void)
{
    const char *dir = weights_start();
    hub_client *c = client_with(NULL, 0);
    char local[1200];
    const char *st_files[] = {"single.safetensors", "big.safetensors"};
    for (size_t i = 0; i < 2; i++) {
        hub_safetensors_info *remote = NULL, *file = NULL;
        snprintf(local, sizeof(local), "%s/files/%s", dir, st_files[i]);
        ASSERT_OK(hub_safetensors_info_file(&file, local, NULL));
        fakehub_control(&fh, "{\"clear_log\": true}");
        ASSERT_OK(hub_safetensors_info_remote(&remote, c, "hubfetch/weights",
                                              st_files[i], NULL, NULL));
        same_st(remote, file);
        unsigned long long got = data_bytes();
        printf("    %s: header %llu bytes, %llu bytes transferred in %zu "
               "requests\n",
               st_files[i], (unsigned long long)file->data_offset, got,
               fakehub_count(&fh, "\"server\": \"cdn\"", NULL));
        ASSERT(got <= file->data_offset + 2 * 1024 * 1024);
        ASSERT(got >= file->data_offset ||
               got == file->data_offset + file->data_size);
        hub_safetensors_info_free(remote);
        hub_safetensors_info_free(file);
    }
    /* big.safetensors: the read-ahead, then exactly 8 + N */
    ASSERT_EQ_INT(fakehub_count(&fh, "\"server\": \"cdn\"", NULL), 2);
    /* sharded: the index, then every shard's header */
    hub_safetensors_info *remote = NULL, *file = NULL;
    snprintf(local, sizeof(local),
             "%s/files/sharded/model.safetensors.index.json", dir);
    ASSERT_OK(hub_safetensors_info_file(&file, local, NULL));
    fakehub_control(&fh, "{\"clear_log\": true}");
    ASSERT_OK(hub_safetensors_info_remote(
        &remote, c, "hubfetch/weights", "sharded/model.safetensors.index.json",
        NULL, NULL));
    same_st(remote, file);
    ASSERT_EQ_INT((long long)remote->shard_count, 2);
    ASSERT_EQ_INT(fakehub_count(&fh, "\"server\": \"cdn\"", NULL), 2);
    hub_safetensors_info_free(remote);
    hub_safetensors_info_free(file);
    /* GGUF: 2 MiB steps, at most 2 MiB past the header */
    const char *gg_files[] = {"llama-v3.gguf", "big.gguf"};
    for (size_t i = 0; i < 2; i++) {
        hub_gguf_info *g = NULL, *gf = NULL;
        snprintf(local, sizeof(local), "%s/files/%s", dir, gg_files[i]);
        ASSERT_OK(hub_gguf_info_file(&gf, local, NULL));
        fakehub_control(&fh, "{\"clear_log\": true}");
        ASSERT_OK(hub_gguf_info_remote(&g, c, "hubfetch/weights", gg_files[i],
                                       NULL, NULL));
        ASSERT_EQ_INT((long long)g->kv_count, (long long)gf->kv_count);
        ASSERT_EQ_INT((long long)g->tensor_count, (long long)gf->tensor_count);
        ASSERT_EQ_INT((long long)g->parameters, (long long)gf->parameters);
        ASSERT_EQ_INT((long long)g->header_size, (long long)gf->header_size);
        ASSERT_EQ_INT((long long)g->data_offset, (long long)gf->data_offset);
        ASSERT_EQ_STR(g->architecture, gf->architecture);
        unsigned long long got = data_bytes();
        printf("    %s: header %llu bytes, %llu bytes transferred in %zu "
               "requests\n",
               gg_files[i], (unsigned long long)gf->header_size, got,
               fakehub_count(&fh, "\"server\": \"cdn\"", NULL));
        ASSERT(got <= gf->header_size + 2 * 1024 * 1024);
        hub_gguf_info_free(g);
        hub_gguf_info_free(gf);
    }
    /* a cached file: answered from disk, no request */
    char *path = NULL;
    ASSERT_OK(hub_download_file(&path, c, "hubfetch/weights",
                                "single.safetensors", NULL));
    hub_free(path);
    size_t before = fakehub_count(&fh, "\"server\"", NULL);
    ASSERT_OK(hub_safetensors_info_remote(&remote, c, "hubfetch/weights",
                                          "single.safetensors", NULL, NULL));
    ASSERT_EQ_INT((long long)remote->tensor_count, 25);
    hub_safetensors_info_free(remote);
    ASSERT_EQ_INT(fakehub_count(&fh, "\"server\"", NULL), before);
    /* not a safetensors file */
    ASSERT_EQ_INT(hub_safetensors_info_remote(&remote, c, "hubfetch/weights",
                                              "llama-v3.gguf", NULL, NULL),
                  HUB_EFORMAT);
    ASSERT(remote == NULL);
    stop(c);
}

static const test_case api_tests[] = {
    {"list_and_stat", test_list_and_stat},
    {"remote_read", test_remote_read},
    {"remote_headers", test_remote_headers},
    {"cache_plan_delete", test_cache_plan_delete},
    {"client_cancel_stops_a_server_asked_wait",
     test_client_cancel_stops_a_server_asked_wait},
    {"progress_callback_cancels_during_a_wait",
     test_progress_callback_cancels_during_a_wait},
    {"job_and_client_cancel_stop_a_waiting_job",
     test_job_and_client_cancel_stop_a_waiting_job},
    {"job_polls_cancels_and_waits", test_job_polls_cancels_and_waits},
    {"file_then_pinned_hit_makes_no_request",
     test_file_then_pinned_hit_makes_no_request},
    {"snapshot_patterns_and_statuses", test_snapshot_patterns_and_statuses},
    {"progress_events", test_progress_events},
    {"cancel_then_resume", test_cancel_then_resume},
    {"errors_name_the_cause", test_errors_name_the_cause},
    {"whoami", test_whoami},
    {"token_files", test_token_files},
    {"bad_options_everywhere", test_bad_options_everywhere},
    {"modelscope_cache_answers", test_modelscope_cache_answers},
    {"offline_and_lookup", test_offline_and_lookup},
    {"corrupt_bytes_never_committed", test_corrupt_bytes_never_committed},
    {"local_dir", test_local_dir},
    {"prefer_offline", test_prefer_offline},
    {"version_1_callers", test_version_1_callers},
    {"cache_scan", test_cache_scan},
    {"cache_verify", test_cache_verify},
};

const test_case *api_suite(size_t *count)
{
    *count = sizeof(api_tests) / sizeof(api_tests[0]);
    return api_tests;
}
