/* SPDX-License-Identifier: MIT */
/* json.h: read and write JSON (the only user of jansson). */
#ifndef HUB_JSON_H
#define HUB_JSON_H

#include "buf.h"
#include "common.h"

/* A JSON value. Values reached from a root are borrowed from it. */
typedef struct hub_json hub_json;

/* Parse `len` bytes. `what` names the document in the error message. */
int hub__json_parse(hub_json **out,
                    const char *data,
                    size_t len,
                    const char *what);
void hub__json_free(hub_json *value);

bool hub__json_is_object(const hub_json *v);
bool hub__json_is_array(const hub_json *v);
bool hub__json_is_null(const hub_json *v);
/* member `key` of an object, or NULL */
const hub_json *hub__json_get(const hub_json *obj, const char *key);
/* string value, or NULL if `v` is not a string (or contains NUL) */
const char *hub__json_string(const hub_json *v);
/* non-negative integer value */
bool hub__json_u64(const hub_json *v, uint64_t *out);
bool hub__json_bool(const hub_json *v, bool *out);
size_t hub__json_array_size(const hub_json *v);
/* Call `fn` for each member of an object, in order; stops at the first
 * negative return, which it returns. */
int hub__json_object_foreach(const hub_json *obj,
                             int (*fn)(const char *key,
                                       const hub_json *value,
                                       void *payload),
                             void *payload);
const hub_json *hub__json_array_get(const hub_json *v, size_t index);

/* Builders: a new object, and setters that copy their arguments. */
hub_json *hub__json_object(void);
int hub__json_set_string(hub_json *obj, const char *key, const char *value);
int hub__json_set_u64(hub_json *obj, const char *key, uint64_t value);
/* takes ownership of `child`, also on failure */
int hub__json_set(hub_json *obj, const char *key, hub_json *child);

/*
 * Serialise as Python's json.dump(value, f, indent=1) does: one member per
 * line, one space of indent per level, ": " between key and value,
 * ensure_ascii (lowercase \uXXXX escapes), no trailing newline.
 */
int hub__json_dump_python(const hub_json *value, hub_buf *out);

#endif
