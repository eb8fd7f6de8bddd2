/* wh_sqlite.h: what the SQLite warehouse's own files share (not part of the pp_wh interface). */
#ifndef WH_SQLITE_H
#define WH_SQLITE_H

#include <sqlite3.h>

#include "wh_int.h"

struct wh_sqlite {
    struct pp_wh base; /* first: a struct pp_wh * of this backend points here */
    sqlite3 *db;
    sqlite3_stmt *ins[PP_KIND_COUNT]; /* INSERT ... ON CONFLICT(ind) DO NOTHING */
    sqlite3_stmt *upd[PP_KIND_COUNT]; /* UPDATE ... WHERE ind=?1 AND <some column differs> */
    sqlite3_stmt *cnt[PP_KIND_COUNT];
    sqlite3_stmt *off_set, *off_get, *reject;
    sqlite3_stmt *begin, *commit, *rollback;
    char err[256]; /* pinpipe's own error of the transaction (a lost position CAS), else "" */
};

/* Prepare sql once into *slot (cached for the warehouse's lifetime). @returns 0 or PP_EIO. */
int wh_prepare(struct wh_sqlite *wh, sqlite3_stmt **slot, const char *sql);
/* Run one or more statements without results. @returns 0 or PP_EIO. */
int wh_exec(struct wh_sqlite *wh, const char *sql);
/* Transactions (sqlite.c), as pp_wh_begin/commit/rollback. */
int wh_sq_begin(struct pp_wh *base);
int wh_sq_commit(struct pp_wh *base);
int wh_sq_rollback(struct pp_wh *base);

/* sq_insights.c: schema DDL of the insight tables, run by the version-1 migration, and the
 * insight operations of struct wh_ops. */
int wh_insights_schema(struct wh_sqlite *wh);
int wh_sq_read_begin(struct pp_wh *base, int *own);
void wh_sq_read_end(struct pp_wh *base, int own);
int wh_sq_snapshot_exists(struct pp_wh *base, const char *run_date);
int wh_sq_insight_query(struct pp_wh *base, int i, const char *run_date, struct wh_result *res);
int wh_sq_insights_snapshot(struct pp_wh *base, const char *run_date);

#endif
