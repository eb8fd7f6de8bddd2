/* wh_int.h: what the warehouse backends share: the ops table behind pp_wh_*, insight results. */
#ifndef WH_INT_H
#define WH_INT_H

#include <stdint.h>
#include <stdio.h>

#include "pp_wh.h"

/* The common head of every backend's handle; pp_wh_* dispatch through ops. */
struct pp_wh {
    const struct wh_ops *ops;
};

/* One cell of an insight result. */
enum wh_cell_type { WH_CELL_NULL, WH_CELL_INT, WH_CELL_REAL, WH_CELL_TEXT };

struct wh_cell {
    enum wh_cell_type type;
    int64_t i;
    double d;
    char *s; /* owned */
};

/* One result set, held so that the table format can align it. */
struct wh_result {
    int ncols;
    char *names[8];
    size_t nrows, cap;
    struct wh_cell *cells; /* nrows * ncols */
};

/* Append an empty row of res->ncols NULL cells. @returns the row, NULL when out of memory. */
struct wh_cell *wh_result_add(struct wh_result *res);
void wh_result_free(struct wh_result *res);

/* One insight in both SQL dialects: DDL of insight_<name>'s columns after run_date, ORDER BY
 * of the key columns, the live computation (columns named as in cols). */
struct wh_dialect {
    const char *ddl, *order, *sql;
};
struct wh_insight {
    const char *name;
    const char *cols; /* column names, in output order */
    struct wh_dialect sq, pg;
};
/* @returns static: insight i (0..PP_WH_NINSIGHTS-1), NULL past the end. */
const struct wh_insight *wh_insight_get(int i);

/* The message of a lost positions compare-and-set (PP_ECONFLICT), into buf. */
void wh_conflict_msg(char *buf, size_t size, const char *group, const char *topic, int partition,
                     int64_t expect);

/* A backend. Every function returns 0 or a PP_E code as documented in pp_wh.h. */
struct wh_ops {
    void (*close)(struct pp_wh *wh);
    const char *(*errmsg)(struct pp_wh *wh);
    int (*set_sync)(struct pp_wh *wh, int full);
    int (*begin)(struct pp_wh *wh);
    int (*commit)(struct pp_wh *wh);
    int (*rollback)(struct pp_wh *wh);
    /* status NULL: the backend may defer the write to the commit (same transaction). */
    int (*upsert)(struct pp_wh *wh, const struct pp_row *row, int *status);
    /* pp_wh_prep (NULL: the backend has none) */
    struct pp_wh_prep *(*prep_new)(const struct pp_wh *wh);
    int (*upsert_prep)(struct pp_wh *wh, struct pp_wh_prep *prep);
    int (*offset_set)(struct pp_wh *wh, const char *group, const char *topic, int partition,
                      int64_t expect, int64_t next_offset);
    int (*offset_get)(struct pp_wh *wh, const char *group, const char *topic, int partition,
                      int64_t *next_offset);
    int (*count)(struct pp_wh *wh, enum pp_kind kind, int64_t *n);
    int (*reject)(struct pp_wh *wh, const char *topic, int partition, int64_t offset,
                  const char *error, const char *value, size_t vlen);
    /* Insights: open a read transaction when none is (*own = 1 then), end it. */
    int (*read_begin)(struct pp_wh *wh, int *own);
    void (*read_end)(struct pp_wh *wh, int own);
    /* 0 when a snapshot of run_date exists, PP_ENOENT, PP_EIO. */
    int (*snapshot_exists)(struct pp_wh *wh, const char *run_date);
    /* Insight i, live (run_date NULL) or from the snapshot, sorted, columns named as printed. */
    int (*insight_query)(struct pp_wh *wh, int i, const char *run_date, struct wh_result *res);
    int (*insights_snapshot)(struct pp_wh *wh, const char *run_date);
    int (*dag_record)(struct pp_wh *wh, const struct pp_wh_dag_task *t);
    int (*dag_history)(struct pp_wh *wh, const char *dag, int limit,
                       void (*cb)(void *arg, const struct pp_wh_dag_task *t), void *arg);
    int (*quality_store)(struct pp_wh *wh, const char *run_date, const struct pp_wh_metric *m,
                         int n);
    int (*count_ids)(struct pp_wh *wh, enum pp_kind kind, const int64_t *ids, int n,
                     int64_t *found);
};

#define WH_QUALITY_DDL                                                                         \
    "CREATE TABLE IF NOT EXISTS pp_quality (run_date TEXT NOT NULL, topic TEXT NOT NULL,"      \
    " metric TEXT NOT NULL, value BIGINT NOT NULL, PRIMARY KEY (run_date, topic, metric))"

/* The run history table, the same DDL and statements in both dialects (SQLite >= 3.24 and
 * PostgreSQL take ON CONFLICT ... DO UPDATE). */
#define WH_DAG_DDL                                                                             \
    "CREATE TABLE IF NOT EXISTS pp_dag_runs (dag TEXT NOT NULL, run_date TEXT NOT NULL,"       \
    " task TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, start_ms BIGINT,"    \
    " end_ms BIGINT, error TEXT, PRIMARY KEY (dag, run_date, task))"
#define WH_DAG_UPSERT(p1, p2, p3, p4, p5, p6, p7, p8)                                          \
    "INSERT INTO pp_dag_runs (dag, run_date, task, state, attempts, start_ms, end_ms, error)"   \
    " VALUES (" p1 "," p2 "," p3 "," p4 "," p5 "," p6 "," p7 "," p8 ")"                        \
    " ON CONFLICT (dag, run_date, task) DO UPDATE SET state = excluded.state,"                 \
    " attempts = excluded.attempts, start_ms = excluded.start_ms, end_ms = excluded.end_ms,"   \
    " error = excluded.error"
#define WH_DAG_SELECT                                                                          \
    "SELECT dag, run_date, task, state, attempts, start_ms, end_ms, error FROM pp_dag_runs"

/* The two backends' constructors (wh.c picks one by the warehouse string). */
struct pp_wh *wh_sqlite_open(const char *path, char *errstr, size_t errstr_size);
/* connect_timeout_ms > 0: libpq's connect_timeout (rounded up to whole seconds) and the
 * session's TCP keepalives (see pp_wh_open_timeout). */
struct pp_wh *wh_pg_open(const char *conninfo, int connect_timeout_ms, char *errstr,
                         size_t errstr_size);

#endif
