/* metrics_http.c: GET /metrics, /healthz and /readyz for worker processes (libmicrohttpd,
 * one internal polling thread). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "pp_buf.h"
#include "pp_err.h"
#include "pp_json.h"
#include "pp_http.h"
#include "pp_metrics_http.h"
#include "pp_util.h"

#define BODY_MAX ((size_t)64 << 20)

struct pp_metrics_http {
    struct pp_metrics_http_conf conf;
    struct MHD_Daemon *daemon;
    atomic_int draining;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *ctype,
                             const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == 405)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* {"status":"<status>"[,"reason":"<reason>"]} */
static enum MHD_Result reply_status(struct MHD_Connection *conn, unsigned code, const char *status,
                                    const char *reason)
{
    struct pp_buf b;
    pp_buf_init(&b, 0);
    pp_buf_printf(&b, "{\"status\":\"%s\"", status);
    if (reason && *reason) {
        pp_buf_puts(&b, ",\"reason\":");
        pp_json_put_str(&b, reason, strlen(reason));
    }
    pp_buf_puts(&b, "}\n");
    enum MHD_Result ret = reply(conn, code, "application/json", b.data ? b.data : "", b.len);
    pp_buf_free(&b);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    static int marker;
    struct pp_metrics_http *mh = cls;
    (void)version;
    (void)upload_data;
    if (!*req_cls) { /* headers only so far: answer on the next call (keeps the connection) */
        *req_cls = &marker;
        return MHD_YES;
    }
    if (*upload_data_size) { /* a body nobody asked for: drop it */
        *upload_data_size = 0;
        return MHD_YES;
    }
    int get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
    int known = !strcmp(url, "/metrics") || !strcmp(url, "/healthz") || !strcmp(url, "/readyz");
    if (!known)
        return reply_status(conn, 404, "not found", "routes: /metrics /healthz /readyz");
    if (!get)
        return reply_status(conn, 405, "method not allowed", "GET only");
    if (!strcmp(url, "/healthz"))
        return reply_status(conn, 200, "ok", NULL);
    if (!strcmp(url, "/readyz")) {
        char why[256] = "";
        if (atomic_load(&mh->draining))
            return reply_status(conn, 503, "not ready", "shutting down");
        if (mh->conf.ready && !mh->conf.ready(mh->conf.ready_arg, why, sizeof(why)))
            return reply_status(conn, 503, "not ready", why[0] ? why : "not ready");
        return reply_status(conn, 200, "ready", NULL);
    }
    struct pp_buf b;
    pp_buf_init(&b, BODY_MAX);
    if (mh->conf.metrics)
        pp_metrics_render(mh->conf.metrics, &b);
    if (pp_buf_error(&b)) { /* never a truncated scrape: Prometheus would take it as whole */
        pp_buf_free(&b);
        return reply_status(conn, 500, "error", "the metrics could not be rendered (out of memory)");
    }
    enum MHD_Result ret = reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8",
                                b.data ? b.data : "", b.len);
    pp_buf_free(&b);
    return ret;
}

/* A closed connection lets go of the TLS credentials its handshake got (pp_tls.h). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct pp_metrics_http *mh = cls;
    (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
        pp_tls_conn_closed(mh->conf.tls, conn);
}

struct pp_metrics_http *pp_metrics_http_start(const struct pp_metrics_http_conf *conf,
                                              char *errstr, size_t errstr_size)
{
    struct sockaddr_storage ss;
    int v6 = 0;
    if (pp_http_listen_addr(conf->listen, &ss, &v6, errstr, errstr_size))
        return NULL;
    struct pp_metrics_http *mh = calloc(1, sizeof(*mh));
    if (!mh) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    mh->conf = *conf;
    mh->conf.listen = NULL; /* not kept: the caller's string */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
                     (v6 ? MHD_USE_IPv6 : 0) | pp_tls_mhd_flags(conf->tls);
    mh->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, mh, MHD_OPTION_SOCK_ADDR,
                                  (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, 64u,
                                  MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                                  MHD_OPTION_NOTIFY_CONNECTION, on_connection, mh,
                                  MHD_OPTION_ARRAY, pp_tls_mhd_options(conf->tls), MHD_OPTION_END);
    if (!mh->daemon) {
        snprintf(errstr, errstr_size,
                 "cannot listen on %s for metrics (address in use or not permitted)",
                 conf->listen);
        free(mh);
        return NULL;
    }
    return mh;
}

int pp_metrics_http_port(const struct pp_metrics_http *mh)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(mh->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? (int)info->port : -1;
}

void pp_metrics_http_draining(struct pp_metrics_http *mh)
{
    if (mh)
        atomic_store(&mh->draining, 1);
}

void pp_metrics_http_stop(struct pp_metrics_http *mh)
{
    if (!mh)
        return;
    MHD_stop_daemon(mh->daemon);
    free(mh);
}
