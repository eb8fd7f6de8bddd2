/* sqlite.c: the embedded warehouse on SQLite: schema and migrations, upserts, offsets, rejects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp_buf.h"
#include "pp_err.h"
#include "wh_sqlite.h"

static const struct wh_ops sqlite_ops;

/* Column names and SQL types of the cleaned tables, in pp_clean_columns() order
 * (pp_clean.h / PRODUCT.md "Cleaning rules"); test_wh checks the two agree. */
struct wh_col {
    const char *name;
    const char *type;
};

static const struct wh_col pin_cols[] = {
    {"ind", "INTEGER PRIMARY KEY"}, {"unique_id", "TEXT"},         {"title", "TEXT"},
    {"description", "TEXT"},        {"follower_count", "INTEGER"}, {"poster_name", "TEXT"},
    {"tag_list", "TEXT"},           {"is_image_or_video", "TEXT"}, {"image_src", "TEXT"},
    {"downloaded", "INTEGER"},      {"save_location", "TEXT"},     {"category", "TEXT"},
};
static const struct wh_col geo_cols[] = {
    {"ind", "INTEGER PRIMARY KEY"},
    {"country", "TEXT"},
    {"coordinates", "TEXT"},
    {"timestamp", "TEXT"},
};
static const struct wh_col user_cols[] = {
    {"ind", "INTEGER PRIMARY KEY"},
    {"user_name", "TEXT"},
    {"age", "INTEGER"},
    {"date_joined", "TEXT"},
};

static const struct wh_table {
    const char *name; /* quoted: "user" is reserved in PostgreSQL, keep the SQL portable */
    const struct wh_col *cols;
    int ncols;
} tables[PP_KIND_COUNT] = {
    {"\"pin\"", pin_cols, (int)(sizeof(pin_cols) / sizeof(pin_cols[0]))},
    {"\"geo\"", geo_cols, (int)(sizeof(geo_cols) / sizeof(geo_cols[0]))},
    {"\"user\"", user_cols, (int)(sizeof(user_cols) / sizeof(user_cols[0]))},
};

const char *pp_wh_column(enum pp_kind kind, int i)
{
    if (kind < 0 || kind >= PP_KIND_COUNT || i < 0 || i >= tables[kind].ncols)
        return NULL;
    return tables[kind].cols[i].name;
}

int wh_exec(struct wh_sqlite *wh, const char *sql)
{
    return sqlite3_exec(wh->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : PP_EIO;
}

int wh_prepare(struct wh_sqlite *wh, sqlite3_stmt **slot, const char *sql)
{
    if (*slot)
        return 0;
    return sqlite3_prepare_v3(wh->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) == SQLITE_OK
               ? 0
               : PP_EIO;
}

/* A failed step: the lock stayed taken past the busy timeout (retriable) or anything else. */
static int step_error(int rc)
{
    rc &= 0xff; /* primary code of an extended one */
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? PP_EBUSY : PP_EIO;
}

/* Run a cached statement that returns no rows, then make it ready for reuse. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : step_error(rc);
}

static int create_table(struct wh_sqlite *wh, const struct wh_table *t)
{
    struct pp_buf sql;
    pp_buf_init(&sql, 0);
    int rc = pp_buf_printf(&sql, "CREATE TABLE IF NOT EXISTS %s (", t->name);
    for (int i = 0; !rc && i < t->ncols; i++)
        rc = pp_buf_printf(&sql, "%s%s %s", i ? ", " : "", t->cols[i].name, t->cols[i].type);
    if (!rc)
        rc = pp_buf_puts(&sql, ")");
    if (!rc)
        rc = wh_exec(wh, sql.data);
    pp_buf_free(&sql);
    return rc;
}

/* Version 1: the cleaned tables, consumed positions, dead letters, insight snapshots. */
static int migrate_v1(struct wh_sqlite *wh)
{
    for (int k = 0; k < PP_KIND_COUNT; k++)
        if (create_table(wh, &tables[k]))
            return PP_EIO;
    if (wh_exec(wh, "CREATE TABLE IF NOT EXISTS pp_offsets (consumer_group TEXT NOT NULL,"
                    " topic TEXT NOT NULL, partition INTEGER NOT NULL,"
                    " next_offset INTEGER NOT NULL,"
                    " PRIMARY KEY (consumer_group, topic, partition));"
                    "CREATE TABLE IF NOT EXISTS pp_rejects (topic TEXT NOT NULL,"
                    " partition INTEGER NOT NULL, \"offset\" INTEGER NOT NULL, error TEXT,"
                    " value TEXT, rejected_at TEXT NOT NULL,"
                    " PRIMARY KEY (topic, partition, \"offset\"));"))
        return PP_EIO;
    return wh_insights_schema(wh);
}

/* Version 2: the scheduler's run history. */
static int migrate_v2(struct wh_sqlite *wh)
{
    return wh_exec(wh, WH_DAG_DDL);
}

/* Migrations keyed by the version they bring the schema to; append, never edit. */
/* Version 3: data-quality measurements per run. */
static int migrate_v3(struct wh_sqlite *wh)
{
    return wh_exec(wh, WH_QUALITY_DDL);
}

static int (*const migrations[])(struct wh_sqlite *) = {NULL, migrate_v1, migrate_v2, migrate_v3};
#define WH_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])) - 1)

static int schema_version(struct wh_sqlite *wh, int *version)
{
    sqlite3_stmt *st = NULL;
    *version = 0;
    if (sqlite3_prepare_v2(wh->db, "SELECT MAX(version) FROM pp_schema_version", -1, &st, NULL) !=
        SQLITE_OK)
        return PP_EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : PP_EIO;
}

/* Bring the schema up to WH_SCHEMA_VERSION in one write transaction (another process opening
 * the same file at once waits on the lock, then sees the version and does nothing). */
static int migrate(struct wh_sqlite *wh, char *errstr, size_t errstr_size)
{
    int version = 0;
    /* Up to date already (the usual case): no write lock, so a reader such as `pinpipe
     * insights` does not wait for the stream's transaction. */
    if (!schema_version(wh, &version) && version == WH_SCHEMA_VERSION)
        return 0;
    if (wh_exec(wh, "BEGIN IMMEDIATE") ||
        wh_exec(wh, "CREATE TABLE IF NOT EXISTS pp_schema_version (version INTEGER NOT NULL,"
                    " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S','now')))") ||
        schema_version(wh, &version))
        goto fail;
    if (version > WH_SCHEMA_VERSION) {
        snprintf(errstr, errstr_size, "warehouse schema version %d is newer than this pinpipe's %d",
                 version, WH_SCHEMA_VERSION);
        wh_exec(wh, "ROLLBACK");
        return PP_EINVAL;
    }
    for (int v = version + 1; v <= WH_SCHEMA_VERSION; v++) {
        char sql[96];
        snprintf(sql, sizeof(sql), "INSERT INTO pp_schema_version(version) VALUES (%d)", v);
        if (migrations[v](wh) || wh_exec(wh, sql))
            goto fail;
    }
    if (wh_exec(wh, "COMMIT"))
        goto fail;
    return 0;
fail:
    snprintf(errstr, errstr_size, "warehouse schema: %s", sqlite3_errmsg(wh->db));
    wh_exec(wh, "ROLLBACK");
    return PP_EIO;
}

/* Connection settings. page_size must precede the first table (it is fixed once WAL is on).
 * synchronous: see pp_wh_set_sync() in pp_wh.h. */
static int configure(struct wh_sqlite *wh)
{
    sqlite3_busy_timeout(wh->db, PP_WH_BUSY_TIMEOUT_MS);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(wh->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
        return PP_EIO;
    int ok =
        sqlite3_step(st) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    if (!ok)
        return PP_EIO;
    return wh_exec(wh, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;"
                       " PRAGMA temp_store=MEMORY");
}

static void sq_close(struct pp_wh *base);

struct pp_wh *wh_sqlite_open(const char *path, char *errstr, size_t errstr_size)
{
    struct wh_sqlite *wh = calloc(1, sizeof(*wh));
    if (!wh) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &wh->db, flags, NULL) != SQLITE_OK) {
        snprintf(errstr, errstr_size, "open %s: %s", path,
                 wh->db ? sqlite3_errmsg(wh->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(wh->db, 1);
    /* 4 KiB pages, not 64 KiB: the stream commits small transactions every few ms, and each
     * writes whole pages to the WAL; measured here, 64 KiB pages raised the stream's p99
     * ack-to-visible latency from ~16 ms to ~85 ms (synchronous=FULL). */
    if (wh_exec(wh, "PRAGMA page_size=4096") || configure(wh)) {
        snprintf(errstr, errstr_size, "open %s: %s", path, sqlite3_errmsg(wh->db));
        goto fail;
    }
    wh->base.ops = &sqlite_ops;
    if (migrate(wh, errstr, errstr_size))
        goto fail;
    return &wh->base;
fail:
    sq_close(&wh->base);
    return NULL;
}

static void sq_close(struct pp_wh *base)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    if (!wh)
        return;
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        sqlite3_finalize(wh->ins[k]);
        sqlite3_finalize(wh->upd[k]);
        sqlite3_finalize(wh->cnt[k]);
    }
    sqlite3_finalize(wh->off_set);
    sqlite3_finalize(wh->off_get);
    sqlite3_finalize(wh->reject);
    sqlite3_finalize(wh->begin);
    sqlite3_finalize(wh->commit);
    sqlite3_finalize(wh->rollback);
    sqlite3_close(wh->db);
    free(wh);
}

static const char *sq_errmsg(struct pp_wh *base)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    return !wh || !wh->db ? "no warehouse" : wh->err[0] ? wh->err : sqlite3_errmsg(wh->db);
}

static int sq_set_sync(struct pp_wh *base, int full)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    return wh_exec(wh, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

/* BEGIN IMMEDIATE: take the write lock up front, so a writer waits (busy_timeout) instead
 * of failing with SQLITE_BUSY when it upgrades a read transaction. */
int wh_sq_begin(struct pp_wh *base)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    wh->err[0] = '\0';
    if (wh_prepare(wh, &wh->begin, "BEGIN IMMEDIATE"))
        return PP_EIO;
    return step_done(wh->begin);
}

int wh_sq_commit(struct pp_wh *base)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    if (wh_prepare(wh, &wh->commit, "COMMIT"))
        return PP_EIO;
    return step_done(wh->commit);
}

int wh_sq_rollback(struct pp_wh *base)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    if (sqlite3_get_autocommit(wh->db))
        return 0; /* nothing open (SQLite may already have rolled back on an error) */
    if (wh_prepare(wh, &wh->rollback, "ROLLBACK"))
        return PP_EIO;
    return step_done(wh->rollback);
}

/* INSERT that does nothing when ind exists, and UPDATE that changes a row only when some
 * column differs: together they tell inserted / updated / unchanged apart (batch reconcile). */
static int prepare_upsert(struct wh_sqlite *wh, enum pp_kind kind)
{
    const struct wh_table *t = &tables[kind];
    struct pp_buf sql;
    pp_buf_init(&sql, 0);
    int rc = pp_buf_printf(&sql, "INSERT INTO %s (", t->name);
    for (int i = 0; !rc && i < t->ncols; i++)
        rc = pp_buf_printf(&sql, "%s%s", i ? ", " : "", t->cols[i].name);
    rc = rc ? rc : pp_buf_puts(&sql, ") VALUES (");
    for (int i = 0; !rc && i < t->ncols; i++)
        rc = pp_buf_printf(&sql, "%s?%d", i ? ", " : "", i + 1);
    rc = rc ? rc : pp_buf_puts(&sql, ") ON CONFLICT (ind) DO NOTHING");
    rc = rc ? rc : wh_prepare(wh, &wh->ins[kind], sql.data);
    pp_buf_reset(&sql);
    rc = rc ? rc : pp_buf_printf(&sql, "UPDATE %s SET ", t->name);
    for (int i = 1; !rc && i < t->ncols; i++)
        rc = pp_buf_printf(&sql, "%s%s = ?%d", i > 1 ? ", " : "", t->cols[i].name, i + 1);
    rc = rc ? rc : pp_buf_puts(&sql, " WHERE ind = ?1 AND NOT (");
    for (int i = 1; !rc && i < t->ncols; i++)
        rc = pp_buf_printf(&sql, "%s%s IS ?%d", i > 1 ? " AND " : "", t->cols[i].name, i + 1);
    rc = rc ? rc : pp_buf_puts(&sql, ")");
    rc = rc ? rc : wh_prepare(wh, &wh->upd[kind], sql.data);
    pp_buf_free(&sql);
    return rc ? PP_EIO : 0;
}

static int bind_row(sqlite3_stmt *st, const struct pp_row *row)
{
    int rc = sqlite3_bind_int64(st, 1, row->id);
    for (int i = 1; rc == SQLITE_OK && i < row->ncols; i++) {
        const struct pp_val *v = &row->col[i];
        switch (v->type) {
        case PP_VAL_INT:
            rc = sqlite3_bind_int64(st, i + 1, v->i);
            break;
        case PP_VAL_REAL:
            rc = sqlite3_bind_double(st, i + 1, v->d);
            break;
        case PP_VAL_TEXT: /* the row outlives the step; bindings are cleared after it */
            rc = v->s ? sqlite3_bind_text(st, i + 1, v->s, (int)v->n, SQLITE_STATIC)
                      : sqlite3_bind_null(st, i + 1);
            break;
        default:
            rc = sqlite3_bind_null(st, i + 1);
            break;
        }
    }
    return rc == SQLITE_OK ? 0 : PP_EIO;
}

static int sq_upsert(struct pp_wh *base, const struct pp_row *row, int *status)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    enum pp_kind kind = row->kind;
    if (kind < 0 || kind >= PP_KIND_COUNT || row->ncols != tables[kind].ncols)
        return PP_EINVAL;
    for (int i = 1; i < row->ncols; i++)
        if (row->col[i].type == PP_VAL_TEXT && row->col[i].n > (size_t)0x7fffffff)
            return PP_ETOOBIG;
    if (!wh->ins[kind] && prepare_upsert(wh, kind))
        return PP_EIO;
    int rc;
    if (bind_row(wh->ins[kind], row))
        return PP_EIO;
    if ((rc = step_done(wh->ins[kind])))
        return rc;
    if (sqlite3_changes(wh->db) == 1) {
        if (status)
            *status = PP_WH_INSERTED;
        return 0;
    }
    if (bind_row(wh->upd[kind], row))
        return PP_EIO;
    if ((rc = step_done(wh->upd[kind])))
        return rc;
    if (status)
        *status = sqlite3_changes(wh->db) == 1 ? PP_WH_UPDATED : PP_WH_UNCHANGED;
    return 0;
}

/* A compare-and-set (pp_wh_offset_set): the upsert changes no row when the stored position
 * is not expect. */
static int sq_offset_set(struct pp_wh *base, const char *group, const char *topic, int partition,
                         int64_t expect, int64_t next_offset)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    if (wh_prepare(wh, &wh->off_set,
                   "INSERT INTO pp_offsets (consumer_group, topic, partition, next_offset)"
                   " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (consumer_group, topic, partition)"
                   " DO UPDATE SET next_offset = excluded.next_offset"
                   " WHERE pp_offsets.next_offset = ?5"))
        return PP_EIO;
    sqlite3_stmt *st = wh->off_set;
    if (sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC) ||
        sqlite3_bind_text(st, 2, topic, -1, SQLITE_STATIC) || sqlite3_bind_int(st, 3, partition) ||
        sqlite3_bind_int64(st, 4, next_offset) || sqlite3_bind_int64(st, 5, expect))
        return PP_EIO;
    int rc = step_done(st);
    wh->err[0] = '\0';
    if (!rc && sqlite3_changes(wh->db) == 0) {
        wh_conflict_msg(wh->err, sizeof(wh->err), group, topic, partition, expect);
        rc = PP_ECONFLICT;
    }
    return rc;
}

static int sq_offset_get(struct pp_wh *base, const char *group, const char *topic, int partition,
                         int64_t *next_offset)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    if (wh_prepare(wh, &wh->off_get,
                   "SELECT next_offset FROM pp_offsets"
                   " WHERE consumer_group = ?1 AND topic = ?2 AND partition = ?3"))
        return PP_EIO;
    sqlite3_stmt *st = wh->off_get;
    if (sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC) ||
        sqlite3_bind_text(st, 2, topic, -1, SQLITE_STATIC) || sqlite3_bind_int(st, 3, partition))
        return PP_EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *next_offset = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? PP_ENOENT : step_error(rc);
}

static int sq_count(struct pp_wh *base, enum pp_kind kind, int64_t *n)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    if (kind < 0 || kind >= PP_KIND_COUNT)
        return PP_EINVAL;
    if (!wh->cnt[kind]) {
        char sql[64];
        snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", tables[kind].name);
        if (wh_prepare(wh, &wh->cnt[kind], sql))
            return PP_EIO;
    }
    int rc = sqlite3_step(wh->cnt[kind]);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(wh->cnt[kind], 0);
    sqlite3_reset(wh->cnt[kind]);
    return rc == SQLITE_ROW ? 0 : step_error(rc);
}

static int sq_reject(struct pp_wh *base, const char *topic, int partition, int64_t offset,
                     const char *error, const char *value, size_t vlen)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    if (vlen > 0x7fffffff)
        return PP_ETOOBIG;
    if (wh_prepare(wh, &wh->reject,
                   "INSERT INTO pp_rejects (topic, partition, \"offset\", error, value,"
                   " rejected_at) VALUES (?1, ?2, ?3, ?4, ?5,"
                   " strftime('%Y-%m-%d %H:%M:%S','now'))"
                   " ON CONFLICT (topic, partition, \"offset\") DO UPDATE SET"
                   " error = excluded.error, value = excluded.value"))
        return PP_EIO;
    sqlite3_stmt *st = wh->reject;
    if (sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC) || sqlite3_bind_int(st, 2, partition) ||
        sqlite3_bind_int64(st, 3, offset) || sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC) ||
        sqlite3_bind_text(st, 5, value ? value : "", (int)vlen, SQLITE_STATIC))
        return PP_EIO;
    return step_done(st);
}

static int sq_dag_record(struct pp_wh *base, const struct pp_wh_dag_task *t)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(wh->db, WH_DAG_UPSERT("?1", "?2", "?3", "?4", "?5", "?6", "?7", "?8"),
                           -1, &st, NULL) != SQLITE_OK)
        return PP_EIO;
    sqlite3_bind_text(st, 1, t->dag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, t->run_date, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, t->task, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, t->state, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, t->attempts);
    sqlite3_bind_int64(st, 6, t->start_ms);
    sqlite3_bind_int64(st, 7, t->end_ms);
    sqlite3_bind_text(st, 8, t->error ? t->error : "", -1, SQLITE_STATIC);
    int rc = step_done(st);
    sqlite3_finalize(st);
    return rc;
}

static int sq_dag_history(struct pp_wh *base, const char *dag, int limit,
                          void (*cb)(void *arg, const struct pp_wh_dag_task *t), void *arg)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    sqlite3_stmt *st = NULL;
    const char *sql = dag ? WH_DAG_SELECT " WHERE dag = ?1 ORDER BY run_date DESC, start_ms LIMIT ?2"
                          : WH_DAG_SELECT " ORDER BY run_date DESC, dag, start_ms LIMIT ?2";
    if (sqlite3_prepare_v2(wh->db, sql, -1, &st, NULL) != SQLITE_OK)
        return PP_EIO;
    if (dag)
        sqlite3_bind_text(st, 1, dag, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit > 0 ? limit : 1000000);
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct pp_wh_dag_task t = {
            (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
            (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
            sqlite3_column_int(st, 4),                sqlite3_column_int64(st, 5),
            sqlite3_column_int64(st, 6),              (const char *)sqlite3_column_text(st, 7)};
        cb(arg, &t);
        n++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : step_error(rc);
}

static int sq_quality_store(struct pp_wh *base, const char *run_date,
                            const struct pp_wh_metric *m, int n)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    sqlite3_stmt *del = NULL, *ins = NULL;
    int rc = wh_exec(wh, "BEGIN IMMEDIATE");
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(wh->db, "DELETE FROM pp_quality WHERE run_date = ?1", -1, &del,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(wh->db, "INSERT INTO pp_quality VALUES (?1, ?2, ?3, ?4)", -1, &ins,
                           NULL) != SQLITE_OK)
        rc = PP_EIO;
    if (!rc) {
        sqlite3_bind_text(del, 1, run_date, -1, SQLITE_STATIC);
        rc = step_done(del);
    }
    for (int i = 0; !rc && i < n; i++) {
        sqlite3_reset(ins);
        sqlite3_bind_text(ins, 1, run_date, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, m[i].topic, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, m[i].metric, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 4, m[i].value);
        rc = step_done(ins);
    }
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    if (rc) {
        wh_exec(wh, "ROLLBACK");
        return rc;
    }
    return wh_exec(wh, "COMMIT");
}

static int sq_count_ids(struct pp_wh *base, enum pp_kind kind, const int64_t *ids, int n,
                        int64_t *found)
{
    struct wh_sqlite *wh = (struct wh_sqlite *)base;
    char sql[64];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof(sql), "SELECT 1 FROM \"%s\" WHERE ind = ?1", pp_kind_name(kind));
    if (sqlite3_prepare_v2(wh->db, sql, -1, &st, NULL) != SQLITE_OK)
        return PP_EIO;
    int64_t hits = 0;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, ids[i]);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW)
            hits++;
        else if (s != SQLITE_DONE)
            rc = step_error(s);
    }
    sqlite3_finalize(st);
    *found = hits;
    return rc;
}

static const struct wh_ops sqlite_ops = {
    .close = sq_close,
    .errmsg = sq_errmsg,
    .set_sync = sq_set_sync,
    .begin = wh_sq_begin,
    .commit = wh_sq_commit,
    .rollback = wh_sq_rollback,
    .upsert = sq_upsert,
    .offset_set = sq_offset_set,
    .offset_get = sq_offset_get,
    .count = sq_count,
    .reject = sq_reject,
    .read_begin = wh_sq_read_begin,
    .read_end = wh_sq_read_end,
    .snapshot_exists = wh_sq_snapshot_exists,
    .insight_query = wh_sq_insight_query,
    .insights_snapshot = wh_sq_insights_snapshot,
    .dag_record = sq_dag_record,
    .dag_history = sq_dag_history,
    .quality_store = sq_quality_store,
    .count_ids = sq_count_ids,
};
