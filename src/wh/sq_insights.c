/* sq_insights.c: the SQLite warehouse's insight tables, queries and snapshots (SQL in insights.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp_buf.h"
#include "pp_err.h"
#include "wh_sqlite.h"

int wh_insights_schema(struct wh_sqlite *wh)
{
    if (wh_exec(wh, "CREATE TABLE IF NOT EXISTS pp_insight_runs (run_date TEXT PRIMARY KEY,"
                    " created_at TEXT NOT NULL)"))
        return PP_EIO;
    for (int i = 0; i < PP_WH_NINSIGHTS; i++) {
        const struct wh_insight *in = wh_insight_get(i);
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "CREATE TABLE IF NOT EXISTS insight_%s (run_date TEXT NOT NULL, %s);"
                 "CREATE INDEX IF NOT EXISTS insight_%s_run ON insight_%s (run_date)",
                 in->name, in->sq.ddl, in->name, in->name);
        if (wh_exec(wh, sql))
            return PP_EIO;
    }
    return 0;
}

static int result_row(struct wh_result *res, sqlite3_stmt *st)
{
    struct wh_cell *row = wh_result_add(res);
    if (!row)
        return PP_ENOMEM;
    for (int c = 0; c < res->ncols; c++) {
        int type = sqlite3_column_type(st, c);
        if (type == SQLITE_INTEGER) {
            row[c].type = WH_CELL_INT;
            row[c].i = sqlite3_column_int64(st, c);
        } else if (type == SQLITE_FLOAT) {
            row[c].type = WH_CELL_REAL;
            row[c].d = sqlite3_column_double(st, c);
        } else if (type != SQLITE_NULL) {
            row[c].type = WH_CELL_TEXT;
            const char *s = (const char *)sqlite3_column_text(st, c);
            if (!s || !(row[c].s = strdup(s)))
                return PP_ENOMEM;
        }
    }
    return 0;
}

/* Run sql (with run_date bound to ?1 when given) and collect its rows. */
static int query(struct wh_sqlite *wh, const char *sql, const char *run_date, struct wh_result *res)
{
    sqlite3_stmt *st = NULL;
    memset(res, 0, sizeof(*res));
    if (sqlite3_prepare_v2(wh->db, sql, -1, &st, NULL) != SQLITE_OK)
        return PP_EIO;
    int rc = 0, n = sqlite3_column_count(st);
    res->ncols = n < 8 ? n : 8;
    for (int c = 0; !rc && c < res->ncols; c++)
        if (!(res->names[c] = strdup(sqlite3_column_name(st, c))))
            rc = PP_ENOMEM;
    if (!rc && run_date && sqlite3_bind_text(st, 1, run_date, -1, SQLITE_STATIC))
        rc = PP_EIO;
    int s = SQLITE_DONE;
    while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW)
        rc = result_row(res, st);
    if (!rc && s != SQLITE_DONE)
        rc = PP_EIO;
    sqlite3_finalize(st);
    if (rc)
        wh_result_free(res);
    return rc;
}

int wh_sq_read_begin(struct pp_wh *base, int *own)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    *own = sqlite3_get_autocommit(wh->db);
    return *own && wh_exec(wh, "BEGIN") ? PP_EIO : 0;
}

void wh_sq_read_end(struct pp_wh *base, int own)
{
    if (own)
        wh_exec((struct wh_sqlite *)base, "COMMIT");
}

int wh_sq_snapshot_exists(struct pp_wh *base, const char *run_date)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(wh->db, "SELECT 1 FROM pp_insight_runs WHERE run_date = ?1", -1,
                                &st, NULL) == SQLITE_OK &&
                     sqlite3_bind_text(st, 1, run_date, -1, SQLITE_STATIC) == SQLITE_OK
                 ? 0
                 : PP_EIO;
    int s = rc ? SQLITE_ERROR : sqlite3_step(st);
    rc = rc ? rc : s == SQLITE_ROW ? 0 : s == SQLITE_DONE ? PP_ENOENT : PP_EIO;
    sqlite3_finalize(st);
    return rc;
}

int wh_sq_insight_query(struct pp_wh *base, int i, const char *run_date, struct wh_result *res)
{
    const struct wh_insight *in = wh_insight_get(i);
    struct pp_buf sql;
    pp_buf_init(&sql, 0);
    int rc = run_date
                 ? pp_buf_printf(&sql, "SELECT %s FROM insight_%s WHERE run_date = ?1 ORDER BY %s",
                                 in->cols, in->name, in->sq.order)
                 : pp_buf_printf(&sql, "SELECT * FROM (%s) ORDER BY %s", in->sq.sql, in->sq.order);
    rc = rc ? rc : query((struct wh_sqlite *)base, sql.data, run_date, res);
    pp_buf_free(&sql);
    return rc;
}

static int exec_bound(struct wh_sqlite *wh, const char *sql, const char *run_date)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(wh->db, sql, -1, &st, NULL) == SQLITE_OK &&
                     sqlite3_bind_text(st, 1, run_date, -1, SQLITE_STATIC) == SQLITE_OK &&
                     sqlite3_step(st) == SQLITE_DONE
                 ? 0
                 : PP_EIO;
    sqlite3_finalize(st);
    return rc;
}

int wh_sq_insights_snapshot(struct pp_wh *base, const char *run_date)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    if (wh_sq_begin(base))
        return PP_EIO;
    int rc = exec_bound(wh,
                        "INSERT INTO pp_insight_runs (run_date, created_at) VALUES (?1,"
                        " strftime('%Y-%m-%d %H:%M:%S','now')) ON CONFLICT (run_date)"
                        " DO UPDATE SET created_at = excluded.created_at",
                        run_date);
    for (int i = 0; !rc && i < PP_WH_NINSIGHTS; i++) {
        const struct wh_insight *in = wh_insight_get(i);
        char del[128];
        struct pp_buf sql;
        pp_buf_init(&sql, 0);
        snprintf(del, sizeof(del), "DELETE FROM insight_%s WHERE run_date = ?1", in->name);
        rc = exec_bound(wh, del, run_date);
        rc = rc ? rc
                : pp_buf_printf(&sql,
                                "INSERT INTO insight_%s (run_date, %s) SELECT ?1, %s FROM (%s)",
                                in->name, in->cols, in->cols, in->sq.sql);
        rc = rc ? rc : exec_bound(wh, sql.data, run_date);
        pp_buf_free(&sql);
    }
    if (rc) {
        wh_sq_rollback(base);
        return PP_EIO;
    }
    return wh_sq_commit(base);
}
