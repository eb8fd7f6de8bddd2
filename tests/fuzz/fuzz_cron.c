/* fuzz_cron.c: libFuzzer harness for cron expressions (src/sched/cron.c): parse the input as an
 * expression; when it parses, its next matching time after a few start times must be a whole
 * minute after the start that matches every field, and no earlier minute may match (checked
 * by brute force when the answer is near). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "pp_sched.h"

/* Does some minute of the day starting at d (00:00 UTC) match? Month and day fields only. */
static int day_matches(const struct pp_cron *c, int64_t d)
{
    time_t tt = (time_t)d;
    struct tm tm;
    FUZZ_CHECK(gmtime_r(&tt, &tm) != NULL);
    int md = (c->mday >> tm.tm_mday) & 1, wd = (c->wday >> tm.tm_wday) & 1;
    int day = c->mday_star || c->wday_star ? md && wd : md || wd;
    return day && ((c->month >> (tm.tm_mon + 1)) & 1);
}

/* Does minute x (seconds since the epoch, UTC) match cron? Written from the documented rules,
 * independently of cron.c: Vixie cron's day rule (either day field matches when both are
 * restricted). */
static int matches(const struct pp_cron *c, int64_t x)
{
    time_t tt = (time_t)x;
    struct tm tm;
    FUZZ_CHECK(gmtime_r(&tt, &tm) != NULL);
    return day_matches(c, x - x % 86400) && ((c->hour >> tm.tm_hour) & 1) &&
           ((c->minute >> tm.tm_min) & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256) /* real expressions are short; longer ones only repeat list items */
        return 0;
    char expr[257], err[512];
    memcpy(expr, data, size);
    expr[size] = '\0';
    struct pp_cron cron;
    int rc = pp_cron_parse(expr, &cron, err, sizeof(err));
    if (rc) {
        FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(cron.minute && cron.hour && cron.mday && cron.month && cron.wday);
    FUZZ_CHECK(cron.minute >> 60 == 0 && cron.hour >> 24 == 0 && (cron.mday & 1) == 0 &&
               (cron.month & 1) == 0 && cron.month >> 13 == 0 && cron.wday >> 7 == 0);
    /* start times: the epoch, a leap day, a second before a year's end, 2026 */
    static const int64_t starts[] = {0, 951782400 + 3599, 1767225599, 1764000000};
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        int64_t t = starts[i], next = pp_cron_next(&cron, t);
        if (next < 0) { /* nothing within 5 years, e.g. "0 0 30 2 *": no day of 4 years may
                            match (hours and minutes are never empty, so a day is enough) */
            for (int64_t d = (t / 86400 + 1) * 86400; d < t + 4 * 365 * INT64_C(86400); d += 86400)
                FUZZ_CHECK(!day_matches(&cron, d));
            continue;
        }
        FUZZ_CHECK(next > t && next % 60 == 0);
        FUZZ_CHECK(matches(&cron, next));
        if (next - t <= 3 * 86400) /* no earlier minute matches (brute force, kept cheap) */
            for (int64_t x = (t / 60 + 1) * 60; x < next; x += 60)
                FUZZ_CHECK(!matches(&cron, x));
        FUZZ_CHECK(pp_cron_next(&cron, next - 1) == next);
    }
    return 0;
}
