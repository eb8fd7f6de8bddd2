/* cmd_quality.c: `pinpipe quality --date D`: data-quality checks of one day: counts per
 * cleaning rule (values nulled per column), records the cleaning rejects, duplicates (resends),
 * records serve rejected at ingest (the dead-letter topic), and the stream vs batch
 * reconciliation both ways (ids of the lake's day missing from the warehouse; ids the stream
 * delivered into the warehouse from the day's log records that the day's lake never saw);
 * stored in the warehouse (pp_quality) and failing past thresholds. */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pp_clean.h"
#include "pp_cli.h"
#include "pp_err.h"
#include "pp_json.h"
#include "pp_lake.h"
#include "pp_log.h"
#include "pp_util.h"
#include "pp_wh.h"

#define LAKE_GROUP "lake" /* the consumer group that writes the lake (src/stream/lake_run.c) */
#define READ_MAX 256      /* records per log read */
#define READ_WAIT_MS 2000 /* a read that brings nothing this long: the log stalls */
#define MAX_PARTITIONS 1024
#define NTOPICS (PP_KIND_COUNT + 1) /* dead letters per kind, plus kind null ("none") */

struct quality_opts {
    const char *date, *data_dir, *lake_dir, *wh_path, *rejects_topic;
    int64_t day_start_ms, day_end_ms;
    int64_t max_missing, max_rejected, max_reverse, max_ingest;
    struct pp_log_conf log;
    struct pp_lake_conf lake;
};

/* A growable set of ids: push, then sort_unique, then has. */
struct idset {
    int64_t *ids;
    size_t n, cap;
};

struct quality_topic {
    enum pp_kind kind;
    int64_t records, rejected, nulled[PP_CLEAN_MAX_COLS], nonnull_follower;
    struct idset lake;   /* ids of the day's lake records that clean */
    struct idset logday; /* ids of the day's log records the lake has consumed, that clean */
    int64_t log_records; /* the day's log records below the lake's committed offsets */
    int reverse;         /* 1: logday is complete, the reverse check is made */
    struct pp_row row;
    /* the day's _SUCCESS marker (pp_lake.h): its offsets; records in files at/after them
     * arrived after the day closed */
    int closed, nclose, in_late_file;
    int64_t close_off[MAX_PARTITIONS], late;
};

struct metric {
    char topic[8], metric[48];
    int64_t value;
};

struct metrics {
    struct metric *m;
    int n, cap;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pinpipe quality --date YYYY-MM-DD [options]\n\n"
            "Data-quality checks of one day, per topic (pin, geo, user), stored in the warehouse\n"
            "(pp_quality, keyed by the date) and printed as 'topic metric value' lines:\n"
            "  records, rejected_by_cleaning, duplicates   the day's lake records, those the\n"
            "                           cleaning rules reject, resent ids\n"
            "  null_<column>            values a rule turned to NULL (placeholders, blanks,\n"
            "                           unparseable follower counts); follower_count_parsed\n"
            "  missing_in_warehouse     ids of the day's lake missing from the warehouse\n"
            "  missing_in_lake          the reverse: ids in the warehouse that came through the\n"
            "                           log on that day (records whose ingest time falls on the\n"
            "                           UTC day, below the lake consumer's committed offsets) but\n"
            "                           are in none of the day's lake files. Warehouse rows carry\n"
            "                           no ingest date, so the day's log records are what ties a\n"
            "                           row to the day; log_records counts them. Skipped (with a\n"
            "                           warning) when the log is absent or no longer holds the\n"
            "                           whole day (retention)\n"
            "  rejected_at_ingest[_<status>]   records or requests serve refused with a 4xx\n"
            "                           that day (dead-letter topic, by its ts), per kind and\n"
            "                           HTTP status; topic 'none' for requests with no kind\n\n"
            "options:\n"
            "  --date YYYY-MM-DD        the day (required)\n"
            "  --data-dir DIR           (default %s)\n"
            "  --lake DIR|s3://...      (default DIR/lake)\n"
            "  --warehouse SPEC         SQLite file or postgresql:// URI\n"
            "  --rejects-topic T        serve's dead-letter topic (default pinpipe.rejected;\n"
            "                           '' = do not count ingest rejects)\n"
            "  --max-missing N          fail when more ids of a topic are missing from the\n"
            "                           warehouse (default 0)\n"
            "  --max-rejected N         fail when the cleaning rejects more records of a topic\n"
            "                           (default 0)\n"
            "  --max-reverse-missing N  fail when more warehouse ids of a topic are missing from\n"
            "                           the day's lake (default 0)\n"
            "  --max-ingest-rejected N  fail when serve refused more records or requests that\n"
            "                           day, all kinds together (default 0)\n" PP_CLI_LOG_HELP
                PP_CLI_LAKE_HELP "  -h, --help               this help\n\n"
            "exit status: 0 checks passed, 1 a threshold was passed or a failure, 2 usage\n",
            PP_DEFAULT_DATA_DIR);
}

/* ---------------- id sets ---------------- */

static int idset_push(struct idset *s, int64_t id)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        int64_t *ids = realloc(s->ids, cap * sizeof(*ids));
        if (!ids)
            return PP_ENOMEM;
        s->ids = ids;
        s->cap = cap;
    }
    s->ids[s->n++] = id;
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void idset_unique(struct idset *s)
{
    if (s->n)
        qsort(s->ids, s->n, sizeof(*s->ids), cmp_id);
    size_t m = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!m || s->ids[m - 1] != s->ids[i])
            s->ids[m++] = s->ids[i];
    s->n = m;
}

static int idset_has(const struct idset *s, int64_t id)
{
    return s->n && bsearch(&id, s->ids, s->n, sizeof(id), cmp_id) != NULL;
}

/* ---------------- metrics ---------------- */

static int add(struct metrics *ms, const char *topic, const char *metric, int64_t v)
{
    if (ms->n == ms->cap) {
        int cap = ms->cap ? ms->cap * 2 : 64;
        struct metric *m = realloc(ms->m, (size_t)cap * sizeof(*m));
        if (!m)
            return PP_ENOMEM;
        ms->m = m;
        ms->cap = cap;
    }
    struct metric *m = &ms->m[ms->n++];
    snprintf(m->topic, sizeof(m->topic), "%s", topic);
    snprintf(m->metric, sizeof(m->metric), "%s", metric);
    m->value = v;
    return 0;
}

/* ---------------- the day's lake ---------------- */

static int on_lake_record(void *arg, const char *value, size_t vlen)
{
    struct quality_topic *q = arg;
    struct pp_verr err;
    q->records++;
    q->late += q->in_late_file;
    if (pp_clean_record(q->kind, value, vlen, &q->row, &err)) {
        q->rejected++;
        return 0;
    }
    for (int c = 0; c < q->row.ncols; c++)
        if (q->row.nulled & (1u << c))
            q->nulled[c]++;
    if (q->kind == PP_KIND_PIN && q->row.col[4].type != PP_VAL_NULL)
        q->nonnull_follower++; /* column 4 is follower_count (pp_clean_columns) */
    return idset_push(&q->lake, q->row.id);
}

/* Before each lake file: is it past the marker's offset of its partition? */
static int on_lake_file(void *arg, int partition, int64_t start)
{
    struct quality_topic *q = arg;
    q->in_late_file = q->closed && partition < q->nclose && start >= q->close_off[partition];
    return 0;
}

/* The day's marker, if the day is closed: q->closed, q->close_off. @returns 0 or status. */
static int read_marker(struct pp_lake *lake, const char *date, struct quality_topic *q)
{
    const char *topic = pp_kind_name(q->kind);
    static char body[PP_LAKE_MARKER_MAX];
    long n = pp_lake_day_marker(lake, topic, date, body, sizeof(body));
    if (n == PP_ENOENT)
        return 0;
    if (n < 0)
        return pp_cli_fail("quality", 1, "lake marker of topic=%s dt=%s: %s", topic, date,
                           *pp_lake_errmsg(lake) ? pp_lake_errmsg(lake) : pp_err_str((int)n));
    struct pp_json d;
    pp_json_init(&d);
    int rc = pp_json_parse(&d, body, (size_t)n, MAX_PARTITIONS + 16, NULL, 0);
    int offs = rc ? -1 : pp_json_get(&d, 0, "offsets");
    if (offs < 0 || d.tok[offs].type != PP_JSON_ARRAY || d.tok[offs].size > MAX_PARTITIONS) {
        pp_json_free(&d);
        return pp_cli_fail("quality", 1, "lake marker of topic=%s dt=%s: no \"offsets\" array "
                           "(not a marker pinpipe wrote?)", topic, date);
    }
    q->nclose = d.tok[offs].size;
    for (int i = 0, t = offs + 1; i < q->nclose; i++, t = pp_json_next(&d, t))
        if (pp_json_int(&d, t, &q->close_off[i]))
            q->close_off[i] = INT64_MAX;
    pp_json_free(&d);
    q->closed = 1;
    return 0;
}

/* ---------------- the log ---------------- */

/* Open the log for reading, or set *log NULL when an embedded log was never created here.
 * @returns 0 or 1 (failure printed). */
static int open_log(struct quality_opts *o, struct pp_log **log)
{
    char dir[4200], err[512];
    struct stat st;
    *log = NULL;
    pp_cli_path(o->data_dir, "log", dir, sizeof(dir));
    if (o->log.backend == PP_LOG_EMBEDDED && stat(dir, &st)) {
        PP_WARN("quality",
                "no log at %s: the reverse reconciliation and the ingest rejects are "
                "not checked",
                dir);
        return 0;
    }
    o->log.dir = dir;
    o->log.readonly = 1;
    *log = pp_log_open(&o->log, err, sizeof(err));
    o->log.dir = NULL;
    return *log ? 0 : pp_cli_fail("quality", 1, "log: %s", err);
}

/* Call cb for every record of (topic, partition) from offset `from` up to `to` (exclusive).
 * @returns 0 or a failure status (printed). */
static int read_range(struct pp_log *log, const char *topic, int p, int64_t from, int64_t to,
                      int (*cb)(void *arg, const struct pp_log_rec *rec), void *arg)
{
    char err[512];
    if (from >= to)
        return 0;
    struct pp_log_reader *rd = pp_log_reader_open(log, topic, p, from, err, sizeof(err));
    if (!rd)
        return pp_cli_fail("quality", 1, "log topic=%s partition=%d: %s", topic, p, err);
    struct pp_log_rec recs[READ_MAX];
    int status = 0;
    while (!status && pp_log_reader_position(rd) < to) {
        int n = pp_log_read(rd, recs, READ_MAX, READ_WAIT_MS);
        if (n <= 0) {
            status = pp_cli_fail(
                "quality", 1,
                "log topic=%s partition=%d: read at offset %" PRId64 " of %" PRId64 ": %s", topic,
                p, pp_log_reader_position(rd), to, n ? pp_err_str(n) : "no records (stalled)");
            break;
        }
        for (int i = 0; i < n && !status && recs[i].offset < to; i++)
            status = cb(arg, &recs[i]);
    }
    pp_log_reader_close(rd);
    return status;
}

static int on_log_record(void *arg, const struct pp_log_rec *rec)
{
    struct quality_topic *q = arg;
    struct pp_verr err;
    if (pp_clean_record(q->kind, rec->value, rec->vlen, &q->row, &err))
        return 0; /* never in the warehouse */
    return idset_push(&q->logday, q->row.id) ? pp_cli_fail("quality", 1, "out of memory") : 0;
}

struct day_filter {
    struct quality_topic *q;
    int64_t start_ms, end_ms;
    int64_t first_ts; /* ingest time of the first record read, -1 before */
};

static int on_log_day(void *arg, const struct pp_log_rec *rec)
{
    struct day_filter *f = arg;
    if (f->first_ts < 0)
        f->first_ts = rec->ts_ms;
    if (rec->ts_ms < f->start_ms || rec->ts_ms >= f->end_ms)
        return 0;
    f->q->log_records++;
    return on_log_record(f->q, rec);
}

/* The lake consumer's committed offset of every partition of the topic, read BEFORE the day's
 * lake files: every record below it is in a finished file by then. */
static int lake_commits(struct pp_log *log, const char *topic, int64_t *commit, int *np)
{
    *np = pp_log_partitions(log, topic, 0);
    if (*np == PP_ENOENT) {
        *np = 0;
        return 0;
    }
    if (*np < 0 || *np > MAX_PARTITIONS)
        return pp_cli_fail("quality", 1, "log topic=%s: %s", topic,
                           *np < 0 ? pp_err_str(*np) : "too many partitions");
    for (int p = 0; p < *np; p++) {
        int rc = pp_log_committed(log, LAKE_GROUP, topic, p, &commit[p]);
        if (rc == PP_ENOENT)
            commit[p] = 0; /* the lake has finished nothing of it */
        else if (rc)
            return pp_cli_fail("quality", 1,
                               "log topic=%s partition=%d: committed offset of "
                               "group %s: %s",
                               topic, p, LAKE_GROUP, pp_err_str(rc));
    }
    return 0;
}

/* The day's log records of q's topic below the lake's commits into q->logday. */
static int read_log_day(struct pp_log *log, const struct quality_opts *o, struct quality_topic *q,
                        const int64_t *commit, int np)
{
    const char *topic = pp_kind_name(q->kind);
    q->reverse = 1;
    for (int p = 0; p < np; p++) {
        int64_t low, high;
        if (pp_log_watermarks(log, topic, p, &low, &high))
            continue;
        struct day_filter f = {q, o->day_start_ms, o->day_end_ms, -1};
        int64_t to = commit[p] < high ? commit[p] : high;
        int status = read_range(log, topic, p, low, to, on_log_day, &f);
        if (status)
            return status;
        /* retention deleted the oldest records: the day is whole only if they were older */
        if (low > 0 && (f.first_ts < 0 || f.first_ts >= o->day_start_ms)) {
            PP_WARN("quality",
                    "the log no longer holds all of %s topic=%s partition=%d "
                    "low_watermark=%" PRId64 ": missing_in_lake is not checked",
                    o->date, topic, p, low);
            q->reverse = 0;
        }
    }
    return 0;
}

/* ---------------- dead letters ---------------- */

struct rejects {
    const char *date;
    int64_t total[NTOPICS];
    int64_t status[NTOPICS][100]; /* 400..499 */
    int64_t unreadable;
    struct pp_json doc;
};

static int on_reject(void *arg, const struct pp_log_rec *rec)
{
    struct rejects *r = arg;
    struct pp_json *d = &r->doc;
    char day[11] = "";
    int64_t status = 0;
    if (pp_json_parse(d, rec->value, rec->vlen, 64, NULL, 0) || d->tok[0].type != PP_JSON_OBJECT) {
        r->unreadable++;
        return 0;
    }
    int ts = pp_json_get(d, 0, "ts"), kind = pp_json_get(d, 0, "kind");
    int st = pp_json_get(d, 0, "status"), nrec = pp_json_get(d, 0, "records");
    int64_t records = 1; /* one dead letter per refused request, standing for its records */
    if (nrec >= 0 && (pp_json_int(d, nrec, &records) || records < 1))
        records = 1;
    size_t n = 0;
    const char *raw = ts >= 0 && d->tok[ts].type == PP_JSON_STRING ? pp_json_raw(d, ts, &n) : NULL;
    if (raw && n >= 10)
        snprintf(day, sizeof(day), "%.10s", raw);
    else
        pp_date_format(rec->ts_ms, day, sizeof(day)); /* no ts: the append time */
    if (strcmp(day, r->date))
        return 0;
    int k = PP_KIND_COUNT; /* "none" */
    if (kind >= 0 && d->tok[kind].type == PP_JSON_STRING) {
        const char *kr = pp_json_raw(d, kind, &n);
        enum pp_kind pk = pp_kind_from_topic(kr, n);
        k = pk == PP_KIND_NONE ? PP_KIND_COUNT : (int)pk;
    }
    r->total[k] += records;
    if (st >= 0 && !pp_json_int(d, st, &status) && status >= 400 && status <= 499)
        r->status[k][status - 400] += records;
    return 0;
}

/* Count the day's dead letters of every partition of the topic. @returns 0 or status. */
static int read_rejects(struct pp_log *log, const char *topic, struct rejects *r)
{
    int np = pp_log_partitions(log, topic, 0);
    if (np == PP_ENOENT) {
        PP_DEBUG("quality", "no dead-letter topic %s: nothing was rejected", topic);
        return 0;
    }
    if (np < 0)
        return pp_cli_fail("quality", 1, "log topic=%s: %s", topic, pp_err_str(np));
    for (int p = 0; p < np; p++) {
        int64_t low, high;
        if (pp_log_watermarks(log, topic, p, &low, &high))
            continue;
        int status = read_range(log, topic, p, low, high, on_reject, r);
        if (status)
            return status;
    }
    if (r->unreadable)
        PP_WARN("quality", "%" PRId64 " dead letters of %s are not JSON objects: not counted",
                r->unreadable, topic);
    return 0;
}

static const char *topic_name(int k)
{
    return k < PP_KIND_COUNT ? pp_kind_name((enum pp_kind)k) : "none";
}

static int add_rejects(struct metrics *ms, const struct rejects *r)
{
    int rc = 0;
    for (int k = 0; k < NTOPICS && !rc; k++) {
        if (k == PP_KIND_COUNT && !r->total[k])
            continue; /* "none" only when there are such */
        rc = add(ms, topic_name(k), "rejected_at_ingest", r->total[k]);
        for (int s = 0; s < 100 && !rc; s++) {
            char name[48];
            snprintf(name, sizeof(name), "rejected_at_ingest_%d", 400 + s);
            if (r->status[k][s])
                rc = add(ms, topic_name(k), name, r->status[k][s]);
        }
    }
    return rc;
}

/* ---------------- the command ---------------- */

/* @returns -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct quality_opts *o)
{
    enum { O_MISSING = 256, O_REJECTED, O_REVERSE, O_INGEST, O_TOPIC };
    static const struct option opts[] = {{"date", 1, 0, 'D'},
                                         {"data-dir", 1, 0, 'd'},
                                         {"lake", 1, 0, 'l'},
                                         {"warehouse", 1, 0, 'w'},
                                         {"rejects-topic", 1, 0, O_TOPIC},
                                         {"max-missing", 1, 0, O_MISSING},
                                         {"max-rejected", 1, 0, O_REJECTED},
                                         {"max-reverse-missing", 1, 0, O_REVERSE},
                                         {"max-ingest-rejected", 1, 0, O_INGEST},
                                         {"help", 0, 0, 'h'},
                                         PP_CLI_LOG_OPTIONS,
                                         PP_CLI_LAKE_OPTIONS,
                                         {0, 0, 0, 0}};
    int c, rc;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hX:", opts, NULL)) != -1) {
        int64_t *max = NULL;
        switch (c) {
        case 'D':
            if (pp_date_parse(optarg, &o->day_start_ms))
                return pp_cli_fail("quality", 2, "--date wants YYYY-MM-DD, got '%s'", optarg);
            o->day_end_ms = o->day_start_ms + 86400000;
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
        case O_TOPIC:
            o->rejects_topic = optarg;
            break;
        case O_MISSING:
            max = &o->max_missing;
            break;
        case O_REJECTED:
            max = &o->max_rejected;
            break;
        case O_REVERSE:
            max = &o->max_reverse;
            break;
        case O_INGEST:
            max = &o->max_ingest;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            if ((rc =
                     pp_cli_backend_opt("quality", c, optarg, argv[optind - 1], &o->log, &o->lake)))
                return rc;
        }
        if (max && pp_parse_i64(optarg, 0, INT64_MAX, max))
            return pp_cli_fail("quality", 2, "thresholds are counts >= 0, got '%s'", optarg);
    }
    if (optind < argc)
        return pp_cli_fail("quality", 2, "unexpected argument '%s'", argv[optind]);
    if (!o->date)
        return pp_cli_fail("quality", 2, "--date is required (see --help)");
    rc = pp_cli_backend_check("quality", &o->log);
    return rc ? rc : -1;
}

struct run {
    struct quality_opts *o;
    struct pp_lake *lake;
    struct pp_wh *wh;
    struct pp_log *log;
    struct metrics ms;
    char why[300]; /* the first threshold passed */
};

/* Note the first threshold passed: "<topic>: <v> <what> (max <max>)". */
static void threshold(struct run *r, const char *topic, int64_t v, int64_t max, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
static void threshold(struct run *r, const char *topic, int64_t v, int64_t max, const char *fmt,
                      ...)
{
    if (r->why[0] || v <= max)
        return;
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(r->why, sizeof(r->why), "%s: %" PRId64 " %s (max %" PRId64 ")", topic, v, what, max);
}

/* Everything about one topic: lake day, log day, both reconciliations, metrics. */
static int check_topic(struct run *r, struct quality_topic *q)
{
    const char *topic = pp_kind_name(q->kind);
    static int64_t commit[MAX_PARTITIONS];
    int np = 0, status = 0;
    if (r->log && (status = lake_commits(r->log, topic, commit, &np)))
        return status;
    PP_DEBUG("quality", "reading the lake topic=%s dt=%s", topic, r->o->date);
    if ((status = read_marker(r->lake, r->o->date, q)))
        return status;
    struct pp_lake_reader rd = {on_lake_record, on_lake_file, q};
    long n = pp_lake_read_day_files(r->lake, topic, r->o->date, &rd);
    if (n < 0 && n != PP_ENOENT)
        return pp_cli_fail("quality", 1, "lake topic=%s dt=%s: %s", topic, r->o->date,
                           n == PP_ENOMEM ? "out of memory" : pp_err_str((int)n));
    if (r->log && (status = read_log_day(r->log, r->o, q, commit, np)))
        return status;
    idset_unique(&q->lake);
    idset_unique(&q->logday);
    int64_t found = 0, reverse = 0;
    int rc = q->lake.n ? pp_wh_count_ids(r->wh, q->kind, q->lake.ids, (int)q->lake.n, &found) : 0;
    /* the reverse: the day's log ids the day's lake lacks, as far as they are in the warehouse */
    struct idset cand = {0};
    for (size_t i = 0; !rc && q->reverse && i < q->logday.n; i++)
        if (!idset_has(&q->lake, q->logday.ids[i]))
            rc = idset_push(&cand, q->logday.ids[i]);
    if (!rc && cand.n)
        rc = pp_wh_count_ids(r->wh, q->kind, cand.ids, (int)cand.n, &reverse);
    free(cand.ids);
    if (rc)
        return pp_cli_fail("quality", 1, "warehouse: %s",
                           rc == PP_ENOMEM ? "out of memory" : pp_wh_errmsg(r->wh));
    int64_t distinct = (int64_t)q->lake.n, missing = distinct - found;
    int ncols;
    const char *const *cols = pp_clean_columns(q->kind, &ncols);
    rc = add(&r->ms, topic, "records", q->records);
    rc = rc ? rc : add(&r->ms, topic, "rejected_by_cleaning", q->rejected);
    rc = rc ? rc : add(&r->ms, topic, "duplicates", q->records - q->rejected - distinct);
    rc = rc ? rc : add(&r->ms, topic, "missing_in_warehouse", missing);
    if (q->reverse) {
        rc = rc ? rc : add(&r->ms, topic, "log_records", q->log_records);
        rc = rc ? rc : add(&r->ms, topic, "missing_in_lake", reverse);
    }
    for (int col = 0; col < ncols && !rc; col++) {
        char name[48];
        snprintf(name, sizeof(name), "null_%s", cols[col]);
        rc = add(&r->ms, topic, name, q->nulled[col]);
    }
    if (!rc && q->kind == PP_KIND_PIN)
        rc = add(&r->ms, topic, "follower_count_parsed", q->nonnull_follower);
    if (!rc && q->closed) /* records that reached the lake after the day closed */
        rc = add(&r->ms, topic, "late_records", q->late);
    if (rc)
        return pp_cli_fail("quality", 1, "out of memory");
    const char *date = r->o->date;
    threshold(r, topic, missing, r->o->max_missing, "ids of %s are missing from the warehouse",
              date);
    threshold(r, topic, q->rejected, r->o->max_rejected,
              "records of %s rejected by the cleaning rules", date);
    threshold(r, topic, reverse, r->o->max_reverse,
              "warehouse ids that came through the log on %s are missing from the day's lake",
              date);
    return 0;
}

static int ingest_rejects(struct run *r)
{
    if (!r->log || !r->o->rejects_topic[0])
        return 0;
    struct rejects *rj = calloc(1, sizeof(*rj));
    if (!rj)
        return pp_cli_fail("quality", 1, "out of memory");
    rj->date = r->o->date;
    pp_json_init(&rj->doc);
    int status = read_rejects(r->log, r->o->rejects_topic, rj);
    if (!status && add_rejects(&r->ms, rj))
        status = pp_cli_fail("quality", 1, "out of memory");
    int64_t all = 0;
    for (int k = 0; k < NTOPICS; k++)
        all += rj->total[k];
    if (!status)
        threshold(r, "all", all, r->o->max_ingest,
                  "records or requests of %s rejected at ingest (dead letters in %s)", r->o->date,
                  r->o->rejects_topic);
    pp_json_free(&rj->doc);
    free(rj);
    return status;
}

static int store_and_print(struct run *r)
{
    struct pp_wh_metric *m = calloc((size_t)r->ms.n + 1, sizeof(*m));
    if (!m)
        return pp_cli_fail("quality", 1, "out of memory");
    for (int i = 0; i < r->ms.n; i++)
        m[i] = (struct pp_wh_metric){r->ms.m[i].topic, r->ms.m[i].metric, r->ms.m[i].value};
    int status = 0;
    if (pp_wh_quality_store(r->wh, r->o->date, m, r->ms.n))
        status = pp_cli_fail("quality", 1, "store: %s", pp_wh_errmsg(r->wh));
    free(m);
    if (status)
        return status;
    printf("%-5s %-26s %10s\n", "topic", "metric", "value");
    for (int i = 0; i < r->ms.n; i++)
        printf("%-5s %-26s %10" PRId64 "\n", r->ms.m[i].topic, r->ms.m[i].metric, r->ms.m[i].value);
    fflush(stdout); /* before the reason on stderr: a scheduler keeps the last line */
    return r->why[0] ? pp_cli_fail("quality", 1, "%s", r->why) : 0;
}

int cmd_quality(int argc, char **argv)
{
    struct quality_opts o = {.data_dir = PP_DEFAULT_DATA_DIR, .rejects_topic = "pinpipe.rejected"};
    pp_log_conf_defaults(&o.log);
    pp_lake_conf_defaults(&o.lake);
    int status = parse(argc, argv, &o);
    if (status >= 0)
        return status;
    char lake_default[4200], wh_default[4200], err[512];
    pp_cli_path(o.data_dir, "lake", lake_default, sizeof(lake_default));
    pp_cli_path(o.data_dir, "warehouse.db", wh_default, sizeof(wh_default));
    struct run r = {.o = &o};
    o.lake.root = o.lake_dir ? o.lake_dir : lake_default;
    if (!(r.lake = pp_lake_open(&o.lake, err, sizeof(err))))
        return pp_cli_fail("quality", 1, "lake %s: %s", o.lake.root, err);
    if (!(r.wh = pp_wh_open(o.wh_path ? o.wh_path : wh_default, err, sizeof(err)))) {
        pp_lake_close(r.lake);
        return pp_cli_fail("quality", 1, "warehouse: %s", err);
    }
    status = open_log(&o, &r.log);
    for (int k = 0; k < PP_KIND_COUNT && !status; k++) {
        struct quality_topic q = {.kind = (enum pp_kind)k};
        pp_row_init(&q.row);
        status = check_topic(&r, &q);
        free(q.lake.ids);
        free(q.logday.ids);
        pp_row_free(&q.row);
    }
    if (!status)
        status = ingest_rejects(&r);
    if (!status)
        status = store_and_print(&r);
    free(r.ms.m);
    pp_log_close(r.log);
    pp_wh_close(r.wh);
    pp_lake_close(r.lake);
    return status;
}
