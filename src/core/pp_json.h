/* pp_json.h: strict JSON (RFC 8259) reading on top of jsmn, plus an escaping writer.
 *
 * jsmn tokenises; this module adds what jsmn leaves out: one complete top-level value,
 * number and literal grammar, object keys being strings, escape and UTF-8 validation when a
 * string is decoded. Tokens index into the caller's input, which must outlive the document.
 */
#ifndef PP_JSON_H
#define PP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pp_buf.h"

enum pp_json_type { PP_JSON_OBJECT, PP_JSON_ARRAY, PP_JSON_STRING, PP_JSON_NUMBER,
                    PP_JSON_BOOL, PP_JSON_NULL };

struct pp_json_tok {
    int type;   /* enum pp_json_type */
    int start;  /* byte offset of the first byte (for strings: after the opening quote) */
    int end;    /* byte offset one past the last byte (for strings: the closing quote) */
    int size;   /* objects: number of keys; arrays: number of items; keys: 1 */
};

struct pp_json {
    const char *js;           /* borrowed input */
    size_t len;
    struct pp_json_tok *tok;  /* tok[0] is the top-level value */
    int ntok;
    int cap;
    void *scratch;            /* jsmn token array, reused between parses */
    int scratch_cap;
};

/* Empty document; allocates nothing. */
void pp_json_init(struct pp_json *doc);
/* Release token arrays; doc may be NULL. */
void pp_json_free(struct pp_json *doc);

/* Deepest nesting of arrays and objects pp_json_parse accepts ("[[1]]" is 2). Every input is
 * bounded before it is tokenised: no record of the data model nests more than 2 levels, API
 * bodies 4 (a REST proxy batch of records with an object field); 64 leaves room for extra
 * fields while keeping parse time linear and the validation's recursion shallow. */
#define PP_JSON_MAX_DEPTH 64
/* Largest document pp_json_parse takes, bytes (jsmn's token offsets are int). */
#define PP_JSON_MAX_LEN ((size_t)1 << 30)

/* Parse js[0..len) (exactly one value, surrounding whitespace allowed). Reuses doc's memory.
 * Linear time in len: nesting past PP_JSON_MAX_DEPTH is refused before tokenising.
 * @returns 0; PP_EPARSE for malformed JSON or nesting deeper than PP_JSON_MAX_DEPTH (errmsg,
 *          if given, names the problem and the byte offset); PP_ETOOBIG past max_tokens
 *          (0 = 4M tokens) or past PP_JSON_MAX_LEN bytes; PP_ENOMEM. */
int pp_json_parse(struct pp_json *doc, const char *js, size_t len, int max_tokens,
                  char *errmsg, size_t errmsg_size);

/* Index of the token after the whole subtree rooted at token t. */
int pp_json_next(const struct pp_json *doc, int t);
/* Value token of key in object token obj, or -1 if absent (or obj is not an object). */
int pp_json_get(const struct pp_json *doc, int obj, const char *key);
/* Does string token t equal s exactly (escapes decoded)? */
bool pp_json_str_eq(const struct pp_json *doc, int t, const char *s);
/* Decode string token t (escapes, \u surrogate pairs) and append it to out, validating UTF-8.
 * @returns 0, PP_EINVAL (not a string), PP_EPARSE (bad escape or bad UTF-8), PP_ENOMEM/ETOOBIG. */
int pp_json_str(const struct pp_json *doc, int t, struct pp_buf *out);
/* Number token t as an exact integer (no fraction or exponent) into *v.
 * @returns 0, PP_EINVAL (not an integer number), PP_ERANGE (over int64). */
int pp_json_int(const struct pp_json *doc, int t, int64_t *v);
/* Number token t as a double. @returns 0 or PP_EINVAL (not a number). */
int pp_json_num(const struct pp_json *doc, int t, double *v);
/* Raw bytes of token t (strings without quotes, objects/arrays with their brackets). */
const char *pp_json_raw(const struct pp_json *doc, int t, size_t *len);
/* Name of a token type for messages: "object", "array", "string", "number", "boolean", "null". */
const char *pp_json_type_name(int type);

/* End of the RFC 8259 number that starts at p (p < e), or NULL if none starts there. */
const char *pp_json_number_end(const char *p, const char *e);
/* Check that s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool pp_utf8_valid(const char *s, size_t n);
/* Append s[0..n) as a quoted JSON string, escaping ", \ and control characters; a byte that
 * starts no valid UTF-8 sequence is written as \ufffd, so the output is always valid UTF-8
 * JSON whatever the input (client text echoed in answers and dead letters). */
int pp_json_put_str(struct pp_buf *out, const char *s, size_t n);

#endif
