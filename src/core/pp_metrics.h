/* pp_metrics.h: metrics in the Prometheus text exposition format (version 0.0.4).
 *
 * A registry of collectors: each stage registers a function that appends its current values
 * (counters, gauges, histograms) when /metrics is scraped; the stages keep their own atomic
 * counters, so the hot paths pay nothing for metrics. */
#ifndef PP_METRICS_H
#define PP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "pp_buf.h"

#define PP_METRICS_MAX_COLLECTORS 32

typedef void (*pp_metrics_collect_fn)(void *arg, struct pp_buf *out);

struct pp_metrics;

/* @returns owned: release with pp_metrics_destroy(); NULL when out of memory. */
struct pp_metrics *pp_metrics_new(void);
void pp_metrics_destroy(struct pp_metrics *m);
/* Add a collector; arg is borrowed and must stay valid until pp_metrics_remove() or destroy.
 * @thread any. @returns 0 or PP_ENOMEM (registry full). */
int pp_metrics_add(struct pp_metrics *m, pp_metrics_collect_fn fn, void *arg);
/* Remove a collector added with the same fn and arg (no-op if absent). @thread any. */
void pp_metrics_remove(struct pp_metrics *m, pp_metrics_collect_fn fn, void *arg);
/* Append every collector's output to out. @thread any. */
void pp_metrics_render(struct pp_metrics *m, struct pp_buf *out);

/* Writers for collectors. labels is "" or a Prometheus label set without braces, e.g.
 * "route=\"fastapi\",code=\"200\"". help/type lines are written when help is non-NULL
 * (write them once per metric name, before its first sample). */
void pp_metrics_head(struct pp_buf *out, const char *name, const char *type, const char *help);
void pp_metrics_sample(struct pp_buf *out, const char *name, const char *labels, double value);
/* A histogram from per-bucket counts: counts[i] holds observations <= bounds[i] and
 * > bounds[i-1]; counts[n] (the last) holds those above bounds[n-1]. sum in the bounds' unit. */
void pp_metrics_histogram(struct pp_buf *out, const char *name, const char *labels,
                          const double *bounds, const int64_t *counts, int n, double sum);

/* A latency histogram with fixed bounds (10 us .. 10 s, see PP_HIST_BOUNDS_US in metrics.c),
 * for hot paths: pp_hist_observe_us() is a few relaxed atomic adds, safe from any thread.
 * Zero-initialise (a static or memset struct is an empty histogram). */
#define PP_HIST_NB 18
struct pp_hist {
    uint64_t n[PP_HIST_NB + 1]; /* per bucket; n[PP_HIST_NB]: above the largest bound */
    uint64_t sum_us;
};
/* Count one observation of us microseconds (negative counts as 0). @thread any. */
void pp_hist_observe_us(struct pp_hist *h, int64_t us);
/* Snapshot src into dst with atomic loads. @thread any. */
void pp_hist_copy(struct pp_hist *dst, const struct pp_hist *src);
/* Observations so far. @thread any. */
uint64_t pp_hist_count(const struct pp_hist *h);
/* Write h as a Prometheus histogram in seconds (buckets, _sum, _count). @thread any. */
void pp_metrics_hist(struct pp_buf *out, const char *name, const char *labels,
                     const struct pp_hist *h);

#endif
