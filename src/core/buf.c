/* buf.c: growable byte buffer with a hard cap. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp_buf.h"
#include "pp_err.h"

#define PP_BUF_DEFAULT_MAX ((size_t)1 << 30)

void pp_buf_init(struct pp_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max ? max : PP_BUF_DEFAULT_MAX;
}

void pp_buf_free(struct pp_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void pp_buf_reset(struct pp_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int pp_buf_reserve(struct pp_buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return PP_ETOOBIG;
    if (b->len + n + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return PP_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int pp_buf_append(struct pp_buf *b, const void *p, size_t n)
{
    int rc = pp_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int pp_buf_puts(struct pp_buf *b, const char *s)
{
    return pp_buf_append(b, s, strlen(s));
}

int pp_buf_putc(struct pp_buf *b, char c)
{
    if (b->len + 2 <= b->cap && b->len < b->max) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return 0;
    }
    return pp_buf_append(b, &c, 1);
}

int pp_buf_put_i64(struct pp_buf *b, int64_t v)
{
    char tmp[24];
    int n = sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--n] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--n] = '-';
    return pp_buf_append(b, tmp + n, sizeof(tmp) - (size_t)n);
}

int pp_buf_printf(struct pp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return PP_EINVAL;
    int rc = pp_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *pp_buf_steal(struct pp_buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
