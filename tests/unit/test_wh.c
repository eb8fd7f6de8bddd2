/* test_wh.c: the SQLite warehouse: schema, upserts, offsets in transactions, the nine insights;
 * the PostgreSQL backend's pure helpers (value conversion, COPY escaping; no server needed). */
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "pp_err.h"
#include "pp_test.h"
#include "pp_wh.h"
#include "wh_pg.h"

static char dir[] = "/tmp/test_wh.XXXXXX";

static struct pp_wh *open_wh(const char *leaf)
{
    char path[256], err[256] = "";
    snprintf(path, sizeof(path), "%s/%s", dir, leaf);
    struct pp_wh *wh = pp_wh_open(path, err, sizeof(err));
    if (!wh)
        fprintf(stderr, "pp_wh_open: %s\n", err);
    return wh;
}

/* Rows built by hand (no dependency on the cleaning code): TEXT points at literals. */
static void val_text(struct pp_val *v, const char *s)
{
    memset(v, 0, sizeof(*v));
    v->type = s ? PP_VAL_TEXT : PP_VAL_NULL;
    v->s = s;
    v->n = s ? strlen(s) : 0;
}

static void val_int(struct pp_val *v, int64_t i, int null)
{
    memset(v, 0, sizeof(*v));
    v->type = null ? PP_VAL_NULL : PP_VAL_INT;
    v->i = i;
}

static void row_start(struct pp_row *row, enum pp_kind kind, int64_t ind, int ncols)
{
    memset(row, 0, sizeof(*row));
    row->kind = kind;
    row->id = ind;
    row->ncols = ncols;
    val_int(&row->col[0], ind, 0);
    for (int i = 1; i < ncols; i++)
        val_text(&row->col[i], NULL);
}

#define NUL (-1) /* a NULL integer */

static void pin_row(struct pp_row *row, int64_t ind, const char *category, int64_t fc,
                    const char *poster)
{
    row_start(row, PP_KIND_PIN, ind, 12);
    val_text(&row->col[1], "uuid");
    val_int(&row->col[4], fc, fc == NUL);
    val_text(&row->col[5], poster);
    val_int(&row->col[9], 1, 0);
    val_text(&row->col[11], category);
}

static int put_pin(struct pp_wh *wh, int64_t ind, const char *category, int64_t fc,
                   const char *poster)
{
    struct pp_row row;
    row_start(&row, PP_KIND_PIN, ind, 12);
    val_text(&row.col[1], "uuid");
    val_int(&row.col[4], fc, fc == NUL);
    val_text(&row.col[5], poster);
    val_int(&row.col[9], 1, 0);
    val_text(&row.col[11], category);
    return pp_wh_upsert(wh, &row);
}

static int put_geo(struct pp_wh *wh, int64_t ind, const char *country, const char *ts)
{
    struct pp_row row;
    row_start(&row, PP_KIND_GEO, ind, 4);
    val_text(&row.col[1], country);
    val_text(&row.col[2], "[1.5, -2.25]");
    val_text(&row.col[3], ts);
    return pp_wh_upsert(wh, &row);
}

static int put_user(struct pp_wh *wh, int64_t ind, const char *name, int64_t age,
                    const char *joined)
{
    struct pp_row row;
    row_start(&row, PP_KIND_USER, ind, 4);
    val_text(&row.col[1], name);
    val_int(&row.col[2], age, age == NUL);
    val_text(&row.col[3], joined);
    return pp_wh_upsert(wh, &row);
}

static int put_post(struct pp_wh *wh, int64_t ind, const char *cat, int64_t fc, const char *poster,
                    const char *country, const char *ts, const char *user, int64_t age,
                    const char *joined)
{
    return put_pin(wh, ind, cat, fc, poster) || put_geo(wh, ind, country, ts) ||
           put_user(wh, ind, user, age, joined);
}

static int64_t scalar(const char *path_leaf, const char *sql)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, path_leaf);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -999;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void test_schema(void)
{
    struct pp_wh *wh = open_wh("schema.db");
    PP_CHECK(wh != NULL);
    if (!wh)
        return;
    int64_t n = -1;
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        PP_CHECK_INT(pp_wh_count(wh, (enum pp_kind)k, &n), 0);
        PP_CHECK_INT(n, 0);
        /* the warehouse's columns are the cleaning module's output columns */
        int ncols = 0;
        const char *const *names = pp_clean_columns((enum pp_kind)k, &ncols);
        PP_CHECK(names != NULL && ncols > 0);
        for (int i = 0; names && i < ncols; i++)
            PP_CHECK_STR(pp_wh_column((enum pp_kind)k, i), names[i]);
        PP_CHECK(pp_wh_column((enum pp_kind)k, ncols) == NULL);
    }
    PP_CHECK_INT(pp_wh_count(wh, PP_KIND_NONE, &n), PP_EINVAL);
    pp_wh_close(wh);
    /* reopening runs no migration twice */
    wh = open_wh("schema.db");
    PP_CHECK(wh != NULL);
    pp_wh_close(wh);
    PP_CHECK_INT(scalar("schema.db", "SELECT COUNT(*) FROM pp_schema_version"), 3);
    PP_CHECK_INT(scalar("schema.db", "SELECT MAX(version) FROM pp_schema_version"), 3);
    PP_CHECK_INT(scalar("schema.db", "PRAGMA page_size"), 4096);
    PP_CHECK_INT(scalar("schema.db", "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
                                     " AND name LIKE 'insight\\_%' ESCAPE '\\'"),
                 PP_WH_NINSIGHTS);
    /* a newer schema than this build knows is refused, not silently used */
    char path[256], err[256] = "";
    snprintf(path, sizeof(path), "%s/schema.db", dir);
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "INSERT INTO pp_schema_version(version) VALUES (99)", NULL, NULL, NULL);
    sqlite3_close(db);
    wh = pp_wh_open(path, err, sizeof(err));
    PP_CHECK(wh == NULL);
    PP_CHECK(strstr(err, "newer") != NULL);
    pp_wh_close(wh);
}

static void test_upsert(void)
{
    struct pp_wh *wh = open_wh("upsert.db");
    if (!wh)
        return;
    struct pp_row row;
    int st = 0;
    row_start(&row, PP_KIND_USER, 7, 4);
    val_text(&row.col[1], "Ann Lee");
    val_int(&row.col[2], 30, 0);
    PP_CHECK_INT(pp_wh_upsert_status(wh, &row, &st), 0);
    PP_CHECK_INT(st, PP_WH_INSERTED);
    PP_CHECK_INT(pp_wh_upsert_status(wh, &row, &st), 0);
    PP_CHECK_INT(st, PP_WH_UNCHANGED);
    val_int(&row.col[2], 31, 0);
    val_text(&row.col[3], "2016-01-02 03:04:05");
    PP_CHECK_INT(pp_wh_upsert_status(wh, &row, &st), 0);
    PP_CHECK_INT(st, PP_WH_UPDATED);
    val_text(&row.col[3], NULL); /* a value becoming NULL is a change too */
    PP_CHECK_INT(pp_wh_upsert_status(wh, &row, &st), 0);
    PP_CHECK_INT(st, PP_WH_UPDATED);
    int64_t n = 0;
    PP_CHECK_INT(pp_wh_count(wh, PP_KIND_USER, &n), 0);
    PP_CHECK_INT(n, 1);
    row.ncols = 3; /* wrong shape for the kind */
    PP_CHECK_INT(pp_wh_upsert(wh, &row), PP_EINVAL);
    pp_wh_close(wh);
    PP_CHECK_INT(scalar("upsert.db", "SELECT age FROM \"user\" WHERE ind = 7"), 31);
    PP_CHECK_INT(scalar("upsert.db", "SELECT date_joined IS NULL FROM \"user\" WHERE ind = 7"), 1);
    PP_CHECK_INT(scalar("upsert.db", "SELECT typeof(user_name) = 'text' FROM \"user\""), 1);
}

/* One transaction of test_offsets_cas: upsert pin ind, move (pin, partition) from expect to
 * next and (geo, 1) from gexp to gnext when gnext >= 0; commit, or roll back on the first
 * failure (SQLite reports a lost CAS at once, PostgreSQL at the commit). @returns 0 or it. */
static int cas_txn(struct pp_wh *wh, const char *group, int64_t ind, int partition,
                   int64_t expect, int64_t next, int64_t gexp, int64_t gnext)
{
    int rc = pp_wh_begin(wh);
    rc = rc ? rc : put_pin(wh, ind, "cas", 1, "p");
    rc = rc ? rc : gnext >= 0 ? pp_wh_offset_set(wh, group, "geo", 1, gexp, gnext) : 0;
    rc = rc ? rc : pp_wh_offset_set(wh, group, "pin", partition, expect, next);
    rc = rc ? rc : pp_wh_commit(wh);
    if (rc)
        pp_wh_rollback(wh);
    return rc;
}

/* The positions' compare-and-set on spec (a SQLite file or, with PP_TEST_PG_URL, a
 * PostgreSQL server): a stale consumer's transaction -- rows and positions -- never commits,
 * on two connections as two consumer processes. */
static void test_offsets_cas(const char *spec)
{
    char err[256] = "", group[64];
    struct pp_wh *a = pp_wh_open(spec, err, sizeof(err));
    struct pp_wh *b = a ? pp_wh_open(spec, err, sizeof(err)) : NULL;
    PP_CHECK(a && b);
    if (!a || !b) {
        fprintf(stderr, "pp_wh_open: %s\n", err);
        pp_wh_close(a);
        return;
    }
    snprintf(group, sizeof(group), "cas-%d", (int)getpid()); /* a server may be reused */
    int64_t id = 1000000 + (int64_t)getpid() * 10;
    int64_t off = -1, n0 = -1, n = -1;
    PP_CHECK_INT(pp_wh_count(a, PP_KIND_PIN, &n0), 0);
    /* a and b both start pin/0 at 0 (no position stored); a commits first */
    PP_CHECK_INT(cas_txn(a, group, id + 1, 0, 0, 10, 0, -1), 0);
    PP_CHECK_INT(cas_txn(b, group, id + 2, 0, 0, 5, 0, -1), PP_ECONFLICT);
    PP_CHECK(strstr(pp_wh_errmsg(b), "position") != NULL);
    PP_CHECK_INT(pp_wh_offset_get(b, group, "pin", 0, &off), 0);
    PP_CHECK_INT(off, 10); /* b re-reads, goes on from there */
    PP_CHECK_INT(cas_txn(b, group, id + 2, 0, 10, 12, 0, -1), 0);
    /* a's next transaction (expects 10) is now stale: nothing of it commits, not even the
     * position of a partition b never touched */
    PP_CHECK_INT(cas_txn(a, group, id + 3, 0, 10, 20, 0, 4), PP_ECONFLICT);
    PP_CHECK_INT(pp_wh_offset_get(a, group, "geo", 1, &off), PP_ENOENT);
    PP_CHECK_INT(pp_wh_offset_get(a, group, "pin", 0, &off), 0);
    PP_CHECK_INT(off, 12);
    PP_CHECK_INT(pp_wh_count(a, PP_KIND_PIN, &n), 0);
    PP_CHECK_INT(n - n0, 2); /* id + 1 and id + 2 */
    /* several moves of one partition in a transaction; another partition's position */
    PP_CHECK_INT(cas_txn(a, group, id + 4, 7, 0, 3, 0, 4), 0);
    PP_CHECK_INT(pp_wh_begin(a), 0);
    PP_CHECK_INT(pp_wh_offset_set(a, group, "pin", 7, 3, 8), 0);
    PP_CHECK_INT(pp_wh_offset_set(a, group, "pin", 7, 8, 9), 0);
    PP_CHECK_INT(pp_wh_commit(a), 0);
    PP_CHECK_INT(pp_wh_offset_get(b, group, "pin", 7, &off), 0);
    PP_CHECK_INT(off, 9);
    /* outside a transaction too */
    PP_CHECK_INT(pp_wh_offset_set(b, group, "pin", 7, 9, 11), 0);
    PP_CHECK_INT(pp_wh_offset_set(a, group, "pin", 7, 9, 10), PP_ECONFLICT);
    PP_CHECK_INT(pp_wh_offset_get(a, group, "pin", 7, &off), 0);
    PP_CHECK_INT(off, 11);
    /* an existing ind (PostgreSQL: the transaction is redone through staging tables) */
    PP_CHECK_INT(cas_txn(b, group, id + 1, 7, 9, 12, 0, -1), PP_ECONFLICT);
    PP_CHECK_INT(cas_txn(b, group, id + 1, 7, 11, 12, 4, 5), 0);
    PP_CHECK_INT(pp_wh_offset_get(a, group, "pin", 7, &off), 0);
    PP_CHECK_INT(off, 12);
    PP_CHECK_INT(pp_wh_offset_get(a, group, "geo", 1, &off), 0);
    PP_CHECK_INT(off, 5);
    pp_wh_close(a);
    pp_wh_close(b);
}

/* Status of pin ind as pin_row(ind, category) would write it: PP_WH_UNCHANGED when stored so. */
static int pin_status(struct pp_wh *wh, int64_t ind, const char *category)
{
    struct pp_row row;
    int status = 0;
    pin_row(&row, ind, category, 10, "p");
    int rc = pp_wh_upsert_status(wh, &row, &status);
    return rc ? rc : status;
}

/* pp_wh_prep (PostgreSQL only; SQLite has none): rows encoded off the connection load as
 * pp_wh_upsert of each would, ordered by ind, latest of an ind winning, also after rows
 * upserted in the same transaction before them. */
static void test_prep(const char *spec)
{
    char err[256] = "";
    struct pp_wh *wh = pp_wh_open(spec, err, sizeof(err));
    PP_CHECK(wh != NULL);
    if (!wh)
        return;
    struct pp_wh_prep *prep = pp_wh_prep_new(wh);
    if (!pp_wh_is_url(spec)) {
        PP_CHECK(prep == NULL);
        pp_wh_close(wh);
        return;
    }
    PP_CHECK(prep != NULL);
    int64_t id = 2000000 + (int64_t)getpid() * 10, n0 = -1, n = -1;
    struct pp_row row;
    PP_CHECK_INT(pp_wh_count(wh, PP_KIND_PIN, &n0), 0);
    PP_CHECK_INT(pp_wh_begin(wh), 0);
    PP_CHECK_INT(put_pin(wh, id + 1, "a", 10, "p"), 0); /* buffered before the prep's rows */
    const char *cats[] = {"c", "b", "z", "y"};
    const int64_t ids[] = {id + 3, id + 2, id + 1, id + 2};
    for (int i = 0; i < 4; i++) {
        pin_row(&row, ids[i], cats[i], 10, "p");
        PP_CHECK_INT(pp_wh_prep_add(prep, &row), 0);
    }
    PP_CHECK(pp_wh_prep_bytes(prep) > 0);
    PP_CHECK_INT(pp_wh_prep_finish(prep), 0);
    PP_CHECK_INT(pp_wh_upsert_prep(wh, prep), 0);
    PP_CHECK_INT((int)pp_wh_prep_bytes(prep), 0); /* taken */
    PP_CHECK_INT(pp_wh_commit(wh), 0);
    PP_CHECK_INT(pp_wh_count(wh, PP_KIND_PIN, &n), 0);
    PP_CHECK_INT(n - n0, 3);
    PP_CHECK_INT(pin_status(wh, id + 1, "z"), PP_WH_UNCHANGED); /* latest wins */
    PP_CHECK_INT(pin_status(wh, id + 2, "y"), PP_WH_UNCHANGED);
    PP_CHECK_INT(pin_status(wh, id + 3, "c"), PP_WH_UNCHANGED);
    /* the prep is reusable; its rows alone in a transaction; an existing ind updates */
    PP_CHECK_INT(pp_wh_begin(wh), 0);
    pin_row(&row, id + 4, "x", 10, "p");
    PP_CHECK_INT(pp_wh_prep_add(prep, &row), 0);
    pin_row(&row, id + 3, "w", 10, "p");
    PP_CHECK_INT(pp_wh_prep_add(prep, &row), 0);
    PP_CHECK_INT(pp_wh_prep_finish(prep), 0);
    PP_CHECK_INT(pp_wh_upsert_prep(wh, prep), 0);
    PP_CHECK_INT(pp_wh_commit(wh), 0);
    PP_CHECK_INT(pin_status(wh, id + 3, "w"), PP_WH_UNCHANGED);
    PP_CHECK_INT(pin_status(wh, id + 4, "x"), PP_WH_UNCHANGED);
    /* rolled back: nothing of it */
    PP_CHECK_INT(pp_wh_begin(wh), 0);
    pin_row(&row, id + 5, "v", 10, "p");
    PP_CHECK_INT(pp_wh_prep_add(prep, &row), 0);
    PP_CHECK_INT(pp_wh_upsert_prep(wh, prep), 0);
    PP_CHECK_INT(pp_wh_rollback(wh), 0);
    PP_CHECK_INT(pp_wh_count(wh, PP_KIND_PIN, &n), 0);
    PP_CHECK_INT(n - n0, 4);
    pp_wh_prep_free(prep);
    pp_wh_close(wh);
}

static void test_offsets_txn(void)
{
    struct pp_wh *wh = open_wh("txn.db");
    struct pp_wh *reader = open_wh("txn.db");
    if (!wh || !reader)
        return;
    int64_t off = -1, n = -1;
    PP_CHECK_INT(pp_wh_offset_get(wh, "stream", "pin", 0, &off), PP_ENOENT);
    /* rows and offsets roll back together */
    PP_CHECK_INT(pp_wh_begin(wh), 0);
    PP_CHECK_INT(put_pin(wh, 1, "art", 10, "p"), 0);
    PP_CHECK_INT(pp_wh_offset_set(wh, "stream", "pin", 0, 0, 1), 0);
    /* a second connection reads (the committed state) while the writer holds its lock */
    PP_CHECK_INT(pp_wh_count(reader, PP_KIND_PIN, &n), 0);
    PP_CHECK_INT(n, 0);
    PP_CHECK_INT(pp_wh_rollback(wh), 0);
    PP_CHECK_INT(pp_wh_count(wh, PP_KIND_PIN, &n), 0);
    PP_CHECK_INT(n, 0);
    PP_CHECK_INT(pp_wh_offset_get(wh, "stream", "pin", 0, &off), PP_ENOENT);
    /* and commit together */
    PP_CHECK_INT(pp_wh_begin(wh), 0);
    PP_CHECK_INT(put_pin(wh, 1, "art", 10, "p"), 0);
    PP_CHECK_INT(put_pin(wh, 2, "art", 10, "p"), 0);
    PP_CHECK_INT(pp_wh_offset_set(wh, "stream", "pin", 0, 0, 2), 0);
    PP_CHECK_INT(pp_wh_offset_set(wh, "stream", "pin", 0, 2, 3), 0); /* moves on */
    PP_CHECK_INT(pp_wh_offset_set(wh, "stream", "geo", 1, 0, 5), 0);
    PP_CHECK_INT(pp_wh_commit(wh), 0);
    PP_CHECK_INT(pp_wh_count(reader, PP_KIND_PIN, &n), 0);
    PP_CHECK_INT(n, 2);
    PP_CHECK_INT(pp_wh_offset_get(reader, "stream", "pin", 0, &off), 0);
    PP_CHECK_INT(off, 3);
    PP_CHECK_INT(pp_wh_offset_get(reader, "stream", "geo", 1, &off), 0);
    PP_CHECK_INT(off, 5);
    PP_CHECK_INT(pp_wh_offset_get(reader, "lake", "pin", 0, &off), PP_ENOENT);
    /* the next transaction starts where the last one ended (the CAS: test_offsets_cas) */
    PP_CHECK_INT(pp_wh_begin(wh), 0);
    PP_CHECK_INT(pp_wh_offset_set(wh, "stream", "geo", 1, 5, 6), 0);
    PP_CHECK_INT(pp_wh_commit(wh), 0);
    PP_CHECK_INT(pp_wh_offset_get(reader, "stream", "pin", 0, &off), 0);
    PP_CHECK_INT(off, 3);
    PP_CHECK_INT(pp_wh_offset_get(reader, "stream", "geo", 1, &off), 0);
    PP_CHECK_INT(off, 6);
    /* dead letters: once per position */
    PP_CHECK_INT(pp_wh_reject(wh, "pin", 0, 9, "bad", "{x", 2), 0);
    PP_CHECK_INT(pp_wh_reject(wh, "pin", 0, 9, "bad again", "{x", 2), 0);
    PP_CHECK_INT(pp_wh_reject(wh, "pin", 0, 10, "bad", "{y", 2), 0);
    pp_wh_close(reader);
    pp_wh_close(wh);
    PP_CHECK_INT(scalar("txn.db", "SELECT COUNT(*) FROM pp_rejects"), 2);
}

/* The hand-made dataset. Expected answers, derived by hand from PRODUCT.md "Insights":
 *
 * ind cat     fc   poster country ts   user age  joined
 *  1  art     100  P1     Albania 2018 U1   18   2015-01-01
 *  2  art     300  P2     Albania 2018 U2   24   2015-06-01
 *  3  travel  300  P3     Albania 2019 U3   25   2016-01-01
 *  4  travel  51   P4     Brazil  2019 U4   35   2016-01-01  (first sent as vehicles/999999)
 *  5  art     250  P5     Brazil  2017 U5   36   2014-01-01
 *  6  quotes  NULL NULL   Chile   2023 U6   50   2020-01-01
 *  7  quotes  10   P7     Chile   2022 U7   51   2021-01-01
 *  8  art     5000 P8     NULL    2022 U8   17   2020-05-05
 *  9  NULL    300  P9     Chile   2022 U9   60   2019-01-01
 * 10  art     200  P10    Albania 2018 U10  NULL NULL
 * 11  travel  99999 P11   Brazil  2019 (no user row: not in the inner join)
 * 12  travel  300  P12    Denmark 2020 U1   18   2015-01-01  (same user as 1)
 *
 * age groups: 1,2,12 -> 18-24 (18, 24); 3,4 -> 25-35 (25, 35); 5,6 -> 36-50 (36, 50);
 *             7,9 -> +50 (51, 60); 8 (17) and 10 (NULL) -> none.
 */
static void load_dataset(struct pp_wh *wh)
{
    PP_CHECK_INT(pp_wh_begin(wh), 0);
    PP_CHECK_INT(put_post(wh, 4, "vehicles", 999999, "P4", "Brazil", "2019-03-03 00:00:00", "U4",
                          35, "2016-01-01 00:00:00"),
                 0);
    PP_CHECK_INT(put_post(wh, 1, "art", 100, "P1", "Albania", "2018-01-01 10:00:00", "U1", 18,
                          "2015-01-01 00:00:00"),
                 0);
    PP_CHECK_INT(put_post(wh, 2, "art", 300, "P2", "Albania", "2018-05-01 10:00:00", "U2", 24,
                          "2015-06-01 00:00:00"),
                 0);
    PP_CHECK_INT(put_post(wh, 3, "travel", 300, "P3", "Albania", "2019-01-01 10:00:00", "U3", 25,
                          "2016-01-01 00:00:00"),
                 0);
    PP_CHECK_INT(put_post(wh, 4, "travel", 51, "P4", "Brazil", "2019-03-03 00:00:00", "U4", 35,
                          "2016-01-01 00:00:00"),
                 0);
    PP_CHECK_INT(put_post(wh, 5, "art", 250, "P5", "Brazil", "2017-12-31 23:59:59", "U5", 36,
                          "2014-01-01 00:00:00"),
                 0);
    PP_CHECK_INT(put_post(wh, 6, "quotes", NUL, NULL, "Chile", "2023-01-01 00:00:00", "U6", 50,
                          "2020-01-01 00:00:00"),
                 0);
    PP_CHECK_INT(put_post(wh, 7, "quotes", 10, "P7", "Chile", "2022-01-01 00:00:00", "U7", 51,
                          "2021-01-01 00:00:00"),
                 0);
    PP_CHECK_INT(put_post(wh, 8, "art", 5000, "P8", NULL, "2022-06-01 00:00:00", "U8", 17,
                          "2020-05-05 00:00:00"),
                 0);
    PP_CHECK_INT(put_post(wh, 9, NULL, 300, "P9", "Chile", "2022-07-01 00:00:00", "U9", 60,
                          "2019-01-01 00:00:00"),
                 0);
    PP_CHECK_INT(
        put_post(wh, 10, "art", 200, "P10", "Albania", "2018-02-01 00:00:00", "U10", NUL, NULL), 0);
    PP_CHECK_INT(put_pin(wh, 11, "travel", 99999, "P11"), 0);
    PP_CHECK_INT(put_geo(wh, 11, "Brazil", "2019-01-01 00:00:00"), 0);
    PP_CHECK_INT(put_post(wh, 12, "travel", 300, "P12", "Denmark", "2020-01-01 00:00:00", "U1", 18,
                          "2015-01-01 00:00:00"),
                 0);
    PP_CHECK_INT(pp_wh_commit(wh), 0);
}

/* Expected json, insight by insight:
 * - by country: Albania art 3 (1,2,10; travel 1); Brazil art 1 / travel 1 tie (11 is not
 *   joined, 4's first version replaced); Chile quotes 2 (9 has NULL category); Denmark travel 1;
 *   8 (NULL country) left out.
 * - by year 2018-2022: 2018 art 3; 2019 travel 2; 2020 travel 1; 2022 art 1 / quotes 1
 *   (9 NULL category); 2017 (5) and 2023 (6) filtered out.
 * - top user: Albania P2 and P3 tie at 300; Brazil P5 250; Chile P9 300 (6 NULL fc);
 *   Denmark P12 300; 8 (5000) has no country.
 * - top country: the top users' maximum is 300: Albania, Chile, Denmark (Brazil 250 not).
 * - by age group: 18-24 art 2 (travel 1); 25-35 travel 2; 36-50 art 1 / quotes 1 tie;
 *   +50 quotes 1 (9 NULL category).
 * - median by age group: 18-24 [100,300,300] -> 300 (odd); 25-35 [51,300] -> 175.5 (even);
 *   36-50 [250] (6 is NULL) -> 250; +50 [10,300] -> 155.
 * - users joined 2015-2020, distinct (user_name, date_joined): 2015 {U1, U2} = 2 (1 and 12 are
 *   one user); 2016 {U3, U4} = 2; 2019 {U9} = 1; 2020 {U6, U8} = 2; 2014, 2021, NULL out.
 * - median by join year: 2015 [100,300,300] -> 300; 2016 [51,300] -> 175.5; 2019 -> 300;
 *   2020 [5000] (6 NULL) -> 5000.
 * - by age group and join year: 18-24/2015 -> 300; 25-35/2016 -> 175.5; 36-50: 5 joined 2014,
 *   6 has NULL fc -> no row; +50: 7 joined 2021 -> only 9: 2019 -> 300.
 */
static const char expected_json[] =
    "{\n"
    "  \"popular_category_by_country\": [\n"
    "    {\"country\": \"Albania\", \"category\": \"art\", \"category_count\": 3},\n"
    "    {\"country\": \"Brazil\", \"category\": \"art\", \"category_count\": 1},\n"
    "    {\"country\": \"Brazil\", \"category\": \"travel\", \"category_count\": 1},\n"
    "    {\"country\": \"Chile\", \"category\": \"quotes\", \"category_count\": 2},\n"
    "    {\"country\": \"Denmark\", \"category\": \"travel\", \"category_count\": 1}\n"
    "  ],\n"
    "  \"popular_category_by_year\": [\n"
    "    {\"post_year\": 2018, \"category\": \"art\", \"category_count\": 3},\n"
    "    {\"post_year\": 2019, \"category\": \"travel\", \"category_count\": 2},\n"
    "    {\"post_year\": 2020, \"category\": \"travel\", \"category_count\": 1},\n"
    "    {\"post_year\": 2022, \"category\": \"art\", \"category_count\": 1},\n"
    "    {\"post_year\": 2022, \"category\": \"quotes\", \"category_count\": 1}\n"
    "  ],\n"
    "  \"top_user_by_country\": [\n"
    "    {\"country\": \"Albania\", \"poster_name\": \"P2\", \"follower_count\": 300},\n"
    "    {\"country\": \"Albania\", \"poster_name\": \"P3\", \"follower_count\": 300},\n"
    "    {\"country\": \"Brazil\", \"poster_name\": \"P5\", \"follower_count\": 250},\n"
    "    {\"country\": \"Chile\", \"poster_name\": \"P9\", \"follower_count\": 300},\n"
    "    {\"country\": \"Denmark\", \"poster_name\": \"P12\", \"follower_count\": 300}\n"
    "  ],\n"
    "  \"top_country_by_followers\": [\n"
    "    {\"country\": \"Albania\", \"follower_count\": 300},\n"
    "    {\"country\": \"Chile\", \"follower_count\": 300},\n"
    "    {\"country\": \"Denmark\", \"follower_count\": 300}\n"
    "  ],\n"
    "  \"popular_category_by_age_group\": [\n"
    "    {\"age_group\": \"18-24\", \"category\": \"art\", \"category_count\": 2},\n"
    "    {\"age_group\": \"25-35\", \"category\": \"travel\", \"category_count\": 2},\n"
    "    {\"age_group\": \"36-50\", \"category\": \"art\", \"category_count\": 1},\n"
    "    {\"age_group\": \"36-50\", \"category\": \"quotes\", \"category_count\": 1},\n"
    "    {\"age_group\": \"+50\", \"category\": \"quotes\", \"category_count\": 1}\n"
    "  ],\n"
    "  \"median_followers_by_age_group\": [\n"
    "    {\"age_group\": \"18-24\", \"median_follower_count\": 300},\n"
    "    {\"age_group\": \"25-35\", \"median_follower_count\": 175.5},\n"
    "    {\"age_group\": \"36-50\", \"median_follower_count\": 250},\n"
    "    {\"age_group\": \"+50\", \"median_follower_count\": 155}\n"
    "  ],\n"
    "  \"users_joined_by_year\": [\n"
    "    {\"post_year\": 2015, \"number_users_joined\": 2},\n"
    "    {\"post_year\": 2016, \"number_users_joined\": 2},\n"
    "    {\"post_year\": 2019, \"number_users_joined\": 1},\n"
    "    {\"post_year\": 2020, \"number_users_joined\": 2}\n"
    "  ],\n"
    "  \"median_followers_by_join_year\": [\n"
    "    {\"post_year\": 2015, \"median_follower_count\": 300},\n"
    "    {\"post_year\": 2016, \"median_follower_count\": 175.5},\n"
    "    {\"post_year\": 2019, \"median_follower_count\": 300},\n"
    "    {\"post_year\": 2020, \"median_follower_count\": 5000}\n"
    "  ],\n"
    "  \"median_followers_by_age_group_and_join_year\": [\n"
    "    {\"age_group\": \"18-24\", \"post_year\": 2015, \"median_follower_count\": 300},\n"
    "    {\"age_group\": \"25-35\", \"post_year\": 2016, \"median_follower_count\": 175.5},\n"
    "    {\"age_group\": \"+50\", \"post_year\": 2019, \"median_follower_count\": 300}\n"
    "  ]\n"
    "}\n";

/* Print into a string. @returns owned (free()) or NULL. */
static char *print_str(struct pp_wh *wh, const char *run_date, enum pp_wh_format format, int *rc)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f)
        return NULL;
    *rc = run_date ? pp_wh_insights_print_snapshot(wh, run_date, format, f)
                   : pp_wh_insights_print(wh, format, f);
    fclose(f);
    return s;
}

static void check_json(const char *got)
{
    PP_CHECK(got != NULL);
    if (!got)
        return;
    if (strcmp(got, expected_json)) {
        fprintf(stderr, "insights json differs; got:\n%s", got);
        PP_CHECK(0);
    } else {
        PP_CHECK(1);
    }
}

static void test_insights(void)
{
    struct pp_wh *wh = open_wh("insights.db");
    if (!wh)
        return;
    int rc = -1;
    /* empty warehouse: every insight present, empty */
    char *s = print_str(wh, NULL, PP_WH_JSON, &rc);
    PP_CHECK_INT(rc, 0);
    PP_CHECK(s && strstr(s, "\"popular_category_by_country\": []") &&
             strstr(s, "\"median_followers_by_age_group_and_join_year\": []\n}\n"));
    free(s);
    load_dataset(wh);
    s = print_str(wh, NULL, PP_WH_JSON, &rc);
    PP_CHECK_INT(rc, 0);
    check_json(s);
    free(s);

    /* a snapshot keeps that day's answers while the warehouse moves on */
    PP_CHECK_INT(pp_wh_insights_snapshot(wh, "2024-01-01"), 0);
    PP_CHECK_INT(pp_wh_insights_snapshot(wh, "2024-01-01"), 0); /* rerun replaces, no dups */
    PP_CHECK_INT(put_post(wh, 13, "art", 7, "P13", "Estonia", "2021-01-01 00:00:00", "U13", 40,
                          "2017-01-01 00:00:00"),
                 0);
    s = print_str(wh, "2024-01-01", PP_WH_JSON, &rc);
    PP_CHECK_INT(rc, 0);
    check_json(s);
    free(s);
    s = print_str(wh, NULL, PP_WH_JSON, &rc);
    PP_CHECK(s && strstr(s, "\"Estonia\""));
    free(s);
    s = print_str(wh, "2023-12-31", PP_WH_JSON, &rc);
    PP_CHECK_INT(rc, PP_ENOENT);
    free(s);

    /* csv and table carry the same rows */
    s = print_str(wh, "2024-01-01", PP_WH_CSV, &rc);
    PP_CHECK_INT(rc, 0);
    PP_CHECK(s && strstr(s, "# top_country_by_followers\ncountry,follower_count\nAlbania,300\n"
                            "Chile,300\nDenmark,300\n\n"));
    PP_CHECK(s && strstr(s, "# median_followers_by_age_group\nage_group,median_follower_count\n"
                            "18-24,300\n25-35,175.5\n"));
    free(s);
    s = print_str(wh, "2024-01-01", PP_WH_TABLE, &rc);
    PP_CHECK_INT(rc, 0);
    PP_CHECK(s && strstr(s, "top_country_by_followers (3 rows)\n  country  follower_count\n"));
    PP_CHECK(s && strstr(s, "  Denmark             300\n"));
    free(s);
    pp_wh_close(wh);
    PP_CHECK_INT(scalar("insights.db", "SELECT COUNT(*) FROM insight_top_user_by_country"), 5);
}

/* RFC 4180 quoting and JSON escaping of awkward text. */
static void test_quoting(void)
{
    struct pp_wh *wh = open_wh("quote.db");
    if (!wh)
        return;
    PP_CHECK_INT(put_post(wh, 1, "art", 1, "Zoë \"Z\"", "Korea, \"South\"", "2019-01-01 00:00:00",
                          "U", 30, "2016-01-01 00:00:00"),
                 0);
    int rc = -1;
    char *s = print_str(wh, NULL, PP_WH_CSV, &rc);
    PP_CHECK_INT(rc, 0);
    PP_CHECK(s && strstr(s, "\n\"Korea, \"\"South\"\"\",art,1\n"));
    PP_CHECK(s && strstr(s, "\n\"Korea, \"\"South\"\"\",\"Zoë \"\"Z\"\"\",1\n"));
    free(s);
    s = print_str(wh, NULL, PP_WH_JSON, &rc);
    PP_CHECK(s && strstr(s, "{\"country\": \"Korea, \\\"South\\\"\", \"poster_name\": "
                            "\"Zoë \\\"Z\\\"\", \"follower_count\": 1}"));
    free(s);
    pp_wh_close(wh);
}

/* Value c of a PostgreSQL table as text input ("<NULL>" for NULL, "<ERR>" on error). */
static const char *pg_val(enum pp_kind kind, int c, const struct pp_val *v, struct pp_buf *b)
{
    pp_buf_reset(b);
    int rc = wh_pg_value(&wh_pg_table(kind)->cols[c], v, b);
    return rc == 1 ? "<NULL>" : rc < 0 ? "<ERR>" : pp_buf_putc(b, '\0') ? "<ERR>" : b->data;
}

static void test_pg_helpers(void)
{
    struct pp_buf b;
    struct pp_val v;
    pp_buf_init(&b, 0);
    PP_CHECK(pp_wh_is_url("postgresql://u@127.0.0.1:5432/db"));
    PP_CHECK(pp_wh_is_url("postgres://h/db"));
    PP_CHECK(!pp_wh_is_url("pinpipe-data/warehouse.db"));
    PP_CHECK(!pp_wh_is_url("postgresql.db"));
    /* the PostgreSQL tables have pp_wh_column()'s names and order */
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        const struct wh_pg_table *t = wh_pg_table((enum pp_kind)k);
        for (int i = 0; i < t->ncols; i++)
            PP_CHECK_STR(t->cols[i].name, pp_wh_column((enum pp_kind)k, i));
        PP_CHECK(pp_wh_column((enum pp_kind)k, t->ncols) == NULL);
    }
    /* coordinates "[lat, lon]" -> double precision[] input, digits kept */
    val_text(&v, "[-89.9787, -173.293]");
    PP_CHECK_STR(pg_val(PP_KIND_GEO, 2, &v, &b), "{-89.9787,-173.293}");
    val_text(&v, "[5.0, 1e-05]");
    PP_CHECK_STR(pg_val(PP_KIND_GEO, 2, &v, &b), "{5.0,1e-05}");
    val_text(&v, "[1.5]");
    PP_CHECK_STR(pg_val(PP_KIND_GEO, 2, &v, &b), "<ERR>");
    val_text(&v, "1.5, 2");
    PP_CHECK_STR(pg_val(PP_KIND_GEO, 2, &v, &b), "<ERR>");
    val_text(&v, "[1; 2]");
    PP_CHECK_STR(pg_val(PP_KIND_GEO, 2, &v, &b), "<ERR>");
    val_text(&v, NULL);
    PP_CHECK_STR(pg_val(PP_KIND_GEO, 2, &v, &b), "<NULL>");
    /* timestamps are UTC whatever the session's TimeZone */
    val_text(&v, "2020-08-28 03:52:47");
    PP_CHECK_STR(pg_val(PP_KIND_GEO, 3, &v, &b), "2020-08-28 03:52:47+00");
    /* integers; NUL bytes dropped from text, a value left empty is NULL */
    val_int(&v, -42, 0);
    PP_CHECK_STR(pg_val(PP_KIND_PIN, 4, &v, &b), "-42");
    val_int(&v, 0, 1);
    PP_CHECK_STR(pg_val(PP_KIND_PIN, 4, &v, &b), "<NULL>");
    memset(&v, 0, sizeof(v));
    v.type = PP_VAL_TEXT;
    v.s = "a\0b\0";
    v.n = 4;
    PP_CHECK_STR(pg_val(PP_KIND_PIN, 2, &v, &b), "ab");
    v.s = "\0";
    v.n = 1;
    PP_CHECK_STR(pg_val(PP_KIND_PIN, 2, &v, &b), "<NULL>");
    /* COPY text escaping */
    pp_buf_reset(&b);
    PP_CHECK_INT(wh_pg_copy_escape(&b, "a\\b\tc\nd\re\\N", 12), 0);
    PP_CHECK_STR(b.data, "a\\\\b\\tc\\nd\\re\\\\N");
    /* a whole COPY line: columns, \N for NULL, the sequence number last */
    struct pp_row row;
    row_start(&row, PP_KIND_USER, 7, 4);
    val_text(&row.col[1], "Tab\tName");
    val_int(&row.col[2], 33, 0);
    struct pp_buf line, scratch;
    pp_buf_init(&line, 0);
    pp_buf_init(&scratch, 0);
    PP_CHECK_INT(wh_pg_copy_row(&line, &row, &scratch), 0);
    PP_CHECK_STR(line.data, "7\tTab\\tName\t33\t\\N\n");
    /* the same row as a binary COPY tuple: int16 field count, then per field an int32 length
     * (-1 = NULL) and the value in network order (bigint: 8 bytes; text: its bytes, unescaped) */
    pp_buf_reset(&line);
    PP_CHECK_INT(wh_pg_bin_row(&line, &row, &scratch), 0);
    static const unsigned char want[] = {
        0, 4,                                          /* 4 fields */
        0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7,            /* ind 7 */
        0, 0, 0, 8, 'T', 'a', 'b', '\t', 'N', 'a', 'm', 'e', /* first_name */
        0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 33,           /* age 33 */
        0xff, 0xff, 0xff, 0xff};                       /* date_joined NULL */
    PP_CHECK_INT((int)line.len, (int)sizeof(want));
    PP_CHECK(line.len == sizeof(want) && !memcmp(line.data, want, sizeof(want)));
    /* a value that does not convert leaves nothing behind */
    size_t before = line.len;
    val_text(&row.col[2], "not a number");
    PP_CHECK(wh_pg_bin_row(&line, &row, &scratch) != 0);
    PP_CHECK_INT((int)line.len, (int)before);
    pp_buf_free(&line);
    pp_buf_free(&scratch);
    /* the set of buffered inds (duplicates within a load) */
    struct wh_pg_ids ids;
    memset(&ids, 0, sizeof(ids));
    int fresh = 0;
    for (int64_t i = -3000; i < 3000; i++)
        fresh += wh_pg_ids_add(&ids, i * 7919) == 0;
    PP_CHECK_INT(fresh, 6000);
    PP_CHECK_INT(wh_pg_ids_add(&ids, -3000 * 7919), 1);
    PP_CHECK_INT(wh_pg_ids_add(&ids, INT64_MIN), 0);
    PP_CHECK_INT(wh_pg_ids_add(&ids, INT64_MIN), 1);
    wh_pg_ids_clear(&ids);
    PP_CHECK_INT(wh_pg_ids_add(&ids, 0), 0);
    wh_pg_ids_free(&ids);
    /* dead letters: invalid UTF-8 -> U+FFFD, NUL dropped, overlongs and surrogates invalid */
    pp_buf_reset(&b);
    PP_CHECK_INT(wh_pg_utf8(&b, "ok\xff\0\xc3\xa9\xc0\xaf\xed\xa0\x80z", 13), 0);
    PP_CHECK_STR(b.data, "ok\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                         "\xef\xbf\xbdz");
    pp_buf_free(&b);
    char red[128];
    PP_CHECK_STR(pp_wh_redact("postgresql://u:s3cr3t@h:5/db", red, sizeof(red)),
                 "postgresql://u:***@h:5/db");
    PP_CHECK_STR(pp_wh_redact("postgres://h/db?user=u&password=abcdef&x=1", red, sizeof(red)),
                 "postgres://h/db?user=u&password=***&x=1");
    PP_CHECK_STR(pp_wh_redact("postgresql://u@h/db", red, sizeof(red)), "postgresql://u@h/db");
    PP_CHECK_STR(pp_wh_redact("data/warehouse.db", red, sizeof(red)), "data/warehouse.db");
    PP_CHECK_STR(pp_wh_redact("postgresql://u:longpassword@h/db", red, 20), "postgresql://u:***@");
    /* no server: open fails with a message, no password in it */
    char err[512] = "";
    struct pp_wh *wh =
        pp_wh_open("postgresql://u:secret@127.0.0.1:1/db?connect_timeout=2", err, sizeof(err));
    PP_CHECK(wh == NULL);
    PP_CHECK(err[0] != '\0' && !strstr(err, "secret"));
    pp_wh_close(wh);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_schema();
    test_upsert();
    test_offsets_txn();
    char cas[300];
    snprintf(cas, sizeof(cas), "%s/cas.db", dir);
    test_offsets_cas(cas);
    test_prep(cas);
    if (getenv("PP_TEST_PG_URL")) { /* tests/integration/pg_warehouse.sh sets it */
        test_offsets_cas(getenv("PP_TEST_PG_URL"));
        test_prep(getenv("PP_TEST_PG_URL"));
    }
    test_insights();
    test_quoting();
    test_pg_helpers();
    if (getenv("TEST_WH_KEEP")) {
        printf("kept %s\n", dir);
        PP_TEST_DONE();
    }
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    PP_TEST_DONE();
}
