/* SPDX-License-Identifier: MIT */
/* progress_bar.c: the terminal progress display and the JSON progress
 * stream of the CLI. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define REDRAW_MS 100
#define PLAIN_MS 1000
#define MAX_FILE_LINES 6

typedef struct file_state {
    char *name;
    uint64_t done, total;
    hub_phase phase;
} file_state;

struct cli_progress {
    cli_progress_mode mode;
    FILE *fp;
    bool tty;
    file_state *files;
    size_t nfiles;
    hub_progress last; /* last job-level figures */
    int lines_drawn;
    /* columns of each line of the last frame: a terminal that narrows
     * rewraps them (tmux, VTE, kitty...), so they may take more rows now */
    int line_cols[1 + MAX_FILE_LINES];
    long long last_draw_ms;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

cli_progress *cli_progress_new(cli_progress_mode mode, FILE *fp)
{
    cli_progress *bar = calloc(1, sizeof(*bar));
    if (!bar)
        return NULL;
    bar->mode = mode;
    bar->fp = fp;
    bar->tty = isatty(fileno(fp));
    return bar;
}

void cli_progress_free(cli_progress *bar)
{
    if (!bar)
        return;
    for (size_t i = 0; i < bar->nfiles; i++)
        free(bar->files[i].name);
    free(bar->files);
    free(bar);
}

static const char *phase_name(hub_phase ph)
{
    switch (ph) {
    case HUB_PHASE_RESOLVE:
        return "resolve";
    case HUB_PHASE_DOWNLOAD:
        return "download";
    case HUB_PHASE_VERIFY:
        return "verify";
    case HUB_PHASE_DONE:
        return "done";
    case HUB_PHASE_CACHED:
        return "cached";
    case HUB_PHASE_FAILED:
        return "failed";
    }
    return "unknown";
}

/* ---- JSON lines -------------------------------------------------------- */

static void json_u64(FILE *fp, const char *key, uint64_t v)
{
    if (v == UINT64_MAX)
        fprintf(fp, ",\"%s\":null", key);
    else
        fprintf(fp, ",\"%s\":%llu", key, (unsigned long long)v);
}

static void emit_json(cli_progress *bar, const hub_progress *p)
{
    FILE *fp = bar->fp;
    fprintf(fp, "{\"v\":1,\"type\":\"%s\",\"phase\":\"%s\"",
            p->file ? "file" : "job", phase_name(p->phase));
    if (p->file) {
        fputs(",\"file\":", fp);
        cli_json_string(fp, p->file);
        fprintf(fp, ",\"file_index\":%zu", p->file_index);
        json_u64(fp, "file_bytes", p->file_bytes_done);
        json_u64(fp, "file_total", p->file_bytes_total);
        fputs(",\"endpoint\":", fp);
        if (p->endpoint)
            cli_json_string(fp, p->endpoint);
        else
            fputs("null", fp);
    }
    fprintf(fp, ",\"file_count\":%zu,\"files_done\":%zu", p->file_count,
            p->files_done);
    json_u64(fp, "bytes", p->bytes_done);
    json_u64(fp, "total", p->bytes_total);
    fprintf(fp, ",\"rate\":%.0f", p->rate);
    if (p->eta >= 0)
        fprintf(fp, ",\"eta\":%.1f", p->eta);
    else
        fputs(",\"eta\":null", fp);
    fprintf(fp, ",\"final\":%s}\n", p->final ? "true" : "false");
    fflush(fp);
}

/* ---- terminal --------------------------------------------------------------
 */

static int term_width(cli_progress *bar)
{
    struct winsize ws;
    if (ioctl(fileno(bar->fp), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

/* Display width of UTF-8 text: one column per code point. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        w += (*p & 0xc0) != 0x80;
    return w;
}

/* Copy `name` into `out`, keeping its end if it is wider than `width`. */
static void fit_name(const char *name, size_t width, char *out, size_t outlen)
{
    size_t w = text_width(name);
    if (w <= width || width < 4) {
        snprintf(out, outlen, "%s", name);
        return;
    }
    size_t skip = w - (width - 3);
    const unsigned char *p = (const unsigned char *)name;
    while (*p && skip) {
        p++;
        while ((*p & 0xc0) == 0x80)
            p++;
        skip--;
    }
    snprintf(out, outlen, "...%s", (const char *)p);
}

static void bar_text(char *out, size_t width, double frac)
{
    if (frac < 0)
        frac = 0;
    if (frac > 1)
        frac = 1;
    size_t fill = (size_t)(frac * (double)width + 0.5);
    for (size_t i = 0; i < width; i++)
        out[i] = i < fill ? '#' : '.';
    out[width] = '\0';
}

static void format_eta(double eta, char *out, size_t len)
{
    if (eta < 0) {
        snprintf(out, len, "--:--");
        return;
    }
    long s = (long)(eta + 0.5);
    if (s >= 3600)
        snprintf(out, len, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        snprintf(out, len, "%02ld:%02ld", s / 60, s % 60);
}

/* Rows the last frame takes at `width`. */
static int rows_drawn(const cli_progress *bar, int width)
{
    int rows = 0;
    for (int i = 0; i < bar->lines_drawn; i++) {
        int cols = bar->line_cols[i];
        rows += cols > width ? (cols + width - 1) / width : 1;
    }
    return rows;
}

/* One line, cut to the terminal width so it never wraps; records its
 * columns as line `index` of the frame. */
static void put_line(cli_progress *bar, int index, const char *text, int width)
{
    char line[1024];
    snprintf(line, sizeof(line), "%s", text);
    size_t max = width > 1 ? (size_t)width - 1 : 1;
    size_t w = 0;
    unsigned char *p = (unsigned char *)line;
    for (; *p; p++) {
        if ((*p & 0xc0) != 0x80 && ++w > max)
            break;
    }
    *p = '\0';
    fprintf(bar->fp, "\033[2K%s\n", line);
    bar->line_cols[index] = (int)(w > max ? max : w);
}

static void draw(cli_progress *bar, bool final)
{
    const hub_progress *p = &bar->last;
    int width = term_width(bar);
    char done[16], total[16], rate[16], eta[48], bars[256], line[1024];
    cli_format_size(p->bytes_done, done, sizeof(done));
    cli_format_size(p->bytes_total, total, sizeof(total));
    cli_format_size((uint64_t)p->rate, rate, sizeof(rate));
    format_eta(p->eta, eta, sizeof(eta));
    double frac = p->bytes_total
                      ? (double)p->bytes_done / (double)p->bytes_total
                      : (final ? 1.0 : 0.0);
    char head[64];
    snprintf(head, sizeof(head), "%zu/%zu files", p->files_done, p->file_count);
    /* as much as fits: drop the ETA, then the rate, then the sizes, rather
     * than cut a figure in half */
    char stats[160];
    int detail = 4;
    for (; detail > 0; detail--) {
        if (detail == 4)
            snprintf(stats, sizeof(stats), "%3.0f%%  %s/%s  %s/s  ETA %s",
                     frac * 100.0, done, total, rate, eta);
        else if (detail == 3)
            snprintf(stats, sizeof(stats), "%3.0f%%  %s/%s  %s/s", frac * 100.0,
                     done, total, rate);
        else if (detail == 2)
            snprintf(stats, sizeof(stats), "%3.0f%%  %s/%s", frac * 100.0, done,
                     total);
        else
            snprintf(stats, sizeof(stats), "%3.0f%%", frac * 100.0);
        if ((int)(strlen(head) + strlen(stats)) + 2 <= width - 1)
            break;
    }
    /* the bar takes what is left, between 10 and 40 columns */
    int room = width - 1 - (int)strlen(head) - (int)strlen(stats) - 5;
    if (room > 40)
        room = 40;
    if (room >= 10) {
        bar_text(bars, (size_t)room, frac);
        snprintf(line, sizeof(line), "%s [%s] %s", head, bars, stats);
    } else {
        snprintf(line, sizeof(line), "%s %s", head, stats);
    }

    if (!bar->tty) {
        fprintf(bar->fp, "%s\n", line);
        fflush(bar->fp);
        return;
    }
    int before = rows_drawn(bar, width);
    if (before)
        fprintf(bar->fp, "\033[%dF", before);
    int lines = 0;
    put_line(bar, lines++, line, width);
    if (!final) {
        int shown = 0;
        for (size_t i = 0; i < bar->nfiles && shown < MAX_FILE_LINES; i++) {
            file_state *f = &bar->files[i];
            if (f->phase != HUB_PHASE_DOWNLOAD && f->phase != HUB_PHASE_VERIFY)
                continue;
            shown++;
            char fd[16], ft[16], name[512];
            cli_format_size(f->done, fd, sizeof(fd));
            cli_format_size(f->total, ft, sizeof(ft));
            double ff = f->total && f->total != UINT64_MAX
                            ? (double)f->done / (double)f->total
                            : 0.0;
            char fstats[64];
            snprintf(fstats, sizeof(fstats), "%3.0f%% %s/%s%s", ff * 100.0, fd,
                     ft, f->phase == HUB_PHASE_VERIFY ? " verify" : "");
            int name_room = width - 1 - 2 - (int)strlen(fstats) - 14;
            if (name_room < 8)
                name_room = width - 1 - 2 - (int)strlen(fstats) - 1;
            fit_name(f->name ? f->name : "?",
                     name_room > 4 ? (size_t)name_room : 4, name, sizeof(name));
            if (width - 1 - 2 - (int)text_width(name) - (int)strlen(fstats) -
                    4 >=
                10) {
                bar_text(bars, 10, ff);
                snprintf(line, sizeof(line), "  %s [%s] %s", name, bars,
                         fstats);
            } else {
                snprintf(line, sizeof(line), "  %s %s", name, fstats);
            }
            put_line(bar, lines++, line, width);
        }
    }
    /* clear rows left over from a taller previous frame */
    for (int i = lines; i < before; i++)
        fputs("\033[2K\n", bar->fp);
    if (before > lines)
        fprintf(bar->fp, "\033[%dF", before - lines);
    bar->lines_drawn = lines;
    fflush(bar->fp);
}

static void track_file(cli_progress *bar, const hub_progress *p)
{
    if (p->file_count > bar->nfiles) {
        file_state *f = realloc(bar->files, p->file_count * sizeof(*f));
        if (!f)
            return;
        memset(f + bar->nfiles, 0, (p->file_count - bar->nfiles) * sizeof(*f));
        bar->files = f;
        bar->nfiles = p->file_count;
    }
    if (!p->file || p->file_index >= bar->nfiles)
        return;
    file_state *f = &bar->files[p->file_index];
    if (!f->name)
        f->name = strdup(p->file);
    f->done = p->file_bytes_done;
    f->total = p->file_bytes_total;
    f->phase = p->phase;
}

int cli_progress_cb(const hub_progress *p, void *payload)
{
    cli_progress *bar = payload;
    if (!bar)
        return 0;
    if (bar->mode == CLI_PROGRESS_JSON) {
        emit_json(bar, p);
        return 0;
    }
    track_file(bar, p);
    bar->last = *p;
    bar->last.file = NULL;
    long long now = now_ms();
    long long interval = bar->tty ? REDRAW_MS : PLAIN_MS;
    if (p->final || now - bar->last_draw_ms >= interval) {
        bar->last_draw_ms = now;
        draw(bar, p->final);
    }
    return 0;
}

void cli_progress_clear(cli_progress *bar)
{
    if (!bar || bar->mode != CLI_PROGRESS_BAR || !bar->tty || !bar->lines_drawn)
        return;
    fprintf(bar->fp, "\033[%dF\033[J", rows_drawn(bar, term_width(bar)));
    bar->lines_drawn = 0;
    fflush(bar->fp);
}
