/* cmd_lake.c: `pinpipe lake`: consumer group "lake" (log -> raw JSON lines in the lake). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pp_cli.h"
#include "pp_err.h"
#include "pp_lake.h"
#include "pp_stream.h"
#include "pp_util.h"
#include "pp_workers.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pinpipe lake [--data-dir DIR] [--lake DIR] [--roll-bytes SIZE]\n"
            "                    [--roll-age DURATION] [--metrics-listen HOST:PORT] [--publish]\n"
            "                    [--metrics-tls-cert FILE --metrics-tls-key FILE]\n"
            "                    [--close-grace DURATION]\n"
            "       pinpipe lake --close-day YYYY-MM-DD [--wait DURATION] [--close-grace DURATION]\n"
            "\n"
            "Consumer group 'lake': reads the partitions of pin, geo and user it owns (all on the\n"
            "embedded log; on Kafka the group's members share them) from the\n"
            "log (opened read-only; `pinpipe serve` is the writer) and writes the raw records\n"
            "as JSON lines to topic=<t>/dt=<YYYY-MM-DD>/<t>+<partition>+<startoffset>.jsonl.\n"
            "A file is committed once renamed and fsynced (S3: once written under\n"
            "_pending/, then copied to its name after the commit); a rerun rewrites the\n"
            "files past the committed offsets (exactly once). Runs until SIGINT/SIGTERM,\n"
            "then finishes the open files, commits and prints a summary. A failed write or\n"
            "finish is retried from the committed offsets (up to 10 times in a row with\n"
            "backoff, then exit 1).\n"
            "\n"
            "  --data-dir DIR        data directory (default %s); the log is DIR/log\n"
            "  --lake DIR            lake root folder (default DIR/lake)\n"
            "  --roll-bytes SIZE     finish a file past SIZE bytes (k/M/G; default 64M)\n"
            "  --roll-age DURATION   finish a file this long after it opened (ms/s/m/h;\n"
            "                        default 60s)\n"
            "  --metrics-listen HOST:PORT  serve GET /metrics (Prometheus text), /healthz and\n"
            "                        /readyz (503 while the log is not open or a failed lake\n"
            "                        write is retried) on HOST:PORT (port 0 = any free; the\n"
            "                        address goes to DIR/workers/lake-<pid>/listen)\n"
            "  --metrics-tls-cert FILE, --metrics-tls-key FILE  serve the metrics endpoint over\n"
            "                     HTTPS (TLS 1.2+) with this PEM certificate chain and key\n"
            "                     (both or neither; SIGHUP re-reads them)\n"
            "  --publish             do not consume: publish the files the lake group has\n"
            "                        committed but a killed worker left pending (S3), then\n"
            "                        exit\n"
            "  --close-grace DURATION  a day closes no earlier than its end (UTC midnight)\n"
            "                        plus this, for clock skew between serve nodes and\n"
            "                        producers still retrying (default 5m)\n"
            "  --close-day DATE      do not consume: close the ingest day DATE -- once, in every\n"
            "                        partition of pin, geo and user, the lake group has\n"
            "                        committed every record of DATE (committed up to the high\n"
            "                        watermark, or the next record is from a later day) and the\n"
            "                        clock is past DATE's end plus the grace: publish what the\n"
            "                        commits cover (S3), write topic=<t>/dt=DATE/_SUCCESS, exit 0.\n"
            "                        Running workers write the markers too; this is the daily\n"
            "                        DAG's first task\n"
            "  --wait DURATION       with --close-day: wait up to this long for the day to close\n"
            "                        (checked every second; default 0: check once)\n"
            PP_CLI_LOG_HELP PP_CLI_LAKE_HELP
            "  -h, --help            this help\n"
            "\n"
            "exit status: 0 stopped cleanly (--close-day: the day is closed), 1 failure, 2 usage\n"
            "error, 3 --close-day: the day is not closed (yet) within --wait; the reason names\n"
            "the partition that lags or when the day can close\n",
            PP_DEFAULT_DATA_DIR);
}

/* What /readyz looks at, written by the main thread, read by the endpoint's. */
struct health {
    struct pp_log *log;
    struct pp_lake_stats *stats;
    int phase; /* 0 waiting for the log, 1 consuming, 2 stopped */
};

static int ready(void *arg, char *why, size_t why_size)
{
    struct health *h = arg;
    int phase = __atomic_load_n(&h->phase, __ATOMIC_ACQUIRE);
    if (phase != 1) {
        snprintf(why, why_size, phase ? "the lake consumer stopped" : "waiting for the log");
        return 0;
    }
    if (!pp_worker_log_ready(h->log, why, why_size))
        return 0;
    int64_t failing = h->stats->failing;
    if (failing > 0 || !h->stats->running) {
        snprintf(why, why_size, "lake: %" PRId64 " failures in a row, consumer %s", failing,
                 h->stats->running ? "retrying" : "stopped");
        return 0;
    }
    return 1;
}

/* Open the log read-only and the lake, for the one-shot jobs (--close-day, --publish).
 * @returns 0 with both open, -1 when an embedded log was never created at log_dir (nothing
 * printed), else the exit status with the failure printed. */
static int open_log_lake(const char *cmd, const char *log_dir, const struct pp_log_conf *logconf,
                         const struct pp_lake_conf *lconf, struct pp_log **log,
                         struct pp_lake **lake)
{
    char err[512] = "";
    struct pp_log_conf conf = *logconf;
    conf.dir = log_dir;
    conf.readonly = 1;
    struct stat st;
    if (conf.backend == PP_LOG_EMBEDDED && stat(log_dir, &st) && errno == ENOENT)
        return -1;
    if (!(*log = pp_log_open(&conf, err, sizeof(err))))
        return pp_cli_fail(cmd, 1, "log %s: %s", log_dir, err);
    if (!(*lake = pp_lake_open(lconf, err, sizeof(err)))) {
        pp_log_close(*log);
        return pp_cli_fail(cmd, 1, "lake %s: %s", lconf->root, err);
    }
    return 0;
}

/* --close-day: close DATE in the lake, waiting up to wait_ms. @returns the exit status. */
static int close_day(const char *cmd, const char *log_dir, const struct pp_log_conf *logconf,
                     const struct pp_lake_conf *lconf, const char *date, int64_t wait_ms)
{
    char why[512] = "";
    struct pp_log *log;
    struct pp_lake *lake;
    int rc = open_log_lake(cmd, log_dir, logconf, lconf, &log, &lake);
    if (rc < 0)
        return pp_cli_fail(cmd, 1, "no log at %s: nothing was ingested there (check --data-dir)",
                           log_dir);
    if (rc)
        return rc;
    int64_t grace = lconf->close_grace_ms >= 0 ? lconf->close_grace_ms : PP_LAKE_CLOSE_GRACE_MS;
    int64_t t0 = pp_mono_us();
    int marked;
    pp_cli_signals();
    for (;;) {
        rc = pp_lake_close_day(log, lake, date, pp_now_ms(), grace, &marked, why, sizeof(why));
        if (rc || pp_cli_stop || (pp_mono_us() - t0) / 1000 >= wait_ms)
            break;
        PP_DEBUG("lake", "day %s not closed yet: %s", date, why);
        struct timespec nap = {1, 0}; /* a signal cuts it short */
        nanosleep(&nap, NULL);
    }
    pp_lake_close(lake);
    pp_log_close(log);
    if (rc < 0)
        return pp_cli_fail(cmd, rc == PP_EINVAL ? 2 : 1, "closing %s failed: %s", date, why);
    if (rc == 0)
        return pp_cli_fail(cmd, 3, "%s is not closed%s: %s", date,
                           wait_ms > 0 ? " within --wait" : "", why);
    printf("lake: closed=%s markers_written=%d\n", date, marked);
    return 0;
}

/* --publish: publish what the lake group committed but a killed worker left pending. */
static int publish_committed(const char *cmd, const char *log_dir,
                             const struct pp_log_conf *logconf, const struct pp_lake_conf *lconf)
{
    struct pp_log *log;
    struct pp_lake *lake;
    int rc = open_log_lake(cmd, log_dir, logconf, lconf, &log, &lake);
    if (rc < 0) {
        printf("lake: published=0 (no log yet)\n"); /* a fresh install: nothing committed */
        return 0;
    }
    if (rc)
        return rc;
    rc = pp_lake_publish_committed(log, lake);
    pp_lake_close(lake);
    pp_log_close(log);
    if (rc < 0)
        return pp_cli_fail(cmd, 1, "publishing committed files failed: %s", pp_err_str(rc));
    printf("lake: published=%d\n", rc);
    return 0;
}

int cmd_lake(int argc, char **argv)
{
    static const struct option opts[] = {{"data-dir", required_argument, NULL, 'd'},
                                         {"lake", required_argument, NULL, 'L'},
                                         {"roll-bytes", required_argument, NULL, 'b'},
                                         {"roll-age", required_argument, NULL, 'a'},
                                         {"metrics-listen", required_argument, NULL, 'M'},
                                         {"publish", no_argument, NULL, 'P'},
                                         {"close-day", required_argument, NULL, 'D'},
                                         {"wait", required_argument, NULL, 'W'},
                                         {"close-grace", required_argument, NULL, 'G'},
                                         {"metrics-tls-cert", required_argument, NULL, 'C'},
                                         {"metrics-tls-key", required_argument, NULL, 'K'},
                                         {"help", no_argument, NULL, 'h'},
                                         PP_CLI_LOG_OPTIONS,
                                         PP_CLI_LAKE_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    const char *data_dir = PP_DEFAULT_DATA_DIR, *lake_dir = NULL, *metrics_listen = NULL;
    char host[256];
    int port, publish = 0;
    const char *close_date = NULL;
    int64_t wait_ms = 0;
    struct pp_worker_tls tls = {NULL, NULL};
    struct pp_lake_conf lconf;
    struct pp_log_conf logconf;
    pp_lake_conf_defaults(&lconf);
    pp_log_conf_defaults(&logconf);
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hX:", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data_dir = optarg;
            break;
        case 'L':
            lake_dir = optarg;
            break;
        case 'b':
            if (pp_parse_size(optarg, &lconf.roll_bytes) || lconf.roll_bytes == 0)
                return pp_cli_fail(argv[0], 2, "--roll-bytes wants a size > 0, got '%s'", optarg);
            break;
        case 'a':
            if (pp_parse_duration_ms(optarg, &lconf.roll_ms) || lconf.roll_ms <= 0)
                return pp_cli_fail(argv[0], 2, "--roll-age wants a duration > 0, got '%s'", optarg);
            break;
        case 'M':
            if (pp_parse_hostport(optarg, host, sizeof(host), &port))
                return pp_cli_fail(argv[0], 2, "--metrics-listen wants HOST:PORT, got '%s'",
                                   optarg);
            metrics_listen = optarg;
            break;
        case 'P':
            publish = 1;
            break;
        case 'D': {
            int64_t ms;
            if (pp_date_parse(optarg, &ms) || strlen(optarg) != 10)
                return pp_cli_fail(argv[0], 2, "--close-day wants a date YYYY-MM-DD, got '%s'",
                                   optarg);
            close_date = optarg;
            break;
        }
        case 'W':
            if (pp_parse_duration_ms(optarg, &wait_ms) || wait_ms < 0)
                return pp_cli_fail(argv[0], 2, "--wait wants a duration (e.g. 10m), got '%s'",
                                   optarg);
            break;
        case 'G':
            if (pp_parse_duration_ms(optarg, &lconf.close_grace_ms) || lconf.close_grace_ms < 0)
                return pp_cli_fail(argv[0], 2, "--close-grace wants a duration (e.g. 5m), got '%s'",
                                   optarg);
            break;
        case 'C':
            tls.cert = optarg;
            break;
        case 'K':
            tls.key = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default: {
            int rc = pp_cli_backend_opt(argv[0], c, optarg, argv[optind - 1], &logconf, &lconf);
            if (rc)
                return rc;
            break;
        }
        }
    }
    if (optind < argc)
        return pp_cli_fail(argv[0], 2, "unexpected argument '%s' (see pinpipe %s --help)",
                           argv[optind], argv[0]);
    if (pp_cli_backend_check(argv[0], &logconf) ||
        pp_worker_tls_check(argv[0], metrics_listen, &tls))
        return 2;

    char log_dir[4096], lake_default[4096], err[512] = "";
    pp_cli_path(data_dir, "log", log_dir, sizeof(log_dir));
    pp_cli_path(data_dir, "lake", lake_default, sizeof(lake_default));
    lconf.root = lake_dir ? lake_dir : lake_default;

    if (publish && close_date)
        return pp_cli_fail(argv[0], 2, "--publish and --close-day are two jobs: give one");
    if (publish) /* one pass, no waiting */
        return publish_committed(argv[0], log_dir, &logconf, &lconf);
    if (close_date)
        return close_day(argv[0], log_dir, &logconf, &lconf, close_date, wait_ms);
    pp_cli_signals();
    static struct pp_lake_stats stats; /* static: read by the metrics thread until the end */
    struct health health = {NULL, &stats, 0};
    struct pp_worker_http *mh = NULL;
    if (metrics_listen &&
        !(mh = pp_worker_http_start("lake", data_dir, metrics_listen, &tls, pp_collect_lake,
                                    &stats, ready,
                                    &health, err, sizeof(err))))
        return pp_cli_fail(argv[0], 1, "%s", err);
    struct pp_log *log = pp_cli_open_log_wait("lake", log_dir, &logconf, err, sizeof(err));
    struct pp_lake *lake = log ? pp_lake_open(&lconf, err, sizeof(err)) : NULL;
    if (!lake) {
        pp_worker_http_stop(mh);
        pp_log_close(log);
        if (!log && pp_cli_stop)
            return 0;
        return log ? pp_cli_fail(argv[0], 1, "lake %s: %s", lconf.root, err)
                   : pp_cli_fail(argv[0], 1, "log %s: %s", log_dir, err);
    }
    pp_worker_http_add_log(mh, log);
    health.log = log;
    __atomic_store_n(&health.phase, 1, __ATOMIC_RELEASE);

    PP_INFO("lake", "started log=%s lake=%s roll_bytes=%" PRIu64 " roll_ms=%" PRId64, log_dir,
            lconf.root, lconf.roll_bytes, lconf.roll_ms);
    int64_t t0 = pp_mono_us();
    int rc = pp_lake_run_stats(log, lake, &pp_cli_stop, &stats);
    double secs = (double)(pp_mono_us() - t0) / 1e6;
    __atomic_store_n(&health.phase, 2, __ATOMIC_RELEASE);
    pp_worker_http_stop(mh);
    pp_lake_close(lake);
    pp_log_close(log);
    printf("lake: records=%" PRId64 " files=%" PRId64 " bytes=%" PRId64 " seconds=%.1f%s%s\n",
           stats.records, stats.files, stats.bytes, secs, rc ? " error=" : "",
           rc ? pp_err_str(rc) : "");
    return rc ? 1 : 0;
}
