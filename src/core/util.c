/* util.c: clocks, datetimes, number/size/duration parsing and stderr diagnostics. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "pp_err.h"
#include "pp_util.h"

/* The test clock's offset: read once ($PINPIPE_TEST_CLOCK_OFFSET_MS, a signed integer of
 * milliseconds; unset, empty or malformed = 0). Racing first calls compute the same value. */
static int64_t clock_offset_ms(void)
{
    static int64_t offset;
    static int known;
    if (__atomic_load_n(&known, __ATOMIC_ACQUIRE))
        return __atomic_load_n(&offset, __ATOMIC_RELAXED);
    const char *v = getenv(PP_TEST_CLOCK_ENV);
    int64_t off = 0;
    if (v && *v && pp_parse_i64(v, -INT64_C(4000000000000), INT64_C(4000000000000), &off))
        off = 0;
    __atomic_store_n(&offset, off, __ATOMIC_RELAXED);
    __atomic_store_n(&known, 1, __ATOMIC_RELEASE);
    return off;
}

int64_t pp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + clock_offset_ms();
}

int64_t pp_real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t pp_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, const char *e, int n, int *v)
{
    if (e - s < n)
        return -1;
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

int pp_time_parse(const char *s, size_t n, int64_t *us)
{
    const char *p = s, *e = s + n;
    int y, mo, d, h = 0, mi = 0, sec = 0, frac_us = 0, off_min = 0;
    if (digits(p, e, 4, &y) || e - p < 10 || p[4] != '-' || digits(p + 5, e, 2, &mo) ||
        p[7] != '-' || digits(p + 8, e, 2, &d))
        return PP_EPARSE;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return PP_EPARSE;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return PP_EPARSE;
    p += 10;
    if (p < e) {
        if ((*p != ' ' && *p != 'T' && *p != 't') || digits(p + 1, e, 2, &h) || e - p < 6 ||
            p[3] != ':' || digits(p + 4, e, 2, &mi))
            return PP_EPARSE;
        p += 6;
        if (p < e && *p == ':') {
            if (digits(p + 1, e, 2, &sec))
                return PP_EPARSE;
            p += 3;
        }
        if (h > 23 || mi > 59 || sec > 60)
            return PP_EPARSE;
        if (p < e && *p == '.') {
            p++;
            int nd = 0, scale = 100000;
            while (p < e && *p >= '0' && *p <= '9') {
                if (nd++ < 6)
                    frac_us += (*p - '0') * scale, scale /= 10;
                p++;
            }
            if (!nd)
                return PP_EPARSE;
        }
        if (p < e && (*p == 'Z' || *p == 'z')) {
            p++;
        } else if (p < e && (*p == '+' || *p == '-')) {
            int sign = *p == '-' ? -1 : 1, oh, om = 0;
            if (digits(p + 1, e, 2, &oh))
                return PP_EPARSE;
            p += 3;
            if (p < e && *p == ':')
                p++;
            if (p < e && digits(p, e, 2, &om) == 0)
                p += 2;
            if (oh > 23 || om > 59)
                return PP_EPARSE;
            off_min = sign * (oh * 60 + om);
        }
    }
    if (p != e)
        return PP_EPARSE;
    int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    t -= (int64_t)off_min * 60;
    *us = t * 1000000 + frac_us;
    return 0;
}

void pp_time_format(int64_t sec, char *out, size_t size)
{
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
}

void pp_date_format(int64_t ms, char *out, size_t size)
{
    time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0));
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%d", &tm);
}

int pp_date_parse(const char *s, int64_t *ms)
{
    int64_t us;
    if (strlen(s) != 10 || pp_time_parse(s, 10, &us))
        return PP_EPARSE;
    *ms = us / 1000;
    return 0;
}

int pp_parse_i64(const char *s, int64_t min, int64_t max, int64_t *v)
{
    char *end;
    if (!s || !*s)
        return PP_EPARSE;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (*end)
        return PP_EPARSE;
    if (errno == ERANGE || x < min || x > max)
        return PP_ERANGE;
    *v = x;
    return 0;
}

int pp_parse_size(const char *s, uint64_t *bytes)
{
    char *end;
    if (!s || !*s || *s == '-')
        return PP_EPARSE;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (end == s || errno == ERANGE)
        return PP_EPARSE;
    unsigned shift = 0;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    default: return PP_EPARSE;
    }
    if (*end && end[1] && !((end[1] == 'B' || end[1] == 'b') && !end[2]))
        return PP_EPARSE;
    if (shift && x > (UINT64_MAX >> shift))
        return PP_ERANGE;
    *bytes = (uint64_t)x << shift;
    return 0;
}

int pp_parse_duration_ms(const char *s, int64_t *ms)
{
    char *end;
    if (!s || !*s || *s == '-')
        return PP_EPARSE;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (end == s || errno == ERANGE)
        return PP_EPARSE;
    int64_t mult;
    if (!*end || !strcmp(end, "ms"))
        mult = 1;
    else if (!strcmp(end, "s"))
        mult = 1000;
    else if (!strcmp(end, "m"))
        mult = 60000;
    else if (!strcmp(end, "h"))
        mult = 3600000;
    else if (!strcmp(end, "d"))
        mult = 86400000;
    else
        return PP_EPARSE;
    if (x > INT64_MAX / mult)
        return PP_ERANGE;
    *ms = x * mult;
    return 0;
}

int pp_parse_hostport(const char *s, char *host, size_t host_size, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon)
        return PP_EPARSE;
    const char *h = s;
    size_t hn = (size_t)(colon - s);
    if (hn >= 2 && h[0] == '[' && h[hn - 1] == ']')
        h++, hn -= 2;
    if (hn >= host_size)
        return PP_ETOOBIG;
    memcpy(host, h, hn);
    host[hn] = '\0';
    int64_t p;
    if (pp_parse_i64(colon + 1, 0, 65535, &p))
        return PP_EPARSE;
    *port = (int)p;
    return 0;
}

/* Process-wide settings of the diagnostics, set once by main() before any thread starts. */
static enum pp_level diag_level = PP_LVL_INFO;
static int diag_color;

void pp_diag_set_level(enum pp_level level)
{
    diag_level = level;
}

enum pp_level pp_diag_level(void)
{
    return diag_level;
}

void pp_diag_set_color(int on)
{
    diag_color = on;
}

void pp_diag(enum pp_level level, const char *module, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    static const char *const colored[] = {"\033[1;31merror\033[0m", "\033[33mwarn\033[0m",
                                          "info", "\033[2mdebug\033[0m"};
    if (level > diag_level)
        return;
    char line[1024];
    int64_t ms = pp_now_ms();
    char ts[24];
    pp_time_format(ms / 1000, ts, sizeof(ts));
    ts[10] = 'T';
    int n = snprintf(line, sizeof(line), "%s.%03dZ %s %s ", ts, (int)(ms % 1000),
                     diag_color ? colored[level] : names[level],
                     module);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(line))
        n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line) - 1)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

int pp_lock_file(const char *path, int wait_ms, char *why, size_t why_size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(why, why_size, "open %s: %s", path, strerror(errno));
        return PP_EIO;
    }
    int64_t deadline = pp_mono_us() + (int64_t)(wait_ms > 0 ? wait_ms : 0) * 1000;
    while (flock(fd, LOCK_EX | LOCK_NB)) {
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK) {
            snprintf(why, why_size, "flock %s: %s", path, strerror(errno));
            close(fd);
            return PP_EIO;
        }
        if (pp_mono_us() >= deadline) { /* the holder's line names it */
            ssize_t n = pread(fd, why, why_size - 1, 0);
            why[n > 0 ? n : 0] = '\0';
            why[strcspn(why, "\n")] = '\0';
            if (!why[0])
                snprintf(why, why_size, "unknown");
            close(fd);
            return PP_EBUSY;
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    char host[64] = "", line[128];
    gethostname(host, sizeof(host) - 1);
    int len = snprintf(line, sizeof(line), "pid=%d host=%s\n", (int)getpid(), host);
    /* informational only (the flock is the lock): a failed write changes nothing */
    (void)(ftruncate(fd, 0) == 0 && pwrite(fd, line, (size_t)len, 0) == len);
    return fd;
}
