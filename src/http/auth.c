/* auth.c: API keys at request time: credentials from headers, constant-time hash lookup,
 * roles, per-key token buckets, live reload of the keys file, and their metrics. */
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "pp_auth.h"
#include "pp_err.h"
#include "pp_http.h"
#include "pp_metrics.h"
#include "pp_util.h"

#define MOD "auth"
#define RELOAD_EVERY_US 1000000 /* the request path stats the keys file at most this often */
#define RETRY_AFTER_MAX 86400

enum reason { R_MISSING, R_INVALID, R_FORBIDDEN, NREASONS };
static const char *const reason_names[NREASONS] = {"missing", "invalid", "forbidden"};

/* A key name's token bucket. Buckets outlive reloads (a key's quota is not refilled by
 * editing the file) and live until pp_auth_destroy, so a table may point at them freely. */
struct pp_auth_bucket {
    struct pp_auth_bucket *next;
    char name[PP_AUTH_NAME_MAX + 1];
    pthread_mutex_t mu;
    struct pp_auth_tokens tok;
    atomic_llong throttled;
};

struct pp_auth {
    char path[4096];
    double default_rate, default_burst;
    pthread_rwlock_t lock; /* guards keys: lookups read, a reload swaps it */
    struct pp_auth_keys keys;
    pthread_mutex_t reload_mu; /* one reload at a time; guards what follows */
    struct pp_auth_bucket *buckets;
    int exists; /* identity of the file last loaded (or tried) */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    atomic_llong checked_us; /* last look from the request path (pp_mono_us) */
    atomic_llong refusals[NREASONS];
    atomic_llong reloads_ok, reloads_failed;
    atomic_int nkeys;
};

/* ---- credentials ------------------------------------------------------------------------ */

/* Copy a credential into out: non-empty, printable ASCII without spaces, bounded. */
static int copy_key(const char *s, size_t n, char *out, size_t out_size, size_t *len)
{
    if (!n)
        return PP_EPARSE;
    if (n > PP_AUTH_KEY_MAX || n >= out_size)
        return PP_ETOOBIG;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return PP_EPARSE;
    memcpy(out, s, n);
    out[n] = '\0';
    *len = n;
    return 0;
}

/* The password of "Basic base64(user:password)" (s: the base64 text). */
static int basic_key(const char *s, size_t n, char *out, size_t out_size, size_t *len)
{
    struct pp_buf dec;
    pp_buf_init(&dec, 2 * PP_AUTH_KEY_MAX);
    int rc = n > 4 * PP_AUTH_KEY_MAX ? PP_ETOOBIG : pp_http_b64_decode(s, n, &dec);
    if (rc == PP_ENOMEM)
        rc = PP_ETOOBIG;
    const char *colon = !rc && dec.len ? memchr(dec.data, ':', dec.len) : NULL;
    if (!rc)
        rc = colon
                 ? copy_key(colon + 1, dec.len - (size_t)(colon + 1 - dec.data), out, out_size, len)
                 : PP_EPARSE;
    if (dec.data)
        OPENSSL_cleanse(dec.data, dec.len);
    pp_buf_free(&dec);
    return rc;
}

int pp_auth_credential(const char *x_api_key, const char *authorization, char *out, size_t out_size,
                       size_t *len)
{
    if (x_api_key)
        return copy_key(x_api_key, strlen(x_api_key), out, out_size, len);
    if (!authorization)
        return PP_ENOENT;
    const char *p = authorization;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t scheme = strcspn(p, " \t");
    const char *v = p + scheme;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (scheme == 6 && !strncasecmp(p, "Bearer", 6))
        return copy_key(v, n, out, out_size, len);
    if (scheme == 5 && !strncasecmp(p, "Basic", 5))
        return basic_key(v, n, out, out_size, len);
    return PP_EPARSE;
}

/* ---- roles ------------------------------------------------------------------------------ */

static int topic_ok(const struct pp_auth_key *key, enum pp_kind kind)
{
    return !key->topics ||
           (kind > PP_KIND_NONE && kind < PP_KIND_COUNT && (key->topics & (1u << kind)));
}

int pp_auth_permits(const struct pp_auth_key *key, const char *method, int match,
                    const struct pp_http_route *route)
{
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (key->role == PP_AUTH_ADMIN)
        return 1;
    if (match == 404) /* a plain GET there is the dashboard's (pp_http_conf.get) or nothing */
        return get && route->api == PP_HTTP_API_PLAIN ? key->role == PP_AUTH_READ : 1;
    if (match != 200)
        return 1; /* 405: the answer says no more than the route table does */
    switch (route->id) {
    case PP_ROUTE_FASTAPI:
    case PP_ROUTE_PRODUCE:
    case PP_ROUTE_PUT_RECORD:
    case PP_ROUTE_PUT_RECORDS:
    case PP_ROUTE_TOPIC:
    case PP_ROUTE_STREAM:
        return key->role == PP_AUTH_INGEST && topic_ok(key, route->kind);
    case PP_ROUTE_TOPICS:
    case PP_ROUTE_STREAMS:
        return key->role == PP_AUTH_INGEST;
    case PP_ROUTE_METRICS:
    case PP_ROUTE_GET_EXTRA:
        return key->role == PP_AUTH_READ;
    case PP_ROUTE_HEALTH:
    case PP_ROUTE_READY:
        return 1;
    default:
        return 0;
    }
}

/* ---- quotas ----------------------------------------------------------------------------- */

int pp_auth_tokens_take(struct pp_auth_tokens *tok, double rate, double burst, int64_t now_us,
                        int *retry_after)
{
    if (rate <= 0)
        return 1;
    if (burst < 1)
        burst = 1;
    if (!tok->started) {
        tok->tokens = burst;
        tok->last_us = now_us;
        tok->started = 1;
    } else if (now_us > tok->last_us) {
        tok->tokens += (double)(now_us - tok->last_us) * rate / 1e6;
        tok->last_us = now_us;
    }
    if (tok->tokens > burst)
        tok->tokens = burst;
    if (tok->tokens >= 1) {
        tok->tokens -= 1;
        return 1;
    }
    double wait = ceil((1 - tok->tokens) / rate);
    *retry_after = wait < 1 ? 1 : wait > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : (int)wait;
    return 0;
}

/* Charge the key one request. @returns 1 or 0 (throttled, *retry_after set). */
static int charge(struct pp_auth *auth, const struct pp_auth_key *key, int *retry_after)
{
    double rate = key->rate > 0 ? key->rate : auth->default_rate;
    double burst = key->rate > 0 ? key->burst : auth->default_burst;
    struct pp_auth_bucket *b = key->bucket;
    if (rate <= 0 || !b)
        return 1;
    pthread_mutex_lock(&b->mu);
    int ok = pp_auth_tokens_take(&b->tok, rate, burst, pp_mono_us(), retry_after);
    pthread_mutex_unlock(&b->mu);
    if (!ok)
        atomic_fetch_add_explicit(&b->throttled, 1, memory_order_relaxed);
    return ok;
}

/* ---- the live table --------------------------------------------------------------------- */

/* The bucket of name, made on first sight. Under reload_mu. */
static struct pp_auth_bucket *bucket_get(struct pp_auth *auth, const char *name)
{
    for (struct pp_auth_bucket *b = auth->buckets; b; b = b->next)
        if (!strcmp(b->name, name))
            return b;
    struct pp_auth_bucket *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    snprintf(b->name, sizeof(b->name), "%s", name);
    pthread_mutex_init(&b->mu, NULL);
    b->next = auth->buckets;
    auth->buckets = b;
    return b;
}

static int same_file(const struct pp_auth *auth, int exists, const struct stat *st)
{
    if (!exists || !auth->exists)
        return exists == auth->exists;
    return st->st_dev == auth->dev && st->st_ino == auth->ino && st->st_size == auth->size &&
           st->st_mtim.tv_sec == auth->mtime.tv_sec && st->st_mtim.tv_nsec == auth->mtime.tv_nsec;
}

static void remember_file(struct pp_auth *auth, int exists, const struct stat *st)
{
    auth->exists = exists;
    if (!exists)
        return;
    auth->dev = st->st_dev;
    auth->ino = st->st_ino;
    auth->size = st->st_size;
    auth->mtime = st->st_mtim;
}

/* Load the file into keys with buckets attached (missing file: no keys). Under reload_mu.
 * @returns 0 or the load error with errstr filled. */
static int load_table(struct pp_auth *auth, struct pp_auth_keys *keys, int exists, char *errstr,
                      size_t errstr_size)
{
    int rc = exists ? pp_auth_keys_load(keys, auth->path, errstr, errstr_size) : 0;
    if (rc == PP_ENOENT)
        rc = 0; /* removed between stat and open: no keys, as a missing file */
    for (int i = 0; i < keys->n && !rc; i++)
        if (!(keys->keys[i].bucket = bucket_get(auth, keys->keys[i].name))) {
            snprintf(errstr, errstr_size, "out of memory");
            rc = PP_ENOMEM;
        }
    if (rc)
        pp_auth_keys_free(keys);
    return rc;
}

/* Swap keys in as the live table and free the old one (after the readers let go). */
static void swap_table(struct pp_auth *auth, struct pp_auth_keys *keys)
{
    pthread_rwlock_wrlock(&auth->lock);
    struct pp_auth_keys old = auth->keys;
    auth->keys = *keys;
    pthread_rwlock_unlock(&auth->lock);
    atomic_store(&auth->nkeys, keys->n);
    pp_auth_keys_free(&old);
    pp_auth_keys_init(keys);
}

int pp_auth_reload(struct pp_auth *auth, int force)
{
    struct stat st;
    char err[512] = "";
    struct pp_auth_keys keys;
    pp_auth_keys_init(&keys);
    pthread_mutex_lock(&auth->reload_mu);
    int exists = stat(auth->path, &st) == 0, rc = 0;
    if (!force && same_file(auth, exists, &st))
        goto out;
    remember_file(auth, exists, &st); /* a bad file is warned about once, not every second */
    if ((rc = load_table(auth, &keys, exists, err, sizeof(err)))) {
        atomic_fetch_add(&auth->reloads_failed, 1);
        PP_WARN(MOD, "api keys not reloaded, the previous ones stay in use: %s", err);
        goto out;
    }
    swap_table(auth, &keys);
    atomic_fetch_add(&auth->reloads_ok, 1);
    if (exists)
        PP_INFO(MOD, "api keys reloaded keys=%d file=%s", atomic_load(&auth->nkeys), auth->path);
    else
        PP_WARN(MOD, "api keys file %s is gone: every request but /healthz and /readyz gets 401",
                auth->path);
    rc = 1;
out:
    pthread_mutex_unlock(&auth->reload_mu);
    return rc;
}

struct pp_auth *pp_auth_open(const struct pp_auth_conf *conf, int *missing, char *errstr,
                             size_t errstr_size)
{
    struct pp_auth *auth = calloc(1, sizeof(*auth));
    struct pp_auth_keys keys;
    struct stat st;
    pp_auth_keys_init(&keys);
    if (!auth || strlen(conf->path) >= sizeof(auth->path)) {
        snprintf(errstr, errstr_size, auth ? "keys file path too long" : "out of memory");
        free(auth);
        return NULL;
    }
    snprintf(auth->path, sizeof(auth->path), "%s", conf->path);
    auth->default_rate = conf->default_rate > 0 ? conf->default_rate : 0;
    auth->default_burst = conf->default_burst >= 1 ? conf->default_burst
                          : auth->default_rate > 1 ? auth->default_rate
                                                   : 1;
    pthread_rwlock_init(&auth->lock, NULL);
    pthread_mutex_init(&auth->reload_mu, NULL);
    int exists = stat(auth->path, &st) == 0;
    remember_file(auth, exists, &st);
    *missing = !exists;
    if (load_table(auth, &keys, exists, errstr, errstr_size)) {
        pp_auth_destroy(auth);
        return NULL;
    }
    swap_table(auth, &keys);
    atomic_store(&auth->checked_us, pp_mono_us());
    return auth;
}

void pp_auth_destroy(struct pp_auth *auth)
{
    if (!auth)
        return;
    pp_auth_keys_free(&auth->keys);
    for (struct pp_auth_bucket *b = auth->buckets, *next; b; b = next) {
        next = b->next;
        pthread_mutex_destroy(&b->mu);
        free(b);
    }
    pthread_rwlock_destroy(&auth->lock);
    pthread_mutex_destroy(&auth->reload_mu);
    free(auth);
}

int pp_auth_count(struct pp_auth *auth)
{
    return atomic_load(&auth->nkeys);
}

/* Find the key whose hash matches, looking at every entry (no early exit), and copy it.
 * @returns 0 or PP_ENOENT. */
static int lookup(struct pp_auth *auth, const char *cred, size_t len, struct pp_auth_key *out)
{
    unsigned char h[PP_AUTH_HASH_LEN];
    int found = -1;
    pp_auth_hash(cred, len, h);
    pthread_rwlock_rdlock(&auth->lock);
    for (int i = 0; i < auth->keys.n; i++)
        if (!CRYPTO_memcmp(h, auth->keys.keys[i].hash, PP_AUTH_HASH_LEN))
            found = i;
    if (found >= 0)
        *out = auth->keys.keys[found];
    pthread_rwlock_unlock(&auth->lock);
    return found >= 0 ? 0 : PP_ENOENT;
}

/* ---- requests --------------------------------------------------------------------------- */

/* The request path looks at the file at most once a second; one thread does, the others go
 * on with the table they have. */
static void maybe_reload(struct pp_auth *auth)
{
    long long now = pp_mono_us(), last = atomic_load(&auth->checked_us);
    if (now - last < RELOAD_EVERY_US ||
        !atomic_compare_exchange_strong(&auth->checked_us, &last, now))
        return;
    pp_auth_reload(auth, 0);
}

static int refuse(struct pp_auth *auth, enum reason why, enum pp_http_api api,
                  struct pp_http_resp *resp)
{
    atomic_fetch_add_explicit(&auth->refusals[why], 1, memory_order_relaxed);
    if (why == R_FORBIDDEN) {
        pp_http_error(resp, api, 403, 40301, "AccessDeniedException",
                      "Forbidden: this key's role or topics do not allow this request");
        return 403;
    }
    pp_http_error(resp, api, 401, 40101, "UnrecognizedClientException",
                  why == R_MISSING ? "Not authenticated: an API key is required (x-api-key, "
                                     "Authorization: Bearer or Basic)"
                                   : "Invalid API key");
    /* Basic for REST proxy clients, and for the dashboard and /metrics: a browser asks for a
     * user and password (any user, the read key) and sends them with the page's /api calls */
    resp->www_auth = api == PP_HTTP_API_PROXY || api == PP_HTTP_API_PLAIN
                         ? "Basic realm=\"pinpipe\""
                         : "Bearer";
    return 401;
}

static int throttled(enum pp_http_api api, int retry_after, struct pp_http_resp *resp)
{
    if (api == PP_HTTP_API_KINESIS)
        pp_http_error(resp, api, 429, 0, "ThrottlingException", "Rate exceeded");
    else
        pp_http_error(resp, api, 429, 42901, NULL, "Too Many Requests");
    resp->retry_after = retry_after;
    return 429;
}

int pp_auth_request(struct pp_auth *auth, const struct pp_auth_req *req, struct pp_http_resp *resp)
{
    const struct pp_http_route *route = req->route;
    if (req->match == 200 && (route->id == PP_ROUTE_HEALTH || route->id == PP_ROUTE_READY))
        return 0;
    maybe_reload(auth);
    char cred[PP_AUTH_KEY_MAX + 1];
    size_t len = 0;
    struct pp_auth_key key;
    int rc = pp_auth_credential(req->x_api_key, req->authorization, cred, sizeof(cred), &len);
    if (!rc)
        rc = lookup(auth, cred, len, &key);
    OPENSSL_cleanse(cred, sizeof(cred));
    if (rc)
        return refuse(
            auth, rc == PP_ENOENT && !req->x_api_key && !req->authorization ? R_MISSING : R_INVALID,
            route->api, resp);
    if (!pp_auth_permits(&key, req->method, req->match, route))
        return refuse(auth, R_FORBIDDEN, route->api, resp);
    int retry_after = 1;
    if (!charge(auth, &key, &retry_after))
        return throttled(route->api, retry_after, resp);
    return 0;
}

void pp_auth_collect(void *arg, struct pp_buf *out)
{
    struct pp_auth *auth = arg;
    char labels[128];
    pp_metrics_head(out, "pinpipe_http_auth_refusals_total", "counter",
                    "requests refused by API key checks: missing (401), invalid (401), "
                    "forbidden (403: role or topic)");
    for (int r = 0; r < NREASONS; r++) {
        snprintf(labels, sizeof(labels), "reason=\"%s\"", reason_names[r]);
        pp_metrics_sample(out, "pinpipe_http_auth_refusals_total", labels,
                          (double)atomic_load(&auth->refusals[r]));
    }
    pp_metrics_head(out, "pinpipe_http_throttled_total", "counter",
                    "requests answered 429 by a key's quota, by key name");
    pthread_mutex_lock(&auth->reload_mu);
    for (struct pp_auth_bucket *b = auth->buckets; b; b = b->next) {
        snprintf(labels, sizeof(labels), "key=\"%s\"", b->name); /* names: [A-Za-z0-9._-] */
        pp_metrics_sample(out, "pinpipe_http_throttled_total", labels,
                          (double)atomic_load(&b->throttled));
    }
    pthread_mutex_unlock(&auth->reload_mu);
    pp_metrics_head(out, "pinpipe_http_auth_keys", "gauge", "API keys loaded");
    pp_metrics_sample(out, "pinpipe_http_auth_keys", "", (double)atomic_load(&auth->nkeys));
    pp_metrics_head(out, "pinpipe_http_auth_reloads_total", "counter",
                    "keys file reloads, by result (failed: the previous keys stay in use)");
    pp_metrics_sample(out, "pinpipe_http_auth_reloads_total", "result=\"ok\"",
                      (double)atomic_load(&auth->reloads_ok));
    pp_metrics_sample(out, "pinpipe_http_auth_reloads_total", "result=\"failed\"",
                      (double)atomic_load(&auth->reloads_failed));
}

int pp_auth_listen_loopback(const char *listen)
{
    char host[256];
    int port;
    struct in_addr a4;
    struct in6_addr a6;
    if (pp_parse_hostport(listen, host, sizeof(host), &port) || !host[0])
        return 0;
    if (!strcasecmp(host, "localhost"))
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return 0;
}
