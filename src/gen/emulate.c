/* emulate.c: the posting emulator: users posting pin/geo/user records over HTTP (libcurl
 * multi, keep-alive, retries with backoff), as the seeds' user_posting_emulation.py does. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "pp_err.h"
#include "pp_gen.h"
#include "pp_json.h"
#include "pp_kind.h"
#include "pp_mysql.h"
#include "pp_progress.h"
#include "pp_util.h"

#define RESP_MAX 65536
#define HIST_N 1024
#define REJECT_SHOW 5

struct row {
    int64_t id;
    const char *rec[3]; /* borrowed from the loaded file text, exact source bytes */
    size_t len[3];
};

struct source {
    char *text[3]; /* whole files (replay: text[0] only) */
    struct row *rows;
    int64_t nrows;
    struct pp_gen *gen; /* generated rows when no file source */
    int64_t gen_rows;
    struct pp_mysql_src *my; /* rows from MySQL/MariaDB, read per event */
};

struct slot {
    CURL *easy;
    struct pp_buf body, resp;
    struct pp_buf genrec[3];
    struct row row; /* the event being sent */
    int busy;       /* has an event */
    int in_flight;  /* a request is running */
    int stage;      /* 0 pin, 1 geo, 2 user */
    int attempt;
    int64_t next_at; /* µs (monotonic) of the next attempt */
    int64_t started; /* µs the running attempt started */
};

struct emu {
    const struct pp_emu_conf *conf;
    struct pp_emu_stats *st;
    struct source src;
    CURLM *multi;
    struct curl_slist *hdrs;
    char *url[3];
    struct slot *slots;
    int nslots;
    int64_t issued; /* events taken */
    int64_t total;  /* events to take, 0 = until stopped */
    uint64_t rng;
    int64_t hist[HIST_N];
    int64_t nhist;
    int64_t t0;
    struct pp_progress prog; /* on stderr: conf->progress 2 a bar, 1 plain lines */
    int rejects_shown;
    int src_done; /* the source has no more events (end of a MySQL stream) */
    int src_rc;   /* the source failed: stop taking events, report src_err */
    char src_err[1024];
    int64_t last_answer_us; /* last HTTP answer (any status), or the start */
    int refused;            /* connections refused since that answer */
};

/* No HTTP answer at all for this long while connections are refused: the server is gone;
 * give up rather than retry every event for hours. */
#define UNREACHABLE_US (30 * 1000000LL)

/* ---------------- sources ---------------- */

static int read_file(const char *path, char **out, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    struct pp_buf b;
    char chunk[1 << 16];
    size_t n;
    int rc = 0;
    pp_buf_init(&b, (size_t)1 << 36);
    if (!f) {
        snprintf(errstr, errstr_size, "cannot open %s: %s", path, strerror(errno));
        return PP_EIO;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if ((rc = pp_buf_append(&b, chunk, n)))
            break;
    if (!rc && ferror(f)) {
        snprintf(errstr, errstr_size, "reading %s: %s", path, strerror(errno));
        rc = PP_EIO;
    }
    fclose(f);
    if (!rc && !b.data)
        rc = pp_buf_append(&b, "", 0);
    if (rc) {
        pp_buf_free(&b);
        return rc;
    }
    *out = pp_buf_steal(&b, NULL);
    return 0;
}

/* Next non-blank line of text at *pos into s and n (without CR/LF). @returns 0 at the end. */
static int next_line(const char *text, size_t *pos, const char **s, size_t *n)
{
    for (;;) {
        const char *p = text + *pos;
        if (!*p)
            return 0;
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        *pos += len + (e ? 1 : 0);
        while (len && (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        size_t lead = 0;
        while (lead < len && (p[lead] == ' ' || p[lead] == '\t'))
            lead++;
        if (len > lead) {
            *s = p + lead, *n = len - lead;
            return 1;
        }
    }
}

static int grow_rows(struct source *src, int64_t *cap)
{
    if (src->nrows < *cap)
        return 0;
    int64_t ncap = *cap ? *cap * 2 : 4096;
    struct row *r = realloc(src->rows, (size_t)ncap * sizeof(*r));
    if (!r)
        return PP_ENOMEM;
    src->rows = r, *cap = ncap;
    return 0;
}

static int record_id(struct pp_json *doc, int obj, int kind, int64_t *id)
{
    int t = pp_json_get(doc, obj, pp_kind_id_field((enum pp_kind)kind));
    return t < 0 ? PP_EINVAL : pp_json_int(doc, t, id);
}

/* Load a replay file: one {"pin":{..},"geo":{..},"user":{..}} per line, kept in order. */
static int load_replay(struct source *src, const char *path, char *errstr, size_t errstr_size)
{
    static const char *const keys[3] = {"pin", "geo", "user"};
    struct pp_json doc;
    size_t pos = 0, n;
    const char *line;
    int64_t cap = 0, lineno = 0;
    int rc = read_file(path, &src->text[0], errstr, errstr_size);
    if (rc)
        return rc;
    pp_json_init(&doc);
    while (next_line(src->text[0], &pos, &line, &n)) {
        char msg[200];
        struct row *r;
        lineno++;
        if ((rc = grow_rows(src, &cap)))
            goto out;
        r = &src->rows[src->nrows];
        if ((rc = pp_json_parse(&doc, line, n, 0, msg, sizeof(msg)))) {
            snprintf(errstr, errstr_size, "%s:%lld: %s", path, (long long)lineno, msg);
            goto out;
        }
        for (int k = 0; k < 3; k++) {
            int t = pp_json_get(&doc, 0, keys[k]);
            if (t < 0 || doc.tok[t].type != PP_JSON_OBJECT) {
                snprintf(errstr, errstr_size, "%s:%lld: no \"%s\" object", path, (long long)lineno,
                         keys[k]);
                rc = PP_EPARSE;
                goto out;
            }
            r->rec[k] = pp_json_raw(&doc, t, &r->len[k]);
            if (k == 0 && record_id(&doc, t, k, &r->id)) {
                snprintf(errstr, errstr_size, "%s:%lld: pin has no integer \"index\"", path,
                         (long long)lineno);
                rc = PP_EPARSE;
                goto out;
            }
        }
        src->nrows++;
    }
out:
    pp_json_free(&doc);
    return rc;
}

/* The table file of kind k in dir: "<kind>.jsonl" if present, else the one *.jsonl whose
 * name contains the kind (aicore_sample_pin.jsonl) and is not an events file. */
static int find_table(const char *dir, int k, char *path, size_t size, char *errstr,
                      size_t errstr_size)
{
    const char *kind = pp_kind_name((enum pp_kind)k);
    DIR *d = opendir(dir);
    struct dirent *de;
    int found = 0;
    if (!d) {
        snprintf(errstr, errstr_size, "cannot open %s: %s", dir, strerror(errno));
        return PP_EIO;
    }
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 7 || strcmp(de->d_name + len - 6, ".jsonl") || strstr(de->d_name, "event") ||
            !strstr(de->d_name, kind))
            continue;
        if (!strcmp(de->d_name + len - 6 - strlen(kind), kind) || !found) {
            snprintf(path, size, "%s/%s", dir, de->d_name);
            found = !strcmp(de->d_name + len - 6 - strlen(kind), kind) ? 2 : 1;
        }
        if (found == 2 && len == strlen(kind) + 6)
            break;
    }
    closedir(d);
    if (!found) {
        snprintf(errstr, errstr_size, "no %s table (*%s*.jsonl) in %s", kind, kind, dir);
        return PP_ENOENT;
    }
    return 0;
}

static int cmp_row_id(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* Load the three tables of a source dir; rows are joined by id (they are aligned by line
 * in gen's output and in the aicore samples; otherwise they are sorted by id first). */
static int load_dir(struct source *src, const char *dir, char *errstr, size_t errstr_size)
{
    struct row *tab[3] = {NULL, NULL, NULL};
    int64_t cnt[3] = {0, 0, 0};
    struct pp_json doc;
    char path[3][4096];
    int rc = 0;
    pp_json_init(&doc);
    for (int k = 0; k < 3; k++) {
        size_t pos = 0, n;
        const char *line;
        int64_t cap = 0;
        struct source tmp = {{NULL}, NULL, 0, NULL, 0, NULL};
        if ((rc = find_table(dir, k, path[k], sizeof(path[k]), errstr, errstr_size)) ||
            (rc = read_file(path[k], &src->text[k], errstr, errstr_size)))
            goto out;
        while (next_line(src->text[k], &pos, &line, &n)) {
            if ((rc = grow_rows(&tmp, &cap)))
                break;
            struct row *r = &tmp.rows[tmp.nrows];
            if (pp_json_parse(&doc, line, n, 0, NULL, 0) || record_id(&doc, 0, k, &r->id)) {
                snprintf(errstr, errstr_size, "%s: line %lld is not a %s record with an id",
                         path[k], (long long)tmp.nrows + 1, pp_kind_name((enum pp_kind)k));
                rc = PP_EPARSE;
                break;
            }
            r->rec[0] = line, r->len[0] = n;
            tmp.nrows++;
        }
        tab[k] = tmp.rows, cnt[k] = tmp.nrows;
        if (rc)
            goto out;
    }
    if (cnt[0] != cnt[1] || cnt[0] != cnt[2]) {
        snprintf(errstr, errstr_size, "tables differ in size: pin %lld, geo %lld, user %lld rows",
                 (long long)cnt[0], (long long)cnt[1], (long long)cnt[2]);
        rc = PP_EINVAL;
        goto out;
    }
    for (int64_t i = 0; i < cnt[0]; i++) {
        if (tab[0][i].id == tab[1][i].id && tab[0][i].id == tab[2][i].id)
            continue;
        for (int k = 0; k < 3; k++)
            qsort(tab[k], (size_t)cnt[k], sizeof(struct row), cmp_row_id);
        break;
    }
    for (int64_t i = 0; i < cnt[0]; i++) {
        if (tab[0][i].id != tab[1][i].id || tab[0][i].id != tab[2][i].id) {
            snprintf(errstr, errstr_size,
                     "ids do not match across tables (pin %lld, geo %lld, "
                     "user %lld)",
                     (long long)tab[0][i].id, (long long)tab[1][i].id, (long long)tab[2][i].id);
            rc = PP_EINVAL;
            goto out;
        }
        for (int k = 1; k < 3; k++)
            tab[0][i].rec[k] = tab[k][i].rec[0], tab[0][i].len[k] = tab[k][i].len[0];
    }
    src->rows = tab[0], src->nrows = cnt[0];
    tab[0] = NULL;
    if (!src->nrows) {
        snprintf(errstr, errstr_size, "no rows in %s", dir);
        rc = PP_EINVAL;
    }
out:
    for (int k = 0; k < 3; k++)
        free(tab[k]);
    pp_json_free(&doc);
    return rc;
}

static void source_free(struct source *src)
{
    for (int k = 0; k < 3; k++)
        free(src->text[k]);
    free(src->rows);
    pp_gen_destroy(src->gen);
    pp_mysql_src_destroy(src->my);
}

/* ---------------- requests ---------------- */

static uint64_t rng_next(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct pp_buf *b = ud;
    size_t len = size * n, room = RESP_MAX > b->len ? RESP_MAX - b->len : 0;
    pp_buf_append(b, p, len < room ? len : room); /* keep the head only */
    return len;
}

static int hist_index(int64_t us)
{
    if (us < 16)
        return us < 0 ? 0 : (int)us;
    int msb = 63 - __builtin_clzll((unsigned long long)us);
    int idx = (msb - 3) * 16 + (int)((us >> (msb - 4)) & 15);
    return idx < HIST_N ? idx : HIST_N - 1;
}

static double hist_value_ms(int idx)
{
    if (idx < 16)
        return idx / 1000.0;
    int msb = idx / 16 + 3, sub = idx % 16;
    double lo = (double)(1ull << msb) + (double)sub * (double)(1ull << (msb - 4));
    return (lo + (double)(1ull << (msb - 4)) / 2) / 1000.0;
}

static double hist_pct(const struct emu *emu, double p)
{
    if (!emu->nhist)
        return 0;
    int64_t want = (int64_t)(p * (double)emu->nhist + 0.5), seen = 0;
    if (want < 1)
        want = 1;
    for (int i = 0; i < HIST_N; i++)
        if ((seen += emu->hist[i]) >= want)
            return hist_value_ms(i);
    return hist_value_ms(HIST_N - 1);
}

static int build_body(struct emu *emu, struct slot *s)
{
    const struct pp_emu_conf *conf = emu->conf;
    const char *rec = s->row.rec[s->stage];
    size_t len = s->row.len[s->stage];
    struct pp_buf *b = &s->body;
    pp_buf_reset(b);
    switch (conf->api) {
    case PP_EMU_RESTPROXY:
        if (pp_buf_puts(b, "{\"records\":[{\"value\":") || pp_buf_append(b, rec, len) ||
            pp_buf_puts(b, "}]}"))
            return PP_ENOMEM;
        return 0;
    case PP_EMU_KINESIS:
        return pp_buf_printf(b,
                             "{\"StreamName\":\"streaming-%s-%s\",\"Data\":%.*s,"
                             "\"PartitionKey\":\"%lld\"}",
                             conf->prefix, pp_kind_name((enum pp_kind)s->stage), (int)len, rec,
                             (long long)s->row.id);
    default:
        return pp_buf_append(b, rec, len);
    }
}

static int start_request(struct emu *emu, struct slot *s)
{
    int rc = build_body(emu, s);
    if (rc)
        return rc;
    pp_buf_reset(&s->resp);
    CURL *e = s->easy;
    curl_easy_setopt(e, CURLOPT_URL, emu->url[s->stage]);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->body.data);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, emu->conf->api == PP_EMU_KINESIS ? "PUT" : NULL);
    s->started = pp_mono_us();
    s->in_flight = 1;
    emu->st->sent++;
    return curl_multi_add_handle(emu->multi, e) == CURLM_OK ? 0 : PP_EIO;
}

/* Take the next event into slot s (if any is due). @returns 1 if taken. */
static int take_event(struct emu *emu, struct slot *s, int64_t now)
{
    const struct pp_emu_conf *conf = emu->conf;
    if ((emu->total && emu->issued >= emu->total) || emu->src_done || emu->src_rc)
        return 0;
    if (conf->rate > 0 && now < emu->t0 + (int64_t)((double)emu->issued * 1e6 / conf->rate))
        return 0;
    if (conf->replay_file) {
        s->row = emu->src.rows[emu->issued];
    } else if (emu->src.rows) {
        s->row = emu->src.rows[rng_next(&emu->rng) % (uint64_t)emu->src.nrows];
    } else if (emu->src.my) {
        int rc = pp_mysql_src_next(emu->src.my, rng_next(&emu->rng), s->genrec, &s->row.id,
                                   emu->src_err, sizeof(emu->src_err));
        if (rc) {
            if (rc > 0)
                emu->src_done = 1;
            else
                emu->src_rc = rc;
            return 0;
        }
        for (int k = 0; k < 3; k++)
            s->row.rec[k] = s->genrec[k].data, s->row.len[k] = s->genrec[k].len;
    } else {
        int64_t id = (int64_t)(rng_next(&emu->rng) % (uint64_t)emu->src.gen_rows);
        for (int k = 0; k < 3; k++)
            pp_buf_reset(&s->genrec[k]);
        if (pp_gen_row(emu->src.gen, id, &s->genrec[0], &s->genrec[1], &s->genrec[2]))
            return 0;
        s->row.id = id;
        for (int k = 0; k < 3; k++)
            s->row.rec[k] = s->genrec[k].data, s->row.len[k] = s->genrec[k].len;
    }
    emu->issued++;
    s->busy = 1, s->stage = 0, s->attempt = 0, s->next_at = now;
    return 1;
}

static void next_stage(struct emu *emu, struct slot *s, int64_t now)
{
    s->attempt = 0;
    s->next_at = now;
    if (++s->stage == 3) {
        s->busy = 0;
        emu->st->events++;
    }
}

/* Backoff before attempt n (1-based retry count): 100 ms * 2^(n-1), capped at 5 s, full
 * jitter in [half, full]; a server's Retry-After (seconds) wins when longer (capped at 60 s). */
static int64_t backoff_us(struct emu *emu, int n, curl_off_t retry_after)
{
    int64_t base = 100000ll << (n - 1 < 6 ? n - 1 : 6);
    if (base > 5000000)
        base = 5000000;
    int64_t d = base / 2 + (int64_t)(rng_next(&emu->rng) % (uint64_t)(base / 2 + 1));
    if (retry_after > 60)
        retry_after = 60; /* honour the server, within reason */
    if (retry_after > 0 && (int64_t)retry_after * 1000000 > d)
        d = (int64_t)retry_after * 1000000 + (int64_t)(rng_next(&emu->rng) % 100000);
    return d;
}

/* Does the response body contain text? */
static int has_text(const struct pp_buf *b, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; b->data && i + n <= b->len; i++)
        if (b->data[i] == text[0] && !memcmp(b->data + i, text, n))
            return 1;
    return 0;
}

static void finish(struct emu *emu, CURLMsg *msg, int64_t now)
{
    struct slot *s = NULL;
    long code = 0;
    curl_off_t retry_after = 0;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
    curl_multi_remove_handle(emu->multi, msg->easy_handle);
    s->in_flight = 0;
    emu->hist[hist_index(now - s->started)]++;
    emu->nhist++;
    CURLcode res = msg->data.result;
    if (res == CURLE_OK) {
        emu->last_answer_us = now;
        emu->refused = 0;
    } else if (res == CURLE_COULDNT_CONNECT) {
        emu->refused++;
    }
    if (res == CURLE_OK) {
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &retry_after);
    }
    /* A REST-proxy 200 can still refuse its record: error_code 2 is retriable (the record
     * was valid, Kafka did not take it), 1 is not (Confluent REST Proxy v2 produce response). */
    int rec_err = 0;
    if (res == CURLE_OK && code >= 200 && code < 300 && emu->conf->api == PP_EMU_RESTPROXY &&
        s->resp.data && has_text(&s->resp, "\"error_code\":"))
        rec_err = has_text(&s->resp, "\"error_code\":2") ? 2 : 1;
    if (res == CURLE_OK && code >= 200 && code < 300 && !rec_err) {
        emu->st->acked++;
        next_stage(emu, s, now);
        return;
    }
    int retryable = res != CURLE_OK || code == 408 || code == 429 || code >= 500 || rec_err == 2;
    if (!retryable) {
        emu->st->rejected++;
        if (emu->rejects_shown < REJECT_SHOW)
            pp_progress_clear(&emu->prog); /* the message on a line of its own */
        if (emu->rejects_shown++ < REJECT_SHOW)
            fprintf(stderr, "pinpipe emulate: rejected: HTTP %ld from %s: %.*s\n", code,
                    emu->url[s->stage], (int)(s->resp.len > 500 ? 500 : s->resp.len),
                    s->resp.data ? s->resp.data : "");
        next_stage(emu, s, now);
        return;
    }
    if (++s->attempt >= emu->conf->max_attempts || (emu->conf->stop && *emu->conf->stop)) {
        emu->st->failed++;
        if (emu->rejects_shown < REJECT_SHOW)
            pp_progress_clear(&emu->prog);
        if (emu->rejects_shown++ < REJECT_SHOW)
            fprintf(stderr, "pinpipe emulate: failed after %d attempts: %s: %s\n", s->attempt,
                    emu->url[s->stage],
                    res != CURLE_OK ? curl_easy_strerror(res) : "HTTP error status");
        next_stage(emu, s, now);
        return;
    }
    emu->st->retried++;
    s->next_at = now + backoff_us(emu, s->attempt, retry_after);
}

/* ---------------- progress and the loop ---------------- */

static void progress(struct emu *emu, int64_t now, int final)
{
    const struct pp_emu_stats *st = emu->st;
    char detail[160];
    snprintf(detail, sizeof(detail), "sent %lld acked %lld rej %lld retry %lld failed %lld",
             (long long)st->sent, (long long)st->acked, (long long)st->rejected,
             (long long)st->retried, (long long)st->failed);
    if (final)
        pp_progress_finish(&emu->prog, now, st->events, detail);
    else
        pp_progress_update(&emu->prog, now, st->events, detail);
}

static int loop(struct emu *emu)
{
    const struct pp_emu_conf *conf = emu->conf;
    for (;;) {
        int64_t now = pp_mono_us(), wake = now + 100000;
        if (emu->refused && !emu->src_rc && now - emu->last_answer_us > UNREACHABLE_US) {
            emu->src_rc = PP_EIO;
            snprintf(emu->src_err, sizeof(emu->src_err),
                     "server unreachable: connections refused and no HTTP answer for %lld s",
                     (long long)(UNREACHABLE_US / 1000000));
        }
        int stopping = (conf->stop && *conf->stop) || emu->src_rc, active = 0;
        for (int i = 0; i < emu->nslots; i++) {
            struct slot *s = &emu->slots[i];
            if (!s->busy && !stopping)
                take_event(emu, s, now);
            if (s->busy && stopping && !s->in_flight)
                s->busy = 0; /* drop what is not on the wire yet */
            if (s->busy && !s->in_flight && s->next_at <= now) {
                int rc = start_request(emu, s);
                if (rc)
                    return rc;
            }
            if (s->busy) {
                active++;
                if (!s->in_flight && s->next_at < wake)
                    wake = s->next_at;
            }
        }
        int more = !stopping && !emu->src_done && !emu->src_rc &&
                   (!emu->total || emu->issued < emu->total);
        if (!active && !more)
            return emu->src_rc;
        if (more && conf->rate > 0) {
            int64_t due = emu->t0 + (int64_t)((double)emu->issued * 1e6 / conf->rate);
            if (due < wake)
                wake = due;
        }
        int running = 0;
        curl_multi_perform(emu->multi, &running);
        CURLMsg *msg;
        int left;
        now = pp_mono_us();
        int done = 0;
        while ((msg = curl_multi_info_read(emu->multi, &left)))
            if (msg->msg == CURLMSG_DONE)
                finish(emu, msg, now), done++;
        progress(emu, now, 0);
        if (done)
            continue;
        int timeout = wake > now ? (int)((wake - now + 999) / 1000) : 0;
        if (timeout > 100)
            timeout = 100;
        if (timeout > 0 || running)
            curl_multi_poll(emu->multi, NULL, 0, timeout, NULL);
    }
}

static int setup(struct emu *emu, char *errstr, size_t errstr_size)
{
    const struct pp_emu_conf *conf = emu->conf;
    static const char *const ctype[] = {"Content-Type: application/json",
                                        "Content-Type: application/vnd.kafka.json.v2+json",
                                        "Content-Type: application/json"};
    size_t ulen = strlen(conf->url);
    while (ulen && conf->url[ulen - 1] == '/')
        ulen--;
    for (int k = 0; k < 3; k++) {
        struct pp_buf b;
        const char *kind = pp_kind_name((enum pp_kind)k);
        pp_buf_init(&b, 0);
        int rc = pp_buf_append(&b, conf->url, ulen);
        if (!rc && conf->api == PP_EMU_FASTAPI)
            rc = pp_buf_printf(&b, "/%s/", kind);
        else if (!rc && conf->api == PP_EMU_RESTPROXY)
            rc = pp_buf_printf(&b, "/topics/%s.%s", conf->prefix, kind);
        else if (!rc)
            rc = pp_buf_printf(&b, "/streams/streaming-%s-%s/record", conf->prefix, kind);
        if (rc) {
            pp_buf_free(&b);
            return rc;
        }
        emu->url[k] = pp_buf_steal(&b, NULL);
    }
    emu->hdrs = curl_slist_append(NULL, ctype[conf->api]);
    emu->hdrs = curl_slist_append(emu->hdrs, "Expect:");
    if (conf->api_key && *conf->api_key && conf->api != PP_EMU_RESTPROXY) {
        char h[400]; /* REST proxy: Basic, below */
        snprintf(h, sizeof(h), "%s%.300s",
                 conf->api == PP_EMU_KINESIS ? "x-api-key: " : "Authorization: Bearer ",
                 conf->api_key);
        emu->hdrs = curl_slist_append(emu->hdrs, h);
        memset(h, 0, sizeof(h));
    }
    emu->multi = curl_multi_init();
    emu->nslots = conf->concurrency > 0 ? conf->concurrency : 1;
    emu->slots = calloc((size_t)emu->nslots, sizeof(*emu->slots));
    if (!emu->hdrs || !emu->multi || !emu->slots) {
        snprintf(errstr, errstr_size, "out of memory");
        return PP_ENOMEM;
    }
    curl_multi_setopt(emu->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)emu->nslots);
    curl_multi_setopt(emu->multi, CURLMOPT_MAXCONNECTS, (long)emu->nslots);
    for (int i = 0; i < emu->nslots; i++) {
        struct slot *s = &emu->slots[i];
        pp_buf_init(&s->body, 0);
        pp_buf_init(&s->resp, RESP_MAX + 1);
        for (int k = 0; k < 3; k++)
            pp_buf_init(&s->genrec[k], 0);
        if (!(s->easy = curl_easy_init())) {
            snprintf(errstr, errstr_size, "curl_easy_init failed");
            return PP_ENOMEM;
        }
        CURL *e = s->easy;
        curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)s);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, emu->hdrs);
        if (conf->api_key && *conf->api_key && conf->api == PP_EMU_RESTPROXY) {
            curl_easy_setopt(e, CURLOPT_USERNAME, "pinpipe-emulate");
            curl_easy_setopt(e, CURLOPT_PASSWORD, conf->api_key);
        }
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &s->resp);
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 60000L);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "pinpipe-emulate/1");
    }
    return 0;
}

static void teardown(struct emu *emu)
{
    for (int i = 0; emu->slots && i < emu->nslots; i++) {
        struct slot *s = &emu->slots[i];
        if (s->easy) {
            if (s->in_flight)
                curl_multi_remove_handle(emu->multi, s->easy);
            curl_easy_cleanup(s->easy);
        }
        pp_buf_free(&s->body);
        pp_buf_free(&s->resp);
        for (int k = 0; k < 3; k++)
            pp_buf_free(&s->genrec[k]);
    }
    free(emu->slots);
    if (emu->multi)
        curl_multi_cleanup(emu->multi);
    curl_slist_free_all(emu->hdrs);
    for (int k = 0; k < 3; k++)
        free(emu->url[k]);
    source_free(&emu->src);
}

int pp_emu_run(const struct pp_emu_conf *conf, struct pp_emu_stats *st, char *errstr,
               size_t errstr_size)
{
    struct emu emu;
    int rc;
    memset(&emu, 0, sizeof(emu));
    memset(st, 0, sizeof(*st));
    emu.conf = conf, emu.st = st;
    emu.rng = conf->seed ^ 0x5EEDull;
    if (!conf->url || strncmp(conf->url, "http", 4) || conf->api < 0 || conf->api > 2 ||
        conf->max_attempts < 1 || !conf->prefix) {
        snprintf(errstr, errstr_size, "bad emulator configuration (url, api, attempts)");
        return PP_EINVAL;
    }
    if (conf->replay_file)
        rc = load_replay(&emu.src, conf->replay_file, errstr, errstr_size);
    else if (conf->source_dir)
        rc = load_dir(&emu.src, conf->source_dir, errstr, errstr_size);
    else if (conf->source_url)
        rc = pp_mysql_src_open(conf->source_url, conf->source_mode, &emu.src.my, errstr,
                               errstr_size);
    else if (conf->rows < 1)
        snprintf(errstr, errstr_size, "--rows must be >= 1"), rc = PP_EINVAL;
    else
        rc = (emu.src.gen = pp_gen_new(conf->seed)) ? 0 : PP_ENOMEM, emu.src.gen_rows = conf->rows;
    if (rc)
        goto out;
    emu.total = conf->events;
    if (conf->replay_file && !emu.src.nrows) {
        snprintf(errstr, errstr_size, "no events in %s", conf->replay_file);
        rc = PP_EINVAL;
        goto out;
    }
    if (conf->replay_file && (!emu.total || emu.total > emu.src.nrows))
        emu.total = emu.src.nrows;
    if ((rc = setup(&emu, errstr, errstr_size)))
        goto out;
    emu.t0 = emu.last_answer_us = pp_mono_us();
    pp_progress_init(&emu.prog, stderr,
                     conf->progress == 2   ? PP_PROGRESS_BAR
                     : conf->progress == 1 ? PP_PROGRESS_LINES
                                           : PP_PROGRESS_OFF,
                     0, "emulate", "events", emu.total, emu.t0);
    rc = loop(&emu);
    if (rc && emu.src_rc)
        snprintf(errstr, errstr_size, "%s", emu.src_err);
    else if (rc)
        snprintf(errstr, errstr_size, "request setup failed: %s", pp_err_str(rc));
    int64_t end = pp_mono_us();
    progress(&emu, end, 1);
    st->elapsed_s = (double)(end - emu.t0) / 1e6;
    st->p50_ms = hist_pct(&emu, 0.50);
    st->p99_ms = hist_pct(&emu, 0.99);
out:
    teardown(&emu);
    return rc;
}
