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

#endif
