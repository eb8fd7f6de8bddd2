/* test_dash.c: the dashboard handler: embedded assets (paths, content types, ETag,
 * Cache-Control, 404 by returning 0), the JSON endpoints over a temp SQLite warehouse and an
 * embedded log (insights identical to pp_wh_insights_print, DAG runs with limit, stats with
 * lag and rates), caching, and that a missing warehouse is reported, not created. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pp_clean.h"
#include "pp_dash.h"
#include "pp_json.h"
#include "pp_log.h"
#include "pp_test.h"
#include "pp_wh.h"

static char tmpdir[] = "/tmp/pp_test_dash.XXXXXX";

/* Call the handler with a fresh response. @returns what the handler returned. */
static int get(struct pp_dash *dash, const char *path, const char *query, struct pp_http_resp *resp)
{
    pp_http_resp_reset(resp);
    resp->data = NULL;
    resp->data_len = 0;
    resp->cache = NULL;
    resp->etag[0] = '\0';
    return pp_dash_handle(dash, path, query, resp);
}

/* The body as a NUL-terminated string (body or static data). @returns owned. */
static char *body_str(const struct pp_http_resp *resp)
{
    const char *p = resp->data ? resp->data : resp->body.data;
    size_t n = resp->data ? resp->data_len : resp->body.len;
    char *s = malloc(n + 1);
    memcpy(s, p ? p : "", n);
    s[n] = '\0';
    return s;
}

static int valid_json(const struct pp_http_resp *resp)
{
    struct pp_json doc;
    pp_json_init(&doc);
    char err[128];
    int rc = pp_json_parse(&doc, resp->body.data, resp->body.len, 1 << 20, err, sizeof(err));
    pp_json_free(&doc);
    return rc == 0;
}

static void test_assets(struct pp_dash *dash)
{
    int n;
    const struct pp_dash_asset *a = pp_dash_assets(&n);
    PP_CHECK(n >= 5);
    struct pp_http_resp resp;
    pp_http_resp_init(&resp, 0);
    static const struct {
        const char *path, *ctype, *needle;
    } want[] = {
        {"/", "text/html; charset=utf-8", "<script src=\"/app.js\""},
        {"/index.html", "text/html; charset=utf-8", "/vendor/chart.umd.min.js"},
        {"/app.js", "text/javascript; charset=utf-8", "/api/insights"},
        {"/style.css", "text/css; charset=utf-8", ".chart-box"},
        {"/vendor/chart.umd.min.js", "text/javascript; charset=utf-8", "Chart.js v4"},
        {"/vendor/chart.js.LICENSE.md", "text/plain; charset=utf-8", "MIT"},
    };
    char etag_index[40] = "";
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        PP_CHECK_INT(get(dash, want[i].path, "", &resp), 1);
        PP_CHECK_INT(resp.status, 200);
        PP_CHECK_STR(resp.ctype, want[i].ctype);
        PP_CHECK_STR(resp.cache, "no-cache");
        PP_CHECK(resp.data != NULL && resp.data_len > 0);
        PP_CHECK(resp.etag[0] == '"' && strlen(resp.etag) == 18 && resp.etag[17] == '"');
        char *s = body_str(&resp);
        PP_CHECK(strstr(s, want[i].needle) != NULL);
        free(s);
        if (i == 0)
            snprintf(etag_index, sizeof(etag_index), "%s", resp.etag);
        else if (i == 1)
            PP_CHECK_STR(resp.etag, etag_index); /* "/" is index.html: same ETag */
        else
            PP_CHECK(strcmp(resp.etag, etag_index) != 0);
    }
    /* the table's sizes are the files' */
    for (int i = 0; i < n; i++)
        if (!strcmp(a[i].path, "/app.js")) {
            PP_CHECK_INT(get(dash, "/app.js", "", &resp), 1);
            PP_CHECK_INT(resp.data_len, a[i].len);
        }
    /* not the dashboard's: 0, resp untouched, so the server answers its 404 */
    static const char *const other[] = {"/nope",    "/api/nope", "/index.htm",    "/app.js/",
                                        "/vendor/", "",          "/API/insights", "/api"};
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        PP_CHECK_INT(get(dash, other[i], "", &resp), 0);
        PP_CHECK_INT(resp.status, 0);
        PP_CHECK(resp.data == NULL && resp.etag[0] == '\0');
    }
    PP_CHECK_INT(pp_dash_handle(NULL, "/", "", &resp), 0);
    pp_http_resp_free(&resp);
}

static void add_rows(const char *wh_path, int n)
{
    char err[256];
    struct pp_wh *wh = pp_wh_open(wh_path, err, sizeof(err));
    PP_CHECK(wh != NULL);
    struct pp_row row;
    struct pp_verr verr;
    pp_row_init(&row);
    static const char *const cats[] = {"art", "travel", "finance"};
    static const char *const countries[] = {"Chad", "Peru"};
    for (int i = 0; i < n && wh; i++) {
        char js[512];
        snprintf(js, sizeof(js),
                 "{\"index\": %d, \"unique_id\": \"u%d\", \"title\": \"t\", \"description\": "
                 "\"d\", \"poster_name\": \"p%d\", \"follower_count\": \"%dk\", \"tag_list\": "
                 "\"x\", \"is_image_or_video\": \"image\", \"image_src\": \"i\", \"downloaded\": "
                 "1, \"save_location\": \"Local save in /data/x\", \"category\": \"%s\"}",
                 i, i, i, i + 1, cats[i % 3]);
        PP_CHECK_INT(pp_clean_record(PP_KIND_PIN, js, strlen(js), &row, &verr), 0);
        PP_CHECK_INT(pp_wh_upsert(wh, &row), 0);
        snprintf(js, sizeof(js),
                 "{\"ind\": %d, \"timestamp\": \"%d-02-10 09:05:46\", \"latitude\": 1.5, "
                 "\"longitude\": 2.5, \"country\": \"%s\"}",
                 i, 2018 + i % 3, countries[i % 2]);
        PP_CHECK_INT(pp_clean_record(PP_KIND_GEO, js, strlen(js), &row, &verr), 0);
        PP_CHECK_INT(pp_wh_upsert(wh, &row), 0);
        snprintf(js, sizeof(js),
                 "{\"ind\": %d, \"first_name\": \"A\", \"last_name\": \"B%d\", \"age\": %d, "
                 "\"date_joined\": \"%d-03-05 10:04:31\"}",
                 i, i, 20 + i * 7, 2015 + i % 3);
        PP_CHECK_INT(pp_clean_record(PP_KIND_USER, js, strlen(js), &row, &verr), 0);
        PP_CHECK_INT(pp_wh_upsert(wh, &row), 0);
    }
    pp_row_free(&row);
    struct pp_wh_dag_task t = {"pinpipe_daily",
                               "2026-01-02",
                               "batch",
                               "failed",
                               2,
                               1000,
                               2000,
                               "exit status 1: \"quoted\""};
    PP_CHECK_INT(pp_wh_dag_record(wh, &t), 0);
    t.run_date = "2026-01-03";
    t.state = "success";
    t.error = "";
    PP_CHECK_INT(pp_wh_dag_record(wh, &t), 0);
    pp_wh_close(wh);
}

/* The insights JSON as pp_wh_insights_print writes it, trailing newline dropped. */
static char *cli_insights(const char *wh_path)
{
    char err[256], *text = NULL;
    size_t len = 0;
    struct pp_wh *wh = pp_wh_open(wh_path, err, sizeof(err));
    FILE *f = open_memstream(&text, &len);
    PP_CHECK_INT(pp_wh_insights_print(wh, PP_WH_JSON, f), 0);
    fclose(f);
    pp_wh_close(wh);
    while (len && text[len - 1] == '\n')
        text[--len] = '\0';
    return text;
}

/* Many threads polling at once (as browsers through the server's thread pool): every answer
 * is whole and the same JSON. */
struct poller {
    struct pp_dash *dash;
    int ok;
};

static void *poll_main(void *arg)
{
    struct poller *p = arg;
    static const char *const paths[] = {"/api/insights", "/api/runs", "/api/stats", "/"};
    struct pp_http_resp resp;
    pp_http_resp_init(&resp, 0);
    for (int i = 0; i < 200; i++) {
        const char *path = paths[i % 4];
        if (get(p->dash, path, "", &resp) == 1 && resp.status == 200 &&
            (path[1] == '\0' || valid_json(&resp)))
            p->ok++;
    }
    pp_http_resp_free(&resp);
    return NULL;
}

static void test_concurrent(struct pp_dash *dash)
{
    struct poller p[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (struct poller){dash, 0};
        PP_CHECK_INT(pthread_create(&th[i], NULL, poll_main, &p[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        PP_CHECK_INT(p[i].ok, 200);
    }
}

static void test_warehouse(void)
{
    char wh_path[256], err[256];
    snprintf(wh_path, sizeof(wh_path), "%s/warehouse.db", tmpdir);
    struct pp_dash_conf conf = {.warehouse = wh_path, .cache_ms = 1};
    struct pp_dash *dash = pp_dash_new(&conf, err, sizeof(err));
    PP_CHECK(dash != NULL);
    struct pp_http_resp resp;
    pp_http_resp_init(&resp, 0);

    /* no warehouse yet: 503 with a JSON error, and the file is not created */
    PP_CHECK_INT(get(dash, "/api/insights", "", &resp), 1);
    PP_CHECK_INT(resp.status, 503);
    PP_CHECK_STR(resp.ctype, "application/json");
    PP_CHECK(valid_json(&resp));
    char *s = body_str(&resp);
    PP_CHECK(strstr(s, "{\"error\":") == s && strstr(s, "does not exist yet"));
    free(s);
    struct stat st;
    PP_CHECK(stat(wh_path, &st) != 0);
    PP_CHECK_INT(get(dash, "/api/runs", "", &resp), 1);
    PP_CHECK_INT(resp.status, 503);

    add_rows(wh_path, 12);
    usleep(2000); /* past the 1 ms cache */
    PP_CHECK_INT(get(dash, "/api/insights", "", &resp), 1);
    PP_CHECK_INT(resp.status, 200);
    PP_CHECK_STR(resp.cache, "no-cache");
    PP_CHECK(resp.etag[0] == '"');
    PP_CHECK(valid_json(&resp));
    s = body_str(&resp);
    char *want = cli_insights(wh_path);
    const char *prefix = "{\"rows\":{\"pin\":12,\"geo\":12,\"user\":12},\"insights\":";
    PP_CHECK(!strncmp(s, prefix, strlen(prefix)));
    /* exactly what `pinpipe insights --format json` prints, inside */
    size_t wl = strlen(want);
    PP_CHECK(strlen(s) == strlen(prefix) + wl + 1 && !strncmp(s + strlen(prefix), want, wl) &&
             s[strlen(s) - 1] == '}');
    PP_CHECK(strstr(want, "\"popular_category_by_country\": [") != NULL);
    PP_CHECK(strstr(want, "\"country\": \"Chad\"") != NULL);
    free(want);
    /* same data: same ETag */
    char etag[40];
    snprintf(etag, sizeof(etag), "%s", resp.etag);
    usleep(2000);
    PP_CHECK_INT(get(dash, "/api/insights", "", &resp), 1);
    PP_CHECK_STR(resp.etag, etag);
    free(s);

    PP_CHECK_INT(get(dash, "/api/runs", "", &resp), 1);
    PP_CHECK_INT(resp.status, 200);
    PP_CHECK(valid_json(&resp));
    s = body_str(&resp);
    PP_CHECK(strstr(s, "\"run_date\":\"2026-01-03\"") < strstr(s, "\"run_date\":\"2026-01-02\""));
    PP_CHECK(strstr(s, "\"state\":\"failed\",\"attempts\":2,\"start_ms\":1000,\"end_ms\":2000,"
                       "\"error\":\"exit status 1: \\\"quoted\\\"\"") != NULL);
    free(s);
    PP_CHECK_INT(get(dash, "/api/runs", "limit=1", &resp), 1);
    s = body_str(&resp);
    PP_CHECK(strstr(s, "2026-01-03") && !strstr(s, "2026-01-02"));
    free(s);
    PP_CHECK_INT(get(dash, "/api/runs", "x=1&limit=bad", &resp), 1); /* default limit */
    s = body_str(&resp);
    PP_CHECK(strstr(s, "2026-01-03") && strstr(s, "2026-01-02"));
    free(s);
    test_concurrent(dash);
    pp_http_resp_free(&resp);
    pp_dash_destroy(dash);
}

/* Value of "key": in stage's object of a stats body (-2 when absent, -1 for null). */
static double stage_val(const char *body, const char *stage, const char *key)
{
    char pat[96];
    snprintf(pat, sizeof(pat), "{\"stage\":\"%s\"", stage);
    const char *p = strstr(body, pat);
    if (!p)
        return -2;
    const char *end = strchr(p, '}');
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *k = strstr(p, pat);
    if (!k || k > end)
        return -2;
    k += strlen(pat);
    return !strncmp(k, "null", 4) ? -1 : strtod(k, NULL);
}

static void test_stats(void)
{
    char dir[300], err[256];
    snprintf(dir, sizeof(dir), "%s/log", tmpdir);
    struct pp_log_conf lconf;
    pp_log_conf_defaults(&lconf);
    lconf.dir = dir;
    lconf.partitions = 2;
    lconf.fsync = PP_FSYNC_NEVER;
    struct pp_log *log = pp_log_open(&lconf, err, sizeof(err));
    PP_CHECK(log != NULL);
    if (!log)
        return;
    for (int i = 0; i < 10; i++)
        PP_CHECK_INT(pp_log_append(log, "pin", i % 2, NULL, 0, "{}", 2, 0, NULL, NULL, NULL), 0);
    PP_CHECK_INT(pp_log_commit(log, "stream", "pin", 0, 5), 0);
    PP_CHECK_INT(pp_log_commit(log, "stream", "pin", 1, 2), 0);

    struct pp_metrics *metrics = pp_metrics_new();
    struct pp_dash_conf conf = {.warehouse = "", .log = log, .metrics = metrics, .cache_ms = 60000};
    struct pp_dash *dash = pp_dash_new(&conf, err, sizeof(err));
    struct pp_http_resp resp;
    pp_http_resp_init(&resp, 0);
    PP_CHECK_INT(get(dash, "/api/stats", "", &resp), 1);
    PP_CHECK_INT(resp.status, 200);
    PP_CHECK_STR(resp.ctype, "application/json");
    PP_CHECK(valid_json(&resp));
    char *s = body_str(&resp);
    PP_CHECK(stage_val(s, "ingest", "records") == 0); /* no HTTP collector: nothing counted */
    PP_CHECK(stage_val(s, "log", "records") == 10);
    PP_CHECK(stage_val(s, "log", "rate") == -1); /* first sample: no rate yet */
    PP_CHECK(stage_val(s, "stream", "records") == 7);
    PP_CHECK(stage_val(s, "stream", "lag") == 3);
    PP_CHECK(strstr(s, "{\"group\":\"stream\",\"topic\":\"pin\",\"partition\":1,\"committed\":2,"
                       "\"lag\":3}") != NULL);
    PP_CHECK(strstr(s, "{\"topic\":\"pin\",\"partition\":0,\"low\":0,\"high\":5}") != NULL);
    free(s);
    /* cached for 60 s: more records do not show yet */
    PP_CHECK_INT(pp_log_append(log, "pin", 0, NULL, 0, "{}", 2, 0, NULL, NULL, NULL), 0);
    PP_CHECK_INT(get(dash, "/api/stats", "", &resp), 1);
    s = body_str(&resp);
    PP_CHECK(stage_val(s, "log", "records") == 10);
    free(s);
    pp_dash_destroy(dash);

    /* a short cache: the new sample shows, with a rate from the previous one */
    conf.cache_ms = 1;
    dash = pp_dash_new(&conf, err, sizeof(err));
    PP_CHECK_INT(get(dash, "/api/stats", "", &resp), 1);
    usleep(20000);
    for (int i = 0; i < 4; i++)
        PP_CHECK_INT(pp_log_append(log, "geo", -1, NULL, 0, "{}", 2, 0, NULL, NULL, NULL), 0);
    PP_CHECK_INT(pp_log_commit(log, "stream", "pin", 0, 6), 0);
    PP_CHECK_INT(pp_log_commit(log, "stream", "pin", 1, 5), 0);
    PP_CHECK_INT(get(dash, "/api/stats", "", &resp), 1);
    s = body_str(&resp);
    PP_CHECK(stage_val(s, "log", "records") == 15);
    PP_CHECK(stage_val(s, "log", "rate") > 0);
    PP_CHECK(stage_val(s, "stream", "records") == 11);
    PP_CHECK(stage_val(s, "stream", "rate") > 0);
    PP_CHECK(stage_val(s, "stream", "lag") == 0); /* geo: no commits of the group yet */
    free(s);
    pp_http_resp_free(&resp);
    pp_dash_destroy(dash);
    pp_metrics_destroy(metrics);
    pp_log_close(log);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    char err[128];
    struct pp_dash_conf conf = {.warehouse = "/nonexistent/warehouse.db"};
    struct pp_dash *dash = pp_dash_new(&conf, err, sizeof(err));
    PP_CHECK(dash != NULL);
    test_assets(dash);
    pp_dash_destroy(dash);
    pp_dash_destroy(NULL);
    test_warehouse();
    test_stats();
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    PP_TEST_DONE();
}
