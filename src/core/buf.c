/* buf.c: growable byte buffer with a hard cap. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp_buf.h"
#include "pp_err.h"
#include "pp_fault.h"

#define PP_BUF_DEFAULT_MAX ((size_t)1 << 30)

void pp_buf_init(struct pp_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max ? max : PP_BUF_DEFAULT_MAX;
    b->err = 0;
}

void pp_buf_free(struct pp_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = 0;
}

void pp_buf_reset(struct pp_buf *b)
{
    b->len = 0;
    b->err = 0;
    if (b->data)
        b->data[0] = '\0';
}

void pp_buf_truncate(struct pp_buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
    b->err = 0;
}

int pp_buf_error(const struct pp_buf *b)
{
    return b->err;
}

/* Test fault point (PINPIPE_TEST_FAULTS=buf_grow_over_64k, read once): growing any buffer past
 * 64 KiB fails with PP_ENOMEM, as a failed realloc would. */
static int fault_grow(size_t cap)
{
    static int on = -1;
    if (on < 0)
        on = pp_fault("buf_grow_over_64k");
    return on && cap > 64 * 1024;
}

int pp_buf_reserve(struct pp_buf *b, size_t n)
{
    if (b->err)
        return b->err;
    if (n > b->max || b->len > b->max - n)
        return b->err = PP_ETOOBIG;
    if (b->len + n + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *p = fault_grow(cap) ? NULL : realloc(b->data, cap);
    if (!p)
        return b->err = PP_ENOMEM;
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
    if (b->len + 2 <= b->cap && b->len < b->max && !b->err) {
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
    if (b->err)
        return b->err;
    if (n < 0)
        return b->err = PP_EINVAL;
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
    b->err = 0;
    return p;
}
