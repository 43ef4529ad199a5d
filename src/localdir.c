/* SPDX-License-Identifier: MIT */
/* localdir.c: the local_dir layout of huggingface_hub. */
#include "localdir.h"

#include "alloc.h"
#include "cache_hf.h"
#include "digest.h"
#include "path.h"
#include "safefs.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Create `path` with `content` unless it exists (races are harmless). */
static void create_once(const char *root, const char *path, const char *content)
{
    int fd = hub__sfs_open(root, path, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0) {
        hub__error_clear();
        return;
    }
    size_t len = strlen(content);
    ssize_t n = write(fd, content, len);
    close(fd);
    if (n != (ssize_t)len)
        (void)hub__sfs_unlink(root, path);
}

int hub__localdir_init(hub__localdir *ld, const char *dir)
{
    memset(ld, 0, sizeof(*ld));
    ld->root = hub__path_resolve(dir);
    ld->meta_dir =
        ld->root ? hub__path_join(ld->root, ".cache/huggingface") : NULL;
    if (!ld->meta_dir) {
        hub__localdir_free(ld);
        return HUB_ENOMEM;
    }
    return HUB_OK;
}

int hub__localdir_create(const hub__localdir *ld)
{
    int error = hub__sfs_mkdirs(ld->root, ld->meta_dir);
    if (error < 0)
        return error;
    char *gitignore = hub__path_join(ld->meta_dir, ".gitignore");
    char *tag = hub__path_join(ld->meta_dir, "CACHEDIR.TAG");
    if (gitignore)
        create_once(ld->root, gitignore, "*");
    if (tag)
        create_once(ld->root, tag, hub__hf_cachedir_tag);
    hub__free(gitignore);
    hub__free(tag);
    return HUB_OK;
}

void hub__localdir_free(hub__localdir *ld)
{
    hub__free(ld->root);
    hub__free(ld->meta_dir);
    memset(ld, 0, sizeof(*ld));
}

char *hub__localdir_file(const hub__localdir *ld, const char *path)
{
    return hub__path_join(ld->root, path);
}

static char *meta_path(const hub__localdir *ld, const char *path)
{
    return hub__aprintf("%s/download/%s.metadata", ld->meta_dir, path);
}

char *hub__localdir_lock_path(const hub__localdir *ld, const char *path)
{
    return hub__aprintf("%s/download/%s.lock", ld->meta_dir, path);
}

char *hub__localdir_temp_base(const hub__localdir *ld,
                              const char *path,
                              const char *etag)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char *meta_name = hub__aprintf("%s.metadata", base);
    char hash[29];
    char *out = NULL;
    if (meta_name && hub__short_hash(meta_name, hash) == HUB_OK)
        out = hub__aprintf("%s/download/%.*s%s%s.%s", ld->meta_dir,
                           slash ? (int)(slash - path) : 0, path,
                           slash ? "/" : "", hash, etag);
    hub__free(meta_name);
    return out;
}

int hub__localdir_read_meta(const hub__localdir *ld,
                            const char *path,
                            hub__localdir_meta *out)
{
    char *mpath = meta_path(ld, path);
    char *fpath = hub__localdir_file(ld, path);
    int result = HUB_ENOTCACHED;
    FILE *fp = NULL;
    if (!mpath || !fpath) {
        result = HUB_ENOMEM;
        goto done;
    }
    int mfd = hub__sfs_open(ld->root, mpath, O_RDONLY, 0);
    hub__error_clear();
    fp = mfd >= 0 ? fdopen(mfd, "r") : NULL;
    if (!fp) {
        if (mfd >= 0)
            close(mfd);
        goto done;
    }
    char line1[128], line2[128], line3[128];
    bool ok = fgets(line1, sizeof(line1), fp) &&
              fgets(line2, sizeof(line2), fp) &&
              fgets(line3, sizeof(line3), fp);
    char *commit = ok ? hub__str_trim_dup(line1, strlen(line1)) : NULL;
    char *etag = ok ? hub__str_trim_dup(line2, strlen(line2)) : NULL;
    char *ts_text = ok ? hub__str_trim_dup(line3, strlen(line3)) : NULL;
    char *end = NULL;
    double ts = ts_text ? strtod(ts_text, &end) : 0.0;
    ok = ok && commit && etag && ts_text && end && *end == '\0' &&
         end != ts_text && strlen(commit) <= 40 && strlen(etag) <= 64;
    if (!ok) {
        /* garbled: drop it, as huggingface_hub does */
        (void)hub__sfs_unlink(ld->root, mpath);
        hub__error_clear();
    } else {
        struct stat st;
        /* valid only if the file was not touched after the metadata */
        if (hub__sfs_lstat(ld->root, fpath, &st) == 0 && S_ISREG(st.st_mode) &&
            (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9 -
                    1.0 <=
                ts) {
            snprintf(out->commit, sizeof(out->commit), "%s", commit);
            snprintf(out->etag, sizeof(out->etag), "%s", etag);
            result = HUB_OK;
        }
    }
    hub__free(commit);
    hub__free(etag);
    hub__free(ts_text);
done:
    if (fp)
        fclose(fp);
    hub__free(mpath);
    hub__free(fpath);
    return result;
}

int hub__localdir_write_meta(const hub__localdir *ld,
                             const char *path,
                             const char *commit,
                             const char *etag)
{
    char *mpath = meta_path(ld, path);
    if (!mpath)
        return HUB_ENOMEM;
    int error = HUB_OK;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char text[256];
    int n = snprintf(text, sizeof(text), "%s\n%s\n%lld.%06ld\n", commit, etag,
                     (long long)now.tv_sec, now.tv_nsec / 1000);
    int fd = hub__sfs_open(ld->root, mpath, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0) {
        error = fd;
    } else {
        if (write(fd, text, (size_t)n) != n)
            error = hub__path_error(errno, "cannot write", mpath);
        close(fd);
    }
    hub__free(mpath);
    return error;
}

int hub__file_sha256(const char *root, const char *file, char hex[65])
{
    int fd = hub__sfs_open(root, file, O_RDONLY, 0);
    if (fd < 0)
        return fd;
    struct stat st;
    hub_digest *d = NULL;
    int error =
        fstat(fd, &st) != 0
            ? hub__path_error(errno, "cannot stat", file)
            : hub__digest_new(&d, HUB_DIGEST_SHA256, (uint64_t)st.st_size);
    unsigned char *buf = error == HUB_OK ? hub__malloc(1024 * 1024) : NULL;
    if (error == HUB_OK && !buf)
        error = HUB_ENOMEM;
    while (error == HUB_OK) {
        ssize_t n = read(fd, buf, 1024 * 1024);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            error = hub__path_error(errno, "cannot read", file);
        if (n <= 0)
            break;
        error = hub__digest_update(d, buf, (size_t)n);
    }
    if (error == HUB_OK)
        error = hub__digest_final(d, hex);
    hub__digest_free(d);
    hub__free(buf);
    close(fd);
    return error;
}
