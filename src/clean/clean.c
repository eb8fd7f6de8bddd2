/* clean.c: one source record -> one cleaned warehouse row (PRODUCT.md "Cleaning rules"). */
#include <string.h>

#include "clean_int.h"
#include "pp_err.h"

/* How an output column is made from the source fields a (and b). */
enum rule {
    R_ID,
    R_TEXT,
    R_FOLLOWERS,
    R_INT,
    R_SAVE_LOCATION,
    R_COORDINATES,
    R_TIMESTAMP,
    R_USER_NAME
};

struct outcol {
    unsigned char rule, a, b;
};

/* Output columns in pp_clean_columns() order; a and b index the source fields (model.c). */
static const struct outcol pin_out[] = {
    {R_ID, 0, 0},        {R_TEXT, 1, 0}, {R_TEXT, 2, 0},           {R_TEXT, 3, 0},
    {R_FOLLOWERS, 5, 0}, {R_TEXT, 4, 0}, {R_TEXT, 6, 0},           {R_TEXT, 7, 0},
    {R_TEXT, 8, 0},      {R_INT, 9, 0},  {R_SAVE_LOCATION, 10, 0}, {R_TEXT, 11, 0},
};
static const struct outcol geo_out[] = {
    {R_ID, 0, 0}, {R_TEXT, 4, 0}, {R_COORDINATES, 2, 3}, {R_TIMESTAMP, 1, 0}};
static const struct outcol user_out[] = {
    {R_ID, 0, 0}, {R_USER_NAME, 1, 2}, {R_INT, 3, 0}, {R_TIMESTAMP, 4, 0}};

static const struct outcol *const outs[PP_KIND_COUNT] = {pin_out, geo_out, user_out};

#define SAVE_PREFIX "Local save in "
#define SAVE_PREFIX_LEN (sizeof(SAVE_PREFIX) - 1)

struct ctx {
    struct pp_row *row;
    const struct pp_json *doc;
    const struct clean_spec *spec;
    const struct clean_vals *vals;
    struct pp_verr *err;
    uint64_t plain; /* string tokens whose raw bytes are their value (pp_clean_scan_flat) */
    size_t off[PP_CLEAN_MAX_COLS]; /* TEXT columns' arena offsets until the arena stops moving */
};

void pp_row_init(struct pp_row *row)
{
    memset(row, 0, sizeof(*row));
    row->kind = PP_KIND_NONE;
    pp_buf_init(&row->arena, 0);
    pp_json_init(&row->doc);
}

void pp_row_free(struct pp_row *row)
{
    if (!row)
        return;
    pp_buf_free(&row->arena);
    pp_json_free(&row->doc);
    row->ncols = 0;
}

/* Decode source field f's string into the arena at its end; *start gets the offset. */
static int decode(struct ctx *c, int f, size_t *start)
{
    *start = c->row->arena.len;
    int t = c->vals->tok[f];
    const struct pp_json_tok *tok = &c->doc->tok[t];
    const char *s = c->doc->js + tok->start, *e = c->doc->js + tok->end;
    int rc = t < 64 && (c->plain >> t & 1) ? pp_buf_append(&c->row->arena, s, (size_t)(e - s))
                                           : pp_clean_str_decode(&c->row->arena, s, e);
    if (rc == PP_EPARSE)
        pp_clean_set_err(c->err, c->spec->f[f].name, "invalid string (bad escape or UTF-8)",
                         "value_error.jsondecode");
    else if (rc)
        pp_clean_set_err(c->err, c->spec->f[f].name, "record too large", "value_error");
    return rc;
}

/* Keep arena[start..len) as column col's TEXT value, NUL-terminated. */
static int keep_text(struct ctx *c, int col, size_t start)
{
    struct pp_val *v = &c->row->col[col];
    v->type = PP_VAL_TEXT;
    v->n = c->row->arena.len - start;
    c->off[col] = start;
    return pp_buf_putc(&c->row->arena, '\0');
}

static void drop_text(struct ctx *c, int col, size_t start)
{
    c->row->arena.len = start;
    c->row->arena.data[start] = '\0';
    c->row->nulled |= 1u << col;
}

static int col_text(struct ctx *c, int col, int f, bool save_location)
{
    if (c->vals->tok[f] < 0)
        return 0;
    size_t start;
    int rc = decode(c, f, &start);
    if (rc)
        return rc;
    char *s = c->row->arena.data + start;
    size_t n = c->row->arena.len - start;
    if (save_location && n >= SAVE_PREFIX_LEN && !memcmp(s, SAVE_PREFIX, SAVE_PREFIX_LEN)) {
        memmove(s, s + SAVE_PREFIX_LEN, n - SAVE_PREFIX_LEN);
        n -= SAVE_PREFIX_LEN;
        c->row->arena.len = start + n;
    }
    if (pp_clean_is_null_text(&c->spec->f[f], s, n)) {
        drop_text(c, col, start);
        return 0;
    }
    return keep_text(c, col, start);
}

static int col_followers(struct ctx *c, int col, int f)
{
    int t = c->vals->tok[f];
    if (t < 0)
        return 0;
    size_t start = c->row->arena.len, n;
    const char *s;
    if (c->doc->tok[t].type == PP_JSON_NUMBER) { /* a JSON integer: its text */
        s = pp_json_raw(c->doc, t, &n);
    } else {
        int rc = decode(c, f, &start);
        if (rc)
            return rc;
        s = c->row->arena.data + start;
        n = c->row->arena.len - start;
    }
    struct pp_val *v = &c->row->col[col];
    if (pp_clean_follower_count(s, n, &v->i) == 0)
        v->type = PP_VAL_INT;
    else
        c->row->nulled |= 1u << col;
    c->row->arena.len = start;
    c->row->arena.data[start] = '\0';
    return 0;
}

static int col_coordinates(struct ctx *c, int col, int fa, int fb)
{
    if (c->vals->tok[fa] < 0 || c->vals->tok[fb] < 0)
        return 0;
    char s[80];
    size_t n = 0;
    s[n++] = '[';
    n += pp_clean_format_double(c->vals->d[fa], s + n, sizeof(s) - n);
    s[n++] = ',', s[n++] = ' ';
    n += pp_clean_format_double(c->vals->d[fb], s + n, sizeof(s) - n);
    s[n++] = ']';
    size_t start = c->row->arena.len;
    int rc = pp_buf_append(&c->row->arena, s, n);
    return rc ? rc : keep_text(c, col, start);
}

static int col_timestamp(struct ctx *c, int col, int f)
{
    if (c->vals->tok[f] < 0)
        return 0;
    char s[24];
    size_t n = pp_clean_format_ts(c->vals->i[f], s, sizeof(s));
    size_t start = c->row->arena.len;
    int rc = pp_buf_append(&c->row->arena, s, n);
    return rc ? rc : keep_text(c, col, start);
}

/* first_name + " " + last_name; NULL when either is NULL after the rules (SQL concat).
 * Both are decoded even then, so a bad string is rejected whatever its neighbour holds. */
static int col_user_name(struct ctx *c, int col, int fa, int fb)
{
    int ta = c->vals->tok[fa], tb = c->vals->tok[fb];
    size_t start = c->row->arena.len, a = start, b = start, na = 0, nb = 0;
    int rc = 0;
    if (ta >= 0 && (rc = decode(c, fa, &a)) == 0) {
        na = c->row->arena.len - a;
        rc = pp_buf_putc(&c->row->arena, ' ');
    }
    if (rc == 0 && tb >= 0 && (rc = decode(c, fb, &b)) == 0)
        nb = c->row->arena.len - b;
    if (rc)
        return rc;
    const char *base = c->row->arena.data;
    bool null_a = ta < 0 || pp_clean_is_null_text(&c->spec->f[fa], base + a, na);
    bool null_b = tb < 0 || pp_clean_is_null_text(&c->spec->f[fb], base + b, nb);
    if (!null_a && !null_b)
        return keep_text(c, col, start);
    drop_text(c, col, start);
    if (!((ta >= 0 && null_a) || (tb >= 0 && null_b)))
        c->row->nulled &= ~(1u << col); /* NULL in, NULL out: no rule fired */
    return 0;
}

static int emit(struct ctx *c, const struct outcol *oc, int col)
{
    struct pp_val *v = &c->row->col[col];
    switch (oc->rule) {
    case R_ID:
        v->type = PP_VAL_INT;
        v->i = c->row->id = c->vals->i[oc->a];
        return 0;
    case R_INT:
        if (c->vals->tok[oc->a] >= 0) {
            v->type = PP_VAL_INT;
            v->i = c->vals->i[oc->a];
        }
        return 0;
    case R_TEXT:
        return col_text(c, col, oc->a, false);
    case R_SAVE_LOCATION:
        return col_text(c, col, oc->a, true);
    case R_FOLLOWERS:
        return col_followers(c, col, oc->a);
    case R_COORDINATES:
        return col_coordinates(c, col, oc->a, oc->b);
    case R_TIMESTAMP:
        return col_timestamp(c, col, oc->a);
    case R_USER_NAME:
        return col_user_name(c, col, oc->a, oc->b);
    default:
        return PP_EINVAL;
    }
}

int pp_clean_record(enum pp_kind kind, const char *json, size_t len, struct pp_row *row,
                    struct pp_verr *err)
{
    struct clean_vals vals;
    struct ctx c = {
        .row = row, .doc = &row->doc, .spec = pp_clean_spec(kind), .vals = &vals, .err = err};
    row->kind = kind;
    row->ncols = 0;
    row->nulled = 0;
    pp_buf_reset(&row->arena);
    if (!c.spec) {
        pp_clean_set_err(err, "", "unknown record kind", "value_error");
        return PP_EINVAL;
    }
    char emsg[96];
    int rc = 0;
    if (pp_clean_scan_flat(&row->doc, json, len, &c.plain))
        rc = pp_json_parse(&row->doc, json, len, 0, emsg, sizeof(emsg));
    if (rc) {
        pp_clean_set_err(err, "", emsg, "value_error.jsondecode");
        return rc;
    }
    if ((rc = pp_clean_check(kind, &row->doc, 0, &vals, err, false, c.plain)))
        return rc;
    /* Decoded text is never longer than its JSON; the fixed columns need < 128 bytes. */
    if ((rc = pp_buf_reserve(&row->arena, len + 128))) {
        pp_clean_set_err(err, "", "record too large", "value_error");
        return rc;
    }
    int ncols;
    pp_clean_columns(kind, &ncols);
    for (int col = 0; col < ncols; col++)
        row->col[col].type = PP_VAL_NULL;
    for (int col = 0; col < ncols; col++)
        if ((rc = emit(&c, &outs[kind][col], col)))
            return rc;
    for (int col = 0; col < ncols; col++)
        if (row->col[col].type == PP_VAL_TEXT)
            row->col[col].s = row->arena.data + c.off[col];
    row->ncols = ncols;
    return 0;
}
