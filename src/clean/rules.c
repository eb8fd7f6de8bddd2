/* rules.c: the cleaning rule primitives: placeholders, blanks, follower counts, number and
 * timestamp formatting. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clean_int.h"
#include "pp_err.h"

/* Length of the white-space character at s (Python str.isspace), or 0. */
static size_t space_len(const unsigned char *s, const unsigned char *e)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
    if (c == 0xC2 && e - s >= 2 && (s[1] == 0x85 || s[1] == 0xA0)) /* U+0085, U+00A0 */
        return 2;
    if (e - s < 3)
        return 0;
    if (c == 0xE1 && s[1] == 0x9A && s[2] == 0x80) /* U+1680 */
        return 3;
    if (c == 0xE2 && s[1] == 0x80 &&
        ((s[2] >= 0x80 && s[2] <= 0x8A) || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF))
        return 3;                                  /* U+2000-200A, U+2028, U+2029, U+202F */
    if (c == 0xE2 && s[1] == 0x81 && s[2] == 0x9F) /* U+205F */
        return 3;
    if (c == 0xE3 && s[1] == 0x80 && s[2] == 0x80) /* U+3000 */
        return 3;
    return 0;
}

bool pp_clean_blank(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    while (p < e) {
        size_t k = space_len(p, e);
        if (!k)
            return false;
        p += k;
    }
    return true;
}

bool pp_clean_is_null_text(const struct clean_field *f, const char *s, size_t n)
{
    if (f->placeholders && n)
        for (const char *const *ph = f->placeholders; *ph; ph++)
            if ((*ph)[0] == s[0] && strlen(*ph) == n && !memcmp(*ph, s, n))
                return true;
    /* Fast exit for the usual case: a first byte that is no space character. */
    unsigned char c = n ? (unsigned char)s[0] : ' ';
    if (c > ' ' && c < 0x80)
        return false;
    return pp_clean_blank(s, n);
}

int pp_clean_is_placeholder(enum pp_kind kind, const char *field, const char *s, size_t n)
{
    const struct clean_spec *spec = pp_clean_spec(kind);
    if (spec && field)
        for (int f = 0; f < spec->nf; f++)
            if (!strcmp(spec->f[f].name, field))
                return pp_clean_is_null_text(&spec->f[f], s, n);
    return pp_clean_blank(s, n);
}

int pp_clean_follower_count(const char *s, size_t n, int64_t *v)
{
    size_t i = 0;
    uint64_t whole = 0, frac = 0; /* frac: the first 6 fraction digits, as millionths */
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (whole > (uint64_t)INT64_MAX / 10)
            return PP_EINVAL;
        whole = whole * 10 + (uint64_t)(s[i++] - '0');
    }
    if (i == 0)
        return PP_EINVAL;
    bool has_frac = i < n && s[i] == '.';
    if (has_frac) {
        size_t d0 = ++i;
        uint64_t scale = 100000;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
            frac += (uint64_t)(s[i] - '0') * scale; /* scale reaches 0 after 6 digits */
        if (i == d0)
            return PP_EINVAL;
    }
    uint64_t mult = 1;
    if (i < n && (s[i] == 'k' || s[i] == 'K'))
        mult = 1000, i++;
    else if (i < n && (s[i] == 'M' || s[i] == 'm'))
        mult = 1000000, i++;
    if (i != n || (has_frac && mult == 1) || whole > (uint64_t)INT64_MAX / mult)
        return PP_EINVAL;
    uint64_t x = whole * mult + frac * mult / 1000000; /* truncated toward zero */
    if (x > (uint64_t)INT64_MAX)
        return PP_EINVAL;
    *v = (int64_t)x;
    return 0;
}

/* Python's float repr: the shortest digits that round-trip (the nearest such string when
 * there are several, which %.{15,16,17}e gives in turn), fixed notation for decimal
 * exponents -4..15 with at least one fraction digit, else d[.ddd]e[+-]XX. */
/* Fast path for numbers like coordinates (-89.9787): d == r / 10^k for an integer r and the
 * smallest k <= 6, with 1e-4 <= |d| < 1e9. There, doubles are closer together than 10^-k,
 * so r is the only k-decimal string that round-trips (IEEE division rounds correctly, as
 * strtod does), and a smaller k would have matched first: it is the shortest. */
static size_t format_fixed(double d, char *r)
{
    static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
    static const int64_t i10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    double a = fabs(d);
    if (!(a >= 1e-4 && a < 1e9))
        return 0;
    for (int k = 0; k <= 6; k++) {
        double m = nearbyint(a * p10[k]);
        if (m / p10[k] != a)
            continue;
        int64_t ri = (int64_t)m, ip = ri / i10[k], fp = ri % i10[k];
        char t[32];
        size_t n = 0, w = 0;
        if (d < 0)
            r[w++] = '-';
        do
            t[n++] = (char)('0' + ip % 10);
        while ((ip /= 10) > 0);
        while (n)
            r[w++] = t[--n];
        r[w++] = '.';
        if (k == 0)
            r[w++] = '0';
        for (int j = k - 1; j >= 0; j--, fp /= 10)
            r[w + (size_t)j] = (char)('0' + fp % 10);
        w += (size_t)k;
        r[w] = '\0';
        return w;
    }
    return 0;
}

size_t pp_clean_format_double(double d, char *out, size_t size)
{
    char e[40];
    size_t fast = format_fixed(d, e);
    if (fast) {
        if (size) {
            size_t c = fast < size - 1 ? fast : size - 1;
            memcpy(out, e, c);
            out[c] = '\0';
        }
        return fast;
    }
    /* 15 digits always round-trip to the same decimal for normal doubles (DBL_DIG), so the
     * shortest is found among 15..17; subnormals carry fewer digits: search from 1. */
    for (int prec = fabs(d) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec - 1, d);
        if (strtod(e, NULL) == d)
            break;
    }
    /* e is "[-]D.DDDDe[+-]XX": collect sign, digits, exponent. */
    const char *p = e;
    bool neg = *p == '-';
    p += neg;
    char dig[20];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < (int)sizeof(dig))
            dig[nd++] = *p;
    int exp = *p == 'e' ? (int)strtol(p + 1, NULL, 10) : 0;
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    char r[48];
    size_t n = 0;
    if (neg)
        r[n++] = '-';
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            r[n++] = '0', r[n++] = '.';
            for (int z = 0; z < -exp - 1; z++)
                r[n++] = '0';
            for (int k = 0; k < nd; k++)
                r[n++] = dig[k];
        } else {
            for (int k = 0; k <= exp; k++)
                r[n++] = k < nd ? dig[k] : '0';
            r[n++] = '.';
            if (nd > exp + 1)
                for (int k = exp + 1; k < nd; k++)
                    r[n++] = dig[k];
            else
                r[n++] = '0';
        }
    } else {
        r[n++] = dig[0];
        if (nd > 1) {
            r[n++] = '.';
            for (int k = 1; k < nd; k++)
                r[n++] = dig[k];
        }
        n += (size_t)snprintf(r + n, sizeof(r) - n, "e%c%02d", exp < 0 ? '-' : '+',
                              exp < 0 ? -exp : exp);
    }
    r[n] = '\0';
    if (size) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(out, r, c);
        out[c] = '\0';
    }
    return n;
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

size_t pp_clean_format_ts(int64_t us, char *out, size_t size)
{
    int64_t sec = us / 1000000 - (us % 1000000 < 0);
    int64_t days = sec / 86400 - (sec % 86400 < 0);
    int64_t sod = sec - days * 86400, y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) { /* outside what validation lets through */
        if (size)
            out[0] = '\0';
        return 0;
    }
    char r[20];
    put2(r, (int)(y / 100));
    put2(r + 2, (int)(y % 100));
    r[4] = '-';
    put2(r + 5, m);
    r[7] = '-';
    put2(r + 8, d);
    r[10] = ' ';
    put2(r + 11, (int)(sod / 3600));
    r[13] = ':';
    put2(r + 14, (int)(sod / 60 % 60));
    r[16] = ':';
    put2(r + 17, (int)(sod % 60));
    r[19] = '\0';
    if (size) {
        size_t c = size - 1 < 19 ? size - 1 : 19;
        memcpy(out, r, c);
        out[c] = '\0';
    }
    return 19;
}
