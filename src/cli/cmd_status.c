/* cmd_status.c: `pinpipe status`: one screen on the pipeline: the log's topics and
 * watermarks, every consumer group's lag per partition, the warehouse's rows and the stream's
 * stored positions. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pp_cli.h"
#include "pp_err.h"
#include "pp_util.h"
#include "pp_wh.h"

#define MAX_TOPICS 64
#define MAX_GROUPS 64

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pinpipe status [--data-dir DIR] [--warehouse SPEC] [log options]\n\n"
            "One screen on the pipeline: the log's topics with their partitions and high\n"
            "watermarks, each consumer group's lag per partition, the warehouse's row counts and\n"
            "the stream's positions (its source of truth). Reads only; works while the\n"
            "pipeline runs.\n\n"
            "options:\n"
            "  --data-dir DIR     (default %s)\n"
            "  --warehouse SPEC   SQLite file or postgresql:// URI (default DIR/warehouse.db)\n"
            PP_CLI_LOG_HELP
            "  -h, --help         this help\n\n"
            "exit status: 0 ok, 1 the log cannot be opened, 2 usage error\n",
            PP_DEFAULT_DATA_DIR);
}

static void print_log(struct pp_log *log)
{
    const char *topics[MAX_TOPICS];
    char *groups[MAX_GROUPS];
    int nt = pp_log_topics(log, topics, MAX_TOPICS);
    printf("log\n  %-8s %-9s %12s %12s\n", "topic", "partition", "low", "high");
    for (int t = 0; t < nt; t++) {
        int np = pp_log_partitions(log, topics[t], 0);
        for (int p = 0; p < np; p++) {
            int64_t low, high;
            if (!pp_log_watermarks(log, topics[t], p, &low, &high))
                printf("  %-8s %-9d %12" PRId64 " %12" PRId64 "\n", topics[t], p, low, high);
        }
    }
    int ng = pp_log_groups(log, groups, MAX_GROUPS);
    printf("\nconsumer groups\n  %-10s %-8s %-9s %12s %10s\n", "group", "topic", "partition",
           "committed", "lag");
    for (int g = 0; g < ng; g++) {
        int64_t total = 0;
        for (int t = 0; t < nt; t++) {
            int np = pp_log_partitions(log, topics[t], 0);
            for (int p = 0; p < np; p++) {
                int64_t low, high, next;
                if (pp_log_watermarks(log, topics[t], p, &low, &high) ||
                    pp_log_committed(log, groups[g], topics[t], p, &next))
                    continue;
                int64_t lag = high > next ? high - next : 0;
                total += lag;
                printf("  %-10s %-8s %-9d %12" PRId64 " %10" PRId64 "\n", groups[g], topics[t],
                       p, next, lag);
            }
        }
        printf("  %-10s total lag %" PRId64 "\n", groups[g], total);
        free(groups[g]);
    }
    if (ng <= 0)
        printf("  (none yet)\n");
}

static void print_warehouse(const char *wh_path)
{
    char err[512], red[512];
    struct stat st;
    printf("\nwarehouse %s\n", pp_wh_redact(wh_path, red, sizeof(red)));
    if (!pp_wh_is_url(wh_path) && stat(wh_path, &st)) {
        printf("  (not created yet)\n");
        return;
    }
    struct pp_wh *wh = pp_wh_open(wh_path, err, sizeof(err));
    if (!wh) {
        printf("  unreachable: %s\n", err);
        return;
    }
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        int64_t n = 0;
        if (!pp_wh_count(wh, (enum pp_kind)k, &n))
            printf("  %-5s %10" PRId64 " rows\n", pp_kind_name((enum pp_kind)k), n);
    }
    pp_wh_close(wh);
}

int cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {{"data-dir", 1, 0, 'd'}, {"warehouse", 1, 0, 'w'},
                                         {"help", 0, 0, 'h'},     PP_CLI_LOG_OPTIONS,
                                         {0, 0, 0, 0}};
    const char *data_dir = PP_DEFAULT_DATA_DIR, *wh_path = NULL;
    struct pp_log_conf lconf;
    pp_log_conf_defaults(&lconf);
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hX:", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data_dir = optarg; break;
        case 'w': wh_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default: {
            int rc = pp_cli_backend_opt("status", c, optarg, argv[optind - 1], &lconf, NULL);
            if (rc)
                return rc;
            break;
        }
        }
    }
    if (optind < argc)
        return pp_cli_fail("status", 2, "unexpected argument '%s' (see --help)", argv[optind]);
    if (pp_cli_backend_check("status", &lconf))
        return 2;
    char log_dir[4096], wh_default[4096], err[512] = "";
    pp_cli_path(data_dir, "log", log_dir, sizeof(log_dir));
    pp_cli_path(data_dir, "warehouse.db", wh_default, sizeof(wh_default));
    lconf.dir = log_dir;
    lconf.readonly = 1;
    struct pp_log *log = pp_log_open(&lconf, err, sizeof(err));
    if (!log)
        return pp_cli_fail("status", 1, "log: %s", err);
    print_log(log);
    pp_log_close(log);
    print_warehouse(wh_path ? wh_path : wh_default);
    return 0;
}
