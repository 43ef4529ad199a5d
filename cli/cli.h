/* SPDX-License-Identifier: MIT */
/* cli.h: what the subcommands of the hubfetch program share. */
#ifndef HUBFETCH_CLI_H
#define HUBFETCH_CLI_H

#include <hubfetch.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Exit codes, stable and documented (docs/CLI.md): 0 success, 1 an
 * unclassified failure, 2 a usage error, and 10 + |code| for each library
 * error code (e.g. 15 repository not found, 21 not in the cache).
 */
#define EXIT_OK 0
#define EXIT_FAILURE_ 1
#define EXIT_USAGE 2
int cli_exit_code(int hub_code);

/* "hubfetch: <message>" on stderr, for the last library error; as a JSON
 * object when the progress goes out as JSON (every stderr line is then
 * JSON). */
int cli_fail(int code);
extern bool cli_json_errors;
/* printf-style message on stderr with the program prefix */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error, plain or as JSON like cli_fail; returns EXIT_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The value of --hub (huggingface|hf|modelscope|ms) into `*hub`: 0, or
 * the usage error's exit code after saying why. */
int cli_parse_hub(const char *s, int *hub);
/* Any other failure of the program itself; returns EXIT_FAILURE_. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A warning, plain or as a JSON log line. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* {"v":1,"type":"log","level":LEVEL,"message":MSG} on stderr */
void cli_json_log(const char *level, const char *msg);

/* 1.2K, 3.4M, 5.6G (decimal, like huggingface_hub's _format_size) */
void cli_format_size(uint64_t bytes, char *out, size_t outlen);
/* JSON string literal of `s` (with quotes) to `fp` */
void cli_json_string(FILE *fp, const char *s);

/* From now on SIGINT/SIGTERM cancel `client`'s call in progress
 * (hub_client_cancel); a second signal kills. Until ..._end(). */
void cli_cancel_on_signal(hub_client *client);
void cli_cancel_on_signal_end(void);
/* Did such a signal come? */
bool cli_interrupted(void);

int cmd_download(int argc, char **argv);
int cmd_remote_ls(int argc, char **argv); /* hubfetch ls */
int cmd_cat(int argc, char **argv);
int cmd_info(int argc, char **argv); /* hubfetch info */
int cmd_cache(int argc, char **argv);
int cmd_cache_rm(int argc, char **argv);
int cmd_cache_prune(int argc, char **argv);
int cmd_auth(int argc, char **argv);

/* Shared by the cache commands (cmd_cache.c). */
const char *cli_cache_type_name(hub_repo_type t);
/* 123, 1.5GB, 10m (decimal units k kb m mb g gb t tb p pb) */
bool cli_parse_size(const char *v, uint64_t *out);
/* 30d, 12h, 2w (s m h d w mo y) into seconds */
bool cli_parse_duration(const char *v, uint64_t *out);
/* huggingface_hub's _format_size(): "500.0", "1.2K", "3.2G" */
void cli_cache_size(uint64_t n, char *out, size_t len);
/* refs joined by spaces */
void cli_join_refs(const char *const *refs, size_t n, char *out, size_t len);
int cmd_cache_verify(int argc, char **argv);

/* Progress display ----------------------------------------------------------
 */

typedef enum cli_progress_mode {
    CLI_PROGRESS_NONE,
    CLI_PROGRESS_BAR,
    CLI_PROGRESS_JSON
} cli_progress_mode;

typedef struct cli_progress cli_progress;

cli_progress *cli_progress_new(cli_progress_mode mode, FILE *fp);
/* A hub_progress_cb: pass the cli_progress as payload. */
int cli_progress_cb(const hub_progress *p, void *payload);
/* Erase what the bar drew (before printing a message below it). */
void cli_progress_clear(cli_progress *bar);
void cli_progress_free(cli_progress *bar);

#endif
