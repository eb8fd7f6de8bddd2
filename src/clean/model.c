/* model.c: the data model's source fields and output columns, and record validation. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clean_int.h"
#include "pp_err.h"
#include "pp_util.h"

/* Placeholders per column (PRODUCT.md "Cleaning rules"). */
static const char *const ph_title[] = {"No Title Data Available", NULL};
static const char *const ph_description[] = {"No description available Story format",
                                             "No description available", "Untitled", NULL};
static const char *const ph_user_info[] = {"User Info Error", NULL};
static const char *const ph_tag_list[] = {"N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e", NULL};
static const char *const ph_image_src[] = {"Image src error.", NULL};

/* One field per line reads as the data model. */
// clang-format off
#define FIELD(n, t, opt, ph) {n, sizeof(n) - 1, t, opt, ph}

static const struct clean_field pin_fields[] = {
    FIELD("index", FT_ID, 0, NULL),
    FIELD("unique_id", FT_STR, 0, NULL),
    FIELD("title", FT_STR, 0, ph_title),
    FIELD("description", FT_STR, 0, ph_description),
    FIELD("poster_name", FT_STR, 1, ph_user_info), /* absent in the 2022 11-column table */
    FIELD("follower_count", FT_STR_OR_INT, 0, ph_user_info),
    FIELD("tag_list", FT_STR, 0, ph_tag_list),
    FIELD("is_image_or_video", FT_STR, 0, NULL),
    FIELD("image_src", FT_STR, 0, ph_image_src),
    FIELD("downloaded", FT_INT, 0, NULL),
    FIELD("save_location", FT_STR, 0, NULL),
    FIELD("category", FT_STR, 0, NULL),
};
static const struct clean_field geo_fields[] = {
    FIELD("ind", FT_ID, 0, NULL),
    FIELD("timestamp", FT_DATETIME, 0, NULL),
    FIELD("latitude", FT_FLOAT, 0, NULL),
    FIELD("longitude", FT_FLOAT, 0, NULL),
    FIELD("country", FT_STR, 0, NULL),
};
static const struct clean_field user_fields[] = {
    FIELD("ind", FT_ID, 0, NULL),
    FIELD("first_name", FT_STR, 0, NULL),
    FIELD("last_name", FT_STR, 0, NULL),
    FIELD("age", FT_INT, 0, NULL),
    FIELD("date_joined", FT_DATETIME, 0, NULL),
};

// clang-format on

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const struct clean_spec specs[PP_KIND_COUNT] = {
    {pin_fields, NELEM(pin_fields)},
    {geo_fields, NELEM(geo_fields)},
    {user_fields, NELEM(user_fields)},
};

static const char *const pin_cols[] = {
    "ind",      "unique_id",         "title",     "description", "follower_count", "poster_name",
    "tag_list", "is_image_or_video", "image_src", "downloaded",  "save_location",  "category"};
static const char *const geo_cols[] = {"ind", "country", "coordinates", "timestamp"};
static const char *const user_cols[] = {"ind", "user_name", "age", "date_joined"};

const char *const *pp_clean_columns(enum pp_kind kind, int *ncols)
{
    switch (kind) {
    case PP_KIND_PIN:
        *ncols = NELEM(pin_cols);
        return pin_cols;
    case PP_KIND_GEO:
        *ncols = NELEM(geo_cols);
        return geo_cols;
    case PP_KIND_USER:
        *ncols = NELEM(user_cols);
        return user_cols;
    default:
        *ncols = 0;
        return NULL;
    }
}

const struct clean_spec *pp_clean_spec(enum pp_kind kind)
{
    return kind >= 0 && kind < PP_KIND_COUNT ? &specs[kind] : NULL;
}

void pp_clean_set_err(struct pp_verr *err, const char *field, const char *msg, const char *type)
{
    if (!err)
        return;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    snprintf(err->msg, sizeof(err->msg), "%s", msg ? msg : "");
    snprintf(err->type, sizeof(err->type), "%s", type ? type : "");
}

/* Which field of spec does key token k name? Tries the expected (source order) slot first. */
static int field_of_key(const struct clean_spec *spec, const struct pp_json *doc, int k, int guess,
                        uint64_t plain)
{
    const struct pp_json_tok *t = &doc->tok[k];
    const char *p = doc->js + t->start;
    size_t n = (size_t)(t->end - t->start);
    bool is_plain = k < 64 && (plain >> k & 1);
    if (!is_plain && memchr(p, '\\', n)) { /* an escaped key: rare, compare decoded */
        for (int f = 0; f < spec->nf; f++)
            if (pp_json_str_eq(doc, k, spec->f[f].name))
                return f;
        return -1;
    }
    if (guess < spec->nf && spec->f[guess].len == n && !memcmp(spec->f[guess].name, p, n))
        return guess;
    for (int f = 0; f < spec->nf; f++)
        if (spec->f[f].len == n && !memcmp(spec->f[f].name, p, n))
            return f;
    return -1;
}

/* The text of a short string token (ints, floats, datetimes given as strings) into tmp,
 * NUL-terminated. @returns 0 or PP_EINVAL (too long or undecodable). */
static int short_text(const struct pp_json *doc, int t, char *tmp, size_t size, size_t *n)
{
    size_t len;
    const char *raw = pp_json_raw(doc, t, &len);
    if (!memchr(raw, '\\', len)) {
        if (len >= size)
            return PP_EINVAL;
        memcpy(tmp, raw, len);
        tmp[len] = '\0';
        *n = len;
        return 0;
    }
    struct pp_buf b;
    pp_buf_init(&b, size - 1);
    int rc = pp_json_str(doc, t, &b);
    if (rc == 0) {
        memcpy(tmp, b.data, b.len + 1);
        *n = b.len;
    }
    pp_buf_free(&b);
    return rc ? PP_EINVAL : 0;
}

/* "[+-]digits" within int64. */
static int parse_int_text(const char *s, size_t n, int64_t *v)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == n)
        return PP_EINVAL;
    uint64_t x = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return PP_EINVAL;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (lim - d) / 10)
            return PP_EINVAL;
        x = x * 10 + d;
    }
    *v = neg ? (int64_t)(0 - x) : (int64_t)x;
    return 0;
}

static int check_int(const struct pp_json *doc, int t, int64_t *v)
{
    const struct pp_json_tok *tok = &doc->tok[t];
    if (tok->type == PP_JSON_NUMBER) /* grammar checked: fractions and exponents fail here */
        return parse_int_text(doc->js + tok->start, (size_t)(tok->end - tok->start), v);
    if (tok->type != PP_JSON_STRING)
        return PP_EINVAL;
    char tmp[32];
    size_t n;
    return short_text(doc, t, tmp, sizeof(tmp), &n) || parse_int_text(tmp, n, v) ? PP_EINVAL : 0;
}

static int check_float(const struct pp_json *doc, int t, double *v)
{
    const struct pp_json_tok *tok = &doc->tok[t];
    if (tok->type == PP_JSON_NUMBER)
        return pp_json_num(doc, t, v);
    if (tok->type != PP_JSON_STRING)
        return PP_EINVAL;
    char tmp[64], *end;
    size_t n;
    if (short_text(doc, t, tmp, sizeof(tmp), &n) || n == 0 || strspn(tmp, "0123456789+-.eE") != n)
        return PP_EINVAL;
    *v = strtod(tmp, &end);
    return end == tmp + n && isfinite(*v) ? 0 : PP_EINVAL;
}

/* Python's datetime range, once in UTC: 0001-01-01 00:00:00 .. 9999-12-31 23:59:59.999999. */
#define MIN_US (-62135596800LL * 1000000)
#define MAX_US (253402300800LL * 1000000 - 1)

static int check_datetime(const struct pp_json *doc, int t, int64_t *us)
{
    if (doc->tok[t].type != PP_JSON_STRING)
        return PP_EINVAL;
    char tmp[64];
    size_t n;
    if (short_text(doc, t, tmp, sizeof(tmp), &n) || pp_time_parse(tmp, n, us))
        return PP_EINVAL;
    return *us >= MIN_US && *us <= MAX_US ? 0 : PP_EINVAL;
}

/* Check the value token t of field f; fill vals. */
static int check_field(const struct clean_field *f, const struct pp_json *doc, int t, int k,
                       struct clean_vals *vals, struct pp_verr *err, bool check_strings)
{
    const struct pp_json_tok *tok = &doc->tok[t];
    if (tok->type == PP_JSON_NULL) {
        if (f->type == FT_ID) {
            pp_clean_set_err(err, f->name, "none is not an allowed value",
                             "type_error.none.not_allowed");
            return PP_EINVAL;
        }
        vals->tok[k] = -1;
        return 0;
    }
    vals->tok[k] = t;
    switch (f->type) {
    case FT_ID:
    case FT_INT:
        if (check_int(doc, t, &vals->i[k]) == 0)
            return 0;
        pp_clean_set_err(err, f->name, "value is not a valid integer", "type_error.integer");
        return PP_EINVAL;
    case FT_FLOAT:
        if (check_float(doc, t, &vals->d[k]) == 0)
            return 0;
        pp_clean_set_err(err, f->name, "value is not a valid float", "type_error.float");
        return PP_EINVAL;
    case FT_DATETIME:
        if (check_datetime(doc, t, &vals->i[k]) == 0)
            return 0;
        pp_clean_set_err(err, f->name, "invalid datetime format", "value_error.datetime");
        return PP_EINVAL;
    case FT_STR_OR_INT:
        if (tok->type == PP_JSON_NUMBER && check_int(doc, t, &vals->i[k]) == 0)
            return 0;
        /* fall through */
    default:
        if (tok->type != PP_JSON_STRING) {
            pp_clean_set_err(err, f->name, "str type expected", "type_error.str");
            return PP_EINVAL;
        }
        if (check_strings && pp_clean_str_check(doc->js + tok->start, doc->js + tok->end)) {
            pp_clean_set_err(err, f->name, "invalid string (bad escape or UTF-8)",
                             "value_error.jsondecode");
            return PP_EPARSE;
        }
        return 0;
    }
}

int pp_clean_check(enum pp_kind kind, const struct pp_json *doc, int obj, struct clean_vals *vals,
                   struct pp_verr *err, bool check_strings, uint64_t plain)
{
    const struct clean_spec *spec = pp_clean_spec(kind);
    if (!spec) {
        pp_clean_set_err(err, "", "unknown record kind", "value_error");
        return PP_EINVAL;
    }
    if (obj < 0 || obj >= doc->ntok || doc->tok[obj].type != PP_JSON_OBJECT) {
        pp_clean_set_err(err, "", "value is not a valid dict", "type_error.dict");
        return PP_EINVAL;
    }
    int found[PP_CLEAN_MAX_COLS];
    for (int f = 0; f < spec->nf; f++)
        found[f] = -1;
    int i = obj + 1;
    for (int k = 0; k < doc->tok[obj].size; k++) {
        int f = field_of_key(spec, doc, i, k, plain);
        if (f >= 0)
            found[f] = i + 1;
        int vt = doc->tok[i + 1].type;
        i = vt == PP_JSON_OBJECT || vt == PP_JSON_ARRAY ? pp_json_next(doc, i + 1) : i + 2;
    }
    for (int f = 0; f < spec->nf; f++) {
        if (found[f] < 0) {
            if (!spec->f[f].optional) {
                pp_clean_set_err(err, spec->f[f].name, "field required", "value_error.missing");
                return PP_EINVAL;
            }
            vals->tok[f] = -1;
            continue;
        }
        int rc = check_field(&spec->f[f], doc, found[f], f, vals, err, check_strings);
        if (rc)
            return rc;
    }
    return 0;
}

int pp_record_validate(enum pp_kind kind, const struct pp_json *doc, int obj, int64_t *id,
                       struct pp_verr *err)
{
    struct clean_vals vals;
    int rc = pp_clean_check(kind, doc, obj, &vals, err, true, 0);
    if (rc == 0 && id)
        *id = vals.i[0];
    return rc;
}
