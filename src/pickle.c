/* SPDX-License-Identifier: MIT */
/* pickle.c: lists of dicts of strings in Python's pickle format. */
#include "pickle.h"

#include "alloc.h"

#include <string.h>

#define MAX_STACK 100000
#define MAX_MEMO 1000000

typedef enum vkind { V_MARK, V_NONE, V_INT, V_STR, V_LIST, V_DICT } vkind;

typedef struct val {
    vkind kind;
    const char *s;     /* V_STR: in reader.strings, shared by memo gets */
    struct val *items; /* V_LIST: values; V_DICT: key, value, key, ... */
    size_t n, cap;
} val;

typedef struct reader {
    const unsigned char *p, *end;
    val *stack;
    size_t depth, stack_cap;
    /* Every string literal copied once, NUL-terminated: each takes at
     * least its length + 2 bytes of input (opcode, length), so `len` bytes
     * hold them all. */
    char *strings;
    size_t strings_used, strings_cap;
    /* memo: strings only (pointers into `strings`, never copied); a
     * container is marked (NULL) and refused if fetched, which no cache
     * index needs */
    const char **memo;
    bool *memo_set;
    size_t memo_cap;
    size_t memo_count; /* distinct indexes set: MEMOIZE's next index */
} reader;

static void val_free(val *v)
{
    for (size_t i = 0; i < v->n; i++)
        val_free(&v->items[i]);
    hub__free(v->items);
    memset(v, 0, sizeof(*v));
}

static int bad(const char *why)
{
    return hub__error_set(HUB_EPROTO, "unreadable cache index (pickle): %s",
                          why);
}

static int push(reader *r, val v)
{
    if (r->depth == r->stack_cap) {
        if (r->stack_cap >= MAX_STACK) {
            val_free(&v);
            return bad("too deep");
        }
        size_t cap = r->stack_cap ? 2 * r->stack_cap : 32;
        val *s = hub__reallocarray(r->stack, cap, sizeof(*s));
        if (!s) {
            val_free(&v);
            return HUB_ENOMEM;
        }
        r->stack = s;
        r->stack_cap = cap;
    }
    r->stack[r->depth++] = v;
    return HUB_OK;
}

static int add_item(val *c, val v)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        val *items = hub__reallocarray(c->items, cap, sizeof(*items));
        if (!items) {
            val_free(&v);
            return HUB_ENOMEM;
        }
        c->items = items;
        c->cap = cap;
    }
    c->items[c->n++] = v;
    return HUB_OK;
}

static bool take(reader *r, size_t n, const unsigned char **out)
{
    if ((size_t)(r->end - r->p) < n)
        return false;
    *out = r->p;
    r->p += n;
    return true;
}

static uint64_t le(const unsigned char *b, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i > 0; i--)
        v = (v << 8) | b[i - 1];
    return v;
}

static int memo_put(reader *r, uint64_t index)
{
    if (r->depth == 0 || index >= MAX_MEMO)
        return bad("bad memo");
    if (index >= r->memo_cap) {
        /* geometric: a run of MEMOIZE grows the memo in amortized O(1) */
        size_t cap = r->memo_cap ? 2 * r->memo_cap : 64;
        if (cap <= index)
            cap = (size_t)index + 1;
        if (cap > MAX_MEMO)
            cap = MAX_MEMO;
        const char **m = hub__reallocarray(r->memo, cap, sizeof(*m));
        if (!m)
            return HUB_ENOMEM;
        r->memo = m;
        bool *set = hub__reallocarray(r->memo_set, cap, sizeof(*set));
        if (!set)
            return HUB_ENOMEM;
        r->memo_set = set;
        for (size_t i = r->memo_cap; i < cap; i++) {
            r->memo[i] = NULL;
            r->memo_set[i] = false;
        }
        r->memo_cap = cap;
    }
    const val *top = &r->stack[r->depth - 1];
    if (!r->memo_set[index])
        r->memo_count++;
    r->memo_set[index] = true;
    r->memo[index] = top->kind == V_STR ? top->s : NULL;
    return HUB_OK;
}

static int memo_get(reader *r, uint64_t index)
{
    if (index >= r->memo_cap || !r->memo_set[index])
        return bad("unknown memo entry");
    if (!r->memo[index])
        return bad("shared containers");
    return push(r, (val){V_STR, r->memo[index], NULL, 0, 0});
}

/* Index of the topmost MARK, or SIZE_MAX. */
static size_t find_mark(const reader *r)
{
    for (size_t i = r->depth; i > 0; i--)
        if (r->stack[i - 1].kind == V_MARK)
            return i - 1;
    return SIZE_MAX;
}

/* APPEND(S) / SETITEM(S): move stack[from..depth) into the container at
 * stack[from - 1] (`drop_mark`: stack[from - 1] is a MARK first). */
static int fill(reader *r, size_t from, bool dict, bool drop_mark)
{
    size_t at = drop_mark ? from - 1 : from;
    if (at == 0)
        return bad("nothing to add to");
    val *c = &r->stack[at - 1];
    if (c->kind != (dict ? V_DICT : V_LIST))
        return bad(dict ? "SETITEM on a non-dict" : "APPEND on a non-list");
    if (dict && (r->depth - from) % 2)
        return bad("odd number of dict items");
    int error = HUB_OK;
    for (size_t i = from; i < r->depth; i++) {
        if (error == HUB_OK)
            error = add_item(c, r->stack[i]);
        else
            val_free(&r->stack[i]);
    }
    r->depth = at;
    return error;
}

static int run(reader *r)
{
    for (;;) {
        const unsigned char *b;
        if (!take(r, 1, &b))
            return bad("truncated");
        unsigned char op = b[0];
        int error = HUB_OK;
        switch (op) {
        case 0x80: /* PROTO */
            if (!take(r, 1, &b) || b[0] > 5)
                return bad("unknown protocol");
            break;
        case 0x95: /* FRAME: a length, ignored */
            if (!take(r, 8, &b))
                return bad("truncated frame");
            break;
        case ']':
            error = push(r, (val){V_LIST, NULL, NULL, 0, 0});
            break;
        case '}':
            error = push(r, (val){V_DICT, NULL, NULL, 0, 0});
            break;
        case '(':
            error = push(r, (val){V_MARK, NULL, NULL, 0, 0});
            break;
        case 'N':
        case 0x88: /* NEWTRUE */
        case 0x89: /* NEWFALSE */
            error =
                push(r, (val){op == 'N' ? V_NONE : V_INT, NULL, NULL, 0, 0});
            break;
        case 'K':
        case 'M':
        case 'J': {
            size_t n = op == 'K' ? 1 : op == 'M' ? 2 : 4;
            if (!take(r, n, &b))
                return bad("truncated int");
            error = push(r, (val){V_INT, NULL, NULL, 0, 0});
            break;
        }
        case 0x8c: /* SHORT_BINUNICODE */
        case 'X':  /* BINUNICODE */
        case 0x8d: /* BINUNICODE8 */ {
            size_t n = op == 0x8c ? 1 : op == 'X' ? 4 : 8;
            if (!take(r, n, &b))
                return bad("truncated string");
            uint64_t len = le(b, n);
            if (len > (uint64_t)(r->end - r->p) || !take(r, (size_t)len, &b))
                return bad("truncated string");
            if (memchr(b, 0, (size_t)len))
                return bad("NUL in a string");
            if ((size_t)len >= r->strings_cap - r->strings_used)
                return bad("strings longer than the pickle"); /* cannot be */
            char *s = r->strings + r->strings_used;
            memcpy(s, b, (size_t)len);
            s[len] = '\0';
            r->strings_used += (size_t)len + 1;
            error = push(r, (val){V_STR, s, NULL, 0, 0});
            break;
        }
        case 0x94: /* MEMOIZE: index len(memo), as Python's Unpickler */
            error = memo_put(r, r->memo_count);
            break;
        case 'q':
        case 'r':
        case 'h':
        case 'j': {
            size_t n = (op == 'q' || op == 'h') ? 1 : 4;
            if (!take(r, n, &b))
                return bad("truncated memo index");
            error = (op == 'q' || op == 'r') ? memo_put(r, le(b, n))
                                             : memo_get(r, le(b, n));
            break;
        }
        case 'a':
        case 's':
            if (r->depth < (op == 's' ? 3u : 2u))
                return bad("stack underflow");
            error = fill(r, r->depth - (op == 's' ? 2 : 1), op == 's', false);
            break;
        case 'e':
        case 'u': {
            size_t mark = find_mark(r);
            if (mark == SIZE_MAX)
                return bad("no mark");
            error = fill(r, mark + 1, op == 'u', true);
            break;
        }
        case '.':
            if (r->depth != 1)
                return bad("not one object at the end");
            return HUB_OK;
        default:
            return bad("an unsupported object");
        }
        if (error < 0)
            return error;
    }
}

/* The dict's string pairs, pointing into the reader's strings. */
static int dict_from(hub__pdict *d, const val *v)
{
    memset(d, 0, sizeof(*d));
    size_t pairs = v->n / 2;
    d->keys = hub__calloc(pairs ? pairs : 1, sizeof(char *));
    d->values = hub__calloc(pairs ? pairs : 1, sizeof(char *));
    if (!d->keys || !d->values)
        return HUB_ENOMEM;
    for (size_t i = 0; i < pairs; i++) {
        const val *k = &v->items[2 * i], *x = &v->items[2 * i + 1];
        if (k->kind != V_STR || x->kind != V_STR)
            continue;
        d->keys[d->count] = k->s;
        d->values[d->count] = x->s;
        d->count++;
    }
    return HUB_OK;
}

int hub__pickle_read(hub__pickle *out, const unsigned char *data, size_t len)
{
    memset(out, 0, sizeof(*out));
    reader r = {0};
    r.p = data;
    r.end = data + len;
    r.strings_cap = len + 1;
    r.strings = hub__malloc(r.strings_cap);
    int error = r.strings ? run(&r) : HUB_ENOMEM;
    out->strings = r.strings;
    if (error == HUB_OK) {
        const val *top = &r.stack[0];
        if (top->kind == V_DICT) {
            out->dicts = hub__calloc(1, sizeof(*out->dicts));
            error = out->dicts ? dict_from(&out->dicts[0], top) : HUB_ENOMEM;
            out->count = out->dicts ? 1 : 0;
        } else if (top->kind == V_LIST) {
            out->dicts = hub__calloc(top->n ? top->n : 1, sizeof(*out->dicts));
            if (!out->dicts)
                error = HUB_ENOMEM;
            for (size_t i = 0; i < top->n && error == HUB_OK; i++) {
                if (top->items[i].kind != V_DICT) {
                    error = bad("a list item is not a dict");
                    break;
                }
                error = dict_from(&out->dicts[out->count++], &top->items[i]);
            }
        } else {
            error = bad("neither a list nor a dict");
        }
    }
    for (size_t i = 0; i < r.depth; i++)
        val_free(&r.stack[i]);
    hub__free(r.stack);
    hub__free(r.memo);
    hub__free(r.memo_set);
    if (error < 0)
        hub__pickle_free(out);
    return error;
}

static void pdict_free(hub__pdict *d)
{
    hub__free(d->keys);
    hub__free(d->values);
    memset(d, 0, sizeof(*d));
}

void hub__pickle_free(hub__pickle *p)
{
    for (size_t i = 0; i < p->count; i++)
        pdict_free(&p->dicts[i]);
    hub__free(p->dicts);
    hub__free(p->strings);
    memset(p, 0, sizeof(*p));
}
const char *hub__pdict_get(const hub__pdict *d, const char *key)
{
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->keys[i], key) == 0)
            return d->values[i];
    return NULL;
}

static int put_str(hub_buf *out, const char *s)
{
    size_t n = strlen(s);
    unsigned char head[5] = {'X', (unsigned char)n, (unsigned char)(n >> 8),
                             (unsigned char)(n >> 16),
                             (unsigned char)(n >> 24)};
    int error = hub__buf_put(out, head, sizeof(head));
    return error < 0 ? error : hub__buf_put(out, s, n);
}

static int put_dict(hub_buf *out, const hub__pdict *d)
{
    int error = hub__buf_put(out, "}", 1);
    if (error == HUB_OK && d->count)
        error = hub__buf_put(out, "(", 1);
    for (size_t i = 0; i < d->count && error == HUB_OK; i++) {
        error = put_str(out, d->keys[i]);
        if (error == HUB_OK)
            error = put_str(out, d->values[i]);
    }
    if (error == HUB_OK && d->count)
        error = hub__buf_put(out, "u", 1);
    return error;
}

int hub__pickle_write(const hub__pickle *p, bool as_list, hub_buf *out)
{
    int error = hub__buf_put(out, "\x80\x02", 2);
    if (error == HUB_OK && as_list) {
        error = hub__buf_put(out, "]", 1);
        if (error == HUB_OK && p->count)
            error = hub__buf_put(out, "(", 1);
        for (size_t i = 0; i < p->count && error == HUB_OK; i++)
            error = put_dict(out, &p->dicts[i]);
        if (error == HUB_OK && p->count)
            error = hub__buf_put(out, "e", 1);
    } else if (error == HUB_OK) {
        error =
            p->count ? put_dict(out, &p->dicts[0]) : hub__buf_put(out, "}", 1);
    }
    return error < 0 ? error : hub__buf_put(out, ".", 1);
}
