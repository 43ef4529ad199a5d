/* SPDX-License-Identifier: MIT */
/* path.h: safe path joins, repo-path validation, directory creation. */
#ifndef HUB_PATH_H
#define HUB_PATH_H

#include "common.h"

/* Longest path in a repository we accept, and longest single segment. */
#define HUB_REPO_PATH_MAX 1024
#define HUB_SEGMENT_MAX 255

/*
 * Is `path` (a file path inside a repository, '/'-separated, untrusted) safe
 * to join under a local directory? Rejects what huggingface_hub rejects
 * (any ".." segment, also after mapping '\' to '/', absolute, Windows drive
 * or UNC forms) and what could not be a real file name here: empty or "."
 * segments, a trailing '/', control characters, over-long names.
 * Returns HUB_OK or HUB_EPROTO with a message naming the path.
 */
int hub__path_check_repo_path(const char *path);

/* The rule for a revision (it names the file refs/<revision>): that of
 * repository paths. HUB_OK or HUB_EINVAL with a message. */
int hub__path_check_revision(const char *revision);

/* "a" + "/" + "b" (no doubled '/'), freshly allocated, or NULL (OOM) */
char *hub__path_join(const char *a, const char *b);

/* An open file read whole, at most `max` bytes; NULL (error cleared) if
 * it cannot be read or is larger. */
char *hub__file_read_fd(int fd, size_t max, size_t *len_out);
/* The same by name (refs, listings, bookkeeping files). */
char *hub__file_read(const char *path, size_t max, size_t *len_out);

/* Fold a file's size and mtime into `seen`: a fingerprint of files another
 * process writes, to tell whether it is making progress. */
struct stat;
uint64_t hub__path_fingerprint(uint64_t seen, const struct stat *st);

/* mkdir -p with mode 0777 & ~umask. Sets the error on failure. */
int hub__mkdirs(const char *path);
/* mkdir -p of the parent directory of `path` */
int hub__mkdirs_parent(const char *path);

/*
 * Python's os.path.expandvars(os.path.expanduser(s)): a leading "~" or
 * "~/" becomes $HOME; $NAME and ${NAME} are replaced when NAME is set.
 */
char *hub__path_expand(const char *s);

/* Absolute form of `path` (cwd-prefixed if relative; no symlink resolution,
 * "." and ".." segments folded), as os.path.abspath. */
char *hub__path_abspath(const char *path);

/* Map an errno from a filesystem call to HUB_ENOSPC or HUB_EIO and set the
 * message "<what> '<path>': <strerror>". */
int hub__path_error(int err, const char *what, const char *path);

/* true if `path` exists (following symlinks) and is a regular file */
bool hub__path_is_file(const char *path);
/* true if `path` exists (following symlinks) and is a directory */
bool hub__path_is_dir(const char *path);

/* Path.resolve() of Python: absolute, with symlinks resolved in the part of
 * the path that exists; the rest appended as is. */
char *hub__path_resolve(const char *path);
#endif
