/* SPDX-License-Identifier: MIT */
/* client_args.c: the options every command that talks to a hub takes. */
#include "client_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool cli_parse_int(const char *s, int min, int max, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || *end || end == s || v < min || v > max)
        return false;
    *out = (int)v;
    return true;
}

int cli_client_args_init(cli_client_args *a, hub_client_options *o, int argc)
{
    a->o = o;
    a->nfallbacks = 0;
    a->quiet = false;
    a->verbose = 0;
    a->log_level = HUB_LOG_WARN;
    /* every argument could be an --endpoint */
    a->fallbacks = calloc((size_t)argc + 1, sizeof(*a->fallbacks));
    return a->fallbacks ? EXIT_OK : cli_error("out of memory");
}

int cli_client_arg(cli_client_args *a, int id, const char *arg)
{
    hub_client_options *o = a->o;
    switch (id) {
    case CLI_CO_TOKEN:
        o->token = arg;
        return EXIT_OK;
    case CLI_CO_ENDPOINT:
        /* the first is the endpoint, the next ones fallbacks in order */
        if (!o->endpoint) {
            o->endpoint = arg;
        } else {
            a->fallbacks[a->nfallbacks++] = arg;
            o->fallback_endpoints = a->fallbacks;
            o->fallback_count = a->nfallbacks;
        }
        return EXIT_OK;
    case CLI_CO_TOKEN_TO_MIRRORS:
        o->send_token_to_mirrors = 1;
        return EXIT_OK;
    case CLI_CO_PROXY:
        o->proxy = arg;
        return EXIT_OK;
    case CLI_CO_NO_PROXY:
        o->no_proxy = arg;
        return EXIT_OK;
    case CLI_CO_CA_BUNDLE:
        o->ca_bundle = arg;
        return EXIT_OK;
    case CLI_CO_HUB:
        return cli_parse_hub(arg, &o->hub);
    case CLI_CO_RETRIES:
        if (!cli_parse_int(arg, 0, 100, &o->max_retries))
            return cli_usage("--retries needs a number from 0 to 100");
        return EXIT_OK;
    case CLI_CO_QUIET:
        a->quiet = true;
        return EXIT_OK;
    case CLI_CO_VERBOSE:
        a->verbose++;
        return EXIT_OK;
    default:
        return cli_usage("internal: unknown client option %d", id);
    }
}

void cli_client_args_free(cli_client_args *a)
{
    free(a->fallbacks);
    a->fallbacks = NULL;
}

int cli_parse_repo_type(const char *s, hub_repo_type *out)
{
    static const struct {
        const char *name;
        hub_repo_type type;
    } types[] = {{"model", HUB_REPO_MODEL},
                 {"dataset", HUB_REPO_DATASET},
                 {"space", HUB_REPO_SPACE}};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(s, types[i].name) == 0) {
            *out = types[i].type;
            return EXIT_OK;
        }
    }
    return cli_usage("--repo-type must be model, dataset or space, not '%s'",
                     s);
}

static void on_log(int level, const char *msg, void *payload)
{
    int max = *(const int *)payload;
    if (level <= max)
        cli_err("%s%s", level <= HUB_LOG_WARN ? "warning: " : "", msg);
}

void cli_client_log(cli_client_args *a)
{
    a->log_level = a->quiet     ? HUB_LOG_ERROR
                   : a->verbose ? HUB_LOG_INFO + a->verbose - 1
                                : HUB_LOG_WARN;
    a->o->log_cb = on_log;
    a->o->log_payload = &a->log_level;
    a->o->log_level = a->log_level;
}
