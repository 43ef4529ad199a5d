/* SPDX-License-Identifier: MIT */
/* cmd_download.c: hubfetch download REPO_ID [FILES...] */
#include "cli.h"
#include "client_args.h"
#include "opt.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    O_HELP = 1,
    O_TYPE,
    O_REVISION,
    O_INCLUDE,
    O_EXCLUDE,
    O_CACHE_DIR,
    O_LOCAL_DIR,
    O_OFFLINE,
    O_PREFER_OFFLINE,
    O_FORCE,
    O_WORKERS,
    O_DRY_RUN,
    O_QUIET,
    O_VERBOSE,
    O_PROGRESS,
    O_CONNECTIONS,
    O_MAX_CONNECTIONS,
    O_LIMIT_RATE,
    O_STALL,
    O_PART_SIZE,
};

static const cli_opt options[] = {
    {"help", 'h', false, O_HELP},
    {"repo-type", 0, true, O_TYPE},
    {"type", 0, true, O_TYPE},
    {"revision", 0, true, O_REVISION},
    {"include", 0, true, O_INCLUDE},
    {"exclude", 0, true, O_EXCLUDE},
    {"cache-dir", 0, true, O_CACHE_DIR},
    {"local-dir", 0, true, O_LOCAL_DIR},
    {"offline", 0, false, O_OFFLINE},
    {"prefer-offline", 0, false, O_PREFER_OFFLINE},
    {"force-download", 0, false, O_FORCE},
    {"max-workers", 0, true, O_WORKERS},
    {"dry-run", 0, false, O_DRY_RUN},
    {"quiet", 'q', false, O_QUIET},
    {"verbose", 'v', false, O_VERBOSE},
    {"progress", 0, true, O_PROGRESS},
    {"connections", 'c', true, O_CONNECTIONS},
    {"max-connections", 0, true, O_MAX_CONNECTIONS},
    {"limit-rate", 0, true, O_LIMIT_RATE},
    {"stall-timeout", 0, true, O_STALL},
    {"part-size", 0, true, O_PART_SIZE},
    CLI_CLIENT_OPTIONS,
    {NULL, 0, false, 0},
};

static void help(FILE *fp)
{
    fputs(
        "usage: hubfetch download REPO_ID [FILES...] [options]\n"
        "\n"
        "Download files of a repository into the Hugging Face cache (or a\n"
        "local directory) and print where they are: the file's path when one\n"
        "file is named, else the snapshot folder. Only the path goes to\n"
        "stdout, so MODEL=$(hubfetch download org/name) works.\n"
        "\n"
        "  FILES                  files to fetch; one ending in '/' fetches\n"
        "                         that folder\n"
        "  --hub HUB              huggingface (default) or modelscope\n"
        "  --repo-type TYPE       model (default), dataset or space\n"
        "  --revision REV         branch, tag, commit or refs/pr/N (main)\n"
        "  --include PATTERN      fetch only matching files (repeatable)\n"
        "  --exclude PATTERN      skip matching files (repeatable)\n"
        "  --cache-dir DIR        cache directory (default: HF_HUB_CACHE,\n"
        "                         HF_HOME/hub, ~/.cache/huggingface/hub)\n"
        "  --local-dir DIR        put real files in DIR instead\n"
        "  --token TOKEN          access token (default: HF_TOKEN, then the\n"
        "                         token file); sent only to the first\n"
        "                         endpoint (with 'auto': huggingface.co)\n"
        "  --endpoint URL         hub endpoint (default: HF_ENDPOINT, then\n"
        "                         https://huggingface.co); repeat it for\n"
        "                         fallbacks tried in order; 'auto' is\n"
        "                         huggingface.co with hf-mirror.com as\n"
        "                         fallback (the other order for a zh_CN\n"
        "                         locale)\n"
        "  --send-token-to-mirrors  send the token to the fallback\n"
        "                         endpoints too (hf-mirror.com with 'auto')\n"
        "  --proxy URL            http://, socks5:// or socks5h:// proxy\n"
        "                         (default: HTTPS_PROXY, HTTP_PROXY, "
        "ALL_PROXY)\n"
        "  --no-proxy HOSTS       hosts reached directly (default: NO_PROXY)\n"
        "  --ca-bundle FILE       CA certificates to trust (SSL_CERT_FILE)\n"
        "  --offline              use only the cache, never the network\n"
        "  --prefer-offline       no request at all when the cache has\n"
        "                         everything asked for; else as usual\n"
        "  --force-download       fetch again even if cached\n"
        "  --max-workers N        files fetched at once (8)\n"
        "  -c, --connections N    connections per large file (16)\n"
        "  --max-connections N    connections in all (16)\n"
        "  --limit-rate RATE      cap the total rate, e.g. 500K, 50M, 1G\n"
        "                         (bytes per second, K/M/G = 1024-based)\n"
        "  --stall-timeout SECS   reconnect after SECS without a byte (30)\n"
        "  --part-size SIZE       bytes per ranged request (auto)\n"
        "  --retries N            retries of a failing request (5)\n"
        "  --dry-run              list what would be fetched, with sizes\n"
        "  --progress MODE        auto (bar on a terminal), bar, json, none\n"
        "  -q, --quiet            no progress, no warnings\n"
        "  -v, --verbose          say what is happening (retries, locks)\n"
        "  -h, --help             this help\n"
        "\n"
        "Patterns follow huggingface_hub: '*' and '?' also match '/',\n"
        "'[seq]', '[!seq]'; 'dir/' means everything below dir.\n"
        "\n"
        "exit codes (all: docs/CLI.md):\n"
        "   0 success                    21 not in the cache (offline)\n"
        "   1 other failure              22 network error\n"
        "   2 usage error                23 TLS error\n"
        "  15 repository not found       24 timed out\n"
        "  16 revision not found         25 proxy error\n"
        "  17 file not found in the repo 26 other HTTP error\n"
        "  18 gated repo, no access      27 disk I/O error\n"
        "  19 not authorized (token)     28 disk full\n"
        "  20 rate limited (HTTP 429)    29 checksum mismatch\n"
        "  30 unexpected server reply    31 cancelled (Ctrl-C)\n"
        "  32 timed out on a cache lock\n",
        fp);
}

typedef struct progress_ctx {
    cli_progress *view;
} progress_ctx;

static int on_progress(const hub_progress *p, void *payload)
{
    progress_ctx *ctx = payload;
    int rc = ctx->view ? cli_progress_cb(p, ctx->view) : 0;
    return cli_interrupted() ? 1 : rc;
}

typedef struct log_ctx {
    int level;
    cli_progress *view;
} log_ctx;

static void on_log(int level, const char *msg, void *payload)
{
    log_ctx *ctx = payload;
    if (level > ctx->level)
        return;
    if (cli_json_errors) {
        static const char *names[] = {"error", "warning", "info", "debug",
                                      "trace"};
        cli_json_log(
            level >= 0 && level <= HUB_LOG_TRACE ? names[level] : "info", msg);
        return;
    }
    if (ctx->view)
        cli_progress_clear(ctx->view);
    cli_err("%s%s", level <= HUB_LOG_WARN ? "warning: " : "", msg);
}

/* "50M", "1.5G", "800K", "1000": bytes, 1024-based suffixes as curl's
 * --limit-rate; an optional trailing "B" or "/s" is accepted. */
static bool parse_size(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v <= 0)
        return false;
    double mult = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mult = 1024.0;
        end++;
        break;
    case 'm':
    case 'M':
        mult = 1024.0 * 1024.0;
        end++;
        break;
    case 'g':
    case 'G':
        mult = 1024.0 * 1024.0 * 1024.0;
        end++;
        break;
    default:
        break;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    if (strcmp(end, "/s") == 0)
        end += 2;
    if (*end || v * mult > 1e18)
        return false;
    *out = (uint64_t)(v * mult);
    return *out > 0;
}

static const char *dry_run_status(hub_file_status status)
{
    switch (status) {
    case HUB_FILE_PLANNED:
        return "to download";
    case HUB_FILE_LINKED:
        return "in the cache, to link";
    case HUB_FILE_MISSING:
        return "missing";
    default:
        return "cached";
    }
}

static int print_dry_run(const hub_result *r)
{
    size_t n = hub_result_file_count(r), todo = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const hub_file_info *f = hub_result_file(r, i);
        if (f->status == HUB_FILE_PLANNED) {
            todo++;
            bytes += f->size == UINT64_MAX ? 0 : f->size;
        }
    }
    char total[32];
    cli_format_size(bytes, total, sizeof(total));
    printf("[dry-run] Will download %zu files (out of %zu) totalling %s.\n",
           todo, n, total);
    printf("%-60s %10s  %s\n", "FILE", "SIZE", "STATUS");
    for (size_t i = 0; i < n; i++) {
        const hub_file_info *f = hub_result_file(r, i);
        char size[32];
        cli_format_size(f->size, size, sizeof(size));
        printf("%-60s %10s  %s\n", f->path, size, dry_run_status(f->status));
    }
    return EXIT_OK;
}

/* Does the command line ask for JSON progress? Looked at before parsing,
 * so that even a usage error comes out as JSON to a GUI that asked. */
static bool wants_json(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--progress") == 0 && i + 1 < argc)
            json = strcmp(argv[++i], "json") == 0;
        else if (strncmp(argv[i], "--progress=", 11) == 0)
            json = strcmp(argv[i] + 11, "json") == 0;
    }
    return json;
}

static bool ends_with_slash(const char *s)
{
    size_t n = strlen(s);
    return n && s[n - 1] == '/';
}

int cmd_download(int argc, char **argv)
{
    hub_client_options copts;
    hub_download_options dopts;
    hub_client_options_init(&copts, HUB_CLIENT_OPTIONS_VERSION);
    hub_download_options_init(&dopts, HUB_DOWNLOAD_OPTIONS_VERSION);
    const char *repo_id = NULL;
    const char **files = calloc((size_t)argc + 1, sizeof(char *));
    const char **include = calloc((size_t)argc + 1, sizeof(char *));
    const char **dirs = calloc((size_t)argc + 1, sizeof(char *));
    const char **exclude = calloc((size_t)argc + 1, sizeof(char *));
    cli_client_args ca = {0};
    size_t nfiles = 0, ninclude = 0, nexclude = 0, ndirs = 0;
    bool quiet = false;
    int verbose = 0;
    cli_progress_mode mode =
        isatty(STDERR_FILENO) ? CLI_PROGRESS_BAR : CLI_PROGRESS_NONE;
    int rc = EXIT_OK;
    hub_client *client = NULL;
    hub_result *result = NULL;
    progress_ctx pctx = {NULL};
    log_ctx lctx = {HUB_LOG_WARN, NULL};
    cli_json_errors = wants_json(argc, argv);
    if (!files || !include || !dirs || !exclude) {
        rc = cli_error("out of memory");
        goto done;
    }
    if ((rc = cli_client_args_init(&ca, &copts, argc)) != EXIT_OK)
        goto done;

    cli_opt_state st;
    cli_opt_init(&st, argc - 1, argv + 1);
    int id;
    while ((id = cli_opt_next(&st, options)) != CLI_OPT_END) {
        switch (id) {
        case O_HELP:
            help(stdout);
            goto done;
        case CLI_OPT_POSITIONAL:
            if (!st.positional[0]) {
                rc = cli_usage("an empty argument is neither a repository "
                               "nor a file");
                goto done;
            }
            if (!repo_id)
                repo_id = st.positional;
            else if (ends_with_slash(st.positional))
                dirs[ndirs++] = st.positional; /* "dir/": dir/ * */
            else
                files[nfiles++] = st.positional;
            break;
        case O_TYPE:
            if ((rc = cli_parse_repo_type(st.arg, &dopts.repo_type)) != EXIT_OK)
                goto done;
            break;
        case O_REVISION:
            dopts.revision = st.arg;
            break;
        case O_INCLUDE:
            include[ninclude++] = st.arg;
            break;
        case O_EXCLUDE:
            exclude[nexclude++] = st.arg;
            break;
        case O_CACHE_DIR:
            copts.cache_dir = st.arg;
            break;
        case O_LOCAL_DIR:
            dopts.local_dir = st.arg;
            break;
        case O_OFFLINE:
            dopts.local_files_only = 1;
            break;
        case O_PREFER_OFFLINE:
            dopts.prefer_offline = 1;
            break;
        case O_FORCE:
            dopts.force_download = 1;
            break;
        case O_WORKERS:
            if (!cli_parse_int(st.arg, 1, 256, &copts.max_files)) {
                rc = cli_usage("--max-workers needs a number from 1 to 256");
                goto done;
            }
            break;
        case O_DRY_RUN:
            dopts.dry_run = 1;
            break;
        case O_QUIET:
            quiet = true;
            break;
        case O_VERBOSE:
            verbose++;
            break;
        case O_PROGRESS:
            if (strcmp(st.arg, "auto") == 0)
                mode = isatty(STDERR_FILENO) ? CLI_PROGRESS_BAR
                                             : CLI_PROGRESS_NONE;
            else if (strcmp(st.arg, "bar") == 0)
                mode = CLI_PROGRESS_BAR;
            else if (strcmp(st.arg, "json") == 0)
                mode = CLI_PROGRESS_JSON;
            else if (strcmp(st.arg, "none") == 0)
                mode = CLI_PROGRESS_NONE;
            else {
                rc = cli_usage("--progress must be auto, bar, json or none");
                goto done;
            }
            break;
        case O_CONNECTIONS:
            if (!cli_parse_int(st.arg, 1, 64, &copts.connections)) {
                rc = cli_usage("--connections needs a number from 1 to 64");
                goto done;
            }
            break;
        case O_MAX_CONNECTIONS:
            if (!cli_parse_int(st.arg, 1, 256, &copts.max_connections)) {
                rc =
                    cli_usage("--max-connections needs a number from 1 to 256");
                goto done;
            }
            break;
        case O_LIMIT_RATE:
            if (!parse_size(st.arg, &copts.max_rate)) {
                rc = cli_usage(
                    "--limit-rate needs a rate such as 500K or 50M, not "
                    "'%s'",
                    st.arg);
                goto done;
            }
            break;
        case O_STALL: {
            int secs = 0;
            if (!cli_parse_int(st.arg, 1, 86400, &secs)) {
                rc =
                    cli_usage("--stall-timeout needs seconds, from 1 to 86400");
                goto done;
            }
            copts.stall_timeout_ms = secs * 1000L;
            break;
        }
        case O_PART_SIZE:
            if (!parse_size(st.arg, &copts.part_size) ||
                copts.part_size < 64 * 1024) {
                rc = cli_usage("--part-size needs a size of at least 64K");
                goto done;
            }
            break;
        case CLI_OPT_UNKNOWN:
            rc = cli_usage(
                "unknown option '%s'; see 'hubfetch download --help'", st.bad);
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
    if (!repo_id) {
        rc = cli_usage("missing REPO_ID; see 'hubfetch download --help'");
        goto done;
    }
    if (dopts.local_dir && copts.cache_dir) {
        rc = cli_usage("--local-dir and --cache-dir cannot be combined");
        goto done;
    }
    if (nfiles && (ninclude || nexclude)) {
        if (!quiet)
            cli_warn("--include/--exclude are ignored when files are named");
        ninclude = nexclude = 0;
    }
    for (size_t i = 0; i < ndirs; i++)
        include[ninclude++] = dirs[i];
    if (quiet && mode == CLI_PROGRESS_BAR)
        mode = CLI_PROGRESS_NONE;
    if (dopts.dry_run && mode == CLI_PROGRESS_BAR)
        mode = CLI_PROGRESS_NONE;

    dopts.files = files;
    dopts.file_count = nfiles;
    dopts.allow_patterns = include;
    dopts.allow_count = ninclude;
    dopts.ignore_patterns = exclude;
    dopts.ignore_count = nexclude;

    if (mode != CLI_PROGRESS_NONE)
        pctx.view = cli_progress_new(mode, stderr);
    cli_json_errors = mode == CLI_PROGRESS_JSON;
    lctx.view = pctx.view;
    lctx.level = quiet ? HUB_LOG_ERROR
                       : (verbose ? HUB_LOG_INFO + verbose - 1 : HUB_LOG_WARN);
    copts.log_cb = on_log;
    copts.log_payload = &lctx;
    copts.log_level = lctx.level;
    dopts.progress_cb = on_progress;
    dopts.progress_payload = &pctx;

    int err = hub_client_new(&client, &copts);
    if (err != HUB_OK) {
        rc = cli_fail(err);
        goto done;
    }
    cli_cancel_on_signal(client);
    /* a signal just before the call started is seen by on_progress */
    err = hub_download(&result, client, repo_id, &dopts);
    cli_cancel_on_signal_end();
    if (err != HUB_OK) {
        rc = cli_fail(err);
        goto done;
    }
    if (dopts.dry_run)
        rc = print_dry_run(result);
    else
        printf("%s\n", hub_result_path(result));
    if (fflush(stdout) != 0) {
        rc = cli_error("cannot write to stdout: %s", strerror(errno));
    }
done:
    hub_result_free(result);
    hub_client_free(client);
    cli_progress_free(pctx.view);
    free(files);
    free(include);
    free(dirs);
    free(exclude);
    cli_client_args_free(&ca);
    return rc;
}
