/* pp_gen.h: source-table generator (realistic rows like ../shared/data) and the posting
 * emulator (HTTP client of the three API shapes). */
#ifndef PP_GEN_H
#define PP_GEN_H

#include <stdint.h>
#include <stdio.h>

#include "pp_buf.h"

struct pp_gen;

/* Deterministic generator for seed. @returns owned: pp_gen_destroy(). */
struct pp_gen *pp_gen_new(uint64_t seed);
void pp_gen_destroy(struct pp_gen *gen);
/* Append the pin, geo and user records (one JSON object each, no newline) of row id. */
int pp_gen_row(struct pp_gen *gen, int64_t id, struct pp_buf *pin, struct pp_buf *geo,
               struct pp_buf *user);

#endif
