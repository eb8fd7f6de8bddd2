/* scan.c: the clean module's hot loops: a tokenizer for flat JSON records and one-pass string
 * checking/decoding, 8 bytes at a time (SWAR) over plain ASCII.
 *
 * Why not pp_json_parse + pp_json_str alone: profiling pp_clean_record on real pin records
 * showed ~40% in jsmn's byte-at-a-time scan and ~35% in the three passes pp_json_str makes
 * over each string. Source records are flat objects of scalars, so pp_clean_scan_flat()
 * tokenizes exactly those into the token layout pp_json_parse produces (pp_json.h) and
 * answers "not mine" for anything else (nesting, anything doubtful), which then goes to
 * pp_json_parse: the fast path only ever accepts documents pp_json_parse accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "clean_int.h"
#include "pp_err.h"

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static inline uint64_t load8(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* Some byte of w is zero (exact as a whole; flags past the first hit may be spurious). */
static inline uint64_t has_zero(uint64_t w)
{
    return (w - ONES) & ~w & HIGHS;
}

/* Some byte of w is '"', '\\' or NUL (jsmn ends its input at a NUL). */
static inline uint64_t has_quote_bs(uint64_t w)
{
    return has_zero(w ^ (ONES * '"')) | has_zero(w ^ (ONES * '\\')) | has_zero(w);
}

/* Some byte of w is '"', '\\', a control character (< 0x20) or non-ASCII (>= 0x80). */
static inline uint64_t has_special(uint64_t w)
{
    return has_quote_bs(w) | ((w - ONES * 0x20) & ~w & HIGHS) | (w & HIGHS);
}

/* Length of the run at p..e free of '"', '\\' and NUL (all: also of control and non-ASCII
 * bytes). The lowest flagged byte of a has_zero() mask is exact (borrows move upward). */
static inline size_t plain_run(const char *p, const char *e, bool all)
{
    const char *s = p;
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20), zero = _mm_setzero_si128();
    while (e - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bs));
        m = _mm_or_si128(m, _mm_cmpeq_epi8(x, zero));
        if (all) /* signed: bytes >= 0x80 are negative, so < 0x20 too */
            m = _mm_or_si128(m, _mm_cmplt_epi8(x, space));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return (size_t)(p - s) + (size_t)__builtin_ctz(mask);
        p += 16;
    }
#endif
    while (e - p >= 8) {
        uint64_t w = load8(p), m = all ? has_special(w) : has_quote_bs(w);
        if (m)
            return (size_t)(p - s) + (size_t)(__builtin_ctzll(m) >> 3);
        p += 8;
    }
    while (p < e) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\' || c == 0 || (all && (c < 0x20 || c >= 0x80)))
            break;
        p++;
    }
    return (size_t)(p - s);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int hex4(const char *p, const char *e, unsigned *v)
{
    if (e - p < 4)
        return -1;
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        int d = hexval(p[i]);
        if (d < 0)
            return -1;
        x = x << 4 | (unsigned)d;
    }
    *v = x;
    return 0;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0 (as pp_utf8_valid:
 * no overlongs, no surrogates, nothing past U+10FFFF). */
static size_t utf8_seq(const unsigned char *p, const unsigned char *e)
{
    unsigned c = p[0], cp;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if ((size_t)(e - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return n;
}

/* The escape at p (just after the backslash): its code point into *cp and its length in *n
 * (bytes after the backslash). @returns 0 or -1 (bad escape, unpaired surrogate). */
static int escape(const char *p, const char *e, unsigned *cp, size_t *n)
{
    if (p >= e)
        return -1;
    *n = 1;
    switch (*p) {
    case '"':
        *cp = '"';
        return 0;
    case '\\':
        *cp = '\\';
        return 0;
    case '/':
        *cp = '/';
        return 0;
    case 'b':
        *cp = '\b';
        return 0;
    case 'f':
        *cp = '\f';
        return 0;
    case 'n':
        *cp = '\n';
        return 0;
    case 'r':
        *cp = '\r';
        return 0;
    case 't':
        *cp = '\t';
        return 0;
    case 'u':
        break;
    default:
        return -1;
    }
    unsigned hi, lo;
    if (hex4(p + 1, e, &hi) || (hi >= 0xDC00 && hi <= 0xDFFF))
        return -1;
    *n = 5;
    *cp = hi;
    if (hi < 0xD800 || hi > 0xDBFF)
        return 0;
    if (e - p < 11 || p[5] != '\\' || p[6] != 'u' || hex4(p + 7, e, &lo) || lo < 0xDC00 ||
        lo > 0xDFFF)
        return -1;
    *n = 11;
    *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12), o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18), o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F)), o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int pp_clean_str_check(const char *p, const char *e)
{
    while (p < e) {
        p += plain_run(p, e, true);
        if (p >= e)
            break;
        unsigned char c = (unsigned char)*p;
        if (c >= 0x80) {
            size_t n = utf8_seq((const unsigned char *)p, (const unsigned char *)e);
            if (!n)
                return PP_EPARSE;
            p += n;
        } else if (c == '\\') {
            unsigned cp;
            size_t n;
            if (escape(p + 1, e, &cp, &n))
                return PP_EPARSE;
            p += 1 + n;
        } else {
            return PP_EPARSE;
        }
    }
    return 0;
}

int pp_clean_str_decode(struct pp_buf *b, const char *p, const char *e)
{
    int rc = pp_buf_reserve(b, (size_t)(e - p)); /* decoded text is never longer */
    if (rc)
        return rc;
    char *o = b->data + b->len;
    while (p < e) {
        size_t run = plain_run(p, e, true);
        memcpy(o, p, run);
        o += run, p += run;
        if (p >= e)
            break;
        unsigned char c = (unsigned char)*p;
        if (c >= 0x80) {
            size_t n = utf8_seq((const unsigned char *)p, (const unsigned char *)e);
            if (!n)
                goto bad;
            memcpy(o, p, n);
            o += n, p += n;
        } else if (c == '\\') {
            unsigned cp;
            size_t n;
            if (escape(p + 1, e, &cp, &n))
                goto bad;
            o += put_utf8(o, cp);
            p += 1 + n;
        } else {
            goto bad;
        }
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
bad:
    b->data[b->len] = '\0';
    return PP_EPARSE;
}

/* ---- the flat-record tokenizer ---- */

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* p after the opening quote: the closing quote, checking escapes as jsmn's strict mode does.
 * *plain: the string is printable ASCII with no escapes (its bytes are its value). */
static const char *scan_string(const char *p, const char *e, bool *plain)
{
    *plain = true;
    for (;;) {
        p += plain_run(p, e, true);
        if (p >= e)
            return NULL;
        if (*p == '"')
            return p;
        if (*p == '\0')
            return NULL;
        *plain = false;
        if (*p++ != '\\')
            continue;
        if (p >= e)
            return NULL;
        if (*p == 'u') {
            unsigned v;
            if (hex4(p + 1, e, &v))
                return NULL;
            p += 5;
        } else if (*p && strchr("\"\\/bfnrt", *p)) {
            p++;
        } else {
            return NULL;
        }
    }
}

static bool is_delim(const char *p, const char *e)
{
    return p < e && (*p == ',' || *p == '}' || *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t');
}

/* RFC 8259 number at p, ending at a delimiter: the end, or NULL. */
static const char *scan_number(const char *p, const char *e)
{
    p = pp_json_number_end(p, e);
    return p && is_delim(p, e) ? p : NULL;
}

static const char *scan_literal(const char *p, const char *e, const char *lit, size_t n)
{
    return (size_t)(e - p) >= n && !memcmp(p, lit, n) && is_delim(p + n, e) ? p + n : NULL;
}

static bool grow(struct pp_json *doc)
{
    int cap = doc->cap ? doc->cap * 2 : 32;
    void *tok = realloc(doc->tok, sizeof(*doc->tok) * (size_t)cap);
    if (!tok)
        return false;
    doc->tok = tok;
    doc->cap = cap;
    return true;
}

static inline bool push(struct pp_json *doc, int type, const char *js, const char *s, const char *t,
                        int size)
{
    if (doc->ntok >= doc->cap && !grow(doc))
        return false;
    struct pp_json_tok *k = &doc->tok[doc->ntok++];
    k->type = type;
    k->start = (int)(s - js);
    k->end = (int)(t - js);
    k->size = size;
    return true;
}

static int scan_flat(struct pp_json *doc, const char *js, size_t len, uint64_t *plain)
{
    bool is_plain;
    const char *e = js + len, *p = skip_ws(js, e), *q;
    if (len > INT32_MAX || p >= e || *p != '{')
        return -1;
    doc->js = js;
    doc->len = len;
    doc->ntok = 0;
    const char *open = p++;
    if (!push(doc, PP_JSON_OBJECT, js, open, open, 0))
        return -1;
    p = skip_ws(p, e);
    if (p < e && *p == '}')
        goto close;
    for (;;) {
        if (p >= e || *p != '"' || !(q = scan_string(p + 1, e, &is_plain)))
            return -1;
        if (is_plain && doc->ntok < 64)
            *plain |= 1ULL << doc->ntok;
        if (!push(doc, PP_JSON_STRING, js, p + 1, q, 1))
            return -1;
        doc->tok[0].size++;
        p = skip_ws(q + 1, e);
        if (p >= e || *p != ':')
            return -1;
        p = skip_ws(p + 1, e);
        if (p >= e)
            return -1;
        int type;
        const char *s = p;
        switch (*p) {
        case '"':
            if (!(q = scan_string(p + 1, e, &is_plain)))
                return -1;
            if (is_plain && doc->ntok < 64)
                *plain |= 1ULL << doc->ntok;
            type = PP_JSON_STRING, s = p + 1, p = q + 1;
            break;
        case 't':
            type = PP_JSON_BOOL, p = q = scan_literal(p, e, "true", 4);
            break;
        case 'f':
            type = PP_JSON_BOOL, p = q = scan_literal(p, e, "false", 5);
            break;
        case 'n':
            type = PP_JSON_NULL, p = q = scan_literal(p, e, "null", 4);
            break;
        default:
            type = PP_JSON_NUMBER, p = q = scan_number(p, e);
            break;
        }
        if (!p || !push(doc, type, js, s, q, 0))
            return -1;
        p = skip_ws(p, e);
        if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}')
            break;
        return -1;
    }
close:
    doc->tok[0].end = (int)(p + 1 - js);
    if (skip_ws(p + 1, e) != e)
        return -1;
    return 0;
}

int pp_clean_scan_flat(struct pp_json *doc, const char *js, size_t len, uint64_t *plain)
{
    uint64_t mask = 0;
    if (scan_flat(doc, js, len, &mask) == 0) {
        if (plain)
            *plain = mask;
        return 0;
    }
    doc->ntok = 0;
    return -1;
}

int pp_clean_parse(struct pp_json *doc, const char *js, size_t len, char *errmsg,
                   size_t errmsg_size)
{
    if (pp_clean_scan_flat(doc, js, len, NULL) == 0)
        return 0;
    return pp_json_parse(doc, js, len, 0, errmsg, errmsg_size);
}
