/* reader.c: reading a partition from an offset, in the writer's process or any other: seek
 * by the sparse index, follow segment rolls and retention, wait on the shared hwm. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_int.h"
#include "log_int.h"
#include "pp_err.h"
#include "pp_util.h"

#define READ_CHUNK (256 * 1024)

struct pp_log_reader {
    struct kafka_reader *kafka; /* set: a reader of the Kafka backend */
    struct pp_log *log;
    struct log_part *part;
    int fd; /* current segment, -1 before the first one exists */
    int64_t seg_base;
    uint64_t fpos; /* file position of buf[0] */
    unsigned char *buf;
    size_t cap, len, off; /* buf[off..len) not parsed yet */
    int64_t next;         /* offset of the frame at buf[off] */
    int64_t want;         /* frames below this are skipped (seek target) */
};

static void ensure_shm(struct pp_log *log, struct log_part *part)
{
    if (part->shm)
        return;
    pthread_mutex_lock(&part->mu);
    if (!part->shm)
        log_shm_map(log, part, 0);
    pthread_mutex_unlock(&part->mu);
}

/* Open the segment holding target (or the first retained one) and position before target
 * using the sparse index. */
static int reader_seek(struct pp_log_reader *rd, int64_t target)
{
    struct pp_log *log = rd->log;
    struct log_part *part = rd->part;
    char path[LOG_PATH_MAX + 32];
    int rc = 0, fd = -1;
    pthread_mutex_lock(&part->mu);
    for (int attempt = 0; attempt < 3; attempt++) {
        if (log->conf.readonly && (rc = log_part_list(log, part)) && rc != PP_ENOENT)
            goto out;
        rc = 0;
        if (part->nsegs == 0)
            goto out; /* nothing on disk yet */
        int i = log_part_find_seg(part, target);
        if (i < 0) {
            i = 0;
            target = part->segs[0].base;
        }
        struct log_seg *seg = &part->segs[i];
        log_seg_path(part, seg->base, path, sizeof(path));
        fd = log->io->open(path, O_RDONLY, 0);
        if (fd < 0 && errno == ENOENT)
            continue; /* deleted by retention meanwhile: list again */
        if (fd < 0) {
            rc = PP_EIO;
            goto out;
        }
        int64_t limit = target < log_shm_hwm(part) ? target : log_shm_hwm(part);
        int torn; /* the reader checks each CRC itself */
        if (seg->scan_off < limit && (rc = log_seg_scan(log, part, seg, fd, limit, 0, &torn)))
            goto out;
        int64_t at = seg->base;
        uint64_t pos = 0;
        for (int lo = 0, hi = seg->nidx - 1; lo <= hi;) { /* last entry <= target */
            int mid = lo + (hi - lo) / 2;
            if (seg->idx[mid].offset <= target) {
                at = seg->idx[mid].offset;
                pos = seg->idx[mid].pos;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (rd->fd >= 0)
            log->io->close(rd->fd);
        rd->fd = fd;
        fd = -1;
        rd->seg_base = seg->base;
        rd->fpos = pos;
        rd->len = rd->off = 0;
        rd->next = at;
        rd->want = target;
        goto out;
    }
    rc = PP_EIO;
out:
    pthread_mutex_unlock(&part->mu);
    if (fd >= 0)
        log->io->close(fd);
    if (!rc && rd->fd < 0)
        rd->want = target;
    return rc;
}

struct pp_log_reader *pp_log_reader_open(struct pp_log *log, const char *topic, int partition,
                                         int64_t offset, char *errstr, size_t errstr_size)
{
    if (log->kafka) {
        struct pp_log_reader *krd = calloc(1, sizeof(*krd));
        if (!krd) {
            snprintf(errstr, errstr_size, "out of memory");
            return NULL;
        }
        krd->log = log;
        krd->fd = -1;
        if (!(krd->kafka =
                  log_kafka_reader_open(log, topic, partition, offset, errstr, errstr_size))) {
            free(krd);
            return NULL;
        }
        return krd;
    }
    struct log_topic *t = log_topic_get(log, topic);
    if (!t) {
        snprintf(errstr, errstr_size, "unknown topic %s", topic);
        return NULL;
    }
    if (partition < 0 || partition >= t->nparts) {
        snprintf(errstr, errstr_size, "topic %s has no partition %d", topic, partition);
        return NULL;
    }
    struct pp_log_reader *rd = calloc(1, sizeof(*rd));
    if (!rd || !(rd->buf = malloc(READ_CHUNK))) {
        free(rd);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    rd->log = log;
    rd->part = &t->parts[partition];
    rd->cap = READ_CHUNK;
    rd->fd = -1;
    ensure_shm(log, rd->part);
    int64_t low = log_shm_low(rd->part);
    if (offset < low)
        offset = low;
    rd->next = rd->want = offset;
    int rc = reader_seek(rd, offset);
    if (rc) {
        snprintf(errstr, errstr_size, "cannot open %s/%d at %lld: %s", topic, partition,
                 (long long)offset, pp_err_str(rc));
        pp_log_reader_close(rd);
        return NULL;
    }
    return rd;
}

void pp_log_reader_close(struct pp_log_reader *rd)
{
    if (!rd)
        return;
    log_kafka_reader_close(rd->kafka);
    if (rd->fd >= 0)
        rd->log->io->close(rd->fd);
    free(rd->buf);
    free(rd);
}

int64_t pp_log_reader_position(const struct pp_log_reader *rd)
{
    if (rd->kafka)
        return log_kafka_reader_position(rd->kafka);
    return rd->next > rd->want ? rd->next : rd->want;
}

/* Read more of the current segment into the buffer so need bytes are available; at its end
 * move on to the next segment. @returns 0, or <0. */
static int refill(struct pp_log_reader *rd, size_t need)
{
    size_t avail = rd->len - rd->off;
    memmove(rd->buf, rd->buf + rd->off, avail);
    rd->fpos += rd->off;
    rd->len = avail;
    rd->off = 0;
    if (need > rd->cap) {
        unsigned char *b = realloc(rd->buf, need);
        if (!b)
            return PP_ENOMEM;
        rd->buf = b;
        rd->cap = need;
    }
    ssize_t r = rd->log->io->pread(rd->fd, rd->buf + rd->len, rd->cap - rd->len,
                                   (off_t)(rd->fpos + rd->len));
    if (r < 0)
        return PP_EIO;
    if (r > 0) {
        rd->len += (size_t)r;
        return 0;
    }
    if (avail)
        return PP_ECORRUPT; /* a partial frame below the hwm */
    /* end of this segment: the next one is named by our next offset */
    int64_t base = rd->seg_base;
    int rc = reader_seek(rd, pp_log_reader_position(rd));
    if (!rc && rd->seg_base == base)
        rc = PP_ECORRUPT;
    return rc;
}

/* Parse records below hwm from the buffer. @returns count, or <0. */
static int fill(struct pp_log_reader *rd, struct pp_log_rec *recs, int max, int64_t hwm)
{
    int n = 0, rc = 0;
    while (n < max && rd->next < hwm) {
        size_t avail = rd->len - rd->off, need = PP_LOG_FRAME_HEADER, size = 0;
        unsigned char *f = rd->buf + rd->off;
        if (avail >= PP_LOG_FRAME_HEADER) {
            if (!(size = log_frame_size(f))) {
                rc = PP_ECORRUPT;
                break;
            }
            need = size;
        }
        if (avail < need) {
            if (n > 0)
                break; /* returned records point into the buffer */
            if ((rc = refill(rd, need)))
                break;
            continue;
        }
        if (!log_frame_check(f, size) || (int64_t)log_get64(f + 8) != rd->next) {
            rc = PP_ECORRUPT;
            break;
        }
        if (rd->next >= rd->want) {
            struct pp_log_rec *rec = &recs[n++];
            rec->offset = rd->next;
            rec->ts_ms = (int64_t)log_get64(f + 16);
            rec->keylen = log_get32(f + 24);
            rec->key = (const char *)f + PP_LOG_FRAME_HEADER;
            rec->value = rec->key + rec->keylen;
            rec->vlen = size - PP_LOG_FRAME_HEADER - rec->keylen;
        }
        rd->off += size;
        rd->next++;
    }
    /* bytes past the hwm may still change (a failed append is cut back): drop them */
    if (rd->next >= hwm)
        rd->len = rd->off;
    return rc ? rc : n;
}

int pp_log_read(struct pp_log_reader *rd, struct pp_log_rec *recs, int max, int timeout_ms)
{
    if (rd->kafka)
        return log_kafka_read(rd->kafka, recs, max, timeout_ms);
    struct pp_log *log = rd->log;
    struct log_part *part = rd->part;
    int64_t deadline = pp_mono_us() / 1000 + (timeout_ms > 0 ? timeout_ms : 0);
    int rc = 0;
    if (max <= 0)
        return PP_EINVAL;
    ADD(&log->active, 1);
    for (;;) {
        if (LOAD(&log->closing)) {
            rc = PP_ESHUTDOWN;
            break;
        }
        ensure_shm(log, part);
        uint32_t seq = log_shm_seq(part);
        int64_t hwm = log_shm_hwm(part), low = log_shm_low(part);
        int64_t pos = pp_log_reader_position(rd);
        if (pos < low || (rd->fd < 0 && pos < hwm)) {
            /* retention passed us (skip forward), or the first segment appeared */
            if ((rc = reader_seek(rd, pos < low ? low : pos)))
                break;
            if (rd->fd >= 0)
                continue;
        }
        if (pos < hwm && rd->fd >= 0 && (rc = fill(rd, recs, max, hwm)) != 0)
            break;
        int64_t left = deadline - pp_mono_us() / 1000;
        if (left <= 0)
            break;
        log_shm_wait(part, seq, 1);
    }
    SUB(&log->active, 1);
    return rc;
}
