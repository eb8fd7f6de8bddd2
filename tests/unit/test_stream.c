/* test_stream.c: the stream and lake consumers on a real embedded log and SQLite warehouse:
 * exactly once across reruns, resumes and kill -9 crashes. */
#include <dirent.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pp_clean.h"
#include "pp_err.h"
#include "pp_lake.h"
#include "pp_log.h"
#include "pp_stream.h"
#include "pp_test.h"
#include "pp_util.h"
#include "pp_wh.h"

#define DAY1 1598586767000LL /* 2020-08-28 03:52:47 UTC */
#define DAY2 (DAY1 + 86400000LL)
#define PER_BATCH 100
#define MAXREC 4096

static const char *topics[3] = {"pin", "geo", "user"};
static char dir[256], log_dir[300], wh_path[300], lake_dir[300];
static struct pp_log *log_w; /* the writer */

/* Every record appended, per topic (values as the lake must hold them). */
static char *appended[3][MAXREC];
static int nappended[3];

static struct pp_lake *open_lake(uint64_t roll_bytes, int64_t roll_ms);

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Source lines: the real sample tables when present, else a few hand-written records. */
static char *sample_line(int t, int i)
{
    static FILE *f[3];
    static int tried[3];
    char *line = NULL;
    size_t cap = 0;
    if (!tried[t]) {
        char path[256];
        tried[t] = 1;
        snprintf(path, sizeof(path), "/work/shared/data/aicore_sample_%s.jsonl", topics[t]);
        f[t] = fopen(path, "r");
    }
    if (f[t]) {
        ssize_t n = getline(&line, &cap, f[t]);
        if (n > 0) {
            if (line[n - 1] == '\n')
                line[n - 1] = '\0';
            return line;
        }
        free(line);
        line = NULL;
    }
    char buf[512];
    if (t == 0)
        snprintf(buf, sizeof(buf),
                 "{\"index\": %d, \"unique_id\": \"u%d\", \"title\": \"t\", \"description\": "
                 "\"d\", \"poster_name\": \"p\", \"follower_count\": \"1.2k\", \"tag_list\": "
                 "\"a,b\", \"is_image_or_video\": \"image\", \"image_src\": \"x\", "
                 "\"downloaded\": 1, \"save_location\": \"Local save in /data/art\", "
                 "\"category\": \"art\"}",
                 100000 + i, i);
    else if (t == 1)
        snprintf(buf, sizeof(buf),
                 "{\"ind\": %d, \"timestamp\": \"2020-08-28 03:52:47\", \"latitude\": 1.5, "
                 "\"longitude\": -2.25, \"country\": \"Albania\"}",
                 100000 + i);
    else
        snprintf(buf, sizeof(buf),
                 "{\"ind\": %d, \"first_name\": \"A\", \"last_name\": \"B\", \"age\": 30, "
                 "\"date_joined\": \"2016-01-20 22:10:50\"}",
                 100000 + i);
    return strdup(buf);
}

static void append_value(int t, const char *value, int64_t ts)
{
    int p;
    int64_t off;
    uint64_t ticket;
    int rc =
        pp_log_append(log_w, topics[t], -1, NULL, 0, value, strlen(value), ts, &p, &off, &ticket);
    PP_CHECK_INT(rc, 0);
    if (rc == 0 && nappended[t] < MAXREC) {
        char *v = strdup(value);
        for (char *c = v; *c; c++)
            if (*c == '\n' || *c == '\r')
                *c = ' ';
        appended[t][nappended[t]++] = v;
    }
}

/* Append PER_BATCH sample records per topic; the first batch also gets a bad record and a
 * resend of an id (a new version of the row). */
static void append_batch(int64_t ts, int extras)
{
    for (int t = 0; t < 3; t++) {
        for (int i = 0; i < PER_BATCH; i++) {
            char *line = sample_line(t, i);
            append_value(t, line, ts + i);
            free(line);
        }
    }
    if (extras) {
        append_value(0, "{\"index\":\n \"abc\"}", ts); /* cannot be cleaned: a dead letter */
        append_value(1, "not json", ts);
        char resend[2048];
        snprintf(resend, sizeof(resend), "%s", appended[2][0]);
        append_value(2, resend, ts); /* same id again */
    }
}

/* What the warehouse must hold: distinct ids of cleanable records, and dead letters. */
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void expected(int t, int64_t *rows, int64_t *rejected)
{
    static int64_t ids[MAXREC];
    struct pp_row row;
    struct pp_verr verr;
    int n = 0;
    *rejected = 0;
    pp_row_init(&row);
    for (int i = 0; i < nappended[t]; i++) {
        if (pp_clean_record((enum pp_kind)t, appended[t][i], strlen(appended[t][i]), &row, &verr) ==
            0)
            ids[n++] = row.id;
        else
            (*rejected)++;
    }
    pp_row_free(&row);
    qsort(ids, (size_t)n, sizeof(ids[0]), cmp_i64);
    *rows = 0;
    for (int i = 0; i < n; i++)
        *rows += i == 0 || ids[i] != ids[i - 1];
}

static int64_t total_appended(void)
{
    return nappended[0] + nappended[1] + nappended[2];
}

/* Has group committed (in the log) everything up to the high watermarks? */
static int caught_up(const char *group)
{
    for (int t = 0; t < 3; t++) {
        int np = pp_log_partitions(log_w, topics[t], 0);
        for (int p = 0; p < np; p++) {
            int64_t low, high, next = -1;
            if (pp_log_watermarks(log_w, topics[t], p, &low, &high))
                return 0;
            if (pp_log_committed(log_w, group, topics[t], p, &next) && high > 0)
                return 0;
            if (high > 0 && next != high)
                return 0;
        }
    }
    return 1;
}

static int wait_caught_up(const char *group)
{
    for (int i = 0; i < 2000; i++) {
        if (caught_up(group))
            return 1;
        nap_ms(5);
    }
    return 0;
}

/* ---- the stream consumer ---- */

struct stream_job {
    pthread_t th;
    struct pp_log *log;
    struct pp_wh *wh;
    volatile sig_atomic_t stop;
    struct pp_stream_stats stats;
    int rc;
};

static void *stream_main(void *arg)
{
    struct stream_job *job = arg;
    job->rc = pp_stream_run(job->log, job->wh, 50, 2, 0, &job->stop, &job->stats);
    return NULL;
}

/* Run the stream consumer in a thread until the log's "stream" group caught up. */
static void stream_once(struct stream_job *job, struct pp_wh *wh)
{
    memset(job, 0, sizeof(*job));
    job->log = log_w;
    job->wh = wh;
    pthread_create(&job->th, NULL, stream_main, job);
    PP_CHECK(wait_caught_up("stream"));
    nap_ms(150); /* a rerun must find nothing more: give it the chance to (wrongly) re-read */
    job->stop = 1;
    pthread_join(job->th, NULL);
    PP_CHECK_INT(job->rc, 0);
}

static void check_warehouse(struct pp_wh *wh)
{
    for (int t = 0; t < 3; t++) {
        int64_t rows, rejected, n = -1;
        expected(t, &rows, &rejected);
        PP_CHECK_INT(pp_wh_count(wh, (enum pp_kind)t, &n), 0);
        PP_CHECK_INT(n, rows);
        int np = pp_log_partitions(log_w, topics[t], 0);
        for (int p = 0; p < np; p++) {
            int64_t low, high, next = -1;
            pp_log_watermarks(log_w, topics[t], p, &low, &high);
            PP_CHECK_INT(pp_wh_offset_get(wh, "stream", topics[t], p, &next), 0);
            PP_CHECK_INT(next, high);
        }
    }
}

static void test_stream(void)
{
    char err[256] = "";
    struct stream_job job;
    struct pp_wh *wh = pp_wh_open(wh_path, err, sizeof(err));
    PP_CHECK(wh != NULL);
    if (!wh) {
        fprintf(stderr, "pp_wh_open: %s\n", err);
        return;
    }
    int64_t rej0, rej1, rej2, rows;
    expected(0, &rows, &rej0);
    expected(1, &rows, &rej1);
    expected(2, &rows, &rej2);

    /* first run: everything */
    stream_once(&job, wh);
    PP_CHECK_INT(job.stats.records, total_appended());
    PP_CHECK_INT(job.stats.rejected, rej0 + rej1 + rej2);
    PP_CHECK(job.stats.rejected >= 2);
    PP_CHECK(job.stats.txns >= 1);
    check_warehouse(wh);

    /* rerun: nothing new, nothing re-read */
    stream_once(&job, wh);
    PP_CHECK_INT(job.stats.records, 0);
    PP_CHECK_INT(job.stats.txns, 0);
    check_warehouse(wh);

    /* resume: exactly the new ones */
    int64_t before = total_appended();
    append_batch(DAY2, 0);
    stream_once(&job, wh);
    PP_CHECK_INT(job.stats.records, total_appended() - before);
    check_warehouse(wh);
    pp_wh_close(wh);
}

/* PP_STREAM_UNTIL_CAUGHT_UP: returns by itself once the new records are committed (no stop
 * flag), having loaded exactly them; a second run finds nothing and returns too. */
static void test_until_caught_up(void)
{
    char err[256] = "";
    struct pp_wh *wh = pp_wh_open(wh_path, err, sizeof(err));
    PP_CHECK(wh != NULL);
    if (!wh)
        return;
    int64_t before = total_appended();
    append_batch(DAY2 + 3600000, 0);
    volatile sig_atomic_t never = 0;
    struct pp_stream_stats stats;
    PP_CHECK_INT(pp_stream_run(log_w, wh, 7, 0, PP_STREAM_UNTIL_CAUGHT_UP, &never, &stats), 0);
    PP_CHECK_INT(stats.records, total_appended() - before);
    PP_CHECK(stats.txns >= 2); /* batches of 7 */
    check_warehouse(wh);
    PP_CHECK_INT(pp_stream_run(log_w, wh, 7, 0, PP_STREAM_UNTIL_CAUGHT_UP, &never, &stats), 0);
    PP_CHECK_INT(stats.records, 0);
    check_warehouse(wh);
    pp_wh_close(wh);
}

/* Fork a consumer process on its own read-only log handle; kill -9 it after delay_ms. */
static void run_and_kill(int lake, int delay_ms)
{
    pid_t pid = fork();
    if (pid == 0) {
        char err[256];
        struct pp_log_conf conf;
        pp_log_conf_defaults(&conf);
        conf.dir = log_dir;
        conf.readonly = 1;
        struct pp_log *log = pp_log_open(&conf, err, sizeof(err));
        volatile sig_atomic_t never = 0;
        if (lake) {
            struct pp_lake *lk = open_lake(300, 100000);
            if (log && lk)
                pp_lake_run(log, lk, &never, NULL);
        } else {
            struct pp_wh *wh = pp_wh_open(wh_path, err, sizeof(err));
            if (log && wh)
                pp_stream_run(log, wh, 7, 0, 0, &never, NULL);
        }
        _exit(1);
    }
    nap_ms(delay_ms);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* kill -9 stream consumer processes at several points, then resume in process: every row
 * there, offsets at the high watermarks. */
static void test_stream_crash(void)
{
    char err[256] = "";
    static const int delays[] = {2, 10, 40};
    for (int i = 0; i < 3; i++) {
        append_batch(DAY1 + 3600000 + i, 0);
        run_and_kill(0, delays[i]);
    }
    struct pp_wh *wh = pp_wh_open(wh_path, err, sizeof(err));
    PP_CHECK(wh != NULL);
    if (!wh)
        return;
    struct stream_job job;
    stream_once(&job, wh);
    check_warehouse(wh);
    pp_wh_close(wh);
}

/* A consumer started before any topic exists picks the topics up once a writer creates them. */
static void test_stream_waits_for_topics(void)
{
    char err[256] = "", ldir[400], wpath[400];
    snprintf(ldir, sizeof(ldir), "%s/log2", dir);
    snprintf(wpath, sizeof(wpath), "%s/wh2.db", dir);
    struct pp_log_conf conf;
    pp_log_conf_defaults(&conf);
    conf.dir = ldir;
    conf.fsync = PP_FSYNC_NEVER;
    struct pp_log *log = pp_log_open(&conf, err, sizeof(err));
    struct pp_wh *wh = pp_wh_open(wpath, err, sizeof(err));
    PP_CHECK(log && wh);
    if (!log || !wh)
        return;
    struct stream_job job;
    memset(&job, 0, sizeof(job));
    job.log = log;
    job.wh = wh;
    pthread_create(&job.th, NULL, stream_main, &job);
    nap_ms(150);
    const char *v = "{\"ind\": 5, \"timestamp\": \"2020-08-28 03:52:47\", \"latitude\": 1.5, "
                    "\"longitude\": 2.5, \"country\": \"Albania\"}";
    int p;
    int64_t off;
    uint64_t ticket;
    PP_CHECK_INT(pp_log_append(log, "geo", 0, NULL, 0, v, strlen(v), 0, &p, &off, &ticket), 0);
    int64_t next = -1;
    for (int i = 0; i < 2000 && next != 1; i++) {
        nap_ms(2);
        pp_log_committed(log, "stream", "geo", 0, &next);
    }
    PP_CHECK_INT(next, 1);
    job.stop = 1;
    pthread_join(job.th, NULL);
    PP_CHECK_INT(job.rc, 0);
    PP_CHECK_INT(job.stats.rows, 1);
    int64_t n = -1;
    PP_CHECK_INT(pp_wh_count(wh, PP_KIND_GEO, &n), 0);
    PP_CHECK_INT(n, 1);
    pp_wh_close(wh);
    pp_log_close(log);
}

/* ---- the lake consumer ---- */

struct lake_job {
    pthread_t th;
    struct pp_lake *lake;
    volatile sig_atomic_t stop;
    int64_t records;
    int rc;
};

static void *lake_main(void *arg)
{
    struct lake_job *job = arg;
    job->rc = pp_lake_run(log_w, job->lake, &job->stop, &job->records);
    return NULL;
}

static struct pp_lake *open_lake(uint64_t roll_bytes, int64_t roll_ms)
{
    struct pp_lake_conf conf;
    char err[256] = "";
    pp_lake_conf_defaults(&conf);
    conf.root = lake_dir;
    conf.roll_bytes = roll_bytes;
    conf.roll_ms = roll_ms;
    struct pp_lake *lake = pp_lake_open(&conf, err, sizeof(err));
    if (!lake)
        fprintf(stderr, "pp_lake_open: %s\n", err);
    return lake;
}

static void lake_once(struct lake_job *job)
{
    memset(job, 0, sizeof(*job));
    job->lake = open_lake(2000, 100);
    PP_CHECK(job->lake != NULL);
    if (!job->lake)
        return;
    pthread_create(&job->th, NULL, lake_main, job);
    PP_CHECK(wait_caught_up("lake"));
    job->stop = 1;
    pthread_join(job->th, NULL);
    PP_CHECK_INT(job->rc, 0);
    pp_lake_close(job->lake);
}

struct values {
    char **v;
    int n, cap;
};

static int collect_cb(void *arg, const char *value, size_t vlen)
{
    struct values *vs = arg;
    if (vs->n == vs->cap) {
        vs->cap = vs->cap ? vs->cap * 2 : 256;
        vs->v = realloc(vs->v, (size_t)vs->cap * sizeof(*vs->v));
    }
    vs->v[vs->n++] = strndup(value, vlen);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every appended record is in the lake's finished files exactly once (as a multiset). */
static void check_lake_exactly_once(void)
{
    struct pp_lake *lake = open_lake(0, 0);
    if (!lake)
        return;
    for (int t = 0; t < 3; t++) {
        struct values vs = {0};
        PP_CHECK(pp_lake_read_day(lake, topics[t], "2020-08-28", collect_cb, &vs) > 0);
        PP_CHECK(pp_lake_read_day(lake, topics[t], "2020-08-29", collect_cb, &vs) > 0);
        PP_CHECK_INT(vs.n, nappended[t]);
        char **want = malloc((size_t)nappended[t] * sizeof(*want));
        memcpy(want, appended[t], (size_t)nappended[t] * sizeof(*want));
        qsort(want, (size_t)nappended[t], sizeof(*want), cmp_str);
        qsort(vs.v, (size_t)vs.n, sizeof(*vs.v), cmp_str);
        int same = vs.n == nappended[t];
        for (int i = 0; same && i < vs.n; i++)
            same = !strcmp(vs.v[i], want[i]);
        PP_CHECK(same);
        for (int i = 0; i < vs.n; i++)
            free(vs.v[i]);
        free(vs.v);
        free(want);
    }
    pp_lake_close(lake);
}

/* Start offset of the second finished file of pin/0 on DAY1 (-1 if none). */
static int64_t second_file_start(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/topic=pin/dt=2020-08-28", lake_dir);
    DIR *d = opendir(path);
    int64_t starts[2] = {-1, -1};
    struct dirent *de;
    while (d && (de = readdir(d))) {
        long long s;
        if (sscanf(de->d_name, "pin+0+%lld.jsonl", &s) != 1 || de->d_name[0] == '.')
            continue;
        if (starts[0] < 0 || s < starts[0]) {
            starts[1] = starts[0];
            starts[0] = s;
        } else if (starts[1] < 0 || s < starts[1]) {
            starts[1] = s;
        }
    }
    if (d)
        closedir(d);
    return starts[1];
}

static void test_lake(void)
{
    struct lake_job job;
    lake_once(&job);
    PP_CHECK_INT(job.records, total_appended());
    check_lake_exactly_once();

    /* rerun: nothing new */
    lake_once(&job);
    PP_CHECK_INT(job.records, 0);
    check_lake_exactly_once();

    /* crash after files were renamed but before their commits: the commit lags behind the
     * finished files (and a temp was left); the rerun deletes and rewrites them */
    int64_t start = second_file_start();
    PP_CHECK(start > 0);
    PP_CHECK_INT(pp_log_commit(log_w, "lake", "pin", 0, start), 0);
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s/topic=pin/dt=2020-08-28/.pin+0+%010" PRId64 ".jsonl.tmp",
             lake_dir, start + 1);
    FILE *f = fopen(tmp, "w");
    if (f) {
        fputs("{\"half\":", f);
        fclose(f);
    }
    int64_t low, high;
    pp_log_watermarks(log_w, "pin", 0, &low, &high);
    lake_once(&job);
    PP_CHECK_INT(job.records, high - start);
    PP_CHECK(access(tmp, F_OK) != 0);
    check_lake_exactly_once();

    /* resume with new records */
    int64_t before = total_appended();
    append_batch(DAY2 + 3600000, 0);
    lake_once(&job);
    PP_CHECK_INT(job.records, total_appended() - before);
    check_lake_exactly_once();
}

/* kill -9 lake consumer processes at several points (each rerun recovering from the last
 * crash), then rerun in process: still exactly once. */
static void test_lake_crash(void)
{
    static const int delays[] = {3, 30, 120};
    for (int i = 0; i < 3; i++) {
        append_batch((i % 2 ? DAY2 : DAY1) + 7200000 + i, 0);
        run_and_kill(1, delays[i]);
    }
    struct lake_job job;
    lake_once(&job);
    check_lake_exactly_once();
}

/* Both consumers as threads on the writer's own handle (as `pinpipe run`) while records are
 * being appended: every record once in the warehouse and once in the lake. */
static void test_concurrent(void)
{
    char err[256] = "";
    struct stream_job sj;
    struct lake_job lj;
    memset(&sj, 0, sizeof(sj));
    memset(&lj, 0, sizeof(lj));
    sj.log = log_w;
    sj.wh = pp_wh_open(wh_path, err, sizeof(err));
    if (sj.wh) { /* catch up with what the lake tests appended */
        stream_once(&sj, sj.wh);
        check_warehouse(sj.wh);
        memset(&sj.stats, 0, sizeof(sj.stats));
        sj.stop = 0;
    }
    lj.lake = open_lake(5000, 100);
    PP_CHECK(sj.wh && lj.lake);
    if (!sj.wh || !lj.lake)
        return;
    pthread_create(&sj.th, NULL, stream_main, &sj);
    pthread_create(&lj.th, NULL, lake_main, &lj);
    for (int i = 0; i < 4; i++) {
        append_batch(DAY2 + 10800000 + i, 0);
        nap_ms(20);
    }
    PP_CHECK(wait_caught_up("stream"));
    PP_CHECK(wait_caught_up("lake"));
    sj.stop = lj.stop = 1;
    pthread_join(sj.th, NULL);
    pthread_join(lj.th, NULL);
    PP_CHECK_INT(sj.rc, 0);
    PP_CHECK_INT(lj.rc, 0);
    PP_CHECK_INT(sj.stats.records, 4 * 3 * PER_BATCH);
    PP_CHECK_INT(lj.records, 4 * 3 * PER_BATCH);
    check_warehouse(sj.wh);
    pp_wh_close(sj.wh);
    pp_lake_close(lj.lake);
    check_lake_exactly_once();
}

int main(void)
{
    char err[256] = "";
    const char *tmpdir = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/pp_stream_XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(log_dir, sizeof(log_dir), "%s/log", dir);
    snprintf(wh_path, sizeof(wh_path), "%s/warehouse.db", dir);
    snprintf(lake_dir, sizeof(lake_dir), "%s/lake", dir);

    struct pp_log_conf conf;
    pp_log_conf_defaults(&conf);
    conf.dir = log_dir;
    conf.partitions = 2;
    conf.fsync = PP_FSYNC_NEVER;
    log_w = pp_log_open(&conf, err, sizeof(err));
    PP_CHECK(log_w != NULL);
    if (!log_w) {
        fprintf(stderr, "pp_log_open: %s\n", err);
        PP_TEST_DONE();
    }
    for (int t = 0; t < 3; t++)
        PP_CHECK_INT(pp_log_partitions(log_w, topics[t], 1), 2);
    append_batch(DAY1, 1);

    test_stream();
    test_until_caught_up();
    test_stream_crash();
    test_stream_waits_for_topics();
    test_lake();
    test_lake_crash();
    test_concurrent();

    pp_log_close(log_w);
    for (int t = 0; t < 3; t++)
        for (int i = 0; i < nappended[t]; i++)
            free(appended[t][i]);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    PP_TEST_DONE();
}
