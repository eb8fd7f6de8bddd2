/* rejects.c: the dead-letter topic: one JSON record per record or request serve refused with
 * a 4xx, so that refusals are counted per day (pinpipe quality) and can be inspected
 * (pinpipe log tail --topic pinpipe.rejected). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pp_http.h"
#include "pp_util.h"

static const char *api_name(enum pp_http_api api)
{
    switch (api) {
    case PP_HTTP_API_FASTAPI:
        return "fastapi";
    case PP_HTTP_API_PROXY:
        return "proxy";
    case PP_HTTP_API_KINESIS:
        return "kinesis";
    default:
        return "plain";
    }
}

/* Length of s[0..n) cut to at most max bytes without splitting a UTF-8 character: a cut
 * inside one made the dead letter invalid UTF-8 (tests/fuzz/regress/{fastapi,proxy}/
 * dead-letter-path-cut-utf8*). At most 3 bytes are given back (a character has up to 3
 * continuation bytes); s not UTF-8 there is cut at max, as before. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    for (int i = 0; i < 3 && k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80; i++)
        k--;
    return ((unsigned char)s[k] & 0xC0) == 0x80 ? max : k;
}

/* Append client text s[0..n), cut to max bytes, as a JSON string that is valid UTF-8 whatever
 * s holds: bytes that are no UTF-8 become U+FFFD. The URL path is not checked before it gets
 * here (a request to /topics/x%FF.pin is refused and noted with that byte in its path), and a
 * dead letter must stay readable JSON for `pinpipe quality` and for consumers of the topic. */
static int put_text(struct pp_buf *out, const char *s, size_t n, size_t max)
{
    n = utf8_cut(s, n, max);
    if (pp_utf8_valid(s, n))
        return pp_json_put_str(out, s, n);
    struct pp_buf tmp;
    int rc = 0;
    pp_buf_init(&tmp, 0);
    for (size_t i = 0; i < n && !rc;) {
        size_t len = 0; /* length of the valid character at s[i], 0 if none starts there */
        for (size_t l = 1; l <= 4 && i + l <= n && !len; l++)
            if (pp_utf8_valid(s + i, l))
                len = l;
        rc = len ? pp_buf_append(&tmp, s + i, len) : pp_buf_append(&tmp, "\xEF\xBF\xBD", 3);
        i += len ? len : 1;
    }
    if (!rc)
        rc = pp_json_put_str(out, tmp.data ? tmp.data : "", tmp.len);
    pp_buf_free(&tmp);
    return rc;
}

int pp_http_reject_encode(struct pp_buf *out, int64_t ts_ms, enum pp_http_api api,
                          const char *path, enum pp_kind kind, int status, const char *err,
                          size_t errlen)
{
    char ts[40];
    time_t sec = (time_t)(ts_ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof(ts) - n, ".%03dZ", (int)(ts_ms % 1000));
    int rc = pp_buf_printf(out, "{\"ts\":\"%s\",\"api\":\"%s\",\"path\":", ts, api_name(api));
    /* the path is client text: escaped, and cut to keep a record small */
    size_t plen = path ? strlen(path) : 0;
    if (!rc)
        rc = put_text(out, path ? path : "", plen, 256);
    if (!rc && kind >= 0 && kind < PP_KIND_COUNT)
        rc = pp_buf_printf(out, ",\"kind\":\"%s\"", pp_kind_name(kind));
    else if (!rc)
        rc = pp_buf_puts(out, ",\"kind\":null");
    if (!rc)
        rc = pp_buf_printf(out, ",\"status\":%d,\"error\":", status);
    if (!rc)
        rc = put_text(out, err ? err : "", err ? errlen : 0, 1024);
    if (!rc)
        rc = pp_buf_putc(out, '}');
    return rc;
}

int pp_http_reject_note(struct pp_log *log, const char *topic, enum pp_http_api api,
                        const char *path, enum pp_kind kind, int status, const char *err,
                        size_t errlen)
{
    if (!log || !topic || !topic[0])
        return 0;
    struct pp_buf b;
    pp_buf_init(&b, 8192);
    int64_t now = pp_now_ms();
    int rc = pp_http_reject_encode(&b, now, api, path, kind, status, err, errlen);
    if (!rc) {
        int part;
        int64_t off;
        uint64_t ticket;
        /* not awaited: a dead letter is best effort and must not slow the refusal down */
        rc = pp_log_append(log, topic, -1, NULL, 0, b.data, b.len, now, &part, &off, &ticket);
    }
    pp_buf_free(&b);
    return rc;
}
