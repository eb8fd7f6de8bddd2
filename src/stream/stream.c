/* stream.c: consumer group "stream": log -> clean -> warehouse, one transaction per batch
 * holding the rows and the next offsets (exactly once; the warehouse is the truth). */
#include <inttypes.h>
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
#define LOG_COMMIT_US 100000LL /* the log's group commits cost an fsync: at most this often */

struct stream {
    struct pp_log *log;
    struct pp_wh *wh;
    struct pp_parts parts;
    struct pp_row row;
    int in_txn;
    struct pp_stream_stats batch; /* of the open transaction, added on commit */
    int log_dirty;                /* positions committed in the warehouse, not yet in the log */
    int64_t log_commit_us;        /* last log commit (monotonic) */
    /* ingest timestamps of the open transaction, run-length coded (ts_ms, count) */
    int64_t *lat_ts, *lat_n;
    int lat_len, lat_cap;
    struct pp_stream_stats *stats; /* the caller's */
};

/* Remember a consumed record's ingest time for the latency histogram. */
static int lat_note(struct stream *st, int64_t ts_ms)
{
    if (st->lat_len && st->lat_ts[st->lat_len - 1] == ts_ms) {
        st->lat_n[st->lat_len - 1]++;
        return 0;
    }
    if (st->lat_len == st->lat_cap) {
        int cap = st->lat_cap ? st->lat_cap * 2 : 256;
        int64_t *ts = realloc(st->lat_ts, sizeof(*ts) * (size_t)cap);
        if (!ts)
            return PP_ENOMEM;
        st->lat_ts = ts;
        int64_t *n = realloc(st->lat_n, sizeof(*n) * (size_t)cap);
        if (!n)
            return PP_ENOMEM;
        st->lat_n = n;
        st->lat_cap = cap;
    }
    st->lat_ts[st->lat_len] = ts_ms;
    st->lat_n[st->lat_len++] = 1;
    return 0;
}

/* After a commit: add the transaction's records to the latency histogram. */
static void lat_commit(struct stream *st, struct pp_stream_stats *stats)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    for (int i = 0; i < st->lat_len; i++) {
        int64_t b = (now_us - st->lat_ts[i] * 1000) / 100;
        b = b < 0 ? 0 : b >= PP_STREAM_LAT_BUCKETS ? PP_STREAM_LAT_BUCKETS - 1 : b;
        stats->lat_hist[b] += st->lat_n[i];
    }
    st->lat_len = 0;
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

/* Clean one record into the open transaction: a row, or a dead letter. */
static int consume(struct stream *st, struct pp_part *part, const struct pp_log_rec *rec)
{
    struct pp_verr verr;
    int rc;
    /* The reader has moved past rec: whatever fails below, the abort must rewind this
     * partition to its committed position, or rec would be skipped. */
    part->touched = 1;
    if (!st->in_txn) {
        if ((rc = pp_wh_begin(st->wh)))
            return rc;
        st->in_txn = 1;
    }
    memset(&verr, 0, sizeof(verr));
    rc = pp_clean_record(part->kind, rec->value, rec->vlen, &st->row, &verr);
    if (rc == 0) {
        rc = pp_wh_upsert(st->wh, &st->row);
        st->batch.rows += rc == 0;
    } else if (rc != PP_ENOMEM) {
        /* any failure of this record makes a dead letter: never a poison pill */
        char why[300];
        if (verr.field[0])
            snprintf(why, sizeof(why), "%s: %s", verr.field, verr.msg);
        else
            snprintf(why, sizeof(why), "%s", verr.msg[0] ? verr.msg : pp_err_str(rc));
        rc = pp_wh_reject(st->wh, part->topic, part->partition, rec->offset, why, rec->value,
                          rec->vlen);
        st->batch.rejected += rc == 0;
    }
    if (!rc)
        rc = lat_note(st, rec->ts_ms);
    if (rc)
        return rc;
    st->batch.records++;
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

/* Store the touched partitions' positions and commit; then tell the log's group too. */
static int batch_commit(struct stream *st, struct pp_stream_stats *stats)
{
    int rc = 0;
    if (!st->in_txn)
        return 0;
    for (int i = 0; i < st->parts.n && !rc; i++) {
        struct pp_part *part = &st->parts.v[i];
        if (part->touched)
            rc = pp_wh_offset_set(st->wh, GROUP, part->topic, part->partition, part->pos);
    }
    if (!rc)
        rc = pp_wh_commit(st->wh);
    if (rc)
        return rc;
    st->in_txn = 0;
    for (int i = 0; i < st->parts.n; i++) {
        struct pp_part *part = &st->parts.v[i];
        if (!part->touched)
            continue;
        part->committed = part->pos;
        part->touched = 0;
        part->log_dirty = 1;
        st->log_dirty = 1;
    }
    stats->records += st->batch.records;
    stats->rows += st->batch.rows;
    stats->rejected += st->batch.rejected;
    stats->txns++;
    lat_commit(st, stats);
    memset(&st->batch, 0, sizeof(st->batch));
    return 0;
}

/* Copy the warehouse's positions to the log's "stream" group: informational only (`pinpipe
 * log offsets`), so at most every LOG_COMMIT_US (each costs an fsync), and on exit. */
static void log_commit(struct stream *st, int force)
{
    int64_t now = pp_mono_us();
    if (!st->log_dirty || (!force && now - st->log_commit_us < LOG_COMMIT_US))
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

static int batch_abort(struct stream *st);

/* The group takes partitions away (rebalance or leaving): the positions live in the
 * warehouse transaction, so commit it (between batches none is open), then tell the log. */
static void give_up(void *arg)
{
    struct stream *st = arg;
    if (st->in_txn && batch_commit(st, st->stats) && batch_abort(st))
        PP_WARN("stream", "rewind before revoke failed");
    log_commit(st, 1);
}

/* Undo the open transaction: roll back and rewind the touched readers to the committed
 * positions, so the same records are consumed again. @returns 0 or <0 fatal. */
static int batch_abort(struct stream *st)
{
    if (st->in_txn)
        pp_wh_rollback(st->wh);
    st->in_txn = 0;
    st->lat_len = 0;
    memset(&st->batch, 0, sizeof(st->batch));
    for (int i = 0; i < st->parts.n; i++) {
        struct pp_part *part = &st->parts.v[i];
        if (part->touched) {
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
        for (int i = 0; i < ps->n && n < batch_max; i++) {
            int got = pull(st, &ps->v[i], batch_max - n, 0);
            if (got < 0)
                return got;
            round += got;
            n += got;
        }
        if (n >= batch_max)
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
                  volatile sig_atomic_t *stop, struct pp_stream_stats *stats)
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
    st.stats = stats;
    pp_parts_init(&st.parts, log, start_at, &st);
    rc = pp_parts_subscribe(&st.parts, GROUP, give_up);
    while (!*stop && !rc) {
        if ((rc = pp_parts_discover(&st.parts, 0)))
            break;
        if (st.parts.n == 0) {
            pp_parts_nap(PP_STREAM_DISCOVER_MS, stop);
            continue;
        }
        int n = batch_fill(&st, batch_max, linger_ms);
        if (n == PP_ESHUTDOWN) { /* the in-process log closed: keep what was consumed */
            rc = batch_commit(&st, stats);
            break;
        }
        if (n >= 0)
            n = batch_commit(&st, stats);
        if (n < 0) {
            PP_WARN("stream", "batch failed, retrying error=%s failures=%d", pp_err_str(n),
                    failures + 1);
            if ((rc = batch_abort(&st)))
                break;
            /* a busy warehouse (a batch run writing) is waited out, other errors are not */
            if (n != PP_EBUSY && ++failures >= RETRY_MAX) {
                PP_ERROR("stream", "giving up after %d failed batches error=%s", failures,
                         pp_err_str(n));
                rc = n;
                break;
            }
            pp_parts_nap(100, stop);
            continue;
        }
        failures = 0;
        log_commit(&st, 0);
        progress(stats, &last_us, &last_records);
    }
    if (st.in_txn)
        batch_abort(&st);
    log_commit(&st, 1);
    pp_parts_free(&st.parts);
    pp_row_free(&st.row);
    free(st.lat_ts);
    free(st.lat_n);
    return rc;
}
