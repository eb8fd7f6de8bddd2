/* lake_s3.h: internals of the lake's S3 backend (s3.c), used by local.c's dispatch and the
 * unit tests; not part of the public lake API (pp_lake.h).
 * Requests are signed here (s3_sigv4.c, AWS SigV4 with libcrypto's HMAC-SHA256), not by
 * libcurl: see pp_lake_s3_sign. The payload hash header x-amz-content-sha256 is the body's
 * SHA-256 (UNSIGNED-PAYLOAD only if hashing fails; see payload_hash() in s3.c).
 * Retries: every request is retried inside s3.c, bounded (PP_LAKE_S3_TRIES attempts, backoff
 * 100 ms doubling to 5 s with full jitter) on connection errors, timeouts, HTTP 5xx, 429 and
 * S3's 400 RequestTimeout; other 4xx are fatal at once (bucket missing, access denied). */
#ifndef LAKE_S3_H
#define LAKE_S3_H

#include <stddef.h>
#include <stdint.h>

#include "pp_buf.h"
#include "pp_lake.h"

#define PP_LAKE_S3_TRIES 8

/* Test knobs, read at open from the environment (for local test servers, never needed in
 * production): PINPIPE_S3_PART_BYTES (part size below S3's 5 MiB minimum, >= 64K) and
 * PINPIPE_S3_MAX_KEYS (ListObjectsV2 page size, 1..1000: exercises paging). */

struct pp_lake_s3;
struct pp_lake_s3_obj;

/* @returns 1 when root names S3 ("s3://..."), else 0. */
int pp_lake_s3_is_root(const char *root);
/* Split "s3://bucket[/prefix]" into bucket and prefix (prefix without leading '/', ending in
 * '/' unless empty). @returns 0, PP_EINVAL (not s3://, bad bucket name), PP_ETOOBIG. */
int pp_lake_s3_parse_root(const char *root, char *bucket, size_t bsize, char *prefix, size_t psize);
/* AWS SigV4 URI encoding: keeps A-Za-z0-9-_.~ (and '/' when keep_slash), else %XX uppercase.
 * @returns 0 or PP_ETOOBIG. */
int pp_lake_s3_encode(const char *in, int keep_slash, char *out, size_t size);
/* Scan a ListObjectsV2 (or ListMultipartUploads) XML response: cb(arg, key, upload_id or
 * NULL) for each <Contents>/<Upload>, entities decoded; *truncated from <IsTruncated>, token
 * from <NextContinuationToken> ("" if none). @returns number of entries, PP_EPARSE, or cb's
 * negative return. */
int pp_lake_s3_parse_list(const char *xml, size_t len,
                          int (*cb)(void *arg, const char *key, const char *upload_id), void *arg,
                          int *truncated, char *token, size_t tsize);
/* One response header as libcurl's header callback hands it: p[0..n-1], not NUL-terminated
 * (usually ending in CRLF, but nothing past n is read). A status line "HTTP/<v> <NNN>..."
 * sets *status to its three-digit code (0 when it has none); an "ETag:" header (any case)
 * copies its value, blanks and CRLF trimmed, into etag (truncated to etag_size - 1, NUL-
 * terminated). @returns 1 status line, 2 ETag, 0 any other header (nothing set). */
int pp_lake_s3_header(const char *p, size_t n, long *status, char *etag, size_t etag_size);
/* Text of the first <tag>...</tag> in xml, entities decoded. @returns 0 or PP_ENOENT. */
int pp_lake_s3_xml_tag(const char *xml, size_t len, const char *tag, char *out, size_t size);

/* Whether endpoint ("scheme://host[:port][/path]") gets path-style addressing by itself: its
 * host is an IP literal (IPv4, or IPv6 in brackets) or "localhost" (any case), which cannot
 * carry a bucket as a DNS label; as botocore and the AWS CLI decide. Other hosts get
 * virtual-hosted style ("bucket.host") unless --s3-path-style forces path style.
 * @returns 1 path style, 0 virtual-hosted (also for an endpoint that does not parse). */
int pp_lake_s3_path_style_auto(const char *endpoint);

/* One request to sign with AWS Signature Version 4 (AWS "Create a signed AWS API request"). */
#define PP_LAKE_S3_SIG_HEADERS 16
struct pp_lake_s3_sig {
    const char *method;         /* "GET", "PUT", ... */
    const char *uri;            /* the path as sent: each segment URI-encoded once, '/' kept */
    const char *query;          /* "k=v&k2" already URI-encoded, any order; NULL or "": none */
    const char *const *headers; /* "Name: value" lines as sent (Host included) */
    int nheaders;               /* at most PP_LAKE_S3_SIG_HEADERS */
    const char *payload_hash;   /* the x-amz-content-sha256 value sent */
    const char *amz_date;       /* the x-amz-date sent: "YYYYMMDDTHHMMSSZ" (UTC) */
    const char *region;
    const char *key_id, *secret; /* borrowed; never copied out but into the scope's key id */
};
/* The Authorization header value "AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/s3/
 * aws4_request, SignedHeaders=<names>, Signature=<64 hex>" for sig, into auth. Signed: every
 * header line given, except lines with an empty value (curl's syntax to remove a header: it
 * is not sent) and Expect. The lake signs its own requests instead of libcurl's
 * CURLOPT_AWS_SIGV4 because libcurl < 8.3.0 (Debian 12 ships 7.88) signs a suppressed
 * "Expect:" it does not send (curl issue #11664), and some versions sign Host without the
 * port sent (curl issue #9550): servers that recompute the signature from what they receive
 * (AWS, MinIO, Ceph RGW) refuse such requests with 403 SignatureDoesNotMatch. AWS's own
 * signers never sign Expect. Derived keys are wiped after use.
 * @returns 0, PP_EINVAL (no Host, a repeated or malformed header, too many headers or query
 * parameters, bad amz_date), PP_ETOOBIG (auth too small, secret over 250 bytes), PP_ENOMEM,
 * PP_EIO (libcrypto failed). */
int pp_lake_s3_sign(const struct pp_lake_s3_sig *sig, char *auth, size_t size);
/* SHA-256 of p[0..n-1] as 64 lowercase hex digits + NUL. @returns 0 or PP_EIO. */
int pp_lake_s3_sha256_hex(const void *p, size_t n, char out[65]);
/* p[0..n-1] as 2n lowercase hex digits + NUL into out (2n + 1 bytes). */
void pp_lake_s3_hex(const unsigned char *p, size_t n, char *out);

/* Credentials, all owned (release with pp_lake_s3_creds_free, which wipes them). */
struct pp_lake_s3_creds {
    char *key_id, *secret, *token; /* token NULL unless a session token is set */
};
/* From AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the [AWS_PROFILE or
 * default] section of AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials.
 * @returns 0, PP_ENOENT (none found), PP_ENOMEM. */
int pp_lake_s3_creds_load(struct pp_lake_s3_creds *creds);
void pp_lake_s3_creds_free(struct pp_lake_s3_creds *creds);
/* @returns borrowed: getenv(name) when set and non-empty, else NULL. */
const char *pp_lake_s3_env(const char *name);

/* Splits a streamed object body into records for cb (CR/LF stripped, empty lines skipped,
 * count counts records). Feed chunks with _sink (a curl-style sink: returns n, or 0 after
 * cb's negative return / an over-long line, kept in rc); call _retry before re-reading the body
 * from its start (lines already delivered are skipped: a retried GET delivers nothing twice);
 * _end delivers a last line without '\n'. Init: zero it, set cb/arg, pp_buf_init(&line, cap). */
struct pp_lake_s3_lines {
    int (*cb)(void *arg, const char *value, size_t vlen);
    void *arg;
    struct pp_buf line; /* a partial line carried between chunks */
    uint64_t done;      /* body bytes of lines already delivered (skipped on a retry) */
    uint64_t seen;      /* body bytes received in this attempt */
    long count;
    int rc;
};
size_t pp_lake_s3_lines_sink(const char *p, size_t n, void *arg);
void pp_lake_s3_lines_retry(void *arg);
int pp_lake_s3_lines_end(struct pp_lake_s3_lines *l);

/* @returns owned: release with pp_lake_s3_close(); checks the bucket is reachable. */
struct pp_lake_s3 *pp_lake_s3_open(const struct pp_lake_conf *conf, char *errstr,
                                   size_t errstr_size);
void pp_lake_s3_close(struct pp_lake_s3 *s3);
/* @returns borrowed: the last request error ("" none); never holds credentials. */
const char *pp_lake_s3_errmsg(const struct pp_lake_s3 *s3);

/* Pending objects: how S3 keeps exactly once when a member stalls. S3 has no lock, so a
 * writer finishes each object under a key of its own, "<prefix>_pending/<topic>/<partition>/
 * <token>/<start:010>.<YYYY-MM-DD>.jsonl" (token: random, per writer and ownership), commits
 * the offset past it with the commit metadata "pending=<token>" (pp_log_commit_meta), and only
 * then publishes it: CopyObject to its final key, delete the pending key. The commit is the
 * fence: Kafka refuses it from a member the group moved on from (ILLEGAL_GENERATION /
 * UNKNOWN_MEMBER_ID), so a stalled writer's objects stay pending and are never published. A
 * final key is thus written only for a committed range, by the writer that committed it or by
 * the next owner (resume publishes the committed token's objects below the committed offset),
 * with the same bytes either way.
 * State per (topic, partition): struct pp_lake_s3_tp. */
struct pp_lake_s3_tp;
/* @returns owned (pp_lake_s3_tp_free), NULL on OOM or too long a topic. */
struct pp_lake_s3_tp *pp_lake_s3_tp_new(const char *topic, int partition);
void pp_lake_s3_tp_free(struct pp_lake_s3_tp *tp);
/* Forget tp's pending objects and garbage (they stay in S3, for the next owner's resume) and
 * its token (the next object gets a new one). */
void pp_lake_s3_tp_drop(struct pp_lake_s3_tp *tp);
/* The commit metadata for tp's objects: "pending=<token>", or "" before its first object.
 * @returns 0 or PP_ETOOBIG. */
int pp_lake_s3_tp_meta(const struct pp_lake_s3_tp *tp, char *out, size_t size);
/* Start writing tp from its committed offset, whose commit metadata is meta (NULL/"": none):
 * publish the committed token's pending objects below offset, and note as garbage every other
 * pending object, finished objects starting at/after offset, and multipart uploads left under
 * the partition's pending folder. The garbage is deleted only after this writer's next
 * successful commit (pp_lake_s3_tp_committed), which proves it owns the partition: a stalled
 * writer resuming late cannot delete its successor's objects. A fresh token.
 * @returns the number of garbage items (> 0: commit soon), or <0 (PP_EIO: s3 error). */
int pp_lake_s3_tp_resume(struct pp_lake_s3 *s3, struct pp_lake_s3_tp *tp, int64_t offset,
                         const char *meta);
/* Publish only: the pending objects of (topic, partition) that the commit (offset, meta)
 * covers; nothing is deleted but their pending keys (safe from any process at any time: the
 * same bytes go to the same final keys). @returns objects published or <0. */
int pp_lake_s3_publish(struct pp_lake_s3 *s3, const char *topic, int partition, int64_t offset,
                       const char *meta);
/* Forget the stale finished objects resume noted (they stay): for when they can no longer be
 * deleted safely (the fence commit failed and a later commit may move past them). */
void pp_lake_s3_tp_forget_stale(struct pp_lake_s3_tp *tp);
/* The offset next_offset was committed with tp's metadata: delete the garbage, then publish
 * the pending objects that start below next_offset. @returns objects published or <0. */
int pp_lake_s3_tp_committed(struct pp_lake_s3 *s3, struct pp_lake_s3_tp *tp, int64_t next_offset);

/* An object of tp starting at offset start with ingest time ts_ms, written under its pending
 * key (tp gets a token first if it has none); invisible until finished and published. Memory:
 * at most one part (conf s3_part_bytes) buffered. @returns 0, PP_ENOMEM, PP_EIO, PP_ETOOBIG. */
int pp_lake_s3_obj_open(struct pp_lake_s3 *s3, struct pp_lake_s3_tp *tp, int64_t start,
                        int64_t ts_ms, struct pp_lake_s3_obj **out);
/* Append bytes; uploads a part when the buffer is full. @returns 0, PP_EIO, PP_ENOMEM. */
int pp_lake_s3_obj_append(struct pp_lake_s3_obj *obj, const char *p, size_t n);
/* Finish the object under its pending key (one PUT, or the last part +
 * CompleteMultipartUpload) and add it to its tp's pending objects; frees obj in all cases.
 * @returns 0 or PP_EIO. */
int pp_lake_s3_obj_finish(struct pp_lake_s3_obj *obj);
/* Drop obj unfinished (best-effort AbortMultipartUpload); frees obj; NULL ok. */
void pp_lake_s3_obj_abort(struct pp_lake_s3_obj *obj);

/* As pp_lake_truncate_from on S3's finished objects (+ stale multipart uploads, best effort). */
int pp_lake_s3_truncate(struct pp_lake_s3 *s3, const char *topic, int partition, int64_t offset);
/* A finished file's name "<topic>+<partition>+<start>.jsonl" of any partition -> partition,
 * start (pp_lake_parse_name). @returns 1, or 0 when name is no such file. */
int pp_lake_parse_file(const char *name, const char *topic, int *partition, int64_t *start);
/* As pp_lake_read_day_files, streaming each object through a line splitter. */
long pp_lake_s3_read_day(struct pp_lake_s3 *s3, const char *topic, const char *date,
                         const struct pp_lake_reader *rd);
/* As pp_lake_day_mark / pp_lake_day_marker for the day folder rel ("topic=<t>/dt=<d>"). */
int pp_lake_s3_mark(struct pp_lake_s3 *s3, const char *rel, const char *body, size_t len);
long pp_lake_s3_marker(struct pp_lake_s3 *s3, const char *rel, char *out, size_t size);

/* The decimal digits at p as an offset, overflow-checked (no sign, no spaces; leading zeros
 * ok, as in the names' %010). *end is set past the digits in every case.
 * @returns 0 and *v; PP_EPARSE when p has no digit; PP_ERANGE past INT64_MAX (*v unset). */
int pp_lake_parse_offset(const char *p, const char **end, int64_t *v);
/* local.c's name parser, shared: "<topic>+<partition>+<digits>.jsonl". */
int pp_lake_parse_name(const char *name, const char *prefix, int tmp, int64_t *start);

#endif
