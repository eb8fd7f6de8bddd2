/* fastapi.c: the FastAPI-style shape: POST /pin/ /geo/ /user/ with one record as the body. */
#include <stdio.h>
#include <string.h>

#include "pp_err.h"
#include "pp_http.h"

/* The body could not be read as JSON. FastAPI answers 422 "value_error.jsondecode"; we answer
 * 400 with the same detail shape (issue: malformed JSON is a 400). */
static int json_error(struct pp_http_resp *resp, int rc, const char *err)
{
    if (rc == PP_ETOOBIG) {
        pp_http_error(resp, PP_HTTP_API_FASTAPI, 413, 0, NULL, "too many JSON tokens in body");
        return 413;
    }
    if (rc != PP_EPARSE) {
        pp_http_error(resp, PP_HTTP_API_FASTAPI, 500, 0, NULL, pp_err_str(rc));
        return 500;
    }
    struct pp_verr verr;
    memset(&verr, 0, sizeof(verr));
    snprintf(verr.msg, sizeof(verr.msg), "malformed JSON body: %s", err);
    snprintf(verr.type, sizeof(verr.type), "value_error.jsondecode");
    pp_http_fastapi_error(resp, 400, &verr);
    return 400;
}

int pp_http_fastapi_parse(struct pp_http_batch *batch, struct pp_json *doc, const char *body,
                          size_t len, int max_tokens, struct pp_http_resp *resp)
{
    char err[128];
    /* One flat record per body: pp_clean_parse is pp_json_parse's fast path for that shape.
     * Big bodies take the general parser, whose token count is capped. */
    int rc = len <= 65536 ? pp_clean_parse(doc, body, len, err, sizeof(err))
                          : pp_json_parse(doc, body, len, max_tokens, err, sizeof(err));
    if (rc)
        return json_error(resp, rc, err);
    if ((rc = pp_http_batch_add_json(batch, doc, 0, -1))) {
        pp_http_error(resp, PP_HTTP_API_FASTAPI, 500, 0, NULL, pp_err_str(rc));
        return 500;
    }
    if (batch->items[0].status != PP_HTTP_REC_OK) {
        pp_http_fastapi_error(resp, 422, &batch->verr);
        return 422;
    }
    return 0;
}

/* Append v as decimal text (the hot path's response: no printf). */
static int put_i64(struct pp_buf *b, int64_t v)
{
    char tmp[24];
    int n = 0, neg = v < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (neg)
        tmp[n++] = '-';
    char out[24];
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return pp_buf_append(b, out, (size_t)n);
}

int pp_http_fastapi_respond(const struct pp_http_batch *batch, struct pp_http_resp *resp)
{
    const struct pp_http_item *item = &batch->items[0];
    if (item->status != PP_HTTP_REC_OK)
        return pp_http_item_error(batch, 0, PP_HTTP_API_FASTAPI, resp);
    pp_http_resp_reset(resp);
    resp->status = 200;
    resp->ctype = "application/json";
    struct pp_buf *b = &resp->body;
    pp_buf_puts(b, "{\"status\":\"ok\",\"topic\":\"");
    pp_buf_puts(b, pp_kind_name(batch->kind));
    pp_buf_puts(b, "\",\"partition\":");
    put_i64(b, item->partition_out);
    pp_buf_puts(b, ",\"offset\":");
    put_i64(b, item->offset);
    return pp_buf_putc(b, '}');
}
