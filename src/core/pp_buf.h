/* pp_buf.h: growable byte buffer with a hard cap (after curl's dynbuf).
 * Errors are sticky: once an append failed (PP_ENOMEM, PP_ETOOBIG), every later append fails
 * with that error too and pp_buf_error() reports it, until pp_buf_reset/free. So a builder may
 * append many pieces unchecked and whoever sends or commits the buffer checks once: a
 * truncated answer or statement is never mistaken for a whole one. */
#ifndef PP_BUF_H
#define PP_BUF_H

#include <stddef.h>
#include <stdint.h>

struct pp_buf {
    char *data;  /* always NUL-terminated when non-NULL (the NUL is not counted in len) */
    size_t len;  /* bytes used */
    size_t cap;  /* bytes allocated */
    size_t max;  /* cap on len: appends that would pass it fail with PP_ETOOBIG */
    int err;     /* the first failed append's error (sticky), 0 while every one succeeded */
};

/* Initialise an empty buffer that may grow to max bytes (0 = 1 GiB). Allocates nothing. */
void pp_buf_init(struct pp_buf *b, size_t max);
/* Release the memory; b may be NULL; b is left empty and reusable. */
void pp_buf_free(struct pp_buf *b);
/* Forget the contents and any error, keep the memory. */
void pp_buf_reset(struct pp_buf *b);
/* Cut the contents back to len (<= b->len) and forget the error: for a builder that rolls back
 * a failed piece (an oversized item refused on its own) and goes on with whole bytes. */
void pp_buf_truncate(struct pp_buf *b, size_t len);
/* @returns 0 while every append succeeded, else the first failure (PP_ENOMEM, PP_ETOOBIG,
 * PP_EINVAL): the contents are then incomplete and must not be used as a whole. */
int pp_buf_error(const struct pp_buf *b);
/* Make room for n more bytes. @returns 0, PP_ENOMEM or PP_ETOOBIG (sticky, as appends). */
int pp_buf_reserve(struct pp_buf *b, size_t n);
/* Append n bytes. @returns 0, PP_ENOMEM or PP_ETOOBIG. */
int pp_buf_append(struct pp_buf *b, const void *p, size_t n);
int pp_buf_puts(struct pp_buf *b, const char *s);
int pp_buf_putc(struct pp_buf *b, char c);
/* Append the decimal text of v (no printf: hot response paths). */
int pp_buf_put_i64(struct pp_buf *b, int64_t v);
/* printf-style append. @returns 0, PP_ENOMEM or PP_ETOOBIG. */
int pp_buf_printf(struct pp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Take ownership of the bytes (caller frees with free()); b is left empty. */
char *pp_buf_steal(struct pp_buf *b, size_t *len);

#endif
