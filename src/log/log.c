/* log.c: opening and closing the embedded log: the writer lock, topics and their partitions,
 * torn-tail recovery, watermarks and counters. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kafka_int.h"
#include "log_int.h"
#include "pp_err.h"
#include "pp_util.h"

void pp_log_conf_defaults(struct pp_log_conf *conf)
{
    memset(conf, 0, sizeof(*conf));
    conf->partitions = 2;
    conf->fsync = PP_FSYNC_ALWAYS;
    conf->fsync_interval_ms = 10;
    conf->segment_bytes = 64u << 20;
    conf->max_pending_bytes = 64u << 20;
}

static int mkdir_p(const char *path)
{
    char tmp[LOG_PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return PP_EINVAL;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return PP_EIO;
        *p = '/';
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
        return PP_EIO;
    return 0;
}

static int take_lock(struct pp_log *log, char *errstr, size_t errstr_size)
{
    char path[LOG_PATH_MAX + 8], buf[32];
    snprintf(path, sizeof(path), "%s/LOCK", log->dir);
    log->lock_fd = log->io->open(path, O_RDWR | O_CREAT, 0644);
    if (log->lock_fd < 0) {
        snprintf(errstr, errstr_size, "cannot open %s: %s", path, strerror(errno));
        return PP_EIO;
    }
    if (flock(log->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        ssize_t n = log->io->pread(log->lock_fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = 0;
        buf[strcspn(buf, "\n")] = 0;
        snprintf(errstr, errstr_size, "log dir %s is locked by another process (pid %s)", log->dir,
                 buf[0] ? buf : "?");
        return PP_EBUSY;
    }
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (log->io->ftruncate(log->lock_fd, 0) < 0 ||
        log->io->pwrite(log->lock_fd, buf, (size_t)n, 0) != n) {
        snprintf(errstr, errstr_size, "cannot write %s: %s", path, strerror(errno));
        return PP_EIO;
    }
    return 0;
}

/* Open the active (last) segment of a writer's partition, cutting a torn or corrupt tail. */
static int part_recover(struct pp_log *log, struct log_part *part)
{
    char path[LOG_PATH_MAX + 32];
    int rc, torn;
    if (part->nsegs == 0 && (rc = log_part_add_seg(part, 0)))
        return rc;
    struct log_seg *seg = &part->segs[part->nsegs - 1];
    log_seg_path(part, seg->base, path, sizeof(path));
    part->fd = log->io->open(path, O_RDWR | O_CREAT, 0644);
    if (part->fd < 0)
        return PP_EIO;
    struct stat sb;
    if (fstat(part->fd, &sb) < 0)
        return PP_EIO;
    seg->scan_off = seg->base;
    seg->scan_pos = 0;
    seg->nidx = 0;
    if ((rc = log_seg_scan(log, part, seg, part->fd, INT64_MAX, 1, &torn)))
        return rc;
    if ((uint64_t)sb.st_size > seg->scan_pos) {
        uint64_t cut = (uint64_t)sb.st_size - seg->scan_pos;
        if (log->io->ftruncate(part->fd, (off_t)seg->scan_pos) < 0 || log->io->fsync(part->fd) < 0)
            return PP_EIO;
        PP_WARN(LOG_MOD, "recovered partition %s/%d: cut %llu bytes", part->topic->name, part->id,
                (unsigned long long)cut);
        ADD(&log->st.recovered_cut, cut);
    }
    part->next = seg->scan_off;
    part->wpos = seg->bytes = seg->scan_pos;
    if ((rc = log_shm_map(log, part, 1)))
        return rc;
    STORE(&part->shm->low, part->segs[0].base);
    log_shm_publish(part, part->next);
    return 0;
}

static int part_init(struct pp_log *log, struct log_topic *t, int id)
{
    struct log_part *part = &t->parts[id];
    int rc;
    memset(part, 0, sizeof(*part));
    pthread_mutex_init(&part->mu, NULL);
    part->topic = t;
    part->id = id;
    part->fd = -1;
    snprintf(part->dir, sizeof(part->dir), "%s/topics/%s/%d", log->dir, t->name, id);
    if (log->conf.readonly) {
        log_shm_map(log, part, 0); /* absent until the writer made it: retried on use */
        rc = log_part_list(log, part);
        return rc == PP_ENOENT ? 0 : rc;
    }
    if ((rc = mkdir_p(part->dir)))
        return rc;
    if ((rc = log_part_list(log, part)) || (rc = part_recover(log, part)))
        return rc;
    return 0;
}

static void topic_free(struct pp_log *log, struct log_topic *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->nparts; i++)
        log_part_free(log, &t->parts[i]);
    free(t->parts);
    free(t);
}

static int topic_load(struct pp_log *log, const char *name, int nparts, struct log_topic **out)
{
    struct log_topic *t = calloc(1, sizeof(*t));
    if (!t || !(t->parts = calloc((size_t)nparts, sizeof(*t->parts)))) {
        free(t);
        return PP_ENOMEM;
    }
    snprintf(t->name, sizeof(t->name), "%s", name);
    int rc = 0;
    for (; t->nparts < nparts; t->nparts++)
        if ((rc = part_init(log, t, t->nparts))) {
            t->nparts++;
            topic_free(log, t);
            return rc;
        }
    *out = t;
    return 0;
}

static int topics_push(struct pp_log *log, struct log_topic *t)
{
    if (log->ntopics == log->captopics) {
        int cap = log->captopics ? log->captopics * 2 : 8;
        struct log_topic **x = realloc(log->topics, (size_t)cap * sizeof(*x));
        if (!x)
            return PP_ENOMEM;
        log->topics = x;
        log->captopics = cap;
    }
    log->topics[log->ntopics++] = t;
    return 0;
}

static struct log_topic *topic_find(struct pp_log *log, const char *name)
{
    for (int i = 0; i < log->ntopics; i++)
        if (!strcmp(log->topics[i]->name, name))
            return log->topics[i];
    return NULL;
}

static int read_meta(struct pp_log *log, const char *name)
{
    char path[LOG_PATH_MAX + LOG_NAME_MAX + 16], buf[64];
    snprintf(path, sizeof(path), "%s/topics/%s/meta", log->dir, name);
    int fd = log->io->open(path, O_RDONLY, 0);
    if (fd < 0)
        return PP_ENOENT;
    ssize_t n = log->io->pread(fd, buf, sizeof(buf) - 1, 0);
    log->io->close(fd);
    if (n <= 0)
        return PP_ECORRUPT;
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    int64_t v;
    if (strncmp(buf, "partitions ", 11) || pp_parse_i64(buf + 11, 1, 100000, &v))
        return PP_ECORRUPT;
    return (int)v;
}

/* Load topics present on disk but not in memory. Caller holds topics_lk for writing. */
static int scan_topics(struct pp_log *log)
{
    char path[LOG_PATH_MAX + 8];
    snprintf(path, sizeof(path), "%s/topics", log->dir);
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? 0 : PP_EIO;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        if (!log_valid_name(de->d_name) || topic_find(log, de->d_name))
            continue;
        int nparts = read_meta(log, de->d_name);
        if (nparts < 0)
            continue; /* not (yet) a complete topic */
        struct log_topic *t;
        if ((rc = topic_load(log, de->d_name, nparts, &t)))
            break;
        if ((rc = topics_push(log, t))) {
            topic_free(log, t);
            break;
        }
    }
    closedir(d);
    return rc;
}

static int write_meta(struct pp_log *log, const char *name, int nparts)
{
    char path[LOG_PATH_MAX + LOG_NAME_MAX + 16], tmp[sizeof(path) + 8], buf[64];
    snprintf(path, sizeof(path), "%s/topics/%s/meta", log->dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int n = snprintf(buf, sizeof(buf), "partitions %d\n", nparts);
    int fd = log->io->open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return PP_EIO;
    int rc = log->io->pwrite(fd, buf, (size_t)n, 0) != n || log->io->fsync(fd) < 0 ? PP_EIO : 0;
    log->io->close(fd);
    if (!rc && rename(tmp, path) < 0)
        rc = PP_EIO;
    return rc;
}

static int topic_create(struct pp_log *log, const char *name, struct log_topic **out)
{
    char path[LOG_PATH_MAX + LOG_NAME_MAX + 16];
    int nparts = log->conf.partitions > 0 ? log->conf.partitions : 2, rc;
    struct log_topic *t = NULL;
    snprintf(path, sizeof(path), "%s/topics/%s", log->dir, name);
    if ((rc = mkdir_p(path)) || (rc = topic_load(log, name, nparts, &t)))
        return rc;
    for (int i = 0; i < nparts && !rc; i++)
        rc = log_fsync_dir(log, t->parts[i].dir);
    if (!rc && !(rc = write_meta(log, name, nparts)) && !(rc = log_fsync_dir(log, path))) {
        snprintf(path, sizeof(path), "%s/topics", log->dir);
        rc = log_fsync_dir(log, path);
    }
    if (!rc)
        rc = topics_push(log, t);
    if (rc) {
        topic_free(log, t);
        return rc;
    }
    *out = t;
    return 0;
}

struct log_topic *log_topic_get(struct pp_log *log, const char *topic)
{
    pthread_rwlock_rdlock(&log->topics_lk);
    struct log_topic *t = topic_find(log, topic);
    pthread_rwlock_unlock(&log->topics_lk);
    if (t || !log->conf.readonly)
        return t;
    pthread_rwlock_wrlock(&log->topics_lk);
    scan_topics(log);
    t = topic_find(log, topic);
    pthread_rwlock_unlock(&log->topics_lk);
    return t;
}

int pp_log_partitions(struct pp_log *log, const char *topic, int create)
{
    if (log->kafka)
        return log_kafka_partitions(log, topic, create);
    struct log_topic *t = log_topic_get(log, topic);
    if (t)
        return t->nparts;
    if (!create || log->conf.readonly)
        return PP_ENOENT;
    if (!log_valid_name(topic))
        return PP_EINVAL;
    int rc;
    pthread_rwlock_wrlock(&log->topics_lk);
    if (!(t = topic_find(log, topic)))
        rc = topic_create(log, topic, &t);
    else
        rc = 0;
    pthread_rwlock_unlock(&log->topics_lk);
    return rc ? rc : t->nparts;
}

int pp_log_topics(struct pp_log *log, const char **names, int max)
{
    if (log->kafka)
        return log_kafka_topics(log, names, max);
    pthread_rwlock_wrlock(&log->topics_lk);
    if (log->conf.readonly)
        scan_topics(log);
    int n = 0;
    for (; n < log->ntopics && n < max; n++)
        names[n] = log->topics[n]->name;
    pthread_rwlock_unlock(&log->topics_lk);
    return n;
}

int pp_log_watermarks(struct pp_log *log, const char *topic, int partition, int64_t *low,
                      int64_t *high)
{
    if (log->kafka)
        return log_kafka_watermarks(log, topic, partition, low, high);
    struct log_topic *t = log_topic_get(log, topic);
    if (!t || partition < 0 || partition >= t->nparts)
        return PP_ENOENT;
    struct log_part *part = &t->parts[partition];
    if (!part->shm) {
        pthread_mutex_lock(&part->mu);
        if (!part->shm)
            log_shm_map(log, part, 0);
        pthread_mutex_unlock(&part->mu);
    }
    *high = log_shm_hwm(part);
    *low = log_shm_low(part);
    if (*low > *high)
        *low = *high;
    return 0;
}

void pp_log_stats(struct pp_log *log, struct pp_log_stats *st)
{
    if (log->kafka) {
        log_kafka_stats(log, st);
        return;
    }
    st->appends = LOAD(&log->st.appends);
    st->append_bytes = LOAD(&log->st.append_bytes);
    st->fsyncs = LOAD(&log->st.fsyncs);
    st->sync_rounds = LOAD(&log->st.sync_rounds);
    st->efull = LOAD(&log->st.efull);
    st->pending_bytes = LOAD(&log->st.pending_bytes);
    st->recovered_cut = LOAD(&log->st.recovered_cut);
    st->segments_deleted = LOAD(&log->st.segments_deleted);
    pp_hist_copy(&st->append_lat, &log->st.append_lat);
    pp_hist_copy(&st->fsync_lat, &log->st.fsync_lat);
}

static void log_free(struct pp_log *log)
{
    for (int i = 0; i < log->ntopics; i++)
        topic_free(log, log->topics[i]);
    free(log->topics);
    free(log->cbs);
    if (log->lock_fd >= 0)
        log->io->close(log->lock_fd); /* releases the flock */
    pthread_rwlock_destroy(&log->topics_lk);
    pthread_mutex_destroy(&log->sync_mu);
    pthread_mutex_destroy(&log->group_mu);
    pthread_cond_destroy(&log->sync_cv);
    pthread_cond_destroy(&log->durable_cv);
    free(log);
}

/* The Kafka backend: a pp_log whose calls all go to kafka*.c. */
static struct pp_log *open_kafka(const struct pp_log_conf *conf, char *errstr, size_t errstr_size)
{
    struct pp_log *log = calloc(1, sizeof(*log));
    if (!log) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    log->conf = *conf;
    log->conf.dir = NULL;
    log->conf.io = NULL;
    log->lock_fd = -1;
    if (log_kafka_open(log, errstr, errstr_size)) {
        log_kafka_close(log);
        free(log);
        return NULL;
    }
    return log;
}

struct pp_log *pp_log_open(const struct pp_log_conf *conf, char *errstr, size_t errstr_size)
{
    char path[LOG_PATH_MAX + 8];
    struct stat sb;
    int rc;
    if (conf->backend == PP_LOG_KAFKA)
        return open_kafka(conf, errstr, errstr_size);
    if (!conf->dir || !conf->dir[0] || strlen(conf->dir) >= LOG_DIR_MAX) {
        snprintf(errstr, errstr_size, "log dir not set or too long");
        return NULL;
    }
    struct pp_log *log = calloc(1, sizeof(*log));
    if (!log) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    log->conf = *conf;
    log->io = conf->io ? conf->io : &pp_io_posix;
    log->lock_fd = -1;
    snprintf(log->dir, sizeof(log->dir), "%s", conf->dir);
    log->conf.dir = log->dir;
    pthread_rwlock_init(&log->topics_lk, NULL);
    pthread_mutex_init(&log->sync_mu, NULL);
    pthread_mutex_init(&log->group_mu, NULL);
    pthread_condattr_t ca; /* waits use CLOCK_MONOTONIC deadlines */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&log->sync_cv, &ca);
    pthread_cond_init(&log->durable_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (log->conf.segment_bytes < 1024)
        log->conf.segment_bytes = 1024;
    if (log->conf.fsync_interval_ms < 1)
        log->conf.fsync_interval_ms = 1;

    if (conf->readonly) {
        snprintf(path, sizeof(path), "%s/topics", log->dir);
        if (stat(path, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
            snprintf(errstr, errstr_size, "no log at %s", log->dir);
            goto fail;
        }
    } else {
        if (mkdir_p(log->dir) || snprintf(path, sizeof(path), "%s/topics", log->dir) < 0 ||
            mkdir_p(path) || snprintf(path, sizeof(path), "%s/groups", log->dir) < 0 ||
            mkdir_p(path)) {
            snprintf(errstr, errstr_size, "cannot create log dir %s: %s", log->dir,
                     strerror(errno));
            goto fail;
        }
        if (take_lock(log, errstr, errstr_size))
            goto fail;
    }
    if ((rc = scan_topics(log))) {
        snprintf(errstr, errstr_size, "cannot open log %s: %s (%s)", log->dir, pp_err_str(rc),
                 strerror(errno));
        goto fail;
    }
    if (!conf->readonly && (rc = log_sync_start(log))) {
        snprintf(errstr, errstr_size, "cannot start the log's sync thread");
        goto fail;
    }
    return log;
fail:
    log_free(log);
    return NULL;
}

void pp_log_close(struct pp_log *log)
{
    if (!log)
        return;
    if (log->kafka) {
        log_kafka_close(log);
        free(log);
        return;
    }
    pthread_mutex_lock(&log->sync_mu);
    STORE(&log->closing, 1);
    pthread_cond_broadcast(&log->sync_cv);
    pthread_cond_broadcast(&log->durable_cv);
    pthread_mutex_unlock(&log->sync_mu);
    /* appends, waits and reads in flight see closing and leave */
    while (LOAD(&log->active) > 0) {
        pthread_mutex_lock(&log->sync_mu);
        pthread_cond_broadcast(&log->durable_cv);
        pthread_mutex_unlock(&log->sync_mu);
        usleep(1000);
    }
    if (log->sync_started)
        log_sync_stop(log);
    log_free(log);
}
