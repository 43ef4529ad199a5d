/* SPDX-License-Identifier: MIT */
/* cmd_cache_rm.c: hubfetch cache rm / prune (plan, ask, delete, report). */
#include "cli.h"
#include "opt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    O_HELP = 1,
    O_DRY_RUN,
    O_YES,
    O_FORMAT,
    O_CACHE_DIR,
    O_HUB,
    O_OLDER_THAN,
    O_MAX_SIZE,
    O_PARTIAL_AGE,
};

static const cli_opt rm_options[] = {
    {"help", 'h', false, O_HELP},
    {"dry-run", 0, false, O_DRY_RUN},
    {"yes", 'y', false, O_YES},
    {"format", 0, true, O_FORMAT},
    {"cache-dir", 0, true, O_CACHE_DIR},
    {"hub", 0, true, O_HUB},
    {"older-than", 0, true, O_OLDER_THAN},
    {"max-size", 0, true, O_MAX_SIZE},
    {"partial-age", 0, true, O_PARTIAL_AGE},
    {NULL, 0, false, 0},
};

static void rm_help(FILE *fp)
{
    fputs("usage: hubfetch cache rm TARGET... [options]\n"
          "\n"
          "Delete from the Hugging Face cache. A TARGET is\n"
          "  ID, TYPE:ID, TYPE/ID     a repository, every revision (TYPE\n"
          "                           model, dataset or space)\n"
          "  ID@REV                   one revision: a commit, a unique prefix\n"
          "                           of one, or a ref (main, refs/pr/1)\n"
          "  ID@REV:PATH              one file of a revision\n"
          "  COMMIT                   that revision, in any repository\n"
          "as 'hubfetch cache ls -q' prints them. A blob is deleted only when\n"
          "no remaining revision uses it. Prints the plan and the exact bytes\n"
          "it frees, asks (-y to skip; without a terminal -y is required),\n"
          "deletes refs first, then snapshots, then blobs, so an interruption\n"
          "leaves a readable cache. Safe beside running downloads: a blob or\n"
          "partial file whose download lock is held is kept and reported.\n"
          "\n"
          "  --dry-run          print the plan, delete nothing\n"
          "  -y, --yes          do not ask\n"
          "  --format FMT       table (default) or json (raw integers)\n"
          "  --cache-dir DIR    cache directory (default: HF_HUB_CACHE,\n"
          "                     HF_HOME/hub, ~/.cache/huggingface/hub)\n"
          "  --hub HUB          huggingface (default) or modelscope\n"
          "  -h, --help         this help\n"
          "\n"
          "Exit status: 0 done (kept in-use files are reported, not\n"
          "failures), 1 declined, 2 usage error, 27 some deletion failed,\n"
          "21 no cache directory.\n",
          fp);
}

static void prune_help(FILE *fp)
{
    fputs("usage: hubfetch cache prune [options]\n"
          "\n"
          "Free the Hugging Face cache of what nothing uses: detached\n"
          "revisions (no ref names them), stale partial downloads, blobs no\n"
          "snapshot links, .no_exist/ and trees/ entries of commits gone,\n"
          "leftovers of an interrupted deletion. With --max-size, then\n"
          "deletes the least recently used revisions until the cache fits.\n"
          "Same safety as 'cache rm': locks of running downloads respected,\n"
          "refs before snapshots before blobs.\n"
          "\n"
          "  --older-than DUR   also delete revisions unused for DUR (30d,\n"
          "                     12h, 2w, 6mo, 1y), referenced or not\n"
          "  --max-size SIZE    then evict least recently used revisions\n"
          "                     until the cache holds at most SIZE (50GB)\n"
          "  --partial-age DUR  a partial download nobody is writing is\n"
          "                     stale after DUR (default 1h, so a stopped\n"
          "                     download can still resume; 0 any age)\n"
          "  --dry-run          print the plan, delete nothing\n"
          "  -y, --yes          do not ask\n"
          "  --format FMT       table (default) or json (raw integers)\n"
          "  --cache-dir DIR    cache directory\n"
          "  --hub HUB          huggingface (default) or modelscope\n"
          "  -h, --help         this help\n"
          "\n"
          "Exit status as 'hubfetch cache rm'.\n",
          fp);
}

static const char *const kind_names[] = {
    "repo",    "ref",      "snapshot", "file",      "blob",
    "partial", "no_exist", "tree",     "empty_dir", "trash"};
static const char *const state_names[] = {"planned", "done",    "gone",
                                          "in_use",  "changed", "failed"};

static const char *kind_name(hub_cache_op_kind k)
{
    return (unsigned)k < 10 ? kind_names[k] : "?";
}

static const char *state_name(hub_cache_op_state s)
{
    return (unsigned)s < 6 ? state_names[s] : "?";
}

typedef struct counts {
    size_t repos, revisions, files, blobs, partials, other;
} counts;

static counts count_ops(const hub_cache_plan *plan, bool done_only)
{
    counts c = {0};
    for (size_t i = 0; i < hub_cache_plan_op_count(plan); i++) {
        const hub_cache_op *o = hub_cache_plan_op(plan, i);
        if (done_only && o->state != HUB_CACHE_OP_DONE)
            continue;
        switch (o->kind) {
        case HUB_CACHE_OP_REPO:
            c.repos++;
            break;
        case HUB_CACHE_OP_SNAPSHOT:
            c.revisions++;
            break;
        case HUB_CACHE_OP_FILE:
            c.files++;
            break;
        case HUB_CACHE_OP_BLOB:
            if (!o->revision)
                c.blobs++;
            break;
        case HUB_CACHE_OP_PARTIAL:
            c.partials++;
            break;
        case HUB_CACHE_OP_REF:
            break;
        default:
            c.other++;
            break;
        }
    }
    return c;
}

static void summary(FILE *fp, const counts *c, bool prune)
{
    const char *sep = "";
    if (c->repos) {
        fprintf(fp, "%zu repo(s)", c->repos);
        sep = ", ";
    }
    if (c->revisions) {
        fprintf(fp, "%s%zu %srevision(s)", sep, c->revisions,
                prune ? "unreferenced or unused " : "");
        sep = ", ";
    }
    if (c->files) {
        fprintf(fp, "%s%zu file(s)", sep, c->files);
        sep = ", ";
    }
    if (prune && c->partials) {
        fprintf(fp, "%s%zu incomplete download(s)", sep, c->partials);
        sep = ", ";
    }
    if (prune && (c->blobs || c->other)) {
        fprintf(fp, "%s%zu unused blob(s) and leftover(s)", sep,
                c->blobs + c->other);
        sep = ", ";
    }
    if (!*sep)
        fputs("nothing", fp);
}

static void print_plan(FILE *fp, const hub_cache_plan *plan, bool prune)
{
    char size[32];
    counts c = count_ops(plan, false);
    cli_cache_size(hub_cache_plan_bytes(plan), size, sizeof(size));
    fputs("About to delete ", fp);
    summary(fp, &c, prune);
    fprintf(fp, ", freeing %s (%llu bytes).\n", size,
            (unsigned long long)hub_cache_plan_bytes(plan));
    const hub_cache_repo *cur = NULL;
    for (size_t i = 0; i < hub_cache_plan_op_count(plan); i++) {
        const hub_cache_op *o = hub_cache_plan_op(plan, i);
        if (o->kind == HUB_CACHE_OP_TRASH) {
            fprintf(fp, "  - leftover of an interrupted deletion: %s\n",
                    o->path);
            continue;
        }
        if (!o->repo)
            continue;
        if (o->kind == HUB_CACHE_OP_REPO) {
            cli_cache_size(o->bytes, size, sizeof(size));
            fprintf(fp, "  - %s/%s (entire repo) %s\n",
                    cli_cache_type_name(o->repo->type), o->repo->repo_id, size);
            cur = NULL;
            continue;
        }
        if (o->kind == HUB_CACHE_OP_REF)
            continue;
        if (o->repo != cur) {
            fprintf(fp, "  - %s/%s:\n", cli_cache_type_name(o->repo->type),
                    o->repo->repo_id);
            cur = o->repo;
        }
        cli_cache_size(o->bytes, size, sizeof(size));
        switch (o->kind) {
        case HUB_CACHE_OP_SNAPSHOT: {
            char refs[512];
            cli_join_refs(o->revision->refs, o->revision->ref_count, refs,
                          sizeof(refs));
            char rsize[32];
            cli_cache_size(o->revision->size_on_disk, rsize, sizeof(rsize));
            fprintf(fp, "      %s [%s] %s\n", o->revision->commit_hash,
                    refs[0] ? refs : "(detached)", rsize);
            break;
        }
        case HUB_CACHE_OP_FILE:
            fprintf(fp, "      %s:%s\n", o->revision->commit_hash, o->name);
            break;
        case HUB_CACHE_OP_BLOB:
            fprintf(fp, "      blob %s %s\n", o->name, size);
            break;
        case HUB_CACHE_OP_PARTIAL:
            fprintf(fp, "      incomplete download %s %s\n", o->name, size);
            break;
        case HUB_CACHE_OP_NO_EXIST:
            fprintf(fp, "      .no_exist/%s\n", o->name);
            break;
        case HUB_CACHE_OP_TREE:
            fprintf(fp, "      trees/%s.json\n", o->name);
            break;
        default:
            fprintf(fp, "      %s\n", o->path);
            break;
        }
    }
}

static void
print_json(FILE *fp, const hub_cache_plan *plan, bool dry_run, bool executed)
{
    fprintf(fp, "{\"dry_run\": %s, \"bytes\": %llu, \"freed\": %llu",
            dry_run ? "true" : "false",
            (unsigned long long)hub_cache_plan_bytes(plan),
            (unsigned long long)hub_cache_plan_freed(plan));
    counts c = count_ops(plan, executed);
    fprintf(fp,
            ", \"repos\": %zu, \"revisions\": %zu, \"files\": %zu, "
            "\"partials\": %zu, \"unmatched\": [",
            c.repos, c.revisions, c.files, c.partials);
    for (size_t i = 0; i < hub_cache_plan_unmatched_count(plan); i++) {
        fputs(i ? ", " : "", fp);
        cli_json_string(fp, hub_cache_plan_unmatched(plan, i));
    }
    fputs("], \"operations\": [", fp);
    for (size_t i = 0; i < hub_cache_plan_op_count(plan); i++) {
        const hub_cache_op *o = hub_cache_plan_op(plan, i);
        fprintf(fp, "%s\n  {\"kind\": \"%s\", \"state\": \"%s\", \"path\": ",
                i ? "," : "", kind_name(o->kind), state_name(o->state));
        cli_json_string(fp, o->path);
        if (o->repo) {
            fprintf(fp, ", \"repo_type\": \"%s\", \"repo_id\": ",
                    cli_cache_type_name(o->repo->type));
            cli_json_string(fp, o->repo->repo_id);
        }
        if (o->revision) {
            fputs(", \"commit_hash\": ", fp);
            cli_json_string(fp, o->revision->commit_hash);
        }
        if (o->name) {
            fputs(", \"name\": ", fp);
            cli_json_string(fp, o->name);
        }
        fprintf(fp, ", \"bytes\": %llu", (unsigned long long)o->bytes);
        if (o->message) {
            fputs(", \"message\": ", fp);
            cli_json_string(fp, o->message);
        }
        fputc('}', fp);
    }
    fputs("]}\n", fp);
}

/* y/N on the terminal; false without one. */
static bool confirm(const char *question)
{
    if (!isatty(STDIN_FILENO))
        return false;
    fprintf(stderr, "%s [y/N]: ", question);
    fflush(stderr);
    char line[64];
    if (!fgets(line, sizeof(line), stdin))
        return false;
    return line[0] == 'y' || line[0] == 'Y';
}

typedef struct run_opts {
    bool dry_run, yes, json, prune;
} run_opts;

/* Plan made: show, ask, execute, report. */
static int run(hub_client *client, hub_cache_plan *plan, const run_opts *ro)
{
    for (size_t i = 0; i < hub_cache_plan_unmatched_count(plan); i++)
        cli_warn("not in the cache: %s", hub_cache_plan_unmatched(plan, i));
    size_t nops = hub_cache_plan_op_count(plan);
    if (!nops) {
        if (ro->json)
            print_json(stdout, plan, ro->dry_run, false);
        else
            puts(ro->prune ? "Nothing to prune." : "Nothing to delete.");
        return EXIT_OK;
    }
    if (ro->dry_run) {
        if (ro->json)
            print_json(stdout, plan, true, false);
        else {
            print_plan(stdout, plan, ro->prune);
            puts("Dry run: nothing was deleted.");
        }
        return EXIT_OK;
    }
    if (!ro->json)
        print_plan(stdout, plan, ro->prune);
    fflush(stdout);
    if (!ro->yes) {
        if (!isatty(STDIN_FILENO)) {
            cli_err("not deleting without confirmation: there is no "
                    "terminal to ask; pass -y (or --dry-run to look)");
            return EXIT_USAGE;
        }
        if (!confirm("Proceed with deletion?")) {
            cli_err("aborted: nothing was deleted");
            return EXIT_FAILURE_;
        }
    }
    cli_cancel_on_signal(client); /* stops between two operations */
    int err = hub_cache_execute(plan, client);
    cli_cancel_on_signal_end();
    char msg[2048];
    snprintf(msg, sizeof(msg), "%s",
             err != HUB_OK ? hub_error_last()->message : "");
    for (size_t i = 0; i < nops; i++) {
        const hub_cache_op *o = hub_cache_plan_op(plan, i);
        if (o->state == HUB_CACHE_OP_IN_USE || o->state == HUB_CACHE_OP_CHANGED)
            cli_warn("kept %s: %s", o->path, o->message ? o->message : "");
        else if (o->state == HUB_CACHE_OP_FAILED)
            cli_warn("could not delete %s: %s", o->path,
                     o->message ? o->message : "");
        else if (o->state == HUB_CACHE_OP_DONE && o->message)
            cli_warn("%s: %s", o->path, o->message);
    }
    if (ro->json) {
        print_json(stdout, plan, false, true);
    } else {
        counts c = count_ops(plan, true);
        char size[32];
        cli_cache_size(hub_cache_plan_freed(plan), size, sizeof(size));
        fputs("Deleted ", stdout);
        summary(stdout, &c, ro->prune);
        printf("; freed %s (%llu bytes).\n", size,
               (unsigned long long)hub_cache_plan_freed(plan));
    }
    if (fflush(stdout) != 0 || ferror(stdout))
        cli_warn("cannot write the report: %s", strerror(errno));
    if (err != HUB_OK) {
        cli_err("%s", msg);
        return cli_exit_code(err);
    }
    return EXIT_OK;
}

static int main_of(int argc, char **argv, bool prune)
{
    hub_client_options copts = HUB_CLIENT_OPTIONS_INIT;
    hub_cache_prune_options popts = HUB_CACHE_PRUNE_OPTIONS_INIT;
    run_opts ro = {0};
    ro.prune = prune;
    const char **targets = calloc((size_t)argc + 1, sizeof(*targets));
    size_t ntargets = 0;
    if (!targets)
        return cli_error("out of memory");
    const char *name = prune ? "prune" : "rm";
    cli_opt_state st;
    cli_opt_init(&st, argc, argv);
    int id, rc = EXIT_OK;
    uint64_t v;
    while (rc == EXIT_OK &&
           (id = cli_opt_next(&st, rm_options)) != CLI_OPT_END) {
        switch (id) {
        case O_HELP:
            prune ? prune_help(stdout) : rm_help(stdout);
            free(targets);
            return EXIT_OK;
        case O_DRY_RUN:
            ro.dry_run = true;
            break;
        case O_YES:
            ro.yes = true;
            break;
        case O_FORMAT:
            if (strcmp(st.arg, "json") == 0)
                ro.json = true;
            else if (strcmp(st.arg, "table") != 0)
                rc = cli_usage("invalid --format '%s'; use table or json",
                               st.arg);
            break;
        case O_CACHE_DIR:
            copts.cache_dir = st.arg;
            break;
        case O_HUB:
            rc = cli_parse_hub(st.arg, &copts.hub);
            break;
        case O_OLDER_THAN:
        case O_PARTIAL_AGE:
            if (!prune)
                rc = cli_usage("option '%s' is for 'cache prune'", st.bad);
            else if (!cli_parse_duration(st.arg, &v) || v > INT64_MAX)
                rc = cli_usage("invalid duration '%s' (e.g. 30d, 12h)", st.arg);
            else if (id == O_OLDER_THAN)
                popts.older_than = v ? (int64_t)v : 1;
            else
                popts.partial_age = v ? (int64_t)v : -1;
            break;
        case O_MAX_SIZE:
            if (!prune)
                rc = cli_usage("option '%s' is for 'cache prune'", st.bad);
            else if (!cli_parse_size(st.arg, &v))
                rc = cli_usage("invalid size '%s' (e.g. 50GB)", st.arg);
            else
                popts.max_size = v ? v : 1;
            break;
        case CLI_OPT_POSITIONAL:
            if (prune)
                rc = cli_usage("unexpected argument '%s'; see 'hubfetch "
                               "cache prune --help'",
                               st.positional);
            else
                targets[ntargets++] = st.positional;
            break;
        case CLI_OPT_UNKNOWN:
            rc = cli_usage("unknown option '%s'; see 'hubfetch cache %s "
                           "--help'",
                           st.bad, name);
            break;
        case CLI_OPT_MISSING:
            rc = cli_usage("option '%s' needs a value", st.bad);
            break;
        default:
            break;
        }
    }
    if (rc == EXIT_OK && !prune && !ntargets)
        rc = cli_usage("what to delete? e.g. 'hubfetch cache rm "
                       "model:org/name'; see 'hubfetch cache rm --help'");
    if (rc != EXIT_OK) {
        free(targets);
        return rc;
    }
    hub_client *client = NULL;
    hub_cache_info *info = NULL;
    hub_cache_plan *plan = NULL;
    int err = hub_client_new(&client, &copts);
    if (err == HUB_OK)
        err = hub_cache_scan(&info, client, NULL);
    if (err == HUB_OK && prune)
        err = hub_cache_plan_prune(&plan, info, &popts);
    else if (err == HUB_OK)
        err = hub_cache_plan_delete(&plan, info, targets, ntargets);
    if (err != HUB_OK) {
        rc = cli_fail(err);
    } else {
        /* the scan's warnings are for 'cache ls'; deleting needs none */
        rc = run(client, plan, &ro);
    }
    hub_cache_plan_free(plan);
    hub_cache_info_free(info);
    hub_client_free(client);
    free(targets);
    return rc;
}

int cmd_cache_rm(int argc, char **argv)
{
    return main_of(argc, argv, false);
}

int cmd_cache_prune(int argc, char **argv)
{
    return main_of(argc, argv, true);
}
