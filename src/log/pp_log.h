/* pp_log.h: the durable, partitioned, replayable log (embedded backend: files under a dir).
 *
 * Layout under conf.dir: LOCK (writer flock), topics/<topic>/<partition>/<base:020>.log
 * segment files, <partition>/hwm (shared-mmap high watermark), groups/<group>/<topic>.<p>
 * committed offsets. One writer process at a time (flock); any number of reader processes.
 * Records carry offset, ingest timestamp (ms), key and value, each frame CRC32C-checked.
 * The same calls run on Apache Kafka (conf.backend PP_LOG_KAFKA, kafka*.c, librdkafka): see
 * "Kafka backend" below; callers do not change.
 *
 * On-disk format (embedded backend, all integers little-endian):
 *   <dir>/LOCK                        flock'ed by the writer; holds its pid as text
 *   <dir>/topics/<topic>/meta         "partitions <N>\n" (fixed at creation; written atomically)
 *   <dir>/topics/<topic>/<p>/hwm      one page, mmap'ed MAP_SHARED by writer and readers:
 *                                     u32 magic "PPHW", u32 version 1, i64 high watermark,
 *                                     i64 low watermark, u32 change counter (futex word),
 *                                     u32 sleeping readers
 *   <dir>/topics/<topic>/<p>/<base:020>.log   segment: frames back to back, named by the offset
 *                                     of its first record; a new one starts when the next frame
 *                                     would pass segment_bytes (the active one is never deleted)
 *   <dir>/groups/<group>/<topic>.<p>  committed next offset as decimal text + "\n", then its
 *                                     commit metadata + "\n" when it has some
 *   <dir>/groups/<group>+member.lock  flock'ed by the group's one member (pp_log_group_lock)
 * Frame (PP_LOG_FRAME_HEADER = 28 bytes + key + value):
 *   u32 crc     CRC32C (Castagnoli) of every byte after this field up to the end of the value
 *   u32 len     bytes after this field: 20 + keylen + vlen
 *   i64 offset  the record's offset (contiguous within a partition)
 *   i64 ts_ms   ingest timestamp, ms since the epoch
 *   u32 keylen  then keylen bytes of key, then len - 20 - keylen bytes of value
 * Recovery (writer open) keeps the longest prefix of the last segment whose frames have a
 * sane len, a matching CRC and contiguous offsets, and cuts the rest. The in-memory sparse
 * index holds one (offset, position) pair per ~4 KiB of segment: the writer builds it for the
 * active segment (recovery scan, then appends); older segments are scanned on the first seek
 * into them. Durability: fsync=always publishes the hwm after the group fsync (readers only
 * see durable records); interval/never publish it right after the write.
 */
/* Kafka backend (conf.backend = PP_LOG_KAFKA; conf.dir, fsync, segment and retention settings
 * are not used; the brokers apply their own retention):
 *   - open creates an idempotent producer with acks=all and linger.ms=0.2, then every -X
 *     property in order (the user's word wins); values of keys containing password, secret,
 *     sasl or key never appear in errstr. A read-only log makes a plain client instead.
 *     Then open waits for first contact (a metadata answer from any broker) for at most
 *     conf.connect_timeout_ms; it fails sooner, 1 s after librdkafka reports every broker
 *     down (ALL_BROKERS_DOWN: connection refused), or at a name that does not resolve, an
 *     authentication or TLS failure. librdkafka's log lines are debug-level until then;
 *     errstr is one line: "kafka: no broker reachable at <brokers>...".
 *   - append/append_batch produce with the partition chosen as documented (murmur2 of the key,
 *     as Kafka's Java client) and timestamp = ts_ms; *offset / entry offsets are -1 (Kafka
 *     assigns offsets on the broker: they are in the delivery report, not known at return).
 *     A full local queue (queue.buffering.max.messages/kbytes) is PP_EFULL at once.
 *   - tickets: one per append call; a ticket settles when the delivery reports of all its
 *     records arrived (after librdkafka's own retries). Tickets settle independently (not in
 *     order): pp_log_durable(t) is t's own outcome. A failed ticket gives its waiters and
 *     callback PP_EAGAIN (retriable broker error, e.g. timed out, not enough replicas),
 *     PP_ETOOBIG (message too large) or PP_EIO (anything else). Callbacks run on the log's
 *     delivery-report poll thread; one callback per ticket (a second one gets PP_EBUSY).
 *     Outcomes are kept for at least 4096 tickets after settling.
 *   - partitions(create=1) creates a missing topic through the Admin API (CreateTopics,
 *     conf.partitions, replication min(3, brokers)); topics never auto-create otherwise.
 *   - readers fetch one partition each (librdkafka's per-partition fetchers); records stay
 *     valid until the next read. commit/committed are Kafka committed offsets of the group
 *     (OffsetCommit/OffsetFetch, synchronous; the group is not joined, unless this process is a
 *     member through pp_log_subscribe: then they go through the member). groups lists the
 *     cluster's consumer groups (plus "lake"/"stream" where they have commits, and those used
 *     by this process, for clusters that cannot list them). */
#ifndef PP_LOG_H
#define PP_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "pp_io.h"
#include "pp_metrics.h"

enum pp_fsync { PP_FSYNC_ALWAYS, PP_FSYNC_INTERVAL, PP_FSYNC_NEVER };

/* Which implementation backs the log (issue 3: Apache Kafka through librdkafka). */
enum pp_log_backend { PP_LOG_EMBEDDED, PP_LOG_KAFKA };

struct pp_log_conf {
    const char *dir;          /* data directory of the log */
    int readonly;             /* 1: reader process (no lock, no recovery, no appends) */
    int partitions;           /* partitions of topics created by this process (default 2) */
    enum pp_fsync fsync;      /* when appended records count as durable (acked) */
    int fsync_interval_ms;    /* for PP_FSYNC_INTERVAL */
    uint64_t segment_bytes;   /* roll segments past this size (default 64 MiB) */
    uint64_t retention_bytes; /* per partition, 0 = unlimited; whole segments are deleted */
    int64_t retention_ms;     /* by segment age (last record), 0 = unlimited */
    uint64_t max_pending_bytes; /* appended but not yet durable; past it appends get PP_EFULL */
    const struct pp_io *io;   /* file I/O vtable; NULL = real POSIX calls */
    enum pp_log_backend backend;  /* PP_LOG_EMBEDDED (default): files under dir */
    const char *brokers;          /* kafka: bootstrap.servers ("host:port,...") */
    const char *const *kafka_props; /* kafka: librdkafka properties "name=value" (-X), as given */
    int nkafka_props;
    /* kafka: first contact at open -- a broker must answer within this many ms, else
     * pp_log_open fails with one line naming the brokers (0 = PP_LOG_CONNECT_TIMEOUT_MS).
     * Later outages are librdkafka's to retry, as before. */
    int connect_timeout_ms;
};

/* Default bound on the first contact with Kafka at open (ms); `--connect-timeout`. */
#define PP_LOG_CONNECT_TIMEOUT_MS 10000

struct pp_log;

#define PP_LOG_FRAME_HEADER 28
/* Largest key + value of one record (bytes); bigger appends get PP_ETOOBIG. */
#define PP_LOG_MAX_RECORD (16u * 1024 * 1024)

/* Fill conf with defaults (dir NULL). */
void pp_log_conf_defaults(struct pp_log_conf *conf);

/* Open (creating if needed) the log. A writer takes the LOCK and recovers every partition:
 * the torn or corrupt tail after the last valid frame is cut (and counted in the log).
 * @returns owned: release with pp_log_close(). NULL on error with errstr filled
 *          (PP_EBUSY text when another writer holds the lock). */
struct pp_log *pp_log_open(const struct pp_log_conf *conf, char *errstr, size_t errstr_size);
/* Flush, fsync and release everything; wakes any waiters with PP_ESHUTDOWN. log may be NULL.
 * Calls in flight in other threads (append, wait, read) return PP_ESHUTDOWN and close waits
 * for them; make no new calls and close the readers (pp_log_reader_close) first. */
void pp_log_close(struct pp_log *log);

/* Topics known to the log (created ones, plus on-disk ones for readers). @thread any.
 * @returns number of topics written into names (borrowed, valid until close). */
int pp_log_topics(struct pp_log *log, const char **names, int max);
/* Partition count of topic, creating the topic (writer only) when create is set.
 * @returns >0, or PP_ENOENT. */
int pp_log_partitions(struct pp_log *log, const char *topic, int create);

/* Append one record. partition < 0 picks hash(key) % partitions (key NULL: round robin);
 * the hash is Kafka's murmur2, so keys map to the same partition numbers as on Kafka.
 * A missing topic is created with conf.partitions partitions (PP_EINVAL for a bad name).
 * ts_ms is the ingest timestamp (0 = now). @thread any (internally serialised per partition).
 * @param offset out: the record's offset. @param ticket out: pass to pp_log_durable()/on_durable.
 * All or nothing: a failed or short write is cut back and the offset is not used.
 * @returns 0, PP_EFULL (back-pressure: answer 503), PP_ESHUTDOWN, PP_EIO, PP_ETOOBIG,
 *          PP_ENOENT (no such partition), PP_EINVAL (read-only log or bad topic name). */
int pp_log_append(struct pp_log *log, const char *topic, int partition, const void *key,
                  size_t keylen, const void *value, size_t vlen, int64_t ts_ms, int *partition_out,
                  int64_t *offset, uint64_t *ticket);

/* One record of pp_log_append_batch(). */
struct pp_log_entry {
    int partition;     /* in: < 0 = by key (as pp_log_append); out: the partition used */
    const void *key;   /* borrowed for the call */
    size_t keylen;
    const void *value; /* borrowed for the call */
    size_t vlen;
    int64_t offset;    /* out */
    int rc;            /* out: 0 or this record's error (codes as pp_log_append) */
};

/* Append n records of one topic, the same as n pp_log_append() calls but with one write per
 * partition per call (frames of a partition are encoded back to back), which is what makes
 * 500-record REST-proxy requests cheap. Per-record all or nothing: a failed write is cut back
 * and every record of it gets PP_EIO; the others keep their offsets. Records of one partition
 * get consecutive offsets in array order. @thread any.
 * @param ticket out: covers every appended record (0 if none).
 * @returns the number of records appended (each entry's rc says which). */
int pp_log_append_batch(struct pp_log *log, const char *topic, struct pp_log_entry *ents, int n,
                        int64_t ts_ms, uint64_t *ticket);

/* Is everything up to ticket durable under the fsync policy? (always true for NEVER) */
int pp_log_durable(struct pp_log *log, uint64_t ticket);
/* Block until ticket is durable (timeout_ms < 0: no limit).
 * @returns 0, PP_ETIMEDOUT, PP_EIO (fsync failed), PP_ESHUTDOWN. */
int pp_log_wait_durable(struct pp_log *log, uint64_t ticket, int timeout_ms);
/* Register cb(arg, rc) to run once ticket is durable (rc 0) or failed (rc < 0); from the
 * log's sync thread. @returns 1 if already durable (cb not called), 0 if registered, <0 error. */
int pp_log_on_durable(struct pp_log *log, uint64_t ticket, void (*cb)(void *arg, int rc),
                      void *arg);

/* Offsets of the records of the append call that returned ticket, once it settled: the Kafka
 * backend learns them from the delivery reports (its appends return offset -1). offsets[i] is
 * record i of the call (entry order for pp_log_append_batch; -1 for a record not stored).
 * @returns records filled (<= n); 0 for the embedded backend (offsets were exact at append);
 *          PP_EAGAIN while the ticket is pending; PP_ENOENT for a ticket settled over 4096
 *          tickets ago. @thread any. */
int pp_log_ticket_offsets(struct pp_log *log, uint64_t ticket, int64_t *offsets, int n);
/* The same, plus each record's outcome: rcs[i] 0 (stored at offsets[i]) or its delivery
 * failure (PP_EAGAIN retriable, PP_EIO, PP_ETOOBIG...). rcs may be NULL. Lets a batch whose
 * ticket failed answer per record. @returns as pp_log_ticket_offsets. @thread any. */
int pp_log_ticket_records(struct pp_log *log, uint64_t ticket, int64_t *offsets, int *rcs, int n);
/* The same from record `first` of the call on: offsets[i] and rcs[i] are record first + i, so
 * a caller settles a batch of any size in fixed chunks without allocating. @returns records
 * filled (<= n; 0 when first is past the call's records, and always 0 for the embedded
 * backend), PP_EAGAIN, PP_ENOENT as pp_log_ticket_offsets; PP_EINVAL for first < 0.
 * @thread any. */
int pp_log_ticket_range(struct pp_log *log, uint64_t ticket, int first, int64_t *offsets, int *rcs,
                        int n);

/* Offsets of a partition: first retained and next to be written (the high watermark:
 * only offsets below it are visible to readers). @returns 0 or PP_ENOENT. */
int pp_log_watermarks(struct pp_log *log, const char *topic, int partition, int64_t *low,
                      int64_t *high);

struct pp_log_rec {
    int64_t offset;
    int64_t ts_ms;      /* ingest timestamp */
    const char *key;    /* borrowed until the next read on this reader */
    size_t keylen;
    const char *value;  /* borrowed until the next read on this reader */
    size_t vlen;
};

struct pp_log_reader;
/* Reader of one partition from offset (clamped up to the low watermark).
 * @returns owned: release with pp_log_reader_close(). NULL on error (errstr filled). */
struct pp_log_reader *pp_log_reader_open(struct pp_log *log, const char *topic, int partition,
                                         int64_t offset, char *errstr, size_t errstr_size);
void pp_log_reader_close(struct pp_log_reader *rd);
/* Read up to max records below the high watermark, waiting up to timeout_ms for the first
 * (new records are seen within ~1 ms, also when written by another process).
 * @returns number read (0 on timeout), or PP_ECORRUPT/PP_EIO/PP_ESHUTDOWN. */
int pp_log_read(struct pp_log_reader *rd, struct pp_log_rec *recs, int max, int timeout_ms);
/* Next offset this reader will return. */
int64_t pp_log_reader_position(const struct pp_log_reader *rd);

/* Consumer group committed offsets (the next offset to consume), stored durably
 * (write temp + fsync + rename). Works in reader processes too. */
int pp_log_commit(struct pp_log *log, const char *group, const char *topic, int partition,
                  int64_t next_offset);
/* @returns 0 with *next_offset, or PP_ENOENT when the group has no commit there. */
int pp_log_committed(struct pp_log *log, const char *group, const char *topic, int partition,
                     int64_t *next_offset);
/* Commit metadata: a short string stored with a committed offset, in the same atomic write
 * (Kafka: the OffsetCommit request's metadata, kept by the group coordinator; embedded: the
 * group file's second line). Printable ASCII without spaces, at most PP_LOG_META_MAX bytes.
 * The lake keeps the name of the objects a commit publishes there (pp_lake.h). */
#define PP_LOG_META_MAX 128
/* As pp_log_commit, with meta (NULL or "": none) stored along. @returns as pp_log_commit,
 * PP_EINVAL for a bad meta. */
int pp_log_commit_meta(struct pp_log *log, const char *group, const char *topic, int partition,
                       int64_t next_offset, const char *meta);
/* As pp_log_committed, also copying the commit's metadata ("" when none) into meta
 * (meta_size >= PP_LOG_META_MAX + 1). */
int pp_log_committed_meta(struct pp_log *log, const char *group, const char *topic,
                          int partition, int64_t *next_offset, char *meta, size_t meta_size);
/* One partition as a consumer group sees it (pp_log_lag_each): the lag is the records between
 * the group's committed offset and the high watermark -- the one definition that metrics,
 * `pinpipe log offsets`, the dashboard and `run`'s catch-up wait share. */
struct pp_log_lag {
    const char *topic;
    int partition;
    int err;           /* pp_log_watermarks failed (PP_ENOENT...): low, high and lag are 0 */
    int64_t low, high; /* watermarks */
    int64_t committed; /* the group's next offset to consume, -1 when it has no commit here */
    int64_t lag;       /* high - committed (0 when not behind, or without a commit) */
};
/* Call cb(arg, &l) for every partition of each of the nt topics, in order, with group's
 * position (group NULL: watermarks only, committed -1). A non-zero cb return stops the walk.
 * @returns 0, or cb's non-zero return. */
int pp_log_lag_each(struct pp_log *log, const char *group, const char *const *topics, int nt,
                    int (*cb)(void *arg, const struct pp_log_lag *l), void *arg);
/* Embedded log: make this process the group's only member until close(*fd) (or death): an
 * exclusive flock(2) on <dir>/groups/<group>+member.lock (pp_lock_file), waiting up to wait_ms.
 * Two members would both consume every partition; where nothing else fences them (an S3
 * lake) the second must not start. Kafka: the group protocol shares partitions, *fd = -1.
 * @returns 0, PP_EBUSY (why names the holder), PP_EIO, PP_EINVAL. */
int pp_log_group_lock(struct pp_log *log, const char *group, int wait_ms, int *fd, char *why,
                      size_t why_size);
/* Consumer groups that have commits. @returns count written into names (owned by caller: free
 * each with free()). */
int pp_log_groups(struct pp_log *log, char **names, int max);

/* Consumer-group membership: the partitions of topics are shared among the members of group
 * (processes on any machines); each partition has one member at a time. The member opens its
 * own readers (pp_log_reader_open) for what it is assigned, at its own positions.
 *   - Kafka: a consumer with group.id = group subscribes to topics (topics that do not exist yet
 *     are picked up within ~1 s); rebalances are eager: on_revoke gets every partition the
 *     member had, and the group moves on only after it returns, so the member must make its
 *     progress durable (commit) and stop reading them there; then on_assign gets the new set.
 *     pp_log_commit/pp_log_committed of group go through the member (current generation), as
 *     Kafka requires of an active group. A member that stops polling for max.poll.interval.ms,
 *     or is killed, loses its partitions after session.timeout.ms (default 6 s here; -X wins).
 *   - Embedded: the only member: every partition of each topic, in one on_assign call once
 *     the topic exists.
 * Callbacks run inside pp_log_member_poll/pp_log_unsubscribe, on the calling thread. */
struct pp_log_tp {
    const char *topic; /* borrowed for the callback */
    int partition;
};
struct pp_log_member_cbs {
    /* Take partitions tps[0..n): @returns 0, or <0 (fatal: poll returns it). */
    int (*on_assign)(void *arg, const struct pp_log_tp *tps, int n);
    /* Give up tps[0..n) (commit first); no reads of them afterwards. lost = 1: the group
     * already moved on without this member (it stopped polling past max.poll.interval.ms or
     * its session timed out): another member may own them now, so make nothing durable --
     * drop what is open (Kafka: rd_kafka_assignment_lost()). */
    void (*on_revoke)(void *arg, const struct pp_log_tp *tps, int n, int lost);
    void *arg;
};
struct pp_log_member;
/* Join group for topics[0..ntopics) (names are copied). @returns owned: release with
 * pp_log_unsubscribe(). NULL on error (errstr filled). */
struct pp_log_member *pp_log_subscribe(struct pp_log *log, const char *group,
                                       const char *const *topics, int ntopics,
                                       const struct pp_log_member_cbs *cbs, char *errstr,
                                       size_t errstr_size);
/* Serve membership events (rebalance callbacks), waiting up to timeout_ms for one; call often
 * (at least every few seconds). @returns 0, or the first <0 of an on_assign callback. */
int pp_log_member_poll(struct pp_log_member *m, int timeout_ms);
/* Leave the group: on_revoke for what m holds, then free m. m may be NULL. */
void pp_log_unsubscribe(struct pp_log_member *m);
/* Which backend serves log. */
enum pp_log_backend pp_log_backend(const struct pp_log *log);

/* Counters since open, for tests and metrics. */
struct pp_log_stats {
    uint64_t appends;        /* records appended */
    uint64_t append_bytes;   /* frame bytes appended */
    uint64_t fsyncs;         /* fsync calls on segment files */
    uint64_t sync_rounds;    /* group commits done by the sync thread */
    uint64_t efull;          /* appends refused with PP_EFULL */
    uint64_t pending_bytes;  /* appended but not yet durable, now */
    uint64_t recovered_cut;  /* bytes cut from torn tails at open */
    uint64_t segments_deleted; /* by retention */
    /* Latencies. append_lat: embedded, one append call writing its record(s) into the
     * segment (lock wait included); kafka, a record's produce -> delivery report (the broker
     * acks). fsync_lat: embedded, each fsync of a segment file (kafka: none). */
    struct pp_hist append_lat, fsync_lat;
};
/* Fill st with the counters of log. @thread any. */
void pp_log_stats(struct pp_log *log, struct pp_log_stats *st);

/* Apply retention now (writer only; also run every second by the sync thread): delete the
 * oldest whole segments (never the active one) past retention_bytes / retention_ms and raise
 * the low watermark; readers positioned below it skip forward.
 * @returns number of segments deleted, or PP_EINVAL for a reader. */
int pp_log_retention(struct pp_log *log);

#endif
