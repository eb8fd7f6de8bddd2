/* fuzz_kinesis.c: libFuzzer harness for the Kinesis (API Gateway proxy) body parser (PUT
 * /streams/{s}/record and /records): pp_http_kinesis_parse, pp_http_kinesis_respond,
 * refusals, and the dead letters of refused requests and records.
 * Input (fuzz_http.h): 2 header bytes: kind = b0 % 3; PutRecords (many) = b1 % 2, append
 * outcome = b1 / 2 % 4 (fuzz_fake_append); [/path\n]; the body. */
#include "fuzz_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {"/streams/streaming-0a1b2c-pin/record",
                                        "/streams/streaming-0a1b2c-geo/record",
                                        "/streams/streaming-0a1b2c-user/record"};
    struct fuzz_req req;
    if (size < 2)
        return 0;
    enum pp_kind kind = (enum pp_kind)(data[0] % 3);
    int many = data[1] % 2, fail = data[1] / 2 % 4;
    if (fuzz_req_split(data, size, 2, paths[kind], &req))
        return 0;
    struct fuzz_parse fp;
    fuzz_parse_init(&fp, kind, req.body);
    struct pp_http_batch *batch = &fp.batch;
    struct pp_http_resp *resp = &fp.resp;
    int status = pp_http_kinesis_parse(batch, &fp.doc, req.body, req.len, 0, many, resp);
    if (status) {
        fuzz_check_refusal(batch, PP_HTTP_API_KINESIS, req.path, status, resp);
    } else {
        FUZZ_CHECK(many ? batch->n >= 1 : batch->n == 1);
        fuzz_check_items(batch, PP_HTTP_API_KINESIS, req.path);
        /* PutRecord answers 200 for its one stored record only: a failed append is a 5xx */
        fuzz_fake_append(batch, 4, many ? fail : 0);
        FUZZ_CHECK(pp_http_kinesis_respond(batch, many, resp) == 0);
        fuzz_check_resp(resp);
        if (many) { /* one result per record, FailedRecordCount counts the others */
            struct pp_json ans;
            int64_t failed = -1, want = 0;
            pp_json_init(&ans);
            FUZZ_CHECK(pp_json_parse(&ans, resp->body.data, resp->body.len, 0, NULL, 0) == 0);
            int recs = pp_json_get(&ans, 0, "Records"),
                cnt = pp_json_get(&ans, 0, "FailedRecordCount");
            FUZZ_CHECK(recs >= 0 && ans.tok[recs].size == batch->n);
            for (int i = 0; i < batch->n; i++)
                want += batch->items[i].status != PP_HTTP_REC_OK;
            FUZZ_CHECK(cnt >= 0 && pp_json_int(&ans, cnt, &failed) == 0 && failed == want);
            pp_json_free(&ans);
        }
    }
    fuzz_parse_free(&fp);
    return 0;
}
