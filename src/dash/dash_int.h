/* dash_int.h: internals shared by the files of src/dash (and the generated asset table). */
#ifndef DASH_INT_H
#define DASH_INT_H

#include <pthread.h>
#include <stdint.h>

#include "pp_buf.h"
#include "pp_dash.h"
#include "pp_wh.h"

/* Generated from web/ at build time (pp_dash_assets.c in the build directory). */
extern const struct pp_dash_asset pp_dash_asset_table[];
extern const int pp_dash_asset_count;

#define DASH_MAX_ASSETS 16
#define DASH_MAX_STAGES 16
#define DASH_ETAG_SIZE 40

/* One cached JSON answer. One request at a time computes it (busy), outside the lock; the
 * others meanwhile get the previous answer at once, so slow warehouse queries never hold more
 * than one of the HTTP server's threads per endpoint. */
struct dash_cache {
    pthread_mutex_t lock;
    pthread_cond_t done; /* signalled when a computation ends */
    int busy;            /* a request is computing the next answer */
    struct pp_wh *wh;    /* this endpoint's warehouse connection (used while busy) */
    struct pp_buf body;
    int status; /* 200 or 503; 0 = never computed */
    char etag[DASH_ETAG_SIZE];
    int64_t at_us;  /* monotonic time it was computed */
    int64_t ttl_us; /* how long it stays fresh */
    int key;        /* what it was computed for (runs: the limit) */
};

/* A stage's cumulative counter at the previous stats sample (for rates). */
struct dash_prev {
    char name[64];
    int64_t value;
};

struct pp_dash {
    char *warehouse;
    struct pp_log *log;
    struct pp_metrics *metrics;
    int64_t cache_us;
    char asset_etag[DASH_MAX_ASSETS][DASH_ETAG_SIZE];
    struct dash_cache insights, stats, runs;
    /* used by the request computing the stats (stats.busy): */
    struct dash_prev prev[DASH_MAX_STAGES];
    int nprev;
    int64_t prev_ms;
};

/* "\"<16 hex digits>\"": FNV-1a 64 of the bytes. out >= DASH_ETAG_SIZE bytes. */
void dash_etag(const void *data, size_t len, char *out);

/* The JSON bodies (api.c), each called by one thread at a time (the cache's busy flag).
 * @returns 200 with out filled, or 503 with out holding {"error":msg} (warehouse missing or
 * failing). *wh is the endpoint's warehouse connection: opened on first use, closed after an
 * error (reopened next time). */
int dash_insights_json(struct pp_dash *dash, struct pp_wh **wh, struct pp_buf *out);
int dash_runs_json(struct pp_dash *dash, struct pp_wh **wh, int limit, struct pp_buf *out);
/* Updates the previous sample (dash->prev) for the next rates. */
int dash_stats_json(struct pp_dash *dash, struct pp_buf *out);

#endif
