/* workers.c: the --metrics-listen endpoint of worker processes and the collectors of the
 * consumers', the log's latency and the scheduler's counters (pp_workers.h). */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pp_cli.h"
#include "pp_cli_tls.h"
#include "pp_err.h"
#include "pp_kind.h"
#include "pp_stream.h"
#include "pp_util.h"
#include "pp_workers.h"

struct pp_worker_http {
    struct pp_metrics_http *mh;
    struct pp_metrics *m; /* owned */
    struct pp_cli_tls *tls; /* owned; NULL: plain HTTP */
    const char *stage;
    char dir[4200];
};

int pp_worker_tls_check(const char *cmd, const char *listen, const struct pp_worker_tls *tls)
{
    if (pp_cli_tls_check(cmd, "metrics-tls", tls->cert, tls->key))
        return 2;
    if (tls->cert && !listen)
        return pp_cli_fail(cmd, 2, "--metrics-tls-cert/--metrics-tls-key need --metrics-listen");
    return 0;
}

static void worker_http_free(struct pp_worker_http *w)
{
    pp_metrics_http_stop(w->mh);
    pp_cli_tls_stop(w->tls); /* after the server: no handshake uses it any more */
    pp_metrics_destroy(w->m);
    free(w);
}

struct pp_worker_http *pp_worker_http_start(const char *stage, const char *data_dir,
                                            const char *listen, const struct pp_worker_tls *tls,
                                            pp_metrics_collect_fn collect, void *collect_arg,
                                            pp_metrics_ready_fn ready, void *ready_arg,
                                            char *errstr, size_t errstr_size)
{
    struct pp_worker_http *w = calloc(1, sizeof(*w));
    if (!w || !(w->m = pp_metrics_new()) ||
        pp_metrics_add(w->m, pp_collect_process, (void *)stage) ||
        pp_metrics_add(w->m, collect, collect_arg)) {
        snprintf(errstr, errstr_size, "out of memory");
        if (w)
            pp_metrics_destroy(w->m);
        free(w);
        return NULL;
    }
    w->stage = stage;
    if (tls && tls->cert &&
        !(w->tls = pp_cli_tls_start(stage, tls->cert, tls->key, errstr, errstr_size))) {
        worker_http_free(w);
        return NULL;
    }
    struct pp_metrics_http_conf conf = {listen, w->m, ready, ready_arg, pp_cli_tls_get(w->tls)};
    if (!(w->mh = pp_metrics_http_start(&conf, errstr, errstr_size))) {
        worker_http_free(w);
        return NULL;
    }
    char parent[4096];
    mkdir(data_dir, 0755);
    pp_cli_path(data_dir, PP_WORKERS_DIR, parent, sizeof(parent));
    mkdir(parent, 0755);
    snprintf(w->dir, sizeof(w->dir), "%s/%.64s-%ld", parent, stage, (long)getpid());
    mkdir(w->dir, 0755);
    int port = pp_metrics_http_port(w->mh);
    if (pp_cli_write_listen(w->dir, listen, port)) {
        snprintf(errstr, errstr_size, "cannot write %s/listen", w->dir);
        rmdir(w->dir);
        worker_http_free(w);
        return NULL;
    }
    PP_INFO(stage, "metrics on %s://%s port=%d: GET /metrics /healthz /readyz",
            pp_cli_tls_scheme(w->tls), listen, port);
    return w;
}

void pp_worker_http_add_log(struct pp_worker_http *w, struct pp_log *log)
{
    if (w && pp_metrics_add(w->m, pp_cli_log_collect, log))
        PP_WARN(w->stage, "metrics registry full: log metrics not exported");
}

void pp_worker_http_draining(struct pp_worker_http *w)
{
    if (w)
        pp_metrics_http_draining(w->mh);
}

void pp_worker_http_stop(struct pp_worker_http *w)
{
    if (!w)
        return;
    pp_metrics_http_stop(w->mh);
    w->mh = NULL;
    char path[4300];
    snprintf(path, sizeof(path), "%s/listen", w->dir);
    unlink(path);
    rmdir(w->dir);
    worker_http_free(w); /* after the server: nothing renders the metrics any more */
}

int pp_worker_log_ready(struct pp_log *log, char *why, size_t why_size)
{
    const char *names[64];
    if (!log) {
        snprintf(why, why_size, "waiting for the log");
        return 0;
    }
    int n = pp_log_topics(log, names, 64);
    if (n < 0) {
        snprintf(why, why_size, "log unreachable: %s", pp_err_str(n));
        return 0;
    }
    return 1;
}

static void per_topic(struct pp_buf *out, const char *name, const char *stage, const int64_t *v)
{
    char labels[96];
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        snprintf(labels, sizeof(labels), "stage=\"%s\",topic=\"%s\"", stage,
                 pp_kind_name((enum pp_kind)k));
        pp_metrics_sample(out, name, labels, (double)v[k]);
    }
}

static void counter(struct pp_buf *out, const char *name, const char *help, int64_t v)
{
    pp_metrics_head(out, name, "counter", help);
    pp_metrics_sample(out, name, "", (double)v);
}

/* The families shared by the stages, each written once with every stage present (a family's
 * samples must be contiguous): st or lk may be NULL. */
static void stage_families(struct pp_buf *out, const struct pp_stream_stats *st,
                           const struct pp_lake_stats *lk)
{
    pp_metrics_head(out, "pinpipe_records_in_total", "counter",
                    "records a stage consumed, by stage and topic");
    if (st)
        per_topic(out, "pinpipe_records_in_total", "stream", st->topic_records);
    if (lk)
        per_topic(out, "pinpipe_records_in_total", "lake", lk->topic_records);
    pp_metrics_head(out, "pinpipe_records_out_total", "counter",
                    "records a stage delivered (warehouse rows, lake lines), by stage and topic");
    if (st)
        per_topic(out, "pinpipe_records_out_total", "stream", st->topic_rows);
    if (lk)
        per_topic(out, "pinpipe_records_out_total", "lake", lk->topic_records);
    if (st) {
        pp_metrics_head(out, "pinpipe_records_rejected_total", "counter",
                        "records a stage rejected (dead letters), by stage and topic");
        per_topic(out, "pinpipe_records_rejected_total", "stream", st->topic_rejected);
    }
}

/* Reads race with the consumer thread's plain stores on purpose: aligned 64-bit values, so a
 * scrape may be one batch old, never torn. */
static void stream_only(struct pp_buf *out, const struct pp_stream_stats *st)
{
    counter(out, "pinpipe_stream_records_total",
            "records consumed by the stream (warehouse) consumer", st->records);
    counter(out, "pinpipe_stream_rows_total", "rows upserted into the warehouse", st->rows);
    counter(out, "pinpipe_stream_rejected_total",
            "records the stream could not clean (dead letters)", st->rejected);
    counter(out, "pinpipe_stream_transactions_total",
            "warehouse transactions committed by the stream", st->txns);
    counter(out, "pinpipe_stream_retries_total",
            "failed warehouse transactions rolled back and retried", st->retries);
    pp_metrics_head(out, "pinpipe_stream_failing_transactions", "gauge",
                    "failed warehouse transactions in a row now (0: the last one committed)");
    pp_metrics_sample(out, "pinpipe_stream_failing_transactions", "", (double)st->failing);
    pp_metrics_head(out, "pinpipe_warehouse_transaction_seconds", "histogram",
                    "warehouse load: a batch's first record -> its transaction committed");
    pp_metrics_hist(out, "pinpipe_warehouse_transaction_seconds", "", &st->txn_lat);
    /* ingest -> warehouse latency: the 100 us buckets folded into Prometheus buckets */
    static const double bounds[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2};
    enum { NB = sizeof(bounds) / sizeof(bounds[0]) };
    int64_t counts[NB + 1] = {0};
    double sum = 0;
    for (int i = 0; i < PP_STREAM_LAT_BUCKETS; i++) {
        int64_t n = st->lat_hist[i];
        if (!n)
            continue;
        double upper = (i + 1) * 1e-4;
        int b = 0;
        while (b < NB && upper > bounds[b] + 1e-12)
            b++;
        counts[b] += n;
        sum += (double)n * (i + 0.5) * 1e-4;
    }
    pp_metrics_head(out, "pinpipe_ingest_to_warehouse_seconds", "histogram",
                    "end to end: a record's ingest (ack) timestamp -> its warehouse commit");
    pp_metrics_histogram(out, "pinpipe_ingest_to_warehouse_seconds", "", bounds, counts, NB, sum);
}

static void lake_only(struct pp_buf *out, const struct pp_lake_stats *st)
{
    counter(out, "pinpipe_lake_records_total",
            "records written to lake files by the lake consumer", st->records);
    counter(out, "pinpipe_lake_bytes_total", "bytes written into lake files (JSON lines)",
            st->bytes);
    counter(out, "pinpipe_lake_files_total", "lake files finished (durable, committable)",
            st->files);
    pp_metrics_head(out, "pinpipe_lake_errors_total", "counter",
                    "lake failures: write, flush (finishing files), commit (of offsets)");
    pp_metrics_sample(out, "pinpipe_lake_errors_total", "op=\"write\"", (double)st->write_errors);
    pp_metrics_sample(out, "pinpipe_lake_errors_total", "op=\"flush\"", (double)st->flush_errors);
    pp_metrics_sample(out, "pinpipe_lake_errors_total", "op=\"commit\"",
                      (double)st->commit_errors);
    counter(out, "pinpipe_lake_days_closed_total",
            "ingest days this worker saw closed (their _SUCCESS markers present)",
            st->days_closed);
    counter(out, "pinpipe_lake_late_records_total",
            "records written for a day already closed (past the grace; in files after the "
            "marker's offsets, counted by pinpipe quality)", st->late_records);
    counter(out, "pinpipe_lake_retries_total",
            "restarts from the committed offsets after a failed write or finish", st->retries);
    pp_metrics_head(out, "pinpipe_lake_failing", "gauge",
                    "failed writes/finishes in a row now (0: lake files are durable again)");
    pp_metrics_sample(out, "pinpipe_lake_failing", "", (double)st->failing);
    pp_metrics_head(out, "pinpipe_lake_running", "gauge",
                    "1 while the lake consumer runs, 0 once it stopped (see its log)");
    pp_metrics_sample(out, "pinpipe_lake_running", "", st->running ? 1 : 0);
    pp_metrics_head(out, "pinpipe_lake_flush_seconds", "histogram",
                    "finishing due lake files (fsync + rename, or S3 upload)");
    pp_metrics_hist(out, "pinpipe_lake_flush_seconds", "", &st->flush_lat);
}

void pp_collect_stream(void *arg, struct pp_buf *out)
{
    stream_only(out, arg);
    stage_families(out, arg, NULL);
}

void pp_collect_lake(void *arg, struct pp_buf *out)
{
    lake_only(out, arg);
    stage_families(out, NULL, arg);
}

void pp_workers_collect_consumers(struct pp_buf *out, const struct pp_stream_stats *st,
                                  const struct pp_lake_stats *lk)
{
    stream_only(out, st);
    lake_only(out, lk);
    stage_families(out, st, lk);
}

void pp_collect_log_latency(void *arg, struct pp_buf *out)
{
    struct pp_log_stats st;
    pp_log_stats(arg, &st);
    pp_metrics_head(out, "pinpipe_log_append_seconds", "histogram",
                    "embedded: an append call writing into its segment; kafka: produce -> "
                    "delivery report");
    pp_metrics_hist(out, "pinpipe_log_append_seconds", "", &st.append_lat);
    pp_metrics_head(out, "pinpipe_log_fsync_seconds", "histogram",
                    "embedded: each fsync of a segment file (kafka: none)");
    pp_metrics_hist(out, "pinpipe_log_fsync_seconds", "", &st.fsync_lat);
}

void pp_collect_process(void *arg, struct pp_buf *out)
{
    char labels[96];
    snprintf(labels, sizeof(labels), "stage=\"%s\",pid=\"%ld\"", (const char *)arg,
             (long)getpid());
    pp_metrics_head(out, "pinpipe_worker_info", "gauge", "the stage this process runs");
    pp_metrics_sample(out, "pinpipe_worker_info", labels, 1);
}

/* ---- the scheduler's counters ---- */

#define DAG_STATES 12

static struct {
    pthread_mutex_t mu;
    char state[DAG_STATES][20];
    int64_t tasks[DAG_STATES], runs[DAG_STATES];
    int n;
    int64_t wh_errors, last_run_ms;
    int wh_bad;
} dag = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int dag_slot(const char *state) /* under dag.mu */
{
    for (int i = 0; i < dag.n; i++)
        if (!strcmp(dag.state[i], state))
            return i;
    if (dag.n == DAG_STATES)
        return DAG_STATES - 1; /* folded into the last one; there are fewer states */
    snprintf(dag.state[dag.n], sizeof(dag.state[0]), "%s", state);
    return dag.n++;
}

void pp_workers_dag_task(const char *state, int wh_ok)
{
    pthread_mutex_lock(&dag.mu);
    dag.tasks[dag_slot(state)]++;
    dag.wh_errors += !wh_ok;
    dag.wh_bad = !wh_ok;
    pthread_mutex_unlock(&dag.mu);
}

void pp_workers_dag_run(const char *state)
{
    pthread_mutex_lock(&dag.mu);
    dag.runs[dag_slot(state)]++;
    dag.last_run_ms = pp_now_ms();
    pthread_mutex_unlock(&dag.mu);
}

int pp_workers_dag_wh_ok(void)
{
    pthread_mutex_lock(&dag.mu);
    int ok = !dag.wh_bad;
    pthread_mutex_unlock(&dag.mu);
    return ok;
}

void pp_workers_dag_wh_set(int ok)
{
    pthread_mutex_lock(&dag.mu);
    dag.wh_bad = !ok;
    dag.wh_errors += !ok;
    pthread_mutex_unlock(&dag.mu);
}

void pp_collect_dag(void *arg, struct pp_buf *out)
{
    char labels[64];
    pthread_mutex_lock(&dag.mu);
    pp_metrics_head(out, "pinpipe_scheduler_runs_total", "counter",
                    "DAG runs finished by this scheduler, by final state");
    for (const char *const *s = (const char *const[]){"success", "failed", NULL}; *s; s++)
        dag_slot(*s); /* both always exported, so a first failure is a 0 -> 1 change */
    for (int i = 0; i < dag.n; i++) {
        snprintf(labels, sizeof(labels), "state=\"%s\"", dag.state[i]);
        pp_metrics_sample(out, "pinpipe_scheduler_runs_total", labels, (double)dag.runs[i]);
    }
    pp_metrics_head(out, "pinpipe_scheduler_task_states_total", "counter",
                    "task state changes recorded (running, up_for_retry, success, failed, ...)");
    for (int i = 0; i < dag.n; i++) {
        snprintf(labels, sizeof(labels), "state=\"%s\"", dag.state[i]);
        pp_metrics_sample(out, "pinpipe_scheduler_task_states_total", labels,
                          (double)dag.tasks[i]);
    }
    pp_metrics_head(out, "pinpipe_scheduler_warehouse_errors_total", "counter",
                    "run history reads/writes that failed");
    pp_metrics_sample(out, "pinpipe_scheduler_warehouse_errors_total", "",
                      (double)dag.wh_errors);
    pp_metrics_head(out, "pinpipe_scheduler_last_run_timestamp_seconds", "gauge",
                    "when the last run finished (0: none yet)");
    pp_metrics_sample(out, "pinpipe_scheduler_last_run_timestamp_seconds", "",
                      (double)dag.last_run_ms / 1000.0);
    pthread_mutex_unlock(&dag.mu);
    (void)arg;
}
