/* cmd_serve.c: `pinpipe serve`: the HTTP ingestion server (three API shapes) over the log,
 * and the dashboard at / (src/dash). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pp_auth.h"
#include "pp_cli.h"
#include "pp_cli_tls.h"
#include "pp_dash.h"
#include "pp_err.h"
#include "pp_http.h"
#include "pp_util.h"
#include "pp_workers.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pinpipe serve [--listen HOST:PORT] [--data-dir DIR] [--fsync POLICY]\n"
            "                     [--partitions N] [--max-body SIZE] [--threads N]\n"
            "                     [--segment-bytes SIZE] [--retention-bytes SIZE]\n"
            "                     [--retention DURATION] [--max-pending SIZE]\n"
            "                     [--rejects-topic NAME] [--warehouse SPEC] [--no-dashboard]\n"
            "                     [--api-keys FILE [--key-rate R[:B]]] [--insecure]\n"
            "                     [--tls-cert FILE --tls-key FILE]\n"
            "\n"
            "HTTP ingestion server writing into the log (DIR/log): FastAPI style\n"
            "(POST /pin/ /geo/ /user/), Kafka REST Proxy v2 (POST /topics/{topic}) and Kinesis\n"
            "through API Gateway (PUT /streams/{stream}/record[s]); GET /healthz. A request is\n"
            "acknowledged once its records are durable under the fsync policy. SIGINT/SIGTERM\n"
            "stop gracefully (new requests get 503, in-flight ones are answered).\n"
            "GET / is a dashboard: live insights, throughput and lag per stage, DAG runs,\n"
            "refreshed every 2 s (its JSON: /api/insights, /api/stats, /api/runs).\n"
            "\n"
            "  --listen HOST:PORT      address to serve on (default %s; port 0 = any free)\n"
            "  --data-dir DIR          data directory (default %s)\n"
            "  --fsync POLICY          always | interval:<ms> | never (default interval:5)\n"
            "  --partitions N          partitions of the topics it creates (default 2)\n"
            "  --max-body SIZE         largest request body, at most 256M (default 8M); 413\n"
            "                          past it\n"
            "  --threads N             HTTP worker threads (default: number of cores)\n"
            "  --segment-bytes SIZE    roll log segments past SIZE (default 64M)\n"
            "  --retention-bytes SIZE  keep at most SIZE per partition (default unlimited)\n"
            "  --retention DURATION    delete segments older than DURATION, e.g. 7d\n"
            "  --max-pending SIZE      back-pressure: past SIZE of appended but not yet durable\n"
            "                          records, requests get 503 + Retry-After (default 64M)\n"
            "  --rejects-topic NAME    dead-letter topic: each record or request refused with a\n"
            "                          4xx is appended there as JSON (default " PP_HTTP_REJECTS_TOPIC "; '' = off)\n"
            "  --warehouse SPEC        the warehouse the dashboard reads (never writes): SQLite\n"
            "                          file or postgresql:// URI (default DIR/warehouse.db)\n"
            "  --no-dashboard          do not serve the dashboard (/ and /api/* get 404)\n"
            PP_CLI_ACCESS_HELP
            PP_CLI_HTTP_HELP PP_CLI_LOG_HELP PP_CLI_CONNECT_HELP
            "  -h, --help              this help\n"
            "\n"
            "exit status: 0 stopped cleanly, 1 failure, 2 usage error\n",
            PP_DEFAULT_LISTEN, PP_DEFAULT_DATA_DIR);
}

static int parse_size_opt(const char *cmd, const char *name, const char *s, uint64_t min,
                          uint64_t *v)
{
    if (pp_parse_size(s, v) || *v < min)
        return pp_cli_fail(cmd, 2, "--%s wants a size >= %llu (e.g. 8M), got '%s'", name,
                           (unsigned long long)min, s);
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"listen", required_argument, NULL, 'L'},
                                         {"data-dir", required_argument, NULL, 'd'},
                                         {"fsync", required_argument, NULL, 'f'},
                                         {"partitions", required_argument, NULL, 'p'},
                                         {"max-body", required_argument, NULL, 'm'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"segment-bytes", required_argument, NULL, 's'},
                                         {"retention-bytes", required_argument, NULL, 'r'},
                                         {"retention", required_argument, NULL, 'R'},
                                         {"retention-age", required_argument, NULL, 'R'},
                                         {"max-pending", required_argument, NULL, 'P'},
                                         {"rejects-topic", required_argument, NULL, 'J'},
                                         {"warehouse", required_argument, NULL, 'w'},
                                         {"no-dashboard", no_argument, NULL, 'D'},
                                         {"help", no_argument, NULL, 'h'},
                                         PP_CLI_LOG_OPTIONS,
                                         PP_CLI_HTTP_OPTIONS,
                                         PP_CLI_ACCESS_OPTIONS,
                                         PP_CLI_CONNECT_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    const char *data_dir = PP_DEFAULT_DATA_DIR, *wh_spec = NULL;
    struct pp_cli_access acc = {0}; /* API keys and TLS */
    int dashboard = 1;
    struct pp_log_conf lconf;
    struct pp_http_conf hconf;
    pp_log_conf_defaults(&lconf);
    pp_http_conf_defaults(&hconf);
    hconf.listen = PP_DEFAULT_LISTEN;
    pp_cli_parse_fsync("interval:5", &lconf);
    int64_t v;
    uint64_t size;
    char host[256];
    int c, port;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hX:", opts, NULL)) != -1) {
        switch (c) {
        case 'L':
            if (pp_parse_hostport(optarg, host, sizeof(host), &port))
                return pp_cli_fail(argv[0], 2, "--listen wants HOST:PORT, got '%s'", optarg);
            hconf.listen = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 'f':
            if (pp_cli_parse_fsync(optarg, &lconf))
                return pp_cli_fail(argv[0], 2, "--fsync wants always|interval:<ms>|never, got '%s'",
                                   optarg);
            break;
        case 'p':
            if (pp_parse_i64(optarg, 1, 1024, &v))
                return pp_cli_fail(argv[0], 2, "--partitions wants 1..1024, got '%s'", optarg);
            lconf.partitions = (int)v;
            break;
        case 'm':
            if (parse_size_opt(argv[0], "max-body", optarg, 1, &size))
                return 2;
            if (size > PP_CLI_MAX_BODY_MAX)
                return pp_cli_fail(argv[0], 2, "--max-body wants at most 256M, got '%s'", optarg);
            hconf.max_body = (size_t)size;
            break;
        case 't':
            if (pp_parse_i64(optarg, 1, 1024, &v))
                return pp_cli_fail(argv[0], 2, "--threads wants 1..1024, got '%s'", optarg);
            hconf.threads = (int)v;
            break;
        case 's':
            if (parse_size_opt(argv[0], "segment-bytes", optarg, 4096, &lconf.segment_bytes))
                return 2;
            break;
        case 'r':
            if (parse_size_opt(argv[0], "retention-bytes", optarg, 0, &lconf.retention_bytes))
                return 2;
            break;
        case 'R':
            if (pp_parse_duration_ms(optarg, &v) || v < 0)
                return pp_cli_fail(argv[0], 2, "--retention wants a duration (e.g. 7d), got '%s'",
                                   optarg);
            lconf.retention_ms = v;
            break;
        case 'P':
            if (parse_size_opt(argv[0], "max-pending", optarg, 1, &lconf.max_pending_bytes))
                return 2;
            break;
        case 'J':
            hconf.rejects_topic = optarg;
            break;
        case 'w':
            wh_spec = optarg;
            break;
        case 'D':
            dashboard = 0;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default: {
            if (!pp_cli_access_opt(c, optarg, &acc))
                break;
            int rc = pp_cli_http_opt(argv[0], c, optarg, &hconf);
            if (rc >= 0) {
                if (rc)
                    return rc;
                break;
            }
            rc = pp_cli_backend_opt(argv[0], c, optarg, argv[optind - 1], &lconf, NULL);
            if (rc)
                return rc;
            break;
        }
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    if (pp_cli_backend_check(argv[0], &lconf) ||
        pp_cli_tls_check(argv[0], "tls", acc.tls_cert, acc.tls_key))
        return 2;
    int arc = pp_cli_auth_open(argv[0], acc.keys, acc.key_rate, hconf.listen, acc.insecure,
                               &hconf.auth);
    if (arc)
        return arc;

    char log_dir[4096], err[512] = "";
    struct pp_cli_tls *tls = NULL;
    if (acc.tls_cert &&
        !(tls = pp_cli_tls_start("serve", acc.tls_cert, acc.tls_key, err, sizeof(err)))) {
        pp_auth_destroy(hconf.auth);
        return pp_cli_fail(argv[0], 1, "%s", err);
    }
    hconf.tls = pp_cli_tls_get(tls);
    pp_cli_path(data_dir, "log", log_dir, sizeof(log_dir));
    lconf.dir = log_dir;
    struct pp_log *log = pp_log_open(&lconf, err, sizeof(err));
    if (!log) {
        pp_cli_tls_stop(tls);
        pp_auth_destroy(hconf.auth);
        return pp_cli_log_fail(argv[0], &lconf, log_dir, err);
    }
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        int n = pp_log_partitions(log, pp_kind_name((enum pp_kind)k), 1);
        if (n < 0) {
            pp_log_close(log);
            pp_cli_tls_stop(tls);
            pp_auth_destroy(hconf.auth);
            return pp_cli_fail(argv[0], 1, "create topic %s: %s", pp_kind_name((enum pp_kind)k),
                               pp_err_str(n));
        }
    }
    pp_cli_signals();
    pp_cli_hup_install(); /* SIGHUP reloads TLS files and API keys (if any), never stops serve */
    struct pp_metrics *metrics = pp_metrics_new();
    if (metrics && !pp_metrics_add(metrics, pp_cli_log_collect, log) &&
        !pp_metrics_add(metrics, pp_collect_log_latency, log))
        hconf.metrics = metrics;
    struct pp_dash *dash = NULL;
    if (dashboard) {
        char wh_default[4096];
        pp_cli_path(data_dir, "warehouse.db", wh_default, sizeof(wh_default));
        struct pp_dash_conf dconf = {.warehouse = wh_spec ? wh_spec : wh_default,
                                     .log = log,
                                     .metrics = hconf.metrics};
        if (!(dash = pp_dash_new(&dconf, err, sizeof(err))))
            PP_WARN("serve", "no dashboard: %s", err);
        hconf.get = dash ? pp_dash_handle : NULL;
        hconf.get_arg = dash;
    }
    struct pp_http *http = pp_http_start(&hconf, log, err, sizeof(err));
    if (!http) {
        pp_log_close(log);
        pp_dash_destroy(dash);
        pp_metrics_destroy(metrics);
        pp_cli_tls_stop(tls);
        pp_auth_destroy(hconf.auth);
        return pp_cli_fail(argv[0], 1, "%s", err);
    }
    mkdir(data_dir, 0755); /* the log may live elsewhere (Kafka): DATA_DIR/listen still does */
    if (pp_cli_write_listen(data_dir, hconf.listen, pp_http_port(http)))
        PP_WARN("serve", "cannot write %s/listen", data_dir);
    if (pp_parse_hostport(hconf.listen, host, sizeof(host), &port))
        host[0] = '\0';
    int v6 = strchr(host, ':') != NULL;
    PP_INFO("serve", "serving on %s://%s%s%s:%d data-dir=%s dashboard=%s", pp_cli_tls_scheme(tls),
            v6 ? "[" : "", host[0] && strcmp(host, "*") ? host : "0.0.0.0", v6 ? "]" : "",
            pp_http_port(http), data_dir, dash ? "on" : "off");
    while (!pp_cli_stop) {
        usleep(50 * 1000);
        pp_cli_auth_poll(hconf.auth); /* SIGHUP: reload the API keys */
    }
    PP_INFO("serve", "stopping");
    pp_http_stop(http);
    pp_cli_tls_stop(tls); /* after the server: no handshake uses it any more */
    pp_dash_destroy(dash); /* after the server: no request uses it any more */
    if (metrics) {
        pp_metrics_remove(metrics, pp_cli_log_collect, log);
        pp_metrics_remove(metrics, pp_collect_log_latency, log);
    }
    pp_log_close(log);
    pp_metrics_destroy(metrics);
    pp_auth_destroy(hconf.auth);
    PP_INFO("serve", "stopped");
    return 0;
}
