/* SPDX-License-Identifier: MIT */
/* safefs.c: file operations confined below a trusted directory. */
#include "safefs.h"

#include "alloc.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Directories are walked, not read: O_PATH needs no read permission. */
#ifdef O_PATH
#define WALK_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#else
#define WALK_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#endif

static int refuse_link(int err, const char *shown, const char *comp, size_t n)
{
    int code;
    if (err == ELOOP || err == ENOTDIR || err == EMLINK)
        code = hub__error_set(HUB_EIO,
                              "refusing '%s': '%.*s' in it is a symbolic link "
                              "or not a directory; the cache must hold real "
                              "directories there (remove the link: someone "
                              "may have planted it)",
                              shown, (int)n, comp);
    else
        code = hub__path_error(err, "cannot open directory", shown);
    errno = err;
    return code;
}

/* The part of `path` below `root`, or NULL if it is not below it. */
static const char *below(const char *root, const char *path)
{
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    if (n == 1 && root[0] == '/')
        n = 0; /* "/" + "/x" */
    if (strncmp(root, path, n) != 0 || (path[n] != '/' && path[n] != '\0'))
        return NULL;
    path += n;
    while (*path == '/')
        path++;
    return path;
}

static int outside(const char *root, const char *path)
{
    return hub__error_set(HUB_EINVAL, "internal error: '%s' is not below '%s'",
                          path, root);
}

int hub__sfs_dir_at(int at, const char *rel, bool create, const char *shown)
{
    int fd = at; /* ours to close once it is not `at` */
    const char *comp = rel;
    while (*comp) {
        size_t n = strcspn(comp, "/");
        if (n == 0) { /* doubled '/' */
            comp++;
            continue;
        }
        int next = -1, err = 0;
        if (n > HUB_SEGMENT_MAX || (n == 1 && comp[0] == '.') ||
            (n == 2 && comp[0] == '.' && comp[1] == '.')) {
            err = EINVAL;
        } else {
            char name[HUB_SEGMENT_MAX + 1];
            memcpy(name, comp, n);
            name[n] = '\0';
            next = openat(fd, name, WALK_FLAGS);
            if (next < 0 && errno == ENOENT && create) {
                if (mkdirat(fd, name, 0777) != 0 && errno != EEXIST) {
                    err = errno;
                    if (fd != at)
                        close(fd);
                    return hub__path_error(err, "cannot create directory",
                                           shown);
                }
                next = openat(fd, name, WALK_FLAGS);
            }
            err = errno;
        }
        if (fd != at)
            close(fd);
        if (next < 0) {
            int code;
            if (err == EINVAL)
                code = hub__error_set(HUB_EIO,
                                      "refusing '%s': '.', '..' or an "
                                      "over-long name inside the cache",
                                      shown);
            else if (err == ENOENT)
                code = hub__error_set(HUB_EIO, "'%s' does not exist", shown);
            else
                return refuse_link(err, shown, comp, n);
            errno = err;
            return code;
        }
        fd = next;
        comp += n;
    }
    if (fd == at && (fd = fcntl(at, F_DUPFD_CLOEXEC, 0)) < 0)
        return hub__path_error(errno, "cannot open directory", shown);
    return fd;
}

int hub__sfs_dir(const char *root, const char *dir, bool create)
{
    const char *rel = below(root, dir);
    if (!rel)
        return outside(root, dir);
    if (create) {
        int error = hub__mkdirs(root); /* the root may be a symlink */
        if (error < 0)
            return error;
    }
    int at = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (at < 0)
        return hub__path_error(errno, "cannot open directory", root);
    int fd = hub__sfs_dir_at(at, rel, create, dir);
    close(at);
    return fd;
}

int hub__sfs_parent(const char *root,
                    const char *path,
                    bool create,
                    const char **leaf)
{
    const char *rel = below(root, path);
    if (!rel || !*rel)
        return outside(root, path);
    const char *slash = strrchr(rel, '/');
    *leaf = slash ? slash + 1 : rel;
    if (!**leaf)
        return outside(root, path);
    size_t dirlen = (size_t)(*leaf - path);
    char *dir = hub__strndup(path, dirlen ? dirlen - 1 : 0);
    if (!dir)
        return HUB_ENOMEM;
    int fd = hub__sfs_dir(root, dir, create);
    hub__free(dir);
    return fd;
}

int hub__sfs_open(const char *root, const char *path, int flags, mode_t mode)
{
    const char *leaf;
    int dfd = hub__sfs_parent(root, path, (flags & O_CREAT) != 0, &leaf);
    if (dfd < 0)
        return dfd;
    int fd = openat(dfd, leaf, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    int err = errno;
    close(dfd);
    if (fd < 0) {
        int code;
        if (err == ELOOP)
            code = hub__error_set(HUB_EIO,
                                  "refusing '%s': it is a symbolic link where "
                                  "the cache keeps a file (remove it: someone "
                                  "may have planted it)",
                                  path);
        else
            code = hub__path_error(err, "cannot open", path);
        errno = err;
        return code;
    }
    return fd;
}

int hub__sfs_open_own(const char *root, const char *path, mode_t mode)
{
    const char *leaf;
    int dfd = hub__sfs_parent(root, path, true, &leaf);
    if (dfd < 0)
        return dfd;
    int fd = openat(dfd, leaf, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
            st.st_uid == geteuid()) {
            close(dfd);
            return fd;
        }
        close(fd);
        fd = -1;
        errno = EEXIST;
    }
    /* a link, a hard link, another user's file: set it aside (only the
     * name goes: whatever it points at stays untouched) */
    if (errno != ENOENT && unlinkat(dfd, leaf, 0) != 0 && errno != ENOENT) {
        int err = errno;
        close(dfd);
        return hub__path_error(err, "cannot replace", path);
    }
    fd = openat(dfd, leaf, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                mode);
    int err = errno;
    close(dfd);
    if (fd < 0)
        return hub__path_error(err, "cannot create", path);
    return fd;
}

DIR *hub__sfs_opendir_at(int dirfd)
{
    /* "." reopens an O_PATH descriptor for reading */
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir && fd >= 0)
        close(fd);
    return dir;
}

int hub__sfs_remove_tree(int at, const char *name, unsigned depth)
{
    if (unlinkat(at, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return -1;
    if (depth == 0) {
        errno = ELOOP;
        return -1;
    }
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1; /* someone else removed it */
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    int first = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (hub__sfs_remove_tree(dirfd(d), de->d_name, depth - 1) != 0 &&
            !first)
            first = errno;
    }
    closedir(d);
    if (unlinkat(at, name, AT_REMOVEDIR) != 0 && errno != ENOENT && !first)
        first = errno;
    if (first) {
        errno = first;
        return -1;
    }
    return 0;
}

int hub__sfs_mkdirs(const char *root, const char *dir)
{
    int fd = hub__sfs_dir(root, dir, true);
    if (fd < 0)
        return fd;
    close(fd);
    return HUB_OK;
}

int hub__sfs_rename(const char *root, const char *from, const char *to)
{
    const char *from_leaf, *to_leaf;
    int from_fd = hub__sfs_parent(root, from, false, &from_leaf);
    if (from_fd < 0)
        return from_fd;
    int to_fd = hub__sfs_parent(root, to, true, &to_leaf);
    if (to_fd < 0) {
        close(from_fd);
        return to_fd;
    }
    int rc = renameat(from_fd, from_leaf, to_fd, to_leaf);
    int err = errno;
    close(from_fd);
    close(to_fd);
    if (rc != 0) {
        int code = hub__path_error(err, "cannot move into place", to);
        errno = err;
        return code;
    }
    return HUB_OK;
}

int hub__sfs_unlink(const char *root, const char *path)
{
    const char *leaf;
    int dfd = hub__sfs_parent(root, path, false, &leaf);
    if (dfd < 0) {
        if (errno == ENOENT) {
            hub__error_clear();
            return HUB_OK;
        }
        return dfd;
    }
    int rc = unlinkat(dfd, leaf, 0);
    int err = errno;
    close(dfd);
    if (rc != 0 && err != ENOENT)
        return hub__path_error(err, "cannot remove", path);
    return HUB_OK;
}

int hub__sfs_symlink(const char *root, const char *target, const char *path)
{
    const char *leaf;
    int dfd = hub__sfs_parent(root, path, true, &leaf);
    if (dfd < 0)
        return dfd;
    /* as Python: replace whatever was there (a directory stays, and the
     * symlinkat below reports it) */
    (void)unlinkat(dfd, leaf, 0);
    int error = HUB_OK;
    if (symlinkat(target, dfd, leaf) != 0) {
        int err = errno;
        /* a concurrent writer made the same link first: fine */
        char existing[4 * HUB_REPO_PATH_MAX];
        ssize_t n = readlinkat(dfd, leaf, existing, sizeof(existing) - 1);
        if (err == EEXIST && n > 0) {
            existing[n] = '\0';
            if (strcmp(existing, target) == 0)
                goto done;
        }
        error = hub__path_error(err, "cannot create symlink", path);
    }
done:
    close(dfd);
    return error;
}

int hub__sfs_lstat(const char *root, const char *path, struct stat *st)
{
    const char *leaf;
    int dfd = hub__sfs_parent(root, path, false, &leaf);
    if (dfd < 0) {
        int err = errno;
        hub__error_clear();
        errno = err ? err : ENOENT;
        return -1;
    }
    int rc = fstatat(dfd, leaf, st, AT_SYMLINK_NOFOLLOW);
    int err = errno;
    close(dfd);
    errno = err;
    return rc;
}

bool hub__sfs_is_file(const char *root, const char *path)
{
    struct stat st;
    return hub__sfs_lstat(root, path, &st) == 0 && S_ISREG(st.st_mode);
}
