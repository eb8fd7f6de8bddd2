/* cmd_batch.c: `pinpipe batch`: one day of the lake -> clean -> warehouse -> insights snapshot,
 * whole or one step at a time (--step load|insights, the DAG's tasks). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pp_cli.h"
#include "pp_clean.h"
#include "pp_err.h"
#include "pp_lake.h"
#include "pp_util.h"
#include "pp_wh.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pinpipe batch --date YYYY-MM-DD [--step load|insights|all]\n"
            "                     [--data-dir DIR] [--lake DIR] [--warehouse PATH]\n"
            "                     [--format F] [--quiet]\n"
            "\n"
            "The daily batch: read that day's finished lake files of topics pin, geo and user,\n"
            "clean every record, reconcile the rows into the warehouse (upserts by ind in one\n"
            "transaction: rerunning a day changes nothing), compute the nine insights, store\n"
            "them as the snapshot of that date (`pinpipe insights --run-date`) and print them.\n"
            "Records that cannot be cleaned become dead letters (pp_rejects, partition -1).\n"
            "A summary line goes to stderr: records per topic, rows inserted / updated /\n"
            "unchanged, rejected, seconds. Progress of the load goes to stderr (a bar on a\n"
            "terminal, a line every 5 s otherwise; none with --quiet).\n"
            "\n"
            "  --date D           the lake day (dt=D, UTC ingest date) to process (required)\n"
            "  --step S           load: only read, clean and reconcile the day into the\n"
            "                     warehouse; insights: only compute, store (and print) the\n"
            "                     snapshot of the date from the warehouse as it is; all\n"
            "                     (default): load, then insights. The daily DAG runs load and\n"
            "                     insights as separate tasks (pinpipe dag show)\n"
            "  --data-dir DIR     data directory (default %s)\n"
            "  --lake DIR         lake root (default DIR/lake)\n"
            "  --warehouse SPEC   SQLite file or postgresql:// URI (default DIR/warehouse.db)\n"
            "  --format F         how to print the insights: table (default), json, csv\n"
            "  --allow-empty      a day without lake data loads 0 records (a warning), instead\n"
            "                     of failing (pinpipe run's scheduler: quiet days happen)\n"
            "  --quiet, -q        do not print the insights (they are still stored), no\n"
            "                     progress, only warnings on stderr (and the summary line)\n"
            PP_CLI_LAKE_HELP PP_CLI_CONNECT_HELP
            "  -h, --help         this help\n"
            "\n"
            "exit status: 0 ok, 1 failure (e.g. no lake data for the day), 2 usage error\n",
            PP_DEFAULT_DATA_DIR);
}

struct batch {
    struct pp_wh *wh;
    enum pp_kind kind;
    const char *topic;
    struct pp_row row;
    struct pp_verr verr;
    int64_t records[PP_KIND_COUNT];
    int64_t inserted, updated, unchanged, rejected;
    struct pp_progress prog; /* records read so far, on stderr */
    int allow_empty;         /* a topic without lake data for the day is 0 records, not an error */
};

/* Dead letters of the batch path have no log offset: key them by a hash of the raw record
 * (64-bit FNV-1a, top bit cleared), so a rerun of the day stores each bad record once. */
static int64_t value_hash(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return (int64_t)(h >> 1);
}

static void progress(struct batch *b)
{
    char detail[64];
    snprintf(detail, sizeof(detail), "topic %s (%d/%d)", b->topic, (int)b->kind + 1,
             PP_KIND_COUNT);
    pp_progress_update(&b->prog, pp_mono_us(),
                       b->records[PP_KIND_PIN] + b->records[PP_KIND_GEO] + b->records[PP_KIND_USER],
                       detail);
}

static int on_record(void *arg, const char *value, size_t vlen)
{
    struct batch *b = arg;
    b->records[b->kind]++;
    int rc = pp_clean_record(b->kind, value, vlen, &b->row, &b->verr);
    if (rc == PP_EPARSE || rc == PP_EINVAL) {
        char why[300];
        if (rc == PP_EPARSE)
            snprintf(why, sizeof(why), "not JSON");
        else
            snprintf(why, sizeof(why), "%s%s%s (%s)", b->verr.field, b->verr.field[0] ? ": " : "",
                     b->verr.msg, b->verr.type);
        b->rejected++;
        return pp_wh_reject(b->wh, b->topic, -1, value_hash(value, vlen), why, value, vlen);
    }
    int status = 0;
    if (rc || (rc = pp_wh_upsert_status(b->wh, &b->row, &status)))
        return rc < 0 ? rc : PP_EIO;
    b->inserted += status == PP_WH_INSERTED;
    b->updated += status == PP_WH_UPDATED;
    b->unchanged += status == PP_WH_UNCHANGED;
    if ((b->records[b->kind] & 63) == 0)
        progress(b);
    return 0;
}

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

enum batch_step { STEP_ALL, STEP_LOAD, STEP_INSIGHTS };

struct batch_opts {
    const char *date, *data_dir, *lake_dir, *wh_path;
    struct pp_lake_conf lake; /* S3 settings from the command line */
    enum pp_wh_format format;
    enum batch_step step;
    int quiet;
    int allow_empty;
};

/* @returns -1 to go on, else the exit status (help printed or usage error). */
static int parse_args(int argc, char **argv, struct batch_opts *o)
{
    static const struct option opts[] = {
        {"date", required_argument, NULL, 'D'},   {"data-dir", required_argument, NULL, 'd'},
        {"lake", required_argument, NULL, 'l'},   {"warehouse", required_argument, NULL, 'w'},
        {"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'},
        {"allow-empty", no_argument, NULL, 'E'},
        {"help", no_argument, NULL, 'h'},         {"step", required_argument, NULL, 's'},
        PP_CLI_LAKE_OPTIONS,
        PP_CLI_CONNECT_OPTIONS,
        {NULL, 0, NULL, 0}};
    int64_t ms;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'D':
            if (strlen(optarg) != 10 || pp_date_parse(optarg, &ms))
                return pp_cli_fail(argv[0], 2, "--date wants YYYY-MM-DD, got '%s'", optarg);
            o->date = optarg;
            break;
        case 'd':
            o->data_dir = optarg;
            break;
        case 'l':
            o->lake_dir = optarg;
            break;
        case 'w':
            o->wh_path = optarg;
            break;
        case 'f':
            if (parse_format(optarg, &o->format))
                return pp_cli_fail(argv[0], 2, "--format wants table, json or csv, got '%s'",
                                   optarg);
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'E':
            o->allow_empty = 1;
            break;
        case 's':
            if (!strcmp(optarg, "all"))
                o->step = STEP_ALL;
            else if (!strcmp(optarg, "load"))
                o->step = STEP_LOAD;
            else if (!strcmp(optarg, "insights"))
                o->step = STEP_INSIGHTS;
            else
                return pp_cli_fail(argv[0], 2, "--step wants load, insights or all, got '%s'",
                                   optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default: {
            int rc = pp_cli_backend_opt(argv[0], c, optarg, argv[optind - 1], NULL, &o->lake);
            if (rc)
                return rc;
            break;
        }
        }
    }
    if (optind < argc || !o->date) {
        if (!o->date)
            fprintf(stderr, "pinpipe batch: --date is required\n");
        usage(stderr);
        return 2;
    }
    return -1;
}

/* Read, clean and upsert the three topics of the day in one transaction. */
static int reconcile(struct batch *b, struct pp_lake *lake, const char *lake_dir, const char *date)
{
    if (pp_wh_begin(b->wh))
        return pp_cli_fail("batch", 1, "warehouse: begin: %s", pp_wh_errmsg(b->wh));
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        b->kind = (enum pp_kind)k;
        b->topic = pp_kind_name(b->kind);
        PP_DEBUG("batch", "reading the lake topic=%s dt=%s", b->topic, date);
        progress(b);
        long n = pp_lake_read_day(lake, b->topic, date, on_record, b);
        if (n == PP_ENOENT && b->allow_empty) {
            PP_WARN("batch", "no lake data for topic=%s dt=%s under %s: 0 records", b->topic,
                    date, lake_dir);
            continue;
        }
        if (n < 0) {
            pp_wh_rollback(b->wh);
            pp_progress_stop(&b->prog);
            if (n == PP_ENOENT)
                return pp_cli_fail("batch", 1, "no lake data for topic=%s dt=%s under %s", b->topic,
                                   date, lake_dir);
            const char *lmsg = pp_lake_errmsg(lake);
            return pp_cli_fail("batch", 1, "topic=%s dt=%s: %s (%s)", b->topic, date,
                               pp_err_str((int)n), lmsg && *lmsg ? lmsg : pp_wh_errmsg(b->wh));
        }
    }
    pp_progress_stop(&b->prog); /* the summary line says it all */
    if (pp_wh_commit(b->wh)) {
        pp_wh_rollback(b->wh);
        return pp_cli_fail("batch", 1, "warehouse: commit: %s", pp_wh_errmsg(b->wh));
    }
    return 0;
}

/* --step load (or the first half of all): the day's lake files into the warehouse. */
static int load(struct batch *b, const struct batch_opts *o, const char *lake_dir)
{
    char err[512] = "";
    struct pp_lake_conf conf;
    pp_lake_conf_defaults(&conf);
    conf.root = lake_dir;
    conf.s3_endpoint = o->lake.s3_endpoint;
    conf.s3_region = o->lake.s3_region;
    conf.s3_path_style = o->lake.s3_path_style;
    conf.connect_timeout_ms = o->lake.connect_timeout_ms;
    struct pp_lake *lake = pp_lake_open(&conf, err, sizeof(err));
    if (!lake)
        return pp_cli_fail("batch", 1, "lake %s: %s", lake_dir, err);
    pp_cli_progress(&b->prog, "batch", "records", 0);
    if (o->quiet)
        b->prog.mode = PP_PROGRESS_OFF;
    int status = reconcile(b, lake, lake_dir, o->date);
    pp_lake_close(lake);
    return status;
}

/* --step insights (or the second half of all): snapshot of the date, printed unless quiet. */
static int insights(struct batch *b, const struct batch_opts *o)
{
    PP_DEBUG("batch", "insights snapshot run_date=%s", o->date);
    if (pp_wh_insights_snapshot(b->wh, o->date))
        return pp_cli_fail("batch", 1, "insights snapshot: %s", pp_wh_errmsg(b->wh));
    if (!o->quiet) {
        int rc = pp_wh_insights_print_snapshot(b->wh, o->date, o->format, stdout);
        if (rc)
            return pp_cli_fail("batch", 1, "print insights: %s", pp_err_str(rc));
    }
    return 0;
}

int cmd_batch(int argc, char **argv)
{
    struct batch_opts o = {.data_dir = PP_DEFAULT_DATA_DIR, .format = PP_WH_TABLE,
                           .quiet = pp_cli_verbosity < 0};
    int status = parse_args(argc, argv, &o);
    if (status >= 0)
        return status;
    status = 0;

    char lake_default[4096], wh_default[4096], err[512] = "";
    pp_cli_path(o.data_dir, "lake", lake_default, sizeof(lake_default));
    pp_cli_path(o.data_dir, "warehouse.db", wh_default, sizeof(wh_default));
    const char *lake_dir = o.lake_dir ? o.lake_dir : lake_default;
    const char *wh_path = o.wh_path ? o.wh_path : wh_default;
    /* a load needs the lake: say so before creating a warehouse file */
    if (o.step != STEP_INSIGHTS && !o.allow_empty && strncmp(lake_dir, "s3://", 5) &&
        access(lake_dir, F_OK))
        return pp_cli_fail(argv[0], 1, "no lake data for topic=pin dt=%s under %s", o.date,
                           lake_dir);

    int64_t t0 = pp_mono_us();
    struct batch b;
    memset(&b, 0, sizeof(b));
    b.allow_empty = o.allow_empty;
    b.wh = pp_wh_open_timeout(wh_path, o.lake.connect_timeout_ms, err, sizeof(err));
    if (!b.wh) {
        char red[512];
        return pp_cli_fail(argv[0], 1, "warehouse %s: %s", pp_wh_redact(wh_path, red, sizeof(red)),
                           err);
    }
    pp_row_init(&b.row);
    if (o.step != STEP_INSIGHTS)
        status = load(&b, &o, lake_dir);
    if (!status && o.step != STEP_LOAD)
        status = insights(&b, &o);
    if (!status && o.step != STEP_INSIGHTS)
        fprintf(stderr,
                "batch: dt=%s pin=%" PRId64 " geo=%" PRId64 " user=%" PRId64 " inserted=%" PRId64
                " updated=%" PRId64 " unchanged=%" PRId64 " rejected=%" PRId64 " seconds=%.2f\n",
                o.date, b.records[PP_KIND_PIN], b.records[PP_KIND_GEO], b.records[PP_KIND_USER],
                b.inserted, b.updated, b.unchanged, b.rejected, (double)(pp_mono_us() - t0) / 1e6);
    else if (!status)
        fprintf(stderr, "batch: dt=%s insights snapshot stored seconds=%.2f\n", o.date,
                (double)(pp_mono_us() - t0) / 1e6);
    pp_row_free(&b.row);
    pp_wh_close(b.wh);
    return status;
}
