/* wh_pg.h: what the PostgreSQL warehouse's files share (not part of the pp_wh interface). */
#ifndef WH_PG_H
#define WH_PG_H

#include <libpq-fe.h>

#include "pp_buf.h"
#include "wh_int.h"

/* Rows buffered in one transaction before they are loaded mid-transaction (bytes of COPY text). */
#ifndef WH_PG_BUFFER_MAX /* a test build may shrink it */
#define WH_PG_BUFFER_MAX (8u << 20)
#endif

/* How a cleaned value becomes PostgreSQL text input (pp_clean.h gives coordinates as TEXT
 * "[lat, lon]" and timestamps as TEXT "YYYY-MM-DD HH:MM:SS" UTC). */
enum wh_pg_conv { WH_PG_INT, WH_PG_TEXT, WH_PG_COORDS, WH_PG_TS };

struct wh_pg_col {
    const char *name; /* as pp_wh_column() */
    const char *type; /* PostgreSQL type */
    enum wh_pg_conv conv;
};

struct wh_pg_table {
    const char *name; /* quoted */
    const struct wh_pg_col *cols;
    int ncols;
};

/* @returns static: the PostgreSQL table of a kind (valid kind). */
const struct wh_pg_table *wh_pg_table(enum pp_kind kind);

/* The inds buffered for one table (open addressing), to see duplicates within a load. */
struct wh_pg_ids {
    int64_t *v;
    unsigned char *used;
    size_t cap, n;
};

/* Flushes of a table that use the staging table after a direct COPY met an existing ind. */
#define WH_PG_DIRECT_BACKOFF 16

struct wh_pg {
    struct pp_wh base; /* first: a struct pp_wh * of this backend points here */
    PGconn *conn;
    char err[512];
    int in_txn;    /* pp_wh_begin() called, commit/rollback not yet */
    int began;     /* BEGIN sent on this session (deferred to the first
                    * statement: a lost connection fails at commit) */
    int sync_full; /* synchronous_commit on (1) or off (0) */
    int staged;    /* this session's TEMP staging tables exist */
    /* a load inside pp_wh_upsert/reject failed: the transaction is doomed; the next
     * statement or the commit returns this */
    int failed;
    int prepared[PP_KIND_COUNT];         /* this session's per-row upsert statements exist */
    struct pp_buf copy[PP_KIND_COUNT];   /* COPY text of the rows not loaded yet */
    size_t nbuf[PP_KIND_COUNT];          /* rows in copy[k] */
    struct wh_pg_ids ids[PP_KIND_COUNT]; /* inds in copy[k] */
    int dup[PP_KIND_COUNT];              /* copy[k] holds some ind twice: merge latest-wins */
    int staged_only[PP_KIND_COUNT];      /* flushes left before a direct COPY is tried again */
    struct pp_buf scratch;
    struct wh_pg_reject *rej; /* dead letters of the transaction, written at the flush */
    size_t nrej, caprej, buffered;
    struct wh_pg_off *offs; /* positions of the transaction, written at the flush */
    size_t noffs, capoffs;
    /* the commit loads the whole transaction (nothing was sent before it): COPY straight
     * into the tables without a savepoint; an existing ind fails it (WH_PG_REDO) and the
     * commit runs it again from the buffers, that kind through its staging table */
    int whole;
};

/* A consumed position set inside the transaction (one per group, topic, partition). */
struct wh_pg_off {
    char *group, *topic; /* owned */
    int partition;
    int64_t expect;      /* the stored position the transaction started from (the CAS) */
    int64_t next_offset;
};

/* SQLSTATE of a lost positions compare-and-set (pp_positions_check, schema version 4). */
#define WH_PG_CONFLICT_STATE "PP001"

/* wh_pg_flush() inside a whole-transaction commit: an ind existed, redo it all. */
#define WH_PG_REDO 2
/* wh_pg_commit_all(): not for this transaction (nothing sent). */
#define WH_PG_SLOW 3

struct wh_pg_reject {
    char *topic, *error, *value; /* owned; error and value valid UTF-8 without NUL */
    int partition;
    int64_t offset;
};

/* Append the PostgreSQL text form of value v of column c of kind to out (no quoting or
 * escaping). NUL bytes (PostgreSQL text cannot hold them) are dropped; a text value left
 * empty by that is NULL, as the cleaning rules make every empty text NULL.
 * @returns 0, 1 (the value is NULL: nothing appended), PP_EINVAL (not convertible), PP_ENOMEM. */
int wh_pg_value(const struct wh_pg_col *c, const struct pp_val *v, struct pp_buf *out);
/* Append s as a COPY text-format field: backslash, newline, carriage return, tab escaped.
 * @returns 0 or PP_ENOMEM. */
int wh_pg_copy_escape(struct pp_buf *out, const char *s, size_t n);
/* Append one COPY text line of row (its columns). @returns 0, PP_EINVAL, PP_ENOMEM. */
int wh_pg_copy_row(struct pp_buf *out, const struct pp_row *row, struct pp_buf *scratch);
/* Append row as one binary COPY tuple (what the stream's COPYs send: the server skips the
 * text parsing), the same values as wh_pg_copy_row's line. @returns 0, PP_EINVAL, PP_ENOMEM. */
int wh_pg_bin_row(struct pp_buf *out, const struct pp_row *row, struct pp_buf *scratch);
/* Add ind to the set. @returns 0 (new), 1 (present already), PP_ENOMEM. */
int wh_pg_ids_add(struct wh_pg_ids *s, int64_t ind);
void wh_pg_ids_clear(struct wh_pg_ids *s);
void wh_pg_ids_free(struct wh_pg_ids *s);
/* Append s as valid UTF-8 without NUL (invalid bytes become U+FFFD, NULs are dropped).
 * @returns 0 or PP_ENOMEM. */
int wh_pg_utf8(struct pp_buf *out, const char *s, size_t n);

/* pgsql.c: errors and statements on the session. */
/* Remember the failure of what (res may be NULL; cleared) and classify it: PP_EBUSY when
 * the connection is lost or the server says retry (serialization, deadlock, lock timeout,
 * shutdown), PP_EIO otherwise. */
int wh_pg_fail(struct wh_pg *pg, PGresult *res, const char *what);
/* Run sql with text params (NULL entries are SQL NULL); res (may be NULL) gets the result
 * on success, which the caller clears. @returns 0 or as wh_pg_fail. */
int wh_pg_exec(struct wh_pg *pg, const char *sql, int nparams, const char *const *params,
               PGresult **res);
/* Inside pp_wh_begin/commit: send BEGIN unless sent (reconnecting first when the session
 * is down and nothing was sent yet). Outside: no-op. @returns 0 or as wh_pg_ready. */
int wh_pg_txn(struct wh_pg *pg);
/* Outside a transaction, make sure the session is up: reconnect with backoff for up to
 * budget_ms. @returns 0, PP_EBUSY (still down, or a transaction was lost: roll it back). */
int wh_pg_ready(struct wh_pg *pg, int budget_ms);

/* pg_copy.c: rows. */
/* Load the buffered rows, dead letters and positions inside the transaction (sending BEGIN
 * first if needed): COPY straight into pin/geo/user (under a savepoint, or none when
 * pg->whole) when no ind repeats and none existed last time, else COPY into the staging
 * table and merge (latest wins). final: the transaction commits next (its ON COMMIT empties
 * the staging tables). pg->whole keeps the buffers (for a redo) and may return WH_PG_REDO
 * (the transaction is then aborted: roll back, run it again). */
int wh_pg_flush(struct wh_pg *pg, int final);
/* Commit a whole transaction (nothing sent yet, session up) in one multi-statement query:
 * BEGIN, a binary COPY per table straight into it, the positions, COMMIT -- a round trip per
 * COPY, where the statement-by-statement path takes three. @returns 0 (committed),
 * WH_PG_SLOW (dead letters or a kind to stage: use wh_pg_flush), WH_PG_REDO (an ind
 * existed: roll back, that kind is staged next), or as wh_pg_fail (roll back). */
int wh_pg_commit_all(struct wh_pg *pg);
/* pp_wh_prep for PostgreSQL (pg_copy.c). */
struct pp_wh_prep *wh_pg_prep_new(const struct pp_wh *wh);
int wh_pg_upsert_prep(struct pp_wh *base, struct pp_wh_prep *prep);

/* Keep a position for the flush (moving on that of the same group, topic, partition: its
 * first expect stays). @returns 0 or PP_ENOMEM. */
int wh_pg_offset_add(struct wh_pg *pg, const char *group, const char *topic, int partition,
                     int64_t expect, int64_t next_offset);
/* Append to sql the statement that stores offs[0..n) as a compare-and-set: one upsert whose
 * rows each update only a stored position equal to their expect, and a pp_positions_check()
 * of how many did, failing the transaction (WH_PG_CONFLICT_STATE) unless all. Literals are
 * escaped through conn. @returns 0 or PP_ENOMEM. */
int wh_pg_offsets_sql(PGconn *conn, struct pp_buf *sql, const struct wh_pg_off *offs, size_t n);
/* Keep a dead letter for the flush. @returns 0 or PP_ENOMEM. */
int wh_pg_reject_add(struct wh_pg *pg, const char *topic, int partition, int64_t offset,
                     const char *error, const char *value, size_t vlen);
/* Write one dead letter now. */
int wh_pg_reject_put(struct wh_pg *pg, const struct wh_pg_reject *r);
/* The buffer is full inside an upsert/reject: load it now. A failure is kept for the
 * commit (pg->failed) rather than returned, so that the caller rolls back at a point where
 * it rewinds every record of the transaction. @returns 0. */
int wh_pg_spill(struct wh_pg *pg);
/* Drop the buffered rows and dead letters (rollback). */
void wh_pg_discard(struct wh_pg *pg);
/* Create this session's TEMP staging tables unless they exist (outside a transaction). */
int wh_pg_stage(struct wh_pg *pg);
int wh_pg_upsert(struct pp_wh *base, const struct pp_row *row, int *status);

#endif
