/* pp_buf.h: growable byte buffer with a hard cap (after curl's dynbuf). */
#ifndef PP_BUF_H
#define PP_BUF_H

#include <stddef.h>
#include <stdint.h>

struct pp_buf {
    char *data;  /* always NUL-terminated when non-NULL (the NUL is not counted in len) */
    size_t len;  /* bytes used */
    size_t cap;  /* bytes allocated */
    size_t max;  /* cap on len: appends that would pass it fail with PP_ETOOBIG */
};

/* Initialise an empty buffer that may grow to max bytes (0 = 1 GiB). Allocates nothing. */
void pp_buf_init(struct pp_buf *b, size_t max);
/* Release the memory; b may be NULL; b is left empty and reusable. */
void pp_buf_free(struct pp_buf *b);
/* Forget the contents, keep the memory. */
void pp_buf_reset(struct pp_buf *b);
/* Make room for n more bytes. @returns 0, PP_ENOMEM or PP_ETOOBIG. */
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
