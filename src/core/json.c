/* json.c: strict JSON reading on jsmn (Debian's libjsmn-dev) and an escaping writer. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
/* Parent links make closing a bracket O(1); without them jsmn scans back over every earlier
 * token to find the enclosing one, quadratic on a 500-record REST-proxy body. */
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "pp_err.h"
#include "pp_json.h"

#define PP_JSON_DEFAULT_MAX_TOKENS (4 << 20)

void pp_json_init(struct pp_json *doc)
{
    memset(doc, 0, sizeof(*doc));
}

void pp_json_free(struct pp_json *doc)
{
    if (!doc)
        return;
    free(doc->tok);
    free(doc->scratch);
    memset(doc, 0, sizeof(*doc));
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void set_err(char *errmsg, size_t size, const char *what, size_t at)
{
    if (errmsg && size)
        snprintf(errmsg, size, "%s at byte %zu", what, at);
}

/* RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
const char *pp_json_number_end(const char *p, const char *e)
{
    if (p < e && *p == '-')
        p++;
    if (p >= e)
        return NULL;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (p < e && *p == '.') {
        const char *d = ++p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        const char *d = p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    return p;
}

static bool number_valid(const char *p, const char *e)
{
    return pp_json_number_end(p, e) == e;
}

static int classify(const struct pp_json *doc, const jsmntok_t *jt, struct pp_json_tok *t)
{
    const char *p = doc->js + jt->start, *e = doc->js + jt->end;
    size_t n = (size_t)(e - p);
    t->start = jt->start;
    t->end = jt->end;
    t->size = jt->size;
    switch (jt->type) {
    case JSMN_OBJECT: t->type = PP_JSON_OBJECT; return 0;
    case JSMN_ARRAY: t->type = PP_JSON_ARRAY; return 0;
    case JSMN_STRING: t->type = PP_JSON_STRING; return 0;
    case JSMN_PRIMITIVE:
        if ((n == 4 && !memcmp(p, "true", 4)) || (n == 5 && !memcmp(p, "false", 5)))
            t->type = PP_JSON_BOOL;
        else if (n == 4 && !memcmp(p, "null", 4))
            t->type = PP_JSON_NULL;
        else if (number_valid(p, e))
            t->type = PP_JSON_NUMBER;
        else
            return PP_EPARSE;
        return 0;
    default: return PP_EPARSE;
    }
}

/* Walk the tree: object children must be string keys each holding one value. */
static int check_structure(const struct pp_json *doc, int t, int *next)
{
    const struct pp_json_tok *tok = &doc->tok[t];
    int i = t + 1;
    /* A scalar value has no children: jsmn hangs whatever follows a stray ':' under the token
     * before it ("[\"a\":1]", "{\"k\":[1]:2}"; found by fuzzing). Keys are checked below. */
    if (tok->type != PP_JSON_OBJECT && tok->type != PP_JSON_ARRAY && tok->size != 0)
        return PP_EPARSE;
    for (int k = 0; k < tok->size; k++) {
        if (i >= doc->ntok)
            return PP_EPARSE;
        /* ...and after a closed container ("[[]:1]") jsmn hangs it under that container, outside
         * its brackets: a child must lie inside its parent (found by fuzzing). */
        if (doc->tok[i].start <= tok->start || doc->tok[i].end >= tok->end)
            return PP_EPARSE;
        if (tok->type == PP_JSON_OBJECT) {
            if (doc->tok[i].type != PP_JSON_STRING || doc->tok[i].size != 1)
                return PP_EPARSE;
            i++;
            if (i >= doc->ntok)
                return PP_EPARSE;
        }
        int rc = check_structure(doc, i, &i);
        if (rc)
            return rc;
    }
    if (tok->type == PP_JSON_OBJECT || tok->type == PP_JSON_ARRAY) {
        /* jsmn accepts a trailing comma ("[1,]"); RFC 8259 does not. */
        int j = tok->end - 2;
        while (j > tok->start && is_ws(doc->js[j]))
            j--;
        if (j > tok->start && doc->js[j] == ',')
            return PP_EPARSE;
    }
    *next = i;
    return 0;
}

/* A bare top-level number or literal ("42", "null"): jsmn's strict mode wants a delimiter
 * after a primitive and reports a partial document at the end of input, so classify it here. */
static int parse_bare_primitive(struct pp_json *doc, size_t start, char *errmsg,
                                size_t errmsg_size)
{
    size_t end = doc->len;
    while (end > start && is_ws(doc->js[end - 1]))
        end--;
    if (!doc->cap) {
        if (!(doc->tok = malloc(sizeof(*doc->tok))))
            return PP_ENOMEM;
        doc->cap = 1;
    }
    jsmntok_t jt = {.type = JSMN_PRIMITIVE, .start = (int)start, .end = (int)end};
    if (end == start || classify(doc, &jt, &doc->tok[0])) {
        set_err(errmsg, errmsg_size, "invalid JSON value", start);
        return PP_EPARSE;
    }
    doc->ntok = 1;
    return 0;
}

/* Nesting depth of js[0..len) in one linear pass, stopping as soon as it passes
 * PP_JSON_MAX_DEPTH (strings skipped, escapes honoured). Run before jsmn because jsmn walks
 * back through every enclosing token at each closing bracket (quadratic in the depth, even
 * with parent links) and check_structure recurses once per level. @returns 0 or the byte
 * offset + 1 of the bracket that went too deep. */
static size_t depth_exceeded(const char *js, size_t len)
{
    int depth = 0;
    for (size_t i = 0; i < len; i++) {
        char c = js[i];
        if (c == '"') {
            for (i++; i < len && js[i] != '"'; i++)
                if (js[i] == '\\')
                    i++;
        } else if (c == '[' || c == '{') {
            if (++depth > PP_JSON_MAX_DEPTH)
                return i + 1;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return 0;
}

int pp_json_parse(struct pp_json *doc, const char *js, size_t len, int max_tokens, char *errmsg,
                  size_t errmsg_size)
{
    if (!max_tokens)
        max_tokens = PP_JSON_DEFAULT_MAX_TOKENS;
    doc->js = js;
    doc->len = len;
    doc->ntok = 0;
    if (len > PP_JSON_MAX_LEN) { /* jsmn's token offsets are int */
        set_err(errmsg, errmsg_size, "JSON document too large", PP_JSON_MAX_LEN);
        return PP_ETOOBIG;
    }
    size_t deep = depth_exceeded(js, len);
    if (deep) {
        if (errmsg && errmsg_size)
            snprintf(errmsg, errmsg_size, "JSON nested deeper than %d levels at byte %zu",
                     PP_JSON_MAX_DEPTH, deep - 1);
        return PP_EPARSE;
    }
    size_t first = 0;
    while (first < len && is_ws(js[first]))
        first++;
    if (first < len && js[first] != '{' && js[first] != '[' && js[first] != '"')
        return parse_bare_primitive(doc, first, errmsg, errmsg_size);
    /* Size the token array from the input (about one token per 8 bytes of typical records)
     * so large bodies are tokenised once, not re-parsed after each growth. */
    size_t want = len / 8 + 64;
    if (want > (size_t)max_tokens)
        want = (size_t)max_tokens;
    if ((size_t)doc->scratch_cap < want) {
        void *s = realloc(doc->scratch, sizeof(jsmntok_t) * want);
        if (!s)
            return PP_ENOMEM;
        doc->scratch = s;
        doc->scratch_cap = (int)want;
    }
    int n;
    for (;;) {
        jsmn_parser p;
        jsmn_init(&p);
        n = jsmn_parse(&p, js, len, doc->scratch, (unsigned)doc->scratch_cap);
        if (n != JSMN_ERROR_NOMEM)
            break;
        if (doc->scratch_cap >= max_tokens) {
            set_err(errmsg, errmsg_size, "too many JSON tokens", 0);
            return PP_ETOOBIG;
        }
        int cap = doc->scratch_cap * 4 > max_tokens ? max_tokens : doc->scratch_cap * 4;
        void *s = realloc(doc->scratch, sizeof(jsmntok_t) * (size_t)cap);
        if (!s)
            return PP_ENOMEM;
        doc->scratch = s;
        doc->scratch_cap = cap;
    }
    if (n < 0) {
        set_err(errmsg, errmsg_size,
                n == JSMN_ERROR_PART ? "unexpected end of JSON" : "invalid JSON", 0);
        return PP_EPARSE;
    }
    if (n == 0) {
        set_err(errmsg, errmsg_size, "empty JSON document", 0);
        return PP_EPARSE;
    }
    if (n > doc->cap) {
        void *t = realloc(doc->tok, sizeof(*doc->tok) * (size_t)n);
        if (!t)
            return PP_ENOMEM;
        doc->tok = t;
        doc->cap = n;
    }
    const jsmntok_t *jt = doc->scratch;
    for (int i = 0; i < n; i++) {
        if (jt[i].start < 0 || jt[i].end < 0 || classify(doc, &jt[i], &doc->tok[i])) {
            set_err(errmsg, errmsg_size, "invalid JSON value",
                    jt[i].start < 0 ? 0 : (size_t)jt[i].start);
            return PP_EPARSE;
        }
    }
    doc->ntok = n;
    int next = 0;
    if (check_structure(doc, 0, &next) || next != n) {
        set_err(errmsg, errmsg_size, "invalid JSON structure (one value expected)", 0);
        doc->ntok = 0;
        return PP_EPARSE;
    }
    /* Only whitespace may follow the value (strings end before their closing quote). */
    size_t end = (size_t)doc->tok[0].end + (doc->tok[0].type == PP_JSON_STRING);
    for (size_t i = end; i < len; i++) {
        char c = js[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            set_err(errmsg, errmsg_size, "trailing data after JSON value", i);
            doc->ntok = 0;
            return PP_EPARSE;
        }
    }
    return 0;
}

int pp_json_next(const struct pp_json *doc, int t)
{
    int pending = 1;
    while (pending > 0 && t < doc->ntok) {
        pending += doc->tok[t].size - 1;
        t++;
    }
    return t;
}

static bool raw_eq(const struct pp_json *doc, const struct pp_json_tok *t, const char *s)
{
    size_t n = (size_t)(t->end - t->start);
    return strlen(s) == n && memcmp(doc->js + t->start, s, n) == 0;
}

int pp_json_get(const struct pp_json *doc, int obj, const char *key)
{
    if (obj < 0 || obj >= doc->ntok || doc->tok[obj].type != PP_JSON_OBJECT)
        return -1;
    int i = obj + 1;
    for (int k = 0; k < doc->tok[obj].size; k++) {
        if (pp_json_str_eq(doc, i, key))
            return i + 1;
        i = pp_json_next(doc, i + 1);
    }
    return -1;
}

bool pp_json_str_eq(const struct pp_json *doc, int t, const char *s)
{
    const struct pp_json_tok *tok = &doc->tok[t];
    if (tok->type != PP_JSON_STRING)
        return false;
    if (!memchr(doc->js + tok->start, '\\', (size_t)(tok->end - tok->start)))
        return raw_eq(doc, tok, s);
    struct pp_buf b;
    pp_buf_init(&b, 0);
    bool eq = pp_json_str(doc, t, &b) == 0 && b.len == strlen(s) && !memcmp(b.data, s, b.len);
    pp_buf_free(&b);
    return eq;
}

static int hex4(const char *p, const char *e, unsigned *v)
{
    if (e - p < 4)
        return PP_EPARSE;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return PP_EPARSE;
        *v = *v << 4 | d;
    }
    return 0;
}

static int put_utf8(struct pp_buf *out, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    }
    return pp_buf_append(out, u, n);
}

static int unescape(const char *p, const char *e, struct pp_buf *out)
{
    int rc;
    while (p < e) {
        const char *bs = memchr(p, '\\', (size_t)(e - p));
        const char *run_end = bs ? bs : e;
        if (!pp_utf8_valid(p, (size_t)(run_end - p)))
            return PP_EPARSE;
        if ((rc = pp_buf_append(out, p, (size_t)(run_end - p))))
            return rc;
        if (!bs)
            break;
        p = bs + 1;
        if (p >= e)
            return PP_EPARSE;
        char c = *p++;
        switch (c) {
        case '"': rc = pp_buf_putc(out, '"'); break;
        case '\\': rc = pp_buf_putc(out, '\\'); break;
        case '/': rc = pp_buf_putc(out, '/'); break;
        case 'b': rc = pp_buf_putc(out, '\b'); break;
        case 'f': rc = pp_buf_putc(out, '\f'); break;
        case 'n': rc = pp_buf_putc(out, '\n'); break;
        case 'r': rc = pp_buf_putc(out, '\r'); break;
        case 't': rc = pp_buf_putc(out, '\t'); break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(p, e, &cp))
                return PP_EPARSE;
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (e - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, e, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return PP_EPARSE;
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return PP_EPARSE;
            }
            rc = put_utf8(out, cp);
            break;
        }
        default: return PP_EPARSE;
        }
        if (rc)
            return rc;
    }
    return 0;
}

int pp_json_str(const struct pp_json *doc, int t, struct pp_buf *out)
{
    const struct pp_json_tok *tok = &doc->tok[t];
    if (tok->type != PP_JSON_STRING)
        return PP_EINVAL;
    const char *p = doc->js + tok->start, *e = doc->js + tok->end;
    for (const char *q = p; q < e; q++)
        if ((unsigned char)*q < 0x20)
            return PP_EPARSE;
    return unescape(p, e, out);
}

int pp_json_int(const struct pp_json *doc, int t, int64_t *v)
{
    const struct pp_json_tok *tok = &doc->tok[t];
    if (tok->type != PP_JSON_NUMBER)
        return PP_EINVAL;
    const char *p = doc->js + tok->start;
    size_t n = (size_t)(tok->end - tok->start);
    if (memchr(p, '.', n) || memchr(p, 'e', n) || memchr(p, 'E', n) || n > 20)
        return PP_EINVAL;
    char tmp[24];
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    errno = 0;
    long long x = strtoll(tmp, NULL, 10);
    if (errno == ERANGE)
        return PP_ERANGE;
    *v = x;
    return 0;
}

int pp_json_num(const struct pp_json *doc, int t, double *v)
{
    const struct pp_json_tok *tok = &doc->tok[t];
    if (tok->type != PP_JSON_NUMBER)
        return PP_EINVAL;
    size_t n = (size_t)(tok->end - tok->start);
    char tmp[64];
    if (n >= sizeof(tmp))
        return PP_EINVAL;
    memcpy(tmp, doc->js + tok->start, n);
    tmp[n] = '\0';
    *v = strtod(tmp, NULL);
    return isfinite(*v) ? 0 : PP_EINVAL;
}

const char *pp_json_raw(const struct pp_json *doc, int t, size_t *len)
{
    const struct pp_json_tok *tok = &doc->tok[t];
    *len = (size_t)(tok->end - tok->start);
    return doc->js + tok->start;
}

const char *pp_json_type_name(int type)
{
    static const char *const names[] = {"object", "array", "string", "number", "boolean", "null"};
    return type >= 0 && type <= PP_JSON_NULL ? names[type] : "unknown";
}

/* Length of the valid UTF-8 sequence that starts at p (*p >= 0x80), 0 if none does: no
 * overlongs, no surrogates, nothing past U+10FFFF (RFC 3629). */
static int utf8_seq(const unsigned char *p, const unsigned char *e)
{
    unsigned cp;
    int extra;
    if (*p >= 0xC2 && *p <= 0xDF)
        cp = *p & 0x1F, extra = 1;
    else if (*p >= 0xE0 && *p <= 0xEF)
        cp = *p & 0x0F, extra = 2;
    else if (*p >= 0xF0 && *p <= 0xF4)
        cp = *p & 0x07, extra = 3;
    else
        return 0;
    if (e - p <= extra)
        return 0;
    for (int i = 1; i <= extra; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return extra + 1;
}

bool pp_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    while (p < e) {
        /* ASCII fast path, 8 bytes at a time: most record text is ASCII. */
        while (e - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (w & 0x8080808080808080ULL)
                break;
            p += 8;
        }
        if (p >= e)
            break;
        if (*p < 0x80) {
            p++;
            continue;
        }
        int len = utf8_seq(p, e);
        if (!len)
            return false;
        p += len;
    }
    return true;
}

int pp_json_put_str(struct pp_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int rc = pp_buf_reserve(out, n + 2);
    if (rc)
        return rc;
    out->data[out->len++] = '"';
    const char *run = s, *e = s + n;
    for (const char *p = s; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        int seq = 0;
        if (c >= 0x80 && (seq = utf8_seq((const unsigned char *)p, (const unsigned char *)e))) {
            p += seq - 1;
            continue;
        }
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\')
            continue;
        if ((rc = pp_buf_append(out, run, (size_t)(p - run))))
            return rc;
        char esc[7] = {'\\', 0};
        size_t en = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            if (c >= 0x80) { /* not UTF-8: U+FFFD, so no answer or record echoes a bad byte */
                memcpy(esc, "\\ufffd", 6);
            } else {
                esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
            }
            en = 6;
        }
        if ((rc = pp_buf_append(out, esc, en)))
            return rc;
        run = p + 1;
    }
    if ((rc = pp_buf_append(out, run, (size_t)(e - run))))
        return rc;
    return pp_buf_putc(out, '"');
}
