/* cron.c: cron expressions (5 fields, UTC) and their next matching time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pp_err.h"
#include "pp_sched.h"

static const struct {
    const char *name, *expr;
} macros[] = {{"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
              {"@weekly", "0 0 * * 0"},  {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
              {"@hourly", "0 * * * *"}};

/* Parse one number in [lo, hi]. @returns pointer past it or NULL. */
static const char *num(const char *p, int lo, int hi, int *v)
{
    char *end;
    if (*p < '0' || *p > '9')
        return NULL;
    long x = strtol(p, &end, 10);
    if (x < lo || x > hi)
        return NULL;
    *v = (int)x;
    return end;
}

/* One field ("*", "*\/n", "a", "a-b", "a-b/n", comma lists) into a bit set. */
static int field(const char *s, const char *e, int lo, int hi, uint64_t *bits, int *star)
{
    *bits = 0;
    *star = e - s == 1 && *s == '*';
    const char *p = s;
    while (p < e) {
        int a, b, step = 1, single = 0;
        if (*p == '*') {
            a = lo, b = hi, p++;
        } else {
            if (!(p = num(p, lo, hi, &a)))
                return PP_EPARSE;
            b = a;
            single = *p != '-';
            if (*p == '-' && !(p = num(p + 1, lo, hi, &b)))
                return PP_EPARSE;
        }
        if (p < e && *p == '/') {
            if (!(p = num(p + 1, 1, hi, &step)))
                return PP_EPARSE;
            if (single)
                b = hi; /* "5/15": from 5 every 15 */
        }
        if (a > b)
            return PP_EPARSE;
        for (int i = a; i <= b; i += step)
            *bits |= (uint64_t)1 << i;
        if (p < e && *p == ',')
            p++;
        else if (p != e)
            return PP_EPARSE;
    }
    return *bits ? 0 : PP_EPARSE;
}

int pp_cron_parse(const char *expr, struct pp_cron *cron, char *errstr, size_t errstr_size)
{
    static const char *const names[5] = {"minute", "hour", "day of month", "month",
                                          "day of week"};
    static const int lo[5] = {0, 0, 1, 1, 0}, hi[5] = {59, 23, 31, 12, 7};
    for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
        if (!strcmp(expr, macros[i].name))
            expr = macros[i].expr;
    memset(cron, 0, sizeof(*cron));
    const char *p = expr;
    uint64_t bits[5];
    int star[5];
    for (int f = 0; f < 5; f++) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *s = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (s == p || field(s, p, lo[f], hi[f], &bits[f], &star[f])) {
            snprintf(errstr, errstr_size, "bad cron expression '%s': %s field", expr,
                     s == p ? "missing" : names[f]);
            return PP_EPARSE;
        }
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p) {
        snprintf(errstr, errstr_size, "bad cron expression '%s': more than 5 fields", expr);
        return PP_EPARSE;
    }
    cron->minute = bits[0];
    cron->hour = (uint32_t)bits[1];
    cron->mday = (uint32_t)bits[2];
    cron->month = (uint16_t)bits[3];
    cron->wday = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7F); /* 7 = Sunday */
    cron->mday_star = (uint8_t)star[2];
    cron->wday_star = (uint8_t)star[4];
    return 0;
}

static int day_matches(const struct pp_cron *c, const struct tm *tm)
{
    int md = (c->mday >> tm->tm_mday) & 1, wd = (c->wday >> tm->tm_wday) & 1;
    if (c->mday_star || c->wday_star)
        return md && wd;
    return md || wd;
}

int64_t pp_cron_next(const struct pp_cron *cron, int64_t t)
{
    time_t x = (time_t)((t / 60 + 1) * 60); /* next whole minute after t */
    time_t limit = x + (time_t)5 * 366 * 86400;
    struct tm tm;
    while (x < limit) {
        gmtime_r(&x, &tm);
        if (!((cron->month >> (tm.tm_mon + 1)) & 1) || !day_matches(cron, &tm)) {
            tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
            tm.tm_mday++; /* timegm normalises */
            x = timegm(&tm);
            continue;
        }
        if (!((cron->hour >> tm.tm_hour) & 1)) {
            tm.tm_min = tm.tm_sec = 0;
            tm.tm_hour++;
            x = timegm(&tm);
            continue;
        }
        if (!((cron->minute >> tm.tm_min) & 1)) {
            x += 60;
            continue;
        }
        return (int64_t)x;
    }
    return -1;
}
