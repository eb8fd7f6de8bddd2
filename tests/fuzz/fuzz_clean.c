/* fuzz_clean.c: libFuzzer harness for validation and cleaning (src/clean): the first byte
 * picks the kind (pin, geo, user: byte % 3), the rest is one source record as JSON text. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pp_clean.h"
#include "pp_err.h"
#include "pp_json.h"

/* pp_clean_parse promises pp_json_parse's tokens and errors: compare them. */
static void check_fast_parse(const char *js, size_t len)
{
    struct pp_json a, b;
    pp_json_init(&a);
    pp_json_init(&b);
    int ra = pp_clean_parse(&a, js, len, NULL, 0);
    int rb = pp_json_parse(&b, js, len, 0, NULL, 0);
    FUZZ_CHECK(ra == rb);
    if (!ra) {
        FUZZ_CHECK(a.ntok == b.ntok);
        for (int i = 0; i < a.ntok; i++)
            FUZZ_CHECK(a.tok[i].type == b.tok[i].type && a.tok[i].start == b.tok[i].start &&
                       a.tok[i].end == b.tok[i].end && a.tok[i].size == b.tok[i].size);
    }
    pp_json_free(&a);
    pp_json_free(&b);
}

/* The coordinates column is "[<lat>, <lon>]" with Python float reprs: a JSON array of two
 * finite numbers. */
static void check_coordinates(const struct pp_val *v)
{
    struct pp_json doc;
    double d;
    pp_json_init(&doc);
    FUZZ_CHECK(pp_json_parse(&doc, v->s, v->n, 0, NULL, 0) == 0);
    FUZZ_CHECK(doc.ntok == 3 && doc.tok[0].type == PP_JSON_ARRAY);
    FUZZ_CHECK(pp_json_num(&doc, 1, &d) == 0 && pp_json_num(&doc, 2, &d) == 0);
    pp_json_free(&doc);
}

static void check_row(enum pp_kind kind, const struct pp_row *row, int64_t id)
{
    int ncols;
    const char *const *cols = pp_clean_columns(kind, &ncols);
    FUZZ_CHECK(row->kind == kind && row->ncols == ncols && row->id == id);
    FUZZ_CHECK(row->col[0].type == PP_VAL_INT && row->col[0].i == id);
    for (int c = 0; c < ncols; c++) {
        const struct pp_val *v = &row->col[c];
        if (v->type == PP_VAL_REAL)
            FUZZ_CHECK(isfinite(v->d));
        if (v->type != PP_VAL_TEXT)
            continue;
        FUZZ_CHECK(v->s != NULL && v->s[v->n] == '\0');
        FUZZ_CHECK(v->n > 0); /* blank text is NULL, never "" */
        FUZZ_CHECK(pp_utf8_valid(v->s, v->n));
        if (!strcmp(cols[c], "coordinates"))
            check_coordinates(v);
        if (!strcmp(cols[c], "timestamp") || !strcmp(cols[c], "date_joined"))
            FUZZ_CHECK(v->n == 19 && v->s[4] == '-' && v->s[10] == ' ' && v->s[13] == ':');
    }
}

/* Python repr of a double must read back as the same double. */
static void check_format_double(const uint8_t *data, size_t size)
{
    double d;
    char out[40];
    if (size < sizeof(d))
        return;
    memcpy(&d, data + size - sizeof(d), sizeof(d));
    if (!isfinite(d))
        return;
    size_t n = pp_clean_format_double(d, out, sizeof(out));
    FUZZ_CHECK(n > 0 && n < sizeof(out) && out[n] == '\0');
    FUZZ_CHECK(strtod(out, NULL) == d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum pp_kind kind = (enum pp_kind)(data[0] % 3);
    const char *js = (const char *)data + 1;
    size_t len = size - 1;
    check_fast_parse(js, len);
    check_format_double(data, size);

    /* cleaning must agree with validation: clean ok <=> parses as JSON and validates */
    struct pp_row row;
    struct pp_verr verr, verr2;
    pp_row_init(&row);
    memset(&verr, 0, sizeof(verr));
    int rc = pp_clean_record(kind, js, len, &row, &verr);
    FUZZ_CHECK(rc == 0 || rc == PP_EPARSE || rc == PP_EINVAL || rc == PP_ETOOBIG ||
               rc == PP_ENOMEM);
    struct pp_json doc;
    pp_json_init(&doc);
    int64_t id = -1;
    int vrc = pp_json_parse(&doc, js, len, 0, NULL, 0);
    if (!vrc) {
        memset(&verr2, 0, sizeof(verr2));
        vrc = pp_record_validate(kind, &doc, 0, &id, &verr2);
        FUZZ_CHECK(vrc == 0 || vrc == PP_EPARSE || vrc == PP_EINVAL);
        if (vrc)
            FUZZ_CHECK(verr2.msg[0] && verr2.type[0]);
    }
    if (rc == 0) {
        FUZZ_CHECK(vrc == 0);
        FUZZ_CHECK(fuzz_json_well_nested(&doc)); /* a cleaned record was valid JSON */
        check_row(kind, &row, id);
    } else if (rc == PP_EPARSE || rc == PP_EINVAL) {
        FUZZ_CHECK(vrc != 0);
        FUZZ_CHECK(verr.msg[0] && verr.type[0]);
    }
    /* a second call on the same row (memory reused) gives the same answer */
    int rc2 = pp_clean_record(kind, js, len, &row, &verr);
    FUZZ_CHECK(rc2 == rc);
    if (rc2 == 0)
        check_row(kind, &row, id);
    pp_json_free(&doc);
    pp_row_free(&row);

    int64_t v;
    if (pp_clean_follower_count(js, len, &v) == 0)
        FUZZ_CHECK(v >= 0);
    return 0;
}
