/* pp_lake.h: the data lake of raw records: a local folder, or S3 (a root of s3://...).
 *
 * Layout (Hive-style, as Kafka Connect's S3 sink writes it; PRODUCT.md "Stages"):
 *   <root>/topic=<t>/dt=<YYYY-MM-DD of ingest time>/<t>+<partition>+<startoffset:010>.jsonl
 * One raw JSON record per line (newlines inside a record's whitespace become spaces).
 * Exactly once: a file is written as a hidden temp name, fsynced, renamed to its deterministic
 * final name, its directory fsynced; only then may the consumer commit past its last offset.
 * A rerun from the committed offset first deletes finished files that start at or after it
 * (pp_lake_truncate_from / pp_lake_resume), then rewrites them. S3 below.
 * Open files are "<dir>/.<final name>.tmp"; each (topic, partition) has at most one, written
 * through a 64 KiB buffer (memory stays bounded). @thread one thread at a time per pp_lake.
 *
 * S3 (root "s3://bucket/prefix", any S3-compatible endpoint; src/lake/s3.c): the same layout
 * as keys under prefix. An object is finished under a pending key of its writer's own
 * (<prefix>_pending/..., hidden from readers): one PUT, or for objects past s3_part_bytes a
 * multipart upload (CreateMultipartUpload / UploadPart / CompleteMultipartUpload), so at most
 * one part is buffered per open object. The committable offset is reported only after that
 * succeeded, with commit metadata naming the pending objects; once the callback committed
 * both, the lake publishes them to their final keys (CopyObject, then the pending key is
 * deleted). The commit is the fence against a stalled writer (lake_s3.h: pending objects);
 * pp_lake_resume publishes what a crash between commit and publication left pending.
 * Requests are signed with AWS SigV4 by the lake itself (s3_sigv4.c, libcrypto's HMAC-SHA256),
 * not by libcurl, whose signer before 8.3.0 signs a suppressed Expect it never sends (curl
 * issue #11664): signed are exactly the headers sent (Host with its port as sent,
 * x-amz-date, x-amz-content-sha256 = the body's SHA-256, x-amz-security-token from
 * AWS_SESSION_TOKEN, x-amz-copy-source, Content-Type, If-Match), never Expect; keys are
 * URI-encoded once per path segment. Every request is retried
 * INSIDE the lake, bounded (8 tries, backoff 100 ms doubling to 5 s, full jitter) on
 * connection errors, timeouts, 5xx, 503 SlowDown and 429; other 4xx (bucket missing, access
 * denied) fail at once. A failure returned by pp_lake_* is therefore final for that call
 * (PP_EIO, text in pp_lake_errmsg()): the caller reruns from its committed offset.
 */
#ifndef PP_LAKE_H
#define PP_LAKE_H

#include <stddef.h>
#include <stdint.h>

struct pp_lake_conf {
    const char *root;    /* lake root folder (created if missing) */
    uint64_t roll_bytes; /* close a file past this size (default 64 MiB) */
    int64_t roll_ms;     /* close a file this long after its first record, also when idle
                            (default 60 s) */
    /* S3 (a root of "s3://bucket/prefix"): endpoint URL (NULL = AWS_ENDPOINT_URL_S3,
     * AWS_ENDPOINT_URL, else AWS), region (NULL = AWS_REGION / AWS_DEFAULT_REGION, else
     * us-east-1), path-style addressing (1 for most self-hosted S3 servers; an endpoint
     * whose host is an IP literal or localhost gets it anyway, as with botocore:
     * pp_lake_s3_path_style_auto; else virtual-hosted "bucket.host"). Credentials come only
     * from the standard AWS environment variables (AWS_SESSION_TOKEN included) / shared
     * credentials file. */
    const char *s3_endpoint;
    const char *s3_region;
    int s3_path_style;
    uint64_t s3_part_bytes; /* multipart part size = buffer per open object (default 8 MiB,
                               at least S3's minimum of 5 MiB) */
    int64_t close_grace_ms; /* a day closes no earlier than its end plus this (-1: the
                               default, PP_LAKE_CLOSE_GRACE_MS in pp_stream.h) */
    /* S3: each request's connection must be made within this (ms), and open's first request
     * (the bucket check), its retries included, must be answered within it
     * (0 = PP_LAKE_CONNECT_TIMEOUT_MS) */
    int connect_timeout_ms;
};

/* Default bound on connecting to S3, and on the first request at open (ms). */
#define PP_LAKE_CONNECT_TIMEOUT_MS 10000

struct pp_lake;

/* Longest commit metadata the lake asks to store with an offset (fits PP_LOG_META_MAX). */
#define PP_LAKE_META_MAX 64
/* Commit callback of pp_lake_flush: store next_offset (the next offset to consume) of
 * (topic, partition) durably, with meta (NULL: none; else a short printable string) in the
 * same atomic write (pp_log_commit_meta). @returns 0 when committed; anything else leaves the
 * files unpublished (S3) and reports them again at the next flush. */
typedef int (*pp_lake_commit_cb)(void *arg, const char *topic, int partition,
                                 int64_t next_offset, const char *meta);

/* Defaults for every field (S3 ones NULL / 0). */
void pp_lake_conf_defaults(struct pp_lake_conf *conf);
/* @returns owned: release with pp_lake_close() (which does NOT finish open files: the
 * temps are left and ignored; call pp_lake_flush(..., force=1) first to finish them). */
struct pp_lake *pp_lake_open(const struct pp_lake_conf *conf, char *errstr, size_t errstr_size);
void pp_lake_close(struct pp_lake *lake);

/* conf->close_grace_ms as opened (-1: the caller's default). */
int64_t pp_lake_close_grace(const struct pp_lake *lake);

/* @returns borrowed (valid until the next call on lake): the last S3 request error, e.g.
 * "s3 PUT s3://b/k: HTTP 403 AccessDenied: ...", or for local lakes the last ownership error
 * (pp_lake_own), or "". Never holds credentials. */
const char *pp_lake_errmsg(const struct pp_lake *lake);

/* The final relative path of a file: "topic=pin/dt=2020-08-28/pin+0+0000000042.jsonl"
 * (dt is the UTC date of ts_ms). @returns 0, PP_EINVAL (topic empty, with '/' or a leading
 * '.', or negative numbers), PP_ETOOBIG (size too small). */
int pp_lake_path(const char *topic, int partition, int64_t start_offset, int64_t ts_ms, char *out,
                 size_t size);

/* Append one record of (topic, partition) at offset with ingest ts_ms. Offsets per partition
 * must increase. A record whose day differs from the open file's day rolls the file first.
 * Size rolls happen here too (the file is finished once it reaches roll_bytes).
 * @returns 0, PP_EIO, PP_EINVAL (offset not increasing). After an I/O failure the partition
 * keeps failing until pp_lake_truncate_from() (its open file was dropped: rerun from the
 * committed offset). */
int pp_lake_write(struct pp_lake *lake, const char *topic, int partition, int64_t offset,
                  int64_t ts_ms, const char *value, size_t vlen);

/* Finish files that are due (size/age at now_ms, or every open file when force) and report, for
 * each partition whose files were finished, the next offset that is now safe to commit:
 * cb(arg, topic, partition, next_offset, meta) (also for files finished by size/day rolls
 * inside pp_lake_write since the last flush, for files whose commit failed before, and, on
 * S3, once after a pp_lake_resume that found garbage). S3: when cb returns 0 the files are
 * published (a failure there is the partition's error: rerun from the committed offset); cb
 * NULL publishes at once. Age counts from the wall clock when the file was opened.
 * @returns number of files finished or <0 error (the first failed partition's; cb still ran
 * for the others). */
int pp_lake_flush(struct pp_lake *lake, int64_t now_ms, int force, pp_lake_commit_cb cb,
                  void *arg);

/* Delete finished files of (topic, partition) whose start offset >= offset (crash recovery:
 * they hold records past the committed offset and will be rewritten), and its temps; drops
 * its open file and clears its error state. @returns files deleted or <0 error. */
int pp_lake_truncate_from(struct pp_lake *lake, const char *topic, int partition, int64_t offset);

/* Start (or restart) writing (topic, partition) at its committed offset, whose commit
 * metadata is meta (pp_log_committed_meta; NULL or "": none), as a consumer does on every
 * assignment and after a failure. Local lakes: pp_lake_truncate_from(offset). S3: publishes
 * the objects the commit covers that a crash or stall left pending, and notes the rest (other
 * writers' pending objects, finished objects at/after offset) for deletion after this
 * writer's next successful commit, which the next pp_lake_flush makes even with no new files
 * -- never before it, so a writer that stalled and resumes late cannot delete its
 * successor's objects. @returns files deleted (local) / noted for deletion (S3), or <0. */
int pp_lake_resume(struct pp_lake *lake, const char *topic, int partition, int64_t offset,
                   const char *meta);

/* Right after pp_lake_resume, before any pp_lake_write of (topic, partition): if resume
 * found garbage (S3), commit the offset now through cb (with the new token as metadata) and
 * delete the garbage, while this writer has no files of its own there; a stale finished
 * object is deleted only while it still has the ETag resume saw (If-Match). Local lakes, or
 * nothing found: 0. @returns 0, PP_EBUSY (cb did not commit: the stale finished objects are
 * then left in place, reported by the caller; pending ones go after the next commit), or an
 * S3 error. */
int pp_lake_fence(struct pp_lake *lake, const char *topic, int partition, pp_lake_commit_cb cb,
                  void *arg);

/* Publish the files of (topic, partition) that its commit (offset, meta) covers but that are
 * still pending (S3: a writer killed between its commit and the copy), without writing or
 * owning anything: safe from any process while writers run (`pinpipe lake --publish`, the
 * DAG's lake_caught_up). Local lakes: nothing to do (0). @returns files published or <0. */
int pp_lake_publish(struct pp_lake *lake, const char *topic, int partition, int64_t offset,
                    const char *meta);

/* Drop the open file of (topic, partition) unfinished (its temp deleted; S3: the upload
 * aborted), clear its state and give up its ownership (pp_lake_own); finished files stay.
 * For partitions lost or handed over (after pp_lake_flush) to another member. */
void pp_lake_drop(struct pp_lake *lake, const char *topic, int partition);

/* Ownership of (topic, partition) -- the fence between two writers that both believe they
 * own a partition (a consumer-group member stalled past its session, whose partitions the
 * group has given to another, can wake up between its last membership check and a finish).
 * Local lakes: an exclusive flock(2) on <root>/.owners/<topic>+<partition>.lock (holding
 * "pid=<pid> host=<host>" for diagnostics; the kernel drops it when the process dies). Once
 * pp_lake_own was called on a pp_lake, writes, finishes and pp_lake_truncate_from of a
 * partition it does not own fail with PP_EBUSY (an open file is then dropped, not finished),
 * so a next owner, which takes the lock before it truncates and rewrites from the committed
 * offset, never races a stale finish. The lock lasts until pp_lake_drop or pp_lake_close.
 * The lake folder must be one whose flock(2) is shared by every writer (one host, or a
 * network filesystem with working locks); never delete .owners while writers run.
 * S3 has no lock: pp_lake_own returns 0 and does nothing. There the fence is the commit: a
 * stalled member finishes objects only under its own pending keys and publishes them only
 * after its commit succeeded, which the group refuses once it moved on (see pp_lake_flush,
 * pp_lake_resume and lake_s3.h).
 * Waits up to wait_ms for a holder to let go (polling every 20 ms). Idempotent.
 * @returns 0, PP_EBUSY (still held: pp_lake_errmsg() names the holder), PP_EIO, PP_EINVAL. */
int pp_lake_own(struct pp_lake *lake, const char *topic, int partition, int wait_ms);

/* Call cb(arg, value, vlen) for every record in finished files of topic on day date
 * ("YYYY-MM-DD"), files in name order, lines in file order; value is borrowed for the call
 * (no trailing newline). A negative cb return stops the read and is returned.
 * @returns records read, or <0 error (PP_ENOENT if no such day or no record file in it, PP_EINVAL bad date/topic). */
long pp_lake_read_day(struct pp_lake *lake, const char *topic, const char *date,
                      int (*cb)(void *arg, const char *value, size_t vlen), void *arg);

/* How pp_lake_read_day_files hands over a day: file(arg, partition, start_offset) before each
 * file (NULL: not called; returns 0 to read the file, 1 to skip it, <0 to stop), then
 * record(arg, value, vlen) per line as pp_lake_read_day's cb. */
struct pp_lake_reader {
    int (*record)(void *arg, const char *value, size_t vlen);
    int (*file)(void *arg, int partition, int64_t start_offset);
    void *arg;
};
/* pp_lake_read_day, telling which file each record comes from. @returns as pp_lake_read_day
 * (records of skipped files not counted). */
long pp_lake_read_day_files(struct pp_lake *lake, const char *topic, const char *date,
                            const struct pp_lake_reader *rd);

/* The day's completion marker, the name Hadoop's output committers, Spark, Hive and Airflow
 * sensors look for: <root>/topic=<t>/dt=<date>/_SUCCESS. pinpipe writes it once the day is
 * closed (src/stream/lake_close.c): every record of that ingest day is in finished, committed,
 * published files. Its body is one JSON object (as Hadoop's S3A committers also write one):
 *   {"topic":"pin","date":"2020-08-28","closed_ms":<epoch ms>,"offsets":[<per partition>]}
 * offsets[p]: the lake group's committed offset of partition p when the day closed; the day's
 * files starting at or past it hold records that arrived after the close ("late"). */
#define PP_LAKE_MARKER "_SUCCESS"
#define PP_LAKE_MARKER_MAX 65536

/* Write the marker of (topic, date) with body, once: an existing marker is never replaced
 * (local: temp + fsync + link(2) + directory fsync; S3: HEAD, then PUT with
 * If-None-Match: *). @returns 0 written, 1 it existed already, PP_EINVAL (bad topic or
 * date), PP_EIO (text in pp_lake_errmsg() on S3). */
int pp_lake_day_mark(struct pp_lake *lake, const char *topic, const char *date, const char *body,
                     size_t len);
/* Read the marker of (topic, date) into out (NUL-terminated, at most size - 1 bytes).
 * @returns its length, PP_ENOENT (no marker: the day is not closed), PP_EINVAL, PP_EIO. */
long pp_lake_day_marker(struct pp_lake *lake, const char *topic, const char *date, char *out,
                        size_t size);

#endif
