/* lake_run.c: consumer group "lake": log -> raw JSON lines in the lake, committing each
 * partition's offset only after its files are durable (exactly once by deterministic names). */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pp_err.h"
#include "pp_stream.h"
#include "pp_util.h"
#include "stream_int.h"

#define GROUP "lake"
#define READ_MAX 256
#define WAIT_MS 5    /* blocking read while idle: the lake is not latency-critical */
#define FLUSH_MS 100 /* age-based rolls are checked this often, also when idle */
#define PROGRESS_US 5000000LL
#define RETRY_MAX 10 /* failed writes/finishes in a row before giving up (~26 s of backoff) */
/* A round that took this long means the process stalled (stopped, swapped out): the group may
 * have moved on without it, so before finishing files it waits up to STALL_POLL_MS for the
 * group's verdict (librdkafka notices a lost session as soon as it runs again). */
#define STALL_US 3000000LL
#define STALL_POLL_MS 1000
/* How long a new owner waits for a partition's previous writer to let go of it (pp_lake_own):
 * a stalled member lets go as soon as it runs again and learns it lost the partition. */
#define OWN_WAIT_MS 60000
#define DAY_MS 86400000LL
#define CLOSE_CHECK_US 1000000LL /* the clock is compared with the next day's close this often */
/* After a day was found not closed yet (a partition lags), the next check waits this long:
 * each check reads every partition's commit and a record (on Kafka: requests to brokers) */
#define CLOSE_RETRY_US 5000000LL
#define NO_DAY INT64_MIN
#define OWN_LOG_MS 5000
/* Stopping: how long a member stays in the group to get its last commits accepted (a group
 * stopped at once rebalances as its first member leaves; librdkafka's mock cluster refuses
 * commits until the next generation, ~5 s per round). Below deploy/systemd's TimeoutStopSec. */
#define STOP_MS 40000
#define STOP_POLL_MS 100

/* Test fault point (tests/integration/s3_stall.sh), never set in production:
 * PINPIPE_TEST_LAKE_STOP=finish stops this process (SIGSTOP) once, right after its membership
 * check and before it finishes its first files; =commit, once, right before its first commit;
 * =publish, once, right after its first commit with metadata (S3: objects still pending).
 * A test resumes it (SIGCONT) after the group has given its partitions to another member: the
 * window a stalled member wakes up in. */
static int test_stop(const char *point)
{
    static int done;
    const char *v = getenv("PINPIPE_TEST_LAKE_STOP");
    if (done || !v || strcmp(v, point))
        return 0;
    done = 1;
    PP_WARN("lake", "PINPIPE_TEST_LAKE_STOP=%s: stopping this process (SIGSTOP)", point);
    return raise(SIGSTOP) ? 0 : 1;
}

struct lake_consumer {
    struct pp_log *log;
    struct pp_lake *lake;
    struct pp_parts parts;
    int commit_errors;
    int lake_failed; /* a lake write failed (already logged) */
    int fencing;     /* inside pp_lake_fence: its commit covers no files */
    int stopping;    /* SIGTERM: finishing, committing and publishing before leaving */
    int refused;     /* a commit failed since this was last cleared */
    int rejoin;      /* stopping: a revoke gave up files whose commit was refused */
    struct pp_lake_stats *st;
    /* day closing (pp_lake_close_day), in days since the epoch: the next day to close (the
     * one before the first record's, then onwards), the last one seen closed */
    int64_t close_day, closed_through, close_grace_ms;
    int64_t marker_checked; /* the last past day whose marker note_day looked for */
    int64_t close_retry_us; /* pp_mono_us() before which close_days does not check again */
    int close_errors;
};

static int64_t day_of(int64_t ts_ms)
{
    return ts_ms / DAY_MS - (ts_ms % DAY_MS < 0);
}

/* A record of day `day` is about to be written: note the day for closing; count it when the
 * day is closed already (a late record: it lands in a file past the marker's offsets). */
static void note_day(struct lake_consumer *lc, const struct pp_part *part, int64_t day,
                     int64_t today)
{
    if (lc->close_day == NO_DAY)
        lc->close_day = day - 1; /* the day before may still lack its markers: check it too */
    else if (day < lc->close_day && day > lc->closed_through)
        lc->close_day = day;
    if (day > lc->closed_through && day != lc->marker_checked && day < today) {
        /* a past day (a restarted worker, a skewed node): closed already by someone else? */
        char date[16], body[8];
        lc->marker_checked = day;
        pp_date_format(day * DAY_MS, date, sizeof(date));
        if (pp_lake_day_marker(lc->lake, part->topic, date, body, sizeof(body)) >= 0)
            lc->closed_through = day;
    }
    if (day <= lc->closed_through && lc->st->late_records++ % 1000 == 0) {
        char date[16];
        pp_date_format(day * DAY_MS, date, sizeof(date));
        PP_WARN("lake", "late record topic=%s partition=%d day=%s: the day is closed (its "
                "_SUCCESS marker was written); it goes into the day's folder past the marker's "
                "offsets, counted by `pinpipe quality --date %s` (late records so far: %" PRId64
                ")", part->topic, part->partition, date, date, lc->st->late_records);
    }
}

/* Close the days that are due (clock past their end + grace): markers once every partition is
 * past them (pp_lake_close_day). Every member of the group does this; the marker is written
 * once whoever gets there first. */
static void close_days(struct lake_consumer *lc)
{
    int64_t now = pp_now_ms();
    if (pp_mono_us() < lc->close_retry_us)
        return;
    for (int i = 0; i < 8 && lc->close_day != NO_DAY; i++) {
        if (now < (lc->close_day + 1) * DAY_MS + lc->close_grace_ms)
            return;
        char date[16], why[512];
        int marked;
        pp_date_format(lc->close_day * DAY_MS, date, sizeof(date));
        int rc = pp_lake_close_day(lc->log, lc->lake, date, now, lc->close_grace_ms, &marked, why,
                                   sizeof(why));
        if (rc == 1) {
            if (marked)
                PP_INFO("lake", "day closed date=%s markers=%d", date, marked);
            lc->closed_through = lc->close_day++;
            lc->st->days_closed++;
            lc->close_errors = 0;
            continue;
        }
        if (rc < 0 && lc->close_errors++ % 12 == 0)
            PP_WARN("lake", "closing day=%s failed error=%s (%s); retried every %lld s", date,
                    pp_err_str(rc), why, CLOSE_RETRY_US / 1000000);
        if (rc == 0)
            PP_DEBUG("lake", "day=%s not closed yet: %s", date, why);
        lc->close_retry_us = pp_mono_us() + CLOSE_RETRY_US;
        return;
    }
}

/* Embedded log: be the lake group's only member (pp_log_group_lock), waiting up to
 * OWN_WAIT_MS for another lake worker on the same log to stop (or until stopped: 0, no lock).
 * @returns 0 with *fd (-1 on Kafka) or <0. */
static int lock_group(struct pp_log *log, volatile sig_atomic_t *stop, int *fd)
{
    char why[256] = "";
    int rc = pp_log_group_lock(log, GROUP, 0, fd, why, sizeof(why)), waited = 0;
    for (; rc == PP_EBUSY && waited < OWN_WAIT_MS && !*stop; waited += 1000) {
        if (waited % OWN_LOG_MS == 0)
            PP_WARN("lake", "waiting for the other lake worker on this log to stop (%s)", why);
        rc = pp_log_group_lock(log, GROUP, 1000, fd, why, sizeof(why));
    }
    if (rc == PP_EBUSY && *stop)
        return 0;
    if (!rc && waited)
        PP_INFO("lake", "the lake group's member now, after the other lake worker stopped");
    if (rc)
        PP_ERROR("lake", "cannot be the lake group's member error=%s (%s)%s", pp_err_str(rc), why,
                 rc == PP_EBUSY ? ": another lake worker consumes this embedded log (one member "
                                  "only); stop it, or share partitions on Kafka (--log kafka)"
                                : "");
    return rc;
}

/* Take the partition from whoever may still write it, waiting up to OWN_WAIT_MS. */
static int own(struct lake_consumer *lc, const char *topic, int partition)
{
    int rc = pp_lake_own(lc->lake, topic, partition, 0), waited = 0;
    for (; rc == PP_EBUSY && waited < OWN_WAIT_MS; waited += OWN_LOG_MS) {
        PP_WARN("lake", "waiting for the previous writer to let go: %s", pp_lake_errmsg(lc->lake));
        rc = pp_lake_own(lc->lake, topic, partition, OWN_LOG_MS);
    }
    if (rc)
        PP_ERROR("lake", "cannot own topic=%s partition=%d error=%s (%s)%s", topic, partition,
                 pp_err_str(rc), pp_lake_errmsg(lc->lake),
                 rc == PP_EBUSY ? ": a stopped or hung lake worker holds it; resume or kill it"
                                : "");
    else if (waited)
        PP_INFO("lake", "owned topic=%s partition=%d after its previous writer let go", topic,
                partition);
    return rc;
}

static int on_durable(void *arg, const char *topic, int partition, int64_t next_offset,
                      const char *meta);

static int start_at(void *arg, const char *topic, int partition, int64_t *offset)
{
    struct lake_consumer *lc = arg;
    /* ownership before the committed offset: a previous writer's late finish lands before it */
    int rc = own(lc, topic, partition);
    if (rc)
        return rc;
    char meta[PP_LOG_META_MAX + 1];
    rc = pp_log_committed_meta(lc->log, GROUP, topic, partition, offset, meta, sizeof(meta));
    if (rc == PP_ENOENT) {
        *offset = 0;
        meta[0] = '\0';
        rc = 0;
    }
    if (rc)
        return rc;
    /* files at/after the committed offset were finished but not committed: rewrite them (S3:
     * publish what the commit covers, clean up the rest after this member's next commit) */
    int stale = pp_lake_resume(lc->lake, topic, partition, *offset, meta);
    if (stale < 0) {
        PP_ERROR("lake", "resume topic=%s partition=%d from=%" PRId64 " error=%s (%s)", topic,
                 partition, *offset, pp_err_str(stale), pp_lake_errmsg(lc->lake));
        return stale;
    }
    if (stale > 0)
        PP_INFO("lake", "rerun topic=%s partition=%d from=%" PRId64 " stale_files=%d", topic,
                partition, *offset, stale);
    /* S3: commit now and clean up, before this writer has objects of its own there */
    lc->fencing = 1;
    rc = pp_lake_fence(lc->lake, topic, partition, on_durable, lc);
    lc->fencing = 0;
    if (rc == PP_EBUSY)
        PP_WARN("lake", "topic=%s partition=%d: finished objects past the committed offset left "
                "in place (the commit before deleting them failed); remove them by hand if the "
                "lake shows them twice", topic, partition);
    else if (rc)
        PP_ERROR("lake", "cleanup topic=%s partition=%d error=%s (%s)", topic, partition,
                 pp_err_str(rc), pp_lake_errmsg(lc->lake));
    return rc == PP_EBUSY ? 0 : rc;
}

/* pp_lake_flush's commit: the offset past durable files, with the lake's metadata (S3: the
 * pending objects it publishes once this returns 0). */
static int on_durable(void *arg, const char *topic, int partition, int64_t next_offset,
                      const char *meta)
{
    struct lake_consumer *lc = arg;
    test_stop("commit");
    int rc = pp_log_commit_meta(lc->log, GROUP, topic, partition, next_offset, meta);
    if (!rc && meta && *meta && !lc->fencing)
        test_stop("publish"); /* committed, its objects not yet published */
    /* the files get rewritten on rerun: costs time, not correctness. A failed commit is
     * retried at every flush (100 ms) until it works or the partition is revoked: warn on the
     * first failure of a streak and every 100th after it. */
    if (rc && lc->commit_errors++ % 100 == 0)
        PP_WARN("lake", "commit failed topic=%s partition=%d offset=%" PRId64 " error=%s", topic,
                partition, next_offset,
                rc == PP_EBUSY ? "the group is rebalancing or moved on without this member "
                                 "(the partition's next owner rewrites these files; on S3 they "
                                 "stay unpublished until a commit of this member succeeds)"
                               : pp_err_str(rc));
    if (rc) {
        lc->st->commit_errors++;
        lc->refused = 1;
    } else {
        lc->commit_errors = 0;
    }
    return rc;
}

static int pull(struct lake_consumer *lc, struct pp_part *part, int timeout_ms, int64_t *records)
{
    struct pp_lake_stats *st = lc->st;
    struct pp_log_rec recs[READ_MAX];
    int n = pp_log_read(part->rd, recs, READ_MAX, timeout_ms);
    int64_t today = n > 0 ? day_of(pp_now_ms()) : 0; /* once per read, not per record */
    for (int i = 0; i < n; i++) {
        note_day(lc, part, day_of(recs[i].ts_ms), today);
        int rc = pp_lake_write(lc->lake, part->topic, part->partition, recs[i].offset,
                               recs[i].ts_ms, recs[i].value, recs[i].vlen);
        if (rc) {
            lc->lake_failed = 1;
            st->write_errors++;
            PP_ERROR("lake", "write failed topic=%s partition=%d offset=%" PRId64 " error=%s (%s)",
                     part->topic, part->partition, recs[i].offset, pp_err_str(rc),
                     pp_lake_errmsg(lc->lake));
            return rc;
        }
        part->pos = recs[i].offset + 1;
        st->records++;
        st->topic_records[part->kind]++;
        st->bytes += (int64_t)recs[i].vlen + 1;
    }
    *records = st->records;
    return n;
}

static int flush(struct lake_consumer *lc, int force)
{
    int64_t t0 = pp_mono_us();
    int rc = pp_lake_flush(lc->lake, pp_now_ms(), force, on_durable, lc);
    if (rc > 0) {
        lc->st->files += rc;
        pp_hist_observe_us(&lc->st->flush_lat, pp_mono_us() - t0);
    }
    if (rc < 0) {
        lc->st->flush_errors++;
        PP_ERROR("lake", "flush failed error=%s (%s)", pp_err_str(rc), pp_lake_errmsg(lc->lake));
    }
    return rc < 0 ? rc : 0;
}

/* The group takes partitions away (rebalance or leaving): finish their files and commit.
 * Lost (the group moved on without us): finishing them could overlap the files the next owner
 * writes from the committed offset, so the open files are dropped instead. */
static void give_up(void *arg, int lost)
{
    struct lake_consumer *lc = arg;
    lc->refused = 0;
    if (!lost && !lc->lake_failed)
        flush(lc, 1);
    /* stopping, and the group refused these files (it rebalances: a member left): stay for
     * the next assignment and commit in its generation (stop_member) */
    if (lc->stopping && lc->refused)
        lc->rejoin = 1;
    /* then let go of them (pp_lake_own): the next owner may take them */
    for (int i = 0; i < lc->parts.n; i++)
        pp_lake_drop(lc->lake, lc->parts.v[i].topic, lc->parts.v[i].partition);
}

/* After a failed write or finish: back off, then restart every partition from its committed
 * offset as a fresh start does (truncate past it, reopen the reader): exactly once as after a
 * crash. Gives up (returns <0) after RETRY_MAX failures in a row or when stopped. */
static int recover(struct lake_consumer *lc, int *failures, volatile sig_atomic_t *stop)
{
    int rc = PP_EIO;
    while (!*stop && *failures < RETRY_MAX) {
        int ms = 100 << (*failures < 6 ? *failures : 6);
        ms = ms > 5000 ? 5000 : ms;
        lc->st->failing = ++*failures;
        lc->st->retries++;
        PP_WARN("lake", "retrying from the committed offsets in %d ms failures=%d", ms, *failures);
        pp_parts_nap(ms, stop);
        rc = 0;
        for (int i = 0; i < lc->parts.n && !rc; i++) {
            struct pp_part *part = &lc->parts.v[i];
            int64_t off;
            if (!(rc = start_at(lc, part->topic, part->partition, &off)))
                rc = pp_parts_reopen(&lc->parts, part, off);
        }
        if (!rc) {
            lc->lake_failed = 0;
            return 0;
        }
    }
    PP_ERROR("lake", "giving up after %d failures in a row", *failures);
    return rc ? rc : PP_EIO;
}

/* Stopping: where each partition's last reads end. Held at the stop: what was consumed.
 * Assigned since (the group rebalanced while this member stopped): the high watermark now, so
 * that records whose files the revoke could not commit are written and committed again. */
static void set_ends(struct lake_consumer *lc)
{
    for (int i = 0; i < lc->parts.n; i++) {
        struct pp_part *part = &lc->parts.v[i];
        int64_t low, high;
        if (part->end >= 0)
            continue;
        int rc = pp_log_watermarks(lc->log, part->topic, part->partition, &low, &high);
        if (rc)
            PP_WARN("lake",
                    "stopping: high watermark of topic=%s partition=%d error=%s; "
                    "committing what was read",
                    part->topic, part->partition, pp_err_str(rc));
        part->end = rc || high < part->pos ? part->pos : high;
    }
}

/* Stopping: read every partition up to its end. @returns 1 all there, 0 not yet, <0 error. */
static int read_to_ends(struct lake_consumer *lc, int64_t *records)
{
    int there = 1;
    for (int i = 0; i < lc->parts.n; i++) {
        struct pp_part *part = &lc->parts.v[i];
        if (part->pos >= part->end)
            continue;
        int rc = pull(lc, part, WAIT_MS, records);
        if (rc < 0)
            return rc;
        there = there && part->pos >= part->end;
    }
    return there;
}

/* SIGTERM: finish the open files, commit them and publish them (S3) while still a member of
 * the group; the caller leaves it only then (pp_parts_free), so a group stopped at once leaves
 * every consumed record published and nothing pending. The first member to leave starts a
 * rebalance, and the others' commits may then be refused (Kafka accepts a commit of the
 * current generation while the group prepares a rebalance; librdkafka's mock cluster refuses
 * it with REBALANCE_IN_PROGRESS until the next generation). A member whose commit was refused
 * does not leave: it serves the rebalance (its revoke commits once more), and partitions the
 * next generation gives it are read again up to their high watermark (the resume deleted the
 * refused files), finished and committed in that generation. Ends when every commit went
 * through, or after STOP_MS (then the next owner's resume rewrites what is left). Embedded
 * log: the group's only member, one flush. @returns 0 or <0 (a lake or log failure). */
static int stop_member(struct lake_consumer *lc, int64_t *records)
{
    struct pp_parts *ps = &lc->parts;
    int64_t t0 = pp_mono_us(), deadline = t0 + STOP_MS * 1000LL;
    unsigned assigns = ps->assigns;
    int waited = 0;
    lc->stopping = 1;
    for (int i = 0; i < ps->n; i++)
        ps->v[i].end = ps->v[i].pos;
    for (;;) {
        int there = read_to_ends(lc, records);
        if (there < 0)
            return there;
        if (there) {
            lc->refused = 0;
            int rc = flush(lc, 1);
            if (rc || !ps->member)
                return rc;
            if (!lc->refused && !lc->rejoin) {
                if (waited)
                    PP_INFO("lake", "stopping: every commit went through after %.1f s",
                            (double)(pp_mono_us() - t0) / 1e6);
                return 0;
            }
        }
        if (!waited && there) {
            waited = 1;
            PP_INFO("lake", "stopping: a commit was refused (the group is rebalancing); staying "
                            "a member until a generation accepts it");
        }
        if (pp_mono_us() > deadline) {
            PP_WARN("lake",
                    "stopping: commits still refused after %d ms; leaving the group "
                    "(the partitions' next owner rewrites the files left)",
                    STOP_MS);
            return 0;
        }
        int rc = pp_log_member_poll(ps->member, there ? STOP_POLL_MS : 0);
        if (rc) {
            PP_ERROR("lake", "rebalance failed error=%s", pp_err_str(rc));
            return rc;
        }
        if (ps->assigns != assigns) { /* a new generation: read what it gave us */
            assigns = ps->assigns;
            lc->rejoin = 0;
            set_ends(lc);
        }
    }
}

static int lake_run(struct pp_log *log, struct pp_lake *lake, volatile sig_atomic_t *stop,
                    struct pp_lake_stats *stats, int64_t *records_out)
{
    struct pp_lake_stats local_stats;
    if (!stats)
        stats = &local_stats;
    memset(stats, 0, sizeof(*stats));
    stats->running = 1;
    struct lake_consumer lc = {.log = log, .lake = lake, .st = stats, .close_day = NO_DAY,
                               .closed_through = NO_DAY, .marker_checked = NO_DAY,
                               .close_grace_ms = pp_lake_close_grace(lake)};
    if (lc.close_grace_ms < 0)
        lc.close_grace_ms = PP_LAKE_CLOSE_GRACE_MS;
    int64_t local = 0, *records = records_out ? records_out : &local;
    int64_t last_flush = pp_mono_us(), last_progress = last_flush, last_records = 0;
    int64_t last_round = last_flush, last_close = last_flush;
    int rc = 0, failures = 0, member_fd = -1;
    *records = 0;
    pp_parts_init(&lc.parts, log, start_at, &lc);
    lc.parts.mod = "lake";
    rc = lock_group(log, stop, &member_fd);
    if (!rc)
        rc = pp_parts_subscribe(&lc.parts, GROUP, give_up);
    while (!*stop && !rc) {
        if ((rc = pp_parts_discover(&lc.parts, 0)))
            break;
        struct pp_parts *ps = &lc.parts;
        int round = 0;
        for (int i = 0; i < ps->n && rc >= 0; i++)
            round += (rc = pull(&lc, &ps->v[i], 0, records)) > 0 ? rc : 0;
        if (rc == 0 && round == 0) {
            if (ps->n == 0) {
                pp_parts_nap(PP_STREAM_DISCOVER_MS, stop);
            } else {
                ps->rr = (ps->rr + 1) % ps->n;
                rc = pull(&lc, &ps->v[ps->rr], WAIT_MS, records);
            }
        }
        if (rc == PP_ESHUTDOWN) /* the in-process log closed: finish what we have */
            break;
        if (rc < 0 && lc.lake_failed) { /* logged by pull */
            if ((rc = recover(&lc, &failures, stop)))
                break;
            continue;
        }
        if (rc < 0) {
            PP_ERROR("lake", "read failed error=%s", pp_err_str(rc));
            break;
        }
        rc = 0;
        int64_t now = pp_mono_us();
        int stalled = now - last_round > STALL_US;
        last_round = now;
        if (now - last_flush >= FLUSH_MS * 1000) {
            last_flush = now;
            /* membership first: partitions lost meanwhile are dropped (give_up), not finished */
            if (stalled && lc.parts.member)
                pp_log_member_poll(lc.parts.member, STALL_POLL_MS);
            if ((rc = pp_parts_discover(&lc.parts, 0)))
                break;
            int64_t files = stats->files;
            if (stats->records > 0 && stats->files == 0)
                test_stop("finish");
            if ((rc = flush(&lc, 0))) {
                if ((rc = recover(&lc, &failures, stop)))
                    break;
                continue;
            }
            if (stats->files > files) /* durable files again: the failure is over */
                failures = 0, stats->failing = 0;
            if (now - last_close >= CLOSE_CHECK_US) {
                last_close = now;
                close_days(&lc);
            }
        }
        if (now - last_progress >= PROGRESS_US) {
            if (*records != last_records)
                PP_INFO("lake", "progress records=%" PRId64 " rate=%.0f/s", *records,
                        (double)(*records - last_records) * 1e6 / (double)(now - last_progress));
            last_records = *records;
            last_progress = now;
        }
    }
    /* on stop: finish open files, commit and publish them; only then leave the group */
    if (rc == 0 || rc == PP_ESHUTDOWN)
        rc = stop_member(&lc, records);
    pp_parts_free(&lc.parts);
    if (member_fd >= 0)
        close(member_fd); /* releases the group's flock */
    stats->running = 0;
    return rc;
}

int pp_lake_publish_committed(struct pp_log *log, struct pp_lake *lake)
{
    static const char *const topics[] = {"pin", "geo", "user"};
    int total = 0, err = 0;
    for (int t = 0; t < 3; t++) {
        int n = pp_log_partitions(log, topics[t], 0);
        if (n < 0 && n != PP_ENOENT) { /* e.g. Kafka metadata unreachable */
            PP_ERROR("lake", "partitions of topic=%s error=%s", topics[t], pp_err_str(n));
            err = err ? err : n;
        }
        for (int p = 0; p < n; p++) {
            char meta[PP_LOG_META_MAX + 1];
            int64_t off;
            int rc = pp_log_committed_meta(log, GROUP, topics[t], p, &off, meta, sizeof(meta));
            if (rc == PP_ENOENT)
                continue;
            if (!rc)
                rc = pp_lake_publish(lake, topics[t], p, off, meta);
            if (rc > 0)
                PP_INFO("lake", "published topic=%s partition=%d files=%d (committed, left pending)",
                        topics[t], p, rc);
            if (rc < 0) {
                PP_ERROR("lake", "publish topic=%s partition=%d error=%s (%s)", topics[t], p,
                         pp_err_str(rc), pp_lake_errmsg(lake));
                err = err ? err : rc;
            } else {
                total += rc;
            }
        }
    }
    return err ? err : total;
}

int pp_lake_run(struct pp_log *log, struct pp_lake *lake, volatile sig_atomic_t *stop,
                int64_t *records_out)
{
    return lake_run(log, lake, stop, NULL, records_out);
}

int pp_lake_run_stats(struct pp_log *log, struct pp_lake *lake, volatile sig_atomic_t *stop,
                      struct pp_lake_stats *stats)
{
    return lake_run(log, lake, stop, stats, NULL);
}
