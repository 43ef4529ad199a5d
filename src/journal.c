/* SPDX-License-Identifier: MIT */
/* journal.c: the resume journal of a multi-connection download. */
#include "journal.h"

#include "alloc.h"
#include "digest.h"
#include "path.h"
#include "safefs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAGIC "HUBFJRN1"
#define VERSION 1u
#define HEADER 144
#define SLOT_SIZE                                                              \
    (HEADER + 2 * HUB_JOURNAL_MAX_RANGES * 16 + 32) /* header, ranges, sha */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* This boot's id: the kernel changes it at every boot. "" if unknown. */
static void read_boot_id(char out[40])
{
    memset(out, 0, 40);
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, out, 39);
    close(fd);
    if (n <= 0) {
        out[0] = '\0';
        return;
    }
    out[n] = '\0';
    out[strcspn(out, "\n")] = '\0';
}

uint64_t hub__ranges_total(const hub__rangelist *l)
{
    uint64_t t = 0;
    for (size_t i = 0; i < l->n; i++)
        t += l->r[i].end - l->r[i].start;
    return t;
}

uint64_t hub__ranges_prefix(const hub__rangelist *l)
{
    return l->n && l->r[0].start == 0 ? l->r[0].end : 0;
}

int hub__ranges_add(hub__rangelist *l, uint64_t start, uint64_t end)
{
    if (start >= end)
        return HUB_OK;
    /* the first range that ends at or after `start` */
    size_t i = 0;
    while (i < l->n && l->r[i].end < start)
        i++;
    /* every range touching [start, end) merges into one */
    size_t k = i;
    while (k < l->n && l->r[k].start <= end) {
        if (l->r[k].start < start)
            start = l->r[k].start;
        if (l->r[k].end > end)
            end = l->r[k].end;
        k++;
    }
    if (k == i) {
        if (l->n == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 16;
            hub__range *r = hub__reallocarray(l->r, cap, sizeof(*r));
            if (!r)
                return HUB_ENOMEM;
            l->r = r;
            l->cap = cap;
        }
        memmove(l->r + i + 1, l->r + i, (l->n - i) * sizeof(*l->r));
        l->n++;
    } else if (k > i + 1) {
        memmove(l->r + i + 1, l->r + k, (l->n - k) * sizeof(*l->r));
        l->n -= k - i - 1;
    }
    l->r[i].start = start;
    l->r[i].end = end;
    return HUB_OK;
}

int hub__ranges_copy(hub__rangelist *dst, const hub__rangelist *src)
{
    hub__ranges_clear(dst);
    for (size_t i = 0; i < src->n; i++) {
        int error = hub__ranges_add(dst, src->r[i].start, src->r[i].end);
        if (error < 0)
            return error;
    }
    return HUB_OK;
}

void hub__ranges_clear(hub__rangelist *l)
{
    l->n = 0;
}

void hub__ranges_free(hub__rangelist *l)
{
    hub__free(l->r);
    l->r = NULL;
    l->n = l->cap = 0;
}

static size_t capped(const hub__rangelist *l)
{
    return l->n < HUB_JOURNAL_MAX_RANGES ? l->n : HUB_JOURNAL_MAX_RANGES;
}

static size_t encode(unsigned char *buf,
                     const hub__journal *j,
                     const hub__rangelist *written,
                     const hub__rangelist *durable)
{
    size_t nw = capped(written), nd = capped(durable);
    memset(buf, 0, SLOT_SIZE);
    memcpy(buf, MAGIC, 8);
    put32(buf + 8, VERSION);
    put32(buf + 12, (uint32_t)nw);
    put32(buf + 16, (uint32_t)nd);
    put64(buf + 24, j->seq);
    put64(buf + 32, j->size);
    memcpy(buf + 40, j->etag, strnlen(j->etag, 64));
    memcpy(buf + 104, j->boot_id, strnlen(j->boot_id, 39));
    unsigned char *p = buf + HEADER;
    for (size_t i = 0; i < nw; i++, p += 16) {
        put64(p, written->r[i].start);
        put64(p + 8, written->r[i].end);
    }
    for (size_t i = 0; i < nd; i++, p += 16) {
        put64(p, durable->r[i].start);
        put64(p + 8, durable->r[i].end);
    }
    size_t len = (size_t)(p - buf);
    hub__sha256(buf, len, p);
    return len + 32;
}

/* Decode a slot into the ranges to trust; false if it is not a complete,
 * matching record. */
static bool decode(const unsigned char *buf,
                   size_t len,
                   const hub__journal *j,
                   hub__rangelist *trusted,
                   uint64_t *seq)
{
    if (len < HEADER + 32 || memcmp(buf, MAGIC, 8) != 0 ||
        get32(buf + 8) != VERSION)
        return false;
    uint32_t nw = get32(buf + 12), nd = get32(buf + 16);
    if (nw > HUB_JOURNAL_MAX_RANGES || nd > HUB_JOURNAL_MAX_RANGES)
        return false;
    size_t body = HEADER + 16 * ((size_t)nw + nd);
    if (body + 32 > len)
        return false;
    unsigned char md[32];
    if (hub__sha256(buf, body, md) < 0 || memcmp(md, buf + body, 32) != 0)
        return false;
    char stored[65] = {0};
    memcpy(stored, buf + 40, 64);
    if (get64(buf + 32) != j->size || strcmp(stored, j->etag) != 0)
        return false;
    char boot[40];
    memcpy(boot, buf + 104, 40);
    boot[39] = '\0';
    /* after a reboot only what was flushed to disk counts */
    bool same_boot = j->boot_id[0] && strcmp(boot, j->boot_id) == 0;
    hub__ranges_clear(trusted);
    const unsigned char *p = buf + HEADER;
    for (uint32_t i = 0; i < nw + nd; i++, p += 16) {
        uint64_t a = get64(p), b = get64(p + 8);
        if (a >= b || b > j->size)
            return false;
        if ((i < nw) == same_boot && hub__ranges_add(trusted, a, b) < 0)
            return false;
    }
    *seq = get64(buf + 24);
    return true;
}

int hub__journal_open(hub__journal *j,
                      const char *root,
                      const char *path,
                      const char *etag,
                      uint64_t size,
                      hub__rangelist *trusted)
{
    hub__ranges_clear(trusted);
    j->seq = 0;
    j->size = size;
    snprintf(j->etag, sizeof(j->etag), "%s", etag);
    read_boot_id(j->boot_id);
    j->fd = hub__sfs_open_own(root, path, 0666);
    if (j->fd < 0)
        return j->fd;
    unsigned char *buf = hub__malloc(SLOT_SIZE);
    if (!buf) {
        hub__journal_close(j);
        return HUB_ENOMEM;
    }
    hub__rangelist slot = HUB_RANGELIST_INIT;
    uint64_t best_seq = 0;
    bool found = false;
    int error = HUB_OK;
    for (int i = 0; i < 2 && error == HUB_OK; i++) {
        ssize_t n = pread(j->fd, buf, SLOT_SIZE, (off_t)i * SLOT_SIZE);
        uint64_t seq;
        if (n > 0 && decode(buf, (size_t)n, j, &slot, &seq) &&
            (!found || seq > best_seq)) {
            found = true;
            best_seq = seq;
            error = hub__ranges_copy(trusted, &slot);
        }
    }
    hub__ranges_free(&slot);
    hub__free(buf);
    if (error == HUB_OK) {
        j->seq = best_seq;
        if (!found && ftruncate(j->fd, 0) != 0)
            error = hub__path_error(errno, "cannot reset journal", path);
    }
    if (error < 0)
        hub__journal_close(j); /* the caller only closes what opened */
    return error;
}

int hub__journal_write(hub__journal *j,
                       const hub__rangelist *written,
                       const hub__rangelist *durable)
{
    unsigned char *buf = hub__malloc(SLOT_SIZE);
    if (!buf)
        return HUB_ENOMEM;
    j->seq++;
    size_t len = encode(buf, j, written, durable);
    off_t off = (off_t)(j->seq % 2) * SLOT_SIZE;
    ssize_t n = pwrite(j->fd, buf, len, off);
    hub__free(buf);
    if (n != (ssize_t)len)
        return hub__error_set(n < 0 && errno == ENOSPC ? HUB_ENOSPC : HUB_EIO,
                              "cannot write the resume journal: %s",
                              n < 0 ? strerror(errno) : "short write");
    return HUB_OK;
}

void hub__journal_close(hub__journal *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
}
