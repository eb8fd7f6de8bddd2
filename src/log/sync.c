/* sync.c: group commit and retention: the sync thread fsyncs every dirty partition at once,
 * marks the tickets written before it durable, wakes waiters and runs durable callbacks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kafka_int.h"
#include "log_int.h"
#include "pp_err.h"
#include "pp_fault.h"
#include "pp_util.h"

/* fsync one partition's rolled and active segments; publish its hwm under ALWAYS. */
static int sync_part(struct pp_log *log, struct log_part *part)
{
    pthread_mutex_lock(&part->mu);
    int fd = part->fd, dir_dirty = part->dir_dirty, nretired = part->nretired;
    int64_t next = part->next;
    uint64_t bytes = part->dirty_bytes;
    int *retired = part->retired;
    part->dirty_bytes = 0;
    part->dir_dirty = 0;
    part->retired = NULL;
    part->nretired = part->capretired = 0;
    pthread_mutex_unlock(&part->mu);

    int rc = 0;
    for (int i = 0; i < nretired; i++) {
        int64_t t0 = pp_mono_us();
        if (log->io->fsync(retired[i]) < 0)
            rc = PP_EIO;
        pp_hist_observe_us(&log->st.fsync_lat, pp_mono_us() - t0);
        ADD(&log->st.fsyncs, 1);
        log->io->close(retired[i]);
    }
    free(retired);
    if (bytes || nretired) {
        /* fd stays open: only this thread closes segments, and only once rolled */
        int64_t t0 = pp_mono_us();
        if (log->io->fsync(fd) < 0)
            rc = PP_EIO;
        pp_hist_observe_us(&log->st.fsync_lat, pp_mono_us() - t0);
        ADD(&log->st.fsyncs, 1);
    }
    if (dir_dirty && log_fsync_dir(log, part->dir))
        rc = PP_EIO;
    if (log->conf.fsync != PP_FSYNC_NEVER)
        SUB(&log->st.pending_bytes, bytes);
    if (!rc && log->conf.fsync == PP_FSYNC_ALWAYS && next > log_shm_hwm(part))
        log_shm_publish(part, next);
    return rc;
}

static void sync_round(struct pp_log *log)
{
    uint64_t target = LOAD(&log->last_ticket);
    int rc = 0;
    if (!LOAD(&log->failed)) {
        pthread_rwlock_rdlock(&log->topics_lk);
        for (int i = 0; i < log->ntopics; i++)
            for (int p = 0; p < log->topics[i]->nparts; p++)
                if (sync_part(log, &log->topics[i]->parts[p]))
                    rc = PP_EIO;
        pthread_rwlock_unlock(&log->topics_lk);
    }
    pthread_mutex_lock(&log->sync_mu);
    ADD(&log->st.sync_rounds, 1);
    if (rc && !LOAD(&log->failed)) {
        STORE(&log->failed, PP_EIO);
    }
    if (!LOAD(&log->failed))
        STORE(&log->durable_ticket, target);
    rc = LOAD(&log->failed);
    /* take the callbacks that are settled; run them outside the lock */
    struct log_cb *ready = NULL;
    int nready = 0, keep = 0;
    if (log->ncbs && (ready = malloc((size_t)log->ncbs * sizeof(*ready)))) {
        for (int i = 0; i < log->ncbs; i++) {
            if (rc || log->cbs[i].ticket <= target)
                ready[nready++] = log->cbs[i];
            else
                log->cbs[keep++] = log->cbs[i];
        }
        log->ncbs = keep;
    }
    pthread_cond_broadcast(&log->durable_cv);
    pthread_mutex_unlock(&log->sync_mu);
    for (int i = 0; i < nready; i++)
        ready[i].cb(ready[i].arg, rc);
    free(ready);
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *sync_main(void *arg)
{
    struct pp_log *log = arg;
    int64_t next_retention = pp_mono_us() / 1000 + LOG_RETENTION_EVERY_MS;
    enum pp_fsync policy = log->conf.fsync;
    pthread_mutex_lock(&log->sync_mu);
    for (;;) {
        int wait_ms =
            policy == PP_FSYNC_INTERVAL ? log->conf.fsync_interval_ms : LOG_RETENTION_EVERY_MS;
        struct timespec ts;
        deadline_in(&ts, wait_ms);
        if (policy == PP_FSYNC_ALWAYS) {
            /* group commit: sleep only while nothing new was appended */
            STORE(&log->sync_sleeping, 1);
            while (!LOAD(&log->closing) &&
                   (LOAD(&log->failed) || LOAD(&log->last_ticket) == LOAD(&log->durable_ticket)))
                if (pthread_cond_timedwait(&log->sync_cv, &log->sync_mu, &ts) == ETIMEDOUT)
                    break;
            STORE(&log->sync_sleeping, 0);
        } else if (!LOAD(&log->closing)) {
            pthread_cond_timedwait(&log->sync_cv, &log->sync_mu, &ts);
        }
        int closing = LOAD(&log->closing);
        pthread_mutex_unlock(&log->sync_mu);
        if (closing || policy == PP_FSYNC_INTERVAL ||
            (policy == PP_FSYNC_ALWAYS && LOAD(&log->last_ticket) != LOAD(&log->durable_ticket)))
            sync_round(log);
        int64_t now = pp_mono_us() / 1000;
        if (!closing && now >= next_retention) {
            pp_log_retention(log);
            next_retention = now + LOG_RETENTION_EVERY_MS;
        }
        pthread_mutex_lock(&log->sync_mu);
        if (closing)
            break;
    }
    pthread_mutex_unlock(&log->sync_mu);
    return NULL;
}

int log_sync_start(struct pp_log *log)
{
    if (pthread_create(&log->sync_thread, NULL, sync_main, log))
        return PP_ENOMEM;
    log->sync_started = 1;
    return 0;
}

void log_sync_stop(struct pp_log *log)
{
    pthread_mutex_lock(&log->sync_mu);
    STORE(&log->closing, 1);
    pthread_cond_broadcast(&log->sync_cv);
    pthread_mutex_unlock(&log->sync_mu);
    pthread_join(log->sync_thread, NULL);
    log->sync_started = 0;
    for (int i = 0; i < log->ncbs; i++)
        log->cbs[i].cb(log->cbs[i].arg, PP_ESHUTDOWN);
    log->ncbs = 0;
}

int pp_log_durable(struct pp_log *log, uint64_t ticket)
{
    if (log->kafka)
        return log_kafka_durable(log, ticket);
    if (log->conf.fsync != PP_FSYNC_ALWAYS)
        return 1;
    return ticket <= LOAD(&log->durable_ticket);
}

int pp_log_wait_durable(struct pp_log *log, uint64_t ticket, int timeout_ms)
{
    if (log->kafka)
        return log_kafka_wait_durable(log, ticket, timeout_ms);
    if (LOAD(&log->failed) && !pp_log_durable(log, ticket))
        return PP_EIO;
    if (pp_log_durable(log, ticket))
        return 0;
    struct timespec ts;
    deadline_in(&ts, timeout_ms < 0 ? 86400000 : timeout_ms);
    int rc = 0;
    ADD(&log->active, 1);
    pthread_mutex_lock(&log->sync_mu);
    for (;;) {
        if (ticket <= LOAD(&log->durable_ticket)) {
            rc = 0;
            break;
        }
        if (LOAD(&log->failed)) {
            rc = PP_EIO;
            break;
        }
        if (LOAD(&log->closing)) {
            rc = PP_ESHUTDOWN;
            break;
        }
        if (rc == PP_ETIMEDOUT)
            break;
        if (pthread_cond_timedwait(&log->durable_cv, &log->sync_mu, &ts) == ETIMEDOUT)
            rc = PP_ETIMEDOUT; /* look once more, then give up */
    }
    pthread_mutex_unlock(&log->sync_mu);
    SUB(&log->active, 1);
    return rc;
}

int pp_log_on_durable(struct pp_log *log, uint64_t ticket, void (*cb)(void *arg, int rc), void *arg)
{
    if (log->kafka)
        return log_kafka_on_durable(log, ticket, cb, arg);
    if (pp_log_durable(log, ticket))
        return 1;
    int rc = 0;
    pthread_mutex_lock(&log->sync_mu);
    if (ticket <= LOAD(&log->durable_ticket)) {
        rc = 1;
    } else if (LOAD(&log->failed)) {
        rc = PP_EIO;
    } else if (LOAD(&log->closing)) {
        rc = PP_ESHUTDOWN;
    } else {
        if (log->ncbs == log->capcbs) {
            int cap = log->capcbs ? log->capcbs * 2 : 64;
            struct log_cb *c = realloc(log->cbs, (size_t)cap * sizeof(*c));
            if (!c) {
                rc = PP_ENOMEM;
                goto out;
            }
            log->cbs = c;
            log->capcbs = cap;
        }
        log->cbs[log->ncbs].ticket = ticket;
        log->cbs[log->ncbs].cb = cb;
        log->cbs[log->ncbs].arg = arg;
        log->ncbs++;
    }
out:
    pthread_mutex_unlock(&log->sync_mu);
    return rc;
}

int log_part_retention(struct pp_log *log, struct log_part *part, int64_t now_ms)
{
    int deleted = 0;
    pthread_mutex_lock(&part->mu);
    uint64_t total = 0;
    for (int i = 0; i < part->nsegs; i++)
        total += part->segs[i].bytes;
    while (part->nsegs > 1) {
        struct log_seg *seg = &part->segs[0];
        /* as Kafka: by size, only while what stays is still >= retention_bytes */
        int by_size = log->conf.retention_bytes && total - seg->bytes >= log->conf.retention_bytes;
        int by_age = log->conf.retention_ms > 0 && seg->mtime_ms > 0 &&
                     now_ms - seg->mtime_ms > log->conf.retention_ms;
        if (!by_size && !by_age)
            break;
        char path[LOG_PATH_MAX + 32];
        log_seg_path(part, seg->base, path, sizeof(path));
        /* readers learn the new low watermark before the file goes */
        STORE(&part->shm->low, part->segs[1].base);
        if (unlink(path) < 0 && errno != ENOENT)
            break;
        total -= seg->bytes;
        free(seg->idx);
        memmove(part->segs, part->segs + 1, (size_t)(part->nsegs - 1) * sizeof(*seg));
        part->nsegs--;
        deleted++;
    }
    pthread_mutex_unlock(&part->mu);
    if (deleted)
        ADD(&log->st.segments_deleted, (uint64_t)deleted);
    return deleted;
}

int pp_log_retention(struct pp_log *log)
{
    if (log->kafka)
        return 0; /* the brokers apply their own retention */
    if (log->conf.readonly)
        return PP_EINVAL;
    if (!log->conf.retention_bytes && log->conf.retention_ms <= 0)
        return 0;
    int64_t now = pp_now_ms();
    int deleted = 0;
    pthread_rwlock_rdlock(&log->topics_lk);
    for (int i = 0; i < log->ntopics; i++)
        for (int p = 0; p < log->topics[i]->nparts; p++)
            deleted += log_part_retention(log, &log->topics[i]->parts[p], now);
    pthread_rwlock_unlock(&log->topics_lk);
    return deleted;
}

int pp_log_ticket_offsets(struct pp_log *log, uint64_t ticket, int64_t *offsets, int n)
{
    return pp_log_ticket_records(log, ticket, offsets, NULL, n);
}

int pp_log_ticket_records(struct pp_log *log, uint64_t ticket, int64_t *offsets, int *rcs, int n)
{
    return pp_log_ticket_range(log, ticket, 0, offsets, rcs, n);
}

int pp_log_ticket_range(struct pp_log *log, uint64_t ticket, int first, int64_t *offsets, int *rcs,
                        int n)
{
    if (first < 0)
        return PP_EINVAL;
    if (!log->kafka)
        return 0; /* the embedded log gave every offset at append; a sync failure fails them all */
    if (pp_fault("log_ticket_records"))
        return PP_ENOENT;
    return log_kafka_ticket_offsets(log, ticket, first, offsets, rcs, n);
}
