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
    const char *s; /* NUL-terminated */
    size_t n;
};

/* One cleaned output row (a warehouse row). Reuse one across calls: memory is kept. */
struct pp_row {
    enum pp_kind kind;
    int64_t id; /* ind */
    int ncols;
    struct pp_val col[PP_CLEAN_MAX_COLS];
    struct pp_buf arena; /* backing store for TEXT values */
};

/* A validation failure, shaped like a FastAPI/pydantic error item. */
struct pp_verr {
    char field[64]; /* source field name ("" when the body itself is wrong) */
    char msg[160];  /* human text, e.g. "value is not a valid integer" */
    char type[48];  /* pydantic-style type, e.g. "missing", "type_error.integer" */
};

/* Output column names of a kind's warehouse table, in order (PRODUCT.md table):
 * pin: ind, unique_id, title, description, follower_count, poster_name, tag_list,
 *      is_image_or_video, image_src, downloaded, save_location, category
 * geo: ind, country, coordinates, timestamp     user: ind, user_name, age, date_joined
 * SQL types: ind/follower_count/downloaded/age INTEGER; coordinates TEXT "[lat, lon]";
 * timestamp/date_joined TEXT "YYYY-MM-DD HH:MM:SS" UTC; everything else TEXT. */
const char *const *pp_clean_columns(enum pp_kind kind, int *ncols);

void pp_row_init(struct pp_row *row);
void pp_row_free(struct pp_row *row);

/* Validate one source record (JSON object text) against the data model at ingest.
 * Rules: the body is an object; the id field (index/ind) is required, an integer (a JSON
 * integer or a string of digits, as pydantic's lax mode); every other model field is
 * required but may be null; present fields must have their type (strings; ints for
 * downloaded/age; numbers for latitude/longitude; datetimes must parse with
 * pp_time_parse). Unknown extra fields are ignored.
 * @param id out: the record's id. @returns 0, or PP_EINVAL with *err filled. */
int pp_record_validate(enum pp_kind kind, const struct pp_json *doc, int obj, int64_t *id,
                       struct pp_verr *err);

/* Clean one source record (JSON object text, as stored in the log or lake) into row.
 * Applies the placeholder table, follower_count parsing (k x1000, M x1000000, decimals such
 * as 1.2k, anything else NULL), save_location prefix removal, coordinates, timestamps,
 * user_name. @returns 0, PP_EPARSE (not JSON), PP_EINVAL (fails validation; err filled). */
int pp_clean_record(enum pp_kind kind, const char *json, size_t len, struct pp_row *row,
                    struct pp_verr *err);

/* Rule primitives, exported for unit tests and the batch path. */
/* Is s a placeholder (or empty/all-blank) for this column of this kind's source record? */
int pp_clean_is_placeholder(enum pp_kind kind, const char *field, const char *s, size_t n);
/* "437" -> 437, "124k" -> 124000, "1.2k" -> 1200, "2M" -> 2000000; else PP_EINVAL. */
int pp_clean_follower_count(const char *s, size_t n, int64_t *v);

#endif
