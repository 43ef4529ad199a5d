/* SPDX-License-Identifier: MIT */
/* main.c: the hubfetch program: dispatch to a subcommand. */
#include "cli.h"

#include <signal.h>
#include <string.h>

static void usage(FILE *fp)
{
    fputs("usage: hubfetch <command> [options]\n"
          "\n"
          "Download models, datasets and spaces from the Hugging Face Hub\n"
          "into the cache huggingface_hub uses (or a plain directory).\n"
          "\n"
          "commands:\n"
          "  download REPO_ID [FILES...]   fetch a file or a whole snapshot\n"
          "  ls REPO_ID [PATH]             list a revision's files on the hub\n"
          "  cat REPO_ID FILE              a file's bytes (or a range) to "
          "stdout\n"
          "  info REPO_ID [FILES...]       a repo's facts and its weights' "
          "headers\n"
          "  cache ls                      list what the cache holds\n"
          "  cache verify                  check the cache against checksums\n"
          "  auth login|logout|whoami      save, remove or check a token\n"
          "\n"
          "options:\n"
          "  -h, --help      this help; 'hubfetch <command> --help' for more\n"
          "  -V, --version   print the version\n"
          "\n"
          "Exit codes are listed in 'hubfetch download --help'.\n",
          fp);
}

int main(int argc, char **argv)
{
    /* Broken pipes and file-size limits come back as errors, not signals. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "help") == 0) {
        if (argc > 2 && strcmp(argv[2], "download") == 0) {
            char *args[] = {argv[2], (char *)"--help", NULL};
            return cmd_download(2, args);
        }
        if (argc > 2 && strcmp(argv[2], "cache") == 0) {
            char *args[] = {argv[2], (char *)"--help", NULL};
            return cmd_cache(2, args);
        }
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("hubfetch %s\n", hub_version());
        return EXIT_OK;
    }
    if (hub_global_init() != HUB_OK) {
        cli_err("cannot initialise: %s", hub_error_last()->message);
        return EXIT_FAILURE_;
    }
    int rc;
    if (strcmp(cmd, "download") == 0) {
        rc = cmd_download(argc - 1, argv + 1);
    } else if (strcmp(cmd, "cache") == 0) {
        rc = cmd_cache(argc - 1, argv + 1);
    } else if (strcmp(cmd, "auth") == 0) {
        rc = cmd_auth(argc - 1, argv + 1);
    } else if (strcmp(cmd, "ls") == 0) {
        rc = cmd_remote_ls(argc - 1, argv + 1);
    } else if (strcmp(cmd, "cat") == 0) {
        rc = cmd_cat(argc - 1, argv + 1);
    } else if (strcmp(cmd, "info") == 0) {
        rc = cmd_info(argc - 1, argv + 1);
    } else {
        cli_err("unknown command '%s'; see 'hubfetch --help'", cmd);
        rc = EXIT_USAGE;
    }
    hub_global_cleanup();
    return rc;
}
