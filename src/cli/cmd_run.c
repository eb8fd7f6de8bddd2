/* cmd_run.c: `pinpipe run`: serve + stream + lake in one process (the embedded default). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pp_auth.h"
#include "pp_cli.h"
#include "pp_cli_tls.h"
#include "pp_err.h"
#include "pp_runner.h"
#include "pp_util.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pinpipe run [options]\n\n"
            "Run the whole embedded pipeline in one process: the HTTP ingestion API, the log,\n"
            "the stream consumer (clean -> warehouse) and the lake consumer (raw -> lake).\n"
            "Stops gracefully on SIGTERM/SIGINT: requests in flight are answered, lake files\n"
            "finished, nothing acknowledged is lost.\n\n"
            "options:\n"
            "  --listen HOST:PORT      address to serve on (default %s; port 0 = any free,\n"
            "                          the bound address is written to DATA_DIR/listen)\n"
            "  --data-dir DIR          where the log, lake and warehouse live (default %s)\n"
            "  --fsync POLICY          always | interval:<ms> | never (default interval:5)\n"
            "  --warehouse SPEC        SQLite file or postgresql:// URI\n"
            "                          (default DATA_DIR/warehouse.db)\n"
            "  --lake DIR              lake folder (default DATA_DIR/lake)\n"
            "  --partitions N          partitions per topic when created (default 2)\n"
            "  --max-body SIZE         largest request body (default 8M, at most 256M)\n"
            "  --threads N             HTTP threads (default: cores)\n"
            "  --segment-bytes SIZE    log segment size (default 64M)\n"
            "  --retention-bytes SIZE  keep at most this much log per partition (default: all)\n"
            "  --retention-age DUR     delete log segments older than this (e.g. 7d)\n"
            "  --roll-bytes SIZE       lake file size limit (default 64M)\n"
            "  --roll-age DUR          lake file age limit, also when idle (default 60s)\n"
            "  --close-grace DUR       a day closes (lake markers, the daily DAG) no earlier than\n"
            "                          its end (UTC midnight) plus this (default 5m)\n"
            "  --no-dashboard          no web dashboard at / (GET /api/... neither)\n"
            "  --no-schedule           do not run the daily DAG (day_closed -> load ->\n"
            "                          insights -> quality, @daily after midnight UTC) in a\n"
            "                          `pinpipe schedule --allow-empty` child process\n"
            PP_CLI_ACCESS_HELP PP_CLI_HTTP_HELP PP_CLI_LOG_HELP PP_CLI_LAKE_HELP
            PP_CLI_CONNECT_HELP
            "  --quiet | --verbose     less or more on stderr\n"
            "  -h, --help              this text\n",
            PP_DEFAULT_LISTEN, PP_DEFAULT_DATA_DIR);
}

enum { O_LISTEN = 256, O_DATA, O_FSYNC, O_WH, O_LAKE, O_PARTS, O_BODY, O_THREADS, O_SEG,
       O_RETB, O_RETA, O_ROLLB, O_ROLLA, O_QUIET, O_VERBOSE, O_NODASH, O_NOSCHED, O_GRACE };

static int no_schedule;
static const char *close_grace; /* --close-grace as given, for the scheduler child */
static struct pp_cli_access acc; /* API keys and TLS */

/* Parse run's options into conf. @returns 0, 2 on usage error, -1 when --help was printed. */
static int parse(int argc, char **argv, struct pp_runner_conf *conf)
{
    static const struct option opts[] = {
        {"listen", 1, 0, O_LISTEN},      {"data-dir", 1, 0, O_DATA},
        {"fsync", 1, 0, O_FSYNC},        {"warehouse", 1, 0, O_WH},
        {"lake", 1, 0, O_LAKE},          {"partitions", 1, 0, O_PARTS},
        {"max-body", 1, 0, O_BODY},      {"threads", 1, 0, O_THREADS},
        {"segment-bytes", 1, 0, O_SEG},  {"retention-bytes", 1, 0, O_RETB},
        {"retention-age", 1, 0, O_RETA}, {"roll-bytes", 1, 0, O_ROLLB},
        {"roll-age", 1, 0, O_ROLLA},     {"quiet", 0, 0, O_QUIET},
        {"verbose", 0, 0, O_VERBOSE},    {"help", 0, 0, 'h'},
        {"no-dashboard", 0, 0, O_NODASH}, {"no-schedule", 0, 0, O_NOSCHED},
        {"close-grace", 1, 0, O_GRACE},
        PP_CLI_LOG_OPTIONS,              PP_CLI_LAKE_OPTIONS,
        PP_CLI_HTTP_OPTIONS,             PP_CLI_ACCESS_OPTIONS,
        PP_CLI_CONNECT_OPTIONS,          {0, 0, 0, 0}};
    int c;
    int64_t n;
    uint64_t sz;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hX:", opts, NULL)) != -1) {
        switch (c) {
        case O_LISTEN: conf->http.listen = optarg; break;
        case O_DATA: conf->data_dir = optarg; break;
        case O_FSYNC:
            if (pp_cli_parse_fsync(optarg, &conf->log))
                return pp_cli_fail("run", 2, "bad --fsync '%s' (always|interval:<ms>|never)",
                                   optarg);
            break;
        case O_WH: conf->warehouse = optarg; break;
        case O_LAKE: conf->lake_dir = optarg; break;
        case O_PARTS:
            if (pp_parse_i64(optarg, 1, 1024, &n))
                return pp_cli_fail("run", 2, "bad --partitions '%s' (1..1024)", optarg);
            conf->log.partitions = (int)n;
            break;
        case O_BODY:
            if (pp_parse_size(optarg, &sz) || sz < 64 || sz > PP_CLI_MAX_BODY_MAX)
                return pp_cli_fail("run", 2, "bad --max-body '%s' (64..256M, e.g. 8M)", optarg);
            conf->http.max_body = sz;
            break;
        case O_THREADS:
            if (pp_parse_i64(optarg, 1, 256, &n))
                return pp_cli_fail("run", 2, "bad --threads '%s' (1..256)", optarg);
            conf->http.threads = (int)n;
            break;
        case O_SEG:
            if (pp_parse_size(optarg, &conf->log.segment_bytes) || conf->log.segment_bytes < 4096)
                return pp_cli_fail("run", 2, "bad --segment-bytes '%s' (>= 4K)", optarg);
            break;
        case O_RETB:
            if (pp_parse_size(optarg, &conf->log.retention_bytes))
                return pp_cli_fail("run", 2, "bad --retention-bytes '%s'", optarg);
            break;
        case O_RETA:
            if (pp_parse_duration_ms(optarg, &conf->log.retention_ms))
                return pp_cli_fail("run", 2, "bad --retention-age '%s' (e.g. 7d)", optarg);
            break;
        case O_ROLLB:
            if (pp_parse_size(optarg, &conf->lake.roll_bytes) || conf->lake.roll_bytes < 1)
                return pp_cli_fail("run", 2, "bad --roll-bytes '%s'", optarg);
            break;
        case O_ROLLA:
            if (pp_parse_duration_ms(optarg, &conf->lake.roll_ms) || conf->lake.roll_ms < 1)
                return pp_cli_fail("run", 2, "bad --roll-age '%s' (e.g. 60s)", optarg);
            break;
        case O_GRACE:
            if (pp_parse_duration_ms(optarg, &conf->lake.close_grace_ms) ||
                conf->lake.close_grace_ms < 0)
                return pp_cli_fail("run", 2, "bad --close-grace '%s' (e.g. 5m)", optarg);
            close_grace = optarg;
            break;
        case O_QUIET: pp_diag_set_level(PP_LVL_WARN); break;
        case O_VERBOSE: pp_diag_set_level(PP_LVL_DEBUG); break;
        case O_NODASH: conf->no_dashboard = 1; break;
        case O_NOSCHED: no_schedule = 1; break;
        case 'h': usage(stdout); return -1;
        default: {
            if (!pp_cli_access_opt(c, optarg, &acc))
                break;
            int rc = pp_cli_http_opt("run", c, optarg, &conf->http);
            if (rc >= 0) {
                if (rc)
                    return rc;
                break;
            }
            rc = pp_cli_backend_opt("run", c, optarg, argv[optind - 1], &conf->log, &conf->lake);
            if (rc)
                return rc;
            break;
        }
        }
    }
    if (optind < argc)
        return pp_cli_fail("run", 2, "unexpected argument '%s' (see --help)", argv[optind]);
    if (pp_cli_tls_check("run", "tls", acc.tls_cert, acc.tls_key))
        return 2;
    return pp_cli_backend_check("run", &conf->log);
}

/* The daily DAG's scheduler as a child `pinpipe schedule` on the same data dir, warehouse and
 * lake (its tasks are pinpipe commands in their own processes anyway). It gets SIGTERM when
 * run stops, and when run dies (PR_SET_PDEATHSIG). @returns its pid, or -1. */
static pid_t scheduler_start(const struct pp_runner_conf *conf, const struct pp_runner *run)
{
    char exe[4096];
    if (pp_cli_self_exe(exe, sizeof(exe))) {
        PP_WARN("run", "scheduler not started: cannot find this executable: %s", strerror(errno));
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        PP_WARN("run", "scheduler not started: fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(0); /* run is already gone */
        char secs[16];
        snprintf(secs, sizeof(secs), "%d", (conf->log.connect_timeout_ms + 999) / 1000);
        char *args[] = {exe,           "schedule", "--data-dir", (char *)conf->data_dir,
                        "--warehouse", (char *)run->wh_path,    "--lake",
                        (char *)run->lake_path, "--allow-empty", NULL, NULL, NULL, NULL, NULL};
        int n = 9;
        if (conf->log.connect_timeout_ms) {
            args[n++] = "--connect-timeout";
            args[n++] = secs;
        }
        if (close_grace) {
            args[n++] = "--close-grace";
            args[n++] = (char *)close_grace;
        }
        execv(exe, args);
        _exit(127);
    }
    PP_INFO("run", "scheduler started pid=%d dag=pinpipe_daily (pinpipe dag history shows its runs)",
            (int)pid);
    return pid;
}

/* SIGTERM the scheduler and reap it (a task in flight is stopped by it). */
static void scheduler_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    int status;
    for (int i = 0; i < 200; i++) { /* up to 10 s */
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return;
        usleep(50 * 1000);
    }
    PP_WARN("run", "scheduler pid=%d did not stop in 10 s: killed", (int)pid);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

int cmd_run(int argc, char **argv)
{
    struct pp_runner_conf conf;
    pp_runner_conf_defaults(&conf);
    int rc = parse(argc, argv, &conf);
    if (rc)
        return rc < 0 ? 0 : rc;
    if ((rc = pp_cli_auth_open("run", acc.keys, acc.key_rate, conf.http.listen, acc.insecure,
                               &conf.http.auth)))
        return rc;
    pp_cli_signals();
    pp_cli_hup_install(); /* SIGHUP reloads TLS files and API keys (if any), never stops run */
    static struct pp_runner run;
    char err[512] = "";
    struct pp_cli_tls *tls = NULL;
    if (acc.tls_cert &&
        !(tls = pp_cli_tls_start("run", acc.tls_cert, acc.tls_key, err, sizeof(err)))) {
        pp_auth_destroy(conf.http.auth);
        return pp_cli_fail("run", 1, "%s", err);
    }
    conf.http.tls = pp_cli_tls_get(tls);
    if (pp_runner_start(&run, &conf, err, sizeof(err))) {
        pp_cli_tls_stop(tls);
        pp_auth_destroy(conf.http.auth);
        return pp_cli_fail("run", 1, "%s", err);
    }
    char redacted[512];
    PP_INFO("run", "serving on %s://%s:%d data-dir=%s warehouse=%s lake=%s",
            pp_cli_tls_scheme(tls),
            strncmp(conf.http.listen, "0.0.0.0", 7) ? "127.0.0.1" : "0.0.0.0",
            pp_http_port(run.http), conf.data_dir,
            pp_wh_redact(run.wh_path, redacted, sizeof(redacted)), run.lake_path);
    pid_t sched = -1;
    if (!no_schedule && conf.log.backend == PP_LOG_EMBEDDED)
        sched = scheduler_start(&conf, &run);
    else if (!no_schedule)
        PP_INFO("run", "scheduler not started: with --log kafka run `pinpipe schedule` where "
                        "the lake and warehouse are");
    else
        PP_INFO("run", "scheduler not started (--no-schedule)");
    while (!pp_cli_stop && run.stream_rc >= 0 && run.lake_rc >= 0) {
        usleep(50 * 1000);
        pp_cli_auth_poll(conf.http.auth); /* SIGHUP: reload the API keys */
        int status;
        if (sched > 0 && waitpid(sched, &status, WNOHANG) == sched) {
            PP_WARN("run", "scheduler exited (status %d); the daily DAG no longer runs here",
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
            sched = -1;
        }
    }
    int failed = run.stream_rc < 0 || run.lake_rc < 0;
    PP_INFO("run", "stopping");
    scheduler_stop(sched);
    pp_runner_stop(&run);
    pp_cli_tls_stop(tls); /* after the server: no handshake uses it any more */
    pp_auth_destroy(conf.http.auth);
    PP_INFO("run",
            "stopped stream_records=%lld lake_records=%lld ingest_to_warehouse_p50_ms=%.1f "
            "p99_ms=%.1f",
            (long long)run.stream_stats.records, (long long)run.lake_records,
            pp_stream_latency_ms(&run.stream_stats, 0.5),
            pp_stream_latency_ms(&run.stream_stats, 0.99));
    return failed ? pp_cli_fail("run", 1, "a consumer failed (see the log lines above)") : 0;
}
