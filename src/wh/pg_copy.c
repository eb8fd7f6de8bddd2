/* pg_copy.c: the PostgreSQL warehouse's rows: value conversion, COPY into TEMP staging tables
 * merged into pin/geo/user at commit (stream), per-row upserts with a status (batch). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp_err.h"
#include "wh_pg.h"

/* Same names and order as pp_clean_columns() / pp_wh_column(); test_wh checks it. */
static const struct wh_pg_col pin_cols[] = {
    {"ind", "bigint PRIMARY KEY", WH_PG_INT},
    {"unique_id", "text", WH_PG_TEXT},
    {"title", "text", WH_PG_TEXT},
    {"description", "text", WH_PG_TEXT},
    {"follower_count", "bigint", WH_PG_INT},
    {"poster_name", "text", WH_PG_TEXT},
    {"tag_list", "text", WH_PG_TEXT},
    {"is_image_or_video", "text", WH_PG_TEXT},
    {"image_src", "text", WH_PG_TEXT},
    {"downloaded", "bigint", WH_PG_INT},
    {"save_location", "text", WH_PG_TEXT},
    {"category", "text", WH_PG_TEXT},
};
static const struct wh_pg_col geo_cols[] = {
    {"ind", "bigint PRIMARY KEY", WH_PG_INT},
    {"country", "text", WH_PG_TEXT},
    {"coordinates", "double precision[]", WH_PG_COORDS},
    {"timestamp", "timestamptz", WH_PG_TS},
};
static const struct wh_pg_col user_cols[] = {
    {"ind", "bigint PRIMARY KEY", WH_PG_INT},
    {"user_name", "text", WH_PG_TEXT},
    {"age", "bigint", WH_PG_INT},
    {"date_joined", "timestamptz", WH_PG_TS},
};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
static const struct wh_pg_table tables[PP_KIND_COUNT] = {
    {"\"pin\"", pin_cols, N(pin_cols)},
    {"\"geo\"", geo_cols, N(geo_cols)},
    {"\"user\"", user_cols, N(user_cols)},
};
static const char *const stage[PP_KIND_COUNT] = {"pp_stage_pin", "pp_stage_geo", "pp_stage_user"};

const struct wh_pg_table *wh_pg_table(enum pp_kind kind)
{
    return &tables[kind];
}

/* "[lat, lon]" -> "{lat,lon}" (each number kept as written: the digits round-trip). */
static int coords(const char *s, size_t n, struct pp_buf *out)
{
    if (n < 2 || s[0] != '[' || s[n - 1] != ']')
        return PP_EINVAL;
    const char *p = s + 1, *end = s + n - 1;
    int nums = 0, rc = pp_buf_putc(out, '{');
    while (!rc && p < end) {
        while (p < end && *p == ' ')
            p++;
        const char *q = p;
        while (q < end && strchr("0123456789.eE+-", *q) && *q)
            q++;
        if (q == p)
            return PP_EINVAL;
        rc = nums ? pp_buf_putc(out, ',') : 0;
        rc = rc ? rc : pp_buf_append(out, p, (size_t)(q - p));
        nums++;
        while (q < end && *q == ' ')
            q++;
        if (q < end && *q != ',')
            return PP_EINVAL;
        p = q < end ? q + 1 : q;
    }
    if (rc)
        return rc;
    return nums == 2 ? pp_buf_putc(out, '}') : PP_EINVAL;
}

/* Append text without its NUL bytes (PostgreSQL text cannot hold them). @returns 0, PP_ENOMEM. */
static int append_text(struct pp_buf *out, const char *s, size_t n)
{
    int rc = 0;
    for (const char *p = s, *end = s + n; !rc && p < end;) {
        const char *z = memchr(p, '\0', (size_t)(end - p));
        size_t len = z ? (size_t)(z - p) : (size_t)(end - p);
        rc = pp_buf_append(out, p, len);
        p += len + (z != NULL);
    }
    return rc;
}

int wh_pg_value(const struct wh_pg_col *c, const struct pp_val *v, struct pp_buf *out)
{
    char num[40];
    switch (v->type) {
    case PP_VAL_NULL:
        return 1;
    case PP_VAL_INT:
        if (c->conv != WH_PG_INT && c->conv != WH_PG_TEXT)
            return PP_EINVAL;
        snprintf(num, sizeof(num), "%" PRId64, v->i);
        return pp_buf_puts(out, num);
    case PP_VAL_REAL:
        if (c->conv != WH_PG_TEXT)
            return PP_EINVAL;
        snprintf(num, sizeof(num), "%.17g", v->d);
        return pp_buf_puts(out, num);
    case PP_VAL_TEXT:
        break;
    default:
        return PP_EINVAL;
    }
    if (!v->s)
        return 1;
    if (c->conv == WH_PG_COORDS)
        return coords(v->s, v->n, out);
    size_t start = out->len;
    int rc = append_text(out, v->s, v->n);
    if (rc)
        return rc;
    if (out->len == start)
        return 1;
    if (c->conv == WH_PG_TS) /* UTC, whatever the session's TimeZone */
        return pp_buf_puts(out, "+00");
    return 0;
}

int wh_pg_copy_escape(struct pp_buf *out, const char *s, size_t n)
{
    size_t from = 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        char e;
        switch (s[i]) {
        case '\\':
            e = '\\';
            break;
        case '\n':
            e = 'n';
            break;
        case '\r':
            e = 'r';
            break;
        case '\t':
            e = 't';
            break;
        default:
            continue;
        }
        char esc[2] = {'\\', e};
        rc = pp_buf_append(out, s + from, i - from);
        rc = rc ? rc : pp_buf_append(out, esc, 2);
        from = i + 1;
    }
    return rc ? rc : pp_buf_append(out, s + from, n - from);
}

/* A text value as a COPY field in one pass (the hot path of wh_pg_copy_row, same result as
 * wh_pg_value + wh_pg_copy_escape): NULs dropped, backslash, newline, carriage return and
 * tab escaped. @returns 0, 1 (nothing left: NULL, out unchanged) or PP_ENOMEM. */
static int copy_text(struct pp_buf *out, const char *s, size_t n)
{
    static const char esc[256] = {[0] = 1, ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
    if (n > SIZE_MAX / 2 || pp_buf_reserve(out, 2 * n))
        return PP_ENOMEM;
    char *d = out->data + out->len, *d0 = d;
    for (size_t i = 0; i < n; i++) {
        char e = esc[(unsigned char)s[i]];
        if (!e) {
            *d++ = s[i];
        } else if (e != 1) {
            *d++ = '\\';
            *d++ = e;
        }
    }
    if (d == d0)
        return 1;
    out->len += (size_t)(d - d0);
    out->data[out->len] = '\0';
    return 0;
}

int wh_pg_copy_row(struct pp_buf *out, const struct pp_row *row, struct pp_buf *scratch)
{
    const struct wh_pg_table *t = &tables[row->kind];
    int rc = pp_buf_put_i64(out, row->id);
    for (int i = 1; !rc && i < t->ncols; i++) {
        const struct pp_val *val = &row->col[i];
        if (t->cols[i].conv == WH_PG_TEXT && val->type == PP_VAL_TEXT && val->s) {
            rc = pp_buf_putc(out, '\t');
            int r = rc ? rc : copy_text(out, val->s, val->n);
            rc = r == 1 ? pp_buf_append(out, "\\N", 2) : r;
            continue;
        }
        pp_buf_reset(scratch);
        int v = wh_pg_value(&t->cols[i], &row->col[i], scratch);
        if (v < 0)
            return v;
        rc = pp_buf_putc(out, '\t');
        rc = rc       ? rc
             : v == 1 ? pp_buf_append(out, "\\N", 2)
                      : wh_pg_copy_escape(out, scratch->data, scratch->len);
    }
    return rc ? rc : pp_buf_putc(out, '\n');
}

/* Binary COPY: big-endian integers, a field as its int32 length (-1: NULL) and bytes. */
static int put_be(struct pp_buf *out, uint64_t v, int bytes)
{
    unsigned char b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    return pp_buf_append(out, b, (size_t)bytes);
}

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (H. Hinnant's days_from_civil). */
static int64_t days_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD HH:MM:SS" (UTC, as pp_clean gives it) -> microseconds since 2000-01-01 UTC,
 * PostgreSQL's timestamptz. @returns 0 or PP_EINVAL. */
static int ts_binary(const char *s, size_t n, int64_t *us)
{
    static const char shape[] = "dddd-dd-dd dd:dd:dd";
    int64_t f[6] = {0};
    if (n != sizeof(shape) - 1)
        return PP_EINVAL;
    for (size_t i = 0, k = 0; i < n; i++) {
        if (shape[i] != 'd') {
            if (s[i] != shape[i])
                return PP_EINVAL;
            k++;
        } else if (s[i] < '0' || s[i] > '9') {
            return PP_EINVAL;
        } else {
            f[k] = f[k] * 10 + (s[i] - '0');
        }
    }
    if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60)
        return PP_EINVAL;
    int64_t days = days_civil(f[0], f[1], f[2]) - 10957; /* 2000-01-01 */
    *us = ((days * 24 + f[3]) * 60 + f[4]) * 60000000 + f[5] * 1000000;
    return 0;
}

/* A value as one binary COPY field (the length first). */
static int bin_field(struct pp_buf *out, const struct wh_pg_col *c, const struct pp_val *v,
                     struct pp_buf *scratch)
{
    if (v->type == PP_VAL_INT && c->conv == WH_PG_INT)
        return put_be(out, 8, 4) ? PP_ENOMEM : put_be(out, (uint64_t)v->i, 8);
    size_t at = out->len;
    if (v->type == PP_VAL_TEXT && v->s && c->conv == WH_PG_TEXT) { /* the common case */
        int rc = put_be(out, 0, 4);
        rc = rc ? rc : append_text(out, v->s, v->n);
        if (rc)
            return rc;
        size_t len = out->len - at - 4;
        if (!len) { /* nothing left: NULL, as every empty text */
            out->len = at;
            return put_be(out, UINT32_MAX, 4);
        }
        for (int b = 0; b < 4; b++) /* the length, in place (an append would NUL-terminate) */
            out->data[at + (size_t)b] = (char)(unsigned char)(len >> (8 * (3 - b)));
        return rc;
    }
    pp_buf_reset(scratch);
    int rc = wh_pg_value(c, v, scratch);
    if (rc == 1)
        return put_be(out, UINT32_MAX, 4);
    if (rc < 0)
        return rc;
    if (c->conv == WH_PG_TEXT)
        return put_be(out, scratch->len, 4) ? PP_ENOMEM
                                            : pp_buf_append(out, scratch->data, scratch->len);
    if (c->conv == WH_PG_TS) { /* scratch: "YYYY-MM-DD HH:MM:SS+00" */
        int64_t us;
        if (scratch->len < 3 || ts_binary(scratch->data, scratch->len - 3, &us))
            return PP_EINVAL;
        return put_be(out, 8, 4) ? PP_ENOMEM : put_be(out, (uint64_t)us, 8);
    }
    if (c->conv == WH_PG_COORDS) { /* scratch: "{lat,lon}", checked by coords() */
        double d[2];
        char *end = scratch->data + 1;
        for (int i = 0; i < 2; i++) {
            d[i] = strtod(end, &end);
            if (*end != (i ? '}' : ',') || !isfinite(d[i]))
                return PP_EINVAL;
            end++;
        }
        /* 1-D float8 array: ndim, has-nulls, element type, length, lower bound, elements */
        rc = put_be(out, 20 + 2 * 12, 4);
        rc = rc ? rc : put_be(out, 1, 4);
        rc = rc ? rc : put_be(out, 0, 4);
        rc = rc ? rc : put_be(out, 701, 4); /* float8 */
        rc = rc ? rc : put_be(out, 2, 4);
        rc = rc ? rc : put_be(out, 1, 4);
        for (int i = 0; !rc && i < 2; i++) {
            uint64_t bits;
            memcpy(&bits, &d[i], sizeof(bits));
            rc = put_be(out, 8, 4) ? PP_ENOMEM : put_be(out, bits, 8);
        }
        return rc;
    }
    /* an INT column given text: as int8in would read it */
    char *end = NULL;
    errno = 0;
    long long i = strtoll(scratch->data, &end, 10);
    if (errno || end == scratch->data || *end)
        return PP_EINVAL;
    return put_be(out, 8, 4) ? PP_ENOMEM : put_be(out, (uint64_t)i, 8);
}

/* Big-endian stores into reserved space; each returns the byte after the one written. */
static inline char *st_be32(char *p, uint32_t v)
{
    p[0] = (char)(unsigned char)(v >> 24);
    p[1] = (char)(unsigned char)(v >> 16);
    p[2] = (char)(unsigned char)(v >> 8);
    p[3] = (char)(unsigned char)v;
    return p + 4;
}

static inline char *st_be64(char *p, uint64_t v)
{
    return st_be32(st_be32(p, (uint32_t)(v >> 32)), (uint32_t)v);
}

/* A float8 field (length, then the IEEE bits). */
static inline char *st_f8(char *p, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    return st_be64(st_be32(p, 8), bits);
}

/* One number of "[lat, lon]" as coords() delimits it (p..e, non-empty), when it is the
 * usual short decimal: [+-]digits[.digits], at most 15 digits in all. Then digits / 10^k
 * is exact over exact (the integer < 2^53, 10^k <= 10^15), so the one rounding of the
 * division gives what strtod gives. @returns 1 with *d, 0 for anything else (strtod's job). */
static int short_decimal(const char *p, const char *e, double *d)
{
    static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    int neg = 0, digits = 0, frac = -1;
    uint64_t m = 0;
    if (p < e && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    for (; p < e; p++) {
        if (*p >= '0' && *p <= '9') {
            if (++digits > 15)
                return 0;
            m = m * 10 + (uint64_t)(*p - '0');
            frac += frac >= 0;
        } else if (*p == '.' && frac < 0) {
            frac = 0;
        } else {
            return 0;
        }
    }
    if (!digits)
        return 0;
    double v = (double)m / pow10[frac > 0 ? frac : 0];
    *d = neg ? -v : v;
    return 1;
}

/* Coordinates "[lat, lon]" straight to the binary array, same grammar as coords() (numbers
 * of [0-9.eE+-], spaces around them) when both numbers are short decimals.
 * @returns 0 (written at *pp), 1 (not that case: take the general path). */
static int coords_fast(const char *s, size_t n, char **pp)
{
    if (n < 2 || s[0] != '[' || s[n - 1] != ']')
        return 1;
    const char *p = s + 1, *end = s + n - 1;
    double d[2];
    int nums = 0;
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        const char *q = p;
        while (q < end && *q && strchr("0123456789.eE+-", *q))
            q++;
        if (q == p || nums == 2 || !short_decimal(p, q, &d[nums]))
            return 1;
        nums++;
        while (q < end && *q == ' ')
            q++;
        if (q < end && *q != ',')
            return 1;
        p = q < end ? q + 1 : q;
    }
    if (nums != 2)
        return 1;
    /* 1-D float8 array: ndim, has-nulls, element type, length, lower bound, elements */
    char *o = st_be32(*pp, 20 + 2 * 12);
    o = st_be32(st_be32(st_be32(o, 1), 0), 701);
    o = st_be32(st_be32(o, 2), 1);
    *pp = st_f8(st_f8(o, d[0]), d[1]);
    return 0;
}

/* The common fields of a row written in place (space reserved by the caller: 4 + 44 bytes,
 * or 4 + v->n for text): bigint, text, NULL, timestamptz and short coordinates -- the same
 * bytes as bin_field. @returns 0 (written, *pp moved), 1 (take bin_field), PP_EINVAL. */
static int bin_fast(char **pp, const struct wh_pg_col *c, const struct pp_val *v)
{
    char *p = *pp;
    if (v->type == PP_VAL_INT && c->conv == WH_PG_INT) {
        *pp = st_be64(st_be32(p, 8), (uint64_t)v->i);
        return 0;
    }
    if (v->type == PP_VAL_NULL || (v->type == PP_VAL_TEXT && !v->s)) {
        *pp = st_be32(p, UINT32_MAX);
        return 0;
    }
    if (v->type != PP_VAL_TEXT || memchr(v->s, '\0', v->n))
        return 1;                           /* NUL bytes to drop (rare): bin_field */
    if (!v->n && c->conv != WH_PG_COORDS) { /* empty: NULL, as every empty text */
        *pp = st_be32(p, UINT32_MAX);
        return 0;
    }
    switch (c->conv) {
    case WH_PG_TEXT:
        if (v->n > INT32_MAX)
            return 1;
        memcpy(p + 4, v->s, v->n);
        st_be32(p, (uint32_t)v->n);
        *pp = p + 4 + v->n;
        return 0;
    case WH_PG_TS: { /* "YYYY-MM-DD HH:MM:SS" UTC */
        int64_t us;
        if (ts_binary(v->s, v->n, &us))
            return PP_EINVAL;
        *pp = st_be64(st_be32(p, 8), (uint64_t)us);
        return 0;
    }
    case WH_PG_COORDS:
        return coords_fast(v->s, v->n, pp);
    default:
        return 1;
    }
}

int wh_pg_bin_row(struct pp_buf *out, const struct pp_row *row, struct pp_buf *scratch)
{
    const struct wh_pg_table *t = &tables[row->kind];
    size_t start = out->len;
    int rc = pp_buf_reserve(out, 2 + 12);
    if (rc)
        return rc;
    char *p = out->data + out->len;
    p[0] = (char)(unsigned char)(t->ncols >> 8);
    p[1] = (char)(unsigned char)t->ncols;
    p = st_be64(st_be32(p + 2, 8), (uint64_t)row->id);
    out->len = (size_t)(p - out->data);
    for (int i = 1; !rc && i < t->ncols; i++) {
        const struct pp_val *v = &row->col[i];
        size_t room = 4 + 44; /* the widest fixed field: the coordinates' array */
        if (v->type == PP_VAL_TEXT && v->s && v->n > room - 4)
            room = 4 + v->n;
        if ((rc = pp_buf_reserve(out, room)))
            break;
        p = out->data + out->len;
        rc = bin_fast(&p, &t->cols[i], v);
        out->len = (size_t)(p - out->data);
        if (rc == 1) /* anything else: through its text form */
            rc = bin_field(out, &t->cols[i], v, scratch);
    }
    if (rc)
        out->len = start;
    if (out->data)
        out->data[out->len] = '\0';
    return rc;
}

static size_t ids_slot(const struct wh_pg_ids *s, int64_t ind)
{
    uint64_t h = (uint64_t)ind * 0x9E3779B97F4A7C15ULL;
    size_t i = (size_t)(h >> 32) & (s->cap - 1);
    while (s->used[i] && s->v[i] != ind)
        i = (i + 1) & (s->cap - 1);
    return i;
}

int wh_pg_ids_add(struct wh_pg_ids *s, int64_t ind)
{
    if ((s->n + 1) * 2 > s->cap) { /* grow: load factor <= 1/2 */
        struct wh_pg_ids g = {NULL, NULL, s->cap ? s->cap * 2 : 1024, 0};
        g.v = malloc(g.cap * sizeof(*g.v));
        g.used = calloc(g.cap, 1);
        if (!g.v || !g.used) {
            free(g.v);
            free(g.used);
            return PP_ENOMEM;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->used[i]) {
                size_t j = ids_slot(&g, s->v[i]);
                g.used[j] = 1;
                g.v[j] = s->v[i];
                g.n++;
            }
        wh_pg_ids_free(s);
        *s = g;
    }
    size_t i = ids_slot(s, ind);
    if (s->used[i])
        return 1;
    s->used[i] = 1;
    s->v[i] = ind;
    s->n++;
    return 0;
}

void wh_pg_ids_clear(struct wh_pg_ids *s)
{
    if (s->n && s->used)
        memset(s->used, 0, s->cap);
    s->n = 0;
}

void wh_pg_ids_free(struct wh_pg_ids *s)
{
    free(s->v);
    free(s->used);
    memset(s, 0, sizeof(*s));
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, surrogates, > U+10FFFF),
 * 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t len = s[0] >= 0xC2 && s[0] <= 0xDF   ? 2
                 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
                 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
                                                : 0;
    if (!len || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return len;
}

int wh_pg_utf8(struct pp_buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    int rc = 0;
    for (size_t i = 0; !rc && i < n;) {
        size_t len = utf8_len(p + i, n - i);
        if (len && p[i])
            rc = pp_buf_append(out, s + i, len);
        else if (!len)
            rc = pp_buf_puts(out, "\xEF\xBF\xBD");
        i += len ? len : 1;
    }
    return rc;
}

/* Columns of table t as "a, b, c", each prefixed by pfx ("" or "t." / "excluded."). */
static int col_list(struct pp_buf *sql, const struct wh_pg_table *t, int from, const char *pfx)
{
    int rc = 0;
    for (int i = from; !rc && i < t->ncols; i++)
        rc = pp_buf_printf(sql, "%s%s\"%s\"", i > from ? ", " : "", pfx, t->cols[i].name);
    return rc;
}

/* " ON CONFLICT (ind) DO UPDATE SET ... WHERE <some column differs>": an identical resend
 * writes nothing (and reads as unchanged). */
static int on_conflict(struct pp_buf *sql, const struct wh_pg_table *t)
{
    int rc = pp_buf_puts(sql, " ON CONFLICT (ind) DO UPDATE SET ");
    for (int i = 1; !rc && i < t->ncols; i++)
        rc = pp_buf_printf(sql, "%s\"%s\" = excluded.\"%s\"", i > 1 ? ", " : "", t->cols[i].name,
                           t->cols[i].name);
    rc = rc ? rc : pp_buf_puts(sql, " WHERE (");
    rc = rc ? rc : col_list(sql, t, 1, "t.");
    rc = rc ? rc : pp_buf_puts(sql, ") IS DISTINCT FROM (");
    rc = rc ? rc : col_list(sql, t, 1, "excluded.");
    return rc ? rc : pp_buf_puts(sql, ")");
}

/* TEMP staging tables of this session, emptied by every commit. Created outside any
 * transaction (a rollback would drop them again). */
static int make_stage(struct wh_pg *pg)
{
    char sql[200];
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        snprintf(sql, sizeof(sql),
                 "CREATE TEMP TABLE IF NOT EXISTS %s (LIKE %s,"
                 " seq bigint GENERATED ALWAYS AS IDENTITY) ON COMMIT DELETE ROWS",
                 stage[k], tables[k].name);
        int rc = wh_pg_exec(pg, sql, 0, NULL, NULL);
        if (rc)
            return rc;
    }
    pg->staged = 1;
    return 0;
}

/* Bytes per CopyData message: the server parses a message only once it has all of it, and
 * libpq copies each into its output buffer -- one message per table (megabytes) would keep
 * the server waiting for the whole transfer and the buffer out of the caches. */
#define COPY_CHUNK (128u << 10)

/* Send one binary COPY's data (header, tuples of k, trailer) and end it. @returns 1 if all
 * was queued. */
static int copy_send(struct wh_pg *pg, enum pp_kind k)
{
    static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0"; /* flags, extension: 0 */
    static const char trailer[2] = "\377\377";
    struct pp_buf *b = &pg->copy[k];
    /* tuples that did not all fit (pp_buf_error): abort the COPY rather than load a part */
    int ok = !pp_buf_error(b) && PQputCopyData(pg->conn, header, sizeof(header)) == 1;
    for (size_t at = 0; ok && at < b->len; at += COPY_CHUNK) {
        size_t n = b->len - at < COPY_CHUNK ? b->len - at : COPY_CHUNK;
        ok = PQputCopyData(pg->conn, b->data + at, (int)n) == 1;
    }
    ok = ok && PQputCopyData(pg->conn, trailer, sizeof(trailer)) == 1;
    return PQputCopyEnd(pg->conn, ok ? NULL : "client error") == 1 && ok;
}

/* COPY the buffered rows of k into table (the real one or its staging table); its rows
 * are in file order, so the staging table's seq tells which came last.
 * @returns 0, 1 (an ind exists already: unique violation), or as wh_pg_fail. */
static int copy_in(struct wh_pg *pg, enum pp_kind k, const char *table)
{
    struct pp_buf sql;
    pp_buf_init(&sql, 0);
    int rc = pp_buf_printf(&sql, "COPY %s (", table);
    rc = rc ? rc : col_list(&sql, &tables[k], 0, "");
    rc = rc ? rc : pp_buf_puts(&sql, ") FROM STDIN WITH (FORMAT binary)");
    if (rc) {
        pp_buf_free(&sql);
        return rc;
    }
    PGresult *res = PQexec(pg->conn, sql.data);
    pp_buf_free(&sql);
    if (PQresultStatus(res) != PGRES_COPY_IN)
        return wh_pg_fail(pg, res, "copy");
    PQclear(res);
    int ok = copy_send(pg, k);
    rc = 0;
    while ((res = PQgetResult(pg->conn))) {
        if (rc || PQresultStatus(res) == PGRES_COMMAND_OK) {
            PQclear(res);
            continue;
        }
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (state && !strcmp(state, "23505")) {
            rc = 1;
            PQclear(res);
        } else {
            rc = wh_pg_fail(pg, res, "copy");
        }
    }
    if (!rc && !ok)
        rc = wh_pg_fail(pg, NULL, "copy");
    return rc;
}

int wh_pg_commit_all(struct wh_pg *pg)
{
    enum pp_kind kinds[PP_KIND_COUNT];
    int nk = 0;
    if (pg->nrej)
        return WH_PG_SLOW;
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        if (!pg->nbuf[k])
            continue;
        if (pg->dup[k] || pg->staged_only[k])
            return WH_PG_SLOW;
        kinds[nk++] = (enum pp_kind)k;
    }
    struct pp_buf sql;
    pp_buf_init(&sql, 0);
    int rc = pp_buf_puts(&sql, "BEGIN");
    for (int i = 0; !rc && i < nk; i++) {
        rc = pp_buf_printf(&sql, "; COPY %s (", tables[kinds[i]].name);
        rc = rc ? rc : col_list(&sql, &tables[kinds[i]], 0, "");
        rc = rc ? rc : pp_buf_puts(&sql, ") FROM STDIN WITH (FORMAT binary)");
    }
    if (!rc && pg->noffs) {
        rc = pp_buf_puts(&sql, "; ");
        rc = rc ? rc : wh_pg_offsets_sql(pg->conn, &sql, pg->offs, pg->noffs);
    }
    rc = rc ? rc : pp_buf_puts(&sql, "; COMMIT");
    if (rc) {
        pp_buf_free(&sql);
        return rc;
    }
    int sent = PQsendQuery(pg->conn, sql.data);
    pp_buf_free(&sql);
    if (!sent)
        return wh_pg_fail(pg, NULL, "commit");
    pg->began = 1; /* BEGIN is on its way: a failure needs a ROLLBACK */
    int next = 0, committed = 0;
    PGresult *res;
    while ((res = PQgetResult(pg->conn))) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COPY_IN) {
            PQclear(res);
            int ok = next < nk && copy_send(pg, kinds[next++]);
            if (!ok && !rc)
                rc = wh_pg_fail(pg, NULL, "copy");
            if (!ok && next > nk) /* cannot happen: end the stray COPY */
                PQputCopyEnd(pg->conn, "unexpected COPY");
            continue;
        }
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            committed |= !strcmp(PQcmdStatus(res), "COMMIT");
            PQclear(res);
            continue;
        }
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (rc) {
            PQclear(res);
        } else if (state && !strcmp(state, "23505") && next > 0) {
            /* an ind of kinds[next - 1] exists: redo the transaction, that kind staged */
            pg->staged_only[kinds[next - 1]] = WH_PG_DIRECT_BACKOFF;
            rc = WH_PG_REDO;
            PQclear(res);
        } else {
            rc = wh_pg_fail(pg, res, "commit");
        }
    }
    if (!rc && !committed) { /* COMMIT of a failed transaction answers ROLLBACK */
        snprintf(pg->err, sizeof(pg->err), "commit: the transaction was rolled back");
        rc = PP_EIO;
    }
    if (!rc)
        pg->began = 0;
    return rc;
}

/* Staged rows into the table: the last of each ind (only sorted when some ind repeats). */
static int merge(struct wh_pg *pg, enum pp_kind k, int final)
{
    const struct wh_pg_table *t = &tables[k];
    struct pp_buf sql;
    pp_buf_init(&sql, 0);
    int rc = pp_buf_printf(&sql, "INSERT INTO %s AS t (", t->name);
    rc = rc ? rc : col_list(&sql, t, 0, "");
    rc = rc ? rc : pp_buf_puts(&sql, pg->dup[k] ? ") SELECT DISTINCT ON (ind) " : ") SELECT ");
    rc = rc ? rc : col_list(&sql, t, 0, "");
    rc = rc ? rc : pp_buf_printf(&sql, " FROM %s", stage[k]);
    rc = rc ? rc : pg->dup[k] ? pp_buf_puts(&sql, " ORDER BY ind, seq DESC") : 0;
    rc = rc ? rc : on_conflict(&sql, t);
    rc = rc ? rc : wh_pg_exec(pg, sql.data, 0, NULL, NULL);
    if (!rc && !final) { /* the transaction goes on: empty the staging table now */
        pp_buf_reset(&sql);
        rc = pp_buf_printf(&sql, "DELETE FROM %s", stage[k]);
        rc = rc ? rc : wh_pg_exec(pg, sql.data, 0, NULL, NULL);
    }
    pp_buf_free(&sql);
    return rc;
}

/* The common case of a stream (new ids): COPY straight into the table, as fast as a plain
 * COPY; an existing ind undoes it (savepoint) and the staging path follows. */
static int load_direct(struct wh_pg *pg, enum pp_kind k)
{
    if (pg->whole) { /* no savepoint (it costs the server ~20%): a conflict redoes it all */
        int rc = copy_in(pg, k, tables[k].name);
        if (rc == 1)
            pg->staged_only[k] = WH_PG_DIRECT_BACKOFF;
        return rc == 1 ? WH_PG_REDO : rc;
    }
    int rc = wh_pg_exec(pg, "SAVEPOINT pp_direct", 0, NULL, NULL);
    rc = rc ? rc : copy_in(pg, k, tables[k].name);
    if (rc == 0)
        return wh_pg_exec(pg, "RELEASE SAVEPOINT pp_direct", 0, NULL, NULL);
    if (rc == 1) {
        pg->staged_only[k] = WH_PG_DIRECT_BACKOFF;
        rc = wh_pg_exec(pg, "ROLLBACK TO SAVEPOINT pp_direct", 0, NULL, NULL);
        return rc ? rc : 1;
    }
    return rc;
}

static int load(struct wh_pg *pg, enum pp_kind k, int final)
{
    int rc = 1;
    if (!pg->dup[k] && !pg->staged_only[k])
        rc = load_direct(pg, k);
    else if (pg->staged_only[k])
        pg->staged_only[k]--;
    if (rc != 1)
        return rc;
    rc = copy_in(pg, k, stage[k]);
    if (rc == 1) /* the staging table has no key: cannot happen */
        rc = PP_EIO;
    return rc ? rc : merge(pg, k, final);
}

int wh_pg_reject_add(struct wh_pg *pg, const char *topic, int partition, int64_t offset,
                     const char *error, const char *value, size_t vlen)
{
    if (pg->in_txn && pg->failed)
        return 0; /* the transaction is doomed (see wh_pg_spill) */
    if (pg->nrej == pg->caprej) {
        size_t cap = pg->caprej ? pg->caprej * 2 : 16;
        struct wh_pg_reject *v = realloc(pg->rej, cap * sizeof(*v));
        if (!v)
            return PP_ENOMEM;
        pg->rej = v;
        pg->caprej = cap;
    }
    struct pp_buf e, val;
    pp_buf_init(&e, 0);
    pp_buf_init(&val, 0);
    int rc = wh_pg_utf8(&e, error ? error : "", error ? strlen(error) : 0);
    rc = rc ? rc : wh_pg_utf8(&val, value ? value : "", value ? vlen : 0);
    rc = rc ? rc : pp_buf_putc(&e, '\0');
    rc = rc ? rc : pp_buf_putc(&val, '\0');
    char *t = rc ? NULL : strdup(topic);
    if (rc || !t) {
        pp_buf_free(&e);
        pp_buf_free(&val);
        return rc ? rc : PP_ENOMEM;
    }
    struct wh_pg_reject *r = &pg->rej[pg->nrej++];
    r->topic = t;
    r->partition = partition;
    r->offset = offset;
    pg->buffered += e.len + val.len;
    r->error = pp_buf_steal(&e, NULL);
    r->value = pp_buf_steal(&val, NULL);
    return pg->in_txn && pg->buffered >= WH_PG_BUFFER_MAX ? wh_pg_spill(pg) : 0;
}

static void rejects_free(struct wh_pg *pg)
{
    for (size_t i = 0; i < pg->nrej; i++) {
        free(pg->rej[i].topic);
        free(pg->rej[i].error);
        free(pg->rej[i].value);
    }
    pg->nrej = 0;
}

static void offsets_free(struct wh_pg *pg)
{
    for (size_t i = 0; i < pg->noffs; i++) {
        free(pg->offs[i].group);
        free(pg->offs[i].topic);
    }
    pg->noffs = 0;
}

int wh_pg_offset_add(struct wh_pg *pg, const char *group, const char *topic, int partition,
                     int64_t expect, int64_t next_offset)
{
    for (size_t i = 0; i < pg->noffs; i++) {
        struct wh_pg_off *o = &pg->offs[i];
        if (o->partition == partition && !strcmp(o->topic, topic) && !strcmp(o->group, group)) {
            o->next_offset = next_offset;
            return 0;
        }
    }
    if (pg->noffs == pg->capoffs) {
        size_t cap = pg->capoffs ? pg->capoffs * 2 : 16;
        struct wh_pg_off *v = realloc(pg->offs, cap * sizeof(*v));
        if (!v)
            return PP_ENOMEM;
        pg->offs = v;
        pg->capoffs = cap;
    }
    struct wh_pg_off *o = &pg->offs[pg->noffs];
    o->group = strdup(group);
    o->topic = strdup(topic);
    if (!o->group || !o->topic) {
        free(o->group);
        free(o->topic);
        return PP_ENOMEM;
    }
    o->partition = partition;
    o->expect = expect;
    o->next_offset = next_offset;
    pg->noffs++;
    return 0;
}

int wh_pg_offsets_sql(PGconn *conn, struct pp_buf *sql, const struct wh_pg_off *offs, size_t n)
{
    int rc = pp_buf_puts(sql, "WITH v (g, t, p, n, e) AS (VALUES ");
    for (size_t i = 0; !rc && i < n; i++) {
        const struct wh_pg_off *o = &offs[i];
        char *g = PQescapeLiteral(conn, o->group, strlen(o->group));
        char *t = PQescapeLiteral(conn, o->topic, strlen(o->topic));
        rc = g && t ? pp_buf_printf(sql, "%s(%s, %s, %d, %" PRId64 "::bigint, %" PRId64 "::bigint)",
                                    i ? ", " : "", g, t, o->partition, o->next_offset, o->expect)
                    : PP_ENOMEM;
        PQfreemem(g);
        PQfreemem(t);
    }
    rc = rc ? rc
            : pp_buf_printf(sql,
                            "), u AS (INSERT INTO pp_offsets (consumer_group, topic, partition,"
                            " next_offset) SELECT g, t, p, n FROM v"
                            " ON CONFLICT (consumer_group, topic, partition)"
                            " DO UPDATE SET next_offset = excluded.next_offset"
                            " WHERE pp_offsets.next_offset = (SELECT e FROM v"
                            " WHERE v.g = excluded.consumer_group AND v.t = excluded.topic"
                            " AND v.p = excluded.partition) RETURNING 1)"
                            " SELECT pp_positions_check((SELECT count(*) FROM u), %zu)",
                            n);
    return rc;
}

/* The buffered positions in one statement (per 200), checked (wh_pg_offsets_sql). */
static int offsets_put(struct wh_pg *pg)
{
    enum { PER = 200 };
    int rc = 0;
    for (size_t from = 0; !rc && from < pg->noffs; from += PER) {
        size_t n = pg->noffs - from < PER ? pg->noffs - from : PER;
        struct pp_buf sql;
        pp_buf_init(&sql, 0);
        rc = wh_pg_offsets_sql(pg->conn, &sql, pg->offs + from, n);
        rc = rc ? rc : wh_pg_exec(pg, sql.data, 0, NULL, NULL);
        pp_buf_free(&sql);
    }
    return rc;
}

int wh_pg_spill(struct wh_pg *pg)
{
    int rc = wh_pg_flush(pg, 0);
    if (rc) { /* doomed: the rest of the transaction is dropped, commit reports rc */
        wh_pg_discard(pg);
        pg->failed = rc;
    }
    return 0;
}

int wh_pg_flush(struct wh_pg *pg, int final)
{
    if (pg->failed)
        return pg->failed;
    int rc = wh_pg_txn(pg);
    for (int k = 0; !rc && k < PP_KIND_COUNT; k++) {
        if (!pg->nbuf[k])
            continue;
        if ((rc = load(pg, (enum pp_kind)k, final)))
            return rc;
        if (pg->whole) /* kept for a redo until the commit */
            continue;
        pp_buf_reset(&pg->copy[k]);
        wh_pg_ids_clear(&pg->ids[k]);
        pg->nbuf[k] = 0;
        pg->dup[k] = 0;
    }
    for (size_t i = 0; !rc && i < pg->nrej; i++)
        rc = wh_pg_reject_put(pg, &pg->rej[i]);
    rc = rc ? rc : offsets_put(pg);
    if (!rc && !pg->whole) {
        rejects_free(pg);
        offsets_free(pg);
        pg->buffered = 0;
    }
    return rc;
}

void wh_pg_discard(struct wh_pg *pg)
{
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        pp_buf_reset(&pg->copy[k]);
        wh_pg_ids_clear(&pg->ids[k]);
        pg->nbuf[k] = 0;
        pg->dup[k] = 0;
    }
    rejects_free(pg);
    offsets_free(pg);
    pg->buffered = 0;
}

/* INSERT ... ON CONFLICT DO UPDATE ... WHERE differs RETURNING (xmax = 0): a row back says
 * inserted (t) or updated (f), none says unchanged. */
static int prepare_upsert(struct wh_pg *pg, enum pp_kind k)
{
    const struct wh_pg_table *t = &tables[k];
    struct pp_buf sql;
    char name[32];
    pp_buf_init(&sql, 0);
    int rc = pp_buf_printf(&sql, "INSERT INTO %s AS t (", t->name);
    rc = rc ? rc : col_list(&sql, t, 0, "");
    rc = rc ? rc : pp_buf_puts(&sql, ") VALUES (");
    for (int i = 0; !rc && i < t->ncols; i++)
        rc = pp_buf_printf(&sql, "%s$%d", i ? ", " : "", i + 1);
    rc = rc ? rc : pp_buf_puts(&sql, ")");
    rc = rc ? rc : on_conflict(&sql, t);
    rc = rc ? rc : pp_buf_puts(&sql, " RETURNING (xmax = 0)");
    if (!rc) {
        snprintf(name, sizeof(name), "pp_upsert_%d", k);
        PGresult *res = PQprepare(pg->conn, name, sql.data, 0, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = wh_pg_fail(pg, res, "prepare upsert");
        else
            PQclear(res);
    }
    pp_buf_free(&sql);
    if (!rc)
        pg->prepared[k] = 1;
    return rc;
}

static int upsert_row(struct wh_pg *pg, const struct pp_row *row, int *status)
{
    const struct wh_pg_table *t = &tables[row->kind];
    const char *params[PP_CLEAN_MAX_COLS];
    size_t at[PP_CLEAN_MAX_COLS];
    char name[32], id[32];
    int rc = pg->prepared[row->kind] ? 0 : prepare_upsert(pg, row->kind);
    if (rc)
        return rc;
    /* values one after another in scratch, each NUL-terminated; pointers taken at the end */
    pp_buf_reset(&pg->scratch);
    snprintf(id, sizeof(id), "%" PRId64, row->id);
    for (int i = 1; i < t->ncols; i++) {
        at[i] = pg->scratch.len;
        int v = wh_pg_value(&t->cols[i], &row->col[i], &pg->scratch);
        if (v < 0)
            return v;
        if (v == 1)
            at[i] = (size_t)-1;
        else if ((rc = pp_buf_putc(&pg->scratch, '\0')))
            return rc;
    }
    params[0] = id;
    for (int i = 1; i < t->ncols; i++)
        params[i] = at[i] == (size_t)-1 ? NULL : pg->scratch.data + at[i];
    snprintf(name, sizeof(name), "pp_upsert_%d", row->kind);
    PGresult *res = PQexecPrepared(pg->conn, name, t->ncols, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return wh_pg_fail(pg, res, "upsert");
    *status = PQntuples(res) == 0                   ? PP_WH_UNCHANGED
              : !strcmp(PQgetvalue(res, 0, 0), "t") ? PP_WH_INSERTED
                                                    : PP_WH_UPDATED;
    PQclear(res);
    return 0;
}

/* Encode row into a table's COPY buffer b and note its ind in ids. @returns 1 when the ind
 * was there already (the caller's dup), 0, or <0 (b as it was). */
static int tuple_add(struct pp_buf *b, struct wh_pg_ids *ids, const struct pp_row *row,
                     struct pp_buf *scratch)
{
    size_t len = b->len;
    int rc = wh_pg_bin_row(b, row, scratch);
    int dup = rc ? rc : wh_pg_ids_add(ids, row->id);
    if (dup < 0)
        b->len = len;
    return dup;
}

int wh_pg_upsert(struct pp_wh *base, const struct pp_row *row, int *status)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    enum pp_kind kind = row->kind;
    if (kind < 0 || kind >= PP_KIND_COUNT || row->ncols != tables[kind].ncols)
        return PP_EINVAL;
    if (pg->in_txn && !status) { /* the stream: COPY at commit (or when the buffer is full) */
        if (pg->failed)
            return 0; /* the transaction is doomed (see wh_pg_spill) */
        size_t len = pg->copy[kind].len;
        int dup = tuple_add(&pg->copy[kind], &pg->ids[kind], row, &pg->scratch);
        if (dup < 0)
            return dup;
        pg->dup[kind] |= dup;
        pg->nbuf[kind]++;
        pg->buffered += pg->copy[kind].len - len;
        return pg->buffered >= WH_PG_BUFFER_MAX ? wh_pg_spill(pg) : 0;
    }
    int ignored;
    /* in a transaction: flush first, to keep the order of the rows */
    int rc = pg->in_txn ? wh_pg_flush(pg, 0) : wh_pg_ready(pg, 1000);
    return rc ? rc : upsert_row(pg, row, status ? status : &ignored);
}

/* ---- pp_wh_prep: a transaction's COPY data encoded off the connection ---- */

struct prep_at { /* one encoded row of a table: its ind and bytes in copy[k] */
    int64_t ind;
    uint32_t off, len;
};

struct pp_wh_prep {
    struct pp_buf copy[PP_KIND_COUNT];   /* binary COPY tuples, as wh_pg.copy */
    size_t nbuf[PP_KIND_COUNT];
    struct wh_pg_ids ids[PP_KIND_COUNT];
    int dup[PP_KIND_COUNT];
    struct prep_at *at[PP_KIND_COUNT];   /* per row, for pp_wh_prep_finish's ordering */
    size_t capat[PP_KIND_COUNT];
    int unsorted[PP_KIND_COUNT];         /* some row's ind is below the one before */
    struct pp_buf scratch, sorted;
};

struct pp_wh_prep *wh_pg_prep_new(const struct pp_wh *wh)
{
    (void)wh;
    struct pp_wh_prep *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    for (int k = 0; k < PP_KIND_COUNT; k++)
        pp_buf_init(&p->copy[k], 0);
    pp_buf_init(&p->scratch, 0);
    pp_buf_init(&p->sorted, 0);
    return p;
}

void pp_wh_prep_reset(struct pp_wh_prep *p)
{
    if (!p)
        return;
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        pp_buf_reset(&p->copy[k]);
        wh_pg_ids_clear(&p->ids[k]);
        p->nbuf[k] = 0;
        p->dup[k] = 0;
        p->unsorted[k] = 0;
    }
}

void pp_wh_prep_free(struct pp_wh_prep *p)
{
    if (!p)
        return;
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        pp_buf_free(&p->copy[k]);
        wh_pg_ids_free(&p->ids[k]);
        free(p->at[k]);
    }
    pp_buf_free(&p->scratch);
    pp_buf_free(&p->sorted);
    free(p);
}

size_t pp_wh_prep_bytes(const struct pp_wh_prep *p)
{
    size_t n = 0;
    for (int k = 0; k < PP_KIND_COUNT; k++)
        n += p->copy[k].len;
    return n;
}

int pp_wh_prep_add(struct pp_wh_prep *p, const struct pp_row *row)
{
    enum pp_kind k = row->kind;
    if (k < 0 || k >= PP_KIND_COUNT || row->ncols != tables[k].ncols)
        return PP_EINVAL;
    struct pp_buf *b = &p->copy[k];
    size_t n = p->nbuf[k], len = b->len;
    if (n == p->capat[k]) {
        size_t cap = n ? n * 2 : 1024;
        struct prep_at *at = realloc(p->at[k], cap * sizeof(*at));
        if (!at)
            return PP_ENOMEM;
        p->at[k] = at;
        p->capat[k] = cap;
    }
    int dup = len > UINT32_MAX - (64u << 20) ? PP_ETOOBIG
                                               : tuple_add(b, &p->ids[k], row, &p->scratch);
    if (dup < 0)
        return dup;
    p->dup[k] |= dup;
    p->unsorted[k] |= n && row->id < p->at[k][n - 1].ind;
    p->at[k][n] = (struct prep_at){row->id, (uint32_t)len, (uint32_t)(b->len - len)};
    p->nbuf[k] = n + 1;
    return 0;
}

static int at_cmp(const void *a, const void *b)
{
    const struct prep_at *x = a, *y = b;
    if (x->ind != y->ind)
        return x->ind < y->ind ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off; /* an ind's rows keep their order */
}

int pp_wh_prep_finish(struct pp_wh_prep *p)
{
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        if (!p->unsorted[k])
            continue;
        qsort(p->at[k], p->nbuf[k], sizeof(*p->at[k]), at_cmp);
        struct pp_buf *b = &p->copy[k];
        pp_buf_reset(&p->sorted);
        int rc = pp_buf_reserve(&p->sorted, b->len);
        if (rc)
            return rc;
        for (size_t i = 0; i < p->nbuf[k]; i++) {
            const struct prep_at *a = &p->at[k][i];
            memcpy(p->sorted.data + p->sorted.len, b->data + a->off, a->len);
            p->sorted.len += a->len;
        }
        p->sorted.data[p->sorted.len] = '\0';
        struct pp_buf t = *b; /* the sorted copy becomes the table's data */
        *b = p->sorted;
        p->sorted = t;
        p->unsorted[k] = 0;
    }
    return 0;
}

int wh_pg_upsert_prep(struct pp_wh *base, struct pp_wh_prep *p)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    if (!pg->in_txn)
        return PP_EINVAL;
    if (pg->failed) { /* the transaction is doomed (see wh_pg_spill) */
        pp_wh_prep_reset(p);
        return 0;
    }
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        if (!p->nbuf[k])
            continue;
        size_t bytes = p->copy[k].len;
        if (!pg->nbuf[k]) { /* the usual case: take the prepared buffers as they are */
            struct pp_buf tb = pg->copy[k];
            struct wh_pg_ids ti = pg->ids[k];
            pg->copy[k] = p->copy[k];
            pg->ids[k] = p->ids[k];
            p->copy[k] = tb;
            p->ids[k] = ti;
            pg->nbuf[k] = p->nbuf[k];
            pg->dup[k] = p->dup[k];
        } else { /* rows of this table are buffered already: append, in order */
            int rc = pp_buf_append(&pg->copy[k], p->copy[k].data, bytes);
            for (size_t i = 0; !rc && i < p->nbuf[k]; i++) {
                int dup = wh_pg_ids_add(&pg->ids[k], p->at[k][i].ind);
                rc = dup < 0 ? dup : 0;
                pg->dup[k] |= dup > 0;
            }
            if (rc)
                return rc;
            pg->nbuf[k] += p->nbuf[k];
            pg->dup[k] |= p->dup[k];
        }
        pg->buffered += bytes;
    }
    pp_wh_prep_reset(p);
    return pg->buffered >= WH_PG_BUFFER_MAX ? wh_pg_spill(pg) : 0;
}

int wh_pg_stage(struct wh_pg *pg)
{
    return pg->staged ? 0 : make_stage(pg);
}
