/* test_core.c: JSON reading/writing, UTF-8, datetimes, sizes, topic kinds, progress, fault
 * points. */
#include <stdlib.h>
#include <string.h>

#include "pp_err.h"
#include "pp_fault.h"
#include "pp_json.h"
#include "pp_kind.h"
#include "pp_metrics.h"
#include "pp_progress.h"
#include "pp_test.h"
#include "pp_util.h"

static int parse(struct pp_json *doc, const char *s)
{
    return pp_json_parse(doc, s, strlen(s), 0, NULL, 0);
}

static void test_json_valid(void)
{
    struct pp_json doc;
    pp_json_init(&doc);
    PP_CHECK_INT(parse(&doc, "{\"a\":1,\"b\":[true,null,\"x\"],\"c\":{\"d\":-1.5e3}}"), 0);
    int a = pp_json_get(&doc, 0, "a");
    int64_t v;
    PP_CHECK(a > 0 && pp_json_int(&doc, a, &v) == 0 && v == 1);
    int c = pp_json_get(&doc, 0, "c");
    double d;
    PP_CHECK(pp_json_num(&doc, pp_json_get(&doc, c, "d"), &d) == 0 && d == -1500.0);
    PP_CHECK_INT(pp_json_get(&doc, 0, "zz"), -1);
    PP_CHECK_INT(pp_json_next(&doc, 0), doc.ntok);
    PP_CHECK_INT(parse(&doc, "  [1, 2]  \n"), 0);
    PP_CHECK_INT(parse(&doc, "\"s\""), 0);
    PP_CHECK_INT(parse(&doc, " null "), 0);
    PP_CHECK_INT(doc.tok[0].type, PP_JSON_NULL);
    PP_CHECK_INT(parse(&doc, "42"), 0);
    PP_CHECK(pp_json_int(&doc, 0, &v) == 0 && v == 42);
    PP_CHECK_INT(parse(&doc, "42 x"), PP_EPARSE);
    PP_CHECK_INT(parse(&doc, "nul"), PP_EPARSE);
    pp_json_free(&doc);
}

static void test_json_invalid(void)
{
    static const char *bad[] = {"", "{", "{\"a\":}", "{\"a\":1,}", "{a:1}", "[1,]", "{\"a\" 1}",
                                "{\"a\":01}", "{\"a\":1.}", "{\"a\":tru}", "{} {}", "[1] x",
                                "{\"a\":\"\\x\"}", "{\"a\":1}}", "[\"a\":1]",
                                "{\"k\":[1,-2]:\"x\"}", "{\"k\":1:2}", "[1:2]",
                                "[[]:1]", "[4,[]:75808]", "{\"k\":[] : 7}", "{\"k\":{}:1}",
                                "{\"n\":{\"\"}:51}", "[{\"a\"}:1]"};
    struct pp_json doc;
    pp_json_init(&doc);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = parse(&doc, bad[i]);
        if (rc != PP_EPARSE)
            fprintf(stderr, "accepted bad JSON: %s\n", bad[i]);
        PP_CHECK_INT(rc, PP_EPARSE);
    }
    pp_json_free(&doc);
}

/* n opening brackets (alternating [ and {"k":), then the matching closers, into a new string. */
static char *nested(int n, const char *inner)
{
    size_t cap = (size_t)n * 6 + strlen(inner) + 1;
    char *s = malloc(cap), *p = s;
    for (int i = 0; i < n; i++)
        p += (i & 1) ? (memcpy(p, "{\"k\":", 5), 5) : (*p = '[', 1);
    size_t il = strlen(inner);
    memcpy(p, inner, il);
    p += il;
    for (int i = n - 1; i >= 0; i--)
        *p++ = (i & 1) ? '}' : ']';
    *p = '\0';
    return s;
}

/* Nesting is capped at PP_JSON_MAX_DEPTH before tokenising (issue 11: a 100k-deep array
 * overflowed the stack; deep nesting was quadratic in jsmn). */
static void test_json_depth(void)
{
    struct pp_json doc;
    pp_json_init(&doc);
    char *ok = nested(PP_JSON_MAX_DEPTH, "1");
    char *deep = nested(PP_JSON_MAX_DEPTH + 1, "1");
    char *bomb = nested(200000, "");
    char err[128];
    PP_CHECK_INT(parse(&doc, ok), 0);
    PP_CHECK_INT(pp_json_parse(&doc, deep, strlen(deep), 0, err, sizeof(err)), PP_EPARSE);
    PP_CHECK(strstr(err, "nested deeper than 64") != NULL);
    PP_CHECK_INT(parse(&doc, bomb), PP_EPARSE);
    /* Brackets inside strings (and after escaped quotes) do not count. */
    PP_CHECK_INT(parse(&doc, "{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                             "[[[[[[[[[[[[[\\\"[[[\"}"), 0);
    /* Unbalanced closers do not drive the depth negative. */
    PP_CHECK_INT(parse(&doc, "]]]]"), PP_EPARSE);
    free(ok);
    free(deep);
    free(bomb);
    pp_json_free(&doc);
}

/* Client text echoed into JSON stays valid UTF-8 (issue 11: "%ff" in a topic name). */
static void test_json_put_str_utf8(void)
{
    struct pp_buf b;
    pp_buf_init(&b, 0);
    static const char in[] = "a\xff" "b\xc3\xa9" "c\xc3" "d\xed\xa0\x80" "e\x01";
    PP_CHECK_INT(pp_json_put_str(&b, in, sizeof(in) - 1), 0);
    pp_buf_putc(&b, '\0');
    PP_CHECK_STR(b.data, "\"a\\ufffdb\xc3\xa9" "c\\ufffdd\\ufffd\\ufffd\\ufffde\\u0001\"");
    PP_CHECK(pp_utf8_valid(b.data, strlen(b.data)));
    pp_buf_free(&b);
}

static void test_json_strings(void)
{
    struct pp_json doc;
    struct pp_buf b;
    pp_json_init(&doc);
    pp_buf_init(&b, 0);
    PP_CHECK_INT(parse(&doc, "[\"a\\n\\u00e9\\ud83d\\ude00\\\"\", \"\\ud800\", \"caf\xc3\xa9\"]"), 0);
    PP_CHECK_INT(pp_json_str(&doc, 1, &b), 0);
    PP_CHECK_STR(b.data, "a\n\xc3\xa9\xf0\x9f\x98\x80\"");
    pp_buf_reset(&b);
    PP_CHECK_INT(pp_json_str(&doc, 2, &b), PP_EPARSE); /* lone surrogate */
    pp_buf_reset(&b);
    PP_CHECK_INT(pp_json_str(&doc, 3, &b), 0);
    PP_CHECK(pp_json_str_eq(&doc, 3, "caf\xc3\xa9"));
    PP_CHECK_INT(parse(&doc, "[\"\xc0\xaf\"]"), 0);
    pp_buf_reset(&b);
    PP_CHECK_INT(pp_json_str(&doc, 1, &b), PP_EPARSE); /* overlong UTF-8 */
    pp_buf_reset(&b);
    PP_CHECK_INT(pp_json_put_str(&b, "q\"\\\n\x01", 5), 0);
    PP_CHECK_STR(b.data, "\"q\\\"\\\\\\n\\u0001\"");
    pp_buf_free(&b);
    pp_json_free(&doc);
}

static void test_buf_i64(void)
{
    struct pp_buf b;
    pp_buf_init(&b, 0);
    pp_buf_put_i64(&b, 0);
    pp_buf_putc(&b, ' ');
    pp_buf_put_i64(&b, -9223372036854775807LL - 1);
    pp_buf_putc(&b, ' ');
    pp_buf_put_i64(&b, 1234567);
    PP_CHECK_STR(b.data, "0 -9223372036854775808 1234567");
    pp_buf_free(&b);
    pp_buf_init(&b, 4);
    PP_CHECK_INT(pp_buf_puts(&b, "12345"), PP_ETOOBIG);
    pp_buf_free(&b);
}

/* Errors are sticky: after a failed append, smaller appends fail too, until reset/truncate. */
static void test_buf_sticky(void)
{
    struct pp_buf b;
    pp_buf_init(&b, 8);
    PP_CHECK_INT(pp_buf_puts(&b, "abc"), 0);
    PP_CHECK_INT(pp_buf_error(&b), 0);
    PP_CHECK_INT(pp_buf_puts(&b, "123456"), PP_ETOOBIG);
    PP_CHECK_INT(pp_buf_putc(&b, 'x'), PP_ETOOBIG);     /* would fit: still refused */
    PP_CHECK_INT(pp_buf_printf(&b, "%d", 1), PP_ETOOBIG);
    PP_CHECK_INT(pp_buf_put_i64(&b, 1), PP_ETOOBIG);
    PP_CHECK_INT(pp_buf_reserve(&b, 1), PP_ETOOBIG);
    PP_CHECK_INT(pp_buf_error(&b), PP_ETOOBIG);
    PP_CHECK_STR(b.data, "abc"); /* nothing after the failure slipped in */
    pp_buf_truncate(&b, 2);     /* a builder rolls the failed piece back */
    PP_CHECK_INT(pp_buf_error(&b), 0);
    PP_CHECK_INT(pp_buf_putc(&b, 'z'), 0);
    PP_CHECK_STR(b.data, "abz");
    PP_CHECK_INT(pp_buf_puts(&b, "123456789"), PP_ETOOBIG);
    pp_buf_reset(&b);
    PP_CHECK_INT(pp_buf_error(&b), 0);
    PP_CHECK_INT(pp_buf_puts(&b, "ok"), 0);
    PP_CHECK_STR(b.data, "ok");
    pp_buf_free(&b);
}

static void test_time(void)
{
    int64_t us, base;
    PP_CHECK_INT(pp_time_parse("2020-08-28 03:52:47", 19, &base), 0);
    PP_CHECK_INT(base, 1598586767LL * 1000000);
    const char *same[] = {"2020-08-28T03:52:47", "2020-08-28T03:52:47Z", "2020-08-28 03:52:47.000",
                          "2020-08-28T05:52:47+02:00", "2020-08-28T03:22:47-0030"};
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        PP_CHECK_INT(pp_time_parse(same[i], strlen(same[i]), &us), 0);
        PP_CHECK_INT(us, base);
    }
    PP_CHECK_INT(pp_time_parse("2020-08-28T03:52:47.25Z", 23, &us), 0);
    PP_CHECK_INT(us, base + 250000);
    PP_CHECK_INT(pp_time_parse("2021-02-29 00:00:00", 19, &us), PP_EPARSE);
    PP_CHECK_INT(pp_time_parse("yesterday", 9, &us), PP_EPARSE);
    char out[32];
    pp_time_format(base / 1000000, out, sizeof(out));
    PP_CHECK_STR(out, "2020-08-28 03:52:47");
    pp_date_format(base / 1000, out, sizeof(out));
    PP_CHECK_STR(out, "2020-08-28");
}

static void test_parsers(void)
{
    uint64_t sz;
    int64_t ms, v;
    PP_CHECK(pp_parse_size("8M", &sz) == 0 && sz == 8u << 20);
    PP_CHECK(pp_parse_size("512", &sz) == 0 && sz == 512);
    PP_CHECK(pp_parse_size("5x", &sz) == PP_EPARSE);
    PP_CHECK(pp_parse_duration_ms("60s", &ms) == 0 && ms == 60000);
    PP_CHECK(pp_parse_duration_ms("5", &ms) == 0 && ms == 5);
    PP_CHECK(pp_parse_i64("12a", 0, 100, &v) == PP_EPARSE);
    PP_CHECK(pp_parse_i64("120", 0, 100, &v) == PP_ERANGE);
    char host[64];
    int port;
    PP_CHECK(pp_parse_hostport("127.0.0.1:8080", host, sizeof(host), &port) == 0 && port == 8080);
    PP_CHECK_STR(host, "127.0.0.1");
}

static void test_kind(void)
{
    PP_CHECK_INT(pp_kind_from_topic("pin", 3), PP_KIND_PIN);
    PP_CHECK_INT(pp_kind_from_topic("0a1b2c.geo", 10), PP_KIND_GEO);
    PP_CHECK_INT(pp_kind_from_topic("streaming-0a1b2c-user", 21), PP_KIND_USER);
    PP_CHECK_INT(pp_kind_from_topic("0a1b2c.pins", 11), PP_KIND_NONE);
    PP_CHECK_STR(pp_kind_id_field(PP_KIND_PIN), "index");
}

/* Progress on a fake clock into a memory stream: layout, rate, eta, and when it draws. */
static void test_progress(void)
{
    char text[256], *mem = NULL;
    size_t memlen = 0;
    struct pp_progress p;
    FILE *f = open_memstream(&mem, &memlen);
    PP_CHECK(f != NULL);
    pp_progress_init(&p, f, PP_PROGRESS_LINES, 0, "batch", "records", 1000, 0);
    /* 250 of 1000 after 1 s: 250/s, 3 s to go */
    PP_CHECK_STR(pp_progress_format(&p, 1000000, 250, "pin", text, sizeof(text)),
                 "batch: 250/1000 records (25%) 250/s eta 3s pin");
    pp_progress_init(&p, f, PP_PROGRESS_BAR, 0, "emulate", "events", 0, 0);
    PP_CHECK_STR(pp_progress_format(&p, 2000000, 30000, NULL, text, sizeof(text)),
                 "emulate 30000 events 15.0k/s");
    pp_progress_init(&p, f, PP_PROGRESS_BAR, 0, "b", "r", 4, 0);
    pp_progress_format(&p, 1000000, 2, NULL, text, sizeof(text));
    PP_CHECK(strstr(text, " 50% 2/4 r") != NULL);
    PP_CHECK(strchr(text, '[') && strchr(text, '#') && strchr(text, ']'));
    pp_progress_init(&p, NULL, PP_PROGRESS_BAR, 0, "b", "r", 4, 0);
    PP_CHECK_INT(p.mode, PP_PROGRESS_OFF); /* no stream, no progress */
    fclose(f);
    free(mem);
    mem = NULL;

    /* lines mode: nothing before 5 s, a line at 5 s, none again until 10 s, a last at finish */
    f = open_memstream(&mem, &memlen);
    PP_CHECK(f != NULL);
    pp_progress_init(&p, f, PP_PROGRESS_LINES, 0, "load", "rows", 100, 0);
    pp_progress_update(&p, 1000000, 10, NULL);
    pp_progress_update(&p, PP_PROGRESS_LINES_US, 50, NULL);
    pp_progress_update(&p, PP_PROGRESS_LINES_US + 1000000, 60, NULL);
    pp_progress_finish(&p, 2 * PP_PROGRESS_LINES_US, 100, NULL);
    pp_progress_update(&p, 3 * PP_PROGRESS_LINES_US, 100, NULL);
    fflush(f);
    int lines = 0;
    for (size_t i = 0; i < memlen; i++)
        lines += mem[i] == '\n';
    PP_CHECK_INT(lines, 2);
    PP_CHECK(strstr(mem, "load: 50/100 rows (50%)") == mem);
    PP_CHECK(strstr(mem, "load: 100/100 rows (100%)") != NULL);
    fclose(f);
    free(mem);

    /* off: nothing at all */
    mem = NULL;
    f = open_memstream(&mem, &memlen);
    pp_progress_init(&p, f, PP_PROGRESS_OFF, 0, "x", "y", 10, 0);
    pp_progress_update(&p, 10 * PP_PROGRESS_LINES_US, 5, NULL);
    pp_progress_finish(&p, 20 * PP_PROGRESS_LINES_US, 10, NULL);
    fflush(f);
    PP_CHECK_INT((int)memlen, 0);
    fclose(f);
    free(mem);
}

/* Latency histograms: counts per bucket, the Prometheus rendering (cumulative buckets, sum in
 * seconds, count), snapshots. */
static void test_hist(void)
{
    struct pp_hist h, c;
    memset(&h, 0, sizeof(h));
    pp_hist_observe_us(&h, 5);        /* <= 10 us */
    pp_hist_observe_us(&h, -3);       /* counts as 0 */
    pp_hist_observe_us(&h, 2000);     /* 2 ms */
    pp_hist_observe_us(&h, 60000000); /* 60 s: above the largest bound (10 s) */
    PP_CHECK_INT((int)pp_hist_count(&h), 4);
    pp_hist_copy(&c, &h);
    PP_CHECK_INT((int)pp_hist_count(&c), 4);
    PP_CHECK_INT((int)c.n[PP_HIST_NB], 1);
    struct pp_buf b;
    pp_buf_init(&b, 0);
    pp_metrics_hist(&b, "x_seconds", "", &h);
    pp_buf_putc(&b, '\0');
    PP_CHECK(strstr(b.data, "x_seconds_bucket{le=\"1e-05\"} 2\n") != NULL ||
             strstr(b.data, "x_seconds_bucket{le=\"0.00001\"} 2\n") != NULL);
    PP_CHECK(strstr(b.data, "x_seconds_bucket{le=\"+Inf\"} 4\n") != NULL);
    PP_CHECK(strstr(b.data, "x_seconds_count 4\n") != NULL);
    PP_CHECK(strstr(b.data, "x_seconds_sum 60.002") != NULL);
    pp_buf_free(&b);
}

/* Fault points match whole entries of the list only. */
static void test_fault(void)
{
    PP_CHECK(pp_fault_in("log_ticket_records", "log_ticket_records"));
    PP_CHECK(pp_fault_in("a,log_ticket_records, b", "log_ticket_records"));
    PP_CHECK(pp_fault_in("a, b", "b"));
    PP_CHECK(!pp_fault_in("log_ticket_records", "log_ticket"));
    PP_CHECK(!pp_fault_in("log_ticket", "log_ticket_records"));
    PP_CHECK(!pp_fault_in("", "a"));
    PP_CHECK(!pp_fault_in(NULL, "a"));
    PP_CHECK(!pp_fault_in("a", ""));
    PP_CHECK(!pp_fault_in(",,", ""));
    unsetenv(PP_FAULT_ENV);
    PP_CHECK(!pp_fault("x"));
    setenv(PP_FAULT_ENV, "y,x", 1);
    PP_CHECK(pp_fault("x"));
    unsetenv(PP_FAULT_ENV);
}

int main(void)
{
    test_json_valid();
    test_json_invalid();
    test_json_depth();
    test_json_put_str_utf8();
    test_json_strings();
    test_buf_i64();
    test_buf_sticky();
    test_time();
    test_parsers();
    test_kind();
    test_progress();
    test_hist();
    test_fault();
    PP_TEST_DONE();
}
