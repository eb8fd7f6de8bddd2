/* cmd_quality.c: `pinpipe quality --date D`: data-quality checks of one day of the lake:
 * counts per cleaning rule (values nulled per column), records the cleaning rejects,
 * duplicates (resends), and the stream vs batch reconciliation (ids of the lake's day missing
 * from the warehouse); stored in the warehouse (pp_quality) and failing past thresholds. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pp_clean.h"
#include "pp_cli.h"
#include "pp_err.h"
#include "pp_lake.h"
#include "pp_util.h"
#include "pp_wh.h"

#define QUALITY_MAX_METRICS (PP_KIND_COUNT * (PP_CLEAN_MAX_COLS + 8))

struct quality_topic {
    enum pp_kind kind;
    int64_t records, rejected, nulled[PP_CLEAN_MAX_COLS], nonnull_follower;
    int64_t *ids;
    size_t nids, capids;
    struct pp_row row;
};

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: pinpipe quality --date YYYY-MM-DD [options]\n\n"
        "Data-quality checks of one day of the lake, per topic: records, records the\n"
        "cleaning rules reject, duplicates (resent ids), values each rule turned to NULL per\n"
        "column (placeholders, blanks, unparseable follower counts), follower counts parsed,\n"
        "and ids of that day missing from the warehouse (stream vs batch reconciliation).\n"
        "The numbers are stored in the warehouse (pp_quality, keyed by the date) and printed.\n\n"
        "options:\n"
        "  --date YYYY-MM-DD        the lake's day (required)\n"
        "  --data-dir DIR           (default %s)\n"
        "  --lake DIR|s3://...      (default DIR/lake)\n"
        "  --warehouse SPEC         SQLite file or postgresql:// URI\n"
        "  --max-missing N          fail when more ids are missing from the warehouse\n"
        "                           (default 0)\n"
        "  --max-rejected N         fail when the cleaning rejects more records (default 0)\n"
        "  -h, --help               this help\n\n"
        "exit status: 0 checks passed, 1 a threshold was passed or a failure, 2 usage\n",
        PP_DEFAULT_DATA_DIR);
}

static int on_record(void *arg, const char *value, size_t vlen)
{
    struct quality_topic *q = arg;
    struct pp_verr err;
    q->records++;
    if (pp_clean_record(q->kind, value, vlen, &q->row, &err)) {
        q->rejected++;
        return 0;
    }
    for (int c = 0; c < q->row.ncols; c++)
        if (q->row.nulled & (1u << c))
            q->nulled[c]++;
    if (q->kind == PP_KIND_PIN && q->row.col[4].type != PP_VAL_NULL)
        q->nonnull_follower++; /* column 4 is follower_count (pp_clean_columns) */
    if (q->nids == q->capids) {
        size_t cap = q->capids ? q->capids * 2 : 1024;
        int64_t *ids = realloc(q->ids, cap * sizeof(*ids));
        if (!ids)
            return PP_ENOMEM;
        q->ids = ids;
        q->capids = cap;
    }
    q->ids[q->nids++] = q->row.id;
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static size_t unique(int64_t *ids, size_t n)
{
    qsort(ids, n, sizeof(*ids), cmp_id);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!m || ids[m - 1] != ids[i])
            ids[m++] = ids[i];
    return m;
}

static void add(struct pp_wh_metric *m, int *n, const char *topic, const char *metric, int64_t v)
{
    m[*n].topic = topic;
    m[*n].metric = metric;
    m[*n].value = v;
    (*n)++;
}

int cmd_quality(int argc, char **argv)
{
    static const struct option opts[] = {{"date", 1, 0, 'D'},        {"data-dir", 1, 0, 'd'},
                                         {"lake", 1, 0, 'l'},        {"warehouse", 1, 0, 'w'},
                                         {"max-missing", 1, 0, 'm'}, {"max-rejected", 1, 0, 'r'},
                                         {"help", 0, 0, 'h'},        {0, 0, 0, 0}};
    const char *date = NULL, *data_dir = PP_DEFAULT_DATA_DIR, *lake_dir = NULL, *wh_path = NULL;
    int64_t max_missing = 0, max_rejected = 0, ms;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'D':
            if (pp_date_parse(optarg, &ms))
                return pp_cli_fail("quality", 2, "--date wants YYYY-MM-DD, got '%s'", optarg);
            date = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 'l':
            lake_dir = optarg;
            break;
        case 'w':
            wh_path = optarg;
            break;
        case 'm':
        case 'r':
            if (pp_parse_i64(optarg, 0, INT64_MAX, c == 'm' ? &max_missing : &max_rejected))
                return pp_cli_fail("quality", 2, "thresholds are counts >= 0, got '%s'", optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return pp_cli_fail("quality", 2, "bad option '%s' (see pinpipe quality --help)",
                               argv[optind - 1]);
        }
    }
    if (optind < argc)
        return pp_cli_fail("quality", 2, "unexpected argument '%s'", argv[optind]);
    if (!date)
        return pp_cli_fail("quality", 2, "--date is required (see --help)");
    char lake_default[4200], wh_default[4200], err[512];
    pp_cli_path(data_dir, "lake", lake_default, sizeof(lake_default));
    pp_cli_path(data_dir, "warehouse.db", wh_default, sizeof(wh_default));
    struct pp_lake_conf lconf;
    pp_lake_conf_defaults(&lconf);
    lconf.root = lake_dir ? lake_dir : lake_default;
    struct pp_lake *lake = pp_lake_open(&lconf, err, sizeof(err));
    if (!lake)
        return pp_cli_fail("quality", 1, "lake %s: %s", lconf.root, err);
    struct pp_wh *wh = pp_wh_open(wh_path ? wh_path : wh_default, err, sizeof(err));
    if (!wh) {
        pp_lake_close(lake);
        return pp_cli_fail("quality", 1, "warehouse: %s", err);
    }
    static struct pp_wh_metric m[QUALITY_MAX_METRICS];
    static char names[QUALITY_MAX_METRICS][48];
    int nm = 0, status = 0;
    char why[256] = "";
    for (int k = 0; k < PP_KIND_COUNT && !status; k++) {
        struct quality_topic q = {.kind = (enum pp_kind)k};
        pp_row_init(&q.row);
        const char *topic = pp_kind_name(q.kind);
        long n = pp_lake_read_day(lake, topic, date, on_record, &q);
        if (n < 0 && n != PP_ENOENT) {
            status = pp_cli_fail("quality", 1, "lake topic=%s dt=%s: %s", topic, date,
                                 pp_err_str((int)n));
        } else {
            size_t distinct = unique(q.ids, q.nids);
            int64_t found = 0;
            int rc = distinct ? pp_wh_count_ids(wh, q.kind, q.ids, (int)distinct, &found) : 0;
            if (rc)
                status = pp_cli_fail("quality", 1, "warehouse: %s", pp_wh_errmsg(wh));
            int ncols;
            const char *const *cols = pp_clean_columns(q.kind, &ncols);
            add(m, &nm, topic, "records", q.records);
            add(m, &nm, topic, "rejected_by_cleaning", q.rejected);
            add(m, &nm, topic, "duplicates", q.records - q.rejected - (int64_t)distinct);
            add(m, &nm, topic, "missing_in_warehouse", (int64_t)distinct - found);
            for (int col = 0; col < ncols; col++) {
                snprintf(names[nm], sizeof(names[nm]), "null_%s", cols[col]);
                add(m, &nm, topic, names[nm], q.nulled[col]);
            }
            if (q.kind == PP_KIND_PIN)
                add(m, &nm, topic, "follower_count_parsed", q.nonnull_follower);
            if (!why[0] && (int64_t)distinct - found > max_missing)
                snprintf(why, sizeof(why),
                         "%s: %" PRId64 " ids of %s are missing from the "
                         "warehouse (max %" PRId64 ")",
                         topic, (int64_t)distinct - found, date, max_missing);
            if (!why[0] && q.rejected > max_rejected)
                snprintf(why, sizeof(why),
                         "%s: the cleaning rules rejected %" PRId64 " records (max %" PRId64 ")",
                         topic, q.rejected, max_rejected);
        }
        free(q.ids);
        pp_row_free(&q.row);
    }
    if (!status && pp_wh_quality_store(wh, date, m, nm))
        status = pp_cli_fail("quality", 1, "store: %s", pp_wh_errmsg(wh));
    if (!status) {
        printf("%-5s %-26s %10s\n", "topic", "metric", "value");
        for (int i = 0; i < nm; i++)
            printf("%-5s %-26s %10" PRId64 "\n", m[i].topic, m[i].metric, m[i].value);
        if (why[0])
            status = pp_cli_fail("quality", 1, "%s", why);
    }
    pp_wh_close(wh);
    pp_lake_close(lake);
    return status;
}
