/* pp_workers.h: what worker processes (stream, lake, schedule) and `run` share for metrics and
 * health: the --metrics-listen endpoint with its address file, and the collectors of the
 * consumers', the log's latency and the scheduler's counters. */
#ifndef PP_WORKERS_H
#define PP_WORKERS_H

#include <stddef.h>

#include "pp_buf.h"
#include "pp_log.h"
#include "pp_metrics.h"
#include "pp_metrics_http.h"

/* Where workers announce their endpoints: DATA_DIR/workers/<stage>-<pid>/listen holds the
 * "HOST:PORT" bound (as DATA_DIR/listen for serve). `pinpipe status` reads them. */
#define PP_WORKERS_DIR "workers"

struct pp_worker_http;

/* The endpoint's TLS files (--metrics-tls-cert/--metrics-tls-key, PEM): both set = HTTPS,
 * re-read on SIGHUP (pp_cli_tls.h); both NULL = plain HTTP. */
struct pp_worker_tls {
    const char *cert, *key;
};

/* Start the endpoint of stage ("stream", "lake", "schedule") on listen (port 0 = any free)
 * and write its address file under data_dir. It owns a metrics registry holding
 * pp_collect_process(stage) and collect(collect_arg); ready may be NULL; tls may be NULL.
 * @returns owned: release with pp_worker_http_stop(). NULL with errstr filled. */
struct pp_worker_http *pp_worker_http_start(const char *stage, const char *data_dir,
                                            const char *listen, const struct pp_worker_tls *tls,
                                            pp_metrics_collect_fn collect, void *collect_arg,
                                            pp_metrics_ready_fn ready, void *ready_arg,
                                            char *errstr, size_t errstr_size);
/* After parsing: --metrics-tls-cert and --metrics-tls-key both or neither, and only with
 * --metrics-listen. @returns 0, or 2 with a one-line usage error printed. */
int pp_worker_tls_check(const char *cmd, const char *listen, const struct pp_worker_tls *tls);
/* Also export the log's counters, watermarks and lag (pp_cli_log_collect), once it is open;
 * log must outlive the endpoint. w may be NULL (no endpoint: nothing to do). */
void pp_worker_http_add_log(struct pp_worker_http *w, struct pp_log *log);
/* /readyz answers 503 from now on (the worker is stopping). w may be NULL. */
void pp_worker_http_draining(struct pp_worker_http *w);
/* Stop serving, remove the address file, free the registry. w may be NULL. */
void pp_worker_http_stop(struct pp_worker_http *w);

/* Is the log reachable (it lists its topics)? @returns 1, or 0 with why filled. */
int pp_worker_log_ready(struct pp_log *log, char *why, size_t why_size);

/* Collectors for pp_metrics_add(); arg as named. */
/* arg: struct pp_stream_stats * (records/rows/rejected per topic, transactions, retries,
 * warehouse transaction and ingest -> warehouse latency histograms). */
void pp_collect_stream(void *arg, struct pp_buf *out);
/* arg: struct pp_lake_stats * (records per topic, bytes, files, errors, flush latency). */
void pp_collect_lake(void *arg, struct pp_buf *out);
/* Both in one (`run`: the shared families must be written once). */
struct pp_stream_stats;
struct pp_lake_stats;
void pp_workers_collect_consumers(struct pp_buf *out, const struct pp_stream_stats *st,
                                  const struct pp_lake_stats *lk);
/* arg: struct pp_log * (append and fsync latency histograms; the counters, watermarks and lag
 * are pp_cli_log_collect's). */
void pp_collect_log_latency(void *arg, struct pp_buf *out);
/* arg: ignored (the process's scheduler counters, below). */
void pp_collect_dag(void *arg, struct pp_buf *out);
/* arg: const char * stage name: pinpipe_worker_info{stage,pid} 1 and the start time. */
void pp_collect_process(void *arg, struct pp_buf *out);

/* The scheduler's counters (process-wide, thread-safe): a task's recorded state change
 * (wh_ok: the warehouse took it) and a finished run's state. */
void pp_workers_dag_task(const char *state, int wh_ok);
void pp_workers_dag_run(const char *state);
/* Did the scheduler's last warehouse call succeed (or none happened yet)? */
int pp_workers_dag_wh_ok(void);
void pp_workers_dag_wh_set(int ok);

#endif
