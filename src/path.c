/* SPDX-License-Identifier: MIT */
/* path.c: safe path joins, repo-path validation, directory creation. */
#include "path.h"

#include "alloc.h"
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int bad_path(const char *path, const char *why)
{
    return hub__error_set(HUB_EPROTO,
                          "refusing unsafe file name '%.200s' from the "
                          "server: %s",
                          path, why);
}

int hub__path_check_repo_path(const char *path)
{
    size_t len = strlen(path);
    if (len == 0)
        return bad_path(path, "empty name");
    if (len > HUB_REPO_PATH_MAX)
        return bad_path(path, "path too long");
    if (path[0] == '/' || path[0] == '\\')
        return bad_path(path, "absolute path");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return bad_path(path, "control character in name");
    /* Segments split on both separators: a name safe here must stay safe
     * when the same cache is read on Windows. */
    const char *seg = path;
    for (;;) {
        size_t n = strcspn(seg, "/\\");
        if (n == 0)
            return bad_path(path, "empty path segment");
        if (n > HUB_SEGMENT_MAX)
            return bad_path(path, "file name too long");
        if ((n == 1 && seg[0] == '.') ||
            (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return bad_path(path, "'.' or '..' segment");
        if (n >= 2 && is_alpha(seg[0]) && seg[1] == ':')
            return bad_path(path, "drive-qualified path");
        if (seg[n] == '\0')
            break;
        seg += n + 1;
    }
    return HUB_OK;
}

int hub__path_check_revision(const char *revision)
{
    /* a revision becomes refs/<revision> in the cache: the file-name rule,
     * with a message for the person or program that passed it */
    if (hub__path_check_repo_path(revision) == HUB_OK)
        return HUB_OK;
    return hub__error_set(HUB_EINVAL,
                          "invalid revision '%.200s': give a branch, a tag, "
                          "a commit or refs/pr/N (no '..', '.', empty or "
                          "absolute parts, no control characters)",
                          revision);
}

char *hub__path_join(const char *a, const char *b)
{
    size_t la = strlen(a);
    while (la > 1 && a[la - 1] == '/')
        la--;
    while (*b == '/')
        b++;
    if (la == 0)
        return hub__strdup(b);
    return hub__aprintf("%.*s/%s", (int)la, a, b);
}

int hub__path_error(int err, const char *what, const char *path)
{
    int code =
        (err == ENOSPC || err == EDQUOT || err == EFBIG) ? HUB_ENOSPC : HUB_EIO;
    if (code == HUB_ENOSPC)
        return hub__error_set(code,
                              "%s '%s': %s; free some space (or point the "
                              "cache elsewhere) and run again, the download "
                              "resumes",
                              what, path, strerror(err));
    return hub__error_set(code, "%s '%s': %s", what, path, strerror(err));
}

char *hub__file_read_fd(int fd, size_t max, size_t *len_out)
{
    hub_buf b = HUB_BUF_INIT(max);
    char chunk[16384];
    ssize_t n;
    bool ok = true;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        if (hub__buf_put(&b, chunk, (size_t)n) < 0) {
            ok = false;
            break;
        }
    if (n < 0 || !ok) {
        hub__buf_free(&b);
        hub__error_clear();
        return NULL;
    }
    *len_out = b.len;
    return hub__buf_detach(&b);
}

char *hub__file_read(const char *path, size_t max, size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *raw = hub__file_read_fd(fd, max, len_out);
    close(fd);
    return raw;
}

int hub__mkdirs(const char *path)
{
    /* Fast path: a snapshot makes the same few directories for every file,
     * and walking each component costs one mkdir per level per file. */
    if (hub__path_is_dir(path))
        return HUB_OK;
    if (mkdir(path, 0777) == 0)
        return HUB_OK;
    char *copy = hub__strdup(path);
    if (!copy)
        return HUB_ENOMEM;
    int error = HUB_OK;
    for (char *p = copy + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
            error = hub__path_error(errno, "cannot create directory", copy);
            break;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    if (error == HUB_OK && !hub__path_is_dir(path))
        error =
            hub__error_set(HUB_EIO, "'%s' exists and is not a directory", path);
    hub__free(copy);
    return error;
}

int hub__mkdirs_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return HUB_OK;
    char *parent = hub__strndup(path, (size_t)(slash - path));
    if (!parent)
        return HUB_ENOMEM;
    int error = hub__mkdirs(parent);
    hub__free(parent);
    return error;
}

static bool is_name_char(char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

char *hub__path_expand(const char *s)
{
    hub_buf out = HUB_BUF_INIT(64 * 1024);
    const char *home = getenv("HOME");
    int error = HUB_OK;
    if (s[0] == '~' && (s[1] == '/' || s[1] == '\0') && home) {
        error = hub__buf_puts(&out, home);
        s++;
    }
    while (error == HUB_OK && *s) {
        if (s[0] == '$' && (is_name_char(s[1]) || s[1] == '{')) {
            bool braced = s[1] == '{';
            const char *name = s + 1 + braced;
            size_t n = 0;
            while (is_name_char(name[n]))
                n++;
            bool closed = !braced || name[n] == '}';
            char *key = hub__strndup(name, n);
            if (!key) {
                error = HUB_ENOMEM;
                break;
            }
            const char *value = (n && closed) ? getenv(key) : NULL;
            hub__free(key);
            if (value) {
                error = hub__buf_puts(&out, value);
                s = name + n + braced;
                continue;
            }
        }
        error = hub__buf_put(&out, s, 1);
        s++;
    }
    if (error < 0) {
        hub__buf_free(&out);
        return NULL;
    }
    return hub__buf_detach(&out);
}

char *hub__path_abspath(const char *path)
{
    hub_buf full = HUB_BUF_INIT(64 * 1024);
    int error = HUB_OK;
    if (path[0] != '/') {
        char cwd[4096];
        if (!getcwd(cwd, sizeof(cwd))) {
            hub__path_error(errno, "cannot read the working directory", ".");
            return NULL;
        }
        error = hub__buf_puts(&full, cwd);
    }
    /* Fold segments: skip "" and ".", pop on "..". */
    const char *p = path;
    while (error == HUB_OK && *p) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (n == 0)
            break;
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            char *slash = full.ptr ? strrchr(full.ptr, '/') : NULL;
            if (slash) {
                full.len = (size_t)(slash - full.ptr);
                full.ptr[full.len] = '\0';
            }
        } else if (!(n == 1 && p[0] == '.')) {
            error = hub__buf_put(&full, "/", 1);
            if (error == HUB_OK)
                error = hub__buf_put(&full, p, n);
        }
        p += n;
    }
    if (error == HUB_OK && full.len == 0)
        error = hub__buf_put(&full, "/", 1);
    if (error < 0) {
        hub__buf_free(&full);
        return NULL;
    }
    return hub__buf_detach(&full);
}

bool hub__path_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool hub__path_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *hub__path_resolve(const char *path)
{
    char *abs = hub__path_abspath(path);
    if (!abs)
        return NULL;
    /* Find the longest existing prefix, resolve it, keep the rest. */
    size_t cut = strlen(abs);
    for (;;) {
        char saved = abs[cut];
        abs[cut] = '\0';
        char *real = realpath(cut ? abs : "/", NULL);
        abs[cut] = saved;
        if (real) {
            bool root = strcmp(real, "/") == 0;
            char *out = (root && abs[cut])
                            ? hub__strdup(abs + cut)
                            : hub__aprintf("%s%s", real, abs + cut);
            hub__free(real); /* realpath() allocated it with malloc() */
            hub__free(abs);
            return out;
        }
        while (cut > 0 && abs[cut - 1] != '/')
            cut--;
        if (cut <= 1)
            break;
        cut--; /* drop the '/' too */
    }
    return abs;
}

uint64_t hub__path_fingerprint(uint64_t seen, const struct stat *st)
{
    return seen * 1000003u + (uint64_t)st->st_size * 31u +
           (uint64_t)st->st_mtim.tv_sec * 1000000000u +
           (uint64_t)st->st_mtim.tv_nsec;
}
