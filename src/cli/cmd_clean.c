/* cmd_clean.c: `pinpipe clean`: JSONL source records -> cleaned rows as JSONL (the cleaning
 * rules of src/clean, as the stream and batch paths apply them). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "pp_clean.h"
#include "pp_cli.h"
#include "pp_err.h"
#include "pp_util.h"

#define CLEAN_CHUNK (4u << 20)     /* bytes read per fread */
#define CLEAN_MAX_LINE (64u << 20) /* longer lines are rejected */
#define CLEAN_OUT_FLUSH (1u << 20) /* write output in pieces of about this size */
#define CLEAN_MAX_REPORTED 1000    /* rejected lines reported one by one, then counted */

static const char usage_text[] =
    "usage: pinpipe clean --kind pin|geo|user [--in FILE|-] [--out FILE|-] [--check]\n"
    "\n"
    "Read source records of one kind as JSON lines, apply the cleaning rules (placeholders\n"
    "-> null, follower_count -> integer, save_location prefix, coordinates, UTC timestamps,\n"
    "user_name) and write one JSON object per cleaned row with the warehouse column names.\n"
    "\n"
    "  --kind K     pin, geo or user (a topic name such as 0a1b.pin also works)\n"
    "  --in FILE    input JSONL (default: stdin; blank lines are skipped)\n"
    "  --out FILE   output JSONL (default: stdout)\n"
    "  --check      clean every record but write no rows: report rejects and the summary\n"
    "\n"
    "Rejected lines are reported on stderr with their line number (the first 1000 one by\n"
    "one) and skipped; a summary line (records, rejected, elapsed, records/s) ends stderr.\n"
    "exit status: 0 all records cleaned, 1 some rejected or an I/O error, 2 usage error\n";

struct clean_run {
    enum pp_kind kind;
    const char *const *cols;
    int ncols;
    int check; /* --check: clean, write nothing */
    FILE *out;
    struct pp_buf obuf;
    struct pp_row row;
    long long records, rejected, lineno;
    char key[PP_CLEAN_MAX_COLS][40]; /* '{"col":' for the first column, ',"col":' after */
    size_t keylen[PP_CLEAN_MAX_COLS];
};

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Length of the run at p..e that JSON output takes as is: no '"', '\\' or control bytes.
 * SSE2 over 16 bytes, then SWAR over 8 (the lowest flagged byte of a has-zero mask is
 * exact). */
static size_t plain_len(const char *p, const char *e)
{
    const char *s = p;
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1F);
    while (e - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bs));
        /* control bytes: unsigned x <= 0x1F, i.e. min(x, 0x1F) == x */
        m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return (size_t)(p - s) + (size_t)__builtin_ctz(mask);
        p += 16;
    }
#endif
    while (e - p >= 8) {
        uint64_t w, q, b;
        memcpy(&w, p, 8);
        q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
        uint64_t m = (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((w - ONES * 0x20) & ~w)) & HIGHS;
        if (m)
            return (size_t)(p - s) + (size_t)(__builtin_ctzll(m) >> 3);
        p += 8;
    }
    while (p < e && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
        p++;
    return (size_t)(p - s);
}

/* Write s[0..n) as a JSON string at o (room for 6n + 2 bytes). @returns the end. */
static char *put_str(char *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const char *e = s + n;
    *o++ = '"';
    while (s < e) {
        size_t run = plain_len(s, e);
        memcpy(o, s, run);
        o += run, s += run;
        if (s >= e)
            break;
        unsigned char c = (unsigned char)*s++;
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        default:
            o[0] = 'u', o[1] = '0', o[2] = '0', o[3] = hex[c >> 4], o[4] = hex[c & 15];
            o += 5;
        }
    }
    *o++ = '"';
    return o;
}

static char *put_i64(char *o, int64_t v)
{
    char t[24];
    size_t n = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        t[sizeof(t) - 1 - n++] = (char)('0' + u % 10);
    while ((u /= 10) > 0);
    if (v < 0)
        t[sizeof(t) - 1 - n++] = '-';
    memcpy(o, t + sizeof(t) - n, n);
    return o + n;
}

/* The row as one JSON object line: {"col":value,...}\n, keys prepared in run->key. */
static int put_row(struct clean_run *run)
{
    const struct pp_row *row = &run->row;
    size_t need = 4;
    for (int c = 0; c < row->ncols; c++)
        need += run->keylen[c] + (row->col[c].type == PP_VAL_TEXT ? 6 * row->col[c].n + 2 : 32);
    int rc = pp_buf_reserve(&run->obuf, need);
    if (rc)
        return rc;
    char *o = run->obuf.data + run->obuf.len;
    for (int c = 0; c < row->ncols; c++) {
        const struct pp_val *v = &row->col[c];
        memcpy(o, run->key[c], run->keylen[c]);
        o += run->keylen[c];
        switch (v->type) {
        case PP_VAL_INT:
            o = put_i64(o, v->i);
            break;
        case PP_VAL_REAL:
            o += snprintf(o, 32, "%.17g", v->d);
            break;
        case PP_VAL_TEXT:
            o = put_str(o, v->s, v->n);
            break;
        default:
            memcpy(o, "null", 4), o += 4;
            break;
        }
    }
    *o++ = '}';
    *o++ = '\n';
    run->obuf.len = (size_t)(o - run->obuf.data);
    run->obuf.data[run->obuf.len] = '\0';
    return 0;
}

static int flush_out(struct clean_run *run)
{
    if (run->obuf.len && fwrite(run->obuf.data, 1, run->obuf.len, run->out) != run->obuf.len)
        return PP_EIO;
    pp_buf_reset(&run->obuf);
    return 0;
}

static void reject(struct clean_run *run, int rc, const struct pp_verr *err)
{
    run->rejected++;
    if (run->rejected <= CLEAN_MAX_REPORTED)
        PP_WARN("clean", "rejected line=%lld rc=%s field=%s type=%s msg=\"%s\"", run->lineno,
                pp_err_str(rc), err->field[0] ? err->field : "-", err->type, err->msg);
    if (run->rejected == CLEAN_MAX_REPORTED)
        PP_WARN("clean", "further rejected lines are only counted");
}

/* One input line (without its newline). @returns 0, or PP_EIO/PP_ENOMEM (fatal). */
static int do_line(struct clean_run *run, const char *line, size_t n)
{
    run->lineno++;
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i == n)
        return 0;
    run->records++;
    struct pp_verr err;
    int rc = pp_clean_record(run->kind, line, n, &run->row, &err);
    if (rc == PP_ENOMEM)
        return rc;
    if (rc) {
        reject(run, rc, &err);
        return 0;
    }
    if (run->check)
        return 0;
    if ((rc = put_row(run)))
        return rc;
    return run->obuf.len >= CLEAN_OUT_FLUSH ? flush_out(run) : 0;
}

/* Read in big chunks and hand out whole lines; a line longer than CLEAN_MAX_LINE is
 * rejected (and skipped to its end). */
static int read_lines(struct clean_run *run, FILE *in)
{
    size_t cap = CLEAN_CHUNK, len = 0;
    char *buf = malloc(cap);
    int rc = 0, skipping = 0;
    if (!buf)
        return PP_ENOMEM;
    for (;;) {
        if (cap - len < CLEAN_CHUNK / 4) {
            size_t ncap = cap * 2;
            char *nb = ncap <= CLEAN_MAX_LINE + CLEAN_CHUNK ? realloc(buf, ncap) : NULL;
            if (nb) {
                buf = nb, cap = ncap;
            } else { /* an overlong line: reject it and drop what we have of it */
                if (!skipping) {
                    struct pp_verr err = {
                        .field = "", .msg = "line too long", .type = "value_error"};
                    run->lineno++, run->records++;
                    reject(run, PP_ETOOBIG, &err);
                }
                skipping = 1, len = 0;
            }
        }
        size_t got = fread(buf + len, 1, cap - len, in);
        size_t end = len + got, start = 0;
        for (char *nl; (nl = memchr(buf + start, '\n', end - start));
             start = (size_t)(nl - buf) + 1) {
            if (skipping)
                skipping = 0;
            else if ((rc = do_line(run, buf + start, (size_t)(nl - buf) - start)))
                goto out;
        }
        len = end - start;
        memmove(buf, buf + start, len);
        if (got == 0) {
            if (ferror(in))
                rc = PP_EIO;
            else if (len && !skipping)
                rc = do_line(run, buf, len);
            break;
        }
    }
out:
    free(buf);
    return rc;
}

int cmd_clean(int argc, char **argv)
{
    const char *kind_s = NULL, *in_path = "-", *out_path = "-";
    int check = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (!strcmp(a, "--check")) {
            check = 1;
            continue;
        }
        if (i + 1 >= argc || (strcmp(a, "--kind") && strcmp(a, "--in") && strcmp(a, "--out"))) {
            fputs(usage_text, stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--kind"))
            kind_s = v;
        else if (!strcmp(a, "--in"))
            in_path = v;
        else
            out_path = v;
    }
    enum pp_kind kind = kind_s ? pp_kind_from_topic(kind_s, strlen(kind_s)) : PP_KIND_NONE;
    if (kind == PP_KIND_NONE)
        return pp_cli_fail(argv[0], 2, "--kind must be pin, geo or user (see --help)");

    struct clean_run run = {.kind = kind, .check = check};
    run.cols = pp_clean_columns(kind, &run.ncols);
    for (int c = 0; c < run.ncols; c++)
        run.keylen[c] = (size_t)snprintf(run.key[c], sizeof(run.key[c]), "%c\"%s\":", c ? ',' : '{',
                                         run.cols[c]);
    FILE *in = strcmp(in_path, "-") ? fopen(in_path, "rb") : stdin;
    if (!in)
        return pp_cli_fail(argv[0], 1, "cannot open %s: %s", in_path, strerror(errno));
    run.out = strcmp(out_path, "-") ? fopen(out_path, "wb") : stdout;
    if (!run.out) {
        int e = errno;
        if (in != stdin)
            fclose(in);
        return pp_cli_fail(argv[0], 1, "cannot create %s: %s", out_path, strerror(e));
    }
    pp_buf_init(&run.obuf, 0);
    pp_row_init(&run.row);
    signal(SIGPIPE, SIG_IGN);

    PP_DEBUG("clean", "start kind=%s in=%s out=%s check=%d", pp_kind_name(kind), in_path,
             out_path, check);
    int64_t t0 = pp_mono_us();
    int rc = read_lines(&run, in);
    if (rc == 0)
        rc = flush_out(&run);
    if (fflush(run.out) != 0 || (run.out != stdout && fclose(run.out) != 0))
        rc = rc ? rc : PP_EIO;
    double secs = (double)(pp_mono_us() - t0) / 1e6;
    if (in != stdin)
        fclose(in);
    pp_row_free(&run.row);
    pp_buf_free(&run.obuf);

    PP_INFO("clean", "done kind=%s records=%lld rejected=%lld elapsed_ms=%.1f records_per_s=%.0f",
            pp_kind_name(kind), run.records, run.rejected, secs * 1e3,
            secs > 0 ? (double)run.records / secs : 0.0);
    if (rc)
        return pp_cli_fail(argv[0], 1, "%s (%s)", rc == PP_EIO ? "I/O error" : "failed",
                           rc == PP_EIO ? strerror(errno) : pp_err_str(rc));
    return run.rejected ? 1 : 0;
}
