/* b64.c: standard base64 (RFC 4648 section 4) for REST-proxy binary values and Kinesis Data. */
#include <stdint.h>

#include "pp_err.h"
#include "pp_http.h"

static const char enc_table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int dec_char(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int pp_http_b64_decode(const char *s, size_t n, struct pp_buf *out)
{
    /* Padding is optional, but when present the length must be a multiple of 4. */
    size_t pad = 0;
    while (n > 0 && s[n - 1] == '=' && pad < 2)
        n--, pad++;
    if (pad && (n + pad) % 4)
        return PP_EPARSE;
    if (n % 4 == 1)
        return PP_EPARSE;
    int rc = pp_buf_reserve(out, n / 4 * 3 + 3);
    if (rc)
        return rc;
    unsigned char *o = (unsigned char *)out->data + out->len;
    size_t i = 0;
    uint32_t acc = 0;
    for (; i + 4 <= n; i += 4) {
        int a = dec_char((unsigned char)s[i]), b = dec_char((unsigned char)s[i + 1]);
        int c = dec_char((unsigned char)s[i + 2]), d = dec_char((unsigned char)s[i + 3]);
        if ((a | b | c | d) < 0)
            return PP_EPARSE;
        acc = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        *o++ = (unsigned char)(acc >> 16);
        *o++ = (unsigned char)(acc >> 8);
        *o++ = (unsigned char)acc;
    }
    size_t rest = n - i;
    if (rest) {
        int a = dec_char((unsigned char)s[i]), b = dec_char((unsigned char)s[i + 1]);
        int c = rest == 3 ? dec_char((unsigned char)s[i + 2]) : 0;
        if ((a | b | c) < 0)
            return PP_EPARSE;
        acc = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
        /* Canonical encodings only: the unused low bits must be zero. */
        if ((rest == 2 && (acc & 0xFFFF)) || (rest == 3 && (acc & 0xFF)))
            return PP_EPARSE;
        *o++ = (unsigned char)(acc >> 16);
        if (rest == 3)
            *o++ = (unsigned char)(acc >> 8);
    }
    out->len = (size_t)((char *)o - out->data);
    out->data[out->len] = '\0';
    return 0;
}

int pp_http_b64_encode(const void *p, size_t n, struct pp_buf *out)
{
    const unsigned char *s = p;
    int rc = pp_buf_reserve(out, (n + 2) / 3 * 4 + 1);
    if (rc)
        return rc;
    char *o = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = enc_table[v >> 18 & 63];
        *o++ = enc_table[v >> 12 & 63];
        *o++ = enc_table[v >> 6 & 63];
        *o++ = enc_table[v & 63];
    }
    if (n - i) {
        uint32_t v = (uint32_t)s[i] << 16 | (n - i == 2 ? (uint32_t)s[i + 1] << 8 : 0);
        *o++ = enc_table[v >> 18 & 63];
        *o++ = enc_table[v >> 12 & 63];
        *o++ = n - i == 2 ? enc_table[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
    return 0;
}
