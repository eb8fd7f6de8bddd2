/* progress.c: progress of long work on a stream: a bar on a terminal, plain lines otherwise. */
#include <string.h>

#include "pp_progress.h"

#define BAR_WIDTH 24
#define ANSI_GREEN "\033[32m"
#define ANSI_RESET "\033[0m"
#define ANSI_ERASE_EOL "\033[K"

void pp_progress_init(struct pp_progress *p, FILE *out, enum pp_progress_mode mode, int color,
                      const char *label, const char *unit, int64_t total, int64_t now_us)
{
    memset(p, 0, sizeof(*p));
    p->out = out;
    p->mode = out ? mode : PP_PROGRESS_OFF;
    p->color = color;
    p->label = label ? label : "";
    p->unit = unit ? unit : "";
    p->total = total > 0 ? total : 0;
    p->t0_us = now_us;
    /* a bar shows at the first update; plain lines only once the work took a while */
    p->last_us = p->mode == PP_PROGRESS_BAR ? now_us - PP_PROGRESS_BAR_US : now_us;
}

/* "1234", "12.3k", "4.5M": rates and counts short enough for one terminal line. */
static void human(double v, char *out, size_t size)
{
    if (v >= 1e6)
        snprintf(out, size, "%.1fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(out, size, "%.1fk", v / 1e3);
    else
        snprintf(out, size, "%.0f", v);
}

/* Everything after the bar: percent, counts, rate, eta, detail. */
static void tail(const struct pp_progress *p, int64_t now_us, int64_t done, const char *detail,
                 char *out, size_t size)
{
    double secs = (double)(now_us - p->t0_us) / 1e6;
    char rate[40] = "", eta[32] = "";
    if (secs > 0) {
        char r[24];
        human((double)done / secs, r, sizeof(r));
        snprintf(rate, sizeof(rate), " %s/s", r);
        if (p->total && done > 0 && done < p->total)
            snprintf(eta, sizeof(eta), " eta %.0fs",
                     secs / (double)done * (double)(p->total - done));
    }
    const char *sp = detail && *detail ? " " : "";
    if (!p->total) {
        snprintf(out, size, "%lld %s%s%s%s", (long long)done, p->unit, rate, sp,
                 detail ? detail : "");
        return;
    }
    int pct = (int)(done >= p->total ? 100 : 100 * done / p->total);
    if (p->mode == PP_PROGRESS_LINES)
        snprintf(out, size, "%lld/%lld %s (%d%%)%s%s%s%s", (long long)done, (long long)p->total,
                 p->unit, pct, rate, eta, sp, detail ? detail : "");
    else
        snprintf(out, size, "%3d%% %lld/%lld %s%s%s%s%s", pct, (long long)done, (long long)p->total,
                 p->unit, rate, eta, sp, detail ? detail : "");
}

/* Bar cells filled for done of total. */
static int filled(const struct pp_progress *p, int64_t done)
{
    if (!p->total || done <= 0)
        return 0;
    return done >= p->total ? BAR_WIDTH : (int)(BAR_WIDTH * done / p->total);
}

const char *pp_progress_format(const struct pp_progress *p, int64_t now_us, int64_t done,
                               const char *detail, char *out, size_t size)
{
    char t[512];
    tail(p, now_us, done, detail, t, sizeof(t));
    if (p->mode == PP_PROGRESS_BAR && p->total) {
        char bar[BAR_WIDTH + 1];
        int fill = filled(p, done);
        for (int i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        snprintf(out, size, "%s [%s] %s", p->label, bar, t);
    } else {
        snprintf(out, size, "%s%s %s", p->label, p->mode == PP_PROGRESS_LINES ? ":" : "", t);
    }
    return out;
}

static void draw(struct pp_progress *p, int64_t now_us, int64_t done, const char *detail)
{
    char t[512];
    p->last_us = now_us;
    if (p->mode == PP_PROGRESS_LINES) {
        fprintf(p->out, "%s\n", pp_progress_format(p, now_us, done, detail, t, sizeof(t)));
        fflush(p->out);
        p->drawn = 1;
        return;
    }
    if (!p->total || !p->color) {
        fprintf(p->out, "\r%s" ANSI_ERASE_EOL,
                pp_progress_format(p, now_us, done, detail, t, sizeof(t)));
    } else {
        char hashes[BAR_WIDTH + 1], dots[BAR_WIDTH + 1];
        int fill = filled(p, done);
        memset(hashes, '#', (size_t)fill);
        hashes[fill] = '\0';
        memset(dots, '.', (size_t)(BAR_WIDTH - fill));
        dots[BAR_WIDTH - fill] = '\0';
        tail(p, now_us, done, detail, t, sizeof(t));
        fprintf(p->out, "\r%s [" ANSI_GREEN "%s" ANSI_RESET "%s] %s" ANSI_ERASE_EOL, p->label,
                hashes, dots, t);
    }
    fflush(p->out);
    p->drawn = 1;
}

void pp_progress_update(struct pp_progress *p, int64_t now_us, int64_t done, const char *detail)
{
    if (p->mode == PP_PROGRESS_OFF)
        return;
    int64_t every = p->mode == PP_PROGRESS_BAR ? PP_PROGRESS_BAR_US : PP_PROGRESS_LINES_US;
    if (now_us - p->last_us >= every)
        draw(p, now_us, done, detail);
}

void pp_progress_clear(struct pp_progress *p)
{
    if (p->mode != PP_PROGRESS_BAR || !p->drawn)
        return;
    fputs("\r" ANSI_ERASE_EOL, p->out);
    fflush(p->out);
    p->drawn = 0;
    p->last_us -= PP_PROGRESS_BAR_US; /* redraw at the next update */
}

void pp_progress_finish(struct pp_progress *p, int64_t now_us, int64_t done, const char *detail)
{
    /* plain lines: a last one only after periodic ones (short work stays silent) */
    if (p->mode == PP_PROGRESS_BAR || (p->mode == PP_PROGRESS_LINES && p->drawn)) {
        draw(p, now_us, done, detail);
        if (p->mode == PP_PROGRESS_BAR)
            fputc('\n', p->out);
        fflush(p->out);
    }
    p->mode = PP_PROGRESS_OFF;
}

void pp_progress_stop(struct pp_progress *p)
{
    pp_progress_clear(p);
    p->mode = PP_PROGRESS_OFF;
}
