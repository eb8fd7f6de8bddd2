/* route.c: which of the three API shapes a request is for (method + path) and content types. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "pp_http.h"

/* Is [s, s+n) exactly lit? */
static bool seg_eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* Split path (without the leading '/') into at most max segments; a trailing '/' is allowed.
 * @returns number of segments, or -1 for an empty segment ("//") or too many. */
static int split(const char *path, const char **seg, size_t *len, int max)
{
    int n = 0;
    const char *p = path;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == 0 || n == max)
            return -1;
        seg[n] = p;
        len[n++] = l;
        if (!e)
            break;
        p = e + 1;
    }
    return n;
}

/* HEAD is answered wherever GET is (MHD sends the headers only). */
static int method_is(const char *method, const char *m)
{
    return strcmp(method, m) == 0 || (!strcmp(m, "GET") && !strcmp(method, "HEAD"));
}

static void set_name(struct pp_http_route *route, const char *name, size_t len)
{
    route->name = name;
    route->name_len = len;
    route->kind = pp_kind_from_topic(name, len);
}

static int route_fastapi(const char *method, enum pp_kind kind, struct pp_http_route *route)
{
    route->api = PP_HTTP_API_FASTAPI;
    route->kind = kind;
    route->name = pp_kind_name(kind);
    route->name_len = strlen(route->name);
    route->allow = "POST";
    if (!method_is(method, "POST"))
        return 405;
    route->id = PP_ROUTE_FASTAPI;
    return 200;
}

static int route_topics(const char *method, const char **seg, size_t *len, int n,
                        struct pp_http_route *route)
{
    route->api = PP_HTTP_API_PROXY;
    if (n == 1) {
        route->allow = "GET";
        route->id = PP_ROUTE_TOPICS;
        return method_is(method, "GET") ? 200 : 405;
    }
    set_name(route, seg[1], len[1]);
    if (n == 2) {
        route->allow = "GET, POST";
        if (method_is(method, "GET"))
            return route->id = PP_ROUTE_TOPIC, 200;
        if (method_is(method, "POST"))
            return route->id = PP_ROUTE_PRODUCE, 200;
        return 405;
    }
    if (n == 4 && seg_eq(seg[2], len[2], "partitions")) {
        int p = 0;
        if (len[3] > 6)
            return 404;
        for (size_t i = 0; i < len[3]; i++) {
            if (seg[3][i] < '0' || seg[3][i] > '9')
                return 404;
            p = p * 10 + (seg[3][i] - '0');
        }
        route->partition = p;
        route->allow = "POST";
        if (!method_is(method, "POST"))
            return 405;
        route->id = PP_ROUTE_PRODUCE;
        return 200;
    }
    return 404;
}

static int route_streams(const char *method, const char **seg, size_t *len, int n,
                         struct pp_http_route *route)
{
    route->api = PP_HTTP_API_KINESIS;
    if (n == 1) {
        route->allow = "GET";
        route->id = PP_ROUTE_STREAMS;
        return method_is(method, "GET") ? 200 : 405;
    }
    set_name(route, seg[1], len[1]);
    if (n == 2) {
        route->allow = "GET";
        route->id = PP_ROUTE_STREAM;
        return method_is(method, "GET") ? 200 : 405;
    }
    if (n == 3 && (seg_eq(seg[2], len[2], "record") || seg_eq(seg[2], len[2], "records"))) {
        route->allow = "PUT, POST";
        if (!method_is(method, "PUT") && !method_is(method, "POST"))
            return 405;
        route->id = len[2] == 6 ? PP_ROUTE_PUT_RECORD : PP_ROUTE_PUT_RECORDS;
        return 200;
    }
    return 404;
}

int pp_http_route_match(const char *method, const char *url, struct pp_http_route *route)
{
    memset(route, 0, sizeof(*route));
    route->id = PP_ROUTE_NONE;
    route->api = PP_HTTP_API_PLAIN;
    route->kind = PP_KIND_NONE;
    route->partition = -1;
    if (!url || url[0] != '/')
        return 404;
    const char *seg[5];
    size_t len[5];
    int n = split(url + 1, seg, len, 5);
    if (n <= 0)
        return 404;
    if (n == 1) {
        static const struct {
            const char *name;
            enum pp_http_route_id id;
        } plain[] = {{"healthz", PP_ROUTE_HEALTH},
                     {"readyz", PP_ROUTE_READY},
                     {"metrics", PP_ROUTE_METRICS}};
        for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
            if (seg_eq(seg[0], len[0], plain[i].name)) {
                route->allow = "GET";
                route->id = plain[i].id;
                return method_is(method, "GET") ? 200 : 405;
            }
        for (int k = 0; k < PP_KIND_COUNT; k++)
            if (seg_eq(seg[0], len[0], pp_kind_name((enum pp_kind)k)))
                return route_fastapi(method, (enum pp_kind)k, route);
    }
    /* API Gateway invoke URLs carry a stage first ("/prod/topics/.."): clients that keep
     * their path and only change the host still route. */
    int skip = n >= 2 && (seg_eq(seg[1], len[1], "topics") || seg_eq(seg[1], len[1], "streams"));
    if (skip && (seg_eq(seg[0], len[0], "topics") || seg_eq(seg[0], len[0], "streams")))
        skip = 0;
    if (seg_eq(seg[skip], len[skip], "topics"))
        return route_topics(method, seg + skip, len + skip, n - skip, route);
    if (seg_eq(seg[skip], len[skip], "streams"))
        return route_streams(method, seg + skip, len + skip, n - skip, route);
    return 404;
}

/* Does the media type [s, e) equal lit, ignoring case and surrounding blanks? */
static bool media_eq(const char *s, const char *e, const char *lit)
{
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    size_t n = strlen(lit);
    return (size_t)(e - s) == n && strncasecmp(s, lit, n) == 0;
}

enum pp_http_ctype pp_http_ctype_parse(const char *value)
{
    if (!value)
        return PP_CT_NONE;
    const char *e = strchr(value, ';');
    if (!e)
        e = value + strlen(value);
    if (media_eq(value, e, "application/json"))
        return PP_CT_JSON;
    if (media_eq(value, e, "application/vnd.kafka.json.v2+json"))
        return PP_CT_KAFKA_JSON;
    if (media_eq(value, e, "application/vnd.kafka.binary.v2+json"))
        return PP_CT_KAFKA_BINARY;
    if (media_eq(value, e, "application/x-amz-json-1.1") ||
        media_eq(value, e, "application/x-amz-json-1.0"))
        return PP_CT_AMZ_JSON;
    return PP_CT_OTHER;
}

int pp_http_ctype_ok(const struct pp_http_route *route, enum pp_http_ctype ct)
{
    switch (route->api) {
    /* A JSON type is required everywhere: a body without one (or text/plain, a form) is what
     * a cross-site page can make a browser send without a CORS preflight. */
    case PP_HTTP_API_FASTAPI:
        return ct == PP_CT_JSON;
    case PP_HTTP_API_PROXY:
        return ct == PP_CT_KAFKA_JSON || ct == PP_CT_KAFKA_BINARY || ct == PP_CT_JSON;
    case PP_HTTP_API_KINESIS:
        return ct == PP_CT_JSON || ct == PP_CT_AMZ_JSON;
    default:
        return 1;
    }
}

/* Host header without its port: "h:80" -> "h", "[::1]:80" -> "::1". @returns its length. */
static size_t host_name(const char *host, const char **name)
{
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        *name = host + 1;
        return end ? (size_t)(end - host - 1) : 0;
    }
    *name = host;
    const char *colon = strchr(host, ':');
    return colon ? (size_t)(colon - host) : strlen(host);
}

static int is_ip_literal(const char *name, size_t n)
{
    char buf[64];
    unsigned char addr[16];
    if (n == 0 || n >= sizeof(buf))
        return 0;
    memcpy(buf, name, n);
    buf[n] = '\0';
    return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

int pp_http_host_allowed(const char *host, const char *allowed)
{
    if (!host || !host[0])
        return 0;
    const char *name;
    size_t n = host_name(host, &name);
    if (!n || is_ip_literal(name, n) || (n == 9 && !strncasecmp(name, "localhost", 9)))
        return n > 0;
    for (const char *p = allowed ? allowed : ""; *p;) {
        size_t len = strcspn(p, ", ");
        if ((len == 1 && *p == '*') || (len == n && !strncasecmp(p, name, n)))
            return 1;
        p += len;
        p += strspn(p, ", ");
    }
    return 0;
}
