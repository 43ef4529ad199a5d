/* SPDX-License-Identifier: MIT */
/* cmd_auth.c: hubfetch auth login | logout | whoami */
#include "cli.h"
#include "opt.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define TOKEN_MAX 4096

enum { O_HELP = 1, O_TOKEN, O_ENDPOINT };

static const cli_opt options[] = {
    {"help", 'h', false, O_HELP},
    {"token", 0, true, O_TOKEN},
    {"endpoint", 0, true, O_ENDPOINT},
    {NULL, 0, false, 0},
};

static void help(FILE *fp)
{
    fputs(
        "usage: hubfetch auth login [--token TOKEN] [--endpoint URL]\n"
        "       hubfetch auth whoami [--token TOKEN] [--endpoint URL]\n"
        "       hubfetch auth logout\n"
        "\n"
        "Log in as huggingface_hub does: the token is checked with the hub\n"
        "(whoami), then saved in the token file every Hugging Face client\n"
        "reads (HF_TOKEN_PATH, else HF_HOME/token, else\n"
        "~/.cache/huggingface/token), mode 0600, and named in stored_tokens\n"
        "beside it. The token is never printed.\n"
        "\n"
        "  login                  read the token from stdin (a prompt that\n"
        "                         does not echo on a terminal) or --token\n"
        "  whoami                 the user and organisations of the token in\n"
        "                         use (HF_TOKEN, then the token file)\n"
        "  logout                 remove the token file and stored_tokens\n"
        "  --token TOKEN          the token (visible to other local users in\n"
        "                         the process list: prefer stdin)\n"
        "  --endpoint URL         hub endpoint (default: HF_ENDPOINT, then\n"
        "                         https://huggingface.co)\n"
        "  -h, --help             this help\n"
        "\n"
        "exit codes: 0 success, 2 usage error, 19 token refused or missing,\n"
        "others as for download (docs/CLI.md).\n",
        fp);
}

/* ---- reading the token --------------------------------------------------- */

static struct termios saved_tty;
static volatile sig_atomic_t tty_changed;

/* Ctrl-C at the prompt: give the terminal its echo back, then die of it. */
static void on_signal(int sig)
{
    if (tty_changed)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The first non-empty line of stdin, at most TOKEN_MAX bytes; on a
 * terminal after a prompt on stderr, without echo. Fresh string, or NULL
 * after saying why. */
static char *read_token(void)
{
    bool tty = isatty(STDIN_FILENO);
    if (tty) {
        fputs("Enter your token (input will not be visible): ", stderr);
        fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &saved_tty) == 0) {
            struct termios quiet = saved_tty;
            quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHONL);
            signal(SIGINT, on_signal);
            signal(SIGTERM, on_signal);
            signal(SIGHUP, on_signal);
            tty_changed = 1;
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
    }
    char *buf = calloc(1, TOKEN_MAX + 1);
    size_t len = 0;
    bool eof = false;
    while (buf && len < TOKEN_MAX && !eof) {
        ssize_t n = read(STDIN_FILENO, buf + len, TOKEN_MAX - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            eof = true;
        else
            len += (size_t)n;
        /* a terminal answers one line: stop at its end */
        if (tty && memchr(buf, '\n', len))
            break;
    }
    if (tty) {
        if (tty_changed)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
        tty_changed = 0;
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        fputc('\n', stderr);
    }
    if (!buf) {
        cli_error("out of memory");
        return NULL;
    }
    /* the first line with something on it */
    char *line = buf, *out = NULL;
    while (line < buf + len && !out) {
        char *end = memchr(line, '\n', (size_t)(buf + len - line));
        if (!end)
            end = buf + len;
        char *a = line, *b = end;
        while (a < b && (*a == ' ' || *a == '\t' || *a == '\r'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
            b--;
        if (b > a) {
            out = strndup(a, (size_t)(b - a));
            if (!out)
                cli_error("out of memory");
        }
        line = end + 1;
    }
    memset(buf, 0, TOKEN_MAX + 1);
    free(buf);
    if (!out && !(len >= TOKEN_MAX))
        cli_usage("no token given: pass it on stdin or with --token");
    else if (!out)
        cli_usage("no token in the first %d bytes of stdin", TOKEN_MAX);
    return out;
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

/* ---- the subcommands ----------------------------------------------------- */

static int new_client(hub_client **out, const char *token, const char *ep)
{
    hub_client_options o;
    hub_client_options_init(&o, HUB_CLIENT_OPTIONS_VERSION);
    o.token = token;
    o.endpoint = ep;
    return hub_client_new(out, &o);
}

static int login(const char *token_arg, const char *endpoint)
{
    char *token = token_arg ? strdup(token_arg) : read_token();
    if (!token)
        return token_arg ? cli_error("out of memory") : EXIT_USAGE;
    int rc = EXIT_OK;
    hub_client *client = NULL;
    hub_whoami_info *who = NULL;
    if (strncmp(token, "api_org", 7) == 0) {
        rc = cli_usage("an organization token cannot log in: use your "
                       "personal access token");
        goto done;
    }
    int error = new_client(&client, token, endpoint);
    if (error == HUB_OK)
        error = hub_whoami(&who, client);
    if (error == HUB_OK)
        error = hub_token_save(token, who->token_name);
    if (error < 0) {
        rc = cli_fail(error);
        goto done;
    }
    char *path = NULL;
    if (hub_token_path(&path) == HUB_OK)
        fprintf(stderr, "token saved to %s\n", path);
    hub_free(path);
    const char *env = getenv("HF_TOKEN");
    if (!env || !env[0])
        env = getenv("HUGGING_FACE_HUB_TOKEN");
    if (env && env[0])
        cli_warn("HF_TOKEN is set: it is the token in use, not the one "
                 "just saved, until it is unset");
    printf("Logged in as %s\n", who->name);
done:
    hub_whoami_info_free(who);
    hub_client_free(client);
    wipe_free(token);
    return rc;
}

static int whoami(const char *token, const char *endpoint)
{
    hub_client *client = NULL;
    hub_whoami_info *who = NULL;
    int error = new_client(&client, token, endpoint);
    if (error == HUB_OK)
        error = hub_whoami(&who, client);
    int rc = EXIT_OK;
    if (error < 0) {
        rc = cli_fail(error);
    } else {
        printf("user: %s\n", who->name);
        if (who->org_count) {
            fputs("orgs: ", stdout);
            for (size_t i = 0; i < who->org_count; i++)
                printf("%s%s", i ? "," : "", who->orgs[i]);
            fputc('\n', stdout);
        }
        if (who->token_name)
            printf("token: %s (%s)\n", who->token_name,
                   who->token_role ? who->token_role : "unknown role");
        const char *ep = hub_client_endpoint(client);
        if (ep && strcmp(ep, "https://huggingface.co") != 0)
            printf("endpoint: %s\n", ep);
    }
    hub_whoami_info_free(who);
    hub_client_free(client);
    return rc;
}

static int logout(void)
{
    char *path = NULL;
    int removed = 0;
    int error = hub_token_path(&path);
    if (error == HUB_OK)
        error = hub_token_remove(&removed);
    if (error < 0) {
        hub_free(path);
        return cli_fail(error);
    }
    if (removed)
        printf("Logged out: removed %s\n", path);
    else
        printf("Not logged in: no token file at %s\n", path);
    hub_free(path);
    const char *env = getenv("HF_TOKEN");
    if (!env || !env[0])
        env = getenv("HUGGING_FACE_HUB_TOKEN");
    if (env && env[0])
        cli_warn("HF_TOKEN is set: it still logs you in until it is unset");
    return EXIT_OK;
}

int cmd_auth(int argc, char **argv)
{
    const char *sub = NULL, *token = NULL, *endpoint = NULL;
    cli_opt_state st;
    cli_opt_init(&st, argc - 1, argv + 1);
    int id;
    while ((id = cli_opt_next(&st, options)) != CLI_OPT_END) {
        switch (id) {
        case O_HELP:
            help(stdout);
            return EXIT_OK;
        case CLI_OPT_POSITIONAL:
            if (sub)
                return cli_usage("unexpected argument '%s'", st.positional);
            sub = st.positional;
            break;
        case O_TOKEN:
            token = st.arg;
            break;
        case O_ENDPOINT:
            endpoint = st.arg;
            break;
        case CLI_OPT_MISSING:
            return cli_usage("%s needs a value", st.bad);
        default:
            return cli_usage("unknown option '%s'; see 'hubfetch auth "
                             "--help'",
                             st.bad);
        }
    }
    if (!sub) {
        help(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(sub, "login") == 0)
        return login(token, endpoint);
    if (strcmp(sub, "whoami") == 0)
        return whoami(token, endpoint);
    if (strcmp(sub, "logout") == 0) {
        if (token || endpoint)
            return cli_usage("logout takes no --token nor --endpoint");
        return logout();
    }
    return cli_usage("unknown auth command '%s': login, logout or whoami", sub);
}
