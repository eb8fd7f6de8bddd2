/* stream.c: consumer group "stream": log -> clean -> warehouse, one transaction per batch
 * holding the rows and the next offsets (exactly once; the warehouse is the truth); under
 * load a loader thread commits one batch while the next is cleaned. */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pp_clean.h"
#include "pp_err.h"
#include "pp_stream.h"
#include "pp_util.h"
#include "stream_int.h"

#define GROUP "stream"
#define READ_MAX 128 /* records per pp_log_read */
#define WAIT_MS 1    /* one short blocking read while nothing is available */
#define RETRY_MAX 50 /* consecutive failed transactions before giving up */
#define PROGRESS_US 5000000LL
#define LOG_COMMIT_US 100000LL       /* the log's group commits cost an fsync: at most this often */
#define LOG_COMMIT_BUSY_US 1000000LL /* ... and this often while a batch is being loaded */
#define BATCH_BYTES_MAX (32u << 20)  /* a batch is full at this much row text too */
/* Slow start: the first full batches hold BATCH_START rows, doubling up to --batch, so the
 * warehouse gets work while the consumer fills the bigger ones (a first batch of 20000 rows
 * kept the server idle for its ~60-100 ms of cleaning and encoding). */
#define BATCH_START 1024

/* Counts of one batch, added to the caller's stats when its transaction commits. */
struct counts {
    int64_t records, rows, rejected;
    int64_t topic_records[PP_KIND_COUNT], topic_rows[PP_KIND_COUNT], topic_rejected[PP_KIND_COUNT];
};

/* A kept value, a third of a struct pp_val (a batch holds ~130k of them: less memory to
 * fault in and to stream through): u is an INT's i, a REAL's bits, a TEXT's offset into the
 * batch arena (BVAL_NO_S: s was NULL) with n its length. */
struct bval {
    uint64_t u;
    uint32_t n;
    unsigned char type; /* enum pp_val_type */
};
#define BVAL_NO_S UINT64_MAX

struct brow { /* a cleaned row: its values are vals[val .. val + ncols) */
    enum pp_kind kind;
    int ncols;
    int64_t id;
    size_t val;
};

struct brej {          /* a dead letter: why and value are offsets into the arena */
    const char *topic; /* static */
    int partition;
    int64_t offset;
    size_t why, value, vlen;
};

struct boff {          /* a partition's next position once the batch commits */
    const char *topic; /* static */
    int partition;
    int64_t from; /* the stored position the batch's records start at (the CAS's expect) */
    int64_t pos;
};

/* One warehouse transaction's worth of cleaned records. The consumer thread fills one
 * while the loader thread loads the one before (begin, upserts, dead letters, positions,
 * commit), so cleaning overlaps the warehouse's work; at most one is in flight. */
struct batch {
    struct brow *rows;
    size_t nrows, caprows;
    struct bval *vals;
    size_t nvals, capvals;
    struct brej *rej;
    size_t nrej, caprej;
    struct boff *off;
    size_t noff, capoff;
    /* the rows encoded for the warehouse as they are cleaned (PostgreSQL: binary COPY, see
     * pp_wh_prep), so the loader only sends; NULL: rows are kept in rows/vals instead */
    struct pp_wh_prep *prep;
    struct pp_buf arena;
    struct counts c;
    /* ingest timestamps, run-length coded (ts_ms, count) */
    int64_t *lat_ts, *lat_n;
    int lat_len, lat_cap;
    int64_t t0_us;     /* first record (monotonic) */
    int64_t done_us;   /* commit done (monotonic) */
    int64_t done_wall; /* commit done (realtime us) */
    int rc;            /* the load's result */
};

struct stream {
    struct pp_log *log;
    struct pp_wh *wh;
    struct pp_parts parts;
    struct pp_row row;  /* the consumer's cleaning scratch */
    struct pp_row lrow; /* the loader's */
    struct batch b[2];
    struct batch *cur;             /* being filled by the consumer thread */
    struct batch *fly;             /* handed to the loader, not yet settled; NULL when none */
    int log_dirty;                 /* positions committed in the warehouse, not yet in the log */
    int64_t log_commit_us;         /* last log commit (monotonic) */
    struct pp_stream_stats *stats; /* the caller's */
    /* the loader thread: started at the first batch loaded in the background */
    pthread_t loader;
    int loader_on, loader_quit;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch *job; /* handed over, not yet loaded (guarded by mu) */
};

/* Bytes held for the batch's rows and dead letters. */
static size_t batch_bytes(const struct batch *b)
{
    return b->arena.len + (b->prep ? pp_wh_prep_bytes(b->prep) : 0);
}

static void batch_reset(struct batch *b)
{
    pp_wh_prep_reset(b->prep);
    b->nrows = b->nvals = b->nrej = b->noff = 0;
    b->lat_len = 0;
    pp_buf_reset(&b->arena);
    memset(&b->c, 0, sizeof(b->c));
    b->rc = 0;
}

static void batch_free(struct batch *b)
{
    free(b->rows);
    free(b->vals);
    free(b->rej);
    free(b->off);
    free(b->lat_ts);
    free(b->lat_n);
    pp_buf_free(&b->arena);
    pp_wh_prep_free(b->prep);
    memset(b, 0, sizeof(*b));
}

/* Grow *v (of *cap elements of size) to hold n. @returns 0 or PP_ENOMEM. */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 256;
    while (c < n)
        c *= 2;
    void *p = realloc(*v, c * size);
    if (!p)
        return PP_ENOMEM;
    *v = p;
    *cap = c;
    return 0;
}

/* Keep a copy of the cleaned row: its arena in one piece (pp_clean_record keeps every TEXT
 * value there), values elsewhere one by one. @returns 0, PP_ENOMEM, PP_ETOOBIG (a value of
 * 4 GiB: cannot come from the log). */
static int batch_row(struct batch *b, const struct pp_row *row)
{
    int rc = grow((void **)&b->rows, &b->caprows, b->nrows + 1, sizeof(*b->rows));
    rc = rc ? rc
            : grow((void **)&b->vals, &b->capvals, b->nvals + (size_t)row->ncols, sizeof(*b->vals));
    if (rc)
        return rc;
    size_t at = b->arena.len;
    const char *a0 = row->arena.data, *a1 = a0 ? a0 + row->arena.len : NULL;
    int whole = a0 != NULL;
    for (int i = 0; i < row->ncols; i++) {
        const struct pp_val *v = &row->col[i];
        if (v->type != PP_VAL_TEXT || !v->s)
            continue;
        if (v->n > UINT32_MAX)
            return PP_ETOOBIG;
        whole = whole && v->s >= a0 && v->s < a1 && v->n < (size_t)(a1 - v->s);
    }
    if (whole && pp_buf_append(&b->arena, a0, row->arena.len + 1)) /* with its NUL */
        return PP_ENOMEM;
    for (int i = 0; i < row->ncols; i++) {
        const struct pp_val *v = &row->col[i];
        struct bval *k = &b->vals[b->nvals + (size_t)i];
        k->type = (unsigned char)v->type;
        k->n = 0;
        switch (v->type) {
        case PP_VAL_INT:
            k->u = (uint64_t)v->i;
            continue;
        case PP_VAL_REAL:
            memcpy(&k->u, &v->d, sizeof(k->u));
            continue;
        case PP_VAL_TEXT:
            break;
        default:
            k->u = 0;
            continue;
        }
        if (!v->s) {
            k->u = BVAL_NO_S;
            continue;
        }
        k->n = (uint32_t)v->n;
        if (whole) {
            k->u = at + (size_t)(v->s - a0);
        } else {
            k->u = b->arena.len;
            if (pp_buf_append(&b->arena, v->s, v->n) || pp_buf_putc(&b->arena, '\0')) {
                b->arena.len = at;
                return PP_ENOMEM;
            }
        }
    }
    b->rows[b->nrows++] = (struct brow){row->kind, row->ncols, row->id, b->nvals};
    b->nvals += (size_t)row->ncols;
    return 0;
}

/* Keep a dead letter. */
static int batch_reject(struct batch *b, const struct pp_part *part, const struct pp_log_rec *rec,
                        const char *why)
{
    size_t at = b->arena.len;
    int rc = grow((void **)&b->rej, &b->caprej, b->nrej + 1, sizeof(*b->rej));
    rc = rc ? rc : pp_buf_append(&b->arena, why, strlen(why) + 1);
    rc = rc ? rc : pp_buf_append(&b->arena, rec->value, rec->vlen);
    rc = rc ? rc : pp_buf_putc(&b->arena, '\0');
    if (rc) {
        b->arena.len = at;
        return rc;
    }
    struct brej *j = &b->rej[b->nrej++];
    j->topic = part->topic;
    j->partition = part->partition;
    j->offset = rec->offset;
    j->why = at;
    j->value = at + strlen(why) + 1;
    j->vlen = rec->vlen;
    return 0;
}

/* Remember a consumed record's ingest time for the latency histogram. */
static int lat_note(struct batch *b, int64_t ts_ms)
{
    if (b->lat_len && b->lat_ts[b->lat_len - 1] == ts_ms) {
        b->lat_n[b->lat_len - 1]++;
        return 0;
    }
    if (b->lat_len == b->lat_cap) {
        int cap = b->lat_cap ? b->lat_cap * 2 : 256;
        int64_t *ts = realloc(b->lat_ts, sizeof(*ts) * (size_t)cap);
        if (!ts)
            return PP_ENOMEM;
        b->lat_ts = ts;
        int64_t *n = realloc(b->lat_n, sizeof(*n) * (size_t)cap);
        if (!n)
            return PP_ENOMEM;
        b->lat_n = n;
        b->lat_cap = cap;
    }
    b->lat_ts[b->lat_len] = ts_ms;
    b->lat_n[b->lat_len++] = 1;
    return 0;
}

/* After a commit: add the transaction's records to the latency histogram. */
static void lat_commit(struct batch *b, struct pp_stream_stats *stats)
{
    for (int i = 0; i < b->lat_len; i++) {
        int64_t k = (b->done_wall - b->lat_ts[i] * 1000) / 100;
        k = k < 0 ? 0 : k >= PP_STREAM_LAT_BUCKETS ? PP_STREAM_LAT_BUCKETS - 1 : k;
        stats->lat_hist[k] += b->lat_n[i];
    }
    b->lat_len = 0;
}

/* Load batch b in one warehouse transaction (rolled back on failure). Runs on the loader
 * thread, or on the consumer thread while nothing is in flight. @returns 0 or <0. */
static int batch_load(struct pp_wh *wh, struct pp_row *row, struct batch *b)
{
    int rc = pp_wh_begin(wh);
    if (!rc && b->prep)
        rc = pp_wh_upsert_prep(wh, b->prep);
    for (size_t i = 0; !rc && i < b->nrows; i++) {
        const struct brow *r = &b->rows[i];
        row->kind = r->kind;
        row->id = r->id;
        row->ncols = r->ncols;
        for (int c = 0; c < r->ncols; c++) {
            const struct bval *k = &b->vals[r->val + (size_t)c];
            struct pp_val *v = &row->col[c];
            memset(v, 0, sizeof(*v));
            v->type = (enum pp_val_type)k->type;
            if (v->type == PP_VAL_INT)
                v->i = (int64_t)k->u;
            else if (v->type == PP_VAL_REAL)
                memcpy(&v->d, &k->u, sizeof(v->d));
            else if (v->type == PP_VAL_TEXT && k->u != BVAL_NO_S) {
                v->s = b->arena.data + k->u;
                v->n = k->n;
            }
        }
        rc = pp_wh_upsert(wh, row);
    }
    for (size_t i = 0; !rc && i < b->nrej; i++) {
        const struct brej *j = &b->rej[i];
        rc = pp_wh_reject(wh, j->topic, j->partition, j->offset, b->arena.data + j->why,
                          b->arena.data + j->value, j->vlen);
    }
    for (size_t i = 0; !rc && i < b->noff; i++)
        rc = pp_wh_offset_set(wh, GROUP, b->off[i].topic, b->off[i].partition, b->off[i].from,
                              b->off[i].pos);
    rc = rc ? rc : pp_wh_commit(wh);
    if (rc)
        pp_wh_rollback(wh);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    b->done_wall = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    b->done_us = pp_mono_us();
    b->rc = rc;
    return rc;
}

static void *loader_main(void *arg)
{
    struct stream *st = arg;
    pthread_mutex_lock(&st->mu);
    for (;;) {
        while (!st->job && !st->loader_quit)
            pthread_cond_wait(&st->cv, &st->mu);
        if (!st->job)
            break;
        struct batch *b = st->job;
        pthread_mutex_unlock(&st->mu);
        batch_load(st->wh, &st->lrow, b);
        pthread_mutex_lock(&st->mu);
        st->job = NULL;
        pthread_cond_broadcast(&st->cv);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

double pp_stream_latency_ms(const struct pp_stream_stats *stats, double q)
{
    int64_t total = 0, seen = 0;
    for (int i = 0; i < PP_STREAM_LAT_BUCKETS; i++)
        total += stats->lat_hist[i];
    if (!total)
        return -1;
    for (int i = 0; i < PP_STREAM_LAT_BUCKETS; i++) {
        seen += stats->lat_hist[i];
        if ((double)seen >= q * (double)total)
            return (i + 1) / 10.0;
    }
    return PP_STREAM_LAT_BUCKETS / 10.0;
}

static int start_at(void *arg, const char *topic, int partition, int64_t *offset)
{
    struct stream *st = arg;
    int rc = pp_wh_offset_get(st->wh, GROUP, topic, partition, offset);
    st->log_dirty = 1; /* a crash may have left the log's group behind the warehouse */
    if (rc == PP_ENOENT) {
        *offset = 0;
        return 0;
    }
    return rc;
}

/* Clean one record into the batch being filled: a row, or a dead letter. */
static int consume(struct stream *st, struct pp_part *part, const struct pp_log_rec *rec)
{
    struct batch *b = st->cur;
    struct pp_verr verr;
    int rc;
    /* The reader has moved past rec: whatever fails below, the abort must rewind this
     * partition to its committed position, or rec would be skipped. */
    part->touched = 1;
    if (!b->c.records && !b->nrows && !b->nrej)
        b->t0_us = pp_mono_us();
    verr.field[0] = verr.msg[0] = verr.type[0] = '\0'; /* all that is read of it */
    rc = pp_clean_record(part->kind, rec->value, rec->vlen, &st->row, &verr);
    if (rc == 0) {
        rc = b->prep ? pp_wh_prep_add(b->prep, &st->row) : batch_row(b, &st->row);
        b->c.rows += rc == 0;
        b->c.topic_rows[part->kind] += rc == 0;
    } else if (rc != PP_ENOMEM) {
        /* any failure of this record makes a dead letter: never a poison pill */
        char why[300];
        if (verr.field[0])
            snprintf(why, sizeof(why), "%s: %s", verr.field, verr.msg);
        else
            snprintf(why, sizeof(why), "%s", verr.msg[0] ? verr.msg : pp_err_str(rc));
        rc = batch_reject(b, part, rec, why);
        b->c.rejected += rc == 0;
        b->c.topic_rejected[part->kind] += rc == 0;
    }
    if (!rc)
        rc = lat_note(b, rec->ts_ms);
    if (rc)
        return rc;
    b->c.records++;
    b->c.topic_records[part->kind]++;
    part->pos = rec->offset + 1;
    return 0;
}

/* Read what part has now (or within timeout_ms), up to max records, into the transaction.
 * @returns records consumed, or <0 (PP_ESHUTDOWN when the log closed). */
static int pull(struct stream *st, struct pp_part *part, int max, int timeout_ms)
{
    struct pp_log_rec recs[READ_MAX];
    int n = pp_log_read(part->rd, recs, max < READ_MAX ? max : READ_MAX, timeout_ms);
    for (int i = 0; i < n; i++) {
        int rc = consume(st, part, &recs[i]);
        if (rc)
            return rc;
    }
    return n;
}

/* A committed batch: its positions become the partitions' committed ones, its counts the
 * caller's. */
static void batch_done(struct stream *st, struct batch *b, struct pp_stream_stats *stats)
{
    for (size_t i = 0; i < b->noff; i++)
        for (int j = 0; j < st->parts.n; j++) {
            struct pp_part *part = &st->parts.v[j];
            if (part->partition != b->off[i].partition || strcmp(part->topic, b->off[i].topic))
                continue;
            part->committed = b->off[i].pos;
            part->log_dirty = 1;
            st->log_dirty = 1;
            break;
        }
    stats->records += b->c.records;
    stats->rows += b->c.rows;
    stats->rejected += b->c.rejected;
    stats->txns++;
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        stats->topic_records[k] += b->c.topic_records[k];
        stats->topic_rows[k] += b->c.topic_rows[k];
        stats->topic_rejected[k] += b->c.topic_rejected[k];
    }
    stats->failing = 0;
    pp_hist_observe_us(&stats->txn_lat, b->done_us - b->t0_us);
    lat_commit(b, stats);
    batch_reset(b);
}

/* Wait for the batch in flight (if any) to be loaded. @returns its result: 0 (committed and
 * counted) or <0 (rolled back: the caller aborts, which rewinds past it too). */
static int batch_settle(struct stream *st, struct pp_stream_stats *stats)
{
    struct batch *b = st->fly;
    if (!b)
        return 0;
    pthread_mutex_lock(&st->mu);
    while (st->job)
        pthread_cond_wait(&st->cv, &st->mu);
    pthread_mutex_unlock(&st->mu);
    st->fly = NULL;
    int rc = b->rc;
    if (rc)
        batch_reset(b);
    else
        batch_done(st, b, stats);
    return rc;
}

/* Rows by (kind, id), consumption order among equal ids (val grows with it): upserts of
 * different ids commute and those of one id keep their order (latest wins), so the result is
 * the same, and the warehouse inserts ids in key order (PostgreSQL's B-tree takes its
 * rightmost-page fast path; the log holds ids shuffled by concurrent ingest). */
static int brow_cmp(const void *a, const void *b)
{
    const struct brow *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->val < y->val ? -1 : x->val > y->val;
}

/* Order the filled batch's rows for loading (brow_cmp; pp_wh_prep_finish). On the consumer
 * thread, before it waits for the batch in flight: the loader must not wait for this. Only
 * an optimization (a batch committed unordered, as a revoke's partial one, loads the same). */
static int batch_seal(struct batch *b)
{
    if (b->prep)
        return pp_wh_prep_finish(b->prep);
    qsort(b->rows, b->nrows, sizeof(*b->rows), brow_cmp);
    return 0;
}

/* Commit the filled batch: the touched partitions' positions go with its rows. async: hand
 * it to the loader thread and return at once (batch_settle tells how it went); else load it
 * here. Nothing may be in flight. @returns 0 or <0 (the caller aborts). */
static int batch_commit(struct stream *st, struct pp_stream_stats *stats, int async)
{
    struct batch *b = st->cur;
    for (int i = 0; i < st->parts.n; i++) {
        struct pp_part *part = &st->parts.v[i];
        if (!part->touched)
            continue;
        if (grow((void **)&b->off, &b->capoff, b->noff + 1, sizeof(*b->off)))
            return PP_ENOMEM;
        b->off[b->noff++] = (struct boff){part->topic, part->partition, part->loaded, part->pos};
        part->loaded = part->pos;
    }
    if (!b->noff)
        return 0; /* nothing consumed */
    for (int i = 0; i < st->parts.n; i++)
        st->parts.v[i].touched = 0;
    if (async && !st->loader_on) {
        st->loader_on = pthread_create(&st->loader, NULL, loader_main, st) == 0;
        if (!st->loader_on)
            PP_DEBUG("stream", "no loader thread: loading in the consumer thread");
    }
    if (async && st->loader_on) {
        st->fly = b;
        st->cur = b == &st->b[0] ? &st->b[1] : &st->b[0];
        pthread_mutex_lock(&st->mu);
        st->job = b;
        pthread_cond_broadcast(&st->cv);
        pthread_mutex_unlock(&st->mu);
        return 0;
    }
    int rc = batch_load(st->wh, &st->lrow, b);
    if (rc)
        batch_reset(b);
    else
        batch_done(st, b, stats);
    return rc;
}

/* Copy the warehouse's positions to the log's "stream" group: informational only (`pinpipe
 * log offsets`), so at most every LOG_COMMIT_US (LOG_COMMIT_BUSY_US while a batch is in
 * flight: each costs fsyncs), and on exit. */
static void log_commit(struct stream *st, int force)
{
    int64_t now = pp_mono_us(), every = st->fly ? LOG_COMMIT_BUSY_US : LOG_COMMIT_US;
    if (!st->log_dirty || (!force && now - st->log_commit_us < every))
        return;
    st->log_commit_us = now;
    st->log_dirty = 0;
    for (int i = 0; i < st->parts.n; i++) {
        struct pp_part *part = &st->parts.v[i];
        if (!part->log_dirty)
            continue;
        part->log_dirty = 0;
        int rc = pp_log_commit(st->log, GROUP, part->topic, part->partition, part->committed);
        if (rc) /* costs nothing but a stale view */
            PP_DEBUG("stream", "log commit failed topic=%s partition=%d error=%s", part->topic,
                     part->partition, pp_err_str(rc));
    }
}

static int batch_abort(struct stream *st, int reread);

/* The group takes partitions away (rebalance or leaving): the positions live in the
 * warehouse transaction, so commit what was consumed (nothing is in flight here: the
 * group is only served between batches), then tell the log. Lost partitions (the group moved
 * on without us): the batch being filled is dropped, not committed -- the next owner loads
 * those records from the stored positions. */
static void give_up(void *arg, int lost)
{
    struct stream *st = arg;
    int rc = batch_settle(st, st->stats);
    rc = rc ? rc : lost ? -1 : batch_commit(st, st->stats, 0);
    if (rc && batch_abort(st, rc == PP_ECONFLICT))
        PP_WARN("stream", "rewind before revoke failed");
    if (!lost)
        log_commit(st, 1);
}

/* Undo what is not committed (the batch being filled; the one in flight failed or was
 * settled): rewind every reader past its committed position to it, so the same records
 * are consumed again. reread: the committed positions are first read again from the
 * warehouse (after a lost compare-and-set: another consumer committed some partitions, or a
 * commit whose answer was lost did commit). @returns 0 or <0 fatal. */
static int batch_abort(struct stream *st, int reread)
{
    batch_reset(st->cur);
    for (int i = 0; i < st->parts.n; i++) {
        struct pp_part *part = &st->parts.v[i];
        if (reread) {
            int64_t off = 0;
            int rc = pp_wh_offset_get(st->wh, GROUP, part->topic, part->partition, &off);
            if (rc && rc != PP_ENOENT)
                return rc;
            if (off != part->committed) {
                PP_INFO("stream", "position moved topic=%s partition=%d from=%" PRId64
                        " to=%" PRId64 " (committed by another consumer)",
                        part->topic, part->partition, part->committed, off);
                part->committed = off;
                part->log_dirty = 1;
                part->touched = 1; /* reopen below */
            }
        }
        part->loaded = part->committed;
        if (part->touched || part->pos != part->committed) {
            int rc = pp_parts_reopen(&st->parts, part, part->committed);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* Fill one batch: drain what is available round-robin, waiting briefly (WAIT_MS at a time)
 * while the batch is empty or younger than linger_ms; never waits longer than linger_ms
 * in all (at least WAIT_MS when idle). @returns records consumed or <0. */
static int batch_fill(struct stream *st, int batch_max, int linger_ms)
{
    struct pp_parts *ps = &st->parts;
    int64_t t0 = pp_mono_us(), budget = (int64_t)(linger_ms > WAIT_MS ? linger_ms : WAIT_MS);
    int n = 0;
    for (;;) {
        int round = 0;
        for (int i = 0; i < ps->n && n < batch_max && batch_bytes(st->cur) < BATCH_BYTES_MAX; i++) {
            int got = pull(st, &ps->v[i], batch_max - n, 0);
            if (got < 0)
                return got;
            round += got;
            n += got;
        }
        if (n >= batch_max || batch_bytes(st->cur) >= BATCH_BYTES_MAX)
            return n;
        if (round)
            continue;
        int64_t waited = (pp_mono_us() - t0) / 1000;
        if (waited >= budget || (n > 0 && waited >= linger_ms))
            return n;
        if (ps->n == 0)
            return n;
        ps->rr = (ps->rr + 1) % ps->n;
        int got = pull(st, &ps->v[ps->rr], batch_max - n, WAIT_MS);
        if (got < 0)
            return got;
        n += got;
    }
}

/* Nothing in flight and every owned partition committed up to the log's high watermark now
 * (an idle batch_fill came back empty first). False while no partition is owned. */
static int caught_up(struct stream *st)
{
    if (st->fly || st->parts.n == 0)
        return 0;
    for (int i = 0; i < st->parts.n; i++) {
        const struct pp_part *part = &st->parts.v[i];
        int64_t low, high;
        if (pp_log_watermarks(st->log, part->topic, part->partition, &low, &high) ||
            part->committed < high)
            return 0;
    }
    return 1;
}

static void progress(struct pp_stream_stats *stats, int64_t *last_us, int64_t *last_records)
{
    int64_t now = pp_mono_us();
    if (now - *last_us < PROGRESS_US)
        return;
    if (stats->records != *last_records) {
        double secs = (double)(now - *last_us) / 1e6;
        PP_INFO("stream",
                "progress records=%" PRId64 " rows=%" PRId64 " rejected=%" PRId64 " txns=%" PRId64
                " rate=%.0f/s",
                stats->records, stats->rows, stats->rejected, stats->txns,
                (double)(stats->records - *last_records) / secs);
        *last_records = stats->records;
    }
    *last_us = now;
}

int pp_stream_run(struct pp_log *log, struct pp_wh *wh, int batch_max, int linger_ms,
                  unsigned flags, volatile sig_atomic_t *stop, struct pp_stream_stats *stats)
{
    struct stream st;
    struct pp_stream_stats local;
    int rc = 0, failures = 0;
    int64_t last_us = pp_mono_us(), last_records = 0;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
    memset(&st, 0, sizeof(st));
    st.log = log;
    st.wh = wh;
    if (batch_max < 1)
        batch_max = 1;
    if (linger_ms < 0)
        linger_ms = 0;
    pp_row_init(&st.row);
    pp_row_init(&st.lrow);
    pp_buf_init(&st.b[0].arena, 0);
    pp_buf_init(&st.b[1].arena, 0);
    st.b[0].prep = pp_wh_prep_new(wh); /* NULL (SQLite, or no memory): rows go in rows/vals */
    st.b[1].prep = st.b[0].prep ? pp_wh_prep_new(wh) : NULL;
    if (!st.b[1].prep) {
        pp_wh_prep_free(st.b[0].prep);
        st.b[0].prep = NULL;
    }
    st.cur = &st.b[0];
    pthread_mutex_init(&st.mu, NULL);
    pthread_cond_init(&st.cv, NULL);
    st.stats = stats;
    pp_parts_init(&st.parts, log, start_at, &st);
    rc = pp_parts_subscribe(&st.parts, GROUP, give_up);
    while (!*stop && !rc) {
        /* fill the next batch while the loader thread loads the previous one */
        int bmax = stats->txns < 16 && (BATCH_START << stats->txns) < batch_max
                       ? BATCH_START << stats->txns
                       : batch_max;
        int n = st.parts.n ? batch_fill(&st, bmax, linger_ms) : 0;
        int seal = n > 0 ? batch_seal(st.cur) : 0; /* while the previous one still loads */
        int err = batch_settle(&st, stats), wh_err = err != 0;
        if (!err && seal)
            err = seal;
        if (!err && n < 0 && n != PP_ESHUTDOWN)
            err = n;
        /* nothing in flight now: discovery and rebalances may read and commit positions in
         * the warehouse (a revoke commits the batch filled so far, see give_up) */
        if (!err && n != PP_ESHUTDOWN && (rc = pp_parts_discover(&st.parts, 0)))
            break;
        /* a full batch means more is waiting: load it in the background and fill the next;
         * otherwise commit it now (the latency of a light load stays that of one commit) */
        int full = n >= bmax || batch_bytes(st.cur) >= BATCH_BYTES_MAX;
        if (!err)
            wh_err = (err = batch_commit(&st, stats, full && !*stop)) != 0;
        if (n == PP_ESHUTDOWN) { /* the in-process log closed: keep what was consumed */
            rc = err;
            break;
        }
        if (err == PP_ECONFLICT) { /* not a failure: another consumer got there first */
            PP_INFO("stream", "batch not loaded: %s; going on from the stored positions",
                    pp_wh_errmsg(wh));
        } else if (err) {
            PP_WARN("stream", "batch failed, retrying error=%s failures=%d%s%s%s", pp_err_str(err),
                    failures + 1, wh_err ? " warehouse=\"" : "", wh_err ? pp_wh_errmsg(wh) : "",
                    wh_err ? "\"" : "");
            stats->failing++;
            stats->last_error = err;
        }
        if (err) {
            if ((rc = batch_abort(&st, err == PP_ECONFLICT)))
                break;
            /* a busy warehouse (a batch run writing) is waited out, and positions that moved
             * were read again; other errors are not retried forever */
            if (err != PP_EBUSY && err != PP_ECONFLICT && ++failures >= RETRY_MAX) {
                PP_ERROR("stream", "giving up after %d failed batches error=%s", failures,
                         pp_err_str(err));
                rc = err;
                break;
            }
            stats->retries++;
            if (err != PP_ECONFLICT)
                pp_parts_nap(100, stop);
            continue;
        }
        failures = 0;
        if (st.parts.n == 0)
            pp_parts_nap(PP_STREAM_DISCOVER_MS, stop);
        log_commit(&st, 0);
        progress(stats, &last_us, &last_records);
        if ((flags & PP_STREAM_UNTIL_CAUGHT_UP) && n == 0 && caught_up(&st)) {
            PP_INFO("stream", "caught up with the log: stopping");
            break;
        }
    }
    if (batch_settle(&st, stats)) /* stopped with a batch in flight: it is not committed */
        PP_DEBUG("stream", "last batch rolled back error=%s", pp_wh_errmsg(wh));
    batch_reset(st.cur); /* not committed (an error ended the loop): nor are its positions */
    for (int i = 0; i < st.parts.n; i++)
        st.parts.v[i].touched = 0;
    log_commit(&st, 1);
    pp_parts_free(&st.parts);
    if (st.loader_on) {
        pthread_mutex_lock(&st.mu);
        st.loader_quit = 1;
        pthread_cond_broadcast(&st.cv);
        pthread_mutex_unlock(&st.mu);
        pthread_join(st.loader, NULL);
    }
    pthread_cond_destroy(&st.cv);
    pthread_mutex_destroy(&st.mu);
    pp_row_free(&st.row);
    pp_row_free(&st.lrow);
    batch_free(&st.b[0]);
    batch_free(&st.b[1]);
    return rc;
}
