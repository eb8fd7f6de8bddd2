/* pp_dash.h: the dashboard: the web page of web/ (embedded into the binary at build time,
 * charting library from npm) and the JSON it polls, served through pp_http_conf.get.
 *
 * Paths (GET/HEAD; anything else is left to the server's 404):
 *   /  /index.html  /app.js  /style.css  /vendor/chart.umd.min.js  /vendor/chart.js.LICENSE.md
 *       the embedded files: ETag (hash of the bytes) + "Cache-Control: no-cache", so a
 *       browser revalidates and gets 304 while the binary is the same.
 *   /api/insights  {"rows":{"pin":N,"geo":N,"user":N},"insights":{..}} where insights is
 *       exactly what `pinpipe insights --format json` prints (pp_wh_insights_print): live,
 *       over the warehouse's current rows.
 *   /api/stats     {"ts_ms","interval_ms","stages":[..],"lag":[..],"partitions":[..]}: per
 *       stage a cumulative record counter and its rate (records/s, the delta since the
 *       previous sample; null on the first), the consumer groups' lag:
 *         ingest  records accepted by the HTTP API (from the metrics registry, when given)
 *         log     records appended to the log (sum of high watermarks)
 *         <group> each consumer group (stream, lake): sum of committed offsets, lag =
 *                 high watermark - committed, per partition in "lag" (as `pinpipe status`)
 *   /api/runs[?limit=N]  {"runs":[{dag,run_date,task,state,attempts,start_ms,end_ms,error}]}:
 *       the newest DAG task runs (pp_wh_dag_history), newest first; limit 1..200, default 20.
 * API answers carry an ETag and "Cache-Control: no-cache"; 503 {"error":msg} when the
 * warehouse cannot be read (e.g. not created yet). Each answer is computed at most once per
 * cache period (default 1 s; the insights' grows to 4x their compute time, at most 30 s)
 * whatever the number of browsers polling; while one request computes it, the others get the
 * previous answer at once, so at most one server thread per endpoint waits on the warehouse.
 *
 * The warehouse is opened lazily on first use, one connection per endpoint (never created: a
 * SQLite file that does not exist yet is reported, not made) and only read; it is reopened
 * after an error. */
#ifndef PP_DASH_H
#define PP_DASH_H

#include <stddef.h>

#include "pp_http.h"
#include "pp_log.h"
#include "pp_metrics.h"

struct pp_dash_conf {
    const char *warehouse;      /* SQLite file or postgresql:// URI (copied) */
    struct pp_log *log;         /* borrowed: must outlive the dashboard; NULL: no log stats */
    struct pp_metrics *metrics; /* borrowed, optional: the ingest counters */
    int cache_ms;               /* 0 = default 1000 */
};

struct pp_dash;

/* @returns owned: release with pp_dash_destroy() (after the HTTP server stopped calling it).
 * NULL with errstr filled when out of memory. */
struct pp_dash *pp_dash_new(const struct pp_dash_conf *conf, char *errstr, size_t errstr_size);
void pp_dash_destroy(struct pp_dash *dash);

/* The pp_http_conf.get handler: arg is the struct pp_dash. Fills resp for the paths above
 * (resp->data points into the binary's read-only assets for files).
 * @returns 1 when the path is the dashboard's, 0 otherwise (resp untouched). @thread any. */
int pp_dash_handle(void *arg, const char *path, const char *query, struct pp_http_resp *resp);

/* One embedded file (the table is generated at build time from web/ by web/embed.cmake). */
struct pp_dash_asset {
    const char *path;  /* URL path, e.g. "/app.js" */
    const char *ctype; /* Content-Type */
    const unsigned char *data;
    size_t len;
};
/* @returns borrowed: the embedded files (static), *n their count. */
const struct pp_dash_asset *pp_dash_assets(int *n);

#endif
