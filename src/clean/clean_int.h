/* clean_int.h: what the clean module's files share (not part of its interface). */
#ifndef PP_CLEAN_INT_H
#define PP_CLEAN_INT_H

#include <stdbool.h>

#include "pp_clean.h"

/* Type of a source field in the data model (PRODUCT.md "Data model"). */
enum clean_ftype { FT_ID, FT_STR, FT_STR_OR_INT, FT_INT, FT_FLOAT, FT_DATETIME };

struct clean_field {
    const char *name;
    unsigned char len;               /* strlen(name) */
    unsigned char type;              /* enum clean_ftype */
    unsigned char optional;          /* may be absent (treated as null) */
    const char *const *placeholders; /* NULL-terminated list of this column's placeholders */
};

struct clean_spec {
    const struct clean_field *f;
    int nf;
};

/* Source fields of kind, in source order; NULL for a kind that is none of the three. */
const struct clean_spec *pp_clean_spec(enum pp_kind kind);

/* A validated record: per source field its value token (-1: absent or null) and its parsed
 * value (ids, ints, datetimes in microseconds: i; floats: d). */
struct clean_vals {
    int tok[PP_CLEAN_MAX_COLS];
    int64_t i[PP_CLEAN_MAX_COLS];
    double d[PP_CLEAN_MAX_COLS];
};

/* Validate object token obj of doc as a record of kind (rules in pp_record_validate).
 * check_strings: also check every string's escapes and UTF-8 (skip when the caller
 * decodes them anyway); plain: as from pp_clean_scan_flat, or 0. @returns 0, PP_EINVAL or PP_EPARSE
 * with *err filled. */
int pp_clean_check(enum pp_kind kind, const struct pp_json *doc, int obj, struct clean_vals *vals,
                   struct pp_verr *err, bool check_strings, uint64_t plain);

/* Fill err (any of the strings may be NULL). */
void pp_clean_set_err(struct pp_verr *err, const char *field, const char *msg, const char *type);

/* Is s[0..n) empty or all white space (Python str.isspace over UTF-8)? */
bool pp_clean_blank(const char *s, size_t n);
/* Is s[0..n) a placeholder or blank for source field f of spec? */
bool pp_clean_is_null_text(const struct clean_field *f, const char *s, size_t n);

/* Tokenize js[0..len) into doc exactly as pp_json_parse would when it is one flat object
 * (keys with scalar values, valid JSON). plain (may be NULL) gets bit t set for each string
 * token t < 64 that is printable ASCII without escapes, i.e. its raw bytes are its value.
 * @returns 0, or -1 for anything else (nesting, malformed input, no memory): then call
 * pp_json_parse, which decides and explains. */
int pp_clean_scan_flat(struct pp_json *doc, const char *js, size_t len, uint64_t *plain);
/* Check a string token's raw bytes p..e as pp_json_str would decode them: no raw control
 * characters, valid escapes with paired surrogates, valid UTF-8. @returns 0 or PP_EPARSE. */
int pp_clean_str_check(const char *p, const char *e);
/* Decode a string token's raw bytes p..e onto b (same checks as pp_clean_str_check).
 * @returns 0, PP_EPARSE (b unchanged), PP_ENOMEM or PP_ETOOBIG. */
int pp_clean_str_decode(struct pp_buf *b, const char *p, const char *e);

#endif
