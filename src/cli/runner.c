/* runner.c: serve + stream + lake in one process (the embedded default). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pp_cli.h"
#include "pp_dash.h"
#include "pp_err.h"
#include "pp_runner.h"
#include "pp_util.h"
#include "pp_workers.h"

static const char *const topics[PP_KIND_COUNT] = {"pin", "geo", "user"};

void pp_runner_conf_defaults(struct pp_runner_conf *conf)
{
    memset(conf, 0, sizeof(*conf));
    conf->data_dir = PP_DEFAULT_DATA_DIR;
    pp_log_conf_defaults(&conf->log);
    pp_http_conf_defaults(&conf->http);
    pp_lake_conf_defaults(&conf->lake);
    conf->stream_batch = 5000;
    conf->stream_linger_ms = 1;
}

/* Metrics of the in-process consumers (pp_workers.h). The counters are written by the
 * consumer threads and read here without locks: a scrape may see a value one batch old, never
 * a torn one (aligned 64-bit loads). */
static void consumers_collect(void *arg, struct pp_buf *out)
{
    struct pp_runner *run = arg;
    pp_workers_collect_consumers(out, &run->stream_stats, &run->lake_stats);
}

static void *stream_main(void *arg)
{
    struct pp_runner *run = arg;
    run->stream_rc = pp_stream_run(run->log, run->wh, run->conf.stream_batch,
                                   run->conf.stream_linger_ms, 0, &run->stop_stream,
                                   &run->stream_stats);
    if (run->stream_rc < 0)
        PP_ERROR("run", "stream consumer stopped: %s", pp_err_str(run->stream_rc));
    return NULL;
}

static void *lake_main(void *arg)
{
    struct pp_runner *run = arg;
    run->lake_rc = pp_lake_run_stats(run->log, run->lake, &run->stop_lake, &run->lake_stats);
    run->lake_records = run->lake_stats.records;
    if (run->lake_rc < 0)
        PP_ERROR("run", "lake consumer stopped: %s", pp_err_str(run->lake_rc));
    return NULL;
}

int pp_runner_start(struct pp_runner *run, const struct pp_runner_conf *conf, char *errstr,
                    size_t errstr_size)
{
    memset(run, 0, sizeof(*run));
    run->conf = *conf;
    mkdir(conf->data_dir, 0755);
    pp_cli_path(conf->data_dir, "log", run->log_dir, sizeof(run->log_dir));
    snprintf(run->wh_path, sizeof(run->wh_path), "%s",
             conf->warehouse ? conf->warehouse : "");
    if (!conf->warehouse)
        pp_cli_path(conf->data_dir, "warehouse.db", run->wh_path, sizeof(run->wh_path));
    snprintf(run->lake_path, sizeof(run->lake_path), "%s", conf->lake_dir ? conf->lake_dir : "");
    if (!conf->lake_dir)
        pp_cli_path(conf->data_dir, "lake", run->lake_path, sizeof(run->lake_path));
    run->conf.log.dir = run->log_dir;
    run->conf.log.readonly = 0;
    run->conf.lake.root = run->lake_path;

    if (!(run->log = pp_log_open(&run->conf.log, errstr, errstr_size)))
        goto fail;
    if (!(run->metrics = pp_metrics_new()) ||
        pp_metrics_add(run->metrics, pp_cli_log_collect, run->log) ||
        pp_metrics_add(run->metrics, pp_collect_log_latency, run->log) ||
        pp_metrics_add(run->metrics, consumers_collect, run)) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    run->conf.http.metrics = run->metrics;
    for (int k = 0; k < PP_KIND_COUNT; k++)
        if (pp_log_partitions(run->log, topics[k], 1) < 0) {
            snprintf(errstr, errstr_size, "cannot create topic %s in %s", topics[k],
                     run->log_dir);
            goto fail;
        }
    if (!(run->wh = pp_wh_open_timeout(run->wh_path, conf->log.connect_timeout_ms, errstr,
                                       errstr_size)))
        goto fail;
    if (!(run->lake = pp_lake_open(&run->conf.lake, errstr, errstr_size)))
        goto fail;
    if (pthread_create(&run->stream_thread, NULL, stream_main, run)) {
        snprintf(errstr, errstr_size, "cannot start the stream thread");
        goto fail;
    }
    run->stream_started = 1;
    if (pthread_create(&run->lake_thread, NULL, lake_main, run)) {
        snprintf(errstr, errstr_size, "cannot start the lake thread");
        goto fail;
    }
    run->lake_started = 1;
    if (!conf->no_dashboard) { /* reads the warehouse through its own connection */
        struct pp_dash_conf dconf = {
            .warehouse = run->wh_path, .log = run->log, .metrics = run->metrics};
        if (!(run->dash = pp_dash_new(&dconf, errstr, errstr_size)))
            goto fail;
        run->conf.http.get = pp_dash_handle;
        run->conf.http.get_arg = run->dash;
    }
    if (!(run->http = pp_http_start(&run->conf.http, run->log, errstr, errstr_size)))
        goto fail;
    if (pp_cli_write_listen(conf->data_dir, conf->http.listen, pp_http_port(run->http))) {
        snprintf(errstr, errstr_size, "cannot write %s/listen", conf->data_dir);
        goto fail;
    }
    return 0;
fail:
    pp_runner_stop(run);
    return PP_EIO;
}

/* pp_log_lag_each: a partition with records the stream has not committed (or unreadable). */
static int stream_behind(void *arg, const struct pp_log_lag *l)
{
    (void)arg;
    return l->err || (l->high > 0 && (l->committed < 0 || l->committed < l->high));
}

int pp_runner_caught_up(struct pp_runner *run)
{
    return !pp_log_lag_each(run->log, "stream", topics, PP_KIND_COUNT, stream_behind, NULL);
}

void pp_runner_stop(struct pp_runner *run)
{
    if (run->http) {
        pp_http_stop(run->http);
        run->http = NULL;
        /* a graceful stop: let the stream load what was acknowledged (up to 5 s; whatever is
         * left is in the log and loaded on the next start) */
        int64_t deadline = pp_mono_us() + 5000000;
        while (run->stream_started && run->stream_rc >= 0 && !pp_runner_caught_up(run) &&
               pp_mono_us() < deadline)
            usleep(5000);
    }
    pp_dash_destroy(run->dash); /* the server is stopped: no request uses it any more */
    run->dash = NULL;
    if (run->metrics) {
        pp_metrics_remove(run->metrics, pp_cli_log_collect, run->log);
        pp_metrics_remove(run->metrics, pp_collect_log_latency, run->log);
        pp_metrics_remove(run->metrics, consumers_collect, run);
    }
    run->stop_stream = 1;
    run->stop_lake = 1;
    if (run->stream_started)
        pthread_join(run->stream_thread, NULL);
    if (run->lake_started)
        pthread_join(run->lake_thread, NULL);
    run->stream_started = run->lake_started = 0;
    pp_lake_close(run->lake);
    pp_wh_close(run->wh);
    pp_log_close(run->log);
    pp_metrics_destroy(run->metrics);
    run->metrics = NULL;
    run->lake = NULL;
    run->wh = NULL;
    run->log = NULL;
}
