/* wh_sqlite.h: what the SQLite warehouse's own files share (not part of the pp_wh interface). */
#ifndef WH_SQLITE_H
#define WH_SQLITE_H

#include <sqlite3.h>

#include "pp_wh.h"

struct pp_wh {
    sqlite3 *db;
    sqlite3_stmt *ins[PP_KIND_COUNT]; /* INSERT ... ON CONFLICT(ind) DO NOTHING */
    sqlite3_stmt *upd[PP_KIND_COUNT]; /* UPDATE ... WHERE ind=?1 AND <some column differs> */
    sqlite3_stmt *cnt[PP_KIND_COUNT];
    sqlite3_stmt *off_set, *off_get, *reject;
    sqlite3_stmt *begin, *commit, *rollback;
};

/* Prepare sql once into *slot (cached for the warehouse's lifetime). @returns 0 or PP_EIO. */
int wh_prepare(struct pp_wh *wh, sqlite3_stmt **slot, const char *sql);
/* Run one or more statements without results. @returns 0 or PP_EIO. */
int wh_exec(struct pp_wh *wh, const char *sql);

/* Schema DDL of the insight tables (insights.c), run by the version-1 migration. */
int wh_insights_schema(struct pp_wh *wh);

#endif
