/* cmd_insights.c: `pinpipe insights`: print the nine insights, live or a batch run's snapshot. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pp_cli.h"
#include "pp_err.h"
#include "pp_util.h"
#include "pp_wh.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pinpipe insights [--warehouse PATH | --data-dir DIR] [--format F]\n"
            "                        [--run-date YYYY-MM-DD]\n"
            "\n"
            "Print the nine insights (PRODUCT.md \"Insights\") computed now over the\n"
            "warehouse's current rows, or with --run-date the snapshot a `pinpipe batch`\n"
            "run stored for that date. Reads while the stream keeps writing.\n"
            "\n"
            "  --data-dir DIR       data directory (default %s)\n"
            "  --warehouse SPEC     SQLite file or postgresql:// URI (default DIR/warehouse.db)\n"
            "  --format F           table (default), json or csv\n"
            "                       json: {\"<insight>\": [{\"<column>\": value, ...}], ...}\n"
            "                       csv: per insight a \"# <name>\" line, a header, the rows\n"
            "  --run-date D         print the stored snapshot of batch run date D\n"
            PP_CLI_CONNECT_HELP
            "  -h, --help           this help\n"
            "\n"
            "exit status: 0 ok, 1 failure (no warehouse, no snapshot for D), 2 usage error\n",
            PP_DEFAULT_DATA_DIR);
}

/* "table" | "json" | "csv". @returns 0 or -1. */
static int parse_format(const char *s, enum pp_wh_format *format)
{
    if (!strcmp(s, "table"))
        *format = PP_WH_TABLE;
    else if (!strcmp(s, "json"))
        *format = PP_WH_JSON;
    else if (!strcmp(s, "csv"))
        *format = PP_WH_CSV;
    else
        return -1;
    return 0;
}

int cmd_insights(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'}, {"warehouse", required_argument, NULL, 'w'},
        {"format", required_argument, NULL, 'f'},   {"run-date", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},           PP_CLI_CONNECT_OPTIONS,
        {NULL, 0, NULL, 0}};
    const char *data_dir = PP_DEFAULT_DATA_DIR, *wh_path = NULL, *run_date = NULL;
    enum pp_wh_format format = PP_WH_TABLE;
    int64_t ms;
    int c, connect_ms = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data_dir = optarg;
            break;
        case 'w':
            wh_path = optarg;
            break;
        case 'f':
            if (parse_format(optarg, &format))
                return pp_cli_fail(argv[0], 2, "--format wants table, json or csv, got '%s'",
                                   optarg);
            break;
        case 'r':
            if (strlen(optarg) != 10 || pp_date_parse(optarg, &ms))
                return pp_cli_fail(argv[0], 2, "--run-date wants YYYY-MM-DD, got '%s'", optarg);
            run_date = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default: {
            int rc = pp_cli_connect_opt(argv[0], c, optarg, &connect_ms);
            if (rc >= 0) {
                if (rc)
                    return rc;
                break;
            }
            usage(stderr);
            return 2;
        }
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }

    char wh_default[4096], err[512] = "";
    pp_cli_path(data_dir, "warehouse.db", wh_default, sizeof(wh_default));
    if (!wh_path)
        wh_path = wh_default;
    struct stat st;
    if (!pp_wh_is_url(wh_path) && stat(wh_path, &st)) /* reading must not create one */
        return pp_cli_fail(argv[0], 1, "no warehouse at %s (see --warehouse, --data-dir)", wh_path);
    struct pp_wh *wh = pp_wh_open_timeout(wh_path, connect_ms, err, sizeof(err));
    if (!wh) {
        char red[512];
        return pp_cli_fail(argv[0], 1, "warehouse %s: %s", pp_wh_redact(wh_path, red, sizeof(red)),
                           err);
    }
    int rc = run_date ? pp_wh_insights_print_snapshot(wh, run_date, format, stdout)
                      : pp_wh_insights_print(wh, format, stdout);
    int status = 0;
    if (rc == PP_ENOENT)
        status = pp_cli_fail(argv[0], 1,
                             "no insights snapshot for run date %s in %s (run "
                             "`pinpipe batch --date %s` first)",
                             run_date, wh_path, run_date);
    else if (rc)
        status = pp_cli_fail(argv[0], 1, "%s: %s", pp_err_str(rc), pp_wh_errmsg(wh));
    pp_wh_close(wh);
    return status;
}
