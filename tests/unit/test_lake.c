/* test_lake.c: unit tests of the lake: local folder (naming, rolls, temps, truncate, crash
 * rerun) and the pure parts of the S3 backend (root, key encoding, listings, credentials). */
#include <ftw.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lake_s3.h"
#include "pp_err.h"
#include "pp_lake.h"
#include "pp_test.h"
#include "pp_util.h"

#define TS_0828 1598586767000LL /* 2020-08-28 03:52:47 UTC */
#define DAY 86400000LL

static char root[256];

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_rf(const char *path)
{
    nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static int exists(const char *rel)
{
    char path[1024];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    return stat(path, &st) == 0;
}

/* Does this process's temp of the file rel ("dir/name") exist? (".<name>.<pid>.tmp") */
static int tmp_exists(const char *rel)
{
    char t[1024];
    const char *slash = strrchr(rel, '/');
    snprintf(t, sizeof(t), "%.*s/.%s.%d.tmp", (int)(slash - rel), rel, slash + 1, (int)getpid());
    return exists(t);
}

/* Records seen by read_day: values joined by '|'. */
struct seen {
    long n;
    char text[65536];
    size_t len;
};

static int seen_cb(void *arg, const char *value, size_t vlen)
{
    struct seen *s = arg;
    s->n++;
    if (s->len + vlen + 2 < sizeof(s->text)) {
        if (s->len)
            s->text[s->len++] = '|';
        memcpy(s->text + s->len, value, vlen);
        s->len += vlen;
        s->text[s->len] = '\0';
    }
    return 0;
}

static long read_day(struct pp_lake *lake, const char *topic, const char *date, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    return pp_lake_read_day(lake, topic, date, seen_cb, s);
}

/* Commits reported by flush. */
struct commits {
    int calls;
    char topic[64];
    int partition;
    int64_t next;
    int64_t next_by_part[4];
};

static int commit_cb(void *arg, const char *topic, int partition, int64_t next_offset,
                     const char *meta)
{
    struct commits *c = arg;
    PP_CHECK(meta == NULL); /* local lakes publish nothing after the commit */
    c->calls++;
    snprintf(c->topic, sizeof(c->topic), "%s", topic);
    c->partition = partition;
    c->next = next_offset;
    if (partition >= 0 && partition < 4)
        c->next_by_part[partition] = next_offset;
    return 0;
}

static struct pp_lake *open_lake(uint64_t roll_bytes, int64_t roll_ms)
{
    struct pp_lake_conf conf;
    char err[256] = "";
    pp_lake_conf_defaults(&conf);
    conf.root = root;
    if (roll_bytes)
        conf.roll_bytes = roll_bytes;
    if (roll_ms)
        conf.roll_ms = roll_ms;
    struct pp_lake *lake = pp_lake_open(&conf, err, sizeof(err));
    if (!lake)
        fprintf(stderr, "pp_lake_open: %s\n", err);
    return lake;
}

static int put(struct pp_lake *lake, const char *topic, int p, int64_t off, int64_t ts)
{
    char v[64];
    snprintf(v, sizeof(v), "{\"o\":%" PRId64 "}", off);
    return pp_lake_write(lake, topic, p, off, ts, v, strlen(v));
}

static void test_path(void)
{
    char out[256];
    PP_CHECK_INT(pp_lake_path("pin", 0, 42, TS_0828, out, sizeof(out)), 0);
    PP_CHECK_STR(out, "topic=pin/dt=2020-08-28/pin+0+0000000042.jsonl");
    PP_CHECK_INT(pp_lake_path("geo", 3, 1234567890123LL, TS_0828, out, sizeof(out)), 0);
    PP_CHECK_STR(out, "topic=geo/dt=2020-08-28/geo+3+1234567890123.jsonl");
    /* the day is the UTC day: last ms of a day and the first of the next */
    PP_CHECK_INT(pp_lake_path("user", 1, 0, 1598659199999LL, out, sizeof(out)), 0);
    PP_CHECK_STR(out, "topic=user/dt=2020-08-28/user+1+0000000000.jsonl");
    PP_CHECK_INT(pp_lake_path("user", 1, 0, 1598659200000LL, out, sizeof(out)), 0);
    PP_CHECK_STR(out, "topic=user/dt=2020-08-29/user+1+0000000000.jsonl");
    PP_CHECK_INT(pp_lake_path("user", 0, 7, -1, out, sizeof(out)), 0);
    PP_CHECK_STR(out, "topic=user/dt=1969-12-31/user+0+0000000007.jsonl");
    PP_CHECK_INT(pp_lake_path("streaming-0a1b2c-pin", 0, 9, TS_0828, out, sizeof(out)), 0);
    PP_CHECK_STR(
        out, "topic=streaming-0a1b2c-pin/dt=2020-08-28/streaming-0a1b2c-pin+0+0000000009.jsonl");
    PP_CHECK_INT(pp_lake_path("0a1b2c.pin", 1, 9, TS_0828, out, sizeof(out)), 0);
    PP_CHECK_STR(out, "topic=0a1b2c.pin/dt=2020-08-28/0a1b2c.pin+1+0000000009.jsonl");
    PP_CHECK_INT(pp_lake_path("a/b", 0, 0, 0, out, sizeof(out)), PP_EINVAL);
    PP_CHECK_INT(pp_lake_path(".hidden", 0, 0, 0, out, sizeof(out)), PP_EINVAL);
    PP_CHECK_INT(pp_lake_path("", 0, 0, 0, out, sizeof(out)), PP_EINVAL);
    PP_CHECK_INT(pp_lake_path("pin", -1, 0, 0, out, sizeof(out)), PP_EINVAL);
    PP_CHECK_INT(pp_lake_path("pin", 0, 0, 0, out, 10), PP_ETOOBIG);
}

static void test_temp_then_finish(void)
{
    struct pp_lake *lake = open_lake(0, 0);
    struct commits c = {0};
    struct seen s;
    PP_CHECK(lake != NULL);
    if (!lake)
        return;
    PP_CHECK_INT(put(lake, "pin", 0, 5, TS_0828), 0);
    PP_CHECK_INT(put(lake, "pin", 0, 6, TS_0828 + 1000), 0);
    PP_CHECK_INT(put(lake, "pin", 0, 6, TS_0828 + 1000), PP_EINVAL); /* not increasing */
    PP_CHECK_INT(put(lake, "pin", 0, 3, TS_0828 + 1000), PP_EINVAL);
    PP_CHECK_INT(pp_lake_write(lake, "a/b", 0, 1, TS_0828, "{}", 2), PP_EINVAL);
    /* not due (60 s default age, 64 MiB): nothing finished, the temp is invisible */
    PP_CHECK_INT(pp_lake_flush(lake, pp_now_ms(), 0, commit_cb, &c), 0);
    PP_CHECK_INT(c.calls, 0);
    PP_CHECK(tmp_exists("topic=pin/dt=2020-08-28/pin+0+0000000005.jsonl"));
    PP_CHECK(!exists("topic=pin/dt=2020-08-28/pin+0+0000000005.jsonl"));
    PP_CHECK_INT(read_day(lake, "pin", "2020-08-28", &s), PP_ENOENT); /* only a temp: no data yet */
    PP_CHECK_INT(read_day(lake, "pin", "2020-08-27", &s), PP_ENOENT);
    PP_CHECK_INT(read_day(lake, "geo", "2020-08-28", &s), PP_ENOENT);
    PP_CHECK_INT(read_day(lake, "pin", "2020-8-28", &s), PP_EINVAL);
    /* forced: finished, renamed, reported */
    PP_CHECK_INT(pp_lake_flush(lake, pp_now_ms(), 1, commit_cb, &c), 1);
    PP_CHECK_INT(c.calls, 1);
    PP_CHECK_STR(c.topic, "pin");
    PP_CHECK_INT(c.partition, 0);
    PP_CHECK_INT(c.next, 7);
    PP_CHECK(!tmp_exists("topic=pin/dt=2020-08-28/pin+0+0000000005.jsonl"));
    PP_CHECK(exists("topic=pin/dt=2020-08-28/pin+0+0000000005.jsonl"));
    PP_CHECK_INT(read_day(lake, "pin", "2020-08-28", &s), 2);
    PP_CHECK_STR(s.text, "{\"o\":5}|{\"o\":6}");
    /* a flush with nothing open reports nothing */
    c.calls = 0;
    PP_CHECK_INT(pp_lake_flush(lake, pp_now_ms(), 1, commit_cb, &c), 0);
    PP_CHECK_INT(c.calls, 0);
    pp_lake_close(lake);
    rm_rf(root);
}

/* A header as curl hands it: exactly n bytes in a heap block of n bytes, no NUL after it, so
 * that a read past the end is an ASan error. */
static int header(const char *text, long *status, char *etag, size_t esize)
{
    size_t n = strlen(text);
    char *p = malloc(n);
    if (!p)
        return -1;
    memcpy(p, text, n);
    int rc = pp_lake_s3_header(p, n, status, etag, esize);
    free(p);
    return rc;
}

/* S3 response headers are parsed within their length (curl's buffer is not NUL-terminated):
 * digits right at the end of the block, an ETag without CRLF, over-long values. */
static void test_s3_header(void)
{
    long status = -1;
    char etag[16] = "x";
    PP_CHECK_INT(header("HTTP/1.1 200 OK\r\n", &status, etag, sizeof(etag)), 1);
    PP_CHECK_INT(status, 200);
    PP_CHECK_INT(header("HTTP/1.1 503", &status, etag, sizeof(etag)), 1); /* digits at the end */
    PP_CHECK_INT(status, 503);
    PP_CHECK_INT(header("HTTP/2 404", &status, etag, sizeof(etag)), 1);
    PP_CHECK_INT(status, 404);
    PP_CHECK_INT(header("HTTP/1.1 20", &status, etag, sizeof(etag)), 1); /* not a code */
    PP_CHECK_INT(status, 0);
    PP_CHECK_INT(header("HTTP/1.1 2000000000000000000000", &status, etag, sizeof(etag)), 1);
    PP_CHECK_INT(status, 0);
    PP_CHECK_INT(header("HTTP/1.1xxxxx", &status, etag, sizeof(etag)), 1); /* no space */
    PP_CHECK_INT(status, 0);
    status = -1;
    PP_CHECK_INT(header("HTTP/1.1", &status, etag, sizeof(etag)), 0); /* too short */
    PP_CHECK_INT(status, -1);
    PP_CHECK_INT(header("ETag: \"abc\"\r\n", &status, etag, sizeof(etag)), 2);
    PP_CHECK_STR(etag, "\"abc\"");
    PP_CHECK_INT(header("etag:\t\"d41d8\"", &status, etag, sizeof(etag)), 2); /* no CRLF */
    PP_CHECK_STR(etag, "\"d41d8\"");
    PP_CHECK_INT(header("ETag: \"0123456789abcdef0123\"\r\n", &status, etag, sizeof(etag)), 2);
    PP_CHECK_STR(etag, "\"0123456789abcd");                        /* truncated to 15 bytes */
    PP_CHECK_INT(header("ETag:", &status, etag, sizeof(etag)), 0); /* n 5: not one */
    PP_CHECK_INT(header("ETag: ", &status, etag, sizeof(etag)), 2);
    PP_CHECK_STR(etag, "");
    PP_CHECK_INT(header("Content-Length: 42", &status, etag, sizeof(etag)), 0);
    PP_CHECK_INT(status, -1);
}

/* Names whose start offset has 18, 19 and 20 digits: in range they parse exactly, past
 * INT64_MAX they are no lake files (skipped), never a wrapped or saturated offset. The same
 * parser reads S3 listings (finished and pending keys). */
static void test_parse_name_range(void)
{
    int64_t start = -1;
    PP_CHECK_INT(pp_lake_parse_name("pin+0+999999999999999999.jsonl", "pin+0+", 0, &start), 1);
    PP_CHECK(start == 999999999999999999LL);
    PP_CHECK_INT(pp_lake_parse_name("pin+0+9223372036854775807.jsonl", "pin+0+", 0, &start), 1);
    PP_CHECK(start == INT64_MAX);
    PP_CHECK_INT(pp_lake_parse_name("pin+0+1000000000000000000.jsonl", "pin+0+", 0, &start), 1);
    PP_CHECK(start == 1000000000000000000LL);
    start = -1; /* out of range: not parsed, start untouched */
    PP_CHECK_INT(pp_lake_parse_name("pin+0+9223372036854775808.jsonl", "pin+0+", 0, &start), 0);
    PP_CHECK_INT(pp_lake_parse_name("pin+0+9999999999999999999.jsonl", "pin+0+", 0, &start), 0);
    PP_CHECK_INT(pp_lake_parse_name("pin+0+18446744073709551616.jsonl", "pin+0+", 0, &start), 0);
    PP_CHECK_INT(pp_lake_parse_name("pin+0+12345678901234567890.jsonl", "pin+0+", 0, &start), 0);
    PP_CHECK_INT(pp_lake_parse_name(".pin+0+9223372036854775808.jsonl.42.tmp", "pin+0+", 1, &start),
                 0);
    PP_CHECK_INT((int)start, -1);
    /* 20 digits still in range (leading zeros) parse */
    PP_CHECK_INT(pp_lake_parse_name("pin+0+00000000000000000042.jsonl", "pin+0+", 0, &start), 1);
    PP_CHECK_INT((int)start, 42);
    PP_CHECK_INT(pp_lake_parse_name("pin+0+.jsonl", "pin+0+", 0, &start), 0);

    const char *s = "9223372036854775808.x", *end = NULL;
    int64_t v = -1;
    PP_CHECK_INT(pp_lake_parse_offset(s, &end, &v), PP_ERANGE);
    PP_CHECK(end == s + 19);
    PP_CHECK_INT((int)v, -1);
    s = "123456789012345678901234567890";
    PP_CHECK_INT(pp_lake_parse_offset(s, &end, &v), PP_ERANGE);
    PP_CHECK(end == s + 30);
    s = "9223372036854775807";
    PP_CHECK_INT(pp_lake_parse_offset(s, &end, &v), 0);
    PP_CHECK(v == INT64_MAX && end == s + 19);
    s = "x1";
    PP_CHECK_INT(pp_lake_parse_offset(s, &end, &v), PP_EPARSE);
    PP_CHECK(end == s);
}
/* Partitions lost to another member: the open file is dropped unfinished (this process's temp
 * deleted, nothing reported, nothing visible); temps of any process parse as temps. */
static void test_drop_lost(void)
{
    struct pp_lake *lake = open_lake(0, 0);
    struct commits c = {0};
    PP_CHECK(lake != NULL);
    if (!lake)
        return;
    PP_CHECK_INT(put(lake, "pin", 0, 5, TS_0828), 0);
    PP_CHECK(tmp_exists("topic=pin/dt=2020-08-28/pin+0+0000000005.jsonl"));
    pp_lake_drop(lake, "pin", 0);
    pp_lake_drop(lake, "geo", 3); /* nothing open: nothing happens */
    PP_CHECK(!tmp_exists("topic=pin/dt=2020-08-28/pin+0+0000000005.jsonl"));
    PP_CHECK_INT(pp_lake_flush(lake, pp_now_ms(), 1, commit_cb, &c), 0);
    PP_CHECK_INT(c.calls, 0);
    PP_CHECK(!exists("topic=pin/dt=2020-08-28/pin+0+0000000005.jsonl"));
    /* the partition goes on from any offset afterwards (as its next owner's restart does) */
    PP_CHECK_INT(put(lake, "pin", 0, 2, TS_0828), 0);
    PP_CHECK_INT(pp_lake_flush(lake, pp_now_ms(), 1, commit_cb, &c), 1);
    PP_CHECK(exists("topic=pin/dt=2020-08-28/pin+0+0000000002.jsonl"));
    int64_t start = -1;
    PP_CHECK_INT(pp_lake_parse_name(".pin+0+0000000005.jsonl.4242.tmp", "pin+0+", 1, &start), 1);
    PP_CHECK_INT((int)start, 5);
    PP_CHECK_INT(pp_lake_parse_name(".pin+0+0000000007.jsonl.tmp", "pin+0+", 1, &start), 1);
    PP_CHECK_INT((int)start, 7);
    PP_CHECK_INT(pp_lake_parse_name(".pin+0+0000000005.jsonl.42x.tmp", "pin+0+", 1, &start), 0);
    PP_CHECK_INT(pp_lake_parse_name("pin+0+0000000005.jsonl.4242.tmp", "pin+0+", 0, &start), 0);
    PP_CHECK_INT(pp_lake_parse_name("pin+0+0000000005.jsonl", "pin+0+", 0, &start), 1);
    pp_lake_close(lake);
    rm_rf(root);
}

/* Ownership (the fence between a stalled member and the partition's next owner): one writer
 * per partition; a lake that took ownership cannot write, finish or truncate a partition it
 * does not own; drop and close let go. Two pp_lake handles of one process conflict like two
 * processes (flock is per open file). */
static void test_own(void)
{
    struct pp_lake *a = open_lake(0, 0), *b = open_lake(0, 0);
    struct commits c = {0};
    PP_CHECK(a && b);
    if (!a || !b)
        goto out;
    PP_CHECK_INT(pp_lake_own(a, "pin", 0, 0), 0);
    PP_CHECK_INT(pp_lake_own(a, "pin", 0, 0), 0); /* idempotent */
    PP_CHECK_INT(put(a, "pin", 0, 5, TS_0828), 0);
    int64_t t0 = pp_mono_us();
    PP_CHECK_INT(pp_lake_own(b, "pin", 0, 60), PP_EBUSY);
    PP_CHECK(pp_mono_us() - t0 >= 60000); /* waited */
    PP_CHECK(strstr(pp_lake_errmsg(b), "pid=") != NULL);
    PP_CHECK(exists(".owners/pin+0.lock"));
    /* b is fenced off pin/0 but may own another partition */
    PP_CHECK_INT(put(b, "pin", 0, 5, TS_0828), PP_EBUSY);
    PP_CHECK_INT(pp_lake_truncate_from(b, "pin", 0, 0), PP_EBUSY);
    PP_CHECK_INT(pp_lake_own(b, "pin", 1, 0), 0);
    PP_CHECK_INT(put(b, "pin", 1, 9, TS_0828), 0);
    PP_CHECK_INT(pp_lake_flush(b, pp_now_ms(), 1, commit_cb, &c), 1);
    PP_CHECK(exists("topic=pin/dt=2020-08-28/pin+1+0000000009.jsonl"));
    /* a lets go: its open file is dropped; from then on it is the fenced one */
    pp_lake_drop(a, "pin", 0);
    PP_CHECK_INT(pp_lake_own(b, "pin", 0, 0), 0);
    PP_CHECK_INT(put(a, "pin", 0, 6, TS_0828), PP_EBUSY);
    PP_CHECK_INT(pp_lake_flush(a, pp_now_ms(), 1, commit_cb, &c), 0);
    PP_CHECK(!exists("topic=pin/dt=2020-08-28/pin+0+0000000005.jsonl"));
    PP_CHECK_INT(pp_lake_truncate_from(b, "pin", 0, 0), 0);
    /* close lets go too */
    pp_lake_close(b);
    b = NULL;
    PP_CHECK_INT(pp_lake_own(a, "pin", 0, 0), 0);
    PP_CHECK_INT(pp_lake_own(a, "pin", 1, 0), 0);
out:
    pp_lake_close(a);
    pp_lake_close(b);
    rm_rf(root);
}

static void test_roll_size(void)
{
    struct pp_lake *lake = open_lake(20, 0); /* each line "{"o":N}\n" is 8-9 bytes */
    struct commits c = {0};
    struct seen s;
    if (!lake)
        return;
    for (int64_t off = 0; off < 7; off++)
        PP_CHECK_INT(put(lake, "geo", 1, off, TS_0828), 0);
    /* files of 3 records (24 bytes >= 20): [0,3) and [3,6) finished, [6] open */
    PP_CHECK(exists("topic=geo/dt=2020-08-28/geo+1+0000000000.jsonl"));
    PP_CHECK(exists("topic=geo/dt=2020-08-28/geo+1+0000000003.jsonl"));
    PP_CHECK(tmp_exists("topic=geo/dt=2020-08-28/geo+1+0000000006.jsonl"));
    PP_CHECK_INT(pp_lake_flush(lake, pp_now_ms(), 0, commit_cb, &c), 2);
    PP_CHECK_INT(c.calls, 1);
    PP_CHECK_INT(c.next, 6);
    PP_CHECK_INT(read_day(lake, "geo", "2020-08-28", &s), 6);
    PP_CHECK_STR(s.text, "{\"o\":0}|{\"o\":1}|{\"o\":2}|{\"o\":3}|{\"o\":4}|{\"o\":5}");
    pp_lake_close(lake);
    rm_rf(root);
}

static void test_roll_age_idle(void)
{
    struct pp_lake *lake = open_lake(0, 5000);
    struct commits c = {0};
    struct seen s;
    if (!lake)
        return;
    int64_t t0 = pp_now_ms();
    PP_CHECK_INT(put(lake, "user", 0, 0, TS_0828), 0);
    PP_CHECK_INT(put(lake, "user", 1, 0, TS_0828), 0);
    PP_CHECK_INT(pp_lake_flush(lake, t0, 0, commit_cb, &c), 0);
    PP_CHECK_INT(c.calls, 0);
    /* no more writes: age alone finishes both files */
    PP_CHECK_INT(pp_lake_flush(lake, pp_now_ms() + 5000, 0, commit_cb, &c), 2);
    PP_CHECK_INT(c.calls, 2);
    PP_CHECK_INT(c.next_by_part[0], 1);
    PP_CHECK_INT(c.next_by_part[1], 1);
    PP_CHECK_INT(read_day(lake, "user", "2020-08-28", &s), 2);
    pp_lake_close(lake);
    rm_rf(root);
}

static void test_roll_day(void)
{
    struct pp_lake *lake = open_lake(0, 0);
    struct commits c = {0};
    struct seen s;
    if (!lake)
        return;
    PP_CHECK_INT(put(lake, "pin", 0, 10, TS_0828), 0);
    PP_CHECK_INT(put(lake, "pin", 0, 11, TS_0828 + 1), 0);
    PP_CHECK_INT(put(lake, "pin", 0, 12, TS_0828 + DAY), 0); /* next day: rolls */
    PP_CHECK(exists("topic=pin/dt=2020-08-28/pin+0+0000000010.jsonl"));
    PP_CHECK(tmp_exists("topic=pin/dt=2020-08-29/pin+0+0000000012.jsonl"));
    PP_CHECK_INT(pp_lake_flush(lake, pp_now_ms(), 0, commit_cb, &c), 1);
    PP_CHECK_INT(c.next, 12);
    PP_CHECK_INT(read_day(lake, "pin", "2020-08-28", &s), 2);
    PP_CHECK_INT(read_day(lake, "pin", "2020-08-29", &s), PP_ENOENT);
    PP_CHECK_INT(pp_lake_flush(lake, pp_now_ms(), 1, commit_cb, &c), 1);
    PP_CHECK_INT(c.next, 13);
    PP_CHECK_INT(read_day(lake, "pin", "2020-08-29", &s), 1);
    PP_CHECK_STR(s.text, "{\"o\":12}");
    pp_lake_close(lake);
    rm_rf(root);
}

static void test_newlines(void)
{
    struct pp_lake *lake = open_lake(0, 0);
    struct seen s;
    if (!lake)
        return;
    const char *v = "{\"a\":\n1,\r\n\"b\" :\t2}";
    PP_CHECK_INT(pp_lake_write(lake, "pin", 0, 0, TS_0828, v, strlen(v)), 0);
    PP_CHECK_INT(pp_lake_flush(lake, pp_now_ms(), 1, NULL, NULL), 1);
    PP_CHECK_INT(read_day(lake, "pin", "2020-08-28", &s), 1);
    PP_CHECK_STR(s.text, "{\"a\": 1,  \"b\" :\t2}");
    pp_lake_close(lake);
    rm_rf(root);
}

static int big_cb(void *arg, const char *value, size_t vlen)
{
    (void)arg;
    if (vlen == 1)
        return value[0] == '1' ? 0 : PP_EINVAL;
    if (vlen != 200000 || value[65536 + 5] != ' ' || value[131072 - 1] != ' ' ||
        memchr(value, '\n', vlen) || value[vlen - 1] != '"')
        return PP_EINVAL;
    return 0;
}

static int stop_cb(void *arg, const char *value, size_t vlen)
{
    (void)arg, (void)value, (void)vlen;
    return PP_ECORRUPT; /* a negative return stops the read and is returned */
}

static void test_big_records(void)
{
    /* records bigger than the write buffer go through it intact */
    struct pp_lake *lake = open_lake(0, 0);
    if (!lake)
        return;
    size_t n = 200000;
    char *v = malloc(n);
    memset(v, 'x', n);
    v[0] = '"';
    v[n - 1] = '"';
    v[65536 + 5] = '\n'; /* in the second buffer-full: still replaced */
    v[131072 - 1] = '\r';
    PP_CHECK_INT(pp_lake_write(lake, "pin", 0, 0, TS_0828, v, n), 0);
    PP_CHECK_INT(pp_lake_write(lake, "pin", 0, 1, TS_0828, "1", 1), 0);
    PP_CHECK_INT(pp_lake_flush(lake, pp_now_ms(), 1, NULL, NULL), 1);
    char path[1024];
    struct stat st;
    snprintf(path, sizeof(path), "%s/topic=pin/dt=2020-08-28/pin+0+0000000000.jsonl", root);
    PP_CHECK_INT(stat(path, &st), 0);
    PP_CHECK_INT(st.st_size, (long long)n + 3);
    free(v);
    PP_CHECK_INT(pp_lake_read_day(lake, "pin", "2020-08-28", big_cb, NULL), 2);
    PP_CHECK_INT(pp_lake_read_day(lake, "pin", "2020-08-28", stop_cb, NULL), PP_ECORRUPT);
    pp_lake_close(lake);
    rm_rf(root);
}

static void test_truncate_from(void)
{
    struct pp_lake *lake = open_lake(20, 0);
    struct seen s;
    if (!lake)
        return;
    for (int64_t off = 0; off < 9; off++)
        PP_CHECK_INT(put(lake, "pin", 0, off, TS_0828), 0);
    for (int64_t off = 0; off < 3; off++)
        PP_CHECK_INT(put(lake, "pin", 1, off, TS_0828), 0);
    /* partition 0: [0,3) [3,6) [6,9) finished; partition 1: [0,3) finished */
    PP_CHECK_INT(read_day(lake, "pin", "2020-08-28", &s), 12);
    PP_CHECK_INT(pp_lake_truncate_from(lake, "pin", 0, 3), 2);
    PP_CHECK(exists("topic=pin/dt=2020-08-28/pin+0+0000000000.jsonl"));
    PP_CHECK(!exists("topic=pin/dt=2020-08-28/pin+0+0000000003.jsonl"));
    PP_CHECK(!exists("topic=pin/dt=2020-08-28/pin+0+0000000006.jsonl"));
    PP_CHECK(exists("topic=pin/dt=2020-08-28/pin+1+0000000000.jsonl"));
    PP_CHECK_INT(read_day(lake, "pin", "2020-08-28", &s), 6);
    PP_CHECK_INT(pp_lake_truncate_from(lake, "pin", 0, 3), 0);
    PP_CHECK_INT(pp_lake_truncate_from(lake, "geo", 0, 0), 0); /* no such topic: nothing */
    /* after truncate the partition accepts offsets from the rerun point again */
    PP_CHECK_INT(put(lake, "pin", 0, 3, TS_0828), 0);
    PP_CHECK_INT(pp_lake_flush(lake, pp_now_ms(), 1, NULL, NULL),
                 2); /* pin/1 finished earlier, unreported */
    PP_CHECK_INT(read_day(lake, "pin", "2020-08-28", &s), 7);
    pp_lake_close(lake);
    rm_rf(root);
}

/* Write offsets [from, to) of pin/0 and pin/1, flushing (not forced) after each record. */
static void feed(struct pp_lake *lake, int64_t from, int64_t to, struct commits *c)
{
    for (int64_t off = from; off < to; off++) {
        for (int p = 0; p < 2; p++)
            if (off >= c->next_by_part[p])
                PP_CHECK_INT(put(lake, "pin", p, off, TS_0828 + off * 1000), 0);
        pp_lake_flush(lake, pp_now_ms(), 0, commit_cb, c);
    }
}

static int count_cb(void *arg, const char *value, size_t vlen)
{
    long *counts = arg; /* counts[offset] per value {"o":N} */
    long off = strtol(value + 5, NULL, 10);
    (void)vlen;
    if (off >= 0 && off < 100)
        counts[off]++;
    return 0;
}

static void test_crash_rerun(void)
{
    struct pp_lake *lake = open_lake(30, 0); /* 3-4 records per file */
    struct commits c = {0};
    if (!lake)
        return;
    feed(lake, 0, 50, &c);
    int64_t committed0 = c.next_by_part[0], committed1 = c.next_by_part[1];
    PP_CHECK(committed0 > 0 && committed0 < 50);
    /* more files finish but their commits are "lost" in the crash */
    struct commits lost = c;
    feed(lake, 50, 60, &lost);
    PP_CHECK(lost.next_by_part[0] > committed0);
    pp_lake_close(lake); /* crash: open temps abandoned, no final flush */

    lake = open_lake(30, 0);
    if (!lake)
        return;
    PP_CHECK(pp_lake_truncate_from(lake, "pin", 0, committed0) > 0);
    PP_CHECK(pp_lake_truncate_from(lake, "pin", 1, committed1) > 0);
    c.next_by_part[0] = committed0;
    c.next_by_part[1] = committed1;
    feed(lake, committed0 < committed1 ? committed0 : committed1, 80, &c);
    PP_CHECK(pp_lake_flush(lake, pp_now_ms(), 1, commit_cb, &c) >= 0);
    PP_CHECK_INT(c.next_by_part[0], 80);
    PP_CHECK_INT(c.next_by_part[1], 80);
    long counts[100] = {0};
    PP_CHECK_INT(pp_lake_read_day(lake, "pin", "2020-08-28", count_cb, counts), 160);
    int exact = 1;
    for (int i = 0; i < 80; i++)
        exact &= counts[i] == 2; /* once per partition */
    PP_CHECK(exact);
    pp_lake_close(lake);
    rm_rf(root);
}

static void test_s3_root(void)
{
    char b[64], p[256];
    PP_CHECK(pp_lake_s3_is_root("s3://lake/raw"));
    PP_CHECK(!pp_lake_s3_is_root("/tmp/lake"));
    PP_CHECK(!pp_lake_s3_is_root("s3:/lake"));
    PP_CHECK_INT(pp_lake_s3_parse_root("s3://lake/raw", b, sizeof(b), p, sizeof(p)), 0);
    PP_CHECK_STR(b, "lake");
    PP_CHECK_STR(p, "raw/");
    PP_CHECK_INT(pp_lake_s3_parse_root("s3://my-bucket.1//a/b//", b, sizeof(b), p, sizeof(p)), 0);
    PP_CHECK_STR(b, "my-bucket.1");
    PP_CHECK_STR(p, "a/b/");
    PP_CHECK_INT(pp_lake_s3_parse_root("s3://lake", b, sizeof(b), p, sizeof(p)), 0);
    PP_CHECK_STR(p, "");
    PP_CHECK_INT(pp_lake_s3_parse_root("s3://lake/", b, sizeof(b), p, sizeof(p)), 0);
    PP_CHECK_STR(p, "");
    PP_CHECK_INT(pp_lake_s3_parse_root("s3://Lake/x", b, sizeof(b), p, sizeof(p)), PP_EINVAL);
    PP_CHECK_INT(pp_lake_s3_parse_root("s3://ab/x", b, sizeof(b), p, sizeof(p)), PP_EINVAL);
    PP_CHECK_INT(pp_lake_s3_parse_root("s3:///x", b, sizeof(b), p, sizeof(p)), PP_EINVAL);
    PP_CHECK_INT(pp_lake_s3_parse_root("s3://a_b/x", b, sizeof(b), p, sizeof(p)), PP_EINVAL);
    PP_CHECK_INT(pp_lake_s3_parse_root("/tmp/x", b, sizeof(b), p, sizeof(p)), PP_EINVAL);
    PP_CHECK_INT(pp_lake_s3_parse_root("s3://lake/raw", b, sizeof(b), p, 4), PP_ETOOBIG);
}

static void test_s3_encode(void)
{
    char out[256], rel[256];
    /* object keys: the lake's names, encoded as SigV4 wants ('/' kept in paths) */
    PP_CHECK_INT(pp_lake_path("pin", 3, 42, TS_0828, rel, sizeof(rel)), 0);
    PP_CHECK_INT(pp_lake_s3_encode(rel, 1, out, sizeof(out)), 0);
    PP_CHECK_STR(out, "topic%3Dpin/dt%3D2020-08-28/pin%2B3%2B0000000042.jsonl");
    PP_CHECK_INT(pp_lake_s3_encode("raw/topic=pin/", 0, out, sizeof(out)), 0);
    PP_CHECK_STR(out, "raw%2Ftopic%3Dpin%2F");
    PP_CHECK_INT(pp_lake_s3_encode("a b~c_d.e-f\xc3\xa9", 0, out, sizeof(out)), 0);
    PP_CHECK_STR(out, "a%20b~c_d.e-f%C3%A9");
    PP_CHECK_INT(pp_lake_s3_encode("", 0, out, sizeof(out)), 0);
    PP_CHECK_STR(out, "");
    PP_CHECK_INT(pp_lake_s3_encode("abc", 0, out, 3), PP_ETOOBIG);
    PP_CHECK_INT(pp_lake_s3_encode("a=", 0, out, 4), PP_ETOOBIG);
    PP_CHECK_INT(pp_lake_s3_encode("a=", 0, out, 5), 0);
}

struct keys {
    char all[2048];
    int n;
};

static int key_cb(void *arg, const char *key, const char *upload_id)
{
    struct keys *k = arg;
    size_t len = strlen(k->all);
    snprintf(k->all + len, sizeof(k->all) - len, "%s%s%s%s", k->n ? "|" : "", key,
             upload_id ? "#" : "", upload_id ? upload_id : "");
    k->n++;
    return 0;
}

static int stop_list_cb(void *arg, const char *key, const char *upload_id)
{
    (void)arg, (void)key, (void)upload_id;
    return -42;
}

static void test_s3_list(void)
{
    /* shapes of AWS's ListObjectsV2 documentation, as s3rver and MinIO send them */
    const char *page1 =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>lake</Name>"
        "<Prefix>raw/topic=pin/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
        "<IsTruncated>true</IsTruncated><Contents><Key>raw/topic=pin/dt=2020-08-28/"
        "pin+0+0000000000.jsonl</Key><ETag>&quot;abc&quot;</ETag><Size>10</Size></Contents>"
        "<Contents><Key>raw/topic=pin/a&amp;b&lt;&#233;&#x41;.jsonl</Key><Size>3</Size>"
        "</Contents><NextContinuationToken>1/tok+en==</NextContinuationToken>"
        "</ListBucketResult>";
    struct keys k = {.n = 0};
    int truncated = 0;
    char token[128];
    PP_CHECK_INT(
        pp_lake_s3_parse_list(page1, strlen(page1), key_cb, &k, &truncated, token, sizeof(token)),
        2);
    PP_CHECK(truncated);
    PP_CHECK_STR(token, "1/tok+en==");
    PP_CHECK_STR(k.all, "raw/topic=pin/dt=2020-08-28/pin+0+0000000000.jsonl|"
                        "raw/topic=pin/a&b<\xc3\xa9"
                        "A.jsonl");
    const char *last = "<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
                       "</ListBucketResult>";
    memset(&k, 0, sizeof(k));
    PP_CHECK_INT(
        pp_lake_s3_parse_list(last, strlen(last), key_cb, &k, &truncated, token, sizeof(token)), 0);
    PP_CHECK(!truncated);
    PP_CHECK_STR(token, "");
    const char *uploads =
        "<ListMultipartUploadsResult><Bucket>lake</Bucket><IsTruncated>false</IsTruncated>"
        "<Upload><Key>raw/topic=pin/dt=2020-08-28/pin+0+0000000007.jsonl</Key>"
        "<UploadId>u-1~x</UploadId><Initiated>2020-08-28T00:00:00Z</Initiated></Upload>"
        "</ListMultipartUploadsResult>";
    memset(&k, 0, sizeof(k));
    PP_CHECK_INT(pp_lake_s3_parse_list(uploads, strlen(uploads), key_cb, &k, &truncated, token,
                                       sizeof(token)),
                 1);
    PP_CHECK_STR(k.all, "raw/topic=pin/dt=2020-08-28/pin+0+0000000007.jsonl#u-1~x");
    PP_CHECK_INT(pp_lake_s3_parse_list(page1, strlen(page1), stop_list_cb, NULL, &truncated, token,
                                       sizeof(token)),
                 -42);
    /* malformed: an error document, a truncated page without a token, an unclosed key */
    const char *err = "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not "
                      "exist</Message></Error>";
    PP_CHECK_INT(
        pp_lake_s3_parse_list(err, strlen(err), key_cb, &k, &truncated, token, sizeof(token)),
        PP_EPARSE);
    const char *notoken = "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
    PP_CHECK_INT(pp_lake_s3_parse_list(notoken, strlen(notoken), key_cb, &k, &truncated, token,
                                       sizeof(token)),
                 PP_EPARSE);
    const char *unclosed = "<ListBucketResult><Contents><Key>raw/x</Contents></ListBucketResult>";
    PP_CHECK_INT(pp_lake_s3_parse_list(unclosed, strlen(unclosed), key_cb, &k, &truncated, token,
                                       sizeof(token)),
                 PP_EPARSE);
    char code[64];
    PP_CHECK_INT(pp_lake_s3_xml_tag(err, strlen(err), "Code", code, sizeof(code)), 0);
    PP_CHECK_STR(code, "NoSuchBucket");
    PP_CHECK_INT(pp_lake_s3_xml_tag(err, strlen(err), "UploadId", code, sizeof(code)), PP_ENOENT);
    PP_CHECK_INT(pp_lake_s3_xml_tag(err, strlen(err), "Message", code, 8), PP_ETOOBIG);
}

struct got_lines {
    char all[512];
    int stop_at; /* cb returns -5 on this record (1-based), 0 never */
    int n;
};

static int line_cb(void *arg, const char *value, size_t vlen)
{
    struct got_lines *g = arg;
    size_t len = strlen(g->all);
    snprintf(g->all + len, sizeof(g->all) - len, "%s%.*s", g->n ? "|" : "", (int)vlen, value);
    g->n++;
    return g->n == g->stop_at ? -5 : 0;
}

/* A streamed GET body split at every byte boundary gives the same records. */
static void test_s3_lines(void)
{
    const char *body = "{\"a\":1}\n\n{\"b\":2}\r\n{\"c\":\"x y\"}\n{\"d\":4}";
    size_t blen = strlen(body);
    for (size_t chunk = 1; chunk <= blen; chunk++) {
        struct got_lines g = {.n = 0};
        struct pp_lake_s3_lines l = {.cb = line_cb, .arg = &g};
        pp_buf_init(&l.line, 64);
        int ok = 1;
        for (size_t i = 0; i < blen; i += chunk) {
            size_t n = blen - i < chunk ? blen - i : chunk;
            ok &= pp_lake_s3_lines_sink(body + i, n, &l) == n;
        }
        ok &= pp_lake_s3_lines_end(&l) == 0;
        ok &= !strcmp(g.all, "{\"a\":1}|{\"b\":2}|{\"c\":\"x y\"}|{\"d\":4}") && l.count == 4;
        if (!ok)
            fprintf(stderr, "chunk %zu: got '%s'\n", chunk, g.all);
        PP_CHECK(ok);
        pp_buf_free(&l.line);
    }
    /* a retry after a broken transfer re-reads from the start: nothing is delivered twice */
    struct got_lines g = {.n = 0};
    struct pp_lake_s3_lines l = {.cb = line_cb, .arg = &g};
    pp_buf_init(&l.line, 64);
    pp_lake_s3_lines_retry(&l);
    PP_CHECK_INT((long)pp_lake_s3_lines_sink(body, 20, &l), 20); /* 2 records + a partial one */
    pp_lake_s3_lines_retry(&l);
    PP_CHECK_INT((long)pp_lake_s3_lines_sink(body, blen, &l), (long)blen);
    PP_CHECK_INT(pp_lake_s3_lines_end(&l), 0);
    PP_CHECK_STR(g.all, "{\"a\":1}|{\"b\":2}|{\"c\":\"x y\"}|{\"d\":4}");
    PP_CHECK_INT(l.count, 4);
    /* the callback's negative return stops the transfer and is kept */
    memset(&g, 0, sizeof(g));
    g.stop_at = 2;
    pp_buf_reset(&l.line);
    l.done = l.seen = 0;
    l.count = 0;
    PP_CHECK_INT((long)pp_lake_s3_lines_sink(body, blen, &l), 0);
    PP_CHECK_INT(l.rc, -5);
    /* a record over the cap */
    struct pp_lake_s3_lines small = {.cb = line_cb, .arg = &g};
    pp_buf_init(&small.line, 4);
    PP_CHECK_INT((long)pp_lake_s3_lines_sink("0123", 4, &small), 4);
    PP_CHECK_INT((long)pp_lake_s3_lines_sink("45\n", 3, &small), 0);
    PP_CHECK_INT(small.rc, PP_ETOOBIG);
    pp_buf_free(&small.line);
    pp_buf_free(&l.line);
}

static void test_s3_creds(void)
{
    struct pp_lake_s3_creds c = {0};
    char path[512];
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
    setenv("AWS_SESSION_TOKEN", "tokenenv", 1);
    PP_CHECK_INT(pp_lake_s3_creds_load(&c), 0);
    PP_CHECK_STR(c.key_id, "AKIDENV");
    PP_CHECK_STR(c.secret, "secretenv");
    PP_CHECK_STR(c.token ? c.token : "", "tokenenv");
    pp_lake_s3_creds_free(&c);
    PP_CHECK(c.key_id == NULL && c.secret == NULL && c.token == NULL);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    mkdir(root, 0700);
    snprintf(path, sizeof(path), "%s/creds", root);
    FILE *f = fopen(path, "w");
    PP_CHECK(f != NULL);
    if (!f)
        return;
    fputs("[default]\r\naws_access_key_id = AKIDDEF\r\naws_secret_access_key = s=def\r\n"
          "[prod]\naws_access_key_id=AKIDPROD\n; comment\naws_secret_access_key= sprod\n"
          "aws_session_token = tprod\n",
          f);
    fclose(f);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    PP_CHECK_INT(pp_lake_s3_creds_load(&c), 0);
    PP_CHECK_STR(c.key_id, "AKIDDEF");
    PP_CHECK_STR(c.secret, "s=def");
    PP_CHECK(c.token == NULL);
    pp_lake_s3_creds_free(&c);
    setenv("AWS_PROFILE", "prod", 1);
    PP_CHECK_INT(pp_lake_s3_creds_load(&c), 0);
    PP_CHECK_STR(c.key_id, "AKIDPROD");
    PP_CHECK_STR(c.secret, "sprod");
    PP_CHECK_STR(c.token ? c.token : "", "tprod");
    pp_lake_s3_creds_free(&c);
    setenv("AWS_PROFILE", "nosuch", 1);
    PP_CHECK_INT(pp_lake_s3_creds_load(&c), PP_ENOENT);
    pp_lake_s3_creds_free(&c);
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unlink(path);
}

/* pp_lake_open on s3:// roots: configuration errors are clear and never show secrets. */
static void test_s3_open_errors(void)
{
    struct pp_lake_conf conf;
    char err[512], path[512];
    pp_lake_conf_defaults(&conf);
    PP_CHECK(conf.s3_endpoint == NULL && conf.s3_region == NULL && conf.s3_path_style == 0);
    setenv("AWS_ACCESS_KEY_ID", "AKIDUNITTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "sEcReTuNiT", 1);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_S3");
    conf.root = "s3://Bad_Bucket/x";
    PP_CHECK(pp_lake_open(&conf, err, sizeof(err)) == NULL);
    PP_CHECK(strstr(err, "bad S3 root") != NULL);
    conf.root = "s3://lake/raw";
    conf.s3_endpoint = "ftp://127.0.0.1:1";
    PP_CHECK(pp_lake_open(&conf, err, sizeof(err)) == NULL);
    PP_CHECK(strstr(err, "bad S3 endpoint") != NULL);
    /* a closed loopback port: a connection error (after bounded retries), no secret shown */
    conf.s3_endpoint = "http://127.0.0.1:1";
    conf.s3_path_style = 1;
    PP_CHECK(pp_lake_open(&conf, err, sizeof(err)) == NULL);
    PP_CHECK(strstr(err, "s3 GET s3://lake/") != NULL);
    PP_CHECK(strstr(err, "sEcReTuNiT") == NULL && strstr(err, "AKIDUNITTEST") == NULL);
    /* no credentials at all */
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    mkdir(root, 0700); /* earlier tests remove it */
    snprintf(path, sizeof(path), "%s/credentials", root);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    PP_CHECK(pp_lake_open(&conf, err, sizeof(err)) == NULL);
    PP_CHECK(strstr(err, "no AWS credentials") != NULL);
    /* the shared credentials file: the AWS_PROFILE section is used */
    FILE *f = fopen(path, "w");
    PP_CHECK(f != NULL);
    if (!f)
        return;
    fputs("[default]\naws_access_key_id = AKIDDEFAULT\n\n[ci]\n# comment\n"
          "aws_access_key_id=AKIDCI\naws_secret_access_key = sEcReTcI \n",
          f);
    fclose(f);
    PP_CHECK(pp_lake_open(&conf, err, sizeof(err)) == NULL); /* default lacks the secret */
    PP_CHECK(strstr(err, "no AWS credentials") != NULL);
    setenv("AWS_PROFILE", "ci", 1);
    PP_CHECK(pp_lake_open(&conf, err, sizeof(err)) == NULL); /* found: fails connecting */
    PP_CHECK(strstr(err, "s3 GET") != NULL && strstr(err, "sEcReTcI") == NULL);
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unlink(path);
}

/* Path style by itself for IP literals and localhost, as botocore and the AWS CLI decide. */
static void test_s3_path_style_auto(void)
{
    static const struct {
        const char *endpoint;
        int path_style;
    } cases[] = {
        {"http://localhost:9000", 1},
        {"http://LocalHost", 1},
        {"http://127.0.0.1", 1},
        {"http://127.0.0.1:9000/", 1},
        {"https://10.1.2.3/base", 1},
        {"http://[::1]:9000", 1},
        {"http://[::1]", 1},
        {"https://s3.amazonaws.com", 0},
        {"https://s3.eu-west-1.amazonaws.com", 0},
        {"http://minio:9000", 0},
        {"http://localhost.example.com", 0},
        {"http://127.0.0.1.nip.io:9000", 0},
        {"http://1.2.3", 0},
        {"127.0.0.1", 0}, /* no scheme: not an endpoint */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        PP_CHECK_INT(pp_lake_s3_path_style_auto(cases[i].endpoint), cases[i].path_style);
    PP_CHECK_INT(pp_lake_s3_path_style_auto(NULL), 0);
}

/* SigV4 against AWS's published example ("GET Object" in "Signature Calculations for the
 * Authorization Header: Transferring Payload in a Single Chunk") and against botocore's
 * S3SigV4Auth (tests/s3/verify_proxy.py's expected_signature) for a request with everything
 * the lake sends: an encoded key with '=', '+', ' ' and UTF-8, an unsorted query, a session
 * token, a copy source, a port in Host, a value with a run of blanks; Expect and empty-valued
 * lines (curl's header removal) are left out. */
static void test_s3_sign(void)
{
    static const char empty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    char auth[1024], hex[65];
    PP_CHECK_INT(pp_lake_s3_sha256_hex("", 0, hex), 0);
    PP_CHECK_STR(hex, empty);
    const char *h1[] = {"Host: examplebucket.s3.amazonaws.com", "Range: bytes=0-9",
                        "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934"
                        "ca495991b7852b855",
                        "x-amz-date: 20130524T000000Z"};
    struct pp_lake_s3_sig sig = {"GET",
                                 "/test.txt",
                                 NULL,
                                 h1,
                                 4,
                                 empty,
                                 "20130524T000000Z",
                                 "us-east-1",
                                 "AKIAIOSFODNN7EXAMPLE",
                                 "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
    PP_CHECK_INT(pp_lake_s3_sign(&sig, auth, sizeof(auth)), 0);
    PP_CHECK_STR(auth, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                       "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                       "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bd"
                       "b41");
    const char *h2[] = {"Expect:",
                        "Host: 127.0.0.1:9000",
                        "x-amz-date: 20240102T030405Z",
                        "Expect: 100-continue",
                        "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934"
                        "ca495991b7852b855",
                        "x-amz-security-token: tok/en+==",
                        "x-amz-copy-source: /lake/a%20b",
                        "Content-Type: application/x-ndjson",
                        "If-Match:   \"a  b\" ",
                        "Accept:"};
    sig = (struct pp_lake_s3_sig){"PUT",
                                  "/lake/pre%20fix%2Ba%3Db/%C3%A9/k%3D1.jsonl",
                                  "uploadId=a%2Fb&partNumber=2",
                                  h2,
                                  10,
                                  empty,
                                  "20240102T030405Z",
                                  "eu-west-1",
                                  "S3RVER",
                                  "S3RVER"};
    PP_CHECK_INT(pp_lake_s3_sign(&sig, auth, sizeof(auth)), 0);
    PP_CHECK_STR(auth, "AWS4-HMAC-SHA256 Credential=S3RVER/20240102/eu-west-1/s3/aws4_request, "
                       "SignedHeaders=content-type;host;if-match;x-amz-content-sha256;"
                       "x-amz-copy-source;x-amz-date;x-amz-security-token, Signature=7eab82c94a"
                       "440b6c5c7b4d4c12c5d0c4d2cfcdf428bafdce900d4838bb1dfdee");
    sig.secret = "S3RVEX"; /* a wrong secret signs differently */
    PP_CHECK_INT(pp_lake_s3_sign(&sig, auth, sizeof(auth)), 0);
    PP_CHECK(strstr(auth, "Signature=7eab82c9") == NULL);
    PP_CHECK_INT(pp_lake_s3_sign(&sig, auth, 40), PP_ETOOBIG);
    sig.headers = h2 + 2; /* no Host */
    sig.nheaders = 3;
    PP_CHECK_INT(pp_lake_s3_sign(&sig, auth, sizeof(auth)), PP_EINVAL);
    const char *h3[] = {"Host: a", "host: b"}; /* repeated */
    sig.headers = h3;
    sig.nheaders = 2;
    PP_CHECK_INT(pp_lake_s3_sign(&sig, auth, sizeof(auth)), PP_EINVAL);
    const char *h4[] = {"Host: a", "no colon"};
    sig.headers = h4;
    PP_CHECK_INT(pp_lake_s3_sign(&sig, auth, sizeof(auth)), PP_EINVAL);
    sig.nheaders = 1;
    sig.amz_date = "2024-01-02";
    PP_CHECK_INT(pp_lake_s3_sign(&sig, auth, sizeof(auth)), PP_EINVAL);
}

/* pp_lake_read_day_files: which file each record comes from; a file may be skipped. */
struct files_seen {
    int files, skipped;
    long records;
    char list[256];
};

static int files_file(void *arg, int partition, int64_t start)
{
    struct files_seen *f = arg;
    size_t n = strlen(f->list);
    snprintf(f->list + n, sizeof(f->list) - n, "%d+%" PRId64 " ", partition, start);
    f->files++;
    return partition == 1 ? (f->skipped++, 1) : 0; /* skip partition 1's files */
}

static int files_record(void *arg, const char *value, size_t vlen)
{
    (void)value, (void)vlen;
    ((struct files_seen *)arg)->records++;
    return 0;
}

/* The day's marker: written once (a second writer neither fails nor replaces it), read back;
 * its folder alone is no lake data (PP_ENOENT, as on S3); bad names refused. */
static void test_marker(void)
{
    struct pp_lake *lake = open_lake(0, 0);
    struct commits c = {0};
    char body[128];
    PP_CHECK(lake != NULL);
    if (!lake)
        return;
    PP_CHECK_INT(pp_lake_day_marker(lake, "pin", "2020-08-30", body, sizeof(body)), PP_ENOENT);
    PP_CHECK_INT(pp_lake_day_mark(lake, "pin", "2020-08-30", "{\"offsets\":[1]}\n", 16), 0);
    PP_CHECK(exists("topic=pin/dt=2020-08-30/_SUCCESS"));
    PP_CHECK_INT(pp_lake_day_mark(lake, "pin", "2020-08-30", "{\"offsets\":[2]}\n", 16), 1);
    PP_CHECK_INT(pp_lake_day_marker(lake, "pin", "2020-08-30", body, sizeof(body)), 16);
    PP_CHECK_STR(body, "{\"offsets\":[1]}\n"); /* the first one stays */
    PP_CHECK_INT(pp_lake_day_marker(lake, "pin", "2020-08-30", body, 5), 4); /* cut to fit */
    PP_CHECK_INT(pp_lake_read_day(lake, "pin", "2020-08-30", files_record, &c), PP_ENOENT);
    PP_CHECK_INT(pp_lake_day_mark(lake, "a/b", "2020-08-30", "{}", 2), PP_EINVAL);
    PP_CHECK_INT(pp_lake_day_mark(lake, "pin", "2020-8-30", "{}", 2), PP_EINVAL);
    PP_CHECK_INT(pp_lake_day_marker(lake, "pin", "2020-13-01", body, sizeof(body)), PP_EINVAL);
    /* files of partitions 0 and 1 on 2020-08-31: the reader names each, skips partition 1 */
    int64_t ts = TS_0828 + 3 * DAY;
    PP_CHECK_INT(put(lake, "geo", 0, 7, ts), 0);
    PP_CHECK_INT(put(lake, "geo", 0, 8, ts), 0);
    PP_CHECK_INT(put(lake, "geo", 1, 3, ts), 0);
    PP_CHECK_INT(pp_lake_flush(lake, pp_now_ms(), 1, commit_cb, &c), 2);
    PP_CHECK_INT(put(lake, "geo", 0, 9, ts), 0);
    PP_CHECK_INT(pp_lake_flush(lake, pp_now_ms(), 1, commit_cb, &c), 1);
    struct files_seen f = {0};
    struct pp_lake_reader rd = {files_record, files_file, &f};
    PP_CHECK_INT(pp_lake_read_day_files(lake, "geo", "2020-08-31", &rd), 3);
    PP_CHECK_INT(f.files, 3);
    PP_CHECK_INT(f.skipped, 1);
    PP_CHECK_INT(f.records, 3);
    PP_CHECK_STR(f.list, "0+7 0+9 1+3 ");
    pp_lake_close(lake);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof(root), "%s/pp_lake_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_path();
    test_parse_name_range();
    test_s3_header();
    test_temp_then_finish();
    test_roll_size();
    test_roll_age_idle();
    test_roll_day();
    test_newlines();
    test_big_records();
    test_truncate_from();
    test_drop_lost();
    test_own();
    test_marker();
    test_crash_rerun();
    test_s3_root();
    test_s3_encode();
    test_s3_list();
    test_s3_lines();
    test_s3_creds();
    test_s3_open_errors();
    test_s3_path_style_auto();
    test_s3_sign();
    rm_rf(root);
    PP_TEST_DONE();
}
