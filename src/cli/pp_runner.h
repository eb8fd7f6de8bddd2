/* pp_runner.h: the embedded default in one process: the log (writer), the HTTP server, and the
 * stream and lake consumers in threads. Used by `pinpipe run` and `pinpipe demo`. */
#ifndef PP_RUNNER_H
#define PP_RUNNER_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "pp_http.h"
#include "pp_lake.h"
#include "pp_log.h"
#include "pp_metrics.h"
#include "pp_stream.h"
#include "pp_wh.h"

struct pp_runner_conf {
    const char *data_dir;
    const char *warehouse; /* NULL = <data_dir>/warehouse.db */
    const char *lake_dir;  /* NULL = <data_dir>/lake */
    struct pp_log_conf log;
    struct pp_http_conf http;
    struct pp_lake_conf lake;
    int stream_batch;      /* records per warehouse transaction at most */
    int stream_linger_ms;
    int no_dashboard;      /* 1: no dashboard at / (src/dash) */
};

struct pp_runner {
    struct pp_runner_conf conf;
    char log_dir[4096], wh_path[4096], lake_path[4096];
    struct pp_log *log;
    struct pp_http *http;
    struct pp_wh *wh;
    struct pp_lake *lake;
    pthread_t stream_thread, lake_thread;
    int stream_started, lake_started;
    volatile sig_atomic_t stop_stream, stop_lake;
    _Atomic int stream_rc, lake_rc; /* written by the consumer threads, read by run */
    struct pp_stream_stats stream_stats;
    int64_t lake_records;            /* = lake_stats.records once the lake thread ended */
    struct pp_lake_stats lake_stats; /* the lake consumer's counters (live) */
    struct pp_metrics *metrics; /* GET /metrics: http, log, stream and lake */
    struct pp_dash *dash;       /* GET / and /api/...: the dashboard (NULL: none) */
};

/* Defaults for every field (data_dir = PP_DEFAULT_DATA_DIR). */
void pp_runner_conf_defaults(struct pp_runner_conf *conf);
/* Open everything and start serving. Writes <data_dir>/listen with "HOST:PORT" actually bound.
 * @returns 0, or <0 with errstr filled (everything started so far is stopped). */
int pp_runner_start(struct pp_runner *run, const struct pp_runner_conf *conf, char *errstr,
                    size_t errstr_size);
/* Has the stream consumer loaded everything the log holds now? (stream offsets == high
 * watermarks on every partition of pin/geo/user). */
int pp_runner_caught_up(struct pp_runner *run);
/* Stop in order: HTTP (in-flight requests answered), then stream and lake (lake finishes its
 * open files and commits), then close the log. run may be partially started. */
void pp_runner_stop(struct pp_runner *run);

#endif
