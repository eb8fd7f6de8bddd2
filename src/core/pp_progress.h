/* pp_progress.h: progress of long work (emulate, batch, dag backfill): a bar redrawn in place
 * on a terminal, a plain line every few seconds otherwise. A leaf: it only writes to the
 * stream the caller gives it (stderr, as data goes to stdout), and takes the time from the
 * caller (monotonic microseconds, pp_mono_us()), so it is tested with a fake clock.
 *
 * Bar (PP_PROGRESS_BAR), at the first update then at most every 200 ms, "\r" + text +
 * erase-to-end-of-line:
 *   "<label> [#########.......]  45% 1234/2743 <unit> 1.2k/s eta 3s <detail>"
 *   without a total: "<label> 1234 <unit> 1.2k/s <detail>"; the '#' part in green when
 *   colour is on. Lines (PP_PROGRESS_LINES), every 5 s, and once at the end if any was
 *   printed (work shorter than 5 s prints none):
 *   "<label>: 1234/2743 <unit> (45%) 1234/s eta 3s <detail>" ending in "\n".
 */
#ifndef PP_PROGRESS_H
#define PP_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

enum pp_progress_mode {
    PP_PROGRESS_OFF,   /* nothing */
    PP_PROGRESS_LINES, /* plain lines (stderr is not a terminal) */
    PP_PROGRESS_BAR    /* a bar redrawn in place (stderr is a terminal) */
};

#define PP_PROGRESS_BAR_US 200000LL    /* bar redraws at most this often */
#define PP_PROGRESS_LINES_US 5000000LL /* plain lines this often */

struct pp_progress {
    FILE *out; /* borrowed */
    enum pp_progress_mode mode;
    int color;                /* ANSI colour in the bar */
    const char *label, *unit; /* borrowed for the progress' lifetime */
    int64_t total;            /* units of the whole work, 0 = unknown */
    int64_t t0_us, last_us;   /* start, last draw */
    int drawn;                /* a bar is on screen / a line was printed */
};

/* Start: nothing is drawn yet. label and unit (e.g. "batch", "records") are borrowed. */
void pp_progress_init(struct pp_progress *p, FILE *out, enum pp_progress_mode mode, int color,
                      const char *label, const char *unit, int64_t total, int64_t now_us);
/* done units so far (detail: extra text, may be NULL); drawn when the interval has passed. */
void pp_progress_update(struct pp_progress *p, int64_t now_us, int64_t done, const char *detail);
/* Erase the bar from the terminal line (before other output); the next update redraws it. */
void pp_progress_clear(struct pp_progress *p);
/* The end: the bar is drawn once more and ended with a newline; lines mode prints a last
 * line if it printed any. Further updates draw nothing. */
void pp_progress_finish(struct pp_progress *p, int64_t now_us, int64_t done, const char *detail);
/* The end without a trace on the terminal: the bar is erased (lines stay). Further updates
 * draw nothing. */
void pp_progress_stop(struct pp_progress *p);
/* The text of one draw (no "\r", no newline, no colour) into out (size bytes), for the
 * current mode's layout. @returns out. */
const char *pp_progress_format(const struct pp_progress *p, int64_t now_us, int64_t done,
                               const char *detail, char *out, size_t size);

#endif
