/* SPDX-License-Identifier: MIT */
/*
 * safefs.h: file operations confined below a trusted directory.
 *
 * A cache may be shared with other users, who can plant symbolic links in
 * it; names may come from a hostile server. Every operation here takes the
 * trusted root (a directory the user chose: the cache, a local dir; it may
 * itself be a symlink) and a path below it, opens the root, then walks
 * each component with openat(O_DIRECTORY | O_NOFOLLOW) and acts on the last
 * one with an *at() call that follows no link either. A symlinked or
 * non-directory component, "." or "..", or a path outside the root is an
 * error: no planted link and no '/' in a name can take effect.
 */
#ifndef HUB_SAFEFS_H
#define HUB_SAFEFS_H

#include "common.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The directory `dir` (`root` itself or below it), opened; with `create`
 * missing directories are made (0777 & ~umask). Returns an fd or a
 * negative HUB_ code with the message set. */
int hub__sfs_dir(const char *root, const char *dir, bool create);

/* The same for `rel` ("" = `at` itself) relative to an open directory;
 * `shown` names the whole path in messages. */
int hub__sfs_dir_at(int at, const char *rel, bool create, const char *shown);

/* The parent directory of `path` (below `root`), opened; `*leaf` points at
 * the last component inside `path`. */
int hub__sfs_parent(const char *root,
                    const char *path,
                    bool create,
                    const char **leaf);

/* open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode) below root; with
 * O_CREAT the parent directories are made. Returns an fd or a negative
 * HUB_ code (message set; errno kept). */
int hub__sfs_open(const char *root, const char *path, int flags, mode_t mode);

/*
 * A temp file of ours to read and write, resumed if there is one: an
 * existing file is accepted only if it is a regular file with a single
 * link that the caller owns (another user's file, or a hard link to one,
 * is unlinked and started over), else created with O_EXCL.
 */
int hub__sfs_open_own(const char *root, const char *path, mode_t mode);

/* A directory stream on an fd from the functions above (which may be
 * O_PATH descriptors); `dirfd` stays open. NULL on failure. */
DIR *hub__sfs_opendir_at(int dirfd);

/* mkdir -p of `dir` below root. */
int hub__sfs_mkdirs(const char *root, const char *dir);

/* rename(from, to), both below root; the parent of `to` is created. */
int hub__sfs_rename(const char *root, const char *from, const char *to);

/* unlink(path) below root; a missing file is no error. */
int hub__sfs_unlink(const char *root, const char *path);

/* Make `path` a symlink to `target` (replacing what was there); parent
 * directories created. */
int hub__sfs_symlink(const char *root, const char *target, const char *path);

/*
 * rm -r of the entry `name` of the directory `at`, following no link (a
 * link is removed as a link) and leaving no directory: at most `depth`
 * folders deep. Returns 0, or -1 with errno set (the first failure; what
 * could be removed is).
 */
int hub__sfs_remove_tree(int at, const char *name, unsigned depth);

/* lstat of `path` below root: 0, or -1 with errno set (no message). */
int hub__sfs_lstat(const char *root, const char *path, struct stat *st);

/* Is `path` below root a regular file (not a link)? */
bool hub__sfs_is_file(const char *root, const char *path);

#endif
