/* pp_stream.h: the two consumers of the log: stream (clean -> warehouse, exactly once) and
 * lake (raw -> lake files, exactly once). Each runs as consumer group over topics pin/geo/user
 * and every partition, until *stop becomes non-zero. Used by `pinpipe stream|lake|run`.
 * Topics that do not exist yet are picked up once a writer creates them (checked every 100 ms).
 * Both work on a read-only log (another process writes) and on the writer's own handle; an
 * in-process caller sets *stop and joins the consumer thread before pp_log_close().
 * Both log a progress line (pp_diag, INFO) every ~5 s while records flow.
 * On the Kafka log both join their group (pp_log_subscribe): N processes share the partitions;
 * each reads only its assignment and logs "assigned partitions=N [topic.p,...]" on each
 * rebalance. Before a revoke the stream has no open transaction (positions are already in the
 * warehouse) and the lake finishes and commits its open files, so the next owner resumes from
 * the warehouse's positions / the committed offset (truncating past it) exactly once.
 * Not fenced: a member that lost its assignment without knowing (a stalled process past
 * session.timeout.ms) may still write until it notices. */
#ifndef PP_STREAM_H
#define PP_STREAM_H

#include <signal.h>
#include <stdint.h>

#include "pp_lake.h"
#include "pp_kind.h"
#include "pp_log.h"
#include "pp_metrics.h"
#include "pp_wh.h"

#define PP_STREAM_LAT_BUCKETS 2000 /* 100 us each: 0..200 ms, the last one open-ended */

struct pp_stream_stats {
    int64_t records;   /* consumed */
    int64_t rows;      /* upserted */
    int64_t rejected;  /* could not be cleaned (dead letters) */
    int64_t txns;      /* warehouse transactions */
    /* per topic (enum pp_kind): consumed, upserted, dead letters (committed ones only) */
    int64_t topic_records[PP_KIND_COUNT], topic_rows[PP_KIND_COUNT],
        topic_rejected[PP_KIND_COUNT];
    int64_t retries;  /* failed transactions rolled back and retried (run-wide) */
    int64_t failing;  /* failed transactions in a row now (0 = the last one committed) */
    int last_error;   /* PP_E* of the last failed transaction, 0 if none yet */
    struct pp_hist txn_lat; /* warehouse load: first record of a batch -> its commit done */
    /* Ingest-to-visible latency: for each record, wall clock at its warehouse commit minus its
     * ingest timestamp (set at append, before the ack; ms resolution, so a record's figure is
     * at most 1 ms high). Bucket i counts records with latency in [i*100, (i+1)*100) us. */
    int64_t lat_hist[PP_STREAM_LAT_BUCKETS];
};

/* The q-quantile (0 < q < 1) of stats' latency histogram in ms (upper bucket bound), or -1
 * when empty. */
double pp_stream_latency_ms(const struct pp_stream_stats *stats, double q);

/* Consumer group "stream": read every partition of pin, geo, user (on Kafka: those the group
 * assigns to this process) from the position stored
 * in the warehouse, clean (pp_clean_record), upsert, and store the next positions in the same
 * transaction; then commit them to the log's group too (for `pinpipe log offsets`; at most
 * every 100 ms, as each costs an fsync). Records that fail cleaning go to pp_wh_reject.
 * batch_max records per transaction at most; waits at most linger_ms to fill one (0: commit
 * as soon as nothing more is available). A failed transaction is rolled back and retried from
 * the warehouse's positions (PP_EBUSY indefinitely, other errors up to 50 times in a row).
 * A full batch (more is waiting) is committed by a loader thread while the next one is cleaned
 * (at most one in flight; wh is used by one thread at a time, never concurrently); a batch
 * that is not full commits before the next is read, so a light load waits for one commit.
 * stats (may be NULL) is reset at start and updated after each commit by the consumer thread.
 * flags: PP_STREAM_UNTIL_CAUGHT_UP returns (0) once nothing is in flight and every partition
 * this process owns is committed up to the log's high watermark (read at that moment), like
 * `kcat -e` or Spark's Trigger.AvailableNow: a catch-up run.
 * @returns 0 when stopped (or caught up), <0 on a fatal error (logged). */
#define PP_STREAM_UNTIL_CAUGHT_UP 1u
int pp_stream_run(struct pp_log *log, struct pp_wh *wh, int batch_max, int linger_ms,
                  unsigned flags, volatile sig_atomic_t *stop, struct pp_stream_stats *stats);

/* Consumer group "lake": read every partition (on Kafka: the assigned ones, finishing and
 * committing their files before a revoke) from the log's committed "lake" offset, delete
 * lake files at/after it (rerun), write raw records, commit after each file is durable.
 * Calls pp_lake_flush every 100 ms (age rolls also when idle). On stop, finishes (flushes)
 * open files and commits. records_out (may be NULL): records written so far, updated by the
 * consumer thread. Failed lake writes/finishes are retried as pp_lake_run_stats says.
 * @returns 0 when stopped, <0 fatal (open files are left as temps). */
int pp_lake_run(struct pp_log *log, struct pp_lake *lake, volatile sig_atomic_t *stop,
                int64_t *records_out);

/* Counters of pp_lake_run_stats, written by the consumer thread, read by scrapes (aligned
 * 64-bit values: a reader may see one step old, never torn). */
struct pp_lake_stats {
    int64_t records;                    /* written into lake files */
    int64_t topic_records[PP_KIND_COUNT]; /* per topic (enum pp_kind) */
    int64_t bytes;                      /* record bytes written (a line each: value + '\n') */
    int64_t files;                      /* files finished (durable) */
    int64_t write_errors, flush_errors; /* failed writes / finishes (fatal for the run) */
    int64_t commit_errors;              /* offset commits that failed (files get rewritten) */
    int64_t retries;                    /* restarts from the committed offsets after a failure */
    int64_t failing;                    /* failures in a row now (0: files are durable again) */
    int64_t days_closed;                /* days this worker found closed (markers present) */
    int64_t late_records;               /* records of a day already closed (pp_lake_close_day) */
    int running;                        /* 1 while the consumer runs, 0 once it returned */
    struct pp_hist flush_lat;           /* each pp_lake_flush that finished files */
};
/* pp_lake_run with counters: stats (may be NULL) is reset at start. A failed lake write or
 * finish is retried from the committed offsets (as a restart would: exactly once) with backoff,
 * up to 10 times in a row (~26 s), then fatal. */
int pp_lake_run_stats(struct pp_log *log, struct pp_lake *lake, volatile sig_atomic_t *stop,
                      struct pp_lake_stats *stats);

/* For every partition of pin, geo and user with a "lake" commit: publish the files the commit
 * covers that are still pending (pp_lake_publish; S3 only, a writer killed between its commit
 * and the copy). Reads the committed offsets and metadata, joins no group, writes no log.
 * @returns files published, or <0 (the first error; the other partitions are still tried). */
int pp_lake_publish_committed(struct pp_log *log, struct pp_lake *lake);

/* Day closing (docs/ARCHITECTURE.md "Closing a day"). The ingest day date ("YYYY-MM-DD", UTC,
 * the dt= of the lake) is closed when the clock now_ms is past its end plus grace_ms (clock
 * skew between serve nodes, producers still retrying) and, in every partition of pin, geo and
 * user, the lake group has committed every record of the day: it is committed up to the high
 * watermark, or the next uncommitted record is from a later day. Then the commits' pending
 * objects are published (S3) and each topic's marker topic=<t>/dt=<date>/_SUCCESS is written
 * once (pp_lake_day_mark; its body names the committed offsets). Safe from any process while
 * lake workers run: it joins no group and commits nothing. *marked: markers written by this
 * call (the others existed). @returns 1 closed (markers present), 0 not yet (why says which
 * partition or the clock), <0 error (why: what failed). */
int pp_lake_close_day(struct pp_log *log, struct pp_lake *lake, const char *date, int64_t now_ms,
                      int64_t grace_ms, int *marked, char *why, size_t why_size);
/* Default grace: 5 minutes (librdkafka's default message.timeout.ms, how long a producer may
 * retry a record it timestamped, plus skew). */
#define PP_LAKE_CLOSE_GRACE_MS (5 * 60 * 1000LL)

#endif
