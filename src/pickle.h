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
 * ints are dropped). */
typedef struct hub__pdict {
    char **keys;
    char **values;
    size_t count;
} hub__pdict;

typedef struct hub__pickle {
    hub__pdict *dicts; /* the list's dicts, or the one top-level dict */
    size_t count;
} hub__pickle;

/* Decode a pickle holding a list of dicts or one dict. HUB_EPROTO if it
 * holds anything else or is malformed. */
int hub__pickle_read(hub__pickle *out, const unsigned char *data, size_t len);
void hub__pickle_free(hub__pickle *p);
void hub__pdict_free(hub__pdict *d);
/* The value of `key` in dict `d`, or NULL. */
const char *hub__pdict_get(const hub__pdict *d, const char *key);

/* Encode a list of dicts (`as_list`) or a single dict (dicts[0]), protocol
 * 2, which every Python 3 reads. */
int hub__pickle_write(const hub__pickle *p, bool as_list, hub_buf *out);

#endif
