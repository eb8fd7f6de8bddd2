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

int pp_http_reject_encode(struct pp_buf *out, int64_t ts_ms, enum pp_http_api api,
                          const char *path, enum pp_kind kind, int status, const char *err,
                          size_t errlen, int records)
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
        rc = pp_json_put_str(out, path ? path : "", plen > 256 ? 256 : plen);
    if (!rc && kind >= 0 && kind < PP_KIND_COUNT)
        rc = pp_buf_printf(out, ",\"kind\":\"%s\"", pp_kind_name(kind));
    else if (!rc)
        rc = pp_buf_puts(out, ",\"kind\":null");
    if (!rc)
        rc = pp_buf_printf(out, ",\"status\":%d,\"error\":", status);
    if (!rc)
        rc = pp_json_put_str(out, err ? err : "", err ? (errlen > 1024 ? 1024 : errlen) : 0);
    if (!rc)
        rc = pp_buf_printf(out, ",\"records\":%d}", records > 0 ? records : 1);
    return rc;
}

int pp_http_reject_note(struct pp_log *log, const char *topic, enum pp_http_api api,
                        const char *path, enum pp_kind kind, int status, const char *err,
                        size_t errlen, int records)
{
    if (!log || !topic || !topic[0])
        return 0;
    struct pp_buf b;
    pp_buf_init(&b, 8192);
    int64_t now = pp_now_ms();
    int rc = pp_http_reject_encode(&b, now, api, path, kind, status, err, errlen, records);
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
