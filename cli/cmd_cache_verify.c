/* SPDX-License-Identifier: MIT */
/* cmd_cache_verify.c: hubfetch cache verify (does every cached file still
 * hold what its name says?). */
#include "cli.h"
#include "opt.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    O_HELP = 1,
    O_REMOTE,
    O_FAIL_MISSING,
    O_LOCAL_DIR,
    O_CACHE_DIR,
    O_TYPE,
    O_REVISION,
    O_THREADS,
    O_FORMAT,
    O_QUIET,
    O_TOKEN,
    O_ENDPOINT,
    O_HUB,
};

static const cli_opt options[] = {
    {"help", 'h', false, O_HELP},
    {"remote", 0, false, O_REMOTE},
    {"fail-on-missing-files", 0, false, O_FAIL_MISSING},
    {"local-dir", 0, true, O_LOCAL_DIR},
    {"cache-dir", 0, true, O_CACHE_DIR},
    {"repo-type", 0, true, O_TYPE},
    {"type", 0, true, O_TYPE},
    {"revision", 0, true, O_REVISION},
    {"threads", 'j', true, O_THREADS},
    {"format", 0, true, O_FORMAT},
    {"quiet", 'q', false, O_QUIET},
    {"token", 0, true, O_TOKEN},
    {"endpoint", 0, true, O_ENDPOINT},
    {"hub", 0, true, O_HUB},
    {NULL, 0, false, 0},
};

static void verify_help(FILE *fp)
{
    fputs(
        "usage: hubfetch cache verify [TARGET...] [options]\n"
        "       hubfetch cache verify --local-dir DIR [[TYPE:]ID[@REV]] "
        "[options]\n"
        "\n"
        "Check that every cached file still holds what its name says: each\n"
        "snapshot file must resolve to a blob whose content hashes to the\n"
        "blob's name (sha256 for LFS files, git blob sha1 otherwise). Each\n"
        "distinct blob is read once, however many revisions use it, on one\n"
        "thread per CPU. Broken links, links out of the cache (never\n"
        "followed) and other defects the scan finds are reported too.\n"
        "Offline unless --remote.\n"
        "\n"
        "--hub modelscope: a ModelScope cache records no digests. Offline,\n"
        "a classic repository's index (.msc) is checked against its folder\n"
        "(a file it lists that is gone fails; a file it does not list is\n"
        "reported: the SDK downloads it again); --remote hashes every file\n"
        "(sha256) against the hub's listing of the cached revision.\n"
        "\n"
        "TARGET (none: the whole cache), as 'cache rm' takes them:\n"
        "  [TYPE:]ORG/NAME            every revision of a repository\n"
        "  ORG/NAME@REV               one revision (commit, prefix, ref)\n"
        "  ORG/NAME@REV:PATH          one file of a revision\n"
        "  COMMIT                     a 40-hex commit, in any repository\n"
        "\n"
        "  --remote               also compare each revision with the hub's\n"
        "                         listing of its commit: files missing here,\n"
        "                         files here the hub lacks, other digests\n"
        "  --fail-on-missing-files  files missing here fail (default: only\n"
        "                         listed; a cache often holds a few files)\n"
        "  --local-dir DIR        verify a local dir instead: each file with\n"
        "                         metadata (.cache/huggingface/download/)\n"
        "                         against the etag recorded there; the\n"
        "                         argument names the repository for --remote\n"
        "  --repo-type TYPE       model (default), dataset or space (local\n"
        "                         dir)\n"
        "  --revision REV         local dir with --remote: compare with REV\n"
        "                         (default: the commit the metadata records)\n"
        "  -j, --threads N        hashing threads (default: one per CPU)\n"
        "  --format FMT           human (default) or json (raw fields)\n"
        "  -q, --quiet            only the problems, no progress\n"
        "  --cache-dir DIR        cache directory (default: HF_HUB_CACHE,\n"
        "                         HF_HOME/hub, ~/.cache/huggingface/hub;\n"
        "                         ModelScope: MODELSCOPE_CACHE or\n"
        "                         ~/.cache/modelscope/hub)\n"
        "  --token TOKEN          access token (--remote)\n"
        "  --endpoint URL         hub endpoint (--remote)\n"
        "  --hub HUB              huggingface (default) or modelscope (cache\n"
        "                         only: no --local-dir)\n"
        "  -h, --help             this help\n"
        "\n"
        "Exit status: 0 all sound, 29 verification failed (a file does not\n"
        "match, cannot be read, is a broken link; a defect; with --remote a\n"
        "file the hub lacks or lists with another digest), 2 usage error,\n"
        "21 target or cache not found, 31 interrupted, 10 + |code| for\n"
        "other library errors (docs/CLI.md).\n",
        fp);
}

static const char *type_name(hub_repo_type t)
{
    static const char *const names[] = {"model", "dataset", "space"};
    return (unsigned)t < 3 ? names[t] : "model";
}

static const char *status_name(hub_verify_status s)
{
    switch (s) {
    case HUB_VERIFY_MISMATCH:
        return "mismatch";
    case HUB_VERIFY_UNREADABLE:
        return "unreadable";
    case HUB_VERIFY_BROKEN:
        return "broken";
    case HUB_VERIFY_DEFECT:
        return "defect";
    case HUB_VERIFY_MISSING:
        return "missing";
    case HUB_VERIFY_EXTRA:
        return "extra";
    case HUB_VERIFY_REMOTE_DIFFERS:
        return "remote_differs";
    case HUB_VERIFY_UNVERIFIABLE:
        return "unverifiable";
    case HUB_VERIFY_UNINDEXED:
        return "unindexed";
    }
    return "unknown";
}

static bool parse_type(const char *s, hub_repo_type *t)
{
    if (strcmp(s, "model") == 0)
        *t = HUB_REPO_MODEL;
    else if (strcmp(s, "dataset") == 0)
        *t = HUB_REPO_DATASET;
    else if (strcmp(s, "space") == 0)
        *t = HUB_REPO_SPACE;
    else
        return false;
    return true;
}

/* "model:org/name@commit:path" */
static void print_item_name(FILE *fp, const hub_cache_verify_item *it)
{
    if (it->repo_id)
        fprintf(fp, "%s:%s", type_name(it->repo_type), it->repo_id);
    if (it->commit)
        fprintf(fp, "@%s", it->commit);
    if (it->file)
        fprintf(fp, "%s%s", it->repo_id || it->commit ? ":" : "", it->file);
}

static void json_str_or_null(FILE *fp, const char *s)
{
    if (s)
        cli_json_string(fp, s);
    else
        fputs("null", fp);
}

/* Findings of one status (the summary does not count every status). */
static size_t count_status(const hub_cache_verify_result *res,
                           hub_verify_status status)
{
    size_t n = hub_cache_verify_result_count(res), count = 0;
    for (size_t i = 0; i < n; i++)
        count += hub_cache_verify_result_item(res, i)->status == status;
    return count;
}

static void print_json(FILE *fp, const hub_cache_verify_result *res, bool ok)
{
    const hub_cache_verify_summary *s = hub_cache_verify_result_summary(res);
    fprintf(fp,
            "{\"ok\": %s, \"repos\": %zu, \"revisions\": %zu, "
            "\"files\": %llu, \"blobs\": %llu, \"bytes\": %llu, "
            "\"failed_files\": %llu, \"unverifiable\": %llu, "
            "\"missing\": %llu, \"extra\": %llu, \"defects\": %llu, "
            "\"unindexed\": %zu, "
            "\"threads\": %d, \"seconds\": %.3f, \"problems\": [",
            ok ? "true" : "false", s->repos, s->revisions,
            (unsigned long long)s->files, (unsigned long long)s->blobs,
            (unsigned long long)s->bytes, (unsigned long long)s->failed_files,
            (unsigned long long)s->unverifiable, (unsigned long long)s->missing,
            (unsigned long long)s->extra, (unsigned long long)s->defects,
            count_status(res, HUB_VERIFY_UNINDEXED), s->threads, s->seconds);
    size_t n = hub_cache_verify_result_count(res);
    for (size_t i = 0; i < n; i++) {
        const hub_cache_verify_item *it = hub_cache_verify_result_item(res, i);
        fprintf(fp, "%s\n  {\"status\": \"%s\", \"failure\": %s, ",
                i ? "," : "", status_name(it->status),
                hub_cache_verify_item_failed(res, it) ? "true" : "false");
        fprintf(fp, "\"repo_type\": \"%s\", \"repo_id\": ",
                type_name(it->repo_type));
        json_str_or_null(fp, it->repo_id);
        fputs(", \"commit\": ", fp);
        json_str_or_null(fp, it->commit);
        fputs(", \"file\": ", fp);
        json_str_or_null(fp, it->file);
        fputs(", \"path\": ", fp);
        json_str_or_null(fp, it->path);
        fputs(", \"algorithm\": ", fp);
        json_str_or_null(fp, it->algorithm);
        fputs(", \"expected\": ", fp);
        json_str_or_null(fp, it->expected);
        fputs(", \"actual\": ", fp);
        json_str_or_null(fp, it->actual);
        fputs(", \"message\": ", fp);
        json_str_or_null(fp, it->message);
        fputc('}', fp);
    }
    fputs(n ? "\n]}\n" : "]}\n", fp);
}

/* The items of one kind, under a heading, in the human format. */
static size_t print_group(FILE *fp,
                          const hub_cache_verify_result *res,
                          bool failures,
                          hub_verify_status only,
                          const char *heading)
{
    size_t n = hub_cache_verify_result_count(res), shown = 0;
    for (size_t i = 0; i < n; i++) {
        const hub_cache_verify_item *it = hub_cache_verify_result_item(res, i);
        bool failed = hub_cache_verify_item_failed(res, it) != 0;
        if (failed != failures || (!failures && it->status != only))
            continue;
        if (!shown++ && heading)
            fprintf(fp, "%s\n", heading);
        fputs("  - ", fp);
        print_item_name(fp, it);
        fprintf(fp, "%s%s\n", it->repo_id || it->file ? ": " : "", it->message);
    }
    return shown;
}

static void
print_human(FILE *fp, const hub_cache_verify_result *res, bool ok, bool quiet)
{
    const hub_cache_verify_summary *s = hub_cache_verify_result_summary(res);
    char size[32];
    cli_format_size(s->bytes, size, sizeof(size));
    if (!ok)
        print_group(fp, res, true, 0,
                    quiet ? NULL
                          : "\xe2\x9d\x8c Verification failed for the "
                            "following file(s):");
    if (quiet)
        return;
    print_group(fp, res, false, HUB_VERIFY_MISSING,
                "Files on the hub missing here (no failure without "
                "--fail-on-missing-files):");
    print_group(fp, res, false, HUB_VERIFY_UNINDEXED,
                "Not in the ModelScope index (.msc; the SDK downloads them "
                "again, no failure):");
    print_group(fp, res, false, HUB_VERIFY_UNVERIFIABLE,
                "Not verified (nothing to check them against; --remote "
                "checks them against the hub):");
    if (ok && s->files && s->files == s->unverifiable) {
        /* a ModelScope cache offline: nothing could be hashed */
        fprintf(fp,
                "\xe2\x9c\x93 No problem found in %llu file(s) in %zu "
                "repo(s); none could be verified offline (--remote checks "
                "them against the hub).\n",
                (unsigned long long)s->files, s->repos);
    } else if (ok) {
        fprintf(fp,
                "\xe2\x9c\x93 Verified %llu file(s) (%llu blobs, %s) in %zu "
                "repo(s). All checksums match.\n",
                (unsigned long long)(s->files - s->unverifiable),
                (unsigned long long)s->blobs, size, s->repos);
    } else {
        fprintf(fp,
                "\xe2\x9c\x97 %llu of %llu file(s) failed verification "
                "(%llu blobs, %s hashed, %zu repo(s))",
                (unsigned long long)s->failed_files,
                (unsigned long long)s->files, (unsigned long long)s->blobs,
                size, s->repos);
        if (s->extra)
            fprintf(fp, "; %llu extra file(s)", (unsigned long long)s->extra);
        if (s->defects)
            fprintf(fp, "; %llu other defect(s)",
                    (unsigned long long)s->defects);
        fputs(".\n", fp);
    }
}

typedef struct pctx {
    cli_progress *view;
} pctx;

static int on_progress(const hub_progress *p, void *payload)
{
    pctx *ctx = payload;
    int rc = cli_progress_cb(p, ctx->view);
    if (p->final)
        cli_progress_clear(ctx->view);
    return rc;
}

int cmd_cache_verify(int argc, char **argv)
{
    hub_client_options copts = HUB_CLIENT_OPTIONS_INIT;
    hub_cache_verify_options vopts = HUB_CACHE_VERIFY_OPTIONS_INIT;
    bool json = false, quiet = false;
    const char **targets = calloc((size_t)argc + 1, sizeof(*targets));
    size_t ntargets = 0;
    if (!targets)
        return cli_error("out of memory");
    cli_opt_state st;
    cli_opt_init(&st, argc, argv);
    int id, rc = EXIT_OK;
    while (rc == EXIT_OK && (id = cli_opt_next(&st, options)) != CLI_OPT_END) {
        switch (id) {
        case O_HELP:
            verify_help(stdout);
            free(targets);
            return EXIT_OK;
        case O_REMOTE:
            vopts.flags |= HUB_CACHE_VERIFY_REMOTE;
            break;
        case O_FAIL_MISSING:
            vopts.flags |= HUB_CACHE_VERIFY_FAIL_ON_MISSING;
            break;
        case O_LOCAL_DIR:
            vopts.local_dir = st.arg;
            break;
        case O_CACHE_DIR:
            copts.cache_dir = st.arg;
            break;
        case O_TYPE:
            if (!parse_type(st.arg, &vopts.repo_type))
                rc = cli_usage("--repo-type must be model, dataset or space, "
                               "not '%s'",
                               st.arg);
            break;
        case O_REVISION:
            vopts.revision = st.arg;
            break;
        case O_THREADS: {
            char *end;
            errno = 0;
            long n = strtol(st.arg, &end, 10);
            if (errno || end == st.arg || *end || n < 1 || n > 256)
                rc = cli_usage("--threads must be 1 to 256, got '%s'", st.arg);
            else
                vopts.threads = (int)n;
            break;
        }
        case O_FORMAT:
            if (strcmp(st.arg, "json") == 0)
                json = true;
            else if (strcmp(st.arg, "human") == 0 ||
                     strcmp(st.arg, "table") == 0)
                json = false;
            else
                rc = cli_usage("invalid --format '%s'; use human or json",
                               st.arg);
            break;
        case O_QUIET:
            quiet = true;
            break;
        case O_TOKEN:
            copts.token = st.arg;
            break;
        case O_ENDPOINT:
            copts.endpoint = st.arg;
            break;
        case O_HUB:
            rc = cli_parse_hub(st.arg, &copts.hub);
            break;
        case CLI_OPT_POSITIONAL:
            targets[ntargets++] = st.positional;
            break;
        case CLI_OPT_UNKNOWN:
            rc = cli_usage("unknown option '%s'; see 'hubfetch cache verify "
                           "--help'",
                           st.bad);
            break;
        case CLI_OPT_MISSING:
            rc = cli_usage("option '%s' needs a value", st.bad);
            break;
        default:
            break;
        }
    }
    if (rc == EXIT_OK && vopts.local_dir && copts.cache_dir)
        rc = cli_usage("cannot pass both --local-dir and --cache-dir; use one "
                       "or the other");
    if (rc == EXIT_OK && vopts.local_dir && ntargets > 1)
        rc = cli_usage("--local-dir takes at most one repository id");
    if (rc != EXIT_OK) {
        free(targets);
        return rc;
    }
    /* local dir: the argument is [TYPE:]ID[@REV], for --remote */
    char *repo = NULL;
    if (vopts.local_dir && ntargets == 1) {
        const char *t = targets[0];
        const char *colon = strchr(t, ':');
        if (colon) {
            char tn[16];
            snprintf(tn, sizeof(tn), "%.*s", (int)(colon - t), t);
            if (!parse_type(tn, &vopts.repo_type)) {
                free(targets);
                return cli_usage("'%s': write [TYPE:]ORG/NAME[@REV], TYPE "
                                 "model, dataset or space",
                                 t);
            }
            t = colon + 1;
        }
        repo = strdup(t);
        if (!repo) {
            free(targets);
            return cli_error("out of memory");
        }
        char *at = strchr(repo, '@');
        if (at) {
            *at = '\0';
            if (!vopts.revision)
                vopts.revision = at + 1;
        }
        vopts.repo_id = repo;
        ntargets = 0;
    }
    vopts.targets = targets;
    vopts.target_count = ntargets;

    hub_client *client = NULL;
    int err = hub_client_new(&client, &copts);
    if (err != HUB_OK) {
        free(repo);
        free(targets);
        return cli_fail(err);
    }
    pctx ctx = {NULL};
    if (!quiet && isatty(STDERR_FILENO)) {
        ctx.view = cli_progress_new(CLI_PROGRESS_BAR, stderr);
        if (ctx.view) {
            vopts.progress_cb = on_progress;
            vopts.progress_payload = &ctx;
        }
    }
    cli_cancel_on_signal(client);
    hub_cache_verify_result *res = NULL;
    err = hub_cache_verify(&res, client, &vopts);
    cli_cancel_on_signal_end();
    cli_progress_clear(ctx.view);
    if (res) {
        bool ok = err == HUB_OK;
        if (json)
            print_json(stdout, res, ok);
        else
            print_human(stdout, res, ok, quiet);
        if (fflush(stdout) != 0 || ferror(stdout))
            rc = cli_error("cannot write the report: %s", strerror(errno));
    }
    if (rc == EXIT_OK && err != HUB_OK)
        rc = cli_fail(err);
    hub_cache_verify_result_free(res);
    cli_progress_free(ctx.view);
    hub_client_free(client);
    free(repo);
    free(targets);
    return rc;
}
