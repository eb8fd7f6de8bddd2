/* metrics.c: a registry of metric collectors and Prometheus text-format writers. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp_err.h"
#include "pp_metrics.h"

struct collector {
    pp_metrics_collect_fn fn;
    void *arg;
};

struct pp_metrics {
    pthread_mutex_t mu;
    struct collector c[PP_METRICS_MAX_COLLECTORS];
    int n;
};

struct pp_metrics *pp_metrics_new(void)
{
    struct pp_metrics *m = calloc(1, sizeof(*m));
    if (m)
        pthread_mutex_init(&m->mu, NULL);
    return m;
}

void pp_metrics_destroy(struct pp_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

int pp_metrics_add(struct pp_metrics *m, pp_metrics_collect_fn fn, void *arg)
{
    int rc = PP_ENOMEM;
    pthread_mutex_lock(&m->mu);
    if (m->n < PP_METRICS_MAX_COLLECTORS) {
        m->c[m->n++] = (struct collector){fn, arg};
        rc = 0;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

void pp_metrics_remove(struct pp_metrics *m, pp_metrics_collect_fn fn, void *arg)
{
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < m->n; i++)
        if (m->c[i].fn == fn && m->c[i].arg == arg) {
            memmove(&m->c[i], &m->c[i + 1], sizeof(m->c[0]) * (size_t)(m->n - i - 1));
            m->n--;
            break;
        }
    pthread_mutex_unlock(&m->mu);
}

void pp_metrics_render(struct pp_metrics *m, struct pp_buf *out)
{
    /* collectors run under the lock so one cannot be removed (and freed) while it runs */
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < m->n; i++)
        m->c[i].fn(m->c[i].arg, out);
    pthread_mutex_unlock(&m->mu);
}

void pp_metrics_head(struct pp_buf *out, const char *name, const char *type, const char *help)
{
    pp_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_value(struct pp_buf *out, double v)
{
    if (isnan(v))
        pp_buf_puts(out, "NaN");
    else if (isinf(v))
        pp_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else if (v == (double)(int64_t)v && fabs(v) < 9e15)
        pp_buf_put_i64(out, (int64_t)v);
    else {
        /* shortest form that reads back as the same double */
        char tmp[32];
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
            if (strtod(tmp, NULL) == v)
                break;
        }
        pp_buf_puts(out, tmp);
    }
}

void pp_metrics_sample(struct pp_buf *out, const char *name, const char *labels, double value)
{
    pp_buf_puts(out, name);
    if (labels && *labels)
        pp_buf_printf(out, "{%s}", labels);
    pp_buf_putc(out, ' ');
    put_value(out, value);
    pp_buf_putc(out, '\n');
}

void pp_metrics_histogram(struct pp_buf *out, const char *name, const char *labels,
                          const double *bounds, const int64_t *counts, int n, double sum)
{
    int64_t cum = 0;
    const char *sep = labels && *labels ? "," : "";
    for (int i = 0; i < n; i++) {
        cum += counts[i];
        pp_buf_printf(out, "%s_bucket{%s%sle=\"", name, labels ? labels : "", sep);
        put_value(out, bounds[i]);
        pp_buf_puts(out, "\"} ");
        pp_buf_put_i64(out, cum);
        pp_buf_putc(out, '\n');
    }
    cum += counts[n];
    pp_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} ", name, labels ? labels : "", sep);
    pp_buf_put_i64(out, cum);
    pp_buf_printf(out, "\n%s_sum", name);
    if (labels && *labels)
        pp_buf_printf(out, "{%s}", labels);
    pp_buf_putc(out, ' ');
    put_value(out, sum);
    pp_buf_printf(out, "\n%s_count", name);
    if (labels && *labels)
        pp_buf_printf(out, "{%s}", labels);
    pp_buf_putc(out, ' ');
    pp_buf_put_i64(out, cum);
    pp_buf_putc(out, '\n');
}

/* Upper bounds of struct pp_hist's buckets in microseconds. */
static const int64_t hist_bounds_us[PP_HIST_NB] = {
    10,    25,    50,     100,    250,    500,     1000,    2500,    5000,
    10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 10000000};

void pp_hist_observe_us(struct pp_hist *h, int64_t us)
{
    if (us < 0)
        us = 0;
    int b = 0;
    while (b < PP_HIST_NB && us > hist_bounds_us[b])
        b++;
    __atomic_add_fetch(&h->n[b], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&h->sum_us, (uint64_t)us, __ATOMIC_RELAXED);
}

void pp_hist_copy(struct pp_hist *dst, const struct pp_hist *src)
{
    for (int i = 0; i <= PP_HIST_NB; i++)
        dst->n[i] = __atomic_load_n(&src->n[i], __ATOMIC_RELAXED);
    dst->sum_us = __atomic_load_n(&src->sum_us, __ATOMIC_RELAXED);
}

uint64_t pp_hist_count(const struct pp_hist *h)
{
    uint64_t n = 0;
    for (int i = 0; i <= PP_HIST_NB; i++)
        n += __atomic_load_n(&h->n[i], __ATOMIC_RELAXED);
    return n;
}

void pp_metrics_hist(struct pp_buf *out, const char *name, const char *labels,
                     const struct pp_hist *h)
{
    struct pp_hist snap;
    double bounds[PP_HIST_NB];
    int64_t counts[PP_HIST_NB + 1];
    pp_hist_copy(&snap, h);
    for (int i = 0; i < PP_HIST_NB; i++)
        bounds[i] = (double)hist_bounds_us[i] / 1e6;
    for (int i = 0; i <= PP_HIST_NB; i++)
        counts[i] = (int64_t)snap.n[i];
    pp_metrics_histogram(out, name, labels, bounds, counts, PP_HIST_NB, (double)snap.sum_us / 1e6);
}
