/* SPDX-License-Identifier: MIT */
/* cmd_ls.c: hubfetch ls REPO_ID [PATH]: what a revision holds on the hub */
#include "cli.h"
#include "client_args.h"
#include "opt.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

enum {
    O_HELP = 1,
    O_RECURSIVE,
    O_LONG,
    O_EXPAND,
    O_FORMAT,
    O_TYPE,
    O_REVISION,
};

static const cli_opt options[] = {
    {"help", 'h', false, O_HELP},
    {"recursive", 'R', false, O_RECURSIVE},
    {"long", 'l', false, O_LONG},
    {"expand", 0, false, O_EXPAND},
    {"last-commit", 0, false, O_EXPAND},
    {"format", 0, true, O_FORMAT},
    {"repo-type", 0, true, O_TYPE},
    {"type", 0, true, O_TYPE},
    {"revision", 0, true, O_REVISION},
    CLI_CLIENT_OPTIONS,
    CLI_LOG_OPTIONS,
    {NULL, 0, false, 0},
};

static void help(FILE *fp)
{
    fputs(
        "usage: hubfetch ls REPO_ID [PATH] [options]\n"
        "\n"
        "List the files and folders of a repository at a revision, as the\n"
        "hub holds them (nothing is downloaded; the cache is not used).\n"
        "Folders end in '/'. Lines are printed as the hub's pages arrive.\n"
        "\n"
        "  PATH                   a folder to list (default: the root), or a\n"
        "                         file to show alone\n"
        "  -R, --recursive        everything below, not only the folder's\n"
        "                         direct entries\n"
        "  -l, --long             size (human and bytes), storage (git, lfs,\n"
        "                         xet, dir) and id: the sha256 of LFS and\n"
        "                         Xet files (their blob name in the cache),\n"
        "                         else the git object id\n"
        "  --expand, --last-commit  also the last commit of each entry (id,\n"
        "                         date, title; implies -l in a table); the\n"
        "                         hub then pages by 50 entries: slower\n"
        "  --format FMT           table (default) or json: a JSON array of\n"
        "                         the tree API's entries (type, path, size,\n"
        "                         oid, lfs, xetHash, lastCommit)\n"
        "  --revision REV         branch, tag, commit or refs/pr/N (main)\n"
        "  --repo-type TYPE       model (default), dataset or space\n"
        "  --hub HUB              huggingface (default); modelscope is not\n"
        "                         supported\n"
        "  --token TOKEN          access token (default: HF_TOKEN, then the\n"
        "                         token file); sent only to the first\n"
        "                         endpoint\n"
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
        "exit codes: 0 listed, 2 usage, 15 repository not found, 16\n"
        "revision not found, 17 no such path, 19 not authorized, 22 network\n"
        "error, 31 interrupted; all in docs/CLI.md\n",
        fp);
}

static const char *storage(const hub_entry *e)
{
    if (e->type == HUB_ENTRY_DIRECTORY)
        return "dir";
    if (e->xet_hash)
        return "xet";
    return e->lfs_sha256 ? "lfs" : "git";
}

static void print_table(const hub_entry *e, bool is_long, bool expand)
{
    const char *slash = e->type == HUB_ENTRY_DIRECTORY ? "/" : "";
    if (!is_long && !expand) {
        printf("%s%s\n", e->path, slash);
        return;
    }
    char human[32] = "-", exact[32] = "-";
    if (e->type == HUB_ENTRY_FILE) {
        cli_format_size(e->size, human, sizeof(human));
        snprintf(exact, sizeof(exact), "%llu", (unsigned long long)e->size);
    }
    const char *id = e->lfs_sha256 ? e->lfs_sha256 : e->oid ? e->oid : "-";
    printf("%7s %12s  %-3s  %-64s  ", human, exact, storage(e), id);
    if (expand) {
        char date[11] = "-";
        if (e->last_commit_date)
            snprintf(date, sizeof(date), "%s", e->last_commit_date);
        printf("%.7s  %-10s  ", e->last_commit_id ? e->last_commit_id : "-",
               date);
    }
    printf("%s%s", e->path, slash);
    if (expand && e->last_commit_title)
        printf("  %s", e->last_commit_title);
    putchar('\n');
}

static void print_json(const hub_entry *e, bool first)
{
    fputs(first ? "[\n" : ",\n", stdout);
    bool dir = e->type == HUB_ENTRY_DIRECTORY;
    printf("{\"type\":\"%s\",\"path\":", dir ? "directory" : "file");
    cli_json_string(stdout, e->path);
    printf(",\"size\":%llu,\"oid\":", (unsigned long long)e->size);
    if (e->oid)
        cli_json_string(stdout, e->oid);
    else
        fputs("null", stdout);
    if (e->lfs_sha256) {
        printf(",\"lfs\":{\"oid\":\"%s\",\"size\":%llu", e->lfs_sha256,
               (unsigned long long)e->lfs_size);
        if (e->lfs_pointer_size)
            printf(",\"pointerSize\":%llu",
                   (unsigned long long)e->lfs_pointer_size);
        putchar('}');
    }
    if (e->xet_hash)
        printf(",\"xetHash\":\"%s\"", e->xet_hash);
    if (e->last_commit_id) {
        printf(",\"lastCommit\":{\"id\":\"%s\",\"title\":", e->last_commit_id);
        cli_json_string(stdout,
                        e->last_commit_title ? e->last_commit_title : "");
        fputs(",\"date\":", stdout);
        cli_json_string(stdout, e->last_commit_date ? e->last_commit_date : "");
        putchar('}');
    }
    putchar('}');
}

int cmd_remote_ls(int argc, char **argv)
{
    hub_client_options copts;
    hub_list_options lopts;
    hub_client_options_init(&copts, HUB_CLIENT_OPTIONS_VERSION);
    hub_list_options_init(&lopts, HUB_LIST_OPTIONS_VERSION);
    cli_client_args ca;
    const char *repo_id = NULL, *path = NULL;
    bool is_long = false, json = false;
    int rc = EXIT_OK;
    hub_client *client = NULL;
    hub_list *it = NULL;
    if (cli_client_args_init(&ca, &copts, argc) != EXIT_OK)
        return EXIT_FAILURE_;

    cli_opt_state st;
    cli_opt_init(&st, argc - 1, argv + 1);
    int id;
    while ((id = cli_opt_next(&st, options)) != CLI_OPT_END) {
        switch (id) {
        case O_HELP:
            help(stdout);
            goto done;
        case CLI_OPT_POSITIONAL:
            if (!repo_id) {
                repo_id = st.positional;
            } else if (!path) {
                path = st.positional;
            } else {
                rc = cli_usage("one PATH at most; see 'hubfetch ls --help'");
                goto done;
            }
            break;
        case O_RECURSIVE:
            lopts.recursive = 1;
            break;
        case O_LONG:
            is_long = true;
            break;
        case O_EXPAND:
            lopts.expand = 1;
            break;
        case O_FORMAT:
            if (strcmp(st.arg, "json") == 0) {
                json = true;
            } else if (strcmp(st.arg, "table") == 0) {
                json = false;
            } else {
                rc = cli_usage("--format must be table or json, not '%s'",
                               st.arg);
                goto done;
            }
            break;
        case O_TYPE:
            if ((rc = cli_parse_repo_type(st.arg, &lopts.repo_type)) != EXIT_OK)
                goto done;
            break;
        case O_REVISION:
            lopts.revision = st.arg;
            break;
        case CLI_OPT_UNKNOWN:
            rc = cli_usage("unknown option '%s'; see 'hubfetch ls --help'",
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
        rc = cli_usage("missing REPO_ID; see 'hubfetch ls --help'");
        goto done;
    }
    cli_client_log(&ca);

    int err = hub_client_new(&client, &copts);
    if (err != HUB_OK) {
        rc = cli_fail(err);
        goto done;
    }
    cli_cancel_on_signal(client);

    err = hub_list_open(&it, client, repo_id, path, &lopts);
    size_t n = 0;
    while (err == HUB_OK && !cli_interrupted()) {
        const hub_entry *e = NULL;
        err = hub_list_next(it, &e);
        if (err != HUB_OK)
            break;
        if (json)
            print_json(e, n == 0);
        else
            print_table(e, is_long, lopts.expand != 0);
        n++;
    }
    cli_cancel_on_signal_end();
    /* a listing cut short leaves the array open: no reader takes it for
     * the whole */
    if (json && err == HUB_LIST_DONE)
        fputs(n ? "\n]\n" : "[]\n", stdout);
    if (fflush(stdout) != 0) {
        rc = cli_error("cannot write to stdout: %s", strerror(errno));
        goto done;
    }
    if (cli_interrupted() && (err == HUB_OK || err == HUB_LIST_DONE)) {
        cli_err("interrupted");
        rc = cli_exit_code(HUB_ECANCELLED);
    } else if (err != HUB_LIST_DONE)
        rc = cli_fail(err);
done:
    hub_list_free(it);
    hub_client_free(client);
    cli_client_args_free(&ca);
    return rc;
}
