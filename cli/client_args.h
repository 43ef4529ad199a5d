/* SPDX-License-Identifier: MIT */
/* client_args.h: the options every command that talks to a hub takes
 * (token, endpoints, proxy, TLS, hub, retries), parsed in one place. */
#ifndef HUBFETCH_CLI_CLIENT_ARGS_H
#define HUBFETCH_CLI_CLIENT_ARGS_H

#include "cli.h"
#include "opt.h"

/* Option ids, above any command's own. */
enum {
    CLI_CO_TOKEN = 1000,
    CLI_CO_ENDPOINT,
    CLI_CO_TOKEN_TO_MIRRORS,
    CLI_CO_PROXY,
    CLI_CO_NO_PROXY,
    CLI_CO_CA_BUNDLE,
    CLI_CO_HUB,
    CLI_CO_RETRIES,
    CLI_CO_QUIET,
    CLI_CO_VERBOSE
};
#define CLI_IS_CLIENT_OPT(id) ((id) >= CLI_CO_TOKEN && (id) <= CLI_CO_VERBOSE)

/* -q / -v: how much of the library's log goes to stderr (cli_client_log);
 * for commands with no display of their own. */
#define CLI_LOG_OPTIONS                                                        \
    {"quiet", 'q', false, CLI_CO_QUIET},                                       \
    {                                                                          \
        "verbose", 'v', false, CLI_CO_VERBOSE                                  \
    }

/* Entries for a command's option table. */
#define CLI_CLIENT_OPTIONS                                                     \
    {"token", 0, true, CLI_CO_TOKEN}, {"endpoint", 0, true, CLI_CO_ENDPOINT},  \
        {"send-token-to-mirrors", 0, false, CLI_CO_TOKEN_TO_MIRRORS},          \
        {"proxy", 0, true, CLI_CO_PROXY},                                      \
        {"no-proxy", 0, true, CLI_CO_NO_PROXY},                                \
        {"ca-bundle", 0, true, CLI_CO_CA_BUNDLE},                              \
        {"hub", 0, true, CLI_CO_HUB},                                          \
    {                                                                          \
        "retries", 0, true, CLI_CO_RETRIES                                     \
    }

typedef struct cli_client_args {
    hub_client_options *o;
    const char **fallbacks; /* --endpoint after the first */
    size_t nfallbacks;
    bool quiet;    /* -q */
    int verbose;   /* -v, repeatable */
    int log_level; /* what cli_client_log set */
} cli_client_args;

/* EXIT_OK, or the exit code after saying why. */
int cli_client_args_init(cli_client_args *a, hub_client_options *o, int argc);
/* Apply the client option `id` (CLI_CO_*) with its argument into the
 * client options: EXIT_OK or a usage error's exit code. */
int cli_client_arg(cli_client_args *a, int id, const char *arg);
void cli_client_args_free(cli_client_args *a);

/* "model", "dataset" or "space" into `*out`: EXIT_OK, or the usage
 * error's exit code after saying why. */
int cli_parse_repo_type(const char *s, hub_repo_type *out);

/* The library's log lines on stderr ("hubfetch: warning: ..."), up to
 * the level -q / -v asked for; `a` must outlive the client. */
void cli_client_log(cli_client_args *a);

/* strtol within [min, max], the whole string. */
bool cli_parse_int(const char *s, int min, int max, int *out);

#endif
