/* group.c: consumer group committed offsets, one small file per group/topic/partition,
 * replaced atomically (temp + fsync + rename + fsync dir); usable from reader processes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kafka_int.h"
#include "log_int.h"
#include "pp_err.h"
#include "pp_util.h"

static int group_path(struct pp_log *log, const char *group, const char *topic, int partition,
                      char *dir, size_t dir_size, char *file, size_t file_size)
{
    if (!log_valid_name(group) || !log_valid_name(topic) || partition < 0)
        return PP_EINVAL;
    snprintf(dir, dir_size, "%s/groups/%s", log->dir, group);
    snprintf(file, file_size, "%s/%s.%d", dir, topic, partition);
    return 0;
}

/* Is meta a valid commit metadata string (NULL and "" are: none)? */
static int meta_valid(const char *meta)
{
    size_t n = 0;
    for (; meta && meta[n]; n++)
        if (meta[n] <= ' ' || meta[n] > '~')
            return 0;
    return n <= PP_LOG_META_MAX;
}

int pp_log_commit(struct pp_log *log, const char *group, const char *topic, int partition,
                  int64_t next_offset)
{
    return pp_log_commit_meta(log, group, topic, partition, next_offset, NULL);
}

int pp_log_commit_meta(struct pp_log *log, const char *group, const char *topic, int partition,
                       int64_t next_offset, const char *meta)
{
    if (!meta_valid(meta))
        return PP_EINVAL;
    if (log->kafka)
        return log_kafka_commit(log, group, topic, partition, next_offset, meta);
    char dir[LOG_PATH_MAX], file[LOG_PATH_MAX + 300], tmp[sizeof(file) + 40];
    char buf[32 + PP_LOG_META_MAX];
    int rc = group_path(log, group, topic, partition, dir, sizeof(dir), file, sizeof(file));
    if (rc)
        return rc;
    if (next_offset < 0)
        return PP_EINVAL;
    char top[LOG_DIR_MAX + 8];
    snprintf(top, sizeof(top), "%s/groups", log->dir);
    if ((mkdir(top, 0755) < 0 && errno != EEXIST) || (mkdir(dir, 0755) < 0 && errno != EEXIST))
        return PP_EIO;
    /* unique per process and thread, so two committers never share a temp file */
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld.%lu", file, (long)getpid(),
             (unsigned long)pthread_self());
    /* the offset line first: readers of older versions read only that */
    int n = snprintf(buf, sizeof(buf), "%lld\n%s%s", (long long)next_offset, meta ? meta : "",
                     meta && *meta ? "\n" : "");
    int fd = log->io->open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return PP_EIO;
    if (log->io->pwrite(fd, buf, (size_t)n, 0) != n || log->io->fsync(fd) < 0)
        rc = PP_EIO;
    if (log->io->close(fd) < 0)
        rc = PP_EIO;
    if (!rc && rename(tmp, file) < 0)
        rc = PP_EIO;
    if (rc) {
        unlink(tmp);
        return rc;
    }
    return log_fsync_dir(log, dir);
}

int pp_log_committed(struct pp_log *log, const char *group, const char *topic, int partition,
                     int64_t *next_offset)
{
    return pp_log_committed_meta(log, group, topic, partition, next_offset, NULL, 0);
}

int pp_log_committed_meta(struct pp_log *log, const char *group, const char *topic,
                          int partition, int64_t *next_offset, char *meta, size_t meta_size)
{
    if (meta && meta_size)
        meta[0] = '\0';
    if (log->kafka)
        return log_kafka_committed(log, group, topic, partition, next_offset, meta, meta_size);
    char dir[LOG_PATH_MAX], file[LOG_PATH_MAX + 300], buf[32 + PP_LOG_META_MAX + 2];
    int rc = group_path(log, group, topic, partition, dir, sizeof(dir), file, sizeof(file));
    if (rc)
        return rc;
    int fd = log->io->open(file, O_RDONLY, 0);
    if (fd < 0)
        return errno == ENOENT ? PP_ENOENT : PP_EIO;
    ssize_t n = log->io->pread(fd, buf, sizeof(buf) - 1, 0);
    log->io->close(fd);
    if (n <= 0)
        return n < 0 ? PP_EIO : PP_ECORRUPT;
    buf[n] = 0;
    char *rest = buf + strcspn(buf, "\n");
    if (*rest)
        *rest++ = 0;
    rest[strcspn(rest, "\n")] = 0;
    if (pp_parse_i64(buf, 0, INT64_MAX, next_offset) || !meta_valid(rest))
        return PP_ECORRUPT;
    if (meta && meta_size)
        snprintf(meta, meta_size, "%s", rest);
    return 0;
}

int pp_log_group_lock(struct pp_log *log, const char *group, int wait_ms, int *fd, char *why,
                      size_t why_size)
{
    char top[LOG_DIR_MAX + 8], path[LOG_DIR_MAX + LOG_NAME_MAX + 32];
    *fd = -1;
    if (log->kafka)
        return 0;
    if (!log_valid_name(group))
        return PP_EINVAL;
    snprintf(top, sizeof(top), "%s/groups", log->dir);
    /* '+' keeps it out of pp_log_groups' listing (not a valid group name) */
    snprintf(path, sizeof(path), "%s/%s+member.lock", top, group);
    if (mkdir(top, 0755) < 0 && errno != EEXIST) {
        snprintf(why, why_size, "mkdir %s: %s", top, strerror(errno));
        return PP_EIO;
    }
    int rc = pp_lock_file(path, wait_ms, why, why_size);
    if (rc < 0)
        return rc;
    *fd = rc;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int pp_log_groups(struct pp_log *log, char **names, int max)
{
    if (log->kafka)
        return log_kafka_groups(log, names, max);
    char path[LOG_PATH_MAX + 8];
    snprintf(path, sizeof(path), "%s/groups", log->dir);
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? 0 : PP_EIO;
    int n = 0;
    struct dirent *de;
    while (n < max && (de = readdir(d))) {
        if (!log_valid_name(de->d_name))
            continue;
        if (!(names[n] = strdup(de->d_name))) {
            while (n > 0)
                free(names[--n]);
            closedir(d);
            return PP_ENOMEM;
        }
        n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(*names), cmp_str);
    return n;
}

int pp_log_lag_each(struct pp_log *log, const char *group, const char *const *topics, int nt,
                    int (*cb)(void *arg, const struct pp_log_lag *l), void *arg)
{
    for (int t = 0; t < nt; t++) {
        int np = pp_log_partitions(log, topics[t], 0);
        for (int p = 0; p < np; p++) {
            struct pp_log_lag l = {topics[t], p, 0, 0, 0, -1, 0};
            l.err = pp_log_watermarks(log, topics[t], p, &l.low, &l.high);
            if (l.err)
                l.low = l.high = 0;
            if (group && pp_log_committed(log, group, topics[t], p, &l.committed))
                l.committed = -1;
            l.lag = l.committed >= 0 && l.high > l.committed ? l.high - l.committed : 0;
            int rc = cb(arg, &l);
            if (rc)
                return rc;
        }
    }
    return 0;
}
