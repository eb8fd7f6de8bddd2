/* s3.c: the lake on S3 (any S3-compatible endpoint): libcurl, requests signed with SigV4 by
 * s3_sigv4.c, PUT / multipart, bounded retries, listing, streamed reads. Pure parts live in
 * s3_util.c. */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lake_s3.h"
#include "pp_buf.h"
#include "pp_err.h"
#include "pp_util.h"

#define S3_PART_MIN (5u * 1024 * 1024) /* S3's minimum part size (all but the last) */
#define S3_PART_DEFAULT (8u * 1024 * 1024)
#define S3_PARTS_MAX 10000      /* S3's limit of parts per upload */
#define S3_RESP_MAX (32u << 20) /* cap on a buffered response (listings, errors) */
#define S3_LINE_MAX (64u << 20) /* cap on one record while reading */
#define S3_KEY_MAX 1100
#define S3_URL_MAX 4096
#define S3_BACKOFF_MS 100
#define S3_BACKOFF_MAX_MS 5000
/* Pending objects (see lake_s3.h) live under <prefix>_pending/: a leading '_' hides the folder
 * from Spark, Hive and Athena, as they hide _SUCCESS and _temporary. */
#define S3_PENDING "_pending"
#define S3_TOKEN_BYTES 8
#define S3_META_PREFIX "pending=" /* the commit metadata: "pending=<token>" */
/* SHA-256 of the empty payload (GET, DELETE, empty POST): a published constant of SigV4 */
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct pp_lake_s3 {
    CURL *curl;
    char bucket[64];
    char prefix[1024];
    char base[1024];  /* URL up to the bucket: "http://h:p/bucket" or "https://bucket.h" */
    char host[512];   /* base's authority, sent and signed as the Host header */
    const char *path; /* base's path ("/bucket", "" virtual-hosted): points into base */
    char region[64];
    struct pp_lake_s3_creds creds; /* never logged, wiped on close */
    size_t part_bytes;
    int max_keys; /* ListObjectsV2 page size, 0 = the server's default (1000) */
    int tries;
    /* timeouts (s3_timeouts): connection (ms), and the open probe's deadline (pp_mono_us(),
     * 0 = none): its tries, backoff included, end by then */
    long connect_ms;
    int64_t deadline_us;
    uint64_t rng;
    char err[512];
};

struct pp_lake_s3_obj {
    struct pp_lake_s3 *s3;
    struct pp_lake_s3_tp *tp; /* its partition (pending objects), or NULL */
    int64_t start, ts_ms;     /* its first offset and ingest time (the final key) */
    char key[S3_KEY_MAX];
    char *buf; /* the current part, grown up to part_bytes */
    size_t len, cap;
    char upload_id[512]; /* "" while a single PUT is still possible */
    char **etags;
    int nparts;
};

/* One request; the response body goes to sink (2xx only) or resp. */
struct s3_req {
    const char *method;
    const char *key;   /* object key (prefix included), NULL for the bucket */
    const char *query; /* canonical query string (encoded, sorted, "k=v"), or NULL */
    const char *body;
    size_t blen;
    const char *copy_source;  /* CopyObject: "/bucket/<encoded key>" */
    const char *extra_header; /* one more header line ("If-Match: ..."), or NULL */
    size_t (*sink)(const char *p, size_t n, void *arg);
    void *sink_arg;
    void (*before_try)(void *arg); /* resets sink state before each attempt */
    struct pp_buf resp;
    long status;
    char etag[128];
};

/* base URL from endpoint ("scheme://host[:port][/path]"), bucket and style (path style when
 * asked, or by itself for an IP literal or localhost: pp_lake_s3_path_style_auto); host and
 * path split from it. */
static int make_base(struct pp_lake_s3 *s3, const char *endpoint, int path_style)
{
    path_style = path_style || pp_lake_s3_path_style_auto(endpoint);
    const char *sep = strstr(endpoint, "://");
    if (!sep || (strncmp(endpoint, "http://", 7) && strncmp(endpoint, "https://", 8)))
        return PP_EINVAL;
    size_t n = strlen(endpoint);
    while (n > 0 && endpoint[n - 1] == '/')
        n--;
    int w = path_style
                ? snprintf(s3->base, sizeof(s3->base), "%.*s/%s", (int)n, endpoint, s3->bucket)
                : snprintf(s3->base, sizeof(s3->base), "%.*s%s.%.*s", (int)(sep + 3 - endpoint),
                           endpoint, s3->bucket, (int)(n - (size_t)(sep + 3 - endpoint)), sep + 3);
    if (w < 0 || w >= (int)sizeof(s3->base))
        return PP_ETOOBIG;
    const char *auth = strstr(s3->base, "://") + 3;
    size_t alen = strcspn(auth, "/?#");
    if (!alen || auth[alen] == '?' || auth[alen] == '#' || alen >= sizeof(s3->host))
        return PP_EINVAL;
    memcpy(s3->host, auth, alen);
    s3->host[alen] = '\0';
    s3->path = auth + alen;
    return 0;
}

/* ---- requests ---- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct s3_req *req = arg;
    size_t n = size * nmemb;
    if (req->sink && req->status >= 200 && req->status < 300)
        return req->sink(p, n, req->sink_arg);
    if (req->resp.len + n > S3_RESP_MAX) /* keep what fits: a listing this large is an error */
        return 0;
    return pp_buf_append(&req->resp, p, n) ? 0 : n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    struct s3_req *req = arg;
    size_t n = size * nmemb;
    /* p is not NUL-terminated: parsed within its n bytes. A status line's code is noted for
     * on_body. */
    pp_lake_s3_header(p, n, &req->status, req->etag, sizeof(req->etag));
    return n;
}

enum { S3_OK, S3_RETRY, S3_FATAL };

static int classify(CURLcode cc, long status, const struct pp_buf *resp)
{
    switch (cc) {
    case CURLE_OK:
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_WRITE_ERROR: /* our sink stopped the transfer */
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_LOGIN_DENIED:
        return S3_FATAL;
    default: /* connection refused/reset, timeouts, DNS, partial transfers */
        return S3_RETRY;
    }
    if (status >= 200 && status < 300) {
        /* CompleteMultipartUpload may fail after a 200 with an <Error> body */
        if (resp->len && memmem(resp->data, resp->len, "<Error>", 7))
            return memmem(resp->data, resp->len, "InternalError", 13) ||
                           memmem(resp->data, resp->len, "SlowDown", 8)
                       ? S3_RETRY
                       : S3_FATAL;
        return S3_OK;
    }
    if (status >= 500 || status == 429 || status == 408)
        return S3_RETRY; /* 503 SlowDown, 500 InternalError, throttling */
    if (status == 400 && resp->len && memmem(resp->data, resp->len, "RequestTimeout", 14))
        return S3_RETRY;
    return S3_FATAL;
}

static void backoff(struct pp_lake_s3 *s3, int attempt)
{
    int64_t cap = S3_BACKOFF_MS << (attempt < 6 ? attempt : 6);
    if (cap > S3_BACKOFF_MAX_MS)
        cap = S3_BACKOFF_MAX_MS;
    s3->rng ^= s3->rng << 13; /* xorshift64: jitter only, not security */
    s3->rng ^= s3->rng >> 7;
    s3->rng ^= s3->rng << 17;
    int64_t ms = (int64_t)(s3->rng % (uint64_t)cap) + 1; /* full jitter */
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void set_err(struct pp_lake_s3 *s3, struct s3_req *req, CURLcode cc, const char *curlerr)
{
    char code[128] = "", msg[256] = "";
    if (cc != CURLE_OK) {
        snprintf(s3->err, sizeof(s3->err), "s3 %s s3://%s/%s: %s", req->method, s3->bucket,
                 req->key ? req->key : "", curlerr[0] ? curlerr : curl_easy_strerror(cc));
        return;
    }
    if (req->resp.len) {
        pp_lake_s3_xml_tag(req->resp.data, req->resp.len, "Code", code, sizeof(code));
        pp_lake_s3_xml_tag(req->resp.data, req->resp.len, "Message", msg, sizeof(msg));
    }
    const char *hint = !strcmp(code, "NoSuchBucket") ? " (bucket missing)"
                       : req->status == 403          ? " (access denied: check credentials)"
                                                     : "";
    snprintf(s3->err, sizeof(s3->err), "s3 %s s3://%s/%s: HTTP %ld %s%s%s%s", req->method,
             s3->bucket, req->key ? req->key : "", req->status, code, msg[0] ? ": " : "", msg,
             hint);
}

/* The x-amz-content-sha256 value S3 requires on every SigV4 request, signed with the rest:
 * the SHA-256 of the body; "UNSIGNED-PAYLOAD" (which S3 and S3-compatible servers accept: the
 * headers stay signed, TLS protects the body in transit) only if libcrypto fails. */
static void payload_hash(const struct s3_req *req, char out[65])
{
    if (!req->blen)
        memcpy(out, S3_EMPTY_SHA256, 65);
    else if (pp_lake_s3_sha256_hex(req->body, req->blen, out))
        memcpy(out, "UNSIGNED-PAYLOAD", 17);
}

/* The header line "name: value" (name NULL: value is the whole line) into h[*n], its text
 * in the pool at *pool (*left bytes), for sending and signing.
 * @returns 0, PP_ETOOBIG (line too long) or PP_EINVAL (too many lines). */
static int add_header(const char **h, int *n, char **pool, size_t *left, const char *name,
                      const char *value)
{
    int w = snprintf(*pool, *left, "%s%s%s", name ? name : "", name ? ": " : "", value);
    if (w < 0 || (size_t)w >= *left)
        return PP_ETOOBIG;
    if (*n == PP_LAKE_S3_SIG_HEADERS)
        return PP_EINVAL;
    h[(*n)++] = *pool;
    *pool += w + 1;
    *left -= (size_t)w + 1;
    return 0;
}

/* The headers of req, signed (pp_lake_s3_sign), as curl's list in *out: Host, x-amz-date,
 * x-amz-content-sha256, the session token, the copy source, Content-Type, the extra header,
 * Authorization; plus "Expect:", which only stops curl from sending one (neither sent nor
 * signed). @returns 0, PP_ENOMEM, or pp_lake_s3_sign's errors. */
static int sign_headers(struct pp_lake_s3 *s3, const struct s3_req *req, const char *uri,
                        struct curl_slist **out)
{
    char pool[8192], amz_date[17], sha[65], auth[1024], *p = pool;
    const char *h[PP_LAKE_S3_SIG_HEADERS];
    size_t left = sizeof(pool);
    int n = 0, rc = 0;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
    payload_hash(req, sha);
    int post =
        strcmp(req->method, "GET") && strcmp(req->method, "HEAD") && strcmp(req->method, "DELETE");
    /* objects (PUT, or CreateMultipartUpload for the final object) are JSON lines; a copy
     * keeps its source's type; CompleteMultipartUpload sends XML */
    const char *type = !post || req->copy_source                       ? NULL
                       : !strcmp(req->method, "POST") && req->blen > 0 ? "application/xml"
                                                                       : "application/x-ndjson";
    rc = add_header(h, &n, &p, &left, "Host", s3->host);
    if (!rc)
        rc = add_header(h, &n, &p, &left, "x-amz-date", amz_date);
    if (!rc)
        rc = add_header(h, &n, &p, &left, "x-amz-content-sha256", sha);
    if (!rc && s3->creds.token)
        rc = add_header(h, &n, &p, &left, "x-amz-security-token", s3->creds.token);
    if (!rc && req->copy_source)
        rc = add_header(h, &n, &p, &left, "x-amz-copy-source", req->copy_source);
    if (!rc && type)
        rc = add_header(h, &n, &p, &left, "Content-Type", type);
    if (!rc && req->extra_header)
        rc = add_header(h, &n, &p, &left, NULL, req->extra_header);
    struct pp_lake_s3_sig sig = {.method = req->method,
                                 .uri = uri,
                                 .query = req->query,
                                 .headers = h,
                                 .nheaders = n,
                                 .payload_hash = sha,
                                 .amz_date = amz_date,
                                 .region = s3->region,
                                 .key_id = s3->creds.key_id,
                                 .secret = s3->creds.secret};
    if (!rc)
        rc = pp_lake_s3_sign(&sig, auth, sizeof(auth));
    if (!rc)
        rc = add_header(h, &n, &p, &left, "Authorization", auth);
    /* "Expect:" stops curl's Expect: 100-continue on large bodies (one round trip less) */
    struct curl_slist *l = rc ? NULL : curl_slist_append(NULL, "Expect:");
    for (int i = 0; l && i < n; i++) {
        struct curl_slist *next = curl_slist_append(l, h[i]);
        if (!next)
            curl_slist_free_all(l);
        l = next;
    }
    if (!rc && !l)
        rc = PP_ENOMEM;
    *out = l;
    explicit_bzero(pool, sizeof(pool)); /* held the session token */
    return rc;
}

/* ---- timeouts: every bound on how long a request may take is set here ---- */

/* Milliseconds left before s3->deadline_us (at least 1), or 0 without a deadline. */
static long s3_left_ms(const struct pp_lake_s3 *s3)
{
    if (!s3->deadline_us)
        return 0;
    int64_t left = (s3->deadline_us - pp_mono_us()) / 1000;
    return left > 0 ? (long)left : 1;
}

/* The bounds of one try: the connection within connect_ms (conf.connect_timeout_ms), a
 * transfer stalled for 30 s is a timeout, and under a deadline the whole try ends by it. */
static void s3_timeouts(const struct pp_lake_s3 *s3, CURL *c)
{
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, s3->connect_ms);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
    if (s3->deadline_us)
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s3_left_ms(s3));
}

/* Another try after a backoff of up to cap_ms would still start before the deadline? */
static int s3_time_left(const struct pp_lake_s3 *s3, int64_t cap_ms)
{
    return !s3->deadline_us || pp_mono_us() + cap_ms * 1000 < s3->deadline_us;
}

/* One try of req. @returns the curl code; req->status, resp and etag filled. */
static CURLcode s3_try(struct pp_lake_s3 *s3, struct s3_req *req, char *curlerr)
{
    char url[S3_URL_MAX], ekey[S3_KEY_MAX * 3];
    CURL *c = s3->curl;
    struct curl_slist *hdrs = NULL;
    if (req->key && pp_lake_s3_encode(req->key, 1, ekey, sizeof(ekey)))
        return CURLE_URL_MALFORMAT;
    int w = snprintf(url, sizeof(url), "%s/%s%s%s", s3->base, req->key ? ekey : "",
                     req->query ? "?" : "", req->query ? req->query : "");
    if (w < 0 || w >= (int)sizeof(url))
        return CURLE_URL_MALFORMAT;
    /* the canonical URI is the path as sent: base's path, then the key encoded once */
    const char *path = url + (s3->path - s3->base);
    char uri[S3_URL_MAX];
    snprintf(uri, sizeof(uri), "%.*s", (int)strcspn(path, "?"), path);
    int rc = sign_headers(s3, req, uri, &hdrs);
    if (rc) {
        snprintf(curlerr, CURL_ERROR_SIZE, "signing the request: %s", pp_err_str(rc));
        return rc == PP_ENOMEM ? CURLE_OUT_OF_MEMORY : CURLE_URL_MALFORMAT;
    }
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curlerr);
    s3_timeouts(s3, c);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, req);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, req);
    if (req->copy_source) {
        /* a large copy may send nothing but keep-alive whitespace for a while */
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 300L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    }
    if (!strcmp(req->method, "GET")) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (!strcmp(req->method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(req->method, "DELETE")) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else { /* PUT/POST from memory */
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->blen);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    req->status = 0;
    req->etag[0] = '\0';
    pp_buf_reset(&req->resp);
    curlerr[0] = '\0';
    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &req->status);
    curl_slist_free_all(hdrs);
    return cc;
}

/* Run req with bounded retries. @returns 0, PP_EIO (fatal or retries exhausted: s3->err). */
static int s3_do(struct pp_lake_s3 *s3, struct s3_req *req, int tries)
{
    char curlerr[CURL_ERROR_SIZE];
    for (int attempt = 0;; attempt++) {
        if (req->before_try)
            req->before_try(req->sink_arg);
        CURLcode cc = s3_try(s3, req, curlerr);
        int verdict = classify(cc, req->status, &req->resp);
        if (verdict == S3_OK)
            return 0;
        set_err(s3, req, cc, curlerr);
        if (verdict == S3_FATAL || attempt + 1 >= tries ||
            !s3_time_left(s3, S3_BACKOFF_MS << (attempt < 6 ? attempt : 6)))
            return PP_EIO;
        backoff(s3, attempt);
    }
}

static void req_init(struct s3_req *req, const char *method, const char *key, const char *query)
{
    memset(req, 0, sizeof(*req));
    req->method = method;
    req->key = key;
    req->query = query;
    pp_buf_init(&req->resp, S3_RESP_MAX + 1);
}

/* List the keys under key prefix kp (every page): cb(arg, key, upload_id). With uploads, the
 * in-progress multipart uploads instead (first page only: cleanup is best effort).
 * @returns keys listed or <0 (PP_EIO with s3->err, PP_EPARSE). */
static int s3_list(struct pp_lake_s3 *s3, const char *kp, int uploads,
                   int (*cb)(void *arg, const char *key, const char *upload_id), void *arg)
{
    char ep[S3_KEY_MAX * 3], token[2048], etoken[6144], query[9000], mk[32] = "";
    int total = 0, truncated = 0;
    if (pp_lake_s3_encode(kp, 0, ep, sizeof(ep)))
        return PP_ETOOBIG;
    token[0] = '\0';
    if (s3->max_keys)
        snprintf(mk, sizeof(mk), "&max-keys=%d", s3->max_keys);
    do {
        int w =
            uploads ? snprintf(query, sizeof(query), "prefix=%s&uploads=", ep)
            : token[0]
                ? (pp_lake_s3_encode(token, 0, etoken, sizeof(etoken))
                       ? -1
                       : snprintf(query, sizeof(query),
                                  "continuation-token=%s&list-type=2%s&prefix=%s", etoken, mk, ep))
                : snprintf(query, sizeof(query), "list-type=2%s&prefix=%s", mk, ep);
        if (w < 0 || w >= (int)sizeof(query))
            return PP_ETOOBIG;
        struct s3_req req;
        req_init(&req, "GET", NULL, query);
        int rc = s3_do(s3, &req, uploads ? 1 : s3->tries);
        if (!rc) {
            rc = pp_lake_s3_parse_list(req.resp.data ? req.resp.data : "", req.resp.len, cb, arg,
                                       &truncated, token, sizeof(token));
            if (rc == PP_EPARSE)
                snprintf(s3->err, sizeof(s3->err), "s3 list s3://%s/%s: unexpected response",
                         s3->bucket, kp);
        }
        pp_buf_free(&req.resp);
        if (rc < 0)
            return rc;
        total += rc;
    } while (truncated && !uploads);
    return total;
}

/* ---- open / close ---- */

struct pp_lake_s3 *pp_lake_s3_open(const struct pp_lake_conf *conf, char *errstr,
                                   size_t errstr_size)
{
    struct pp_lake_s3 *s3 = calloc(1, sizeof(*s3));
    if (!s3) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (pp_lake_s3_parse_root(conf->root, s3->bucket, sizeof(s3->bucket), s3->prefix,
                              sizeof(s3->prefix))) {
        snprintf(errstr, errstr_size,
                 "bad S3 root (want s3://bucket/prefix, bucket 3-63 of a-z 0-9 . -)");
        goto fail;
    }
    const char *region = conf->s3_region && conf->s3_region[0] ? conf->s3_region
                         : pp_lake_s3_env("AWS_REGION")        ? pp_lake_s3_env("AWS_REGION")
                         : pp_lake_s3_env("AWS_DEFAULT_REGION")
                             ? pp_lake_s3_env("AWS_DEFAULT_REGION")
                             : "us-east-1";
    char aws[256];
    const char *endpoint = conf->s3_endpoint && conf->s3_endpoint[0] ? conf->s3_endpoint
                           : pp_lake_s3_env("AWS_ENDPOINT_URL_S3")
                               ? pp_lake_s3_env("AWS_ENDPOINT_URL_S3")
                           : pp_lake_s3_env("AWS_ENDPOINT_URL") ? pp_lake_s3_env("AWS_ENDPOINT_URL")
                                                                : NULL;
    if (!endpoint) {
        snprintf(aws, sizeof(aws), "https://s3.%s.amazonaws.com", region);
        endpoint = aws;
    }
    if (snprintf(s3->region, sizeof(s3->region), "%s", region) >= (int)sizeof(s3->region)) {
        snprintf(errstr, errstr_size, "S3 region too long");
        goto fail;
    }
    if (make_base(s3, endpoint, conf->s3_path_style)) {
        snprintf(errstr, errstr_size, "bad S3 endpoint '%s' (want http[s]://host[:port])",
                 endpoint);
        goto fail;
    }
    if (pp_lake_s3_creds_load(&s3->creds)) {
        snprintf(errstr, errstr_size,
                 "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a "
                 "profile in ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE)");
        goto fail;
    }
    s3->part_bytes = conf->s3_part_bytes ? conf->s3_part_bytes : S3_PART_DEFAULT;
    if (s3->part_bytes < S3_PART_MIN)
        s3->part_bytes = S3_PART_MIN;
    /* test knobs (see lake_s3.h): small parts and pages against a local test server */
    uint64_t knob;
    if (pp_lake_s3_env("PINPIPE_S3_PART_BYTES") &&
        !pp_parse_size(pp_lake_s3_env("PINPIPE_S3_PART_BYTES"), &knob) && knob >= 65536)
        s3->part_bytes = knob;
    if (pp_lake_s3_env("PINPIPE_S3_MAX_KEYS") &&
        !pp_parse_size(pp_lake_s3_env("PINPIPE_S3_MAX_KEYS"), &knob) && knob >= 1 && knob <= 1000)
        s3->max_keys = (int)knob;
    s3->tries = PP_LAKE_S3_TRIES;
    s3->connect_ms = conf->connect_timeout_ms > 0 ? conf->connect_timeout_ms
                                                  : PP_LAKE_CONNECT_TIMEOUT_MS;
    s3->rng = (uint64_t)pp_now_ms() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
    if (!s3->rng)
        s3->rng = 1;
    if (!(s3->curl = curl_easy_init())) {
        snprintf(errstr, errstr_size, "curl_easy_init failed");
        goto fail;
    }
    /* reach the bucket now: a missing bucket or bad credentials are fatal at startup */
    char query[S3_KEY_MAX * 3 + 64], ep[S3_KEY_MAX * 3];
    if (pp_lake_s3_encode(s3->prefix, 0, ep, sizeof(ep)) ||
        snprintf(query, sizeof(query), "list-type=2&max-keys=1&prefix=%s", ep) >=
            (int)sizeof(query)) {
        snprintf(errstr, errstr_size, "S3 prefix too long");
        goto fail;
    }
    struct s3_req req;
    req_init(&req, "GET", NULL, query);
    /* within the connect timeout, retries included (later requests: tries only) */
    s3->deadline_us = pp_mono_us() + (int64_t)s3->connect_ms * 1000;
    int rc = s3_do(s3, &req, 3);
    s3->deadline_us = 0;
    pp_buf_free(&req.resp);
    if (rc) {
        if (req.status) /* the server answered: its word (bucket missing, access denied) */
            snprintf(errstr, errstr_size, "%s", s3->err);
        else
            snprintf(errstr, errstr_size,
                     "%s (within %ld s; check --s3-endpoint and that the S3 server is running)",
                     s3->err, (s3->connect_ms + 999) / 1000);
        goto fail;
    }
    return s3;
fail:
    pp_lake_s3_close(s3);
    return NULL;
}

void pp_lake_s3_close(struct pp_lake_s3 *s3)
{
    if (!s3)
        return;
    if (s3->curl)
        curl_easy_cleanup(s3->curl);
    pp_lake_s3_creds_free(&s3->creds);
    free(s3);
}

const char *pp_lake_s3_errmsg(const struct pp_lake_s3 *s3)
{
    return s3->err;
}

/* ---- objects being written ---- */

/* ---- a partition's pending objects ---- */

/* One object finished under its pending key, not yet published. */
struct s3_pending {
    int64_t start, ts_ms;
};

struct pp_lake_s3_tp {
    char topic[256];
    int partition;
    char token[2 * S3_TOKEN_BYTES + 1]; /* this writer's pending keys; "" until needed */
    struct s3_pending *pend;            /* finished, unpublished, in offset order */
    int npend, pcap;
    /* found by resume, deleted after the next commit: other writers' pending keys, finished
     * objects past the committed offset (with the ETag they had then) and multipart uploads
     * (key + id) */
    char **garbage;
    int ngarbage;
    char **stale_keys, **stale_etags;
    int nstale;
    char **gup_keys, **gup_ids;
    int ngup;
};

struct pp_lake_s3_tp *pp_lake_s3_tp_new(const char *topic, int partition)
{
    struct pp_lake_s3_tp *tp = calloc(1, sizeof(*tp));
    if (!tp)
        return NULL;
    if (snprintf(tp->topic, sizeof(tp->topic), "%s", topic) >= (int)sizeof(tp->topic)) {
        free(tp);
        return NULL;
    }
    tp->partition = partition;
    return tp;
}

static void free_strs(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void pp_lake_s3_tp_forget_stale(struct pp_lake_s3_tp *tp)
{
    free_strs(tp->stale_keys, tp->nstale);
    free_strs(tp->stale_etags, tp->nstale);
    tp->stale_keys = tp->stale_etags = NULL;
    tp->nstale = 0;
}

static void tp_forget_garbage(struct pp_lake_s3_tp *tp)
{
    pp_lake_s3_tp_forget_stale(tp);
    free_strs(tp->garbage, tp->ngarbage);
    free_strs(tp->gup_keys, tp->ngup);
    free_strs(tp->gup_ids, tp->ngup);
    tp->garbage = tp->gup_keys = tp->gup_ids = NULL;
    tp->ngarbage = tp->ngup = 0;
}

void pp_lake_s3_tp_drop(struct pp_lake_s3_tp *tp)
{
    if (!tp)
        return;
    tp_forget_garbage(tp);
    free(tp->pend);
    tp->pend = NULL;
    tp->npend = tp->pcap = 0;
    tp->token[0] = '\0';
}

void pp_lake_s3_tp_free(struct pp_lake_s3_tp *tp)
{
    pp_lake_s3_tp_drop(tp);
    free(tp);
}

/* A fresh token: S3_TOKEN_BYTES random bytes in hex (unique per writer and ownership). */
static int tp_new_token(struct pp_lake_s3_tp *tp)
{
    unsigned char r[S3_TOKEN_BYTES];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        return PP_EIO;
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(tp->token + 2 * i, 3, "%02x", r[i]);
    return 0;
}

/* "<prefix>_pending/<topic>/<partition>/" */
static int tp_dir(const struct pp_lake_s3 *s3, const struct pp_lake_s3_tp *tp, char *out,
                  size_t size)
{
    int w = snprintf(out, size, "%s" S3_PENDING "/%s/%d/", s3->prefix, tp->topic, tp->partition);
    return w < 0 || (size_t)w >= size ? PP_ETOOBIG : 0;
}

/* The pending key of an object: "<dir><token>/<start:010>.<YYYY-MM-DD>.jsonl". */
static int tp_pending_key(const struct pp_lake_s3 *s3, const struct pp_lake_s3_tp *tp,
                          const char *token, int64_t start, int64_t ts_ms, char *out, size_t size)
{
    char dir[S3_KEY_MAX], date[16];
    if (tp_dir(s3, tp, dir, sizeof(dir)))
        return PP_ETOOBIG;
    pp_date_format(ts_ms, date, sizeof(date));
    int w = snprintf(out, size, "%s%s/%010" PRId64 ".%s.jsonl", dir, token, start, date);
    return w < 0 || (size_t)w >= size ? PP_ETOOBIG : 0;
}

/* The final key of an object (pp_lake_path under the prefix). */
static int final_key(const struct pp_lake_s3 *s3, const struct pp_lake_s3_tp *tp, int64_t start,
                     int64_t ts_ms, char *out, size_t size)
{
    char rel[S3_KEY_MAX];
    int rc = pp_lake_path(tp->topic, tp->partition, start, ts_ms, rel, sizeof(rel));
    if (rc)
        return rc;
    int w = snprintf(out, size, "%s%s", s3->prefix, rel);
    return w < 0 || (size_t)w >= size ? PP_ETOOBIG : 0;
}

int pp_lake_s3_tp_meta(const struct pp_lake_s3_tp *tp, char *out, size_t size)
{
    int w = snprintf(out, size, "%s%s", tp->token[0] ? S3_META_PREFIX : "", tp->token);
    return w < 0 || (size_t)w >= size ? PP_ETOOBIG : 0;
}

int pp_lake_s3_obj_open(struct pp_lake_s3 *s3, struct pp_lake_s3_tp *tp, int64_t start,
                        int64_t ts_ms, struct pp_lake_s3_obj **out)
{
    int rc;
    if (!tp->token[0] && (rc = tp_new_token(tp)))
        return rc;
    struct pp_lake_s3_obj *obj = calloc(1, sizeof(*obj));
    if (!obj)
        return PP_ENOMEM;
    obj->s3 = s3;
    obj->tp = tp;
    obj->start = start;
    obj->ts_ms = ts_ms;
    if ((rc = tp_pending_key(s3, tp, tp->token, start, ts_ms, obj->key, sizeof(obj->key)))) {
        free(obj);
        return rc;
    }
    *out = obj;
    return 0;
}

static void obj_free(struct pp_lake_s3_obj *obj)
{
    for (int i = 0; i < obj->nparts; i++)
        free(obj->etags[i]);
    free(obj->etags);
    free(obj->buf);
    free(obj);
}

/* Upload obj's buffer as the next part (starting the multipart upload first). */
static int obj_upload_part(struct pp_lake_s3_obj *obj)
{
    struct pp_lake_s3 *s3 = obj->s3;
    struct s3_req req;
    char query[1600], eid[1536];
    int rc;
    if (!obj->upload_id[0]) {
        req_init(&req, "POST", obj->key, "uploads=");
        rc = s3_do(s3, &req, s3->tries);
        if (!rc && pp_lake_s3_xml_tag(req.resp.data ? req.resp.data : "", req.resp.len, "UploadId",
                                      obj->upload_id, sizeof(obj->upload_id))) {
            snprintf(s3->err, sizeof(s3->err), "s3 CreateMultipartUpload %.400s: no UploadId",
                     obj->key);
            rc = PP_EIO;
        }
        pp_buf_free(&req.resp);
        if (rc)
            return rc;
    }
    if (obj->nparts == S3_PARTS_MAX)
        return PP_ETOOBIG;
    if (pp_lake_s3_encode(obj->upload_id, 0, eid, sizeof(eid)) ||
        snprintf(query, sizeof(query), "partNumber=%d&uploadId=%s", obj->nparts + 1, eid) >=
            (int)sizeof(query))
        return PP_ETOOBIG;
    char **etags = realloc(obj->etags, (size_t)(obj->nparts + 1) * sizeof(*etags));
    if (!etags)
        return PP_ENOMEM;
    obj->etags = etags;
    req_init(&req, "PUT", obj->key, query);
    req.body = obj->buf;
    req.blen = obj->len;
    rc = s3_do(s3, &req, s3->tries);
    pp_buf_free(&req.resp);
    if (rc)
        return rc;
    if (!req.etag[0] || !(obj->etags[obj->nparts] = strdup(req.etag))) {
        snprintf(s3->err, sizeof(s3->err), "s3 UploadPart %.400s: no ETag", obj->key);
        return PP_EIO;
    }
    obj->nparts++;
    obj->len = 0;
    return 0;
}

int pp_lake_s3_obj_append(struct pp_lake_s3_obj *obj, const char *p, size_t n)
{
    size_t part = obj->s3->part_bytes;
    while (n > 0) {
        if (obj->len == part) {
            int rc = obj_upload_part(obj);
            if (rc)
                return rc;
        }
        if (obj->len == obj->cap) { /* grow by doubling, capped at one part */
            size_t cap = obj->cap ? obj->cap * 2 : 64 * 1024;
            if (cap > part)
                cap = part;
            char *buf = realloc(obj->buf, cap);
            if (!buf)
                return PP_ENOMEM;
            obj->buf = buf;
            obj->cap = cap;
        }
        size_t take = obj->cap - obj->len < n ? obj->cap - obj->len : n;
        memcpy(obj->buf + obj->len, p, take);
        obj->len += take;
        p += take;
        n -= take;
    }
    return 0;
}

static int obj_complete(struct pp_lake_s3_obj *obj)
{
    struct pp_lake_s3 *s3 = obj->s3;
    struct pp_buf body;
    char query[1600], eid[1536];
    pp_buf_init(&body, 0);
    int rc = pp_buf_puts(&body, "<CompleteMultipartUpload>");
    for (int i = 0; !rc && i < obj->nparts; i++)
        rc = pp_buf_printf(&body, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i + 1,
                           obj->etags[i]);
    if (!rc)
        rc = pp_buf_puts(&body, "</CompleteMultipartUpload>");
    if (!rc && (pp_lake_s3_encode(obj->upload_id, 0, eid, sizeof(eid)) ||
                snprintf(query, sizeof(query), "uploadId=%s", eid) >= (int)sizeof(query)))
        rc = PP_ETOOBIG;
    if (!rc) {
        struct s3_req req;
        req_init(&req, "POST", obj->key, query);
        req.body = body.data;
        req.blen = body.len;
        rc = s3_do(s3, &req, s3->tries);
        pp_buf_free(&req.resp);
    }
    pp_buf_free(&body);
    return rc;
}

int pp_lake_s3_obj_finish(struct pp_lake_s3_obj *obj)
{
    int rc;
    if (!obj->upload_id[0]) { /* small object: one PUT makes it visible atomically */
        struct s3_req req;
        req_init(&req, "PUT", obj->key, NULL);
        req.body = obj->buf ? obj->buf : "";
        req.blen = obj->len;
        rc = s3_do(obj->s3, &req, obj->s3->tries);
        pp_buf_free(&req.resp);
    } else {
        rc = obj->len ? obj_upload_part(obj) : 0;
        if (!rc)
            rc = obj_complete(obj);
    }
    if (rc) {
        pp_lake_s3_obj_abort(obj);
        return rc;
    }
    struct pp_lake_s3_tp *tp = obj->tp;
    if (tp->npend == tp->pcap) {
        int cap = tp->pcap ? tp->pcap * 2 : 4;
        struct s3_pending *p = realloc(tp->pend, (size_t)cap * sizeof(*p));
        if (!p) { /* finished but unrecorded: an I/O-like failure, so the partition reruns
                   * from the committed offset (an ENOMEM would let the caller go on) */
            obj_free(obj);
            return PP_EIO;
        }
        tp->pend = p;
        tp->pcap = cap;
    }
    tp->pend[tp->npend++] = (struct s3_pending){.start = obj->start, .ts_ms = obj->ts_ms};
    obj_free(obj);
    return 0;
}

static void abort_upload(struct pp_lake_s3 *s3, const char *key, const char *upload_id)
{
    char query[1600], eid[1536];
    if (pp_lake_s3_encode(upload_id, 0, eid, sizeof(eid)) ||
        snprintf(query, sizeof(query), "uploadId=%s", eid) >= (int)sizeof(query))
        return;
    struct s3_req req;
    req_init(&req, "DELETE", key, query);
    s3_do(s3, &req, 2); /* best effort: the bucket's lifecycle rule cleans up the rest */
    pp_buf_free(&req.resp);
}

void pp_lake_s3_obj_abort(struct pp_lake_s3_obj *obj)
{
    if (!obj)
        return;
    if (obj->upload_id[0]) {
        char err[sizeof(obj->s3->err)];
        memcpy(err, obj->s3->err, sizeof(err)); /* keep the error that made us abort */
        abort_upload(obj->s3, obj->key, obj->upload_id);
        memcpy(obj->s3->err, err, sizeof(err));
    }
    obj_free(obj);
}

static int s3_delete(struct pp_lake_s3 *s3, const char *key, int tries)
{
    struct s3_req req;
    req_init(&req, "DELETE", key, NULL);
    int rc = s3_do(s3, &req, tries);
    pp_buf_free(&req.resp);
    return rc;
}

/* ---- truncate ---- */

struct trunc {
    struct pp_lake_s3 *s3;
    size_t tplen;   /* length of "<prefix>topic=<t>/" */
    char name[256]; /* "<t>+<p>+" */
    int64_t offset;
    char **keys; /* finished objects to delete */
    int n;
};

/* The file name of key when it sits in a "dt=" folder right under the topic prefix. */
static const char *trunc_name(const struct trunc *t, const char *key)
{
    const char *rest = key + t->tplen, *slash = strchr(rest, '/');
    if (strncmp(rest, "dt=", 3) || !slash || strchr(slash + 1, '/'))
        return NULL;
    return slash + 1;
}

static int trunc_key(void *arg, const char *key, const char *upload_id)
{
    struct trunc *t = arg;
    int64_t start;
    const char *name = trunc_name(t, key);
    (void)upload_id;
    if (!name || !pp_lake_parse_name(name, t->name, 0, &start) || start < t->offset)
        return 0;
    char **keys = realloc(t->keys, (size_t)(t->n + 1) * sizeof(*keys));
    if (!keys)
        return PP_ENOMEM;
    t->keys = keys;
    if (!(t->keys[t->n] = strdup(key)))
        return PP_ENOMEM;
    t->n++;
    return 0;
}

static int trunc_upload(void *arg, const char *key, const char *upload_id)
{
    struct trunc *t = arg;
    int64_t start;
    const char *name = trunc_name(t, key);
    if (name && upload_id && pp_lake_parse_name(name, t->name, 0, &start))
        abort_upload(t->s3, key, upload_id); /* a crashed writer's upload of this partition */
    return 0;
}

int pp_lake_s3_truncate(struct pp_lake_s3 *s3, const char *topic, int partition, int64_t offset)
{
    char tp[S3_KEY_MAX];
    struct trunc t = {.s3 = s3, .offset = offset};
    if (snprintf(tp, sizeof(tp), "%stopic=%s/", s3->prefix, topic) >= (int)sizeof(tp) ||
        snprintf(t.name, sizeof(t.name), "%s+%d+", topic, partition) >= (int)sizeof(t.name))
        return PP_ETOOBIG;
    t.tplen = strlen(tp);
    int rc = s3_list(s3, tp, 0, trunc_key, &t);
    for (int i = 0; rc >= 0 && i < t.n; i++)
        rc = s3_delete(s3, t.keys[i], s3->tries);
    if (rc >= 0) {
        char err[sizeof(s3->err)];
        memcpy(err, s3->err, sizeof(err));
        s3_list(s3, tp, 1, trunc_upload, &t); /* not every server has ListMultipartUploads */
        memcpy(s3->err, err, sizeof(err));
    }
    for (int i = 0; i < t.n; i++)
        free(t.keys[i]);
    free(t.keys);
    return rc < 0 ? rc : t.n;
}

/* ---- resume and publish (pending objects) ---- */

/* Does key exist? etag (NULL: not wanted; >= 128 bytes) gets its ETag. @returns 1, 0, <0. */
static int s3_exists(struct pp_lake_s3 *s3, const char *key, char *etag)
{
    struct s3_req req;
    req_init(&req, "HEAD", key, NULL);
    int rc = s3_do(s3, &req, s3->tries);
    long status = req.status;
    if (!rc && etag)
        snprintf(etag, sizeof(req.etag), "%s", req.etag);
    pp_buf_free(&req.resp);
    return !rc ? 1 : status == 404 ? 0 : rc;
}

/* Publish one pending object: CopyObject to its final key, then delete the pending key (best
 * effort: a leftover is published again, identically, by the next resume). A missing source
 * means another process (a next owner resuming from this commit, or a stalled one finishing
 * its publication) published it already: then the final key must exist. */
static int publish_one(struct pp_lake_s3 *s3, const struct pp_lake_s3_tp *tp, const char *token,
                       int64_t start, int64_t ts_ms)
{
    char src[S3_KEY_MAX], dst[S3_KEY_MAX], esrc[S3_KEY_MAX * 3], hdr[S3_KEY_MAX * 3 + 80];
    int rc = tp_pending_key(s3, tp, token, start, ts_ms, src, sizeof(src));
    if (!rc)
        rc = final_key(s3, tp, start, ts_ms, dst, sizeof(dst));
    if (!rc && (pp_lake_s3_encode(src, 1, esrc, sizeof(esrc)) ||
                snprintf(hdr, sizeof(hdr), "/%s/%s", s3->bucket, esrc) >= (int)sizeof(hdr)))
        rc = PP_ETOOBIG;
    if (rc)
        return rc;
    struct s3_req req;
    req_init(&req, "PUT", dst, NULL);
    req.copy_source = hdr;
    rc = s3_do(s3, &req, s3->tries);
    long status = req.status;
    pp_buf_free(&req.resp);
    if (rc && status == 404) {
        int there = s3_exists(s3, dst, NULL);
        if (there < 0)
            return there;
        if (!there) {
            snprintf(s3->err, sizeof(s3->err),
                     "s3 publish s3://%s/%.300s: its pending object is gone and it was never "
                     "published",
                     s3->bucket, dst);
            return PP_EIO;
        }
        return 0;
    }
    if (!rc)
        s3_delete(s3, src, 2);
    return rc;
}

/* Parse a pending key's name below tp_dir: "<token>/<start:010>.<YYYY-MM-DD>.jsonl".
 * @returns 1 with token (>= 2*S3_TOKEN_BYTES+1 bytes), start, ts_ms; 0 when not one. */
static int parse_pending(const char *name, char *token, int64_t *start, int64_t *ts_ms)
{
    const char *slash = strchr(name, '/');
    size_t tlen = slash ? (size_t)(slash - name) : 0;
    if (tlen != 2 * S3_TOKEN_BYTES || strspn(name, "0123456789abcdef") != tlen)
        return 0;
    const char *p = slash + 1, *end;
    int64_t v;
    /* %010: at least 10 digits; past INT64_MAX it is no pending key of ours */
    if (strspn(p, "0123456789") < 10 || pp_lake_parse_offset(p, &end, &v))
        return 0;
    char date[11];
    if (*end != '.' || strlen(end + 1) != 16 || strcmp(end + 11, ".jsonl"))
        return 0;
    memcpy(date, end + 1, 10);
    date[10] = '\0';
    if (pp_date_parse(date, ts_ms))
        return 0;
    memcpy(token, name, tlen);
    token[tlen] = '\0';
    *start = v;
    return 1;
}

struct resume {
    struct pp_lake_s3_tp *tp;
    size_t dlen;           /* length of tp_dir */
    const char *committed; /* token of the committed offset's objects, "" none */
    int64_t offset;
    struct s3_pending *promote; /* the committed token's objects below offset */
    int npromote;
    int collect; /* note the other pending objects as tp's garbage */
};

static int add_str(char ***v, int *n, const char *s)
{
    char **nv = realloc(*v, (size_t)(*n + 1) * sizeof(**v));
    if (!nv)
        return PP_ENOMEM;
    *v = nv;
    if (!(nv[*n] = strdup(s)))
        return PP_ENOMEM;
    (*n)++;
    return 0;
}

/* Append the pair (a, b) to the parallel arrays va, vb of *n entries. @returns 0, PP_ENOMEM. */
static int add_pair(char ***va, char ***vb, int *n, const char *a, const char *b)
{
    int na = *n, nb = *n;
    if (add_str(va, &na, a))
        return PP_ENOMEM;
    if (add_str(vb, &nb, b)) {
        free((*va)[*n]);
        return PP_ENOMEM;
    }
    *n = na;
    return 0;
}

static int resume_key(void *arg, const char *key, const char *upload_id)
{
    struct resume *r = arg;
    char token[2 * S3_TOKEN_BYTES + 1];
    int64_t start, ts_ms;
    (void)upload_id;
    if (!parse_pending(key + r->dlen, token, &start, &ts_ms))
        return 0; /* not ours to touch */
    if (!strcmp(token, r->committed) && start < r->offset) {
        struct s3_pending *p = realloc(r->promote, (size_t)(r->npromote + 1) * sizeof(*p));
        if (!p)
            return PP_ENOMEM;
        r->promote = p;
        p[r->npromote++] = (struct s3_pending){.start = start, .ts_ms = ts_ms};
        return 0;
    }
    return r->collect ? add_str(&r->tp->garbage, &r->tp->ngarbage, key) : 0;
}

/* Publish tp's pending objects that the commit (offset, meta) covers: those of the committed
 * token that start below offset. With r->collect, the others become tp's garbage.
 * @returns objects published or <0. */
static int publish_committed(struct pp_lake_s3 *s3, struct resume *r, const char *dir,
                             const char *meta)
{
    size_t mlen = strlen(S3_META_PREFIX);
    r->committed = meta && !strncmp(meta, S3_META_PREFIX, mlen) ? meta + mlen : "";
    r->dlen = strlen(dir);
    int rc = s3_list(s3, dir, 0, resume_key, r);
    for (int i = 0; rc >= 0 && i < r->npromote; i++)
        rc = publish_one(s3, r->tp, r->committed, r->promote[i].start, r->promote[i].ts_ms);
    free(r->promote);
    r->promote = NULL;
    return rc < 0 ? rc : r->npromote;
}

int pp_lake_s3_publish(struct pp_lake_s3 *s3, const char *topic, int partition, int64_t offset,
                       const char *meta)
{
    char dir[S3_KEY_MAX];
    struct pp_lake_s3_tp *tp = pp_lake_s3_tp_new(topic, partition);
    if (!tp)
        return PP_ENOMEM;
    struct resume r = {.tp = tp, .offset = offset};
    int rc = tp_dir(s3, tp, dir, sizeof(dir));
    if (!rc)
        rc = publish_committed(s3, &r, dir, meta);
    pp_lake_s3_tp_free(tp);
    return rc;
}

static int resume_upload(void *arg, const char *key, const char *upload_id)
{
    struct resume *r = arg;
    struct pp_lake_s3_tp *tp = r->tp;
    return upload_id ? add_pair(&tp->gup_keys, &tp->gup_ids, &tp->ngup, key, upload_id) : 0;
}

int pp_lake_s3_tp_resume(struct pp_lake_s3 *s3, struct pp_lake_s3_tp *tp, int64_t offset,
                         const char *meta)
{
    char dir[S3_KEY_MAX], tprefix[S3_KEY_MAX];
    pp_lake_s3_tp_drop(tp);
    int rc = tp_new_token(tp);
    if (!rc)
        rc = tp_dir(s3, tp, dir, sizeof(dir));
    if (rc)
        return rc;
    struct resume r = {.tp = tp, .offset = offset, .collect = 1};
    /* 1. publish what the committed offset covers (a crash or a stall between the commit and
     *    the publication left it pending); everything else pending is garbage */
    rc = publish_committed(s3, &r, dir, meta);
    /* 2. finished objects at/after the committed offset (an older version's crash, or offsets
     *    moved back by an operator): garbage too, as pp_lake_truncate_from would delete */
    struct trunc t = {.s3 = s3, .offset = offset};
    if (rc >= 0 && (snprintf(tprefix, sizeof(tprefix), "%stopic=%s/", s3->prefix, tp->topic) >=
                        (int)sizeof(tprefix) ||
                    snprintf(t.name, sizeof(t.name), "%s+%d+", tp->topic, tp->partition) >=
                        (int)sizeof(t.name)))
        rc = PP_ETOOBIG;
    if (rc >= 0) {
        t.tplen = strlen(tprefix);
        rc = s3_list(s3, tprefix, 0, trunc_key, &t);
    }
    for (int i = 0; i < t.n; i++) { /* with the ETag each has now (tp_delete_stale) */
        char etag[128] = "";
        int there = rc >= 0 ? s3_exists(s3, t.keys[i], etag) : 0;
        if (there < 0)
            rc = there;
        if (there > 0)
            rc = add_pair(&tp->stale_keys, &tp->stale_etags, &tp->nstale, t.keys[i], etag);
        free(t.keys[i]);
    }
    free(t.keys);
    /* 3. multipart uploads left under the pending folder (best effort: not every server lists
     *    them; a bucket lifecycle rule cleans up the rest) */
    if (rc >= 0) {
        char err[sizeof(s3->err)];
        memcpy(err, s3->err, sizeof(err));
        s3_list(s3, dir, 1, resume_upload, &r);
        memcpy(s3->err, err, sizeof(err));
    }
    if (rc < 0) {
        pp_lake_s3_tp_drop(tp);
        return rc;
    }
    return tp->ngarbage + tp->nstale + tp->ngup;
}

/* Delete the stale finished objects resume found, each only while it still has the ETag it
 * had then (HEAD, then DELETE with If-Match where the server honours it): a key a successor
 * has meanwhile published anew (same start offset) is left alone. */
static int tp_delete_stale(struct pp_lake_s3 *s3, struct pp_lake_s3_tp *tp)
{
    for (int i = 0; i < tp->nstale; i++) {
        char etag[128] = "", hdr[160];
        int there = s3_exists(s3, tp->stale_keys[i], etag);
        if (there < 0)
            return there;
        if (!there || strcmp(etag, tp->stale_etags[i]))
            continue; /* gone, or rewritten since */
        struct s3_req req;
        req_init(&req, "DELETE", tp->stale_keys[i], NULL);
        snprintf(hdr, sizeof(hdr), "If-Match: %s", etag);
        req.extra_header = hdr;
        int rc = s3_do(s3, &req, s3->tries);
        long status = req.status;
        pp_buf_free(&req.resp);
        if (rc && status != 412) /* 412: rewritten between the HEAD and the DELETE */
            return rc;
    }
    pp_lake_s3_tp_forget_stale(tp);
    return 0;
}

int pp_lake_s3_tp_committed(struct pp_lake_s3 *s3, struct pp_lake_s3_tp *tp, int64_t next_offset)
{
    int rc = 0, n = 0;
    /* first the garbage resume found: this commit proved this writer owns the partition now,
     * so no other writer can publish there any more (its commits are refused) */
    for (int i = 0; i < tp->ngup; i++)
        abort_upload(s3, tp->gup_keys[i], tp->gup_ids[i]);
    if ((rc = tp_delete_stale(s3, tp)))
        return rc;
    for (int i = 0; i < tp->ngarbage; i++) /* a leftover pending object is hidden, harmless */
        s3_delete(s3, tp->garbage[i], 2);
    tp_forget_garbage(tp);
    /* then publish the objects the commit covers, in offset order */
    while (n < tp->npend && tp->pend[n].start < next_offset) {
        if ((rc = publish_one(s3, tp, tp->token, tp->pend[n].start, tp->pend[n].ts_ms)))
            break;
        n++;
    }
    if (n) /* pend is NULL while nothing was ever pending (a commit after resume's garbage) */
        memmove(tp->pend, tp->pend + n, (size_t)(tp->npend - n) * sizeof(*tp->pend));
    tp->npend -= n;
    return rc ? rc : n;
}

/* ---- read a day ---- */

struct day_keys {
    size_t dplen; /* length of "<prefix>topic=<t>/dt=<date>/" */
    char **keys;
    int n;
};

static int day_key(void *arg, const char *key, const char *upload_id)
{
    struct day_keys *d = arg;
    const char *name = key + d->dplen;
    size_t len = strlen(name);
    (void)upload_id;
    if (name[0] == '.' || strchr(name, '/') || len < 7 || strcmp(name + len - 6, ".jsonl"))
        return 0;
    char **keys = realloc(d->keys, (size_t)(d->n + 1) * sizeof(*keys));
    if (!keys)
        return PP_ENOMEM;
    d->keys = keys;
    if (!(d->keys[d->n] = strdup(key)))
        return PP_ENOMEM;
    d->n++;
    return 0;
}

static long get_lines(struct pp_lake_s3 *s3, const char *key, struct pp_lake_s3_lines *l)
{
    struct s3_req req;
    req_init(&req, "GET", key, NULL);
    req.sink = pp_lake_s3_lines_sink;
    req.sink_arg = l;
    req.before_try = pp_lake_s3_lines_retry;
    l->done = 0;
    l->count = 0;
    l->rc = 0;
    int rc = s3_do(s3, &req, s3->tries);
    long status = req.status;
    pp_buf_free(&req.resp);
    if (l->rc)
        return l->rc;
    if (rc)
        return status == 404 ? 0 : rc; /* removed by a concurrent truncate, as locally */
    int erc = pp_lake_s3_lines_end(l);
    return erc ? erc : l->count;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

long pp_lake_s3_read_day(struct pp_lake_s3 *s3, const char *topic, const char *date,
                         const struct pp_lake_reader *rd)
{
    char dp[S3_KEY_MAX];
    struct day_keys d = {0};
    if (snprintf(dp, sizeof(dp), "%stopic=%s/dt=%s/", s3->prefix, topic, date) >= (int)sizeof(dp))
        return PP_ETOOBIG;
    d.dplen = strlen(dp);
    long total = s3_list(s3, dp, 0, day_key, &d);
    if (total >= 0 && d.n == 0)
        total = PP_ENOENT;
    if (total >= 0) {
        struct pp_lake_s3_lines l = {.cb = rd->record, .arg = rd->arg};
        pp_buf_init(&l.line, S3_LINE_MAX);
        qsort(d.keys, (size_t)d.n, sizeof(*d.keys), cmp_keys);
        total = 0;
        for (int i = 0; i < d.n; i++) {
            int partition;
            int64_t start;
            long got = 0;
            if (rd->file && pp_lake_parse_file(d.keys[i] + d.dplen, topic, &partition, &start) &&
                (got = rd->file(rd->arg, partition, start)) > 0)
                continue; /* skip this object */
            if (!got)
                got = get_lines(s3, d.keys[i], &l);
            if (got < 0) {
                total = got;
                break;
            }
            total += got;
        }
        pp_buf_free(&l.line);
    }
    for (int i = 0; i < d.n; i++)
        free(d.keys[i]);
    free(d.keys);
    return total;
}

int pp_lake_s3_mark(struct pp_lake_s3 *s3, const char *rel, const char *body, size_t len)
{
    char key[S3_KEY_MAX];
    if (snprintf(key, sizeof(key), "%s%s/" PP_LAKE_MARKER, s3->prefix, rel) >= (int)sizeof(key))
        return PP_ETOOBIG;
    int rc = s3_exists(s3, key, NULL);
    if (rc)
        return rc > 0 ? 1 : rc;
    struct s3_req req;
    req_init(&req, "PUT", key, NULL);
    req.body = body;
    req.blen = len;
    /* conditional write (AWS since 2024-08, MinIO): a marker another closer wrote in between
     * stays; servers without it overwrite with an equivalent marker */
    req.extra_header = "If-None-Match: *";
    rc = s3_do(s3, &req, s3->tries);
    long status = req.status;
    pp_buf_free(&req.resp);
    return rc && status == 412 ? 1 : rc;
}

long pp_lake_s3_marker(struct pp_lake_s3 *s3, const char *rel, char *out, size_t size)
{
    char key[S3_KEY_MAX];
    if (snprintf(key, sizeof(key), "%s%s/" PP_LAKE_MARKER, s3->prefix, rel) >= (int)sizeof(key))
        return PP_ETOOBIG;
    struct s3_req req;
    req_init(&req, "GET", key, NULL);
    int rc = s3_do(s3, &req, s3->tries);
    long n = rc ? (req.status == 404 ? PP_ENOENT : rc) : (long)req.resp.len;
    if (n >= 0) {
        if ((size_t)n >= size)
            n = size - 1; /* a marker is small: a longer one is cut, as a read() would */
        memcpy(out, req.resp.data, (size_t)n);
        out[n] = '\0';
    }
    pp_buf_free(&req.resp);
    return n;
}
