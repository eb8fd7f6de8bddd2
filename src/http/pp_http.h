/* pp_http.h: the ingestion server: FastAPI-style, Kafka REST Proxy v2 and API-Gateway
 * Kinesis shapes (PRODUCT.md "Ingestion API") on libmicrohttpd, writing into a pp_log. */
#ifndef PP_HTTP_H
#define PP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "pp_log.h"

struct pp_http_conf {
    const char *listen;     /* "HOST:PORT" (default "127.0.0.1:8080") */
    size_t max_body;        /* bytes; larger bodies get 413 (default 8 MiB) */
    int threads;            /* libmicrohttpd thread pool size (default: number of cores) */
    int max_connections;    /* default 4096 */
};

struct pp_http;

void pp_http_conf_defaults(struct pp_http_conf *conf);
/* Start serving on conf->listen, appending accepted records to log (borrowed: must outlive
 * the server). @returns owned: stop with pp_http_stop(). NULL with errstr filled. */
struct pp_http *pp_http_start(const struct pp_http_conf *conf, struct pp_log *log, char *errstr,
                              size_t errstr_size);
/* The port actually bound (useful with port 0). */
int pp_http_port(const struct pp_http *http);
/* Graceful stop: new requests get 503 + Retry-After, in-flight ones finish and are answered,
 * then the listener closes. server may be NULL. */
void pp_http_stop(struct pp_http *http);

#endif
