/* SPDX-License-Identifier: MIT */
/* header_file.c: safetensors and GGUF headers of local files, read in
 * growing chunks and handed to the byte parsers (safetensors.c, gguf.c). */
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
#define GGUF_DEFAULT_CAP (256u * 1024 * 1024)
/* an index of a large MoE reaches tens of MB */
#define INDEX_CAP (256u * 1024 * 1024)

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

typedef int (*parse_fn)(void *out,
                        const uint8_t *buf,
                        size_t len,
                        uint64_t file_size,
                        const void *ctx,
                        const char *what,
                        uint64_t *need);

/*
 * Read a prefix of `path` until `parse` is satisfied: never more than the
 * header (what the parser asks for, or twice the last read, bounded by the
 * file and `cap`), never the tensor data.
 */
static int read_header(
    const char *path, uint64_t cap, parse_fn parse, const void *ctx, void *out)
{
    int fd;
    uint64_t size;
    int error = open_file(path, &fd, &size);
    if (error < 0)
        return error;
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
    close(fd);
    return error;
}

static int st_parse(void *out,
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

/* The whole (small) index file. */
static int read_index(const char *path, uint64_t cap, hub__st_index *index)
{
    int fd;
    uint64_t size;
    int error = open_file(path, &fd, &size);
    if (error < 0)
        return error;
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
    close(fd);
    return error;
}

static int
sharded_info(hub_safetensors_info **out, const char *path, uint64_t cap)
{
    hub__st_index index;
    int error = read_index(path, INDEX_CAP, &index);
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
        error = read_header(shard, cap, st_parse, NULL, &parts[i]);
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
    hub_header_options o = HUB_HEADER_OPTIONS_INIT;
    if (opts) {
        int error = check_options(opts);
        if (error < 0)
            return error;
        o = *opts;
    }
    uint64_t cap = o.max_header_bytes
                       ? o.max_header_bytes
                       : 8 + (uint64_t)HUB_SAFETENSORS_MAX_HEADER;
    if (ends_with(path, ".json"))
        return sharded_info(out, path, cap);
    return read_header(path, cap, st_parse, NULL, out);
}

static int gguf_parse(void *out,
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
    hub_header_options o = HUB_HEADER_OPTIONS_INIT;
    if (opts) {
        int error = check_options(opts);
        if (error < 0)
            return error;
        o = *opts;
    }
    hub__gguf_limits lim;
    memset(&lim, 0, sizeof(lim));
    lim.max_header = o.max_header_bytes ? o.max_header_bytes : GGUF_DEFAULT_CAP;
    lim.max_array_values = o.max_array_values;
    return read_header(path, lim.max_header, gguf_parse, &lim, out);
}
