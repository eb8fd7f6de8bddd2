/* local.c: the lake as a local folder: Hive-style JSON-lines files, temp + fsync + rename;
 * also the one public API, dispatching object storage to s3.c for s3:// roots. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lake_s3.h"
#include "pp_err.h"
#include "pp_lake.h"
#include "pp_util.h"

#define LAKE_BUF_SIZE (64 * 1024) /* write buffer per open file */
#define LAKE_TOPIC_MAX 200
#define LAKE_PATH_MAX 4096
#define DAY_MS 86400000LL
/* S3: largest roll size (an object may pass it by one record; CopyObject's limit is 5 GiB) */
#define LAKE_S3_ROLL_MAX (4ULL << 30)

/* State of one (topic, partition): at most one open (temp) file. */
struct lake_part {
    char topic[LAKE_TOPIC_MAX + 1];
    int partition;
    int64_t last_offset; /* last offset written, -1 none (offsets must increase) */
    int err;             /* sticky: after a failed file, nothing more until truncate_from */
    /* the open file, fd < 0 and obj NULL when none */
    int fd;
    struct pp_lake_s3_obj *obj; /* S3: the object being written */
    int64_t start;              /* first offset in the file */
    int64_t next;               /* last offset in the file + 1 */
    int64_t day;                /* UTC day number of the file (ingest ts of its first record) */
    int64_t opened_ms;          /* wall clock when the file was opened (age rolls) */
    uint64_t bytes;             /* bytes in the file, buffered ones included */
    char *buf;                  /* LAKE_BUF_SIZE bytes of buffered, unwritten data */
    size_t blen;
    /* finished files not yet reported by pp_lake_flush; uncommitted: reported, but the
     * callback did not commit them (reported again at the next flush) */
    int unreported, uncommitted;
    int64_t commit_next;
    struct pp_lake_s3_tp *s3tp; /* S3: pending objects, token, resume's garbage */
    int lock_fd; /* ownership: flock'ed <root>/.owners/<topic>+<partition>.lock, else -1 */
};

struct pp_lake {
    char *root;
    uint64_t roll_bytes;
    int64_t roll_ms;
    int64_t close_grace_ms; /* pp_lake_conf.close_grace_ms */
    struct lake_part **parts;
    int nparts, cap;
    struct pp_lake_s3 *s3; /* S3 root, else NULL */
    int fencing;           /* pp_lake_own was called: writes need ownership (local lakes) */
    char msg[LAKE_PATH_MAX + 256]; /* last ownership error (local lakes) */
};

static int part_is_open(const struct lake_part *part)
{
    return part->fd >= 0 || part->obj;
}

void pp_lake_conf_defaults(struct pp_lake_conf *conf)
{
    conf->root = NULL;
    conf->roll_bytes = 64ULL * 1024 * 1024;
    conf->roll_ms = 60000;
    conf->s3_endpoint = NULL;
    conf->s3_region = NULL;
    conf->s3_path_style = 0;
    conf->s3_part_bytes = 0;
    conf->close_grace_ms = -1;
}

int64_t pp_lake_close_grace(const struct pp_lake *lake)
{
    return lake->close_grace_ms;
}

const char *pp_lake_errmsg(const struct pp_lake *lake)
{
    return lake->s3 ? pp_lake_s3_errmsg(lake->s3) : lake->msg;
}

static int64_t day_of(int64_t ts_ms)
{
    return ts_ms / DAY_MS - (ts_ms % DAY_MS < 0);
}

/* Topic names become directory and file names: no '/', no leading '.', printable. */
static int topic_valid(const char *topic)
{
    size_t n = strlen(topic);
    if (n == 0 || n > LAKE_TOPIC_MAX || topic[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)topic[i];
        if (c == '/' || c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

static int fmt(char *out, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));
static int fmt(char *out, size_t size, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(out, size, f, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= size ? PP_ETOOBIG : 0;
}

int pp_lake_path(const char *topic, int partition, int64_t start_offset, int64_t ts_ms, char *out,
                 size_t size)
{
    char date[16];
    if (!topic_valid(topic) || partition < 0 || start_offset < 0)
        return PP_EINVAL;
    pp_date_format(ts_ms, date, sizeof(date));
    return fmt(out, size, "topic=%s/dt=%s/%s+%d+%010" PRId64 ".jsonl", topic, date, topic,
               partition, start_offset);
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return PP_EIO;
    int rc = fsync(fd) ? PP_EIO : 0;
    close(fd);
    return rc;
}

/* mkdir -p of root + "/" + rel (rel's components only), fsyncing the parent of each new dir. */
static int mkdirs(const char *root, const char *rel)
{
    char path[LAKE_PATH_MAX];
    if (fmt(path, sizeof(path), "%s/%s", root, rel))
        return PP_ETOOBIG;
    size_t skip = strlen(root) + 1;
    for (char *p = path + skip;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, 0755) == 0) {
            char *slash = strrchr(path, '/');
            *slash = '\0';
            int rc = fsync_dir(path);
            *slash = '/';
            if (rc)
                return rc;
        } else if (errno != EEXIST) {
            return PP_EIO;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    return 0;
}

struct pp_lake *pp_lake_open(const struct pp_lake_conf *conf, char *errstr, size_t errstr_size)
{
    if (!conf->root || !conf->root[0]) {
        snprintf(errstr, errstr_size, "lake root not set");
        return NULL;
    }
    if (pp_lake_s3_is_root(conf->root)) {
        struct pp_lake *lake = calloc(1, sizeof(*lake));
        if (!lake || !(lake->root = strdup(conf->root))) {
            free(lake);
            snprintf(errstr, errstr_size, "out of memory");
            return NULL;
        }
        lake->roll_bytes = conf->roll_bytes ? conf->roll_bytes : 64ULL * 1024 * 1024;
        lake->roll_ms = conf->roll_ms > 0 ? conf->roll_ms : 60000;
        lake->close_grace_ms = conf->close_grace_ms;
        if (lake->roll_bytes > LAKE_S3_ROLL_MAX)
            snprintf(errstr, errstr_size,
                     "roll size %llu bytes is past 4 GiB: S3 lake objects are published by "
                     "CopyObject, which takes objects of up to 5 GiB (lower --roll-bytes)",
                     (unsigned long long)lake->roll_bytes);
        if (lake->roll_bytes > LAKE_S3_ROLL_MAX ||
            !(lake->s3 = pp_lake_s3_open(conf, errstr, errstr_size))) {
            free(lake->root);
            free(lake);
            return NULL;
        }
        return lake;
    }
    if (mkdir(conf->root, 0755) && errno != EEXIST) {
        snprintf(errstr, errstr_size, "mkdir %s: %s", conf->root, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (stat(conf->root, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(errstr, errstr_size, "%s: not a directory", conf->root);
        return NULL;
    }
    struct pp_lake *lake = calloc(1, sizeof(*lake));
    if (!lake || !(lake->root = strdup(conf->root))) {
        free(lake);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    size_t n = strlen(lake->root);
    while (n > 1 && lake->root[n - 1] == '/')
        lake->root[--n] = '\0';
    lake->close_grace_ms = conf->close_grace_ms;
    lake->roll_bytes = conf->roll_bytes ? conf->roll_bytes : 64ULL * 1024 * 1024;
    lake->roll_ms = conf->roll_ms > 0 ? conf->roll_ms : 60000;
    return lake;
}

/* Drop the open file of part without finishing it (its temp stays unless unlink_tmp). */
static void part_abandon(struct pp_lake *lake, struct lake_part *part, int unlink_tmp)
{
    if (part->obj) { /* S3: nothing is visible; drop the upload */
        pp_lake_s3_obj_abort(part->obj);
        part->obj = NULL;
        part->blen = 0;
        return;
    }
    if (part->fd < 0)
        return;
    close(part->fd);
    part->fd = -1;
    part->blen = 0;
    if (unlink_tmp) {
        char rel[LAKE_PATH_MAX], tmp[LAKE_PATH_MAX];
        if (!pp_lake_path(part->topic, part->partition, part->start, part->day * DAY_MS, rel,
                          sizeof(rel))) {
            char *slash = strrchr(rel, '/');
            *slash = '\0';
            if (!fmt(tmp, sizeof(tmp), "%s/%s/.%s.%d.tmp", lake->root, rel, slash + 1,
                     (int)getpid()))
                unlink(tmp);
        }
    }
}

void pp_lake_close(struct pp_lake *lake)
{
    if (!lake)
        return;
    for (int i = 0; i < lake->nparts; i++) {
        part_abandon(lake, lake->parts[i], 0);
        if (lake->parts[i]->lock_fd >= 0)
            close(lake->parts[i]->lock_fd); /* releases the flock */
        free(lake->parts[i]->buf);
        pp_lake_s3_tp_free(lake->parts[i]->s3tp);
        free(lake->parts[i]);
    }
    free(lake->parts);
    pp_lake_s3_close(lake->s3);
    free(lake->root);
    free(lake);
}

static struct lake_part *part_get(struct pp_lake *lake, const char *topic, int partition,
                                  int create)
{
    for (int i = 0; i < lake->nparts; i++)
        if (lake->parts[i]->partition == partition && !strcmp(lake->parts[i]->topic, topic))
            return lake->parts[i];
    if (!create)
        return NULL;
    if (lake->nparts == lake->cap) {
        int cap = lake->cap ? lake->cap * 2 : 8;
        struct lake_part **parts = realloc(lake->parts, (size_t)cap * sizeof(*parts));
        if (!parts)
            return NULL;
        lake->parts = parts;
        lake->cap = cap;
    }
    struct lake_part *part = calloc(1, sizeof(*part));
    if (!part)
        return NULL;
    snprintf(part->topic, sizeof(part->topic), "%s", topic);
    part->partition = partition;
    part->last_offset = -1;
    part->fd = -1;
    part->lock_fd = -1;
    lake->parts[lake->nparts++] = part;
    return part;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return PP_EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int part_drain(struct lake_part *part)
{
    int rc = part->obj ? pp_lake_s3_obj_append(part->obj, part->buf, part->blen)
                       : write_all(part->fd, part->buf, part->blen);
    part->blen = 0;
    return rc;
}

/* Paths of part's open file: dir (absolute), tmp and final (absolute). */
static int part_paths(struct pp_lake *lake, struct lake_part *part, char *dir, char *tmp,
                      char *final)
{
    char rel[LAKE_PATH_MAX];
    int rc = pp_lake_path(part->topic, part->partition, part->start, part->day * DAY_MS, rel,
                          sizeof(rel));
    if (rc)
        return rc;
    char *name = strrchr(rel, '/') + 1;
    name[-1] = '\0';
    if (fmt(dir, LAKE_PATH_MAX, "%s/%s", lake->root, rel) ||
        /* the temp is this process's own (two workers never share one), the name is not */
        fmt(tmp, LAKE_PATH_MAX, "%s/.%s.%d.tmp", dir, name, (int)getpid()) ||
        fmt(final, LAKE_PATH_MAX, "%s/%s", dir, name))
        return PP_ETOOBIG;
    return 0;
}

static int part_start(struct pp_lake *lake, struct lake_part *part, int64_t offset, int64_t day)
{
    char dir[LAKE_PATH_MAX], tmp[LAKE_PATH_MAX], final[LAKE_PATH_MAX], rel[LAKE_PATH_MAX];
    if (!part->buf && !(part->buf = malloc(LAKE_BUF_SIZE)))
        return PP_ENOMEM;
    part->start = offset;
    part->next = offset;
    part->day = day;
    if (lake->s3) {
        if (!part->s3tp && !(part->s3tp = pp_lake_s3_tp_new(part->topic, part->partition)))
            return PP_ENOMEM;
        int rc = pp_lake_s3_obj_open(lake->s3, part->s3tp, offset, day * DAY_MS, &part->obj);
        if (rc)
            return rc;
        part->opened_ms = pp_now_ms();
        part->bytes = 0;
        part->blen = 0;
        return 0;
    }
    int rc = part_paths(lake, part, dir, tmp, final);
    if (rc)
        return rc;
    if (fmt(rel, sizeof(rel), "%s", dir + strlen(lake->root) + 1))
        return PP_ETOOBIG;
    if ((rc = mkdirs(lake->root, rel)))
        return rc;
    part->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (part->fd < 0)
        return PP_EIO;
    part->opened_ms = pp_now_ms();
    part->bytes = 0;
    part->blen = 0;
    return 0;
}

/* May this process change the files of (topic, partition), whose state is part (NULL: none
 * yet)? Local lakes under ownership (pp_lake_own) need the partition's lock, held since before
 * the truncate that started its files. @returns 0 or PP_EBUSY. */
static int part_fenced(struct pp_lake *lake, const struct lake_part *part, const char *topic,
                       int partition)
{
    if (!lake->fencing || lake->s3 || (part && part->lock_fd >= 0))
        return 0;
    snprintf(lake->msg, sizeof(lake->msg), "%s+%d is not owned by this process (pp_lake_own)",
             topic, partition);
    return PP_EBUSY;
}

/* Finish part's open file: drain, fsync, rename to the final name, fsync the directory. */
static int part_finish(struct pp_lake *lake, struct lake_part *part)
{
    char dir[LAKE_PATH_MAX], tmp[LAKE_PATH_MAX], final[LAKE_PATH_MAX];
    int fenced = part_fenced(lake, part, part->topic, part->partition);
    if (fenced) {
        part_abandon(lake, part, 1);
        return fenced;
    }
    if (part->obj) { /* S3: finished under its pending key, published after the commit */
        int rc = part_drain(part);
        struct pp_lake_s3_obj *obj = part->obj;
        part->obj = NULL;
        if (rc) {
            pp_lake_s3_obj_abort(obj);
            return rc;
        }
        if ((rc = pp_lake_s3_obj_finish(obj)))
            return rc;
        part->unreported++;
        part->commit_next = part->next;
        return 0;
    }
    if (part->fd < 0)
        return 0;
    int rc = part_paths(lake, part, dir, tmp, final);
    if (!rc)
        rc = part_drain(part);
    if (!rc && fsync(part->fd))
        rc = PP_EIO;
    close(part->fd);
    part->fd = -1;
    if (!rc && rename(tmp, final))
        rc = PP_EIO;
    if (!rc)
        rc = fsync_dir(dir);
    if (rc)
        return rc;
    part->unreported++;
    part->commit_next = part->next;
    return 0;
}

static int write_rec(struct pp_lake *lake, struct lake_part *part, int64_t offset, int64_t day,
                     const char *value, size_t vlen);

int pp_lake_write(struct pp_lake *lake, const char *topic, int partition, int64_t offset,
                  int64_t ts_ms, const char *value, size_t vlen)
{
    if (!topic_valid(topic) || partition < 0 || offset < 0)
        return PP_EINVAL;
    struct lake_part *part = part_get(lake, topic, partition, 1);
    if (!part)
        return PP_ENOMEM;
    if (part->err)
        return part->err;
    if (offset <= part->last_offset)
        return PP_EINVAL;
    int fenced = part_fenced(lake, part, part->topic, part->partition);
    if (fenced)
        return fenced;
    int64_t day = day_of(ts_ms);
    int rc = write_rec(lake, part, offset, day, value, vlen);
    if (rc && rc != PP_ENOMEM && rc != PP_ETOOBIG) {
        part_abandon(lake, part, 1);
        part->err = rc; /* records of a half-written file must not be skipped later */
    }
    return rc;
}

static int write_rec(struct pp_lake *lake, struct lake_part *part, int64_t offset, int64_t day,
                     const char *value, size_t vlen)
{
    int rc;
    if (part_is_open(part) && part->day != day && (rc = part_finish(lake, part)))
        return rc;
    if (!part_is_open(part) && (rc = part_start(lake, part, offset, day)))
        return rc;
    /* Copy through the buffer, turning CR/LF (only possible as JSON whitespace) into spaces. */
    for (size_t i = 0; i < vlen;) {
        if (part->blen == LAKE_BUF_SIZE && (rc = part_drain(part)))
            return rc;
        size_t take = LAKE_BUF_SIZE - part->blen;
        if (take > vlen - i)
            take = vlen - i;
        char *dst = part->buf + part->blen;
        memcpy(dst, value + i, take);
        for (size_t j = 0; j < take; j++)
            if (dst[j] == '\n' || dst[j] == '\r')
                dst[j] = ' ';
        part->blen += take;
        i += take;
    }
    if (part->blen == LAKE_BUF_SIZE && (rc = part_drain(part)))
        return rc;
    part->buf[part->blen++] = '\n';
    part->bytes += vlen + 1;
    part->next = offset + 1;
    part->last_offset = offset;
    if (part->bytes >= lake->roll_bytes)
        return part_finish(lake, part);
    return 0;
}

int pp_lake_flush(struct pp_lake *lake, int64_t now_ms, int force, pp_lake_commit_cb cb,
                  void *arg)
{
    int finished = 0, err = 0;
    for (int i = 0; i < lake->nparts; i++) {
        struct lake_part *part = lake->parts[i];
        if (part_is_open(part) && (force || part->bytes >= lake->roll_bytes ||
                                   now_ms - part->opened_ms >= lake->roll_ms)) {
            int rc = part_finish(lake, part);
            if (rc) {
                part_abandon(lake, part, 1);
                part->err = rc;
            }
        }
        if (part->err && !err)
            err = part->err;
        if (part->unreported || part->uncommitted) {
            char meta[PP_LAKE_META_MAX + 1] = "";
            finished += part->unreported;
            part->unreported = 0;
            if (part->s3tp && pp_lake_s3_tp_meta(part->s3tp, meta, sizeof(meta)))
                meta[0] = '\0'; /* not reached: a token is 16 hex digits */
            part->uncommitted = cb && cb(arg, part->topic, part->partition, part->commit_next,
                                         part->s3tp ? meta : NULL);
            int rc = !part->uncommitted && part->s3tp && !part->err
                         ? pp_lake_s3_tp_committed(lake->s3, part->s3tp, part->commit_next)
                         : 0;
            if (rc < 0) {
                part_abandon(lake, part, 1);
                part->err = rc;
                if (!err)
                    err = rc;
            }
        }
    }
    return err ? err : finished;
}

/* (lake_s3.h) */
int pp_lake_parse_offset(const char *p, const char **end, int64_t *v)
{
    const char *q = p;
    int64_t n = 0;
    for (; *q >= '0' && *q <= '9'; q++) {
        int d = *q - '0';
        if (n > (INT64_MAX - d) / 10) {
            while (q[1] >= '0' && q[1] <= '9')
                q++;
            *end = q + 1;
            return PP_ERANGE;
        }
        n = n * 10 + d;
    }
    *end = q;
    if (q == p)
        return PP_EPARSE;
    *v = n;
    return 0;
}

/* (lake_s3.h) Parse "<topic>+<partition>+<digits>.jsonl" (or, when tmp, a temp: a leading '.'
 * and ".<pid>.tmp" -- or ".tmp", as older versions named them -- after it) for the given topic
 * and partition. A start past INT64_MAX is no lake file (0), never a wrapped offset.
 * @returns 1 and *start, or 0 when not such a file. */
int pp_lake_parse_name(const char *name, const char *prefix, int tmp, int64_t *start)
{
    if (tmp) {
        if (name[0] != '.')
            return 0;
        name++;
    }
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl))
        return 0;
    const char *q;
    int64_t v;
    if (pp_lake_parse_offset(name + pl, &q, &v) || strncmp(q, ".jsonl", 6))
        return 0;
    q += 6;
    if (tmp && *q == '.' && q[1] >= '0' && q[1] <= '9') { /* ".<pid>" */
        q++;
        while (*q >= '0' && *q <= '9')
            q++;
    }
    if (strcmp(q, tmp ? ".tmp" : ""))
        return 0;
    *start = v;
    return 1;
}

void pp_lake_drop(struct pp_lake *lake, const char *topic, int partition)
{
    struct lake_part *part = topic_valid(topic) && partition >= 0
                                 ? part_get(lake, topic, partition, 0)
                                 : NULL;
    if (!part)
        return;
    part_abandon(lake, part, 1);
    part->last_offset = -1;
    part->unreported = part->uncommitted = 0;
    part->err = 0;
    pp_lake_s3_tp_drop(part->s3tp);
    if (part->lock_fd >= 0) {
        close(part->lock_fd); /* releases the flock */
        part->lock_fd = -1;
    }
}

int pp_lake_own(struct pp_lake *lake, const char *topic, int partition, int wait_ms)
{
    char dir[LAKE_PATH_MAX], path[LAKE_PATH_MAX];
    lake->msg[0] = '\0';
    if (!topic_valid(topic) || partition < 0)
        return PP_EINVAL;
    if (lake->s3) /* no lock on S3: see pp_lake.h */
        return 0;
    struct lake_part *part = part_get(lake, topic, partition, 1);
    if (!part)
        return PP_ENOMEM;
    lake->fencing = 1;
    if (part->lock_fd >= 0)
        return 0;
    if (fmt(dir, sizeof(dir), "%s/.owners", lake->root) ||
        fmt(path, sizeof(path), "%s/%s+%d.lock", dir, topic, partition))
        return PP_ETOOBIG;
    if (mkdir(dir, 0755) && errno != EEXIST) {
        snprintf(lake->msg, sizeof(lake->msg), "mkdir %s: %s", dir, strerror(errno));
        return PP_EIO;
    }
    char why[256];
    int fd = pp_lock_file(path, wait_ms, why, sizeof(why));
    if (fd == PP_EBUSY) {
        snprintf(lake->msg, sizeof(lake->msg), "%s+%d is held by another lake writer (%s)",
                 topic, partition, why);
        return PP_EBUSY;
    }
    if (fd < 0) {
        snprintf(lake->msg, sizeof(lake->msg), "%s", why);
        return PP_EIO;
    }
    part->lock_fd = fd;
    return 0;
}

int pp_lake_truncate_from(struct pp_lake *lake, const char *topic, int partition, int64_t offset)
{
    char tdir[LAKE_PATH_MAX], prefix[LAKE_TOPIC_MAX + 32];
    if (!topic_valid(topic) || partition < 0)
        return PP_EINVAL;
    struct lake_part *part = part_get(lake, topic, partition, 0);
    int fenced = part_fenced(lake, part, topic, partition);
    if (fenced)
        return fenced;
    if (part) {
        part_abandon(lake, part, 1);
        part->last_offset = -1;
        part->unreported = part->uncommitted = 0;
        part->err = 0;
        pp_lake_s3_tp_drop(part->s3tp);
    }
    if (lake->s3)
        return pp_lake_s3_truncate(lake->s3, topic, partition, offset);
    if (fmt(tdir, sizeof(tdir), "%s/topic=%s", lake->root, topic) ||
        fmt(prefix, sizeof(prefix), "%s+%d+", topic, partition))
        return PP_ETOOBIG;
    DIR *td = opendir(tdir);
    if (!td)
        return errno == ENOENT ? 0 : PP_EIO;
    int deleted = 0, rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(td))) {
        char ddir[LAKE_PATH_MAX], path[LAKE_PATH_MAX];
        if (strncmp(de->d_name, "dt=", 3) || fmt(ddir, sizeof(ddir), "%s/%s", tdir, de->d_name))
            continue;
        DIR *dd = opendir(ddir);
        if (!dd)
            continue;
        int changed = 0;
        struct dirent *fe;
        while ((fe = readdir(dd))) {
            int64_t start;
            int tmp = pp_lake_parse_name(fe->d_name, prefix, 1, &start);
            if (!tmp && !(pp_lake_parse_name(fe->d_name, prefix, 0, &start) && start >= offset))
                continue;
            if (fmt(path, sizeof(path), "%s/%s", ddir, fe->d_name))
                continue;
            if (unlink(path) && errno != ENOENT) {
                rc = PP_EIO;
                break;
            }
            changed = 1;
            deleted += !tmp;
        }
        closedir(dd);
        if (changed && !rc)
            rc = fsync_dir(ddir);
    }
    closedir(td);
    return rc ? rc : deleted;
}

int pp_lake_resume(struct pp_lake *lake, const char *topic, int partition, int64_t offset,
                   const char *meta)
{
    if (!lake->s3)
        return pp_lake_truncate_from(lake, topic, partition, offset);
    if (!topic_valid(topic) || partition < 0 || offset < 0)
        return PP_EINVAL;
    struct lake_part *part = part_get(lake, topic, partition, 1);
    if (!part || (!part->s3tp && !(part->s3tp = pp_lake_s3_tp_new(topic, partition))))
        return PP_ENOMEM;
    part_abandon(lake, part, 1);
    part->last_offset = -1;
    part->unreported = part->uncommitted = 0;
    part->err = 0;
    int rc = pp_lake_s3_tp_resume(lake->s3, part->s3tp, offset, meta);
    if (rc > 0) { /* the garbage goes after the next commit: make one at the next flush */
        part->uncommitted = 1;
        part->commit_next = offset;
    }
    return rc;
}

int pp_lake_fence(struct pp_lake *lake, const char *topic, int partition, pp_lake_commit_cb cb,
                  void *arg)
{
    struct lake_part *part = lake->s3 && topic_valid(topic) && partition >= 0
                                 ? part_get(lake, topic, partition, 0)
                                 : NULL;
    char meta[PP_LAKE_META_MAX + 1];
    if (!part || !part->s3tp || !part->uncommitted || !cb)
        return 0;
    if (pp_lake_s3_tp_meta(part->s3tp, meta, sizeof(meta)) ||
        cb(arg, topic, partition, part->commit_next, meta)) {
        /* the next flush retries the commit, but by then files may move the offset past the
         * stale objects: never delete those any more (other pending keys are still safe to) */
        pp_lake_s3_tp_forget_stale(part->s3tp);
        return PP_EBUSY;
    }
    part->uncommitted = 0;
    int rc = pp_lake_s3_tp_committed(lake->s3, part->s3tp, part->commit_next);
    return rc < 0 ? rc : 0;
}

int pp_lake_publish(struct pp_lake *lake, const char *topic, int partition, int64_t offset,
                    const char *meta)
{
    if (!topic_valid(topic) || partition < 0 || offset < 0)
        return PP_EINVAL;
    return lake->s3 ? pp_lake_s3_publish(lake->s3, topic, partition, offset, meta) : 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Finished file names of a day directory, sorted. @returns count or <0. */
static int list_day(const char *ddir, char ***names_out)
{
    DIR *dd = opendir(ddir);
    if (!dd)
        return errno == ENOENT || errno == ENOTDIR ? PP_ENOENT : PP_EIO;
    char **names = NULL;
    int n = 0, cap = 0, rc = 0;
    struct dirent *de;
    while ((de = readdir(dd))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 7 || strcmp(de->d_name + len - 6, ".jsonl"))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **grown = realloc(names, (size_t)cap * sizeof(*names));
            if (!grown) {
                rc = PP_ENOMEM;
                break;
            }
            names = grown;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = PP_ENOMEM;
            break;
        }
        n++;
    }
    closedir(dd);
    if (rc) {
        for (int i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return rc;
    }
    if (n)
        qsort(names, (size_t)n, sizeof(*names), cmp_names);
    *names_out = names;
    return n;
}

/* Stream one file's lines to cb. @returns records read or <0 (cb's negative return too). */
static long read_file(const char *path, int (*cb)(void *arg, const char *value, size_t vlen),
                      void *arg, char **line, size_t *linecap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? 0 : PP_EIO; /* a concurrent truncate_from removed it */
    long count = 0;
    ssize_t len;
    while ((len = getline(line, linecap, f)) >= 0) {
        if (len > 0 && (*line)[len - 1] == '\n')
            len--;
        if (len == 0)
            continue;
        count++;
        int rc = cb(arg, *line, (size_t)len);
        if (rc < 0) {
            fclose(f);
            return rc;
        }
    }
    int err = ferror(f);
    fclose(f);
    return err ? PP_EIO : count;
}

/* (lake_s3.h) */
int pp_lake_parse_file(const char *name, const char *topic, int *partition, int64_t *start)
{
    size_t tl = strlen(topic);
    const char *q;
    int64_t p;
    if (strncmp(name, topic, tl) || name[tl] != '+' || pp_lake_parse_offset(name + tl + 1, &q, &p) ||
        p > INT32_MAX || *q != '+')
        return 0;
    char prefix[LAKE_TOPIC_MAX + 32];
    if (fmt(prefix, sizeof(prefix), "%s+%d+", topic, (int)p) ||
        !pp_lake_parse_name(name, prefix, 0, start))
        return 0;
    *partition = (int)p;
    return 1;
}

long pp_lake_read_day_files(struct pp_lake *lake, const char *topic, const char *date,
                            const struct pp_lake_reader *rd)
{
    char ddir[LAKE_PATH_MAX], path[LAKE_PATH_MAX];
    int64_t ms;
    if (!topic_valid(topic) || pp_date_parse(date, &ms))
        return PP_EINVAL;
    if (lake->s3)
        return pp_lake_s3_read_day(lake->s3, topic, date, rd);
    if (fmt(ddir, sizeof(ddir), "%s/topic=%s/dt=%s", lake->root, topic, date))
        return PP_ETOOBIG;
    char **names = NULL;
    int n = list_day(ddir, &names);
    if (n <= 0) /* a closed day without records has a folder with only its marker */
        return n ? n : PP_ENOENT;
    char *line = NULL;
    size_t linecap = 0;
    long total = 0;
    for (int i = 0; i < n; i++) {
        int partition;
        int64_t start;
        long got = 0;
        if (rd->file && pp_lake_parse_file(names[i], topic, &partition, &start) &&
            (got = rd->file(rd->arg, partition, start)) > 0)
            continue; /* skip this file */
        if (!got)
            got = fmt(path, sizeof(path), "%s/%s", ddir, names[i]);
        if (!got)
            got = read_file(path, rd->record, rd->arg, &line, &linecap);
        if (got < 0) {
            total = got;
            break;
        }
        total += got;
    }
    free(line);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return total;
}

long pp_lake_read_day(struct pp_lake *lake, const char *topic, const char *date,
                      int (*cb)(void *arg, const char *value, size_t vlen), void *arg)
{
    struct pp_lake_reader rd = {cb, NULL, arg};
    return pp_lake_read_day_files(lake, topic, date, &rd);
}

/* <root>/topic=<t>/dt=<date> relative part, checked. */
static int day_rel(const char *topic, const char *date, char *out, size_t size)
{
    int64_t ms;
    if (!topic_valid(topic) || pp_date_parse(date, &ms) || strlen(date) != 10)
        return PP_EINVAL;
    return fmt(out, size, "topic=%s/dt=%s", topic, date);
}

int pp_lake_day_mark(struct pp_lake *lake, const char *topic, const char *date, const char *body,
                     size_t len)
{
    char rel[LAKE_PATH_MAX], ddir[LAKE_PATH_MAX], tmp[LAKE_PATH_MAX], final[LAKE_PATH_MAX];
    int rc = day_rel(topic, date, rel, sizeof(rel));
    if (rc)
        return rc;
    if (lake->s3)
        return pp_lake_s3_mark(lake->s3, rel, body, len);
    if ((rc = mkdirs(lake->root, rel)))
        return rc;
    if (fmt(ddir, sizeof(ddir), "%s/%s", lake->root, rel) ||
        fmt(final, sizeof(final), "%s/" PP_LAKE_MARKER, ddir) ||
        fmt(tmp, sizeof(tmp), "%s/." PP_LAKE_MARKER ".%ld.tmp", ddir, (long)getpid()))
        return PP_ETOOBIG;
    if (access(final, F_OK) == 0)
        return 1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return PP_EIO;
    rc = write_all(fd, body, len) || fsync(fd) ? PP_EIO : 0;
    close(fd);
    /* link(2), not rename: an existing marker is never replaced, whoever wrote it first */
    if (!rc && link(tmp, final))
        rc = errno == EEXIST ? 1 : PP_EIO;
    unlink(tmp);
    if (rc >= 0 && fsync_dir(ddir))
        rc = PP_EIO;
    return rc;
}

long pp_lake_day_marker(struct pp_lake *lake, const char *topic, const char *date, char *out,
                        size_t size)
{
    char rel[LAKE_PATH_MAX], path[LAKE_PATH_MAX];
    int rc = day_rel(topic, date, rel, sizeof(rel));
    if (rc)
        return rc;
    if (size == 0)
        return PP_ETOOBIG;
    if (lake->s3)
        return pp_lake_s3_marker(lake->s3, rel, out, size);
    if (fmt(path, sizeof(path), "%s/%s/" PP_LAKE_MARKER, lake->root, rel))
        return PP_ETOOBIG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? PP_ENOENT : PP_EIO;
    ssize_t n = read(fd, out, size - 1);
    close(fd);
    if (n < 0)
        return PP_EIO;
    out[n] = '\0';
    return n;
}
