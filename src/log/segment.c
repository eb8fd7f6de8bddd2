/* segment.c: frames, segment files and their sparse index, and the shared hwm page. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log_int.h"
#include "pp_err.h"

#define SCAN_CHUNK (256 * 1024)

int log_valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > LOG_NAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

void log_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

void log_put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

uint32_t log_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t log_get64(const unsigned char *p)
{
    return (uint64_t)log_get32(p) | (uint64_t)log_get32(p + 4) << 32;
}

void log_frame_encode(unsigned char *out, int64_t offset, int64_t ts_ms, const void *key,
                      size_t keylen, const void *value, size_t vlen)
{
    log_put32(out + 4, (uint32_t)(20 + keylen + vlen));
    log_put64(out + 8, (uint64_t)offset);
    log_put64(out + 16, (uint64_t)ts_ms);
    log_put32(out + 24, (uint32_t)keylen);
    if (keylen)
        memcpy(out + PP_LOG_FRAME_HEADER, key, keylen);
    if (vlen)
        memcpy(out + PP_LOG_FRAME_HEADER + keylen, value, vlen);
    log_put32(out, log_crc32c(0, out + 4, PP_LOG_FRAME_HEADER - 4 + keylen + vlen));
}

size_t log_frame_size(const unsigned char *hdr)
{
    uint32_t len = log_get32(hdr + 4), keylen = log_get32(hdr + 24);
    if (len < 20 || len - 20 > PP_LOG_MAX_RECORD || keylen > len - 20)
        return 0;
    return (size_t)len + 8;
}

int log_frame_check(const unsigned char *frame, size_t size)
{
    return log_crc32c(0, frame + 4, size - 4) == log_get32(frame);
}

void log_seg_path(const struct log_part *part, int64_t base, char *out, size_t size)
{
    snprintf(out, size, "%s/%020lld.log", part->dir, (long long)base);
}

static int parse_seg_name(const char *name, int64_t *base)
{
    if (strlen(name) != 24 || strcmp(name + 20, ".log"))
        return 0;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (name[i] - '0');
    }
    *base = v;
    return 1;
}

static void seg_free(struct log_seg *seg)
{
    free(seg->idx);
    seg->idx = NULL;
    seg->nidx = seg->capidx = 0;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct log_seg *x = a, *y = b;
    return x->base < y->base ? -1 : x->base > y->base;
}

int log_part_add_seg(struct log_part *part, int64_t base)
{
    if (part->nsegs == part->capsegs) {
        int cap = part->capsegs ? part->capsegs * 2 : 8;
        struct log_seg *s = realloc(part->segs, (size_t)cap * sizeof(*s));
        if (!s)
            return PP_ENOMEM;
        part->segs = s;
        part->capsegs = cap;
    }
    struct log_seg *seg = &part->segs[part->nsegs++];
    memset(seg, 0, sizeof(*seg));
    seg->base = seg->scan_off = base;
    return 0;
}

int log_part_list(struct pp_log *log, struct log_part *part)
{
    (void)log;
    DIR *d = opendir(part->dir);
    if (!d)
        return errno == ENOENT ? PP_ENOENT : PP_EIO;
    struct log_seg *fresh = NULL;
    int n = 0, cap = 0, rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        int64_t base;
        if (!parse_seg_name(de->d_name, &base))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            struct log_seg *s = realloc(fresh, (size_t)cap * sizeof(*s));
            if (!s) {
                rc = PP_ENOMEM;
                goto out;
            }
            fresh = s;
        }
        memset(&fresh[n], 0, sizeof(fresh[n]));
        fresh[n].base = fresh[n].scan_off = base;
        char path[LOG_PATH_MAX + 32];
        struct stat sb;
        log_seg_path(part, base, path, sizeof(path));
        if (stat(path, &sb) == 0) {
            fresh[n].bytes = (uint64_t)sb.st_size;
            fresh[n].mtime_ms = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
        }
        n++;
    }
    if (n > 1)
        qsort(fresh, (size_t)n, sizeof(*fresh), cmp_seg);
    /* keep what we learned about segments still present */
    for (int i = 0, j = 0; i < n; i++) {
        while (j < part->nsegs && part->segs[j].base < fresh[i].base)
            j++;
        if (j < part->nsegs && part->segs[j].base == fresh[i].base) {
            struct log_seg *old = &part->segs[j];
            fresh[i].idx = old->idx;
            fresh[i].nidx = old->nidx;
            fresh[i].capidx = old->capidx;
            fresh[i].scan_off = old->scan_off;
            fresh[i].scan_pos = old->scan_pos;
            old->idx = NULL;
        }
    }
    for (int j = 0; j < part->nsegs; j++)
        seg_free(&part->segs[j]);
    free(part->segs);
    part->segs = fresh;
    part->nsegs = n;
    part->capsegs = cap;
    fresh = NULL;
out:
    free(fresh);
    closedir(d);
    return rc;
}

void log_part_free(struct pp_log *log, struct log_part *part)
{
    for (int i = 0; i < part->nsegs; i++)
        seg_free(&part->segs[i]);
    free(part->segs);
    part->segs = NULL;
    part->nsegs = part->capsegs = 0;
    for (int i = 0; i < part->nretired; i++)
        log->io->close(part->retired[i]);
    free(part->retired);
    part->retired = NULL;
    part->nretired = 0;
    if (part->fd >= 0)
        log->io->close(part->fd);
    part->fd = -1;
    if (part->shm)
        munmap(part->shm, LOG_SHM_SIZE);
    part->shm = NULL;
    free(part->scratch);
    part->scratch = NULL;
    pthread_mutex_destroy(&part->mu);
}

int log_seg_index_add(struct log_seg *seg, int64_t offset, uint64_t pos)
{
    if (seg->nidx && pos - seg->idx[seg->nidx - 1].pos < LOG_INDEX_INTERVAL)
        return 0;
    if (seg->nidx == seg->capidx) {
        int cap = seg->capidx ? seg->capidx * 2 : 16;
        struct log_idx *x = realloc(seg->idx, (size_t)cap * sizeof(*x));
        if (!x)
            return PP_ENOMEM;
        seg->idx = x;
        seg->capidx = cap;
    }
    seg->idx[seg->nidx].offset = offset;
    seg->idx[seg->nidx].pos = pos;
    seg->nidx++;
    return 0;
}

int log_seg_scan(struct pp_log *log, struct log_part *part, struct log_seg *seg, int fd,
                 int64_t limit, int verify, int *torn)
{
    (void)part;
    unsigned char *buf = malloc(SCAN_CHUNK);
    size_t cap = SCAN_CHUNK, len = 0, off = 0;
    uint64_t fpos = seg->scan_pos; /* file position of buf[0] */
    int rc = 0;
    *torn = 0;
    if (!buf)
        return PP_ENOMEM;
    while (seg->scan_off < limit) {
        size_t avail = len - off, need = PP_LOG_FRAME_HEADER, size = 0;
        if (avail >= PP_LOG_FRAME_HEADER) {
            size = log_frame_size(buf + off);
            if (!size) {
                *torn = 1;
                break;
            }
            need = size;
        }
        if (avail < need) {
            memmove(buf, buf + off, avail);
            fpos += off;
            len = avail;
            off = 0;
            if (need > cap) {
                unsigned char *nb = realloc(buf, need);
                if (!nb) {
                    rc = PP_ENOMEM;
                    break;
                }
                buf = nb;
                cap = need;
            }
            ssize_t r = log->io->pread(fd, buf + len, cap - len, (off_t)(fpos + len));
            if (r < 0) {
                rc = PP_EIO;
                break;
            }
            if (r == 0) {
                *torn = avail > 0;
                break;
            }
            len += (size_t)r;
            continue;
        }
        if ((verify && !log_frame_check(buf + off, size)) ||
            (int64_t)log_get64(buf + off + 8) != seg->scan_off) {
            *torn = 1;
            break;
        }
        if ((rc = log_seg_index_add(seg, seg->scan_off, seg->scan_pos)))
            break;
        seg->scan_off++;
        seg->scan_pos += size;
        off += size;
    }
    free(buf);
    return rc;
}

int log_part_find_seg(const struct log_part *part, int64_t offset)
{
    int lo = 0, hi = part->nsegs - 1, found = -1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (part->segs[mid].base <= offset) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return found;
}

int log_shm_map(struct pp_log *log, struct log_part *part, int create)
{
    char path[LOG_PATH_MAX + 8];
    snprintf(path, sizeof(path), "%s/hwm", part->dir);
    int rw = 1;
    int fd = log->io->open(path, O_RDWR | (create ? O_CREAT : 0), 0644);
    if (fd < 0 && !create && errno == EACCES) {
        rw = 0;
        fd = log->io->open(path, O_RDONLY, 0);
    }
    if (fd < 0)
        return errno == ENOENT ? PP_ENOENT : PP_EIO;
    struct stat sb;
    if (fstat(fd, &sb) < 0 ||
        (sb.st_size < LOG_SHM_SIZE && (!create || log->io->ftruncate(fd, LOG_SHM_SIZE) < 0))) {
        log->io->close(fd);
        return create ? PP_EIO : PP_ENOENT;
    }
    void *p = mmap(NULL, LOG_SHM_SIZE, rw ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
    log->io->close(fd);
    if (p == MAP_FAILED)
        return PP_EIO;
    part->shm = p;
    part->shm_rw = rw;
    if (create && part->shm->magic != LOG_SHM_MAGIC) {
        part->shm->version = 1;
        STORE(&part->shm->magic, LOG_SHM_MAGIC);
    }
    return 0;
}

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

void log_shm_publish(struct log_part *part, int64_t hwm)
{
    struct log_shm *shm = part->shm;
    STORE(&shm->hwm, hwm);
    ADD(&shm->seq, 1);
    if (LOAD(&shm->waiters))
        futex(&shm->seq, FUTEX_WAKE, INT32_MAX, NULL);
}

int64_t log_shm_hwm(const struct log_part *part)
{
    return part->shm ? LOAD(&part->shm->hwm) : 0;
}

int64_t log_shm_low(const struct log_part *part)
{
    return part->shm ? LOAD(&part->shm->low) : 0;
}

uint32_t log_shm_seq(const struct log_part *part)
{
    return part->shm ? LOAD(&part->shm->seq) : 0;
}

void log_shm_wait(struct log_part *part, uint32_t seq, int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    if (!part->shm || !part->shm_rw) {
        nanosleep(&ts, NULL);
        return;
    }
    ADD(&part->shm->waiters, 1);
    futex(&part->shm->seq, FUTEX_WAIT, seq, &ts);
    SUB(&part->shm->waiters, 1);
}

int log_fsync_dir(struct pp_log *log, const char *dir)
{
    int fd = log->io->open(dir, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return PP_EIO;
    int rc = log->io->fsync(fd) < 0 ? PP_EIO : 0;
    log->io->close(fd);
    return rc;
}
