/* fuzz_proxy.c: libFuzzer harness for the Kafka REST Proxy v2 body parser (POST
 * /topics/{topic}[/partitions/{p}]): pp_http_proxy_parse, pp_http_proxy_respond, refusals,
 * and the dead letters of refused requests and records.
 * Input (fuzz_http.h): 4 header bytes: kind = b0 % 3; content type = b1 % 3 (json,
 * vnd.kafka.json.v2, vnd.kafka.binary.v2: base64 values); URL partition = b2 % 4 - 1 (-1: none)
 * and partitions of the topic = 1 + b2 / 4 % 4; append outcome = b3 % 4 (fuzz_fake_append);
 * [/path\n]; the body. */
#include "fuzz_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {"/topics/0a1b2c.pin", "/topics/0a1b2c.geo",
                                        "/topics/0a1b2c.user"};
    static const enum pp_http_ctype cts[] = {PP_CT_JSON, PP_CT_KAFKA_JSON, PP_CT_KAFKA_BINARY};
    struct fuzz_req req;
    if (size < 4)
        return 0;
    enum pp_kind kind = (enum pp_kind)(data[0] % 3);
    enum pp_http_ctype ct = cts[data[1] % 3];
    int route_partition = data[2] % 4 - 1, nparts = 1 + data[2] / 4 % 4, fail = data[3] % 4;
    if (fuzz_req_split(data, size, 4, paths[kind], &req))
        return 0;
    struct fuzz_parse fp;
    fuzz_parse_init(&fp, kind, req.body);
    struct pp_http_batch *batch = &fp.batch;
    struct pp_http_resp *resp = &fp.resp;
    int status =
        pp_http_proxy_parse(batch, &fp.doc, req.body, req.len, 0, ct, nparts, route_partition, resp);
    if (status) {
        fuzz_check_refusal(batch, PP_HTTP_API_PROXY, req.path, status, resp);
    } else {
        FUZZ_CHECK(batch->n >= 1);
        for (int i = 0; i < batch->n; i++)
            FUZZ_CHECK(batch->items[i].partition >= -1 && batch->items[i].partition < nparts);
        fuzz_check_items(batch, PP_HTTP_API_PROXY, req.path);
        fuzz_fake_append(batch, nparts, fail);
        FUZZ_CHECK(pp_http_proxy_respond(batch, resp) == 0);
        fuzz_check_resp(resp);
        /* one entry in "offsets" per record of the request, in order */
        struct pp_json ans;
        pp_json_init(&ans);
        FUZZ_CHECK(pp_json_parse(&ans, resp->body.data, resp->body.len, 0, NULL, 0) == 0);
        int offs = pp_json_get(&ans, 0, "offsets");
        FUZZ_CHECK(offs >= 0 && ans.tok[offs].type == PP_JSON_ARRAY &&
                   ans.tok[offs].size == batch->n);
        pp_json_free(&ans);
    }
    fuzz_parse_free(&fp);
    return 0;
}
