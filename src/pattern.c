/* SPDX-License-Identifier: MIT */
/* pattern.c: Python's fnmatch.fnmatchcase, reproduced exactly. */
#include "pattern.h"

#include "alloc.h"

#include <string.h>

/*
 * Both pattern and name are decoded to code points first, because Python
 * matches str, not bytes: '?' must eat one "é", not half of it. Invalid
 * UTF-8 bytes decode to themselves (0xDC80 + byte, as surrogateescape).
 */
#define CP_STACK 512

typedef struct cps {
    uint32_t *v;
    size_t n;
    uint32_t stack[CP_STACK];
} cps;

static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        v = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        v = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        v = c & 0x07u;
    } else {
        *cp = 0xdc00u + c;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = 0xdc00u + c;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3fu);
    }
    *cp = v;
    return len;
}

/* Decode `s`, mapping '\\' to '/' when `slashes` (huggingface_hub does). */
static bool decode(cps *out, const char *s, bool slashes)
{
    size_t len = strlen(s);
    out->v = len + 1 <= CP_STACK
                 ? out->stack
                 : hub__reallocarray(NULL, len + 1, sizeof(uint32_t));
    if (!out->v)
        return false;
    out->n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        p += utf8_decode(p, &cp);
        out->v[out->n++] = (slashes && cp == '\\') ? '/' : cp;
    }
    return true;
}

static void release(cps *c)
{
    if (c->v != c->stack)
        hub__free(c->v);
}

/* One element of a bracket expression after fnmatch.translate(): an
 * escaped element is a literal; an unescaped '-' between two elements
 * makes a range. */
typedef struct elem {
    uint32_t cp;
    bool escaped;
} elem;

/*
 * fnmatch.translate (3.11) of the bracket body pat[start..end): split on
 * the hyphens that can form ranges, drop empty ranges (lo > hi), escape
 * literal hyphens. Writes at most 2 * (end - start) + 1 elements to `out`
 * and returns how many. `work` has room for (end - start) + 1 elements.
 */
static size_t translate_class(const uint32_t *pat,
                              size_t start,
                              size_t end,
                              elem *out,
                              elem *work,
                              size_t *chunk_len)
{
    size_t n = 0;
    bool has_dash = false;
    for (size_t k = start; k < end; k++)
        has_dash |= pat[k] == '-';
    if (!has_dash) {
        for (size_t k = start; k < end; k++)
            out[n++] = (elem){pat[k], pat[k] == '\\'};
        return n;
    }
    /* chunks, stored back to back in `work`, lengths in chunk_len */
    size_t nchunks = 0, used = 0, i = start;
    size_t k = pat[start] == '!' ? start + 2 : start + 1;
    for (;;) {
        size_t f = k;
        while (f < end && pat[f] != '-')
            f++;
        if (k >= end || f >= end)
            break;
        for (size_t r = i; r < f; r++)
            work[used++] = (elem){pat[r], false};
        chunk_len[nchunks++] = f - i;
        i = f + 1;
        k = f + 3;
    }
    if (i < end) {
        for (size_t r = i; r < end; r++)
            work[used++] = (elem){pat[r], false};
        chunk_len[nchunks++] = end - i;
    } else if (nchunks) {
        /* the class ended in '-': a literal hyphen on the last chunk */
        work[used++] = (elem){'-', false};
        chunk_len[nchunks - 1]++;
    }
    /* remove empty ranges from the right, as Python does */
    for (size_t q = nchunks - 1; q >= 1 && q < nchunks; q--) {
        size_t off_prev = 0;
        for (size_t r = 0; r + 1 < q; r++)
            off_prev += chunk_len[r];
        size_t off = off_prev + chunk_len[q - 1];
        elem *prev = work + off_prev, *cur = work + off;
        if (chunk_len[q - 1] && chunk_len[q] &&
            prev[chunk_len[q - 1] - 1].cp > cur[0].cp) {
            /* chunks[q-1] = chunks[q-1][:-1] + chunks[q][1:] */
            memmove(cur - 1, cur + 1, (used - off - 1) * sizeof(elem));
            used -= 2;
            chunk_len[q - 1] += chunk_len[q] - 2;
            memmove(chunk_len + q, chunk_len + q + 1,
                    (nchunks - q - 1) * sizeof(size_t));
            nchunks--;
        }
    }
    size_t off = 0;
    for (size_t q = 0; q < nchunks; q++) {
        if (q)
            out[n++] = (elem){'-', false};
        for (size_t r = 0; r < chunk_len[q]; r++) {
            uint32_t cp = work[off + r].cp;
            out[n++] = (elem){cp, cp == '\\' || cp == '-'};
        }
        off += chunk_len[q];
    }
    return n;
}

/* Is `c` in the bracket expression pat[start..end)? Python's semantics:
 * translate, then sre's reading of the character class. */
static bool
class_match(const uint32_t *pat, size_t start, size_t end, uint32_t c)
{
    size_t len = end - start;
    elem *out = hub__reallocarray(NULL, 2 * len + 2, sizeof(elem));
    elem *work = hub__reallocarray(NULL, len + 2, sizeof(elem));
    size_t *chunk_len = hub__reallocarray(NULL, len + 2, sizeof(size_t));
    bool result = false;
    if (!out || !work || !chunk_len)
        goto done;
    size_t n = translate_class(pat, start, end, out, work, chunk_len);
    for (size_t q = 0; q < n; q++)
        if (out[q].cp == '&' || out[q].cp == '~' || out[q].cp == '|')
            out[q].escaped = true;
    if (n == 0)
        goto done; /* empty range: never matches */
    if (n == 1 && out[0].cp == '!' && !out[0].escaped) {
        result = true; /* negated empty range: any character */
        goto done;
    }
    bool negate = out[0].cp == '!' && !out[0].escaped;
    bool member = false;
    for (size_t pos = negate ? 1 : 0; pos < n;) {
        uint32_t lo = out[pos++].cp;
        if (pos + 1 < n && out[pos].cp == '-' && !out[pos].escaped) {
            uint32_t hi = out[pos + 1].cp;
            pos += 2;
            member |= lo <= c && c <= hi;
        } else {
            member |= c == lo;
        }
    }
    result = negate ? !member : member;
done:
    hub__free(out);
    hub__free(work);
    hub__free(chunk_len);
    return result;
}

typedef enum tok_kind { T_LIT, T_ANY, T_STAR, T_CLASS } tok_kind;

typedef struct tok {
    tok_kind kind;
    uint32_t cp;       /* T_LIT */
    size_t start, end; /* T_CLASS: pattern range inside the brackets */
} tok;

static bool tok_match(const tok *t, const uint32_t *pat, uint32_t c)
{
    switch (t->kind) {
    case T_LIT:
        return t->cp == c;
    case T_ANY:
        return true;
    case T_CLASS:
        return class_match(pat, t->start, t->end, c);
    case T_STAR:
        break;
    }
    return false;
}

static bool match_cps(const cps *pat, const cps *name)
{
    size_t n = pat->n;
    tok stack_toks[128];
    tok *toks = n <= HUB_ARRAY_LEN(stack_toks)
                    ? stack_toks
                    : hub__reallocarray(NULL, n + 1, sizeof(tok));
    if (!toks)
        return false;
    size_t nt = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c = pat->v[i++];
        if (c == '*') {
            if (!(nt && toks[nt - 1].kind == T_STAR))
                toks[nt++] = (tok){T_STAR, 0, 0, 0};
        } else if (c == '?') {
            toks[nt++] = (tok){T_ANY, 0, 0, 0};
        } else if (c == '[') {
            size_t j = i;
            if (j < n && pat->v[j] == '!')
                j++;
            if (j < n && pat->v[j] == ']')
                j++;
            while (j < n && pat->v[j] != ']')
                j++;
            if (j >= n) {
                toks[nt++] = (tok){T_LIT, '[', 0, 0};
            } else {
                toks[nt++] = (tok){T_CLASS, 0, i, j};
                i = j + 1;
            }
        } else {
            toks[nt++] = (tok){T_LIT, c, 0, 0};
        }
    }

    /* Whole-string glob match with single-star backtracking: correct
     * because '*' matches every sequence. */
    size_t ti = 0, ni = 0;
    size_t star = SIZE_MAX, star_ni = 0;
    bool ok;
    for (;;) {
        if (ti < nt && toks[ti].kind == T_STAR) {
            star = ti++;
            star_ni = ni;
            continue;
        }
        if (ni == name->n && ti == nt) {
            ok = true;
            break;
        }
        if (ni < name->n && ti < nt &&
            tok_match(&toks[ti], pat->v, name->v[ni])) {
            ti++;
            ni++;
            continue;
        }
        if (star != SIZE_MAX && star_ni < name->n) {
            ti = star + 1;
            ni = ++star_ni;
            continue;
        }
        ok = false;
        break;
    }
    if (toks != stack_toks)
        hub__free(toks);
    return ok;
}

bool hub__fnmatch(const char *pattern, const char *name)
{
    cps p, s;
    if (!decode(&p, pattern, false))
        return false;
    if (!decode(&s, name, false)) {
        release(&p);
        return false;
    }
    bool ok = match_cps(&p, &s);
    release(&p);
    release(&s);
    return ok;
}

/* A pattern as filter_repo_objects prepares it. */
static bool select_one(const char *pattern, const cps *path)
{
    cps p;
    size_t len = strlen(pattern);
    bool dir = len && (pattern[len - 1] == '/' || pattern[len - 1] == '\\');
    if (!decode(&p, pattern, true))
        return false;
    bool ok;
    if (dir) {
        /* "data/" means "data/" followed by a star */
        cps q;
        q.n = p.n + 1;
        q.v = q.n <= CP_STACK ? q.stack
                              : hub__reallocarray(NULL, q.n, sizeof(uint32_t));
        if (!q.v) {
            release(&p);
            return false;
        }
        memcpy(q.v, p.v, p.n * sizeof(uint32_t));
        q.v[p.n] = '*';
        ok = match_cps(&q, path);
        release(&q);
    } else {
        ok = match_cps(&p, path);
    }
    release(&p);
    return ok;
}

bool hub__patterns_select(const char *const *allow,
                          size_t allow_count,
                          const char *const *ignore,
                          size_t ignore_count,
                          const char *path)
{
    cps s;
    if (!decode(&s, path, true))
        return false;
    bool keep = allow_count == 0;
    for (size_t i = 0; !keep && i < allow_count; i++)
        keep = select_one(allow[i], &s);
    for (size_t i = 0; keep && i < ignore_count; i++)
        keep = !select_one(ignore[i], &s);
    release(&s);
    return keep;
}
