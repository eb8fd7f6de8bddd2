/* batch.c: the records of one ingestion request, validated against the data model, and the
 * response/error envelopes the three API shapes share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp_err.h"
#include "pp_http.h"

#define BATCH_MAX_ITEMS (1 << 22)

void pp_http_batch_init(struct pp_http_batch *batch)
{
    memset(batch, 0, sizeof(*batch));
    batch->kind = PP_KIND_NONE;
    pp_buf_init(&batch->scratch, 0);
    pp_buf_init(&batch->msgs, 0);
    pp_json_init(&batch->sub);
}

void pp_http_batch_reset(struct pp_http_batch *batch, enum pp_kind kind, const char *body)
{
    batch->kind = kind;
    batch->body = body;
    batch->n = 0;
    batch->nmsgs = 0;
    pp_buf_reset(&batch->scratch);
    pp_buf_reset(&batch->msgs);
    memset(&batch->verr, 0, sizeof(batch->verr));
}

void pp_http_batch_free(struct pp_http_batch *batch)
{
    if (!batch)
        return;
    free(batch->items);
    pp_buf_free(&batch->scratch);
    pp_buf_free(&batch->msgs);
    pp_json_free(&batch->sub);
    memset(batch, 0, sizeof(*batch));
    batch->kind = PP_KIND_NONE;
}

const char *pp_http_item_value(const struct pp_http_batch *batch, int i, size_t *len)
{
    const struct pp_http_item *item = &batch->items[i];
    *len = item->vlen;
    return (item->in_scratch ? batch->scratch.data : batch->body) + item->voff;
}

const char *pp_http_item_key(const struct pp_http_batch *batch, int i, size_t *len)
{
    const struct pp_http_item *item = &batch->items[i];
    if (!item->has_key)
        return NULL;
    *len = item->klen;
    return (item->key_in_scratch ? batch->scratch.data : batch->body) + item->koff;
}

const char *pp_http_item_msg(const struct pp_http_batch *batch, int i, size_t *len)
{
    const struct pp_http_item *item = &batch->items[i];
    *len = item->mlen;
    return item->mlen ? batch->msgs.data + item->moff : "";
}

static struct pp_http_item *item_new(struct pp_http_batch *batch, int partition)
{
    if (batch->max_items > 0 && batch->n >= batch->max_items)
        return NULL;
    if (batch->n == batch->cap) {
        if (batch->cap >= BATCH_MAX_ITEMS)
            return NULL;
        int cap = batch->cap ? batch->cap * 2 : 8;
        void *p = realloc(batch->items, sizeof(*batch->items) * (size_t)cap);
        if (!p)
            return NULL;
        batch->items = p;
        batch->cap = cap;
    }
    struct pp_http_item *item = &batch->items[batch->n++];
    memset(item, 0, sizeof(*item));
    item->partition = partition;
    item->partition_out = -1;
    item->offset = -1;
    return item;
}

int pp_http_item_fail(struct pp_http_batch *batch, struct pp_http_item *item, int status,
                      const char *msg)
{
    item->status = status;
    item->moff = batch->msgs.len;
    if (status == PP_HTTP_REC_INVALID && batch->nmsgs++ >= PP_HTTP_FULL_ERRORS)
        msg = "invalid record"; /* the first ones carry the reasons */
    int rc = pp_buf_puts(&batch->msgs, msg);
    item->mlen = rc ? 0 : batch->msgs.len - item->moff;
    return rc == PP_ENOMEM ? rc : 0;
}

/* "field: message (type)" for a validation failure. */
static int item_verr(struct pp_http_batch *batch, struct pp_http_item *item)
{
    const struct pp_verr *v = &batch->verr;
    char msg[320];
    if (v->field[0])
        snprintf(msg, sizeof(msg), "%s: %s (%s)", v->field, v->msg, v->type);
    else
        snprintf(msg, sizeof(msg), "%s (%s)", v->msg, v->type);
    return pp_http_item_fail(batch, item, PP_HTTP_REC_INVALID, msg);
}

int pp_http_batch_add_json(struct pp_http_batch *batch, const struct pp_json *doc, int t,
                           int partition)
{
    struct pp_http_item *item = item_new(batch, partition);
    if (!item)
        return PP_ENOMEM;
    size_t len;
    const char *raw = pp_json_raw(doc, t, &len);
    if (doc->tok[t].type == PP_JSON_STRING) /* raw excludes the quotes; never stored */
        len = 0;
    item->voff = (size_t)(raw - batch->body);
    item->vlen = len;
    if (pp_record_validate(batch->kind, doc, t, &item->id, &batch->verr))
        return item_verr(batch, item);
    return 0;
}

int pp_http_batch_add_b64(struct pp_http_batch *batch, const struct pp_json *doc, int t,
                          int partition)
{
    struct pp_http_item *item = item_new(batch, partition);
    if (!item)
        return PP_ENOMEM;
    if (doc->tok[t].type != PP_JSON_STRING) {
        char msg[96];
        snprintf(msg, sizeof(msg), "value must be a base64 string, got %s",
                 pp_json_type_name(doc->tok[t].type));
        return pp_http_item_fail(batch, item, PP_HTTP_REC_INVALID, msg);
    }
    size_t n;
    const char *s = pp_json_raw(doc, t, &n);
    size_t start = batch->scratch.len;
    int rc = pp_http_b64_decode(s, n, &batch->scratch);
    if (rc == PP_ENOMEM)
        return rc;
    if (rc) {
        pp_buf_truncate(&batch->scratch, start);
        return pp_http_item_fail(batch, item, PP_HTTP_REC_INVALID,
                        rc == PP_EPARSE ? "value is not valid base64" : "value too large");
    }
    const char *dec = batch->scratch.data + start;
    size_t dlen = batch->scratch.len - start;
    if (!pp_utf8_valid(dec, dlen)) {
        pp_buf_truncate(&batch->scratch, start);
        return pp_http_item_fail(batch, item, PP_HTTP_REC_INVALID, "decoded value is not valid UTF-8");
    }
    char err[128], msg[192];
    rc = pp_json_parse(&batch->sub, dec, dlen, 0, err, sizeof(err));
    if (rc == PP_ENOMEM)
        return rc;
    if (rc) {
        pp_buf_truncate(&batch->scratch, start);
        snprintf(msg, sizeof(msg), "decoded value is not valid JSON: %s", err);
        return pp_http_item_fail(batch, item, PP_HTTP_REC_INVALID, msg);
    }
    /* Store the value without surrounding whitespace. */
    size_t raw_len;
    const char *raw = pp_json_raw(&batch->sub, 0, &raw_len);
    item->in_scratch = 1;
    item->voff = start + (size_t)(raw - dec);
    item->vlen = raw_len;
    if (pp_record_validate(batch->kind, &batch->sub, 0, &item->id, &batch->verr))
        return item_verr(batch, item);
    return 0;
}

int pp_http_batch_add_error(struct pp_http_batch *batch, int status, const char *msg)
{
    struct pp_http_item *item = item_new(batch, -1);
    if (!item)
        return PP_ENOMEM;
    return pp_http_item_fail(batch, item, status, msg);
}

/* ---- responses ---- */

void pp_http_resp_init(struct pp_http_resp *resp, size_t max)
{
    memset(resp, 0, sizeof(*resp));
    pp_buf_init(&resp->body, max);
}

void pp_http_resp_reset(struct pp_http_resp *resp)
{
    resp->status = 0;
    resp->ctype = NULL;
    resp->allow = NULL;
    resp->retry_after = 0;
    resp->www_auth = NULL;
    pp_buf_reset(&resp->body);
}

void pp_http_resp_free(struct pp_http_resp *resp)
{
    if (resp)
        pp_buf_free(&resp->body);
}

static const char *kinesis_type(int status)
{
    switch (status) {
    case 400:
        return "ValidationException";
    case 404:
        return "ResourceNotFoundException";
    case 405:
        return "MethodNotAllowedException";
    case 411:
        return "LengthRequiredException";
    case 413:
        return "RequestEntityTooLargeException";
    case 415:
        return "UnsupportedMediaTypeException";
    case 503:
        return "ServiceUnavailableException";
    default:
        return status >= 500 ? "InternalFailure" : "ValidationException";
    }
}

void pp_http_error(struct pp_http_resp *resp, enum pp_http_api api, int status, int code,
                   const char *type, const char *msg)
{
    pp_http_resp_reset(resp);
    resp->status = status;
    resp->retry_after = status == 503 ? 1 : 0;
    struct pp_buf *b = &resp->body;
    switch (api) {
    case PP_HTTP_API_PROXY:
        resp->ctype = "application/vnd.kafka.v2+json";
        pp_buf_printf(b, "{\"error_code\":%d,\"message\":", code ? code : status);
        break;
    case PP_HTTP_API_KINESIS:
        resp->ctype = "application/json"; /* as API Gateway answers */
        pp_buf_puts(b, "{\"__type\":");
        pp_json_put_str(b, type ? type : kinesis_type(status),
                        strlen(type ? type : kinesis_type(status)));
        pp_buf_puts(b, ",\"message\":");
        break;
    default:
        resp->ctype = "application/json";
        pp_buf_puts(b, "{\"detail\":");
        break;
    }
    pp_json_put_str(b, msg, strlen(msg));
    pp_buf_putc(b, '}');
}

int pp_http_resp_whole(struct pp_http_resp *resp, enum pp_http_api api)
{
    int err = resp->data ? 0 : pp_buf_error(&resp->body);
    if (!err)
        return 0;
    pp_http_error(resp, api, 503, 0, NULL,
                  err == PP_ENOMEM ? "the answer could not be built (out of memory); the "
                                     "request may be stored: retry (resends are deduplicated)"
                                   : "the answer could not be built (too large); the request "
                                     "may be stored: retry (resends are deduplicated)");
    return 1;
}

int pp_http_item_error(const struct pp_http_batch *batch, int i, enum pp_http_api api,
                       struct pp_http_resp *resp)
{
    int st = batch->items[i].status;
    int status = st == PP_HTTP_REC_INVALID ? 413 : 503; /* a failing log is retriable too */
    size_t mlen;
    const char *m = pp_http_item_msg(batch, i, &mlen);
    char msg[200];
    snprintf(msg, sizeof(msg), "record not acknowledged (%.*s)%s", (int)(mlen < 120 ? mlen : 120),
             m, status == 503 ? ": it may be stored, retry (resends are deduplicated)" : "");
    pp_http_error(resp, api, status, 0, NULL, msg);
    return resp->body.len ? 0 : PP_ENOMEM;
}

void pp_http_fastapi_error(struct pp_http_resp *resp, int status, const struct pp_verr *verr)
{
    pp_http_resp_reset(resp);
    resp->status = status;
    resp->ctype = "application/json";
    struct pp_buf *b = &resp->body;
    pp_buf_puts(b, "{\"detail\":[{\"loc\":[\"body\"");
    if (verr->field[0]) {
        pp_buf_putc(b, ',');
        pp_json_put_str(b, verr->field, strlen(verr->field));
    }
    pp_buf_puts(b, "],\"msg\":");
    pp_json_put_str(b, verr->msg, strlen(verr->msg));
    pp_buf_puts(b, ",\"type\":");
    pp_json_put_str(b, verr->type, strlen(verr->type));
    pp_buf_puts(b, "}]}");
}
