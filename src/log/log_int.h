/* log_int.h: internals shared by the files of the embedded log (not for other modules). */
#ifndef PP_LOG_INT_H
#define PP_LOG_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include "pp_log.h"

#define LOG_MOD "log"
#define LOG_PATH_MAX 4096
#define LOG_DIR_MAX 2048          /* the log dir itself */
#define LOG_NAME_MAX 249          /* topic and group names, as Kafka */
#define LOG_INDEX_INTERVAL 4096   /* bytes of segment between sparse index entries */
#define LOG_SHM_MAGIC 0x57485050u /* "PPHW" */
#define LOG_SHM_SIZE 4096
#define LOG_RETENTION_EVERY_MS 1000

/* The shared page in <partition>/hwm. Accessed with __atomic builtins (other processes). */
struct log_shm {
    uint32_t magic;
    uint32_t version;
    int64_t hwm;      /* next offset readers may see */
    int64_t low;      /* first retained offset */
    uint32_t seq;     /* bumped after every hwm change: futex word */
    uint32_t waiters; /* readers sleeping on seq */
};

struct log_idx {
    int64_t offset;
    uint64_t pos;
};

struct log_seg {
    int64_t base;        /* offset of the first record (the file name) */
    uint64_t bytes;      /* file size (writer: exact; readers: at last listing) */
    int64_t mtime_ms;    /* last write, for age retention */
    struct log_idx *idx; /* sparse index, ascending */
    int nidx, capidx;
    int64_t scan_off;  /* frames scanned into the index: next offset ... */
    uint64_t scan_pos; /* ... and its position */
};

struct log_topic;

struct log_part {
    pthread_mutex_t mu; /* serialises appends; guards everything below */
    struct log_topic *topic;
    int id;
    char dir[LOG_PATH_MAX];
    struct log_seg *segs; /* ascending base; the last one is active */
    int nsegs, capsegs;
    struct log_shm *shm; /* mmap'ed hwm page; NULL if unavailable */
    int shm_rw;          /* shm mapped writable */
    /* writer only */
    int fd;               /* active segment */
    int64_t next;         /* next offset to write */
    uint64_t wpos;        /* bytes in the active segment */
    uint64_t dirty_bytes; /* appended since the sync thread last looked */
    int dir_dirty;        /* a segment was created: fsync the directory */
    int *retired;         /* rolled segment fds awaiting fsync + close */
    int nretired, capretired;
    char *scratch; /* frame being encoded */
    size_t scratch_cap;
    int broken; /* a failed write could not be undone: refuse appends */
};

struct log_topic {
    char name[LOG_NAME_MAX + 1];
    int nparts;
    struct log_part *parts;
};

struct log_cb {
    uint64_t ticket;
    void (*cb)(void *arg, int rc);
    void *arg;
};

struct log_kafka;

struct pp_log {
    struct pp_log_conf conf;
    struct log_kafka *kafka; /* set: the Kafka backend (kafka*.c) serves every call */
    char dir[LOG_DIR_MAX];
    const struct pp_io *io;
    int lock_fd;

    pthread_rwlock_t topics_lk; /* guards the topics array (not the topics themselves) */
    struct log_topic **topics;
    int ntopics, captopics;

    /* durability */
    pthread_mutex_t sync_mu;
    pthread_cond_t sync_cv;    /* wakes the sync thread */
    pthread_cond_t durable_cv; /* wakes pp_log_wait_durable */
    pthread_t sync_thread;
    int sync_started;
    int sync_sleeping;       /* atomic: the sync thread waits for appends */
    uint64_t last_ticket;    /* atomic: last ticket handed out */
    uint64_t durable_ticket; /* atomic: every ticket <= this is durable */
    int failed;              /* atomic: sticky PP_EIO after a failed fsync */
    int closing;             /* atomic */
    int active;              /* atomic: calls in flight (close waits for 0) */
    struct log_cb *cbs;
    int ncbs, capcbs;
    uint64_t rr; /* atomic: round-robin partition picker */

    pthread_mutex_t group_mu; /* serialises commits from this process */
    struct pp_log_stats st;   /* atomic counters */
};

#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define SUB(p, v) __atomic_sub_fetch((p), (v), __ATOMIC_SEQ_CST)

/* crc32c.c */
uint32_t log_crc32c(uint32_t crc, const void *buf, size_t n);
uint32_t log_murmur2(const void *key, size_t n);

/* segment.c */
int log_valid_name(const char *s);
void log_put32(unsigned char *p, uint32_t v);
void log_put64(unsigned char *p, uint64_t v);
uint32_t log_get32(const unsigned char *p);
uint64_t log_get64(const unsigned char *p);
/* Encode one frame into out (PP_LOG_FRAME_HEADER + keylen + vlen bytes). */
void log_frame_encode(unsigned char *out, int64_t offset, int64_t ts_ms, const void *key,
                      size_t keylen, const void *value, size_t vlen);
/* Check a complete-looking frame header: @returns total frame size, or 0 if insane. */
size_t log_frame_size(const unsigned char *hdr);
/* Verify CRC of a whole frame. @returns 1 if valid. */
int log_frame_check(const unsigned char *frame, size_t size);
void log_seg_path(const struct log_part *part, int64_t base, char *out, size_t size);
/* Re-list the segment files of part (keeps index data of segments still there). Locked. */
int log_part_list(struct pp_log *log, struct log_part *part);
/* Add a segment entry with the given base at the end. Locked. */
int log_part_add_seg(struct log_part *part, int64_t base);
void log_part_free(struct pp_log *log, struct log_part *part);
/* Scan frames of seg from its scan point, indexing them, up to offset limit or EOF or the
 * first invalid frame (bad length or offset; bad CRC too when verify). *torn set when stopped
 * on an invalid/incomplete frame. Locked. */
int log_seg_scan(struct pp_log *log, struct log_part *part, struct log_seg *seg, int fd,
                 int64_t limit, int verify, int *torn);
int log_seg_index_add(struct log_seg *seg, int64_t offset, uint64_t pos);
/* Index of the segment holding offset (greatest base <= offset), or -1. Locked. */
int log_part_find_seg(const struct log_part *part, int64_t offset);
/* Map (creating when create) the hwm page of part. */
int log_shm_map(struct pp_log *log, struct log_part *part, int create);
void log_shm_publish(struct log_part *part, int64_t hwm);
int64_t log_shm_hwm(const struct log_part *part);
int64_t log_shm_low(const struct log_part *part);
/* Sleep up to ms until the hwm word changes from seq. */
void log_shm_wait(struct log_part *part, uint32_t seq, int ms);
uint32_t log_shm_seq(const struct log_part *part);
int log_fsync_dir(struct pp_log *log, const char *dir);

/* log.c */
/* Find a topic (rescanning the disk for readers when missing). NULL if unknown. */
struct log_topic *log_topic_get(struct pp_log *log, const char *topic);

/* sync.c */
int log_sync_start(struct pp_log *log);
void log_sync_stop(struct pp_log *log);
/* The writer's partition retention pass. */
int log_part_retention(struct pp_log *log, struct log_part *part, int64_t now_ms);

#endif
