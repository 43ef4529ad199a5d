/* SPDX-License-Identifier: MIT */
/* header_file.c: safetensors and GGUF headers of local files, read in
 * growing chunks and handed to the byte parsers (safetensors.c, gguf.c). */
#include "header_file.h"

#include "alloc.h"
#include "gguf.h"
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* First read; then at least twice what was read, or what the parser asks. */
#define FIRST_CHUNK (64u * 1024)

int hub_header_options_init(hub_header_options *opts, unsigned int version)
{
    HUB_ASSERT_ARG(opts);
    if (version != HUB_HEADER_OPTIONS_VERSION)
        return hub__error_set(
            HUB_EVERSION, "unsupported hub_header_options version %u", version);
    hub_header_options d = HUB_HEADER_OPTIONS_INIT;
    *opts = d;
    return HUB_OK;
}

static int check_options(const hub_header_options *o)
{
    if (o->version < 1 || o->version > HUB_HEADER_OPTIONS_VERSION)
        return hub__error_set(HUB_EVERSION,
                              "unsupported hub_header_options version %u",
                              o->version);
    if (o->flags)
        return hub__error_set(HUB_EINVAL,
                              "unknown hub_header_options flags "
                              "%#x",
                              o->flags);
    return HUB_OK;
}

int hub__header_options_take(hub_header_options *dst,
                             const hub_header_options *src)
{
    hub_header_options d = HUB_HEADER_OPTIONS_INIT;
    *dst = d;
    if (src) {
        int error = check_options(src);
        if (error < 0)
            return error;
        *dst = *src;
    }
    return HUB_OK;
}

uint64_t hub__header_st_cap(const hub_header_options *o)
{
    return o->max_header_bytes ? o->max_header_bytes
                               : 8 + (uint64_t)HUB_SAFETENSORS_MAX_HEADER;
}

void hub__header_gguf_limits(const hub_header_options *o, hub__gguf_limits *lim)
{
    memset(lim, 0, sizeof(*lim));
    lim->max_header =
        o->max_header_bytes ? o->max_header_bytes : HUB__GGUF_DEFAULT_CAP;
    lim->max_array_values = o->max_array_values;
}

/* An open regular file and its size. */
static int open_file(const char *path, int *fd_out, uint64_t *size_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hub__error_set(HUB_EIO, "cannot open %s: %s", path,
                              strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        close(fd);
        return hub__error_set(HUB_EIO, "%s: %s", path,
                              S_ISREG(st.st_mode) ? strerror(e)
                                                  : "not a regular file");
    }
    *fd_out = fd;
    *size_out = (uint64_t)st.st_size;
    return HUB_OK;
}

/* Bytes [*len, want) of the file appended to *buf. */
static int
read_more(int fd, const char *path, uint8_t **buf, size_t *len, size_t want)
{
    uint8_t *grown = hub__realloc(*buf, want ? want : 1);
    if (!grown)
        return HUB_ENOMEM;
    *buf = grown;
    while (*len < want) {
        ssize_t n = pread(fd, grown + *len, want - *len, (off_t)*len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return hub__error_set(HUB_EIO, "cannot read %s: %s", path,
                                  strerror(errno));
        if (n == 0)
            return hub__error_set(HUB_EIO, "%s: shrank while being read", path);
        *len += (size_t)n;
    }
    return HUB_OK;
}

/*
 * Read a prefix of `path` until `parse` is satisfied: never more than the
 * header (what the parser asks for, or twice the last read, bounded by the
 * file and `cap`), never the tensor data.
 */
int hub__header_read_fd(int fd,
                        uint64_t size,
                        const char *path,
                        uint64_t cap,
                        hub__header_parse_fn parse,
                        const void *ctx,
                        void *out)
{
    int error = HUB_OK;
    uint8_t *buf = NULL;
    size_t len = 0;
    uint64_t limit = size < cap ? size : cap;
    uint64_t want = FIRST_CHUNK < limit ? FIRST_CHUNK : limit;
    for (;;) {
        if ((error = read_more(fd, path, &buf, &len, (size_t)want)) < 0)
            break;
        uint64_t need = 0;
        error = parse(out, buf, len, size, ctx, path, &need);
        if (error != HUB__NEED_MORE)
            break;
        if (need <= len || need > limit) {
            /* the parsers refuse what cannot be in the file; the cap is
             * ours */
            error = hub__error_set(HUB_EFORMAT,
                                   "%s: the header needs more than %" PRIu64
                                   " bytes (max_header_bytes)",
                                   path, limit);
            break;
        }
        want = (uint64_t)len * 2;
        if (want < need)
            want = need;
        if (want > limit)
            want = limit;
    }
    hub__free(buf);
    return error;
}

static int read_header(const char *path,
                       uint64_t cap,
                       hub__header_parse_fn parse,
                       const void *ctx,
                       void *out)
{
    int fd;
    uint64_t size;
    int error = open_file(path, &fd, &size);
    if (error < 0)
        return error;
    error = hub__header_read_fd(fd, size, path, cap, parse, ctx, out);
    close(fd);
    return error;
}

int hub__header_parse_st(void *out,
                         const uint8_t *buf,
                         size_t len,
                         uint64_t file_size,
                         const void *ctx,
                         const char *what,
                         uint64_t *need)
{
    (void)ctx;
    return hub__safetensors_parse(out, buf, len, file_size, what, need);
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

int hub__header_read_index_fd(
    int fd, uint64_t size, const char *path, uint64_t cap, hub__st_index *index)
{
    int error = HUB_OK;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (size > cap)
        error = hub__error_set(HUB_EFORMAT,
                               "%s: %" PRIu64 " bytes, over the %" PRIu64
                               "-byte cap on an index",
                               path, size, cap);
    else if ((error = read_more(fd, path, &buf, &len, (size_t)size)) == 0)
        error =
            hub__safetensors_parse_index(index, (const char *)buf, len, path);
    hub__free(buf);
    return error;
}

/* The whole (small) index file. */
static int read_index(const char *path, uint64_t cap, hub__st_index *index)
{
    int fd;
    uint64_t size;
    int error = open_file(path, &fd, &size);
    if (error < 0)
        return error;
    error = hub__header_read_index_fd(fd, size, path, cap, index);
    close(fd);
    return error;
}

static int
sharded_info(hub_safetensors_info **out, const char *path, uint64_t cap)
{
    hub__st_index index;
    int error = read_index(path, HUB__INDEX_CAP, &index);
    if (error < 0)
        return error;
    hub_safetensors_info **parts = NULL;
    const char *slash = strrchr(path, '/');
    int dir_len = slash ? (int)(slash - path) : 1;
    const char *dir = slash ? path : ".";
    if (!(parts = hub__calloc(index.shard_count ? index.shard_count : 1,
                              sizeof(*parts)))) {
        error = HUB_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < index.shard_count; i++) {
        char *shard = hub__aprintf("%.*s/%s", dir_len, dir, index.shards[i]);
        if (!shard) {
            error = HUB_ENOMEM;
            break;
        }
        error = read_header(shard, cap, hub__header_parse_st, NULL, &parts[i]);
        hub__free(shard);
        if (error < 0)
            break;
    }
    if (error == 0)
        error = hub__safetensors_merge(out, parts, &index, path);
done:
    if (parts)
        for (size_t i = 0; i < index.shard_count; i++)
            hub_safetensors_info_free(parts[i]);
    hub__free(parts);
    hub__safetensors_index_free(&index);
    return error;
}

int hub_safetensors_info_file(hub_safetensors_info **out,
                              const char *path,
                              const hub_header_options *opts)
{
    HUB_ASSERT_ARG(out);
    *out = NULL;
    HUB_ASSERT_ARG(path);
    hub_header_options o;
    int error = hub__header_options_take(&o, opts);
    if (error < 0)
        return error;
    uint64_t cap = hub__header_st_cap(&o);
    if (ends_with(path, ".json"))
        return sharded_info(out, path, cap);
    return read_header(path, cap, hub__header_parse_st, NULL, out);
}

int hub__header_parse_gguf(void *out,
                           const uint8_t *buf,
                           size_t len,
                           uint64_t file_size,
                           const void *ctx,
                           const char *what,
                           uint64_t *need)
{
    hub__gguf_limits lim = *(const hub__gguf_limits *)ctx;
    lim.file_size = file_size;
    return hub__gguf_parse(out, buf, len, &lim, what, need);
}

int hub_gguf_info_file(hub_gguf_info **out,
                       const char *path,
                       const hub_header_options *opts)
{
    HUB_ASSERT_ARG(out);
    *out = NULL;
    HUB_ASSERT_ARG(path);
    hub_header_options o;
    int error = hub__header_options_take(&o, opts);
    if (error < 0)
        return error;
    hub__gguf_limits lim;
    hub__header_gguf_limits(&o, &lim);
    return read_header(path, lim.max_header, hub__header_parse_gguf, &lim, out);
}
