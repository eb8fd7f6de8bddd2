/* pp_clean.h: the data model's validation (ingest) and cleaning rules (stream and batch).
 *
 * Source of every rule: PRODUCT.md "Data model" and "Cleaning rules". Pure functions, no I/O.
 */
#ifndef PP_CLEAN_H
#define PP_CLEAN_H

#include <stddef.h>
#include <stdint.h>

#include "pp_buf.h"
#include "pp_json.h"
#include "pp_kind.h"

#define PP_CLEAN_MAX_COLS 12

enum pp_val_type { PP_VAL_NULL, PP_VAL_INT, PP_VAL_REAL, PP_VAL_TEXT };

/* One cleaned column value. TEXT points into the owning row's arena. */
struct pp_val {
    enum pp_val_type type;
    int64_t i;
    double d;
    const char *s; /* NUL-terminated; valid UTF-8 */
    size_t n;      /* bytes; use it: a JSON "\u0000" puts a NUL inside s (PostgreSQL refuses) */
};

/* One cleaned output row (a warehouse row). Reuse one across calls: memory is kept. */
struct pp_row {
    enum pp_kind kind;
    int64_t id; /* ind */
    int ncols;
    struct pp_val col[PP_CLEAN_MAX_COLS];
    struct pp_buf arena; /* backing store for TEXT values */
    struct pp_json doc;  /* parser scratch for pp_clean_record, reused between calls */
    /* Data-quality counts: bit c set when output column c is NULL although its source value
     * was not (a placeholder, a blank string, an unparseable follower_count). */
    uint32_t nulled;
};

/* A validation failure, shaped like a FastAPI/pydantic error item. */
struct pp_verr {
    char field[64]; /* source field name ("" when the body itself is wrong) */
    char msg[160];  /* human text, e.g. "value is not a valid integer" */
    char type[48];  /* pydantic v1 type, e.g. "value_error.missing", "type_error.integer" */
};

/* Output column names of a kind's warehouse table, in order (PRODUCT.md table):
 * pin: ind, unique_id, title, description, follower_count, poster_name, tag_list,
 *      is_image_or_video, image_src, downloaded, save_location, category
 * geo: ind, country, coordinates, timestamp     user: ind, user_name, age, date_joined
 * SQL types: ind/follower_count/downloaded/age INTEGER; coordinates TEXT "[lat, lon]";
 * timestamp/date_joined TEXT "YYYY-MM-DD HH:MM:SS" UTC; everything else TEXT. */
const char *const *pp_clean_columns(enum pp_kind kind, int *ncols);

/* An empty row (allocates nothing); pp_row_free releases its memory, accepts NULL and may be
 * called twice. A row belongs to one thread at a time; the functions keep no other state. */
void pp_row_init(struct pp_row *row);
void pp_row_free(struct pp_row *row);

/* Validate one source record (JSON object text) against the data model at ingest.
 * Rules: the body is an object; the id field (index/ind) is required, an integer (a JSON
 * integer or a string of digits, as pydantic's lax mode); every other model field is
 * required but may be null; present fields must have their type (strings; ints for
 * downloaded/age; numbers for latitude/longitude; datetimes must parse with
 * pp_time_parse). Unknown extra fields are ignored.
 * Details (pydantic v1 messages and types; the first failing field in source order wins):
 * - missing field: "field required" / value_error.missing. Exception: pin `poster_name` may
 *   be absent (treated as null), so the older 2022 11-column pin table (no poster_name,
 *   `category` first) is accepted; field order never matters.
 * - id null: "none is not an allowed value" / type_error.none.not_allowed.
 * - ints (id, downloaded, age): a JSON integer within int64 or a string "[+-]digits";
 *   anything else (fractions, booleans, other strings) "value is not a valid integer" /
 *   type_error.integer.
 * - floats (latitude, longitude): a JSON number or a numeric string ("1.5", "-2e3"; no
 *   nan/inf); else "value is not a valid float" / type_error.float.
 * - strings: a JSON string; numbers, booleans, arrays, objects are "str type expected" /
 *   type_error.str (stricter than pydantic, which would coerce 123 to "123"). Exception:
 *   follower_count may be a JSON integer (some clients send numbers), taken as its text.
 * - datetimes: a string pp_time_parse accepts, years 0001..9999 once in UTC; else
 *   "invalid datetime format" / value_error.datetime.
 * - not an object: field "", "value is not a valid dict" / type_error.dict.
 * - a string with a bad escape, a lone surrogate, a raw control character or invalid UTF-8:
 *   PP_EPARSE, err names the field, "invalid string (bad escape or UTF-8)" /
 *   value_error.jsondecode.
 * - duplicate keys: the last one counts (as Python's json module).
 * @param id out: the record's id. @returns 0, PP_EINVAL or PP_EPARSE with *err filled. */
int pp_record_validate(enum pp_kind kind, const struct pp_json *doc, int obj, int64_t *id,
                       struct pp_verr *err);

/* Parse one source record into doc: the same tokens and errors as pp_json_parse (pp_json.h),
 * several times faster for the usual flat object of scalars (other documents take
 * pp_json_parse itself). For paths holding one record per body (FastAPI-style ingest).
 * @returns 0, PP_EPARSE (errmsg filled), PP_ETOOBIG, PP_ENOMEM. */
int pp_clean_parse(struct pp_json *doc, const char *js, size_t len, char *errmsg,
                   size_t errmsg_size);

/* Clean one source record (JSON object text, as stored in the log or lake) into row.
 * Applies the placeholder table, follower_count parsing (k x1000, M x1000000, decimals such
 * as 1.2k, anything else NULL), save_location prefix removal, coordinates, timestamps,
 * user_name. Validates exactly as pp_record_validate first.
 * Column rules beyond PRODUCT.md's table (decisions):
 * - any text column whose value is a placeholder of that column, or empty, or all
 *   white space (Python str.isspace: ASCII and Unicode spaces such as U+00A0) is NULL;
 *   save_location is also NULL when nothing but the prefix remains.
 * - coordinates: NULL when latitude or longitude is null; else "[<lat>, <lon>]" with each
 *   number as Python's repr(float): shortest round-trip digits, "5.0" not "5", "1e-05".
 * - timestamp/date_joined: converted to UTC, fractional seconds dropped (floor).
 * - user_name: NULL when first_name or last_name is NULL after the rules (SQL concat).
 * - ints given as digit strings are cleaned to INTEGER; follower_count given as a JSON
 *   integer goes through the text rule (so 437 -> 437, -5 -> NULL).
 * TEXT values point into row->arena and stay valid until the next call on row.
 * @returns 0, PP_EPARSE (not JSON, or a bad string; err filled), PP_EINVAL (fails
 *          validation; err filled), PP_ENOMEM/PP_ETOOBIG (record too large). */
int pp_clean_record(enum pp_kind kind, const char *json, size_t len, struct pp_row *row,
                    struct pp_verr *err);

/* Rule primitives, exported for unit tests and the batch path. */
/* Is s a placeholder (or empty/all-blank) for this column of this kind's source record? */
int pp_clean_is_placeholder(enum pp_kind kind, const char *field, const char *s, size_t n);
/* "437" -> 437, "124k" -> 124000, "1.2k" -> 1200, "2M" -> 2000000; else PP_EINVAL.
 * Suffixes k/K (x1,000) and M/m (x1,000,000); a fraction only with a suffix, truncated
 * toward zero ("1.2345k" -> 1234); no sign, no spaces; results over int64 are PP_EINVAL. */
int pp_clean_follower_count(const char *s, size_t n, int64_t *v);
/* Python repr(float) of a finite double into out (>= 32 bytes). @returns the length. */
size_t pp_clean_format_double(double d, char *out, size_t size);
/* Epoch microseconds as "YYYY-MM-DD HH:MM:SS" UTC (fraction dropped) into out (>= 20 bytes).
 * @returns the length (19). */
size_t pp_clean_format_ts(int64_t us, char *out, size_t size);

#endif
