/* SPDX-License-Identifier: MIT */
/* journal.h: the resume journal of a multi-connection download. */
#ifndef HUB_JOURNAL_H
#define HUB_JOURNAL_H

#include "common.h"

/*
 * A multi-connection download writes its bytes at their offsets into a
 * sparse temp file; the journal beside it records which byte ranges are
 * there, keyed by the blob's etag and size so it can never resume into other
 * content. Two slots are written alternately, each with a sequence number
 * and a sha256 of its content: a torn or garbled write loses at most the
 * newest record, never the older one, and a journal with no valid slot
 * means "start over".
 *
 * Each record holds two range lists: `written` (in the page cache: enough
 * after a crash or kill -9, since the kernel keeps those pages) and
 * `durable` (fdatasync'ed before the record was written: what survives a
 * reboot). The record also names the boot it was written in; a reader
 * trusts `written` only within the same boot.
 */

typedef struct hub__range {
    uint64_t start, end; /* [start, end) */
} hub__range;

/* A sorted list of disjoint, non-adjacent ranges. */
typedef struct hub__rangelist {
    hub__range *r;
    size_t n;
    size_t cap;
} hub__rangelist;

#define HUB_RANGELIST_INIT                                                     \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

/* Add [start, end), merging with what it touches. HUB_ENOMEM possible. */
int hub__ranges_add(hub__rangelist *l, uint64_t start, uint64_t end);
/* Total bytes covered. */
uint64_t hub__ranges_total(const hub__rangelist *l);
/* End of the prefix [0, n) covered, 0 if none. */
uint64_t hub__ranges_prefix(const hub__rangelist *l);
int hub__ranges_copy(hub__rangelist *dst, const hub__rangelist *src);
void hub__ranges_clear(hub__rangelist *l);
void hub__ranges_free(hub__rangelist *l);

/* Ranges a record holds at most; a longer list is written up to that many
 * ranges only, which is always safe (less is claimed than is there). */
#define HUB_JOURNAL_MAX_RANGES 256

typedef struct hub__journal {
    int fd;
    uint64_t seq;
    char boot_id[40];
    char etag[65];
    uint64_t size;
} hub__journal;

/*
 * Open or create the journal at `path` (below the trusted `root`: no link
 * followed, only a file of ours resumed) for a blob of `size` bytes named
 * `etag`. `trusted` receives the ranges that can be trusted now (the
 * `written` ones of this boot, else the `durable` ones); it stays empty for
 * a new, foreign, garbled or stale journal (which is then reset).
 */
int hub__journal_open(hub__journal *j,
                      const char *root,
                      const char *path,
                      const char *etag,
                      uint64_t size,
                      hub__rangelist *trusted);
/* Record the two lists in the older slot. */
int hub__journal_write(hub__journal *j,
                       const hub__rangelist *written,
                       const hub__rangelist *durable);
void hub__journal_close(hub__journal *j);

#endif
