/* SPDX-License-Identifier: MIT */
/* opt.h: a small getopt_long-like parser for the subcommands. */
#ifndef HUBFETCH_CLI_OPT_H
#define HUBFETCH_CLI_OPT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cli_opt {
    const char *name; /* long name without "--" */
    char short_name;  /* or 0 */
    bool has_arg;
    int id; /* returned by cli_opt_next */
} cli_opt;

typedef struct cli_opt_state {
    int argc;
    char **argv;
    int index;              /* next argv element */
    const char *arg;        /* argument of the option just returned */
    const char *positional; /* positional argument just returned */
    const char *bad;        /* the offending word on error */
    bool only_positionals;  /* after "--" */
    const char *bundle;     /* rest of "-vq" after "-v" */
} cli_opt_state;

#define CLI_OPT_END 0         /* nothing left */
#define CLI_OPT_POSITIONAL -1 /* `positional` is set */
#define CLI_OPT_UNKNOWN -2    /* `bad` names it */
#define CLI_OPT_MISSING -3    /* `bad` lacks its argument */

void cli_opt_init(cli_opt_state *st, int argc, char **argv);
/* Next option id, or one of the CLI_OPT_* codes. "--name=value",
 * "--name value", "-x value" and "-xvalue" are accepted. */
int cli_opt_next(cli_opt_state *st, const cli_opt *opts);

#endif
