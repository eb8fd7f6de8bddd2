/* kinesis.c: the Kinesis-through-API-Gateway shape: PUT /streams/{s}/record and /records,
 * GET /streams, GET /streams/{s}. Bodies after the Kinesis Data Streams API reference
 * (PutRecord, PutRecords, ListStreams, DescribeStream); errors as AWS JSON {"__type","message"}. */
#include <stdio.h>
#include <string.h>

#include "pp_err.h"
#include "pp_http.h"

#define KINESIS_CTYPE "application/json"

static int fail(struct pp_http_resp *resp, int status, const char *type, const char *msg)
{
    pp_http_error(resp, PP_HTTP_API_KINESIS, status, 0, type, msg);
    return status;
}

/* Value of key in obj, trying the API Gateway spelling then the native one. */
static int get2(const struct pp_json *doc, int obj, const char *a, const char *b)
{
    int t = pp_json_get(doc, obj, a);
    return t >= 0 ? t : pp_json_get(doc, obj, b);
}

/* Add one record's Data: an embedded object, or a base64 string of the JSON record. */
static int add_data(struct pp_http_batch *batch, const struct pp_json *doc, int data)
{
    if (doc->tok[data].type == PP_JSON_STRING)
        return pp_http_batch_add_b64(batch, doc, data, -1);
    if (doc->tok[data].type == PP_JSON_OBJECT)
        return pp_http_batch_add_json(batch, doc, data, -1);
    char msg[96];
    snprintf(msg, sizeof(msg), "Data must be a record object or a base64 string, got %s",
             pp_json_type_name(doc->tok[data].type));
    return pp_http_batch_add_error(batch, PP_HTTP_REC_INVALID, msg);
}

static int parse_one(struct pp_http_batch *batch, const struct pp_json *doc,
                     struct pp_http_resp *resp)
{
    if (doc->tok[0].type != PP_JSON_OBJECT)
        return fail(resp, 400, "ValidationException", "body must be a JSON object");
    int data = get2(doc, 0, "Data", "data");
    if (data < 0 || doc->tok[data].type == PP_JSON_NULL)
        return fail(resp, 400, "ValidationException", "Data is required");
    int rc = add_data(batch, doc, data);
    if (rc)
        return fail(resp, 500, "InternalFailure", pp_err_str(rc));
    if (batch->items[0].status != PP_HTTP_REC_OK) {
        size_t mlen;
        const char *m = pp_http_item_msg(batch, 0, &mlen);
        char msg[400];
        snprintf(msg, sizeof(msg), "invalid record in Data: %.*s", (int)mlen, m);
        return fail(resp, 400, "InvalidArgumentException", msg);
    }
    return 0;
}

static int parse_many(struct pp_http_batch *batch, const struct pp_json *doc,
                      struct pp_http_resp *resp)
{
    int recs = get2(doc, 0, "records", "Records");
    if (recs < 0 || doc->tok[recs].type != PP_JSON_ARRAY)
        return fail(resp, 400, "ValidationException",
                    "body must be an object with a \"records\" (or \"Records\") array");
    if (doc->tok[recs].size == 0)
        return fail(resp, 400, "ValidationException", "records must have at least 1 member");
    char msg[160];
    if (doc->tok[recs].size > PP_HTTP_KINESIS_MAX_RECORDS) { /* AWS's words for it */
        snprintf(msg, sizeof(msg),
                 "1 validation error detected: Value at 'records' failed to satisfy constraint: "
                 "Member must have length less than or equal to %d",
                 PP_HTTP_KINESIS_MAX_RECORDS);
        return fail(resp, 400, "ValidationException", msg);
    }
    int t = recs + 1;
    for (int i = 0; i < doc->tok[recs].size; i++, t = pp_json_next(doc, t)) {
        int data = get2(doc, t, "data", "Data");
        if (doc->tok[t].type != PP_JSON_OBJECT || data < 0) {
            snprintf(msg, sizeof(msg), "records[%d] must be an object with \"data\"", i);
            return fail(resp, 400, "ValidationException", msg);
        }
    }
    t = recs + 1;
    for (int i = 0; i < doc->tok[recs].size; i++, t = pp_json_next(doc, t)) {
        int rc = add_data(batch, doc, get2(doc, t, "data", "Data"));
        if (rc)
            return fail(resp, 500, "InternalFailure", pp_err_str(rc));
    }
    return 0;
}

int pp_http_kinesis_parse(struct pp_http_batch *batch, struct pp_json *doc, const char *body,
                          size_t len, int max_tokens, int many, struct pp_http_resp *resp)
{
    char err[128], msg[192];
    int rc = pp_json_parse(doc, body, len, max_tokens, err, sizeof(err));
    if (rc == PP_ETOOBIG)
        return fail(resp, 413, NULL, "too many JSON tokens in body");
    if (rc) {
        snprintf(msg, sizeof(msg), "malformed JSON body: %s", err);
        return fail(resp, rc == PP_EPARSE ? 400 : 500,
                    rc == PP_EPARSE ? "SerializationException" : "InternalFailure", msg);
    }
    if (doc->tok[0].type != PP_JSON_OBJECT)
        return fail(resp, 400, "ValidationException", "body must be a JSON object");
    return many ? parse_many(batch, doc, resp) : parse_one(batch, doc, resp);
}

void pp_http_kinesis_seqno(int64_t offset, char *out, size_t size)
{
    snprintf(out, size, "%056lld", (long long)(offset < 0 ? 0 : offset));
}

static void put_result(struct pp_buf *b, const struct pp_http_item *item)
{
    char seq[64];
    pp_http_kinesis_seqno(item->offset, seq, sizeof(seq));
    pp_buf_printf(b, "{\"SequenceNumber\":\"%s\",\"ShardId\":\"shardId-%012d\"}", seq,
                  item->partition_out);
}

int pp_http_kinesis_respond(const struct pp_http_batch *batch, int many, struct pp_http_resp *resp)
{
    pp_http_resp_reset(resp);
    resp->status = 200;
    resp->ctype = KINESIS_CTYPE;
    struct pp_buf *b = &resp->body;
    if (!many) {
        put_result(b, &batch->items[0]);
        return b->len ? 0 : PP_ENOMEM;
    }
    int failed = 0;
    for (int i = 0; i < batch->n; i++)
        failed += batch->items[i].status != PP_HTTP_REC_OK;
    pp_buf_printf(b, "{\"FailedRecordCount\":%d,\"Records\":[", failed);
    for (int i = 0; i < batch->n; i++) {
        const struct pp_http_item *item = &batch->items[i];
        if (i)
            pp_buf_putc(b, ',');
        if (item->status == PP_HTTP_REC_OK) {
            put_result(b, item);
            continue;
        }
        static const char *const codes[] = {"", "InvalidArgumentException",
                                            "ProvisionedThroughputExceededException",
                                            "InternalFailure"};
        size_t mlen;
        const char *m = pp_http_item_msg(batch, i, &mlen);
        pp_buf_printf(b, "{\"ErrorCode\":\"%s\",\"ErrorMessage\":", codes[item->status & 3]);
        pp_json_put_str(b, m, mlen);
        pp_buf_putc(b, '}');
    }
    return pp_buf_puts(b, "]}");
}

int pp_http_kinesis_streams(const char *const *names, int n, struct pp_http_resp *resp)
{
    pp_http_resp_reset(resp);
    resp->status = 200;
    resp->ctype = KINESIS_CTYPE;
    struct pp_buf *b = &resp->body;
    pp_buf_puts(b, "{\"StreamNames\":[");
    for (int i = 0; i < n; i++) {
        if (i)
            pp_buf_putc(b, ',');
        pp_json_put_str(b, names[i], strlen(names[i]));
    }
    return pp_buf_puts(b, "],\"HasMoreStreams\":false}");
}

/* Decimal text of a 128-bit unsigned (hash key ranges span 0 .. 2^128-1). */
static void u128_text(unsigned __int128 v, char *out, size_t size)
{
    char tmp[48];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v && n < (int)sizeof(tmp));
    int i = 0;
    for (; i < n && (size_t)i + 1 < size; i++)
        out[i] = tmp[n - 1 - i];
    out[i] = '\0';
}

int pp_http_kinesis_stream(const char *name, size_t name_len, int nparts, struct pp_http_resp *resp)
{
    pp_http_resp_reset(resp);
    resp->status = 200;
    resp->ctype = KINESIS_CTYPE;
    struct pp_buf *b = &resp->body;
    pp_buf_puts(b, "{\"StreamDescription\":{\"StreamName\":");
    pp_json_put_str(b, name, name_len);
    pp_buf_puts(b, ",\"StreamARN\":\"arn:aws:kinesis:local:000000000000:stream/");
    /* The ARN is inside a JSON string: reuse the escaping writer without its quotes. */
    size_t at = b->len;
    pp_json_put_str(b, name, name_len);
    memmove(b->data + at, b->data + at + 1, b->len - at - 2);
    b->len -= 2;
    pp_buf_puts(b, "\",\"StreamStatus\":\"ACTIVE\",\"StreamModeDetails\":{\"StreamMode\":"
                   "\"PROVISIONED\"},\"Shards\":[");
    unsigned __int128 span = nparts > 0 ? (~(unsigned __int128)0) / (unsigned)nparts : 0;
    for (int p = 0; p < nparts; p++) {
        char lo[48], hi[48], seq[64];
        u128_text(span * (unsigned)p, lo, sizeof(lo));
        u128_text(p == nparts - 1 ? ~(unsigned __int128)0 : span * (unsigned)(p + 1) - 1, hi,
                  sizeof(hi));
        pp_http_kinesis_seqno(0, seq, sizeof(seq));
        pp_buf_printf(b,
                      "%s{\"ShardId\":\"shardId-%012d\",\"HashKeyRange\":{\"StartingHashKey\":"
                      "\"%s\",\"EndingHashKey\":\"%s\"},\"SequenceNumberRange\":{"
                      "\"StartingSequenceNumber\":\"%s\"}}",
                      p ? "," : "", p, lo, hi, seq);
    }
    return pp_buf_puts(b, "],\"HasMoreShards\":false,\"RetentionPeriodHours\":24,"
                          "\"EncryptionType\":\"NONE\"}}");
}
