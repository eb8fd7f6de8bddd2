/* pp_http.h: the ingestion server: FastAPI-style, Kafka REST Proxy v2 and API-Gateway
 * Kinesis shapes (PRODUCT.md "Ingestion API") on libmicrohttpd, writing into a pp_log. */
#ifndef PP_HTTP_H
#define PP_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "pp_log.h"
#include "pp_metrics.h"
#include "pp_tls.h"

struct pp_http_resp;
struct pp_auth;

struct pp_http_conf {
    const char *listen;     /* "HOST:PORT" (default "127.0.0.1:8080") */
    size_t max_body;        /* bytes; larger bodies get 413 (default 8 MiB) */
    int threads;            /* libmicrohttpd thread pool size (default: number of cores) */
    int max_connections;    /* default 4096 (lowered to fit the fd limit, which the server
                               raises to its hard limit at start) */
    int max_conns_per_ip;   /* connections from one client address at once (default 64; 0 =
                               no limit); more are closed at accept */
    int header_timeout;     /* s: request line + headers must arrive within it, from accept or
                               the previous request's end (default 10; also the keep-alive idle
                               limit) */
    int body_timeout;       /* s: a request body must arrive within it (default 30) */
    int idle_timeout;       /* s: no byte moved either way (default 60; a response the client
                               does not read) */
    const char *allowed_hosts; /* Host names the dashboard, /api/... and /metrics answer
                                  (pp_http_host_allowed); default: this machine's hostname */
    int max_records;        /* records in one REST Proxy batch (default 10000, at most
                               PP_HTTP_MAX_RECORDS_LIMIT); more: 413 (Kinesis PutRecords takes
                               PP_HTTP_KINESIS_MAX_RECORDS, AWS's limit) */
    const char *rejects_topic; /* dead-letter topic: each record or ingestion request refused
                                  with a 4xx is appended there as JSON (pp_http_reject_encode);
                                  default PP_HTTP_REJECTS_TOPIC, NULL or "" = off */
    struct pp_metrics *metrics; /* borrowed: served at GET /metrics, with the server's own
                                   counters added (NULL: /metrics answers 404) */
    /* Optional: GET and HEAD requests for paths the ingestion API does not route (they would
     * get 404) go to get(get_arg, path, query, resp) first: path without the query string,
     * query the decoded arguments as "k=v&k=v" ("" when none). It fills resp (status,
     * ctype, body or data, cache, etag) and returns 1, or returns 0 to let the server answer
     * 404. With resp->etag set, a request whose If-None-Match names it gets 304 without a
     * body. Counted in the metrics under route "dashboard". @thread any: the server's
     * threads call it concurrently. NULL: such paths get 404. */
    int (*get)(void *arg, const char *path, const char *query, struct pp_http_resp *resp);
    void *get_arg;
    /* API keys (src/http/pp_auth.h): borrowed, must outlive the server. NULL = no
     * authentication (every route open). Its counters join conf.metrics. */
    struct pp_auth *auth;
    struct pp_tls *tls; /* borrowed (pp_tls.h): serve HTTPS with these credentials, reloadable;
                           NULL = plain HTTP. Must outlive the server. */
};

struct pp_http;

#define PP_HTTP_REJECTS_TOPIC "pinpipe.rejected"
#define PP_HTTP_MAX_RECORDS_LIMIT 1000000
#define PP_HTTP_KINESIS_MAX_RECORDS 500 /* PutRecords: "Each PutRecords request can support up
                                           to 500 records" (Kinesis Data Streams API reference) */

void pp_http_conf_defaults(struct pp_http_conf *conf);
/* Start serving on conf->listen, appending accepted records to log (borrowed: must outlive
 * the server). @returns owned: stop with pp_http_stop(). NULL with errstr filled. */
struct pp_http *pp_http_start(const struct pp_http_conf *conf, struct pp_log *log, char *errstr,
                              size_t errstr_size);
/* "HOST:PORT" (HOST "" or "*" = any) -> the socket address to listen on, IPv4 preferred when
 * a name resolves to both; *v6 tells the family. @returns 0, PP_EPARSE (not HOST:PORT) or
 * PP_EINVAL (cannot resolve), with errstr filled. Shared with the workers' metrics endpoint. */
int pp_http_listen_addr(const char *listen, struct sockaddr_storage *ss, int *v6, char *errstr,
                        size_t errstr_size);
/* The port actually bound (useful with port 0). */
int pp_http_port(const struct pp_http *http);
/* Graceful stop: new connections are closed as soon as accepted (the listening socket itself
 * closes with the daemon), new
 * requests on open keep-alive connections get 503 + Retry-After: 1, in-flight ones finish and
 * are answered (bodies still uploading: up to 5 s; acks waiting for durability: until the log
 * resolves them, so call this before pp_log_close), then the server stops. http may be NULL. */
void pp_http_stop(struct pp_http *http);

/* ---- Connection deadlines (guard.c) ------------------------------------------------------
 * A watchdog thread shuts down connections past their deadline: the request line and headers
 * (phase HEADERS, from accept or the previous request's end) and the body (phase BODY, from
 * the end of the headers) each have a time limit, however slowly bytes trickle in. */
#include <stdatomic.h>

enum pp_http_phase { PP_HTTP_PHASE_HEADERS, PP_HTTP_PHASE_BODY, PP_HTTP_PHASE_COUNT };

/* Embedded in each connection's state; listed in the guard while the connection lives. */
struct pp_http_guard_conn {
    struct pp_http_guard_conn *prev, *next;
    int fd;
    atomic_int phase;        /* enum pp_http_phase of the deadline */
    atomic_llong deadline_us; /* pp_mono_us() deadline, 0 = none */
};
struct pp_http_guard;
/* Start the watchdog, checking every tick_ms; on_expire(arg, phase) is called (under the
 * guard's lock, from its thread: keep it short) for each connection it shuts down.
 * @returns owned: stop with pp_http_guard_stop(); NULL on failure. */
struct pp_http_guard *pp_http_guard_start(int tick_ms, void (*on_expire)(void *arg, int phase),
                                          void *arg);
void pp_http_guard_stop(struct pp_http_guard *guard);
/* List / unlist a connection (socket fd). Remove before the fd is closed. guard may be NULL. */
void pp_http_guard_add(struct pp_http_guard *guard, struct pp_http_guard_conn *gc, int fd);
void pp_http_guard_remove(struct pp_http_guard *guard, struct pp_http_guard_conn *gc);
/* Arm the deadline: now + timeout_s for phase (timeout_s <= 0: none). @thread any. */
void pp_http_guard_set(struct pp_http_guard_conn *gc, int phase, int timeout_s);

/* ---- Internals shared by the files of src/http (and its unit test) ----------------------
 * The pure parts: route matching, content types, base64, parsing request bodies of the three
 * API shapes into a batch of records, and building their responses. No I/O, no log calls. */

#include "pp_buf.h"
#include "pp_json.h"
#include "pp_kind.h"
#include "pp_clean.h"

/* Which API shape a route belongs to: decides the error envelope.
 * FASTAPI {"detail":..}; PROXY {"error_code":..,"message":..} (Confluent REST Proxy v2);
 * KINESIS {"__type":..,"message":..} (AWS JSON 1.1 errors through API Gateway). */
enum pp_http_api { PP_HTTP_API_PLAIN, PP_HTTP_API_FASTAPI, PP_HTTP_API_PROXY, PP_HTTP_API_KINESIS };

/* A dead letter: the JSON value written to the rejects topic for one refused record or request:
 * {"ts":"2026-11-22T03:04:05.678Z" (UTC, ms),"api":"fastapi"|"proxy"|"kinesis"|"plain",
 *  "path":"/pin/" (<= 256 bytes),"kind":"pin"|"geo"|"user"|null,"status":422 (HTTP status, or
 *  422 for the invalid records of a batch answered 200),"error":"<the refusal's body, or the
 *  first invalid records' messages "records[i]: msg; ...", <= 1024 bytes>","records":N (the
 *  records this dead letter stands for: one per refused request, however many records it
 *  held)}. Appended to out. @returns 0 or PP_ENOMEM. */
int pp_http_reject_encode(struct pp_buf *out, int64_t ts_ms, enum pp_http_api api,
                          const char *path, enum pp_kind kind, int status, const char *err,
                          size_t errlen, int records);
/* Encode and append a dead letter to topic (round robin partition; not awaited: best effort).
 * topic NULL or "": does nothing. @returns 0 or the append error. @thread any. */
int pp_http_reject_note(struct pp_log *log, const char *topic, enum pp_http_api api,
                        const char *path, enum pp_kind kind, int status, const char *err,
                        size_t errlen, int records);

enum pp_http_route_id {
    PP_ROUTE_NONE,
    PP_ROUTE_HEALTH,         /* GET /healthz */
    PP_ROUTE_READY,          /* GET /readyz */
    PP_ROUTE_METRICS,        /* GET /metrics (Prometheus text format) */
    PP_ROUTE_FASTAPI,        /* POST /pin/ /geo/ /user/ (trailing slash optional) */
    PP_ROUTE_TOPICS,         /* GET /topics */
    PP_ROUTE_TOPIC,          /* GET /topics/{topic} */
    PP_ROUTE_PRODUCE,        /* POST /topics/{topic}[/partitions/{p}] */
    PP_ROUTE_STREAMS,        /* GET /streams */
    PP_ROUTE_STREAM,         /* GET /streams/{stream} */
    PP_ROUTE_PUT_RECORD,     /* PUT /streams/{stream}/record */
    PP_ROUTE_PUT_RECORDS,    /* PUT /streams/{stream}/records */
    PP_ROUTE_GET_EXTRA,      /* GET paths answered by pp_http_conf.get (the dashboard) */
};

struct pp_http_route {
    enum pp_http_route_id id;
    enum pp_http_api api;
    enum pp_kind kind;   /* kind named by the path or topic/stream suffix (NONE if unknown) */
    const char *name;    /* topic or stream name, borrowed from the url (not NUL-terminated) */
    size_t name_len;
    int partition;       /* from /topics/{t}/partitions/{p}; -1 otherwise */
    const char *allow;   /* methods the path accepts, for the Allow header of a 405 */
};

/* Match method + path (no query string). @returns 200 (route filled), 404 (no such path;
 * route->api still tells the envelope), 405 (route->allow set). A topic or stream whose name
 * names no kind still matches (route->kind == PP_KIND_NONE: the caller answers 404). */
int pp_http_route_match(const char *method, const char *url, struct pp_http_route *route);

enum pp_http_ctype {
    PP_CT_NONE,         /* header absent */
    PP_CT_JSON,         /* application/json */
    PP_CT_KAFKA_JSON,   /* application/vnd.kafka.json.v2+json */
    PP_CT_KAFKA_BINARY, /* application/vnd.kafka.binary.v2+json */
    PP_CT_AMZ_JSON,     /* application/x-amz-json-1.1 (and 1.0) */
    PP_CT_OTHER,
};
/* Classify a Content-Type header value (case-insensitive, parameters such as charset ignored;
 * NULL = absent). */
enum pp_http_ctype pp_http_ctype_parse(const char *value);
/* Does the route accept a body of this content type? FastAPI: json; REST proxy: the two
 * vnd.kafka v2 types or json; Kinesis: json or x-amz-json. None is refused (415): a body
 * without a JSON type is what a cross-site form can post without a CORS preflight. */
int pp_http_ctype_ok(const struct pp_http_route *route, enum pp_http_ctype ct);

/* May a request with this Host header read the dashboard, /api/... and /metrics? IP literals
 * and "localhost" always (any port); names only when listed in allowed (comma-separated,
 * case-insensitive, "*" = any). Refusing other names stops DNS rebinding: a page whose own
 * name resolves to the server's address cannot read it. NULL or "" host: no. */
int pp_http_host_allowed(const char *host, const char *allowed);

/* Decode standard base64 (RFC 4648 section 4; '=' padding optional, no whitespace) and
 * append to out. @returns 0, PP_EPARSE (bad character, length or padding), PP_ENOMEM/ETOOBIG. */
int pp_http_b64_decode(const char *s, size_t n, struct pp_buf *out);
int pp_http_b64_encode(const void *p, size_t n, struct pp_buf *out);

/* A response being prepared: status, content type, JSON body, extra headers. */
struct pp_http_resp {
    int status;
    const char *ctype;     /* static string */
    const char *allow;     /* Allow header (405), static string or NULL */
    int retry_after;       /* seconds for Retry-After (503, 429), 0 = none */
    const char *www_auth;  /* WWW-Authenticate value (401), static string or NULL */
    struct pp_buf body;
    /* Set only by pp_http_conf.get handlers (cleared after each request): */
    const void *data;      /* static body sent instead of body (an embedded asset), or NULL */
    size_t data_len;
    const char *cache;     /* Cache-Control value, static string or NULL */
    char etag[40];         /* ETag value with its quotes, "" = none */
};
void pp_http_resp_init(struct pp_http_resp *resp, size_t max);
void pp_http_resp_reset(struct pp_http_resp *resp);
void pp_http_resp_free(struct pp_http_resp *resp);
/* Fill resp with an error in api's envelope: FASTAPI/PLAIN {"detail":msg}; PROXY
 * {"error_code":code,"message":msg}; KINESIS {"__type":type,"message":msg}. 503 gets
 * Retry-After: 1. code 0 = status; type NULL picks one from status. */
void pp_http_error(struct pp_http_resp *resp, enum pp_http_api api, int status, int code,
                   const char *type, const char *msg);
/* Before sending: when resp's body failed while it was built (pp_buf_error: an append ran out
 * of memory or past the cap), replace it by a 503 in api's envelope (Retry-After: 1) -- a
 * truncated answer is never sent as a success. @returns 1 when replaced, 0 when whole. */
int pp_http_resp_whole(struct pp_http_resp *resp, enum pp_http_api api);
/* FastAPI/pydantic 422 body {"detail":[{"loc":["body","<field>"],"msg":..,"type":..}]}. */
void pp_http_fastapi_error(struct pp_http_resp *resp, int status, const struct pp_verr *verr);

/* Per-record error classes in a batch (REST proxy error_code 1 / 2; Kinesis ErrorCode). */
#define PP_HTTP_REC_OK 0
#define PP_HTTP_REC_INVALID 1   /* bad record: non-retriable (REST proxy error_code 1) */
#define PP_HTTP_REC_RETRY 2     /* log full or shutting down: retriable (error_code 2) */
#define PP_HTTP_REC_FAILED 3    /* I/O error on append */

/* One record of a request: where its JSON text is, and what became of it. */
struct pp_http_item {
    size_t voff, vlen;   /* value bytes: in the body (in_scratch 0) or batch scratch (1) */
    int in_scratch;
    int64_t id;          /* record id: the log key, as decimal text, unless the client sent one */
    size_t koff, klen;   /* the client's key (REST proxy "key"), has_key: in the body
                            (key_in_scratch 0) or batch scratch (1) */
    int has_key, key_in_scratch;
    int partition;       /* requested partition, -1 = by key */
    int status;          /* PP_HTTP_REC_* */
    size_t moff, mlen;   /* error message in batch msgs */
    int partition_out;   /* after append */
    int ent;             /* index in the log append call (-1: not appended) */
    int64_t offset;
};

/* The records of one request. Reused across requests on a connection: memory is kept. */
struct pp_http_batch {
    enum pp_kind kind;
    const char *body;    /* borrowed request body the items point into */
    struct pp_http_item *items;
    int n, cap;
    struct pp_buf scratch; /* base64-decoded values */
    struct pp_buf msgs;    /* per-record error messages */
    struct pp_json sub;    /* parse of decoded values */
    struct pp_verr verr;   /* the (last) validation error */
    int max_items;         /* records one request may hold (0 = BATCH_MAX_ITEMS); past it
                              the add functions return PP_ETOOBIG */
    int nmsgs;             /* per-record error messages written so far */
};
/* Invalid records of one request whose answer entries carry their own message; later ones
 * get a short fixed message, so an answer stays within a small factor of its request. */
#define PP_HTTP_FULL_ERRORS 10
void pp_http_batch_init(struct pp_http_batch *batch);
void pp_http_batch_reset(struct pp_http_batch *batch, enum pp_kind kind, const char *body);
void pp_http_batch_free(struct pp_http_batch *batch);
/* Value bytes of item i. @returns borrowed: valid until the next batch reset. */
const char *pp_http_item_value(const struct pp_http_batch *batch, int i, size_t *len);
const char *pp_http_item_msg(const struct pp_http_batch *batch, int i, size_t *len);
/* Mark item failed with status (PP_HTTP_REC_*) and its message (copied into batch->msgs; past
 * the first PP_HTTP_FULL_ERRORS invalid records, the short "invalid record").
 * @returns 0 or PP_ENOMEM. */
int pp_http_item_fail(struct pp_http_batch *batch, struct pp_http_item *item, int status,
                      const char *msg);
/* The client's key of item i (REST proxy: the key's JSON text for json.v2, its decoded bytes
 * for binary.v2, as Confluent's serializers write them), NULL when it sent none.
 * @returns borrowed: valid until the next batch reset. */
const char *pp_http_item_key(const struct pp_http_batch *batch, int i, size_t *len);
/* Add a record whose value is the object token t of doc (validated here; an invalid one is
 * added with status PP_HTTP_REC_INVALID and a message). @returns 0 or PP_ENOMEM. */
int pp_http_batch_add_json(struct pp_http_batch *batch, const struct pp_json *doc, int t,
                           int partition);
/* Add a record from a base64 string token t of doc: decoded, parsed, validated.
 * @returns 0 or PP_ENOMEM. */
int pp_http_batch_add_b64(struct pp_http_batch *batch, const struct pp_json *doc, int t,
                          int partition);
/* Add a record that failed before validation with message msg. */
int pp_http_batch_add_error(struct pp_http_batch *batch, int status, const char *msg);

/* Parse a request body (already checked to be valid UTF-8) into batch, doc being reused.
 * Each @returns 0 (batch ready to append; per-record errors live in the items) or an HTTP
 * status with resp filled with the error body (nothing must be stored).
 * nparts: partition count of the kind's topic (REST proxy partition checks). */
int pp_http_fastapi_parse(struct pp_http_batch *batch, struct pp_json *doc, const char *body,
                          size_t len, int max_tokens, struct pp_http_resp *resp);
int pp_http_proxy_parse(struct pp_http_batch *batch, struct pp_json *doc, const char *body,
                        size_t len, int max_tokens, enum pp_http_ctype ct, int nparts,
                        int route_partition, struct pp_http_resp *resp);
int pp_http_kinesis_parse(struct pp_http_batch *batch, struct pp_json *doc, const char *body,
                          size_t len, int max_tokens, int many, struct pp_http_resp *resp);

/* The answer of a one-record request (FastAPI, Kinesis PutRecord) whose record i failed after
 * its append (on Kafka: settled without an offset, or its delivery failed): 413 when too big,
 * else 503 + Retry-After (retriable), in api's envelope with the record's message --
 * never a 200 with an unknown offset. @returns 0 or PP_ENOMEM. */
int pp_http_item_error(const struct pp_http_batch *batch, int i, enum pp_http_api api,
                       struct pp_http_resp *resp);
/* Success bodies, after the batch's records were appended (item status/partition/offset);
 * the one-record shapes answer pp_http_item_error for a failed record. */
/* FastAPI: {"status":"ok","topic":..,"partition":p,"offset":o}. */
int pp_http_fastapi_respond(const struct pp_http_batch *batch, struct pp_http_resp *resp);
/* Kafka REST Proxy v2 produce response (docs.confluent.io kafka-rest api, POST /topics). */
int pp_http_proxy_respond(const struct pp_http_batch *batch, struct pp_http_resp *resp);
/* Kinesis PutRecord ({"SequenceNumber","ShardId"}) or PutRecords ({"FailedRecordCount",
 * "Records":[..]}) response. */
int pp_http_kinesis_respond(const struct pp_http_batch *batch, int many,
                            struct pp_http_resp *resp);
/* Kinesis SequenceNumber of an offset: 56 decimal digits, zero-padded. out >= 57 bytes. */
void pp_http_kinesis_seqno(int64_t offset, char *out, size_t size);

/* Metadata bodies. names: topics of the log; nparts: partitions of the named topic. */
int pp_http_proxy_topics(const char *const *names, int n, struct pp_http_resp *resp);
int pp_http_proxy_topic(const char *name, size_t name_len, int nparts,
                        struct pp_http_resp *resp);
int pp_http_kinesis_streams(const char *const *names, int n, struct pp_http_resp *resp);
int pp_http_kinesis_stream(const char *name, size_t name_len, int nparts,
                           struct pp_http_resp *resp);

#endif
