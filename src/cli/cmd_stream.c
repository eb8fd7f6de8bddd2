/* cmd_stream.c: `pinpipe stream`: consumer group "stream" (log -> clean -> warehouse). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pp_cli.h"
#include "pp_err.h"
#include "pp_stream.h"
#include "pp_util.h"
#include "pp_workers.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pinpipe stream [--data-dir DIR] [--warehouse PATH] [--batch N] [--linger MS]\n"
            "                      [--sync full|normal] [--metrics-listen HOST:PORT]\n"
            "                      [--until-caught-up]\n"
            "                      [--metrics-tls-cert FILE --metrics-tls-key FILE]\n"
            "\n"
            "Consumer group 'stream': reads the partitions of pin, geo and user it owns (all on the\n"
            "embedded log; on Kafka the group's members share them) from\n"
            "the log (opened read-only; `pinpipe serve` is the writer), cleans each record and\n"
            "upserts it into the warehouse together with the consumed offsets, in one\n"
            "transaction per batch (exactly once). Records that cannot be cleaned become\n"
            "dead letters. Runs until SIGINT/SIGTERM (or, with --until-caught-up, until it has\n"
            "committed everything the log holds), then prints a summary.\n"
            "\n"
            "  --data-dir DIR     data directory (default %s); the log is DIR/log\n"
            "  --warehouse SPEC   SQLite file or postgresql:// URI (default DIR/warehouse.db)\n"
            "  --batch N          records per transaction at most (default 20000; a batch that is\n"
            "                     not full commits as soon as the log has nothing more: latency\n"
            "                     stays low when the load is light, big transactions catch up)\n"
            "  --linger MS        wait up to MS to fill a batch (default 1; 0 = commit at once)\n"
            "  --sync MODE        full: fsync every warehouse commit (default); normal: lower\n"
            "                     latency, a power loss may undo the last commits (rows and\n"
            "                     offsets together: they are re-read, still exactly once)\n"
            "  --metrics-listen HOST:PORT  serve GET /metrics (Prometheus text), /healthz and\n"
            "                     /readyz (503 while the log is not open or the warehouse\n"
            "                     fails transactions) on HOST:PORT (port 0 = any free; the\n"
            "                     address goes to DIR/workers/stream-<pid>/listen)\n"
            "  --metrics-tls-cert FILE, --metrics-tls-key FILE  serve the metrics endpoint over\n"
            "                     HTTPS (TLS 1.2+) with this PEM certificate chain and key\n"
            "                     (both or neither; SIGHUP re-reads them)\n"
            "  --until-caught-up  stop (exit 0) once nothing is in flight and every partition\n"
            "                     this process owns is committed up to the log's high\n"
            "                     watermark: a catch-up run (cron, backfills, benchmarks)\n"
            PP_CLI_LOG_HELP
            PP_CLI_CONNECT_HELP
            "  -h, --help         this help\n"
            "\n"
            "exit status: 0 stopped cleanly, 1 failure, 2 usage error\n",
            PP_DEFAULT_DATA_DIR);
}

/* What /readyz looks at, written by the main thread, read by the endpoint's. */
struct health {
    struct pp_log *log;
    struct pp_stream_stats *stats;
    int phase; /* 0 waiting for the log, 1 consuming, 2 stopped */
};

static int ready(void *arg, char *why, size_t why_size)
{
    struct health *h = arg;
    int phase = __atomic_load_n(&h->phase, __ATOMIC_ACQUIRE);
    if (phase != 1) {
        snprintf(why, why_size, phase ? "the stream consumer stopped" : "waiting for the log");
        return 0;
    }
    if (!pp_worker_log_ready(h->log, why, why_size))
        return 0;
    int64_t failing = h->stats->failing;
    if (failing > 0) {
        snprintf(why, why_size, "warehouse: %" PRId64 " failed transactions in a row (%s)",
                 failing, pp_err_str(h->stats->last_error));
        return 0;
    }
    return 1;
}

int cmd_stream(int argc, char **argv)
{
    static const struct option opts[] = {{"data-dir", required_argument, NULL, 'd'},
                                         {"warehouse", required_argument, NULL, 'w'},
                                         {"batch", required_argument, NULL, 'b'},
                                         {"linger", required_argument, NULL, 'l'},
                                         {"sync", required_argument, NULL, 's'},
                                         {"metrics-listen", required_argument, NULL, 'M'},
                                         {"until-caught-up", no_argument, NULL, 'U'},
                                         {"metrics-tls-cert", required_argument, NULL, 'C'},
                                         {"metrics-tls-key", required_argument, NULL, 'K'},
                                         {"help", no_argument, NULL, 'h'},
                                         PP_CLI_LOG_OPTIONS,
                                         PP_CLI_CONNECT_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    const char *data_dir = PP_DEFAULT_DATA_DIR, *wh_path = NULL, *metrics_listen = NULL;
    char host[256];
    int port;
    struct pp_worker_tls tls = {NULL, NULL};
    struct pp_log_conf lconf;
    pp_log_conf_defaults(&lconf);
    int64_t batch = 20000, linger = 1;
    int c, sync_full = 1;
    unsigned flags = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hX:", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data_dir = optarg;
            break;
        case 'w':
            wh_path = optarg;
            break;
        case 'U':
            flags |= PP_STREAM_UNTIL_CAUGHT_UP;
            break;
        case 'C':
            tls.cert = optarg;
            break;
        case 'K':
            tls.key = optarg;
            break;
        case 'b':
            if (pp_parse_i64(optarg, 1, 1000000, &batch))
                return pp_cli_fail(argv[0], 2, "--batch wants 1..1000000, got '%s'", optarg);
            break;
        case 'l':
            if (pp_parse_duration_ms(optarg, &linger) || linger < 0 || linger > 60000)
                return pp_cli_fail(argv[0], 2, "--linger wants 0..60000 ms, got '%s'", optarg);
            break;
        case 's':
            if (strcmp(optarg, "full") && strcmp(optarg, "normal"))
                return pp_cli_fail(argv[0], 2, "--sync wants full or normal, got '%s'", optarg);
            sync_full = !strcmp(optarg, "full");
            break;
        case 'M':
            if (pp_parse_hostport(optarg, host, sizeof(host), &port))
                return pp_cli_fail(argv[0], 2, "--metrics-listen wants HOST:PORT, got '%s'",
                                   optarg);
            metrics_listen = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default: {
            int rc = pp_cli_backend_opt(argv[0], c, optarg, argv[optind - 1], &lconf, NULL);
            if (rc)
                return rc;
            break;
        }
        }
    }
    if (optind < argc)
        return pp_cli_fail(argv[0], 2, "unexpected argument '%s' (see pinpipe %s --help)",
                           argv[optind], argv[0]);
    if (pp_cli_backend_check(argv[0], &lconf) ||
        pp_worker_tls_check(argv[0], metrics_listen, &tls))
        return 2;

    char log_dir[4096], wh_default[4096], err[512] = "";
    pp_cli_path(data_dir, "log", log_dir, sizeof(log_dir));
    pp_cli_path(data_dir, "warehouse.db", wh_default, sizeof(wh_default));
    if (!wh_path)
        wh_path = wh_default;

    pp_cli_signals();
    static struct pp_stream_stats stats; /* static: read by the metrics thread until the end */
    struct health health = {NULL, &stats, 0};
    struct pp_worker_http *mh = NULL;
    if (metrics_listen &&
        !(mh = pp_worker_http_start("stream", data_dir, metrics_listen, &tls, pp_collect_stream,
                                    &stats, ready,
                                    &health, err, sizeof(err))))
        return pp_cli_fail(argv[0], 1, "%s", err);
    struct pp_log *log = pp_cli_open_log_wait("stream", log_dir, &lconf, err, sizeof(err));
    struct pp_wh *wh =
        log ? pp_wh_open_timeout(wh_path, lconf.connect_timeout_ms, err, sizeof(err)) : NULL;
    if (!wh) {
        pp_worker_http_stop(mh);
        pp_log_close(log);
        if (!log && pp_cli_stop)
            return 0;
        char red[512];
        return log ? pp_cli_fail(argv[0], 1, "warehouse %s: %s",
                                 pp_wh_redact(wh_path, red, sizeof(red)), err)
                   : pp_cli_log_fail(argv[0], &lconf, log_dir, err);
    }
    pp_worker_http_add_log(mh, log);
    health.log = log;
    __atomic_store_n(&health.phase, 1, __ATOMIC_RELEASE);
    if (!sync_full && pp_wh_set_sync(wh, 0))
        PP_WARN("stream", "could not set synchronous=NORMAL: %s", pp_wh_errmsg(wh));

    char redacted[512];
    PP_INFO("stream", "started log=%s warehouse=%s batch=%" PRId64 " linger_ms=%" PRId64, log_dir,
            pp_wh_redact(wh_path, redacted, sizeof(redacted)), batch, linger);
    int64_t t0 = pp_mono_us();
    int rc = pp_stream_run(log, wh, (int)batch, (int)linger, flags, &pp_cli_stop, &stats);
    double secs = (double)(pp_mono_us() - t0) / 1e6;
    __atomic_store_n(&health.phase, 2, __ATOMIC_RELEASE);
    pp_worker_http_stop(mh);
    pp_wh_close(wh);
    pp_log_close(log);
    printf("stream: records=%" PRId64 " rows=%" PRId64 " rejected=%" PRId64 " txns=%" PRId64
           " seconds=%.1f latency_p50_ms=%.1f latency_p99_ms=%.1f%s%s\n",
           stats.records, stats.rows, stats.rejected, stats.txns, secs,
           pp_stream_latency_ms(&stats, 0.5), pp_stream_latency_ms(&stats, 0.99),
           rc ? " error=" : "", rc ? pp_err_str(rc) : "");
    return rc ? 1 : 0;
}
