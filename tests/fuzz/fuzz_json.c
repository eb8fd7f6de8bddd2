/* fuzz_json.c: libFuzzer harness for the strict JSON scanner (src/core/json.c): parse, then
 * decode every token, and check what must hold for every document the parser accepts. */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "pp_buf.h"
#include "pp_err.h"
#include "pp_json.h"

/* A string token decodes to valid UTF-8; written back with pp_json_put_str it parses as one
 * string that decodes to the same bytes and compares equal with pp_json_str_eq. */
static void check_string(const struct pp_json *doc, int t, struct pp_buf *dec, struct pp_buf *enc)
{
    pp_buf_reset(dec);
    int rc = pp_json_str(doc, t, dec);
    FUZZ_CHECK(rc == 0 || rc == PP_EPARSE);
    if (rc)
        return;
    FUZZ_CHECK(pp_utf8_valid(dec->data ? dec->data : "", dec->len));
    const char *d = dec->data ? dec->data : "";
    pp_buf_reset(enc);
    FUZZ_CHECK(pp_json_put_str(enc, d, dec->len) == 0);
    FUZZ_CHECK(pp_utf8_valid(enc->data, enc->len));
    struct pp_json re;
    struct pp_buf again;
    pp_json_init(&re);
    pp_buf_init(&again, 0);
    FUZZ_CHECK(pp_json_parse(&re, enc->data, enc->len, 0, NULL, 0) == 0);
    FUZZ_CHECK(re.ntok == 1 && re.tok[0].type == PP_JSON_STRING);
    FUZZ_CHECK(pp_json_str(&re, 0, &again) == 0);
    FUZZ_CHECK(again.len == dec->len && (dec->len == 0 || !memcmp(again.data, d, dec->len)));
    /* str_eq takes a C string: only meaningful without an embedded NUL (\u0000) */
    if (!memchr(d, '\0', dec->len))
        FUZZ_CHECK(pp_json_str_eq(doc, t, d));
    pp_buf_free(&again);
    pp_json_free(&re);
}

static void check_number(const struct pp_json *doc, int t)
{
    size_t n;
    const char *raw = pp_json_raw(doc, t, &n);
    FUZZ_CHECK(pp_json_number_end(raw, raw + n) == raw + n); /* the whole token is a number */
    int64_t v = 0;
    double d = 0;
    int irc = pp_json_int(doc, t, &v), nrc = pp_json_num(doc, t, &d);
    FUZZ_CHECK(irc == 0 || irc == PP_EINVAL || irc == PP_ERANGE);
    FUZZ_CHECK(nrc == 0 || nrc == PP_EINVAL);
    if (nrc == 0)
        FUZZ_CHECK(isfinite(d));
    /* an exact integer is also a number, and the same one where a double holds it exactly */
    if (irc == 0) {
        FUZZ_CHECK(nrc == 0);
        if (v > -(INT64_C(1) << 53) && v < (INT64_C(1) << 53))
            FUZZ_CHECK(d == (double)v);
    }
}

/* A container's raw bytes are a JSON document of their own with the same token count. */
static void check_subtree(const struct pp_json *doc, int t)
{
    size_t n;
    const char *raw = pp_json_raw(doc, t, &n);
    int next = pp_json_next(doc, t);
    FUZZ_CHECK(next > t && next <= doc->ntok);
    struct pp_json sub;
    pp_json_init(&sub);
    FUZZ_CHECK(pp_json_parse(&sub, raw, n, 0, NULL, 0) == 0);
    FUZZ_CHECK(sub.ntok == next - t);
    FUZZ_CHECK(sub.tok[0].type == doc->tok[t].type && sub.tok[0].size == doc->tok[t].size);
    pp_json_free(&sub);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *js = (const char *)data;
    struct pp_json doc;
    char err[128];
    pp_json_init(&doc);
    int rc = pp_json_parse(&doc, js, size, 0, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || rc == PP_EPARSE || rc == PP_ETOOBIG);
    if (rc) {
        FUZZ_CHECK(err[0] != '\0');
        pp_json_free(&doc);
        return 0;
    }
    FUZZ_CHECK(doc.ntok >= 1);
    FUZZ_CHECK(fuzz_json_well_nested(&doc));       /* fuzz.h */
    FUZZ_CHECK(pp_json_next(&doc, 0) == doc.ntok); /* one value, all tokens in it */
    struct pp_buf dec, enc;
    pp_buf_init(&dec, 0);
    pp_buf_init(&enc, 0);
    for (int t = 0; t < doc.ntok; t++) {
        const struct pp_json_tok *tok = &doc.tok[t];
        FUZZ_CHECK(tok->start >= 0 && tok->start <= tok->end && (size_t)tok->end <= size);
        FUZZ_CHECK(strcmp(pp_json_type_name(tok->type), "unknown") != 0);
        switch (tok->type) {
        case PP_JSON_STRING:
            check_string(&doc, t, &dec, &enc);
            break;
        case PP_JSON_NUMBER:
            check_number(&doc, t);
            break;
        case PP_JSON_OBJECT:
        case PP_JSON_ARRAY:
            if (doc.ntok < 4096) /* keeps big documents linear: the top level covers them */
                check_subtree(&doc, t);
            else if (t == 0)
                check_subtree(&doc, 0);
            break;
        default: { /* literals: decoders refuse them, nothing else to do */
            int64_t v;
            double d;
            FUZZ_CHECK(pp_json_str(&doc, t, &dec) == PP_EINVAL);
            FUZZ_CHECK(pp_json_int(&doc, t, &v) == PP_EINVAL);
            FUZZ_CHECK(pp_json_num(&doc, t, &d) == PP_EINVAL);
        }
        }
        /* pp_json_get on every object with its first key must find that key's value */
        if (tok->type == PP_JSON_OBJECT && tok->size > 0) {
            pp_buf_reset(&dec);
            if (pp_json_str(&doc, t + 1, &dec) == 0) {
                const char *key = dec.len ? dec.data : "";
                if (strlen(key) == dec.len) /* no \u0000 inside: a C string can name it */
                    FUZZ_CHECK(pp_json_get(&doc, t, key) >= 0);
            }
        }
    }
    pp_buf_free(&dec);
    pp_buf_free(&enc);
    pp_json_free(&doc);
    return 0;
}
