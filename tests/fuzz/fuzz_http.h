/* fuzz_http.h: what the three ingest API harnesses (fuzz_fastapi.c, fuzz_proxy.c,
 * fuzz_kinesis.c) share: the input layout, a stand-in for the log append, and the checks on
 * answers and dead letters (valid UTF-8 and valid JSON, as clients and `pinpipe quality` read
 * them).
 *
 * Input: <header bytes, one per parameter of the API shape> [/<path>\n] <body>. A path line
 * (the request's URL path, as written into dead letters) is present only when the body part
 * starts with '/', which no JSON body does; without it the harness uses a usual path. */
#ifndef PP_FUZZ_HTTP_H
#define PP_FUZZ_HTTP_H

#include <string.h>

#include "fuzz.h"
#include "pp_clean.h"
#include "pp_err.h"
#include "pp_http.h"
#include "pp_json.h"

#define FUZZ_PATH_MAX 2048
#define FUZZ_TS_MS INT64_C(1764000000123) /* a dead letter's time: fixed, inputs reproduce */

struct fuzz_req {
    char path[FUZZ_PATH_MAX + 1];
    const char *body;
    size_t len;
};

/* What one request's parse works on, as server.c keeps it per connection. */
struct fuzz_parse {
    struct pp_http_batch batch;
    struct pp_http_resp resp;
    struct pp_json doc;
};

static inline void fuzz_parse_init(struct fuzz_parse *fp, enum pp_kind kind, const char *body)
{
    pp_http_batch_init(&fp->batch);
    pp_http_resp_init(&fp->resp, 0);
    pp_json_init(&fp->doc);
    pp_http_batch_reset(&fp->batch, kind, body);
    fp->batch.max_items = 10000; /* serve's default --max-records, as server.c sets it */
}

static inline void fuzz_parse_free(struct fuzz_parse *fp)
{
    pp_json_free(&fp->doc);
    pp_http_resp_free(&fp->resp);
    pp_http_batch_free(&fp->batch);
}

/* Split the input after the header bytes into path and body. @returns 0, or -1 when the input
 * is not a request the server would parse (too short; a body that is not UTF-8: server.c
 * answers those itself before any parser runs). */
static inline int fuzz_req_split(const uint8_t *data, size_t size, size_t header,
                                 const char *default_path, struct fuzz_req *req)
{
    if (size < header)
        return -1;
    const char *p = (const char *)data + header, *e = (const char *)data + size;
    snprintf(req->path, sizeof(req->path), "%s", default_path);
    if (p < e && *p == '/') {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        size_t n = (size_t)((nl ? nl : e) - p);
        if (n > FUZZ_PATH_MAX || memchr(p, '\0', n))
            return -1;
        memcpy(req->path, p, n);
        req->path[n] = '\0';
        p = nl ? nl + 1 : e;
    }
    req->body = p;
    req->len = (size_t)(e - p);
    if (!pp_utf8_valid(req->body, req->len))
        return -1;
    return 0;
}

/* text is valid UTF-8 and one JSON value; @returns the parse in doc (caller frees). */
static inline void fuzz_check_json(const char *what, const char *text, size_t len,
                                   struct pp_json *doc)
{
    char err[128] = "";
    int utf8 = pp_utf8_valid(text, len);
    int rc = pp_json_parse(doc, text, len, 0, err, sizeof(err));
    if (!utf8 || rc) {
        fprintf(stderr, "%s is not %s: %s\n%.*s\n", what, utf8 ? "valid JSON" : "UTF-8", err,
                (int)(len > 4096 ? 4096 : len), text);
        abort();
    }
    FUZZ_CHECK(fuzz_json_well_nested(doc)); /* what pinpipe accepts or writes is JSON (fuzz.h) */
}

/* A response body (after a parser or a *_respond): status set, body valid JSON. */
static inline void fuzz_check_resp(const struct pp_http_resp *resp)
{
    struct pp_json doc;
    pp_json_init(&doc);
    FUZZ_CHECK(resp->status >= 200 && resp->status <= 599 && resp->ctype != NULL);
    fuzz_check_json("response body", resp->body.data ? resp->body.data : "", resp->body.len, &doc);
    FUZZ_CHECK(doc.tok[0].type == PP_JSON_OBJECT);
    pp_json_free(&doc);
}

/* The dead letter written for a refusal (status, err) must be valid UTF-8 and JSON whose
 * "status" is the refusal's, whatever the path holds (server.c does not check URLs). */
static inline void fuzz_check_dead_letter(enum pp_http_api api, const char *path, enum pp_kind kind,
                                          int status, const char *err, size_t errlen, int records)
{
    struct pp_buf out;
    struct pp_json doc;
    pp_buf_init(&out, 0);
    pp_json_init(&doc);
    FUZZ_CHECK(pp_http_reject_encode(&out, FUZZ_TS_MS, api, path, kind, status, err, errlen,
                                     records) == 0);
    fuzz_check_json("dead letter", out.data, out.len, &doc);
    int t = pp_json_get(&doc, 0, "status");
    int64_t st = 0;
    FUZZ_CHECK(t >= 0 && pp_json_int(&doc, t, &st) == 0 && st == status);
    FUZZ_CHECK(pp_json_get(&doc, 0, "error") >= 0 && pp_json_get(&doc, 0, "path") >= 0);
    t = pp_json_get(&doc, 0, "records");
    FUZZ_CHECK(t >= 0 && pp_json_int(&doc, t, &st) == 0 && st == (records > 0 ? records : 1));
    pp_json_free(&doc);
    pp_buf_free(&out);
}

/* A request refused as a whole: an error status, a JSON body, and its dead letter (4xx). */
static inline void fuzz_check_refusal(const struct pp_http_batch *batch, enum pp_http_api api,
                                      const char *path, int status, const struct pp_http_resp *resp)
{
    (void)batch;
    FUZZ_CHECK(status >= 400 && status <= 599 && resp->status == status);
    fuzz_check_resp(resp);
    if (status < 500) /* as server.c's note_refused() */
        fuzz_check_dead_letter(api, path, batch->kind, status, resp->body.data, resp->body.len,
                               batch->n > 0 ? batch->n : 1);
}

/* Every accepted record is what the log would store: UTF-8 JSON that validates with the id
 * the batch holds; every refused one has a message, and the request's one dead letter for
 * them is built as server.c's note_invalid() builds it. */
static inline void fuzz_check_items(const struct pp_http_batch *batch, enum pp_http_api api,
                                    const char *path)
{
    struct pp_json doc;
    struct pp_verr verr;
    struct pp_buf err;
    int shown = 0, invalid = 0;
    pp_json_init(&doc);
    pp_buf_init(&err, 1024);
    for (int i = 0; i < batch->n; i++) {
        const struct pp_http_item *item = &batch->items[i];
        size_t len;
        if (item->status == PP_HTTP_REC_OK) {
            const char *v = pp_http_item_value(batch, i, &len);
            int64_t id = 0;
            fuzz_check_json("accepted record", v, len, &doc);
            FUZZ_CHECK(pp_record_validate(batch->kind, &doc, 0, &id, &verr) == 0);
            FUZZ_CHECK(id == item->id);
            continue;
        }
        FUZZ_CHECK(item->status == PP_HTTP_REC_INVALID);
        const char *m = pp_http_item_msg(batch, i, &len);
        FUZZ_CHECK(len > 0);
        if (shown < PP_HTTP_FULL_ERRORS &&
            !pp_buf_printf(&err, "%srecords[%d]: %.*s", shown ? "; " : "", i, (int)len, m))
            shown++;
        invalid++;
    }
    if (invalid) {
        if (invalid > shown)
            pp_buf_printf(&err, "; and %d more invalid records", invalid - shown);
        fuzz_check_dead_letter(api, path, batch->kind, 422, err.data ? err.data : "", err.len,
                               invalid);
    }
    pp_buf_free(&err);
    pp_json_free(&doc);
}

/* Stand-in for server.c's append_batch: accepted records get a partition and an offset; with
 * fail != 0 some are marked failed as item_failed() does (1: every 2nd log full, retriable;
 * 2: every 3rd an I/O error; 3: all log full), so the answers' per-record errors are built. */
static inline void fuzz_fake_append(struct pp_http_batch *batch, int nparts, int fail)
{
    int k = 0;
    for (int i = 0; i < batch->n; i++) {
        struct pp_http_item *item = &batch->items[i];
        if (item->status != PP_HTTP_REC_OK)
            continue;
        k++;
        if ((fail == 1 && k % 2 == 0) || (fail == 2 && k % 3 == 0) || fail == 3) {
            item->status = fail == 2 ? PP_HTTP_REC_FAILED : PP_HTTP_REC_RETRY;
            item->moff = batch->msgs.len;
            pp_buf_puts(&batch->msgs, fail == 2 ? pp_err_str(PP_EIO) : "log full, retry later");
            item->mlen = batch->msgs.len - item->moff;
            continue;
        }
        item->ent = k - 1;
        item->partition_out =
            item->partition >= 0 ? item->partition : (int)((uint64_t)item->id % (uint64_t)nparts);
        item->offset = (int64_t)i * 1000003;
    }
}

#endif
