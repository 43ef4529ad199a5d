/* SPDX-License-Identifier: MIT */
/* pickle.h: the tiny subset of Python's pickle the ModelScope SDK's cache
 * index uses: lists of dicts of strings. */
#ifndef HUB_PICKLE_H
#define HUB_PICKLE_H

#include "buf.h"
#include "common.h"

/*
 * The classic modelscope SDK keeps its cache index (.msc) and repo id (.mdl)
 * as pickles: a list of {'Path': str, 'Revision': str} dicts, and a
 * {'id': str} dict. No C library reads pickles, and the subset is a dozen
 * opcodes, so it is done here. The reader is strict: anything but strings,
 * None, small ints, lists and dicts is refused (a pickle can run code in
 * Python; here it can only be data).
 */

/* One dict of a decoded pickle: string keys to string values (None and
 * ints are dropped). The strings belong to the hub__pickle. */
typedef struct hub__pdict {
    const char **keys;
    const char **values;
    size_t count;
} hub__pdict;

typedef struct hub__pickle {
    hub__pdict *dicts; /* the list's dicts, or the one top-level dict */
    size_t count;
    /* every string the pickle spells out, each once: a memo reference
     * (BINGET) shares its string, so decoding takes memory linear in the
     * input however often a string is referenced */
    char *strings;
} hub__pickle;

/* Decode a pickle holding a list of dicts or one dict, in time and memory
 * linear in `len`. HUB_EPROTO if it holds anything else or is malformed,
 * HUB_ENOMEM if memory ran out (the pickle may be fine). */
int hub__pickle_read(hub__pickle *out, const unsigned char *data, size_t len);
void hub__pickle_free(hub__pickle *p);
/* The value of `key` in dict `d`, or NULL. */
const char *hub__pdict_get(const hub__pdict *d, const char *key);

/* Encode a list of dicts (`as_list`) or a single dict (dicts[0]), protocol
 * 2, which every Python 3 reads. */
int hub__pickle_write(const hub__pickle *p, bool as_list, hub_buf *out);

#endif
