/* dash.c: the dashboard's request handler: embedded files, cached JSON answers, routing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dash_int.h"
#include "pp_err.h"
#include "pp_util.h"

#define DEFAULT_CACHE_MS 1000
#define INSIGHTS_TTL_MAX_US (30 * 1000000LL)
#define RUNS_DEFAULT 20
#define RUNS_MAX 200

const struct pp_dash_asset *pp_dash_assets(int *n)
{
    *n = pp_dash_asset_count;
    return pp_dash_asset_table;
}

void dash_etag(const void *data, size_t len, char *out)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 */
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    snprintf(out, DASH_ETAG_SIZE, "\"%016llx\"", (unsigned long long)h);
}

#define BODY_MAX (64u << 20)

static void cache_init(struct dash_cache *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->done, NULL);
    pp_buf_init(&c->body, BODY_MAX);
}

static void cache_free(struct dash_cache *c)
{
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->done);
    pp_wh_close(c->wh);
    pp_buf_free(&c->body);
}

struct pp_dash *pp_dash_new(const struct pp_dash_conf *conf, char *errstr, size_t errstr_size)
{
    struct pp_dash *dash = calloc(1, sizeof(*dash));
    if (!dash || !(dash->warehouse = strdup(conf->warehouse ? conf->warehouse : ""))) {
        free(dash);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (pp_dash_asset_count > DASH_MAX_ASSETS) {
        free(dash->warehouse);
        free(dash);
        snprintf(errstr, errstr_size, "too many dashboard assets (%d)", pp_dash_asset_count);
        return NULL;
    }
    dash->log = conf->log;
    dash->metrics = conf->metrics;
    dash->cache_us = (int64_t)(conf->cache_ms > 0 ? conf->cache_ms : DEFAULT_CACHE_MS) * 1000;
    for (int i = 0; i < pp_dash_asset_count; i++)
        dash_etag(pp_dash_asset_table[i].data, pp_dash_asset_table[i].len, dash->asset_etag[i]);
    cache_init(&dash->insights);
    cache_init(&dash->stats);
    cache_init(&dash->runs);
    return dash;
}

void pp_dash_destroy(struct pp_dash *dash)
{
    if (!dash)
        return;
    cache_free(&dash->insights);
    cache_free(&dash->stats);
    cache_free(&dash->runs);
    free(dash->warehouse);
    free(dash);
}

static int serve_asset(struct pp_dash *dash, const char *path, struct pp_http_resp *resp)
{
    if (!strcmp(path, "/"))
        path = "/index.html";
    for (int i = 0; i < pp_dash_asset_count; i++) {
        const struct pp_dash_asset *a = &pp_dash_asset_table[i];
        if (strcmp(a->path, path))
            continue;
        resp->status = 200;
        resp->ctype = a->ctype;
        resp->data = a->data;
        resp->data_len = a->len;
        resp->cache = "no-cache";
        snprintf(resp->etag, sizeof(resp->etag), "%s", dash->asset_etag[i]);
        return 1;
    }
    return 0;
}

/* limit=N in a "k=v&k=v" query; def when absent or invalid. */
static int query_limit(const char *query, int def)
{
    for (const char *p = query; p && *p;) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 6 && n < 20 && !strncmp(p, "limit=", 6)) {
            char num[16];
            int64_t v;
            memcpy(num, p + 6, n - 6);
            num[n - 6] = '\0';
            if (!pp_parse_i64(num, 1, RUNS_MAX, &v))
                return (int)v;
        }
        p = end ? end + 1 : NULL;
    }
    return def;
}

enum api { API_INSIGHTS, API_STATS, API_RUNS };

/* Copy c's answer into resp; call with c->lock held. @returns 0 or PP_ENOMEM. */
static int answer_cached(const struct dash_cache *c, struct pp_http_resp *resp)
{
    resp->status = c->status;
    snprintf(resp->etag, sizeof(resp->etag), "%s", c->etag);
    return pp_buf_append(&resp->body, c->body.data ? c->body.data : "", c->body.len);
}

/* Compute the next answer of c into next (c->busy is ours). @returns the HTTP status. */
static int compute(struct pp_dash *dash, struct dash_cache *c, enum api which, int key,
                   struct pp_buf *next)
{
    if (which == API_INSIGHTS)
        return dash_insights_json(dash, &c->wh, next);
    if (which == API_RUNS)
        return dash_runs_json(dash, &c->wh, key, next);
    return dash_stats_json(dash, next);
}

/* Answer from c, recomputing it when stale (or computed for another key). While one request
 * computes, the others get the previous answer (or wait when there is none for their key). */
static int serve_api(struct pp_dash *dash, struct dash_cache *c, enum api which, int key,
                     struct pp_http_resp *resp)
{
    int rc;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        int usable = c->status && c->key == key;
        if (usable && (c->busy || pp_mono_us() - c->at_us < c->ttl_us)) {
            rc = answer_cached(c, resp);
            pthread_mutex_unlock(&c->lock);
            goto done;
        }
        if (!c->busy)
            break;
        pthread_cond_wait(&c->done, &c->lock);
    }
    c->busy = 1;
    pthread_mutex_unlock(&c->lock);

    struct pp_buf next;
    pp_buf_init(&next, BODY_MAX);
    int64_t start = pp_mono_us();
    int status = compute(dash, c, which, key, &next);
    int64_t took = pp_mono_us() - start;

    pthread_mutex_lock(&c->lock);
    struct pp_buf old = c->body;
    c->body = next;
    c->status = status;
    c->key = key;
    c->at_us = pp_mono_us();
    c->ttl_us = dash->cache_us;
    /* an expensive answer (insights over a large warehouse) is refreshed less often */
    if (which == API_INSIGHTS && status == 200 && 4 * took > c->ttl_us)
        c->ttl_us = 4 * took < INSIGHTS_TTL_MAX_US ? 4 * took : INSIGHTS_TTL_MAX_US;
    dash_etag(c->body.data, c->body.len, c->etag);
    c->busy = 0;
    pthread_cond_broadcast(&c->done);
    rc = answer_cached(c, resp);
    pthread_mutex_unlock(&c->lock);
    pp_buf_free(&old);
done:
    if (rc) {
        pp_buf_reset(&resp->body);
        pp_buf_puts(&resp->body, "{\"error\":\"out of memory\"}");
        resp->status = 503;
        resp->etag[0] = '\0';
    }
    resp->ctype = "application/json";
    resp->cache = "no-cache";
    return 1;
}

int pp_dash_handle(void *arg, const char *path, const char *query, struct pp_http_resp *resp)
{
    struct pp_dash *dash = arg;
    if (!dash || !path)
        return 0;
    if (!strcmp(path, "/api/insights"))
        return serve_api(dash, &dash->insights, API_INSIGHTS, 0, resp);
    if (!strcmp(path, "/api/stats"))
        return serve_api(dash, &dash->stats, API_STATS, 0, resp);
    if (!strcmp(path, "/api/runs"))
        return serve_api(dash, &dash->runs, API_RUNS, query_limit(query, RUNS_DEFAULT), resp);
    return serve_asset(dash, path, resp);
}
