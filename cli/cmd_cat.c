/* SPDX-License-Identifier: MIT */
/* cmd_cat.c: hubfetch cat REPO_ID FILE [--range START-END]: a file's bytes
 * (or a range of them) to stdout, streamed as they arrive */
#include "cli.h"
#include "client_args.h"
#include "opt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    O_HELP = 1,
    O_RANGE,
    O_TYPE,
    O_REVISION,
    O_NO_CACHE,
};

static const cli_opt options[] = {
    {"help", 'h', false, O_HELP},
    {"range", 'r', true, O_RANGE},
    {"repo-type", 0, true, O_TYPE},
    {"type", 0, true, O_TYPE},
    {"revision", 0, true, O_REVISION},
    {"no-cache", 0, false, O_NO_CACHE},
    CLI_CLIENT_OPTIONS,
    CLI_LOG_OPTIONS,
    {NULL, 0, false, 0},
};

static void help(FILE *fp)
{
    fputs(
        "usage: hubfetch cat REPO_ID FILE [options]\n"
        "\n"
        "Write a file of a repository (or a range of its bytes) to stdout as\n"
        "it arrives, without putting it in the cache. A file the cache holds\n"
        "at that revision is read from disk, with no request. A whole file\n"
        "is verified as it streams (sha256 for LFS files, git sha1 for the\n"
        "others) against the hub's etag: a mismatch is reported after the\n"
        "last byte, with exit code 29.\n"
        "\n"
        "  --range START-END      bytes START to END, both included (as in\n"
        "                         HTTP); START- to the end of the file; an\n"
        "                         END past the end stops at the end (a part\n"
        "                         is not verified)\n"
        "  --revision REV         branch, tag, commit or refs/pr/N (main)\n"
        "  --repo-type TYPE       model (default), dataset or space\n"
        "  --no-cache             ask the hub even if the cache holds it\n"
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
        "  --retries N            retries of a failing request (5); a retry\n"
        "                         resumes after the bytes already written\n"
        "  -q, --quiet            no warnings\n"
        "  -v, --verbose          say what is happening (retries)\n"
        "  -h, --help             this help\n"
        "\n"
        "A closed stdout (cat FILE | head) ends it quietly, exit code 0.\n"
        "exit codes: 0 written, 2 usage or a range starting past the end,\n"
        "15 repository not found, 16 revision not found, 17 no such file,\n"
        "19 not authorized, 21 not cached (offline), 22 network error, 29\n"
        "checksum mismatch, 31 interrupted; all in docs/CLI.md\n",
        fp);
}

static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* "START-END" (inclusive) or "START-" into offset and length. */
static bool parse_range(const char *s, uint64_t *offset, uint64_t *length)
{
    const char *dash = strchr(s, '-');
    if (!dash || !parse_u64(s, (size_t)(dash - s), offset))
        return false;
    if (!dash[1]) {
        *length = UINT64_MAX;
        return true;
    }
    uint64_t end;
    if (!parse_u64(dash + 1, strlen(dash + 1), &end) || end < *offset)
        return false;
    *length = end == UINT64_MAX ? UINT64_MAX : end - *offset + 1;
    return true;
}

typedef struct out_state {
    int error; /* errno of a failed write */
} out_state;

static int to_stdout(const void *data, size_t len, void *payload)
{
    out_state *o = payload;
    const char *p = data;
    while (len) {
        ssize_t n = write(STDOUT_FILENO, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            o->error = n < 0 ? errno : EIO;
            return 1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int cmd_cat(int argc, char **argv)
{
    hub_client_options copts;
    hub_read_options ropts;
    hub_client_options_init(&copts, HUB_CLIENT_OPTIONS_VERSION);
    hub_read_options_init(&ropts, HUB_READ_OPTIONS_VERSION);
    cli_client_args ca;
    const char *repo_id = NULL, *path = NULL;
    uint64_t offset = 0, length = UINT64_MAX;
    int rc = EXIT_OK;
    hub_client *client = NULL;
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
                rc = cli_usage("one FILE only; see 'hubfetch cat --help'");
                goto done;
            }
            break;
        case O_RANGE:
            if (!parse_range(st.arg, &offset, &length)) {
                rc = cli_usage("--range must be START-END (END included, "
                               "not before START) or START-, not '%s'",
                               st.arg);
                goto done;
            }
            break;
        case O_TYPE:
            if ((rc = cli_parse_repo_type(st.arg, &ropts.repo_type)) != EXIT_OK)
                goto done;
            break;
        case O_REVISION:
            ropts.revision = st.arg;
            break;
        case O_NO_CACHE:
            ropts.flags |= HUB_READ_NO_CACHE;
            break;
        case CLI_OPT_UNKNOWN:
            rc = cli_usage("unknown option '%s'; see 'hubfetch cat --help'",
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
    if (!repo_id || !repo_id[0] || !path || !path[0]) {
        rc = cli_usage("missing %s; see 'hubfetch cat --help'",
                       !repo_id || !repo_id[0] ? "REPO_ID" : "FILE");
        goto done;
    }
    /* the whole file, however it was asked for, is checked */
    if (offset == 0 && length == UINT64_MAX)
        ropts.flags |= HUB_READ_VERIFY;
    cli_client_log(&ca);

    int err = hub_client_new(&client, &copts);
    if (err != HUB_OK) {
        rc = cli_fail(err);
        goto done;
    }
    cli_cancel_on_signal(client);
    out_state out = {0};
    err = hub_read(NULL, client, repo_id, path, offset, length, &ropts,
                   to_stdout, &out);
    cli_cancel_on_signal_end();
    if (out.error == EPIPE) {
        rc = EXIT_OK; /* the reader had enough: not an error */
    } else if (out.error) {
        rc = cli_error("cannot write to stdout: %s", strerror(out.error));
    } else if (err == HUB_ECANCELLED && cli_interrupted()) {
        cli_err("interrupted");
        rc = cli_exit_code(HUB_ECANCELLED);
    } else if (err != HUB_OK) {
        rc = cli_fail(err);
    }
done:
    hub_client_free(client);
    cli_client_args_free(&ca);
    return rc;
}
