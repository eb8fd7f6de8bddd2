/* s3_util.c: pure parts of the S3 lake: s3:// roots, SigV4 URI encoding, listing XML, AWS
 * a line splitter for streamed bodies, AWS credentials from the environment or the shared
 * credentials file. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lake_s3.h"
#include "pp_buf.h"
#include "pp_err.h"

#define S3_KEY_MAX 1100

int pp_lake_s3_is_root(const char *root)
{
    return root && !strncmp(root, "s3://", 5);
}

int pp_lake_s3_parse_root(const char *root, char *bucket, size_t bsize, char *prefix, size_t psize)
{
    if (!pp_lake_s3_is_root(root))
        return PP_EINVAL;
    const char *b = root + 5, *slash = strchr(b, '/');
    size_t blen = slash ? (size_t)(slash - b) : strlen(b);
    if (blen < 3 || blen > 63)
        return PP_EINVAL;
    for (size_t i = 0; i < blen; i++) { /* S3 bucket naming rules (lowercase, digits, . -) */
        char c = b[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
            return PP_EINVAL;
    }
    if (blen >= bsize)
        return PP_ETOOBIG;
    memcpy(bucket, b, blen);
    bucket[blen] = '\0';
    const char *p = slash ? slash : "";
    while (*p == '/')
        p++;
    size_t plen = strlen(p);
    while (plen > 0 && p[plen - 1] == '/')
        plen--;
    if (plen + 2 > psize)
        return PP_ETOOBIG;
    memcpy(prefix, p, plen);
    if (plen)
        prefix[plen++] = '/';
    prefix[plen] = '\0';
    return 0;
}

int pp_lake_s3_path_style_auto(const char *endpoint)
{
    const char *h = endpoint ? strstr(endpoint, "://") : NULL;
    if (!h)
        return 0;
    h += 3;
    if (*h == '[') /* an IPv6 literal, "[::1]:9000" (RFC 3986 IP-literal) */
        return 1;
    size_t n = strcspn(h, ":/?#");
    char host[256];
    if (!n || n >= sizeof(host))
        return 0;
    memcpy(host, h, n);
    host[n] = '\0';
    struct in_addr a4;
    return !strcasecmp(host, "localhost") || inet_pton(AF_INET, host, &a4) == 1;
}

int pp_lake_s3_encode(const char *in, int keep_slash, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        int keep = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                   (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
                   (keep_slash && *p == '/');
        if (o + (keep ? 1 : 3) >= size)
            return PP_ETOOBIG;
        if (keep) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    if (o >= size)
        return PP_ETOOBIG;
    out[o] = '\0';
    return 0;
}

/* Decode XML text (the five entities and &#N; / &#xH;) into out. @returns 0 or PP_ETOOBIG. */
static int xml_text(const char *p, size_t n, char *out, size_t size)
{
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        char tmp[4];
        size_t tlen = 1, used = 1;
        tmp[0] = p[i];
        if (p[i] == '&') {
            size_t k;
            for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
                size_t el = strlen(ents[k].ent);
                if (i + el <= n && !memcmp(p + i, ents[k].ent, el)) {
                    tmp[0] = ents[k].c;
                    used = el;
                    break;
                }
            }
            if (k == sizeof(ents) / sizeof(ents[0]) && i + 3 < n && p[i + 1] == '#') {
                int hexa = p[i + 2] == 'x';
                char *end;
                unsigned long cp = strtoul(p + i + 2 + hexa, &end, hexa ? 16 : 10);
                /* a surrogate is no XML character: decoded, it would be invalid UTF-8 in a
                 * key (tests/fuzz/regress/s3xml/charref-surrogate*); left as text */
                if (end < p + n && *end == ';' && cp > 0 && cp < 0x110000 &&
                    (cp < 0xD800 || cp > 0xDFFF)) {
                    used = (size_t)(end - (p + i)) + 1;
                    if (cp < 0x80) {
                        tmp[0] = (char)cp;
                    } else if (cp < 0x800) {
                        tmp[0] = (char)(0xc0 | (cp >> 6));
                        tmp[1] = (char)(0x80 | (cp & 0x3f));
                        tlen = 2;
                    } else if (cp < 0x10000) {
                        tmp[0] = (char)(0xe0 | (cp >> 12));
                        tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                        tmp[2] = (char)(0x80 | (cp & 0x3f));
                        tlen = 3;
                    } else {
                        tmp[0] = (char)(0xf0 | (cp >> 18));
                        tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
                        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
                        tmp[3] = (char)(0x80 | (cp & 0x3f));
                        tlen = 4;
                    }
                }
            }
        }
        if (o + tlen >= size)
            return PP_ETOOBIG;
        memcpy(out + o, tmp, tlen);
        o += tlen;
        i += used;
    }
    out[o] = '\0';
    return 0;
}

/* Find "<tag>" ... "</tag>" in [p, end): sets *text and *tlen. @returns pointer past the close. */
static const char *xml_find(const char *p, const char *end, const char *tag, const char **text,
                            size_t *tlen)
{
    char open[64], close[64];
    if (snprintf(open, sizeof(open), "<%s>", tag) >= (int)sizeof(open) ||
        snprintf(close, sizeof(close), "</%s>", tag) >= (int)sizeof(close))
        return NULL;
    size_t ol = strlen(open), cl = strlen(close);
    const char *s = p;
    for (;; s++) {
        s = memchr(s, '<', (size_t)(end - s));
        if (!s || (size_t)(end - s) < ol)
            return NULL;
        if (!memcmp(s, open, ol))
            break;
    }
    const char *t = s + ol;
    for (const char *e = t; (e = memchr(e, '<', (size_t)(end - e))); e++) {
        if ((size_t)(end - e) < cl)
            return NULL;
        if (!memcmp(e, close, cl)) {
            *text = t;
            *tlen = (size_t)(e - t);
            return e + cl;
        }
    }
    return NULL;
}

int pp_lake_s3_header(const char *p, size_t n, long *status, char *etag, size_t etag_size)
{
    if (n > 9 && !strncmp(p, "HTTP/", 5)) { /* a status line */
        const char *sp = memchr(p, ' ', n), *end = p + n;
        long code = 0;
        int digits = 0;
        for (const char *q = sp ? sp + 1 : end; q < end && *q >= '0' && *q <= '9'; q++)
            code = ++digits <= 3 ? code * 10 + (*q - '0') : 0;
        *status = digits == 3 ? code : 0;
        return 1;
    }
    if (n > 5 && !strncasecmp(p, "etag:", 5)) {
        size_t i = 5, e = n;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        while (e > i && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' '))
            e--;
        if (etag_size) {
            size_t len = e - i < etag_size - 1 ? e - i : etag_size - 1;
            memcpy(etag, p + i, len);
            etag[len] = '\0';
        }
        return 2;
    }
    return 0;
}

int pp_lake_s3_xml_tag(const char *xml, size_t len, const char *tag, char *out, size_t size)
{
    const char *text;
    size_t tlen;
    if (!xml_find(xml, xml + len, tag, &text, &tlen))
        return PP_ENOENT;
    return xml_text(text, tlen, out, size);
}

int pp_lake_s3_parse_list(const char *xml, size_t len,
                          int (*cb)(void *arg, const char *key, const char *upload_id), void *arg,
                          int *truncated, char *token, size_t tsize)
{
    const char *end = xml + len, *text;
    size_t tlen;
    char key[S3_KEY_MAX], upload[512], flag[16];
    if (!memmem(xml, len, "Result", 6)) /* ListBucketResult / ListMultipartUploadsResult */
        return PP_EPARSE;
    *truncated =
        !pp_lake_s3_xml_tag(xml, len, "IsTruncated", flag, sizeof(flag)) && !strcmp(flag, "true");
    token[0] = '\0';
    if (*truncated && pp_lake_s3_xml_tag(xml, len, "NextContinuationToken", token, tsize))
        return PP_EPARSE;
    int n = 0, uploads = memmem(xml, len, "<Upload>", 8) != NULL;
    for (const char *p = xml, *next;
         (next = xml_find(p, end, uploads ? "Upload" : "Contents", &text, &tlen)); p = next) {
        if (pp_lake_s3_xml_tag(text, tlen, "Key", key, sizeof(key)))
            return PP_EPARSE;
        if (uploads && pp_lake_s3_xml_tag(text, tlen, "UploadId", upload, sizeof(upload)))
            return PP_EPARSE;
        int rc = cb(arg, key, uploads ? upload : NULL);
        if (rc < 0)
            return rc;
        n++;
    }
    return n;
}

/* ---- line splitter ---- */

void pp_lake_s3_lines_retry(void *arg)
{
    struct pp_lake_s3_lines *l = arg;
    pp_buf_reset(&l->line);
    l->seen = 0;
}

static int lines_emit(struct pp_lake_s3_lines *l, const char *p, size_t n)
{
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (n == 0)
        return 0;
    l->count++;
    int rc = l->cb(l->arg, p, n);
    return rc < 0 ? rc : 0;
}

size_t pp_lake_s3_lines_sink(const char *p, size_t n, void *arg)
{
    struct pp_lake_s3_lines *l = arg;
    size_t total = n;
    if (l->seen < l->done) { /* a retry re-reads from the start: skip what was delivered */
        uint64_t skip = l->done - l->seen;
        size_t s = skip < n ? (size_t)skip : n;
        l->seen += s;
        p += s;
        n -= s;
    }
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) + 1 : n;
        int rc = 0;
        if (!nl) {
            rc = pp_buf_append(&l->line, p, take);
        } else if (l->line.len) {
            rc = pp_buf_append(&l->line, p, take - 1);
            if (!rc)
                rc = lines_emit(l, l->line.data, l->line.len);
            pp_buf_reset(&l->line);
        } else {
            rc = lines_emit(l, p, take - 1); /* whole line in the chunk: no copy */
        }
        if (rc) {
            l->rc = rc;
            return 0; /* stops the transfer */
        }
        l->seen += take;
        if (nl)
            l->done = l->seen;
        p += take;
        n -= take;
    }
    return total;
}

int pp_lake_s3_lines_end(struct pp_lake_s3_lines *l)
{
    int rc = 0;
    if (l->line.len) /* a last line without '\n' */
        rc = lines_emit(l, l->line.data, l->line.len);
    pp_buf_reset(&l->line);
    return rc;
}

/* ---- credentials ---- */

const char *pp_lake_s3_env(const char *name)
{
    char *v = getenv(name);
    return v && v[0] ? v : NULL;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    memmove(s, s + i, n - i + 1);
}

/* Read [profile] of the shared credentials file (AWS CLI format). @returns 0 or PP_ENOENT. */
static int creds_file(struct pp_lake_s3_creds *creds)
{
    char path[2048], line[2048], want[256];
    const char *home = pp_lake_s3_env("HOME");
    const char *file = pp_lake_s3_env("AWS_SHARED_CREDENTIALS_FILE"),
               *profile = pp_lake_s3_env("AWS_PROFILE");
    if (!file) {
        if (!home || snprintf(path, sizeof(path), "%s/.aws/credentials", home) >= (int)sizeof(path))
            return PP_ENOENT;
        file = path;
    }
    snprintf(want, sizeof(want), "[%s]", profile ? profile : "default");
    FILE *f = fopen(file, "re");
    if (!f)
        return PP_ENOENT;
    int in = 0;
    while (fgets(line, sizeof(line), f)) {
        trim(line);
        if (line[0] == '[') {
            in = !strcmp(line, want);
            continue;
        }
        char *eq = strchr(line, '=');
        if (!in || !eq || line[0] == '#' || line[0] == ';')
            continue;
        *eq = '\0';
        trim(line);
        trim(eq + 1);
        char **dst = !strcmp(line, "aws_access_key_id")       ? &creds->key_id
                     : !strcmp(line, "aws_secret_access_key") ? &creds->secret
                     : !strcmp(line, "aws_session_token")     ? &creds->token
                                                              : NULL;
        if (dst && !*dst)
            *dst = strdup(eq + 1);
    }
    explicit_bzero(line, sizeof(line));
    fclose(f);
    return creds->key_id && creds->secret ? 0 : PP_ENOENT;
}

int pp_lake_s3_creds_load(struct pp_lake_s3_creds *creds)
{
    if (pp_lake_s3_env("AWS_ACCESS_KEY_ID") && pp_lake_s3_env("AWS_SECRET_ACCESS_KEY")) {
        creds->key_id = strdup(pp_lake_s3_env("AWS_ACCESS_KEY_ID"));
        creds->secret = strdup(pp_lake_s3_env("AWS_SECRET_ACCESS_KEY"));
        if (pp_lake_s3_env("AWS_SESSION_TOKEN"))
            creds->token = strdup(pp_lake_s3_env("AWS_SESSION_TOKEN"));
        return creds->key_id && creds->secret ? 0 : PP_ENOMEM;
    }
    return creds_file(creds);
}

static void wipe(char **s)
{
    if (*s) {
        explicit_bzero(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

void pp_lake_s3_creds_free(struct pp_lake_s3_creds *creds)
{
    wipe(&creds->key_id);
    wipe(&creds->secret);
    wipe(&creds->token);
}
