/* insights.c: the nine insights of PRODUCT.md "Insights" as SQL (SQLite and PostgreSQL
 * dialects), and their printing, common to both warehouse backends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp_err.h"
#include "pp_json.h"
#include "wh_int.h"

/* ---- SQLite ---- */

/* The deduplicated inner join every insight reads (tables are keyed by ind, so a resend is
 * already one row). post_year = year of geo timestamp; join_year = year of date_joined
 * (stored as "YYYY-MM-DD HH:MM:SS", so the year is the first four characters). Ages under
 * 18 fall in no group (NULL age_group: left out of the age insights). */
#define WH_J                                                                                       \
    "WITH j AS (SELECT p.category AS category, p.follower_count AS follower_count,"                \
    " p.poster_name AS poster_name, g.country AS country, u.user_name AS user_name,"               \
    " u.date_joined AS date_joined,"                                                               \
    " CAST(substr(g.\"timestamp\", 1, 4) AS INTEGER) AS post_year,"                                \
    " CAST(substr(u.date_joined, 1, 4) AS INTEGER) AS join_year,"                                  \
    " CASE WHEN u.age BETWEEN 18 AND 24 THEN '18-24' WHEN u.age BETWEEN 25 AND 35 THEN '25-35'"    \
    " WHEN u.age BETWEEN 36 AND 50 THEN '36-50' WHEN u.age > 50 THEN '+50' END AS age_group"       \
    " FROM \"pin\" p JOIN \"geo\" g ON g.ind = p.ind JOIN \"user\" u ON u.ind = p.ind)"

/* Age groups sort in age order, not as text ('+50' would sort first). */
#define WH_AGE_ORDER                                                                               \
    "CASE age_group WHEN '18-24' THEN 1 WHEN '25-35' THEN 2"                                       \
    " WHEN '36-50' THEN 3 ELSE 4 END"

/* Most frequent category per group key k (rank 1: ties all kept). */
#define WH_TOP_CATEGORY(k, where)                                                                  \
    WH_J ", c AS (SELECT " k ", category, COUNT(*) AS category_count FROM j"                       \
         " WHERE " where " AND category IS NOT NULL GROUP BY " k ", category),"                    \
         " r AS (SELECT *, RANK() OVER (PARTITION BY " k " ORDER BY category_count DESC) AS rk"    \
         " FROM c) SELECT " k ", category, category_count FROM r WHERE rk = 1"

/* Exact median (PERCENTILE_CONT(0.5)) of non-NULL follower counts per group key k: the mean
 * of rows (n+1)/2 and (n+2)/2 in order, which is the middle row twice when n is odd. */
#define WH_MEDIAN(k, where)                                                                        \
    WH_J ", m AS (SELECT " k ", follower_count,"                                                   \
         " ROW_NUMBER() OVER (PARTITION BY " k " ORDER BY follower_count) AS rn,"                  \
         " COUNT(*) OVER (PARTITION BY " k ") AS n FROM j"                                         \
         " WHERE " where " AND follower_count IS NOT NULL)"                                        \
         " SELECT " k ", AVG(follower_count) AS median_follower_count FROM m"                      \
         " WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY " k

#define WH_JOIN_YEARS "join_year BETWEEN 2015 AND 2020"

/* Top user per country: distinct (country, poster_name, follower_count) of rank 1. */
#define WH_TOP_USER                                                                                \
    ", c AS (SELECT DISTINCT country, poster_name, follower_count FROM j"                          \
    " WHERE country IS NOT NULL AND follower_count IS NOT NULL),"                                  \
    " t AS (SELECT *, RANK() OVER (PARTITION BY country ORDER BY follower_count DESC) AS rk"       \
    " FROM c)"

/* ---- PostgreSQL: the same semantics on typed columns ----
 * Years come from the timestamptz columns in UTC; medians are PERCENTILE_CONT(0.5), which is
 * the mean of the two middle values as above. Text keys sort as bytes (COLLATE "C", as SQLite's
 * BINARY) with NULLs first (SQLite's order), so both backends print the same bytes. */
#define PG_J                                                                                       \
    "WITH j AS (SELECT p.category AS category, p.follower_count AS follower_count,"                \
    " p.poster_name AS poster_name, g.country AS country, u.user_name AS user_name,"               \
    " u.date_joined AS date_joined,"                                                               \
    " EXTRACT(YEAR FROM g.\"timestamp\" AT TIME ZONE 'UTC')::bigint AS post_year,"                 \
    " EXTRACT(YEAR FROM u.date_joined AT TIME ZONE 'UTC')::bigint AS join_year,"                   \
    " CASE WHEN u.age BETWEEN 18 AND 24 THEN '18-24' WHEN u.age BETWEEN 25 AND 35 THEN '25-35'"    \
    " WHEN u.age BETWEEN 36 AND 50 THEN '36-50' WHEN u.age > 50 THEN '+50' END AS age_group"       \
    " FROM \"pin\" p JOIN \"geo\" g ON g.ind = p.ind JOIN \"user\" u ON u.ind = p.ind)"

#define PG_TOP_CATEGORY(k, where)                                                                  \
    PG_J ", c AS (SELECT " k ", category, COUNT(*) AS category_count FROM j"                       \
         " WHERE " where " AND category IS NOT NULL GROUP BY " k ", category),"                    \
         " r AS (SELECT *, RANK() OVER (PARTITION BY " k " ORDER BY category_count DESC) AS rk"    \
         " FROM c) SELECT " k ", category, category_count FROM r WHERE rk = 1"

#define PG_MEDIAN(k, where)                                                                        \
    PG_J " SELECT " k ", PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY follower_count)"              \
         " AS median_follower_count FROM j WHERE " where " AND follower_count IS NOT NULL"         \
         " GROUP BY " k

#define PG_C "COLLATE \"C\""

static const struct wh_insight insights[PP_WH_NINSIGHTS] = {
    {"popular_category_by_country",
     "country, category, category_count",
     {"country TEXT, category TEXT, category_count INTEGER", "country, category",
      WH_TOP_CATEGORY("country", "country IS NOT NULL")},
     {"country text, category text, category_count bigint", "country " PG_C ", category " PG_C,
      PG_TOP_CATEGORY("country", "country IS NOT NULL")}},
    {"popular_category_by_year",
     "post_year, category, category_count",
     {"post_year INTEGER, category TEXT, category_count INTEGER", "post_year, category",
      WH_TOP_CATEGORY("post_year", "post_year BETWEEN 2018 AND 2022")},
     {"post_year bigint, category text, category_count bigint", "post_year, category " PG_C,
      PG_TOP_CATEGORY("post_year", "post_year BETWEEN 2018 AND 2022")}},
    {"top_user_by_country",
     "country, poster_name, follower_count",
     {"country TEXT, poster_name TEXT, follower_count INTEGER", "country, poster_name",
      WH_J WH_TOP_USER " SELECT country, poster_name, follower_count FROM t WHERE rk = 1"},
     {"country text, poster_name text, follower_count bigint",
      "country " PG_C ", poster_name " PG_C " NULLS FIRST",
      PG_J WH_TOP_USER " SELECT country, poster_name, follower_count FROM t WHERE rk = 1"}},
    {"top_country_by_followers",
     "country, follower_count",
     {"country TEXT, follower_count INTEGER", "country",
      WH_J WH_TOP_USER ", b AS (SELECT DISTINCT country, follower_count FROM t WHERE rk = 1)"
                       " SELECT country, follower_count FROM b"
                       " WHERE follower_count = (SELECT MAX(follower_count) FROM b)"},
     {"country text, follower_count bigint", "country " PG_C,
      PG_J WH_TOP_USER ", b AS (SELECT DISTINCT country, follower_count FROM t WHERE rk = 1)"
                       " SELECT country, follower_count FROM b"
                       " WHERE follower_count = (SELECT MAX(follower_count) FROM b)"}},
    {"popular_category_by_age_group",
     "age_group, category, category_count",
     {"age_group TEXT, category TEXT, category_count INTEGER", WH_AGE_ORDER ", category",
      WH_TOP_CATEGORY("age_group", "age_group IS NOT NULL")},
     {"age_group text, category text, category_count bigint", WH_AGE_ORDER ", category " PG_C,
      PG_TOP_CATEGORY("age_group", "age_group IS NOT NULL")}},
    {"median_followers_by_age_group",
     "age_group, median_follower_count",
     {"age_group TEXT, median_follower_count REAL", WH_AGE_ORDER,
      WH_MEDIAN("age_group", "age_group IS NOT NULL")},
     {"age_group text, median_follower_count double precision", WH_AGE_ORDER,
      PG_MEDIAN("age_group", "age_group IS NOT NULL")}},
    {"users_joined_by_year",
     "post_year, number_users_joined",
     {"post_year INTEGER, number_users_joined INTEGER", "post_year",
      WH_J ", u AS (SELECT DISTINCT join_year, user_name, date_joined FROM j"
           " WHERE " WH_JOIN_YEARS " AND user_name IS NOT NULL)"
           " SELECT join_year AS post_year, COUNT(*) AS number_users_joined FROM u"
           " GROUP BY join_year"},
     {"post_year bigint, number_users_joined bigint", "post_year",
      PG_J ", u AS (SELECT DISTINCT join_year, user_name, date_joined FROM j"
           " WHERE " WH_JOIN_YEARS " AND user_name IS NOT NULL)"
           " SELECT join_year AS post_year, COUNT(*) AS number_users_joined FROM u"
           " GROUP BY join_year"}},
    {"median_followers_by_join_year",
     "post_year, median_follower_count",
     {"post_year INTEGER, median_follower_count REAL", "post_year",
      "SELECT join_year AS post_year, median_follower_count FROM (" WH_MEDIAN("join_year",
                                                                              WH_JOIN_YEARS) ")"},
     {"post_year bigint, median_follower_count double precision", "post_year",
      "SELECT join_year AS post_year, median_follower_count FROM (" PG_MEDIAN(
          "join_year", WH_JOIN_YEARS) ") s"}},
    {"median_followers_by_age_group_and_join_year",
     "age_group, post_year, median_follower_count",
     {"age_group TEXT, post_year INTEGER, median_follower_count REAL", WH_AGE_ORDER ", post_year",
      "SELECT age_group, join_year AS post_year, median_follower_count FROM (" WH_MEDIAN(
          "age_group, join_year", "age_group IS NOT NULL AND " WH_JOIN_YEARS) ")"},
     {"age_group text, post_year bigint, median_follower_count double precision",
      WH_AGE_ORDER ", post_year",
      "SELECT age_group, join_year AS post_year, median_follower_count FROM (" PG_MEDIAN(
          "age_group, join_year", "age_group IS NOT NULL AND " WH_JOIN_YEARS) ") s"}},
};

const struct wh_insight *wh_insight_get(int i)
{
    return i >= 0 && i < PP_WH_NINSIGHTS ? &insights[i] : NULL;
}

const char *pp_wh_insight_name(int i)
{
    return i >= 0 && i < PP_WH_NINSIGHTS ? insights[i].name : NULL;
}

struct wh_cell *wh_result_add(struct wh_result *res)
{
    if (res->nrows == res->cap) {
        size_t cap = res->cap ? res->cap * 2 : 64;
        struct wh_cell *cells = realloc(res->cells, cap * (size_t)res->ncols * sizeof(*cells));
        if (!cells)
            return NULL;
        res->cells = cells;
        res->cap = cap;
    }
    struct wh_cell *row = &res->cells[res->nrows * (size_t)res->ncols];
    memset(row, 0, (size_t)res->ncols * sizeof(*row));
    res->nrows++;
    return row;
}

void wh_result_free(struct wh_result *res)
{
    for (size_t k = 0; k < res->nrows * (size_t)res->ncols; k++)
        free(res->cells[k].s);
    for (int c = 0; c < res->ncols; c++)
        free(res->names[c]);
    free(res->cells);
    memset(res, 0, sizeof(*res));
}

/* Shortest decimal that reads back as exactly d; integral values without a fraction. */
static void format_real(double d, char *out, size_t size)
{
    if (d != d || d - d != 0) { /* NaN or infinity: no JSON number for it */
        snprintf(out, size, "null");
        return;
    }
    if (d == (double)(int64_t)d && d > -1e15 && d < 1e15) {
        snprintf(out, size, "%lld", (long long)d);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

static void format_cell(const struct wh_cell *c, char *num, size_t size)
{
    if (c->type == WH_CELL_INT)
        snprintf(num, size, "%lld", (long long)c->i);
    else if (c->type == WH_CELL_REAL)
        format_real(c->d, num, size);
    else
        snprintf(num, size, "%s", c->type == WH_CELL_NULL ? "null" : "");
}

static void put_json_str(FILE *out, const char *s)
{
    struct pp_buf b;
    pp_buf_init(&b, 0);
    if (!pp_json_put_str(&b, s, strlen(s)))
        fwrite(b.data, 1, b.len, out);
    pp_buf_free(&b);
}

static void print_json(const char *name, const struct wh_result *res, int first, FILE *out)
{
    fprintf(out, "%s  \"%s\": [", first ? "{\n" : ",\n", name);
    for (size_t r = 0; r < res->nrows; r++) {
        const struct wh_cell *row = &res->cells[r * (size_t)res->ncols];
        fputs(r ? ",\n    {" : "\n    {", out);
        for (int c = 0; c < res->ncols; c++) {
            fprintf(out, "%s\"%s\": ", c ? ", " : "", res->names[c]);
            if (row[c].type == WH_CELL_TEXT) {
                put_json_str(out, row[c].s);
            } else {
                char num[40];
                format_cell(&row[c], num, sizeof(num));
                fputs(num, out);
            }
        }
        fputc('}', out);
    }
    fputs(res->nrows ? "\n  ]" : "]", out);
}

static void put_csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void print_csv(const char *name, const struct wh_result *res, FILE *out)
{
    fprintf(out, "# %s\n", name);
    for (int c = 0; c < res->ncols; c++) {
        fputs(c ? "," : "", out);
        put_csv_field(out, res->names[c]);
    }
    fputc('\n', out);
    for (size_t r = 0; r < res->nrows; r++) {
        const struct wh_cell *row = &res->cells[r * (size_t)res->ncols];
        for (int c = 0; c < res->ncols; c++) {
            char num[40];
            format_cell(&row[c], num, sizeof(num));
            fputs(c ? "," : "", out);
            if (row[c].type == WH_CELL_TEXT)
                put_csv_field(out, row[c].s);
            else if (row[c].type != WH_CELL_NULL) /* NULL is an empty field */
                fputs(num, out);
        }
        fputc('\n', out);
    }
    fputc('\n', out);
}

/* Display width: code points (UTF-8 continuation bytes do not count). */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static const char *cell_text(const struct wh_cell *c, char *num, size_t size)
{
    if (c->type == WH_CELL_TEXT)
        return c->s;
    format_cell(c, num, size);
    return c->type == WH_CELL_NULL ? "NULL" : num;
}

static void print_table(const char *name, const struct wh_result *res, FILE *out)
{
    size_t w[8] = {0};
    int numeric[8] = {0}; /* numbers and their headers are right-aligned */
    char num[40];
    for (int c = 0; c < res->ncols; c++)
        w[c] = width(res->names[c]);
    for (size_t r = 0; r < res->nrows; r++)
        for (int c = 0; c < res->ncols; c++) {
            const struct wh_cell *cell = &res->cells[r * (size_t)res->ncols + c];
            size_t cw = width(cell_text(cell, num, sizeof(num)));
            w[c] = cw > w[c] ? cw : w[c];
            numeric[c] |= cell->type == WH_CELL_INT || cell->type == WH_CELL_REAL;
        }
    fprintf(out, "%s (%zu row%s)\n", name, res->nrows, res->nrows == 1 ? "" : "s");
    for (int c = 0; c < res->ncols; c++) {
        int pad = (int)(w[c] - width(res->names[c]));
        if (numeric[c])
            fprintf(out, "  %*s%s", pad, "", res->names[c]);
        else
            fprintf(out, "  %s%*s", res->names[c], c + 1 < res->ncols ? pad : 0, "");
    }
    fputc('\n', out);
    for (int c = 0; c < res->ncols; c++) {
        fputs("  ", out);
        for (size_t k = 0; k < w[c]; k++)
            fputc('-', out);
    }
    fputc('\n', out);
    for (size_t r = 0; r < res->nrows; r++) {
        for (int c = 0; c < res->ncols; c++) {
            const struct wh_cell *cell = &res->cells[r * (size_t)res->ncols + c];
            const char *s = cell_text(cell, num, sizeof(num));
            int pad = (int)(w[c] - width(s));
            if (cell->type == WH_CELL_INT || cell->type == WH_CELL_REAL)
                fprintf(out, "  %*s%s", pad, "", s); /* numbers right-aligned */
            else
                fprintf(out, "  %s%*s", s, c + 1 < res->ncols ? pad : 0, "");
        }
        fputc('\n', out);
    }
    fputc('\n', out);
}

/* Print all nine from either the live queries or the snapshot of run_date, inside one read
 * transaction so that they describe the same state of the warehouse. */
static int print_all(struct pp_wh *wh, const char *run_date, enum pp_wh_format format, FILE *out)
{
    int own = 0;
    if (wh->ops->read_begin(wh, &own))
        return PP_EIO;
    int rc = run_date ? wh->ops->snapshot_exists(wh, run_date) : 0;
    for (int i = 0; !rc && i < PP_WH_NINSIGHTS; i++) {
        struct wh_result res;
        memset(&res, 0, sizeof(res));
        if ((rc = wh->ops->insight_query(wh, i, run_date, &res)))
            break;
        if (format == PP_WH_JSON)
            print_json(insights[i].name, &res, i == 0, out);
        else if (format == PP_WH_CSV)
            print_csv(insights[i].name, &res, out);
        else
            print_table(insights[i].name, &res, out);
        wh_result_free(&res);
    }
    if (!rc && format == PP_WH_JSON)
        fputs("\n}\n", out);
    wh->ops->read_end(wh, own);
    if (!rc && (fflush(out) || ferror(out)))
        rc = PP_EIO;
    return rc;
}

int pp_wh_insights_print(struct pp_wh *wh, enum pp_wh_format format, FILE *out)
{
    return print_all(wh, NULL, format, out);
}

int pp_wh_insights_print_snapshot(struct pp_wh *wh, const char *run_date, enum pp_wh_format format,
                                  FILE *out)
{
    return print_all(wh, run_date, format, out);
}

int pp_wh_insights_snapshot(struct pp_wh *wh, const char *run_date)
{
    return wh->ops->insights_snapshot(wh, run_date);
}
