/* test_http.c: the pure parts of the ingestion server: routes, content types, base64, the
 * three API shapes' body parsing and responses, error envelopes. No network. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
    test_host_allowed();
    test_routes();
    test_ctypes();
    test_b64();
    test_fastapi();
    test_proxy();
    test_kinesis();
    test_envelopes();
    test_mutations();
    PP_TEST_DONE();
}
