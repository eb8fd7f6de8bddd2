/* api.c: the dashboard's JSON: live insights and DAG runs from the warehouse (read only),
 * throughput and lag per stage from the log and the metrics registry. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dash_int.h"
#include "pp_err.h"
#include "pp_json.h"
#include "pp_util.h"

#define MAX_TOPICS 64
#define MAX_GROUPS 16
#define MAX_LAG_ROWS 4096

static int error_json(struct pp_buf *out, const char *msg)
{
    pp_buf_reset(out);
    pp_buf_puts(out, "{\"error\":");
    pp_json_put_str(out, msg, strlen(msg));
    pp_buf_putc(out, '}');
    return 503;
}

/* The endpoint's warehouse connection, opened on first use.
 * @returns borrowed handle, or NULL with err filled. */
static struct pp_wh *wh_get(struct pp_dash *dash, struct pp_wh **wh, char *err, size_t err_size)
{
    if (*wh)
        return *wh;
    struct stat st;
    if (!dash->warehouse[0]) {
        snprintf(err, err_size, "no warehouse configured");
        return NULL;
    }
    /* A SQLite file is made by the stream (or batch): do not create it from here. */
    if (!pp_wh_is_url(dash->warehouse) && stat(dash->warehouse, &st)) {
        snprintf(err, err_size, "the warehouse %s does not exist yet (no data streamed)",
                 dash->warehouse);
        return NULL;
    }
    *wh = pp_wh_open(dash->warehouse, err, err_size);
    return *wh;
}

/* After a failed query: drop the handle, the next request opens a fresh one. */
static void wh_drop(struct pp_wh **wh)
{
    pp_wh_close(*wh);
    *wh = NULL;
}

/* pp_wh_insights_print's JSON, captured into out without its trailing newline. */
static int insights_text(struct pp_wh *wh, struct pp_buf *out)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return PP_ENOMEM;
    int rc = pp_wh_insights_print(wh, PP_WH_JSON, f);
    if (fclose(f) && !rc)
        rc = PP_EIO;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
    if (!rc)
        rc = pp_buf_append(out, text, len);
    free(text);
    return rc;
}

int dash_insights_json(struct pp_dash *dash, struct pp_wh **whp, struct pp_buf *out)
{
    char err[512];
    struct pp_wh *wh = wh_get(dash, whp, err, sizeof(err));
    if (!wh)
        return error_json(out, err);
    pp_buf_puts(out, "{\"rows\":{");
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        int64_t n = 0;
        if (pp_wh_count(wh, (enum pp_kind)k, &n))
            n = -1;
        pp_buf_printf(out, "%s\"%s\":%" PRId64, k ? "," : "", pp_kind_name((enum pp_kind)k), n);
    }
    pp_buf_puts(out, "},\"insights\":");
    int rc = insights_text(wh, out);
    if (rc) {
        snprintf(err, sizeof(err), "insights query failed: %s", pp_wh_errmsg(wh));
        wh_drop(whp);
        return error_json(out, err);
    }
    pp_buf_putc(out, '}');
    return 200;
}

struct runs_ctx {
    struct pp_buf *out;
    int n;
};

static void put_kv_str(struct pp_buf *out, const char *key, const char *v)
{
    pp_buf_printf(out, "\"%s\":", key);
    if (v)
        pp_json_put_str(out, v, strlen(v));
    else
        pp_buf_puts(out, "null");
}

static void run_row(void *arg, const struct pp_wh_dag_task *t)
{
    struct runs_ctx *rc = arg;
    struct pp_buf *out = rc->out;
    pp_buf_puts(out, rc->n++ ? ",{" : "{");
    put_kv_str(out, "dag", t->dag);
    pp_buf_putc(out, ',');
    put_kv_str(out, "run_date", t->run_date);
    pp_buf_putc(out, ',');
    put_kv_str(out, "task", t->task);
    pp_buf_putc(out, ',');
    put_kv_str(out, "state", t->state);
    pp_buf_printf(out, ",\"attempts\":%d,\"start_ms\":%" PRId64 ",\"end_ms\":%" PRId64 ",",
                  t->attempts, t->start_ms, t->end_ms);
    put_kv_str(out, "error", t->error ? t->error : "");
    pp_buf_putc(out, '}');
}

int dash_runs_json(struct pp_dash *dash, struct pp_wh **whp, int limit, struct pp_buf *out)
{
    char err[512];
    struct pp_wh *wh = wh_get(dash, whp, err, sizeof(err));
    if (!wh)
        return error_json(out, err);
    struct runs_ctx ctx = {out, 0};
    pp_buf_puts(out, "{\"runs\":[");
    int n = pp_wh_dag_history(wh, NULL, limit, run_row, &ctx);
    if (n < 0) {
        snprintf(err, sizeof(err), "DAG history query failed: %s", pp_wh_errmsg(wh));
        wh_drop(whp);
        return error_json(out, err);
    }
    pp_buf_puts(out, "]}");
    return 200;
}

/* ---- stats ------------------------------------------------------------------------------ */

/* Sum the samples of metric name whose labels contain want (e.g. outcome="accepted") in
 * Prometheus text. */
static int64_t metric_sum(const char *text, size_t len, const char *name, const char *want)
{
    size_t nl = strlen(name);
    double sum = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nl && !memcmp(p, name, nl) && (p[nl] == '{' || p[nl] == ' ')) {
            const char *sp = p + nl;
            int match = 1;
            if (*sp == '{') {
                const char *close = memchr(sp, '}', (size_t)(eol - sp));
                match =
                    close && want && memmem(sp, (size_t)(close - sp), want, strlen(want)) != NULL;
                sp = close ? close + 1 : eol;
            } else if (want) {
                match = 0;
            }
            if (match && sp < eol)
                sum += strtod(sp, NULL);
        }
        p = eol + 1;
    }
    return (int64_t)sum;
}

struct stage {
    char name[64];
    int64_t records;
    int64_t lag;      /* -1: not a consumer */
    int64_t rejected; /* ingest only, -1 otherwise */
    int64_t failed;
};

/* The rate of a stage since the previous sample, or -1 when there is none. */
static double stage_rate(const struct pp_dash *dash, const struct stage *s, int64_t now_ms)
{
    if (!dash->prev_ms || now_ms <= dash->prev_ms)
        return -1;
    for (int i = 0; i < dash->nprev; i++)
        if (!strcmp(dash->prev[i].name, s->name)) {
            int64_t d = s->records - dash->prev[i].value;
            return d < 0 ? 0 : (double)d * 1000.0 / (double)(now_ms - dash->prev_ms);
        }
    return -1;
}

/* A consumer group's stage: committed records and lag summed over the partitions it has
 * commits for; one row per partition appended to lag_out (*rows counts them, capped). */
struct group_rows {
    const char *group;
    struct stage *s;
    struct pp_buf *lag_out;
    int *rows;
};

static int group_row(void *arg, const struct pp_log_lag *l)
{
    struct group_rows *g = arg;
    if (l->err || l->committed < 0)
        return 0;
    g->s->records += l->committed;
    g->s->lag += l->lag;
    if ((*g->rows)++ >= MAX_LAG_ROWS)
        return 0;
    pp_buf_puts(g->lag_out, *g->rows > 1 ? ",{\"group\":" : "{\"group\":");
    pp_json_put_str(g->lag_out, g->group, strlen(g->group));
    pp_buf_puts(g->lag_out, ",\"topic\":");
    pp_json_put_str(g->lag_out, l->topic, strlen(l->topic));
    pp_buf_printf(g->lag_out, ",\"partition\":%d,\"committed\":%" PRId64 ",\"lag\":%" PRId64 "}",
                  l->partition, l->committed, l->lag);
    return 0;
}

static void group_stage(struct pp_log *log, const char *group, const char *const *topics, int nt,
                        struct stage *s, struct pp_buf *lag_out, int *rows)
{
    snprintf(s->name, sizeof(s->name), "%s", group);
    s->rejected = s->failed = -1;
    struct group_rows g = {group, s, lag_out, rows};
    pp_log_lag_each(log, group, topics, nt, group_row, &g);
}

/* Log stages: appended records, and per consumer group committed records and lag; the
 * per-partition rows go to lag_out / parts_out. @returns stages added. */
static int log_stages(struct pp_log *log, struct stage *st, int max, struct pp_buf *lag_out,
                      struct pp_buf *parts_out)
{
    const char *topics[MAX_TOPICS];
    char *groups[MAX_GROUPS];
    int nt = pp_log_topics(log, topics, MAX_TOPICS);
    int ng = pp_log_groups(log, groups, MAX_GROUPS);
    if (nt < 0)
        nt = 0;
    if (ng < 0)
        ng = 0;
    /* pipeline order: stream, lake, then any other group (names come sorted) */
    int order[MAX_GROUPS], no = 0;
    static const char *const first[] = {"stream", "lake"};
    for (int f = 0; f < 2; f++)
        for (int g = 0; g < ng; g++)
            if (!strcmp(groups[g], first[f]))
                order[no++] = g;
    for (int g = 0; g < ng; g++)
        if (strcmp(groups[g], first[0]) && strcmp(groups[g], first[1]))
            order[no++] = g;
    int n = 0, rows = 0, nparts = 0;
    struct stage *lg = &st[n++];
    snprintf(lg->name, sizeof(lg->name), "log");
    lg->lag = lg->rejected = lg->failed = -1;
    for (int t = 0; t < nt; t++) {
        int np = pp_log_partitions(log, topics[t], 0);
        for (int p = 0; p < np; p++) {
            int64_t low, high;
            if (pp_log_watermarks(log, topics[t], p, &low, &high))
                continue;
            lg->records += high;
            pp_buf_puts(parts_out, nparts++ ? ",{\"topic\":" : "{\"topic\":");
            pp_json_put_str(parts_out, topics[t], strlen(topics[t]));
            pp_buf_printf(parts_out, ",\"partition\":%d,\"low\":%" PRId64 ",\"high\":%" PRId64 "}",
                          p, low, high);
        }
    }
    for (int o = 0; o < no; o++) {
        if (n < max)
            group_stage(log, groups[order[o]], topics, nt, &st[n++], lag_out, &rows);
    }
    for (int g = 0; g < ng; g++)
        free(groups[g]);
    return n;
}

int dash_stats_json(struct pp_dash *dash, struct pp_buf *out)
{
    struct stage st[DASH_MAX_STAGES];
    struct pp_buf lag, parts;
    int n = 0;
    int64_t now = pp_now_ms();
    memset(st, 0, sizeof(st));
    pp_buf_init(&lag, 4u << 20);
    pp_buf_init(&parts, 4u << 20);
    if (dash->metrics) {
        struct pp_buf text;
        pp_buf_init(&text, 16u << 20);
        pp_metrics_render(dash->metrics, &text);
        const char *name = "pinpipe_ingest_records_total";
        struct stage *s = &st[n++];
        snprintf(s->name, sizeof(s->name), "ingest");
        s->lag = -1;
        s->records = metric_sum(text.data, text.len, name, "outcome=\"accepted\"");
        s->rejected = metric_sum(text.data, text.len, name, "outcome=\"rejected\"");
        s->failed = metric_sum(text.data, text.len, name, "outcome=\"failed\"");
        pp_buf_free(&text);
    }
    if (dash->log)
        n += log_stages(dash->log, st + n, DASH_MAX_STAGES - n, &lag, &parts);
    pp_buf_printf(out, "{\"ts_ms\":%" PRId64 ",\"interval_ms\":%" PRId64 ",\"stages\":[", now,
                  dash->prev_ms ? now - dash->prev_ms : 0);
    for (int i = 0; i < n; i++) {
        const struct stage *s = &st[i];
        double rate = stage_rate(dash, s, now);
        pp_buf_puts(out, i ? ",{\"stage\":" : "{\"stage\":");
        pp_json_put_str(out, s->name, strlen(s->name));
        pp_buf_printf(out, ",\"records\":%" PRId64, s->records);
        if (rate >= 0)
            pp_buf_printf(out, ",\"rate\":%.1f", rate);
        else
            pp_buf_puts(out, ",\"rate\":null");
        if (s->lag >= 0)
            pp_buf_printf(out, ",\"lag\":%" PRId64, s->lag);
        if (s->rejected >= 0)
            pp_buf_printf(out, ",\"rejected\":%" PRId64 ",\"failed\":%" PRId64, s->rejected,
                          s->failed);
        pp_buf_putc(out, '}');
    }
    pp_buf_puts(out, "],\"lag\":[");
    pp_buf_append(out, lag.data ? lag.data : "", lag.len);
    pp_buf_puts(out, "],\"partitions\":[");
    pp_buf_append(out, parts.data ? parts.data : "", parts.len);
    pp_buf_puts(out, "]}");
    pp_buf_free(&lag);
    pp_buf_free(&parts);
    /* this sample becomes the previous one */
    dash->nprev = 0;
    for (int i = 0; i < n && i < DASH_MAX_STAGES; i++) {
        _Static_assert(sizeof(dash->prev[i].name) == sizeof(st[i].name), "stage name sizes");
        memcpy(dash->prev[i].name, st[i].name, sizeof(st[i].name));
        dash->prev[i].value = st[i].records;
        dash->nprev++;
    }
    dash->prev_ms = now;
    return 200;
}
