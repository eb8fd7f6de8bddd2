/* pp_auth.h: API keys for the ingestion server: the keys file (auth_file.c), credentials from
 * request headers, roles, per-key token-bucket quotas and live reload (auth.c). */
#ifndef PP_AUTH_H
#define PP_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "pp_buf.h"

struct pp_http_route;
struct pp_http_resp;

/* Roles (issue 11 item 4), /healthz and /readyz being open to all:
 * INGEST: the ingestion routes and the APIs' GET metadata routes (/topics, /streams...), only
 * the key's topics when it lists some; READ: the dashboard (every GET pp_http_conf.get
 * answers, /api/...) and /metrics; ADMIN: everything. */
enum pp_auth_role { PP_AUTH_INGEST, PP_AUTH_READ, PP_AUTH_ADMIN };

#define PP_AUTH_NAME_MAX 64 /* [A-Za-z0-9._-]{1,64}: shows in metrics labels and lists */
#define PP_AUTH_KEY_MAX 256 /* longest credential looked at; longer is invalid */
#define PP_AUTH_HASH_LEN 32 /* SHA-256 */
#define PP_AUTH_FILE_MAX ((size_t)16 << 20)

struct pp_auth_bucket;

/* One line of the keys file. Only the SHA-256 of the key is kept. */
struct pp_auth_key {
    char name[PP_AUTH_NAME_MAX + 1];
    enum pp_auth_role role;
    unsigned topics;    /* bit (1u << enum pp_kind) per allowed topic; 0 = every topic */
    double rate;        /* requests per second; 0 = unlimited */
    double burst;       /* bucket size in requests (>= 1 when rate > 0) */
    int64_t created_ms; /* wall clock, ms since the epoch */
    unsigned char hash[PP_AUTH_HASH_LEN];
    struct pp_auth_bucket *bucket; /* set in a live table only (auth.c); borrowed */
};

/* A set of keys, in file order. */
struct pp_auth_keys {
    struct pp_auth_key *keys;
    int n, cap;
};

/* ---- the keys file (auth_file.c) --------------------------------------------------------
 * Text, one key per line, fields "k=v" separated by spaces, '#' comments and blank lines
 * ignored, e.g.
 *   name=ci-loader role=ingest topics=pin,geo rate=50 burst=100
 *   created=2026-12-07T23:30:00Z sha256=<64 hex digits>
 * (one line). topics=* (or absent) = every topic; rate=0 (or absent) = unlimited; burst
 * defaults to max(1, rate). Names are unique. */

const char *pp_auth_role_name(enum pp_auth_role role);
/* "ingest" | "read" | "admin". @returns 0 or PP_EPARSE. */
int pp_auth_role_parse(const char *s, enum pp_auth_role *role);
/* "pin,geo" (or "*" = all) into a topics mask. @returns 0 or PP_EPARSE. */
int pp_auth_topics_parse(const char *s, unsigned *topics);
/* Topics mask as "pin,geo" or "*" into out. */
void pp_auth_topics_format(unsigned topics, char *out, size_t size);
/* Is name a valid key name ([A-Za-z0-9._-]{1,64})? */
int pp_auth_name_ok(const char *name);

void pp_auth_keys_init(struct pp_auth_keys *keys);
void pp_auth_keys_free(struct pp_auth_keys *keys);
/* Index of the key named name, or -1. */
int pp_auth_keys_find(const struct pp_auth_keys *keys, const char *name);
/* Append a copy of key. @returns 0, PP_ENOMEM, or PP_EINVAL (its name is taken). */
int pp_auth_keys_add(struct pp_auth_keys *keys, const struct pp_auth_key *key);
/* Remove the key named name. @returns 0 or PP_ENOENT. */
int pp_auth_keys_remove(struct pp_auth_keys *keys, const char *name);
/* Parse a keys file's text (len bytes) into keys (appended). @returns 0, PP_EPARSE (errstr
 * names the line and the field, never a hash), PP_ENOMEM. */
int pp_auth_keys_parse(struct pp_auth_keys *keys, const char *text, size_t len, char *errstr,
                       size_t errstr_size);
/* Append keys as the file's text (a header comment, then one line per key) to out.
 * @returns 0 or PP_ENOMEM. */
int pp_auth_keys_format(const struct pp_auth_keys *keys, struct pp_buf *out);
/* Read and parse the file at path. @returns 0, PP_ENOENT (no such file), PP_EIO, PP_ETOOBIG
 * (over PP_AUTH_FILE_MAX), PP_EPARSE, PP_ENOMEM; errstr filled on failure. */
int pp_auth_keys_load(struct pp_auth_keys *keys, const char *path, char *errstr,
                      size_t errstr_size);
/* Write keys to path crash-safely: temp file (mode 0600; owner kept from an existing file
 * when we may), fsync, rename, fsync the folder. @returns 0 or PP_EIO/PP_ENOMEM with errstr. */
int pp_auth_keys_save(const struct pp_auth_keys *keys, const char *path, char *errstr,
                      size_t errstr_size);

/* SHA-256 of the key text. */
void pp_auth_hash(const char *key, size_t len, unsigned char out[PP_AUTH_HASH_LEN]);
/* A new key: "pp_" + 43 base64url characters of 32 bytes from RAND_bytes (out >= 47 bytes),
 * and its hash. @returns 0 or PP_EIO (no randomness). */
int pp_auth_key_generate(char *out, size_t size, unsigned char hash[PP_AUTH_HASH_LEN]);

/* ---- credentials, roles, quotas (auth.c) ------------------------------------------------ */

/* The key a request presents, from its headers (NULL = absent): `x-api-key: KEY` (API
 * Gateway), `Authorization: Bearer KEY`, or `Authorization: Basic base64(user:KEY)` (REST
 * Proxy clients; the user part is ignored). x-api-key wins when both are sent. Copies the key
 * into out (NUL-terminated, out_size > PP_AUTH_KEY_MAX). @returns 0, PP_ENOENT (no
 * credential), PP_EPARSE (a malformed header: unknown scheme, bad base64, no ':', empty key),
 * PP_ETOOBIG (longer than PP_AUTH_KEY_MAX). */
int pp_auth_credential(const char *x_api_key, const char *authorization, char *out, size_t out_size,
                       size_t *len);

/* May key use the route? match is pp_http_route_match()'s answer (200, 404, 405) for method.
 * Health and readiness routes are open and not asked about. @returns 1 or 0 (403). */
int pp_auth_permits(const struct pp_auth_key *key, const char *method, int match,
                    const struct pp_http_route *route);

/* A token bucket's state: `tokens` requests may go now; it refills at rate per second up
 * to burst. Zeroed = full at its first use. */
struct pp_auth_tokens {
    double tokens;
    int64_t last_us;
    int started;
};
/* Take one request's token at now_us (a monotonic clock, injected for tests). @returns 1
 * taken, or 0 with *retry_after the whole seconds (>= 1) until one is there. rate <= 0:
 * always 1. */
int pp_auth_tokens_take(struct pp_auth_tokens *tok, double rate, double burst, int64_t now_us,
                        int *retry_after);

/* Is the "HOST:PORT" listen address loopback only (127.0.0.0/8, ::1, localhost)? An empty or
 * wildcard host is not. */
int pp_auth_listen_loopback(const char *listen);

/* The live keys of a server. */
struct pp_auth;

struct pp_auth_conf {
    const char *path;     /* the keys file */
    double default_rate;  /* quota of keys whose line has none (0 = unlimited) */
    double default_burst; /* 0 = max(1, default_rate) */
};

/* Load conf->path (a missing file is an empty table, so every request but /healthz and
 * /readyz gets 401 until `pinpipe keys add` creates it; *missing set to 1 then).
 * @returns owned: release with pp_auth_destroy(); NULL with errstr filled (unreadable or
 * malformed file, out of memory). */
struct pp_auth *pp_auth_open(const struct pp_auth_conf *conf, int *missing, char *errstr,
                             size_t errstr_size);
void pp_auth_destroy(struct pp_auth *auth);
/* Re-read the keys file if its inode, size or mtime changed (force: in any case) and swap
 * the table in atomically; requests in flight keep the table they looked at. A file that
 * fails to parse keeps the old table (warned once per change). @returns 1 reloaded, 0
 * unchanged, <0 the load error. @thread any. */
int pp_auth_reload(struct pp_auth *auth, int force);
/* Number of keys loaded. */
int pp_auth_count(struct pp_auth *auth);

/* What the server knows of a request when it asks. */
struct pp_auth_req {
    const char *method;
    int match; /* pp_http_route_match()'s status */
    const struct pp_http_route *route;
    const char *x_api_key; /* header values or NULL */
    const char *authorization;
};
/* Authenticate, authorize and charge the request's key one token. Checks the keys file for
 * changes at most once a second first. @returns 0 (go on) or 401 / 403 / 429 with resp
 * filled in the route's error envelope (WWW-Authenticate on 401, Retry-After on 429).
 * Credentials are never logged. @thread any. */
int pp_auth_request(struct pp_auth *auth, const struct pp_auth_req *req, struct pp_http_resp *resp);
/* Metrics collector (arg: struct pp_auth *): refusals by reason, throttled requests by key,
 * keys loaded, reloads. For pp_metrics_add(). */
void pp_auth_collect(void *arg, struct pp_buf *out);

#endif
