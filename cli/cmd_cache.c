/* SPDX-License-Identifier: MIT */
/* cmd_cache.c: hubfetch cache ls (what the cache holds). */
#include "cli.h"
#include "opt.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum {
    O_HELP = 1,
    O_REVISIONS,
    O_FILTER,
    O_SORT,
    O_LIMIT,
    O_FORMAT,
    O_QUIET,
    O_CACHE_DIR,
    O_HUB,
};

static const cli_opt ls_options[] = {
    {"help", 'h', false, O_HELP},    {"revisions", 0, false, O_REVISIONS},
    {"filter", 'f', true, O_FILTER}, {"sort", 0, true, O_SORT},
    {"limit", 0, true, O_LIMIT},     {"format", 0, true, O_FORMAT},
    {"quiet", 'q', false, O_QUIET},  {"cache-dir", 0, true, O_CACHE_DIR},
    {"hub", 0, true, O_HUB},         {NULL, 0, false, 0},
};

static void cache_help(FILE *fp)
{
    fputs("usage: hubfetch cache COMMAND [options]\n"
          "\n"
          "Manage the Hugging Face cache (--hub modelscope: the ModelScope "
          "one).\n"
          "\n"
          "commands:\n"
          "  ls      list cached repositories or revisions\n"
          "  rm      delete repositories, revisions or files\n"
          "  prune   delete what nothing uses, or the least recently used\n"
          "  verify  check every cached file against its checksum\n"
          "\n"
          "See 'hubfetch cache COMMAND --help'.\n",
          fp);
}

static void ls_help(FILE *fp)
{
    fputs(
        "usage: hubfetch cache ls [options]\n"
        "\n"
        "List the repositories of the Hugging Face cache (one row each), or\n"
        "their revisions. A blob shared by revisions, or hard-linked, counts\n"
        "once in every size, the totals included. Problems (broken links,\n"
        "refs to missing snapshots, stray files, unreadable folders, links\n"
        "out of the cache) are warnings on stderr; the repository is still\n"
        "listed with what exists.\n"
        "\n"
        "  --revisions            one row per revision\n"
        "  -f, --filter EXPR      keep rows matching EXPR (repeatable, all\n"
        "                         must match): size>1GB, accessed>30d,\n"
        "                         modified<7d, refs=main, type=model; ops\n"
        "                         = != > < >= <=; sizes in bytes or with\n"
        "                         k kb m mb g gb t tb p pb (decimal);\n"
        "                         durations in s m h d w mo y\n"
        "  --sort KEY[:asc|desc]  name (asc by default), size, accessed,\n"
        "                         modified (desc by default)\n"
        "  --limit N              only the first N rows\n"
        "  --format FMT           table (default), json or csv: json and\n"
        "                         csv carry raw integers (bytes, unix\n"
        "                         seconds)\n"
        "  -q, --quiet            one target per line (type:ID, or\n"
        "                         type:ID@COMMIT with --revisions)\n"
        "  --cache-dir DIR        cache directory (default: HF_HUB_CACHE,\n"
        "                         HF_HOME/hub, ~/.cache/huggingface/hub)\n"
        "  --hub HUB              huggingface (default) or modelscope\n"
        "  -h, --help             this help\n"
        "\n"
        "Exit status: 0 listed, 2 usage error, 21 no cache directory,\n"
        "10 + |code| for other library errors (docs/CLI.md).\n",
        fp);
}

static const char *const type_names[] = {"model", "dataset", "space"};

const char *cli_cache_type_name(hub_repo_type t)
{
    return (unsigned)t < 3 ? type_names[t] : "model";
}

/* One row of the listing: a repository, or one of its revisions. */
typedef struct row {
    const hub_cache_repo *repo;
    const hub_cache_revision *rev; /* NULL in repo mode */
    char *cache_id;                /* "model/org/name" */
    size_t index;                  /* for a stable sort */
} row;

typedef enum key { K_SIZE, K_ACCESSED, K_MODIFIED, K_TYPE, K_REFS } key;
typedef enum op { OP_EQ, OP_NE, OP_GT, OP_LT, OP_GE, OP_LE } op;

typedef struct filter {
    key k;
    op o;
    uint64_t num;
    const char *str;
} filter;

static bool parse_number_unit(const char *v,
                              const char *const *units,
                              const uint64_t *mult,
                              size_t nunits,
                              uint64_t *out)
{
    while (isspace((unsigned char)*v))
        v++;
    const char *p = v;
    uint64_t n = 0;
    if (!isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p)) {
        unsigned d = (unsigned)(*p - '0');
        if (n > (UINT64_MAX - d) / 10)
            return false;
        n = n * 10 + d;
        p++;
    }
    size_t ul = strlen(p);
    while (ul && isspace((unsigned char)p[ul - 1]))
        ul--;
    if (ul == 0) {
        *out = n;
        return true;
    }
    for (size_t i = 0; i < nunits; i++)
        if (strlen(units[i]) == ul && strncasecmp(p, units[i], ul) == 0) {
            if (mult[i] && n > UINT64_MAX / mult[i])
                return false;
            *out = n * mult[i];
            return true;
        }
    return false;
}

bool cli_parse_size(const char *v, uint64_t *out)
{
    static const char *const u[] = {"k",  "kb", "m",  "mb", "g",
                                    "gb", "t",  "tb", "p",  "pb"};
    static const uint64_t m[] = {1000ull,
                                 1000ull,
                                 1000000ull,
                                 1000000ull,
                                 1000000000ull,
                                 1000000000ull,
                                 1000000000000ull,
                                 1000000000000ull,
                                 1000000000000000ull,
                                 1000000000000000ull};
    return parse_number_unit(v, u, m, 10, out);
}

bool cli_parse_duration(const char *v, uint64_t *out)
{
    static const char *const u[] = {"s", "m", "h", "d", "w", "mo", "y"};
    static const uint64_t m[] = {1, 60, 3600, 86400, 604800, 2592000, 31536000};
    return parse_number_unit(v, u, m, 7, out);
}

static int parse_filter(const char *expr, filter *f)
{
    static const struct {
        const char *name;
        key k;
    } keys[] = {{"size", K_SIZE},
                {"accessed", K_ACCESSED},
                {"modified", K_MODIFIED},
                {"type", K_TYPE},
                {"refs", K_REFS}};
    const char *p = expr;
    while (isspace((unsigned char)*p))
        p++;
    const char *ks = p;
    while (isalpha((unsigned char)*p) || *p == '_')
        p++;
    size_t kl = (size_t)(p - ks);
    while (isspace((unsigned char)*p))
        p++;
    const char *os = p;
    while (*p && strchr("=!<>", *p))
        p++;
    size_t ol = (size_t)(p - os);
    if (kl == 0 || ol == 0 || !*p)
        return cli_usage("invalid filter expression: '%s'; write e.g. "
                         "size>1GB, accessed>30d, refs=main, type=model",
                         expr);
    bool found = false;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strlen(keys[i].name) == kl && strncmp(ks, keys[i].name, kl) == 0) {
            f->k = keys[i].k;
            found = true;
        }
    if (!found)
        return cli_usage("unsupported filter key '%.*s' in '%s'; use size, "
                         "accessed, modified, type or refs",
                         (int)kl, ks, expr);
    static const char *const ops[] = {"=", "!=", ">", "<", ">=", "<="};
    found = false;
    for (size_t i = 0; i < 6; i++)
        if (strlen(ops[i]) == ol && strncmp(os, ops[i], ol) == 0) {
            f->o = (op)i;
            found = true;
        }
    if (!found)
        return cli_usage("unsupported operator '%.*s' in filter '%s'; use "
                         "one of = != > < >= <=",
                         (int)ol, os, expr);
    while (isspace((unsigned char)*p))
        p++;
    f->str = p;
    if (f->k == K_TYPE || f->k == K_REFS) {
        if (f->o != OP_EQ)
            return cli_usage("only '=' is supported for '%s' filters, in '%s'",
                             f->k == K_TYPE ? "type" : "refs", expr);
        return EXIT_OK;
    }
    bool ok = f->k == K_SIZE ? cli_parse_size(p, &f->num)
                             : cli_parse_duration(p, &f->num);
    if (!ok)
        return cli_usage(
            "invalid value '%s' in filter '%s'; write a whole number, "
            "optionally with a unit (%s)",
            p, expr,
            f->k == K_SIZE ? "k kb m mb g gb t tb p pb" : "s m h d w mo y");
    return EXIT_OK;
}

static bool compare(uint64_t a, op o, uint64_t b)
{
    switch (o) {
    case OP_EQ:
        return a == b;
    case OP_NE:
        return a != b;
    case OP_GT:
        return a > b;
    case OP_LT:
        return a < b;
    case OP_GE:
        return a >= b;
    case OP_LE:
        return a <= b;
    }
    return false;
}

static uint64_t row_size(const row *r)
{
    return r->rev ? r->rev->size_on_disk : r->repo->size_on_disk;
}

static int64_t row_modified(const row *r)
{
    return r->rev ? r->rev->last_modified : r->repo->last_modified;
}

static uint64_t age(int64_t now, int64_t t)
{
    return now > t ? (uint64_t)(now - t) : 0;
}

static bool match(const row *r, const filter *f, int64_t now)
{
    switch (f->k) {
    case K_SIZE:
        return compare(row_size(r), f->o, f->num);
    case K_ACCESSED:
        return compare(age(now, r->repo->last_accessed), f->o, f->num);
    case K_MODIFIED:
        return compare(age(now, row_modified(r)), f->o, f->num);
    case K_TYPE:
        return strcasecmp(cli_cache_type_name(r->repo->type), f->str) == 0;
    case K_REFS: {
        const char *const *refs = r->rev ? r->rev->refs : r->repo->refs;
        size_t n = r->rev ? r->rev->ref_count : r->repo->ref_count;
        for (size_t i = 0; i < n; i++)
            if (strcasecmp(refs[i], f->str) == 0)
                return true;
        return false;
    }
    }
    return false;
}

typedef enum sort_by { S_NAME, S_SIZE, S_ACCESSED, S_MODIFIED } sort_by;
static sort_by sort_key;
static bool sort_desc;

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_row(const void *pa, const void *pb)
{
    const row *a = pa, *b = pb;
    int c = 0;
    switch (sort_key) {
    case S_NAME:
        c = strcasecmp(a->cache_id, b->cache_id);
        break;
    case S_SIZE:
        c = row_size(a) < row_size(b) ? -1 : row_size(a) > row_size(b);
        break;
    case S_ACCESSED:
        c = cmp_i64(a->repo->last_accessed, b->repo->last_accessed);
        break;
    case S_MODIFIED:
        c = cmp_i64(row_modified(a), row_modified(b));
        break;
    }
    if (sort_desc)
        c = -c;
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

static int parse_sort(const char *s)
{
    static const char *const names[] = {"name", "size", "accessed", "modified"};
    const char *colon = strchr(s, ':');
    size_t kl = colon ? (size_t)(colon - s) : strlen(s);
    bool found = false;
    for (size_t i = 0; i < 4; i++)
        if (strlen(names[i]) == kl && strncmp(s, names[i], kl) == 0) {
            sort_key = (sort_by)i;
            found = true;
        }
    if (!found)
        return cli_usage("unsupported sort key in '%s'; use name, size, "
                         "accessed or modified, optionally with :asc or "
                         ":desc",
                         s);
    sort_desc = sort_key != S_NAME;
    if (colon) {
        if (strcmp(colon + 1, "asc") == 0)
            sort_desc = false;
        else if (strcmp(colon + 1, "desc") == 0)
            sort_desc = true;
        else
            return cli_usage("invalid sort order in '%s'; use :asc or :desc",
                             s);
    }
    return EXIT_OK;
}

/* huggingface_hub's format_timesince() */
static void timesince(int64_t now, int64_t ts, char *out, size_t len)
{
    static const struct {
        const char *label;
        double div;
        long max;
    } chunks[] = {{"second", 1, 60},     {"minute", 60, 60},
                  {"hour", 3600, 24},    {"day", 86400, 6},
                  {"week", 604800, 6},   {"month", 2592000, 11},
                  {"year", 31536000, -1}};
    double delta = (double)(now - ts);
    if (delta < 20) {
        snprintf(out, len, "a few seconds ago");
        return;
    }
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        double q = delta / chunks[i].div;
        /* Python's round(): half to even */
        double fl = (double)(long long)q;
        double frac = q - fl;
        long long v = (long long)fl;
        if (frac > 0.5 || (frac == 0.5 && (v % 2) != 0))
            v++;
        if (chunks[i].max < 0 || v <= chunks[i].max) {
            snprintf(out, len, "%lld %s%s ago", v, chunks[i].label,
                     v > 1 ? "s" : "");
            return;
        }
    }
}

/* huggingface_hub's _format_size(): "500.0", "1.2K", "3.2G" */
void cli_cache_size(uint64_t n, char *out, size_t len)
{
    static const char *const units[] = {"", "K", "M", "G", "T", "P", "E", "Z"};
    double v = (double)n;
    for (size_t i = 0; i < 8; i++) {
        if (v < 1000.0) {
            snprintf(out, len, "%3.1f%s", v, units[i]);
            return;
        }
        v /= 1000.0;
    }
    snprintf(out, len, "%.1fY", v);
}

void cli_join_refs(const char *const *refs, size_t n, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && o + 1 < len; i++) {
        int w = snprintf(out + o, len - o, "%s%s", i ? " " : "", refs[i]);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

static void json_refs(FILE *fp, const char *const *refs, size_t n)
{
    fputc('[', fp);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", fp);
        cli_json_string(fp, refs[i]);
    }
    fputc(']', fp);
}

static void json_rev(FILE *fp, const hub_cache_revision *v)
{
    fputs("      {\"commit_hash\": ", fp);
    cli_json_string(fp, v->commit_hash);
    fputs(", \"refs\": ", fp);
    json_refs(fp, v->refs, v->ref_count);
    fprintf(fp,
            ", \"size_on_disk\": %llu, \"nb_files\": %llu, "
            "\"last_modified\": %lld, \"snapshot_path\": ",
            (unsigned long long)v->size_on_disk,
            (unsigned long long)v->nb_files, (long long)v->last_modified);
    cli_json_string(fp, v->snapshot_path);
    fputc('}', fp);
}

/* The JSON array of repositories; with --revisions each lists only the
 * revisions kept, repositories in the order of their first row. */
static void print_json(FILE *fp, const row *rows, size_t n, bool revisions)
{
    fputs("[", fp);
    bool first_repo = true;
    for (size_t i = 0; i < n; i++) {
        const hub_cache_repo *r = rows[i].repo;
        bool seen = false;
        for (size_t j = 0; j < i && revisions; j++)
            seen = seen || rows[j].repo == r;
        if (seen)
            continue;
        fputs(first_repo ? "\n  {" : ",\n  {", fp);
        first_repo = false;
        fputs("\"repo_id\": ", fp);
        cli_json_string(fp, r->repo_id);
        fprintf(fp, ", \"repo_type\": \"%s\", \"repo_path\": ",
                cli_cache_type_name(r->type));
        cli_json_string(fp, r->repo_path);
        fprintf(fp,
                ", \"size_on_disk\": %llu, \"nb_files\": %llu, "
                "\"last_accessed\": %lld, \"last_modified\": %lld, "
                "\"refs\": ",
                (unsigned long long)r->size_on_disk,
                (unsigned long long)r->nb_files, (long long)r->last_accessed,
                (long long)r->last_modified);
        json_refs(fp, r->refs, r->ref_count);
        fputs(", \"revisions\": [", fp);
        bool first = true;
        if (revisions) {
            for (size_t j = i; j < n; j++)
                if (rows[j].repo == r) {
                    fputs(first ? "\n" : ",\n", fp);
                    first = false;
                    json_rev(fp, rows[j].rev);
                }
        } else {
            for (size_t j = 0; j < r->revision_count; j++) {
                fputs(first ? "\n" : ",\n", fp);
                first = false;
                json_rev(fp, r->revisions[j]);
            }
        }
        fputs(first ? "], \"warnings\": " : "\n    ], \"warnings\": ", fp);
        json_refs(fp, r->warnings, r->warning_count);
        fputc('}', fp);
    }
    fputs(first_repo ? "]\n" : "\n]\n", fp);
}

/* A CSV field, quoted when it holds a comma, a quote or a line break. */
static void csv_field(FILE *fp, const char *s, bool last)
{
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', fp);
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                fputc('"', fp);
            fputc(*p, fp);
        }
        fputc('"', fp);
    } else {
        fputs(s, fp);
    }
    fputc(last ? '\n' : ',', fp);
}

static void print_csv(FILE *fp, const row *rows, size_t n, bool revisions)
{
    fputs(revisions ? "repo_id,repo_type,revision,snapshot_path,size_on_disk,"
                      "nb_files,last_accessed,last_modified,refs\n"
                    : "repo_id,repo_type,repo_path,size_on_disk,nb_files,"
                      "last_accessed,last_modified,refs\n",
          fp);
    for (size_t i = 0; i < n; i++) {
        const hub_cache_repo *r = rows[i].repo;
        const hub_cache_revision *v = rows[i].rev;
        char refs[8192];
        csv_field(fp, r->repo_id, false);
        csv_field(fp, cli_cache_type_name(r->type), false);
        if (v) {
            csv_field(fp, v->commit_hash, false);
            csv_field(fp, v->snapshot_path, false);
        } else {
            csv_field(fp, r->repo_path, false);
        }
        fprintf(fp, "%llu,%llu,%lld,%lld,",
                (unsigned long long)(v ? v->size_on_disk : r->size_on_disk),
                (unsigned long long)(v ? v->nb_files : r->nb_files),
                (long long)r->last_accessed,
                (long long)(v ? v->last_modified : r->last_modified));
        cli_join_refs(v ? v->refs : r->refs, v ? v->ref_count : r->ref_count,
                      refs, sizeof(refs));
        csv_field(fp, refs, true);
    }
}

static void print_table(FILE *fp,
                        const hub_cache_info *info,
                        const row *rows,
                        size_t n,
                        bool revisions,
                        int64_t now)
{
    if (n == 0) {
        fputs(revisions ? "No cached revisions found.\n"
                        : "No cached repositories found.\n",
              fp);
        return;
    }
    enum { NCOL = 5 };
    const char *headers[NCOL] = {"ID", "SIZE", "LAST_ACCESSED", "LAST_MODIFIED",
                                 "REFS"};
    if (revisions) {
        headers[1] = "REVISION";
        headers[2] = "SIZE";
        headers[3] = "LAST_MODIFIED";
    }
    char **cells = calloc(n * NCOL, sizeof(char *));
    size_t width[NCOL];
    for (size_t c = 0; c < NCOL; c++)
        width[c] = strlen(headers[c]);
    for (size_t i = 0; cells && i < n; i++) {
        const row *r = &rows[i];
        char size[32], sized[32], acc[64], mod[64], refs[8192];
        cli_cache_size(row_size(r), size, sizeof(size));
        snprintf(sized, sizeof(sized), "%8s", size);
        timesince(now, r->repo->last_accessed, acc, sizeof(acc));
        timesince(now, row_modified(r), mod, sizeof(mod));
        cli_join_refs(r->rev ? r->rev->refs : r->repo->refs,
                      r->rev ? r->rev->ref_count : r->repo->ref_count, refs,
                      sizeof(refs));
        const char *v[NCOL] = {r->cache_id, sized, acc, mod, refs};
        if (revisions) {
            v[1] = r->rev->commit_hash;
            v[2] = sized;
            v[3] = mod;
        }
        for (size_t c = 0; c < NCOL; c++) {
            cells[i * NCOL + c] = strdup(v[c]);
            if (cells[i * NCOL + c] && strlen(v[c]) > width[c])
                width[c] = strlen(v[c]);
        }
    }
    for (size_t c = 0; c < NCOL; c++)
        fprintf(fp, "%-*s ", (int)width[c], headers[c]);
    fputc('\n', fp);
    for (size_t c = 0; c < NCOL; c++) {
        for (size_t k = 0; k < width[c]; k++)
            fputc('-', fp);
        fputc(' ', fp);
    }
    fputc('\n', fp);
    for (size_t i = 0; cells && i < n; i++) {
        for (size_t c = 0; c < NCOL; c++) {
            const char *s = cells[i * NCOL + c];
            fprintf(fp, "%-*s ", (int)width[c], s ? s : "");
        }
        fputc('\n', fp);
    }
    for (size_t i = 0; cells && i < n * NCOL; i++)
        free(cells[i]);
    free(cells);

    /* Totals: distinct blobs of what is listed, each counted once. */
    size_t nrepos = 0, nrevs = 0;
    const hub_cache_revision **revs = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && revisions && !seen; j++)
            seen = rows[j].repo == rows[i].repo;
        nrepos += !seen;
        size_t add = revisions ? 1 : rows[i].repo->revision_count;
        if (nrevs + add > cap) {
            size_t ncap = (nrevs + add) * 2;
            const hub_cache_revision **nr = realloc(revs, ncap * sizeof(*nr));
            if (!nr)
                break;
            revs = nr;
            cap = ncap;
        }
        if (revisions)
            revs[nrevs++] = rows[i].rev;
        else
            for (size_t j = 0; j < add; j++)
                revs[nrevs++] = rows[i].repo->revisions[j];
    }
    char total[32];
    cli_cache_size(hub_cache_info_revisions_size(info, revs, nrevs), total,
                   sizeof(total));
    free(revs);
    fprintf(fp,
            "\nFound %zu repo(s) for a total of %zu revision(s) and %s on "
            "disk.\n",
            nrepos, nrevs, total);
}

static int cmd_ls(int argc, char **argv)
{
    hub_client_options copts = HUB_CLIENT_OPTIONS_INIT;
    bool revisions = false, quiet = false;
    const char *format = "table";
    long long limit = -1;
    filter filters[32];
    size_t nfilters = 0;
    sort_key = S_NAME;
    sort_desc = false;
    bool sorted = false;
    cli_opt_state st;
    cli_opt_init(&st, argc, argv);
    int id;
    while ((id = cli_opt_next(&st, ls_options)) != CLI_OPT_END) {
        int rc = EXIT_OK;
        switch (id) {
        case O_HELP:
            ls_help(stdout);
            return EXIT_OK;
        case O_REVISIONS:
            revisions = true;
            break;
        case O_FILTER:
            if (nfilters == sizeof(filters) / sizeof(filters[0]))
                return cli_usage("too many --filter options (at most 32)");
            rc = parse_filter(st.arg, &filters[nfilters++]);
            break;
        case O_SORT:
            rc = parse_sort(st.arg);
            sorted = true;
            break;
        case O_LIMIT: {
            char *end;
            errno = 0;
            limit = strtoll(st.arg, &end, 10);
            if (errno || end == st.arg || *end || limit < 0)
                return cli_usage("limit must be a positive integer, got %s",
                                 st.arg);
            break;
        }
        case O_FORMAT:
            if (strcmp(st.arg, "table") != 0 && strcmp(st.arg, "json") != 0 &&
                strcmp(st.arg, "csv") != 0)
                return cli_usage("invalid --format '%s'; use table, json or "
                                 "csv",
                                 st.arg);
            format = st.arg;
            break;
        case O_QUIET:
            quiet = true;
            break;
        case O_CACHE_DIR:
            copts.cache_dir = st.arg;
            break;
        case O_HUB:
            if ((rc = cli_parse_hub(st.arg, &copts.hub)) != 0)
                return rc;
            break;
        case CLI_OPT_POSITIONAL:
            return cli_usage("unexpected argument '%s'; see 'hubfetch cache "
                             "ls --help'",
                             st.positional);
        case CLI_OPT_UNKNOWN:
            return cli_usage("unknown option '%s'; see 'hubfetch cache ls "
                             "--help'",
                             st.bad);
        case CLI_OPT_MISSING:
            return cli_usage("option '%s' needs a value", st.bad);
        default:
            break;
        }
        if (rc != EXIT_OK)
            return rc;
    }

    hub_client *client = NULL;
    int err = hub_client_new(&client, &copts);
    if (err != HUB_OK)
        return cli_fail(err);
    hub_cache_info *info = NULL;
    hub_cache_scan_options sopts = HUB_CACHE_SCAN_OPTIONS_INIT;
    sopts.flags = HUB_CACHE_SCAN_NO_FILES; /* a listing needs no names */
    err = hub_cache_scan(&info, client, &sopts);
    if (err != HUB_OK) {
        hub_client_free(client);
        return cli_fail(err);
    }
    int rc = EXIT_OK;
    for (size_t i = 0; i < hub_cache_info_warning_count(info); i++)
        cli_warn("%s", hub_cache_info_warning(info, i));
    size_t nrepos = hub_cache_info_repo_count(info), nrows = 0;
    for (size_t i = 0; i < nrepos; i++) {
        const hub_cache_repo *r = hub_cache_info_repo(info, i);
        for (size_t j = 0; j < r->warning_count; j++)
            cli_warn("%s", r->warnings[j]);
        nrows += revisions ? r->revision_count : 1;
    }
    row *rows = calloc(nrows ? nrows : 1, sizeof(*rows));
    if (!rows) {
        rc = cli_error("out of memory");
        goto done;
    }
    int64_t now = (int64_t)time(NULL);
    size_t n = 0;
    for (size_t i = 0; i < nrepos; i++) {
        const hub_cache_repo *r = hub_cache_info_repo(info, i);
        size_t k = revisions ? r->revision_count : 1;
        for (size_t j = 0; j < k; j++) {
            row w = {r, revisions ? r->revisions[j] : NULL, NULL, n};
            bool keep = true;
            for (size_t f = 0; f < nfilters && keep; f++)
                keep = match(&w, &filters[f], now);
            if (!keep)
                continue;
            size_t len = strlen(r->repo_id) + 16;
            w.cache_id = malloc(len);
            if (!w.cache_id) {
                rc = cli_error("out of memory");
                goto done;
            }
            snprintf(w.cache_id, len, "%s/%s", cli_cache_type_name(r->type),
                     r->repo_id);
            rows[n++] = w;
        }
    }
    if (sorted)
        qsort(rows, n, sizeof(*rows), cmp_row);
    if (limit >= 0 && (unsigned long long)limit < n)
        n = (size_t)limit;
    if (quiet) {
        for (size_t i = 0; i < n; i++) {
            if (rows[i].rev)
                printf("%s:%s@%s\n", cli_cache_type_name(rows[i].repo->type),
                       rows[i].repo->repo_id, rows[i].rev->commit_hash);
            else
                printf("%s:%s\n", cli_cache_type_name(rows[i].repo->type),
                       rows[i].repo->repo_id);
        }
    } else if (strcmp(format, "json") == 0) {
        print_json(stdout, rows, n, revisions);
    } else if (strcmp(format, "csv") == 0) {
        print_csv(stdout, rows, n, revisions);
    } else {
        print_table(stdout, info, rows, n, revisions, now);
    }
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = cli_error("cannot write the listing: %s", strerror(errno));
done:
    for (size_t i = 0; rows && i < nrows; i++)
        free(rows[i].cache_id);
    free(rows);
    hub_cache_info_free(info);
    hub_client_free(client);
    return rc;
}

int cmd_cache(int argc, char **argv)
{
    if (argc < 2) {
        cache_help(stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        cache_help(stdout);
        return EXIT_OK;
    }
    if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
        return cmd_ls(argc - 2, argv + 2);
    if (strcmp(sub, "rm") == 0)
        return cmd_cache_rm(argc - 2, argv + 2);
    if (strcmp(sub, "prune") == 0)
        return cmd_cache_prune(argc - 2, argv + 2);
    if (strcmp(sub, "verify") == 0)
        return cmd_cache_verify(argc - 2, argv + 2);
    return cli_usage("unknown cache command '%s'; see 'hubfetch cache --help'",
                     sub);
}
