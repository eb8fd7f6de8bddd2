/* pp_kind.h: the three record kinds of the data model (PRODUCT.md "Data model") and topic names. */
#ifndef PP_KIND_H
#define PP_KIND_H

#include <stddef.h>

enum pp_kind { PP_KIND_NONE = -1, PP_KIND_PIN = 0, PP_KIND_GEO, PP_KIND_USER, PP_KIND_COUNT };

/* "pin", "geo", "user"; NULL for others. Also the canonical log topic of each kind. */
const char *pp_kind_name(enum pp_kind kind);
/* The id field of a source record: "index" for pin, "ind" for geo and user. */
const char *pp_kind_id_field(enum pp_kind kind);
/* Kind of a topic or stream name: the suffix after the last '.', '-' or '_' (or the whole
 * name) must be pin, geo or user: "pin", "0a1b2c.pin", "streaming-0a1b2c-pin".
 * @returns PP_KIND_NONE when it names no kind. */
enum pp_kind pp_kind_from_topic(const char *name, size_t len);

#endif
