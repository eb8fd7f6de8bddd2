/* pgsql.c: the PostgreSQL warehouse (libpq): session and reconnects, schema and migrations,
 * transactions, offsets, rejects and the insights (rows themselves: pg_copy.c). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pp_err.h"
#include "wh_pg.h"

static const struct wh_ops pg_ops;

/* PostgreSQL type OIDs of the result columns (catalog/pg_type_d.h is server-side). */
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_err(struct wh_pg *pg, const char *what, const char *msg)
{
    snprintf(pg->err, sizeof(pg->err), "%s: %s", what, msg && *msg ? msg : "unknown error");
    size_t n = strlen(pg->err);
    while (n && (pg->err[n - 1] == '\n' || pg->err[n - 1] == ' '))
        pg->err[--n] = '\0';
}

int wh_pg_fail(struct wh_pg *pg, PGresult *res, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    set_err(pg, what, msg && *msg ? msg : PQerrorMessage(pg->conn));
    int retry = PQstatus(pg->conn) != CONNECTION_OK;
    if (state && (!strncmp(state, "08", 2) ||  /* connection exception */
                  !strncmp(state, "57P", 3) || /* admin shutdown, crash, cannot connect now */
                  !strcmp(state, "40001") ||   /* serialization failure */
                  !strcmp(state, "40P01") ||   /* deadlock detected */
                  !strcmp(state, "55P03") ||   /* lock not available (lock_timeout) */
                  !strcmp(state, "53300")))    /* too many connections */
        retry = 1;
    int conflict = state && !strcmp(state, WH_PG_CONFLICT_STATE); /* pp_positions_check */
    PQclear(res);
    return conflict ? PP_ECONFLICT : retry ? PP_EBUSY : PP_EIO;
}

int wh_pg_exec(struct wh_pg *pg, const char *sql, int nparams, const char *const *params,
               PGresult **out)
{
    PGresult *res = nparams ? PQexecParams(pg->conn, sql, nparams, NULL, params, NULL, NULL, 0)
                            : PQexec(pg->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return wh_pg_fail(pg, res, "query");
    if (out)
        *out = res;
    else
        PQclear(res);
    return 0;
}

static void quiet(void *arg, const char *message)
{
    (void)arg; /* NOTICEs such as "relation already exists, skipping": a leaf module is silent */
    (void)message;
}

/* Settings of every session (also after a reconnect): UTF-8, UTC, shortest exact floats,
 * bounded lock waits, the durability chosen with pp_wh_set_sync(). */
static int session(struct wh_pg *pg)
{
    char sql[320];
    PQsetNoticeProcessor(pg->conn, quiet, NULL);
    snprintf(sql, sizeof(sql),
             "SET client_encoding = 'UTF8'; SET TimeZone = 'UTC'; SET extra_float_digits = 3;"
             " SET lock_timeout = %d; SET client_min_messages = warning;"
             " SET synchronous_commit = %s",
             PP_WH_BUSY_TIMEOUT_MS, pg->sync_full ? "on" : "off");
    pg->began = 0;
    pg->staged = 0;
    memset(pg->prepared, 0, sizeof(pg->prepared));
    return wh_pg_exec(pg, sql, 0, NULL, NULL);
}

int wh_pg_ready(struct wh_pg *pg, int budget_ms)
{
    if (PQstatus(pg->conn) == CONNECTION_OK && PQtransactionStatus(pg->conn) != PQTRANS_UNKNOWN)
        return 0;
    if (pg->began) {
        set_err(pg, "connection", "lost inside a transaction (roll back and retry)");
        return PP_EBUSY;
    }
    int64_t deadline = mono_ms() + budget_ms;
    for (int delay = 50;; delay = delay < 1000 ? delay * 2 : 2000) {
        PQreset(pg->conn);
        if (PQstatus(pg->conn) == CONNECTION_OK && !session(pg))
            return 0;
        if (PQstatus(pg->conn) != CONNECTION_OK)
            set_err(pg, "reconnect", PQerrorMessage(pg->conn));
        if (mono_ms() + delay > deadline)
            return PP_EBUSY;
        nap_ms(delay);
    }
}

int wh_pg_txn(struct wh_pg *pg)
{
    if (!pg->in_txn || pg->began)
        return 0;
    int rc = wh_pg_ready(pg, 1000);
    rc = rc ? rc : wh_pg_stage(pg);
    rc = rc ? rc : wh_pg_exec(pg, "BEGIN", 0, NULL, NULL);
    if (!rc)
        pg->began = 1;
    return rc;
}

static int create_tables(struct wh_pg *pg)
{
    struct pp_buf sql;
    pp_buf_init(&sql, 0);
    int rc = 0;
    for (int k = 0; !rc && k < PP_KIND_COUNT; k++) {
        const struct wh_pg_table *t = wh_pg_table((enum pp_kind)k);
        pp_buf_reset(&sql);
        rc = pp_buf_printf(&sql, "CREATE TABLE IF NOT EXISTS %s (", t->name);
        for (int i = 0; !rc && i < t->ncols; i++)
            rc =
                pp_buf_printf(&sql, "%s\"%s\" %s", i ? ", " : "", t->cols[i].name, t->cols[i].type);
        rc = rc ? rc : pp_buf_puts(&sql, ")");
        rc = rc ? rc : wh_pg_exec(pg, sql.data, 0, NULL, NULL);
    }
    pp_buf_free(&sql);
    return rc;
}

/* Version 1: the cleaned tables, consumed positions, dead letters, insight snapshots. */
static int migrate_v1(struct wh_pg *pg)
{
    int rc = create_tables(pg);
    rc = rc ? rc
            : wh_pg_exec(pg,
                         "CREATE TABLE IF NOT EXISTS pp_offsets (consumer_group text NOT NULL,"
                         " topic text NOT NULL, partition integer NOT NULL,"
                         " next_offset bigint NOT NULL,"
                         " PRIMARY KEY (consumer_group, topic, partition));"
                         "CREATE TABLE IF NOT EXISTS pp_rejects (topic text NOT NULL,"
                         " partition integer NOT NULL, \"offset\" bigint NOT NULL, error text,"
                         " value text, rejected_at timestamptz NOT NULL DEFAULT now(),"
                         " PRIMARY KEY (topic, partition, \"offset\"));"
                         "CREATE TABLE IF NOT EXISTS pp_insight_runs (run_date text PRIMARY KEY,"
                         " created_at timestamptz NOT NULL)",
                         0, NULL, NULL);
    for (int i = 0; !rc && i < PP_WH_NINSIGHTS; i++) {
        const struct wh_insight *in = wh_insight_get(i);
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "CREATE TABLE IF NOT EXISTS insight_%s (run_date text NOT NULL, %s);"
                 "CREATE INDEX IF NOT EXISTS insight_%s_run ON insight_%s (run_date)",
                 in->name, in->pg.ddl, in->name, in->name);
        rc = wh_pg_exec(pg, sql, 0, NULL, NULL);
    }
    return rc;
}

/* Version 2: the scheduler's run history. */
static int migrate_v2(struct wh_pg *pg)
{
    return wh_pg_exec(pg, WH_DAG_DDL, 0, NULL, NULL);
}

/* Migrations keyed by the version they bring the schema to; append, never edit. */
/* Version 3: data-quality measurements per run. */
static int migrate_v3(struct wh_pg *pg)
{
    return wh_pg_exec(pg, WH_QUALITY_DDL, 0, NULL, NULL);
}

/* Version 4: the positions' compare-and-set (pp_wh_offset_set): a commit's offsets upsert
 * counts the rows whose stored position was the expected one, and this fails the transaction
 * (SQLSTATE WH_PG_CONFLICT_STATE) unless all were. */
static int migrate_v4(struct wh_pg *pg)
{
    return wh_pg_exec(pg,
                      "CREATE OR REPLACE FUNCTION pp_positions_check(matched bigint, expected bigint)"
                      " RETURNS integer LANGUAGE plpgsql AS $$ BEGIN"
                      " IF matched <> expected THEN RAISE EXCEPTION"
                      " 'consumed positions moved: % of % were where this transaction started',"
                      " matched, expected USING ERRCODE = '" WH_PG_CONFLICT_STATE "',"
                      " HINT = 'another consumer committed these partitions meanwhile';"
                      " END IF; RETURN 1; END $$",
                      0, NULL, NULL);
}

static int (*const migrations[])(struct wh_pg *) = {NULL, migrate_v1, migrate_v2, migrate_v3,
                                                    migrate_v4};
#define WH_PG_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])) - 1)

static int schema_version(struct wh_pg *pg, int *version)
{
    PGresult *res = NULL;
    *version = 0;
    int rc =
        wh_pg_exec(pg, "SELECT COALESCE(MAX(version), 0) FROM pp_schema_version", 0, NULL, &res);
    if (!rc) {
        *version = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
    }
    return rc;
}

/* Bring the schema up to date in one transaction, serialized between processes by an
 * advisory lock (a second pinpipe opening at once waits, then finds nothing to do). */
static int migrate(struct wh_pg *pg, char *errstr, size_t errstr_size)
{
    int version = 0;
    if (!schema_version(pg, &version) && version == WH_PG_SCHEMA_VERSION)
        return 0; /* the usual case: no lock, no write */
    if (wh_pg_exec(pg, "BEGIN", 0, NULL, NULL) ||
        wh_pg_exec(pg, "SELECT pg_advisory_xact_lock(7365891234)", 0, NULL, NULL) ||
        wh_pg_exec(pg,
                   "CREATE TABLE IF NOT EXISTS pp_schema_version (version integer NOT NULL,"
                   " applied_at timestamptz NOT NULL DEFAULT now())",
                   0, NULL, NULL) ||
        schema_version(pg, &version))
        goto fail;
    if (version > WH_PG_SCHEMA_VERSION) {
        snprintf(errstr, errstr_size, "warehouse schema version %d is newer than this pinpipe's %d",
                 version, WH_PG_SCHEMA_VERSION);
        wh_pg_exec(pg, "ROLLBACK", 0, NULL, NULL);
        return PP_EINVAL;
    }
    for (int v = version + 1; v <= WH_PG_SCHEMA_VERSION; v++) {
        char sql[96];
        snprintf(sql, sizeof(sql), "INSERT INTO pp_schema_version(version) VALUES (%d)", v);
        if (migrations[v](pg) || wh_pg_exec(pg, sql, 0, NULL, NULL))
            goto fail;
    }
    if (wh_pg_exec(pg, "COMMIT", 0, NULL, NULL))
        goto fail;
    return 0;
fail:
    snprintf(errstr, errstr_size, "warehouse schema: %s", pg->err);
    wh_pg_exec(pg, "ROLLBACK", 0, NULL, NULL);
    return PP_EIO;
}

static void pg_close(struct pp_wh *base)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    if (!pg)
        return;
    PQfinish(pg->conn);
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        pp_buf_free(&pg->copy[k]);
        wh_pg_ids_free(&pg->ids[k]);
    }
    pp_buf_free(&pg->scratch);
    wh_pg_discard(pg);
    free(pg->rej);
    free(pg->offs);
    free(pg);
}

/* libpq's reason in one line (its second line is a hint such as "Is the server running on
 * that host...?", which the caller's own hint replaces). */
static void connect_err(struct wh_pg *pg, int timeout_s, char *errstr, size_t errstr_size)
{
    const char *msg = pg->conn ? PQerrorMessage(pg->conn) : "out of memory";
    int n = (int)strcspn(msg, "\n");
    while (n > 0 && msg[n - 1] == ' ')
        n--;
    int timed_out = strstr(msg, "timeout expired") != NULL;
    snprintf(pg->err, sizeof(pg->err), "connect: %.*s", n, msg);
    /* the message never holds the password; the URL is not repeated here */
    char within[48] = "";
    if (timed_out)
        snprintf(within, sizeof(within), " (no answer within %d s)", timeout_s);
    /* the server answered and refused: the URI's user, password or database, not reachability */
    int refused = strstr(msg, "authentication") || strstr(msg, "password") ||
                  strstr(msg, "does not exist") || strstr(msg, "no pg_hba.conf entry");
    snprintf(errstr, errstr_size, "postgresql: %.*s%s (check %s)", n, msg, within,
             refused ? "the user, password and database in --warehouse"
                     : "--warehouse and that PostgreSQL is running");
}

/* First contact after the startup: the server must answer a query within timeout_ms. One
 * that completed the startup and then hangs would block every call after it (libpq's blocking
 * calls have no deadline), so this one is sent and awaited with poll(2).
 * @returns 0, PP_ETIMEDOUT, or PP_EIO / PP_EBUSY (wh_pg_fail) with pg->err set. */
static int ping(struct wh_pg *pg, int timeout_ms)
{
    if (!PQsendQuery(pg->conn, "SELECT 1"))
        return wh_pg_fail(pg, NULL, "query");
    int64_t deadline = mono_ms() + timeout_ms;
    while (PQisBusy(pg->conn)) {
        int64_t left = deadline - mono_ms();
        struct pollfd pfd = {PQsocket(pg->conn), POLLIN, 0};
        if (left <= 0) {
            set_err(pg, "query", "no answer");
            return PP_ETIMEDOUT;
        }
        int n = poll(&pfd, 1, (int)left);
        if ((n < 0 && errno != EINTR) || (n > 0 && !PQconsumeInput(pg->conn)))
            return wh_pg_fail(pg, NULL, "query");
    }
    int rc = 0;
    for (PGresult *res; (res = PQgetResult(pg->conn));) {
        if (PQresultStatus(res) != PGRES_TUPLES_OK && !rc)
            rc = wh_pg_fail(pg, res, "query");
        else
            PQclear(res);
    }
    return rc;
}

struct pp_wh *wh_pg_open(const char *conninfo, int connect_timeout_ms, char *errstr,
                         size_t errstr_size)
{
    struct wh_pg *pg = calloc(1, sizeof(*pg));
    if (!pg) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    pg->base.ops = &pg_ops;
    pg->sync_full = 1;
    for (int k = 0; k < PP_KIND_COUNT; k++)
        pp_buf_init(&pg->copy[k], 0);
    pp_buf_init(&pg->scratch, 0);
    /* Bounds on an unreachable server: connect_timeout covers the TCP connection and the
     * startup (a listener that accepts and never answers); keepalives end a session whose
     * peer vanished (idle S s, then 3 probes S/3 s apart) instead of the kernel's 2 h. */
    int secs = (connect_timeout_ms + 999) / 1000;
    char timeout[16], idle[16], interval[16];
    snprintf(timeout, sizeof(timeout), "%d", secs);
    snprintf(idle, sizeof(idle), "%d", secs);
    snprintf(interval, sizeof(interval), "%d", secs / 3 > 0 ? secs / 3 : 1);
    /* defaults first: what the URL says overrides them (expand_dbname) */
    const char *const keys[] = {"connect_timeout", "keepalives", "keepalives_idle",
                                "keepalives_interval", "keepalives_count", "application_name",
                                "dbname", NULL};
    const char *const vals[] = {timeout, "1", idle, interval, "3", "pinpipe", conninfo, NULL};
    pg->conn = PQconnectdbParams(keys, vals, 1);
    if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) {
        connect_err(pg, secs, errstr, errstr_size);
        goto fail;
    }
    int rc = ping(pg, connect_timeout_ms);
    if (rc == PP_ETIMEDOUT) {
        snprintf(errstr, errstr_size,
                 "postgresql: the server accepted the connection but answered no query within "
                 "%d s (check --warehouse and that PostgreSQL is not hung or overloaded)",
                 secs);
        goto fail;
    }
    if (rc) {
        snprintf(errstr, errstr_size, "postgresql: %s", pg->err);
        goto fail;
    }
    if (session(pg)) {
        snprintf(errstr, errstr_size, "%s", pg->err);
        goto fail;
    }
    if (migrate(pg, errstr, errstr_size))
        goto fail;
    return &pg->base;
fail:
    pg_close(&pg->base);
    return NULL;
}

static const char *pg_errmsg(struct pp_wh *base)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    return pg->err[0] ? pg->err : "no error";
}

static int pg_set_sync(struct pp_wh *base, int full)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    pg->sync_full = full != 0;
    return wh_pg_exec(pg, full ? "SET synchronous_commit = on" : "SET synchronous_commit = off", 0,
                      NULL, NULL)
               ? PP_EIO
               : 0;
}

/* Local only: BEGIN goes with the first statement (wh_pg_txn), so that a lost connection
 * shows at pp_wh_offset_set/commit, where the caller rolls back and rewinds. */
static int pg_begin(struct pp_wh *base)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    if (pg->in_txn) {
        set_err(pg, "begin", "a transaction is open already");
        return PP_EIO;
    }
    wh_pg_discard(pg);
    pg->in_txn = 1;
    pg->began = 0;
    pg->failed = 0;
    return 0;
}

static int pg_commit(struct pp_wh *base)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    if (!pg->in_txn) {
        set_err(pg, "commit", "no transaction is open");
        return PP_EIO;
    }
    /* nothing sent yet (the stream's case): load it all without savepoints; an ind that
     * exists already aborts it, and it runs again through the staging tables */
    pg->whole = !pg->began;
    int rc = pg->whole ? wh_pg_ready(pg, 1000) : WH_PG_SLOW;
    if (!rc) { /* the usual case: one query */
        rc = wh_pg_commit_all(pg);
        if (!rc) {
            pg->whole = pg->in_txn = 0;
            wh_pg_discard(pg);
            return 0;
        }
        if (rc == WH_PG_REDO) {
            PQclear(PQexec(pg->conn, "ROLLBACK"));
            pg->began = 0;
        }
    }
    if (rc == WH_PG_SLOW || rc == WH_PG_REDO)
        rc = wh_pg_flush(pg, 1);
    for (int redo = 0; rc == WH_PG_REDO && redo < PP_KIND_COUNT; redo++) {
        PQclear(PQexec(pg->conn, "ROLLBACK"));
        pg->began = 0;
        rc = wh_pg_flush(pg, 1);
    }
    pg->whole = 0;
    if (rc == WH_PG_REDO) { /* cannot happen: each redo stages one more kind */
        set_err(pg, "commit", "an ind exists although staged");
        rc = PP_EIO;
    }
    if (rc)
        return rc; /* still open: the caller rolls back */
    wh_pg_discard(pg);
    PGresult *res = PQexec(pg->conn, "COMMIT");
    pg->in_txn = pg->began = 0; /* whatever the outcome, the transaction is over */
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return wh_pg_fail(pg, res, "commit");
    /* COMMIT of a failed transaction answers ROLLBACK */
    rc = strcmp(PQcmdStatus(res), "COMMIT") ? PP_EIO : 0;
    if (rc)
        set_err(pg, "commit", "the transaction was rolled back");
    PQclear(res);
    return rc;
}

static int pg_rollback(struct pp_wh *base)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    wh_pg_discard(pg);
    int began = pg->began;
    pg->in_txn = pg->began = pg->failed = 0;
    if (!began || PQstatus(pg->conn) != CONNECTION_OK)
        return 0; /* nothing sent, or the server rolled it back with the session */
    int rc = wh_pg_exec(pg, "ROLLBACK", 0, NULL, NULL);
    return rc == PP_EBUSY ? 0 : rc;
}

/* Statements outside a transaction reconnect first; inside one they go with it. */
static int pg_stmt(struct wh_pg *pg, const char *sql, int n, const char *const *params,
                   PGresult **res)
{
    if (pg->in_txn && pg->failed)
        return pg->failed;
    int rc = pg->in_txn ? wh_pg_txn(pg) : wh_pg_ready(pg, 1000);
    return rc ? rc : wh_pg_exec(pg, sql, n, params, res);
}

static int pg_offset_set(struct pp_wh *base, const char *group, const char *topic, int partition,
                         int64_t expect, int64_t next_offset)
{
    char part[16], off[32], exp[32];
    snprintf(part, sizeof(part), "%d", partition);
    snprintf(off, sizeof(off), "%" PRId64, next_offset);
    snprintf(exp, sizeof(exp), "%" PRId64, expect);
    const char *params[] = {group, topic, part, off, exp};
    struct wh_pg *pg = (struct wh_pg *)base;
    if (pg->in_txn) /* written with the rows at the flush, checked there */
        return pg->failed ? pg->failed
                          : wh_pg_offset_add(pg, group, topic, partition, expect, next_offset);
    PGresult *res = NULL;
    int rc = pg_stmt(pg,
                     "INSERT INTO pp_offsets (consumer_group, topic, partition, next_offset)"
                     " VALUES ($1, $2, $3, $4) ON CONFLICT (consumer_group, topic, partition)"
                     " DO UPDATE SET next_offset = excluded.next_offset"
                     " WHERE pp_offsets.next_offset = $5",
                     5, params, &res);
    if (!rc && strcmp(PQcmdTuples(res), "1")) {
        wh_conflict_msg(pg->err, sizeof(pg->err), group, topic, partition, expect);
        rc = PP_ECONFLICT;
    }
    PQclear(res);
    return rc;
}

/* Where the stream starts (or rewinds to): the committed position, so it waits out a lost
 * connection (up to PP_WH_BUSY_TIMEOUT_MS) rather than failing the consumer. */
static int pg_offset_get(struct pp_wh *base, const char *group, const char *topic, int partition,
                         int64_t *next_offset)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    char part[16];
    snprintf(part, sizeof(part), "%d", partition);
    const char *params[] = {group, topic, part};
    int64_t deadline = mono_ms() + PP_WH_BUSY_TIMEOUT_MS;
    if (pg->in_txn && pg->noffs) { /* buffered positions first */
        int rc = wh_pg_flush(pg, 0);
        if (rc)
            return rc;
    }
    for (;;) {
        PGresult *res = NULL;
        int rc = pg_stmt(pg,
                         "SELECT next_offset FROM pp_offsets"
                         " WHERE consumer_group = $1 AND topic = $2 AND partition = $3",
                         3, params, &res);
        if (!rc) {
            rc = PQntuples(res) ? 0 : PP_ENOENT;
            if (!rc)
                *next_offset = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
            PQclear(res);
            return rc;
        }
        if (rc != PP_EBUSY || pg->in_txn || mono_ms() > deadline)
            return rc;
        nap_ms(100);
    }
}

static int pg_count(struct pp_wh *base, enum pp_kind kind, int64_t *n)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    if (kind < 0 || kind >= PP_KIND_COUNT)
        return PP_EINVAL;
    char sql[64];
    PGresult *res = NULL;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", wh_pg_table(kind)->name);
    int rc = pg->in_txn ? wh_pg_flush(pg, 0) : 0;
    rc = rc ? rc : pg_stmt(pg, sql, 0, NULL, &res);
    if (!rc) {
        *n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
    }
    return rc;
}

/* Dead letters: kept with the transaction's rows (written at the flush), at once outside one. */
static int pg_reject(struct pp_wh *base, const char *topic, int partition, int64_t offset,
                     const char *error, const char *value, size_t vlen)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    if (pg->in_txn)
        return wh_pg_reject_add(pg, topic, partition, offset, error, value, vlen);
    int rc = wh_pg_reject_add(pg, topic, partition, offset, error, value, vlen);
    rc = rc ? rc : wh_pg_ready(pg, 1000);
    rc = rc ? rc : wh_pg_reject_put(pg, &pg->rej[0]);
    wh_pg_discard(pg);
    return rc;
}

int wh_pg_reject_put(struct wh_pg *pg, const struct wh_pg_reject *r)
{
    char part[16], off[32];
    snprintf(part, sizeof(part), "%d", r->partition);
    snprintf(off, sizeof(off), "%" PRId64, r->offset);
    const char *params[] = {r->topic, part, off, r->error, r->value};
    return wh_pg_exec(pg,
                      "INSERT INTO pp_rejects (topic, partition, \"offset\", error, value,"
                      " rejected_at) VALUES ($1, $2, $3, $4, $5, now())"
                      " ON CONFLICT (topic, partition, \"offset\") DO UPDATE SET"
                      " error = excluded.error, value = excluded.value",
                      5, params, NULL);
}

static int pg_read_begin(struct pp_wh *base, int *own)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    *own = !pg->in_txn;
    if (!*own)
        return wh_pg_flush(pg, 0);
    int rc = wh_pg_ready(pg, 1000);
    return rc ? rc
              : wh_pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL);
}

static void pg_read_end(struct pp_wh *base, int own)
{
    if (own)
        wh_pg_exec((struct wh_pg *)base, "COMMIT", 0, NULL, NULL);
}

static int pg_snapshot_exists(struct pp_wh *base, const char *run_date)
{
    PGresult *res = NULL;
    const char *params[] = {run_date};
    int rc = wh_pg_exec((struct wh_pg *)base, "SELECT 1 FROM pp_insight_runs WHERE run_date = $1",
                        1, params, &res);
    if (rc)
        return PP_EIO;
    rc = PQntuples(res) ? 0 : PP_ENOENT;
    PQclear(res);
    return rc;
}

/* A result's cells typed as SQLite would give them: integers, reals, text, NULL. */
static int collect(PGresult *res, struct wh_result *out)
{
    int n = PQnfields(res);
    out->ncols = n < 8 ? n : 8;
    for (int c = 0; c < out->ncols; c++)
        if (!(out->names[c] = strdup(PQfname(res, c))))
            return PP_ENOMEM;
    for (int r = 0; r < PQntuples(res); r++) {
        struct wh_cell *row = wh_result_add(out);
        if (!row)
            return PP_ENOMEM;
        for (int c = 0; c < out->ncols; c++) {
            if (PQgetisnull(res, r, c))
                continue;
            const char *v = PQgetvalue(res, r, c);
            Oid t = PQftype(res, c);
            if (t == OID_INT8 || t == OID_INT4 || t == OID_INT2) {
                row[c].type = WH_CELL_INT;
                row[c].i = strtoll(v, NULL, 10);
            } else if (t == OID_FLOAT8 || t == OID_FLOAT4 || t == OID_NUMERIC) {
                row[c].type = WH_CELL_REAL;
                row[c].d = strtod(v, NULL);
            } else {
                row[c].type = WH_CELL_TEXT;
                if (!(row[c].s = strdup(v)))
                    return PP_ENOMEM;
            }
        }
    }
    return 0;
}

static int pg_insight_query(struct pp_wh *base, int i, const char *run_date, struct wh_result *out)
{
    const struct wh_insight *in = wh_insight_get(i);
    struct pp_buf sql;
    PGresult *res = NULL;
    const char *params[] = {run_date};
    pp_buf_init(&sql, 0);
    memset(out, 0, sizeof(*out));
    int rc =
        run_date
            ? pp_buf_printf(&sql, "SELECT %s FROM insight_%s WHERE run_date = $1 ORDER BY %s",
                            in->cols, in->name, in->pg.order)
            : pp_buf_printf(&sql, "SELECT * FROM (%s) s ORDER BY %s", in->pg.sql, in->pg.order);
    rc = rc ? rc : wh_pg_exec((struct wh_pg *)base, sql.data, run_date ? 1 : 0, params, &res);
    pp_buf_free(&sql);
    if (rc)
        return PP_EIO;
    rc = collect(res, out);
    PQclear(res);
    if (rc)
        wh_result_free(out);
    return rc;
}

static int pg_insights_snapshot(struct pp_wh *base, const char *run_date)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    const char *params[] = {run_date};
    if (pg_begin(base))
        return PP_EIO;
    int rc = wh_pg_txn(pg); /* one transaction: a reader sees the old or the new snapshot */
    rc = rc ? rc
            : wh_pg_exec(pg,
                         "INSERT INTO pp_insight_runs (run_date, created_at) VALUES ($1, now())"
                         " ON CONFLICT (run_date) DO UPDATE SET created_at = excluded.created_at",
                         1, params, NULL);
    for (int i = 0; !rc && i < PP_WH_NINSIGHTS; i++) {
        const struct wh_insight *in = wh_insight_get(i);
        char del[128];
        struct pp_buf sql;
        pp_buf_init(&sql, 0);
        snprintf(del, sizeof(del), "DELETE FROM insight_%s WHERE run_date = $1", in->name);
        rc = wh_pg_exec(pg, del, 1, params, NULL);
        rc = rc ? rc
                : pp_buf_printf(
                      &sql, "INSERT INTO insight_%s (run_date, %s) SELECT $1::text, %s FROM (%s) s",
                      in->name, in->cols, in->cols, in->pg.sql);
        rc = rc ? rc : wh_pg_exec(pg, sql.data, 1, params, NULL);
        pp_buf_free(&sql);
    }
    if (rc) {
        pg_rollback(base);
        return PP_EIO;
    }
    return pg_commit(base) ? PP_EIO : 0;
}

static int pg_dag_record(struct pp_wh *base, const struct pp_wh_dag_task *t)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    char attempts[16], start[24], end[24];
    snprintf(attempts, sizeof(attempts), "%d", t->attempts);
    snprintf(start, sizeof(start), "%lld", (long long)t->start_ms);
    snprintf(end, sizeof(end), "%lld", (long long)t->end_ms);
    const char *params[8] = {t->dag, t->run_date, t->task, t->state, attempts, start, end,
                             t->error ? t->error : ""};
    int rc = wh_pg_ready(pg, 30000);
    return rc ? rc
              : wh_pg_exec(pg, WH_DAG_UPSERT("$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8"), 8,
                           params, NULL);
}

static int pg_dag_history(struct pp_wh *base, const char *dag, int limit,
                          void (*cb)(void *arg, const struct pp_wh_dag_task *t), void *arg)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    char lim[16];
    snprintf(lim, sizeof(lim), "%d", limit > 0 ? limit : 1000000);
    const char *params[2] = {lim, dag};
    PGresult *res = NULL;
    int rc = wh_pg_ready(pg, 30000);
    if (!rc)
        rc = wh_pg_exec(pg,
                        dag ? WH_DAG_SELECT " WHERE dag = $2 ORDER BY run_date DESC, start_ms LIMIT $1"
                            : WH_DAG_SELECT " ORDER BY run_date DESC, dag, start_ms LIMIT $1",
                        dag ? 2 : 1, params, &res);
    if (rc)
        return rc;
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        struct pp_wh_dag_task t = {PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                                   PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
                                   (int)strtol(PQgetvalue(res, i, 4), NULL, 10),
                                   strtoll(PQgetvalue(res, i, 5), NULL, 10),
                                   strtoll(PQgetvalue(res, i, 6), NULL, 10),
                                   PQgetvalue(res, i, 7)};
        cb(arg, &t);
    }
    PQclear(res);
    return n;
}

static int pg_quality_store(struct pp_wh *base, const char *run_date,
                            const struct pp_wh_metric *m, int n)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    int rc = wh_pg_ready(pg, 30000);
    const char *del[1] = {run_date};
    rc = rc ? rc : wh_pg_exec(pg, "BEGIN", 0, NULL, NULL);
    rc = rc ? rc : wh_pg_exec(pg, "DELETE FROM pp_quality WHERE run_date = $1", 1, del, NULL);
    for (int i = 0; !rc && i < n; i++) {
        char v[24];
        snprintf(v, sizeof(v), "%lld", (long long)m[i].value);
        const char *p[4] = {run_date, m[i].topic, m[i].metric, v};
        rc = wh_pg_exec(pg, "INSERT INTO pp_quality VALUES ($1, $2, $3, $4)", 4, p, NULL);
    }
    if (rc) {
        PQclear(PQexec(pg->conn, "ROLLBACK"));
        return rc;
    }
    return wh_pg_exec(pg, "COMMIT", 0, NULL, NULL);
}

static int pg_count_ids(struct pp_wh *base, enum pp_kind kind, const int64_t *ids, int n,
                        int64_t *found)
{
    struct wh_pg *pg = (struct wh_pg *)base;
    struct pp_buf arr;
    pp_buf_init(&arr, 0);
    pp_buf_putc(&arr, '{');
    for (int i = 0; i < n; i++) {
        if (i)
            pp_buf_putc(&arr, ',');
        pp_buf_put_i64(&arr, ids[i]);
    }
    int rc = pp_buf_putc(&arr, '}');
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\" WHERE ind = ANY($1::bigint[])",
             pp_kind_name(kind));
    const char *p[1] = {arr.data};
    PGresult *res = NULL;
    rc = rc ? PP_ENOMEM : wh_pg_ready(pg, 30000);
    rc = rc ? rc : wh_pg_exec(pg, sql, 1, p, &res);
    if (!rc) {
        *found = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
    }
    pp_buf_free(&arr);
    return rc;
}

static const struct wh_ops pg_ops = {
    .close = pg_close,
    .errmsg = pg_errmsg,
    .set_sync = pg_set_sync,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .upsert = wh_pg_upsert,
    .prep_new = wh_pg_prep_new,
    .upsert_prep = wh_pg_upsert_prep,
    .offset_set = pg_offset_set,
    .offset_get = pg_offset_get,
    .count = pg_count,
    .reject = pg_reject,
    .read_begin = pg_read_begin,
    .read_end = pg_read_end,
    .snapshot_exists = pg_snapshot_exists,
    .insight_query = pg_insight_query,
    .insights_snapshot = pg_insights_snapshot,
    .dag_record = pg_dag_record,
    .dag_history = pg_dag_history,
    .quality_store = pg_quality_store,
    .count_ids = pg_count_ids,
};
