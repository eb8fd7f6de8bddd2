/* restproxy.c: the Confluent Kafka REST Proxy v2 shape: POST /topics/{topic} with
 * {"records":[{"key":..,"value":..,"partition":..}]}, GET /topics, GET /topics/{topic}.
 * Envelopes and codes after docs.confluent.io "REST Proxy API reference" (v2) and
 * kafka-rest's Errors (40401 topic not found, 40402 partition not found). */
#include <stdio.h>
#include <string.h>

#include "pp_err.h"
#include "pp_http.h"

#define PROXY_CTYPE "application/vnd.kafka.v2+json"

static int fail(struct pp_http_resp *resp, int status, int code, const char *msg)
{
    pp_http_error(resp, PP_HTTP_API_PROXY, status, code, NULL, msg);
    return status;
}

/* The record's "partition" (or the one from the URL): -1 = by key. @returns 0 or a status. */
static int record_partition(const struct pp_json *doc, int rec, int nparts, int route_partition,
                            int *partition, struct pp_http_resp *resp)
{
    *partition = route_partition;
    int t = pp_json_get(doc, rec, "partition");
    if (t >= 0 && doc->tok[t].type != PP_JSON_NULL) {
        int64_t p;
        if (pp_json_int(doc, t, &p))
            return fail(resp, 422, 422, "partition must be an integer");
        if (p < 0 || p >= nparts)
            return fail(resp, 404, 40402, "Partition not found.");
        if (route_partition >= 0 && p != route_partition)
            return fail(resp, 422, 422, "record partition differs from the URL's");
        *partition = (int)p;
    }
    if (*partition >= nparts)
        return fail(resp, 404, 40402, "Partition not found.");
    return 0;
}

/* Keep the record's "key" as Confluent's REST Proxy does (it becomes the Kafka key and picks
 * the partition): json.v2 stores the key's JSON text, binary.v2 its base64-decoded bytes. The
 * record id stays the deduplication key downstream (stream and batch read it from the value).
 * @returns 0 or PP_ENOMEM; a bad binary key makes the record invalid. */
static int record_key(struct pp_http_batch *batch, const struct pp_json *doc, int rec,
                      enum pp_http_ctype ct)
{
    struct pp_http_item *item = &batch->items[batch->n - 1];
    int k = pp_json_get(doc, rec, "key");
    if (k < 0 || doc->tok[k].type == PP_JSON_NULL || item->status != PP_HTTP_REC_OK)
        return 0;
    size_t n;
    const char *raw = pp_json_raw(doc, k, &n);
    if (ct != PP_CT_KAFKA_BINARY) {
        int str = doc->tok[k].type == PP_JSON_STRING; /* raw excludes a string's quotes */
        item->koff = (size_t)(raw - str - batch->body);
        item->klen = n + 2 * (size_t)str;
        item->has_key = 1;
        return 0;
    }
    size_t start = batch->scratch.len;
    int rc = doc->tok[k].type == PP_JSON_STRING ? pp_http_b64_decode(raw, n, &batch->scratch)
                                                : PP_EPARSE;
    if (rc == PP_ENOMEM)
        return rc;
    if (rc) {
        pp_buf_truncate(&batch->scratch, start);
        return pp_http_item_fail(batch, item, PP_HTTP_REC_INVALID, "key must be a base64 string");
    }
    item->koff = start;
    item->klen = batch->scratch.len - start;
    item->key_in_scratch = item->has_key = 1;
    return 0;
}

int pp_http_proxy_parse(struct pp_http_batch *batch, struct pp_json *doc, const char *body,
                        size_t len, int max_tokens, enum pp_http_ctype ct, int nparts,
                        int route_partition, struct pp_http_resp *resp)
{
    char err[128], msg[192];
    int rc = pp_json_parse(doc, body, len, max_tokens, err, sizeof(err));
    if (rc == PP_ETOOBIG)
        return fail(resp, 413, 413, "too many JSON tokens in body");
    if (rc) {
        snprintf(msg, sizeof(msg), "malformed JSON body: %s", err);
        return fail(resp, rc == PP_EPARSE ? 400 : 500, 0, msg);
    }
    int recs = pp_json_get(doc, 0, "records");
    if (recs < 0 || doc->tok[recs].type != PP_JSON_ARRAY)
        return fail(resp, 422, 422, "body must be an object with a \"records\" array");
    if (doc->tok[recs].size == 0)
        return fail(resp, 422, 422, "records may not be empty");
    if (batch->max_items > 0 && doc->tok[recs].size > batch->max_items) {
        snprintf(msg, sizeof(msg), "too many records: %d, at most %d per request",
                 doc->tok[recs].size, batch->max_items);
        return fail(resp, 413, 413, msg);
    }
    /* Check the shape of every record before storing any (nothing is half-stored). */
    int t = recs + 1;
    for (int i = 0; i < doc->tok[recs].size; i++, t = pp_json_next(doc, t)) {
        if (doc->tok[t].type != PP_JSON_OBJECT) {
            snprintf(msg, sizeof(msg), "records[%d] must be an object", i);
            return fail(resp, 422, 422, msg);
        }
        int p;
        if ((rc = record_partition(doc, t, nparts, route_partition, &p, resp)))
            return rc;
    }
    t = recs + 1;
    for (int i = 0; i < doc->tok[recs].size; i++, t = pp_json_next(doc, t)) {
        int p;
        record_partition(doc, t, nparts, route_partition, &p, resp);
        int v = pp_json_get(doc, t, "value");
        if (v < 0 || doc->tok[v].type == PP_JSON_NULL)
            rc = pp_http_batch_add_error(batch, PP_HTTP_REC_INVALID, "value is required");
        else if (ct == PP_CT_KAFKA_BINARY)
            rc = pp_http_batch_add_b64(batch, doc, v, p);
        else
            rc = pp_http_batch_add_json(batch, doc, v, p);
        if (!rc)
            rc = record_key(batch, doc, t, ct);
        if (rc)
            return fail(resp, 500, 50002, pp_err_str(rc));
    }
    return 0;
}

int pp_http_proxy_respond(const struct pp_http_batch *batch, struct pp_http_resp *resp)
{
    pp_http_resp_reset(resp);
    resp->status = 200;
    resp->ctype = PROXY_CTYPE;
    struct pp_buf *b = &resp->body;
    int rc = pp_buf_puts(b, "{\"key_schema_id\":null,\"value_schema_id\":null,\"offsets\":[");
    for (int i = 0; i < batch->n && !rc; i++) {
        const struct pp_http_item *item = &batch->items[i];
        if (i)
            pp_buf_putc(b, ',');
        if (item->status == PP_HTTP_REC_OK) {
            pp_buf_puts(b, "{\"partition\":");
            pp_buf_put_i64(b, item->partition_out);
            pp_buf_puts(b, ",\"offset\":");
            pp_buf_put_i64(b, item->offset);
            rc = pp_buf_putc(b, '}');
            continue;
        }
        /* error_code: 1 = non-retriable, 2 = retriable (REST Proxy v2 produce response): only
         * an invalid record is final; a log that failed it (full disk, I/O) may take it later. */
        size_t mlen;
        const char *m = pp_http_item_msg(batch, i, &mlen);
        pp_buf_printf(b, "{\"partition\":null,\"offset\":null,\"error_code\":%d,\"error\":",
                      item->status == PP_HTTP_REC_INVALID ? 1 : 2);
        pp_json_put_str(b, m, mlen);
        rc = pp_buf_putc(b, '}');
    }
    return rc ? rc : pp_buf_puts(b, "]}");
}

int pp_http_proxy_topics(const char *const *names, int n, struct pp_http_resp *resp)
{
    pp_http_resp_reset(resp);
    resp->status = 200;
    resp->ctype = PROXY_CTYPE;
    struct pp_buf *b = &resp->body;
    pp_buf_putc(b, '[');
    for (int i = 0; i < n; i++) {
        if (i)
            pp_buf_putc(b, ',');
        pp_json_put_str(b, names[i], strlen(names[i]));
    }
    return pp_buf_putc(b, ']');
}

int pp_http_proxy_topic(const char *name, size_t name_len, int nparts, struct pp_http_resp *resp)
{
    pp_http_resp_reset(resp);
    resp->status = 200;
    resp->ctype = PROXY_CTYPE;
    struct pp_buf *b = &resp->body;
    pp_buf_puts(b, "{\"name\":");
    pp_json_put_str(b, name, name_len);
    pp_buf_puts(b, ",\"configs\":{},\"partitions\":[");
    for (int p = 0; p < nparts; p++)
        pp_buf_printf(b,
                      "%s{\"partition\":%d,\"leader\":0,\"replicas\":[{\"broker\":0,"
                      "\"leader\":true,\"in_sync\":true}]}",
                      p ? "," : "", p);
    return pp_buf_puts(b, "]}");
}
