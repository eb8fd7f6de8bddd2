/* cmd_status.c: `pinpipe status`: one screen on the pipeline: the stages (serve and the
 * workers that announce a metrics endpoint) with health, readiness and rates, the log's topics
 * and watermarks, every consumer group's lag per partition, the warehouse's rows and the last
 * DAG runs; --json for machines. */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pp_buf.h"
#include "pp_cli.h"
#include "pp_err.h"
#include "pp_json.h"
#include "pp_util.h"
#include "pp_wh.h"
#include "pp_workers.h"

#define MAX_TOPICS 64
#define MAX_GROUPS 64
#define MAX_PARTS 1024
#define MAX_STAGES 32
#define MAX_RUNS 64

struct stage {
    char name[32];
    long pid;         /* 0: unknown (serve's DATA_DIR/listen) */
    char addr[300];
    int gone;         /* the pid no longer runs: a stale address file */
    int healthy, ready;
    char reason[256]; /* why not ready / unreachable */
    int have_records;
    double records[2]; /* the stage's main counter at both samples */
};

/* One partition of the log (lag rows: one per group too). */
struct part {
    const char *topic; /* borrowed from the log */
    const char *group; /* NULL: a watermark row */
    int partition;
    int64_t low, high, committed[2], high0;
};

struct status {
    struct stage stages[MAX_STAGES];
    int nstages;
    struct part parts[MAX_PARTS];
    int nparts;
    char *groups[MAX_GROUPS];
    int ngroups;
    double secs; /* between the samples; 0 = no rates */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pinpipe status [--data-dir DIR] [--warehouse SPEC] [--interval DURATION]\n"
            "                      [--runs N] [--json] [log options]\n\n"
            "One screen on the pipeline: the stages (serve from DIR/listen, and the stream,\n"
            "lake and schedule workers started with --metrics-listen, from\n"
            "DIR/workers/*/listen) with their health, readiness, records and records/s; the\n"
            "log's topics with partitions and watermarks; each consumer group's committed\n"
            "offset and lag per partition; records/s per topic appended and consumed by each\n"
            "group; the warehouse's row counts; the last DAG runs (--json: per partition rates\n"
            "too). Rates are measured over --interval. Reads only; works while the pipeline\n"
            "runs. serve with --api-keys: set $PINPIPE_API_KEY to a read key for its /metrics.\n\n"
            "options:\n"
            "  --data-dir DIR         (default %s)\n"
            "  --warehouse SPEC       SQLite file or postgresql:// URI (default DIR/warehouse.db)\n"
            "  --interval DURATION    rate window (default 1s on a terminal, else 0 = no rates,\n"
            "                         one sample: scripts do not wait)\n"
            "  --runs N               DAG task runs shown, newest first (default 9)\n"
            "  --json                 one JSON object instead of the screen\n"
            PP_CLI_LOG_HELP
            PP_CLI_CONNECT_HELP
            "  -h, --help             this help\n\n"
            "exit status: 0 ok, 1 the log cannot be opened or a PostgreSQL warehouse cannot be\n"
            "reached (the screen is still printed), 2 usage error\n",
            PP_DEFAULT_DATA_DIR);
}

/* ---- the stages' endpoints ---- */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    return pp_buf_append(arg, p, size * n) ? 0 : size * n;
}

/* GET http://addr/path into out. @returns the HTTP status, or 0 when unreachable. */
static long http_get(const char *addr, const char *path, struct pp_buf *out)
{
    char url[400];
    long code = 0;
    snprintf(url, sizeof(url), "http://%s%s", addr, path);
    pp_buf_reset(out);
    CURL *c = curl_easy_init();
    if (!c)
        return 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    const char *key = getenv("PINPIPE_API_KEY"); /* a read key, for serve --api-keys */
    struct curl_slist *hdrs = NULL;
    char h[400];
    if (key && *key) {
        snprintf(h, sizeof(h), "x-api-key: %.300s", key);
        hdrs = curl_slist_append(NULL, h);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    return code;
}

/* Sum of the samples of metric name whose labels contain filter ("" = all).
 * @returns 1 when the metric appears, else 0. */
static int metric_sum(const struct pp_buf *body, const char *name, const char *filter, double *sum)
{
    size_t n = strlen(name);
    int seen = 0;
    *sum = 0;
    if (!body->len)
        return 0;
    for (const char *p = body->data, *end = body->data + body->len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        if (*p != '#' && (size_t)(eol - p) > n && !strncmp(p, name, n) &&
            (p[n] == ' ' || p[n] == '{')) {
            const char *v = p + n;
            if (*v == '{') {
                const char *close = memchr(v, '}', (size_t)(eol - v));
                char labels[512];
                if (!close)
                    goto next;
                snprintf(labels, sizeof(labels), "%.*s", (int)(close - v), v);
                if (*filter && !strstr(labels, filter))
                    goto next;
                v = close + 1;
            }
            *sum += strtod(v, NULL);
            seen = 1;
        }
    next:
        p = eol + 1;
    }
    return seen;
}

/* The counter a stage's rate is measured on. */
static int stage_records(struct stage *s, const struct pp_buf *body, double *v)
{
    double x;
    if (!strcmp(s->name, "serve") && metric_sum(body, "pinpipe_stream_records_total", "", &x))
        snprintf(s->name, sizeof(s->name), "run"); /* serve + stream + lake in one process */
    if (!strcmp(s->name, "serve") || !strcmp(s->name, "run"))
        return metric_sum(body, "pinpipe_ingest_records_total", "outcome=\"accepted\"", v);
    if (!strcmp(s->name, "stream"))
        return metric_sum(body, "pinpipe_stream_records_total", "", v);
    if (!strcmp(s->name, "lake"))
        return metric_sum(body, "pinpipe_lake_records_total", "", v);
    if (!strcmp(s->name, "schedule"))
        return metric_sum(body, "pinpipe_scheduler_runs_total", "", v);
    return 0;
}

static void read_addr(const char *path, char *addr, size_t size)
{
    FILE *f = fopen(path, "r");
    addr[0] = '\0';
    if (!f)
        return;
    if (fgets(addr, (int)size, f))
        addr[strcspn(addr, "\r\n")] = '\0';
    fclose(f);
}

/* Find serve (DATA_DIR/listen) and the workers (DATA_DIR/workers/<stage>-<pid>/listen). */
static void find_stages(struct status *s, const char *data_dir)
{
    char path[4600];
    struct stage *st = &s->stages[0];
    snprintf(path, sizeof(path), "%s/listen", data_dir);
    read_addr(path, st->addr, sizeof(st->addr));
    if (st->addr[0]) {
        snprintf(st->name, sizeof(st->name), "serve");
        s->nstages++;
    }
    char dir[4200];
    pp_cli_path(data_dir, PP_WORKERS_DIR, dir, sizeof(dir));
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) && s->nstages < MAX_STAGES) {
        char *dash = strrchr(e->d_name, '-');
        if (e->d_name[0] == '.' || !dash)
            continue;
        st = &s->stages[s->nstages];
        memset(st, 0, sizeof(*st));
        snprintf(st->name, sizeof(st->name), "%.*s", (int)(dash - e->d_name), e->d_name);
        st->pid = strtol(dash + 1, NULL, 10);
        snprintf(path, sizeof(path), "%s/%s/listen", dir, e->d_name);
        read_addr(path, st->addr, sizeof(st->addr));
        if (!st->addr[0])
            continue;
        st->gone = st->pid > 0 && kill((pid_t)st->pid, 0) && errno == ESRCH;
        s->nstages++;
    }
    if (d)
        closedir(d);
}

/* Sample i (0 or 1) of every stage: health, readiness (on the last sample) and records. */
static void probe_stages(struct status *s, int i, int last)
{
    struct pp_buf body;
    pp_buf_init(&body, 64 << 20);
    for (int k = 0; k < s->nstages; k++) {
        struct stage *st = &s->stages[k];
        if (st->gone)
            continue;
        if (last) {
            st->healthy = http_get(st->addr, "/healthz", &body) == 200;
            long code = http_get(st->addr, "/readyz", &body);
            st->ready = code == 200;
            st->reason[0] = '\0';
            if (!code)
                snprintf(st->reason, sizeof(st->reason), "unreachable");
            else if (!st->ready) {
                struct pp_json doc;
                pp_json_init(&doc);
                if (!pp_json_parse(&doc, body.data, body.len, 64, NULL, 0)) {
                    int t = pp_json_get(&doc, 0, "reason");
                    struct pp_buf r;
                    pp_buf_init(&r, sizeof(st->reason) - 1);
                    if (t > 0 && !pp_json_str(&doc, t, &r) && r.len)
                        snprintf(st->reason, sizeof(st->reason), "%.*s", (int)r.len, r.data);
                    pp_buf_free(&r);
                }
                pp_json_free(&doc);
                if (!st->reason[0])
                    snprintf(st->reason, sizeof(st->reason), "HTTP %ld", code);
            }
        }
        if (http_get(st->addr, "/metrics", &body) == 200)
            st->have_records += stage_records(st, &body, &st->records[i]);
    }
    pp_buf_free(&body);
}

/* ---- the log ---- */

static void sample_log(struct status *s, struct pp_log *log, int i)
{
    const char *topics[MAX_TOPICS];
    int nt = pp_log_topics(log, topics, MAX_TOPICS);
    if (i == 0) {
        s->ngroups = pp_log_groups(log, s->groups, MAX_GROUPS);
        if (s->ngroups < 0)
            s->ngroups = 0;
        for (int g = -1; g < s->ngroups; g++)
            for (int t = 0; t < nt; t++) {
                int np = pp_log_partitions(log, topics[t], 0);
                for (int p = 0; p < np && s->nparts < MAX_PARTS; p++)
                    s->parts[s->nparts++] =
                        (struct part){topics[t], g < 0 ? NULL : s->groups[g], p, 0, 0, {-1, -1}, 0};
            }
    }
    for (int k = 0; k < s->nparts; k++) {
        struct part *pt = &s->parts[k];
        int64_t low, high, next;
        if (pp_log_watermarks(log, pt->topic, pt->partition, &low, &high))
            continue;
        pt->low = low;
        pt->high = high;
        if (i == 0)
            pt->high0 = high;
        if (pt->group && !pp_log_committed(log, pt->group, pt->topic, pt->partition, &next))
            pt->committed[i] = next;
    }
}

static double rate(const struct status *s, double a, double b)
{
    return s->secs > 0 && b >= a ? (b - a) / s->secs : 0;
}

/* A rate column: "-" without a rate window. */
static const char *rate_col(const struct status *s, double a, double b, char *buf, size_t size)
{
    if (s->secs <= 0)
        return "-";
    snprintf(buf, size, "%.1f", rate(s, a, b));
    return buf;
}

static void print_stages(const struct status *s)
{
    printf("stages\n  %-9s %-8s %-22s %-7s %-9s %12s %10s\n", "stage", "pid", "address", "health",
           "ready", "records", "rate/s");
    for (int k = 0; k < s->nstages; k++) {
        const struct stage *st = &s->stages[k];
        char pid[24] = "-";
        if (st->pid)
            snprintf(pid, sizeof(pid), "%ld", st->pid);
        if (st->gone) {
            printf("  %-9s %-8s %-22s %-7s\n", st->name, pid, st->addr, "gone");
            continue;
        }
        printf("  %-9s %-8s %-22s %-7s %-9s", st->name, pid, st->addr,
               st->healthy ? "ok" : "down", st->ready ? "ready" : "no");
        char r[32];
        if (st->have_records)
            printf(" %12.0f %10s", st->records[1],
                   rate_col(s, st->records[0], st->records[1], r, sizeof(r)));
        printf("%s%s\n", st->reason[0] ? "  " : "", st->reason);
    }
    if (!s->nstages)
        printf("  (none announced: serve writes DIR/listen, workers need --metrics-listen)\n");
}

/* The log and group sections keep the columns scripts parse (4 and 5 fields per row); rates
 * are a section of their own. */
static void print_log(const struct status *s)
{
    printf("\nlog\n  %-8s %-9s %12s %12s\n", "topic", "partition", "low", "high");
    for (int k = 0; k < s->nparts; k++) {
        const struct part *pt = &s->parts[k];
        if (!pt->group)
            printf("  %-8s %-9d %12" PRId64 " %12" PRId64 "\n", pt->topic, pt->partition,
                   pt->low, pt->high);
    }
    printf("\nconsumer groups\n  %-10s %-8s %-9s %12s %10s\n", "group", "topic", "partition",
           "committed", "lag");
    for (int g = 0; g < s->ngroups; g++) {
        int64_t total = 0;
        for (int k = 0; k < s->nparts; k++) {
            const struct part *pt = &s->parts[k];
            if (pt->group != s->groups[g] || pt->committed[1] < 0)
                continue;
            int64_t next = pt->committed[1], lag = pt->high > next ? pt->high - next : 0;
            total += lag;
            printf("  %-10s %-8s %-9d %12" PRId64 " %10" PRId64 "\n", s->groups[g], pt->topic,
                   pt->partition, next, lag);
        }
        printf("  %-10s total lag %" PRId64 "\n", s->groups[g], total);
    }
    if (s->ngroups <= 0)
        printf("  (none yet)\n");
}

/* Records/s per topic: appended to the log, and consumed by each group. */
static void print_rates(const struct status *s)
{
    const char *topics[MAX_TOPICS];
    int nt = 0;
    if (s->secs <= 0) {
        printf("\nrates: none (measured with --interval, e.g. --interval 1s; the default on a "
               "terminal)\n");
        return;
    }
    printf("\nrates (records/s over %.1f s)\n  %-8s %12s", s->secs, "topic", "appended");
    for (int g = 0; g < s->ngroups; g++)
        printf(" %12.12s", s->groups[g]);
    printf("\n");
    for (int k = 0; k < s->nparts; k++) {
        int seen = 0;
        for (int t = 0; t < nt; t++)
            seen |= !strcmp(topics[t], s->parts[k].topic);
        if (!seen && nt < MAX_TOPICS)
            topics[nt++] = s->parts[k].topic;
    }
    for (int t = 0; t < nt; t++) {
        double app = 0, grp[MAX_GROUPS] = {0};
        for (int k = 0; k < s->nparts; k++) {
            const struct part *pt = &s->parts[k];
            if (strcmp(pt->topic, topics[t]))
                continue;
            if (!pt->group)
                app += rate(s, (double)pt->high0, (double)pt->high);
            for (int g = 0; g < s->ngroups; g++)
                if (pt->group == s->groups[g] && pt->committed[0] >= 0 && pt->committed[1] >= 0)
                    grp[g] += rate(s, (double)pt->committed[0], (double)pt->committed[1]);
        }
        printf("  %-8s %12.1f", topics[t], app);
        for (int g = 0; g < s->ngroups; g++)
            printf(" %12.1f", grp[g]);
        printf("\n");
    }
}

/* ,"rate":R (per second), null without a rate window */
static void json_rate(struct pp_buf *b, const struct status *s, double a, double z)
{
    if (s->secs > 0)
        pp_buf_printf(b, ",\"rate\":%.3f", rate(s, a, z));
    else
        pp_buf_puts(b, ",\"rate\":null");
}

static void json_stages(const struct status *s, struct pp_buf *b)
{
    pp_buf_puts(b, "\"stages\":[");
    for (int k = 0; k < s->nstages; k++) {
        const struct stage *st = &s->stages[k];
        pp_buf_printf(b, "%s{\"stage\":\"%s\",\"pid\":%ld,\"address\":", k ? "," : "", st->name,
                      st->pid);
        pp_json_put_str(b, st->addr, strlen(st->addr));
        pp_buf_printf(b, ",\"running\":%s,\"healthy\":%s,\"ready\":%s,\"reason\":",
                      st->gone ? "false" : "true", st->healthy ? "true" : "false",
                      st->ready ? "true" : "false");
        pp_json_put_str(b, st->reason, strlen(st->reason));
        if (st->have_records) {
            pp_buf_printf(b, ",\"records\":%.0f", st->records[1]);
            json_rate(b, s, st->records[0], st->records[1]);
        }
        pp_buf_putc(b, '}');
    }
    pp_buf_puts(b, "],\"log\":[");
    int first = 1;
    for (int k = 0; k < s->nparts; k++) {
        const struct part *pt = &s->parts[k];
        if (pt->group)
            continue;
        pp_buf_printf(b, "%s{\"topic\":", first ? "" : ",");
        pp_json_put_str(b, pt->topic, strlen(pt->topic));
        pp_buf_printf(b, ",\"partition\":%d,\"low\":%" PRId64 ",\"high\":%" PRId64,
                      pt->partition, pt->low, pt->high);
        json_rate(b, s, (double)pt->high0, (double)pt->high);
        pp_buf_putc(b, '}');
        first = 0;
    }
    pp_buf_puts(b, "],\"groups\":[");
    for (int g = 0; g < s->ngroups; g++) {
        int64_t total = 0;
        pp_buf_printf(b, "%s{\"group\":", g ? "," : "");
        pp_json_put_str(b, s->groups[g], strlen(s->groups[g]));
        pp_buf_puts(b, ",\"partitions\":[");
        first = 1;
        for (int k = 0; k < s->nparts; k++) {
            const struct part *pt = &s->parts[k];
            if (pt->group != s->groups[g] || pt->committed[1] < 0)
                continue;
            int64_t next = pt->committed[1], lag = pt->high > next ? pt->high - next : 0;
            total += lag;
            pp_buf_printf(b, "%s{\"topic\":", first ? "" : ",");
            pp_json_put_str(b, pt->topic, strlen(pt->topic));
            pp_buf_printf(b, ",\"partition\":%d,\"committed\":%" PRId64 ",\"lag\":%" PRId64,
                          pt->partition, next, lag);
            json_rate(b, s, pt->committed[0] < 0 ? (double)next : (double)pt->committed[0],
                      (double)next);
            pp_buf_putc(b, '}');
            first = 0;
        }
        pp_buf_printf(b, "],\"total_lag\":%" PRId64 "}", total);
    }
    pp_buf_putc(b, ']');
}

/* ---- the warehouse ---- */

struct runs {
    struct pp_buf *json; /* NULL: print */
    int n;
};

static void on_run(void *arg, const struct pp_wh_dag_task *t)
{
    struct runs *r = arg;
    char start[24] = "-", end[24] = "-";
    if (t->start_ms)
        pp_time_format(t->start_ms / 1000, start, sizeof(start));
    if (t->end_ms)
        pp_time_format(t->end_ms / 1000, end, sizeof(end));
    const char *err = t->error ? t->error : "";
    if (!r->json) {
        printf("  %-14s %-10s %-15s %-16s %8d  %-19s  %-19s  %s\n", t->dag, t->run_date, t->task,
               t->state, t->attempts, start, end, err);
    } else {
        struct pp_buf *b = r->json;
        pp_buf_puts(b, r->n ? ",{\"dag\":" : "{\"dag\":");
        pp_json_put_str(b, t->dag, strlen(t->dag));
        pp_buf_printf(b, ",\"run_date\":\"%s\",\"task\":", t->run_date);
        pp_json_put_str(b, t->task, strlen(t->task));
        pp_buf_puts(b, ",\"state\":");
        pp_json_put_str(b, t->state, strlen(t->state));
        pp_buf_printf(b, ",\"attempts\":%d,\"start_ms\":%" PRId64 ",\"end_ms\":%" PRId64
                         ",\"error\":",
                      t->attempts, t->start_ms, t->end_ms);
        pp_json_put_str(b, err, strlen(err));
        pp_buf_putc(b, '}');
    }
    r->n++;
}

/* The warehouse section. @returns 0, or 1 when a PostgreSQL warehouse was unreachable (its
 * one-line reason in fail). */
static int warehouse(const char *wh_path, int connect_ms, int nruns, struct pp_buf *json,
                     char *fail, size_t fail_size)
{
    char err[512], red[512];
    struct stat st;
    pp_wh_redact(wh_path, red, sizeof(red));
    if (json) {
        pp_buf_puts(json, ",\"warehouse\":{\"spec\":");
        pp_json_put_str(json, red, strlen(red));
    } else {
        printf("\nwarehouse %s\n", red);
    }
    struct pp_wh *wh = NULL;
    if (!pp_wh_is_url(wh_path) && stat(wh_path, &st))
        snprintf(err, sizeof(err), "not created yet");
    else
        wh = pp_wh_open_timeout(wh_path, connect_ms, err, sizeof(err));
    if (!wh) {
        if (pp_wh_is_url(wh_path))
            snprintf(fail, fail_size, "warehouse %s: %s", red, err);
        if (json) {
            pp_buf_puts(json, ",\"reachable\":false,\"error\":");
            pp_json_put_str(json, err, strlen(err));
            pp_buf_puts(json, "},\"dag_runs\":[]");
        } else {
            printf(strcmp(err, "not created yet") ? "  unreachable: %s\n" : "  (%s)\n", err);
        }
        return pp_wh_is_url(wh_path);
    }
    if (json)
        pp_buf_puts(json, ",\"reachable\":true,\"rows\":{");
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        int64_t n = 0;
        if (pp_wh_count(wh, (enum pp_kind)k, &n))
            continue;
        if (json)
            pp_buf_printf(json, "%s\"%s\":%" PRId64, k ? "," : "", pp_kind_name((enum pp_kind)k),
                          n);
        else
            printf("  %-5s %10" PRId64 " rows\n", pp_kind_name((enum pp_kind)k), n);
    }
    struct runs r = {json, 0};
    if (json) {
        pp_buf_puts(json, "}},\"dag_runs\":[");
    } else {
        printf("\nlast dag runs (newest first; pinpipe dag history for more)\n  %-14s %-10s %-15s "
               "%-16s %8s  %-19s  %-19s  %s\n",
               "dag", "run_date", "task", "state", "attempts", "start", "end", "error");
    }
    if (nruns > 0 && pp_wh_dag_history(wh, NULL, nruns, on_run, &r) < 0 && !json)
        printf("  (history unreadable: %s)\n", pp_wh_errmsg(wh));
    if (json)
        pp_buf_putc(json, ']');
    else if (!r.n)
        printf("  (none yet)\n");
    pp_wh_close(wh);
    return 0;
}

int cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", 1, 0, 'd'}, {"warehouse", 1, 0, 'w'}, {"interval", 1, 0, 'i'},
        {"runs", 1, 0, 'r'},     {"json", 0, 0, 'j'},      {"help", 0, 0, 'h'},
        PP_CLI_LOG_OPTIONS,      PP_CLI_CONNECT_OPTIONS,   {0, 0, 0, 0}};
    const char *data_dir = PP_DEFAULT_DATA_DIR, *wh_path = NULL;
    struct pp_log_conf lconf;
    pp_log_conf_defaults(&lconf);
    int c, as_json = 0;
    int64_t interval_ms = isatty(STDOUT_FILENO) ? 1000 : 0, nruns = 9;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hX:", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data_dir = optarg; break;
        case 'w': wh_path = optarg; break;
        case 'j': as_json = 1; break;
        case 'i':
            if (pp_parse_duration_ms(optarg, &interval_ms) || interval_ms < 0 ||
                interval_ms > 60000)
                return pp_cli_fail("status", 2, "--interval wants 0..60s, got '%s'", optarg);
            break;
        case 'r':
            if (pp_parse_i64(optarg, 0, MAX_RUNS * 100, &nruns))
                return pp_cli_fail("status", 2, "--runs wants 0..%d, got '%s'", MAX_RUNS * 100,
                                   optarg);
            break;
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
    char log_dir[4096], wh_default[4096], err[512] = "", wh_fail[1024] = "";
    pp_cli_path(data_dir, "log", log_dir, sizeof(log_dir));
    pp_cli_path(data_dir, "warehouse.db", wh_default, sizeof(wh_default));
    lconf.dir = log_dir;
    lconf.readonly = 1;
    struct pp_log *log = pp_log_open(&lconf, err, sizeof(err));
    if (!log)
        return pp_cli_log_fail("status", &lconf, log_dir, err);
    static struct status s;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    find_stages(&s, data_dir);
    probe_stages(&s, 0, interval_ms == 0);
    sample_log(&s, log, 0);
    if (interval_ms > 0) {
        int64_t t0 = pp_mono_us();
        usleep((useconds_t)(interval_ms * 1000));
        probe_stages(&s, 1, 1);
        sample_log(&s, log, 1);
        s.secs = (double)(pp_mono_us() - t0) / 1e6;
    } else {
        for (int k = 0; k < s.nstages; k++)
            s.stages[k].records[1] = s.stages[k].records[0];
        for (int k = 0; k < s.nparts; k++)
            s.parts[k].committed[1] = s.parts[k].committed[0];
    }
    const char *wh = wh_path ? wh_path : wh_default;
    int status = 0;
    if (as_json) {
        struct pp_buf b;
        pp_buf_init(&b, 0);
        pp_buf_printf(&b, "{\"interval_s\":%.3f,", s.secs);
        json_stages(&s, &b);
        status = warehouse(wh, lconf.connect_timeout_ms, (int)nruns, &b, wh_fail,
                           sizeof(wh_fail));
        pp_buf_puts(&b, "}\n");
        fwrite(b.data, 1, b.len, stdout);
        pp_buf_free(&b);
    } else {
        print_stages(&s);
        print_log(&s);
        print_rates(&s);
        status = warehouse(wh, lconf.connect_timeout_ms, (int)nruns, NULL, wh_fail,
                           sizeof(wh_fail));
    }
    for (int g = 0; g < s.ngroups; g++)
        free(s.groups[g]);
    pp_log_close(log);
    curl_global_cleanup();
    fflush(stdout); /* the screen first, then the reason it is incomplete */
    return status ? pp_cli_fail("status", 1, "%s", wh_fail) : 0;
}
