/* test_clean.c: data model validation and every cleaning rule, plus the real sample data. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "clean_int.h" /* the fast tokenizer and string decoder, tested against core */
#include "pp_clean.h"
#include "pp_err.h"
#include "pp_test.h"

/* ---- building records: a base record with one field replaced, removed or added ---- */

struct kv {
    const char *k, *v; /* v: raw JSON */
};

static const struct kv pin_base[] = {
    {"index", "7528"},
    {"unique_id", "\"fbe53c66-3442-4773-b19e-d3ec6f54dddf\""},
    {"title", "\"Summer Crafts\""},
    {"description", "\"Keep the kids busy\""},
    {"poster_name", "\"Of Life & Lisa\""},
    {"follower_count", "\"124k\""},
    {"tag_list", "\"Summer Crafts For Kids,Fun Crafts\""},
    {"is_image_or_video", "\"image\""},
    {"image_src", "\"https://i.pinimg.com/originals/b3.jpg\""},
    {"downloaded", "1"},
    {"save_location", "\"Local save in /data/diy-and-crafts\""},
    {"category", "\"diy-and-crafts\""},
};
static const struct kv geo_base[] = {
    {"ind", "7528"},
    {"timestamp", "\"2020-08-28 03:52:47\""},
    {"latitude", "-89.9787"},
    {"longitude", "-173.293"},
    {"country", "\"Albania\""},
};
static const struct kv user_base[] = {
    {"ind", "7528"},
    {"first_name", "\"Abigail\""},
    {"last_name", "\"Ali\""},
    {"age", "20"},
    {"date_joined", "\"2015-10-24 11:23:51\""},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct kv *base_of(enum pp_kind kind, size_t *n)
{
    switch (kind) {
    case PP_KIND_PIN:
        *n = NELEM(pin_base);
        return pin_base;
    case PP_KIND_GEO:
        *n = NELEM(geo_base);
        return geo_base;
    default:
        *n = NELEM(user_base);
        return user_base;
    }
}

/* The base record of kind with field set to raw JSON value (NULL: field removed; a field
 * not in the base is added at the end). Returns a static buffer. */
static const char *rec(enum pp_kind kind, const char *field, const char *value)
{
    static char out[8192];
    size_t n, len = 0;
    const struct kv *b = base_of(kind, &n);
    int found = 0;
    out[len++] = '{';
    for (size_t i = 0; i < n; i++) {
        const char *v = b[i].v;
        if (field && !strcmp(field, b[i].k)) {
            found = 1;
            if (!value)
                continue;
            v = value;
        }
        len += (size_t)snprintf(out + len, sizeof(out) - len, "%s\"%s\": %s", len > 1 ? ", " : "",
                                b[i].k, v);
    }
    if (field && !found && value)
        len += (size_t)snprintf(out + len, sizeof(out) - len, ", \"%s\": %s", field, value);
    snprintf(out + len, sizeof(out) - len, "}");
    return out;
}

static struct pp_row row;
static struct pp_verr verr;

static int clean(enum pp_kind kind, const char *json)
{
    memset(&verr, 0, sizeof(verr));
    return pp_clean_record(kind, json, strlen(json), &row, &verr);
}

static int validate(enum pp_kind kind, const char *json, int64_t *id)
{
    struct pp_json doc;
    pp_json_init(&doc);
    memset(&verr, 0, sizeof(verr));
    int rc = pp_json_parse(&doc, json, strlen(json), 0, NULL, 0);
    if (rc == 0)
        rc = pp_record_validate(kind, &doc, 0, id, &verr);
    pp_json_free(&doc);
    return rc;
}

static int col_index(enum pp_kind kind, const char *name)
{
    int n;
    const char *const *cols = pp_clean_columns(kind, &n);
    for (int i = 0; i < n; i++)
        if (!strcmp(cols[i], name))
            return i;
    fprintf(stderr, "no column %s\n", name);
    abort();
}

/* TEXT value of column name, "<NULL>" for NULL, "<INT>"/"<REAL>" for other types. */
static const char *text(const char *name)
{
    const struct pp_val *v = &row.col[col_index(row.kind, name)];
    switch (v->type) {
    case PP_VAL_NULL:
        return "<NULL>";
    case PP_VAL_TEXT:
        return v->s;
    case PP_VAL_INT:
        return "<INT>";
    default:
        return "<REAL>";
    }
}

/* INT value of column name, or INT64_MIN for NULL (-1 for other types). */
static int64_t ival(const char *name)
{
    const struct pp_val *v = &row.col[col_index(row.kind, name)];
    return v->type == PP_VAL_INT ? v->i : v->type == PP_VAL_NULL ? INT64_MIN : -1;
}

static int nulled(const char *name)
{
    return (row.nulled >> col_index(row.kind, name)) & 1;
}

/* ---- tests ---- */

static void test_columns(void)
{
    int n;
    const char *const *c = pp_clean_columns(PP_KIND_PIN, &n);
    PP_CHECK_INT(n, 12);
    PP_CHECK_STR(c[0], "ind");
    PP_CHECK_STR(c[4], "follower_count");
    PP_CHECK_STR(c[5], "poster_name");
    PP_CHECK_STR(c[11], "category");
    c = pp_clean_columns(PP_KIND_GEO, &n);
    PP_CHECK(n == 4 && !strcmp(c[1], "country") && !strcmp(c[2], "coordinates") &&
             !strcmp(c[3], "timestamp"));
    c = pp_clean_columns(PP_KIND_USER, &n);
    PP_CHECK(n == 4 && !strcmp(c[1], "user_name") && !strcmp(c[2], "age") &&
             !strcmp(c[3], "date_joined"));
    PP_CHECK(pp_clean_columns(PP_KIND_NONE, &n) == NULL && n == 0);
}

static void test_clean_pin(void)
{
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, NULL, NULL)), 0);
    PP_CHECK_INT(row.ncols, 12);
    PP_CHECK_INT(row.id, 7528);
    PP_CHECK_INT(ival("ind"), 7528);
    PP_CHECK_STR(text("unique_id"), "fbe53c66-3442-4773-b19e-d3ec6f54dddf");
    PP_CHECK_STR(text("title"), "Summer Crafts");
    PP_CHECK_STR(text("description"), "Keep the kids busy");
    PP_CHECK_INT(ival("follower_count"), 124000);
    PP_CHECK_STR(text("poster_name"), "Of Life & Lisa");
    PP_CHECK_STR(text("tag_list"), "Summer Crafts For Kids,Fun Crafts");
    PP_CHECK_STR(text("is_image_or_video"), "image");
    PP_CHECK_STR(text("image_src"), "https://i.pinimg.com/originals/b3.jpg");
    PP_CHECK_INT(ival("downloaded"), 1);
    PP_CHECK_STR(text("save_location"), "/data/diy-and-crafts");
    PP_CHECK_STR(text("category"), "diy-and-crafts");
    PP_CHECK_INT(row.nulled, 0);
    PP_CHECK_INT(row.col[1].n, 36);
    /* escapes and non-Latin text decode */
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "title",
                                        "\"caf\\u00e9 \\\"x\\\" \\ud83d\\ude00 \xe6\x97\xa5\"")),
                 0);
    PP_CHECK_STR(text("title"), "caf\xc3\xa9 \"x\" \xf0\x9f\x98\x80 \xe6\x97\xa5");
}

struct ph_case {
    const char *field, *value, *other; /* other: a column where the same string stays */
};

static void test_placeholders(void)
{
    static const struct ph_case cases[] = {
        {"title", "No Title Data Available", "description"},
        {"description", "No description available Story format", "title"},
        {"description", "No description available", "title"},
        {"description", "Untitled", "title"},
        {"poster_name", "User Info Error", "title"},
        {"follower_count", "User Info Error", "description"},
        {"tag_list", "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e", "title"},
        {"image_src", "Image src error.", "description"},
    };
    char q[128];
    for (size_t i = 0; i < NELEM(cases); i++) {
        snprintf(q, sizeof(q), "\"%s\"", cases[i].value);
        PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, cases[i].field, q)), 0);
        PP_CHECK_INT(ival(cases[i].field), INT64_MIN);
        PP_CHECK(nulled(cases[i].field));
        PP_CHECK_INT(pp_clean_is_placeholder(PP_KIND_PIN, cases[i].field, cases[i].value,
                                             strlen(cases[i].value)),
                     1);
        /* the same string in another column stays */
        PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, cases[i].other, q)), 0);
        PP_CHECK_STR(text(cases[i].other), cases[i].value);
        PP_CHECK_INT(row.nulled, 0);
        PP_CHECK_INT(pp_clean_is_placeholder(PP_KIND_PIN, cases[i].other, cases[i].value,
                                             strlen(cases[i].value)),
                     0);
    }
    /* placeholders match exactly: case or spacing differences stay */
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "title", "\"No title data available\"")), 0);
    PP_CHECK_STR(text("title"), "No title data available");
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "image_src", "\"Image src error\"")), 0);
    PP_CHECK_STR(text("image_src"), "Image src error");
    PP_CHECK_INT(clean(PP_KIND_GEO, rec(PP_KIND_GEO, "country", "\"User Info Error\"")), 0);
    PP_CHECK_STR(text("country"), "User Info Error");
}

static void test_blank(void)
{
    static const char *blanks[] = {"\"\"",
                                   "\"   \"",
                                   "\"\\t\\n \\r\"",
                                   "\"\\u00a0\"",
                                   "\" \xc2\xa0\xe3\x80\x80 \"",
                                   "\"\\u2003\\u202f\""};
    static const char *pin_text[] = {"unique_id",   "title",         "description",
                                     "poster_name", "tag_list",      "is_image_or_video",
                                     "image_src",   "save_location", "category"};
    for (size_t i = 0; i < NELEM(blanks); i++) {
        for (size_t f = 0; f < NELEM(pin_text); f++) {
            PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, pin_text[f], blanks[i])), 0);
            PP_CHECK_STR(text(pin_text[f]), "<NULL>");
            PP_CHECK(nulled(pin_text[f]));
        }
        PP_CHECK_INT(clean(PP_KIND_GEO, rec(PP_KIND_GEO, "country", blanks[i])), 0);
        PP_CHECK_STR(text("country"), "<NULL>");
        PP_CHECK_INT(clean(PP_KIND_USER, rec(PP_KIND_USER, "last_name", blanks[i])), 0);
        PP_CHECK_STR(text("user_name"), "<NULL>");
        PP_CHECK(nulled("user_name"));
    }
    /* not blank: a zero-width space is no white space; inner spaces are kept */
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "title", "\"\\u200b\"")), 0);
    PP_CHECK_STR(text("title"), "\xe2\x80\x8b");
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "title", "\" a \"")), 0);
    PP_CHECK_STR(text("title"), " a ");
    PP_CHECK_INT(pp_clean_is_placeholder(PP_KIND_GEO, "country", "", 0), 1);
    PP_CHECK_INT(pp_clean_is_placeholder(PP_KIND_GEO, "country", " x", 2), 0);
}

static void test_json_null(void)
{
    static const char *fields[] = {"unique_id",         "title",          "description",
                                   "poster_name",       "follower_count", "tag_list",
                                   "is_image_or_video", "image_src",      "downloaded",
                                   "save_location",     "category"};
    for (size_t f = 0; f < NELEM(fields); f++) {
        PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, fields[f], "null")), 0);
        PP_CHECK_INT(row.col[col_index(PP_KIND_PIN, fields[f])].type, PP_VAL_NULL);
        PP_CHECK_INT(row.nulled, 0);
    }
    PP_CHECK_INT(clean(PP_KIND_USER, rec(PP_KIND_USER, "age", "null")), 0);
    PP_CHECK_INT(ival("age"), INT64_MIN);
    PP_CHECK_INT(clean(PP_KIND_GEO, rec(PP_KIND_GEO, "timestamp", "null")), 0);
    PP_CHECK_STR(text("timestamp"), "<NULL>");
    PP_CHECK_STR(text("coordinates"), "[-89.9787, -173.293]");
}

static void test_follower_count(void)
{
    static const struct {
        const char *s;
        int64_t v; /* -1: PP_EINVAL */
    } cases[] = {
        {"437", 437},
        {"0", 0},
        {"124k", 124000},
        {"1k", 1000},
        {"1.2k", 1200},
        {"2M", 2000000},
        {"1.5M", 1500000},
        {"12M", 12000000},
        {"1.2345k", 1234},
        {"2.0000009M", 2000000},
        {"10K", 10000},
        {"3m", 3000000},
        {"9223372036854775807", INT64_MAX},
        {"User Info Error", -1},
        {"", -1},
        {"k", -1},
        {"1.k", -1},
        {".5k", -1},
        {"12.5", -1},
        {"-5", -1},
        {"+5", -1},
        {" 437", -1},
        {"437 ", -1},
        {"1,234", -1},
        {"1kk", -1},
        {"1B", -1},
        {"9223372036854775808", -1},
        {"9223372036854776k", -1},
        {"0x10", -1},
    };
    for (size_t i = 0; i < NELEM(cases); i++) {
        int64_t v = -42;
        int rc = pp_clean_follower_count(cases[i].s, strlen(cases[i].s), &v);
        if (cases[i].v < 0) {
            PP_CHECK_INT(rc, PP_EINVAL);
        } else {
            PP_CHECK_INT(rc, 0);
            PP_CHECK_INT(v, cases[i].v);
        }
    }
    /* in a row: unparseable -> NULL and counted; a JSON integer is taken as its text */
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "follower_count", "\"lots\"")), 0);
    PP_CHECK_INT(ival("follower_count"), INT64_MIN);
    PP_CHECK(nulled("follower_count"));
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "follower_count", "437")), 0);
    PP_CHECK_INT(ival("follower_count"), 437);
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "follower_count", "-5")), 0);
    PP_CHECK_INT(ival("follower_count"), INT64_MIN);
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "follower_count", "\"1.2k\"")), 0);
    PP_CHECK_INT(ival("follower_count"), 1200);
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "follower_count", "\"\\u0032M\"")), 0);
    PP_CHECK_INT(ival("follower_count"), 2000000);
}

static void test_save_location(void)
{
    PP_CHECK_INT(
        clean(PP_KIND_PIN, rec(PP_KIND_PIN, "save_location", "\"Local save in /data/art\"")), 0);
    PP_CHECK_STR(text("save_location"), "/data/art");
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "save_location", "\"/data/art\"")), 0);
    PP_CHECK_STR(text("save_location"), "/data/art");
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "save_location", "\"local save in /x\"")), 0);
    PP_CHECK_STR(text("save_location"), "local save in /x");
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "save_location", "\"Local save in \"")), 0);
    PP_CHECK_STR(text("save_location"), "<NULL>");
    PP_CHECK(nulled("save_location"));
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "save_location", "\"Local save in   \"")), 0);
    PP_CHECK_STR(text("save_location"), "<NULL>");
    /* only the leading prefix goes */
    PP_CHECK_INT(
        clean(PP_KIND_PIN, rec(PP_KIND_PIN, "save_location", "\"Local save in Local save in /d\"")),
        0);
    PP_CHECK_STR(text("save_location"), "Local save in /d");
}

static void test_format_double(void)
{
    static const struct {
        double d;
        const char *s;
    } cases[] = {
        {-89.9787, "-89.9787"},
        {-173.293, "-173.293"},
        {5.0, "5.0"},
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {0.1, "0.1"},
        {0.1 + 0.2, "0.30000000000000004"},
        {2.0 / 3.0, "0.6666666666666666"},
        {100.0, "100.0"},
        {123.456, "123.456"},
        {1e-4, "0.0001"},
        {1e-5, "1e-05"},
        {1.5e-7, "1.5e-07"},
        {1e16, "1e+16"},
        {1234567890123456.0, "1234567890123456.0"},
        {1.5e300, "1.5e+300"},
        {4.21689, "4.21689"},
        {1e22, "1e+22"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
    };
    char out[40];
    for (size_t i = 0; i < NELEM(cases); i++) {
        size_t n = pp_clean_format_double(cases[i].d, out, sizeof(out));
        PP_CHECK_STR(out, cases[i].s);
        PP_CHECK_INT(n, strlen(cases[i].s));
    }
}

static void test_coordinates(void)
{
    PP_CHECK_INT(clean(PP_KIND_GEO, rec(PP_KIND_GEO, NULL, NULL)), 0);
    PP_CHECK_INT(row.ncols, 4);
    PP_CHECK_INT(ival("ind"), 7528);
    PP_CHECK_STR(text("country"), "Albania");
    PP_CHECK_STR(text("coordinates"), "[-89.9787, -173.293]");
    PP_CHECK_STR(text("timestamp"), "2020-08-28 03:52:47");
    PP_CHECK_INT(clean(PP_KIND_GEO, rec(PP_KIND_GEO, "latitude", "5")), 0);
    PP_CHECK_STR(text("coordinates"), "[5.0, -173.293]");
    PP_CHECK_INT(clean(PP_KIND_GEO, rec(PP_KIND_GEO, "latitude", "\"12.5\"")), 0);
    PP_CHECK_STR(text("coordinates"), "[12.5, -173.293]");
    PP_CHECK_INT(clean(PP_KIND_GEO, rec(PP_KIND_GEO, "longitude", "1e-5")), 0);
    PP_CHECK_STR(text("coordinates"), "[-89.9787, 1e-05]");
    PP_CHECK_INT(clean(PP_KIND_GEO, rec(PP_KIND_GEO, "longitude", "0.30000000000000004")), 0);
    PP_CHECK_STR(text("coordinates"), "[-89.9787, 0.30000000000000004]");
    PP_CHECK_INT(clean(PP_KIND_GEO, rec(PP_KIND_GEO, "latitude", "null")), 0);
    PP_CHECK_STR(text("coordinates"), "<NULL>");
    PP_CHECK_INT(clean(PP_KIND_GEO, rec(PP_KIND_GEO, "longitude", "null")), 0);
    PP_CHECK_STR(text("coordinates"), "<NULL>");
    PP_CHECK_INT(row.nulled, 0);
}

static void test_datetimes(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"2020-08-28 03:52:47", "2020-08-28 03:52:47"},
        {"2020-08-28T03:52:47", "2020-08-28 03:52:47"},
        {"2020-08-28 03:52:47.123456", "2020-08-28 03:52:47"},
        {"2020-08-28T03:52:47.999999999", "2020-08-28 03:52:47"},
        {"2020-08-28T03:52:47Z", "2020-08-28 03:52:47"},
        {"2020-08-28T03:52:47.5Z", "2020-08-28 03:52:47"},
        {"2020-08-28T03:52:47+02:00", "2020-08-28 01:52:47"},
        {"2020-08-28T03:52:47-0530", "2020-08-28 09:22:47"},
        {"2020-08-28T03:52:47.250+00:00", "2020-08-28 03:52:47"},
        {"2020-01-01T00:30:00+01:00", "2019-12-31 23:30:00"},
        {"2020-02-29 12:00:00", "2020-02-29 12:00:00"},
        {"2020-08-28", "2020-08-28 00:00:00"},
        {"1969-12-31 23:59:59.5", "1969-12-31 23:59:59"},
        {"0001-01-01 00:00:00", "0001-01-01 00:00:00"},
        {"9999-12-31T23:59:59", "9999-12-31 23:59:59"},
    };
    char q[80];
    for (size_t i = 0; i < NELEM(cases); i++) {
        snprintf(q, sizeof(q), "\"%s\"", cases[i].in);
        PP_CHECK_INT(clean(PP_KIND_GEO, rec(PP_KIND_GEO, "timestamp", q)), 0);
        PP_CHECK_STR(text("timestamp"), cases[i].out);
        PP_CHECK_INT(clean(PP_KIND_USER, rec(PP_KIND_USER, "date_joined", q)), 0);
        PP_CHECK_STR(text("date_joined"), cases[i].out);
    }
    static const char *bad[] = {"\"2020-13-01 00:00:00\"",
                                "\"2021-02-29 00:00:00\"",
                                "\"yesterday\"",
                                "\"\"",
                                "\"2020-08-28 25:00:00\"",
                                "\"2020-08-28 03:52:47 UTC\"",
                                "\"28/08/2020\"",
                                "\"0001-01-01T00:00:00+01:00\"",
                                "\"9999-12-31T23:59:59-01:00\"",
                                "1598586767",
                                "true",
                                "[]"};
    for (size_t i = 0; i < NELEM(bad); i++) {
        PP_CHECK_INT(clean(PP_KIND_GEO, rec(PP_KIND_GEO, "timestamp", bad[i])), PP_EINVAL);
        PP_CHECK_STR(verr.field, "timestamp");
        PP_CHECK_STR(verr.type, "value_error.datetime");
        PP_CHECK_STR(verr.msg, "invalid datetime format");
        PP_CHECK_INT(validate(PP_KIND_USER, rec(PP_KIND_USER, "date_joined", bad[i]), NULL),
                     PP_EINVAL);
        PP_CHECK_STR(verr.type, "value_error.datetime");
    }
    char out[24];
    PP_CHECK_INT(pp_clean_format_ts(-1, out, sizeof(out)), 19);
    PP_CHECK_STR(out, "1969-12-31 23:59:59");
    pp_clean_format_ts(951782400LL * 1000000, out, sizeof(out));
    PP_CHECK_STR(out, "2000-02-29 00:00:00");
}

static void test_user(void)
{
    PP_CHECK_INT(clean(PP_KIND_USER, rec(PP_KIND_USER, NULL, NULL)), 0);
    PP_CHECK_INT(row.ncols, 4);
    PP_CHECK_INT(ival("ind"), 7528);
    PP_CHECK_STR(text("user_name"), "Abigail Ali");
    PP_CHECK_INT(row.col[1].n, 11);
    PP_CHECK_INT(ival("age"), 20);
    PP_CHECK_STR(text("date_joined"), "2015-10-24 11:23:51");
    PP_CHECK_INT(clean(PP_KIND_USER, rec(PP_KIND_USER, "first_name", "\"Mary Ann\"")), 0);
    PP_CHECK_STR(text("user_name"), "Mary Ann Ali");
    PP_CHECK_INT(clean(PP_KIND_USER, rec(PP_KIND_USER, "first_name", "null")), 0);
    PP_CHECK_STR(text("user_name"), "<NULL>");
    PP_CHECK_INT(row.nulled, 0);
    PP_CHECK_INT(clean(PP_KIND_USER, rec(PP_KIND_USER, "last_name", "null")), 0);
    PP_CHECK_STR(text("user_name"), "<NULL>");
    PP_CHECK_INT(clean(PP_KIND_USER, rec(PP_KIND_USER, "first_name", "\" \"")), 0);
    PP_CHECK_STR(text("user_name"), "<NULL>");
    PP_CHECK(nulled("user_name"));
    PP_CHECK_INT(clean(PP_KIND_USER, rec(PP_KIND_USER, "age", "\"33\"")), 0);
    PP_CHECK_INT(ival("age"), 33);
    /* a bad last_name is rejected even when first_name is null */
    PP_CHECK_INT(clean(PP_KIND_USER, "{\"ind\":1,\"first_name\":null,\"last_name\":\"\xff\","
                                     "\"age\":1,\"date_joined\":null}"),
                 PP_EPARSE);
    PP_CHECK_STR(verr.field, "last_name");
}

static void check_missing(enum pp_kind kind, const char *field)
{
    int64_t id = -1;
    const char *r = rec(kind, field, NULL);
    PP_CHECK_INT(validate(kind, r, &id), PP_EINVAL);
    PP_CHECK_STR(verr.field, field);
    PP_CHECK_STR(verr.msg, "field required");
    PP_CHECK_STR(verr.type, "value_error.missing");
    PP_CHECK_INT(clean(kind, rec(kind, field, NULL)), PP_EINVAL);
    PP_CHECK_STR(verr.type, "value_error.missing");
}

static void test_missing(void)
{
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        size_t n;
        const struct kv *b = base_of((enum pp_kind)k, &n);
        for (size_t i = 0; i < n; i++)
            if (strcmp(b[i].k, "poster_name"))
                check_missing((enum pp_kind)k, b[i].k);
    }
    /* poster_name may be absent: the 2022 11-column pin table */
    int64_t id = 0;
    PP_CHECK_INT(validate(PP_KIND_PIN, rec(PP_KIND_PIN, "poster_name", NULL), &id), 0);
    PP_CHECK_INT(id, 7528);
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "poster_name", NULL)), 0);
    PP_CHECK_STR(text("poster_name"), "<NULL>");
    PP_CHECK_INT(row.nulled, 0);
    /* a pin record on the user topic */
    PP_CHECK_INT(validate(PP_KIND_USER, rec(PP_KIND_PIN, NULL, NULL), NULL), PP_EINVAL);
    PP_CHECK_STR(verr.field, "ind");
}

struct type_case {
    enum pp_kind kind;
    const char *field, *value, *type, *msg;
};

static void test_wrong_types(void)
{
    static const struct type_case cases[] = {
        {PP_KIND_PIN, "index", "\"75a\"", "type_error.integer", "value is not a valid integer"},
        {PP_KIND_PIN, "index", "1.5", "type_error.integer", NULL},
        {PP_KIND_PIN, "index", "true", "type_error.integer", NULL},
        {PP_KIND_PIN, "index", "\"\"", "type_error.integer", NULL},
        {PP_KIND_PIN, "index", "99999999999999999999", "type_error.integer", NULL},
        {PP_KIND_PIN, "index", "null", "type_error.none.not_allowed",
         "none is not an allowed value"},
        {PP_KIND_GEO, "ind", "[1]", "type_error.integer", NULL},
        {PP_KIND_USER, "ind", "{}", "type_error.integer", NULL},
        {PP_KIND_PIN, "unique_id", "42", "type_error.str", "str type expected"},
        {PP_KIND_PIN, "title", "123", "type_error.str", NULL},
        {PP_KIND_PIN, "description", "false", "type_error.str", NULL},
        {PP_KIND_PIN, "poster_name", "[\"a\"]", "type_error.str", NULL},
        {PP_KIND_PIN, "follower_count", "1.5", "type_error.str", NULL},
        {PP_KIND_PIN, "follower_count", "{}", "type_error.str", NULL},
        {PP_KIND_PIN, "tag_list", "[\"a\",\"b\"]", "type_error.str", NULL},
        {PP_KIND_PIN, "is_image_or_video", "1", "type_error.str", NULL},
        {PP_KIND_PIN, "image_src", "{\"u\":1}", "type_error.str", NULL},
        {PP_KIND_PIN, "downloaded", "\"yes\"", "type_error.integer", NULL},
        {PP_KIND_PIN, "downloaded", "true", "type_error.integer", NULL},
        {PP_KIND_PIN, "downloaded", "0.5", "type_error.integer", NULL},
        {PP_KIND_PIN, "save_location", "7", "type_error.str", NULL},
        {PP_KIND_PIN, "category", "true", "type_error.str", NULL},
        {PP_KIND_GEO, "latitude", "\"north\"", "type_error.float", "value is not a valid float"},
        {PP_KIND_GEO, "latitude", "\"nan\"", "type_error.float", NULL},
        {PP_KIND_GEO, "longitude", "\"inf\"", "type_error.float", NULL},
        {PP_KIND_GEO, "longitude", "1e999", "type_error.float", NULL},
        {PP_KIND_GEO, "longitude", "true", "type_error.float", NULL},
        {PP_KIND_GEO, "country", "12", "type_error.str", NULL},
        {PP_KIND_GEO, "timestamp", "12", "value_error.datetime", NULL},
        {PP_KIND_USER, "first_name", "1", "type_error.str", NULL},
        {PP_KIND_USER, "last_name", "[]", "type_error.str", NULL},
        {PP_KIND_USER, "age", "\"twenty\"", "type_error.integer", NULL},
        {PP_KIND_USER, "age", "20.5", "type_error.integer", NULL},
        {PP_KIND_USER, "date_joined", "\"soon\"", "value_error.datetime", NULL},
    };
    for (size_t i = 0; i < NELEM(cases); i++) {
        const struct type_case *tc = &cases[i];
        int rc = validate(tc->kind, rec(tc->kind, tc->field, tc->value), NULL);
        PP_CHECK_INT(rc, PP_EINVAL);
        if (rc != PP_EINVAL || strcmp(verr.type, tc->type))
            fprintf(stderr, "  case %s=%s: type %s\n", tc->field, tc->value, verr.type);
        PP_CHECK_STR(verr.field, tc->field);
        PP_CHECK_STR(verr.type, tc->type);
        if (tc->msg)
            PP_CHECK_STR(verr.msg, tc->msg);
        PP_CHECK_INT(clean(tc->kind, rec(tc->kind, tc->field, tc->value)), PP_EINVAL);
        PP_CHECK_STR(verr.type, tc->type);
    }
    /* accepted lax forms */
    int64_t id = 0;
    PP_CHECK_INT(validate(PP_KIND_PIN, rec(PP_KIND_PIN, "index", "\"7529\""), &id), 0);
    PP_CHECK_INT(id, 7529);
    PP_CHECK_INT(validate(PP_KIND_PIN, rec(PP_KIND_PIN, "index", "\"-3\""), &id), 0);
    PP_CHECK_INT(id, -3);
    PP_CHECK_INT(validate(PP_KIND_PIN, rec(PP_KIND_PIN, "index", "\"\\u0037\""), &id), 0);
    PP_CHECK_INT(id, 7);
    PP_CHECK_INT(validate(PP_KIND_PIN, rec(PP_KIND_PIN, "follower_count", "437"), NULL), 0);
    PP_CHECK_INT(validate(PP_KIND_GEO, rec(PP_KIND_GEO, "latitude", "\"-2e1\""), NULL), 0);
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "downloaded", "\"0\"")), 0);
    PP_CHECK_INT(ival("downloaded"), 0);
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "index", "\"12\"")), 0);
    PP_CHECK_INT(row.id, 12);
}

static void test_not_object(void)
{
    static const char *bad[] = {"[1,2]", "\"pin\"", "[]", "[{\"ind\": 1}]"};
    for (size_t i = 0; i < NELEM(bad); i++) {
        PP_CHECK_INT(validate(PP_KIND_PIN, bad[i], NULL), PP_EINVAL);
        PP_CHECK_STR(verr.field, "");
        PP_CHECK_STR(verr.type, "type_error.dict");
        PP_CHECK_STR(verr.msg, "value is not a valid dict");
        PP_CHECK_INT(clean(PP_KIND_GEO, bad[i]), PP_EINVAL);
        PP_CHECK_STR(verr.type, "type_error.dict");
    }
    /* top-level scalars: pp_json_parse (jsmn strict) rejects some of them as PP_EPARSE;
     * either way they are refused */
    static const char *scalars[] = {"42", "null", "true", "42 "};
    for (size_t i = 0; i < NELEM(scalars); i++) {
        int rc = clean(PP_KIND_USER, scalars[i]);
        PP_CHECK(rc == PP_EINVAL || rc == PP_EPARSE);
    }
    /* not JSON at all */
    static const char *notjson[] = {"",
                                    "{",
                                    "{\"ind\": 1,}",
                                    "{\"ind\": 01}",
                                    "ind=1",
                                    "{\"index\":1} {}",
                                    "{\"title\":\"\\x\"}"};
    for (size_t i = 0; i < NELEM(notjson); i++) {
        PP_CHECK_INT(clean(PP_KIND_PIN, notjson[i]), PP_EPARSE);
        PP_CHECK_STR(verr.type, "value_error.jsondecode");
    }
    /* a nested object passed as obj is validated as the record */
    struct pp_json doc;
    pp_json_init(&doc);
    const char *wrapped = "{\"records\":[{\"value\":{\"ind\":5,\"first_name\":\"A\",\"last_name\":"
                          "\"B\",\"age\":3,\"date_joined\":\"2016-01-01\"}}]}";
    PP_CHECK_INT(pp_json_parse(&doc, wrapped, strlen(wrapped), 0, NULL, 0), 0);
    int recs = pp_json_get(&doc, 0, "records");
    int value = pp_json_get(&doc, recs + 1, "value");
    int64_t id = 0;
    PP_CHECK_INT(pp_record_validate(PP_KIND_USER, &doc, value, &id, &verr), 0);
    PP_CHECK_INT(id, 5);
    PP_CHECK_INT(pp_record_validate(PP_KIND_USER, &doc, recs, &id, &verr), PP_EINVAL);
    PP_CHECK_STR(verr.type, "type_error.dict");
    PP_CHECK_INT(pp_record_validate(PP_KIND_USER, &doc, 999, &id, &verr), PP_EINVAL);
    PP_CHECK_INT(pp_record_validate(PP_KIND_NONE, &doc, value, &id, &verr), PP_EINVAL);
    pp_json_free(&doc);
}

static void test_bad_strings(void)
{
    static const char *bad[] = {
        "\"\xff\"",           /* not UTF-8 */
        "\"caf\xc3\"",        /* truncated sequence */
        "\"\xc0\xaf\"",       /* overlong */
        "\"\xed\xa0\x80\"",   /* encoded surrogate */
        "\"\\ud800\"",        /* lone high surrogate */
        "\"\\udc00 x\"",      /* lone low surrogate */
        "\"\\ud83d\\u0041\"", /* high surrogate + non-low */
        "\"a\tb\"",           /* raw control character */
        "\"\xe6\x97\\n\"",    /* sequence cut by an escape */
    };
    static const char *fields[] = {"title", "follower_count", "category", "unique_id"};
    for (size_t i = 0; i < NELEM(bad); i++) {
        for (size_t f = 0; f < NELEM(fields); f++) {
            PP_CHECK_INT(validate(PP_KIND_PIN, rec(PP_KIND_PIN, fields[f], bad[i]), NULL),
                         PP_EPARSE);
            PP_CHECK_STR(verr.field, fields[f]);
            PP_CHECK_STR(verr.type, "value_error.jsondecode");
            PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, fields[f], bad[i])), PP_EPARSE);
            PP_CHECK_STR(verr.field, fields[f]);
        }
        PP_CHECK_INT(validate(PP_KIND_GEO, rec(PP_KIND_GEO, "country", bad[i]), NULL), PP_EPARSE);
        PP_CHECK_INT(clean(PP_KIND_USER, rec(PP_KIND_USER, "first_name", bad[i])), PP_EPARSE);
    }
    /* valid escapes and UTF-8 pass validation */
    PP_CHECK_INT(validate(PP_KIND_PIN,
                          rec(PP_KIND_PIN, "title",
                              "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00 "
                              "\xf0\x9f\x98\x80\xe2\x80\xa6\""),
                          NULL),
                 0);
}

static void test_extra_fields(void)
{
    static const char *json =
        "{\"extra\": {\"index\": \"nope\", \"a\": [1, {\"b\": null}]}, \"index\": 3, "
        "\"unique_id\": \"u\", \"title\": \"t\", \"description\": \"d\", \"poster_name\": \"p\", "
        "\"follower_count\": \"5\", \"tag_list\": \"x\", \"is_image_or_video\": \"image\", "
        "\"image_src\": \"s\", \"downloaded\": 0, \"save_location\": \"Local save in /data/a\", "
        "\"category\": \"a\", \"more\": [[\"title\"]], \"zz\": 1.5e3}";
    PP_CHECK_INT(clean(PP_KIND_PIN, json), 0);
    PP_CHECK_INT(row.id, 3);
    PP_CHECK_STR(text("title"), "t");
    PP_CHECK_INT(ival("follower_count"), 5);
    PP_CHECK_INT(validate(PP_KIND_PIN, json, NULL), 0);
    /* any order; duplicate keys: the last counts; escaped key names match */
    PP_CHECK_INT(clean(PP_KIND_GEO, "{\"country\":\"A\",\"\\u0069nd\":9,\"latitude\":1,"
                                    "\"longitude\":2,\"timestamp\":\"2020-01-01\",\"ind\":10}"),
                 0);
    PP_CHECK_INT(row.id, 10);
    PP_CHECK_STR(text("coordinates"), "[1.0, 2.0]");
    PP_CHECK_INT(clean(PP_KIND_GEO, "{\"country\":\"A\",\"\\u0069nd\":9,\"latitude\":1,"
                                    "\"longitude\":2,\"timestamp\":\"2020-01-01\"}"),
                 0);
    PP_CHECK_INT(row.id, 9);
}

static void test_row_reuse(void)
{
    /* a long record then a short one: values come from the current record only */
    char big[6000];
    memset(big, 'x', sizeof(big));
    big[0] = '"';
    big[sizeof(big) - 2] = '"';
    big[sizeof(big) - 1] = '\0';
    PP_CHECK_INT(clean(PP_KIND_PIN, rec(PP_KIND_PIN, "description", big)), 0);
    PP_CHECK_INT(row.col[3].n, sizeof(big) - 3);
    PP_CHECK_STR(text("category"), "diy-and-crafts");
    PP_CHECK_INT(clean(PP_KIND_USER, rec(PP_KIND_USER, NULL, NULL)), 0);
    PP_CHECK_INT(row.ncols, 4);
    PP_CHECK_STR(text("user_name"), "Abigail Ali");
    PP_CHECK_INT(clean(PP_KIND_USER, "not json"), PP_EPARSE);
    PP_CHECK_INT(row.ncols, 0);
}

/* ---- the fast paths agree with core's pp_json_parse / pp_json_str (differential) ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static struct pp_json fast_doc, slow_doc;
static long diff_mismatch, diff_fast_ok, diff_strings;

static void diff_one(const char *js, size_t len)
{
    uint64_t plain = 0;
    int f = pp_clean_scan_flat(&fast_doc, js, len, &plain);
    int s = pp_json_parse(&slow_doc, js, len, 0, NULL, 0);
    if (f == 0) {
        diff_fast_ok++;
        int same = s == 0 && fast_doc.ntok == slow_doc.ntok;
        for (int t = 0; same && t < fast_doc.ntok; t++)
            same = !memcmp(&fast_doc.tok[t], &slow_doc.tok[t], sizeof(fast_doc.tok[t]));
        if (!same && diff_mismatch++ < 5)
            fprintf(stderr, "scan_flat differs on: %.*s\n", (int)len, js);
        /* a "plain" string's raw bytes are its decoded value */
        for (int t = 0; same && t < fast_doc.ntok && t < 64; t++) {
            const struct pp_json_tok *k = &fast_doc.tok[t];
            if (!(plain >> t & 1))
                continue;
            for (int i = k->start; i < k->end; i++)
                if (js[i] == '\\' || (unsigned char)js[i] < 0x20 || (unsigned char)js[i] >= 0x80)
                    same = 0;
            if (k->type != PP_JSON_STRING)
                same = 0;
            if (!same && diff_mismatch++ < 5)
                fprintf(stderr, "plain mask wrong on: %.*s\n", (int)len, js);
        }
    }
    if (s != 0)
        return;
    struct pp_buf a, b;
    pp_buf_init(&a, 0);
    pp_buf_init(&b, 0);
    for (int t = 0; t < slow_doc.ntok; t++) {
        const struct pp_json_tok *k = &slow_doc.tok[t];
        if (k->type != PP_JSON_STRING)
            continue;
        diff_strings++;
        pp_buf_reset(&a);
        pp_buf_reset(&b);
        int ra = pp_json_str(&slow_doc, t, &a);
        int rb = pp_clean_str_decode(&b, js + k->start, js + k->end);
        int rc = pp_clean_str_check(js + k->start, js + k->end);
        if (ra != rb || ra != rc ||
            (ra == 0 && (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len))))) {
            if (diff_mismatch++ < 5)
                fprintf(stderr, "string decode differs (%d/%d/%d) on: %.*s\n", ra, rb, rc,
                        k->end - k->start, js + k->start);
        }
    }
    pp_buf_free(&a);
    pp_buf_free(&b);
}

static void test_fast_paths(void)
{
    static const char alphabet[] = "\"\\{}[]:, 0-.eEu1x\xff\xc3\xa9\xe2\x80\xa6\n\tbntr/fDd8";
    char seeds[6][1024];
    snprintf(seeds[0], sizeof(seeds[0]), "%s", rec(PP_KIND_PIN, NULL, NULL));
    snprintf(seeds[1], sizeof(seeds[1]), "%s",
             rec(PP_KIND_GEO, "country", "\"C\\u00f4te \\\"d\\\\\\ud83d\\ude00 \xe2\x80\xa6\""));
    snprintf(seeds[2], sizeof(seeds[2]), "%s", rec(PP_KIND_USER, "age", "-1.5e+3"));
    snprintf(seeds[3], sizeof(seeds[3]),
             " {\"a\": true, \"b\":false ,\"c\" :null,\"d\":0,\"e\":-0.0E1} \n");
    snprintf(seeds[4], sizeof(seeds[4]), "{}");
    snprintf(seeds[5], sizeof(seeds[5]),
             "{\"x\":{\"y\":[1,\"\\u12\"]},\"z\":\"\\/\\b\\f\\n\\r\\t\"}");
    pp_json_init(&fast_doc);
    pp_json_init(&slow_doc);
    char buf[1100];
    for (int i = 0; i < 6; i++)
        diff_one(seeds[i], strlen(seeds[i]));
    for (int iter = 0; iter < 60000; iter++) {
        const char *seed = seeds[rnd() % 6];
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        int nmut = 1 + (int)(rnd() % 3);
        for (int m = 0; m < nmut && len > 0; m++) {
            size_t at = rnd() % len;
            char c = rnd() % 4 ? alphabet[rnd() % (sizeof(alphabet) - 1)] : (char)rnd();
            switch (rnd() % 4) {
            case 0:
                buf[at] = c;
                break;
            case 1:
                memmove(buf + at, buf + at + 1, len - at - 1), len--;
                break;
            case 2:
                if (len < sizeof(buf) - 1) {
                    memmove(buf + at + 1, buf + at, len - at), buf[at] = c, len++;
                }
                break;
            default:
                len = at;
                break;
            }
        }
        diff_one(buf, len);
    }
    printf("differential: fast tokenizer accepted %ld documents, %ld strings compared\n",
           diff_fast_ok, diff_strings);
    PP_CHECK_INT(diff_mismatch, 0);
    PP_CHECK(diff_fast_ok > 1000);
    PP_CHECK(diff_strings > 10000);
    /* pp_clean_parse gives pp_json_parse's errors */
    char emsg[80] = "";
    PP_CHECK_INT(pp_clean_parse(&fast_doc, "{\"a\":1,}", 8, emsg, sizeof(emsg)), PP_EPARSE);
    PP_CHECK(emsg[0] != '\0');
    PP_CHECK_INT(pp_clean_parse(&fast_doc, "{\"a\":[1]}", 9, NULL, 0), 0);
    PP_CHECK_INT(fast_doc.ntok, 4);
    pp_json_free(&fast_doc);
    pp_json_free(&slow_doc);
}

/* Round trip and shortness of pp_clean_format_double on random doubles. */
static void test_format_double_random(void)
{
    long bad = 0;
    for (int i = 0; i < 20000; i++) {
        double d;
        if (i % 2) {
            uint64_t bits = rnd();
            memcpy(&d, &bits, sizeof(d));
            if (d != d || d - d != 0)
                continue;
        } else {
            static const double p10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
            d = (double)((int64_t)(rnd() % 4000000001ULL) - 2000000000) / p10[rnd() % 9];
        }
        char out[40], e[40];
        pp_clean_format_double(d, out, sizeof(out));
        /* significant digits: the mantissa's digits without leading and trailing zeros */
        char dig[40];
        int nd = 0;
        for (const char *p = out; *p && *p != 'e'; p++)
            if (*p >= '0' && *p <= '9' && (nd || *p != '0'))
                dig[nd++] = *p;
        while (nd > 0 && dig[nd - 1] == '0')
            nd--;
        int digits = nd;
        int shorter = 0;
        for (int p = 1; p < digits; p++) {
            snprintf(e, sizeof(e), "%.*e", p - 1, d);
            shorter |= strtod(e, NULL) == d;
        }
        if ((strtod(out, NULL) != d || shorter) && bad++ < 5)
            fprintf(stderr, "format_double %.17g -> %s\n", d, out);
    }
    PP_CHECK_INT(bad, 0);
}

/* ---- the real sample data in ../shared/data (skipped when absent) ---- */

static const char *shared_dir(char *buf, size_t size)
{
    const char *env = getenv("PP_SHARED");
    if (env && *env)
        return env;
    const char *f = __FILE__, *p = strstr(f, "tests/unit/test_clean.c");
    if (!p)
        return "../shared";
    snprintf(buf, size, "%.*s../shared", (int)(p - f), f);
    return buf;
}

static char *slurp(const char *dir, const char *name, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/data/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        PP_TEST_SKIP("data: %s absent", path);
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)sz + 1);
    *n = buf ? fread(buf, 1, (size_t)sz, fp) : 0;
    if (buf)
        buf[*n] = '\0';
    fclose(fp);
    return buf;
}

/* aicore_events.jsonl: every pin/geo/user record validates and cleans; NULLs per column. */
static void test_events(const char *dir)
{
    size_t n;
    char *buf = slurp(dir, "aicore_events.jsonl", &n);
    if (!buf)
        return;
    long nulls[PP_KIND_COUNT][PP_CLEAN_MAX_COLS] = {{0}}, lines = 0, bad = 0;
    struct pp_json doc;
    pp_json_init(&doc);
    for (char *line = buf, *end; line < buf + n; line = end + 1) {
        end = memchr(line, '\n', (size_t)(buf + n - line));
        if (!end)
            end = buf + n;
        if (end == line)
            continue;
        lines++;
        if (pp_json_parse(&doc, line, (size_t)(end - line), 0, NULL, 0)) {
            bad++;
            continue;
        }
        for (int k = 0; k < PP_KIND_COUNT; k++) {
            int obj = pp_json_get(&doc, 0, pp_kind_name((enum pp_kind)k));
            int64_t id = -1;
            size_t rn;
            const char *raw = obj > 0 ? pp_json_raw(&doc, obj, &rn) : NULL;
            if (!raw || pp_record_validate((enum pp_kind)k, &doc, obj, &id, &verr) ||
                pp_clean_record((enum pp_kind)k, raw, rn, &row, &verr) || row.id != id) {
                if (bad++ < 5)
                    fprintf(stderr, "line %ld %s: %s %s\n", lines, pp_kind_name((enum pp_kind)k),
                            verr.field, verr.msg);
                continue;
            }
            for (int c = 0; c < row.ncols; c++)
                nulls[k][c] += row.col[c].type == PP_VAL_NULL;
        }
    }
    pp_json_free(&doc);
    free(buf);
    PP_CHECK_INT(bad, 0);
    PP_CHECK(lines >= 2000);
    /* Columns with placeholders in the sample get some NULLs (well under 10%); the others
     * none. */
    static const char *some[] = {"title",          "description", "poster_name",
                                 "follower_count", "tag_list",    "image_src"};
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        int nc;
        const char *const *cols = pp_clean_columns((enum pp_kind)k, &nc);
        printf("data: aicore_events %s NULLs:", pp_kind_name((enum pp_kind)k));
        for (int c = 0; c < nc; c++) {
            int expect_some = 0;
            for (size_t s = 0; k == PP_KIND_PIN && s < NELEM(some); s++)
                expect_some |= !strcmp(cols[c], some[s]);
            printf(" %s=%ld", cols[c], nulls[k][c]);
            if (expect_some)
                PP_CHECK(nulls[k][c] > 0 && nulls[k][c] < lines / 10);
            else
                PP_CHECK_INT(nulls[k][c], 0);
        }
        printf(" (of %ld)\n", lines);
    }
}

/* The Kafka consumer dumps: one message on the user topic is a pin and one a geo record. */
static void test_consumer_dumps(const char *dir)
{
    static const char *files[] = {"regnixs_pin_consumer.json", "regnixs_geo_consumer.json",
                                  "regnixs_user_consumer.json"};
    static const long rejects[] = {0, 0, 2};
    struct pp_json doc;
    pp_json_init(&doc);
    for (size_t i = 0; i < NELEM(files); i++) {
        size_t n;
        char *buf = slurp(dir, files[i], &n);
        if (!buf)
            continue;
        long msgs = 0, rejected = 0;
        PP_CHECK_INT(pp_json_parse(&doc, buf, n, 0, NULL, 0), 0);
        for (int t = 1; doc.ntok && t < doc.ntok; t = pp_json_next(&doc, t)) {
            size_t tn;
            int topic = pp_json_get(&doc, t, "topic"), value = pp_json_get(&doc, t, "value");
            const char *name = pp_json_raw(&doc, topic, &tn);
            enum pp_kind kind = pp_kind_from_topic(name, tn);
            msgs++;
            PP_CHECK_INT(kind, (int)i);
            if (pp_record_validate(kind, &doc, value, NULL, &verr)) {
                rejected++;
                continue;
            }
            const char *raw = pp_json_raw(&doc, value, &tn);
            PP_CHECK_INT(pp_clean_record(kind, raw, tn, &row, &verr), 0);
        }
        printf("data: %s messages=%ld rejected=%ld\n", files[i], msgs, rejected);
        PP_CHECK(msgs > 0);
        PP_CHECK_INT(rejected, rejects[i]);
        free(buf);
    }
    pp_json_free(&doc);
}

/* The 2022 11-column pin table (no poster_name), 200 objects with no separator. */
static void test_pin_2022(const char *dir)
{
    size_t n;
    char *buf = slurp(dir, "pascallipookim_pinterest_data_2022.json", &n);
    if (!buf)
        return;
    long objs = 0, ok = 0, fc_null = 0;
    int depth = 0, in_str = 0, esc = 0;
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = buf[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (ch == '\\')
                esc = 1;
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == '{' && depth++ == 0) {
            start = i;
        } else if (ch == '}' && --depth == 0) {
            objs++;
            if (pp_clean_record(PP_KIND_PIN, buf + start, i + 1 - start, &row, &verr) == 0 &&
                row.col[5].type == PP_VAL_NULL && row.col[11].type == PP_VAL_TEXT)
                ok++;
            fc_null += row.col[4].type == PP_VAL_NULL;
        }
    }
    printf("data: 2022 pin table objects=%ld cleaned=%ld follower_count NULLs=%ld\n", objs, ok,
           fc_null);
    PP_CHECK_INT(objs, 200);
    PP_CHECK_INT(ok, objs);
    PP_CHECK(fc_null > 0 && fc_null < 20);
    free(buf);
}

static void test_data(void)
{
    char buf[1024];
    const char *dir = shared_dir(buf, sizeof(buf));
    test_events(dir);
    test_consumer_dumps(dir);
    test_pin_2022(dir);
}

int main(void)
{
    pp_row_init(&row);
    test_columns();
    test_clean_pin();
    test_placeholders();
    test_blank();
    test_json_null();
    test_follower_count();
    test_save_location();
    test_format_double();
    test_coordinates();
    test_datetimes();
    test_user();
    test_missing();
    test_wrong_types();
    test_not_object();
    test_bad_strings();
    test_extra_fields();
    test_row_reuse();
    test_fast_paths();
    test_format_double_random();
    test_data();
    pp_row_free(&row);
    pp_row_free(&row); /* free twice is safe */
    PP_TEST_DONE();
}
