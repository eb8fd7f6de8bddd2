/* pp_metrics_http.h: a small HTTP endpoint for worker processes (stream, lake, schedule):
 * GET /metrics (Prometheus text from a struct pp_metrics), GET /healthz (the process is alive)
 * and GET /readyz (ready: a callback of the worker says whether what it depends on, the log and
 * the warehouse or lake, is reachable). One internal thread (libmicrohttpd); scrapes are
 * answered while the worker runs, independently of its hot path. `pinpipe serve` has these
 * routes on its own server (server.c); this one serves processes without an HTTP server. */
#ifndef PP_METRICS_HTTP_H
#define PP_METRICS_HTTP_H

#include <stddef.h>

#include "pp_metrics.h"
#include "pp_tls.h"

/* Is the worker ready? @returns 1 ready, 0 not ready with a one-line reason in why.
 * Called from the endpoint's thread: must only read what other threads write (counters,
 * flags) or use thread-safe calls. */
typedef int (*pp_metrics_ready_fn)(void *arg, char *why, size_t why_size);

struct pp_metrics_http_conf {
    const char *listen;         /* "HOST:PORT"; port 0 = any free (see pp_metrics_http_port) */
    struct pp_metrics *metrics; /* borrowed: rendered at GET /metrics */
    pp_metrics_ready_fn ready;  /* NULL: always ready while running */
    void *ready_arg;
    struct pp_tls *tls;         /* borrowed (pp_tls.h): HTTPS with these credentials; NULL = HTTP */
};

struct pp_metrics_http;

/* Start serving. @returns owned: release with pp_metrics_http_stop(). NULL on error with
 * errstr filled (bad address, cannot listen). */
struct pp_metrics_http *pp_metrics_http_start(const struct pp_metrics_http_conf *conf,
                                              char *errstr, size_t errstr_size);
/* The port actually bound (useful with port 0), or -1. */
int pp_metrics_http_port(const struct pp_metrics_http *mh);
/* From now on /readyz answers 503 "shutting down" (a worker stopping). @thread any. */
void pp_metrics_http_draining(struct pp_metrics_http *mh);
/* Stop serving and free mh (NULL: no-op). Requests in flight are answered first. */
void pp_metrics_http_stop(struct pp_metrics_http *mh);

#endif
