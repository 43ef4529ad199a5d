/* SPDX-License-Identifier: MIT */
/* opt.c: a small getopt_long-like parser for the subcommands. */
#include "opt.h"

#include "cli.h"

#include <string.h>

void cli_opt_init(cli_opt_state *st, int argc, char **argv)
{
    memset(st, 0, sizeof(*st));
    st->argc = argc;
    st->argv = argv;
    st->index = 0;
}

static int take_arg(cli_opt_state *st,
                    const cli_opt *o,
                    const char *inline_arg,
                    const char *word)
{
    if (!o->has_arg) {
        if (inline_arg) {
            st->bad = word;
            return CLI_OPT_UNKNOWN;
        }
        return o->id;
    }
    if (inline_arg) {
        st->arg = inline_arg;
        return o->id;
    }
    if (st->index >= st->argc) {
        st->bad = word;
        return CLI_OPT_MISSING;
    }
    st->arg = st->argv[st->index++];
    return o->id;
}

int cli_opt_next(cli_opt_state *st, const cli_opt *opts)
{
    st->arg = NULL;
    st->positional = NULL;
    if (st->bundle) {
        /* "-vq": the flags after the first one */
        const char *c = st->bundle;
        st->bundle = c[1] ? c + 1 : NULL;
        for (const cli_opt *o = opts; o->name || o->short_name; o++)
            if (o->short_name == c[0] && !o->has_arg)
                return o->id;
        st->bad = c;
        return CLI_OPT_UNKNOWN;
    }
    if (st->index >= st->argc)
        return CLI_OPT_END;
    const char *word = st->argv[st->index++];
    if (st->only_positionals || word[0] != '-' || word[1] == '\0') {
        st->positional = word;
        return CLI_OPT_POSITIONAL;
    }
    if (strcmp(word, "--") == 0) {
        st->only_positionals = true;
        return cli_opt_next(st, opts);
    }
    if (word[1] == '-') {
        const char *name = word + 2;
        const char *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        for (const cli_opt *o = opts; o->name || o->short_name; o++)
            if (o->name && strlen(o->name) == n &&
                strncmp(o->name, name, n) == 0)
                return take_arg(st, o, eq ? eq + 1 : NULL, word);
        st->bad = word;
        return CLI_OPT_UNKNOWN;
    }
    for (const cli_opt *o = opts; o->name || o->short_name; o++) {
        if (!o->short_name || o->short_name != word[1])
            continue;
        if (!o->has_arg && word[2]) {
            st->bundle = word + 2;
            return o->id;
        }
        return take_arg(st, o, word[2] ? word + 2 : NULL, word);
    }
    st->bad = word;
    return CLI_OPT_UNKNOWN;
}

int cli_parse_hub(const char *s, int *hub)
{
    if (strcmp(s, "huggingface") == 0 || strcmp(s, "hf") == 0)
        *hub = HUB_KIND_HF;
    else if (strcmp(s, "modelscope") == 0 || strcmp(s, "ms") == 0)
        *hub = HUB_KIND_MODELSCOPE;
    else
        return cli_usage("--hub must be huggingface or modelscope, not '%s'",
                         s);
    return 0;
}
