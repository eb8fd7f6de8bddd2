/* fuzz_s3xml.c: libFuzzer harness for the S3 answers the lake parses (src/lake/s3_util.c):
 * ListObjectsV2 and ListMultipartUploads (pp_lake_s3_parse_list), and the single tags read
 * from error bodies (<Error><Code>, <Message>), InitiateMultipartUpload (<UploadId>) and
 * CompleteMultipartUpload (<ETag>, or an <Error> after a 200); plus the line splitter that
 * streamed object bodies go through. The input is the whole answer body. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lake_s3.h"
#include "pp_buf.h"
#include "pp_err.h"
#include "pp_json.h"

struct list_seen {
    int n;
    int uploads; /* callbacks with an upload id */
    int utf8;    /* is the input valid UTF-8 (then decoded text must be too) */
};

static int on_entry(void *arg, const char *key, const char *upload_id)
{
    struct list_seen *seen = arg;
    seen->n++;
    seen->uploads += upload_id != NULL;
    FUZZ_CHECK(strlen(key) < 1100);
    if (seen->utf8) {
        FUZZ_CHECK(pp_utf8_valid(key, strlen(key)));
        if (upload_id)
            FUZZ_CHECK(pp_utf8_valid(upload_id, strlen(upload_id)));
    }
    return 0;
}

static void check_list(const char *xml, size_t len, int utf8)
{
    struct list_seen seen = {0, 0, utf8};
    char token[2048];
    int truncated = -1;
    int n = pp_lake_s3_parse_list(xml, len, on_entry, &seen, &truncated, token, sizeof(token));
    FUZZ_CHECK(n >= 0 || n == PP_EPARSE || n == PP_ETOOBIG);
    if (n < 0)
        return;
    FUZZ_CHECK(n == seen.n && (seen.uploads == 0 || seen.uploads == n));
    FUZZ_CHECK(truncated == 0 || truncated == 1);
    FUZZ_CHECK(strlen(token) < sizeof(token));
    if (utf8)
        FUZZ_CHECK(pp_utf8_valid(token, strlen(token)));
}

static void check_tags(const char *xml, size_t len, int utf8)
{
    static const char *const tags[] = {
        "Code", "Message", "UploadId", "ETag", "Key", "IsTruncated", "NextContinuationToken"};
    static const size_t sizes[] = {1, 16, 128, 512};
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            char out[512];
            memset(out, 'Z', sizeof(out));
            int rc = pp_lake_s3_xml_tag(xml, len, tags[i], out, sizes[s]);
            FUZZ_CHECK(rc == 0 || rc == PP_ENOENT || rc == PP_ETOOBIG);
            if (rc)
                continue;
            size_t n = strlen(out);
            FUZZ_CHECK(n < sizes[s]);
            if (utf8)
                FUZZ_CHECK(pp_utf8_valid(out, n));
        }
    }
}

/* Lines of the body delivered once each, in order, whatever the chunking and a retry in the
 * middle (a retried GET re-reads the body from its start). */
struct lines_seen {
    const char *body;
    size_t len, pos; /* next expected line starts at body[pos] (an independent splitter) */
    long n;
};

static int on_line(void *arg, const char *value, size_t vlen)
{
    struct lines_seen *ls = arg;
    /* the next non-empty line of the body, without its CR/LF */
    for (;;) {
        FUZZ_CHECK(ls->pos < ls->len);
        const char *p = ls->body + ls->pos, *nl = memchr(p, '\n', ls->len - ls->pos);
        size_t n = (size_t)((nl ? nl : ls->body + ls->len) - p);
        ls->pos += n + (nl != NULL);
        if (n && p[n - 1] == '\r')
            n--;
        if (!n)
            continue;
        FUZZ_CHECK(n == vlen && !memcmp(p, value, n));
        break;
    }
    ls->n++;
    return 0;
}

static void check_lines(const char *body, size_t len)
{
    struct pp_lake_s3_lines l;
    struct lines_seen ls = {body, len, 0, 0};
    memset(&l, 0, sizeof(l));
    l.cb = on_line;
    l.arg = &ls;
    pp_buf_init(&l.line, 1 << 20);
    size_t chunk = len ? (unsigned char)body[0] % 7 + 1 : 1, cut = len / 2;
    /* first attempt: stops after half the body (a dropped connection), then a retry reads it
     * all from the start */
    for (size_t off = 0; off < cut; off += chunk) {
        size_t n = off + chunk > cut ? cut - off : chunk;
        FUZZ_CHECK(pp_lake_s3_lines_sink(body + off, n, &l) == n);
    }
    pp_lake_s3_lines_retry(&l);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = off + chunk > len ? len - off : chunk;
        FUZZ_CHECK(pp_lake_s3_lines_sink(body + off, n, &l) == n);
    }
    FUZZ_CHECK(pp_lake_s3_lines_end(&l) == 0);
    FUZZ_CHECK(l.count == ls.n);
    /* every non-empty line was delivered: only empty ones may remain */
    for (size_t i = ls.pos; i < len; i++)
        FUZZ_CHECK(body[i] == '\n' || body[i] == '\r');
    pp_buf_free(&l.line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* data is exactly size bytes, not NUL-terminated: the parsers take a length */
    const char *xml = (const char *)data;
    int utf8 = pp_utf8_valid(xml, size);
    check_list(xml, size, utf8);
    check_tags(xml, size, utf8);
    check_lines(xml, size);
    return 0;
}
