/* append.c: appending records: partition choice, segment roll, one pwrite per frame,
 * all-or-nothing (a failed or short write is cut back), tickets for group commit. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka_int.h"
#include "log_int.h"
#include "pp_err.h"
#include "pp_util.h"

/* Start a new active segment named by the next offset. Locked. */
static int roll(struct pp_log *log, struct log_part *part)
{
    char path[LOG_PATH_MAX + 32];
    log_seg_path(part, part->next, path, sizeof(path));
    int fd = log->io->open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return PP_EIO;
    if (log_part_add_seg(part, part->next)) {
        log->io->close(fd);
        unlink(path);
        return PP_ENOMEM;
    }
    struct log_seg *old = &part->segs[part->nsegs - 2];
    old->bytes = part->wpos;
    old->mtime_ms = pp_now_ms();
    int old_fd = part->fd;
    part->fd = fd;
    part->wpos = 0;
    part->dir_dirty = 1;
    if (log->conf.fsync == PP_FSYNC_NEVER) {
        log->io->close(old_fd);
        return 0;
    }
    /* the sync thread fsyncs and closes rolled segments */
    if (part->nretired == part->capretired) {
        int cap = part->capretired ? part->capretired * 2 : 4;
        int *r = realloc(part->retired, (size_t)cap * sizeof(*r));
        if (!r) {
            int rc = log->io->fsync(old_fd) < 0 ? PP_EIO : 0;
            log->io->close(old_fd);
            return rc;
        }
        part->retired = r;
        part->capretired = cap;
    }
    part->retired[part->nretired++] = old_fd;
    return 0;
}

static int scratch_reserve(struct log_part *part, size_t size)
{
    if (size <= part->scratch_cap)
        return 0;
    size_t cap = part->scratch_cap ? part->scratch_cap : 4096;
    while (cap < size)
        cap *= 2;
    char *p = realloc(part->scratch, cap);
    if (!p)
        return PP_ENOMEM;
    part->scratch = p;
    part->scratch_cap = cap;
    return 0;
}

/* Account for a frame of size bytes just written at part->wpos. Locked. */
static int64_t frame_written(struct log_part *part, size_t size, int64_t ts_ms)
{
    struct log_seg *seg = &part->segs[part->nsegs - 1];
    if (seg->scan_pos == part->wpos && seg->scan_off == part->next) {
        log_seg_index_add(seg, part->next, part->wpos); /* ENOMEM: a sparser index */
        seg->scan_off = part->next + 1;
        seg->scan_pos = part->wpos + size;
    }
    part->wpos += size;
    seg->bytes = part->wpos;
    seg->mtime_ms = ts_ms;
    part->dirty_bytes += size;
    return part->next++;
}

/* Write len encoded bytes at the end of the active segment; all or nothing. Locked. */
static int part_write(struct pp_log *log, struct log_part *part, const char *buf, size_t len)
{
    ssize_t w = log->io->pwrite(part->fd, buf, len, (off_t)part->wpos);
    if (w == (ssize_t)len)
        return 0;
    /* cut back whatever part of it reached the file */
    if (w != 0 && log->io->ftruncate(part->fd, (off_t)part->wpos) < 0)
        part->broken = 1;
    return PP_EIO;
}

/* Write one frame at the end of the active segment. Locked. */
static int part_append(struct pp_log *log, struct log_part *part, const void *key, size_t keylen,
                       const void *value, size_t vlen, int64_t ts_ms, int64_t *offset)
{
    size_t size = PP_LOG_FRAME_HEADER + keylen + vlen;
    int rc;
    if (part->broken)
        return PP_EIO;
    if (part->wpos > 0 && part->wpos + size > log->conf.segment_bytes && (rc = roll(log, part)))
        return rc;
    if ((rc = scratch_reserve(part, size)))
        return rc;
    log_frame_encode((unsigned char *)part->scratch, part->next, ts_ms, key, keylen, value, vlen);
    if ((rc = part_write(log, part, part->scratch, size)))
        return rc;
    *offset = frame_written(part, size, ts_ms);
    return 0;
}

static size_t entry_size(const struct pp_log_entry *e)
{
    return PP_LOG_FRAME_HEADER + e->keylen + e->vlen;
}

/* Write the frames of ents[idx[0..k)] (all of part) with as few writes as segment rolls allow.
 * Locked. @returns records appended; failures are set in their entries. */
static int part_append_many(struct pp_log *log, struct log_part *part, struct pp_log_entry *ents,
                            const int *idx, int k, int64_t ts_ms)
{
    int done = 0, i = 0;
    while (i < k) {
        int rc = part->broken ? PP_EIO : 0;
        /* the chunk [i, j): frames that fit in the active segment (at least one) */
        size_t len = entry_size(&ents[idx[i]]);
        if (!rc && part->wpos > 0 && part->wpos + len > log->conf.segment_bytes)
            rc = roll(log, part);
        int j = i + 1;
        while (j < k && part->wpos + len + entry_size(&ents[idx[j]]) <= log->conf.segment_bytes)
            len += entry_size(&ents[idx[j++]]);
        if (!rc)
            rc = scratch_reserve(part, len);
        if (!rc) {
            size_t pos = 0;
            int64_t off = part->next;
            for (int m = i; m < j; m++) {
                const struct pp_log_entry *e = &ents[idx[m]];
                log_frame_encode((unsigned char *)part->scratch + pos, off++, ts_ms, e->key,
                                 e->keylen, e->value, e->vlen);
                pos += entry_size(e);
            }
            rc = part_write(log, part, part->scratch, len);
        }
        for (int m = i; m < j; m++) {
            struct pp_log_entry *e = &ents[idx[m]];
            e->rc = rc;
            if (!rc) {
                e->offset = frame_written(part, entry_size(e), ts_ms);
                done++;
            }
        }
        i = j;
    }
    return done;
}

static void wake_sync(struct pp_log *log)
{
    pthread_mutex_lock(&log->sync_mu);
    pthread_cond_signal(&log->sync_cv);
    pthread_mutex_unlock(&log->sync_mu);
}

int pp_log_append(struct pp_log *log, const char *topic, int partition, const void *key,
                  size_t keylen, const void *value, size_t vlen, int64_t ts_ms, int *partition_out,
                  int64_t *offset, uint64_t *ticket)
{
    if (log->kafka)
        return log_kafka_append(log, topic, partition, key, keylen, value, vlen, ts_ms,
                                partition_out, offset, ticket);
    if (log->conf.readonly)
        return PP_EINVAL;
    if (keylen > PP_LOG_MAX_RECORD || vlen > PP_LOG_MAX_RECORD - keylen)
        return PP_ETOOBIG;
    int rc = 0;
    ADD(&log->active, 1);
    if (LOAD(&log->closing)) {
        rc = PP_ESHUTDOWN;
        goto out;
    }
    if (LOAD(&log->failed)) {
        rc = PP_EIO;
        goto out;
    }
    struct log_topic *t = log_topic_get(log, topic);
    if (!t) {
        if ((rc = pp_log_partitions(log, topic, 1)) < 0)
            goto out;
        rc = 0;
        t = log_topic_get(log, topic);
    }
    if (partition < 0)
        partition = key ? (int)((log_murmur2(key, keylen) & 0x7fffffff) % (uint32_t)t->nparts)
                        : (int)(ADD(&log->rr, 1) % (uint64_t)t->nparts);
    else if (partition >= t->nparts) {
        rc = PP_ENOENT;
        goto out;
    }
    size_t size = PP_LOG_FRAME_HEADER + keylen + vlen;
    int counted = log->conf.fsync != PP_FSYNC_NEVER;
    if (counted && log->conf.max_pending_bytes &&
        LOAD(&log->st.pending_bytes) + size > log->conf.max_pending_bytes) {
        ADD(&log->st.efull, 1);
        rc = PP_EFULL;
        goto out;
    }
    if (!ts_ms)
        ts_ms = pp_now_ms();
    struct log_part *part = &t->parts[partition];
    int64_t off = 0;
    uint64_t tk = 0;
    int64_t t0 = pp_mono_us();
    pthread_mutex_lock(&part->mu);
    rc = part_append(log, part, key, keylen, value, vlen, ts_ms, &off);
    if (!rc) {
        if (counted)
            ADD(&log->st.pending_bytes, size);
        tk = ADD(&log->last_ticket, 1);
        if (log->conf.fsync != PP_FSYNC_ALWAYS)
            log_shm_publish(part, part->next);
    }
    pthread_mutex_unlock(&part->mu);
    if (rc)
        goto out;
    pp_hist_observe_us(&log->st.append_lat, pp_mono_us() - t0);
    ADD(&log->st.appends, 1);
    ADD(&log->st.append_bytes, size);
    if (log->conf.fsync == PP_FSYNC_ALWAYS && LOAD(&log->sync_sleeping))
        wake_sync(log);
    if (partition_out)
        *partition_out = partition;
    if (offset)
        *offset = off;
    if (ticket)
        *ticket = tk;
out:
    SUB(&log->active, 1);
    return rc;
}

/* Validate the batch's entries and pick their partitions. @returns 0 or a whole-batch error. */
static int batch_prepare(struct pp_log *log, struct log_topic *t, struct pp_log_entry *ents, int n,
                         size_t *bytes)
{
    *bytes = 0;
    for (int i = 0; i < n; i++) {
        struct pp_log_entry *e = &ents[i];
        e->rc = 0;
        e->offset = -1;
        if (e->keylen > PP_LOG_MAX_RECORD || e->vlen > PP_LOG_MAX_RECORD - e->keylen)
            e->rc = PP_ETOOBIG;
        else if (e->partition < 0)
            e->partition =
                e->key ? (int)((log_murmur2(e->key, e->keylen) & 0x7fffffff) % (uint32_t)t->nparts)
                       : (int)(ADD(&log->rr, 1) % (uint64_t)t->nparts);
        else if (e->partition >= t->nparts)
            e->rc = PP_ENOENT;
        if (!e->rc)
            *bytes += entry_size(e);
    }
    return 0;
}

int pp_log_append_batch(struct pp_log *log, const char *topic, struct pp_log_entry *ents, int n,
                        int64_t ts_ms, uint64_t *ticket)
{
    if (log->kafka)
        return log_kafka_append_batch(log, topic, ents, n, ts_ms, ticket);
    int rc = 0, done = 0;
    int *idx = NULL;
    *ticket = 0;
    ADD(&log->active, 1);
    if (log->conf.readonly)
        rc = PP_EINVAL;
    else if (LOAD(&log->closing))
        rc = PP_ESHUTDOWN;
    else if (LOAD(&log->failed))
        rc = PP_EIO;
    struct log_topic *t = rc ? NULL : log_topic_get(log, topic);
    if (!rc && !t) {
        if ((rc = pp_log_partitions(log, topic, 1)) >= 0)
            rc = 0, t = log_topic_get(log, topic);
    }
    size_t bytes = 0;
    if (!rc)
        rc = batch_prepare(log, t, ents, n, &bytes);
    int counted = log->conf.fsync != PP_FSYNC_NEVER;
    if (!rc && counted && log->conf.max_pending_bytes &&
        LOAD(&log->st.pending_bytes) + bytes > log->conf.max_pending_bytes) {
        ADD(&log->st.efull, 1);
        rc = PP_EFULL;
    }
    if (!rc && n > 0 && !(idx = malloc(sizeof(*idx) * (size_t)n)))
        rc = PP_ENOMEM;
    if (rc) {
        for (int i = 0; i < n; i++)
            ents[i].rc = rc;
        goto out;
    }
    if (!ts_ms)
        ts_ms = pp_now_ms();
    for (int p = 0; p < t->nparts; p++) {
        int k = 0;
        for (int i = 0; i < n; i++)
            if (!ents[i].rc && ents[i].partition == p)
                idx[k++] = i;
        if (!k)
            continue;
        struct log_part *part = &t->parts[p];
        int64_t t0 = pp_mono_us();
        pthread_mutex_lock(&part->mu);
        int m = part_append_many(log, part, ents, idx, k, ts_ms);
        if (m) {
            uint64_t wrote = 0;
            for (int i = 0; i < k; i++)
                wrote += ents[idx[i]].rc ? 0 : entry_size(&ents[idx[i]]);
            if (counted)
                ADD(&log->st.pending_bytes, wrote);
            *ticket = ADD(&log->last_ticket, 1);
            if (log->conf.fsync != PP_FSYNC_ALWAYS)
                log_shm_publish(part, part->next);
            ADD(&log->st.appends, (uint64_t)m);
            ADD(&log->st.append_bytes, wrote);
        }
        pthread_mutex_unlock(&part->mu);
        if (m)
            pp_hist_observe_us(&log->st.append_lat, pp_mono_us() - t0);
        done += m;
    }
    if (done && log->conf.fsync == PP_FSYNC_ALWAYS && LOAD(&log->sync_sleeping))
        wake_sync(log);
out:
    free(idx);
    SUB(&log->active, 1);
    return done;
}
