/* fuzz_fastapi.c: libFuzzer harness for the FastAPI-style body parser (POST /pin/ /geo/
 * /user/): pp_http_fastapi_parse, its 200 answer, its refusals and their dead letters.
 * Input (fuzz_http.h): 1 header byte, kind = byte % 3; [/path\n]; the body. */
#include "fuzz_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {"/pin/", "/geo/", "/user/"};
    struct fuzz_req req;
    if (size < 1)
        return 0;
    enum pp_kind kind = (enum pp_kind)(data[0] % 3);
    if (fuzz_req_split(data, size, 1, paths[kind], &req))
        return 0;
    struct fuzz_parse fp;
    fuzz_parse_init(&fp, kind, req.body);
    struct pp_http_batch *batch = &fp.batch;
    struct pp_http_resp *resp = &fp.resp;
    int status = pp_http_fastapi_parse(batch, &fp.doc, req.body, req.len, 0, resp);
    if (status) {
        fuzz_check_refusal(batch, PP_HTTP_API_FASTAPI, req.path, status, resp);
    } else {
        FUZZ_CHECK(batch->n == 1 && batch->items[0].status == PP_HTTP_REC_OK);
        fuzz_check_items(batch, PP_HTTP_API_FASTAPI, req.path);
        fuzz_fake_append(batch, 2, 0);
        FUZZ_CHECK(pp_http_fastapi_respond(batch, resp) == 0);
        fuzz_check_resp(resp);
    }
    fuzz_parse_free(&fp);
    return 0;
}
