/* s3_sigv4.c: AWS Signature Version 4 for the S3 lake, computed here with libcrypto's SHA-256
 * and HMAC so that exactly the headers sent are signed, whatever the libcurl version (see
 * pp_lake_s3_sign in lake_s3.h for why libcurl's CURLOPT_AWS_SIGV4 is not used). */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lake_s3.h"
#include "pp_buf.h"
#include "pp_err.h"

#define SIG_PARAMS_MAX 16   /* query parameters of one request (the lake sends at most 4) */
#define SIG_CANON_MAX 16384 /* cap on the canonical request */

void pp_lake_s3_hex(const unsigned char *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int pp_lake_s3_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return PP_EIO;
    pp_lake_s3_hex(md, 32, out);
    return 0;
}

/* One query parameter "k=v" as pointers into the query. */
struct sig_param {
    const char *k, *v;
    size_t klen, vlen;
};

static int cmp_span(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

static int cmp_param(const void *a, const void *b)
{
    const struct sig_param *x = a, *y = b;
    int c = cmp_span(x->k, x->klen, y->k, y->klen);
    return c ? c : cmp_span(x->v, x->vlen, y->v, y->vlen);
}

/* The canonical query string: query's "k[=v]" parameters (already URI-encoded once) sorted by
 * name then value, each as "k=v" ("uploads" becomes "uploads="), joined by '&' (AWS "Create a
 * canonical request": CanonicalQueryString). @returns 0, PP_EINVAL (too many), PP_ETOOBIG. */
static int canon_query(struct pp_buf *b, const char *query)
{
    struct sig_param prm[SIG_PARAMS_MAX];
    int n = 0;
    for (const char *p = query; p && *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len) {
            if (n == SIG_PARAMS_MAX)
                return PP_EINVAL;
            const char *eq = memchr(p, '=', len);
            prm[n].k = p;
            prm[n].klen = eq ? (size_t)(eq - p) : len;
            prm[n].v = eq ? eq + 1 : "";
            prm[n].vlen = eq ? len - prm[n].klen - 1 : 0;
            n++;
        }
        p = end ? end + 1 : p + len;
    }
    qsort(prm, (size_t)n, sizeof(prm[0]), cmp_param);
    int rc = 0;
    for (int i = 0; i < n && !rc; i++)
        rc = pp_buf_printf(b, "%s%.*s=%.*s", i ? "&" : "", (int)prm[i].klen, prm[i].k,
                           (int)prm[i].vlen, prm[i].v);
    return rc;
}

/* One header to sign: lowercase name, value with blanks trimmed and runs of blanks made one
 * space (AWS: Lowercase(HeaderName) + ':' + Trimall(HeaderValue)). */
struct sig_header {
    char name[64];
    const char *value;
    size_t vlen;
};

static int cmp_header(const void *a, const void *b)
{
    return strcmp(((const struct sig_header *)a)->name, ((const struct sig_header *)b)->name);
}

/* Parse "Name: value" into h. @returns 1 to sign, 0 to leave out (an empty value: curl's way
 * of removing a header, so it is not sent; and Expect, which AWS's signers never sign: curl
 * issue #11664), PP_EINVAL (no ':', bad or long name). */
static int parse_header(const char *line, struct sig_header *h)
{
    const char *colon = strchr(line, ':');
    size_t nlen = colon ? (size_t)(colon - line) : 0;
    if (!nlen || nlen >= sizeof(h->name))
        return PP_EINVAL;
    for (size_t i = 0; i < nlen; i++) {
        char c = line[i];
        if (c <= ' ' || c >= 127)
            return PP_EINVAL;
        h->name[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    h->name[nlen] = '\0';
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t vlen = strlen(v);
    while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    h->value = v;
    h->vlen = vlen;
    return vlen && strcmp(h->name, "expect") ? 1 : 0;
}

/* Append a header value with runs of blanks collapsed to one space. */
static int put_trimall(struct pp_buf *b, const char *v, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        int blank = v[i] == ' ' || v[i] == '\t';
        if (blank && i > 0 && (v[i - 1] == ' ' || v[i - 1] == '\t'))
            continue;
        rc = pp_buf_putc(b, blank ? ' ' : v[i]);
    }
    return rc;
}

/* The canonical request (AWS "Create a canonical request"): method, URI, query, headers,
 * signed header names, payload hash; the signed names also go to signed. */
static int canon_request(const struct pp_lake_s3_sig *sig, struct pp_buf *b, struct pp_buf *signed_)
{
    struct sig_header hs[PP_LAKE_S3_SIG_HEADERS];
    int n = 0, rc;
    for (int i = 0; i < sig->nheaders; i++) {
        if (n == PP_LAKE_S3_SIG_HEADERS)
            return PP_EINVAL;
        rc = parse_header(sig->headers[i], &hs[n]);
        if (rc < 0)
            return rc;
        n += rc;
    }
    qsort(hs, (size_t)n, sizeof(hs[0]), cmp_header);
    int host = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && !strcmp(hs[i - 1].name, hs[i].name))
            return PP_EINVAL; /* one line per header: the lake never repeats one */
        host |= !strcmp(hs[i].name, "host");
    }
    if (!host)
        return PP_EINVAL; /* AWS requires Host among the signed headers */
    if ((rc = pp_buf_printf(b, "%s\n%s\n", sig->method, sig->uri)) ||
        (rc = canon_query(b, sig->query)) || (rc = pp_buf_putc(b, '\n')))
        return rc;
    for (int i = 0; i < n; i++) {
        if ((rc = pp_buf_printf(b, "%s:", hs[i].name)) ||
            (rc = put_trimall(b, hs[i].value, hs[i].vlen)) || (rc = pp_buf_putc(b, '\n')) ||
            (rc = pp_buf_printf(signed_, "%s%s", i ? ";" : "", hs[i].name)))
            return rc;
    }
    return pp_buf_printf(b, "\n%s\n%s", signed_->data, sig->payload_hash);
}

static int hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int len = 0;
    return HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len) &&
                   len == 32
               ? 0
               : PP_EIO;
}

/* Signature = Hex(HMAC(kSigning, StringToSign)), kSigning derived from the secret by the
 * chain "AWS4"+secret -> date -> region -> "s3" -> "aws4_request" (AWS "Calculate the
 * signature"). Every derived key is wiped. */
static int signature(const struct pp_lake_s3_sig *sig, const char *date, const char *sts,
                     char out[65])
{
    char k0[256];
    unsigned char k[32], sum[32];
    int w = snprintf(k0, sizeof(k0), "AWS4%s", sig->secret);
    int rc = w < 0 || w >= (int)sizeof(k0) ? PP_ETOOBIG : 0;
    if (!rc)
        rc = hmac(k0, (size_t)w, date, k);
    if (!rc)
        rc = hmac(k, 32, sig->region, k);
    if (!rc)
        rc = hmac(k, 32, "s3", k);
    if (!rc)
        rc = hmac(k, 32, "aws4_request", k);
    if (!rc)
        rc = hmac(k, 32, sts, sum);
    if (!rc)
        pp_lake_s3_hex(sum, 32, out);
    OPENSSL_cleanse(k0, sizeof(k0));
    OPENSSL_cleanse(k, sizeof(k));
    return rc;
}

int pp_lake_s3_sign(const struct pp_lake_s3_sig *sig, char *auth, size_t size)
{
    struct pp_buf canon, signed_;
    char date[9], hash[65], sts[256], sigh[65];
    pp_buf_init(&canon, SIG_CANON_MAX);
    pp_buf_init(&signed_, 1024);
    int rc = strlen(sig->amz_date) == 16 && sig->amz_date[8] == 'T' ? 0 : PP_EINVAL;
    if (!rc)
        rc = canon_request(sig, &canon, &signed_);
    if (!rc)
        rc = pp_lake_s3_sha256_hex(canon.data, canon.len, hash);
    if (!rc) {
        memcpy(date, sig->amz_date, 8);
        date[8] = '\0';
        int w = snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s",
                         sig->amz_date, date, sig->region, hash);
        rc = w < 0 || w >= (int)sizeof(sts) ? PP_ETOOBIG : 0;
    }
    if (!rc)
        rc = signature(sig, date, sts, sigh);
    if (!rc) {
        int w = snprintf(auth, size,
                         "AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request, "
                         "SignedHeaders=%s, Signature=%s",
                         sig->key_id, date, sig->region, signed_.data, sigh);
        rc = w < 0 || (size_t)w >= size ? PP_ETOOBIG : 0;
    }
    pp_buf_free(&canon);
    pp_buf_free(&signed_);
    return rc;
}
