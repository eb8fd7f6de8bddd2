/* test_http.c: the pure parts of the ingestion server: routes, content types, base64, the
 * three API shapes' body parsing and responses, error envelopes; API keys (file, credentials,
 * roles, token buckets on an injected clock, reload). No network. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pp_auth.h"
#include "pp_err.h"
#include "pp_http.h"
#include "pp_test.h"

#define PIN                                                                                        \
    "{\"index\": 7528, \"unique_id\": \"fbe53c66-3442-4773-b19e-d3ec6f54dddf\", \"title\": "       \
    "\"No Title Data Available\", \"description\": \"No description available Story "              \
    "format\", \"poster_name\": \"User Info Error\", \"follower_count\": \"User Info "             \
    "Error\", \"tag_list\": \"N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e\", \"is_image_or_video\": "        \
    "\"multi-video(story page format)\", \"image_src\": \"Image src error.\", "                    \
    "\"downloaded\": 0, \"save_location\": \"Local save in /data/mens-fashion\", "                 \
    "\"category\": \"mens-fashion\"}"
#define GEO                                                                                        \
    "{\"ind\": 7528, \"timestamp\": \"2020-08-28 03:52:47\", \"latitude\": -89.9787, "             \
    "\"longitude\": -173.293, \"country\": \"Albania\"}"
#define USER                                                                                       \
    "{\"ind\": 7528, \"first_name\": \"Abigail\", \"last_name\": \"Ali\", \"age\": 20, "           \
    "\"date_joined\": \"2015-10-24T11:23:51Z\"}"

static void test_routes(void)
{
    struct pp_http_route r;
    PP_CHECK_INT(pp_http_route_match("GET", "/healthz", &r), 200);
    PP_CHECK_INT(r.id, PP_ROUTE_HEALTH);
    PP_CHECK_INT(pp_http_route_match("HEAD", "/healthz", &r), 200);
    PP_CHECK_INT(pp_http_route_match("HEAD", "/pin/", &r), 405);
    PP_CHECK_INT(pp_http_route_match("POST", "/healthz", &r), 405);
    PP_CHECK_STR(r.allow, "GET");
    PP_CHECK_INT(pp_http_route_match("POST", "/pin/", &r), 200);
    PP_CHECK_INT(r.id, PP_ROUTE_FASTAPI);
    PP_CHECK_INT(r.kind, PP_KIND_PIN);
    PP_CHECK_INT(pp_http_route_match("POST", "/geo", &r), 200);
    PP_CHECK_INT(r.kind, PP_KIND_GEO);
    PP_CHECK_INT(pp_http_route_match("POST", "/user/", &r), 200);
    PP_CHECK_INT(r.kind, PP_KIND_USER);
    PP_CHECK_INT(pp_http_route_match("PUT", "/user/", &r), 405);
    PP_CHECK_STR(r.allow, "POST");
    PP_CHECK_INT(pp_http_route_match("POST", "/pins/", &r), 404);
    PP_CHECK_INT(pp_http_route_match("POST", "/pin//", &r), 404);
    PP_CHECK_INT(pp_http_route_match("GET", "/", &r), 404);
    PP_CHECK_INT(pp_http_route_match("GET", "", &r), 404);

    PP_CHECK_INT(pp_http_route_match("GET", "/topics", &r), 200);
    PP_CHECK_INT(r.id, PP_ROUTE_TOPICS);
    PP_CHECK_INT(r.api, PP_HTTP_API_PROXY);
    PP_CHECK_INT(pp_http_route_match("POST", "/topics/0a1b.pin", &r), 200);
    PP_CHECK_INT(r.id, PP_ROUTE_PRODUCE);
    PP_CHECK_INT(r.kind, PP_KIND_PIN);
    PP_CHECK_INT(r.partition, -1);
    PP_CHECK_INT((int)r.name_len, 8);
    PP_CHECK(!strncmp(r.name, "0a1b.pin", r.name_len));
    PP_CHECK_INT(pp_http_route_match("GET", "/topics/0a1b.geo", &r), 200);
    PP_CHECK_INT(r.id, PP_ROUTE_TOPIC);
    PP_CHECK_INT(pp_http_route_match("DELETE", "/topics/0a1b.geo", &r), 405);
    PP_CHECK_STR(r.allow, "GET, POST");
    PP_CHECK_INT(pp_http_route_match("POST", "/topics/x.user/partitions/1", &r), 200);
    PP_CHECK_INT(r.partition, 1);
    PP_CHECK_INT(r.kind, PP_KIND_USER);
    PP_CHECK_INT(pp_http_route_match("POST", "/topics/x.user/partitions/1x", &r), 404);
    PP_CHECK_INT(pp_http_route_match("POST", "/topics/x.user/other", &r), 404);
    PP_CHECK_INT(r.api, PP_HTTP_API_PROXY);
    /* a topic that names no kind still routes; the server answers 40401 */
    PP_CHECK_INT(pp_http_route_match("POST", "/topics/0a1b.foo", &r), 200);
    PP_CHECK_INT(r.kind, PP_KIND_NONE);

    PP_CHECK_INT(pp_http_route_match("GET", "/streams", &r), 200);
    PP_CHECK_INT(r.id, PP_ROUTE_STREAMS);
    PP_CHECK_INT(pp_http_route_match("GET", "/streams/streaming-0a1b-geo", &r), 200);
    PP_CHECK_INT(r.id, PP_ROUTE_STREAM);
    PP_CHECK_INT(r.kind, PP_KIND_GEO);
    PP_CHECK_INT(pp_http_route_match("PUT", "/streams/streaming-0a1b-pin/record", &r), 200);
    PP_CHECK_INT(r.id, PP_ROUTE_PUT_RECORD);
    PP_CHECK_INT(r.api, PP_HTTP_API_KINESIS);
    PP_CHECK_INT(pp_http_route_match("PUT", "/streams/streaming-0a1b-pin/records", &r), 200);
    PP_CHECK_INT(r.id, PP_ROUTE_PUT_RECORDS);
    PP_CHECK_INT(pp_http_route_match("GET", "/streams/streaming-0a1b-pin/records", &r), 405);
    PP_CHECK_INT(pp_http_route_match("PUT", "/streams/s-pin/recordz", &r), 404);
    /* an API Gateway stage in front */
    PP_CHECK_INT(pp_http_route_match("POST", "/prod/topics/0a1b.geo", &r), 200);
    PP_CHECK_INT(r.id, PP_ROUTE_PRODUCE);
    PP_CHECK_INT(r.kind, PP_KIND_GEO);
    PP_CHECK_INT(pp_http_route_match("POST", "/test/topics/x.user/partitions/0", &r), 200);
    PP_CHECK_INT(r.partition, 0);
    PP_CHECK_INT(pp_http_route_match("PUT", "/dev/streams/streaming-1-user/records", &r), 200);
    PP_CHECK_INT(r.id, PP_ROUTE_PUT_RECORDS);
    PP_CHECK_INT(pp_http_route_match("GET", "/topics/topics", &r), 200); /* a topic named so */
    PP_CHECK_INT(r.id, PP_ROUTE_TOPIC);
    PP_CHECK_INT(pp_http_route_match("POST", "/a/b/topics/x.pin", &r), 404);
    PP_CHECK_INT(pp_http_route_match("POST", "/prod/pin/", &r), 404);
}

static void test_ctypes(void)
{
    struct pp_http_route r;
    PP_CHECK_INT(pp_http_ctype_parse(NULL), PP_CT_NONE);
    PP_CHECK_INT(pp_http_ctype_parse("application/json"), PP_CT_JSON);
    PP_CHECK_INT(pp_http_ctype_parse("Application/JSON; charset=utf-8"), PP_CT_JSON);
    PP_CHECK_INT(pp_http_ctype_parse("application/vnd.kafka.json.v2+json"), PP_CT_KAFKA_JSON);
    PP_CHECK_INT(pp_http_ctype_parse("application/vnd.kafka.binary.v2+json"), PP_CT_KAFKA_BINARY);
    PP_CHECK_INT(pp_http_ctype_parse("application/x-amz-json-1.1"), PP_CT_AMZ_JSON);
    PP_CHECK_INT(pp_http_ctype_parse("text/plain"), PP_CT_OTHER);
    PP_CHECK_INT(pp_http_ctype_parse("application/jsonx"), PP_CT_OTHER);
    PP_CHECK_INT(pp_http_ctype_parse("application/vnd.kafka.avro.v2+json"), PP_CT_OTHER);

    pp_http_route_match("POST", "/pin/", &r);
    PP_CHECK(!pp_http_ctype_ok(&r, PP_CT_NONE)); /* cross-site forms send none */
    PP_CHECK(pp_http_ctype_ok(&r, PP_CT_JSON));
    PP_CHECK(!pp_http_ctype_ok(&r, PP_CT_KAFKA_JSON));
    PP_CHECK(!pp_http_ctype_ok(&r, PP_CT_OTHER));
    pp_http_route_match("POST", "/topics/a.pin", &r);
    PP_CHECK(!pp_http_ctype_ok(&r, PP_CT_NONE));
    PP_CHECK(pp_http_ctype_ok(&r, PP_CT_JSON));
    PP_CHECK(pp_http_ctype_ok(&r, PP_CT_KAFKA_JSON));
    PP_CHECK(pp_http_ctype_ok(&r, PP_CT_KAFKA_BINARY));
    PP_CHECK(!pp_http_ctype_ok(&r, PP_CT_AMZ_JSON));
    pp_http_route_match("PUT", "/streams/s-pin/record", &r);
    PP_CHECK(pp_http_ctype_ok(&r, PP_CT_AMZ_JSON));
    PP_CHECK(pp_http_ctype_ok(&r, PP_CT_JSON));
    PP_CHECK(!pp_http_ctype_ok(&r, PP_CT_NONE));
    PP_CHECK(!pp_http_ctype_ok(&r, PP_CT_KAFKA_BINARY));
}

static int b64_dec(const char *in, char *out, size_t size)
{
    struct pp_buf b;
    pp_buf_init(&b, 0);
    int rc = pp_http_b64_decode(in, strlen(in), &b);
    if (!rc)
        snprintf(out, size, "%s", b.data ? b.data : "");
    pp_buf_free(&b);
    return rc;
}

static void test_b64(void)
{
    char out[64];
    PP_CHECK_INT(b64_dec("", out, sizeof(out)), 0);
    PP_CHECK_STR(out, "");
    PP_CHECK_INT(b64_dec("Zg==", out, sizeof(out)), 0);
    PP_CHECK_STR(out, "f");
    PP_CHECK_INT(b64_dec("Zm8=", out, sizeof(out)), 0);
    PP_CHECK_STR(out, "fo");
    PP_CHECK_INT(b64_dec("Zm9v", out, sizeof(out)), 0);
    PP_CHECK_STR(out, "foo");
    PP_CHECK_INT(b64_dec("Zm9vYmFy", out, sizeof(out)), 0);
    PP_CHECK_STR(out, "foobar");
    PP_CHECK_INT(b64_dec("Zm9vYg", out, sizeof(out)), 0); /* unpadded */
    PP_CHECK_STR(out, "foob");
    PP_CHECK_INT(b64_dec("Zm9vYg=", out, sizeof(out)), PP_EPARSE);  /* half padding */
    PP_CHECK_INT(b64_dec("Zm9vY", out, sizeof(out)), PP_EPARSE);    /* 1 char left */
    PP_CHECK_INT(b64_dec("Zm9v!mFy", out, sizeof(out)), PP_EPARSE); /* bad char */
    PP_CHECK_INT(b64_dec("Zm9 v", out, sizeof(out)), PP_EPARSE);    /* whitespace */
    PP_CHECK_INT(b64_dec("Zh==", out, sizeof(out)), PP_EPARSE);     /* non-canonical */
    PP_CHECK_INT(b64_dec("Zm9vYmFy====", out, sizeof(out)), PP_EPARSE);
    PP_CHECK_INT(b64_dec("Z-8_", out, sizeof(out)), PP_EPARSE); /* url-safe alphabet */

    /* round trip of every byte value */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    for (size_t n = 0; n <= 256; n += 37) {
        struct pp_buf e, d;
        pp_buf_init(&e, 0);
        pp_buf_init(&d, 0);
        PP_CHECK_INT(pp_http_b64_encode(all, n, &e), 0);
        PP_CHECK_INT((int)e.len, (int)((n + 2) / 3 * 4));
        PP_CHECK_INT(pp_http_b64_decode(e.data, e.len, &d), 0);
        PP_CHECK_INT((int)d.len, (int)n);
        PP_CHECK(n == 0 || !memcmp(d.data, all, n));
        pp_buf_free(&e);
        pp_buf_free(&d);
    }
}

struct fixture {
    struct pp_http_batch batch;
    struct pp_json doc;
    struct pp_http_resp resp;
};

static void fx_init(struct fixture *fx)
{
    pp_http_batch_init(&fx->batch);
    pp_json_init(&fx->doc);
    pp_http_resp_init(&fx->resp, 0);
}

static void fx_free(struct fixture *fx)
{
    pp_http_batch_free(&fx->batch);
    pp_json_free(&fx->doc);
    pp_http_resp_free(&fx->resp);
}

static int fastapi(struct fixture *fx, enum pp_kind kind, const char *body)
{
    pp_http_batch_reset(&fx->batch, kind, body);
    pp_http_resp_reset(&fx->resp);
    return pp_http_fastapi_parse(&fx->batch, &fx->doc, body, strlen(body), 0, &fx->resp);
}

static int has(const struct fixture *fx, const char *s)
{
    int ok = fx->resp.body.data && strstr(fx->resp.body.data, s) != NULL;
    if (!ok)
        fprintf(stderr, "  body %s lacks %s\n", fx->resp.body.data ? fx->resp.body.data : "-", s);
    return ok;
}

static void test_fastapi(void)
{
    struct fixture fx;
    fx_init(&fx);
    size_t len;
    const char *body = "  " PIN "\n";
    PP_CHECK_INT(fastapi(&fx, PP_KIND_PIN, body), 0);
    PP_CHECK_INT(fx.batch.n, 1);
    PP_CHECK_INT(fx.batch.items[0].id, 7528);
    const char *v = pp_http_item_value(&fx.batch, 0, &len);
    PP_CHECK_INT((int)len, (int)strlen(PIN)); /* stored without the surrounding blanks */
    PP_CHECK(!memcmp(v, PIN, len));
    fx.batch.items[0].partition_out = 1;
    fx.batch.items[0].offset = 42;
    PP_CHECK_INT(pp_http_fastapi_respond(&fx.batch, &fx.resp), 0);
    PP_CHECK_INT(fx.resp.status, 200);
    PP_CHECK_STR(fx.resp.body.data,
                 "{\"status\":\"ok\",\"topic\":\"pin\",\"partition\":1,\"offset\":42}");

    PP_CHECK_INT(fastapi(&fx, PP_KIND_GEO, GEO), 0);
    PP_CHECK_INT(fastapi(&fx, PP_KIND_USER, USER), 0);
    /* a geo record posted to /user/ lacks the user fields */
    PP_CHECK_INT(fastapi(&fx, PP_KIND_USER, GEO), 422);
    PP_CHECK(has(&fx, "{\"detail\":[{\"loc\":[\"body\",\""));
    PP_CHECK(has(&fx, "\"type\":\""));

    PP_CHECK_INT(fastapi(&fx, PP_KIND_USER,
                         "{\"ind\":\"x\",\"first_name\":\"a\","
                         "\"last_name\":\"b\",\"age\":1,"
                         "\"date_joined\":\"2015-10-24 11:23:51\"}"),
                 422);
    PP_CHECK(has(&fx, "\"loc\":[\"body\",\"ind\"]"));
    PP_CHECK_INT(fastapi(&fx, PP_KIND_USER,
                         "{\"ind\":1,\"first_name\":\"a\","
                         "\"last_name\":\"b\",\"age\":1,"
                         "\"date_joined\":\"yesterday\"}"),
                 422);
    PP_CHECK(has(&fx, "\"loc\":[\"body\",\"date_joined\"]"));
    PP_CHECK_INT(fastapi(&fx, PP_KIND_GEO, "[1,2]"), 422);
    PP_CHECK(has(&fx, "\"loc\":[\"body\"]"));

    PP_CHECK_INT(fastapi(&fx, PP_KIND_PIN, "{\"index\": 1,"), 400);
    PP_CHECK(has(&fx, "value_error.jsondecode"));
    PP_CHECK(has(&fx, "malformed JSON"));
    PP_CHECK_INT(fastapi(&fx, PP_KIND_PIN, ""), 400);
    PP_CHECK_INT(fastapi(&fx, PP_KIND_PIN, "{} {}"), 400);
    fx_free(&fx);
}

static int proxy(struct fixture *fx, const char *body, enum pp_http_ctype ct, int route_p)
{
    pp_http_batch_reset(&fx->batch, PP_KIND_PIN, body);
    pp_http_resp_reset(&fx->resp);
    return pp_http_proxy_parse(&fx->batch, &fx->doc, body, strlen(body), 0, ct, 2, route_p,
                               &fx->resp);
}

/* binary.v2 keys are base64 of the key bytes (Confluent REST Proxy v2 produce). */
static void test_proxy_binary_key(void)
{
    struct fixture fx;
    fx_init(&fx);
    size_t len;
    char body[2000];
    struct pp_buf v64;
    pp_buf_init(&v64, 0);
    pp_http_b64_encode(USER, strlen(USER), &v64);
    pp_buf_putc(&v64, '\0');
    snprintf(body, sizeof(body),
             "{\"records\":[{\"key\":\"azE=\",\"value\":\"%s\"},"
             "{\"key\":\"!!\",\"value\":\"%s\"},{\"key\":{\"a\":1},\"value\":\"%s\"}]}",
             v64.data, v64.data, v64.data);
    pp_buf_free(&v64);
    pp_http_batch_reset(&fx.batch, PP_KIND_USER, body);
    PP_CHECK_INT(pp_http_proxy_parse(&fx.batch, &fx.doc, body, strlen(body), 0,
                                     PP_CT_KAFKA_BINARY, 2, -1, &fx.resp), 0);
    PP_CHECK_INT(fx.batch.n, 3);
    const char *k = pp_http_item_key(&fx.batch, 0, &len);
    PP_CHECK(k && len == 2 && !memcmp(k, "k1", 2));
    PP_CHECK_INT(fx.batch.items[1].status, PP_HTTP_REC_INVALID); /* not base64 */
    PP_CHECK_INT(fx.batch.items[2].status, PP_HTTP_REC_INVALID); /* not a string */
    fx_free(&fx);
}

static void test_proxy(void)
{
    struct fixture fx;
    fx_init(&fx);
    size_t len;
    const char *body = "{\"records\":[{\"key\":\"k\",\"value\":" PIN "},"
                       "{\"value\":{\"index\":\"abc\"}},"
                       "{\"value\":" PIN ",\"partition\":1},"
                       "{\"key\":null}]}";
    PP_CHECK_INT(proxy(&fx, body, PP_CT_KAFKA_JSON, -1), 0);
    PP_CHECK_INT(fx.batch.n, 4);
    PP_CHECK_INT(fx.batch.items[0].status, PP_HTTP_REC_OK);
    PP_CHECK_INT(fx.batch.items[0].partition, -1);
    const char *v = pp_http_item_value(&fx.batch, 0, &len);
    PP_CHECK(len == strlen(PIN) && !memcmp(v, PIN, len)); /* the exact bytes of "value" */
    PP_CHECK_INT(fx.batch.items[1].status, PP_HTTP_REC_INVALID);
    PP_CHECK_INT(fx.batch.items[2].status, PP_HTTP_REC_OK);
    PP_CHECK_INT(fx.batch.items[2].partition, 1);
    PP_CHECK_INT(fx.batch.items[3].status, PP_HTTP_REC_INVALID);
    /* the client's key is kept as JSON text (Confluent's json.v2 serializer); none: NULL */
    const char *k = pp_http_item_key(&fx.batch, 0, &len);
    PP_CHECK(k && len == 3 && !memcmp(k, "\"k\"", 3));
    PP_CHECK(pp_http_item_key(&fx.batch, 2, &len) == NULL);
    /* the server appends the valid ones; pretend it did, one failed retriably */
    fx.batch.items[0].partition_out = 0;
    fx.batch.items[0].offset = 7;
    fx.batch.items[2].partition_out = 1;
    fx.batch.items[2].offset = 8;
    PP_CHECK_INT(pp_http_proxy_respond(&fx.batch, &fx.resp), 0);
    PP_CHECK_STR(fx.resp.ctype, "application/vnd.kafka.v2+json");
    PP_CHECK(has(&fx, "{\"key_schema_id\":null,\"value_schema_id\":null,\"offsets\":["
                      "{\"partition\":0,\"offset\":7},{\"partition\":null,\"offset\":null,"
                      "\"error_code\":1,\"error\":\"index: "));
    PP_CHECK(has(&fx, "{\"partition\":1,\"offset\":8},{\"partition\":null,\"offset\":null,"
                      "\"error_code\":1,\"error\":\"value is required\"}]}"));
    fx.batch.items[2].status = PP_HTTP_REC_RETRY;
    PP_CHECK_INT(pp_http_proxy_respond(&fx.batch, &fx.resp), 0);
    PP_CHECK(has(&fx, "\"error_code\":2"));
    PP_CHECK_INT(pp_http_resp_whole(&fx.resp, PP_HTTP_API_PROXY), 0); /* whole: kept */
    /* an answer that cannot be built whole (its buffer fails half way) is never sent as the
     * 200 it was becoming: a 503 in the API's envelope instead */
    size_t whole = fx.resp.body.len, max = fx.resp.body.max;
    pp_http_resp_reset(&fx.resp);
    fx.resp.body.max = whole - 20;
    pp_http_proxy_respond(&fx.batch, &fx.resp);
    PP_CHECK(pp_buf_error(&fx.resp.body) == PP_ETOOBIG);
    PP_CHECK(fx.resp.body.len < whole - 20 + 1);
    PP_CHECK_INT(pp_http_resp_whole(&fx.resp, PP_HTTP_API_PROXY), 1);
    PP_CHECK_INT(fx.resp.status, 503);
    PP_CHECK_INT(fx.resp.retry_after, 1);
    PP_CHECK(has(&fx, "{\"error_code\":503,\"message\":\"the answer could not be built (too large)"));
    PP_CHECK_INT(pp_buf_error(&fx.resp.body), 0);
    fx.resp.body.max = max;

    /* whole-request failures: nothing may be stored */
    PP_CHECK_INT(proxy(&fx, "{\"records\":[", PP_CT_KAFKA_JSON, -1), 400);
    PP_CHECK(has(&fx, "{\"error_code\":400,\"message\":\"malformed JSON"));
    PP_CHECK_INT(proxy(&fx, "{\"records\":[]}", PP_CT_KAFKA_JSON, -1), 422);
    PP_CHECK(has(&fx, "\"error_code\":422"));
    PP_CHECK_INT(proxy(&fx, "{\"record\":[]}", PP_CT_KAFKA_JSON, -1), 422);
    PP_CHECK_INT(proxy(&fx, "[]", PP_CT_KAFKA_JSON, -1), 422);
    PP_CHECK_INT(proxy(&fx, "{\"records\":[{\"value\":" PIN "}, 5]}", PP_CT_KAFKA_JSON, -1), 422);
    PP_CHECK_INT(fx.batch.n, 0);
    PP_CHECK_INT(proxy(&fx,
                       "{\"records\":[{\"value\":" PIN "},{\"value\":" PIN ",\"partition\":2}]}",
                       PP_CT_KAFKA_JSON, -1),
                 404);
    PP_CHECK(has(&fx, "{\"error_code\":40402,\"message\":\"Partition not found.\"}"));
    PP_CHECK_INT(fx.batch.n, 0);
    PP_CHECK_INT(
        proxy(&fx, "{\"records\":[{\"value\":" PIN ",\"partition\":-1}]}", PP_CT_KAFKA_JSON, -1),
        404);
    PP_CHECK_INT(
        proxy(&fx, "{\"records\":[{\"value\":" PIN ",\"partition\":\"0\"}]}", PP_CT_KAFKA_JSON, -1),
        422);
    PP_CHECK_INT(proxy(&fx, "{\"records\":[{\"value\":" PIN "}]}", PP_CT_KAFKA_JSON, 5), 404);
    PP_CHECK_INT(proxy(&fx, "{\"records\":[{\"value\":" PIN "}]}", PP_CT_JSON, 1), 0);
    PP_CHECK_INT(fx.batch.items[0].partition, 1);

    /* binary embedded format: base64 values */
    struct pp_buf b64, body2;
    pp_buf_init(&b64, 0);
    pp_buf_init(&body2, 0);
    pp_http_b64_encode(PIN, strlen(PIN), &b64);
    pp_buf_printf(&body2,
                  "{\"records\":[{\"key\":\"MQ==\",\"value\":\"%s\"},{\"value\":\"%s\"},"
                  "{\"value\":\"not base64!\"},{\"value\":\"bm90IGpzb24=\"},"
                  "{\"value\":{\"index\":1}},{\"value\":\"/w==\"}]}",
                  b64.data, b64.data);
    PP_CHECK_INT(proxy(&fx, body2.data, PP_CT_KAFKA_BINARY, -1), 0);
    PP_CHECK_INT(fx.batch.n, 6);
    PP_CHECK_INT(fx.batch.items[0].status, PP_HTTP_REC_OK);
    PP_CHECK_INT(fx.batch.items[1].status, PP_HTTP_REC_OK);
    v = pp_http_item_value(&fx.batch, 1, &len);
    PP_CHECK(len == strlen(PIN) && !memcmp(v, PIN, len));
    v = pp_http_item_value(&fx.batch, 0, &len); /* still valid after later decodes */
    PP_CHECK(len == strlen(PIN) && !memcmp(v, PIN, len));
    PP_CHECK_INT(fx.batch.items[2].status, PP_HTTP_REC_INVALID);
    const char *m = pp_http_item_msg(&fx.batch, 2, &len);
    PP_CHECK(strstr(m, "base64") != NULL);
    PP_CHECK_INT(fx.batch.items[3].status, PP_HTTP_REC_INVALID); /* "not json" */
    m = pp_http_item_msg(&fx.batch, 3, &len);
    PP_CHECK(strstr(m, "not valid JSON") != NULL);
    PP_CHECK_INT(fx.batch.items[4].status, PP_HTTP_REC_INVALID); /* object in binary mode */
    PP_CHECK_INT(fx.batch.items[5].status, PP_HTTP_REC_INVALID); /* 0xFF: not UTF-8 */
    m = pp_http_item_msg(&fx.batch, 5, &len);
    PP_CHECK(strstr(m, "UTF-8") != NULL);
    pp_buf_free(&b64);
    pp_buf_free(&body2);

    PP_CHECK_INT(pp_http_proxy_topic("0a1b.pin", 8, 2, &fx.resp), 0);
    PP_CHECK(has(&fx, "{\"name\":\"0a1b.pin\",\"configs\":{},\"partitions\":[{\"partition\":0,"));
    PP_CHECK(has(&fx, "{\"partition\":1,"));
    const char *names[] = {"pin", "geo", "user"};
    PP_CHECK_INT(pp_http_proxy_topics(names, 3, &fx.resp), 0);
    PP_CHECK_STR(fx.resp.body.data, "[\"pin\",\"geo\",\"user\"]");
    fx_free(&fx);
}

static int kinesis(struct fixture *fx, enum pp_kind kind, const char *body, int many)
{
    pp_http_batch_reset(&fx->batch, kind, body);
    pp_http_resp_reset(&fx->resp);
    return pp_http_kinesis_parse(&fx->batch, &fx->doc, body, strlen(body), 0, many, &fx->resp);
}

static void test_kinesis(void)
{
    struct fixture fx;
    fx_init(&fx);
    size_t len;
    char seq[64];
    pp_http_kinesis_seqno(42, seq, sizeof(seq));
    PP_CHECK_INT((int)strlen(seq), 56);
    PP_CHECK(!strcmp(seq + 54, "42") && seq[0] == '0');

    PP_CHECK_INT(kinesis(&fx, PP_KIND_GEO,
                         "{\"StreamName\":\"streaming-0a1b-geo\",\"Data\":" GEO
                         ",\"PartitionKey\":\"pk\"}",
                         0),
                 0);
    PP_CHECK_INT(fx.batch.n, 1);
    const char *v = pp_http_item_value(&fx.batch, 0, &len);
    PP_CHECK(len == strlen(GEO) && !memcmp(v, GEO, len));
    fx.batch.items[0].partition_out = 1;
    fx.batch.items[0].offset = 3;
    PP_CHECK_INT(pp_http_kinesis_respond(&fx.batch, 0, &fx.resp), 0);
    PP_CHECK_STR(fx.resp.body.data, "{\"SequenceNumber\":\"00000000000000000000000000000000000"
                                    "000000000000000000003\",\"ShardId\":\"shardId-"
                                    "000000000001\"}");

    struct pp_buf b64, body;
    pp_buf_init(&b64, 0);
    pp_buf_init(&body, 0);
    pp_http_b64_encode(USER, strlen(USER), &b64);
    pp_buf_printf(&body, "{\"Data\":\"%s\",\"PartitionKey\":\"pk\"}", b64.data);
    PP_CHECK_INT(kinesis(&fx, PP_KIND_USER, body.data, 0), 0);
    v = pp_http_item_value(&fx.batch, 0, &len);
    PP_CHECK(len == strlen(USER) && !memcmp(v, USER, len));

    PP_CHECK_INT(kinesis(&fx, PP_KIND_USER, "{\"PartitionKey\":\"pk\"}", 0), 400);
    PP_CHECK(has(&fx, "{\"__type\":\"ValidationException\",\"message\":\"Data is required\"}"));
    PP_CHECK_INT(kinesis(&fx, PP_KIND_USER, "{\"Data\":" GEO "}", 0), 400);
    PP_CHECK(has(&fx, "\"__type\":\"InvalidArgumentException\""));
    PP_CHECK_INT(kinesis(&fx, PP_KIND_USER, "{\"Data\":\"%%%\"}", 0), 400);
    PP_CHECK(has(&fx, "base64"));
    PP_CHECK_INT(kinesis(&fx, PP_KIND_USER, "{\"Data\":", 0), 400);
    PP_CHECK(has(&fx, "\"__type\":\"SerializationException\""));
    PP_CHECK_INT(kinesis(&fx, PP_KIND_USER, "[]", 0), 400);

    /* PutRecords, both spellings; invalid records are failed slots, in order */
    pp_buf_reset(&body);
    pp_buf_printf(&body,
                  "{\"records\":[{\"data\":" USER ",\"partition-key\":\"a\"},"
                  "{\"data\":{\"ind\":1},\"partition-key\":\"b\"},"
                  "{\"data\":\"%s\",\"partition-key\":\"c\"}]}",
                  b64.data);
    PP_CHECK_INT(kinesis(&fx, PP_KIND_USER, body.data, 1), 0);
    PP_CHECK_INT(fx.batch.n, 3);
    PP_CHECK_INT(fx.batch.items[1].status, PP_HTTP_REC_INVALID);
    fx.batch.items[0].partition_out = 0;
    fx.batch.items[0].offset = 5;
    fx.batch.items[2].partition_out = 0;
    fx.batch.items[2].offset = 6;
    PP_CHECK_INT(pp_http_kinesis_respond(&fx.batch, 1, &fx.resp), 0);
    PP_CHECK(has(&fx, "{\"FailedRecordCount\":1,\"Records\":[{\"SequenceNumber\":\""));
    PP_CHECK(has(&fx, "},{\"ErrorCode\":\"InvalidArgumentException\",\"ErrorMessage\":\""));
    PP_CHECK(has(&fx, "06\",\"ShardId\":\"shardId-000000000000\"}]}"));
    PP_CHECK_INT(kinesis(&fx, PP_KIND_USER,
                         "{\"StreamName\":\"s-user\",\"Records\":[{\"Data\":" USER
                         ",\"PartitionKey\":\"a\"}]}",
                         1),
                 0);
    PP_CHECK_INT(fx.batch.n, 1);
    PP_CHECK_INT(fx.batch.items[0].status, PP_HTTP_REC_OK);
    PP_CHECK_INT(kinesis(&fx, PP_KIND_USER, "{\"records\":[]}", 1), 400);
    PP_CHECK_INT(kinesis(&fx, PP_KIND_USER, "{\"records\":[{\"partition-key\":\"a\"}]}", 1), 400);
    PP_CHECK_INT(fx.batch.n, 0);
    PP_CHECK_INT(kinesis(&fx, PP_KIND_USER, "{\"data\":" USER "}", 1), 400);

    const char *names[] = {"pin"};
    PP_CHECK_INT(pp_http_kinesis_streams(names, 1, &fx.resp), 0);
    PP_CHECK_STR(fx.resp.body.data, "{\"StreamNames\":[\"pin\"],\"HasMoreStreams\":false}");
    PP_CHECK_INT(pp_http_kinesis_stream("s-\"pin", 6, 2, &fx.resp), 0);
    PP_CHECK(has(&fx, "\"StreamName\":\"s-\\\"pin\""));
    PP_CHECK(has(&fx, "stream/s-\\\"pin\",\"StreamStatus\":\"ACTIVE\""));
    PP_CHECK(has(&fx, "\"EndingHashKey\":\"340282366920938463463374607431768211455\""));
    PP_CHECK(has(&fx, "\"ShardId\":\"shardId-000000000001\""));
    pp_buf_free(&b64);
    pp_buf_free(&body);
    fx_free(&fx);
}

static void test_envelopes(void)
{
    struct pp_http_resp resp;
    pp_http_resp_init(&resp, 0);
    pp_http_error(&resp, PP_HTTP_API_FASTAPI, 404, 0, NULL, "Not Found");
    PP_CHECK_STR(resp.body.data, "{\"detail\":\"Not Found\"}");
    PP_CHECK_INT(resp.retry_after, 0);
    pp_http_error(&resp, PP_HTTP_API_PROXY, 404, 40401, NULL, "Topic not found.");
    PP_CHECK_STR(resp.body.data, "{\"error_code\":40401,\"message\":\"Topic not found.\"}");
    PP_CHECK_STR(resp.ctype, "application/vnd.kafka.v2+json");
    pp_http_error(&resp, PP_HTTP_API_PROXY, 415, 0, NULL, "x");
    PP_CHECK_STR(resp.body.data, "{\"error_code\":415,\"message\":\"x\"}");
    pp_http_error(&resp, PP_HTTP_API_KINESIS, 503, 0, NULL, "log \"full\"");
    PP_CHECK_STR(resp.body.data,
                 "{\"__type\":\"ServiceUnavailableException\",\"message\":\"log \\\"full\\\"\"}");
    PP_CHECK_INT(resp.status, 503);
    PP_CHECK_INT(resp.retry_after, 1);
    pp_http_error(&resp, PP_HTTP_API_KINESIS, 404, 0, "ResourceNotFoundException", "gone");
    PP_CHECK_STR(resp.body.data, "{\"__type\":\"ResourceNotFoundException\",\"message\":\"gone\"}");
    struct pp_verr verr = {"age", "value is not a valid integer", "type_error.integer"};
    pp_http_fastapi_error(&resp, 422, &verr);
    PP_CHECK_STR(resp.body.data, "{\"detail\":[{\"loc\":[\"body\",\"age\"],\"msg\":\"value is "
                                 "not a valid integer\",\"type\":\"type_error.integer\"}]}");
    pp_http_resp_free(&resp);
}

/* Deterministic mutations of valid bodies through every parser: each answer must be a
 * batch (whose values lie inside the body or scratch) or a 4xx/5xx with a JSON body.
 * Run under -DPP_SANITIZE=address,undefined to catch memory errors. */
static void test_mutations(void)
{
    static const char *const seeds[] = {
        PIN,
        "{\"records\":[{\"key\":\"k\",\"value\":" GEO "},{\"value\":" GEO ",\"partition\":1}]}",
        "{\"records\":[{\"value\":\"eyJpbmQiOjF9\"},{\"value\":\"Zm9v\"}]}",
        "{\"StreamName\":\"s\",\"Data\":" USER ",\"PartitionKey\":\"p\"}",
        "{\"records\":[{\"data\":" USER ",\"partition-key\":\"a\"},{\"Data\":\"eyJ9\"}]}",
    };
    static const char alphabet[] = "{}[]\",:0123456789-.eE\\unlltrufs \xff\xc3\x80=/+";
    struct fixture fx;
    fx_init(&fx);
    char body[2048];
    uint32_t rng = 12345;
    int bad = 0, runs = 0;
    for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
        for (int iter = 0; iter < 400; iter++) {
            size_t n = strlen(seeds[s]);
            memcpy(body, seeds[s], n);
            int edits = 1 + iter % 4;
            for (int e = 0; e < edits; e++) {
                rng = rng * 1103515245u + 12345u;
                size_t at = (rng >> 8) % (n ? n : 1);
                char c = alphabet[(rng >> 20) % (sizeof(alphabet) - 1)];
                switch ((rng >> 28) % 3) {
                case 0:
                    body[at] = c;
                    break;
                case 1: /* delete */
                    memmove(body + at, body + at + 1, n - at - 1);
                    n--;
                    break;
                default: /* insert */
                    if (n + 1 < sizeof(body)) {
                        memmove(body + at + 1, body + at, n - at);
                        body[at] = c;
                        n++;
                    }
                }
            }
            body[n] = '\0';
            for (int shape = 0; shape < 5; shape++) {
                pp_http_batch_reset(&fx.batch, (enum pp_kind)(iter % 3), body);
                pp_http_resp_reset(&fx.resp);
                int rc;
                if (shape == 0)
                    rc = pp_http_fastapi_parse(&fx.batch, &fx.doc, body, n, 0, &fx.resp);
                else if (shape == 1 || shape == 2)
                    rc = pp_http_proxy_parse(&fx.batch, &fx.doc, body, n, 0,
                                             shape == 1 ? PP_CT_KAFKA_JSON : PP_CT_KAFKA_BINARY, 2,
                                             -1, &fx.resp);
                else
                    rc =
                        pp_http_kinesis_parse(&fx.batch, &fx.doc, body, n, 0, shape == 4, &fx.resp);
                runs++;
                if (rc) {
                    if (rc < 400 || rc > 599 || !fx.resp.body.data || fx.resp.body.data[0] != '{')
                        bad++;
                    continue;
                }
                for (int i = 0; i < fx.batch.n; i++) {
                    size_t len;
                    const char *v = pp_http_item_value(&fx.batch, i, &len);
                    const struct pp_http_item *item = &fx.batch.items[i];
                    if (item->status != PP_HTTP_REC_OK)
                        continue;
                    int inside = item->in_scratch ? item->voff + len <= fx.batch.scratch.len
                                                  : v >= body && v + len <= body + n;
                    if (!inside || len == 0 || v[0] != '{')
                        bad++;
                }
                if (shape == 0 && pp_http_fastapi_respond(&fx.batch, &fx.resp))
                    bad++;
                if ((shape == 1 || shape == 2) && pp_http_proxy_respond(&fx.batch, &fx.resp))
                    bad++;
                if (shape >= 3 && pp_http_kinesis_respond(&fx.batch, shape == 4, &fx.resp))
                    bad++;
            }
        }
    }
    PP_CHECK_INT(bad, 0);
    PP_CHECK_INT(runs, 5 * 400 * 5);
    fx_free(&fx);
}

/* ---- API keys (src/http/auth.c, auth_file.c) -------------------------------------------- */

static void hex_of(const unsigned char *h, char *out)
{
    for (int i = 0; i < PP_AUTH_HASH_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static void test_auth_hash(void)
{
    unsigned char h[PP_AUTH_HASH_LEN], h2[PP_AUTH_HASH_LEN];
    char hex[2 * PP_AUTH_HASH_LEN + 1], key[64];
    pp_auth_hash("abc", 3, h); /* FIPS 180-2 test vector */
    hex_of(h, hex);
    PP_CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    PP_CHECK_INT(pp_auth_key_generate(key, sizeof(key), h), 0);
    PP_CHECK_INT(strlen(key), 46);
    PP_CHECK(!strncmp(key, "pp_", 3));
    PP_CHECK_INT(strspn(key + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                 43);
    pp_auth_hash(key, strlen(key), h2);
    PP_CHECK(!memcmp(h, h2, sizeof(h)));
    char key2[64];
    PP_CHECK_INT(pp_auth_key_generate(key2, sizeof(key2), h2), 0);
    PP_CHECK(strcmp(key, key2) != 0);
    PP_CHECK_INT(pp_auth_key_generate(key2, 46, h2), PP_EIO); /* no room for the NUL */
}

#define HASH_A "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static int parse_text(const char *text, struct pp_auth_keys *keys, char *err, size_t size)
{
    pp_auth_keys_free(keys);
    return pp_auth_keys_parse(keys, text, strlen(text), err, size);
}

static void test_auth_file(void)
{
    struct pp_auth_keys keys;
    char err[200] = "";
    pp_auth_keys_init(&keys);
    const char *text = "# comment\n\n"
                       "name=a role=ingest topics=pin,geo rate=2.5 created=2026-12-07T23:30:00Z "
                       "sha256=" HASH_A "\n"
                       "  name=b.x-1 role=admin sha256=" HASH_A "\r\n";
    PP_CHECK_INT(parse_text(text, &keys, err, sizeof(err)), 0);
    PP_CHECK_INT(keys.n, 2);
    PP_CHECK_INT(keys.keys[0].topics, (1u << PP_KIND_PIN) | (1u << PP_KIND_GEO));
    PP_CHECK(keys.keys[0].rate == 2.5 && keys.keys[0].burst == 2.5); /* burst = max(1, rate) */
    PP_CHECK_INT(keys.keys[0].created_ms, 1796686200000LL);
    PP_CHECK_INT(keys.keys[1].role, PP_AUTH_ADMIN);
    PP_CHECK_INT(keys.keys[1].topics, 0);
    PP_CHECK(keys.keys[1].rate == 0);
    /* format and parse again: the same keys */
    struct pp_buf out;
    struct pp_auth_keys again;
    pp_buf_init(&out, 0);
    pp_auth_keys_init(&again);
    PP_CHECK_INT(pp_auth_keys_format(&keys, &out), 0);
    PP_CHECK_INT(pp_auth_keys_parse(&again, out.data, out.len, err, sizeof(err)), 0);
    PP_CHECK_INT(again.n, 2);
    PP_CHECK(again.n == 2 && !memcmp(again.keys[0].hash, keys.keys[0].hash, PP_AUTH_HASH_LEN) &&
             again.keys[0].rate == 2.5 && again.keys[0].topics == keys.keys[0].topics &&
             again.keys[0].created_ms == keys.keys[0].created_ms);
    PP_CHECK(strstr(out.data, "name=b.x-1 role=admin topics=* rate=0 burst=0") != NULL);
    /* add, find, remove */
    struct pp_auth_key k = keys.keys[0];
    PP_CHECK_INT(pp_auth_keys_add(&again, &k), PP_EINVAL); /* name taken */
    snprintf(k.name, sizeof(k.name), "c");
    PP_CHECK_INT(pp_auth_keys_add(&again, &k), 0);
    PP_CHECK_INT(pp_auth_keys_find(&again, "c"), 2);
    PP_CHECK_INT(pp_auth_keys_remove(&again, "a"), 0);
    PP_CHECK_INT(pp_auth_keys_remove(&again, "a"), PP_ENOENT);
    PP_CHECK_INT(pp_auth_keys_find(&again, "c"), 1);
    /* malformed lines name the line and field, never a hash */
    static const char *const bad[] = {
        "name=a role=ingest\n",                                   /* no sha256 */
        "name=a sha256=" HASH_A "\n",                             /* no role */
        "role=read sha256=" HASH_A "\n",                          /* no name */
        "name=a role=boss sha256=" HASH_A "\n",                   /* unknown role */
        "name=a role=read sha256=" HASH_A "0\n",                  /* 65 hex digits */
        "name=a role=read sha256=BA7816BF" HASH_A "\n",           /* upper case, too long */
        "name=a role=read topics=pin,cat sha256=" HASH_A "\n",    /* unknown topic */
        "name=a role=read rate=-1 sha256=" HASH_A "\n",           /* negative rate */
        "name=a role=read rate=nan sha256=" HASH_A "\n",          /* not finite */
        "name=a role=read color=red sha256=" HASH_A "\n",         /* unknown field */
        "name=a role=read sha256\n",                              /* no '=' */
        "name=a/b role=read sha256=" HASH_A "\n",                 /* bad name */
        "name=a role=read sha256=" HASH_A "\nname=a role=admin sha256=" HASH_A "\n", /* twice */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        PP_CHECK_INT(parse_text(bad[i], &keys, err, sizeof(err)), PP_EPARSE);
        PP_CHECK(!strncmp(err, "line ", 5) && !strstr(err, "ba7816"));
    }
    unsigned t;
    char topics[32];
    PP_CHECK_INT(pp_auth_topics_parse("user", &t), 0);
    pp_auth_topics_format(t, topics, sizeof(topics));
    PP_CHECK_STR(topics, "user");
    PP_CHECK_INT(pp_auth_topics_parse("pin,", &t), PP_EPARSE);
    PP_CHECK(!pp_auth_name_ok("") && !pp_auth_name_ok("a b") && pp_auth_name_ok("A-z_0.9"));
    pp_buf_free(&out);
    pp_auth_keys_free(&again);
    pp_auth_keys_free(&keys);
}

static int cred(const char *xkey, const char *authz, char *out)
{
    size_t len = 0;
    out[0] = '\0';
    int rc = pp_auth_credential(xkey, authz, out, PP_AUTH_KEY_MAX + 1, &len);
    if (!rc && len != strlen(out))
        return 99;
    return rc;
}

static void test_auth_credentials(void)
{
    char out[PP_AUTH_KEY_MAX + 1], long_key[PP_AUTH_KEY_MAX + 8];
    PP_CHECK_INT(cred(NULL, NULL, out), PP_ENOENT);
    PP_CHECK_INT(cred("pp_k1", NULL, out), 0);
    PP_CHECK_STR(out, "pp_k1");
    PP_CHECK_INT(cred("pp_k1", "Bearer pp_k2", out), 0); /* x-api-key wins */
    PP_CHECK_STR(out, "pp_k1");
    PP_CHECK_INT(cred(NULL, "Bearer pp_k2", out), 0);
    PP_CHECK_STR(out, "pp_k2");
    PP_CHECK_INT(cred(NULL, "bearer   pp_k2  ", out), 0); /* scheme case-insensitive */
    PP_CHECK_STR(out, "pp_k2");
    PP_CHECK_INT(cred(NULL, "Basic dXNlcjpwcF9rMw==", out), 0); /* user:pp_k3 */
    PP_CHECK_STR(out, "pp_k3");
    PP_CHECK_INT(cred(NULL, "Basic OnBwX2s6NA", out), 0); /* ":pp_k:4", no padding */
    PP_CHECK_STR(out, "pp_k:4");                          /* the first ':' splits */
    PP_CHECK_INT(cred(NULL, "Basic dXNlcg==", out), PP_EPARSE);    /* "user": no ':' */
    PP_CHECK_INT(cred(NULL, "Basic dXNlcjo=", out), PP_EPARSE);    /* "user:": empty key */
    PP_CHECK_INT(cred(NULL, "Basic !!!!", out), PP_EPARSE);        /* not base64 */
    PP_CHECK_INT(cred(NULL, "Basic dXNlcjpw=A", out), PP_EPARSE); /* bad padding */
    PP_CHECK_INT(cred(NULL, "Basic", out), PP_EPARSE);
    PP_CHECK_INT(cred(NULL, "Basic dTpwAHE=", out), PP_EPARSE);    /* "u:p\0q": a NUL */
    PP_CHECK_INT(cred(NULL, "Bearer", out), PP_EPARSE);
    PP_CHECK_INT(cred(NULL, "Bearer a b", out), PP_EPARSE);        /* a space inside */
    PP_CHECK_INT(cred(NULL, "Digest x=1", out), PP_EPARSE);
    PP_CHECK_INT(cred("", NULL, out), PP_EPARSE);
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    PP_CHECK_INT(cred(long_key, NULL, out), PP_ETOOBIG);
    long_key[PP_AUTH_KEY_MAX] = '\0';
    PP_CHECK_INT(cred(long_key, NULL, out), 0);
}

/* May a key of role (topics) do method url? */
static int permits(enum pp_auth_role role, unsigned topics, const char *method, const char *url)
{
    struct pp_auth_key key;
    struct pp_http_route route;
    memset(&key, 0, sizeof(key));
    key.role = role;
    key.topics = topics;
    int match = pp_http_route_match(method, url, &route);
    return pp_auth_permits(&key, method, match, &route);
}

static void test_auth_roles(void)
{
    const unsigned pin = 1u << PP_KIND_PIN;
    static const char *const ingest[][2] = {
        {"POST", "/pin/"}, {"POST", "/topics/x.geo"}, {"POST", "/topics/x.user/partitions/1"},
        {"PUT", "/streams/streaming-x-pin/record"}, {"PUT", "/streams/streaming-x-geo/records"},
        {"GET", "/topics"}, {"GET", "/topics/x.pin"}, {"GET", "/streams"}};
    for (size_t i = 0; i < sizeof(ingest) / sizeof(ingest[0]); i++) {
        PP_CHECK(permits(PP_AUTH_INGEST, 0, ingest[i][0], ingest[i][1]));
        PP_CHECK(permits(PP_AUTH_ADMIN, 0, ingest[i][0], ingest[i][1]));
        PP_CHECK(!permits(PP_AUTH_READ, 0, ingest[i][0], ingest[i][1]));
    }
    static const char *const reads[] = {"/metrics", "/", "/api/stats", "/app.js"};
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
        PP_CHECK(permits(PP_AUTH_READ, 0, "GET", reads[i]));
        PP_CHECK(permits(PP_AUTH_READ, 0, "HEAD", reads[i]));
        PP_CHECK(permits(PP_AUTH_ADMIN, 0, "GET", reads[i]));
        PP_CHECK(!permits(PP_AUTH_INGEST, 0, "GET", reads[i]));
    }
    /* topic-limited ingest keys */
    PP_CHECK(permits(PP_AUTH_INGEST, pin, "POST", "/pin/"));
    PP_CHECK(!permits(PP_AUTH_INGEST, pin, "POST", "/geo/"));
    PP_CHECK(permits(PP_AUTH_INGEST, pin, "POST", "/topics/abc.pin"));
    PP_CHECK(!permits(PP_AUTH_INGEST, pin, "POST", "/topics/abc.user"));
    PP_CHECK(!permits(PP_AUTH_INGEST, pin, "POST", "/topics/nope")); /* names no kind */
    PP_CHECK(!permits(PP_AUTH_INGEST, pin, "PUT", "/streams/streaming-x-geo/record"));
    PP_CHECK(!permits(PP_AUTH_INGEST, pin, "GET", "/topics/x.geo"));
    PP_CHECK(permits(PP_AUTH_INGEST, pin, "GET", "/topics")); /* the listing */
    /* 405s and non-GET 404s say nothing a key could not learn: any valid key gets them */
    PP_CHECK(permits(PP_AUTH_READ, 0, "DELETE", "/pin/"));
    PP_CHECK(permits(PP_AUTH_INGEST, 0, "POST", "/no/such/route"));
    PP_CHECK(permits(PP_AUTH_INGEST, 0, "GET", "/topics/x.pin/nope")); /* the API's own 404 */
}

static void test_auth_tokens(void)
{
    struct pp_auth_tokens tok;
    int ra = 0;
    memset(&tok, 0, sizeof(tok));
    int64_t t = 1000000000; /* the injected clock, us */
    PP_CHECK_INT(pp_auth_tokens_take(&tok, 0, 0, t, &ra), 1); /* unlimited */
    /* rate 2/s, burst 3: three at once, then one per 500 ms */
    for (int i = 0; i < 3; i++)
        PP_CHECK_INT(pp_auth_tokens_take(&tok, 2, 3, t, &ra), 1);
    PP_CHECK_INT(pp_auth_tokens_take(&tok, 2, 3, t, &ra), 0);
    PP_CHECK_INT(ra, 1);
    PP_CHECK_INT(pp_auth_tokens_take(&tok, 2, 3, t + 499000, &ra), 0);
    PP_CHECK_INT(pp_auth_tokens_take(&tok, 2, 3, t + 500000, &ra), 1);
    PP_CHECK_INT(pp_auth_tokens_take(&tok, 2, 3, t + 500000, &ra), 0);
    /* a long pause refills up to the burst only */
    t += 60000000;
    for (int i = 0; i < 3; i++)
        PP_CHECK_INT(pp_auth_tokens_take(&tok, 2, 3, t, &ra), 1);
    PP_CHECK_INT(pp_auth_tokens_take(&tok, 2, 3, t, &ra), 0);
    /* a clock that steps back takes nothing and gives nothing */
    PP_CHECK_INT(pp_auth_tokens_take(&tok, 2, 3, t - 5000000, &ra), 0);
    /* slow rates: Retry-After is the whole seconds until the next token */
    memset(&tok, 0, sizeof(tok));
    PP_CHECK_INT(pp_auth_tokens_take(&tok, 0.1, 1, t, &ra), 1);
    PP_CHECK_INT(pp_auth_tokens_take(&tok, 0.1, 1, t + 2500000, &ra), 0);
    PP_CHECK_INT(ra, 8); /* 7.5 s left */
    memset(&tok, 0, sizeof(tok));
    PP_CHECK_INT(pp_auth_tokens_take(&tok, 1e-9, 1, t, &ra), 1);
    PP_CHECK_INT(pp_auth_tokens_take(&tok, 1e-9, 1, t, &ra), 0);
    PP_CHECK_INT(ra, 86400); /* capped */
}

static void test_auth_loopback(void)
{
    PP_CHECK(pp_auth_listen_loopback("127.0.0.1:8080"));
    PP_CHECK(pp_auth_listen_loopback("127.8.9.10:0"));
    PP_CHECK(pp_auth_listen_loopback("localhost:8080"));
    PP_CHECK(pp_auth_listen_loopback("[::1]:8080"));
    PP_CHECK(pp_auth_listen_loopback("[::ffff:127.0.0.1]:8080"));
    PP_CHECK(!pp_auth_listen_loopback("0.0.0.0:8080"));
    PP_CHECK(!pp_auth_listen_loopback(":8080"));
    PP_CHECK(!pp_auth_listen_loopback("*:8080"));
    PP_CHECK(!pp_auth_listen_loopback("[::]:8080"));
    PP_CHECK(!pp_auth_listen_loopback("10.0.0.1:8080"));
    PP_CHECK(!pp_auth_listen_loopback("128.0.0.1:8080"));
    PP_CHECK(!pp_auth_listen_loopback("example.com:8080"));
    PP_CHECK(!pp_auth_listen_loopback("garbage"));
}

/* One request through pp_auth_request: its status (0 = let through). */
static int auth_req(struct pp_auth *auth, const char *method, const char *url, const char *xkey,
                    struct pp_http_resp *resp)
{
    struct pp_http_route route;
    struct pp_auth_req req = {.method = method, .route = &route, .x_api_key = xkey};
    req.match = pp_http_route_match(method, url, &route);
    pp_http_resp_reset(resp);
    return pp_auth_request(auth, &req, resp);
}

static void test_auth_live(void)
{
    char path[] = "/tmp/pp_test_keysXXXXXX", err[300], key[64], key2[64];
    int fd = mkstemp(path);
    PP_CHECK(fd >= 0);
    close(fd);
    struct pp_auth_keys keys;
    struct pp_auth_key k;
    pp_auth_keys_init(&keys);
    memset(&k, 0, sizeof(k));
    snprintf(k.name, sizeof(k.name), "loader");
    k.role = PP_AUTH_INGEST;
    k.rate = 1;
    k.burst = 2;
    pp_auth_key_generate(key, sizeof(key), k.hash);
    pp_auth_keys_add(&keys, &k);
    PP_CHECK_INT(pp_auth_keys_save(&keys, path, err, sizeof(err)), 0);
    struct pp_auth_conf conf = {.path = path};
    int missing = 1;
    struct pp_auth *auth = pp_auth_open(&conf, &missing, err, sizeof(err));
    PP_CHECK(auth != NULL && !missing);
    if (!auth)
        return;
    struct pp_http_resp resp;
    pp_http_resp_init(&resp, 0);
    PP_CHECK_INT(auth_req(auth, "GET", "/healthz", NULL, &resp), 0);
    PP_CHECK_INT(auth_req(auth, "POST", "/pin/", NULL, &resp), 401);
    PP_CHECK_STR(resp.www_auth, "Bearer");
    PP_CHECK_INT(auth_req(auth, "GET", "/", NULL, &resp), 401);
    PP_CHECK_STR(resp.www_auth, "Basic realm=\"pinpipe\"");
    PP_CHECK_INT(auth_req(auth, "POST", "/topics/a.pin", "pp_wrong", &resp), 401);
    PP_CHECK_STR(resp.body.data, "{\"error_code\":40101,\"message\":\"Invalid API key\"}");
    PP_CHECK_INT(auth_req(auth, "GET", "/metrics", key, &resp), 403);
    PP_CHECK_INT(auth_req(auth, "POST", "/pin/", key, &resp), 0);
    PP_CHECK_INT(auth_req(auth, "POST", "/pin/", key, &resp), 0);
    PP_CHECK_INT(auth_req(auth, "PUT", "/streams/s-pin/record", key, &resp), 429);
    PP_CHECK_STR(resp.body.data, "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}");
    PP_CHECK_INT(resp.retry_after, 1);
    /* a new file (new inode): a forced reload swaps it in; the old key is refused */
    snprintf(k.name, sizeof(k.name), "viewer");
    k.role = PP_AUTH_READ;
    k.rate = 0;
    pp_auth_key_generate(key2, sizeof(key2), k.hash);
    pp_auth_keys_remove(&keys, "loader");
    pp_auth_keys_add(&keys, &k);
    PP_CHECK_INT(pp_auth_keys_save(&keys, path, err, sizeof(err)), 0);
    PP_CHECK_INT(pp_auth_reload(auth, 0), 1);
    PP_CHECK_INT(pp_auth_reload(auth, 0), 0); /* unchanged */
    PP_CHECK_INT(pp_auth_count(auth), 1);
    PP_CHECK_INT(auth_req(auth, "POST", "/pin/", key, &resp), 401);
    PP_CHECK_INT(auth_req(auth, "GET", "/metrics", key2, &resp), 0);
    /* a broken file keeps the keys in use */
    FILE *f = fopen(path, "w");
    fputs("name=x role=nope\n", f);
    fclose(f);
    PP_CHECK(pp_auth_reload(auth, 1) < 0);
    PP_CHECK_INT(auth_req(auth, "GET", "/metrics", key2, &resp), 0);
    struct pp_buf m;
    pp_buf_init(&m, 0);
    pp_auth_collect(auth, &m);
    PP_CHECK(strstr(m.data, "pinpipe_http_auth_refusals_total{reason=\"invalid\"} 2") != NULL);
    PP_CHECK(strstr(m.data, "pinpipe_http_throttled_total{key=\"loader\"} 1") != NULL);
    PP_CHECK(strstr(m.data, "pinpipe_http_auth_reloads_total{result=\"failed\"} 1") != NULL);
    PP_CHECK(!strstr(m.data, key) && !strstr(m.data, key2));
    pp_buf_free(&m);
    pp_http_resp_free(&resp);
    pp_auth_destroy(auth);
    pp_auth_keys_free(&keys);
    unlink(path);
}

/* Host names for the dashboard: IP literals and localhost always, names only when listed
 * (DNS rebinding: a page whose own name resolves to 127.0.0.1 must not read the dashboard). */
static void test_host_allowed(void)
{
    PP_CHECK(pp_http_host_allowed("127.0.0.1:8080", NULL));
    PP_CHECK(pp_http_host_allowed("[::1]:8080", ""));
    PP_CHECK(pp_http_host_allowed("localhost", ""));
    PP_CHECK(pp_http_host_allowed("LocalHost:1", ""));
    PP_CHECK(!pp_http_host_allowed("evil.example:8080", ""));
    PP_CHECK(!pp_http_host_allowed("localhost.evil.example", ""));
    PP_CHECK(!pp_http_host_allowed("", "*"));
    PP_CHECK(!pp_http_host_allowed(NULL, "*"));
    PP_CHECK(!pp_http_host_allowed("[::1", ""));
    PP_CHECK(pp_http_host_allowed("Pinpipe.Example:443", "a.example, pinpipe.example"));
    PP_CHECK(!pp_http_host_allowed("pinpipe.example.evil", "pinpipe.example"));
    PP_CHECK(!pp_http_host_allowed("pinpipe", "pinpipe.example"));
    PP_CHECK(pp_http_host_allowed("anything", "x,*"));
}

int main(void)
{
    test_proxy_binary_key();
    test_host_allowed();
    test_routes();
    test_ctypes();
    test_b64();
    test_fastapi();
    test_proxy();
    test_kinesis();
    test_envelopes();
    test_mutations();
    test_auth_hash();
    test_auth_file();
    test_auth_credentials();
    test_auth_roles();
    test_auth_tokens();
    test_auth_loopback();
    test_auth_live();
    PP_TEST_DONE();
}
