/* server.c: libmicrohttpd glue: per-connection state, body accumulation under a cap, appends
 * to the log, acknowledgement only once durable (suspend/resume), graceful stop. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "pp_auth.h"
#include "pp_err.h"
#include "pp_http.h"
#include "pp_util.h"

#define MOD "http"
/* Keep at most this much buffer memory per idle keep-alive connection. */
#define KEEP_BYTES (256 * 1024)
/* A chunked body past max_body is read and dropped up to this much more, then cut. */
#define DISCARD_MAX ((uint64_t)64 << 20)

/* MHD's per-connection pool (headers + read/write buffers); it is cleared per request, so
 * smaller is faster; 16 KiB still takes long header sets. */
#define MEM_LIMIT ((size_t)16 * 1024)
/* While stopping, a request waits for durability in its MHD thread at most this long. */
#define STOP_DURABLE_MS 10000

enum req_state { REQ_NEW, REQ_DEFER, REQ_BODY, REQ_WAIT, REQ_READY };

/* Metrics: requests by route and status, records by topic and outcome. */
#define NROUTES (PP_ROUTE_GET_EXTRA + 1)
static const char *const route_names[NROUTES] = {
    "unknown", "healthz", "readyz", "metrics", "fastapi", "topics", "topic", "produce",
    "streams", "stream", "put_record", "put_records", "dashboard"};
static const int codes[] = {200, 304, 400, 401, 403, 404, 405, 411, 413, 415, 422, 429, 500, 503};
#define NCODES (sizeof(codes) / sizeof(codes[0]) + 1) /* + "other" */
enum rec_outcome { OUT_ACCEPTED, OUT_REJECTED, OUT_FAILED, NOUTCOMES };
static const char *const phase_names[PP_HTTP_PHASE_COUNT] = {"headers", "body"};
/* Requests libmicrohttpd ended without our handler seeing them whole, by how it ended
 * (enum MHD_RequestTerminationCode): malformed or oversized request lines and headers (it
 * answers 400/414/431 itself), bad chunked bodies, clients that went away, timeouts. */
#define NTERM 6
static const char *const term_names[NTERM] = {"completed", "error", "timeout", "shutdown",
                                              "read_error", "client_abort"};
static const char *const outcome_names[NOUTCOMES] = {"accepted", "rejected", "failed"};

struct pp_http {
    struct MHD_Daemon *daemon;
    struct pp_log *log;
    struct pp_http_conf conf;
    char listen[300];
    int nparts[PP_KIND_COUNT];
    int max_tokens;
    char rejects[256];   /* dead-letter topic ("" = none) */
    char hosts[1024];    /* allowed Host names for the dashboard and /metrics */
    atomic_int stopping;
    atomic_int inflight; /* requests begun and not completed */
    atomic_int waiting;  /* requests suspended until durable */
    atomic_llong requests[NROUTES][NCODES];
    atomic_llong records[PP_KIND_COUNT][NOUTCOMES];
    atomic_llong body_bytes;
    struct pp_http_guard *guard;
    atomic_llong timeouts[PP_HTTP_PHASE_COUNT];
    atomic_llong unhandled[NTERM][2]; /* [how][0 = before the handler, 1 = in the body] */
    atomic_int append_failing;     /* the last append failed */
    atomic_llong append_failed_ms; /* when (pp_now_ms) */
    atomic_int append_failed_rc;
    atomic_llong append_warn_ms;   /* last warning about it */
    atomic_int append_warned;      /* a warning is out for this episode */
};

/* While appends fail (full disk, I/O error, a failed fsync) /readyz answers 503, for at most
 * this long after the last failure; then traffic may probe the log again (a load balancer that
 * took the server out would otherwise never send the request that shows the log recovered). */
#define APPEND_FAIL_READY_MS 5000

/* Appends failing and succeeding again: not ready while failing; a warning when they start
 * to fail and a line when they succeed again, at most once a minute (a nearly full disk makes
 * appends alternate between failing and succeeding). rc 0 = success. */
static void note_append(struct pp_http *http, int rc)
{
    if (!rc) {
        if (atomic_load_explicit(&http->append_failing, memory_order_relaxed) &&
            atomic_exchange(&http->append_failing, 0) && atomic_exchange(&http->append_warned, 0))
            PP_INFO(MOD, "log appends succeed again: ready");
        return;
    }
    if (rc == PP_EFULL || rc == PP_ESHUTDOWN || rc == PP_ETOOBIG || rc == PP_EAGAIN)
        return; /* back-pressure, stopping, or the request's own fault: not the log failing */
    int64_t now = pp_now_ms();
    atomic_store(&http->append_failed_rc, rc);
    atomic_store(&http->append_failed_ms, now);
    if (atomic_exchange(&http->append_failing, 1))
        return;
    long long last = atomic_load(&http->append_warn_ms);
    if (now - last >= 60000 && atomic_compare_exchange_strong(&http->append_warn_ms, &last, now)) {
        atomic_store(&http->append_warned, 1);
        PP_WARN(MOD, "log appends fail (%s: disk full?): answering 503 + Retry-After and "
                "not ready until they succeed", pp_err_str(rc));
    }
}

static int append_failing(struct pp_http *http)
{
    return atomic_load(&http->append_failing) &&
           pp_now_ms() - atomic_load(&http->append_failed_ms) < APPEND_FAIL_READY_MS;
}


static void count_request(struct pp_http *http, enum pp_http_route_id route, int status)
{
    size_t c = 0;
    while (c < NCODES - 1 && codes[c] != status)
        c++;
    atomic_fetch_add_explicit(&http->requests[route < NROUTES ? route : 0][c], 1,
                              memory_order_relaxed);
}

/* The collector for GET /metrics. */
static void http_collect(void *arg, struct pp_buf *out)
{
    struct pp_http *http = arg;
    char labels[96];
    pp_metrics_head(out, "pinpipe_http_requests_total", "counter",
                    "HTTP requests answered, by route and status code");
    for (int r = 0; r < NROUTES; r++)
        for (size_t c = 0; c < NCODES; c++) {
            long long v = atomic_load_explicit(&http->requests[r][c], memory_order_relaxed);
            if (!v)
                continue;
            if (c < NCODES - 1)
                snprintf(labels, sizeof(labels), "route=\"%s\",code=\"%d\"", route_names[r],
                         codes[c]);
            else
                snprintf(labels, sizeof(labels), "route=\"%s\",code=\"other\"", route_names[r]);
            pp_metrics_sample(out, "pinpipe_http_requests_total", labels, (double)v);
        }
    pp_metrics_head(out, "pinpipe_ingest_records_total", "counter",
                    "records in ingestion requests, by topic and outcome (accepted = in the log "
                    "and acknowledged, rejected = invalid, failed = not stored: log full or down)");
    for (int k = 0; k < PP_KIND_COUNT; k++)
        for (int o = 0; o < NOUTCOMES; o++) {
            snprintf(labels, sizeof(labels), "topic=\"%s\",outcome=\"%s\"",
                     pp_kind_name((enum pp_kind)k), outcome_names[o]);
            pp_metrics_sample(out, "pinpipe_ingest_records_total", labels,
                              (double)atomic_load(&http->records[k][o]));
        }
    pp_metrics_head(out, "pinpipe_http_request_body_bytes_total", "counter",
                    "bytes of request bodies received");
    pp_metrics_sample(out, "pinpipe_http_request_body_bytes_total", "",
                      (double)atomic_load(&http->body_bytes));
    pp_metrics_head(out, "pinpipe_http_timeouts_total", "counter",
                    "connections closed because a request's headers or body did not arrive in "
                    "time (--header-timeout, --body-timeout)");
    for (int p = 0; p < PP_HTTP_PHASE_COUNT; p++) {
        snprintf(labels, sizeof(labels), "phase=\"%s\"", phase_names[p]);
        pp_metrics_sample(out, "pinpipe_http_timeouts_total", labels,
                          (double)atomic_load(&http->timeouts[p]));
    }
    pp_metrics_head(out, "pinpipe_http_unhandled_requests_total", "counter",
                    "requests ended inside the HTTP library, by how (libmicrohttpd's "
                    "termination code; error: it answered 400/413/414/431 itself to a malformed "
                    "or oversized request line, headers or chunked body) and where (headers: "
                    "before routing; body: while the body was read)");
    for (int t = 0; t < NTERM; t++)
        for (int w = 0; w < 2; w++) {
            long long v = atomic_load(&http->unhandled[t][w]);
            if (!v)
                continue;
            snprintf(labels, sizeof(labels), "how=\"%s\",where=\"%s\"", term_names[t],
                     w ? "body" : "headers");
            pp_metrics_sample(out, "pinpipe_http_unhandled_requests_total", labels, (double)v);
        }
    pp_metrics_head(out, "pinpipe_http_inflight_requests", "gauge",
                    "requests being read, processed or waiting for durability");
    pp_metrics_sample(out, "pinpipe_http_inflight_requests", "",
                      (double)atomic_load(&http->inflight));
}

/* Per connection, reused by every request on it (no malloc per request). */
struct conn_ctx {
    struct pp_http *http;
    struct MHD_Connection *conn;
    struct pp_http_guard_conn gc; /* deadlines of the request being read */
    enum req_state state;
    int begun;    /* the handler has seen this request's headers */
    int counted;
    int ingest;   /* a POST to an ingestion route: its refusals go to the dead-letter topic */
    const char *url; /* borrowed from MHD for the request */
    int has_body; /* the request announced a body (Content-Length > 0 or chunked) */
    struct pp_http_route route;
    enum pp_http_ctype ctype;
    int too_big;
    uint64_t discarded;
    struct pp_buf body;
    struct pp_json doc;
    struct pp_http_batch batch;
    struct pp_http_resp resp;
    atomic_int durable_rc;
    uint64_t ticket;           /* of the request's appends, while waiting for durability */
    struct pp_log_entry *ents; /* batch appends (REST proxy, Kinesis PutRecords) */
    char *keys;                /* KEY_SIZE bytes of key text per entry */
    int ents_cap;
};

#define KEY_SIZE 24

void pp_http_conf_defaults(struct pp_http_conf *conf)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    conf->listen = "127.0.0.1:8080";
    conf->max_body = 8u << 20;
    conf->threads = n > 0 ? (int)n : 1;
    conf->max_connections = 4096;
    conf->max_conns_per_ip = 64;
    conf->header_timeout = 10;
    conf->max_records = 10000;
    conf->body_timeout = 30;
    conf->idle_timeout = 60;
    conf->rejects_topic = PP_HTTP_REJECTS_TOPIC;
}

static struct conn_ctx *ctx_new(struct pp_http *http)
{
    struct conn_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return NULL;
    ctx->http = http;
    pp_buf_init(&ctx->body, http->conf.max_body);
    pp_json_init(&ctx->doc);
    pp_http_batch_init(&ctx->batch);
    pp_http_resp_init(&ctx->resp, 0);
    return ctx;
}

static void ctx_free(struct conn_ctx *ctx)
{
    if (!ctx)
        return;
    pp_buf_free(&ctx->body);
    pp_json_free(&ctx->doc);
    pp_http_batch_free(&ctx->batch);
    pp_http_resp_free(&ctx->resp);
    free(ctx->ents);
    free(ctx->keys);
    free(ctx);
}

/* The response fields only a conf.get handler sets. */
static void resp_clear_extra(struct pp_http_resp *resp)
{
    resp->data = NULL;
    resp->data_len = 0;
    resp->cache = NULL;
    resp->etag[0] = '\0';
}

/* After a request: forget it, but keep modest buffers for the next one. */
static void ctx_reset(struct conn_ctx *ctx)
{
    ctx->state = REQ_NEW;
    resp_clear_extra(&ctx->resp);
    ctx->too_big = 0;
    ctx->discarded = 0;
    if (ctx->body.cap > KEEP_BYTES)
        pp_buf_free(&ctx->body);
    pp_buf_reset(&ctx->body);
    if (ctx->resp.body.cap > KEEP_BYTES)
        pp_buf_free(&ctx->resp.body);
    if (ctx->batch.cap > 4096 || ctx->batch.scratch.cap > KEEP_BYTES ||
        ctx->batch.msgs.cap > KEEP_BYTES || ctx->doc.cap > 16384) {
        pp_http_batch_free(&ctx->batch);
        pp_http_batch_init(&ctx->batch);
        pp_json_free(&ctx->doc);
        pp_json_init(&ctx->doc);
    }
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct pp_http *http = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn_ctx *ctx = ctx_new(http);
        if (ctx) {
            ctx->conn = conn;
            const union MHD_ConnectionInfo *info =
                MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
            pp_http_guard_add(http->guard, &ctx->gc, info ? info->connect_fd : -1);
            pp_http_guard_set(&ctx->gc, PP_HTTP_PHASE_HEADERS, http->conf.header_timeout);
        }
        *socket_context = ctx;
    } else {
        struct conn_ctx *ctx = *socket_context;
        if (ctx)
            pp_http_guard_remove(http->guard, &ctx->gc);
        ctx_free(ctx);
        *socket_context = NULL;
        pp_tls_conn_closed(http->conf.tls, conn);
    }
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct pp_http *http = cls;
    struct conn_ctx *ctx = *req_cls;
    if (!ctx)
        return;
    /* Ended before the handler saw it (the library refused it), or with its body unread. */
    int in_body = ctx->begun && ctx->state == REQ_BODY;
    if ((!ctx->begun || (in_body && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)) &&
        (unsigned)toe < NTERM)
        atomic_fetch_add_explicit(&http->unhandled[toe][in_body], 1, memory_order_relaxed);
    if (ctx->counted)
        atomic_fetch_sub(&http->inflight, 1);
    ctx->counted = 0;
    ctx->begun = 0;
    ctx_reset(ctx);
    pp_http_guard_set(&ctx->gc, PP_HTTP_PHASE_HEADERS, http->conf.header_timeout);
    *req_cls = NULL;
}

/* libmicrohttpd calls this once the request line is in, before the headers: from here the
 * request is ours to account for (on_completed is called however it ends). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)uri;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn_ctx *ctx = info ? info->socket_context : NULL;
    if (ctx)
        ctx->begun = 0;
    return ctx;
}

static enum MHD_Result send_resp(struct conn_ctx *ctx)
{
    struct pp_http_resp *resp = &ctx->resp;
    /* MHD closes the connection after a response queued before the request was read; for a
     * request without a body, answer on the next call instead and keep the connection. */
    if (ctx->state == REQ_NEW && !ctx->has_body) {
        ctx->state = REQ_DEFER;
        return MHD_YES;
    }
    if (pp_http_resp_whole(resp, ctx->route.api))
        PP_WARN("http", "answer to %s could not be built (%s): sent 503 instead", ctx->url,
                "out of memory or too large");
    const void *data = resp->data ? resp->data : resp->body.data;
    size_t len = resp->data ? resp->data_len : resp->body.len;
    if (resp->etag[0] && resp->status == 200) {
        const char *inm = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND,
                                                      MHD_HTTP_HEADER_IF_NONE_MATCH);
        if (inm && (strstr(inm, resp->etag) || !strcmp(inm, "*"))) { /* client's copy is current */
            resp->status = 304;
            len = 0;
        }
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    if (resp->etag[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, resp->etag);
    if (resp->cache)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, resp->cache);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->ctype ? resp->ctype : "application/json");
    if (resp->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
    if (resp->retry_after) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", resp->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (resp->www_auth)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, resp->www_auth);
    if (atomic_load(&ctx->http->stopping))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(ctx->conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    if (ret == MHD_YES)
        count_request(ctx->http, ctx->route.id, resp->status);
    ctx->state = REQ_READY;
    return ret;
}

static enum MHD_Result send_error(struct conn_ctx *ctx, int status, int code, const char *type,
                                  const char *msg)
{
    pp_http_error(&ctx->resp, ctx->route.api, status, code, type, msg);
    return send_resp(ctx);
}

/* The request was refused as a whole with the 4xx in ctx->resp: note it in the dead-letter
 * topic with the response body as its error. */
static void note_refused(struct conn_ctx *ctx)
{
    int st = ctx->resp.status;
    if (!ctx->ingest || st < 400 || st >= 500 || !ctx->http->rejects[0])
        return;
    pp_http_reject_note(ctx->http->log, ctx->http->rejects, ctx->route.api, ctx->url,
                        ctx->route.kind, st, ctx->resp.body.data, ctx->resp.body.len,
                        ctx->batch.n > 0 ? ctx->batch.n : 1);
}

/* Refuse the request with a 4xx (noted as a dead letter) or 5xx. */
static enum MHD_Result refuse(struct conn_ctx *ctx, int status, int code, const char *type,
                              const char *msg)
{
    pp_http_error(&ctx->resp, ctx->route.api, status, code, type, msg);
    note_refused(ctx);
    return send_resp(ctx);
}

static enum MHD_Result not_found_kind(struct conn_ctx *ctx)
{
    char msg[300];
    const struct pp_http_route *route = &ctx->route;
    if (route->api == PP_HTTP_API_KINESIS) {
        snprintf(msg, sizeof(msg), "Stream %.*s under account 000000000000 not found.",
                 (int)route->name_len, route->name);
        return refuse(ctx, 404, 0, "ResourceNotFoundException", msg);
    }
    snprintf(msg, sizeof(msg), "Topic not found.");
    return refuse(ctx, 404, 40401, NULL, msg);
}

/* GET routes: answered from what the log knows. */
static enum MHD_Result answer_get(struct conn_ctx *ctx)
{
    struct pp_http *http = ctx->http;
    const struct pp_http_route *route = &ctx->route;
    const char *names[64];
    int n;
    switch (route->id) {
    case PP_ROUTE_HEALTH:
        pp_http_resp_reset(&ctx->resp);
        ctx->resp.status = 200;
        pp_buf_puts(&ctx->resp.body, "{\"status\":\"ok\"}");
        return send_resp(ctx);
    case PP_ROUTE_READY:
        if (atomic_load(&http->stopping))
            return send_error(ctx, 503, 0, NULL, "shutting down");
        if (append_failing(http)) {
            char msg[160];
            snprintf(msg, sizeof(msg), "log appends fail (%s: disk full?)",
                     pp_err_str(atomic_load(&http->append_failed_rc)));
            return send_error(ctx, 503, 0, NULL, msg);
        }
        n = pp_log_topics(http->log, names, 64);
        if (n < PP_KIND_COUNT)
            return send_error(ctx, 503, 0, NULL, "the log is not reachable or lacks topics");
        pp_http_resp_reset(&ctx->resp);
        ctx->resp.status = 200;
        pp_buf_puts(&ctx->resp.body, "{\"status\":\"ready\"}");
        return send_resp(ctx);
    case PP_ROUTE_METRICS:
        if (!http->conf.metrics)
            return send_error(ctx, 404, 0, NULL, "metrics are not enabled on this server");
        pp_http_resp_reset(&ctx->resp);
        ctx->resp.status = 200;
        ctx->resp.ctype = "text/plain; version=0.0.4; charset=utf-8";
        pp_metrics_render(http->conf.metrics, &ctx->resp.body);
        return send_resp(ctx);
    case PP_ROUTE_TOPICS:
    case PP_ROUTE_STREAMS:
        n = pp_log_topics(http->log, names, 64);
        if (n < 0)
            n = 0;
        if (route->id == PP_ROUTE_TOPICS)
            pp_http_proxy_topics(names, n, &ctx->resp);
        else
            pp_http_kinesis_streams(names, n, &ctx->resp);
        return send_resp(ctx);
    case PP_ROUTE_TOPIC:
    case PP_ROUTE_STREAM:
        if (route->kind == PP_KIND_NONE)
            return not_found_kind(ctx);
        if (route->id == PP_ROUTE_TOPIC)
            pp_http_proxy_topic(route->name, route->name_len, http->nparts[route->kind],
                                &ctx->resp);
        else
            pp_http_kinesis_stream(route->name, route->name_len, http->nparts[route->kind],
                                   &ctx->resp);
        return send_resp(ctx);
    default:
        return send_error(ctx, 500, 0, NULL, "unhandled route");
    }
}

/* Append one decoded query argument to the "k=v&k=v" text in cls (a pp_buf). */
static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct pp_buf *q = cls;
    if (q->len)
        pp_buf_putc(q, '&');
    pp_buf_puts(q, key);
    if (value) {
        pp_buf_putc(q, '=');
        pp_buf_puts(q, value);
    }
    return MHD_YES;
}

/* A GET/HEAD the ingestion API does not route: offer it to conf.get. @returns 1 if it
 * answered (resp filled), 0 for the usual 404. */
static int try_get_extra(struct conn_ctx *ctx, const char *url)
{
    struct pp_http *http = ctx->http;
    struct pp_buf query;
    pp_buf_init(&query, 8192);
    MHD_get_connection_values(ctx->conn, MHD_GET_ARGUMENT_KIND, query_arg, &query);
    pp_http_resp_reset(&ctx->resp);
    resp_clear_extra(&ctx->resp);
    int done = http->conf.get(http->conf.get_arg, url, query.data ? query.data : "", &ctx->resp);
    pp_buf_free(&query);
    if (done) {
        ctx->route.id = PP_ROUTE_GET_EXTRA;
        if (!ctx->resp.status)
            ctx->resp.status = 200;
    } else {
        resp_clear_extra(&ctx->resp);
    }
    return done;
}

/* ---- auth hook (src/http/auth.c) ----
 * API keys, roles and quotas: @returns 1 when refused (401/403/429 in ctx->resp: answered, not
 * a dead letter, so that a flood of unauthenticated requests cannot fill the disk). */
static int auth_refused(struct conn_ctx *ctx, const char *method, int match)
{
    struct pp_auth_req req = {
        .method = method,
        .match = match,
        .route = &ctx->route,
        .x_api_key = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, "x-api-key"),
        .authorization = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_AUTHORIZATION)};
    return pp_auth_request(ctx->http->conf.auth, &req, &ctx->resp) != 0;
}
/* ---- end auth hook ---- */

/* The dashboard and /metrics answer only Hosts the operator named (DNS rebinding). */
static int host_ok(struct conn_ctx *ctx)
{
    const char *host = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    return pp_http_host_allowed(host, ctx->http->hosts);
}

/* First call for a request: route, method, content type and length checks. */
static enum MHD_Result begin(struct conn_ctx *ctx, const char *method, const char *url)
{
    struct pp_http *http = ctx->http;
    ctx->counted = 1;
    atomic_fetch_add(&http->inflight, 1);
    const char *cl =
        MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te =
        MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    ctx->has_body = te || (cl && strcmp(cl, "0") != 0);
    pp_http_guard_set(&ctx->gc, PP_HTTP_PHASE_BODY, ctx->has_body ? http->conf.body_timeout : 0);
    ctx->url = url;
    int status = pp_http_route_match(method, url, &ctx->route);
    /* the ingestion routes, whatever their method (Kinesis is PUT, REST proxy and FastAPI POST) */
    ctx->ingest = status == 200 && (ctx->route.id == PP_ROUTE_FASTAPI ||
                                    ctx->route.id == PP_ROUTE_PRODUCE ||
                                    ctx->route.id == PP_ROUTE_PUT_RECORD ||
                                    ctx->route.id == PP_ROUTE_PUT_RECORDS);
    if (http->conf.auth && auth_refused(ctx, method, status)) /* auth hook */
        return send_resp(ctx);
    if (atomic_load(&http->stopping))
        return send_error(ctx, 503, 50003, "ServiceUnavailableException",
                          "server is shutting down");
    int reads = (status == 404 && http->conf.get &&
                 (!strcmp(method, "GET") || !strcmp(method, "HEAD"))) ||
                (status == 200 && ctx->route.id == PP_ROUTE_METRICS);
    if (reads && !host_ok(ctx))
        return send_error(ctx, 403, 403, NULL,
                          "Host not allowed: add its name to serve --allowed-hosts");
    if (status == 404 && http->conf.get && (!strcmp(method, "GET") || !strcmp(method, "HEAD")) &&
        try_get_extra(ctx, url))
        return send_resp(ctx);
    if (status == 404) {
        if (ctx->route.api == PP_HTTP_API_PROXY)
            return send_error(ctx, 404, 404, NULL, "HTTP 404 Not Found");
        if (ctx->route.api == PP_HTTP_API_KINESIS)
            return send_error(ctx, 404, 0, "UnknownOperationException", "no such resource");
        return send_error(ctx, 404, 0, NULL, "Not Found");
    }
    if (status == 405) {
        pp_http_error(&ctx->resp, ctx->route.api, 405, 405, "MethodNotAllowedException",
                      "Method Not Allowed");
        ctx->resp.allow = ctx->route.allow;
        return send_resp(ctx);
    }
    if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
        return answer_get(ctx);
    if (ctx->route.kind == PP_KIND_NONE)
        return not_found_kind(ctx);
    const char *ct =
        MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    ctx->ctype = pp_http_ctype_parse(ct);
    if (!pp_http_ctype_ok(&ctx->route, ctx->ctype)) {
        char msg[200];
        snprintf(msg, sizeof(msg), "HTTP 415 Unsupported Media Type: %.120s", ct ? ct : "(none)");
        return refuse(ctx, 415, 415, "UnsupportedMediaTypeException", msg);
    }
    if (!cl && !te)
        return refuse(ctx, 411, 411, "LengthRequiredException",
                          "Content-Length required (or Transfer-Encoding: chunked)");
    int64_t len;
    if (cl && !pp_parse_i64(cl, 0, INT64_MAX, &len) && (uint64_t)len > http->conf.max_body) {
        char msg[120];
        snprintf(msg, sizeof(msg), "request body too large: %lld bytes, max %zu", (long long)len,
                 http->conf.max_body);
        return refuse(ctx, 413, 413, "RequestEntityTooLargeException", msg);
    }
    ctx->state = REQ_BODY;
    return MHD_YES;
}

static enum MHD_Result accumulate(struct conn_ctx *ctx, const char *data, size_t *size)
{
    size_t n = *size;
    *size = 0;
    atomic_fetch_add_explicit(&ctx->http->body_bytes, (long long)n, memory_order_relaxed);
    if (ctx->too_big || pp_buf_append(&ctx->body, data, n)) {
        ctx->too_big = 1;
        ctx->discarded += n;
        if (ctx->discarded > DISCARD_MAX)
            return MHD_NO; /* a runaway chunked body: drop the connection */
    }
    return MHD_YES;
}

/* UTF-8 check with an ASCII fast path (record bodies are mostly ASCII): whole 8-byte words
 * first, then pp_utf8_valid from the first non-ASCII byte, which starts a character. */
static int utf8_ok(const char *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull)
            break;
    }
    return pp_utf8_valid(s + i, n - i);
}

/* Decimal text of v into out (>= 21 bytes). @returns its length. */
static int i64_text(int64_t v, char *out)
{
    char tmp[24];
    int n = 0, neg = v < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    int len = 0;
    if (neg)
        out[len++] = '-';
    while (n)
        out[len++] = tmp[--n];
    return len;
}

static void on_durable(void *arg, int rc)
{
    struct conn_ctx *ctx = arg;
    struct pp_http *http = ctx->http;
    atomic_store(&ctx->durable_rc, rc);
    MHD_resume_connection(ctx->conn);
    /* ctx may be gone from here on; MHD_stop_daemon handles resumed-but-unprocessed ones. */
    atomic_fetch_sub(&http->waiting, 1);
}

/* Map an append failure to a per-record class. */
static int rec_status(int rc)
{
    return rc == PP_EFULL || rc == PP_ESHUTDOWN || rc == PP_EAGAIN ? PP_HTTP_REC_RETRY
           : rc == PP_ETOOBIG                   ? PP_HTTP_REC_INVALID
                                                : PP_HTTP_REC_FAILED; /* retriable too */
}

/* Record an append failure in the item's slot. */
static void item_failed(struct pp_http_batch *batch, struct pp_http_item *item, int rc,
                        int *first_err)
{
    if (!*first_err)
        *first_err = rc;
    int status = rec_status(rc);
    pp_http_item_fail(batch, item, status,
                      rc == PP_EFULL                 ? "log full, retry later"
                      : status == PP_HTTP_REC_FAILED ? "log append failed (disk full or I/O "
                                                       "error), retry later"
                                                     : pp_err_str(rc));
}

static int ents_reserve(struct conn_ctx *ctx, int n)
{
    if (n <= ctx->ents_cap)
        return 0;
    struct pp_log_entry *e = realloc(ctx->ents, sizeof(*e) * (size_t)n);
    if (!e)
        return PP_ENOMEM;
    ctx->ents = e;
    char *k = realloc(ctx->keys, KEY_SIZE * (size_t)n);
    if (!k)
        return PP_ENOMEM;
    ctx->keys = k;
    ctx->ents_cap = n;
    return 0;
}

/* Append every valid record of the batch: one record with pp_log_append, more with one
 * pp_log_append_batch (one write per partition). @returns records stored; *ticket the last
 * ticket, *first_err the first append error. */
static int append_batch(struct conn_ctx *ctx, uint64_t *ticket, int *first_err)
{
    struct pp_http *http = ctx->http;
    struct pp_http_batch *batch = &ctx->batch;
    const char *topic = pp_kind_name(batch->kind);
    int stored = 0, k = 0;
    *first_err = 0;
    *ticket = 0;
    for (int i = 0; i < batch->n; i++)
        batch->items[i].ent = -1;
    if (batch->n == 1 && batch->items[0].status == PP_HTTP_REC_OK) {
        struct pp_http_item *item = &batch->items[0];
        char idkey[KEY_SIZE];
        size_t klen, vlen;
        const char *key = pp_http_item_key(batch, 0, &klen);
        if (!key)
            key = idkey, klen = (size_t)i64_text(item->id, idkey);
        const char *value = pp_http_item_value(batch, 0, &vlen);
        int rc = pp_log_append(http->log, topic, item->partition, key, klen, value, vlen,
                               0, &item->partition_out, &item->offset, ticket);
        item->ent = 0;
        if (rc)
            item_failed(batch, item, rc, first_err);
        return rc ? 0 : 1;
    }
    int rc = ents_reserve(ctx, batch->n);
    for (int i = 0; i < batch->n; i++) {
        struct pp_http_item *item = &batch->items[i];
        if (item->status != PP_HTTP_REC_OK)
            continue;
        if (rc) {
            item_failed(batch, item, rc, first_err);
            continue;
        }
        item->ent = k;
        struct pp_log_entry *e = &ctx->ents[k++];
        char *key = ctx->keys + (size_t)i * KEY_SIZE;
        e->partition = item->partition;
        if (!(e->key = pp_http_item_key(batch, i, &e->keylen))) {
            e->key = key;
            e->keylen = (size_t)i64_text(item->id, key);
        }
        e->value = pp_http_item_value(batch, i, &e->vlen);
    }
    if (rc || !k)
        return 0;
    pp_log_append_batch(http->log, topic, ctx->ents, k, 0, ticket);
    k = 0;
    for (int i = 0; i < batch->n; i++) {
        struct pp_http_item *item = &batch->items[i];
        if (item->status != PP_HTTP_REC_OK)
            continue;
        struct pp_log_entry *e = &ctx->ents[k++];
        if (e->rc) {
            item_failed(batch, item, e->rc, first_err);
            continue;
        }
        item->partition_out = e->partition;
        item->offset = e->offset;
        stored++;
    }
    return stored;
}

static enum MHD_Result append_error(struct conn_ctx *ctx, int rc)
{
    if (rc == PP_EFULL)
        return send_error(ctx, 503, 50003, "ProvisionedThroughputExceededException",
                          "log full (back-pressure), retry later");
    if (rc == PP_ESHUTDOWN)
        return send_error(ctx, 503, 50003, "ServiceUnavailableException",
                          "log is shutting down, retry later");
    if (rc == PP_ETOOBIG)
        return refuse(ctx, 413, 413, "RequestEntityTooLargeException",
                      "record too large for the log");
    /* a failing log (full disk, I/O error) may take the record later: retriable, said once
     * per episode by note_append */
    return send_error(ctx, 503, 50003, "ServiceUnavailableException",
                      "log append failed (disk full or I/O error), retry later");
}

static int parse_body(struct conn_ctx *ctx)
{
    struct pp_http *http = ctx->http;
    const struct pp_http_route *route = &ctx->route;
    const char *body = ctx->body.data ? ctx->body.data : "";
    size_t len = ctx->body.len;
    pp_http_batch_reset(&ctx->batch, route->kind, body);
    ctx->batch.max_items = http->conf.max_records;
    if (!utf8_ok(body, len)) {
        if (route->api == PP_HTTP_API_FASTAPI) {
            struct pp_verr verr = {"", "body is not valid UTF-8", "value_error.jsondecode"};
            pp_http_fastapi_error(&ctx->resp, 400, &verr);
        } else {
            pp_http_error(&ctx->resp, route->api, 400, 400, "SerializationException",
                          "body is not valid UTF-8");
        }
        return 400;
    }
    switch (route->id) {
    case PP_ROUTE_FASTAPI:
        return pp_http_fastapi_parse(&ctx->batch, &ctx->doc, body, len, http->max_tokens,
                                     &ctx->resp);
    case PP_ROUTE_PRODUCE:
        return pp_http_proxy_parse(&ctx->batch, &ctx->doc, body, len, http->max_tokens, ctx->ctype,
                                   http->nparts[route->kind], route->partition, &ctx->resp);
    default:
        return pp_http_kinesis_parse(&ctx->batch, &ctx->doc, body, len, http->max_tokens,
                                     route->id == PP_ROUTE_PUT_RECORDS, &ctx->resp);
    }
}

static int build_ok(struct conn_ctx *ctx)
{
    switch (ctx->route.id) {
    case PP_ROUTE_FASTAPI:
        return pp_http_fastapi_respond(&ctx->batch, &ctx->resp);
    case PP_ROUTE_PRODUCE:
        return pp_http_proxy_respond(&ctx->batch, &ctx->resp);
    default:
        return pp_http_kinesis_respond(&ctx->batch, ctx->route.id == PP_ROUTE_PUT_RECORDS,
                                       &ctx->resp);
    }
}

/* One dead letter for the invalid records of a batch answered 200, however many: the first
 * PP_HTTP_FULL_ERRORS reasons as "records[i]: msg; ..." and their number (a 650k-record body
 * of invalid records used to leave 650k dead letters). */
static void note_invalid(struct conn_ctx *ctx, int invalid)
{
    struct pp_http_batch *batch = &ctx->batch;
    if (!ctx->http->rejects[0])
        return;
    struct pp_buf err;
    pp_buf_init(&err, 1024);
    int shown = 0;
    for (int i = 0; i < batch->n && shown < PP_HTTP_FULL_ERRORS; i++) {
        if (batch->items[i].status != PP_HTTP_REC_INVALID)
            continue;
        size_t mlen;
        const char *m = pp_http_item_msg(batch, i, &mlen);
        if (pp_buf_printf(&err, "%srecords[%d]: %.*s", shown ? "; " : "", i, (int)mlen, m))
            break;
        shown++;
    }
    if (invalid > shown)
        pp_buf_printf(&err, "; and %d more invalid records", invalid - shown);
    pp_http_reject_note(ctx->http->log, ctx->http->rejects, ctx->route.api, ctx->url,
                        ctx->route.kind, 422, err.data ? err.data : "", err.len, invalid);
    pp_buf_free(&err);
}

/* Count the request's records by outcome (a record acknowledged later is counted as
 * accepted now: its durability failure shows in the 500s of pinpipe_http_requests_total). */
static void count_records(struct conn_ctx *ctx)
{
    struct pp_http_batch *batch = &ctx->batch;
    enum pp_kind kind = ctx->route.kind;
    if (kind < 0 || kind >= PP_KIND_COUNT)
        return;
    long long n[NOUTCOMES] = {0};
    for (int i = 0; i < batch->n; i++) {
        int st = batch->items[i].status;
        n[st == PP_HTTP_REC_OK ? OUT_ACCEPTED : st == PP_HTTP_REC_INVALID ? OUT_REJECTED
                                                                        : OUT_FAILED]++;
    }
    for (int o = 0; o < NOUTCOMES; o++)
        if (n[o])
            atomic_fetch_add_explicit(&ctx->http->records[kind][o], n[o],
                                      memory_order_relaxed);
    if (n[OUT_REJECTED])
        note_invalid(ctx, (int)n[OUT_REJECTED]);
}

/* A request refused as a whole (malformed body, invalid single record): its records count
 * as rejected (one for the single-record shapes). */
static void count_refused(struct conn_ctx *ctx)
{
    enum pp_kind kind = ctx->route.kind;
    if (kind < 0 || kind >= PP_KIND_COUNT)
        return;
    long long n = ctx->batch.n > 0 ? ctx->batch.n : 1;
    atomic_fetch_add_explicit(&ctx->http->records[kind][OUT_REJECTED], n, memory_order_relaxed);
}

static enum MHD_Result after_wait(struct conn_ctx *ctx);

/* The whole body is in: parse, validate, append, and answer now or once durable. */
static enum MHD_Result finish(struct conn_ctx *ctx)
{
    struct pp_http *http = ctx->http;
    pp_http_guard_set(&ctx->gc, PP_HTTP_PHASE_BODY, 0); /* the body is in */
    if (ctx->too_big) {
        char msg[120];
        snprintf(msg, sizeof(msg), "request body too large: max %zu bytes", http->conf.max_body);
        return refuse(ctx, 413, 413, "RequestEntityTooLargeException", msg);
    }
    int status = parse_body(ctx);
    if (status) {
        count_refused(ctx);
        note_refused(ctx);
        return send_resp(ctx);
    }
    uint64_t ticket;
    int err;
    int stored = append_batch(ctx, &ticket, &err);
    note_append(http, stored ? 0 : err);
    count_records(ctx);
    int single = ctx->route.id == PP_ROUTE_FASTAPI || ctx->route.id == PP_ROUTE_PUT_RECORD;
    if (err && (single || (!stored && (err == PP_EFULL || err == PP_ESHUTDOWN))))
        return append_error(ctx, err);
    if (build_ok(ctx))
        return send_error(ctx, 500, 50002, "InternalFailure", "out of memory");
    if (!stored || pp_log_durable(http->log, ticket))
        return send_resp(ctx);
    ctx->state = REQ_WAIT;
    ctx->ticket = ticket;
    atomic_store(&ctx->durable_rc, 0);
    /* Count ourselves as waiting before looking at `stopping` (pp_http_stop sets stopping,
     * then reads waiting): either stop sees us and waits, or we see it and do not suspend —
     * MHD_stop_daemon aborts the process on a connection still suspended. */
    atomic_fetch_add(&http->waiting, 1);
    if (atomic_load(&http->stopping)) {
        int wrc = pp_log_wait_durable(http->log, ticket, STOP_DURABLE_MS);
        atomic_store(&ctx->durable_rc, wrc == PP_ETIMEDOUT ? PP_EAGAIN : wrc);
        atomic_fetch_sub(&http->waiting, 1);
        return after_wait(ctx);
    }
    /* Suspend first, so that the callback always finds the connection suspended. */
    MHD_suspend_connection(ctx->conn);
    int rc = pp_log_on_durable(http->log, ticket, on_durable, ctx);
    if (rc != 0) { /* already durable (1) or failed (<0): no callback will come */
        atomic_store(&ctx->durable_rc, rc == 1 ? 0 : rc);
        MHD_resume_connection(ctx->conn);
        atomic_fetch_sub(&http->waiting, 1);
    }
    return MHD_YES;
}

/* A record counted accepted fails after all: answered as a (retriable) per-record error. */
static void settle_failed(struct conn_ctx *ctx, struct pp_http_item *item, int rc, int *first_err)
{
    item_failed(&ctx->batch, item, rc, first_err);
    atomic_fetch_add_explicit(&ctx->http->records[ctx->batch.kind][OUT_FAILED], 1,
                              memory_order_relaxed);
    atomic_fetch_sub_explicit(&ctx->http->records[ctx->batch.kind][OUT_ACCEPTED], 1,
                              memory_order_relaxed);
}

/* Offsets known only once durable (Kafka learns them from delivery reports): put them into
 * the stored items by their index in the append call; a record whose delivery failed gets its
 * own error (failed = 1: the ticket failed), and so does one delivered without an offset.
 * Read in chunks of 256 records, so a batch of any size settles without allocating. A record
 * whose offset stays unknown (the ticket's outcome is gone, PP_ENOENT) is never answered as
 * stored with offset -1: it gets a retriable error (it may be stored; a resend is
 * deduplicated by id downstream). @returns records settled
 * (0: no per-record outcomes, e.g. the embedded log, whose sync failure fails the whole
 * request; or failed and nothing known, which fails the whole request too). */
static int settle_offsets(struct conn_ctx *ctx, int failed)
{
    struct pp_http_batch *batch = &ctx->batch;
    int64_t o[256];
    int r[256], first_err = 0, got = 0, rc = 0, i = 0;
    const int chunk = (int)(sizeof(o) / sizeof(o[0]));
    for (int base = 0;; base += chunk) {
        rc = pp_log_ticket_range(ctx->http->log, ctx->ticket, base, o, r, chunk);
        if (rc <= 0)
            break;
        got = base + rc;
        for (; i < batch->n; i++) { /* item->ent grows with i */
            struct pp_http_item *item = &batch->items[i];
            if (item->status != PP_HTTP_REC_OK || item->ent < base)
                continue;
            if (item->ent >= got)
                break;
            int e = item->ent - base;
            if (r[e] || o[e] < 0) /* valid data: worth a resend, unless too big */
                settle_failed(ctx, item, r[e] == PP_ETOOBIG ? PP_ETOOBIG : PP_EAGAIN, &first_err);
            else
                item->offset = o[e];
        }
        if (rc < chunk)
            break;
    }
    if (!got && (!rc || failed))
        return 0;
    for (; i < batch->n; i++) /* Kafka, outcome unknown from here on */
        if (batch->items[i].status == PP_HTTP_REC_OK && batch->items[i].ent >= 0)
            settle_failed(ctx, &batch->items[i], PP_EAGAIN, &first_err);
    return got ? got : batch->n;
}

static enum MHD_Result after_wait(struct conn_ctx *ctx)
{
    int rc = atomic_load(&ctx->durable_rc);
    int many = ctx->route.id == PP_ROUTE_PRODUCE || ctx->route.id == PP_ROUTE_PUT_RECORDS;
    note_append(ctx->http, rc);
    /* A batch whose ticket failed on Kafka answers per record (REST proxy error_code 2,
     * Kinesis ErrorCode): the stored ones keep their offsets, clients resend only the others. */
    if (!rc || (many && settle_offsets(ctx, 1) > 0)) {
        if (!rc)
            settle_offsets(ctx, 0);
        if (build_ok(ctx))
            return send_error(ctx, 500, 50002, "InternalFailure", "out of memory");
        return send_resp(ctx);
    }
    /* Otherwise a failed durability wait fails the whole request (one ticket covers all its
     * records): 5xx makes clients resend it; resends are deduplicated by id downstream. */
    if (rc == PP_ESHUTDOWN || rc == PP_EAGAIN)
        return send_error(ctx, 503, 50003, "ServiceUnavailableException",
                          rc == PP_EAGAIN ? "the log did not take the record (retriable), retry"
                                          : "log closed before the records were durable, retry");
    if (rc == PP_ETOOBIG)
        return send_error(ctx, 413, 413, "RequestEntityTooLargeException",
                          "record too large for the log");
    return send_error(ctx, 503, 50003, "ServiceUnavailableException",
                      "the log failed to make the records durable (disk full or I/O error): "
                      "not acknowledged, retry later");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct conn_ctx *ctx = *req_cls;
    if (!ctx)
        return MHD_NO; /* out of memory at connect (on_uri found no connection state) */
    if (!ctx->begun) {
        ctx->begun = 1;
        ctx->conn = conn;
        return begin(ctx, method, url);
    }
    if (*upload_data_size)
        return accumulate(ctx, upload_data, upload_data_size);
    switch (ctx->state) {
    case REQ_BODY:
        return finish(ctx);
    case REQ_WAIT:
        return after_wait(ctx);
    case REQ_DEFER:
        ctx->state = REQ_READY;
        return send_resp(ctx);
    default:
        return MHD_YES;
    }
}

/* Accept policy: once stopping, new connections are closed right away. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct pp_http *http = cls;
    (void)addr;
    (void)addrlen;
    return atomic_load(&http->stopping) ? MHD_NO : MHD_YES;
}

/* libmicrohttpd's fatal errors: say where before the process aborts (as MHD's own does). */
static void on_panic(void *cls, const char *file, unsigned int line, const char *reason)
{
    (void)cls;
    PP_ERROR(MOD, "libmicrohttpd fatal error at %s:%u: %s", file ? file : "?", line,
             reason ? reason : "(no reason)");
    abort();
}

static void on_expire(void *arg, int phase)
{
    struct pp_http *http = arg;
    if (phase >= 0 && phase < PP_HTTP_PHASE_COUNT)
        atomic_fetch_add_explicit(&http->timeouts[phase], 1, memory_order_relaxed);
}

/* Raise the soft fd limit to the hard one (each connection is a descriptor; the default soft
 * limit of 1024 would cap the server far below --max-connections), then keep the connection
 * limit within it, leaving room for log segments, the warehouse and the dashboard. */
static void fit_fd_limit(struct pp_http_conf *conf)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
        struct rlimit nl = {want, rl.rlim_max};
        if (!setrlimit(RLIMIT_NOFILE, &nl))
            rl.rlim_cur = want;
    }
    rlim_t reserve = 256;
    if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)conf->max_connections + reserve > rl.rlim_cur) {
        int fit = rl.rlim_cur > reserve + 16 ? (int)(rl.rlim_cur - reserve) : 16;
        PP_WARN(MOD, "open-file limit %llu (hard limit): max connections lowered from %d to %d; "
                "raise it (ulimit -Hn, LimitNOFILE=) to serve more",
                (unsigned long long)rl.rlim_cur, conf->max_connections, fit);
        conf->max_connections = fit;
    }
}

int pp_http_listen_addr(const char *listen, struct sockaddr_storage *ss, int *v6, char *errstr,
                        size_t errstr_size)
{
    char host[256];
    int port;
    if (!listen || pp_parse_hostport(listen, host, sizeof(host), &port)) {
        snprintf(errstr, errstr_size, "bad listen address '%s' (want HOST:PORT)",
                 listen ? listen : "");
        return PP_EPARSE;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    const char *h = (!host[0] || !strcmp(host, "*")) ? NULL : host;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int gai = getaddrinfo(h, portstr, &hints, &res);
    if (gai || !res) {
        snprintf(errstr, errstr_size, "cannot resolve '%s': %s", host, gai_strerror(gai));
        return PP_EINVAL;
    }
    /* Prefer IPv4 when the host resolves to both (localhost). */
    struct addrinfo *pick = res;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    memcpy(ss, pick->ai_addr, pick->ai_addrlen);
    *v6 = pick->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

struct pp_http *pp_http_start(const struct pp_http_conf *conf, struct pp_log *log, char *errstr,
                              size_t errstr_size)
{
    struct pp_http *http = calloc(1, sizeof(*http));
    if (!http) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    pp_http_conf_defaults(&http->conf);
    if (conf->listen)
        snprintf(http->listen, sizeof(http->listen), "%s", conf->listen);
    else
        snprintf(http->listen, sizeof(http->listen), "%s", http->conf.listen);
    http->conf.listen = http->listen;
    if (conf->max_body)
        http->conf.max_body = conf->max_body;
    if (conf->threads > 0)
        http->conf.threads = conf->threads;
    if (conf->max_connections > 0)
        http->conf.max_connections = conf->max_connections;
    if (conf->max_conns_per_ip >= 0)
        http->conf.max_conns_per_ip = conf->max_conns_per_ip;
    if (conf->max_records > 0)
        http->conf.max_records = conf->max_records;
    if (conf->header_timeout > 0)
        http->conf.header_timeout = conf->header_timeout;
    if (conf->body_timeout > 0)
        http->conf.body_timeout = conf->body_timeout;
    if (conf->idle_timeout > 0)
        http->conf.idle_timeout = conf->idle_timeout;
    fit_fd_limit(&http->conf);
    http->conf.metrics = conf->metrics;
    snprintf(http->rejects, sizeof(http->rejects), "%s",
             conf->rejects_topic ? conf->rejects_topic : "");
    if (conf->allowed_hosts)
        snprintf(http->hosts, sizeof(http->hosts), "%s", conf->allowed_hosts);
    else if (gethostname(http->hosts, sizeof(http->hosts) - 1))
        http->hosts[0] = '\0';
    http->conf.allowed_hosts = http->hosts;
    http->conf.get = conf->get;
    http->conf.get_arg = conf->get_arg;
    http->conf.auth = conf->auth; /* auth hook */
    http->conf.tls = conf->tls;
    /* A JSON value takes at least ~2 bytes per token; cap the token arrays accordingly. */
    size_t mt = http->conf.max_body / 2 + 64;
    http->max_tokens = mt > (1u << 22) ? (1 << 22) : (int)mt;
    http->log = log;
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        int n = pp_log_partitions(log, pp_kind_name((enum pp_kind)k), 1);
        if (n <= 0) {
            snprintf(errstr, errstr_size, "cannot create topic %s: %s",
                     pp_kind_name((enum pp_kind)k), pp_err_str(n));
            free(http);
            return NULL;
        }
        http->nparts[k] = n;
    }
    /* The dead-letter topic exists before the first refusal: creating it then would block a
     * request (Kafka admin call); if it cannot be created, dead letters are off. */
    if (http->rejects[0] && pp_log_partitions(log, http->rejects, 1) <= 0) {
        PP_WARN(MOD, "dead-letter topic %s unavailable: refused records are not kept",
                http->rejects);
        http->rejects[0] = '\0';
    }
    struct sockaddr_storage ss;
    int v6 = 0;
    if (pp_http_listen_addr(http->listen, &ss, &v6, errstr, errstr_size)) {
        free(http);
        return NULL;
    }
    /* Thread pool on epoll. libmicrohttpd 0.9.75 (Debian 12) stalls with a single epoll
     * thread at a few hundred connections; a pool of one is that mode, so use poll() then. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
                     (http->conf.threads > 1 ? MHD_USE_EPOLL : MHD_USE_POLL) |
                     (v6 ? MHD_USE_IPv6 : 0) | pp_tls_mhd_flags(http->conf.tls);
    MHD_set_panic_func(on_panic, NULL);
    if (!(http->guard = pp_http_guard_start(250, on_expire, http))) {
        snprintf(errstr, errstr_size, "cannot start the connection watchdog thread");
        free(http);
        return NULL;
    }
    http->daemon = MHD_start_daemon(
        flags, 0, on_accept, http, on_request, http, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)http->conf.threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)http->conf.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)http->conf.max_conns_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)http->conf.idle_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, MEM_LIMIT,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_URI_LOG_CALLBACK, on_uri, http,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, http, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, http, MHD_OPTION_ARRAY, pp_tls_mhd_options(http->conf.tls), MHD_OPTION_END);
    if (!http->daemon) {
        snprintf(errstr, errstr_size, "cannot listen on %s (address in use or not permitted)",
                 http->listen);
        pp_http_guard_stop(http->guard);
        free(http);
        return NULL;
    }
    if (http->conf.metrics && pp_metrics_add(http->conf.metrics, http_collect, http))
        PP_WARN(MOD, "metrics registry full: HTTP counters not exported");
    if (http->conf.metrics && http->conf.auth && /* auth hook */
        pp_metrics_add(http->conf.metrics, pp_auth_collect, http->conf.auth))
        PP_WARN(MOD, "metrics registry full: API key counters not exported");
    return http;
}

int pp_http_port(const struct pp_http *http)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? (int)info->port : -1;
}

void pp_http_stop(struct pp_http *http)
{
    if (!http)
        return;
    /* New connections are closed at accept from here (on_accept), new requests on open ones
     * get 503. Not MHD_quiesce_daemon: in the epoll thread pool of libmicrohttpd 0.9.75 it
     * races a worker removing the listen socket from its epoll set, and the loser's
     * epoll_ctl(ENOENT) is an MHD_PANIC, i.e. abort() (seen as SIGABRT on SIGTERM under load). */
    atomic_store(&http->stopping, 1);
    /* In-flight requests finish (up to 5 s); suspended ones must be resumed before
     * MHD_stop_daemon, and the log resolves every durable callback, so wait for them. */
    int64_t start = pp_mono_us(), warned = start;
    while (atomic_load(&http->waiting) > 0 ||
           (atomic_load(&http->inflight) > 0 && pp_mono_us() - start < 5000000)) {
        if (pp_mono_us() - warned > 5000000) {
            PP_WARN(MOD, "stop: waiting for durable acks waiting=%d", atomic_load(&http->waiting));
            warned = pp_mono_us();
        }
        usleep(1000);
    }
    MHD_stop_daemon(http->daemon);
    pp_http_guard_stop(http->guard); /* after the daemon: its close notifications unlist */
    if (http->conf.metrics)
        pp_metrics_remove(http->conf.metrics, http_collect, http);
    if (http->conf.metrics && http->conf.auth) /* auth hook */
        pp_metrics_remove(http->conf.metrics, pp_auth_collect, http->conf.auth);
    free(http);
}
