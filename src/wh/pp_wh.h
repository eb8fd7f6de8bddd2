/* pp_wh.h: the warehouse: embedded SQLite (sqlite.c) or PostgreSQL (pgsql.c), same interface.
 *
 * Tables pin, geo, user hold cleaned rows (pp_clean.h columns), primary key ind (dedup by
 * id: a resend never double-counts). pp_offsets(consumer_group, topic, partition,
 * next_offset) holds consumed positions, written in the same transaction as the rows, which
 * is what makes the stream exactly once. insight_<name>(run_date, <columns>) tables hold
 * each batch run's snapshot (PRODUCT.md "Insights").
 *
 * Concurrency: one writer at a time (the stream, or a batch run); other processes read
 * concurrently (WAL) and a second writer waits up to PP_WH_BUSY_TIMEOUT_MS for the lock.
 * Durability: synchronous=FULL by default, so a committed transaction (rows + offsets)
 * survives power loss; see pp_wh_set_sync().
 * @thread one thread per struct pp_wh (open one per thread or process).
 *
 * PostgreSQL (a libpq URI "postgresql://..." or "postgres://..." as the warehouse string):
 * the same tables typed (ind/follower_count/downloaded/age bigint, coordinates double
 * precision[], timestamp/date_joined timestamptz, text elsewhere), schema versioned in
 * pp_schema_version as on SQLite. Inside a transaction pp_wh_upsert(), pp_wh_reject() and
 * pp_wh_offset_set() buffer in the client (bounded: 8 MiB, then loaded mid-transaction) and
 * pp_wh_commit() sends them as one query: BEGIN, a binary COPY per table straight into it, one
 * multi-row offsets upsert, COMMIT; when an ind already exists that fails, is rolled back and
 * is redone from the buffers with that table going through a TEMP staging table merged by
 * INSERT ... ON CONFLICT (ind) DO UPDATE, latest wins -- either way rows and offsets commit
 * together. BEGIN itself waits for the first statement. pp_wh_upsert_status() writes its row at once. Text cannot
 * hold NUL there: NUL bytes are dropped (a value left empty is NULL, as every empty text); dead
 * letters store invalid UTF-8 as U+FFFD. Writers run concurrently (row locks); waits end after
 * PP_WH_BUSY_TIMEOUT_MS. A lost connection (server restart, backend terminated) is PP_EBUSY: roll
 * back and retry; the next call reconnects (with backoff), pp_wh_offset_get() waiting up to
 * PP_WH_BUSY_TIMEOUT_MS for the server. A COMMIT whose answer was lost may have committed:
 * replaying its records is refused by the positions' compare-and-set (pp_wh_offset_set).
 */
#ifndef PP_WH_H
#define PP_WH_H

#include <stdint.h>
#include <stdio.h>

#include "pp_clean.h"

struct pp_wh;

enum pp_wh_format { PP_WH_TABLE, PP_WH_JSON, PP_WH_CSV };

/* How long a writer waits for another process's write lock before PP_EIO (ms). */
#define PP_WH_BUSY_TIMEOUT_MS 30000

/* What pp_wh_upsert_status() did. */
enum pp_wh_upsert_result { PP_WH_INSERTED = 1, PP_WH_UPDATED = 2, PP_WH_UNCHANGED = 3 };

/* The nine insights, in PRODUCT.md table order (json output order). */
#define PP_WH_NINSIGHTS 9

/* Is spec a PostgreSQL connection URI (postgresql:// or postgres://)? Anything else names
 * a SQLite file. */
int pp_wh_is_url(const char *spec);
/* spec for logs and messages: a URL's password (user:PASSWORD@, password=...) as "***".
 * @returns buf (truncated to size). */
const char *pp_wh_redact(const char *spec, char *buf, size_t size);
/* Open or create the warehouse spec names (pp_wh_is_url: PostgreSQL; else a SQLite file in
 * WAL mode), creating or migrating the schema. errstr never holds a password.
 * @returns owned: release with pp_wh_close(). NULL on error with errstr filled. */
struct pp_wh *pp_wh_open(const char *spec, char *errstr, size_t errstr_size);
/* Default bound on reaching a PostgreSQL server (ms): libpq's connect_timeout (whole
 * seconds, at least 2, per address of the host), and TCP keepalives on the session. */
#define PP_WH_CONNECT_TIMEOUT_MS 10000
/* As pp_wh_open, reaching a PostgreSQL server within connect_timeout_ms (0 = the default;
 * a connect_timeout in the URI wins; SQLite: unused), and its answer to a first query within
 * connect_timeout_ms too (a server that completed the startup and hangs). A server that
 * cannot be reached fails with one line: "postgresql: <libpq's reason> (check --warehouse and
 * that PostgreSQL is running)". */
struct pp_wh *pp_wh_open_timeout(const char *spec, int connect_timeout_ms, char *errstr,
                                 size_t errstr_size);
void pp_wh_close(struct pp_wh *wh);
/* @returns borrowed: the backend's last error message, valid until the next call on wh. */
const char *pp_wh_errmsg(struct pp_wh *wh);
/* full=1 (default): each commit is fsynced (WAL + synchronous=FULL); survives power loss.
 * full=0: synchronous=NORMAL: a crash of the process loses nothing, a power loss may roll
 * back the last commits -- rows and offsets together, so the stream re-reads them from the
 * log and exactly once still holds; only "visible in the warehouse" is undone.
 * PostgreSQL: synchronous_commit on / off, same trade.
 * @returns 0 or PP_EIO. */
int pp_wh_set_sync(struct pp_wh *wh, int full);
/* Column i of a kind's warehouse table (same names and order as pp_clean_columns()).
 * @returns static string, NULL past the end. */
const char *pp_wh_column(enum pp_kind kind, int i);

/* Transactions. Begin takes the write lock at once (BEGIN IMMEDIATE), waiting up to
 * PP_WH_BUSY_TIMEOUT_MS for another writer. Rollback is a no-op when none is open (SQLite
 * rolls back by itself on some errors). Upserts, offsets, rejects outside a transaction
 * commit one by one. Errors of these and of the writes below: PP_EBUSY when the lock stayed
 * taken past the timeout (retry later), PP_EIO otherwise (pp_wh_errmsg() tells more). */
int pp_wh_begin(struct pp_wh *wh);
int pp_wh_commit(struct pp_wh *wh);
int pp_wh_rollback(struct pp_wh *wh);

/* Insert a cleaned row; an existing row with the same ind is replaced (latest wins).
 * The row must have its kind's column count (col[0], ind, is taken from row->id).
 * @returns 0, PP_EINVAL (wrong kind or column count), PP_EBUSY or PP_EIO. */
int pp_wh_upsert(struct pp_wh *wh, const struct pp_row *row);
/* Same, and *status (may be NULL) tells whether the row was new, changed or identical. */
int pp_wh_upsert_status(struct pp_wh *wh, const struct pp_row *row, int *status);

/* Rows of a transaction prepared off the warehouse's connection, on any thread: PostgreSQL's
 * binary COPY data per table, encoded by the thread that cleans while another loads the
 * previous transaction, so that loading only sends (src/stream/stream.c). One thread at a
 * time per prep. pp_wh_prep_new() @returns owned, or NULL when the backend has no use for it
 * (SQLite: call pp_wh_upsert() per row) or out of memory. pp_wh_prep_add(): as a
 * pp_wh_upsert() of row at its place in the transaction; @returns 0, PP_EINVAL (a value the
 * table's type cannot hold), PP_ENOMEM. pp_wh_prep_finish(): orders each table's rows by ind
 * (rows of one ind keep their order: latest still wins), so the server inserts in key order;
 * call it before handing the prep over. pp_wh_upsert_prep(): inside a transaction, upserts
 * every row of prep as pp_wh_upsert() would have, leaving prep empty (reusable); @returns as
 * pp_wh_upsert(). */
struct pp_wh_prep;
struct pp_wh_prep *pp_wh_prep_new(const struct pp_wh *wh);
int pp_wh_prep_add(struct pp_wh_prep *prep, const struct pp_row *row);
int pp_wh_prep_finish(struct pp_wh_prep *prep);
/* Bytes of encoded rows held (for a caller's bound on a transaction's size). */
size_t pp_wh_prep_bytes(const struct pp_wh_prep *prep);
void pp_wh_prep_reset(struct pp_wh_prep *prep);
void pp_wh_prep_free(struct pp_wh_prep *prep);
int pp_wh_upsert_prep(struct pp_wh *wh, struct pp_wh_prep *prep);
/* Record a consumed position: (group, topic, partition) moves from expect -- the position the
 * transaction's records of that partition start at, i.e. the stored one it read -- to
 * next_offset, inside the caller's transaction (PostgreSQL buffers it until pp_wh_commit(),
 * which stores it with the rows). A compare-and-set: when the stored position is not expect
 * (no row counts as expect), the transaction must not commit: @returns PP_ECONFLICT (SQLite:
 * here; PostgreSQL: from pp_wh_commit()); roll back, re-read the position (pp_wh_offset_get)
 * and go on from it. That happens when another consumer committed the partition meanwhile
 * (a group member stalled past its session, whose partitions went to another), or when a
 * COMMIT whose answer was lost did commit: either way nothing is loaded twice or out of order.
 * Within one transaction a later call for the same partition moves it on (expect = the
 * earlier call's next_offset). @returns 0, PP_ECONFLICT, PP_EIO, PP_EBUSY. */
int pp_wh_offset_set(struct pp_wh *wh, const char *group, const char *topic, int partition,
                     int64_t expect, int64_t next_offset);
/* @returns 0 with *next_offset, or PP_ENOENT (start from the beginning). */
int pp_wh_offset_get(struct pp_wh *wh, const char *group, const char *topic, int partition,
                     int64_t *next_offset);
/* One task of a scheduled DAG run, as kept in table pp_dag_runs (the run history). */
struct pp_wh_dag_task {
    const char *dag, *run_date, *task;
    const char *state;  /* "running", "success", "failed", "upstream_failed", ... */
    int attempts;
    int64_t start_ms, end_ms; /* ms since the epoch; 0 = not started / not ended */
    const char *error;  /* last attempt's error, "" when none */
};
/* Insert or replace the row of (dag, run_date, task), outside any stream transaction.
 * @returns 0, PP_EIO, PP_EBUSY. */
int pp_wh_dag_record(struct pp_wh *wh, const struct pp_wh_dag_task *t);
/* Call cb for the newest `limit` rows of dag (all DAGs when NULL), newest run first.
 * @returns rows seen, or <0. */
int pp_wh_dag_history(struct pp_wh *wh, const char *dag, int limit,
                      void (*cb)(void *arg, const struct pp_wh_dag_task *t), void *arg);

/* One data-quality measurement of a run (table pp_quality). */
struct pp_wh_metric {
    const char *topic;  /* "pin", "geo", "user" */
    const char *metric; /* e.g. "records", "duplicates", "null_title", "missing_in_warehouse" */
    int64_t value;
};
/* Replace run_date's measurements with m[0..n). @returns 0, PP_EIO, PP_EBUSY. */
int pp_wh_quality_store(struct pp_wh *wh, const char *run_date, const struct pp_wh_metric *m,
                        int n);
/* How many of ids[0..n) have a row in kind's table. @returns 0 with *found, or <0. */
int pp_wh_count_ids(struct pp_wh *wh, enum pp_kind kind, const int64_t *ids, int n,
                    int64_t *found);

/* Rows in the kind's table. */
int pp_wh_count(struct pp_wh *wh, enum pp_kind kind, int64_t *n);
/* Store a record that could not be cleaned (dead letters), once per (topic, partition,
 * offset): a rerun replaces it. The batch path, which has no log offsets, uses partition -1
 * and a hash of the value as offset. */
int pp_wh_reject(struct pp_wh *wh, const char *topic, int partition, int64_t offset,
                 const char *error, const char *value, size_t vlen);

/* Compute the nine insights now over the current tables and print them to out in format.
 * Semantics: PRODUCT.md "Insights" (inner join on ind; rank-1 ties kept; NULLs in grouped or
 * ranked columns left out -- top_user_by_country ranks follower_count per country, so a
 * NULL poster_name beside a top count stays, as null; exact medians over non-NULL follower
 * counts, a group with none has no row; ages under 18 are in no group). Rows are sorted by their
 * key columns; age groups sort in age order (18-24, 25-35, 36-50, +50), not as text. json:
 * {"<insight>": [{"<column>": value, ...}, ...], ...} keys in PRODUCT.md order, numbers as JSON
 * numbers; an integral median prints without ".0" (124000), others in the shortest form that reads
 * back exactly (1234.5). table: a title line per insight, then aligned columns. csv: per insight a
 * "# <name>" line, a header row, the rows (RFC 4180 quoting), a blank line.
 * @returns 0, PP_EIO (query or write failed). */
int pp_wh_insights_print(struct pp_wh *wh, enum pp_wh_format format, FILE *out);
/* Print the snapshot stored under run_date instead, same formats.
 * @returns 0, PP_ENOENT (no snapshot of that date), PP_EIO. */
int pp_wh_insights_print_snapshot(struct pp_wh *wh, const char *run_date, enum pp_wh_format format,
                                  FILE *out);
/* Compute the insights and store them under run_date ("YYYY-MM-DD"), replacing that date's,
 * in one transaction of its own (call outside pp_wh_begin/commit). @returns 0 or PP_EIO. */
int pp_wh_insights_snapshot(struct pp_wh *wh, const char *run_date);
/* Name of insight i (0..PP_WH_NINSIGHTS-1), PRODUCT.md order. @returns static string. */
const char *pp_wh_insight_name(int i);

#endif
