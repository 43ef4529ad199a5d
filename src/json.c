/* SPDX-License-Identifier: MIT */
/* json.c: read and write JSON through jansson. */
#include "json.h"

#include <jansson.h>
#include <limits.h>
#include <string.h>

/* hub_json is never defined: a hub_json * is a json_t *. */
static json_t *J(const hub_json *v)
{
    return (json_t *)(uintptr_t)v;
}

static hub_json *H(json_t *v)
{
    return (hub_json *)v;
}

int hub__json_parse(hub_json **out,
                    const char *data,
                    size_t len,
                    const char *what)
{
    json_error_t err;
    *out = NULL;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return hub__error_set(HUB_EPROTO, "invalid JSON in %s (line %d: %s)",
                              what, err.line, err.text);
    *out = H(root);
    return HUB_OK;
}

void hub__json_free(hub_json *value)
{
    if (value)
        json_decref(J(value));
}

bool hub__json_is_object(const hub_json *v)
{
    return v && json_is_object(J(v));
}

bool hub__json_is_array(const hub_json *v)
{
    return v && json_is_array(J(v));
}

bool hub__json_is_null(const hub_json *v)
{
    return v && json_is_null(J(v));
}

const hub_json *hub__json_get(const hub_json *obj, const char *key)
{
    if (!hub__json_is_object(obj))
        return NULL;
    return H(json_object_get(J(obj), key));
}

const char *hub__json_string(const hub_json *v)
{
    if (!v || !json_is_string(J(v)))
        return NULL;
    const char *s = json_string_value(J(v));
    /* an embedded NUL would truncate names silently: refuse it */
    if (strlen(s) != json_string_length(J(v)))
        return NULL;
    return s;
}

bool hub__json_u64(const hub_json *v, uint64_t *out)
{
    if (!v || !json_is_integer(J(v)))
        return false;
    json_int_t n = json_integer_value(J(v));
    if (n < 0)
        return false;
    *out = (uint64_t)n;
    return true;
}

bool hub__json_bool(const hub_json *v, bool *out)
{
    if (!v || !json_is_boolean(J(v)))
        return false;
    *out = json_is_true(J(v));
    return true;
}

size_t hub__json_array_size(const hub_json *v)
{
    return hub__json_is_array(v) ? json_array_size(J(v)) : 0;
}

int hub__json_object_foreach(const hub_json *obj,
                             int (*fn)(const char *key,
                                       const hub_json *value,
                                       void *payload),
                             void *payload)
{
    if (!hub__json_is_object(obj))
        return HUB_OK;
    const char *key;
    json_t *value;
    json_object_foreach(J(obj), key, value)
    {
        int error = fn(key, H(value), payload);
        if (error < 0)
            return error;
    }
    return HUB_OK;
}

const hub_json *hub__json_array_get(const hub_json *v, size_t index)
{
    return hub__json_is_array(v) ? H(json_array_get(J(v), index)) : NULL;
}

hub_json *hub__json_object(void)
{
    json_t *o = json_object();
    if (!o)
        hub__error_oom();
    return H(o);
}

int hub__json_set(hub_json *obj, const char *key, hub_json *child)
{
    if (!child)
        return hub__error_oom();
    if (json_object_set_new(J(obj), key, J(child)) != 0)
        return hub__error_oom();
    return HUB_OK;
}

int hub__json_set_string(hub_json *obj, const char *key, const char *value)
{
    return hub__json_set(obj, key, H(json_string(value)));
}

int hub__json_set_u64(hub_json *obj, const char *key, uint64_t value)
{
    if (value > (uint64_t)LLONG_MAX)
        return hub__error_set(HUB_EINVAL, "integer too large for JSON");
    return hub__json_set(obj, key, H(json_integer((json_int_t)value)));
}

static int dump_cb(const char *data, size_t len, void *payload)
{
    return hub__buf_put(payload, data, len) == HUB_OK ? 0 : -1;
}

int hub__json_dump_python(const hub_json *value, hub_buf *out)
{
    size_t start = out->len;
    if (json_dump_callback(J(value), dump_cb, out,
                           JSON_INDENT(1) | JSON_ENSURE_ASCII) != 0)
        return hub_error_last()->code < 0 ? hub_error_last()->code
                                          : hub__error_oom();
    /* jansson writes \u00E9 where Python writes \u00e9 */
    for (size_t i = start; i + 1 < out->len; i++) {
        if (out->ptr[i] != '\\')
            continue;
        if (out->ptr[i + 1] == 'u')
            for (size_t k = i + 2; k < i + 6 && k < out->len; k++)
                if (out->ptr[k] >= 'A' && out->ptr[k] <= 'F')
                    out->ptr[k] = (char)(out->ptr[k] - 'A' + 'a');
        i++; /* skip the escaped character */
    }
    return HUB_OK;
}
