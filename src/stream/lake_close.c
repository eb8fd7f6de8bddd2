/* lake_close.c: closing an ingest day in the lake -- deciding, by position, that every record
 * of that day is in finished, committed, published lake files, and writing the day's _SUCCESS
 * markers (pp_lake.h). Used by the lake workers (every member, shortly after midnight + grace)
 * and by `pinpipe lake --close-day` (the daily DAG's first task). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp_buf.h"
#include "pp_err.h"
#include "pp_stream.h"
#include "pp_util.h"

#define GROUP "lake"
#define DAY_MS 86400000LL
#define READ_TIMEOUT_MS 5000 /* the record at a committed offset below the high watermark */

static const char *const topics[] = {"pin", "geo", "user"};

/* Where the lake group stands in one partition. */
struct position {
    int64_t offset;                  /* committed (the low watermark when never committed) */
    char meta[PP_LOG_META_MAX + 1];  /* its commit metadata (S3: the pending token) */
};

/* One partition's verdict: 1 past the day, 0 not yet (why), <0 error (why); fills *pos. */
static int partition_past(struct pp_log *log, const char *topic, int p, int64_t day_end,
                          struct position *pos, char *why, size_t why_size)
{
    int64_t low, high, c, *committed = &pos->offset;
    char *meta = pos->meta;
    int rc = pp_log_watermarks(log, topic, p, &low, &high);
    if (rc) {
        snprintf(why, why_size, "%s[%d]: watermarks: %s", topic, p, pp_err_str(rc));
        return rc;
    }
    rc = pp_log_committed_meta(log, GROUP, topic, p, &c, meta, PP_LOG_META_MAX + 1);
    if (rc == PP_ENOENT) {
        c = 0;
        meta[0] = '\0';
    } else if (rc) {
        snprintf(why, why_size, "%s[%d]: committed offset of group lake: %s", topic, p,
                 pp_err_str(rc));
        return rc;
    }
    *committed = c < low ? low : c; /* retention deleted what was below low */
    if (*committed >= high)
        return 1; /* everything written so far is in the lake (and the clock is past the day) */
    char err[256] = "";
    struct pp_log_reader *rd = pp_log_reader_open(log, topic, p, *committed, err, sizeof(err));
    if (!rd) {
        snprintf(why, why_size, "%s[%d]: reader at offset %" PRId64 ": %s", topic, p, *committed,
                 err);
        return PP_EIO;
    }
    struct pp_log_rec rec;
    int n = pp_log_read(rd, &rec, 1, READ_TIMEOUT_MS);
    int64_t ts = n == 1 ? rec.ts_ms : 0, off = n == 1 ? rec.offset : *committed;
    pp_log_reader_close(rd);
    if (n < 0) {
        snprintf(why, why_size, "%s[%d]: read at offset %" PRId64 ": %s", topic, p, *committed,
                 pp_err_str(n));
        return n;
    }
    if (n == 1 && ts >= day_end)
        return 1; /* the next record the lake will write is from a later day */
    char date[16];
    pp_date_format(ts, date, sizeof(date));
    if (n == 1)
        snprintf(why, why_size,
                 "%s[%d]: the lake group has committed up to offset %" PRId64 " of %" PRId64
                 " and record %" PRId64 " is from %s (lag %" PRId64 ")",
                 topic, p, *committed, high, off, date, high - *committed);
    else
        snprintf(why, why_size, "%s[%d]: record %" PRId64 " not readable within %d ms (lag %" PRId64 ")",
                 topic, p, *committed, READ_TIMEOUT_MS, high - *committed);
    return 0;
}

/* The marker's body: {"topic":..,"date":..,"closed_ms":..,"offsets":[..]}. */
static int marker_body(struct pp_buf *b, const char *topic, const char *date, int64_t now_ms,
                       const struct position *pos, int n)
{
    pp_buf_reset(b);
    int rc = pp_buf_printf(b, "{\"topic\":\"%s\",\"date\":\"%s\",\"closed_ms\":%" PRId64
                              ",\"offsets\":[",
                           topic, date, now_ms);
    for (int p = 0; !rc && p < n; p++)
        rc = pp_buf_printf(b, "%s%" PRId64, p ? "," : "", pos[p].offset);
    return rc ? rc : pp_buf_puts(b, "]}\n");
}

/* Every topic's marker there already? @returns 1, 0, <0. */
static int all_marked(struct pp_lake *lake, const char *date)
{
    char body[64];
    for (int t = 0; t < 3; t++) {
        long rc = pp_lake_day_marker(lake, topics[t], date, body, sizeof(body));
        if (rc == PP_ENOENT)
            return 0;
        if (rc < 0)
            return (int)rc;
    }
    return 1;
}

/* All partitions are past the day: publish what their commits cover (S3), then the markers.
 * @returns 0 or <0 (why). */
static int publish_and_mark(struct pp_lake *lake, const char *date, int64_t now_ms,
                            struct position *const *pos, const int *nparts, int *marked,
                            char *why, size_t why_size)
{
    int rc = 0;
    /* S3: what the commits cover may still be pending (a writer killed between its commit and
     * the copy): publish it, so the marker never precedes the day's last file */
    for (int t = 0; t < 3; t++)
        for (int p = 0; p < nparts[t]; p++)
            if (pos[t][p].meta[0] &&
                (rc = pp_lake_publish(lake, topics[t], p, pos[t][p].offset, pos[t][p].meta)) < 0) {
                snprintf(why, why_size, "publishing %s[%d]: %s", topics[t], p,
                         pp_lake_errmsg(lake));
                return rc;
            }
    struct pp_buf body;
    pp_buf_init(&body, PP_LAKE_MARKER_MAX);
    rc = 0;
    for (int t = 0; t < 3 && rc >= 0; t++) {
        rc = marker_body(&body, topics[t], date, now_ms, pos[t], nparts[t]);
        if (!rc)
            rc = pp_lake_day_mark(lake, topics[t], date, body.data, body.len);
        if (rc == 0)
            ++*marked;
        if (rc < 0)
            snprintf(why, why_size, "writing the marker of %s: %s", topics[t],
                     *pp_lake_errmsg(lake) ? pp_lake_errmsg(lake) : pp_err_str(rc));
    }
    pp_buf_free(&body);
    return rc < 0 ? rc : 0;
}

int pp_lake_close_day(struct pp_log *log, struct pp_lake *lake, const char *date, int64_t now_ms,
                      int64_t grace_ms, int *marked, char *why, size_t why_size)
{
    int64_t day_start;
    why[0] = '\0';
    *marked = 0;
    if (pp_date_parse(date, &day_start) || strlen(date) != 10) {
        snprintf(why, why_size, "not a date (YYYY-MM-DD): '%s'", date);
        return PP_EINVAL;
    }
    int rc = all_marked(lake, date);
    if (rc) {
        if (rc < 0)
            snprintf(why, why_size, "reading the markers: %s", pp_lake_errmsg(lake));
        return rc;
    }
    int64_t day_end = day_start + DAY_MS;
    if (now_ms < day_end + grace_ms) {
        char at[24];
        pp_time_format((day_end + grace_ms) / 1000, at, sizeof(at));
        snprintf(why, why_size, "%s closes at %s UTC at the earliest (its end plus the grace of "
                 "%" PRId64 " s for clock skew and late deliveries)", date, at, grace_ms / 1000);
        return 0;
    }
    /* every partition first: a day is closed only when all are past it */
    struct position *pos[3] = {NULL, NULL, NULL};
    int nparts[3] = {0, 0, 0};
    for (int t = 0; t < 3 && rc == 0; t++) {
        int n = pp_log_partitions(log, topics[t], 0);
        if (n == PP_ENOENT)
            n = 0; /* no such topic: nothing was ever written to it */
        if (n < 0) {
            snprintf(why, why_size, "partitions of %s: %s", topics[t], pp_err_str(n));
            rc = n;
            break;
        }
        if (n > 0 && !(pos[t] = calloc((size_t)n, sizeof(*pos[t])))) {
            rc = PP_ENOMEM;
            break;
        }
        nparts[t] = n;
        for (int p = 0; p < n && rc == 0; p++) {
            int past = partition_past(log, topics[t], p, day_end, &pos[t][p], why, why_size);
            rc = past == 1 ? 0 : past == 0 ? 2 : past; /* 2: not yet */
        }
    }
    if (rc == 0)
        rc = publish_and_mark(lake, date, now_ms, pos, nparts, marked, why, why_size);
    for (int t = 0; t < 3; t++)
        free(pos[t]);
    return rc == 2 ? 0 : rc < 0 ? rc : 1;
}
